/* SPDX-License-Identifier: MIT */
/*
 * The engine's public face: targets, the job queues, the global and per-target socket caps, and
 * the job life cycle (exactly one callback, always from the loop). See docs/internals/ENGINE.md.
 */
#include "engine/engine_internal.h"
#include "engine/tls.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

#define MAX_RETRIES_CAP 10 /* nmap's MAX_RETRANSMISSIONS */

void engine_opts_default(struct engine_opts *o)
{
	*o = (struct engine_opts){
	    .max_inflight = 512,
	    .per_target = 64,
	    .fixed_timeout_ms = 0,
	    .initial_timeout_ms = 1000,
	    .min_timeout_ms = 100,
	    .max_timeout_ms = 10000,
	    .max_retries = 6,
	};
}

/* Replace zeros and contradictions by something that cannot stall the engine. */
static void opts_sanitize(struct engine_opts *o)
{
	struct engine_opts d;

	engine_opts_default(&d);
	if (o->max_inflight == 0)
		o->max_inflight = d.max_inflight;
	if (o->per_target == 0)
		o->per_target = d.per_target;
	if (o->initial_timeout_ms == 0)
		o->initial_timeout_ms = d.initial_timeout_ms;
	if (o->min_timeout_ms == 0)
		o->min_timeout_ms = 1;
	if (o->max_timeout_ms < o->min_timeout_ms)
		o->max_timeout_ms = o->min_timeout_ms;
	if (o->max_retries > MAX_RETRIES_CAP)
		o->max_retries = MAX_RETRIES_CAP;
}

struct engine *engine_new(uv_loop_t *loop, const struct engine_opts *o)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->loop = loop;
	if (o)
		e->o = *o;
	else
		engine_opts_default(&e->o);
	opts_sanitize(&e->o);
	e->fd_cap = e->o.max_inflight;
	e->nl_open = neigh_socket_open;
	elist_init(&e->targets);
	elist_init(&e->ready);
	return e;
}

/* Jobs never started hold no handle, so they can be freed directly. */
static void free_queued(struct elist *q)
{
	while (!elist_empty(q)) {
		struct engine_job *j = elist_entry(q->next, struct engine_job, link);

		elist_del(&j->link);
		free(j);
	}
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	attempt_hop_idle(e);
	while (!elist_empty(&e->targets)) {
		struct engine_target *t = elist_entry(e->targets.next, struct engine_target, link);

		elist_del(&t->link);
		free_queued(&t->queue);
		free(t);
	}
	free(e);
}

struct engine_target *engine_target_new(struct engine *e, const struct addr *a)
{
	struct engine_target *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->e = e;
	t->addr = *a;
	t->max_ok_tryno = -1;
	elist_init(&t->ready_link);
	elist_init(&t->queue);
	elist_init(&t->retry);
	elist_init(&t->connecting);
	neigh_query_init(&t->hop.q);
	elist_init(&t->hop.waiters);
	elist_add_tail(&e->targets, &t->link);
	return t;
}

void engine_target_set_timeout(struct engine_target *t, unsigned timeout_ms)
{
	t->fixed_ms = timeout_ms;
}

uint64_t engine_now_ns(void)
{
	return uv_hrtime();
}

/*
 * Precedence: the target's own fixed timeout (the caller knows this path, e.g. from TCP_INFO),
 * then --timeout, then the estimate from this target's answers.
 */
unsigned engine_target_timeout_ms(const struct engine_target *t)
{
	const struct engine_opts *o = &t->e->o;

	if (t->fixed_ms)
		return t->fixed_ms;
	if (o->fixed_timeout_ms)
		return o->fixed_timeout_ms;
	return rtt_timeout_ms(&t->rtt, o->initial_timeout_ms, o->min_timeout_ms, o->max_timeout_ms);
}

/*
 * nmap's allowedTryno: one retransmission, more once a retransmission was answered (evidence of
 * loss). One change: a target that has answered at all gets at least two retransmissions. There a
 * silent port is filtered or its answers were lost; on a fast path the extra attempt costs
 * timeout / 2 (50 ms), and at 10% loss it divides the chance of a false "filtered" by ten. A host
 * that never answered keeps nmap's single retransmission (all-filtered: verdict at 1.2 s).
 */
unsigned engine_target_allowed_tries(const struct engine_target *t)
{
	int earned = t->max_ok_tryno + 1;
	unsigned floor = t->rtt.valid ? 2 : 1;
	unsigned retries = earned > (int)floor ? (unsigned)earned : floor;

	if (retries > t->e->o.max_retries)
		retries = t->e->o.max_retries;
	return 1 + retries;
}

/* The global socket cap: the operator's, or fewer once the process ran out of descriptors. */
static unsigned global_cap(const struct engine *e)
{
	return e->fd_cap < e->o.max_inflight ? e->fd_cap : e->o.max_inflight;
}

bool engine_target_has_room(const struct engine_target *t)
{
	return t->inflight < t->e->o.per_target && t->e->st.inflight < global_cap(t->e);
}

static bool target_has_work(const struct engine_target *t)
{
	return !elist_empty(&t->queue) || !elist_empty(&t->retry);
}

/*
 * Put t on the ready list if it has work and a per-target slot. front: t already holds sockets
 * (its jobs were submitted earlier, or a started job waits to retransmit), so it goes first,
 * which keeps service close to submission order.
 */
static void target_kick(struct engine_target *t, bool front)
{
	if (t->in_ready || !target_has_work(t) || t->inflight >= t->e->o.per_target)
		return;
	if (front)
		elist_add_head(&t->e->ready, &t->ready_link);
	else
		elist_add_tail(&t->e->ready, &t->ready_link);
	t->in_ready = true;
}

/*
 * socket() or connect() failed for want of descriptors or local ports (EMFILE, ENFILE,
 * EADDRNOTAVAIL...) while other sockets are open: that says nothing about the target, and the
 * sockets open now will close. The attempt did not happen; j waits for a slot like a
 * retransmission, and the global cap drops to what fits now. Each finished job raises it by one
 * again (descriptors are shared with the rest of the process, e.g. the web server's clients).
 */
void engine_out_of_sockets(struct engine_job *j)
{
	struct engine *e = j->e;

	j->tries--;
	e->fd_cap = e->st.inflight;
	j->waiting_slot = true;
	elist_add_tail(&j->t->retry, &j->link);
	target_kick(j->t, true);
}

/* Start one piece of t's work: a waiting retransmission first, else the oldest queued job. */
static void target_serve_one(struct engine_target *t)
{
	struct engine_job *j;

	if (!elist_empty(&t->retry)) {
		j = elist_entry(t->retry.next, struct engine_job, link);
		elist_del(&j->link);
		j->waiting_slot = false;
		attempt_retry(j);
		return;
	}
	j = elist_entry(t->queue.next, struct engine_job, link);
	elist_del(&j->link);
	attempt_begin(j);
}

void engine_dispatch(struct engine *e)
{
	if (e->hold)
		return;
	e->hold++;
	while (e->st.inflight < global_cap(e) && !elist_empty(&e->ready)) {
		struct engine_target *t =
		    elist_entry(e->ready.next, struct engine_target, ready_link);

		elist_del(&t->ready_link);
		t->in_ready = false;
		while (engine_target_has_room(t) && target_has_work(t))
			target_serve_one(t);
		target_kick(t, true);
	}
	e->hold--;
}

void engine_slot_released(struct engine_target *t)
{
	target_kick(t, true);
	engine_dispatch(t->e);
}

void engine_set_remote(struct engine *e, const struct engine_remote *r)
{
	e->remote = r ? *r : (struct engine_remote){0};
}

/* A remote job's callback, so that engine_pending() counts remote jobs too. */
struct remote_job {
	struct engine *e;
	engine_done_cb *cb;
	void *ud;
};

static void remote_done(void *ud, const struct port_result *pr, struct probe_result *res)
{
	struct remote_job rj = *(struct remote_job *)ud;

	free(ud);
	rj.e->pending--;
	rj.cb(rj.ud, pr, res);
}

static int remote_submit(struct engine *e, struct engine_target *t, uint16_t port,
                         const struct probe_ops *probe, engine_done_cb *cb, void *ud)
{
	struct remote_job *rj = malloc(sizeof(*rj));
	int r;

	if (rj == NULL)
		return -ERR_NOMEM;
	*rj = (struct remote_job){e, cb, ud};
	r = e->remote.submit(e->remote.ctx, &t->remote, &t->addr, t->fixed_ms, port, probe,
	                     remote_done, rj);
	if (r < 0)
		free(rj);
	else
		e->pending++;
	return r;
}

int engine_submit(struct engine *e, struct engine_target *t, uint16_t port,
                  const struct probe_ops *probe, engine_done_cb *cb, void *ud)
{
	if (e == NULL || t == NULL || t->e != e || cb == NULL || port == 0)
		return -EINVAL;
	if (t->addr.family != AF_INET && t->addr.family != AF_INET6)
		return -ERR_UNSUPPORTED;
	if (e->remote.submit)
		return remote_submit(e, t, port, probe, cb, ud);

	struct engine_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return -ERR_NOMEM;
	*j = (struct engine_job){
	    .e = e,
	    .t = t,
	    .port = port,
	    .probe = probe,
	    .cb = cb,
	    .ud = ud,
	    .phase = JOB_QUEUED,
	};
	elist_init(&j->socks);
	elist_init(&j->tlink);
	elist_init(&j->hop_link);
	elist_add_tail(&t->queue, &j->link);
	e->pending++;
	/* The loop's clock may be stale before uv_run(); timers are armed from it. */
	uv_update_time(e->loop);
	target_kick(t, false);
	engine_dispatch(e);
	return 0;
}

size_t engine_pending(const struct engine *e)
{
	return e ? e->pending : 0;
}

void engine_get_stats(const struct engine *e, struct engine_stats *out)
{
	*out = e->st;
}

void engine_job_unref(struct engine_job *j)
{
	j->refs--;
	if (j->refs == 0 && j->phase == JOB_DELIVERED)
		free(j);
}

static void job_timer_closed(uv_handle_t *h)
{
	engine_job_unref(h->data);
}

/* Runs from the loop one turn after engine_job_finish(), so the callback is never synchronous. */
static void job_deliver(uv_timer_t *timer)
{
	struct engine_job *j = timer->data;
	struct engine *e = j->e;
	struct probe_result *res = j->run ? &j->run->res : NULL;

	e->pending--;
	j->cb(j->ud, &j->pr, res);
	/* Idle: the next-hop socket goes, so that the loop can end (the next question reopens it).
	 */
	if (e->pending == 0)
		attempt_hop_idle(e);
	if (res)
		probe_result_done(res);
	probe_run_free(j->run);
	j->run = NULL;
	j->phase = JOB_DELIVERED;
	j->refs++; /* the close callbacks below must not free j under us */
	uv_close((uv_handle_t *)&j->timer, job_timer_closed);
	uv_close((uv_handle_t *)&j->deadline, job_timer_closed);
	engine_job_unref(j);
}

/* The verdict is in j->pr: close every socket and hand the result over on the next loop turn. */
void engine_job_finish(struct engine_job *j)
{
	if (j->phase >= JOB_FINISHED)
		return;
	j->phase = JOB_FINISHED;
	elist_del(&j->tlink);
	attempt_hop_wait_cancel(j);
	if (j->e->fd_cap < j->e->o.max_inflight)
		j->e->fd_cap++;
	if (j->waiting_slot) {
		elist_del(&j->link);
		j->waiting_slot = false;
	}
	j->e->hold++;
	probe_run_detach(j->run);
	while (!elist_empty(&j->socks))
		sock_close(elist_entry(j->socks.next, struct engine_sock, link));
	j->e->hold--;
	uv_timer_stop(&j->deadline);
	uv_timer_start(&j->timer, job_deliver, 0, 0);
	engine_slot_released(j->t);
}

const char *port_state_name(enum port_state s)
{
	static const char *const n[PORT_X_MAX] = {"open", "closed", "filtered", "error",
	                                          "open|filtered"};
	return (unsigned)s < PORT_X_MAX ? n[s] : "unknown";
}

const char *port_reason_name(enum port_reason r)
{
	static const char *const n[REASON_X_MAX] = {"syn-ack",     "reset",       "timeout",
	                                            "unreachable", "local-error", "prober-lost",
	                                            "udp-response"};
	return (unsigned)r < REASON_X_MAX ? n[r] : "unknown";
}
