/* SPDX-License-Identifier: MIT */
/*
 * fake_os.c: the machine around the core: creating and freeing it, logging,
 * violations, instrumentation and fault injection, os_alloc, and the
 * bookkeeping of OS objects. See fake.h for the model.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_priv.h"
#include "t.h"

#define ALLOC_MAGIC 0x414c4f43u

#define FAKE_START_NS   1000000000ull  /* the clock starts at 1 s */
#define FAKE_MAX_STACKS 8              /* stack traces printed per machine */

/* ASan prints a symbolised stack with this; without ASan it is absent. */
extern void __sanitizer_print_stack_trace(void) __attribute__((weak));

struct fake_alloc_hdr {
	_Alignas(16) uint64_t magic;
	uint64_t size;
	uint64_t seq;
	struct fake_alloc_hdr *prev, *next;
};

static struct os_dev *fake_machines;

/* ---- messages -------------------------------------------------------------- */

static void fake_keep(struct os_dev *os, const char *msg)
{
	snprintf(os->log[os->log_next], sizeof(os->log[0]), "%s", msg);
	os->log_next = (os->log_next + 1) % FAKE_LOG_KEEP;
	if (os->log_n < FAKE_LOG_KEEP)
		os->log_n++;
}

void os_log(struct os_dev *os, enum os_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "ERR", "WARN", "INFO", "DEBUG" };
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fake_keep(os, msg);
	if (os->verbose)
		fprintf(stderr, "[virgo %s] %s\n", (unsigned)level < 4 ? names[level] : "?", msg);
}

void fake_note(struct os_dev *os, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (os->verbose)
		fprintf(stderr, "[fake] %s\n", msg);
}

static void fake_vviolation(struct os_dev *os, const char *kind, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	os->st.violations++;
	fake_keep(os, msg);
	if (!os->strict) {
		/* The test provokes this on purpose and checks the counters. */
		if (os->verbose)
			fprintf(stderr, "[fake] expected %s: %s\n", kind, msg);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "*** %s [%s]: %s\n", kind, t_current() ? t_current() : "-", msg);
	if (__sanitizer_print_stack_trace && os->stacks_printed < FAKE_MAX_STACKS) {
		os->stacks_printed++;
		__sanitizer_print_stack_trace();
	}
	t_fail("(fake)", 0, "%s: %s", kind, msg);
}

void fake_violation(struct os_dev *os, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fake_vviolation(os, "VIOLATION", fmt, ap);
	va_end(ap);
}

void fake_driver_error(struct os_dev *os, const char *fmt, ...)
{
	va_list ap;

	if (os->dev)
		os->dev->st.driver_errors++;
	va_start(ap, fmt);
	fake_vviolation(os, "DRIVER ERROR (device side)", fmt, ap);
	va_end(ap);
}

void fake_check_passive(struct os_dev *os, const char *what)
{
	fake_storm(os);
	if (os->ctx != FAKE_CTX_REQUEST)
		fake_violation(os, "%s called in %s context", what, fake_ctx_name(os->ctx));
	if (os->spin_depth)
		fake_violation(os, "%s called with %u spin lock(s) held", what, os->spin_depth);
}

const char *fake_log_last(struct os_dev *os, unsigned i)
{
	if (i >= os->log_n)
		return NULL;
	return os->log[(os->log_next + FAKE_LOG_KEEP - 1 - i) % FAKE_LOG_KEEP];
}

bool fake_log_contains(struct os_dev *os, const char *needle)
{
	for (unsigned i = 0; i < os->log_n; i++)
		if (strstr(fake_log_last(os, i), needle))
			return true;
	return false;
}

void fake_log_clear(struct os_dev *os)
{
	os->log_n = 0;
	os->log_next = 0;
}

/* ---- instrumentation and injection ----------------------------------------- */

const struct fake_stats *fake_stats(struct os_dev *os)
{
	return &os->st;
}

bool fake_inject_alloc(struct os_dev *os)
{
	os->st.alloc_attempts++;
	if (os->fail_at && (os->st.alloc_attempts == os->fail_at ||
			    (os->fail_sticky && os->st.alloc_attempts > os->fail_at))) {
		os->st.alloc_injected++;
		return true;
	}
	return false;
}

bool fake_inject_copy(struct os_dev *os)
{
	os->st.copy_attempts++;
	return os->copy_fail_at && os->st.copy_attempts == os->copy_fail_at;
}

void fake_fail_alloc(struct os_dev *os, unsigned k)
{
	os->fail_at = k ? os->st.alloc_attempts + k : 0;
	os->fail_sticky = false;
}

void fake_fail_alloc_from(struct os_dev *os, unsigned k)
{
	os->fail_at = k ? os->st.alloc_attempts + k : 0;
	os->fail_sticky = true;
}

void fake_fail_copy(struct os_dev *os, unsigned k)
{
	os->copy_fail_at = k ? os->st.copy_attempts + k : 0;
}

unsigned fake_leaks(struct os_dev *os)
{
	const struct { const char *name; const struct fake_count *c; } kinds[] = {
		{ "os_alloc", &os->st.alloc },       { "os_dma_alloc", &os->st.dma },
		{ "os_pages_alloc", &os->st.pages }, { "os_spin_create", &os->st.spin },
		{ "os_mutex_create", &os->st.mutex }, { "os_waitq_create", &os->st.waitq },
		{ "os_mmio_map", &os->st.mmio },     { "os_map_user", &os->st.user_map },
	};
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!kinds[i].c->live)
			continue;
		n++;
		if (!fake_loud(os))
			continue;
		fflush(stdout);
		fprintf(stderr, "*** LEAK [%s]: %llu of %llu %s still live\n",
			t_current() ? t_current() : "-", (unsigned long long)kinds[i].c->live,
			(unsigned long long)kinds[i].c->total, kinds[i].name);
	}
	if (os->st.alloc.live && fake_loud(os)) {
		unsigned shown = 0;

		for (struct fake_alloc_hdr *h = os->allocs; h && shown < 8; h = h->next, shown++)
			fprintf(stderr, "      os_alloc #%llu: %llu bytes\n",
				(unsigned long long)h->seq, (unsigned long long)h->size);
	}
	return n;
}

/* ---- memory ---------------------------------------------------------------- */

void *os_alloc(struct os_dev *os, size_t size, unsigned flags)
{
	struct fake_alloc_hdr *h;

	fake_check_passive(os, "os_alloc");
	if (flags & ~OS_MEM_NONPAGED)
		fake_violation(os, "os_alloc: unknown flags %#x", flags);
	if (fake_inject_alloc(os))
		return NULL;
	if (size > ((size_t)1 << 40))
		return NULL;
	if (os->paged && !(flags & OS_MEM_NONPAGED))
		h = fpaged_alloc(os, sizeof(*h) + size);
	else
		h = calloc(1, sizeof(*h) + size);
	if (!h)
		return NULL;
	h->magic = ALLOC_MAGIC;
	h->size = size;
	h->seq = os->st.alloc.total + 1;
	h->next = os->allocs;
	if (os->allocs)
		os->allocs->prev = h;
	os->allocs = h;
	os->st.alloc.live++;
	os->st.alloc.total++;
	os->st.alloc_bytes += size;
	return h + 1;
}

static void fake_alloc_drop(struct os_dev *os, struct fake_alloc_hdr *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		os->allocs = h->next;
	if (h->next)
		h->next->prev = h->prev;
	os->st.alloc.live--;
	os->st.alloc_bytes -= h->size;
	h->magic = 0;
	if (fpaged_owns(os, h))
		fpaged_free(os, h);
	else
		free(h);
}

void os_free(struct os_dev *os, void *p)
{
	struct fake_alloc_hdr *h;

	fake_check_passive(os, "os_free");
	if (!p)
		return;
	h = (struct fake_alloc_hdr *)p - 1;
	if (h->magic != ALLOC_MAGIC) {
		fake_violation(os, "os_free(%p): not from os_alloc, or freed twice", p);
		return;
	}
	fake_alloc_drop(os, h);
}

/* ---- objects --------------------------------------------------------------- */

void *fake_obj_new(struct os_dev *os, size_t size, uint32_t magic, struct fake_count *count,
		   const char *what)
{
	struct fake_obj *o;

	fake_check_passive(os, what);
	if (fake_inject_alloc(os))
		return NULL;
	o = calloc(1, size);
	if (!o)
		return NULL;
	o->magic = magic;
	o->os = os;
	o->next = os->objs;
	if (os->objs)
		os->objs->prev = o;
	os->objs = o;
	count->live++;
	count->total++;
	return o;
}

void fake_obj_free(struct fake_obj *o, struct fake_count *count)
{
	struct os_dev *os = o->os;

	if (o->prev)
		o->prev->next = o->next;
	else
		os->objs = o->next;
	if (o->next)
		o->next->prev = o->prev;
	count->live--;
	o->magic = 0;
	free(o);
}

/* ---- the machine ----------------------------------------------------------- */

void fake_config_init(struct fake_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ram_size = 64ull << 20;
	c->features = VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1) |
		      VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) |
		      VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID);
	c->ctrlq_size = 64;
	c->cursorq_size = 16;
	c->msix_count = 3;
	c->num_capsets = 2;
	c->num_scanouts = 1;
}

static void fake_after_each(bool failed)
{
	while (fake_machines) {
		struct os_dev *os = fake_machines;

		if (!failed) {
			fflush(stdout);
			fprintf(stderr, "*** [%s]: the test did not free its machine\n",
				t_current() ? t_current() : "-");
			t_fail("(fake)", 0, "machine not freed by the test");
		}
		/* Whatever a failed test left behind is no news: free quietly. */
		os->strict = !failed;
		if (failed)
			os->gpu = NULL;
		fake_machine_free(os);
	}
}

struct os_dev *fake_machine_new(const struct fake_config *c)
{
	struct os_dev *os = calloc(1, sizeof(*os));
	const char *v = getenv("VIRGO_TEST_VERBOSE");

	if (!os)
		return NULL;
	t_after_each(fake_after_each);
	os->magic = FAKE_OS_MAGIC;
	if (c)
		os->cfg = *c;
	else
		fake_config_init(&os->cfg);
	os->strict = true;
	os->ctx = FAKE_CTX_REQUEST;
	os->now_ns = FAKE_START_NS;
	os->verbose = v && *v && strcmp(v, "0");
	if (os->cfg.msix_count > FAKE_MAX_VECTORS)
		os->cfg.msix_count = FAKE_MAX_VECTORS;
	if (fram_init(&os->ram, os->cfg.ram_size)) {
		fprintf(stderr, "fake: cannot set up %llu bytes of guest RAM\n",
			(unsigned long long)os->cfg.ram_size);
		free(os);
		return NULL;
	}
	if (fdev_create(os, &os->cfg, &os->dev)) {
		fram_fini(&os->ram);
		free(os);
		return NULL;
	}
	if (os->cfg.paged_guard && fpaged_create(os)) {
		fdev_destroy(os->dev);
		fram_fini(&os->ram);
		free(os);
		return NULL;
	}
	os->next = fake_machines;
	fake_machines = os;
	return os;
}

void fake_orphan_violation(const char *what, const void *obj)
{
	struct os_dev *os = fake_machines;

	if (os) {
		fake_violation(os, "%s on a %s object %p", what, obj ? "dead or foreign" : "NULL", obj);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "*** VIOLATION [%s]: %s on a %s object %p\n", t_current() ? t_current() : "-",
		what, obj ? "dead or foreign" : "NULL", obj);
	t_fail("(fake)", 0, "%s on a %s object", what, obj ? "dead or foreign" : "NULL");
}

struct fake_dev *fake_dev_of(struct os_dev *os)
{
	return os->dev;
}

void fake_set_strict(struct os_dev *os, bool strict)
{
	os->strict = strict;
}

unsigned fake_machine_free(struct os_dev *os)
{
	unsigned problems = 0;
	const char *test = t_current() ? t_current() : "-";

	for (struct os_dev **pp = &fake_machines; *pp; pp = &(*pp)->next) {
		if (*pp == os) {
			*pp = os->next;
			break;
		}
	}
	fflush(stdout);
	if (os->gpu) {
		if (fake_loud(os))
			fprintf(stderr, "*** [%s]: the core is still attached (no gpu_fini?)\n", test);
		problems++;
		os->gpu = NULL;
	}
	if (os->spin_depth) {
		if (fake_loud(os))
			fprintf(stderr, "*** [%s]: %u spin lock(s) still held\n", test, os->spin_depth);
		problems++;
	}
	problems += fake_leaks(os);
	problems += fuser_machine_gone(os);
	fdev_destroy(os->dev);
	os->dev = NULL;
	fram_free_leftovers(os);
	while (os->allocs)
		fake_alloc_drop(os, os->allocs);
	fpaged_destroy(os);
	while (os->objs) {
		struct fake_obj *o = os->objs;

		os->objs = o->next;
		o->magic = 0;
		free(o);
	}
	if (problems && os->strict)
		t_fail("(fake)", 0, "fake_machine_free found %u problem(s)", problems);
	fram_fini(&os->ram);
	os->magic = 0;
	free(os);
	return problems;
}
