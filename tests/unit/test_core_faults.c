/* SPDX-License-Identifier: MIT */
/*
 * test_core_faults.c: the core under failure. A full scenario (open,
 * create, map, execbuffer, transfer, wait, close) with an allocation
 * failing at every step k, with every allocation from k on failing, and
 * with a user copy failing at every step; and ERR answers scripted for each
 * command type, each of which must come back as the right error with
 * nothing left behind.
 */
#include <string.h>

#include "test_core.h"

#define U64(p) ((uint64_t)(uintptr_t)(p))

/* ---- the scenario ---------------------------------------------------------------- */

/* Runs the scenario on a new handle of r; returns the first error (and
 * which step gave it) or 0. The handle is always closed at the end, as the
 * OS closes it when the process goes. */
static int scenario(struct rig *r, int *step)
{
	static uint32_t big[3000];
	uint32_t words[4] = { 0xa1, 0xa2, 0xa3, 0xa4 }, hb = 0, ht = 0, list[2];
	uint8_t caps[64], *map = NULL;
	uint64_t fence = 0, size = 0;
	struct core_file *f = NULL;
	struct virgo_get_caps gc = { .cap_set_id = 2, .cap_set_ver = 2, .addr = U64(caps), .size = sizeof(caps) };
	struct virgo_unmap um;
	int ret = 0;

	*step = 0;
#define STEP(expr)                          \
	do {                                \
		++*step;                    \
		ret = (expr);               \
		if (ret)                    \
			goto out;           \
	} while (0)
	STEP(core_open(r->gpu, &f));
	STEP(io_f(r, f, VIRGO_OP_GET_CAPS, &gc));
	STEP(mk_buffer(r, f, 16384, 16384, &hb, NULL));
	STEP(map_bo(r, f, hb, &map, &size));
	memset(map, 0x3c, (size_t)size);
	STEP(mk_tex2d(r, f, 16, 16, &ht, NULL));
	list[0] = hb;
	list[1] = ht;
	STEP(exec(r, f, words, sizeof(words), list, 2, &fence));
	STEP(exec(r, f, big, sizeof(big), &hb, 1, NULL)); /* extra pages, a long chain */
	STEP(transfer(r, f, true, hb, 0, (struct virgo_box){ 0, 0, 0, 16384, 1, 1 }, 0, NULL));
	STEP(wait_bo(r, f, hb, 0, SEC));
	STEP(fence_wait(r, f, fence, 0, SEC));
	STEP(transfer(r, f, false, ht, 0, (struct virgo_box){ 0, 0, 0, 16, 16, 1 }, 0, &fence));
	STEP(fence_wait(r, f, fence, 0, SEC));
	um = (struct virgo_unmap){ .bo_handle = hb };
	STEP(io_f(r, f, VIRGO_OP_UNMAP, &um));
	STEP(map_bo(r, f, hb, &map, NULL));
	STEP(close_bo(r, f, ht));
#undef STEP
out:
	if (f) {
		core_cleanup(f, r->c);
		core_close(f);
	}
	return ret;
}

/* After a scenario: nothing live on the device or in the machine. */
static void check_clean(struct rig *r, unsigned k, int ret, int step, int allowed)
{
	const struct fake_dev_stats *st = fake_dev_stats(r->d);

	if (ret && ret != allowed)
		t_fail(__FILE__, __LINE__, "k=%u: step %d returned %d, not %d", k, step, ret, allowed);
	fake_run(r->os);
	if (st->ctxs || st->resources || st->backings)
		t_fail(__FILE__, __LINE__, "k=%u (step %d, %d): the device still has %u contexts, %u resources", k,
		       step, ret, st->ctxs, st->resources);
	if (fake_caller_maps(r->c))
		t_fail(__FILE__, __LINE__, "k=%u: %u mappings left", k, fake_caller_maps(r->c));
	CHECK(!gpu_is_lost(r->gpu));
	fake_caller_free(r->c);
	fake_gpu_fini(r->os, r->gpu);
	if (fake_stats(r->os)->violations)
		t_fail(__FILE__, __LINE__, "k=%u: %llu violations", k,
		       (unsigned long long)fake_stats(r->os)->violations);
	if (fake_machine_free(r->os))
		t_fail(__FILE__, __LINE__, "k=%u: leaks after the scenario", k);
}

static void rig_for_faults(struct rig *r)
{
	struct fake_config c;

	fake_config_init(&c);
	c.ram_size = 8u << 20;
	c.hold_fences = true;
	c.fence_delay_ns = 1 * MS;
	rig_up(r, &c, NULL);
	/* The scenario opens its own handle. */
	rig_close(r, r->f);
	r->f = NULL;
}

TEST(faults_scenario_runs_clean_without_faults)
{
	struct rig r;
	int step, ret;

	rig_for_faults(&r);
	ret = scenario(&r, &step);
	CHECK_EQ(ret, 0);
	CHECK_EQ(step, 15);
	check_clean(&r, 0, ret, step, 0);
}

TEST(faults_alloc_failure_at_every_step_of_a_scenario)
{
	unsigned k, failed_runs = 0;

	for (k = 1; k < 2000 && !t_failed(); k++) {
		struct rig r;
		int step, ret;

		rig_for_faults(&r);
		fake_fail_alloc(r.os, k);
		ret = scenario(&r, &step);
		fake_fail_alloc(r.os, 0);
		if (!fake_stats(r.os)->alloc_injected) {
			CHECK_EQ(ret, 0);
			check_clean(&r, k, ret, step, 0);
			break;
		}
		failed_runs += ret != 0;
		check_clean(&r, k, ret, step, -VIRGO_ENOMEM);
	}
	CHECK(k < 2000);
	CHECK(failed_runs >= 10);
}

/* Every allocation from the k-th on fails, teardown included: the close must
 * still reach the device (the request cache is empty while fenced work is
 * held, so its CTX_DETACH/UNREF/CTX_DESTROY need memory of their own). */
TEST(faults_alloc_failure_from_every_step_on)
{
	unsigned k;

	for (k = 1; k < 2000 && !t_failed(); k++) {
		struct rig r;
		int step, ret;

		rig_for_faults(&r);
		fake_fail_alloc_from(r.os, k);
		ret = scenario(&r, &step);
		fake_fail_alloc(r.os, 0);
		if (!fake_stats(r.os)->alloc_injected) {
			CHECK_EQ(ret, 0);
			check_clean(&r, k, ret, step, 0);
			break;
		}
		check_clean(&r, k, ret, step, -VIRGO_ENOMEM);
	}
	CHECK(k < 2000);
}

TEST(faults_user_copy_failure_at_every_step_of_a_scenario)
{
	unsigned k, failed_runs = 0;

	for (k = 1; k < 2000 && !t_failed(); k++) {
		struct rig r;
		int step, ret;

		rig_for_faults(&r);
		fake_fail_copy(r.os, k);
		ret = scenario(&r, &step);
		fake_fail_copy(r.os, 0);
		if (!fake_stats(r.os)->copy_faults) {
			CHECK_EQ(ret, 0);
			check_clean(&r, k, ret, step, 0);
			break;
		}
		failed_runs++;
		CHECK_EQ(ret, -VIRGO_EFAULT);
		check_clean(&r, k, ret, step, -VIRGO_EFAULT);
	}
	CHECK(k < 2000);
	CHECK(failed_runs >= 4);
}

/* ---- ERR answers ------------------------------------------------------------------- */

/* A fresh handle with one buffer (handle 1) and its context. */
static void err_rig(struct rig *r, uint64_t features)
{
	rig_up_features(r, features);
	REQUIRE_EQ(mk_buffer(r, r->f, 4096, 4096, NULL, NULL), 0);
	fake_dev_log_clear(r->d);
}

TEST(err_answers_to_resource_creation_fail_it_and_leave_nothing)
{
	static const struct { uint32_t cmd, resp; int want; unsigned unrefs; } cases[] = {
		{ VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, -VIRGO_EINVAL, 0 },
		{ VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, -VIRGO_ENOMEM, 0 },
		{ VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, VIRTIO_GPU_RESP_ERR_UNSPEC, -VIRGO_EIO, 0 },
		{ VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, VIRTIO_GPU_RESP_OK_DISPLAY_INFO, -VIRGO_EPROTO, 0 },
		{ VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, VIRTIO_GPU_RESP_ERR_UNSPEC, -VIRGO_EIO, 1 },
		{ VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, -VIRGO_EINVAL, 1 },
		{ VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, -VIRGO_EINVAL, 1 },
		{ VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 0x12ff, -VIRGO_EPROTO, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rig r;

		err_rig(&r, FEAT_DEFAULT);
		fake_dev_script_err(r.d, cases[i].cmd, cases[i].resp, 1);
		CHECK_EQ(mk_tex2d(&r, r.f, 16, 16, NULL, NULL), cases[i].want);
		CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_UNREF), cases[i].unrefs);
		CHECK_EQ(fake_dev_stats(r.d)->resources, 1);
		CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 1);
		/* The next one works. */
		CHECK_EQ(mk_tex2d(&r, r.f, 16, 16, NULL, NULL), 0);
		rig_down(&r);
	}
}

TEST(err_answer_to_ctx_create_fails_the_first_request_and_retries_later)
{
	struct rig r;
	uint32_t h;
	uint64_t fence;

	rig_up(&r, NULL, NULL);
	fake_dev_script_err(r.d, VIRTIO_GPU_CMD_CTX_CREATE, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, 1);
	CHECK_EQ(mk_buffer(&r, r.f, 64, 0, NULL, NULL), -VIRGO_ENOMEM);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_CREATE_3D), 0);
	fake_dev_script_err(r.d, VIRTIO_GPU_CMD_CTX_CREATE, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, 1);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, NULL), -VIRGO_EINVAL);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_SUBMIT_3D), 0);
	CHECK_EQ(mk_buffer(&r, r.f, 64, 0, &h, NULL), 0);
	CHECK_EQ(exec_words(&r, r.f, 2, &h, 1, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_CTX_CREATE), 3);
	rig_down(&r);
}

TEST(err_answer_to_context_init_fails_it_and_allows_a_retry)
{
	struct rig r;
	struct virgo_ctx_set_param p = { VIRGO_CTX_PARAM_NUM_RINGS, 2 };
	struct virgo_context_init a = { .num_params = 1, .ctx_set_params = U64(&p) };
	struct virgo_execbuffer eb;
	uint32_t w = 1;

	rig_up_features(&r, FEAT_ALL);
	fake_dev_script_err(r.d, VIRTIO_GPU_CMD_CTX_CREATE, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, 1);
	CHECK_EQ(io(&r, VIRGO_OP_CONTEXT_INIT, &a), -VIRGO_EINVAL);
	/* The failed init asked for rings it did not get. */
	eb = (struct virgo_execbuffer){ .flags = VIRGO_EXEC_RING_IDX, .size = 4, .command = U64(&w), .ring_idx = 1 };
	CHECK_EQ(io(&r, VIRGO_OP_EXECBUFFER, &eb), -VIRGO_EINVAL);
	CHECK_EQ(io(&r, VIRGO_OP_CONTEXT_INIT, &a), 0);
	CHECK_EQ(io(&r, VIRGO_OP_EXECBUFFER, &eb), 0);
	rig_down(&r);
}

TEST(err_answer_to_blob_creation_fails_it_and_leaves_nothing)
{
	static const uint32_t mems[] = { VIRGO_BLOB_MEM_GUEST, VIRGO_BLOB_MEM_HOST3D, VIRGO_BLOB_MEM_HOST3D_GUEST };

	for (size_t i = 0; i < 3; i++) {
		struct rig r;
		struct virgo_resource_create_blob b = { .blob_mem = mems[i], .size = 8192 };
		uint64_t pages = 0;

		err_rig(&r, FEAT_ALL);
		pages = fake_stats(r.os)->pages.live;
		fake_dev_script_err(r.d, VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, 1);
		CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &b), -VIRGO_ENOMEM);
		CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_UNREF), 0);
		CHECK_EQ(fake_stats(r.os)->pages.live, pages);
		fake_dev_script_err(r.d, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, VIRTIO_GPU_RESP_ERR_UNSPEC, 1);
		CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &b), -VIRGO_EIO);
		CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_UNREF), 1);
		CHECK_EQ(fake_stats(r.os)->pages.live, pages);
		CHECK_EQ(fake_dev_stats(r.d)->resources, 1);
		rig_down(&r);
	}
}

TEST(err_answers_to_fenced_work_surface_at_fence_wait)
{
	static const uint32_t resps[] = { VIRTIO_GPU_RESP_ERR_UNSPEC, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
					  VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
					  VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
					  VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER };
	static const uint32_t cmds[] = { VIRTIO_GPU_CMD_SUBMIT_3D, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
					 VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D };
	struct rig r;

	err_rig(&r, FEAT_DEFAULT);
	for (size_t c = 0; c < 3; c++) {
		for (size_t i = 0; i < sizeof(resps) / sizeof(resps[0]); i++) {
			uint64_t fence, after;
			int ret;

			fake_dev_script_err(r.d, cmds[c], resps[i], 1);
			if (cmds[c] == VIRTIO_GPU_CMD_SUBMIT_3D)
				ret = exec_words(&r, r.f, 2, NULL, 0, &fence);
			else
				ret = transfer(&r, r.f, cmds[c] == VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1, 0,
					       (struct virgo_box){ 0, 0, 0, 64, 1, 1 }, 0, &fence);
			/* Accepted: the device's verdict comes with the fence. */
			CHECK_EQ(ret, 0);
			CHECK_EQ(fake_dev_log_last(r.d, cmds[c])->resp_type, resps[i]);
			CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &after), 0);
			CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), -VIRGO_EIO);
			CHECK_EQ(fence_wait(&r, r.f, after, 0, 0), 0);
			CHECK_EQ(wait_bo(&r, r.f, 1, 0, 0), 0);
		}
	}
	CHECK(!gpu_is_lost(r.gpu));
	rig_down(&r);
}

TEST(err_answers_to_teardown_commands_still_free_the_handle)
{
	static const uint32_t cmds[] = { VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, VIRTIO_GPU_CMD_CTX_DESTROY };

	for (size_t i = 0; i < 2; i++) {
		struct rig r;
		uint32_t h;

		rig_up(&r, NULL, NULL);
		REQUIRE_EQ(mk_buffer(&r, r.f, 8192, 8192, &h, NULL), 0);
		fake_dev_script_err(r.d, cmds[i], VIRTIO_GPU_RESP_ERR_UNSPEC, FAKE_FOREVER);
		rig_close(&r, r.f);
		r.f = NULL;
		CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_UNREF), 1);
		CHECK_EQ(fake_dev_stats(r.d)->resources, 0);
		fake_dev_script_clear(r.d);
		/* A context the device refused to destroy is the device's
		 * problem; the next reset takes it. */
		if (cmds[i] == VIRTIO_GPU_CMD_CTX_DESTROY) {
			CHECK_EQ(fake_dev_stats(r.d)->ctxs, 1);
			REQUIRE_EQ(gpu_reset(r.gpu), 0);
		}
		REQUIRE_EQ(core_open(r.gpu, &r.f), 0);
		CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 0);
		rig_down(&r);
	}
}

/* RESOURCE_UNREF answered with an error: the device may still have the
 * backing attached (the fake keeps it: an ERR answer has no effect), so the
 * pages must not go back to the allocator while it does (a violation). */
TEST(unref_err_does_not_free_pages_the_device_holds)
{
	struct rig r;
	uint32_t h, res;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 8192, 8192, &h, &res), 0);
	fake_dev_script_err(r.d, VIRTIO_GPU_CMD_RESOURCE_UNREF, VIRTIO_GPU_RESP_ERR_UNSPEC, 1);
	CHECK_EQ(close_bo(&r, r.f, h), 0);
	CHECK_EQ(fake_stats(r.os)->violations, 0);
	CHECK_EQ(fake_dev_res_backing(r.d, res), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 0);
	/* The device kept the resource itself: its problem, gone at reset. */
	rig_close(&r, r.f);
	r.f = NULL;
	fake_caller_free(r.c);
	fake_gpu_fini(r.os, r.gpu);
	CHECK_EQ(fake_machine_free(r.os), 0);
}

/* A guest blob's pages cannot be detached from a resource the device kept:
 * they wait for the reset instead of going back to the allocator. */
TEST(unref_err_on_a_guest_blob_keeps_its_pages_until_the_reset)
{
	struct rig r;
	struct virgo_resource_create_blob b = { .blob_mem = VIRGO_BLOB_MEM_GUEST, .size = 16384 };
	uint64_t pages;

	rig_up_features(&r, FEAT_ALL);
	pages = fake_stats(r.os)->pages.live;
	REQUIRE_EQ(io(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &b), 0);
	fake_dev_script_err(r.d, VIRTIO_GPU_CMD_RESOURCE_UNREF, VIRTIO_GPU_RESP_ERR_UNSPEC, 1);
	CHECK_EQ(close_bo(&r, r.f, b.bo_handle), 0);
	CHECK_EQ(fake_dev_res_backing(r.d, b.res_handle), 16384);
	CHECK_EQ(fake_stats(r.os)->pages.live, pages + 1);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 0);
	REQUIRE_EQ(gpu_reset(r.gpu), 0);
	CHECK_EQ(fake_stats(r.os)->pages.live, pages);
	rig_close(&r, r.f);
	r.f = NULL;
	rig_down(&r);
}

/* No memory for the teardown requests themselves (the request cache is
 * empty because every cached request is on the queue): the close must
 * still tell the device, or the backing stays attached there under pages
 * the guest reuses, and the context and resource leak on the device. */
TEST(close_without_memory_for_teardown_still_reaches_the_device)
{
	struct fake_config c;
	struct rig r;
	uint32_t h;

	fake_config_init(&c);
	c.hold_fences = true;
	rig_up(&r, &c, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 8192, 8192, &h, NULL), 0);
	/* Enough held submits to take every cached request. */
	for (int i = 0; i < 8; i++)
		REQUIRE_EQ(exec_words(&r, r.f, 2, NULL, 0, NULL), 0);
	fake_fail_alloc_from(r.os, 1);
	CHECK_EQ(close_bo(&r, r.f, h), 0);
	CHECK_EQ(fake_dev_stats(r.d)->resources, 0);
	core_cleanup(r.f, r.c);
	core_close(r.f);
	r.f = NULL;
	fake_fail_alloc(r.os, 0);
	CHECK_EQ(fake_dev_stats(r.d)->ctxs, 0);
	fake_dev_hold_fences(r.d, false, 0);
	rig_down(&r);
}

/* Takes every cached request out of the core's cache by holding fenced
 * submits (the device answers them only when told). */
static void drain_request_cache(struct rig *r, int n)
{
	fake_dev_hold_fences(r->d, true, 0);
	for (int i = 0; i < n; i++)
		REQUIRE_EQ(exec_words(r, r->f, 2, NULL, 0, NULL), 0);
}

/* The teardown reserve must still be there after a reset that took it back
 * from the device: a request abandoned to a device that stopped answering is
 * reaped into the ordinary cache (cmd.c call_teardown sets dev->reserve to
 * NULL), and nothing makes a new reserve, so after gpu_reset a close under
 * memory pressure cannot tell the device any more. */
TEST(teardown_reserve_is_back_after_a_reset)
{
	struct gpu_params p = { .cmd_timeout_ns = 50 * MS };
	struct rig r;
	uint32_t h, g, k;

	rig_up(&r, NULL, &p);
	REQUIRE_EQ(mk_buffer(&r, r.f, 8192, 8192, &k, NULL), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 8192, 8192, &h, NULL), 0);
	drain_request_cache(&r, 8);
	/* Control: with the reserve, a close without memory reaches the device. */
	fake_fail_alloc_from(r.os, 1);
	CHECK_EQ(close_bo(&r, r.f, k), 0);
	fake_fail_alloc(r.os, 0);
	CHECK_EQ(fake_dev_stats(r.d)->resources, 1);
	/* The reserve is abandoned to a device that stops answering. */
	fake_dev_script(r.d, VIRTIO_GPU_CMD_RESOURCE_UNREF, FAKE_DROP, 1);
	fake_fail_alloc_from(r.os, 1);
	CHECK_EQ(close_bo(&r, r.f, h), 0);
	fake_fail_alloc(r.os, 0);
	REQUIRE(gpu_is_lost(r.gpu));
	REQUIRE_EQ(gpu_reset(r.gpu), 0);
	rig_close(&r, r.f);
	REQUIRE_EQ(core_open(r.gpu, &r.f), 0);
	fake_dev_hold_fences(r.d, false, 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 8192, 8192, &g, NULL), 0);
	/* Every request the reset gave back is cached now: take them all. */
	drain_request_cache(&r, 24);
	fake_fail_alloc_from(r.os, 1);
	CHECK_EQ(close_bo(&r, r.f, g), 0);
	fake_fail_alloc(r.os, 0);
	CHECK_EQ(fake_dev_stats(r.d)->resources, 0);
	fake_dev_hold_fences(r.d, false, 0);
	rig_down(&r);
}
