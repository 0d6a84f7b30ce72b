/* SPDX-License-Identifier: MIT */
/*
 * The engine's TLS path (src/engine/tls.c, probe_run.c conv_tls_read) against its plain path on
 * loopback: the same probe, the same reply, once in clear text and once over TLS, must end the
 * same way and see the same bytes. The server is a thread with a throw-away self-signed P-256
 * certificate made here with OpenSSL (never written to disk); the probe asks for TLS the way
 * nas_admin.c does (its first connection returns PROBE_RECONNECT with tx.tls set).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "engine/engine.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the server: one thread, blocking sockets, bounded waits ---- */

struct tsrv {
	int lfd;
	uint16_t port;
	SSL_CTX *ctx;
	bool tls;            /* a connection that starts with a TLS record gets TLS */
	const uint8_t *data; /* sent at once on the connection that is served */
	size_t len;
	bool close_after; /* close (close_notify, then FIN) after data; else wait for the peer */
	unsigned accepted;
	pthread_t th;
};

static SSL_CTX *server_ctx(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	X509_NAME *name;

	assert_non_null(key);
	assert_non_null(x);
	assert_non_null(ctx);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"engine.test",
	                           -1, -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

/* Waits up to 3 s for fd to be readable. */
static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 3000) == 1;
}

/* Reads (and drops) until the peer closes or 3 s pass. */
static void drain_until_close(int fd, SSL *ssl)
{
	uint8_t b[4096];

	while (readable(fd) && (ssl ? SSL_read(ssl, b, sizeof(b)) : recv(fd, b, sizeof(b), 0)) > 0)
		;
}

/* One accepted connection: the served one returns true. */
static bool serve_one(struct tsrv *t, int fd)
{
	uint8_t first;
	SSL *ssl = NULL;
	bool served = false;

	if (t->tls) {
		/* The probe's first connection is plain and closes at once; the second is TLS. */
		if (!readable(fd) || recv(fd, &first, 1, MSG_PEEK) != 1 || first != 0x16)
			goto out;
		ssl = SSL_new(t->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1)
			goto out;
	}
	served = true;
	if (t->len > 0 && (ssl ? SSL_write(ssl, t->data, (int)t->len) <= 0
	                       : send(fd, t->data, t->len, MSG_NOSIGNAL) < 0))
		goto out;
	if (t->close_after) {
		if (ssl)
			SSL_shutdown(ssl);
		goto out;
	}
	drain_until_close(fd, ssl);
out:
	SSL_free(ssl);
	close(fd);
	return served;
}

static void *tsrv_main(void *arg)
{
	struct tsrv *t = arg;

	for (int i = 0; i < 3 && readable(t->lfd); i++) {
		int fd = accept(t->lfd, NULL, NULL);

		if (fd < 0)
			break;
		t->accepted++;
		if (serve_one(t, fd))
			break;
	}
	return NULL;
}

static void tsrv_start(struct tsrv *t, SSL_CTX *ctx, bool tls, const void *data, size_t len,
                       bool close_after)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sin);

	memset(t, 0, sizeof(*t));
	t->ctx = ctx;
	t->tls = tls;
	t->data = data;
	t->len = len;
	t->close_after = close_after;
	t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(t->lfd >= 0);
	assert_int_equal(bind(t->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(t->lfd, 4), 0);
	assert_int_equal(getsockname(t->lfd, (struct sockaddr *)&sin, &sl), 0);
	t->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&t->th, NULL, tsrv_main, t), 0);
}

static void tsrv_stop(struct tsrv *t)
{
	pthread_join(t->th, NULL);
	close(t->lfd);
}

/* ---- the probes ---- */

enum consume { KEEP_ALL, UP_TO_LAST_LF, TAKE_ALL };

struct seen {
	bool tls;
	enum consume how;
	size_t total;   /* bytes consumed */
	size_t most;    /* most bytes offered at once */
	unsigned conns; /* start() calls */
	enum probe_end why;
	bool ended;
};

/* Observed from outside: the probe's state block dies with the job. */
static struct seen last;

static int t_start(void *st, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)st, (void)out;
	last.conns++;
	if (last.tls && conn == 0) {
		tx->tls = true;
		return PROBE_RECONNECT;
	}
	return PROBE_MORE;
}

static int t_feed(void *st, const uint8_t *buf, size_t len, size_t *consumed, struct probe_tx *tx,
                  struct probe_result *out)
{
	const uint8_t *lf;

	(void)st, (void)tx, (void)out;
	if (len > last.most)
		last.most = len;
	*consumed = 0;
	if (last.how == TAKE_ALL) {
		*consumed = len;
	} else if (last.how == UP_TO_LAST_LF) {
		for (lf = buf + len; lf > buf && lf[-1] != '\n'; lf--)
			;
		*consumed = (size_t)(lf - buf);
	}
	last.total += *consumed;
	return PROBE_MORE;
}

static int t_end(void *st, enum probe_end why, struct probe_result *out)
{
	(void)st;
	last.why = why;
	last.ended = true;
	out->state = SERVICE_IDENTIFIED;
	return PROBE_DONE;
}

static void on_done(void *ud, const struct port_result *pr, struct probe_result *res)
{
	(void)res;
	*(enum port_state *)ud = pr->state;
}

/* One probe job against a fresh server; the result in `last`. */
static void run(SSL_CTX *ctx, bool tls, enum consume how, size_t max_rx, const void *data,
                size_t len, bool close_after)
{
	struct probe_ops p = {
	    .name = "tlsbound",
	    .state_size = 1,
	    .max_rx = max_rx,
	    .idle_ms = 2000,
	    .total_ms = 5000,
	    .max_conns = 2,
	    .start = t_start,
	    .feed = t_feed,
	    .end = t_end,
	};
	struct addr a;
	enum port_state state = PORT_X_MAX;
	uv_loop_t loop;
	struct engine *e;
	struct engine_target *t;
	struct tsrv srv;

	memset(&last, 0, sizeof(last));
	last.tls = tls;
	last.how = how;
	tsrv_start(&srv, ctx, tls, data, len, close_after);
	assert_int_equal(addr_parse("127.0.0.1", &a), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	e = engine_new(&loop, NULL);
	assert_non_null(e);
	t = engine_target_new(e, &a);
	assert_non_null(t);
	assert_int_equal(engine_submit(e, t, srv.port, &p, on_done, &state), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	engine_free(e);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	tsrv_stop(&srv);
	assert_int_equal(state, PORT_OPEN);
	assert_true(last.ended);
	assert_int_equal(last.conns, tls ? 2 : 1);
	assert_int_equal(srv.accepted, tls ? 2 : 1);
}

static SSL_CTX *ctx;
static uint8_t big[1 << 20];

/*
 * Lines, then one longer than the probe's bound with no end: the probe keeps the unfinished
 * line, which fills max_rx: TOOBIG, in clear text and over TLS alike (over TLS it waited for
 * the idle deadline: the rest of the record stayed in the session, unread).
 */
static void line_past_bound(void **unused)
{
	char reply[20 + 300];

	(void)unused;
	for (int i = 0; i < 10; i++)
		memcpy(reply + 2 * i, "a\n", 2);
	memset(reply + 20, 'x', 300);
	for (int tls = 0; tls < 2; tls++) {
		run(ctx, tls, UP_TO_LAST_LF, 64, reply, sizeof(reply), false);
		assert_int_equal(last.why, PROBE_END_TOOBIG);
		assert_int_equal(last.total, 20);
		assert_int_equal(last.most, 64);
	}
}

/* A probe that consumes every byte sees all of a reply larger than its bound, then the close. */
static void every_byte_delivered(void **unused)
{
	(void)unused;
	for (int tls = 0; tls < 2; tls++) {
		run(ctx, tls, TAKE_ALL, 64, big, 50000, true);
		assert_int_equal(last.total, 50000);
		assert_int_equal(last.why, PROBE_END_CLOSED);
		assert_true(last.most <= 64);
	}
}

/* A probe that keeps everything: 1 MiB ends TOOBIG with exactly max_rx offered. */
static void flood_past_bound(void **unused)
{
	(void)unused;
	for (int tls = 0; tls < 2; tls++) {
		run(ctx, tls, KEEP_ALL, 4096, big, sizeof(big), false);
		assert_int_equal(last.why, PROBE_END_TOOBIG);
		assert_int_equal(last.most, 4096);
		assert_int_equal(last.total, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(line_past_bound),
	    cmocka_unit_test(every_byte_delivered),
	    cmocka_unit_test(flood_past_bound),
	};
	int r;

	signal(SIGPIPE, SIG_IGN); /* the server writes to a probe that stopped reading */
	memset(big, 'b', sizeof(big));
	ctx = server_ctx();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	SSL_CTX_free(ctx);
	return r;
}
