/* SPDX-License-Identifier: MIT */
/* Intrusive circular doubly-linked lists for the engine's queues and waiting lists. */
#ifndef EXPOSURE_ENGINE_ELIST_H
#define EXPOSURE_ENGINE_ELIST_H

#include <stdbool.h>
#include <stddef.h>

/* Intrusive circular doubly-linked list; a head is a node that links to itself when empty. */
struct elist {
	struct elist *prev, *next;
};

#define elist_entry(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

static inline void elist_init(struct elist *h)
{
	h->prev = h;
	h->next = h;
}

static inline bool elist_empty(const struct elist *h)
{
	return h->next == h;
}

static inline void elist_insert(struct elist *prev, struct elist *n)
{
	n->prev = prev;
	n->next = prev->next;
	prev->next->prev = n;
	prev->next = n;
}

static inline void elist_add_tail(struct elist *h, struct elist *n)
{
	elist_insert(h->prev, n);
}

static inline void elist_add_head(struct elist *h, struct elist *n)
{
	elist_insert(h, n);
}

/* Unlink n; it then links to itself, so unlinking twice is harmless. */
static inline void elist_del(struct elist *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	elist_init(n);
}

#endif
