/* SPDX-License-Identifier: MIT */
/* run_host.h: run-host's way of starting virgo-host, for the tests that
 * need a host of their own (host_faults.c: a host with device faults). */
#ifndef VIRGO_RUN_HOST_H
#define VIRGO_RUN_HOST_H

#include <stddef.h>
#include <sys/types.h>

#include "vtp.h"

struct host_proc {
	pid_t pid;
	int out;            /* its stdout */
	char sock[108];
	int tcp_port;
};

/* Starts the virgo-host run-host was given, on a socket of its own (tag
 * makes the path unique), with extra arguments (NULL-terminated, may be
 * NULL); returns once it is ready. 0 or -1. */
int host_spawn(struct host_proc *h, const char *tag, const char *const *extra);
/* SIGTERM, then everything it printed into buf (NUL-terminated) and its
 * wait status. */
int host_stop(struct host_proc *h, char *buf, size_t cap);
/* A new client (one open handle) of h. 0 or -VIRGO_E*. */
int host_connect(struct host_proc *h, struct vtp **out);
/* The same as a scenario device, for the scen_* helpers. */
struct scen_dev;
int host_open_dev(struct host_proc *h, struct scen_dev **out);

#endif
