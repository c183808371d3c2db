#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# build-guest.sh OUTDIR [SCENARIOS-GUEST]: the Linux guest run-qemu.sh boots,
# made from Debian packages only (nothing else is downloaded, nothing binary
# is committed):
#
#   OUTDIR/vmlinuz            the kernel of Debian's cloud kernel package
#                             (it has uio_pci_generic and no virtio-gpu driver)
#   OUTDIR/initramfs.cpio.gz  busybox-static, uio.ko + uio_pci_generic.ko, the
#                             statically linked scenario runner, and /init
#
# Extracted packages are cached in OUTDIR/debs/<package>/ so that a rerun
# only rebuilds the initramfs (a second or so). SCENARIOS-GUEST defaults to
# build/native/tests/scenarios/scenarios-guest.
#
# /init mounts proc, sysfs, devtmpfs and hugetlbfs, reserves 2 MiB pages,
# loads the uio modules, binds the virtio-gpu (1af4:1050) to
# uio_pci_generic, runs the scenarios and powers off. Options come from the
# kernel command line (run-qemu.sh sets them):
#   virgo.filter=NAME        only scenarios whose name contains NAME
#   virgo.hugepages=N        2 MiB pages to reserve (default 256)
#   virgo.roundtrips=N       VIRGO_SCEN_ROUNDTRIPS (default 50)
#   virgo.first_fence=N      VIRGO_UIO_FIRST_FENCE (default: the core's)
#   virgo.layout=scatter|natural, virgo.log=err|warn|info|debug
#   virgo.name=NAME          what the scenarios call the device (qemu72-guest, ...)
set -euo pipefail

OUT=${1:?usage: build-guest.sh OUTDIR [SCENARIOS-GUEST]}
BIN=${2:-build/native/tests/scenarios/scenarios-guest}
DEBS="$OUT/debs"
META=linux-image-cloud-amd64

say() { echo "build-guest: $*"; }
die() { echo "build-guest: $*" >&2; exit 1; }

mkdir -p "$DEBS"
OUT=$(cd "$OUT" && pwd)
DEBS="$OUT/debs"

[[ -x "$BIN" ]] || die "no scenario runner at $BIN (build it first: meson compile -C build/native)"
if readelf -l "$BIN" 2>/dev/null | grep -q 'INTERP'; then
	die "$BIN is dynamically linked; the guest has no C library (link it with -static)"
fi

# apt-cache needs package lists; a machine that never ran apt-get update has none.
apt_ready() { apt-cache show "$META" >/dev/null 2>&1; }
if ! apt_ready; then
	if ((EUID == 0)); then
		say "no package lists: apt-get update"
		apt-get update -q >/dev/null
	elif command -v sudo >/dev/null 2>&1; then
		sudo apt-get update -q >/dev/null
	fi
fi

# Downloads and extracts a Debian package once: $DEBS/<pkg>/ holds its files.
extract() {
	local pkg=$1 dir="$DEBS/$1" tmp
	if [[ -f "$dir/.done" ]]; then
		return 0
	fi
	say "apt-get download $pkg"
	tmp=$(mktemp -d "$DEBS/.dl.XXXXXX")
	(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>"$tmp/err") ||
		{ cat "$tmp/err" >&2; rm -rf "$tmp"; die "cannot download $pkg"; }
	rm -rf "$dir"
	mkdir -p "$dir"
	dpkg-deb -x "$tmp"/*.deb "$dir"
	basename "$tmp"/*.deb >"$dir/.done"
	rm -rf "$tmp"
	say "extracted $(cat "$dir/.done") into $dir"
}

# The kernel: the version the cloud meta package points at; offline, the
# newest one already extracted.
KPKG=$(apt-cache depends "$META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }' || true)
if [[ -z "$KPKG" ]]; then
	KPKG=$(ls -d "$DEBS"/linux-image-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1 | xargs -r basename || true)
	[[ -n "$KPKG" ]] || die "apt-cache does not know $META and nothing is cached"
	say "apt-cache has no $META; using the cached $KPKG"
fi
extract "$KPKG"
KDIR="$DEBS/$KPKG"
VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* | head -n 1)
KVER=${VMLINUZ##*/vmlinuz-}
MODDIR="$KDIR/lib/modules/$KVER/kernel/drivers/uio"
say "kernel $KVER ($(cat "$KDIR/.done"))"

# busybox: the installed static one, else the package's.
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
	BUSYBOX=/bin/busybox
else
	extract busybox-static
	BUSYBOX="$DEBS/busybox-static/bin/busybox"
fi
if readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'INTERP'; then
	die "$BUSYBOX is not the static busybox (install busybox-static)"
fi

# A module, decompressed on this side whatever the kernel package used.
module() {
	local name=$1 dst=$2 f
	for f in "$MODDIR/$name.ko" "$MODDIR/$name.ko.xz" "$MODDIR/$name.ko.zst"; do
		[[ -f "$f" ]] || continue
		case "$f" in
		*.xz) xz -dc "$f" >"$dst" ;;
		*.zst) zstd -qdc "$f" >"$dst" ;;
		*) cp "$f" "$dst" ;;
		esac
		return 0
	done
	die "no $name module in $MODDIR"
}

ROOT="$OUT/initramfs"
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,dev,proc,sys,tmp,lib/modules}
cp "$BUSYBOX" "$ROOT/bin/busybox"
module uio "$ROOT/lib/modules/uio.ko"
module uio_pci_generic "$ROOT/lib/modules/uio_pci_generic.ko"
cp "$BIN" "$ROOT/bin/scenarios-guest"
cp "$VMLINUZ" "$OUT/vmlinuz"

cat >"$ROOT/init" <<'EOF'
#!/bin/busybox sh
# The virgo guest: run the scenario suite on the virtio-gpu, then power off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/hugepages && mount -t hugetlbfs hugetlbfs /dev/hugepages

say() { echo "virgo-guest: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

FILTER= HUGEPAGES=256 ROUNDTRIPS=50 FIRST_FENCE= LAYOUT=scatter LOG=info NAME=qemu-guest
for a in $(cat /proc/cmdline); do
	case "$a" in
	virgo.filter=*) FILTER=${a#*=} ;;
	virgo.hugepages=*) HUGEPAGES=${a#*=} ;;
	virgo.roundtrips=*) ROUNDTRIPS=${a#*=} ;;
	virgo.first_fence=*) FIRST_FENCE=${a#*=} ;;
	virgo.layout=*) LAYOUT=${a#*=} ;;
	virgo.log=*) LOG=${a#*=} ;;
	virgo.name=*) NAME=${a#*=} ;;
	esac
done

say "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpu, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB, up $(uptime_s) s"
echo "$HUGEPAGES" >/proc/sys/vm/nr_hugepages
say "2 MiB pages: $(cat /proc/sys/vm/nr_hugepages) of $HUGEPAGES reserved"
insmod /lib/modules/uio.ko && insmod /lib/modules/uio_pci_generic.ko || say "insmod failed"
echo "1af4 1050" >/sys/bus/pci/drivers/uio_pci_generic/new_id
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1af4:0x1050" ] || continue
	say "virtio-gpu ${d##*/}: driver $(basename "$(readlink "$d/driver")"), irq $(cat "$d/irq"), $(ls "$d/uio" 2>/dev/null)"
done

say "scenarios start at $(uptime_s) s${FILTER:+ (filter $FILTER)}"
VIRGO_SCEN_ROUNDTRIPS=$ROUNDTRIPS VIRGO_UIO_LAYOUT=$LAYOUT VIRGO_UIO_LOG=$LOG VIRGO_SCEN_NAME=$NAME \
	VIRGO_UIO_FIRST_FENCE=$FIRST_FENCE /bin/scenarios-guest $FILTER
status=$?
say "scenarios end at $(uptime_s) s"
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1af4:0x1050" ] || continue
	irq=$(cat "$d/irq")
	say "irq $irq: $(grep "^ *$irq:" /proc/interrupts | tr -s ' ' | cut -d' ' -f3-); count/unhandled/last: $(tr '\n' ' ' </proc/irq/$irq/spurious)"
done
say "scenarios-guest exit status $status"
poweroff -f
EOF
chmod 755 "$ROOT/init" "$ROOT/bin/busybox" "$ROOT/bin/scenarios-guest"

(cd "$ROOT" && find . -print0 | sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$OUT/initramfs.cpio.gz"
say "$OUT/vmlinuz + $OUT/initramfs.cpio.gz ($(du -k "$OUT/initramfs.cpio.gz" | cut -f1) KiB: busybox, uio modules, $(basename "$BIN"))"
