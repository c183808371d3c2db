/* SPDX-License-Identifier: MIT */
/* virgo-host: one program that plays the VM for the rest of virgo. */
#include <errno.h>
#include <getopt.h>
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
		"  --help\n");
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
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	struct machine_config mc = { 0 };
	struct server_config sc = { 0 };
	struct machine m;
	struct server *srv;
	struct vgpu_stats vs;
	struct os_counts n;
	char sock[256] = "";
	sigset_t sigs;
	int opt, sig, ret, leaks;
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
	sigwait(&sigs, &sig);
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
	return leaks || n.violations || vs.contexts || vs.resources ? 3 : 0;
}
