/* SPDX-License-Identifier: MIT */
/* The virtio-gpu commands of virgo-host's device on virglrenderer 0.10.4,
 * following the virtio-gpu chapter of the virtio spec. Each handler copies
 * its request out of the chain with a size check first, then acts, then
 * answers: a hostile guest meets the size check before anything else. */
#define VIRGL_RENDERER_UNSTABLE_APIS 1
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <virgl/virglrenderer.h>

#include <virgo/virtio_ring.h>

#include "log.h"
#include "vgpu_priv.h"

/* virglrenderer's box is six uint32_t in the wire order; its header only
 * declares the type. */
static struct virgl_box *vbox(struct virtio_gpu_box *b)
{
	return (struct virgl_box *)(void *)b;
}

/* ---- lookups ---- */

static struct vres *find_res(struct vgpu *g, uint32_t id)
{
	for (struct vres *r = g->res; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

static struct vctx *find_ctx(struct vgpu *g, uint32_t id)
{
	for (struct vctx *c = g->ctx; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void res_drop_backing(struct vgpu *g, struct vres *r)
{
	if (r->iov && !r->blob) {
		struct iovec *iov = NULL;
		int n = 0;

		virgl_renderer_resource_detach_iov((int)r->id, &iov, &n);
	}
	(void)g;
	free(r->iov);
	r->iov = NULL;
	r->niov = 0;
}

void vgpu_res_destroy(struct vgpu *g, struct vres *r)
{
	struct vres **pp = &g->res;

	while (*pp != r)
		pp = &(*pp)->next;
	*pp = r->next;
	res_drop_backing(g, r);
	virgl_renderer_resource_unref(r->id);
	vgpu_mem_release(g, r->hostmem);
	free(r);
	g->st.resources--;
}

/* Guest memory entries to host iovecs, every range inside guest RAM. */
static uint32_t map_entries(struct vgpu *g, struct vqdev_elem *e, size_t off, uint32_t n, struct iovec **out)
{
	struct iovec *iov;

	if (n == 0 || n > MAX_MEM_ENTRIES || e->rd_len < off + (uint64_t)n * sizeof(struct virtio_gpu_mem_entry))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	iov = calloc(n, sizeof(*iov));
	if (!iov)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	for (uint32_t i = 0; i < n; i++) {
		struct virtio_gpu_mem_entry me;

		vqdev_read(e, off + i * sizeof(me), &me, sizeof(me));
		iov[i].iov_base = ram_ptr(g->ram, me.addr, me.length);
		iov[i].iov_len = me.length;
		if (!iov[i].iov_base || !me.length) {
			hlog(HLOG_WARN, "memory entry %u: %#llx+%u is not guest RAM", i,
			     (unsigned long long)me.addr, me.length);
			free(iov);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
	}
	*out = iov;
	return 0;
}

/* ---- command handlers: each returns a response type ---- */

#define NEED(type) \
	type c; \
	if (e->rd_len < sizeof(c)) \
		return VIRTIO_GPU_RESP_ERR_UNSPEC; \
	vqdev_read(e, 0, &c, sizeof(c))

static uint32_t do_display_info(struct vgpu *g, struct vqdev_elem *e, size_t *out_len)
{
	struct virtio_gpu_resp_display_info r = { 0 };

	if (e->wr_len < sizeof(r))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	for (uint32_t i = 0; i < g->config.num_scanouts; i++) {
		r.pmodes[i].r.width = 1024;
		r.pmodes[i].r.height = 768;
		r.pmodes[i].enabled = 1;
	}
	r.hdr.type = VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
	vqdev_write(e, 0, &r, sizeof(r));
	*out_len = sizeof(r);
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

/* A minimal EDID 1.3 block: 1024x768 preferred, our own vendor code. */
static void make_edid(uint8_t *b)
{
	static const uint8_t head[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	uint8_t sum = 0;

	memset(b, 0, 128);
	memcpy(b, head, 8);
	b[8] = 0x5a;  /* "VRG" packed as three 5-bit letters */
	b[9] = 0xe7;
	b[18] = 1;    /* version 1.3 */
	b[19] = 3;
	b[20] = 0x80; /* digital input */
	b[21] = 32;   /* cm */
	b[22] = 24;
	b[24] = 0x0a; /* RGB, preferred timing is native */
	/* detailed timing: 65 MHz, 1024x768 with standard blanking */
	b[54] = 0x64; b[55] = 0x19;
	b[56] = 0x00; b[57] = 0x40; b[58] = 0x41;
	b[59] = 0x00; b[60] = 0x26; b[61] = 0x30;
	b[62] = 0x18; b[63] = 0x88; b[64] = 0x36; b[65] = 0x00;
	b[66] = 0x40; b[67] = 0x30; b[68] = 0x21;
	b[71] = 0x1e;
	b[75] = 0xfc; /* monitor name */
	memcpy(&b[77], "virgo-host\n  ", 13);
	for (int i = 0; i < 127; i++)
		sum = (uint8_t)(sum + b[i]);
	b[127] = (uint8_t)(0x100 - sum);
}

static uint32_t do_edid(struct vgpu *g, struct vqdev_elem *e, size_t *out_len)
{
	NEED(struct virtio_gpu_get_edid);
	struct virtio_gpu_resp_edid r = { 0 };

	if (c.scanout >= g->config.num_scanouts)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	if (e->wr_len < sizeof(r))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	make_edid(r.edid);
	r.size = 128;
	r.hdr.type = VIRTIO_GPU_RESP_OK_EDID;
	vqdev_write(e, 0, &r, sizeof(r));
	*out_len = sizeof(r);
	return VIRTIO_GPU_RESP_OK_EDID;
}

static uint32_t do_capset_info(struct vgpu *g, struct vqdev_elem *e, size_t *out_len)
{
	NEED(struct virtio_gpu_get_capset_info);
	struct virtio_gpu_resp_capset_info r = { 0 };

	if (c.capset_index >= g->ncapsets)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (e->wr_len < sizeof(r))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	r.capset_id = g->capset_ids[c.capset_index];
	virgl_renderer_get_cap_set(r.capset_id, &r.capset_max_version, &r.capset_max_size);
	r.hdr.type = VIRTIO_GPU_RESP_OK_CAPSET_INFO;
	vqdev_write(e, 0, &r, sizeof(r));
	*out_len = sizeof(r);
	return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

static uint32_t do_capset(struct vgpu *g, struct vqdev_elem *e, size_t *out_len)
{
	NEED(struct virtio_gpu_get_capset);
	uint32_t max_ver = 0, max_size = 0;
	struct virtio_gpu_ctrl_hdr h = { .type = VIRTIO_GPU_RESP_OK_CAPSET };
	uint8_t *data;
	bool known = false;

	for (uint32_t i = 0; i < g->ncapsets; i++)
		known |= g->capset_ids[i] == c.capset_id;
	if (known)
		virgl_renderer_get_cap_set(c.capset_id, &max_ver, &max_size);
	if (!known || !max_size || c.capset_version == 0 || c.capset_version > max_ver)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (e->wr_len < sizeof(h) + max_size)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	data = calloc(1, max_size);
	if (!data)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	virgl_renderer_fill_caps(c.capset_id, c.capset_version, data);
	vqdev_write(e, 0, &h, sizeof(h));
	vqdev_write(e, sizeof(h), data, max_size);
	free(data);
	*out_len = sizeof(h) + max_size;
	return VIRTIO_GPU_RESP_OK_CAPSET;
}

static uint32_t new_res(struct vgpu *g, uint32_t id, struct virgl_renderer_resource_create_args *a)
{
	uint64_t bytes = vgpu_mem_estimate(a->target, a->format, a->width, a->height, a->depth, a->array_size,
					   a->last_level, a->nr_samples);
	struct vres *r;

	if (id == 0 || find_res(g, id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (vgpu_mem_charge(g, bytes)) {
		hlog(HLOG_INFO, "resource %u: %llu bytes would pass the host memory budget (%llu of %llu in use)", id,
		     (unsigned long long)bytes, (unsigned long long)g->st.hostmem,
		     (unsigned long long)g->cfg.max_hostmem);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		vgpu_mem_release(g, bytes);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	a->handle = id;
	if (virgl_renderer_resource_create(a, NULL, 0)) {
		vgpu_mem_release(g, bytes);
		free(r);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	r->id = id;
	r->hostmem = bytes;
	r->last_level = a->last_level;
	r->next = g->res;
	g->res = r;
	g->st.resources++;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_create_2d(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_resource_create_2d);
	struct virgl_renderer_resource_create_args a = {
		.target = 2, .format = c.format, .bind = 1u << 1, .width = c.width, .height = c.height,
		.depth = 1, .array_size = 1, .flags = VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP,
	};

	return new_res(g, c.resource_id, &a);
}

static uint32_t do_create_3d(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_resource_create_3d);
	struct virgl_renderer_resource_create_args a = {
		.target = c.target, .format = c.format, .bind = c.bind, .width = c.width, .height = c.height,
		.depth = c.depth, .array_size = c.array_size, .last_level = c.last_level,
		.nr_samples = c.nr_samples, .flags = c.flags,
	};

	return new_res(g, c.resource_id, &a);
}

static uint32_t do_unref(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_resource_unref);
	struct vres *r = find_res(g, c.resource_id);

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	vgpu_res_destroy(g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_attach(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_resource_attach_backing);
	struct vres *r = find_res(g, c.resource_id);
	struct iovec *iov = NULL;
	uint32_t ret;

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (r->iov || r->blob)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	ret = map_entries(g, e, sizeof(c), c.nr_entries, &iov);
	if (ret)
		return ret;
	if (virgl_renderer_resource_attach_iov((int)r->id, iov, (int)c.nr_entries)) {
		free(iov);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	r->iov = iov;
	r->niov = c.nr_entries;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_detach(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_resource_detach_backing);
	struct vres *r = find_res(g, c.resource_id);

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->iov || r->blob)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	res_drop_backing(g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_ctx_create(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_ctx_create);
	uint32_t capset = c.context_init & VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
	struct vctx *x;
	int ret;

	if (c.hdr.ctx_id == 0 || find_ctx(g, c.hdr.ctx_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (c.nlen > sizeof(c.debug_name) || (c.context_init & ~VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (capset && !(vpci_features(&g->pci) & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT)))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	x = calloc(1, sizeof(*x));
	if (!x)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	if (capset)
		ret = virgl_renderer_context_create_with_flags(c.hdr.ctx_id, capset, c.nlen, c.debug_name);
	else
		ret = virgl_renderer_context_create(c.hdr.ctx_id, c.nlen, c.debug_name);
	if (ret) {
		free(x);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	x->id = c.hdr.ctx_id;
	x->next = g->ctx;
	g->ctx = x;
	g->st.contexts++;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

void vgpu_ctx_destroy(struct vgpu *g, struct vctx *x)
{
	struct vctx **pp = &g->ctx;

	while (*pp != x)
		pp = &(*pp)->next;
	*pp = x->next;
	virgl_renderer_context_destroy(x->id);
	vgpu_mem_drop_pending(g, x);
	free(x);
	g->st.contexts--;
}

static uint32_t do_ctx_destroy(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_ctx_destroy);
	struct vctx *x = find_ctx(g, c.hdr.ctx_id);

	if (!x)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	vgpu_ctx_destroy(g, x);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_ctx_resource(struct vgpu *g, struct vqdev_elem *e, bool attach)
{
	NEED(struct virtio_gpu_ctx_resource);

	if (!find_ctx(g, c.hdr.ctx_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (!find_res(g, c.resource_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (attach)
		virgl_renderer_ctx_attach_resource((int)c.hdr.ctx_id, (int)c.resource_id);
	else
		virgl_renderer_ctx_detach_resource((int)c.hdr.ctx_id, (int)c.resource_id);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_submit(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_cmd_submit);
	struct vctx *x = find_ctx(g, c.hdr.ctx_id);
	uint32_t charged;
	void *buf;
	int ret;

	if (!x)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (c.size > MAX_SUBMIT || (c.size & 3) || e->rd_len - sizeof(c) < c.size)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (!c.size)
		return VIRTIO_GPU_RESP_OK_NODATA;
	buf = malloc(c.size);
	if (!buf)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	vqdev_read(e, sizeof(c), buf, c.size);
	/* A stream virglrenderer rejects may have made some of its objects
	 * before the bad command: its charges stay with the context. */
	charged = vgpu_mem_charge_stream(g, x, buf, c.size / 4);
	if (charged) {
		free(buf);
		hlog(HLOG_INFO, "ctx %u: the stream's resources would pass the host memory budget", c.hdr.ctx_id);
		return charged;
	}
	ret = virgl_renderer_submit_cmd(buf, (int)c.hdr.ctx_id, (int)(c.size / 4));
	free(buf);
	if (ret) {
		hlog(HLOG_INFO, "ctx %u: command stream rejected (%d)", c.hdr.ctx_id, ret);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_transfer_2d(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_transfer_to_host_2d);
	struct virtio_gpu_box box = { c.r.x, c.r.y, 0, c.r.width, c.r.height, 1 };
	struct vres *r = find_res(g, c.resource_id);

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->iov)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (virgl_renderer_transfer_write_iov(r->id, 0, 0, 0, 0, vbox(&box), c.offset, NULL, 0))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_transfer_3d(struct vgpu *g, struct vqdev_elem *e, bool to_host)
{
	NEED(struct virtio_gpu_transfer_host_3d);
	struct virtio_gpu_box box = c.box;
	struct vres *r = find_res(g, c.resource_id);
	int ret;

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (c.hdr.ctx_id && !find_ctx(g, c.hdr.ctx_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (!r->iov)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	/* virglrenderer 0.10.4 takes the level of a write as an int and checks
	 * it only against the top: level 2^31 arrived as a negative index and
	 * wrote outside its arrays (found by fuzz_device, tests/fuzz/regress/
	 * fuzz_device/transfer-level-2g.bin). A level the resource has not got
	 * goes no further. */
	if (c.level > r->last_level)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (to_host)
		ret = virgl_renderer_transfer_write_iov(r->id, c.hdr.ctx_id, (int)c.level, c.stride, c.layer_stride,
							vbox(&box), c.offset, NULL, 0);
	else
		ret = virgl_renderer_transfer_read_iov(r->id, c.hdr.ctx_id, c.level, c.stride, c.layer_stride,
						       vbox(&box), c.offset, NULL, 0);
	return ret ? VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER : VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_create_blob(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_resource_create_blob);
	struct virgl_renderer_resource_create_blob_args a = { 0 };
	struct iovec *iov = NULL;
	struct vctx *x = NULL;
	struct vres *r;
	uint32_t ret;

	if (!(vpci_features(&g->pci) & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (c.resource_id == 0 || find_res(g, c.resource_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (c.blob_mem < VIRTIO_GPU_BLOB_MEM_GUEST || c.blob_mem > VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST ||
	    (c.blob_flags & ~7u) || !c.size)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (c.blob_mem != VIRTIO_GPU_BLOB_MEM_GUEST && !(x = find_ctx(g, c.hdr.ctx_id)))
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (c.blob_mem != VIRTIO_GPU_BLOB_MEM_HOST3D) {
		uint64_t total = 0;

		ret = map_entries(g, e, sizeof(c), c.nr_entries, &iov);
		if (ret)
			return ret;
		for (uint32_t i = 0; i < c.nr_entries; i++)
			total += iov[i].iov_len;
		if (total < c.size) {
			free(iov);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
	} else if (c.nr_entries) {
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(iov);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	a.res_handle = c.resource_id;
	a.ctx_id = c.hdr.ctx_id;
	a.blob_mem = c.blob_mem;
	a.blob_flags = c.blob_flags;
	a.blob_id = c.blob_id;
	a.size = c.size;
	a.iovecs = iov;
	a.num_iovs = iov ? c.nr_entries : 0;
	if (virgl_renderer_resource_create_blob(&a)) {
		free(iov);
		free(r);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	r->id = c.resource_id;
	r->blob = true;
	r->blob_size = c.size;
	/* The host object was made (and charged) by the stream's
	 * PIPE_RESOURCE_CREATE; GUEST blobs live in guest RAM. */
	if (x)
		r->hostmem = vgpu_mem_take_pending(x, c.blob_id);
	r->iov = iov;
	r->niov = iov ? c.nr_entries : 0;
	r->next = g->res;
	g->res = r;
	g->st.resources++;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_scanout(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_set_scanout);

	/* No display here: the state is checked and accepted. */
	if (c.scanout_id >= g->config.num_scanouts)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	if (c.resource_id && !find_res(g, c.resource_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_flush(struct vgpu *g, struct vqdev_elem *e)
{
	NEED(struct virtio_gpu_resource_flush);

	return find_res(g, c.resource_id) ? VIRTIO_GPU_RESP_OK_NODATA : VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
}

static uint32_t do_cursor(struct vgpu *g, struct vqdev_elem *e, bool update)
{
	NEED(struct virtio_gpu_update_cursor);

	if (c.pos.scanout_id >= g->config.num_scanouts)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	if (update && c.resource_id && !find_res(g, c.resource_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	g->cursor_x = c.pos.x;
	g->cursor_y = c.pos.y;
	if (update)
		g->cursor_res = c.resource_id;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t vgpu_dispatch(struct vgpu *g, uint16_t qi, const struct virtio_gpu_ctrl_hdr *h, struct vqdev_elem *e,
		       size_t *out_len)
{
	bool virgl = vpci_features(&g->pci) & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL);

	if (qi == 1) {
		if (h->type == VIRTIO_GPU_CMD_UPDATE_CURSOR || h->type == VIRTIO_GPU_CMD_MOVE_CURSOR)
			return do_cursor(g, e, h->type == VIRTIO_GPU_CMD_UPDATE_CURSOR);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (h->type >= VIRTIO_GPU_CMD_CTX_CREATE && h->type <= VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB && !virgl)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	/* virglrenderer keeps its own note of which GL context is current,
	 * and runs a command that names no context in whichever that is.
	 * Without putting it back on its own (context 0) before every command,
	 * as QEMU and vhost-user-gpu do, one client's GL contexts took
	 * another's work: piglit two at a time failed 40 of 92 runs (black
	 * textures, lost clears), all of which pass alone. SUBMIT_3D is the
	 * exception: virglrenderer makes the submitting context current
	 * itself before it decodes the stream, so a switch to context 0 first
	 * is one more unbind and flush of the client's GL context for nothing,
	 * and state-heavy frames paid about 17 % for it (docs/performance.md). */
	if (virgl && h->type != VIRTIO_GPU_CMD_SUBMIT_3D)
		virgl_renderer_force_ctx_0();
	switch (h->type) {
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO: return do_display_info(g, e, out_len);
	case VIRTIO_GPU_CMD_GET_EDID: return do_edid(g, e, out_len);
	case VIRTIO_GPU_CMD_GET_CAPSET_INFO: return do_capset_info(g, e, out_len);
	case VIRTIO_GPU_CMD_GET_CAPSET: return do_capset(g, e, out_len);
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: return do_create_2d(g, e);
	case VIRTIO_GPU_CMD_RESOURCE_UNREF: return do_unref(g, e);
	case VIRTIO_GPU_CMD_SET_SCANOUT: return do_scanout(g, e);
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH: return do_flush(g, e);
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: return do_transfer_2d(g, e);
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: return do_attach(g, e);
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: return do_detach(g, e);
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB: return do_create_blob(g, e);
	case VIRTIO_GPU_CMD_CTX_CREATE: return do_ctx_create(g, e);
	case VIRTIO_GPU_CMD_CTX_DESTROY: return do_ctx_destroy(g, e);
	case VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE: return do_ctx_resource(g, e, true);
	case VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE: return do_ctx_resource(g, e, false);
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_3D: return do_create_3d(g, e);
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D: return do_transfer_3d(g, e, true);
	case VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D: return do_transfer_3d(g, e, false);
	case VIRTIO_GPU_CMD_SUBMIT_3D: return do_submit(g, e);
	default:
		/* MAP_BLOB/UNMAP_BLOB need a host-visible region this device
		 * does not have; SET_SCANOUT_BLOB and ASSIGN_UUID are not
		 * offered. */
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
}

