/* SPDX-License-Identifier: MIT */
/* server.h: the UMD transport server. One connection is one open handle of
 * the kernel driver core; requests use the socket encoding of uapi.h. */
#ifndef VIRGO_HOST_SERVER_H
#define VIRGO_HOST_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"

struct server;

struct server_config {
	const char *socket_path;  /* UNIX socket; NULL: none */
	int tcp_port;             /* loopback TCP; 0: none, -1: any free port */
	unsigned max_clients;     /* 0: 256 */
};

int server_start(struct machine *m, const struct server_config *cfg, struct server **out);
int server_tcp_port(struct server *s);
/* Stops accepting, disconnects every client (closing its handle) and
 * frees the server. */
void server_stop(struct server *s);
/* Connected clients; those that left are reaped first. */
unsigned server_clients(struct server *s);
/* Serves one already connected socket on the calling thread, as a
 * connection's thread would, until the client leaves (the fd stays open:
 * the caller closes it). -1 if no handle could be opened. For the
 * transport fuzzer, which has no time for a thread per input. Not while
 * clients connect through the socket: the accept thread opens handles too,
 * and the two would race. */
int server_serve_fd(struct server *s, int fd, bool unix_sock);

#endif
