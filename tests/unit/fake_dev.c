/* SPDX-License-Identifier: MIT */
/*
 * fake_dev.c: the scripted virtio-gpu device: its life (creation, reset),
 * its interrupts, and its answers. An answer is written into the chain's
 * writable buffers, pushed to the used ring and raises the queue's
 * interrupt (which the machine delivers at the next wait). Requests whose
 * answer waits (scripted HOLD, held fences, DROP) are kept here, with their
 * guest memory marked as the device's until they are answered or reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_priv.h"

/* ---- creation -------------------------------------------------------------- */

static bool pow2_16(uint16_t v)
{
	return v && !(v & (v - 1));
}

int fdev_create(struct os_dev *os, const struct fake_config *cfg, struct fake_dev **out)
{
	struct fake_dev *d;

	*out = NULL;
	if (!pow2_16(cfg->ctrlq_size) || !pow2_16(cfg->cursorq_size)) {
		fprintf(stderr, "fake: queue sizes must be powers of two (%u, %u)\n",
			cfg->ctrlq_size, cfg->cursorq_size);
		return -1;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	d->os = os;
	d->cfg = *cfg;
	d->hostmem_fd = -1;
	d->map_info = VIRTIO_GPU_MAP_CACHE_CACHED;
	if (cfg->hostmem_size) {
		d->hostmem_fd = memfd_create("fake-hostmem", MFD_CLOEXEC);
		if (d->hostmem_fd < 0 || ftruncate(d->hostmem_fd, (off_t)cfg->hostmem_size) < 0)
			goto hostmem_fail;
		d->hostmem = mmap(NULL, cfg->hostmem_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->hostmem_fd, 0);
		if (d->hostmem == MAP_FAILED) {
hostmem_fail:
			fprintf(stderr, "fake: no host-visible region of %llu bytes\n",
				(unsigned long long)cfg->hostmem_size);
			if (d->hostmem_fd >= 0)
				close(d->hostmem_fd);
			free(d);
			return -1;
		}
	}
	if (d->cfg.num_capsets > 2)
		d->cfg.num_capsets = 2;
	if (d->cfg.num_scanouts < 1)
		d->cfg.num_scanouts = 1;
	if (d->cfg.num_scanouts > VIRTIO_GPU_MAX_SCANOUTS)
		d->cfg.num_scanouts = VIRTIO_GPU_MAX_SCANOUTS;
	d->q[VIRTIO_GPU_QUEUE_CONTROL].max = cfg->ctrlq_size;
	d->q[VIRTIO_GPU_QUEUE_CURSOR].max = cfg->cursorq_size;
	for (unsigned i = 0; i < VIRTIO_GPU_QUEUE_COUNT; i++) {
		d->q[i].owned = calloc(d->q[i].max, 1);
		if (!d->q[i].owned) {
			fdev_destroy(d);
			return -1;
		}
	}
	d->hold_fences = cfg->hold_fences;
	d->fence_delay_ns = cfg->fence_delay_ns;
	fpci_build_config(d);
	fdev_reset(d);
	d->st.resets = 0;
	*out = d;
	return 0;
}

static void held_free(struct fake_dev *d, struct fake_held *h)
{
	struct fake_queue *q = &d->q[h->queue];

	for (unsigned i = 0; i < h->nsegs; i++)
		fram_ref(&d->os->ram, h->segs[i].bus, h->segs[i].len, -1);
	for (unsigned i = 0; i < h->ndescs; i++)
		if (h->descs[i] < q->max && q->owned[h->descs[i]])
			q->owned[h->descs[i]]--;
	free(h->segs);
	free(h->descs);
	free(h->resp);
	free(h);
}

static void drop_held(struct fake_dev *d)
{
	while (d->held) {
		struct fake_held *h = d->held;

		d->held = h->next;
		held_free(d, h);
	}
}

void fdev_destroy(struct fake_dev *d)
{
	if (!d)
		return;
	drop_held(d);
	fgpu_destroy(d);
	for (unsigned i = 0; i < VIRTIO_GPU_QUEUE_COUNT; i++)
		free(d->q[i].owned);
	free(d->log);
	free(d->spare_resp);
	free(d->submit);
	if (d->hostmem) {
		munmap(d->hostmem, d->cfg.hostmem_size);
		close(d->hostmem_fd);
	}
	free(d);
}

void fdev_reset(struct fake_dev *d)
{
	struct fake_ram *ram = &d->os->ram;

	drop_held(d);
	for (unsigned i = 0; i < VIRTIO_GPU_QUEUE_COUNT; i++) {
		struct fake_queue *q = &d->q[i];

		if (q->enabled) {
			fram_ref(ram, q->desc, vring_desc_size(q->size), -1);
			fram_ref(ram, q->driver, vring_avail_size(q->size), -1);
			fram_ref(ram, q->device, vring_used_size(q->size), -1);
		}
		q->size = q->max;
		q->vector = VIRTIO_MSI_NO_VECTOR;
		q->enabled = false;
		q->desc = q->driver = q->device = 0;
		q->last_avail = q->used_idx = 0;
	}
	d->dfeat_sel = d->gfeat_sel = 0;
	d->driver_features = 0;
	d->features = 0;
	d->config_vector = VIRTIO_MSI_NO_VECTOR;
	d->status = 0;
	d->queue_sel = 0;
	d->isr = 0;
	d->msix_pending = 0;
	d->events_read = 0;
	d->config_gen++;
	fgpu_reset(d);
	d->st.resets++;
	d->st.status = 0;
	d->st.driver_features = 0;
	d->st.events_read = 0;
}

/* ---- interrupts ------------------------------------------------------------ */

void fdev_raise(struct fake_dev *d, int qi)
{
	uint16_t vec;

	d->st.irqs++;
	if (qi >= 0) {
		d->isr |= VIRTIO_PCI_ISR_QUEUE;
		vec = d->q[qi].vector;
	} else {
		d->isr |= VIRTIO_PCI_ISR_CONFIG;
		vec = d->config_vector;
	}
	if (d->cfg.msix_count) {
		if (vec == VIRTIO_MSI_NO_VECTOR) {
			fake_note(d->os, "%s interrupt lost: no MSI-X vector assigned",
				  qi < 0 ? "config" : "queue");
			return;
		}
		d->msix_pending |= 1u << vec;
	}
	if (!d->os->gpu && !d->os->handler.isr)
		d->os->st.irq_undelivered++;
}

uint32_t fake_dev_irq_pending(struct fake_dev *d)
{
	return d->cfg.msix_count ? d->msix_pending : d->isr;
}

void fake_dev_set_map_info(struct fake_dev *d, uint32_t map_info)
{
	d->map_info = map_info;
}

uint8_t *fake_dev_hostmem(struct fake_dev *d, uint64_t *size)
{
	*size = d->hostmem ? d->cfg.hostmem_size : 0;
	return d->hostmem;
}

void fake_dev_remove(struct fake_dev *d)
{
	/* What a gone device held is nobody's any more: as after a reset,
	 * the driver may free it. */
	fdev_reset(d);
	d->removed = true;
	d->isr = 0;
	d->msix_pending = 0;
}

void fake_dev_set_needs_reset(struct fake_dev *d)
{
	d->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	d->st.status = d->status;
	d->config_gen++;
	fdev_raise(d, -1);
}

void fake_dev_display_event(struct fake_dev *d)
{
	d->events_read |= VIRTIO_GPU_EVENT_DISPLAY;
	d->st.events_read = d->events_read;
	d->config_gen++;
	fdev_raise(d, -1);
}

/* ---- the used ring --------------------------------------------------------- */

void fdev_push_used(struct fake_dev *d, uint16_t qi, uint32_t head, uint32_t len)
{
	struct fake_queue *q = &d->q[qi];
	struct fake_ram *ram = &d->os->ram;
	uint8_t *used = fram_resolve(ram, q->device, vring_used_size(q->size));
	uint8_t *avail = fram_resolve(ram, q->driver, vring_avail_size(q->size));
	struct vring_used_elem e = { head, len };
	uint16_t old = q->used_idx, flags, event;
	bool notify;

	if (!used || !avail) {
		d->st.bad_addr++;
		fake_driver_error(d->os, "queue %u: ring memory gone while enabled", qi);
		return;
	}
	memcpy(used + sizeof(struct vring_used) + (size_t)(old % q->size) * sizeof(e), &e, sizeof(e));
	q->used_idx++;
	memcpy(used + offsetof(struct vring_used, idx), &q->used_idx, 2);
	if (fdev_has_feature(d, VIRTIO_F_EVENT_IDX)) {
		memcpy(&event, avail + 4 + 2 * (size_t)q->size, 2);  /* used_event */
		notify = vring_need_event(event, q->used_idx, old);
	} else {
		memcpy(&flags, avail, 2);
		notify = !(flags & VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (notify)
		fdev_raise(d, qi);
}

uint32_t fdev_write_segs(struct fake_dev *d, const struct fake_seg *segs, unsigned n,
			 const uint8_t *data, uint32_t len)
{
	uint32_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint32_t chunk;
		uint8_t *p;

		if (!segs[i].writable)
			continue;
		chunk = segs[i].len < len - done ? segs[i].len : len - done;
		p = fram_resolve(&d->os->ram, segs[i].bus, chunk);
		if (!p) {
			d->st.bad_addr++;
			fake_driver_error(d->os, "response buffer at %#llx freed while the device held it",
					  (unsigned long long)segs[i].bus);
			break;
		}
		memcpy(p, data + done, chunk);
		done += chunk;
	}
	return done;
}

void fdev_log_answer(struct fake_dev *d, size_t idx, const uint8_t *resp, uint32_t len)
{
	uint32_t type = 0;

	if (idx >= d->nlog || len < sizeof(struct virtio_gpu_ctrl_hdr))
		return;
	memcpy(&type, resp, 4);
	d->log[idx].resp_type = type;
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC)
		d->st.errs++;
}

/* Answers a held request and forgets it (h must be unlinked already). */
static void answer_held(struct fake_dev *d, struct fake_held *h)
{
	uint32_t len = fdev_write_segs(d, h->segs, h->nsegs, h->resp, h->resp_len);

	fdev_log_answer(d, h->log_idx, h->resp, h->resp_len);
	fdev_push_used(d, h->queue, h->head, len);
	held_free(d, h);
}

/* ---- held requests and fences ---------------------------------------------- */

void fdev_hold(struct fake_dev *d, struct fake_held *h)
{
	struct fake_held **pp = &d->held;
	struct fake_queue *q = &d->q[h->queue];

	for (unsigned i = 0; i < h->nsegs; i++)
		fram_ref(&d->os->ram, h->segs[i].bus, h->segs[i].len, 1);
	for (unsigned i = 0; i < h->ndescs; i++)
		q->owned[h->descs[i]]++;
	while (*pp)
		pp = &(*pp)->next;
	*pp = h;
}

/* 0: the device-wide timeline; else (ctx_id, ring_idx) + 1. */
uint64_t fdev_held_timeline(const struct fake_held *h)
{
	struct virtio_gpu_ctrl_hdr hdr;

	memcpy(&hdr, h->resp, sizeof(hdr));
	if (hdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX)
		return ((uint64_t)hdr.ctx_id << 8 | hdr.ring_idx) + 1;
	return 0;
}

uint64_t fdev_fence_value(struct fake_dev *d, uint64_t id)
{
	return d->cfg.fence32 ? (uint32_t)id : id;
}

/* Completes fence value on a timeline (any_timeline: all of them): answers
 * every held fenced request there with an id <= value. */
unsigned fdev_signal_fence(struct fake_dev *d, bool any_timeline, uint64_t timeline, uint64_t value)
{
	unsigned n = 0;

	if (fdev_broken(d))
		return 0;
	for (struct fake_held **pp = &d->held; *pp;) {
		struct fake_held *h = *pp;

		if (h->kind != HELD_FENCE || h->fence_id > value ||
		    (!any_timeline && fdev_held_timeline(h) != timeline)) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		answer_held(d, h);
		n++;
	}
	d->st.fences_completed += n;
	return n;
}

uint64_t fdev_next_due(struct fake_dev *d)
{
	uint64_t next = UINT64_MAX;

	if (fdev_broken(d))
		return next;
	for (struct fake_held *h = d->held; h; h = h->next)
		if (h->due_ns && h->due_ns < next)
			next = h->due_ns;
	return next;
}

unsigned fdev_tick(struct fake_dev *d)
{
	uint64_t now = d->os->now_ns;
	unsigned n = 0;

	if (fdev_broken(d))
		return 0;
	for (;;) {
		struct fake_held **pp = &d->held, *h;

		while (*pp && !((*pp)->due_ns && (*pp)->due_ns <= now))
			pp = &(*pp)->next;
		h = *pp;
		if (!h)
			return n;
		h->due_ns = 0;
		n++;
		if (h->kind == HELD_FENCE) {
			fdev_signal_fence(d, false, fdev_held_timeline(h), fdev_fence_value(d, h->fence_id));
		} else {
			*pp = h->next;
			answer_held(d, h);
		}
	}
}

unsigned fake_dev_complete_fences(struct fake_dev *d, uint64_t up_to_id)
{
	return fdev_signal_fence(d, true, 0, fdev_fence_value(d, up_to_id));
}

void fake_dev_hold_fences(struct fake_dev *d, bool hold_on, uint64_t delay_ns)
{
	d->hold_fences = hold_on;
	d->fence_delay_ns = delay_ns;
	if (!hold_on)
		fdev_signal_fence(d, true, 0, fdev_fence_value(d, UINT64_MAX));
}

void fake_dev_set_hold_delay(struct fake_dev *d, uint64_t ns)
{
	d->hold_delay_ns = ns;
}

unsigned fake_dev_release(struct fake_dev *d)
{
	unsigned n = 0;

	if (fdev_broken(d))
		return 0;
	for (struct fake_held **pp = &d->held; *pp;) {
		struct fake_held *h = *pp;

		if (h->kind != HELD_SCRIPT) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		answer_held(d, h);
		n++;
	}
	return n;
}

unsigned fake_dev_held(struct fake_dev *d)
{
	unsigned n = 0;

	for (struct fake_held *h = d->held; h; h = h->next)
		n++;
	return n;
}

const struct fake_dev_stats *fake_dev_stats(struct fake_dev *d)
{
	return &d->st;
}
