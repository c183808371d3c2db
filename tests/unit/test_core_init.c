/* SPDX-License-Identifier: MIT */
/*
 * test_core_init.c: bring-up of kmd/core on the fake machine: feature
 * negotiation, capsets, interrupt modes, DEVICE_NEEDS_RESET and gpu_reset,
 * and gpu_init failing cleanly (allocation failure at every step, a device
 * that errs or never answers).
 */
#include <string.h>

#include "test_core.h"

/* ---- negotiation ------------------------------------------------------------- */

TEST(init_without_version_1_is_enodev)
{
	struct fake_config c;
	struct os_dev *os;
	struct gpu_dev *gpu = (struct gpu_dev *)&c;

	fake_config_init(&c);
	c.features = FEAT(VIRTIO_GPU_F_VIRGL) | FEAT(VIRTIO_GPU_F_EDID);
	os = fake_machine_new(&c);
	REQUIRE(os);
	CHECK_EQ(fake_gpu_init(os, NULL, &gpu), -VIRGO_ENODEV);
	CHECK(!gpu);
	/* Nothing was sent, and the device was left reset. */
	CHECK_EQ(fake_dev_log_count(fake_dev_of(os)), 0);
	CHECK_EQ(fake_dev_stats(fake_dev_of(os))->status, 0);
	CHECK_EQ(fake_dev_stats(fake_dev_of(os))->driver_features, 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(init_takes_every_known_feature_offered)
{
	struct rig r;
	struct gpu_stats gs;

	rig_up_features(&r, FEAT_ALL);
	CHECK_EQ(fake_dev_stats(r.d)->driver_features, FEAT_ALL);
	gpu_get_stats(r.gpu, &gs);
	CHECK_EQ(gs.features, FEAT_ALL);
	CHECK_EQ(param(&r, VIRGO_PARAM_3D_FEATURES), 1);
	CHECK_EQ(param(&r, VIRGO_PARAM_RESOURCE_BLOB), 1);
	CHECK_EQ(param(&r, VIRGO_PARAM_CONTEXT_INIT), 1);
	CHECK_EQ(param(&r, VIRGO_PARAM_CAPSET_QUERY_FIX), 1);
	CHECK_EQ(param(&r, VIRGO_PARAM_SUPPORTED_CAPSET_IDS), (1u << VIRTIO_GPU_CAPSET_VIRGL) |
								 (1u << VIRTIO_GPU_CAPSET_VIRGL2));
	CHECK_EQ(param(&r, VIRGO_PARAM_HOST_VISIBLE), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_CROSS_DEVICE), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_UAPI_VERSION), VIRGO_UAPI_VERSION);
	CHECK_EQ(param(&r, VIRGO_PARAM_MAX_EXEC_SIZE), VIRGO_MAX_EXEC_SIZE);
	CHECK_EQ(param(&r, VIRGO_PARAM_NUM_SCANOUTS), 1);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_HANDLES), 1);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 0);
	CHECK_EQ(fake_dev_stats(r.d)->status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	rig_down(&r);
}

TEST(init_qemu_features_take_virgl_and_edid_only)
{
	struct rig r;

	rig_up_features(&r, FEAT_DEFAULT);
	CHECK_EQ(fake_dev_stats(r.d)->driver_features, FEAT_DEFAULT);
	CHECK_EQ(param(&r, VIRGO_PARAM_3D_FEATURES), 1);
	CHECK_EQ(param(&r, VIRGO_PARAM_RESOURCE_BLOB), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_CONTEXT_INIT), 0);
	rig_down(&r);
}

TEST(init_version_1_only_takes_nothing_else_and_has_no_3d)
{
	struct rig r;
	struct virgo_resource_create rc = rc_default(TGT_2D, 4, 4, 1, 1);

	rig_up_features(&r, FEAT(VIRTIO_F_VERSION_1));
	CHECK_EQ(fake_dev_stats(r.d)->driver_features, FEAT(VIRTIO_F_VERSION_1));
	CHECK_EQ(param(&r, VIRGO_PARAM_3D_FEATURES), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_RESOURCE_BLOB), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_CONTEXT_INIT), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_SUPPORTED_CAPSET_IDS), 0);
	/* Without VIRGL no capset is asked for, and 3D requests are refused
	 * before they reach the device. */
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_GET_CAPSET_INFO), 0);
	CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_CREATE, &rc), -VIRGO_ENODEV);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, NULL), -VIRGO_ENODEV);
	CHECK_EQ(fake_dev_log_count(r.d), 0);
	rig_down(&r);
}

TEST(init_ignores_unknown_features)
{
	struct rig r;
	uint64_t extra = FEAT(VIRTIO_F_INDIRECT_DESC) | FEAT(VIRTIO_F_EVENT_IDX) |
			 FEAT(VIRTIO_GPU_F_RESOURCE_UUID);

	rig_up_features(&r, FEAT_DEFAULT | extra);
	CHECK_EQ(fake_dev_stats(r.d)->driver_features, FEAT_DEFAULT);
	rig_down(&r);
}

/* A device behind an IOMMU wants IOVAs; the OS layers give physical
 * addresses. Refused with a clear word, the device marked FAILED. */
TEST(init_refuses_a_device_behind_an_iommu)
{
	struct fake_config c;
	struct os_dev *os;
	struct gpu_dev *gpu = NULL;

	fake_config_init(&c);
	c.features |= FEAT(VIRTIO_F_ACCESS_PLATFORM);
	os = fake_machine_new(&c);
	REQUIRE(os);
	CHECK_EQ(fake_gpu_init(os, NULL, &gpu), -VIRGO_ENOTSUP);
	CHECK(!gpu);
	CHECK(fake_log_contains(os, "IOMMU"));
	CHECK_EQ(fake_dev_stats(fake_dev_of(os))->driver_features & FEAT(VIRTIO_F_ACCESS_PLATFORM), 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(init_feature_mask_limits_what_is_taken)
{
	struct fake_config c;
	struct gpu_params p = { .feature_mask = FEAT(VIRTIO_GPU_F_EDID) };
	struct rig r;

	fake_config_init(&c);
	c.features = FEAT_ALL;
	rig_up(&r, &c, &p);
	/* VERSION_1 is not optional. */
	CHECK_EQ(fake_dev_stats(r.d)->driver_features, FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_GPU_F_EDID));
	CHECK_EQ(param(&r, VIRGO_PARAM_3D_FEATURES), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_RESOURCE_BLOB), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_CONTEXT_INIT), 0);
	rig_down(&r);
}

/* CONTEXT_INIT means nothing without VIRGL (the core never uses it then),
 * and a device may refuse the pair at FEATURES_OK, as the fake does. */
TEST(init_context_init_without_virgl_is_not_taken)
{
	struct fake_config c;
	struct os_dev *os;
	struct gpu_dev *gpu;

	fake_config_init(&c);
	c.features = FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_GPU_F_CONTEXT_INIT);
	os = fake_machine_new(&c);
	REQUIRE(os);
	CHECK_EQ(fake_gpu_init(os, NULL, &gpu), 0);
	if (gpu) {
		CHECK_EQ(fake_dev_stats(fake_dev_of(os))->driver_features, FEAT(VIRTIO_F_VERSION_1));
		fake_gpu_fini(os, gpu);
	}
	CHECK_EQ(fake_machine_free(os), 0);
}

/* A virtio capability with a reserved BAR number (or an unknown type) must
 * be skipped, not fail the probe (virtio 1.2 §4.1.4; Linux does the same
 * since commit 3f63a1d7 "virtio: pci: check bar values read from virtio
 * config space"). The fake puts such decoys before the real ones. */
TEST(init_skips_unusable_pci_capabilities)
{
	struct fake_config c;
	struct rig r;
	uint64_t fence;

	fake_config_init(&c);
	c.pci_decoy_caps = true;
	rig_up(&r, &c, NULL);
	CHECK_EQ(exec_words(&r, r.f, 4, NULL, 0, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), 0);
	rig_down(&r);
}

/* ---- capsets ----------------------------------------------------------------- */

TEST(init_capsets_are_queried_once_and_cached)
{
	struct rig r;
	uint8_t got[1376], want[1376];
	struct virgo_get_caps a;
	size_t mark;

	rig_up_ex(&r, NULL, NULL, true);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_GET_CAPSET_INFO), 2);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_GET_CAPSET), 2);
	mark = fake_dev_log_count(r.d);
	for (unsigned round = 0; round < 2; round++) {
		for (uint32_t id = 1; id <= 2; id++) {
			uint32_t size = fake_capset_size(id);

			memset(got, 0, sizeof(got));
			a = (struct virgo_get_caps){ .cap_set_id = id, .cap_set_ver = fake_capset_version(id),
						     .addr = (uint64_t)(uintptr_t)got, .size = sizeof(got) };
			CHECK_EQ(io(&r, VIRGO_OP_GET_CAPS, &a), 0);
			CHECK_EQ(a.copied, size);
			fake_capset_fill(id, want, size);
			CHECK_EQ(memcmp(got, want, size), 0);
		}
	}
	/* A short buffer gets the start. */
	memset(got, 0, sizeof(got));
	a = (struct virgo_get_caps){ .cap_set_id = 2, .cap_set_ver = 1, .addr = (uint64_t)(uintptr_t)got, .size = 10 };
	CHECK_EQ(io(&r, VIRGO_OP_GET_CAPS, &a), 0);
	CHECK_EQ(a.copied, 10);
	fake_capset_fill(2, want, 10);
	CHECK_EQ(memcmp(got, want, 10), 0);
	CHECK_EQ(got[10], 0);
	CHECK_EQ(log_count_from(&r, mark, FAKE_CMD_ANY), 0);
	rig_down(&r);
}

TEST(init_with_one_capset_offers_only_that_one)
{
	struct fake_config c;
	struct rig r;
	uint8_t buf[64];
	struct virgo_get_caps a = { .cap_set_id = 2, .cap_set_ver = 1, .addr = (uint64_t)(uintptr_t)buf,
				    .size = sizeof(buf) };

	fake_config_init(&c);
	c.num_capsets = 1;
	rig_up(&r, &c, NULL);
	CHECK_EQ(param(&r, VIRGO_PARAM_SUPPORTED_CAPSET_IDS), 1u << VIRTIO_GPU_CAPSET_VIRGL);
	CHECK_EQ(io(&r, VIRGO_OP_GET_CAPS, &a), -VIRGO_EINVAL);
	rig_down(&r);
}

/* ---- interrupt modes ------------------------------------------------------- */

/* The whole path (commands, fences, a config interrupt) in one interrupt mode. */
static void irq_mode(unsigned msix)
{
	struct fake_config c;
	struct rig r;
	uint32_t h;
	uint64_t fence, t0;

	fake_config_init(&c);
	c.msix_count = msix;
	c.hold_fences = true;
	c.fence_delay_ns = 2 * MS;
	rig_up(&r, &c, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	CHECK_EQ(exec_words(&r, r.f, 4, &h, 1, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	t0 = os_time_ns(r.os);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, SEC), 0);
	CHECK_EQ(os_time_ns(r.os) - t0, 2 * MS);
	CHECK(fake_stats(r.os)->isr_calls > 0);
	CHECK(fake_stats(r.os)->dpc_calls > 0);
	/* A display change is acknowledged; the device is not lost by it. */
	fake_dev_display_event(r.d);
	fake_run(r.os);
	CHECK_EQ(fake_dev_stats(r.d)->events_read, 0);
	CHECK(!gpu_is_lost(r.gpu));
	/* DEVICE_NEEDS_RESET arrives through the config interrupt. */
	fake_dev_set_needs_reset(r.d);
	fake_run(r.os);
	CHECK(gpu_is_lost(r.gpu));
	CHECK_EQ(param_or_err(&r), -VIRGO_EDEVLOST);
	REQUIRE_EQ(gpu_reset(r.gpu), 0);
	rig_close(&r, r.f);
	REQUIRE_EQ(core_open(r.gpu, &r.f), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	CHECK_EQ(exec_words(&r, r.f, 4, &h, 1, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, SEC), 0);
	CHECK_EQ(fake_stats(r.os)->isr_unclaimed, 0);
	rig_down(&r);
}

TEST(irq_msix_three_vectors_work)
{
	irq_mode(3);
}

TEST(irq_msix_one_shared_vector_works)
{
	irq_mode(1);
}

TEST(irq_intx_works)
{
	irq_mode(0);
}

TEST(irq_msix_two_vectors_share_the_first)
{
	irq_mode(2);
}

TEST(irq_intx_line_shared_with_another_device_is_not_claimed)
{
	struct fake_config c;
	struct rig r;

	fake_config_init(&c);
	c.msix_count = 0;
	rig_up(&r, &c, NULL);
	fake_run(r.os);
	REQUIRE_EQ(fake_dev_irq_pending(r.d), 0);
	/* Another device raised the line: the ISR status reads 0. */
	fake_set_context(r.os, FAKE_CTX_ISR);
	CHECK(!gpu_isr(r.gpu, -1));
	fake_set_context(r.os, FAKE_CTX_REQUEST);
	CHECK_EQ(param_or_err(&r), 0);
	rig_down(&r);
}

/* ---- DEVICE_NEEDS_RESET and gpu_reset ------------------------------------- */

TEST(needs_reset_fails_requests_and_reset_serves_new_handles_only)
{
	struct rig r;
	struct core_file *f2;
	uint32_t h, h2, res_old, res_new;
	uint64_t fence, t0;
	size_t mark;
	struct virgo_resource_info info;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, &res_old), 0);
	CHECK_EQ(exec_words(&r, r.f, 4, &h, 1, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), 0);

	/* Not delivered yet: the next request that waits sees it, without
	 * waiting for the command timeout. */
	fake_dev_set_needs_reset(r.d);
	t0 = os_time_ns(r.os);
	CHECK_EQ(mk_buffer(&r, r.f, 4096, 4096, NULL, NULL), -VIRGO_EDEVLOST);
	CHECK_EQ(os_time_ns(r.os), t0);
	CHECK(gpu_is_lost(r.gpu));
	mark = fake_dev_log_count(r.d);
	CHECK_EQ(param_or_err(&r), -VIRGO_EDEVLOST);
	CHECK_EQ(exec_words(&r, r.f, 4, &h, 1, NULL), -VIRGO_EDEVLOST);
	CHECK_EQ(wait_bo(&r, r.f, h, 0, 0), -VIRGO_EDEVLOST);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), -VIRGO_EDEVLOST);
	CHECK_EQ(core_open(r.gpu, &f2), 0);
	CHECK_EQ(mk_buffer(&r, f2, 4096, 4096, NULL, NULL), -VIRGO_EDEVLOST);
	rig_close(&r, f2);
	CHECK_EQ(fake_dev_log_count(r.d), mark);

	REQUIRE_EQ(gpu_reset(r.gpu), 0);
	CHECK(!gpu_is_lost(r.gpu));
	CHECK_EQ(fake_dev_stats(r.d)->reset_resources, 1);
	CHECK_EQ(fake_dev_stats(r.d)->reset_ctxs, 1);
	/* Capsets were read again from the new device. */
	CHECK_EQ(log_count_from(&r, mark, VIRTIO_GPU_CMD_GET_CAPSET), 2);
	/* The old handle stays lost... */
	info = (struct virgo_resource_info){ .bo_handle = h };
	CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_INFO, &info), -VIRGO_EDEVLOST);
	CHECK_EQ(param_or_err(&r), -VIRGO_EDEVLOST);
	/* ...and a new one works. */
	REQUIRE_EQ(core_open(r.gpu, &f2), 0);
	REQUIRE_EQ(mk_buffer(&r, f2, 4096, 4096, &h2, &res_new), 0);
	CHECK_NE(res_new, res_old);
	CHECK_EQ(exec_words(&r, f2, 4, &h2, 1, &fence), 0);
	CHECK_EQ(fence_wait(&r, f2, fence, 0, 0), 0);
	/* Closing the old handle tells the new device nothing about objects
	 * it never knew. */
	mark = fake_dev_log_count(r.d);
	rig_close(&r, r.f);
	CHECK_EQ(log_count_from(&r, mark, FAKE_CMD_ANY), 0);
	r.f = f2;
	rig_down(&r);
}

TEST(reset_of_a_healthy_device_reclaims_held_work)
{
	struct rig r;
	struct gpu_stats gs;
	uint32_t h;
	uint64_t fence;

	rig_up(&r, NULL, NULL);
	fake_dev_hold_fences(r.d, true, 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(exec_words(&r, r.f, 4, &h, 1, &fence), 0);
	gpu_get_stats(r.gpu, &gs);
	CHECK_EQ(gs.reqs_in_flight, 5);
	CHECK_EQ(fake_dev_held(r.d), 5);
	REQUIRE_EQ(gpu_reset(r.gpu), 0);
	gpu_get_stats(r.gpu, &gs);
	CHECK_EQ(gs.reqs_in_flight, 0);
	CHECK_EQ(gs.fence_completed, gs.fence_issued);
	CHECK_EQ(fake_dev_held(r.d), 0);
	rig_close(&r, r.f);
	r.f = NULL;
	rig_down(&r);
}

/* ---- gpu_init failing ------------------------------------------------------ */

TEST(init_alloc_failure_at_every_step_fails_cleanly)
{
	unsigned k, failures = 0;

	for (k = 1; k < 1000; k++) {
		struct fake_config c;
		struct os_dev *os;
		struct gpu_dev *gpu = NULL;
		int ret;

		fake_config_init(&c);
		c.ram_size = 4u << 20;
		os = fake_machine_new(&c);
		REQUIRE(os);
		fake_fail_alloc(os, k);
		ret = fake_gpu_init(os, NULL, &gpu);
		if (!fake_stats(os)->alloc_injected) {
			/* Past the last allocation: init succeeds. */
			CHECK_EQ(ret, 0);
			REQUIRE(gpu);
			fake_gpu_fini(os, gpu);
			CHECK_EQ(fake_machine_free(os), 0);
			break;
		}
		if (ret == 0 && fake_log_contains(os, "request pool short")) {
			/* The start-up pool is best effort: short, it only means
			 * later allocations. */
			REQUIRE(gpu);
			fake_gpu_fini(os, gpu);
			CHECK_EQ(fake_machine_free(os), 0);
			continue;
		}
		failures++;
		if (ret != -VIRGO_ENOMEM)
			t_fail(__FILE__, __LINE__, "k=%u: gpu_init returned %d, not -VIRGO_ENOMEM", k, ret);
		CHECK(!gpu);
		CHECK_EQ(fake_dev_stats(fake_dev_of(os))->status, 0);
		CHECK_EQ(fake_stats(os)->violations, 0);
		if (fake_machine_free(os))
			t_fail(__FILE__, __LINE__, "k=%u: problems after a failed gpu_init", k);
		if (t_failed())
			break;
	}
	CHECK(failures > 10);
	CHECK(k < 1000);
}

TEST(init_fails_cleanly_when_capset_queries_err)
{
	static const struct { uint32_t cmd, resp; int want; } cases[] = {
		{ VIRTIO_GPU_CMD_GET_CAPSET_INFO, VIRTIO_GPU_RESP_ERR_UNSPEC, -VIRGO_EIO },
		{ VIRTIO_GPU_CMD_GET_CAPSET, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, -VIRGO_EINVAL },
		{ VIRTIO_GPU_CMD_GET_CAPSET, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, -VIRGO_ENOMEM },
		/* An OK of the wrong kind breaks the protocol. */
		{ VIRTIO_GPU_CMD_GET_CAPSET_INFO, VIRTIO_GPU_RESP_OK_NODATA, -VIRGO_EPROTO },
		{ VIRTIO_GPU_CMD_GET_CAPSET, 0x1300, -VIRGO_EPROTO },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct os_dev *os = fake_machine_new(NULL);
		struct gpu_dev *gpu;

		REQUIRE(os);
		fake_dev_script_err(fake_dev_of(os), cases[i].cmd, cases[i].resp, 1);
		CHECK_EQ(fake_gpu_init(os, NULL, &gpu), cases[i].want);
		CHECK(!gpu);
		CHECK_EQ(fake_dev_stats(fake_dev_of(os))->status, 0);
		CHECK_EQ(fake_machine_free(os), 0);
	}
}

TEST(init_times_out_when_the_device_never_answers)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct gpu_params p = { .cmd_timeout_ns = 300 * MS };
	struct gpu_dev *gpu;
	uint64_t t0;

	REQUIRE(os);
	fake_dev_script(fake_dev_of(os), VIRTIO_GPU_CMD_GET_CAPSET, FAKE_DROP, 1);
	t0 = os_time_ns(os);
	CHECK_EQ(fake_gpu_init(os, &p, &gpu), -VIRGO_EDEVLOST);
	CHECK(!gpu);
	CHECK_EQ(os_time_ns(os) - t0, 300 * MS);
	/* The dropped request went back with the reset, and was freed. */
	CHECK_EQ(fake_dev_held(fake_dev_of(os)), 0);
	CHECK_EQ(fake_machine_free(os), 0);
}
