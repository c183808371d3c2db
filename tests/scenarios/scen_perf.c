/* SPDX-License-Identifier: MIT */
/* First measurements, printed and never asserted: the EXECBUFFER + FENCE_WAIT
 * round trip and command-stream throughput. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "scen.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

TEST(measure_roundtrip_and_throughput)
{
	static uint32_t nops[65536]; /* 256 KiB of NOP commands */
	const char *env = getenv("VIRGO_SCEN_ROUNDTRIPS");
	unsigned n = env ? (unsigned)atoi(env) : 10000, streams = 64;
	struct scen_dev *d = scen_open();
	uint64_t *lat = calloc(n ? n : 1, sizeof(*lat)), t0, last = 0;

	REQUIRE(lat != NULL);
	for (unsigned i = 0; i < n; i++) {
		uint64_t s = now_ns();

		REQUIRE_EQ(scen_fence_wait(d, scen_exec(d, nops, 16, NULL, 0), 0), 0);
		lat[i] = now_ns() - s;
	}
	if (n) {
		qsort(lat, n, sizeof(*lat), cmp_u64);
		printf("  %s: EXECBUFFER+FENCE_WAIT x%u: median %.1f us, p99 %.1f us\n", scen->name, n,
		       lat[n / 2] / 1000.0, lat[(n * 99) / 100] / 1000.0);
	}
	t0 = now_ns();
	for (unsigned i = 0; i < streams; i++)
		last = scen_exec(d, nops, sizeof(nops), NULL, 0);
	REQUIRE_EQ(scen_fence_wait(d, last, 0), 0);
	printf("  %s: command stream: %u x 256 KiB in %.1f ms = %.0f MB/s\n", scen->name, streams,
	       (now_ns() - t0) / 1e6, streams * sizeof(nops) / 1e6 / ((now_ns() - t0) / 1e9));
	free(lat);
	scen_close(d);
}
