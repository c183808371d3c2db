/* SPDX-License-Identifier: MIT */
/*
 * test_core_hostmem.c: host-visible memory. The region's allocator (every
 * sequence ends coalesced, nothing handed out twice), MAP of a mappable
 * HOST3D blob through MAP_BLOB and a user mapping of the region (bytes
 * written on either side seen on the other), and every bad input and
 * device answer leaving the region and the counters as they were.
 */
#include <stdlib.h>
#include <string.h>

#include "region.h"
#include "test_core.h"

#define REGION (1u << 20)

/* ---- the allocator ------------------------------------------------------------ */

static struct os_dev *bare_machine(void)
{
	struct os_dev *os = fake_machine_new(NULL);

	REQUIRE(os);
	return os;
}

TEST(region_hands_out_aligned_disjoint_ranges_and_coalesces)
{
	struct os_dev *os = bare_machine();
	struct region r;
	uint64_t a, b, c;

	REQUIRE_EQ(region_init(&r, os, REGION + 123, OS_PAGE_SIZE), 0);
	CHECK_EQ(r.size, REGION);
	CHECK_EQ(region_alloc(&r, 1, &a), 0);
	CHECK_EQ(region_alloc(&r, OS_PAGE_SIZE + 1, &b), 0);
	CHECK_EQ(region_alloc(&r, OS_PAGE_SIZE, &c), 0);
	CHECK_EQ(a, 0);
	CHECK_EQ(b, OS_PAGE_SIZE);
	CHECK_EQ(c, 3 * OS_PAGE_SIZE);
	CHECK(region_is_allocated(&r, b, 2 * OS_PAGE_SIZE));
	CHECK_EQ(r.free_bytes, REGION - 4 * OS_PAGE_SIZE);
	/* the middle first: a hole, filled again by a fitting request */
	CHECK_EQ(region_free(&r, b, OS_PAGE_SIZE + 1), 0);
	CHECK(!region_is_allocated(&r, b, OS_PAGE_SIZE));
	CHECK_EQ(region_alloc(&r, 2 * OS_PAGE_SIZE, &b), 0);
	CHECK_EQ(b, OS_PAGE_SIZE);
	CHECK_EQ(region_free(&r, a, 1), 0);
	CHECK_EQ(region_free(&r, c, OS_PAGE_SIZE), 0);
	CHECK_EQ(region_free(&r, b, 2 * OS_PAGE_SIZE), 0);
	CHECK_EQ(r.free_bytes, REGION);
	/* one span again: the whole region fits */
	CHECK_EQ(region_alloc(&r, REGION, &a), 0);
	CHECK_EQ(a, 0);
	CHECK_EQ(region_alloc(&r, 1, &b), -VIRGO_ENOSPC);
	CHECK_EQ(region_free(&r, a, REGION), 0);
	CHECK_EQ(region_alloc(&r, REGION + 1, &a), -VIRGO_ENOSPC);
	CHECK_EQ(region_alloc(&r, 0, &a), -VIRGO_ENOSPC);
	region_fini(&r);
	CHECK_EQ(fake_machine_free(os), 0);
}

/* Random sequences, checked against a page map of their own. */
TEST(region_any_sequence_ends_as_it_started)
{
	enum { PAGES = REGION / OS_PAGE_SIZE, SLOTS = 64 };
	struct os_dev *os = bare_machine();
	struct region r;
	uint64_t off[SLOTS], len[SLOTS];
	unsigned char owner[PAGES];
	unsigned seed = 12345;

	memset(owner, 0, sizeof(owner));
	memset(len, 0, sizeof(len));
	REQUIRE_EQ(region_init(&r, os, REGION, OS_PAGE_SIZE), 0);
	for (int step = 0; step < 20000; step++) {
		unsigned i = (seed = seed * 1103515245u + 12345u) >> 16 & (SLOTS - 1);

		if (len[i]) {
			REQUIRE_EQ(region_free(&r, off[i], len[i]), 0);
			for (uint64_t p = off[i] / OS_PAGE_SIZE; p < (off[i] + len[i]) / OS_PAGE_SIZE; p++)
				owner[p] = 0;
			len[i] = 0;
		} else {
			uint64_t want = ((seed >> 8) % 24 + 1) * OS_PAGE_SIZE;

			if (region_alloc(&r, want, &off[i]) == 0) {
				REQUIRE(off[i] % OS_PAGE_SIZE == 0 && off[i] + want <= REGION);
				for (uint64_t p = off[i] / OS_PAGE_SIZE; p < (off[i] + want) / OS_PAGE_SIZE; p++) {
					REQUIRE(!owner[p]); /* never handed out twice */
					owner[p] = (unsigned char)(i + 1);
				}
				len[i] = want;
			}
		}
	}
	for (unsigned i = 0; i < SLOTS; i++)
		if (len[i])
			REQUIRE_EQ(region_free(&r, off[i], len[i]), 0);
	CHECK_EQ(r.free_bytes, REGION);
	/* coalesced into one span: the whole region fits again */
	REQUIRE_EQ(region_alloc(&r, REGION, &off[0]), 0);
	CHECK_EQ(off[0], 0);
	REQUIRE_EQ(region_free(&r, 0, REGION), 0);
	region_fini(&r);
	CHECK_EQ(fake_stats(os)->alloc.live, 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(region_free_without_memory_keeps_the_range_out_of_use)
{
	struct os_dev *os = bare_machine();
	struct region r;
	uint64_t a, b, c;

	REQUIRE_EQ(region_init(&r, os, REGION, OS_PAGE_SIZE), 0);
	REQUIRE_EQ(region_alloc(&r, OS_PAGE_SIZE, &a), 0);
	REQUIRE_EQ(region_alloc(&r, OS_PAGE_SIZE, &b), 0);
	REQUIRE_EQ(region_alloc(&r, OS_PAGE_SIZE, &c), 0);
	/* b alone needs a new span, and there is no memory for it */
	fake_fail_alloc(os, 1);
	CHECK_EQ(region_free(&r, b, OS_PAGE_SIZE), -VIRGO_ENOMEM);
	CHECK_EQ(r.held_bytes, OS_PAGE_SIZE);
	CHECK(region_is_allocated(&r, b, OS_PAGE_SIZE));
	region_fini(&r);
	CHECK_EQ(fake_machine_free(os), 0);
}

/* ---- MAP of host memory ------------------------------------------------------------- */

static void hostmem_rig(struct rig *r, uint64_t hostmem)
{
	struct fake_config c;

	fake_config_init(&c);
	c.features |= FEAT(VIRTIO_GPU_F_RESOURCE_BLOB) | FEAT(VIRTIO_GPU_F_CONTEXT_INIT);
	c.hostmem_size = hostmem;
	rig_up(r, &c, NULL);
}

static int host_blob(struct rig *r, struct core_file *f, uint64_t size, uint32_t flags, uint32_t *bo,
		     uint32_t *res)
{
	struct virgo_resource_create_blob b = { .blob_mem = VIRGO_BLOB_MEM_HOST3D, .blob_flags = flags,
						.size = size, .blob_id = 1 };
	int ret = io_f(r, f, VIRGO_OP_RESOURCE_CREATE_BLOB, &b);

	*bo = b.bo_handle;
	*res = b.res_handle;
	return ret;
}

static uint64_t region_free_now(struct rig *r)
{
	return param(r, VIRGO_PARAM_HOST_VISIBLE_FREE);
}

TEST(hostmem_is_offered_with_blob_and_a_region)
{
	struct rig r;

	hostmem_rig(&r, REGION);
	CHECK_EQ(param(&r, VIRGO_PARAM_HOST_VISIBLE), 1);
	CHECK_EQ(param(&r, VIRGO_PARAM_HOST_VISIBLE_SIZE), REGION);
	CHECK_EQ(region_free_now(&r), REGION);
	rig_down(&r);
	/* a region without the blob feature is of no use: not offered */
	{
		struct fake_config c;

		fake_config_init(&c);
		c.hostmem_size = REGION;
		rig_up(&r, &c, NULL);
		CHECK_EQ(param(&r, VIRGO_PARAM_HOST_VISIBLE), 0);
		CHECK_EQ(param(&r, VIRGO_PARAM_HOST_VISIBLE_SIZE), 0);
		rig_down(&r);
	}
}

TEST(hostmem_map_is_real_in_both_directions)
{
	struct rig r;
	uint32_t bo, res;
	struct virgo_map m;
	const struct fake_cmd *cmd;
	uint8_t *dev, *p;
	size_t len;

	hostmem_rig(&r, REGION);
	REQUIRE_EQ(host_blob(&r, r.f, 10000, VIRGO_BLOB_FLAG_USE_MAPPABLE, &bo, &res), 0);
	m = (struct virgo_map){ .bo_handle = bo };
	REQUIRE_EQ(io(&r, VIRGO_OP_MAP, &m), 0);
	CHECK_EQ(m.size, 10000);
	CHECK_EQ(m.map_info, VIRGO_MAP_CACHED);
	cmd = fake_dev_log_last(r.d, VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB);
	REQUIRE(cmd);
	CHECK_EQ(cmd->resource_id, res);
	CHECK_EQ(region_free_now(&r), REGION - 3 * OS_PAGE_SIZE);
	p = (uint8_t *)(uintptr_t)m.addr;
	REQUIRE(p);
	/* the guest writes, the device reads */
	for (unsigned i = 0; i < 10000; i++)
		p[i] = (uint8_t)(i * 7 + 1);
	dev = fake_dev_res_storage(r.d, res, &len);
	REQUIRE(dev && len >= 10000);
	for (unsigned i = 0; i < 10000; i++)
		if (dev[i] != (uint8_t)(i * 7 + 1)) {
			t_fail(__FILE__, __LINE__, "byte %u: device sees %#x", i, dev[i]);
			break;
		}
	/* the device writes, the guest reads */
	memset(dev + 100, 0xa5, 50);
	CHECK_EQ(p[100], 0xa5);
	CHECK_EQ(p[149], 0xa5);
	CHECK_EQ(p[150], (uint8_t)(150 * 7 + 1));
	/* mapping again: the same mapping, nothing asked of the device */
	{
		unsigned maps = fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB);
		struct virgo_map again = { .bo_handle = bo };

		CHECK_EQ(io(&r, VIRGO_OP_MAP, &again), 0);
		CHECK_EQ(again.addr, m.addr);
		CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB), maps);
	}
	CHECK_EQ(io(&r, VIRGO_OP_UNMAP, &(struct virgo_unmap){ .bo_handle = bo }), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB), 1);
	CHECK_EQ(region_free_now(&r), REGION);
	CHECK_EQ(fake_caller_maps(r.c), 0);
	/* the device keeps the bytes after the unmap */
	dev = fake_dev_res_storage(r.d, res, &len);
	CHECK_EQ(dev[0], 1);
	rig_down(&r);
}

TEST(hostmem_64_map_unmap_cycles_leave_the_region_as_it_started)
{
	struct rig r;
	uint32_t bo[4], res;

	hostmem_rig(&r, REGION);
	for (int i = 0; i < 4; i++)
		REQUIRE_EQ(host_blob(&r, r.f, (uint64_t)(i + 1) * 12288, VIRGO_BLOB_FLAG_USE_MAPPABLE, &bo[i], &res), 0);
	for (int cycle = 0; cycle < 64; cycle++) {
		for (int i = 0; i < 4; i++)
			REQUIRE_EQ(map_bo(&r, r.f, bo[(i + cycle) % 4], NULL, NULL), 0);
		for (int i = 0; i < 4; i++)
			REQUIRE_EQ(io(&r, VIRGO_OP_UNMAP, &(struct virgo_unmap){ .bo_handle = bo[(i * 3 + cycle) % 4] }), 0);
	}
	CHECK_EQ(region_free_now(&r), REGION);
	CHECK_EQ(fake_dev_stats(r.d)->blob_maps, 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB), 256);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB), 256);
	rig_down(&r);
}

TEST(hostmem_bad_inputs_get_errors_and_leave_nothing)
{
	struct rig r;
	uint32_t plain, big, ok, res;

	hostmem_rig(&r, REGION);
	/* made without USE_MAPPABLE */
	REQUIRE_EQ(host_blob(&r, r.f, 4096, 0, &plain, &res), 0);
	CHECK_EQ(map_bo(&r, r.f, plain, NULL, NULL), -VIRGO_EINVAL);
	/* larger than the region */
	REQUIRE_EQ(host_blob(&r, r.f, REGION + 4096, VIRGO_BLOB_FLAG_USE_MAPPABLE, &big, &res), 0);
	CHECK_EQ(map_bo(&r, r.f, big, NULL, NULL), -VIRGO_ENOSPC);
	/* the region exhausted by others */
	REQUIRE_EQ(host_blob(&r, r.f, REGION, VIRGO_BLOB_FLAG_USE_MAPPABLE, &big, &res), 0);
	REQUIRE_EQ(host_blob(&r, r.f, 4096, VIRGO_BLOB_FLAG_USE_MAPPABLE, &ok, &res), 0);
	CHECK_EQ(map_bo(&r, r.f, big, NULL, NULL), 0);
	CHECK_EQ(map_bo(&r, r.f, ok, NULL, NULL), -VIRGO_ENOSPC);
	CHECK_EQ(io(&r, VIRGO_OP_UNMAP, &(struct virgo_unmap){ .bo_handle = big }), 0);
	CHECK_EQ(map_bo(&r, r.f, ok, NULL, NULL), 0);
	/* unmapping what is not mapped, or twice */
	CHECK_EQ(io(&r, VIRGO_OP_UNMAP, &(struct virgo_unmap){ .bo_handle = big }), -VIRGO_EINVAL);
	CHECK_EQ(io(&r, VIRGO_OP_UNMAP, &(struct virgo_unmap){ .bo_handle = ok }), 0);
	CHECK_EQ(io(&r, VIRGO_OP_UNMAP, &(struct virgo_unmap){ .bo_handle = ok }), -VIRGO_EINVAL);
	/* mapping after the resource is gone */
	CHECK_EQ(close_bo(&r, r.f, ok), 0);
	CHECK_EQ(map_bo(&r, r.f, ok, NULL, NULL), -VIRGO_ENOENT);
	/* map_info in must be 0 */
	CHECK_EQ(io(&r, VIRGO_OP_MAP, &(struct virgo_map){ .bo_handle = big, .map_info = 1 }), -VIRGO_EINVAL);
	CHECK_EQ(region_free_now(&r), REGION);
	CHECK_EQ(fake_stats(r.os)->user_map.live, 0);
	rig_down(&r);
}

/* What the device answers, each: the region back, nothing mapped. */
TEST(hostmem_device_answers_that_fail_the_map_leave_nothing)
{
	static const struct { uint32_t resp; int want; } errs[] = {
		{ VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, -VIRGO_EINVAL },
		{ VIRTIO_GPU_RESP_ERR_UNSPEC, -VIRGO_EIO },
		{ VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, -VIRGO_ENOMEM },
	};
	struct rig r;
	uint32_t bo, res;

	hostmem_rig(&r, REGION);
	REQUIRE_EQ(host_blob(&r, r.f, 8192, VIRGO_BLOB_FLAG_USE_MAPPABLE, &bo, &res), 0);
	for (unsigned i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		fake_dev_script_err(r.d, VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, errs[i].resp, 1);
		CHECK_EQ(map_bo(&r, r.f, bo, NULL, NULL), errs[i].want);
		CHECK_EQ(region_free_now(&r), REGION);
	}
	/* a caching mode the guest does not know: refused, undone on the device */
	fake_dev_set_map_info(r.d, 0x7);
	CHECK_EQ(map_bo(&r, r.f, bo, NULL, NULL), -VIRGO_EPROTO);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB), 1);
	CHECK_EQ(fake_dev_stats(r.d)->blob_maps, 0);
	CHECK_EQ(region_free_now(&r), REGION);
	CHECK(fake_log_contains(r.os, "unknown map_info"));
	/* write-combined and uncached are passed on */
	fake_dev_set_map_info(r.d, VIRTIO_GPU_MAP_CACHE_WC);
	{
		struct virgo_map m = { .bo_handle = bo };

		CHECK_EQ(io(&r, VIRGO_OP_MAP, &m), 0);
		CHECK_EQ(m.map_info, VIRGO_MAP_WC);
	}
	CHECK_EQ(fake_stats(r.os)->user_map.live, 1);
	rig_down(&r);
}

/* MAP_BLOB never answered: the device is lost, and it may have placed the
 * blob, so the range is never given out again. */
TEST(hostmem_map_blob_never_answered_holds_its_range)
{
	struct gpu_params p = { .cmd_timeout_ns = 100 * MS };
	struct fake_config c;
	struct rig r;
	uint32_t bo, res;
	struct gpu_stats st;

	fake_config_init(&c);
	c.features |= FEAT(VIRTIO_GPU_F_RESOURCE_BLOB);
	c.hostmem_size = REGION;
	rig_up(&r, &c, &p);
	REQUIRE_EQ(host_blob(&r, r.f, 8192, VIRGO_BLOB_FLAG_USE_MAPPABLE, &bo, &res), 0);
	fake_dev_script(r.d, VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, FAKE_DROP, 1);
	CHECK_EQ(map_bo(&r, r.f, bo, NULL, NULL), -VIRGO_EDEVLOST);
	gpu_get_stats(r.gpu, &st);
	CHECK_EQ(st.region_held, 8192);
	CHECK_EQ(st.region_free, REGION - 8192);
	rig_close(&r, r.f);
	r.f = NULL;
	CHECK_EQ(gpu_reset(r.gpu), 0);
	REQUIRE_EQ(core_open(r.gpu, &r.f), 0);
	rig_down(&r);
}

TEST(hostmem_a_closed_handle_unmaps_and_gives_the_range_back)
{
	struct rig r;
	struct core_file *f2;
	uint32_t bo, res;

	hostmem_rig(&r, REGION);
	REQUIRE_EQ(core_open(r.gpu, &f2), 0);
	REQUIRE_EQ(host_blob(&r, f2, 65536, VIRGO_BLOB_FLAG_USE_MAPPABLE, &bo, &res), 0);
	REQUIRE_EQ(map_bo(&r, f2, bo, NULL, NULL), 0);
	CHECK_EQ(region_free_now(&r), REGION - 65536);
	/* the process dies holding it: cleanup in it, then close */
	rig_close(&r, f2);
	CHECK_EQ(region_free_now(&r), REGION);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB), 1);
	CHECK_EQ(fake_caller_maps(r.c), 0);
	CHECK_EQ(fake_dev_stats(r.d)->resources, 0);
	rig_down(&r);
}

/* CLOSE without cleanup (another process closed the last handle): the
 * user mapping cannot be undone from there, so its range stays out of
 * use; a new mapping never lands on it. */
TEST(hostmem_a_mapping_nobody_can_undo_keeps_its_range_out_of_use)
{
	struct rig r;
	struct os_caller *other;
	struct core_file *f2;
	uint32_t bo, bo2, res;
	struct virgo_map m = { 0 };
	struct gpu_stats st;

	hostmem_rig(&r, 2 * 65536);
	other = fake_caller_new(r.os);
	REQUIRE(other);
	REQUIRE_EQ(core_open(r.gpu, &f2), 0);
	REQUIRE_EQ(host_blob(&r, f2, 65536, VIRGO_BLOB_FLAG_USE_MAPPABLE, &bo, &res), 0);
	m.bo_handle = bo;
	REQUIRE_EQ(core_ioctl(f2, other, VIRGO_OP_MAP, &m, sizeof(m)), 0);
	/* The OS layer's unmap without a process, and the process's exit with
	 * a mapping, are the fake's own complaints: expected here. */
	fake_set_strict(r.os, false);
	core_close(f2);
	fake_caller_free(other);
	fake_set_strict(r.os, true);
	gpu_get_stats(r.gpu, &st);
	CHECK_EQ(st.region_held, 65536);
	CHECK_EQ(st.region_free, 65536);
	/* a new mapping lands on the other half, never on the held one */
	REQUIRE_EQ(host_blob(&r, r.f, 65536, VIRGO_BLOB_FLAG_USE_MAPPABLE, &bo2, &res), 0);
	m = (struct virgo_map){ .bo_handle = bo2 };
	REQUIRE_EQ(io(&r, VIRGO_OP_MAP, &m), 0);
	gpu_get_stats(r.gpu, &st);
	CHECK_EQ(st.region_free, 0);
	CHECK_EQ(map_bo(&r, r.f, bo2, NULL, NULL), 0);
	{
		uint32_t bo3;

		REQUIRE_EQ(host_blob(&r, r.f, 4096, VIRGO_BLOB_FLAG_USE_MAPPABLE, &bo3, &res), 0);
		CHECK_EQ(map_bo(&r, r.f, bo3, NULL, NULL), -VIRGO_ENOSPC);
	}
	rig_down(&r);
}

TEST(hostmem_a_32bit_process_gets_no_region_mapping_out_of_reach)
{
	struct rig r;
	uint32_t bo, res;

	hostmem_rig(&r, REGION);
	fake_caller_set_32bit(r.c);
	REQUIRE_EQ(host_blob(&r, r.f, 4096, VIRGO_BLOB_FLAG_USE_MAPPABLE, &bo, &res), 0);
	CHECK_EQ(map_bo(&r, r.f, bo, NULL, NULL), -VIRGO_ENOMEM);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB), 1);
	CHECK_EQ(region_free_now(&r), REGION);
	CHECK_EQ(fake_stats(r.os)->user_map.live, 0);
	rig_down(&r);
}

/* Every allocation of the map path failing in turn. */
TEST(hostmem_allocation_failure_at_every_step_leaves_nothing)
{
	unsigned k;

	for (k = 1; k < 100; k++) {
		struct rig r;
		uint32_t bo, res;
		int ret;

		hostmem_rig(&r, REGION);
		REQUIRE_EQ(host_blob(&r, r.f, 8192, VIRGO_BLOB_FLAG_USE_MAPPABLE, &bo, &res), 0);
		fake_fail_alloc(r.os, k);
		ret = map_bo(&r, r.f, bo, NULL, NULL);
		fake_fail_alloc(r.os, 0);
		if (ret == 0) {
			rig_down(&r);
			break;
		}
		CHECK_EQ(ret, -VIRGO_ENOMEM);
		CHECK_EQ(region_free_now(&r), REGION);
		CHECK_EQ(fake_dev_stats(r.d)->blob_maps, 0);
		CHECK_EQ(fake_stats(r.os)->user_map.live, 0);
		rig_down(&r);
		if (t_failed())
			break;
	}
	CHECK(k > 1 && k < 100);
}
