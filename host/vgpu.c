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

	if (g->cfg.manual)
		return; /* no thread to wake: the caller runs vgpu_run() */
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

/* ---- fault injection (struct vgpu_faults; off unless configured) ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* true with probability per_mille / 1000. */
static bool roll(struct vgpu *g, unsigned per_mille)
{
	if (!per_mille || g->st.commands <= g->cfg.faults.after)
		return false;
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 17;
	g->rng ^= g->rng << 5;
	return g->rng % 1000u < per_mille;
}

/* stop_after: from the command that reaches it the device looks at
 * nothing (queues, fences, delayed answers) until the driver resets it. */
static bool stopped(struct vgpu *g)
{
	uint64_t n = g->cfg.faults.stop_after;

	if (n && !g->stop_fired && g->st.commands >= n) {
		g->stop_fired = true;
		g->st.stopped = true;
		g->st.stops++;
		hlog(HLOG_WARN, "fault: the device stops after %llu commands", (unsigned long long)n);
	}
	return g->st.stopped;
}

/* ---- queue processing (device thread) ---- */

/* Every answer goes through here: the drop and delay faults act on it. */
static bool complete(struct vgpu *g, uint16_t qi, struct vqdev_elem *e, uint32_t len)
{
	if (roll(g, g->cfg.faults.drop)) {
		hlog(HLOG_INFO, "fault: answer to head %u on queue %u dropped", e->head, qi);
		g->st.dropped++;
		free(e);
		return false;
	}
	if (roll(g, g->cfg.faults.delay)) {
		struct delayed *dl = calloc(1, sizeof(*dl));

		if (dl) {
			dl->e = e;
			dl->queue = qi;
			dl->len = len;
			dl->due_ns = mono_ns() + (uint64_t)g->cfg.faults.delay_ms * 1000000u;
			if (g->delayed_tail)
				g->delayed_tail->next = dl;
			else
				g->delayed_head = dl;
			g->delayed_tail = dl;
			g->ndelayed++;
			g->st.delayed++;
			return false;
		}
	}
	return vqdev_push(&g->q[qi], g->ram, e, len);
}

static void retire_delayed(struct vgpu *g, bool *irq)
{
	uint64_t now = g->delayed_head ? mono_ns() : 0;

	/* Same delay for all, so the list is in due order. */
	while (g->delayed_head && g->delayed_head->due_ns <= now) {
		struct delayed *dl = g->delayed_head;

		g->delayed_head = dl->next;
		if (!g->delayed_head)
			g->delayed_tail = NULL;
		g->ndelayed--;
		irq[dl->queue] |= vqdev_push(&g->q[dl->queue], g->ram, dl->e, dl->len);
		free(dl);
	}
}

static bool answer(struct vgpu *g, uint16_t qi, struct vqdev_elem *e, const struct virtio_gpu_ctrl_hdr *resp,
		   size_t len)
{
	size_t n = 0;

	if (e->wr_len >= sizeof(*resp))
		n = vqdev_write(e, 0, resp, sizeof(*resp));
	if (len > n)
		n = len;
	return complete(g, qi, e, (uint32_t)n);
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
	if (roll(g, g->cfg.faults.err)) {
		static const uint32_t errs[] = {
			VIRTIO_GPU_RESP_ERR_UNSPEC, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
			VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
			VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
		};

		type = errs[g->rng / 1000u % (sizeof(errs) / sizeof(errs[0]))];
		g->st.injected_errs++;
		hlog(HLOG_INFO, "fault: command %#x ctx %u answered %#x without running", h.type, h.ctx_id, type);
	} else {
		type = vgpu_dispatch(g, qi, &h, e, &out_len);
	}
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
		return complete(g, qi, e, (uint32_t)out_len);
	}
	return answer(g, qi, e, &resp, 0);
}

static bool process_queue(struct vgpu *g, uint16_t qi)
{
	struct vqdev_elem *e;
	bool irq = false;
	int ret = 0;

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
	while (!stopped(g) && (ret = vqdev_pop(&g->q[qi], g->ram, &e)) > 0)
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
	while (g->delayed_head) {
		struct delayed *dl = g->delayed_head;

		g->delayed_head = dl->next;
		free(dl->e);
		free(dl);
	}
	g->delayed_tail = NULL;
	g->ndelayed = 0;
	g->st.stopped = false;
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
	 * by this thread instead, while answers wait (see device_thread). */
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

/* One pass over everything the device has to do; true if it answered
 * anything. */
static bool device_pass(struct vgpu *g)
{
	bool irq[NQUEUES] = { false }, answered = false;

	if (!vpci_driver_ok(&g->pci))
		return false;
	for (uint16_t qi = 0; qi < NQUEUES; qi++)
		irq[qi] = process_queue(g, qi);
	if (!g->st.stopped) {
		/* Fences signalled by the work just done retire now, not a tick later. */
		virgl_renderer_poll();
		irq[0] |= retire_fences(g);
		retire_delayed(g, irq);
	}
	for (uint16_t qi = 0; qi < NQUEUES; qi++) {
		if (irq[qi])
			vpci_interrupt(&g->pci, qi);
		answered |= irq[qi];
	}
	return answered;
}

/* While answers wait on fences, how soon the device thread looks again. */
#define FENCE_POLL_MIN_NS 20000u
#define FENCE_POLL_MAX_NS 1000000u

static void *device_thread(void *arg)
{
	struct vgpu *g = arg;
	uint32_t poll_ns = FENCE_POLL_MIN_NS;
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
		bool stop;

		/* Answers waiting on fences (or delayed): look again soon.
		 * Nothing wakes this thread when the host GL finishes a fence
		 * (no fence fd without THREAD_SYNC), so the next look comes
		 * FENCE_POLL_MIN_NS after the last answer and backs off to a
		 * millisecond: a fence that lands within a frame is answered
		 * tens of microseconds after it, not up to a millisecond (the
		 * benchmarks' upload and present frames are 2-3 ms), and a
		 * long wait still costs about a thousand wake-ups a second.
		 * Else the timeout only bounds how long a lost wake-up could
		 * stall. */
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };

		if (g->held_head || g->delayed_head)
			ts.tv_nsec = (long)poll_ns;
		ppoll(&pfd, 1, &ts, NULL);
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
		if (device_pass(g))
			poll_ns = FENCE_POLL_MIN_NS;
		else if (poll_ns < FENCE_POLL_MAX_NS)
			poll_ns = poll_ns * 2 < FENCE_POLL_MAX_NS ? poll_ns * 2 : FENCE_POLL_MAX_NS;
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

	if (g->cfg.manual) {
		device_reset(g);
		vpci_reset_done(&g->pci);
		return;
	}
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
	/* The config is the budget from here on: 0 meant the default. */
	if (!g->cfg.max_hostmem)
		g->cfg.max_hostmem = VGPU_DEFAULT_HOSTMEM;
	g->rng = cfg->faults.seed ? cfg->faults.seed : 1;
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
	if (cfg->manual) {
		err = renderer_start(g);
		if (err)
			goto fail;
		*out = g;
		return 0;
	}
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
	if (g->cfg.manual) {
		device_reset(g);
		virgl_renderer_cleanup(g);
	} else {
		pthread_mutex_lock(&g->lock);
		g->stop = true;
		pthread_mutex_unlock(&g->lock);
		wake(g);
		pthread_join(g->thread, NULL);
	}
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

unsigned vgpu_run(struct vgpu *g)
{
	if (!g->cfg.manual)
		return 0;
	device_pass(g);
	return g->st.stopped ? 0 : g->st.held + g->ndelayed;
}

int vgpu_faults_parse(const char *spec, struct vgpu_faults *out)
{
	struct vgpu_faults f = { 0 };
	const char *p = spec;

	while (p && *p) {
		char key[16];
		unsigned long long a = 0, b = 0;
		int n = 0;

		if (sscanf(p, "%15[a-z]=%llu%n", key, &a, &n) != 2)
			return -1;
		p += n;
		if (!strcmp(key, "delay")) {
			if (*p != ':' || sscanf(p + 1, "%llu%n", &b, &n) != 1)
				return -1;
			p += 1 + n;
		}
		if (!strcmp(key, "drop") && a <= 1000)
			f.drop = (unsigned)a;
		else if (!strcmp(key, "err") && a <= 1000)
			f.err = (unsigned)a;
		else if (!strcmp(key, "delay") && a <= 1000 && b <= 600000)
			f.delay = (unsigned)a, f.delay_ms = (unsigned)b;
		else if (!strcmp(key, "stop"))
			f.stop_after = a;
		else if (!strcmp(key, "after"))
			f.after = a;
		else if (!strcmp(key, "seed") && a <= UINT32_MAX)
			f.seed = (uint32_t)a;
		else
			return -1;
		if (*p == ',')
			p++;
		else if (*p)
			return -1;
	}
	*out = f;
	return 0;
}
