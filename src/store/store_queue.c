/* SPDX-License-Identifier: MIT */
/*
 * The store's write queue: one mutex over a FIFO, one writer thread taking batches off it and
 * running them through the backend's begin/apply/commit, waiters woken by one condition.
 * Backend-neutral: nothing here knows SQL (store_queue.h, docs/internals/STORE.md).
 */
#include "store/store_queue.h"
#include "core/err.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

/* A caller blocked in store_queue_put(STORE_QUEUE_WAIT); lives on its stack. */
struct store_queue_wait {
	bool done;
	int result;
};

struct store_queue {
	const struct store_queue_ops *ops;
	void *ctx;
	struct store_queue_cfg cfg;
	pthread_t thread;

	pthread_mutex_t mu;     /* guards everything below */
	pthread_cond_t cv_work; /* queue became non-empty, or stopping */
	pthread_cond_t cv_room; /* queue shrank */
	pthread_cond_t cv_done; /* applied grew; a waiter's write is done */
	struct store_queue_item *head, *tail;
	size_t qlen;
	bool stopping;
	int flush_err; /* first failure of an unwaited write since the last flush */
	struct store_stats stats;
};

/* Take up to batch_max writes off the queue; NULL when stopping with nothing left. */
static struct store_queue_item *take_batch(struct store_queue *q, size_t *n)
{
	struct store_queue_item *batch, *last;

	pthread_mutex_lock(&q->mu);
	while (!q->head && !q->stopping)
		pthread_cond_wait(&q->cv_work, &q->mu);
	batch = last = q->head;
	*n = 0;
	if (batch) {
		*n = 1;
		while (last->next && *n < q->cfg.batch_max) {
			last = last->next;
			(*n)++;
		}
		q->head = last->next;
		if (!q->head)
			q->tail = NULL;
		last->next = NULL;
		q->qlen -= *n;
		pthread_cond_broadcast(&q->cv_room);
	}
	pthread_mutex_unlock(&q->mu);
	return batch;
}

/*
 * Run one batch through the backend. Each write's result goes to it->result; a failed begin or
 * commit becomes the result of every write in the batch, since none of them is in the database.
 */
static void apply_batch(struct store_queue *q, struct store_queue_item *batch)
{
	const struct store_queue_ops *ops = q->ops;
	struct store_queue_item *it;
	bool durable = false;
	int r;

	for (it = batch; it; it = it->next)
		durable |= it->durable;
	if ((r = ops->begin(q->ctx, durable)) < 0)
		goto out_fail_all;
	for (it = batch; it; it = it->next)
		it->result = ops->apply(q->ctx, it);
	if ((r = ops->commit(q->ctx, batch)) < 0) {
		ops->rollback(q->ctx);
		goto out_fail_all;
	}
	return;
out_fail_all:
	for (it = batch; it; it = it->next)
		it->result = r;
}

/*
 * A write refused for what it is (a duplicate id, a wrong delete token, a malformed field, an
 * id already gone) says nothing about the database; any other failure (a full disk, an I/O
 * error, a read-only or locked file) means the store cannot write now.
 */
static bool store_trouble(int r)
{
	return r < 0 && r != -EEXIST && r != -ENOENT && r != -EACCES && r != -ERR_SYNTAX &&
	       r != -ERR_RANGE;
}

/* Hand the results over: waiters get theirs, unwaited failures are counted and kept for flush. */
static void finish_batch(struct store_queue *q, struct store_queue_item *batch, size_t n)
{
	uint64_t trouble = 0;

	pthread_mutex_lock(&q->mu);
	q->stats.applied += n;
	q->stats.transactions++;
	for (struct store_queue_item *it = batch; it; it = it->next) {
		if (store_trouble(it->result)) {
			trouble++;
			q->stats.last_err = it->result;
		}
		if (it->wait) {
			it->wait->result = it->result;
			it->wait->done = true;
		} else if (it->result < 0 && !it->notify) {
			q->stats.failed++;
			if (!q->flush_err)
				q->flush_err = it->result;
		}
	}
	/* A clean batch is the store writing again. */
	q->stats.failing = trouble ? q->stats.failing + trouble : 0;
	pthread_cond_broadcast(&q->cv_done);
	pthread_mutex_unlock(&q->mu);
}

static void *writer_main(void *arg)
{
	struct store_queue *q = arg;
	struct store_queue_item *batch;
	size_t n;

	while ((batch = take_batch(q, &n)) != NULL) {
		apply_batch(q, batch);
		finish_batch(q, batch, n);
		/* it->wait pointed into a caller's stack: the caller may be gone now, so no
		 * item's wait is read after finish_batch. */
		while (batch) {
			struct store_queue_item *next = batch->next;

			if (batch->done)
				batch->done(batch->done_ud, batch->result);
			q->ops->release(q->ctx, batch);
			batch = next;
		}
	}
	return NULL;
}

static void queue_free(struct store_queue *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv_work);
	pthread_cond_destroy(&q->cv_room);
	pthread_cond_destroy(&q->cv_done);
	free(q);
}

int store_queue_start(const struct store_queue_ops *ops, void *ctx,
                      const struct store_queue_cfg *cfg, struct store_queue **out)
{
	struct store_queue *q;
	int r;

	*out = NULL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->ops = ops;
	q->ctx = ctx;
	q->cfg = *cfg;
	if (!q->cfg.queue_max)
		q->cfg.queue_max = STORE_QUEUE_DEFAULT_MAX;
	if (!q->cfg.batch_max)
		q->cfg.batch_max = STORE_QUEUE_DEFAULT_BATCH;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv_work, NULL);
	pthread_cond_init(&q->cv_room, NULL);
	pthread_cond_init(&q->cv_done, NULL);
	if ((r = pthread_create(&q->thread, NULL, writer_main, q)) != 0) {
		queue_free(q);
		return -r;
	}
	*out = q;
	return 0;
}

void store_queue_stop(struct store_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_broadcast(&q->cv_work);
	pthread_cond_broadcast(&q->cv_room); /* a blocked put gives up with -ESHUTDOWN */
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	queue_free(q);
}

static void link_tail(struct store_queue *q, struct store_queue_item *it)
{
	it->next = NULL;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->qlen++;
	q->stats.queued++;
	pthread_cond_signal(&q->cv_work);
}

int store_queue_put(struct store_queue *q, struct store_queue_item *it, unsigned flags)
{
	struct store_queue_wait wait = {0};
	bool waited = flags & STORE_QUEUE_WAIT;
	/* Written by a caller bounded elsewhere: queue_max is for fire-and-forget writes. */
	bool bounded = !waited && !(flags & STORE_QUEUE_NOTIFY);
	int r = 0;

	it->wait = waited ? &wait : NULL;
	it->durable = flags & STORE_QUEUE_DURABLE;
	it->notify = flags & STORE_QUEUE_NOTIFY;
	it->result = 0;
	pthread_mutex_lock(&q->mu);
	while (bounded && q->qlen >= q->cfg.queue_max && !q->stopping && q->cfg.block_when_full)
		pthread_cond_wait(&q->cv_room, &q->mu);
	if (q->stopping) {
		r = -ESHUTDOWN;
	} else if (bounded && q->qlen >= q->cfg.queue_max) {
		q->stats.rejected_full++;
		r = -EAGAIN;
	} else {
		link_tail(q, it);
		it = NULL; /* the writer releases it */
		while (waited && !wait.done)
			pthread_cond_wait(&q->cv_done, &q->mu);
		if (waited)
			r = wait.result;
	}
	pthread_mutex_unlock(&q->mu);
	if (it)
		q->ops->release(q->ctx, it);
	return r;
}

int store_queue_flush(struct store_queue *q)
{
	uint64_t target;
	int r;

	pthread_mutex_lock(&q->mu);
	target = q->stats.queued;
	while (q->stats.applied < target)
		pthread_cond_wait(&q->cv_done, &q->mu);
	r = q->flush_err;
	q->flush_err = 0;
	pthread_mutex_unlock(&q->mu);
	return r;
}

void store_queue_stats(struct store_queue *q, struct store_stats *out)
{
	pthread_mutex_lock(&q->mu);
	*out = q->stats;
	out->queue_len = q->qlen;
	pthread_mutex_unlock(&q->mu);
}
