/* SPDX-License-Identifier: MIT */
/* os_posix.h: the part of os.h that every Linux user-space OS layer (the
 * embedded host, the QEMU guest driver) implements the same way: pool
 * memory, atomics, spin locks, mutexes and wait queues on pthreads, the
 * monotonic clock, the checks of the Windows execution rules, and the
 * counts of live objects that leak checks read. */
#ifndef VIRGO_OS_POSIX_H
#define VIRGO_OS_POSIX_H

#include "os.h"

#include <stdint.h>

/* Live objects of each kind, and broken rules; changed atomically. */
struct posix_counts {
	int64_t allocs, dma, pages, mmio, spins, mutexes, waitqs, maps;
	int64_t violations;
};

/* The OS layer's struct os_mmio records, with their count kept here:
 * *out becomes a copy of the size bytes at rec. 0 or -VIRGO_ENOMEM. */
int posix_mmio_new(struct os_dev *os, const void *rec, size_t size, void **out);
void posix_mmio_free(struct os_dev *os, void *m);

/* Where the OS layer keeps its counts (in its struct os_dev). */
struct posix_counts *posix_counts(struct os_dev *os);
void posix_count(int64_t *field, int delta);

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
