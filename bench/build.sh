#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# build.sh: builds build/bench/virgo-bench, the benchmark client, with the
# project's flags (C11, -Wall -Wextra -Werror). It links only libEGL and
# glvnd's libOpenGL, so the same binary runs on Debian's Mesa and on ours
# (the environment decides which), plus the virgo transport for the uAPI
# micro-benchmark. Rebuilds only when a source is newer than the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=build/bench
BIN=$OUT/virgo-bench
SRCS=(bench/bench_main.c bench/bench_util.c bench/bench_gl.c bench/bench_uapi.c
      umd/transport/wire.c umd/transport/vtp_posix.c)
HDRS=(bench/bench.h umd/transport/vtp.h umd/transport/wire.h include/virgo/uapi.h)

mkdir -p "$OUT"
if [[ -x "$BIN" ]]; then
	newer=$(find "${SRCS[@]}" "${HDRS[@]}" bench/build.sh -newer "$BIN" | head -1)
	[[ -z "$newer" ]] && exit 0
fi
# shellcheck disable=SC2046
cc -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-Iinclude -Iumd/transport \
	"${SRCS[@]}" -o "$BIN.tmp" \
	$(pkg-config --cflags --libs egl opengl) -lpthread -lm
mv "$BIN.tmp" "$BIN"
echo "bench: built $BIN"
