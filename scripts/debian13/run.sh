#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/debian13/run.sh COMMAND [ARGS...]: runs COMMAND inside the Debian
# 13 root (scripts/debian13/root.sh makes it), in a private mount namespace
# that goes when the command ends: /proc, /dev and a fresh /tmp, the X
# servers' sockets of this machine (/tmp/.X11-unix, so a Debian 13 QEMU can
# draw on a Debian 12 Xvfb), and this checkout at its own path, so that
# paths given to COMMAND mean the same inside. Needs root.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
ROOT="$REPO/build/debian13/root"
[[ -f "$ROOT/.virgo-root" ]] || { echo "debian13: no root at $ROOT (scripts/debian13/root.sh)" >&2; exit 1; }
exec unshare -m --propagation private bash -c '
	set -e
	R=$1 REPO=$2; shift 2
	mount -t proc proc "$R/proc"
	mount --rbind /dev "$R/dev"
	mount -t tmpfs tmpfs "$R/tmp"
	if [[ -d /tmp/.X11-unix ]]; then
		mkdir -p "$R/tmp/.X11-unix"
		mount --bind /tmp/.X11-unix "$R/tmp/.X11-unix"
	fi
	mkdir -p "$R$REPO"
	mount --bind "$REPO" "$R$REPO"
	cd "$R$REPO"
	exec chroot "$R" bash -c "cd \"\$0\" && exec \"\$@\"" "$REPO" "$@"
' _ "$ROOT" "$REPO" "$@"
