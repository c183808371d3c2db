/* SPDX-License-Identifier: MIT */
/*
 * fake_ram.c: guest RAM. One memfd holds every frame; the core sees it
 * through a mapping where only its DMA frames are accessible, the device
 * through a second, fully accessible mapping. Freed frames are punched out
 * of the memfd (so they read back as zeros and cost no host memory) and
 * made inaccessible again.
 *
 * os_dma_alloc takes the lowest contiguous run of free frames.
 * os_pages_alloc scatters on purpose: it walks down from the top of RAM
 * taking blocks of 3, 1, 2 and 4 frames, each block below the previous, so
 * a backing has many runs, every run ascending.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_priv.h"

/*
 * One machine's RAM is kept for the next machine of the same size: a
 * fuzzer builds a machine per input, and a fresh memfd with two mappings
 * and the page faults of its first touches cost more than the input.
 * Kept RAM holds only zeros where frames are free (released frames are
 * zeroed), and the core's view is all PROT_NONE again.
 */
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_ram spare = { .fd = -1 };

#define SPARE_MAX_SIZE (64ull << 20)

int fram_init(struct fake_ram *r, uint64_t size)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (!size || size % OS_PAGE_SIZE || size / OS_PAGE_SIZE > UINT32_MAX)
		return -1;
	pthread_mutex_lock(&spare_lock);
	if (spare.fd >= 0 && spare.size == size) {
		*r = spare;
		memset(&spare, 0, sizeof(spare));
		spare.fd = -1;
	}
	pthread_mutex_unlock(&spare_lock);
	if (r->fd < 0) {
		r->fd = memfd_create("virgo-guest-ram", MFD_CLOEXEC);
		if (r->fd < 0)
			return -1;
		if (ftruncate(r->fd, (off_t)size))
			goto fail;
		r->cpu = mmap(NULL, size, PROT_NONE, MAP_SHARED, r->fd, 0);
		if (r->cpu == MAP_FAILED) {
			r->cpu = NULL;
			goto fail;
		}
		r->dev = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (r->dev == MAP_FAILED) {
			r->dev = NULL;
			goto fail;
		}
		r->size = size;
	}
	r->used = 0;
	r->nframes = (uint32_t)(size / OS_PAGE_SIZE);
	r->frames = calloc(r->nframes, sizeof(*r->frames));
	if (!r->frames)
		goto fail;
	return 0;
fail:
	fram_fini(r);
	return -1;
}

static bool fram_keep(struct fake_ram *r)
{
	bool kept = false;

	if (r->fd < 0 || !r->cpu || !r->dev || !r->frames || r->size > SPARE_MAX_SIZE)
		return false;
	pthread_mutex_lock(&spare_lock);
	if (spare.fd < 0) {
		/* Frames still in use (a leak the machine reports) are zeroed. */
		for (uint32_t f = 0; f < r->nframes; f++)
			if (r->frames[f].state != FRAME_FREE)
				memset(r->dev + (uint64_t)f * OS_PAGE_SIZE, 0, OS_PAGE_SIZE);
		mprotect(r->cpu, r->size, PROT_NONE);
		spare.fd = r->fd;
		spare.cpu = r->cpu;
		spare.dev = r->dev;
		spare.size = r->size;
		kept = true;
	}
	pthread_mutex_unlock(&spare_lock);
	return kept;
}

void fram_fini(struct fake_ram *r)
{
	if (!fram_keep(r)) {
		if (r->cpu)
			munmap(r->cpu, r->size);
		if (r->dev)
			munmap(r->dev, r->size);
		if (r->fd >= 0)
			close(r->fd);
	}
	free(r->frames);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

void *fram_resolve(struct fake_ram *r, uint64_t bus, uint64_t len)
{
	uint64_t off, first, last;

	if (bus < FAKE_RAM_BUS_BASE)
		return NULL;
	off = bus - FAKE_RAM_BUS_BASE;
	if (off >= r->size || len > r->size - off)
		return NULL;
	first = off / OS_PAGE_SIZE;
	last = len ? (off + len - 1) / OS_PAGE_SIZE : first;
	for (uint64_t f = first; f <= last; f++)
		if (r->frames[f].state == FRAME_FREE)
			return NULL;
	return r->dev + off;
}

void fram_ref(struct fake_ram *r, uint64_t bus, uint64_t len, int delta)
{
	uint64_t off, first, last;

	if (!len || bus < FAKE_RAM_BUS_BASE)
		return;
	off = bus - FAKE_RAM_BUS_BASE;
	if (off >= r->size || len > r->size - off)
		return;
	first = off / OS_PAGE_SIZE;
	last = (off + len - 1) / OS_PAGE_SIZE;
	for (uint64_t f = first; f <= last; f++) {
		if (delta < 0 && r->frames[f].dev_refs < (uint32_t)-delta)
			r->frames[f].dev_refs = 0;
		else
			r->frames[f].dev_refs += (uint32_t)delta;
	}
}

/* Returns frames [first, first+n) to the free pool. */
static void fram_release(struct fake_ram *r, uint32_t first, uint32_t n)
{
	off_t off = (off_t)first * OS_PAGE_SIZE;
	size_t len = (size_t)n * OS_PAGE_SIZE;

	/* Small runs stay in memory (zeroed: the next use costs no page
	 * fault); large ones go back to the host. */
	if (len <= (256u << 10) ||
	    fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, (off_t)len))
		memset(r->dev + off, 0, len);
	mprotect(r->cpu + off, len, PROT_NONE);
	for (uint32_t i = 0; i < n; i++)
		r->frames[first + i].state = FRAME_FREE;
	r->used -= n;
}

/* Complains about frames the device or a user mapping still uses. frames
 * lists them, or is NULL for the run [first, first+n). */
static void fram_check_unused(struct os_dev *os, const uint32_t *frames, uint32_t first,
			      uint32_t n, const char *what)
{
	struct fake_ram *r = &os->ram;
	uint32_t dev = 0, map = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t f = frames ? frames[i] : first + i;

		dev += r->frames[f].dev_refs != 0;
		map += r->frames[f].map_refs != 0;
	}
	if (dev)
		fake_violation(os, "%s: %u of %u frame(s) still in use by the device "
			       "(an enabled ring, a buffer it holds, or attached backing)",
			       what, dev, n);
	if (map)
		fake_violation(os, "%s: %u of %u frame(s) still mapped into a caller", what, map, n);
}

/* ---- DMA memory ------------------------------------------------------------ */

int os_dma_alloc(struct os_dev *os, size_t size, struct os_dma *out)
{
	struct fake_ram *r = &os->ram;
	struct fake_dma_rec *rec;
	uint64_t n, run = 0;
	uint32_t first = 0;

	fake_check_passive(os, "os_dma_alloc");
	memset(out, 0, sizeof(*out));
	if (fake_inject_alloc(os))
		return -VIRGO_ENOMEM;
	if (!size)
		return -VIRGO_EINVAL;
	n = ((uint64_t)size + OS_PAGE_SIZE - 1) / OS_PAGE_SIZE;
	if (n > r->nframes)
		return -VIRGO_ENOMEM;
	for (uint32_t f = 0; f < r->nframes && run < n; f++) {
		if (r->frames[f].state != FRAME_FREE) {
			run = 0;
			continue;
		}
		if (!run)
			first = f;
		run++;
	}
	if (run < n)
		return -VIRGO_ENOMEM;
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -VIRGO_ENOMEM;
	if (mprotect(r->cpu + (uint64_t)first * OS_PAGE_SIZE, n * OS_PAGE_SIZE,
		     PROT_READ | PROT_WRITE)) {
		free(rec);
		return -VIRGO_ENOMEM;
	}
	for (uint64_t i = 0; i < n; i++)
		r->frames[first + i].state = FRAME_DMA;
	r->used += (uint32_t)n;
	rec->magic = DMA_MAGIC;
	rec->first = first;
	rec->nframes = (uint32_t)n;
	rec->next = os->dmas;
	if (os->dmas)
		os->dmas->prev = rec;
	os->dmas = rec;
	out->va = r->cpu + (uint64_t)first * OS_PAGE_SIZE;
	out->bus = fram_bus(first);
	out->size = n * OS_PAGE_SIZE;
	out->priv = rec;
	os->st.dma.live++;
	os->st.dma.total++;
	os->st.ram_frames = r->used;
	return 0;
}

static void fram_dma_drop(struct os_dev *os, struct fake_dma_rec *rec)
{
	if (rec->prev)
		rec->prev->next = rec->next;
	else
		os->dmas = rec->next;
	if (rec->next)
		rec->next->prev = rec->prev;
	fram_release(&os->ram, rec->first, rec->nframes);
	rec->magic = 0;
	free(rec);
	os->st.dma.live--;
	os->st.ram_frames = os->ram.used;
}

void os_dma_free(struct os_dev *os, struct os_dma *dma)
{
	struct fake_dma_rec *rec;

	fake_check_passive(os, "os_dma_free");
	if (!dma || !dma->priv)
		return;  /* never allocated, or allocation failed */
	rec = dma->priv;
	if (rec->magic != DMA_MAGIC ||
	    dma->bus != fram_bus(rec->first) ||
	    dma->va != os->ram.cpu + (uint64_t)rec->first * OS_PAGE_SIZE) {
		fake_violation(os, "os_dma_free: not a live os_dma (bus %#llx)",
			       (unsigned long long)dma->bus);
		return;
	}
	fram_check_unused(os, NULL, rec->first, rec->nframes, "os_dma_free");
	fram_dma_drop(os, rec);
	memset(dma, 0, sizeof(*dma));
}

/* ---- backing pages --------------------------------------------------------- */

static const uint32_t fram_block[] = { 3, 1, 2, 4 };

int os_pages_alloc(struct os_dev *os, uint64_t size, struct os_pages *out)
{
	struct fake_ram *r = &os->ram;
	struct fake_pages_rec *rec = NULL;
	uint32_t *frames = NULL;
	struct os_sg *sg = NULL;
	uint64_t n, got = 0;
	int64_t cursor;
	unsigned k = 0;
	uint32_t nsg = 0;

	fake_check_passive(os, "os_pages_alloc");
	memset(out, 0, sizeof(*out));
	if (fake_inject_alloc(os))
		return -VIRGO_ENOMEM;
	if (!size)
		return -VIRGO_EINVAL;
	if (size > r->size)
		return -VIRGO_ENOMEM;
	n = (size + OS_PAGE_SIZE - 1) / OS_PAGE_SIZE;
	if (n > r->nframes - r->used)
		return -VIRGO_ENOMEM;
	frames = malloc(n * sizeof(*frames));
	rec = calloc(1, sizeof(*rec));
	if (!frames || !rec)
		goto nomem;
	cursor = (int64_t)r->nframes - 1;
	while (got < n) {
		int64_t top, bottom;
		uint64_t want;

		while (cursor >= 0 && r->frames[cursor].state != FRAME_FREE)
			cursor--;
		if (cursor < 0)
			goto nomem;
		want = fram_block[k++ % 4];
		if (want > n - got)
			want = n - got;
		top = bottom = cursor;
		while ((uint64_t)(top - bottom + 1) < want && bottom > 0 &&
		       r->frames[bottom - 1].state == FRAME_FREE)
			bottom--;
		for (int64_t f = bottom; f <= top; f++)
			frames[got++] = (uint32_t)f;
		cursor = bottom - 1;
	}
	/* One sg entry per run of bus-contiguous pages. */
	for (uint64_t i = 0; i < n; i++)
		nsg += !i || frames[i] != frames[i - 1] + 1;
	sg = calloc(nsg, sizeof(*sg));
	if (!sg)
		goto nomem;
	nsg = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (i && frames[i] == frames[i - 1] + 1) {
			sg[nsg - 1].len += OS_PAGE_SIZE;
			continue;
		}
		sg[nsg].bus = fram_bus(frames[i]);
		sg[nsg].len = OS_PAGE_SIZE;
		nsg++;
	}
	for (uint64_t i = 0; i < n; i++)
		r->frames[frames[i]].state = FRAME_PAGES;
	r->used += (uint32_t)n;
	rec->magic = PAGES_MAGIC;
	rec->nframes = (uint32_t)n;
	rec->frames = frames;
	rec->sg = sg;
	rec->next = os->pages;
	if (os->pages)
		os->pages->prev = rec;
	os->pages = rec;
	out->size = n * OS_PAGE_SIZE;
	out->nsg = nsg;
	out->sg = sg;
	out->priv = rec;
	os->st.pages.live++;
	os->st.pages.total++;
	os->st.ram_frames = r->used;
	return 0;
nomem:
	free(frames);
	free(rec);
	free(sg);
	return -VIRGO_ENOMEM;
}

static void fram_pages_drop(struct os_dev *os, struct fake_pages_rec *rec)
{
	uint32_t i = 0;

	if (rec->prev)
		rec->prev->next = rec->next;
	else
		os->pages = rec->next;
	if (rec->next)
		rec->next->prev = rec->prev;
	while (i < rec->nframes) {
		uint32_t j = i + 1;

		while (j < rec->nframes && rec->frames[j] == rec->frames[j - 1] + 1)
			j++;
		fram_release(&os->ram, rec->frames[i], j - i);
		i = j;
	}
	free(rec->sg);
	free(rec->frames);
	rec->magic = 0;
	free(rec);
	os->st.pages.live--;
	os->st.ram_frames = os->ram.used;
}

/* Validates an os_pages the core hands back; NULL when it is not live. */
static struct fake_pages_rec *fram_pages_rec(struct os_dev *os, const struct os_pages *p,
					     const char *what)
{
	struct fake_pages_rec *rec = p ? p->priv : NULL;

	if (!rec || rec->magic != PAGES_MAGIC || p->size != (uint64_t)rec->nframes * OS_PAGE_SIZE ||
	    p->sg != rec->sg) {
		fake_violation(os, "%s: not a live os_pages", what);
		return NULL;
	}
	return rec;
}

void os_pages_free(struct os_dev *os, struct os_pages *pages)
{
	struct fake_pages_rec *rec;

	fake_check_passive(os, "os_pages_free");
	if (!pages || !pages->priv)
		return;
	rec = fram_pages_rec(os, pages, "os_pages_free");
	if (!rec)
		return;
	fram_check_unused(os, rec->frames, 0, rec->nframes, "os_pages_free");
	fram_pages_drop(os, rec);
	memset(pages, 0, sizeof(*pages));
}

/* Copies between a backing (device view) and a buffer; to_pages picks the direction. */
static int fram_pages_copy(struct os_dev *os, const struct os_pages *pages, uint64_t offset,
			   void *buf, size_t len, bool to_pages, const char *what)
{
	struct fake_pages_rec *rec = fram_pages_rec(os, pages, what);
	uint8_t *b = buf;

	if (!rec)
		return -VIRGO_EINVAL;
	if (offset > pages->size || len > pages->size - offset) {
		fake_violation(os, "%s: [%llu, +%zu) outside %llu bytes", what,
			       (unsigned long long)offset, len, (unsigned long long)pages->size);
		return -VIRGO_EINVAL;
	}
	while (len) {
		uint64_t page = offset / OS_PAGE_SIZE, in = offset % OS_PAGE_SIZE;
		size_t chunk = OS_PAGE_SIZE - in;
		uint8_t *p = os->ram.dev + (uint64_t)rec->frames[page] * OS_PAGE_SIZE + in;

		if (chunk > len)
			chunk = len;
		if (to_pages)
			memcpy(p, b, chunk);
		else
			memcpy(b, p, chunk);
		b += chunk;
		offset += chunk;
		len -= chunk;
	}
	return 0;
}

int fake_pages_write(struct os_dev *os, const struct os_pages *pages, uint64_t offset,
		     const void *src, size_t len)
{
	return fram_pages_copy(os, pages, offset, (void *)(uintptr_t)src, len, true,
			       "fake_pages_write");
}

int fake_pages_read(struct os_dev *os, const struct os_pages *pages, uint64_t offset,
		    void *dst, size_t len)
{
	return fram_pages_copy(os, pages, offset, dst, len, false, "fake_pages_read");
}

int fake_ram_read(struct os_dev *os, uint64_t bus, void *dst, size_t len)
{
	void *p = fram_resolve(&os->ram, bus, len);

	if (!p)
		return -VIRGO_EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int fake_ram_write(struct os_dev *os, uint64_t bus, const void *src, size_t len)
{
	void *p = fram_resolve(&os->ram, bus, len);

	if (!p)
		return -VIRGO_EFAULT;
	memcpy(p, src, len);
	return 0;
}

/* Frees what the core left behind (fake_machine_free reports it first). */
void fram_free_leftovers(struct os_dev *os)
{
	while (os->dmas)
		fram_dma_drop(os, os->dmas);
	while (os->pages)
		fram_pages_drop(os, os->pages);
}
