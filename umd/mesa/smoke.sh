#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# smoke.sh: Mesa 22.3.6 with the virgo winsys, through virgo-host: builds it
# (umd/mesa/build.sh linux), starts virgo-host on a private socket, checks
# the GL version and renderer a core context reports, runs the piglit tests
# of smoke-tests.txt (each passes through Debian's virpipe too) and those of
# smoke-subtests.txt (each subtest must end as on virpipe), runs
# gl_vs_cpu_tex.c (vertex shaders that Mesa runs on the CPU, reading every
# kind of texture), counts the host's clean shutdown, and runs gl_oom.c
# against a second host with a 64 MiB budget for the guest's resources. Ends
# with "N passed, N failed". `make check-mesa`.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD

if ! bash umd/mesa/build.sh linux; then
	echo "FAIL mesa_builds"
	echo "0 passed, 1 failed"
	exit 1
fi
pass=0
fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }

HOST=$ROOT/build/native/host/virgo-host
SOCK="${XDG_RUNTIME_DIR:-/tmp}/virgo-mesa-$$.sock"
LOG=$ROOT/build/mesa-smoke
mkdir -p "$LOG"
SOCK_OOM="${XDG_RUNTIME_DIR:-/tmp}/virgo-mesa-oom-$$.sock"
# Both hosts start before the environment below points EGL at our Mesa:
# their virglrenderer renders on the system's.
rm -f "$LOG/host.out" "$LOG/host-oom.out" # old ones would say "ready" too soon
"$HOST" --socket "$SOCK" --ram 1024 >"$LOG/host.out" 2>"$LOG/host.err" &
HOST_PID=$!
# A second host whose guest may hold 64 MiB of resources (the end).
"$HOST" --socket "$SOCK_OOM" --ram 256 --max-hostmem 64 >"$LOG/host-oom.out" 2>"$LOG/host-oom.err" &
OOM_PID=$!
trap 'kill -TERM $HOST_PID $OOM_PID 2>/dev/null' EXIT
for _ in $(seq 1 300); do
	grep -q "ready on" "$LOG/host.out" 2>/dev/null && grep -q "ready on" "$LOG/host-oom.out" 2>/dev/null && break
	sleep 0.1
done

# shellcheck disable=SC1091
. build/mesa-linux/env.sh
export VIRGO_SOCKET="$SOCK" GALLIUM_DRIVER=virgo LIBGL_ALWAYS_SOFTWARE=1
export PIGLIT_PLATFORM=surfaceless_egl PIGLIT_SOURCE_DIR=/usr/lib/x86_64-linux-gnu/piglit

info=$(timeout 60 wflinfo --platform surfaceless_egl --api gl --profile core 2>&1)
renderer=$(sed -n 's/^OpenGL renderer string: //p' <<<"$info")
version=$(sed -n 's/^OpenGL version string: //p' <<<"$info")
echo "mesa-smoke: renderer '$renderer', version '$version'"
[[ "$renderer" == "virgo (virgl on "* ]] && ok gl_renderer_names_virgo_and_the_host || bad gl_renderer_names_virgo_and_the_host "$renderer"
[[ "$version" =~ ^4\.[3-6]\ \(Core\ Profile\) ]] && ok gl_core_4_3_or_higher || bad gl_core_4_3_or_higher "$version"

# The piglit tests, two at a time as a desktop would run two programs:
# worker w takes every second line.
run_list() {
	local w=$1 i=0 name cmd f r
	while IFS= read -r line; do
		i=$((i + 1))
		[ $((i % 2)) -eq "$w" ] || continue
		name=${line%% ::: *}
		cmd=${line#* ::: }
		f="$LOG/$(tr '/ @!' '____' <<<"$name").log"
		read -ra argv <<<"$cmd"
		# Surfaceless EGL has no window: every test draws into an FBO.
		[[ " $cmd " == *" -fbo "* ]] || argv+=(-fbo)
		(cd /usr/bin && timeout 120 "${argv[@]}" >"$f" 2>&1 </dev/null)
		r=$(grep -o '"result": "[a-z]*"' "$f" | tail -1 | sed 's/.*: "//;s/"//')
		printf '%s\t%s\n' "$name" "${r:-crash}"
	done < <(grep -v '^#' umd/mesa/smoke-tests.txt)
}
run_list 0 >"$LOG/results.0" &
w0=$!
run_list 1 >"$LOG/results.1" &
w1=$!
wait $w0 $w1   # not a bare wait: the virgo-hosts are children of this shell too
cat "$LOG/results.0" "$LOG/results.1" >"$LOG/results.tsv"
while IFS=$'\t' read -r name result; do
	[ "$result" = pass ] && ok "piglit: $name" || bad "piglit: $name" "$result (log in $LOG)"
done < <(sort "$LOG/results.tsv")

# Tests that fail as a whole on virpipe too, subtest by subtest: each must
# end as it does there, and the program must reach its end (a crash leaves
# no final result).
while IFS= read -r line; do
	name=${line%% ::: *}
	rest=${line#* ::: }
	cmd=${rest%% ::: *}
	want=${rest#* ::: }
	f="$LOG/$(tr '/ @!' '____' <<<"$name").log"
	read -ra argv <<<"$cmd"
	(cd /usr/bin && timeout 120 "${argv[@]}" >"$f" 2>&1 </dev/null)
	got=$(grep -o '"subtest": {"[^"]*" : "[a-z]*"}' "$f" | sed 's/"subtest": {"\([^"]*\)" : "\([a-z]*\)"}/\1=\2/' | tr '\n' ' ')
	final=$(grep -o '"result": "[a-z]*"' "$f" | tail -1)
	diff=""
	for w in $want; do
		[[ " $got " == *" $w "* ]] && continue
		g=$(tr ' ' '\n' <<<"$got" | sed -n "s/^${w%%=*}=//p" | head -n 1)
		diff+=" ${w%%=*} ${g:-missing} (virpipe ${w#*=})"
	done
	if [ -z "$final" ]; then
		bad "piglit subtests: $name" "did not run to its end (log in $f)"
	elif [ -n "$diff" ]; then
		bad "piglit subtests: $name" "not as on virpipe:$diff (log in $f)"
	else
		ok "piglit subtests: $name"
	fi
done < <(grep -v '^#' umd/mesa/smoke-subtests.txt | grep .)

# A vertex shader that Mesa runs on the CPU (glRasterPos, GL_FEEDBACK) reads
# every kind of texture, image and buffer right, most of them just after
# the GPU wrote them (umd/mesa/gl_vs_cpu_tex.c, a case per line).
# shellcheck disable=SC2046 # pkg-config prints a list of flags
if cc -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE umd/mesa/gl_vs_cpu_tex.c -o "$LOG/gl-vs-cpu-tex" \
	$(pkg-config --cflags --libs egl opengl) -lm 2>"$LOG/gl-vs-cpu-tex.build"; then
	timeout 300 "$LOG/gl-vs-cpu-tex" >"$LOG/gl-vs-cpu-tex.log" 2>&1
	# "VERDICT CASE[: why]", after the lines that say what went wrong
	while read -r verdict case_name why; do
		[ -n "$why" ] || why=$(grep "^gl-vs-cpu-tex: $case_name: " "$LOG/gl-vs-cpu-tex.log" | head -n 1 |
			sed "s/^gl-vs-cpu-tex: $case_name: //")
		case $verdict in
		PASS) ok "gl_vs_cpu_tex: $case_name" ;;
		SKIP) echo "SKIP gl_vs_cpu_tex: $case_name: $why" ;;
		*) bad "gl_vs_cpu_tex: $case_name" "${why:-failed} (log in $LOG/gl-vs-cpu-tex.log)" ;;
		esac
	done < <(sed -n 's/^gl-vs-cpu-tex: \(PASS\|FAIL\|SKIP\) \([^: ]*\):\{0,1\} *\(.*\)/\1 \2 \3/p' "$LOG/gl-vs-cpu-tex.log")
	grep -q "^gl-vs-cpu-tex: [0-9]* passed" "$LOG/gl-vs-cpu-tex.log" ||
		bad gl_vs_cpu_tex_runs_to_its_end "$(tail -n 1 "$LOG/gl-vs-cpu-tex.log")"
else
	bad gl_vs_cpu_tex_builds "$(head -n 3 "$LOG/gl-vs-cpu-tex.build")"
fi

kill -TERM $HOST_PID
wait $HOST_PID
status=$?
tail -n 1 "$LOG/host.out"
[ $status -eq 0 ] && ok host_shuts_down_clean || bad host_shuts_down_clean "exit status $status"

# The host-memory budget as a program meets it: the second host refuses
# a 65 MiB buffer, GL says GL_OUT_OF_MEMORY, and the context goes on
# (umd/mesa/gl_oom.c).
# shellcheck disable=SC2046 # pkg-config prints a list of flags
if cc -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE umd/mesa/gl_oom.c -o "$LOG/gl-oom" \
	$(pkg-config --cflags --libs egl opengl) 2>"$LOG/gl-oom.build"; then
	if VIRGO_SOCKET=$SOCK_OOM timeout 60 "$LOG/gl-oom" 64 >"$LOG/gl-oom.log" 2>&1; then
		ok gl_out_of_memory_past_the_host_budget
	else
		bad gl_out_of_memory_past_the_host_budget "$(tail -n 1 "$LOG/gl-oom.log")"
	fi
else
	bad gl_oom_builds "$(head -n 3 "$LOG/gl-oom.build")"
fi
kill -TERM $OOM_PID
wait $OOM_PID
status=$?
trap - EXIT
[ $status -eq 0 ] && ok host_with_a_budget_shuts_down_clean ||
	bad host_with_a_budget_shuts_down_clean "exit status $status"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
