#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/wine/vtp/run.sh: the Windows transport (umd/transport/vtp_win.c)
# under Wine against a private virgo-host over loopback TCP.
#
#   - takes vtp_test.exe from the Windows cross build (build/win64, made
#     here with `make win64`: the transport, uapi/ and the test with
#     -std=c11 -Wall -Wextra -Werror, static libgcc) and checks its imports
#   - starts virgo-host on a free loopback port (its UNIX socket in the
#     build folder), runs vtp_test.exe under wine64 with a private
#     WINEPREFIX, and passes its PASS/FAIL lines on
#   - checks the transport's one-line messages on stderr
#   - stops the host with SIGTERM: it must exit 0 (nothing left behind)
#
# Needs gcc-mingw-w64-x86-64 and wine64; builds virgo-host with `make build`
# unless VIRGO_HOST names one. Ends with "N passed, N failed"; exits
# non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/../../.." || exit 1
export PATH="/usr/bin:/bin:$PATH"
OUT=build/wine-vtp
MINGW=x86_64-w64-mingw32-gcc
OBJDUMP=x86_64-w64-mingw32-objdump
mkdir -p "$OUT"

pass=0 fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
finish() {
	echo "$pass passed, $fail failed"
	((fail == 0))
	exit $?
}
show() { sed 's/^/    /' "$1" | tail -"${2:-20}"; }

HOST_PID=
stop_host() {
	# Only the host this script started, by its pid.
	if [[ -n "$HOST_PID" ]] && kill -0 "$HOST_PID" 2>/dev/null; then
		kill -TERM "$HOST_PID" 2>/dev/null
		wait "$HOST_PID" 2>/dev/null
	fi
	HOST_PID=
}
trap stop_host EXIT

# ---- tools ---------------------------------------------------------------------------
WINE=
for w in wine64 /usr/lib/wine/wine64; do
	if command -v "$w" >/dev/null 2>&1; then WINE=$(command -v "$w"); break; fi
done
if ! command -v "$MINGW" >/dev/null 2>&1; then
	bad "toolchain: $MINGW not found (apt-get install gcc-mingw-w64-x86-64)"
	finish
fi
if [[ -z "$WINE" ]]; then
	bad "wine: no wine64 (apt-get install wine64)"
	finish
fi
HOST=${VIRGO_HOST:-}
if [[ -z "$HOST" ]]; then
	HOST=build/native/host/virgo-host
	if ! make --no-print-directory build >"$OUT/make.log" 2>&1; then
		bad "virgo-host builds (make build)"
		show "$OUT/make.log"
		finish
	fi
fi
if [[ ! -x "$HOST" ]]; then
	bad "virgo-host: $HOST is not executable"
	finish
fi

# ---- build ---------------------------------------------------------------------------
EXE=build/win64/tests/wine/vtp/vtp_test.exe
if make --no-print-directory win64 >"$OUT/build.log" 2>&1 && [[ -f $EXE ]]; then
	ok "test_builds (make win64: -Wall -Wextra -Werror)"
else
	bad "test_builds (make win64)"
	show "$OUT/build.log"
	finish
fi

# Only DLLs every Windows has: no libgcc_s, no libwinpthread beside the exe.
dlls=$("$OBJDUMP" -p "$EXE" | sed -n 's/^\s*DLL Name: //p' | tr '[:upper:]' '[:lower:]' | sort -u | tr '\n' ' ')
foreign=$(for d in $dlls; do
	case "$d" in
	kernel32.dll | msvcrt.dll | ws2_32.dll | setupapi.dll | ucrtbase.dll | api-ms-win-crt-*.dll) ;;
	*) echo -n "$d " ;;
	esac
done)
if [[ -n "$dlls" && -z "$foreign" ]]; then ok "imports_system_only ($dlls)"; else bad "imports_system_only: $foreign"; fi

# ---- the host ----------------------------------------------------------------------------
SOCK=$OUT/host.sock
LOG=$OUT/host.log
rm -f "$SOCK" "$LOG" # a log left from the last run would give its port
"$HOST" --socket "$SOCK" --tcp 0 >"$LOG" 2>&1 &
HOST_PID=$!
PORT=
for _ in $(seq 300); do
	PORT=$(sed -n 's/^virgo-host: ready on .* and 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$LOG")
	[[ -n "$PORT" ]] && break
	kill -0 "$HOST_PID" 2>/dev/null || break
	sleep 0.1
done
if [[ -z "$PORT" ]]; then
	bad "host_ready: virgo-host did not say 'ready on ... and 127.0.0.1:PORT'"
	show "$LOG"
	finish
fi
ok "host_ready (127.0.0.1:$PORT)"

# ---- the test under Wine --------------------------------------------------------------------
export WINEPREFIX=$PWD/build/wine-prefix-vtp WINEDEBUG=-all
mkdir -p "$WINEPREFIX"
VIRGO_TRANSPORT=tcp:127.0.0.1:$PORT timeout 600 "$WINE" "$EXE" >"$OUT/test.out" 2>"$OUT/test.err"
status=$?
sed -i 's/\r$//' "$OUT/test.out" "$OUT/test.err" # Windows programs end lines with CR LF
grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/test.out"
p=$(grep -c '^PASS ' "$OUT/test.out")
f=$(grep -c '^FAIL ' "$OUT/test.out")
pass=$((pass + p))
fail=$((fail + f))
if ! grep -q -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/test.out"; then
	bad "vtp_test ended without its summary (exit $status)"
	show "$OUT/test.err"
elif ((status != 0 && f == 0)); then
	bad "vtp_test exited $status without a FAIL line"
fi

# Every way to fail says so in one line that names what was tried.
msgs_ok=1
for want in \
	'virgo: no virgo device: this VM has no virtio-gpu device \(PCI 1AF4:1050\): start it with QEMU.s -device virtio-gpu-gl-pci' \
	'virgo: cannot reach virgo-host at tcp:127.0.0.1:[0-9]+: connection refused' \
	'virgo: transport .unix:/tmp/virgo.sock.: UNIX sockets cannot carry mappings' \
	'virgo: tcp:127.0.0.1:[0-9]+: cannot map resource 5: .* not on a 64 KiB boundary' \
	'virgo: tcp:127.0.0.1:[0-9]+: connection lost in op 1; connection dropped' \
	'virgo: tcp:127.0.0.1:[0-9]+: malformed reply in op 1; connection dropped' \
	'virgo: tcp:127.0.0.1:[0-9]+: no reply in time in op 1; connection dropped'; do
	if ! grep -q -E -e "$want" "$OUT/test.err"; then
		msgs_ok=0
		echo "    missing on stderr: $want"
	fi
done
if ((msgs_ok)); then ok "stderr_messages"; else bad "stderr_messages"; show "$OUT/test.err"; fi

# ---- the host's verdict ----------------------------------------------------------------------
kill -TERM "$HOST_PID" 2>/dev/null
hstatus=
for _ in $(seq 300); do
	if ! kill -0 "$HOST_PID" 2>/dev/null; then
		wait "$HOST_PID"
		hstatus=$?
		break
	fi
	sleep 0.1
done
[[ -n "$hstatus" ]] && HOST_PID=
if [[ "$hstatus" == 0 ]]; then
	ok "host_clean_exit ($(sed -n 's/^virgo-host: shutdown: //p' "$LOG"))"
else
	bad "host_clean_exit: virgo-host exit status ${hstatus:-(still running after 30 s)}"
	show "$LOG"
fi
finish
