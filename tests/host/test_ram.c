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
