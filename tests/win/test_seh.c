/* SPDX-License-Identifier: MIT */
/*
 * test_seh.c: kmd/win/seh_x64.S (the driver's __try/__except for MinGW),
 * linked into a Windows user-mode program and run under Wine. The unwind
 * data and __C_specific_handler work the same way in user mode (ntdll) as
 * in the kernel (ntoskrnl): a fault or a raised status inside fn must come
 * back as VIRGO_SEH_CAUGHT with the caller's registers and stack intact.
 */
#include <stdio.h>
#include <windows.h>

#define VIRGO_SEH_CAUGHT ((long)0x80000000)
long virgo_seh_call(long (*fn)(void *ctx), void *ctx);

static int passed, failed;

static void result(int ok, const char *what)
{
	ok ? passed++ : failed++;
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
}

static long ret_plus_one(void *p) { return (long)(INT_PTR)p + 1; }
static long read_bad(void *p) { return *(volatile long *)p; }
static long write_bad(void *p) { *(volatile long *)p = 1; return 0; }
static long raise_status(void *p) { RaiseException((DWORD)(INT_PTR)p, 0, 0, NULL); return 0; }

static __attribute__((noinline)) long deeper(void *p, int n)
{
	volatile char frame[512];

	frame[n & 511] = (char)n;
	if (n > 0)
		return deeper(p, n - 1) + frame[n & 511];
	return read_bad(p);
}
static long deep(void *p) { return deeper(p, 20); }

int main(void)
{
	/* values that live in callee-saved registers across the calls */
	volatile long a = 0x1234567, b = -99;
	long r;
	int ok = 1;

	result(virgo_seh_call(ret_plus_one, (void *)41) == 42, "a normal return passes fn's value through");
	result(virgo_seh_call(read_bad, (void *)16) == VIRGO_SEH_CAUGHT, "a read fault is caught");
	result(virgo_seh_call(write_bad, (void *)(INT_PTR)0x7ffff000) == VIRGO_SEH_CAUGHT ||
	       virgo_seh_call(write_bad, (void *)8) == VIRGO_SEH_CAUGHT, "a write fault is caught");
	result(virgo_seh_call(raise_status, (void *)(INT_PTR)0xC0000005) == VIRGO_SEH_CAUGHT,
	       "a raised STATUS_ACCESS_VIOLATION (as ProbeForRead raises) is caught");
	result(virgo_seh_call(raise_status, (void *)(INT_PTR)0xC000009A) == VIRGO_SEH_CAUGHT,
	       "any raised status is caught (EXCEPTION_EXECUTE_HANDLER)");
	result(virgo_seh_call(deep, (void *)24) == VIRGO_SEH_CAUGHT, "a fault 21 frames down is caught");
	for (int i = 0; i < 10000 && ok; i++) {
		r = virgo_seh_call(i & 1 ? read_bad : ret_plus_one, (void *)(INT_PTR)(i & 1 ? 32 : i));
		ok = (i & 1) ? r == VIRGO_SEH_CAUGHT : r == i + 1;
	}
	result(ok, "10000 alternating calls: the stack stays balanced");
	result(a == 0x1234567 && b == -99, "the caller's values survive the unwinds");
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
