/* SPDX-License-Identifier: MIT */
/*
 * fake_sync.c: spin locks, mutexes, atomics, wait queues, virtual time and
 * interrupt delivery. Single-threaded: a lock is a flag the checks look at,
 * a wait is the moment the machine lets the device and the interrupt path
 * run, and time moves only when nothing else can happen.
 */
#include <stdio.h>
#include <string.h>

#include "fake_priv.h"
#include "t.h"

#define SPIN_MAGIC  0x5350494eu
#define MUTEX_MAGIC 0x4d555458u
#define WAITQ_MAGIC 0x57414954u

#define FAKE_BUSY_POLLS      5000000ull  /* os_time_ns calls without a wait */
#define FAKE_LONGEST_WAIT_NS (VIRGO_MAX_TIMEOUT_NS + 60000000000ull)

struct os_spin {
	struct fake_obj o;
	bool held;
};

struct os_mutex {
	struct fake_obj o;
	bool held;
};

struct os_waitq {
	struct fake_obj o;
	uint64_t gen;
};

/* p is a spin lock, mutex or wait queue (they start with struct fake_obj). */
static bool fake_obj_ok(const void *p, uint32_t magic, const char *what)
{
	const struct fake_obj *o = p;

	if (o && o->magic == magic)
		return true;
	fake_orphan_violation(what, p);
	return false;
}

/* ---- locks ----------------------------------------------------------------- */

struct os_spin *os_spin_create(struct os_dev *os)
{
	return fake_obj_new(os, sizeof(struct os_spin), SPIN_MAGIC, &os->st.spin, "os_spin_create");
}

void os_spin_destroy(struct os_spin *l)
{
	if (!l)
		return;
	if (!fake_obj_ok(l, SPIN_MAGIC, "os_spin_destroy"))
		return;
	fake_check_passive(l->o.os, "os_spin_destroy");
	if (l->held) {
		fake_violation(l->o.os, "os_spin_destroy of a held spin lock");
		l->o.os->spin_depth--;
	}
	fake_obj_free(&l->o, &l->o.os->st.spin);
}

void os_spin_lock(struct os_spin *l)
{
	struct os_dev *os;

	if (!fake_obj_ok(l, SPIN_MAGIC, "os_spin_lock"))
		return;
	os = l->o.os;
	if (os->ctx == FAKE_CTX_ISR)
		fake_violation(os, "os_spin_lock in ISR context");
	if (l->held) {
		fake_violation(os, "os_spin_lock of a spin lock already held (deadlock)");
		return;
	}
	fake_storm(os);
	l->held = true;
	os->spin_depth++;
	fpaged_update(os);
}

void os_spin_unlock(struct os_spin *l)
{
	if (!fake_obj_ok(l, SPIN_MAGIC, "os_spin_unlock"))
		return;
	if (!l->held) {
		fake_violation(l->o.os, "os_spin_unlock of a spin lock not held");
		return;
	}
	l->held = false;
	l->o.os->spin_depth--;
	fpaged_update(l->o.os);
}

struct os_mutex *os_mutex_create(struct os_dev *os)
{
	return fake_obj_new(os, sizeof(struct os_mutex), MUTEX_MAGIC, &os->st.mutex, "os_mutex_create");
}

void os_mutex_destroy(struct os_mutex *m)
{
	if (!m)
		return;
	if (!fake_obj_ok(m, MUTEX_MAGIC, "os_mutex_destroy"))
		return;
	fake_check_passive(m->o.os, "os_mutex_destroy");
	if (m->held)
		fake_violation(m->o.os, "os_mutex_destroy of a held mutex");
	fake_obj_free(&m->o, &m->o.os->st.mutex);
}

void os_mutex_lock(struct os_mutex *m)
{
	if (!fake_obj_ok(m, MUTEX_MAGIC, "os_mutex_lock"))
		return;
	fake_check_passive(m->o.os, "os_mutex_lock");
	if (m->held) {
		fake_violation(m->o.os, "os_mutex_lock of a mutex already held (deadlock)");
		return;
	}
	m->held = true;
}

void os_mutex_unlock(struct os_mutex *m)
{
	if (!fake_obj_ok(m, MUTEX_MAGIC, "os_mutex_unlock"))
		return;
	if (m->o.os->ctx != FAKE_CTX_REQUEST)
		fake_violation(m->o.os, "os_mutex_unlock in %s context", fake_ctx_name(m->o.os->ctx));
	if (!m->held) {
		fake_violation(m->o.os, "os_mutex_unlock of a mutex not held");
		return;
	}
	m->held = false;
}

void os_might_sleep(struct os_dev *os)
{
	fake_check_passive(os, "os_might_sleep");
}

/* ---- atomics --------------------------------------------------------------- */

uint32_t os_atomic_or32(volatile uint32_t *p, uint32_t v)
{
	return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}

uint32_t os_atomic_xchg32(volatile uint32_t *p, uint32_t v)
{
	return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}

uint64_t os_atomic_load64(volatile uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

void os_atomic_store64(volatile uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

/* ---- interrupts ------------------------------------------------------------ */

unsigned os_irq_msix_count(struct os_dev *os)
{
	return os->cfg.msix_count;
}

/* Interrupts run only inside waits on this one thread: none can be under
 * way when the core asks. It must ask from request context. */
void os_irq_sync(struct os_dev *os)
{
	fake_check_passive(os, "os_irq_sync");
}

void fake_attach_core(struct os_dev *os, struct gpu_dev *gpu)
{
	os->gpu = gpu;
}

int fake_gpu_init(struct os_dev *os, const struct gpu_params *p, struct gpu_dev **out)
{
	int ret;

	os->gpu = NULL;
	ret = gpu_init(os, p, &os->gpu);
	if (ret)
		os->gpu = NULL;
	*out = os->gpu;
	return ret;
}

void fake_gpu_fini(struct os_dev *os, struct gpu_dev *gpu)
{
	gpu_fini(gpu);
	os->gpu = NULL;
}

enum fake_ctx fake_context(struct os_dev *os)
{
	return os->ctx;
}

void fake_set_context(struct os_dev *os, enum fake_ctx ctx)
{
	os->ctx = ctx;
	fpaged_update(os);
}

unsigned fake_spin_depth(struct os_dev *os)
{
	return os->spin_depth;
}

void fake_set_irq_handler(struct os_dev *os, const struct fake_irq_handler *h)
{
	if (h)
		os->handler = *h;
	else
		memset(&os->handler, 0, sizeof(os->handler));
}

static bool fake_has_handler(struct os_dev *os)
{
	return os->handler.isr || os->gpu;
}

static bool fake_call_isr(struct os_dev *os, int msg)
{
	enum fake_ctx saved = os->ctx;
	unsigned depth = os->spin_depth;
	bool claimed;

	os->ctx = FAKE_CTX_ISR;
	fpaged_update(os);
	if (os->handler.isr)
		claimed = os->handler.isr(os->handler.arg, msg);
	else
		claimed = gpu_isr(os->gpu, msg);
	os->ctx = saved;
	fpaged_update(os);
	os->st.isr_calls++;
	if (!claimed)
		os->st.isr_unclaimed++;
	if (os->spin_depth != depth)
		fake_violation(os, "gpu_isr returned with %u spin lock(s) held", os->spin_depth - depth);
	return claimed;
}

static void fake_call_dpc(struct os_dev *os)
{
	enum fake_ctx saved = os->ctx;
	unsigned depth = os->spin_depth;

	os->ctx = FAKE_CTX_DPC;
	fpaged_update(os);
	if (os->handler.isr) {
		if (os->handler.dpc)
			os->handler.dpc(os->handler.arg);
	} else {
		gpu_dpc(os->gpu);
	}
	os->ctx = saved;
	fpaged_update(os);
	os->st.dpc_calls++;
	if (os->spin_depth != depth)
		fake_violation(os, "gpu_dpc returned with %u spin lock(s) held", os->spin_depth - depth);
}

void fake_set_irq_storm(struct os_dev *os, bool on)
{
	os->storm = on;
}

void fake_set_irq_connected(struct os_dev *os, bool connected)
{
	os->irq_off = !connected;
}

void fake_storm(struct os_dev *os)
{
	if (!os->storm || os->ctx != FAKE_CTX_REQUEST || os->in_delivery || !os->gpu || os->handler.isr)
		return;
	os->in_delivery = true;
	/* INTx: the line is shared; MSI-X: a spurious message. */
	if (fake_call_isr(os, os->cfg.msix_count ? 0 : -1))
		os->storm_dpc = true;
	if (os->storm_dpc && !os->spin_depth) {
		os->storm_dpc = false;
		fake_call_dpc(os);
	}
	os->in_delivery = false;
}

/* Delivers pending interrupts until none is left. Returns how many. */
static unsigned fake_deliver(struct os_dev *os)
{
	struct fake_dev *d = os->dev;
	unsigned n = 0;

	if (os->in_delivery || os->spin_depth || !fake_has_handler(os) || os->irq_off)
		return 0;
	os->in_delivery = true;
	for (unsigned round = 0; round < 1000; round++) {
		bool dpc = false;

		if (os->cfg.msix_count) {
			uint32_t pend = d->msix_pending;

			if (!pend)
				break;
			d->msix_pending = 0;
			for (int v = 0; v < FAKE_MAX_VECTORS; v++) {
				if (!(pend & (1u << v)))
					continue;
				dpc |= fake_call_isr(os, v);
				n++;
			}
		} else {
			if (!d->isr)
				break;
			dpc = fake_call_isr(os, -1);
			n++;
			if (d->isr) {
				fake_driver_error(os, "INTx: gpu_isr left the ISR status unread (%#x); "
						  "the line would stay asserted", d->isr);
				d->isr = 0;
			}
		}
		if (dpc || os->storm_dpc) {
			os->storm_dpc = false;
			fake_call_dpc(os);
		}
	}
	os->in_delivery = false;
	return n;
}

/* Answers what is due and delivers interrupts until nothing changes. */
static unsigned fake_progress(struct os_dev *os)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 100000; i++) {
		unsigned done = fdev_tick(os->dev);
		unsigned irqs = fake_deliver(os);

		n += irqs;
		if (!done && !irqs)
			return n;
	}
	fake_violation(os, "the core and the device keep each other busy forever");
	return n;
}

unsigned fake_run(struct os_dev *os)
{
	if (os->spin_depth)
		fake_violation(os, "test code runs with %u spin lock(s) held by the core", os->spin_depth);
	os->time_polls = 0;
	return fake_progress(os);
}

void fake_advance(struct os_dev *os, uint64_t ns)
{
	uint64_t target = os->now_ns + ns;

	os->time_polls = 0;
	for (;;) {
		uint64_t next;

		fake_progress(os);
		next = fdev_next_due(os->dev);
		if (next > target || next <= os->now_ns)
			break;
		os->now_ns = next;
	}
	os->now_ns = target;
	fake_progress(os);
}

/* ---- waiting and time ------------------------------------------------------ */

struct os_waitq *os_waitq_create(struct os_dev *os)
{
	return fake_obj_new(os, sizeof(struct os_waitq), WAITQ_MAGIC, &os->st.waitq, "os_waitq_create");
}

void os_waitq_destroy(struct os_waitq *wq)
{
	if (!wq)
		return;
	if (!fake_obj_ok(wq, WAITQ_MAGIC, "os_waitq_destroy"))
		return;
	fake_check_passive(wq->o.os, "os_waitq_destroy");
	fake_obj_free(&wq->o, &wq->o.os->st.waitq);
}

uint64_t os_waitq_seq(struct os_waitq *wq)
{
	if (!fake_obj_ok(wq, WAITQ_MAGIC, "os_waitq_seq"))
		return 0;
	return wq->gen;
}

void os_waitq_wake(struct os_waitq *wq)
{
	if (!fake_obj_ok(wq, WAITQ_MAGIC, "os_waitq_wake"))
		return;
	if (wq->o.os->ctx == FAKE_CTX_ISR)
		fake_violation(wq->o.os, "os_waitq_wake in ISR context");
	wq->gen++;
	wq->o.os->st.wakes++;
}

int os_waitq_wait(struct os_waitq *wq, uint64_t seq, uint64_t deadline_ns)
{
	struct os_dev *os;

	if (!fake_obj_ok(wq, WAITQ_MAGIC, "os_waitq_wait"))
		return -VIRGO_ETIMEDOUT;
	os = wq->o.os;
	fake_check_passive(os, "os_waitq_wait");
	os->st.waits++;
	os->time_polls = 0;
	if (os->ctx != FAKE_CTX_REQUEST || os->in_delivery) {
		/* Cannot block here (a violation already): time out without
		 * recursing into the interrupt path, and let time pass so a
		 * retry loop still ends. */
		if (deadline_ns > os->now_ns)
			os->now_ns = deadline_ns;
		os->st.wait_timeouts++;
		return -VIRGO_ETIMEDOUT;
	}
	if (deadline_ns > os->now_ns && deadline_ns - os->now_ns > FAKE_LONGEST_WAIT_NS) {
		fake_violation(os, "os_waitq_wait with a deadline %llu s away: waits must be bounded",
			       (unsigned long long)((deadline_ns - os->now_ns) / 1000000000ull));
		deadline_ns = os->now_ns + FAKE_LONGEST_WAIT_NS;
	}
	for (;;) {
		uint64_t next;

		fake_progress(os);
		if (wq->gen != seq)
			return 0;
		next = fdev_next_due(os->dev);
		if (next > deadline_ns || next <= os->now_ns)
			break;  /* nothing can change before the deadline */
		os->now_ns = next;
	}
	if (deadline_ns > os->now_ns)
		os->now_ns = deadline_ns;
	os->st.wait_timeouts++;
	return -VIRGO_ETIMEDOUT;
}

uint64_t os_time_ns(struct os_dev *os)
{
	if (++os->time_polls > FAKE_BUSY_POLLS) {
		if (os->time_polls == FAKE_BUSY_POLLS + 1)
			fake_violation(os, "os_time_ns polled %llu times without a wait: a busy-wait",
				       (unsigned long long)FAKE_BUSY_POLLS);
		os->now_ns += 1000000;  /* let the spinning loop time out */
	}
	return os->now_ns;
}
