/* SPDX-License-Identifier: MIT */
/*
 * virgo_fence.c: fences are the driver's submission sequence numbers,
 * waited on with FENCE_WAIT. There are no sync-file descriptors
 * (supports_fences = 0): everything a process submits runs in order on its
 * one context, so a fence never has to wait on another's.
 */
#include "pipe/p_defines.h"
#include "util/u_atomic.h"
#include "util/u_inlines.h"
#include "util/u_memory.h"

#include "virgo_winsys_priv.h"

static inline struct virgo_fence *virgo_fence(struct pipe_fence_handle *f)
{
	return (struct virgo_fence *)f;
}

struct pipe_fence_handle *virgo_fence_create(struct virgo_winsys *vws, uint64_t seq)
{
	struct virgo_fence *f = CALLOC_STRUCT(virgo_fence);

	(void)vws;
	if (!f)
		return NULL;
	pipe_reference_init(&f->reference, 1);
	f->seq = seq;
	f->signalled = seq == 0;
	return (struct pipe_fence_handle *)f;
}

static void virgo_fence_reference(struct virgl_winsys *ws, struct pipe_fence_handle **dst,
				  struct pipe_fence_handle *src)
{
	struct virgo_fence *old = virgo_fence(*dst), *f = virgo_fence(src);

	(void)ws;
	if (pipe_reference(old ? &old->reference : NULL, f ? &f->reference : NULL))
		FREE(old);
	*dst = src;
}

/* One FENCE_WAIT: 0 signalled, -VIRGO_EBUSY / -VIRGO_ETIMEDOUT not yet,
 * anything else an error that ends the wait. */
static int wait_once(struct virgo_winsys *vws, struct virgo_fence *f, uint64_t timeout_ns, bool nowait)
{
	struct virgo_fence_wait w = {
		.fence = f->seq,
		.timeout_ns = timeout_ns,
		.flags = nowait ? VIRGO_WAIT_NOWAIT : 0,
	};

	return virgo_ioctl(vws, VIRGO_OP_FENCE_WAIT, &w);
}

/* timeout in ns: 0 tests, PIPE_TIMEOUT_INFINITE waits until done. */
static bool virgo_fence_wait(struct virgl_winsys *ws, struct pipe_fence_handle *fence, uint64_t timeout)
{
	struct virgo_winsys *vws = virgo_winsys(ws);
	struct virgo_fence *f = virgo_fence(fence);
	int ret;

	if (!f || p_atomic_read(&f->signalled))
		return true;
	if (timeout == 0) {
		ret = wait_once(vws, f, 0, true);
	} else {
		/* The driver caps one wait at VIRGO_MAX_TIMEOUT_NS; longer
		 * ones are made of several. */
		uint64_t left = timeout;

		for (;;) {
			uint64_t now = left < VIRGO_MAX_TIMEOUT_NS ? left : VIRGO_MAX_TIMEOUT_NS;

			ret = wait_once(vws, f, now, false);
			if (ret != -VIRGO_ETIMEDOUT)
				break;
			if (timeout != PIPE_TIMEOUT_INFINITE) {
				left -= now;
				if (!left)
					break;
			} else {
				virgo_log_error(vws, "fence still not signalled (slow GPU or hang?)", ret);
			}
		}
	}
	if (ret == -VIRGO_EBUSY || ret == -VIRGO_ETIMEDOUT)
		return false;
	/* Done; an error (the host refused the stream, the device is gone)
	 * is reported, but nothing more will happen to this fence. */
	if (ret)
		virgo_log_error(vws, "fence", ret);
	p_atomic_set(&f->signalled, 1);
	return true;
}

static struct pipe_fence_handle *virgo_cs_create_fence(struct virgl_winsys *ws, int fd)
{
	/* No fence fds (supports_fences = 0): nothing to import. */
	(void)ws;
	(void)fd;
	return NULL;
}

static void virgo_fence_server_sync(struct virgl_winsys *ws, struct virgl_cmd_buf *cbuf,
				    struct pipe_fence_handle *fence)
{
	/* One context per process runs its submissions in order. */
	(void)ws;
	(void)cbuf;
	(void)fence;
}

static int virgo_fence_get_fd(struct virgl_winsys *ws, struct pipe_fence_handle *fence)
{
	(void)ws;
	(void)fence;
	return -1;
}

void virgo_fence_init_funcs(struct virgo_winsys *vws)
{
	vws->base.cs_create_fence = virgo_cs_create_fence;
	vws->base.fence_wait = virgo_fence_wait;
	vws->base.fence_reference = virgo_fence_reference;
	vws->base.fence_server_sync = virgo_fence_server_sync;
	vws->base.fence_get_fd = virgo_fence_get_fd;
}
