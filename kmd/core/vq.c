/* SPDX-License-Identifier: MIT */
/* Split virtqueues (virtio 1.2 §2.7), driver side. */
#include "vq.h"

#include <virgo/uapi.h>
#include <virgo/virtio_ring.h>

#include "barrier.h"

#define VQ_USED_ALIGN 64u

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void vq_init_free_list(struct vq *q)
{
	for (uint16_t i = 0; i < q->size; i++) {
		q->next[i] = (uint16_t)(i + 1 < q->size ? i + 1 : 0);
		q->desc[i] = (struct vring_desc){ 0 };
		q->token[i] = NULL;
		q->chain_len[i] = 0;
	}
	q->free_head = 0;
	q->num_free = q->size;
	q->avail_idx = 0;
	q->last_used = 0;
	q->avail->idx = 0;
	q->avail->flags = 0;
	q->used->idx = 0;
	q->used->flags = 0;
}

int vq_create(struct vq *q, struct os_dev *os, uint16_t index, uint16_t size)
{
	size_t avail_off, used_off, total;
	int ret;

	*q = (struct vq){ .os = os, .index = index, .size = size };
	if (size == 0 || (size & (size - 1)) || size > VRING_MAX_SIZE)
		return -VIRGO_EINVAL;
	avail_off = vring_desc_size(size);
	used_off = align_up(avail_off + vring_avail_size(size), VQ_USED_ALIGN);
	total = align_up(used_off + vring_used_size(size), OS_PAGE_SIZE);
	ret = os_dma_alloc(os, total, &q->ring);
	if (ret)
		return ret;
	q->desc = q->ring.va;
	q->avail = (void *)((uint8_t *)q->ring.va + avail_off);
	q->used = (void *)((uint8_t *)q->ring.va + used_off);
	/* Completion context reads these: non-paged. */
	q->token = os_alloc(os, sizeof(void *) * size, OS_MEM_NONPAGED);
	q->chain_len = os_alloc(os, sizeof(uint16_t) * size, OS_MEM_NONPAGED);
	q->next = os_alloc(os, sizeof(uint16_t) * size, OS_MEM_NONPAGED);
	if (!q->token || !q->chain_len || !q->next) {
		vq_destroy(q);
		return -VIRGO_ENOMEM;
	}
	vq_init_free_list(q);
	return 0;
}

void vq_destroy(struct vq *q)
{
	if (q->token)
		os_free(q->os, q->token);
	if (q->chain_len)
		os_free(q->os, q->chain_len);
	if (q->next)
		os_free(q->os, q->next);
	if (q->ring.va)
		os_dma_free(q->os, &q->ring);
	*q = (struct vq){ 0 };
}


void vq_rewind(struct vq *q)
{
	q->broken = false;
	/* Tokens stay until vq_detach() has returned them all. */
	q->avail->idx = 0;
	q->used->idx = 0;
}

void *vq_detach(struct vq *q)
{
	for (uint16_t i = 0; i < q->size; i++) {
		void *t = q->token[i];

		if (t) {
			q->token[i] = NULL;
			q->outstanding--;
			return t;
		}
	}
	vq_init_free_list(q);
	q->outstanding = 0;
	return NULL;
}

int vq_add(struct vq *q, const struct vq_buf *bufs, unsigned n, void *token)
{
	uint16_t head, idx;

	if (n == 0 || n > q->size || !token)
		return -VIRGO_EINVAL;
	if (q->num_free < n)
		return -VIRGO_ENOSPC;
	head = idx = q->free_head;
	for (unsigned i = 0; i < n; i++) {
		volatile struct vring_desc *d = &q->desc[idx];

		d->addr = bufs[i].bus;
		d->len = bufs[i].len;
		d->flags = (uint16_t)((bufs[i].device_writes ? VRING_DESC_F_WRITE : 0) |
				      (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		d->next = q->next[idx];
		idx = q->next[idx];
	}
	q->free_head = idx;
	q->num_free = (uint16_t)(q->num_free - n);
	q->token[head] = token;
	q->chain_len[head] = (uint16_t)n;
	q->outstanding++;
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	/* The descriptors and the ring slot must be visible before the index
	 * that publishes them. */
	vg_wmb();
	q->avail_idx++;
	q->avail->idx = q->avail_idx;
	vg_mb();
	return 0;
}

bool vq_needs_notify(struct vq *q)
{
	vg_mb();
	return !(q->used->flags & VRING_USED_F_NO_NOTIFY);
}

bool vq_has_used(const struct vq *q)
{
	return q->live && !q->broken && q->used->idx != q->last_used;
}

void *vq_get_used(struct vq *q, uint32_t *len)
{
	uint16_t used_idx, head, idx, n;
	void *token;

	if (q->broken)
		return NULL;
	used_idx = q->used->idx;
	if (used_idx == q->last_used)
		return NULL;
	/* A device cannot have used more than it was given. */
	if ((uint16_t)(used_idx - q->last_used) > q->outstanding) {
		q->broken = true;
		return NULL;
	}
	vg_rmb();
	{
		volatile struct vring_used_elem *e = &q->used->ring[q->last_used & (q->size - 1)];

		if (e->id >= q->size || !q->token[e->id]) {
			q->broken = true;
			return NULL;
		}
		head = (uint16_t)e->id;
		*len = e->len;
	}
	q->last_used++;
	token = q->token[head];
	q->token[head] = NULL;
	q->outstanding--;
	/* The chain goes back by its recorded length and the driver's own
	 * links, not by ring memory that a device could have scribbled on. */
	n = q->chain_len[head];
	idx = head;
	for (uint16_t i = 1; i < n; i++)
		idx = q->next[idx];
	q->next[idx] = q->free_head;
	q->free_head = head;
	q->num_free = (uint16_t)(q->num_free + n);
	return token;
}
