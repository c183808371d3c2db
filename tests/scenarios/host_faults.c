/* SPDX-License-Identifier: MIT */
/*
 * Device faults, on virgo-host only: each test starts a host of its own
 * with `--faults` (host/vgpu.h, struct vgpu_faults) and drives clients
 * through the uAPI as a user-mode driver does:
 *  - answers dropped: the command ran, its answer never comes;
 *  - answers delayed;
 *  - ERR_* answers to random commands, which then do not run;
 *  - the device stopping: nothing answered any more until a reset.
 * What must hold under every one of them: every request returns (a wait
 * after its timeout, any other request within the core's 5 s command
 * timeout), with success or an error the uAPI documents (EDEVLOST once
 * the device is lost, never a hang or a crash); a client that saw
 * EDEVLOST reopens, which resets the device, and the new handle works;
 * closing handles frees everything in the core (LIVE_RESOURCES back to
 * 0); and the host shuts down with no kernel object left and no
 * execution-rule violation.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "run_host.h"
#include "scen.h"
#include "scene_triangle.h"

#define SEC_NS 1000000000ull
/* The core's command timeout (5 s) plus slack for a loaded machine under
 * ASan: no request may take longer than this on top of its own wait. */
#define BOUND_NS (12 * SEC_NS)
#define WAIT_NS (1 * SEC_NS)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC_NS + (uint64_t)ts.tv_nsec;
}

struct fstats {
	unsigned calls, ok, timedout, lost, refused, other;
	int other_err;
	uint32_t other_op;
	uint64_t max_ns;
	uint32_t max_op;
	unsigned reopens;
	uint64_t busy_since;    /* when the request under way started; 0: none */
};

/* One request; its outcome and time are counted. */
static int op(struct vtp *t, uint32_t opc, void *arg, struct fstats *st)
{
	uint64_t t0 = now_ns(), dt;
	int r;

	__atomic_store_n(&st->busy_since, t0, __ATOMIC_RELEASE);
	r = vtp_ioctl(t, opc, arg);
	__atomic_store_n(&st->busy_since, 0, __ATOMIC_RELEASE);
	dt = now_ns() - t0;
	if (dt > st->max_ns) {
		st->max_ns = dt;
		st->max_op = opc;
	}
	st->calls++;
	switch (r) {
	case 0: st->ok++; break;
	case -VIRGO_ETIMEDOUT: st->timedout++; break;
	case -VIRGO_EDEVLOST: st->lost++; break;
	case -VIRGO_EIO:
	case -VIRGO_EINVAL:
	case -VIRGO_ENOMEM:
	case -VIRGO_EPROTO:
	case -VIRGO_EBUSY:
		st->refused++;
		break;
	default:
		st->other++;
		st->other_err = r;
		st->other_op = opc;
		break;
	}
	return r;
}

/* A resource's life as a driver lives it: create, map and write, upload,
 * a submit naming it, its fence, the resource idle, close. Every failure
 * is tolerated (counted); -VIRGO_EDEVLOST is returned so the caller
 * reopens. */
static int work_once(struct vtp *t, struct fstats *st)
{
	static const uint32_t nops[4] = { 0 };
	struct virgo_resource_create rc = { .target = 0, .format = 64, .bind = VENC_BIND_VERTEX_BUFFER,
					    .width = 16384, .height = 1, .depth = 1, .array_size = 1,
					    .size = 16384 };
	struct virgo_map m;
	struct virgo_transfer tr;
	struct virgo_execbuffer x;
	struct virgo_fence_wait fw;
	struct virgo_wait w;
	struct virgo_resource_close c;
	int r, lost = 0;

#define NOTE(expr) do { r = (expr); if (r == -VIRGO_EDEVLOST) lost = r; } while (0)
	NOTE(op(t, VIRGO_OP_RESOURCE_CREATE, &rc, st));
	if (r)
		return lost;
	m = (struct virgo_map){ .bo_handle = rc.bo_handle };
	NOTE(op(t, VIRGO_OP_MAP, &m, st));
	if (!r)
		memset((void *)(uintptr_t)m.addr, 0x5a, 16384);
	tr = (struct virgo_transfer){ .bo_handle = rc.bo_handle, .box = { 0, 0, 0, 16384, 1, 1 } };
	NOTE(op(t, VIRGO_OP_TRANSFER_TO_HOST, &tr, st));
	x = (struct virgo_execbuffer){ .size = sizeof(nops), .command = (uint64_t)(uintptr_t)nops,
				       .bo_handles = (uint64_t)(uintptr_t)&rc.bo_handle, .num_bo_handles = 1 };
	NOTE(op(t, VIRGO_OP_EXECBUFFER, &x, st));
	if (!r) {
		fw = (struct virgo_fence_wait){ .fence = x.fence, .timeout_ns = WAIT_NS };
		NOTE(op(t, VIRGO_OP_FENCE_WAIT, &fw, st));
	}
	w = (struct virgo_wait){ .bo_handle = rc.bo_handle, .timeout_ns = WAIT_NS };
	NOTE(op(t, VIRGO_OP_WAIT, &w, st));
	c = (struct virgo_resource_close){ .bo_handle = rc.bo_handle };
	NOTE(op(t, VIRGO_OP_RESOURCE_CLOSE, &c, st));
#undef NOTE
	return lost;
}

/* A new handle of h (virgo-host resets a lost device on open). */
static struct vtp *connect_or_fail(struct host_proc *h)
{
	struct vtp *t = NULL;
	int r = host_connect(h, &t);

	if (r) {
		t_fail(__FILE__, __LINE__, "cannot open a handle (%d)", r);
		return NULL;
	}
	return t;
}

/* Runs work_once over nclients handles in turn for secs seconds (or
 * iters rounds, if fewer). A handle that reports EDEVLOST is closed and
 * reopened. */
static void run_clients(struct host_proc *h, unsigned nclients, unsigned secs, unsigned iters, struct fstats *st)
{
	struct vtp *t[8] = { 0 };
	uint64_t end = now_ns() + (uint64_t)secs * SEC_NS;

	for (unsigned i = 0; i < nclients; i++) {
		t[i] = connect_or_fail(h);
		if (!t[i])
			goto out;
	}
	for (unsigned it = 0; it < iters && now_ns() < end && !t_failed(); it++) {
		for (unsigned i = 0; i < nclients; i++) {
			if (work_once(t[i], st) == -VIRGO_EDEVLOST) {
				vtp_close(t[i]);
				st->reopens++;
				t[i] = connect_or_fail(h);
				if (!t[i])
					goto out;
			}
		}
	}
out:
	for (unsigned i = 0; i < nclients; i++)
		if (t[i])
			vtp_close(t[i]);
}

static void print_stats(const char *what, const struct fstats *st)
{
	printf("  %s: %u requests: %u ok, %u timed out, %u EDEVLOST, %u refused, %u other; %u reopens; "
	       "slowest %.2f s (op %u)\n",
	       what, st->calls, st->ok, st->timedout, st->lost, st->refused, st->other, st->reopens,
	       (double)st->max_ns / 1e9, st->max_op);
}

static void check_stats(const struct fstats *st)
{
	if (st->other)
		t_fail(__FILE__, __LINE__, "op %u returned %d, not an error the uAPI documents for this",
		       st->other_op, st->other_err);
	if (st->max_ns > WAIT_NS + BOUND_NS)
		t_fail(__FILE__, __LINE__, "op %u took %.1f s", st->max_op, (double)st->max_ns / 1e9);
}

/* A new client renders the triangle exactly: the device works. */
static void check_renders(struct host_proc *h, const char *when)
{
	static uint8_t px[SCENE_RT_SIZE];
	struct scen_dev *d = NULL;
	char why[200];
	int r = host_open_dev(h, &d);

	if (r) {
		t_fail(__FILE__, __LINE__, "%s: cannot open a handle (%d)", when, r);
		return;
	}
	scen_render_triangle(d, px);
	if (scene_triangle_check_full(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
		t_fail(__FILE__, __LINE__, "%s: %s", when, why);
	scen_close(d);
}

/* Every handle closed: nothing of theirs is left in the core. */
static void check_nothing_live(struct host_proc *h)
{
	struct vtp *t = connect_or_fail(h);

	if (!t)
		return;
	for (int i = 0; i < 500; i++) {
		struct virgo_get_param p = { .param = VIRGO_PARAM_LIVE_RESOURCES };
		struct virgo_get_param q = { .param = VIRGO_PARAM_LIVE_HANDLES };

		if (!vtp_ioctl(t, VIRGO_OP_GET_PARAM, &p) && !vtp_ioctl(t, VIRGO_OP_GET_PARAM, &q) && p.value == 0 &&
		    q.value == 1)
			break;
		if (i == 499)
			t_fail(__FILE__, __LINE__, "after every client closed: %llu resources, %llu handles live",
			       (unsigned long long)p.value, (unsigned long long)q.value);
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	vtp_close(t);
}

/* Stops the host: it must exit 0 (no kernel object left, no violation;
 * device objects a fault kept are the device's and go with its reset). */
static void check_shutdown(struct host_proc *h)
{
	char buf[2048];
	int status = host_stop(h, buf, sizeof(buf));
	const char *line = strstr(buf, "virgo-host: faults injected");

	if (line)
		printf("  %.*s\n", (int)strcspn(line, "\n"), line);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("%s", buf);
		t_fail(__FILE__, __LINE__, "virgo-host did not shut down clean (status %#x)", status);
	}
}

static bool start(struct host_proc *h, const char *tag, const char *faults)
{
	/* The core logs every refused command at warn: thousands of lines
	 * (VIRGO_HOST_LOG, as for the suite's host, says otherwise). */
	const char *args[] = { "--faults", faults, "--log-level", "error", NULL };

	if (getenv("VIRGO_HOST_LOG"))
		args[2] = NULL;

	if (host_spawn(h, tag, args)) {
		t_fail(__FILE__, __LINE__, "virgo-host --faults %s did not start", faults);
		return false;
	}
	return true;
}

/* 5% of the answers never come. A fenced answer lost: that fence's wait
 * times out. Any other: the core gives up on the command after 5 s and
 * declares the device lost; every handle gets EDEVLOST, the clients
 * reopen, and the reset on open brings the device back. */
TEST(fault_dropped_answers)
{
	struct host_proc h;
	struct fstats st = { 0 };

	if (!start(&h, "-drop", "drop=50,after=20,seed=7"))
		return;
	run_clients(&h, 2, 25, 400, &st);
	print_stats("answers dropped", &st);
	check_stats(&st);
	CHECK(st.ok > 0);
	CHECK(st.lost + st.timedout > 0);
	CHECK_EQ(st.lost > 0, st.reopens > 0);
	check_nothing_live(&h);
	check_shutdown(&h);
}

/* 30% of the answers come 40 ms late: nothing fails, and the pixels are
 * exact. */
TEST(fault_delayed_answers)
{
	struct host_proc h;
	struct fstats st = { 0 };

	if (!start(&h, "-delay", "delay=300:40,after=20,seed=3"))
		return;
	run_clients(&h, 2, 30, 30, &st);
	print_stats("answers delayed", &st);
	check_stats(&st);
	CHECK_EQ(st.ok, st.calls);
	check_renders(&h, "with answers delayed");
	check_nothing_live(&h);
	check_shutdown(&h);
}

/* 10% of the commands answered with a random ERR_*, not run: requests
 * fail with the error the answer maps to (fenced ones at their fence),
 * the device is never lost, and closing frees everything. */
TEST(fault_err_answers)
{
	struct host_proc h;
	struct fstats st = { 0 };

	if (!start(&h, "-err", "err=100,after=20,seed=11"))
		return;
	run_clients(&h, 3, 30, 60, &st);
	print_stats("ERR answers", &st);
	check_stats(&st);
	CHECK(st.ok > 0);
	CHECK(st.refused > 0);
	CHECK_EQ(st.lost, 0);
	CHECK_EQ(st.timedout, 0);
	check_nothing_live(&h);
	check_shutdown(&h);
}

struct stop_worker {
	struct vtp *t;
	struct fstats st;
	int r;
	bool done;
};

static void *stop_work(void *arg)
{
	struct stop_worker *w = arg;

	for (int i = 0; i < 400 && w->r != -VIRGO_EDEVLOST; i++)
		w->r = work_once(w->t, &w->st);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Three resources, mapped, and fenced work naming them. */
static void busy_client(struct vtp *t, struct fstats *st)
{
	static const uint32_t nops[4] = { 0 };
	uint32_t bos[3];

	for (int i = 0; i < 3; i++) {
		struct virgo_resource_create rc = { .target = 0, .format = 64, .bind = VENC_BIND_VERTEX_BUFFER,
						    .width = 65536, .height = 1, .depth = 1, .array_size = 1,
						    .size = 65536 };
		struct virgo_map m;

		REQUIRE_EQ(op(t, VIRGO_OP_RESOURCE_CREATE, &rc, st), 0);
		m = (struct virgo_map){ .bo_handle = rc.bo_handle };
		REQUIRE_EQ(op(t, VIRGO_OP_MAP, &m, st), 0);
		bos[i] = rc.bo_handle;
	}
	struct virgo_execbuffer x = { .size = sizeof(nops), .command = (uint64_t)(uintptr_t)nops,
				      .bo_handles = (uint64_t)(uintptr_t)bos, .num_bo_handles = 3 };

	REQUIRE_EQ(op(t, VIRGO_OP_EXECBUFFER, &x, st), 0);
}

/* The device stops answering anything after 400 commands, while one
 * client is busy. The request under way ends with EDEVLOST after the
 * core's command timeout; meanwhile another client's fence wait (30 s
 * allowed) ends with it rather than at its own timeout, a third client
 * with resources mapped and work in flight closes, and an idle handle
 * learns of the loss at its next request. A new client resets the device
 * and renders exactly; the old handles close cleanly and nothing stays
 * live. */
TEST(fault_device_stops)
{
	static const uint32_t nops[4] = { 0 };
	struct host_proc h;
	struct fstats st = { 0 }, idle = { 0 };
	struct stop_worker w = { 0 };
	struct vtp *b = NULL, *c = NULL, *d = NULL;
	struct virgo_get_param p = { .param = VIRGO_PARAM_3D_FEATURES };
	pthread_t thr;
	bool thr_up = false;
	uint64_t t0;

	if (!start(&h, "-stop", "stop=400"))
		return;
	w.t = connect_or_fail(&h);
	b = connect_or_fail(&h);
	c = connect_or_fail(&h);
	d = connect_or_fail(&h);
	if (!w.t || !b || !c || !d)
		goto out;
	busy_client(c, &st);
	busy_client(d, &st);
	REQUIRE_EQ(pthread_create(&thr, NULL, stop_work, &w), 0);
	thr_up = true;
	/* Stopped: a request of the worker has been under way for 300 ms. */
	for (;;) {
		uint64_t since = __atomic_load_n(&w.st.busy_since, __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&w.done, __ATOMIC_ACQUIRE) || (since && now_ns() - since > 300000000ull))
			break;
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	CHECK(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
	/* New work is still taken (the device has not been declared lost
	 * yet); waiting for it ends with the loss, long before 30 s. */
	{
		struct virgo_execbuffer x = { .size = sizeof(nops), .command = (uint64_t)(uintptr_t)nops };
		struct virgo_fence_wait fw;
		int r = op(c, VIRGO_OP_EXECBUFFER, &x, &st);

		CHECK(r == 0 || r == -VIRGO_EDEVLOST);
		if (!r) {
			fw = (struct virgo_fence_wait){ .fence = x.fence, .timeout_ns = 30 * SEC_NS };
			t0 = now_ns();
			CHECK_EQ(op(c, VIRGO_OP_FENCE_WAIT, &fw, &st), -VIRGO_EDEVLOST);
			CHECK(now_ns() - t0 < BOUND_NS);
		}
	}
	/* A client with everything in flight goes away. */
	vtp_close(d);
	d = NULL;
	pthread_join(thr, NULL);
	thr_up = false;
	print_stats("device stopped (the busy client)", &w.st);
	check_stats(&w.st);
	check_stats(&st);
	CHECK_EQ(w.r, -VIRGO_EDEVLOST);
	/* The idle handle is lost too, at once. */
	CHECK_EQ(op(b, VIRGO_OP_GET_PARAM, &p, &idle), -VIRGO_EDEVLOST);
	CHECK(idle.max_ns < SEC_NS);
	/* A new client: the device is reset and works. */
	check_renders(&h, "after the device stopped and was reset");
	/* The old handles still say lost, and close cleanly. */
	CHECK_EQ(op(c, VIRGO_OP_GET_PARAM, &p, &idle), -VIRGO_EDEVLOST);
out:
	if (thr_up)
		pthread_join(thr, NULL);
	if (w.t)
		vtp_close(w.t);
	if (b)
		vtp_close(b);
	if (c)
		vtp_close(c);
	if (d)
		vtp_close(d);
	check_nothing_live(&h);
	check_shutdown(&h);
}

/* All of them at once, four clients. */
TEST(fault_mixed)
{
	struct host_proc h;
	struct fstats st = { 0 };

	if (!start(&h, "-mix", "drop=10,err=30,delay=100:20,after=20,seed=5"))
		return;
	run_clients(&h, 4, 25, 200, &st);
	print_stats("mixed faults", &st);
	check_stats(&st);
	CHECK(st.ok > 0);
	check_nothing_live(&h);
	check_shutdown(&h);
}
