#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/debian13/root.sh: the newer host generation on this Debian 12
# machine without building anything: a Debian 13 ("trixie") root with
# QEMU 10.0 and virglrenderer 1.1.0 from Debian's own packages, in
# build/debian13/root. Prints the root's path on its last line.
#
#   1. debootstrap --variant=minbase trixie, from the mirror the machine's
#      own apt sources name (nothing here names a registry);
#   2. inside it, apt-get install --no-install-recommends PACKAGES below
#      (two steps: debootstrap's --include failed on a gtk dependency);
#   3. apt's caches emptied; the root, with its package list as a stamp,
#      kept in $XDG_CACHE_HOME/virgo/debian13 (else ~/.cache/virgo/debian13)
#      so that `make clean` or a fresh checkout copies it (hard links where
#      the file system allows) instead of downloading it again.
# A root whose stamp differs from PACKAGES is made again. Every mount it
# needs lives in a private mount namespace (unshare -m) and goes with it:
# nothing of the machine's own system is changed. Needs root (debootstrap,
# chroot) and about 1 GiB; about 3-4 min the first time.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "$0")/../.." && pwd)"
SUITE=trixie
# What the newer host needs: QEMU 10 with its SDL/GL display, virglrenderer
# 1.1.0 and virgl_test_server (the vtest anchor of that generation), Mesa's
# EGL and llvmpipe for them (libegl1: the glvnd loader, which QEMU's virgl
# reset path dlopens), Xvfb for a display of their own.
PACKAGES=(qemu-system-x86 qemu-system-gui libvirglrenderer1 libegl1 libegl-mesa0 libgl1-mesa-dri
	xvfb xauth virgl-server)
STAMP_TEXT="$SUITE ${PACKAGES[*]}"
OUT="$ROOT_DIR/build/debian13"
ROOT="$OUT/root"

say() { echo "debian13: $*" >&2; }
die() { echo "debian13: error: $*" >&2; exit 1; }

stamp_ok() { [[ -f "$1/.virgo-root" && "$(cat "$1/.virgo-root")" == "$STAMP_TEXT" ]]; }

if stamp_ok "$ROOT"; then
	echo "$ROOT"
	exit 0
fi
((EUID == 0)) || die "making the Debian 13 root needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (scripts/setup.sh installs it)"
[[ -f /usr/share/debootstrap/scripts/$SUITE ]] || die "this debootstrap does not know $SUITE"

CACHE=""
for c in "${XDG_CACHE_HOME:-}" "${HOME:+$HOME/.cache}"; do
	[[ -n "$c" ]] || continue
	if mkdir -p "$c/virgo/debian13" 2>/dev/null && [[ -w "$c/virgo/debian13" ]]; then
		CACHE="$c/virgo/debian13"
		break
	fi
done

rm -rf "$ROOT"
mkdir -p "$OUT"
if [[ -n "$CACHE" ]] && stamp_ok "$CACHE/root"; then
	say "copying the cached root ($CACHE/root)"
	cp -al "$CACHE/root" "$ROOT" 2>/dev/null || { rm -rf "$ROOT"; cp -a "$CACHE/root" "$ROOT"; }
	echo "$ROOT"
	exit 0
fi

# The machine's own Debian mirror: the first deb URI that is not the
# security archive, from deb822 .sources files or a one-line sources.list.
mirror() {
	local f u
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f "$f" ]] || continue
		u=$(awk '/^Types:/ { deb = ($0 ~ /(^|[ \t])deb([ \t]|$)/) } /^URIs:/ && deb { print $2 }' "$f" |
			grep -v -- '-security' | head -n 1)
		[[ -n "$u" ]] && { echo "$u"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f "$f" ]] || continue
		u=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f" |
			grep -v -- '-security' | head -n 1)
		[[ -n "$u" ]] && { echo "$u"; return; }
	done
}
MIRROR=$(mirror)
[[ -n "$MIRROR" ]] || die "no Debian mirror found in the machine's apt sources"

WORK="$OUT/root.tmp"
rm -rf "$WORK"
t0=$SECONDS
say "debootstrap --variant=minbase $SUITE from $MIRROR (log: build/debian13/debootstrap.log)"
debootstrap --variant=minbase "$SUITE" "$WORK" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 ||
	{ tail -20 "$OUT/debootstrap.log" >&2; die "debootstrap failed"; }
say "apt-get install ${PACKAGES[*]} (log: build/debian13/apt.log)"
cp /etc/resolv.conf "$WORK/etc/resolv.conf" 2>/dev/null || true
unshare -m --propagation private bash -c '
	set -e
	R=$1; shift
	mount -t proc proc "$R/proc"
	mount --rbind /dev "$R/dev"
	mount -t tmpfs tmpfs "$R/tmp"
	chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
	chroot "$R" apt-get clean
' _ "$WORK" "${PACKAGES[@]}" >"$OUT/apt.log" 2>&1 || { tail -20 "$OUT/apt.log" >&2; die "apt-get install failed"; }
rm -rf "$WORK/var/lib/apt/lists/"* "$WORK/var/cache/apt/"*.bin
echo "$STAMP_TEXT" >"$WORK/.virgo-root"
mv "$WORK" "$ROOT"
say "made in $((SECONDS - t0)) s: $(chroot "$ROOT" qemu-system-x86_64 --version | head -n 1)"
if [[ -n "$CACHE" ]]; then
	rm -rf "$CACHE/root.new"
	if cp -a "$ROOT" "$CACHE/root.new"; then
		rm -rf "$CACHE/root"
		mv "$CACHE/root.new" "$CACHE/root"
	else
		rm -rf "$CACHE/root.new"
	fi
fi
echo "$ROOT"
