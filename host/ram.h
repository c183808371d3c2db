/* SPDX-License-Identifier: MIT */
/* ram.h: guest RAM: one shared-memory file, a page-frame allocator for the
 * guest kernel (the KMD core), and bounds-checked access for the device. */
#ifndef VIRGO_HOST_RAM_H
#define VIRGO_HOST_RAM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAM_PAGE 4096u
/* Guest-physical addresses start here, so that 0 and small numbers are
 * never valid DMA addresses: a driver bug shows up as a device error. */
#define RAM_BUS_BASE 0x40000000ull

struct ram_run {
	uint64_t bus;
	uint64_t len;
};

struct ram {
	int fd;
	uint8_t *base;
	uint64_t size;
	uint64_t npages;
	uint8_t *used;        /* one byte per page */
	uint64_t free_pages;
	uint64_t hint;
	pthread_mutex_t lock;
	char path[64];        /* a path Windows programs under Wine can open */
};

int ram_create(struct ram *r, uint64_t size);
void ram_destroy(struct ram *r);
/* Allocates npages zeroed pages in as few runs as possible; *runs is
 * malloc'd. */
int ram_alloc(struct ram *r, uint64_t npages, bool contiguous, struct ram_run **runs, uint32_t *nruns);
/* The same, split into runs that start on a multiple of granule pages and,
 * all but the last, are whole granules: a Windows client (Wine, over TCP)
 * can then lay the runs out one after the other with file views, which
 * Windows places only at 64 KiB boundaries. -ENOMEM when RAM has no such
 * runs left even if it has free pages. */
int ram_alloc_granular(struct ram *r, uint64_t npages, uint64_t granule, struct ram_run **runs, uint32_t *nruns);
void ram_free(struct ram *r, const struct ram_run *runs, uint32_t nruns);
/* A host pointer for [bus, bus+len) or NULL when any byte lies outside. */
void *ram_ptr(struct ram *r, uint64_t bus, uint64_t len);
uint64_t ram_offset(const struct ram *r, uint64_t bus);
uint64_t ram_used_pages(struct ram *r);

#endif
