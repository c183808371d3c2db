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

/* Device faults, for reliability tests only; all zero (the default) is a
 * healthy device. Rates are per mille of the commands (or answers) the
 * device sees; the choices come from a PRNG seeded with seed, so a run is
 * repeatable as far as thread timing allows. */
struct vgpu_faults {
	unsigned drop;          /* answers never given (the command ran) */
	unsigned err;           /* commands not run but answered ERR_* */
	unsigned delay;         /* answers held back delay_ms first */
	unsigned delay_ms;
	uint64_t stop_after;    /* after this many commands the device stops
				 * answering anything until the next reset; 0: never */
	uint64_t after;         /* drop, err and delay spare the first this many
				 * commands (the driver's start) */
	uint32_t seed;
};

struct vgpu_config {
	uint64_t features;      /* offered, VIRTIO_GPU_F_* bits (VERSION_1 implied) */
	uint16_t queue_size;    /* controlq; cursorq is 16 */
	unsigned msix;          /* vectors; 0 = INTx */
	void (*irq)(void *arg, int vector);
	void *irq_arg;
	/* No device thread: virglrenderer starts on the caller's thread and
	 * the caller runs the device with vgpu_run() after each notify (the
	 * fuzzer drives it this way, without waiting on another thread). */
	bool manual;
	/* Bytes of host memory the guest's resources may hold (an estimate
	 * per resource, vgpu_mem.c); past it creates get ERR_OUT_OF_MEMORY.
	 * 0: VGPU_DEFAULT_HOSTMEM. */
	uint64_t max_hostmem;
	struct vgpu_faults faults;
};

#define VGPU_DEFAULT_HOSTMEM (4ull << 30)

struct vgpu_stats {
	uint64_t commands;
	uint64_t errors;        /* ERR_* answers */
	uint64_t bad_chains;    /* malformed descriptor chains */
	uint32_t contexts;
	uint32_t resources;
	uint64_t hostmem;       /* bytes charged to the budget now */
	uint64_t hostmem_refused; /* creates refused for the budget */
	uint32_t held;          /* fenced answers waiting for their fence */
	uint64_t fences_done;
	/* Injected faults (struct vgpu_faults). */
	uint64_t dropped, delayed, injected_errs;
	uint32_t stops;         /* times stop_after stopped the device */
	bool stopped;           /* stopped now; a reset restarts it */
};

/* Starts the device thread and virglrenderer on it. Fails with a message
 * (logged) when EGL or virglrenderer cannot start. */
int vgpu_create(struct ram *ram, const struct vgpu_config *cfg, struct vgpu **out);
void vgpu_destroy(struct vgpu *g);
struct vpci *vgpu_pci(struct vgpu *g);
void vgpu_get_stats(struct vgpu *g, struct vgpu_stats *st);
/* Manual mode: one pass of the device thread's loop on the caller's
 * thread (queues, fences, delayed answers, interrupts). Returns how many
 * answers still wait (on fences or delays): call again while non-zero. */
unsigned vgpu_run(struct vgpu *g);
/* Parses a fault list "drop=N,err=N,delay=N:MS,stop=N,after=N,seed=N"
 * (rates per mille). Returns 0, or -1 on a malformed list. */
int vgpu_faults_parse(const char *spec, struct vgpu_faults *out);

#endif
