/* SPDX-License-Identifier: MIT */
/* Fences: the device timeline of sequence numbers (fence.h), and waiting
 * for it in request context, with the stall detection that turns a fence
 * the device never signals into a lost device. */
#include "fence.h"

#include <stddef.h>

#include "gpu.h"

void fence_init(struct fence_timeline *t, uint64_t first, bool wire31)
{
	*t = (struct fence_timeline){ .wire31 = wire31 };
	t->issued = first ? first - 1 : 0;
	t->completed = t->issued;
}

uint64_t fence_wire_id(const struct fence_timeline *t, uint64_t seq)
{
	if (!t->wire31)
		return seq;
	return 1 + (seq - 1) % FENCE_WIRE31_MAX;
}

bool fence_can_issue(const struct fence_timeline *t)
{
	uint64_t next = t->issued + 1;

	if (t->wire31 && fence_wire_id(t, next) == 1 && next != 1)
		return t->head == NULL;
	return true;
}

uint64_t fence_issue(struct fence_timeline *t, struct fence_node *n)
{
	n->seq = ++t->issued;
	n->next = NULL;
	n->prev = t->tail;
	if (t->tail)
		t->tail->next = n;
	else
		t->head = n;
	t->tail = n;
	return n->seq;
}

bool fence_retire(struct fence_timeline *t, struct fence_node *n)
{
	bool was_head = t->head == n;

	if (n->prev)
		n->prev->next = n->next;
	else
		t->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		t->tail = n->prev;
	n->prev = n->next = NULL;
	if (!was_head)
		return false;
	t->completed = t->head ? t->head->seq - 1 : t->issued;
	return true;
}

void fence_retire_all(struct fence_timeline *t)
{
	while (t->head)
		fence_retire(t, t->head);
	t->completed = t->issued;
}

bool fence_signalled(const struct fence_timeline *t, uint64_t seq)
{
	return seq <= t->completed;
}

/* ---- waiting ---------------------------------------------------------------- */

bool gpu_fence_signalled(struct gpu_dev *dev, uint64_t seq)
{
	bool done;

	os_spin_lock(dev->qlock);
	done = fence_signalled(&dev->timeline, seq);
	os_spin_unlock(dev->qlock);
	return done;
}

void gpu_fence_record_err(struct gpu_dev *dev, uint64_t seq, uint32_t ctx_id, int err)
{
	struct gpu_err *e = &dev->errs[dev->err_next++ % GPU_ERR_LOG];

	e->seq = seq;
	e->ctx_id = ctx_id;
	e->err = err;
}

static int gpu_fence_err(struct gpu_dev *dev, uint64_t seq, uint32_t ctx_id)
{
	int err = 0;

	os_spin_lock(dev->qlock);
	for (unsigned i = 0; i < GPU_ERR_LOG; i++)
		if (dev->errs[i].seq == seq && dev->errs[i].ctx_id == ctx_id && seq)
			err = dev->errs[i].err;
	os_spin_unlock(dev->qlock);
	return err;
}

/*
 * The timeline completes in order, so a fenced request the device never
 * answers (an answer lost, a hung GPU) holds back every later fence of the
 * device for good: without this, every wait of every client would time
 * out from then on and nothing would ever reset the device. As Windows'
 * timeout detection does, a timeline with fences outstanding that makes no
 * progress for the command timeout means the device is lost (the next
 * open resets it). Waiters measure it, in request context: with nobody
 * waiting, nobody is stuck. Returns true if the device is lost now.
 */
static bool gpu_fence_stalled(struct gpu_dev *dev)
{
	uint64_t now = os_time_ns(dev->os), head = 0, issued = 0, since = 0;
	bool stalled = false;

	os_spin_lock(dev->qlock);
	if (!dev->timeline.head) {
		dev->stall_armed = false;
	} else if (!dev->stall_armed || dev->stall_mark != dev->timeline.completed) {
		dev->stall_armed = true;
		dev->stall_mark = dev->timeline.completed;
		dev->stall_since = now;
	} else if (now > dev->stall_since && now - dev->stall_since > dev->params.cmd_timeout_ns) {
		/* (now was read before the lock: another waiter may have armed
		 * the detector with a later time meanwhile.) */
		stalled = true;
		head = dev->timeline.head->seq;
		issued = dev->timeline.issued;
		since = dev->stall_since;
	}
	os_spin_unlock(dev->qlock);
	if (stalled) {
		os_log(dev->os, OS_LOG_ERR, "fence %llu unanswered for %llu ms (%llu issued after it)",
		       (unsigned long long)head, (unsigned long long)((now - since) / 1000000u),
		       (unsigned long long)(issued - head));
		gpu_set_unanswered(dev, "a fence was not signalled in time");
	}
	return dev->lost != 0;
}

int gpu_fence_wait(struct gpu_dev *dev, struct os_caller *caller, uint64_t seq, uint32_t ctx_id, uint64_t deadline,
		   bool nowait)
{
	/* Long waits wake up this often to look for a stalled timeline and
	 * for a caller that gave up (a process being killed, CancelIo): a
	 * wait of up to a minute must not hold either back. */
	uint64_t slice = dev->params.cmd_timeout_ns / 4 + 1;

	if (slice > GPU_CANCEL_POLL_NS)
		slice = GPU_CANCEL_POLL_NS;
	os_might_sleep(dev->os);
	for (;;) {
		uint64_t gen, now, until;

		os_spin_lock(dev->qlock);
		gen = os_waitq_seq(dev->wq);
		if (fence_signalled(&dev->timeline, seq)) {
			os_spin_unlock(dev->qlock);
			return gpu_fence_err(dev, seq, ctx_id);
		}
		os_spin_unlock(dev->qlock);
		if (dev->lost)
			return -VIRGO_EDEVLOST;
		if (nowait)
			return -VIRGO_EBUSY;
		if (gpu_fence_stalled(dev))
			return -VIRGO_EDEVLOST;
		if (caller && os_caller_cancelled(caller))
			return -VIRGO_ECANCELED;
		now = os_time_ns(dev->os);
		if (now >= deadline)
			return -VIRGO_ETIMEDOUT;
		until = deadline - now > slice ? now + slice : deadline;
		if (os_waitq_wait(dev->wq, gen, until) && until == deadline) {
			if (gpu_fence_signalled(dev, seq))
				return gpu_fence_err(dev, seq, ctx_id);
			return gpu_fence_stalled(dev) ? -VIRGO_EDEVLOST : -VIRGO_ETIMEDOUT;
		}
	}
}
