/* SPDX-License-Identifier: MIT */
/*
 * soak: many clients for a long time through virgo-host, then a count of
 * what is left.
 *
 *   soak [--clients N] [--host-log FILE] PATH-TO-virgo-host SECONDS
 *
 * It starts virgo-host on a private socket and warms it up under the same
 * load for a tenth of the run (at least 10 s: llvmpipe's and
 * virglrenderer's one-time state, their shader and JIT caches, the host's
 * threads), takes the baseline once those clients are gone, then runs N
 * clients (default 16), each a thread with its own handle, for SECONDS.
 * Each client, in a random mix:
 * creates buffers and textures (and guest blobs), maps them, writes a
 * pattern, uploads it, clears its mapping and reads it back (the bytes
 * must come back), submits streams naming its resources and waits on
 * their fences and on the resources, renders the reference triangle and
 * checks its pixels, closes resources or leaves them to the handle's
 * close, and every so often drops its handle with work in flight and
 * opens a new one. Any request that fails is a failure: there are no
 * faults here.
 *
 * Every 10 s, and at the end once every client is gone, it samples the
 * host: LIVE_RESOURCES and LIVE_HANDLES (uAPI), its kernel objects and
 * guest pages (virgo-host prints them on SIGUSR1), its open file
 * descriptors (/proc/PID/fd) and its memory (/proc/PID/status). At the end
 * these must be back at the baseline: resources, handles, device objects
 * and descriptors exactly; kernel objects and guest pages exactly but for
 * the core's request cache (up to GPU_REQ_CACHE idle request buffers of
 * one page each, kept device-wide by design: REQ_CACHE below); anonymous
 * memory (RssAnon, after virgo-host gave its allocator's free memory
 * back) within a tolerance (RSS_SLACK_KB says why there is one). Then
 * virgo-host is stopped and must report a clean shutdown. Each check
 * prints PASS or FAIL; the last line is "N passed, N failed".
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <virgo/uapi.h>

#include "scene_triangle.h"
#include "vtp.h"

#define SEC_NS 1000000000ull
#define MAX_CLIENTS 64
#define MAX_LIVE 8          /* resources a client keeps at once */
#define RECONNECT_EVERY 40  /* iterations, on average */
#define SAMPLE_SECS 10
/* kmd/core/gpu.h GPU_REQ_CACHE: idle request buffers the core keeps for
 * reuse (one os_alloc, one os_dma_alloc of one page each). */
#define REQ_CACHE 64
/*
 * Anonymous memory may end above the warm baseline by this much, even
 * after virgo-host's malloc_trim: a trim cannot return a page that still
 * holds one live small block among free ones (fragmentation across
 * glibc's per-thread arenas, one per connection thread up to 8 per core),
 * and Mesa's llvmpipe keeps what its shader and JIT caches grew to. The
 * runs measured so far ended within 0.6 MiB of the baseline, up or down
 * (docs/reliability.md), so 4 MiB is several times that; a leak grows
 * with the work instead: the 1-minute run makes about 130,000 requests,
 * so a host-side leak of 32 bytes a request fails it (the 10-minute run:
 * 4 bytes). Kernel objects and guest pages are counted exactly, above.
 * The check also requires that the samples under load did not grow by
 * more than RSS_LOAD_SLACK_KB between half time and the end: a sample under
 * load holds whatever the 16 clients have open at that instant, so two of
 * them differ by more than two quiet ones (a fresh machine's 1-minute run
 * saw +5 MiB between them and ended 0.4 MiB above its baseline).
 */
#define RSS_SLACK_KB (4u * 1024u)
#define RSS_LOAD_SLACK_KB (16u * 1024u)

static const char *host_exe;
static char sock_path[108];
static pid_t host_pid;
static int host_out = -1;
static unsigned nclients = 16;
static volatile bool stopping;
static bool have_blob;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC_NS + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- results --------------------------------------------------------------- */

static unsigned npass, nfail;

static void verdict(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s", ok ? "PASS" : "FAIL", name);
	if (fmt) {
		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	if (ok)
		npass++;
	else
		nfail++;
}

/* ---- the host -------------------------------------------------------------- */

static int start_host(const char *log)
{
	int pipefd[2];
	char buf[512];
	size_t len = 0;

	snprintf(sock_path, sizeof(sock_path), "/tmp/virgo-soak-%d.sock", (int)getpid());
	if (pipe(pipefd) < 0)
		return -1;
	host_pid = fork();
	if (host_pid == 0) {
		int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pipefd[1], 1);
		if (fd >= 0)
			dup2(fd, 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(host_exe, host_exe, "--socket", sock_path, "--log-level",
		      getenv("VIRGO_HOST_LOG") ? getenv("VIRGO_HOST_LOG") : "warn", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	host_out = pipefd[0];
	if (host_pid < 0)
		return -1;
	while (len < sizeof(buf) - 1) {
		struct pollfd p = { host_out, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 60000) <= 0)
			return -1;
		n = read(host_out, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, "ready on") && strchr(buf, '\n'))
			return 0;
	}
	return -1;
}

/* One line from the host's stdout that starts with prefix, within ms. */
static bool host_line(const char *prefix, char *line, size_t cap, unsigned ms)
{
	static char buf[8192];
	static size_t len;
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;

	for (;;) {
		char *nl;

		while ((nl = memchr(buf, '\n', len))) {
			size_t l = (size_t)(nl - buf);
			bool hit = l >= strlen(prefix) && !strncmp(buf, prefix, strlen(prefix));

			if (hit) {
				size_t c = l < cap - 1 ? l : cap - 1;

				memcpy(line, buf, c);
				line[c] = 0;
			}
			memmove(buf, nl + 1, len - l - 1);
			len -= l + 1;
			if (hit)
				return true;
		}
		struct pollfd p = { host_out, POLLIN, 0 };
		uint64_t now = now_ns();
		ssize_t n;

		if (now >= end || len == sizeof(buf))
			return false;
		if (poll(&p, 1, (int)((end - now) / 1000000u) + 1) <= 0)
			continue;
		n = read(host_out, buf + len, sizeof(buf) - len);
		if (n <= 0)
			return false;
		len += (size_t)n;
	}
}

struct sample {
	long long allocs, dma, backings, maps, pages;
	unsigned dev_ctx, dev_res, dev_held;
	unsigned long long dev_hostmem;     /* bytes charged to the device's budget */
	uint64_t live_res, live_handles;
	unsigned fds;
	unsigned long rss_anon_kb, rss_shmem_kb, rss_kb;
	unsigned clients;
};

static unsigned count_fds(void)
{
	char path[64];
	unsigned n = 0;
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)host_pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void read_mem(struct sample *s)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)host_pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "RssAnon: %lu", &s->rss_anon_kb);
		sscanf(line, "RssShmem: %lu", &s->rss_shmem_kb);
		sscanf(line, "VmRSS: %lu", &s->rss_kb);
	}
	fclose(f);
}

static bool param(struct vtp *t, uint64_t p, uint64_t *v)
{
	struct virgo_get_param g = { .param = p };

	if (vtp_ioctl(t, VIRGO_OP_GET_PARAM, &g))
		return false;
	*v = g.value;
	return true;
}

static struct vtp *connect_host(void)
{
	char spec[160];
	struct vtp *t = NULL;

	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	return vtp_open(spec, &t) ? NULL : t;
}

/* A sample of the host. With settle, first waits until the clients are
 * gone (LIVE_HANDLES is the monitor's own 1) and reconnects the monitor,
 * so that the host has reaped every finished connection. */
static bool take_sample(struct vtp **mon, struct sample *s, bool settle)
{
	char line[512];

	memset(s, 0, sizeof(*s));
	if (settle) {
		uint64_t h = 0, r = 0;

		for (int i = 0; i < 1000; i++) {
			if (param(*mon, VIRGO_PARAM_LIVE_HANDLES, &h) && param(*mon, VIRGO_PARAM_LIVE_RESOURCES, &r) &&
			    h == 1 && r == 0)
				break;
			sleep_ms(20);
		}
		vtp_close(*mon);
		*mon = connect_host();
		if (!*mon)
			return false;
		sleep_ms(300);
	}
	/* Settled means only the monitor's connection is left: the host tears
	 * a closed connection down on its own thread, which a loaded machine
	 * may not have run yet (a baseline of 2 connections and one fd more
	 * failed a fresh machine's run). At most 10 s. */
	for (int tries = 0;; tries++) {
		if (!param(*mon, VIRGO_PARAM_LIVE_RESOURCES, &s->live_res) ||
		    !param(*mon, VIRGO_PARAM_LIVE_HANDLES, &s->live_handles))
			return false;
		kill(host_pid, SIGUSR1);
		if (!host_line("virgo-host: live:", line, sizeof(line), 10000))
			return false;
		if (sscanf(line,
			   "virgo-host: live: %u clients, %lld allocs, %lld dma, %lld backings, %lld user maps, "
			   "%lld guest pages used; device: %u contexts, %u resources, %u held answers, %llu bytes",
			   &s->clients, &s->allocs, &s->dma, &s->backings, &s->maps, &s->pages, &s->dev_ctx,
			   &s->dev_res, &s->dev_held, &s->dev_hostmem) != 10)
			return false;
		if (!settle || s->clients == 1 || tries == 50)
			break;
		sleep_ms(200);
	}
	s->fds = count_fds();
	read_mem(s);
	return true;
}

static void print_sample(const char *when, const struct sample *s, uint64_t iters)
{
	printf("  %-9s %8llu iters | live: %llu res %llu handles | kernel: %lld allocs %lld dma %lld backings "
	       "%lld maps | guest pages %lld | device: %u ctx %u res %u held | fds %u | RSS %lu KiB (anon %lu, "
	       "shmem %lu)\n",
	       when, (unsigned long long)iters, (unsigned long long)s->live_res, (unsigned long long)s->live_handles,
	       s->allocs, s->dma, s->backings, s->maps, s->pages, s->dev_ctx, s->dev_res, s->dev_held, s->fds,
	       s->rss_kb, s->rss_anon_kb, s->rss_shmem_kb);
	fflush(stdout);
}

/* ---- a client -------------------------------------------------------------- */

struct live {
	uint32_t bo;
	uint32_t size;
	uint8_t *map;
};

struct client {
	unsigned id;
	pthread_t thread;
	uint32_t rng;
	struct vtp *t;
	struct live live[MAX_LIVE];
	unsigned nlive;
	uint64_t iters, requests, reconnects, triangles, roundtrips;
	unsigned failures;
	char first_failure[200];
};

static uint32_t rnd(struct client *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 17;
	c->rng ^= c->rng << 5;
	return c->rng;
}

static void fail(struct client *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->failures++) {
		va_start(ap, fmt);
		vsnprintf(c->first_failure, sizeof(c->first_failure), fmt, ap);
		va_end(ap);
	}
}

/* Every request goes through here: a failure is counted with its op. */
static int rq(struct client *c, uint32_t op, void *arg)
{
	int r = vtp_ioctl(c->t, op, arg);

	c->requests++;
	if (r)
		fail(c, "client %u: op %u failed: %d (%s)", c->id, op, r, virgo_strerror(r));
	return r;
}

static void drop_live(struct client *c, unsigned i)
{
	struct virgo_resource_close rc = { .bo_handle = c->live[i].bo };

	(void)rq(c, VIRGO_OP_RESOURCE_CLOSE, &rc);
	c->live[i] = c->live[--c->nlive];
}

/* A buffer or texture (or guest blob), mapped, kept in live[]. */
static struct live *new_resource(struct client *c)
{
	struct live *l;
	struct virgo_map m;
	uint32_t kind = rnd(c) % (have_blob ? 3 : 2), bo, size;

	if (c->nlive == MAX_LIVE)
		drop_live(c, rnd(c) % c->nlive);
	if (kind == 2) {
		struct virgo_resource_create_blob b = { .blob_mem = VIRGO_BLOB_MEM_GUEST,
							.blob_flags = VIRGO_BLOB_FLAG_USE_MAPPABLE,
							.size = 4096u * (1 + rnd(c) % 32) };

		if (rq(c, VIRGO_OP_RESOURCE_CREATE_BLOB, &b))
			return NULL;
		bo = b.bo_handle;
		size = (uint32_t)b.size;
	} else {
		uint32_t w = kind ? 16 + rnd(c) % 240 : 4096u * (1 + rnd(c) % 64), h = kind ? 16 + rnd(c) % 240 : 1;
		struct virgo_resource_create rc = {
			.target = kind ? 2 : 0, .format = kind ? 1 : 64,
			.bind = kind ? VENC_BIND_SAMPLER_VIEW | VENC_BIND_RENDER_TARGET : VENC_BIND_VERTEX_BUFFER,
			.width = w, .height = h, .depth = 1, .array_size = 1, .size = kind ? w * h * 4 : w,
		};

		if (rq(c, VIRGO_OP_RESOURCE_CREATE, &rc))
			return NULL;
		bo = rc.bo_handle;
		size = rc.size;
	}
	m = (struct virgo_map){ .bo_handle = bo };
	if (rq(c, VIRGO_OP_MAP, &m)) {
		struct virgo_resource_close cl = { .bo_handle = bo };

		(void)rq(c, VIRGO_OP_RESOURCE_CLOSE, &cl);
		return NULL;
	}
	l = &c->live[c->nlive++];
	*l = (struct live){ .bo = bo, .size = size, .map = (uint8_t *)(uintptr_t)m.addr };
	return l;
}

static int fence_wait(struct client *c, uint64_t fence)
{
	struct virgo_fence_wait w = { .fence = fence, .timeout_ns = 30 * SEC_NS };

	return rq(c, VIRGO_OP_FENCE_WAIT, &w);
}

/* Write a pattern, upload it, clear the mapping, read it back: every byte
 * must come back. Buffers only (a texture's row layout is the host's). */
static void roundtrip(struct client *c)
{
	struct virgo_resource_create rc = { .target = 0, .format = 64, .bind = VENC_BIND_VERTEX_BUFFER,
					    .width = 4096u * (1 + rnd(c) % 16), .height = 1, .depth = 1,
					    .array_size = 1 };
	struct virgo_transfer t;
	struct virgo_map m;
	struct virgo_resource_close cl;
	uint32_t salt = rnd(c), *p;

	rc.size = rc.width;
	if (rq(c, VIRGO_OP_RESOURCE_CREATE, &rc))
		return;
	m = (struct virgo_map){ .bo_handle = rc.bo_handle };
	if (!rq(c, VIRGO_OP_MAP, &m)) {
		p = (uint32_t *)(uintptr_t)m.addr;
		for (uint32_t i = 0; i < rc.size / 4; i++)
			p[i] = i * 0x9e3779b1u ^ salt;
		t = (struct virgo_transfer){ .bo_handle = rc.bo_handle, .box = { 0, 0, 0, rc.size, 1, 1 } };
		if (!rq(c, VIRGO_OP_TRANSFER_TO_HOST, &t) && !fence_wait(c, t.fence)) {
			memset(p, 0, rc.size);
			t = (struct virgo_transfer){ .bo_handle = rc.bo_handle, .box = { 0, 0, 0, rc.size, 1, 1 } };
			if (!rq(c, VIRGO_OP_TRANSFER_FROM_HOST, &t) && !fence_wait(c, t.fence)) {
				for (uint32_t i = 0; i < rc.size / 4; i++)
					if (p[i] != (i * 0x9e3779b1u ^ salt)) {
						fail(c, "client %u: word %u of a %u-byte buffer came back %#x", c->id, i,
						     rc.size, p[i]);
						break;
					}
				c->roundtrips++;
			}
		}
	}
	cl = (struct virgo_resource_close){ .bo_handle = rc.bo_handle };
	(void)rq(c, VIRGO_OP_RESOURCE_CLOSE, &cl);
}

/* The reference triangle, checked pixel by pixel. */
static void triangle(struct client *c)
{
	static const struct { uint32_t target, format, bind, w, size; } rt = {
		SCENE_RT_TARGET, SCENE_RT_FORMAT, SCENE_RT_BIND, SCENE_RT_WIDTH, SCENE_RT_SIZE
	};
	struct virgo_resource_create a = { .target = rt.target, .format = rt.format, .bind = rt.bind, .width = rt.w,
					   .height = SCENE_RT_HEIGHT, .depth = 1, .array_size = 1, .size = rt.size };
	struct virgo_resource_create b = { .target = SCENE_VB_TARGET, .format = SCENE_VB_FORMAT,
					   .bind = SCENE_VB_BIND, .width = SCENE_VB_WIDTH, .height = 1, .depth = 1,
					   .array_size = 1, .size = SCENE_VB_SIZE };
	uint32_t stream[SCENE_STREAM_DWORDS], bos[2];
	float verts[SCENE_VB_FLOATS];
	struct virgo_map mv, mr;
	struct virgo_transfer t;
	struct virgo_execbuffer x;
	struct virgo_resource_close cl;
	struct venc e;
	char why[200];

	if (rq(c, VIRGO_OP_RESOURCE_CREATE, &a))
		return;
	if (rq(c, VIRGO_OP_RESOURCE_CREATE, &b))
		goto out_a;
	mv = (struct virgo_map){ .bo_handle = b.bo_handle };
	mr = (struct virgo_map){ .bo_handle = a.bo_handle };
	if (rq(c, VIRGO_OP_MAP, &mv) || rq(c, VIRGO_OP_MAP, &mr))
		goto out_b;
	scene_triangle_vertices(verts);
	memcpy((void *)(uintptr_t)mv.addr, verts, sizeof(verts));
	t = (struct virgo_transfer){ .bo_handle = b.bo_handle, .box = { 0, 0, 0, SCENE_VB_BYTES, 1, 1 } };
	if (rq(c, VIRGO_OP_TRANSFER_TO_HOST, &t))
		goto out_b;
	venc_init(&e, stream, SCENE_STREAM_DWORDS);
	if (scene_triangle_encode(&e, a.res_handle, b.res_handle, SCENE_RT_WIDTH, SCENE_RT_HEIGHT) ||
	    scene_triangle_encode_teardown(&e)) {
		fail(c, "client %u: the scene did not encode", c->id);
		goto out_b;
	}
	bos[0] = a.bo_handle;
	bos[1] = b.bo_handle;
	x = (struct virgo_execbuffer){ .size = venc_bytes(&e), .command = (uint64_t)(uintptr_t)stream,
				       .bo_handles = (uint64_t)(uintptr_t)bos, .num_bo_handles = 2 };
	if (rq(c, VIRGO_OP_EXECBUFFER, &x))
		goto out_b;
	t = (struct virgo_transfer){ .bo_handle = a.bo_handle, .stride = SCENE_RT_STRIDE,
				     .box = { 0, 0, 0, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, 1 } };
	if (rq(c, VIRGO_OP_TRANSFER_FROM_HOST, &t) || fence_wait(c, t.fence))
		goto out_b;
	if (scene_triangle_check_full((const uint8_t *)(uintptr_t)mr.addr, SCENE_RT_STRIDE, SCENE_RT_WIDTH,
				      SCENE_RT_HEIGHT, why, sizeof(why)))
		fail(c, "client %u: triangle: %s", c->id, why);
	c->triangles++;
out_b:
	cl = (struct virgo_resource_close){ .bo_handle = b.bo_handle };
	(void)rq(c, VIRGO_OP_RESOURCE_CLOSE, &cl);
out_a:
	cl = (struct virgo_resource_close){ .bo_handle = a.bo_handle };
	(void)rq(c, VIRGO_OP_RESOURCE_CLOSE, &cl);
}

/* A stream naming some live resources; waited on by fence, by resource,
 * or not at all (left in flight). */
static void submit(struct client *c)
{
	static const uint32_t nops[8] = { 0 };
	uint32_t bos[MAX_LIVE];
	unsigned n = c->nlive ? 1 + rnd(c) % c->nlive : 0;
	struct virgo_execbuffer x;
	struct virgo_wait w;

	for (unsigned i = 0; i < n; i++)
		bos[i] = c->live[(i + rnd(c)) % c->nlive].bo;
	x = (struct virgo_execbuffer){ .size = 4u * (1 + rnd(c) % 8), .command = (uint64_t)(uintptr_t)nops,
				       .bo_handles = (uint64_t)(uintptr_t)bos, .num_bo_handles = n };
	if (rq(c, VIRGO_OP_EXECBUFFER, &x))
		return;
	switch (rnd(c) % 3) {
	case 0:
		(void)fence_wait(c, x.fence);
		break;
	case 1:
		if (n) {
			w = (struct virgo_wait){ .bo_handle = bos[0], .timeout_ns = 30 * SEC_NS };
			(void)rq(c, VIRGO_OP_WAIT, &w);
		}
		break;
	default:
		break;
	}
}

/* Upload or read back part of a live resource, through its mapping. */
static void touch(struct client *c)
{
	struct live *l = c->nlive ? &c->live[rnd(c) % c->nlive] : new_resource(c);
	struct virgo_resource_info ri;
	struct virgo_transfer t;

	if (!l)
		return;
	memset(l->map, (int)(rnd(c) & 0xff), l->size);
	ri = (struct virgo_resource_info){ .bo_handle = l->bo };
	if (rq(c, VIRGO_OP_RESOURCE_INFO, &ri) || ri.blob_mem == VIRGO_BLOB_MEM_GUEST)
		return; /* guest blobs have no host copy to transfer to */
	/* A 16x1 box: 16 bytes of a buffer, 16 texels of a texture's row 0. */
	t = (struct virgo_transfer){ .bo_handle = l->bo, .box = { 0, 0, 0, 16, 1, 1 } };
	if (rq(c, rnd(c) & 1 ? VIRGO_OP_TRANSFER_TO_HOST : VIRGO_OP_TRANSFER_FROM_HOST, &t))
		return;
	if (rnd(c) & 1)
		(void)fence_wait(c, t.fence);
}

static bool open_handle(struct client *c)
{
	c->t = connect_host();
	c->nlive = 0;
	if (!c->t) {
		fail(c, "client %u: cannot connect", c->id);
		return false;
	}
	return true;
}

static void *client_main(void *arg)
{
	struct client *c = arg;

	if (!open_handle(c))
		return NULL;
	while (!stopping && c->failures == 0) {
		uint32_t pick = rnd(c) % 100;

		if (pick < 25)
			(void)new_resource(c);
		else if (pick < 45)
			submit(c);
		else if (pick < 65)
			touch(c);
		else if (pick < 80)
			roundtrip(c);
		else if (pick < 88)
			triangle(c);
		else if (pick < 97 && c->nlive)
			drop_live(c, rnd(c) % c->nlive);
		if (rnd(c) % RECONNECT_EVERY == 0) {
			/* Gone with everything open and maybe work in flight: the
			 * host's close frees it all. */
			vtp_close(c->t);
			c->reconnects++;
			if (!open_handle(c))
				break;
		}
		c->iters++;
	}
	vtp_close(c->t);
	c->t = NULL;
	return NULL;
}

/* Runs the clients for secs; *mid and *last get the samples (under load)
 * nearest the half and the end. */
static uint64_t run_clients(struct client *cl, unsigned n, unsigned secs, struct vtp **mon, struct sample *mid,
			    struct sample *last)
{
	uint64_t end = now_ns() + (uint64_t)secs * SEC_NS, next = now_ns() + SAMPLE_SECS * SEC_NS, iters = 0;
	uint64_t half = now_ns() + (uint64_t)secs * SEC_NS / 2;
	bool mid_taken = false;

	stopping = false;
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&cl[i].thread, NULL, client_main, &cl[i])) {
			fprintf(stderr, "soak: no thread\n");
			exit(2);
		}
	}
	while (now_ns() < end) {
		bool dead = false;

		sleep_ms(200);
		for (unsigned i = 0; i < n; i++)
			dead |= cl[i].failures != 0;
		if (dead) {
			struct sample s;

			/* What the host holds at the failure, before anyone
			 * reopens (and resets the device). */
			if (take_sample(mon, &s, false))
				print_sample("failure", &s, 0);
			break;
		}
		if (now_ns() >= next || (!mid_taken && now_ns() >= half)) {
			struct sample s;
			char when[32];

			iters = 0;
			for (unsigned i = 0; i < n; i++)
				iters += cl[i].iters;
			snprintf(when, sizeof(when), "%llus", (unsigned long long)((now_ns() + (uint64_t)secs * SEC_NS - end) / SEC_NS));
			if (take_sample(mon, &s, false)) {
				print_sample(when, &s, iters);
				*last = s;
				if (!mid_taken && now_ns() >= half) {
					*mid = s;
					mid_taken = true;
				}
			}
			next += SAMPLE_SECS * SEC_NS;
		}
	}
	stopping = true;
	iters = 0;
	for (unsigned i = 0; i < n; i++) {
		pthread_join(cl[i].thread, NULL);
		iters += cl[i].iters;
	}
	return iters;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "clients", required_argument, 0, 'c' },
					      { "host-log", required_argument, 0, 'l' },
					      { 0, 0, 0, 0 } };
	static struct client cl[MAX_CLIENTS];
	const char *log = NULL;
	struct sample base, mid = { 0 }, last = { 0 }, end;
	struct vtp *mon;
	unsigned secs, warm;
	uint64_t iters, requests = 0, reconnects = 0, triangles = 0, roundtrips = 0, v;
	unsigned failures = 0;
	long long cached;
	int opt, status;
	char buf[4096];
	size_t len = 0;
	ssize_t n;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'c')
			nclients = (unsigned)atoi(optarg);
		else if (opt == 'l')
			log = optarg;
		else
			return 2;
	}
	if (argc - optind != 2 || nclients < 1 || nclients > MAX_CLIENTS) {
		fprintf(stderr, "usage: soak [--clients N] [--host-log FILE] PATH-TO-virgo-host SECONDS\n");
		return 2;
	}
	host_exe = argv[optind];
	secs = (unsigned)atoi(argv[optind + 1]);
	warm = secs / 10 < 10 ? 10 : secs / 10;
	signal(SIGPIPE, SIG_IGN);
	if (start_host(log)) {
		fprintf(stderr, "soak: virgo-host did not start\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	mon = connect_host();
	if (!mon) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	have_blob = param(mon, VIRGO_PARAM_RESOURCE_BLOB, &v) && v;
	for (unsigned i = 0; i < nclients; i++)
		cl[i] = (struct client){ .id = i, .rng = 0x9e3779b9u * (i + 1) };
	printf("soak: %u clients for %u s on %s\n", nclients, secs, host_exe);
	/* Warm-up under the same load: one-time state of virglrenderer and
	 * llvmpipe (shader and JIT caches), the host's threads and arenas. */
	printf("soak: warming up for %u s\n", warm);
	fflush(stdout);
	(void)run_clients(cl, nclients, warm, &mon, &mid, &last);
	for (unsigned i = 0; i < nclients; i++) {
		if (cl[i].failures)
			printf("  warm-up: %s\n", cl[i].first_failure);
		failures += cl[i].failures;
		cl[i] = (struct client){ .id = i, .rng = 0x7f4a7c15u * (i + 1) };
	}
	memset(&mid, 0, sizeof(mid));
	if (!take_sample(&mon, &base, true)) {
		printf("soak: no baseline sample\n0 passed, 1 failed\n");
		return 1;
	}
	print_sample("baseline", &base, 0);
	memset(&last, 0, sizeof(last));
	iters = run_clients(cl, nclients, secs, &mon, &mid, &last);
	for (unsigned i = 0; i < nclients; i++) {
		requests += cl[i].requests;
		reconnects += cl[i].reconnects;
		triangles += cl[i].triangles;
		roundtrips += cl[i].roundtrips;
		failures += cl[i].failures;
		if (cl[i].failures)
			printf("  %s\n", cl[i].first_failure);
	}
	if (!take_sample(&mon, &end, true)) {
		printf("soak: no final sample\n");
		memset(&end, 0xff, sizeof(end));
	}
	print_sample("end", &end, iters);
	printf("soak: %llu iterations, %llu requests, %llu handles reopened, %llu triangles checked, "
	       "%llu buffer round trips checked\n",
	       (unsigned long long)iters, (unsigned long long)requests, (unsigned long long)reconnects,
	       (unsigned long long)triangles, (unsigned long long)roundtrips);

	verdict(failures == 0 && iters > 0, "clients_ran_without_failures", "%u failures", failures);
	verdict(end.live_res == 0, "resources_back", "LIVE_RESOURCES %llu (baseline %llu)",
		(unsigned long long)end.live_res, (unsigned long long)base.live_res);
	verdict(end.live_handles == base.live_handles && end.clients == base.clients, "handles_back",
		"LIVE_HANDLES %llu, %u connections (baseline %llu, %u)", (unsigned long long)end.live_handles,
		end.clients, (unsigned long long)base.live_handles, base.clients);
	cached = end.dma - base.dma;
	verdict(cached >= -REQ_CACHE && cached <= REQ_CACHE && end.allocs - base.allocs == cached &&
			end.backings == base.backings && end.maps == base.maps,
		"kernel_objects_back",
		"allocs %lld dma %lld backings %lld maps %lld (baseline %lld %lld %lld %lld; %lld request buffers "
		"more in the core's cache)",
		end.allocs, end.dma, end.backings, end.maps, base.allocs, base.dma, base.backings, base.maps, cached);
	verdict(end.pages - base.pages == cached, "guest_pages_back",
		"%lld pages used (baseline %lld, the request cache %+lld)", end.pages, base.pages, cached);
	verdict(end.dev_ctx == base.dev_ctx && end.dev_res == base.dev_res && end.dev_hostmem == base.dev_hostmem,
		"device_objects_back",
		"%u contexts, %u resources, %llu bytes of host memory charged on the device (baseline %u, %u, %llu)",
		end.dev_ctx, end.dev_res, end.dev_hostmem, base.dev_ctx, base.dev_res, base.dev_hostmem);
	verdict(end.fds == base.fds, "fds_back", "%u open (baseline %u)", end.fds, base.fds);
	verdict(end.rss_anon_kb <= base.rss_anon_kb + RSS_SLACK_KB &&
			(!mid.rss_anon_kb || last.rss_anon_kb <= mid.rss_anon_kb + RSS_LOAD_SLACK_KB),
		"memory_back",
		"RssAnon %lu KiB at the end, %lu at the baseline (slack %u); under load %lu at half time, %lu at "
		"the last sample (slack %u)",
		end.rss_anon_kb, base.rss_anon_kb, RSS_SLACK_KB, mid.rss_anon_kb, last.rss_anon_kb,
		RSS_LOAD_SLACK_KB);

	vtp_close(mon);
	kill(host_pid, SIGTERM);
	while (len < sizeof(buf) - 1 && (n = read(host_out, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	waitpid(host_pid, &status, 0);
	{
		const char *l = strstr(buf, "virgo-host: shutdown");

		if (l)
			printf("  %.*s\n", (int)strcspn(l, "\n"), l);
	}
	verdict(WIFEXITED(status) && WEXITSTATUS(status) == 0, "host_shutdown_clean", "exit status %#x", status);
	printf("%u passed, %u failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
