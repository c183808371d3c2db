/* SPDX-License-Identifier: MIT */
/*
 * fake_paged.c: pageable memory that is really not there at DISPATCH_LEVEL.
 *
 * Windows may page out pageable pool at any time; touching it at
 * DISPATCH_LEVEL or above (a spin lock held, a DPC, an ISR) is a bugcheck
 * when the page happens to be out, and Driver Verifier makes it happen
 * every time. With fake_config.paged_guard, os_alloc without
 * OS_MEM_NONPAGED takes its memory from one arena here, and the arena is
 * PROT_NONE whenever the machine is at DISPATCH_LEVEL: the core's touch
 * faults at once, the fault handler records a violation naming the
 * context, opens the arena and lets the access go on, so the test fails
 * with the place of the access instead of crashing.
 *
 * The arena is a bump allocator with free lists by rounded size: enough
 * for a test's lifetime (the machine's arena goes with it).
 */
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "fake_priv.h"

#define ARENA_SIZE  (256ull << 20)
#define GRAIN       64u
#define NCLASSES    1024u               /* exact classes up to 64 KiB */
#define HDR         64u                 /* keeps the payload 64-byte aligned */

struct block {
	uint64_t size;                      /* rounded, header included */
	struct block *next;                 /* while free */
};

struct fake_paged {
	uint8_t *base;
	uint64_t used;                      /* bump pointer */
	struct block *free[NCLASSES + 1];   /* [NCLASSES]: larger blocks, first fit */
	bool closed;                        /* PROT_NONE now */
	struct os_dev *os;
	struct fake_paged *next;            /* every live arena, for the handler */
};

static struct fake_paged *arenas;
static struct sigaction old_segv;
static bool handler_installed;

static void segv_handler(int sig, siginfo_t *si, void *uctx)
{
	uint8_t *addr = si->si_addr;

	for (struct fake_paged *a = arenas; a; a = a->next) {
		if (addr < a->base || addr >= a->base + ARENA_SIZE || !a->closed)
			continue;
		fake_violation(a->os, "pageable memory touched at DISPATCH_LEVEL (%s context, %u spin lock(s) held)",
			       fake_ctx_name(a->os->ctx), a->os->spin_depth);
		/* Let the access complete; the next change of level closes it
		 * again and catches the next one. */
		mprotect(a->base, ARENA_SIZE, PROT_READ | PROT_WRITE);
		a->closed = false;
		return;
	}
	/* Not ours: whoever was there before (ASan) deals with it. */
	if (old_segv.sa_flags & SA_SIGINFO) {
		old_segv.sa_sigaction(sig, si, uctx);
		return;
	}
	signal(SIGSEGV, old_segv.sa_handler == SIG_IGN ? SIG_DFL : old_segv.sa_handler);
}

int fpaged_create(struct os_dev *os)
{
	struct fake_paged *a = calloc(1, sizeof(*a));

	if (!a)
		return -1;
	a->base = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a->base == MAP_FAILED) {
		free(a);
		return -1;
	}
	if (!handler_installed) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = segv_handler;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, &old_segv);
		handler_installed = true;
	}
	a->os = os;
	a->next = arenas;
	arenas = a;
	os->paged = a;
	return 0;
}

void fpaged_destroy(struct os_dev *os)
{
	struct fake_paged *a = os->paged;

	if (!a)
		return;
	for (struct fake_paged **pp = &arenas; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	munmap(a->base, ARENA_SIZE);
	free(a);
	os->paged = NULL;
}

void fpaged_update(struct os_dev *os)
{
	struct fake_paged *a = os->paged;
	bool close;

	if (!a)
		return;
	close = os->spin_depth || os->ctx != FAKE_CTX_REQUEST;
	if (close == a->closed)
		return;
	mprotect(a->base, ARENA_SIZE, close ? PROT_NONE : PROT_READ | PROT_WRITE);
	a->closed = close;
}

static unsigned class_of(uint64_t size)
{
	return size / GRAIN <= NCLASSES - 1 ? (unsigned)(size / GRAIN) : NCLASSES;
}

void *fpaged_alloc(struct os_dev *os, size_t size)
{
	struct fake_paged *a = os->paged;
	uint64_t need = (size + HDR + GRAIN - 1) / GRAIN * GRAIN;
	unsigned cls = class_of(need);
	struct block *b = NULL;

	/* os_alloc is never legal at DISPATCH_LEVEL (fake_check_passive says
	 * so); the arena is open for the fake's own bookkeeping regardless. */
	if (a->closed) {
		mprotect(a->base, ARENA_SIZE, PROT_READ | PROT_WRITE);
		a->closed = false;
	}
	if (cls < NCLASSES) {
		b = a->free[cls];
		if (b)
			a->free[cls] = b->next;
	} else {
		for (struct block **pp = &a->free[NCLASSES]; *pp; pp = &(*pp)->next) {
			if ((*pp)->size >= need) {
				b = *pp;
				*pp = b->next;
				break;
			}
		}
	}
	if (!b) {
		if (need > ARENA_SIZE - a->used)
			return NULL;
		b = (struct block *)(void *)(a->base + a->used);
		a->used += need;
		b->size = need;
	}
	need = b->size;
	memset(b, 0, need);
	b->size = need;
	fpaged_update(os);
	return (uint8_t *)b + HDR;
}

bool fpaged_owns(struct os_dev *os, const void *p)
{
	struct fake_paged *a = os->paged;

	return a && (const uint8_t *)p >= a->base && (const uint8_t *)p < a->base + ARENA_SIZE;
}

void fpaged_free(struct os_dev *os, void *p)
{
	struct fake_paged *a = os->paged;
	struct block *b = (struct block *)(void *)((uint8_t *)p - HDR);
	unsigned cls;

	if (a->closed) {
		mprotect(a->base, ARENA_SIZE, PROT_READ | PROT_WRITE);
		a->closed = false;
	}
	cls = class_of(b->size);
	b->next = a->free[cls];
	a->free[cls] = b;
	fpaged_update(os);
}
