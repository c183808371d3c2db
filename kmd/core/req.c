/* SPDX-License-Identifier: MIT */
/* Requests: every virtio-gpu command goes through here. A request is one
 * buffer on a virtqueue (command, optional payload chunks, response); it is
 * sent with back-pressure, answered from the DPC, waited for with a
 * deadline, and freed in request context only (the DPC hands answered
 * asynchronous requests to the reaper). A fenced request takes its number
 * from the timeline when it is queued and retires it when it is answered;
 * waiting for fences is fence.c's. */
#include "gpu.h"

uint64_t gpu_deadline(struct gpu_dev *dev, uint64_t timeout_ns)
{
	return os_time_ns(dev->os) + timeout_ns;
}

int gpu_resp_to_err(uint32_t type)
{
	switch (type) {
	case VIRTIO_GPU_RESP_OK_NODATA:
	case VIRTIO_GPU_RESP_OK_DISPLAY_INFO:
	case VIRTIO_GPU_RESP_OK_CAPSET_INFO:
	case VIRTIO_GPU_RESP_OK_CAPSET:
	case VIRTIO_GPU_RESP_OK_EDID:
	case VIRTIO_GPU_RESP_OK_RESOURCE_UUID:
	case VIRTIO_GPU_RESP_OK_MAP_INFO:
		return 0;
	case VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY:
		return -VIRGO_ENOMEM;
	case VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID:
	case VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID:
	case VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID:
	case VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER:
		return -VIRGO_EINVAL;
	case VIRTIO_GPU_RESP_ERR_UNSPEC:
		return -VIRGO_EIO;
	default:
		return -VIRGO_EPROTO;
	}
}

/* A payload chunk: always GPU_CHUNK bytes, so that any chunk serves any
 * request, from the pool when it has one. */
static int chunk_get(struct gpu_dev *dev, struct os_dma *out)
{
	os_mutex_lock(dev->lock);
	if (dev->nchunks) {
		*out = dev->chunks[--dev->nchunks];
		dev->chunks[dev->nchunks] = (struct os_dma){ 0 };
		os_mutex_unlock(dev->lock);
		return 0;
	}
	os_mutex_unlock(dev->lock);
	return os_dma_alloc(dev->os, GPU_CHUNK, out);
}

static void chunk_put(struct gpu_dev *dev, struct os_dma *c)
{
	os_mutex_lock(dev->lock);
	if (dev->nchunks < GPU_CHUNK_CACHE) {
		dev->chunks[dev->nchunks++] = *c;
		*c = (struct os_dma){ 0 };
	}
	os_mutex_unlock(dev->lock);
	if (c->va)
		os_dma_free(dev->os, c);
}

static int small_new(struct gpu_dev *dev, struct gpu_req **out)
{
	struct gpu_req *r = os_alloc(dev->os, sizeof(*r), OS_MEM_NONPAGED);
	int ret;

	if (!r)
		return -VIRGO_ENOMEM;
	ret = os_dma_alloc(dev->os, GPU_REQ_SMALL, &r->dma);
	if (ret) {
		os_free(dev->os, r);
		return ret;
	}
	*out = r;
	return 0;
}

void gpu_pool_fill(struct gpu_dev *dev)
{
	unsigned reqs = 0, chunks = 0;

	for (; reqs < GPU_REQ_POOL; reqs++) {
		struct gpu_req *r;

		if (small_new(dev, &r))
			break;
		os_mutex_lock(dev->lock);
		r->next = dev->cache;
		dev->cache = r;
		dev->ncache++;
		os_mutex_unlock(dev->lock);
	}
	for (; chunks < GPU_CHUNK_POOL; chunks++) {
		struct os_dma c;

		if (os_dma_alloc(dev->os, GPU_CHUNK, &c))
			break;
		chunk_put(dev, &c);
	}
	if (reqs < GPU_REQ_POOL || chunks < GPU_CHUNK_POOL)
		os_log(dev->os, OS_LOG_WARN, "request pool short: %u of %u pages, %u of %u chunks", reqs,
		       GPU_REQ_POOL, chunks, GPU_CHUNK_POOL);
}

void gpu_pool_drain(struct gpu_dev *dev)
{
	while (dev->cache) {
		struct gpu_req *r = dev->cache;

		dev->cache = r->next;
		os_dma_free(dev->os, &r->dma);
		os_free(dev->os, r);
	}
	dev->ncache = 0;
	while (dev->nchunks)
		os_dma_free(dev->os, &dev->chunks[--dev->nchunks]);
}

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
	if (!r && total <= GPU_REQ_SMALL) {
		ret = small_new(dev, &r);
		if (ret)
			return ret;
	} else if (!r) {
		/* Large answers (capsets) and long memory-entry lists: rare,
		 * and sized by the command, so not from the pool. */
		r = os_alloc(dev->os, sizeof(*r), OS_MEM_NONPAGED);
		if (!r)
			return -VIRGO_ENOMEM;
		ret = os_dma_alloc(dev->os, total, &r->dma);
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

		ret = chunk_get(dev, &r->chunk[r->nchunks]);
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
		chunk_put(dev, &r->chunk[i]);
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
		/* Reported at FENCE_WAIT, long after the request's arguments
		 * were accepted: an I/O error, whatever the device's reason. */
		if (gpu_resp_to_err(r->resp_type))
			gpu_fence_record_err(dev, r->fence.seq, r->ctx_id, -VIRGO_EIO);
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

	/* An interrupt can come before the queues exist (gpu_init publishes
	 * the device before it sets them up) and after they went. */
	if (!q->live)
		return;
	while ((r = vq_get_used(q, &len)))
		gpu_complete(dev, r, len);
	if (q->broken)
		gpu_set_lost(dev, "the device returned an invalid used buffer");
}

int gpu_send(struct gpu_dev *dev, struct gpu_req *r, bool fenced, bool async, uint64_t *seq_out)
{
	struct virtio_gpu_ctrl_hdr *hdr = gpu_req_cmd(r);
	struct vq *q = r->cursor ? &dev->cursorq : &dev->ctrlq;
	/* On the stack, not allocated: vq_add reads the chain with the queue's
	 * spin lock held, where pageable memory must not be touched, and the
	 * longest chain (request, every chunk, response) is small. */
	struct vq_buf bufs[GPU_MAX_CHUNKS + 2];
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
			return 0;
		}
		/* Back-pressure: a full queue waits for the device, never drops. */
		seq = os_waitq_seq(dev->wq);
		os_spin_unlock(dev->qlock);
		if (os_waitq_wait(dev->wq, seq, deadline)) {
			gpu_set_unanswered(dev, "the queue stayed full");
			ret = -VIRGO_EDEVLOST;
			goto fail;
		}
	}
fail:
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
			gpu_set_unanswered(dev, "a command was not answered in time");
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

int gpu_call(struct gpu_dev *dev, struct gpu_req **rp, uint32_t expect)
{
	struct gpu_req *r = *rp;
	int ret = gpu_send(dev, r, false, false, NULL);

	if (ret) {
		gpu_req_free(dev, r);
		*rp = NULL;
		return ret;
	}
	ret = gpu_wait_req(dev, r, expect);
	/* Abandoned requests go to the reaper when the device gives them
	 * back (or a reset does): not the caller's any more. */
	if (r->state == REQ_ABANDONED)
		*rp = NULL;
	return ret;
}

int gpu_call_nodata(struct gpu_dev *dev, struct gpu_req *r)
{
	int ret = gpu_call(dev, &r, VIRTIO_GPU_RESP_OK_NODATA);

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
