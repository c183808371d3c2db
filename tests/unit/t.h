/* SPDX-License-Identifier: MIT */
/*
 * t.h: a small test framework for the unit tests.
 *
 *   TEST(name) { ... }     defines and registers a test (any .c file)
 *   CHECK(cond)            records a failure and goes on
 *   CHECK_EQ(a, b)         same, printing both values (as long long)
 *   CHECK_NE(a, b)
 *   REQUIRE(cond)          records a failure and ends the test at once
 *   REQUIRE_EQ(a, b)
 *
 * t_main.c's main() runs every test (or those whose name contains argv[1]) one
 * after another in the same process, prints "PASS name" or "FAIL name" for
 * each and ends with the line "N passed, N failed"; it exits 1 if any test
 * failed. Tests run in (file, line) order.
 *
 * Hooks registered with t_after_each() run after every test, also after a
 * REQUIRE ended it early: the fake machine uses one to free what a failed
 * test left behind.
 */
#ifndef VIRGO_TESTS_T_H
#define VIRGO_TESTS_T_H

#include <stdbool.h>

struct t_test {
	const char *name;
	void (*fn)(void);
	const char *file;
	int line;
	struct t_test *next;
};

void t_register(struct t_test *t);

#define TEST(name)                                                              \
	static void t_fn_##name(void);                                          \
	static struct t_test t_test_##name = { #name, t_fn_##name, __FILE__,    \
					       __LINE__, 0 };                   \
	__attribute__((constructor)) static void t_reg_##name(void)            \
	{                                                                       \
		t_register(&t_test_##name);                                     \
	}                                                                       \
	static void t_fn_##name(void)

/* Records a failure of the running test at file:line. */
void t_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Ends the running test (after a failure was recorded). */
_Noreturn void t_abort_test(void);
/* True once the running test has a failure. */
bool t_failed(void);
/* The running test's name, or NULL outside a test. */
const char *t_current(void);

/* Marks the running test skipped (the caller returns); printed as SKIP and
 * counted apart. */
void t_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runners: every registered test whose name contains filter (NULL: all), an
 * extra test given as a function, and the closing "N passed, N failed"
 * line (with ", N skipped" when some were); t_summary returns the exit
 * status. t_main.c is the usual main(). */
void t_run_all(const char *filter);
void t_run_fn(const char *name, void (*fn)(void));
int t_summary(void);

/* A hook run after each test; failed tells whether the test failed. */
void t_after_each(void (*fn)(bool failed));

bool t_check_eq(const char *file, int line, const char *expr_a, const char *expr_b,
		long long a, long long b, bool want_equal);

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond))                                                    \
			t_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);  \
	} while (0)

#define CHECK_EQ(a, b) \
	((void)t_check_eq(__FILE__, __LINE__, #a, #b, (long long)(a), (long long)(b), true))
#define CHECK_NE(a, b) \
	((void)t_check_eq(__FILE__, __LINE__, #a, #b, (long long)(a), (long long)(b), false))

#define REQUIRE(cond)                                                           \
	do {                                                                    \
		if (!(cond)) {                                                  \
			t_fail(__FILE__, __LINE__, "REQUIRE(%s) failed", #cond); \
			t_abort_test();                                         \
		}                                                               \
	} while (0)

#define REQUIRE_EQ(a, b)                                                        \
	do {                                                                    \
		if (!t_check_eq(__FILE__, __LINE__, #a, #b, (long long)(a),     \
				(long long)(b), true))                          \
			t_abort_test();                                         \
	} while (0)

#endif
