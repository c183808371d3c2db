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
#   - virgo.inf, source and packaged (tests/win/infcheck.py)
#   - the request decoding and status mapping (kmd/win/ioctl_decode.c),
#     natively under ASan/UBSan
#   - with Wine (wine64): the same test as a Windows program against ntdll's
#     RtlNtStatusToDosError, the driver's SEH frame (kmd/win/seh_x64.S)
#     catching faults, and wintrust reading the catalog
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

# ---- request decoding, natively ------------------------------------------------------------
CC_FLAGS=(-std=c11 -Wall -Wextra -Werror -g -Iinclude -Ikmd/win)
if cc "${CC_FLAGS[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all \
	-o "$OUT/test_ioctl_decode" tests/win/test_ioctl_decode.c kmd/win/ioctl_decode.c 2>"$OUT/cc.log"; then
	sub "$OUT/test_ioctl_decode"
else
	bad "tests/win/test_ioctl_decode.c builds natively"
	cat "$OUT/cc.log"
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
	if $MINGW "${CC_FLAGS[@]}" -o "$OUT/test_ioctl_decode.exe" tests/win/test_ioctl_decode.c kmd/win/ioctl_decode.c &&
		$MINGW -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/test_seh.exe" tests/win/test_seh.c kmd/win/seh_x64.S &&
		$MINGW -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/test_cat.exe" tests/win/test_cat.c -lwintrust -lcrypt32 \
		2>"$OUT/mingw.log"; then
		sub timeout 120 "$WINE" "$OUT/test_ioctl_decode.exe"
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

# ---- the package (scripts/dist.sh; a skeleton until the user-mode DLLs exist) ------------
if [[ -f "$W/virgo.sys" ]] && bash scripts/dist.sh --build "$B" --out "$OUT/dist" >"$OUT/dist.log" 2>&1; then
	P=$OUT/dist/virgo-win64
	have=1
	for f in virgo.sys virgo.inf virgo.cat virgo-test.cer install.ps1 install.cmd SHA256SUMS; do
		[[ -f "$P/$f" ]] || { have=0; echo "    missing $f"; }
	done
	((have)) && ok "dist: the driver package, certificate and installer are in $P" || bad "dist: package contents"
	check "dist: the packaged files match their checksums" sh -c "cd '$P' && sha256sum -c --quiet SHA256SUMS"
	check "dist: the packaged virgo.inf is the one the catalog covers" cmp "$W/virgo.inf" "$P/virgo.inf"
	check "dist: no private key in the package or the zip" sh -c \
		"! grep -r -q -a 'PRIVATE KEY' '$P' '$OUT/dist/virgo-win64.zip' && ! ls '$P' | grep -q -E '\\.(key|pfx|p12)$'"
	if [[ -f "$P/MISSING.txt" ]]; then
		skip "dist: user-mode parts not built yet: $(grep -c '^  ' "$P/MISSING.txt") listed in MISSING.txt"
	fi
else
	bad "scripts/dist.sh assembles the package"
	tail -5 "$OUT/dist.log" 2>/dev/null
fi

# ---- hygiene ----------------------------------------------------------------------------------
if git rev-parse --git-dir >/dev/null 2>&1; then
	keys=$(git ls-files -z | xargs -0 grep -l -E 'BEGIN ([A-Z]+ )?PRIVATE KEY' 2>/dev/null | grep -v '^tests/win/check.sh$' || true)
	keys+=$(git ls-files | grep -E '\.(key|pfx|p12|pvk)$' || true)
	if [[ -z "$keys" ]]; then ok "no private key in the repository"; else bad "private key material in the repository: $keys"; fi
fi

echo "$pass passed, $fail failed"
((fail == 0))
