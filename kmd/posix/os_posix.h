/* SPDX-License-Identifier: MIT */
/* os_posix.h: the part of os.h that every Linux user-space OS layer (the
 * embedded host, the QEMU guest driver) implements the same way: atomics,
 * spin locks, mutexes and wait queues on pthreads, the monotonic clock, and
 * the checks of the Windows execution rules. */
#ifndef VIRGO_OS_POSIX_H
#define VIRGO_OS_POSIX_H

#include "os.h"

enum posix_kind { POSIX_SPIN, POSIX_MUTEX, POSIX_WAITQ, POSIX_VIOLATION };

/* The OS layer counts live objects and broken rules where it keeps the rest
 * of its counts (leak checks read them). */
void posix_count(struct os_dev *os, enum posix_kind kind, int delta);

/* The calling thread's execution context: the interrupt thread says when it
 * plays the ISR and the DPC; every other thread is a request. */
void posix_set_context(int isr, int dpc);
/* Allocation, waits, sleeping locks and user memory: request context, no
 * spin lock held. */
void posix_must_be_request(struct os_dev *os, const char *what);
/* Beyond registers and atomics, nothing is allowed in the ISR. */
void posix_must_not_be_isr(struct os_dev *os, const char *what);
/* A rule of the layer's own was broken: counted and logged. */
void posix_violation(struct os_dev *os, const char *what);

#endif
