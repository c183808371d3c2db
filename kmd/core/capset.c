/* SPDX-License-Identifier: MIT */
/* Capsets: read from the device once at start and after every reset (the
 * host's GL or Vulkan capabilities that Mesa sizes itself by), kept, and
 * looked up by the uAPI's GET_CAPS and by context creation. */
#include "capset.h"

static int capset_get_info(struct gpu_dev *dev, uint32_t index, struct gpu_capset *c)
{
	struct virtio_gpu_get_capset_info *cmd;
	struct virtio_gpu_resp_capset_info *resp;
	struct gpu_req *r;
	int ret = gpu_req_new(dev, sizeof(*cmd), sizeof(*resp), 0, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	cmd->hdr.type = VIRTIO_GPU_CMD_GET_CAPSET_INFO;
	cmd->capset_index = index;
	ret = gpu_call(dev, &r, VIRTIO_GPU_RESP_OK_CAPSET_INFO);
	if (!r)
		return ret;
	if (!ret && r->resp_got < sizeof(*resp))
		ret = -VIRGO_EPROTO;
	if (!ret) {
		resp = gpu_req_resp(r);
		c->id = resp->capset_id;
		c->max_version = resp->capset_max_version;
		c->size = resp->capset_max_size;
	}
	gpu_req_free(dev, r);
	return ret;
}

static int capset_get(struct gpu_dev *dev, struct gpu_capset *c)
{
	struct virtio_gpu_get_capset *cmd;
	struct gpu_req *r;
	uint32_t resp_len = (uint32_t)sizeof(struct virtio_gpu_resp_capset) + c->size;
	int ret = gpu_req_new(dev, sizeof(*cmd), resp_len, 0, &r);

	if (ret)
		return ret;
	cmd = gpu_req_cmd(r);
	cmd->hdr.type = VIRTIO_GPU_CMD_GET_CAPSET;
	cmd->capset_id = c->id;
	cmd->capset_version = c->max_version;
	ret = gpu_call(dev, &r, VIRTIO_GPU_RESP_OK_CAPSET);
	if (!r)
		return ret;
	if (!ret && r->resp_got < resp_len)
		ret = -VIRGO_EPROTO;
	if (!ret) {
		c->data = os_alloc(dev->os, c->size, OS_MEM_PAGED);
		if (!c->data)
			ret = -VIRGO_ENOMEM;
		else
			__builtin_memcpy(c->data, ((struct virtio_gpu_resp_capset *)gpu_req_resp(r))->capset_data,
					 c->size);
	}
	gpu_req_free(dev, r);
	return ret;
}

int capset_query_all(struct gpu_dev *dev)
{
	uint32_t n = dev->has_virgl ? dev->config.num_capsets : 0;

	if (n > GPU_MAX_CAPSETS) {
		os_log(dev->os, OS_LOG_WARN, "device offers %u capsets; using the first %u", n, GPU_MAX_CAPSETS);
		n = GPU_MAX_CAPSETS;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct gpu_capset *c = &dev->capsets[i];
		int ret = capset_get_info(dev, i, c);

		if (ret)
			return ret;
		if (c->id == 0 || c->id >= 64 || c->size == 0 || c->size > VIRGO_MAX_CAPSET_SIZE) {
			os_log(dev->os, OS_LOG_WARN, "capset %u: id %u size %u ignored", i, c->id, c->size);
			c->id = 0;
			continue;
		}
		ret = capset_get(dev, c);
		if (ret)
			return ret;
		dev->capset_mask |= 1ull << c->id;
	}
	dev->num_capsets = n;
	return 0;
}

void capset_free_all(struct gpu_dev *dev)
{
	for (uint32_t i = 0; i < GPU_MAX_CAPSETS; i++) {
		if (dev->capsets[i].data)
			os_free(dev->os, dev->capsets[i].data);
		dev->capsets[i] = (struct gpu_capset){ 0 };
	}
	dev->num_capsets = 0;
	dev->capset_mask = 0;
}

const struct gpu_capset *gpu_find_capset(struct gpu_dev *dev, uint32_t id)
{
	for (uint32_t i = 0; i < dev->num_capsets; i++)
		if (dev->capsets[i].id == id && dev->capsets[i].data)
			return &dev->capsets[i];
	return NULL;
}
