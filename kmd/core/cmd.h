/* SPDX-License-Identifier: MIT */
/* cmd.h: one builder per virtio-gpu command. Synchronous ones wait for the
 * answer (bounded by the command timeout); fenced ones return a sequence
 * number and complete in the background. */
#ifndef VIRGO_CMD_H
#define VIRGO_CMD_H

#include <stdint.h>

#include "gpu.h"

int cmd_get_display_info(struct gpu_dev *dev, struct virtio_gpu_resp_display_info *out);
int cmd_get_edid(struct gpu_dev *dev, uint32_t scanout, struct virtio_gpu_resp_edid *out);

int cmd_ctx_create(struct gpu_dev *dev, uint32_t ctx_id, uint32_t context_init, const char *name);
int cmd_ctx_destroy(struct gpu_dev *dev, uint32_t ctx_id);
int cmd_ctx_attach(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id);
/* Teardown commands never fail for lack of memory (a reserve request). */
int cmd_ctx_detach(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id);

int cmd_resource_create_3d(struct gpu_dev *dev, uint32_t res_id, const struct virgo_resource_create *rc);
int cmd_resource_create_blob(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id,
			     const struct virgo_resource_create_blob *rc, const struct os_pages *pages);
int cmd_attach_backing(struct gpu_dev *dev, uint32_t res_id, const struct os_pages *pages);
int cmd_detach_backing(struct gpu_dev *dev, uint32_t res_id);
int cmd_resource_unref(struct gpu_dev *dev, uint32_t res_id);

/* MAP_BLOB: places the blob at offset in the host-visible region; the
 * answer's map_info (VIRTIO_GPU_MAP_CACHE_*) in *map_info. */
int cmd_map_blob(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id, uint64_t offset, uint32_t *map_info);
int cmd_unmap_blob(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id);

int cmd_transfer_3d(struct gpu_dev *dev, uint32_t ctx_id, uint32_t res_id, bool to_host,
		    const struct virgo_transfer *t, uint64_t *seq);
/* Copies size bytes of command stream from the caller at uaddr. */
int cmd_submit_3d(struct gpu_dev *dev, struct os_caller *caller, uint32_t ctx_id, int ring_idx,
		  uint64_t uaddr, uint32_t size, uint64_t *seq);

int cmd_move_cursor(struct gpu_dev *dev, uint32_t scanout, uint32_t x, uint32_t y, uint32_t res_id,
		    bool update);

#endif
