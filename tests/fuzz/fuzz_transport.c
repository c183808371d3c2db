/* SPDX-License-Identifier: MIT */
/*
 * fuzz_transport: a hostile client against virgo-host's transport decoder
 * (host/server.c: serve_one and the per-connection code), unchanged: the
 * harness starts a real machine (guest RAM, the device on virglrenderer,
 * the KMD core) and the server on a UNIX socket once per process, then for
 * each input writes the input bytes as the request stream of one
 * connection (while reading and dropping the replies and any file
 * descriptors they carry), half-closes, and reads until the server hangs
 * up. Afterwards the connection's handle must be closed in the core, and
 * the machine's live OS objects must be back at their baseline with no
 * rule violation.
 *
 * The connection is a socketpair served on the fuzzer's thread
 * (server_serve_fd), its client end written and read by a thread that
 * lives as long as the process: a connect, an accept and a new server
 * thread per input cost ten times what the decoder does with it.
 * VIRGO_FUZZ_THREADED=1 connects to the socket instead, through the
 * server's accept thread and a connection thread, as virgo-host runs.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gpu.h"  /* GPU_REQ_CACHE */
#include "log.h"
#include "machine.h"
#include "server.h"

#define DIE(...)                                                                 \
	do {                                                                     \
		fprintf(stderr, "fuzz_transport: FAIL %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                                    \
		fputc('\n', stderr);                                             \
		abort();                                                         \
	} while (0)

static struct machine M;
static struct server *S;
static char sock_path[108];
static char sock_dir[64];
static struct posix_counts base;
static bool threaded;

static void *client_thread(void *arg);

/* The client end of the current input's connection. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	pthread_t thread;
	int fd;
	const uint8_t *data;
	size_t size;
	bool busy;
} C = { .lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = -1 };

static void cleanup(void)
{
	if (S)
		server_stop(S);
	S = NULL;
	if (sock_dir[0])
		rmdir(sock_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Writes the input, half-closes, and reads until the server hangs up. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct machine_config mc = { .ram_size = 64ull << 20 };
	struct server_config sc = { 0 };

	(void)argc;
	(void)argv;
	hlog_level = getenv("VIRGO_FUZZ_VERBOSE") ? HLOG_DEBUG : -1;
	snprintf(sock_dir, sizeof(sock_dir), "/tmp/virgo-fuzz-XXXXXX");
	if (!mkdtemp(sock_dir))
		DIE("mkdtemp");
	snprintf(sock_path, sizeof(sock_path), "%s/s", sock_dir);
	if (machine_start(&M, &mc))
		DIE("machine_start: no EGL/virglrenderer?");
	sc.socket_path = sock_path;
	if (server_start(&M, &sc, &S))
		DIE("server_start");
	atexit(cleanup);
	threaded = getenv("VIRGO_FUZZ_THREADED") != NULL;
	if (!threaded && pthread_create(&C.thread, NULL, client_thread, NULL))
		DIE("pthread_create");
	machine_counts(&M, &base);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads what is there; drops replies, closes passed fds. false on EOF. */
static bool drain(int fd)
{
	static uint8_t buf[1 << 16];
	char ctl[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n > 0) {
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				int nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

				for (int i = 0; i < nfd; i++) {
					int x;

					memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
					close(x);
				}
			}
		}
		return true;
	}
	if (n == 0)
		return false;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static void run_client(int fd, const uint8_t *data, size_t size)
{
	size_t sent = 0;
	bool open = true, wr_open = true;
	uint64_t end;

	end = now_ms() + 20000;
	while (open) {
		struct pollfd p = { fd, POLLIN | (wr_open ? POLLOUT : 0), 0 };

		if (now_ms() > end)
			DIE("the server neither served nor dropped the connection in 20 s");
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			DIE("poll: %s", strerror(errno));
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			open = drain(fd);
		if (wr_open && (p.revents & POLLOUT)) {
			ssize_t w = send(fd, data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (w > 0)
				sent += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == size) {
				shutdown(fd, SHUT_WR);
				wr_open = false;
			}
		}
	}
}

static void *client_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&C.lock);
	for (;;) {
		while (!C.busy)
			pthread_cond_wait(&C.cv, &C.lock);
		pthread_mutex_unlock(&C.lock);
		run_client(C.fd, C.data, C.size);
		pthread_mutex_lock(&C.lock);
		C.busy = false;
		pthread_cond_broadcast(&C.cv);
	}
	return NULL;
}

/* One connection served on this thread; the client thread plays the
 * client. */
static void serve_here(const uint8_t *data, size_t size)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		DIE("socketpair: %s", strerror(errno));
	pthread_mutex_lock(&C.lock);
	C.fd = sv[0];
	C.data = data;
	C.size = size;
	C.busy = true;
	pthread_cond_broadcast(&C.cv);
	pthread_mutex_unlock(&C.lock);
	if (server_serve_fd(S, sv[1], true))
		shutdown(sv[1], SHUT_RDWR); /* no handle: the client sees the hang-up */
	pthread_mutex_lock(&C.lock);
	while (C.busy)
		pthread_cond_wait(&C.cv, &C.lock);
	pthread_mutex_unlock(&C.lock);
	close(sv[0]);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t end;
	struct gpu_stats gs;
	struct posix_counts n;

	if (threaded) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			DIE("socket: %s", strerror(errno));
		strcpy(a.sun_path, sock_path);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			DIE("connect: %s", strerror(errno));
		run_client(fd, data, size);
		close(fd);
	} else {
		serve_here(data, size);
	}
	/* The server hangs up before it closes the handle: wait for that. */
	end = now_ms() + 10000;
	for (;;) {
		gpu_get_stats(M.gpu, &gs);
		machine_counts(&M, &n);
		/* The core keeps up to GPU_REQ_CACHE idle small requests (one
		 * os_alloc + one os_dma_alloc each) device-wide: not a leak. */
		int64_t cached = n.dma - base.dma;

		if (gs.files == 0 && gs.resources == 0 && cached >= 0 && cached <= GPU_REQ_CACHE &&
		    n.allocs - base.allocs == cached &&
		    n.pages == base.pages && n.maps == base.maps && n.spins == base.spins &&
		    n.mutexes == base.mutexes && n.waitqs == base.waitqs && n.mmio == base.mmio)
			break;
		if (now_ms() > end)
			DIE("after the client left: %u files, %u resources; OS objects live/base: allocs %lld/%lld "
			    "dma %lld/%lld pages %lld/%lld maps %lld/%lld spins %lld/%lld mutexes %lld/%lld waitqs %lld/%lld",
			    gs.files, gs.resources, (long long)n.allocs, (long long)base.allocs, (long long)n.dma,
			    (long long)base.dma, (long long)n.pages, (long long)base.pages, (long long)n.maps,
			    (long long)base.maps, (long long)n.spins, (long long)base.spins, (long long)n.mutexes,
			    (long long)base.mutexes, (long long)n.waitqs, (long long)base.waitqs);
		usleep(200);
	}
	if (n.violations != base.violations)
		DIE("%lld rule violations of the core", (long long)(n.violations - base.violations));
	if (gpu_is_lost(M.gpu))
		DIE("the device was lost");
	return 0;
}
