/* SPDX-License-Identifier: MIT */
/*
 * seh_x64.S: long virgo_seh_call(long (*fn)(void *ctx), void *ctx)
 *
 * GCC has no __try/__except for C. This is the frame MSVC would emit for
 *     __try { r = fn(ctx); } __except (EXCEPTION_EXECUTE_HANDLER) { r = CAUGHT; }
 * written out: x64 unwind data naming __C_specific_handler (exported by
 * ntoskrnl.exe, as by ntdll.dll) with a one-entry scope table
 * (SCOPE_TABLE_AMD64 in winnt.h: BeginAddress, EndAddress, HandlerAddress,
 * JumpTarget, all image-relative). HandlerAddress 1 is
 * EXCEPTION_EXECUTE_HANDLER, no filter function. When fn (or anything it
 * calls: ProbeForRead, MmMapLockedPagesSpecifyCache) raises, the dispatcher
 * finds this frame (the return address of the call lies in the guarded
 * range: the nop keeps it there), __C_specific_handler unwinds to .Lcaught,
 * and we return VIRGO_SEH_CAUGHT (0x80000000).
 *
 * Only for the MinGW build; the WDK build uses seh_msvc.c. tests/win runs
 * this same file in a Windows user-mode program under Wine.
 */
	.text
	.p2align 4
	.globl	virgo_seh_call
	.def	virgo_seh_call; .scl 2; .type 32; .endef
	.seh_proc virgo_seh_call
virgo_seh_call:
	subq	$40, %rsp            /* home space for fn, 16-byte aligned call */
	.seh_stackalloc 40
	.seh_endprologue
	movq	%rcx, %rax
	movq	%rdx, %rcx
.Lguard_begin:
	call	*%rax
	nop
.Lguard_end:
	addq	$40, %rsp
	ret
.Lcaught:
	movl	$0x80000000, %eax
	addq	$40, %rsp
	ret
	.seh_handler __C_specific_handler, @except
	.seh_handlerdata
	.long	1                    /* Count */
	.rva	.Lguard_begin        /* BeginAddress */
	.rva	.Lguard_end          /* EndAddress */
	.long	1                    /* HandlerAddress: EXCEPTION_EXECUTE_HANDLER */
	.rva	.Lcaught             /* JumpTarget */
	.text
	.seh_endproc
