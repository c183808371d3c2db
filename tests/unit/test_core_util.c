/* SPDX-License-Identifier: MIT */
/* test_core_util.c: the rig and request helpers of test_core.h. */
#include <stdlib.h>
#include <string.h>

#include "test_core.h"

void rig_up_ex(struct rig *r, const struct fake_config *cfg, const struct gpu_params *p, bool keep_log)
{
	memset(r, 0, sizeof(*r));
	r->os = fake_machine_new(cfg);
	REQUIRE(r->os);
	r->d = fake_dev_of(r->os);
	REQUIRE_EQ(fake_gpu_init(r->os, p, &r->gpu), 0);
	REQUIRE(r->gpu);
	r->c = fake_caller_new(r->os);
	REQUIRE(r->c);
	REQUIRE_EQ(core_open(r->gpu, &r->f), 0);
	if (!keep_log)
		fake_dev_log_clear(r->d);
}

void rig_up(struct rig *r, const struct fake_config *cfg, const struct gpu_params *p)
{
	rig_up_ex(r, cfg, p, false);
}

void rig_up_features(struct rig *r, uint64_t features)
{
	struct fake_config c;

	fake_config_init(&c);
	c.features = features;
	rig_up(r, &c, NULL);
}

void rig_close(struct rig *r, struct core_file *f)
{
	core_cleanup(f, r->c);
	core_close(f);
}

void rig_down(struct rig *r)
{
	const struct fake_dev_stats *st = fake_dev_stats(r->d);
	struct gpu_stats gs;

	if (r->f)
		rig_close(r, r->f);
	r->f = NULL;
	fake_caller_free(r->c);
	r->c = NULL;
	fake_run(r->os);
	gpu_get_stats(r->gpu, &gs);
	CHECK_EQ(gs.files, 0);
	CHECK_EQ(gs.resources, 0);
	if (!gpu_is_lost(r->gpu)) {
		/* Everything the core made on the device was destroyed. */
		CHECK_EQ(st->ctxs, 0);
		CHECK_EQ(st->resources, 0);
		CHECK_EQ(st->backings, 0);
	}
	fake_gpu_fini(r->os, r->gpu);
	r->gpu = NULL;
	CHECK_EQ(fake_dev_held(r->d), 0);
	CHECK_EQ(fake_machine_free(r->os), 0);
	r->os = NULL;
}

int io_f(struct rig *r, struct core_file *f, uint32_t op, void *arg)
{
	return core_ioctl(f, r->c, op, arg, virgo_op_arg_size(op));
}

int io(struct rig *r, uint32_t op, void *arg)
{
	return io_f(r, r->f, op, arg);
}

uint64_t param(struct rig *r, uint64_t p)
{
	struct virgo_get_param a = { .param = p, .value = 0xdead };

	CHECK_EQ(io(r, VIRGO_OP_GET_PARAM, &a), 0);
	return a.value;
}

int param_or_err(struct rig *r)
{
	struct virgo_get_param a = { .param = VIRGO_PARAM_UAPI_VERSION };

	return io(r, VIRGO_OP_GET_PARAM, &a);
}

struct virgo_resource_create rc_default(uint32_t target, uint32_t w, uint32_t h, uint32_t depth,
					uint32_t layers)
{
	return (struct virgo_resource_create){
		.target = target, .format = FMT_B8G8R8A8, .bind = BIND_RT,
		.width = w, .height = h, .depth = depth, .array_size = layers,
	};
}

int mk_buffer(struct rig *r, struct core_file *f, uint32_t width, uint32_t size, uint32_t *handle,
	      uint32_t *res_id)
{
	struct virgo_resource_create a = rc_default(TGT_BUFFER, width, 1, 1, 1);
	int ret;

	a.format = 64; /* VIRGL_FORMAT_R8_UNORM */
	a.bind = 1u << 4;
	a.size = size;
	ret = io_f(r, f, VIRGO_OP_RESOURCE_CREATE, &a);
	if (handle)
		*handle = a.bo_handle;
	if (res_id)
		*res_id = a.res_handle;
	return ret;
}

int mk_tex2d(struct rig *r, struct core_file *f, uint32_t w, uint32_t h, uint32_t *handle, uint32_t *res_id)
{
	struct virgo_resource_create a = rc_default(TGT_2D, w, h, 1, 1);
	int ret;

	a.size = w * h * 4;
	ret = io_f(r, f, VIRGO_OP_RESOURCE_CREATE, &a);
	if (handle)
		*handle = a.bo_handle;
	if (res_id)
		*res_id = a.res_handle;
	return ret;
}

int exec(struct rig *r, struct core_file *f, const void *stream, uint32_t size, const uint32_t *handles,
	 uint32_t n, uint64_t *fence)
{
	struct virgo_execbuffer a = {
		.size = size,
		.command = (uint64_t)(uintptr_t)stream,
		.bo_handles = (uint64_t)(uintptr_t)handles,
		.num_bo_handles = n,
	};
	int ret = io_f(r, f, VIRGO_OP_EXECBUFFER, &a);

	if (fence)
		*fence = a.fence;
	return ret;
}

int exec_words(struct rig *r, struct core_file *f, uint32_t n, const uint32_t *handles, uint32_t nh,
	       uint64_t *fence)
{
	uint32_t *w = malloc((n ? n : 1) * sizeof(*w));
	int ret;

	REQUIRE(w);
	for (uint32_t i = 0; i < n; i++)
		w[i] = 0x1000 + i;
	ret = exec(r, f, w, n * 4, handles, nh, fence);
	free(w);
	return ret;
}

int fence_wait(struct rig *r, struct core_file *f, uint64_t fence, uint32_t flags, uint64_t timeout_ns)
{
	struct virgo_fence_wait a = { .fence = fence, .flags = flags, .timeout_ns = timeout_ns };

	return io_f(r, f, VIRGO_OP_FENCE_WAIT, &a);
}

int wait_bo(struct rig *r, struct core_file *f, uint32_t handle, uint32_t flags, uint64_t timeout_ns)
{
	struct virgo_wait a = { .bo_handle = handle, .flags = flags, .timeout_ns = timeout_ns };

	return io_f(r, f, VIRGO_OP_WAIT, &a);
}

int transfer(struct rig *r, struct core_file *f, bool to_host, uint32_t handle, uint32_t level,
	     struct virgo_box box, uint64_t offset, uint64_t *fence)
{
	struct virgo_transfer a = { .bo_handle = handle, .level = level, .box = box, .offset = offset };
	int ret = io_f(r, f, to_host ? VIRGO_OP_TRANSFER_TO_HOST : VIRGO_OP_TRANSFER_FROM_HOST, &a);

	if (fence)
		*fence = a.fence;
	return ret;
}

int map_bo(struct rig *r, struct core_file *f, uint32_t handle, uint8_t **ptr, uint64_t *size)
{
	struct virgo_map a = { .bo_handle = handle };
	int ret = io_f(r, f, VIRGO_OP_MAP, &a);

	if (ptr)
		*ptr = (uint8_t *)(uintptr_t)a.addr;
	if (size)
		*size = a.size;
	return ret;
}

int close_bo(struct rig *r, struct core_file *f, uint32_t handle)
{
	struct virgo_resource_close a = { .bo_handle = handle };

	return io_f(r, f, VIRGO_OP_RESOURCE_CLOSE, &a);
}

unsigned log_count_from(struct rig *r, size_t i, uint32_t type)
{
	unsigned n = 0;

	for (; i < fake_dev_log_count(r->d); i++)
		n += type == FAKE_CMD_ANY || fake_dev_log(r->d, i)->type == type;
	return n;
}

uint64_t last_fence_id(struct rig *r, uint32_t type)
{
	const struct fake_cmd *c = fake_dev_log_last(r->d, type);

	return c ? c->fence_id : 0;
}
