/* SPDX-License-Identifier: MIT */
/* vq.h: split virtqueues, driver side. The caller serialises all calls on
 * one queue (the device's queue spin lock). */
#ifndef VIRGO_VQ_H
#define VIRGO_VQ_H

#include <stdbool.h>
#include <stdint.h>

#include "os.h"

struct vring_desc;
struct vring_avail;
struct vring_used;

struct vq_buf {
	uint64_t bus;
	uint32_t len;
	bool device_writes;
};

struct vq {
	struct os_dev *os;
	struct os_dma ring;
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	void **token;          /* by head descriptor */
	uint16_t *chain_len;   /* by head descriptor */
	uint16_t *next;        /* free list and chains, kept out of device reach */
	uint16_t index;
	uint16_t size;
	uint16_t notify_off;
	uint16_t num_free;
	uint16_t free_head;
	uint16_t avail_idx;
	uint16_t last_used;
	uint16_t outstanding;
	bool broken;           /* the device returned nonsense */
	bool live;             /* created and enabled: the DPC may drain it (qlock) */
};

int vq_create(struct vq *q, struct os_dev *os, uint16_t index, uint16_t size);
void vq_destroy(struct vq *q);
/* Forgets every buffer after a device reset; vq_detach() hands them back. */
void vq_rewind(struct vq *q);
void *vq_detach(struct vq *q);

/* 0, -VIRGO_ENOSPC when fewer than n descriptors are free (wait and retry),
 * -VIRGO_EINVAL for a chain the queue can never hold. Readable buffers
 * must come before writable ones. */
int vq_add(struct vq *q, const struct vq_buf *bufs, unsigned n, void *token);
bool vq_needs_notify(struct vq *q);
/* The next used buffer's token, or NULL. */
void *vq_get_used(struct vq *q, uint32_t *len);
/* Whether the device has returned buffers nobody collected yet (a look,
 * nothing taken). */
bool vq_has_used(const struct vq *q);

#endif
