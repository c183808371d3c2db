/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scen.h"
#include "scene_triangle.h"

struct scen_env *scen;

struct scen_dev *scen_open(void)
{
	struct scen_dev *d = NULL;
	int ret = scen->open(scen, &d);

	CHECK_EQ(ret, 0);
	REQUIRE(d != NULL);
	return d;
}

void scen_close(struct scen_dev *d)
{
	if (d)
		d->ops->close(d);
}

uint64_t scen_param(struct scen_dev *d, uint64_t param)
{
	struct virgo_get_param p = { .param = param };

	REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_GET_PARAM, &p), 0);
	return p.value;
}

uint32_t scen_create(struct scen_dev *d, uint32_t target, uint32_t format, uint32_t bind, uint32_t w,
		     uint32_t h, uint32_t size, uint32_t *res_id)
{
	struct virgo_resource_create rc = {
		.target = target, .format = format, .bind = bind, .width = w, .height = h,
		.depth = 1, .array_size = 1, .size = size,
	};

	REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_RESOURCE_CREATE, &rc), 0);
	CHECK(rc.bo_handle != 0);
	CHECK(rc.res_handle != 0);
	if (res_id)
		*res_id = rc.res_handle;
	return rc.bo_handle;
}

void scen_close_bo(struct scen_dev *d, uint32_t bo)
{
	struct virgo_resource_close c = { .bo_handle = bo };

	CHECK_EQ(scen_ioctl(d, VIRGO_OP_RESOURCE_CLOSE, &c), 0);
}

uint64_t scen_exec(struct scen_dev *d, const uint32_t *cmd, uint32_t bytes, const uint32_t *bos, uint32_t nbos)
{
	struct virgo_execbuffer x = {
		.size = bytes, .command = (uint64_t)(uintptr_t)cmd,
		.bo_handles = (uint64_t)(uintptr_t)bos, .num_bo_handles = nbos,
	};

	REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_EXECBUFFER, &x), 0);
	CHECK(x.fence != 0);
	return x.fence;
}

int scen_fence_wait(struct scen_dev *d, uint64_t fence, uint64_t timeout_ns)
{
	struct virgo_fence_wait w = { .fence = fence, .timeout_ns = timeout_ns };

	return scen_ioctl(d, VIRGO_OP_FENCE_WAIT, &w);
}

void *scen_map(struct scen_dev *d, uint32_t bo, uint64_t *size)
{
	struct virgo_map m = { .bo_handle = bo };

	REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_MAP, &m), 0);
	REQUIRE(m.addr != 0);
	if (size)
		*size = m.size;
	return (void *)(uintptr_t)m.addr;
}

uint64_t scen_transfer(struct scen_dev *d, uint32_t op, uint32_t bo, uint32_t x, uint32_t y, uint32_t w,
		       uint32_t h, uint32_t stride)
{
	struct virgo_transfer t = { .bo_handle = bo, .stride = stride, .box = { x, y, 0, w, h, 1 } };

	REQUIRE_EQ(scen_ioctl(d, op, &t), 0);
	CHECK(t.fence != 0);
	return t.fence;
}

void scen_render_triangle(struct scen_dev *d, uint8_t *pixels)
{
	uint32_t rt_id, vb_id, rt, vb, bos[2];
	uint32_t stream[SCENE_STREAM_DWORDS];
	float verts[SCENE_VB_FLOATS];
	struct venc e;
	void *vmap, *rmap;
	uint64_t f;

	rt = scen_create(d, SCENE_RT_TARGET, SCENE_RT_FORMAT, SCENE_RT_BIND, SCENE_RT_WIDTH, SCENE_RT_HEIGHT,
			 SCENE_RT_SIZE, &rt_id);
	vb = scen_create(d, SCENE_VB_TARGET, SCENE_VB_FORMAT, SCENE_VB_BIND, SCENE_VB_WIDTH, 1, SCENE_VB_SIZE,
			 &vb_id);
	/* The vertex data goes into the guest backing, then to the host. */
	scene_triangle_vertices(verts);
	vmap = scen_map(d, vb, NULL);
	memcpy(vmap, verts, sizeof(verts));
	scen_transfer(d, VIRGO_OP_TRANSFER_TO_HOST, vb, 0, 0, SCENE_VB_BYTES, 1, 0);
	venc_init(&e, stream, SCENE_STREAM_DWORDS);
	REQUIRE_EQ(scene_triangle_encode(&e, rt_id, vb_id, SCENE_RT_WIDTH, SCENE_RT_HEIGHT), 0);
	/* The sub-context goes at the end, so a handle can render again. */
	REQUIRE_EQ(scene_triangle_encode_teardown(&e), 0);
	bos[0] = rt;
	bos[1] = vb;
	scen_exec(d, stream, venc_bytes(&e), bos, 2);
	f = scen_transfer(d, VIRGO_OP_TRANSFER_FROM_HOST, rt, 0, 0, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, SCENE_RT_STRIDE);
	CHECK_EQ(scen_fence_wait(d, f, 0), 0);
	rmap = scen_map(d, rt, NULL);
	memcpy(pixels, rmap, SCENE_RT_SIZE);
	scen_close_bo(d, vb);
	scen_close_bo(d, rt);
}

bool scen_wait_param(struct scen_dev *d, uint64_t param, uint64_t want, unsigned ms)
{
	uint64_t v = 0;

	/* Closing a handle over a socket completes after the close returns.
	 * No REQUIRE here: runners call this from their after-each checks. */
	for (unsigned waited = 0;; waited += 10) {
		struct virgo_get_param p = { .param = param };
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (scen_ioctl(d, VIRGO_OP_GET_PARAM, &p) == 0) {
			v = p.value;
			if (v == want)
				return true;
		}
		if (waited >= ms)
			break;
		nanosleep(&ts, NULL);
	}
	printf("  param %#llx is still %llu after %u ms (want %llu)\n", (unsigned long long)param,
	       (unsigned long long)v, ms, (unsigned long long)want);
	return false;
}
