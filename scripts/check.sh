#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check.sh: run every test suite and end with one line "N passed, N failed"
# summing them all; exit non-zero if anything failed. `make check` runs this.
#
# A suite is a make target. Its own last "N passed, N failed" line (a one-word
# "label: " prefix is allowed) gives its counts; a suite that prints no such
# line (e.g. a compile-only check) counts as 1 test, passed or failed by its
# exit status. A suite that exits non-zero with 0 failures counted gets 1
# failure added (a crash or sanitizer report after its summary).
set -uo pipefail

cd "$(dirname "$0")/.."
export PATH="/usr/bin:/bin:$PATH"   # Debian's meson and python3 first

# name | make target | guard: a file that must exist for the suite to run
# (empty: always runs). A new suite adds one line here and its make target.
SUITES=(
	"unit|check-unit|"
	"uapi|check-uapi|"
	"layout|check-layout|"
	"win|check-win|"
	"win32|check-win32|"
	"reactos|check-reactos|scripts/reactos/check.sh"
	"host|check-host|tests/host/meson.build"
	"scenarios|check-scenarios|tests/scenarios/meson.build"
	"qemu|check-qemu|kmd/uio/meson.build"
	"mesa|check-mesa|umd/mesa/smoke.sh"
	"wine|check-wine|scripts/check-wine.sh"
	"piglit|piglit-parity|tests/piglit/parity.sh"
	"bench|bench-smoke|bench/run.py"
	"soak|soak-smoke|tests/soak/run.sh"
	"fuzz|fuzz-smoke|scripts/fuzz.sh"
)

LOGDIR=build/check
mkdir -p "$LOGDIR"

if ! bash scripts/setup.sh; then
	echo "check: setup failed" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
export VIRGO_SETUP_DONE=1   # the suites' make targets skip setup

total_pass=0
total_fail=0
report=()
summary_re='^([A-Za-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed'

for entry in "${SUITES[@]}"; do
	IFS='|' read -r name target guard <<<"$entry"
	if [[ -n "$guard" && ! -e "$guard" ]]; then
		report+=("  $name: skipped ($guard not there yet)")
		continue
	fi
	log="$LOGDIR/$name.log"
	echo "=== suite $name: make $target"
	start=$SECONDS
	make --no-print-directory "$target" 2>&1 | tee "$log"
	status=${PIPESTATUS[0]}
	secs=$((SECONDS - start))

	line=$(grep -E "$summary_re" "$log" | tail -n 1 || true)
	if [[ -n "$line" && "$line" =~ $summary_re ]]; then
		p=${BASH_REMATCH[2]}
		f=${BASH_REMATCH[3]}
		if ((status != 0 && f == 0)); then
			f=1
		fi
	elif ((status == 0)); then
		p=1 f=0
	else
		p=0 f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	report+=("  $name: $p ok, $f not ok, exit $status, ${secs}s (log: $log)")
done

echo "=== summary"
printf '%s\n' "${report[@]}"
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
