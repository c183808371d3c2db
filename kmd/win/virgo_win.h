/* SPDX-License-Identifier: MIT */
/*
 * virgo_win.h: the WDM glue's shared declarations. The device extension is
 * the core's struct os_dev; everything Windows-specific lives in kmd/win.
 *
 * Target: Windows 10 and later, x64 and x86; the x86 image also loads on
 * ReactOS (NT 5.2 exports, no MSI). Built with MinGW-w64's ddk/ headers
 * (include path .../include/ddk) or with the WDK (BUILDING-WDK.md).
 *
 * Locks and what they guard:
 *   state_lock (KMUTEX, PASSIVE): the PnP/power state, ext->gpu being
 *       created or destroyed, open_files; CREATE, CLEANUP and CLOSE take it
 *       around the core call, START/STOP/REMOVE/power transitions hold it.
 *       IOCTLs do not: they are drained by the remove lock, and the core
 *       makes them fail fast once the device is lost.
 *   mmio_lock (KSPIN_LOCK): the list of live BAR windows (teardown makes
 *       them inert).
 *   remove_lock (IO_REMOVE_LOCK): every IRP in a dispatch routine.
 */
#ifndef VIRGO_WIN_H
#define VIRGO_WIN_H

#include <ntddk.h>
#include <wdm.h>

#include "core.h"
#include "os.h"

#define VIRGO_POOL_TAG 0x6f677256u /* 'ogrV': "Vrgo" in a pool dump */

/* ---- DDIs not every NT kernel exports (ntapi.c) -------------------------
 * Windows 10 has them all; ReactOS (NT 5.2 exports) and Windows before 8
 * lack some. An import of a missing export keeps the image from loading at
 * all, so these are looked up with MmGetSystemRoutineAddress when the
 * device is added, and each user says what it does without one. */
typedef struct _MM_PHYSICAL_ADDRESS_LIST_V {
	PHYSICAL_ADDRESS PhysicalAddress;
	SIZE_T NumberOfBytes;
} MM_PHYSICAL_ADDRESS_LIST_V;

struct win_nt {
	/* Windows 10+: non-executable BAR mappings. Else MmMapIoSpace. */
	PVOID (NTAPI *MmMapIoSpaceEx)(PHYSICAL_ADDRESS pa, SIZE_T bytes, ULONG protect);
	/* Windows 8+: non-executable contiguous memory. Else
	 * MmAllocateContiguousMemorySpecifyCache. */
	PVOID (NTAPI *MmAllocateContiguousNodeMemory)(SIZE_T bytes, PHYSICAL_ADDRESS low, PHYSICAL_ADDRESS high,
						     PHYSICAL_ADDRESS boundary, ULONG protect, ULONG node);
	/* Windows 8+: an MDL over device memory. Else the MDL is built over a
	 * system mapping of it (MmMapIoSpace, MmBuildMdlForNonPagedPool). */
	NTSTATUS (NTAPI *MmAllocateMdlForIoSpace)(MM_PHYSICAL_ADDRESS_LIST_V *list, SIZE_T n, PMDL *mdl);
	/* Vista+ (and ReactOS built for NT 6): message and line interrupts.
	 * Else, or when it connects nothing, IoConnectInterrupt on the line. */
	NTSTATUS (NTAPI *IoConnectInterruptEx)(PIO_CONNECT_INTERRUPT_PARAMETERS p);
	VOID (NTAPI *IoDisconnectInterruptEx)(PIO_DISCONNECT_INTERRUPT_PARAMETERS p);
	/* MmAllocatePagesForMdlEx's flags: FULLY_REQUIRED | PREFER_CONTIGUOUS
	 * where the kernel has the Windows 8 routines; 0 elsewhere (ReactOS
	 * returns NULL for any other flag; a short MDL is refused by hand). */
	ULONG pages_flags;
};
struct os_dev;
void win_nt_resolve(struct os_dev *os, struct win_nt *nt);

/* ntifs.h, which a WDM driver does not include. */
NTKERNELAPI BOOLEAN NTAPI PsIsThreadTerminating(PETHREAD Thread);
#ifndef MdlMappingNoExecute
#define MdlMappingNoExecute 0x40000000 /* wdm.h, Windows 8+ */
#endif
#ifndef MM_ALLOCATE_PREFER_CONTIGUOUS
#define MM_ALLOCATE_PREFER_CONTIGUOUS 0x00000010 /* wdm.h, Windows 8+ */
#endif
#ifndef MM_ALLOCATE_FULLY_REQUIRED
#define MM_ALLOCATE_FULLY_REQUIRED 0x00000004
#endif

/* ---- structured exception handling ----------------------------------------
 * Runs fn(ctx) and returns its result, or VIRGO_SEH_CAUGHT when it raised
 * an exception (a bad user address in ProbeForRead/Write or in the copy
 * after it, MmMapLockedPagesSpecifyCache(UserMode) failing). With MSVC this
 * is __try/__except; GCC has no SEH for C, so seh_x64.S provides the same
 * frame by hand (a scope table for __C_specific_handler). fn must never
 * return VIRGO_SEH_CAUGHT itself. */
#define VIRGO_SEH_CAUGHT ((long)0x80000000)
long virgo_seh_call(long (*fn)(void *ctx), void *ctx);

/* ---- the device (the core's os_dev) -------------------------------------- */
struct win_bar {
	BOOLEAN present;    /* a memory BAR the PnP manager assigned */
	PHYSICAL_ADDRESS raw;
	PHYSICAL_ADDRESS translated;
	ULONGLONG len;
};

struct os_mmio {
	struct os_dev *os;
	volatile UCHAR *va;      /* NULL once the hardware is gone: reads give all ones */
	volatile UCHAR *mapped;  /* what MmMapIoSpaceEx returned, for MmUnmapIoSpace */
	SIZE_T len;
	LIST_ENTRY link;         /* os->mmio_list */
};

enum win_pnp_state {
	PNP_NOT_STARTED,
	PNP_STARTED,
	PNP_STOP_PENDING,   /* QUERY_STOP accepted */
	PNP_STOPPED,
	PNP_REMOVE_PENDING, /* QUERY_REMOVE accepted */
	PNP_SURPRISE_REMOVED,
	PNP_REMOVED,
};

/* Object counts, for the leak report at teardown. */
struct win_counts {
	volatile LONG allocs, dma, pages, mmio, spins, mutexes, waitqs, maps, orphaned_maps;
};

struct os_dev {
	PDEVICE_OBJECT fdo;
	PDEVICE_OBJECT pdo;
	PDEVICE_OBJECT lower;
	IO_REMOVE_LOCK remove_lock;
	UNICODE_STRING ifname;      /* the device interface (VIRGO_INTERFACE_GUID) */
	BOOLEAN if_registered;

	KMUTEX state_lock;
	enum win_pnp_state pnp;
	BOOLEAN hw_ready;           /* resources mapped, interrupts connected */
	DEVICE_POWER_STATE dpower;
	DEVICE_POWER_STATE sx_to_dx[POWER_SYSTEM_MAXIMUM]; /* from QUERY_CAPABILITIES */
	PIO_WORKITEM power_work;    /* D0 entry runs the core at PASSIVE */
	LONG open_files;            /* core files alive (CREATE .. CLOSE) */

	/* PCI */
	BUS_INTERFACE_STANDARD bus;
	BOOLEAN have_bus;
	struct win_bar bar[6];
	KSPIN_LOCK mmio_lock;
	LIST_ENTRY mmio_list;
	BOOLEAN hw_gone;            /* surprise removal / remove: MMIO is inert */

	/* interrupts */
	BOOLEAN irq_connected;
	BOOLEAN irq_message;        /* CONNECT_MESSAGE_BASED took MSI-X messages */
	BOOLEAN irq_legacy;         /* IoConnectInterrupt on the line (ReactOS, or Ex connected nothing) */
	BOOLEAN have_line;          /* line_res holds the translated line interrupt */
	CM_PARTIAL_RESOURCE_DESCRIPTOR line_res;
	ULONG msix;                 /* messages the core may use; 0 = INTx */
	PKINTERRUPT line_irq;       /* line-based (INTx) */
	PIO_INTERRUPT_MESSAGE_INFO msg_table;
	PVOID irq_context;          /* what IoDisconnectInterruptEx needs */
	ULONG irq_vector;           /* for the log: the line's vector and level */
	KIRQL irq_level;
	KDPC dpc;

	/* the core; written by gpu_init itself (it publishes the device before
	 * it waits for the first answers), read by the ISR and the DPC */
	struct gpu_dev *gpu;

	struct win_nt nt;           /* ntapi.c */
	struct win_counts n;
	LONG log_budget;            /* rate limit for repeated warnings */
};

/* The caller of a request: the process it runs in (IRP_MJ_* dispatch runs in
 * the requesting thread for this top-level driver). */
struct os_caller {
	struct os_dev *os;
	PEPROCESS process;
	PIRP irp;          /* the request: its Cancel flag, 32-bit-ness; NULL at CLEANUP */
};

/* One open handle (FILE_OBJECT->FsContext). */
struct win_file {
	struct core_file *core;
	PEPROCESS owner;   /* the process that opened it (referenced) */
};

/* Pool helpers (os_win.c). */
void *win_alloc(SIZE_T size, BOOLEAN paged);
void win_free(void *p);

/* Interrupts (pnp.c) and the hand-off os_win.c uses when gpu_init fails
 * with interrupts live. */
void win_irq_init(struct os_dev *os);
void win_irq_quiesce(struct os_dev *os);
/* Surprise removal: the windows stop reaching the hardware (reads give all
 * ones) but stay mapped, as requests may still be inside the core. */
void win_hw_quiesce_mmio(struct os_dev *os);
/* Removal, with no request inside the core: the windows are unmapped too. */
void win_hw_make_inert(struct os_dev *os);
void win_report_leaks(struct os_dev *os);

/* PnP / power (pnp.c, power.c); dispatch routines (driver.c). */
DRIVER_DISPATCH win_dispatch_pnp;
DRIVER_DISPATCH win_dispatch_power;
NTSTATUS win_gpu_start(struct os_dev *os);  /* state_lock held */
void win_gpu_stop(struct os_dev *os);       /* state_lock held */
NTSTATUS win_forward_sync(struct os_dev *os, PIRP irp);
void win_state_lock(struct os_dev *os);
void win_state_unlock(struct os_dev *os);

#endif
