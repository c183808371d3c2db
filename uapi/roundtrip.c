/* SPDX-License-Identifier: MIT */
/* One request and its reply over the transport's stream: see roundtrip.h. */
#include "roundtrip.h"

#include <string.h>

void wire_conn_init(struct wire_conn *c, const struct wire_io *io, uint32_t slack_ms)
{
	c->io = *io;
	c->slack_ms = slack_ms;
	c->seq = 0;
	c->dead = false;
	c->why = NULL;
	c->out_len = 0;
}

uint32_t wire_slack_ms(const char *value)
{
	uint64_t v = 0;

	if (!value || !*value)
		return WIRE_DEFAULT_SLACK_MS;
	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9')
			return WIRE_DEFAULT_SLACK_MS;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > WIRE_MAX_SLACK_MS)
			return WIRE_MAX_SLACK_MS;
	}
	return v ? (uint32_t)v : WIRE_DEFAULT_SLACK_MS;
}

uint64_t wire_op_budget_ms(uint32_t op, const void *arg, uint32_t slack_ms)
{
	uint64_t ns;

	if (op == VIRGO_OP_WAIT)
		ns = ((const struct virgo_wait *)arg)->timeout_ns;
	else if (op == VIRGO_OP_FENCE_WAIT)
		ns = ((const struct virgo_fence_wait *)arg)->timeout_ns;
	else
		return slack_ms;
	/* As the driver reads it (kmd/core/uapi.c): 0 is the default. */
	if (!ns)
		ns = VIRGO_DEFAULT_TIMEOUT_NS;
	if (ns > VIRGO_MAX_TIMEOUT_NS)
		ns = VIRGO_MAX_TIMEOUT_NS;
	return ns / 1000000u + slack_ms;
}

/* The connection cannot be trusted any more. */
static int drop(struct wire_conn *c, int err)
{
	c->dead = true;
	c->why = err == -VIRGO_ETIMEDOUT ? "no reply in time" : err == -VIRGO_EPROTO ? "malformed reply" : "connection lost";
	return err == -VIRGO_EPROTO ? err : -VIRGO_EDEVLOST;
}

int wire_roundtrip(struct wire_conn *c, uint32_t op, void *arg)
{
	const struct wire_io *io = &c->io;
	struct wire_msg m;
	struct virgo_wire_resp r;
	uint8_t args[VIRGO_WIRE_MAX_ARGS];
	uint64_t deadline;
	int ret;

	if (c->dead)
		return -VIRGO_EDEVLOST;
	c->out_len = 0;
	ret = wire_pack(op, arg, ++c->seq, &m);
	if (ret)
		return ret;
	deadline = io->now_ms(io->ctx) + wire_op_budget_ms(op, arg, c->slack_ms);
	ret = io->send(io->ctx, &m.hdr, sizeof(m.hdr), deadline);
	if (!ret)
		ret = io->send(io->ctx, m.args, m.hdr.arg_size, deadline);
	if (!ret && m.hdr.in_size)
		ret = io->send(io->ctx, m.in, m.hdr.in_size, deadline);
	if (!ret)
		ret = io->recv(io->ctx, &r, sizeof(r), deadline);
	/* Everything that frames the rest is checked before reading it: a
	 * reply to another request, or sizes we did not ask for, mean the
	 * stream is out of step. */
	if (!ret && (r.magic != VIRGO_WIRE_MAGIC || r.version != VIRGO_UAPI_VERSION || r.seq != m.hdr.seq ||
		     r.op != m.hdr.op || r.arg_size != m.hdr.arg_size || r.out_size > m.hdr.out_size ||
		     r.out_size > sizeof(c->out)))
		ret = -VIRGO_EPROTO;
	if (!ret)
		ret = io->recv(io->ctx, args, r.arg_size, deadline);
	if (!ret && r.out_size)
		ret = io->recv(io->ctx, c->out, r.out_size, deadline);
	wire_msg_free(&m);
	if (ret)
		return drop(c, ret);
	if (r.status > 0)
		return -VIRGO_EPROTO;
	if (r.status)
		return r.status;
	c->out_len = r.out_size;
	return wire_unpack(op, arg, args, r.arg_size, c->out, r.out_size);
}
