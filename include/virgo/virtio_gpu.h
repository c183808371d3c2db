/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu wire format (virtio device type 16): feature bits, device
 * configuration, command and response codes, and every request/response
 * structure of the 2D, 3D, blob, context-init and cursor command sets.
 *
 * Written from the virtio specification (GPU device chapter, up to 1.4)
 * plus the few 3D structures the spec leaves to the reference driver.
 * The same definitions are used by the guest driver (kmd/core) and by
 * the host device model, so a layout mistake cannot hide on one side.
 *
 * Every request and response begins with struct virtio_gpu_ctrl_hdr. Any
 * variable part (memory entries, command stream, capset data) follows the
 * fixed struct in the same buffer; the device treats the driver-readable
 * descriptors of a chain as one byte stream, so it may be split across
 * descriptors freely.
 */
#ifndef VIRGO_VIRTIO_GPU_H
#define VIRGO_VIRTIO_GPU_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
	__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virgo assumes a little-endian CPU: virtio-gpu fields are little-endian"
#endif

/* ------------------------------------------------------------------------ */
/* Device identity and queues                                               */
/* ------------------------------------------------------------------------ */

#define VIRTIO_GPU_DEVICE_ID 16

/*
 * Cursor commands have their own queue so a pointer move is never stuck
 * behind a slow 3D submission.
 */
#define VIRTIO_GPU_QUEUE_CONTROL 0
#define VIRTIO_GPU_QUEUE_CURSOR  1
#define VIRTIO_GPU_QUEUE_COUNT   2

/* ------------------------------------------------------------------------ */
/* Feature bits (bit numbers in the device feature space)                   */
/* ------------------------------------------------------------------------ */

/* 3D: CTX_*, RESOURCE_CREATE_3D, TRANSFER_*_3D, SUBMIT_3D, capsets. */
#define VIRTIO_GPU_F_VIRGL           0
#define VIRTIO_GPU_F_EDID            1
#define VIRTIO_GPU_F_RESOURCE_UUID   2
/*
 * RESOURCE_CREATE_BLOB and SET_SCANOUT_BLOB. MAP/UNMAP_BLOB additionally
 * need the host-visible shared memory region to be present.
 */
#define VIRTIO_GPU_F_RESOURCE_BLOB   3
/* ctx_create.context_init and per-context fence timelines; needs F_VIRGL. */
#define VIRTIO_GPU_F_CONTEXT_INIT    4
/* Spec 1.4 only: enables virtio_gpu_config.blob_alignment. */
#define VIRTIO_GPU_F_BLOB_ALIGNMENT  5

/* ------------------------------------------------------------------------ */
/* Device configuration space                                               */
/* ------------------------------------------------------------------------ */

/* Bit in events_read: display layout changed; re-query DISPLAY_INFO/EDID. */
#define VIRTIO_GPU_EVENT_DISPLAY 1

struct virtio_gpu_config {
	uint32_t events_read;  /* RO for the driver */
	/* Write-1-to-clear for events_read; clear only after re-querying. */
	uint32_t events_clear;
	uint32_t num_scanouts; /* 1..VIRTIO_GPU_MAX_SCANOUTS */
	uint32_t num_capsets;  /* valid GET_CAPSET_INFO indices are 0..n-1 */
	/*
	 * Spec 1.4 appends "uint32_t blob_alignment" here, meaningful only
	 * when VIRTIO_GPU_F_BLOB_ALIGNMENT is negotiated. It is left out of
	 * the struct because older devices (QEMU 7.2, and the Linux 6.1 UAPI)
	 * expose only these 16 bytes; read it at the offset below instead.
	 */
};
_Static_assert(sizeof(struct virtio_gpu_config) == 16, "virtio_gpu_config must be 16 bytes");

#define VIRTIO_GPU_CONFIG_BLOB_ALIGNMENT_OFFSET 16

/* ------------------------------------------------------------------------ */
/* Shared memory regions (virtio_pci_cap.id of a SHARED_MEMORY cap)         */
/* ------------------------------------------------------------------------ */

/*
 * The host-visible region: MAP_BLOB places host allocations at offsets in
 * it. If the device exposes it, MAP/UNMAP_BLOB must be supported. QEMU 7.2
 * has no such region.
 */
#define VIRTIO_GPU_SHM_ID_UNDEFINED    0
#define VIRTIO_GPU_SHM_ID_HOST_VISIBLE 1

/* ------------------------------------------------------------------------ */
/* Command and response codes                                               */
/* ------------------------------------------------------------------------ */

enum virtio_gpu_ctrl_type {
	/* 2D and blob commands, control queue */
	VIRTIO_GPU_CMD_GET_DISPLAY_INFO        = 0x0100,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_2D      = 0x0101,
	VIRTIO_GPU_CMD_RESOURCE_UNREF          = 0x0102,
	VIRTIO_GPU_CMD_SET_SCANOUT             = 0x0103,
	VIRTIO_GPU_CMD_RESOURCE_FLUSH          = 0x0104,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D     = 0x0105,
	VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING = 0x0106,
	VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING = 0x0107,
	VIRTIO_GPU_CMD_GET_CAPSET_INFO         = 0x0108,
	VIRTIO_GPU_CMD_GET_CAPSET              = 0x0109,
	VIRTIO_GPU_CMD_GET_EDID                = 0x010a,
	VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID    = 0x010b,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB    = 0x010c,
	VIRTIO_GPU_CMD_SET_SCANOUT_BLOB        = 0x010d,

	/* 3D commands (F_VIRGL), control queue */
	VIRTIO_GPU_CMD_CTX_CREATE              = 0x0200,
	VIRTIO_GPU_CMD_CTX_DESTROY             = 0x0201,
	VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE     = 0x0202,
	VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE     = 0x0203,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_3D      = 0x0204,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D     = 0x0205,
	VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D   = 0x0206,
	VIRTIO_GPU_CMD_SUBMIT_3D               = 0x0207,
	VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB       = 0x0208,
	VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB     = 0x0209,

	/* cursor queue */
	VIRTIO_GPU_CMD_UPDATE_CURSOR           = 0x0300,
	VIRTIO_GPU_CMD_MOVE_CURSOR             = 0x0301,

	/* success responses */
	VIRTIO_GPU_RESP_OK_NODATA              = 0x1100,
	VIRTIO_GPU_RESP_OK_DISPLAY_INFO        = 0x1101,
	VIRTIO_GPU_RESP_OK_CAPSET_INFO         = 0x1102,
	VIRTIO_GPU_RESP_OK_CAPSET              = 0x1103,
	VIRTIO_GPU_RESP_OK_EDID                = 0x1104,
	VIRTIO_GPU_RESP_OK_RESOURCE_UUID       = 0x1105,
	VIRTIO_GPU_RESP_OK_MAP_INFO            = 0x1106,

	/* error responses */
	VIRTIO_GPU_RESP_ERR_UNSPEC             = 0x1200,
	VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY      = 0x1201,
	VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID = 0x1202,
	VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID = 0x1203,
	VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID = 0x1204,
	VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER  = 0x1205
};

/* ------------------------------------------------------------------------ */
/* Common header                                                            */
/* ------------------------------------------------------------------------ */

/*
 * Request: the device must finish the command before returning it, and
 * echo FLAG_FENCE and fence_id in the response. Without it a 3D device
 * may answer before the work is done.
 */
#define VIRTIO_GPU_FLAG_FENCE         1
/* Request: ring_idx is valid (needs F_CONTEXT_INIT). */
#define VIRTIO_GPU_FLAG_INFO_RING_IDX 2

/* ring_idx range; each (ctx_id, ring_idx) pair is its own fence timeline. */
#define VIRTIO_GPU_MAX_RINGS 64

struct virtio_gpu_ctrl_hdr {
	uint32_t type;  /* enum virtio_gpu_ctrl_type */
	uint32_t flags; /* VIRTIO_GPU_FLAG_* */
	/*
	 * The field is 64-bit, but QEMU 7.2 with virglrenderer 0.10.4 passes
	 * it through a 32-bit (and partly signed int) path: keep fence ids
	 * below 2^31. When a fence completes, the device also completes every
	 * outstanding fenced command on the same timeline with a lower id, so
	 * ids must increase per timeline.
	 */
	uint64_t fence_id;
	uint32_t ctx_id;    /* 3D context; 0 for 2D commands */
	uint8_t ring_idx;   /* < VIRTIO_GPU_MAX_RINGS, with FLAG_INFO_RING_IDX */
	uint8_t padding[3];
};
_Static_assert(sizeof(struct virtio_gpu_ctrl_hdr) == 24, "virtio_gpu_ctrl_hdr must be 24 bytes");
_Static_assert(offsetof(struct virtio_gpu_ctrl_hdr, fence_id) == 8, "ctrl_hdr.fence_id");
_Static_assert(offsetof(struct virtio_gpu_ctrl_hdr, ctx_id) == 16, "ctrl_hdr.ctx_id");
_Static_assert(offsetof(struct virtio_gpu_ctrl_hdr, ring_idx) == 20, "ctrl_hdr.ring_idx");

/* ------------------------------------------------------------------------ */
/* Shared building blocks                                                   */
/* ------------------------------------------------------------------------ */

/* Origin top-left, x grows right, y grows down. */
struct virtio_gpu_rect {
	uint32_t x;
	uint32_t y;
	uint32_t width;
	uint32_t height;
};
_Static_assert(sizeof(struct virtio_gpu_rect) == 16, "virtio_gpu_rect must be 16 bytes");

/* One guest-physical extent of a resource's backing store. */
struct virtio_gpu_mem_entry {
	uint64_t addr;
	uint32_t length;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_mem_entry) == 16, "virtio_gpu_mem_entry must be 16 bytes");

/*
 * QEMU 7.2 rejects ATTACH_BACKING / CREATE_BLOB requests with more than
 * this many memory entries (the spec sets no limit; newer QEMU dropped it).
 * Coalesce physically contiguous pages to stay under it.
 */
#define VIRGO_QEMU_MAX_MEM_ENTRIES 16384

/* 3D box, in texels (and layers/slices for d). */
struct virtio_gpu_box {
	uint32_t x;
	uint32_t y;
	uint32_t z;
	uint32_t w;
	uint32_t h;
	uint32_t d;
};
_Static_assert(sizeof(struct virtio_gpu_box) == 24, "virtio_gpu_box must be 24 bytes");

/* ------------------------------------------------------------------------ */
/* Formats for 2D resources and scanouts                                    */
/* ------------------------------------------------------------------------ */

/*
 * The numbers are gallium/virgl format ids, which is why they are sparse;
 * a 2D-only device accepts just these eight. Names give byte order in
 * memory (B8G8R8A8 = bytes B, G, R, A).
 */
enum virtio_gpu_formats {
	VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM = 1,
	VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM = 2,
	VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM = 3,
	VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM = 4,
	VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM = 67,
	VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM = 68,
	VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM = 121,
	VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM = 134
};

/* ------------------------------------------------------------------------ */
/* 2D commands                                                              */
/* ------------------------------------------------------------------------ */

/* GET_DISPLAY_INFO: the request is a bare struct virtio_gpu_ctrl_hdr. */
#define VIRTIO_GPU_MAX_SCANOUTS 16

struct virtio_gpu_display_one {
	/* Preferred mode; x/y place the head in the host's multi-head layout. */
	struct virtio_gpu_rect r;
	uint32_t enabled; /* like a connected connector; host UI may toggle it */
	uint32_t flags;
};
_Static_assert(sizeof(struct virtio_gpu_display_one) == 24,
	       "virtio_gpu_display_one must be 24 bytes");

/* RESP_OK_DISPLAY_INFO: always all 16 entries; absent heads have enabled = 0. */
struct virtio_gpu_resp_display_info {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_display_one pmodes[VIRTIO_GPU_MAX_SCANOUTS];
};
_Static_assert(sizeof(struct virtio_gpu_resp_display_info) == 408,
	       "virtio_gpu_resp_display_info must be 408 bytes");

/* GET_EDID (F_EDID) */
struct virtio_gpu_get_edid {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t scanout;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_get_edid) == 32, "virtio_gpu_get_edid must be 32 bytes");

/* RESP_OK_EDID: only the first size bytes of edid[] are meaningful. */
struct virtio_gpu_resp_edid {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t size;
	uint32_t padding;
	uint8_t edid[1024];
};
_Static_assert(sizeof(struct virtio_gpu_resp_edid) == 1056, "virtio_gpu_resp_edid must be 1056 bytes");

/* RESOURCE_CREATE_2D: resource ids are chosen by the driver, 0 is invalid. */
struct virtio_gpu_resource_create_2d {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t format; /* enum virtio_gpu_formats */
	uint32_t width;
	uint32_t height;
};
_Static_assert(sizeof(struct virtio_gpu_resource_create_2d) == 40,
	       "virtio_gpu_resource_create_2d must be 40 bytes");

/* RESOURCE_UNREF */
struct virtio_gpu_resource_unref {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_resource_unref) == 32,
	       "virtio_gpu_resource_unref must be 32 bytes");

/*
 * SET_SCANOUT: r must lie inside the resource. resource_id 0 switches the
 * scanout off. On a VGA-compatible device, the first SET_SCANOUT leaves
 * VGA mode; a device reset returns to it.
 */
struct virtio_gpu_set_scanout {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_rect r;
	uint32_t scanout_id;
	uint32_t resource_id;
};
_Static_assert(sizeof(struct virtio_gpu_set_scanout) == 48, "virtio_gpu_set_scanout must be 48 bytes");

/* RESOURCE_FLUSH: pushes r to every scanout showing the resource. */
struct virtio_gpu_resource_flush {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_rect r;
	uint32_t resource_id;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_resource_flush) == 48,
	       "virtio_gpu_resource_flush must be 48 bytes");

/*
 * TRANSFER_TO_HOST_2D: copies r from the attached backing into the host
 * resource. offset is the byte offset in the backing where r's first
 * pixel lives (the backing's stride is the resource width times bpp).
 */
struct virtio_gpu_transfer_to_host_2d {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_rect r;
	uint64_t offset;
	uint32_t resource_id;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_transfer_to_host_2d) == 56,
	       "virtio_gpu_transfer_to_host_2d must be 56 bytes");
_Static_assert(offsetof(struct virtio_gpu_transfer_to_host_2d, offset) == 40,
	       "transfer_to_host_2d.offset");

/*
 * RESOURCE_ATTACH_BACKING: nr_entries struct virtio_gpu_mem_entry follow
 * the struct. They are not declared as a flexible array so that the struct
 * can be embedded in larger request buffers.
 */
struct virtio_gpu_resource_attach_backing {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t nr_entries;
};
_Static_assert(sizeof(struct virtio_gpu_resource_attach_backing) == 32,
	       "virtio_gpu_resource_attach_backing must be 32 bytes");

/* RESOURCE_DETACH_BACKING: the host stops using the pages, they may be freed. */
struct virtio_gpu_resource_detach_backing {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_resource_detach_backing) == 32,
	       "virtio_gpu_resource_detach_backing must be 32 bytes");

/* ------------------------------------------------------------------------ */
/* Capability sets                                                          */
/* ------------------------------------------------------------------------ */

/* QEMU 7.2 reports VIRGL and VIRGL2 only (num_capsets = 2). */
#define VIRTIO_GPU_CAPSET_VIRGL        1
/* Same virgl protocol after the "capset fix": larger caps struct. */
#define VIRTIO_GPU_CAPSET_VIRGL2       2
#define VIRTIO_GPU_CAPSET_GFXSTREAM    3
#define VIRTIO_GPU_CAPSET_VENUS        4
#define VIRTIO_GPU_CAPSET_CROSS_DOMAIN 5
/* virglrenderer native DRM contexts; not (yet) in the spec text. */
#define VIRTIO_GPU_CAPSET_DRM          6

/* GET_CAPSET_INFO: capset_index < num_capsets, not a capset id. */
struct virtio_gpu_get_capset_info {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t capset_index;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_get_capset_info) == 32,
	       "virtio_gpu_get_capset_info must be 32 bytes");

/* RESP_OK_CAPSET_INFO */
struct virtio_gpu_resp_capset_info {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t capset_id;
	uint32_t capset_max_version;
	uint32_t capset_max_size; /* response buffer for GET_CAPSET needs this much */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_resp_capset_info) == 40,
	       "virtio_gpu_resp_capset_info must be 40 bytes");

/* GET_CAPSET */
struct virtio_gpu_get_capset {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t capset_id;
	uint32_t capset_version;
};
_Static_assert(sizeof(struct virtio_gpu_get_capset) == 32, "virtio_gpu_get_capset must be 32 bytes");

/*
 * RESP_OK_CAPSET: the driver must offer sizeof(hdr) + capset_max_size
 * writable bytes. QEMU writes exactly that much; a shorter buffer is not
 * an error there, the response is just cut off (used.len tells).
 */
struct virtio_gpu_resp_capset {
	struct virtio_gpu_ctrl_hdr hdr;
	uint8_t capset_data[];
};
_Static_assert(sizeof(struct virtio_gpu_resp_capset) == 24, "virtio_gpu_resp_capset header is 24 bytes");

/* ------------------------------------------------------------------------ */
/* Resource UUID (F_RESOURCE_UUID)                                          */
/* ------------------------------------------------------------------------ */

struct virtio_gpu_resource_assign_uuid {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_resource_assign_uuid) == 32,
	       "virtio_gpu_resource_assign_uuid must be 32 bytes");

/* RESP_OK_RESOURCE_UUID: names the resource to other virtio devices. */
struct virtio_gpu_resp_resource_uuid {
	struct virtio_gpu_ctrl_hdr hdr;
	uint8_t uuid[16];
};
_Static_assert(sizeof(struct virtio_gpu_resp_resource_uuid) == 40,
	       "virtio_gpu_resp_resource_uuid must be 40 bytes");

/* ------------------------------------------------------------------------ */
/* Blob resources (F_RESOURCE_BLOB)                                         */
/* ------------------------------------------------------------------------ */

/* blob_mem: where the storage lives. HOST3D* need F_VIRGL. */
#define VIRTIO_GPU_BLOB_MEM_GUEST        1 /* guest pages only */
#define VIRTIO_GPU_BLOB_MEM_HOST3D       2 /* host allocation made via SUBMIT_3D */
#define VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST 3 /* host allocation, guest pages shadow it */

/* blob_flags: how the driver intends to use it; the host may refuse. */
#define VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE     1 /* will be MAP_BLOB'ed */
#define VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE    2
#define VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE 4

/*
 * RESOURCE_CREATE_BLOB: nr_entries mem entries follow, as for
 * ATTACH_BACKING (nr_entries may be 0 and backing attached later).
 * For HOST3D*, blob_id names an object the context created earlier in
 * its command stream. With F_BLOB_ALIGNMENT, size must be a multiple of
 * the configured blob_alignment.
 */
struct virtio_gpu_resource_create_blob {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t blob_mem;   /* VIRTIO_GPU_BLOB_MEM_* (non-zero) */
	uint32_t blob_flags; /* VIRTIO_GPU_BLOB_FLAG_* */
	uint32_t nr_entries;
	uint64_t blob_id;
	uint64_t size;
};
_Static_assert(sizeof(struct virtio_gpu_resource_create_blob) == 56,
	       "virtio_gpu_resource_create_blob must be 56 bytes");
_Static_assert(offsetof(struct virtio_gpu_resource_create_blob, blob_id) == 40,
	       "resource_create_blob.blob_id");

/*
 * SET_SCANOUT_BLOB: a blob carries no format of its own, so the scanout
 * command supplies it, with up to four planes (strides/offsets in bytes).
 */
struct virtio_gpu_set_scanout_blob {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_rect r;
	uint32_t scanout_id;
	uint32_t resource_id;
	uint32_t width;
	uint32_t height;
	uint32_t format; /* enum virtio_gpu_formats */
	uint32_t padding;
	uint32_t strides[4];
	uint32_t offsets[4];
};
_Static_assert(sizeof(struct virtio_gpu_set_scanout_blob) == 96,
	       "virtio_gpu_set_scanout_blob must be 96 bytes");

/*
 * RESOURCE_MAP_BLOB: places a HOST3D blob at offset inside the
 * host-visible shared memory region. Mapping an already mapped blob is
 * not allowed. With F_BLOB_ALIGNMENT, offset must be a multiple of
 * blob_alignment (the host's page size may exceed the guest's).
 */
struct virtio_gpu_resource_map_blob {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t padding;
	uint64_t offset;
};
_Static_assert(sizeof(struct virtio_gpu_resource_map_blob) == 40,
	       "virtio_gpu_resource_map_blob must be 40 bytes");

/* map_info: the caching the guest must use for its mapping of the range. */
#define VIRTIO_GPU_MAP_CACHE_MASK     0x0f
#define VIRTIO_GPU_MAP_CACHE_NONE     0x00
#define VIRTIO_GPU_MAP_CACHE_CACHED   0x01
#define VIRTIO_GPU_MAP_CACHE_UNCACHED 0x02
#define VIRTIO_GPU_MAP_CACHE_WC       0x03

/* RESP_OK_MAP_INFO */
struct virtio_gpu_resp_map_info {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t map_info; /* VIRTIO_GPU_MAP_CACHE_* in the low bits */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_resp_map_info) == 32,
	       "virtio_gpu_resp_map_info must be 32 bytes");

/* RESOURCE_UNMAP_BLOB */
struct virtio_gpu_resource_unmap_blob {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_resource_unmap_blob) == 32,
	       "virtio_gpu_resource_unmap_blob must be 32 bytes");

/* ------------------------------------------------------------------------ */
/* 3D commands (F_VIRGL)                                                    */
/* ------------------------------------------------------------------------ */

/* Low byte of ctx_create.context_init: the capset the context speaks. */
#define VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK 0xff

/*
 * CTX_CREATE: the context id is hdr.ctx_id, chosen by the driver.
 * debug_name need not be NUL-terminated; nlen (<= 64) is its length.
 * context_init is honoured only with F_CONTEXT_INIT; 0 lets the device
 * pick the context type. QEMU 7.2 ignores the field.
 */
struct virtio_gpu_ctx_create {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t nlen;
	uint32_t context_init;
	char debug_name[64];
};
_Static_assert(sizeof(struct virtio_gpu_ctx_create) == 96, "virtio_gpu_ctx_create must be 96 bytes");

/* CTX_DESTROY: only the header (hdr.ctx_id). */
struct virtio_gpu_ctx_destroy {
	struct virtio_gpu_ctrl_hdr hdr;
};
_Static_assert(sizeof(struct virtio_gpu_ctx_destroy) == 24, "virtio_gpu_ctx_destroy must be 24 bytes");

/*
 * CTX_ATTACH_RESOURCE / CTX_DETACH_RESOURCE: a context's command stream
 * can only name resources attached to it.
 */
struct virtio_gpu_ctx_resource {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_ctx_resource) == 32,
	       "virtio_gpu_ctx_resource must be 32 bytes");

/* resource_create_3d.flags: row 0 is the top row (window-system images). */
#define VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP 1

/*
 * RESOURCE_CREATE_3D: target, format and bind are gallium enums (pipe
 * texture target, virgl format, PIPE_BIND_* bits), passed straight to
 * virglrenderer. Backing is attached separately with ATTACH_BACKING.
 */
struct virtio_gpu_resource_create_3d {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t target;
	uint32_t format;
	uint32_t bind;
	uint32_t width;
	uint32_t height;
	uint32_t depth;
	uint32_t array_size;
	uint32_t last_level;
	uint32_t nr_samples;
	uint32_t flags; /* VIRTIO_GPU_RESOURCE_FLAG_* */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_resource_create_3d) == 72,
	       "virtio_gpu_resource_create_3d must be 72 bytes");

/*
 * TRANSFER_TO_HOST_3D / TRANSFER_FROM_HOST_3D: moves box of mip level
 * between the host resource and its guest backing, starting at byte
 * offset in the backing. stride/layer_stride describe the backing layout;
 * 0 lets the host derive them from the mip level's size. Also valid on
 * blob resources.
 */
struct virtio_gpu_transfer_host_3d {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_box box;
	uint64_t offset;
	uint32_t resource_id;
	uint32_t level;
	uint32_t stride;
	uint32_t layer_stride;
};
_Static_assert(sizeof(struct virtio_gpu_transfer_host_3d) == 72,
	       "virtio_gpu_transfer_host_3d must be 72 bytes");
_Static_assert(offsetof(struct virtio_gpu_transfer_host_3d, offset) == 48,
	       "transfer_host_3d.offset");

/*
 * SUBMIT_3D: size bytes of command stream follow the struct; its format
 * is the context's capset (virgl: a stream of dwords, so size % 4 == 0).
 */
struct virtio_gpu_cmd_submit {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t size;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_cmd_submit) == 32, "virtio_gpu_cmd_submit must be 32 bytes");

/* ------------------------------------------------------------------------ */
/* Cursor queue                                                             */
/* ------------------------------------------------------------------------ */

/* Cursor images are 64x64 resources, filled and fenced on the control queue first. */
#define VIRTIO_GPU_CURSOR_SIZE 64

struct virtio_gpu_cursor_pos {
	uint32_t scanout_id;
	uint32_t x;
	uint32_t y;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_cursor_pos) == 16, "virtio_gpu_cursor_pos must be 16 bytes");

/*
 * UPDATE_CURSOR sets image, hotspot and position; resource_id 0 hides the
 * cursor. The spec says MOVE_CURSOR uses only pos, but QEMU derives
 * visibility from resource_id on both commands, so a MOVE_CURSOR must
 * repeat the current resource_id or the cursor vanishes.
 */
struct virtio_gpu_update_cursor {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_cursor_pos pos;
	uint32_t resource_id;
	uint32_t hot_x;
	uint32_t hot_y;
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_gpu_update_cursor) == 56,
	       "virtio_gpu_update_cursor must be 56 bytes");

#endif /* VIRGO_VIRTIO_GPU_H */
