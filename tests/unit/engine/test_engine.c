/* SPDX-License-Identifier: MIT */
/*
 * The engine on loopback with real sockets: port states, caps, the callback contract, and probe
 * conversations against small servers that run on the same libuv loop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "engine/engine.h"
#include "engine/neigh.h"
#include "engine/engine_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Test ports: >= 10000, below the ephemeral range (no self-connects). */
#define PORT_LO 20000
#define PORT_HI 32000

/* ---- small servers on the test's loop ---- */

enum srv_mode {
	SRV_HELLO,   /* reads "hello\n", answers "world\n" */
	SRV_SILENT,  /* accepts, never sends */
	SRV_TRICKLE, /* one byte every 100 ms */
	SRV_FLOOD,   /* 1 MiB at once */
	SRV_CLOSE,   /* closes at once */
	SRV_BANNER,  /* sends "x" at once, then waits */
};

struct srv {
	uv_tcp_t tcp;
	enum srv_mode mode;
	uint16_t port;
	unsigned accepted;
	unsigned open_now;
	unsigned open_peak;
};

struct srv_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	struct srv *srv;
	char in[16];
	size_t got;
	int handles;
};

static uint8_t flood_buf[1 << 20];
static char rdbuf[4096];

static void srv_conn_closed(uv_handle_t *h)
{
	struct srv_conn *c = h->data;

	if (--c->handles == 0)
		free(c);
}

static void srv_conn_close(struct srv_conn *c)
{
	if (uv_is_closing((uv_handle_t *)&c->tcp))
		return;
	c->srv->open_now--;
	uv_close((uv_handle_t *)&c->tcp, srv_conn_closed);
	uv_close((uv_handle_t *)&c->timer, srv_conn_closed);
}

static void srv_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	*b = uv_buf_init(rdbuf, sizeof(rdbuf));
}

static void srv_written(uv_write_t *w, int status)
{
	(void)w;
	(void)status;
}

static void srv_send(struct srv_conn *c, const void *data, size_t n)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)n);

	uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, srv_written);
}

static void srv_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct srv_conn *c = st->data;

	if (n < 0) {
		srv_conn_close(c);
		return;
	}
	if (c->srv->mode != SRV_HELLO)
		return;
	for (ssize_t i = 0; i < n && c->got < sizeof(c->in); i++)
		c->in[c->got++] = b->base[i];
	if (c->got == 6 && memcmp(c->in, "hello\n", 6) == 0)
		srv_send(c, "world\n", 6);
}

static void srv_tick(uv_timer_t *t)
{
	struct srv_conn *c = t->data;

	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0)
		srv_send(c, "z", 1);
}

static void srv_accept(uv_stream_t *ls, int status)
{
	struct srv *s = ls->data;
	struct srv_conn *c = calloc(1, sizeof(*c));

	assert_int_equal(status, 0);
	assert_non_null(c);
	c->srv = s;
	c->handles = 2;
	uv_tcp_init(ls->loop, &c->tcp);
	uv_timer_init(ls->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	assert_int_equal(uv_accept(ls, (uv_stream_t *)&c->tcp), 0);
	s->accepted++;
	if (++s->open_now > s->open_peak)
		s->open_peak = s->open_now;
	uv_read_start((uv_stream_t *)&c->tcp, srv_alloc, srv_read);
	if (s->mode == SRV_CLOSE)
		srv_conn_close(c);
	else if (s->mode == SRV_FLOOD)
		srv_send(c, flood_buf, sizeof(flood_buf));
	else if (s->mode == SRV_BANNER)
		srv_send(c, "x", 1);
	else if (s->mode == SRV_TRICKLE)
		uv_timer_start(&c->timer, srv_tick, 0, 100);
}

/* A listener on a free port of [PORT_LO, PORT_HI) on 127.0.0.1 (or ::1). */
static void srv_start(uv_loop_t *loop, struct srv *s, enum srv_mode mode, bool v6)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	for (int i = 0; i < 200; i++) {
		struct sockaddr_storage ss;
		uint16_t port = (uint16_t)(PORT_LO + rand() % (PORT_HI - PORT_LO));
		const char *ip = v6 ? "::1" : "127.0.0.1";

		if (v6)
			uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss);
		else
			uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss);
		uv_tcp_init(loop, &s->tcp);
		s->tcp.data = s;
		if (uv_tcp_bind(&s->tcp, (struct sockaddr *)&ss, 0) == 0 &&
		    uv_listen((uv_stream_t *)&s->tcp, 128, srv_accept) == 0) {
			s->port = port;
			return;
		}
		uv_close((uv_handle_t *)&s->tcp, NULL);
		uv_run(loop, UV_RUN_NOWAIT);
	}
	fail_msg("no free port");
}

static void srv_stop(struct srv *s)
{
	if (s->port && !uv_is_closing((uv_handle_t *)&s->tcp))
		uv_close((uv_handle_t *)&s->tcp, NULL);
}

/* A port nothing listens on right now. */
static uint16_t closed_port(void)
{
	for (int i = 0; i < 200; i++) {
		uint16_t port = (uint16_t)(PORT_LO + rand() % (PORT_HI - PORT_LO));
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htobe16(port)};
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int r;

		uv_inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
		r = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
		if (r == 0)
			return port;
	}
	fail_msg("no free port");
	return 0;
}

/* ---- result collection ---- */

struct done {
	int calls;
	struct port_result pr;
	bool had_res;
	struct probe_result res; /* copy, details dropped */
	double at_ms;            /* since the test's t0 */
	struct srv *stop_when_done[2];
	struct engine *e;
};

static uint64_t t0_ns;

static double since_ms(void)
{
	return (double)(uv_hrtime() - t0_ns) / 1e6;
}

static void on_done(void *ud, const struct port_result *pr, struct probe_result *res)
{
	struct done *d = ud;

	d->calls++;
	d->pr = *pr;
	d->had_res = res != NULL;
	if (res) {
		d->res = *res;
		d->res.details = NULL;
	}
	d->at_ms = since_ms();
	if (d->e && engine_pending(d->e) == 0)
		for (int i = 0; i < 2; i++)
			if (d->stop_when_done[i])
				srv_stop(d->stop_when_done[i]);
}

static struct addr A(const char *text) {
	struct addr a;

	assert_int_equal(addr_parse(text, &a), 0);
	return a;
}

struct fixture {
	uv_loop_t loop;
	struct engine *e;
	struct engine_target *t;
};

static void fx_init(struct fixture *fx, const struct engine_opts *o, const char *ip)
{
	struct addr a = A(ip);

	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->e = engine_new(&fx->loop, o);
	assert_non_null(fx->e);
	fx->t = engine_target_new(fx->e, &a);
	assert_non_null(fx->t);
	t0_ns = uv_hrtime();
}

static void fx_run_and_free(struct fixture *fx)
{
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(engine_pending(fx->e), 0);
	engine_free(fx->e);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
}

/* ---- port states ---- */

static void open_port(void **unused)
{
	struct fixture fx;
	struct srv s;
	struct done d = {0};

	(void)unused;
	fx_init(&fx, NULL, "127.0.0.1");
	srv_start(&fx.loop, &s, SRV_SILENT, false);
	d.e = fx.e;
	d.stop_when_done[0] = &s;
	assert_int_equal(engine_submit(fx.e, fx.t, s.port, NULL, on_done, &d), 0);
	/* Never from inside engine_submit(). */
	assert_int_equal(d.calls, 0);
	assert_int_equal(engine_pending(fx.e), 1);
	fx_run_and_free(&fx);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_int_equal(d.pr.reason, REASON_SYN_ACK);
	assert_true(d.pr.rtt_ms >= 0 && d.pr.rtt_ms < 100);
	assert_int_equal(d.pr.tries, 1);
	assert_int_equal(d.pr.icmp_type, -1);
	assert_false(d.had_res);
	assert_int_equal(s.accepted, 1);
}

static void open_port_v6(void **unused)
{
	struct fixture fx;
	struct srv s;
	struct done d = {0};

	(void)unused;
	fx_init(&fx, NULL, "::1");
	srv_start(&fx.loop, &s, SRV_SILENT, true);
	d.e = fx.e;
	d.stop_when_done[0] = &s;
	assert_int_equal(engine_submit(fx.e, fx.t, s.port, NULL, on_done, &d), 0);
	fx_run_and_free(&fx);
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_int_equal(d.pr.reason, REASON_SYN_ACK);
}

static void closed_port_reset(void **unused)
{
	struct fixture fx;
	struct done d = {0};

	(void)unused;
	fx_init(&fx, NULL, "127.0.0.1");
	assert_int_equal(engine_submit(fx.e, fx.t, closed_port(), NULL, on_done, &d), 0);
	assert_int_equal(d.calls, 0);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	/* A fast answer shrinks the target's timeout to the floor (100 ms). */
	assert_int_equal(engine_target_timeout_ms(fx.t), 100);
	fx_run_and_free(&fx);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.pr.state, PORT_CLOSED);
	assert_int_equal(d.pr.reason, REASON_RESET);
	assert_int_equal(d.pr.sys_errno, ECONNREFUSED);
	assert_int_equal(d.pr.icmp_type, -1);
	assert_true(d.pr.rtt_ms >= 0);
}

static void bad_submit(void **unused)
{
	struct fixture fx;
	struct done d = {0};

	(void)unused;
	fx_init(&fx, NULL, "127.0.0.1");
	assert_true(engine_submit(fx.e, fx.t, 0, NULL, on_done, &d) < 0);
	assert_true(engine_submit(fx.e, fx.t, 10000, NULL, NULL, &d) < 0);
	assert_int_equal(engine_pending(fx.e), 0);
	fx_run_and_free(&fx);
	assert_int_equal(d.calls, 0);
}

/*
 * A listener whose accept queue is full drops further SYNs (tcp_abort_on_overflow = 0): no
 * answer on loopback without a firewall. With a fixed 200 ms timeout and nothing known, the
 * verdict comes after the retransmission at 100 ms plus 0.7 x 200 ms.
 */
static void timeout_filtered(void **unused)
{
	struct fixture fx;
	struct done d = {0};
	struct engine_opts o;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fill[4];
	socklen_t len = sizeof(sin);

	(void)unused;
	engine_opts_default(&o);
	o.fixed_timeout_ms = 200;
	uv_inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (int i = 0; i < 200; i++) {
		sin.sin_port = htobe16((uint16_t)(PORT_LO + rand() % (PORT_HI - PORT_LO)));
		if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			break;
	}
	assert_int_equal(listen(lfd, 0), 0);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	/* Backlog 0 holds one connection; fill it (and a spare) with blocking-free connects. */
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		(void)connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(50000);
	fx_init(&fx, &o, "127.0.0.1");
	assert_int_equal(engine_submit(fx.e, fx.t, be16toh(sin.sin_port), NULL, on_done, &d), 0);
	fx_run_and_free(&fx);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.pr.state, PORT_FILTERED);
	assert_int_equal(d.pr.reason, REASON_TIMEOUT);
	assert_int_equal(d.pr.tries, 2);
	assert_true(d.pr.rtt_ms < 0);
	assert_in_range((unsigned)d.at_ms, 230, 400);
}

/* ---- caps ---- */

/* A probe that waits silently: each connection is held until its idle timeout (100 ms). */
static int hold_start(void *st, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)st, (void)conn, (void)tx, (void)out;
	return PROBE_MORE;
}

static int hold_feed(void *st, const uint8_t *buf, size_t len, size_t *consumed,
                     struct probe_tx *tx, struct probe_result *out)
{
	(void)st, (void)buf, (void)tx, (void)out;
	*consumed = len;
	return PROBE_MORE;
}

static const struct probe_ops hold_probe = {
    .name = "hold",
    .state_size = 1,
    .max_rx = 64,
    .idle_ms = 100,
    .total_ms = 5000,
    .max_conns = 1,
    .start = hold_start,
    .feed = hold_feed,
};

static void per_target_cap(void **unused)
{
	struct fixture fx;
	struct srv s;
	struct done d[10] = {0};
	struct engine_opts o;
	struct engine_stats st;

	(void)unused;
	engine_opts_default(&o);
	o.per_target = 2;
	fx_init(&fx, &o, "127.0.0.1");
	srv_start(&fx.loop, &s, SRV_SILENT, false);
	for (int i = 0; i < 10; i++) {
		d[i].e = fx.e;
		d[i].stop_when_done[0] = &s;
		assert_int_equal(engine_submit(fx.e, fx.t, s.port, &hold_probe, on_done, &d[i]), 0);
	}
	assert_int_equal(engine_pending(fx.e), 10);
	engine_get_stats(fx.e, &st);
	assert_int_equal(st.inflight, 2);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	engine_get_stats(fx.e, &st);
	assert_int_equal(st.target_peak, 2);
	assert_int_equal(st.inflight, 0);
	fx_run_and_free(&fx);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].pr.state, PORT_OPEN);
	}
	assert_int_equal(s.accepted, 10);
	/* 5 rounds of 100 ms idle, FIFO: the last job ends near 500 ms. */
	assert_true(d[9].at_ms >= 450);
}

static void global_cap(void **unused)
{
	struct fixture fx;
	struct srv s4, s6;
	struct done d[12] = {0};
	struct engine_opts o;
	struct engine_stats st;
	struct addr a6 = A("::1");
	struct engine_target *t6;

	(void)unused;
	engine_opts_default(&o);
	o.max_inflight = 3;
	fx_init(&fx, &o, "127.0.0.1");
	t6 = engine_target_new(fx.e, &a6);
	srv_start(&fx.loop, &s4, SRV_SILENT, false);
	srv_start(&fx.loop, &s6, SRV_SILENT, true);
	for (int i = 0; i < 12; i++) {
		bool v6 = i % 2;

		d[i].e = fx.e;
		d[i].stop_when_done[0] = &s4;
		d[i].stop_when_done[1] = &s6;
		assert_int_equal(engine_submit(fx.e, v6 ? t6 : fx.t, v6 ? s6.port : s4.port,
		                               &hold_probe, on_done, &d[i]),
		                 0);
	}
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	engine_get_stats(fx.e, &st);
	assert_int_equal(st.inflight_peak, 3);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(s4.accepted + s6.accepted, 12);
	for (int i = 0; i < 12; i++)
		assert_int_equal(d[i].calls, 1);
	fx_run_and_free(&fx);
}

/* ---- probe conversations ---- */

struct tstate {
	int fed;
	unsigned conns_seen[4];
	unsigned nconns;
	int ends[PROBE_END_X_MAX];
};

/* Observed from outside: the state block dies with the job. */
static struct tstate last;

static int hello_start(void *st, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)st, (void)conn, (void)out;
	return probe_tx_put(tx, "hello\n", 6);
}

static int hello_feed(void *st, const uint8_t *buf, size_t len, size_t *consumed,
                      struct probe_tx *tx, struct probe_result *out)
{
	(void)st, (void)tx;
	if (len < 6)
		return PROBE_MORE;
	*consumed = 6;
	if (memcmp(buf, "world\n", 6) != 0)
		return -ERR_PROTO;
	out->state = SERVICE_IDENTIFIED;
	memcpy(out->service, "test", 5);
	probe_add_finding(out, "test-seen", SEVERITY_INFO, CONFIDENCE_CONFIRMED, NULL);
	probe_detail_set(out, "greeting", json_string("world"));
	return PROBE_DONE;
}

static const struct probe_ops hello_probe = {
    .name = "hello",
    .state_size = sizeof(struct tstate),
    .max_rx = 64,
    .idle_ms = 2000,
    .total_ms = 5000,
    .max_conns = 1,
    .start = hello_start,
    .feed = hello_feed,
};

/* Runs one probe job against a server of the given mode; returns the done record. */
static struct done run_probe(const struct probe_ops *p, enum srv_mode mode, struct srv *s)
{
	struct fixture fx;
	struct done d = {0};

	memset(&last, 0, sizeof(last));
	fx_init(&fx, NULL, "127.0.0.1");
	srv_start(&fx.loop, s, mode, false);
	d.e = fx.e;
	d.stop_when_done[0] = s;
	assert_int_equal(engine_submit(fx.e, fx.t, s->port, p, on_done, &d), 0);
	fx_run_and_free(&fx);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_true(d.had_res);
	return d;
}

static void probe_hello(void **unused)
{
	struct srv s;
	struct done d = run_probe(&hello_probe, SRV_HELLO, &s);

	(void)unused;
	assert_int_equal(d.res.state, SERVICE_IDENTIFIED);
	assert_string_equal(d.res.service, "test");
	assert_int_equal(d.res.n_findings, 1);
	assert_string_equal(d.res.findings[0].id, "test-seen");
	assert_int_equal(s.accepted, 1);
	assert_true(d.at_ms < 1000);
}

static void closed_port_with_probe_has_no_result(void **unused)
{
	struct fixture fx;
	struct done d = {0};

	(void)unused;
	fx_init(&fx, NULL, "127.0.0.1");
	assert_int_equal(engine_submit(fx.e, fx.t, closed_port(), &hello_probe, on_done, &d), 0);
	fx_run_and_free(&fx);
	assert_int_equal(d.pr.state, PORT_CLOSED);
	assert_false(d.had_res);
}

/* Reconnect: conn 0 reads the banner and asks for a new connection; conn 1 is DONE. */
static int rc_start(void *st, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct tstate *s = st;

	(void)tx, (void)out;
	s->conns_seen[s->nconns++] = conn;
	last = *s;
	return PROBE_MORE;
}

static int rc_feed(void *st, const uint8_t *buf, size_t len, size_t *consumed, struct probe_tx *tx,
                   struct probe_result *out)
{
	struct tstate *s = st;

	(void)buf, (void)tx;
	*consumed = len;
	s->fed++;
	last = *s;
	if (s->nconns == 1)
		return PROBE_RECONNECT;
	out->state = SERVICE_IDENTIFIED;
	return PROBE_DONE;
}

static const struct probe_ops rc_probe = {
    .name = "rc",
    .state_size = sizeof(struct tstate),
    .max_rx = 64,
    .idle_ms = 2000,
    .total_ms = 5000,
    .max_conns = 2,
    .start = rc_start,
    .feed = rc_feed,
};

static void probe_reconnect(void **unused)
{
	struct srv s;
	struct done d = run_probe(&rc_probe, SRV_BANNER, &s);

	(void)unused;
	assert_int_equal(last.nconns, 2);
	assert_int_equal(last.conns_seen[0], 0);
	assert_int_equal(last.conns_seen[1], 1);
	assert_int_equal(last.fed, 2);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(d.res.state, SERVICE_IDENTIFIED);
}

/* A probe that records how it ended, and asks to reconnect every time (must be bounded). */
static int rec_feed(void *st, const uint8_t *buf, size_t len, size_t *consumed, struct probe_tx *tx,
                    struct probe_result *out)
{
	struct tstate *s = st;

	(void)buf, (void)tx, (void)out, (void)consumed;
	/* Consumes nothing: bytes accumulate up to max_rx. fed = the most ever offered. */
	if ((int)len > s->fed)
		s->fed = (int)len;
	last = *s;
	*consumed = 0;
	return PROBE_MORE;
}

static int rec_end(void *st, enum probe_end why, struct probe_result *out)
{
	struct tstate *s = st;

	s->ends[why]++;
	last = *s;
	out->state = why == PROBE_END_CLOSED ? SERVICE_TCPWRAPPED : SERVICE_SILENT;
	return PROBE_RECONNECT;
}

static void probe_idle(void **unused)
{
	struct probe_ops p = {
	    .name = "idle",
	    .state_size = sizeof(struct tstate),
	    .max_rx = 64,
	    .idle_ms = 200,
	    .total_ms = 5000,
	    .max_conns = 1,
	    .start = rc_start,
	    .feed = rec_feed,
	    .end = rec_end,
	};
	struct srv s;
	struct done d = run_probe(&p, SRV_SILENT, &s);

	(void)unused;
	assert_int_equal(last.ends[PROBE_END_IDLE], 1);
	assert_int_equal(last.nconns, 1); /* max_conns 1: RECONNECT ignored */
	assert_int_equal(d.res.state, SERVICE_SILENT);
	assert_in_range((unsigned)d.at_ms, 190, 600);
}

static void probe_total_deadline(void **unused)
{
	struct probe_ops p = {
	    .name = "trickle",
	    .state_size = sizeof(struct tstate),
	    .max_rx = 4096,
	    .idle_ms = 1000,
	    .total_ms = 500,
	    .max_conns = 3,
	    .start = rc_start,
	    .feed = rec_feed,
	    .end = rec_end,
	};
	struct srv s;
	struct done d = run_probe(&p, SRV_TRICKLE, &s);

	(void)unused;
	assert_int_equal(last.ends[PROBE_END_DEADLINE], 1);
	assert_int_equal(last.ends[PROBE_END_IDLE], 0);
	/* end(DEADLINE) asked to reconnect: ignored, the probe had to finish. */
	assert_int_equal(last.nconns, 1);
	assert_int_equal(s.accepted, 1);
	assert_in_range(last.fed, 3, 7);
	assert_in_range((unsigned)d.at_ms, 480, 900);
}

static void probe_toobig(void **unused)
{
	struct probe_ops p = {
	    .name = "big",
	    .state_size = sizeof(struct tstate),
	    .max_rx = 4096,
	    .idle_ms = 2000,
	    .total_ms = 5000,
	    .max_conns = 1,
	    .start = rc_start,
	    .feed = rec_feed,
	    .end = rec_end,
	};
	struct srv s;

	(void)unused;
	run_probe(&p, SRV_FLOOD, &s);
	assert_int_equal(last.ends[PROBE_END_TOOBIG], 1);
	/* Never more than max_rx offered; the 1 MiB was never buffered. */
	assert_int_equal(last.fed, 4096);
}

static void probe_peer_closes(void **unused)
{
	struct probe_ops p = {
	    .name = "wrapped",
	    .state_size = sizeof(struct tstate),
	    .max_rx = 64,
	    .idle_ms = 2000,
	    .total_ms = 5000,
	    .max_conns = 2,
	    .start = rc_start,
	    .feed = rec_feed,
	    .end = rec_end,
	};
	struct srv s;
	struct done d = run_probe(&p, SRV_CLOSE, &s);

	(void)unused;
	/* Closed at once, twice: end(CLOSED) asked to reconnect once, then max_conns is spent. */
	assert_int_equal(last.nconns, 2);
	assert_int_equal(last.ends[PROBE_END_CLOSED], 2);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(d.res.state, SERVICE_TCPWRAPPED);
	assert_true(d.at_ms < 1000);
}

static void names(void **unused)
{
	(void)unused;
	assert_string_equal(port_state_name(PORT_FILTERED), "filtered");
	assert_string_equal(port_reason_name(REASON_UNREACHABLE), "unreachable");
	assert_string_equal(port_reason_name(REASON_X_MAX), "unknown");
}

/*
 * Leave room for exactly `room` more descriptors: the soft limit becomes the lowest free
 * descriptor plus room. Returns the limits to restore.
 */
static struct rlimit nofile_room(unsigned room)
{
	struct rlimit saved, low;
	int lowest;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	lowest = dup(0);
	assert_true(lowest >= 0);
	close(lowest);
	low = saved;
	low.rlim_cur = (rlim_t)lowest + room;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	return saved;
}

/*
 * Out of file descriptors on our side: the port's state is "error" (local-error, EMFILE), never
 * a verdict about the target. The soft limit is set to the lowest free descriptor, so the
 * engine's socket() is the first call to fail; a listener is up, so a verdict "open" would be
 * the right one if the engine could test.
 */
static void local_emfile_is_error(void **unused)
{
	struct fixture fx;
	struct srv s;
	struct done d = {0};
	struct rlimit saved;

	(void)unused;
	fx_init(&fx, NULL, "127.0.0.1");
	srv_start(&fx.loop, &s, SRV_SILENT, false);
	d.e = fx.e;
	d.stop_when_done[0] = &s;
	saved = nofile_room(0);
	assert_int_equal(engine_submit(fx.e, fx.t, s.port, NULL, on_done, &d), 0);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	fx_run_and_free(&fx);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.pr.state, PORT_ERROR);
	assert_int_equal(d.pr.reason, REASON_LOCAL_ERROR);
	assert_int_equal(d.pr.sys_errno, EMFILE);
	assert_int_equal(s.accepted, 0);
}

/*
 * Room for three sockets only, twenty closed ports to test: the jobs that find no descriptor wait
 * for one to close instead of ending in "error", and every port gets its real verdict.
 */
static void few_descriptors_wait(void **unused)
{
	enum { N = 20, ROOM = 3 };
	struct fixture fx;
	struct done d[N];
	uint16_t ports[N];
	struct rlimit saved;
	struct engine_stats st;

	(void)unused;
	memset(d, 0, sizeof(d));
	fx_init(&fx, NULL, "127.0.0.1");
	for (int i = 0; i < N; i++) {
		d[i].pr.state = PORT_X_MAX;
		ports[i] = closed_port(); /* needs a descriptor: before the limit drops */
	}
	saved = nofile_room(ROOM);
	for (int i = 0; i < N; i++)
		assert_int_equal(engine_submit(fx.e, fx.t, ports[i], NULL, on_done, &d[i]), 0);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	engine_get_stats(fx.e, &st);
	fx_run_and_free(&fx);
	for (int i = 0; i < N; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].pr.state, PORT_CLOSED);
		assert_int_equal(d[i].pr.reason, REASON_RESET);
	}
	assert_true(st.inflight_peak <= ROOM);
}

/* neigh.c: loopback has no link layer, so there is no neighbour to wait for; bad input refused. */
static void neigh_loopback_unknown(void **unused)
{
	struct addr a;
	struct neigh_info n = {.state = NEIGH_FAILED, .age_ms = 7};

	(void)unused;
	assert_int_equal(addr_parse("127.0.0.1", &a), 0);
	assert_int_equal(neigh_lookup(&a, &n), 0);
	assert_int_equal(n.state, NEIGH_UNKNOWN);
	assert_int_equal(addr_parse("::1", &a), 0);
	n.state = NEIGH_FAILED;
	assert_int_equal(neigh_lookup(&a, &n), 0);
	assert_int_equal(n.state, NEIGH_UNKNOWN);
	a.family = AF_UNIX;
	assert_int_equal(neigh_lookup(&a, &n), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(open_port),
	    cmocka_unit_test(open_port_v6),
	    cmocka_unit_test(closed_port_reset),
	    cmocka_unit_test(bad_submit),
	    cmocka_unit_test(timeout_filtered),
	    cmocka_unit_test(per_target_cap),
	    cmocka_unit_test(global_cap),
	    cmocka_unit_test(probe_hello),
	    cmocka_unit_test(closed_port_with_probe_has_no_result),
	    cmocka_unit_test(probe_reconnect),
	    cmocka_unit_test(probe_idle),
	    cmocka_unit_test(probe_total_deadline),
	    cmocka_unit_test(probe_toobig),
	    cmocka_unit_test(probe_peer_closes),
	    cmocka_unit_test(names),
	    cmocka_unit_test(local_emfile_is_error),
	    cmocka_unit_test(few_descriptors_wait),
	    cmocka_unit_test(neigh_loopback_unknown),
	};

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
