#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/win/install-check.sh PACKAGE_DIR FAKE_EXE REAL_EXE: the installer's
# decisions under Wine (tests/win/check.sh runs it).
#
# What runs: virgo-install-fake.exe, which is virgo-install.exe
# (tools/virgo-install/install.c) with the test double of install.h
# (ops_fake.c) in place of what only a real Windows can answer: the
# kernel's test-signing state, bcdedit, pnputil, the PCI device and the
# driver bound to it, UpdateDriverForPlugAndPlayDevices. Everything else
# runs for real in a private Wine prefix: the certificate stores, the MSOGL
# registration and its backup, the copy into System32, the Secure Boot and
# GALLIUM_DRIVER registry values, the uninstall. What did not run: pnputil,
# bcdedit, SetupAPI's view of a real PCI device, Windows' driver ranking and
# the kernel loading virgo.sys; nothing here has run on Windows.
#
# Each scenario is one situation a first-time user meets (issue 26 and 25):
# pnputil's 259 on a re-run, virtio-win's viogpudo bound to the device, test
# signing off or pending, Secure Boot on, no or only a VGA-class virtio-gpu,
# the driver bound but refused (Code 52), a restart pending, GALLIUM_DRIVER
# set system-wide, someone else's MSOGL registration, and the uninstall.
# Last, the real virgo-install.exe under Wine: it must stop with a clear
# message and change nothing (Wine has no test signing and no bcdedit).
#
# Prints PASS/FAIL lines and "N passed, N failed".
set -uo pipefail

PKG=$1 FAKE=$2 REAL=$3
cd "$(dirname "$0")/../.."
OUT=build/check-win/install
rm -rf "$OUT"
mkdir -p "$OUT/pkg"
pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

WINE=
for w in wine64 /usr/lib/wine/wine64; do
	if command -v "$w" >/dev/null 2>&1; then WINE=$(command -v "$w"); break; fi
done
WINESERVER=
for s in wineserver /usr/lib/wine/wineserver "$(dirname "${WINE:-/x}")/wineserver"; do
	if command -v "$s" >/dev/null 2>&1; then WINESERVER=$(command -v "$s"); break; fi
done
if [[ -z $WINE || -z $WINESERVER ]]; then
	echo "SKIP: the installer under Wine: no wine64 here"
	echo "0 passed, 0 failed"
	exit 0
fi
for f in virgo.sys virgo.cat virgo.inf virgo-test.cer virgo_icd64.dll; do
	[[ -f $PKG/$f ]] || { bad "the package in $PKG has $f"; echo "$pass passed, $fail failed"; exit 1; }
	cp "$PKG/$f" "$OUT/pkg/"
done
cp "$FAKE" "$OUT/pkg/virgo-install-fake.exe"
cp "$REAL" "$OUT/pkg/virgo-install.exe"

export WINEPREFIX=$PWD/$OUT/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=d"
cleanup() { timeout 20 "$WINESERVER" -k >/dev/null 2>&1; timeout 20 "$WINESERVER" -w >/dev/null 2>&1; }
trap cleanup EXIT
if ! timeout -k 5 300 "$WINE" wineboot -i >"$OUT/wineboot.log" 2>&1; then
	bad "a Wine prefix for the installer (wineboot)"
	echo "$pass passed, $fail failed"
	exit 1
fi

THUMB=$(openssl x509 -inform DER -in "$OUT/pkg/virgo-test.cer" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
MSOGL='HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\OpenGLDrivers\MSOGL'
ENVKEY='HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
SBKEY='HKLM\SYSTEM\CurrentControlSet\Control\SecureBoot\State'

# Windows command scripts run by Wine's cmd: one Wine start each. (Wine
# 8's cmd runs what follows && whatever the status: "if errorlevel" here.)
wcmd() { # wcmd NAME LINES...: writes $OUT/NAME.cmd, runs it, output in $OUT/NAME.out
	local name=$1
	shift
	printf '%s\r\n' '@echo off' "$@" >"$OUT/$name.cmd"
	timeout -k 5 120 "$WINE" cmd /c "Z:$(readlink -f "$OUT/$name.cmd" | tr / '\\')" 2>/dev/null | tr -d '\r' >"$OUT/$name.out"
}

# Back to a machine without virgo: no registration, backup, DLL,
# certificate, Secure Boot value or GALLIUM_DRIVER.
reset() {
	wcmd reset \
		"reg delete \"$MSOGL\" /f >nul 2>&1" \
		'reg delete HKLM\SOFTWARE\virgo /f >nul 2>&1' \
		"reg delete HKLM\\Software\\Microsoft\\SystemCertificates\\Root\\Certificates\\$THUMB /f >nul 2>&1" \
		"reg delete HKLM\\Software\\Microsoft\\SystemCertificates\\TrustedPublisher\\Certificates\\$THUMB /f >nul 2>&1" \
		"reg delete \"$SBKEY\" /f >nul 2>&1" \
		"reg delete \"$ENVKEY\" /v GALLIUM_DRIVER /f >nul 2>&1" \
		'del /q %SystemRoot%\system32\virgo_icd64.dll >nul 2>&1' \
		"$@"
}

# What the machine looks like now, into $OUT/state.out.
state() {
	wcmd state \
		"reg query \"$MSOGL\"" \
		'reg query HKLM\SOFTWARE\virgo\MSOGL-before-virgo' \
		"reg query HKLM\\Software\\Microsoft\\SystemCertificates\\Root\\Certificates\\$THUMB >nul 2>&1" \
		'if not errorlevel 1 echo CERT-ROOT' \
		"reg query HKLM\\Software\\Microsoft\\SystemCertificates\\TrustedPublisher\\Certificates\\$THUMB >nul 2>&1" \
		'if not errorlevel 1 echo CERT-TP' \
		'if exist %SystemRoot%\system32\virgo_icd64.dll echo ICD-DLL'
}
has() { grep -q -- "$1" "$OUT/state.out"; }
registered() { grep -q -E '^ +DLL +REG_SZ +virgo_icd64\.dll$' "$OUT/state.out" && grep -q -E '^ +Flags +REG_DWORD +0x3$' "$OUT/state.out" && has ICD-DLL && has CERT-ROOT && has CERT-TP; }
untouched() { ! grep -q -E '^ +DLL +REG_SZ' "$OUT/state.out" && ! has ICD-DLL && ! has CERT-ROOT && ! has CERT-TP; }

# inst NAME [VAR=VALUE...] -- [ARGS...]: the fake installer; $OUT/NAME.{out,err}, RC.
inst() {
	local name=$1 envs=() exe=virgo-install-fake.exe
	shift
	while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
	shift
	[[ ${envs[0]:-} == REAL ]] && { exe=virgo-install.exe; envs=("${envs[@]:1}"); }
	timeout -k 5 120 env "${envs[@]}" "$WINE" "$OUT/pkg/$exe" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
	RC=$?
	sed -i 's/\r$//' "$OUT/$name.out" "$OUT/$name.err"
}
out() { grep -q -F -- "$2" "$OUT/$1.out"; }
err() { grep -q -F -- "$2" "$OUT/$1.err"; }
called() { grep -q -F -- "fake: $2" "$OUT/$1.out"; }
show() { echo "    exit $RC; stdout:"; sed 's/^/      /' "$OUT/$1.out" | tail -8; echo "    stderr:"; sed 's/^/      /' "$OUT/$1.err" | tail -4; }
verdict() { # verdict NAME WHAT: PASS/FAIL from the status of the checks just made
	if (($3)); then ok "$2"; else bad "$2"; show "$1"; fi
}

GOOD=VIRGO_FAKE_DEVICES="0380:virgo:1:0"

# 1. A re-run after a good install: pnputil says 259 ("already using a
#    better or newer driver"); the installer goes on and registers the ICD.
reset
inst rerun "$GOOD" VIRGO_FAKE_PNPUTIL=259 --
state
r=0; ((RC == 0)) && out rerun "installed: the device runs virgo" && registered && r=1
verdict rerun "pnputil's 259 on a device that runs virgo already: not an error; certificate, ICD and MSOGL (Flags 3) in place" $r

# 2. virtio-win's viogpudo runs the device, no -ReplaceDriver: stop before
#    changing anything, name the driver and the way out.
reset
inst viogpudo VIRGO_FAKE_DEVICES="0300::0:28;0380:viogpudo:1:0" --
state
r=0; ((RC != 0)) && err viogpudo "'viogpudo'" && err viogpudo "-ReplaceDriver" && err viogpudo "Nothing was changed" &&
	! called viogpudo "pnputil" && untouched && r=1
verdict viogpudo "viogpudo bound, no -ReplaceDriver: an error naming viogpudo and -ReplaceDriver, nothing installed" $r

# 3. -ReplaceDriver: pnputil leaves viogpudo (259), the installer forces
#    virgo on with UpdateDriverForPlugAndPlayDevices and checks again.
reset
inst replace VIRGO_FAKE_DEVICES="0380:viogpudo:1:0" VIRGO_FAKE_PNPUTIL=259 -- -ReplaceDriver
state
r=0; ((RC == 0)) && called replace "UpdateDriverForPlugAndPlayDevices PCI\\VEN_1AF4&DEV_1050&CC_0380 virgo.inf INSTALLFLAG_FORCE -> 0" &&
	out replace "installed" && registered && r=1
verdict replace "-ReplaceDriver over viogpudo: UpdateDriverForPlugAndPlayDevices(CC_0380, INSTALLFLAG_FORCE), then installed" $r

# 4. pnputil says 0 but the device still has no driver and Windows will
#    not put virgo on it: not "installed", no ICD.
reset
inst unbound VIRGO_FAKE_DEVICES="0380::0:28" VIRGO_FAKE_UPDATE=259 --
state
r=0; ((RC != 0)) && called unbound "UpdateDriverForPlugAndPlayDevices PCI\\VEN_1AF4&DEV_1050&CC_0380 virgo.inf -> 259" &&
	err unbound "-ReplaceDriver" && ! out unbound "installed" && ! grep -q -E '^ +DLL +REG_SZ' "$OUT/state.out" && r=1
verdict unbound "pnputil 0 but the device runs no virgo afterwards: an error, the ICD not registered" $r

# 5. Bound, but Windows refuses the signature (Code 52).
reset
inst code52 VIRGO_FAKE_DEVICES="0380::0:28" VIRGO_FAKE_AFTER_ADD="virgo:0:52" --
state
r=0; ((RC != 0)) && err code52 "does not start" && err code52 "code 52" && ! grep -q -E '^ +DLL +REG_SZ' "$OUT/state.out" && r=1
verdict code52 "virgo bound but not started (Code 52): an error with the code and its meaning, the ICD not registered" $r

# 6. pnputil asks for a restart (3010): installed, and told so.
reset
inst reboot VIRGO_FAKE_DEVICES="0380::0:28" VIRGO_FAKE_PNPUTIL=3010 VIRGO_FAKE_AFTER_ADD="virgo:0:0" --
state
r=0; ((RC == 0)) && out reboot "restart Windows to finish" && registered && r=1
verdict reboot "pnputil 3010: installed, with the restart asked for" $r

# 7-9. Test signing off, pending a restart, or blocked by Secure Boot: an
#      error before anything changes, each with its way out.
reset
inst tsoff "$GOOD" VIRGO_FAKE_TESTSIGN=0 --
state
r=0; ((RC != 0)) && err tsoff 'bcdedit /set testsigning on' && err tsoff "Nothing was changed" && ! called tsoff pnputil && untouched && r=1
verdict tsoff "test signing off: an error that says to run bcdedit /set testsigning on; nothing installed" $r
reset
inst tspending "$GOOD" VIRGO_FAKE_TESTSIGN=0 VIRGO_FAKE_TESTSIGN_BCD=1 --
r=0; ((RC != 0)) && err tspending "not yet active: restart Windows" && ! called tspending pnputil && r=1
verdict tspending "test signing set but not active yet: an error that says to restart" $r
reset "reg add \"$SBKEY\" /v UEFISecureBootEnabled /t REG_DWORD /d 1 /f >nul"
inst secureboot "$GOOD" VIRGO_FAKE_TESTSIGN=0 --
state
r=0; ((RC != 0)) && err secureboot "Secure Boot is on" && err secureboot "firmware" && untouched && r=1
verdict secureboot "Secure Boot on (UEFISecureBootEnabled=1): an error that says Secure Boot blocks test signing" $r

# 10-11. No render-only virtio-gpu: none at all, or only virtio-vga-gl.
reset
inst nodevice --
state
r=0; ((RC != 0)) && err nodevice "no virtio-gpu device" && err nodevice "-device virtio-gpu-gl-pci" && untouched && r=1
verdict nodevice "no virtio-gpu in the VM: an error naming -device virtio-gpu-gl-pci, nothing installed" $r
reset
inst vgaonly VIRGO_FAKE_DEVICES="0300::1:0" --
r=0; ((RC != 0)) && err vgaonly "VGA adapter" && ! called vgaonly pnputil && r=1
verdict vgaonly "only a VGA-class virtio-gpu (virtio-vga-gl): an error, virgo does not take the desktop adapter" $r

# 12. GALLIUM_DRIVER set system-wide (mesa-dist-win's guide): a warning.
reset "reg add \"$ENVKEY\" /v GALLIUM_DRIVER /t REG_SZ /d llvmpipe /f >nul"
inst gallium "$GOOD" --
r=0; ((RC == 0)) && out gallium "WARNING: GALLIUM_DRIVER=llvmpipe is set system-wide" && r=1
verdict gallium "GALLIUM_DRIVER=llvmpipe in the machine's environment: the installer warns and says how to remove it" $r

# 13. pnputil fails outright.
reset
inst pnpfail "$GOOD" VIRGO_FAKE_PNPUTIL=5 --
r=0; ((RC != 0)) && err pnpfail "pnputil /add-driver failed (exit status 5" && r=1
verdict pnpfail "pnputil exit status 5: an error" $r

# 14. Someone else's MSOGL: refused without -Force; with it saved, and put
#     back by -Uninstall, which also removes the driver package, the DLL
#     and the certificate.
reset "reg add \"$MSOGL\" /v DLL /t REG_SZ /d other_icd.dll /f >nul"
inst other "$GOOD" --
state
r=0; ((RC != 0)) && err other "-Force" && grep -q -E '^ +DLL +REG_SZ +other_icd\.dll$' "$OUT/state.out" && ! has CERT-ROOT && r=1
verdict other "another ICD in MSOGL: refused without -Force, left as it was" $r
inst forced "$GOOD" -- -Force
state
r=0; ((RC == 0)) && registered && grep -q -i 'MSOGL-before-virgo' "$OUT/state.out" && grep -q 'other_icd.dll' "$OUT/state.out" && r=1
verdict forced "-Force: the other registration saved under HKLM\\SOFTWARE\\virgo, virgo's in its place" $r
inst uninstall VIRGO_FAKE_OEM_INFS=oem3.inf -- -Uninstall
state
r=0; ((RC == 0)) && called uninstall "pnputil /delete-driver oem3.inf /uninstall /force" &&
	grep -q -E '^ +DLL +REG_SZ +other_icd\.dll$' "$OUT/state.out" && ! has ICD-DLL && ! has CERT-ROOT && ! has CERT-TP &&
	! grep -q -i 'MSOGL-before-virgo' "$OUT/state.out" && r=1
verdict uninstall "-Uninstall: the driver package deleted, DLL and certificate gone, the other ICD's registration back" $r

# 15. The real installer (ops_win.c) under Wine: Wine reports no test
#     signing; it must say so and change nothing.
reset
inst real REAL --
state
r=0; ((RC == 1)) && err real "test signing is off" && untouched && ! grep -q -i -E 'unhandled|page fault' "$OUT/real.err" && r=1
verdict real "the real virgo-install.exe under Wine: stops on test signing with its message, nothing changed" $r

echo "$pass passed, $fail failed"
((fail == 0))
