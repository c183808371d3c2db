#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/reactos/image.sh: installs ReactOS from build/reactos/out/bootcd.iso
# (build.sh) onto a fresh 4 GiB FAT disk, unattended, and keeps it as
# build/reactos/base.img, the disk every test run starts from. No virtio-gpu
# is attached while it is made, so the first time ReactOS meets the device
# is a test run, as on a user's machine.
#
# The boot CD is remastered with scripts/reactos/unattend.inf (the same file
# list and mkisofs arguments the ReactOS build used, one file changed), then
# three boots, each ending when the guest resets or powers off (-no-reboot):
#   1. from the CD: text-mode setup partitions, formats, copies, installs
#      the boot loader;
#   2. from the disk: the GUI stage;
#   3. from the disk: the first logon runs C:\virgo-firstboot.cmd
#      (firstboot.cmd: the debug print filter, the Run entry for test
#      runs), which powers off.
# TCG only (no KVM here): expect tens of minutes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ISO=$ROUT/bootcd.iso
[[ -f $ISO ]] || die "no $ISO (scripts/reactos/build.sh REACTOS_SOURCE_TREE)"
for t in Xvfb mcopy mtype qemu-system-i386; do
	command -v $t >/dev/null || die "$t is missing (scripts/setup.sh)"
done
LST=$ROUT/boot/bootcd.Release.lst
MKISOFS_CMD=$(grep -o "host-tools/bin/mkisofs [^&]*bootcd.Release.lst" "$ROUT/build.ninja" | head -1)
[[ -f $LST && -n $MKISOFS_CMD ]] || die "the ReactOS build has no bootcd file list or mkisofs command"
W=$RDIR/image
rm -rf "$W"
mkdir -p "$W"

# ---- the CD with our answers -------------------------------------------------------------
sed "s|^reactos/unattend.inf=.*|reactos/unattend.inf=$REPO/scripts/reactos/unattend.inf|" "$LST" >"$W/bootcd.lst"
grep -q "^reactos/unattend.inf=$REPO/scripts/reactos/unattend.inf" "$W/bootcd.lst" || die "no unattend.inf line in $LST"
args=${MKISOFS_CMD#host-tools/bin/mkisofs }
args=${args/-o $ROUT\/bootcd.iso/-o $W\/bootcd.iso}
args=${args/-path-list $LST/-path-list $W\/bootcd.lst}
# shellcheck disable=SC2086
(cd "$ROUT/boot" && eval "\"$ROUT/host-tools/bin/mkisofs\" $args") || die "mkisofs failed"
"$ROUT/host-tools/bin/isohybrid" -b "$ROUT/boot/freeldr/bootsect/isombr.bin" -t 0x96 "$W/bootcd.iso"
say "boot CD with the unattended answers: $W/bootcd.iso"

truncate -s 4G "$W/disk.img"
qemu_for qemu72
start_xvfb
trap stop_xvfb EXIT
boot() { # boot NAME TIMEOUT QEMU-ARGS...
	local name=$1 timeout=$2
	shift 2
	say "boot $name (at most $timeout s); serial logs in $W/$name-com*.log"
	/usr/bin/python3 "$REPO/scripts/reactos/vm.py" --timeout "$timeout" \
		--com1 "$W/$name-com1.log" --com2 "$W/$name-com2.log" -- \
		"${QEMU[@]}" -display sdl -serial "file:$W/$name-com1.log" -serial "file:$W/$name-com2.log" \
		-drive "file=$W/disk.img,format=raw,if=ide,index=0" "$@" >"$W/$name.log" 2>&1 ||
		{ tail -5 "$W/$name.log"; die "boot $name did not end in $timeout s"; }
}
boot 1-textmode 5400 -drive "file=$W/bootcd.iso,media=cdrom,if=ide,index=2" -boot d
m mdir "$W/disk.img" ::/ >/dev/null || die "setup left no FAT partition on the disk"
boot 2-gui 5400 -boot c
m mcopy "$W/disk.img" -o "$REPO/scripts/reactos/firstboot.cmd" ::/virgo-firstboot.cmd
boot 3-firstlogon 3600 -boot c
grep -q VIRGO-BASE-READY "$W/3-firstlogon-com2.log" || die "the first logon did not run firstboot.cmd ($W/3-firstlogon-com2.log)"
mv "$W/disk.img" "$BASE"
sha256sum "$ISO" | cut -d' ' -f1 >"$BASE.iso-sha256"
cp "$ROUT/virgo-source.txt" "$BASE.source" 2>/dev/null || true
say "done: $BASE"
