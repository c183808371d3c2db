/* SPDX-License-Identifier: MIT */
/* The virtio-gpu device of virgo-host: its thread, queues, fences, reset
 * and registers. The commands themselves are in vgpu_cmd.c. */
#define VIRGL_RENDERER_UNSTABLE_APIS 1
#include "vgpu.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <virgl/virglrenderer.h>

#include <virgo/virtio_gpu.h>
#include <virgo/virtio_ring.h>

#include "log.h"
#include "vgpu_priv.h"

static void wake(struct vgpu *g)
{
	uint64_t one = 1;

	if (write(g->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		hlog(HLOG_WARN, "eventfd write: %s", strerror(errno));
}

/* ---- virglrenderer callbacks (write_fence comes from virgl_renderer_poll) ---- */

static void cb_write_fence(void *cookie, uint32_t fence)
{
	struct vgpu *g = cookie;

	__atomic_store_n(&g->host_fence_done, fence, __ATOMIC_RELEASE);
	wake(g);
}

static struct virgl_renderer_callbacks callbacks = {
	.version = 1,
	.write_fence = cb_write_fence,
};

/* ---- queue processing (device thread) ---- */

static bool answer(struct vgpu *g, uint16_t qi, struct vqdev_elem *e, const struct virtio_gpu_ctrl_hdr *resp,
		   size_t len)
{
	size_t n = 0;

	if (e->wr_len >= sizeof(*resp))
		n = vqdev_write(e, 0, resp, sizeof(*resp));
	if (len > n)
		n = len;
	return vqdev_push(&g->q[qi], g->ram, e, (uint32_t)n);
}

static bool process_one(struct vgpu *g, uint16_t qi, struct vqdev_elem *e)
{
	struct virtio_gpu_ctrl_hdr h = { 0 }, resp = { 0 };
	size_t out_len = 0;
	uint32_t type;

	g->st.commands++;
	if (e->bad || e->rd_len < sizeof(h)) {
		g->st.bad_chains++;
		resp.type = VIRTIO_GPU_RESP_ERR_UNSPEC;
		hlog(HLOG_WARN, "queue %u: malformed descriptor chain (head %u)", qi, e->head);
		return answer(g, qi, e, &resp, 0);
	}
	vqdev_read(e, 0, &h, sizeof(h));
	type = vgpu_dispatch(g, qi, &h, e, &out_len);
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC) {
		g->st.errors++;
		hlog(HLOG_INFO, "command %#x ctx %u: %#x", h.type, h.ctx_id, type);
		out_len = 0;
	}
	resp.type = type;
	if (h.flags & VIRTIO_GPU_FLAG_FENCE) {
		resp.flags = VIRTIO_GPU_FLAG_FENCE | (h.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX);
		resp.fence_id = h.fence_id;
		resp.ctx_id = h.ctx_id;
		resp.ring_idx = h.ring_idx;
		if (type < VIRTIO_GPU_RESP_ERR_UNSPEC) {
			struct held *hd = calloc(1, sizeof(*hd));

			if (hd) {
				/* Answered once the GPU work before it is done; the host
				 * fence is our own 32-bit counter, so any guest id width
				 * works. */
				hd->e = e;
				hd->queue = qi;
				hd->resp = resp;
				hd->host_fence = ++g->host_fence_next;
				if (!hd->host_fence)
					hd->host_fence = ++g->host_fence_next;
				virgl_renderer_create_fence((int)hd->host_fence, h.ctx_id);
				if (g->held_tail)
					g->held_tail->next = hd;
				else
					g->held_head = hd;
				g->held_tail = hd;
				g->st.held++;
				return false;
			}
			resp.type = VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
		}
	}
	if (out_len) {
		/* The handler wrote a typed response; just complete it. */
		return vqdev_push(&g->q[qi], g->ram, e, (uint32_t)out_len);
	}
	return answer(g, qi, e, &resp, 0);
}

static bool process_queue(struct vgpu *g, uint16_t qi)
{
	struct vqdev_elem *e;
	bool irq = false;
	int ret;

	if (!vqdev_sync(&g->q[qi], &g->pci, g->ram, qi)) {
		if (g->q[qi].broken) {
			hlog(HLOG_ERR, "queue %u lies outside guest RAM: device needs reset", qi);
			vpci_needs_reset(&g->pci);
			vqdev_reset(&g->q[qi]);
			g->q[qi].broken = true;
			g->q[qi].ready = true;
		}
		return false;
	}
	while ((ret = vqdev_pop(&g->q[qi], g->ram, &e)) > 0)
		irq |= process_one(g, qi, e);
	if (ret < 0) {
		hlog(HLOG_ERR, "queue %u: ring corrupt: device needs reset", qi);
		vpci_needs_reset(&g->pci);
	}
	return irq;
}

static bool fence_passed(uint32_t f, uint32_t done)
{
	return (int32_t)(f - done) <= 0;
}

static bool retire_fences(struct vgpu *g)
{
	uint32_t done = __atomic_load_n(&g->host_fence_done, __ATOMIC_ACQUIRE);
	bool irq = false;

	while (g->held_head && fence_passed(g->held_head->host_fence, done)) {
		struct held *hd = g->held_head;

		g->held_head = hd->next;
		if (!g->held_head)
			g->held_tail = NULL;
		irq |= answer(g, hd->queue, hd->e, &hd->resp, 0);
		g->st.held--;
		g->st.fences_done++;
		free(hd);
	}
	return irq;
}

/* Forget everything the driver gave us (status 0 or teardown). */
static void device_reset(struct vgpu *g)
{
	while (g->held_head) {
		struct held *hd = g->held_head;

		g->held_head = hd->next;
		free(hd->e);
		free(hd);
	}
	g->held_tail = NULL;
	g->st.held = 0;
	while (g->ctx)
		vgpu_ctx_destroy(g, g->ctx);
	while (g->res)
		vgpu_res_destroy(g, g->res);
	for (int i = 0; i < NQUEUES; i++)
		vqdev_reset(&g->q[i]);
}

static int renderer_start(struct vgpu *g)
{
	/* No THREAD_SYNC (and so no ASYNC_FENCE_CB): with 0.10.4 its sync
	 * thread corrupted GL state when two clients rendered at once (piglit's
	 * teximage-colors, 18 of 21 failing two at a time). Fences are polled
	 * by this thread instead, every millisecond while answers wait. */
	int flags = VIRGL_RENDERER_USE_EGL | VIRGL_RENDERER_USE_SURFACELESS;
	int ret = virgl_renderer_init(g, flags, &callbacks);

	if (ret) {
		hlog(HLOG_ERR, "virglrenderer could not start with EGL surfaceless (%d): is an EGL driver "
			       "(Mesa llvmpipe or a GPU) installed?", ret);
		return -ENODEV;
	}
	for (uint32_t id = 1; id <= 2; id++) {
		uint32_t ver = 0, size = 0;

		virgl_renderer_get_cap_set(id, &ver, &size);
		if (size)
			g->capset_ids[g->ncapsets++] = id;
	}
	g->config.num_capsets = g->ncapsets;
	return 0;
}

static void *device_thread(void *arg)
{
	struct vgpu *g = arg;
	int err = renderer_start(g);

	pthread_mutex_lock(&g->lock);
	g->started = true;
	g->start_err = err;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	if (err)
		return NULL;
	for (;;) {
		struct pollfd pfd = { .fd = g->efd, .events = POLLIN };
		uint64_t v, req;
		bool irq[NQUEUES] = { false }, stop;

		/* Answers waiting on fences: look again in a millisecond. Else the
		 * timeout only bounds how long a lost wake-up could stall. */
		poll(&pfd, 1, g->held_head ? 1 : 100);
		if (read(g->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			hlog(HLOG_WARN, "eventfd read: %s", strerror(errno));
		pthread_mutex_lock(&g->lock);
		stop = g->stop;
		req = g->reset_req;
		pthread_mutex_unlock(&g->lock);
		if (req != g->reset_done || stop) {
			device_reset(g);
			pthread_mutex_lock(&g->lock);
			g->reset_done = req;
			pthread_cond_broadcast(&g->cond);
			pthread_mutex_unlock(&g->lock);
			if (stop)
				break;
			continue;
		}
		if (!vpci_driver_ok(&g->pci))
			continue;
		for (uint16_t qi = 0; qi < NQUEUES; qi++)
			irq[qi] = process_queue(g, qi);
		/* Fences signalled by the work just done retire now, not a tick later. */
		virgl_renderer_poll();
		irq[0] |= retire_fences(g);
		for (uint16_t qi = 0; qi < NQUEUES; qi++)
			if (irq[qi])
				vpci_interrupt(&g->pci, qi);
	}
	virgl_renderer_cleanup(g);
	return NULL;
}

/* ---- register model callbacks (guest kernel threads) ---- */

static void op_notify(void *opaque, uint16_t queue)
{
	(void)queue;
	wake(opaque);
}

static void op_reset(void *opaque)
{
	struct vgpu *g = opaque;
	struct timespec ts;
	int ret = 0;

	/* The driver may reuse its rings once the status reads 0: wait until
	 * the device thread has let go of them. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(RESET_WAIT_NS / 1000000000ull);
	pthread_mutex_lock(&g->lock);
	if (!g->stop) {
		uint64_t want = ++g->reset_req;

		wake(g);
		while (g->reset_done < want && ret == 0)
			ret = pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	}
	pthread_mutex_unlock(&g->lock);
	if (ret)
		hlog(HLOG_ERR, "device reset did not finish in time");
	/* The device thread may have flagged the old rings while the reset was
	 * on its way; the guest's status write returns only after this. */
	vpci_reset_done(&g->pci);
}

static void op_driver_ok(void *opaque)
{
	wake(opaque);
}

static uint32_t op_cfg_read(void *opaque, uint32_t off)
{
	struct vgpu *g = opaque;
	uint32_t v = 0;

	if (off + 4 <= sizeof(g->config)) {
		pthread_mutex_lock(&g->lock);
		memcpy(&v, (uint8_t *)&g->config + off, 4);
		pthread_mutex_unlock(&g->lock);
	}
	return v;
}

static void op_cfg_write(void *opaque, uint32_t off, uint32_t v)
{
	struct vgpu *g = opaque;

	if (off == offsetof(struct virtio_gpu_config, events_clear)) {
		pthread_mutex_lock(&g->lock);
		g->config.events_read &= ~v;
		pthread_mutex_unlock(&g->lock);
	}
}

static void op_irq(void *opaque, int vector)
{
	struct vgpu *g = opaque;

	g->cfg.irq(g->cfg.irq_arg, vector);
}

static const struct vpci_ops vgpu_ops = {
	.notify = op_notify,
	.reset = op_reset,
	.driver_ok = op_driver_ok,
	.cfg_read = op_cfg_read,
	.cfg_write = op_cfg_write,
	.irq = op_irq,
};

int vgpu_create(struct ram *ram, const struct vgpu_config *cfg, struct vgpu **out)
{
	struct vgpu *g = calloc(1, sizeof(*g));
	uint16_t qmax[NQUEUES];
	int err;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->ram = ram;
	g->cfg = *cfg;
	g->config.num_scanouts = 1;
	g->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g->efd < 0) {
		free(g);
		return -errno;
	}
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	qmax[0] = cfg->queue_size ? cfg->queue_size : 256;
	qmax[1] = CURSOR_QSIZE;
	vpci_init(&g->pci, 0x1050, cfg->features, NQUEUES, qmax, cfg->msix, &vgpu_ops, g);
	if (pthread_create(&g->thread, NULL, device_thread, g)) {
		err = -EAGAIN;
		goto fail;
	}
	pthread_mutex_lock(&g->lock);
	while (!g->started)
		pthread_cond_wait(&g->cond, &g->lock);
	err = g->start_err;
	pthread_mutex_unlock(&g->lock);
	if (err) {
		pthread_join(g->thread, NULL);
		goto fail;
	}
	*out = g;
	return 0;
fail:
	vpci_destroy(&g->pci);
	close(g->efd);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
	return err;
}

void vgpu_destroy(struct vgpu *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_mutex_unlock(&g->lock);
	wake(g);
	pthread_join(g->thread, NULL);
	vpci_destroy(&g->pci);
	close(g->efd);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

struct vpci *vgpu_pci(struct vgpu *g)
{
	return &g->pci;
}

void vgpu_get_stats(struct vgpu *g, struct vgpu_stats *st)
{
	pthread_mutex_lock(&g->lock);
	*st = g->st;
	pthread_mutex_unlock(&g->lock);
}
