/* SPDX-License-Identifier: MIT */
/*
 * test_fake.c: self-tests of the harness's OS side, without the core:
 * virtual time, execution-context rules, fault injection, user copies,
 * guest memory and user mappings, the log. The device has its own
 * self-tests in test_fake_dev.c.
 */
#include <stdlib.h>
#include <string.h>

#include <virgo/uapi.h>

#include "fake.h"
#include "t.h"

/* ---- contexts, time ---------------------------------------------------------- */

TEST(fake_wait_times_out_in_virtual_time)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct os_waitq *wq;
	uint64_t t0, seq;

	REQUIRE(os);
	wq = os_waitq_create(os);
	REQUIRE(wq);
	t0 = os_time_ns(os);
	CHECK(t0 > 0);
	seq = os_waitq_seq(wq);
	CHECK_EQ(os_waitq_wait(wq, seq, t0 + 5000000000ull), -VIRGO_ETIMEDOUT);
	CHECK_EQ(os_time_ns(os), t0 + 5000000000ull);
	/* A past deadline times out at once; time does not go back. */
	CHECK_EQ(os_waitq_wait(wq, seq, t0), -VIRGO_ETIMEDOUT);
	CHECK_EQ(os_time_ns(os), t0 + 5000000000ull);
	/* A wake between taking the sequence and waiting is not lost. */
	os_waitq_wake(wq);
	CHECK_EQ(os_waitq_wait(wq, seq, t0 + 6000000000ull), 0);
	CHECK_EQ(os_time_ns(os), t0 + 5000000000ull);
	fake_advance(os, 7);
	CHECK_EQ(os_time_ns(os), t0 + 5000000007ull);
	CHECK_EQ(fake_stats(os)->wait_timeouts, 2);
	os_waitq_destroy(wq);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_busy_waits_and_unbounded_waits_are_caught)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct os_waitq *wq;
	uint64_t t0, t;

	REQUIRE(os);
	fake_set_strict(os, false);
	wq = os_waitq_create(os);
	REQUIRE(wq);
	/* A loop polling the clock ends: past the threshold time moves. */
	t0 = os_time_ns(os);
	do
		t = os_time_ns(os);
	while (t < t0 + 10000000ull);
	CHECK_EQ(fake_stats(os)->violations, 1);
	CHECK_EQ(os_waitq_wait(wq, os_waitq_seq(wq), UINT64_MAX), -VIRGO_ETIMEDOUT);
	CHECK_EQ(fake_stats(os)->violations, 2);
	CHECK(os_time_ns(os) < UINT64_MAX / 2);
	os_waitq_destroy(wq);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_context_rules_are_enforced)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct os_spin *l;
	struct os_waitq *wq;
	struct os_mutex *mu;
	void *p;

	REQUIRE(os);
	fake_set_strict(os, false);
	l = os_spin_create(os);
	wq = os_waitq_create(os);
	mu = os_mutex_create(os);
	REQUIRE(l && wq && mu);

	os_spin_lock(l);
	CHECK_EQ(fake_spin_depth(os), 1);
	p = os_alloc(os, 16, OS_MEM_NONPAGED);           /* 1: allocation under a spin lock */
	os_free(os, p);                                  /* 2 */
	CHECK_EQ(os_waitq_wait(wq, os_waitq_seq(wq), os_time_ns(os) + 1), -VIRGO_ETIMEDOUT); /* 3 */
	os_mutex_lock(mu);                               /* 4 */
	os_mutex_unlock(mu);
	os_spin_lock(l);                                 /* 5: recursion */
	os_spin_unlock(l);
	CHECK_EQ(fake_spin_depth(os), 0);
	os_spin_unlock(l);                               /* 6: not held */
	CHECK_EQ(fake_stats(os)->violations, 6);

	fake_set_context(os, FAKE_CTX_DPC);
	os_spin_lock(l);                                 /* fine in a DPC */
	os_spin_unlock(l);
	os_waitq_wake(wq);                               /* fine */
	os_might_sleep(os);                              /* 7 */
	p = os_alloc(os, 8, 0);                          /* 8 */
	fake_set_context(os, FAKE_CTX_ISR);
	os_spin_lock(l);                                 /* 9 */
	os_spin_unlock(l);
	os_waitq_wake(wq);                               /* 10 */
	fake_set_context(os, FAKE_CTX_REQUEST);
	CHECK_EQ(fake_stats(os)->violations, 10);
	os_spin_lock(NULL);                              /* 11: blamed on this machine */
	CHECK_EQ(fake_stats(os)->violations, 11);
	CHECK_EQ(fake_stats(os)->alloc.live, 1);
	os_free(os, p);
	os_spin_destroy(l);
	os_waitq_destroy(wq);
	os_mutex_destroy(mu);
	CHECK_EQ(fake_stats(os)->violations, 11);
	/* A leak is found and reported. */
	CHECK(os_alloc(os, 1, 0));
	CHECK_EQ(fake_machine_free(os), 1);
}

TEST(fake_alloc_injection_counts_every_allocation)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct os_dma dma;
	struct os_pages pages;
	struct os_spin *l;
	struct os_mutex *mu;
	void *a, *b;

	REQUIRE(os);
	fake_fail_alloc(os, 2);
	a = os_alloc(os, 10, 0);
	CHECK(a);
	CHECK_EQ(os_dma_alloc(os, 100, &dma), -VIRGO_ENOMEM);  /* the 2nd */
	CHECK(!dma.va);
	b = os_alloc(os, 10, 0);
	CHECK(b);
	CHECK_EQ(fake_stats(os)->alloc_injected, 1);
	os_free(os, a);
	os_free(os, b);

	fake_fail_alloc(os, 3);
	l = os_spin_create(os);
	mu = os_mutex_create(os);
	CHECK(l && mu);
	CHECK(!os_waitq_create(os));
	os_spin_destroy(l);
	os_mutex_destroy(mu);

	fake_fail_alloc_from(os, 2);
	a = os_alloc(os, 1, 0);
	CHECK(a);
	CHECK_EQ(os_pages_alloc(os, 4096, &pages), -VIRGO_ENOMEM);
	CHECK(!os_waitq_create(os));
	CHECK(!os_mutex_create(os));
	CHECK_EQ(fake_stats(os)->alloc_injected, 5);
	fake_fail_alloc(os, 0);
	b = os_alloc(os, 1, 0);
	CHECK(b);
	os_free(os, a);
	os_free(os, b);
	CHECK_EQ(fake_stats(os)->alloc_attempts, 11);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_user_copies_fault_and_inject)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct os_caller *c;
	char src[16] = "hello", dst[16] = { 0 };
	uint64_t u = (uint64_t)(uintptr_t)src;

	REQUIRE(os);
	c = fake_caller_new(os);
	REQUIRE(c);
	CHECK_EQ(os_copy_from_user(c, dst, u, 6), 0);
	CHECK_EQ(strcmp(dst, "hello"), 0);
	CHECK_EQ(os_copy_to_user(c, u + 8, "abc", 4), 0);
	CHECK_EQ(strcmp(src + 8, "abc"), 0);
	CHECK_EQ(os_copy_from_user(c, dst, 0, 1), -VIRGO_EFAULT);
	CHECK_EQ(os_copy_from_user(c, dst, 0xfff0, 1), -VIRGO_EFAULT);
	CHECK_EQ(os_copy_to_user(c, UINT64_MAX - 2, dst, 8), -VIRGO_EFAULT);
	CHECK_EQ(os_copy_from_user(c, dst, 0, 0), 0);
	fake_fail_copy(os, 2);
	CHECK_EQ(os_copy_from_user(c, dst, u, 1), 0);
	CHECK_EQ(os_copy_from_user(c, dst, u, 1), -VIRGO_EFAULT);
	CHECK_EQ(os_copy_from_user(c, dst, u, 1), 0);
	CHECK_EQ(fake_stats(os)->copy_faults, 4);
	CHECK_EQ(fake_stats(os)->copy_attempts, 9);
	fake_caller_free(c);
	CHECK_EQ(fake_machine_free(os), 0);
}

/* ---- memory ---------------------------------------------------------------- */

TEST(fake_dma_is_contiguous_zeroed_and_not_a_host_pointer)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct os_dma a, b;
	uint8_t probe[16];
	uint64_t bus;
	bool zero = true;

	REQUIRE(os);
	REQUIRE_EQ(os_dma_alloc(os, 3 * 4096 + 1, &a), 0);
	CHECK_EQ(a.size, 4 * 4096);
	CHECK_EQ(a.bus % 4096, 0);
	CHECK_EQ((uintptr_t)a.va % 4096, 0);
	CHECK_NE(a.bus, (uint64_t)(uintptr_t)a.va);
	CHECK(a.bus >= FAKE_RAM_BUS_BASE);
	for (size_t i = 0; i < a.size; i++)
		zero &= ((uint8_t *)a.va)[i] == 0;
	CHECK(zero);
	memset(a.va, 0x5a, a.size);
	CHECK_EQ(fake_ram_read(os, a.bus + a.size - 16, probe, 16), 0);
	CHECK_EQ(probe[15], 0x5a);
	bus = a.bus;
	os_dma_free(os, &a);
	CHECK(!a.va);
	CHECK_EQ(fake_ram_read(os, bus, probe, 1), -VIRGO_EFAULT);
	/* Freed frames come back zeroed. */
	REQUIRE_EQ(os_dma_alloc(os, 4096, &b), 0);
	CHECK_EQ(((uint8_t *)b.va)[0], 0);
	os_dma_free(os, &b);
	CHECK_EQ(fake_stats(os)->ram_frames, 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_pages_are_scattered_and_user_mappings_alias_them)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct os_pages p;
	struct os_caller *c;
	uint64_t total = 0, uaddr = 0;
	void *cookie = NULL;
	uint8_t buf[64], *map;

	REQUIRE(os);
	REQUIRE_EQ(os_pages_alloc(os, 40 * 4096 - 5, &p), 0);
	CHECK_EQ(p.size, 40 * 4096);
	CHECK(p.nsg >= 10);
	for (uint32_t i = 0; i < p.nsg; i++) {
		CHECK_EQ(p.sg[i].bus % 4096, 0);
		CHECK_EQ(p.sg[i].len % 4096, 0);
		if (i)  /* merged: no run continues the previous one */
			CHECK_NE(p.sg[i - 1].bus + p.sg[i - 1].len, p.sg[i].bus);
		total += p.sg[i].len;
	}
	CHECK_EQ(total, p.size);
	CHECK(p.nsg < 40);  /* and some pages were merged */

	/* fake_pages_write lands in the right frames. */
	memset(buf, 0x42, sizeof(buf));
	CHECK_EQ(fake_pages_write(os, &p, p.sg[0].len - 8, buf, 16), 0);
	CHECK_EQ(fake_ram_read(os, p.sg[1].bus, buf, 8), 0);
	CHECK_EQ(buf[7], 0x42);

	c = fake_caller_new(os);
	REQUIRE(c);
	REQUIRE_EQ(os_map_user(c, &p, &uaddr, &cookie), 0);
	CHECK_EQ(fake_caller_maps(c), 1);
	CHECK_EQ(fake_stats(os)->user_map.live, 1);
	map = (uint8_t *)(uintptr_t)uaddr;
	CHECK_EQ(map[p.sg[0].len - 1], 0x42);
	for (uint64_t i = 0; i < p.size; i += 4096)
		map[i + 1] = (uint8_t)(i / 4096);
	map[p.size - 1] = 0x99;
	CHECK_EQ(fake_pages_read(os, &p, 39 * 4096 + 1, buf, 1), 0);
	CHECK_EQ(buf[0], 39);
	CHECK_EQ(fake_pages_read(os, &p, p.size - 1, buf, 1), 0);
	CHECK_EQ(buf[0], 0x99);
	CHECK_EQ(fake_ram_read(os, p.sg[p.nsg - 1].bus + p.sg[p.nsg - 1].len - 1, buf, 1), 0);
	CHECK_EQ(buf[0], 0x99);
	/* Out of range writes are refused (and a violation). */
	fake_set_strict(os, false);
	CHECK_EQ(fake_pages_write(os, &p, p.size - 1, buf, 2), -VIRGO_EINVAL);
	CHECK_EQ(fake_stats(os)->violations, 1);
	fake_set_strict(os, true);
	os_unmap_user(c, cookie);
	CHECK_EQ(fake_caller_maps(c), 0);
	os_pages_free(os, &p);
	CHECK(!p.sg);
	fake_caller_free(c);
	CHECK_EQ(fake_stats(os)->pages.live, 0);
	CHECK_EQ(fake_stats(os)->user_map.live, 0);
	CHECK_EQ(fake_stats(os)->ram_frames, 0);
	CHECK_EQ(fake_leaks(os), 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_ram_runs_out_cleanly)
{
	struct fake_config c;
	struct os_dev *os;
	struct os_dma a, b;
	struct os_pages p, q;

	fake_config_init(&c);
	c.ram_size = 16 * 4096;
	os = fake_machine_new(&c);
	REQUIRE(os);
	REQUIRE_EQ(os_dma_alloc(os, 4 * 4096, &a), 0);
	REQUIRE_EQ(os_pages_alloc(os, 10 * 4096, &p), 0);
	CHECK_EQ(os_dma_alloc(os, 3 * 4096, &b), -VIRGO_ENOMEM);  /* 2 frames left */
	CHECK_EQ(os_pages_alloc(os, 3 * 4096, &q), -VIRGO_ENOMEM);
	CHECK_EQ(os_pages_alloc(os, 0, &q), -VIRGO_EINVAL);
	REQUIRE_EQ(os_pages_alloc(os, 2 * 4096, &q), 0);
	CHECK_EQ(fake_stats(os)->ram_frames, 16);
	os_pages_free(os, &q);
	os_pages_free(os, &p);
	os_dma_free(os, &a);
	CHECK_EQ(fake_stats(os)->ram_frames, 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_log_keeps_the_last_messages)
{
	struct os_dev *os = fake_machine_new(NULL);

	REQUIRE(os);
	for (int i = 0; i < FAKE_LOG_KEEP + 5; i++)
		os_log(os, OS_LOG_INFO, "message %d", i);
	CHECK_EQ(strcmp(fake_log_last(os, 0), "message 36"), 0);
	CHECK_EQ(strcmp(fake_log_last(os, FAKE_LOG_KEEP - 1), "message 5"), 0);
	CHECK(!fake_log_last(os, FAKE_LOG_KEEP));
	CHECK(fake_log_contains(os, "message 20"));
	CHECK(!fake_log_contains(os, "message 4"));
	fake_log_clear(os);
	CHECK(!fake_log_last(os, 0));
	CHECK_EQ(fake_machine_free(os), 0);
}
