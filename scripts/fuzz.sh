#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/fuzz.sh [SECONDS] [FUZZER...]: builds the libFuzzer targets of
# tests/fuzz with clang (ASan + UBSan) into build/fuzz, writes the seed
# corpora into build/fuzz/corpus/<fuzzer>/, replays every regression input
# of tests/fuzz/regress/<fuzzer>/, then runs each fuzzer for SECONDS
# (default 60). Fuzzers: fuzz_uapi fuzz_device fuzz_transport (default all).
# A fuzzer passes when its regression inputs replay clean and its run ends
# with no finding. Ends with "N passed, N failed"; exits 1 if any failed.
# FUZZ_RUNS=N runs each fuzzer for N executions instead of SECS (the long
# runs of docs/reliability.md: FUZZ_RUNS=10000000, with FUZZ_OUT=build/
# fuzz-long so that make check's smoke runs do not touch them).
# Every run that is not the smoke keeps its log as <out>/runs/<fuzzer>-
# <time>.log, headed by the identity of the code it ran (a hash of the
# fuzzer's objects); scripts/fuzz-tally.sh sums the executions of the runs
# of one identity, which is how the long runs reach their count across
# sessions (a run stopped by the end of a session counts up to its last
# progress line).
# Findings are written to build/fuzz/findings/<fuzzer>/. FUZZ_SEED=N fixes
# libFuzzer's seed, so a short run explores the same inputs each time (what
# `make check` uses: a finding there is reproducible with the same seed).
#
# Coverage instrumentation goes only into the code under test (the core
# for fuzz_uapi; the device model for fuzz_device; the socket decoder and
# the core behind it for fuzz_transport); the harnesses' machinery (the
# fake machine, the host's OS layer) gets ASan and UBSan only, so libFuzzer
# steers by what the target does. fuzz_transport links tests/fuzz/
# stub_virgl.c instead of libvirglrenderer (see there why);
# FUZZ_TRANSPORT_VIRGL=real links the real one. FUZZ_ARGS adds libFuzzer
# options (e.g. -fork=2) to the timed runs. docs/reliability.md has the
# long runs.
set -u
# The whole script is one block, read before it runs: a long run keeps
# running what it started with when this file is edited meanwhile.
{
cd "$(dirname "$0")/.."

SECS=${1:-60}
shift || true
FUZZERS=("$@")
[ ${#FUZZERS[@]} -gt 0 ] || FUZZERS=(fuzz_uapi fuzz_device fuzz_transport)

# FUZZ_OUT: another build directory (a long run beside make check's).
OUT=${FUZZ_OUT:-build/fuzz}
OBJ=$OUT/obj
CC=${FUZZ_CC:-clang}
JOBS=$(nproc 2>/dev/null || echo 2)
CFLAGS=(-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
	-Iinclude -Ikmd/core -Ikmd/posix -Iuapi -Ihost -Itests/unit -Itests/fuzz)
COV=-fsanitize=fuzzer-no-link
LDFLAGS=(-fsanitize=fuzzer,address,undefined)
VIRGL_CFLAGS=$(pkg-config --cflags virglrenderer 2>/dev/null || echo -I/usr/include/virgl)
VIRGL_LIBS=$(pkg-config --libs virglrenderer 2>/dev/null || echo -lvirglrenderer)

command -v "$CC" >/dev/null || { echo "fuzz.sh: $CC not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
mkdir -p "$OBJ/cov" "$OBJ/plain"

CORE=(kmd/core/*.c)
FAKE=(tests/unit/fake_os.c tests/unit/fake_sync.c tests/unit/fake_user.c tests/unit/fake_ram.c
      tests/unit/fake_pci.c tests/unit/fake_dev.c tests/unit/fake_vq.c tests/unit/fake_gpu.c tests/unit/fake_res.c
      tests/unit/fake_paged.c)
DEV=(host/ram.c host/vpci.c host/vqdev.c host/vgpu.c host/vgpu_cmd.c host/vgpu_mem.c)
HOST=(host/os_host.c host/machine.c kmd/posix/os_posix.c host/log.c)
# The socket encoding's server side (host/server.c decodes with it)
WIRE=(uapi/wire_server.c)

# Objects live in obj/cov (instrumented for coverage) or obj/plain.
obj_of() { local s=${2//\//_}; echo "$OBJ/$1/${s%.c}.o"; }

# compile cov|plain SOURCES...: compiles what changed (source or any header
# newer than the object).
compile() {
	local mode=$1 jobs=() s o newest flags
	shift
	newest=$(ls -t include/virgo/*.h kmd/core/*.h kmd/posix/*.h host/*.h uapi/*.h tests/unit/*.h tests/fuzz/*.h 2>/dev/null | head -1)
	for s in "$@"; do
		o=$(obj_of "$mode" "$s")
		if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ "$newest" -nt "$o" ]; then
			jobs+=("$s")
		fi
	done
	[ ${#jobs[@]} -eq 0 ] && return 0
	flags="${CFLAGS[*]} $VIRGL_CFLAGS"
	[ "$mode" = cov ] && flags="$flags $COV"
	printf '%s\n' "${jobs[@]}" | xargs -P "$JOBS" -I{} sh -c \
		'o='"$OBJ/$mode"'/$(echo {} | tr / _); o=${o%.c}.o; '"$CC"' '"$flags"' -c {} -o $o || exit 255'
}

# link NAME COV-SOURCES... -- PLAIN-SOURCES... -- LIBS...
link() {
	local name=$1 objs=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do objs+=("$(obj_of cov "$1")"); shift; done
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do objs+=("$(obj_of plain "$1")"); shift; done
	shift
	"$CC" "${LDFLAGS[@]}" "${objs[@]}" "$@" -o "$OUT/$name" &&
		cat "${objs[@]}" | sha256sum | cut -c1-16 >"$OUT/$name.code"
}

# build NAME "COV-SOURCES" "PLAIN-SOURCES" LIBS...
build() {
	local name=$1 cov plain
	read -r -a cov <<<"$2"
	read -r -a plain <<<"$3"
	shift 3
	compile cov "${cov[@]}" && compile plain "${plain[@]}" &&
		link "$name" "${cov[@]}" -- "${plain[@]}" -- "$@"
}

echo "fuzz.sh: building into $OUT with $CC"
build_ok=1
for f in "${FUZZERS[@]}"; do
	case $f in
	fuzz_uapi) build fuzz_uapi "${CORE[*]} tests/fuzz/fuzz_uapi.c" "${FAKE[*]}" || build_ok=0 ;;
	fuzz_device) build fuzz_device "${DEV[*]} tests/fuzz/fuzz_device.c" "host/log.c" \
		$VIRGL_LIBS -lpthread || build_ok=0 ;;
	fuzz_transport)
		if [ "${FUZZ_TRANSPORT_VIRGL:-stub}" = real ]; then
			build fuzz_transport "${CORE[*]} host/server.c ${WIRE[*]} tests/fuzz/fuzz_transport.c" \
				"${DEV[*]} ${HOST[*]}" $VIRGL_LIBS -lpthread || build_ok=0
		else
			build fuzz_transport "${CORE[*]} host/server.c ${WIRE[*]} tests/fuzz/fuzz_transport.c" \
				"${DEV[*]} ${HOST[*]} tests/fuzz/stub_virgl.c" -lpthread || build_ok=0
		fi ;;
	*) echo "fuzz.sh: unknown fuzzer $f"; build_ok=0 ;;
	esac
done
"$CC" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Itests/fuzz tests/fuzz/gen_seeds.c -o "$OUT/gen_seeds" || build_ok=0
[ $build_ok = 1 ] || { echo "fuzz.sh: build failed"; echo "0 passed, ${#FUZZERS[@]} failed"; exit 1; }
"$OUT/gen_seeds" "$OUT/corpus" || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
pass=0 fail=0
for f in "${FUZZERS[@]}"; do
	ok=1
	log=$OUT/$f.log
	find_dir=$OUT/findings/$f
	mkdir -p "$find_dir" "$OUT/corpus/$f"
	# LSan is off for the fuzzers on virglrenderer (Mesa's and EGL's
	# allocations are not ours); they check their own counters.
	extra=()
	[ "$f" = fuzz_uapi ] || extra=(-detect_leaks=0)
	[ -z "${FUZZ_SEED:-}" ] || extra+=(-seed="$FUZZ_SEED")
	reg=(tests/fuzz/regress/$f/*.bin)
	if [ -e "${reg[0]}" ]; then
		for r in "${reg[@]}"; do
			if ! timeout 120 "$OUT/$f" "${extra[@]}" "$r" >"$log.regress" 2>&1; then
				echo "FAIL $f: regression input $r (see $log.regress)"
				ok=0
			fi
		done
	fi
	if [ $ok = 1 ]; then
		# FUZZ_SMOKE=1: a fixed number of runs (with FUZZ_SEED, the same
		# inputs on every machine, however fast); else SECS of fuzzing.
		if [ -n "${FUZZ_SMOKE:-}" ]; then
			case $f in
			fuzz_uapi) limit=(-runs=15000) ;;
			fuzz_device) limit=(-runs=1500) ;;
			*) limit=(-runs=4000) ;;
			esac
		elif [ -n "${FUZZ_RUNS:-}" ]; then
			limit=(-runs="$FUZZ_RUNS")
		else
			limit=(-max_total_time="$SECS")
		fi
		# shellcheck disable=SC2206 # FUZZ_ARGS is a list of options
		[ -n "${FUZZ_SMOKE:-}" ] || [ -z "${FUZZ_ARGS:-}" ] || limit+=(${FUZZ_ARGS})
		if [ -z "${FUZZ_SMOKE:-}" ]; then
			mkdir -p "$OUT/runs"
			log=$OUT/runs/$f-$(date -u +%Y%m%dT%H%M%SZ).log
			{
				echo "# fuzzer $f"
				echo "# code $(cat "$OUT/$f.code" 2>/dev/null || echo unknown)"
				echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (with changes)')"
				echo "# started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
			} >"$log"
			ln -sf "runs/$(basename "$log")" "$OUT/$f.log"
		else
			rm -f "$log"
			: >"$log"
		fi
		# A run of FUZZ_RUNS executions takes what it takes (hours).
		tmo=$((SECS * 4 + 300))
		[ -z "${FUZZ_RUNS:-}" ] || tmo=$((7 * 24 * 3600))
		timeout "$tmo" "$OUT/$f" "${extra[@]}" "${limit[@]}" -timeout=30 \
			-rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$find_dir/" \
			"$OUT/corpus/$f" >>"$log" 2>&1
		rc=$?
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
		echo "$f: ${runs:-?} executions, ${eps:-?} exec/s"
		if [ $rc -ne 0 ] && grep -aq 'libFuzzer: run interrupted' "$log"; then
			# SIGINT (the end of a session): libFuzzer exits 72 with its
			# statistics, and nothing was found.
			echo "STOP $f: interrupted after ${runs:-?} executions"
		elif [ $rc -ne 0 ]; then
			echo "FAIL $f: finding (exit $rc), see $log and $find_dir/"
			grep -m3 -E "FAIL|ERROR: |SUMMARY" "$log" | sed 's/^/    /'
			ok=0
		fi
	fi
	if [ $ok = 1 ]; then echo "PASS $f"; pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
exit
}
