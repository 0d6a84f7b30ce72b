/* SPDX-License-Identifier: MIT */
/*
 * GET /api/diagnoses/ID/events: server-sent events (httpd.h, docs/api.md). Nothing here waits
 * for a probe: a stream with nothing new to say suspends its connection, and the loop thread
 * resumes it when the job changes (job_wake_locked). Each event carries a check string as the
 * loop thread serialised it.
 */
#include "web/httpd.h"
#include "core/sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SSE_CHUNK   4096
#define SSE_BUF_MAX (16u << 20) /* every event of one diagnosis fits many times over */

struct sse {
	struct web *w;
	struct job *job; /* NULL: another node runs it (remote) */
	char id[STORE_ID_LEN + 1];
	struct MHD_Connection *conn;
	size_t next;     /* events of job->order sent */
	int sent_status; /* last status announced, -1 none */
	bool ended;
	struct sbuf out; /* events not yet read by libmicrohttpd */
	size_t off;      /* of them, bytes already read */
};

/* Under w->lock: append what is new. Returns 0 or the buffer's error. */
static int collect_locked(struct sse *s)
{
	struct job *j = s->job;

	if (s->ended)
		return 0;
	if (j->deleted) {
		s->ended = true;
		return sbuf_add(&s->out, "event: deleted\ndata: {}\n\n");
	}
	if ((int)j->status != s->sent_status && j->status != STORE_DONE) {
		sbuf_addf(&s->out, "event: status\ndata: {\"status\":\"%s\"}\n\n",
		          job_status_name(j));
		s->sent_status = (int)j->status;
	}
	while (s->next < j->n_done) {
		size_t i = j->order[s->next++];

		sbuf_addf(&s->out, "event: check\ndata: {\"index\":%zu,\"check\":%s}\n\n", i,
		          j->check_json[i]);
	}
	if (j->status == STORE_DONE || j->status == STORE_INTERRUPTED) {
		sbuf_addf(&s->out, "event: done\ndata: {\"status\":\"%s\",\"risk\":\"%s\"}\n\n",
		          job_status_name(j), j->risk);
		s->ended = true;
	}
	return s->out.err;
}

/* Nothing new: park the connection until the job changes. Under w->lock. */
static ssize_t suspend_locked(struct sse *s)
{
	struct waiter *wt = malloc(sizeof(*wt));

	if (!wt)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	wt->conn = s->conn;
	wt->next = s->job->waiters;
	s->job->waiters = wt;
	MHD_suspend_connection(s->conn);
	return 0;
}

/* A live row of the store as the check event a local stream sends, if it is the next. */
static void live_event(void *ud, const struct store_live_row *row)
{
	struct sse *s = ud;

	if (row->seq != s->next)
		return; /* rows come in seq order from s->next: a gap ends this read */
	sbuf_addf(&s->out, "event: check\ndata: {\"index\":%u,\"check\":%s}\n\n", row->index,
	          row->json);
	s->next++;
}

/*
 * A diagnosis another node accepted (a shared PostgreSQL store): its status as committed, and
 * the checks that node has written as live rows since (a diagnosis running longer than a
 * quarter of a second: runner.c), read again each time the follow timer resumes the stream
 * (SSE_FOLLOW_MS) or the store's notification wakes it, until it is done, interrupted or
 * deleted; the rest of the checks come with the result (GET), which the page reads at "done".
 * If the wake-up is late or lost, the next tick reads the store anyway, so the page always
 * gets its "done".
 */
static int collect_remote(struct sse *s)
{
	struct store_diagnosis sd;
	int r;

	if (s->ended)
		return 0;
	r = store_get(s->w->store, s->id, &sd);
	if (r == -ENOENT) {
		s->ended = true;
		return sbuf_add(&s->out, "event: deleted\ndata: {}\n\n");
	}
	if (r < 0)
		return 0; /* the store is away for now: look again at the next tick */
	/* Queued again after running: another node took it over and starts from its first
	 * check (its live rows too); the page replaces each check by its index. */
	if (sd.status == STORE_QUEUED && s->sent_status == STORE_RUNNING)
		s->next = 0;
	if ((int)sd.status != s->sent_status && sd.status != STORE_DONE &&
	    sd.status != STORE_INTERRUPTED) {
		sbuf_addf(&s->out, "event: status\ndata: {\"status\":\"%s\"}\n\n",
		          store_status_name(sd.status));
		s->sent_status = (int)sd.status;
	}
	if (sd.status == STORE_RUNNING)
		(void)store_live_get(s->w->store, s->id, (uint32_t)s->next, live_event, s);
	if (sd.status == STORE_DONE || sd.status == STORE_INTERRUPTED) {
		sbuf_addf(&s->out, "event: done\ndata: {\"status\":\"%s\",\"risk\":\"%s\"}\n\n",
		          store_status_name(sd.status), sd.risk);
		s->ended = true;
	}
	store_diagnosis_done(&sd);
	return s->out.err;
}

/* Park a remote stream until the next tick (or shutdown). Under w->lock. */
static ssize_t suspend_remote_locked(struct sse *s)
{
	struct waiter *wt = malloc(sizeof(*wt));

	if (!wt)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	wt->conn = s->conn;
	wt->next = s->w->remote_waiters;
	s->w->remote_waiters = wt;
	MHD_suspend_connection(s->conn);
	return 0;
}

static ssize_t refill_remote(struct sse *s)
{
	struct web *w = s->w;
	ssize_t ret = 0;
	int r = w->stopping ? 0 : collect_remote(s);

	pthread_mutex_lock(&w->lock);
	if (w->stopping)
		ret = MHD_CONTENT_READER_END_OF_STREAM;
	else if (r < 0)
		ret = MHD_CONTENT_READER_END_WITH_ERROR;
	else if (s->out.len == 0 && s->ended)
		ret = MHD_CONTENT_READER_END_OF_STREAM;
	else if (s->out.len == 0)
		ret = suspend_remote_locked(s);
	pthread_mutex_unlock(&w->lock);
	return ret;
}

void sse_store_changed(void *ud)
{
	sse_tick(ud);
}

void sse_tick(struct web *w)
{
	struct waiter *wt;

	pthread_mutex_lock(&w->lock);
	wt = w->remote_waiters;
	w->remote_waiters = NULL;
	while (wt) {
		struct waiter *next = wt->next;

		MHD_resume_connection(wt->conn);
		free(wt);
		wt = next;
	}
	pthread_mutex_unlock(&w->lock);
}

/* Refill the buffer when it is drained. Returns 0 to go on, or what sse_read returns. */
static ssize_t refill(struct sse *s)
{
	struct web *w = s->w;
	ssize_t ret = 0;

	sbuf_reset(&s->out);
	s->off = 0;
	if (!s->job)
		return refill_remote(s);
	pthread_mutex_lock(&w->lock);
	if (w->stopping)
		ret = MHD_CONTENT_READER_END_OF_STREAM;
	else if (collect_locked(s) < 0)
		ret = MHD_CONTENT_READER_END_WITH_ERROR;
	else if (s->out.len == 0 && s->ended)
		ret = MHD_CONTENT_READER_END_OF_STREAM;
	else if (s->out.len == 0)
		ret = suspend_locked(s);
	pthread_mutex_unlock(&w->lock);
	return ret;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	size_t n;

	(void)pos;
	if (s->off == s->out.len) {
		ssize_t ret = refill(s);

		if (ret != 0 || s->out.len == 0)
			return ret;
	}
	n = s->out.len - s->off;
	if (n > max)
		n = max;
	memcpy(buf, s->out.p + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse *s = cls;

	if (s->job)
		job_unref(s->w, s->job);
	sbuf_free(&s->out);
	free(s);
}

static enum MHD_Result stream(struct web *w, struct MHD_Connection *c, struct job *j,
                              const char *id);

/*
 * Not in memory: one final event from the store, or, for a diagnosis still queued or running
 * there (another node runs it), a stream that follows the store.
 */
static enum MHD_Result stored_events(struct web *w, struct MHD_Connection *c, const char *id)
{
	struct store_diagnosis sd;
	struct MHD_Response *r;
	struct sbuf b;
	size_t len;
	char *body;

	if (store_get(w->store, id, &sd) < 0)
		return httpd_error(w, c, 404, "not-found", "No such diagnosis.");
	if (sd.status == STORE_QUEUED || sd.status == STORE_RUNNING) {
		store_diagnosis_done(&sd);
		return stream(w, c, NULL, id);
	}
	sbuf_init(&b, SSE_CHUNK);
	sbuf_addf(&b, "event: done\ndata: {\"status\":\"%s\",\"risk\":\"%s\"}\n\n",
	          store_status_name(sd.status), sd.risk);
	store_diagnosis_done(&sd);
	body = sbuf_take(&b, &len);
	if (!body)
		return MHD_NO;
	r = httpd_text("text/event-stream", body, len);
	if (r)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	return httpd_queue(w, c, 200, r);
}

enum MHD_Result sse_events(struct web *w, struct MHD_Connection *c, const char *id)
{
	struct job *j;

	pthread_mutex_lock(&w->lock);
	j = job_find_locked(w, id);
	if (j)
		job_ref_locked(j);
	pthread_mutex_unlock(&w->lock);
	if (!j)
		return stored_events(w, c, id);
	return stream(w, c, j, id);
}

/* The event stream of j (which the stream holds a reference to), or of the store's id. */
static enum MHD_Result stream(struct web *w, struct MHD_Connection *c, struct job *j,
                              const char *id)
{
	struct MHD_Response *r;
	struct sse *s;

	s = calloc(1, sizeof(*s));
	if (!s) {
		if (j)
			job_unref(w, j);
		return MHD_NO;
	}
	*s = (struct sse){.w = w, .job = j, .conn = c, .sent_status = -1};
	snprintf(s->id, sizeof(s->id), "%s", id);
	sbuf_init(&s->out, SSE_BUF_MAX);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_CHUNK, sse_read, s, sse_free);
	if (!r) {
		sse_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return httpd_queue(w, c, 200, r);
}

void sse_wake_all_locked(struct web *w)
{
	struct waiter *wt = w->remote_waiters;

	for (size_t b = 0; b < WEB_HBUCKETS; b++)
		for (struct job *j = w->table[b]; j; j = j->hnext)
			job_wake_locked(j);
	w->remote_waiters = NULL;
	while (wt) {
		struct waiter *next = wt->next;

		MHD_resume_connection(wt->conn);
		free(wt);
		wt = next;
	}
}
