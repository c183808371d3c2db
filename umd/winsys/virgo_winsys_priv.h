/* SPDX-License-Identifier: MIT */
/*
 * virgo_winsys_priv.h: the winsys's own objects. A hardware resource is a
 * refcounted handle of the driver with its size, its mapping and whether it
 * may still be busy; a command buffer carries the stream and the list of
 * resources it names; a fence is a sequence number of the driver.
 */
#ifndef VIRGO_WINSYS_PRIV_H
#define VIRGO_WINSYS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "c11/threads.h"
#include "pipe/p_state.h"
#include "virgl/virgl_winsys.h"
#include "virgl_resource_cache.h"

#include "virgo/uapi.h"
#include "virgo_winsys.h"

struct sw_displaytarget;

struct virgo_winsys {
	struct virgl_winsys base;
	struct virgo_ws_device dev;
	struct sw_winsys *sws;           /* presentation, may be NULL */
	virgo_present_fn present;        /* presentation without sws, may be NULL */

	/* what the device offers (GET_PARAM) */
	bool has_blob;
	bool has_host_visible;
	bool has_context_init;
	uint64_t capset_mask;            /* bit n: capset id n */

	struct virgl_resource_cache cache;
	mtx_t cache_lock;

	uint32_t blob_id;                /* atomic: last blob id handed out */
	uint64_t last_fence;             /* atomic: newest sequence submitted */
	uint32_t errors_logged;          /* atomic: to keep logs short */
};

struct virgl_hw_res {
	struct pipe_reference reference;
	struct virgl_resource_cache_entry cache_entry;

	enum pipe_texture_target target;
	uint32_t format;                 /* pipe_format */
	uint32_t bind;                   /* VIRGL_BIND_* */
	uint32_t width, height;
	uint32_t bo_handle;              /* this process's handle */
	uint32_t res_handle;             /* the device's resource id */
	uint32_t size;                   /* guest storage in bytes */
	uint32_t blob_mem;               /* 0 for classic resources */

	void *ptr;                       /* MAP, kept until the handle closes */
	int num_cs_references;           /* atomic: unflushed command buffers naming it */
	int maybe_busy;                  /* atomic: 0 when known idle */

	struct sw_displaytarget *dt;     /* display targets with a software winsys */
	uint32_t dt_stride;
};

struct virgo_cmd_buf {
	struct virgl_cmd_buf base;
	struct virgo_winsys *vws;
	uint32_t *words;

	/* the resources the stream names, each once */
	struct virgl_hw_res **res;
	uint32_t *handles;               /* their bo handles, for EXECBUFFER */
	uint32_t nres, cap;
	uint32_t *slots;                 /* open addressing on res: index + 1, 0 = free */
	uint32_t nslots;                 /* a power of two, at least 2 * cap */
};

struct virgo_fence {
	struct pipe_reference reference;
	uint64_t seq;                    /* 0: nothing to wait for */
	int signalled;                   /* atomic */
};

static inline struct virgo_winsys *virgo_winsys(struct virgl_winsys *vws)
{
	return (struct virgo_winsys *)vws;
}

/* virgo_winsys.c */
int virgo_ioctl(struct virgo_winsys *vws, uint32_t op, void *arg);
void virgo_log_error(struct virgo_winsys *vws, const char *what, int err);

/* virgo_resource.c */
void virgo_resource_init_funcs(struct virgo_winsys *vws);
bool virgo_resource_cache_init(struct virgo_winsys *vws);
void virgo_resource_cache_fini(struct virgo_winsys *vws);
void virgo_resource_reference(struct virgl_winsys *vws, struct virgl_hw_res **dst, struct virgl_hw_res *src);
void *virgo_resource_map(struct virgl_winsys *vws, struct virgl_hw_res *res);
void virgo_resource_wait(struct virgl_winsys *vws, struct virgl_hw_res *res);
int virgo_transfer_get(struct virgl_winsys *vws, struct virgl_hw_res *res, const struct pipe_box *box,
		       uint32_t stride, uint32_t layer_stride, uint32_t buf_offset, uint32_t level);

/* virgo_cmdbuf.c */
void virgo_cmdbuf_init_funcs(struct virgo_winsys *vws);

/* virgo_fence.c */
void virgo_fence_init_funcs(struct virgo_winsys *vws);
struct pipe_fence_handle *virgo_fence_create(struct virgo_winsys *vws, uint64_t seq);

#endif
