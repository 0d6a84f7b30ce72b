/* SPDX-License-Identifier: MIT */
/*
 * The probe conversation on an open port: the engine reads (never past max_rx), writes what the
 * probe queued, enforces the idle and total deadlines, reconnects on request, and closes. The
 * peer's bytes are hostile: they only ever land in the max_rx buffer.
 */
#include "engine/engine_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TX_CAP           (16 * 1024)
#define DEFAULT_IDLE_MS  5000
#define DEFAULT_TOTAL_MS 10000
#define RECONNECT_MIN_MS 1000 /* a reconnect waits at least this long, even on a fast path */
/*
 * The kernel's first SYN retransmission comes 1 s after connect() (TCP_TIMEOUT_INIT). A
 * reconnect waits for it and its answer, so one lost SYN or SYN-ACK does not end the probe's
 * conversation: on the lab's lossy host (300 ms, 10%) the RDP NLA test stayed "unknown" in 2 of
 * 10 checks because its third connection gave up at 1 s.
 */
#define KERNEL_SYN_RTO_MS 1000

static void conn_end(struct engine_job *j, enum probe_end why);
static void conn_after(struct engine_job *j, int r);

void probe_run_free(struct probe_run *run)
{
	if (run == NULL)
		return;
	free(run->state);
	free(run->rx);
	free(run->tx.buf);
	free(run);
}

static bool conn_live(const struct engine_job *j, const struct engine_sock *s)
{
	return j->phase == JOB_PROBING && j->run && j->run->s == s;
}

static void idle_cb(uv_timer_t *timer)
{
	struct engine_job *j = timer->data;

	if (j->phase == JOB_PROBING)
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
	int r = PROBE_MORE;

	run->s = s;
	run->rx_len = 0;
	run->tx.len = 0;
	run->tx_off = 0;
	j->phase = JOB_PROBING;
	uv_timer_start(&j->timer, idle_cb, run->idle_ms, 0);
	if (j->probe->start)
		r = j->probe->start(run->state, run->conn, &run->tx, &run->res);
	conn_after(j, r);
}

/*
 * A probe's idle timeout: its own, or longer on a slow path. A lost segment costs the sender a
 * retransmission timeout, about the target's timeout here, and it doubles per loss; four of them
 * cover two losses in a row and the trip back, so a slow lossy link reads as slow, not as
 * "nothing answered". Never more than half the probe's total deadline.
 */
static unsigned probe_idle_ms(const struct probe_ops *p, unsigned target_timeout_ms)
{
	unsigned own = p->idle_ms ? p->idle_ms : DEFAULT_IDLE_MS;
	unsigned half_total = (p->total_ms ? p->total_ms : DEFAULT_TOTAL_MS) / 2;
	unsigned path = 4 * target_timeout_ms;

	if (path > half_total)
		path = half_total;
	return path > own ? path : own;
}

void probe_run_start(struct engine_job *j, struct engine_sock *s)
{
	const struct probe_ops *p = j->probe;
	struct probe_run *run = calloc(1, sizeof(*run));

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
	run->idle_ms = probe_idle_ms(p, engine_target_timeout_ms(j->t));
	j->run = run;
	uv_timer_start(&j->deadline, deadline_cb, p->total_ms ? p->total_ms : DEFAULT_TOTAL_MS, 0);
	conn_begin(j, s);
	return;
out_nomem:
	/* The port is open all the same; no probe result. */
	probe_run_free(run);
	j->pr.sys_errno = ENOMEM;
	engine_job_finish(j);
}

/* How long a probe's next connection may take: one kernel SYN retransmission and its answer. */
static unsigned reconnect_wait_ms(unsigned timeout_ms)
{
	unsigned wait = KERNEL_SYN_RTO_MS + timeout_ms;

	return wait > RECONNECT_MIN_MS ? wait : RECONNECT_MIN_MS;
}

/* Close the connection and open the next one (the probe asked, or end() did). */
static void conn_reconnect(struct engine_job *j)
{
	struct probe_run *run = j->run;
	struct engine *e = j->e;
	struct engine_sock *s;
	unsigned to = engine_target_timeout_ms(j->t);
	int r;

	if (run->ended_deadline || run->conn + 1 >= run->max_conns) {
		engine_job_finish(j);
		return;
	}
	run->conn++;
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
	uv_timer_start(&j->timer, reconnect_timeout_cb, reconnect_wait_ms(to), 0);
	engine_dispatch(e);
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
