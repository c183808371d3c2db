/* SPDX-License-Identifier: MIT */
#include "os_posix.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virgo/uapi.h>

static _Thread_local int in_isr;
static _Thread_local int in_dpc;
static _Thread_local int spin_depth;

void posix_set_context(int isr, int dpc)
{
	in_isr = isr;
	in_dpc = dpc;
}

void posix_count(int64_t *field, int delta)
{
	__atomic_add_fetch(field, delta, __ATOMIC_RELAXED);
}

void posix_violation(struct os_dev *os, const char *what)
{
	posix_count(&posix_counts(os)->violations, 1);
	os_log(os, OS_LOG_ERR, "execution rule broken: %s (isr %d, dpc %d, spin depth %d)", what, in_isr, in_dpc,
	       spin_depth);
}

void posix_must_be_request(struct os_dev *os, const char *what)
{
	if (in_isr || in_dpc || spin_depth)
		posix_violation(os, what);
}

void posix_must_not_be_isr(struct os_dev *os, const char *what)
{
	if (in_isr)
		posix_violation(os, what);
}

void os_might_sleep(struct os_dev *os)
{
	posix_must_be_request(os, "a blocking call");
}

/* ---- pool memory ----
 * A user-space heap does not page out under the core (the QEMU guest's
 * driver runs mlockall'd; the host's is not a real kernel): paged and
 * non-paged are one heap, and the rules, not the memory, are checked. */
void *os_alloc(struct os_dev *os, size_t size, unsigned flags)
{
	void *p;

	(void)flags;
	posix_must_be_request(os, "os_alloc");
	p = calloc(1, size ? size : 1);
	if (p)
		posix_count(&posix_counts(os)->allocs, 1);
	return p;
}

void os_free(struct os_dev *os, void *p)
{
	if (!p)
		return;
	posix_must_be_request(os, "os_free");
	free(p);
	posix_count(&posix_counts(os)->allocs, -1);
}

int posix_mmio_new(struct os_dev *os, const void *rec, size_t size, void **out)
{
	void *m;

	posix_must_be_request(os, "os_mmio_map");
	m = malloc(size);
	if (!m)
		return -VIRGO_ENOMEM;
	memcpy(m, rec, size);
	posix_count(&posix_counts(os)->mmio, 1);
	*out = m;
	return 0;
}

void posix_mmio_free(struct os_dev *os, void *m)
{
	posix_must_be_request(os, "os_mmio_unmap");
	free(m);
	posix_count(&posix_counts(os)->mmio, -1);
}

uint32_t os_atomic_or32(volatile uint32_t *p, uint32_t v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
uint32_t os_atomic_xchg32(volatile uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
uint64_t os_atomic_load64(volatile uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
void os_atomic_store64(volatile uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

/* Both kinds of lock are pthread mutexes; what differs is what may be done
 * while one is held, which the depth counter checks. */
struct os_spin {
	struct os_dev *os;
	pthread_mutex_t m;
};

struct os_mutex {
	struct os_dev *os;
	pthread_mutex_t m;
};

struct os_spin *os_spin_create(struct os_dev *os)
{
	struct os_spin *l;

	posix_must_be_request(os, "os_spin_create");
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->os = os;
	pthread_mutex_init(&l->m, NULL);
	posix_count(&posix_counts(os)->spins, 1);
	return l;
}

void os_spin_destroy(struct os_spin *l)
{
	posix_must_be_request(l->os, "os_spin_destroy");
	pthread_mutex_destroy(&l->m);
	posix_count(&posix_counts(l->os)->spins, -1);
	free(l);
}

void os_spin_lock(struct os_spin *l)
{
	posix_must_not_be_isr(l->os, "os_spin_lock");
	pthread_mutex_lock(&l->m);
	spin_depth++;
}

void os_spin_unlock(struct os_spin *l)
{
	if (spin_depth <= 0)
		posix_violation(l->os, "os_spin_unlock without the lock");
	spin_depth--;
	pthread_mutex_unlock(&l->m);
}

struct os_mutex *os_mutex_create(struct os_dev *os)
{
	struct os_mutex *l;

	posix_must_be_request(os, "os_mutex_create");
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->os = os;
	pthread_mutex_init(&l->m, NULL);
	posix_count(&posix_counts(os)->mutexes, 1);
	return l;
}

void os_mutex_destroy(struct os_mutex *l)
{
	posix_must_be_request(l->os, "os_mutex_destroy");
	pthread_mutex_destroy(&l->m);
	posix_count(&posix_counts(l->os)->mutexes, -1);
	free(l);
}

void os_mutex_lock(struct os_mutex *l)
{
	posix_must_be_request(l->os, "os_mutex_lock");
	pthread_mutex_lock(&l->m);
}

void os_mutex_unlock(struct os_mutex *l)
{
	pthread_mutex_unlock(&l->m);
}

struct os_waitq {
	struct os_dev *os;
	pthread_mutex_t m;
	pthread_cond_t c;
	uint64_t seq;
};

struct os_waitq *os_waitq_create(struct os_dev *os)
{
	struct os_waitq *w;
	pthread_condattr_t a;

	posix_must_be_request(os, "os_waitq_create");
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->os = os;
	pthread_mutex_init(&w->m, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&w->c, &a);
	pthread_condattr_destroy(&a);
	posix_count(&posix_counts(os)->waitqs, 1);
	return w;
}

void os_waitq_destroy(struct os_waitq *w)
{
	posix_must_be_request(w->os, "os_waitq_destroy");
	pthread_cond_destroy(&w->c);
	pthread_mutex_destroy(&w->m);
	posix_count(&posix_counts(w->os)->waitqs, -1);
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

	posix_must_be_request(w->os, "os_waitq_wait");
	pthread_mutex_lock(&w->m);
	while (w->seq == seq && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&w->c, &w->m, &ts);
	ret = w->seq == seq ? -VIRGO_ETIMEDOUT : 0;
	pthread_mutex_unlock(&w->m);
	return ret;
}

void os_waitq_wake(struct os_waitq *w)
{
	posix_must_not_be_isr(w->os, "os_waitq_wake");
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
