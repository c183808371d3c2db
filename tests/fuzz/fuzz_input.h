/* SPDX-License-Identifier: MIT */
/* fuzz_input.h: a cursor over the fuzz input; reads past the end give 0s,
 * so every prefix of an input is a valid program. */
#ifndef VIRGO_FUZZ_INPUT_H
#define VIRGO_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fin {
	const uint8_t *p;
	size_t len, pos;
};

static inline int fin_more(const struct fin *f)
{
	return f->pos < f->len;
}

/* Copies n bytes (zero-padded past the end). */
static inline void fin_bytes(struct fin *f, void *dst, size_t n)
{
	size_t have = f->pos < f->len ? f->len - f->pos : 0;

	if (have > n)
		have = n;
	memcpy(dst, f->p + f->pos, have);
	memset((uint8_t *)dst + have, 0, n - have);
	f->pos += have;
}

static inline uint8_t fin_u8(struct fin *f)
{
	uint8_t v;

	fin_bytes(f, &v, 1);
	return v;
}

static inline uint16_t fin_u16(struct fin *f)
{
	uint16_t v;

	fin_bytes(f, &v, 2);
	return v;
}

static inline uint32_t fin_u32(struct fin *f)
{
	uint32_t v;

	fin_bytes(f, &v, 4);
	return v;
}

static inline uint64_t fin_u64(struct fin *f)
{
	uint64_t v;

	fin_bytes(f, &v, 8);
	return v;
}

#endif
