/* SPDX-License-Identifier: MIT */
/*
 * The probe conversation on an open port: the engine reads (never past max_rx), writes what the
 * probe queued, enforces the idle and total deadlines, reconnects on request, and closes. The
 * peer's bytes are hostile: they only ever land in the max_rx buffer.
 *
 * A probe talks over one connection at a time (start/feed/end, RECONNECT for the next), or, with
 * conversations (probe_ops.conv), over several side by side: each connection is a slot of
 * run->convs with its own buffers and deadlines, the probe's number for it, and the same rules
 * as a lone connection. One job timer serves them all: it is armed for the earliest of their
 * idle or connect deadlines, and the slots are looked at in order when it fires.
 */
#include "core/err.h"
#include "engine/deadline.h"
#include "engine/engine_internal.h"
#include "engine/tls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TX_CAP    (16 * 1024)
#define NS_PER_MS 1000000ull
/* A deadline this close is due: libuv's timers run on the loop's millisecond clock. */
#define DUE_SLACK_NS (2 * NS_PER_MS)

static void conv_end(struct engine_job *j, struct probe_conv *c, enum probe_end why);
static void conv_after(struct engine_job *j, struct probe_conv *c, int r);
static void conv_retry(struct engine_job *j, struct probe_conv *c);
static void run_more(struct engine_job *j);
static void deadline_cb(uv_timer_t *timer);

static void conv_buffers_free(struct probe_conv *c)
{
	etls_free(c->tls);
	c->tls = NULL;
	free(c->rx);
	free(c->tx.buf);
	c->rx = NULL;
	c->rx_len = 0;
	c->tx = (struct probe_tx){0};
	c->tx_off = 0;
}

void probe_run_free(struct probe_run *run)
{
	if (run == NULL)
		return;
	for (unsigned i = 0; i < run->n_convs; i++)
		conv_buffers_free(&run->convs[i]);
	free(run->convs);
	free(run->state);
	free(run->rx); /* a UDP job's */
	free(run->tx.buf);
	free(run->dgram);
	free(run);
}

void probe_run_detach(struct probe_run *run)
{
	if (run == NULL)
		return;
	run->s = NULL; /* a UDP job's */
	for (unsigned i = 0; i < run->n_convs; i++)
		run->convs[i].s = NULL;
}

static bool side_by_side(const struct engine_job *j)
{
	return j->probe->conv != NULL;
}

/* c still talks on s: nothing ended the job or moved the slot on meanwhile. */
static bool conv_live(const struct engine_job *j, const struct probe_conv *c,
                      const struct engine_sock *s)
{
	return j->phase == JOB_PROBING && c->s == s && s != NULL;
}

static unsigned convs_open(const struct probe_run *run)
{
	unsigned n = 0;

	for (unsigned i = 0; i < run->n_convs; i++)
		n += run->convs[i].s != NULL;
	return n;
}

/* What the kernel measured on a probe's connection; zeroes when it will not say. */
static void conn_tcp_info(int fd, struct deadline_tcp *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(out, 0, sizeof(*out));
	memset(&ti, 0, sizeof(ti));
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_total_retrans) + sizeof(ti.tcpi_total_retrans))
		return;
	out->rtt_us = ti.tcpi_rtt;
	out->rttvar_us = ti.tcpi_rttvar;
	out->rto_us = ti.tcpi_rto;
	out->retransmits = ti.tcpi_retransmits;
	out->total_retrans = ti.tcpi_total_retrans;
}

/* The deadlines of the job's probe on socket s (NULL: from the target's timeout alone). */
static void sock_deadlines(struct engine_job *j, const struct engine_sock *s, struct deadlines *out)
{
	struct deadline_budget b = {.idle_ms = j->probe->idle_ms,
	                            .total_ms = j->probe->total_ms,
	                            .target_timeout_ms = engine_target_timeout_ms(j->t)};
	struct deadline_tcp tcp;

	conn_tcp_info(s ? s->fd : -1, &tcp);
	deadline_rule(&tcp, &b, out);
}

/* An established connection of the run to measure the path on, for one that has none yet. */
static const struct engine_sock *run_any_sock(const struct probe_run *run)
{
	for (unsigned i = 0; i < run->n_convs; i++)
		if (run->convs[i].s && !run->convs[i].connecting)
			return run->convs[i].s;
	return NULL;
}

static unsigned ms_since(uint64_t t0_ns)
{
	uint64_t d = (engine_now_ns() - t0_ns) / NS_PER_MS;

	return d > UINT32_MAX ? UINT32_MAX : (unsigned)d;
}

/* The path turned out slower than at the start: the total deadline grows (to its ceiling). */
static void run_grow_total(struct engine_job *j, unsigned total_ms)
{
	struct probe_run *run = j->run;
	unsigned spent = ms_since(run->start_ns);

	if (total_ms <= run->total_ms)
		return;
	run->total_ms = total_ms;
	uv_timer_start(&j->deadline, deadline_cb, total_ms > spent ? total_ms - spent : 0, 0);
}

static void timer_cb(uv_timer_t *timer);

/* Arm the job timer for the earliest deadline of the open connections. */
static void run_arm(struct engine_job *j)
{
	struct probe_run *run = j->run;
	uint64_t first = 0, now = engine_now_ns();

	for (unsigned i = 0; i < run->n_convs; i++) {
		const struct probe_conv *c = &run->convs[i];

		if (c->s && (first == 0 || c->due_ns < first))
			first = c->due_ns;
	}
	if (first == 0) {
		uv_timer_stop(&j->timer);
		return;
	}
	uv_timer_start(&j->timer, timer_cb,
	               first > now ? (first - now + NS_PER_MS - 1) / NS_PER_MS : 0, 0);
}

static void conv_due_in(struct probe_conv *c, uint64_t from_ns, unsigned ms)
{
	c->due_ns = from_ns + (uint64_t)ms * NS_PER_MS;
}

/*
 * Nothing arrived and the probe sent nothing on this connection: the server was to speak
 * first. Worth a new connection once if the path is slow or lossy and the budget holds it.
 */
static bool conv_retry_due(const struct engine_job *j, const struct probe_conv *c,
                           const struct deadlines *dl)
{
	const struct probe_run *run = j->run;
	/* A new connection takes a round trip when its SYN is not lost; the deadline bounds the
	 * rest. */
	unsigned need = dl->rto_ms + dl->idle_ms;

	if (run->retried || c->got_any || c->sent_any || !dl->slow)
		return false;
	return ms_since(run->start_ns) + need <= run->total_ms;
}

/*
 * c's idle deadline came: ask its socket again. Retransmissions since the connection began
 * (ours, or a backed-off RTO) may call for a longer wait; otherwise the silence is real.
 */
static void conv_idle(struct engine_job *j, struct probe_conv *c)
{
	struct deadlines dl;
	unsigned quiet;

	sock_deadlines(j, c->s, &dl);
	run_grow_total(j, dl.total_ms);
	quiet = ms_since(c->last_ns);
	if (dl.idle_ms > c->idle_ms)
		c->idle_ms = dl.idle_ms;
	if (quiet + 2 < c->idle_ms) {
		j->e->st.idle_extended++;
		conv_due_in(c, engine_now_ns(), c->idle_ms - quiet);
		return;
	}
	if (conv_retry_due(j, c, &dl)) {
		conv_retry(j, c);
		return;
	}
	conv_end(j, c, PROBE_END_IDLE);
}

static void conv_connect_event(struct engine_job *j, struct probe_conv *c, struct engine_sock *s);

/* The job timer: every connection whose deadline has come, in slot order. */
static void timer_cb(uv_timer_t *timer)
{
	struct engine_job *j = timer->data;
	struct probe_run *run = j->run;

	for (unsigned i = 0; i < run->n_convs && j->phase == JOB_PROBING; i++) {
		struct probe_conv *c = &run->convs[i];

		if (c->s == NULL || c->due_ns > engine_now_ns() + DUE_SLACK_NS)
			continue;
		if (c->connecting)
			conv_connect_event(j, c, NULL);
		else
			conv_idle(j, c);
	}
	if (j->phase == JOB_PROBING)
		run_arm(j);
}

/* The total deadline: every open connection hears it, then the probe must finish. */
static void deadline_cb(uv_timer_t *timer)
{
	struct engine_job *j = timer->data;
	struct probe_run *run = j->run;

	if (j->phase != JOB_PROBING)
		return;
	if (!side_by_side(j)) {
		conv_end(j, &run->convs[0], PROBE_END_DEADLINE);
		return;
	}
	run->ended_deadline = true;
	for (unsigned i = 0; i < run->n_convs && j->phase == JOB_PROBING; i++)
		if (run->convs[i].s)
			conv_end(j, &run->convs[i], PROBE_END_DEADLINE);
	engine_job_finish(j);
}

/* TLS: encrypt what the probe queued (after the handshake), send the ciphertext the socket
 * takes; the rest waits in the session. Returns 0 or -errno / -ERR_PROTO. */
static int tls_flush(struct probe_conv *c)
{
	const uint8_t *p;
	size_t n;

	if (!c->handshaking && c->tx.len > c->tx_off) {
		if (etls_write(c->tls, c->tx.buf + c->tx_off, c->tx.len - c->tx_off) < 0)
			return -ERR_PROTO;
		c->tx.len = 0;
		c->tx_off = 0;
	}
	while (c->s && (n = etls_pending(c->tls, &p)) > 0) {
		ssize_t w = send(c->s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		etls_sent(c->tls, (size_t)w);
	}
	return 0;
}

/* Send what is queued, as far as the socket takes it. Returns 0 or -errno. */
static int conv_flush(struct probe_conv *c)
{
	if (c->tls)
		return tls_flush(c);
	while (c->s && c->tx_off < c->tx.len) {
		ssize_t n = send(c->s->fd, c->tx.buf + c->tx_off, c->tx.len - c->tx_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		c->tx_off += (size_t)n;
	}
	c->tx.len = 0;
	c->tx_off = 0;
	return 0;
}

/* Give the probe the whole tx capacity: move unsent bytes to the front. */
static void tx_compact(struct probe_conv *c)
{
	if (c->tx_off == 0)
		return;
	memmove(c->tx.buf, c->tx.buf + c->tx_off, c->tx.len - c->tx_off);
	c->tx.len -= c->tx_off;
	c->tx_off = 0;
}

/* Flush, then watch for bytes (and for room to send, if some are left). */
static void conv_pump(struct engine_job *j, struct probe_conv *c)
{
	unsigned ev = UV_READABLE | UV_DISCONNECT;

	if (c->tx.len > c->tx_off)
		c->sent_any = true;
	if (conv_flush(c) < 0) {
		conv_end(j, c, PROBE_END_RESET);
		return;
	}
	if (c->tx_off < c->tx.len || (c->tls && etls_pending(c->tls, &(const uint8_t *){NULL}) > 0))
		ev |= UV_WRITABLE;

	sock_watch(c->s, ev);
}

static int probe_start(struct engine_job *j, struct probe_conv *c)
{
	struct probe_run *run = j->run;
	const struct probe_ops *p = j->probe;

	if (p->conv)
		return p->conv->start(run->state, c->conn, &c->tx, &run->res);
	return p->start ? p->start(run->state, c->conn, &c->tx, &run->res) : PROBE_MORE;
}

/* The connection s of slot c is established: the probe's connection c->conn begins. */
static void conv_begin(struct engine_job *j, struct probe_conv *c, struct engine_sock *s)
{
	unsigned open;
	struct deadlines dl;

	c->s = s;
	c->connecting = false;
	open = convs_open(j->run);
	c->rx_len = 0;
	c->tx.len = 0;
	c->tx.next_port = 0;
	c->tx.tls = false;
	c->tx_off = 0;
	c->sent_any = false;
	c->got_any = false;
	c->retrying = false;
	c->last_ns = engine_now_ns();
	if (open > j->e->st.conv_peak)
		j->e->st.conv_peak = open;
	/* Each connection's idle deadline from its own handshake; the total only ever grows. */
	sock_deadlines(j, s, &dl);
	c->idle_ms = dl.idle_ms;
	run_grow_total(j, dl.total_ms);
	conv_due_in(c, c->last_ns, c->idle_ms);
	run_arm(j);
	if (c->tls_want) {
		/* The handshake first; start() once it is done (conv_tls_read). */
		etls_free(c->tls);
		c->tls = etls_new();
		c->handshaking = true;
		if (c->tls == NULL || etls_handshake(c->tls) < 0) {
			conv_end(j, c, PROBE_END_RESET);
			return;
		}
		conv_pump(j, c);
		return;
	}
	conv_after(j, c, probe_start(j, c));
}

/* Slot c's buffers, allocated at its first connection. Returns 0 or -ENOMEM. */
static int conv_buffers(struct probe_run *run, struct probe_conv *c)
{
	if (c->rx == NULL)
		c->rx = malloc(run->max_rx);
	if (c->tx.buf == NULL) {
		c->tx.buf = malloc(TX_CAP);
		c->tx.cap = c->tx.buf ? TX_CAP : 0;
	}
	return c->rx && c->tx.buf ? 0 : -ENOMEM;
}

void probe_run_start(struct engine_job *j, struct engine_sock *s)
{
	const struct probe_ops *p = j->probe;
	struct probe_run *run = calloc(1, sizeof(*run));
	struct probe_conv *c;
	struct deadlines dl;
	int first = 0;

	if (run == NULL)
		goto out_nomem;
	run->max_rx = p->max_rx ? p->max_rx : 1;
	run->n_convs = p->conv && p->conv->max_parallel > 1 ? p->conv->max_parallel : 1;
	run->state = calloc(1, p->state_size ? p->state_size : 1);
	run->convs = calloc(run->n_convs, sizeof(*run->convs));
	if (run->state == NULL || run->convs == NULL || conv_buffers(run, &run->convs[0]) < 0)
		goto out_nomem;
	run->max_conns = p->max_conns ? p->max_conns : 1;
	run->start_ns = engine_now_ns();
	run->opened = 1;
	j->run = run;
	j->phase = JOB_PROBING;
	sock_deadlines(j, s, &dl);
	run->total_ms = dl.total_ms;
	uv_timer_start(&j->deadline, deadline_cb, dl.total_ms, 0);
	if (p->conv)
		first = p->conv->next(run->state);
	if (first < 0 || (unsigned)first >= run->max_conns) {
		/* The probe wants no connection: the port is open, the result as it stands. */
		engine_job_finish(j);
		return;
	}
	c = &run->convs[0];
	c->conn = (unsigned)first;
	conv_begin(j, c, s);
	return;
out_nomem:
	/* The port is open all the same; no probe result. */
	probe_run_free(run);
	j->run = NULL;
	j->pr.sys_errno = ENOMEM;
	engine_job_finish(j);
}

/* Open a connection on slot c (its old one, if any, closed first) for the probe's connection
 * c->conn. The deadlines of the wait come from old, or from another connection of the run. */
static void conv_open(struct engine_job *j, struct probe_conv *c)
{
	struct probe_run *run = j->run;
	struct engine *e = j->e;
	struct engine_sock *s;
	struct deadlines dl;
	int r;

	/*
	 * How long the next connection may take (deadline.h): the kernel's SYN retransmission at
	 * 1 s and its answer, so one lost SYN or SYN-ACK does not end the conversation (on the
	 * lab's lossy host the RDP NLA test stayed "unknown" in 2 of 10 checks when its third
	 * connection gave up at 1 s); on a slow path the second one at 3 s too.
	 */
	sock_deadlines(j, c->s ? c->s : run_any_sock(run), &dl);
	/* Hold dispatch: the slot of the old socket passes to the new one, not to another job. */
	e->hold++;
	if (c->s)
		sock_close(c->s);
	c->s = NULL;
	etls_free(c->tls); /* the old connection's session */
	c->tls = NULL;
	c->handshaking = false;
	run->port = c->port;
	r = conv_buffers(run, c) < 0 ? -ENOMEM : sock_open(j, 0, &s);
	run->port = 0;
	e->hold--;
	if (r < 0) {
		engine_dispatch(e);
		conv_end(j, c, PROBE_END_CONNECT);
		return;
	}
	c->s = s;
	c->connecting = true;
	conv_due_in(c, engine_now_ns(), dl.connect_ms);
	run_arm(j);
	engine_dispatch(e);
}

/* The probe asked for its next connection (or end() did): one at a time, on the same slot. */
static void conv_reconnect(struct engine_job *j, struct probe_conv *c)
{
	struct probe_run *run = j->run;

	if (run->ended_deadline || run->opened >= run->max_conns) {
		engine_job_finish(j);
		return;
	}
	run->opened++;
	c->conn++;
	c->port = c->tx.next_port; /* 0: the probed port again */
	c->tls_want = c->tx.tls;
	conv_open(j, c);
}

/*
 * A server that was to speak first stayed silent on a slow or lossy path: the same conversation
 * once more on a new connection (start() again with the same conn), before the probe concludes.
 */
static void conv_retry(struct engine_job *j, struct probe_conv *c)
{
	j->run->retried = true;
	c->retrying = true;
	j->e->st.probe_retries++;
	conv_open(j, c);
}

/* Slot c's connection is over (side by side): close it, then open what the probe wants. */
static void conv_close(struct engine_job *j, struct probe_conv *c)
{
	struct engine *e = j->e;

	(void)conv_flush(c); /* a polite last send */
	e->hold++;
	if (c->s)
		sock_close(c->s);
	c->s = NULL;
	conv_buffers_free(c);
	run_more(j); /* the slot just freed may go to this probe's next connection */
	e->hold--;
	engine_dispatch(e);
}

/*
 * Open every connection the probe wants now, within max_parallel, max_conns and the target's
 * socket caps; without a slot the job waits in its target's retry queue (probe_run_slot). With
 * nothing open and nothing wanted the probe is over.
 */
static void run_more(struct engine_job *j)
{
	struct probe_run *run = j->run;

	while (j->phase == JOB_PROBING && !run->ended_deadline && run->opened < run->max_conns) {
		struct probe_conv *c = NULL;
		int conn;

		for (unsigned i = 0; i < run->n_convs && c == NULL; i++)
			if (run->convs[i].s == NULL)
				c = &run->convs[i];
		if (c == NULL)
			return;
		if (!engine_target_has_room(j->t)) {
			if (!j->waiting_slot) {
				j->waiting_slot = true;
				elist_add_tail(&j->t->retry, &j->link);
				engine_slot_released(j->t);
			}
			return;
		}
		conn = j->probe->conv->next(run->state);
		if (conn < 0 || (unsigned)conn >= run->max_conns)
			break;
		run->opened++;
		c->conn = (unsigned)conn;
		c->port = 0;
		c->tls_want =
		    false; /* a new conversation starts plain, whatever the slot did before */
		c->retrying = false;
		conv_open(j, c);
	}
	if (j->phase == JOB_PROBING && convs_open(run) == 0)
		engine_job_finish(j);
}

void probe_run_slot(struct engine_job *j)
{
	if (j->phase == JOB_PROBING && j->run && side_by_side(j))
		run_more(j);
}

/* c's connection is open or failed (s = NULL: its connect wait is over). */
static void conv_connect_event(struct engine_job *j, struct probe_conv *c, struct engine_sock *s)
{
	struct port_result pr = {0};

	if (c->s == NULL || (s && s != c->s))
		return;
	if (!sock_classify(c->s->fd, &pr)) {
		if (s == NULL)
			conv_end(j, c, PROBE_END_CONNECT);
		else
			sock_watch(s, s->events);
		return;
	}
	if (pr.state == PORT_OPEN)
		conv_begin(j, c, c->s);
	else
		conv_end(j, c, PROBE_END_CONNECT);
}

static int probe_end(struct engine_job *j, struct probe_conv *c, enum probe_end why)
{
	struct probe_run *run = j->run;
	const struct probe_ops *p = j->probe;

	if (p->conv)
		return p->conv->end(run->state, c->conn, why, &run->res);
	return p->end ? p->end(run->state, why, &run->res) : PROBE_DONE;
}

/* c's connection ended without DONE: let the probe conclude, reconnect if it asks, or (side by
 * side) close it and go on with the others. */
static void conv_end(struct engine_job *j, struct probe_conv *c, enum probe_end why)
{
	struct probe_run *run = j->run;
	int r;

	/* The retry's connection failed: what the probe saw was the first one's silence. */
	if (why == PROBE_END_CONNECT && c->retrying)
		why = PROBE_END_IDLE;
	r = probe_end(j, c, why);
	if (why == PROBE_END_DEADLINE)
		run->ended_deadline = true;
	if (side_by_side(j) && (r == PROBE_CLOSE || r == PROBE_RECONNECT) && !run->ended_deadline) {
		conv_close(j, c);
		return;
	}
	if (side_by_side(j) && why == PROBE_END_DEADLINE && r != PROBE_DONE && r >= 0)
		return; /* the other connections hear the deadline too (deadline_cb) */
	if (r == PROBE_RECONNECT && !run->ended_deadline && !side_by_side(j)) {
		conv_reconnect(j, c);
		return;
	}
	engine_job_finish(j);
}

/* Act on what start() or feed() returned. */
static void conv_after(struct engine_job *j, struct probe_conv *c, int r)
{
	if (r == PROBE_MORE) {
		conv_pump(j, c);
		if (side_by_side(j) && j->phase == JOB_PROBING)
			run_more(j); /* the answer may have made another connection due */
		return;
	}
	if (side_by_side(j) && (r == PROBE_CLOSE || r == PROBE_RECONNECT)) {
		conv_close(j, c);
		return;
	}
	if (r == PROBE_RECONNECT) {
		conv_reconnect(j, c);
		return;
	}
	/* DONE, or an error (the result keeps what was learnt): a polite last send, then close. */
	(void)conv_flush(c);
	engine_job_finish(j);
}

static int probe_feed(struct engine_job *j, struct probe_conv *c, size_t *consumed)
{
	struct probe_run *run = j->run;
	const struct probe_ops *p = j->probe;

	if (p->conv)
		return p->conv->feed(run->state, c->conn, c->rx, c->rx_len, consumed, &c->tx,
		                     &run->res);
	return p->feed ? p->feed(run->state, c->rx, c->rx_len, consumed, &c->tx, &run->res)
	               : PROBE_DONE;
}

static void conv_feed(struct engine_job *j, struct probe_conv *c)
{
	size_t consumed = 0;
	int r;

	tx_compact(c);
	r = probe_feed(j, c, &consumed);
	/* A probe bug must not make us read outside the buffer. */
	if (consumed > c->rx_len)
		consumed = c->rx_len;
	memmove(c->rx, c->rx + consumed, c->rx_len - consumed);
	c->rx_len -= consumed;
	if (r == PROBE_MORE && c->rx_len == j->run->max_rx) {
		conv_end(j, c, PROBE_END_TOOBIG);
		return;
	}
	conv_after(j, c, r);
}

/*
 * TLS: ciphertext from the socket into the session; during the handshake, the next step (and
 * start() when it is done); after it, the plaintext into rx for the probe.
 */
static void conv_tls_read(struct engine_job *j, struct probe_conv *c)
{
	struct engine_sock *s = c->s;
	uint8_t raw[16384];
	ssize_t n = recv(s->fd, raw, sizeof(raw), MSG_DONTWAIT);
	int r = 0;

	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conv_end(j, c, PROBE_END_RESET);
		return;
	}
	if (n == 0) {
		/* A peer that closes during the handshake refused TLS: a reset, not a close. */
		conv_end(j, c, c->handshaking ? PROBE_END_RESET : PROBE_END_CLOSED);
		return;
	}
	c->last_ns = engine_now_ns();
	conv_due_in(c, c->last_ns, c->idle_ms);
	run_arm(j);
	if (etls_in(c->tls, raw, (size_t)n) < 0) {
		conv_end(j, c, PROBE_END_TOOBIG);
		return;
	}
	if (c->handshaking) {
		r = etls_handshake(c->tls);
		if (r < 0) {
			conv_end(j, c, PROBE_END_RESET);
			return;
		}
		conv_pump(j, c);
		if (r == 0 || !conv_live(j, c, s))
			return;
		c->handshaking = false;
		conv_after(j, c, probe_start(j, c));
		if (!conv_live(j, c, s))
			return;
	}
	/*
	 * Every record decrypted now (a closing peer sends nothing more to wake us), and fed as the
	 * plain path feeds what recv() returns: rx filled up to max_rx, the probe fed, and again
	 * while it wants more and the session holds more. So a reply past max_rx ends TOOBIG
	 * (conv_feed) and a probe that consumes sees every byte, as in clear text; and the session
	 * keeps no plaintext behind, so its input never grows past what one recv() brings.
	 */
	for (;;) {
		size_t room = j->run->max_rx - c->rx_len;
		bool got = false;

		r = 0;
		while (room > 0 && (r = etls_read(c->tls, c->rx + c->rx_len, room)) > 0) {
			c->rx_len += (size_t)r;
			room -= (size_t)r;
			got = true;
		}
		if (!got)
			break;
		c->got_any = true;
		conv_feed(j, c);
		if (!conv_live(j, c, s))
			return; /* ended, or a new connection (its own session) */
	}
	if (r < 0)
		conv_end(j, c, PROBE_END_CLOSED);
}

static void conv_read(struct engine_job *j, struct probe_conv *c)
{
	size_t room = j->run->max_rx - c->rx_len;
	ssize_t n;

	if (c->tls) {
		conv_tls_read(j, c);
		return;
	}
	if (room == 0) {
		conv_end(j, c, PROBE_END_TOOBIG);
		return;
	}
	n = recv(c->s->fd, c->rx + c->rx_len, room, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conv_end(j, c, PROBE_END_RESET);
		return;
	}
	if (n == 0) {
		conv_end(j, c, PROBE_END_CLOSED);
		return;
	}
	c->rx_len += (size_t)n;
	c->got_any = true;
	c->last_ns = engine_now_ns();
	conv_due_in(c, c->last_ns, c->idle_ms);
	run_arm(j);
	conv_feed(j, c);
}

/* POLLERR on an established connection: a reset, or only an ICMP notice on the error queue. */
static void conv_error(struct engine_job *j, struct probe_conv *c, struct engine_sock *s)
{
	struct port_result pr = {0};
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	(void)sock_errqueue(s->fd, &pr);
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) {
		/* libuv stopped the handle on POLLERR; the connection itself is fine. */
		sock_watch(s, s->events);
		return;
	}
	conv_end(j, c, PROBE_END_RESET);
}

void probe_run_io(struct engine_job *j, struct engine_sock *s, int status, int events)
{
	struct probe_run *run = j->run;
	struct probe_conv *c = NULL;

	if (j->phase != JOB_PROBING || run == NULL)
		return;
	for (unsigned i = 0; i < run->n_convs && c == NULL; i++)
		if (run->convs[i].s == s)
			c = &run->convs[i];
	if (c == NULL)
		return;
	if (c->connecting) {
		conv_connect_event(j, c, s);
		return;
	}
	if (status < 0) {
		conv_error(j, c, s);
		return;
	}
	if (events & UV_WRITABLE) {
		conv_pump(j, c);
		if (!conv_live(j, c, s))
			return;
	}
	if (events & (UV_READABLE | UV_DISCONNECT))
		conv_read(j, c);
}
