/* SPDX-License-Identifier: MIT */
/*
 * virgo_resource.c: hardware resources. Creation (classic, or a blob when
 * the device maps host memory), reference counting with a cache of idle
 * buffers, the process mapping, busy tests and waits, and transfers between
 * guest storage and the host.
 */
#include <string.h>

#include "pipe/p_defines.h" /* before sw_winsys.h, which needs its types */
#include "frontend/sw_winsys.h"
#include "util/format/u_format.h"
#include "util/log.h"
#include "util/os_time.h"
#include "util/u_atomic.h"
#include "util/u_box.h"
#include "util/u_inlines.h"
#include "util/u_math.h"
#include "util/u_memory.h"
#include "util/u_surface.h"
#include "virtio-gpu/virgl_hw.h"
#include "virtio-gpu/virgl_protocol.h"

#include "virgo_winsys_priv.h"

/* Idle buffers wait this long in the cache for a new user. */
#define CACHE_TIMEOUT_USEC 1000000u
#define PAGE_BYTES 4096u

#define res_of_entry(e) ((struct virgl_hw_res *)((char *)(e) - offsetof(struct virgl_hw_res, cache_entry)))

/* Buffers and the usual render targets come back often with the same
 * parameters; anything shown on screen has a display target of its own. */
static bool cacheable(const struct virgl_hw_res *res)
{
	switch (res->bind) {
	case 0:
	case VIRGL_BIND_CONSTANT_BUFFER:
	case VIRGL_BIND_INDEX_BUFFER:
	case VIRGL_BIND_VERTEX_BUFFER:
	case VIRGL_BIND_CUSTOM:
	case VIRGL_BIND_STAGING:
	case VIRGL_BIND_DEPTH_STENCIL:
	case VIRGL_BIND_RENDER_TARGET:
		return !res->dt;
	default:
		return false;
	}
}

static void destroy(struct virgo_winsys *vws, struct virgl_hw_res *res)
{
	struct virgo_resource_close c = { .bo_handle = res->bo_handle };
	int ret;

	if (res->dt)
		vws->sws->displaytarget_destroy(vws->sws, res->dt);
	/* Closing the handle drops the mapping too. */
	ret = virgo_ioctl(vws, VIRGO_OP_RESOURCE_CLOSE, &c);
	if (ret)
		virgo_log_error(vws, "resource close", ret);
	FREE(res);
}

/* ---- busy and wait ------------------------------------------------------------ */

static boolean virgo_resource_is_busy(struct virgl_winsys *ws, struct virgl_hw_res *res)
{
	struct virgo_winsys *vws = virgo_winsys(ws);
	struct virgo_wait w = { .bo_handle = res->bo_handle, .flags = VIRGO_WAIT_NOWAIT };
	int ret;

	if (!p_atomic_read(&res->maybe_busy))
		return false;
	ret = virgo_ioctl(vws, VIRGO_OP_WAIT, &w);
	if (ret == -VIRGO_EBUSY)
		return true;
	if (ret)
		virgo_log_error(vws, "busy test", ret);
	p_atomic_set(&res->maybe_busy, 0);
	return false;
}

void virgo_resource_wait(struct virgl_winsys *ws, struct virgl_hw_res *res)
{
	struct virgo_winsys *vws = virgo_winsys(ws);
	struct virgo_wait w = { .bo_handle = res->bo_handle, .timeout_ns = VIRGO_MAX_TIMEOUT_NS };
	int ret;

	if (!p_atomic_read(&res->maybe_busy))
		return;
	/* The driver bounds every wait; past that the GPU is hung or gone and
	 * waiting longer would only hang the application too. */
	ret = virgo_ioctl(vws, VIRGO_OP_WAIT, &w);
	if (ret)
		virgo_log_error(vws, "resource wait (slow GPU or hang?)", ret);
	p_atomic_set(&res->maybe_busy, 0);
}

/* ---- cache ------------------------------------------------------------------ */

static bool cache_entry_is_busy(struct virgl_resource_cache_entry *entry, void *user_data)
{
	struct virgo_winsys *vws = user_data;

	return virgo_resource_is_busy(&vws->base, res_of_entry(entry));
}

static void cache_entry_release(struct virgl_resource_cache_entry *entry, void *user_data)
{
	destroy(user_data, res_of_entry(entry));
}

bool virgo_resource_cache_init(struct virgo_winsys *vws)
{
	if (mtx_init(&vws->cache_lock, mtx_plain) != thrd_success)
		return false;
	virgl_resource_cache_init(&vws->cache, CACHE_TIMEOUT_USEC, cache_entry_is_busy, cache_entry_release, vws);
	return true;
}

void virgo_resource_cache_fini(struct virgo_winsys *vws)
{
	mtx_lock(&vws->cache_lock);
	virgl_resource_cache_flush(&vws->cache);
	mtx_unlock(&vws->cache_lock);
	mtx_destroy(&vws->cache_lock);
}

void virgo_resource_reference(struct virgl_winsys *ws, struct virgl_hw_res **dst, struct virgl_hw_res *src)
{
	struct virgo_winsys *vws = virgo_winsys(ws);
	struct virgl_hw_res *old = *dst;

	if (pipe_reference(old ? &old->reference : NULL, src ? &src->reference : NULL)) {
		if (cacheable(old)) {
			mtx_lock(&vws->cache_lock);
			virgl_resource_cache_add(&vws->cache, &old->cache_entry);
			mtx_unlock(&vws->cache_lock);
		} else {
			destroy(vws, old);
		}
	}
	*dst = src;
}

/* ---- creation ------------------------------------------------------------------ */

static struct virgl_hw_res *new_res(enum pipe_texture_target target, uint32_t format, uint32_t bind,
				    uint32_t width, uint32_t height, uint32_t size)
{
	struct virgl_hw_res *res = CALLOC_STRUCT(virgl_hw_res);

	if (!res)
		return NULL;
	pipe_reference_init(&res->reference, 1);
	res->target = target;
	res->format = format;
	res->bind = bind;
	res->width = width;
	res->height = height;
	res->size = size;
	return res;
}

/* A HOST3D blob: the host object is made by a PIPE_RESOURCE_CREATE command
 * that names the blob id, submitted with the blob request. */
static struct virgl_hw_res *create_blob(struct virgo_winsys *vws, const struct virgl_resource_params *p)
{
	uint32_t cmd[VIRGL_PIPE_RES_CREATE_SIZE + 1] = { 0 };
	uint32_t size = ALIGN_POT(p->size ? p->size : 1u, PAGE_BYTES);
	uint32_t id = p_atomic_inc_return(&vws->blob_id);
	struct virgo_resource_create_blob rc = {
		.blob_mem = VIRGO_BLOB_MEM_HOST3D,
		.blob_flags = VIRGO_BLOB_FLAG_USE_MAPPABLE,
		.size = size,
		.cmd_size = sizeof(cmd),
		.cmd = (uint64_t)(uintptr_t)cmd,
		.blob_id = id,
	};
	struct virgl_hw_res *res;
	int ret;

	cmd[0] = VIRGL_CMD0(VIRGL_CCMD_PIPE_RESOURCE_CREATE, 0, VIRGL_PIPE_RES_CREATE_SIZE);
	cmd[VIRGL_PIPE_RES_CREATE_FORMAT] = pipe_to_virgl_format(p->format);
	cmd[VIRGL_PIPE_RES_CREATE_BIND] = p->bind;
	cmd[VIRGL_PIPE_RES_CREATE_TARGET] = p->target;
	cmd[VIRGL_PIPE_RES_CREATE_WIDTH] = p->target == PIPE_BUFFER ? ALIGN_POT(p->width, PAGE_BYTES) : p->width;
	cmd[VIRGL_PIPE_RES_CREATE_HEIGHT] = p->height;
	cmd[VIRGL_PIPE_RES_CREATE_DEPTH] = p->depth;
	cmd[VIRGL_PIPE_RES_CREATE_ARRAY_SIZE] = p->array_size;
	cmd[VIRGL_PIPE_RES_CREATE_LAST_LEVEL] = p->last_level;
	cmd[VIRGL_PIPE_RES_CREATE_NR_SAMPLES] = p->nr_samples;
	cmd[VIRGL_PIPE_RES_CREATE_FLAGS] = p->flags;
	cmd[VIRGL_PIPE_RES_CREATE_BLOB_ID] = id;

	res = new_res(p->target, p->format, p->bind, p->width, p->height, size);
	if (!res)
		return NULL;
	ret = virgo_ioctl(vws, VIRGO_OP_RESOURCE_CREATE_BLOB, &rc);
	if (ret) {
		virgo_log_error(vws, "blob create", ret);
		FREE(res);
		return NULL;
	}
	res->bo_handle = rc.bo_handle;
	res->res_handle = rc.res_handle;
	res->blob_mem = VIRGO_BLOB_MEM_HOST3D;
	return res;
}

static struct virgl_hw_res *create_classic(struct virgo_winsys *vws, const struct virgl_resource_params *p)
{
	struct virgo_resource_create rc = {
		.target = p->target,
		.format = pipe_to_virgl_format(p->format),
		.bind = p->bind,
		.width = p->width,
		.height = p->height,
		.depth = p->depth,
		.array_size = p->array_size,
		.last_level = p->last_level,
		.nr_samples = p->nr_samples,
		.size = p->size,
		.stride = p->width * util_format_get_blocksize(p->format),
	};
	struct virgl_hw_res *res;
	int ret;

	res = new_res(p->target, p->format, p->bind, p->width, p->height, p->size);
	if (!res)
		return NULL;
	ret = virgo_ioctl(vws, VIRGO_OP_RESOURCE_CREATE, &rc);
	if (ret) {
		virgo_log_error(vws, "resource create", ret);
		FREE(res);
		return NULL;
	}
	res->bo_handle = rc.bo_handle;
	res->res_handle = rc.res_handle;
	/* The driver fences the creation, but nothing of ours can be pending
	 * on a new resource: it starts idle. */
	return res;
}

/* A display target needs guest storage for a full frame to read back
 * into (Mesa itself may give it one byte when the host can copy textures
 * back through staging buffers). */
static bool size_for_frame(struct virgl_resource_params *p)
{
	uint64_t frame = (uint64_t)util_format_get_stride(p->format, p->width) *
			 util_format_get_nblocksy(p->format, p->height);

	if (frame > VIRGO_MAX_RESOURCE_SIZE)
		return false;
	if (p->size < frame)
		p->size = (uint32_t)frame;
	return true;
}

/* With a software winsys, a display target also gets one of its buffers
 * to present from. */
static bool attach_display_target(struct virgo_winsys *vws, struct virgl_resource_params *p, const void *front,
				  struct sw_displaytarget **dt, uint32_t *dt_stride)
{
	unsigned usage = PIPE_BIND_DISPLAY_TARGET | ((p->bind & VIRGL_BIND_SCANOUT) ? PIPE_BIND_SCANOUT : 0);
	unsigned stride = 0;

	if (!size_for_frame(p))
		return false;
	*dt = vws->sws->displaytarget_create(vws->sws, usage, p->format, p->width, p->height, 64, front, &stride);
	if (!*dt)
		return false;
	*dt_stride = stride;
	return true;
}

/* An existing front buffer (front != NULL): its contents become the
 * resource's. */
static void upload_front(struct virgo_winsys *vws, struct virgl_hw_res *res)
{
	uint32_t stride = util_format_get_stride(res->format, res->width);
	struct pipe_box box;
	void *src, *dst;

	dst = virgo_resource_map(&vws->base, res);
	src = vws->sws->displaytarget_map(vws->sws, res->dt, PIPE_MAP_READ);
	if (src && dst) {
		util_copy_rect(dst, res->format, stride, 0, 0, res->width, res->height, src, res->dt_stride, 0, 0);
		u_box_2d(0, 0, res->width, res->height, &box);
		vws->base.transfer_put(&vws->base, res, &box, stride, 0, 0, 0);
	}
	if (src)
		vws->sws->displaytarget_unmap(vws->sws, res->dt);
}

static struct virgl_hw_res *virgo_resource_create(struct virgl_winsys *ws, enum pipe_texture_target target,
						  const void *map_front_private, uint32_t format, uint32_t bind,
						  uint32_t width, uint32_t height, uint32_t depth, uint32_t array_size,
						  uint32_t last_level, uint32_t nr_samples, uint32_t flags,
						  uint32_t size)
{
	struct virgo_winsys *vws = virgo_winsys(ws);
	struct virgl_resource_params p;
	struct sw_displaytarget *dt = NULL;
	uint32_t dt_stride = 0;
	struct virgl_hw_res *res;
	bool blob = vws->base.supports_coherent &&
		    (flags & (VIRGL_RESOURCE_FLAG_MAP_PERSISTENT | VIRGL_RESOURCE_FLAG_MAP_COHERENT));

	/* Gallium means one sample by both 0 and 1 (WGL's window buffers come
	 * with 1, their depth buffers with 0), virglrenderer makes a
	 * multisample texture of anything above 0, and a framebuffer mixing
	 * the two is incomplete on the host. */
	if (nr_samples == 1)
		nr_samples = 0;
	p = (struct virgl_resource_params){
		.size = size, .bind = bind, .format = format, .flags = flags, .nr_samples = nr_samples,
		.width = width, .height = height, .depth = depth, .array_size = array_size,
		.last_level = last_level, .target = target,
	};

	if ((bind & (VIRGL_BIND_DISPLAY_TARGET | VIRGL_BIND_SCANOUT)) && vws->sws && !blob) {
		if (!attach_display_target(vws, &p, map_front_private, &dt, &dt_stride))
			return NULL;
	} else if ((bind & (VIRGL_BIND_DISPLAY_TARGET | VIRGL_BIND_SCANOUT)) && vws->present && !blob) {
		/* presented straight from its mapping (the WGL target) */
		if (!size_for_frame(&p))
			return NULL;
	} else {
		struct virgl_resource_cache_entry *entry = NULL;
		struct virgl_hw_res probe = { .bind = bind };

		if (cacheable(&probe)) {
			mtx_lock(&vws->cache_lock);
			entry = virgl_resource_cache_remove_compatible(&vws->cache, p);
			mtx_unlock(&vws->cache_lock);
		}
		if (entry) {
			res = res_of_entry(entry);
			pipe_reference_init(&res->reference, 1);
			return res;
		}
	}

	res = blob ? create_blob(vws, &p) : create_classic(vws, &p);
	if (!res) {
		if (dt)
			vws->sws->displaytarget_destroy(vws->sws, dt);
		return NULL;
	}
	/* The cache matches on what Mesa asked for. */
	virgl_resource_cache_entry_init(&res->cache_entry, (struct virgl_resource_params){
		.size = size, .bind = bind, .format = format, .flags = flags, .nr_samples = nr_samples,
		.width = width, .height = height, .depth = depth, .array_size = array_size,
		.last_level = last_level, .target = target });
	res->dt = dt;
	res->dt_stride = dt_stride;
	if (dt && map_front_private)
		upload_front(vws, res);
	return res;
}

/* ---- mapping and transfers ---------------------------------------------------------- */

void *virgo_resource_map(struct virgl_winsys *ws, struct virgl_hw_res *res)
{
	struct virgo_winsys *vws = virgo_winsys(ws);
	struct virgo_map m = { .bo_handle = res->bo_handle };
	void *ptr = p_atomic_read(&res->ptr);
	int ret;

	if (ptr)
		return ptr;
	/* Mapping twice returns the same address, so racing threads agree. */
	ret = virgo_ioctl(vws, VIRGO_OP_MAP, &m);
	if (ret) {
		virgo_log_error(vws, "map", ret);
		return NULL;
	}
	if (m.size < res->size) {
		virgo_log_error(vws, "map smaller than the resource", -VIRGO_EPROTO);
		return NULL;
	}
	ptr = (void *)(uintptr_t)m.addr;
	p_atomic_set(&res->ptr, ptr);
	return ptr;
}

static int transfer(struct virgo_winsys *vws, uint32_t op, struct virgl_hw_res *res, const struct pipe_box *box,
		    uint32_t stride, uint32_t layer_stride, uint32_t buf_offset, uint32_t level)
{
	struct virgo_transfer t = {
		.bo_handle = res->bo_handle,
		.level = level,
		.box = { (uint32_t)box->x, (uint32_t)box->y, (uint32_t)box->z, (uint32_t)box->width,
			 (uint32_t)box->height, (uint32_t)box->depth },
		.offset = buf_offset,
	};
	int ret;

	if (box->x < 0 || box->y < 0 || box->z < 0 || box->width <= 0 || box->height <= 0 || box->depth <= 0)
		return -VIRGO_EINVAL;
	/* Classic resources keep Mesa's layout, which is the host's default
	 * (rows packed per level), as Linux does; only a blob has no layout
	 * of its own. */
	if (res->blob_mem) {
		t.stride = stride;
		t.layer_stride = layer_stride;
	}
	p_atomic_set(&res->maybe_busy, 1);
	ret = virgo_ioctl(vws, op, &t);
	if (ret)
		virgo_log_error(vws, op == VIRGO_OP_TRANSFER_TO_HOST ? "transfer to host" : "transfer from host", ret);
	return ret;
}

static int virgo_transfer_put(struct virgl_winsys *ws, struct virgl_hw_res *res, const struct pipe_box *box,
			      uint32_t stride, uint32_t layer_stride, uint32_t buf_offset, uint32_t level)
{
	return transfer(virgo_winsys(ws), VIRGO_OP_TRANSFER_TO_HOST, res, box, stride, layer_stride, buf_offset,
			level);
}

int virgo_transfer_get(struct virgl_winsys *ws, struct virgl_hw_res *res, const struct pipe_box *box,
		       uint32_t stride, uint32_t layer_stride, uint32_t buf_offset, uint32_t level)
{
	return transfer(virgo_winsys(ws), VIRGO_OP_TRANSFER_FROM_HOST, res, box, stride, layer_stride, buf_offset,
			level);
}

void virgo_resource_init_funcs(struct virgo_winsys *vws)
{
	vws->base.resource_create = virgo_resource_create;
	vws->base.resource_reference = virgo_resource_reference;
	vws->base.resource_map = virgo_resource_map;
	vws->base.resource_wait = virgo_resource_wait;
	vws->base.resource_is_busy = virgo_resource_is_busy;
	vws->base.transfer_put = virgo_transfer_put;
	vws->base.transfer_get = virgo_transfer_get;
}
