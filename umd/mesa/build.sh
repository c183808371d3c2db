#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# build.sh: Mesa 22.3.6 with the virgo winsys.
#
#   umd/mesa/build.sh linux     build/mesa-linux, installed into build/mesa-linux/install
#   umd/mesa/build.sh windows   build/mesa-win64: install/bin/virgo_icd64.dll and opengl32.dll (MinGW-w64)
#   umd/mesa/build.sh windows32 build/mesa-win32: install/bin/virgo_icd32.dll and opengl32.dll (x86:
#                               32-bit Windows, WOW64 programs on x64 Windows, ReactOS)
#
# Fetches and prepares the source first (umd/mesa/fetch.sh), configures once
# (again when the options below change), builds with ccache when it is
# installed (Meson picks it up by itself), installs, and writes
#   build/mesa-linux/env.sh           the environment that makes GL programs load this Mesa
#   build/mesa-linux/egl_vendor.json  glvnd's EGL vendor file for it
# Then:  . build/mesa-linux/env.sh; GALLIUM_DRIVER=virgo LIBGL_ALWAYS_SOFTWARE=1 eglinfo
set -euo pipefail

# Debian's meson on Debian's python3 (it has mako), whatever else is on PATH.
export PATH="/usr/bin:/bin:$PATH"
MESON=/usr/bin/meson

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="$ROOT/build/mesa-src"

say() { echo "mesa-build: $*"; }
die() { echo "mesa-build: error: $*" >&2; exit 1; }

# Progress without 2,000 lines of compile commands: every 100th step, the
# last one, and everything that is not a progress line (warnings, errors).
progress() {
	awk '/^\[[0-9]+\/[0-9]+\]/ {
		split(substr($1, 2), n, "/"); n[2] = n[2] + 0
		if (n[1] % 100 == 0 || n[1] == n[2]) { printf "mesa-build: [%d/%d]\n", n[1], n[2]; fflush() }
		next
	     }
	     /^ninja: (Entering|Leaving) directory/ { next }
	     { print; fflush() }'
}

# configure DIR OPTIONS...: once, and again when the options change.
configure() {
	local b="$1" name log sig
	shift
	name="$(basename "$b")"
	log="$ROOT/build/$name.configure.log"
	sig="$(printf '%s\n' "$@" | sha256sum | cut -d' ' -f1)"
	if [[ ! -f "$b/build.ninja" ]]; then
		say "configuring build/$name"
		rm -rf "$b"
		"$MESON" setup "$b" "$SRC" "$@" >"$log" 2>&1 ||
			{ tail -30 "$log" >&2; die "meson setup failed (build/$name.configure.log)"; }
		echo "$sig" >"$b/.virgo-options"
	elif [[ "$(cat "$b/.virgo-options" 2>/dev/null)" != "$sig" ]]; then
		say "options changed: reconfiguring build/$name"
		"$MESON" setup --reconfigure "$b" "$SRC" "$@" >"$log" 2>&1 ||
			{ tail -30 "$log" >&2; die "meson setup failed (build/$name.configure.log)"; }
		echo "$sig" >"$b/.virgo-options"
	fi
}

build_linux() {
	local b="$ROOT/build/mesa-linux" t0
	# Gallium: virgl (what virgo drives) and swrast (softpipe: it brings the
	# swrast_dri.so software target that GALLIUM_DRIVER selects in). EGL
	# comes with the surfaceless platform piglit uses; GLX for X programs.
	local opts=(
		--prefix="$b/install" --libdir=lib
		-Dbuildtype=debugoptimized -Db_ndebug=true
		-Dplatforms=x11 -Degl=enabled -Dglx=dri -Dglvnd=true -Dgbm=disabled
		-Dgles1=disabled -Dgles2=enabled -Dshared-glapi=enabled
		-Dgallium-drivers=swrast,virgl -Dvulkan-drivers=
		-Dllvm=disabled -Dvalgrind=disabled -Dlibunwind=disabled -Dlmsensors=disabled
		-Dgallium-va=disabled -Dgallium-vdpau=disabled -Dgallium-xa=disabled
		-Dgallium-nine=false -Dgallium-omx=disabled -Dgallium-opencl=disabled
		-Dosmesa=false -Dbuild-tests=false -Dvideo-codecs= -Dtools=
	)
	t0=$SECONDS
	configure "$b" "${opts[@]}"

	say "building build/mesa-linux ($(nproc) cores$(command -v ccache >/dev/null && echo ', ccache'))"
	/usr/bin/ninja -C "$b" 2>&1 | progress
	"$MESON" install -C "$b" --no-rebuild --only-changed --quiet >/dev/null

	# glvnd's EGL vendor file, naming our libEGL_mesa by its full path.
	cat >"$b/egl_vendor.json" <<-EOF
	{
	    "file_format_version" : "1.0.0",
	    "ICD" : {
	        "library_path" : "$b/install/lib/libEGL_mesa.so.0"
	    }
	}
	EOF
	cat >"$b/env.sh" <<-EOF
	# Source this to run GL programs on build/mesa-linux (written by umd/mesa/build.sh).
	# Then pick the driver: GALLIUM_DRIVER=virgo LIBGL_ALWAYS_SOFTWARE=1 (and VIRGO_SOCKET).
	export __EGL_VENDOR_LIBRARY_FILENAMES="$b/egl_vendor.json"
	export __GLX_VENDOR_LIBRARY_NAME=mesa
	export LD_LIBRARY_PATH="$b/install/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
	export LIBGL_DRIVERS_PATH="$b/install/lib/dri"
	EOF
	[[ -f "$b/install/lib/dri/swrast_dri.so" && -f "$b/install/lib/libEGL_mesa.so.0" ]] ||
		die "the install lacks swrast_dri.so or libEGL_mesa.so.0"
	say "done in $((SECONDS - t0)) s: build/mesa-linux/install (environment: build/mesa-linux/env.sh)"
}

# Windows with MinGW-w64, x86_64 (bits 64) or x86 (bits 32): the WGL target
# renamed virgo_icd64.dll / virgo_icd32.dll (the ICD: Drv* entry points) and
# Mesa's app-local opengl32.dll, which loads it. Only the virgl driver is
# built, so the ICD never falls back to software rendering behind the
# user's back. -static puts libgcc, libstdc++, winpthread and zlib inside the
# DLLs: nothing of MinGW ships beside them. The x86 build says
# min-windows-version 7, which keeps Mesa's futex off WaitOnAddress (Windows
# 8+, and absent from ReactOS, where the DLL would not load); its locks fall
# back to the C11 mutexes. The x64 build is for Windows 10 and keeps it.
build_windows() {
	local bits=$1
	local b="$ROOT/build/mesa-win$bits" t0 cross
	cross=$([[ $bits == 64 ]] && echo mingw-w64-x86_64.ini || echo mingw-w64-i686.ini)
	local opts=(
		--cross-file "$ROOT/umd/mesa/$cross"
		--prefix="$b/install"
		-Dbuildtype=release -Db_ndebug=true -Dstrip=true
		-Dc_link_args=-static -Dcpp_link_args=-static
		-Dplatforms=windows -Dopengl=true -Degl=disabled -Dglx=disabled -Dgbm=disabled
		-Dgles1=disabled -Dgles2=disabled -Dshared-glapi=disabled
		-Dgallium-drivers=virgl -Dvulkan-drivers= -Dgallium-windows-dll-name=virgo_icd$bits
		-Dllvm=disabled -Dvalgrind=disabled -Dlibunwind=disabled -Dlmsensors=disabled
		-Dzlib=enabled -Dzstd=disabled
		-Dgallium-va=disabled -Dgallium-vdpau=disabled -Dgallium-xa=disabled
		-Dgallium-nine=false -Dgallium-omx=disabled -Dgallium-opencl=disabled
		-Dgallium-d3d12-video=disabled -Dmicrosoft-clc=disabled -Dspirv-to-dxil=false
		-Dosmesa=false -Dbuild-tests=false -Dvideo-codecs= -Dtools=
	)
	[[ $bits == 32 ]] && opts+=(-Dmin-windows-version=7)
	t0=$SECONDS
	configure "$b" "${opts[@]}"
	say "building build/mesa-win$bits ($(nproc) cores$(command -v ccache >/dev/null && echo ', ccache'))"
	/usr/bin/ninja -C "$b" 2>&1 | progress
	"$MESON" install -C "$b" --no-rebuild --only-changed --quiet >/dev/null
	[[ -f "$b/install/bin/opengl32.dll" && -f "$b/install/bin/virgo_icd$bits.dll" ]] ||
		die "the install lacks opengl32.dll or virgo_icd$bits.dll"
	say "done in $((SECONDS - t0)) s: build/mesa-win$bits/install/bin/{virgo_icd$bits,opengl32}.dll"
}

case "${1:-}" in
linux)
	bash "$ROOT/umd/mesa/fetch.sh"
	build_linux
	;;
windows)
	bash "$ROOT/umd/mesa/fetch.sh"
	build_windows 64
	;;
windows32)
	bash "$ROOT/umd/mesa/fetch.sh"
	build_windows 32
	;;
*)
	echo "usage: umd/mesa/build.sh linux|windows|windows32" >&2
	exit 2
	;;
esac
