/* SPDX-License-Identifier: MIT */
/*
 * test_core_rules.c: what a Windows kernel reviewer and Driver Verifier
 * would catch, caught here: an interrupt at any moment after it is
 * connected (a shared line fires for other devices), pageable memory
 * touched at DISPATCH_LEVEL, contiguous memory taken per command, a
 * process taking all guest memory, a mapping made after cleanup, a wait
 * nobody can interrupt, a mapping a 32-bit process cannot reach, and a
 * teardown that spins on a device that is gone, and an interrupt that
 * was "connected" but never arrives.
 */
#include <string.h>

#include "test_core.h"

static struct os_dev *machine(bool intx, bool storm, bool paged)
{
	struct fake_config c;
	struct os_dev *os;

	fake_config_init(&c);
	c.features |= FEAT(VIRTIO_GPU_F_RESOURCE_BLOB) | FEAT(VIRTIO_GPU_F_CONTEXT_INIT);
	if (intx)
		c.msix_count = 0;
	c.paged_guard = paged;
	os = fake_machine_new(&c);
	REQUIRE(os);
	fake_set_irq_storm(os, storm);
	return os;
}

/* Some of everything a client does: resources, transfers, a large and a
 * small submit, waits, a mapping, closes. */
static void everyday_work(struct os_dev *os, struct gpu_dev *gpu)
{
	static uint8_t big[VIRGO_MAX_EXEC_SIZE];
	struct rig r = { .os = os, .d = fake_dev_of(os), .gpu = gpu };
	uint32_t buf = 0, tex = 0, id;
	uint64_t fence = 0, size = 0;
	uint8_t *p = NULL;

	r.c = fake_caller_new(os);
	REQUIRE(r.c);
	REQUIRE_EQ(core_open(gpu, &r.f), 0);
	CHECK_EQ(mk_buffer(&r, r.f, 65536, 65536, &buf, &id), 0);
	CHECK_EQ(mk_tex2d(&r, r.f, 64, 64, &tex, &id), 0);
	CHECK_EQ(map_bo(&r, r.f, buf, &p, &size), 0);
	if (p)
		memset(p, 0x5a, 4096);
	CHECK_EQ(transfer(&r, r.f, true, buf, 0, (struct virgo_box){ 0, 0, 0, 4096, 1, 1 }, 0, &fence), 0);
	memset(big, 0x33, sizeof(big));
	/* the largest stream: a chain of request, 16 chunks and response */
	CHECK_EQ(exec(&r, r.f, big, sizeof(big), &buf, 1, &fence), 0);
	CHECK_EQ(exec_words(&r, r.f, 64, &tex, 1, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), 0);
	CHECK_EQ(wait_bo(&r, r.f, buf, 0, 0), 0);
	CHECK_EQ(close_bo(&r, r.f, tex), 0);
	rig_close(&r, r.f);
	fake_caller_free(r.c);
}

TEST(irq_storm_from_init_to_fini_never_reads_a_missing_window)
{
	for (int intx = 0; intx < 2; intx++) {
		struct os_dev *os = machine(intx, true, false);
		struct gpu_dev *gpu = NULL;

		REQUIRE_EQ(fake_gpu_init(os, NULL, &gpu), 0);
		everyday_work(os, gpu);
		CHECK_EQ(gpu_reset(gpu), 0);
		fake_gpu_fini(os, gpu);
		CHECK(fake_stats(os)->isr_calls > 100);
		CHECK_EQ(fake_stats(os)->violations, 0);
		CHECK_EQ(fake_machine_free(os), 0);
	}
}

/* gpu_init failing at each of its allocations (a window mapped, then
 * probe failing and unmapping it, ...) with the line firing throughout. */
TEST(irq_storm_during_every_failed_init_never_reads_a_dead_window)
{
	unsigned k;

	for (k = 1; k < 1000; k++) {
		struct os_dev *os = machine(true, true, false);
		struct gpu_dev *gpu = NULL;
		bool injected;
		int ret;

		fake_fail_alloc(os, k);
		ret = fake_gpu_init(os, NULL, &gpu);
		if (ret == 0)
			fake_gpu_fini(os, gpu);
		injected = fake_stats(os)->alloc_injected;
		CHECK_EQ(fake_stats(os)->violations, 0);
		CHECK_EQ(fake_machine_free(os), 0);
		if (!injected || t_failed())
			break;
	}
	CHECK(k > 5);
}

TEST(pageable_memory_is_never_touched_at_dispatch_level)
{
	struct os_dev *os = machine(false, false, true);
	struct gpu_dev *gpu = NULL;

	REQUIRE_EQ(fake_gpu_init(os, NULL, &gpu), 0);
	everyday_work(os, gpu);
	CHECK_EQ(gpu_reset(gpu), 0);
	fake_gpu_fini(os, gpu);
	CHECK_EQ(fake_stats(os)->violations, 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

/* The guard itself: a touch of pageable memory under a spin lock is
 * caught (so the test above could fail). */
TEST(fake_catches_pageable_memory_touched_under_a_spin_lock)
{
	struct os_dev *os = machine(false, false, true);
	struct os_spin *l = os_spin_create(os);
	volatile uint8_t *p = os_alloc(os, 64, OS_MEM_PAGED);
	volatile uint8_t *np = os_alloc(os, 64, OS_MEM_NONPAGED);

	REQUIRE(l && p && np);
	fake_set_strict(os, false);
	os_spin_lock(l);
	np[0] = 1;
	CHECK_EQ(fake_stats(os)->violations, 0);
	p[0] = 1;
	CHECK_EQ(fake_stats(os)->violations, 1);
	os_spin_unlock(l);
	p[1] = 2;
	CHECK_EQ(fake_stats(os)->violations, 1);
	os_free(os, (void *)p);
	os_free(os, (void *)np);
	os_spin_destroy(l);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(commands_after_start_take_no_new_contiguous_memory)
{
	static uint8_t big[VIRGO_MAX_EXEC_SIZE];
	struct rig r;
	uint64_t dma, fence = 0;

	rig_up(&r, NULL, NULL);
	dma = fake_stats(r.os)->dma.total;
	/* A client's rhythm: a few submits, a wait; now and then the largest
	 * stream there is. The pool filled at start serves all of it. */
	for (int i = 0; i < 50; i++) {
		for (int j = 0; j < 4; j++)
			CHECK_EQ(exec_words(&r, r.f, 16 + (uint32_t)j * 300, NULL, 0, &fence), 0);
		CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), 0);
		if (i % 10 == 0) {
			CHECK_EQ(exec(&r, r.f, big, sizeof(big), NULL, 0, &fence), 0);
			CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), 0);
		}
	}
	CHECK_EQ(fake_stats(r.os)->dma.total, dma);
	rig_down(&r);
}

TEST(a_process_is_held_to_its_memory_limit)
{
	struct gpu_params p = { .max_owner_bytes = 1u << 20 };
	struct rig r;
	struct os_caller *first, *same, *other;
	struct core_file *f2, *f3;
	uint32_t h[32], id, n = 0, h2 = 0, h3 = 0;
	int ret = 0;

	rig_up(&r, NULL, &p);
	first = r.c;
	same = fake_caller_new(r.os);
	other = fake_caller_new(r.os);
	REQUIRE(same && other);
	fake_caller_set_owner(same, 7);
	fake_caller_set_owner(r.c, 7);
	fake_caller_set_owner(other, 8);
	REQUIRE_EQ(core_open(r.gpu, &f2), 0);
	REQUIRE_EQ(core_open(r.gpu, &f3), 0);
	/* 64 KiB + a page of bookkeeping each: fifteen fit in 1 MiB. */
	while (n < 32 && (ret = mk_buffer(&r, r.f, 65536, 65536, &h[n], &id)) == 0)
		n++;
	CHECK_EQ(ret, -VIRGO_EDQUOT);
	CHECK_EQ(n, 15);
	CHECK(fake_log_contains(r.os, "limit"));
	/* another handle of the same process shares the limit ... */
	r.c = same;
	CHECK_EQ(mk_buffer(&r, f2, 65536, 65536, &h2, &id), -VIRGO_EDQUOT);
	/* ... another process does not */
	r.c = other;
	CHECK_EQ(mk_buffer(&r, f3, 65536, 65536, &h3, &id), 0);
	/* what is closed is given back */
	r.c = same;
	CHECK_EQ(close_bo(&r, r.f, h[0]), 0);
	CHECK_EQ(mk_buffer(&r, f2, 65536, 65536, &h2, &id), 0);
	CHECK_EQ(mk_buffer(&r, f2, 1u << 21, 1u << 21, &h2, &id), -VIRGO_EDQUOT);
	rig_close(&r, f2);
	r.c = other;
	rig_close(&r, f3);
	r.c = first;
	fake_caller_free(same);
	fake_caller_free(other);
	rig_down(&r);
}

TEST(map_after_cleanup_is_refused)
{
	struct rig r;
	uint32_t buf, id;
	uint8_t *p = NULL;
	uint64_t size = 0;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &buf, &id), 0);
	core_cleanup(r.f, r.c);
	/* A MAP racing the last CloseHandle: nobody would undo it. */
	CHECK_EQ(map_bo(&r, r.f, buf, &p, &size), -VIRGO_EPERM);
	CHECK(!p);
	CHECK_EQ(fake_stats(r.os)->user_map.live, 0);
	CHECK_EQ(fake_caller_maps(r.c), 0);
	core_close(r.f);
	r.f = NULL;
	rig_down(&r);
}

TEST(long_fence_wait_ends_when_the_caller_gives_up)
{
	struct rig r;
	uint64_t fence = 0, t0;

	rig_up(&r, NULL, NULL);
	fake_dev_hold_fences(r.d, true, 0);
	REQUIRE_EQ(exec_words(&r, r.f, 8, NULL, 0, &fence), 0);
	t0 = os_time_ns(r.os);
	/* killed (or CancelIo'd) 300 ms into a one-minute wait */
	fake_caller_cancel_at(r.c, t0 + 300 * MS);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, VIRGO_MAX_TIMEOUT_NS), -VIRGO_ECANCELED);
	CHECK(os_time_ns(r.os) - t0 < 500 * MS);
	/* the device is fine: the fence still comes */
	fake_caller_cancel_at(r.c, 0);
	fake_dev_complete_fences(r.d, ~0ull);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), 0);
	rig_down(&r);
}

TEST(a_32bit_process_gets_no_mapping_out_of_its_reach)
{
	struct rig r;
	uint32_t buf, id;
	uint8_t *p = NULL;
	uint64_t size = 0;

	rig_up(&r, NULL, NULL);
	fake_caller_set_32bit(r.c);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &buf, &id), 0);
	/* the fake's mappings are host pointers, all above 4 GiB */
	CHECK_EQ(map_bo(&r, r.f, buf, &p, &size), -VIRGO_ENOMEM);
	CHECK_EQ(fake_stats(r.os)->user_map.live, 0);
	CHECK(fake_log_contains(r.os, "out of this process's reach"));
	rig_down(&r);
}

TEST(teardown_after_surprise_removal_does_not_spin)
{
	struct rig r;
	uint32_t buf, id;
	uint64_t t0;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 4096, 4096, &buf, &id), 0);
	fake_dev_remove(r.d);
	gpu_set_gone(r.gpu);
	t0 = os_time_ns(r.os);
	CHECK_EQ(param_or_err(&r), -VIRGO_EDEVLOST);
	CHECK_EQ(gpu_reset(r.gpu), -VIRGO_ENODEV);
	rig_close(&r, r.f);
	r.f = NULL;
	fake_caller_free(r.c);
	fake_gpu_fini(r.os, r.gpu);
	CHECK(os_time_ns(r.os) - t0 < 10 * MS);
	CHECK_EQ(fake_stats(r.os)->violations, 0);
	CHECK_EQ(fake_machine_free(r.os), 0);
}

/* Without being told (a removal the OS layer missed): the reset at
 * teardown sees all ones and gives up at once instead of polling. */
TEST(reset_of_a_device_that_vanished_gives_up_at_once)
{
	struct os_dev *os = machine(false, false, false);
	struct gpu_dev *gpu = NULL;
	uint64_t t0;

	REQUIRE_EQ(fake_gpu_init(os, NULL, &gpu), 0);
	fake_dev_remove(fake_dev_of(os));
	t0 = os_time_ns(os);
	fake_gpu_fini(os, gpu);
	CHECK(os_time_ns(os) - t0 < 10 * MS);
	CHECK(fake_log_contains(os, "all ones"));
	CHECK_EQ(fake_stats(os)->violations, 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

/* An interrupt connection that returned success and connected nothing
 * (ReactOS's IoConnectInterruptEx): gpu_init's first command is answered
 * and never collected. The start fails within the command timeout, and
 * the log names the interrupt, not the host. */
TEST(init_with_an_interrupt_that_never_comes_fails_and_says_why)
{
	for (int intx = 0; intx < 2; intx++) {
		struct os_dev *os = machine(intx, false, false);
		struct gpu_dev *gpu = NULL;
		uint64_t t0 = os_time_ns(os);

		fake_set_irq_connected(os, false);
		CHECK_EQ(fake_gpu_init(os, NULL, &gpu), -VIRGO_EDEVLOST);
		CHECK(gpu == NULL);
		CHECK(os_time_ns(os) - t0 <= 6000 * MS);
		CHECK(fake_log_contains(os, "the device answered, but no interrupt came"));
		CHECK(fake_log_contains(os, intx ? "INTx" : "MSI-X"));
		CHECK_EQ(fake_stats(os)->violations, 0);
		CHECK_EQ(fake_machine_free(os), 0);
	}
}

/* Interrupts that stop after start: the next command and the next fence
 * wait end within their timeouts, named as interrupt trouble; a reset
 * with the line back brings the device back. */
TEST(interrupts_that_stop_after_start_are_caught_and_named)
{
	struct rig r;
	struct gpu_stats st;
	uint32_t buf = 0, id = 0;
	uint64_t fence = 0;

	rig_up(&r, NULL, NULL);
	gpu_get_stats(r.gpu, &st);
	CHECK(st.interrupts > 0);
	REQUIRE_EQ(exec_words(&r, r.f, 8, NULL, 0, &fence), 0);
	fake_set_irq_connected(r.os, false);
	REQUIRE_EQ(exec_words(&r, r.f, 8, NULL, 0, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, VIRGO_MAX_TIMEOUT_NS), -VIRGO_EDEVLOST);
	CHECK(fake_log_contains(r.os, "a fence was not signalled in time: the device answered, but no interrupt came"));
	CHECK(fake_log_contains(r.os, "device lost: interrupts are not delivered"));
	CHECK_EQ(mk_buffer(&r, r.f, 4096, 4096, &buf, &id), -VIRGO_EDEVLOST);
	fake_set_irq_connected(r.os, true);
	CHECK_EQ(gpu_reset(r.gpu), 0);
	/* handles from before the loss stay lost; a new one works */
	rig_close(&r, r.f);
	REQUIRE_EQ(core_open(r.gpu, &r.f), 0);
	CHECK_EQ(mk_buffer(&r, r.f, 4096, 4096, &buf, &id), 0);
	CHECK_EQ(close_bo(&r, r.f, buf), 0);
	rig_down(&r);
}

/* The other way round: a device that really does not answer is not
 * blamed on the interrupt. */
TEST(a_silent_device_is_not_called_an_interrupt_problem)
{
	struct rig r;
	uint64_t fence = 0;

	rig_up(&r, NULL, NULL);
	fake_dev_hold_fences(r.d, true, 0);
	REQUIRE_EQ(exec_words(&r, r.f, 8, NULL, 0, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, VIRGO_MAX_TIMEOUT_NS), -VIRGO_EDEVLOST);
	CHECK(fake_log_contains(r.os, "device lost: a fence was not signalled in time"));
	CHECK(!fake_log_contains(r.os, "no interrupt came"));
	fake_dev_hold_fences(r.d, false, 0);
	rig_down(&r);
}
