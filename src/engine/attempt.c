/* SPDX-License-Identifier: MIT */
/*
 * The connect attempts of a job and the policy around them: when to retransmit (on a new socket,
 * the earlier ones kept), when a silence becomes "filtered", what an answer teaches the target's
 * RTT estimator, and how the next hop's neighbour entry (neigh.h) holds both back while the SYNs
 * wait in the kernel for ARP / neighbour discovery. Timings are tuned against loss, ARP delays
 * and rate-limited ICMP: see ENGINE.md before changing any of them.
 */
#include "engine/deadline.h"
#include "engine/engine_internal.h"

#include <errno.h>

#define NS_PER_MS 1000000ull
/* Next-hop questions (neigh.h): how often, above which "round trip", and how long to wait. */
#define NEIGH_ASK_MS      50
#define NEIGH_SUSPECT_MS  20
#define NEIGH_WAIT_MAX_MS 6500

/* A round trip that measured the path (not a local refusal) feeds the target's estimator. */
static bool answer_measures_path(const struct port_result *pr)
{
	if (pr->state == PORT_OPEN || pr->state == PORT_CLOSED)
		return true;
	return pr->state == PORT_FILTERED && pr->reason == REASON_UNREACHABLE && pr->icmp_type >= 0;
}

static void job_arm(struct engine_job *j);

static void job_hop_continue(struct engine_job *j, enum hop_wait why);

/* The kernel's answer about t's next hop (or "unknown" when it could not be asked). */
static void hop_learn(struct engine_target *t, const struct neigh_info *n)
{
	uint64_t age_ns = (uint64_t)n->age_ms * NS_PER_MS;

	t->hop.state = n->state;
	t->hop.asked_ns = n->asked_ns;
	t->hop.change_ns = n->seen_ns > age_ns ? n->seen_ns - age_ns : 0;
	if (n->state == NEIGH_RESOLVING || n->state == NEIGH_FAILED)
		t->hop.unres_ns = n->seen_ns;
}

static void hop_answered(struct neigh_query *q, int status, const struct neigh_info *n);

/*
 * Send t's question on the engine's next-hop socket, opened at the first question. Returns false
 * if it cannot be asked (no socket: netlink refused, out of descriptors...); t then knows
 * "unknown" as of now, and its jobs run on their plain timers as on a link without neighbours.
 */
static bool target_ask_hop(struct engine_target *t)
{
	struct engine *e = t->e;
	uint64_t now;
	int r = -ENOTCONN;

	if (e->nl == NULL) {
		int fd = e->nl_open();

		if (fd >= 0)
			(void)neigh_asker_new(e->loop, fd, &e->nl);
	}
	if (e->nl != NULL)
		r = neigh_ask(e->nl, &t->hop.q, &t->addr, hop_answered);
	if (r == 0) {
		e->st.neigh_asked++;
		return true;
	}
	e->st.neigh_unasked++;
	now = engine_now_ns();
	hop_learn(t, &(struct neigh_info){.state = NEIGH_UNKNOWN, .asked_ns = now, .seen_ns = now});
	return false;
}

/*
 * Can t's next-hop state be used as it is? With need_ns: only an answer to a question asked at or
 * after need_ns (an answer or an error on a socket: the entry may have changed a moment ago).
 * Without (0): one asked less than NEIGH_ASK_MS ago (all of a target's jobs reach their verdict
 * together; one question serves them). Otherwise the question goes out, and false says to wait.
 */
static bool target_hop_ready(struct engine_target *t, uint64_t need_ns)
{
	const struct next_hop *h = &t->hop;

	if (h->asked_ns != 0 && need_ns != 0 && h->asked_ns >= need_ns)
		return true;
	if (h->asked_ns != 0 && need_ns == 0 &&
	    engine_now_ns() - h->asked_ns < NEIGH_ASK_MS * NS_PER_MS)
		return true;
	if (neigh_query_pending(&h->q))
		return false;
	return !target_ask_hop(t);
}

/* j waits, on the loop, for the answer to its target's question; why says what it then does. */
static void job_wait_for_hop(struct engine_job *j, enum hop_wait why, uint64_t need_ns)
{
	struct engine_target *t = j->t;

	j->hop_wait = why;
	j->hop_need_ns = need_ns;
	elist_add_tail(&t->hop.waiters, &j->hop_link);
	if (++t->hop.n_waiting > j->e->st.neigh_waiting_peak)
		j->e->st.neigh_waiting_peak = t->hop.n_waiting;
}

void attempt_hop_wait_cancel(struct engine_job *j)
{
	if (j->hop_wait == HOP_WAIT_NONE)
		return;
	elist_del(&j->hop_link);
	j->hop_wait = HOP_WAIT_NONE;
	j->t->hop.n_waiting--;
}

/*
 * The answer to t's question: every job that waited for an answer at least this fresh goes on.
 * Jobs that wanted a fresher one (their socket answered after the question went out) wait for
 * the next question, asked at once.
 */
static void hop_answered(struct neigh_query *q, int status, const struct neigh_info *n)
{
	struct engine_target *t = elist_entry(q, struct engine_target, hop.q);
	struct elist ready;

	/* A failed question is "unknown", as on a link without neighbours. */
	if (status < 0)
		t->e->st.neigh_failed++;
	hop_learn(t, n);
	elist_init(&ready);
	do {
		for (struct elist *p = t->hop.waiters.next, *next; p != &t->hop.waiters; p = next) {
			struct engine_job *j = elist_entry(p, struct engine_job, hop_link);

			next = p->next;
			if (j->hop_need_ns <= t->hop.asked_ns) {
				elist_del(p);
				elist_add_tail(&ready, p);
			}
		}
		/* Could not ask: "unknown" as of now satisfies every waiter on the next pass. */
	} while (!elist_empty(&t->hop.waiters) && !target_ask_hop(t));
	while (!elist_empty(&ready)) {
		struct engine_job *j = elist_entry(ready.next, struct engine_job, hop_link);
		enum hop_wait why = j->hop_wait;

		attempt_hop_wait_cancel(j);
		job_hop_continue(j, why);
	}
}

void attempt_hop_idle(struct engine *e)
{
	neigh_asker_close(e->nl);
	e->nl = NULL;
}

/*
 * When the SYN of attempt s left, as near as we can tell. On our own link a SYN waits in the
 * kernel until the next hop is resolved (neigh.h); timed from connect() the round trip would
 * include that wait (a lost ARP reply: a "round trip" of a second or more) and inflate the
 * target's timeout for every other port. So the first slow answer of a target is timed only
 * once the next hop has been asked about (job_answer). The SYN left no earlier than an entry's
 * resolution after s started (exact for a new entry: the kernel stamps it when the address is
 * learnt) and no earlier than the last moment we saw the entry unresolved (a re-resolved entry
 * keeps its old stamp; this errs long by at most the time between two looks, never short).
 */
static uint64_t attempt_sent_ns(const struct engine_target *t, const struct engine_sock *s,
                                uint64_t now)
{
	uint64_t sent = s->t0_ns;

	if (t->hop.state != NEIGH_RESOLVED)
		return sent;
	if (t->hop.change_ns > sent)
		sent = t->hop.change_ns;
	if (t->hop.unres_ns > sent)
		sent = t->hop.unres_ns;
	return sent < now ? sent : now;
}

/*
 * A round trip of t was measured. If the timeout shrank, the other jobs of t that wait on a
 * timer armed from the old value are re-armed: a host whose other ports answer fast gets its
 * silent ports' verdict from the new estimate, not from the initial 1 s.
 */
static void target_learn(struct engine_target *t, int64_t rtt_us, unsigned tryno)
{
	unsigned before = engine_target_timeout_ms(t);

	rtt_sample(&t->rtt, rtt_us);
	if ((int)tryno > t->max_ok_tryno)
		t->max_ok_tryno = (int)tryno;
	if (engine_target_timeout_ms(t) >= before)
		return;
	for (struct elist *n = t->connecting.next; n != &t->connecting; n = n->next) {
		struct engine_job *o = elist_entry(n, struct engine_job, tlink);

		/* A job waiting for the next hop decides (and arms) once it is known. */
		if (!o->waiting_slot && o->hop_wait == HOP_WAIT_NONE)
			job_arm(o);
	}
}

/* Attempt s answered with pr at now, its timing known: first answer wins. */
static void job_answer_timed(struct engine_job *j, struct engine_sock *s,
                             const struct port_result *pr, uint64_t now)
{
	uint64_t sent = attempt_sent_ns(j->t, s, now);
	int64_t rtt_us = (int64_t)(now - sent) / 1000;

	j->pr = *pr;
	j->pr.tries = j->tries;
	j->pr.rtt_ms = (double)(now - sent) / (double)NS_PER_MS;
	elist_del(&j->tlink);
	uv_timer_stop(&j->timer);
	if (answer_measures_path(pr))
		target_learn(j->t, rtt_us, s->tryno);
	if (pr->state == PORT_OPEN && j->probe) {
		/* Only the winning connection stays; its slot is the probe's. */
		j->e->hold++;
		for (struct elist *n = j->socks.next, *next; n != &j->socks; n = next) {
			next = n->next;
			if (n != &s->link)
				sock_close(elist_entry(n, struct engine_sock, link));
		}
		j->e->hold--;
		probe_run_start(j, s);
		engine_dispatch(j->e);
		return;
	}
	engine_job_finish(j);
}

/*
 * Keep attempt s's answer until the next hop's state is known: the job's timer and sockets are
 * stopped meanwhile (a connected socket would wake the loop for nothing), nothing else of it runs.
 */
static void job_hold(struct engine_job *j, struct engine_sock *s, const struct port_result *pr,
                     uint64_t now, enum hop_wait why)
{
	uv_timer_stop(&j->timer);
	for (struct elist *n = j->socks.next; n != &j->socks; n = n->next)
		uv_poll_stop(&elist_entry(n, struct engine_sock, link)->poll);
	j->held_s = s;
	j->held_pr = *pr;
	j->held_ns = now;
	job_wait_for_hop(j, why, now);
}

/* Attempt s answered with pr at now. A target's first slow answer waits for the next hop. */
static void job_answer(struct engine_job *j, struct engine_sock *s, const struct port_result *pr,
                       uint64_t now)
{
	if (!j->t->rtt.valid && now - s->t0_ns >= NEIGH_SUSPECT_MS * NS_PER_MS &&
	    !target_hop_ready(j->t, now)) {
		job_hold(j, s, pr, now, HOP_WAIT_ANSWER);
		return;
	}
	job_answer_timed(j, s, pr, now);
}

/* A verdict without any socket answer (synchronous failure or timeout). */
static void job_verdict(struct engine_job *j, enum port_state st, enum port_reason why, int err)
{
	j->pr = (struct port_result){
	    .state = st,
	    .reason = why,
	    .icmp_type = -1,
	    .icmp_code = -1,
	    .sys_errno = err,
	    .rtt_ms = -1,
	    .tries = j->tries,
	};
	engine_job_finish(j);
}

static void job_timer_cb(uv_timer_t *timer);

/* Milliseconds after the latest attempt at which the next step (retry or verdict) is due. */
static uint64_t next_step_ms(const struct engine_job *j)
{
	const struct engine_target *t = j->t;
	uint64_t to = engine_target_timeout_ms(t);

	if (j->tries < engine_target_allowed_tries(t))
		return to / 2;
	/*
	 * Nothing known: 0.7 x timeout after the last attempt (all-filtered host: verdict at
	 * 1.2 s). Once the path has answered, the full timeout: the last attempt must be able to
	 * come back even when the timeout has shrunk close to the RTT itself.
	 */
	if (t->rtt.valid || t->fixed_ms)
		return to;
	return to * 7 / 10;
}

/* (Re-)arm the connect-phase timer from the target's current timeout. */
static void job_arm(struct engine_job *j)
{
	uint64_t age_ms = (engine_now_ns() - j->last_ns) / NS_PER_MS;
	uint64_t due = next_step_ms(j);

	uv_timer_start(&j->timer, job_timer_cb, due > age_ms ? due - age_ms : 0, 0);
}

/*
 * Start attempt number j->tries now. Returns true if an attempt is in flight (arm its timer);
 * false if it ended the job or the job waits for a socket (engine_out_of_sockets()).
 */
static bool attempt_start(struct engine_job *j)
{
	struct engine_sock *s;
	int r = sock_open(j, j->tries, &s);

	j->tries++;
	j->last_ns = engine_now_ns();
	if (r < 0) {
		struct port_result pr = {.icmp_type = -1, .icmp_code = -1};

		sock_classify_errno(-r, &pr);
		/* A local failure of a retransmission (EMFILE...) leaves the earlier attempts. */
		if (pr.state == PORT_ERROR && !elist_empty(&j->socks))
			return true;
		/* None of this job's sockets open, others are: wait for one of those to close. */
		if (sock_err_is_shortage(-r) && j->e->st.inflight > 0) {
			engine_out_of_sockets(j);
			return false;
		}
		job_verdict(j, pr.state, pr.reason, -r);
		return false;
	}
	return true;
}

void attempt_begin(struct engine_job *j)
{
	uv_timer_init(j->e->loop, &j->timer);
	uv_timer_init(j->e->loop, &j->deadline);
	j->timer.data = j;
	j->deadline.data = j;
	j->refs += 2;
	if (j->probe && j->probe->datagram) {
		udp_begin(j); /* no connect attempts: datagrams (udp.c) */
		return;
	}
	j->phase = JOB_CONNECTING;
	elist_add_tail(&j->t->connecting, &j->tlink);
	j->first_ns = engine_now_ns();
	if (j->t->first_ns == 0)
		j->t->first_ns = j->first_ns;
	if (attempt_start(j))
		job_arm(j);
}

void attempt_retry(struct engine_job *j)
{
	if (j->phase == JOB_UDP) {
		udp_retry(j);
		return;
	}
	if (j->phase == JOB_PROBING) {
		probe_run_slot(j); /* a slot for another connection of its probe */
		return;
	}
	if (j->phase != JOB_CONNECTING || j->hop_wait != HOP_WAIT_NONE)
		return;
	if (attempt_start(j))
		job_arm(j);
}

/* Before calling it a timeout, look once more: an answer may sit unread (no wake-up handled). */
static bool job_last_look(struct engine_job *j)
{
	for (struct elist *n = j->socks.next; n != &j->socks; n = n->next) {
		struct engine_sock *s = elist_entry(n, struct engine_sock, link);
		struct port_result pr = {0};

		if (sock_classify(s->fd, &pr)) {
			job_answer(j, s, &pr, engine_now_ns());
			return true;
		}
	}
	return false;
}

/* The next hop has not been resolved (resolving, failed, or its failed entry dropped). */
static bool target_unresolved(const struct engine_target *t)
{
	return t->hop.state == NEIGH_RESOLVING || t->hop.state == NEIGH_FAILED ||
	       (t->hop.state == NEIGH_UNKNOWN && t->hop.unres_ns != 0);
}

/*
 * A target that never answered, whose next hop on our own link is not resolved: its SYNs wait in
 * the kernel's neighbour queue (neigh.h), so neither a retransmission (it would queue behind
 * them) nor a verdict makes sense yet. Wait, up to NEIGH_WAIT_MAX_MS from the target's first job
 * (jobs queued behind the caps start late): two of the kernel's three-second resolution cycles.
 * Still unresolved then, the address answers no ARP / neighbour discovery at all: filtered /
 * unreachable. (The kernel's own ICMP "host unreachable" for it is rate-limited, a burst of 50,
 * so it cannot be relied on when many addresses of a link are probed.) Returns true if the job
 * was re-armed or decided here. The next hop has just been asked about (job_timer_cb).
 */
static bool job_waits_for_next_hop(struct engine_job *j)
{
	struct engine_target *t = j->t;

	if (t->rtt.valid || !target_unresolved(t))
		return false;
	if (engine_now_ns() - t->first_ns >= NEIGH_WAIT_MAX_MS * NS_PER_MS) {
		job_verdict(j, PORT_FILTERED, REASON_UNREACHABLE, EHOSTUNREACH);
		return true;
	}
	uv_timer_start(&j->timer, job_timer_cb, engine_target_timeout_ms(t) / 2 + 1, 0);
	return true;
}

/*
 * The next hop resolved after this job started: its SYNs left at that moment, so they get a full
 * timeout from it before the port is called filtered. Returns true if the job was re-armed.
 */
static bool job_waits_for_late_syns(struct engine_job *j)
{
	struct engine_target *t = j->t;
	uint64_t now = engine_now_ns();
	uint64_t to_ns = (uint64_t)engine_target_timeout_ms(t) * NS_PER_MS;

	if (t->rtt.valid || t->hop.state != NEIGH_RESOLVED || t->hop.change_ns <= j->first_ns ||
	    now - t->hop.change_ns >= to_ns)
		return false;
	uv_timer_start(&j->timer, job_timer_cb, (to_ns - (now - t->hop.change_ns)) / NS_PER_MS + 1,
	               0);
	return true;
}

/*
 * The path has lost a SYN or SYN-ACK already (some port answered only a retransmission): before a
 * port is called filtered, the kernel's own retransmission of the last attempt's SYN (1 s after
 * its connect()) gets a timeout to come back. Measured on the lab's lossy host with loss both
 * ways (300 ms, 10% each way: a round trip fails 19% of the time), three attempts alone called an
 * open port filtered in 1 of 20 diagnoses; the kernel's three retransmissions make it six tries.
 * A path that never lost one keeps its verdict time. Returns true if the job was re-armed.
 */
static bool job_waits_for_kernel_syns(struct engine_job *j)
{
	uint64_t now = engine_now_ns();
	uint64_t due = j->last_ns +
	               (uint64_t)(DEADLINE_SYN_RTO_MS + engine_target_timeout_ms(j->t)) * NS_PER_MS;

	if (j->t->max_ok_tryno < 1 || now >= due)
		return false;
	uv_timer_start(&j->timer, job_timer_cb, (due - now) / NS_PER_MS + 1, 0);
	return true;
}

/* The connect-phase timer's step is due now; if not (the timeout grew since it was armed), it is
 * re-armed and false returned. */
static bool job_step_due(struct engine_job *j)
{
	uint64_t age_ms = (engine_now_ns() - j->last_ns) / NS_PER_MS;

	if (age_ms < next_step_ms(j)) {
		job_arm(j);
		return false;
	}
	return true;
}

/* The timer's step, with what is known of the next hop: wait on, retransmit, or decide. */
static void job_step(struct engine_job *j)
{
	if (job_waits_for_next_hop(j))
		return;
	if (j->tries < engine_target_allowed_tries(j->t)) {
		if (engine_target_has_room(j->t)) {
			attempt_retry(j);
			return;
		}
		/* No slot: attempts already made stay open; dispatch() starts this one later. */
		j->waiting_slot = true;
		elist_add_tail(&j->t->retry, &j->link);
		engine_slot_released(j->t);
		return;
	}
	if (!job_last_look(j) && !job_waits_for_late_syns(j) && !job_waits_for_kernel_syns(j))
		job_verdict(j, PORT_FILTERED, REASON_TIMEOUT, 0);
}

static void job_timer_cb(uv_timer_t *timer)
{
	struct engine_job *j = timer->data;

	if (j->phase != JOB_CONNECTING || j->waiting_slot || j->hop_wait != HOP_WAIT_NONE)
		return;
	if (!job_step_due(j))
		return;
	/* A target that never answered: the step depends on its next hop (job_waits_for_next_hop).
	 */
	if (!j->t->rtt.valid && !target_hop_ready(j->t, 0)) {
		job_wait_for_hop(j, HOP_WAIT_STEP, 0);
		return;
	}
	job_step(j);
}

/* Could a kernel "host unreachable" at now be retried with a new resolution (below)? */
static bool resolution_retry_possible(const struct engine_job *j, const struct port_result *pr,
                                      uint64_t now)
{
	const struct engine_target *t = j->t;

	if (j->neigh_retried || j->waiting_slot || t->rtt.valid || pr->state != PORT_FILTERED ||
	    pr->reason != REASON_UNREACHABLE)
		return false;
	/* Only the first cycle's failure: a later one ends the job (two cycles, as the timers). */
	return now - t->first_ns < NEIGH_WAIT_MAX_MS * NS_PER_MS / 2;
}

/*
 * The kernel's own "host unreachable": the next hop never answered its solicitations (three, a
 * second apart). On a lossy link that can be three lost replies in a row rather than an absent
 * host, and every attempt of the job waited on that same resolution, so none was an independent
 * try. A target that never answered gets one more resolution cycle (~3 s) before it is the
 * verdict; an absent on-link host is then filtered / unreachable after ~6 s instead of ~3 s.
 * Called once the next hop was asked about after the failure; returns true if the job went on
 * with a new attempt.
 */
static bool job_retries_resolution(struct engine_job *j)
{
	struct engine_target *t = j->t;
	bool going_on;

	/*
	 * Failed, or resolving again: another job of this target, hit by the same failure a moment
	 * ago, has already started the next cycle. (A router's "host unreachable" comes through a
	 * resolved next hop.)
	 */
	if (t->hop.state != NEIGH_FAILED && t->hop.state != NEIGH_RESOLVING)
		return false;
	j->neigh_retried = true;
	j->e->hold++;
	while (!elist_empty(&j->socks))
		sock_close(elist_entry(j->socks.next, struct engine_sock, link));
	going_on = attempt_start(j);
	j->e->hold--;
	if (going_on)
		job_arm(j);
	engine_dispatch(j->e);
	return true;
}

/* Attempt s's verdict pr came at now. */
static void job_judge(struct engine_job *j, struct engine_sock *s, const struct port_result *pr,
                      uint64_t now)
{
	if (resolution_retry_possible(j, pr, now)) {
		if (!target_hop_ready(j->t, now)) {
			job_hold(j, s, pr, now, HOP_WAIT_UNREACHABLE);
			return;
		}
		if (job_retries_resolution(j))
			return;
	}
	job_answer(j, s, pr, now);
}

/* The next hop is known: j goes on from where it waited. */
static void job_hop_continue(struct engine_job *j, enum hop_wait why)
{
	switch (why) {
	case HOP_WAIT_STEP:
		if (j->phase == JOB_CONNECTING && !j->waiting_slot && job_step_due(j))
			job_step(j);
		break;
	case HOP_WAIT_ANSWER:
		job_answer_timed(j, j->held_s, &j->held_pr, j->held_ns);
		break;
	case HOP_WAIT_UNREACHABLE:
		if (!job_retries_resolution(j))
			job_answer(j, j->held_s, &j->held_pr, j->held_ns);
		break;
	case HOP_WAIT_NONE:
		break;
	}
}

void attempt_sock_event(struct engine_job *j, struct engine_sock *s)
{
	struct port_result pr = {0};

	/* Holding an answer: its sockets are stopped; a wake-up already queued changes nothing. */
	if (j->hop_wait == HOP_WAIT_ANSWER || j->hop_wait == HOP_WAIT_UNREACHABLE)
		return;
	if (sock_classify(s->fd, &pr)) {
		/* An answer ends a wait of the timer's step: the answer decides now. */
		attempt_hop_wait_cancel(j);
		job_judge(j, s, &pr, engine_now_ns());
		return;
	}
	/* Still in SYN-SENT (a spurious or non-fatal wake-up): libuv stops the handle on POLLERR.
	 */
	sock_watch(s, s->events);
}
