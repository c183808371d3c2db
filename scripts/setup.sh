#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# setup.sh: install the Debian 12 packages virgo needs, idempotently.
# Prints what it installs; does nothing (and touches no network) when all are
# present. Runs as root, or through sudo; otherwise says what to install.
set -euo pipefail

# The one list of packages the project needs. Later work appends here.
PACKAGES=(
	build-essential
	meson
	ninja-build
	pkg-config
	ccache
	python3-mako
	# Windows cross build of the kernel driver, its test signing and catalog,
	# and the checks that run Windows code under Wine
	gcc-mingw-w64-x86-64
	osslsigncode
	openssl
	wine64
	# sanitizers and fuzzing with clang
	clang
	libclang-rt-14-dev
	# embedded host: virglrenderer on EGL surfaceless, PNG output
	libvirglrenderer-dev
	libepoxy-dev
	libegl-dev
	libgbm-dev
	libpng-dev
	# run time of the embedded host: Mesa's EGL and llvmpipe (not always
	# pulled in without recommends)
	libegl-mesa0
	libgl1-mesa-dri
	# the scenario suite on QEMU's virtio-gpu-gl (scripts/qemu): QEMU and its
	# SDL/GL display under Xvfb, the guest's busybox and initramfs tools
	qemu-system-x86
	qemu-system-gui
	xvfb
	busybox-static
	cpio
	xz-utils
	zstd
	# the newer host generation (QEMU 10.0, virglrenderer 1.1.0): a Debian
	# 13 root made by scripts/debian13/root.sh
	debootstrap
	util-linux
	# Mesa 22.3.6 with the virgo winsys (umd/mesa/build.sh linux)
	bison
	flex
	patch
	libdrm-dev
	libexpat1-dev
	libglvnd-dev
	libx11-dev
	libx11-xcb-dev
	libxcb-dri2-0-dev
	libxcb-dri3-dev
	libxcb-glx0-dev
	libxcb-present-dev
	libxcb-randr0-dev
	libxcb-shm0-dev
	libxcb-sync-dev
	libxcb-xfixes0-dev
	libxext-dev
	libxfixes-dev
	libxrandr-dev
	libxshmfence-dev
	libxxf86vm-dev
	libzstd-dev
	zlib1g-dev
	# GL programs and tests on it: wflinfo, piglit, the virpipe anchor
	mesa-utils
	waffle-utils
	piglit
	virgl-server
	# Mesa for Windows (umd/mesa/build.sh windows): MinGW-w64 C++ and zlib
	g++-mingw-w64-x86-64
	libz-mingw-w64-dev
	# the x86 build (make win32, mesa-win32; ReactOS): MinGW-w64 for i686;
	# ReactOS's own build (scripts/reactos) and its FAT disk (mtools)
	gcc-mingw-w64-i686
	g++-mingw-w64-i686
	cmake
	mtools
	# Windows GL programs under Wine (tests/wine): screenshots of the X
	# screen, and GLX for Wine's own opengl32 when no virgo DLL is used
	imagemagick
	xauth
	procps
	# benchmarks: the chart (bench/run.py); callgrind counts (bench/callgrind.sh)
	gnuplot-nox
	valgrind
	x11-apps
	x11-utils
	libgl1
	libglx-mesa0
)

# dpkg-query prints one line per known package; unknown ones go to stderr.
missing=()
declare -A installed=()
while read -r pkg status; do
	[[ "$status" == "install ok installed" ]] && installed["$pkg"]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
for p in "${PACKAGES[@]}"; do
	[[ -n "${installed[$p]:-}" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "setup: all ${#PACKAGES[@]} packages present"
	exit 0
fi

echo "setup: installing ${missing[*]}"

if ((EUID == 0)); then
	SUDO=()
elif command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo)
else
	echo "setup: not root and no sudo; as root, run:" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: installed ${#missing[@]} packages"
