/* SPDX-License-Identifier: MIT */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "wire.h"

struct map_rec {
	uint32_t handle;
	struct host_map *runs;  /* our own copy */
};

struct conn {
	struct conn *next;
	struct server *srv;
	int fd;
	bool unix_sock;
	pthread_t thread;
	bool done;
	struct core_file *file;
	struct map_rec *maps;
	uint32_t nmaps;
};

struct server {
	struct machine *m;
	struct server_config cfg;
	int unix_fd;
	int tcp_fd;
	int tcp_port;
	int wake[2];
	pthread_t accept_thread;
	pthread_mutex_t lock;
	struct conn *conns;
	unsigned nconns;
	bool stopping;
};

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The fd, when there is one, rides on the first byte. */
static int send_all(int fd, const uint8_t *buf, size_t len, int pass_fd)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	char ctl[CMSG_SPACE(sizeof(int))];
	size_t sent = 0;

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	while (sent < len) {
		ssize_t r;

		iov.iov_base = (void *)(buf + sent);
		iov.iov_len = len - sent;
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		sent += (size_t)r;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}

static struct map_rec *find_map(struct conn *c, uint32_t handle)
{
	for (uint32_t i = 0; i < c->nmaps; i++)
		if (c->maps[i].handle == handle)
			return &c->maps[i];
	return NULL;
}

static void drop_map(struct conn *c, uint32_t handle)
{
	struct map_rec *r = find_map(c, handle);

	if (r) {
		free(r->runs);
		*r = c->maps[--c->nmaps];
	}
}

static int keep_map(struct conn *c, uint32_t handle, const struct host_map *m)
{
	size_t sz = sizeof(*m) + sizeof(m->runs[0]) * m->nruns;
	struct map_rec *grown;
	struct host_map *copy = malloc(sz);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, m, sz);
	drop_map(c, handle);
	grown = realloc(c->maps, sizeof(*grown) * (c->nmaps + 1));
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	c->maps = grown;
	c->maps[c->nmaps++] = (struct map_rec){ handle, copy };
	return 0;
}

/* One request: header checked before anything is allocated. */
static int serve_one(struct conn *c)
{
	struct virgo_wire_req req;
	struct virgo_wire_resp resp;
	uint8_t args[VIRGO_WIRE_MAX_ARGS];
	uint8_t *in = NULL, *out = NULL;
	struct os_caller caller = { 0 };
	uint8_t *reply = NULL;
	int pass_fd = -1, ret, status;
	uint32_t handle = 0;

	ret = read_full(c->fd, &req, sizeof(req));
	if (ret)
		return ret;
	if (wire_req_check(&req)) {
		/* The stream cannot be trusted to be in step any more. */
		hlog(HLOG_WARN, "client %d: bad request header (magic %#x version %u op %u sizes %u/%u/%u)", c->fd,
		     req.magic, req.version, req.op, req.arg_size, req.in_size, req.out_size);
		return -EPROTO;
	}
	ret = read_full(c->fd, args, req.arg_size);
	if (!ret && req.in_size) {
		in = malloc(req.in_size);
		ret = in ? read_full(c->fd, in, req.in_size) : -ENOMEM;
	}
	if (!ret && req.out_size) {
		out = calloc(1, req.out_size);
		if (!out)
			ret = -ENOMEM;
	}
	if (ret)
		goto done;
	caller = (struct os_caller){ .in = in, .in_len = req.in_size, .out = out, .out_cap = req.out_size,
				     .owner = (uint64_t)(uintptr_t)c, .fd = c->fd };
	if (req.arg_size >= 4)
		memcpy(&handle, args, 4);
	status = core_ioctl(c->file, &caller, req.op, args, req.arg_size);
	if (status == 0 && req.op == VIRGO_OP_MAP) {
		struct map_rec *rec;
		struct ram *ram = &c->srv->m->ram;

		if (caller.last_map && keep_map(c, handle, caller.last_map))
			status = -VIRGO_ENOMEM;
		rec = find_map(c, handle);
		if (!status && !rec)
			status = -VIRGO_EPROTO;
		/* UNIX clients get the guest-RAM fd with the reply; TCP ones
		 * (Wine) the file's name. */
		if (!status)
			status = wire_map_encode(out, req.out_size, rec->runs->runs, rec->runs->nruns, ram->size,
						 ram->path, c->unix_sock ? 0 : (uint32_t)strlen(ram->path),
						 &caller.out_len);
		if (!status && c->unix_sock)
			pass_fd = ram->fd;
	}
	if (status == 0 && (req.op == VIRGO_OP_UNMAP || req.op == VIRGO_OP_RESOURCE_CLOSE))
		drop_map(c, handle);
	resp = wire_resp_for(&req, status, caller.out_len);
	reply = malloc(sizeof(resp) + req.arg_size + caller.out_len);
	if (!reply) {
		ret = -ENOMEM;
		goto done;
	}
	memcpy(reply, &resp, sizeof(resp));
	memcpy(reply + sizeof(resp), args, req.arg_size);
	if (caller.out_len)
		memcpy(reply + sizeof(resp) + req.arg_size, out, caller.out_len);
	ret = send_all(c->fd, reply, sizeof(resp) + req.arg_size + caller.out_len, pass_fd);
done:
	free(reply);
	free(in);
	free(out);
	return ret;
}

/* Serves the connection until the client leaves or breaks the protocol,
 * then gives back everything it owned. */
static void conn_serve(struct conn *c)
{
	int ret;

	while ((ret = serve_one(c)) == 0)
		;
	if (ret != -EPIPE)
		hlog(HLOG_INFO, "client %d: disconnected (%s)", c->fd, strerror(-ret));
	/* The client learns at once that it was dropped; the fd itself is
	 * closed when the connection is reaped. */
	shutdown(c->fd, SHUT_RDWR);
	/* Everything the client owned goes with its handle, whatever state
	 * it left things in. */
	core_cleanup(c->file, NULL);
	core_close(c->file);
	c->file = NULL;
	for (uint32_t i = 0; i < c->nmaps; i++)
		free(c->maps[i].runs);
	free(c->maps);
	c->maps = NULL;
	c->nmaps = 0;
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;

	conn_serve(c);
	pthread_mutex_lock(&c->srv->lock);
	c->done = true;
	pthread_mutex_unlock(&c->srv->lock);
	return NULL;
}

/* lock held: joins finished connections. */
static void reap_conns(struct server *s, bool all)
{
	struct conn **pp = &s->conns;

	while (*pp) {
		struct conn *c = *pp;

		if (!c->done && !all) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		pthread_mutex_unlock(&s->lock);
		if (!c->done)
			shutdown(c->fd, SHUT_RDWR);
		pthread_join(c->thread, NULL);
		close(c->fd);
		free(c);
		pthread_mutex_lock(&s->lock);
		s->nconns--;
	}
}

/* A connection with its own handle, or NULL (logged). Opens are
 * serialised: one accept thread (or the caller of server_serve_fd). */
static struct conn *conn_open(struct server *s, int fd, bool unix_sock)
{
	struct conn *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return NULL;
	c->srv = s;
	c->fd = fd;
	c->unix_sock = unix_sock;
	/* As the Windows driver does on open (kmd/win/driver.c): a lost device
	 * is reset first, so a new client finds it working again (handles
	 * opened before stay lost). */
	if (gpu_is_lost(s->m->gpu)) {
		ret = gpu_reset(s->m->gpu);
		hlog(ret ? HLOG_ERR : HLOG_WARN, "the device was lost: reset %s (%d)", ret ? "failed" : "done", ret);
	}
	ret = core_open(s->m->gpu, &c->file);
	if (ret) {
		hlog(HLOG_WARN, "client refused: no handle (%d)", ret);
		free(c);
		return NULL;
	}
	return c;
}

static void accept_one(struct server *s, int lfd, bool unix_sock)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	struct conn *c;
	int one = 1;

	if (fd < 0)
		return;
	pthread_mutex_lock(&s->lock);
	reap_conns(s, false);
	if (s->nconns >= s->cfg.max_clients) {
		pthread_mutex_unlock(&s->lock);
		hlog(HLOG_WARN, "client refused: %u clients connected", s->cfg.max_clients);
		close(fd);
		return;
	}
	pthread_mutex_unlock(&s->lock);
	if (!unix_sock)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = conn_open(s, fd, unix_sock);
	if (!c) {
		close(fd);
		return;
	}
	if (pthread_create(&c->thread, NULL, conn_thread, c)) {
		core_close(c->file);
		close(fd);
		free(c);
		return;
	}
	pthread_mutex_lock(&s->lock);
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	pthread_mutex_unlock(&s->lock);
	hlog(HLOG_INFO, "client %d connected (%s)", fd, unix_sock ? "unix" : "tcp");
}

int server_serve_fd(struct server *s, int fd, bool unix_sock)
{
	struct conn *c = conn_open(s, fd, unix_sock);

	if (!c)
		return -1;
	conn_serve(c);
	free(c);
	return 0;
}

static void *accept_thread(void *arg)
{
	struct server *s = arg;

	for (;;) {
		struct pollfd p[3] = { { s->wake[0], POLLIN, 0 }, { s->unix_fd, POLLIN, 0 }, { s->tcp_fd, POLLIN, 0 } };

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN)
			accept_one(s, s->unix_fd, true);
		if (p[2].revents & POLLIN)
			accept_one(s, s->tcp_fd, false);
	}
	return NULL;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a stale socket from a killed run */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int listen_tcp(int port, int *bound)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(port > 0 ? port : 0)) };
	socklen_t len = sizeof(a);
	int fd, one = 1;

	/* Loopback only: the transport carries no authentication. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

int server_start(struct machine *m, const struct server_config *cfg, struct server **out)
{
	struct server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->m = m;
	s->cfg = *cfg;
	if (!s->cfg.max_clients)
		s->cfg.max_clients = 256;
	s->unix_fd = s->tcp_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	if (pipe2(s->wake, O_CLOEXEC) < 0) {
		ret = -errno;
		goto fail;
	}
	if (cfg->socket_path) {
		s->unix_fd = listen_unix(cfg->socket_path);
		if (s->unix_fd < 0) {
			ret = s->unix_fd;
			hlog(HLOG_ERR, "cannot listen on %s: %s", cfg->socket_path, strerror(-ret));
			goto fail;
		}
	}
	if (cfg->tcp_port) {
		s->tcp_fd = listen_tcp(cfg->tcp_port, &s->tcp_port);
		if (s->tcp_fd < 0) {
			ret = s->tcp_fd;
			hlog(HLOG_ERR, "cannot listen on 127.0.0.1:%d: %s", cfg->tcp_port, strerror(-ret));
			goto fail;
		}
	}
	if (pthread_create(&s->accept_thread, NULL, accept_thread, s)) {
		ret = -EAGAIN;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->unix_fd >= 0)
		close(s->unix_fd);
	if (s->tcp_fd >= 0)
		close(s->tcp_fd);
	if (s->wake[0] > 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
	return ret;
}

int server_tcp_port(struct server *s)
{
	return s->tcp_port;
}

unsigned server_clients(struct server *s)
{
	unsigned n;

	/* Connections whose client left wait for the next accept to be
	 * reaped: reaped here too, so that neither they nor their fds count
	 * (a soak's baseline taken before the next accept saw one too many). */
	pthread_mutex_lock(&s->lock);
	reap_conns(s, false);
	n = s->nconns;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void server_stop(struct server *s)
{
	char b = 0;

	if (write(s->wake[1], &b, 1) < 0)
		hlog(HLOG_WARN, "server wake: %s", strerror(errno));
	pthread_join(s->accept_thread, NULL);
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	reap_conns(s, true);
	pthread_mutex_unlock(&s->lock);
	if (s->unix_fd >= 0) {
		close(s->unix_fd);
		if (s->cfg.socket_path)
			unlink(s->cfg.socket_path);
	}
	if (s->tcp_fd >= 0)
		close(s->tcp_fd);
	close(s->wake[0]);
	close(s->wake[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
