/* SPDX-License-Identifier: MIT */
/* os.h for virgo-host: the KMD core runs as the guest kernel of the
 * embedded machine. The Windows execution rules are checked here, so that a
 * breach shows up in tests as it would under Driver Verifier. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virgo/uapi.h>

#include "log.h"
#include "machine.h"
#include "os.h"
#include "vpci.h"

/* Execution context of the current thread, set by the interrupt thread. */
_Thread_local int os_host_in_dpc;
static _Thread_local int spin_depth;

static void count(struct os_dev *os, int64_t *field, int delta)
{
	__atomic_add_fetch(field, delta, __ATOMIC_RELAXED);
	(void)os;
}

static void violation(struct os_dev *os, const char *what)
{
	__atomic_add_fetch(&os->n.violations, 1, __ATOMIC_RELAXED);
	hlog(HLOG_ERR, "execution rule broken: %s (spin depth %d, dpc %d)", what, spin_depth, os_host_in_dpc);
}

static void must_be_request(struct os_dev *os, const char *what)
{
	if (spin_depth || os_host_in_dpc)
		violation(os, what);
}

void os_log(struct os_dev *os, enum os_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	(void)os;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hlog((int)level, "kmd: %s", line);
}

void *os_alloc(struct os_dev *os, size_t size, unsigned flags)
{
	void *p;

	(void)flags;
	must_be_request(os, "os_alloc");
	p = calloc(1, size ? size : 1);
	if (p)
		count(os, &os->n.allocs, 1);
	return p;
}

void os_free(struct os_dev *os, void *p)
{
	if (!p)
		return;
	must_be_request(os, "os_free");
	free(p);
	count(os, &os->n.allocs, -1);
}

int os_dma_alloc(struct os_dev *os, size_t size, struct os_dma *out)
{
	struct ram_run *runs;
	uint32_t n;
	int ret;

	must_be_request(os, "os_dma_alloc");
	ret = ram_alloc(os->ram, (size + RAM_PAGE - 1) / RAM_PAGE, true, &runs, &n);
	if (ret)
		return -VIRGO_ENOMEM;
	out->bus = runs[0].bus;
	out->size = runs[0].len;
	out->va = ram_ptr(os->ram, out->bus, out->size);
	out->priv = runs;
	count(os, &os->n.dma, 1);
	return 0;
}

void os_dma_free(struct os_dev *os, struct os_dma *dma)
{
	must_be_request(os, "os_dma_free");
	ram_free(os->ram, dma->priv, 1);
	free(dma->priv);
	*dma = (struct os_dma){ 0 };
	count(os, &os->n.dma, -1);
}

int os_pages_alloc(struct os_dev *os, uint64_t size, struct os_pages *out)
{
	struct ram_run *runs;
	uint32_t n;
	int ret;

	must_be_request(os, "os_pages_alloc");
	/* Contiguous when RAM allows: clients then map one range. */
	ret = ram_alloc(os->ram, size / RAM_PAGE, true, &runs, &n);
	if (ret)
		ret = ram_alloc(os->ram, size / RAM_PAGE, false, &runs, &n);
	if (ret)
		return -VIRGO_ENOMEM;
	_Static_assert(sizeof(struct ram_run) == sizeof(struct os_sg), "run and sg share a layout");
	out->size = size;
	out->nsg = n;
	out->sg = (struct os_sg *)(void *)runs;
	out->priv = runs;
	count(os, &os->n.pages, 1);
	return 0;
}

void os_pages_free(struct os_dev *os, struct os_pages *pages)
{
	must_be_request(os, "os_pages_free");
	ram_free(os->ram, pages->priv, pages->nsg);
	free(pages->priv);
	*pages = (struct os_pages){ 0 };
	count(os, &os->n.pages, -1);
}

int os_pages_write(struct os_dev *os, struct os_pages *pages, uint64_t offset, const void *src, size_t len)
{
	const uint8_t *s = src;

	if (offset > pages->size || len > pages->size - offset)
		return -VIRGO_EINVAL;
	for (uint32_t i = 0; i < pages->nsg && len; i++) {
		uint64_t l = pages->sg[i].len;

		if (offset >= l) {
			offset -= l;
			continue;
		}
		l -= offset;
		if (l > len)
			l = len;
		memcpy(ram_ptr(os->ram, pages->sg[i].bus + offset, l), s, l);
		s += l;
		len -= l;
		offset = 0;
	}
	return 0;
}

int os_pci_cfg_read(struct os_dev *os, uint32_t offset, void *buf, uint32_t len)
{
	return vpci_cfg_read(os->pci, offset, buf, len) ? -VIRGO_EINVAL : 0;
}

struct os_mmio {
	struct os_dev *os;
	uint32_t off;
	uint32_t len;
};

int os_mmio_map(struct os_dev *os, uint8_t bar, uint64_t offset, uint64_t len, struct os_mmio **out)
{
	struct os_mmio *m;

	if (bar != VPCI_BAR || offset > VPCI_BAR_SIZE || len > VPCI_BAR_SIZE - offset)
		return -VIRGO_EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -VIRGO_ENOMEM;
	*m = (struct os_mmio){ os, (uint32_t)offset, (uint32_t)len };
	count(os, &os->n.mmio, 1);
	*out = m;
	return 0;
}

void os_mmio_unmap(struct os_dev *os, struct os_mmio *m)
{
	free(m);
	count(os, &os->n.mmio, -1);
}

static uint32_t mmio_rd(struct os_mmio *m, uint32_t off, unsigned w)
{
	if (off > m->len || w > m->len - off)
		return ~0u; /* a bus read outside the window: all ones */
	return vpci_read(m->os->pci, m->off + off, w);
}

static void mmio_wr(struct os_mmio *m, uint32_t off, unsigned w, uint32_t v)
{
	if (off <= m->len && w <= m->len - off)
		vpci_write(m->os->pci, m->off + off, w, v);
}

uint8_t os_mmio_read8(struct os_mmio *m, uint32_t off) { return (uint8_t)mmio_rd(m, off, 1); }
uint16_t os_mmio_read16(struct os_mmio *m, uint32_t off) { return (uint16_t)mmio_rd(m, off, 2); }
uint32_t os_mmio_read32(struct os_mmio *m, uint32_t off) { return mmio_rd(m, off, 4); }
void os_mmio_write8(struct os_mmio *m, uint32_t off, uint8_t v) { mmio_wr(m, off, 1, v); }
void os_mmio_write16(struct os_mmio *m, uint32_t off, uint16_t v) { mmio_wr(m, off, 2, v); }
void os_mmio_write32(struct os_mmio *m, uint32_t off, uint32_t v) { mmio_wr(m, off, 4, v); }

unsigned os_irq_msix_count(struct os_dev *os)
{
	return os->msix;
}

uint32_t os_atomic_or32(volatile uint32_t *p, uint32_t v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
uint32_t os_atomic_xchg32(volatile uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
uint64_t os_atomic_load64(volatile uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
void os_atomic_store64(volatile uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

struct os_spin {
	struct os_dev *os;
	pthread_mutex_t m;
};

struct os_spin *os_spin_create(struct os_dev *os)
{
	struct os_spin *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->os = os;
	pthread_mutex_init(&l->m, NULL);
	count(os, &os->n.spins, 1);
	return l;
}

void os_spin_destroy(struct os_spin *l)
{
	pthread_mutex_destroy(&l->m);
	count(l->os, &l->os->n.spins, -1);
	free(l);
}

void os_spin_lock(struct os_spin *l)
{
	pthread_mutex_lock(&l->m);
	spin_depth++;
}

void os_spin_unlock(struct os_spin *l)
{
	spin_depth--;
	pthread_mutex_unlock(&l->m);
}

struct os_mutex {
	struct os_dev *os;
	pthread_mutex_t m;
};

struct os_mutex *os_mutex_create(struct os_dev *os)
{
	struct os_mutex *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->os = os;
	pthread_mutex_init(&l->m, NULL);
	count(os, &os->n.mutexes, 1);
	return l;
}

void os_mutex_destroy(struct os_mutex *l)
{
	pthread_mutex_destroy(&l->m);
	count(l->os, &l->os->n.mutexes, -1);
	free(l);
}

void os_mutex_lock(struct os_mutex *l)
{
	must_be_request(l->os, "os_mutex_lock");
	pthread_mutex_lock(&l->m);
}

void os_mutex_unlock(struct os_mutex *l)
{
	pthread_mutex_unlock(&l->m);
}

void os_might_sleep(struct os_dev *os)
{
	must_be_request(os, "a blocking call");
}

struct os_waitq {
	struct os_dev *os;
	pthread_mutex_t m;
	pthread_cond_t c;
	uint64_t seq;
};

struct os_waitq *os_waitq_create(struct os_dev *os)
{
	struct os_waitq *w = calloc(1, sizeof(*w));
	pthread_condattr_t a;

	if (!w)
		return NULL;
	w->os = os;
	pthread_mutex_init(&w->m, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&w->c, &a);
	pthread_condattr_destroy(&a);
	count(os, &os->n.waitqs, 1);
	return w;
}

void os_waitq_destroy(struct os_waitq *w)
{
	pthread_cond_destroy(&w->c);
	pthread_mutex_destroy(&w->m);
	count(w->os, &w->os->n.waitqs, -1);
	free(w);
}

uint64_t os_waitq_seq(struct os_waitq *w)
{
	return __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE);
}

int os_waitq_wait(struct os_waitq *w, uint64_t seq, uint64_t deadline_ns)
{
	struct timespec ts = { (time_t)(deadline_ns / 1000000000ull), (long)(deadline_ns % 1000000000ull) };
	int ret = 0;

	must_be_request(w->os, "os_waitq_wait");
	pthread_mutex_lock(&w->m);
	while (w->seq == seq && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&w->c, &w->m, &ts);
	ret = w->seq == seq ? -VIRGO_ETIMEDOUT : 0;
	pthread_mutex_unlock(&w->m);
	return ret;
}

void os_waitq_wake(struct os_waitq *w)
{
	pthread_mutex_lock(&w->m);
	__atomic_add_fetch(&w->seq, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
}

uint64_t os_time_ns(struct os_dev *os)
{
	struct timespec ts;

	(void)os;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int os_copy_from_user(struct os_caller *c, void *dst, uint64_t uaddr, size_t len)
{
	if (!c || uaddr > c->in_len || len > c->in_len - uaddr)
		return -VIRGO_EFAULT;
	memcpy(dst, c->in + uaddr, len);
	return 0;
}

int os_copy_to_user(struct os_caller *c, uint64_t uaddr, const void *src, size_t len)
{
	if (!c || uaddr > c->out_cap || len > c->out_cap - uaddr)
		return -VIRGO_EFAULT;
	memcpy(c->out + uaddr, src, len);
	if (uaddr + len > c->out_len)
		c->out_len = (uint32_t)(uaddr + len);
	return 0;
}

int os_map_user(struct os_caller *c, struct os_pages *pages, uint64_t *uaddr, void **cookie)
{
	struct host_map *m;

	if (!c)
		return -VIRGO_EFAULT;
	m = malloc(sizeof(*m) + sizeof(m->runs[0]) * pages->nsg);
	if (!m)
		return -VIRGO_ENOMEM;
	m->nruns = pages->nsg;
	for (uint32_t i = 0; i < pages->nsg; i++)
		m->runs[i] = (struct virgo_wire_run){ pages->sg[i].bus - RAM_BUS_BASE, pages->sg[i].len };
	*uaddr = m->runs[0].offset;
	*cookie = m;
	c->last_map = m;
	return 0;
}

void os_unmap_user(struct os_caller *c, void *cookie)
{
	/* The client's view goes away on its side; here only the record. */
	if (c && c->last_map == cookie)
		c->last_map = NULL;
	free(cookie);
}
