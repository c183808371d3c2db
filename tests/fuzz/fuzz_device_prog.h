/* SPDX-License-Identifier: MIT */
/*
 * fuzz_device_prog.h: the program format fuzz_device decodes (the seed
 * generator writes it too). The harness is the guest: it owns guest RAM
 * and writes rings, descriptors and command bytes itself.
 *
 *   ops until the input ends, each a u8 kind, then:
 *   FD_POKE:  u16 off, u16 len (<= 4096), bytes into the data area
 *   FD_CMD:   u8 queue, u16 req_len (<= 4096), bytes, u16 resp_len (<= 4096):
 *             a well-formed chain (readable request, writable response)
 *   FD_CHAIN: u8 queue, u8 n (1..8), n descriptors of
 *             { u8 mode, u64 addr, u32 len, u16 flags, u16 next },
 *             u16 head: raw descriptors. mode 0: addr is an offset in the
 *             data area (mod its size); 1: an offset from the start of
 *             guest RAM; 2: a raw bus address
 *   FD_AVAIL: u8 queue, u16 idx: the avail index set to anything, notify
 *   FD_NOTIFY: u8 queue (any value: also queues that do not exist)
 *   FD_RESET: status 0 and a fresh start of the driver
 *   FD_BAD_RINGS: a start with rings outside guest RAM, one notify
 *   FD_CFG:   u8 off, u32 value: a write to the device config
 *   FD_REG:   u16 off, u8 width, u32 value: a write to the common config
 *   Unknown kinds are skipped.
 */
#ifndef VIRGO_FUZZ_DEVICE_PROG_H
#define VIRGO_FUZZ_DEVICE_PROG_H

enum {
	FD_POKE = 1,
	FD_CMD,
	FD_CHAIN,
	FD_AVAIL,
	FD_NOTIFY,
	FD_RESET,
	FD_BAD_RINGS,
	FD_CFG,
	FD_REG,
	FD_LAST
};

#define FD_DATA_SIZE (256u << 10)

#endif
