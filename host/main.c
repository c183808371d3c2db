/* SPDX-License-Identifier: MIT */
/* virgo-host: one program that plays the VM for the rest of virgo. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <virgo/virtio_gpu.h>
#include <virgo/virtio_ring.h>

#include "log.h"
#include "machine.h"
#include "server.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: virgo-host [options]\n"
		"  --socket PATH      UNIX socket for clients (default $VIRGO_SOCKET, else\n"
		"                     $XDG_RUNTIME_DIR/virgo.sock, else /tmp/virgo-UID.sock)\n"
		"  --tcp PORT         also listen on 127.0.0.1:PORT (0: a free port), for Wine\n"
		"  --log-level LEVEL  error, warn (default), info or debug\n"
		"  --ram MIB          guest RAM size (default 256)\n"
		"  --intx             use the INTx line instead of MSI-X\n"
		"  --no-blob          do not offer RESOURCE_BLOB\n"
		"  --no-context-init  do not offer CONTEXT_INIT\n"
		"  --queue-size N     controlq size (power of two, default 256)\n"
		"  --max-hostmem MIB  host memory the guest's resources may take, by their\n"
		"                     sizes (default 4096); past it creates are refused\n"
		"  --cmd-timeout MS   the guest kernel's command and fence-stall timeout\n"
		"                     (default 5000; longer for hosts under valgrind)\n"
		"  --faults LIST      reliability tests only: inject device faults, LIST is\n"
		"                     drop=N,err=N,delay=N:MS,stop=N,after=N,seed=N (rates per\n"
		"                     mille; stop: the device stops after N commands until a\n"
		"                     reset; after: the first N commands are spared)\n"
		"  --help\n"
		"SIGINT/SIGTERM stop it; SIGUSR1 prints what is live (clients, kernel objects,\n"
		"guest pages, device objects) on one line.\n");
}

/* SIGUSR1: what is live now, in one line (tests/soak reads it). Free
 * memory the allocator keeps (glibc's per-thread arenas) goes back to the
 * system first, so that the process's RSS shows what is in use. */
static void print_live(struct machine *m, struct server *srv)
{
	const struct posix_counts *n = &m->os.n; /* counted atomically (os_host.c) */
	struct vgpu_stats vs;

	malloc_trim(0);
	vgpu_get_stats(m->vgpu, &vs);
	printf("virgo-host: live: %u clients, %lld allocs, %lld dma, %lld backings, %lld user maps, "
	       "%llu guest pages used; device: %u contexts, %u resources, %u held answers, %llu bytes of "
	       "host memory charged\n",
	       server_clients(srv), (long long)__atomic_load_n(&n->allocs, __ATOMIC_RELAXED),
	       (long long)__atomic_load_n(&n->dma, __ATOMIC_RELAXED),
	       (long long)__atomic_load_n(&n->pages, __ATOMIC_RELAXED),
	       (long long)__atomic_load_n(&n->maps, __ATOMIC_RELAXED),
	       (unsigned long long)ram_used_pages(&m->ram), vs.contexts, vs.resources, vs.held,
	       (unsigned long long)vs.hostmem);
	fflush(stdout);
}

static void default_socket(char *buf, size_t len)
{
	const char *env = getenv("VIRGO_SOCKET"), *xdg = getenv("XDG_RUNTIME_DIR");

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (xdg && *xdg)
		snprintf(buf, len, "%s/virgo.sock", xdg);
	else
		snprintf(buf, len, "/tmp/virgo-%u.sock", (unsigned)getuid());
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, 0, 's' }, { "tcp", required_argument, 0, 't' },
		{ "log-level", required_argument, 0, 'l' }, { "ram", required_argument, 0, 'r' },
		{ "intx", no_argument, 0, 'i' }, { "no-blob", no_argument, 0, 'b' },
		{ "no-context-init", no_argument, 0, 'c' }, { "queue-size", required_argument, 0, 'q' },
		{ "faults", required_argument, 0, 'f' }, { "max-hostmem", required_argument, 0, 'm' },
		{ "cmd-timeout", required_argument, 0, 'T' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	struct machine_config mc = { 0 };
	struct server_config sc = { 0 };
	struct machine m;
	struct server *srv;
	struct vgpu_stats vs;
	struct posix_counts n;
	char sock[256] = "";
	sigset_t sigs;
	int opt, sig, ret, leaks;
	uint64_t faults;
	bool tcp = false;

	mc.features = VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID) |
		      VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': snprintf(sock, sizeof(sock), "%s", optarg); break;
		case 't': sc.tcp_port = atoi(optarg); tcp = true; break;
		case 'l':
			hlog_level = hlog_parse_level(optarg);
			if (hlog_level < 0) {
				fprintf(stderr, "virgo-host: unknown log level '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r': mc.ram_size = strtoull(optarg, NULL, 10) << 20; break;
		case 'i': mc.intx = true; break;
		case 'b': mc.features &= ~VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB); break;
		case 'c': mc.features &= ~VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT); break;
		case 'q': mc.queue_size = (uint16_t)atoi(optarg); break;
		case 'm': {
			char *end;
			unsigned long long mib = strtoull(optarg, &end, 10);

			if (*end || !mib || mib > (1ull << 30)) {
				fprintf(stderr, "virgo-host: --max-hostmem wants a size in MiB, not '%s'\n", optarg);
				return 2;
			}
			mc.max_hostmem = mib << 20;
			break;
		}
		case 'T': {
			char *end;
			unsigned long long ms = strtoull(optarg, &end, 10);

			if (*end || !ms || ms > 3600000) {
				fprintf(stderr, "virgo-host: --cmd-timeout wants milliseconds, not '%s'\n", optarg);
				return 2;
			}
			mc.cmd_timeout_ns = ms * 1000000ull;
			break;
		}
		case 'f':
			if (vgpu_faults_parse(optarg, &mc.faults)) {
				fprintf(stderr, "virgo-host: bad --faults list '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (mc.queue_size && (mc.queue_size & (mc.queue_size - 1))) {
		fprintf(stderr, "virgo-host: --queue-size must be a power of two\n");
		return 2;
	}
	if (!sock[0])
		default_socket(sock, sizeof(sock));
	sc.socket_path = sock;
	if (tcp && sc.tcp_port == 0)
		sc.tcp_port = -1;
	/* Signals are taken by this thread alone, with sigwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = machine_start(&m, &mc);
	if (ret) {
		fprintf(stderr, "virgo-host: the machine did not start (%s)\n", strerror(-ret));
		return 1;
	}
	ret = server_start(&m, &sc, &srv);
	if (ret) {
		fprintf(stderr, "virgo-host: cannot serve clients (%s)\n", strerror(-ret));
		machine_stop(&m);
		return 1;
	}
	if (tcp)
		printf("virgo-host: ready on %s and 127.0.0.1:%d\n", sock, server_tcp_port(srv));
	else
		printf("virgo-host: ready on %s\n", sock);
	fflush(stdout);
	while (!sigwait(&sigs, &sig) && sig == SIGUSR1)
		print_live(&m, srv);
	hlog(HLOG_INFO, "signal %d: shutting down", sig);
	server_stop(srv);
	vgpu_get_stats(m.vgpu, &vs);
	machine_stop(&m);
	machine_counts(&m, &n);
	leaks = (int)(n.allocs + n.dma + n.pages + n.mmio + n.spins + n.mutexes + n.waitqs);
	printf("virgo-host: shutdown: %llu commands, %llu errors, %llu bad chains; live after stop: "
	       "%d kernel objects, %u device contexts, %u device resources; %lld rule violations\n",
	       (unsigned long long)vs.commands, (unsigned long long)vs.errors, (unsigned long long)vs.bad_chains,
	       leaks, vs.contexts, vs.resources, (long long)n.violations);
	faults = vs.dropped + vs.delayed + vs.injected_errs + vs.stops;
	if (faults)
		printf("virgo-host: faults injected: %llu answers dropped, %llu delayed, %llu ERR answers, "
		       "%u device stops\n", (unsigned long long)vs.dropped, (unsigned long long)vs.delayed,
		       (unsigned long long)vs.injected_errs, vs.stops);
	/* A device that refused (or never saw) a destroy keeps the object
	 * until its reset, which machine_stop does: with faults injected only
	 * the kernel side must be clean. */
	return leaks || n.violations || (!faults && (vs.contexts || vs.resources)) ? 3 : 0;
}
