/* SPDX-License-Identifier: MIT */
/*
 * fake_gpu.c: the virtio-gpu commands of the fake device: dispatch, display
 * information, EDID, capsets, 3D contexts, command submission and cursor
 * commands; resources live in fake_res.c.
 *
 * Each handler checks the request's size first, then the ids, then the
 * parameters, and only then acts: an error answer never has an effect.
 * Commands the driver may only send after negotiating a feature are driver
 * errors without it (and answered ERR_UNSPEC, like QEMU 7.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_priv.h"

#define BAD_STREAM 0xdeadbeefu  /* a SUBMIT_3D starting with it is refused */

/* ---- what the device answers ------------------------------------------------ */

uint32_t fake_capset_size(uint32_t id)
{
	return id == VIRTIO_GPU_CAPSET_VIRGL ? 308 : id == VIRTIO_GPU_CAPSET_VIRGL2 ? 1376 : 0;
}

uint32_t fake_capset_version(uint32_t id)
{
	return id == VIRTIO_GPU_CAPSET_VIRGL ? 1 : id == VIRTIO_GPU_CAPSET_VIRGL2 ? 2 : 0;
}

void fake_capset_fill(uint32_t id, void *buf, size_t size)
{
	uint8_t *p = buf;

	for (size_t k = 0; k * 4 < size; k++) {
		uint32_t w = k ? (id << 24 | (uint32_t)k) : fake_capset_version(id);
		size_t n = size - k * 4 < 4 ? size - k * 4 : 4;

		memcpy(p + k * 4, &w, n);
	}
}

const uint8_t *fake_edid(size_t *len)
{
	static uint8_t e[128];
	static const uint8_t head[] = {
		0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
		0x5a, 0x47,             /* "VRG" */
		0x34, 0x12,             /* product */
		0x01, 0x00, 0x00, 0x00, /* serial */
		0x01, 0x22,             /* week 1 of 2024 */
		0x01, 0x04,             /* EDID 1.4 */
		0x80, 0x22, 0x1b, 0x78, 0x0a,
		0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50, 0x54,
		0x00, 0x08, 0x00,       /* established: 1024x768@60 */
		0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
		0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
		/* detailed timing: 1024x768@60, 65 MHz */
		0x64, 0x19, 0x00, 0x40, 0x41, 0x00, 0x26, 0x30, 0x18, 0x88,
		0x36, 0x00, 0x54, 0x0e, 0x11, 0x00, 0x00, 0x18,
		/* monitor name */
		0x00, 0x00, 0x00, 0xfc, 0x00, 'v', 'i', 'r', 'g', 'o', ' ', 'f', 'a', 'k', 'e',
		0x0a, 0x20, 0x20,
	};
	unsigned sum = 0;

	if (!e[1]) {
		memcpy(e, head, sizeof(head));
		/* Two dummy descriptors (tag 0x10) fill the rest up to byte 125. */
		e[sizeof(head) + 3] = 0x10;
		e[sizeof(head) + 18 + 3] = 0x10;
		for (int i = 0; i < 127; i++)
			sum += e[i];
		e[127] = (uint8_t)(256 - sum % 256);
	}
	*len = sizeof(e);
	return e;
}

/* ---- objects --------------------------------------------------------------- */

struct fake_gctx *fgpu_find_ctx(struct fake_dev *d, uint32_t id)
{
	for (struct fake_gctx *c = d->ctxs; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

void fgpu_recount(struct fake_dev *d)
{
	struct fake_dev_stats *st = &d->st;

	st->ctxs = st->resources = st->backings = st->ctx_attachments = st->blob_maps = 0;
	for (struct fake_gctx *c = d->ctxs; c; c = c->next)
		st->ctxs++;
	for (struct fake_res *r = d->res; r; r = r->next) {
		st->resources++;
		st->backings += r->has_backing;
		st->ctx_attachments += r->nctxs;
		st->blob_maps += r->mapped;
	}
}

static void free_all(struct fake_dev *d, bool count)
{
	while (d->ctxs) {
		struct fake_gctx *c = d->ctxs;

		d->ctxs = c->next;
		free(c);
		if (count)
			d->st.reset_ctxs++;
	}
	while (d->res) {
		struct fake_res *r = d->res;

		d->res = r->next;
		fgpu_free_res(d, r);
		if (count)
			d->st.reset_resources++;
	}
	fgpu_recount(d);
}

void fgpu_reset(struct fake_dev *d)
{
	free_all(d, true);
}

void fgpu_destroy(struct fake_dev *d)
{
	free_all(d, false);
}

bool fake_dev_has_ctx(struct fake_dev *d, uint32_t ctx_id)
{
	return fgpu_find_ctx(d, ctx_id) != NULL;
}

/* ---- helpers for handlers -------------------------------------------------- */

void fgpu_set_type(struct fake_req *r, uint32_t type)
{
	memcpy(r->resp, &type, 4);
	if (r->resp_len < sizeof(struct virtio_gpu_ctrl_hdr))
		r->resp_len = sizeof(struct virtio_gpu_ctrl_hdr);
}

void fgpu_ok(struct fake_req *r)
{
	fgpu_set_type(r, VIRTIO_GPU_RESP_OK_NODATA);
}

/* Checks the request holds size bytes; a short one is malformed. */
bool fgpu_need(struct fake_dev *d, struct fake_req *r, size_t size, const char *what)
{
	if (r->req_len >= size)
		return true;
	d->st.bad_chain++;
	fake_driver_error(d->os, "%s: request of %zu bytes, needs %zu", what, r->req_len, size);
	fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
	return false;
}

bool fgpu_need_feature(struct fake_dev *d, struct fake_req *r, unsigned bit, const char *what)
{
	if (d->features & VIRTIO_FEATURE_BIT(bit))
		return true;
	fake_driver_error(d->os, "%s without negotiating feature bit %u", what, bit);
	fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
	return false;
}

bool fgpu_need_ctx(struct fake_dev *d, struct fake_req *r, uint32_t ctx_id)
{
	if (fgpu_find_ctx(d, ctx_id))
		return true;
	fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	return false;
}

struct fake_res *fgpu_need_res(struct fake_dev *d, struct fake_req *r, uint32_t res_id)
{
	struct fake_res *res;

	r->rec->resource_id = res_id;
	res = fgpu_find_res(d, res_id);
	if (!res)
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	return res;
}

/* ---- display, EDID, capsets ------------------------------------------------- */

static void cmd_display_info(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_resp_display_info di;

	memset(&di, 0, sizeof(di));
	di.hdr.type = VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
	for (uint32_t i = 0; i < d->cfg.num_scanouts; i++) {
		di.pmodes[i].r.x = i * 1024;
		di.pmodes[i].r.width = 1024;
		di.pmodes[i].r.height = 768;
		di.pmodes[i].enabled = i == 0;
	}
	memcpy(r->resp, &di, sizeof(di));
	r->resp_len = sizeof(di);
}

static void cmd_edid(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_get_edid q;
	struct virtio_gpu_resp_edid e;
	const uint8_t *blk;
	size_t len;

	if (!fgpu_need(d, r, sizeof(q), "GET_EDID") ||
	    !fgpu_need_feature(d, r, VIRTIO_GPU_F_EDID, "GET_EDID"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (q.scanout >= d->cfg.num_scanouts) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	blk = fake_edid(&len);
	memset(&e, 0, sizeof(e));
	e.hdr.type = VIRTIO_GPU_RESP_OK_EDID;
	e.size = (uint32_t)len;
	memcpy(e.edid, blk, len);
	memcpy(r->resp, &e, sizeof(e));
	r->resp_len = sizeof(e);
}

static void cmd_capset_info(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_get_capset_info q;
	struct virtio_gpu_resp_capset_info a;

	if (!fgpu_need(d, r, sizeof(q), "GET_CAPSET_INFO"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (q.capset_index >= d->cfg.num_capsets) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.hdr.type = VIRTIO_GPU_RESP_OK_CAPSET_INFO;
	a.capset_id = q.capset_index + 1;
	a.capset_max_version = fake_capset_version(a.capset_id);
	a.capset_max_size = fake_capset_size(a.capset_id);
	memcpy(r->resp, &a, sizeof(a));
	r->resp_len = sizeof(a);
}

static void cmd_capset(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_get_capset q;
	uint32_t size;

	if (!fgpu_need(d, r, sizeof(q), "GET_CAPSET"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (!q.capset_id || q.capset_id > d->cfg.num_capsets ||
	    q.capset_version > fake_capset_version(q.capset_id)) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	size = fake_capset_size(q.capset_id);
	fgpu_set_type(r, VIRTIO_GPU_RESP_OK_CAPSET);
	fake_capset_fill(q.capset_id, r->resp + sizeof(struct virtio_gpu_ctrl_hdr), size);
	r->resp_len = sizeof(struct virtio_gpu_ctrl_hdr) + size;
}

/* ---- 3D commands ------------------------------------------------------------- */

static void cmd_ctx_create(struct fake_dev *d, struct fake_req *r, uint32_t ctx_id)
{
	struct virtio_gpu_ctx_create q;
	struct fake_gctx *c;
	uint32_t capset;

	if (!fgpu_need(d, r, sizeof(q), "CTX_CREATE"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (!ctx_id || fgpu_find_ctx(d, ctx_id)) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
		return;
	}
	if (q.nlen > sizeof(q.debug_name)) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	if (q.context_init && !fgpu_need_feature(d, r, VIRTIO_GPU_F_CONTEXT_INIT, "CTX_CREATE.context_init"))
		return;
	capset = q.context_init & VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
	if ((q.context_init & ~VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK) ||
	    (capset && capset > d->cfg.num_capsets)) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
		return;
	}
	c->id = ctx_id;
	c->capset = capset;
	memcpy(c->name, q.debug_name, q.nlen);
	c->next = d->ctxs;
	d->ctxs = c;
	fgpu_ok(r);
}

static void cmd_ctx_destroy(struct fake_dev *d, struct fake_req *r, uint32_t ctx_id)
{
	if (!fgpu_need_ctx(d, r, ctx_id))
		return;
	for (struct fake_gctx **pp = &d->ctxs; *pp; pp = &(*pp)->next) {
		struct fake_gctx *c = *pp;

		if (c->id == ctx_id) {
			*pp = c->next;
			free(c);
			break;
		}
	}
	for (struct fake_res *res = d->res; res; res = res->next)
		fgpu_res_detach(res, ctx_id);
	fgpu_ok(r);
}

static void cmd_ctx_resource(struct fake_dev *d, struct fake_req *r, uint32_t ctx_id, bool attach)
{
	struct virtio_gpu_ctx_resource q;
	struct fake_res *res;

	if (!fgpu_need(d, r, sizeof(q), attach ? "CTX_ATTACH_RESOURCE" : "CTX_DETACH_RESOURCE"))
		return;
	memcpy(&q, r->req, sizeof(q));
	r->rec->resource_id = q.resource_id;
	if (!fgpu_need_ctx(d, r, ctx_id))
		return;
	res = fgpu_need_res(d, r, q.resource_id);
	if (!res)
		return;
	if (!attach)
		fgpu_res_detach(res, ctx_id);
	else if (!fgpu_res_attach(res, ctx_id)) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
		return;
	}
	fgpu_ok(r);
}

static void cmd_submit(struct fake_dev *d, struct fake_req *r, uint32_t ctx_id)
{
	struct virtio_gpu_cmd_submit q;
	uint32_t first = 0;

	if (!fgpu_need(d, r, sizeof(q), "SUBMIT_3D"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (!fgpu_need_ctx(d, r, ctx_id))
		return;
	if (!fgpu_need(d, r, sizeof(q) + (size_t)q.size, "SUBMIT_3D stream"))
		return;
	if (q.size % 4) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	if (q.size >= 4)
		memcpy(&first, r->req + sizeof(q), 4);
	if (first == BAD_STREAM) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	if (d->nsubmit + q.size > d->capsubmit) {
		size_t cap = d->capsubmit ? d->capsubmit : 4096;
		uint8_t *p;

		while (cap < d->nsubmit + q.size)
			cap *= 2;
		p = realloc(d->submit, cap);
		if (!p) {
			fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
			return;
		}
		d->submit = p;
		d->capsubmit = cap;
	}
	if (q.size)
		memcpy(d->submit + d->nsubmit, r->req + sizeof(q), q.size);
	r->rec->data_off = d->nsubmit;
	r->rec->data_len = q.size;
	d->nsubmit += q.size;
	fgpu_ok(r);
}

static void cmd_cursor(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_update_cursor q;

	if (!fgpu_need(d, r, sizeof(q), "cursor command"))
		return;
	memcpy(&q, r->req, sizeof(q));
	r->rec->resource_id = q.resource_id;
	fgpu_ok(r);
}

/* ---- dispatch ----------------------------------------------------------------- */

static bool is_3d(uint32_t type)
{
	return type >= VIRTIO_GPU_CMD_CTX_CREATE && type <= VIRTIO_GPU_CMD_SUBMIT_3D;
}

void fgpu_execute(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_ctrl_hdr hdr;

	memcpy(&hdr, r->req, sizeof(hdr));
	r->resp_len = 0;
	if ((hdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) &&
	    (!fgpu_need_feature(d, r, VIRTIO_GPU_F_CONTEXT_INIT, "FLAG_INFO_RING_IDX") ||
	     hdr.ring_idx >= VIRTIO_GPU_MAX_RINGS)) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		goto out;
	}
	if (r->queue == VIRTIO_GPU_QUEUE_CURSOR) {
		if (hdr.type == VIRTIO_GPU_CMD_UPDATE_CURSOR || hdr.type == VIRTIO_GPU_CMD_MOVE_CURSOR) {
			cmd_cursor(d, r);
		} else {
			fake_driver_error(d->os, "command %#x sent on the cursor queue", hdr.type);
			fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
		}
		goto out;
	}
	if (is_3d(hdr.type) && !fgpu_need_feature(d, r, VIRTIO_GPU_F_VIRGL, "a 3D command"))
		goto out;
	switch (hdr.type) {
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO: cmd_display_info(d, r); break;
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: fres_create_2d(d, r); break;
	case VIRTIO_GPU_CMD_RESOURCE_UNREF: fres_unref(d, r); break;
	case VIRTIO_GPU_CMD_SET_SCANOUT: fres_set_scanout(d, r); break;
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH: fres_flush(d, r); break;
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: fres_transfer_2d(d, r); break;
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: fres_attach_backing(d, r); break;
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: fres_detach_backing(d, r); break;
	case VIRTIO_GPU_CMD_GET_CAPSET_INFO: cmd_capset_info(d, r); break;
	case VIRTIO_GPU_CMD_GET_CAPSET: cmd_capset(d, r); break;
	case VIRTIO_GPU_CMD_GET_EDID: cmd_edid(d, r); break;
	case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID: fres_assign_uuid(d, r); break;
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB: fres_create_blob(d, r, hdr.ctx_id); break;
	case VIRTIO_GPU_CMD_CTX_CREATE: cmd_ctx_create(d, r, hdr.ctx_id); break;
	case VIRTIO_GPU_CMD_CTX_DESTROY: cmd_ctx_destroy(d, r, hdr.ctx_id); break;
	case VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE: cmd_ctx_resource(d, r, hdr.ctx_id, true); break;
	case VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE: cmd_ctx_resource(d, r, hdr.ctx_id, false); break;
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_3D: fres_create_3d(d, r); break;
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D: fres_transfer_3d(d, r, hdr.ctx_id, true); break;
	case VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D: fres_transfer_3d(d, r, hdr.ctx_id, false); break;
	case VIRTIO_GPU_CMD_SUBMIT_3D: cmd_submit(d, r, hdr.ctx_id); break;
	case VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB: fres_map_blob(d, r); break;
	case VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB: fres_unmap_blob(d, r); break;
	default:
		fake_note(d->os, "unknown command %#x", hdr.type);
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
		break;
	}
out:
	if (!r->resp_len)
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
	fgpu_recount(d);
}
