/* SPDX-License-Identifier: MIT */
/*
 * os.h: every service kmd/core takes from the operating system.
 *
 * The core includes no OS header; each OS layer (kmd/win for Windows, the
 * embedded host, the Linux user-space PCI driver, the unit-test fake)
 * implements these functions once. The rules follow the Windows kernel even
 * where other layers would not notice a breach, and the test layers assert
 * them:
 *  - ISR context: only os_mmio_read*, os_atomic_* and returning.
 *  - completion (DPC) context: spin locks, os_waitq_wake, os_mmio_*, no
 *    allocation or freeing, no waiting, no user memory.
 *  - request context (PASSIVE, in the caller's process): everything, but no
 *    spin lock held across an allocation, a wait or a user copy
 *    (os_might_sleep() says so and test layers check it).
 */
#ifndef VIRGO_OS_H
#define VIRGO_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct os_dev;    /* one device instance, owned by the OS layer */
struct os_caller; /* the process (or connection) a request comes from */
struct os_mmio;   /* a mapped window of a BAR */
struct os_spin;   /* a spin lock: usable in completion context */
struct os_mutex;  /* a sleeping lock: request context only */
struct os_waitq;  /* a wait queue with a generation counter */

#if defined(__GNUC__)
#define OS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define OS_PRINTF(f, a)
#endif

/* ---- logging ---- */
enum os_log_level { OS_LOG_ERR = 0, OS_LOG_WARN = 1, OS_LOG_INFO = 2, OS_LOG_DEBUG = 3 };
void os_log(struct os_dev *os, enum os_log_level level, const char *fmt, ...) OS_PRINTF(3, 4);

/* ---- memory ----
 * Zeroed on success, NULL on failure. Memory that completion context touches
 * must be OS_MEM_NONPAGED. The core never frees NULL or a zeroed os_dma /
 * os_pages, so an OS layer need not accept them (Windows' pool does not). */
#define OS_MEM_PAGED    0u
#define OS_MEM_NONPAGED 1u
void *os_alloc(struct os_dev *os, size_t size, unsigned flags);
void os_free(struct os_dev *os, void *p);

/* Physically contiguous, page-aligned, zeroed DMA memory: rings and command
 * buffers. bus is the address the device uses. */
struct os_dma {
	void *va;
	uint64_t bus;
	size_t size;
	void *priv;
};
int os_dma_alloc(struct os_dev *os, size_t size, struct os_dma *out);
void os_dma_free(struct os_dev *os, struct os_dma *dma);

/* Backing pages for resources: zeroed, page-granular (size is a multiple
 * of OS_PAGE_SIZE; os_dma_alloc rounds up and reports the rounded size), not
 * necessarily contiguous. The OS fills sg[] (runs of bus-contiguous pages, each run
 * shorter than 4 GiB) and may merge neighbours. */
struct os_sg {
	uint64_t bus;
	uint64_t len;
};
struct os_pages {
	uint64_t size;    /* bytes, a multiple of OS_PAGE_SIZE */
	uint32_t nsg;
	struct os_sg *sg;
	void *priv;
};
#define OS_PAGE_SIZE 4096u
int os_pages_alloc(struct os_dev *os, uint64_t size, struct os_pages *out);
void os_pages_free(struct os_dev *os, struct os_pages *pages);

/* ---- PCI ---- */
int os_pci_cfg_read(struct os_dev *os, uint32_t offset, void *buf, uint32_t len);
/* Maps [offset, offset+len) of a memory BAR. */
int os_mmio_map(struct os_dev *os, uint8_t bar, uint64_t offset, uint64_t len,
		struct os_mmio **out);
void os_mmio_unmap(struct os_dev *os, struct os_mmio *mmio);
uint8_t os_mmio_read8(struct os_mmio *m, uint32_t off);
uint16_t os_mmio_read16(struct os_mmio *m, uint32_t off);
uint32_t os_mmio_read32(struct os_mmio *m, uint32_t off);
void os_mmio_write8(struct os_mmio *m, uint32_t off, uint8_t v);
void os_mmio_write16(struct os_mmio *m, uint32_t off, uint16_t v);
void os_mmio_write32(struct os_mmio *m, uint32_t off, uint32_t v);

/* Interrupts. The OS connects them before calling gpu_init and tells the
 * core how many MSI-X messages it has (0: the INTx line). From then on it
 * calls gpu_isr() in interrupt context and, when that returns true,
 * gpu_dpc() in completion context. The message number passed to gpu_isr is
 * the MSI-X table index, which is what the core programs as the queue and
 * config vectors. os_log is allowed in every context. */
unsigned os_irq_msix_count(struct os_dev *os);
/* Returns once no ISR or DPC of this device is running or queued. A failed
 * gpu_init calls it after withdrawing *out and before freeing anything, as
 * the interrupt path may still hold the pointer it read. */
void os_irq_sync(struct os_dev *os);

/* ---- atomics (ISR to DPC hand-off) ---- */
uint32_t os_atomic_or32(volatile uint32_t *p, uint32_t v);  /* returns old */
uint32_t os_atomic_xchg32(volatile uint32_t *p, uint32_t v); /* returns old */
uint64_t os_atomic_load64(volatile uint64_t *p);
void os_atomic_store64(volatile uint64_t *p, uint64_t v);

/* ---- locks ---- */
struct os_spin *os_spin_create(struct os_dev *os);
void os_spin_destroy(struct os_spin *l);
void os_spin_lock(struct os_spin *l);
void os_spin_unlock(struct os_spin *l);
struct os_mutex *os_mutex_create(struct os_dev *os);
void os_mutex_destroy(struct os_mutex *m);
void os_mutex_lock(struct os_mutex *m);
void os_mutex_unlock(struct os_mutex *m);
/* Request context asserts that it may block here. */
void os_might_sleep(struct os_dev *os);

/* ---- waiting ----
 * Take the generation with os_waitq_seq(), test the condition, then wait
 * for a newer generation: a wake between the test and the wait is not lost.
 * deadline_ns is on the os_time_ns() clock. */
struct os_waitq *os_waitq_create(struct os_dev *os);
void os_waitq_destroy(struct os_waitq *wq);
uint64_t os_waitq_seq(struct os_waitq *wq);
int os_waitq_wait(struct os_waitq *wq, uint64_t seq, uint64_t deadline_ns); /* 0 or -VIRGO_ETIMEDOUT */
void os_waitq_wake(struct os_waitq *wq);
uint64_t os_time_ns(struct os_dev *os);

/* ---- the caller's memory (request context only) ---- */
int os_copy_from_user(struct os_caller *c, void *dst, uint64_t uaddr, size_t len);   /* 0 or -VIRGO_EFAULT */
int os_copy_to_user(struct os_caller *c, uint64_t uaddr, const void *src, size_t len); /* 0 or -VIRGO_EFAULT */
/* Maps backing pages into the caller; *cookie undoes it. Unmapping happens
 * in the owning process (cleanup), never in completion context. */
int os_map_user(struct os_caller *c, struct os_pages *pages, uint64_t *uaddr, void **cookie);
void os_unmap_user(struct os_caller *c, void *cookie);
/* Maps len bytes at offset of memory BAR bar (the device's host-visible
 * region: host memory, not registers) into the caller, with the caching
 * the device asked for; *cookie undoes it, in the owning process. */
enum os_cache { OS_CACHE_CACHED, OS_CACHE_UNCACHED, OS_CACHE_WC };
int os_map_region(struct os_caller *c, uint8_t bar, uint64_t offset, uint64_t len, enum os_cache cache,
		  uint64_t *uaddr, void **cookie);
void os_unmap_region(struct os_caller *c, void *cookie);
/* The end of the caller's reachable addresses: a mapping must end at or
 * below it (4 GiB for a 32-bit process on a 64-bit kernel). */
uint64_t os_user_limit(struct os_caller *c);
/* Who is charged for what the caller allocates: the same key for every
 * handle of one process (any stable, non-zero value). */
uint64_t os_caller_owner(struct os_caller *c);
/* The caller gave up: its request was cancelled or its thread is exiting.
 * Long waits look between slices and end with -VIRGO_ECANCELED. */
bool os_caller_cancelled(struct os_caller *c);

#endif
