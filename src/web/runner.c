/* SPDX-License-Identifier: MIT */
/*
 * Diagnosis jobs and the loop thread that runs them (web.h). The HTTP threads reserve and
 * enqueue jobs; the loop thread starts at most max_inflight diagnoses at once on its engine,
 * turns each finished check into a JSON string under web->lock, saves the result through the
 * store's asynchronous writer (never blocking the loop) and purges old results on a uv_timer
 * with the purge itself on libuv's worker pool.
 */
#include "web/web.h"
#include "web/httpd.h"
#include "core/err.h"
#include "core/lang.h"
#include "diagnosis/diagnosis.h"
#include "diagnosis/visit.h"
#include "prober/pool.h"
#include "store/store_rows.h"

#include <errno.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t web_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned hash_str(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % WEB_HBUCKETS;
}

static unsigned hash_addr(const struct addr *a)
{
	unsigned h = 2166136261u ^ a->family;

	for (size_t i = 0; i < sizeof(a->bytes); i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	return h % WEB_HBUCKETS;
}

struct job *job_new(struct web *w)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->n_checks = w->n_checks;
	j->n_slots = w->n_checks * VISIT_MAX_TARGETS;
	j->check_json = calloc(j->n_slots, sizeof(*j->check_json));
	j->order = calloc(j->n_slots, sizeof(*j->order));
	if (!j->check_json || !j->order) {
		free(j->check_json);
		free(j->order);
		free(j);
		return NULL;
	}
	j->refs = 1;
	j->status = STORE_QUEUED;
	j->web = w;
	return j;
}

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->n_slots; i++)
		free(j->check_json[i]);
	free(j->check_json);
	free(j->order);
	free(j->doc);
	free(j);
}

void job_ref_locked(struct job *j)
{
	j->refs++;
}

void job_unref_locked(struct web *w, struct job *j)
{
	(void)w;
	if (--j->refs == 0)
		job_free(j);
}

void job_unref(struct web *w, struct job *j)
{
	pthread_mutex_lock(&w->lock);
	job_unref_locked(w, j);
	pthread_mutex_unlock(&w->lock);
}

struct job *job_find_locked(struct web *w, const char *id)
{
	for (struct job *j = w->table[hash_str(id)]; j; j = j->hnext)
		if (strcmp(j->id, id) == 0)
			return j;
	return NULL;
}

struct job *active_find_locked(struct web *w, const struct addr *a)
{
	for (struct job *j = w->active[hash_addr(a)]; j; j = j->anext)
		if (addr_equal(&j->requester, a))
			return j;
	for (struct active_alias *x = w->aliases[hash_addr(a)]; x; x = x->next)
		if (addr_equal(&x->a, a))
			return x->j;
	return NULL;
}

/*
 * The first target held as an alias: targets[0] is the requester itself when it may be
 * diagnosed (found through web->active), else every target is an alias (a refused requester
 * with tickets).
 */
static size_t alias_first(const struct job *j)
{
	return j->n_targets > 0 && addr_equal(&j->targets[0].addr, &j->requester) ? 1 : 0;
}

void active_add_locked(struct web *w, struct job *j)
{
	unsigned h = hash_addr(&j->requester);

	j->anext = w->active[h];
	w->active[h] = j;
	job_ref_locked(j);
	for (size_t t = alias_first(j); t < j->n_targets; t++) {
		struct active_alias *x = &j->alias[t - alias_first(j)];

		h = hash_addr(&j->targets[t].addr);
		*x = (struct active_alias){j->targets[t].addr, j, w->aliases[h]};
		w->aliases[h] = x;
	}
}

static void aliases_del_locked(struct web *w, struct job *j)
{
	for (size_t t = alias_first(j); t < j->n_targets; t++) {
		struct active_alias **pp = &w->aliases[hash_addr(&j->targets[t].addr)];

		for (; *pp; pp = &(*pp)->next) {
			if (*pp == &j->alias[t - alias_first(j)]) {
				*pp = (*pp)->next;
				break;
			}
		}
	}
}

void active_del_locked(struct web *w, struct job *j)
{
	struct job **pp = &w->active[hash_addr(&j->requester)];

	for (; *pp; pp = &(*pp)->anext) {
		if (*pp == j) {
			*pp = j->anext;
			j->anext = NULL;
			aliases_del_locked(w, j);
			job_unref_locked(w, j);
			return;
		}
	}
}

static void table_del_locked(struct web *w, struct job *j)
{
	struct job **pp = &w->table[hash_str(j->id)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == j) {
			*pp = j->hnext;
			j->hnext = NULL;
			j->listed = false;
			job_unref_locked(w, j);
			return;
		}
	}
}

void job_wake_locked(struct job *j)
{
	struct waiter *wt = j->waiters;

	j->waiters = NULL;
	while (wt) {
		struct waiter *next = wt->next;

		MHD_resume_connection(wt->conn);
		free(wt);
		wt = next;
	}
}

void job_enqueue(struct web *w, struct job *j)
{
	unsigned h = hash_str(j->id);

	pthread_mutex_lock(&w->lock);
	j->hnext = w->table[h];
	w->table[h] = j;
	j->listed = true;
	job_ref_locked(j); /* the table's */
	job_ref_locked(j); /* the queue's */
	j->qnext = NULL;
	if (w->q_tail)
		w->q_tail->qnext = j;
	else
		w->q_head = j;
	w->q_tail = j;
	w->reserved--;
	w->q_len++;
	pthread_mutex_unlock(&w->lock);
	uv_async_send(&w->wake);
}

/* A finished job joins the in-memory cache; the oldest leave it (they stay in the store). */
static void finished_add_locked(struct web *w, struct job *j)
{
	j->dnext = NULL;
	j->dprev = w->d_tail;
	if (w->d_tail)
		w->d_tail->dnext = j;
	else
		w->d_head = j;
	w->d_tail = j;
	w->d_len++;
	while (w->d_len > w->cfg.done_cache && w->d_head) {
		struct job *old = w->d_head;

		w->d_head = old->dnext;
		if (w->d_head)
			w->d_head->dprev = NULL;
		else
			w->d_tail = NULL;
		w->d_len--;
		old->dnext = old->dprev = NULL;
		table_del_locked(w, old);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The result in the store's rows.                                                             */

/* /metrics counts ports in one slot per enum port_state, in its order, then one for "other". */
#define METRICS_PORT_SLOTS                                                                         \
	(sizeof(((struct metrics *)0)->ports_by_state) /                                           \
	 sizeof(((struct metrics *)0)->ports_by_state[0]))
_Static_assert(METRICS_PORT_SLOTS == PORT_X_MAX + 1,
               "a slot per port state, and the last for \"other\"");

/* Count the state of every probed port of finished check i, for /metrics. */
static void count_ports(struct web *w, const struct diagnosis *d, size_t i)
{
	for (size_t k = 0; k < diagnosis_check_ports(d, i); k++) {
		const struct port_result *pr = diagnosis_port_result(d, i, k);
		/* A state the metrics do not know lands in the last slot, "other". */
		size_t slot =
		    pr && (unsigned)pr->state < PORT_X_MAX ? (size_t)pr->state : PORT_X_MAX;

		atomic_fetch_add(&w->m.ports_by_state[slot], 1);
	}
}

static void on_saved(void *ud, int result);

/*
 * The state of check i over every address, by the diagnosis's own folding rule (diagnosis.h): open
 * if any address has it open, else error, else open|filtered, else closed, else filtered. The
 * report counts per diagnosis: a door open on any address of the visitor counts.
 */
static enum port_state visit_check_state(const struct visit *v, size_t i)
{
	static const enum port_state rank[] = {PORT_OPEN, PORT_ERROR, PORT_OPEN_FILTERED,
	                                       PORT_CLOSED, PORT_FILTERED};
	bool seen[PORT_X_MAX + 1] = {false};

	for (size_t t = 0; t < visit_targets(v); t++) {
		enum port_state st = diagnosis_check_state(visit_diagnosis(v, t), i);
		seen[(unsigned)st < PORT_X_MAX ? st : PORT_X_MAX] = true;
	}
	for (size_t k = 0; k < sizeof(rank) / sizeof(rank[0]); k++)
		if (seen[rank[k]])
			return rank[k];
	return PORT_FILTERED;
}

/* Whether frows[0..n) already holds finding id of check name (another address raised it). */
static bool finding_listed(const struct store_finding_row *frows, size_t n, const char *check,
                           const char *id)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(frows[k].check, check) == 0 && strcmp(frows[k].id, id) == 0)
			return true;
	return false;
}

/* Every address's findings of check i, each (check, id) once, then the visit's own. */
static size_t finding_rows(const struct visit *v, size_t i, struct store_finding_row *frows,
                           size_t nf)
{
	for (size_t t = 0; t < visit_targets(v); t++) {
		const struct diagnosis *d = visit_diagnosis(v, t);
		const char *name = diagnosis_check_def(d, i)->name;

		for (size_t k = 0; k < diagnosis_check_findings(d, i); k++) {
			const struct finding *f = diagnosis_finding(d, i, k);

			if (finding_listed(frows, nf, name, f->id))
				continue;
			frows[nf++] = (struct store_finding_row){.check = name,
			                                         .id = f->id,
			                                         .severity = f->severity,
			                                         .confidence = f->confidence};
		}
	}
	for (size_t k = 0; k < visit_findings(v); k++) {
		const struct visit_finding *vf = visit_finding(v, k);

		if (vf->check == i)
			frows[nf++] = (struct store_finding_row){
			    .check = diagnosis_check_def(visit_diagnosis(v, 0), i)->name,
			    .id = vf->f.id,
			    .severity = vf->f.severity,
			    .confidence = vf->f.confidence};
	}
	return nf;
}

/* The STORE_FAMILY_* bits of the addresses the visit diagnosed, for the report's families. */
static unsigned visit_families(const struct visit *v)
{
	unsigned f = 0;

	for (size_t t = 0; t < visit_targets(v); t++)
		f |= visit_target(v, t)->addr.family == AF_INET ? STORE_FAMILY_V4 : STORE_FAMILY_V6;
	return f;
}

/*
 * Queue the result: the document (the visit's) as text, one row per probed port of every check
 * of the peer's address (the other addresses' rows are in the document), one per finding of
 * any address, and each check's state folded over the addresses for the report's summary.
 * Every string points into v or static tables; the store copies them at the call. On 0,
 * on_saved follows.
 */
static int save_result(struct web *w, struct job *j, const struct visit *v, const char *text,
                       int64_t finished_ms)
{
	const struct diagnosis *d = visit_diagnosis(v, 0);
	size_t n = diagnosis_checks(d), np = 0, nf = visit_findings(v), nc = 0, ns = 0;
	struct store_check_row *rows = NULL;
	struct store_finding_row *frows = NULL;
	struct store_check_state *states = NULL;
	int r = -ENOMEM;

	for (size_t i = 0; i < n; i++) {
		np += diagnosis_check_ports(d, i);
		for (size_t t = 0; t < visit_targets(v); t++)
			nf += diagnosis_check_findings(visit_diagnosis(v, t), i);
	}
	rows = calloc(np ? np : 1, sizeof(*rows));
	frows = calloc(nf ? nf : 1, sizeof(*frows));
	states = calloc(n ? n : 1, sizeof(*states));
	if (!rows || !frows || !states)
		goto out;
	nf = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = diagnosis_check_def(d, i)->name;

		if (!diagnosis_check_done(d, i))
			continue;
		nc += store_port_rows(d, i, rows + nc);
		states[ns++] = (struct store_check_state){
		    .check = name, .state = port_state_name(visit_check_state(v, i))};
		nf = finding_rows(v, i, frows, nf);
	}
	r = store_save_result(w->store, &(struct store_result){
	                                    .id = j->id,
	                                    .finished_ms = finished_ms,
	                                    .risk = j->risk,
	                                    .json = text,
	                                    .checks = rows,
	                                    .n_checks = nc,
	                                    .findings = frows,
	                                    .n_findings = nf,
	                                    .states = states,
	                                    .n_states = ns,
	                                    .families = visit_families(v),
	                                    .saved = on_saved,
	                                    .saved_ud = j,
	                                });
out:
	free(rows);
	free(frows);
	free(states);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Failed store writes: logged, told to /healthz (metrics.c) and to new POSTs (api.c).        */

#define STORE_LOG_EVERY_MS 10000 /* one line per 10 s at most, however many writes fail */
#define STORE_RETRY_MS     5000  /* new diagnoses refused this long after a failure */

void store_failure_note(struct web *w, const char *what, const char *id, int err)
{
	int64_t now = web_mono_ms();
	unsigned long quiet = 0;
	bool say = false;

	atomic_store(&w->store_fail_ms, now);
	pthread_mutex_lock(&w->lock);
	if (!w->store_log_ms || now - w->store_log_ms >= STORE_LOG_EVERY_MS) {
		say = true;
		quiet = w->store_log_quiet;
		w->store_log_ms = now;
		w->store_log_quiet = 0;
	} else {
		w->store_log_quiet++;
	}
	pthread_mutex_unlock(&w->lock);
	if (say)
		fprintf(stderr,
		        "exposure serve: store write failed: %s%s%s not stored: %s (%lu more "
		        "failures not logged)\n",
		        what, id ? " " : "", id ? id : "", err_str(err), quiet);
}

int64_t store_retry_ms(struct web *w)
{
	struct store_stats ss;
	int64_t since = web_mono_ms() - atomic_load(&w->store_fail_ms);

	if (!atomic_load(&w->store_fail_ms) || since >= STORE_RETRY_MS)
		return 0; /* none lately: let one through, its write tells whether the store is back
		           */
	store_get_stats(w->store, &ss);
	return ss.failing ? STORE_RETRY_MS - since : 0;
}

const char *job_status_name(const struct job *j)
{
	return j->not_stored ? "failed" : store_status_name(j->status);
}

/* ------------------------------------------------------------------------------------------ */
/* Loop thread.                                                                                */

static void finish_locked(struct web *w, struct job *j, enum store_status st, int64_t now_ms)
{
	j->status = st;
	j->finished_ms = now_ms;
	active_del_locked(w, j);
	job_wake_locked(j);
	if (j->listed)
		finished_add_locked(w, j);
}

/*
 * The diagnosis ended at j->end_ms and its result is kept (result 0) or not (negative): only
 * now is it done, so the page never says done for a result that a reload would not find.
 */
static void settle(struct web *w, struct job *j, int result)
{
	pthread_mutex_lock(&w->lock);
	j->not_stored = result < 0;
	finish_locked(w, j, result < 0 ? STORE_INTERRUPTED : STORE_DONE, j->end_ms);
	pthread_mutex_unlock(&w->lock);
	if (result < 0) {
		atomic_fetch_add(&w->m.not_stored, 1);
		store_failure_note(w, "the result of", j->id, result);
		/* Its row says running: interrupted if the store takes this write, else the next
		 * start marks it so. */
		store_set_status(w->store, j->id, STORE_INTERRUPTED, j->end_ms);
		return;
	}
	atomic_fetch_add(&w->m.done, 1);
	metrics_observe_latency(w, (double)(j->end_ms - j->created_ms) / 1000.0);
}

/* The store's answer for a result, on its writer thread (store_result.saved). */
static void on_saved(void *ud, int result)
{
	struct job *j = ud;
	struct web *w = j->web;

	settle(w, j, result);
	job_unref(w, j); /* the save's */
}

static void on_check(void *ud, struct visit *v, size_t t, size_t i)
{
	struct job *j = ud;
	struct web *w = j->web;
	/* The check object of the HTTP API: serialised once, here, and served as these bytes. */
	json_t *o = visit_check_json(v, t, i);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t slot = t * w->n_checks + i;

	count_ports(w, visit_diagnosis(v, t), i);
	json_decref(o);
	pthread_mutex_lock(&w->lock);
	if (i < w->n_checks && slot < j->n_checks && !j->check_json[slot] && s) {
		j->check_json[slot] = s;
		j->order[j->n_done++] = slot;
		s = NULL;
	}
	job_wake_locked(j);
	pthread_mutex_unlock(&w->lock);
	free(s);
}

static void on_done(void *ud, struct visit *v)
{
	struct job *j = ud;
	struct web *w = j->web;
	json_t *doc = visit_json(v);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	/* One reading of the clock: the stored result and the one in memory finish at the same ms.
	 */
	int64_t now_ms = store_now_ms();
	double run_ms = (double)(now_ms - j->started_ms);
	bool deleted;
	int r = text ? 0 : -ENOMEM;

	snprintf(j->risk, sizeof(j->risk), "%s", risk_name(visit_risk(v)));
	pthread_mutex_lock(&w->lock);
	deleted = j->deleted;
	/* Before the save: on_saved may run on the store's thread before the next lines. */
	j->doc = text;
	j->end_ms = now_ms;
	if (text && !deleted)
		job_ref_locked(j); /* the save's, until on_saved */
	pthread_mutex_unlock(&w->lock);
	if (text && !deleted) {
		r = save_result(w, j, v, text, now_ms);
		if (r < 0)
			job_unref(w, j);
	}
	json_decref(doc);

	pthread_mutex_lock(&w->lock);
	w->inflight--;
	w->avg_run_ms = w->avg_run_ms == 0 ? run_ms : 0.9 * w->avg_run_ms + 0.1 * run_ms;
	j->gnext = w->graveyard; /* visit_free once this callback has returned */
	w->graveyard = j;
	pthread_mutex_unlock(&w->lock);
	/* Nothing to keep (deleted meanwhile), or the save was refused at once: settled now. */
	if (deleted || r < 0)
		settle(w, j, r);
	uv_async_send(&w->wake);
}

static void start_one(struct web *w, struct job *j)
{
	struct diag_options o = {
	    .ports = w->cfg.ports_set ? &w->cfg.ports : NULL,
	    .checks = w->cfg.checks,
	    .opt_in = w->cfg.opt_in,
	    .timeout_ms = j->timeout_ms,
	};
	int err = 0;

	j->started_ms = store_now_ms();
	store_set_status(w->store, j->id, STORE_RUNNING, j->started_ms);
	if (j->n_targets == 0) /* the requester alone: its address is the peer */
		j->targets[j->n_targets++] = (struct visit_target){j->requester, VISIT_PEER};
	j->visit = visit_start(w->engine, j->target, j->targets, j->n_targets, &o, on_check,
	                       on_done, j, &err);
	if (j->visit)
		return;
	fprintf(stderr, "exposure serve: diagnosis %s did not start: %s\n", j->id, err_str(err));
	atomic_fetch_add(&w->m.failed_start, 1);
	atomic_fetch_add(&w->m.interrupted, 1);
	store_set_status(w->store, j->id, STORE_INTERRUPTED, store_now_ms());
	pthread_mutex_lock(&w->lock);
	w->inflight--;
	finish_locked(w, j, STORE_INTERRUPTED, store_now_ms());
	job_unref_locked(w, j); /* the queue's */
	pthread_mutex_unlock(&w->lock);
}

_Static_assert(RESUME_SEALED_MAX <= STORE_RESUME_MAX, "a sealed resume fits the store");

/* A job from a dead node's sealed record: its id, token and times are the row's. */
static struct job *job_from_takeover(struct web *w, const struct store_takeover *t)
{
	struct job *j;
	struct resume r;
	enum lang lang;

	if (resume_open(w->resume_key, t->id, t->resume, t->resume_len, &r) < 0 ||
	    !(j = job_new(w)))
		return NULL;
	memcpy(j->id, t->id, sizeof(j->id));
	memcpy(j->token_hash, t->token_hash, sizeof(j->token_hash));
	j->requester = r.requester;
	memcpy(j->targets, r.targets, sizeof(j->targets));
	j->n_targets = r.n_targets;
	snprintf(j->target, sizeof(j->target), "%s", r.target);
	/* The row's text: as api.c wrote it, read back through the one tag parser. */
	snprintf(j->lang, sizeof(j->lang), "%s",
	         lang_name(lang_choose(t->lang, &lang) == 0 ? lang : LANG_EN));
	j->device = t->device;
	j->timeout_ms = r.timeout_ms;
	j->created_ms = t->created_ms;
	sodium_memzero(&r, sizeof(r));
	return j;
}

/* This node's rules allow every address j would probe (its own configuration decides what
 * it probes, whichever node accepted the diagnosis). */
static bool takeover_allowed(struct web *w, const struct job *j)
{
	struct target_decision d;

	if (j->n_targets == 0)
		return target_decide(&w->cfg.rules, &j->requester, &d);
	for (size_t i = 0; i < j->n_targets; i++)
		if (!target_decide(&w->cfg.rules, &j->targets[i].addr, &d))
			return false;
	return true;
}

/*
 * The node that accepted this diagnosis died; the store gave it to this node (queued, ours
 * now). Run it as if accepted here, under this node's target rules, the same one-at-a-time
 * rule and queue bound; what cannot run (a record that does not open, an address this node
 * refuses, a full queue, stopping) ends interrupted, as it would have without a takeover.
 * Heartbeat thread.
 */
void runner_takeover(void *ud, const struct store_takeover *t)
{
	struct web *w = ud;
	struct job *j = job_from_takeover(w, t);
	bool ok = false;

	if (j && takeover_allowed(w, j)) {
		pthread_mutex_lock(&w->lock);
		ok = !w->stopping && w->q_len + w->reserved < w->cfg.queue_max;
		for (size_t i = 0; ok && i < j->n_targets; i++)
			ok = active_find_locked(w, &j->targets[i].addr) == NULL;
		if (ok && j->n_targets == 0)
			ok = active_find_locked(w, &j->requester) == NULL;
		if (ok) {
			active_add_locked(w, j);
			w->reserved++;
		}
		pthread_mutex_unlock(&w->lock);
	}
	if (!ok) {
		store_set_status(w->store, t->id, STORE_INTERRUPTED, store_now_ms());
		atomic_fetch_add(&w->m.interrupted, 1);
		if (j)
			job_unref(w, j);
		return;
	}
	atomic_fetch_add(&w->m.taken_over, 1);
	job_enqueue(w, j);
	job_unref(w, j);
}

static void purge_work(uv_work_t *req)
{
	struct web *w = req->data;
	int64_t cutoff = store_now_ms() - (int64_t)w->cfg.retention_days * 86400000;
	int n = store_purge_older_than(w->store, cutoff);

	if (n > 0)
		atomic_fetch_add(&w->m.purged, (unsigned long long)n);
}

static void purge_after(uv_work_t *req, int status)
{
	struct web *w = req->data;

	(void)status;
	free(req);
	atomic_store(&w->purge_running, false);
}

static void on_purge_timer(uv_timer_t *t)
{
	struct web *w = t->data;
	uv_work_t *req;

	if (atomic_load(&w->purge_running))
		return;
	req = calloc(1, sizeof(*req));
	if (!req)
		return;
	req->data = w;
	atomic_store(&w->purge_running, true);
	if (uv_queue_work(&w->loop, req, purge_work, purge_after) < 0) {
		atomic_store(&w->purge_running, false);
		free(req);
	}
}

static void on_wake(uv_async_t *a)
{
	struct web *w = a->data;
	struct job *grave, *start = NULL, **tail = &start;
	bool stop;

	pthread_mutex_lock(&w->lock);
	grave = w->graveyard;
	w->graveyard = NULL;
	stop = w->stopping;
	while (!stop && w->q_head && w->inflight < w->cfg.max_inflight) {
		struct job *j = w->q_head;

		w->q_head = j->qnext;
		if (!w->q_head)
			w->q_tail = NULL;
		w->q_len--;
		j->qnext = NULL;
		if (j->deleted) {
			finish_locked(w, j, STORE_INTERRUPTED, store_now_ms());
			job_unref_locked(w, j);
			continue;
		}
		j->status = STORE_RUNNING;
		job_wake_locked(j);
		w->inflight++;
		*tail = j;
		tail = &j->qnext;
	}
	pthread_mutex_unlock(&w->lock);

	while (grave) {
		struct job *j = grave;

		grave = j->gnext;
		visit_free(j->visit);
		j->visit = NULL;
		job_unref(w, j); /* the queue's */
	}
	while (start) {
		struct job *j = start;

		start = j->qnext;
		j->qnext = NULL;
		start_one(w, j);
	}
	if (stop) {
		pthread_mutex_lock(&w->lock);
		bool idle = w->inflight == 0 && !w->graveyard;
		pthread_mutex_unlock(&w->lock);
		if (idle && !w->loop_closed) {
			w->loop_closed = true;
			uv_close((uv_handle_t *)&w->wake, NULL);
			uv_close((uv_handle_t *)&w->purge_timer, NULL);
			uv_close((uv_handle_t *)&w->follow_timer, NULL);
			if (w->pool)
				pool_close(w->pool);
		}
	}
}

/* A diagnosis that runs longer than this shows its checks to other nodes as they finish;
 * a quicker one only with its result (no live rows written for it). */
#define LIVE_AFTER_MS 250

/* The checks j finished since the last call, as live rows. Under w->lock, loop thread. */
static void live_flush_job_locked(struct web *w, struct job *j)
{
	struct store_live_row rows[STORE_LIVE_BATCH];
	size_t n = 0;

	while (j->live_sent + n < j->n_done && n < STORE_LIVE_BATCH) {
		size_t k = j->live_sent + n;

		rows[n] = (struct store_live_row){(uint32_t)k, (uint32_t)j->order[k],
		                                  j->check_json[j->order[k]]};
		n++;
	}
	/* Queued or refused (the queue full, the store away): either way not sent twice; the
	 * other nodes' streams then show these checks with the result, as before. */
	if (n && store_live_add(w->store, j->id, rows, n) != -ENOMEM)
		j->live_sent += n;
}

/*
 * Live rows for the streams that follow this node's diagnoses from other nodes (a shared
 * store; issue 14 §2): every follow tick, the checks finished since the last one, of each
 * diagnosis running for more than LIVE_AFTER_MS. Loop thread.
 */
static void live_flush(struct web *w)
{
	int64_t before = store_now_ms() - LIVE_AFTER_MS;

	pthread_mutex_lock(&w->lock);
	for (size_t b = 0; b < WEB_HBUCKETS; b++)
		for (struct job *j = w->table[b]; j; j = j->hnext)
			if (j->status == STORE_RUNNING && j->started_ms <= before &&
			    j->live_sent < j->n_done)
				live_flush_job_locked(w, j);
	pthread_mutex_unlock(&w->lock);
}

static void on_follow_timer(uv_timer_t *t)
{
	struct web *w = t->data;

	if (w->resumable)
		live_flush(w);
	sse_tick(w);
}

static void *loop_main(void *arg)
{
	struct web *w = arg;

	uv_run(&w->loop, UV_RUN_DEFAULT);
	return NULL;
}

/*
 * The probers, forked before the front accepts traffic: the engine's jobs go to them from now
 * on, and this process never parses a probe reply (docs/internals/PRIVSEP.md). They share the
 * engine's limits (pool.h).
 */
static int probers_start(struct web *w, const struct engine_opts *eo)
{
	struct prober_conf c = {.eo = *eo,
	                        .sandbox = true,
	                        .test_hooks = w->cfg.test_hooks,
	                        .tls = catalogue_tls(w->cfg.checks)};
	struct pool_opts po = {
	    .probers = w->cfg.probers, .mem_mib = w->cfg.prober_memory_mib, .conf = &c};
	struct engine_remote remote;
	char err[160] = "";

	w->pool = pool_new(&w->loop, &po, err, sizeof(err));
	if (!w->pool || err[0]) {
		fprintf(stderr, "exposure serve: %s\n", err);
		if (w->pool)
			uv_run(&w->loop, UV_RUN_NOWAIT); /* pool_new closed its handles */
		pool_free(w->pool);
		w->pool = NULL;
		return -ERR_INTERNAL;
	}
	pool_remote(w->pool, &remote);
	engine_set_remote(w->engine, &remote);
	return 0;
}

int runner_start(struct web *w)
{
	struct engine_opts eo;
	int r;

	r = uv_loop_init(&w->loop);
	if (r < 0)
		return r;
	engine_opts_default(&eo);
	if (w->cfg.engine_inflight)
		eo.max_inflight = w->cfg.engine_inflight;
	w->engine = engine_new(&w->loop, &eo);
	if (!w->engine) {
		uv_loop_close(&w->loop);
		return -ENOMEM;
	}
	if (w->cfg.probers && (r = probers_start(w, &eo)) < 0) {
		engine_free(w->engine);
		uv_loop_close(&w->loop);
		return r;
	}
	uv_async_init(&w->loop, &w->wake, on_wake);
	w->wake.data = w;
	uv_timer_init(&w->loop, &w->purge_timer);
	w->purge_timer.data = w;
	uv_timer_start(&w->purge_timer, on_purge_timer, 1000,
	               (uint64_t)w->cfg.purge_interval_s * 1000);
	uv_timer_init(&w->loop, &w->follow_timer);
	w->follow_timer.data = w;
	uv_timer_start(&w->follow_timer, on_follow_timer, SSE_FOLLOW_MS, SSE_FOLLOW_MS);
	r = pthread_create(&w->thread, NULL, loop_main, w);
	if (r != 0) {
		uv_close((uv_handle_t *)&w->wake, NULL);
		uv_close((uv_handle_t *)&w->purge_timer, NULL);
		uv_close((uv_handle_t *)&w->follow_timer, NULL);
		if (w->pool)
			pool_close(w->pool);
		uv_run(&w->loop, UV_RUN_DEFAULT);
		pool_free(w->pool);
		w->pool = NULL;
		engine_free(w->engine);
		uv_loop_close(&w->loop);
		return -r;
	}
	return 0;
}

bool runner_stop(struct web *w, unsigned wait_ms)
{
	int64_t deadline = web_mono_ms() + wait_ms;
	struct job *j;

	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	/* Queued diagnoses never start: they are interrupted. */
	while ((j = w->q_head)) {
		w->q_head = j->qnext;
		w->q_len--;
		j->qnext = NULL;
		store_set_status(w->store, j->id, STORE_INTERRUPTED, store_now_ms());
		finish_locked(w, j, STORE_INTERRUPTED, store_now_ms());
		job_unref_locked(w, j);
	}
	w->q_tail = NULL;
	pthread_mutex_unlock(&w->lock);
	uv_async_send(&w->wake);
	for (;;) {
		struct timespec ts;
		bool closed;

		pthread_mutex_lock(&w->lock);
		closed = w->inflight == 0;
		pthread_mutex_unlock(&w->lock);
		if (closed || web_mono_ms() > deadline)
			break;
		ts = (struct timespec){.tv_nsec = 20 * 1000000};
		nanosleep(&ts, NULL);
		uv_async_send(&w->wake);
	}
	pthread_mutex_lock(&w->lock);
	bool idle = w->inflight == 0;
	pthread_mutex_unlock(&w->lock);
	if (!idle) {
		/* Probes still running past the wait: leave them; the next start marks them
		 * interrupted (store_open). The loop thread is abandoned with the process. */
		fprintf(stderr, "exposure serve: %zu diagnoses still running at exit\n",
		        w->inflight);
		pthread_detach(w->thread);
		return false;
	}
	uv_async_send(&w->wake);
	pthread_join(w->thread, NULL);
	pool_free(w->pool); /* closed by the loop's last turn; reaps the probers */
	w->pool = NULL;
	engine_free(w->engine);
	uv_loop_close(&w->loop);
	return true;
}
