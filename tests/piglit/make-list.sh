#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# make-list.sh: regenerates tests/piglit/parity-tests.txt, the fixed list
# that `make piglit-parity` (tests/piglit/parity.sh) runs. CI never runs
# this; the list it writes is checked in.
#
# The rule (repeated in the list's header):
#   1. the tests of `piglit print-cmd quick_gl` (Debian's piglit) whose
#      command line has -auto and -fbo (piglit runs those concurrently, with
#      no window), except glx@ (GLX needs X);
#   2. at most PER_PROGRAM tests of one test program (the first ones by
#      name), so that the few programs with hundreds of variants
#      (textureGather, tex-miplevel-selection, texelFetch...) do not crowd
#      out the rest;
#   3. run twice through Debian's Mesa on virpipe exactly as parity.sh runs
#      them (surfaceless EGL, two at a time); kept: passed both times, each
#      time within MAX_SECONDS (a test flaky on virpipe itself is no
#      reference, and slow ones would not fit CI's time);
#   4. sorted by name (C locale).
#
#   tests/piglit/make-list.sh [--reuse]
#
# --reuse takes the virpipe runs already in build/piglit-list/ (about 20 and
# 10 minutes on two cores) instead of running them again.
set -euo pipefail
cd "$(dirname "$0")/../.."
export LC_ALL=C

MAX_SECONDS=${MAX_SECONDS:-3}
PER_PROGRAM=${PER_PROGRAM:-20}
W=build/piglit-list
OUT=tests/piglit/parity-tests.txt
REUSE=
[[ "${1:-}" == --reuse ]] && REUSE=1
# Past MAX_SECONDS a test is out anyway: no need to wait parity.sh's minute.
export PARITY_TIMEOUT=20 PARITY_PHASE_LIMIT=7200

mkdir -p "$W"
# print-cmd's command lines are relative to the launcher's directory, which
# is where parity.sh runs them from.
(cd /usr/bin && piglit print-cmd quick_gl) |
	grep -v '^glx@' | grep -e ' -auto\b' | grep -e ' -fbo\b' | sort |
	awk -F ' ::: ' -v cap="$PER_PROGRAM" '
		{
			split($2, argv, " ")
			prog = argv[1]
			sub(/.*\//, "", prog)
			if (++n[prog] <= cap) print
		}' >"$W/candidates.txt"
echo "make-list: $(wc -l <"$W/candidates.txt") candidates"

# run N LIST: LIST on virpipe into $W/runN; prints the names that passed
# within MAX_SECONDS.
run() {
	if [[ -z "$REUSE" || ! -f "$W/run$1/virpipe/results.tsv" ]]; then
		bash tests/piglit/parity.sh --only virpipe --list "$2" --out "$W/run$1" >&2
	fi
	awk -F '\t' -v max="$MAX_SECONDS" '$2 == "pass" && $3 + 0 <= max + 0 { print $1 }' \
		"$W/run$1/virpipe/results.tsv" | sort
}
# only NAMES LIST: the lines of LIST whose test NAMES lists.
only() { awk -F ' ::: ' 'NR == FNR { keep[$0] = 1; next } keep[$1]' "$1" "$2"; }

run 1 "$W/candidates.txt" >"$W/pass1.txt"
only "$W/pass1.txt" "$W/candidates.txt" >"$W/second.txt"
run 2 "$W/second.txt" >"$W/pass2.txt"
echo "make-list: $(wc -l <"$W/pass1.txt") passed the first run, $(wc -l <"$W/pass2.txt") of them the second"

{
	cat <<-EOF
	# SPDX-License-Identifier: MIT
	#
	# The piglit tests of \`make piglit-parity\` (tests/piglit/parity.sh), as
	# name ::: command from \`piglit print-cmd quick_gl\` of Debian 12's piglit
	# (commands relative to the launcher's directory). Written by
	# tests/piglit/make-list.sh; do not edit by hand. The rule:
	#   1. quick_gl tests whose command has -auto and -fbo (piglit runs them
	#      concurrently, with no window), except glx@ (needs X);
	#   2. at most ${PER_PROGRAM} of one test program (the first by name);
	#   3. that passed twice through Debian's Mesa on virpipe
	#      (virgl_test_server), two at a time, within ${MAX_SECONDS} s each time;
	#   4. sorted by name (C locale).
	EOF
	only "$W/pass2.txt" "$W/second.txt"
} >"$OUT"
echo "make-list: $(grep -cv '^#' "$OUT") tests in $OUT"
