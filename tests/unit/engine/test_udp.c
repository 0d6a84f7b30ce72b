/* SPDX-License-Identifier: MIT */
/*
 * UDP jobs of the engine (udp.c, ENGINE.md "UDP") on loopback with real sockets: a datagram back
 * is open and fed to the probe, ICMP port unreachable is closed (ICMP 3/3, or 1/4 over IPv6), a
 * port that answers nothing is open|filtered after every retransmission, never closed; a lost
 * first request is recovered by the retransmission; the protocol's reply delay is waited for; a
 * flood of datagrams and an oversized one are bounded. The responders are uv_udp handles of the
 * test, on the same loop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/engine_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The probe: sends "ping", counts the datagrams it is fed, done at the one saying "last". */
struct ustate {
	unsigned fed;
	size_t last_len;
	enum probe_end why;
	bool ended;
};

static struct ustate seen;

static int u_start(void *st, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)st;
	(void)conn;
	(void)out;
	return probe_tx_put(tx, "ping", 4);
}

static int u_feed(void *st, const uint8_t *buf, size_t len, size_t *consumed, struct probe_tx *tx,
                  struct probe_result *out)
{
	struct ustate *s = st;

	(void)tx;
	*consumed = len;
	s->fed++;
	seen.fed = s->fed;
	seen.last_len = len;
	out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "utest");
	return len >= 4 && memcmp(buf, "last", 4) == 0 ? PROBE_DONE : PROBE_MORE;
}

static int u_end(void *st, enum probe_end why, struct probe_result *out)
{
	(void)st;
	(void)out;
	seen.why = why;
	seen.ended = true;
	/* Details the engine must release whether or not it keeps the result (ASan checks). */
	probe_detail_set(out, "ended", json_string(probe_end_name(why)));
	return PROBE_DONE;
}

static struct probe_ops u_probe = {
    .name = "utest",
    .state_size = sizeof(struct ustate),
    .max_rx = 512,
    .idle_ms = 150,
    .total_ms = 4000,
    .max_conns = 1,
    .datagram = true,
    .start = u_start,
    .feed = u_feed,
    .end = u_end,
};

/* The responder: what it does with each request datagram. */
enum resp_mode {
	RESP_ECHO_LAST,  /* answers "last" at once */
	RESP_TWO,        /* "more" then "last" */
	RESP_DROP_FIRST, /* ignores the first request, answers the second */
	RESP_DELAY,      /* answers after delay_ms (a protocol reply delay) */
	RESP_FLOOD,      /* 200 datagrams "more" */
	RESP_HUGE,       /* one 60000-byte datagram */
	RESP_SILENT,     /* reads and never answers */
};

struct resp {
	uv_udp_t h;
	uv_timer_t t;
	enum resp_mode mode;
	unsigned got;
	unsigned delay_ms;
	struct sockaddr_storage peer;
	uint16_t port;
};

static char resp_buf[2048];
static uint8_t huge[60000];

static void resp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	*b = uv_buf_init(resp_buf, sizeof(resp_buf));
}

static void resp_send(struct resp *r, const void *data, size_t n)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)n);

	assert_true(uv_udp_try_send(&r->h, &b, 1, (struct sockaddr *)&r->peer) >= 0);
}

static void resp_later(uv_timer_t *t)
{
	resp_send(t->data, "last", 4);
}

static void resp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                      unsigned flags)
{
	struct resp *r = h->data;

	(void)b;
	(void)flags;
	if (n <= 0 || from == NULL)
		return;
	memcpy(&r->peer, from,
	       from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                   : sizeof(struct sockaddr_in));
	r->got++;
	switch (r->mode) {
	case RESP_ECHO_LAST:
		resp_send(r, "last", 4);
		break;
	case RESP_TWO:
		resp_send(r, "more", 4);
		resp_send(r, "last", 4);
		break;
	case RESP_DROP_FIRST:
		if (r->got >= 2)
			resp_send(r, "last", 4);
		break;
	case RESP_DELAY:
		if (r->got == 1)
			uv_timer_start(&r->t, resp_later, r->delay_ms, 0);
		break;
	case RESP_FLOOD:
		for (int i = 0; i < 200; i++)
			resp_send(r, "more", 4);
		break;
	case RESP_HUGE:
		resp_send(r, huge, sizeof(huge));
		break;
	case RESP_SILENT:
		break;
	}
}

static void resp_start(uv_loop_t *loop, struct resp *r, enum resp_mode mode, const char *ip)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	unsigned delay = r->delay_ms;

	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->delay_ms = delay;
	if (strchr(ip, ':'))
		assert_int_equal(uv_ip6_addr(ip, 0, (struct sockaddr_in6 *)&ss), 0);
	else
		assert_int_equal(uv_ip4_addr(ip, 0, (struct sockaddr_in *)&ss), 0);
	assert_int_equal(uv_udp_init(loop, &r->h), 0);
	assert_int_equal(uv_timer_init(loop, &r->t), 0);
	r->h.data = r;
	r->t.data = r;
	assert_int_equal(uv_udp_bind(&r->h, (struct sockaddr *)&ss, 0), 0);
	assert_int_equal(uv_udp_getsockname(&r->h, (struct sockaddr *)&ss, &len), 0);
	r->port = ntohs(((struct sockaddr_in *)&ss)->sin_port); /* same offset in sin6 */
	assert_int_equal(uv_udp_recv_start(&r->h, resp_alloc, resp_recv), 0);
}

static void resp_stop(struct resp *r)
{
	uv_close((uv_handle_t *)&r->h, NULL);
	uv_close((uv_handle_t *)&r->t, NULL);
}

/* A UDP port nothing listens on: bound, then closed. */
static uint16_t closed_udp_port(const char *ip)
{
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof(ss);
	bool v6 = strchr(ip, ':') != NULL;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	uint16_t port;

	assert_true(fd >= 0);
	ss.ss_family = v6 ? AF_INET6 : AF_INET;
	if (v6)
		inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	else
		inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss,
	                      v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)),
	                 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	close(fd);
	return port;
}

struct done {
	bool called;
	struct port_result pr;
	bool had_res;
	char service[PROBE_SERVICE_MAX];
	double ms;
};

static uint64_t t0;

static void on_done(void *ud, const struct port_result *pr, struct probe_result *res)
{
	struct done *d = ud;

	assert_false(d->called);
	d->called = true;
	d->pr = *pr;
	d->had_res = res != NULL;
	if (res)
		snprintf(d->service, sizeof(d->service), "%s", res->service);
	d->ms = (double)(uv_hrtime() - t0) / 1e6;
}

/* One UDP job against ip:port with engine options o; the responder (if any) runs meanwhile. */
static struct done run_udp(const char *ip, uint16_t port, const struct engine_opts *o,
                           struct resp *r, struct engine_stats *st)
{
	uv_loop_t loop;
	struct engine *e;
	struct engine_target *t;
	struct addr a;
	struct done d = {0};

	assert_int_equal(uv_loop_init(&loop), 0);
	if (r)
		resp_start(&loop, r, r->mode, ip);
	if (r)
		port = r->port;
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(addr_parse(ip, &a), 0);
	e = engine_new(&loop, o);
	assert_non_null(e);
	t = engine_target_new(e, &a);
	assert_non_null(t);
	t0 = uv_hrtime();
	assert_int_equal(engine_submit(e, t, port, &u_probe, on_done, &d), 0);
	/* The responder keeps the loop alive: run until the job is delivered, then close it. */
	while (!d.called)
		uv_run(&loop, UV_RUN_ONCE);
	if (st)
		engine_get_stats(e, st);
	if (r)
		resp_stop(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	engine_free(e);
	assert_int_equal(uv_loop_close(&loop), 0);
	return d;
}

static struct resp mk(enum resp_mode m)
{
	return (struct resp){.mode = m};
}

static void udp_open_answer(void **unused)
{
	struct resp r = mk(RESP_ECHO_LAST);
	struct engine_stats st;
	struct done d = run_udp("127.0.0.1", 0, NULL, &r, &st);

	(void)unused;
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_int_equal(d.pr.reason, REASON_UDP_RESPONSE);
	assert_string_equal(port_reason_name(d.pr.reason), "udp-response");
	assert_int_equal(d.pr.tries, 1);
	assert_true(d.pr.rtt_ms >= 0);
	assert_true(d.had_res);
	assert_string_equal(d.service, "utest");
	assert_int_equal(seen.fed, 1);
	assert_false(seen.ended); /* DONE at "last": end() is not called */
	assert_int_equal(r.got, 1);
	assert_int_equal(st.udp_sent, 1);
	assert_true(d.ms < 1000);
}

static void udp_open_answer_v6(void **unused)
{
	struct resp r = mk(RESP_TWO);
	struct done d = run_udp("::1", 0, NULL, &r, NULL);

	(void)unused;
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_int_equal(seen.fed, 2); /* "more" then "last", each alone */
	assert_int_equal(seen.last_len, 4);
}

static void udp_closed_icmp(void **unused)
{
	uint16_t p4 = closed_udp_port("127.0.0.1"), p6 = closed_udp_port("::1");
	struct done d = run_udp("127.0.0.1", p4, NULL, NULL, NULL);

	(void)unused;
	assert_int_equal(d.pr.state, PORT_CLOSED);
	assert_int_equal(d.pr.reason, REASON_UNREACHABLE);
	assert_int_equal(d.pr.icmp_type, 3);
	assert_int_equal(d.pr.icmp_code, 3);
	assert_false(d.had_res); /* nothing listens: no probe result, as for TCP */
	assert_int_equal(d.pr.tries, 1);
	assert_true(d.ms < 500);
	d = run_udp("::1", p6, NULL, NULL, NULL);
	assert_int_equal(d.pr.state, PORT_CLOSED);
	assert_int_equal(d.pr.icmp_type, 1);
	assert_int_equal(d.pr.icmp_code, 4);
}

/* Silence: every retransmission, then open|filtered with the probe's end(IDLE); never closed. */
static void udp_silent_open_filtered(void **unused)
{
	struct engine_opts o;
	struct resp r = mk(RESP_SILENT);
	struct engine_stats st;
	struct done d;

	(void)unused;
	engine_opts_default(&o);
	o.initial_timeout_ms = 200;
	d = run_udp("127.0.0.1", 0, &o, &r, &st);
	assert_int_equal(d.pr.state, PORT_OPEN_FILTERED);
	assert_string_equal(port_state_name(d.pr.state), "open|filtered");
	assert_int_equal(d.pr.reason, REASON_TIMEOUT);
	assert_int_equal(d.pr.icmp_type, -1);
	/* Nothing known of the target: nmap's one retransmission. */
	assert_int_equal(d.pr.tries, 2);
	assert_int_equal(r.got, 2);
	assert_int_equal(st.udp_sent, 2);
	assert_true(seen.ended);
	assert_int_equal(seen.why, PROBE_END_IDLE);
	assert_false(d.had_res); /* a probe result belongs to an open port only */
	assert_true(d.ms >= 390 && d.ms < 1500);
}

/* The first request lost: the retransmission is answered. */
static void udp_retransmit(void **unused)
{
	struct engine_opts o;
	struct resp r = mk(RESP_DROP_FIRST);
	struct done d;

	(void)unused;
	engine_opts_default(&o);
	o.initial_timeout_ms = 150;
	d = run_udp("127.0.0.1", 0, &o, &r, NULL);
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_int_equal(d.pr.tries, 2);
	assert_int_equal(r.got, 2);
	assert_true(d.ms >= 140 && d.ms < 1000);
}

/* A server that waits (SSDP's MX) longer than every try's timeout is still heard. */
static void udp_reply_delay(void **unused)
{
	struct engine_opts o;
	struct resp r = mk(RESP_DELAY);
	struct done d;

	(void)unused;
	engine_opts_default(&o);
	o.initial_timeout_ms = 100;
	r.delay_ms = 500;
	u_probe.reply_delay_ms = 800;
	d = run_udp("127.0.0.1", 0, &o, &r, NULL);
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_true(d.ms >= 490);
	/* Without the delay, the same server is open|filtered: the delay is what heard it. */
	u_probe.reply_delay_ms = 0;
	r = mk(RESP_DELAY);
	r.delay_ms = 500;
	d = run_udp("127.0.0.1", 0, &o, &r, NULL);
	assert_int_equal(d.pr.state, PORT_OPEN_FILTERED);
}

/* 200 datagrams: each fed alone, bounded by the idle timer and the deadline; no crash. */
static void udp_flood(void **unused)
{
	struct resp r = mk(RESP_FLOOD);
	struct done d;

	(void)unused;
	u_probe.total_ms = 1000;
	d = run_udp("127.0.0.1", 0, NULL, &r, NULL);
	u_probe.total_ms = 4000;
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_true(seen.fed >= 1 && seen.fed <= 200);
	assert_true(seen.ended);
	assert_true(d.ms < 1500);
}

/* One datagram over max_rx: truncated to max_rx in the probe's buffer. */
static void udp_huge(void **unused)
{
	struct resp r = mk(RESP_HUGE);
	struct done d = run_udp("127.0.0.1", 0, NULL, &r, NULL);

	(void)unused;
	assert_int_equal(d.pr.state, PORT_OPEN);
	assert_int_equal(seen.fed, 1);
	assert_int_equal(seen.last_len, u_probe.max_rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(udp_open_answer), cmocka_unit_test(udp_open_answer_v6),
	    cmocka_unit_test(udp_closed_icmp), cmocka_unit_test(udp_silent_open_filtered),
	    cmocka_unit_test(udp_retransmit),  cmocka_unit_test(udp_reply_delay),
	    cmocka_unit_test(udp_flood),       cmocka_unit_test(udp_huge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
