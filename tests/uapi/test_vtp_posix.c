/* SPDX-License-Identifier: MIT */
/*
 * test_vtp_posix.c: the Linux transport (umd/transport/vtp_posix.c) against
 * a scripted peer that answers one way or another: a reply to another op,
 * a positive status, no reply at all, a MAP reply whose runs leave the
 * object. The transport must refuse each, drop a connection it can no
 * longer trust, and never wait past its deadline.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "t.h"
#include "vtp.h"
#include "wire.h"

enum script {
	S_OK,             /* a correct GET_PARAM reply (value 42) */
	S_WRONG_OP,       /* the reply names another op */
	S_POSITIVE,       /* status 5: not a negated virgo_status */
	S_SILENT,         /* no reply; the peer hangs up after 2 s */
	S_MAP_OUTSIDE,    /* MAP: a run past the end of the object */
	S_BIG_OUT,        /* more out-data than the client asked for */
};

struct peer {
	int lfd;
	char path[108];
	enum script script;
	int nreq;          /* requests the peer read */
	uint16_t ops[8];   /* ... their ops */
	pthread_t thread;
};

static int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void write_all(int fd, const void *buf, size_t len)
{
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		fprintf(stderr, "peer: short write\n");
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	int fd = accept(p->lfd, NULL, NULL);

	while (fd >= 0) {
		struct virgo_wire_req req;
		uint8_t args[VIRGO_WIRE_MAX_ARGS];
		struct virgo_wire_resp r;
		uint8_t *in = NULL;
		uint8_t out[256];
		uint32_t out_len = 0;

		if (read_all(fd, &req, sizeof(req)) || wire_req_check(&req) || read_all(fd, args, req.arg_size))
			break;
		if (req.in_size) {
			in = malloc(req.in_size);
			if (!in || read_all(fd, in, req.in_size))
				break;
			free(in);
		}
		if (p->nreq < 8)
			p->ops[p->nreq] = req.op;
		p->nreq++;
		if (req.op == VIRGO_OP_GET_PARAM)
			((struct virgo_get_param *)(void *)args)->value = 42;
		r = wire_resp_for(&req, 0, 0);
		switch (p->script) {
		case S_WRONG_OP:
			r.op = VIRGO_OP_RESOURCE_INFO;
			break;
		case S_POSITIVE:
			r.status = VIRGO_EIO;
			break;
		case S_SILENT: {
			struct timespec ts = { 2, 0 };

			nanosleep(&ts, NULL);
			close(fd);
			return NULL;
		}
		case S_MAP_OUTSIDE:
			if (req.op == VIRGO_OP_MAP) {
				struct virgo_wire_run run = { .offset = 4096, .len = 8192 };

				/* 4096 + 8192 > the 8192-byte object */
				wire_map_encode(out, sizeof(out), &run, 1, 8192, "/dev/null", 9, &out_len);
				r.out_size = out_len;
			}
			break;
		case S_BIG_OUT:
			r.out_size = req.out_size + 16;
			out_len = 0;
			break;
		case S_OK:
			break;
		}
		write_all(fd, &r, sizeof(r));
		write_all(fd, args, req.arg_size);
		if (out_len)
			write_all(fd, out, out_len);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void peer_start(struct peer *p, enum script s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	memset(p, 0, sizeof(*p));
	p->script = s;
	snprintf(p->path, sizeof(p->path), "/tmp/virgo-vtp-test-%d-%d.sock", (int)getpid(), (int)s);
	strcpy(a.sun_path, p->path);
	unlink(p->path);
	p->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(p->lfd >= 0);
	REQUIRE(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(listen(p->lfd, 1) == 0);
	REQUIRE(pthread_create(&p->thread, NULL, peer_main, p) == 0);
}

static void peer_stop(struct peer *p)
{
	shutdown(p->lfd, SHUT_RDWR);
	pthread_join(p->thread, NULL);
	close(p->lfd);
	unlink(p->path);
}

static struct vtp *open_peer(struct peer *p)
{
	char spec[128];
	struct vtp *t = NULL;

	snprintf(spec, sizeof(spec), "unix:%s", p->path);
	REQUIRE_EQ(vtp_open(spec, &t), 0);
	return t;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

TEST(vtp_posix_takes_a_good_reply)
{
	struct peer p;
	struct vtp *t;
	struct virgo_get_param gp = { .param = VIRGO_PARAM_UAPI_VERSION };

	peer_start(&p, S_OK);
	t = open_peer(&p);
	CHECK_EQ(vtp_ioctl(t, VIRGO_OP_GET_PARAM, &gp), 0);
	CHECK_EQ(gp.value, 42);
	vtp_close(t);
	peer_stop(&p);
}

/* One GET_PARAM against the script: what the transport answers, and
 * what the next request gets. */
static void one_param(enum script s, int want, int want_next, int want_nreq)
{
	struct peer p;
	struct vtp *t;
	struct virgo_get_param gp = { .param = VIRGO_PARAM_UAPI_VERSION };

	peer_start(&p, s);
	t = open_peer(&p);
	CHECK_EQ(vtp_ioctl(t, VIRGO_OP_GET_PARAM, &gp), want);
	CHECK_EQ(vtp_ioctl(t, VIRGO_OP_GET_PARAM, &gp), want_next);
	vtp_close(t);
	peer_stop(&p);
	CHECK_EQ(p.nreq, want_nreq);
}

TEST(vtp_posix_refuses_a_reply_to_another_op)
{
	/* A stream out of step is dropped: nothing more is read from it. */
	one_param(S_WRONG_OP, -VIRGO_EPROTO, -VIRGO_EDEVLOST, 1);
}

TEST(vtp_posix_refuses_a_positive_status)
{
	/* Well framed, so the stream stays in step: only that request fails. */
	one_param(S_POSITIVE, -VIRGO_EPROTO, -VIRGO_EPROTO, 2);
}

TEST(vtp_posix_gives_up_on_a_silent_host_by_its_deadline)
{
	struct peer p;
	struct vtp *t;
	struct virgo_get_param gp = { .param = VIRGO_PARAM_UAPI_VERSION };
	uint64_t t0, waited;
	int ret;

	setenv("VIRGO_TRANSPORT_TIMEOUT_MS", "300", 1);
	peer_start(&p, S_SILENT);
	t = open_peer(&p);
	unsetenv("VIRGO_TRANSPORT_TIMEOUT_MS");
	t0 = now_ms();
	ret = vtp_ioctl(t, VIRGO_OP_GET_PARAM, &gp);
	waited = now_ms() - t0;
	CHECK_EQ(ret, -VIRGO_EDEVLOST);
	/* The peer would hang up after 2 s: the deadline must come first. */
	if (waited < 250 || waited > 1500)
		t_fail(__FILE__, __LINE__, "waited %llu ms for a 300 ms deadline", (unsigned long long)waited);
	t0 = now_ms();
	CHECK_EQ(vtp_ioctl(t, VIRGO_OP_GET_PARAM, &gp), -VIRGO_EDEVLOST);
	CHECK(now_ms() - t0 < 100);
	vtp_close(t);
	peer_stop(&p);
}

TEST(vtp_posix_refuses_a_map_outside_the_object_and_undoes_it)
{
	struct peer p;
	struct vtp *t;
	struct virgo_map m = { .bo_handle = 3 };

	peer_start(&p, S_MAP_OUTSIDE);
	t = open_peer(&p);
	CHECK_EQ(vtp_ioctl(t, VIRGO_OP_MAP, &m), -VIRGO_EPROTO);
	CHECK_EQ(m.addr, 0);
	vtp_close(t);
	peer_stop(&p);
	/* The host recorded a mapping the client does not have: it is told. */
	CHECK_EQ(p.nreq, 2);
	CHECK_EQ(p.ops[1], VIRGO_OP_UNMAP);
}

TEST(vtp_posix_refuses_more_out_data_than_asked)
{
	struct peer p;
	struct vtp *t;
	uint8_t caps[8];
	struct virgo_get_caps gc = { .cap_set_id = 1, .cap_set_ver = 1, .addr = (uintptr_t)caps, .size = 8 };

	peer_start(&p, S_BIG_OUT);
	t = open_peer(&p);
	CHECK_EQ(vtp_ioctl(t, VIRGO_OP_GET_CAPS, &gc), -VIRGO_EPROTO);
	vtp_close(t);
	peer_stop(&p);
}
