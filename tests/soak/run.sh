#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/soak/run.sh [SECONDS]: the soak test (tests/soak/soak.c): 16 clients
# for SECONDS (default 60) through virgo-host, then resources, handles,
# kernel objects, guest pages, file descriptors and memory must be back at
# their baseline, and the host must shut down clean. Ends with the soak's
# "N passed, N failed"; exits non-zero if anything failed.
#
# Uses build/native (make native first): virgo-host and the soak program
# (build/native/tests/soak/soak).
# SOAK_CLIENTS=N changes the number of clients; SOAK_HOST=PATH runs another
# virgo-host (e.g. build/asan/host/virgo-host; its RSS then means little).
# Logs: build/soak/soak-SECONDS.log, build/soak/host-SECONDS.log.
set -uo pipefail
cd "$(dirname "$0")/../.."

SECS=${1:-60}
HOST=${SOAK_HOST:-build/native/host/virgo-host}
OUT=build/soak
mkdir -p "$OUT"

if [ ! -x "$HOST" ]; then
	echo "soak: $HOST is not built (make native)"
	echo "0 passed, 1 failed"
	exit 1
fi

SOAK=build/native/tests/soak/soak
if [ ! -x "$SOAK" ]; then
	echo "soak: $SOAK is not built (make native)"
	echo "0 passed, 1 failed"
	exit 1
fi

"$SOAK" --clients "${SOAK_CLIENTS:-16}" --host-log "$OUT/host-$SECS.log" "$HOST" "$SECS" 2>&1 |
	tee "$OUT/soak-$SECS.log"
exit "${PIPESTATUS[0]}"
