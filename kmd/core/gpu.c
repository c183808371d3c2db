/* SPDX-License-Identifier: MIT */
/* The device: bring-up, teardown, reset, interrupts, and the request
 * machinery every command goes through. */
#include "gpu.h"

#include <virgo/virtio_pci.h>
#include <virgo/virtio_ring.h>

#include "cmd.h"
#include "obj.h"

#define VEC_CONFIG 0
#define VEC_CTRL   1
#define VEC_CURSOR 2

static const uint64_t gpu_known_features =
	VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE_BIT(VIRTIO_F_ACCESS_PLATFORM) |
	VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID) |
	VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT);

uint64_t gpu_deadline(struct gpu_dev *dev, uint64_t timeout_ns)
{
	return os_time_ns(dev->os) + timeout_ns;
}

void gpu_set_lost(struct gpu_dev *dev, const char *why)
{
	if (!os_atomic_xchg32(&dev->lost, 1))
		os_log(dev->os, OS_LOG_ERR, "device lost: %s", why);
	os_waitq_wake(dev->wq);
}

bool gpu_is_lost(struct gpu_dev *dev)
{
	return dev->lost != 0;
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

/* ---- requests ------------------------------------------------------------ */

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
	 * writes short must not leave stale bytes to misread. */
	for (uint32_t i = 0; i < resp_off + resp_len; i++)
		((uint8_t *)keep.va)[i] = 0;
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

static void gpu_drain(struct gpu_dev *dev, struct vq *q)
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

int gpu_fence_wait(struct gpu_dev *dev, uint64_t seq, uint32_t ctx_id, uint64_t deadline, bool nowait)
{
	os_might_sleep(dev->os);
	for (;;) {
		uint64_t gen;

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
		if (os_waitq_wait(dev->wq, gen, deadline))
			return gpu_fence_signalled(dev, seq) ? gpu_fence_err(dev, seq, ctx_id) : -VIRGO_ETIMEDOUT;
	}
}

const struct gpu_capset *gpu_find_capset(struct gpu_dev *dev, uint32_t id)
{
	for (uint32_t i = 0; i < dev->num_capsets; i++)
		if (dev->capsets[i].id == id && dev->capsets[i].data)
			return &dev->capsets[i];
	return NULL;
}

/* ---- interrupts ------------------------------------------------------------ */

bool gpu_isr(struct gpu_dev *dev, int msix_message)
{
	unsigned msix = dev->pci.msix;

	if (msix_message < 0 || msix == 0) {
		uint8_t isr = pci_isr_read(&dev->pci);

		if (!isr)
			return false;  /* a shared line: not ours */
		os_atomic_or32(&dev->isr_bits, isr);
		return true;
	}
	if (msix >= 3 && msix_message == VEC_CONFIG)
		os_atomic_or32(&dev->isr_bits, VIRTIO_PCI_ISR_CONFIG);
	else if (msix >= 3)
		os_atomic_or32(&dev->isr_bits, VIRTIO_PCI_ISR_QUEUE);
	else
		os_atomic_or32(&dev->isr_bits, VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG);
	return true;
}

void gpu_dpc(struct gpu_dev *dev)
{
	uint32_t bits = os_atomic_xchg32(&dev->isr_bits, 0);

	if (bits & VIRTIO_PCI_ISR_CONFIG) {
		uint32_t events = 0;

		if (pci_get_status(&dev->pci) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
			gpu_set_lost(dev, "the device needs a reset");
		if (!pci_config_read(&dev->pci, 0, &events, 4) && events) {
			/* Display changes matter to a display driver, not to a
			 * render-only one; acknowledge so the device stops asking. */
			pci_config_write32(&dev->pci, 4, events);
		}
	}
	/* Queues are drained on every interrupt: with a shared vector or a
	 * missed ISR bit, looking costs less than hanging. */
	os_spin_lock(dev->qlock);
	gpu_drain(dev, &dev->ctrlq);
	gpu_drain(dev, &dev->cursorq);
	os_spin_unlock(dev->qlock);
	os_waitq_wake(dev->wq);
}

/* ---- bring-up --------------------------------------------------------------- */

static int gpu_setup_queue(struct gpu_dev *dev, struct vq *q, uint16_t index, uint16_t vector, bool create)
{
	struct pci_queue_layout l = { 0 };
	uint16_t max;
	int ret = pci_queue_max(&dev->pci, index, &max);

	if (ret)
		return ret;
	if (create) {
		uint16_t size = max > GPU_MAX_QUEUE ? GPU_MAX_QUEUE : max;

		/* Split queues need a power of two; a device offering another
		 * size gets the largest power of two below it. */
		while (size & (size - 1))
			size &= (uint16_t)(size - 1);
		ret = vq_create(q, dev->os, index, size);
		if (ret)
			return ret;
	}
	l.size = q->size;
	l.desc = q->ring.bus;
	l.driver = q->ring.bus + (uint64_t)((uint8_t *)q->avail - (uint8_t *)q->ring.va);
	l.device = q->ring.bus + (uint64_t)((uint8_t *)q->used - (uint8_t *)q->ring.va);
	l.vector = dev->pci.msix ? (dev->pci.msix >= 3 ? vector : 0) : VIRTIO_MSI_NO_VECTOR;
	ret = pci_queue_enable(&dev->pci, index, &l);
	if (ret)
		return ret;
	q->notify_off = l.notify_off;
	return 0;
}

static int gpu_start(struct gpu_dev *dev, bool create)
{
	uint64_t offered, wanted;
	int ret;

	ret = pci_reset(&dev->pci);
	if (ret)
		return ret;
	pci_add_status(&dev->pci, VIRTIO_STATUS_ACKNOWLEDGE);
	pci_add_status(&dev->pci, VIRTIO_STATUS_DRIVER);
	offered = pci_device_features(&dev->pci);
	if (!(offered & VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1))) {
		os_log(dev->os, OS_LOG_ERR, "device is not a virtio 1.x device (features %#llx)",
		       (unsigned long long)offered);
		ret = -VIRGO_ENODEV;
		goto failed;
	}
	wanted = offered & gpu_known_features & dev->params.feature_mask;
	/* CONTEXT_INIT extends VIRGL's contexts; alone it means nothing. */
	if (!(wanted & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL)))
		wanted &= ~VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT);
	wanted |= VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1);
	/* ACCESS_PLATFORM, when offered, must be accepted: we give bus
	 * addresses, which is what it asks for. */
	wanted |= offered & VIRTIO_FEATURE_BIT(VIRTIO_F_ACCESS_PLATFORM);
	ret = pci_set_features(&dev->pci, wanted);
	if (ret)
		goto failed;
	dev->features = wanted;
	dev->has_virgl = wanted & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL);
	dev->has_edid = wanted & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID);
	dev->has_blob = wanted & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB);
	dev->has_context_init = dev->has_virgl && (wanted & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT));
	ret = pci_config_read(&dev->pci, 0, &dev->config, sizeof(dev->config));
	if (ret)
		goto failed;
	ret = gpu_setup_queue(dev, &dev->ctrlq, VIRTIO_GPU_QUEUE_CONTROL, VEC_CTRL, create);
	if (!ret)
		ret = gpu_setup_queue(dev, &dev->cursorq, VIRTIO_GPU_QUEUE_CURSOR, VEC_CURSOR, create);
	if (!ret)
		ret = pci_config_vector(&dev->pci, dev->pci.msix ? VEC_CONFIG : VIRTIO_MSI_NO_VECTOR);
	if (ret)
		goto failed;
	pci_add_status(&dev->pci, VIRTIO_STATUS_DRIVER_OK);
	if (pci_get_status(&dev->pci) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
		ret = -VIRGO_EIO;
		goto failed;
	}
	return 0;
failed:
	pci_add_status(&dev->pci, VIRTIO_STATUS_FAILED);
	return ret;
}

static int gpu_query_capsets(struct gpu_dev *dev)
{
	uint32_t n = dev->has_virgl ? dev->config.num_capsets : 0;

	if (n > GPU_MAX_CAPSETS) {
		os_log(dev->os, OS_LOG_WARN, "device offers %u capsets; using the first %u", n, GPU_MAX_CAPSETS);
		n = GPU_MAX_CAPSETS;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct gpu_capset *c = &dev->capsets[i];
		int ret = cmd_get_capset_info(dev, i, c);

		if (ret)
			return ret;
		if (c->id == 0 || c->id >= 64 || c->size == 0 || c->size > VIRGO_MAX_CAPSET_SIZE) {
			os_log(dev->os, OS_LOG_WARN, "capset %u: id %u size %u ignored", i, c->id, c->size);
			c->id = 0;
			continue;
		}
		ret = cmd_get_capset(dev, c);
		if (ret)
			return ret;
		dev->capset_mask |= 1ull << c->id;
	}
	dev->num_capsets = n;
	return 0;
}

static void gpu_free_capsets(struct gpu_dev *dev)
{
	for (uint32_t i = 0; i < GPU_MAX_CAPSETS; i++) {
		if (dev->capsets[i].data)
			os_free(dev->os, dev->capsets[i].data);
		dev->capsets[i] = (struct gpu_capset){ 0 };
	}
	dev->num_capsets = 0;
	dev->capset_mask = 0;
}

/* After a reset, every buffer the device held comes back unanswered. */
static void gpu_reclaim(struct gpu_dev *dev)
{
	struct vq *qs[] = { &dev->ctrlq, &dev->cursorq };

	os_spin_lock(dev->qlock);
	for (unsigned i = 0; i < 2; i++) {
		struct gpu_req *r;

		if (!qs[i]->token)
			continue;
		vq_rewind(qs[i]);
		while ((r = vq_detach(qs[i]))) {
			dev->in_flight--;
			r->resp_got = 0;
			if (r->fenced)
				fence_retire(&dev->timeline, &r->fence);
			if (r->async || r->state == REQ_ABANDONED) {
				r->next = dev->reap;
				dev->reap = r;
			}
			r->state = REQ_DONE;
		}
	}
	fence_retire_all(&dev->timeline);
	os_spin_unlock(dev->qlock);
	os_waitq_wake(dev->wq);
}

int gpu_init(struct os_dev *os, const struct gpu_params *params, struct gpu_dev **out)
{
	struct gpu_dev *dev;
	int ret;

	*out = NULL;
	dev = os_alloc(os, sizeof(*dev), OS_MEM_NONPAGED);
	if (!dev)
		return -VIRGO_ENOMEM;
	dev->os = os;
	/* Published now: gpu_init waits for answers (capsets), and the OS
	 * layer's interrupt path finds the device through *out. */
	*out = dev;
	if (params)
		dev->params = *params;
	if (!dev->params.cmd_timeout_ns)
		dev->params.cmd_timeout_ns = GPU_DEFAULT_CMD_TIMEOUT_NS;
	if (!dev->params.feature_mask)
		dev->params.feature_mask = ~0ull;
	dev->next_res_id = 1;
	dev->next_ctx_id = 1;
	dev->qlock = os_spin_create(os);
	dev->lock = os_mutex_create(os);
	dev->reserve_lock = os_mutex_create(os);
	dev->wq = os_waitq_create(os);
	if (!dev->qlock || !dev->lock || !dev->wq || !dev->reserve_lock) {
		ret = -VIRGO_ENOMEM;
		goto fail;
	}
	ret = gpu_req_new(dev, 64, 64, 0, &dev->reserve);
	if (ret)
		goto fail;
	ret = pci_probe(&dev->pci, os);
	if (ret)
		goto fail;
	ret = gpu_start(dev, true);
	if (ret)
		goto fail;
	fence_init(&dev->timeline, dev->params.first_fence, !dev->has_context_init);
	ret = gpu_query_capsets(dev);
	if (ret)
		goto fail;
	os_log(os, OS_LOG_INFO, "virtio-gpu: features %#llx, %u scanouts, capsets %#llx, queues %u/%u, %u MSI-X",
	       (unsigned long long)dev->features, dev->config.num_scanouts,
	       (unsigned long long)dev->capset_mask, dev->ctrlq.size, dev->cursorq.size, dev->pci.msix);
	return 0;
fail:
	*out = NULL;
	gpu_fini(dev);
	return ret;
}

void gpu_fini(struct gpu_dev *dev)
{
	if (!dev)
		return;
	if (dev->nfiles)
		os_log(dev->os, OS_LOG_ERR, "gpu_fini with %u handles open", dev->nfiles);
	if (dev->pci.common)
		pci_reset(&dev->pci);
	/* A failed gpu_init comes here too, possibly before its locks exist:
	 * then no request was ever sent. */
	if (dev->qlock && dev->lock && dev->wq) {
		gpu_reclaim(dev);
		gpu_reap(dev);
		obj_free_zombies(dev);
	}
	if (dev->reserve) {
		os_dma_free(dev->os, &dev->reserve->dma);
		os_free(dev->os, dev->reserve);
	}
	while (dev->cache) {
		struct gpu_req *r = dev->cache;

		dev->cache = r->next;
		os_dma_free(dev->os, &r->dma);
		os_free(dev->os, r);
	}
	gpu_free_capsets(dev);
	vq_destroy(&dev->ctrlq);
	vq_destroy(&dev->cursorq);
	pci_release(&dev->pci);
	if (dev->wq)
		os_waitq_destroy(dev->wq);
	if (dev->lock)
		os_mutex_destroy(dev->lock);
	if (dev->reserve_lock)
		os_mutex_destroy(dev->reserve_lock);
	if (dev->qlock)
		os_spin_destroy(dev->qlock);
	os_free(dev->os, dev);
}

int gpu_reset(struct gpu_dev *dev)
{
	int ret;

	os_might_sleep(dev->os);
	os_log(dev->os, OS_LOG_WARN, "resetting the device");
	os_mutex_lock(dev->lock);
	dev->generation++;
	os_mutex_unlock(dev->lock);
	ret = pci_reset(&dev->pci);
	if (ret)
		return ret;
	gpu_reclaim(dev);
	gpu_reap(dev);
	obj_free_zombies(dev);
	/* A reserve given up to the lost device came back through the reaper
	 * as an ordinary request: teardown needs a new one. */
	os_mutex_lock(dev->reserve_lock);
	if (!dev->reserve && gpu_req_new(dev, 64, 64, 0, &dev->reserve))
		dev->reserve = NULL;
	os_mutex_unlock(dev->reserve_lock);
	/* Open handles keep their objects until they close; those objects
	 * name nothing on the device any more (obj.c checks generations). */
	ret = gpu_start(dev, false);
	if (ret)
		return ret;
	dev->isr_bits = 0;
	gpu_free_capsets(dev);
	os_atomic_xchg32(&dev->lost, 0);
	ret = gpu_query_capsets(dev);
	if (ret)
		gpu_set_lost(dev, "capsets unreadable after reset");
	return ret;
}

void gpu_get_stats(struct gpu_dev *dev, struct gpu_stats *st)
{
	os_mutex_lock(dev->lock);
	st->resources = dev->nresources;
	st->files = dev->nfiles;
	os_mutex_unlock(dev->lock);
	os_spin_lock(dev->qlock);
	st->reqs_in_flight = dev->in_flight;
	st->fence_issued = dev->timeline.issued;
	st->fence_completed = dev->timeline.completed;
	os_spin_unlock(dev->qlock);
	st->features = dev->features;
}
