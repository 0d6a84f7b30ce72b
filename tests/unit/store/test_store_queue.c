/* SPDX-License-Identifier: MIT */
/*
 * The write queue on its own, over a recording fake backend: queue order, batch sizes, group
 * commit of waiting callers, the durable flag, a failed begin or commit reported to every write
 * of its batch, the bound, flush, and the drain at stop. The fake's begin can be held at a gate,
 * so that what is queued meanwhile, and hence every batch, is known exactly.
 */
#include "store/store_queue.h"

#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_IDS     8192
#define MAX_BATCHES 512
#define WAIT_MS     5000 /* bound of every poll: a healthy run needs a few ms */

struct fake_item {
	struct store_queue_item qi;
	int id;
	int result; /* what apply returns for it */
};

enum batch_end { END_NONE = 0, END_COMMIT, END_COMMIT_FAILED, END_BEGIN_FAILED };

struct fake_batch {
	int n; /* writes applied in it */
	bool durable;
	enum batch_end end;
	bool rolled_back;
};

struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool gate_closed; /* begin waits while set */
	bool at_gate;     /* the writer is waiting in begin */
	bool in_txn;
	int violations; /* a step out of order: apply or commit outside a transaction, nested begin
	                 */

	int fail_begin_at, fail_begin_code; /* batch number (1-based) and the code to return */
	int fail_commit_at, fail_commit_code;
	/* apply answers 0 and commit sets each write's own result (a pipelining backend) */
	bool answers_at_commit;

	struct fake_batch batches[MAX_BATCHES];
	int n_batches;
	int applied[MAX_IDS]; /* ids in the order applied */
	int applied_batch[MAX_IDS];
	int n_applied;
	int released[MAX_IDS]; /* times each id was released */
};

static struct fake_item *to_item(struct store_queue_item *it)
{
	return (struct fake_item *)(void *)((char *)it - offsetof(struct fake_item, qi));
}

static int fake_begin(void *ctx, bool durable)
{
	struct fake *f = ctx;
	struct fake_batch *b;
	int r = 0;

	pthread_mutex_lock(&f->mu);
	f->at_gate = true;
	pthread_cond_broadcast(&f->cv);
	while (f->gate_closed)
		pthread_cond_wait(&f->cv, &f->mu);
	f->at_gate = false;
	if (f->in_txn || f->n_batches >= MAX_BATCHES)
		f->violations++;
	b = &f->batches[f->n_batches++ % MAX_BATCHES];
	b->durable = durable;
	if (f->n_batches == f->fail_begin_at) {
		b->end = END_BEGIN_FAILED;
		r = f->fail_begin_code;
	} else {
		f->in_txn = true;
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

static int fake_apply(void *ctx, struct store_queue_item *it)
{
	struct fake *f = ctx;
	struct fake_item *fi = to_item(it);

	pthread_mutex_lock(&f->mu);
	if (!f->in_txn || f->n_applied >= MAX_IDS)
		f->violations++;
	else {
		f->applied[f->n_applied] = fi->id;
		f->applied_batch[f->n_applied++] = f->n_batches;
		f->batches[f->n_batches - 1].n++;
	}
	pthread_mutex_unlock(&f->mu);
	return f->answers_at_commit ? 0 : fi->result;
}

static int fake_commit(void *ctx, struct store_queue_item *batch)
{
	struct fake *f = ctx;
	int r = 0;

	pthread_mutex_lock(&f->mu);
	if (!f->in_txn)
		f->violations++;
	if (f->n_batches == f->fail_commit_at) {
		f->batches[f->n_batches - 1].end = END_COMMIT_FAILED;
		r = f->fail_commit_code; /* still open: the queue must roll back */
	} else {
		f->batches[f->n_batches - 1].end = END_COMMIT;
		f->in_txn = false;
		for (struct store_queue_item *it = batch; f->answers_at_commit && it; it = it->next)
			it->result = to_item(it)->result;
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

static void fake_rollback(void *ctx)
{
	struct fake *f = ctx;

	pthread_mutex_lock(&f->mu);
	if (!f->in_txn)
		f->violations++;
	f->batches[f->n_batches - 1].rolled_back = true;
	f->in_txn = false;
	pthread_mutex_unlock(&f->mu);
}

static void fake_release(void *ctx, struct store_queue_item *it)
{
	struct fake *f = ctx;
	struct fake_item *fi = to_item(it);

	pthread_mutex_lock(&f->mu);
	if (fi->id >= 0 && fi->id < MAX_IDS)
		f->released[fi->id]++;
	else
		f->violations++;
	pthread_mutex_unlock(&f->mu);
	free(fi);
}

static const struct store_queue_ops fake_ops = {
    .begin = fake_begin,
    .apply = fake_apply,
    .commit = fake_commit,
    .rollback = fake_rollback,
    .release = fake_release,
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	return f;
}

static void fake_free(struct fake *f)
{
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void gate_close(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	f->gate_closed = true;
	pthread_mutex_unlock(&f->mu);
}

static void gate_open(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	f->gate_closed = false;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Wait until the writer holds a batch at the closed gate. */
static void wait_at_gate(struct fake *f)
{
	struct timespec ts;
	int rc = 0;

	deadline_in(&ts, WAIT_MS);
	pthread_mutex_lock(&f->mu);
	while (!f->at_gate && rc == 0)
		rc = pthread_cond_timedwait(&f->cv, &f->mu, &ts);
	pthread_mutex_unlock(&f->mu);
	assert_int_equal(rc, 0);
}

static struct fake_item *item(int id, int result)
{
	struct fake_item *fi = calloc(1, sizeof(*fi));

	assert_non_null(fi);
	fi->id = id;
	fi->result = result;
	return fi;
}

static int put(struct store_queue *q, int id, int result, unsigned flags)
{
	return store_queue_put(q, &item(id, result)->qi, flags);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static size_t queue_len(struct store_queue *q)
{
	struct store_stats st;

	store_queue_stats(q, &st);
	return st.queue_len;
}

/* Wait until n writes are queued (callers blocked in put have reached the queue). */
static void wait_queued(struct store_queue *q, size_t n)
{
	for (int i = 0; i < WAIT_MS && queue_len(q) < n; i++)
		sleep_ms(1);
	assert_int_equal(queue_len(q), n);
}

/* A caller on its own thread: put one write and keep what put returned. */
struct putter {
	struct store_queue *q;
	int id, result;
	unsigned flags;
	int got;
	bool returned;
	pthread_t t;
};

static void *putter_main(void *p)
{
	struct putter *u = p;

	u->got = put(u->q, u->id, u->result, u->flags);
	__atomic_store_n(&u->returned, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static void putter_start(struct putter *u, struct store_queue *q, int id, int result,
                         unsigned flags)
{
	*u = (struct putter){.q = q, .id = id, .result = result, .flags = flags};
	assert_int_equal(pthread_create(&u->t, NULL, putter_main, u), 0);
}

static struct store_queue *start(struct fake *f, unsigned queue_max, unsigned batch_max, bool block)
{
	struct store_queue_cfg cfg = {
	    .queue_max = queue_max, .batch_max = batch_max, .block_when_full = block};
	struct store_queue *q;

	assert_int_equal(store_queue_start(&fake_ops, f, &cfg, &q), 0);
	assert_non_null(q);
	return q;
}

/* Every id below n released exactly once, and nothing else. */
static void assert_released_once(struct fake *f, int n)
{
	for (int i = 0; i < MAX_IDS; i++)
		assert_int_equal(f->released[i], i < n ? 1 : 0);
}

/* Ids applied in queue order: 0, 1, ..., n-1. */
static void assert_applied_in_order(struct fake *f, int n)
{
	assert_int_equal(f->n_applied, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(f->applied[i], i);
}

/* Writes held back behind the first batch come out in order, batch_max at a time. */
static void test_order_and_batches(void **state)
{
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 64, 4, false);
	struct store_stats st;
	static const int sizes[] = {1, 4, 4, 2};

	(void)state;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f);
	for (int i = 1; i <= 10; i++)
		assert_int_equal(put(q, i, 0, 0), 0);
	assert_int_equal(queue_len(q), 10);
	gate_open(f);
	assert_int_equal(store_queue_flush(q), 0);
	store_queue_stats(q, &st);
	assert_int_equal(st.queued, 11);
	assert_int_equal(st.applied, 11);
	assert_int_equal(st.transactions, 4);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.queue_len, 0);
	store_queue_stop(q);

	assert_int_equal(f->violations, 0);
	assert_applied_in_order(f, 11);
	assert_int_equal(f->n_batches, 4);
	for (int b = 0; b < 4; b++) {
		assert_int_equal(f->batches[b].n, sizes[b]);
		assert_int_equal(f->batches[b].end, END_COMMIT);
		assert_false(f->batches[b].durable);
		assert_false(f->batches[b].rolled_back);
	}
	assert_int_equal(f->applied_batch[4], 2); /* ids 1-4 in the second batch */
	assert_int_equal(f->applied_batch[5], 3);
	assert_released_once(f, 11);
	fake_free(f);
}

/*
 * Callers that wait and arrive together share one commit (group commit), and each gets what
 * apply returned for its own write, a count or an error; a waited failure is the caller's, not
 * flush's.
 */
static void test_waiters_share_a_commit(void **state)
{
	static const int results[3] = {7, -EEXIST, 0};
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 64, 0, false);
	struct putter u[3];
	struct store_stats st;

	(void)state;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f);
	for (int i = 0; i < 3; i++)
		putter_start(&u[i], q, i + 1, results[i], STORE_QUEUE_WAIT);
	wait_queued(q, 3);
	sleep_ms(20);
	for (int i = 0; i < 3; i++)
		assert_false(__atomic_load_n(&u[i].returned, __ATOMIC_SEQ_CST)); /* not committed */
	gate_open(f);
	for (int i = 0; i < 3; i++) {
		pthread_join(u[i].t, NULL);
		assert_int_equal(u[i].got, results[i]);
	}
	assert_int_equal(store_queue_flush(q), 0);
	store_queue_stats(q, &st);
	assert_int_equal(st.transactions, 2);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.applied, 4);
	store_queue_stop(q);

	assert_int_equal(f->violations, 0);
	assert_int_equal(f->n_batches, 2);
	assert_int_equal(f->batches[1].n, 3);
	assert_int_equal(f->batches[1].end, END_COMMIT);
	assert_false(f->batches[1].durable); /* waiting alone does not ask for durability */
	assert_released_once(f, 4);
	fake_free(f);
}

/*
 * A backend that learns its writes' results only at commit (PostgreSQL's pipeline: apply
 * answers 0 for now) sets them there: each waiter gets its own write's, not apply's, and an
 * unwaited failure is counted and reported by flush.
 */
static void test_results_set_at_commit(void **state)
{
	static const int results[3] = {7, -EEXIST, 0};
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 64, 0, false);
	struct putter u[3];
	struct store_stats st;

	(void)state;
	f->answers_at_commit = true;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f);
	for (int i = 0; i < 3; i++)
		putter_start(&u[i], q, i + 1, results[i], STORE_QUEUE_WAIT);
	wait_queued(q, 3);
	assert_int_equal(put(q, 4, -EIO, 0), 0); /* unwaited, same batch */
	gate_open(f);
	for (int i = 0; i < 3; i++) {
		pthread_join(u[i].t, NULL);
		assert_int_equal(u[i].got, results[i]);
	}
	assert_int_equal(store_queue_flush(q), -EIO);
	store_queue_stats(q, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.failing, 1);
	store_queue_stop(q);
	assert_int_equal(f->violations, 0);
	assert_int_equal(f->n_batches, 2);
	assert_int_equal(f->batches[1].n, 4);
	assert_released_once(f, 5);
	fake_free(f);
}

/* A batch is durable exactly when one of its writes was put with STORE_QUEUE_DURABLE. */
static void test_durable_batch(void **state)
{
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 64, 2, false);
	struct putter u;

	(void)state;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f);
	assert_int_equal(put(q, 1, 0, 0), 0);
	assert_int_equal(put(q, 2, 0, 0), 0);
	assert_int_equal(put(q, 3, 0, 0), 0);
	putter_start(&u, q, 4, 0, STORE_QUEUE_WAIT | STORE_QUEUE_DURABLE);
	wait_queued(q, 4);
	assert_int_equal(put(q, 5, 0, 0), 0);
	gate_open(f);
	pthread_join(u.t, NULL);
	assert_int_equal(u.got, 0);
	store_queue_stop(q);

	assert_int_equal(f->violations, 0);
	assert_applied_in_order(f, 6);
	assert_int_equal(f->n_batches, 4); /* [0] [1 2] [3 4] [5] */
	assert_false(f->batches[0].durable);
	assert_false(f->batches[1].durable);
	assert_true(f->batches[2].durable);
	assert_false(f->batches[3].durable);
	assert_released_once(f, 6);
	fake_free(f);
}

/*
 * A failed commit is the result of every write of its batch, whatever apply said: each waiter
 * gets it, an unwaited one is counted and reported once by flush. The transaction is rolled
 * back and the next batch starts clean.
 */
static void test_failed_commit_reaches_every_waiter(void **state)
{
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 64, 0, false);
	struct putter u[3];
	struct store_stats st;

	(void)state;
	f->fail_commit_at = 2;
	f->fail_commit_code = -EIO;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f);
	putter_start(&u[0], q, 1, 5, STORE_QUEUE_WAIT);
	putter_start(&u[1], q, 2, 0, STORE_QUEUE_WAIT | STORE_QUEUE_DURABLE);
	putter_start(&u[2], q, 3, -EEXIST, STORE_QUEUE_WAIT);
	wait_queued(q, 3);
	assert_int_equal(put(q, 4, 0, 0), 0); /* unwaited, same batch */
	gate_open(f);
	for (int i = 0; i < 3; i++) {
		pthread_join(u[i].t, NULL);
		assert_int_equal(u[i].got, -EIO);
	}
	assert_int_equal(store_queue_flush(q), -EIO);
	assert_int_equal(store_queue_flush(q), 0); /* reported once */
	store_queue_stats(q, &st);
	assert_int_equal(st.failed, 1); /* the unwaited one; waiters were told */
	assert_int_equal(st.applied, 5);
	/* the queue goes on: a later write gets its own result */
	assert_int_equal(put(q, 5, 9, STORE_QUEUE_WAIT), 9);
	store_queue_stop(q);

	assert_int_equal(f->violations, 0);
	assert_int_equal(f->n_batches, 3);
	assert_int_equal(f->batches[1].n, 4);
	assert_int_equal(f->batches[1].end, END_COMMIT_FAILED);
	assert_true(f->batches[1].rolled_back);
	assert_true(f->batches[1].durable);
	assert_int_equal(f->batches[2].end, END_COMMIT);
	assert_false(f->batches[2].rolled_back);
	assert_released_once(f, 6);
	fake_free(f);
}

/* A failed begin: nothing of the batch is applied, and each write gets begin's code. */
static void test_failed_begin(void **state)
{
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 64, 0, false);
	struct putter u;

	(void)state;
	f->fail_begin_at = 2;
	f->fail_begin_code = -EBUSY;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f);
	putter_start(&u, q, 1, 3, STORE_QUEUE_WAIT);
	wait_queued(q, 1);
	assert_int_equal(put(q, 2, 0, 0), 0);
	gate_open(f);
	pthread_join(u.t, NULL);
	assert_int_equal(u.got, -EBUSY);
	assert_int_equal(store_queue_flush(q), -EBUSY);
	assert_int_equal(put(q, 3, 0, STORE_QUEUE_WAIT), 0);
	store_queue_stop(q);

	assert_int_equal(f->violations, 0);
	assert_int_equal(f->n_batches, 3);
	assert_int_equal(f->batches[1].end, END_BEGIN_FAILED);
	assert_int_equal(f->batches[1].n, 0);
	assert_false(f->batches[1].rolled_back); /* no transaction was opened */
	assert_int_equal(f->n_applied, 2);       /* ids 0 and 3 only */
	assert_int_equal(f->applied[0], 0);
	assert_int_equal(f->applied[1], 3);
	assert_released_once(f, 4);
	fake_free(f);
}

/*
 * The bound: an unwaited write past queue_max is refused at once with -EAGAIN (and released);
 * a waited one is not held to it.
 */
static void test_queue_full(void **state)
{
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 2, 0, false);
	struct putter u;
	struct store_stats st;

	(void)state;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f); /* 0 is off the queue, in the writer's hands */
	assert_int_equal(put(q, 1, 0, 0), 0);
	assert_int_equal(put(q, 2, 0, 0), 0);
	assert_int_equal(put(q, 3, 0, 0), -EAGAIN);
	assert_int_equal(f->released[3], 1);
	putter_start(&u, q, 4, 0, STORE_QUEUE_WAIT);
	wait_queued(q, 3);
	store_queue_stats(q, &st);
	assert_int_equal(st.rejected_full, 1);
	assert_int_equal(st.queued, 4);
	gate_open(f);
	pthread_join(u.t, NULL);
	assert_int_equal(u.got, 0);
	assert_int_equal(store_queue_flush(q), 0);
	store_queue_stop(q);

	assert_int_equal(f->violations, 0);
	assert_int_equal(f->n_applied, 4);
	assert_int_equal(f->applied[2], 2);
	assert_int_equal(f->applied[3], 4);
	assert_released_once(f, 5);
	fake_free(f);
}

/* What a write's done callback was told: how often, and the last result. */
struct told {
	int calls, result;
};

static void on_done(void *ud, int result)
{
	struct told *t = ud;

	t->calls++;
	t->result = result;
}

static int put_told(struct store_queue *q, int id, int result, unsigned flags, struct told *t)
{
	struct fake_item *fi = item(id, result);

	fi->qi.done = on_done;
	fi->qi.done_ud = t;
	return store_queue_put(q, &fi->qi, flags);
}

/*
 * stats.failing counts the writes that failed for the database's sake (not a refused write
 * such as a duplicate id or a wrong token), waited or not, since the last clean batch, which
 * resets it; last_err keeps the last such code. A write's done callback is told its result
 * once, after its batch; a put refused at once is never told.
 */
static void test_failing_and_done(void **state)
{
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 1, 1, false);
	struct told t[6] = {0};
	struct store_stats st;

	(void)state;
	assert_int_equal(put_told(q, 0, -EEXIST, STORE_QUEUE_WAIT, &t[0]), -EEXIST);
	assert_int_equal(put_told(q, 1, -EACCES, STORE_QUEUE_WAIT, &t[1]), -EACCES);
	store_queue_stats(q, &st);
	assert_int_equal(st.failing, 0);
	assert_int_equal(st.last_err, 0);
	assert_int_equal(put_told(q, 2, -ENOSPC, STORE_QUEUE_WAIT, &t[2]), -ENOSPC);
	assert_int_equal(put_told(q, 3, -EIO, 0, &t[3]), 0);
	assert_int_equal(store_queue_flush(q), -EIO);
	store_queue_stats(q, &st);
	assert_int_equal(st.failing, 2);
	assert_int_equal(st.last_err, -EIO);
	/* A refused put: released, never told. */
	gate_close(f);
	assert_int_equal(put(q, 4, 0, 0), 0);
	wait_at_gate(f);
	assert_int_equal(put(q, 5, 0, 0), 0);
	assert_int_equal(put_told(q, 6, -EIO, 0, &t[4]), -EAGAIN);
	gate_open(f);
	assert_int_equal(store_queue_flush(q), 0);
	store_queue_stats(q, &st);
	assert_int_equal(st.failing, 0); /* clean batches: the store writes again */
	assert_int_equal(st.last_err, -EIO);
	assert_int_equal(put_told(q, 7, 0, 0, &t[5]), 0);
	store_queue_stop(q);

	for (int i = 0; i < 4; i++)
		assert_int_equal(t[i].calls, 1);
	assert_int_equal(t[0].result, -EEXIST);
	assert_int_equal(t[2].result, -ENOSPC);
	assert_int_equal(t[3].result, -EIO);
	assert_int_equal(t[4].calls, 0);
	assert_int_equal(t[5].calls, 1);
	assert_int_equal(t[5].result, 0);
	assert_int_equal(f->released[6], 1);
	assert_int_equal(f->violations, 0);
	fake_free(f);
}

/*
 * STORE_QUEUE_NOTIFY (the web front's creates): nobody blocks, the result goes to done only.
 * Like a waited write it is taken with the queue full and its failure is its owner's: neither
 * counted in failed nor returned by flush.
 */
static void test_notify(void **state)
{
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 1, 0, false);
	struct told t[3] = {0};
	struct store_stats st;

	(void)state;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f);
	assert_int_equal(put(q, 1, 0, 0), 0); /* the queue is full now */
	assert_int_equal(put(q, 2, 0, 0), -EAGAIN);
	assert_int_equal(put_told(q, 3, 0, STORE_QUEUE_NOTIFY | STORE_QUEUE_DURABLE, &t[0]), 0);
	assert_int_equal(put_told(q, 4, -EEXIST, STORE_QUEUE_NOTIFY, &t[1]), 0);
	assert_int_equal(put_told(q, 5, -EIO, STORE_QUEUE_NOTIFY, &t[2]), 0);
	gate_open(f);
	assert_int_equal(store_queue_flush(q), 0);
	store_queue_stats(q, &st);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.rejected_full, 1);
	assert_int_equal(st.failing, 1); /* the database's trouble is still seen */
	assert_int_equal(st.last_err, -EIO);
	store_queue_stop(q);

	for (int i = 0; i < 3; i++)
		assert_int_equal(t[i].calls, 1);
	assert_int_equal(t[0].result, 0);
	assert_int_equal(t[1].result, -EEXIST);
	assert_int_equal(t[2].result, -EIO);
	assert_int_equal(f->n_applied, 5);
	assert_int_equal(f->violations, 0);
	fake_free(f);
}

/* block_when_full (STORE_QUEUE_BLOCK): the put waits for room instead, and keeps its place. */
static void test_block_when_full(void **state)
{
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 1, 0, true);
	struct putter u;

	(void)state;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f);
	assert_int_equal(put(q, 1, 0, 0), 0);
	putter_start(&u, q, 2, 0, 0);
	sleep_ms(20);
	assert_false(__atomic_load_n(&u.returned, __ATOMIC_SEQ_CST)); /* no room while held */
	gate_open(f);
	pthread_join(u.t, NULL);
	assert_int_equal(u.got, 0);
	assert_int_equal(store_queue_flush(q), 0);
	store_queue_stop(q);

	assert_int_equal(f->violations, 0);
	assert_applied_in_order(f, 3);
	assert_released_once(f, 3);
	fake_free(f);
}

struct flusher {
	struct store_queue *q;
	int got;
	uint64_t applied_then;
	bool returned;
	pthread_t t;
};

static void *flusher_main(void *p)
{
	struct flusher *fl = p;
	struct store_stats st;

	fl->got = store_queue_flush(fl->q);
	store_queue_stats(fl->q, &st);
	fl->applied_then = st.applied;
	__atomic_store_n(&fl->returned, true, __ATOMIC_SEQ_CST);
	return NULL;
}

/* flush returns only when everything queued before it is applied, with the FIRST failure. */
static void test_flush(void **state)
{
	struct fake *f = fake_new();
	struct store_queue *q = start(f, 64, 2, false);
	struct flusher fl = {.q = q};
	struct store_stats st;

	(void)state;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f);
	assert_int_equal(put(q, 1, 0, 0), 0);
	assert_int_equal(put(q, 2, 0, 0), 0);
	assert_int_equal(put(q, 3, -ERR_SYNTAX, 0), 0);
	assert_int_equal(put(q, 4, 0, 0), 0);
	assert_int_equal(put(q, 5, -EEXIST, 0), 0);
	assert_int_equal(pthread_create(&fl.t, NULL, flusher_main, &fl), 0);
	sleep_ms(20);
	assert_false(__atomic_load_n(&fl.returned, __ATOMIC_SEQ_CST));
	gate_open(f);
	pthread_join(fl.t, NULL);
	assert_int_equal(fl.got, -ERR_SYNTAX);
	assert_int_equal(fl.applied_then, 6);
	store_queue_stats(q, &st);
	assert_int_equal(st.failed, 2);
	assert_int_equal(store_queue_flush(q), 0);
	store_queue_stop(q);

	assert_int_equal(f->violations, 0);
	assert_applied_in_order(f, 6);
	/* a failed write never fails its batch */
	for (int b = 0; b < f->n_batches; b++)
		assert_int_equal(f->batches[b].end, END_COMMIT);
	fake_free(f);
}

struct stopper {
	struct store_queue *q;
	pthread_t t;
};

static void *stopper_main(void *p)
{
	store_queue_stop(((struct stopper *)p)->q);
	return NULL;
}

/*
 * stop: puts are refused from the moment it begins (-ESHUTDOWN, the write released), and
 * everything already queued, a waiting caller's write included, is applied before it returns.
 */
static void test_stop_drains(void **state)
{
	struct fake *f = fake_new();
	struct store_queue *q = start(f, MAX_IDS, 16, false);
	struct stopper sp = {.q = q};
	struct putter u;
	int id, r = 0;

	(void)state;
	gate_close(f);
	assert_int_equal(put(q, 0, 0, 0), 0);
	wait_at_gate(f);
	for (id = 1; id <= 50; id++)
		assert_int_equal(put(q, id, 0, 0), 0);
	putter_start(&u, q, id++, 11, STORE_QUEUE_WAIT);
	wait_queued(q, 51);
	assert_int_equal(pthread_create(&sp.t, NULL, stopper_main, &sp), 0);
	/* until the stopper has run, puts still land in the queue */
	for (int i = 0; i < WAIT_MS && id < MAX_IDS - 1; i++, id++) {
		r = put(q, id, 0, 0);
		if (r != 0)
			break;
		sleep_ms(1);
	}
	assert_int_equal(r, -ESHUTDOWN);
	assert_int_equal(f->released[id], 1); /* refused and released at once */
	assert_int_equal(f->n_applied, 0);    /* the writer is still held */
	gate_open(f);
	pthread_join(sp.t, NULL);
	pthread_join(u.t, NULL);
	assert_int_equal(u.got, 11);

	assert_int_equal(f->violations, 0);
	assert_applied_in_order(f, id); /* every accepted one, the refused one not */
	assert_int_equal(f->batches[f->n_batches - 1].end, END_COMMIT);
	assert_released_once(f, id + 1);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_batches),
	    cmocka_unit_test(test_waiters_share_a_commit),
	    cmocka_unit_test(test_results_set_at_commit),
	    cmocka_unit_test(test_durable_batch),
	    cmocka_unit_test(test_failed_commit_reaches_every_waiter),
	    cmocka_unit_test(test_failed_begin),
	    cmocka_unit_test(test_queue_full),
	    cmocka_unit_test(test_failing_and_done),
	    cmocka_unit_test(test_notify),
	    cmocka_unit_test(test_block_when_full),
	    cmocka_unit_test(test_flush),
	    cmocka_unit_test(test_stop_drains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
