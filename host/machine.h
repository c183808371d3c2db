/* SPDX-License-Identifier: MIT */
/* machine.h: the machine virgo-host plays: guest RAM, the virtio-gpu device,
 * an interrupt line, and the KMD core as its guest kernel. */
#ifndef VIRGO_HOST_MACHINE_H
#define VIRGO_HOST_MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <virgo/uapi.h>

#include "core.h"
#include "os_posix.h"
#include "ram.h"
#include "vgpu.h"

/* A request's memory as the core sees it over a socket: user pointers
 * are offsets into the in-data (reads) or out-data (writes). */
struct host_map {
	uint32_t nruns;
	struct virgo_wire_run runs[];
};

struct os_caller {
	const uint8_t *in;
	uint32_t in_len;
	uint8_t *out;
	uint32_t out_cap;
	uint32_t out_len;
	struct host_map *last_map;
	uint64_t owner;   /* the connection: each client is one process */
	int fd;           /* its socket: a client that hung up gave up its waits */
};

struct os_dev {
	struct ram *ram;
	struct vpci *pci;
	unsigned msix;
	pthread_mutex_t lock;
	struct posix_counts n;
};

struct machine_config {
	uint64_t ram_size;       /* 0: 256 MiB */
	uint64_t features;       /* virtio-gpu features offered; 0: the default set */
	unsigned msix;           /* 0 is INTx */
	bool intx;
	uint16_t queue_size;
	uint64_t max_hostmem;    /* the guest's resources' host memory; 0: VGPU_DEFAULT_HOSTMEM */
	uint64_t cmd_timeout_ns; /* the core's command timeout; 0: its default */
	struct vgpu_faults faults; /* reliability tests only; zero: none */
};

struct machine {
	struct ram ram;
	struct vgpu *vgpu;
	struct os_dev os;
	struct gpu_dev *gpu;
	pthread_t irq_thread;
	pthread_mutex_t irq_lock;
	pthread_cond_t irq_cond;
	uint64_t irq_pending;    /* bit n: vector n; bit 63: INTx */
	bool irq_stop;
	bool irq_started;
	bool irq_busy;           /* the thread is inside gpu_isr/gpu_dpc */
};

int machine_start(struct machine *m, const struct machine_config *cfg);
void machine_stop(struct machine *m);
/* Counts of live OS objects and rule violations, for leak checks. */
void machine_counts(struct machine *m, struct posix_counts *out);

#endif
