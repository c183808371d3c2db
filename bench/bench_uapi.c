/* SPDX-License-Identifier: MIT */
/*
 * The micro-benchmarks under GL: a command stream's round trip and its
 * throughput, measured straight on the transport each path uses.
 *
 *   virgo-bench uapi  [--socket PATH] [--n N] [--wait-go]  virgo's uAPI: EXECBUFFER + FENCE_WAIT
 *   virgo-bench vtest [--socket PATH] [--n N] [--wait-go]  vtest: SUBMIT_CMD + RESOURCE_BUSY_WAIT
 *
 * The vtest pair is what Mesa 22.3's virpipe does to wait for a fence, so
 * the two lines compare like with like. Both submit 16 NOP dwords for the
 * round trip, then 64 streams of 256 KiB of NOPs and one wait for the
 * throughput (the size Mesa flushes at). uapi --n 0 only opens a handle.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "vtp.h"

#define RT_DWORDS      16u
#define STREAM_DWORDS  65536u          /* 256 KiB */
#define STREAMS        64u

static uint32_t nops[STREAM_DWORDS];   /* zero dwords: VIRGL_CCMD_NOP */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *kind, const char *path, uint64_t *lat, unsigned n, double mbps)
{
	struct bench_json j;

	qsort(lat, n, sizeof(*lat), cmp_u64);
	bench_json_begin(&j, stdout);
	bench_json_str(&j, "kind", kind);
	bench_json_str(&j, "path", path);
	bench_json_u64(&j, "round_trips", n);
	bench_json_num(&j, "rt_min_us", lat[0] / 1e3);
	bench_json_num(&j, "rt_median_us", lat[n / 2] / 1e3);
	bench_json_num(&j, "rt_p99_us", lat[(n * 99u) / 100u] / 1e3);
	bench_json_num(&j, "rt_max_us", lat[n - 1] / 1e3);
	bench_json_num(&j, "stream_mb_per_s", mbps);
	bench_json_end(&j);
}

static bool wait_go;

/* --wait-go: after the round trips, say READY and wait for a line on stdin
 * (the harness measures the host's memory per idle handle meanwhile). */
static int go(void)
{
	char line[64];

	if (!wait_go)
		return 0;
	printf("READY\n");
	fflush(stdout);
	return fgets(line, sizeof(line), stdin) ? 0 : -1;
}

static int parse(int argc, char **argv, const char **sock, unsigned *n)
{
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--wait-go"))
			wait_go = true;
		else if (!strcmp(argv[a], "--socket") && a + 1 < argc)
			*sock = argv[++a];
		else if (!strcmp(argv[a], "--n") && a + 1 < argc)
			*n = (unsigned)strtoul(argv[++a], NULL, 10);
		else
			return -1;
	}
	return 0;
}

/* ---- virgo ----------------------------------------------------------------- */

static int exec_nops(struct vtp *t, uint32_t bytes, uint64_t *fence)
{
	struct virgo_execbuffer x = { .size = bytes, .command = (uint64_t)(uintptr_t)nops };
	int r = vtp_ioctl(t, VIRGO_OP_EXECBUFFER, &x);

	*fence = x.fence;
	return r;
}

static int fence_wait(struct vtp *t, uint64_t fence)
{
	struct virgo_fence_wait w = { .fence = fence };

	return vtp_ioctl(t, VIRGO_OP_FENCE_WAIT, &w);
}

int bench_uapi_main(int argc, char **argv)
{
	const char *sock = NULL;
	char spec[512];
	unsigned n = 5000;
	uint64_t *lat, fence = 0, t0, t1;
	struct vtp *t;
	int r;

	if (parse(argc, argv, &sock, &n)) {
		fprintf(stderr, "usage: virgo-bench uapi [--socket PATH] [--n ROUND_TRIPS] [--wait-go]\n");
		return 2;
	}
	if (sock)
		snprintf(spec, sizeof(spec), "unix:%s", sock);
	r = vtp_open(sock ? spec : NULL, &t);
	if (r) {
		fprintf(stderr, "virgo-bench: cannot reach virgo-host: %s\n", virgo_strerror(r));
		return 1;
	}
	if (!n) {
		/* --n 0: an open handle and nothing else (no device context,
		 * which the first submission creates): what a connection
		 * alone costs the host. */
		struct virgo_get_param p = { .param = VIRGO_PARAM_UAPI_VERSION };
		struct bench_json j;

		r = vtp_ioctl(t, VIRGO_OP_GET_PARAM, &p);
		if (r || go()) {
			vtp_close(t);
			return 1;
		}
		bench_json_begin(&j, stdout);
		bench_json_str(&j, "kind", "uapi-idle");
		bench_json_u64(&j, "uapi_version", p.value);
		bench_json_end(&j);
		vtp_close(t);
		return 0;
	}
	lat = calloc(n, sizeof(*lat));
	if (!lat)
		return 1;
	/* A few unmeasured round trips create the context on the host. */
	for (unsigned i = 0; i < n + 50; i++) {
		uint64_t s = bench_now_ns();

		if ((r = exec_nops(t, RT_DWORDS * 4, &fence)) || (r = fence_wait(t, fence)))
			goto fail;
		if (i >= 50)
			lat[i - 50] = bench_now_ns() - s;
	}
	if (go()) {
		r = -VIRGO_EINVAL;
		goto fail;
	}
	t0 = bench_now_ns();
	for (unsigned i = 0; i < STREAMS; i++)
		if ((r = exec_nops(t, sizeof(nops), &fence)))
			goto fail;
	if ((r = fence_wait(t, fence)))
		goto fail;
	t1 = bench_now_ns();
	report("uapi", "virgo", lat, n, STREAMS * sizeof(nops) / 1e6 / ((double)(t1 - t0) / 1e9));
	free(lat);
	vtp_close(t);
	return 0;
fail:
	fprintf(stderr, "virgo-bench: uapi request failed: %s\n", virgo_strerror(r));
	free(lat);
	vtp_close(t);
	return 1;
}

/* ---- vtest ----------------------------------------------------------------- */

/* vtest commands (virglrenderer's vtest_protocol.h): every message is
 * {length in dwords, command id} and a payload. */
#define VCMD_GET_CAPS              1u
#define VCMD_SUBMIT_CMD            6u
#define VCMD_RESOURCE_BUSY_WAIT    7u
#define VCMD_CREATE_RENDERER       8u
#define VCMD_GET_CAPS2             9u
#define VCMD_PING_PROTOCOL_VERSION 10u
#define VCMD_PROTOCOL_VERSION      11u
#define VCMD_BUSY_WAIT_FLAG_WAIT   1u

static int vt_fd = -1;
/* Why the last vtest exchange failed, for the message the harness logs. */
static char vt_why[96];

static int vt_write(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = send(vt_fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(vt_why, sizeof(vt_why), "send: %s", w < 0 ? strerror(errno) : "nothing sent");
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int vt_read(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pf = { .fd = vt_fd, .events = POLLIN };
		ssize_t r;

		/* Bounded: a server that stops answering ends the run. */
		if (poll(&pf, 1, 30000) != 1) {
			snprintf(vt_why, sizeof(vt_why), "no answer in 30 s");
			return -1;
		}
		r = read(vt_fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(vt_why, sizeof(vt_why), "read: %s", r < 0 ? strerror(errno) : "the server closed the connection");
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int vt_cmd(uint32_t len, uint32_t cmd, const void *payload, size_t bytes)
{
	const uint32_t hdr[2] = { len, cmd };

	return vt_write(hdr, sizeof(hdr)) || (bytes && vt_write(payload, bytes)) ? -1 : 0;
}

/* Reads one reply of command cmd and drops its payload (up to 64 KiB). */
static int vt_reply(uint32_t cmd, uint32_t len_is_bytes_plus_one, uint32_t *first)
{
	static uint8_t sink[65536];
	uint32_t hdr[2], bytes;

	if (vt_read(hdr, sizeof(hdr)))
		return -1;
	if (hdr[1] != cmd) {
		snprintf(vt_why, sizeof(vt_why), "reply to command %u, expected %u", hdr[1], cmd);
		return -1;
	}
	bytes = len_is_bytes_plus_one ? hdr[0] - 1 : hdr[0] * 4u;
	if (bytes > sizeof(sink)) {
		snprintf(vt_why, sizeof(vt_why), "a reply of %u bytes", bytes);
		return -1;
	}
	if (vt_read(sink, bytes))
		return -1;
	if (first && bytes >= 4)
		memcpy(first, sink, 4);
	return 0;
}

/* The handshake Mesa's vtest winsys makes: renderer, protocol version 2
 * (PING + a dummy busy-wait, then PROTOCOL_VERSION), the capsets. */
static int vt_start(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	static const char name[] = "virgo-bench";
	const uint32_t busy[2] = { 0, 0 }, want = 2;
	uint32_t version = 0;

	if (strlen(path) >= sizeof(un.sun_path))
		return -1;
	strcpy(un.sun_path, path);
	vt_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vt_fd < 0 || connect(vt_fd, (struct sockaddr *)&un, sizeof(un))) {
		snprintf(vt_why, sizeof(vt_why), "connect: %s", strerror(errno));
		return -1;
	}
	/* CREATE_RENDERER's length counts bytes, unlike every other command. */
	if (vt_cmd(sizeof(name), VCMD_CREATE_RENDERER, name, sizeof(name)) ||
	    vt_cmd(0, VCMD_PING_PROTOCOL_VERSION, NULL, 0) ||
	    vt_cmd(2, VCMD_RESOURCE_BUSY_WAIT, busy, sizeof(busy)) ||
	    vt_reply(VCMD_PING_PROTOCOL_VERSION, 0, NULL) || vt_reply(VCMD_RESOURCE_BUSY_WAIT, 0, NULL) ||
	    vt_cmd(1, VCMD_PROTOCOL_VERSION, &want, 4) || vt_reply(VCMD_PROTOCOL_VERSION, 0, &version) ||
	    version != 2) {
		if (!vt_why[0])
			snprintf(vt_why, sizeof(vt_why), "protocol version %u, expected 2", version);
		return -1;
	}
	/* GET_CAPS2's reply says command 2; both lengths are bytes + 1. */
	return vt_cmd(0, VCMD_GET_CAPS2, NULL, 0) || vt_cmd(0, VCMD_GET_CAPS, NULL, 0) ||
			       vt_reply(2, 1, NULL) || vt_reply(VCMD_GET_CAPS, 1, NULL) ?
		       -1 :
		       0;
}

/* Waits for everything submitted: the server answers for its one timeline,
 * whatever the handle. */
static int vt_wait(void)
{
	const uint32_t args[2] = { 0, VCMD_BUSY_WAIT_FLAG_WAIT };
	uint32_t busy = 1;

	if (vt_cmd(2, VCMD_RESOURCE_BUSY_WAIT, args, sizeof(args)) ||
	    vt_reply(VCMD_RESOURCE_BUSY_WAIT, 0, &busy))
		return -1;
	return busy ? -1 : 0;
}

int bench_vtest_main(int argc, char **argv)
{
	const char *sock = "/tmp/.virgl_test";  /* where Mesa 22.3's virpipe looks */
	unsigned n = 5000;
	uint64_t *lat, t0, t1;

	if (parse(argc, argv, &sock, &n) || !n) {
		fprintf(stderr, "usage: virgo-bench vtest [--socket PATH] [--n ROUND_TRIPS] [--wait-go]\n");
		return 2;
	}
	if (vt_start(sock)) {
		fprintf(stderr, "virgo-bench: vtest handshake with %s failed (%s)\n", sock, vt_why);
		return 1;
	}
	lat = calloc(n, sizeof(*lat));
	if (!lat)
		return 1;
	for (unsigned i = 0; i < n + 50; i++) {
		uint64_t s = bench_now_ns();

		if (vt_cmd(RT_DWORDS, VCMD_SUBMIT_CMD, nops, RT_DWORDS * 4) || vt_wait())
			goto fail;
		if (i >= 50)
			lat[i - 50] = bench_now_ns() - s;
	}
	if (go())
		goto fail;
	t0 = bench_now_ns();
	for (unsigned i = 0; i < STREAMS; i++)
		if (vt_cmd(STREAM_DWORDS, VCMD_SUBMIT_CMD, nops, sizeof(nops)))
			goto fail;
	if (vt_wait())
		goto fail;
	t1 = bench_now_ns();
	report("uapi", "virpipe", lat, n, STREAMS * sizeof(nops) / 1e6 / ((double)(t1 - t0) / 1e9));
	free(lat);
	close(vt_fd);
	return 0;
fail:
	fprintf(stderr, "virgo-bench: vtest request failed\n");
	free(lat);
	close(vt_fd);
	return 1;
}
