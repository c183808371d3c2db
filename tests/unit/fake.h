/* SPDX-License-Identifier: MIT */
/*
 * fake.h: a deterministic machine for unit-testing kmd/core.
 *
 * The fake implements every function of os.h and pretends to be a PC with
 * one virtio-gpu device (PCI 1af4:1050, modern transport in BAR 4, laid out
 * like QEMU's). Everything runs on the test's thread:
 *
 *  - Time is virtual. os_time_ns() reads a clock that moves only when a
 *    wait has nothing else to do (it jumps to the next device event or to
 *    the deadline) or when a test calls fake_advance().
 *  - The device works inline: a write to a notify register processes that
 *    queue at once. Answers that are held (scripted HOLD, held fences)
 *    come when released or when their virtual time is due.
 *  - Interrupts are delivered at os_waitq_wait() and fake_run() (never from
 *    inside an os_mmio_write, never while the core holds a spin lock): the
 *    harness calls gpu_isr() in ISR context and, when one or more returned
 *    true, gpu_dpc() once in DPC context, until no interrupt is pending. The
 *    core must be attached for that (fake_gpu_init() does it; see there).
 *  - Guest RAM is a memfd. Bus addresses are FAKE_RAM_BUS_BASE + offset, on
 *    purpose unequal to any host pointer. os_dma_alloc() hands out
 *    contiguous frames, os_pages_alloc() deliberately scattered ones. Free
 *    frames are inaccessible (PROT_NONE) in the CPU view.
 *
 * The fake checks the rules of os.h (execution contexts, spin locks held
 * across sleeping calls, ...) and the virtio rules the driver must follow
 * (register widths, status order, ring and descriptor validity, memory the
 * device still uses being freed, ...). Each breach is a "violation": it is
 * counted in fake_stats()->violations and, while the machine is strict (the
 * default), printed with a stack (ASan builds) and fails the running test.
 * Tests that provoke breaches on purpose turn strictness off (then they are
 * printed only with VIRGO_TEST_VERBOSE) and read the counters.
 *
 * Tolerated as no-ops, for one-exit cleanup paths: os_free(NULL),
 * os_*_destroy(NULL), os_mmio_unmap(NULL), and os_dma_free/os_pages_free of
 * a struct that a failed allocation left zeroed (or a previous free zeroed).
 *
 * Machines a test leaves alive (also when it fails) are freed, and reported,
 * by the runner after the test.
 */
#ifndef VIRGO_TESTS_FAKE_H
#define VIRGO_TESTS_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "os.h"

struct fake_dev;

/* ---- the machine ---------------------------------------------------------- */

#define FAKE_RAM_BUS_BASE 0x10000000ull

struct fake_config {
	uint64_t ram_size;        /* guest RAM bytes, page multiple (64 MiB) */
	uint64_t features;        /* offered (VERSION_1 | VIRGL | EDID); masks of bits */
	uint16_t ctrlq_size;      /* device maximum of the controlq (64) */
	uint16_t cursorq_size;    /* device maximum of the cursorq (16) */
	unsigned msix_count;      /* os_irq_msix_count() (3); 0: INTx, gpu_isr(-1) */
	uint32_t num_capsets;     /* 0..2: capsets 1 (VIRGL) and 2 (VIRGL2) (2) */
	uint32_t num_scanouts;    /* 1..16 (1); scanout 0 is 1024x768, enabled */
	uint64_t hostmem_size;    /* host-visible shm region for MAP_BLOB; 0: none (0) */
	bool fence32;             /* QEMU 7.2: fence ids pass a 32-bit path (false) */
	bool hold_fences;         /* fenced answers wait (false), see fake_dev_hold_fences */
	uint64_t fence_delay_ns;  /* with hold_fences: each completes after this (0: never) */
	bool pci_decoy_caps;      /* unusable virtio caps precede the real ones (false) */
	/* Pageable memory (os_alloc without OS_MEM_NONPAGED) comes from an
	 * arena that is made inaccessible whenever the machine is at
	 * DISPATCH_LEVEL (a spin lock held, DPC or ISR context), as Windows
	 * may have paged it out then; a touch is a violation (false). */
	bool paged_guard;
};

/* Fills *c with the defaults above. */
void fake_config_init(struct fake_config *c);
/* A new machine; c NULL means the defaults. NULL only on host failure. */
struct os_dev *fake_machine_new(const struct fake_config *c);
/* Frees the machine and whatever the core left alive. Returns the number of
 * problems found (leaked objects of each kind, a core still attached, held
 * spin locks); each is reported on stderr and, when strict, fails the test. */
unsigned fake_machine_free(struct os_dev *os);
struct fake_dev *fake_dev_of(struct os_dev *os);

/* Violations fail the running test while strict (default true). */
void fake_set_strict(struct os_dev *os, bool strict);

/* ---- the core under test -------------------------------------------------- */

/* Interrupts are delivered to gpu (NULL: to nobody; they stay pending). */
void fake_attach_core(struct os_dev *os, struct gpu_dev *gpu);
/*
 * gpu_init() with the harness watching *out: gpu_init receives the address
 * of the machine's own slot, so interrupts reach the core as soon as it has
 * stored its struct gpu_dev there, even before gpu_init returns (which it
 * needs if it waits for answers during init). On success the core stays
 * attached; on failure the slot is cleared.
 */
int fake_gpu_init(struct os_dev *os, const struct gpu_params *p, struct gpu_dev **out);
/* gpu_fini() and detach. */
void fake_gpu_fini(struct os_dev *os, struct gpu_dev *gpu);
/* For harness self-tests: deliver interrupts to these functions instead of
 * gpu_isr()/gpu_dpc() (NULL: back to the core). Contexts are set as for the
 * core. */
struct fake_irq_handler {
	bool (*isr)(void *arg, int msix_message);
	void (*dpc)(void *arg);
	void *arg;
};
void fake_set_irq_handler(struct os_dev *os, const struct fake_irq_handler *h);

/* A shared interrupt line that fires for other devices all the time: with
 * the storm on, every os.h call in request context delivers an interrupt
 * to whatever the core has published (gpu_isr, then gpu_dpc when it claims
 * and no spin lock is held), from gpu_init's first call to gpu_fini's
 * last. The core must never read a window that is not there. */
void fake_set_irq_storm(struct os_dev *os, bool on);

/* An interrupt connection that connected nothing (ReactOS's
 * IoConnectInterruptEx for line and message interrupts returns success
 * and does that): the device raises interrupts, none reaches the core;
 * they stay pending until connected again (default: connected). */
void fake_set_irq_connected(struct os_dev *os, bool connected);

/* ---- time and interrupts -------------------------------------------------- */

/* Completes what is due now and delivers pending interrupts (ISR, DPC),
 * until nothing changes. Returns the number of interrupts delivered. */
unsigned fake_run(struct os_dev *os);
/* Moves the clock forward by ns, completing device events on the way in
 * time order, then fake_run(). */
void fake_advance(struct os_dev *os, uint64_t ns);

/* ---- execution contexts --------------------------------------------------- */

enum fake_ctx { FAKE_CTX_REQUEST, FAKE_CTX_DPC, FAKE_CTX_ISR };
enum fake_ctx fake_context(struct os_dev *os);
/* For tests that call gpu_isr()/gpu_dpc() by hand; restore REQUEST after. */
void fake_set_context(struct os_dev *os, enum fake_ctx ctx);
unsigned fake_spin_depth(struct os_dev *os);

/* ---- instrumentation ------------------------------------------------------ */

struct fake_count {
	uint64_t live;
	uint64_t total;
};

struct fake_stats {
	struct fake_count alloc;     /* os_alloc */
	struct fake_count dma;       /* os_dma_alloc */
	struct fake_count pages;     /* os_pages_alloc */
	struct fake_count spin;      /* os_spin_create */
	struct fake_count mutex;     /* os_mutex_create */
	struct fake_count waitq;     /* os_waitq_create */
	struct fake_count mmio;      /* os_mmio_map */
	struct fake_count user_map;  /* os_map_user */
	struct fake_count caller;    /* fake_caller_new (not a leak of the core) */
	uint64_t alloc_bytes;        /* live os_alloc bytes */
	uint64_t ram_frames;         /* guest RAM frames in use */
	uint64_t violations;
	uint64_t alloc_attempts;     /* every allocation-like call, see fake_fail_alloc */
	uint64_t alloc_injected;     /* failures injected */
	uint64_t copy_attempts;      /* os_copy_from_user + os_copy_to_user */
	uint64_t copy_faults;        /* -VIRGO_EFAULT returned, injected or not */
	uint64_t waits;
	uint64_t wait_timeouts;
	uint64_t wakes;
	uint64_t isr_calls;
	uint64_t isr_unclaimed;      /* gpu_isr returned false */
	uint64_t dpc_calls;
	uint64_t irq_undelivered;    /* interrupts raised while no core was attached */
};
const struct fake_stats *fake_stats(struct os_dev *os);
/* Number of kinds with live objects (alloc .. user_map); each is logged. */
unsigned fake_leaks(struct os_dev *os);

/*
 * Fault injection. "Allocations" are os_alloc, os_dma_alloc,
 * os_pages_alloc, os_spin/mutex/waitq_create, os_mmio_map and os_map_user,
 * counted together. The k-th one from now fails (k = 1: the next one); 0
 * turns injection off. _from: the k-th and every later one fail.
 */
void fake_fail_alloc(struct os_dev *os, unsigned k);
void fake_fail_alloc_from(struct os_dev *os, unsigned k);
/* The k-th user copy (either direction) from now returns -VIRGO_EFAULT. */
void fake_fail_copy(struct os_dev *os, unsigned k);

/* os_log keeps the last FAKE_LOG_KEEP messages (printed on stderr only
 * when VIRGO_TEST_VERBOSE is set). */
#define FAKE_LOG_KEEP 32
const char *fake_log_last(struct os_dev *os, unsigned i); /* 0 = newest; NULL past the end */
bool fake_log_contains(struct os_dev *os, const char *needle);
void fake_log_clear(struct os_dev *os);

/* ---- callers (processes) -------------------------------------------------- */

/* A caller's addresses are host pointers. Copies fail with -VIRGO_EFAULT for
 * address 0, addresses below 64 KiB and ranges that wrap. os_map_user maps
 * the pages' own frames (writes through the mapping reach the backing).
 * Freeing a caller with live mappings is reported and unmaps them. */
struct os_caller *fake_caller_new(struct os_dev *os);
void fake_caller_free(struct os_caller *c);
unsigned fake_caller_maps(struct os_caller *c);
/* os_caller_owner(): callers with one key are one process (default: each
 * caller is its own). */
void fake_caller_set_owner(struct os_caller *c, uint64_t key);
/* A 32-bit process: os_user_limit() is 4 GiB (mappings are host pointers,
 * so every one lands above it). */
void fake_caller_set_32bit(struct os_caller *c);
/* os_caller_cancelled() is true once the virtual clock reaches ns (a
 * thread killed or CancelIo'd in the middle of a wait). */
void fake_caller_cancel_at(struct os_caller *c, uint64_t ns);

/* ---- guest RAM ------------------------------------------------------------ */

/* Read/write allocated guest RAM by bus address; -VIRGO_EFAULT when any
 * byte is outside allocated frames. */
int fake_ram_read(struct os_dev *os, uint64_t bus, void *dst, size_t len);
int fake_ram_write(struct os_dev *os, uint64_t bus, const void *src, size_t len);
/* Read/write os_pages by offset, across their runs (what a driver's kernel
 * view of the pages would do). */
int fake_pages_read(struct os_dev *os, const struct os_pages *pages, uint64_t offset,
		    void *dst, size_t len);
int fake_pages_write(struct os_dev *os, const struct os_pages *pages, uint64_t offset,
		     const void *src, size_t len);

/* ---- the device ----------------------------------------------------------- */

/*
 * What the device does, in short (fake_gpu.c and fake_res.c have the rest):
 *  - Context and resource ids are the driver's: non-zero and unused, else
 *    ERR_INVALID_CONTEXT_ID / ERR_INVALID_RESOURCE_ID; so is any command
 *    naming an unknown one.
 *  - ATTACH_BACKING resolves every memory entry in guest RAM (outside
 *    allocated frames: ERR_UNSPEC, bad_addr, a violation); the frames are
 *    the device's until DETACH_BACKING, UNREF or a reset, and freeing them
 *    before is a violation. More than 16384 entries: ERR_UNSPEC (QEMU 7.2).
 *  - Each resource has host storage as large as its backing. TRANSFER_*_3D
 *    copies box.w bytes (buffers, target 0) or box.w * box.h * box.d * 4
 *    (textures) between backing and storage, both at offset; a box outside
 *    the resource or a range outside the backing is ERR_INVALID_PARAMETER.
 *    With a non-zero ctx_id the resource must be attached to that context
 *    (as virglrenderer looks it up there). TRANSFER_TO_HOST_2D copies
 *    r.width * r.height * 4 bytes at offset.
 *  - SUBMIT_3D records the stream (fake_dev_submit_data); a stream whose
 *    first dword is 0xdeadbeef gets ERR_INVALID_PARAMETER.
 *  - Commands that need a feature (3D: VIRGL, GET_EDID: EDID, blobs:
 *    RESOURCE_BLOB, context_init and ring_idx: CONTEXT_INIT) are driver
 *    errors when it was not negotiated, answered ERR_UNSPEC. MAP_BLOB also
 *    needs config.hostmem_size. Unknown types: ERR_UNSPEC only.
 *  - Errors are answered at once, fenced or not; unfenced commands are
 *    answered at once even while earlier fenced ones are held, so the used
 *    ring runs out of order (as with QEMU).
 *  - Cursor commands need no writable buffer (used.len 0 then).
 *  - A reset (status 0) forgets every held request and destroys every
 *    context and resource (counted in reset_ctxs / reset_resources): check
 *    device-side leaks with fake_dev_stats() before gpu_fini.
 */

/* Scripting. A rule matches a command type (FAKE_CMD_ANY: every type) for
 * the next count matching commands (FAKE_FOREVER: until cleared); the
 * newest matching rule wins. OK: normal processing. ERR: answered with
 * resp_type at once, no effect. DROP: no effect and never answered (the
 * buffer stays with the device until a reset). HOLD: processed now,
 * answered on fake_dev_release() or after the hold delay. */
enum fake_action { FAKE_OK, FAKE_ERR, FAKE_DROP, FAKE_HOLD };
#define FAKE_CMD_ANY 0u
#define FAKE_FOREVER 0xffffffffu
void fake_dev_script(struct fake_dev *d, uint32_t cmd_type, enum fake_action a, unsigned count);
void fake_dev_script_err(struct fake_dev *d, uint32_t cmd_type, uint32_t resp_type, unsigned count);
void fake_dev_script_clear(struct fake_dev *d);
/* With on: an ERR rule whose answer is OK_NODATA does not apply to the
 * commands that give guest memory back or destroy something
 * (RESOURCE_UNREF, RESOURCE_DETACH_BACKING, CTX_DESTROY,
 * CTX_DETACH_RESOURCE): they run as usual. Saying OK and keeping the pages
 * is a lie only a malicious host tells, and it can write guest memory
 * anyway; the fuzzer keeps its OK answers to the rest (the wrong type for
 * many, a protocol error to catch). Default off. */
void fake_dev_honest_give_back(struct fake_dev *d, bool on);
void fake_dev_set_hold_delay(struct fake_dev *d, uint64_t ns); /* 0: only on release */
unsigned fake_dev_release(struct fake_dev *d);                 /* answers HOLD requests */

/* Fences. By default a fenced command is answered at once. Holding keeps
 * fenced answers until fake_dev_complete_fences() (or delay_ns of virtual
 * time each, if not 0). Completing fence N answers every held fenced
 * request with id <= N, like QEMU. With fence32 the device's fence value is
 * 32-bit: ids of 2^32 and above are never completed (QEMU 7.2 + virgl
 * 0.10.4). Returns the number of requests answered. */
void fake_dev_hold_fences(struct fake_dev *d, bool hold, uint64_t delay_ns);
unsigned fake_dev_complete_fences(struct fake_dev *d, uint64_t up_to_id);
/* Requests the device holds (HOLD, held fences, DROP). */
unsigned fake_dev_held(struct fake_dev *d);

/* Interrupts raised and not yet delivered: MSI-X vectors as a bit mask, or
 * with INTx the ISR status byte. */
uint32_t fake_dev_irq_pending(struct fake_dev *d);

/* What MAP_BLOB answers as map_info (default VIRTIO_GPU_MAP_CACHE_CACHED). */
void fake_dev_set_map_info(struct fake_dev *d, uint32_t map_info);
/* The host-visible region as the device sees it (NULL without one). */
uint8_t *fake_dev_hostmem(struct fake_dev *d, uint64_t *size);
/* Surprise removal: the device is gone from the bus. Register reads give
 * all ones, writes and notifies do nothing, nothing is answered. */
void fake_dev_remove(struct fake_dev *d);
/* Sets DEVICE_NEEDS_RESET (the device stops answering) + config interrupt. */
void fake_dev_set_needs_reset(struct fake_dev *d);
/* Sets VIRTIO_GPU_EVENT_DISPLAY in events_read + config interrupt. */
void fake_dev_display_event(struct fake_dev *d);

struct fake_dev_stats {
	uint64_t notifies;
	uint64_t cmds;            /* requests taken from the queues */
	uint64_t errs;            /* answered with an ERR_* type */
	/* complaints about the driver; each is also a driver error */
	uint64_t bad_chain;       /* malformed chains and short requests */
	uint64_t bad_addr;        /* guest addresses outside allocated frames */
	uint64_t short_resp;      /* writable part too small for the answer */
	uint64_t driver_errors;   /* all of those and transport misuse (violations) */
	uint64_t irqs;            /* interrupts raised */
	uint64_t resets;
	uint64_t fences_completed;
	/* live device-side objects */
	uint32_t ctxs;
	uint32_t resources;
	uint32_t backings;        /* resources with backing attached */
	uint32_t ctx_attachments; /* (context, resource) pairs */
	uint32_t blob_maps;
	/* objects a device reset dropped */
	uint64_t reset_ctxs;
	uint64_t reset_resources;
	/* transport */
	uint8_t status;
	uint64_t driver_features;
	uint32_t events_read;
};
const struct fake_dev_stats *fake_dev_stats(struct fake_dev *d);

/* The command log, in arrival order. */
struct fake_cmd {
	uint16_t queue;
	uint32_t type;
	uint32_t flags;
	uint64_t fence_id;
	uint32_t ctx_id;
	uint8_t ring_idx;
	uint32_t resource_id;     /* for commands that name one, else 0 */
	unsigned ndescs;          /* descriptors in its chain */
	uint32_t resp_type;       /* the answer; 0 while unanswered */
	enum fake_action action;
	size_t data_off;          /* SUBMIT_3D: its stream in fake_dev_submit_data() */
	size_t data_len;
	uint64_t time_ns;
};
size_t fake_dev_log_count(struct fake_dev *d);
const struct fake_cmd *fake_dev_log(struct fake_dev *d, size_t i);
const struct fake_cmd *fake_dev_log_last(struct fake_dev *d, uint32_t type); /* or NULL */
unsigned fake_dev_count(struct fake_dev *d, uint32_t type); /* in the log */
void fake_dev_log_clear(struct fake_dev *d); /* also clears submit data */
/* Every SUBMIT_3D stream the device accepted, concatenated. */
const uint8_t *fake_dev_submit_data(struct fake_dev *d, size_t *len);

/* Device-side objects. */
bool fake_dev_has_ctx(struct fake_dev *d, uint32_t ctx_id);
bool fake_dev_has_res(struct fake_dev *d, uint32_t res_id);
bool fake_dev_res_attached(struct fake_dev *d, uint32_t res_id, uint32_t ctx_id);
/* Bytes of attached backing (0: none). */
uint64_t fake_dev_res_backing(struct fake_dev *d, uint32_t res_id);
/* The resource's host storage, sized at its first backing (or blob size);
 * transfers copy between it and the backing. NULL when none. */
uint8_t *fake_dev_res_storage(struct fake_dev *d, uint32_t res_id, size_t *len);

/* What the device answers, for tests to compare against. */
uint32_t fake_capset_size(uint32_t id);    /* 0: unknown */
uint32_t fake_capset_version(uint32_t id);
/* Capset bytes: u32 word 0 = max version, word k = id << 24 | k. */
void fake_capset_fill(uint32_t id, void *buf, size_t size);
const uint8_t *fake_edid(size_t *len);

#endif
