/* SPDX-License-Identifier: MIT */
/*
 * os_win.c: kmd/core/os.h for the Windows kernel (Windows 10+, x64 and x86;
 * the routines older kernels lack come through ntapi.c).
 *
 * Choices, and why:
 *  - Pool: ExAllocatePoolWithTag with NonPagedPoolNx / PagedPool, zeroed by
 *    hand. ExAllocatePool2 would zero for us but exists only from Windows 10
 *    2004; mvisor's driver failed on older builds because of it.
 *  - DMA memory (rings, command buffers): MmAllocateContiguousNodeMemory
 *    (PAGE_READWRITE: non-executable, cached; on kernels without it, as
 *    ReactOS, MmAllocateContiguousMemorySpecifyCache) and
 *    MmGetPhysicalAddress; the
 *    core takes it from a pool it fills at start, not per command. The
 *    bus address is the physical address: without a DMA adapter
 *    (IoGetDmaAdapter, common buffers, scatter/gather lists) nothing
 *    translates it, so the core refuses a device that asks for
 *    VIRTIO_F_ACCESS_PLATFORM (an IOMMU in front of it) and the INF says the
 *    driver is not DMA-remapping-compatible. The older
 *    MmAllocateContiguousMemorySpecifyCache returns executable memory, which
 *    HVCI and Driver Verifier's code-integrity checks flag.
 *  - Backing pages: MmAllocatePagesForMdlEx (zeroed, FULLY_REQUIRED, prefer
 *    contiguous); the sg runs come from the MDL's PFN array, merged.
 *  - Spin locks: KSPIN_LOCK, the old IRQL saved in the lock by its holder.
 *  - Mutexes: KMUTEX. The core waits (fences, answers) and copies user
 *    memory while it holds its mutexes; a KMUTEX allows both and leaves the
 *    IRQL at PASSIVE (a FAST_MUTEX raises to APC_LEVEL).
 *  - Wait queues: a generation counter and a notification KEVENT under a
 *    spin lock (see os_waitq_wait for why no wake-up is lost).
 *  - User memory: ProbeForRead/ProbeForWrite and the copy inside structured
 *    exception handling (virgo_seh_call); MmMapLockedPagesSpecifyCache
 *    (UserMode) likewise, since it raises on failure. Only in the calling
 *    process, at PASSIVE_LEVEL, and a user mapping is undone only in the
 *    process it was made in (see os_unmap_user).
 */
#include <stdarg.h>

#include "virgo_win.h"

#include <virgo/uapi.h>

/* ---- checks ------------------------------------------------------------------ */

#if defined(VIRGO_CHECKED) && VIRGO_CHECKED
#define CHECK_IRQL(cond, what) do { if (!(cond)) irql_violation(what); } while (0)
static void irql_violation(const char *what)
{
	DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, "virgo: %s at IRQL %u\n", what,
		   (unsigned)KeGetCurrentIrql());
	DbgBreakPoint();
}
#else
#define CHECK_IRQL(cond, what) do { (void)sizeof(cond); (void)(what); } while (0)
#endif

/* Worth a line in any build, at most a few times. */
static void warn_limited(struct os_dev *os, const char *fmt, ...)
{
	va_list ap;

	if (os && InterlockedDecrement(&os->log_budget) < 0)
		return;
	va_start(ap, fmt);
	vDbgPrintExWithPrefix("virgo: ", DPFLTR_IHVDRIVER_ID, DPFLTR_WARNING_LEVEL, fmt, ap);
	va_end(ap);
}

/* ---- logging ------------------------------------------------------------------- */

void os_log(struct os_dev *os, enum os_log_level level, const char *fmt, ...)
{
	static const ULONG levels[] = { DPFLTR_ERROR_LEVEL, DPFLTR_WARNING_LEVEL, DPFLTR_TRACE_LEVEL,
					DPFLTR_INFO_LEVEL };
	char line[256];
	size_t n = 0;
	va_list ap;

	(void)os;
	/* The core's lines have no newline: append one to the format (not to
	 * the output, which would need a formatter of our own at DIRQL). */
	while (fmt[n] && n < sizeof(line) - 2) {
		line[n] = fmt[n];
		n++;
	}
	va_start(ap, fmt);
	if (fmt[n] == 0) {
		line[n++] = '\n';
		line[n] = 0;
		vDbgPrintExWithPrefix("virgo: ", DPFLTR_IHVDRIVER_ID, levels[level & 3], line, ap);
	} else {
		vDbgPrintExWithPrefix("virgo: ", DPFLTR_IHVDRIVER_ID, levels[level & 3], fmt, ap);
		DbgPrintEx(DPFLTR_IHVDRIVER_ID, levels[level & 3], "\n");
	}
	va_end(ap);
}

/* ---- pool ------------------------------------------------------------------------ */

void *win_alloc(SIZE_T size, BOOLEAN paged)
{
	void *p = ExAllocatePoolWithTag(paged ? PagedPool : NonPagedPoolNx, size ? size : 1, VIRGO_POOL_TAG);

	if (p)
		RtlZeroMemory(p, size ? size : 1);
	return p;
}

void win_free(void *p)
{
	if (p)
		ExFreePoolWithTag(p, VIRGO_POOL_TAG);
}

void *os_alloc(struct os_dev *os, size_t size, unsigned flags)
{
	void *p;

	CHECK_IRQL(KeGetCurrentIrql() <= APC_LEVEL, "os_alloc");
	p = win_alloc(size, !(flags & OS_MEM_NONPAGED));
	if (p)
		InterlockedIncrement(&os->n.allocs);
	return p;
}

/* A failed gpu_init frees its device state while interrupts are still
 * connected: the ISR and the DPC must first be done with the pointer the
 * core has just withdrawn. */
void os_irq_sync(struct os_dev *os)
{
	win_irq_quiesce(os);
}

void os_free(struct os_dev *os, void *p)
{
	if (!p)
		return;
	CHECK_IRQL(KeGetCurrentIrql() <= APC_LEVEL, "os_free");
	win_free(p);
	InterlockedDecrement(&os->n.allocs);
}

/* ---- DMA memory ------------------------------------------------------------------- */

int os_dma_alloc(struct os_dev *os, size_t size, struct os_dma *out)
{
	PHYSICAL_ADDRESS low, high, boundary;
	SIZE_T bytes;
	void *va;

	CHECK_IRQL(KeGetCurrentIrql() == PASSIVE_LEVEL, "os_dma_alloc");
	if (size == 0 || size > ((SIZE_T)1 << 30))
		return -VIRGO_EINVAL;
	bytes = (size + OS_PAGE_SIZE - 1) & ~(SIZE_T)(OS_PAGE_SIZE - 1);
	low.QuadPart = 0;
	high.QuadPart = -1; /* virtio 1.x: 64-bit addresses */
	boundary.QuadPart = 0;
	if (os->nt.MmAllocateContiguousNodeMemory)
		va = os->nt.MmAllocateContiguousNodeMemory(bytes, low, high, boundary, PAGE_READWRITE, MM_ANY_NODE_OK);
	else
		va = MmAllocateContiguousMemorySpecifyCache(bytes, low, high, boundary, MmCached);
	if (!va)
		return -VIRGO_ENOMEM;
	RtlZeroMemory(va, bytes);
	out->va = va;
	out->bus = (uint64_t)MmGetPhysicalAddress(va).QuadPart;
	out->size = bytes;
	out->priv = NULL;
	InterlockedIncrement(&os->n.dma);
	return 0;
}

void os_dma_free(struct os_dev *os, struct os_dma *dma)
{
	CHECK_IRQL(KeGetCurrentIrql() == PASSIVE_LEVEL, "os_dma_free");
	if (dma->va)
		MmFreeContiguousMemory(dma->va);
	*dma = (struct os_dma){ 0 };
	InterlockedDecrement(&os->n.dma);
}

/* ---- backing pages ------------------------------------------------------------------ */

struct win_pages {
	PMDL mdl;
	volatile LONG user_maps;  /* live user mappings of this MDL */
};

int os_pages_alloc(struct os_dev *os, uint64_t size, struct os_pages *out)
{
	PHYSICAL_ADDRESS low, high, skip;
	struct win_pages *pg;
	PPFN_NUMBER pfn;
	ULONG npages, nsg = 0;
	struct os_sg *sg;

	CHECK_IRQL(KeGetCurrentIrql() == PASSIVE_LEVEL, "os_pages_alloc");
	/* An MDL describes less than 4 GiB; the uAPI caps resources at 1 GiB. */
	if (size == 0 || (size & (OS_PAGE_SIZE - 1)) || size > VIRGO_MAX_RESOURCE_SIZE)
		return -VIRGO_EINVAL;
	pg = win_alloc(sizeof(*pg), FALSE);
	if (!pg)
		return -VIRGO_ENOMEM;
	low.QuadPart = 0;
	high.QuadPart = -1;
	skip.QuadPart = 0;
	/* Zeroed: MM_DONT_ZERO_ALLOCATION is not passed. Without
	 * FULLY_REQUIRED (older kernels) a short MDL is refused below. */
	pg->mdl = MmAllocatePagesForMdlEx(low, high, skip, (SIZE_T)size, MmCached, os->nt.pages_flags);
	if (!pg->mdl)
		goto fail;
	if (MmGetMdlByteCount(pg->mdl) != size) {
		MmFreePagesFromMdl(pg->mdl);
		ExFreePool(pg->mdl);
		goto fail;
	}
	npages = (ULONG)(size / OS_PAGE_SIZE);
	pfn = MmGetMdlPfnArray(pg->mdl);
	/* Runs of consecutive frames; each below 4 GiB (1 GiB at most here). */
	for (ULONG i = 0; i < npages; i++)
		if (i == 0 || pfn[i] != pfn[i - 1] + 1)
			nsg++;
	sg = win_alloc(sizeof(*sg) * nsg, FALSE);
	if (!sg) {
		MmFreePagesFromMdl(pg->mdl);
		ExFreePool(pg->mdl);
		goto fail;
	}
	nsg = 0;
	for (ULONG i = 0; i < npages; i++) {
		if (i == 0 || pfn[i] != pfn[i - 1] + 1) {
			sg[nsg].bus = (uint64_t)pfn[i] << PAGE_SHIFT;
			sg[nsg].len = 0;
			nsg++;
		}
		sg[nsg - 1].len += OS_PAGE_SIZE;
	}
	out->size = size;
	out->nsg = nsg;
	out->sg = sg;
	out->priv = pg;
	InterlockedIncrement(&os->n.pages);
	return 0;
fail:
	win_free(pg);
	return -VIRGO_ENOMEM;
}

void os_pages_free(struct os_dev *os, struct os_pages *pages)
{
	struct win_pages *pg = pages->priv;

	CHECK_IRQL(KeGetCurrentIrql() <= APC_LEVEL, "os_pages_free");
	if (pg && pg->user_maps > 0) {
		/* A process still maps these pages (its mapping could not be
		 * undone in its own context, see os_unmap_user): giving them back
		 * would hand another owner's data to it. Keep them. */
		warn_limited(os, "%lu bytes of backing kept: still mapped in a process\n",
			     (unsigned long)pages->size);
	} else if (pg) {
		if (pg->mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA)
			MmUnmapLockedPages(pg->mdl->MappedSystemVa, pg->mdl);
		MmFreePagesFromMdl(pg->mdl);
		ExFreePool(pg->mdl);
		win_free(pg);
	}
	win_free(pages->sg);
	*pages = (struct os_pages){ 0 };
	InterlockedDecrement(&os->n.pages);
}

/* ---- PCI configuration space and BARs ------------------------------------------------ */

int os_pci_cfg_read(struct os_dev *os, uint32_t offset, void *buf, uint32_t len)
{
	ULONG got;

	if (!os->have_bus || offset > 0x1000 || len > 0x1000 - offset)
		return -VIRGO_EINVAL;
	got = os->bus.GetBusData(os->bus.Context, PCI_WHICHSPACE_CONFIG, buf, offset, len);
	return got == len ? 0 : -VIRGO_EIO;
}

int os_mmio_map(struct os_dev *os, uint8_t bar, uint64_t offset, uint64_t len, struct os_mmio **out)
{
	struct win_bar *b;
	PHYSICAL_ADDRESS pa;
	struct os_mmio *m;
	KIRQL irql;

	CHECK_IRQL(KeGetCurrentIrql() == PASSIVE_LEVEL, "os_mmio_map");
	if (bar >= 6 || !os->bar[bar].present || os->hw_gone)
		return -VIRGO_EINVAL;
	b = &os->bar[bar];
	if (len == 0 || offset > b->len || len > b->len - offset || len > 0xffffffffu)
		return -VIRGO_EINVAL;
	m = win_alloc(sizeof(*m), FALSE);
	if (!m)
		return -VIRGO_ENOMEM;
	pa.QuadPart = b->translated.QuadPart + (LONGLONG)offset;
	if (os->nt.MmMapIoSpaceEx)
		m->mapped = os->nt.MmMapIoSpaceEx(pa, (SIZE_T)len, PAGE_READWRITE | PAGE_NOCACHE);
	else
		m->mapped = MmMapIoSpace(pa, (SIZE_T)len, MmNonCached);
	if (!m->mapped) {
		win_free(m);
		return -VIRGO_ENOMEM;
	}
	m->os = os;
	m->va = m->mapped;
	m->len = (SIZE_T)len;
	KeAcquireSpinLock(&os->mmio_lock, &irql);
	InsertTailList(&os->mmio_list, &m->link);
	KeReleaseSpinLock(&os->mmio_lock, irql);
	InterlockedIncrement(&os->n.mmio);
	*out = m;
	return 0;
}

void os_mmio_unmap(struct os_dev *os, struct os_mmio *m)
{
	KIRQL irql;

	KeAcquireSpinLock(&os->mmio_lock, &irql);
	RemoveEntryList(&m->link);
	KeReleaseSpinLock(&os->mmio_lock, irql);
	if (m->mapped)
		MmUnmapIoSpace((PVOID)m->mapped, m->len);
	win_free(m);
	InterlockedDecrement(&os->n.mmio);
}

/* After surprise removal the device does not answer, and after removal its
 * BAR may belong to someone else soon: the windows stay allocated (the core
 * still holds them) but no longer reach the hardware. At surprise removal
 * requests may still be inside the core, so the mappings stay until
 * REMOVE: a reader that loaded va just before still reads mapped space. */
void win_hw_quiesce_mmio(struct os_dev *os)
{
	KIRQL irql;

	os->hw_gone = TRUE;
	KeAcquireSpinLock(&os->mmio_lock, &irql);
	for (PLIST_ENTRY e = os->mmio_list.Flink; e != &os->mmio_list; e = e->Flink) {
		struct os_mmio *m = CONTAINING_RECORD(e, struct os_mmio, link);

		m->va = NULL;
	}
	KeReleaseSpinLock(&os->mmio_lock, irql);
}

/* Called with no ISR, DPC or request inside the core (interrupts
 * disconnected, the remove lock drained). */
void win_hw_make_inert(struct os_dev *os)
{
	win_hw_quiesce_mmio(os);
	/* MmUnmapIoSpace wants IRQL <= DISPATCH_LEVEL; outside the spin lock
	 * anyway, and the list cannot change now (no core code runs). */
	for (PLIST_ENTRY e = os->mmio_list.Flink; e != &os->mmio_list; e = e->Flink) {
		struct os_mmio *m = CONTAINING_RECORD(e, struct os_mmio, link);

		if (m->mapped)
			MmUnmapIoSpace((PVOID)m->mapped, m->len);
		m->mapped = NULL;
	}
}

/* Accesses outside the window read as all ones and write nothing, as a bus
 * would; so does a window whose hardware is gone. */
#define MMIO_OK(m, off, w) ((m)->va && (off) <= (m)->len && (w) <= (m)->len - (off))

uint8_t os_mmio_read8(struct os_mmio *m, uint32_t off)
{
	volatile UCHAR *va = m->va;

	return va && MMIO_OK(m, off, 1) ? READ_REGISTER_UCHAR((PUCHAR)(va + off)) : 0xff;
}

uint16_t os_mmio_read16(struct os_mmio *m, uint32_t off)
{
	volatile UCHAR *va = m->va;

	return va && MMIO_OK(m, off, 2) ? READ_REGISTER_USHORT((PUSHORT)(va + off)) : 0xffff;
}

uint32_t os_mmio_read32(struct os_mmio *m, uint32_t off)
{
	volatile UCHAR *va = m->va;

	return va && MMIO_OK(m, off, 4) ? READ_REGISTER_ULONG((PULONG)(va + off)) : 0xffffffffu;
}

void os_mmio_write8(struct os_mmio *m, uint32_t off, uint8_t v)
{
	volatile UCHAR *va = m->va;

	if (va && MMIO_OK(m, off, 1))
		WRITE_REGISTER_UCHAR((PUCHAR)(va + off), v);
}

void os_mmio_write16(struct os_mmio *m, uint32_t off, uint16_t v)
{
	volatile UCHAR *va = m->va;

	if (va && MMIO_OK(m, off, 2))
		WRITE_REGISTER_USHORT((PUSHORT)(va + off), v);
}

void os_mmio_write32(struct os_mmio *m, uint32_t off, uint32_t v)
{
	volatile UCHAR *va = m->va;

	if (va && MMIO_OK(m, off, 4))
		WRITE_REGISTER_ULONG((PULONG)(va + off), v);
}

unsigned os_irq_msix_count(struct os_dev *os)
{
	return os->msix;
}

/* ---- atomics ------------------------------------------------------------------------ */

uint32_t os_atomic_or32(volatile uint32_t *p, uint32_t v)
{
	return (uint32_t)InterlockedOr((volatile LONG *)p, (LONG)v);
}

uint32_t os_atomic_xchg32(volatile uint32_t *p, uint32_t v)
{
	return (uint32_t)InterlockedExchange((volatile LONG *)p, (LONG)v);
}

/* MinGW-w64's x86 headers have no 64-bit Interlocked*; GCC's builtins are
 * the same lock cmpxchg8b the WDK's inline versions use. */
#if defined(__GNUC__) && !defined(_WIN64)
#define win_cas64(p, v, old) ((LONG64)__sync_val_compare_and_swap((p), (old), (v)))
static LONG64 win_xchg64(volatile LONG64 *p, LONG64 v)
{
	return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
static LONG64 win_inc64(volatile LONG64 *p)
{
	return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}
#else
#define win_cas64(p, v, old) InterlockedCompareExchange64((p), (v), (old))
#define win_xchg64(p, v) InterlockedExchange64((p), (v))
#define win_inc64(p) InterlockedIncrement64(p)
#endif

uint64_t os_atomic_load64(volatile uint64_t *p)
{
	return (uint64_t)win_cas64((volatile LONG64 *)p, 0, 0);
}

void os_atomic_store64(volatile uint64_t *p, uint64_t v)
{
	win_xchg64((volatile LONG64 *)p, (LONG64)v);
}

/* ---- locks --------------------------------------------------------------------------- */

struct os_spin {
	struct os_dev *os;
	KSPIN_LOCK lock;
	KIRQL old;    /* written by the holder only */
};

struct os_spin *os_spin_create(struct os_dev *os)
{
	struct os_spin *l = win_alloc(sizeof(*l), FALSE);

	if (!l)
		return NULL;
	l->os = os;
	KeInitializeSpinLock(&l->lock);
	InterlockedIncrement(&os->n.spins);
	return l;
}

void os_spin_destroy(struct os_spin *l)
{
	InterlockedDecrement(&l->os->n.spins);
	win_free(l);
}

void os_spin_lock(struct os_spin *l)
{
	KIRQL old;

	KeAcquireSpinLock(&l->lock, &old);
	l->old = old;
}

void os_spin_unlock(struct os_spin *l)
{
	KeReleaseSpinLock(&l->lock, l->old);
}

struct os_mutex {
	struct os_dev *os;
	KMUTEX mutex;
};

struct os_mutex *os_mutex_create(struct os_dev *os)
{
	struct os_mutex *m = win_alloc(sizeof(*m), FALSE); /* dispatcher objects: non-paged */

	if (!m)
		return NULL;
	m->os = os;
	KeInitializeMutex(&m->mutex, 0);
	InterlockedIncrement(&os->n.mutexes);
	return m;
}

void os_mutex_destroy(struct os_mutex *m)
{
	InterlockedDecrement(&m->os->n.mutexes);
	win_free(m);
}

void os_mutex_lock(struct os_mutex *m)
{
	CHECK_IRQL(KeGetCurrentIrql() == PASSIVE_LEVEL, "os_mutex_lock");
	/* Not alertable, kernel mode: only the holder's progress ends it, and
	 * every holder's waits are bounded. */
	KeWaitForSingleObject(&m->mutex, Executive, KernelMode, FALSE, NULL);
}

void os_mutex_unlock(struct os_mutex *m)
{
	KeReleaseMutex(&m->mutex, FALSE);
}

void os_might_sleep(struct os_dev *os)
{
	(void)os;
	CHECK_IRQL(KeGetCurrentIrql() == PASSIVE_LEVEL, "a blocking call");
}

/* ---- wait queues ----------------------------------------------------------------------- */

struct os_waitq {
	struct os_dev *os;
	KSPIN_LOCK lock;
	volatile LONG64 seq;
	KEVENT event;   /* notification event: set by a wake, cleared by a waiter under the lock */
};

struct os_waitq *os_waitq_create(struct os_dev *os)
{
	struct os_waitq *w = win_alloc(sizeof(*w), FALSE);

	if (!w)
		return NULL;
	w->os = os;
	KeInitializeSpinLock(&w->lock);
	KeInitializeEvent(&w->event, NotificationEvent, FALSE);
	InterlockedIncrement(&os->n.waitqs);
	return w;
}

void os_waitq_destroy(struct os_waitq *w)
{
	InterlockedDecrement(&w->os->n.waitqs);
	win_free(w);
}

uint64_t os_waitq_seq(struct os_waitq *w)
{
	return (uint64_t)win_cas64(&w->seq, 0, 0);
}

/*
 * No lost wake-up: the waiter tests the generation and clears the event
 * under the lock, and a wake bumps the generation and sets the event under
 * the same lock. A wake before the test is seen by the test; a wake after
 * the clear sets the event the waiter is about to wait on. Clearing cannot
 * steal a wake from another waiter: KeSetEvent on a notification event
 * releases every thread waiting at that moment, and a thread that starts
 * waiting later tests the generation first.
 */
int os_waitq_wait(struct os_waitq *w, uint64_t seq, uint64_t deadline_ns)
{
	CHECK_IRQL(KeGetCurrentIrql() == PASSIVE_LEVEL, "os_waitq_wait");
	for (;;) {
		LARGE_INTEGER timeout;
		uint64_t now;
		KIRQL irql;

		KeAcquireSpinLock(&w->lock, &irql);
		if ((uint64_t)w->seq != seq) {
			KeReleaseSpinLock(&w->lock, irql);
			return 0;
		}
		KeClearEvent(&w->event);
		KeReleaseSpinLock(&w->lock, irql);

		now = os_time_ns(w->os);
		if (now >= deadline_ns)
			return -VIRGO_ETIMEDOUT;
		/* Relative, in 100 ns units, rounded up so that a short wait is
		 * not a busy loop. */
		timeout.QuadPart = -(LONGLONG)((deadline_ns - now + 99) / 100);
		KeWaitForSingleObject(&w->event, Executive, KernelMode, FALSE, &timeout);
	}
}

void os_waitq_wake(struct os_waitq *w)
{
	KIRQL irql;

	KeAcquireSpinLock(&w->lock, &irql);
	win_inc64(&w->seq);
	KeSetEvent(&w->event, IO_NO_INCREMENT, FALSE);
	KeReleaseSpinLock(&w->lock, irql);
}

uint64_t os_time_ns(struct os_dev *os)
{
	(void)os;
	return (uint64_t)KeQueryInterruptTime() * 100u;
}

/* ---- the caller's memory -----------------------------------------------------------------
 * Only in the caller's own process at PASSIVE_LEVEL; a user address is
 * checked against MmUserProbeAddress by ProbeForRead/Write, and a fault in
 * the copy (the caller freed or protected the memory meanwhile) ends in the
 * exception handler, not in a bugcheck. */

static BOOLEAN in_caller(struct os_caller *c)
{
	return c && c->process == PsGetCurrentProcess() && KeGetCurrentIrql() == PASSIVE_LEVEL;
}

struct user_copy {
	void *kernel;
	void *user;
	SIZE_T len;
};

static long copy_from_user_fn(void *ctx)
{
	struct user_copy *c = ctx;

	ProbeForRead(c->user, c->len, 1);
	RtlCopyMemory(c->kernel, c->user, c->len);
	return 0;
}

static long copy_to_user_fn(void *ctx)
{
	struct user_copy *c = ctx;

	ProbeForWrite(c->user, c->len, 1);
	RtlCopyMemory(c->user, c->kernel, c->len);
	return 0;
}

static BOOLEAN user_range_ok(uint64_t uaddr, size_t len)
{
	/* ProbeFor* checks this too (and raises); failing early is cheaper. */
	return uaddr + len >= uaddr && uaddr + len <= (uint64_t)MmUserProbeAddress;
}

int os_copy_from_user(struct os_caller *c, void *dst, uint64_t uaddr, size_t len)
{
	struct user_copy cp = { dst, (void *)(ULONG_PTR)uaddr, len };

	if (len == 0)
		return 0;
	if (!in_caller(c) || !user_range_ok(uaddr, len))
		return -VIRGO_EFAULT;
	return virgo_seh_call(copy_from_user_fn, &cp) == 0 ? 0 : -VIRGO_EFAULT;
}

int os_copy_to_user(struct os_caller *c, uint64_t uaddr, const void *src, size_t len)
{
	struct user_copy cp = { (void *)src, (void *)(ULONG_PTR)uaddr, len };

	if (len == 0)
		return 0;
	if (!in_caller(c) || !user_range_ok(uaddr, len))
		return -VIRGO_EFAULT;
	return virgo_seh_call(copy_to_user_fn, &cp) == 0 ? 0 : -VIRGO_EFAULT;
}

/* ---- user mappings -----------------------------------------------------------------------
 * A mapping remembers its process (referenced, so the pointer cannot be
 * reused for another process while we hold it). It is undone only in that
 * process (MmUnmapLockedPages acts on the current address space). The
 * glue only lets the opening process issue requests, and CLEANUP of the
 * last handle runs in the process that closes it: normally the owner, even
 * when it dies (handles close before its address space goes). If a
 * duplicated handle outlives the owner's, the mapping cannot be undone from
 * here: it is left to the owner's address-space teardown, and its pages are
 * never given back (os_pages_free keeps them), so nothing of another owner
 * can appear in that process. */

struct win_map {
	struct os_dev *os;
	struct win_pages *pg;
	PVOID va;
	PEPROCESS owner;
};

static long map_user_fn(void *ctx)
{
	struct win_map *m = ctx;

	/* Data, never code: no-execute, as Windows 8+ allows to ask. */
	m->va = MmMapLockedPagesSpecifyCache(m->pg->mdl, UserMode, MmCached, NULL, FALSE,
					     NormalPagePriority | MdlMappingNoExecute);
	return 0;
}

int os_map_user(struct os_caller *c, struct os_pages *pages, uint64_t *uaddr, void **cookie)
{
	struct win_pages *pg = pages->priv;
	struct win_map *m;

	if (!in_caller(c) || !pg)
		return -VIRGO_EFAULT;
	m = win_alloc(sizeof(*m), FALSE);
	if (!m)
		return -VIRGO_ENOMEM;
	m->os = c->os;
	m->pg = pg;
	if (virgo_seh_call(map_user_fn, m) != 0 || !m->va) {
		win_free(m);
		return -VIRGO_ENOMEM;
	}
	m->owner = c->process;
	ObReferenceObject(m->owner);
	InterlockedIncrement(&pg->user_maps);
	InterlockedIncrement(&m->os->n.maps);
	*uaddr = (uint64_t)(ULONG_PTR)m->va;
	*cookie = m;
	return 0;
}

void os_unmap_user(struct os_caller *c, void *cookie)
{
	struct win_map *m = cookie;

	if (!m)
		return;
	if (c && c->process == m->owner && PsGetCurrentProcess() == m->owner && KeGetCurrentIrql() <= APC_LEVEL) {
		MmUnmapLockedPages(m->va, m->pg->mdl);
		InterlockedDecrement(&m->pg->user_maps);
	} else {
		InterlockedIncrement(&m->os->n.orphaned_maps);
		warn_limited(m->os, "a user mapping outlives its process's handle; its pages are kept\n");
	}
	InterlockedDecrement(&m->os->n.maps);
	ObDereferenceObject(m->owner);
	win_free(m);
}

/* ---- the host-visible region ---------------------------------------------------------------
 * Device memory behind a BAR (host memory QEMU placed there), mapped into
 * the calling process: an MDL over the I/O space and a user-mode mapping of
 * it with the caching the device asked for, inside exception handling (it
 * raises on failure). The MDL comes from MmAllocateMdlForIoSpace (Windows
 * 8+); on older kernels (ReactOS) from a system mapping of the range with
 * the same caching, whose PTEs MmBuildMdlForNonPagedPool reads (it marks
 * the MDL as I/O space), kept for the MDL's life. Undone in the owning
 * process only, as page mappings are; an orphan keeps its MDL (the range
 * under it is never given out again by the core). */

struct win_region_map {
	struct os_dev *os;
	PMDL mdl;
	PVOID va;
	PVOID sysva;   /* the older kernels' system mapping under the MDL, or NULL */
	SIZE_T len;
	MEMORY_CACHING_TYPE cache;
	PEPROCESS owner;
};

static long map_region_fn(void *ctx)
{
	struct win_region_map *m = ctx;

	m->va = MmMapLockedPagesSpecifyCache(m->mdl, UserMode, m->cache, NULL, FALSE,
					     NormalPagePriority | MdlMappingNoExecute);
	return 0;
}

static void region_mdl_free(struct win_region_map *m)
{
	IoFreeMdl(m->mdl);
	if (m->sysva)
		MmUnmapIoSpace(m->sysva, m->len);
	m->mdl = NULL;
	m->sysva = NULL;
}

static int region_mdl(struct os_dev *os, PHYSICAL_ADDRESS pa, struct win_region_map *m)
{
	if (os->nt.MmAllocateMdlForIoSpace) {
		MM_PHYSICAL_ADDRESS_LIST_V list = { .PhysicalAddress = pa, .NumberOfBytes = m->len };

		return NT_SUCCESS(os->nt.MmAllocateMdlForIoSpace(&list, 1, &m->mdl)) ? 0 : -VIRGO_ENOMEM;
	}
	m->sysva = MmMapIoSpace(pa, m->len, m->cache);
	if (!m->sysva)
		return -VIRGO_ENOMEM;
	m->mdl = IoAllocateMdl(m->sysva, (ULONG)m->len, FALSE, FALSE, NULL);
	if (!m->mdl) {
		MmUnmapIoSpace(m->sysva, m->len);
		m->sysva = NULL;
		return -VIRGO_ENOMEM;
	}
	MmBuildMdlForNonPagedPool(m->mdl);
	return 0;
}

int os_map_region(struct os_caller *c, uint8_t bar, uint64_t offset, uint64_t len, enum os_cache cache,
		  uint64_t *uaddr, void **cookie)
{
	struct os_dev *os = c ? c->os : NULL;
	struct win_region_map *m;
	PHYSICAL_ADDRESS pa;
	struct win_bar *b;
	int ret;

	if (!in_caller(c))
		return -VIRGO_EFAULT;
	if (bar >= 6 || !os->bar[bar].present || os->hw_gone)
		return -VIRGO_ENODEV;
	b = &os->bar[bar];
	if (!len || offset > b->len || len > b->len - offset || (offset | len) & (PAGE_SIZE - 1))
		return -VIRGO_EINVAL;
	/* An MDL describes at most 4 GiB less a page. */
	if (len > 0xfffff000u)
		return -VIRGO_E2BIG;
	m = win_alloc(sizeof(*m), FALSE);
	if (!m)
		return -VIRGO_ENOMEM;
	m->os = os;
	m->len = (SIZE_T)len;
	m->cache = cache == OS_CACHE_CACHED ? MmCached : cache == OS_CACHE_WC ? MmWriteCombined : MmNonCached;
	pa.QuadPart = b->translated.QuadPart + (LONGLONG)offset;
	ret = region_mdl(os, pa, m);
	if (ret) {
		win_free(m);
		return ret;
	}
	if (virgo_seh_call(map_region_fn, m) != 0 || !m->va) {
		region_mdl_free(m);
		win_free(m);
		return -VIRGO_ENOMEM;
	}
	m->owner = c->process;
	ObReferenceObject(m->owner);
	InterlockedIncrement(&os->n.maps);
	*uaddr = (uint64_t)(ULONG_PTR)m->va;
	*cookie = m;
	return 0;
}

void os_unmap_region(struct os_caller *c, void *cookie)
{
	struct win_region_map *m = cookie;

	if (!m)
		return;
	if (c && c->process == m->owner && PsGetCurrentProcess() == m->owner && KeGetCurrentIrql() <= APC_LEVEL) {
		MmUnmapLockedPages(m->va, m->mdl);
		region_mdl_free(m);
	} else {
		/* The MDL stays: freeing it under a live mapping is a bugcheck. */
		InterlockedIncrement(&m->os->n.orphaned_maps);
		warn_limited(m->os, "a host-visible mapping outlives its process's handle; its range is kept\n");
	}
	InterlockedDecrement(&m->os->n.maps);
	ObDereferenceObject(m->owner);
	win_free(m);
}

/* ---- the caller ------------------------------------------------------------------------ */

uint64_t os_user_limit(struct os_caller *c)
{
#ifdef _WIN64
	/* A WOW64 process holds pointers in 32 bits, whatever the kernel. */
	if (c && c->irp && IoIs32bitProcess(c->irp))
		return 1ull << 32;
#else
	(void)c;
#endif
	return (uint64_t)(ULONG_PTR)MmUserProbeAddress;
}

uint64_t os_caller_owner(struct os_caller *c)
{
	return c ? (uint64_t)(ULONG_PTR)c->process : 0;
}

static PETHREAD current_thread(void)
{
	PETHREAD t;

	/* GCC 12 takes the gs-relative read inside KeGetCurrentThread for an
	 * access at address 0x188 and warns; it is the documented way. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif
	t = PsGetCurrentThread();
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
	return t;
}

bool os_caller_cancelled(struct os_caller *c)
{
	/* IoCancelIrp sets Cancel whether or not a cancel routine is there,
	 * and TerminateProcess marks every thread: both end a long wait at
	 * its next slice instead of up to a minute later. */
	if (c && c->irp && c->irp->Cancel)
		return true;
	return PsIsThreadTerminating(current_thread()) != FALSE;
}
