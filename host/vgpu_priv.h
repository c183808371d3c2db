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
	struct iovec *iov;
	uint32_t niov;
};

struct vctx {
	struct vctx *next;
	uint32_t id;
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

#endif
