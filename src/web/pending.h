/* SPDX-License-Identifier: MIT */
/*
 * A POST /api/diagnoses whose row the store is committing. Its connection is suspended until
 * the store's writer reports the commit (store_new.created), so no HTTP thread sits through an
 * fsync or a round trip to PostgreSQL, and every create that arrives meanwhile shares the one
 * commit: with two HTTP threads blocked in store_create, creates committed two at a time.
 *
 * Two owners: the request (httpd.c's struct req, through api.c) and the store's callback. The
 * callback only records the result and resumes the connection; everything else (the job, the
 * answer) happens on the connection's HTTP thread when libmicrohttpd calls the handler again.
 * The last owner to let go frees it. At shutdown pending_stop gives the commits a bounded wait
 * and then resumes whatever still waits (libmicrohttpd refuses to stop with a connection
 * suspended), and those requests are answered 503.
 */
#ifndef EXPOSURE_WEB_PENDING_H
#define EXPOSURE_WEB_PENDING_H

#include "web/web.h"

#include <microhttpd.h>
#include <stdbool.h>

struct pending {
	/* The request's, never touched by the callback: */
	struct web *w;
	struct MHD_Connection *conn;
	struct job *job; /* the reserved job (a reference), NULL once answered or given up */
	char token[STORE_TOKEN_LEN + 1];
	/* Under w->pending_lock: */
	int result;     /* store_create's, once committed */
	bool committed; /* the callback ran */
	bool suspended; /* the connection waits for it */
	bool abandoned; /* the service stopped waiting (pending_stop) */
	int owners;
	struct pending *prev, *next; /* w->pending, while the callback owns it */
};

/* A pending create of job j (its reference is taken) for c; NULL when out of memory. */
struct pending *pending_new(struct web *w, struct MHD_Connection *c, struct job *j);

/* store_new.created: the commit's result. ud is the struct pending. */
void pending_created(void *ud, int result);

/*
 * After store_create queued the create with pending_created: suspend the connection unless the
 * commit already ended. true: suspended (the handler returns MHD_YES and queues nothing); false:
 * answer now from p->result.
 */
bool pending_suspend(struct pending *p);

/*
 * The store's callback will never come (store_create failed at once): the request is the only
 * owner left.
 */
void pending_no_callback(struct pending *p);

/* The request lets go (the job must have been handed on or released). Takes NULL. */
void pending_release(struct pending *p);

/*
 * Once the connection resumed (or pending_suspend said false): store_create's result, or with
 * *abandoned set, nothing: the service gave up waiting for the commit (the request answers 503).
 */
int pending_outcome(struct pending *p, bool *abandoned);

/*
 * Shutdown, before the HTTP daemons stop: wait up to wait_ms for the commits of suspended
 * creates, then resume the connections still waiting (they answer 503).
 */
void pending_stop(struct web *w, unsigned wait_ms);

/* The pending_lock, its condition and list of struct web: set up and torn down with the web. */
void pending_init(struct web *w);
void pending_destroy(struct web *w);

#endif
