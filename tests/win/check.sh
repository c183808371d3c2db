#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/win/check.sh [WIN64_BUILD_DIR]: the Linux-side checks of the Windows
# kernel driver and its package (default build dir: build/win64, made by a
# MinGW-w64 cross build that includes kmd/win).
#
#   - virgo.sys as a kernel image (tests/win/pecheck.py and binutils):
#     x86_64, native subsystem, entry point = DriverEntry, imports from
#     ntoskrnl.exe and hal.dll only, no writable+executable section, no
#     stack probes, checksum, signature present
#   - the signature (osslsigncode verify, page hashes), the catalog
#     (osslsigncode verify -catalog; the INF's hash in it)
#   - virgo.inf, source and packaged (tests/win/infcheck.py): the match by
#     class (CC_0380, nothing a VGA-class virtio-gpu reports), the SDDL,
#     the DMA-remapping opt-outs
#   - the request decoding and status mapping (uapi/ioctl_decode.c,
#     tests/uapi), natively under ASan/UBSan (build/asan)
#   - with Wine (wine64): the same test as a Windows program against ntdll's
#     RtlNtStatusToDosError, the driver's SEH frame (kmd/win/seh_x64.S)
#     catching faults, and wintrust reading the catalog
#   - the package (scripts/dist.sh into build/check-win/dist): every part,
#     checksums, the zip, CR LF text, no key; complete (no MISSING.txt) when
#     Mesa's Windows build is there (VIRGO_MESA_WIN_BIN, default
#     build/mesa-win64/install/bin)
#   - the installer (virgo-install.exe) under Wine with a test double for
#     pnputil, bcdedit and the device (tests/win/install-check.sh)
#   - the user-mode images (virgo_icd64.dll, opengl32.dll, virgo-info.exe,
#     virgo-install.exe):
#     system DLL imports only, x86-64, DLL/console, ASLR+DEP; the ICD's Drv*
#     exports; opengl32.dll's gl*/wgl* exports against Windows' list
#   - virgo-info.exe under Wine: no device (exit 1, one line), and through a
#     private virgo-host (VIRGO_HOST, default build/native/host/virgo-host) on
#     a private Xvfb with the packaged DLLs: uAPI version, capsets,
#     GL_RENDERER "virgo (" of a legacy and a core context; --system
#     (System32's opengl32, the MSOGL registration, GALLIUM_DRIVER); with
#     Wine's own opengl32: exit 4. Needs the Mesa DLLs and virgo-host, else
#     SKIP.
#   - the ICD imports no WSACleanup (its transport closes inside DllMain)
#   - no private key in the repository
#
# Prints PASS/FAIL lines (SKIP for what this machine cannot run) and ends
# with "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/../.."
export PATH="/usr/bin:/bin:$PATH"
B=${1:-build/win64}
W=$B/kmd/win
OUT=build/check-win
mkdir -p "$OUT"

pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
skip() { echo "SKIP: $*"; }
check() { # check "what" command...
	local what=$1
	shift
	if "$@" >"$OUT/last.log" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/    /' "$OUT/last.log" | tail -20; fi
}
# Runs a sub-check that prints its own PASS/FAIL lines and "N passed, N failed".
sub() {
	local log=$OUT/sub.log line p f status
	"$@" >"$log" 2>&1
	status=$?
	sed -i 's/\r$//' "$log" # Windows programs end their lines with CR LF
	grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
	if [[ "$line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
		((status != 0 && f == 0)) && f=1
	else
		p=0 f=1
		echo "FAIL: $* ended without a summary (exit $status)"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}

PY=/usr/bin/python3
OBJDUMP=x86_64-w64-mingw32-objdump
NM=x86_64-w64-mingw32-nm

# ---- the image -------------------------------------------------------------------
SYS=$W/virgo.sys
UNSIGNED=$W/virgo-unsigned.sys
if [[ ! -f "$UNSIGNED" ]]; then
	bad "$UNSIGNED exists (cross build with kmd/win: meson setup $B --cross-file cross/mingw-w64-x86_64.txt)"
	echo "$pass passed, $fail failed"
	exit 1
fi
if [[ -f "$SYS" ]]; then
	sub "$PY" tests/win/pecheck.py --signed "$SYS"
else
	bad "$SYS exists (the signed image: osslsigncode and openssl needed at build time)"
	sub "$PY" tests/win/pecheck.py "$UNSIGNED"
	SYS=$UNSIGNED
fi

# binutils' view, as a cross-check of pecheck.py
dlls=$($OBJDUMP -p "$SYS" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u | tr '\n' ' ')
if [[ -n "$dlls" && -z "$(echo "$dlls" | tr ' ' '\n' | grep -v -x -e '' -e ntoskrnl.exe -e hal.dll)" ]]; then
	ok "objdump -p: imports from $dlls only"
else
	bad "objdump -p: imports from ntoskrnl.exe/hal.dll only (got: $dlls)"
fi
entry=$($OBJDUMP -p "$SYS" | awk '/^AddressOfEntryPoint/ {print $2}')
base=$($OBJDUMP -p "$SYS" | awk '/^ImageBase/ {print $2}')
de=$($NM "$UNSIGNED" | awk '$3 == "DriverEntry" {print $1}')
if [[ -n "$entry" && -n "$de" && $((16#$de - 16#$base)) -eq $((16#$entry)) ]]; then
	ok "the entry point is DriverEntry (rva 0x$entry)"
else
	bad "the entry point is DriverEntry (entry '$entry', DriverEntry '$de', base '$base')"
fi
if $OBJDUMP -d "$SYS" | grep -q -i -E 'call.*(chkstk|stack_chk)'; then
	bad "no calls to stack probes in the code"
else
	ok "no calls to stack probes in the code"
fi

# ---- signature and catalog ----------------------------------------------------------
CRT=$W/testcert/virgo-test.crt
if [[ "$SYS" == "$W/virgo.sys" && -f "$CRT" ]] && command -v osslsigncode >/dev/null; then
	osslsigncode verify -CAfile "$CRT" -in "$SYS" >"$OUT/verify.log" 2>&1
	if grep -q '^Succeeded' "$OUT/verify.log"; then ok "osslsigncode verify: virgo.sys is signed by the test certificate"; else bad "osslsigncode verify virgo.sys"; tail -5 "$OUT/verify.log"; fi
	if grep -q -E '^Message digest algorithm *: *SHA256' "$OUT/verify.log" &&
		grep -q -i -E '^Page hash' "$OUT/verify.log"; then
		ok "Authenticode SHA-256 with page hashes"
	else
		bad "Authenticode SHA-256 with page hashes"
	fi
	osslsigncode verify -CAfile "$CRT" -catalog "$W/virgo.cat" -in "$SYS" >"$OUT/verify-cat.log" 2>&1
	if grep -q '^Succeeded' "$OUT/verify-cat.log" && ! grep -q -i 'verification: failed' "$OUT/verify-cat.log"; then
		ok "osslsigncode verify -catalog: virgo.cat is signed and covers virgo.sys"
	else
		bad "osslsigncode verify -catalog virgo.cat virgo.sys"
		tail -5 "$OUT/verify-cat.log"
	fi
	# an image changed by one byte must not pass
	"$PY" -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[0x400] ^= 0xff
open(sys.argv[2], "wb").write(d)' "$SYS" "$OUT/tampered.sys"
	osslsigncode verify -CAfile "$CRT" -catalog "$W/virgo.cat" -in "$OUT/tampered.sys" >"$OUT/verify-neg.log" 2>&1
	if ! grep -q '^Succeeded' "$OUT/verify-neg.log"; then
		ok "the catalog does not cover an image changed by one byte"
	else
		bad "the catalog does not cover a different image"
	fi
	inf_tag=$(sha1sum "$W/virgo.inf" | cut -c1-40 | tr 'a-f' 'A-F')
	check "virgo.cat lists virgo.inf (SHA-1 $inf_tag)" "$PY" -c '
import sys
tag = (sys.argv[2] + "\0").encode("utf-16-le")
sys.exit(0 if tag in open(sys.argv[1], "rb").read() else 1)' "$W/virgo.cat" "$inf_tag"
	check "the test certificate is for code signing, and self-signed" sh -c \
		"openssl x509 -in '$CRT' -noout -ext extendedKeyUsage | grep -q 'Code Signing' && openssl verify -CAfile '$CRT' '$CRT' >/dev/null"
else
	bad "signed package and test certificate present ($W/virgo.sys, $CRT)"
fi

# ---- INF --------------------------------------------------------------------------------
sub "$PY" tests/win/infcheck.py kmd/win/virgo.inf
[[ -f "$W/virgo.inf" ]] && sub "$PY" tests/win/infcheck.py "$W/virgo.inf"

# ---- request decoding, natively (tests/uapi, the ASan build) ------------------------------
if [[ -x build/asan/tests/uapi/test-ioctl-decode ]]; then
	sub build/asan/tests/uapi/test-ioctl-decode
else
	bad "build/asan/tests/uapi/test-ioctl-decode is built (make asan)"
fi

# ---- Windows programs under Wine ---------------------------------------------------------------
WINE=
for w in wine64 /usr/lib/wine/wine64; do
	if command -v "$w" >/dev/null 2>&1; then WINE=$(command -v "$w"); break; fi
done
MINGW=x86_64-w64-mingw32-gcc
if [[ -n "$WINE" ]] && command -v $MINGW >/dev/null; then
	export WINEPREFIX=$PWD/$OUT/wineprefix WINEDEBUG=-all
	mkdir -p "$WINEPREFIX"
	if [[ -f $B/tests/uapi/test_ioctl_decode.exe ]] &&
		$MINGW -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/test_seh.exe" tests/win/test_seh.c kmd/win/seh_x64.S &&
		$MINGW -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/test_cat.exe" tests/win/test_cat.c -lwintrust -lcrypt32 \
		2>"$OUT/mingw.log"; then
		sub timeout 120 "$WINE" "$B/tests/uapi/test_ioctl_decode.exe"
		sub timeout 60 "$WINE" "$OUT/test_seh.exe"
		if [[ -f "$W/virgo.cat" ]]; then
			sys_tag=$("$PY" -c '
import sys
sys.path.insert(0, "kmd/win")
import makecat
print(makecat.authenticode_digest(open(sys.argv[1], "rb").read()).hex().upper())' "$W/virgo.sys")
			catw="Z:$(readlink -f "$W/virgo.cat" | tr / '\\')"
			sub timeout 60 "$WINE" "$OUT/test_cat.exe" "$catw" "$inf_tag" "$sys_tag"
		fi
	else
		bad "the Wine test programs build with MinGW-w64"
		cat "$OUT/mingw.log"
	fi
else
	skip "Wine tests (SEH frame, ntdll status mapping, wintrust catalog): no wine64 here (apt-get install wine64)"
fi

# ---- the package (scripts/dist.sh) ----------------------------------------------------------------
# Mesa's Windows build (umd/mesa/build.sh windows) makes the ICD and
# opengl32.dll; without it the package is the driver part only, and the
# checks of the user-mode DLLs say SKIP.
MESA_BIN=${VIRGO_MESA_WIN_BIN:-build/mesa-win64/install/bin}
have_mesa=0
[[ -f $MESA_BIN/virgo_icd64.dll && -f $MESA_BIN/opengl32.dll ]] && have_mesa=1
INFO_EXE=$B/tools/virgo-info/virgo-info.exe
P=$OUT/dist/virgo-win64
INSTALL_EXE=$B/tools/virgo-install/virgo-install.exe
INSTALL_FAKE=$B/tools/virgo-install/virgo-install-fake.exe
DRIVER_PARTS=(virgo.sys virgo.inf virgo.cat virgo-test.cer virgo-install.exe install.cmd README.txt virgo-info.exe)
UMD_PARTS=(virgo_icd64.dll opengl32.dll)
if [[ -f "$W/virgo.sys" ]] && bash scripts/dist.sh --build "$B" --mesa "$MESA_BIN" --out "$OUT/dist" >"$OUT/dist.log" 2>&1; then
	have=1
	for f in "${DRIVER_PARTS[@]}" SHA256SUMS; do
		[[ -f "$P/$f" ]] || { have=0; echo "    missing $f"; }
	done
	((have)) && ok "dist: the driver package, certificate, installer, README and virgo-info.exe are in $P" || bad "dist: package contents"
	check "dist: the packaged files match their checksums" sh -c "cd '$P' && sha256sum -c --quiet SHA256SUMS"
	check "dist: the packaged virgo.inf is the one the catalog covers" cmp "$W/virgo.inf" "$P/virgo.inf"
	check "dist: the packaged virgo-info.exe is the one the cross build made" cmp "$INFO_EXE" "$P/virgo-info.exe"
	check "dist: no private key in the package or the zip" sh -c \
		"! grep -r -q -a 'PRIVATE KEY' '$P' '$OUT/dist/virgo-win64.zip' && ! ls '$P' | grep -q -E '\\.(key|pfx|p12)$'"
	check "dist: the text files have Windows line ends (CR LF)" "$PY" -c '
import sys
for f in sys.argv[1:]:
    d = open(f, "rb").read()
    if d.count(b"\n") == 0 or d.count(b"\n") != d.count(b"\r\n"):
        sys.exit(f + ": not CR LF throughout")' "$P/README.txt" "$P/install.cmd"
	check "dist: the zip holds exactly the package's files, byte for byte" "$PY" -c '
import os, sys, zipfile
pkg, zpath = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(pkg))
with zipfile.ZipFile(zpath) as z:
    znames = sorted(n for n in z.namelist())
    want = ["virgo-win64/" + n for n in names]
    if znames != want:
        sys.exit("zip: %s; folder: %s" % (znames, want))
    for n in names:
        if z.read("virgo-win64/" + n) != open(os.path.join(pkg, n), "rb").read():
            sys.exit(n + " differs")' "$P" "$OUT/dist/virgo-win64.zip"
	if ((have_mesa)); then
		have=1
		for f in "${UMD_PARTS[@]}"; do
			[[ -f "$P/$f" ]] || { have=0; echo "    missing $f"; }
			cmp -s "$MESA_BIN/$f" "$P/$f" || { have=0; echo "    $f is not $MESA_BIN/$f"; }
		done
		((have)) && ok "dist: virgo_icd64.dll and opengl32.dll from $MESA_BIN are in the package" || bad "dist: the user-mode DLLs"
		if [[ -f "$P/MISSING.txt" ]]; then
			bad "dist: the package is complete (MISSING.txt lists: $(grep '^  ' "$P/MISSING.txt" | tr -d '\r' | sed 's/^ *//; s/:.*//' | paste -sd ' '))"
		else
			ok "dist: the package is complete (no MISSING.txt)"
		fi
		got=$(ls "$P" | sort | paste -sd ' ')
		want=$(printf '%s\n' "${DRIVER_PARTS[@]}" "${UMD_PARTS[@]}" SHA256SUMS | sort | paste -sd ' ')
		if [[ $got == "$want" ]]; then ok "dist: the package holds these files and nothing else: $got"; else bad "dist: the package holds $got (want $want)"; fi
		# The strict mode that `make dist` can use once Mesa's build is a
		# prerequisite: a complete package passes it.
		check "dist: dist.sh --strict accepts the complete package" \
			bash scripts/dist.sh --build "$B" --mesa "$MESA_BIN" --out "$OUT/dist-strict" --strict
	else
		skip "dist: the ICD and opengl32.dll: $MESA_BIN has no virgo_icd64.dll/opengl32.dll (bash umd/mesa/build.sh windows); the package lists them in MISSING.txt"
	fi
else
	bad "scripts/dist.sh assembles the package"
	tail -5 "$OUT/dist.log" 2>/dev/null
fi
rm -rf "$OUT/dist-strict"

# ---- the installer --------------------------------------------------------------------------
# virgo-install.exe (tools/virgo-install), run by install.cmd. Its decisions
# run under Wine in tests/win/install-check.sh, with a test double for what
# only Windows answers (pnputil, bcdedit, the device and its driver); see
# there for what ran and what did not.
check "install.cmd runs virgo-install.exe from its folder with its arguments, as Administrator" sh -c \
	"grep -q '\"%~dp0virgo-install.exe\" %\*' kmd/win/install.cmd && grep -q 'net session' kmd/win/install.cmd"
check "dist: the packaged virgo-install.exe is the one the cross build made" cmp "$INSTALL_EXE" "$P/virgo-install.exe"
if [[ -f $INSTALL_FAKE && -f $P/virgo_icd64.dll ]]; then
	sub bash tests/win/install-check.sh "$P" "$INSTALL_FAKE" "$INSTALL_EXE"
else
	bad "the installer under Wine: needs $INSTALL_FAKE and the packaged virgo_icd64.dll (make win64 mesa-win64)"
fi

# ---- the user-mode PE images -------------------------------------------------------------------
# What a plain Windows 10 x64 has: the DLLs the ICD, opengl32.dll and
# virgo-info.exe may import. Anything else (libgcc_s*, libstdc++*,
# libwinpthread*, zlib1.dll: MinGW's runtime as DLLs) would be missing on
# the VM. api-ms-win-* are Windows' API sets (Windows 8 and later).
SYSTEM_DLLS='kernel32.dll|user32.dll|gdi32.dll|advapi32.dll|msvcrt.dll|ws2_32.dll|setupapi.dll|cfgmgr32.dll|crypt32.dll|opengl32.dll|shell32.dll|ole32.dll|version.dll|ntdll.dll|dbghelp.dll|api-ms-win-[a-z0-9-]+\.dll'
# pe_imports FILE: imported DLLs, lower case, one per line.
pe_imports() { $OBJDUMP -p "$1" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u; }
# pe_exports FILE: exported names, one per line.
pe_exports() { $OBJDUMP -p "$1" | sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$/p' | awk 'NR > 1 && NF >= 3 { print $3 }'; }
# check_pe NAME FILE KIND [DLL...]: KIND is dll or console; the DLLs named
# after it are package DLLs that FILE may import (they ship beside it).
check_pe() {
	local name=$1 f=$2 kind=$3 imports extra p sub is_dll=0 arch_ok=0 d
	shift 3
	imports=$(pe_imports "$f")
	extra=$(echo "$imports" | grep -v -x -E "$SYSTEM_DLLS")
	for d in "$@"; do extra=$(echo "$extra" | grep -v -x -F "$d"); done
	extra=$(echo "$extra" | grep -v -x '' | paste -sd ' ')
	if [[ -n $imports && -z $extra ]]; then
		ok "$name imports Windows system DLLs only$( (($#)) && echo " and $*") ($(echo "$imports" | paste -sd ' '))"
	else
		bad "$name imports Windows system DLLs only (also: ${extra:-nothing at all})"
	fi
	p=$($OBJDUMP -p "$f")
	sub=$(echo "$p" | sed -n 's/^Subsystem[[:space:]].*(\(.*\))$/\1/p')
	echo "$p" | sed -n '/^Characteristics/,/^$/p' | grep -q -w DLL && is_dll=1
	$OBJDUMP -f "$f" | grep -q 'architecture: i386:x86-64' && arch_ok=1
	case $kind in
	console)
		if ((arch_ok && !is_dll)) && [[ $sub == "Windows CUI" ]]; then
			ok "$name is an x86-64 console program (subsystem $sub)"
		else
			bad "$name is an x86-64 console program (x86-64: $arch_ok, DLL: $is_dll, subsystem '$sub')"
		fi
		;;
	dll)
		# A DLL's subsystem is not used; a Windows one (not native, not
		# EFI) is what a user-mode DLL carries.
		if ((arch_ok && is_dll)) && [[ $sub == "Windows CUI" || $sub == "Windows GUI" ]]; then
			ok "$name is an x86-64 user-mode DLL (subsystem $sub)"
		else
			bad "$name is an x86-64 user-mode DLL (x86-64: $arch_ok, DLL: $is_dll, subsystem '$sub')"
		fi
		;;
	esac
	if echo "$p" | sed -n '/^DllCharacteristics/,/^SizeOf/p' | grep -q -w DYNAMIC_BASE &&
		echo "$p" | sed -n '/^DllCharacteristics/,/^SizeOf/p' | grep -q -w NX_COMPAT; then
		ok "$name is relocatable and NX-compatible (ASLR, DEP)"
	else
		bad "$name is relocatable and NX-compatible (ASLR, DEP)"
	fi
}

if [[ -f $INFO_EXE ]]; then
	check_pe virgo-info.exe "$INFO_EXE" console
else
	bad "$INFO_EXE exists (tools/virgo-info in the cross build: make win64)"
fi
if [[ -f $INSTALL_EXE ]]; then
	check_pe virgo-install.exe "$INSTALL_EXE" console
else
	bad "$INSTALL_EXE exists (tools/virgo-install in the cross build: make win64)"
fi
if ((have_mesa)); then
	ICD=$MESA_BIN/virgo_icd64.dll GL32=$MESA_BIN/opengl32.dll
	check_pe virgo_icd64.dll "$ICD" dll
	# Mesa's opengl32.dll is linked to the ICD, which ships beside it.
	check_pe opengl32.dll "$GL32" dll virgo_icd64.dll

	# The ICD interface Windows' opengl32.dll looks up in a registered ICD
	# (Mesa's src/gallium/frontends/wgl/opengl32.def lists the same set).
	exports=$(pe_exports "$ICD")
	miss=()
	for f in DrvCopyContext DrvCreateContext DrvCreateLayerContext DrvDeleteContext DrvDescribeLayerPlane \
		DrvDescribePixelFormat DrvGetLayerPaletteEntries DrvGetProcAddress DrvPresentBuffers \
		DrvRealizeLayerPalette DrvReleaseContext DrvSetCallbackProcs DrvSetContext DrvSetLayerPaletteEntries \
		DrvSetPixelFormat DrvShareLists DrvSwapBuffers DrvSwapLayerBuffers DrvValidateVersion; do
		grep -q -x -F "$f" <<<"$exports" || miss+=("$f")
	done
	if ((${#miss[@]} == 0)); then
		ok "virgo_icd64.dll exports the 19 Drv* functions of the ICD interface"
	else
		bad "virgo_icd64.dll exports the ICD interface (missing: ${miss[*]})"
	fi

	# The transport's vtp_close runs in DllMain when the ICD unloads, where
	# WSACleanup must not be called (Microsoft's WSACleanup page: it can
	# deadlock there): the ICD must not import it at all.
	if $OBJDUMP -p "$ICD" | grep -q -w WSACleanup; then
		bad "virgo_icd64.dll does not import WSACleanup (it would run under the loader lock)"
	else
		ok "virgo_icd64.dll does not import WSACleanup (Winsock is started once and left to process exit)"
	fi

	# opengl32.dll stands in for Windows' own: it must export every GL 1.1
	# and wgl* function a program links against. MinGW's import library of
	# Windows' opengl32.dll is the list, less two undocumented private
	# entries (glDebugEntry, wglGetDefaultProcAddress) and the Glmf*
	# metafile functions that no ICD provides.
	libgl=$(x86_64-w64-mingw32-gcc -print-file-name=libopengl32.a 2>/dev/null)
	if [[ -f $libgl ]]; then
		want=$($NM "$libgl" 2>/dev/null | awk '$2 == "T" { print $3 }' | grep -E '^(gl|wgl)[A-Z]' |
			grep -v -x -e glDebugEntry -e wglGetDefaultProcAddress | sort -u)
		exports=$(pe_exports "$GL32" | sort -u)
		miss=$(comm -23 <(echo "$want") <(echo "$exports") | paste -sd ' ')
		ngl=$(grep -c '^gl' <<<"$want") nwgl=$(grep -c '^wgl' <<<"$want")
		if ((ngl >= 300 && nwgl >= 20)) && [[ -z $miss ]]; then
			ok "opengl32.dll exports all $ngl GL 1.1 functions and $nwgl wgl* functions of Windows' opengl32.dll"
		else
			bad "opengl32.dll exports Windows' opengl32.dll's gl*/wgl* functions (listed $ngl/$nwgl; missing: ${miss:-none})"
		fi
	else
		bad "MinGW-w64's libopengl32.a found (the list of Windows' opengl32.dll exports)"
	fi
else
	skip "virgo_icd64.dll and opengl32.dll (imports, exports, image type): not built in $MESA_BIN (bash umd/mesa/build.sh windows)"
fi

# ---- virgo-info.exe under Wine -------------------------------------------------------------------
# (a) nothing to talk to: exit status 1 and one clear line, no crash, no
#     window; (b) a private virgo-host on a free loopback port and the
#     packaged DLLs beside the program: the uAPI version, the capsets and
#     GL_RENDERER "virgo (..." of both contexts; and the same program with
#     Wine's own opengl32 (GLX on Xvfb): exit status 4, "not virgo's".
WINESERVER=
for s in wineserver /usr/lib/wine/wineserver "$(dirname "${WINE:-/x}")/wineserver"; do
	if command -v "$s" >/dev/null 2>&1; then WINESERVER=$(command -v "$s"); break; fi
done
XVFB_PID= HOST_PID= SOCK_DIR=
# Stops what this section started, in the order that lets each go: the Wine
# server with the prefix's processes, the host, the display. Safe to call
# twice; runs on every way out.
cleanup_win() {
	if [[ -n $WINESERVER && -n ${WINEPREFIX:-} && -d ${WINEPREFIX:-/nonexistent} ]]; then
		timeout 20 "$WINESERVER" -k >/dev/null 2>&1
		timeout 20 "$WINESERVER" -w >/dev/null 2>&1
	fi
	if [[ -n $HOST_PID ]] && kill -0 "$HOST_PID" 2>/dev/null; then
		kill -KILL "$HOST_PID" 2>/dev/null
		wait "$HOST_PID" 2>/dev/null
	fi
	HOST_PID=
	if [[ -n $XVFB_PID ]] && kill -0 "$XVFB_PID" 2>/dev/null; then
		kill -TERM "$XVFB_PID" 2>/dev/null
		for ((i = 0; i < 50; i++)); do kill -0 "$XVFB_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$XVFB_PID" 2>/dev/null
		wait "$XVFB_PID" 2>/dev/null
	fi
	XVFB_PID=
	[[ -n $SOCK_DIR ]] && rm -rf "$SOCK_DIR"
	SOCK_DIR=
}
trap cleanup_win EXIT
trap 'cleanup_win; exit 130' INT TERM

RUN=$OUT/virgo-info
# run_info NAME DIR [VAR=VALUE...] -- [ARGS...]: runs DIR/virgo-info.exe
# under Wine with the environment given, at most 120 s; $RUN/NAME.out and
# .err without CRs; sets RC.
run_info() {
	local name=$1 dir=$2 envs=()
	shift 2
	while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
	shift
	timeout -k 5 120 env "${envs[@]}" "$WINE" "$dir/virgo-info.exe" "$@" >"$RUN/$name.out" 2>"$RUN/$name.err"
	RC=$?
	sed -i 's/\r$//' "$RUN/$name.out" "$RUN/$name.err"
}
# no_crash NAME: Wine reports unhandled exceptions on stderr.
no_crash() { ! grep -q -i -E 'unhandled (exception|page fault)|wine: .*(crash|exception)|backtrace:' "$RUN/$1.err"; }
# A loopback port that nothing listens on (bound, then released).
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

if [[ -z $WINE || -z $WINESERVER ]]; then
	skip "virgo-info.exe under Wine: no wine64/wineserver here (apt-get install wine64)"
elif [[ ! -f $INFO_EXE ]]; then
	bad "virgo-info.exe under Wine: $INFO_EXE was not built"
else
	rm -rf "$RUN"
	mkdir -p "$RUN/alone"
	cp "$INFO_EXE" "$RUN/alone/"
	# No Mono or Gecko: a new prefix would offer to download them.
	BASE_OVR="mscoree,mshtml=d"
	export WINEPREFIX=${WINEPREFIX:-$PWD/$OUT/wineprefix} WINEDEBUG=-all

	run_info help "$RUN/alone" WINEDLLOVERRIDES="$BASE_OVR" -- --help
	check "virgo-info --help: usage on stdout, exit status 0" sh -c "[ $RC = 0 ] && grep -q '^usage: virgo-info' '$RUN/help.out'"
	run_info badarg "$RUN/alone" WINEDLLOVERRIDES="$BASE_OVR" -- --frobnicate
	check "virgo-info with an unknown argument: exit status 2 and a message" sh -c \
		"[ $RC = 2 ] && grep -q \"^virgo-info: unknown argument '--frobnicate'\" '$RUN/badarg.err'"

	# (a) No display either: the device is asked before any window exists.
	port=$(free_port)
	run_info nodev-tcp "$RUN/alone" -u DISPLAY WINEDLLOVERRIDES="$BASE_OVR" VIRGO_TRANSPORT="tcp:127.0.0.1:$port" --
	last=$(tail -n 1 "$RUN/nodev-tcp.err")
	if ((RC == 1)) && [[ $last == "virgo-info: no virgo device reachable through tcp:127.0.0.1:$port: "* ]] &&
		(($(grep -c '^virgo-info:' "$RUN/nodev-tcp.err") == 1)) && no_crash nodev-tcp; then
		ok "virgo-info with nothing on tcp:127.0.0.1:$port: exit status 1, \"${last#virgo-info: }\""
	else
		bad "virgo-info with nothing listening: exit status $RC (want 1), stderr: $(paste -sd '|' "$RUN/nodev-tcp.err")"
	fi
	run_info nodev-driver "$RUN/alone" -u DISPLAY -u VIRGO_TRANSPORT -u VIRGO_SOCKET WINEDLLOVERRIDES="$BASE_OVR" --
	last=$(tail -n 1 "$RUN/nodev-driver.err")
	if ((RC == 1)) && [[ $last == "virgo-info: no virgo device reachable through the virgo kernel driver: "* ]] &&
		no_crash nodev-driver; then
		ok "virgo-info without the kernel driver: exit status 1, \"${last#virgo-info: }\""
	else
		bad "virgo-info without the kernel driver: exit status $RC (want 1), stderr: $(paste -sd '|' "$RUN/nodev-driver.err")"
	fi

	HOST=${VIRGO_HOST:-build/native/host/virgo-host}
	if ((!have_mesa)); then
		skip "virgo-info.exe through the ICD: no virgo_icd64.dll/opengl32.dll in $MESA_BIN (bash umd/mesa/build.sh windows)"
	elif [[ ! -f $P/opengl32.dll || ! -f $P/virgo-info.exe ]]; then
		bad "virgo-info.exe through the ICD: the package in $P is incomplete"
	elif [[ ! -x $HOST ]]; then
		skip "virgo-info.exe through the ICD: $HOST is not built (make native)"
	elif ! command -v Xvfb >/dev/null; then
		skip "virgo-info.exe through the ICD: no Xvfb here (apt-get install xvfb)"
	else
		# (b) Xvfb picks a free display itself (-displayfd) and says which
		# once it takes clients.
		Xvfb -displayfd 9 -screen 0 640x480x24 +extension GLX -nolisten tcp -noreset \
			9>"$RUN/display" >"$RUN/xvfb.log" 2>&1 &
		XVFB_PID=$!
		SOCK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/virgo-check-win.XXXXXX")
		# --tcp 0: a free port; a private UNIX socket, not the default one
		# another host may hold.
		rm -f "$RUN/host.out" # one left from the last run would give its port
		"$HOST" --tcp 0 --socket "$SOCK_DIR/virgo.sock" >"$RUN/host.out" 2>"$RUN/host.err" &
		HOST_PID=$!
		for ((i = 0; i < 300; i++)); do
			[[ -s $RUN/display ]] && grep -q 'ready on' "$RUN/host.out" 2>/dev/null && break
			kill -0 "$XVFB_PID" 2>/dev/null && kill -0 "$HOST_PID" 2>/dev/null || break
			sleep 0.1
		done
		port=$(sed -n 's/.*ready on .* and 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$RUN/host.out" | head -n 1)
		if [[ ! -s $RUN/display || -z $port ]]; then
			bad "Xvfb and virgo-host start within 30 s (display: '$(head -n 1 "$RUN/display" 2>/dev/null)', port: '$port')"
			tail -n 5 "$RUN/host.err" "$RUN/xvfb.log" 2>/dev/null | sed 's/^/    /'
		else
			D=:$(head -n 1 "$RUN/display")
			# The prefix's Wine server and desktop were started without a
			# display (above, and by the earlier Wine tests): windows need
			# ones that know this display.
			timeout 20 "$WINESERVER" -k >/dev/null 2>&1
			timeout 20 "$WINESERVER" -w >/dev/null 2>&1
			GLENV=(DISPLAY="$D" VIRGO_TRANSPORT="tcp:127.0.0.1:$port" WINEDLLOVERRIDES="$BASE_OVR;opengl32=n,b")
			# From the package folder: virgo-info.exe with opengl32.dll and
			# virgo_icd64.dll beside it, the app-local way README.txt gives.
			run_info text "$P" "${GLENV[@]}" --
			uapi=$(sed -n 's/^#define VIRGO_UAPI_VERSION \([0-9]*\)u.*/\1/p' include/virgo/uapi.h)
			o=$RUN/text.out
			if ((RC == 0)) && no_crash text; then
				ok "virgo-info through virgo-host and the packaged ICD: exit status 0"
			else
				bad "virgo-info through virgo-host and the packaged ICD: exit status $RC"
				sed 's/^/    /' "$RUN/text.err" | tail -n 10
			fi
			check "virgo-info prints the device's uAPI version ($uapi)" grep -q -E "^  uAPI version +$uapi \(virgo-info speaks $uapi\)$" "$o"
			check "virgo-info prints virgo-host's capsets: VIRGL v1 and VIRGL2 v2, sizes > 0" sh -c \
				"grep -q -E '^  id 1 VIRGL +version 1, [1-9][0-9]* bytes$' '$o' &&
				 grep -q -E '^  id 2 VIRGL2 +version 2, [1-9][0-9]* bytes$' '$o' &&
				 grep -q -E '^  capset ids +0x6 \(VIRGL, VIRGL2\)$' '$o'"
			check "virgo-info: GL_RENDERER of the legacy and the core context starts \"virgo (\"" sh -c \
				"[ \$(grep -c -E '^  GL_RENDERER +virgo \(' '$o') = 2 ]"
			check "virgo-info: a core context through wglCreateContextAttribsARB (GL_VERSION ... Core Profile)" \
				grep -q -E '^  GL_VERSION +[34]\.[0-9]+ \(Core Profile\)' "$o"
			check "virgo-info loads the app-local opengl32.dll and virgo_icd64.dll from the package folder" sh -c \
				"grep -q -i -E '^  opengl32.dll +.*virgo-win64.opengl32\\.dll$' '$o' && grep -q -i -E '^  virgo_icd64.dll +.*virgo-win64.virgo_icd64\\.dll$' '$o'"
			sed -n '/^  GL_RENDERER/{s/^ */    /;p;q}' "$o"

			run_info json "$P" "${GLENV[@]}" -- --json
			check "virgo-info --json: one JSON object with the same facts" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
dev, gl = d["device"], d["opengl"]
assert d["error"] is None, d["error"]
assert dev["uapi_version"] == int(sys.argv[2]), dev
assert [(c["id"], c["version"]) for c in dev["capsets"]] == [(1, 1), (2, 2)], dev["capsets"]
assert all(c["size"] > 0 for c in dev["capsets"]), dev["capsets"]
for ctx in ("legacy", "core"):
    assert gl[ctx]["renderer"].startswith("virgo ("), gl[ctx]
    assert gl[ctx]["extensions"] > 0, gl[ctx]
assert "Core Profile" in gl["core"]["version"], gl["core"]' "$RUN/json.out" "$uapi"

			# --system from the package folder: Windows' opengl32 from System32
			# (under Wine: Wine's own, which loads no ICD), past the copy
			# beside the .exe, with the registration and GALLIUM_DRIVER that
			# decide the system-wide path.
			timeout 60 "$WINE" reg add 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\OpenGLDrivers\MSOGL' \
				/v DLL /t REG_SZ /d virgo_icd64.dll /f >/dev/null 2>&1
			timeout 60 "$WINE" reg add 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\OpenGLDrivers\MSOGL' \
				/v Flags /t REG_DWORD /d 3 /f >/dev/null 2>&1
			run_info system "$P" "${GLENV[@]}" GALLIUM_DRIVER=llvmpipe -- --system
			o=$RUN/system.out
			if ((RC == 4)) && no_crash system &&
				grep -q -i -E '^  opengl32.dll +c:.windows.system32.opengl32\.dll$' "$o" &&
				grep -q -E '^  OpenGLDrivers.MSOGL +DLL=virgo_icd64\.dll \(NOT in System32\)$' "$o" &&
				grep -q -E '^    Flags +3$' "$o" && grep -q -E '^  GALLIUM_DRIVER here +llvmpipe$' "$o" &&
				grep -q "Windows' opengl32.dll did not load virgo_icd64.dll" "$RUN/system.err"; then
				ok "virgo-info --system from the package folder: System32's opengl32.dll (Wine's: exit 4), the MSOGL registration, GALLIUM_DRIVER"
			else
				bad "virgo-info --system: exit status $RC (want 4), stdout: $(paste -sd '|' "$o" | cut -c1-600), stderr: $(paste -sd '|' "$RUN/system.err")"
			fi
			timeout 60 "$WINE" reg delete 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\OpenGLDrivers\MSOGL' /f >/dev/null 2>&1

			# Wine's own opengl32 (GLX on Xvfb): a context, but not virgo's.
			run_info other "$RUN/alone" DISPLAY="$D" VIRGO_TRANSPORT="tcp:127.0.0.1:$port" \
				WINEDLLOVERRIDES="$BASE_OVR;opengl32=b" --
			last=$(tail -n 1 "$RUN/other.err")
			if ((RC == 4)) && [[ $last == "virgo-info: the OpenGL context is not virgo's"* ]] && no_crash other; then
				ok "virgo-info on another OpenGL (Wine's): exit status 4, \"${last:0:80}...\""
			else
				bad "virgo-info on another OpenGL (Wine's): exit status $RC (want 4), stderr: $(paste -sd '|' "$RUN/other.err")"
			fi

			# Every client gone: the host stops cleanly and finds nothing
			# left behind (it exits non-zero on leaks).
			timeout 20 "$WINESERVER" -k >/dev/null 2>&1
			timeout 20 "$WINESERVER" -w >/dev/null 2>&1
			kill -TERM "$HOST_PID"
			for ((i = 0; i < 300; i++)); do kill -0 "$HOST_PID" 2>/dev/null || break; sleep 0.1; done
			if kill -0 "$HOST_PID" 2>/dev/null; then
				bad "virgo-host stops within 30 s of SIGTERM after the virgo-info runs"
			else
				wait "$HOST_PID"
				rc=$?
				HOST_PID=
				if ((rc == 0)); then
					ok "virgo-host clean exit after the virgo-info runs ($(grep -m 1 'shutdown:' "$RUN/host.out" | sed 's/^virgo-host: shutdown: //' | cut -c1-60)...)"
				else
					bad "virgo-host clean exit after the virgo-info runs (status $rc: $(grep -m 1 'shutdown:' "$RUN/host.out"))"
				fi
			fi
		fi
	fi
	cleanup_win
fi

# ---- hygiene ----------------------------------------------------------------------------------
if git rev-parse --git-dir >/dev/null 2>&1; then
	keys=$(git ls-files -z | xargs -0 grep -l -E 'BEGIN ([A-Z]+ )?PRIVATE KEY' 2>/dev/null | grep -v '^tests/win/check.sh$' || true)
	keys+=$(git ls-files | grep -E '\.(key|pfx|p12|pvk)$' || true)
	if [[ -z "$keys" ]]; then ok "no private key in the repository"; else bad "private key material in the repository: $keys"; fi
fi

echo "$pass passed, $fail failed"
((fail == 0))
