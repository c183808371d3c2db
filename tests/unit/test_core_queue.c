/* SPDX-License-Identifier: MIT */
/*
 * test_core_queue.c: the split virtqueues under the core: descriptor
 * chains (readable, then writable; command streams as extra descriptors),
 * back-pressure on a full queue, a device that stops answering, and buffers
 * reclaimed by a reset.
 */
#include <string.h>

#include "test_core.h"

/* Submits size bytes of a pattern (seeded) and checks that the device got
 * exactly them as the newest SUBMIT_3D. *extra tells whether the stream
 * went beyond the request page, as extra descriptors (payload chunks). */
static uint8_t pattern[VIRGO_MAX_EXEC_SIZE];

static void exec_pattern_arrives(struct rig *r, uint32_t size, uint32_t seed, bool *extra)
{
	uint8_t *buf = pattern;
	const uint8_t *data;
	const struct fake_cmd *cmd;
	uint64_t fence;
	size_t len;

	for (uint32_t i = 0; i < size; i++)
		buf[i] = (uint8_t)((i * 131u + seed) ^ (i >> 9));
	memset(buf, 0x5a, 4); /* never the fake's 0xdeadbeef */
	fake_dev_log_clear(r->d);
	CHECK_EQ(exec(r, r->f, buf, size, NULL, 0, &fence), 0);
	cmd = fake_dev_log_last(r->d, VIRTIO_GPU_CMD_SUBMIT_3D);
	REQUIRE(cmd);
	CHECK_EQ(cmd->resp_type, VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(cmd->data_len, size);
	data = fake_dev_submit_data(r->d, &len);
	CHECK_EQ(len, size);
	REQUIRE(data);
	CHECK_EQ(memcmp(data + cmd->data_off, buf, size), 0);
	CHECK_EQ(fence_wait(r, r->f, fence, 0, 0), 0);
	/* request + response are two; chunks come between */
	*extra = cmd->ndescs > 2;
}

TEST(queue_stream_inline_and_at_the_boundary_arrives_byte_exact)
{
	struct rig r;
	bool extra;

	rig_up(&r, NULL, NULL);
	/* One page holds the submit header, the stream and the response. */
	exec_pattern_arrives(&r, 4, 1, &extra);
	CHECK(!extra);
	exec_pattern_arrives(&r, 4032, 2, &extra);
	CHECK(!extra);
	exec_pattern_arrives(&r, 4036, 3, &extra);
	CHECK(extra);
	exec_pattern_arrives(&r, 16384 + 4, 4, &extra);
	CHECK(extra);
	CHECK_EQ(fake_dev_stats(r.d)->bad_chain, 0);
	CHECK_EQ(fake_dev_stats(r.d)->driver_errors, 0);
	rig_down(&r);
}

TEST(queue_large_stream_goes_as_extra_descriptors_byte_exact)
{
	struct rig r;
	bool extra;

	rig_up(&r, NULL, NULL);
	/* 200 KiB: several extra descriptors. */
	exec_pattern_arrives(&r, 200u << 10, 7, &extra);
	CHECK(extra);
	/* Mesa's flush size. */
	exec_pattern_arrives(&r, 256u << 10, 8, &extra);
	CHECK_EQ(fake_dev_stats(r.d)->bad_chain, 0);
	CHECK_EQ(fake_dev_stats(r.d)->short_resp, 0);
	rig_down(&r);
}

/* The uAPI accepts VIRGO_MAX_EXEC_SIZE: such a stream must fit the queue
 * (a 64-entry controlq here) however the guest's pages are scattered. */
TEST(exec_of_the_largest_size_fits_the_queue)
{
	struct rig r;
	bool extra;

	rig_up(&r, NULL, NULL);
	exec_pattern_arrives(&r, VIRGO_MAX_EXEC_SIZE, 9, &extra);
	CHECK(extra);
	CHECK_EQ(fake_dev_stats(r.d)->bad_chain, 0);
	rig_down(&r);
}

TEST(queue_tiny_queue_applies_back_pressure_and_drops_nothing)
{
	struct fake_config c;
	struct rig r;
	uint64_t fences[12], t0;
	uint32_t words[12][2];
	struct gpu_stats gs;
	const uint8_t *data;
	size_t len;
	uint32_t h;

	fake_config_init(&c);
	c.ctrlq_size = 4;
	c.hold_fences = true;
	c.fence_delay_ns = 1 * MS;
	rig_up(&r, &c, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	fake_dev_log_clear(r.d);
	t0 = os_time_ns(r.os);
	/* Two chains of two descriptors fill the queue: each further submit
	 * waits for the device to answer one. */
	for (uint32_t i = 0; i < 12; i++) {
		words[i][0] = 0x100 + i;
		words[i][1] = ~i;
		CHECK_EQ(exec(&r, r.f, words[i], 8, &h, 1, &fences[i]), 0);
		if (i)
			CHECK_EQ(fences[i], fences[i - 1] + 1);
	}
	CHECK(os_time_ns(r.os) >= t0 + 5 * MS);
	CHECK(fake_stats(r.os)->waits > 0);
	/* A synchronous command queues behind them as well. */
	CHECK_EQ(mk_buffer(&r, r.f, 4096, 4096, NULL, NULL), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_SUBMIT_3D), 12);
	data = fake_dev_submit_data(r.d, &len);
	REQUIRE_EQ(len, sizeof(words));
	CHECK_EQ(memcmp(data, words, sizeof(words)), 0);
	CHECK_EQ(fence_wait(&r, r.f, fences[11], 0, SEC), 0);
	CHECK_EQ(wait_bo(&r, r.f, h, 0, 0), 0);
	gpu_get_stats(r.gpu, &gs);
	CHECK_EQ(gs.reqs_in_flight, 0);
	CHECK_EQ(gs.fence_completed, gs.fence_issued);
	CHECK_EQ(fake_dev_stats(r.d)->fences_completed, 12);
	CHECK(!gpu_is_lost(r.gpu));
	rig_down(&r);
}

TEST(queue_chain_longer_than_the_queue_is_e2big)
{
	struct fake_config c;
	struct rig r;
	static uint32_t big[2048];
	size_t mark;

	fake_config_init(&c);
	c.ctrlq_size = 2;
	rig_up(&r, &c, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, NULL, NULL), 0);
	mark = fake_dev_log_count(r.d);
	/* A 2-entry queue holds a request and its response, nothing more:
	 * a stream beyond the request page can never be one chain there. */
	CHECK_EQ(exec(&r, r.f, big, sizeof(big), NULL, 0, NULL), -VIRGO_E2BIG);
	CHECK_EQ(log_count_from(&r, mark, FAKE_CMD_ANY), 0);
	CHECK(!gpu_is_lost(r.gpu));
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, NULL), 0);
	rig_down(&r);
}

TEST(queue_unanswered_command_times_out_as_devlost_in_virtual_time)
{
	struct gpu_params p = { .cmd_timeout_ns = 500 * MS };
	struct rig r;
	struct gpu_stats gs;
	uint64_t t0, fence;
	uint32_t h;

	rig_up(&r, NULL, &p);
	fake_dev_script(r.d, VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, FAKE_DROP, 1);
	t0 = os_time_ns(r.os);
	CHECK_EQ(mk_buffer(&r, r.f, 4096, 4096, NULL, NULL), -VIRGO_EDEVLOST);
	CHECK_EQ(os_time_ns(r.os) - t0, 500 * MS);
	CHECK(gpu_is_lost(r.gpu));
	CHECK_EQ(fake_dev_held(r.d), 1);
	gpu_get_stats(r.gpu, &gs);
	CHECK_EQ(gs.reqs_in_flight, 1);
	CHECK_EQ(gs.resources, 0);
	/* Lost: everything fails at once. */
	t0 = os_time_ns(r.os);
	CHECK_EQ(param_or_err(&r), -VIRGO_EDEVLOST);
	CHECK_EQ(mk_buffer(&r, r.f, 4096, 4096, NULL, NULL), -VIRGO_EDEVLOST);
	CHECK_EQ(os_time_ns(r.os), t0);
	/* The reset takes the buffer back; a new handle works. */
	REQUIRE_EQ(gpu_reset(r.gpu), 0);
	CHECK_EQ(fake_dev_held(r.d), 0);
	gpu_get_stats(r.gpu, &gs);
	CHECK_EQ(gs.reqs_in_flight, 0);
	rig_close(&r, r.f);
	REQUIRE_EQ(core_open(r.gpu, &r.f), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	CHECK_EQ(exec_words(&r, r.f, 2, &h, 1, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), 0);
	rig_down(&r);
}

TEST(queue_unanswered_teardown_command_leaves_pages_until_reset)
{
	struct gpu_params p = { .cmd_timeout_ns = 100 * MS };
	struct rig r;
	uint32_t h;

	rig_up(&r, NULL, &p);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4 * 4096, &h, NULL), 0);
	fake_dev_script(r.d, VIRTIO_GPU_CMD_RESOURCE_UNREF, FAKE_DROP, 1);
	/* The close cannot fail; the device still has the backing, so the
	 * pages are kept (a violation here otherwise) until the reset. */
	CHECK_EQ(close_bo(&r, r.f, h), 0);
	CHECK(gpu_is_lost(r.gpu));
	CHECK_EQ(fake_stats(r.os)->pages.live, 1);
	REQUIRE_EQ(gpu_reset(r.gpu), 0);
	CHECK_EQ(fake_stats(r.os)->pages.live, 0);
	rig_close(&r, r.f);
	r.f = NULL;
	rig_down(&r);
}

TEST(queue_dropped_fence_times_out_without_losing_the_device)
{
	struct rig r;
	uint64_t f1, f2, t0;

	rig_up(&r, NULL, NULL);
	fake_dev_script(r.d, VIRTIO_GPU_CMD_SUBMIT_3D, FAKE_DROP, 1);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f1), 0);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f2), 0);
	t0 = os_time_ns(r.os);
	CHECK_EQ(fence_wait(&r, r.f, f1, 0, 10 * MS), -VIRGO_ETIMEDOUT);
	CHECK_EQ(os_time_ns(r.os) - t0, 10 * MS);
	/* Fences signal in order: f2 was answered, but f1 was not. */
	CHECK_EQ(fence_wait(&r, r.f, f2, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	CHECK(!gpu_is_lost(r.gpu));
	CHECK_EQ(param(&r, VIRGO_PARAM_UAPI_VERSION), VIRGO_UAPI_VERSION);
	/* gpu_fini (in rig_down) takes the dropped buffer back. */
	rig_down(&r);
}

TEST(queue_full_of_unanswered_requests_loses_the_device)
{
	struct fake_config c;
	struct gpu_params p = { .cmd_timeout_ns = 200 * MS };
	struct rig r;
	uint64_t t0;

	fake_config_init(&c);
	c.ctrlq_size = 4;
	rig_up(&r, &c, &p);
	fake_dev_script(r.d, VIRTIO_GPU_CMD_SUBMIT_3D, FAKE_DROP, FAKE_FOREVER);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, NULL), 0);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, NULL), 0);
	t0 = os_time_ns(r.os);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, NULL), -VIRGO_EDEVLOST);
	CHECK_EQ(os_time_ns(r.os) - t0, 200 * MS);
	CHECK(gpu_is_lost(r.gpu));
	CHECK_EQ(fake_dev_held(r.d), 2);
	fake_dev_script_clear(r.d);
	rig_down(&r);
}

TEST(queue_fini_reclaims_every_buffer_the_device_holds)
{
	struct rig r;
	struct gpu_stats gs;
	uint32_t h;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	fake_dev_hold_fences(r.d, true, 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(exec_words(&r, r.f, 2, &h, 1, NULL), 0);
	CHECK_EQ(exec_words(&r, r.f, 3000, &h, 1, NULL), 0);  /* with extra pages */
	CHECK_EQ(transfer(&r, r.f, true, h, 0, (struct virgo_box){ 0, 0, 0, 64, 1, 1 }, 0, NULL), 0);
	fake_dev_script(r.d, VIRTIO_GPU_CMD_SUBMIT_3D, FAKE_DROP, 1);
	CHECK_EQ(exec_words(&r, r.f, 2, &h, 1, NULL), 0);
	gpu_get_stats(r.gpu, &gs);
	CHECK_EQ(gs.reqs_in_flight, 7);
	CHECK_EQ(fake_dev_held(r.d), 7);
	/* Closing the handle does not wait for them; gpu_fini gets every
	 * buffer back and rig_down finds no leak. */
	rig_down(&r);
}
