/* SPDX-License-Identifier: MIT */
/*
 * fake_vq.c: the device taking requests. Walks descriptor chains in guest
 * RAM exactly as the virtio spec lays them out (readable descriptors first,
 * then writable; every index, length and address checked), applies the
 * test's scripts, logs the command, hands it to fake_gpu.c and answers it
 * now or hands it to fake_dev.c to answer later.
 *
 * Every malformed thing the driver hands over is counted, and is a driver
 * error (a violation): the core must never produce one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_priv.h"

#define FAKE_MAX_REQ   (64u << 20)  /* readable bytes of one chain */
#define FAKE_RESP_MAX  4096u        /* the longest answer (capset 2: 24 + 1376) */

/* ---- scripts --------------------------------------------------------------- */

static void add_rule(struct fake_dev *d, uint32_t type, enum fake_action a, uint32_t resp,
		     unsigned count)
{
	if (d->nrules == FAKE_MAX_RULES) {
		/* Forget the oldest. */
		memmove(d->rules, d->rules + 1, sizeof(d->rules[0]) * (FAKE_MAX_RULES - 1));
		d->nrules--;
	}
	d->rules[d->nrules++] = (struct fake_rule){ type, a, resp, count };
}

void fake_dev_script(struct fake_dev *d, uint32_t cmd_type, enum fake_action a, unsigned count)
{
	add_rule(d, cmd_type, a, VIRTIO_GPU_RESP_ERR_UNSPEC, count);
}

void fake_dev_script_err(struct fake_dev *d, uint32_t cmd_type, uint32_t resp_type, unsigned count)
{
	add_rule(d, cmd_type, FAKE_ERR, resp_type, count);
}

void fake_dev_script_clear(struct fake_dev *d)
{
	d->nrules = 0;
}

void fake_dev_honest_give_back(struct fake_dev *d, bool on)
{
	d->honest_give_back = on;
}

static bool gives_back(uint32_t type)
{
	return type == VIRTIO_GPU_CMD_RESOURCE_UNREF || type == VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING ||
	       type == VIRTIO_GPU_CMD_CTX_DESTROY || type == VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE;
}

static enum fake_action script_match(struct fake_dev *d, uint32_t type, uint32_t *resp)
{
	for (unsigned i = d->nrules; i-- > 0;) {
		struct fake_rule *r = &d->rules[i];

		if (!r->count || (r->type != FAKE_CMD_ANY && r->type != type))
			continue;
		if (d->honest_give_back && r->action == FAKE_ERR && r->resp_type == VIRTIO_GPU_RESP_OK_NODATA &&
		    gives_back(type))
			continue;
		if (r->count != FAKE_FOREVER)
			r->count--;
		*resp = r->resp_type;
		return r->action;
	}
	return FAKE_OK;
}

/* ---- the log --------------------------------------------------------------- */

struct fake_cmd *fdev_log_add(struct fake_dev *d)
{
	if (d->nlog == d->caplog) {
		size_t cap = d->caplog ? d->caplog * 2 : 64;
		struct fake_cmd *n = realloc(d->log, cap * sizeof(*n));

		if (!n) {
			fprintf(stderr, "fake: out of memory for the command log\n");
			abort();
		}
		d->log = n;
		d->caplog = cap;
	}
	memset(&d->log[d->nlog], 0, sizeof(d->log[0]));
	d->log[d->nlog].time_ns = d->os->now_ns;
	return &d->log[d->nlog++];
}

size_t fake_dev_log_count(struct fake_dev *d)
{
	return d->nlog;
}

const struct fake_cmd *fake_dev_log(struct fake_dev *d, size_t i)
{
	return i < d->nlog ? &d->log[i] : NULL;
}

const struct fake_cmd *fake_dev_log_last(struct fake_dev *d, uint32_t type)
{
	for (size_t i = d->nlog; i-- > 0;)
		if (d->log[i].type == type)
			return &d->log[i];
	return NULL;
}

unsigned fake_dev_count(struct fake_dev *d, uint32_t type)
{
	unsigned n = 0;

	for (size_t i = 0; i < d->nlog; i++)
		n += d->log[i].type == type;
	return n;
}

void fake_dev_log_clear(struct fake_dev *d)
{
	/* Held requests keep log indices: point them nowhere. */
	for (struct fake_held *h = d->held; h; h = h->next)
		h->log_idx = SIZE_MAX;
	d->nlog = 0;
	d->nsubmit = 0;
}

const uint8_t *fake_dev_submit_data(struct fake_dev *d, size_t *len)
{
	*len = d->nsubmit;
	return d->submit;
}

/* ---- descriptor chains ----------------------------------------------------- */

struct chain {
	struct fake_seg *segs;
	unsigned n, cap;
	uint16_t *descs;       /* direct descriptor indices, in chain order */
	unsigned ndescs;
	uint64_t rlen, wlen;   /* readable / usable writable bytes */
	const char *err;       /* first structural problem */
	bool bad_addr;
};

static void chain_add(struct fake_dev *d, struct chain *c, uint64_t addr, uint32_t len, bool w)
{
	if (c->err)
		return;
	if (!w && c->wlen) {
		c->err = "a readable descriptor after a writable one";
		return;
	}
	if (!fram_resolve(&d->os->ram, addr, len)) {
		if (!c->bad_addr)
			fake_note(d->os, "descriptor %#llx+%u outside allocated RAM",
				  (unsigned long long)addr, len);
		c->bad_addr = true;
		return;
	}
	if (c->n == c->cap) {
		unsigned cap = c->cap ? c->cap * 2 : 8;
		struct fake_seg *s = realloc(c->segs, cap * sizeof(*s));

		if (!s) {
			c->err = "host out of memory";
			return;
		}
		c->segs = s;
		c->cap = cap;
	}
	c->segs[c->n++] = (struct fake_seg){ addr, len, w };
	if (w)
		c->wlen += len;
	else
		c->rlen += len;
	if (c->rlen > FAKE_MAX_REQ)
		c->err = "more readable bytes than any request needs";
}

static void walk_chain(struct fake_dev *d, struct fake_queue *q, uint16_t head, struct chain *c)
{
	struct fake_ram *ram = &d->os->ram;
	const uint8_t *table = fram_resolve(ram, q->desc, vring_desc_size(q->size));
	uint32_t tsize = q->size, idx = head, count = 0;
	bool indirect = false;

	if (!table) {
		c->err = "descriptor table gone";
		return;
	}
	c->descs = malloc(q->size * sizeof(*c->descs));
	if (!c->descs) {
		c->err = "host out of memory";
		return;
	}
	for (;;) {
		struct vring_desc desc;

		if (!indirect) {
			if (q->owned[idx]) {
				c->err = "descriptor reused while the device still holds its chain";
				return;
			}
			c->descs[c->ndescs++] = (uint16_t)idx;
		}
		memcpy(&desc, table + (size_t)idx * sizeof(desc), sizeof(desc));
		if (desc.flags & VRING_DESC_F_INDIRECT) {
			if (!fdev_has_feature(d, VIRTIO_F_INDIRECT_DESC)) {
				c->err = "INDIRECT descriptor without VIRTIO_F_INDIRECT_DESC";
				return;
			}
			if (indirect || count || (desc.flags & VRING_DESC_F_NEXT)) {
				c->err = "INDIRECT descriptor not alone at the head";
				return;
			}
			if (!desc.len || desc.len % sizeof(desc)) {
				c->err = "indirect table length not a multiple of 16";
				return;
			}
			table = fram_resolve(ram, desc.addr, desc.len);
			if (!table) {
				c->bad_addr = true;
				c->err = "indirect table outside allocated RAM";
				return;
			}
			tsize = desc.len / sizeof(desc);
			idx = 0;
			indirect = true;
			continue;
		}
		chain_add(d, c, desc.addr, desc.len, desc.flags & VRING_DESC_F_WRITE);
		if (c->err || !(desc.flags & VRING_DESC_F_NEXT))
			return;
		idx = desc.next;
		if (idx >= tsize) {
			c->err = "next index beyond the table";
			return;
		}
		if (++count >= tsize) {
			c->err = "descriptor chain loops";
			return;
		}
	}
}

/* Copies the readable part into one buffer. */
static uint8_t *gather(struct fake_dev *d, const struct chain *c)
{
	uint8_t *buf = malloc(c->rlen ? c->rlen : 1), *p = buf;

	if (!buf)
		return NULL;
	for (unsigned i = 0; i < c->n; i++) {
		if (c->segs[i].writable)
			break;
		memcpy(p, fram_resolve(&d->os->ram, c->segs[i].bus, c->segs[i].len), c->segs[i].len);
		p += c->segs[i].len;
	}
	return buf;
}

/* The response header: the type, plus the fence and ring echo QEMU gives. */
static void finish_hdr(uint8_t *resp, const struct virtio_gpu_ctrl_hdr *req, uint32_t type)
{
	struct virtio_gpu_ctrl_hdr h = { .type = type };

	if (req && (req->flags & VIRTIO_GPU_FLAG_FENCE)) {
		h.flags |= VIRTIO_GPU_FLAG_FENCE;
		h.fence_id = req->fence_id;
		h.ctx_id = req->ctx_id;
	}
	if (req && (req->flags & VIRTIO_GPU_FLAG_INFO_RING_IDX)) {
		h.flags |= VIRTIO_GPU_FLAG_INFO_RING_IDX;
		h.ring_idx = req->ring_idx;
	}
	memcpy(resp, &h, sizeof(h));
}

/* Answers now: writes up to len bytes of resp and pushes the chain. */
static void answer_now(struct fake_dev *d, uint16_t qi, uint16_t head, struct chain *c,
		       const uint8_t *resp, uint32_t len, size_t log_idx)
{
	uint32_t done = len ? fdev_write_segs(d, c->segs, c->n, resp, len) : 0;

	if (len)
		fdev_log_answer(d, log_idx, resp, len);
	fdev_push_used(d, qi, head, done);
}

static struct fake_held *make_held(struct chain *c, enum held_kind kind, uint16_t qi,
				   uint16_t head, uint8_t *resp, uint32_t len, size_t log_idx)
{
	struct fake_held *h = calloc(1, sizeof(*h));

	if (!h) {
		fprintf(stderr, "fake: out of memory\n");
		abort();
	}
	h->kind = kind;
	h->queue = qi;
	h->head = head;
	h->segs = c->segs;
	h->nsegs = c->n;
	h->descs = c->descs;
	h->ndescs = c->ndescs;
	c->descs = NULL;
	c->ndescs = 0;
	h->resp = resp;
	h->resp_len = len;
	h->log_idx = log_idx;
	c->segs = NULL;
	c->n = c->cap = 0;
	return h;
}

static uint32_t resp_type(const uint8_t *resp)
{
	uint32_t type;

	memcpy(&type, resp, 4);
	return type;
}

/* Takes one chain off the avail ring and deals with it. */
static void take(struct fake_dev *d, uint16_t qi, uint16_t head)
{
	struct fake_queue *q = &d->q[qi];
	struct chain c = { 0 };
	struct virtio_gpu_ctrl_hdr hdr;
	struct fake_req r = { 0 };
	uint8_t *req = NULL, *resp = NULL;
	uint32_t err_type = VIRTIO_GPU_RESP_ERR_UNSPEC;
	enum fake_action action;
	size_t log_idx;
	bool fenced;

	d->st.cmds++;
	if (head >= q->size) {
		/* Nothing to give back: the device is broken from here on. */
		fake_driver_error(d->os, "queue %u: avail ring names head %u (size %u)", qi, head, q->size);
		d->st.bad_chain++;
		fake_dev_set_needs_reset(d);
		return;
	}
	walk_chain(d, q, head, &c);
	if (c.bad_addr) {
		d->st.bad_addr++;
		if (!c.err)
			c.err = "a descriptor outside allocated guest RAM";
	}
	if (!c.err && c.rlen < sizeof(hdr))
		c.err = "request shorter than a header";
	if (!c.err && !(req = gather(d, &c)))
		c.err = "host out of memory";
	/* One answer buffer is kept for the next request: a fresh 4 KiB
	 * block per request cost the fuzzers a page fault each (ASan's
	 * quarantine never hands the same memory back soon). */
	if (d->spare_resp) {
		resp = d->spare_resp;
		d->spare_resp = NULL;
		memset(resp, 0, FAKE_RESP_MAX);
	} else {
		resp = calloc(1, FAKE_RESP_MAX);
	}
	if (!resp) {
		fprintf(stderr, "fake: out of memory\n");
		abort();
	}
	if (c.err) {
		/* Malformed: ERR_UNSPEC if a header fits, else nothing written. */
		d->st.bad_chain++;
		fake_driver_error(d->os, "queue %u head %u: %s", qi, head, c.err);
		finish_hdr(resp, NULL, VIRTIO_GPU_RESP_ERR_UNSPEC);
		answer_now(d, qi, head, &c, resp,
			   c.wlen >= sizeof(hdr) ? sizeof(hdr) : 0, SIZE_MAX);
		goto out;
	}
	memcpy(&hdr, req, sizeof(hdr));
	log_idx = d->nlog;
	r.rec = fdev_log_add(d);
	r.rec->queue = qi;
	r.rec->type = hdr.type;
	r.rec->flags = hdr.flags;
	r.rec->fence_id = hdr.fence_id;
	r.rec->ctx_id = hdr.ctx_id;
	r.rec->ring_idx = hdr.ring_idx;
	r.rec->ndescs = c.ndescs;
	action = script_match(d, hdr.type, &err_type);
	r.rec->action = action;
	if (action == FAKE_DROP) {
		fdev_hold(d, make_held(&c, HELD_DROP, qi, head, resp, 0, log_idx));
		resp = NULL;
		goto out;
	}
	if (action == FAKE_ERR) {
		finish_hdr(resp, &hdr, err_type);
		r.resp_len = sizeof(hdr);
	} else {
		r.queue = qi;
		r.req = req;
		r.req_len = c.rlen;
		r.resp = resp;
		r.resp_cap = FAKE_RESP_MAX;
		fgpu_execute(d, &r);
		finish_hdr(resp, &hdr, resp_type(resp));
	}
	if (qi == VIRTIO_GPU_QUEUE_CURSOR && !c.wlen) {
		/* Cursor commands need no answer buffer (QEMU writes none). */
		fdev_log_answer(d, log_idx, resp, sizeof(hdr));
		r.resp_len = 0;
	}
	if (r.resp_len > c.wlen) {
		d->st.short_resp++;
		fake_driver_error(d->os, "queue %u: command %#x needs %zu response bytes, the chain offers %llu",
				  qi, hdr.type, r.resp_len, (unsigned long long)c.wlen);
		finish_hdr(resp, &hdr, VIRTIO_GPU_RESP_ERR_UNSPEC);
		r.resp_len = c.wlen >= sizeof(hdr) ? sizeof(hdr) : 0;
		answer_now(d, qi, head, &c, resp, (uint32_t)r.resp_len, log_idx);
		goto out;
	}
	if (action == FAKE_HOLD) {
		struct fake_held *h = make_held(&c, HELD_SCRIPT, qi, head, resp,
						(uint32_t)r.resp_len, log_idx);

		h->due_ns = d->hold_delay_ns ? d->os->now_ns + d->hold_delay_ns : 0;
		fdev_hold(d, h);
		resp = NULL;
		goto out;
	}
	/* Errors are answered at once, fenced or not (QEMU does the same). */
	fenced = (hdr.flags & VIRTIO_GPU_FLAG_FENCE) && resp_type(resp) < VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (fenced) {
		struct fake_held *h = make_held(&c, HELD_FENCE, qi, head, resp,
						(uint32_t)r.resp_len, log_idx);
		uint64_t value = fdev_fence_value(d, hdr.fence_id);
		uint64_t tl = fdev_held_timeline(h);

		h->fence_id = hdr.fence_id;
		if (d->hold_fences && d->fence_delay_ns)
			h->due_ns = d->os->now_ns + d->fence_delay_ns;
		fdev_hold(d, h);
		resp = NULL;
		if (!d->hold_fences)
			fdev_signal_fence(d, false, tl, value);
		goto out;
	}
	answer_now(d, qi, head, &c, resp, (uint32_t)r.resp_len, log_idx);
out:
	free(c.segs);
	free(c.descs);
	free(req);
	if (resp && !d->spare_resp)
		d->spare_resp = resp;
	else
		free(resp);
}

void fdev_process(struct fake_dev *d, uint16_t qi)
{
	struct fake_queue *q = &d->q[qi];
	const uint8_t *avail;
	uint16_t idx;

	if (!(d->status & VIRTIO_STATUS_DRIVER_OK)) {
		fake_driver_error(d->os, "queue %u notified before DRIVER_OK", qi);
		return;
	}
	if (!q->enabled) {
		fake_driver_error(d->os, "queue %u notified while not enabled", qi);
		return;
	}
	if (fdev_broken(d))
		return;
	avail = fram_resolve(&d->os->ram, q->driver, vring_avail_size(q->size));
	if (!avail) {
		d->st.bad_addr++;
		fake_driver_error(d->os, "queue %u: avail ring memory gone while enabled", qi);
		return;
	}
	memcpy(&idx, avail + offsetof(struct vring_avail, idx), 2);
	if ((uint16_t)(idx - q->last_avail) > q->size) {
		fake_driver_error(d->os, "queue %u: avail idx jumped from %u to %u (size %u)",
				  qi, q->last_avail, idx, q->size);
		fake_dev_set_needs_reset(d);
		return;
	}
	while (q->last_avail != idx && !fdev_broken(d)) {
		uint16_t head;

		memcpy(&head, avail + 4 + 2 * (size_t)(q->last_avail % q->size), 2);
		q->last_avail++;
		take(d, qi, head);
	}
	if (fdev_has_feature(d, VIRTIO_F_EVENT_IDX)) {
		uint8_t *used = fram_resolve(&d->os->ram, q->device, vring_used_size(q->size));

		if (used)  /* avail_event: kick me for the next one */
			memcpy(used + 4 + 8 * (size_t)q->size, &q->last_avail, 2);
	}
}
