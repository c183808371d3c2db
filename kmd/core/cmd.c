/* SPDX-License-Identifier: MIT */
#include "cmd.h"

static void hdr_init(struct virtio_gpu_ctrl_hdr *h, uint32_t type, uint32_t ctx_id)
{
	h->type = type;
	h->ctx_id = ctx_id;
}

/* A request whose fixed part is `len` bytes, answered with OK_NODATA. */
static int new_nodata(struct gpu_dev *dev, uint32_t len, uint32_t type, uint32_t ctx_id,
		      struct gpu_req **out)
{
	int ret = gpu_req_new(dev, len, sizeof(struct virtio_gpu_ctrl_hdr), 0, out);

	if (!ret)
		hdr_init(gpu_req_cmd(*out), type, ctx_id);
	return ret;
}

static int call_copy(struct gpu_dev *dev, uint32_t type, uint32_t extra_word, uint32_t expect, void *out,
		     uint32_t out_len)
{
	struct gpu_req *r;
	/* GET_EDID carries the scanout; GET_DISPLAY_INFO is a bare header. */
	uint32_t req_len = (uint32_t)sizeof(struct virtio_gpu_ctrl_hdr) + (type == VIRTIO_GPU_CMD_GET_EDID ? 8 : 0);
	int ret = gpu_req_new(dev, req_len, out_len, 0, &r);

	if (ret)
		return ret;
	hdr_init(gpu_req_cmd(r), type, 0);
	if (type == VIRTIO_GPU_CMD_GET_EDID)
		((struct virtio_gpu_get_edid *)gpu_req_cmd(r))->scanout = extra_word;
	ret = gpu_call(dev, &r, expect);
	if (!r)
		return ret;
	if (!ret && r->resp_got < out_len)
		ret = -VIRGO_EPROTO;
	if (!ret)
		__builtin_memcpy(out, gpu_req_resp(r), out_len);
	gpu_req_free(dev, r);
	return ret;
}

int cmd_get_display_info(struct gpu_dev *dev, struct virtio_gpu_resp_display_info *out)
{
	return call_copy(dev, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0, VIRTIO_GPU_RESP_OK_DISPLAY_INFO, out,
			 sizeof(*out));
}

int cmd_get_edid(struct gpu_dev *dev, uint32_t scanout, struct virtio_gpu_resp_edid *out)
{
	if (!dev->has_edid)
		return -VIRGO_ENODEV;
	return call_copy(dev, VIRTIO_GPU_CMD_GET_EDID, scanout, VIRTIO_GPU_RESP_OK_EDID, out, sizeof(*out));
}

int cmd_ctx_create(struct gpu_dev *dev, uint32_t ctx_id, uint32_t context_init, const char *name)
{
	struct virtio_gpu_ctx_create *cmd;
	struct gpu_req *r;
	int ret = new_nodata(dev, sizeof(*cmd), VIRTIO_GPU_CMD_CTX_CREATE, ctx_id, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	cmd->context_init = context_init;
	for (uint32_t i = 0; name && name[i] && i < sizeof(cmd->debug_name) - 1; i++) {
		cmd->debug_name[i] = name[i];
		cmd->nlen = i + 1;
	}
	return gpu_call_nodata(dev, r);
}

int cmd_ctx_attach(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id)
{
	struct virtio_gpu_ctx_resource *cmd;
	struct gpu_req *r;
	int ret = new_nodata(dev, sizeof(*cmd), VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, ctx_id, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	cmd->resource_id = res_id;
	return gpu_call_nodata(dev, r);
}

int cmd_resource_create_3d(struct gpu_dev *dev, uint32_t res_id, const struct virgo_resource_create *rc)
{
	struct virtio_gpu_resource_create_3d *cmd;
	struct gpu_req *r;
	int ret = new_nodata(dev, sizeof(*cmd), VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, 0, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	cmd->resource_id = res_id;
	cmd->target = rc->target;
	cmd->format = rc->format;
	cmd->bind = rc->bind;
	cmd->width = rc->width;
	cmd->height = rc->height;
	cmd->depth = rc->depth;
	cmd->array_size = rc->array_size;
	cmd->last_level = rc->last_level;
	cmd->nr_samples = rc->nr_samples;
	cmd->flags = rc->flags;
	return gpu_call_nodata(dev, r);
}

static void fill_entries(struct virtio_gpu_mem_entry *e, const struct os_pages *pages)
{
	for (uint32_t i = 0; i < pages->nsg; i++) {
		e[i].addr = pages->sg[i].bus;
		e[i].length = (uint32_t)pages->sg[i].len;
		e[i].padding = 0;
	}
}

int cmd_resource_create_blob(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id,
			     const struct virgo_resource_create_blob *rc, const struct os_pages *pages)
{
	struct virtio_gpu_resource_create_blob *cmd;
	struct gpu_req *r;
	uint32_t n = pages ? pages->nsg : 0;
	int ret = new_nodata(dev, (uint32_t)(sizeof(*cmd) + n * sizeof(struct virtio_gpu_mem_entry)),
			     VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, ctx_id, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	cmd->resource_id = res_id;
	cmd->blob_mem = rc->blob_mem;
	cmd->blob_flags = rc->blob_flags;
	cmd->blob_id = rc->blob_id;
	cmd->size = rc->size;
	cmd->nr_entries = n;
	if (n)
		fill_entries((struct virtio_gpu_mem_entry *)(cmd + 1), pages);
	return gpu_call_nodata(dev, r);
}

int cmd_attach_backing(struct gpu_dev *dev, uint32_t res_id, const struct os_pages *pages)
{
	struct virtio_gpu_resource_attach_backing *cmd;
	struct gpu_req *r;
	int ret = new_nodata(dev, (uint32_t)(sizeof(*cmd) + pages->nsg * sizeof(struct virtio_gpu_mem_entry)),
			     VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, 0, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	cmd->resource_id = res_id;
	cmd->nr_entries = pages->nsg;
	fill_entries((struct virtio_gpu_mem_entry *)(cmd + 1), pages);
	return gpu_call_nodata(dev, r);
}

/* Teardown: CTX_DESTROY, CTX_DETACH_RESOURCE, RESOURCE_UNREF,
 * DETACH_BACKING. These use the device's reserve when memory is short. */
static int call_teardown(struct gpu_dev *dev, uint32_t type, uint32_t ctx_id, uint32_t res_id)
{
	uint32_t len = type == VIRTIO_GPU_CMD_CTX_DESTROY ? sizeof(struct virtio_gpu_ctx_destroy)
							   : sizeof(struct virtio_gpu_resource_unref);
	bool reserved = false;
	struct gpu_req *r;
	int ret = new_nodata(dev, len, type, ctx_id, &r);

	if (ret == -VIRGO_ENOMEM) {
		os_mutex_lock(dev->reserve_lock);
		r = dev->reserve;
		if (!r) {
			os_mutex_unlock(dev->reserve_lock);
			return ret;
		}
		reserved = true;
		gpu_req_reuse(r, len, sizeof(struct virtio_gpu_ctrl_hdr));
		hdr_init(gpu_req_cmd(r), type, ctx_id);
	} else if (ret) {
		return ret;
	}
	if (type != VIRTIO_GPU_CMD_CTX_DESTROY)
		((struct virtio_gpu_resource_unref *)gpu_req_cmd(r))->resource_id = res_id;
	if (!reserved)
		return gpu_call_nodata(dev, r);
	ret = gpu_send(dev, r, false, false, NULL);
	if (!ret)
		ret = gpu_wait_req(dev, r, VIRTIO_GPU_RESP_OK_NODATA);
	/* Abandoned: the device holds it until a reset; the reaper frees it. */
	if (r->state == REQ_ABANDONED)
		dev->reserve = NULL;
	os_mutex_unlock(dev->reserve_lock);
	return ret;
}

int cmd_ctx_destroy(struct gpu_dev *dev, uint32_t ctx_id)
{
	return call_teardown(dev, VIRTIO_GPU_CMD_CTX_DESTROY, ctx_id, 0);
}

int cmd_ctx_detach(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id)
{
	return call_teardown(dev, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, ctx_id, res_id);
}

int cmd_detach_backing(struct gpu_dev *dev, uint32_t res_id)
{
	return call_teardown(dev, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 0, res_id);
}

int cmd_resource_unref(struct gpu_dev *dev, uint32_t res_id)
{
	return call_teardown(dev, VIRTIO_GPU_CMD_RESOURCE_UNREF, 0, res_id);
}

int cmd_map_blob(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id, uint64_t offset, uint32_t *map_info)
{
	struct virtio_gpu_resource_map_blob *cmd;
	struct gpu_req *r;
	int ret = gpu_req_new(dev, sizeof(*cmd), sizeof(struct virtio_gpu_resp_map_info), 0, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	hdr_init(&cmd->hdr, VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, ctx_id);
	cmd->resource_id = res_id;
	cmd->offset = offset;
	ret = gpu_call(dev, &r, VIRTIO_GPU_RESP_OK_MAP_INFO);
	if (!r)
		return ret;
	if (!ret && r->resp_got < sizeof(struct virtio_gpu_resp_map_info))
		ret = -VIRGO_EPROTO;
	if (!ret)
		*map_info = ((struct virtio_gpu_resp_map_info *)gpu_req_resp(r))->map_info;
	gpu_req_free(dev, r);
	return ret;
}

int cmd_unmap_blob(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id)
{
	struct virtio_gpu_resource_unmap_blob *cmd;
	struct gpu_req *r;
	int ret = new_nodata(dev, sizeof(*cmd), VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, ctx_id, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	cmd->resource_id = res_id;
	return gpu_call_nodata(dev, r);
}

int cmd_transfer_3d(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id, bool to_host,
		    const struct virgo_transfer *t, uint64_t *seq)
{
	struct virtio_gpu_transfer_host_3d *cmd;
	struct gpu_req *r;
	int ret = new_nodata(dev, sizeof(*cmd),
			     to_host ? VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D : VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
			     ctx_id, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	cmd->resource_id = res_id;
	cmd->box = (struct virtio_gpu_box){ t->box.x, t->box.y, t->box.z, t->box.w, t->box.h, t->box.d };
	cmd->offset = t->offset;
	cmd->level = t->level;
	cmd->stride = t->stride;
	cmd->layer_stride = t->layer_stride;
	/* r belongs to the device once sent: its number comes back from
	 * gpu_send, never from r. */
	return gpu_send(dev, r, true, true, seq);
}

int cmd_submit_3d(struct gpu_dev *dev, struct os_caller *caller, uint32_t ctx_id, int ring_idx,
		  uint64_t uaddr, uint32_t size, uint64_t *seq)
{
	struct virtio_gpu_cmd_submit *cmd;
	struct gpu_req *r;
	bool inline_stream = sizeof(*cmd) + size + sizeof(struct virtio_gpu_ctrl_hdr) + 8 <= GPU_REQ_SMALL;
	int ret = gpu_req_new(dev, (uint32_t)sizeof(*cmd) + (inline_stream ? size : 0),
			      sizeof(struct virtio_gpu_ctrl_hdr), inline_stream ? 0 : size, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	hdr_init(&cmd->hdr, VIRTIO_GPU_CMD_SUBMIT_3D, ctx_id);
	if (ring_idx >= 0) {
		cmd->hdr.flags |= VIRTIO_GPU_FLAG_INFO_RING_IDX;
		cmd->hdr.ring_idx = (uint8_t)ring_idx;
	}
	cmd->size = size;
	if (inline_stream)
		ret = os_copy_from_user(caller, cmd + 1, uaddr, size);
	else
		ret = gpu_req_fill(r, caller, uaddr, size);
	if (ret) {
		gpu_req_free(dev, r);
		return ret;
	}
	return gpu_send(dev, r, true, true, seq);
}

int cmd_move_cursor(struct gpu_dev *dev, uint32_t scanout, uint32_t x, uint32_t y, uint32_t res_id,
		    bool update)
{
	struct virtio_gpu_update_cursor *cmd;
	struct gpu_req *r;
	int ret = new_nodata(dev, sizeof(*cmd),
			     update ? VIRTIO_GPU_CMD_UPDATE_CURSOR : VIRTIO_GPU_CMD_MOVE_CURSOR, 0, &r);

	if (ret)
		return ret;
	r->cursor = true;
	cmd = gpu_req_cmd(r);
	cmd->pos.scanout_id = scanout;
	cmd->pos.x = x;
	cmd->pos.y = y;
	cmd->resource_id = res_id;
	return gpu_call_nodata(dev, r);
}
