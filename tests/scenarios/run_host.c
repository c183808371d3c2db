/* SPDX-License-Identifier: MIT */
/*
 * The scenario runner for the embedded host: starts virgo-host (the real
 * program) on a private socket, runs every scenario through the Linux
 * transport, then stops the host and counts its clean shutdown (no leaked
 * kernel objects, no device contexts or resources left, no execution-rule
 * violations) as one more test.
 *
 *   run-host PATH-TO-virgo-host [filter]
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_host.h"
#include "scen.h"
#include "scene_triangle.h"
#include "vtp.h"

struct host_dev {
	struct scen_dev base;
	struct vtp *t;
};

/* The suite's host; host_faults.c starts others of its own. */
static struct host_proc main_host = { .out = -1 };
static const char *host_exe;

static int dev_ioctl(struct scen_dev *d, uint32_t op, void *arg)
{
	return vtp_ioctl(((struct host_dev *)d)->t, op, arg);
}

static void dev_close(struct scen_dev *d)
{
	vtp_close(((struct host_dev *)d)->t);
	free(d);
}

static const struct scen_dev_ops host_ops = { dev_ioctl, dev_close };

int host_open_dev(struct host_proc *h, struct scen_dev **out)
{
	struct host_dev *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -VIRGO_ENOMEM;
	ret = host_connect(h, &d->t);
	if (ret) {
		free(d);
		return ret;
	}
	d->base.ops = &host_ops;
	*out = &d->base;
	return 0;
}

static int env_open(struct scen_env *env, struct scen_dev **out)
{
	(void)env;
	return host_open_dev(&main_host, out);
}

static int env_raw(struct scen_env *env)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)env;
	strcpy(a.sun_path, main_host.sock);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* After every scenario: nothing it created may outlive it. No REQUIRE
 * here: this runs inside the test's accounting, after the test body. */
static void env_after(bool failed)
{
	struct scen_dev *d;

	(void)failed;
	if (!main_host.pid)
		return;
	if (env_open(scen, &d)) {
		t_fail(__FILE__, __LINE__, "virgo-host stopped answering");
		return;
	}
	if (!scen_wait_param(d, VIRGO_PARAM_LIVE_RESOURCES, 0, 10000))
		t_fail(__FILE__, __LINE__, "resources left on the device after the scenario");
	if (!scen_wait_param(d, VIRGO_PARAM_LIVE_HANDLES, 1, 10000))
		t_fail(__FILE__, __LINE__, "handles left open after the scenario");
	scen_close(d);
}

static struct scen_env host_env = {
	.name = "virgo-host",
	.caps = SCEN_CAN_FORK | SCEN_RAW_SOCKET | SCEN_HOST_ERRORS,
	.open = env_open,
	.raw_connect = env_raw,
};

/* Reads the host's stdout until its "ready" line, for at most 30 s. */
static int wait_ready(struct host_proc *h)
{
	char buf[512];
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		struct pollfd p = { h->out, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 30000) <= 0)
			return -1;
		n = read(h->out, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, "ready on") && strchr(buf, '\n')) {
			const char *tcp = strstr(buf, "127.0.0.1:");

			if (tcp)
				h->tcp_port = atoi(tcp + 10);
			return 0;
		}
	}
	return -1;
}

int host_spawn(struct host_proc *h, const char *tag, const char *const *extra)
{
	const char *argv[32];
	int pipefd[2], n = 0;

	memset(h, 0, sizeof(*h));
	h->out = -1;
	snprintf(h->sock, sizeof(h->sock), "/tmp/virgo-scen-%d%s.sock", (int)getpid(), tag);
	argv[n++] = host_exe;
	argv[n++] = "--socket";
	argv[n++] = h->sock;
	argv[n++] = "--tcp";
	argv[n++] = "0";
	argv[n++] = "--log-level";
	argv[n++] = getenv("VIRGO_HOST_LOG") ? getenv("VIRGO_HOST_LOG") : "warn";
	for (int i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (pipe(pipefd) < 0)
		return -1;
	h->pid = fork();
	if (h->pid == 0) {
		/* Under ASan, the host's own leak count is its shutdown verdict:
		 * LeakSanitizer cannot attribute (or suppress) what Mesa's driver
		 * leaves from a module unloaded at exit. */
		setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1", 1);
		/* A runner that dies (a hung test) takes its host along. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(host_exe, (char *const *)argv);
		fprintf(stderr, "run-host: cannot run %s: %s\n", host_exe, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	h->out = pipefd[0];
	if (h->pid < 0 || wait_ready(h)) {
		fprintf(stderr, "run-host: virgo-host did not become ready\n");
		if (h->pid > 0) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
		}
		close(h->out);
		h->out = -1;
		h->pid = 0;
		return -1;
	}
	return 0;
}

int host_stop(struct host_proc *h, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	int status = 0;

	if (!h->pid)
		return -1;
	kill(h->pid, SIGTERM);
	while (len < cap - 1 && (n = read(h->out, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	waitpid(h->pid, &status, 0);
	close(h->out);
	h->out = -1;
	h->pid = 0;
	return status;
}

int host_connect(struct host_proc *h, struct vtp **out)
{
	char spec[160];

	snprintf(spec, sizeof(spec), "unix:%s", h->sock);
	return vtp_open(spec, out);
}

/* The loopback TCP listener Windows programs under Wine use: mappings
 * arrive as a file path instead of a passed descriptor. */
TEST(tcp_transport_renders_the_triangle)
{
	static uint8_t px[SCENE_RT_SIZE];
	struct host_dev *d = calloc(1, sizeof(*d));
	char spec[64], why[200];

	REQUIRE(d != NULL);
	REQUIRE(main_host.tcp_port > 0);
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d", main_host.tcp_port);
	REQUIRE_EQ(vtp_open(spec, &d->t), 0);
	d->base.ops = &host_ops;
	scen_render_triangle(&d->base, px);
	if (scene_triangle_check_full(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
		t_fail(__FILE__, __LINE__, "over TCP: %s", why);
	scen_close(&d->base);
}

/* The host's own verdict at shutdown, as a test. */
static void check_host_shutdown(void)
{
	char buf[1024] = "";
	int status = host_stop(&main_host, buf, sizeof(buf));

	/* host_pid is 0 now: nothing left to check after this test. */
	printf("%s", buf);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		t_fail(__FILE__, __LINE__, "virgo-host did not shut down clean (status %#x)", status);
}


int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: run-host PATH-TO-virgo-host [filter]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	host_exe = argv[1];
	if (host_spawn(&main_host, "", NULL)) {
		if (main_host.pid > 0) {
			kill(main_host.pid, SIGKILL);
			waitpid(main_host.pid, NULL, 0);
		}
		printf("0 passed, 1 failed\n");
		return 1;
	}
	scen = &host_env;
	t_after_each(env_after);
	t_run_all(argc > 2 ? argv[2] : NULL);
	t_run_fn("host_shuts_down_clean", check_host_shutdown);
	return t_summary();
}
