/* SPDX-License-Identifier: MIT */
/*
 * core.h: what an OS layer calls. Everything else in kmd/core is internal.
 *
 *   gpu_init()      at device start (PASSIVE), after interrupts are connected
 *   gpu_isr()       in interrupt context; true means "ours, queue the DPC"
 *   gpu_dpc()       in completion context
 *   gpu_fini()      at device stop/removal: resets the device, frees all
 *   gpu_reset()     re-initialises a lost device; open files stay lost
 *   core_open() / core_ioctl() / core_cleanup() / core_close()
 *                   one per open handle: create, each request, in the owning
 *                   process before close, and the final close (any process)
 */
#ifndef VIRGO_CORE_H
#define VIRGO_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "os.h"

struct gpu_dev;
struct core_file;

struct gpu_params {
	uint64_t cmd_timeout_ns;  /* a device answer slower than this = device lost; 0: 5 s */
	uint64_t first_fence;     /* first fence sequence number; 0: 1 (tests start near a wrap) */
	uint64_t feature_mask;    /* features the core may take; 0: all it knows */
	uint64_t max_owner_bytes; /* guest memory one process's resources may take; 0: 2 GiB */
};

/* *out is set once the device's register windows are mapped, before
 * gpu_init waits for the device's first answers: the OS layer's ISR/DPC
 * path reads it from there, and an ISR that runs earlier (a shared line
 * firing for another device) finds NULL. On failure it is NULL again, and
 * gpu_init has waited (os_irq_sync) before it unmaps anything. */
int gpu_init(struct os_dev *os, const struct gpu_params *params, struct gpu_dev **out);
void gpu_fini(struct gpu_dev *dev);
int gpu_reset(struct gpu_dev *dev);
bool gpu_isr(struct gpu_dev *dev, int msix_message); /* -1 for INTx */
void gpu_dpc(struct gpu_dev *dev);
bool gpu_is_lost(struct gpu_dev *dev);
/* Ends every wait at once: for surprise removal and power-down, where the
 * device will not answer again. Safe in any context but the ISR. */
void gpu_set_lost(struct gpu_dev *dev, const char *why);
/* The hardware is gone (surprise removal): lost, and from now on nothing
 * touches the device; teardown skips its reset, gpu_reset refuses. */
void gpu_set_gone(struct gpu_dev *dev);

/* Device-wide counters for tests and logs. */
struct gpu_stats {
	uint32_t resources;      /* live resources (device-wide) */
	uint32_t files;          /* open handles */
	uint32_t reqs_in_flight; /* controlq/cursorq buffers the device holds */
	uint64_t fence_issued;
	uint64_t fence_completed;
	uint64_t interrupts;     /* handled (DPCs that found the ISR's bits) */
	uint64_t features;       /* negotiated */
	uint64_t region_size;    /* the host-visible region: bytes in all */
	uint64_t region_free;    /* ... not given to a mapping */
	uint64_t region_held;    /* ... kept out of use for good (orphaned mappings) */
};
void gpu_get_stats(struct gpu_dev *dev, struct gpu_stats *st);

int core_open(struct gpu_dev *dev, struct core_file **out);
/* arg is a kernel copy of the op's struct (arg_size must match); out
 * fields are written back into it. Returns 0 or -VIRGO_E*. */
int core_ioctl(struct core_file *f, struct os_caller *caller, uint32_t op, void *arg, uint32_t arg_size);
void core_cleanup(struct core_file *f, struct os_caller *caller);
void core_close(struct core_file *f);

#endif
