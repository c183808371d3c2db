/* SPDX-License-Identifier: MIT */
/* gpu.h: the device as the core's files share it. Internal to kmd/core. */
#ifndef VIRGO_GPU_H
#define VIRGO_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include <virgo/uapi.h>
#include <virgo/virtio_gpu.h>

#include "core.h"
#include "fence.h"
#include "os.h"
#include "pci.h"
#include "region.h"
#include "vq.h"

#define GPU_MAX_CAPSETS   8
#define GPU_MAX_QUEUE     1024
/* Payloads beyond the request page go in contiguous chunks this size: the
 * largest command stream is then VIRGO_MAX_EXEC_SIZE / 64 KiB descriptors,
 * which fits any queue a 3D device offers. */
#define GPU_CHUNK         (64u << 10)
#define GPU_MAX_CHUNKS    ((VIRGO_MAX_EXEC_SIZE + GPU_CHUNK - 1) / GPU_CHUNK)
#define GPU_REQ_SMALL     4096u  /* request + response in one cached page */
#define GPU_REQ_CACHE     64
/* Contiguous memory comes from a pool filled at start, as Microsoft asks
 * of drivers (allocate at initialisation, not per request): small request
 * pages and payload chunks enough for one largest command stream. Beyond
 * it requests allocate, and give back to the pool up to its cap. */
#define GPU_REQ_POOL      32
#define GPU_CHUNK_POOL    GPU_MAX_CHUNKS
#define GPU_CHUNK_CACHE   (2 * GPU_MAX_CHUNKS)
/* Long waits look this often whether their caller gave up. */
#define GPU_CANCEL_POLL_NS (100ull * 1000000ull)
#define GPU_DEFAULT_OWNER_BYTES (2ull << 30)
#define GPU_ERR_LOG       32
#define GPU_DEFAULT_CMD_TIMEOUT_NS (5ull * 1000000000ull)

struct gpu_capset {
	uint32_t id;
	uint32_t max_version;
	uint32_t size;
	uint8_t *data;
};

enum gpu_req_state { REQ_IDLE, REQ_QUEUED, REQ_DONE, REQ_ABANDONED };

/* One buffer on a virtqueue: the request, an optional readable payload in
 * separate pages (command streams, memory entries), and the response. */
struct gpu_req {
	struct gpu_req *next;        /* cache, reap list */
	struct fence_node fence;     /* on the timeline while fenced and queued */
	struct os_dma dma;           /* request at 0, response at resp_off */
	struct os_dma chunk[GPU_MAX_CHUNKS]; /* payload after the request */
	uint32_t nchunks;
	uint64_t extra_len;
	uint32_t req_len;
	uint32_t resp_off;
	uint32_t resp_len;
	uint32_t resp_got;           /* bytes the device wrote */
	uint32_t resp_type;
	uint32_t ctx_id;
	volatile uint32_t state;
	bool fenced;
	bool async;                  /* nobody waits: freed by the reaper */
	bool cursor;
};

struct gpu_err {
	uint64_t seq;
	uint32_t ctx_id;
	int32_t err;
};

struct obj_res;
struct obj_owner;

struct gpu_dev {
	struct os_dev *os;
	struct gpu_params params;
	struct pci_transport pci;
	struct vq ctrlq;
	struct vq cursorq;
	struct os_spin *qlock;     /* queues, request states, timeline, err log */
	struct os_waitq *wq;       /* answers, fences, queue space */
	struct os_mutex *lock;     /* ids, resource and file lists, reaping */
	volatile uint32_t isr_bits;
	uint64_t interrupts;       /* DPCs that found an ISR's bits (qlock) */
	uint64_t features;
	struct virtio_gpu_config config;
	uint32_t num_capsets;
	struct gpu_capset capsets[GPU_MAX_CAPSETS];
	uint64_t capset_mask;
	bool has_virgl, has_edid, has_blob, has_context_init, has_host_visible;
	struct region region;      /* the host-visible region's ranges (lock) */
	struct fence_timeline timeline;
	/* Fence stall detection (qlock), see gpu_fence_wait: the watermark a
	 * waiter last saw with fences outstanding, and since when. */
	uint64_t stall_mark, stall_since;
	bool stall_armed;
	struct gpu_err errs[GPU_ERR_LOG];
	uint32_t err_next;
	struct gpu_req *reap;      /* answered async requests (qlock) */
	struct gpu_req *cache;     /* idle small requests (lock) */
	/* Teardown must reach the device even when memory is short, or the
	 * device keeps objects whose pages the guest reuses: one request is
	 * kept back for it. */
	struct gpu_req *reserve;   /* reserve_lock */
	struct os_mutex *reserve_lock;
	uint32_t ncache;
	struct os_dma chunks[GPU_CHUNK_CACHE]; /* idle payload chunks (lock) */
	uint32_t nchunks;
	uint32_t in_flight;        /* qlock */
	volatile uint32_t lost;
	volatile uint32_t gone;    /* the hardware is not there any more */
	volatile uint32_t ready;   /* register windows mapped: the ISR may read them */
	uint32_t generation;       /* bumped by every reset */
	uint32_t next_res_id;
	uint32_t next_ctx_id;
	bool res_id_wrapped;
	bool ctx_id_wrapped;
	struct obj_res *resources; /* live, device-wide (lock) */
	struct obj_res *zombies;   /* freed while lost: pages kept until reset */
	struct core_file *files;   /* open handles (lock) */
	struct obj_owner *owners;  /* what each process's resources take (lock) */
	uint32_t nresources;
	uint32_t nfiles;
};

/* Requests (req.c): every command is one; see there. */
int gpu_req_new(struct gpu_dev *dev, uint32_t req_len, uint32_t resp_len, uint64_t extra_len,
		struct gpu_req **out);
void gpu_req_free(struct gpu_dev *dev, struct gpu_req *r);
/* Makes a small request ready for a new command (zeroed, sizes set). */
void gpu_req_reuse(struct gpu_req *r, uint32_t req_len, uint32_t resp_len);
static inline void *gpu_req_cmd(struct gpu_req *r) { return r->dma.va; }
static inline void *gpu_req_resp(struct gpu_req *r) { return (uint8_t *)r->dma.va + r->resp_off; }
/* Copies len bytes of payload from the caller into the request's chunks. */
int gpu_req_fill(struct gpu_req *r, struct os_caller *caller, uint64_t uaddr, uint64_t len);
/* Queues r. A fenced request gets the next sequence number, returned in
 * *seq_out (r itself may be answered and recycled by then). Async requests
 * belong to the device afterwards, even on error. */
int gpu_send(struct gpu_dev *dev, struct gpu_req *r, bool fenced, bool async, uint64_t *seq_out);
/* Waits for the answer of a sent synchronous request and maps its type to
 * 0 or an error; expect is the OK type wanted. r stays the caller's. */
int gpu_wait_req(struct gpu_dev *dev, struct gpu_req *r, uint32_t expect);
/* send + wait. On return *rp is NULL when the request is no longer the
 * caller's (a failed send freed it; a lost device still holds it, the
 * reaper frees it); otherwise the caller reads the answer and frees it. */
int gpu_call(struct gpu_dev *dev, struct gpu_req **rp, uint32_t expect);
/* send + wait + free, for commands answered with OK_NODATA. */
int gpu_call_nodata(struct gpu_dev *dev, struct gpu_req *r);
/* The pool of request pages and payload chunks: filled at start (best
 * effort: a short pool only means later allocations), drained at the end. */
void gpu_pool_fill(struct gpu_dev *dev);
void gpu_pool_drain(struct gpu_dev *dev);
/* Frees the answered asynchronous requests the DPC handed over. */
void gpu_reap(struct gpu_dev *dev);
/* Completion context, qlock held: hands every used buffer to its request. */
void gpu_drain(struct gpu_dev *dev, struct vq *q);
/* A deadline timeout_ns from now, on os_time_ns()'s clock. */
uint64_t gpu_deadline(struct gpu_dev *dev, uint64_t timeout_ns);
/* A virtio-gpu response type -> 0 or -VIRGO_E*. */
int gpu_resp_to_err(uint32_t type);

/* Fence waits (fence.c). 0, the fence's recorded error, -VIRGO_EBUSY
 * (nowait and not signalled), -VIRGO_ETIMEDOUT, -VIRGO_EDEVLOST, or
 * -VIRGO_ECANCELED when the caller gave up (it is asked between slices). */
int gpu_fence_wait(struct gpu_dev *dev, struct os_caller *caller, uint64_t seq, uint32_t ctx_id, uint64_t deadline,
		   bool nowait);
bool gpu_fence_signalled(struct gpu_dev *dev, uint64_t seq);
/* Completion context, qlock held: the device failed the fenced request
 * seq, which FENCE_WAIT on it reports. */
void gpu_fence_record_err(struct gpu_dev *dev, uint64_t seq, uint32_t ctx_id, int err);

/* The lost state (lost.c; gpu_set_lost and gpu_is_lost are in core.h).
 * A wait for what, that ran out: lost, and the log tells a missing
 * interrupt from a silent device. */
void gpu_set_unanswered(struct gpu_dev *dev, const char *what);

#endif
