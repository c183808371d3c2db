/* SPDX-License-Identifier: MIT */
/* The device: bring-up (features, queues, capsets), teardown, reset, the
 * interrupt path (ISR and DPC) and the device-wide counters. The commands
 * themselves are cmd.c's, the requests that carry them req.c's. */
#include "gpu.h"

#include <virgo/virtio_pci.h>
#include <virgo/virtio_ring.h>

#include "barrier.h"
#include "capset.h"
#include "obj.h"

#define VEC_CONFIG 0
#define VEC_CTRL   1
#define VEC_CURSOR 2

/* VIRTIO_F_ACCESS_PLATFORM is not among them: it says an IOMMU sits in
 * front of the device and the driver must give it IOVA-translated
 * addresses, and the OS layers give physical ones (kmd/win has no DMA
 * adapter yet, and declares itself not DMA-remapping-compatible). */
static const uint64_t gpu_known_features =
	VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1) |
	VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID) |
	VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT);

/* ---- interrupts ------------------------------------------------------------ */

bool gpu_isr(struct gpu_dev *dev, int msix_message)
{
	unsigned msix = dev->pci.msix;

	/* A shared line fires for other devices too, at any time: nothing of
	 * ours is read before the windows are there, or after the device went. */
	if (!dev->ready || dev->gone)
		return false;
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
	if (bits)
		dev->interrupts++;
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
	os_spin_lock(dev->qlock);
	q->live = true;
	os_spin_unlock(dev->qlock);
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
	if (offered & VIRTIO_FEATURE_BIT(VIRTIO_F_ACCESS_PLATFORM)) {
		/* A device behind an IOMMU (QEMU's iommu_platform=on) would
		 * take our physical addresses for IOVAs: refuse, clearly, rather
		 * than let it read the wrong memory. */
		os_log(dev->os, OS_LOG_ERR,
		       "the device sits behind an IOMMU (VIRTIO_F_ACCESS_PLATFORM), which virgo does not support yet: "
		       "start the VM without iommu_platform=on for this device");
		ret = -VIRGO_ENOTSUP;
		goto failed;
	}
	wanted = offered & gpu_known_features & dev->params.feature_mask;
	/* CONTEXT_INIT extends VIRGL's contexts; alone it means nothing. */
	if (!(wanted & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL)))
		wanted &= ~VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT);
	wanted |= VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1);
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
	if (params)
		dev->params = *params;
	if (!dev->params.cmd_timeout_ns)
		dev->params.cmd_timeout_ns = GPU_DEFAULT_CMD_TIMEOUT_NS;
	if (!dev->params.feature_mask)
		dev->params.feature_mask = ~0ull;
	if (!dev->params.max_owner_bytes)
		dev->params.max_owner_bytes = GPU_DEFAULT_OWNER_BYTES;
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
	gpu_pool_fill(dev);
	/* Published now, with the windows in place: gpu_init waits for answers
	 * (capsets), and the OS layer's interrupt path finds the device
	 * through *out. */
	dev->ready = 1;
	vg_wmb();
	*out = dev;
	ret = gpu_start(dev, true);
	if (ret)
		goto fail;
	fence_init(&dev->timeline, dev->params.first_fence, !dev->has_context_init);
	ret = capset_query_all(dev);
	if (ret)
		goto fail;
	/* Host-visible memory is the blob feature's: without RESOURCE_BLOB
	 * there is no MAP_BLOB to place anything in it. */
	if (dev->has_blob && dev->pci.shm_len) {
		ret = region_init(&dev->region, os, dev->pci.shm_len, OS_PAGE_SIZE);
		if (ret)
			goto fail;
		dev->has_host_visible = dev->region.size != 0;
	}
	os_log(os, OS_LOG_INFO,
	       "virtio-gpu: features %#llx, %u scanouts, capsets %#llx, queues %u/%u, %u MSI-X, host-visible %llu MiB",
	       (unsigned long long)dev->features, dev->config.num_scanouts,
	       (unsigned long long)dev->capset_mask, dev->ctrlq.size, dev->cursorq.size, dev->pci.msix,
	       (unsigned long long)(dev->region.size >> 20));
	return 0;
fail:
	*out = NULL;
	os_irq_sync(os);
	gpu_fini(dev);
	return ret;
}

void gpu_fini(struct gpu_dev *dev)
{
	if (!dev)
		return;
	if (dev->nfiles)
		os_log(dev->os, OS_LOG_ERR, "gpu_fini with %u handles open", dev->nfiles);
	/* A device that is gone gets no reset: its registers read all ones,
	 * and the wait for a status of 0 would only spin. */
	if (dev->pci.common && !dev->gone)
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
	gpu_pool_drain(dev);
	capset_free_all(dev);
	region_fini(&dev->region);
	if (dev->qlock) {
		os_spin_lock(dev->qlock);
		dev->ctrlq.live = dev->cursorq.live = false;
		os_spin_unlock(dev->qlock);
	}
	vq_destroy(&dev->ctrlq);
	vq_destroy(&dev->cursorq);
	dev->ready = 0;
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
	if (dev->gone)
		return -VIRGO_ENODEV;
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
	capset_free_all(dev);
	os_atomic_xchg32(&dev->lost, 0);
	ret = capset_query_all(dev);
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
	st->interrupts = dev->interrupts;
	os_spin_unlock(dev->qlock);
	os_mutex_lock(dev->lock);
	st->region_size = dev->region.size;
	st->region_free = dev->region.free_bytes;
	st->region_held = dev->region.held_bytes;
	os_mutex_unlock(dev->lock);
	st->features = dev->features;
}
