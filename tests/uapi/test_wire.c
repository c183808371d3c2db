/* SPDX-License-Identifier: MIT */
/* test_wire.c: the socket encoding (uapi/wire.c, wire_server.c) and the
 * round trip's arithmetic (uapi/roundtrip.c), without a socket. */
#include <string.h>

#include "roundtrip.h"
#include "status.h"
#include "t.h"
#include "wire.h"

TEST(wire_pack_moves_pointers_into_in_data)
{
	uint32_t stream[4] = { 1, 2, 3, 4 }, handles[2] = { 7, 9 };
	struct virgo_execbuffer eb = { .size = sizeof(stream), .command = (uintptr_t)stream,
				       .num_bo_handles = 2, .bo_handles = (uintptr_t)handles };
	struct wire_msg m;
	const struct virgo_execbuffer *w;

	REQUIRE_EQ(wire_pack(VIRGO_OP_EXECBUFFER, &eb, 5, &m), 0);
	w = (const void *)m.args;
	CHECK_EQ(m.hdr.seq, 5);
	CHECK_EQ(m.hdr.in_size, sizeof(stream) + sizeof(handles));
	CHECK_EQ(w->command, 0);
	CHECK_EQ(w->bo_handles, sizeof(stream));
	CHECK(!memcmp(m.in, stream, sizeof(stream)));
	CHECK(!memcmp(m.in + sizeof(stream), handles, sizeof(handles)));
	wire_msg_free(&m);
}

TEST(wire_unpack_keeps_the_callers_pointers)
{
	uint32_t stream[2] = { 0 };
	struct virgo_execbuffer eb = { .size = 8, .command = (uintptr_t)stream }, reply = eb;

	reply.command = 0;   /* the wire's offset */
	reply.fence = 77;
	REQUIRE_EQ(wire_unpack(VIRGO_OP_EXECBUFFER, &eb, (const uint8_t *)&reply, sizeof(reply), NULL, 0), 0);
	CHECK_EQ(eb.fence, 77);
	CHECK_EQ(eb.command, (uintptr_t)stream);
	CHECK_EQ(wire_unpack(VIRGO_OP_EXECBUFFER, &eb, (const uint8_t *)&reply, 8, NULL, 0), -VIRGO_EPROTO);
}

TEST(wire_pack_refuses_what_the_driver_would)
{
	struct virgo_execbuffer eb = { .size = VIRGO_MAX_EXEC_SIZE + 4 };
	struct wire_msg m;

	CHECK_EQ(wire_pack(VIRGO_OP_EXECBUFFER, &eb, 1, &m), -VIRGO_E2BIG);
	CHECK_EQ(wire_pack(0, &eb, 1, &m), -VIRGO_ENOTSUP);
	CHECK_EQ(wire_pack(VIRGO_OP_COUNT, &eb, 1, &m), -VIRGO_ENOTSUP);
}

TEST(wire_req_check_guards_the_server)
{
	struct virgo_wire_req ok = { .magic = VIRGO_WIRE_MAGIC, .version = VIRGO_UAPI_VERSION, .op = 1, .arg_size = 16 };
	struct virgo_wire_req r;

	CHECK_EQ(wire_req_check(&ok), 0);
	r = ok, r.magic ^= 1;
	CHECK_EQ(wire_req_check(&r), -VIRGO_EPROTO);
	r = ok, r.version++;
	CHECK_EQ(wire_req_check(&r), -VIRGO_EPROTO);
	r = ok, r.arg_size = VIRGO_WIRE_MAX_ARGS + 1;
	CHECK_EQ(wire_req_check(&r), -VIRGO_EPROTO);
	r = ok, r.in_size = VIRGO_WIRE_MAX_DATA + 1;
	CHECK_EQ(wire_req_check(&r), -VIRGO_EPROTO);
	r = ok, r.out_size = VIRGO_WIRE_MAX_OUT + 1;
	CHECK_EQ(wire_req_check(&r), -VIRGO_EPROTO);
}

TEST(wire_map_reply_round_trips)
{
	struct virgo_wire_run runs[2] = { { 0, 4096 }, { 65536, 8192 } };
	uint8_t out[256];
	uint32_t len = 0;
	struct wire_map_reply r;
	char path[64];

	REQUIRE_EQ(wire_map_encode(out, sizeof(out), runs, 2, 1u << 20, "/proc/1/fd/3", 12, &len), 0);
	CHECK_EQ(len, 16 + 32 + 12);
	REQUIRE_EQ(wire_map_parse(out, len, &r, path, sizeof(path)), 0);
	CHECK_EQ(r.map.nruns, 2);
	CHECK_EQ(r.total, 4096 + 8192);
	CHECK_EQ(wire_map_run(&r, 1).offset, 65536);
	CHECK(!strcmp(path, "/proc/1/fd/3"));
	/* no path: a UNIX-socket reply */
	REQUIRE_EQ(wire_map_encode(out, sizeof(out), runs, 1, 1u << 20, NULL, 0, &len), 0);
	REQUIRE_EQ(wire_map_parse(out, len, &r, path, sizeof(path)), 0);
	CHECK_EQ(path[0], 0);
	CHECK_EQ(wire_map_encode(out, 40, runs, 2, 1u << 20, NULL, 0, &len), -VIRGO_E2BIG);
}

TEST(wire_map_parse_refuses_lies)
{
	struct virgo_wire_run run = { 0, 4096 };
	uint8_t out[128];
	uint32_t len;
	struct wire_map_reply r;
	char path[8];

	/* a run past the object's end */
	run = (struct virgo_wire_run){ 4096, 8192 };
	wire_map_encode(out, sizeof(out), &run, 1, 8192, NULL, 0, &len);
	CHECK_EQ(wire_map_parse(out, len, &r, path, sizeof(path)), -VIRGO_EPROTO);
	/* an empty run */
	run = (struct virgo_wire_run){ 0, 0 };
	wire_map_encode(out, sizeof(out), &run, 1, 8192, NULL, 0, &len);
	CHECK_EQ(wire_map_parse(out, len, &r, path, sizeof(path)), -VIRGO_EPROTO);
	/* an offset that wraps */
	run = (struct virgo_wire_run){ UINT64_MAX - 10, 4096 };
	wire_map_encode(out, sizeof(out), &run, 1, UINT64_MAX, NULL, 0, &len);
	CHECK_EQ(wire_map_parse(out, len, &r, path, sizeof(path)), -VIRGO_EPROTO);
	/* more runs than the reply carries, no runs, a short reply */
	run = (struct virgo_wire_run){ 0, 4096 };
	wire_map_encode(out, sizeof(out), &run, 1, 8192, NULL, 0, &len);
	CHECK_EQ(wire_map_parse(out, len - 1, &r, path, sizeof(path)), -VIRGO_EPROTO);
	CHECK_EQ(wire_map_parse(out, 8, &r, path, sizeof(path)), -VIRGO_EPROTO);
	wire_map_encode(out, sizeof(out), &run, 0, 8192, NULL, 0, &len);
	CHECK_EQ(wire_map_parse(out, len, &r, path, sizeof(path)), -VIRGO_EPROTO);
	/* a path longer than the caller's buffer, a path with a NUL inside */
	wire_map_encode(out, sizeof(out), &run, 1, 8192, "/a/long/path", 12, &len);
	CHECK_EQ(wire_map_parse(out, len, &r, path, sizeof(path)), -VIRGO_EPROTO);
	wire_map_encode(out, sizeof(out), &run, 1, 8192, "/a\0b", 4, &len);
	CHECK_EQ(wire_map_parse(out, len, &r, path, sizeof(path)), -VIRGO_EPROTO);
}

TEST(wire_deadlines_follow_the_drivers_caps)
{
	struct virgo_fence_wait fw = { .timeout_ns = 0 };
	struct virgo_wait w = { .timeout_ns = 2000000000ull };
	struct virgo_get_param gp = { 0 };

	CHECK_EQ(wire_op_budget_ms(VIRGO_OP_GET_PARAM, &gp, 100), 100);
	CHECK_EQ(wire_op_budget_ms(VIRGO_OP_WAIT, &w, 100), 2100);
	/* 0 means the default wait, as the driver reads it */
	CHECK_EQ(wire_op_budget_ms(VIRGO_OP_FENCE_WAIT, &fw, 0), VIRGO_DEFAULT_TIMEOUT_NS / 1000000u);
	fw.timeout_ns = UINT64_MAX;
	CHECK_EQ(wire_op_budget_ms(VIRGO_OP_FENCE_WAIT, &fw, 0), VIRGO_MAX_TIMEOUT_NS / 1000000u);
	CHECK_EQ(wire_slack_ms(NULL), WIRE_DEFAULT_SLACK_MS);
	CHECK_EQ(wire_slack_ms(""), WIRE_DEFAULT_SLACK_MS);
	CHECK_EQ(wire_slack_ms("250"), 250);
	CHECK_EQ(wire_slack_ms("0"), WIRE_DEFAULT_SLACK_MS);
	CHECK_EQ(wire_slack_ms("12x"), WIRE_DEFAULT_SLACK_MS);
	CHECK_EQ(wire_slack_ms("99999999999999999999"), WIRE_MAX_SLACK_MS);
}

TEST(virgo_strerror_names_every_status)
{
	static const int all[] = { VIRGO_EPERM, VIRGO_ENOENT, VIRGO_EIO, VIRGO_E2BIG, VIRGO_ENOMEM, VIRGO_EFAULT,
				   VIRGO_EBUSY, VIRGO_EEXIST, VIRGO_ENODEV, VIRGO_EINVAL, VIRGO_ENOSPC,
				   VIRGO_EPROTO, VIRGO_EOVERFLOW, VIRGO_ENOTSUP, VIRGO_ETIMEDOUT, VIRGO_EDQUOT,
				   VIRGO_ECANCELED, VIRGO_EDEVLOST };

	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		CHECK(strcmp(virgo_strerror(-all[i]), "unknown error") != 0);
		CHECK(!strcmp(virgo_strerror(-all[i]), virgo_strerror(all[i])));
	}
	CHECK(!strcmp(virgo_strerror(0), "ok"));
	CHECK(!strcmp(virgo_strerror(-4242), "unknown error"));
}
