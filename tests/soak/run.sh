#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/soak/run.sh [SECONDS]: the soak test (tests/soak/soak.c): 16 clients
# for SECONDS (default 60) through virgo-host, then resources, handles,
# kernel objects, guest pages, file descriptors and memory must be back at
# their baseline, and the host must shut down clean. Ends with the soak's
# "N passed, N failed"; exits non-zero if anything failed.
#
# Uses build/native (make native first). The soak program comes from the
# Meson build (build/native/tests/soak/soak) when the top-level meson.build
# includes tests/soak, else it is compiled here into build/soak.
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
	SOAK=$OUT/soak
	SRCS=(tests/soak/soak.c umd/transport/wire.c umd/transport/vtp_posix.c demo/virgl_enc.c demo/scene_triangle.c)
	stale=0
	[ -x "$SOAK" ] || stale=1
	for s in "${SRCS[@]}" include/virgo/*.h umd/transport/*.h demo/*.h; do
		[ "$s" -nt "$SOAK" ] && stale=1
	done
	if [ $stale = 1 ] && ! ${CC:-cc} -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude \
		-Iumd/transport -Idemo "${SRCS[@]}" -lpthread -o "$SOAK"; then
		echo "soak: build failed"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

"$SOAK" --clients "${SOAK_CLIENTS:-16}" --host-log "$OUT/host-$SECS.log" "$HOST" "$SECS" 2>&1 |
	tee "$OUT/soak-$SECS.log"
exit "${PIPESTATUS[0]}"
