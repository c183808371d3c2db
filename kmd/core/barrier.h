/* SPDX-License-Identifier: MIT */
/* barrier.h: ordering between the driver's ring writes and the device.
 * Compiler intrinsics only, so kmd/core stays free of OS headers. */
#ifndef VIRGO_BARRIER_H
#define VIRGO_BARRIER_H

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define vg_mb() _mm_mfence()
#else
#define vg_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* The device sees ring memory as other CPU would: a full fence is the
 * portable choice; x86 makes the read and write variants cheap anyway. */
#define vg_wmb() vg_mb()
#define vg_rmb() vg_mb()

#endif
