/* SPDX-License-Identifier: MIT */
/*
 * ntapi.c: the kernel routines virgo.sys uses where the kernel has them and
 * does without where it has not (struct win_nt in virgo_win.h).
 *
 * A driver that imports an export its kernel lacks does not load, and the
 * user sees only "This device cannot start (Code 39)". Windows 10 has every
 * routine here; ReactOS exports the NT 5.2 set (no IoConnectInterruptEx in
 * its default build, none of the Windows 8 memory routines). Looked up once
 * per device, at AddDevice (PASSIVE_LEVEL, which MmGetSystemRoutineAddress
 * needs), and logged, so a debug log says which paths a machine takes.
 */
#include "virgo_win.h"

static PVOID lookup(PCWSTR name)
{
	UNICODE_STRING u;

	RtlInitUnicodeString(&u, name);
	return MmGetSystemRoutineAddress(&u);
}

void win_nt_resolve(struct os_dev *os, struct win_nt *nt)
{
	/* Casts through PVOID: the exports have exactly these documented
	 * signatures (wdm.h). */
	nt->MmMapIoSpaceEx = (PVOID (NTAPI *)(PHYSICAL_ADDRESS, SIZE_T, ULONG))lookup(L"MmMapIoSpaceEx");
	nt->MmAllocateContiguousNodeMemory =
		(PVOID (NTAPI *)(SIZE_T, PHYSICAL_ADDRESS, PHYSICAL_ADDRESS, PHYSICAL_ADDRESS, ULONG, ULONG))lookup(
			L"MmAllocateContiguousNodeMemory");
	nt->MmAllocateMdlForIoSpace =
		(NTSTATUS (NTAPI *)(MM_PHYSICAL_ADDRESS_LIST_V *, SIZE_T, PMDL *))lookup(L"MmAllocateMdlForIoSpace");
	nt->IoConnectInterruptEx = (NTSTATUS (NTAPI *)(PIO_CONNECT_INTERRUPT_PARAMETERS))lookup(L"IoConnectInterruptEx");
	nt->IoDisconnectInterruptEx =
		(VOID (NTAPI *)(PIO_DISCONNECT_INTERRUPT_PARAMETERS))lookup(L"IoDisconnectInterruptEx");
	nt->pages_flags = nt->MmAllocateMdlForIoSpace ? MM_ALLOCATE_FULLY_REQUIRED | MM_ALLOCATE_PREFER_CONTIGUOUS : 0;
	/* Connecting with one and disconnecting with the other is wrong. */
	if (!nt->IoConnectInterruptEx || !nt->IoDisconnectInterruptEx)
		nt->IoConnectInterruptEx = NULL, nt->IoDisconnectInterruptEx = NULL;
	os_log(os, OS_LOG_INFO,
	       "kernel routines: MmMapIoSpaceEx %s, MmAllocateContiguousNodeMemory %s, "
	       "MmAllocateMdlForIoSpace %s, IoConnectInterruptEx %s; page allocation flags %#lx",
	       nt->MmMapIoSpaceEx ? "yes" : "no", nt->MmAllocateContiguousNodeMemory ? "yes" : "no",
	       nt->MmAllocateMdlForIoSpace ? "yes" : "no", nt->IoConnectInterruptEx ? "yes" : "no",
	       (unsigned long)nt->pages_flags);
}
