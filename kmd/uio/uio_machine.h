/* SPDX-License-Identifier: MIT */
/*
 * uio_machine.h: the KMD core as a Linux user-space PCI driver, inside a
 * guest whose virtio-gpu is a real device (QEMU's virtio-gpu-gl-pci).
 *
 *   PCI config     /sys/bus/pci/devices/<BDF>/config (pread/pwrite)
 *   BARs           mmap of /sys/bus/pci/devices/<BDF>/resource<N>
 *   DMA memory     a hugetlbfs memfd of 2 MiB pages, locked, with the
 *                  guest-physical address of each page from
 *                  /proc/self/pagemap (root only), and a 4 KiB-page
 *                  allocator on top (os_uio.c)
 *   interrupts     uio_pci_generic: INTx through /dev/uioN; a blocking read
 *                  is an interrupt, which the kernel masked with the
 *                  command register's INTx Disable bit; clearing that bit
 *                  (a config write) unmasks the line again
 *   user memory    the caller is this process: user pointers are addresses
 *                  here, copies go through process_vm_readv/writev so that a
 *                  bad pointer is -VIRGO_EFAULT rather than a crash
 *
 * The arena's 2 MiB pages are placed in its virtual range so that no two
 * neighbours are physically adjacent (UIO_LAYOUT_SCATTER, the default):
 * every backing that crosses a 2 MiB line is scatter-gather on the device,
 * and os_pages_alloc places multi-page backings across such a line on
 * purpose. UIO_LAYOUT_NATURAL keeps the kernel's order (runs merge where
 * the pages happen to be adjacent).
 */
#ifndef VIRGO_UIO_MACHINE_H
#define VIRGO_UIO_MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "os_posix.h"

#define UIO_HUGE_SIZE  (2u << 20)
#define UIO_HUGE_PAGES (UIO_HUGE_SIZE / OS_PAGE_SIZE) /* 4 KiB pages per 2 MiB page */

/* In-guest requests come from this process: nothing to carry but counts. */
struct os_caller {
	int64_t maps; /* mappings made for this caller and not yet undone */
};

/* Live OS objects (leak checks) and rule breaches. */
/* What os_pages_alloc handed out: proof that the device saw scatter-gather. */
struct uio_sg_stats {
	uint64_t allocs;       /* os_pages_alloc calls that succeeded */
	uint64_t multi_run;    /* ... of which had more than one run */
	uint64_t runs;         /* runs in all of them */
	uint32_t max_runs;     /* most runs in one backing */
	uint64_t max_bytes;    /* largest backing */
};

enum uio_layout { UIO_LAYOUT_SCATTER = 0, UIO_LAYOUT_NATURAL = 1 };

struct uio_arena {
	int fd;              /* hugetlbfs memfd holding every page */
	uint8_t *va;         /* the arena: nhuge * 2 MiB, contiguous here */
	uint32_t nhuge;
	uint64_t *phys;      /* guest-physical address of slot i */
	uint32_t *filepg;    /* memfd page shown in slot i */
	uint8_t *used;       /* one byte per 4 KiB page */
	uint32_t npages;
	uint32_t free_pages;
	uint32_t hint;
};

struct uio_bar {
	uint8_t *va;
	uint64_t len;
};

struct os_dev {
	char path[96];             /* /sys/bus/pci/devices/<BDF> */
	int cfg_fd;
	struct uio_bar bar[6];
	struct uio_arena arena;
	enum uio_layout layout;
	pthread_mutex_t lock;      /* arena, bars, sg stats */
	int log_level;
	struct posix_counts n;
	struct uio_sg_stats sg;
};

struct uio_config {
	const char *bdf;           /* NULL: the first 1af4:1050 */
	uint32_t huge_pages;       /* arena size in 2 MiB pages; 0: every free one */
	enum uio_layout layout;
	int log_level;             /* enum os_log_level; messages above it are dropped */
	struct gpu_params params;
};

struct uio_machine {
	struct os_dev os;
	struct gpu_dev *gpu;
	char bdf[32];
	int uio_fd;
	int stop_fd;               /* eventfd: ends the interrupt thread */
	pthread_t irq_thread;
	bool irq_started;
	uint64_t irqs;             /* interrupts taken */
	volatile uint32_t irq_busy; /* the thread holds a device pointer */
	uint64_t irqs_not_ours;    /* ... for which gpu_isr said "not mine" */
	uint64_t unmask_rescues;   /* the line found masked with no event to show */
};

/* Finds and binds the device, maps it, builds the DMA arena, connects the
 * interrupt and starts the core. Prints what it does on stderr. */
int uio_machine_start(struct uio_machine *m, const struct uio_config *cfg);
/* Disconnects the interrupt first, then gpu_fini, then frees the rest. */
void uio_machine_stop(struct uio_machine *m);
/* gpu_reset on the live device (request context). */
int uio_machine_reset(struct uio_machine *m);
void uio_machine_counts(struct uio_machine *m, struct posix_counts *n, struct uio_sg_stats *sg);

/* os_uio.c, for the machine. */
int uio_arena_create(struct os_dev *os, uint32_t nhuge, enum uio_layout layout);
void uio_arena_destroy(struct os_dev *os);
void uio_bars_unmap(struct os_dev *os);
/* The interrupt thread says where it is: in the ISR, in the DPC, neither. */
void uio_set_irq_context(int isr, int dpc);
/* The device the caller-side functions (user copies, mappings) belong to. */
void uio_set_os(struct os_dev *os);

#endif
