#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/wine/umd/run.sh: what a Windows program meets in virgo's OpenGL DLLs
# besides drawing, under Wine and Xvfb (scripts/check-wine.sh runs it):
#
#   - unloading: opengl32.dll loaded and freed without a pixel format, and
#     freed after a pixel format with and without a device (umd_checks.exe
#     unload, unload-used): no fault in DllMain (Mesa's stw_cleanup called
#     through a NULL screen)
#   - what a user is told with no device: through the kernel-driver path
#     (no VIRGO_TRANSPORT) the message says which case it is and never
#     names virgo-host or VIRGO_TRANSPORT; it also reaches the debugger
#     (OutputDebugString, seen through Wine's debugstr channel) and the
#     log file %LOCALAPPDATA%\virgo\virgo.log, once
#   - GALLIUM_DRIVER=llvmpipe (left over from mesa-dist-win): a virgo context
#     all the same, and a warning
#   - a minimised window: its frames are neither blitted nor read back
#     (umd_checks.exe iconic counts the ICD's StretchDIBits and send calls)
#
# The DLLs: VIRGO_WIN_DLLS (default build/mesa-win64/install/bin), copied
# beside the program (app-local). The device: virgo-host (VIRGO_HOST) over
# TCP. Prints PASS/FAIL lines and "N passed, N failed".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT" || exit 1
DLLS=${VIRGO_WIN_DLLS:-build/mesa-win64/install/bin}
HOST=${VIRGO_HOST:-build/native/host/virgo-host}
OUT=build/wine-umd
CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
pass=0 fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
XVFB_PID= HOST_PID=
cleanup() {
	[[ -n ${WINEPREFIX:-} && -d ${WINEPREFIX:-/nonexistent} ]] && { timeout 20 "$WINESERVER" -k; timeout 20 "$WINESERVER" -w; } 2>/dev/null
	[[ -n $HOST_PID ]] && kill -KILL "$HOST_PID" 2>/dev/null && wait "$HOST_PID" 2>/dev/null
	[[ -n $XVFB_PID ]] && kill -TERM "$XVFB_PID" 2>/dev/null && wait "$XVFB_PID" 2>/dev/null
	HOST_PID= XVFB_PID=
}
trap cleanup EXIT
finish() {
	cleanup
	echo "$pass passed, $fail failed"
	((fail == 0))
	exit
}

rm -rf "$OUT/app" "$OUT/run"
mkdir -p "$OUT/app" "$OUT/run"
if ! "$CC" -std=c11 -Wall -Wextra -Werror -O2 -static-libgcc -Iinclude -o "$OUT/app/umd_checks.exe" tests/wine/umd/umd_checks.c \
	-lgdi32 -luser32 >"$OUT/run/build.log" 2>&1; then
	bad "build umd_checks.exe: $(tail -3 "$OUT/run/build.log")"
	finish
fi
if ! compgen -G "$DLLS/*.dll" >/dev/null || [[ ! -x $HOST ]]; then
	bad "the DLLs in $DLLS and $HOST are built (make mesa-win64 native)"
	finish
fi
cp "$DLLS"/*.dll "$OUT/app/"

Xvfb -displayfd 9 -screen 0 800x600x24 -nolisten tcp -noreset 9>"$OUT/run/display" >"$OUT/run/xvfb.log" 2>&1 &
XVFB_PID=$!
for ((i = 0; i < 150; i++)); do [[ -s $OUT/run/display ]] && break; sleep 0.1; done
[[ -s $OUT/run/display ]] || { bad "Xvfb starts"; finish; }
export DISPLAY=:$(head -n 1 "$OUT/run/display")
export WINEPREFIX=$ROOT/build/wine-prefix-umd WINEDEBUG=-all
BASE="mscoree,mshtml=d"
if [[ ! -f $WINEPREFIX/.virgo-prefix-ok ]]; then
	rm -rf "$WINEPREFIX"
	mkdir -p "$WINEPREFIX"
	if ! WINEDLLOVERRIDES=$BASE timeout -k 10 300 "$WINE" wineboot -i >"$OUT/run/wineboot.log" 2>&1; then
		bad "a Wine prefix (wineboot)"
		finish
	fi
	timeout 60 "$WINESERVER" -w
	touch "$WINEPREFIX/.virgo-prefix-ok"
fi
export WINEDLLOVERRIDES="$BASE;opengl32=n,b"

# prog NAME [VAR=VALUE...] -- ARGS: umd_checks.exe; its PASS/FAIL lines
# counted as NAME/...; stdout, stderr in $OUT/run/NAME.{out,err}; RC.
prog() {
	local name=$1 envs=() line
	shift
	while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
	shift
	timeout -k 5 120 env "${envs[@]}" "$WINE" "$OUT/app/umd_checks.exe" "$@" >"$OUT/run/$name.out" 2>"$OUT/run/$name.err"
	RC=$?
	sed -i 's/\r$//' "$OUT/run/$name.out" "$OUT/run/$name.err"
	while IFS= read -r line; do
		case $line in
		"PASS "*) ok "$name/${line#PASS }" ;;
		"FAIL "*) bad "$name/${line#FAIL }" ;;
		"INFO "*) echo "    $name: ${line#INFO }" ;;
		esac
	done <"$OUT/run/$name.out"
	((RC == 0)) || { bad "$name: exit status $RC"; tail -n 5 "$OUT/run/$name.err" | sed 's/^/    | /'; }
}

# ---- no device -------------------------------------------------------------------------------
LOGFILE=$(ls -d "$WINEPREFIX"/drive_c/users/*/AppData/Local 2>/dev/null | head -n 1)/virgo/virgo.log
rm -f "$LOGFILE" "$LOGFILE.old"
prog unload -u VIRGO_TRANSPORT -- unload
# WINEDEBUG=+debugstr: Wine prints what a program sends to the debugger.
prog nodevice -u VIRGO_TRANSPORT WINEDEBUG=+debugstr -- unload-used
e=$OUT/run/nodevice.err
msg=$(grep -m 1 '^virgo: no virgo device: ' "$e")
if [[ -n $msg ]] && grep -q 'no virtio-gpu device (PCI 1AF4:1050)' <<<"$msg" && grep -q -- '-device virtio-gpu-gl-pci' <<<"$msg" &&
	! grep -v 'debugstr' "$e" | grep -q -E 'virgo-host|VIRGO_TRANSPORT'; then
	ok "no device: the message says which case it is (\"${msg:0:90}...\") and names neither virgo-host nor VIRGO_TRANSPORT"
else
	bad "no device: the message (stderr: $(grep -v debugstr "$e" | paste -sd '|' | cut -c1-400))"
fi
if grep 'debugstr' "$e" | grep -q 'virgo: no virgo device: '; then
	ok "no device: the message reaches the debugger (OutputDebugString)"
else
	bad "no device: the message reaches the debugger (no debugstr line with it)"
fi
if [[ -f $LOGFILE ]] && (($(grep -c 'umd_checks.exe (pid [0-9]*): virgo: no virgo device: ' "$LOGFILE") == 1)) &&
	(($(wc -l <"$LOGFILE") == 1)); then
	ok "no device: one line in %LOCALAPPDATA%\\virgo\\virgo.log for the process, with the program and the message"
else
	bad "no device: %LOCALAPPDATA%\\virgo\\virgo.log has one line for the process ($LOGFILE: $(cat "$LOGFILE" 2>/dev/null | tr -d '\r' | paste -sd '|' | cut -c1-300))"
fi

# ---- through virgo-host ------------------------------------------------------------------------
SOCK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/virgo-wine-umd.XXXXXX")
"$HOST" --tcp 0 --socket "$SOCK_DIR/virgo.sock" >"$OUT/run/host.out" 2>"$OUT/run/host.err" &
HOST_PID=$!
for ((i = 0; i < 300; i++)); do
	grep -q 'ready on' "$OUT/run/host.out" 2>/dev/null && break
	kill -0 "$HOST_PID" 2>/dev/null || break
	sleep 0.1
done
port=$(sed -n 's/.*ready on .* and 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$OUT/run/host.out" | head -n 1)
rm -rf "$SOCK_DIR"
[[ -n $port ]] || { bad "virgo-host ready on TCP within 30 s"; finish; }
T=VIRGO_TRANSPORT=tcp:127.0.0.1:$port

prog used "$T" -- unload-used
grep -q 'pixel format set' "$OUT/run/used.out" || bad "used: the pixel format was set through virgo-host"

prog gallium "$T" GALLIUM_DRIVER=llvmpipe -- renderer
if grep -q '^INFO GL_RENDERER: virgo (' "$OUT/run/gallium.out" &&
	grep -q '^virgo: GALLIUM_DRIVER=llvmpipe names a driver that virgo.s OpenGL driver does not have: ignored' "$OUT/run/gallium.err"; then
	ok "GALLIUM_DRIVER=llvmpipe: a virgo context all the same, and a warning that it is ignored"
else
	bad "GALLIUM_DRIVER=llvmpipe: $(grep GL_RENDERER "$OUT/run/gallium.out"), stderr: $(paste -sd '|' "$OUT/run/gallium.err" | cut -c1-300)"
fi

prog iconic "$T" -- iconic

timeout 20 "$WINESERVER" -k 2>/dev/null
timeout 20 "$WINESERVER" -w 2>/dev/null
kill -TERM "$HOST_PID"
for ((i = 0; i < 300; i++)); do kill -0 "$HOST_PID" 2>/dev/null || break; sleep 0.1; done
if wait "$HOST_PID"; then
	ok "virgo-host clean exit ($(grep -m 1 'shutdown:' "$OUT/run/host.out" | sed 's/^virgo-host: shutdown: //' | cut -c1-60)...)"
else
	bad "virgo-host clean exit: $(grep -m 1 'shutdown:' "$OUT/run/host.out")"
fi
HOST_PID=
finish
