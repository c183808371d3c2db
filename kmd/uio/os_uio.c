/* SPDX-License-Identifier: MIT */
/*
 * os.h for a Linux user-space PCI driver (see uio_machine.h): the KMD core
 * drives QEMU's real virtio-gpu from inside a guest. The Windows execution
 * rules are asserted as in host/os_host.c, and more strictly where a thread
 * knows it is the ISR: a breach is counted and logged, and the runner fails
 * on any.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <virgo/uapi.h>

#include "os.h"
#include "os_posix.h"
#include "uio_machine.h"

/* ---- execution contexts ---------------------------------------------------- */

/* The rule checks and the synchronisation live in kmd/posix/os_posix.c. */
void uio_set_irq_context(int isr, int dpc)
{
	posix_set_context(isr, dpc);
}

#define must_be_request posix_must_be_request
#define must_not_be_isr posix_must_not_be_isr

struct posix_counts *posix_counts(struct os_dev *os)
{
	return &os->n;
}

/* ---- logging ----------------------------------------------------------------- */

void os_log(struct os_dev *os, enum os_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[512];
	va_list ap;

	if ((int)level > os->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "kmd %s: %s\n", names[level & 3], line);
}

/* ---- the DMA arena --------------------------------------------------------------
 *
 * One hugetlbfs memfd; each of its 2 MiB pages is physically contiguous and
 * stays where it is (hugetlb pages are not swapped or compacted, and they are
 * locked besides). The pages are mapped once, in slot order, into one
 * virtual range: every allocation is contiguous there, so the kernel's own
 * copies are plain memcpy. */

static int pagemap_phys(int pm, const void *va, uint64_t *phys)
{
	uint64_t e;
	off_t off = (off_t)((uintptr_t)va / OS_PAGE_SIZE * sizeof(e));

	if (pread(pm, &e, sizeof(e), off) != (ssize_t)sizeof(e))
		return -errno;
	if (!(e & (1ull << 63)))
		return -ENOENT;          /* not present */
	e &= (1ull << 55) - 1;
	if (!e)
		return -EPERM;           /* PFNs hidden: not root */
	*phys = e * OS_PAGE_SIZE;
	return 0;
}

static uint32_t huge_free_pages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %lu", &n) == 1)
			break;
	fclose(f);
	return (uint32_t)n;
}

static uint64_t *sort_phys;

static int by_phys(const void *a, const void *b)
{
	uint64_t x = sort_phys[*(const uint32_t *)a], y = sort_phys[*(const uint32_t *)b];

	return x < y ? -1 : x > y;
}

int uio_arena_create(struct os_dev *os, uint32_t nhuge, enum uio_layout layout)
{
	struct uio_arena *a = &os->arena;
	uint64_t *filephys = NULL;
	uint32_t *order = NULL;
	uint8_t *tmp = MAP_FAILED, *resv = MAP_FAILED;
	size_t size;
	int pm = -1, ret = 0;

	*a = (struct uio_arena){ .fd = -1 };
	os->layout = layout;
	if (!nhuge)
		nhuge = huge_free_pages();
	if (nhuge < 4) {
		fprintf(stderr, "uio: %u free 2 MiB pages; reserve some (/proc/sys/vm/nr_hugepages)\n", nhuge);
		return -ENOMEM;
	}
	size = (size_t)nhuge * UIO_HUGE_SIZE;
	a->fd = memfd_create("virgo-dma", MFD_CLOEXEC | MFD_HUGETLB);
	if (a->fd < 0 || ftruncate(a->fd, (off_t)size) < 0) {
		ret = -errno;
		fprintf(stderr, "uio: hugetlb memfd of %u pages: %s\n", nhuge, strerror(-ret));
		goto out;
	}
	/* Fault every page in once to learn where it is. */
	tmp = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, a->fd, 0);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	filephys = calloc(nhuge, sizeof(*filephys));
	order = calloc(nhuge, sizeof(*order));
	a->phys = calloc(nhuge, sizeof(*a->phys));
	a->filepg = calloc(nhuge, sizeof(*a->filepg));
	a->used = calloc((size_t)nhuge * UIO_HUGE_PAGES, 1);
	if (tmp == MAP_FAILED || pm < 0 || !filephys || !order || !a->phys || !a->filepg || !a->used) {
		ret = tmp == MAP_FAILED || pm < 0 ? -errno : -ENOMEM;
		fprintf(stderr, "uio: arena setup: %s\n", strerror(-ret));
		goto out;
	}
	for (uint32_t i = 0; i < nhuge; i++) {
		uint64_t last;

		tmp[(size_t)i * UIO_HUGE_SIZE] = 0;
		ret = pagemap_phys(pm, tmp + (size_t)i * UIO_HUGE_SIZE, &filephys[i]);
		if (!ret)
			ret = pagemap_phys(pm, tmp + (size_t)(i + 1) * UIO_HUGE_SIZE - OS_PAGE_SIZE, &last);
		if (!ret && (filephys[i] & (UIO_HUGE_SIZE - 1) ||
			     last != filephys[i] + UIO_HUGE_SIZE - OS_PAGE_SIZE))
			ret = -EIO; /* not one 2 MiB page after all */
		if (ret) {
			fprintf(stderr, "uio: physical address of huge page %u: %s\n", i, strerror(-ret));
			goto out;
		}
		order[i] = i;
	}
	sort_phys = filephys;
	qsort(order, nhuge, sizeof(*order), by_phys);
	/* Slot order. Natural: ascending physical addresses, so neighbours
	 * merge where the kernel gave adjacent pages. Scatter: the lower and
	 * upper halves interleaved, so no two neighbours are adjacent. */
	for (uint32_t s = 0; s < nhuge; s++) {
		uint32_t k = layout == UIO_LAYOUT_NATURAL ? s : (s & 1) ? nhuge / 2 + s / 2 : s / 2;

		a->filepg[s] = order[k];
		a->phys[s] = filephys[order[k]];
	}
	if (layout == UIO_LAYOUT_SCATTER)
		for (uint32_t s = 0; s + 1 < nhuge; s++)
			if (a->phys[s] + UIO_HUGE_SIZE == a->phys[s + 1]) {
				fprintf(stderr, "uio: scatter layout has adjacent slots %u/%u\n", s, s + 1);
				ret = -EIO;
				goto out;
			}
	/* A 2 MiB-aligned virtual range, then each page into its slot. */
	resv = mmap(NULL, size + UIO_HUGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	a->va = (uint8_t *)(((uintptr_t)resv + UIO_HUGE_SIZE - 1) & ~(uintptr_t)(UIO_HUGE_SIZE - 1));
	if (a->va > resv)
		munmap(resv, (size_t)(a->va - resv));
	munmap(a->va + size, (size_t)(resv + size + UIO_HUGE_SIZE - (a->va + size)));
	for (uint32_t s = 0; s < nhuge; s++) {
		void *p = mmap(a->va + (size_t)s * UIO_HUGE_SIZE, UIO_HUGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED | MAP_POPULATE, a->fd, (off_t)a->filepg[s] * UIO_HUGE_SIZE);
		uint64_t phys = 0;

		if (p == MAP_FAILED || pagemap_phys(pm, p, &phys) || phys != a->phys[s]) {
			fprintf(stderr, "uio: slot %u does not show huge page %u\n", s, a->filepg[s]);
			ret = -EIO;
			goto out;
		}
	}
	if (mlock(a->va, size) < 0)
		fprintf(stderr, "uio: mlock of the arena: %s (going on: hugetlb pages stay put)\n", strerror(errno));
	a->nhuge = nhuge;
	a->npages = nhuge * UIO_HUGE_PAGES;
	a->free_pages = a->npages;
	fprintf(stderr, "uio: DMA arena: %u x 2 MiB pages (%u MiB) at %p, %s layout, physical %#" PRIx64 "..%#" PRIx64 "\n",
		nhuge, nhuge * 2, (void *)a->va, layout == UIO_LAYOUT_NATURAL ? "natural" : "scatter",
		filephys[order[0]], filephys[order[nhuge - 1]] + UIO_HUGE_SIZE);
out:
	if (tmp != MAP_FAILED)
		munmap(tmp, size);
	if (pm >= 0)
		close(pm);
	free(filephys);
	free(order);
	if (ret) {
		if (a->va)
			munmap(a->va, size);
		a->va = NULL;
		uio_arena_destroy(os);
	}
	return ret;
}

void uio_arena_destroy(struct os_dev *os)
{
	struct uio_arena *a = &os->arena;

	if (a->va)
		munmap(a->va, (size_t)a->nhuge * UIO_HUGE_SIZE);
	if (a->fd >= 0)
		close(a->fd);
	free(a->phys);
	free(a->filepg);
	free(a->used);
	*a = (struct uio_arena){ .fd = -1 };
}

static uint64_t page_phys(const struct uio_arena *a, uint32_t page)
{
	return a->phys[page / UIO_HUGE_PAGES] + (uint64_t)(page % UIO_HUGE_PAGES) * OS_PAGE_SIZE;
}

static bool range_free(const struct uio_arena *a, uint32_t start, uint32_t n)
{
	if (start > a->npages || n > a->npages - start)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (a->used[start + i])
			return false;
	return true;
}

/* Physically contiguous: no 2 MiB line inside that is a physical break. */
static bool range_contig(const struct uio_arena *a, uint32_t start, uint32_t n)
{
	for (uint32_t p = (start / UIO_HUGE_PAGES + 1) * UIO_HUGE_PAGES; p < start + n; p += UIO_HUGE_PAGES)
		if (page_phys(a, p - 1) + OS_PAGE_SIZE != page_phys(a, p))
			return false;
	return true;
}

/* os->lock held. First fit from the hint; UINT32_MAX when nothing fits. */
static uint32_t arena_first_fit(struct uio_arena *a, uint32_t n, bool contig)
{
	for (uint32_t pass = 0; pass < 2; pass++) {
		uint32_t p = pass ? 0 : a->hint, end = pass ? a->hint + n : a->npages;

		if (end > a->npages)
			end = a->npages;
		while (p + n <= end) {
			uint32_t i = 0;

			while (i < n && !a->used[p + i])
				i++;
			if (i < n) {
				p += i + 1;
				continue;
			}
			if (contig && !range_contig(a, p, n)) {
				p = (p / UIO_HUGE_PAGES + 1) * UIO_HUGE_PAGES;
				continue;
			}
			return p;
		}
	}
	return UINT32_MAX;
}

/* Scatter layout: a backing of two pages or more goes across a 2 MiB line
 * (a physical break), split unevenly, when such a place is free. Only the
 * lines of the arena's top quarter are used, so that straddling backings
 * do not cut the rest into pieces too small for large ones (which cross
 * lines anyway). */
static uint32_t arena_straddle(struct uio_arena *a, uint32_t n)
{
	uint32_t before = n / 3 ? n / 3 : 1;

	for (uint32_t s = a->nhuge - a->nhuge / 4; s < a->nhuge; s++) {
		uint32_t line = s * UIO_HUGE_PAGES;

		if (line >= before && range_free(a, line - before, n))
			return line - before;
	}
	return UINT32_MAX;
}

static int arena_alloc(struct os_dev *os, uint32_t n, bool contig, uint32_t *out)
{
	struct uio_arena *a = &os->arena;
	uint32_t p = UINT32_MAX;

	if (!n)
		return -VIRGO_EINVAL;
	pthread_mutex_lock(&os->lock);
	if (n <= a->free_pages) {
		if (!contig && n > 1 && os->layout == UIO_LAYOUT_SCATTER)
			p = arena_straddle(a, n);
		if (p == UINT32_MAX)
			p = arena_first_fit(a, n, contig);
	}
	if (p != UINT32_MAX) {
		memset(a->used + p, 1, n);
		a->free_pages -= n;
		a->hint = p + n < a->npages ? p + n : 0;
	}
	pthread_mutex_unlock(&os->lock);
	if (p == UINT32_MAX)
		return -VIRGO_ENOMEM;
	memset(a->va + (size_t)p * OS_PAGE_SIZE, 0, (size_t)n * OS_PAGE_SIZE);
	*out = p;
	return 0;
}

static void arena_free(struct os_dev *os, uint32_t p, uint32_t n)
{
	struct uio_arena *a = &os->arena;

	pthread_mutex_lock(&os->lock);
	for (uint32_t i = 0; i < n; i++) {
		if (!a->used[p + i])
			fprintf(stderr, "uio: page %u freed twice\n", p + i);
		a->used[p + i] = 0;
	}
	a->free_pages += n;
	pthread_mutex_unlock(&os->lock);
}

/* What priv points at, for DMA memory and backings. */
struct uio_block {
	uint32_t first; /* arena page */
	uint32_t n;
};

int os_dma_alloc(struct os_dev *os, size_t size, struct os_dma *out)
{
	struct uio_block *b;
	int ret;

	must_be_request(os, "os_dma_alloc");
	if (!size || size > (size_t)os->arena.npages * OS_PAGE_SIZE)
		return -VIRGO_ENOMEM;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -VIRGO_ENOMEM;
	b->n = (uint32_t)((size + OS_PAGE_SIZE - 1) / OS_PAGE_SIZE);
	ret = arena_alloc(os, b->n, true, &b->first);
	if (ret) {
		free(b);
		return ret;
	}
	out->va = os->arena.va + (size_t)b->first * OS_PAGE_SIZE;
	out->bus = page_phys(&os->arena, b->first);
	out->size = (size_t)b->n * OS_PAGE_SIZE;
	out->priv = b;
	posix_count(&os->n.dma, 1);
	return 0;
}

void os_dma_free(struct os_dev *os, struct os_dma *dma)
{
	struct uio_block *b = dma->priv;

	must_be_request(os, "os_dma_free");
	if (!b)
		return;
	arena_free(os, b->first, b->n);
	free(b);
	*dma = (struct os_dma){ 0 };
	posix_count(&os->n.dma, -1);
}

int os_pages_alloc(struct os_dev *os, uint64_t size, struct os_pages *out)
{
	struct uio_arena *a = &os->arena;
	struct uio_block *b;
	struct os_sg *sg;
	uint32_t nsg = 0;
	int ret;

	must_be_request(os, "os_pages_alloc");
	if (!size || size % OS_PAGE_SIZE || size / OS_PAGE_SIZE > a->npages)
		return -VIRGO_ENOMEM;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -VIRGO_ENOMEM;
	b->n = (uint32_t)(size / OS_PAGE_SIZE);
	/* At most one run per 2 MiB page touched, plus one. */
	sg = calloc(b->n / UIO_HUGE_PAGES + 2, sizeof(*sg));
	ret = sg ? arena_alloc(os, b->n, false, &b->first) : -VIRGO_ENOMEM;
	if (ret) {
		free(sg);
		free(b);
		return ret;
	}
	for (uint32_t i = 0; i < b->n; i++) {
		uint64_t phys = page_phys(a, b->first + i);

		if (nsg && sg[nsg - 1].bus + sg[nsg - 1].len == phys)
			sg[nsg - 1].len += OS_PAGE_SIZE;
		else
			sg[nsg++] = (struct os_sg){ phys, OS_PAGE_SIZE };
	}
	out->size = size;
	out->nsg = nsg;
	out->sg = sg;
	out->priv = b;
	posix_count(&os->n.pages, 1);
	pthread_mutex_lock(&os->lock);
	os->sg.allocs++;
	os->sg.multi_run += nsg > 1;
	os->sg.runs += nsg;
	if (nsg > os->sg.max_runs)
		os->sg.max_runs = nsg;
	if (size > os->sg.max_bytes)
		os->sg.max_bytes = size;
	pthread_mutex_unlock(&os->lock);
	return 0;
}

void os_pages_free(struct os_dev *os, struct os_pages *pages)
{
	struct uio_block *b = pages->priv;

	must_be_request(os, "os_pages_free");
	if (!b)
		return;
	arena_free(os, b->first, b->n);
	free(b);
	free(pages->sg);
	*pages = (struct os_pages){ 0 };
	posix_count(&os->n.pages, -1);
}

/* ---- PCI ---------------------------------------------------------------------------- */

int os_pci_cfg_read(struct os_dev *os, uint32_t offset, void *buf, uint32_t len)
{
	must_not_be_isr(os, "os_pci_cfg_read");
	if (offset > 4096 || len > 4096 - offset)
		return -VIRGO_EINVAL;
	return pread(os->cfg_fd, buf, len, offset) == (ssize_t)len ? 0 : -VIRGO_EIO;
}

struct os_mmio {
	struct os_dev *os;
	volatile uint8_t *base;
	uint32_t len;
};

/* os->lock held: maps all of resource<bar> the first time. */
static int bar_map(struct os_dev *os, uint8_t bar)
{
	char path[128];
	struct stat st;
	void *p;
	int fd;

	if (os->bar[bar].va)
		return 0;
	snprintf(path, sizeof(path), "%s/resource%u", os->path, bar);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0) {
		fprintf(stderr, "uio: %s: %s\n", path, fd < 0 ? strerror(errno) : "not a memory BAR");
		if (fd >= 0)
			close(fd);
		return -VIRGO_ENODEV;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "uio: mmap %s: %s\n", path, strerror(errno));
		return -VIRGO_ENODEV;
	}
	os->bar[bar] = (struct uio_bar){ p, (uint64_t)st.st_size };
	fprintf(stderr, "uio: BAR %u mapped: %" PRIu64 " KiB (%s)\n", bar, os->bar[bar].len >> 10, path);
	return 0;
}

void uio_bars_unmap(struct os_dev *os)
{
	for (unsigned i = 0; i < 6; i++) {
		if (os->bar[i].va)
			munmap(os->bar[i].va, (size_t)os->bar[i].len);
		os->bar[i] = (struct uio_bar){ 0 };
	}
}

int os_mmio_map(struct os_dev *os, uint8_t bar, uint64_t offset, uint64_t len, struct os_mmio **out)
{	int ret;

	must_be_request(os, "os_mmio_map");
	if (bar > 5 || !len || len > UINT32_MAX)
		return -VIRGO_EINVAL;
	pthread_mutex_lock(&os->lock);
	ret = bar_map(os, bar);
	if (!ret && (offset > os->bar[bar].len || len > os->bar[bar].len - offset))
		ret = -VIRGO_EINVAL;
	pthread_mutex_unlock(&os->lock);
	if (ret)
		return ret;
	return posix_mmio_new(os, &(struct os_mmio){ os, os->bar[bar].va + offset, (uint32_t)len },
			      sizeof(struct os_mmio), (void **)out);
}

void os_mmio_unmap(struct os_dev *os, struct os_mmio *m)
{
	posix_mmio_free(os, m);
}

/* Each access is one load or store of its width, as the device expects. */
static bool in_window(struct os_mmio *m, uint32_t off, unsigned w)
{
	return off <= m->len && w <= m->len - off && !(off & (w - 1));
}

uint8_t os_mmio_read8(struct os_mmio *m, uint32_t off)
{
	return in_window(m, off, 1) ? *(volatile uint8_t *)(m->base + off) : 0xff;
}

uint16_t os_mmio_read16(struct os_mmio *m, uint32_t off)
{
	return in_window(m, off, 2) ? *(volatile uint16_t *)(void *)(m->base + off) : 0xffff;
}

uint32_t os_mmio_read32(struct os_mmio *m, uint32_t off)
{
	return in_window(m, off, 4) ? *(volatile uint32_t *)(void *)(m->base + off) : ~0u;
}

void os_mmio_write8(struct os_mmio *m, uint32_t off, uint8_t v)
{
	must_not_be_isr(m->os, "os_mmio_write8");
	if (in_window(m, off, 1))
		*(volatile uint8_t *)(m->base + off) = v;
}

void os_mmio_write16(struct os_mmio *m, uint32_t off, uint16_t v)
{
	must_not_be_isr(m->os, "os_mmio_write16");
	if (in_window(m, off, 2))
		*(volatile uint16_t *)(void *)(m->base + off) = v;
}

void os_mmio_write32(struct os_mmio *m, uint32_t off, uint32_t v)
{
	must_not_be_isr(m->os, "os_mmio_write32");
	if (in_window(m, off, 4))
		*(volatile uint32_t *)(void *)(m->base + off) = v;
}

unsigned os_irq_msix_count(struct os_dev *os)
{
	(void)os;
	return 0; /* uio_pci_generic gives the INTx line only */
}

/* ---- the caller's memory ----------------------------------------------------------------------
 * The caller is this process. The kernel reads and writes its memory the
 * way a kernel does, through an interface that reports a bad address
 * instead of faulting: process_vm_readv/writev on our own pid. The first
 * 64 KiB are never valid (NULL and small integers taken for pointers). */

#define USER_LOW_LIMIT (64u << 10)

static bool user_range_ok(uint64_t uaddr, size_t len)
{
	return uaddr >= USER_LOW_LIMIT && uaddr + len >= uaddr && uaddr + len <= (uint64_t)UINTPTR_MAX;
}

static struct os_dev *the_os; /* for the rule checks: callers carry no device */

int os_copy_from_user(struct os_caller *c, void *dst, uint64_t uaddr, size_t len)
{
	struct iovec local = { dst, len }, remote = { (void *)(uintptr_t)uaddr, len };

	if (the_os)
		must_be_request(the_os, "os_copy_from_user");
	if (!c || !user_range_ok(uaddr, len))
		return -VIRGO_EFAULT;
	if (!len)
		return 0;
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -VIRGO_EFAULT;
}

int os_copy_to_user(struct os_caller *c, uint64_t uaddr, const void *src, size_t len)
{
	struct iovec local = { (void *)src, len }, remote = { (void *)(uintptr_t)uaddr, len };

	if (the_os)
		must_be_request(the_os, "os_copy_to_user");
	if (!c || !user_range_ok(uaddr, len))
		return -VIRGO_EFAULT;
	if (!len)
		return 0;
	return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -VIRGO_EFAULT;
}

/* A user mapping is a view of its own: the memfd's 2 MiB pages that hold the
 * backing, mapped again one after the other in arena order. It aliases the
 * pages the device reads and writes, and unmapping it really takes it away
 * (a later access by the client faults, as it would on Windows). */
struct uio_user_map {
	struct os_dev *os;
	struct os_caller *caller;
	uint8_t *base;
	size_t len;
};

int os_map_user(struct os_caller *c, struct os_pages *pages, uint64_t *uaddr, void **cookie)
{
	struct uio_block *b = pages->priv;
	struct os_dev *os = the_os;
	struct uio_user_map *m;
	uint32_t s0, s1;
	uint8_t *resv, *base;
	size_t len;

	if (!os || !c || !b)
		return -VIRGO_EFAULT;
	must_be_request(os, "os_map_user");
	s0 = b->first / UIO_HUGE_PAGES;
	s1 = (b->first + b->n - 1) / UIO_HUGE_PAGES;
	len = (size_t)(s1 - s0 + 1) * UIO_HUGE_SIZE;
	resv = mmap(NULL, len + UIO_HUGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return -VIRGO_ENOMEM;
	base = (uint8_t *)(((uintptr_t)resv + UIO_HUGE_SIZE - 1) & ~(uintptr_t)(UIO_HUGE_SIZE - 1));
	if (base > resv)
		munmap(resv, (size_t)(base - resv));
	munmap(base + len, (size_t)(resv + len + UIO_HUGE_SIZE - (base + len)));
	for (uint32_t s = s0; s <= s1; s++) {
		void *p = mmap(base + (size_t)(s - s0) * UIO_HUGE_SIZE, UIO_HUGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, os->arena.fd, (off_t)os->arena.filepg[s] * UIO_HUGE_SIZE);

		if (p == MAP_FAILED) {
			munmap(base, len);
			return -VIRGO_ENOMEM;
		}
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		munmap(base, len);
		return -VIRGO_ENOMEM;
	}
	*m = (struct uio_user_map){ os, c, base, len };
	*uaddr = (uint64_t)(uintptr_t)(base + (size_t)(b->first % UIO_HUGE_PAGES) * OS_PAGE_SIZE);
	*cookie = m;
	c->maps++;
	posix_count(&os->n.maps, 1);
	return 0;
}

void os_unmap_user(struct os_caller *c, void *cookie)
{
	struct uio_user_map *m = cookie;

	if (!m)
		return;
	must_be_request(m->os, "os_unmap_user");
	/* Without a caller (CLOSE after a missed cleanup) the OS layer still
	 * knows the mapping: in-guest it is this process's anyway. */
	if (c && c != m->caller)
		posix_violation(m->os, "os_unmap_user by another caller");
	munmap(m->base, m->len);
	m->caller->maps--;
	posix_count(&m->os->n.maps, -1);
	free(m);
}

void uio_set_os(struct os_dev *os)
{
	the_os = os;
}

/* The host-visible region: a view of its own of the BAR's resource file
 * (sysfs maps BARs uncached; write-combining through resourceN_wc where
 * the BAR is prefetchable). Linux offers no cached mapping of a BAR to
 * user space, so CACHED gets write-combining or uncached: slower, never
 * less coherent. */
struct uio_region_map {
	struct os_dev *os;
	struct os_caller *caller;
	void *base;
	size_t len;
};

int os_map_region(struct os_caller *c, uint8_t bar, uint64_t offset, uint64_t len, enum os_cache cache,
		  uint64_t *uaddr, void **cookie)
{
	struct os_dev *os = the_os;
	struct uio_region_map *m;
	char path[128];
	uint64_t delta = offset % OS_PAGE_SIZE;
	void *p = MAP_FAILED;
	int fd = -1;

	if (!os || !c || bar > 5 || !len)
		return -VIRGO_EFAULT;
	must_be_request(os, "os_map_region");
	if (cache != OS_CACHE_UNCACHED) {
		snprintf(path, sizeof(path), "%s/resource%u_wc", os->path, bar);
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(path, sizeof(path), "%s/resource%u", os->path, bar);
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0) {
		fprintf(stderr, "uio: %s: %s\n", path, strerror(errno));
		return -VIRGO_ENODEV;
	}
	p = mmap(NULL, (size_t)(len + delta), PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(offset - delta));
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "uio: mmap %s at %#llx+%#llx: %s\n", path, (unsigned long long)offset,
			(unsigned long long)len, strerror(errno));
		return -VIRGO_ENOMEM;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		munmap(p, (size_t)(len + delta));
		return -VIRGO_ENOMEM;
	}
	*m = (struct uio_region_map){ os, c, p, (size_t)(len + delta) };
	*uaddr = (uint64_t)(uintptr_t)p + delta;
	*cookie = m;
	c->maps++;
	posix_count(&os->n.maps, 1);
	return 0;
}

void os_unmap_region(struct os_caller *c, void *cookie)
{
	struct uio_region_map *m = cookie;

	if (!m)
		return;
	must_be_request(m->os, "os_unmap_region");
	if (c && c != m->caller)
		posix_violation(m->os, "os_unmap_region by another caller");
	munmap(m->base, m->len);
	m->caller->maps--;
	posix_count(&m->os->n.maps, -1);
	free(m);
}

uint64_t os_user_limit(struct os_caller *c)
{
	(void)c;
	return UINTPTR_MAX;
}

uint64_t os_caller_owner(struct os_caller *c)
{
	/* The guest program is one process, whatever handles it opens. */
	return c ? 1 : 0;
}

bool os_caller_cancelled(struct os_caller *c)
{
	(void)c;
	return false;
}
