/* SPDX-License-Identifier: MIT */
/*
 * wire.h: the socket encoding of the uAPI (include/virgo/uapi.h, "socket
 * encoding"), both sides of it. Portable C with no OS header: the Linux and
 * Windows clients (umd/transport) and the server (host/server.c) share it.
 *
 *   client   wire_pack() a request, wire_roundtrip() it (roundtrip.h),
 *            wire_unpack() the reply; a MAP reply is read by wire_map_parse()
 *   server   wire_req_check() a request header before reading anything
 *            else, wire_map_encode() a MAP reply's out-data
 */
#ifndef VIRGO_WIRE_H
#define VIRGO_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include <virgo/uapi.h>

/* The largest op struct, and the most out-data any reply carries. */
#define VIRGO_WIRE_MAX_ARGS 64u
#define VIRGO_WIRE_MAX_OUT  (VIRGO_MAX_CAPSET_SIZE > VIRGO_WIRE_MAP_OUT ? VIRGO_MAX_CAPSET_SIZE : VIRGO_WIRE_MAP_OUT)

struct wire_msg {
	struct virgo_wire_req hdr;
	uint8_t args[VIRGO_WIRE_MAX_ARGS];
	uint8_t *in;          /* malloc'd in-data, or NULL */
};

/* 0 or -VIRGO_E*: the request cannot be expressed (bad local pointers are
 * the caller's problem, as with any ioctl; sizes are checked). */
int wire_pack(uint32_t op, const void *arg, uint32_t seq, struct wire_msg *m);
void wire_msg_free(struct wire_msg *m);
/* Copies the reply's out fields into arg (keeping the caller's pointers)
 * and scatters out-data where the caller asked for it. */
int wire_unpack(uint32_t op, void *arg, const uint8_t *args, uint32_t arg_size, const uint8_t *out,
		uint32_t out_len);

/* A MAP reply's out-data, checked: the runs lie inside the object and add
 * up without overflow, the path (if any) is NUL-free. runs points into out
 * (copy each with memcpy: out need not be aligned); path is NUL-ended in
 * path_buf, empty when the reply names no file. 0 or -VIRGO_EPROTO. */
struct wire_map_reply {
	struct virgo_wire_map map;
	const uint8_t *runs;  /* map.nruns struct virgo_wire_run */
	uint64_t total;       /* sum of the runs' lengths */
};
int wire_map_parse(const uint8_t *out, uint32_t out_len, struct wire_map_reply *r, char *path_buf,
		   uint32_t path_cap);
struct virgo_wire_run wire_map_run(const struct wire_map_reply *r, uint32_t i);

/* Server side. A request header the server may read the rest of: magic,
 * version and sizes within what any op needs. 0 or -VIRGO_EPROTO (the
 * stream cannot be trusted to be in step any more). */
int wire_req_check(const struct virgo_wire_req *req);
/* A reply header for req with status and out_len bytes of out-data. */
struct virgo_wire_resp wire_resp_for(const struct virgo_wire_req *req, int32_t status, uint32_t out_len);
/* Writes a MAP reply's out-data (virgo_wire_map, the runs, path_len bytes
 * of path) into out; *len is its size. -VIRGO_E2BIG when it does not fit. */
int wire_map_encode(uint8_t *out, uint32_t cap, const struct virgo_wire_run *runs, uint32_t nruns,
		    uint64_t object_size, const char *path, uint32_t path_len, uint32_t *len);

#endif
