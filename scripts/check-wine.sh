#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check-wine.sh: `make check-wine`. Windows programs under Wine through the
# whole virgo stack, on our Mesa DLLs (build/mesa-win64, made by
# `make mesa-win64`):
#   tests/wine/vtp/run.sh   the Windows transport (umd/transport/vtp_win.c)
#                           over TCP against virgo-host
#   tests/wine/run-gl.sh    WGL programs: pixel formats, a 4.3 core context,
#                           pixels read back, SwapBuffers, a resize and a
#                           screenshot of the presented frame; the WGL
#                           behaviour programs (threads, handles, errors)
#   run-gl.sh --wgl         the WGL behaviour programs again on Wine's
#                           builtin opengl32: their expectations must hold
#                           there too
#   tests/wine/umd/run.sh   the DLLs unloaded with and without a screen, what
#                           a user is told with no device (stderr, debugger,
#                           log file), GALLIUM_DRIVER=llvmpipe, a minimised
#                           window's frames
# Ends with "N passed, N failed" summed over all.
set -uo pipefail
cd "$(dirname "$0")/.."

DLLS=${VIRGO_WIN_DLLS:-build/mesa-win64/install/bin}
HOST=${VIRGO_HOST:-build/native/host/virgo-host}
LOG=build/check-wine
mkdir -p "$LOG"
pass=0
fail=0

run() { # name, command...
	local name=$1 line p f
	shift
	"$@" 2>&1 | tee "$LOG/$name.log"
	local status=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOG/$name.log" | tail -n 1)
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		p=${BASH_REMATCH[1]}
		f=${BASH_REMATCH[2]}
	else
		p=0
		f=0
	fi
	((status != 0 && f == 0)) && f=1
	pass=$((pass + p))
	fail=$((fail + f))
}

if [[ ! -f $DLLS/opengl32.dll || ! -f $DLLS/virgo_icd64.dll ]]; then
	echo "FAIL check-wine: no virgo_icd64.dll/opengl32.dll in $DLLS (make mesa-win64)"
	echo "0 passed, 1 failed"
	exit 1
fi
run vtp env VIRGO_HOST="$HOST" bash tests/wine/vtp/run.sh
run gl env VIRGO_HOST="$HOST" VIRGO_WIN_DLLS="$DLLS" bash tests/wine/run-gl.sh
run gl-builtin env -u VIRGO_WIN_DLLS bash tests/wine/run-gl.sh --wgl
run umd env VIRGO_HOST="$HOST" VIRGO_WIN_DLLS="$DLLS" bash tests/wine/umd/run.sh
# No device: a GL program on our DLLs with nothing listening must fail to
# get a pixel format or context with virgo's message, and not crash.
no_device() {
	local dir=build/wine-gl/virgo port err status
	[[ -f $dir/gl_checks.exe && -f $dir/opengl32.dll ]] || { echo "FAIL no_device: run-gl.sh left no $dir"; return 1; }
	# a free port: bind one, close it, nothing listens there afterwards
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	err=$LOG/no-device.err
	WINEPREFIX=$PWD/build/wine-prefix-gl WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=d;opengl32=n,b" \
		VIRGO_TRANSPORT=tcp:127.0.0.1:$port timeout 120 xvfb-run -a /usr/lib/wine/wine64 "$dir/gl_checks.exe" \
		>"$LOG/no-device.out" 2>"$err" </dev/null
	status=$?
	WINEPREFIX=$PWD/build/wine-prefix-gl timeout 30 /usr/lib/wine/wineserver -k 2>/dev/null
	if ((status == 0)); then
		echo "FAIL no_device: gl_checks.exe passed with no virgo-host listening"
	elif ((status == 124)); then
		echo "FAIL no_device: gl_checks.exe hung (killed after 120 s)"
	elif grep -q -i "unhandled\|page fault\|backtrace" "$err"; then
		echo "FAIL no_device: gl_checks.exe crashed (see $err)"
	elif ! grep -q "virgo: cannot reach the virgo driver" "$err"; then
		echo "FAIL no_device: no 'cannot reach the virgo driver' message (see $err)"
	else
		echo "PASS no_device (exit status $status: $(grep -m1 'cannot reach virgo-host' "$err"))"
		return 0
	fi
	return 1
}
if no_device; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

echo "$pass passed, $fail failed"
((fail == 0))
