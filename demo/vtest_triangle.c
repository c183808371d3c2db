/* SPDX-License-Identifier: MIT */
/*
 * vtest_triangle: renders the triangle scene on a real virglrenderer through
 * virgl_test_server's socket, speaking vtest protocol version 2 the way Mesa
 * 22.3's virpipe driver does, and checks the pixels. It needs nothing of ours
 * but the encoder and the scene, so it cross-checks them (and the stream our
 * stack submits) against the host library independently of our host code.
 *
 *   vtest_triangle SOCKET [OUT.ppm]
 *
 * Start the server first, e.g.
 *   GALLIUM_DRIVER=llvmpipe virgl_test_server --use-egl-surfaceless \
 *       --socket-path=$DIR/vtest.sock &
 * (the '=' matters). Exit status 0 only if the pixels are right; OUT.ppm gets
 * the read-back image, flipped so that it is upright (GL's bottom row last).
 *
 * Build: cc -std=c11 -D_GNU_SOURCE vtest_triangle.c scene_triangle.c virgl_enc.c
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "scene_triangle.h"
#include "virgl_enc.h"

/* vtest commands (virglrenderer 0.10.4 vtest/vtest_protocol.h). Every message
 * starts with two dwords, {length, command}; the length is in dwords except
 * where noted at the call. */
#define VCMD_GET_CAPS              1u
#define VCMD_SUBMIT_CMD            6u
#define VCMD_RESOURCE_BUSY_WAIT    7u
#define VCMD_CREATE_RENDERER       8u
#define VCMD_GET_CAPS2             9u
#define VCMD_PING_PROTOCOL_VERSION 10u
#define VCMD_PROTOCOL_VERSION      11u
#define VCMD_RESOURCE_CREATE2      12u
#define VCMD_TRANSFER_GET2         13u
#define VCMD_TRANSFER_PUT2         14u
#define VCMD_BUSY_WAIT_FLAG_WAIT   1u

#define VT_PROTOCOL_VERSION 2u      /* what Mesa 22.3's virpipe asks for */
#define VT_TIMEOUT_MS       30000   /* every read is bounded */
#define VT_MAX_CAPS         (64u << 10)

/* Our resource handles: with protocol 2 the client names resources. */
#define VT_RES_RT 1u
#define VT_RES_VB 2u

static int vt_fd = -1;

static int vt_wait_readable(void)
{
	struct pollfd p = { .fd = vt_fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, VT_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		fprintf(stderr, "vtest: no answer from the server in %d ms\n", VT_TIMEOUT_MS);
		return -1;
	}
	return r < 0 ? -1 : 0;
}

static int vt_write(const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		/* MSG_NOSIGNAL: a server that hangs up gives EPIPE, not a
		 * silent death by SIGPIPE. */
		ssize_t r = send(vt_fd, p, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "vtest: write failed: %s\n", strerror(errno));
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int vt_read(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r;

		if (vt_wait_readable())
			return -1;
		r = read(vt_fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "vtest: %s (the server drops a client whose command "
				"failed; see its log)\n",
				r == 0 ? "connection closed by the server" : strerror(errno));
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int vt_send(uint32_t len, uint32_t cmd, const uint32_t *payload, uint32_t ndw)
{
	const uint32_t hdr[2] = { len, cmd };

	if (vt_write(hdr, sizeof(hdr)))
		return -1;
	return ndw ? vt_write(payload, (size_t)ndw * 4u) : 0;
}

static int vt_read_hdr(uint32_t hdr[2], uint32_t want_cmd)
{
	if (vt_read(hdr, 8))
		return -1;
	if (hdr[1] != want_cmd) {
		fprintf(stderr, "vtest: reply for command %u, expected %u\n", hdr[1], want_cmd);
		return -1;
	}
	return 0;
}

/* A file descriptor sent with SCM_RIGHTS beside one byte of data. */
static int vt_recv_fd(void)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t r;
	int fd;

	if (vt_wait_readable())
		return -1;
	do
		r = recvmsg(vt_fd, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r != 1) {
		fprintf(stderr, "vtest: no fd from the server (%s)\n",
			r == 0 ? "connection closed" : strerror(errno));
		return -1;
	}
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int))) {
		fprintf(stderr, "vtest: the server's message carries no fd\n");
		return -1;
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static int vt_connect(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(un.sun_path)) {
		fprintf(stderr, "vtest: socket path too long\n");
		return -1;
	}
	memcpy(un.sun_path, path, strlen(path) + 1);
	vt_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vt_fd < 0 || connect(vt_fd, (struct sockaddr *)&un, sizeof(un))) {
		fprintf(stderr, "vtest: cannot connect to %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* CREATE_RENDERER must come first; its length is in bytes (the name and its
 * NUL), the one command that counts bytes. */
static int vt_create_renderer(const char *name)
{
	uint32_t len = (uint32_t)strlen(name) + 1;
	const uint32_t hdr[2] = { len, VCMD_CREATE_RENDERER };

	return vt_write(hdr, sizeof(hdr)) || vt_write(name, len) ? -1 : 0;
}

/* Mesa's negotiation: PING_PROTOCOL_VERSION followed by a dummy BUSY_WAIT. A
 * server that knows PING echoes it and then answers the busy-wait; an old one
 * only answers the busy-wait (and speaks version 0). */
static int vt_negotiate(uint32_t *version)
{
	const uint32_t busy[2] = { 0, 0 };
	const uint32_t want = VT_PROTOCOL_VERSION;
	uint32_t hdr[2], v;

	if (vt_send(0, VCMD_PING_PROTOCOL_VERSION, NULL, 0) ||
	    vt_send(2, VCMD_RESOURCE_BUSY_WAIT, busy, 2) || vt_read(hdr, 8))
		return -1;
	if (hdr[1] != VCMD_PING_PROTOCOL_VERSION) {
		fprintf(stderr, "vtest: server too old (no PING_PROTOCOL_VERSION)\n");
		return -1;
	}
	if (vt_read_hdr(hdr, VCMD_RESOURCE_BUSY_WAIT) || hdr[0] != 1 || vt_read(&v, 4))
		return -1;
	if (vt_send(1, VCMD_PROTOCOL_VERSION, &want, 1) ||
	    vt_read_hdr(hdr, VCMD_PROTOCOL_VERSION) || hdr[0] != 1 || vt_read(&v, 4))
		return -1;
	*version = v;
	return 0;
}

/* Reads and drops a caps reply: its length is the caps' size in bytes plus
 * one, and GET_CAPS2's reply carries command id 2 (not 9). */
static int vt_skip_caps(uint32_t want_cmd, uint32_t *size)
{
	uint8_t sink[512];
	uint32_t hdr[2], left;

	if (vt_read_hdr(hdr, want_cmd))
		return -1;
	if (hdr[0] < 1 || hdr[0] - 1 > VT_MAX_CAPS) {
		fprintf(stderr, "vtest: caps reply of length %u\n", hdr[0]);
		return -1;
	}
	*size = left = hdr[0] - 1;
	while (left) {
		uint32_t n = left < sizeof(sink) ? left : (uint32_t)sizeof(sink);

		if (vt_read(sink, n))
			return -1;
		left -= n;
	}
	return 0;
}

/* GET_CAPS2 and GET_CAPS back to back, as Mesa sends them; both answers are
 * read. The capset is not needed: the scene uses only what every virgl host
 * has. */
static int vt_get_caps(uint32_t *size2, uint32_t *size1)
{
	if (vt_send(0, VCMD_GET_CAPS2, NULL, 0) || vt_send(0, VCMD_GET_CAPS, NULL, 0))
		return -1;
	return vt_skip_caps(2, size2) || vt_skip_caps(VCMD_GET_CAPS, size1) ? -1 : 0;
}

/* RESOURCE_CREATE2: no reply in version 2, just the memfd that backs the
 * resource on both sides (when data_size > 0). Returns the mapping. */
static void *vt_resource_create2(uint32_t handle, uint32_t target, uint32_t format, uint32_t bind,
				 uint32_t width, uint32_t height, uint32_t depth,
				 uint32_t array_size, uint32_t last_level, uint32_t nr_samples,
				 uint32_t size)
{
	const uint32_t args[11] = { handle,     target,     format,     bind,
				    width,      height,     depth,      array_size,
				    last_level, nr_samples, size };
	void *p;
	int fd;

	if (vt_send(11, VCMD_RESOURCE_CREATE2, args, 11))
		return NULL;
	fd = vt_recv_fd();
	if (fd < 0)
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "vtest: mmap of resource %u: %s\n", handle, strerror(errno));
		return NULL;
	}
	return p;
}

/* TRANSFER_PUT2/GET2: the data moves through the resource's memfd at offset;
 * the host infers the stride from the resource. */
static int vt_transfer2(uint32_t cmd, uint32_t handle, uint32_t x, uint32_t y, uint32_t w,
			uint32_t h, uint32_t data_size, uint32_t offset)
{
	const uint32_t args[10] = { handle, 0, x, y, 0, w, h, 1, data_size, offset };
	/* Mesa announces PUT2 with 10 + the data's dwords although it sends no
	 * data; the server reads exactly 10 dwords whatever the length says.
	 * Do the same, so that this tool sends what Mesa sends. */
	uint32_t len = cmd == VCMD_TRANSFER_PUT2 ? 10u + (data_size + 3u) / 4u : 10u;

	return vt_send(len, cmd, args, 10);
}

/* Waits for all submitted work: the server ignores the handle and answers
 * for its one implicit fence timeline. */
static int vt_busy_wait(uint32_t handle)
{
	const uint32_t args[2] = { handle, VCMD_BUSY_WAIT_FLAG_WAIT };
	uint32_t hdr[2], busy;

	if (vt_send(2, VCMD_RESOURCE_BUSY_WAIT, args, 2) ||
	    vt_read_hdr(hdr, VCMD_RESOURCE_BUSY_WAIT) || hdr[0] != 1 || vt_read(&busy, 4))
		return -1;
	return busy ? -1 : 0;
}

static int vt_write_ppm(const char *path, const uint8_t *px, uint32_t stride, uint32_t w,
			uint32_t h)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f) {
		fprintf(stderr, "vtest: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fprintf(f, "P6\n%u %u\n255\n", w, h) > 0;
	/* PPM is top row first; the buffer is GL's bottom row first. */
	for (uint32_t r = h; ok && r-- > 0;) {
		const uint8_t *row = px + (size_t)r * stride;

		for (uint32_t x = 0; ok && x < w; x++) {
			const uint8_t rgb[3] = { row[4 * x + 2], row[4 * x + 1], row[4 * x] };

			ok = fwrite(rgb, 1, 3, f) == 3;
		}
	}
	if (fclose(f))
		ok = 0;
	if (!ok)
		fprintf(stderr, "vtest: error writing %s\n", path);
	return ok ? 0 : -1;
}

static void vt_print_px(const char *what, const uint8_t *px, uint32_t stride, uint32_t x,
			uint32_t y)
{
	const uint8_t *p = px + (size_t)y * stride + (size_t)x * 4u;

	printf("  %-12s (%3u,%3u): %02x %02x %02x %02x\n", what, x, y, p[0], p[1], p[2], p[3]);
}

int main(int argc, char **argv)
{
	static uint32_t stream[SCENE_STREAM_DWORDS];
	const uint32_t w = SCENE_RT_WIDTH, h = SCENE_RT_HEIGHT;
	float verts[SCENE_VB_FLOATS];
	uint32_t version = 0, caps2 = 0, caps1 = 0, red, blue, min, max;
	uint8_t *rt = NULL, *vb = NULL;
	char why[256];
	struct venc e;
	int quick, full, rc = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s SOCKET [OUT.ppm]\n", argv[0]);
		return 2;
	}
	if (vt_connect(argv[1]) || vt_create_renderer("vtest_triangle") || vt_negotiate(&version))
		goto out;
	printf("protocol version %u\n", version);
	if (version != VT_PROTOCOL_VERSION) {
		fprintf(stderr, "vtest: need protocol %u (shared-memory transfers)\n",
			VT_PROTOCOL_VERSION);
		goto out;
	}
	if (vt_get_caps(&caps2, &caps1))
		goto out;
	printf("capsets: v2 %u bytes, v1 %u bytes\n", caps2, caps1);

	rt = vt_resource_create2(VT_RES_RT, SCENE_RT_TARGET, SCENE_RT_FORMAT, SCENE_RT_BIND,
				 SCENE_RT_WIDTH, SCENE_RT_HEIGHT, SCENE_RT_DEPTH,
				 SCENE_RT_ARRAY_SIZE, SCENE_RT_LAST_LEVEL, SCENE_RT_NR_SAMPLES,
				 SCENE_RT_SIZE);
	vb = rt ? vt_resource_create2(VT_RES_VB, SCENE_VB_TARGET, SCENE_VB_FORMAT, SCENE_VB_BIND,
				      SCENE_VB_WIDTH, SCENE_VB_HEIGHT, SCENE_VB_DEPTH,
				      SCENE_VB_ARRAY_SIZE, SCENE_VB_LAST_LEVEL,
				      SCENE_VB_NR_SAMPLES, SCENE_VB_SIZE) :
		  NULL;
	if (!rt || !vb)
		goto out;
	/* Poison the render target's backing, so that a read-back that does not
	 * happen cannot pass for blue or red. */
	memset(rt, 0x5a, SCENE_RT_SIZE);

	scene_triangle_vertices(verts);
	memcpy(vb, verts, SCENE_VB_BYTES);
	if (vt_transfer2(VCMD_TRANSFER_PUT2, VT_RES_VB, 0, 0, SCENE_VB_BYTES, 1, SCENE_VB_BYTES, 0))
		goto out;

	venc_init(&e, stream, SCENE_STREAM_DWORDS);
	if (scene_triangle_encode(&e, VT_RES_RT, VT_RES_VB, w, h)) {
		fprintf(stderr, "encoder error %d\n", e.err);
		goto out;
	}
	printf("stream: %u dwords\n", e.len);
	if (vt_send(e.len, VCMD_SUBMIT_CMD, stream, e.len))
		goto out;

	if (vt_transfer2(VCMD_TRANSFER_GET2, VT_RES_RT, 0, 0, w, h, SCENE_RT_SIZE, 0) ||
	    vt_busy_wait(VT_RES_RT))
		goto out;

	printf("pixels (B G R A), row 0 = bottom:\n");
	vt_print_px("corner", rt, SCENE_RT_STRIDE, 0, 0);
	vt_print_px("corner", rt, SCENE_RT_STRIDE, w - 1, 0);
	vt_print_px("corner", rt, SCENE_RT_STRIDE, 0, h - 1);
	vt_print_px("corner", rt, SCENE_RT_STRIDE, w - 1, h - 1);
	vt_print_px("centre", rt, SCENE_RT_STRIDE, w / 2, h / 2);
	vt_print_px("below apex", rt, SCENE_RT_STRIDE, w / 2, h * 3 / 4 - 4);
	vt_print_px("above base", rt, SCENE_RT_STRIDE, w / 2, h / 4 + 4);
	scene_triangle_count(rt, SCENE_RT_STRIDE, w, h, &red, &blue);
	scene_triangle_red_range(w, h, &min, &max);
	printf("red %u, blue %u, other %u; red expected %u..%u (area %.1f)\n", red, blue,
	       w * h - red - blue, min, max, scene_triangle_area_px(w, h));

	if (argc == 3 && vt_write_ppm(argv[2], rt, SCENE_RT_STRIDE, w, h))
		goto out;

	quick = scene_triangle_check(rt, SCENE_RT_STRIDE, w, h, why, sizeof(why));
	printf("check: %s%s\n", quick ? "FAIL: " : "ok", quick ? why : "");
	full = scene_triangle_check_full(rt, SCENE_RT_STRIDE, w, h, why, sizeof(why));
	printf("full check: %s%s\n", full ? "FAIL: " : "ok", full ? why : "");
	rc = quick || full;
out:
	if (rt)
		munmap(rt, SCENE_RT_SIZE);
	if (vb)
		munmap(vb, SCENE_VB_SIZE);
	if (vt_fd >= 0)
		close(vt_fd);
	return rc;
}
