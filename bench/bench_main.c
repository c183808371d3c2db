/* SPDX-License-Identifier: MIT */
/*
 * virgo-bench: the benchmark client. bench/run.py starts it once per run,
 * on each path, and reads its one "BENCH {...}" line.
 *
 *   virgo-bench gl WORKLOAD [--frames N] [--warmup N] [--wait-go]
 *   virgo-bench uapi  [--socket PATH] [--n N] [--wait-go]
 *   virgo-bench vtest [--socket PATH] [--n N] [--wait-go]
 *
 * $VIRGO_BENCH_HOST_PID names the host process (virgo-host or
 * virgl_test_server) whose CPU time the gl runs report per frame.
 */
#include <string.h>

#include "bench.h"

int main(int argc, char **argv)
{
	/* Results go through a pipe to the harness: line-buffer them so that
	 * READY reaches it before the client blocks. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "gl"))
		return bench_gl_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "uapi"))
		return bench_uapi_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "vtest"))
		return bench_vtest_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: virgo-bench gl|uapi|vtest ...  (virgo-bench gl for the workloads)\n");
	return 2;
}
