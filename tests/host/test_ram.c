/* SPDX-License-Identifier: MIT */
/* Guest RAM's page allocator. */
#include <stdlib.h>

#include "ram.h"
#include "t.h"

/* A short free run ahead of a long enough one must not fail a contiguous
 * request (found by the piglit runs: submits failed with RAM mostly free). */
TEST(contiguous_alloc_skips_free_runs_that_are_too_short)
{
	struct ram r;
	struct ram_run *page[16], *got;
	uint32_t n;

	REQUIRE_EQ(ram_create(&r, 16 * RAM_PAGE), 0);
	for (int i = 0; i < 16; i++)
		REQUIRE_EQ(ram_alloc(&r, 1, true, &page[i], &n), 0);
	CHECK_EQ(ram_used_pages(&r), 16);
	ram_free(&r, page[1], 1);
	for (int i = 8; i < 12; i++)
		ram_free(&r, page[i], 1);
	REQUIRE_EQ(ram_alloc(&r, 4, true, &got, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ((got[0].bus - RAM_BUS_BASE) / RAM_PAGE, 8);
	{
		struct ram_run *none;

		CHECK_EQ(ram_alloc(&r, 2, true, &none, &n), -12); /* one page is left */
		CHECK(none == NULL);
	}
	/* Without contiguity the last page is still there. */
	{
		struct ram_run *one;

		REQUIRE_EQ(ram_alloc(&r, 1, false, &one, &n), 0);
		CHECK_EQ((one[0].bus - RAM_BUS_BASE) / RAM_PAGE, 1);
		free(one);
	}
	free(got);
	for (int i = 0; i < 16; i++)
		free(page[i]);
	ram_destroy(&r);
}

/* Split backings for Windows clients: every run starts on a granule and
 * all but the last are whole granules, around holes of any size. */
TEST(granular_alloc_splits_on_granule_boundaries)
{
	struct ram r;
	struct ram_run *page[64], *got, *none;
	uint32_t n;

	REQUIRE_EQ(ram_create(&r, 64 * RAM_PAGE), 0);
	for (int i = 0; i < 64; i++)
		REQUIRE_EQ(ram_alloc(&r, 1, true, &page[i], &n), 0);
	/* free: pages 3-20 (whole granules 4-19), 30-33 (only 32-33 start on
	 * a granule: half of one), 40-47 (two granules) */
	for (int i = 3; i <= 20; i++)
		ram_free(&r, page[i], 1);
	for (int i = 30; i <= 33; i++)
		ram_free(&r, page[i], 1);
	for (int i = 40; i <= 47; i++)
		ram_free(&r, page[i], 1);
	REQUIRE_EQ(ram_alloc_granular(&r, 22, 4, &got, &n), 0);
	REQUIRE_EQ(n, 2);
	CHECK_EQ((got[0].bus - RAM_BUS_BASE) / RAM_PAGE, 4);
	CHECK_EQ(got[0].len / RAM_PAGE, 16);
	CHECK_EQ((got[1].bus - RAM_BUS_BASE) / RAM_PAGE, 40);
	CHECK_EQ(got[1].len / RAM_PAGE, 6); /* the last run need not be whole */
	/* pages 3, 20, 30-33, 46-47 are free, but no granule start has room
	 * for 4: a whole granule can't be found and the request fails */
	CHECK_EQ(ram_alloc_granular(&r, 4, 4, &none, &n), -12);
	CHECK(none == NULL);
	/* a request that fits in what an aligned start offers still works */
	{
		struct ram_run *two;

		REQUIRE_EQ(ram_alloc_granular(&r, 2, 4, &two, &n), 0);
		CHECK_EQ(n, 1);
		CHECK_EQ((two[0].bus - RAM_BUS_BASE) / RAM_PAGE % 4, 0);
		free(two);
	}
	CHECK_EQ(ram_alloc_granular(&r, 1, 0, &none, &n), -22);
	free(got);
	for (int i = 0; i < 64; i++)
		free(page[i]);
	ram_destroy(&r);
}
