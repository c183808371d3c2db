/* SPDX-License-Identifier: MIT */
/*
 * fake_user.c: callers (the processes requests come from). A caller's
 * addresses are host pointers; os_map_user maps the very frames of a
 * backing into this process at consecutive addresses, so writes through the
 * mapping land in guest RAM where the device reads them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fake_priv.h"
#include "t.h"

#define CALLER_MAGIC 0x43414c4cu
#define MAP_MAGIC    0x4d415021u

#define USER_MIN 0x10000ull          /* the first 64 KiB are never mapped */
#define USER_END 0x800000000000ull   /* x86-64 user space ends here */

struct fake_map {
	uint32_t magic;
	struct os_caller *caller;
	uint8_t *addr;
	size_t size;
	uint32_t *frames;
	uint32_t nframes;
	struct fake_map *next;
};

struct os_caller {
	uint32_t magic;
	struct os_dev *os;
	struct fake_map *maps;
	unsigned nmaps;
	uint64_t owner;        /* os_caller_owner: the caller itself unless set */
	uint64_t limit;        /* os_user_limit */
	uint64_t cancel_at_ns; /* os_caller_cancelled from this virtual time on; 0: never */
	struct os_caller *next;
};

struct os_caller *fake_caller_new(struct os_dev *os)
{
	struct os_caller *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->magic = CALLER_MAGIC;
	c->os = os;
	c->owner = (uint64_t)(uintptr_t)c;
	c->limit = USER_END;
	c->next = os->callers;
	os->callers = c;
	os->st.caller.live++;
	os->st.caller.total++;
	return c;
}

static void fuser_unmap(struct os_dev *os, struct fake_map *m)
{
	struct os_caller *c = m->caller;

	for (struct fake_map **pp = &c->maps; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	c->nmaps--;
	munmap(m->addr, m->size);
	for (uint32_t i = 0; i < m->nframes; i++)
		if (os->ram.frames[m->frames[i]].map_refs)
			os->ram.frames[m->frames[i]].map_refs--;
	os->st.user_map.live--;
	free(m->frames);
	m->magic = 0;
	free(m);
}

static void fuser_drop(struct os_caller *c)
{
	struct os_dev *os = c->os;

	while (c->maps)
		fuser_unmap(os, c->maps);
	for (struct os_caller **pp = &os->callers; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	os->st.caller.live--;
	c->magic = 0;
	free(c);
}

void fake_caller_free(struct os_caller *c)
{
	if (!c)
		return;
	if (c->magic != CALLER_MAGIC) {
		t_fail("(fake)", 0, "fake_caller_free of a dead caller");
		return;
	}
	if (c->maps)
		fake_violation(c->os, "caller gone with %u live mapping(s): core_cleanup must unmap them",
			       c->nmaps);
	fuser_drop(c);
}

unsigned fuser_machine_gone(struct os_dev *os)
{
	unsigned n = 0;

	while (os->callers) {
		n++;
		fuser_drop(os->callers);
	}
	if (n && fake_loud(os)) {
		fflush(stdout);
		fprintf(stderr, "*** [%s]: %u caller(s) not freed by the test\n",
			t_current() ? t_current() : "-", n);
	}
	return n;
}

unsigned fake_caller_maps(struct os_caller *c)
{
	return c->nmaps;
}

static struct os_dev *fuser_os(struct os_caller *c, const char *what)
{
	if (c && c->magic == CALLER_MAGIC)
		return c->os;
	fake_orphan_violation(what, c);
	return NULL;
}

/* 0 if [uaddr, uaddr+len) may be touched, else -VIRGO_EFAULT. */
static int fuser_range(struct os_dev *os, uint64_t uaddr, size_t len)
{
	if (fake_inject_copy(os))
		goto fault;
	if (!len)
		return 0;
	if (uaddr < USER_MIN || uaddr > USER_END || len > USER_END - uaddr)
		goto fault;
	return 0;
fault:
	os->st.copy_faults++;
	return -VIRGO_EFAULT;
}

int os_copy_from_user(struct os_caller *c, void *dst, uint64_t uaddr, size_t len)
{
	struct os_dev *os = fuser_os(c, "os_copy_from_user");
	int ret;

	if (!os)
		return -VIRGO_EFAULT;
	fake_check_passive(os, "os_copy_from_user");
	ret = fuser_range(os, uaddr, len);
	if (!ret && len)
		memcpy(dst, (const void *)(uintptr_t)uaddr, len);
	return ret;
}

int os_copy_to_user(struct os_caller *c, uint64_t uaddr, const void *src, size_t len)
{
	struct os_dev *os = fuser_os(c, "os_copy_to_user");
	int ret;

	if (!os)
		return -VIRGO_EFAULT;
	fake_check_passive(os, "os_copy_to_user");
	ret = fuser_range(os, uaddr, len);
	if (!ret && len)
		memcpy((void *)(uintptr_t)uaddr, src, len);
	return ret;
}

int os_map_user(struct os_caller *c, struct os_pages *pages, uint64_t *uaddr, void **cookie)
{
	struct os_dev *os = fuser_os(c, "os_map_user");
	struct fake_pages_rec *rec;
	struct fake_map *m;
	uint8_t *base;
	size_t size;

	if (!os)
		return -VIRGO_EFAULT;
	fake_check_passive(os, "os_map_user");
	if (fake_inject_alloc(os))
		return -VIRGO_ENOMEM;
	rec = pages ? pages->priv : NULL;
	if (!rec || rec->magic != PAGES_MAGIC) {
		fake_violation(os, "os_map_user: not a live os_pages");
		return -VIRGO_EINVAL;
	}
	size = (size_t)rec->nframes * OS_PAGE_SIZE;
	m = calloc(1, sizeof(*m));
	if (m)
		m->frames = malloc(rec->nframes * sizeof(*m->frames));
	if (!m || !m->frames)
		goto nomem;
	base = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		goto nomem;
	for (uint32_t i = 0; i < rec->nframes;) {
		uint32_t j = i + 1;
		void *p;

		while (j < rec->nframes && rec->frames[j] == rec->frames[j - 1] + 1)
			j++;
		p = mmap(base + (size_t)i * OS_PAGE_SIZE, (size_t)(j - i) * OS_PAGE_SIZE,
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, os->ram.fd,
			 (off_t)rec->frames[i] * OS_PAGE_SIZE);
		if (p == MAP_FAILED) {
			munmap(base, size);
			goto nomem;
		}
		i = j;
	}
	memcpy(m->frames, rec->frames, rec->nframes * sizeof(*m->frames));
	for (uint32_t i = 0; i < rec->nframes; i++)
		os->ram.frames[rec->frames[i]].map_refs++;
	m->magic = MAP_MAGIC;
	m->caller = c;
	m->addr = base;
	m->size = size;
	m->nframes = rec->nframes;
	m->next = c->maps;
	c->maps = m;
	c->nmaps++;
	os->st.user_map.live++;
	os->st.user_map.total++;
	*uaddr = (uint64_t)(uintptr_t)base;
	*cookie = m;
	return 0;
nomem:
	if (m)
		free(m->frames);
	free(m);
	return -VIRGO_ENOMEM;
}

void os_unmap_user(struct os_caller *c, void *cookie)
{
	struct os_dev *os = fuser_os(c, "os_unmap_user");
	struct fake_map *m = cookie;

	if (!os)
		return;
	fake_check_passive(os, "os_unmap_user");
	if (!m || m->magic != MAP_MAGIC) {
		fake_violation(os, "os_unmap_user: not a live mapping cookie");
		return;
	}
	if (m->caller != c)
		fake_violation(os, "os_unmap_user: the mapping belongs to another caller "
			       "(unmapping must happen in the owning process)");
	fuser_unmap(os, m);
}

/* ---- the host-visible region ------------------------------------------------------ */

int os_map_region(struct os_caller *c, uint8_t bar, uint64_t offset, uint64_t len, enum os_cache cache,
		  uint64_t *uaddr, void **cookie)
{
	struct os_dev *os = fuser_os(c, "os_map_region");
	struct fake_dev *d;
	struct fake_map *m;
	void *p;

	if (!os)
		return -VIRGO_EFAULT;
	d = os->dev;
	fake_check_passive(os, "os_map_region");
	if (fake_inject_alloc(os))
		return -VIRGO_ENOMEM;
	if (bar != FAKE_SHM_BAR || !d->hostmem || !len || offset % OS_PAGE_SIZE || len % OS_PAGE_SIZE ||
	    offset > d->cfg.hostmem_size || len > d->cfg.hostmem_size - offset) {
		fake_violation(os, "os_map_region(bar %u, %#llx, %#llx): not a page range of the host-visible region",
			       bar, (unsigned long long)offset, (unsigned long long)len);
		return -VIRGO_EINVAL;
	}
	/* A process must see only what the device placed there for it. */
	if (!fres_region_mapped(d, offset, len))
		fake_violation(os, "os_map_region: %#llx+%#llx holds no mapped blob", (unsigned long long)offset,
			       (unsigned long long)len);
	if (cache > OS_CACHE_WC)
		fake_violation(os, "os_map_region: cache type %d", (int)cache);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -VIRGO_ENOMEM;
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, d->hostmem_fd, (off_t)offset);
	if (p == MAP_FAILED) {
		free(m);
		return -VIRGO_ENOMEM;
	}
	m->magic = MAP_MAGIC;
	m->caller = c;
	m->addr = p;
	m->size = (size_t)len;
	m->next = c->maps;
	c->maps = m;
	c->nmaps++;
	os->st.user_map.live++;
	os->st.user_map.total++;
	*uaddr = (uint64_t)(uintptr_t)p;
	*cookie = m;
	return 0;
}

void os_unmap_region(struct os_caller *c, void *cookie)
{
	/* The same record as a page mapping: frames are none. */
	os_unmap_user(c, cookie);
}

/* ---- who, how far, and whether it gave up ---------------------------------------- */

void fake_caller_set_owner(struct os_caller *c, uint64_t key)
{
	c->owner = key;
}

void fake_caller_set_32bit(struct os_caller *c)
{
	c->limit = 1ull << 32;
}

void fake_caller_cancel_at(struct os_caller *c, uint64_t ns)
{
	c->cancel_at_ns = ns;
}

uint64_t os_user_limit(struct os_caller *c)
{
	struct os_dev *os = fuser_os(c, "os_user_limit");

	return os ? c->limit : 0;
}

uint64_t os_caller_owner(struct os_caller *c)
{
	struct os_dev *os = fuser_os(c, "os_caller_owner");

	return os ? c->owner : 0;
}

bool os_caller_cancelled(struct os_caller *c)
{
	struct os_dev *os = fuser_os(c, "os_caller_cancelled");

	return os && c->cancel_at_ns && os->now_ns >= c->cancel_at_ns;
}
