/* SPDX-License-Identifier: MIT */
/* fence.h: the device timeline of 64-bit sequence numbers.
 *
 * Fence N is signalled when every fenced request numbered N or lower has
 * been answered. Keeping the outstanding requests in order makes that exact
 * even when a device answers out of order (an error answered early, or
 * several rings), and the 64-bit number never wraps in practice.
 *
 * On the wire, ids stay in [1, 2^31) unless context_init is negotiated:
 * QEMU 7.2 passes fence ids through 32-bit (and signed) paths. The id after
 * 2^31-1 is 1 again, and that wrap is only taken with nothing outstanding,
 * because QEMU retires "every queued fence <= F" and would otherwise hold a
 * high id forever. */
#ifndef VIRGO_FENCE_H
#define VIRGO_FENCE_H

#include <stdbool.h>
#include <stdint.h>

#define FENCE_WIRE31_MAX 0x7fffffffull

struct fence_node {
	struct fence_node *prev, *next;
	uint64_t seq;
};

struct fence_timeline {
	uint64_t issued;              /* last number handed out */
	volatile uint64_t completed;  /* watermark */
	struct fence_node *head, *tail;
	bool wire31;
};

void fence_init(struct fence_timeline *t, uint64_t first, bool wire31);
/* Called with the queue lock held. False: the wire id would wrap while
 * fences are outstanding; wait for completion and retry. */
bool fence_can_issue(const struct fence_timeline *t);
uint64_t fence_issue(struct fence_timeline *t, struct fence_node *n);
uint64_t fence_wire_id(const struct fence_timeline *t, uint64_t seq);
/* The request behind n was answered. Returns true if the watermark moved. */
bool fence_retire(struct fence_timeline *t, struct fence_node *n);
/* Everything outstanding is dropped (device reset). */
void fence_retire_all(struct fence_timeline *t);
bool fence_signalled(const struct fence_timeline *t, uint64_t seq);

#endif
