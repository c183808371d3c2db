/* SPDX-License-Identifier: MIT */
/* The uAPI dispatcher: validate first, act second. Nothing from the caller
 * reaches the device before every field has been checked, and raw virtio
 * commands are never taken from the caller. */
#include <virgo/uapi.h>

#include "capset.h"
#include "cmd.h"
#include "map.h"
#include "obj.h"

/* Gallium's texture targets, which virgl uses unchanged. */
enum { T_BUFFER, T_1D, T_2D, T_3D, T_CUBE, T_RECT, T_1D_ARRAY, T_2D_ARRAY, T_CUBE_ARRAY, T_COUNT };

#define MAX_TEX_DIM    32768u
#define MAX_LAYERS     2048u
#define MAX_SAMPLES    32u
#define MAX_FORMAT     1024u
#define KNOWN_BINDS    0x00ffffffu /* virgl binds end at bit 22; minigbm hints above are refused */

static uint32_t level_dim(uint32_t v, uint32_t level)
{
	v >>= level;
	return v ? v : 1;
}

static int fits(uint32_t start, uint32_t len, uint32_t limit)
{
	return len && start <= limit && len <= limit - start;
}

static uint64_t clamp_timeout(uint64_t t)
{
	if (!t)
		return VIRGO_DEFAULT_TIMEOUT_NS;
	return t > VIRGO_MAX_TIMEOUT_NS ? VIRGO_MAX_TIMEOUT_NS : t;
}

static int do_get_param(struct core_file *f, struct virgo_get_param *a)
{
	struct gpu_dev *dev = f->dev;

	switch (a->param) {
	case VIRGO_PARAM_3D_FEATURES: a->value = dev->has_virgl; break;
	case VIRGO_PARAM_CAPSET_QUERY_FIX: a->value = 1; break;
	case VIRGO_PARAM_RESOURCE_BLOB: a->value = dev->has_blob; break;
	case VIRGO_PARAM_HOST_VISIBLE: a->value = dev->has_host_visible; break;
	case VIRGO_PARAM_HOST_VISIBLE_SIZE:
	case VIRGO_PARAM_HOST_VISIBLE_FREE: {
		struct gpu_stats st;

		gpu_get_stats(dev, &st);
		a->value = a->param == VIRGO_PARAM_HOST_VISIBLE_SIZE ? st.region_size : st.region_free;
		break;
	}
	case VIRGO_PARAM_CROSS_DEVICE: a->value = 0; break;
	case VIRGO_PARAM_CONTEXT_INIT: a->value = dev->has_context_init; break;
	case VIRGO_PARAM_SUPPORTED_CAPSET_IDS: a->value = dev->capset_mask; break;
	case VIRGO_PARAM_UAPI_VERSION: a->value = VIRGO_UAPI_VERSION; break;
	case VIRGO_PARAM_MAX_EXEC_SIZE: a->value = VIRGO_MAX_EXEC_SIZE; break;
	case VIRGO_PARAM_NUM_SCANOUTS: a->value = dev->config.num_scanouts; break;
	case VIRGO_PARAM_LIVE_RESOURCES:
	case VIRGO_PARAM_LIVE_HANDLES: {
		struct gpu_stats st;

		gpu_get_stats(dev, &st);
		a->value = a->param == VIRGO_PARAM_LIVE_RESOURCES ? st.resources : st.files;
		break;
	}
	default: return -VIRGO_EINVAL;
	}
	return 0;
}

static int do_get_caps(struct core_file *f, struct os_caller *c, struct virgo_get_caps *a)
{
	const struct gpu_capset *cs = gpu_find_capset(f->dev, a->cap_set_id);
	uint32_t n;
	int ret;

	a->copied = 0;
	if (!cs || a->cap_set_ver == 0 || a->cap_set_ver > cs->max_version)
		return -VIRGO_EINVAL;
	n = a->size < cs->size ? a->size : cs->size;
	if (!n)
		return 0;
	ret = os_copy_to_user(c, a->addr, cs->data, n);
	if (!ret)
		a->copied = n;
	return ret;
}

static int copy_name(struct os_caller *c, uint64_t uaddr, char *name)
{
	/* Byte by byte: a short name at the end of a page must not fault on
	 * the bytes after it. */
	for (uint32_t i = 0; i < VIRGO_MAX_DEBUG_NAME - 1; i++) {
		int ret = os_copy_from_user(c, &name[i], uaddr + i, 1);

		if (ret)
			return ret;
		if (!name[i])
			return 0;
	}
	name[VIRGO_MAX_DEBUG_NAME - 1] = 0;
	return 0;
}

static int do_context_init(struct core_file *f, struct os_caller *c, struct virgo_context_init *a)
{
	struct gpu_dev *dev = f->dev;
	struct virgo_ctx_set_param p[VIRGO_MAX_CTX_PARAMS];
	uint32_t capset = 0, rings = 0, seen = 0;
	char name[VIRGO_MAX_DEBUG_NAME] = { 0 };
	int ret;

	if (a->pad || a->num_params == 0 || a->num_params > VIRGO_MAX_CTX_PARAMS)
		return -VIRGO_EINVAL;
	if (!dev->has_context_init)
		return -VIRGO_ENODEV;
	if (f->ctx_created)
		return -VIRGO_EEXIST;
	ret = os_copy_from_user(c, p, a->ctx_set_params, sizeof(p[0]) * a->num_params);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < a->num_params; i++) {
		if (p[i].param == 0 || p[i].param > VIRGO_CTX_PARAM_DEBUG_NAME || (seen & (1u << p[i].param)))
			return -VIRGO_EINVAL;
		seen |= 1u << p[i].param;
		switch (p[i].param) {
		case VIRGO_CTX_PARAM_CAPSET_ID:
			if (p[i].value >= 64 || !(dev->capset_mask & (1ull << p[i].value)))
				return -VIRGO_EINVAL;
			capset = (uint32_t)p[i].value;
			break;
		case VIRGO_CTX_PARAM_NUM_RINGS:
			if (p[i].value == 0 || p[i].value > 64)
				return -VIRGO_EINVAL;
			rings = (uint32_t)p[i].value;
			break;
		case VIRGO_CTX_PARAM_POLL_RINGS_MASK:
			/* Ring events are a DRM-file feature with no uAPI here. */
			if (p[i].value)
				return -VIRGO_ENOTSUP;
			break;
		case VIRGO_CTX_PARAM_DEBUG_NAME:
			ret = copy_name(c, p[i].value, name);
			if (ret)
				return ret;
			break;
		}
	}
	f->capset_id = capset;
	f->num_rings = rings;
	for (uint32_t i = 0; i < VIRGO_MAX_DEBUG_NAME; i++)
		f->name[i] = name[i];
	ret = obj_ensure_ctx(f);
	if (ret) {
		f->capset_id = 0;
		f->num_rings = 0;
		f->name[0] = 0;
	}
	return ret;
}

static int check_create(const struct virgo_resource_create *a)
{
	uint32_t maxdim;

	if (a->flags & ~VIRGO_RESOURCE_FLAG_Y_0_TOP || a->target >= T_COUNT || a->format == 0 ||
	    a->format >= MAX_FORMAT || (a->bind & ~KNOWN_BINDS) || a->nr_samples > MAX_SAMPLES ||
	    !a->width || !a->height || !a->depth || !a->array_size)
		return -VIRGO_EINVAL;
	if (a->size > VIRGO_MAX_RESOURCE_SIZE)
		return -VIRGO_E2BIG;
	switch (a->target) {
	case T_BUFFER:
		if (a->height != 1 || a->depth != 1 || a->array_size != 1 || a->last_level || a->nr_samples > 1)
			return -VIRGO_EINVAL;
		return a->width <= VIRGO_MAX_RESOURCE_SIZE ? 0 : -VIRGO_E2BIG;
	case T_1D:
	case T_1D_ARRAY:
		if (a->height != 1 || a->depth != 1)
			return -VIRGO_EINVAL;
		break;
	case T_3D:
		if (a->array_size != 1 || a->depth > MAX_TEX_DIM)
			return -VIRGO_EINVAL;
		break;
	case T_CUBE:
		if (a->depth != 1 || a->array_size != 6 || a->width != a->height)
			return -VIRGO_EINVAL;
		break;
	case T_CUBE_ARRAY:
		if (a->depth != 1 || a->array_size % 6 || a->width != a->height)
			return -VIRGO_EINVAL;
		break;
	default:
		if (a->depth != 1)
			return -VIRGO_EINVAL;
		break;
	}
	if (a->target != T_1D_ARRAY && a->target != T_2D_ARRAY && a->target != T_CUBE &&
	    a->target != T_CUBE_ARRAY && a->array_size != 1)
		return -VIRGO_EINVAL;
	if (a->width > MAX_TEX_DIM || a->height > MAX_TEX_DIM || a->array_size > MAX_LAYERS)
		return -VIRGO_EINVAL;
	maxdim = a->width > a->height ? a->width : a->height;
	if (a->target == T_3D && a->depth > maxdim)
		maxdim = a->depth;
	if (a->last_level >= 32 || (maxdim >> a->last_level) == 0)
		return -VIRGO_EINVAL;
	return 0;
}

static int do_resource_create(struct core_file *f, struct os_caller *c, struct virgo_resource_create *a)
{
	struct gpu_dev *dev = f->dev;
	struct obj_res *res;
	uint32_t handle;
	int ret = check_create(a);

	if (ret)
		return ret;
	ret = obj_ensure_ctx(f);
	if (ret)
		return ret;
	/* Multisampled resources live on the host only, but a page keeps every
	 * resource backed, as Linux does. */
	ret = obj_res_new(dev, c, a->size ? a->size : OS_PAGE_SIZE, &res);
	if (ret)
		return ret;
	res->info = *a;
	ret = cmd_resource_create_3d(dev, res->id, a);
	if (ret) {
		obj_res_forget_if_refused(dev, res, ret);
		obj_res_put(dev, res);
		return ret;
	}
	ret = cmd_attach_backing(dev, res->id, &res->pages);
	if (!ret) {
		ret = cmd_ctx_attach(dev, f->ctx_id, res->id);
		if (!ret)
			res->ctx_id = f->ctx_id;
	}
	if (!ret)
		ret = obj_handle_add(f, res, &handle);
	if (ret) {
		obj_res_put(dev, res);
		return ret;
	}
	a->bo_handle = handle;
	a->res_handle = res->id;
	return 0;
}

static int do_resource_create_blob(struct core_file *f, struct os_caller *c, struct virgo_resource_create_blob *a)
{
	struct gpu_dev *dev = f->dev;
	struct obj_res *res;
	uint64_t seq;
	uint32_t handle;
	bool guest_pages;
	int ret;

	if (a->pad || a->blob_mem < VIRGO_BLOB_MEM_GUEST || a->blob_mem > VIRGO_BLOB_MEM_HOST3D_GUEST ||
	    (a->blob_flags & ~7u) || a->size == 0 || (a->cmd_size & 3))
		return -VIRGO_EINVAL;
	if (a->size > VIRGO_MAX_RESOURCE_SIZE || a->cmd_size > VIRGO_MAX_EXEC_SIZE)
		return -VIRGO_E2BIG;
	if (!dev->has_blob || (a->blob_mem != VIRGO_BLOB_MEM_GUEST && !dev->has_virgl))
		return -VIRGO_ENODEV;
	/* Cross-device sharing needs RESOURCE_UUID, which the core does not
	 * negotiate. */
	if (a->blob_flags & VIRGO_BLOB_FLAG_USE_CROSS_DEVICE)
		return -VIRGO_ENOTSUP;
	/* Guest-only blobs need no 3D context; the others live in one. */
	if (dev->has_virgl) {
		ret = obj_ensure_ctx(f);
		if (ret)
			return ret;
	} else if (a->cmd_size) {
		return -VIRGO_ENODEV;
	}
	if (a->cmd_size) {
		ret = cmd_submit_3d(dev, c, f->ctx_id, -1, a->cmd, a->cmd_size, &seq);
		if (ret)
			return ret;
		f->last_fence = seq;
	}
	guest_pages = a->blob_mem != VIRGO_BLOB_MEM_HOST3D;
	ret = obj_res_new(dev, c, guest_pages ? a->size : 0, &res);
	if (ret)
		return ret;
	res->blob_mem = a->blob_mem;
	res->blob_flags = a->blob_flags;
	res->blob_size = a->size;
	if (!guest_pages)
		res->info.size = (uint32_t)a->size;
	ret = cmd_resource_create_blob(dev, f->ctx_created ? f->ctx_id : 0, res->id, a,
				       guest_pages ? &res->pages : NULL);
	if (ret) {
		obj_res_forget_if_refused(dev, res, ret);
		obj_res_put(dev, res);
		return ret;
	}
	ret = f->ctx_created ? cmd_ctx_attach(dev, f->ctx_id, res->id) : 0;
	if (!ret) {
		res->ctx_id = f->ctx_created ? f->ctx_id : 0;
		ret = obj_handle_add(f, res, &handle);
	}
	if (ret) {
		obj_res_put(dev, res);
		return ret;
	}
	a->bo_handle = handle;
	a->res_handle = res->id;
	return 0;
}

static int check_box(const struct obj_res *res, const struct virgo_transfer *t)
{
	const struct virgo_resource_create *i = &res->info;
	uint32_t w, h, d;

	if (res->blob_mem) {
		/* Blobs are linear bytes: the box is a byte range of row 0. */
		if (res->blob_mem == VIRGO_BLOB_MEM_GUEST || t->level || t->box.y || t->box.z ||
		    t->box.h != 1 || t->box.d != 1)
			return -VIRGO_EINVAL;
		return fits(t->box.x, t->box.w, res->size ? (uint32_t)res->size : (uint32_t)i->size) ? 0 : -VIRGO_EINVAL;
	}
	if (t->level > i->last_level)
		return -VIRGO_EINVAL;
	w = level_dim(i->width, t->level);
	h = level_dim(i->height, t->level);
	d = 1;
	switch (i->target) {
	case T_BUFFER:
		w = i->width;
		break;
	case T_3D:
		d = level_dim(i->depth, t->level);
		break;
	case T_1D_ARRAY: /* layers are z, as in Mesa's virgl and virglrenderer */
	case T_2D_ARRAY:
	case T_CUBE:
	case T_CUBE_ARRAY:
		d = i->array_size;
		break;
	default:
		break;
	}
	if (!fits(t->box.x, t->box.w, w) || !fits(t->box.y, t->box.h, h) || !fits(t->box.z, t->box.d, d))
		return -VIRGO_EINVAL;
	return 0;
}

/* The guest bytes a transfer touches, at one byte per texel: the least any
 * format needs, since the core does not know every format's size. The host
 * checks the exact span against the backing it was given. */
static int check_backing(const struct obj_res *res, const struct virgo_transfer *t)
{
	uint64_t row = t->stride ? t->stride : t->box.w;
	uint64_t layer = t->layer_stride ? t->layer_stride : row * t->box.h;
	uint64_t need;

	if (!res->size)
		return 0; /* host-only storage: nothing of the guest's is touched */
	if (res->info.target == T_BUFFER || res->blob_mem)
		need = t->box.w;
	else
		need = (uint64_t)(t->box.d - 1) * layer + (uint64_t)(t->box.h - 1) * row + t->box.w;
	if (t->offset > res->size || need > res->size - t->offset)
		return -VIRGO_EINVAL;
	return 0;
}

static int do_transfer(struct core_file *f, struct virgo_transfer *a, bool to_host)
{
	struct file_handle *h = obj_handle_get(f, a->bo_handle);
	uint64_t seq;
	int ret;

	if (!h)
		return -VIRGO_ENOENT;
	ret = check_box(h->res, a);
	if (ret)
		return ret;
	ret = check_backing(h->res, a);
	if (ret)
		return ret;
	ret = cmd_transfer_3d(f->dev, f->ctx_id, h->res->id, to_host, a, &seq);
	if (ret)
		return ret;
	os_atomic_store64(&h->res->last_fence, seq);
	f->last_fence = seq;
	a->fence = seq;
	return 0;
}

static int do_execbuffer(struct core_file *f, struct os_caller *c, struct virgo_execbuffer *a)
{
	struct gpu_dev *dev = f->dev;
	struct obj_res **res = NULL;
	uint32_t *handles = NULL;
	int ring = -1;
	uint64_t seq;
	int ret;

	if ((a->flags & ~VIRGO_EXEC_FLAGS) || a->size == 0 || (a->size & 3))
		return -VIRGO_EINVAL;
	if (a->size > VIRGO_MAX_EXEC_SIZE || a->num_bo_handles > VIRGO_MAX_BO_HANDLES)
		return -VIRGO_E2BIG;
	if (a->flags & VIRGO_EXEC_RING_IDX) {
		if (a->ring_idx >= f->num_rings)
			return -VIRGO_EINVAL;
		ring = (int)a->ring_idx;
	} else if (a->ring_idx) {
		return -VIRGO_EINVAL;
	}
	if (a->num_bo_handles) {
		handles = os_alloc(dev->os, sizeof(*handles) * a->num_bo_handles, OS_MEM_PAGED);
		res = os_alloc(dev->os, sizeof(*res) * a->num_bo_handles, OS_MEM_PAGED);
		if (!handles || !res) {
			ret = -VIRGO_ENOMEM;
			goto out;
		}
		ret = os_copy_from_user(c, handles, a->bo_handles, sizeof(*handles) * a->num_bo_handles);
		if (ret)
			goto out;
		for (uint32_t i = 0; i < a->num_bo_handles; i++) {
			struct file_handle *h = obj_handle_get(f, handles[i]);

			if (!h) {
				ret = -VIRGO_ENOENT;
				goto out;
			}
			res[i] = h->res;
		}
	}
	/* The context comes after validation: a rejected request leaves
	 * nothing behind on the device. */
	ret = obj_ensure_ctx(f);
	if (ret)
		goto out;
	ret = cmd_submit_3d(dev, c, f->ctx_id, ring, a->command, a->size, &seq);
	if (ret)
		goto out;
	for (uint32_t i = 0; i < a->num_bo_handles; i++)
		os_atomic_store64(&res[i]->last_fence, seq);
	f->last_fence = seq;
	a->fence = seq;
out:
	if (handles)
		os_free(dev->os, handles);
	if (res)
		os_free(dev->os, res);
	return ret;
}

static int do_map(struct core_file *f, struct os_caller *c, struct virgo_map *a)
{
	struct file_handle *h;
	int ret;

	if (a->map_info)
		return -VIRGO_EINVAL;
	h = obj_handle_get(f, a->bo_handle);
	if (!h)
		return -VIRGO_ENOENT;
	ret = map_handle(f, c, h);
	if (ret)
		return ret;
	a->addr = h->map_addr;
	a->size = h->map_size;
	a->map_info = h->map_info;
	return 0;
}

static int do_unmap(struct core_file *f, struct os_caller *c, struct virgo_unmap *a)
{
	struct file_handle *h;

	if (a->pad)
		return -VIRGO_EINVAL;
	h = obj_handle_get(f, a->bo_handle);
	if (!h)
		return -VIRGO_ENOENT;
	if (!h->map_cookie)
		return -VIRGO_EINVAL;
	map_undo(f, c, h);
	return 0;
}

static int do_resource_info(struct core_file *f, struct virgo_resource_info *a)
{
	struct file_handle *h = obj_handle_get(f, a->bo_handle);

	if (!h)
		return -VIRGO_ENOENT;
	a->res_handle = h->res->id;
	a->size = (uint32_t)(h->res->size ? h->res->size : h->res->info.size);
	a->blob_mem = h->res->blob_mem;
	return 0;
}

/* Waits run without the handle's lock, so one thread waiting does not stall
 * the others of the same process. */
static int wait_target(struct core_file *f, uint32_t op, void *arg, uint64_t *seq)
{
	if (op == VIRGO_OP_WAIT) {
		struct virgo_wait *a = arg;
		struct file_handle *h;

		if (a->flags & ~VIRGO_WAIT_NOWAIT)
			return -VIRGO_EINVAL;
		h = obj_handle_get(f, a->bo_handle);
		if (!h)
			return -VIRGO_ENOENT;
		*seq = os_atomic_load64(&h->res->last_fence);
	} else {
		struct virgo_fence_wait *a = arg;

		if ((a->flags & ~VIRGO_WAIT_NOWAIT) || a->pad || a->fence == 0 || a->fence > f->last_fence)
			return -VIRGO_EINVAL;
		*seq = a->fence;
	}
	return 0;
}

int core_ioctl(struct core_file *f, struct os_caller *caller, uint32_t op, void *arg, uint32_t arg_size)
{
	struct gpu_dev *dev = f->dev;
	uint64_t seq = 0;
	int ret;

	os_might_sleep(dev->os);
	if (op == 0 || op >= VIRGO_OP_COUNT)
		return -VIRGO_ENOTSUP;
	if (!arg || arg_size != virgo_op_arg_size(op))
		return -VIRGO_EINVAL;
	gpu_reap(dev);
	os_mutex_lock(f->lock);
	if (f->generation != dev->generation || dev->lost) {
		os_mutex_unlock(f->lock);
		return -VIRGO_EDEVLOST;
	}
	switch (op) {
	case VIRGO_OP_GET_PARAM: ret = do_get_param(f, arg); break;
	case VIRGO_OP_GET_CAPS: ret = do_get_caps(f, caller, arg); break;
	case VIRGO_OP_CONTEXT_INIT: ret = do_context_init(f, caller, arg); break;
	case VIRGO_OP_RESOURCE_CREATE: ret = do_resource_create(f, caller, arg); break;
	case VIRGO_OP_RESOURCE_CREATE_BLOB: ret = do_resource_create_blob(f, caller, arg); break;
	case VIRGO_OP_RESOURCE_INFO: ret = do_resource_info(f, arg); break;
	case VIRGO_OP_RESOURCE_CLOSE: {
		struct virgo_resource_close *a = arg;

		ret = a->pad ? -VIRGO_EINVAL : obj_handle_get(f, a->bo_handle) ? 0 : -VIRGO_ENOENT;
		if (!ret)
			obj_handle_close(f, caller, a->bo_handle);
		break;
	}
	case VIRGO_OP_MAP: ret = do_map(f, caller, arg); break;
	case VIRGO_OP_UNMAP: ret = do_unmap(f, caller, arg); break;
	case VIRGO_OP_EXECBUFFER: ret = do_execbuffer(f, caller, arg); break;
	case VIRGO_OP_TRANSFER_TO_HOST: ret = do_transfer(f, arg, true); break;
	case VIRGO_OP_TRANSFER_FROM_HOST: ret = do_transfer(f, arg, false); break;
	case VIRGO_OP_WAIT:
	case VIRGO_OP_FENCE_WAIT: ret = wait_target(f, op, arg, &seq); break;
	default: ret = -VIRGO_ENOTSUP; break;
	}
	os_mutex_unlock(f->lock);
	if (!ret && (op == VIRGO_OP_WAIT || op == VIRGO_OP_FENCE_WAIT) && seq) {
		bool nowait = (op == VIRGO_OP_WAIT ? ((struct virgo_wait *)arg)->flags
						    : ((struct virgo_fence_wait *)arg)->flags) & VIRGO_WAIT_NOWAIT;
		uint64_t t = op == VIRGO_OP_WAIT ? ((struct virgo_wait *)arg)->timeout_ns
						 : ((struct virgo_fence_wait *)arg)->timeout_ns;

		ret = gpu_fence_wait(dev, caller, seq, f->ctx_id, gpu_deadline(dev, clamp_timeout(t)), nowait);
		/* A resource's own wait reports busy/idle, not the stream's errors. */
		if (op == VIRGO_OP_WAIT && ret != -VIRGO_EBUSY && ret != -VIRGO_ETIMEDOUT && ret != -VIRGO_EDEVLOST &&
		    ret != -VIRGO_ECANCELED)
			ret = 0;
	}
	return ret;
}
