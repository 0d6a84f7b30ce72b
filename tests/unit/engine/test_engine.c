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
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
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
struct full_listener {
	int lfd;
	int fill[4];
	uint16_t port;
};

static void full_listener_open(struct full_listener *fl)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);

	fl->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uv_inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (int i = 0; i < 200; i++) {
		sin.sin_port = htobe16((uint16_t)(PORT_LO + rand() % (PORT_HI - PORT_LO)));
		if (bind(fl->lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			break;
	}
	assert_int_equal(listen(fl->lfd, 0), 0);
	getsockname(fl->lfd, (struct sockaddr *)&sin, &len);
	fl->port = be16toh(sin.sin_port);
	/* Backlog 0 holds one connection; fill it (and a spare) with blocking-free connects. */
	for (int i = 0; i < 4; i++) {
		fl->fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		(void)connect(fl->fill[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(50000);
}

static void full_listener_close(struct full_listener *fl)
{
	for (int i = 0; i < 4; i++)
		close(fl->fill[i]);
	close(fl->lfd);
}

static void timeout_filtered(void **unused)
{
	struct fixture fx;
	struct done d = {0};
	struct engine_opts o;
	struct full_listener fl;

	(void)unused;
	engine_opts_default(&o);
	o.fixed_timeout_ms = 200;
	full_listener_open(&fl);
	fx_init(&fx, &o, "127.0.0.1");
	assert_int_equal(engine_submit(fx.e, fx.t, fl.port, NULL, on_done, &d), 0);
	fx_run_and_free(&fx);
	full_listener_close(&fl);
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

/*
 * Conversations side by side (probe_ops.conv): four connections wanted at once, each silent until
 * its idle deadline (4 x the loopback timeout floor: 400 ms), each ended alone with CLOSE; the
 * probe is over when nothing is open and nothing more is wanted.
 */
static int cv_next(void *st)
{
	struct tstate *s = st;

	if (s->nconns >= 4)
		return -1;
	s->conns_seen[s->nconns] = 3 - s->nconns; /* any order of numbers */
	last = *s;
	return (int)s->conns_seen[s->nconns++];
}

static int cv_start(void *st, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)st, (void)conn, (void)tx, (void)out;
	return PROBE_MORE;
}

static int cv_feed(void *st, unsigned conn, const uint8_t *buf, size_t len, size_t *consumed,
                   struct probe_tx *tx, struct probe_result *out)
{
	(void)st, (void)conn, (void)buf, (void)tx, (void)out;
	*consumed = len;
	return PROBE_MORE;
}

static int cv_end(void *st, unsigned conn, enum probe_end why, struct probe_result *out)
{
	struct tstate *s = st;

	(void)conn;
	s->ends[why]++;
	s->fed++;
	out->state = SERVICE_SILENT;
	last = *s;
	return PROBE_CLOSE;
}

static const struct probe_conv_ops cv_ops = {
    .max_parallel = 4,
    .next = cv_next,
    .start = cv_start,
    .feed = cv_feed,
    .end = cv_end,
};

static const struct probe_ops cv_probe = {
    .name = "cv",
    .state_size = sizeof(struct tstate),
    .max_rx = 64,
    .idle_ms = 100,
    .total_ms = 5000,
    .max_conns = 4,
    .conv = &cv_ops,
};

/* The conversations of one probe, with per_target sockets for its target: their deadlines. */
static struct done run_side_by_side(const struct probe_ops *p, unsigned per_target,
                                    struct engine_stats *st, struct srv *s)
{
	struct fixture fx;
	struct done d = {0};
	struct engine_opts o;

	memset(&last, 0, sizeof(last));
	engine_opts_default(&o);
	o.per_target = per_target;
	fx_init(&fx, &o, "127.0.0.1");
	srv_start(&fx.loop, s, SRV_SILENT, false);
	d.e = fx.e;
	d.stop_when_done[0] = s;
	assert_int_equal(engine_submit(fx.e, fx.t, s->port, p, on_done, &d), 0);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	engine_get_stats(fx.e, st);
	fx_run_and_free(&fx);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_true(d.had_res);
	assert_int_equal(d.res.state, SERVICE_SILENT);
	return d;
}

static void probe_side_by_side(void **unused)
{
	struct engine_stats st;
	struct srv s;
	struct done d = run_side_by_side(&cv_probe, 64, &st, &s);

	(void)unused;
	assert_int_equal(last.nconns, 4);
	assert_int_equal(last.ends[PROBE_END_IDLE], 4);
	assert_int_equal(s.accepted, 4);
	assert_int_equal(st.conv_peak, 4);
	/* Four idle waits of 400 ms at once, not one after another (1.6 s). */
	assert_true(d.at_ms < 1200);
}

/* Under a per-target cap of 2 the same four conversations take two rounds, never more sockets. */
static void probe_side_by_side_capped(void **unused)
{
	struct engine_stats st;
	struct srv s;
	struct done d = run_side_by_side(&cv_probe, 2, &st, &s);

	(void)unused;
	assert_int_equal(last.nconns, 4);
	assert_int_equal(last.ends[PROBE_END_IDLE], 4);
	assert_int_equal(s.accepted, 4);
	assert_int_equal(st.conv_peak, 2);
	assert_int_equal(st.target_peak, 2);
	assert_true(d.at_ms >= 780);
}

/* At the total deadline every open conversation hears end(DEADLINE), then the probe is over. */
static const struct probe_ops cv_deadline_probe = {
    .name = "cvd",
    .state_size = sizeof(struct tstate),
    .max_rx = 64,
    .idle_ms = 5000,
    .total_ms = 300,
    .max_conns = 4,
    .conv = &cv_ops,
};

static void probe_side_by_side_deadline(void **unused)
{
	struct engine_stats st;
	struct srv s;
	struct done d = run_side_by_side(&cv_deadline_probe, 64, &st, &s);

	(void)unused;
	assert_int_equal(last.ends[PROBE_END_DEADLINE], 4);
	assert_int_equal(last.fed, 4);
	assert_true(d.at_ms >= 290 && d.at_ms < 2000);
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

/*
 * The same silent server on a slow path (the target's timeout 600 ms, so R = 0.6 s,
 * engine/deadline.h): the idle wait is 4R = 2.4 s, the total 8.4 s, and the server that was to
 * speak first is given a second connection (start() again with conn 0) before the probe ends
 * idle, at ~4.8 s. On a fast path (probe_idle) there is one connection only.
 */
static void probe_silent_slow_path_retried(void **unused)
{
	struct probe_ops p = {
	    .name = "idle-slow",
	    .state_size = sizeof(struct tstate),
	    .max_rx = 64,
	    .idle_ms = 200,
	    .total_ms = 5000,
	    .max_conns = 1,
	    .start = rc_start,
	    .feed = rec_feed,
	    .end = rec_end,
	};
	struct fixture fx;
	struct srv s;
	struct done d = {0};

	(void)unused;
	memset(&last, 0, sizeof(last));
	fx_init(&fx, NULL, "127.0.0.1");
	engine_target_set_timeout(fx.t, 600);
	srv_start(&fx.loop, &s, SRV_SILENT, false);
	d.e = fx.e;
	d.stop_when_done[0] = &s;
	assert_int_equal(engine_submit(fx.e, fx.t, s.port, &p, on_done, &d), 0);
	fx_run_and_free(&fx);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_int_equal(last.nconns, 2);
	assert_int_equal(last.conns_seen[0], 0);
	assert_int_equal(last.conns_seen[1], 0);
	assert_int_equal(last.ends[PROBE_END_IDLE], 1);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(d.res.state, SERVICE_SILENT);
	assert_in_range((unsigned)d.at_ms, 4700, 5600);
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

/* ---- next-hop questions (neigh.c) ---- */

struct answer {
	int calls;
	int status;
	struct neigh_info n;
	unsigned ticks; /* the ticker's count when the answer came */
};

/* Counts 5 ms ticks: it only advances while the loop runs. */
static uv_timer_t ticker;
static unsigned ticks;

static void tick(uv_timer_t *t)
{
	(void)t;
	ticks++;
}

static void ticker_start(uv_loop_t *loop)
{
	ticks = 0;
	uv_timer_init(loop, &ticker);
	uv_timer_start(&ticker, tick, 5, 5);
}

/* A query with its answer record (the query first: on_answer finds the record from it). */
struct asked {
	struct neigh_query q;
	struct answer a;
};

static void on_answer(struct neigh_query *q, int status, const struct neigh_info *n)
{
	struct answer *a = &((struct asked *)(void *)q)->a;

	a->calls++;
	a->status = status;
	a->n = *n;
	a->ticks = ticks;
}

/* loopback has no link layer, so there is no neighbour to wait for; bad input refused. */
static void neigh_loopback_unknown(void **unused)
{
	uv_loop_t loop;
	struct neigh_asker *nl;
	struct asked v4, v6, bad;
	struct addr a;
	int fd = neigh_socket_open();

	(void)unused;
	assert_true(fd >= 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(neigh_asker_new(&loop, fd, &nl), 0);
	memset(&v4.a, 0, sizeof(v4.a));
	memset(&v6.a, 0, sizeof(v6.a));
	neigh_query_init(&v4.q);
	neigh_query_init(&v6.q);
	neigh_query_init(&bad.q);
	a = A("127.0.0.1");
	assert_int_equal(neigh_ask(nl, &v4.q, &a, on_answer), 0);
	assert_int_equal(neigh_ask(nl, &v4.q, &a, on_answer), -EBUSY);
	a = A("::1");
	assert_int_equal(neigh_ask(nl, &v6.q, &a, on_answer), 0);
	/* Never from inside neigh_ask(). */
	assert_int_equal(v4.a.calls + v6.a.calls, 0);
	assert_true(neigh_query_pending(&v4.q));
	a.family = AF_UNIX;
	assert_int_equal(neigh_ask(nl, &bad.q, &a, on_answer), -EAFNOSUPPORT);
	for (int i = 0; i < 100 && (v4.a.calls == 0 || v6.a.calls == 0); i++)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(v4.a.calls, 1);
	assert_int_equal(v4.a.status, 0);
	assert_int_equal(v4.a.n.state, NEIGH_UNKNOWN);
	assert_int_equal(v6.a.calls, 1);
	assert_int_equal(v6.a.n.state, NEIGH_UNKNOWN);
	assert_false(neigh_query_pending(&v4.q));
	neigh_asker_close(nl);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/*
 * A stand-in for the kernel at the other end of a socket pair, on the test's own loop: it reads
 * the requests and answers them delay_ms later, so that a question stays out while the loop is
 * watched. Route requests get a gateway (198.18.0.1 on interface 3), or "network unreachable";
 * neighbour requests get an INCOMPLETE entry that changed state two seconds ago.
 */
enum { FK_QUEUE = 16 };

struct fake_kernel {
	int fd[2]; /* [0] handed to the asker, [1] ours */
	uv_poll_t poll;
	uv_timer_t timer;
	unsigned delay_ms;
	bool unreachable; /* route requests: NLMSG_ERROR -ENETUNREACH */
	bool silent;      /* never answer */
	unsigned routes, neighs, opens;
	unsigned ticks_at_request;
	unsigned held_ticks; /* ticks counted between a request and its reply, the fewest seen */
	struct {
		struct nlmsghdr h;
		union {
			struct rtmsg rt;
			struct ndmsg nd;
		} u;
		uint8_t dst[16];
		int ifindex;
	} q[FK_QUEUE];
	unsigned nq;
};

static struct fake_kernel fk;

static void fk_put_attr(uint8_t *buf, size_t *len, unsigned short type, const void *data, size_t n)
{
	struct rtattr *a = (struct rtattr *)(void *)(buf + NLMSG_ALIGN(*len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(n);
	memcpy(RTA_DATA(a), data, n);
	*len = NLMSG_ALIGN(*len) + RTA_ALIGN(a->rta_len);
}

static void fk_send(uint8_t *buf, size_t len)
{
	((struct nlmsghdr *)(void *)buf)->nlmsg_len = (uint32_t)len;
	assert_int_equal(send(fk.fd[1], buf, len, 0), (ssize_t)len);
}

static void fk_reply(unsigned i)
{
	union {
		struct nlmsghdr h;
		uint8_t b[512];
	} u;
	size_t len;

	memset(&u, 0, sizeof(u));
	u.h.nlmsg_seq = fk.q[i].h.nlmsg_seq;
	if (fk.q[i].h.nlmsg_type == RTM_GETROUTE && fk.unreachable) {
		struct nlmsgerr *e = NLMSG_DATA(&u.h);

		u.h.nlmsg_type = NLMSG_ERROR;
		e->error = -ENETUNREACH;
		e->msg = fk.q[i].h;
		fk_send(u.b, NLMSG_LENGTH(sizeof(*e)));
		return;
	}
	if (fk.q[i].h.nlmsg_type == RTM_GETROUTE) {
		struct rtmsg *rt = NLMSG_DATA(&u.h);
		uint8_t gw[4] = {198, 18, 0, 1};
		int oif = 3;

		/* First a reply to nothing asked (a number from before): it must be ignored. */
		u.h.nlmsg_seq += 1000;
		u.h.nlmsg_type = RTM_NEWROUTE;
		rt->rtm_family = AF_INET;
		rt->rtm_type = RTN_UNICAST;
		len = NLMSG_LENGTH(sizeof(*rt));
		fk_put_attr(u.b, &len, RTA_OIF, &oif, sizeof(oif));
		fk_send(u.b, len);
		u.h.nlmsg_seq -= 1000;
		len = NLMSG_LENGTH(sizeof(*rt));
		fk_put_attr(u.b, &len, RTA_GATEWAY, gw, sizeof(gw));
		fk_put_attr(u.b, &len, RTA_OIF, &oif, sizeof(oif));
		fk_send(u.b, len);
		return;
	}
	struct ndmsg *nd = NLMSG_DATA(&u.h);
	struct nda_cacheinfo ci = {.ndm_updated = (uint32_t)(2 * sysconf(_SC_CLK_TCK))};

	u.h.nlmsg_type = RTM_NEWNEIGH;
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = fk.q[i].ifindex;
	nd->ndm_state = NUD_INCOMPLETE;
	len = NLMSG_LENGTH(sizeof(*nd));
	fk_put_attr(u.b, &len, NDA_CACHEINFO, &ci, sizeof(ci));
	fk_send(u.b, len);
}

static void fk_timer(uv_timer_t *t)
{
	unsigned held = ticks - fk.ticks_at_request;

	(void)t;
	if (held < fk.held_ticks)
		fk.held_ticks = held;
	for (unsigned i = 0; i < fk.nq; i++)
		fk_reply(i);
	fk.nq = 0;
}

static void fk_read(uv_poll_t *p, int status, int events)
{
	union {
		struct nlmsghdr h;
		uint8_t b[512];
	} u;
	ssize_t n;

	(void)p, (void)status, (void)events;
	while ((n = recv(fk.fd[1], u.b, sizeof(u.b), MSG_DONTWAIT)) > 0) {
		const struct rtattr *a;
		size_t body, left;

		assert_true(NLMSG_OK(&u.h, (size_t)n));
		assert_true(u.h.nlmsg_flags & NLM_F_REQUEST);
		assert_true(fk.nq < FK_QUEUE);
		body = u.h.nlmsg_type == RTM_GETROUTE ? sizeof(struct rtmsg) : sizeof(struct ndmsg);
		fk.q[fk.nq].h = u.h;
		memcpy(&fk.q[fk.nq].u, NLMSG_DATA(&u.h), body);
		fk.q[fk.nq].ifindex = 0;
		if (u.h.nlmsg_type == RTM_GETROUTE) {
			fk.routes++;
		} else {
			assert_int_equal(u.h.nlmsg_type, RTM_GETNEIGH);
			fk.neighs++;
			fk.q[fk.nq].ifindex = fk.q[fk.nq].u.nd.ndm_ifindex;
		}
		a = (const struct rtattr *)(const void *)(u.b + NLMSG_LENGTH(NLMSG_ALIGN(body)));
		left = u.h.nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(body));
		for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
			if (RTA_PAYLOAD(a) <= 16)
				memcpy(fk.q[fk.nq].dst, RTA_DATA(a), RTA_PAYLOAD(a));
		fk.nq++;
		if (!fk.silent && !uv_is_active((uv_handle_t *)&fk.timer)) {
			fk.ticks_at_request = ticks;
			uv_timer_start(&fk.timer, fk_timer, fk.delay_ms, 0);
		}
	}
}

static void fk_start(uv_loop_t *loop, unsigned delay_ms)
{
	memset(&fk, 0, sizeof(fk));
	fk.delay_ms = delay_ms;
	fk.held_ticks = UINT32_MAX;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fk.fd), 0);
	uv_poll_init(loop, &fk.poll, fk.fd[1]);
	uv_poll_start(&fk.poll, UV_READABLE, fk_read);
	uv_timer_init(loop, &fk.timer);
}

static void fk_stop(void)
{
	uv_close((uv_handle_t *)&fk.poll, NULL);
	uv_close((uv_handle_t *)&fk.timer, NULL);
	close(fk.fd[1]);
	if (fk.opens == 0)
		close(fk.fd[0]);
}

/* The engine's opener: the stand-in once (the asker owns that end), then nothing. */
static int fk_open(void)
{
	return fk.opens++ == 0 ? fk.fd[0] : -EMFILE;
}

static int no_netlink(void)
{
	return -EMFILE;
}

/*
 * A whole question on the loop: the route request, its reply (after one to an older number that
 * must be ignored), the neighbour request for the gateway on the route's interface with a new
 * number, its reply; 2 x 60 ms (below NEIGH_REPLY_MS) during which the loop went on ticking.
 */
static void neigh_two_steps_on_the_loop(void **unused)
{
	uv_loop_t loop;
	struct neigh_asker *nl;
	struct asked x = {0};
	struct addr a = A("198.18.0.5");
	uint8_t gw[4] = {198, 18, 0, 1};

	(void)unused;
	assert_int_equal(uv_loop_init(&loop), 0);
	fk_start(&loop, 60);
	ticker_start(&loop);
	assert_int_equal(neigh_asker_new(&loop, fk.fd[0], &nl), 0);
	fk.opens = 1;
	neigh_query_init(&x.q);
	assert_int_equal(neigh_ask(nl, &x.q, &a, on_answer), 0);
	for (int i = 0; i < 200 && x.a.calls == 0; i++)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(x.a.calls, 1);
	assert_int_equal(x.a.status, 0);
	assert_int_equal(x.a.n.state, NEIGH_RESOLVING);
	assert_int_equal(x.a.n.age_ms, 2000);
	assert_true(x.a.n.seen_ns > x.a.n.asked_ns);
	assert_int_equal(fk.routes, 1);
	assert_int_equal(fk.neighs, 1);
	/* The neighbour request: for the gateway, on interface 3. */
	assert_memory_equal(fk.q[0].dst, gw, 4);
	assert_int_equal(fk.q[0].ifindex, 3);
	/* 60 ms per reply, 5 ms ticks: the loop ran all along (ASan slack: at least 6). */
	assert_true(fk.held_ticks >= 6);
	assert_true(x.a.ticks >= 12);
	neigh_asker_close(nl);
	fk_stop();
	uv_close((uv_handle_t *)&ticker, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* A kernel that never answers: "unknown", -ETIMEDOUT, after NEIGH_REPLY_MS; a cancelled one
 * never calls back. */
static void neigh_silent_kernel_times_out(void **unused)
{
	uv_loop_t loop;
	struct neigh_asker *nl;
	struct asked x = {0}, y = {0};
	struct addr a = A("198.18.0.5");
	uint64_t t0;

	(void)unused;
	assert_int_equal(uv_loop_init(&loop), 0);
	fk_start(&loop, 0);
	fk.silent = true;
	ticker_start(&loop);
	assert_int_equal(neigh_asker_new(&loop, fk.fd[0], &nl), 0);
	fk.opens = 1;
	neigh_query_init(&x.q);
	neigh_query_init(&y.q);
	t0 = uv_hrtime();
	assert_int_equal(neigh_ask(nl, &x.q, &a, on_answer), 0);
	assert_int_equal(neigh_ask(nl, &y.q, &a, on_answer), 0);
	neigh_cancel(&y.q);
	for (int i = 0; i < 200 && x.a.calls == 0; i++)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(x.a.calls, 1);
	assert_int_equal(x.a.status, -ETIMEDOUT);
	assert_int_equal(x.a.n.state, NEIGH_UNKNOWN);
	assert_in_range((uv_hrtime() - t0) / 1000000, NEIGH_REPLY_MS, 3 * NEIGH_REPLY_MS);
	assert_true(x.a.ticks >= 10);
	assert_int_equal(y.a.calls, 0);
	assert_int_equal(fk.routes, 2);
	neigh_asker_close(nl);
	fk_stop();
	uv_close((uv_handle_t *)&ticker, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(y.a.calls, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Runs the loop until the engine is idle, then stops the test's own handles and frees. */
static void fx_run_until_idle(struct fixture *fx)
{
	for (int i = 0; i < 100000 && engine_pending(fx->e) > 0; i++)
		uv_run(&fx->loop, UV_RUN_ONCE);
}

/*
 * Eight silent ports of a host nothing is known of: their timers fire together and ask about the
 * next hop. The kernel (a stand-in) takes 60 ms per reply: the loop runs meanwhile, all eight
 * jobs wait on one question (the per-target limit), and the verdicts are those of
 * timeout_filtered: filtered / timeout after two attempts.
 */
static void engine_loop_runs_while_next_hop_asked(void **unused)
{
	enum { N = 8 };
	struct fixture fx;
	struct done d[N];
	struct engine_opts o;
	struct full_listener fl;
	struct engine_stats st;

	(void)unused;
	memset(d, 0, sizeof(d));
	engine_opts_default(&o);
	o.fixed_timeout_ms = 200;
	full_listener_open(&fl);
	fx_init(&fx, &o, "127.0.0.1");
	fk_start(&fx.loop, 60);
	fk.unreachable = true;
	fx.e->nl_open = fk_open;
	ticker_start(&fx.loop);
	for (int i = 0; i < N; i++)
		assert_int_equal(engine_submit(fx.e, fx.t, fl.port, NULL, on_done, &d[i]), 0);
	fx_run_until_idle(&fx);
	engine_get_stats(fx.e, &st);
	uv_close((uv_handle_t *)&ticker, NULL);
	fk_stop();
	fx_run_and_free(&fx);
	full_listener_close(&fl);
	for (int i = 0; i < N; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].pr.state, PORT_FILTERED);
		assert_int_equal(d[i].pr.reason, REASON_TIMEOUT);
		assert_int_equal(d[i].pr.tries, 2);
	}
	/* One socket for the engine; a question per step of the target, not per job. */
	assert_int_equal(fk.opens, 1);
	assert_in_range(fk.routes, 1, 3);
	assert_int_equal(fk.routes, st.neigh_asked);
	assert_int_equal(st.neigh_unasked, 0);
	assert_int_equal(st.neigh_failed, 0);
	assert_int_equal(st.neigh_waiting_peak, N);
	assert_true(fk.held_ticks >= 6);
	/* Two steps, each 60 ms late for its question: 100 + 60, + 140 + 60 ms. */
	assert_in_range((unsigned)d[N - 1].at_ms, 330, 900);
}

/* No netlink socket to be had: the question is "unknown" at once, and nothing changes. */
static void engine_without_netlink(void **unused)
{
	struct fixture fx;
	struct done d = {0};
	struct engine_opts o;
	struct full_listener fl;
	struct engine_stats st;

	(void)unused;
	engine_opts_default(&o);
	o.fixed_timeout_ms = 200;
	full_listener_open(&fl);
	fx_init(&fx, &o, "127.0.0.1");
	fx.e->nl_open = no_netlink;
	assert_int_equal(engine_submit(fx.e, fx.t, fl.port, NULL, on_done, &d), 0);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	engine_get_stats(fx.e, &st);
	fx_run_and_free(&fx);
	full_listener_close(&fl);
	assert_int_equal(d.pr.state, PORT_FILTERED);
	assert_int_equal(d.pr.reason, REASON_TIMEOUT);
	assert_int_equal(d.pr.tries, 2);
	assert_in_range((unsigned)d.at_ms, 230, 400);
	assert_int_equal(st.neigh_asked, 0);
	assert_true(st.neigh_unasked >= 1);
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
	    cmocka_unit_test(probe_side_by_side),
	    cmocka_unit_test(probe_side_by_side_capped),
	    cmocka_unit_test(probe_side_by_side_deadline),
	    cmocka_unit_test(probe_idle),
	    cmocka_unit_test(probe_silent_slow_path_retried),
	    cmocka_unit_test(probe_total_deadline),
	    cmocka_unit_test(probe_toobig),
	    cmocka_unit_test(probe_peer_closes),
	    cmocka_unit_test(names),
	    cmocka_unit_test(local_emfile_is_error),
	    cmocka_unit_test(few_descriptors_wait),
	    cmocka_unit_test(neigh_loopback_unknown),
	    cmocka_unit_test(neigh_two_steps_on_the_loop),
	    cmocka_unit_test(neigh_silent_kernel_times_out),
	    cmocka_unit_test(engine_loop_runs_while_next_hop_asked),
	    cmocka_unit_test(engine_without_netlink),
	};

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
