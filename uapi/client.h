/* SPDX-License-Identifier: MIT */
/*
 * client.h: one open handle of the driver as a socket client sees it: the
 * round trip (roundtrip.h) plus the mappings its MAPs made. The transports
 * (umd/transport: POSIX, Winsock) share this; they supply how a MAP reply
 * becomes memory in their process and how it goes away, and serialise
 * calls (one request at a time is on the wire, as virgo-host answers one
 * request per connection in order).
 *
 * As the driver has, a resource is mapped at most once per handle: a
 * second MAP returns the first mapping without asking the host. A mapping
 * ends with UNMAP, RESOURCE_CLOSE or wire_client_close(). A MAP the host
 * granted that this process then fails to map is undone with an UNMAP, so
 * that the host's record and ours agree.
 */
#ifndef VIRGO_CLIENT_H
#define VIRGO_CLIENT_H

#include <stdint.h>

#include "roundtrip.h"

struct wire_client_ops {
	/* Maps the reply's runs (r, and the file it names in path, empty if
	 * none) one after the other: the address and what unmap needs. 0 or
	 * -VIRGO_E* (the transport says why on stderr). */
	int (*map)(void *ctx, uint32_t handle, const struct wire_map_reply *r, const char *path, uint64_t *addr,
		   void **priv);
	void (*unmap)(void *ctx, uint64_t addr, uint64_t size, void *priv);
	/* The connection was dropped (c->conn.why says why): log it, and shut
	 * the stream so that the host sees it too. */
	void (*dropped)(void *ctx, uint32_t op);
};

struct wire_client_map {
	uint32_t handle;
	uint64_t addr;
	uint64_t size;
	void *priv;
};

struct wire_client {
	struct wire_conn conn;
	const struct wire_client_ops *ops;
	void *ctx;
	uint32_t path_cap;           /* longest file name map() takes, NUL included */
	struct wire_client_map *maps;
	uint32_t nmaps;
};

void wire_client_init(struct wire_client *c, const struct wire_io *io, const struct wire_client_ops *ops,
		      void *ctx, uint32_t slack_ms, uint32_t path_cap);
/* vtp_ioctl over the socket: 0 or -VIRGO_E*. */
int wire_client_ioctl(struct wire_client *c, uint32_t op, void *arg);
/* Undoes every mapping; the connection itself is the transport's. */
void wire_client_close(struct wire_client *c);

#endif
