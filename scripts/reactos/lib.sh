# SPDX-License-Identifier: MIT
# scripts/reactos/lib.sh: what build.sh, image.sh and run.sh share (sourced).
#
# Everything lives under build/reactos/: out/ (the ReactOS build), ccache/,
# base.img (ReactOS installed on a FAT disk, made once by image.sh), run-*/
# (one test run each: its disk, serial logs, screenshot).

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RDIR=$REPO/build/reactos
ROUT=$RDIR/out
BASE=$RDIR/base.img
# The ReactOS commit this harness was proven on (its public repository).
PROVEN_COMMIT=7432f4e9d959aef63f10a7f4aa9ebd56b1403f6a

say() { echo "reactos: $*"; }
die() { echo "reactos: error: $*" >&2; exit 1; }

# The first partition of a raw disk image: its byte offset (MBR table).
part_offset() {
	/usr/bin/python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read(512)
if d[510:512] != b"\x55\xaa":
    sys.exit("no MBR")
lba = struct.unpack_from("<I", d, 0x1BE + 8)[0]
if not lba:
    sys.exit("no first partition")
print(lba * 512)
EOF
}

# mtools on the first partition of IMG: m CMD IMG ARGS... (paths as ::/...)
m() {
	local cmd=$1 img=$2 off
	shift 2
	off=$(part_offset "$img") || die "$img has no partition table"
	MTOOLS_SKIP_CHECK=1 MTOOLS_NO_VFAT=0 "$cmd" -i "$img@@$off" "$@"
}

# A private Xvfb (QEMU's virgl needs a GL display); sets DISPLAY and
# XVFB_PID. stop_xvfb ends it.
start_xvfb() {
	local dfile
	dfile=$(mktemp)
	Xvfb -displayfd 3 -nolisten tcp -screen 0 1280x1024x24 3>"$dfile" >"$RDIR/xvfb.log" 2>&1 &
	XVFB_PID=$!
	for _ in $(seq 100); do
		[[ -s $dfile ]] && break
		sleep 0.1
	done
	[[ -s $dfile ]] || die "Xvfb did not start ($RDIR/xvfb.log)"
	export DISPLAY=":$(head -n 1 "$dfile")" SDL_AUDIODRIVER=dummy
	rm -f "$dfile"
}
stop_xvfb() {
	[[ -n ${XVFB_PID:-} ]] && kill "$XVFB_PID" 2>/dev/null && wait "$XVFB_PID" 2>/dev/null
	XVFB_PID=
}

# QEMU for host generation $1 (qemu72: this machine's QEMU 7.2; qemu10: the
# Debian 13 root's QEMU 10.0) into the array QEMU, and the virtio-gpu
# device line into VGPU. A 32-bit guest without PAE: 1 GiB of RAM, and the
# machine's 32-bit PCI hole for the BARs.
qemu_for() {
	case $1 in
	qemu72)
		QEMU=(qemu-system-i386)
		VGPU=virtio-gpu-gl-pci
		;;
	qemu10)
		[[ -f $REPO/build/debian13/root/.virgo-root ]] || return 1
		QEMU=(bash "$REPO/scripts/debian13/run.sh" qemu-system-i386)
		VGPU=virtio-gpu-gl-pci,blob=true,hostmem=256M
		;;
	*) die "unknown host generation $1 (qemu72 or qemu10)" ;;
	esac
	QEMU+=(-accel tcg -machine pc -cpu core2duo -smp 1 -m 1024 -no-user-config -nodefaults
		-vga std -rtc base=utc -no-reboot)
}
