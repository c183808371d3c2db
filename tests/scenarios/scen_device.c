/* SPDX-License-Identifier: MIT */
/*
 * What only a real device shows, and must hold on every runner:
 *  - backings spread over many discontiguous runs of guest pages, read and
 *    written by the device through transfers whose rows cross the runs;
 *  - thousands of fenced batches in flight, through QEMU 7.2's 31-bit fence
 *    ids and its 10 ms fence poll (a runner that starts the core's fence
 *    numbers near 2^31 sees the wire id wrap here);
 *  - requests that are valid for the kernel driver but not for the host:
 *    the device answers them (an error at the fence, or QEMU 7.2's silent
 *    OK) and never hangs, and other handles do not notice;
 *  - a device reset with handles open and work in flight, and the device
 *    serving new handles afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scen.h"
#include "scene_triangle.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t pattern(uint32_t x, uint32_t y, uint32_t salt)
{
	uint32_t v = x * 0x9e3779b1u ^ (y + salt) * 0x85ebca77u;

	return v ^ (v >> 15);
}

static uint64_t transfer_box(struct scen_dev *d, uint32_t op, uint32_t bo, const struct virgo_box *box,
			     uint32_t stride, uint64_t offset)
{
	struct virgo_transfer t = { .bo_handle = bo, .stride = stride, .box = *box, .offset = offset };

	REQUIRE_EQ(scen_ioctl(d, op, &t), 0);
	return t.fence;
}

/* Clears the whole of a colour target to rgba in a sub-context of its own. */
static uint64_t clear_target(struct scen_dev *d, uint32_t bo, uint32_t res_id, uint32_t format, const float rgba[4])
{
	uint32_t s[64], cb = 1;
	struct venc e;

	venc_init(&e, s, 64);
	venc_create_sub_ctx(&e, 5);
	venc_set_sub_ctx(&e, 5);
	venc_create_surface(&e, 1, res_id, format, 0, 0, 0);
	venc_set_framebuffer_state(&e, 1, 0, &cb);
	venc_clear(&e, VENC_CLEAR_COLOR0, rgba, 1.0, 0);
	venc_set_sub_ctx(&e, 0);
	venc_destroy_sub_ctx(&e, 5);
	REQUIRE_EQ(e.err, 0);
	return scen_exec(d, s, venc_bytes(&e), &bo, 1);
}

/* A texture of 1000 x 5000 pixels: 20 MB of backing, rows of 4000 bytes that
 * straddle 4 KiB pages and every larger boundary at odd places. Both
 * directions, whole and partial boxes at an offset, each pixel checked. */
TEST(sg_large_texture_roundtrip)
{
	enum { W = 1000, H = 5000, STRIDE = W * 4 };
	static const float green[4] = { 0, 1, 0, 1 };
	const uint32_t green_px = 0xff00ff00u; /* B8G8R8A8 bytes 00 ff 00 ff */
	const struct virgo_box all = { 0, 0, 0, W, H, 1 }, part = { 123, 700, 0, 777, 3100, 1 },
			       up = { 611, 2900, 0, 389, 2000, 1 };
	struct scen_dev *d = scen_open();
	uint32_t id, bo = scen_create(d, 2, 1, VENC_BIND_RENDER_TARGET | VENC_BIND_SAMPLER_VIEW, W, H,
				      (uint32_t)W * H * 4, &id);
	uint64_t size, t0 = now_ns();
	uint32_t *px = scen_map(d, bo, &size), bad = 0, first_bad = 0;

	REQUIRE(size >= (uint64_t)W * H * 4);
	/* Up whole, down whole. */
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			px[y * W + x] = pattern(x, y, 1);
	CHECK_EQ(scen_fence_wait(d, transfer_box(d, VIRGO_OP_TRANSFER_TO_HOST, bo, &all, STRIDE, 0), 0), 0);
	memset(px, 0, (size_t)W * H * 4);
	CHECK_EQ(scen_fence_wait(d, transfer_box(d, VIRGO_OP_TRANSFER_FROM_HOST, bo, &all, STRIDE, 0), 0), 0);
	for (uint32_t i = 0; i < W * H; i++)
		if (px[i] != pattern(i % W, i / W, 1) && !bad++)
			first_bad = i;
	if (bad)
		t_fail(__FILE__, __LINE__, "whole read-back: %u pixels differ, first at (%u, %u)", bad, first_bad % W,
		       first_bad / W);
	/* A new pattern up for a box only, at its offset in the backing. */
	for (uint32_t y = up.y; y < up.y + up.h; y++)
		for (uint32_t x = up.x; x < up.x + up.w; x++)
			px[y * W + x] = pattern(x, y, 2);
	CHECK_EQ(scen_fence_wait(d, transfer_box(d, VIRGO_OP_TRANSFER_TO_HOST, bo, &up, STRIDE,
						 (uint64_t)up.y * STRIDE + up.x * 4),
				 0),
		 0);
	memset(px, 0, (size_t)W * H * 4);
	CHECK_EQ(scen_fence_wait(d, transfer_box(d, VIRGO_OP_TRANSFER_FROM_HOST, bo, &all, STRIDE, 0), 0), 0);
	bad = 0;
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			bool in = x >= up.x && x < up.x + up.w && y >= up.y && y < up.y + up.h;

			if (px[y * W + x] != pattern(x, y, in ? 2 : 1) && !bad++)
				first_bad = y * W + x;
		}
	if (bad)
		t_fail(__FILE__, __LINE__, "after a partial upload: %u pixels differ, first at (%u, %u)", bad,
		       first_bad % W, first_bad / W);
	/* Render, then read back a box only: the rest of the backing keeps
	 * what it had. */
	CHECK_EQ(scen_fence_wait(d, clear_target(d, bo, id, 1, green), 0), 0);
	CHECK_EQ(scen_fence_wait(d, transfer_box(d, VIRGO_OP_TRANSFER_FROM_HOST, bo, &part, STRIDE,
						 (uint64_t)part.y * STRIDE + part.x * 4),
				 0),
		 0);
	bad = 0;
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			bool in = x >= part.x && x < part.x + part.w && y >= part.y && y < part.y + part.h;
			bool up_in = x >= up.x && x < up.x + up.w && y >= up.y && y < up.y + up.h;
			uint32_t want = in ? green_px : pattern(x, y, up_in ? 2 : 1);

			if (px[y * W + x] != want && !bad++)
				first_bad = y * W + x;
		}
	if (bad)
		t_fail(__FILE__, __LINE__, "after a partial read-back: %u pixels differ, first at (%u, %u): %#x",
		       bad, first_bad % W, first_bad / W, px[first_bad]);
	printf("  %s: %u x %u texture (%llu KiB) up, down, partial both ways: %.0f ms\n", scen->name, W, H,
	       (unsigned long long)(size >> 10), (now_ns() - t0) / 1e6);
	scen_close_bo(d, bo);
	scen_close(d);
}

/* A buffer of 6 MiB + 12 bytes: byte ranges at odd offsets, up and down. */
TEST(sg_large_buffer_roundtrip)
{
	enum { N = (6 << 20) + 12 };
	struct scen_dev *d = scen_open();
	uint32_t bo = scen_create(d, 0, 64, VENC_BIND_VERTEX_BUFFER, N, 1, N, NULL);
	uint8_t *b = scen_map(d, bo, NULL), *want = malloc(N);
	const struct virgo_box all = { 0, 0, 0, N, 1, 1 }, mid = { 2097147, 0, 0, 2097169, 1, 1 };
	uint32_t bad = 0, first_bad = 0;

	REQUIRE(want != NULL);
	for (uint32_t i = 0; i < N; i++)
		want[i] = b[i] = (uint8_t)(pattern(i, i >> 12, 3) >> 8);
	CHECK_EQ(scen_fence_wait(d, transfer_box(d, VIRGO_OP_TRANSFER_TO_HOST, bo, &all, 0, 0), 0), 0);
	/* A middle range overwritten in the backing and sent up alone. */
	for (uint32_t i = mid.x; i < mid.x + mid.w; i++)
		want[i] = b[i] = (uint8_t)~want[i];
	CHECK_EQ(scen_fence_wait(d, transfer_box(d, VIRGO_OP_TRANSFER_TO_HOST, bo, &mid, 0, mid.x), 0), 0);
	memset(b, 0, N);
	CHECK_EQ(scen_fence_wait(d, transfer_box(d, VIRGO_OP_TRANSFER_FROM_HOST, bo, &all, 0, 0), 0), 0);
	for (uint32_t i = 0; i < N; i++)
		if (b[i] != want[i] && !bad++)
			first_bad = i;
	if (bad)
		t_fail(__FILE__, __LINE__, "%u bytes differ, first at %u", bad, first_bad);
	free(want);
	scen_close_bo(d, bo);
	scen_close(d);
}

/* Fenced batches as fast as they can be queued, then every fence checked.
 * QEMU 7.2 holds each fenced command until its 10 ms poll sees the fence,
 * so the queue fills and the driver must wait for space, never drop. When
 * the core's numbers are near a multiple of 2^31 - 1 (a runner's choice),
 * the batches cross QEMU's wire-id wrap, which the driver may take only
 * with nothing outstanding. */
TEST(fences_many_batches_across_the_wire_wrap)
{
	static const uint32_t nop[4] = { 0 };
	const uint64_t wrap = 0x7fffffffull; /* wire ids run 1 .. 2^31 - 1 */
	struct scen_dev *d = scen_open();
	uint64_t first = scen_exec(d, nop, sizeof(nop), NULL, 0), next_wrap, n, last = first, t0;
	uint64_t *f;
	bool crossed;

	next_wrap = ((first - 1) / wrap + 1) * wrap + 1; /* the first seq whose wire id is 1 again */
	n = next_wrap - first <= 20000 ? next_wrap - first + 500 : 3000;
	f = calloc(n, sizeof(*f));
	REQUIRE(f != NULL);
	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		f[i] = scen_exec(d, nop, sizeof(nop), NULL, 0);
		if (f[i] <= last) {
			t_fail(__FILE__, __LINE__, "fence %llu after %llu", (unsigned long long)f[i],
			       (unsigned long long)last);
			break;
		}
		last = f[i];
	}
	CHECK_EQ(scen_fence_wait(d, last, 0), 0);
	for (uint64_t i = 0; i < n; i++) {
		struct virgo_fence_wait w = { .fence = f[i], .flags = VIRGO_WAIT_NOWAIT };

		if (scen_ioctl(d, VIRGO_OP_FENCE_WAIT, &w)) {
			t_fail(__FILE__, __LINE__, "fence %llu not signalled after %llu", (unsigned long long)f[i],
			       (unsigned long long)last);
			break;
		}
	}
	crossed = (first - 1) / wrap != (last - 1) / wrap;
	printf("  %s: %llu fenced batches in %.0f ms (fences %llu..%llu, 31-bit wire wrap %s)\n", scen->name,
	       (unsigned long long)n, (now_ns() - t0) / 1e6, (unsigned long long)first, (unsigned long long)last,
	       crossed ? "crossed" : "not reached");
	/* The handle still renders exactly after all that. */
	{
		static uint8_t px[SCENE_RT_SIZE];
		char why[200];

		scen_render_triangle(d, px);
		if (scene_triangle_check(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
			t_fail(__FILE__, __LINE__, "after the batches: %s", why);
	}
	free(f);
	scen_close(d);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Measured, never asserted: how long a fence takes when the host has real
 * work to finish (clears of a 2048 x 2048 target). QEMU 7.2 looks at its
 * fences right after each queue kick and then every 10 ms: work that is not
 * done at the kick waits for the next tick. */
TEST(measure_fence_latency_of_gpu_work)
{
	enum { RUNS = 20 };
	static const float grey[4] = { 0.5f, 0.5f, 0.5f, 1 };
	struct scen_dev *d = scen_open();
	uint32_t id, rt = scen_create(d, 2, 1, VENC_BIND_RENDER_TARGET, 2048, 2048, 2048u * 2048u * 4u, &id);
	uint64_t lat[RUNS];

	for (int i = 0; i < RUNS; i++) {
		uint64_t t = now_ns();

		REQUIRE_EQ(scen_fence_wait(d, clear_target(d, rt, id, 1, grey), 0), 0);
		lat[i] = now_ns() - t;
	}
	qsort(lat, RUNS, sizeof(lat[0]), cmp_u64);
	printf("  %s: clear of 2048 x 2048 + FENCE_WAIT x%d: min %.2f ms, median %.2f ms, max %.2f ms\n", scen->name,
	       RUNS, lat[0] / 1e6, lat[RUNS / 2] / 1e6, lat[RUNS - 1] / 1e6);
	scen_close_bo(d, rt);
	scen_close(d);
}

static const char *answer(int ret)
{
	return ret == 0 ? "OK" : ret == -VIRGO_EIO ? "EIO (device error)" : ret == -VIRGO_EINVAL ? "EINVAL" : "other";
}

/* Requests the kernel driver lets through but the host cannot do. The
 * device answers each: an error response (virgo-host) or OK having done
 * nothing (QEMU 7.2 ignores virglrenderer's verdict on these); either way
 * nothing hangs and other handles are untouched. */
TEST(device_errors_are_answered)
{
	static uint8_t px[SCENE_RT_SIZE];
	struct scen_dev *bad = scen_open(), *good;
	static const uint32_t junk[8] = { 0xff | (7u << 16), 1, 2, 3, 4, 5, 6, 7 }; /* command 255, 7 dwords */
	static const uint32_t nops[4] = { 0 };
	char why[200];
	int r_stream, r_after, r_xfer, r_create;

	/* An unknown virgl command: the context is in error from here on. */
	r_stream = scen_fence_wait(bad, scen_exec(bad, junk, sizeof(junk), NULL, 0), 0);
	CHECK(r_stream == 0 || r_stream == -VIRGO_EIO);
	/* Then a valid stream: does the context still run? */
	r_after = scen_fence_wait(bad, scen_exec(bad, nops, sizeof(nops), NULL, 0), 0);
	CHECK(r_after == 0 || r_after == -VIRGO_EIO);
	/* A transfer whose rows run past the backing: only the host can tell
	 * (the kernel driver checks the offset, not the format's row size). */
	{
		uint32_t bo = scen_create(bad, 2, 1, VENC_BIND_RENDER_TARGET, 64, 64, 64 * 64 * 4, NULL);
		struct virgo_transfer t = { .bo_handle = bo, .box = { 0, 0, 0, 64, 64, 1 }, .offset = 8192 };

		r_xfer = scen_ioctl(bad, VIRGO_OP_TRANSFER_TO_HOST, &t);
		if (!r_xfer)
			r_xfer = scen_fence_wait(bad, t.fence, 0);
		CHECK(r_xfer == 0 || r_xfer == -VIRGO_EIO || r_xfer == -VIRGO_EINVAL);
		scen_close_bo(bad, bo);
	}
	/* A format number no host knows. */
	{
		struct virgo_resource_create rc = { .target = 2, .format = 1000, .bind = VENC_BIND_SAMPLER_VIEW,
						    .width = 16, .height = 16, .depth = 1, .array_size = 1,
						    .size = 16 * 16 * 4 };

		r_create = scen_ioctl(bad, VIRGO_OP_RESOURCE_CREATE, &rc);
		CHECK(r_create == 0 || r_create == -VIRGO_EINVAL || r_create == -VIRGO_EIO);
		if (!r_create) {
			struct virgo_transfer t = { .bo_handle = rc.bo_handle, .box = { 0, 0, 0, 16, 16, 1 } };
			int r;

			REQUIRE_EQ(scen_ioctl(bad, VIRGO_OP_TRANSFER_FROM_HOST, &t), 0);
			r = scen_fence_wait(bad, t.fence, 0);
			CHECK(r == 0 || r == -VIRGO_EIO);
			scen_close_bo(bad, rc.bo_handle);
		}
	}
	printf("  %s: bad stream %s, next stream %s, transfer past the backing %s, unknown format %s\n",
	       scen->name, answer(r_stream), answer(r_after), answer(r_xfer), answer(r_create));
	/* Another handle renders exactly. */
	good = scen_open();
	scen_render_triangle(good, px);
	if (scene_triangle_check(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
		t_fail(__FILE__, __LINE__, "a healthy handle after the bad one: %s", why);
	scen_close(good);
	scen_close(bad);
}

/* A device reset with a handle open and heavy work in flight: the handle is
 * lost (every request says so, closing it frees what it had), and the
 * device, re-initialised, serves new handles exactly as before. */
TEST(device_reset_and_reinit)
{
	static uint8_t px[SCENE_RT_SIZE];
	static const float red[4] = { 1, 0, 0, 1 };
	struct scen_dev *old, *d;
	uint32_t rt_id, rt;
	char why[200];
	int ret;

	if (!scen->reset) {
		t_skip("%s cannot reset its device", scen->name);
		return;
	}
	old = scen_open();
	rt = scen_create(old, 2, 1, VENC_BIND_RENDER_TARGET, 2048, 2048, 2048u * 2048u * 4u, &rt_id);
	for (int i = 0; i < 8; i++)
		clear_target(old, rt, rt_id, 1, red);
	scen_transfer(old, VIRGO_OP_TRANSFER_FROM_HOST, rt, 0, 0, 2048, 2048, 0);
	ret = scen->reset(scen);
	REQUIRE_EQ(ret, 0);
	{
		struct virgo_get_param p = { .param = VIRGO_PARAM_3D_FEATURES };

		CHECK_EQ(scen_ioctl(old, VIRGO_OP_GET_PARAM, &p), -VIRGO_EDEVLOST);
	}
	scen_close(old); /* with its resource: the reset already took it from the device */
	d = scen_open();
	CHECK_EQ(scen_param(d, VIRGO_PARAM_LIVE_RESOURCES), 0);
	CHECK_EQ(scen_param(d, VIRGO_PARAM_3D_FEATURES), 1);
	scen_render_triangle(d, px);
	if (scene_triangle_check(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
		t_fail(__FILE__, __LINE__, "after the reset: %s", why);
	if (scene_triangle_check_full(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
		t_fail(__FILE__, __LINE__, "after the reset (full): %s", why);
	scen_close(d);
}
