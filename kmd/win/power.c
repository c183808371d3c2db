/* SPDX-License-Identifier: MIT */
/*
 * power.c: IRP_MJ_POWER for the virgo function driver, the device's power
 * policy owner. Windows 10+ x64 only: since Windows Vista the power manager
 * no longer needs PoStartNextPowerIrp (it does nothing) and PoCallDriver is
 * IoCallDriver; PoCallDriver is kept for readability.
 *
 * DO_POWER_PAGABLE is set, so power IRPs arrive at PASSIVE_LEVEL; their
 * completion routines may run at DISPATCH_LEVEL, so the D0 work (which
 * waits for the device) runs in a work item.
 *
 *  S0 (working)  pass the S-IRP down, then request D0, complete the S-IRP
 *                when the D-IRP is done.
 *  Sx (sleeping) request Dx (the capabilities' mapping, D3 by default),
 *                pass the S-IRP down when the D-IRP is done.
 *  Dx            before passing it down: the core lets go of the device.
 *                No open handle: gpu_fini (the device is reset and all
 *                memory freed). Open handles: the device is declared lost
 *                (waits end with EDEVLOST, nothing new reaches it).
 *  D0            after the lower drivers: gpu_reset (handles open; they stay
 *                lost and the UMD reopens) or gpu_init (none), in a work
 *                item. A D0 with no Dx before it changes nothing.
 * The virtio device may or may not keep its state across D3 (it does not
 * across hibernation, when the VM starts afresh); re-initialising always
 * is what works in both cases.
 */
#include "virgo_win.h"

static NTSTATUS release_and_call(struct os_dev *os, PIRP irp)
{
	NTSTATUS status;

	IoSkipCurrentIrpStackLocation(irp);
	status = PoCallDriver(os->lower, irp);
	IoReleaseRemoveLock(&os->remove_lock, irp);
	return status;
}

static struct os_dev *irp_device(PIRP irp)
{
	return IoGetCurrentIrpStackLocation(irp)->DeviceObject->DeviceExtension;
}

/* ---- device power ------------------------------------------------------------------ */

static void power_down(struct os_dev *os, DEVICE_POWER_STATE d)
{
	win_state_lock(os);
	if (os->dpower == PowerDeviceD0 && os->gpu) {
		if (os->open_files == 0)
			win_gpu_stop(os);
		else
			gpu_set_lost(os->gpu, "the device is powering down");
	}
	os->dpower = d;
	win_state_unlock(os);
}

static IO_WORKITEM_ROUTINE d0_work;
static void NTAPI d0_work(PDEVICE_OBJECT fdo, PVOID ctx)
{
	struct os_dev *os = fdo->DeviceExtension;
	PIRP irp = ctx;
	POWER_STATE ps;

	win_state_lock(os);
	if (os->dpower != PowerDeviceD0) {
		os->dpower = PowerDeviceD0;
		if (os->pnp == PNP_STARTED && os->hw_ready) {
			if (os->gpu) {
				int ret = gpu_reset(os->gpu);

				if (ret)
					os_log(os, OS_LOG_ERR, "reset after power-up failed (%d)", ret);
			} else {
				/* A failure leaves no core; the next open tries again. */
				(void)win_gpu_start(os);
			}
		}
	}
	win_state_unlock(os);
	ps.DeviceState = PowerDeviceD0;
	PoSetPowerState(fdo, DevicePowerState, ps);
	irp->IoStatus.Status = STATUS_SUCCESS;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	IoReleaseRemoveLock(&os->remove_lock, irp);
}

static IO_COMPLETION_ROUTINE d0_done;
static NTSTATUS NTAPI d0_done(PDEVICE_OBJECT fdo, PIRP irp, PVOID ctx)
{
	struct os_dev *os = ctx;

	(void)fdo;
	if (!NT_SUCCESS(irp->IoStatus.Status)) {
		IoReleaseRemoveLock(&os->remove_lock, irp);
		return STATUS_CONTINUE_COMPLETION;
	}
	IoQueueWorkItem(os->power_work, d0_work, DelayedWorkQueue, irp);
	return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS set_device_power(struct os_dev *os, PIRP irp)
{
	PIO_STACK_LOCATION st = IoGetCurrentIrpStackLocation(irp);
	DEVICE_POWER_STATE d = st->Parameters.Power.State.DeviceState;

	if (d == PowerDeviceD0) {
		IoMarkIrpPending(irp);
		IoCopyCurrentIrpStackLocationToNext(irp);
		IoSetCompletionRoutine(irp, d0_done, os, TRUE, TRUE, TRUE);
		PoCallDriver(os->lower, irp);
		return STATUS_PENDING;
	}
	power_down(os, d);
	PoSetPowerState(os->fdo, DevicePowerState, st->Parameters.Power.State);
	return release_and_call(os, irp);
}

/* ---- system power ---------------------------------------------------------------------- */

static REQUEST_POWER_COMPLETE s0_dirp_done;
static void NTAPI s0_dirp_done(PDEVICE_OBJECT dev, UCHAR minor, POWER_STATE ps, PVOID ctx, PIO_STATUS_BLOCK iosb)
{
	PIRP sirp = ctx;
	struct os_dev *os = irp_device(sirp);

	(void)dev;
	(void)minor;
	(void)ps;
	(void)iosb;
	/* Returning to S0 is not refused because the device did not come up:
	 * the device reports errors through its handles. */
	sirp->IoStatus.Status = STATUS_SUCCESS;
	IoCompleteRequest(sirp, IO_NO_INCREMENT);
	IoReleaseRemoveLock(&os->remove_lock, sirp);
}

static IO_COMPLETION_ROUTINE s0_done;
static NTSTATUS NTAPI s0_done(PDEVICE_OBJECT fdo, PIRP sirp, PVOID ctx)
{
	struct os_dev *os = ctx;
	POWER_STATE ps;

	(void)fdo;
	if (NT_SUCCESS(sirp->IoStatus.Status)) {
		ps.DeviceState = PowerDeviceD0;
		if (NT_SUCCESS(PoRequestPowerIrp(os->pdo, IRP_MN_SET_POWER, ps, s0_dirp_done, sirp, NULL)))
			return STATUS_MORE_PROCESSING_REQUIRED;
	}
	IoReleaseRemoveLock(&os->remove_lock, sirp);
	return STATUS_CONTINUE_COMPLETION;
}

static REQUEST_POWER_COMPLETE sx_dirp_done;
static void NTAPI sx_dirp_done(PDEVICE_OBJECT dev, UCHAR minor, POWER_STATE ps, PVOID ctx, PIO_STATUS_BLOCK iosb)
{
	PIRP sirp = ctx;

	(void)dev;
	(void)minor;
	(void)ps;
	(void)iosb;
	release_and_call(irp_device(sirp), sirp);
}

static NTSTATUS set_system_power(struct os_dev *os, PIRP irp)
{
	PIO_STACK_LOCATION st = IoGetCurrentIrpStackLocation(irp);
	SYSTEM_POWER_STATE s = st->Parameters.Power.State.SystemState;
	POWER_STATE ps;

	IoMarkIrpPending(irp);
	if (s == PowerSystemWorking) {
		IoCopyCurrentIrpStackLocationToNext(irp);
		IoSetCompletionRoutine(irp, s0_done, os, TRUE, TRUE, TRUE);
		PoCallDriver(os->lower, irp);
		return STATUS_PENDING;
	}
	ps.DeviceState = s > PowerSystemUnspecified && s < POWER_SYSTEM_MAXIMUM ? os->sx_to_dx[s] : PowerDeviceD3;
	if (ps.DeviceState <= PowerDeviceD0 || ps.DeviceState >= PowerDeviceMaximum)
		ps.DeviceState = PowerDeviceD3;
	if (!NT_SUCCESS(PoRequestPowerIrp(os->pdo, IRP_MN_SET_POWER, ps, sx_dirp_done, irp, NULL)))
		release_and_call(os, irp); /* the system sleeps anyway; the device follows it down */
	return STATUS_PENDING;
}

/* ---- IRP_MJ_POWER --------------------------------------------------------------------------- */

NTSTATUS NTAPI win_dispatch_power(PDEVICE_OBJECT fdo, PIRP irp)
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
	if (st->MinorFunction == IRP_MN_SET_POWER && (os->pnp == PNP_STARTED || os->pnp == PNP_STOP_PENDING ||
						      os->pnp == PNP_REMOVE_PENDING)) {
		if (st->Parameters.Power.Type == SystemPowerState)
			return set_system_power(os, irp);
		return set_device_power(os, irp);
	}
	/* QUERY_POWER (any state is fine for us), WAIT_WAKE, POWER_SEQUENCE,
	 * and anything before START or after removal: the bus driver's. */
	return release_and_call(os, irp);
}
