/* SPDX-License-Identifier: MIT */
/* Clocks, CPU accounting from /proc, and the JSON result line. */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double bench_self_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return -1;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Fields of /proc/PID/stat after the command name, which may hold spaces
 * and parentheses: everything after the last ')'. ppid is field 4, utime
 * and stime fields 14 and 15 (proc(5)). Children's times (16, 17) are left
 * out: they arrive in a lump when the server reaps a child, which could
 * fall inside any run. */
static bool read_stat(int pid, int *ppid, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	int pp = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &pp, &ut, &st) != 3)
		return false;
	*ppid = pp;
	*ticks = ut + st;
	return true;
}

bool bench_host_snap(struct bench_host_snap *s)
{
	const char *env = getenv("VIRGO_BENCH_HOST_PID");
	int host, ppid;
	uint64_t t;
	struct dirent *e;
	DIR *d;

	s->n = 0;
	if (!env || !*env)
		return false;
	host = atoi(env);
	if (host <= 0 || !read_stat(host, &ppid, &t))
		return false;
	s->pid[s->n] = host;
	s->ticks[s->n++] = t;
	d = opendir("/proc");
	if (!d)
		return true;
	while ((e = readdir(d)) && s->n < BENCH_MAX_PROCS) {
		int pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		if (pid != host && read_stat(pid, &ppid, &t) && ppid == host) {
			s->pid[s->n] = pid;
			s->ticks[s->n++] = t;
		}
	}
	closedir(d);
	return true;
}

double bench_host_cpu_delta(const struct bench_host_snap *a, const struct bench_host_snap *b)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t sum = 0;

	if (!a->n || !b->n || hz <= 0)
		return -1;
	for (int i = 0; i < b->n; i++) {
		uint64_t before = 0;

		for (int k = 0; k < a->n; k++)
			if (a->pid[k] == b->pid[i])
				before = a->ticks[k];
		if (b->ticks[i] > before)
			sum += b->ticks[i] - before;
	}
	return (double)sum / (double)hz;
}

void bench_json_begin(struct bench_json *j, FILE *f)
{
	j->f = f;
	j->first = true;
	fputs("BENCH {", f);
}

static void key(struct bench_json *j, const char *k)
{
	fprintf(j->f, "%s\"%s\": ", j->first ? "" : ", ", k);
	j->first = false;
}

void bench_json_str(struct bench_json *j, const char *k, const char *val)
{
	key(j, k);
	fputc('"', j->f);
	for (const char *p = val; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\')
			fprintf(j->f, "\\%c", c);
		else if (c < 0x20)
			fprintf(j->f, "\\u%04x", c);
		else
			fputc(c, j->f);
	}
	fputc('"', j->f);
}

void bench_json_num(struct bench_json *j, const char *k, double val)
{
	key(j, k);
	/* JSON has no NaN or infinity: an unknown value is null. */
	if (isfinite(val))
		fprintf(j->f, "%.6g", val);
	else
		fputs("null", j->f);
}

void bench_json_u64(struct bench_json *j, const char *k, uint64_t val)
{
	key(j, k);
	fprintf(j->f, "%llu", (unsigned long long)val);
}

void bench_json_end(struct bench_json *j)
{
	fputs("}\n", j->f);
	fflush(j->f);
}
