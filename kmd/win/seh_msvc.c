/* SPDX-License-Identifier: MIT */
/* seh_msvc.c: virgo_seh_call for the WDK (MSVC) build; MinGW uses seh_x64.S. */
#include "virgo_win.h"

#ifdef _MSC_VER
long virgo_seh_call(long (*fn)(void *ctx), void *ctx)
{
	long r;

	__try {
		r = fn(ctx);
	} __except (EXCEPTION_EXECUTE_HANDLER) {
		r = VIRGO_SEH_CAUGHT;
	}
	return r;
}
#endif
