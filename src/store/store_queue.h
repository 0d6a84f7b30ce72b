/* SPDX-License-Identifier: MIT */
/*
 * The store's write queue, the same for every backend: a bounded FIFO, ONE writer thread that
 * applies the writes in queue order, in batches of up to batch_max per transaction (group
 * commit), and callers that wait for their own write's result once its batch committed (the
 * durability hand-off of store_create). The queue never sees a query: a backend hands it four
 * transaction steps (struct store_queue_ops) and embeds a struct store_queue_item in each of its
 * write records. Design and contract: docs/internals/STORE.md, "The write queue".
 */
#ifndef EXPOSURE_STORE_STORE_QUEUE_H
#define EXPOSURE_STORE_STORE_QUEUE_H

#include "store/store.h"

#include <stdbool.h>

struct store_queue;
struct store_queue_wait;

/*
 * The queue's part of one write. A backend embeds it in its own record (container_of) and
 * leaves the fields alone: the queue links, marks and fills them.
 */
struct store_queue_item {
	struct store_queue_item *next;
	struct store_queue_wait *wait; /* NULL: nobody waits */
	bool durable;                  /* its batch commits durably */
	bool notify;                   /* STORE_QUEUE_NOTIFY: its result is done's alone */
	int result;                    /* what apply returned, or the batch's failure */
	/* Set by the backend (the queue never changes them): called with result on the writer
	 * thread once the write is applied and its batch committed or failed, before release;
	 * never for a put that was refused. NULL: nobody is told. */
	void (*done)(void *ud, int result);
	void *done_ud;
};

/*
 * The backend's transaction steps, all called on the writer thread only, one batch at a time:
 * begin, apply for each write in queue order, then commit (or rollback after a failed commit).
 * ctx is the pointer given to store_queue_start.
 */
struct store_queue_ops {
	/*
	 * Open a transaction for the next batch. durable: a write in it was put with
	 * STORE_QUEUE_DURABLE, so its commit must survive power loss (SQLite: synchronous=FULL;
	 * PostgreSQL: synchronous_commit=on), not only a crash of this process. Returns 0 or a
	 * negative code, which becomes the result of every write of the batch (none is applied).
	 */
	int (*begin)(void *ctx, bool durable);
	/*
	 * Apply one write inside the open transaction: all of its effects or none (a savepoint
	 * around it), so one failed write does not undo the others and the transaction stays
	 * usable. Returns its result: >= 0 (handed to a waiting caller as is) or a negative code.
	 */
	int (*apply)(void *ctx, struct store_queue_item *it);
	/*
	 * Make the batch permanent. A negative code fails every write of the batch with it. On
	 * success it may set the result of each write of batch (linked by next, in queue order):
	 * a backend that sends the writes ahead and reads the database's answers only now
	 * (PostgreSQL's pipeline) returned a provisional result from apply.
	 */
	int (*commit)(void *ctx, struct store_queue_item *batch);
	/* Called after a failed commit: leave no transaction open for the next batch. */
	void (*rollback)(void *ctx);
	/* Free the write. Called once per item put, applied or refused, outside the queue lock. */
	void (*release)(void *ctx, struct store_queue_item *it);
};

#define STORE_QUEUE_DEFAULT_MAX   4096
#define STORE_QUEUE_DEFAULT_BATCH 256

/* store_opts' queue_max and batch_max, passed as they are: 0 means the default. */
struct store_queue_cfg {
	unsigned queue_max;   /* bound on unwaited writes waiting (STORE_QUEUE_DEFAULT_MAX) */
	unsigned batch_max;   /* writes per transaction (STORE_QUEUE_DEFAULT_BATCH) */
	bool block_when_full; /* STORE_QUEUE_BLOCK: an unwaited put waits for room */
};

/* How a write is put: by default it returns once queued (asynchronous). */
enum store_queue_put_flags {
	/* Wait until the write's batch committed (or failed) and return the write's result. */
	STORE_QUEUE_WAIT = 1 << 0,
	/* Its batch commits durably (begin's durable); store_create before the 202. */
	STORE_QUEUE_DURABLE = 1 << 1,
	/*
	 * Nobody blocks: the result goes to the item's done callback only, the way a waiting
	 * caller gets it. Like a waited write it is not held to queue_max (its caller bounds how
	 * many are out: the web front's queue reservation) and a failure is neither counted in
	 * failed nor kept for flush (its owner hears of it).
	 */
	STORE_QUEUE_NOTIFY = 1 << 2,
};

/*
 * Start the writer thread of a queue over a backend whose ops take ctx. The backend must be
 * ready for begin before this is called. Returns 0 and *out, -ENOMEM, or -errno from
 * pthread_create.
 */
int store_queue_start(const struct store_queue_ops *ops, void *ctx,
                      const struct store_queue_cfg *cfg, struct store_queue **out);

/*
 * Refuse further puts (-ESHUTDOWN), let the writer apply everything already queued, join it and
 * free the queue. Callers still waiting get their results first. Takes NULL.
 */
void store_queue_stop(struct store_queue *q);

/*
 * Queue it (the queue owns it from here: release is called once, even when the put fails).
 * Without STORE_QUEUE_WAIT: returns 0 once queued, -EAGAIN if queue_max writes are waiting
 * (counted in rejected_full; unless block_when_full), -ESHUTDOWN after store_queue_stop began.
 * Only a mutex is taken: safe on an event loop. With STORE_QUEUE_WAIT: blocks until the batch
 * holding it committed and returns what apply returned (>= 0 or negative), or the code of the
 * batch's failed begin or commit; waited writes are not held to queue_max (each blocks its own
 * caller, so their number is bounded by the calling threads).
 */
int store_queue_put(struct store_queue *q, struct store_queue_item *it, unsigned flags);

/*
 * Wait until every write queued before this call has been applied. Returns 0, or the code of
 * the first unwaited write that failed since the previous flush (waited writes report to their
 * caller instead).
 */
int store_queue_flush(struct store_queue *q);

/* The counters of struct store_stats (queued, applied, failed, rejected_full, transactions,
 * queue_len, failing, last_err). */
void store_queue_stats(struct store_queue *q, struct store_stats *out);

#endif
