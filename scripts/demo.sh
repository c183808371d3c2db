#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# demo.sh: `make demo`. Starts virgo-host on a private socket, renders the
# triangle scene through the whole stack with virgo-demo, writes
# build/demo.png, and stops the host.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/native
OUT=build/demo.png
SOCK="${XDG_RUNTIME_DIR:-/tmp}/virgo-demo-$$.sock"
LOG=build/demo-host.log

rm -f "$LOG.out" # one left from the last run would say "ready" too soon
"$BIN/host/virgo-host" --socket "$SOCK" --log-level "${VIRGO_LOG:-warn}" >"$LOG.out" 2>"$LOG" &
HOST=$!
cleanup() { kill -TERM "$HOST" 2>/dev/null || true; wait "$HOST" 2>/dev/null || true; }
trap cleanup EXIT

# The host prints "ready" once the device is up and the socket listens.
for _ in $(seq 1 300); do
	grep -q "ready on" "$LOG.out" 2>/dev/null && break
	kill -0 "$HOST" 2>/dev/null || { echo "demo: virgo-host failed to start:" >&2; cat "$LOG" >&2; exit 1; }
	sleep 0.1
done
grep -q "ready on" "$LOG.out" || { echo "demo: virgo-host did not become ready" >&2; exit 1; }

VIRGO_SOCKET="$SOCK" "$BIN/demo/virgo-demo" "$OUT"
echo "demo: open $OUT to see the frame (blue background, red triangle)"
