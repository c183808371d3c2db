/* SPDX-License-Identifier: MIT */
#include "ram.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int ram_create(struct ram *r, uint64_t size)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	size = (size + RAM_PAGE - 1) & ~(uint64_t)(RAM_PAGE - 1);
	r->fd = memfd_create("virgo-guest-ram", MFD_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	if (ftruncate(r->fd, (off_t)size) < 0)
		goto fail;
	r->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->base == MAP_FAILED) {
		r->base = NULL;
		goto fail;
	}
	r->size = size;
	r->npages = size / RAM_PAGE;
	r->free_pages = r->npages;
	r->used = calloc(r->npages, 1);
	if (!r->used)
		goto fail;
	pthread_mutex_init(&r->lock, NULL);
	snprintf(r->path, sizeof(r->path), "/proc/%d/fd/%d", (int)getpid(), r->fd);
	return 0;
fail:
	{
		int err = -errno;

		ram_destroy(r);
		return err ? err : -ENOMEM;
	}
}

void ram_destroy(struct ram *r)
{
	if (r->base)
		munmap(r->base, r->size);
	if (r->fd >= 0)
		close(r->fd);
	if (r->used) {
		free(r->used);
		pthread_mutex_destroy(&r->lock);
	}
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

static void zero_pages(struct ram *r, uint64_t first, uint64_t n)
{
	/* Punching a hole both zeroes and returns the memory to the host. */
	if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(first * RAM_PAGE),
		      (off_t)(n * RAM_PAGE)) < 0)
		memset(r->base + first * RAM_PAGE, 0, n * RAM_PAGE);
}

/* lock held: a free run of at least min pages (at most want), searched
 * from the hint round to it; its length, or 0 when there is none. */
static uint64_t find_run(struct ram *r, uint64_t want, uint64_t min, uint64_t *start)
{
	for (uint64_t pass = 0; pass < 2; pass++) {
		uint64_t i = pass ? 0 : r->hint;
		uint64_t end = pass ? r->hint : r->npages;

		while (i < end) {
			uint64_t j = i;

			while (j < r->npages && !r->used[j] && j - i < want)
				j++;
			if (j - i >= min) {
				*start = i;
				return j - i;
			}
			/* Too short: go on after the page that ended it. */
			i = j + 1;
		}
	}
	return 0;
}

/* lock held: a free run that starts on a multiple of granule, of at most
 * want pages and at least min(want, granule), whole granules unless it is
 * all of want; its length, or 0. */
static uint64_t find_granular_run(struct ram *r, uint64_t want, uint64_t granule, uint64_t *start)
{
	uint64_t min = want < granule ? want : granule;

	for (uint64_t i = 0; i + min <= r->npages;) {
		uint64_t j = i, got;

		while (j < r->npages && !r->used[j] && j - i < want)
			j++;
		got = j - i == want ? want : (j - i) / granule * granule;
		if (got >= min) {
			*start = i;
			return got;
		}
		/* the next granule boundary past the page that ended it */
		i = (j / granule + 1) * granule;
	}
	return 0;
}

/* granule 0: contiguous; 1: any pages; else find_granular_run's runs */
static int alloc_runs(struct ram *r, uint64_t npages, uint64_t granule, struct ram_run **runs, uint32_t *nruns)
{
	struct ram_run *out = NULL;
	uint32_t n = 0, cap = 0;
	uint64_t left = npages;

	*runs = NULL;
	*nruns = 0;
	if (!npages)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	if (r->free_pages < npages) {
		pthread_mutex_unlock(&r->lock);
		return -ENOMEM;
	}
	while (left) {
		uint64_t start = 0, got;

		if (granule > 1)
			got = find_granular_run(r, left, granule, &start);
		else
			got = find_run(r, left, granule ? 1 : npages, &start);

		if (!got)
			goto fail;
		if (n == cap) {
			struct ram_run *grown = realloc(out, sizeof(*out) * (cap = cap ? cap * 2 : 4));

			if (!grown)
				goto fail;
			out = grown;
		}
		memset(r->used + start, 1, got);
		r->free_pages -= got;
		r->hint = start + got < r->npages ? start + got : 0;
		out[n++] = (struct ram_run){ RAM_BUS_BASE + start * RAM_PAGE, got * RAM_PAGE };
		left -= got;
	}
	pthread_mutex_unlock(&r->lock);
	*runs = out;
	*nruns = n;
	return 0;
fail:
	for (uint32_t i = 0; i < n; i++) {
		uint64_t first = (out[i].bus - RAM_BUS_BASE) / RAM_PAGE, cnt = out[i].len / RAM_PAGE;

		memset(r->used + first, 0, cnt);
		r->free_pages += cnt;
	}
	pthread_mutex_unlock(&r->lock);
	free(out);
	return -ENOMEM;
}

int ram_alloc(struct ram *r, uint64_t npages, bool contiguous, struct ram_run **runs, uint32_t *nruns)
{
	return alloc_runs(r, npages, contiguous ? 0 : 1, runs, nruns);
}

int ram_alloc_granular(struct ram *r, uint64_t npages, uint64_t granule, struct ram_run **runs, uint32_t *nruns)
{
	if (!granule)
		return -EINVAL;
	return alloc_runs(r, npages, granule, runs, nruns);
}

void ram_free(struct ram *r, const struct ram_run *runs, uint32_t nruns)
{
	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < nruns; i++) {
		uint64_t first = (runs[i].bus - RAM_BUS_BASE) / RAM_PAGE, cnt = runs[i].len / RAM_PAGE;

		if (runs[i].bus < RAM_BUS_BASE || first + cnt > r->npages)
			continue;
		zero_pages(r, first, cnt);
		memset(r->used + first, 0, cnt);
		r->free_pages += cnt;
	}
	pthread_mutex_unlock(&r->lock);
}

void *ram_ptr(struct ram *r, uint64_t bus, uint64_t len)
{
	uint64_t off;

	if (bus < RAM_BUS_BASE)
		return NULL;
	off = bus - RAM_BUS_BASE;
	if (off > r->size || len > r->size - off)
		return NULL;
	return r->base + off;
}

uint64_t ram_offset(const struct ram *r, uint64_t bus)
{
	(void)r;
	return bus - RAM_BUS_BASE;
}

uint64_t ram_used_pages(struct ram *r)
{
	uint64_t used;

	pthread_mutex_lock(&r->lock);
	used = r->npages - r->free_pages;
	pthread_mutex_unlock(&r->lock);
	return used;
}
