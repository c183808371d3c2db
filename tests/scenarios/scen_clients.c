/* SPDX-License-Identifier: MIT */
/* Handles are per client: a client can name only what it created, and a
 * command stream naming another client's resource fails on the host without
 * touching it. */
#include <string.h>

#include "scen.h"
#include "scene_triangle.h"

TEST(two_clients_isolated)
{
	static uint8_t px[SCENE_RT_SIZE];
	struct scen_dev *a = scen_open(), *b = scen_open(), *c;
	uint32_t b_id, b_bo = scen_create(b, 0, 64, VENC_BIND_VERTEX_BUFFER, 4096, 1, 4096, &b_id);
	uint8_t *bmap = scen_map(b, b_bo, NULL);
	uint32_t stream[64], data[4] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444 };
	struct venc e;
	char why[200];
	uint64_t f;

	memset(bmap, 0xbb, 4096);
	CHECK_EQ(scen_fence_wait(b, scen_transfer(b, VIRGO_OP_TRANSFER_TO_HOST, b_bo, 0, 0, 4096, 1, 0), 0), 0);
	/* a has no handles: b's handle number means nothing to it. */
	{
		struct virgo_resource_info ri = { .bo_handle = b_bo };
		struct virgo_execbuffer x = { .size = 4, .command = (uint64_t)(uintptr_t)stream,
					      .bo_handles = (uint64_t)(uintptr_t)&b_bo, .num_bo_handles = 1 };
		struct virgo_map m = { .bo_handle = b_bo };

		stream[0] = 0;
		CHECK_EQ(scen_ioctl(a, VIRGO_OP_RESOURCE_INFO, &ri), -VIRGO_ENOENT);
		CHECK_EQ(scen_ioctl(a, VIRGO_OP_EXECBUFFER, &x), -VIRGO_ENOENT);
		CHECK_EQ(scen_ioctl(a, VIRGO_OP_MAP, &m), -VIRGO_ENOENT);
	}
	/* a writes to b's resource id inside its own stream: the host refuses,
	 * and the refusal reaches a at its fence. */
	venc_init(&e, stream, 64);
	venc_resource_inline_write(&e, b_id, 0, 0, 0, 0, &(struct venc_box){ 0, 0, 0, 16, 1, 1 }, data, 16);
	REQUIRE_EQ(e.err, 0);
	f = scen_exec(a, stream, venc_bytes(&e), NULL, 0);
	CHECK_EQ(scen_fence_wait(a, f, 0), scen->caps & SCEN_HOST_ERRORS ? -VIRGO_EIO : 0);
	/* b's data is untouched. */
	memset(bmap, 0, 4096);
	CHECK_EQ(scen_fence_wait(b, scen_transfer(b, VIRGO_OP_TRANSFER_FROM_HOST, b_bo, 0, 0, 4096, 1, 0), 0), 0);
	for (int i = 0; i < 4096; i++)
		if (bmap[i] != 0xbb) {
			t_fail(__FILE__, __LINE__, "b's byte %d is %#x after a's attempt", i, bmap[i]);
			break;
		}
	/* b, and a newcomer, still render. */
	scen_render_triangle(b, px);
	if (scene_triangle_check(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
		t_fail(__FILE__, __LINE__, "b after the attempt: %s", why);
	c = scen_open();
	scen_render_triangle(c, px);
	if (scene_triangle_check(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
		t_fail(__FILE__, __LINE__, "a new client: %s", why);
	/* a's handle still works for what it owns. */
	scen_close_bo(a, scen_create(a, 0, 64, VENC_BIND_VERTEX_BUFFER, 64, 1, 64, NULL));
	scen_close(c);
	scen_close_bo(b, b_bo);
	scen_close(a);
	scen_close(b);
}

TEST(closing_a_client_frees_its_resources)
{
	struct scen_dev *watch = scen_open(), *d = scen_open();
	uint64_t before = scen_param(watch, VIRGO_PARAM_LIVE_RESOURCES);

	for (int i = 0; i < 8; i++)
		scen_create(d, 0, 64, VENC_BIND_VERTEX_BUFFER, 4096, 1, 4096, NULL);
	CHECK_EQ(scen_param(watch, VIRGO_PARAM_LIVE_RESOURCES), before + 8);
	scen_close(d); /* without closing the resources first */
	CHECK(scen_wait_param(watch, VIRGO_PARAM_LIVE_RESOURCES, before, 5000));
	scen_close(watch);
}
