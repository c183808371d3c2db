/* SPDX-License-Identifier: MIT */
/*
 * t.c: the test runner (see t.h).
 *
 * Environment:
 *   VIRGO_TEST_TIMEOUT   wall-clock seconds per test (default 60, 0 = none);
 *                        a test that overruns ends the whole run as failed.
 */
#include "t.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_MAX_HOOKS 8

static struct t_test *t_list;
static unsigned t_count;
static struct t_test *t_running;
static bool t_running_failed;
static jmp_buf t_jmp;
static void (*t_hooks[T_MAX_HOOKS])(bool failed);
static unsigned t_nhooks;
static volatile sig_atomic_t t_npassed, t_nfailed, t_nskipped;
static bool t_running_skipped;
static unsigned t_timeout_s = 60;

void t_register(struct t_test *t)
{
	t->next = t_list;
	t_list = t;
	t_count++;
}

void t_after_each(void (*fn)(bool failed))
{
	for (unsigned i = 0; i < t_nhooks; i++)
		if (t_hooks[i] == fn)
			return;
	if (t_nhooks == T_MAX_HOOKS) {
		fprintf(stderr, "t: too many after-each hooks\n");
		abort();
	}
	t_hooks[t_nhooks++] = fn;
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s:%d: [%s] ", file, line, t_running ? t_running->name : "-");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	t_running_failed = true;
}

_Noreturn void t_abort_test(void)
{
	if (!t_running) {
		fprintf(stderr, "t: REQUIRE failed outside a test\n");
		abort();
	}
	longjmp(t_jmp, 1);
}

void t_skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP %s: ", t_running ? t_running->name : "-");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	t_running_skipped = true;
}

bool t_failed(void)
{
	return t_running_failed;
}

const char *t_current(void)
{
	return t_running ? t_running->name : NULL;
}

bool t_check_eq(const char *file, int line, const char *expr_a, const char *expr_b,
		long long a, long long b, bool want_equal)
{
	if ((a == b) == want_equal)
		return true;
	t_fail(file, line, "CHECK_%s(%s, %s) failed: %lld (%#llx) %s %lld (%#llx)",
	       want_equal ? "EQ" : "NE", expr_a, expr_b, a, (unsigned long long)a,
	       want_equal ? "!=" : "==", b, (unsigned long long)b);
	return false;
}

static int t_cmp(const void *pa, const void *pb)
{
	const struct t_test *a = *(const struct t_test *const *)pa;
	const struct t_test *b = *(const struct t_test *const *)pb;
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	return (a->line > b->line) - (a->line < b->line);
}

/* Async-signal-safe: only write(2) and integer formatting. */
static void t_put(const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(STDOUT_FILENO, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void t_put_uint(unsigned long v)
{
	char buf[24];
	int i = (int)sizeof(buf) - 1;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	t_put(buf + i);
}

static void t_on_alarm(int sig)
{
	(void)sig;
	t_put("FAIL ");
	t_put(t_running ? t_running->name : "?");
	t_put(" (wall-clock timeout: the test hung)\n");
	t_put_uint((unsigned long)t_npassed);
	t_put(" passed, ");
	t_put_uint((unsigned long)t_nfailed + 1);
	t_put(" failed\n");
	_exit(1);
}

static void t_run_one(struct t_test *t, unsigned timeout_s)
{
	t_running = t;
	t_running_failed = false;
	t_running_skipped = false;
	alarm(timeout_s);
	if (setjmp(t_jmp) == 0)
		t->fn();
	alarm(0);
	for (unsigned i = 0; i < t_nhooks; i++)
		t_hooks[i](t_running_failed);
	fflush(stderr);
	if (t_running_failed) {
		t_nfailed++;
		printf("FAIL %s\n", t->name);
	} else if (t_running_skipped) {
		t_nskipped++;
	} else {
		t_npassed++;
		printf("PASS %s\n", t->name);
	}
	fflush(stdout);
	t_running = NULL;
}

void t_run_all(const char *filter)
{
	const char *env = getenv("VIRGO_TEST_TIMEOUT");
	struct t_test **all;
	unsigned n = 0;

	if (env)
		t_timeout_s = (unsigned)strtoul(env, NULL, 10);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, t_on_alarm);
	all = calloc(t_count ? t_count : 1, sizeof(*all));
	if (!all) {
		fprintf(stderr, "t: out of memory\n");
		t_nfailed++;
		return;
	}
	for (struct t_test *t = t_list; t; t = t->next)
		all[n++] = t;
	qsort(all, n, sizeof(*all), t_cmp);
	for (unsigned i = 0; i < n; i++) {
		if (filter && !strstr(all[i]->name, filter))
			continue;
		t_run_one(all[i], t_timeout_s);
	}
	free(all);
}

void t_run_fn(const char *name, void (*fn)(void))
{
	struct t_test t = { name, fn, __FILE__, __LINE__, NULL };

	signal(SIGALRM, t_on_alarm);
	t_run_one(&t, t_timeout_s);
}

int t_summary(void)
{
	if (t_nskipped)
		printf("%u passed, %u failed, %u skipped\n", (unsigned)t_npassed, (unsigned)t_nfailed,
		       (unsigned)t_nskipped);
	else
		printf("%u passed, %u failed\n", (unsigned)t_npassed, (unsigned)t_nfailed);
	return t_nfailed ? 1 : 0;
}
