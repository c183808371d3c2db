/* SPDX-License-Identifier: MIT */
/*
 * fake_res.c: resources of the fake device and the commands on them:
 * 2D/3D/blob creation, unref, guest backing (attach/detach, every memory
 * entry resolved in guest RAM and marked as the device's), transfers
 * between the backing and the resource's "host storage", blob mapping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_priv.h"

#define MAX_MEM_ENTRIES VIRGO_QEMU_MAX_MEM_ENTRIES

/* ---- objects --------------------------------------------------------------- */

struct fake_res *fgpu_find_res(struct fake_dev *d, uint32_t id)
{
	for (struct fake_res *r = d->res; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

bool fgpu_res_attached(const struct fake_res *r, uint32_t ctx)
{
	for (unsigned i = 0; i < r->nctxs; i++)
		if (r->ctxs[i] == ctx)
			return true;
	return false;
}

bool fgpu_res_attach(struct fake_res *r, uint32_t ctx)
{
	uint32_t *n;

	if (fgpu_res_attached(r, ctx))
		return true;
	n = realloc(r->ctxs, (r->nctxs + 1) * sizeof(*n));
	if (!n)
		return false;
	r->ctxs = n;
	r->ctxs[r->nctxs++] = ctx;
	return true;
}

void fgpu_res_detach(struct fake_res *r, uint32_t ctx)
{
	for (unsigned i = 0; i < r->nctxs; i++) {
		if (r->ctxs[i] == ctx) {
			r->ctxs[i] = r->ctxs[--r->nctxs];
			return;
		}
	}
}

static void drop_backing(struct fake_dev *d, struct fake_res *r)
{
	for (uint32_t i = 0; i < r->nents; i++)
		fram_ref(&d->os->ram, r->ents[i].addr, r->ents[i].length, -1);
	free(r->ents);
	r->ents = NULL;
	r->nents = 0;
	r->backing = 0;
	r->has_backing = false;
}

void fgpu_free_res(struct fake_dev *d, struct fake_res *r)
{
	drop_backing(d, r);
	/* A mapped blob's storage is the region's, not ours to free. */
	if (!r->mapped)
		free(r->storage);
	free(r->ctxs);
	free(r);
}

bool fake_dev_has_res(struct fake_dev *d, uint32_t res_id)
{
	return fgpu_find_res(d, res_id) != NULL;
}

bool fake_dev_res_attached(struct fake_dev *d, uint32_t res_id, uint32_t ctx_id)
{
	struct fake_res *r = fgpu_find_res(d, res_id);

	return r && fgpu_res_attached(r, ctx_id);
}

uint64_t fake_dev_res_backing(struct fake_dev *d, uint32_t res_id)
{
	struct fake_res *r = fgpu_find_res(d, res_id);

	return r ? r->backing : 0;
}

uint8_t *fake_dev_res_storage(struct fake_dev *d, uint32_t res_id, size_t *len)
{
	struct fake_res *r = fgpu_find_res(d, res_id);

	*len = r ? r->storage_len : 0;
	return r ? r->storage : NULL;
}

/* ---- helpers --------------------------------------------------------------- */

/* Resolves and references mem entries; false (with bad_addr counted) when one
 * lies outside allocated RAM. */
static bool take_entries(struct fake_dev *d, struct fake_req *r, const uint8_t *p, uint32_t n,
			 struct virtio_gpu_mem_entry **out, uint64_t *total)
{
	struct virtio_gpu_mem_entry *e = calloc(n ? n : 1, sizeof(*e));

	*out = NULL;
	*total = 0;
	if (!e) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
		return false;
	}
	memcpy(e, p, (size_t)n * sizeof(*e));
	for (uint32_t i = 0; i < n; i++) {
		if (!fram_resolve(&d->os->ram, e[i].addr, e[i].length)) {
			d->st.bad_addr++;
			fake_driver_error(d->os, "memory entry %u (%#llx + %u) outside allocated guest RAM",
					  i, (unsigned long long)e[i].addr, e[i].length);
			free(e);
			fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
			return false;
		}
		*total += e[i].length;
	}
	for (uint32_t i = 0; i < n; i++)
		fram_ref(&d->os->ram, e[i].addr, e[i].length, 1);
	*out = e;
	return true;
}

/* Host storage grows to cover the backing; contents are kept. */
static bool grow_storage(struct fake_res *res, uint64_t size)
{
	uint8_t *p;

	if (size <= res->storage_len)
		return true;
	if (!res->storage) {
		/* calloc, not realloc + memset: a large block comes straight
		 * from mmap, so a 1 GiB HOST3D blob costs only the pages a
		 * transfer touches (the fuzzers create thousands of them). */
		p = calloc(1, size);
		if (!p)
			return false;
		res->storage = p;
		res->storage_len = size;
		return true;
	}
	p = realloc(res->storage, size);
	if (!p)
		return false;
	memset(p + res->storage_len, 0, size - res->storage_len);
	res->storage = p;
	res->storage_len = size;
	return true;
}

/* Copies len bytes at offset between the backing and the host storage. */
static void copy_backing(struct fake_dev *d, struct fake_res *res, uint64_t offset, uint64_t len,
			 bool to_host)
{
	uint64_t pos = 0;

	for (uint32_t i = 0; i < res->nents && len; i++) {
		uint64_t elen = res->ents[i].length, in, chunk;
		uint8_t *g;

		if (offset >= pos + elen) {
			pos += elen;
			continue;
		}
		in = offset - pos;
		chunk = elen - in < len ? elen - in : len;
		g = fram_resolve(&d->os->ram, res->ents[i].addr + in, chunk);
		if (!g) {
			d->st.bad_addr++;
			fake_driver_error(d->os, "resource %u: backing freed while attached", res->id);
			return;
		}
		if (to_host)
			memcpy(res->storage + offset, g, chunk);
		else
			memcpy(g, res->storage + offset, chunk);
		offset += chunk;
		len -= chunk;
		pos += elen;
	}
}

/* ---- commands -------------------------------------------------------------- */

static bool known_2d_format(uint32_t f)
{
	switch (f) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM: case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM: case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM: case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM: case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return true;
	default:
		return false;
	}
}

/* True if id may name a new resource, else the answer is set. */
static bool id_free(struct fake_dev *d, struct fake_req *r, uint32_t id)
{
	r->rec->resource_id = id;
	if (id && !fgpu_find_res(d, id))
		return true;
	fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	return false;
}

/* A new resource (its id checked with id_free), or NULL with the answer set. */
static struct fake_res *new_res(struct fake_req *r, uint32_t id)
{
	struct fake_res *res = calloc(1, sizeof(*res));

	if (!res) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
		return NULL;
	}
	res->id = id;
	return res;
}

static void link_res(struct fake_dev *d, struct fake_res *res)
{
	res->next = d->res;
	d->res = res;
}

void fres_create_2d(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_resource_create_2d q;
	struct fake_res *res;

	if (!fgpu_need(d, r, sizeof(q), "RESOURCE_CREATE_2D"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (!id_free(d, r, q.resource_id))
		return;
	if (!q.width || !q.height || !known_2d_format(q.format)) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	res = new_res(r, q.resource_id);
	if (!res)
		return;
	res->target = 2;  /* PIPE_TEXTURE_2D */
	res->format = q.format;
	res->bind = 2;    /* PIPE_BIND_RENDER_TARGET */
	res->width = q.width;
	res->height = q.height;
	res->depth = res->array_size = 1;
	link_res(d, res);
	fgpu_ok(r);
}

void fres_unref(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_resource_unref q;
	struct fake_res *res;

	if (!fgpu_need(d, r, sizeof(q), "RESOURCE_UNREF"))
		return;
	memcpy(&q, r->req, sizeof(q));
	res = fgpu_need_res(d, r, q.resource_id);
	if (!res)
		return;
	for (struct fake_res **pp = &d->res; *pp; pp = &(*pp)->next) {
		if (*pp == res) {
			*pp = res->next;
			break;
		}
	}
	fgpu_free_res(d, res);
	fgpu_ok(r);
}

void fres_set_scanout(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_set_scanout q;

	if (!fgpu_need(d, r, sizeof(q), "SET_SCANOUT"))
		return;
	memcpy(&q, r->req, sizeof(q));
	r->rec->resource_id = q.resource_id;
	if (q.scanout_id >= d->cfg.num_scanouts)
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	else if (q.resource_id && !fgpu_find_res(d, q.resource_id))
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	else
		fgpu_ok(r);
}

void fres_flush(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_resource_flush q;

	if (!fgpu_need(d, r, sizeof(q), "RESOURCE_FLUSH"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (fgpu_need_res(d, r, q.resource_id))
		fgpu_ok(r);
}

void fres_transfer_2d(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_transfer_to_host_2d q;
	struct fake_res *res;
	uint64_t len;

	if (!fgpu_need(d, r, sizeof(q), "TRANSFER_TO_HOST_2D"))
		return;
	memcpy(&q, r->req, sizeof(q));
	res = fgpu_need_res(d, r, q.resource_id);
	if (!res)
		return;
	if (!res->has_backing) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
		return;
	}
	len = (uint64_t)q.r.width * q.r.height * 4;
	if ((uint64_t)q.r.x + q.r.width > res->width || (uint64_t)q.r.y + q.r.height > res->height ||
	    q.offset > res->backing || len > res->backing - q.offset) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	copy_backing(d, res, q.offset, len, true);
	fgpu_ok(r);
}

void fres_attach_backing(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_resource_attach_backing q;
	struct virtio_gpu_mem_entry *ents;
	struct fake_res *res;
	uint64_t total;

	if (!fgpu_need(d, r, sizeof(q), "RESOURCE_ATTACH_BACKING"))
		return;
	memcpy(&q, r->req, sizeof(q));
	res = fgpu_need_res(d, r, q.resource_id);
	if (!res)
		return;
	if (q.nr_entries > MAX_MEM_ENTRIES) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);  /* QEMU 7.2's limit */
		return;
	}
	if (!fgpu_need(d, r, sizeof(q) + (size_t)q.nr_entries * sizeof(*ents), "RESOURCE_ATTACH_BACKING entries"))
		return;
	if (!q.nr_entries) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	if (res->has_backing) {
		fake_note(d->os, "resource %u already has backing", res->id);
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
		return;
	}
	if (!take_entries(d, r, r->req + sizeof(q), q.nr_entries, &ents, &total))
		return;
	if (!grow_storage(res, total)) {
		for (uint32_t i = 0; i < q.nr_entries; i++)
			fram_ref(&d->os->ram, ents[i].addr, ents[i].length, -1);
		free(ents);
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
		return;
	}
	res->ents = ents;
	res->nents = q.nr_entries;
	res->backing = total;
	res->has_backing = true;
	fgpu_ok(r);
}

void fres_detach_backing(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_resource_detach_backing q;
	struct fake_res *res;

	if (!fgpu_need(d, r, sizeof(q), "RESOURCE_DETACH_BACKING"))
		return;
	memcpy(&q, r->req, sizeof(q));
	res = fgpu_need_res(d, r, q.resource_id);
	if (!res)
		return;
	if (!res->has_backing) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
		return;
	}
	drop_backing(d, res);
	fgpu_ok(r);
}

void fres_assign_uuid(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_resource_assign_uuid q;
	struct virtio_gpu_resp_resource_uuid a;

	if (!fgpu_need(d, r, sizeof(q), "RESOURCE_ASSIGN_UUID") ||
	    !fgpu_need_feature(d, r, VIRTIO_GPU_F_RESOURCE_UUID, "RESOURCE_ASSIGN_UUID"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (!fgpu_need_res(d, r, q.resource_id))
		return;
	memset(&a, 0, sizeof(a));
	a.hdr.type = VIRTIO_GPU_RESP_OK_RESOURCE_UUID;
	memcpy(a.uuid, &q.resource_id, 4);
	memcpy(r->resp, &a, sizeof(a));
	r->resp_len = sizeof(a);
}

/* ---- blob commands ----------------------------------------------------------- */

void fres_create_blob(struct fake_dev *d, struct fake_req *r, uint32_t ctx_id)
{
	struct virtio_gpu_resource_create_blob q;
	struct virtio_gpu_mem_entry *ents = NULL;
	struct fake_res *res;
	uint64_t total = 0;
	bool host;

	if (!fgpu_need(d, r, sizeof(q), "RESOURCE_CREATE_BLOB") ||
	    !fgpu_need_feature(d, r, VIRTIO_GPU_F_RESOURCE_BLOB, "RESOURCE_CREATE_BLOB"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (!id_free(d, r, q.resource_id))
		return;
	if (q.nr_entries > MAX_MEM_ENTRIES) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
		return;
	}
	if (!fgpu_need(d, r, sizeof(q) + (size_t)q.nr_entries * sizeof(*ents), "RESOURCE_CREATE_BLOB entries"))
		return;
	host = q.blob_mem == VIRTIO_GPU_BLOB_MEM_HOST3D || q.blob_mem == VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST;
	if (q.blob_mem < VIRTIO_GPU_BLOB_MEM_GUEST || q.blob_mem > VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST ||
	    (q.blob_flags & ~7u) || !q.size ||
	    (q.blob_mem == VIRTIO_GPU_BLOB_MEM_HOST3D && q.nr_entries) ||
	    (q.blob_mem == VIRTIO_GPU_BLOB_MEM_GUEST && !q.nr_entries)) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	if (host) {
		if (!fgpu_need_feature(d, r, VIRTIO_GPU_F_VIRGL, "RESOURCE_CREATE_BLOB HOST3D") ||
		    !fgpu_need_ctx(d, r, ctx_id))
			return;
	}
	if (q.nr_entries && !take_entries(d, r, r->req + sizeof(q), q.nr_entries, &ents, &total))
		return;
	if (q.nr_entries && total < q.size) {
		for (uint32_t i = 0; i < q.nr_entries; i++)
			fram_ref(&d->os->ram, ents[i].addr, ents[i].length, -1);
		free(ents);
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	res = new_res(r, q.resource_id);
	if (res && !grow_storage(res, q.size > total ? q.size : total)) {
		free(res);
		res = NULL;
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	}
	if (!res) {
		for (uint32_t i = 0; i < q.nr_entries; i++)
			fram_ref(&d->os->ram, ents[i].addr, ents[i].length, -1);
		free(ents);
		return;
	}
	res->blob = true;
	res->target = 0;  /* a blob is a buffer of bytes */
	res->width = (uint32_t)q.size;
	res->height = res->depth = res->array_size = 1;
	res->blob_mem = q.blob_mem;
	res->blob_flags = q.blob_flags;
	res->blob_id = q.blob_id;
	res->blob_size = q.size;
	res->ents = ents;
	res->nents = q.nr_entries;
	res->backing = total;
	res->has_backing = q.nr_entries != 0;
	if (host && !fgpu_res_attach(res, ctx_id)) {
		fgpu_free_res(d, res);
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
		return;
	}
	link_res(d, res);
	fgpu_ok(r);
}

void fres_map_blob(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_resource_map_blob q;
	struct virtio_gpu_resp_map_info a;
	struct fake_res *res;

	if (!fgpu_need(d, r, sizeof(q), "RESOURCE_MAP_BLOB") ||
	    !fgpu_need_feature(d, r, VIRTIO_GPU_F_RESOURCE_BLOB, "RESOURCE_MAP_BLOB"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (!d->cfg.hostmem_size) {
		fake_driver_error(d->os, "RESOURCE_MAP_BLOB without a host-visible region");
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
		return;
	}
	res = fgpu_need_res(d, r, q.resource_id);
	if (!res)
		return;
	if (!res->blob || res->blob_mem == VIRTIO_GPU_BLOB_MEM_GUEST || res->mapped ||
	    !(res->blob_flags & VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE) ||
	    q.offset > d->cfg.hostmem_size || res->blob_size > d->cfg.hostmem_size - q.offset) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	for (struct fake_res *o = d->res; o; o = o->next) {
		if (o->mapped && q.offset < o->map_off + o->blob_size &&
		    o->map_off < q.offset + res->blob_size) {
			fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
			return;
		}
	}
	/* From now on the blob's storage is its range of the region: what a
	 * user mapping of it writes, the device reads, and the other way. */
	if (res->storage) {
		memcpy(d->hostmem + q.offset, res->storage,
		       res->storage_len < res->blob_size ? res->storage_len : res->blob_size);
		free(res->storage);
	} else {
		memset(d->hostmem + q.offset, 0, res->blob_size);
	}
	res->storage = d->hostmem + q.offset;
	res->storage_len = res->blob_size;
	res->mapped = true;
	res->map_off = q.offset;
	memset(&a, 0, sizeof(a));
	a.hdr.type = VIRTIO_GPU_RESP_OK_MAP_INFO;
	a.map_info = d->map_info;
	memcpy(r->resp, &a, sizeof(a));
	r->resp_len = sizeof(a);
}

void fres_unmap_blob(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_resource_unmap_blob q;
	struct fake_res *res;

	if (!fgpu_need(d, r, sizeof(q), "RESOURCE_UNMAP_BLOB") ||
	    !fgpu_need_feature(d, r, VIRTIO_GPU_F_RESOURCE_BLOB, "RESOURCE_UNMAP_BLOB"))
		return;
	memcpy(&q, r->req, sizeof(q));
	res = fgpu_need_res(d, r, q.resource_id);
	if (!res)
		return;
	if (!res->mapped) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	fres_unmap_storage(res);
	fgpu_ok(r);
}

void fres_unmap_storage(struct fake_res *res)
{
	uint8_t *p = malloc(res->storage_len ? res->storage_len : 1);

	if (!p) {
		fprintf(stderr, "fake: out of memory\n");
		abort();
	}
	memcpy(p, res->storage, res->storage_len);
	res->storage = p;
	res->mapped = false;
}

bool fres_region_mapped(struct fake_dev *d, uint64_t off, uint64_t len)
{
	/* One blob covers a user mapping of the core's (it maps blob by blob). */
	for (struct fake_res *o = d->res; o; o = o->next)
		if (o->mapped && off >= o->map_off && len <= o->blob_size + OS_PAGE_SIZE - 1 &&
		    off + len <= o->map_off + ((o->blob_size + OS_PAGE_SIZE - 1) & ~(uint64_t)(OS_PAGE_SIZE - 1)))
			return true;
	return false;
}

void fres_create_3d(struct fake_dev *d, struct fake_req *r)
{
	struct virtio_gpu_resource_create_3d q;
	struct fake_res *res;

	if (!fgpu_need(d, r, sizeof(q), "RESOURCE_CREATE_3D"))
		return;
	memcpy(&q, r->req, sizeof(q));
	if (!id_free(d, r, q.resource_id))
		return;
	if (!q.width || !q.height || !q.depth || !q.array_size) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	res = new_res(r, q.resource_id);
	if (!res)
		return;
	res->target = q.target;
	res->format = q.format;
	res->bind = q.bind;
	res->width = q.width;
	res->height = q.height;
	res->depth = q.depth;
	res->array_size = q.array_size;
	res->last_level = q.last_level;
	res->nr_samples = q.nr_samples;
	res->flags = q.flags;
	link_res(d, res);
	fgpu_ok(r);
}

void fres_transfer_3d(struct fake_dev *d, struct fake_req *r, uint32_t ctx_id, bool to_host)
{
	struct virtio_gpu_transfer_host_3d q;
	struct fake_res *res;
	uint64_t len;

	if (!fgpu_need(d, r, sizeof(q), to_host ? "TRANSFER_TO_HOST_3D" : "TRANSFER_FROM_HOST_3D"))
		return;
	memcpy(&q, r->req, sizeof(q));
	r->rec->resource_id = q.resource_id;
	if (ctx_id && !fgpu_need_ctx(d, r, ctx_id))
		return;
	res = fgpu_need_res(d, r, q.resource_id);
	if (!res)
		return;
	if (ctx_id && !fgpu_res_attached(res, ctx_id)) {
		/* virglrenderer looks the resource up in the context's table */
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
		return;
	}
	if (!res->has_backing) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_UNSPEC);
		return;
	}
	if (res->target == 0)
		len = q.box.w;
	else
		len = (uint64_t)q.box.w * q.box.h * q.box.d * 4;
	if ((uint64_t)q.box.x + q.box.w > res->width ||
	    (res->target && (uint64_t)q.box.y + q.box.h > res->height) ||
	    (res->target && (uint64_t)q.box.z + q.box.d > (uint64_t)res->depth * res->array_size) ||
	    q.offset > res->backing || len > res->backing - q.offset) {
		fgpu_set_type(r, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		return;
	}
	copy_backing(d, res, q.offset, len, to_host);
	fgpu_ok(r);
}
