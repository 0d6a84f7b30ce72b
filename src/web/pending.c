/* SPDX-License-Identifier: MIT */
/*
 * Creates waiting for their commit with their connection suspended (pending.h). One mutex,
 * w->pending_lock, guards the fields the store's writer thread and the HTTP threads share; it
 * is never held while calling into the store or taking w->lock, so the writer thread, which
 * takes it in pending_created, cannot deadlock with a thread that waits for the writer.
 */
#include "web/pending.h"

#include <stdlib.h>
#include <time.h>

void pending_init(struct web *w)
{
	pthread_mutex_init(&w->pending_lock, NULL);
	w->pending = NULL;
	w->pending_waiting = 0;
	w->pending_stopped = false;
}

void pending_destroy(struct web *w)
{
	pthread_mutex_destroy(&w->pending_lock);
}

struct pending *pending_new(struct web *w, struct MHD_Connection *c, struct job *j)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->w = w;
	p->conn = c;
	p->job = j;
	p->owners = 2; /* the request and the store's callback */
	pthread_mutex_lock(&w->pending_lock);
	p->next = w->pending;
	if (w->pending)
		w->pending->prev = p;
	w->pending = p;
	pthread_mutex_unlock(&w->pending_lock);
	return p;
}

/* Drop one owner; the caller holds pending_lock. Returns true when p must be freed. */
static bool unown_locked(struct pending *p)
{
	return --p->owners == 0;
}

/* The callback's share ends: p leaves the list of creates whose commit is awaited. */
static bool callback_done_locked(struct web *w, struct pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		w->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
	return unown_locked(p);
}

void pending_created(void *ud, int result)
{
	struct pending *p = ud;
	struct web *w = p->w;
	bool last;

	pthread_mutex_lock(&w->pending_lock);
	p->result = result;
	p->committed = true;
	if (p->suspended) {
		/* The handler runs again on the connection's thread and answers (api.c). */
		p->suspended = false;
		w->pending_waiting--;
		MHD_resume_connection(p->conn);
	}
	last = callback_done_locked(w, p);
	pthread_mutex_unlock(&w->pending_lock);
	if (last)
		free(p);
}

bool pending_suspend(struct pending *p)
{
	struct web *w = p->w;
	bool suspended = false;

	/* Suspending and the callback's resume happen under one lock: a commit that ends between
	 * store_create and here is seen, never a resume of a connection not yet suspended. */
	pthread_mutex_lock(&w->pending_lock);
	if (!p->committed) {
		if (w->pending_stopped) {
			p->abandoned = true;
		} else {
			p->suspended = suspended = true;
			w->pending_waiting++;
			MHD_suspend_connection(p->conn);
		}
	}
	pthread_mutex_unlock(&w->pending_lock);
	return suspended;
}

void pending_no_callback(struct pending *p)
{
	struct web *w = p->w;
	bool last;

	pthread_mutex_lock(&w->pending_lock);
	last = callback_done_locked(w, p);
	pthread_mutex_unlock(&w->pending_lock);
	if (last)
		free(p);
}

int pending_outcome(struct pending *p, bool *abandoned)
{
	int result;

	pthread_mutex_lock(&p->w->pending_lock);
	*abandoned = p->abandoned || !p->committed;
	result = p->result;
	pthread_mutex_unlock(&p->w->pending_lock);
	return result;
}

void pending_release(struct pending *p)
{
	struct web *w;
	bool last;

	if (!p)
		return;
	w = p->w;
	pthread_mutex_lock(&w->pending_lock);
	last = unown_locked(p);
	pthread_mutex_unlock(&w->pending_lock);
	if (last)
		free(p);
}

/* Resume every connection still waiting: its request answers 503 (pending_abandoned). */
static void abandon_all_locked(struct web *w)
{
	for (struct pending *p = w->pending; p; p = p->next) {
		if (!p->suspended)
			continue;
		p->suspended = false;
		p->abandoned = true;
		w->pending_waiting--;
		MHD_resume_connection(p->conn);
	}
}

void pending_stop(struct web *w, unsigned wait_ms)
{
	const struct timespec tick = {.tv_nsec = 5 * 1000 * 1000};
	int64_t deadline = web_mono_ms() + wait_ms;

	pthread_mutex_lock(&w->pending_lock);
	w->pending_stopped = true;
	/* A commit is one fsync or round trip away; a store that hangs must not hold the stop. */
	while (w->pending_waiting > 0 && web_mono_ms() < deadline) {
		pthread_mutex_unlock(&w->pending_lock);
		nanosleep(&tick, NULL);
		pthread_mutex_lock(&w->pending_lock);
	}
	abandon_all_locked(w);
	pthread_mutex_unlock(&w->pending_lock);
}
