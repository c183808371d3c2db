/* SPDX-License-Identifier: MIT */
/* vqdev.h: split virtqueues, device side. Everything read from guest RAM is
 * checked: addresses, lengths, chain length, order of readable/writable. */
#ifndef VIRGO_HOST_VQDEV_H
#define VIRGO_HOST_VQDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ram.h"
#include "vpci.h"

struct vqdev_seg {
	uint8_t *p;
	uint32_t len;
};

struct vqdev_elem {
	uint16_t head;
	uint16_t nrd, nwr;
	uint64_t rd_len, wr_len;
	bool bad;              /* malformed: answer an error if there is room */
	struct vqdev_seg *rd;  /* into seg[] */
	struct vqdev_seg *wr;
	struct vqdev_seg seg[];
};

struct vqdev {
	struct vpci_queue q;
	uint16_t last_avail;
	uint16_t used_idx;
	bool ready;
	bool broken;           /* ring addresses outside RAM: needs a reset */
};

void vqdev_reset(struct vqdev *q);
/* Takes the queue layout from the register model when the queue is new. */
bool vqdev_sync(struct vqdev *q, struct vpci *v, struct ram *ram, uint16_t index);
/* 1 and *out (malloc'd) when a buffer was available, 0 when none, negative
 * when the ring itself is unusable. */
int vqdev_pop(struct vqdev *q, struct ram *ram, struct vqdev_elem **out);
/* Returns whether the driver wants an interrupt. Frees e. */
bool vqdev_push(struct vqdev *q, struct ram *ram, struct vqdev_elem *e, uint32_t written);
size_t vqdev_read(const struct vqdev_elem *e, size_t off, void *dst, size_t len);
size_t vqdev_write(const struct vqdev_elem *e, size_t off, const void *src, size_t len);

#endif
