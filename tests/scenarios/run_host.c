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

#include "scen.h"
#include "scene_triangle.h"
#include "vtp.h"

struct host_dev {
	struct scen_dev base;
	struct vtp *t;
};

static char sock_path[108];
static int tcp_port;
static pid_t host_pid;
static int host_out = -1;

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

static int env_open(struct scen_env *env, struct scen_dev **out)
{
	struct host_dev *d = calloc(1, sizeof(*d));
	char spec[128];
	int ret;

	(void)env;
	if (!d)
		return -VIRGO_ENOMEM;
	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	ret = vtp_open(spec, &d->t);
	if (ret) {
		free(d);
		return ret;
	}
	d->base.ops = &host_ops;
	*out = &d->base;
	return 0;
}

static int env_raw(struct scen_env *env)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)env;
	strcpy(a.sun_path, sock_path);
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
	if (!host_pid)
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
static int wait_ready(void)
{
	char buf[512];
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		struct pollfd p = { host_out, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 30000) <= 0)
			return -1;
		n = read(host_out, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, "ready on") && strchr(buf, '\n')) {
			const char *tcp = strstr(buf, "127.0.0.1:");

			if (tcp)
				tcp_port = atoi(tcp + 10);
			return 0;
		}
	}
	return -1;
}

static int start_host(const char *exe)
{
	int pipefd[2];

	snprintf(sock_path, sizeof(sock_path), "/tmp/virgo-scen-%d.sock", (int)getpid());
	if (pipe(pipefd) < 0)
		return -1;
	host_pid = fork();
	if (host_pid == 0) {
		/* Under ASan, the host's own leak count is its shutdown verdict:
		 * LeakSanitizer cannot attribute (or suppress) what Mesa's driver
		 * leaves from a module unloaded at exit. */
		setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1", 1);
		/* A runner that dies (a hung test) takes its host along. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(exe, exe, "--socket", sock_path, "--tcp", "0", "--log-level",
		      getenv("VIRGO_HOST_LOG") ? getenv("VIRGO_HOST_LOG") : "warn", (char *)NULL);
		fprintf(stderr, "run-host: cannot run %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	host_out = pipefd[0];
	if (host_pid < 0 || wait_ready()) {
		fprintf(stderr, "run-host: virgo-host did not become ready\n");
		return -1;
	}
	return 0;
}

/* The loopback TCP listener Windows programs under Wine use: mappings
 * arrive as a file path instead of a passed descriptor. */
TEST(tcp_transport_renders_the_triangle)
{
	static uint8_t px[SCENE_RT_SIZE];
	struct host_dev *d = calloc(1, sizeof(*d));
	char spec[64], why[200];

	REQUIRE(d != NULL);
	REQUIRE(tcp_port > 0);
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d", tcp_port);
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
	size_t len = 0;
	ssize_t n;
	int status = 0;

	kill(host_pid, SIGTERM);
	while (len < sizeof(buf) - 1 && (n = read(host_out, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	waitpid(host_pid, &status, 0);
	host_pid = 0; /* nothing left to check after this test */
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
	if (start_host(argv[1])) {
		if (host_pid > 0) {
			kill(host_pid, SIGKILL);
			waitpid(host_pid, NULL, 0);
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
