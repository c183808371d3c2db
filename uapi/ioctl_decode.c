/* SPDX-License-Identifier: MIT */
/* ioctl_decode.c: see ioctl_decode.h. No Windows header on purpose: the
 * kernel driver, the Windows transport and the Linux tests build it alike. */
#include "ioctl_decode.h"

#include <stddef.h>

/* CTL_CODE fields (winioctl.h, spelled out). */
#define CTL_DEVICE_TYPE(c) (((c) >> 16) & 0xffffu)
#define CTL_ACCESS(c)      (((c) >> 14) & 0x3u)
#define CTL_FUNCTION(c)    (((c) >> 2) & 0xfffu)
#define CTL_METHOD(c)      ((c) & 0x3u)

int virgo_ioctl_decode(uint32_t code, uint32_t in_len, uint32_t out_len, struct virgo_ioctl *out)
{
	uint32_t fn = CTL_FUNCTION(code), op, size;

	/* Exactly the shape VIRGO_CTL_CODE builds: anything else (another
	 * method would change how the I/O manager passes buffers, a weaker
	 * access mask would skip its access check) is not ours. */
	if (CTL_DEVICE_TYPE(code) != 0x22u || CTL_ACCESS(code) != 0x3u || CTL_METHOD(code) != 0x0u ||
	    fn < 0x800u)
		return VIRGO_IOCTL_FOREIGN;
	op = fn - 0x800u;
	if (VIRGO_CTL_CODE(op) != code)
		return VIRGO_IOCTL_FOREIGN;
	size = op ? virgo_op_arg_size(op) : 0;
	if (size == 0)
		return -VIRGO_ENOTSUP;
	if (in_len != size || out_len != size)
		return -VIRGO_EINVAL;
	out->op = op;
	out->size = size;
	return 0;
}

static const struct {
	int status;      /* positive virgo_status */
	uint32_t nt;
	uint32_t win32;
} status_map[] = {
	{ VIRGO_EPERM, 0xC0000022u, 5 },
	{ VIRGO_ENOENT, 0xC0000225u, 1168 },
	{ VIRGO_EIO, 0xC0000185u, 1117 },
	{ VIRGO_E2BIG, 0xC0000206u, 1784 },
	{ VIRGO_ENOMEM, 0xC000009Au, 1450 },
	{ VIRGO_EFAULT, 0xC0000005u, 998 },
	{ VIRGO_EBUSY, 0xC000022Du, 1237 },
	{ VIRGO_EEXIST, 0xC0000035u, 183 },
	{ VIRGO_ENODEV, 0xC00000C0u, 55 },
	{ VIRGO_EINVAL, 0xC000000Du, 87 },
	{ VIRGO_ENOSPC, 0xC0000044u, 1816 },
	{ VIRGO_EPROTO, 0xC000009Cu, 23 },
	{ VIRGO_EOVERFLOW, 0xC0000095u, 534 },
	{ VIRGO_ENOTSUP, 0xC00000BBu, 50 },
	{ VIRGO_ETIMEDOUT, 0xC00000B5u, 121 },
	{ VIRGO_EDQUOT, 0xC00000A1u, 1453 },
	{ VIRGO_ECANCELED, 0xC0000120u, 995 },
	{ VIRGO_EDEVLOST, 0xC00002B6u, 1617 },
};
#define NSTATUS (sizeof(status_map) / sizeof(status_map[0]))

uint32_t virgo_status_to_ntstatus(int status)
{
	if (status == 0)
		return VIRGO_NT_SUCCESS;
	for (size_t i = 0; i < NSTATUS; i++)
		if (-status == status_map[i].status)
			return status_map[i].nt;
	return VIRGO_NT_UNSUCCESSFUL;
}

int virgo_status_from_ntstatus(uint32_t ntstatus)
{
	if (ntstatus == VIRGO_NT_SUCCESS)
		return 0;
	for (size_t i = 0; i < NSTATUS; i++)
		if (ntstatus == status_map[i].nt)
			return -status_map[i].status;
	if (ntstatus == VIRGO_NT_INVALID_DEVICE_REQUEST)
		return -VIRGO_ENOTSUP;
	return -VIRGO_EIO;
}

uint32_t virgo_status_to_win32(int status)
{
	if (status == 0)
		return 0;
	for (size_t i = 0; i < NSTATUS; i++)
		if (-status == status_map[i].status)
			return status_map[i].win32;
	return 31; /* ERROR_GEN_FAILURE, from STATUS_UNSUCCESSFUL */
}

int virgo_status_from_win32(uint32_t error)
{
	if (error == 0)
		return 0;
	for (size_t i = 0; i < NSTATUS; i++)
		if (error == status_map[i].win32)
			return -status_map[i].status;
	if (error == 1) /* ERROR_INVALID_FUNCTION: not a virgo code */
		return -VIRGO_ENOTSUP;
	return -VIRGO_EIO;
}
