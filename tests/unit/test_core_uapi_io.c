/* SPDX-License-Identifier: MIT */
/*
 * test_core_uapi_io.c: the uAPI dispatcher, part 2: MAP/UNMAP (and that a
 * mapping is the backing the device reads and writes), EXECBUFFER,
 * TRANSFER_TO_HOST/FROM_HOST (boxes against every target type, overflow),
 * WAIT and FENCE_WAIT. Good input and bad input each; a rejected request
 * sends nothing to the device.
 */
#include <string.h>

#include "test_core.h"

#define U64(p) ((uint64_t)(uintptr_t)(p))

#define REJECT(r, op, arg, want)                                             \
	do {                                                                 \
		size_t mark_ = fake_dev_log_count((r)->d);                   \
		CHECK_EQ(io((r), (op), (arg)), (want));                      \
		CHECK_EQ(fake_dev_log_count((r)->d), mark_);                 \
	} while (0)

static struct virgo_box box(uint32_t x, uint32_t y, uint32_t z, uint32_t w, uint32_t h, uint32_t d)
{
	return (struct virgo_box){ x, y, z, w, h, d };
}

/* ---- MAP / UNMAP -------------------------------------------------------------- */

TEST(map_returns_one_mapping_per_resource_and_unmap_drops_it)
{
	struct rig r;
	uint32_t h, g;
	uint8_t *p1, *p2, *q;
	uint64_t size, gsize;
	struct virgo_unmap um;
	size_t mark;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 8192, 3 * 4096 - 1, &h, NULL), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &g, NULL), 0);
	mark = fake_dev_log_count(r.d);
	CHECK_EQ(map_bo(&r, r.f, h, &p1, &size), 0);
	REQUIRE(p1 != NULL);
	CHECK_EQ(size, 3 * 4096);
	CHECK_EQ(map_bo(&r, r.f, h, &p2, NULL), 0);
	CHECK(p1 == p2);
	CHECK_EQ(fake_caller_maps(r.c), 1);
	CHECK_EQ(map_bo(&r, r.f, g, &q, &gsize), 0);
	CHECK_EQ(gsize, 4096);
	CHECK(q != p1);
	CHECK_EQ(fake_caller_maps(r.c), 2);
	p1[0] = 1;
	p1[size - 1] = 2;
	um = (struct virgo_unmap){ .bo_handle = h };
	CHECK_EQ(io(&r, VIRGO_OP_UNMAP, &um), 0);
	CHECK_EQ(fake_caller_maps(r.c), 1);
	REJECT(&r, VIRGO_OP_UNMAP, &um, -VIRGO_EINVAL);
	/* Mapped again: the same bytes. */
	CHECK_EQ(map_bo(&r, r.f, h, &p2, NULL), 0);
	REQUIRE(p2 != NULL);
	CHECK_EQ(p2[0], 1);
	CHECK_EQ(p2[size - 1], 2);
	/* Mapping is the OS's business: the device heard nothing. */
	CHECK_EQ(fake_dev_log_count(r.d), mark);
	rig_down(&r);
}

TEST(map_and_unmap_reject_bad_requests)
{
	struct rig r;
	uint32_t h;
	struct virgo_map m;
	struct virgo_unmap um;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &h, NULL), 0);
	m = (struct virgo_map){ .bo_handle = h, .map_info = 1 };
	REJECT(&r, VIRGO_OP_MAP, &m, -VIRGO_EINVAL);
	m = (struct virgo_map){ .bo_handle = h + 1 };
	REJECT(&r, VIRGO_OP_MAP, &m, -VIRGO_ENOENT);
	m = (struct virgo_map){ .bo_handle = 0 };
	REJECT(&r, VIRGO_OP_MAP, &m, -VIRGO_ENOENT);
	um = (struct virgo_unmap){ .bo_handle = h, .pad = 1 };
	REJECT(&r, VIRGO_OP_UNMAP, &um, -VIRGO_EINVAL);
	um = (struct virgo_unmap){ .bo_handle = 0xffffffffu };
	REJECT(&r, VIRGO_OP_UNMAP, &um, -VIRGO_ENOENT);
	um = (struct virgo_unmap){ .bo_handle = h };
	REJECT(&r, VIRGO_OP_UNMAP, &um, -VIRGO_EINVAL); /* not mapped */
	/* The OS cannot map: the error comes back, nothing is left behind. */
	fake_fail_alloc(r.os, 1);
	m = (struct virgo_map){ .bo_handle = h };
	REJECT(&r, VIRGO_OP_MAP, &m, -VIRGO_ENOMEM);
	CHECK_EQ(fake_caller_maps(r.c), 0);
	CHECK_EQ(io(&r, VIRGO_OP_MAP, &m), 0);
	CHECK_EQ(fake_caller_maps(r.c), 1);
	rig_down(&r);
}

TEST(map_aliases_the_backing_both_ways)
{
	struct rig r;
	uint32_t h, res;
	uint8_t *p, *storage;
	uint64_t size, fence;
	size_t slen;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 16384, 16384, &h, &res), 0);
	REQUIRE_EQ(map_bo(&r, r.f, h, &p, &size), 0);
	REQUIRE_EQ(size, 16384);
	/* Guest to host: write through the mapping, transfer, compare the
	 * device's copy. */
	for (uint32_t i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	CHECK_EQ(transfer(&r, r.f, true, h, 0, box(0, 0, 0, 16384, 1, 1), 0, &fence), 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), 0);
	storage = fake_dev_res_storage(r.d, res, &slen);
	REQUIRE(storage);
	REQUIRE_EQ(slen, 16384);
	CHECK_EQ(memcmp(storage, p, 16384), 0);
	/* Host to guest, a part at an offset: only that part changes. */
	memset(storage, 0xa5, slen);
	CHECK_EQ(transfer(&r, r.f, false, h, 0, box(0, 0, 0, 100, 1, 1), 5000, &fence), 0);
	CHECK_EQ(wait_bo(&r, r.f, h, 0, 0), 0);
	for (uint32_t i = 0; i < size; i++) {
		uint8_t want = i >= 5000 && i < 5100 ? 0xa5 : (uint8_t)(i * 7 + 3);

		if (p[i] != want) {
			t_fail(__FILE__, __LINE__, "byte %u of the mapping is %#x, not %#x", i, p[i], want);
			break;
		}
	}
	rig_down(&r);
}

/* ---- EXECBUFFER ------------------------------------------------------------------ */

TEST(exec_submits_the_stream_and_marks_resources_busy)
{
	struct rig r;
	uint32_t h[3], words[4] = { 0x11, 0x22, 0x33, 0x44 };
	uint64_t fence;
	const uint8_t *data;
	const struct fake_cmd *cmd;
	size_t len;

	rig_up(&r, NULL, NULL);
	for (int i = 0; i < 3; i++)
		REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &h[i], NULL), 0);
	fake_dev_hold_fences(r.d, true, 0);
	/* The same handle twice is allowed. */
	h[2] = h[0];
	CHECK_EQ(exec(&r, r.f, words, sizeof(words), h, 3, &fence), 0);
	CHECK_NE(fence, 0);
	cmd = fake_dev_log_last(r.d, VIRTIO_GPU_CMD_SUBMIT_3D);
	REQUIRE(cmd);
	CHECK_EQ(cmd->ctx_id, fake_dev_log_last(r.d, VIRTIO_GPU_CMD_CTX_CREATE)->ctx_id);
	CHECK(!(cmd->flags & VIRTIO_GPU_FLAG_INFO_RING_IDX));
	data = fake_dev_submit_data(r.d, &len);
	CHECK_EQ(len, sizeof(words));
	CHECK_EQ(memcmp(data, words, sizeof(words)), 0);
	CHECK_EQ(wait_bo(&r, r.f, h[0], VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	CHECK_EQ(wait_bo(&r, r.f, h[1], VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	fake_dev_hold_fences(r.d, false, 0);
	CHECK_EQ(fence_wait(&r, r.f, fence, 0, 0), 0);
	CHECK_EQ(wait_bo(&r, r.f, h[1], VIRGO_WAIT_NOWAIT, 0), 0);
	rig_down(&r);
}

TEST(exec_rejects_bad_requests_before_the_device)
{
	struct rig r;
	uint32_t h, words[2] = { 1, 2 }, handles[2];
	struct virgo_execbuffer a;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &h, NULL), 0);
#define BADX(change, want)                                                  \
	do {                                                                 \
		a = (struct virgo_execbuffer){ .size = 8, .command = U64(words) }; \
		change;                                                      \
		REJECT(&r, VIRGO_OP_EXECBUFFER, &a, want);                   \
	} while (0)
	BADX(a.flags = 1, -VIRGO_EINVAL);
	BADX(a.flags = 8, -VIRGO_EINVAL);
	BADX(a.flags = 0x80000000u, -VIRGO_EINVAL);
	BADX(a.size = 0, -VIRGO_EINVAL);
	BADX(a.size = 6, -VIRGO_EINVAL);
	BADX(a.size = VIRGO_MAX_EXEC_SIZE + 4, -VIRGO_E2BIG);
	BADX(a.size = 0xfffffffcu, -VIRGO_E2BIG);
	BADX((a.num_bo_handles = VIRGO_MAX_BO_HANDLES + 1, a.bo_handles = U64(handles)), -VIRGO_E2BIG);
	BADX(a.num_bo_handles = 0xffffffffu, -VIRGO_E2BIG);
	/* Rings exist only after CONTEXT_INIT asked for them. */
	BADX(a.flags = VIRGO_EXEC_RING_IDX, -VIRGO_EINVAL);
	BADX(a.ring_idx = 1, -VIRGO_EINVAL);
	/* Handles this file does not have. */
	handles[0] = h;
	handles[1] = h + 1;
	BADX((a.num_bo_handles = 2, a.bo_handles = U64(handles)), -VIRGO_ENOENT);
	handles[1] = 0;
	BADX((a.num_bo_handles = 2, a.bo_handles = U64(handles)), -VIRGO_ENOENT);
	/* Pointers the caller cannot give. */
	BADX(a.command = 0, -VIRGO_EFAULT);
	BADX(a.command = 0x8000, -VIRGO_EFAULT);
	BADX((a.num_bo_handles = 1, a.bo_handles = 0), -VIRGO_EFAULT);
	BADX((a.num_bo_handles = 1, a.bo_handles = ~0ull - 1), -VIRGO_EFAULT);
	handles[1] = h;
	BADX((a.num_bo_handles = 2, a.bo_handles = U64(handles), fake_fail_copy(r.os, 1)), -VIRGO_EFAULT);
	BADX((a.num_bo_handles = 2, a.bo_handles = U64(handles), fake_fail_copy(r.os, 2)), -VIRGO_EFAULT);
	BADX((a.size = 8192, a.command = U64(words), fake_fail_copy(r.os, 1)), -VIRGO_EFAULT);
#undef BADX
	/* None left the resource busy. */
	CHECK_EQ(wait_bo(&r, r.f, h, VIRGO_WAIT_NOWAIT, 0), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_SUBMIT_3D), 0);
	rig_down(&r);
}

TEST(exec_takes_the_largest_handle_list)
{
	static uint32_t handles[VIRGO_MAX_BO_HANDLES];
	struct rig r;
	uint32_t h, g;
	uint64_t fence;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &h, NULL), 0);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &g, NULL), 0);
	for (uint32_t i = 0; i < VIRGO_MAX_BO_HANDLES; i++)
		handles[i] = i % 2 ? h : g;
	fake_dev_hold_fences(r.d, true, 0);
	CHECK_EQ(exec_words(&r, r.f, 2, handles, VIRGO_MAX_BO_HANDLES, &fence), 0);
	CHECK_EQ(wait_bo(&r, r.f, g, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	CHECK_EQ(wait_bo(&r, r.f, h, VIRGO_WAIT_NOWAIT, 0), -VIRGO_EBUSY);
	fake_dev_hold_fences(r.d, false, 0);
	CHECK_EQ(wait_bo(&r, r.f, h, 0, 0), 0);
	rig_down(&r);
}

/* A request refused for a bad handle must not reach the device at all, not
 * even as the lazy CTX_CREATE of a handle without a context yet. */
TEST(exec_with_a_bad_handle_sends_nothing_on_a_fresh_handle)
{
	struct rig r;
	uint32_t words[2] = { 1, 2 }, bad = 5;

	rig_up(&r, NULL, NULL);
	CHECK_EQ(exec(&r, r.f, words, 8, &bad, 1, NULL), -VIRGO_ENOENT);
	CHECK_EQ(fake_dev_log_count(r.d), 0);
	rig_down(&r);
}

/* ---- TRANSFER ----------------------------------------------------------------------- */

struct tcase {
	uint32_t level;
	struct virgo_box b;
	uint64_t offset;
	int want;
};

/* Creates a resource of rc (64 KiB of backing) and runs each case; good
 * ones must also be accepted by the device. */
static void transfer_cases(struct rig *r, struct virgo_resource_create rc, const struct tcase *tc, size_t n)
{
	rc.size = 65536;
	REQUIRE_EQ(io(r, VIRGO_OP_RESOURCE_CREATE, &rc), 0);
	for (size_t i = 0; i < n; i++) {
		for (int dir = 0; dir < 2; dir++) {
			size_t mark = fake_dev_log_count(r->d);
			uint64_t fence = 0;
			int ret = transfer(r, r->f, dir == 0, rc.bo_handle, tc[i].level, tc[i].b, tc[i].offset, &fence);

			if (ret != tc[i].want)
				t_fail(__FILE__, __LINE__, "target %u case %zu (dir %d): %d, want %d", rc.target, i,
				       dir, ret, tc[i].want);
			if (tc[i].want) {
				CHECK_EQ(fake_dev_log_count(r->d), mark);
			} else {
				CHECK_EQ(fence_wait(r, r->f, fence, 0, 0), 0);
				CHECK_EQ(log_count_from(r, mark, FAKE_CMD_ANY), 1);
			}
		}
	}
}

TEST(transfer_checks_boxes_of_buffers)
{
	struct rig r;
	static const struct tcase tc[] = {
		{ 0, { 0, 0, 0, 4096, 1, 1 }, 0, 0 },
		{ 0, { 4000, 0, 0, 96, 1, 1 }, 60000, 0 },
		{ 0, { 4000, 0, 0, 97, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 0, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 4096, 0, 0, 1, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0xffffffffu, 0, 0, 2, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 1, 0, 0, 0xffffffffu, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 1, 0, 16, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 16, 2, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 1, 16, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 16, 1, 0 }, 0, -VIRGO_EINVAL },
		{ 1, { 0, 0, 0, 16, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 16, 1, 1 }, 65536, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 16, 1, 1 }, ~0ull, -VIRGO_EINVAL },
	};
	struct virgo_resource_create rc = rc_default(TGT_BUFFER, 4096, 1, 1, 1);

	rig_up(&r, NULL, NULL);
	transfer_cases(&r, rc, tc, sizeof(tc) / sizeof(tc[0]));
	rig_down(&r);
}

TEST(transfer_checks_boxes_of_1d_and_1d_arrays)
{
	struct rig r;
	static const struct tcase t1d[] = {
		{ 0, { 0, 0, 0, 64, 1, 1 }, 0, 0 },
		{ 2, { 0, 0, 0, 16, 1, 1 }, 0, 0 },
		{ 2, { 0, 0, 0, 17, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 1, 0, 64, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 64, 2, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 1, 64, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 3, { 0, 0, 0, 1, 1, 1 }, 0, -VIRGO_EINVAL },
	};
	/* Layers are z (Mesa's virgl sends them there, and virglrenderer
	 * checks y against the height, 1); found by piglit's layered-rendering
	 * and arb_copy_image 1D-array tests, which this refused. */
	static const struct tcase t1da[] = {
		{ 0, { 0, 0, 0, 64, 1, 1 }, 0, 0 },
		{ 0, { 0, 0, 3, 64, 1, 1 }, 0, 0 },
		{ 0, { 0, 0, 0, 64, 1, 4 }, 0, 0 },
		{ 0, { 0, 0, 3, 64, 1, 2 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 64, 1, 5 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0xffffffffu, 64, 1, 2 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 1, 0, 64, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 64, 2, 1 }, 0, -VIRGO_EINVAL },
	};
	struct virgo_resource_create rc = rc_default(TGT_1D, 64, 1, 1, 1);

	rig_up(&r, NULL, NULL);
	rc.last_level = 2;
	transfer_cases(&r, rc, t1d, sizeof(t1d) / sizeof(t1d[0]));
	transfer_cases(&r, rc_default(TGT_1D_ARRAY, 64, 1, 1, 4), t1da, sizeof(t1da) / sizeof(t1da[0]));
	rig_down(&r);
}

TEST(transfer_checks_boxes_of_2d_and_rect_with_levels)
{
	struct rig r;
	static const struct tcase t2d[] = {
		{ 0, { 0, 0, 0, 64, 32, 1 }, 0, 0 },
		{ 1, { 0, 0, 0, 32, 16, 1 }, 0, 0 },
		{ 6, { 0, 0, 0, 1, 1, 1 }, 0, 0 },
		{ 1, { 0, 0, 0, 33, 16, 1 }, 0, -VIRGO_EINVAL },
		{ 1, { 0, 8, 0, 32, 9, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 64, 32, 2 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 1, 64, 32, 1 }, 0, -VIRGO_EINVAL },
		{ 7, { 0, 0, 0, 1, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0xffffffffu, { 0, 0, 0, 1, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 63, 31, 0, 2, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0x80000000u, 0, 1, 0x80000000u, 1 }, 0, -VIRGO_EINVAL },
	};
	static const struct tcase trect[] = {
		{ 0, { 0, 0, 0, 20, 10, 1 }, 0, 0 },
		{ 0, { 0, 0, 0, 20, 11, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 21, 10, 1 }, 0, -VIRGO_EINVAL },
	};
	struct virgo_resource_create rc = rc_default(TGT_2D, 64, 32, 1, 1);

	rig_up(&r, NULL, NULL);
	rc.last_level = 6;
	transfer_cases(&r, rc, t2d, sizeof(t2d) / sizeof(t2d[0]));
	transfer_cases(&r, rc_default(TGT_RECT, 20, 10, 1, 1), trect, sizeof(trect) / sizeof(trect[0]));
	rig_down(&r);
}

TEST(transfer_checks_boxes_of_3d_by_level)
{
	struct rig r;
	static const struct tcase tc[] = {
		{ 0, { 0, 0, 0, 16, 16, 8 }, 0, 0 },
		{ 1, { 0, 0, 0, 8, 8, 4 }, 0, 0 },
		{ 1, { 0, 0, 3, 8, 8, 2 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 8, 1, 1, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 16, 16, 0 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0xfffffff0u, 1, 1, 0x20 }, 0, -VIRGO_EINVAL },
	};
	struct virgo_resource_create rc = rc_default(TGT_3D, 16, 16, 8, 1);

	rig_up(&r, NULL, NULL);
	rc.last_level = 1;
	transfer_cases(&r, rc, tc, sizeof(tc) / sizeof(tc[0]));
	rig_down(&r);
}

TEST(transfer_checks_boxes_of_layered_targets)
{
	struct rig r;
	static const struct tcase tcube[] = {
		{ 0, { 0, 0, 0, 16, 16, 6 }, 0, 0 },
		{ 0, { 0, 0, 5, 16, 16, 2 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 6, 16, 16, 1 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 0, 0, 17, 16, 1 }, 0, -VIRGO_EINVAL },
	};
	static const struct tcase t2da[] = {
		{ 0, { 0, 0, 1, 16, 16, 2 }, 0, 0 },
		{ 0, { 0, 0, 2, 16, 16, 2 }, 0, -VIRGO_EINVAL },
		{ 0, { 0, 16, 0, 16, 1, 1 }, 0, -VIRGO_EINVAL },
	};
	static const struct tcase tca[] = {
		{ 0, { 0, 0, 0, 8, 8, 12 }, 0, 0 },
		{ 0, { 0, 0, 11, 8, 8, 2 }, 0, -VIRGO_EINVAL },
	};

	rig_up(&r, NULL, NULL);
	transfer_cases(&r, rc_default(TGT_CUBE, 16, 16, 1, 6), tcube, sizeof(tcube) / sizeof(tcube[0]));
	transfer_cases(&r, rc_default(TGT_2D_ARRAY, 16, 16, 1, 3), t2da, sizeof(t2da) / sizeof(t2da[0]));
	transfer_cases(&r, rc_default(TGT_CUBE_ARRAY, 8, 8, 1, 12), tca, sizeof(tca) / sizeof(tca[0]));
	rig_down(&r);
}

TEST(transfer_rejects_unknown_handles)
{
	struct rig r;
	uint32_t h;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &h, NULL), 0);
	REJECT(&r, VIRGO_OP_TRANSFER_TO_HOST, (&(struct virgo_transfer){ .bo_handle = h + 1, .box = box(0, 0, 0, 1, 1, 1) }),
	       -VIRGO_ENOENT);
	REJECT(&r, VIRGO_OP_TRANSFER_FROM_HOST, (&(struct virgo_transfer){ .bo_handle = 0, .box = box(0, 0, 0, 1, 1, 1) }),
	       -VIRGO_ENOENT);
	rig_down(&r);
}

/* The box fits the resource, but the guest bytes it spans (offset, strides)
 * do not fit the backing: refused before the device. */
TEST(transfer_past_the_backing_is_refused_before_the_device)
{
	struct rig r;
	uint32_t h, t;
	size_t mark;
	struct virgo_transfer a;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 65536, 4096, &h, NULL), 0);
	REQUIRE_EQ(mk_tex2d(&r, r.f, 64, 64, &t, NULL), 0); /* 16 KiB of backing */
	mark = fake_dev_log_count(r.d);
	CHECK_EQ(transfer(&r, r.f, true, h, 0, box(0, 0, 0, 65536, 1, 1), 0, NULL), -VIRGO_EINVAL);
	CHECK_EQ(transfer(&r, r.f, false, h, 0, box(0, 0, 0, 16, 1, 1), 4090, NULL), -VIRGO_EINVAL);
	CHECK_EQ(transfer(&r, r.f, false, h, 0, box(0, 0, 0, 16, 1, 1), ~0ull - 8, NULL), -VIRGO_EINVAL);
	/* Rows 1000 bytes apart: 64 of them are past 16 KiB. */
	a = (struct virgo_transfer){ .bo_handle = t, .stride = 1000, .box = box(0, 0, 0, 64, 64, 1) };
	CHECK_EQ(io(&r, VIRGO_OP_TRANSFER_TO_HOST, &a), -VIRGO_EINVAL);
	a = (struct virgo_transfer){ .bo_handle = t, .stride = 0xffffffffu, .box = box(0, 0, 0, 1, 2, 1) };
	CHECK_EQ(io(&r, VIRGO_OP_TRANSFER_TO_HOST, &a), -VIRGO_EINVAL);
	a = (struct virgo_transfer){ .bo_handle = t, .layer_stride = 0xffffffffu, .box = box(0, 0, 0, 1, 1, 1) };
	CHECK_EQ(io(&r, VIRGO_OP_TRANSFER_FROM_HOST, &a), 0); /* one layer: its stride is unused */
	CHECK_EQ(fake_dev_log_count(r.d), mark + 1);
	rig_down(&r);
}

/* ---- WAIT, FENCE_WAIT --------------------------------------------------------------- */

TEST(wait_and_fence_wait_reject_bad_requests)
{
	struct rig r;
	uint32_t h;
	uint64_t fence;
	struct virgo_wait w;
	struct virgo_fence_wait fw;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &h, NULL), 0);
	w = (struct virgo_wait){ .bo_handle = h, .flags = 2 };
	REJECT(&r, VIRGO_OP_WAIT, &w, -VIRGO_EINVAL);
	w = (struct virgo_wait){ .bo_handle = h + 1 };
	REJECT(&r, VIRGO_OP_WAIT, &w, -VIRGO_ENOENT);
	/* No fence yet on this handle. */
	fw = (struct virgo_fence_wait){ .fence = 1 };
	REJECT(&r, VIRGO_OP_FENCE_WAIT, &fw, -VIRGO_EINVAL);
	REQUIRE_EQ(exec_words(&r, r.f, 2, &h, 1, &fence), 0);
	fw = (struct virgo_fence_wait){ .fence = fence, .flags = 2 };
	REJECT(&r, VIRGO_OP_FENCE_WAIT, &fw, -VIRGO_EINVAL);
	fw = (struct virgo_fence_wait){ .fence = fence, .pad = 1 };
	REJECT(&r, VIRGO_OP_FENCE_WAIT, &fw, -VIRGO_EINVAL);
	fw = (struct virgo_fence_wait){ .fence = 0 };
	REJECT(&r, VIRGO_OP_FENCE_WAIT, &fw, -VIRGO_EINVAL);
	/* A number not handed out yet. */
	fw = (struct virgo_fence_wait){ .fence = fence + 1 };
	REJECT(&r, VIRGO_OP_FENCE_WAIT, &fw, -VIRGO_EINVAL);
	fw = (struct virgo_fence_wait){ .fence = ~0ull };
	REJECT(&r, VIRGO_OP_FENCE_WAIT, &fw, -VIRGO_EINVAL);
	fw = (struct virgo_fence_wait){ .fence = fence };
	CHECK_EQ(io(&r, VIRGO_OP_FENCE_WAIT, &fw), 0);
	w = (struct virgo_wait){ .bo_handle = h, .flags = VIRGO_WAIT_NOWAIT };
	CHECK_EQ(io(&r, VIRGO_OP_WAIT, &w), 0);
	rig_down(&r);
}
