/* SPDX-License-Identifier: MIT */
/*
 * Connect attempts and port classification. Sockets are our own (not uv_tcp_t) so that
 * IP_RECVERR can be set before connect() and the ICMP error queue read: see ENGINE.md.
 */
#include "engine/engine_internal.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NS_PER_MS 1000000ull
/* Next-hop questions (neigh.h): how often, above which "round trip", and how long to wait. */
#define NEIGH_ASK_MS      50
#define NEIGH_SUSPECT_MS  20
#define NEIGH_WAIT_MAX_MS 6500
#define ERRQUEUE_MAX      16 /* error-queue entries read per drain; more is a flood */

static void sock_poll_cb(uv_poll_t *p, int status, int events);

static void sock_closed(uv_handle_t *h)
{
	struct eng_sock *s = h->data;
	struct eng_job *j = s->job;

	free(s);
	engine_job_unref(j);
}

/* Stop watching, close the fd and give the slot back; the struct goes in the close callback. */
void engine_sock_close(struct eng_sock *s)
{
	struct eng_job *j = s->job;
	struct engine_target *t = j->t;

	elist_del(&s->link);
	uv_poll_stop(&s->poll);
	close(s->fd);
	s->fd = -1;
	t->inflight--;
	j->e->st.inflight--;
	uv_close((uv_handle_t *)&s->poll, sock_closed);
	engine_slot_released(t);
}

static int set_recverr(int fd, sa_family_t family)
{
	int on = 1;
	int r;

	if (family == AF_INET6)
		r = setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof(on));
	else
		r = setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof(on));
	return r < 0 ? -errno : 0;
}

/* A non-blocking socket with IP_RECVERR, connect() called. Returns the fd or -errno. */
static int start_connect(const struct addr *a, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_to_sockaddr(a, port, &ss);
	int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return -errno;
	/* Before connect(): an ICMP error during SYN-SENT is only queued if this is already set. */
	r = set_recverr(fd, a->family);
	if (r < 0)
		goto out_close;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0 || errno == EINPROGRESS)
		return fd;
	r = -errno;
out_close:
	close(fd);
	return r;
}

int engine_sock_open(struct eng_job *j, unsigned tryno, struct eng_sock **out)
{
	struct eng_sock *s = calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (s == NULL)
		return -ENOMEM;
	s->t0_ns = engine_now_ns();
	j->e->st.connects++;
	r = start_connect(&j->t->addr, j->port);
	if (r < 0)
		goto out_free;
	s->fd = r;
	r = uv_poll_init_socket(j->e->loop, &s->poll, s->fd);
	if (r < 0) {
		close(s->fd);
		goto out_free;
	}
	s->poll.data = s;
	s->job = j;
	s->tryno = tryno;
	j->refs++;
	elist_add_tail(&j->socks, &s->link);
	j->t->inflight++;
	if (j->t->inflight > j->e->st.target_peak)
		j->e->st.target_peak = j->t->inflight;
	if (++j->e->st.inflight > j->e->st.inflight_peak)
		j->e->st.inflight_peak = j->e->st.inflight;
	/* Writable = connected or failed; POLLERR also wakes us for a queued ICMP error. */
	s->events = UV_WRITABLE;
	uv_poll_start(&s->poll, (int)s->events, sock_poll_cb);
	*out = s;
	return 0;
out_free:
	free(s);
	return r;
}

static void icmp_from_cmsgs(struct msghdr *m, struct port_result *pr, bool *seen)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
		bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
		struct sock_extended_err ee;

		if (!(v4 || v6) || c->cmsg_len < CMSG_LEN(sizeof(ee)))
			continue;
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6)
			continue;
		/* The first ICMP error is the answer to our SYN; later ones change nothing. */
		if (*seen)
			continue;
		*seen = true;
		pr->icmp_type = ee.ee_type;
		pr->icmp_code = ee.ee_code;
		pr->sys_errno = (int)ee.ee_errno;
	}
}

/* Read the whole error queue. True if an ICMP error was in it (then pr holds type and code). */
bool engine_sock_errqueue(int fd, struct port_result *pr)
{
	bool seen = false;

	for (int i = 0; i < ERRQUEUE_MAX; i++) {
		uint8_t data[64];
		union {
			struct cmsghdr align;
			uint8_t buf[512];
		} ctrl;
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
		struct msghdr m = {
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		    .msg_control = ctrl.buf,
		    .msg_controllen = sizeof(ctrl.buf),
		};

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		icmp_from_cmsgs(&m, pr, &seen);
	}
	return seen;
}

void engine_classify_errno(int err, struct port_result *pr)
{
	pr->sys_errno = err;
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
		pr->state = PORT_CLOSED;
		pr->reason = REASON_RESET;
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EACCES:
	case EPERM:
	case ENONET:
	case ENOPROTOOPT:
		pr->state = PORT_FILTERED;
		pr->reason = REASON_UNREACHABLE;
		break;
	case ETIMEDOUT:
	case EHOSTDOWN:
		pr->state = PORT_FILTERED;
		pr->reason = REASON_TIMEOUT;
		break;
	default:
		pr->state = PORT_ERROR;
		pr->reason = REASON_LOCAL_ERROR;
		break;
	}
}

static bool sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct addr x, y;
	uint16_t px, py;

	if (addr_from_sockaddr((const struct sockaddr *)a, &x, &px) < 0 ||
	    addr_from_sockaddr((const struct sockaddr *)b, &y, &py) < 0)
		return false;
	return px == py && addr_equal(&x, &y);
}

/* No error pending: connected, or still in SYN-SENT? Returns 0 (waiting) or 1 (verdict). */
static int classify_connected(int fd, struct port_result *pr)
{
	struct sockaddr_storage peer, self;
	socklen_t plen = sizeof(peer), slen = sizeof(self);

	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0) {
		if (errno == ENOTCONN)
			return 0;
		engine_classify_errno(errno, pr);
		return 1;
	}
	if (getsockname(fd, (struct sockaddr *)&self, &slen) < 0) {
		engine_classify_errno(errno, pr);
		return 1;
	}
	/* TCP simultaneous open with ourselves (loopback, ephemeral port): nothing listens. */
	if (sockaddr_same(&peer, &self)) {
		pr->state = PORT_CLOSED;
		pr->reason = REASON_RESET;
		pr->sys_errno = 0;
		return 1;
	}
	pr->state = PORT_OPEN;
	pr->reason = REASON_SYN_ACK;
	pr->sys_errno = 0;
	return 1;
}

/*
 * What the kernel knows of a connecting socket. The error queue comes first: a queued ICMP error
 * can wake POLLERR while SO_ERROR is still 0 and the socket still connecting, and for ICMP port
 * unreachable SO_ERROR says ECONNREFUSED exactly as for a reset. Returns 0 (still connecting) or
 * 1 (verdict in pr; icmp_type/code stay -1 unless an ICMP error was read).
 */
int engine_sock_classify(int fd, struct port_result *pr)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	pr->icmp_type = -1;
	pr->icmp_code = -1;
	if (engine_sock_errqueue(fd, pr)) {
		/* Reading SO_ERROR also clears it, so that POLLERR does not fire again. */
		(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		pr->state = PORT_FILTERED;
		pr->reason = REASON_UNREACHABLE;
		return 1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr != 0 && soerr != EINPROGRESS && soerr != EALREADY) {
		engine_classify_errno(soerr, pr);
		return 1;
	}
	return classify_connected(fd, pr);
}

/* A round trip that measured the path (not a local refusal) feeds the target's estimator. */
static bool answer_measures_path(const struct port_result *pr)
{
	if (pr->state == PORT_OPEN || pr->state == PORT_CLOSED)
		return true;
	return pr->state == PORT_FILTERED && pr->reason == REASON_UNREACHABLE && pr->icmp_type >= 0;
}

static void job_arm(struct eng_job *j);

/*
 * Ask (again) for the neighbour entry of t's next hop. Verdict timers ask at most every
 * NEIGH_ASK_MS (all of a target's jobs reach their verdict together; one question serves them);
 * an answer or an error on a socket asks afresh (the entry may have changed a moment ago).
 */
static void target_ask_neigh(struct engine_target *t, bool fresh)
{
	uint64_t now = engine_now_ns();
	struct neigh_info n;

	if (!fresh && t->neigh_ns != 0 && now - t->neigh_ns < NEIGH_ASK_MS * NS_PER_MS)
		return;
	if (neigh_lookup(&t->addr, &n) < 0)
		n = (struct neigh_info){.state = NEIGH_UNKNOWN};
	t->neigh = n.state;
	t->neigh_ns = now;
	t->neigh_change_ns = now - (uint64_t)n.age_ms * NS_PER_MS;
	if (n.state == NEIGH_RESOLVING || n.state == NEIGH_FAILED)
		t->neigh_unres_ns = now;
}

/*
 * When the SYN of attempt s left, as near as we can tell. On our own link a SYN waits in the
 * kernel until the next hop is resolved (neigh.h); timed from connect() the round trip would
 * include that wait (a lost ARP reply: a "round trip" of a second or more) and inflate the
 * target's timeout for every other port. So the first slow answer of a target asks about the
 * next hop. The SYN left no earlier than an entry's resolution after s started (exact for a new
 * entry: the kernel stamps it when the address is learnt) and no earlier than the last moment we
 * saw the entry unresolved (a re-resolved entry keeps its old stamp; this errs long by at most
 * the time between two looks, never short).
 */
static uint64_t sock_sent_ns(struct eng_job *j, const struct eng_sock *s, uint64_t now)
{
	struct engine_target *t = j->t;
	uint64_t sent = s->t0_ns;

	if (!t->rtt.valid && now - s->t0_ns >= NEIGH_SUSPECT_MS * NS_PER_MS)
		target_ask_neigh(t, true);
	if (t->neigh != NEIGH_RESOLVED)
		return sent;
	if (t->neigh_change_ns > sent)
		sent = t->neigh_change_ns;
	if (t->neigh_unres_ns > sent)
		sent = t->neigh_unres_ns;
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
		struct eng_job *o = elist_entry(n, struct eng_job, tlink);

		if (!o->waiting_slot)
			job_arm(o);
	}
}

/* Attempt s answered with pr: first answer wins. */
static void job_answer(struct eng_job *j, struct eng_sock *s, const struct port_result *pr)
{
	uint64_t now = engine_now_ns();
	uint64_t sent = sock_sent_ns(j, s, now);
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
				engine_sock_close(elist_entry(n, struct eng_sock, link));
		}
		j->e->hold--;
		engine_run_start(j, s);
		engine_dispatch(j->e);
		return;
	}
	engine_job_finish(j);
}

/* A verdict without any socket answer (synchronous failure or timeout). */
static void job_verdict(struct eng_job *j, enum port_state st, enum port_reason why, int err)
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
static uint64_t next_step_ms(const struct eng_job *j)
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
static void job_arm(struct eng_job *j)
{
	uint64_t age_ms = (engine_now_ns() - j->last_ns) / NS_PER_MS;
	uint64_t due = next_step_ms(j);

	uv_timer_start(&j->timer, job_timer_cb, due > age_ms ? due - age_ms : 0, 0);
}

/* Our side ran out of something that other sockets' closing gives back. */
static bool out_of_sockets(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
	       err == EADDRNOTAVAIL;
}

/*
 * Start attempt number j->tries now. Returns true if an attempt is in flight (arm its timer);
 * false if it ended the job or the job waits for a socket (engine_out_of_sockets()).
 */
static bool attempt_start(struct eng_job *j)
{
	struct eng_sock *s;
	int r = engine_sock_open(j, j->tries, &s);

	j->tries++;
	j->last_ns = engine_now_ns();
	if (r < 0) {
		struct port_result pr = {.icmp_type = -1, .icmp_code = -1};

		engine_classify_errno(-r, &pr);
		/* A local failure of a retransmission (EMFILE...) leaves the earlier attempts. */
		if (pr.state == PORT_ERROR && !elist_empty(&j->socks))
			return true;
		/* None of this job's sockets open, others are: wait for one of those to close. */
		if (out_of_sockets(-r) && j->e->st.inflight > 0) {
			engine_out_of_sockets(j);
			return false;
		}
		job_verdict(j, pr.state, pr.reason, -r);
		return false;
	}
	return true;
}

void engine_job_start(struct eng_job *j)
{
	uv_timer_init(j->e->loop, &j->timer);
	uv_timer_init(j->e->loop, &j->deadline);
	j->timer.data = j;
	j->deadline.data = j;
	j->refs += 2;
	j->phase = JOB_CONNECTING;
	elist_add_tail(&j->t->connecting, &j->tlink);
	j->first_ns = engine_now_ns();
	if (j->t->first_ns == 0)
		j->t->first_ns = j->first_ns;
	if (attempt_start(j))
		job_arm(j);
}

void engine_job_retry(struct eng_job *j)
{
	if (j->phase != JOB_CONNECTING)
		return;
	if (attempt_start(j))
		job_arm(j);
}

/* Before calling it a timeout, look once more: an answer may sit unread (no wake-up handled). */
static bool job_last_look(struct eng_job *j)
{
	for (struct elist *n = j->socks.next; n != &j->socks; n = n->next) {
		struct eng_sock *s = elist_entry(n, struct eng_sock, link);
		struct port_result pr = {0};

		if (engine_sock_classify(s->fd, &pr)) {
			job_answer(j, s, &pr);
			return true;
		}
	}
	return false;
}

/* The next hop has not been resolved (resolving, failed, or its failed entry dropped). */
static bool target_unresolved(const struct engine_target *t)
{
	return t->neigh == NEIGH_RESOLVING || t->neigh == NEIGH_FAILED ||
	       (t->neigh == NEIGH_UNKNOWN && t->neigh_unres_ns != 0);
}

/*
 * A target that never answered, whose next hop on our own link is not resolved: its SYNs wait in
 * the kernel's neighbour queue (neigh.h), so neither a retransmission (it would queue behind
 * them) nor a verdict makes sense yet. Wait, up to NEIGH_WAIT_MAX_MS from the target's first job
 * (jobs queued behind the caps start late): two of the kernel's three-second resolution cycles.
 * Still unresolved then, the address answers no ARP / neighbour discovery at all: filtered /
 * unreachable. (The kernel's own ICMP "host unreachable" for it is rate-limited, a burst of 50,
 * so it cannot be relied on when many addresses of a link are probed.) Returns true if the job
 * was re-armed or decided here.
 */
static bool job_waits_for_next_hop(struct eng_job *j)
{
	struct engine_target *t = j->t;

	if (t->rtt.valid)
		return false;
	target_ask_neigh(t, false);
	if (!target_unresolved(t))
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
static bool job_waits_for_late_syns(struct eng_job *j)
{
	struct engine_target *t = j->t;
	uint64_t now = engine_now_ns();
	uint64_t to_ns = (uint64_t)engine_target_timeout_ms(t) * NS_PER_MS;

	if (t->rtt.valid || t->neigh != NEIGH_RESOLVED || t->neigh_change_ns <= j->first_ns ||
	    now - t->neigh_change_ns >= to_ns)
		return false;
	uv_timer_start(&j->timer, job_timer_cb,
	               (to_ns - (now - t->neigh_change_ns)) / NS_PER_MS + 1, 0);
	return true;
}

static void job_timer_cb(uv_timer_t *timer)
{
	struct eng_job *j = timer->data;
	uint64_t age_ms = (engine_now_ns() - j->last_ns) / NS_PER_MS;

	if (j->phase != JOB_CONNECTING || j->waiting_slot)
		return;
	/* The timeout may have grown (new samples) since this was armed: then wait on. */
	if (age_ms < next_step_ms(j)) {
		job_arm(j);
		return;
	}
	if (job_waits_for_next_hop(j))
		return;
	if (j->tries < engine_target_allowed_tries(j->t)) {
		if (engine_target_has_room(j->t)) {
			engine_job_retry(j);
			return;
		}
		/* No slot: attempts already made stay open; dispatch() starts this one later. */
		j->waiting_slot = true;
		elist_add_tail(&j->t->retry, &j->link);
		engine_slot_released(j->t);
		return;
	}
	if (!job_last_look(j) && !job_waits_for_late_syns(j))
		job_verdict(j, PORT_FILTERED, REASON_TIMEOUT, 0);
}

/*
 * The kernel's own "host unreachable": the next hop never answered its solicitations (three, a
 * second apart). On a lossy link that can be three lost replies in a row rather than an absent
 * host, and every attempt of the job waited on that same resolution, so none was an independent
 * try. A target that never answered gets one more resolution cycle (~3 s) before it is the
 * verdict; an absent on-link host is then filtered / unreachable after ~6 s instead of ~3 s.
 * Returns true if the job went on with a new attempt.
 */
static bool job_retries_resolution(struct eng_job *j, const struct port_result *pr)
{
	struct engine_target *t = j->t;
	bool going_on;

	if (j->neigh_retried || j->waiting_slot || t->rtt.valid || pr->state != PORT_FILTERED ||
	    pr->reason != REASON_UNREACHABLE)
		return false;
	/* Only the first cycle's failure: a later one ends the job (two cycles, as the timers). */
	if (engine_now_ns() - t->first_ns >= NEIGH_WAIT_MAX_MS * NS_PER_MS / 2)
		return false;
	target_ask_neigh(t, true);
	/*
	 * Failed, or resolving again: another job of this target, hit by the same failure a moment
	 * ago, has already started the next cycle. (A router's "host unreachable" comes through a
	 * resolved next hop.)
	 */
	if (t->neigh != NEIGH_FAILED && t->neigh != NEIGH_RESOLVING)
		return false;
	j->neigh_retried = true;
	j->e->hold++;
	while (!elist_empty(&j->socks))
		engine_sock_close(elist_entry(j->socks.next, struct eng_sock, link));
	going_on = attempt_start(j);
	j->e->hold--;
	if (going_on)
		job_arm(j);
	engine_dispatch(j->e);
	return true;
}

static void connecting_event(struct eng_job *j, struct eng_sock *s)
{
	struct port_result pr = {0};

	if (engine_sock_classify(s->fd, &pr)) {
		if (job_retries_resolution(j, &pr))
			return;
		job_answer(j, s, &pr);
		return;
	}
	/* Still in SYN-SENT (a spurious or non-fatal wake-up): libuv stops the handle on POLLERR.
	 */
	uv_poll_start(&s->poll, (int)s->events, sock_poll_cb);
}

static void sock_poll_cb(uv_poll_t *p, int status, int events)
{
	struct eng_sock *s = p->data;
	struct eng_job *j = s->job;

	switch (j->phase) {
	case JOB_CONNECTING:
		connecting_event(j, s);
		break;
	case JOB_RECONNECT:
		engine_run_reconnect(j, s);
		break;
	case JOB_PROBING:
		engine_run_io(j, s, status, events);
		break;
	default:
		uv_poll_stop(p);
		break;
	}
}

void engine_sock_watch(struct eng_sock *s, unsigned events)
{
	s->events = events;
	uv_poll_start(&s->poll, (int)events, sock_poll_cb);
}
