/* SPDX-License-Identifier: MIT */
#include "fence.h"

#include <stddef.h>

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
