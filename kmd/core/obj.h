/* SPDX-License-Identifier: MIT */
/* obj.h: resources (device-wide, refcounted) and open handles (one virgl
 * context each, with their own handle table). */
#ifndef VIRGO_OBJ_H
#define VIRGO_OBJ_H

#include <stdbool.h>
#include <stdint.h>

#include "gpu.h"

/* What one process's resources take of guest memory (dev->lock). */
struct obj_owner {
	struct obj_owner *next;
	uint64_t key;                 /* os_caller_owner() */
	uint64_t bytes;
	uint32_t resources;
	bool warned;                  /* told the log it hit the limit */
};

struct obj_res {
	struct obj_res *prev, *next;  /* dev->resources or dev->zombies */
	struct obj_owner *owner;      /* charged with charge bytes */
	uint64_t charge;
	uint32_t id;
	uint32_t refs;                /* dev->lock */
	uint32_t generation;          /* the device incarnation that knows it */
	uint32_t ctx_id;              /* context it is attached to, 0 if none */
	struct virgo_resource_create info;
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint64_t size;                /* backing bytes, page multiple; 0: none */
	uint64_t blob_size;           /* a blob's size as created (HOST3D: its host storage) */
	struct os_pages pages;
	volatile uint64_t last_fence; /* busy until this fence signals */
};

struct file_handle {
	struct obj_res *res;
	void *map_cookie;             /* the user mapping, NULL when none */
	uint64_t map_addr;
	uint64_t map_size;
	uint32_t map_info;            /* VIRGO_MAP_* */
	bool region;                  /* the mapping is of the host-visible region */
	uint64_t region_off;          /* ... where MAP_BLOB placed the blob */
	uint64_t region_len;
};

struct core_file {
	struct core_file *prev, *next;
	struct gpu_dev *dev;
	struct os_mutex *lock;
	uint32_t generation;
	uint32_t ctx_id;
	bool ctx_created;
	bool cleaned;                 /* core_cleanup ran: no new user mappings */
	uint32_t capset_id;
	uint32_t num_rings;
	char name[VIRGO_MAX_DEBUG_NAME];
	struct file_handle *handles;
	uint32_t nslots;
	uint32_t nused;
	uint32_t hint;
	uint64_t last_fence;
};

#define OBJ_MAX_HANDLES (1u << 20)

/* A resource with backing bytes of guest pages (0: none), charged to the
 * caller's process with its pages and a page of bookkeeping:
 * -VIRGO_EDQUOT past the process's limit (gpu_params.max_owner_bytes). */
int obj_res_new(struct gpu_dev *dev, struct os_caller *caller, uint64_t backing, struct obj_res **out);
/* Drops a reference; the last one tells the device and frees the pages. */
void obj_res_put(struct gpu_dev *dev, struct obj_res *res);
void obj_free_zombies(struct gpu_dev *dev);
/* The create command for res failed with err. An answer from the device
 * means it holds nothing of res; no answer (device lost) means it may hold
 * the pages it was given, so res stays known and its pages wait for a reset. */
void obj_res_forget_if_refused(struct gpu_dev *dev, struct obj_res *res, int err);
bool obj_res_busy(struct gpu_dev *dev, struct obj_res *res);

int obj_ensure_ctx(struct core_file *f);
int obj_handle_add(struct core_file *f, struct obj_res *res, uint32_t *handle);
struct file_handle *obj_handle_get(struct core_file *f, uint32_t handle);
void obj_handle_close(struct core_file *f, struct os_caller *caller, uint32_t handle);

#endif
