/* SPDX-License-Identifier: MIT */
#include "status.h"

#include <virgo/uapi.h>

const char *virgo_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "ok";
	case VIRGO_EPERM: return "not allowed";
	case VIRGO_ENOENT: return "no such handle";
	case VIRGO_EIO: return "the device reported an error";
	case VIRGO_E2BIG: return "too big";
	case VIRGO_ENOMEM: return "out of memory";
	case VIRGO_EFAULT: return "bad address";
	case VIRGO_EBUSY: return "busy";
	case VIRGO_EEXIST: return "already exists";
	case VIRGO_ENODEV: return "no device";
	case VIRGO_EINVAL: return "invalid argument";
	case VIRGO_ENOSPC: return "out of ids";
	case VIRGO_EPROTO: return "protocol error";
	case VIRGO_EOVERFLOW: return "overflow";
	case VIRGO_ENOTSUP: return "not supported";
	case VIRGO_ETIMEDOUT: return "timed out";
	case VIRGO_EDQUOT: return "over this process's memory limit";
	case VIRGO_ECANCELED: return "cancelled";
	case VIRGO_EDEVLOST: return "device lost";
	default: return "unknown error";
	}
}
