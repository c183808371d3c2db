/* SPDX-License-Identifier: MIT */
/* The host-visible region's ranges: see region.h. */
#include "region.h"

#include <virgo/uapi.h>

struct region_span {
	struct region_span *next;
	uint64_t off, len;
};

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return v > UINT64_MAX - (a - 1) ? 0 : (v + a - 1) & ~(a - 1);
}

static struct region_span *span_new(struct region *r, uint64_t off, uint64_t len, struct region_span *next)
{
	struct region_span *s = os_alloc(r->os, sizeof(*s), OS_MEM_PAGED);

	if (s)
		*s = (struct region_span){ .next = next, .off = off, .len = len };
	return s;
}

int region_init(struct region *r, struct os_dev *os, uint64_t size, uint64_t align)
{
	if (align < OS_PAGE_SIZE)
		align = OS_PAGE_SIZE;
	*r = (struct region){ .os = os, .size = size & ~(align - 1), .align = align };
	if (!r->size)
		return 0;
	r->free = span_new(r, 0, r->size, NULL);
	if (!r->free) {
		r->size = 0;
		return -VIRGO_ENOMEM;
	}
	r->free_bytes = r->size;
	return 0;
}

void region_fini(struct region *r)
{
	while (r->free) {
		struct region_span *s = r->free;

		r->free = s->next;
		os_free(r->os, s);
	}
	r->free_bytes = 0;
	r->size = 0;
}

int region_alloc(struct region *r, uint64_t len, uint64_t *offset)
{
	len = round_up(len, r->align);
	if (!len || len > r->free_bytes)
		return -VIRGO_ENOSPC;
	for (struct region_span **pp = &r->free; *pp; pp = &(*pp)->next) {
		struct region_span *s = *pp;

		if (s->len < len)
			continue;
		*offset = s->off;
		if (s->len == len) {
			*pp = s->next;
			os_free(r->os, s);
		} else {
			s->off += len;
			s->len -= len;
		}
		r->free_bytes -= len;
		return 0;
	}
	return -VIRGO_ENOSPC;
}

int region_free(struct region *r, uint64_t offset, uint64_t len)
{
	struct region_span **pp = &r->free, *prev = NULL;

	len = round_up(len, r->align);
	while (*pp && (*pp)->off < offset) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	/* Merged with the span before it, the one after it, or both: no new
	 * span needed. */
	if (prev && prev->off + prev->len == offset) {
		prev->len += len;
		if (*pp && prev->off + prev->len == (*pp)->off) {
			struct region_span *next = *pp;

			prev->len += next->len;
			prev->next = next->next;
			os_free(r->os, next);
		}
	} else if (*pp && offset + len == (*pp)->off) {
		(*pp)->off = offset;
		(*pp)->len += len;
	} else {
		struct region_span *s = span_new(r, offset, len, *pp);

		if (!s) {
			r->held_bytes += len;
			return -VIRGO_ENOMEM;
		}
		*pp = s;
	}
	r->free_bytes += len;
	return 0;
}

void region_hold(struct region *r, uint64_t len)
{
	r->held_bytes += round_up(len, r->align);
}

int region_is_allocated(const struct region *r, uint64_t offset, uint64_t len)
{
	len = round_up(len, r->align);
	if (!len || offset > r->size || len > r->size - offset)
		return 0;
	for (const struct region_span *s = r->free; s; s = s->next)
		if (offset < s->off + s->len && s->off < offset + len)
			return 0;
	return 1;
}
