#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# parity.sh: the piglit tests of parity-tests.txt twice in one job, and every
# test that passes on Debian's own Mesa through virpipe must pass through
# virgo too. `make piglit-parity`.
#
#   virpipe  Debian's system Mesa, GALLIUM_DRIVER=virpipe -> vtest socket ->
#            virgl_test_server (virglrenderer on llvmpipe); the reference
#   virgo    our Mesa (build/mesa-linux, virgo winsys) -> socket -> a private
#            virgo-host (uAPI, kernel-driver core, virtio-gpu device,
#            virglrenderer on llvmpipe)
#
# Both run JOBS tests at a time, each under a timeout. A test that passes on
# virpipe but not on virgo is run once more on virgo, alone: if it passes
# then it is reported as a rerun and not counted against virgo (a test that
# is flaky on virpipe too must not turn CI red). What is left is a difference,
# which fails the run unless known-differences.txt names it. Reruns are
# counted too: more than PARITY_MAX_RERUNS (3) fails the run, since tests that
# pass alone but not beside another client are a bug of their own (it was:
# before virgo-host put virglrenderer back on its own GL context before every
# command, 15-23 tests a run failed beside another and passed alone).
#
# Checks: one per test that passes on virpipe, the GL version virgo reports
# (4.3 core or higher), the virpipe baseline being sane (so a broken
# reference cannot pass everything by passing nothing), and virgo-host's
# clean shutdown. Ends with "N passed, N failed".
#
#   tests/piglit/parity.sh [--list FILE] [--only virpipe|virgo] [--out DIR]
#
# Results: build/piglit-parity/results.tsv (test, virpipe, virgo, virgo
# rerun) and per-test logs in build/piglit-parity/{virpipe,virgo}/logs/.
# Environment: PARITY_JOBS (2), PARITY_TIMEOUT (60 s a test), PARITY_MAX_RERUNS (3),
# PARITY_PHASE_LIMIT (1500 s a path: tests not started by then are "notrun").
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd -P)
SELF=$ROOT/tests/piglit/parity.sh

JOBS=${PARITY_JOBS:-2}
TEST_TIMEOUT=${PARITY_TIMEOUT:-60}
MAX_RERUNS=${PARITY_MAX_RERUNS:-3}
PHASE_LIMIT=${PARITY_PHASE_LIMIT:-1500}
# piglit print-cmd gives command lines relative to the directory of the
# piglit launcher, and the tests find their data files from here.
PIGLIT_CWD=/usr/bin
export PIGLIT_SOURCE_DIR=/usr/lib/x86_64-linux-gnu/piglit
export PIGLIT_PLATFORM=surfaceless_egl
VTEST_SOCKET=/tmp/.virgl_test   # Mesa 22.3's virpipe knows no other

# Each pid we started that may still have descendants; the EXIT trap
# ends them (by pid, never by name).
LIVE=()

# kill_tree PID...: each PID and all its descendants. A parent is stopped
# first, so it starts no new child while its children are found and ended
# (found after its death they would have been reparented).
kill_tree() {
	local p c
	for p in "$@"; do
		kill -STOP "$p" 2>/dev/null || continue
		for c in $(pgrep -P "$p" 2>/dev/null); do
			kill_tree "$c"
		done
		kill -TERM "$p" 2>/dev/null
		kill -CONT "$p" 2>/dev/null
	done
}

# forget PID...: they have been waited for.
forget() {
	local p q keep=()
	for q in "${LIVE[@]}"; do
		for p in "$@"; do [[ "$q" == "$p" ]] && continue 2; done
		keep+=("$q")
	done
	LIVE=("${keep[@]}")
}

cleanup() {
	((${#LIVE[@]})) && kill_tree "${LIVE[@]}"
	LIVE=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bounded_wait PID SECS: wait for our child PID, killing it after SECS;
# returns its exit status. bash's wait has no timeout and kill -0 cannot
# tell a zombie from a live process, so /proc is polled.
bounded_wait() {
	local pid=$1 i stat
	for ((i = 0; i < $2 * 10; i++)); do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || break
		stat=${stat##*) }
		[[ "${stat%% *}" == Z ]] && break
		sleep 0.1
	done
	((i < $2 * 10)) || kill -KILL "$pid" 2>/dev/null
	wait "$pid"
}

# The GL our environment gives a core context: wflinfo's report in FILE.
gl_info() {
	timeout -k 5 60 wflinfo --platform surfaceless_egl --api gl --profile core >"$1" 2>&1 </dev/null
}
gl_field() { sed -n "s/^OpenGL $1 string: //p" "$2" | head -n 1; }

# worker LIST DIR DEADLINE: take the next test of LIST (a counter under a
# lock, so a slow test does not hold the others up), run it, print
# "name<TAB>result<TAB>seconds". Its log goes to DIR/logs/.
worker() {
	local list=$1 dir=$2 deadline=$3 lock n name cmd f st r t0 ms
	local -a lines argv
	trap - EXIT INT TERM   # the EXIT trap is the parent's business
	mapfile -t lines < <(grep -v -e '^#' -e '^[[:space:]]*$' "$list")
	exec {lock}>"$dir/next.lock"
	cd "$PIGLIT_CWD" || exit 1
	while :; do
		flock "$lock"
		n=$(<"$dir/next")
		echo $((n + 1)) >"$dir/next"
		flock -u "$lock"
		((n < ${#lines[@]})) || break
		name=${lines[n]%% ::: *}
		cmd=${lines[n]#* ::: }
		if ((SECONDS >= deadline)); then
			printf '%s\tnotrun\t0\n' "$name"
			continue
		fi
		f="$dir/logs/${name//[\/ ]/_}.log"
		read -ra argv <<<"$cmd"
		# Surfaceless EGL has no window: every test draws into an FBO.
		[[ " $cmd " == *" -fbo "* ]] || argv+=(-fbo)
		t0=${EPOCHREALTIME/./}
		# (the braces keep bash's "Aborted" notices out of the report)
		{ timeout -k 5 "$TEST_TIMEOUT" "${argv[@]}" >"$f" 2>&1 </dev/null; } 2>/dev/null
		st=$?
		ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
		r=$(grep -o '"result": *"[a-z]*"' "$f" | tail -n 1 | sed 's/.*: *"//;s/"//')
		# As piglit's own runner judges: a signal or a missing verdict is a
		# crash, a pass with a failing exit status a warning.
		if ((st == 124 || st == 137)); then
			r=timeout
		elif [[ -z "$r" ]] || ((st > 128)); then
			r=crash
		elif [[ "$r" == pass ]] && ((st != 0)); then
			r=warn
		fi
		printf '%s\t%s\t%d.%03d\n' "$name" "$r" $((ms / 1000)) $((ms % 1000))
	done
}

# run_tests LIST DIR: every test of LIST, JOBS at a time, into
# DIR/results.tsv (sorted by name) and DIR/logs/.
run_tests() {
	local list=$1 dir=$2 w deadline=$((SECONDS + PHASE_LIMIT)) t0=$SECONDS
	local -a pids=()
	mkdir -p "$dir/logs"
	echo 0 >"$dir/next"
	for ((w = 0; w < JOBS; w++)); do
		worker "$list" "$dir" "$deadline" >"$dir/results.$w" &
		pids+=($!)
	done
	LIVE+=("${pids[@]}")
	# Bounded: every test has its timeout, and none starts after the deadline.
	wait "${pids[@]}"
	forget "${pids[@]}"
	sort -t $'\t' -k1,1 "$dir"/results.[0-9]* >"$dir/results.tsv"
	rm -f "$dir"/results.[0-9]* "$dir/next" "$dir/next.lock"
	echo "$(basename "$dir"): $(wc -l <"$dir/results.tsv") tests in $((SECONDS - t0)) s," \
		"$(grep -c $'\tpass\t' "$dir/results.tsv") passed"
}

# The environment that would load our Mesa or pick our driver: never on the
# virpipe side.
OUR_ENV=(-u LD_LIBRARY_PATH -u LIBGL_DRIVERS_PATH -u __EGL_VENDOR_LIBRARY_FILENAMES
	-u __GLX_VENDOR_LIBRARY_NAME -u GALLIUM_DRIVER -u VIRGO_SOCKET -u VIRGO_TRANSPORT)

# Inside its own mount namespace (see run_virpipe): a private /tmp, so
# this server's vtest socket is the only one its clients can see.
virpipe_inner() {
	local list=$1 dir=$2 srv p fd i=0
	local -a keep=() fds=()
	# What we read and write under /tmp (a checkout there, or --out there)
	# would be hidden by the new /tmp: held open now, bound back after.
	for p in "$ROOT" "$dir"; do
		if [[ "$p" == /tmp/?* ]]; then
			exec {fd}<"$p"
			fds[i]=$fd
			keep[i]=$p
			i=$((i + 1))
		fi
	done
	mount -t tmpfs -o mode=1777 virgo-parity /tmp || { echo "virpipe: cannot mount a private /tmp" >&2; exit 1; }
	for ((i = 0; i < ${#keep[@]}; i++)); do
		# -c: mount would otherwise resolve the fd link to its path name,
		# which now names the new tmpfs.
		if ! mkdir -p "${keep[i]}" || ! mount -c --bind "/proc/$$/fd/${fds[i]}" "${keep[i]}"; then
			echo "virpipe: cannot keep ${keep[i]} visible" >&2
			exit 1
		fi
		fd=${fds[i]}
		exec {fd}<&-
	done
	cd / || exit 1
	virgl_test_server --use-egl-surfaceless --socket-path="$VTEST_SOCKET" >"$dir/server.log" 2>&1 </dev/null &
	srv=$!
	LIVE+=("$srv")
	for _ in $(seq 1 300); do
		[[ -S "$VTEST_SOCKET" ]] && break
		kill -0 "$srv" 2>/dev/null || break
		sleep 0.1
	done
	if [[ ! -S "$VTEST_SOCKET" ]]; then
		echo "virpipe: virgl_test_server did not start (see $dir/server.log)" >&2
		exit 1
	fi
	export GALLIUM_DRIVER=virpipe LIBGL_ALWAYS_SOFTWARE=1
	gl_info "$dir/wflinfo.txt"
	run_tests "$list" "$dir"
	# The server forks a process per client; all of them must be gone.
	kill_tree "$srv"
	bounded_wait "$srv" 30
	LIVE=()
	exit 0
}

# run_virpipe LIST DIR: the reference path, in a mount namespace of its own
# (root: unshare -m; otherwise a user namespace too, unshare -rm).
run_virpipe() {
	local list=$1 dir=$2
	local -a ns
	mkdir -p "$dir"
	cp "$list" "$dir/tests.txt"   # where the namespace can see it
	if unshare -m true 2>/dev/null; then
		ns=(unshare -m --propagation private)
	elif unshare -rm true 2>/dev/null; then
		ns=(unshare -rm --propagation private)
	else
		echo "virpipe: cannot make a mount namespace (unshare -m, unshare -rm)" >&2
		return 1
	fi
	in_bg env "${OUR_ENV[@]}" "${ns[@]}" bash "$SELF" --virpipe-inner "$dir/tests.txt" "$dir"
}

# virgo side ------------------------------------------------------------

HOST=$ROOT/build/native/host/virgo-host
HOST_PID=
start_host() {
	local dir=$1
	SOCK="${XDG_RUNTIME_DIR:-/tmp}/virgo-parity-$$.sock"
	rm -f "$dir/host.out" # one left from the last run would say "ready" too soon
	"$HOST" --socket "$SOCK" --ram 1024 >"$dir/host.out" 2>"$dir/host.err" </dev/null &
	HOST_PID=$!
	LIVE+=("$HOST_PID")
	for _ in $(seq 1 300); do
		grep -q "ready on" "$dir/host.out" 2>/dev/null && return 0
		kill -0 "$HOST_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "virgo: virgo-host did not start (see $dir/host.err)" >&2
	return 1
}

# stop_host: SIGTERM and a bounded wait; returns virgo-host's exit status.
stop_host() {
	local st
	kill -TERM "$HOST_PID" 2>/dev/null
	bounded_wait "$HOST_PID" 60
	st=$?
	forget "$HOST_PID"
	rm -f "$SOCK"
	return $st
}

# run_virgo LIST DIR [noinfo]: our Mesa through the running virgo-host.
run_virgo() (
	local list=$1 dir=$2
	# shellcheck disable=SC1091
	. "$ROOT/build/mesa-linux/env.sh"
	export VIRGO_SOCKET="$SOCK" GALLIUM_DRIVER=virgo LIBGL_ALWAYS_SOFTWARE=1
	mkdir -p "$dir"
	[[ -n "${3:-}" ]] || gl_info "$dir/wflinfo.txt"
	run_tests "$list" "$dir"
)

# in_bg CMD...: CMD as a background job, waited for, so that a signal to
# this script is handled at once (bash runs traps only between foreground
# commands) and the EXIT trap can end CMD's processes.
in_bg() {
	local pid st
	"$@" &
	pid=$!
	LIVE+=("$pid")
	wait "$pid"
	st=$?
	forget "$pid"
	return $st
}

# main ------------------------------------------------------------------

if [[ "${1:-}" == --virpipe-inner ]]; then
	virpipe_inner "$2" "$3"   # exits
fi

LIST=$ROOT/tests/piglit/parity-tests.txt
KNOWN=$ROOT/tests/piglit/known-differences.txt
OUT=$ROOT/build/piglit-parity
ONLY=
while (($#)); do
	case $1 in
	--list) LIST=$(realpath "$2"); shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--out) mkdir -p "$2" && OUT=$(cd "$2" && pwd -P); shift 2 ;;
	*) echo "usage: $0 [--list FILE] [--only virpipe|virgo] [--out DIR]" >&2; exit 2 ;;
	esac
done
[[ -f "$LIST" ]] || { echo "parity: no list $LIST" >&2; exit 2; }

T0=$SECONDS
rm -rf "$OUT/virpipe" "$OUT/virgo" "$OUT/virgo-rerun" "$OUT/results.tsv"
mkdir -p "$OUT"

if [[ "$ONLY" == virpipe ]]; then
	run_virpipe "$LIST" "$OUT/virpipe"
	exit
fi

pass=0
fail=0
ok() { echo "PASS $1${2:+: $2}"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }

if ! bash umd/mesa/build.sh linux; then
	echo "FAIL mesa_builds"
	echo "0 passed, 1 failed"
	exit 1
fi

ntests=$(grep -cv -e '^#' -e '^[[:space:]]*$' "$LIST")
echo "parity: $ntests piglit tests, $JOBS at a time, ${TEST_TIMEOUT} s each at most"

if [[ -z "$ONLY" ]]; then
	echo "parity: virpipe (Debian's Mesa -> virgl_test_server)"
	run_virpipe "$LIST" "$OUT/virpipe" || bad virpipe_runs "see $OUT/virpipe"
fi

echo "parity: virgo (our Mesa -> virgo-host)"
mkdir -p "$OUT/virgo"
if ! start_host "$OUT/virgo"; then
	bad host_starts "see $OUT/virgo/host.err"
	echo "$pass passed, $fail failed"
	exit 1
fi
in_bg run_virgo "$LIST" "$OUT/virgo"

declare -A VP VG RR
if [[ -f "$OUT/virpipe/results.tsv" ]]; then
	while IFS=$'\t' read -r name r _; do VP[$name]=$r; done <"$OUT/virpipe/results.tsv"
fi
while IFS=$'\t' read -r name r _; do VG[$name]=$r; done <"$OUT/virgo/results.tsv"

# A virgo failure of a test that passed on virpipe gets one more try, alone.
grep -v -e '^#' -e '^[[:space:]]*$' "$LIST" | while IFS= read -r line; do
	name=${line%% ::: *}
	[[ "${VP[$name]:-}" == pass && "${VG[$name]:-}" != pass ]] && echo "$line"
done >"$OUT/rerun-tests.txt"
if [[ -s "$OUT/rerun-tests.txt" ]]; then
	echo "parity: $(wc -l <"$OUT/rerun-tests.txt") virgo failures run once more, alone"
	JOBS=1 in_bg run_virgo "$OUT/rerun-tests.txt" "$OUT/virgo-rerun" noinfo
	while IFS=$'\t' read -r name r _; do RR[$name]=$r; done <"$OUT/virgo-rerun/results.tsv"
fi

stop_host
host_status=$?
tail -n 1 "$OUT/virgo/host.out"

# Report ----------------------------------------------------------------

declare -A KN
if [[ -f "$KNOWN" ]]; then
	while IFS= read -r line; do
		line=${line%%#*}
		line=${line%"${line##*[![:space:]]}"}
		[[ -n "$line" ]] && KN[$line]=1
	done <"$KNOWN"
fi

vp_pass=0 vg_pass=0 reruns=() diffs=() known=() known_ok=() virgo_only=0
printf 'test\tvirpipe\tvirgo\tvirgo_rerun\n' >"$OUT/results.tsv"
while IFS= read -r name; do
	vp=${VP[$name]:-none} vg=${VG[$name]:-none} rr=${RR[$name]:-}
	printf '%s\t%s\t%s\t%s\n' "$name" "$vp" "$vg" "$rr" >>"$OUT/results.tsv"
	[[ "$vp" == pass ]] && vp_pass=$((vp_pass + 1))
	[[ "$vg" == pass ]] && vg_pass=$((vg_pass + 1))
	[[ "$vp" != pass && "$vg" == pass ]] && virgo_only=$((virgo_only + 1))
	[[ "$vp" == pass ]] || continue
	if [[ "$vg" == pass ]]; then
		pass=$((pass + 1))
		[[ -n "${KN[$name]:-}" ]] && known_ok+=("$name")
	elif [[ "$rr" == pass ]]; then
		pass=$((pass + 1))
		reruns+=("$name ($vg, then pass alone)")
	elif [[ -n "${KN[$name]:-}" ]]; then
		pass=$((pass + 1))
		known+=("$name (virgo: $vg${rr:+, rerun $rr})")
	else
		bad "piglit: $name" "passes on virpipe, virgo: $vg${rr:+, rerun alone: $rr} (log: ${OUT#"$ROOT"/}/virgo${rr:+-rerun}/logs/${name//[\/ ]/_}.log)"
		diffs+=("$name")
	fi
done < <(grep -v -e '^#' -e '^[[:space:]]*$' "$LIST" | sed 's/ ::: .*//' | sort)

vp_version=$(gl_field version "$OUT/virpipe/wflinfo.txt" 2>/dev/null)
vp_renderer=$(gl_field renderer "$OUT/virpipe/wflinfo.txt" 2>/dev/null)
vg_version=$(gl_field version "$OUT/virgo/wflinfo.txt")
vg_renderer=$(gl_field renderer "$OUT/virgo/wflinfo.txt")
echo "virpipe: $vp_pass of $ntests passed; GL '$vp_version', renderer '$vp_renderer'"
echo "virgo:   $vg_pass of $ntests passed; GL '$vg_version', renderer '$vg_renderer'"
echo "virgo passes $virgo_only tests that virpipe does not"
for r in "${reruns[@]}"; do echo "RERUN $r"; done
for k in "${known[@]}"; do echo "KNOWN $k"; done
for k in "${known_ok[@]}"; do echo "NOTE known difference passes now (drop it from known-differences.txt): $k"; done

if [[ "$vg_version" =~ ^(4\.[3-9]|[5-9]\.[0-9]+)\ \(Core\ Profile\) ]]; then
	ok gl_version "virgo: $vg_version"
else
	bad gl_version "virgo reports '$vg_version', not 4.3 core or higher"
fi
# The reference must be Debian's virpipe and pass nearly all the list (it was
# chosen from what passes there), or the comparison means nothing.
if [[ -z "$ONLY" ]]; then
	if [[ "$vp_renderer" == virgl\ * ]] && ((vp_pass * 100 >= ntests * 95)); then
		ok virpipe_baseline "$vp_pass of $ntests pass on '$vp_renderer'"
	else
		bad virpipe_baseline "$vp_pass of $ntests pass on '$vp_renderer' (expected at least 95%)"
	fi
fi
if [[ "$ONLY" != virpipe ]]; then
	if ((${#reruns[@]} <= MAX_RERUNS)); then
		ok few_reruns "${#reruns[@]} tests passed only when run again alone (at most $MAX_RERUNS)"
	else
		bad few_reruns "${#reruns[@]} tests passed only when run again alone (at most $MAX_RERUNS): tests disturb each other on one virgo-host"
	fi
fi
if ((host_status == 0)); then
	ok host_clean_shutdown
else
	bad host_clean_shutdown "virgo-host exit status $host_status (see $OUT/virgo/host.out)"
fi

echo "parity: $((SECONDS - T0)) s; ${#diffs[@]} differences, ${#reruns[@]} reruns passed, ${#known[@]} known; results in ${OUT#"$ROOT"/}/results.tsv"
echo "$pass passed, $fail failed"
((fail == 0))
