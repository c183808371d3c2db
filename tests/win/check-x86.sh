#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/win/check-x86.sh [WIN32_BUILD_DIR]: the Linux-side checks of the x86
# (32-bit) Windows build (default build/win32, made by `make win32`) and of
# Mesa's x86 DLLs (VIRGO_MESA_WIN32_BIN, default build/mesa-win32/install/bin,
# made by `make mesa-win32`).
#
#   - virgo.sys for x86 (tests/win/pecheck.py --arch x86): PE32, i386,
#     native, entry _DriverEntry@8, imports from ntoskrnl.exe and hal.dll
#     only and only functions an NT 5.2 kernel exports
#     (tests/win/kernel-exports-nt52-x86.txt: the image must load on
#     ReactOS and older Windows), no stack probes, signed, the catalog
#   - the x86 SEH frame (kmd/win/seh_x86.S) in a 32-bit Windows program
#     under 32-bit Wine, where this machine can run 32-bit x86 programs
#   - virgo_icd32.dll, its opengl32.dll and virgo-info.exe (x86): i386
#     images, system DLLs only, the ICD's Drv* exports, no WaitOnAddress
#     (Windows 8+ and absent from ReactOS: the DLL would not load there)
#
# PASS/FAIL lines (SKIP for what this machine cannot run), then
# "N passed, N failed"; non-zero exit on any failure.
set -uo pipefail

cd "$(dirname "$0")/../.."
export PATH="/usr/bin:/bin:$PATH"
B=${1:-build/win32}
W=$B/kmd/win
MESA_BIN=${VIRGO_MESA_WIN32_BIN:-build/mesa-win32/install/bin}
OUT=build/check-win32
mkdir -p "$OUT"
PY=/usr/bin/python3
OBJDUMP=i686-w64-mingw32-objdump
NM=i686-w64-mingw32-nm
MINGW=i686-w64-mingw32-gcc

pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
skip() { echo "SKIP: $*"; }
sub() {
	local log=$OUT/sub.log line status
	"$@" >"$log" 2>&1
	status=$?
	sed -i 's/\r$//' "$log"
	grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
	if [[ "$line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		pass=$((pass + BASH_REMATCH[1]))
		fail=$((fail + BASH_REMATCH[2] + (status != 0 && BASH_REMATCH[2] == 0)))
	else
		fail=$((fail + 1))
		echo "FAIL: $* ended without a summary (exit $status)"
	fi
}

# ---- the driver image --------------------------------------------------------------------------
SYS=$W/virgo.sys
UNSIGNED=$W/virgo-unsigned.sys
if [[ ! -f $UNSIGNED ]]; then
	bad "$UNSIGNED exists (make win32)"
	echo "$pass passed, $fail failed"
	exit 1
fi
[[ -f $SYS ]] || { bad "$SYS exists (signed: osslsigncode and openssl at build time)"; SYS=$UNSIGNED; }
sub "$PY" tests/win/pecheck.py --arch x86 $([[ $SYS == "$W/virgo.sys" ]] && echo --signed) \
	--kernel-exports tests/win/kernel-exports-nt52-x86.txt "$SYS"
entry=$($OBJDUMP -p "$SYS" | awk '/^AddressOfEntryPoint/ {print $2}')
base=$($OBJDUMP -p "$SYS" | awk '/^ImageBase/ {print $2}')
de=$($NM "$UNSIGNED" | awk '$3 == "_DriverEntry@8" {print $1}')
if [[ -n $entry && -n $de && $((16#$de - 16#$base)) -eq $((16#$entry)) ]]; then
	ok "the entry point is DriverEntry, stdcall (rva 0x$entry)"
else
	bad "the entry point is DriverEntry (entry '$entry', _DriverEntry@8 '$de', base '$base')"
fi
if $OBJDUMP -d "$SYS" | grep -q -i -E 'call.*(chkstk|stack_chk|alloca)'; then
	bad "no calls to stack probes in the code"
else
	ok "no calls to stack probes in the code"
fi
if [[ -f $W/virgo.cat && -f $W/testcert/virgo-test.crt ]] && command -v osslsigncode >/dev/null; then
	if osslsigncode verify -CAfile "$W/testcert/virgo-test.crt" -catalog "$W/virgo.cat" -in "$SYS" 2>&1 |
		grep -q '^Succeeded'; then
		ok "virgo.cat (x86) covers virgo.sys, signed with the test certificate"
	else
		bad "virgo.cat (x86) covers virgo.sys"
	fi
else
	bad "the x86 package (virgo.cat, the test certificate) was made (osslsigncode, openssl)"
fi

# ---- the x86 SEH frame in a 32-bit program -------------------------------------------------------
# 32-bit Wine needs a kernel that runs 32-bit x86 programs (IA32 emulation);
# some virtual machines' kernels are built without it. A 100-byte static
# i386 program that exits 0 tells.
runs_i386() {
	"$PY" - "$OUT/exit0-i386" <<'EOF'
import os, struct, sys
code = bytes([0xB8, 1, 0, 0, 0, 0x31, 0xDB, 0xCD, 0x80])  # exit(0): eax=1, ebx=0, int 0x80
base, hdr = 0x08048000, 52 + 32
ehdr = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, base + hdr, 52, 0, 0, 52, 32, 1, 0, 0, 0)
phdr = struct.pack("<IIIIIIII", 1, 0, base, base, hdr + len(code), hdr + len(code), 5, 0x1000)
open(sys.argv[1], "wb").write(ehdr + phdr + code)
os.chmod(sys.argv[1], 0o755)
EOF
	"$OUT/exit0-i386" 2>/dev/null
}
WINE32=/usr/lib/wine/wine
if ! runs_i386; then
	skip "the x86 SEH frame and the 32-bit GL programs under 32-bit Wine: this machine's kernel runs no 32-bit x86 program (IA32 emulation is off: a static i386 program fails with 'Exec format error'), so 32-bit Wine cannot start here; they run on ReactOS instead (make check-reactos)"
elif [[ ! -x $WINE32 ]]; then
	skip "the x86 SEH frame under 32-bit Wine: no 32-bit Wine (dpkg --add-architecture i386; apt-get install wine32)"
elif $MINGW -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/test_seh32.exe" tests/win/test_seh.c kmd/win/seh_x86.S \
	2>"$OUT/mingw.log"; then
	export WINEPREFIX=$PWD/$OUT/wineprefix32 WINEARCH=win32 WINEDEBUG=-all
	sub timeout 300 "$WINE32" "$OUT/test_seh32.exe"
else
	bad "tests/win/test_seh.c builds for x86 with seh_x86.S"
	sed 's/^/    /' "$OUT/mingw.log" | tail -10
fi

# ---- the user-mode images -----------------------------------------------------------------------
SYSTEM_DLLS='kernel32.dll|user32.dll|gdi32.dll|advapi32.dll|msvcrt.dll|ws2_32.dll|setupapi.dll|cfgmgr32.dll|crypt32.dll|opengl32.dll|shell32.dll|ole32.dll|version.dll|ntdll.dll|dbghelp.dll|api-ms-win-[a-z0-9-]+\.dll'
pe_imports() { $OBJDUMP -p "$1" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u; }
pe_exports() { $OBJDUMP -p "$1" | sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$/p' | awk 'NR > 1 && NF >= 3 { print $3 }'; }
check_pe32() { # NAME FILE dll|console [PACKAGE-DLL...]
	local name=$1 f=$2 kind=$3 imports extra p is_dll=0 d
	shift 3
	imports=$(pe_imports "$f")
	extra=$(echo "$imports" | grep -v -x -E "$SYSTEM_DLLS")
	for d in "$@"; do extra=$(echo "$extra" | grep -v -x -F "$d"); done
	extra=$(echo "$extra" | grep -v -x '' | paste -sd ' ')
	[[ -n $imports && -z $extra ]] && ok "$name (x86) imports Windows system DLLs only" ||
		bad "$name (x86) imports Windows system DLLs only (also: ${extra:-nothing at all})"
	p=$($OBJDUMP -p "$f")
	echo "$p" | sed -n '/^Characteristics/,/^$/p' | grep -q -w DLL && is_dll=1
	local want_dll=0
	[[ $kind == dll ]] && want_dll=1
	if $OBJDUMP -f "$f" | grep -q 'architecture: i386,' && ((is_dll == want_dll)); then
		ok "$name is an i386 $kind image"
	else
		bad "$name is an i386 $kind image"
	fi
	if $OBJDUMP -p "$f" | grep -q -w -E 'WaitOnAddress|WakeByAddressAll|WakeByAddressSingle'; then
		bad "$name does not import WaitOnAddress (Windows 8+, absent from ReactOS)"
	else
		ok "$name does not import WaitOnAddress (loads on ReactOS and before Windows 8)"
	fi
}
INFO=$B/tools/virgo-info/virgo-info.exe
[[ -f $INFO ]] && check_pe32 virgo-info.exe "$INFO" console || bad "$INFO exists (make win32)"
if [[ -f $MESA_BIN/virgo_icd32.dll && -f $MESA_BIN/opengl32.dll ]]; then
	check_pe32 virgo_icd32.dll "$MESA_BIN/virgo_icd32.dll" dll
	check_pe32 opengl32.dll "$MESA_BIN/opengl32.dll" dll virgo_icd32.dll
	exports=$(pe_exports "$MESA_BIN/virgo_icd32.dll")
	miss=()
	for f in DrvCopyContext DrvCreateContext DrvCreateLayerContext DrvDeleteContext DrvDescribeLayerPlane \
		DrvDescribePixelFormat DrvGetLayerPaletteEntries DrvGetProcAddress DrvPresentBuffers \
		DrvRealizeLayerPalette DrvReleaseContext DrvSetCallbackProcs DrvSetContext DrvSetLayerPaletteEntries \
		DrvSetPixelFormat DrvShareLists DrvSwapBuffers DrvSwapLayerBuffers DrvValidateVersion; do
		grep -q -x -F "$f" <<<"$exports" || miss+=("$f")
	done
	((${#miss[@]} == 0)) && ok "virgo_icd32.dll exports the 19 Drv* functions, undecorated" ||
		bad "virgo_icd32.dll exports the ICD interface (missing: ${miss[*]})"
else
	bad "virgo_icd32.dll and opengl32.dll are built in $MESA_BIN (make mesa-win32)"
fi

echo "$pass passed, $fail failed"
((fail == 0))
