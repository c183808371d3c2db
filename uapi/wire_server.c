/* SPDX-License-Identifier: MIT */
/* The server's side of the socket encoding (wire.h): what virgo-host checks
 * before it reads a request, and how it writes the replies that carry more
 * than the op's struct. */
#include "wire.h"

#include <string.h>

int wire_req_check(const struct virgo_wire_req *req)
{
	if (req->magic != VIRGO_WIRE_MAGIC || req->version != VIRGO_UAPI_VERSION ||
	    req->arg_size > VIRGO_WIRE_MAX_ARGS || req->in_size > VIRGO_WIRE_MAX_DATA ||
	    req->out_size > VIRGO_WIRE_MAX_OUT)
		return -VIRGO_EPROTO;
	return 0;
}

struct virgo_wire_resp wire_resp_for(const struct virgo_wire_req *req, int32_t status, uint32_t out_len)
{
	return (struct virgo_wire_resp){ .magic = VIRGO_WIRE_MAGIC, .version = VIRGO_UAPI_VERSION, .op = req->op,
					 .arg_size = req->arg_size, .status = status, .out_size = out_len,
					 .seq = req->seq };
}

int wire_map_encode(uint8_t *out, uint32_t cap, const struct virgo_wire_run *runs, uint32_t nruns,
		    uint64_t object_size, const char *path, uint32_t path_len, uint32_t *len)
{
	struct virgo_wire_map wm = { .nruns = nruns, .path_len = path_len, .object_size = object_size };
	uint64_t need = sizeof(wm) + (uint64_t)sizeof(runs[0]) * nruns + path_len;

	if (need > cap)
		return -VIRGO_E2BIG;
	memcpy(out, &wm, sizeof(wm));
	memcpy(out + sizeof(wm), runs, sizeof(runs[0]) * nruns);
	if (path_len)
		memcpy(out + need - path_len, path, path_len);
	*len = (uint32_t)need;
	return 0;
}
