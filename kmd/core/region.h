/* SPDX-License-Identifier: MIT */
/*
 * region.h: the host-visible memory region (the virtio-pci shared-memory
 * capability with shmid 1): which ranges of it MAP_BLOB has placed blobs
 * at. Offsets are bytes from the region's start. Internal to kmd/core;
 * the caller serialises (dev->lock).
 *
 * Free ranges are kept in offset order and merged with their neighbours
 * when a range is given back, so that any sequence of allocations and
 * frees ends with one range as large as the region.
 */
#ifndef VIRGO_REGION_H
#define VIRGO_REGION_H

#include <stdint.h>

#include "os.h"

struct region_span;

struct region {
	struct os_dev *os;
	uint64_t size;              /* bytes, a multiple of align */
	uint64_t align;             /* every offset and length is a multiple */
	uint64_t free_bytes;
	uint64_t held_bytes;        /* ranges kept out of use for good (region_hold) */
	struct region_span *free;   /* in offset order, never adjacent */
};

/* size is rounded down to align (a power of two, at least a page).
 * 0 or -VIRGO_ENOMEM. */
int region_init(struct region *r, struct os_dev *os, uint64_t size, uint64_t align);
/* Frees the bookkeeping; the ranges given out are forgotten. */
void region_fini(struct region *r);
/* The lowest free range of len bytes (rounded up to align): 0,
 * -VIRGO_ENOSPC when none is free, -VIRGO_ENOMEM for the bookkeeping. */
int region_alloc(struct region *r, uint64_t len, uint64_t *offset);
/* Gives back what region_alloc gave (the same offset and len). 0, or
 * -VIRGO_ENOMEM when a new span cannot be allocated: then the range stays
 * out of use (as held), which loses space but never hands it out twice. */
int region_free(struct region *r, uint64_t offset, uint64_t len);
/* A range that must never be given out again (a process may still reach
 * it through a mapping nobody can undo): counted as held. */
void region_hold(struct region *r, uint64_t len);
/* True if [offset, offset+len) is allocated, wholly. */
int region_is_allocated(const struct region *r, uint64_t offset, uint64_t len);

#endif
