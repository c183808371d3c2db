#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/wine/run-gl.sh [--demo | --wgl] [--out PNG]: Windows GL programs
# (tests/wine/gl) under Wine on a private Xvfb display.
#
#   - builds gl_checks.exe, gl_demo.exe and the WGL behaviour programs
#     (wgl_*.exe) with MinGW-w64 (-Werror, no MinGW runtime DLL: their
#     imports are checked)
#   - starts Xvfb (a free display, GLX on) and a private Wine prefix,
#     build/wine-prefix-gl (its first wineboot takes a while; later runs
#     reuse it)
#   - runs gl_checks.exe, which prints one PASS/FAIL line per check, and
#     gl_demo.exe; while each holds its last frame, grabs the screen and
#     checks that the frame SwapBuffers presented is there, where the
#     program says its client area is, and right side up
#   - runs the WGL behaviour programs, each its PASS/FAIL lines, no
#     crash (Wine's "Unhandled" report) and exit status 0
#   - ends with "N passed, N failed"; exits non-zero if anything failed
#
# Which OpenGL: VIRGO_WIN_DLLS=DIR (a directory with our Mesa build's
# opengl32.dll and the DLLs it needs, e.g. virgo_icd64.dll) copies every
# DLL of DIR next to the programs, loads that opengl32.dll
# (WINEDLLOVERRIDES opengl32=n,b), starts virgo-host (VIRGO_HOST, default
# build/native/host/virgo-host) on a free TCP port, points the programs at
# it (VIRGO_TRANSPORT=tcp:127.0.0.1:PORT), expects GL_RENDERER to start
# with VIRGO_EXPECT_RENDERER (default "virgo ("), and checks the host's
# clean exit after SIGTERM. Unset, the programs run on Wine's builtin
# opengl32, which is GLX on Xvfb, i.e. Mesa llvmpipe: a check of the
# programs and the harness, not of virgo.
#
# --demo runs gl_demo.exe alone and writes its client area to PNG
# (default build/demo.png). --wgl runs the WGL behaviour programs alone
# (check-wine runs them so on Wine's builtin opengl32: the same
# expectations must hold there). Every wait is bounded; Xvfb, the Wine server
# and virgo-host are stopped on every way out.

# The checkers are called through run_prog's CHECKER argument, which
# the linter cannot follow.
# shellcheck disable=SC2317
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

MODE=check
DEMO_PNG=build/demo.png
while (($#)); do
	case $1 in
	--demo) MODE=demo ;;
	--wgl) MODE=wgl ;;
	--out)
		DEMO_PNG=${2:?--out needs a path}
		shift
		;;
	-h | --help)
		sed -n '3,/^$/p' "$ROOT/tests/wine/run-gl.sh" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "run-gl: unknown argument '$1' (try --help)" >&2
		exit 2
		;;
	esac
	shift
done

OUT=build/wine-gl
RUN=$OUT/run
# --wgl keeps its logs apart: check-wine runs it after a full run.
[[ $MODE == wgl ]] && RUN=$OUT/run-wgl
PREFIX_DIR=${VIRGO_WINE_PREFIX:-build/wine-prefix-gl}
CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
PROG_TIMEOUT=${VIRGO_GL_TIMEOUT:-180} # seconds, each program, start to exit
SCREEN=1280x1024x24
# No Mono or Gecko: a fresh prefix would otherwise offer to download them
# in a dialog nobody can click on Xvfb. No winedbg either: a program that
# crashes must end at once, its "Unhandled page fault" reported, rather
# than hang in a debugger until its timeout.
BASE_OVERRIDES="mscoree,mshtml,winedbg.exe=d"

passed=0
failed=0
pass() {
	echo "PASS $1"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}

XVFB_PID=
HOST_PID=
PROG_PID=
WINE=
WINESERVER=
SOCK_DIR=

# Stops whatever is still running, in the order that lets each go cleanly:
# the program, the Wine server with the processes of the prefix, the host,
# the display. Safe to call twice.
cleanup() {
	if [[ -n $PROG_PID ]] && kill -0 "$PROG_PID" 2>/dev/null; then
		kill -TERM "$PROG_PID" 2>/dev/null
		wait "$PROG_PID" 2>/dev/null
	fi
	PROG_PID=
	if [[ -n $WINESERVER && -n ${WINEPREFIX:-} && -d ${WINEPREFIX:-/nonexistent} ]]; then
		timeout 20 "$WINESERVER" -k 2>/dev/null
		timeout 20 "$WINESERVER" -w 2>/dev/null
	fi
	if [[ -n $HOST_PID ]] && kill -0 "$HOST_PID" 2>/dev/null; then
		kill -KILL "$HOST_PID" 2>/dev/null
		wait "$HOST_PID" 2>/dev/null
	fi
	HOST_PID=
	if [[ -n $XVFB_PID ]] && kill -0 "$XVFB_PID" 2>/dev/null; then
		kill -TERM "$XVFB_PID" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$XVFB_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$XVFB_PID" 2>/dev/null
		wait "$XVFB_PID" 2>/dev/null
	fi
	XVFB_PID=
	[[ -n $SOCK_DIR ]] && rm -rf "$SOCK_DIR"
	SOCK_DIR=
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

finish() {
	cleanup
	echo "run-gl: wall time $SECONDS s"
	echo "$passed passed, $failed failed"
	((failed == 0))
	exit
}

# Last lines of a log, indented, for a failure's context.
show_tail() {
	[[ -s $1 ]] && tail -n "${2:-15}" "$1" | tr -d '\r' | sed 's/^/    | /'
}

# ---- tools ----------------------------------------------------------------------------------------
missing=()
command -v "$CC" >/dev/null || missing+=("gcc-mingw-w64-x86-64 ($CC)")
for w in wine64 /usr/lib/wine/wine64; do
	if command -v "$w" >/dev/null 2>&1; then
		WINE=$(command -v "$w")
		break
	fi
done
[[ -n $WINE ]] || missing+=("wine64")
for s in wineserver /usr/lib/wine/wineserver "$(dirname "${WINE:-/x}")/wineserver"; do
	if command -v "$s" >/dev/null 2>&1; then
		WINESERVER=$(command -v "$s")
		break
	fi
done
[[ -n $WINE && -z $WINESERVER ]] && missing+=("wineserver (wine64)")
command -v Xvfb >/dev/null || missing+=("xvfb")
command -v xwd >/dev/null || missing+=("x11-apps (xwd)")
# ImageMagick's convert itself (XWD in, crops, raw RGB out), not some
# other program of that name.
CONVERT=$(command -v convert)
timeout 10 "${CONVERT:-false}" -version 2>/dev/null | grep -q ImageMagick || missing+=("imagemagick (convert)")
if ((${#missing[@]})); then
	fail "tools" "missing: ${missing[*]} (scripts/setup.sh installs them)"
	finish
fi

mkdir -p "$OUT/bin"
rm -rf "$RUN"
mkdir -p "$RUN"

# ---- build ----------------------------------------------------------------------------------------
# -static-libgcc: nothing from MinGW's runtime as a DLL, so the .exe runs
# on any Windows (and Wine) with the system DLLs alone.
CFLAGS=(-std=c11 -Wall -Wextra -Werror -O2 -static-libgcc)
# The WGL behaviour programs, one behaviour each (tests/wine/gl/README.md).
WGL_PROGS=(wgl_threads wgl_delete wgl_handles wgl_pixel_format wgl_proc_address)
build_ok=1
progs=(gl_checks gl_demo "${WGL_PROGS[@]}")
[[ $MODE == wgl ]] && progs=("${WGL_PROGS[@]}")
for prog in "${progs[@]}"; do
	srcs=("tests/wine/gl/$prog.c" tests/wine/gl/wglapp.c)
	[[ $prog == wgl_* ]] && srcs+=(tests/wine/gl/wglcheck.c)
	# An .exe newer than its sources, the headers and this script is
	# kept: check-wine runs the programs twice (our DLLs, Wine's builtin).
	fresh=1
	for f in "${srcs[@]}" tests/wine/gl/*.h "$ROOT/tests/wine/run-gl.sh"; do
		[[ -f $OUT/bin/$prog.exe && $OUT/bin/$prog.exe -nt $f ]] || fresh=0
	done
	if ((!fresh)) && ! "$CC" "${CFLAGS[@]}" -o "$OUT/bin/$prog.exe" "${srcs[@]}" \
		-lopengl32 -lgdi32 >"$RUN/build-$prog.log" 2>&1; then
		fail "build $prog.exe" "$CC failed"
		show_tail "$RUN/build-$prog.log" 30
		build_ok=0
		continue
	fi
	# The system DLLs a plain Windows install has, and nothing else.
	objdump=${CC%gcc}objdump
	imports=$("$objdump" -p "$OUT/bin/$prog.exe" | sed -n 's/^[[:space:]]*DLL Name: //p' |
		tr '[:upper:]' '[:lower:]' | sort | paste -sd ' ')
	extra=$(echo "$imports" | tr ' ' '\n' | grep -v -x -E 'kernel32.dll|user32.dll|gdi32.dll|opengl32.dll|msvcrt.dll|' |
		paste -sd ' ')
	if [[ -n $extra ]]; then
		fail "build $prog.exe" "imports DLLs a Windows system lacks: $extra"
		build_ok=0
	else
		pass "build $prog.exe (imports: $imports)"
	fi
done
((build_ok)) || finish

# ---- display --------------------------------------------------------------------------------------
# -displayfd: Xvfb picks a free display itself and writes its number once
# it accepts clients; no guessing, no race with other displays.
Xvfb -displayfd 9 -screen 0 "$SCREEN" +extension GLX -nolisten tcp -noreset \
	9>"$RUN/display" >"$RUN/xvfb.log" 2>&1 &
XVFB_PID=$!
for ((i = 0; i < 150; i++)); do
	[[ -s $RUN/display ]] && break
	kill -0 "$XVFB_PID" 2>/dev/null || break
	sleep 0.1
done
if [[ ! -s $RUN/display ]]; then
	fail "xvfb" "Xvfb did not start within 15 s"
	show_tail "$RUN/xvfb.log"
	finish
fi
DISPLAY=:$(head -n 1 "$RUN/display")
export DISPLAY
echo "run-gl: Xvfb on $DISPLAY ($SCREEN)"

# ---- Wine prefix ----------------------------------------------------------------------------------
case $PREFIX_DIR in
/*) export WINEPREFIX=$PREFIX_DIR ;;
*) export WINEPREFIX=$ROOT/$PREFIX_DIR ;;
esac
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES=$BASE_OVERRIDES
# The marker is written only after a wineboot that finished: a prefix left
# half made by an interrupted run is made again.
if [[ ! -f $WINEPREFIX/.virgo-prefix-ok ]]; then
	echo "run-gl: new Wine prefix $PREFIX_DIR (first wineboot, can take a minute)"
	rm -rf "$WINEPREFIX"
	mkdir -p "$WINEPREFIX"
	t0=$SECONDS
	timeout -k 10 300 "$WINE" wineboot -i >"$RUN/wineboot.log" 2>&1
	rc=$?
	# The registry is on disk once the prefix's server has gone.
	timeout 60 "$WINESERVER" -w >/dev/null 2>&1
	if ((rc != 0)); then
		fail "wine prefix" "wineboot exited $rc$( ((rc == 124)) && echo ' (timed out after 300 s)')"
		show_tail "$RUN/wineboot.log"
		finish
	fi
	touch "$WINEPREFIX/.virgo-prefix-ok"
	pass "wine prefix (first wineboot: $((SECONDS - t0)) s)"
else
	pass "wine prefix (reused $PREFIX_DIR)"
fi

# ---- which OpenGL ---------------------------------------------------------------------------------
if [[ -n ${VIRGO_WIN_DLLS:-} ]]; then
	EXE_DIR=$OUT/virgo
	rm -rf "$EXE_DIR"
	mkdir -p "$EXE_DIR"
	cp "$OUT"/bin/*.exe "$EXE_DIR"/
	if ! compgen -G "$VIRGO_WIN_DLLS/*.dll" >/dev/null; then
		fail "virgo DLLs" "no DLL in VIRGO_WIN_DLLS=$VIRGO_WIN_DLLS"
		finish
	fi
	# Application-local: Windows (and Wine) look in the .exe's directory
	# first, so the programs get our opengl32.dll and, next to it,
	# whatever it imports (the gallium ICD, a C++ runtime if any).
	cp "$VIRGO_WIN_DLLS"/*.dll "$EXE_DIR"/
	if [[ ! -f $EXE_DIR/opengl32.dll ]]; then
		fail "virgo DLLs" "VIRGO_WIN_DLLS=$VIRGO_WIN_DLLS has no opengl32.dll"
		finish
	fi
	echo "run-gl: OpenGL from VIRGO_WIN_DLLS=$VIRGO_WIN_DLLS: $(cd "$EXE_DIR" && echo *.dll)"
	# Wine prefers its builtin opengl32 unless told otherwise.
	export WINEDLLOVERRIDES="$BASE_OVERRIDES;opengl32=n,b"
	export VIRGO_EXPECT_RENDERER=${VIRGO_EXPECT_RENDERER-virgo (}

	HOST=${VIRGO_HOST:-build/native/host/virgo-host}
	if [[ ! -x $HOST ]]; then
		fail "virgo-host" "$HOST is not built (make native, or set VIRGO_HOST)"
		finish
	fi
	# A private UNIX socket too: the default one may be another host's.
	SOCK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/virgo-wine-gl.XXXXXX")
	rm -f "$RUN/host.out" # one left from the last run would give its port
	"$HOST" --tcp 0 --socket "$SOCK_DIR/virgo.sock" >"$RUN/host.out" 2>"$RUN/host.err" &
	HOST_PID=$!
	for ((i = 0; i < 300; i++)); do
		grep -q "ready on" "$RUN/host.out" 2>/dev/null && break
		kill -0 "$HOST_PID" 2>/dev/null || break
		sleep 0.1
	done
	port=$(sed -n 's/.*ready on .* and 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$RUN/host.out" | head -n 1)
	if [[ -z $port ]]; then
		fail "virgo-host" "did not become ready on TCP within 30 s"
		show_tail "$RUN/host.err"
		finish
	fi
	export VIRGO_TRANSPORT=tcp:127.0.0.1:$port
	echo "run-gl: virgo-host ready, VIRGO_TRANSPORT=$VIRGO_TRANSPORT"
else
	EXE_DIR=$OUT/bin
	export WINEDLLOVERRIDES="$BASE_OVERRIDES;opengl32=b"
	echo "run-gl: VIRGO_WIN_DLLS is not set: Wine's builtin opengl32 (GLX on Xvfb, Mesa llvmpipe), not virgo"
fi

# ---- running a program ----------------------------------------------------------------------------
HOLD=()
# run_prog NAME CHECKER: runs NAME.exe from EXE_DIR until it holds its last
# frame (its "HOLD x= y= w= h=" line: the client area on the screen), grabs
# the screen and runs CHECKER on the client area while the frame is held,
# lets the program go, and reports its PASS/FAIL lines as NAME/check, then
# the screenshot's and the exit status's. The screenshot stays in
# $RUN/NAME-screen.png, the client area in $RUN/NAME-client.png.
run_prog() {
	local name=$1 checker=$2 log=$RUN/$1.out err=$RUN/$1.err hold=$RUN/$1.hold
	local rc line rest why="" try=0 hold_win
	# The program polls for this file with Windows calls: its Z: path.
	hold_win="Z:$ROOT/$RUN/$name.hold"
	hold_win=${hold_win//\//\\}
	rm -f "$hold"
	HOLD=()
	timeout -k 5 "$PROG_TIMEOUT" "$WINE" "$EXE_DIR/$name.exe" --hold-ms 60000 --hold-file "$hold_win" \
		>"$log" 2>"$err" &
	PROG_PID=$!
	for ((i = 0; i < PROG_TIMEOUT * 10; i++)); do
		grep -q '^HOLD ' "$log" 2>/dev/null && break
		kill -0 "$PROG_PID" 2>/dev/null || break
		sleep 0.1
	done
	line=$(tr -d '\r' <"$log" | grep -m 1 '^HOLD ')
	if [[ $line =~ x=(-?[0-9]+)\ y=(-?[0-9]+)\ w=([0-9]+)\ h=([0-9]+) ]]; then
		HOLD=("${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}")
		# A few tries while the frame is held: the X server shows what
		# Wine sent it a moment after SwapBuffers returned.
		for try in 1 2 3; do
			why=$(grab "$RUN/$name-screen.png" &&
				client_rgb "$RUN/$name-screen.png" "$RUN/$name-client.png" && "$checker") ||
				why=${why:-"could not grab or crop the screen"}
			[[ -z $why ]] && break
			sleep 0.5
		done
		why=${why//$'\n'/; } # one FAIL line
	fi
	touch "$hold"
	wait "$PROG_PID"
	rc=$?
	PROG_PID=
	while IFS= read -r line; do
		case $line in
		"PASS "*) pass "$name/${line#PASS }" ;;
		"FAIL "*)
			rest=${line#FAIL }
			fail "$name/${rest%%: *}" "${rest#*: }"
			;;
		"INFO "* | "HOLD "*) echo "    $name: $line" ;;
		esac
	done < <(tr -d '\r' <"$log")
	if ((${#HOLD[@]} != 4)); then
		fail "$name/screenshot" "the program never held a frame on screen"
	elif [[ -z $why ]]; then
		pass "$name/screenshot (client area ${HOLD[2]}x${HOLD[3]} at ${HOLD[0]},${HOLD[1]} on the screen: presented, right side up$( ((try > 1)) && echo ", grab $try"))"
	else
		fail "$name/screenshot" "$why (screen: $RUN/$name-screen.png)"
	fi
	case $rc in
	0) pass "$name/exit (status 0)" ;;
	124 | 137) fail "$name/exit" "timed out after $PROG_TIMEOUT s" ;;
	*) fail "$name/exit" "status $rc" ;;
	esac
	((rc == 0)) || show_tail "$err"
	return "$rc"
}

# run_wgl NAME: runs NAME.exe from EXE_DIR (no frame held: nothing on
# screen is checked) and reports its PASS/FAIL lines as NAME/check, then
# whether it crashed and its exit status.
run_wgl() {
	local name=$1 log=$RUN/$1.out err=$RUN/$1.err mark=$RUN/$1.mark rc line rest marks=0 lives mark_win i
	local -A live=()
	rm -f "$mark"
	mark_win="Z:$ROOT/$mark"
	mark_win=${mark_win//\//\\}
	# With virgo-host, the program's marks (wc_mark) are answered with the
	# host's live counts (SIGUSR1), taken while the program waits.
	VIRGO_WGL_MARK_FILE=${HOST_PID:+$mark_win} timeout -k 5 "$PROG_TIMEOUT" "$WINE" "$EXE_DIR/$name.exe" \
		>"$log" 2>"$err" </dev/null &
	PROG_PID=$!
	while kill -0 "$PROG_PID" 2>/dev/null; do
		line=$(tr -d '\r' <"$log" | grep '^MARK ' | sed -n "$((marks + 1))p")
		if [[ -n $line && -n $HOST_PID ]]; then
			lives=$(grep -c 'virgo-host: live:' "$RUN/host.out")
			kill -USR1 "$HOST_PID"
			for ((i = 0; i < 100; i++)); do
				(($(grep -c 'virgo-host: live:' "$RUN/host.out") > lives)) && break
				sleep 0.1
			done
			live[${line#MARK }]=$(grep 'virgo-host: live:' "$RUN/host.out" | tail -n 1)
			marks=$((marks + 1))
			touch "$mark"
		fi
		sleep 0.1
	done
	wait "$PROG_PID"
	rc=$?
	PROG_PID=
	while IFS= read -r line; do
		case $line in
		"PASS "*) pass "$name/${line#PASS }" ;;
		"FAIL "*)
			rest=${line#FAIL }
			fail "$name/${rest%%: *}" "${rest#*: }"
			;;
		"INFO "*) echo "    $name: $line" ;;
		esac
	done < <(tr -d '\r' <"$log")
	# What the host holds for the program must not grow between its marks.
	if [[ -n ${live[before]:-} && -n ${live[after]:-} ]]; then
		local b_res b_pages a_res a_pages
		b_res=$(sed -n 's/.* \([0-9]*\) resources,.*/\1/p' <<<"${live[before]}")
		b_pages=$(sed -n 's/.* \([0-9]*\) guest pages used.*/\1/p' <<<"${live[before]}")
		a_res=$(sed -n 's/.* \([0-9]*\) resources,.*/\1/p' <<<"${live[after]}")
		a_pages=$(sed -n 's/.* \([0-9]*\) guest pages used.*/\1/p' <<<"${live[after]}")
		if [[ -z $b_res || -z $a_res || -z $b_pages || -z $a_pages ]]; then
			fail "$name/host_no_leak" "could not read virgo-host's live counts"
		elif ((a_res > b_res + 2 || a_pages > b_pages + 64)); then
			fail "$name/host_no_leak" "virgo-host's resources $b_res -> $a_res, guest pages $b_pages -> $a_pages"
		else
			pass "$name/host_no_leak (virgo-host's resources $b_res -> $a_res, guest pages $b_pages -> $a_pages)"
		fi
	fi
	# Wine reports a crash on stderr ("Unhandled page fault ...").
	if grep -q -i "unhandled\|backtrace" "$err"; then
		fail "$name/no_crash" "$(grep -m 1 -i 'unhandled' "$err" | tr -d '\r')"
	else
		pass "$name/no_crash"
	fi
	case $rc in
	0) pass "$name/exit (status 0)" ;;
	124 | 137) fail "$name/exit" "timed out after $PROG_TIMEOUT s" ;;
	*) fail "$name/exit" "status $rc" ;;
	esac
	((rc == 0)) || show_tail "$err"
	return "$rc"
}

# grab PNG: the whole screen of the display, as a person would see it.
grab() {
	{ timeout 20 xwd -root -silent -display "$DISPLAY" -out "$RUN/screen.xwd" &&
		timeout 30 "$CONVERT" "xwd:$RUN/screen.xwd" "png:$1"; } || {
		echo "could not grab the screen"
		return 1
	}
}

# client_rgb SCREEN_PNG OUT_PNG: crops the held client area (HOLD) out of
# the screenshot into OUT_PNG and its raw RGB bytes into $RUN/client.rgb.
client_rgb() {
	local size
	"$CONVERT" "$1" -crop "${HOLD[2]}x${HOLD[3]}+${HOLD[0]}+${HOLD[1]}" +repage "$2" || return 1
	size=$("$CONVERT" "$2" -format '%wx%h' info:)
	if [[ $size != "${HOLD[2]}x${HOLD[3]}" ]]; then
		echo "the client area is not all on the screen (crop is $size)"
		return 1
	fi
	"$CONVERT" "$2" -depth 8 "rgb:$RUN/client.rgb"
}

# pixel X Y: "r,g,b" of the cropped client area, top-left origin.
pixel() {
	od -An -tu1 -j $((($2 * HOLD[2] + $1) * 3)) -N 3 "$RUN/client.rgb" | awk '{ print $1 "," $2 "," $3 }'
}

# gl_checks' last frame: red top-left, green top-right, blue bottom-left,
# yellow bottom-right, exact (Xvfb's 24-bit screen keeps 8-bit colours),
# at the resized size, up to the corner pixels (so the frame sits exactly
# on the client area, neither shifted nor scaled).
expect_quadrants() {
	local w=${HOLD[2]} h=${HOLD[3]} x y want got what
	((w == 400 && h == 300)) || echo "client area ${w}x${h}, not the resized 400x300"
	while read -r x y want what; do
		got=$(pixel "$x" "$y")
		[[ $got == "$want" ]] || echo "$what ($x,$y) is $got, expected $want"
	done <<-EOF
		$((w / 4)) $((h / 4)) 255,0,0 top-left
		$((3 * w / 4)) $((h / 4)) 0,255,0 top-right
		$((w / 4)) $((3 * h / 4)) 0,0,255 bottom-left
		$((3 * w / 4)) $((3 * h / 4)) 255,255,0 bottom-right
		0 0 255,0,0 top-left-corner
		$((w - 1)) 0 0,255,0 top-right-corner
		0 $((h - 1)) 0,0,255 bottom-left-corner
		$((w - 1)) $((h - 1)) 255,255,0 bottom-right-corner
	EOF
}

# gl_demo's triangle: blended colours differ a little between GL
# implementations, so which channel dominates, at points near each vertex.
# The apex is up: red near the top, green bottom-left, blue bottom-right.
expect_demo() {
	local w=${HOLD[2]} h=${HOLD[3]} x y c margin what got v colours=(red green blue)
	while read -r x y c margin what; do
		got=$(pixel "$x" "$y")
		IFS=, read -r -a v <<<"$got"
		if ((v[c] < v[(c + 1) % 3] + margin || v[c] < v[(c + 2) % 3] + margin)); then
			echo "$what ($x,$y) is $got, not mostly ${colours[c]}"
		fi
	done <<-EOF
		$((w / 2)) $((h * 20 / 100)) 0 64 apex
		$((w * 20 / 100)) $((h * 79 / 100)) 1 64 bottom-left
		$((w * 80 / 100)) $((h * 79 / 100)) 2 64 bottom-right
		$((w * 5 / 100)) $((h * 5 / 100)) 2 10 background
	EOF
}

# ---- the programs ---------------------------------------------------------------------------------
if [[ $MODE == check ]]; then
	run_prog gl_checks expect_quadrants
	if [[ -n ${VIRGO_WIN_DLLS:-} ]]; then
		# Our opengl32.dll, not Wine's: the program says which it loaded.
		used=$(tr -d '\r' <"$RUN/gl_checks.out" | sed -n 's/^INFO opengl32.dll: //p')
		if [[ -n $used && ${used,,} != c:\\windows\\* ]]; then
			pass "app-local opengl32.dll ($used)"
		else
			fail "app-local opengl32.dll" "the program used '${used:-?}'"
		fi
	fi
fi
[[ $MODE == wgl ]] || run_prog gl_demo expect_demo
if [[ $MODE != demo ]]; then
	for prog in "${WGL_PROGS[@]}"; do
		run_wgl "$prog"
	done
fi
if [[ $MODE == demo && -s $RUN/gl_demo-client.png ]]; then
	mkdir -p "$(dirname "$DEMO_PNG")"
	cp "$RUN/gl_demo-client.png" "$DEMO_PNG"
	echo "run-gl: demo frame (the window's client area, from the screen) in $DEMO_PNG"
fi

# ---- shutdown -------------------------------------------------------------------------------------
timeout 20 "$WINESERVER" -k 2>/dev/null
timeout 20 "$WINESERVER" -w 2>/dev/null
if [[ -n $HOST_PID ]]; then
	# Every client is gone: the host must stop cleanly and find nothing
	# left behind (it exits non-zero on leaks).
	kill -TERM "$HOST_PID"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$HOST_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$HOST_PID" 2>/dev/null; then
		fail "virgo-host clean exit" "still running 30 s after SIGTERM"
	else
		wait "$HOST_PID"
		rc=$?
		summary=$(grep -m 1 "shutdown:" "$RUN/host.out" | sed 's/^virgo-host: //')
		if ((rc == 0)); then
			pass "virgo-host clean exit ($summary)"
		else
			fail "virgo-host clean exit" "status $rc: $summary"
			show_tail "$RUN/host.err"
		fi
	fi
	HOST_PID=
fi
finish
