/* SPDX-License-Identifier: MIT */
/*
 * The probe conversation on an open port: the engine reads (never past max_rx), writes what the
 * probe queued, enforces the idle and total deadlines, reconnects on request, and closes. The
 * peer's bytes are hostile: they only ever land in the max_rx buffer.
 */
#include "engine/deadline.h"
#include "engine/engine_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TX_CAP (16 * 1024)

static void conn_end(struct engine_job *j, enum probe_end why);
static void conn_after(struct engine_job *j, int r);
static void conn_retry(struct engine_job *j);
static void deadline_cb(uv_timer_t *timer);

void probe_run_free(struct probe_run *run)
{
	if (run == NULL)
		return;
	free(run->state);
	free(run->rx);
	free(run->tx.buf);
	free(run->dgram);
	free(run);
}

static bool conn_live(const struct engine_job *j, const struct engine_sock *s)
{
	return j->phase == JOB_PROBING && j->run && j->run->s == s;
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

/* The deadlines of the job's probe on its current connection, from that socket's TCP_INFO. */
static void conn_deadlines(struct engine_job *j, struct deadlines *out)
{
	struct deadline_budget b = {.idle_ms = j->probe->idle_ms,
	                            .total_ms = j->probe->total_ms,
	                            .target_timeout_ms = engine_target_timeout_ms(j->t)};
	struct deadline_tcp tcp;

	conn_tcp_info(j->run->s ? j->run->s->fd : -1, &tcp);
	deadline_rule(&tcp, &b, out);
}

static unsigned ms_since(uint64_t t0_ns)
{
	uint64_t d = (engine_now_ns() - t0_ns) / 1000000;

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

/*
 * Nothing arrived and the probe sent nothing on this connection: the server was to speak
 * first. Worth a new connection once if the path is slow or lossy and the budget holds it.
 */
static bool conn_retry_due(const struct engine_job *j, const struct deadlines *dl)
{
	const struct probe_run *run = j->run;
	/* A new connection takes a round trip when its SYN is not lost; the deadline bounds the
	 * rest. */
	unsigned need = dl->rto_ms + dl->idle_ms;

	if (run->retried || run->got_any || run->sent_any || !dl->slow)
		return false;
	return ms_since(run->start_ns) + need <= run->total_ms;
}

/*
 * The idle timer fired: ask the socket again. Retransmissions since the connection began (ours,
 * or a backed-off RTO) may call for a longer wait; otherwise the silence is real.
 */
static void idle_cb(uv_timer_t *timer)
{
	struct engine_job *j = timer->data;
	struct probe_run *run = j->run;
	struct deadlines dl;
	unsigned quiet;

	if (j->phase != JOB_PROBING)
		return;
	conn_deadlines(j, &dl);
	run_grow_total(j, dl.total_ms);
	quiet = ms_since(run->last_ns);
	if (dl.idle_ms > run->idle_ms)
		run->idle_ms = dl.idle_ms;
	if (quiet + 2 < run->idle_ms) {
		j->e->st.idle_extended++;
		uv_timer_start(&j->timer, idle_cb, run->idle_ms - quiet, 0);
		return;
	}
	if (conn_retry_due(j, &dl)) {
		conn_retry(j);
		return;
	}
	conn_end(j, PROBE_END_IDLE);
}

static void deadline_cb(uv_timer_t *timer)
{
	struct engine_job *j = timer->data;

	if (j->phase == JOB_PROBING || j->phase == JOB_RECONNECT)
		conn_end(j, PROBE_END_DEADLINE);
}

static void reconnect_timeout_cb(uv_timer_t *timer)
{
	struct engine_job *j = timer->data;

	if (j->phase == JOB_RECONNECT)
		probe_run_reconnect_event(j, NULL);
}

/* Send what is queued, as far as the socket takes it. Returns 0 or -errno. */
static int conn_flush(struct probe_run *run)
{
	while (run->tx_off < run->tx.len) {
		ssize_t n = send(run->s->fd, run->tx.buf + run->tx_off, run->tx.len - run->tx_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		run->tx_off += (size_t)n;
	}
	run->tx.len = 0;
	run->tx_off = 0;
	return 0;
}

/* Give the probe the whole tx capacity: move unsent bytes to the front. */
static void tx_compact(struct probe_run *run)
{
	if (run->tx_off == 0)
		return;
	memmove(run->tx.buf, run->tx.buf + run->tx_off, run->tx.len - run->tx_off);
	run->tx.len -= run->tx_off;
	run->tx_off = 0;
}

/* Flush, then watch for bytes (and for room to send, if some are left). */
static void conn_pump(struct engine_job *j)
{
	struct probe_run *run = j->run;
	unsigned ev = UV_READABLE | UV_DISCONNECT;

	if (run->tx.len > run->tx_off)
		run->sent_any = true;
	if (conn_flush(run) < 0) {
		conn_end(j, PROBE_END_RESET);
		return;
	}
	if (run->tx_off < run->tx.len)
		ev |= UV_WRITABLE;

	sock_watch(run->s, ev);
}

/* The connection s is established: connection number run->conn begins. */
static void conn_begin(struct engine_job *j, struct engine_sock *s)
{
	struct probe_run *run = j->run;
	struct deadlines dl;
	int r = PROBE_MORE;

	run->s = s;
	run->rx_len = 0;
	run->tx.len = 0;
	run->tx.next_port = 0;
	run->tx_off = 0;
	run->sent_any = false;
	run->got_any = false;
	run->retrying = false;
	run->last_ns = engine_now_ns();
	j->phase = JOB_PROBING;
	/* Each connection's idle deadline from its own handshake; the total only ever grows. */
	conn_deadlines(j, &dl);
	run->idle_ms = dl.idle_ms;
	run_grow_total(j, dl.total_ms);
	uv_timer_start(&j->timer, idle_cb, run->idle_ms, 0);
	if (j->probe->start)
		r = j->probe->start(run->state, run->conn, &run->tx, &run->res);
	conn_after(j, r);
}

void probe_run_start(struct engine_job *j, struct engine_sock *s)
{
	const struct probe_ops *p = j->probe;
	struct probe_run *run = calloc(1, sizeof(*run));
	struct deadlines dl;

	if (run == NULL)
		goto out_nomem;
	run->max_rx = p->max_rx ? p->max_rx : 1;
	run->state = calloc(1, p->state_size ? p->state_size : 1);
	run->rx = malloc(run->max_rx);
	run->tx.buf = malloc(TX_CAP);
	run->tx.cap = TX_CAP;
	if (run->state == NULL || run->rx == NULL || run->tx.buf == NULL)
		goto out_nomem;
	run->max_conns = p->max_conns ? p->max_conns : 1;
	run->start_ns = engine_now_ns();
	j->run = run;
	run->s = s;
	conn_deadlines(j, &dl);
	run->total_ms = dl.total_ms;
	uv_timer_start(&j->deadline, deadline_cb, dl.total_ms, 0);
	conn_begin(j, s);
	return;
out_nomem:
	/* The port is open all the same; no probe result. */
	probe_run_free(run);
	j->pr.sys_errno = ENOMEM;
	engine_job_finish(j);
}

/* Close the connection and open another for the same probe. */
static void conn_reopen(struct engine_job *j)
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
	conn_deadlines(j, &dl);
	uv_timer_stop(&j->timer);
	/* Hold dispatch: the slot of the old socket passes to the new one, not to another job. */
	e->hold++;
	if (run->s)
		sock_close(run->s);
	run->s = NULL;
	r = sock_open(j, 0, &s);
	e->hold--;
	if (r < 0) {
		engine_dispatch(e);
		conn_end(j, PROBE_END_CONNECT);
		return;
	}
	run->s = s;
	j->phase = JOB_RECONNECT;
	uv_timer_start(&j->timer, reconnect_timeout_cb, dl.connect_ms, 0);
	engine_dispatch(e);
}

/* The probe asked for its next connection (or end() did). */
static void conn_reconnect(struct engine_job *j)
{
	struct probe_run *run = j->run;

	if (run->ended_deadline || run->conn + 1 >= run->max_conns) {
		engine_job_finish(j);
		return;
	}
	run->conn++;
	run->port = run->tx.next_port; /* 0: the probed port again */
	conn_reopen(j);
}

/*
 * A server that was to speak first stayed silent on a slow or lossy path: the same conversation
 * once more on a new connection (start() again with the same conn), before the probe concludes.
 */
static void conn_retry(struct engine_job *j)
{
	j->run->retried = true;
	j->run->retrying = true;
	j->e->st.probe_retries++;
	conn_reopen(j);
}

/* s = NULL: the reconnect timer fired. */
void probe_run_reconnect_event(struct engine_job *j, struct engine_sock *s)
{
	struct probe_run *run = j->run;
	struct port_result pr = {0};

	if (run->s == NULL || (s && s != run->s))
		return;
	if (!sock_classify(run->s->fd, &pr)) {
		if (s == NULL)
			conn_end(j, PROBE_END_CONNECT);
		else
			sock_watch(s, s->events);
		return;
	}
	uv_timer_stop(&j->timer);
	if (pr.state == PORT_OPEN)
		conn_begin(j, run->s);
	else
		conn_end(j, PROBE_END_CONNECT);
}

/* The connection ended without DONE: let the probe conclude, or reconnect if it asks. */
static void conn_end(struct engine_job *j, enum probe_end why)
{
	struct probe_run *run = j->run;
	int r = PROBE_DONE;

	/* The retry's connection failed: what the probe saw was the first one's silence. */
	if (why == PROBE_END_CONNECT && run->retrying)
		why = PROBE_END_IDLE;
	if (j->probe->end)
		r = j->probe->end(run->state, why, &run->res);
	if (why == PROBE_END_DEADLINE)
		run->ended_deadline = true;
	if (r == PROBE_RECONNECT && !run->ended_deadline) {
		conn_reconnect(j);
		return;
	}
	engine_job_finish(j);
}

/* Act on what start() or feed() returned. */
static void conn_after(struct engine_job *j, int r)
{
	if (r == PROBE_MORE) {
		conn_pump(j);
		return;
	}
	if (r == PROBE_RECONNECT) {
		conn_reconnect(j);
		return;
	}
	/* DONE, or an error (the result keeps what was learnt): a polite last send, then close. */
	(void)conn_flush(j->run);
	engine_job_finish(j);
}

static void conn_feed(struct engine_job *j)
{
	struct probe_run *run = j->run;
	size_t consumed = 0;
	int r = PROBE_DONE;

	tx_compact(run);
	if (j->probe->feed)
		r = j->probe->feed(run->state, run->rx, run->rx_len, &consumed, &run->tx,
		                   &run->res);
	/* A probe bug must not make us read outside the buffer. */
	if (consumed > run->rx_len)
		consumed = run->rx_len;
	memmove(run->rx, run->rx + consumed, run->rx_len - consumed);
	run->rx_len -= consumed;
	if (r == PROBE_MORE && run->rx_len == run->max_rx) {
		conn_end(j, PROBE_END_TOOBIG);
		return;
	}
	conn_after(j, r);
}

static void conn_read(struct engine_job *j)
{
	struct probe_run *run = j->run;
	size_t room = run->max_rx - run->rx_len;
	ssize_t n;

	if (room == 0) {
		conn_end(j, PROBE_END_TOOBIG);
		return;
	}
	n = recv(run->s->fd, run->rx + run->rx_len, room, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_end(j, PROBE_END_RESET);
		return;
	}
	if (n == 0) {
		conn_end(j, PROBE_END_CLOSED);
		return;
	}
	run->rx_len += (size_t)n;
	run->got_any = true;
	run->last_ns = engine_now_ns();
	uv_timer_start(&j->timer, idle_cb, run->idle_ms, 0);
	conn_feed(j);
}

/* POLLERR on an established connection: a reset, or only an ICMP notice on the error queue. */
static void conn_error(struct engine_job *j, struct engine_sock *s)
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
	conn_end(j, PROBE_END_RESET);
}

void probe_run_io(struct engine_job *j, struct engine_sock *s, int status, int events)
{
	if (!conn_live(j, s))
		return;
	if (status < 0) {
		conn_error(j, s);
		return;
	}
	if (events & UV_WRITABLE) {
		conn_pump(j);
		if (!conn_live(j, s))
			return;
	}
	if (events & (UV_READABLE | UV_DISCONNECT))
		conn_read(j);
}
