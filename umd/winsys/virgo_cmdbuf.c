/* SPDX-License-Identifier: MIT */
/*
 * virgo_cmdbuf.c: command buffers. Each carries the virgl stream and the
 * list of resources the stream names, each resource once (a hash of the
 * resource pointers finds duplicates), holding a reference until the
 * submit. Submit is one EXECBUFFER; its sequence number is the fence.
 */
#include <string.h>

#include "util/u_atomic.h"
#include "util/u_inlines.h"
#include "util/u_memory.h"

#include "virgo_winsys_priv.h"

#define INITIAL_RES 256u

static inline struct virgo_cmd_buf *virgo_cmd_buf(struct virgl_cmd_buf *cbuf)
{
	return (struct virgo_cmd_buf *)cbuf;
}

static uint32_t hash_ptr(const void *p)
{
	uint64_t v = (uint64_t)(uintptr_t)p;

	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	return (uint32_t)v;
}

/* The slot of res: where it is, or the free slot where it would go. */
static uint32_t *find_slot(struct virgo_cmd_buf *cb, const struct virgl_hw_res *res)
{
	uint32_t mask = cb->nslots - 1;

	for (uint32_t i = hash_ptr(res) & mask;; i = (i + 1) & mask) {
		uint32_t *s = &cb->slots[i];

		if (!*s || cb->res[*s - 1] == res)
			return s;
	}
}

static bool grow(struct virgo_cmd_buf *cb)
{
	uint32_t cap = cb->cap * 2, nslots = cb->nslots * 2;
	struct virgl_hw_res **res = REALLOC(cb->res, sizeof(*res) * cb->cap, sizeof(*res) * cap);
	uint32_t *handles, *slots;

	if (!res)
		return false;
	cb->res = res;
	handles = REALLOC(cb->handles, sizeof(*handles) * cb->cap, sizeof(*handles) * cap);
	if (!handles)
		return false;
	cb->handles = handles;
	slots = CALLOC(nslots, sizeof(*slots));
	if (!slots)
		return false;
	FREE(cb->slots);
	cb->slots = slots;
	cb->nslots = nslots;
	cb->cap = cap;
	for (uint32_t i = 0; i < cb->nres; i++)
		*find_slot(cb, cb->res[i]) = i + 1;
	return true;
}

static void virgo_emit_res(struct virgl_winsys *ws, struct virgl_cmd_buf *cbuf, struct virgl_hw_res *res,
			   boolean write_buf)
{
	struct virgo_cmd_buf *cb = virgo_cmd_buf(cbuf);
	uint32_t *slot;

	if (write_buf)
		cbuf->buf[cbuf->cdw++] = res->res_handle;
	slot = find_slot(cb, res);
	if (*slot)
		return;
	if (cb->nres == cb->cap) {
		if (!grow(cb)) {
			virgo_log_error(virgo_winsys(ws), "resource list", -VIRGO_ENOMEM);
			return;
		}
		slot = find_slot(cb, res);
	}
	cb->res[cb->nres] = NULL;
	virgo_resource_reference(ws, &cb->res[cb->nres], res);
	cb->handles[cb->nres] = res->bo_handle;
	p_atomic_inc(&res->num_cs_references);
	*slot = ++cb->nres;
}

static boolean virgo_res_is_referenced(struct virgl_winsys *ws, struct virgl_cmd_buf *cbuf,
				       struct virgl_hw_res *res)
{
	(void)ws;
	(void)cbuf;
	return p_atomic_read(&res->num_cs_references) != 0;
}

/* After a submit (busy = true) or at destruction: drop the list. */
static void release_list(struct virgo_cmd_buf *cb, bool busy)
{
	for (uint32_t i = 0; i < cb->nres; i++) {
		if (busy)
			p_atomic_set(&cb->res[i]->maybe_busy, 1);
		p_atomic_dec(&cb->res[i]->num_cs_references);
		virgo_resource_reference(&cb->vws->base, &cb->res[i], NULL);
	}
	if (cb->nres)
		memset(cb->slots, 0, sizeof(*cb->slots) * cb->nslots);
	cb->nres = 0;
}

static struct virgl_cmd_buf *virgo_cmd_buf_create(struct virgl_winsys *ws, uint32_t size)
{
	struct virgo_cmd_buf *cb = CALLOC_STRUCT(virgo_cmd_buf);

	if (!cb)
		return NULL;
	cb->vws = virgo_winsys(ws);
	cb->cap = INITIAL_RES;
	cb->nslots = INITIAL_RES * 2;
	cb->words = CALLOC(size ? size : 1, sizeof(uint32_t));
	cb->res = CALLOC(cb->cap, sizeof(*cb->res));
	cb->handles = CALLOC(cb->cap, sizeof(*cb->handles));
	cb->slots = CALLOC(cb->nslots, sizeof(*cb->slots));
	if (!cb->words || !cb->res || !cb->handles || !cb->slots) {
		FREE(cb->words);
		FREE(cb->res);
		FREE(cb->handles);
		FREE(cb->slots);
		FREE(cb);
		return NULL;
	}
	cb->base.buf = cb->words;
	return &cb->base;
}

static void virgo_cmd_buf_destroy(struct virgl_cmd_buf *cbuf)
{
	struct virgo_cmd_buf *cb = virgo_cmd_buf(cbuf);

	release_list(cb, false);
	FREE(cb->words);
	FREE(cb->res);
	FREE(cb->handles);
	FREE(cb->slots);
	FREE(cb);
}

static void note_fence(struct virgo_winsys *vws, uint64_t seq)
{
	uint64_t cur = p_atomic_read(&vws->last_fence);

	while (seq > cur) {
		uint64_t was = p_atomic_cmpxchg(&vws->last_fence, cur, seq);

		if (was == cur)
			break;
		cur = was;
	}
}

static int virgo_submit_cmd(struct virgl_winsys *ws, struct virgl_cmd_buf *cbuf, struct pipe_fence_handle **fence)
{
	struct virgo_winsys *vws = virgo_winsys(ws);
	struct virgo_cmd_buf *cb = virgo_cmd_buf(cbuf);
	struct virgo_execbuffer x = {
		.size = cbuf->cdw * 4u,
		.command = (uint64_t)(uintptr_t)cbuf->buf,
		.bo_handles = (uint64_t)(uintptr_t)cb->handles,
		.num_bo_handles = cb->nres,
	};
	int ret = 0;

	if (cbuf->cdw) {
		ret = virgo_ioctl(vws, VIRGO_OP_EXECBUFFER, &x);
		if (ret)
			virgo_log_error(vws, "submit (expect bad rendering)", ret);
		else
			note_fence(vws, x.fence);
	}
	cbuf->cdw = 0;
	release_list(cb, ret == 0);
	/* A fence for an empty or failed submit stands for the work before it. */
	if (fence)
		*fence = virgo_fence_create(vws, ret == 0 && x.fence ? x.fence : p_atomic_read(&vws->last_fence));
	return ret;
}

void virgo_cmdbuf_init_funcs(struct virgo_winsys *vws)
{
	vws->base.cmd_buf_create = virgo_cmd_buf_create;
	vws->base.cmd_buf_destroy = virgo_cmd_buf_destroy;
	vws->base.emit_res = virgo_emit_res;
	vws->base.res_is_referenced = virgo_res_is_referenced;
	vws->base.submit_cmd = virgo_submit_cmd;
}
