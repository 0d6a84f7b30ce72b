/* SPDX-License-Identifier: MIT */
/*
 * UDP jobs: a datagram probe's request sent on a connected UDP socket with IP_RECVERR /
 * IPV6_RECVERR, retransmitted on the adaptive timeout, then the verdict: a datagram back is open
 * (and the probe reads it), ICMP port unreachable is closed, another ICMP unreachable filtered,
 * nothing at all open|filtered (never closed, never safe). See docs/internals/ENGINE.md, "UDP".
 * The peer's datagrams are hostile: each lands in the max_rx buffer, truncated there.
 */
#include "engine/engine_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_TX_CAP        2048 /* one request datagram, as the probes queue it */
#define UDP_RECV_PER_WAKE 16   /* datagrams read per wake-up; the rest on the next one */

static void udp_timer_cb(uv_timer_t *timer);

/* The verdict is in j->pr; a port that never answered keeps no probe result (as TCP). */
static void udp_finish(struct engine_job *j, bool keep_result)
{
	j->pr.tries = j->tries;
	if (!keep_result) {
		if (j->run)
			probe_result_done(&j->run->res); /* what end() wrote, details included */
		probe_run_free(j->run);
		j->run = NULL;
	}
	engine_job_finish(j);
}

/* The probe's end(why) when it has not said DONE: it finishes its result from what it saw. */
static void udp_end(struct engine_job *j, enum probe_end why)
{
	struct probe_run *run = j->run;

	if (why == PROBE_END_DEADLINE)
		run->ended_deadline = true;
	if (j->probe->end)
		j->probe->end(run->state, why, &run->res);
	if (!run->got_any) {
		/* Neither an answer nor an ICMP error after every try (or at the deadline): no
		 * result either, a probe result belongs to an open port only (as for TCP, and
		 * the prober's front holds every result to it). */
		j->pr.state = PORT_OPEN_FILTERED;
		j->pr.reason = REASON_TIMEOUT;
		j->pr.sys_errno = 0;
	}
	udp_finish(j, run->got_any);
}

/* An ICMP error on the socket: port unreachable is closed, any other unreachable filtered. */
static void udp_icmp(struct engine_job *j, const struct port_result *icmp)
{
	bool v6 = j->t->addr.family == AF_INET6;
	bool port_unreach = v6 ? icmp->icmp_type == 1 && icmp->icmp_code == 4
	                       : icmp->icmp_type == 3 && icmp->icmp_code == 3;

	j->pr.icmp_type = icmp->icmp_type;
	j->pr.icmp_code = icmp->icmp_code;
	j->pr.sys_errno = icmp->sys_errno;
	j->pr.state = port_unreach ? PORT_CLOSED : PORT_FILTERED;
	j->pr.reason = REASON_UNREACHABLE;
	j->pr.rtt_ms = (double)(engine_now_ns() - j->last_ns) / 1e6;
	udp_finish(j, false);
}

/* Send one datagram; on a retry of the request, count the try. Returns 0 or -errno. */
static int udp_send(struct engine_job *j, const uint8_t *buf, size_t len, bool request)
{
	ssize_t n;

	do
		n = send(j->run->s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (request) {
		j->tries++;
		j->last_ns = engine_now_ns();
	}
	j->e->st.udp_sent++;
	/* A full send buffer loses this datagram as the network could: the timer retries. */
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	return 0;
}

/*
 * The wait after the request's latest try: the adaptive timeout (a retransmission is due then),
 * and after the last try the protocol's reply delay too (SSDP's MX): a server may wait that long
 * on purpose before it answers.
 */
static unsigned udp_wait_ms(const struct engine_job *j)
{
	unsigned t = engine_target_timeout_ms(j->t);

	if (j->tries >= engine_target_allowed_tries(j->t))
		t += j->probe->reply_delay_ms;
	return t;
}

/* send() failed: an ICMP error it reported, or a local failure (never a verdict "closed"). */
static void udp_send_failed(struct engine_job *j, int err)
{
	struct port_result icmp = {.icmp_type = -1, .icmp_code = -1};

	if (sock_errqueue(j->run->s->fd, &icmp)) {
		udp_icmp(j, &icmp);
		return;
	}
	sock_classify_errno(err, &j->pr);
	if (j->pr.state == PORT_CLOSED) /* ECONNREFUSED without its ICMP: unreachable, no type */
		j->pr.reason = REASON_UNREACHABLE;
	udp_finish(j, false);
}

/* The request (again): the first try, or a retransmission after a silent timeout. */
static void udp_request(struct engine_job *j)
{
	struct probe_run *run = j->run;
	int r = udp_send(j, run->dgram, run->dgram_len, true);

	if (r < 0) {
		udp_send_failed(j, -r);
		return;
	}
	uv_timer_start(&j->timer, udp_timer_cb, udp_wait_ms(j), 0);
}

static void udp_timer_cb(uv_timer_t *timer)
{
	struct engine_job *j = timer->data;

	if (j->phase != JOB_UDP)
		return;
	if (j->run->got_any || j->tries >= engine_target_allowed_tries(j->t)) {
		udp_end(j, PROBE_END_IDLE);
		return;
	}
	udp_request(j);
}

static void udp_deadline_cb(uv_timer_t *timer)
{
	struct engine_job *j = timer->data;

	if (j->phase == JOB_UDP)
		udp_end(j, PROBE_END_DEADLINE);
}

/* A fresh socket for the job (the first, or after waiting for a descriptor), then the request. */
static void udp_open(struct engine_job *j)
{
	struct engine_sock *s;
	int r;

	j->tries++; /* engine_out_of_sockets() gives it back if the socket cannot be had now */
	r = sock_open_udp(j, &s);
	j->tries--;
	if (r < 0 && sock_err_is_shortage(-r) && j->e->st.inflight > 0) {
		j->tries++;
		engine_out_of_sockets(j);
		return;
	}
	if (r < 0) {
		sock_classify_errno(-r, &j->pr);
		udp_finish(j, false);
		return;
	}
	j->run->s = s;
	udp_request(j);
}

/* One datagram (len bytes of it in run->rx, n sent): open, and the probe reads it. */
static void udp_datagram(struct engine_job *j, size_t len)
{
	struct probe_run *run = j->run;
	size_t consumed = 0;
	int r;

	run->datagrams++;
	run->last_ns = engine_now_ns();
	if (!run->got_any) {
		run->got_any = true;
		j->pr.state = PORT_OPEN;
		j->pr.reason = REASON_UDP_RESPONSE;
		j->pr.sys_errno = 0;
		j->pr.rtt_ms = (double)(run->last_ns - j->last_ns) / 1e6;
		/* An unambiguous round trip (one try, no protocol delay) teaches the target's
		 * timeout like a SYN-ACK does. */
		if (j->tries == 1 && j->probe->reply_delay_ms == 0)
			rtt_sample(&j->t->rtt, (int64_t)(run->last_ns - j->last_ns) / 1000);
	}
	run->tx.len = 0;
	r = j->probe->feed(run->state, run->rx, len, &consumed, &run->tx, &run->res);
	if (r == PROBE_DONE || r < 0 || r == PROBE_RECONNECT) {
		udp_finish(j, true);
		return;
	}
	if (run->tx.len > 0 && udp_send(j, run->tx.buf, run->tx.len, false) < 0) {
		udp_end(j, PROBE_END_RESET);
		return;
	}
	run->tx.len = 0;
	uv_timer_start(&j->timer, udp_timer_cb, j->probe->idle_ms, 0);
}

void udp_sock_event(struct engine_job *j, struct engine_sock *s, int status, int events)
{
	struct probe_run *run = j->run;
	struct port_result icmp = {.icmp_type = -1, .icmp_code = -1};

	(void)status;
	(void)events;
	if (run == NULL || run->s != s)
		return;
	/* The error queue first: an ICMP error wakes POLLERR, and recv() would only say
	 * ECONNREFUSED. After an answer an ICMP error changes nothing (the port spoke). */
	if (sock_errqueue(s->fd, &icmp) && !run->got_any) {
		udp_icmp(j, &icmp);
		return;
	}
	for (int i = 0; i < UDP_RECV_PER_WAKE && j->phase == JOB_UDP; i++) {
		ssize_t n = recv(s->fd, run->rx, run->max_rx, MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && !run->got_any) {
			udp_send_failed(j, errno);
			return;
		}
		if (n < 0)
			return;
		udp_datagram(j, (size_t)n < run->max_rx ? (size_t)n : run->max_rx);
	}
}

void udp_begin(struct engine_job *j)
{
	const struct probe_ops *p = j->probe;
	struct probe_run *run = calloc(1, sizeof(*run));
	int r;

	j->phase = JOB_UDP;
	j->first_ns = engine_now_ns();
	j->last_ns = j->first_ns;
	j->pr = (struct port_result){.state = PORT_ERROR,
	                             .reason = REASON_LOCAL_ERROR,
	                             .icmp_type = -1,
	                             .icmp_code = -1,
	                             .rtt_ms = -1};
	if (j->t->first_ns == 0)
		j->t->first_ns = j->first_ns;
	if (run == NULL)
		goto out_nomem;
	j->run = run;
	run->max_rx = p->max_rx ? p->max_rx : 1;
	run->state = calloc(1, p->state_size ? p->state_size : 1);
	run->rx = malloc(run->max_rx);
	run->tx.buf = malloc(UDP_TX_CAP);
	run->tx.cap = UDP_TX_CAP;
	if (run->state == NULL || run->rx == NULL || run->tx.buf == NULL)
		goto out_nomem;
	run->max_conns = 1;
	run->start_ns = j->first_ns;
	run->total_ms = p->total_ms;
	r = p->start(run->state, 0, &run->tx, &run->res);
	if (r < 0 || run->tx.len == 0) {
		/* A datagram probe with nothing to send: our bug, never a verdict. */
		j->pr.sys_errno = EINVAL;
		udp_finish(j, false);
		return;
	}
	run->dgram = malloc(run->tx.len);
	if (run->dgram == NULL)
		goto out_nomem;
	memcpy(run->dgram, run->tx.buf, run->tx.len);
	run->dgram_len = run->tx.len;
	run->tx.len = 0;
	uv_timer_start(&j->deadline, udp_deadline_cb, p->total_ms, 0);
	udp_open(j);
	return;
out_nomem:
	j->pr.sys_errno = ENOMEM;
	udp_finish(j, false);
}

void udp_retry(struct engine_job *j)
{
	if (j->run && j->run->s == NULL && j->phase == JOB_UDP)
		udp_open(j);
}
