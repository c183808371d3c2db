/* SPDX-License-Identifier: MIT */
/*
 * driver.c: DriverEntry, AddDevice, Unload and the request path
 * (IRP_MJ_CREATE / CLEANUP / CLOSE / DEVICE_CONTROL) of the virgo WDM
 * function driver. PnP and power are in pnp.c and power.c, the OS services
 * for the core in os_win.c.
 *
 * A request runs in its caller's thread: this is the function driver at
 * the top of the stack, and every dispatch routine here completes the IRP
 * before it returns (nothing is queued), so user memory is touched only in
 * the caller's process at PASSIVE_LEVEL.
 */
#include "virgo_win.h"

#include <virgo/uapi.h>

#include "ioctl_decode.h"

DRIVER_INITIALIZE DriverEntry;
static DRIVER_ADD_DEVICE add_device;
static DRIVER_UNLOAD unload;
static DRIVER_DISPATCH dispatch_create;
static DRIVER_DISPATCH dispatch_cleanup;
static DRIVER_DISPATCH dispatch_close;
static DRIVER_DISPATCH dispatch_ioctl;
static DRIVER_DISPATCH dispatch_system_control;
static DRIVER_DISPATCH dispatch_unsupported;

static const GUID virgo_interface_guid = VIRGO_INTERFACE_GUID_INIT;

void win_state_lock(struct os_dev *os)
{
	KeWaitForSingleObject(&os->state_lock, Executive, KernelMode, FALSE, NULL);
}

void win_state_unlock(struct os_dev *os)
{
	KeReleaseMutex(&os->state_lock, FALSE);
}

static NTSTATUS complete(PIRP irp, NTSTATUS status, ULONG_PTR info)
{
	irp->IoStatus.Status = status;
	irp->IoStatus.Information = info;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	return status;
}

/* ---- open / cleanup / close ---------------------------------------------------- */

static NTSTATUS NTAPI dispatch_create(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct os_dev *os = fdo->DeviceExtension;
	PIO_STACK_LOCATION st = IoGetCurrentIrpStackLocation(irp);
	struct win_file *f;
	NTSTATUS status;
	int ret;

	status = IoAcquireRemoveLock(&os->remove_lock, irp);
	if (!NT_SUCCESS(status))
		return complete(irp, status, 0);
	/* The device interface names the device itself: no namespace below it. */
	if (st->FileObject->FileName.Length != 0) {
		status = STATUS_OBJECT_NAME_NOT_FOUND;
		goto out;
	}
	f = win_alloc(sizeof(*f), FALSE);
	if (!f) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	win_state_lock(os);
	if (os->pnp != PNP_STARTED || !os->hw_ready || os->dpower != PowerDeviceD0) {
		status = STATUS_DEVICE_NOT_READY;
	} else {
		status = STATUS_SUCCESS;
		/* A device that failed to come up, or that was lost, gets another
		 * try when someone opens it: the UMD's answer to EDEVLOST is to
		 * reopen. */
		if (!os->gpu) {
			status = win_gpu_start(os);
		} else if (gpu_is_lost(os->gpu)) {
			ret = gpu_reset(os->gpu);
			if (ret) {
				os_log(os, OS_LOG_ERR, "reset of the lost device failed (%d)", ret);
				status = STATUS_DEVICE_NOT_READY;
			}
		}
		if (NT_SUCCESS(status)) {
			ret = core_open(os->gpu, &f->core);
			status = virgo_status_to_ntstatus(ret);
		}
		if (NT_SUCCESS(status))
			os->open_files++;
	}
	win_state_unlock(os);
	if (NT_SUCCESS(status)) {
		f->owner = PsGetCurrentProcess();
		ObReferenceObject(f->owner);
		st->FileObject->FsContext = f;
	} else {
		win_free(f);
	}
out:
	IoReleaseRemoveLock(&os->remove_lock, irp);
	return complete(irp, status, 0);
}

/* The last handle went, in the process that closed it (the owner, also when
 * it dies): its mappings are undone here. */
static NTSTATUS NTAPI dispatch_cleanup(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct os_dev *os = fdo->DeviceExtension;
	struct win_file *f = IoGetCurrentIrpStackLocation(irp)->FileObject->FsContext;
	struct os_caller caller = { os, PsGetCurrentProcess(), NULL };
	BOOLEAN locked = NT_SUCCESS(IoAcquireRemoveLock(&os->remove_lock, irp));

	if (f) {
		win_state_lock(os);
		core_cleanup(f->core, &caller);
		win_state_unlock(os);
	}
	if (locked)
		IoReleaseRemoveLock(&os->remove_lock, irp);
	return complete(irp, STATUS_SUCCESS, 0);
}

/* The file object goes (any process, possibly after REMOVE_DEVICE: the
 * device object lives until its last file is closed). */
static NTSTATUS NTAPI dispatch_close(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct os_dev *os = fdo->DeviceExtension;
	PFILE_OBJECT fo = IoGetCurrentIrpStackLocation(irp)->FileObject;
	struct win_file *f = fo->FsContext;
	BOOLEAN locked = NT_SUCCESS(IoAcquireRemoveLock(&os->remove_lock, irp));

	if (f) {
		win_state_lock(os);
		core_close(f->core);
		os->open_files--;
		if (os->open_files == 0 && os->pnp == PNP_REMOVED && os->gpu) {
			/* REMOVE_DEVICE ran while this file was open: it left the
			 * core to the last close (the hardware is inert already). */
			struct gpu_dev *g = os->gpu;

			os->gpu = NULL;
			gpu_fini(g);
			win_report_leaks(os);
		}
		win_state_unlock(os);
		ObDereferenceObject(f->owner);
		win_free(f);
		fo->FsContext = NULL;
	}
	if (locked)
		IoReleaseRemoveLock(&os->remove_lock, irp);
	return complete(irp, STATUS_SUCCESS, 0);
}

/* ---- requests -------------------------------------------------------------------------- */

union virgo_args {
	struct virgo_get_param get_param;
	struct virgo_get_caps get_caps;
	struct virgo_context_init context_init;
	struct virgo_resource_create resource_create;
	struct virgo_resource_create_blob resource_create_blob;
	struct virgo_resource_info resource_info;
	struct virgo_resource_close resource_close;
	struct virgo_map map;
	struct virgo_unmap unmap;
	struct virgo_execbuffer execbuffer;
	struct virgo_transfer transfer;
	struct virgo_wait wait;
	struct virgo_fence_wait fence_wait;
	uint64_t align;
};

static NTSTATUS NTAPI dispatch_ioctl(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct os_dev *os = fdo->DeviceExtension;
	PIO_STACK_LOCATION st = IoGetCurrentIrpStackLocation(irp);
	struct win_file *f = st->FileObject ? st->FileObject->FsContext : NULL;
	struct os_caller caller = { os, PsGetCurrentProcess(), irp };
	void *sysbuf = irp->AssociatedIrp.SystemBuffer;
	struct virgo_ioctl req;
	union virgo_args arg;
	ULONG_PTR info = 0;
	NTSTATUS status;
	int ret;

	status = IoAcquireRemoveLock(&os->remove_lock, irp);
	if (!NT_SUCCESS(status))
		return complete(irp, virgo_status_to_ntstatus(-VIRGO_EDEVLOST), 0);
	ret = virgo_ioctl_decode(st->Parameters.DeviceIoControl.IoControlCode,
				 st->Parameters.DeviceIoControl.InputBufferLength,
				 st->Parameters.DeviceIoControl.OutputBufferLength, &req);
	if (ret == VIRGO_IOCTL_FOREIGN) {
		status = STATUS_INVALID_DEVICE_REQUEST;
		goto out;
	}
	if (ret == 0 && (!f || !sysbuf))
		ret = -VIRGO_EINVAL;
	/* Embedded pointers are addresses in the opener's process: a request
	 * from anywhere else (kernel mode, a duplicated handle) is refused. */
	if (ret == 0 && (irp->RequestorMode != UserMode || caller.process != f->owner))
		ret = -VIRGO_EPERM;
	if (ret == 0 && (os->pnp == PNP_SURPRISE_REMOVED || os->pnp == PNP_REMOVED || os->hw_gone))
		ret = -VIRGO_EDEVLOST;
	if (ret == 0) {
		_Static_assert(sizeof(arg) >= 56, "every op's struct fits");
		RtlCopyMemory(&arg, sysbuf, req.size);
		ret = core_ioctl(f->core, &caller, req.op, &arg, req.size);
		if (ret == 0) {
			RtlCopyMemory(sysbuf, &arg, req.size);
			info = req.size;
		}
	}
	status = virgo_status_to_ntstatus(ret);
out:
	IoReleaseRemoveLock(&os->remove_lock, irp);
	return complete(irp, status, info);
}

/* WMI: not ours, the bus driver's. */
static NTSTATUS NTAPI dispatch_system_control(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct os_dev *os = fdo->DeviceExtension;
	NTSTATUS status = IoAcquireRemoveLock(&os->remove_lock, irp);

	if (!NT_SUCCESS(status))
		return complete(irp, status, 0);
	IoSkipCurrentIrpStackLocation(irp);
	status = IoCallDriver(os->lower, irp);
	IoReleaseRemoveLock(&os->remove_lock, irp);
	return status;
}

static NTSTATUS NTAPI dispatch_unsupported(PDEVICE_OBJECT fdo, PIRP irp)
{
	(void)fdo;
	return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
}

/* ---- driver and device objects ------------------------------------------------------------ */

static NTSTATUS NTAPI add_device(PDRIVER_OBJECT drv, PDEVICE_OBJECT pdo)
{
	PDEVICE_OBJECT fdo;
	struct os_dev *os;
	NTSTATUS status;

	status = IoCreateDevice(drv, sizeof(*os), NULL, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE, &fdo);
	if (!NT_SUCCESS(status))
		return status;
	os = fdo->DeviceExtension;
	RtlZeroMemory(os, sizeof(*os));
	os->fdo = fdo;
	os->pdo = pdo;
	os->pnp = PNP_NOT_STARTED;
	os->dpower = PowerDeviceD0;
	os->log_budget = 32;
	for (int s = 0; s < POWER_SYSTEM_MAXIMUM; s++)
		os->sx_to_dx[s] = s == PowerSystemWorking ? PowerDeviceD0 : PowerDeviceD3;
	IoInitializeRemoveLock(&os->remove_lock, VIRGO_POOL_TAG, 0, 0);
	KeInitializeMutex(&os->state_lock, 0);
	KeInitializeSpinLock(&os->mmio_lock);
	InitializeListHead(&os->mmio_list);
	win_nt_resolve(os, &os->nt);
	win_irq_init(os);
	os->power_work = IoAllocateWorkItem(fdo);
	if (!os->power_work) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto fail;
	}
	status = IoRegisterDeviceInterface(pdo, &virgo_interface_guid, NULL, &os->ifname);
	if (!NT_SUCCESS(status))
		goto fail;
	os->if_registered = TRUE;
	os->lower = IoAttachDeviceToDeviceStack(fdo, pdo);
	if (!os->lower) {
		status = STATUS_NO_SUCH_DEVICE;
		goto fail;
	}
	/* Power IRPs at PASSIVE_LEVEL: power-down runs the core's teardown. */
	fdo->Flags |= DO_POWER_PAGABLE;
	fdo->Flags &= ~DO_DEVICE_INITIALIZING;
	return STATUS_SUCCESS;
fail:
	if (os->if_registered)
		RtlFreeUnicodeString(&os->ifname);
	if (os->power_work)
		IoFreeWorkItem(os->power_work);
	IoDeleteDevice(fdo);
	return status;
}

static void NTAPI unload(PDRIVER_OBJECT drv)
{
	/* Every device object went at REMOVE_DEVICE (or its last close). */
	(void)drv;
	DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_INFO_LEVEL, "virgo: unloaded\n");
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING registry_path)
{
	(void)registry_path;
	for (int i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
		drv->MajorFunction[i] = dispatch_unsupported;
	drv->MajorFunction[IRP_MJ_CREATE] = dispatch_create;
	drv->MajorFunction[IRP_MJ_CLEANUP] = dispatch_cleanup;
	drv->MajorFunction[IRP_MJ_CLOSE] = dispatch_close;
	drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = dispatch_ioctl;
	drv->MajorFunction[IRP_MJ_PNP] = win_dispatch_pnp;
	drv->MajorFunction[IRP_MJ_POWER] = win_dispatch_power;
	drv->MajorFunction[IRP_MJ_SYSTEM_CONTROL] = dispatch_system_control;
	drv->DriverExtension->AddDevice = add_device;
	drv->DriverUnload = unload;
	DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_INFO_LEVEL, "virgo: loaded (uAPI %u)\n", VIRGO_UAPI_VERSION);
	return STATUS_SUCCESS;
}
