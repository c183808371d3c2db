/* SPDX-License-Identifier: MIT */
#include "vqdev.h"

#include <stdlib.h>
#include <string.h>

#include <virgo/virtio_ring.h>

void vqdev_reset(struct vqdev *q)
{
	memset(q, 0, sizeof(*q));
}

bool vqdev_sync(struct vqdev *q, struct vpci *v, struct ram *ram, uint16_t index)
{
	if (q->ready)
		return !q->broken;
	if (!vpci_queue_get(v, index, &q->q))
		return false;
	if (!ram_ptr(ram, q->q.desc, vring_desc_size(q->q.size)) ||
	    !ram_ptr(ram, q->q.driver, vring_avail_size(q->q.size)) ||
	    !ram_ptr(ram, q->q.device, vring_used_size(q->q.size)))
		q->broken = true;
	q->ready = true;
	return !q->broken;
}

static volatile struct vring_avail *avail(struct vqdev *q, struct ram *ram)
{
	return ram_ptr(ram, q->q.driver, vring_avail_size(q->q.size));
}

static volatile struct vring_used *used(struct vqdev *q, struct ram *ram)
{
	return ram_ptr(ram, q->q.device, vring_used_size(q->q.size));
}

int vqdev_pop(struct vqdev *q, struct ram *ram, struct vqdev_elem **out)
{
	volatile struct vring_avail *a = avail(q, ram);
	volatile struct vring_desc *d = ram_ptr(ram, q->q.desc, vring_desc_size(q->q.size));
	struct vqdev_elem *e;
	uint16_t avail_idx, head, idx, n = 0, walked = 0;
	bool writable = false;

	*out = NULL;
	if (q->broken || !a || !d)
		return -1;
	avail_idx = a->idx;
	if (avail_idx == q->last_avail)
		return 0;
	/* The driver cannot have more buffers out than the queue holds. */
	if ((uint16_t)(avail_idx - q->last_avail) > q->q.size) {
		q->broken = true;
		return -1;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = a->ring[q->last_avail % q->q.size];
	q->last_avail++;
	e = calloc(1, sizeof(*e) + sizeof(struct vqdev_seg) * q->q.size);
	if (!e)
		return -1;
	e->head = head;
	if (head >= q->q.size) {
		/* No chain to walk; the head cannot even be returned safely. */
		e->bad = true;
		*out = e;
		return 1;
	}
	idx = head;
	for (;;) {
		struct vring_desc desc = { d[idx].addr, d[idx].len, d[idx].flags, d[idx].next };
		uint8_t *p;

		/* A chain longer than the queue is a loop: count every descriptor
		 * visited, also those that add no segment (bad addresses). */
		if (walked++ >= q->q.size || (desc.flags & VRING_DESC_F_INDIRECT)) {
			e->bad = true;
			break;
		}
		p = desc.len ? ram_ptr(ram, desc.addr, desc.len) : NULL;
		if (desc.len && !p) {
			e->bad = true;
		} else if (desc.flags & VRING_DESC_F_WRITE) {
			writable = true;
			e->seg[n++] = (struct vqdev_seg){ p, desc.len };
			e->nwr++;
			e->wr_len += desc.len;
		} else if (writable) {
			e->bad = true; /* readable after writable breaks the spec */
		} else {
			e->seg[n++] = (struct vqdev_seg){ p, desc.len };
			e->nrd++;
			e->rd_len += desc.len;
		}
		if (!(desc.flags & VRING_DESC_F_NEXT))
			break;
		if (desc.next >= q->q.size) {
			e->bad = true;
			break;
		}
		idx = desc.next;
	}
	e->rd = e->seg;
	e->wr = e->seg + e->nrd;
	*out = e;
	return 1;
}

bool vqdev_push(struct vqdev *q, struct ram *ram, struct vqdev_elem *e, uint32_t written)
{
	volatile struct vring_used *u = used(q, ram);
	volatile struct vring_avail *a = avail(q, ram);
	bool irq = true;

	if (u && e->head < q->q.size) {
		u->ring[q->used_idx % q->q.size].id = e->head;
		u->ring[q->used_idx % q->q.size].len = written;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		q->used_idx++;
		u->idx = q->used_idx;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		irq = !(a && (a->flags & VRING_AVAIL_F_NO_INTERRUPT));
	}
	free(e);
	return irq;
}

/* Copies between a flat buffer and the segments, from byte off of them. */
static size_t seg_copy(const struct vqdev_seg *seg, uint16_t n, size_t off, uint8_t *buf, size_t len, bool to_seg)
{
	size_t done = 0;

	for (uint16_t i = 0; i < n && done < len; i++) {
		size_t l = seg[i].len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len - done)
			l = len - done;
		if (to_seg)
			memcpy(seg[i].p + off, buf + done, l);
		else
			memcpy(buf + done, seg[i].p + off, l);
		done += l;
		off = 0;
	}
	return done;
}

size_t vqdev_read(const struct vqdev_elem *e, size_t off, void *dst, size_t len)
{
	return seg_copy(e->rd, e->nrd, off, dst, len, false);
}

size_t vqdev_write(const struct vqdev_elem *e, size_t off, const void *src, size_t len)
{
	return seg_copy(e->wr, e->nwr, off, (uint8_t *)(uintptr_t)src, len, true);
}
