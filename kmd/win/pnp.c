/* SPDX-License-Identifier: MIT */
/*
 * pnp.c: IRP_MJ_PNP, the hardware resources (BARs, PCI configuration
 * space, interrupts) and the interrupt path (ISR -> DPC -> core).
 *
 * State machine (os->pnp, under state_lock):
 *   NOT_STARTED --START--> STARTED --QUERY_STOP--> STOP_PENDING --STOP--> STOPPED --START--> STARTED
 *   STARTED --QUERY_REMOVE--> REMOVE_PENDING --REMOVE--> REMOVED
 *   any --SURPRISE_REMOVAL--> SURPRISE_REMOVED --REMOVE--> REMOVED
 * QUERY_STOP and QUERY_REMOVE are refused while a handle is open: user
 * mappings and host contexts belong to those handles, and a UMD that wants
 * to let go registers for the handle's PnP notifications and closes first.
 */
#include "virgo_win.h"

#include <initguid.h>
#include <wdmguid.h>

#include <virgo/uapi.h>

#include "ioctl_decode.h"

/* ---- interrupts ------------------------------------------------------------------- */

static struct gpu_dev *current_gpu(struct os_dev *os)
{
	return *(struct gpu_dev *volatile *)&os->gpu;
}

/* MSI-X: one message per source (config, controlq, cursorq); never shared. */
static BOOLEAN NTAPI isr_message(PKINTERRUPT irq, PVOID ctx, ULONG message)
{
	struct os_dev *os = ctx;
	struct gpu_dev *g = current_gpu(os);

	(void)irq;
	if (g && gpu_isr(g, (int)message))
		KeInsertQueueDpc(&os->dpc, NULL, NULL);
	return TRUE;
}

/* INTx: possibly shared; the ISR status register says whether it is ours
 * (reading it also lowers the line). */
static BOOLEAN NTAPI isr_line(PKINTERRUPT irq, PVOID ctx)
{
	struct os_dev *os = ctx;
	struct gpu_dev *g = current_gpu(os);

	(void)irq;
	if (!g || !gpu_isr(g, -1))
		return FALSE;
	KeInsertQueueDpc(&os->dpc, NULL, NULL);
	return TRUE;
}

static void NTAPI dpc_routine(PKDPC dpc, PVOID ctx, PVOID arg1, PVOID arg2)
{
	struct os_dev *os = ctx;
	struct gpu_dev *g = current_gpu(os);

	(void)dpc;
	(void)arg1;
	(void)arg2;
	if (g)
		gpu_dpc(g);
}

void win_irq_init(struct os_dev *os)
{
	KeInitializeDpc(&os->dpc, dpc_routine, os);
}

/* The translated line interrupt, if the PnP manager assigned one (not a
 * message: those carry CM_RESOURCE_INTERRUPT_MESSAGE). */
static void find_line(struct os_dev *os, PCM_RESOURCE_LIST tr)
{
	PCM_FULL_RESOURCE_DESCRIPTOR f;

	os->have_line = FALSE;
	if (!tr)
		return;
	f = tr->List;
	for (ULONG l = 0; l < tr->Count; l++) {
		ULONG n = f->PartialResourceList.Count;

		for (ULONG i = 0; i < n; i++) {
			PCM_PARTIAL_RESOURCE_DESCRIPTOR d = &f->PartialResourceList.PartialDescriptors[i];

			if (d->Type == CmResourceTypeInterrupt && !(d->Flags & CM_RESOURCE_INTERRUPT_MESSAGE) &&
			    !os->have_line) {
				os->line_res = *d;
				os->have_line = TRUE;
			}
		}
		f = (PCM_FULL_RESOURCE_DESCRIPTOR)&f->PartialResourceList.PartialDescriptors[n];
	}
}

/* What IoConnectInterruptEx says it connected, checked: ReactOS's returns
 * STATUS_SUCCESS for message and line requests and connects nothing. */
static BOOLEAN ex_connected(struct os_dev *os, ULONG version)
{
	if (!os->irq_context)
		return FALSE;
	if (version == CONNECT_LINE_BASED)
		return TRUE;
	if (version != CONNECT_MESSAGE_BASED)
		return FALSE;
	{
		PIO_INTERRUPT_MESSAGE_INFO t = os->irq_context;

		if (t->MessageCount == 0)
			return FALSE;
		for (ULONG i = 0; i < t->MessageCount; i++)
			if (!t->MessageInfo[i].InterruptObject)
				return FALSE;
	}
	return TRUE;
}

static NTSTATUS connect_ex(struct os_dev *os)
{
	IO_CONNECT_INTERRUPT_PARAMETERS p;
	NTSTATUS status;

	RtlZeroMemory(&p, sizeof(p));
	os->irq_context = NULL;
	/* Message-based when the INF enabled MSI and the PnP manager granted
	 * messages; otherwise the system connects the fallback routine to
	 * the line and says so in p.Version. */
	p.Version = CONNECT_MESSAGE_BASED;
	p.MessageBased.PhysicalDeviceObject = os->pdo;
	p.MessageBased.ConnectionContext.Generic = &os->irq_context;
	p.MessageBased.MessageServiceRoutine = isr_message;
	p.MessageBased.ServiceContext = os;
	p.MessageBased.SpinLock = NULL;
	p.MessageBased.SynchronizeIrql = 0;
	p.MessageBased.FloatingSave = FALSE;
	p.MessageBased.FallBackServiceRoutine = isr_line;
	status = os->nt.IoConnectInterruptEx(&p);
	if (!NT_SUCCESS(status)) {
		os_log(os, OS_LOG_WARN, "IoConnectInterruptEx failed: %#lx", (unsigned long)status);
		return status;
	}
	if (!ex_connected(os, p.Version)) {
		os_log(os, OS_LOG_WARN, "IoConnectInterruptEx returned success but connected nothing (version %lu)",
		       (unsigned long)p.Version);
		os->irq_context = NULL;
		return STATUS_UNSUCCESSFUL;
	}
	if (p.Version == CONNECT_LINE_BASED) {
		os->irq_message = FALSE;
		os->line_irq = os->irq_context;
		os->msg_table = NULL;
		os->msix = 0;
	} else {
		os->irq_message = TRUE;
		os->line_irq = NULL;
		os->msg_table = os->irq_context;
		/* The core uses messages 0..2 (config, controlq, cursorq) when it
		 * has three, and shares message 0 otherwise. */
		os->msix = os->msg_table->MessageCount;
	}
	return STATUS_SUCCESS;
}

/* The NT 4 way, on the translated line resource: what ReactOS supports,
 * and valid on Windows too. */
static NTSTATUS connect_line(struct os_dev *os)
{
	const CM_PARTIAL_RESOURCE_DESCRIPTOR *d = &os->line_res;
	PKINTERRUPT obj = NULL;
	NTSTATUS status;

	if (!os->have_line) {
		os_log(os, OS_LOG_ERR, "no line interrupt among the device's resources");
		return STATUS_DEVICE_CONFIGURATION_ERROR;
	}
	os->irq_vector = d->u.Interrupt.Vector;
	os->irq_level = (KIRQL)d->u.Interrupt.Level;
	status = IoConnectInterrupt(&obj, isr_line, os, NULL, d->u.Interrupt.Vector, (KIRQL)d->u.Interrupt.Level,
				    (KIRQL)d->u.Interrupt.Level,
				    (d->Flags & CM_RESOURCE_INTERRUPT_LATCHED) ? Latched : LevelSensitive,
				    d->ShareDisposition == CmResourceShareShared, d->u.Interrupt.Affinity, FALSE);
	if (!NT_SUCCESS(status) || !obj) {
		os_log(os, OS_LOG_ERR, "IoConnectInterrupt (vector %lu, level %u) failed: %#lx",
		       (unsigned long)d->u.Interrupt.Vector, (unsigned)d->u.Interrupt.Level, (unsigned long)status);
		return NT_SUCCESS(status) ? STATUS_UNSUCCESSFUL : status;
	}
	os->irq_legacy = TRUE;
	os->irq_message = FALSE;
	os->line_irq = obj;
	os->irq_context = obj;
	os->msg_table = NULL;
	os->msix = 0;
	return STATUS_SUCCESS;
}

/* Whether interrupts really arrive is found out at the device's first
 * answer: the core's bounded waits report an answer that no interrupt
 * collected (gpu_set_unanswered), and the start fails saying so. */
static NTSTATUS connect_interrupts(struct os_dev *os)
{
	NTSTATUS status = STATUS_UNSUCCESSFUL;

	os->irq_legacy = FALSE;
	if (os->nt.IoConnectInterruptEx)
		status = connect_ex(os);
	if (!NT_SUCCESS(status))
		status = connect_line(os);
	if (!NT_SUCCESS(status))
		return status;
	os->irq_connected = TRUE;
	if (os->irq_legacy)
		os_log(os, OS_LOG_INFO, "interrupts: INTx through IoConnectInterrupt (vector %lu, level %u)",
		       (unsigned long)os->irq_vector, (unsigned)os->irq_level);
	else
		os_log(os, OS_LOG_INFO, "interrupts: %s, %lu message(s)", os->irq_message ? "MSI-X" : "INTx",
		       (unsigned long)os->msix);
	return STATUS_SUCCESS;
}

static BOOLEAN NTAPI sync_nothing(PVOID ctx)
{
	(void)ctx;
	return TRUE;
}

/* Returns when no ISR is running and no DPC is queued or running: every
 * ISR or DPC after this reads the current os->gpu. */
void win_irq_quiesce(struct os_dev *os)
{
	if (os->irq_connected) {
		if (os->irq_message) {
			for (ULONG i = 0; i < os->msg_table->MessageCount; i++)
				KeSynchronizeExecution(os->msg_table->MessageInfo[i].InterruptObject, sync_nothing, NULL);
		} else {
			KeSynchronizeExecution(os->line_irq, sync_nothing, NULL);
		}
	}
	KeFlushQueuedDpcs();
}

static void disconnect_interrupts(struct os_dev *os)
{
	IO_DISCONNECT_INTERRUPT_PARAMETERS d;

	if (!os->irq_connected)
		return;
	if (os->irq_legacy) {
		IoDisconnectInterrupt(os->line_irq);
	} else {
		RtlZeroMemory(&d, sizeof(d));
		d.Version = os->irq_message ? CONNECT_MESSAGE_BASED : CONNECT_LINE_BASED;
		d.ConnectionContext.Generic = os->irq_context;
		os->nt.IoDisconnectInterruptEx(&d);
	}
	os->irq_connected = FALSE;
	os->irq_legacy = FALSE;
	os->irq_context = NULL;
	os->line_irq = NULL;
	os->msg_table = NULL;
	os->msix = 0;
	/* A DPC the last ISR queued may still be pending. */
	KeFlushQueuedDpcs();
}

/* ---- PCI configuration space: BUS_INTERFACE_STANDARD ------------------------------------ */

static NTSTATUS query_bus_interface(struct os_dev *os)
{
	IO_STATUS_BLOCK iosb;
	PIO_STACK_LOCATION st;
	NTSTATUS status;
	KEVENT done;
	PIRP irp;

	KeInitializeEvent(&done, NotificationEvent, FALSE);
	irp = IoBuildSynchronousFsdRequest(IRP_MJ_PNP, os->lower, NULL, 0, NULL, &done, &iosb);
	if (!irp)
		return STATUS_INSUFFICIENT_RESOURCES;
	irp->IoStatus.Status = STATUS_NOT_SUPPORTED; /* PnP IRPs start out "not handled" */
	st = IoGetNextIrpStackLocation(irp);
	st->MinorFunction = IRP_MN_QUERY_INTERFACE;
	st->Parameters.QueryInterface.InterfaceType = &GUID_BUS_INTERFACE_STANDARD;
	st->Parameters.QueryInterface.Size = sizeof(BUS_INTERFACE_STANDARD);
	st->Parameters.QueryInterface.Version = 1;
	st->Parameters.QueryInterface.Interface = (PINTERFACE)&os->bus;
	st->Parameters.QueryInterface.InterfaceSpecificData = NULL;
	status = IoCallDriver(os->lower, irp);
	if (status == STATUS_PENDING) {
		KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
		status = iosb.Status;
	}
	if (NT_SUCCESS(status))
		os->have_bus = TRUE;
	else
		os_log(os, OS_LOG_ERR, "no BUS_INTERFACE_STANDARD: %#lx", (unsigned long)status);
	return status;
}

static void release_bus_interface(struct os_dev *os)
{
	if (os->have_bus) {
		os->have_bus = FALSE;
		os->bus.InterfaceDereference(os->bus.Context);
	}
}

/* ---- BARs ------------------------------------------------------------------------------
 * The virtio capabilities name BARs by number; the resource lists do not.
 * The raw resources carry the bus addresses that the BAR registers hold, so
 * a BAR's raw base finds its descriptor, and the translated descriptor at
 * the same position gives the CPU physical address to map. */

static ULONGLONG memory_length(const CM_PARTIAL_RESOURCE_DESCRIPTOR *d)
{
	if (d->Type == CmResourceTypeMemoryLarge) {
		if (d->Flags & CM_RESOURCE_MEMORY_LARGE_40)
			return (ULONGLONG)d->u.Memory40.Length40 << 8;
		if (d->Flags & CM_RESOURCE_MEMORY_LARGE_48)
			return (ULONGLONG)d->u.Memory48.Length48 << 16;
		if (d->Flags & CM_RESOURCE_MEMORY_LARGE_64)
			return (ULONGLONG)d->u.Memory64.Length64 << 32;
	}
	return d->u.Memory.Length;
}

static BOOLEAN is_memory(const CM_PARTIAL_RESOURCE_DESCRIPTOR *d)
{
	return d->Type == CmResourceTypeMemory || d->Type == CmResourceTypeMemoryLarge;
}

/* Finds the raw memory descriptor starting at bus address `base`; fills the
 * translated address and length from its translated twin. */
static BOOLEAN find_memory(PCM_RESOURCE_LIST raw, PCM_RESOURCE_LIST tr, ULONGLONG base, struct win_bar *out)
{
	PCM_FULL_RESOURCE_DESCRIPTOR fr = raw->List, ft = tr->List;

	for (ULONG l = 0; l < raw->Count && l < tr->Count; l++) {
		ULONG n = fr->PartialResourceList.Count;

		if (ft->PartialResourceList.Count != n)
			return FALSE;
		for (ULONG i = 0; i < n; i++) {
			PCM_PARTIAL_RESOURCE_DESCRIPTOR r = &fr->PartialResourceList.PartialDescriptors[i];
			PCM_PARTIAL_RESOURCE_DESCRIPTOR t = &ft->PartialResourceList.PartialDescriptors[i];

			if (is_memory(r) && is_memory(t) && (ULONGLONG)r->u.Memory.Start.QuadPart == base) {
				out->present = TRUE;
				out->raw = r->u.Memory.Start;
				out->translated = t->u.Memory.Start;
				out->len = memory_length(t);
				return out->len != 0;
			}
		}
		/* Full descriptors are variable-sized: the next one follows the
		 * last partial descriptor. */
		fr = (PCM_FULL_RESOURCE_DESCRIPTOR)&fr->PartialResourceList.PartialDescriptors[n];
		ft = (PCM_FULL_RESOURCE_DESCRIPTOR)&ft->PartialResourceList.PartialDescriptors[n];
	}
	return FALSE;
}

static NTSTATUS find_bars(struct os_dev *os, PCM_RESOURCE_LIST raw, PCM_RESOURCE_LIST tr)
{
	ULONG reg[6];
	ULONG found = 0;

	RtlZeroMemory(os->bar, sizeof(os->bar));
	if (!raw || !tr || os_pci_cfg_read(os, 0x10, reg, sizeof(reg)))
		return STATUS_DEVICE_CONFIGURATION_ERROR;
	for (int i = 0; i < 6; i++) {
		ULONGLONG base;
		BOOLEAN is64;

		if (reg[i] & 1)
			continue; /* I/O space: modern virtio uses memory BARs only */
		is64 = ((reg[i] >> 1) & 3) == 2;
		base = reg[i] & ~0xfull;
		if (is64 && i < 5)
			base |= (ULONGLONG)reg[i + 1] << 32;
		if (base && find_memory(raw, tr, base, &os->bar[i])) {
			found++;
			os_log(os, OS_LOG_DEBUG, "BAR%d: bus %#llx cpu %#llx len %#llx", i, base,
			       (unsigned long long)os->bar[i].translated.QuadPart, os->bar[i].len);
		}
		if (is64)
			i++;
	}
	return found ? STATUS_SUCCESS : STATUS_DEVICE_CONFIGURATION_ERROR;
}

/* ---- the core ---------------------------------------------------------------------------- */

/* A DWORD under the device's hardware key (the INF's HW AddReg, or an
 * administrator's regedit), or fallback. */
static ULONG read_param(struct os_dev *os, PCWSTR name, ULONG fallback)
{
	UCHAR buf[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG)];
	PKEY_VALUE_PARTIAL_INFORMATION v = (PKEY_VALUE_PARTIAL_INFORMATION)buf;
	UNICODE_STRING uname;
	HANDLE key;
	ULONG got = 0, value = fallback;

	if (!NT_SUCCESS(IoOpenDeviceRegistryKey(os->pdo, PLUGPLAY_REGKEY_DEVICE, KEY_READ, &key)))
		return fallback;
	RtlInitUnicodeString(&uname, name);
	if (NT_SUCCESS(ZwQueryValueKey(key, &uname, KeyValuePartialInformation, v, sizeof(buf), &got)) &&
	    v->Type == REG_DWORD && v->DataLength == sizeof(ULONG))
		RtlCopyMemory(&value, v->Data, sizeof(ULONG));
	ZwClose(key);
	return value;
}

/* Half the machine's memory: what one process's resources may take unless
 * MaxProcessMiB says otherwise (every interactive user may open the device,
 * and backing pages are guest memory that nothing else could use). */
static ULONGLONG half_of_ram(void)
{
	PPHYSICAL_MEMORY_RANGE r = MmGetPhysicalMemoryRanges();
	ULONGLONG total = 0;

	if (!r)
		return 0;
	for (PPHYSICAL_MEMORY_RANGE p = r; p->BaseAddress.QuadPart || p->NumberOfBytes.QuadPart; p++)
		total += (ULONGLONG)p->NumberOfBytes.QuadPart;
	ExFreePool(r);
	return total / 2;
}

NTSTATUS win_gpu_start(struct os_dev *os)
{
	struct gpu_params params = { 0 }; /* defaults: 5 s command timeout, all features */
	ULONG mib = read_param(os, L"MaxProcessMiB", 0);
	int ret;

	params.max_owner_bytes = mib ? (ULONGLONG)mib << 20 : half_of_ram();
	if (params.max_owner_bytes && params.max_owner_bytes < (256ull << 20))
		params.max_owner_bytes = 256ull << 20;
	os_log(os, OS_LOG_INFO, "a process may hold %llu MiB of resources%s",
	       (unsigned long long)(params.max_owner_bytes >> 20), mib ? " (MaxProcessMiB)" : "");

	ret = gpu_init(os, &params, &os->gpu);
	if (ret) {
		os_log(os, OS_LOG_ERR, "the device did not start (%d)", ret);
		os->gpu = NULL;
		return (NTSTATUS)virgo_status_to_ntstatus(ret);
	}
	return STATUS_SUCCESS;
}

/* With interrupts still connected (power-down): withdraw the pointer, let
 * ISRs and DPCs finish with it, then tear down. */
void win_gpu_stop(struct os_dev *os)
{
	struct gpu_dev *g = os->gpu;

	if (!g)
		return;
	os->gpu = NULL;
	win_irq_quiesce(os);
	gpu_fini(g);
	win_report_leaks(os);
}

void win_report_leaks(struct os_dev *os)
{
	struct win_counts *n = &os->n;

	if (n->allocs || n->dma || n->pages || n->mmio || n->spins || n->mutexes || n->waitqs || n->maps)
		os_log(os, OS_LOG_ERR,
		       "left behind: %ld allocations, %ld dma, %ld page sets, %ld mmio, %ld spin locks, "
		       "%ld mutexes, %ld wait queues, %ld user maps",
		       (long)n->allocs, (long)n->dma, (long)n->pages, (long)n->mmio, (long)n->spins,
		       (long)n->mutexes, (long)n->waitqs, (long)n->maps);
	if (n->orphaned_maps)
		os_log(os, OS_LOG_WARN, "%ld user mappings were left to their process's teardown",
		       (long)n->orphaned_maps);
}

/* Everything START acquired, in reverse (state_lock held). With files still
 * open (REMOVE after a surprise removal) the core stays for their close and
 * only the hardware goes. */
static void release_hardware(struct os_dev *os)
{
	struct gpu_dev *g = os->gpu;

	if (g && os->open_files > 0) {
		/* Their CLOSE finishes the core, with no device to reset. */
		gpu_set_gone(g);
		disconnect_interrupts(os);
		win_hw_make_inert(os);
	} else {
		os->gpu = NULL;
		disconnect_interrupts(os);
		if (g) {
			gpu_fini(g);
			win_report_leaks(os);
		}
	}
	release_bus_interface(os);
	os->hw_ready = FALSE;
}

static NTSTATUS start_device(struct os_dev *os, PCM_RESOURCE_LIST raw, PCM_RESOURCE_LIST tr)
{
	NTSTATUS status;

	win_state_lock(os);
	os->hw_gone = FALSE;
	status = query_bus_interface(os);
	if (NT_SUCCESS(status))
		status = find_bars(os, raw, tr);
	if (NT_SUCCESS(status)) {
		find_line(os, tr);
		status = connect_interrupts(os);
	}
	if (NT_SUCCESS(status)) {
		os->hw_ready = TRUE;
		os->dpower = PowerDeviceD0;
		status = win_gpu_start(os);
	}
	if (NT_SUCCESS(status)) {
		os->pnp = PNP_STARTED;
		if (os->if_registered)
			IoSetDeviceInterfaceState(&os->ifname, TRUE);
	} else {
		release_hardware(os);
	}
	win_state_unlock(os);
	return status;
}

/* ---- forwarding ----------------------------------------------------------------------------- */

static NTSTATUS NTAPI forward_done(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
	(void)dev;
	(void)irp;
	KeSetEvent((PKEVENT)ctx, IO_NO_INCREMENT, FALSE);
	return STATUS_MORE_PROCESSING_REQUIRED;
}

/* Sends the IRP down and waits for the lower drivers to finish with it; the
 * caller completes it. */
NTSTATUS win_forward_sync(struct os_dev *os, PIRP irp)
{
	KEVENT done;
	NTSTATUS status;

	KeInitializeEvent(&done, NotificationEvent, FALSE);
	IoCopyCurrentIrpStackLocationToNext(irp);
	IoSetCompletionRoutine(irp, forward_done, &done, TRUE, TRUE, TRUE);
	status = IoCallDriver(os->lower, irp);
	if (status == STATUS_PENDING) {
		KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
		status = irp->IoStatus.Status;
	}
	return status;
}

static NTSTATUS pass_down(struct os_dev *os, PIRP irp)
{
	NTSTATUS status;

	IoSkipCurrentIrpStackLocation(irp);
	status = IoCallDriver(os->lower, irp);
	IoReleaseRemoveLock(&os->remove_lock, irp);
	return status;
}

static NTSTATUS finish(struct os_dev *os, PIRP irp, NTSTATUS status)
{
	irp->IoStatus.Status = status;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	IoReleaseRemoveLock(&os->remove_lock, irp);
	return status;
}

/* ---- IRP_MJ_PNP ------------------------------------------------------------------------------- */

NTSTATUS NTAPI win_dispatch_pnp(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct os_dev *os = fdo->DeviceExtension;
	PIO_STACK_LOCATION st = IoGetCurrentIrpStackLocation(irp);
	NTSTATUS status;

	status = IoAcquireRemoveLock(&os->remove_lock, irp);
	if (!NT_SUCCESS(status)) {
		irp->IoStatus.Status = status;
		IoCompleteRequest(irp, IO_NO_INCREMENT);
		return status;
	}

	switch (st->MinorFunction) {
	case IRP_MN_START_DEVICE:
		/* The bus driver first: the device is powered and its resources
		 * decoded when it completes. */
		status = win_forward_sync(os, irp);
		if (NT_SUCCESS(status))
			status = start_device(os, st->Parameters.StartDevice.AllocatedResources,
					      st->Parameters.StartDevice.AllocatedResourcesTranslated);
		return finish(os, irp, status);

	case IRP_MN_QUERY_STOP_DEVICE:
	case IRP_MN_QUERY_REMOVE_DEVICE:
		win_state_lock(os);
		if (os->open_files > 0) {
			status = STATUS_DEVICE_BUSY;
		} else {
			status = STATUS_SUCCESS;
			if (os->pnp == PNP_STARTED)
				os->pnp = st->MinorFunction == IRP_MN_QUERY_STOP_DEVICE ? PNP_STOP_PENDING
											  : PNP_REMOVE_PENDING;
		}
		win_state_unlock(os);
		if (!NT_SUCCESS(status))
			return finish(os, irp, status);
		irp->IoStatus.Status = STATUS_SUCCESS;
		return pass_down(os, irp);

	case IRP_MN_CANCEL_STOP_DEVICE:
	case IRP_MN_CANCEL_REMOVE_DEVICE:
		/* Lower drivers first, then we resume. */
		irp->IoStatus.Status = STATUS_SUCCESS;
		status = win_forward_sync(os, irp);
		win_state_lock(os);
		if (os->pnp == PNP_STOP_PENDING || os->pnp == PNP_REMOVE_PENDING)
			os->pnp = os->hw_ready ? PNP_STARTED : PNP_STOPPED;
		win_state_unlock(os);
		return finish(os, irp, STATUS_SUCCESS);

	case IRP_MN_STOP_DEVICE:
		win_state_lock(os);
		if (os->if_registered)
			IoSetDeviceInterfaceState(&os->ifname, FALSE);
		release_hardware(os);
		os->pnp = PNP_STOPPED;
		win_state_unlock(os);
		irp->IoStatus.Status = STATUS_SUCCESS;
		return pass_down(os, irp);

	case IRP_MN_SURPRISE_REMOVAL:
		/* The device is gone: fail what waits on it (the core answers
		 * EDEVLOST from now on, and will not reset it at teardown), stop
		 * interrupts, and let no register access reach the hardware
		 * again. The mappings themselves go at REMOVE, when no request
		 * can be inside the core. */
		win_state_lock(os);
		os->pnp = PNP_SURPRISE_REMOVED;
		if (os->if_registered)
			IoSetDeviceInterfaceState(&os->ifname, FALSE);
		if (os->gpu)
			gpu_set_gone(os->gpu);
		disconnect_interrupts(os);
		win_hw_quiesce_mmio(os);
		win_state_unlock(os);
		irp->IoStatus.Status = STATUS_SUCCESS;
		return pass_down(os, irp);

	case IRP_MN_REMOVE_DEVICE: {
		PDEVICE_OBJECT lower = os->lower;

		win_state_lock(os);
		os->pnp = PNP_REMOVED;
		if (os->if_registered)
			IoSetDeviceInterfaceState(&os->ifname, FALSE);
		if (os->gpu)
			gpu_set_lost(os->gpu, "removal");
		win_state_unlock(os);
		/* Every IRP inside a dispatch routine of ours has left. */
		IoReleaseRemoveLockAndWait(&os->remove_lock, irp);
		win_state_lock(os);
		release_hardware(os);
		win_state_unlock(os);
		irp->IoStatus.Status = STATUS_SUCCESS;
		IoSkipCurrentIrpStackLocation(irp);
		status = IoCallDriver(lower, irp);
		IoDetachDevice(lower);
		if (os->if_registered) {
			RtlFreeUnicodeString(&os->ifname);
			os->if_registered = FALSE;
		}
		IoFreeWorkItem(os->power_work);
		os->power_work = NULL;
		/* The object stays until its last file is closed (dispatch_close
		 * finishes the core then). */
		IoDeleteDevice(fdo);
		return status;
	}

	case IRP_MN_QUERY_CAPABILITIES:
		/* The bus driver fills them; we keep the Sx -> Dx mapping. */
		status = win_forward_sync(os, irp);
		if (NT_SUCCESS(status)) {
			PDEVICE_CAPABILITIES caps = st->Parameters.DeviceCapabilities.Capabilities;

			for (int s = PowerSystemWorking; s < POWER_SYSTEM_MAXIMUM; s++)
				if (caps->DeviceState[s] != PowerDeviceUnspecified)
					os->sx_to_dx[s] = caps->DeviceState[s];
		}
		return finish(os, irp, status);

	default:
		return pass_down(os, irp);
	}
}
