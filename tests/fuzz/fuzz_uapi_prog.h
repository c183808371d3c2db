/* SPDX-License-Identifier: MIT */
/*
 * fuzz_uapi_prog.h: the program format fuzz_uapi decodes (the seed
 * generator writes it too).
 *
 *   u8 cfg             FU_CFG_* bits: the fake machine and core parameters
 *   then ops until the input ends, each:
 *     u8 kind, u8 handle index (mod FU_HANDLES), then by kind:
 *     kind < 0x40: a uAPI request, op = kind & 0x0f (0 and 15 are invalid
 *        ops): u8 szmode (0: the op's argument size, else szmode % 65
 *        bytes), then that many argument bytes. Pointer fields are
 *        mapped into the harness's in-data buffer (value % 64 KiB),
 *        except values whose top nibble is 0xf: those become
 *        value & 0xffff, an invalid user address (-VIRGO_EFAULT). Handle
 *        fields below 2^31 are taken mod 16.
 *     FU_POKE:   u16 off, u16 len (<= 4096), bytes: writes the in-data
 *     FU_ADVANCE u32 microseconds of virtual time
 *     FU_ERR:    u8 cmd (table), u8 resp (table), u8 count: ERR answers
 *     FU_SCRIPT: u8 cmd, u8 action (OK/ERR/DROP/HOLD), u8 count
 *     FU_SCRIPT_CLEAR, FU_RELEASE
 *     FU_HOLD_FENCES: u8 hold, u32 delay microseconds
 *     FU_COMPLETE: u64 up_to fence id
 *     FU_REOPEN, FU_CLOSE: the handle
 *     FU_NEEDS_RESET, FU_GPU_RESET, FU_DISPLAY_EVENT, FU_RUN
 *     FU_FAIL_ALLOC: u8 k, FU_FAIL_COPY: u8 k (fault injection)
 *   Unknown kinds are skipped.
 */
#ifndef VIRGO_FUZZ_UAPI_PROG_H
#define VIRGO_FUZZ_UAPI_PROG_H

#define FU_HANDLES 3u
#define FU_WIN (64u << 10)

enum {
	FU_CFG_BLOB = 1u << 0,
	FU_CFG_CTX_INIT = 1u << 1,
	FU_CFG_INTX = 1u << 2,
	FU_CFG_FENCE32 = 1u << 3,
	FU_CFG_HOSTMEM = 1u << 4,
	FU_CFG_HOLD = 1u << 5,
	FU_CFG_ONE_CAPSET = 1u << 6,
	FU_CFG_FENCE_WRAP = 1u << 7,
};

enum {
	FU_POKE = 0x40,
	FU_ADVANCE,
	FU_ERR,
	FU_SCRIPT,
	FU_SCRIPT_CLEAR,
	FU_RELEASE,
	FU_HOLD_FENCES,
	FU_COMPLETE,
	FU_REOPEN,
	FU_CLOSE,
	FU_NEEDS_RESET,
	FU_GPU_RESET,
	FU_DISPLAY_EVENT,
	FU_RUN,
	FU_FAIL_ALLOC,
	FU_FAIL_COPY,
	FU_LAST
};

#endif
