/* SPDX-License-Identifier: MIT */
/* Requests: every virtio-gpu command goes through here. A request is one
 * buffer on a virtqueue (command, optional payload chunks, response); it is
 * sent with back-pressure, answered from the DPC, waited for with a
 * deadline, and freed in request context only (the DPC hands answered
 * asynchronous requests to the reaper). Fences are retired here too. */
#include "gpu.h"

int gpu_req_new(struct gpu_dev *dev, uint32_t req_len, uint32_t resp_len, uint64_t extra_len,
		struct gpu_req **out)
{
	uint32_t resp_off = (req_len + 7u) & ~7u;
	uint64_t total = (uint64_t)resp_off + resp_len;
	struct gpu_req *r = NULL;
	int ret;

	os_might_sleep(dev->os);
	if (total <= GPU_REQ_SMALL) {
		os_mutex_lock(dev->lock);
		r = dev->cache;
		if (r) {
			dev->cache = r->next;
			dev->ncache--;
		}
		os_mutex_unlock(dev->lock);
	}
	if (!r) {
		r = os_alloc(dev->os, sizeof(*r), OS_MEM_NONPAGED);
		if (!r)
			return -VIRGO_ENOMEM;
		ret = os_dma_alloc(dev->os, total <= GPU_REQ_SMALL ? GPU_REQ_SMALL : total, &r->dma);
		if (ret) {
			os_free(dev->os, r);
			return ret;
		}
	}
	gpu_req_reuse(r, req_len, resp_len);
	if (extra_len > (uint64_t)GPU_MAX_CHUNKS * GPU_CHUNK) {
		gpu_req_free(dev, r);
		return -VIRGO_E2BIG;
	}
	for (uint64_t left = extra_len; left; r->nchunks++) {
		uint64_t n = left < GPU_CHUNK ? left : GPU_CHUNK;

		ret = os_dma_alloc(dev->os, (size_t)n, &r->chunk[r->nchunks]);
		if (ret) {
			gpu_req_free(dev, r);
			return ret;
		}
		left -= n;
	}
	r->extra_len = extra_len;
	*out = r;
	return 0;
}

void gpu_req_reuse(struct gpu_req *r, uint32_t req_len, uint32_t resp_len)
{
	struct os_dma keep = r->dma;
	uint32_t resp_off = (req_len + 7u) & ~7u;

	*r = (struct gpu_req){ .dma = keep, .req_len = req_len, .resp_off = resp_off, .resp_len = resp_len };
	/* A reused page carries the previous command: a response the device
	 * writes short must not leave stale bytes to misread. (The builtins
	 * need no header: gcc emits the memset/memcpy that ntoskrnl exports,
	 * as it already did for the loops they replace.) */
	__builtin_memset(keep.va, 0, resp_off + resp_len);
}

int gpu_req_fill(struct gpu_req *r, struct os_caller *caller, uint64_t uaddr, uint64_t len)
{
	int ret = 0;

	if (len > r->extra_len)
		return -VIRGO_EINVAL;
	for (uint32_t i = 0; !ret && len; i++) {
		uint64_t n = len < GPU_CHUNK ? len : GPU_CHUNK;

		ret = os_copy_from_user(caller, r->chunk[i].va, uaddr, (size_t)n);
		uaddr += n;
		len -= n;
	}
	return ret;
}

void gpu_req_free(struct gpu_dev *dev, struct gpu_req *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->nchunks; i++)
		os_dma_free(dev->os, &r->chunk[i]);
	r->nchunks = 0;
	r->extra_len = 0;
	if (r->dma.size == GPU_REQ_SMALL) {
		os_mutex_lock(dev->lock);
		if (dev->ncache < GPU_REQ_CACHE) {
			r->next = dev->cache;
			dev->cache = r;
			dev->ncache++;
			r = NULL;
		}
		os_mutex_unlock(dev->lock);
	}
	if (r) {
		os_dma_free(dev->os, &r->dma);
		os_free(dev->os, r);
	}
}

/* Completion context, qlock held. */
static void gpu_complete(struct gpu_dev *dev, struct gpu_req *r, uint32_t len)
{
	const struct virtio_gpu_ctrl_hdr *hdr = gpu_req_resp(r);

	dev->in_flight--;
	r->resp_got = len;
	r->resp_type = len >= sizeof(*hdr) ? hdr->type : 0;
	if (r->fenced) {
		uint64_t want = fence_wire_id(&dev->timeline, r->fence.seq);

		if (gpu_resp_to_err(r->resp_type) == 0 &&
		    (!(hdr->flags & VIRTIO_GPU_FLAG_FENCE) || hdr->fence_id != want))
			os_log(dev->os, OS_LOG_WARN, "fence %llu answered without its fence (flags %#x id %llu)",
			       (unsigned long long)want, hdr->flags, (unsigned long long)hdr->fence_id);
		if (gpu_resp_to_err(r->resp_type)) {
			struct gpu_err *e = &dev->errs[dev->err_next++ % GPU_ERR_LOG];

			/* Reported at FENCE_WAIT, long after the request's
			 * arguments were accepted: an I/O error, whatever
			 * the device's reason. */
			e->seq = r->fence.seq;
			e->ctx_id = r->ctx_id;
			e->err = -VIRGO_EIO;
		}
		fence_retire(&dev->timeline, &r->fence);
	}
	if (r->async || r->state == REQ_ABANDONED) {
		r->state = REQ_DONE;
		r->next = dev->reap;
		dev->reap = r;
	} else {
		r->state = REQ_DONE;
	}
}

void gpu_drain(struct gpu_dev *dev, struct vq *q)
{
	struct gpu_req *r;
	uint32_t len;

	while ((r = vq_get_used(q, &len)))
		gpu_complete(dev, r, len);
	if (q->broken)
		gpu_set_lost(dev, "the device returned an invalid used buffer");
}

int gpu_send(struct gpu_dev *dev, struct gpu_req *r, bool fenced, bool async, uint64_t *seq_out)
{
	struct virtio_gpu_ctrl_hdr *hdr = gpu_req_cmd(r);
	struct vq *q = r->cursor ? &dev->cursorq : &dev->ctrlq;
	struct vq_buf small[GPU_SMALL_CHAIN], *bufs = small;
	uint64_t deadline = gpu_deadline(dev, dev->params.cmd_timeout_ns);
	uint64_t left = r->extra_len;
	unsigned n = 0, want = 2 + r->nchunks;
	int ret;

	os_might_sleep(dev->os);
	if (want > q->size) {
		/* A chain longer than the queue could never be added. */
		ret = -VIRGO_E2BIG;
		goto fail;
	}
	if (want > GPU_SMALL_CHAIN) {
		bufs = os_alloc(dev->os, sizeof(*bufs) * want, OS_MEM_PAGED);
		if (!bufs) {
			ret = -VIRGO_ENOMEM;
			goto fail;
		}
	}
	bufs[n++] = (struct vq_buf){ .bus = r->dma.bus, .len = r->req_len };
	for (uint32_t i = 0; i < r->nchunks && left; i++) {
		uint64_t len = left < GPU_CHUNK ? left : GPU_CHUNK;

		bufs[n++] = (struct vq_buf){ .bus = r->chunk[i].bus, .len = (uint32_t)len };
		left -= len;
	}
	bufs[n++] = (struct vq_buf){ .bus = r->dma.bus + r->resp_off, .len = r->resp_len, .device_writes = true };
	r->ctx_id = hdr->ctx_id;
	r->fenced = fenced;
	r->async = async;
	for (;;) {
		uint64_t seq;
		bool notify = false;

		os_spin_lock(dev->qlock);
		if (dev->lost) {
			os_spin_unlock(dev->qlock);
			ret = -VIRGO_EDEVLOST;
			goto fail;
		}
		if (q->num_free >= n && (!fenced || fence_can_issue(&dev->timeline))) {
			if (fenced) {
				uint64_t s = fence_issue(&dev->timeline, &r->fence);

				hdr->flags |= VIRTIO_GPU_FLAG_FENCE;
				hdr->fence_id = fence_wire_id(&dev->timeline, s);
				if (seq_out)
					*seq_out = s;
			}
			r->state = REQ_QUEUED;
			ret = vq_add(q, bufs, n, r);
			if (ret) {
				if (fenced)
					fence_retire(&dev->timeline, &r->fence);
				r->state = REQ_IDLE;
				os_spin_unlock(dev->qlock);
				goto fail;
			}
			dev->in_flight++;
			notify = vq_needs_notify(q);
			os_spin_unlock(dev->qlock);
			if (notify)
				pci_queue_notify(&dev->pci, q->index, q->notify_off);
			if (bufs != small)
				os_free(dev->os, bufs);
			return 0;
		}
		/* Back-pressure: a full queue waits for the device, never drops. */
		seq = os_waitq_seq(dev->wq);
		os_spin_unlock(dev->qlock);
		if (os_waitq_wait(dev->wq, seq, deadline)) {
			gpu_set_lost(dev, "the queue stayed full");
			ret = -VIRGO_EDEVLOST;
			goto fail;
		}
	}
fail:
	if (bufs != small)
		os_free(dev->os, bufs);
	if (async)
		gpu_req_free(dev, r);
	return ret;
}

int gpu_wait_req(struct gpu_dev *dev, struct gpu_req *r, uint32_t expect)
{
	uint64_t deadline = gpu_deadline(dev, dev->params.cmd_timeout_ns);
	int ret;

	os_might_sleep(dev->os);
	for (;;) {
		uint64_t seq;

		os_spin_lock(dev->qlock);
		if (r->state == REQ_DONE) {
			os_spin_unlock(dev->qlock);
			break;
		}
		seq = os_waitq_seq(dev->wq);
		if (dev->lost) {
			/* The device still owns the buffer: the reaper frees it
			 * when it comes back or when the device is reset. */
			r->state = REQ_ABANDONED;
			os_spin_unlock(dev->qlock);
			return -VIRGO_EDEVLOST;
		}
		os_spin_unlock(dev->qlock);
		if (os_waitq_wait(dev->wq, seq, deadline)) {
			os_spin_lock(dev->qlock);
			if (r->state == REQ_DONE) {
				os_spin_unlock(dev->qlock);
				break;
			}
			r->state = REQ_ABANDONED;
			os_spin_unlock(dev->qlock);
			gpu_set_lost(dev, "a command was not answered in time");
			return -VIRGO_EDEVLOST;
		}
	}
	if (r->resp_got < sizeof(struct virtio_gpu_ctrl_hdr)) {
		/* A reset hands buffers back with nothing written. */
		return dev->lost ? -VIRGO_EDEVLOST : -VIRGO_EPROTO;
	}
	ret = gpu_resp_to_err(r->resp_type);
	if (ret) {
		const struct virtio_gpu_ctrl_hdr *c = gpu_req_cmd(r);

		os_log(dev->os, OS_LOG_WARN, "command %#x ctx %u answered %#x", c->type, c->ctx_id, r->resp_type);
		return ret;
	}
	if (r->resp_type != expect)
		return -VIRGO_EPROTO;
	return 0;
}

/* Abandoned synchronous requests also land here; so the caller of a failed
 * wait must not free its request: gpu_call_nodata knows which case it is. */
int gpu_call_nodata(struct gpu_dev *dev, struct gpu_req *r)
{
	int ret = gpu_send(dev, r, false, false, NULL);

	if (ret) {
		gpu_req_free(dev, r);
		return ret;
	}
	ret = gpu_wait_req(dev, r, VIRTIO_GPU_RESP_OK_NODATA);
	if (r->state != REQ_ABANDONED)
		gpu_req_free(dev, r);
	return ret;
}

void gpu_reap(struct gpu_dev *dev)
{
	struct gpu_req *list;

	os_spin_lock(dev->qlock);
	list = dev->reap;
	dev->reap = NULL;
	os_spin_unlock(dev->qlock);
	while (list) {
		struct gpu_req *next = list->next;

		gpu_req_free(dev, list);
		list = next;
	}
}

bool gpu_fence_signalled(struct gpu_dev *dev, uint64_t seq)
{
	bool done;

	os_spin_lock(dev->qlock);
	done = fence_signalled(&dev->timeline, seq);
	os_spin_unlock(dev->qlock);
	return done;
}

static int gpu_fence_err(struct gpu_dev *dev, uint64_t seq, uint32_t ctx_id)
{
	int err = 0;

	os_spin_lock(dev->qlock);
	for (unsigned i = 0; i < GPU_ERR_LOG; i++)
		if (dev->errs[i].seq == seq && dev->errs[i].ctx_id == ctx_id && seq)
			err = dev->errs[i].err;
	os_spin_unlock(dev->qlock);
	return err;
}

/*
 * The timeline completes in order, so a fenced request the device never
 * answers (an answer lost, a hung GPU) holds back every later fence of the
 * device for good: without this, every wait of every client would time
 * out from then on and nothing would ever reset the device. As Windows'
 * timeout detection does, a timeline with fences outstanding that makes no
 * progress for the command timeout means the device is lost (the next
 * open resets it). Waiters measure it, in request context: with nobody
 * waiting, nobody is stuck. Returns true if the device is lost now.
 */
static bool gpu_fence_stalled(struct gpu_dev *dev)
{
	uint64_t now = os_time_ns(dev->os), head = 0, issued = 0, since = 0;
	bool stalled = false;

	os_spin_lock(dev->qlock);
	if (!dev->timeline.head) {
		dev->stall_armed = false;
	} else if (!dev->stall_armed || dev->stall_mark != dev->timeline.completed) {
		dev->stall_armed = true;
		dev->stall_mark = dev->timeline.completed;
		dev->stall_since = now;
	} else if (now > dev->stall_since && now - dev->stall_since > dev->params.cmd_timeout_ns) {
		/* (now was read before the lock: another waiter may have armed
		 * the detector with a later time meanwhile.) */
		stalled = true;
		head = dev->timeline.head->seq;
		issued = dev->timeline.issued;
		since = dev->stall_since;
	}
	os_spin_unlock(dev->qlock);
	if (stalled) {
		os_log(dev->os, OS_LOG_ERR, "fence %llu unanswered for %llu ms (%llu issued after it)",
		       (unsigned long long)head, (unsigned long long)((now - since) / 1000000u),
		       (unsigned long long)(issued - head));
		gpu_set_lost(dev, "a fence was not signalled in time");
	}
	return dev->lost != 0;
}

int gpu_fence_wait(struct gpu_dev *dev, uint64_t seq, uint32_t ctx_id, uint64_t deadline, bool nowait)
{
	/* Long waits wake up this often to look for a stalled timeline. */
	uint64_t slice = dev->params.cmd_timeout_ns / 4 + 1;

	os_might_sleep(dev->os);
	for (;;) {
		uint64_t gen, now, until;

		os_spin_lock(dev->qlock);
		gen = os_waitq_seq(dev->wq);
		if (fence_signalled(&dev->timeline, seq)) {
			os_spin_unlock(dev->qlock);
			return gpu_fence_err(dev, seq, ctx_id);
		}
		os_spin_unlock(dev->qlock);
		if (dev->lost)
			return -VIRGO_EDEVLOST;
		if (nowait)
			return -VIRGO_EBUSY;
		if (gpu_fence_stalled(dev))
			return -VIRGO_EDEVLOST;
		now = os_time_ns(dev->os);
		if (now >= deadline)
			return -VIRGO_ETIMEDOUT;
		until = deadline - now > slice ? now + slice : deadline;
		if (os_waitq_wait(dev->wq, gen, until) && until == deadline) {
			if (gpu_fence_signalled(dev, seq))
				return gpu_fence_err(dev, seq, ctx_id);
			return gpu_fence_stalled(dev) ? -VIRGO_EDEVLOST : -VIRGO_ETIMEDOUT;
		}
	}
}

const struct gpu_capset *gpu_find_capset(struct gpu_dev *dev, uint32_t id)
{
	for (uint32_t i = 0; i < dev->num_capsets; i++)
		if (dev->capsets[i].id == id && dev->capsets[i].data)
			return &dev->capsets[i];
	return NULL;
}

