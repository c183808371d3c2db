/* SPDX-License-Identifier: MIT */
/*
 * seh_x86.S: long virgo_seh_call(long (*fn)(void *ctx), void *ctx), x86.
 *
 * The same contract as seh_x64.S. x86 exception handling is frame-based:
 * a chain of registration records (Next, Handler) on the stack, headed at
 * fs:[0], that the dispatcher walks from the newest. virgo_seh_call puts
 * one on its own stack around the call, with the frame pointer beside it;
 * its handler claims every exception (EXCEPTION_EXECUTE_HANDLER), has
 * RtlUnwind run the handlers of the frames between (with EXCEPTION_UNWINDING,
 * as MSVC's own handler does) and resumes here with the stack cut back to
 * the record, returning VIRGO_SEH_CAUGHT (0x80000000). During an unwind
 * it claims nothing.
 *
 * RtlUnwind is exported by ntoskrnl.exe (kernel mode) and by ntdll through
 * kernel32 (user mode): tests/win runs this same file in a Windows
 * user-mode program under 32-bit Wine, and the ReactOS run in kernel mode.
 * Only for the MinGW build; the WDK build uses seh_msvc.c.
 */
	.text
	.p2align 4
	.globl	_virgo_seh_call
	.def	_virgo_seh_call; .scl 2; .type 32; .endef
_virgo_seh_call:
	pushl	%ebp
	movl	%esp, %ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	pushl	%ebp                 /* record + 8: this frame, for the handler */
	pushl	$virgo_seh_handler   /* record + 4: Handler */
	pushl	%fs:0                /* record + 0: Next */
	movl	%esp, %fs:0
	pushl	12(%ebp)             /* ctx */
	call	*8(%ebp)             /* fn (cdecl) */
	addl	$4, %esp
.Lleave:
	popl	%ecx                 /* Next: the record leaves the chain */
	movl	%ecx, %fs:0
	addl	$8, %esp
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	ret

/* EXCEPTION_DISPOSITION handler(EXCEPTION_RECORD *rec, void *frame,
 *                               CONTEXT *ctx, void *dispatcher)  (cdecl) */
	.p2align 4
	.def	virgo_seh_handler; .scl 3; .type 32; .endef
virgo_seh_handler:
	movl	4(%esp), %eax        /* rec */
	testl	$6, 4(%eax)          /* ExceptionFlags: EXCEPTION_UNWINDING | EXCEPTION_EXIT_UNWIND */
	jnz	.Lsearch
	movl	8(%esp), %ebx        /* frame: our record (callee-saved across RtlUnwind) */
	pushl	$0                   /* ReturnValue */
	pushl	%eax                 /* ExceptionRecord */
	pushl	$.Lunwound           /* TargetIp */
	pushl	%ebx                 /* TargetFrame: frames above it are unwound, it stays */
	call	_RtlUnwind@16
.Lunwound:
	movl	%ebx, %esp           /* back on virgo_seh_call's stack, at the record */
	movl	8(%esp), %ebp
	movl	$0x80000000, %eax
	jmp	.Lleave
.Lsearch:
	movl	$1, %eax             /* ExceptionContinueSearch */
	ret
