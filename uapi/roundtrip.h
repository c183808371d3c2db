/* SPDX-License-Identifier: MIT */
/*
 * roundtrip.h: one uAPI request and its reply over a byte stream (the
 * socket encoding of wire.h), with the checks and the deadline that every
 * socket client needs. The transport supplies the stream as callbacks
 * (umd/transport: POSIX sockets, Winsock); nothing here is OS-specific.
 *
 * Hangs. Every request has a deadline: the op's own wait (WAIT, FENCE_WAIT:
 * its timeout, capped as the driver caps it) plus the connection's slack
 * (VIRGO_TRANSPORT_TIMEOUT_MS, default 30 s: more than any request the
 * driver bounds by its 5 s command timeout). A host that misses it, closes
 * the connection or breaks the protocol is dropped: that request fails with
 * -VIRGO_EDEVLOST (-VIRGO_EPROTO for the one that saw bad bytes) and so
 * does every later one, at once: never a hang, never a reply read out of
 * step. A well-framed reply whose status is not 0 or a negative virgo_status
 * gives -VIRGO_EPROTO for that request alone.
 */
#ifndef VIRGO_ROUNDTRIP_H
#define VIRGO_ROUNDTRIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_DEFAULT_SLACK_MS 30000u
#define WIRE_MAX_SLACK_MS     600000u

struct wire_io {
	void *ctx;
	/* Exactly len bytes, by deadline_ms on now_ms()'s clock: 0,
	 * -VIRGO_ETIMEDOUT, or -VIRGO_EDEVLOST (closed, reset, failed). */
	int (*send)(void *ctx, const void *buf, size_t len, uint64_t deadline_ms);
	int (*recv)(void *ctx, void *buf, size_t len, uint64_t deadline_ms);
	uint64_t (*now_ms)(void *ctx);
};

struct wire_conn {
	struct wire_io io;
	uint32_t slack_ms;
	uint32_t seq;
	bool dead;            /* dropped: every request fails at once */
	const char *why;      /* why it was dropped, for the transport's log */
	uint32_t out_len;     /* the last reply's out-data */
	_Alignas(8) uint8_t out[VIRGO_WIRE_MAX_OUT];
};

void wire_conn_init(struct wire_conn *c, const struct wire_io *io, uint32_t slack_ms);
/* The slack a VIRGO_TRANSPORT_TIMEOUT_MS value asks for (NULL, empty or
 * not a positive number: the default; capped at WIRE_MAX_SLACK_MS). */
uint32_t wire_slack_ms(const char *value);
/* How long op may take over the wire, in ms. */
uint64_t wire_op_budget_ms(uint32_t op, const void *arg, uint32_t slack_ms);
/* Sends op with arg, receives the reply, unpacks its out fields into arg
 * and keeps its out-data in c->out. 0 or -VIRGO_E*. */
int wire_roundtrip(struct wire_conn *c, uint32_t op, void *arg);

#endif
