/* SPDX-License-Identifier: MIT */
/*
 * vtp_test: umd/transport/vtp_win.c as a Windows program (under Wine)
 * against a real virgo-host over TCP, and against fake hosts in this process
 * for what a real one does not do on demand (dying, garbage, silence,
 * backings in several runs of guest RAM).
 *
 *   VIRGO_TRANSPORT=tcp:127.0.0.1:PORT vtp_test.exe
 *
 * The host must be fresh and private (the leak checks count device-wide).
 * Prints "PASS name" or "FAIL name: why" per check and exits non-zero if any
 * failed; tests/wine/vtp/run.sh builds and runs it.
 */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scene_triangle.h"
#include "vtp.h"

static unsigned npass, nfail;

static void result(const char *name, bool ok, const char *fmt, ...)
{
	if (ok) {
		printf("PASS %s\n", name);
		npass++;
	} else {
		va_list ap;

		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		nfail++;
	}
	fflush(stdout);
}

static void info(const char *fmt, ...)
{
	va_list ap;

	printf("  ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* ---- uAPI helpers: each returns 0 or -VIRGO_E* ------------------------------------ */

static int param(struct vtp *t, uint64_t p, uint64_t *v)
{
	struct virgo_get_param a = { .param = p };
	int ret = vtp_ioctl(t, VIRGO_OP_GET_PARAM, &a);

	*v = ret ? ~0ull : a.value;
	return ret;
}

static int create(struct vtp *t, uint32_t target, uint32_t format, uint32_t bind, uint32_t w, uint32_t h,
		  uint32_t size, uint32_t *bo, uint32_t *res)
{
	struct virgo_resource_create a = { .target = target, .format = format, .bind = bind, .width = w,
					   .height = h, .depth = 1, .array_size = 1, .size = size };
	int ret = vtp_ioctl(t, VIRGO_OP_RESOURCE_CREATE, &a);

	*bo = ret ? 0 : a.bo_handle;
	if (res)
		*res = ret ? 0 : a.res_handle;
	return ret;
}

static int create_buffer(struct vtp *t, uint32_t size, uint32_t *bo, uint32_t *res)
{
	return create(t, 0 /* PIPE_BUFFER */, 64 /* R8_UNORM */, VENC_BIND_VERTEX_BUFFER, size, 1, size, bo, res);
}

static int map(struct vtp *t, uint32_t bo, uint8_t **p, uint64_t *size)
{
	struct virgo_map a = { .bo_handle = bo };
	int ret = vtp_ioctl(t, VIRGO_OP_MAP, &a);

	*p = ret ? NULL : (uint8_t *)(uintptr_t)a.addr;
	if (size)
		*size = ret ? 0 : a.size;
	return ret;
}

static int unmap(struct vtp *t, uint32_t bo)
{
	struct virgo_unmap a = { .bo_handle = bo };

	return vtp_ioctl(t, VIRGO_OP_UNMAP, &a);
}

static int close_bo(struct vtp *t, uint32_t bo)
{
	struct virgo_resource_close a = { .bo_handle = bo };

	return vtp_ioctl(t, VIRGO_OP_RESOURCE_CLOSE, &a);
}

static int xfer(struct vtp *t, uint32_t op, uint32_t bo, uint32_t w, uint32_t h, uint32_t stride, uint64_t *fence)
{
	struct virgo_transfer a = { .bo_handle = bo, .stride = stride, .box = { 0, 0, 0, w, h, 1 } };
	int ret = vtp_ioctl(t, op, &a);

	if (fence)
		*fence = ret ? 0 : a.fence;
	return ret;
}

static int fence_wait(struct vtp *t, uint64_t fence, uint32_t flags)
{
	struct virgo_fence_wait a = { .fence = fence, .flags = flags };

	return vtp_ioctl(t, VIRGO_OP_FENCE_WAIT, &a);
}

static int wait_bo(struct vtp *t, uint32_t bo)
{
	struct virgo_wait a = { .bo_handle = bo };

	return vtp_ioctl(t, VIRGO_OP_WAIT, &a);
}

static int exec(struct vtp *t, const uint32_t *cmd, uint32_t bytes, const uint32_t *bos, uint32_t nbos,
		uint64_t *fence)
{
	struct virgo_execbuffer a = { .size = bytes, .command = (uint64_t)(uintptr_t)cmd,
				      .bo_handles = (uint64_t)(uintptr_t)bos, .num_bo_handles = nbos };
	int ret = vtp_ioctl(t, VIRGO_OP_EXECBUFFER, &a);

	*fence = ret ? 0 : a.fence;
	return ret;
}

/* Device-wide counts settle after a close (the host frees when the device
 * is done): poll. */
static bool wait_param(struct vtp *t, uint64_t p, uint64_t want, unsigned ms, uint64_t *last)
{
	for (unsigned waited = 0;; waited += 10) {
		if (param(t, p, last) == 0 && *last == want)
			return true;
		if (waited >= ms)
			return false;
		Sleep(10);
	}
}

/* Nothing of ours is mapped at p any more. */
static bool unmapped(const void *p)
{
	MEMORY_BASIC_INFORMATION mbi;

	if (!VirtualQuery(p, &mbi, sizeof(mbi)))
		return true;
	return !(mbi.State == MEM_COMMIT && mbi.Type == MEM_MAPPED);
}

static uint32_t pattern(uint32_t i, uint32_t salt)
{
	uint32_t x = i * 2654435761u + salt;

	return x ^ (x >> 15);
}

static void fill(uint8_t *p, uint64_t n, uint32_t salt)
{
	for (uint64_t i = 0; i < n; i++)
		p[i] = (uint8_t)pattern((uint32_t)i, salt);
}

/* The first mismatch, or -1. */
static int64_t differs(const uint8_t *p, uint64_t n, uint32_t salt)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)pattern((uint32_t)i, salt))
			return (int64_t)i;
	return -1;
}

static uint32_t nops[16]; /* VIRGL_CCMD_NOP, length 0: valid and free */

/* ---- opening --------------------------------------------------------------------- */

/* A loopback port nobody listens on: bound, named, closed. */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int len = sizeof(a), port = 0;
	WSADATA wsa;
	SOCKET s;

	if (WSAStartup(MAKEWORD(2, 2), &wsa))
		return 0;
	s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (s != INVALID_SOCKET && !bind(s, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(s, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (s != INVALID_SOCKET)
		closesocket(s);
	WSACleanup();
	return port;
}

static void test_open_failures(void)
{
	struct vtp *t = (struct vtp *)(uintptr_t)1;
	char spec[64];
	ULONGLONG t0;
	int ret, port = closed_port();

	ret = vtp_open("bogus:1", &t);
	result("open_bad_spec", ret == -VIRGO_EINVAL && !t, "got %d (%s)", ret, virgo_strerror(ret));
	ret = vtp_open("unix:/tmp/virgo.sock", &t);
	result("open_unix_refused", ret == -VIRGO_ENOTSUP && !t, "got %d (%s)", ret, virgo_strerror(ret));
	ret = vtp_open("tcp:127.0.0.1", &t);
	result("open_tcp_no_port", ret == -VIRGO_EINVAL && !t, "got %d (%s)", ret, virgo_strerror(ret));
	/* The kernel driver's path: SetupAPI finds no interface here. */
	ret = vtp_open("device", &t);
	result("open_device_none", ret == -VIRGO_ENODEV && !t, "got %d (%s)", ret, virgo_strerror(ret));
	ret = vtp_open("device:\\\\.\\VirgoNoSuchDevice", &t);
	result("open_device_path_none", ret == -VIRGO_ENODEV && !t, "got %d (%s)", ret, virgo_strerror(ret));
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d", port);
	t0 = GetTickCount64();
	ret = port ? vtp_open(spec, &t) : -1;
	t0 = GetTickCount64() - t0;
	result("open_refused", port && ret == -VIRGO_ENODEV && !t && t0 < 6000, "port %d: got %d (%s) after %llu ms",
	       port, ret, virgo_strerror(ret), (unsigned long long)t0);
}

/* ---- against the real host ------------------------------------------------------- */

struct state {
	struct vtp *t;
	uint64_t base_resources;
	uint32_t buf, buf_res, tex, tex_res;
	uint8_t *buf_map, *tex_map;
};

#define BUF_SIZE  (17u * 4096u)   /* not a multiple of 64 KiB */
#define TEX_W     300u
#define TEX_H     200u
#define TEX_SIZE  (TEX_W * TEX_H * 4u)

static void test_params(struct state *s)
{
	uint64_t v, ids;
	uint8_t caps[2048];
	struct virgo_get_caps gc = { .cap_set_id = 2, .cap_set_ver = 2, .addr = (uint64_t)(uintptr_t)caps,
				     .size = sizeof(caps) };
	int ret;

	ret = param(s->t, VIRGO_PARAM_UAPI_VERSION, &v);
	result("param_uapi_version", !ret && v == VIRGO_UAPI_VERSION, "ret %d value %llu", ret, (unsigned long long)v);
	ret = param(s->t, VIRGO_PARAM_3D_FEATURES, &v);
	result("param_3d_features", !ret && v == 1, "ret %d value %llu", ret, (unsigned long long)v);
	ret = param(s->t, VIRGO_PARAM_SUPPORTED_CAPSET_IDS, &ids);
	result("param_capset_ids", !ret && (ids & 6u) == 6u, "ret %d value %#llx", ret, (unsigned long long)ids);
	ret = param(s->t, VIRGO_PARAM_MAX_EXEC_SIZE, &v);
	result("param_max_exec_size", !ret && v == VIRGO_MAX_EXEC_SIZE, "ret %d value %llu", ret, (unsigned long long)v);
	ret = param(s->t, 0x7777, &v);
	result("param_unknown", ret == -VIRGO_EINVAL, "got %d", ret);

	memset(caps, 0xcd, sizeof(caps));
	ret = vtp_ioctl(s->t, VIRGO_OP_GET_CAPS, &gc);
	result("caps_virgl2", !ret && gc.copied == 1376 && caps[1376] == 0xcd && caps[0] != 0xcd,
	       "ret %d copied %u", ret, gc.copied);
	gc = (struct virgo_get_caps){ .cap_set_id = 1, .cap_set_ver = 1, .addr = (uint64_t)(uintptr_t)caps, .size = 16 };
	memset(caps, 0xcd, sizeof(caps));
	ret = vtp_ioctl(s->t, VIRGO_OP_GET_CAPS, &gc);
	result("caps_virgl_prefix", !ret && gc.copied == 16 && caps[16] == 0xcd, "ret %d copied %u", ret, gc.copied);
	gc = (struct virgo_get_caps){ .cap_set_id = 9, .cap_set_ver = 1, .addr = (uint64_t)(uintptr_t)caps, .size = 16 };
	ret = vtp_ioctl(s->t, VIRGO_OP_GET_CAPS, &gc);
	result("caps_unknown", ret == -VIRGO_EINVAL, "got %d", ret);
}

static void test_context(struct state *s)
{
	static const char name[] = "vtp_test";
	struct virgo_ctx_set_param p[2] = { { VIRGO_CTX_PARAM_CAPSET_ID, 2 },
					    { VIRGO_CTX_PARAM_DEBUG_NAME, (uint64_t)(uintptr_t)name } };
	struct virgo_context_init ci = { .num_params = 2, .ctx_set_params = (uint64_t)(uintptr_t)p };
	uint64_t has = 0;
	int ret;

	param(s->t, VIRGO_PARAM_CONTEXT_INIT, &has);
	if (has != 1) {
		/* --no-context-init: only the capset param is accepted then. */
		info("host offers no CONTEXT_INIT; the first request makes the context");
		return;
	}
	ret = vtp_ioctl(s->t, VIRGO_OP_CONTEXT_INIT, &ci);
	result("context_init", ret == 0, "got %d (%s)", ret, virgo_strerror(ret));
	ret = vtp_ioctl(s->t, VIRGO_OP_CONTEXT_INIT, &ci);
	result("context_init_twice", ret == -VIRGO_EEXIST, "got %d", ret);
}

static void test_resources(struct state *s)
{
	struct virgo_resource_info ri = { 0 };
	uint64_t size = 0, live = 0;
	uint8_t *again;
	int ret;

	ret = create_buffer(s->t, BUF_SIZE, &s->buf, &s->buf_res);
	result("create_buffer", !ret && s->buf && s->buf_res, "got %d (%s)", ret, virgo_strerror(ret));
	ret = create(s->t, 2 /* PIPE_TEXTURE_2D */, 1 /* B8G8R8A8_UNORM */,
		     VENC_BIND_RENDER_TARGET | VENC_BIND_SAMPLER_VIEW, TEX_W, TEX_H, TEX_SIZE, &s->tex, &s->tex_res);
	result("create_texture_2d", !ret && s->tex && s->tex_res && s->tex != s->buf, "got %d (%s)", ret,
	       virgo_strerror(ret));
	ri.bo_handle = s->buf;
	ret = vtp_ioctl(s->t, VIRGO_OP_RESOURCE_INFO, &ri);
	result("resource_info", !ret && ri.res_handle == s->buf_res && ri.size >= BUF_SIZE && ri.blob_mem == 0,
	       "ret %d res %u size %u", ret, ri.res_handle, ri.size);
	ret = param(s->t, VIRGO_PARAM_LIVE_RESOURCES, &live);
	result("live_resources_counts", !ret && live == s->base_resources + 2, "%llu live, %llu before",
	       (unsigned long long)live, (unsigned long long)s->base_resources);

	ret = map(s->t, s->buf, &s->buf_map, &size);
	result("map_buffer", !ret && s->buf_map && size == BUF_SIZE, "ret %d (%s) addr %p size %llu", ret,
	       virgo_strerror(ret), (void *)s->buf_map, (unsigned long long)size);
	if (!s->buf_map)
		return;
	info("buffer mapped at %p (%llu bytes; offset in guest RAM %% 64 KiB = %#x)", (void *)s->buf_map,
	     (unsigned long long)size, (unsigned)((uintptr_t)s->buf_map & 0xffffu));
	ret = map(s->t, s->buf, &again, &size);
	result("map_again_same_address", !ret && again == s->buf_map, "ret %d addr %p vs %p", ret, (void *)again,
	       (void *)s->buf_map);
	ret = map(s->t, s->tex, &s->tex_map, &size);
	/* The mapping is the backing: whole pages. */
	result("map_texture", !ret && s->tex_map && size == ((TEX_SIZE + 4095u) & ~4095u), "ret %d (%s) size %llu", ret,
	       virgo_strerror(ret), (unsigned long long)size);
}

static void test_transfers(struct state *s)
{
	uint64_t f = 0;
	int64_t at;
	int ret;

	if (!s->buf_map || !s->tex_map) {
		result("buffer_roundtrip", false, "no mapping");
		result("texture_roundtrip", false, "no mapping");
		return;
	}
	/* Buffer: pattern -> host, clear, host -> back; the bytes must be the
	 * host's, which only works if our view is the host's guest RAM. */
	fill(s->buf_map, BUF_SIZE, 1);
	ret = xfer(s->t, VIRGO_OP_TRANSFER_TO_HOST, s->buf, BUF_SIZE, 1, 0, &f);
	if (!ret)
		ret = fence_wait(s->t, f, 0);
	memset(s->buf_map, 0, BUF_SIZE);
	if (!ret)
		ret = xfer(s->t, VIRGO_OP_TRANSFER_FROM_HOST, s->buf, BUF_SIZE, 1, 0, NULL);
	if (!ret)
		ret = wait_bo(s->t, s->buf);
	at = ret ? -2 : differs(s->buf_map, BUF_SIZE, 1);
	result("buffer_roundtrip", !ret && at < 0, "ret %d (%s), first difference at %lld", ret, virgo_strerror(ret),
	       (long long)at);

	fill(s->tex_map, TEX_SIZE, 2);
	ret = xfer(s->t, VIRGO_OP_TRANSFER_TO_HOST, s->tex, TEX_W, TEX_H, TEX_W * 4u, &f);
	if (!ret)
		ret = fence_wait(s->t, f, 0);
	memset(s->tex_map, 0, TEX_SIZE);
	if (!ret)
		ret = xfer(s->t, VIRGO_OP_TRANSFER_FROM_HOST, s->tex, TEX_W, TEX_H, TEX_W * 4u, NULL);
	if (!ret)
		ret = wait_bo(s->t, s->tex);
	at = ret ? -2 : differs(s->tex_map, TEX_SIZE, 2);
	result("texture_roundtrip", !ret && at < 0, "ret %d (%s), first difference at %lld", ret, virgo_strerror(ret),
	       (long long)at);
}

static void test_exec(struct state *s)
{
	uint64_t f1 = 0, f2 = 0;
	uint32_t bos[1] = { s->buf };
	int ret;

	ret = exec(s->t, nops, sizeof(nops), bos, 1, &f1);
	if (!ret)
		ret = exec(s->t, nops, sizeof(nops), NULL, 0, &f2);
	result("execbuffer_fences", !ret && f1 && f2 > f1, "ret %d (%s) fences %llu %llu", ret, virgo_strerror(ret),
	       (unsigned long long)f1, (unsigned long long)f2);
	ret = fence_wait(s->t, f2, 0);
	result("fence_wait", ret == 0, "got %d (%s)", ret, virgo_strerror(ret));
	ret = fence_wait(s->t, f1, VIRGO_WAIT_NOWAIT);
	result("fence_wait_nowait_signalled", ret == 0, "got %d", ret);
	ret = fence_wait(s->t, f2 + 1000, 0);
	result("fence_wait_unknown", ret == -VIRGO_EINVAL, "got %d", ret);
	ret = wait_bo(s->t, s->buf);
	result("wait_idle", ret == 0, "got %d", ret);
}

/* The reference scene: Mesa-like streams, resources in the bo list, the
 * frame read back through a mapping. */
static void test_triangle(struct state *s)
{
	static uint8_t px[SCENE_RT_SIZE];
	uint32_t stream[SCENE_STREAM_DWORDS], bos[2], rt = 0, rt_id = 0, vb = 0, vb_id = 0;
	float verts[SCENE_VB_FLOATS];
	uint8_t *vmap = NULL, *rmap = NULL;
	char why[200] = "";
	struct venc e;
	uint64_t f = 0;
	int ret;

	ret = create(s->t, SCENE_RT_TARGET, SCENE_RT_FORMAT, SCENE_RT_BIND, SCENE_RT_WIDTH, SCENE_RT_HEIGHT,
		     SCENE_RT_SIZE, &rt, &rt_id);
	if (!ret)
		ret = create(s->t, SCENE_VB_TARGET, SCENE_VB_FORMAT, SCENE_VB_BIND, SCENE_VB_WIDTH, 1, SCENE_VB_SIZE,
			     &vb, &vb_id);
	if (!ret)
		ret = map(s->t, vb, &vmap, NULL);
	if (!ret) {
		scene_triangle_vertices(verts);
		memcpy(vmap, verts, sizeof(verts));
		ret = xfer(s->t, VIRGO_OP_TRANSFER_TO_HOST, vb, SCENE_VB_BYTES, 1, 0, NULL);
	}
	if (!ret) {
		venc_init(&e, stream, SCENE_STREAM_DWORDS);
		ret = scene_triangle_encode(&e, rt_id, vb_id, SCENE_RT_WIDTH, SCENE_RT_HEIGHT);
		if (!ret)
			ret = scene_triangle_encode_teardown(&e);
		if (ret)
			ret = -VIRGO_EINVAL;
	}
	bos[0] = rt;
	bos[1] = vb;
	if (!ret)
		ret = exec(s->t, stream, venc_bytes(&e), bos, 2, &f);
	if (!ret)
		ret = xfer(s->t, VIRGO_OP_TRANSFER_FROM_HOST, rt, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, SCENE_RT_STRIDE, &f);
	if (!ret)
		ret = fence_wait(s->t, f, 0);
	if (!ret)
		ret = map(s->t, rt, &rmap, NULL);
	if (!ret) {
		memcpy(px, rmap, SCENE_RT_SIZE);
		if (scene_triangle_check_full(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
			ret = 1;
	}
	result("triangle_pixels", ret == 0, "ret %d (%s) %s", ret, ret < 0 ? virgo_strerror(ret) : "", why);
	if (vb)
		close_bo(s->t, vb);
	if (rt)
		close_bo(s->t, rt);
}

static void test_errors(struct state *s)
{
	uint8_t *p;
	uint64_t f;
	int ret;

	ret = map(s->t, 9999, &p, NULL);
	result("bad_handle_map", ret == -VIRGO_ENOENT, "got %d", ret);
	ret = wait_bo(s->t, 9999);
	result("bad_handle_wait", ret == -VIRGO_ENOENT, "got %d", ret);
	ret = xfer(s->t, VIRGO_OP_TRANSFER_TO_HOST, 9999, 16, 1, 0, &f);
	result("bad_handle_transfer", ret == -VIRGO_ENOENT, "got %d", ret);
	ret = close_bo(s->t, 9999);
	result("bad_handle_close", ret == -VIRGO_ENOENT, "got %d", ret);
	ret = unmap(s->t, s->tex);
	if (!ret)
		ret = unmap(s->t, s->tex);
	result("unmap_twice", ret == -VIRGO_EINVAL, "got %d", ret);
	s->tex_map = NULL;
	{
		struct virgo_get_param a = { .param = VIRGO_PARAM_UAPI_VERSION };

		ret = vtp_ioctl(s->t, 99, &a);
		result("unknown_op", ret == -VIRGO_ENOTSUP, "got %d", ret);
		ret = vtp_ioctl(s->t, VIRGO_OP_GET_PARAM, NULL);
		result("null_arg", ret == -VIRGO_EINVAL, "got %d", ret);
		ret = vtp_ioctl(NULL, VIRGO_OP_GET_PARAM, &a);
		result("null_transport", ret == -VIRGO_EINVAL, "got %d", ret);
	}
	{
		/* A stream virglrenderer refuses: the error comes back, and the
		 * connection stays usable. */
		static const uint32_t bad[2] = { 0xffffu << 16 | 0xfe, 0 };
		uint64_t v;

		ret = exec(s->t, bad, 4, NULL, 0, &f);
		if (!ret)
			ret = fence_wait(s->t, f, 0);
		result("bad_stream_reported", ret != 0 && param(s->t, VIRGO_PARAM_UAPI_VERSION, &v) == 0,
		       "got %d", ret);
	}
}

static void test_unmap_remap(struct state *s)
{
	uint8_t *old = s->buf_map, *p = NULL;
	uint64_t size = 0;
	int64_t at;
	int ret;

	ret = unmap(s->t, s->buf);
	result("unmap", ret == 0 && unmapped(old), "ret %d, still mapped: %d", ret, !unmapped(old));
	/* The backing lives on: the last round trip's bytes are still there. */
	ret = map(s->t, s->buf, &p, &size);
	at = ret ? -2 : differs(p, BUF_SIZE, 1);
	result("remap_keeps_data", !ret && at < 0, "ret %d, first difference at %lld", ret, (long long)at);
	s->buf_map = p;
}

/* ---- threads ------------------------------------------------------------------------ */

struct worker {
	struct state *s;
	HANDLE thread;
	unsigned id;
	unsigned errors;
	char why[128];
};

static DWORD WINAPI worker_main(void *arg)
{
	struct worker *w = arg;

	for (unsigned i = 0; i < 40 && !w->errors; i++) {
		uint64_t v = 0, f = 0;
		uint8_t *p = NULL;
		int ret = param(w->s->t, VIRGO_PARAM_UAPI_VERSION, &v);

		if (!ret && v != VIRGO_UAPI_VERSION)
			ret = 1;
		if (!ret)
			ret = exec(w->s->t, nops, sizeof(nops), NULL, 0, &f);
		if (!ret)
			ret = fence_wait(w->s->t, f, 0);
		if (!ret)
			ret = map(w->s->t, w->s->buf, &p, NULL);
		if (!ret && p != w->s->buf_map)
			ret = 2;
		if (ret) {
			w->errors++;
			snprintf(w->why, sizeof(w->why), "thread %u iteration %u: %d (%s)", w->id, i, ret,
				 ret < 0 ? virgo_strerror(ret) : "wrong value");
		}
	}
	return 0;
}

static void test_threads(struct state *s)
{
	struct worker w[4];
	HANDLE h[4];
	unsigned errors = 0;
	const char *why = "";
	DWORD r;

	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ .s = s, .id = i };
		w[i].thread = CreateThread(NULL, 0, worker_main, &w[i], 0, NULL);
		h[i] = w[i].thread;
	}
	r = WaitForMultipleObjects(4, h, TRUE, 120000);
	for (unsigned i = 0; i < 4; i++) {
		errors += w[i].errors;
		if (w[i].errors)
			why = w[i].why;
		CloseHandle(h[i]);
	}
	result("threads_share_transport", r == WAIT_OBJECT_0 && !errors, "wait %lu, %u errors: %s",
	       (unsigned long)r, errors, why);
}

static void test_isolation(struct state *s)
{
	struct vtp *t2 = NULL;
	uint64_t handles = 0;
	uint8_t *p;
	int ret = vtp_open(NULL, &t2);

	result("second_handle", ret == 0, "got %d (%s)", ret, virgo_strerror(ret));
	if (ret)
		return;
	param(t2, VIRGO_PARAM_LIVE_HANDLES, &handles);
	result("live_handles_two", handles == 2, "%llu", (unsigned long long)handles);
	/* Handle numbers are per open handle: ours mean nothing there. */
	ret = map(t2, s->buf, &p, NULL);
	result("handles_isolated", ret == -VIRGO_ENOENT, "got %d", ret);
	vtp_close(t2);
}

/* ---- a backing in several runs of guest RAM, on the real host ---------------------------
 * virgo-host backs a resource contiguously unless guest RAM is too
 * fragmented. Made so here: fill RAM with 1 MiB buffers, free every other
 * one, ask for more than any hole. Whether Windows can stitch the runs
 * depends on where they lie (the fake-host checks below cover both cases
 * exactly); here either the mapping works and round-trips through the
 * host, or it is refused cleanly: -VIRGO_ENOTSUP every time, the host's
 * record undone, the resource still usable and closable. */

#define FRAG_BUF (1u << 20)
#define FRAG_MAX 1024u

static void test_fragmented(struct state *s)
{
	static uint32_t bufs[FRAG_MAX];
	const uint32_t size = 2 * FRAG_BUF + 4096u;
	uint32_t big = 0, n = 0;
	uint64_t live = 0;
	uint8_t *p = NULL;
	int64_t at = -2;
	int ret;

	while (n < FRAG_MAX && !(ret = create_buffer(s->t, FRAG_BUF, &bufs[n], NULL)))
		n++;
	if (ret != -VIRGO_ENOMEM || n < 8) {
		result("fragmented_backing", false, "filling guest RAM: %u buffers, then %d", n, ret);
		goto out;
	}
	/* Every other one, keeping the last so that no hole meets the free
	 * tail: no free range is longer than about one buffer. */
	for (uint32_t i = 1; i + 1 < n; i += 2) {
		close_bo(s->t, bufs[i]);
		bufs[i] = 0;
	}
	if (!wait_param(s->t, VIRGO_PARAM_LIVE_RESOURCES, s->base_resources + 2 + (n + 1) / 2 + (n % 2 == 0), 10000,
			&live)) {
		result("fragmented_backing", false, "holes not freed: %llu live", (unsigned long long)live);
		goto out;
	}
	ret = create_buffer(s->t, size, &big, NULL);
	if (ret) {
		result("fragmented_backing", false, "the buffer over several holes: %d (%s)", ret, virgo_strerror(ret));
		goto out;
	}
	ret = map(s->t, big, &p, NULL);
	if (!ret) {
		fill(p, size, 3);
		ret = xfer(s->t, VIRGO_OP_TRANSFER_TO_HOST, big, size, 1, 0, NULL);
		if (!ret)
			ret = wait_bo(s->t, big);
		memset(p, 0, size);
		if (!ret)
			ret = xfer(s->t, VIRGO_OP_TRANSFER_FROM_HOST, big, size, 1, 0, NULL);
		if (!ret)
			ret = wait_bo(s->t, big);
		at = ret ? -2 : differs(p, size, 3);
		info("a buffer over %u MiB of fragmented guest RAM mapped at %p", size >> 20, (void *)p);
		result("fragmented_backing", !ret && at < 0, "ret %d (%s), first difference at %lld", ret,
		       virgo_strerror(ret), (long long)at);
	} else if (ret == -VIRGO_ENOTSUP) {
		int again = map(s->t, big, &p, NULL), un = unmap(s->t, big);
		uint64_t f = 0;
		int x = xfer(s->t, VIRGO_OP_TRANSFER_TO_HOST, big, 4096, 1, 0, &f);

		info("a buffer over fragmented guest RAM could not be mapped (runs not on 64 KiB boundaries)");
		result("fragmented_backing", again == -VIRGO_ENOTSUP && un == -VIRGO_EINVAL && x == 0,
		       "second map %d, unmap %d (the host must hold no mapping), transfer %d", again, un, x);
	} else {
		result("fragmented_backing", false, "map: %d (%s)", ret, virgo_strerror(ret));
	}
out:
	if (big)
		close_bo(s->t, big);
	for (uint32_t i = 0; i < n; i++)
		if (bufs[i])
			close_bo(s->t, bufs[i]);
	result("fragmented_cleanup",
	       wait_param(s->t, VIRGO_PARAM_LIVE_RESOURCES, s->base_resources + 2, 10000, &live) && (!p || unmapped(p)),
	       "%llu live resources", (unsigned long long)live);
}

/* ---- fake hosts ------------------------------------------------------------------------ */

enum fake_mode { FAKE_DROP, FAKE_GARBAGE, FAKE_SILENT, FAKE_MAP };

struct fake_layout {
	uint32_t nruns;
	struct virgo_wire_run runs[4];
};

struct fake {
	enum fake_mode mode;
	SOCKET ls, cs;
	int port;
	HANDLE thread;
	char path[MAX_PATH];
	uint64_t object_size;
	const struct fake_layout *layouts; /* by bo_handle */
	uint32_t nlayouts;
	LONG unmaps[8];                    /* UNMAPs seen, by bo_handle */
};

static int fake_recv(SOCKET s, void *buf, int len)
{
	char *p = buf;

	while (len > 0) {
		int n = recv(s, p, len, 0);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int fake_reply(SOCKET s, const struct virgo_wire_req *q, const void *args, int32_t status, const void *out,
		      uint32_t out_len)
{
	struct virgo_wire_resp r = { .magic = VIRGO_WIRE_MAGIC, .version = VIRGO_UAPI_VERSION, .op = q->op,
				     .arg_size = q->arg_size, .status = status, .out_size = out_len, .seq = q->seq };
	char buf[sizeof(r) + 64 + 1024];

	memcpy(buf, &r, sizeof(r));
	memcpy(buf + sizeof(r), args, q->arg_size);
	memcpy(buf + sizeof(r) + q->arg_size, out, out_len);
	return send(s, buf, (int)(sizeof(r) + q->arg_size + out_len), 0) > 0 ? 0 : -1;
}

static DWORD WINAPI fake_main(void *arg)
{
	struct fake *f = arg;

	f->cs = accept(f->ls, NULL, NULL);
	if (f->cs == INVALID_SOCKET)
		return 0;
	for (;;) {
		struct virgo_wire_req q;
		uint8_t args[64], in[4096];

		if (fake_recv(f->cs, &q, sizeof(q)) || q.arg_size > sizeof(args) || q.in_size > sizeof(in) ||
		    fake_recv(f->cs, args, (int)q.arg_size) || fake_recv(f->cs, in, (int)q.in_size))
			break;
		if (f->mode == FAKE_DROP)
			break;
		if (f->mode == FAKE_GARBAGE) {
			memset(in, 0x55, sizeof(struct virgo_wire_resp));
			send(f->cs, (const char *)in, sizeof(struct virgo_wire_resp), 0);
			continue;
		}
		if (f->mode == FAKE_SILENT)
			continue;
		if (q.op == VIRGO_OP_MAP) {
			struct virgo_map *a = (void *)args;
			const struct fake_layout *l = a->bo_handle < f->nlayouts ? &f->layouts[a->bo_handle] : NULL;
			uint8_t out[1024];
			struct virgo_wire_map wm = { .object_size = f->object_size };
			uint32_t len;

			if (!l || !l->nruns) {
				fake_reply(f->cs, &q, args, -VIRGO_ENOENT, NULL, 0);
				continue;
			}
			wm.nruns = l->nruns;
			wm.path_len = (uint32_t)strlen(f->path);
			a->addr = l->runs[0].offset;
			a->size = 0;
			for (uint32_t i = 0; i < l->nruns; i++)
				a->size += l->runs[i].len;
			memcpy(out, &wm, sizeof(wm));
			memcpy(out + sizeof(wm), l->runs, sizeof(l->runs[0]) * l->nruns);
			len = (uint32_t)(sizeof(wm) + sizeof(l->runs[0]) * l->nruns);
			memcpy(out + len, f->path, wm.path_len);
			fake_reply(f->cs, &q, args, 0, out, len + wm.path_len);
		} else if (q.op == VIRGO_OP_UNMAP) {
			uint32_t h;

			memcpy(&h, args, 4);
			if (h < 8)
				InterlockedIncrement(&f->unmaps[h]);
			fake_reply(f->cs, &q, args, 0, NULL, 0);
		} else {
			fake_reply(f->cs, &q, args, -VIRGO_ENOTSUP, NULL, 0);
		}
	}
	closesocket(f->cs);
	f->cs = INVALID_SOCKET;
	return 0;
}

static int fake_start(struct fake *f, enum fake_mode mode, char *spec, size_t speclen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int len = sizeof(a);
	WSADATA wsa;

	f->mode = mode;
	f->cs = INVALID_SOCKET;
	if (WSAStartup(MAKEWORD(2, 2), &wsa))
		return -1;
	f->ls = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (f->ls == INVALID_SOCKET || bind(f->ls, (struct sockaddr *)&a, sizeof(a)) || listen(f->ls, 1) ||
	    getsockname(f->ls, (struct sockaddr *)&a, &len)) {
		if (f->ls != INVALID_SOCKET)
			closesocket(f->ls);
		WSACleanup();
		return -1;
	}
	f->port = ntohs(a.sin_port);
	snprintf(spec, speclen, "tcp:127.0.0.1:%d", f->port);
	f->thread = CreateThread(NULL, 0, fake_main, f, 0, NULL);
	return f->thread ? 0 : -1;
}

/* After the client closed: the fake sees EOF and ends. */
static void fake_stop(struct fake *f)
{
	if (WaitForSingleObject(f->thread, 10000) != WAIT_OBJECT_0) {
		/* It is stuck in accept or recv: closing its sockets ends that. */
		closesocket(f->ls);
		f->ls = INVALID_SOCKET;
		WaitForSingleObject(f->thread, INFINITE);
	}
	CloseHandle(f->thread);
	if (f->ls != INVALID_SOCKET)
		closesocket(f->ls);
	WSACleanup();
}

static void test_dead_hosts(void)
{
	static const struct {
		enum fake_mode mode;
		const char *name;
		int first;
	} cases[] = {
		{ FAKE_DROP, "host_drops_connection", -VIRGO_EDEVLOST },
		{ FAKE_GARBAGE, "host_sends_garbage", -VIRGO_EPROTO },
		{ FAKE_SILENT, "host_never_answers", -VIRGO_EDEVLOST },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f = { 0 };
		struct vtp *t = NULL;
		char spec[64];
		uint64_t v;
		ULONGLONG t0, t1;
		int ret = -1, again = -1;

		if (fake_start(&f, cases[i].mode, spec, sizeof(spec))) {
			result(cases[i].name, false, "no fake host");
			continue;
		}
		/* A short slack so that silence costs a second, not thirty. */
		if (cases[i].mode == FAKE_SILENT)
			_putenv("VIRGO_TRANSPORT_TIMEOUT_MS=1000");
		if (!vtp_open(spec, &t)) {
			t0 = GetTickCount64();
			ret = param(t, VIRGO_PARAM_UAPI_VERSION, &v);
			t1 = GetTickCount64();
			again = param(t, VIRGO_PARAM_UAPI_VERSION, &v);
			t1 = GetTickCount64() - t1;
			t0 = GetTickCount64() - t0;
			vtp_close(t);
		} else {
			t0 = t1 = 0;
		}
		if (cases[i].mode == FAKE_SILENT)
			_putenv("VIRGO_TRANSPORT_TIMEOUT_MS=");
		fake_stop(&f);
		result(cases[i].name, ret == cases[i].first && again == -VIRGO_EDEVLOST && t0 < 5000 && t1 < 100,
		       "first %d, then %d, after %llu ms (the second took %llu ms)", ret, again,
		       (unsigned long long)t0, (unsigned long long)t1);
	}
}

/* Backing layouts a host could send, against a file of known words. */
static void test_fake_layouts(void)
{
	enum { OBJ = 1u << 20 };
	static const struct fake_layout layouts[] = {
		[1] = { 1, { { 0x23000, 0x5000 } } },                                          /* one unaligned run */
		[2] = { 3, { { 0x30000, 0x10000 }, { 0x10000, 0x10000 }, { 0x80000, 0x3000 } } }, /* aligned pieces */
		[3] = { 2, { { 0x23000, 0xd000 }, { 0x50000, 0x11000 } } },                     /* unaligned head */
		[4] = { 3, { { 0x4000, 0x2000 }, { 0x6000, 0x3000 }, { 0x9000, 0x1000 } } },    /* adjacent: one */
		[5] = { 2, { { 0x1000, 0x2000 }, { 0x5000, 0x1000 } } },                        /* cannot stitch */
		[6] = { 1, { { OBJ - 0x1000, 0x2000 } } },                                      /* past the end */
	};
	static const int expect[] = { [1] = 0, [2] = 0, [3] = 0, [4] = 0, [5] = -VIRGO_ENOTSUP, [6] = -VIRGO_EPROTO };
	static const char *const names[] = { NULL, "fake_map_one_unaligned_run", "fake_map_aligned_runs",
					     "fake_map_unaligned_head", "fake_map_adjacent_runs",
					     "fake_map_unstitchable_refused", "fake_map_out_of_range_refused" };
	struct fake f = { .layouts = layouts, .nlayouts = 7, .object_size = OBJ };
	uint8_t *addr[7] = { 0 };
	struct vtp *t = NULL;
	char spec[64], dir[MAX_PATH];
	uint32_t *words;
	HANDLE h;
	DWORD done = 0;
	bool ok;

	/* The file: word i holds i, so every byte says where it came from. */
	GetTempPathA(sizeof(dir), dir);
	snprintf(f.path, sizeof(f.path), "%svirgo-vtp-test-%lu.bin", dir, (unsigned long)GetCurrentProcessId());
	words = malloc(OBJ);
	for (uint32_t i = 0; words && i < OBJ / 4; i++)
		words[i] = i;
	h = CreateFileA(f.path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	ok = words && h != INVALID_HANDLE_VALUE && WriteFile(h, words, OBJ, &done, NULL) && done == OBJ;
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	free(words);
	if (!ok || fake_start(&f, FAKE_MAP, spec, sizeof(spec)) || vtp_open(spec, &t)) {
		result("fake_map_setup", false, "file %s or fake host failed", f.path);
		DeleteFileA(f.path);
		return;
	}
	for (uint32_t bo = 1; bo <= 6; bo++) {
		const struct fake_layout *l = &layouts[bo];
		uint64_t size = 0, pos = 0;
		int ret = map(t, bo, &addr[bo], &size);
		bool good = ret == expect[bo];

		if (!ret) {
			/* Each run's words, one after the other. */
			for (uint32_t r = 0; good && r < l->nruns; r++) {
				const uint32_t *w = (const uint32_t *)(addr[bo] + pos);

				for (uint64_t k = 0; good && k < l->runs[r].len / 4; k++)
					good = w[k] == (uint32_t)(l->runs[r].offset / 4 + k);
				pos += l->runs[r].len;
			}
			good = good && size == pos;
		} else {
			/* Refused: the host was told to forget the mapping. */
			good = good && f.unmaps[bo] == 1;
		}
		result(names[bo], good, "map %d (want %d), size %llu, unmaps sent %ld", ret, expect[bo],
		       (unsigned long long)size, (long)f.unmaps[bo]);
	}
	/* Writes through a stitched mapping land in the file where the run
	 * says: byte 0x10000 of layout 2 is file offset 0x10000. */
	if (addr[2]) {
		uint8_t got = 0;
		DWORD n = 0;
		OVERLAPPED at = { .Offset = 0x10000 };

		addr[2][0x10000] = 0xab;
		h = CreateFileA(f.path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
				OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
		if (h != INVALID_HANDLE_VALUE) {
			ReadFile(h, &got, 1, &n, &at);
			CloseHandle(h);
		}
		result("fake_map_writes_reach_file", n == 1 && got == 0xab, "read %lu byte(s): %#x", (unsigned long)n, got);
	}
	{
		int ret = unmap(t, 2);

		result("fake_unmap_stitched", ret == 0 && f.unmaps[2] == 1 && addr[2] && unmapped(addr[2]) &&
						   unmapped(addr[2] + 0x10000) && unmapped(addr[2] + 0x20000),
		       "ret %d, unmaps %ld", ret, (long)f.unmaps[2]);
	}
	vtp_close(t);
	result("fake_close_unmaps_all", unmapped(addr[1]) && unmapped(addr[3]) && unmapped(addr[3] + 0xd000) &&
					      unmapped(addr[4]),
	       "a view is left after vtp_close");
	fake_stop(&f);
	/* Our section is gone with the transport: the file can go. */
	result("fake_file_released", DeleteFileA(f.path) != 0, "DeleteFile: error %lu", (unsigned long)GetLastError());
}

/* ---- leaks ------------------------------------------------------------------------------ */

/* Under Wine a new handle takes the lowest free slot, so the lowest 64
 * free slots before and after some work differ iff the work left a handle
 * open among them. (Wine's GetProcessHandleCount always says 0.) */
static void low_handles(HANDLE out[64])
{
	for (int i = 0; i < 64; i++)
		out[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
	for (int i = 0; i < 64; i++)
		CloseHandle(out[i]);
}

static void test_no_handle_leak(void)
{
	HANDLE before[64], after[64];
	uint8_t *p[3] = { 0 };
	int ret = 0;

	low_handles(before);
	for (int cycle = 0; cycle < 3 && !ret; cycle++) {
		struct vtp *t = NULL;
		uint32_t bo = 0;

		ret = vtp_open(NULL, &t);
		if (!ret)
			ret = create_buffer(t, 8192, &bo, NULL);
		if (!ret)
			ret = map(t, bo, &p[cycle], NULL);
		/* Closed with the mapping and the resource still there. */
		vtp_close(t);
	}
	low_handles(after);
	result("close_releases_views", !ret && unmapped(p[0]) && unmapped(p[1]) && unmapped(p[2]), "ret %d", ret);
	result("close_releases_handles", !memcmp(before, after, sizeof(before)), "handle slots differ after 3 cycles");
}

int main(void)
{
	struct state s = { 0 };
	uint64_t v = 0;
	int ret;

	setvbuf(stdout, NULL, _IONBF, 0);
	test_open_failures();
	ret = vtp_open(NULL, &s.t);
	result("open_from_env", ret == 0 && s.t, "VIRGO_TRANSPORT=%s: %d (%s)",
	       getenv("VIRGO_TRANSPORT") ? getenv("VIRGO_TRANSPORT") : "(unset)", ret, virgo_strerror(ret));
	if (ret) {
		printf("%u passed, %u failed\n", npass, nfail);
		return 1;
	}
	param(s.t, VIRGO_PARAM_LIVE_RESOURCES, &s.base_resources);
	test_params(&s);
	test_context(&s);
	test_resources(&s);
	test_transfers(&s);
	test_exec(&s);
	test_triangle(&s);
	test_errors(&s);
	test_unmap_remap(&s);
	test_threads(&s);
	test_isolation(&s);
	test_fragmented(&s);
	test_dead_hosts();
	test_fake_layouts();
	test_no_handle_leak();

	ret = close_bo(s.t, s.buf);
	if (!ret)
		ret = close_bo(s.t, s.tex);
	result("close_resources", ret == 0 && unmapped(s.buf_map), "got %d", ret);
	result("no_resources_left", wait_param(s.t, VIRGO_PARAM_LIVE_RESOURCES, s.base_resources, 10000, &v),
	       "%llu live, %llu at start", (unsigned long long)v, (unsigned long long)s.base_resources);
	result("one_handle_left", wait_param(s.t, VIRGO_PARAM_LIVE_HANDLES, 1, 10000, &v), "%llu live handles",
	       (unsigned long long)v);
	vtp_close(s.t);
	{
		/* The transport starts Winsock once and never calls WSACleanup
		 * (vtp_close runs inside DllMain when the ICD unloads, where
		 * WSACleanup can deadlock): Winsock is still up after the last
		 * vtp_close, and stays up for the process. */
		SOCKET x = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
		int e = WSAGetLastError();

		result("winsock_left_to_process_exit", x != INVALID_SOCKET, "socket() %s, error %d",
		       x == INVALID_SOCKET ? "failed" : "worked", e);
		if (x != INVALID_SOCKET)
			closesocket(x);
	}
	printf("%u passed, %u failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
