/* SPDX-License-Identifier: MIT */
/* The socket transport for Linux programs: UNIX sockets (mappings arrive as
 * a file descriptor) or loopback TCP (mappings name a file to open). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vtp.h"
#include "wire.h"

struct vtp_map {
	uint32_t handle;
	void *addr;
	size_t size;
};

struct vtp {
	int fd;
	pthread_mutex_t lock;  /* one request at a time on the socket */
	uint32_t seq;
	struct vtp_map *maps;
	uint32_t nmaps;
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

int vtp_open(const char *spec, struct vtp **out)
{
	char def[256];
	const char *s = spec;
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
	if (fd < 0)
		return fd;
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return -VIRGO_ENOMEM;
	}
	t->fd = fd;
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -VIRGO_EDEVLOST;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads len bytes; the first read also takes a passed fd, if any. */
static int read_full(int fd, void *buf, size_t len, int *passed)
{
	uint8_t *p = buf;

	while (len) {
		char ctl[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { p, len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -VIRGO_EDEVLOST;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				int got;

				memcpy(&got, CMSG_DATA(c), sizeof(int));
				if (passed && *passed < 0)
					*passed = got;
				else
					close(got);
			}
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static struct vtp_map *find_map(struct vtp *t, uint32_t handle)
{
	for (uint32_t i = 0; i < t->nmaps; i++)
		if (t->maps[i].handle == handle)
			return &t->maps[i];
	return NULL;
}

static void drop_map(struct vtp *t, uint32_t handle)
{
	struct vtp_map *m = find_map(t, handle);

	if (m) {
		munmap(m->addr, m->size);
		*m = t->maps[--t->nmaps];
	}
}

/* Lays the runs out one after the other in a reserved range. */
static int map_runs(struct vtp *t, struct virgo_map *a, const uint8_t *out, uint32_t out_len, int fd)
{
	struct virgo_wire_map wm;
	const struct virgo_wire_run *runs;
	struct vtp_map *grown;
	uint8_t *base;
	size_t total = 0, at = 0;
	bool own_fd = false;

	if (out_len < sizeof(wm))
		return -VIRGO_EPROTO;
	memcpy(&wm, out, sizeof(wm));
	if (!wm.nruns || (uint64_t)wm.nruns * sizeof(*runs) + sizeof(wm) + wm.path_len > out_len)
		return -VIRGO_EPROTO;
	runs = (const void *)(out + sizeof(wm));
	for (uint32_t i = 0; i < wm.nruns; i++)
		total += runs[i].len;
	if (fd < 0 && wm.path_len) {
		char path[256];

		if (wm.path_len >= sizeof(path))
			return -VIRGO_EPROTO;
		memcpy(path, out + out_len - wm.path_len, wm.path_len);
		path[wm.path_len] = 0;
		fd = open(path, O_RDWR | O_CLOEXEC);
		own_fd = true;
	}
	if (fd < 0)
		return -VIRGO_EPROTO;
	base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (uint32_t i = 0; base != MAP_FAILED && i < wm.nruns; i++) {
		if (mmap(base + at, runs[i].len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)runs[i].offset) == MAP_FAILED) {
			munmap(base, total);
			base = MAP_FAILED;
		}
		at += runs[i].len;
	}
	if (own_fd)
		close(fd);
	if (base == MAP_FAILED)
		return -VIRGO_ENOMEM;
	grown = realloc(t->maps, sizeof(*grown) * (t->nmaps + 1));
	if (!grown) {
		munmap(base, total);
		return -VIRGO_ENOMEM;
	}
	t->maps = grown;
	t->maps[t->nmaps++] = (struct vtp_map){ a->bo_handle, base, total };
	a->addr = (uint64_t)(uintptr_t)base;
	a->size = total;
	return 0;
}

static int roundtrip(struct vtp *t, uint32_t op, void *arg)
{
	struct wire_msg m;
	struct virgo_wire_resp r;
	uint8_t args[64];
	uint8_t *out = NULL;
	int fd = -1, ret;

	ret = wire_pack(op, arg, ++t->seq, &m);
	if (ret)
		return ret;
	ret = write_full(t->fd, &m.hdr, sizeof(m.hdr));
	if (!ret)
		ret = write_full(t->fd, m.args, m.hdr.arg_size);
	if (!ret && m.hdr.in_size)
		ret = write_full(t->fd, m.in, m.hdr.in_size);
	if (!ret)
		ret = read_full(t->fd, &r, sizeof(r), &fd);
	if (!ret && (r.magic != VIRGO_WIRE_MAGIC || r.seq != m.hdr.seq || r.arg_size != m.hdr.arg_size ||
		     r.out_size > m.hdr.out_size))
		ret = -VIRGO_EPROTO;
	if (!ret)
		ret = read_full(t->fd, args, r.arg_size, &fd);
	if (!ret && r.out_size) {
		out = malloc(r.out_size);
		ret = out ? read_full(t->fd, out, r.out_size, &fd) : -VIRGO_ENOMEM;
	}
	if (!ret)
		ret = r.status;
	if (!ret)
		ret = wire_unpack(op, arg, args, r.arg_size, out, r.out_size);
	if (!ret && op == VIRGO_OP_MAP)
		ret = map_runs(t, arg, out, r.out_size, fd);
	if (fd >= 0)
		close(fd);
	free(out);
	wire_msg_free(&m);
	return ret;
}

int vtp_ioctl(struct vtp *t, uint32_t op, void *arg)
{
	int ret;

	if (!t || !arg)
		return -VIRGO_EINVAL;
	pthread_mutex_lock(&t->lock);
	if (op == VIRGO_OP_MAP) {
		struct virgo_map *a = arg;
		struct vtp_map *m = find_map(t, a->bo_handle);

		if (m) {
			/* One mapping per resource per handle, as the driver has. */
			a->addr = (uint64_t)(uintptr_t)m->addr;
			a->size = m->size;
			pthread_mutex_unlock(&t->lock);
			return 0;
		}
	}
	ret = roundtrip(t, op, arg);
	if (!ret && op == VIRGO_OP_UNMAP)
		drop_map(t, ((struct virgo_unmap *)arg)->bo_handle);
	if (!ret && op == VIRGO_OP_RESOURCE_CLOSE)
		drop_map(t, ((struct virgo_resource_close *)arg)->bo_handle);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void vtp_close(struct vtp *t)
{
	if (!t)
		return;
	while (t->nmaps)
		drop_map(t, t->maps[0].handle);
	free(t->maps);
	close(t->fd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

const char *vtp_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "ok";
	case VIRGO_EPERM: return "not allowed";
	case VIRGO_ENOENT: return "no such handle";
	case VIRGO_EIO: return "the device reported an error";
	case VIRGO_E2BIG: return "too big";
	case VIRGO_ENOMEM: return "out of memory";
	case VIRGO_EFAULT: return "bad address";
	case VIRGO_EBUSY: return "busy";
	case VIRGO_EEXIST: return "already exists";
	case VIRGO_ENODEV: return "no device (is virgo-host running?)";
	case VIRGO_EINVAL: return "invalid argument";
	case VIRGO_ENOSPC: return "out of ids";
	case VIRGO_EPROTO: return "protocol error";
	case VIRGO_EOVERFLOW: return "overflow";
	case VIRGO_ENOTSUP: return "not supported";
	case VIRGO_ETIMEDOUT: return "timed out";
	case VIRGO_EDEVLOST: return "device lost";
	default: return "unknown error";
	}
}
