/* SPDX-License-Identifier: MIT */
/*
 * The scenario runner inside a Linux guest on QEMU's virtio-gpu-gl: the KMD
 * core drives the real device as a user-space PCI driver (kmd/uio), and each
 * scenario handle is a core_open() in this process, as a Windows process's
 * handle is one in the kernel. The runner cannot fork clients or speak the
 * socket transport, so caps is 0 and those scenarios skip.
 *
 * After every scenario, nothing it created may outlive it (device
 * resources, handles, backings, user mappings). At the end the device is
 * stopped and every kernel object counted back to zero, with no execution
 * rule broken, as one more test; another one checks that backings really
 * reached the device as scatter-gather lists.
 *
 *   scenarios-guest [filter]
 *
 * Environment:
 *   VIRGO_UIO_BDF          the PCI function (default: the first 1af4:1050)
 *   VIRGO_UIO_HUGEPAGES    2 MiB pages for the DMA arena (default: every free one)
 *   VIRGO_UIO_LAYOUT       scatter (default) or natural, see uio_machine.h
 *   VIRGO_UIO_LOG          err, warn, info (default) or debug: the core's log
 *   VIRGO_UIO_FIRST_FENCE  the core's first fence number (a number below
 *                          2^31 puts QEMU's 31-bit wire wrap inside the run)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scen.h"
#include "uio_machine.h"

struct guest_dev {
	struct scen_dev base;
	struct core_file *f;
	struct os_caller caller;
};

static struct uio_machine machine;
static const char *filter;
static bool machine_up;
static int64_t violations_seen;

/* METHOD_BUFFERED, as the I/O manager does it: the core works on a kernel
 * copy of the struct, and the out fields go back on success. */
static int dev_ioctl(struct scen_dev *d, uint32_t op, void *arg)
{
	struct guest_dev *g = (struct guest_dev *)d;
	uint64_t karg[16] = { 0 };
	uint32_t n = virgo_op_arg_size(op);
	int ret;

	if (n > sizeof(karg))
		return -VIRGO_EINVAL;
	memcpy(karg, arg, n);
	ret = core_ioctl(g->f, &g->caller, op, karg, n);
	if (!ret)
		memcpy(arg, karg, n);
	return ret;
}

/* CLEANUP in the owning process, then the last CLOSE. */
static void dev_close(struct scen_dev *d)
{
	struct guest_dev *g = (struct guest_dev *)d;

	core_cleanup(g->f, &g->caller);
	core_close(g->f);
	if (g->caller.maps)
		t_fail(__FILE__, __LINE__, "%lld user mappings left after cleanup", (long long)g->caller.maps);
	free(g);
}

static const struct scen_dev_ops guest_ops = { dev_ioctl, dev_close };

static int env_open(struct scen_env *env, struct scen_dev **out)
{
	struct guest_dev *g = calloc(1, sizeof(*g));
	int ret;

	(void)env;
	if (!g)
		return -VIRGO_ENOMEM;
	ret = core_open(machine.gpu, &g->f);
	if (ret) {
		free(g);
		return ret;
	}
	g->base.ops = &guest_ops;
	*out = &g->base;
	return 0;
}

static int env_reset(struct scen_env *env)
{
	(void)env;
	return uio_machine_reset(&machine);
}

static struct scen_env guest_env = {
	.name = "qemu-guest",
	.caps = 0,
	.open = env_open,
	.reset = env_reset,
};

/* After every scenario: nothing it created may outlive it. No REQUIRE
 * here: this runs inside the test's accounting, after the test body. */
static void env_after(bool failed)
{
	struct posix_counts n;
	struct scen_dev *d;

	(void)failed;
	if (!machine_up)
		return;
	if (env_open(scen, &d)) {
		t_fail(__FILE__, __LINE__, "the core refused a new handle after the scenario");
		return;
	}
	if (!scen_wait_param(d, VIRGO_PARAM_LIVE_RESOURCES, 0, 5000))
		t_fail(__FILE__, __LINE__, "resources left on the device after the scenario");
	if (!scen_wait_param(d, VIRGO_PARAM_LIVE_HANDLES, 1, 5000))
		t_fail(__FILE__, __LINE__, "handles left open after the scenario");
	scen_close(d);
	uio_machine_counts(&machine, &n, NULL);
	if (n.pages)
		t_fail(__FILE__, __LINE__, "%lld backings left allocated after the scenario", (long long)n.pages);
	if (n.maps)
		t_fail(__FILE__, __LINE__, "%lld user mappings left after the scenario", (long long)n.maps);
	if (n.violations != violations_seen) {
		t_fail(__FILE__, __LINE__, "%lld execution-rule violations in the scenario",
		       (long long)(n.violations - violations_seen));
		violations_seen = n.violations;
	}
}

static void check_scatter_gather(void)
{
	struct uio_sg_stats sg;

	uio_machine_counts(&machine, NULL, &sg);
	printf("  backings: %llu, %llu of them scatter-gather, %llu runs in all, at most %u runs in one, "
	       "largest %llu KiB\n",
	       (unsigned long long)sg.allocs, (unsigned long long)sg.multi_run, (unsigned long long)sg.runs,
	       sg.max_runs, (unsigned long long)(sg.max_bytes >> 10));
	if (machine.os.layout != UIO_LAYOUT_SCATTER) {
		t_skip("natural layout: scatter-gather only where the guest kernel's pages fell so");
		return;
	}
	if (filter) {
		t_skip("only some scenarios ran (filter %s)", filter);
		return;
	}
	CHECK(sg.multi_run > 0);
	CHECK(sg.max_runs >= 8);
}

static void check_shutdown(void)
{
	struct posix_counts n;
	uint64_t irqs, not_ours, rescues;

	machine_up = false;
	uio_machine_stop(&machine);
	/* The interrupt thread is gone: its counters hold still. */
	n = machine.os.n;
	irqs = machine.irqs;
	not_ours = machine.irqs_not_ours;
	rescues = machine.unmask_rescues;
	printf("  interrupts: %llu (%llu not the device's), INTx found masked and unmasked by the watchdog: %llu\n",
	       (unsigned long long)irqs, (unsigned long long)not_ours, (unsigned long long)rescues);
	CHECK_EQ(rescues, 0); /* every interrupt's unmask took effect */
	CHECK_EQ(n.allocs, 0);
	CHECK_EQ(n.dma, 0);
	CHECK_EQ(n.pages, 0);
	CHECK_EQ(n.mmio, 0);
	CHECK_EQ(n.spins, 0);
	CHECK_EQ(n.mutexes, 0);
	CHECK_EQ(n.waitqs, 0);
	CHECK_EQ(n.maps, 0);
	CHECK_EQ(n.violations, 0);
}

static int log_level(const char *s)
{
	if (!s)
		return OS_LOG_INFO;
	if (!strcmp(s, "err") || !strcmp(s, "error"))
		return OS_LOG_ERR;
	if (!strcmp(s, "warn"))
		return OS_LOG_WARN;
	if (!strcmp(s, "debug"))
		return OS_LOG_DEBUG;
	return OS_LOG_INFO;
}

int main(int argc, char **argv)
{
	struct uio_config cfg = { 0 };
	const char *layout = getenv("VIRGO_UIO_LAYOUT"), *s;
	struct timespec t0, t1;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Which QEMU: the messages say so (run-qemu.sh passes virgo.name). */
	if ((s = getenv("VIRGO_SCEN_NAME")) && *s)
		guest_env.name = s;
	cfg.bdf = getenv("VIRGO_UIO_BDF");
	cfg.huge_pages = (s = getenv("VIRGO_UIO_HUGEPAGES")) ? (uint32_t)strtoul(s, NULL, 0) : 0;
	cfg.layout = layout && !strcmp(layout, "natural") ? UIO_LAYOUT_NATURAL : UIO_LAYOUT_SCATTER;
	cfg.log_level = log_level(getenv("VIRGO_UIO_LOG"));
	cfg.params.first_fence = (s = getenv("VIRGO_UIO_FIRST_FENCE")) ? strtoull(s, NULL, 0) : 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = uio_machine_start(&machine, &cfg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret) {
		fprintf(stderr, "scenarios-guest: the device did not start (%d)\n", ret);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	printf("scenarios-guest: core up on %s in %.0f ms%s%s\n", machine.bdf,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	       cfg.params.first_fence ? ", first fence " : "", cfg.params.first_fence ? getenv("VIRGO_UIO_FIRST_FENCE") : "");
	machine_up = true;
	scen = &guest_env;
	t_after_each(env_after);
	filter = argc > 1 && argv[1][0] ? argv[1] : NULL;
	t_run_all(filter);
	t_run_fn("guest_backings_were_scatter_gather", check_scatter_gather);
	t_run_fn("guest_shuts_down_clean", check_shutdown);
	return t_summary();
}
