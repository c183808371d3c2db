/* SPDX-License-Identifier: MIT */
/*
 * test_core_uapi.c: the uAPI dispatcher, part 1: op and size checks,
 * GET_PARAM, GET_CAPS, CONTEXT_INIT, RESOURCE_CREATE, RESOURCE_CREATE_BLOB,
 * RESOURCE_INFO, RESOURCE_CLOSE. Each with good input and bad input; a
 * rejected request sends nothing to the device (REJECT checks the log).
 * Part 2 (test_core_uapi_io.c) has MAP, EXECBUFFER, TRANSFER and the waits.
 */
#include <string.h>

#include "test_core.h"

#define U64(p) ((uint64_t)(uintptr_t)(p))

/* The request fails with want and the device sees nothing. */
#define REJECT_F(r, f, op, arg, want)                                        \
	do {                                                                 \
		size_t mark_ = fake_dev_log_count((r)->d);                   \
		CHECK_EQ(io_f((r), (f), (op), (arg)), (want));               \
		CHECK_EQ(fake_dev_log_count((r)->d), mark_);                 \
	} while (0)
#define REJECT(r, op, arg, want) REJECT_F(r, (r)->f, op, arg, want)

/* ---- dispatch --------------------------------------------------------------- */

TEST(uapi_unknown_op_is_enotsup)
{
	struct rig r;
	uint8_t arg[64] = { 0 };
	static const uint32_t ops[] = { 0, VIRGO_OP_COUNT, 0x100, 0xffffffffu };

	rig_up(&r, NULL, NULL);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		CHECK_EQ(core_ioctl(r.f, r.c, ops[i], arg, sizeof(arg)), -VIRGO_ENOTSUP);
		CHECK_EQ(core_ioctl(r.f, r.c, ops[i], arg, 16), -VIRGO_ENOTSUP);
	}
	CHECK_EQ(fake_dev_log_count(r.d), 0);
	rig_down(&r);
}

TEST(uapi_arg_size_must_match_the_op)
{
	struct rig r;
	uint8_t arg[128] = { 0 };

	rig_up(&r, NULL, NULL);
	for (uint32_t op = 1; op < VIRGO_OP_COUNT; op++) {
		uint32_t size = virgo_op_arg_size(op);

		REQUIRE(size > 0 && size < sizeof(arg));
		CHECK_EQ(core_ioctl(r.f, r.c, op, arg, size - 1), -VIRGO_EINVAL);
		CHECK_EQ(core_ioctl(r.f, r.c, op, arg, size + 1), -VIRGO_EINVAL);
		CHECK_EQ(core_ioctl(r.f, r.c, op, arg, 0), -VIRGO_EINVAL);
		CHECK_EQ(core_ioctl(r.f, r.c, op, NULL, size), -VIRGO_EINVAL);
	}
	CHECK_EQ(fake_dev_log_count(r.d), 0);
	rig_down(&r);
}

/* ---- GET_PARAM ---------------------------------------------------------------- */

TEST(get_param_rejects_unknown_params)
{
	struct rig r;
	static const uint64_t bad[] = { 0, 8, 0xff, 0x1ff, 1ull << 32 | VIRGO_PARAM_3D_FEATURES, ~0ull };

	rig_up(&r, NULL, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virgo_get_param a = { .param = bad[i] };

		REJECT(&r, VIRGO_OP_GET_PARAM, &a, -VIRGO_EINVAL);
	}
	rig_down(&r);
}

TEST(get_param_counts_live_resources_and_handles)
{
	struct rig r;
	struct core_file *f2;
	uint32_t h;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(core_open(r.gpu, &f2), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_HANDLES), 2);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &h, NULL), 0);
	REQUIRE_EQ(mk_buffer(&r, f2, 64, 0, NULL, NULL), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 2);
	CHECK_EQ(close_bo(&r, r.f, h), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 1);
	rig_close(&r, f2);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_HANDLES), 1);
	rig_down(&r);
}

/* ---- GET_CAPS ------------------------------------------------------------------ */

TEST(get_caps_rejects_bad_ids_versions_and_pointers)
{
	struct rig r;
	uint8_t buf[400];
	struct virgo_get_caps a;
	static const struct { uint32_t id, ver; } bad[] = {
		{ 0, 1 }, { 3, 1 }, { 63, 1 }, { 64, 1 }, { 0xffffffffu, 1 },
		{ 1, 0 }, { 1, 2 }, { 2, 3 }, { 2, 0xffffffffu },
	};

	rig_up(&r, NULL, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = (struct virgo_get_caps){ .cap_set_id = bad[i].id, .cap_set_ver = bad[i].ver,
					     .addr = U64(buf), .size = sizeof(buf), .copied = 77 };
		REJECT(&r, VIRGO_OP_GET_CAPS, &a, -VIRGO_EINVAL);
		CHECK_EQ(a.copied, 0);
	}
	/* Bad addresses: 0, the unmapped low 64 KiB, a range that wraps. */
	a = (struct virgo_get_caps){ .cap_set_id = 1, .cap_set_ver = 1, .addr = 0, .size = 16 };
	REJECT(&r, VIRGO_OP_GET_CAPS, &a, -VIRGO_EFAULT);
	a.addr = 0x1000;
	REJECT(&r, VIRGO_OP_GET_CAPS, &a, -VIRGO_EFAULT);
	a.addr = ~0ull - 8;
	REJECT(&r, VIRGO_OP_GET_CAPS, &a, -VIRGO_EFAULT);
	CHECK_EQ(a.copied, 0);
	/* A good address the copy fails on. */
	a = (struct virgo_get_caps){ .cap_set_id = 1, .cap_set_ver = 1, .addr = U64(buf), .size = sizeof(buf) };
	fake_fail_copy(r.os, 1);
	REJECT(&r, VIRGO_OP_GET_CAPS, &a, -VIRGO_EFAULT);
	CHECK_EQ(a.copied, 0);
	/* Size 0: nothing to copy, so no address is touched. */
	a = (struct virgo_get_caps){ .cap_set_id = 1, .cap_set_ver = 1, .addr = 0, .size = 0 };
	CHECK_EQ(io(&r, VIRGO_OP_GET_CAPS, &a), 0);
	CHECK_EQ(a.copied, 0);
	/* Version 1 of capset 2 is fine (max_version is 2). */
	a = (struct virgo_get_caps){ .cap_set_id = 2, .cap_set_ver = 1, .addr = U64(buf), .size = sizeof(buf) };
	CHECK_EQ(io(&r, VIRGO_OP_GET_CAPS, &a), 0);
	CHECK_EQ(a.copied, sizeof(buf));
	rig_down(&r);
}

/* ---- CONTEXT_INIT -------------------------------------------------------------- */

static int ctx_init(struct rig *r, const struct virgo_ctx_set_param *p, uint32_t n)
{
	struct virgo_context_init a = { .num_params = n, .ctx_set_params = U64(p) };

	return io(r, VIRGO_OP_CONTEXT_INIT, &a);
}

TEST(context_init_creates_the_context_once)
{
	struct rig r;
	static const char name[] = "glxgears";
	struct virgo_ctx_set_param p[4] = {
		{ VIRGO_CTX_PARAM_CAPSET_ID, VIRTIO_GPU_CAPSET_VIRGL2 },
		{ VIRGO_CTX_PARAM_NUM_RINGS, 2 },
		{ VIRGO_CTX_PARAM_POLL_RINGS_MASK, 0 },
		{ VIRGO_CTX_PARAM_DEBUG_NAME, U64(name) },
	};
	struct virgo_execbuffer eb;
	uint32_t words[2] = { 1, 2 };
	const struct fake_cmd *cmd;

	rig_up_features(&r, FEAT_ALL);
	CHECK_EQ(ctx_init(&r, p, 4), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_CTX_CREATE), 1);
	cmd = fake_dev_log_last(r.d, VIRTIO_GPU_CMD_CTX_CREATE);
	REQUIRE(cmd);
	CHECK(fake_dev_has_ctx(r.d, cmd->ctx_id));
	/* Once per handle, whatever the parameters. */
	REJECT(&r, VIRGO_OP_CONTEXT_INIT, (&(struct virgo_context_init){ .num_params = 1, .ctx_set_params = U64(p) }),
	       -VIRGO_EEXIST);
	/* The rings it asked for exist; others do not. */
	eb = (struct virgo_execbuffer){ .flags = VIRGO_EXEC_RING_IDX, .size = 8, .command = U64(words), .ring_idx = 1 };
	CHECK_EQ(io(&r, VIRGO_OP_EXECBUFFER, &eb), 0);
	cmd = fake_dev_log_last(r.d, VIRTIO_GPU_CMD_SUBMIT_3D);
	REQUIRE(cmd);
	CHECK(cmd->flags & VIRTIO_GPU_FLAG_INFO_RING_IDX);
	CHECK_EQ(cmd->ring_idx, 1);
	CHECK_EQ(fence_wait(&r, r.f, eb.fence, 0, 0), 0);
	eb.ring_idx = 2;
	REJECT(&r, VIRGO_OP_EXECBUFFER, &eb, -VIRGO_EINVAL);
	rig_down(&r);
}

TEST(context_init_after_lazy_creation_is_eexist)
{
	struct rig r;
	struct virgo_ctx_set_param p = { VIRGO_CTX_PARAM_CAPSET_ID, VIRTIO_GPU_CAPSET_VIRGL };

	rig_up_features(&r, FEAT_ALL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, NULL, NULL), 0);
	REJECT(&r, VIRGO_OP_CONTEXT_INIT, (&(struct virgo_context_init){ .num_params = 1, .ctx_set_params = U64(&p) }),
	       -VIRGO_EEXIST);
	rig_down(&r);
}

TEST(context_init_without_the_feature_is_enodev)
{
	struct rig r;
	struct virgo_ctx_set_param p = { VIRGO_CTX_PARAM_CAPSET_ID, VIRTIO_GPU_CAPSET_VIRGL };

	rig_up(&r, NULL, NULL);
	REJECT(&r, VIRGO_OP_CONTEXT_INIT, (&(struct virgo_context_init){ .num_params = 1, .ctx_set_params = U64(&p) }),
	       -VIRGO_ENODEV);
	rig_down(&r);
}

TEST(context_init_rejects_bad_params_and_pointers)
{
	struct rig r;
	static const char name[] = "x";
	struct virgo_ctx_set_param p[5];
	struct virgo_context_init a;
	static const struct { uint64_t param, value; int want; } bad[] = {
		{ 0, 0, -VIRGO_EINVAL },
		{ VIRGO_CTX_PARAM_DEBUG_NAME + 1, 0, -VIRGO_EINVAL },
		{ 1ull << 32 | VIRGO_CTX_PARAM_CAPSET_ID, 1, -VIRGO_EINVAL },
		{ VIRGO_CTX_PARAM_CAPSET_ID, 0, -VIRGO_EINVAL },
		{ VIRGO_CTX_PARAM_CAPSET_ID, 3, -VIRGO_EINVAL },
		{ VIRGO_CTX_PARAM_CAPSET_ID, 63, -VIRGO_EINVAL },
		{ VIRGO_CTX_PARAM_CAPSET_ID, 64, -VIRGO_EINVAL },
		{ VIRGO_CTX_PARAM_CAPSET_ID, 1ull << 33 | 1, -VIRGO_EINVAL },
		{ VIRGO_CTX_PARAM_NUM_RINGS, 0, -VIRGO_EINVAL },
		{ VIRGO_CTX_PARAM_NUM_RINGS, 65, -VIRGO_EINVAL },
		{ VIRGO_CTX_PARAM_NUM_RINGS, 1ull << 32 | 1, -VIRGO_EINVAL },
		{ VIRGO_CTX_PARAM_POLL_RINGS_MASK, 1, -VIRGO_ENOTSUP },
		{ VIRGO_CTX_PARAM_DEBUG_NAME, 0, -VIRGO_EFAULT },
		{ VIRGO_CTX_PARAM_DEBUG_NAME, 0x2000, -VIRGO_EFAULT },
	};

	rig_up_features(&r, FEAT_ALL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p[0] = (struct virgo_ctx_set_param){ bad[i].param, bad[i].value };
		CHECK_EQ(ctx_init(&r, p, 1), bad[i].want);
	}
	/* Counts, padding, the same parameter twice. */
	p[0] = (struct virgo_ctx_set_param){ VIRGO_CTX_PARAM_NUM_RINGS, 1 };
	p[1] = p[0];
	CHECK_EQ(ctx_init(&r, p, 2), -VIRGO_EINVAL);
	for (int i = 0; i < 5; i++)
		p[i] = (struct virgo_ctx_set_param){ VIRGO_CTX_PARAM_POLL_RINGS_MASK, 0 };
	CHECK_EQ(ctx_init(&r, p, 0), -VIRGO_EINVAL);
	CHECK_EQ(ctx_init(&r, p, VIRGO_MAX_CTX_PARAMS + 1), -VIRGO_EINVAL);
	CHECK_EQ(ctx_init(&r, p, 0xffffffffu), -VIRGO_EINVAL);
	a = (struct virgo_context_init){ .num_params = 1, .pad = 1, .ctx_set_params = U64(p) };
	CHECK_EQ(io(&r, VIRGO_OP_CONTEXT_INIT, &a), -VIRGO_EINVAL);
	/* Pointers: the array, and the copies failing. */
	a = (struct virgo_context_init){ .num_params = 1, .ctx_set_params = 0 };
	CHECK_EQ(io(&r, VIRGO_OP_CONTEXT_INIT, &a), -VIRGO_EFAULT);
	a.ctx_set_params = ~0ull - 4;
	CHECK_EQ(io(&r, VIRGO_OP_CONTEXT_INIT, &a), -VIRGO_EFAULT);
	p[0] = (struct virgo_ctx_set_param){ VIRGO_CTX_PARAM_DEBUG_NAME, U64(name) };
	fake_fail_copy(r.os, 1);
	CHECK_EQ(ctx_init(&r, p, 1), -VIRGO_EFAULT);
	fake_fail_copy(r.os, 2);
	CHECK_EQ(ctx_init(&r, p, 1), -VIRGO_EFAULT);
	/* None of it reached the device, and the handle can still init. */
	CHECK_EQ(fake_dev_log_count(r.d), 0);
	p[0] = (struct virgo_ctx_set_param){ VIRGO_CTX_PARAM_CAPSET_ID, VIRTIO_GPU_CAPSET_VIRGL };
	CHECK_EQ(ctx_init(&r, p, 1), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_CTX_CREATE), 1);
	rig_down(&r);
}

TEST(context_init_takes_a_long_debug_name_truncated)
{
	struct rig r;
	char name[200];
	struct virgo_ctx_set_param p = { VIRGO_CTX_PARAM_DEBUG_NAME, U64(name) };

	memset(name, 'n', sizeof(name)); /* no NUL at all within the limit */
	rig_up_features(&r, FEAT_ALL);
	CHECK_EQ(ctx_init(&r, &p, 1), 0);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_CTX_CREATE), 1);
	rig_down(&r);
}

/* ---- RESOURCE_CREATE ----------------------------------------------------------- */

TEST(resource_create_accepts_every_target)
{
	struct rig r;
	struct virgo_resource_create rcs[] = {
		rc_default(TGT_BUFFER, 65536, 1, 1, 1),
		rc_default(TGT_1D, 256, 1, 1, 1),
		rc_default(TGT_2D, 64, 32, 1, 1),
		rc_default(TGT_3D, 16, 16, 8, 1),
		rc_default(TGT_CUBE, 16, 16, 1, 6),
		rc_default(TGT_RECT, 20, 10, 1, 1),
		rc_default(TGT_1D_ARRAY, 64, 1, 1, 4),
		rc_default(TGT_2D_ARRAY, 16, 16, 1, 3),
		rc_default(TGT_CUBE_ARRAY, 8, 8, 1, 12),
	};
	uint32_t handles[9];

	rig_up(&r, NULL, NULL);
	rcs[2].last_level = 6;     /* 64x32 down to 1x1 */
	rcs[2].nr_samples = 0;
	rcs[5].nr_samples = 4;
	rcs[0].flags = VIRGO_RESOURCE_FLAG_Y_0_TOP;
	for (size_t i = 0; i < 9; i++) {
		struct virgo_resource_info info;

		rcs[i].size = 65536;
		CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_CREATE, &rcs[i]), 0);
		handles[i] = rcs[i].bo_handle;
		CHECK_NE(rcs[i].bo_handle, 0);
		CHECK_NE(rcs[i].res_handle, 0);
		CHECK(fake_dev_has_res(r.d, rcs[i].res_handle));
		CHECK_EQ(fake_dev_res_backing(r.d, rcs[i].res_handle), 65536);
		CHECK(fake_dev_res_attached(r.d, rcs[i].res_handle,
					    fake_dev_log_last(r.d, VIRTIO_GPU_CMD_CTX_CREATE)->ctx_id));
		info = (struct virgo_resource_info){ .bo_handle = rcs[i].bo_handle };
		CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_INFO, &info), 0);
		CHECK_EQ(info.res_handle, rcs[i].res_handle);
		CHECK_EQ(info.size, 65536);
		CHECK_EQ(info.blob_mem, 0);
		for (size_t j = 0; j < i; j++) {
			CHECK_NE(handles[j], handles[i]);
			CHECK_NE(rcs[j].res_handle, rcs[i].res_handle);
		}
	}
	CHECK_EQ(fake_dev_stats(r.d)->resources, 9);
	CHECK_EQ(fake_dev_stats(r.d)->backings, 9);
	/* A size of 0 still gets one page of backing. */
	CHECK_EQ(mk_buffer(&r, r.f, 64, 0, NULL, &handles[0]), 0);
	CHECK_EQ(fake_dev_res_backing(r.d, handles[0]), 4096);
	rig_down(&r);
}

TEST(resource_create_rejects_bad_descriptions_before_the_device)
{
	struct rig r;
	struct virgo_resource_create a;
	unsigned n = 0;

	rig_up(&r, NULL, NULL);
#define BAD(tgt, w, h, d, l, change, want)                                  \
	do {                                                                 \
		a = rc_default(tgt, w, h, d, l);                             \
		change;                                                      \
		REJECT(&r, VIRGO_OP_RESOURCE_CREATE, &a, want);              \
		n++;                                                         \
	} while (0)
	BAD(TGT_2D, 4, 4, 1, 1, a.flags = 2, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 1, a.flags = 0x80000000u, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 1, a.target = 9, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 1, a.target = 0xffffffffu, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 1, a.format = 0, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 1, a.format = 1024, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 1, a.bind = 1u << 24, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 1, a.nr_samples = 33, -VIRGO_EINVAL);
	BAD(TGT_2D, 0, 4, 1, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 0, 1, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 0, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 0, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 1, a.size = (1u << 30) + 1, -VIRGO_E2BIG);
	BAD(TGT_2D, 4, 4, 1, 1, a.size = 0xffffffffu, -VIRGO_E2BIG);
	BAD(TGT_2D, 4, 4, 2, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 2, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D, 32769, 4, 1, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 32769, 1, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D, 0xffffffffu, 4, 1, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 1, a.last_level = 3, -VIRGO_EINVAL);  /* 4 >> 3 == 0 */
	BAD(TGT_2D, 1u << 15, 4, 1, 1, a.last_level = 32, -VIRGO_EINVAL);
	BAD(TGT_2D, 4, 4, 1, 1, a.last_level = 0xffffffffu, -VIRGO_EINVAL);
	BAD(TGT_BUFFER, 64, 2, 1, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_BUFFER, 64, 1, 2, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_BUFFER, 64, 1, 1, 2, (void)0, -VIRGO_EINVAL);
	BAD(TGT_BUFFER, 64, 1, 1, 1, a.last_level = 1, -VIRGO_EINVAL);
	BAD(TGT_BUFFER, 64, 1, 1, 1, a.nr_samples = 2, -VIRGO_EINVAL);
	BAD(TGT_BUFFER, (1u << 30) + 1, 1, 1, 1, (void)0, -VIRGO_E2BIG);
	BAD(TGT_1D, 64, 2, 1, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_1D, 64, 1, 2, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_1D, 64, 1, 1, 2, (void)0, -VIRGO_EINVAL);
	BAD(TGT_1D_ARRAY, 64, 2, 1, 4, (void)0, -VIRGO_EINVAL);
	BAD(TGT_1D_ARRAY, 64, 1, 1, 2049, (void)0, -VIRGO_EINVAL);
	BAD(TGT_3D, 16, 16, 8, 2, (void)0, -VIRGO_EINVAL);
	BAD(TGT_3D, 16, 16, 32769, 1, (void)0, -VIRGO_EINVAL);
	BAD(TGT_3D, 2, 2, 8, 1, a.last_level = 4, -VIRGO_EINVAL);  /* 8 >> 4 == 0 */
	BAD(TGT_CUBE, 16, 16, 1, 5, (void)0, -VIRGO_EINVAL);
	BAD(TGT_CUBE, 16, 8, 1, 6, (void)0, -VIRGO_EINVAL);
	BAD(TGT_CUBE, 16, 16, 2, 6, (void)0, -VIRGO_EINVAL);
	BAD(TGT_CUBE_ARRAY, 16, 16, 1, 7, (void)0, -VIRGO_EINVAL);
	BAD(TGT_CUBE_ARRAY, 16, 8, 1, 12, (void)0, -VIRGO_EINVAL);
	BAD(TGT_CUBE_ARRAY, 16, 16, 2, 12, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D_ARRAY, 16, 16, 1, 2049, (void)0, -VIRGO_EINVAL);
	BAD(TGT_2D_ARRAY, 16, 16, 2, 3, (void)0, -VIRGO_EINVAL);
	BAD(TGT_RECT, 16, 16, 1, 2, (void)0, -VIRGO_EINVAL);
#undef BAD
	CHECK_EQ(n, 45);
	/* Not even the handle's context was created for them. */
	CHECK_EQ(fake_dev_log_count(r.d), 0);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 0);
	rig_down(&r);
}

TEST(resource_create_beyond_guest_memory_is_enomem_and_leaves_nothing)
{
	struct rig r;
	uint64_t frames;

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, NULL, NULL), 0);
	frames = fake_stats(r.os)->ram_frames;
	fake_dev_log_clear(r.d);
	/* 1 GiB is a legal size, but the machine has 64 MiB. */
	CHECK_EQ(mk_buffer(&r, r.f, 1u << 30, 1u << 30, NULL, NULL), -VIRGO_ENOMEM);
	CHECK_EQ(fake_dev_log_count(r.d), 0);
	CHECK_EQ(fake_stats(r.os)->ram_frames, frames);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 1);
	rig_down(&r);
}

/* ---- RESOURCE_CREATE_BLOB ------------------------------------------------------- */

static struct virgo_resource_create_blob blob(uint32_t mem, uint32_t flags, uint64_t size)
{
	return (struct virgo_resource_create_blob){ .blob_mem = mem, .blob_flags = flags, .size = size };
}

TEST(blob_without_the_feature_is_enodev)
{
	struct rig r;
	struct virgo_resource_create_blob a = blob(VIRGO_BLOB_MEM_GUEST, VIRGO_BLOB_FLAG_USE_MAPPABLE, 4096);

	rig_up(&r, NULL, NULL);
	REJECT(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &a, -VIRGO_ENODEV);
	a = blob(VIRGO_BLOB_MEM_HOST3D, 0, 4096);
	REJECT(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &a, -VIRGO_ENODEV);
	rig_down(&r);
}

TEST(blob_guest_and_host3d_are_created_when_offered)
{
	struct rig r;
	struct virgo_resource_create_blob g = blob(VIRGO_BLOB_MEM_GUEST, VIRGO_BLOB_FLAG_USE_MAPPABLE, 8192 - 100);
	struct virgo_resource_create_blob h3 = blob(VIRGO_BLOB_MEM_HOST3D, VIRGO_BLOB_FLAG_USE_MAPPABLE, 4096);
	struct virgo_resource_create_blob hg = blob(VIRGO_BLOB_MEM_HOST3D_GUEST, VIRGO_BLOB_FLAG_USE_SHAREABLE, 12288);
	struct virgo_resource_info info;
	uint64_t size;
	uint8_t *p;

	rig_up_features(&r, FEAT_ALL);
	CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &g), 0);
	CHECK_EQ(fake_dev_res_backing(r.d, g.res_handle), 8192);
	h3.blob_id = 42;
	CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &h3), 0);
	CHECK(fake_dev_has_res(r.d, h3.res_handle));
	CHECK_EQ(fake_dev_res_backing(r.d, h3.res_handle), 0);
	CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &hg), 0);
	CHECK_EQ(fake_dev_res_backing(r.d, hg.res_handle), 12288);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB), 3);
	CHECK_EQ(fake_dev_count(r.d, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), 0);
	info = (struct virgo_resource_info){ .bo_handle = g.bo_handle };
	CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_INFO, &info), 0);
	CHECK_EQ(info.size, 8192);
	CHECK_EQ(info.blob_mem, VIRGO_BLOB_MEM_GUEST);
	info = (struct virgo_resource_info){ .bo_handle = h3.bo_handle };
	CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_INFO, &info), 0);
	CHECK_EQ(info.size, 4096);
	CHECK_EQ(info.blob_mem, VIRGO_BLOB_MEM_HOST3D);
	/* Guest memory maps; host memory needs a host-visible region, which
	 * this device has none of (test_core_hostmem.c has one). */
	CHECK_EQ(map_bo(&r, r.f, g.bo_handle, &p, &size), 0);
	CHECK_EQ(size, 8192);
	REJECT(&r, VIRGO_OP_MAP, (&(struct virgo_map){ .bo_handle = h3.bo_handle }), -VIRGO_ENODEV);
	/* Guest blobs have no host copy to transfer with; host blobs are
	 * byte ranges of row 0. */
	REJECT(&r, VIRGO_OP_TRANSFER_TO_HOST,
	       (&(struct virgo_transfer){ .bo_handle = g.bo_handle, .box = { 0, 0, 0, 16, 1, 1 } }), -VIRGO_EINVAL);
	REJECT(&r, VIRGO_OP_TRANSFER_TO_HOST,
	       (&(struct virgo_transfer){ .bo_handle = h3.bo_handle, .box = { 0, 1, 0, 16, 1, 1 } }), -VIRGO_EINVAL);
	REJECT(&r, VIRGO_OP_TRANSFER_TO_HOST,
	       (&(struct virgo_transfer){ .bo_handle = h3.bo_handle, .box = { 4000, 0, 0, 97, 1, 1 } }), -VIRGO_EINVAL);
	REJECT(&r, VIRGO_OP_TRANSFER_TO_HOST,
	       (&(struct virgo_transfer){ .bo_handle = h3.bo_handle, .level = 1, .box = { 0, 0, 0, 16, 1, 1 } }),
	       -VIRGO_EINVAL);
	rig_down(&r);
}

TEST(blob_with_a_command_stream_submits_it_first)
{
	struct rig r;
	uint32_t words[3] = { 0xc0de0001, 0xc0de0002, 0xc0de0003 };
	struct virgo_resource_create_blob a = blob(VIRGO_BLOB_MEM_HOST3D, 0, 65536);
	const struct fake_cmd *sub, *cb;
	const uint8_t *data;
	size_t len;

	rig_up_features(&r, FEAT_ALL);
	a.cmd = U64(words);
	a.cmd_size = sizeof(words);
	a.blob_id = 7;
	CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &a), 0);
	sub = fake_dev_log_last(r.d, VIRTIO_GPU_CMD_SUBMIT_3D);
	cb = fake_dev_log_last(r.d, VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB);
	REQUIRE(sub && cb);
	CHECK(sub < cb);
	data = fake_dev_submit_data(r.d, &len);
	CHECK_EQ(len, sizeof(words));
	CHECK_EQ(memcmp(data, words, sizeof(words)), 0);
	rig_down(&r);
}

TEST(blob_rejects_bad_requests_before_the_device)
{
	struct rig r;
	struct virgo_resource_create_blob a;
	uint32_t words[2] = { 1, 2 };

	rig_up_features(&r, FEAT_ALL);
#define BADB(change, want)                                                  \
	do {                                                                 \
		a = blob(VIRGO_BLOB_MEM_GUEST, VIRGO_BLOB_FLAG_USE_MAPPABLE, 4096); \
		change;                                                      \
		REJECT(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &a, want);         \
	} while (0)
	BADB(a.pad = 1, -VIRGO_EINVAL);
	BADB(a.blob_mem = 0, -VIRGO_EINVAL);
	BADB(a.blob_mem = 4, -VIRGO_EINVAL);
	BADB(a.blob_mem = 0xffffffffu, -VIRGO_EINVAL);
	BADB(a.blob_flags = 8, -VIRGO_EINVAL);
	BADB(a.blob_flags = 0x80000001u, -VIRGO_EINVAL);
	BADB(a.size = 0, -VIRGO_EINVAL);
	BADB((a.cmd_size = 6, a.cmd = U64(words)), -VIRGO_EINVAL);
	BADB(a.size = VIRGO_MAX_RESOURCE_SIZE + 1, -VIRGO_E2BIG);
	BADB(a.size = ~0ull, -VIRGO_E2BIG);
	BADB((a.cmd_size = VIRGO_MAX_EXEC_SIZE + 4, a.cmd = U64(words)), -VIRGO_E2BIG);
	BADB(a.blob_flags = VIRGO_BLOB_FLAG_USE_CROSS_DEVICE, -VIRGO_ENOTSUP);
#undef BADB
	CHECK_EQ(fake_dev_log_count(r.d), 0);
	/* A stream the caller cannot read (the context exists by now). */
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, NULL, NULL), 0);
	a = blob(VIRGO_BLOB_MEM_HOST3D, 0, 4096);
	a.cmd_size = 8;
	a.cmd = 0x10;
	REJECT(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &a, -VIRGO_EFAULT);
	a.cmd = U64(words);
	fake_fail_copy(r.os, 1);
	REJECT(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &a, -VIRGO_EFAULT);
	CHECK_EQ(param(&r, VIRGO_PARAM_LIVE_RESOURCES), 1);
	rig_down(&r);
}

/* ---- RESOURCE_INFO, RESOURCE_CLOSE --------------------------------------------- */

TEST(resource_info_and_close_reject_unknown_handles)
{
	struct rig r;
	uint32_t h;
	struct virgo_resource_info info;
	struct virgo_resource_close cl;
	static const uint32_t bad[] = { 0, 2, 64, 65, 0x100000, 0xffffffffu };

	rig_up(&r, NULL, NULL);
	REQUIRE_EQ(mk_buffer(&r, r.f, 64, 0, &h, NULL), 0);
	CHECK_EQ(h, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		info = (struct virgo_resource_info){ .bo_handle = bad[i] };
		REJECT(&r, VIRGO_OP_RESOURCE_INFO, &info, -VIRGO_ENOENT);
		cl = (struct virgo_resource_close){ .bo_handle = bad[i] };
		REJECT(&r, VIRGO_OP_RESOURCE_CLOSE, &cl, -VIRGO_ENOENT);
	}
	cl = (struct virgo_resource_close){ .bo_handle = h, .pad = 1 };
	REJECT(&r, VIRGO_OP_RESOURCE_CLOSE, &cl, -VIRGO_EINVAL);
	CHECK_EQ(close_bo(&r, r.f, h), 0);
	cl = (struct virgo_resource_close){ .bo_handle = h };
	REJECT(&r, VIRGO_OP_RESOURCE_CLOSE, &cl, -VIRGO_ENOENT);
	info = (struct virgo_resource_info){ .bo_handle = h };
	REJECT(&r, VIRGO_OP_RESOURCE_INFO, &info, -VIRGO_ENOENT);
	rig_down(&r);
}

/* A create that carries pages and is not answered in time: the device took
 * them, so they stay until the reset gpu_fini does (found by fuzz_uapi:
 * they were freed at once, under the device). */
TEST(blob_create_never_answered_keeps_its_pages_until_the_reset)
{
	struct rig r;
	struct virgo_resource_create_blob g = blob(VIRGO_BLOB_MEM_GUEST, VIRGO_BLOB_FLAG_USE_MAPPABLE, 8192);

	rig_up_features(&r, FEAT_ALL);
	fake_dev_script(r.d, VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, FAKE_HOLD, 1);
	CHECK_EQ(io(&r, VIRGO_OP_RESOURCE_CREATE_BLOB, &g), -VIRGO_EDEVLOST);
	CHECK_EQ(fake_stats(r.os)->violations, 0);
	rig_down(&r);
}
