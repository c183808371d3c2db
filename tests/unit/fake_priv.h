/* SPDX-License-Identifier: MIT */
/*
 * fake_priv.h: what the fake's files share. Tests include fake.h only.
 *
 *   fake_os.c    the machine, messages, instrumentation, os_alloc, objects
 *   fake_sync.c  locks, atomics, wait queues, virtual time, interrupt delivery
 *   fake_user.c  callers: user copies and user mappings
 *   fake_ram.c   guest RAM: memfd, frames, DMA memory, backing pages
 *   fake_pci.c   PCI config space and the BAR 4 register model
 *   fake_dev.c   device life, interrupts, answers, held requests and fences
 *   fake_vq.c    taking requests: descriptor chains, scripts, the command log
 *   fake_gpu.c   virtio-gpu commands: dispatch, display, capsets, contexts, submit
 *   fake_res.c   resources: creation, backing, transfers, blobs
 *   fake_paged.c pageable memory, inaccessible at DISPATCH_LEVEL
 */
#ifndef VIRGO_TESTS_FAKE_PRIV_H
#define VIRGO_TESTS_FAKE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virgo/uapi.h>
#include <virgo/virtio_gpu.h>
#include <virgo/virtio_pci.h>
#include <virgo/virtio_ring.h>

#include "fake.h"

/* ---- guest RAM (fake_ram.c) ---- */

enum fake_frame_state { FRAME_FREE, FRAME_DMA, FRAME_PAGES };

struct fake_frame {
	uint8_t state;
	uint32_t dev_refs; /* the device uses the frame (rings, held buffers, backing) */
	uint32_t map_refs; /* user mappings of the frame */
};

struct fake_ram {
	int fd;
	uint8_t *cpu;      /* the core's view: free frames are PROT_NONE */
	uint8_t *dev;      /* the device's view: always readable and writable */
	uint64_t size;
	uint32_t nframes;
	uint32_t used;
	struct fake_frame *frames;
};

#define PAGES_MAGIC 0x50414745u
#define DMA_MAGIC   0x444d4121u

/* os_pages.priv and os_dma.priv */
struct fake_pages_rec {
	uint32_t magic;
	uint32_t nframes;
	uint32_t *frames;  /* by page index */
	struct os_sg *sg;  /* the list handed out */
	struct fake_pages_rec *prev, *next;
};
struct fake_dma_rec {
	uint32_t magic;
	uint32_t first;
	uint32_t nframes;
	struct fake_dma_rec *prev, *next;
};

int fram_init(struct fake_ram *r, uint64_t size);
void fram_fini(struct fake_ram *r);
/* Device view of [bus, bus+len) if every frame is allocated, else NULL. */
void *fram_resolve(struct fake_ram *r, uint64_t bus, uint64_t len);
/* Adds delta to the device references of the frames of [bus, bus+len). */
void fram_ref(struct fake_ram *r, uint64_t bus, uint64_t len, int delta);
/* Frees DMA memory and pages the core left allocated. */
void fram_free_leftovers(struct os_dev *os);
static inline uint64_t fram_bus(uint32_t frame)
{
	return FAKE_RAM_BUS_BASE + (uint64_t)frame * OS_PAGE_SIZE;
}

/* ---- the device (fake_pci.c, fake_dev.c, fake_gpu.c) ---- */

#define FAKE_BAR 4
#define FAKE_BAR_SIZE 0x4000u
#define FAKE_COMMON_OFF 0x0000u
#define FAKE_ISR_OFF    0x1000u
#define FAKE_DEVICE_OFF 0x2000u
#define FAKE_NOTIFY_OFF 0x3000u
#define FAKE_WINDOW     0x1000u
#define FAKE_NOTIFY_MULT 4u
#define FAKE_MSIX_BAR 1
#define FAKE_MAX_VECTORS 32

struct fake_queue {
	uint16_t max;
	uint16_t size;
	uint16_t vector;
	bool enabled;
	uint64_t desc, driver, device;
	uint16_t last_avail;
	uint16_t used_idx;
	uint8_t *owned;    /* by descriptor index: part of a chain the device holds */
};

struct fake_seg {
	uint64_t bus;
	uint32_t len;
	bool writable;
};

/* A request the device holds (answer pending). */
enum held_kind { HELD_SCRIPT, HELD_FENCE, HELD_DROP };
struct fake_held {
	struct fake_held *next;
	enum held_kind kind;
	uint16_t queue;
	uint16_t head;
	struct fake_seg *segs;
	unsigned nsegs;
	uint16_t *descs;   /* descriptor indices of the chain (direct table) */
	unsigned ndescs;
	uint8_t *resp;
	uint32_t resp_len;
	uint64_t fence_id;
	uint64_t due_ns;   /* 0: no timer */
	size_t log_idx;
};

struct fake_rule {
	uint32_t type;
	enum fake_action action;
	uint32_t resp_type;
	unsigned count;
};
#define FAKE_MAX_RULES 16

struct fake_gctx;
struct fake_res;

struct fake_dev {
	struct os_dev *os;
	struct fake_config cfg;
	uint8_t pcicfg[256];
	/* transport */
	uint32_t dfeat_sel;
	uint32_t gfeat_sel;
	uint64_t driver_features;
	uint64_t features;         /* negotiated (after FEATURES_OK) */
	uint16_t config_vector;
	uint8_t status;
	uint8_t config_gen;
	uint16_t queue_sel;
	struct fake_queue q[VIRTIO_GPU_QUEUE_COUNT];
	uint8_t isr;
	uint32_t msix_pending;     /* one bit per vector */
	uint32_t events_read;
	/* requests */
	struct fake_held *held;    /* in arrival order */
	bool hold_fences;
	bool honest_give_back;   /* fake_dev_honest_give_back */
	uint8_t *spare_resp;     /* an answer buffer kept for reuse */
	uint64_t fence_delay_ns;
	uint64_t hold_delay_ns;
	struct fake_rule rules[FAKE_MAX_RULES];
	unsigned nrules;
	struct fake_cmd *log;
	size_t nlog, caplog;
	uint8_t *submit;
	size_t nsubmit, capsubmit;
	/* objects */
	struct fake_gctx *ctxs;
	struct fake_res *res;
	struct fake_dev_stats st;
	bool removed;              /* fake_dev_remove: the bus reads all ones */
	/* the host-visible region (cfg.hostmem_size): a memfd, mapped here;
	 * a mapped blob's storage is its range of it */
	int hostmem_fd;
	uint8_t *hostmem;
	uint32_t map_info;         /* what MAP_BLOB answers */
};

int fdev_create(struct os_dev *os, const struct fake_config *cfg, struct fake_dev **out);
void fdev_destroy(struct fake_dev *d);
/* fake_pci.c */
void fpci_build_config(struct fake_dev *d);
uint32_t fpci_read(struct fake_dev *d, uint32_t off, unsigned width);
void fpci_write(struct fake_dev *d, uint32_t off, unsigned width, uint32_t v);
/* fake_dev.c */
void fdev_reset(struct fake_dev *d);
void fdev_raise(struct fake_dev *d, int qi); /* -1: config change */
uint64_t fdev_next_due(struct fake_dev *d);  /* UINT64_MAX: nothing timed */
unsigned fdev_tick(struct fake_dev *d);      /* answers what is due now */
/* Writes up to len answer bytes into the chain's writable segments. */
uint32_t fdev_write_segs(struct fake_dev *d, const struct fake_seg *segs, unsigned n,
			 const uint8_t *data, uint32_t len);
void fdev_push_used(struct fake_dev *d, uint16_t qi, uint32_t head, uint32_t len);
void fdev_log_answer(struct fake_dev *d, size_t idx, const uint8_t *resp, uint32_t len);
/* Keeps a request whose answer waits; its memory is the device's meanwhile. */
void fdev_hold(struct fake_dev *d, struct fake_held *h);
uint64_t fdev_fence_value(struct fake_dev *d, uint64_t id);
uint64_t fdev_held_timeline(const struct fake_held *h);
/* Completes fence value on a timeline (any_timeline: on all of them). */
unsigned fdev_signal_fence(struct fake_dev *d, bool any_timeline, uint64_t timeline, uint64_t value);
static inline bool fdev_broken(const struct fake_dev *d)
{
	return (d->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) || d->removed;
}
static inline bool fdev_has_feature(const struct fake_dev *d, unsigned bit)
{
	return d->features & VIRTIO_FEATURE_BIT(bit);
}
/* fake_vq.c: processes what the driver made available on queue qi. */
void fdev_process(struct fake_dev *d, uint16_t qi);
/* fake_gpu.c: executes one request. req/req_len is the readable part
 * (at least a header); the handler writes the answer (type and payload; the
 * caller completes the header) into resp and its length into resp_len, and
 * what the log keeps into rec. The log must not grow meanwhile. */
struct fake_req {
	uint16_t queue;
	const uint8_t *req;
	size_t req_len;
	uint8_t *resp;      /* answer bytes */
	size_t resp_len;    /* out */
	size_t resp_cap;    /* capacity of resp */
	struct fake_cmd *rec;
};
void fgpu_execute(struct fake_dev *d, struct fake_req *r);

struct fake_gctx {
	struct fake_gctx *next;
	uint32_t id;
	uint32_t capset;
	char name[65];
};

struct fake_res {
	struct fake_res *next;
	uint32_t id;
	uint32_t target, format, bind;
	uint32_t width, height, depth, array_size, last_level, nr_samples, flags;
	/* backing */
	struct virtio_gpu_mem_entry *ents;
	uint32_t nents;
	uint64_t backing;       /* bytes; 0 with no backing */
	bool has_backing;
	/* host side */
	uint8_t *storage;
	size_t storage_len;
	uint32_t *ctxs;         /* attached contexts */
	unsigned nctxs;
	/* blob */
	bool blob;
	uint32_t blob_mem, blob_flags;
	uint64_t blob_id, blob_size;
	bool mapped;
	uint64_t map_off;
};

/* fake_gpu.c: objects and answer helpers shared with fake_res.c. */
struct fake_gctx *fgpu_find_ctx(struct fake_dev *d, uint32_t id);
void fgpu_recount(struct fake_dev *d);
void fgpu_set_type(struct fake_req *r, uint32_t type);
void fgpu_ok(struct fake_req *r);
/* Each false/NULL return has set the answer already. */
bool fgpu_need(struct fake_dev *d, struct fake_req *r, size_t size, const char *what);
bool fgpu_need_feature(struct fake_dev *d, struct fake_req *r, unsigned bit, const char *what);
bool fgpu_need_ctx(struct fake_dev *d, struct fake_req *r, uint32_t ctx_id);
struct fake_res *fgpu_need_res(struct fake_dev *d, struct fake_req *r, uint32_t res_id);
/* fake_res.c */
struct fake_res *fgpu_find_res(struct fake_dev *d, uint32_t id);
bool fgpu_res_attached(const struct fake_res *r, uint32_t ctx);
bool fgpu_res_attach(struct fake_res *r, uint32_t ctx);
void fgpu_res_detach(struct fake_res *r, uint32_t ctx);
void fgpu_free_res(struct fake_dev *d, struct fake_res *r);
void fres_create_2d(struct fake_dev *d, struct fake_req *r);
void fres_create_3d(struct fake_dev *d, struct fake_req *r);
void fres_unref(struct fake_dev *d, struct fake_req *r);
void fres_set_scanout(struct fake_dev *d, struct fake_req *r);
void fres_flush(struct fake_dev *d, struct fake_req *r);
void fres_transfer_2d(struct fake_dev *d, struct fake_req *r);
void fres_transfer_3d(struct fake_dev *d, struct fake_req *r, uint32_t ctx_id, bool to_host);
void fres_attach_backing(struct fake_dev *d, struct fake_req *r);
void fres_detach_backing(struct fake_dev *d, struct fake_req *r);
void fres_assign_uuid(struct fake_dev *d, struct fake_req *r);
void fres_create_blob(struct fake_dev *d, struct fake_req *r, uint32_t ctx_id);
void fres_map_blob(struct fake_dev *d, struct fake_req *r);
/* The bar of the host-visible region (fill_shm's), and whether
 * [off, off+len) of it is covered by mapped blobs. */
#define FAKE_SHM_BAR 2
bool fres_region_mapped(struct fake_dev *d, uint64_t off, uint64_t len);
/* The region's copy of a mapped blob's storage becomes its own again. */
struct fake_res;
void fres_unmap_storage(struct fake_res *res);
void fres_unmap_blob(struct fake_dev *d, struct fake_req *r);
void fgpu_reset(struct fake_dev *d);
void fgpu_destroy(struct fake_dev *d);
struct fake_cmd *fdev_log_add(struct fake_dev *d);

/* ---- the machine (fake_os.c) ---- */

struct fake_alloc_hdr;
struct fake_map;

/* The head of every spin lock, mutex, wait queue and MMIO window. */
struct fake_obj {
	uint32_t magic;
	struct os_dev *os;
	struct fake_obj *prev, *next;
};

struct os_dev {
	uint32_t magic;
	struct fake_config cfg;
	bool strict;
	enum fake_ctx ctx;
	unsigned spin_depth;
	uint64_t now_ns;
	uint64_t time_polls;       /* os_time_ns calls since the last wait */
	struct gpu_dev *gpu;       /* the slot fake_gpu_init hands to gpu_init */
	struct fake_irq_handler handler;
	struct fake_ram ram;
	struct fake_dev *dev;
	struct fake_stats st;
	struct os_dev *next;       /* live machines */
	struct fake_alloc_hdr *allocs;
	struct fake_obj *objs;
	struct os_caller *callers;
	bool in_delivery;
	unsigned stacks_printed;
	struct fake_dma_rec *dmas;
	struct fake_pages_rec *pages;
	uint64_t fail_at;          /* alloc_attempts value that fails; 0 off */
	bool fail_sticky;
	uint64_t copy_fail_at;
	char log[FAKE_LOG_KEEP][256];
	unsigned log_next, log_n;
	bool verbose;
	bool storm;                /* fake_set_irq_storm */
	bool irq_off;              /* fake_set_irq_connected(false) */
	bool storm_dpc;            /* a storm ISR claimed: its DPC is due */
	struct fake_paged *paged;  /* fake_config.paged_guard: the pageable arena */
};

#define FAKE_OS_MAGIC 0x4f534456u

static inline const char *fake_ctx_name(enum fake_ctx c)
{
	return c == FAKE_CTX_REQUEST ? "REQUEST" : c == FAKE_CTX_DPC ? "DPC" : "ISR";
}

/* Loud: problems are printed (strict machines, or VIRGO_TEST_VERBOSE). */
static inline bool fake_loud(const struct os_dev *os)
{
	return os->strict || os->verbose;
}

void fake_violation(struct os_dev *os, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A device-side complaint about the driver: counted and a violation. */
void fake_driver_error(struct os_dev *os, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A call on a NULL, dead or foreign object has no machine of its own: it
 * is blamed on the newest live machine. */
void fake_orphan_violation(const char *what, const void *obj);
/* Checks that a sleeping/allocating call is legal now. */
void fake_check_passive(struct os_dev *os, const char *what);
/* Counts an allocation attempt; true if it must fail. */
bool fake_inject_alloc(struct os_dev *os);
bool fake_inject_copy(struct os_dev *os);
void fake_note(struct os_dev *os, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Links and counts a new object (NULL when injection says fail). */
void *fake_obj_new(struct os_dev *os, size_t size, uint32_t magic, struct fake_count *count,
		   const char *what);
void fake_obj_free(struct fake_obj *o, struct fake_count *count);
/* fake_sync.c: with the storm on, a shared line fires now (an ISR, and its
 * DPC when no spin lock is held). Called from the os.h entry points. */
void fake_storm(struct os_dev *os);
/* fake_paged.c: the pageable arena (fake_config.paged_guard). */
struct fake_paged;
int fpaged_create(struct os_dev *os);
void fpaged_destroy(struct os_dev *os);
void *fpaged_alloc(struct os_dev *os, size_t size);
bool fpaged_owns(struct os_dev *os, const void *p);
void fpaged_free(struct os_dev *os, void *p);
/* The arena is inaccessible while the machine is at DISPATCH_LEVEL or
 * above: a spin lock held, or DPC or ISR context. Called at every change. */
void fpaged_update(struct os_dev *os);
/* fake_user.c: frees the machine's callers; returns how many were live. */
unsigned fuser_machine_gone(struct os_dev *os);

#endif
