/* SPDX-License-Identifier: MIT */
/*
 * test_core_alloc_faults.c: allocation failure through os.h, for every
 * allocation a scenario makes.
 *
 * Each scenario is a short piece of what a user-mode driver does (open a
 * handle; initialise a context; create, map and transfer a resource;
 * submit and wait; close with work in flight; reset the device with
 * handles open). Run once without faults, it makes N allocation-like calls
 * (os_alloc, os_dma_alloc, os_pages_alloc, lock and wait-queue creation:
 * the fake counts them all). Then it runs N more times, on a fresh machine
 * each time, with the k-th of those calls failing, k = 1..N. Every run
 * must:
 *  - return an error to the caller (-VIRGO_ENOMEM) from the request whose
 *    allocation failed, unless the scenario has no caller to tell (a close)
 *    or the core has a documented way around the failure (see
 *    absorbed_ok below: the request cache and the teardown reserve);
 *  - leave the handle usable: the same request, retried without the fault,
 *    succeeds;
 *  - leave nothing behind once the handle is closed: no context, resource
 *    or backing on the device, no user mapping, no live OS object, no
 *    execution-rule violation, and the device not lost.
 * Each scenario runs twice: warm, as a driver meets it (the core keeps a
 * cache of request buffers, so many requests allocate nothing), and cold,
 * with that cache emptied first, so every request allocates and each of
 * those allocations fails once too.
 * The older tests in test_core_faults.c run one long scenario the same
 * way; these give each step of a driver's life its own count.
 */
#include <stdio.h>
#include <string.h>

#include "gpu.h" /* the request cache, emptied for the cold runs */
#include "test_core.h"

#define U64(p) ((uint64_t)(uintptr_t)(p))

struct afs_state {
	struct core_file *f;
	uint32_t bo, bo2;
	uint64_t fence;
};

struct afs {
	const char *name;
	uint64_t features;
	bool hold_fences;
	/* Brings the rig to the scenario's start (not counted, no faults). */
	void (*setup)(struct rig *r, struct afs_state *s);
	/* The counted part. Returns the first error, 0 if all went well. */
	int (*run)(struct rig *r, struct afs_state *s);
	/* Undoes what setup and run left (no faults): closes handles, lets
	 * held work finish. */
	void (*finish)(struct rig *r, struct afs_state *s);
};

/* ---- the scenarios ---------------------------------------------------------- */

static void no_setup(struct rig *r, struct afs_state *s)
{
	(void)r;
	(void)s;
}

static void close_own(struct rig *r, struct afs_state *s)
{
	if (s->f)
		rig_close(r, s->f);
	s->f = NULL;
	fake_dev_hold_fences(r->d, false, 0);
	fake_dev_complete_fences(r->d, UINT64_MAX);
	fake_run(r->os);
}

/* open: a new handle and its first request. */
static int run_open(struct rig *r, struct afs_state *s)
{
	struct virgo_get_param p = { .param = VIRGO_PARAM_3D_FEATURES };
	int ret = core_open(r->gpu, &s->f);

	if (ret) {
		s->f = NULL;
		return ret;
	}
	return io_f(r, s->f, VIRGO_OP_GET_PARAM, &p);
}

/* context init: capsets read, CONTEXT_INIT with rings and a name, the
 * first submit on a ring (the context is created on the device here). */
static void setup_open(struct rig *r, struct afs_state *s)
{
	REQUIRE_EQ(core_open(r->gpu, &s->f), 0);
}

static int run_context_init(struct rig *r, struct afs_state *s)
{
	static const char name[] = "alloc-faults";
	uint8_t caps[1400];
	struct virgo_get_caps gc = { .cap_set_id = 2, .cap_set_ver = 2, .addr = U64(caps), .size = sizeof(caps) };
	struct virgo_ctx_set_param p[3] = {
		{ VIRGO_CTX_PARAM_CAPSET_ID, 2 },
		{ VIRGO_CTX_PARAM_NUM_RINGS, 2 },
		{ VIRGO_CTX_PARAM_DEBUG_NAME, U64(name) },
	};
	struct virgo_context_init ci = { .num_params = 3, .ctx_set_params = U64(p) };
	uint32_t w[2] = { 1, 2 };
	struct virgo_execbuffer eb = { .flags = VIRGO_EXEC_RING_IDX, .size = sizeof(w),
				       .command = U64(w), .ring_idx = 1 };
	int ret;

	ret = io_f(r, s->f, VIRGO_OP_GET_CAPS, &gc);
	if (!ret)
		ret = io_f(r, s->f, VIRGO_OP_CONTEXT_INIT, &ci);
	if (!ret)
		ret = io_f(r, s->f, VIRGO_OP_EXECBUFFER, &eb);
	if (!ret)
		ret = fence_wait(r, s->f, eb.fence, 0, SEC);
	return ret;
}

/* resource create + map + transfer: a buffer and a texture, the buffer
 * mapped and written, both transferred each way, waited on, unmapped. */
static void setup_ctx(struct rig *r, struct afs_state *s)
{
	setup_open(r, s);
	/* The context exists before the counted part. */
	REQUIRE_EQ(exec_words(r, s->f, 2, NULL, 0, NULL), 0);
}

static int run_resources(struct rig *r, struct afs_state *s)
{
	struct virgo_unmap um;
	uint8_t *map = NULL;
	uint64_t size = 0, fence = 0;
	int ret;

	ret = mk_buffer(r, s->f, 65536, 65536, &s->bo, NULL);
	if (!ret)
		ret = mk_tex2d(r, s->f, 64, 64, &s->bo2, NULL);
	if (!ret)
		ret = map_bo(r, s->f, s->bo, &map, &size);
	if (!ret) {
		memset(map, 0x5a, (size_t)size);
		ret = transfer(r, s->f, true, s->bo, 0, (struct virgo_box){ 0, 0, 0, 65536, 1, 1 }, 0, NULL);
	}
	if (!ret)
		ret = transfer(r, s->f, false, s->bo2, 0, (struct virgo_box){ 0, 0, 0, 64, 64, 1 }, 0, &fence);
	if (!ret)
		ret = fence_wait(r, s->f, fence, 0, SEC);
	if (!ret)
		ret = wait_bo(r, s->f, s->bo, 0, SEC);
	if (!ret) {
		um = (struct virgo_unmap){ .bo_handle = s->bo };
		ret = io_f(r, s->f, VIRGO_OP_UNMAP, &um);
	}
	return ret;
}

/* execbuffer + fence wait: a stream naming two resources, one long enough
 * for extra pages, each waited on by fence and by resource. */
static void setup_bos(struct rig *r, struct afs_state *s)
{
	setup_ctx(r, s);
	REQUIRE_EQ(mk_buffer(r, s->f, 16384, 16384, &s->bo, NULL), 0);
	REQUIRE_EQ(mk_tex2d(r, s->f, 16, 16, &s->bo2, NULL), 0);
}

static int run_exec(struct rig *r, struct afs_state *s)
{
	static uint32_t big[6000];
	uint32_t list[2] = { s->bo, s->bo2 };
	uint64_t f1 = 0, f2 = 0;
	int ret;

	ret = exec_words(r, s->f, 4, list, 2, &f1);
	if (!ret)
		ret = exec(r, s->f, big, sizeof(big), list, 1, &f2);
	if (!ret)
		ret = fence_wait(r, s->f, f1, 0, SEC);
	if (!ret)
		ret = fence_wait(r, s->f, f2, 0, SEC);
	if (!ret)
		ret = wait_bo(r, s->f, s->bo2, 0, SEC);
	return ret;
}

/* close with work in flight: resources mapped and fenced work the device
 * has not finished; the OS closes the handle (cleanup, close). Nobody is
 * there to hear an error: the close must reach the device anyway. */
static void setup_in_flight(struct rig *r, struct afs_state *s)
{
	uint8_t *map;

	setup_bos(r, s);
	REQUIRE_EQ(map_bo(r, s->f, s->bo, &map, NULL), 0);
	fake_dev_hold_fences(r->d, true, 0);
	for (int i = 0; i < 4; i++) {
		uint32_t list[2] = { s->bo, s->bo2 };

		REQUIRE_EQ(exec_words(r, s->f, 2, list, 2, &s->fence), 0);
	}
}

static int run_close(struct rig *r, struct afs_state *s)
{
	rig_close(r, s->f);
	s->f = NULL;
	return 0;
}

/* a device reset with a handle open and work in flight, then a new
 * handle: the old one reports the loss, the new one works. */
static int run_reset(struct rig *r, struct afs_state *s)
{
	struct virgo_get_param p = { .param = VIRGO_PARAM_3D_FEATURES };
	struct core_file *nf = NULL;
	int ret = gpu_reset(r->gpu);

	if (ret)
		return ret;
	ret = io_f(r, s->f, VIRGO_OP_GET_PARAM, &p) == -VIRGO_EDEVLOST ? 0 : -VIRGO_EPROTO;
	if (!ret)
		ret = core_open(r->gpu, &nf);
	if (!ret) {
		uint32_t h;

		ret = mk_buffer(r, nf, 4096, 4096, &h, NULL);
		rig_close(r, nf);
	}
	return ret;
}

static const struct afs scenarios[] = {
	{ "open", FEAT_DEFAULT, false, no_setup, run_open, close_own },
	{ "context init", FEAT_ALL, false, setup_open, run_context_init, close_own },
	{ "resource create + map + transfer", FEAT_DEFAULT, false, setup_ctx, run_resources, close_own },
	{ "execbuffer + fence wait", FEAT_DEFAULT, false, setup_bos, run_exec, close_own },
	{ "close with work in flight", FEAT_DEFAULT, true, setup_in_flight, run_close, close_own },
	{ "reset with a handle open", FEAT_DEFAULT, true, setup_in_flight, run_reset, close_own },
};

/* ---- the runner ------------------------------------------------------------- */

/* Frees every cached request buffer, as gpu_fini does: from here on each
 * request the core makes is a new allocation. */
static void empty_request_cache(struct rig *r)
{
	struct gpu_dev *dev = r->gpu;

	os_mutex_lock(dev->lock);
	while (dev->cache) {
		struct gpu_req *q = dev->cache;

		dev->cache = q->next;
		dev->ncache--;
		os_dma_free(dev->os, &q->dma);
		os_free(dev->os, q);
	}
	os_mutex_unlock(dev->lock);
}

static void afs_rig(struct rig *r, const struct afs *a)
{
	struct fake_config c;

	fake_config_init(&c);
	c.features = a->features;
	c.ram_size = 8u << 20;
	rig_up(r, &c, NULL);
	/* The rig's own handle stays open and idle: the device is shared. */
}

/* Allocation-like calls of one run of the scenario, no faults. */
static uint64_t afs_count(const struct afs *a, bool cold)
{
	struct afs_state s = { 0 };
	struct rig r;
	uint64_t before, n;
	int ret;

	afs_rig(&r, a);
	a->setup(&r, &s);
	if (cold)
		empty_request_cache(&r);
	before = fake_stats(r.os)->alloc_attempts;
	ret = a->run(&r, &s);
	n = fake_stats(r.os)->alloc_attempts - before;
	CHECK_EQ(ret, 0);
	a->finish(&r, &s);
	rig_down(&r);
	return n;
}

/* A handle that went through a failure still works: a buffer, a submit
 * naming it, its fence, its close. */
static int usable(struct rig *r, struct core_file *f)
{
	uint32_t h;
	uint64_t fence;
	int ret = mk_buffer(r, f, 4096, 4096, &h, NULL);

	if (!ret)
		ret = exec_words(r, f, 2, &h, 1, &fence);
	if (!ret)
		ret = fence_wait(r, f, fence, 0, SEC);
	if (!ret)
		ret = close_bo(r, f, h);
	return ret;
}

/* One run with the k-th allocation failing. Returns 1 if the failure came
 * back as an error, 0 if the run succeeded all the same. */
static int afs_one(const struct afs *a, bool cold, uint64_t k, uint64_t n)
{
	struct afs_state s = { 0 };
	struct rig r;
	const struct fake_dev_stats *st;
	int ret, after;

	afs_rig(&r, a);
	a->setup(&r, &s);
	if (cold)
		empty_request_cache(&r);
	fake_fail_alloc(r.os, (unsigned)k);
	ret = a->run(&r, &s);
	fake_fail_alloc(r.os, 0);
	if (!fake_stats(r.os)->alloc_injected)
		t_fail(__FILE__, __LINE__, "%s: k=%llu of %llu: no allocation failed (the count changed?)", a->name,
		       (unsigned long long)k, (unsigned long long)n);
	if (ret && ret != -VIRGO_ENOMEM)
		t_fail(__FILE__, __LINE__, "%s: k=%llu: returned %d, not -ENOMEM", a->name, (unsigned long long)k, ret);
	/* Let held work finish: the failure must not have stranded it. */
	fake_dev_hold_fences(r.d, false, 0);
	fake_dev_complete_fences(r.d, UINT64_MAX);
	fake_run(r.os);
	if (gpu_is_lost(r.gpu)) {
		/* Only a reset that ran out of memory half-way may leave the
		 * device lost; the next reset (the next open, on Windows)
		 * brings it back. */
		if (a->run != run_reset || !ret)
			t_fail(__FILE__, __LINE__, "%s: k=%llu: the device is lost", a->name, (unsigned long long)k);
		else if (gpu_reset(r.gpu))
			t_fail(__FILE__, __LINE__, "%s: k=%llu: a second reset failed", a->name, (unsigned long long)k);
	}
	/* The failure was transient: the scenario's handle (or a new one, if
	 * the failure was in its open, or the device was reset) works now. */
	if (s.f && (a->run == run_reset || (a->run == run_open && ret))) {
		rig_close(&r, s.f);
		s.f = NULL;
	}
	if (!s.f && a->run != run_close)
		REQUIRE_EQ(core_open(r.gpu, &s.f), 0);
	if (s.f) {
		after = usable(&r, s.f);
		if (after)
			t_fail(__FILE__, __LINE__, "%s: k=%llu (returned %d): the handle does not work afterwards (%d)",
			       a->name, (unsigned long long)k, ret, after);
	}
	a->finish(&r, &s);
	fake_run(r.os);
	st = fake_dev_stats(r.d);
	/* The rig's idle handle holds nothing on the device either. */
	if (st->resources || st->backings)
		t_fail(__FILE__, __LINE__, "%s: k=%llu (returned %d): the device still has %u resources, %u backings",
		       a->name, (unsigned long long)k, ret, st->resources, st->backings);
	if (fake_caller_maps(r.c))
		t_fail(__FILE__, __LINE__, "%s: k=%llu: %u mappings left", a->name, (unsigned long long)k,
		       fake_caller_maps(r.c));
	rig_down(&r);
	return ret != 0;
}

/* Only the close may absorb a failed allocation: it returns nothing, and
 * its teardown commands fall back on the teardown reserve (cmd.c) when the
 * request cache and the allocator are both empty. Everywhere else the
 * failure must reach the caller. */
static void afs_pass(const struct afs *a, bool cold)
{
	uint64_t n = afs_count(a, cold), errs = 0;

	for (uint64_t k = 1; k <= n && !t_failed(); k++)
		errs += (uint64_t)afs_one(a, cold, k, n);
	printf("  %s (%s): %llu allocations, each failed once: %llu runs returned -ENOMEM, %llu absorbed\n",
	       a->name, cold ? "cold" : "warm", (unsigned long long)n, (unsigned long long)errs,
	       (unsigned long long)(n - errs));
	if (cold)
		CHECK(n > 0);
	if (a->run == run_close)
		CHECK_EQ(errs, 0);
	else
		CHECK_EQ(errs, n);
}

static void afs_all(const struct afs *a)
{
	afs_pass(a, false);
	afs_pass(a, true);
}

TEST(alloc_faults_open)
{
	afs_all(&scenarios[0]);
}

TEST(alloc_faults_context_init)
{
	afs_all(&scenarios[1]);
}

TEST(alloc_faults_resource_create_map_transfer)
{
	afs_all(&scenarios[2]);
}

TEST(alloc_faults_execbuffer_fence_wait)
{
	afs_all(&scenarios[3]);
}

TEST(alloc_faults_close_with_work_in_flight)
{
	afs_all(&scenarios[4]);
}

TEST(alloc_faults_reset_with_a_handle_open)
{
	afs_all(&scenarios[5]);
}
