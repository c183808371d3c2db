/* SPDX-License-Identifier: MIT */
/* vgpu_priv.h: the device's state, shared by its machinery (vgpu.c) and its
 * command handlers (vgpu_cmd.c). Internal to host/. */
#ifndef VIRGO_HOST_VGPU_PRIV_H
#define VIRGO_HOST_VGPU_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <virgo/virtio_gpu.h>

#include "vgpu.h"
#include "vqdev.h"

#define NQUEUES        2
#define CURSOR_QSIZE   16
#define MAX_MEM_ENTRIES 16384u /* as QEMU: a bound on what one request may pin */
#define MAX_SUBMIT     (16u << 20)
#define RESET_WAIT_NS  (5ull * 1000000000ull)

struct vres {
	struct vres *next;
	uint32_t id;
	uint32_t last_level;     /* the deepest mip level a transfer may name */
	bool blob;
	uint64_t blob_size;
	uint64_t hostmem;        /* charged to the budget (vgpu_mem.c) */
	struct iovec *iov;
	uint32_t niov;
};

/* A PIPE_RESOURCE_CREATE of a submitted stream, charged to its context
 * until a HOST3D blob takes it by its blob id. */
struct vpend {
	struct vpend *next;
	uint64_t blob_id;
	uint64_t bytes;
};

struct vctx {
	struct vctx *next;
	uint32_t id;
	struct vpend *pending;
};

struct held {
	struct held *next;
	struct vqdev_elem *e;
	uint16_t queue;
	uint32_t host_fence;
	struct virtio_gpu_ctrl_hdr resp;
};

/* An answer held back by the delay fault. */
struct delayed {
	struct delayed *next;
	struct vqdev_elem *e;
	uint16_t queue;
	uint32_t len;
	uint64_t due_ns;
};

struct vgpu {
	struct ram *ram;
	struct vgpu_config cfg;
	struct vpci pci;
	struct vqdev q[NQUEUES];
	struct vres *res;
	struct vctx *ctx;
	struct held *held_head, *held_tail;
	struct delayed *delayed_head, *delayed_tail;
	uint32_t ndelayed;
	uint32_t rng;            /* fault choices (xorshift32) */
	bool stop_fired;         /* stop_after is one-shot: a reset revives the device */
	uint32_t host_fence_next;
	volatile uint32_t host_fence_done;
	uint32_t cursor_x, cursor_y, cursor_res;
	struct virtio_gpu_config config;
	uint32_t ncapsets;
	uint32_t capset_ids[2];
	int efd;                 /* wakes the device thread */
	pthread_t thread;
	pthread_mutex_t lock;    /* reset handshake, start-up result, stats */
	pthread_cond_t cond;
	bool started;
	int start_err;
	bool stop;
	uint64_t reset_req, reset_done;
	struct vgpu_stats st;
};

/* vgpu_cmd.c: one command from queue qi; returns the response type. A
 * handler that wrote a typed response sets *out_len. */
uint32_t vgpu_dispatch(struct vgpu *g, uint16_t qi, const struct virtio_gpu_ctrl_hdr *h, struct vqdev_elem *e,
		       size_t *out_len);
void vgpu_res_destroy(struct vgpu *g, struct vres *r);
void vgpu_ctx_destroy(struct vgpu *g, struct vctx *x);

/* vgpu_mem.c: the host-memory budget. Charges return 0 or
 * ERR_OUT_OF_MEMORY (and count the refusal). A resource is charged its
 * storage plus VGPU_RES_OVERHEAD. */
#define VGPU_RES_OVERHEAD 4096u
uint64_t vgpu_mem_estimate(uint32_t target, uint32_t format, uint32_t width, uint32_t height, uint32_t depth,
			   uint32_t array_size, uint32_t last_level, uint32_t nr_samples);
uint32_t vgpu_mem_charge(struct vgpu *g, uint64_t bytes);
void vgpu_mem_release(struct vgpu *g, uint64_t bytes);
/* Charges a stream's PIPE_RESOURCE_CREATE commands to context x as a
 * whole (all or none), before virglrenderer runs it. */
uint32_t vgpu_mem_charge_stream(struct vgpu *g, struct vctx *x, const uint32_t *s, uint32_t ndw);
/* What x's pending create with blob_id was charged (0: none); the charge
 * moves to the caller. */
uint64_t vgpu_mem_take_pending(struct vctx *x, uint64_t blob_id);
void vgpu_mem_drop_pending(struct vgpu *g, struct vctx *x);

#endif
