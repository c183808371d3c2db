/* SPDX-License-Identifier: MIT */
/*
 * test_core_objects.c: open handles and resources. Handle tables per open
 * handle, one lazily created context each, RESOURCE_CLOSE and close with
 * work in flight or mappings alive, and the final leak check: nothing left
 * in the machine or on the device.
 */
#include <string.h>

#include "test_core.h"

static unsigned count_cmds(struct rig *r, uint32_t type, uint32_t ctx_id, uint32_t res_id)
{
	unsigned n = 0;

	for (size_t i = 0; i < fake_dev_log_count(r->d); i++) {
		const struct fake_cmd *c = fake_dev_log(r->d, i);

		n += c->type == type && (!ctx_id || c->ctx_id == ctx_id) && (!res_id || c->resource_id == res_id);
	}
	return n;
}

TEST(handles_are_per_open_handle)
{
	struct rig r;
	struct core_file *f2;
	uint32_t a1, a2, b1, ra1, ra2, rb1;
	struct virgo_resource_info info;
	uint64_t fence;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(core_open(r.gpu, &f2), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &a1, &ra1), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &a2, &ra2), 0);
	REQUIRE_EQ(mk_buffer(&r, f2, 64, 0, &b1, &rb1), 0);
	/* Numbers are per handle; resource ids are device-wide. */
	CHECK_EQ(a1, 1);
	CHECK_EQ(b1, 1);
	CHECK_NE(rb1, ra1);
	CHECK_NE(rb1, ra2);
	info = (struct virgo_resource_info){ .bo_handle = b1 };
	CHECK_EQ(io_f(&r, f2, VIRGO_OP_RESOURCE_INFO, &info), 0);
	CHECK_EQ(info.res_handle, rb1);
	/* f2 cannot name f1's second resource in any request. */
	info = (struct virgo_resource_info){ .bo_handle = a2 };
	CHECK_EQ(io_f(&r, f2, VIRGO_OP_RESOURCE_INFO, &info), -VIRGO_ENOENT);
	CHECK_EQ(map_bo(&r, f2, a2, NULL, NULL), -VIRGO_ENOENT);
	CHECK_EQ(transfer(&r, f2, true, a2, 0, (struct virgo_box){ 0, 0, 0, 1, 1, 1 }, 0, NULL), -VIRGO_ENOENT);
	CHECK_EQ(wait_bo(&r, f2, a2, 0, 0), -VIRGO_ENOENT);
	CHECK_EQ(close_bo(&r, f2, a2), -VIRGO_ENOENT);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_UNREF), 0);
	/* f2's handle 1 is its own resource, used in its own context. */
	fake_dev_hold_fences(r.d, true, 0);
	CHECK_EQ(exec_words(&r, f2, 2, &b1, 1, &fence), 0);
	CHECK_EQ(wait_bo(&r, f2, b1, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	CHECK_EQ(wait_bo(&r, r.f, a1, VIRGO_WAIT_NOWAIT, 0), 0);
	/* f1 has no fence that high of its own. */
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), -VIRGO_EINVAL);
	fake_dev_hold_fences(r.d, false, 0);
	CHECK_EQ(fence_wait(&r, f2, fence, 0, 0), 0);
	rig_close(&r, f2);
	/* f1's resources survive f2's close. */
	CHECK(fake_dev_has_res(r.d, ra1));
	CHECK(!fake_dev_has_res(r.d, rb1));
	rig_down(&r);
}

TEST(exec_rejects_foreign_handle)
{
	struct rig r;
	struct core_file *f2;
	uint32_t mine, theirs, list[2];
	size_t mark;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(core_open(r.gpu, &f2), 0);
	REQUIRE_EQ(mk_buffer(&r, f2, 64, 0, &mine, NULL), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, NULL, NULL), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &theirs, NULL), 0);
	CHECK_EQ(theirs, 2);
	mark = fake_dev_log_count(r.d);
	list[0] = mine;
	list[1] = theirs;
	CHECK_EQ(exec_words(&r, f2, 2, list, 2, NULL), -VIRGO_ENOENT);
	CHECK_EQ(log_count_from(&r, mark, FAKE_CMD_ANY), 0);
	CHECK_EQ(wait_bo(&r, f2, mine, VIRGO_WAIT_NOWAIT, 0), 0);
	rig_close(&r, f2);
	rig_down(&r);
}

TEST(context_is_created_lazily_once_per_handle)
{
	struct rig r;
	struct core_file *f2, *f3;
	uint32_t h, h2, ctx1, ctx2;
	uint64_t fence;
	uint8_t caps[16];
	struct virgo_get_caps gc = { .cap_set_id = 1, .cap_set_ver = 1, .addr = (uint64_t)(uintptr_t)caps,
				     .size = sizeof(caps) };
	const struct fake_cmd *c;

	rig_up(&r, NULL, NULL);
	/* Requests that need no context create none. */
	CHECK_EQ(param(&r, VIRGO_PARAM_3D_FEATURES), 1);
	CHECK_EQ(io(&r, VIRGO_OP_GET_CAPS, &gc), 0);
	CHECK_EQ(fake_dev_log_count(r.d), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_CTX_CREATE), 1);
	c = fake_dev_log(r.d, 0);
	REQUIRE(c);
	CHECK_EQ(c->type, VIRTIO_GPU_CMD_CTX_CREATE);
	ctx1 = c->ctx_id;
	CHECK(fake_dev_has_ctx(r.d, ctx1));
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, NULL, NULL), 0);
	CHECK_EQ(exec_words(&r, r.f, 2, &h, 1, &fence), 0);
	CHECK_EQ(transfer(&r, r.f, true, h, 0, (struct virgo_box){ 0, 0, 0, 16, 1, 1 }, 0, NULL), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_CTX_CREATE), 1);
	/* Everything went to this handle's context. */
	CHECK_EQ(count_cmds(&r, VIRTIO_GPU_CMD_SUBMIT_3D, ctx1, 0), 1);
	CHECK_EQ(count_cmds(&r, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, ctx1, 0), 1);
	CHECK_EQ(count_cmds(&r, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, ctx1, 0), 2);
	/* A second handle, a second context. */
	REQUIRE_EQ(core_open(r.gpu, &f2), 0);
	CHECK_EQ(exec_words(&r, f2, 2, NULL, 0, NULL), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_CTX_CREATE), 2);
	ctx2 = fake_dev_log_last(r.d, VIRTIO_GPU_CMD_CTX_CREATE)->ctx_id;
	CHECK_NE(ctx2, ctx1);
	CHECK_EQ(count_cmds(&r, VIRTIO_GPU_CMD_SUBMIT_3D, ctx2, 0), 1);
	REQUIRE_EQ(mk_buffer(&r, f2, 64, 0, &h2, NULL), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_CTX_CREATE), 2);
	/* Its close destroys its context only. */
	rig_close(&r, f2);
	CHECK_EQ(count_cmds(&r, VIRTIO_GPU_CMD_CTX_DESTROY, ctx2, 0), 1);
	CHECK(!fake_dev_has_ctx(r.d, ctx2));
	CHECK(fake_dev_has_ctx(r.d, ctx1));
	/* A handle that never needed a context closes without a word. */
	REQUIRE_EQ(core_open(r.gpu, &f3), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_HANDLES), 2);
	rig_close(&r, f3);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_CTX_DESTROY), 1);
	rig_down(&r);
}

TEST(resource_close_unrefs_on_the_device)
{
	struct rig r;
	uint32_t h, keep, res;
	uint64_t pages_live;
	const struct fake_cmd *c;
	size_t mark;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &keep, NULL), 0);
	pages_live = fake_stats(r.os)->pages.live;
	REQUIRE_EQ(mk_buffer(&r, r.f, 8192, 8192, &h, &res), 0);
	CHECK_EQ(fake_stats(r.os)->pages.live, pages_live + 1);
	CHECK_EQ(fake_dev_stats(r.d)->backings, 2);
	mark = fake_dev_log_count(r.d);
	CHECK_EQ(close_bo(&r, r.f, h), 0);
	/* Detached from the context, then unreferenced (which drops the
	 * backing); then the pages are freed. */
	REQUIRE_EQ(log_count_from(&r, mark, FAKE_CMD_ANY), 2);
	c = fake_dev_log(r.d, mark);
	CHECK_EQ(c->type, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE);
	CHECK_EQ(c->resource_id, res);
	c = fake_dev_log(r.d, mark + 1);
	CHECK_EQ(c->type, VIRTIO_GPU_CMD_RESOURCE_UNREF);
	CHECK_EQ(c->resource_id, res);
	CHECK_EQ(c->resp_type, VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(!fake_dev_has_res(r.d, res));
	CHECK_EQ(fake_dev_stats(r.d)->backings, 1);
	CHECK_EQ(fake_stats(r.os)->pages.live, pages_live);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 1);
	rig_down(&r);
}

TEST(handle_table_grows_and_never_hands_out_a_live_number)
{
	static bool live[1024];
	struct rig r;
	uint32_t h[150];

	memset(live, 0, sizeof(live));
	rig_up(&r, NULL, NULL);
	for (uint32_t i = 0; i < 150; i++) {
		REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &h[i], NULL), 0);
		CHECK_EQ(h[i], i + 1);
		live[h[i]] = true;
	}
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 150);
	for (uint32_t i = 0; i < 150; i += 2) {
		CHECK_EQ(close_bo(&r, r.f, h[i]), 0);
		live[h[i]] = false;
	}
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 75);
	/* Enough new ones to fill the table (256 slots) and wrap into the
	 * freed numbers. */
	for (uint32_t i = 0; i < 181; i++) {
		uint32_t n;

		REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &n, NULL), 0);
		REQUIRE(n >= 1 && n < 1024);
		CHECK(!live[n]);
		live[n] = true;
	}
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 256);
	CHECK_EQ(fake_dev_stats(r.d)->resources, 256);
	rig_down(&r);
}

TEST(close_with_busy_resources_frees_everything_after_the_device_answers)
{
	struct rig r;
	struct gpu_stats gs;
	uint32_t h[2];
	uint64_t fence, frames;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h[0], NULL), 0);
	REQUIRE_EQ(mk_tex2d(&r, r.f, 16, 16, &h[1], NULL), 0);
	fake_dev_hold_fences(r.d, true, 0);
	CHECK_EQ(exec_words(&r, r.f, 2000, h, 2, &fence), 0);
	CHECK_EQ(transfer(&r, r.f, false, h[1], 0, (struct virgo_box){ 0, 0, 0, 16, 16, 1 }, 0, NULL), 0);
	CHECK_EQ(wait_bo(&r, r.f, h[0], VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	/* The close does not wait for the held fences. */
	rig_close(&r, r.f);
	r.f = NULL;
	gpu_get_stats(r.gpu, &gs);
	CHECK_EQ(gs.files, 0);
	CHECK_EQ(gs.resources, 0);
	CHECK_EQ(gs.reqs_in_flight, 2);
	CHECK_EQ(fake_dev_stats(r.d)->resources, 0);
	CHECK_EQ(fake_dev_stats(r.d)->ctxs, 0);
	frames = fake_stats(r.os)->ram_frames; /* with the stream's, still the device's */
	/* The answers come; the buffers go at the next reap. */
	CHECK_EQ(fake_dev_complete_fences(r.d, ~0ull), 2);
	fake_run(r.os);
	gpu_get_stats(r.gpu, &gs);
	CHECK_EQ(gs.reqs_in_flight, 0);
	CHECK_EQ(gs.fence_completed, gs.fence_issued);
	REQUIRE_EQ(core_open(r.gpu, &r.f), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 0);
	/* Reaped: its pages went back to the request pool, none more taken. */
	CHECK(fake_stats(r.os)->ram_frames <= frames);
	rig_down(&r);
}

TEST(close_with_mappings_unmaps_at_cleanup)
{
	struct rig r;
	uint32_t h[3];
	uint8_t *p;

	rig_up(&r, NULL, NULL);
	for (int i = 0; i < 3; i++) {
		REQUIRE_EQ(mk_buffer(&r, r.f, 8192, 8192, &h[i], NULL), 0);
		REQUIRE_EQ(map_bo(&r, r.f, h[i], &p, NULL), 0);
		p[0] = (uint8_t)i;
	}
	CHECK_EQ(fake_caller_maps(r.c), 3);
	CHECK_EQ(fake_stats(r.os)->user_map.live, 3);
	/* RESOURCE_CLOSE of a mapped resource unmaps it. */
	CHECK_EQ(close_bo(&r, r.f, h[0]), 0);
	CHECK_EQ(fake_caller_maps(r.c), 2);
	/* Cleanup (in the owning process) unmaps the rest... */
	core_cleanup(r.f, r.c);
	CHECK_EQ(fake_caller_maps(r.c), 0);
	CHECK_EQ(fake_stats(r.os)->user_map.live, 0);
	/* ...and the close frees the resources. */
	core_close(r.f);
	r.f = NULL;
	CHECK_EQ(fake_dev_stats(r.d)->resources, 0);
	rig_down(&r);
}

TEST(close_after_device_lost_keeps_pages_until_the_reset)
{
	struct rig r;
	uint32_t h;
	size_t mark;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 8192, 8192, &h, NULL), 0);
	REQUIRE_EQ(mk_tex2d(&r, r.f, 32, 32, NULL, NULL), 0);
	fake_dev_set_needs_reset(r.d);
	fake_run(r.os);
	REQUIRE(gpu_is_lost(r.gpu));
	mark = fake_dev_log_count(r.d);
	rig_close(&r, r.f);
	r.f = NULL;
	/* Nothing sent to a lost device; its backing is not freed under it. */
	CHECK_EQ(log_count_from(&r, mark, FAKE_CMD_ANY), 0);
	CHECK_EQ(fake_stats(r.os)->pages.live, 2);
	REQUIRE_EQ(gpu_reset(r.gpu), 0);
	CHECK_EQ(fake_stats(r.os)->pages.live, 0);
	rig_down(&r);
}

TEST(leak_check_after_all_handles_and_gpu_fini)
{
	struct fake_config c;
	struct rig r;
	struct core_file *f[4];
	struct os_caller *callers[4];
	const struct fake_dev_stats *st;
	uint8_t *p;

	fake_config_init(&c);
	c.features = FEAT_ALL;
	rig_up(&r, &c, NULL);
	st = fake_dev_stats(r.d);
	for (int i = 0; i < 4; i++) {
		struct virgo_resource_create_blob b = { .blob_mem = VIRGO_BLOB_MEM_GUEST,
							.blob_flags = VIRGO_BLOB_FLAG_USE_MAPPABLE, .size = 8192 };
		struct virgo_resource_create_blob hb = { .blob_mem = VIRGO_BLOB_MEM_HOST3D, .size = 4096 };
		uint32_t h;

		callers[i] = fake_caller_new(r.os);
		REQUIRE(callers[i]);
		REQUIRE_EQ(core_open(r.gpu, &f[i]), 0);
		REQUIRE_EQ(core_ioctl(f[i], callers[i], VIRGO_OP_RESOURCE_CREATE_BLOB, &b, sizeof(b)), 0);
		REQUIRE_EQ(core_ioctl(f[i], callers[i], VIRGO_OP_RESOURCE_CREATE_BLOB, &hb, sizeof(hb)), 0);
		REQUIRE_EQ(mk_tex2d(&r, f[i], 16, 16, &h, NULL), 0);
		REQUIRE_EQ(exec_words(&r, f[i], 100, &h, 1, NULL), 0);
		REQUIRE_EQ(core_ioctl(f[i], callers[i], VIRGO_OP_MAP,
				      &(struct virgo_map){ .bo_handle = b.bo_handle }, sizeof(struct virgo_map)), 0);
	}
	REQUIRE_EQ(map_bo(&r, r.f, 0, &p, NULL), -VIRGO_ENOENT);
	CHECK_EQ(st->ctxs, 4);
	CHECK_EQ(st->resources, 12);
	CHECK_EQ(st->backings, 8);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_HANDLES), 5);
	for (int i = 0; i < 4; i++) {
		core_cleanup(f[i], callers[i]);
		core_close(f[i]);
		fake_caller_free(callers[i]);
	}
	core_cleanup(r.f, r.c);
	core_close(r.f);
	r.f = NULL;
	fake_caller_free(r.c);
	r.c = NULL;
	CHECK_EQ(st->ctxs, 0);
	CHECK_EQ(st->resources, 0);
	CHECK_EQ(st->backings, 0);
	CHECK_EQ(st->ctx_attachments, 0);
	fake_gpu_fini(r.os, r.gpu);
	/* The final reset found nothing left to drop. */
	CHECK_EQ(st->reset_ctxs, 0);
	CHECK_EQ(st->reset_resources, 0);
	CHECK_EQ(fake_leaks(r.os), 0);
	CHECK_EQ(fake_stats(r.os)->ram_frames, 0);
	CHECK_EQ(fake_stats(r.os)->violations, 0);
	CHECK_EQ(fake_machine_free(r.os), 0);
}
