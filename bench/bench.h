/* SPDX-License-Identifier: MIT */
/*
 * bench.h: what the parts of virgo-bench share: clocks, CPU times of this
 * process and of the host process serving it, and one-line JSON results.
 *
 * Every run prints exactly one line "BENCH {...}" on stdout; bench/run.py
 * collects those lines. Everything else a run prints is for people.
 */
#ifndef VIRGO_BENCH_H
#define VIRGO_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

uint64_t bench_now_ns(void);
/* User + system CPU seconds of this process, all threads (llvmpipe's
 * rasteriser threads count on the native path: that is where its work is). */
double bench_self_cpu_s(void);

/* The host process named by $VIRGO_BENCH_HOST_PID (virgo-host or
 * virgl_test_server) and its live children: virgl_test_server forks one
 * child per client, which does that client's work. A snapshot keeps each
 * process's CPU time so that a later delta counts only processes that ran
 * in between (a child that exits in between is dropped, a new one counts
 * from zero). */
#define BENCH_MAX_PROCS 512
struct bench_host_snap {
	int n;
	int pid[BENCH_MAX_PROCS];
	uint64_t ticks[BENCH_MAX_PROCS];
};
bool bench_host_snap(struct bench_host_snap *s); /* false: no host pid given */
/* CPU seconds the host spent between a and b (b taken later), -1 if unknown. */
double bench_host_cpu_delta(const struct bench_host_snap *a, const struct bench_host_snap *b);

/* A tiny JSON line writer: bench_json_begin, fields, bench_json_end. */
struct bench_json {
	FILE *f;
	bool first;
};
void bench_json_begin(struct bench_json *j, FILE *f);
void bench_json_str(struct bench_json *j, const char *key, const char *val);
void bench_json_num(struct bench_json *j, const char *key, double val);
void bench_json_u64(struct bench_json *j, const char *key, uint64_t val);
void bench_json_end(struct bench_json *j);

int bench_gl_main(int argc, char **argv);
int bench_uapi_main(int argc, char **argv);
int bench_vtest_main(int argc, char **argv);

#endif
