/* SPDX-License-Identifier: MIT */
/* os.h for virgo-host: the KMD core runs as the guest kernel of the
 * embedded machine. The Windows execution rules are checked here, so that a
 * breach shows up in tests as it would under Driver Verifier. */
#include <errno.h>
#include <poll.h>
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
#include "os_posix.h"
#include "vpci.h"

/* Pool memory, the rule checks and the synchronisation live in
 * kmd/posix/os_posix.c. */
#define must_be_request posix_must_be_request

struct posix_counts *posix_counts(struct os_dev *os)
{
	return &os->n;
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
	posix_count(&os->n.dma, 1);
	return 0;
}

void os_dma_free(struct os_dev *os, struct os_dma *dma)
{
	must_be_request(os, "os_dma_free");
	ram_free(os->ram, dma->priv, 1);
	free(dma->priv);
	*dma = (struct os_dma){ 0 };
	posix_count(&os->n.dma, -1);
}

int os_pages_alloc(struct os_dev *os, uint64_t size, struct os_pages *out)
{
	struct ram_run *runs;
	uint32_t n;
	int ret;

	must_be_request(os, "os_pages_alloc");
	/* Contiguous when RAM allows: clients then map one range. Else in
	 * 64 KiB granules, which Windows clients under Wine can still lay out
	 * as one range (file views start on 64 KiB boundaries only); else
	 * any pages, which only Linux clients can map. */
	ret = ram_alloc(os->ram, size / RAM_PAGE, true, &runs, &n);
	if (ret)
		ret = ram_alloc_granular(os->ram, size / RAM_PAGE, (64u << 10) / RAM_PAGE, &runs, &n);
	if (ret)
		ret = ram_alloc(os->ram, size / RAM_PAGE, false, &runs, &n);
	if (ret)
		return -VIRGO_ENOMEM;
	_Static_assert(sizeof(struct ram_run) == sizeof(struct os_sg), "run and sg share a layout");
	out->size = size;
	out->nsg = n;
	out->sg = (struct os_sg *)(void *)runs;
	out->priv = runs;
	posix_count(&os->n.pages, 1);
	return 0;
}

void os_pages_free(struct os_dev *os, struct os_pages *pages)
{
	must_be_request(os, "os_pages_free");
	ram_free(os->ram, pages->priv, pages->nsg);
	free(pages->priv);
	*pages = (struct os_pages){ 0 };
	posix_count(&os->n.pages, -1);
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
	if (bar != VPCI_BAR || offset > VPCI_BAR_SIZE || len > VPCI_BAR_SIZE - offset)
		return -VIRGO_EINVAL;
	return posix_mmio_new(os, &(struct os_mmio){ os, (uint32_t)offset, (uint32_t)len }, sizeof(struct os_mmio),
			      (void **)out);
}

void os_mmio_unmap(struct os_dev *os, struct os_mmio *m)
{
	posix_mmio_free(os, m);
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

int os_map_region(struct os_caller *c, uint8_t bar, uint64_t offset, uint64_t len, enum os_cache cache,
		  uint64_t *uaddr, void **cookie)
{
	/* virgo-host's device offers no host-visible region (yet): the core
	 * never gets here, as it has no region to place a blob in. */
	(void)c, (void)bar, (void)offset, (void)len, (void)cache, (void)uaddr, (void)cookie;
	return -VIRGO_ENOTSUP;
}

void os_unmap_region(struct os_caller *c, void *cookie)
{
	(void)c, (void)cookie;
}

uint64_t os_user_limit(struct os_caller *c)
{
	/* Addresses are offsets in the guest-RAM file: the client maps them. */
	(void)c;
	return UINT64_MAX;
}

uint64_t os_caller_owner(struct os_caller *c)
{
	return c ? c->owner : 0;
}

bool os_caller_cancelled(struct os_caller *c)
{
	struct pollfd p;

	if (!c || c->fd < 0)
		return false;
	/* The client waits for this very reply: a closed end means it died
	 * (or gave up), and nobody will read what the wait would answer. */
	p = (struct pollfd){ .fd = c->fd, .events = POLLRDHUP };
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}
