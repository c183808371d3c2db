/* SPDX-License-Identifier: MIT */
/*
 * test_ioctl_decode.c: the Windows driver's request decoding and status
 * mapping (uapi/ioctl_decode.c), compiled natively on Linux.
 *
 * Built twice (tests/uapi/meson.build): natively (gcc, with sanitizers) and,
 * when Wine is there, as a Windows program that also compares the Win32
 * column of the table with what ntdll's RtlNtStatusToDosError says.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <virgo/uapi.h>

#include "ioctl_decode.h"

#ifdef _WIN32
#include <windows.h>
#endif

/* One PASS/FAIL line per test; a failed check inside it prints why. */
static int passed, failed, bad;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			bad++;                                            \
			printf("  check failed: %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                              \
			printf("\n");                                     \
		}                                                         \
	} while (0)

static void run(void (*test)(void), const char *what)
{
	bad = 0;
	test();
	if (bad)
		failed++;
	else
		passed++;
	printf("%s: %s\n", bad ? "FAIL" : "PASS", what);
}

static const int all_status[] = {
	VIRGO_EPERM, VIRGO_ENOENT, VIRGO_EIO, VIRGO_E2BIG, VIRGO_ENOMEM, VIRGO_EFAULT,
	VIRGO_EBUSY, VIRGO_EEXIST, VIRGO_ENODEV, VIRGO_EINVAL, VIRGO_ENOSPC, VIRGO_EPROTO,
	VIRGO_EOVERFLOW, VIRGO_ENOTSUP, VIRGO_ETIMEDOUT, VIRGO_EDQUOT, VIRGO_ECANCELED, VIRGO_EDEVLOST,
};
#define NSTATUS (sizeof(all_status) / sizeof(all_status[0]))

static void test_decode_every_op(void)
{

	for (uint32_t op = 1; op < VIRGO_OP_COUNT; op++) {
		uint32_t size = virgo_op_arg_size(op);
		uint32_t code = VIRGO_CTL_CODE(op);
		struct virgo_ioctl r = { 0, 0 };

		CHECK(size > 0, "op %u has a size", op);
		CHECK(VIRGO_CTL_OP(code) == op, "VIRGO_CTL_OP(VIRGO_CTL_CODE(%u))", op);
		CHECK(virgo_ioctl_decode(code, size, size, &r) == 0 && r.op == op && r.size == size,
		      "op %u decodes with exact lengths", op);
		/* one byte short or long, on either side */
		CHECK(virgo_ioctl_decode(code, size - 1, size, &r) == -VIRGO_EINVAL, "op %u: input short", op);
		CHECK(virgo_ioctl_decode(code, size + 1, size, &r) == -VIRGO_EINVAL, "op %u: input long", op);
		CHECK(virgo_ioctl_decode(code, size, size - 1, &r) == -VIRGO_EINVAL, "op %u: output short", op);
		CHECK(virgo_ioctl_decode(code, size, size + 1, &r) == -VIRGO_EINVAL, "op %u: output long", op);
		CHECK(virgo_ioctl_decode(code, 0, 0, &r) == -VIRGO_EINVAL, "op %u: no buffers", op);
		CHECK(virgo_ioctl_decode(code, 0xffffffffu, 0xffffffffu, &r) == -VIRGO_EINVAL, "op %u: huge", op);
	}
}

static void test_codes_match_ctl_code(void)
{
	/* CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800 + op, METHOD_BUFFERED,
	 * FILE_READ_ACCESS | FILE_WRITE_ACCESS), computed the winioctl.h way. */

	for (uint32_t op = 1; op < VIRGO_OP_COUNT; op++) {
		uint32_t expect = (0x22u << 16) | ((0x1u | 0x2u) << 14) | ((0x800u + op) << 2) | 0u;

		CHECK(VIRGO_CTL_CODE(op) == expect, "op %u code %#x", op, expect);
	}
	CHECK(IOCTL_VIRGO_GET_PARAM == 0x0022E004u, "IOCTL_VIRGO_GET_PARAM is 0x0022E004");
	CHECK(IOCTL_VIRGO_FENCE_WAIT == 0x0022E038u, "IOCTL_VIRGO_FENCE_WAIT is 0x0022E038");
}

static void test_foreign_and_unknown(void)
{
	struct virgo_ioctl r;
	uint32_t good = VIRGO_CTL_CODE(VIRGO_OP_GET_PARAM), sz = virgo_op_arg_size(VIRGO_OP_GET_PARAM);

	/* other method, access, device type, function below 0x800 */
	CHECK(virgo_ioctl_decode(good | 0x1u, sz, sz, &r) == VIRGO_IOCTL_FOREIGN, "METHOD_IN_DIRECT");
	CHECK(virgo_ioctl_decode(good | 0x3u, sz, sz, &r) == VIRGO_IOCTL_FOREIGN, "METHOD_NEITHER");
	CHECK(virgo_ioctl_decode(good & ~(0x3u << 14), sz, sz, &r) == VIRGO_IOCTL_FOREIGN, "FILE_ANY_ACCESS");
	CHECK(virgo_ioctl_decode(good & ~(0x2u << 14), sz, sz, &r) == VIRGO_IOCTL_FOREIGN, "read access only");
	CHECK(virgo_ioctl_decode((good & 0xffffu) | (0x23u << 16), sz, sz, &r) == VIRGO_IOCTL_FOREIGN,
	      "another device type");
	CHECK(virgo_ioctl_decode((0x22u << 16) | (3u << 14) | (0x7ffu << 2), sz, sz, &r) == VIRGO_IOCTL_FOREIGN,
	      "function 0x7ff");
	CHECK(virgo_ioctl_decode(0, 0, 0, &r) == VIRGO_IOCTL_FOREIGN, "code 0");
	CHECK(virgo_ioctl_decode(0xffffffffu, sz, sz, &r) == VIRGO_IOCTL_FOREIGN, "code ~0");
	/* well-formed, but no such op */
	CHECK(virgo_ioctl_decode(VIRGO_CTL_CODE(0), 16, 16, &r) == -VIRGO_ENOTSUP, "op 0");
	CHECK(virgo_ioctl_decode(VIRGO_CTL_CODE(VIRGO_OP_COUNT), 16, 16, &r) == -VIRGO_ENOTSUP, "op COUNT");
	CHECK(virgo_ioctl_decode(VIRGO_CTL_CODE(0x7ffu), 16, 16, &r) == -VIRGO_ENOTSUP, "op 0x7ff");
	/* every code with our shape: decodes only for the known ops */
	for (uint32_t fn = 0x800; fn <= 0xfff; fn++) {
		uint32_t code = (0x22u << 16) | (3u << 14) | (fn << 2);
		uint32_t op = fn - 0x800u;
		uint32_t size = op && op < VIRGO_OP_COUNT ? virgo_op_arg_size(op) : 16;
		int ret = virgo_ioctl_decode(code, size, size, &r);

		CHECK(op >= 1 && op < VIRGO_OP_COUNT ? ret == 0 : ret == -VIRGO_ENOTSUP, "function %#x", fn);
	}
}

static void test_status_map(void)
{

	CHECK(virgo_status_to_ntstatus(0) == 0, "0 is STATUS_SUCCESS");
	CHECK(virgo_status_from_ntstatus(0) == 0, "STATUS_SUCCESS is 0");
	CHECK(virgo_status_to_win32(0) == 0 && virgo_status_from_win32(0) == 0, "0 is ERROR_SUCCESS");
	for (size_t i = 0; i < NSTATUS; i++) {
		int st = -all_status[i];
		uint32_t nt = virgo_status_to_ntstatus(st);
		uint32_t w = virgo_status_to_win32(st);

		/* error severity: the I/O manager copies nothing back */
		CHECK((nt >> 30) == 3u, "status %d -> %#x is an error NTSTATUS", st, nt);
		CHECK(nt != VIRGO_NT_UNSUCCESSFUL, "status %d has its own NTSTATUS", st);
		CHECK(virgo_status_from_ntstatus(nt) == st, "status %d round-trips through NTSTATUS %#x", st, nt);
		CHECK(w != 0 && w != 31, "status %d has its own Win32 code", st);
		CHECK(virgo_status_from_win32(w) == st, "status %d round-trips through Win32 %u", st, w);
		for (size_t j = 0; j < i; j++) {
			CHECK(virgo_status_to_ntstatus(-all_status[j]) != nt, "NTSTATUS of %d and %d differ",
			      -all_status[j], st);
			CHECK(virgo_status_to_win32(-all_status[j]) != w, "Win32 of %d and %d differ", -all_status[j], st);
		}
	}
	/* outside the table */
	CHECK(virgo_status_to_ntstatus(-12345) == VIRGO_NT_UNSUCCESSFUL, "unknown status");
	CHECK(virgo_status_to_ntstatus(-1000000) == VIRGO_NT_UNSUCCESSFUL, "unknown status");
	CHECK(virgo_status_from_ntstatus(VIRGO_NT_UNSUCCESSFUL) == -VIRGO_EIO, "STATUS_UNSUCCESSFUL -> EIO");
	CHECK(virgo_status_from_ntstatus(VIRGO_NT_INVALID_DEVICE_REQUEST) == -VIRGO_ENOTSUP,
	      "STATUS_INVALID_DEVICE_REQUEST -> ENOTSUP");
	CHECK(virgo_status_from_ntstatus(0xC0001234u) == -VIRGO_EIO, "unknown NTSTATUS -> EIO");
	CHECK(virgo_status_from_win32(1) == -VIRGO_ENOTSUP, "ERROR_INVALID_FUNCTION -> ENOTSUP");
	CHECK(virgo_status_from_win32(31) == -VIRGO_EIO, "ERROR_GEN_FAILURE -> EIO");
}

#ifdef _WIN32
/* The Win32 column is what DeviceIoControl's caller sees: it must be what
 * ntdll makes of our NTSTATUS. */
static void test_status_vs_ntdll(void)
{
	typedef ULONG(WINAPI * to_dos_t)(LONG);
	to_dos_t to_dos = (to_dos_t)(void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "RtlNtStatusToDosError");

	CHECK(to_dos != NULL, "ntdll exports RtlNtStatusToDosError");
	if (!to_dos)
		return;
	for (size_t i = 0; i < NSTATUS; i++) {
		int st = -all_status[i];
		uint32_t nt = virgo_status_to_ntstatus(st);

		CHECK(to_dos((LONG)nt) == virgo_status_to_win32(st), "RtlNtStatusToDosError(%#x) = %lu, table says %u",
		      nt, to_dos((LONG)nt), virgo_status_to_win32(st));
	}
	CHECK(to_dos((LONG)VIRGO_NT_INVALID_DEVICE_REQUEST) == 1, "STATUS_INVALID_DEVICE_REQUEST -> 1");
	CHECK(to_dos((LONG)VIRGO_NT_UNSUCCESSFUL) == 31, "STATUS_UNSUCCESSFUL -> 31");
}
#endif

int main(void)
{
	run(test_codes_match_ctl_code, "IOCTL codes are CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800+op, METHOD_BUFFERED, read|write)");
	run(test_decode_every_op, "every op decodes, and only with its exact argument size in and out");
	run(test_foreign_and_unknown, "foreign codes (method, access, type, function) are not ours; unknown ops are ENOTSUP");
	run(test_status_map, "every virgo_status maps to its own error NTSTATUS and Win32 code, and back");
#ifdef _WIN32
	run(test_status_vs_ntdll, "ntdll's RtlNtStatusToDosError gives the table's Win32 codes");
#endif
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
