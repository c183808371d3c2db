/* SPDX-License-Identifier: MIT */
/*
 * The socket transport for Linux programs: UNIX sockets (mappings arrive as
 * a file descriptor) or loopback TCP (mappings name a file to open). The
 * request/reply exchange, its checks and its deadlines are uapi/roundtrip.c's,
 * shared with the Windows transport; this file supplies the socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "vtp.h"

struct vtp {
	int fd;
	pthread_mutex_t lock;  /* one request at a time on the socket */
	int passed;            /* an fd that came with the current reply, or -1 */
	char peer[272];        /* the spec, for messages */
	struct wire_client client;
};

static int connect_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -VIRGO_EINVAL;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -VIRGO_ENOMEM;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -VIRGO_ENODEV;
	}
	return fd;
}

static int connect_tcp(const char *hostport)
{
	char host[128];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
	int fd, one = 1;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host))
		return -VIRGO_EINVAL;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	if (getaddrinfo(host, colon + 1, &hints, &res))
		return -VIRGO_EINVAL;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -VIRGO_ENODEV;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* ---- the stream for uapi/roundtrip.c ---------------------------------------- */

static uint64_t now_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Until fd is ready for ev or the deadline passes. */
static int wait_ready(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = now_ms(NULL);
		struct pollfd p = { fd, ev, 0 };
		int n;

		if (now >= deadline)
			return -VIRGO_ETIMEDOUT;
		n = poll(&p, 1, deadline - now > 60000 ? 60000 : (int)(deadline - now));
		if (n > 0)
			return 0; /* ready, or an error the next call reports */
		if (n < 0 && errno != EINTR)
			return -VIRGO_EDEVLOST;
	}
}

static int sock_send(void *ctx, const void *buf, size_t len, uint64_t deadline)
{
	struct vtp *t = ctx;
	const uint8_t *p = buf;

	while (len) {
		ssize_t n;
		int ret = wait_ready(t->fd, POLLOUT, deadline);

		if (ret)
			return ret;
		n = send(t->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -VIRGO_EDEVLOST;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Also takes the fd a MAP reply passes (the first one; others are closed). */
static int sock_recv(void *ctx, void *buf, size_t len, uint64_t deadline)
{
	struct vtp *t = ctx;
	uint8_t *p = buf;

	while (len) {
		char ctl[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { p, len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		ssize_t n;
		int ret = wait_ready(t->fd, POLLIN, deadline);

		if (ret)
			return ret;
		n = recvmsg(t->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -VIRGO_EDEVLOST;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				int got;

				memcpy(&got, CMSG_DATA(c), sizeof(int));
				if (t->passed < 0)
					t->passed = got;
				else
					close(got);
			}
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- mappings ------------------------------------------------------------------ */

/* Lays the reply's runs out one after the other in a reserved range. */
static int map_runs(void *ctx, uint32_t handle, const struct wire_map_reply *r, const char *path, uint64_t *addr,
		    void **priv)
{
	struct vtp *t = ctx;
	uint8_t *base;
	size_t at = 0;
	int fd = t->passed;
	bool own_fd = false;

	(void)priv;
	if (fd < 0 && path[0]) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		own_fd = true;
	}
	if (fd < 0) {
		fprintf(stderr, "virgo: %s: cannot map resource %u: %s\n", t->peer, handle,
			path[0] ? "the host's guest-RAM file does not open" : "the reply carries no file");
		return path[0] ? -VIRGO_ENODEV : -VIRGO_EPROTO;
	}
	base = mmap(NULL, (size_t)r->total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (uint32_t i = 0; base != MAP_FAILED && i < r->map.nruns; i++) {
		struct virgo_wire_run run = wire_map_run(r, i);

		if (mmap(base + at, run.len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, (off_t)run.offset) ==
		    MAP_FAILED) {
			munmap(base, (size_t)r->total);
			base = MAP_FAILED;
		}
		at += run.len;
	}
	if (own_fd)
		close(fd);
	if (base == MAP_FAILED)
		return -VIRGO_ENOMEM;
	*addr = (uint64_t)(uintptr_t)base;
	return 0;
}

static void unmap_runs(void *ctx, uint64_t addr, uint64_t size, void *priv)
{
	(void)ctx;
	(void)priv;
	munmap((void *)(uintptr_t)addr, (size_t)size);
}

static void dropped(void *ctx, uint32_t op)
{
	struct vtp *t = ctx;

	fprintf(stderr, "virgo: %s: %s in op %u; connection dropped\n", t->peer, t->client.conn.why, op);
	shutdown(t->fd, SHUT_RDWR);
}

static const struct wire_client_ops client_ops = { .map = map_runs, .unmap = unmap_runs, .dropped = dropped };

/* ---- vtp.h ---------------------------------------------------------------------- */

int vtp_open(const char *spec, struct vtp **out)
{
	char def[256];
	const char *s = spec;
	const struct wire_io io = { .send = sock_send, .recv = sock_recv, .now_ms = now_ms };
	struct vtp *t;
	int fd;

	*out = NULL;
	if (!s)
		s = getenv("VIRGO_TRANSPORT");
	if (!s || !*s) {
		const char *env = getenv("VIRGO_SOCKET"), *xdg = getenv("XDG_RUNTIME_DIR");

		if (env && *env)
			snprintf(def, sizeof(def), "unix:%s", env);
		else if (xdg && *xdg)
			snprintf(def, sizeof(def), "unix:%s/virgo.sock", xdg);
		else
			snprintf(def, sizeof(def), "unix:/tmp/virgo-%u.sock", (unsigned)getuid());
		s = def;
	}
	if (!strncmp(s, "unix:", 5))
		fd = connect_unix(s + 5);
	else if (!strncmp(s, "tcp:", 4))
		fd = connect_tcp(s + 4);
	else
		fd = -VIRGO_EINVAL;
	if (fd < 0) {
		if (fd == -VIRGO_ENODEV)
			fprintf(stderr, "virgo: cannot connect to %s (is virgo-host running?)\n", s);
		else
			fprintf(stderr, "virgo: transport '%s' is neither unix:PATH nor tcp:HOST:PORT\n", s);
		return fd;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return -VIRGO_ENOMEM;
	}
	t->fd = fd;
	t->passed = -1;
	snprintf(t->peer, sizeof(t->peer), "%.256s", s);
	pthread_mutex_init(&t->lock, NULL);
	wire_client_init(&t->client, &io, &client_ops, t, wire_slack_ms(getenv("VIRGO_TRANSPORT_TIMEOUT_MS")), 256);
	*out = t;
	return 0;
}

int vtp_ioctl(struct vtp *t, uint32_t op, void *arg)
{
	int ret;

	if (!t || !arg)
		return -VIRGO_EINVAL;
	if (!virgo_op_arg_size(op))
		return -VIRGO_ENOTSUP;
	pthread_mutex_lock(&t->lock);
	ret = wire_client_ioctl(&t->client, op, arg);
	/* A reply's fd served its MAP, or came with nothing that wants it. */
	if (t->passed >= 0) {
		close(t->passed);
		t->passed = -1;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void vtp_close(struct vtp *t)
{
	if (!t)
		return;
	wire_client_close(&t->client);
	close(t->fd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
