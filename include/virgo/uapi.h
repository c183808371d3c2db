/* SPDX-License-Identifier: MIT */
/*
 * virgo uAPI: the contract between the user-mode driver (Mesa's virgl winsys)
 * and the kernel driver core. Semantics follow Linux's virtgpu_drm.h so that
 * Mesa's expectations carry over; the layout is ours.
 *
 * Every struct has fixed-size fields and no implicit padding, and pointers and
 * handles that may be pointers travel as uint64_t, so a 32-bit process on a
 * 64-bit kernel sends the same bytes as a 64-bit one.
 *
 * Three encodings carry the same structs:
 *  - Windows: DeviceIoControl(IOCTL_VIRGO_*) with METHOD_BUFFERED; the struct
 *    is the input and the output buffer, embedded pointers are addresses in
 *    the caller's process.
 *  - Sockets (virgo-host, Wine): struct virgo_wire_req + args + in-data, see
 *    the end of this file; embedded pointers are offsets into the in-data or
 *    out-data area.
 *  - Direct calls (unit tests): the core's dispatcher takes the op and args.
 */
#ifndef VIRGO_UAPI_H
#define VIRGO_UAPI_H

#include <stdint.h>

#define VIRGO_UAPI_VERSION 1u

/* Results: 0 or a positive code; the core returns them negated. The numbers
 * are Linux errno values so that logs read the same on both sides. */
enum virgo_status {
	VIRGO_OK = 0,
	VIRGO_EPERM = 1,       /* not allowed for this handle */
	VIRGO_ENOENT = 2,      /* no such handle */
	VIRGO_EIO = 5,         /* the device answered ERR_UNSPEC */
	VIRGO_E2BIG = 7,       /* a size or count above the documented limit */
	VIRGO_ENOMEM = 12,
	VIRGO_EFAULT = 14,     /* a user pointer could not be read or written */
	VIRGO_EBUSY = 16,      /* NOWAIT and still busy */
	VIRGO_EEXIST = 17,     /* CONTEXT_INIT on an initialised context */
	VIRGO_ENODEV = 19,     /* no device, or a feature the device lacks */
	VIRGO_EINVAL = 22,
	VIRGO_ENOSPC = 28,     /* out of resource ids or handles */
	VIRGO_EPROTO = 71,     /* the device broke the protocol */
	VIRGO_EOVERFLOW = 75,  /* arithmetic on caller values overflowed */
	VIRGO_ENOTSUP = 95,    /* unknown op or version */
	VIRGO_ETIMEDOUT = 110,
	VIRGO_EDQUOT = 122,    /* the calling process's memory limit would be passed */
	VIRGO_ECANCELED = 125, /* a wait ended early: the request was cancelled or its thread is exiting */
	VIRGO_EDEVLOST = 1000, /* the device stopped answering; reopen after reset */
};

/* ---- limits every implementation enforces -------------------------------- */
#define VIRGO_MAX_EXEC_SIZE      (1u << 20)  /* command stream bytes; Mesa flushes at 260 KiB */
#define VIRGO_MAX_BO_HANDLES     16384u
#define VIRGO_MAX_RESOURCE_SIZE  (1ull << 30)
#define VIRGO_MAX_CAPSET_SIZE    (64u << 10)
#define VIRGO_MAX_CTX_PARAMS     4u
#define VIRGO_MAX_DEBUG_NAME     64u
#define VIRGO_MAX_TIMEOUT_NS     (60ull * 1000000000ull)
#define VIRGO_DEFAULT_TIMEOUT_NS (15ull * 1000000000ull)

/* ---- ops ------------------------------------------------------------------ */
enum virgo_op {
	VIRGO_OP_GET_PARAM = 1,
	VIRGO_OP_GET_CAPS = 2,
	VIRGO_OP_CONTEXT_INIT = 3,
	VIRGO_OP_RESOURCE_CREATE = 4,
	VIRGO_OP_RESOURCE_CREATE_BLOB = 5,
	VIRGO_OP_RESOURCE_INFO = 6,
	VIRGO_OP_RESOURCE_CLOSE = 7,
	VIRGO_OP_MAP = 8,
	VIRGO_OP_UNMAP = 9,
	VIRGO_OP_EXECBUFFER = 10,
	VIRGO_OP_TRANSFER_TO_HOST = 11,
	VIRGO_OP_TRANSFER_FROM_HOST = 12,
	VIRGO_OP_WAIT = 13,
	VIRGO_OP_FENCE_WAIT = 14,
	VIRGO_OP_COUNT
};

/* GET_PARAM: value is returned in place (Linux passes a pointer to an int;
 * returning it in the struct removes one user copy). */
enum virgo_param {
	VIRGO_PARAM_3D_FEATURES = 1,       /* device offers VIRGL */
	VIRGO_PARAM_CAPSET_QUERY_FIX = 2,  /* always 1: GET_CAPS honours version */
	VIRGO_PARAM_RESOURCE_BLOB = 3,
	VIRGO_PARAM_HOST_VISIBLE = 4,
	VIRGO_PARAM_CROSS_DEVICE = 5,
	VIRGO_PARAM_CONTEXT_INIT = 6,
	VIRGO_PARAM_SUPPORTED_CAPSET_IDS = 7, /* bit n set: capset id n offered */
	VIRGO_PARAM_UAPI_VERSION = 0x100,
	VIRGO_PARAM_MAX_EXEC_SIZE = 0x101,
	VIRGO_PARAM_NUM_SCANOUTS = 0x102,
	VIRGO_PARAM_LIVE_RESOURCES = 0x103,   /* device-wide, for leak checks */
	VIRGO_PARAM_LIVE_HANDLES = 0x104,     /* open handles, device-wide */
	VIRGO_PARAM_HOST_VISIBLE_SIZE = 0x105, /* bytes of the host-visible region, 0: none */
	VIRGO_PARAM_HOST_VISIBLE_FREE = 0x106, /* ... not mapped now, device-wide (leak checks) */
};
struct virgo_get_param {
	uint64_t param;
	uint64_t value;      /* out */
};

/* GET_CAPS: copies min(size, the capset's size) bytes to addr. */
struct virgo_get_caps {
	uint32_t cap_set_id;
	uint32_t cap_set_ver;
	uint64_t addr;       /* out buffer */
	uint32_t size;
	uint32_t copied;     /* out: bytes written */
};

/* CONTEXT_INIT: once per handle, before anything that needs a context;
 * otherwise the first such request creates a default context. */
enum virgo_ctx_param {
	VIRGO_CTX_PARAM_CAPSET_ID = 1,       /* must be in SUPPORTED_CAPSET_IDS */
	VIRGO_CTX_PARAM_NUM_RINGS = 2,       /* 1..64, needs CONTEXT_INIT */
	VIRGO_CTX_PARAM_POLL_RINGS_MASK = 3, /* accepted, must be 0: no events */
	VIRGO_CTX_PARAM_DEBUG_NAME = 4,      /* value: pointer to a NUL-ended name */
};
struct virgo_ctx_set_param {
	uint64_t param;
	uint64_t value;
};
struct virgo_context_init {
	uint32_t num_params;
	uint32_t pad;
	uint64_t ctx_set_params; /* in: array of virgo_ctx_set_param */
};

/* RESOURCE_CREATE: a classic virgl resource with guest backing of `size`
 * bytes (at least one page). format is a virgl format number. */
struct virgo_resource_create {
	uint32_t target;
	uint32_t format;
	uint32_t bind;
	uint32_t width;
	uint32_t height;
	uint32_t depth;
	uint32_t array_size;
	uint32_t last_level;
	uint32_t nr_samples;
	uint32_t flags;      /* VIRGO_RESOURCE_FLAG_* */
	uint32_t bo_handle;  /* out */
	uint32_t res_handle; /* out: the device-wide resource id */
	uint32_t size;
	uint32_t stride;
};
#define VIRGO_RESOURCE_FLAG_Y_0_TOP 1u

enum virgo_blob_mem {
	VIRGO_BLOB_MEM_GUEST = 1,
	VIRGO_BLOB_MEM_HOST3D = 2,
	VIRGO_BLOB_MEM_HOST3D_GUEST = 3,
};
#define VIRGO_BLOB_FLAG_USE_MAPPABLE     1u
#define VIRGO_BLOB_FLAG_USE_SHAREABLE    2u
#define VIRGO_BLOB_FLAG_USE_CROSS_DEVICE 4u

/* RESOURCE_CREATE_BLOB: when cmd_size is set, the command stream at cmd is
 * submitted first, as virgl creates the host object named by blob_id that
 * way. Needs VIRGO_PARAM_RESOURCE_BLOB. */
struct virgo_resource_create_blob {
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t bo_handle;  /* out */
	uint32_t res_handle; /* out */
	uint64_t size;
	uint32_t pad;
	uint32_t cmd_size;
	uint64_t cmd;
	uint64_t blob_id;
};

struct virgo_resource_info {
	uint32_t bo_handle;
	uint32_t res_handle; /* out */
	uint32_t size;       /* out */
	uint32_t blob_mem;   /* out: 0 for classic resources */
};

/* RESOURCE_CLOSE: drops this handle's reference; the resource dies when the
 * device is done with it. */
struct virgo_resource_close {
	uint32_t bo_handle;
	uint32_t pad;
};

/* MAP: one mapping per resource per handle; mapping again returns the same
 * address. What is mapped: a resource's guest pages (classic resources,
 * GUEST and HOST3D_GUEST blobs), or, for a HOST3D blob made with
 * USE_MAPPABLE, its host storage through the device's host-visible region
 * (VIRGO_PARAM_HOST_VISIBLE), placed there by the driver (MAP_BLOB) and
 * taken away again at UNMAP, RESOURCE_CLOSE or the handle's close. On
 * Windows addr is a virtual address in the caller; over a socket it is the
 * offset of the pages in the shared-memory object sent beside the reply.
 * map_info says how the memory may be cached: guest pages are
 * VIRGO_MAP_CACHED; a region mapping has the caching the device asked for
 * (the mapping already uses it). In: map_info must be 0. */
#define VIRGO_MAP_CACHED   1u
#define VIRGO_MAP_UNCACHED 2u
#define VIRGO_MAP_WC       3u
struct virgo_map {
	uint32_t bo_handle;
	uint32_t map_info;   /* in: 0; out: VIRGO_MAP_* */
	uint64_t addr;       /* out */
	uint64_t size;       /* out */
};
struct virgo_unmap {
	uint32_t bo_handle;
	uint32_t pad;
};

/* EXECBUFFER: submits a virgl command stream in this handle's context. Every
 * resource the stream names must be in bo_handles (they are marked busy until
 * the returned fence signals). */
#define VIRGO_EXEC_RING_IDX 0x4u
#define VIRGO_EXEC_FLAGS    (VIRGO_EXEC_RING_IDX)
struct virgo_execbuffer {
	uint32_t flags;
	uint32_t size;           /* bytes, multiple of 4 */
	uint64_t command;        /* in */
	uint64_t bo_handles;     /* in: array of uint32_t */
	uint32_t num_bo_handles;
	uint32_t ring_idx;
	uint64_t fence;          /* out: sequence number for FENCE_WAIT */
};

struct virgo_box {
	uint32_t x, y, z;
	uint32_t w, h, d;
};

/* TRANSFER_TO_HOST / TRANSFER_FROM_HOST between a resource's guest backing
 * (at offset, with stride/layer_stride, 0 = tightly packed) and the host. */
struct virgo_transfer {
	uint32_t bo_handle;
	uint32_t level;
	uint32_t stride;
	uint32_t layer_stride;
	struct virgo_box box;
	uint64_t offset;
	uint64_t fence;          /* out */
};

#define VIRGO_WAIT_NOWAIT 1u
/* WAIT: until the resource is idle. timeout_ns 0 means the default;
 * values are capped at VIRGO_MAX_TIMEOUT_NS. */
struct virgo_wait {
	uint32_t bo_handle;
	uint32_t flags;
	uint64_t timeout_ns;
};
struct virgo_fence_wait {
	uint64_t fence;
	uint64_t timeout_ns;
	uint32_t flags;
	uint32_t pad;
};

_Static_assert(sizeof(struct virgo_get_param) == 16, "get_param");
_Static_assert(sizeof(struct virgo_get_caps) == 24, "get_caps");
_Static_assert(sizeof(struct virgo_ctx_set_param) == 16, "ctx_set_param");
_Static_assert(sizeof(struct virgo_context_init) == 16, "context_init");
_Static_assert(sizeof(struct virgo_resource_create) == 56, "resource_create");
_Static_assert(sizeof(struct virgo_resource_create_blob) == 48, "create_blob");
_Static_assert(sizeof(struct virgo_resource_info) == 16, "resource_info");
_Static_assert(sizeof(struct virgo_resource_close) == 8, "resource_close");
_Static_assert(sizeof(struct virgo_map) == 24, "map");
_Static_assert(sizeof(struct virgo_unmap) == 8, "unmap");
_Static_assert(sizeof(struct virgo_execbuffer) == 40, "execbuffer");
_Static_assert(sizeof(struct virgo_box) == 24, "box");
_Static_assert(sizeof(struct virgo_transfer) == 56, "transfer");
_Static_assert(sizeof(struct virgo_wait) == 16, "wait");
_Static_assert(sizeof(struct virgo_fence_wait) == 24, "fence_wait");

/* The argument size of each op; 0 for an unknown op. */
static inline uint32_t virgo_op_arg_size(uint32_t op)
{
	switch (op) {
	case VIRGO_OP_GET_PARAM: return sizeof(struct virgo_get_param);
	case VIRGO_OP_GET_CAPS: return sizeof(struct virgo_get_caps);
	case VIRGO_OP_CONTEXT_INIT: return sizeof(struct virgo_context_init);
	case VIRGO_OP_RESOURCE_CREATE: return sizeof(struct virgo_resource_create);
	case VIRGO_OP_RESOURCE_CREATE_BLOB: return sizeof(struct virgo_resource_create_blob);
	case VIRGO_OP_RESOURCE_INFO: return sizeof(struct virgo_resource_info);
	case VIRGO_OP_RESOURCE_CLOSE: return sizeof(struct virgo_resource_close);
	case VIRGO_OP_MAP: return sizeof(struct virgo_map);
	case VIRGO_OP_UNMAP: return sizeof(struct virgo_unmap);
	case VIRGO_OP_EXECBUFFER: return sizeof(struct virgo_execbuffer);
	case VIRGO_OP_TRANSFER_TO_HOST:
	case VIRGO_OP_TRANSFER_FROM_HOST: return sizeof(struct virgo_transfer);
	case VIRGO_OP_WAIT: return sizeof(struct virgo_wait);
	case VIRGO_OP_FENCE_WAIT: return sizeof(struct virgo_fence_wait);
	default: return 0;
	}
}

/* ---- Windows --------------------------------------------------------------
 * CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800 + op, METHOD_BUFFERED,
 *          FILE_READ_ACCESS | FILE_WRITE_ACCESS), spelled out so that this
 * header needs no Windows header. */
#define VIRGO_CTL_CODE(op) ((0x22u << 16) | (0x3u << 14) | ((0x800u + (op)) << 2) | 0x0u)
#define VIRGO_CTL_OP(code) ((((code) >> 2) & 0xfffu) - 0x800u)
#define IOCTL_VIRGO_GET_PARAM            VIRGO_CTL_CODE(VIRGO_OP_GET_PARAM)
#define IOCTL_VIRGO_GET_CAPS             VIRGO_CTL_CODE(VIRGO_OP_GET_CAPS)
#define IOCTL_VIRGO_CONTEXT_INIT         VIRGO_CTL_CODE(VIRGO_OP_CONTEXT_INIT)
#define IOCTL_VIRGO_RESOURCE_CREATE      VIRGO_CTL_CODE(VIRGO_OP_RESOURCE_CREATE)
#define IOCTL_VIRGO_RESOURCE_CREATE_BLOB VIRGO_CTL_CODE(VIRGO_OP_RESOURCE_CREATE_BLOB)
#define IOCTL_VIRGO_RESOURCE_INFO        VIRGO_CTL_CODE(VIRGO_OP_RESOURCE_INFO)
#define IOCTL_VIRGO_RESOURCE_CLOSE       VIRGO_CTL_CODE(VIRGO_OP_RESOURCE_CLOSE)
#define IOCTL_VIRGO_MAP                  VIRGO_CTL_CODE(VIRGO_OP_MAP)
#define IOCTL_VIRGO_UNMAP                VIRGO_CTL_CODE(VIRGO_OP_UNMAP)
#define IOCTL_VIRGO_EXECBUFFER           VIRGO_CTL_CODE(VIRGO_OP_EXECBUFFER)
#define IOCTL_VIRGO_TRANSFER_TO_HOST     VIRGO_CTL_CODE(VIRGO_OP_TRANSFER_TO_HOST)
#define IOCTL_VIRGO_TRANSFER_FROM_HOST   VIRGO_CTL_CODE(VIRGO_OP_TRANSFER_FROM_HOST)
#define IOCTL_VIRGO_WAIT                 VIRGO_CTL_CODE(VIRGO_OP_WAIT)
#define IOCTL_VIRGO_FENCE_WAIT           VIRGO_CTL_CODE(VIRGO_OP_FENCE_WAIT)

/* Device interface class the UMD finds with SetupAPI:
 * {6b1f4c0e-93a2-4d57-8e0b-7a4c2d9e51f3} */
#define VIRGO_INTERFACE_GUID_INIT \
	{ 0x6b1f4c0e, 0x93a2, 0x4d57, { 0x8e, 0x0b, 0x7a, 0x4c, 0x2d, 0x9e, 0x51, 0xf3 } }

/* ---- socket encoding -------------------------------------------------------
 * Request:  virgo_wire_req, then arg_size bytes (the op's struct), then in_size
 *           bytes of in-data. Pointer fields that the op reads hold offsets
 *           into the in-data; pointer fields it writes hold offsets into an
 *           out-data area of out_size bytes that the reply carries.
 * Reply:    virgo_wire_resp, then arg_size bytes (the struct with its out
 *           fields), then out_size bytes of out-data. A MAP reply that
 *           succeeds is followed by the shared-memory object (an fd over
 *           SCM_RIGHTS on UNIX sockets, a path for TCP clients).
 * Which fields are pointers: GET_CAPS.addr (out), CONTEXT_INIT.ctx_set_params
 * (in) and the DEBUG_NAME value inside it (in), RESOURCE_CREATE_BLOB.cmd (in),
 * EXECBUFFER.command and .bo_handles (in).
 */
#define VIRGO_WIRE_MAGIC 0x4f475256u /* "VRGO" little-endian */
#define VIRGO_WIRE_MAX_DATA (VIRGO_MAX_EXEC_SIZE + VIRGO_MAX_BO_HANDLES * 4u)
struct virgo_wire_req {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t arg_size;
	uint32_t in_size;
	uint32_t out_size;
	uint32_t seq;
};
struct virgo_wire_resp {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t arg_size;
	int32_t status;      /* 0 or a negative virgo_status */
	uint32_t out_size;
	uint32_t seq;
};
/* MAP over a socket: the reply's out-data is a virgo_wire_map, then nruns
 * virgo_wire_run (the resource's pages as ranges of the shared-memory
 * object, to be mapped one after the other), then path_len bytes naming
 * that object for clients that cannot receive a file descriptor. */
#define VIRGO_WIRE_MAP_OUT (64u << 10)
struct virgo_wire_map {
	uint32_t nruns;
	uint32_t path_len;
	uint64_t object_size;
};
struct virgo_wire_run {
	uint64_t offset;
	uint64_t len;
};
_Static_assert(sizeof(struct virgo_wire_map) == 16, "wire_map");
_Static_assert(sizeof(struct virgo_wire_run) == 16, "wire_run");
_Static_assert(sizeof(struct virgo_wire_req) == 24, "wire_req");
_Static_assert(sizeof(struct virgo_wire_resp) == 24, "wire_resp");

#endif
