/* SPDX-License-Identifier: MIT */
/* vgpu.h: the virtio-gpu device of virgo-host, executing commands on
 * virglrenderer. It owns one thread (the device thread): every
 * virglrenderer call happens there, since GL contexts are per thread. */
#ifndef VIRGO_HOST_VGPU_H
#define VIRGO_HOST_VGPU_H

#include <stdbool.h>
#include <stdint.h>

#include "ram.h"
#include "vpci.h"

struct vgpu;

struct vgpu_config {
	uint64_t features;      /* offered, VIRTIO_GPU_F_* bits (VERSION_1 implied) */
	uint16_t queue_size;    /* controlq; cursorq is 16 */
	unsigned msix;          /* vectors; 0 = INTx */
	void (*irq)(void *arg, int vector);
	void *irq_arg;
};

struct vgpu_stats {
	uint64_t commands;
	uint64_t errors;        /* ERR_* answers */
	uint64_t bad_chains;    /* malformed descriptor chains */
	uint32_t contexts;
	uint32_t resources;
	uint32_t held;          /* fenced answers waiting for their fence */
	uint64_t fences_done;
};

/* Starts the device thread and virglrenderer on it. Fails with a message
 * (logged) when EGL or virglrenderer cannot start. */
int vgpu_create(struct ram *ram, const struct vgpu_config *cfg, struct vgpu **out);
void vgpu_destroy(struct vgpu *g);
struct vpci *vgpu_pci(struct vgpu *g);
void vgpu_get_stats(struct vgpu *g, struct vgpu_stats *st);

#endif
