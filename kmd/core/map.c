/* SPDX-License-Identifier: MIT */
/*
 * User mappings: a resource's guest pages, or a HOST3D blob's host storage
 * through the device's host-visible region. A mapping belongs to one
 * handle and is undone in the owning process (UNMAP, RESOURCE_CLOSE,
 * cleanup); the region range under it is the driver's to choose, is given
 * to MAP_BLOB, and comes back at UNMAP_BLOB. A range whose user mapping
 * cannot be undone (no owning process at close) is never given out again:
 * another process would see through it.
 */
#include "map.h"

#include <virgo/virtio_gpu.h>

#include "cmd.h"

static int cache_of(uint32_t map_info, enum os_cache *cache, uint32_t *uapi)
{
	switch (map_info & VIRTIO_GPU_MAP_CACHE_MASK) {
	case VIRTIO_GPU_MAP_CACHE_CACHED: *cache = OS_CACHE_CACHED; *uapi = VIRGO_MAP_CACHED; return 0;
	case VIRTIO_GPU_MAP_CACHE_UNCACHED: *cache = OS_CACHE_UNCACHED; *uapi = VIRGO_MAP_UNCACHED; return 0;
	case VIRTIO_GPU_MAP_CACHE_WC: *cache = OS_CACHE_WC; *uapi = VIRGO_MAP_WC; return 0;
	default: return -VIRGO_EPROTO;
	}
}

/* The device side of a region mapping, undone: UNMAP_BLOB, then the range
 * back (or held, when a user mapping of it may live on). */
static void region_undo(struct core_file *f, struct file_handle *h, bool user_gone)
{
	struct gpu_dev *dev = f->dev;
	struct obj_res *res = h->res;
	int ret = 0;

	/* A device reset already forgot the mapping. */
	if (res->generation == dev->generation && !dev->lost)
		ret = cmd_unmap_blob(dev, 0, res->id);
	if (ret)
		os_log(dev->os, OS_LOG_WARN, "resource %u: UNMAP_BLOB refused (%d)", res->id, ret);
	os_mutex_lock(dev->lock);
	/* Refused, the device may still show the blob there: held as well. */
	if (user_gone && !ret)
		region_free(&dev->region, h->region_off, h->region_len);
	else
		region_hold(&dev->region, h->region_len);
	os_mutex_unlock(dev->lock);
	h->region = false;
	h->region_off = h->region_len = 0;
}

static int map_region(struct core_file *f, struct os_caller *c, struct file_handle *h)
{
	struct gpu_dev *dev = f->dev;
	struct obj_res *res = h->res;
	uint64_t off = 0, len = res->blob_size, addr = 0;
	uint32_t map_info = 0, uapi = 0;
	enum os_cache cache;
	void *cookie = NULL;
	int ret;

	if (!(res->blob_flags & VIRGO_BLOB_FLAG_USE_MAPPABLE))
		return -VIRGO_EINVAL;
	if (!dev->has_host_visible)
		return -VIRGO_ENODEV;
	os_mutex_lock(dev->lock);
	ret = region_alloc(&dev->region, len, &off);
	os_mutex_unlock(dev->lock);
	if (ret)
		return ret;
	len = (len + OS_PAGE_SIZE - 1) & ~(uint64_t)(OS_PAGE_SIZE - 1);
	h->region = true;
	h->region_off = off;
	h->region_len = len;
	ret = cmd_map_blob(dev, 0, res->id, off, &map_info);
	if (ret) {
		/* Not answered (device lost): it may have mapped it. */
		os_mutex_lock(dev->lock);
		if (ret == -VIRGO_EDEVLOST)
			region_hold(&dev->region, len);
		else
			region_free(&dev->region, off, len);
		os_mutex_unlock(dev->lock);
		h->region = false;
		return ret;
	}
	ret = cache_of(map_info, &cache, &uapi);
	if (ret) {
		os_log(dev->os, OS_LOG_WARN, "resource %u: MAP_BLOB answered an unknown map_info %#x", res->id,
		       map_info);
		region_undo(f, h, true);
		return ret;
	}
	ret = os_map_region(c, dev->pci.shm_bar, dev->pci.shm_off + off, len, cache, &addr, &cookie);
	if (ret) {
		region_undo(f, h, true);
		return ret;
	}
	h->map_cookie = cookie;
	h->map_addr = addr;
	h->map_size = res->blob_size;
	h->map_info = uapi;
	return 0;
}

int map_handle(struct core_file *f, struct os_caller *c, struct file_handle *h)
{
	struct obj_res *res = h->res;
	int ret;

	if (h->map_cookie)
		return 0;
	/* A MAP racing the last CloseHandle would map after cleanup, with
	 * nobody left to undo it in the owning process. */
	if (f->cleaned)
		return -VIRGO_EPERM;
	if (res->size) {
		ret = os_map_user(c, &res->pages, &h->map_addr, &h->map_cookie);
		if (ret)
			return ret;
		h->map_size = res->size;
		h->map_info = VIRGO_MAP_CACHED;
	} else if (res->blob_mem == VIRGO_BLOB_MEM_HOST3D) {
		ret = map_region(f, c, h);
		if (ret)
			return ret;
	} else {
		return -VIRGO_EINVAL;
	}
	/* A 32-bit process holds the address in 32 bits: a mapping that ends
	 * above what it can reach is no mapping for it. */
	if (h->map_addr > os_user_limit(c) || h->map_size > os_user_limit(c) - h->map_addr) {
		os_log(f->dev->os, OS_LOG_WARN, "mapping at %#llx is out of this process's reach (%#llx)",
		       (unsigned long long)h->map_addr, (unsigned long long)os_user_limit(c));
		map_undo(f, c, h);
		return -VIRGO_ENOMEM;
	}
	return 0;
}

void map_undo(struct core_file *f, struct os_caller *c, struct file_handle *h)
{
	if (!h->map_cookie)
		return;
	if (h->region) {
		os_unmap_region(c, h->map_cookie);
		region_undo(f, h, c != NULL);
	} else {
		os_unmap_user(c, h->map_cookie);
	}
	h->map_cookie = NULL;
	h->map_addr = 0;
	h->map_size = 0;
	h->map_info = 0;
}
