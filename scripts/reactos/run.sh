#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/reactos/run.sh [--host qemu72|qemu10]: one test run of virgo on
# ReactOS (x86) in QEMU, on the standard virtio-gpu-gl device.
#
# A copy of build/reactos/base.img (image.sh) gets, on its FAT partition:
#   C:\virgo\pkg    the x86 package as make dist builds it (build/dist/virgo-win32)
#   C:\virgo\tests  rostest.exe, gl_checks.exe, virgo-info.exe (x86)
#   C:\virgo\boot.cmd  run at logon: virgo-install.exe from the package, then
#                   rostest.exe (tests/reactos/rostest.c says what it checks)
# and boots with the debug boot entry (the kernel's debug output, with the
# driver's own lines, on COM1), COM2 for the results, QEMU's std VGA for the
# desktop and virtio-gpu-gl-pci (qemu10: blob and 256 MiB of host-visible
# memory) under a private Xvfb. When rostest says SHOT, QEMU's screen is
# written to screen.ppm, and the frame gl_checks.exe presented must be in it.
#
# Output: PASS/FAIL lines, "N passed, N failed"; everything in
# build/reactos/run-HOST/ (com1.log, com2.log, screen.ppm).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HOSTGEN=qemu72
[[ ${1:-} == --host ]] && { HOSTGEN=$2; shift 2; }
TIMEOUT=${VIRGO_REACTOS_TIMEOUT:-5400}
RUN=$RDIR/run-$HOSTGEN
PKG=${VIRGO_REACTOS_PKG:-$REPO/build/dist/virgo-win32}
WIN32=$REPO/build/win32

pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; exit $((fail != 0)); }

[[ -f $BASE ]] || { bad "no ReactOS disk $BASE (scripts/reactos/image.sh)"; finish; }
[[ -f $PKG/virgo.sys && -f $PKG/virgo-install.exe && -f $PKG/virgo_icd32.dll ]] ||
	{ bad "no x86 package in $PKG (make dist)"; finish; }
qemu_for "$HOSTGEN" || { bad "no QEMU for $HOSTGEN (the Debian 13 root: scripts/debian13/root.sh)"; finish; }

# ---- the test programs (x86) ---------------------------------------------------------------------
rm -rf "$RUN"
mkdir -p "$RUN/tests"
CC=i686-w64-mingw32-gcc
for prog in gl_checks; do
	$CC -std=c11 -Wall -Wextra -Werror -O2 -static-libgcc -o "$RUN/tests/$prog.exe" \
		"$REPO/tests/wine/gl/$prog.c" "$REPO/tests/wine/gl/wglapp.c" -lopengl32 -lgdi32 \
		>"$RUN/build-$prog.log" 2>&1 || { bad "build $prog.exe for x86"; finish; }
done
cp "$WIN32/tests/reactos/rostest.exe" "$PKG/virgo-info.exe" "$RUN/tests/" ||
	{ bad "rostest.exe (make win32) and virgo-info.exe"; finish; }

# What ReactOS's loader would refuse, from the tree the disk was built from.
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$ROUT/CMakeCache.txt" 2>/dev/null)
ver=$(sed -n 's/^DLL_EXPORT_VERSION:STRING=//p' "$ROUT/CMakeCache.txt" 2>/dev/null)
if [[ -d $src && -n $ver ]]; then
	if missing=$(/usr/bin/python3 "$REPO/scripts/reactos/imports.py" "$src" "$ver" "$PKG"/*.dll "$PKG"/*.exe \
		"$PKG/virgo.sys" "$RUN"/tests/*.exe); then
		ok "every import of the package and the test programs is exported by this ReactOS (DLL_EXPORT_VERSION $ver)"
	else
		bad "imports ReactOS lacks: $(echo "$missing" | head -5 | paste -sd '|')"
	fi
fi

# ---- the disk -----------------------------------------------------------------------------------
cp --sparse=always "$BASE" "$RUN/disk.img"
m mmd "$RUN/disk.img" ::/virgo ::/virgo/pkg ::/virgo/tests
m mcopy "$RUN/disk.img" "$PKG"/* ::/virgo/pkg/
m mcopy "$RUN/disk.img" "$RUN/tests"/*.exe ::/virgo/tests/
m mcopy "$RUN/disk.img" "$REPO/scripts/reactos/boot.cmd" ::/virgo/boot.cmd
m mtype "$RUN/disk.img" ::/freeldr.ini | tr -d '\r' >"$RUN/freeldr.ini"
grep -q '^\[ReactOS_Debug\]' "$RUN/freeldr.ini" || { bad "the installed freeldr.ini has a ReactOS_Debug entry"; finish; }
sed -i 's/^DefaultOS=.*/DefaultOS=ReactOS_Debug/' "$RUN/freeldr.ini"
sed 's/$/\r/' "$RUN/freeldr.ini" >"$RUN/freeldr.ini.crlf"
m mcopy "$RUN/disk.img" -o "$RUN/freeldr.ini.crlf" ::/freeldr.ini

# ---- the boot -----------------------------------------------------------------------------------
start_xvfb
trap stop_xvfb EXIT
say "ReactOS on $("${QEMU[@]}" --version | head -n 1 | awk '{print $4}'), TCG, $VGPU, at most $TIMEOUT s"
t0=$SECONDS
/usr/bin/python3 "$REPO/scripts/reactos/vm.py" --timeout "$TIMEOUT" --com1 "$RUN/com1.log" --com2 "$RUN/com2.log" \
	--monitor "$RUN/monitor.sock" --shot-cue SHOT --shot "$RUN/screen.ppm" \
	--until '^[0-9]+ passed, [0-9]+ failed' -- \
	"${QEMU[@]}" -device "$VGPU" -display sdl,gl=on \
	-serial "file:$RUN/com1.log" -serial "file:$RUN/com2.log" \
	-monitor "unix:$RUN/monitor.sock,server,nowait" \
	-drive "file=$RUN/disk.img,format=raw,if=ide,index=0" -boot c | tee "$RUN/vm.log" | grep -v '^com2: ' || true
say "the guest ran $((SECONDS - t0)) s"
tr -d '\r' <"$RUN/com2.log" >"$RUN/results.txt"
tr -d '\r' <"$RUN/com1.log" | tr -cd '\11\12\40-\176' >"$RUN/debug.txt"

# ---- what the guest said ------------------------------------------------------------------------
sed -n 's/^/  guest: /p' "$RUN/results.txt"
grep -q '^INSTALL exit 0' "$RUN/results.txt" && ok "virgo-install.exe installed the driver and the ICD (exit 0)" ||
	bad "virgo-install.exe installed the driver and the ICD ($(grep '^INSTALL exit' "$RUN/results.txt" || echo 'no exit line'))"
while read -r verdict name rest; do
	case $verdict in
	PASS) ok "rostest $name" ;;
	FAIL) bad "rostest $name $rest" ;;
	esac
done < <(grep -E '^(PASS|FAIL) [a-z0-9_.-]+' "$RUN/results.txt")
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$RUN/results.txt" | tail -1 || true)
[[ -n $summary ]] && ok "rostest finished ($summary)" || bad "rostest finished (no summary line: the guest stopped or hung)"

# The driver's own lines on the debug port: loaded, the kernel routines it
# found, the interrupt it connected, the device started; nothing lost.
drv() { grep -a -E "virgo: $1" "$RUN/debug.txt" | head -n "${2:-1}"; }
if [[ -n $(drv 'loaded') ]]; then ok "the driver's DriverEntry ran: $(drv 'loaded')"; else bad "the driver logged 'virgo: loaded' on COM1"; fi
if [[ -n $(drv 'interrupts: ') ]]; then ok "$(drv 'interrupts: ')"; else bad "the driver logged how it connected its interrupt"; fi
if [[ -n $(drv 'kernel routines') ]]; then ok "$(drv 'kernel routines')"; else bad "the driver logged the kernel routines it found"; fi
if grep -a -q -E 'virgo: .*(device lost|left behind|did not start)' "$RUN/debug.txt"; then
	bad "no device loss, leak report or failed start in the driver's log: $(grep -a -E 'virgo: .*(device lost|left behind|did not start)' "$RUN/debug.txt" | head -3 | paste -sd '|')"
else
	ok "no device loss, leak report or failed start in the driver's log"
fi

# The screenshot: gl_checks.exe's last frame (red, green, blue, yellow
# quadrants) where its HOLD line says its client area is.
if [[ -f $RUN/screen.ppm ]]; then
	hold=$(grep -a -E '^gl_checks.exe: HOLD ' "$RUN/results.txt" | tail -1 | sed 's/^gl_checks.exe: //')
	if /usr/bin/python3 "$REPO/scripts/reactos/shotcheck.py" "$RUN/screen.ppm" "$hold"; then
		ok "the presented frame is on QEMU's VGA screen ($hold)"
	else
		bad "the presented frame is on QEMU's VGA screen ($hold)"
	fi
else
	bad "a screenshot was taken while gl_checks.exe held its frame"
fi
finish
