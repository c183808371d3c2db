/* SPDX-License-Identifier: MIT */
/* The client's side of the socket encoding (wire.h). */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

static void *ptr(uint64_t v)
{
	return (void *)(uintptr_t)v;
}

static int grow(struct wire_msg *m, const void *src, uint32_t len, uint64_t *offset)
{
	uint8_t *n;

	if (len > VIRGO_WIRE_MAX_DATA - m->hdr.in_size)
		return -VIRGO_E2BIG;
	n = realloc(m->in, m->hdr.in_size + len + 1);
	if (!n)
		return -VIRGO_ENOMEM;
	m->in = n;
	if (len)
		memcpy(n + m->hdr.in_size, src, len);
	*offset = m->hdr.in_size;
	m->hdr.in_size += len;
	return 0;
}

int wire_pack(uint32_t op, const void *arg, uint32_t seq, struct wire_msg *m)
{
	uint32_t size = virgo_op_arg_size(op);
	int ret = 0;

	memset(m, 0, sizeof(*m));
	if (!size || size > sizeof(m->args))
		return -VIRGO_ENOTSUP;
	m->hdr = (struct virgo_wire_req){ .magic = VIRGO_WIRE_MAGIC, .version = VIRGO_UAPI_VERSION,
					  .op = (uint16_t)op, .arg_size = size, .seq = seq };
	memcpy(m->args, arg, size);
	switch (op) {
	case VIRGO_OP_GET_CAPS: {
		struct virgo_get_caps *a = (void *)m->args;

		m->hdr.out_size = a->size < VIRGO_MAX_CAPSET_SIZE ? a->size : VIRGO_MAX_CAPSET_SIZE;
		a->addr = 0;
		break;
	}
	case VIRGO_OP_CONTEXT_INIT: {
		struct virgo_context_init *a = (void *)m->args;
		struct virgo_ctx_set_param p[VIRGO_MAX_CTX_PARAMS];
		uint64_t off;

		if (a->num_params == 0 || a->num_params > VIRGO_MAX_CTX_PARAMS)
			break; /* the driver says why */
		memcpy(p, ptr(a->ctx_set_params), sizeof(p[0]) * a->num_params);
		for (uint32_t i = 0; i < a->num_params && !ret; i++) {
			if (p[i].param != VIRGO_CTX_PARAM_DEBUG_NAME)
				continue;
			const char *name = ptr(p[i].value);
			uint32_t len = 0;

			while (len < VIRGO_MAX_DEBUG_NAME - 1 && name[len])
				len++;

			ret = grow(m, name, len, &off);
			if (!ret) {
				m->in[m->hdr.in_size++] = 0;
				p[i].value = off;
			}
		}
		if (!ret)
			ret = grow(m, p, (uint32_t)sizeof(p[0]) * a->num_params, &a->ctx_set_params);
		break;
	}
	case VIRGO_OP_RESOURCE_CREATE_BLOB: {
		struct virgo_resource_create_blob *a = (void *)m->args;

		if (a->cmd_size && a->cmd_size <= VIRGO_MAX_EXEC_SIZE)
			ret = grow(m, ptr(a->cmd), a->cmd_size, &a->cmd);
		break;
	}
	case VIRGO_OP_EXECBUFFER: {
		struct virgo_execbuffer *a = (void *)m->args;

		if (a->size > VIRGO_MAX_EXEC_SIZE || a->num_bo_handles > VIRGO_MAX_BO_HANDLES)
			return -VIRGO_E2BIG;
		ret = grow(m, ptr(a->command), a->size, &a->command);
		if (!ret)
			ret = grow(m, ptr(a->bo_handles), a->num_bo_handles * 4u, &a->bo_handles);
		break;
	}
	case VIRGO_OP_MAP:
		m->hdr.out_size = VIRGO_WIRE_MAP_OUT;
		break;
	default:
		break;
	}
	if (ret)
		wire_msg_free(m);
	return ret;
}

void wire_msg_free(struct wire_msg *m)
{
	free(m->in);
	m->in = NULL;
}

int wire_unpack(uint32_t op, void *arg, const uint8_t *args, uint32_t arg_size, const uint8_t *out,
		uint32_t out_len)
{
	uint32_t size = virgo_op_arg_size(op);
	uint8_t keep[64];

	if (arg_size != size)
		return -VIRGO_EPROTO;
	memcpy(keep, arg, size);
	memcpy(arg, args, size);
	/* Pointer fields are the caller's, not the wire's offsets. */
	switch (op) {
	case VIRGO_OP_GET_CAPS: {
		struct virgo_get_caps *a = arg;

		a->addr = ((struct virgo_get_caps *)(void *)keep)->addr;
		if (a->copied > out_len || a->copied > a->size)
			return -VIRGO_EPROTO;
		if (a->copied)
			memcpy(ptr(a->addr), out, a->copied);
		break;
	}
	case VIRGO_OP_CONTEXT_INIT:
		((struct virgo_context_init *)arg)->ctx_set_params =
			((struct virgo_context_init *)(void *)keep)->ctx_set_params;
		break;
	case VIRGO_OP_RESOURCE_CREATE_BLOB:
		((struct virgo_resource_create_blob *)arg)->cmd =
			((struct virgo_resource_create_blob *)(void *)keep)->cmd;
		break;
	case VIRGO_OP_EXECBUFFER:
		((struct virgo_execbuffer *)arg)->command = ((struct virgo_execbuffer *)(void *)keep)->command;
		((struct virgo_execbuffer *)arg)->bo_handles = ((struct virgo_execbuffer *)(void *)keep)->bo_handles;
		break;
	default:
		break;
	}
	return 0;
}

struct virgo_wire_run wire_map_run(const struct wire_map_reply *r, uint32_t i)
{
	struct virgo_wire_run run;

	memcpy(&run, r->runs + sizeof(run) * i, sizeof(run));
	return run;
}

int wire_map_parse(const uint8_t *out, uint32_t out_len, struct wire_map_reply *r, char *path_buf,
		   uint32_t path_cap)
{
	memset(r, 0, sizeof(*r));
	if (path_cap)
		path_buf[0] = 0;
	if (out_len < sizeof(r->map))
		return -VIRGO_EPROTO;
	memcpy(&r->map, out, sizeof(r->map));
	if (!r->map.nruns || (uint64_t)r->map.nruns * sizeof(struct virgo_wire_run) + sizeof(r->map) +
				     r->map.path_len > out_len)
		return -VIRGO_EPROTO;
	r->runs = out + sizeof(r->map);
	for (uint32_t i = 0; i < r->map.nruns; i++) {
		struct virgo_wire_run run = wire_map_run(r, i);

		/* A run outside the object would map someone else's memory, or
		 * nothing; a sum that wraps would map less than it says. */
		if (!run.len || run.offset > r->map.object_size || run.len > r->map.object_size - run.offset ||
		    run.len > UINT64_MAX - r->total)
			return -VIRGO_EPROTO;
		r->total += run.len;
	}
	if (r->map.path_len) {
		if (r->map.path_len >= path_cap)
			return -VIRGO_EPROTO;
		memcpy(path_buf, out + out_len - r->map.path_len, r->map.path_len);
		path_buf[r->map.path_len] = 0;
		if (strlen(path_buf) != r->map.path_len)
			return -VIRGO_EPROTO;
	}
	return 0;
}
