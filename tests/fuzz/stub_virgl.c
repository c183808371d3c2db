/* SPDX-License-Identifier: MIT */
/*
 * stub_virgl.c: a stand-in for libvirglrenderer, for fuzz_transport only.
 *
 * fuzz_transport is a hostile client of virgo-host's socket decoder
 * (host/server.c); everything behind it (the core, os_host, the device
 * model) runs unchanged. With the real virglrenderer, 80% of its time went
 * into creating a GL context on llvmpipe for each connection (about 150
 * executions a second), none of it in the code under test. This stub keeps
 * what the device model relies on: contexts and resources by id (unknown
 * ids and duplicates refused, as virglrenderer does), capsets of the real
 * sizes, backing iovecs handed back on detach, and fences signalled by the
 * next poll. It renders nothing. fuzz_device keeps the real library: the
 * device model's calls into it are what that fuzzer tests.
 * scripts/fuzz.sh links it unless FUZZ_TRANSPORT_VIRGL=real.
 */
#define VIRGL_RENDERER_UNSTABLE_APIS 1
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <virgl/virglrenderer.h>

#define MAX_IDS 4096

struct sres {
	uint32_t id;
	struct iovec *iov;
	int niov;
};

static struct {
	void *cookie;
	struct virgl_renderer_callbacks *cb;
	uint32_t ctx[MAX_IDS];
	unsigned nctx;
	struct sres res[MAX_IDS];
	unsigned nres;
	uint32_t fence;
	bool fence_pending;
} S;

static int ctx_find(uint32_t id)
{
	for (unsigned i = 0; i < S.nctx; i++)
		if (S.ctx[i] == id)
			return (int)i;
	return -1;
}

static struct sres *res_find(uint32_t id)
{
	for (unsigned i = 0; i < S.nres; i++)
		if (S.res[i].id == id)
			return &S.res[i];
	return NULL;
}

int virgl_renderer_init(void *cookie, int flags, struct virgl_renderer_callbacks *cb)
{
	(void)flags;
	if (!cookie || !cb)
		return -1;
	memset(&S, 0, sizeof(S));
	S.cookie = cookie;
	S.cb = cb;
	return 0;
}

void virgl_renderer_cleanup(void *cookie)
{
	(void)cookie;
	memset(&S, 0, sizeof(S));
}

void virgl_renderer_force_ctx_0(void)
{
}

void virgl_renderer_poll(void)
{
	if (S.fence_pending && S.cb && S.cb->write_fence) {
		S.fence_pending = false;
		S.cb->write_fence(S.cookie, S.fence);
	}
}

int virgl_renderer_create_fence(int client_fence_id, uint32_t ctx_id)
{
	(void)ctx_id;
	S.fence = (uint32_t)client_fence_id;
	S.fence_pending = true;
	return 0;
}

void virgl_renderer_get_cap_set(uint32_t set, uint32_t *max_ver, uint32_t *max_size)
{
	*max_ver = set == 1 ? 1 : set == 2 ? 2 : 0;
	*max_size = set == 1 ? 308 : set == 2 ? 1376 : 0;
}

void virgl_renderer_fill_caps(uint32_t set, uint32_t version, void *caps)
{
	uint32_t ver, size;

	virgl_renderer_get_cap_set(set, &ver, &size);
	if (size)
		memset(caps, (int)(set * 16 + version), size);
}

static int ctx_new(uint32_t id)
{
	if (!id || ctx_find(id) >= 0 || S.nctx == MAX_IDS)
		return EINVAL;
	S.ctx[S.nctx++] = id;
	return 0;
}

int virgl_renderer_context_create(uint32_t handle, uint32_t nlen, const char *name)
{
	(void)nlen;
	(void)name;
	return ctx_new(handle);
}

int virgl_renderer_context_create_with_flags(uint32_t ctx_id, uint32_t ctx_flags, uint32_t nlen,
					     const char *name)
{
	(void)nlen;
	(void)name;
	if ((ctx_flags & VIRGL_RENDERER_CONTEXT_FLAG_CAPSET_ID_MASK) > 2)
		return EINVAL;
	return ctx_new(ctx_id);
}

void virgl_renderer_context_destroy(uint32_t handle)
{
	int i = ctx_find(handle);

	if (i >= 0)
		S.ctx[i] = S.ctx[--S.nctx];
}

void virgl_renderer_ctx_attach_resource(int ctx_id, int res_handle)
{
	(void)ctx_id;
	(void)res_handle;
}

void virgl_renderer_ctx_detach_resource(int ctx_id, int res_handle)
{
	(void)ctx_id;
	(void)res_handle;
}

static int res_new(uint32_t id, const struct iovec *iov, uint32_t n)
{
	if (!id || res_find(id) || S.nres == MAX_IDS)
		return EINVAL;
	/* virglrenderer reads the backing it is given: so does the stub, so a
	 * bad iovec from the device model still shows under ASan. */
	for (uint32_t i = 0; i < n; i++)
		if (iov[i].iov_len)
			(void)*(volatile const uint8_t *)iov[i].iov_base;
	S.res[S.nres++] = (struct sres){ .id = id };
	return 0;
}

int virgl_renderer_resource_create(struct virgl_renderer_resource_create_args *args, struct iovec *iov,
				   uint32_t num_iovs)
{
	if (args->target > 8 || !args->width || !args->height || !args->depth)
		return EINVAL;
	return res_new(args->handle, iov, num_iovs);
}

int virgl_renderer_resource_create_blob(const struct virgl_renderer_resource_create_blob_args *args)
{
	if (!args->size || (args->blob_mem != VIRGL_RENDERER_BLOB_MEM_GUEST && ctx_find(args->ctx_id) < 0))
		return EINVAL;
	return res_new(args->res_handle, args->iovecs, args->num_iovs);
}

void virgl_renderer_resource_unref(uint32_t res_handle)
{
	struct sres *r = res_find(res_handle);

	if (r)
		*r = S.res[--S.nres];
}

int virgl_renderer_resource_attach_iov(int res_handle, struct iovec *iov, int num_iovs)
{
	struct sres *r = res_find((uint32_t)res_handle);

	if (!r || r->iov)
		return EINVAL;
	r->iov = iov;
	r->niov = num_iovs;
	return 0;
}

void virgl_renderer_resource_detach_iov(int res_handle, struct iovec **iov, int *num_iovs)
{
	struct sres *r = res_find((uint32_t)res_handle);

	if (iov)
		*iov = r ? r->iov : NULL;
	if (num_iovs)
		*num_iovs = r ? r->niov : 0;
	if (r) {
		r->iov = NULL;
		r->niov = 0;
	}
}

int virgl_renderer_submit_cmd(void *buffer, int ctx_id, int ndw)
{
	(void)buffer;
	if (ctx_find((uint32_t)ctx_id) < 0 || ndw < 0)
		return EINVAL;
	return 0;
}

static int transfer(uint32_t handle, uint32_t ctx_id, const struct virgl_box *box)
{
	if (!res_find(handle) || (ctx_id && ctx_find(ctx_id) < 0) || !box)
		return EINVAL;
	return 0;
}

int virgl_renderer_transfer_read_iov(uint32_t handle, uint32_t ctx_id, uint32_t level, uint32_t stride,
				     uint32_t layer_stride, struct virgl_box *box, uint64_t offset,
				     struct iovec *iov, int iovec_cnt)
{
	(void)level;
	(void)stride;
	(void)layer_stride;
	(void)offset;
	(void)iov;
	(void)iovec_cnt;
	return transfer(handle, ctx_id, box);
}

int virgl_renderer_transfer_write_iov(uint32_t handle, uint32_t ctx_id, int level, uint32_t stride,
				      uint32_t layer_stride, struct virgl_box *box, uint64_t offset,
				      struct iovec *iovec, unsigned int iovec_cnt)
{
	(void)level;
	(void)stride;
	(void)layer_stride;
	(void)offset;
	(void)iovec;
	(void)iovec_cnt;
	return transfer(handle, ctx_id, box);
}
