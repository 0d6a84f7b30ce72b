/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL probe (docs/internals/PROBES.md, "PostgreSQL"): an SSLRequest, then a StartupMessage
 * with no user at all. The server must refuse the latter ("no PostgreSQL user name specified in
 * startup packet", SQLSTATE 28000) before any authentication: that ErrorResponse, or any other
 * well-formed answer, proves a PostgreSQL server reachable from here (postgresql-exposed). After
 * 'S' (TLS offered) the StartupMessage goes on a fresh connection in clear text, since the probe
 * does not speak TLS. Never a user name, never a password.
 */
#include "probes/probe.h"
#include "probes/parse/pg_parse.h"

#include <stdio.h>
#include <string.h>

#define EXPOSED "postgresql-exposed"

enum pg_phase { PG_SSL = 0, PG_STARTUP };

struct pg_state {
	enum pg_phase phase;
	bool any_bytes; /* on any connection */
	char ssl;       /* 'S', 'N', or 0 */
	bool done;
};

static int send_startup(struct pg_state *s, struct probe_tx *tx)
{
	uint8_t m[16];
	size_t n = pg_build_startup(m, sizeof(m));

	s->phase = PG_STARTUP;
	return n && probe_tx_put(tx, m, n) == 0 ? PROBE_MORE : -ERR_TOOBIG;
}

static int pg_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct pg_state *s = state;
	uint8_t m[16];
	size_t n;

	(void)out;
	if (conn > 0)
		return send_startup(s, tx); /* after 'S': no TLS here, so in clear on a new one */
	n = pg_build_ssl_request(m, sizeof(m));
	return n && probe_tx_put(tx, m, n) == 0 ? PROBE_MORE : -ERR_TOOBIG;
}

static void put_ssl(const struct pg_state *s, struct probe_result *out)
{
	if (s->ssl)
		probe_detail_set(out, "ssl", json_boolean(s->ssl == 'S'));
}

static void report_message(const struct pg_state *s, const struct pg_message *m,
                           struct probe_result *out)
{
	char why[FINDING_REASON_MAX];
	char type[2] = {m->type, 0};

	out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "postgresql");
	put_ssl(s, out);
	probe_detail_set(out, "message_type", json_string(type));
	if (m->type == 'E') {
		if (m->severity[0])
			probe_detail_set(out, "severity", json_string(m->severity));
		if (m->sqlstate[0])
			probe_detail_set(out, "sqlstate", json_string(m->sqlstate));
		probe_detail_set(out, "message", json_string(m->message));
		if (m->v2)
			probe_detail_set(out, "protocol", json_integer(2));
		snprintf(why, sizeof(why), "the server answers a connection attempt (%.5s%s%.80s)",
		         m->sqlstate[0] ? m->sqlstate : "error", m->message[0] ? ": " : "",
		         m->message);
	} else {
		if (m->type == 'R')
			probe_detail_set(out, "auth_request", json_integer(m->auth));
		snprintf(why, sizeof(why), "the server answers a connection attempt (message '%c')",
		         m->type);
	}
	probe_add_finding(out, EXPOSED, SEVERITY_HIGH, CONFIDENCE_CONFIRMED, why);
}

static int other(const uint8_t *buf, size_t len, struct probe_result *out)
{
	char first[80];

	probe_first_line(first, sizeof(first), buf, len);
	probe_other_line(out, probe_other_service(buf, len), first);
	return PROBE_DONE;
}

static int broken(const struct pg_state *s, const char *why, struct probe_result *out)
{
	out->state = SERVICE_PROTOCOL_ERROR;
	snprintf(out->service, sizeof(out->service), "postgresql");
	put_ssl(s, out);
	probe_detail_set(out, "reason", json_string(why));
	return PROBE_DONE;
}

static int pg_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                   struct probe_tx *tx, struct probe_result *out)
{
	struct pg_state *s = state;
	struct pg_message m;
	int r;

	*consumed = 0;
	s->any_bytes = s->any_bytes || len > 0;
	if (s->phase == PG_SSL) {
		r = pg_parse_ssl_answer(buf, len, &s->ssl);
		if (r == 1 && s->ssl == 'S' && len == 1) {
			*consumed = 1;
			return PROBE_RECONNECT; /* TLS would start now: ask again in clear */
		}
		if (r == 1 && s->ssl == 'S') {
			/* bytes behind 'S' before any handshake: another service ("SSH-"), or
			 * the buffering flaw of CVE-2021-23214, not PostgreSQL's way */
			s->ssl = 0;
			if (probe_other_partial(buf, len))
				return PROBE_MORE;
			if (probe_other_service(buf, len))
				return other(buf, len, out);
			return broken(s, "bytes after 'S' before any TLS handshake", out);
		}
		if (r == 1) {
			*consumed = 1;
			r = send_startup(s, tx);
			if (r != PROBE_MORE || len == 1)
				return r;
			buf++, len--; /* the answer to the StartupMessage came along */
		}
		/* not 'S'/'N': an error from a server that does not know SSLRequest, or not PG */
		if (r != 1 && probe_other_partial(buf, len))
			return PROBE_MORE;
		if (r != 1 && probe_other_service(buf, len))
			return other(buf, len, out);
	}
	r = pg_parse_message(buf, len, &m);
	if (r == PARSE_AGAIN)
		return PROBE_MORE;
	*consumed += len;
	s->done = true;
	if (r < 0 && probe_other_service(buf, len))
		return other(buf, len, out);
	if (r == -ERR_SYNTAX)
		return s->ssl ? broken(s, "not a PostgreSQL message after SSLRequest", out)
		              : other(buf, len, out);
	if (r < 0)
		return broken(s,
		              r == -ERR_TOOBIG ? "a message longer than the probe reads"
		                               : "a malformed message",
		              out);
	report_message(s, &m, out);
	return PROBE_DONE;
}

static int pg_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct pg_state *s = state;

	if (!s->any_bytes)
		return probe_no_bytes(out, why);
	/* 'S' then nothing usable on the clear-text connection: a TLS-only server, most likely;
	 * one byte is too little to call it PostgreSQL. */
	out->state = SERVICE_UNKNOWN;
	put_ssl(s, out);
	probe_detail_set(out, "reason", json_string(probe_end_name(why)));
	return PROBE_DONE;
}

const struct probe_ops probe_postgresql = {
    .name = "postgresql",
    .state_size = sizeof(struct pg_state),
    .max_rx = 1 + PG_MSG_MAX,
    .idle_ms = 5000,
    .total_ms = 10000,
    .max_conns = 2,
    .start = pg_start,
    .feed = pg_feed,
    .end = pg_end,
};
