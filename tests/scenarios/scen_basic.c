/* SPDX-License-Identifier: MIT */
/* What every user-mode driver relies on: parameters, capsets, the triangle
 * rendered and read back exactly, fences in order, busy and idle. */
#include <stdio.h>
#include <string.h>

#include "scen.h"
#include "scene_triangle.h"

/* virgl_caps_v1 begins with max_version; v2 keeps v1 as its prefix. */
struct caps_prefix {
	uint32_t max_version;
};

TEST(params_and_capsets)
{
	struct scen_dev *d = scen_open();
	uint8_t caps[2048];
	struct virgo_get_caps gc = { .cap_set_id = 2, .cap_set_ver = 2, .addr = (uint64_t)(uintptr_t)caps,
				     .size = sizeof(caps) };
	uint64_t ids;

	CHECK_EQ(scen_param(d, VIRGO_PARAM_3D_FEATURES), 1);
	CHECK_EQ(scen_param(d, VIRGO_PARAM_CAPSET_QUERY_FIX), 1);
	CHECK_EQ(scen_param(d, VIRGO_PARAM_UAPI_VERSION), VIRGO_UAPI_VERSION);
	ids = scen_param(d, VIRGO_PARAM_SUPPORTED_CAPSET_IDS);
	CHECK(ids & (1u << 2)); /* VIRGL2 */
	CHECK(ids & (1u << 1)); /* VIRGL */
	CHECK(scen_param(d, VIRGO_PARAM_NUM_SCANOUTS) >= 1);
	memset(caps, 0xcd, sizeof(caps));
	REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_GET_CAPS, &gc), 0);
	/* virgl_caps_v2 of virglrenderer 0.10.4 (Debian 12) and 1.1.0 (13) */
	if (gc.copied != 1376 && gc.copied != 1384)
		t_fail(__FILE__, __LINE__, "capset 2 is %u bytes, neither 0.10.4's 1376 nor 1.1.0's 1384", gc.copied);
	CHECK(((struct caps_prefix *)caps)->max_version >= 1);
	REQUIRE(gc.copied < sizeof(caps));
	CHECK_EQ(caps[gc.copied], 0xcd); /* nothing written past the capset */
	gc = (struct virgo_get_caps){ .cap_set_id = 1, .cap_set_ver = 1, .addr = (uint64_t)(uintptr_t)caps,
				      .size = sizeof(caps) };
	REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_GET_CAPS, &gc), 0);
	CHECK_EQ(gc.copied, 308);
	/* A short buffer gets a prefix, never more. */
	memset(caps, 0xcd, sizeof(caps));
	gc = (struct virgo_get_caps){ .cap_set_id = 2, .cap_set_ver = 2, .addr = (uint64_t)(uintptr_t)caps, .size = 16 };
	REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_GET_CAPS, &gc), 0);
	CHECK_EQ(gc.copied, 16);
	CHECK_EQ(caps[16], 0xcd);
	/* Unknown capset and version above the maximum are refused. */
	gc = (struct virgo_get_caps){ .cap_set_id = 9, .cap_set_ver = 1, .addr = (uint64_t)(uintptr_t)caps, .size = 16 };
	CHECK_EQ(scen_ioctl(d, VIRGO_OP_GET_CAPS, &gc), -VIRGO_EINVAL);
	gc = (struct virgo_get_caps){ .cap_set_id = 2, .cap_set_ver = 3, .addr = (uint64_t)(uintptr_t)caps, .size = 16 };
	CHECK_EQ(scen_ioctl(d, VIRGO_OP_GET_CAPS, &gc), -VIRGO_EINVAL);
	{
		struct virgo_get_param p = { .param = 0x7777 };

		CHECK_EQ(scen_ioctl(d, VIRGO_OP_GET_PARAM, &p), -VIRGO_EINVAL);
	}
	scen_close(d);
}

TEST(triangle_pixels_exact)
{
	static uint8_t px[SCENE_RT_SIZE];
	struct scen_dev *d = scen_open();
	uint32_t red = 0, blue = 0, lo, hi;
	char why[200] = "";

	scen_render_triangle(d, px);
	if (scene_triangle_check(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
		t_fail(__FILE__, __LINE__, "pixels: %s", why);
	if (scene_triangle_check_full(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
		t_fail(__FILE__, __LINE__, "pixels (full): %s", why);
	scene_triangle_count(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, &red, &blue);
	scene_triangle_red_range(SCENE_RT_WIDTH, SCENE_RT_HEIGHT, &lo, &hi);
	CHECK(red >= lo && red <= hi);
	CHECK_EQ(red + blue, SCENE_RT_WIDTH * SCENE_RT_HEIGHT);
	{
		/* FNV-1a of the frame: runners on different devices compare it. */
		uint64_t h = 0xcbf29ce484222325ull;

		for (size_t i = 0; i < SCENE_RT_SIZE; i++)
			h = (h ^ px[i]) * 0x100000001b3ull;
		printf("  triangle on %s: %u red, %u blue pixels (expected red %u..%u), image fnv1a %016llx\n",
		       scen->name, red, blue, lo, hi, (unsigned long long)h);
	}
	/* A second frame on the same handle renders the same image. */
	{
		static uint8_t again[SCENE_RT_SIZE];

		scen_render_triangle(d, again);
		CHECK(memcmp(px, again, SCENE_RT_SIZE) == 0);
	}
	scen_close(d);
}

/* A stream of NOPs: valid virgl that costs the host nothing. */
static uint32_t nops[1024];

TEST(fences_signal_in_order)
{
	struct scen_dev *d = scen_open();
	uint64_t f[32];

	for (int i = 0; i < 32; i++) {
		f[i] = scen_exec(d, nops, 64, NULL, 0);
		if (i)
			CHECK(f[i] > f[i - 1]);
	}
	for (int i = 0; i < 32; i++)
		CHECK_EQ(scen_fence_wait(d, f[i], 0), 0);
	/* Once the last is signalled, every earlier one is too (NOWAIT). */
	for (int i = 0; i < 32; i++) {
		struct virgo_fence_wait w = { .fence = f[i], .flags = VIRGO_WAIT_NOWAIT };

		CHECK_EQ(scen_ioctl(d, VIRGO_OP_FENCE_WAIT, &w), 0);
	}
	/* A fence this handle never got is refused, not waited for. */
	{
		struct virgo_fence_wait w = { .fence = f[31] + 1000 };

		CHECK_EQ(scen_ioctl(d, VIRGO_OP_FENCE_WAIT, &w), -VIRGO_EINVAL);
	}
	scen_close(d);
}

/* Heavy work: clears of a large target, so that a WAIT right after the
 * submit finds the resource busy. */
static uint64_t submit_heavy(struct scen_dev *d, uint32_t rt, uint32_t rt_id, unsigned clears)
{
	static uint32_t s[4096];
	static const float c[4] = { 0.25f, 0.5f, 0.75f, 1.0f };
	struct venc e;
	uint32_t cbuf = 1;

	venc_init(&e, s, 4096);
	venc_create_sub_ctx(&e, 2);
	venc_set_sub_ctx(&e, 2);
	venc_create_surface(&e, 1, rt_id, SCENE_RT_FORMAT, 0, 0, 0);
	venc_set_framebuffer_state(&e, 1, 0, &cbuf);
	for (unsigned i = 0; i < clears; i++)
		venc_clear(&e, VENC_CLEAR_COLOR0, c, 1.0, 0);
	venc_set_sub_ctx(&e, 0);
	venc_destroy_sub_ctx(&e, 2);
	REQUIRE_EQ(e.err, 0);
	return scen_exec(d, s, venc_bytes(&e), &rt, 1);
}

TEST(wait_nowait_busy_then_idle)
{
	struct scen_dev *d = scen_open();
	uint32_t rt_id, rt = scen_create(d, SCENE_RT_TARGET, SCENE_RT_FORMAT, SCENE_RT_BIND, 2048, 2048,
					 2048u * 2048u * 4u, &rt_id);
	bool saw_busy = false;

	for (unsigned tries = 0; tries < 4 && !saw_busy; tries++) {
		struct virgo_wait w = { .bo_handle = rt, .flags = VIRGO_WAIT_NOWAIT };
		uint64_t f = submit_heavy(d, rt, rt_id, 50u << tries);
		int ret = scen_ioctl(d, VIRGO_OP_WAIT, &w);

		CHECK(ret == 0 || ret == -VIRGO_EBUSY);
		saw_busy = ret == -VIRGO_EBUSY;
		w.flags = 0;
		CHECK_EQ(scen_ioctl(d, VIRGO_OP_WAIT, &w), 0);
		w.flags = VIRGO_WAIT_NOWAIT;
		CHECK_EQ(scen_ioctl(d, VIRGO_OP_WAIT, &w), 0);
		CHECK_EQ(scen_fence_wait(d, f, 0), 0);
	}
	CHECK(saw_busy);
	scen_close_bo(d, rt);
	scen_close(d);
}

TEST(guest_blob_create_map_close)
{
	struct scen_dev *d = scen_open();
	struct virgo_resource_create_blob b = { .blob_mem = VIRGO_BLOB_MEM_GUEST,
						.blob_flags = VIRGO_BLOB_FLAG_USE_MAPPABLE, .size = 8192 };
	struct virgo_resource_info ri = { 0 };
	uint64_t size = 0;
	uint8_t *p;

	if (!scen_param(d, VIRGO_PARAM_RESOURCE_BLOB)) {
		CHECK_EQ(scen_ioctl(d, VIRGO_OP_RESOURCE_CREATE_BLOB, &b), -VIRGO_ENODEV);
		scen_close(d);
		t_skip("%s offers no RESOURCE_BLOB", scen->name);
		return;
	}
	REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_RESOURCE_CREATE_BLOB, &b), 0);
	ri.bo_handle = b.bo_handle;
	CHECK_EQ(scen_ioctl(d, VIRGO_OP_RESOURCE_INFO, &ri), 0);
	CHECK_EQ(ri.blob_mem, VIRGO_BLOB_MEM_GUEST);
	CHECK_EQ(ri.res_handle, b.res_handle);
	CHECK_EQ(ri.size, 8192);
	p = scen_map(d, b.bo_handle, &size);
	CHECK_EQ(size, 8192);
	memset(p, 0x42, 8192);
	CHECK_EQ(p[8191], 0x42);
	/* A guest-only blob has no host storage to transfer to. */
	{
		struct virgo_transfer t = { .bo_handle = b.bo_handle, .box = { 0, 0, 0, 16, 1, 1 } };

		CHECK_EQ(scen_ioctl(d, VIRGO_OP_TRANSFER_TO_HOST, &t), -VIRGO_EINVAL);
	}
	scen_close_bo(d, b.bo_handle);
	scen_close(d);
}
