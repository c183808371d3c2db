/* SPDX-License-Identifier: MIT */
/* wire.h: packing uAPI requests into the socket encoding of uapi.h and
 * unpacking replies. Portable C, shared by every socket transport. */
#ifndef VIRGO_WIRE_H
#define VIRGO_WIRE_H

#include <stdint.h>

#include <virgo/uapi.h>

struct wire_msg {
	struct virgo_wire_req hdr;
	uint8_t args[64];
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

#endif
