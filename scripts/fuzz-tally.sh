#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/fuzz-tally.sh [OUT]: the executions of the kept fuzzer runs
# (OUT/runs/*.log, written by scripts/fuzz.sh; OUT defaults to
# build/fuzz-long), summed per fuzzer over the runs of the code it is built
# from now (OUT/<fuzzer>.code). A run counts up to its final statistics,
# (also when interrupted with SIGINT), or, if it was killed (the end of a
# session), up to its last progress line: an undercount, never an
# overcount. A run with a
# finding is listed and counts nothing. Prints one line per run and a
# total per fuzzer; exits 1 if a run of the current code has a finding.
set -u
cd "$(dirname "$0")/.."
OUT=${1:-build/fuzz-long}
[ -d "$OUT/runs" ] || { echo "fuzz-tally: no runs in $OUT/runs"; exit 1; }

status=0
for f in fuzz_uapi fuzz_device fuzz_transport; do
	code=$(cat "$OUT/$f.code" 2>/dev/null || echo none)
	total=0 secs=0 n=0
	for log in "$OUT"/runs/"$f"-*.log; do
		[ -e "$log" ] || continue
		lcode=$(sed -n 's/^# code //p' "$log" | head -1)
		[ "$lcode" = "$code" ] || continue
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		how=done
		grep -aq 'libFuzzer: run interrupted' "$log" && how=interrupted
		if [ -z "$execs" ]; then
			execs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
			how=stopped
		fi
		execs=${execs:-0}
		start=$(sed -n 's/^# started //p' "$log" | head -1)
		t0=$(date -u -d "$start" +%s 2>/dev/null || echo 0)
		t1=$(stat -c %Y "$log")
		if grep -aqE '^==[0-9]+==ERROR|^SUMMARY: |deadly signal|Test unit written|out-of-memory|timeout after' "$log"; then
			echo "$f $(basename "$log"): FINDING after $execs executions (see the log)"
			status=1
			continue
		fi
		last=$(grep -aE '^#[0-9]+' "$log" | tail -1)
		cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1, ft \2, corpus \3/p')
		echo "$f $(basename "$log"): $execs executions in $(((t1 - t0) / 60)) min ($how; ${cov:-no progress line})"
		total=$((total + execs))
		secs=$((secs + t1 - t0))
		n=$((n + 1))
	done
	echo "== $f (code $code): $total executions in $n run(s), $((secs / 60)) min"
done
exit $status
