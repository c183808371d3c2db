/* SPDX-License-Identifier: MIT */
/*
 * test_core_fence.c: the device timeline. Sequence numbers, FENCE_WAIT and
 * WAIT, held fences (QEMU: 32-bit fence ids retired late), wire ids kept
 * below 2^31 and their wrap, 64-bit ids with context_init, errors on fenced
 * work, timeouts.
 */
#include <string.h>

#include "test_core.h"

/* Fence ids the device saw for SUBMIT_3D, in order. */
static unsigned submit_ids(struct rig *r, uint64_t *ids, unsigned max)
{
	unsigned n = 0;

	for (size_t i = 0; i < fake_dev_log_count(r->d) && n < max; i++) {
		const struct fake_cmd *c = fake_dev_log(r->d, i);

		if (c->type == VIRTIO_GPU_CMD_SUBMIT_3D) {
			CHECK(c->flags & VIRTIO_GPU_FLAG_FENCE);
			ids[n++] = c->fence_id;
		}
	}
	return n;
}

/* Held fences take two descriptors each: 30 fit the 64-entry queue. */
#define N_FENCES 30

TEST(fence_numbers_increase_and_signal_in_order)
{
	struct rig r;
	uint64_t f[N_FENCES], ids[N_FENCES];

	rig_up(&r, NULL, NULL);
	fake_dev_hold_fences(r.d, true, 0);
	for (unsigned i = 0; i < N_FENCES; i++) {
		CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f[i]), 0);
		if (i)
			CHECK_EQ(f[i], f[i - 1] + 1);
	}
	CHECK_EQ(f[0], 1);
	REQUIRE_EQ(submit_ids(&r, ids, N_FENCES), N_FENCES);
	for (unsigned i = 0; i < N_FENCES; i++) {
		CHECK_EQ(ids[i], f[i]);
		CHECK_EQ(fence_wait(&r, r.f, f[i], VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
		CHECK_EQ(fake_dev_complete_fences(r.d, ids[i]), 1);
		fake_run(r.os);
		CHECK_EQ(fence_wait(&r, r.f, f[i], VIRGO_WAIT_NOWAIT, 0), 0);
		if (i + 1 < N_FENCES)
			CHECK_EQ(fence_wait(&r, r.f, f[i + 1], VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
		/* Earlier fences stay signalled. */
		CHECK_EQ(fence_wait(&r, r.f, f[i / 2], 0, 0), 0);
	}
	rig_down(&r);
}

TEST(fence_wait_blocks_until_completion_in_virtual_time)
{
	struct rig r;
	uint64_t f[8], t0;

	rig_up(&r, NULL, NULL);
	fake_dev_hold_fences(r.d, true, 3 * MS);
	t0 = os_time_ns(r.os);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f[i]), 0);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(fence_wait(&r, r.f, f[i], 0, SEC), 0);
	CHECK_EQ(os_time_ns(r.os) - t0, 3 * MS);
	rig_down(&r);
}

TEST(fence_held_in_qemu_mode_is_busy_then_signalled)
{
	struct fake_config c;
	struct rig r;
	uint64_t fence;
	uint32_t h;

	fake_config_init(&c);
	c.fence32 = true;
	c.hold_fences = true;
	c.fence_delay_ns = 10 * MS;
	rig_up(&r, &c, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	CHECK_EQ(exec_words(&r, r.f, 4, &h, 1, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	CHECK_EQ(wait_bo(&r, r.f, h, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	fake_advance(r.os, 9 * MS);
	CHECK_EQ(fence_wait(&r, r.f, fence, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	fake_advance(r.os, 1 * MS);
	CHECK_EQ(fence_wait(&r, r.f, fence, VIRGO_WAIT_NOWAIT, 0), 0);
	CHECK_EQ(wait_bo(&r, r.f, h, VIRGO_WAIT_NOWAIT, 0), 0);
	rig_down(&r);
}

static void qemu_rig(struct rig *r, uint64_t first_fence)
{
	struct fake_config c;
	struct gpu_params p = { .first_fence = first_fence };

	fake_config_init(&c);
	c.fence32 = true;
	c.hold_fences = true;
	c.fence_delay_ns = 10 * MS;
	rig_up(r, &c, &p);
}

TEST(fence_wire_ids_wrap_below_2_31_only_when_nothing_is_outstanding)
{
	struct rig r;
	uint64_t f[5], ids[5], t0;
	const struct fake_cmd *last;

	qemu_rig(&r, 0x7ffffffdull);
	t0 = os_time_ns(r.os);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f[i]), 0);
	CHECK_EQ(os_time_ns(r.os), t0);
	/* The next id would be 1 while 2^31-3..2^31-1 are held: the submit
	 * waits until they are retired (QEMU retires "every fence <= F", so a
	 * 1 sent earlier would leave them held for good). */
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f[3]), 0);
	last = fake_dev_log_last(r.d, VIRTIO_GPU_CMD_SUBMIT_3D);
	REQUIRE(last);
	CHECK_EQ(last->time_ns, t0 + 10 * MS);
	CHECK_EQ(fence_wait(&r, r.f, f[2], VIRGO_WAIT_NOWAIT, 0), 0);
	/* And the one after goes at once. */
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f[4]), 0);
	CHECK_EQ(fake_dev_log_last(r.d, VIRTIO_GPU_CMD_SUBMIT_3D)->time_ns, t0 + 10 * MS);
	REQUIRE_EQ(submit_ids(&r, ids, 5), 5);
	CHECK_EQ(ids[0], 0x7ffffffdull);
	CHECK_EQ(ids[1], 0x7ffffffeull);
	CHECK_EQ(ids[2], 0x7fffffffull);
	CHECK_EQ(ids[3], 1);
	CHECK_EQ(ids[4], 2);
	/* The caller's numbers are the 64-bit timeline. */
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(f[i], 0x7ffffffdull + i);
	CHECK_EQ(fence_wait(&r, r.f, f[4], 0, SEC), 0);
	CHECK_EQ(fence_wait(&r, r.f, f[3], 0, 0), 0);
	rig_down(&r);
}

TEST(fence_wire_ids_wrap_at_once_when_idle)
{
	struct rig r;
	uint64_t f[2], ids[2], t0;

	qemu_rig(&r, 0x7fffffffull);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f[0]), 0);
	CHECK_EQ(fence_wait(&r, r.f, f[0], 0, SEC), 0);
	t0 = os_time_ns(r.os);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f[1]), 0);
	CHECK_EQ(os_time_ns(r.os), t0);
	REQUIRE_EQ(submit_ids(&r, ids, 2), 2);
	CHECK_EQ(ids[0], 0x7fffffffull);
	CHECK_EQ(ids[1], 1);
	CHECK_EQ(f[1], 0x80000000ull);
	CHECK_EQ(fence_wait(&r, r.f, f[1], 0, SEC), 0);
	rig_down(&r);
}

TEST(fence_transfers_share_the_wire31_timeline)
{
	struct rig r;
	uint32_t h;
	uint64_t f1, f2;

	qemu_rig(&r, 0x7ffffffeull);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	CHECK_EQ(transfer(&r, r.f, true, h, 0, (struct virgo_box){ 0, 0, 0, 16, 1, 1 }, 0, &f1), 0);
	CHECK_EQ(exec_words(&r, r.f, 2, &h, 1, NULL), 0);
	CHECK_EQ(transfer(&r, r.f, false, h, 0, (struct virgo_box){ 0, 0, 0, 16, 1, 1 }, 0, &f2), 0);
	CHECK_EQ(f2, f1 + 2);
	CHECK_EQ(last_fence_id(&r, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D), 0x7ffffffeull);
	CHECK_EQ(last_fence_id(&r, VIRTIO_GPU_CMD_SUBMIT_3D), 0x7fffffffull);
	CHECK_EQ(last_fence_id(&r, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D), 1);
	CHECK_EQ(wait_bo(&r, r.f, h, 0, SEC), 0);
	rig_down(&r);
}

TEST(fence_ids_are_64_bit_with_context_init)
{
	struct fake_config c;
	struct gpu_params p = { .first_fence = 0xfffffffeull };
	struct rig r;
	uint64_t f[4], ids[4];

	fake_config_init(&c);
	c.features = FEAT_ALL;
	c.hold_fences = true;
	c.fence_delay_ns = 1 * MS;
	rig_up(&r, &c, &p);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f[i]), 0);
	REQUIRE_EQ(submit_ids(&r, ids, 4), 4);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(f[i], 0xfffffffeull + i);
		CHECK_EQ(ids[i], f[i]);
	}
	CHECK_EQ(fence_wait(&r, r.f, f[3], 0, SEC), 0);
	rig_down(&r);
}

TEST(fence_ids_cross_2_31_without_wrapping_with_context_init)
{
	struct fake_config c;
	struct gpu_params p = { .first_fence = 0x7fffffffull };
	struct rig r;
	uint64_t f[2], ids[2];

	fake_config_init(&c);
	c.features = FEAT_ALL;
	rig_up(&r, &c, &p);
	for (unsigned i = 0; i < 2; i++)
		CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f[i]), 0);
	REQUIRE_EQ(submit_ids(&r, ids, 2), 2);
	CHECK_EQ(ids[0], 0x7fffffffull);
	CHECK_EQ(ids[1], 0x80000000ull);
	CHECK_EQ(fence_wait(&r, r.f, f[1], 0, SEC), 0);
	rig_down(&r);
}

TEST(fence_err_answer_fails_only_that_fence)
{
	struct rig r;
	uint32_t good[2] = { 1, 2 }, bad[2] = { 0xdeadbeef, 0 };
	uint64_t fa, fb, fc;

	rig_up(&r, NULL, NULL);
	fake_dev_hold_fences(r.d, true, 0);
	CHECK_EQ(exec(&r, r.f, good, 8, NULL, 0, &fa), 0);
	/* The device refuses this one at once, before fa is retired. */
	CHECK_EQ(exec(&r, r.f, bad, 8, NULL, 0, &fb), 0);
	CHECK_EQ(exec(&r, r.f, good, 8, NULL, 0, &fc), 0);
	CHECK_EQ(fake_dev_log_last(r.d, VIRTIO_GPU_CMD_SUBMIT_3D)->resp_type, 0);
	fake_run(r.os);
	/* Answered out of order; fb still waits for fa. */
	CHECK_EQ(fence_wait(&r, r.f, fb, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	fake_dev_hold_fences(r.d, false, 0);
	fake_run(r.os);
	CHECK_EQ(fence_wait(&r, r.f, fa, 0, 0), 0);
	CHECK_EQ(fence_wait(&r, r.f, fb, 0, 0), -VIRGO_EIO);
	CHECK_EQ(fence_wait(&r, r.f, fc, 0, 0), 0);
	CHECK_EQ(fence_wait(&r, r.f, fb, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EIO);
	rig_down(&r);
}

TEST(fence_err_is_reported_to_its_own_context_only)
{
	struct rig r;
	struct core_file *f2;
	uint32_t bad = 0xdeadbeef;
	uint64_t fb, f2a;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(core_open(r.gpu, &f2), 0);
	CHECK_EQ(exec(&r, r.f, &bad, 4, NULL, 0, &fb), 0);
	CHECK_EQ(exec_words(&r, f2, 2, NULL, 0, &f2a), 0);
	CHECK(f2a > fb);
	CHECK_EQ(fence_wait(&r, r.f, fb, 0, 0), -VIRGO_EIO);
	CHECK_EQ(fence_wait(&r, f2, f2a, 0, 0), 0);
	/* A handle may wait on an earlier number; another context's failure
	 * is not its error. */
	CHECK_EQ(fence_wait(&r, f2, fb, 0, 0), 0);
	rig_close(&r, f2);
	rig_down(&r);
}

TEST(wait_on_a_resource_lasts_until_its_last_fence)
{
	struct rig r;
	uint32_t h, g;
	uint64_t f1, f2, f3, f4;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &g, NULL), 0);
	/* Never used: idle at once. */
	CHECK_EQ(wait_bo(&r, r.f, h, VIRGO_WAIT_NOWAIT, 0), 0);
	fake_dev_hold_fences(r.d, true, 0);
	CHECK_EQ(exec_words(&r, r.f, 2, &h, 1, &f1), 0);
	CHECK_EQ(exec_words(&r, r.f, 2, &g, 1, &f2), 0);
	CHECK_EQ(exec_words(&r, r.f, 2, &h, 1, &f3), 0);
	CHECK_EQ(wait_bo(&r, r.f, h, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	CHECK_EQ(wait_bo(&r, r.f, g, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	fake_dev_complete_fences(r.d, f1);
	fake_run(r.os);
	CHECK_EQ(wait_bo(&r, r.f, h, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	CHECK_EQ(wait_bo(&r, r.f, g, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	fake_dev_complete_fences(r.d, f2);
	fake_run(r.os);
	CHECK_EQ(wait_bo(&r, r.f, g, VIRGO_WAIT_NOWAIT, 0), 0);
	CHECK_EQ(wait_bo(&r, r.f, h, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	/* A bounded wait that ends busy. */
	CHECK_EQ(wait_bo(&r, r.f, h, 0, 5 * MS), -VIRGO_ETIMEDOUT);
	fake_dev_complete_fences(r.d, f3);
	fake_run(r.os);
	CHECK_EQ(wait_bo(&r, r.f, h, VIRGO_WAIT_NOWAIT, 0), 0);
	/* Transfers make it busy too, and a wait sees the completion. */
	fake_dev_hold_fences(r.d, true, 2 * MS);
	CHECK_EQ(transfer(&r, r.f, false, h, 0, (struct virgo_box){ 0, 0, 0, 64, 1, 1 }, 0, &f4), 0);
	CHECK_EQ(wait_bo(&r, r.f, h, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	CHECK_EQ(wait_bo(&r, r.f, h, 0, SEC), 0);
	rig_down(&r);
}

TEST(wait_reports_idle_not_the_streams_error)
{
	struct rig r;
	uint32_t h, bad = 0xdeadbeef;
	uint64_t fb, ft;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	CHECK_EQ(exec(&r, r.f, &bad, 4, &h, 1, &fb), 0);
	CHECK_EQ(wait_bo(&r, r.f, h, 0, 0), 0);
	CHECK_EQ(fence_wait(&r, r.f, fb, 0, 0), -VIRGO_EIO);
	fake_dev_script_err(r.d, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, 1);
	CHECK_EQ(transfer(&r, r.f, true, h, 0, (struct virgo_box){ 0, 0, 0, 64, 1, 1 }, 0, &ft), 0);
	CHECK_EQ(wait_bo(&r, r.f, h, 0, 0), 0);
	CHECK_EQ(fence_wait(&r, r.f, ft, 0, 0), -VIRGO_EIO);
	rig_down(&r);
}

TEST(fence_wait_timeouts_default_and_are_capped)
{
	/* A command timeout above the longest wait: the dropped fence must not
	 * make the device lost during these waits (see the next test). */
	struct gpu_params p = { .cmd_timeout_ns = 2 * VIRGO_MAX_TIMEOUT_NS };
	struct rig r;
	uint64_t f, t0;

	rig_up(&r, NULL, &p);
	fake_dev_script(r.d, VIRTIO_GPU_CMD_SUBMIT_3D, FAKE_DROP, 1);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f), 0);
	t0 = os_time_ns(r.os);
	CHECK_EQ(fence_wait(&r, r.f, f, 0, 0), -VIRGO_ETIMEDOUT);
	CHECK_EQ(os_time_ns(r.os) - t0, VIRGO_DEFAULT_TIMEOUT_NS);
	t0 = os_time_ns(r.os);
	CHECK_EQ(fence_wait(&r, r.f, f, 0, UINT64_MAX), -VIRGO_ETIMEDOUT);
	CHECK_EQ(os_time_ns(r.os) - t0, VIRGO_MAX_TIMEOUT_NS);
	t0 = os_time_ns(r.os);
	CHECK_EQ(fence_wait(&r, r.f, f, 0, 1), -VIRGO_ETIMEDOUT);
	CHECK_EQ(os_time_ns(r.os) - t0, 1);
	CHECK(!gpu_is_lost(r.gpu));
	rig_down(&r);
}

/* A fenced request the device never answers holds every later fence back
 * (the timeline completes in order): found by dropping answers on
 * virgo-host (tests/scenarios/host_faults.c), where every later wait of
 * every client timed out and nothing ever reset the device. Waiters now
 * declare the device lost once the timeline has made no progress for the
 * command timeout; the reset brings it back. */
TEST(fence_never_answered_makes_the_device_lost_after_the_command_timeout)
{
	struct gpu_params p = { .cmd_timeout_ns = 5 * SEC };
	struct rig r;
	uint64_t lost_fence, later, t0;
	unsigned short_waits = 0;
	uint32_t h;
	int ret;

	rig_up(&r, NULL, &p);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &h, NULL), 0);
	fake_dev_script(r.d, VIRTIO_GPU_CMD_SUBMIT_3D, FAKE_DROP, 1);
	CHECK_EQ(exec_words(&r, r.f, 2, &h, 1, &lost_fence), 0);
	/* Later work is answered, but its fence waits behind the lost one. */
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &later), 0);
	/* Short waits time out, as long as the stall is younger than 5 s... */
	t0 = os_time_ns(r.os);
	while ((ret = fence_wait(&r, r.f, later, 0, SEC)) == -VIRGO_ETIMEDOUT && short_waits < 100)
		short_waits++;
	/* ...then the device is declared lost. */
	CHECK_EQ(ret, -VIRGO_EDEVLOST);
	CHECK(short_waits >= 4 && short_waits <= 7);
	CHECK(os_time_ns(r.os) - t0 <= 7 * SEC);
	CHECK(gpu_is_lost(r.gpu));
	CHECK_EQ(wait_bo(&r, r.f, h, 0, SEC), -VIRGO_EDEVLOST);
	/* A reset brings the device back for a new handle. */
	REQUIRE_EQ(gpu_reset(r.gpu), 0);
	rig_close(&r, r.f);
	REQUIRE_EQ(core_open(r.gpu, &r.f), 0);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &later), 0);
	CHECK_EQ(fence_wait(&r, r.f, later, 0, SEC), 0);
	rig_down(&r);
}

/* One long wait on a stalled timeline ends with the loss, not at its own
 * timeout; a timeline that keeps moving is never a stall. */
TEST(long_fence_wait_on_a_stalled_device_ends_at_the_command_timeout)
{
	struct gpu_params p = { .cmd_timeout_ns = 5 * SEC };
	struct fake_config c;
	struct rig r;
	uint64_t f, t0;

	rig_up(&r, NULL, &p);
	fake_dev_script(r.d, VIRTIO_GPU_CMD_SUBMIT_3D, FAKE_DROP, 1);
	CHECK_EQ(exec_words(&r, r.f, 2, NULL, 0, &f), 0);
	t0 = os_time_ns(r.os);
	CHECK_EQ(fence_wait(&r, r.f, f, 0, VIRGO_MAX_TIMEOUT_NS), -VIRGO_EDEVLOST);
	CHECK(os_time_ns(r.os) - t0 <= 7 * SEC);
	REQUIRE_EQ(gpu_reset(r.gpu), 0);
	rig_close(&r, r.f);
	r.f = NULL;
	rig_down(&r);

	/* 20 fences done one after another, 2 s apart, waited on by one
	 * wait: 40 s with progress every 2 s is slow work, not a stall. */
	fake_config_init(&c);
	c.hold_fences = true;
	rig_up(&r, &c, &p);
	for (int i = 0; i < 20; i++) {
		fake_dev_hold_fences(r.d, true, (uint64_t)(i + 1) * 2 * SEC);
		REQUIRE_EQ(exec_words(&r, r.f, 2, NULL, 0, &f), 0);
	}
	t0 = os_time_ns(r.os);
	CHECK_EQ(fence_wait(&r, r.f, f, 0, VIRGO_MAX_TIMEOUT_NS), 0);
	CHECK(os_time_ns(r.os) - t0 >= 39 * SEC);
	CHECK(!gpu_is_lost(r.gpu));
	fake_dev_hold_fences(r.d, false, 0);
	rig_down(&r);
}
