/* SPDX-License-Identifier: MIT */
/*
 * Elasticsearch probe (docs/internals/PROBES.md, "Elasticsearch"): one GET / over HTTP. The root
 * document with cluster_name and version.number means the cluster answers without a password
 * (elasticsearch-no-auth: its indices can be read and deleted); 401 with the security realm
 * means security is on. OpenSearch answers the same way and is reported with its distribution.
 * Elasticsearch 8 serves HTTPS on the same port by default and closes a clear-text request
 * without a byte; an HTTPS reverse proxy in front of it (nginx, Apache httpd) answers one with
 * its 400 page for plain HTTP on a TLS port: a first connection that ends so, answers with a
 * TLS record or with such a page (parse_http_wants_tls) is followed by one over TLS (the
 * engine's, probe_tx.tls, as nas_admin.c does) with the same GET /, judged the same way; never
 * a third. The cluster is said open only on its whole root document: a body cut short (at the
 * close or at the probe's bound) leaves the question undecided. Nothing but GET / is sent.
 */
#include "probes/probe.h"
#include "probes/parse/es_parse.h"

#include <stdio.h>
#include <string.h>

#define QUESTION "elasticsearch-no-auth"

/* What the clear-text connection got that sent the probe to TLS. */
enum es_plain { PLAIN_CLOSED = 0, PLAIN_TLS_RECORD, PLAIN_REFUSED };

struct es_state {
	bool tls;                /* this connection speaks TLS */
	bool tls_up;             /* its handshake completed (start() was called on it) */
	enum es_plain plain_end; /* how the clear-text connection ended, before TLS */
	bool any_bytes;
	bool have_head;
	bool reported;
	bool to_close; /* a clear-text 400 without a length: read on to the close (es_feed) */
	struct es_http h;
	struct es_info info;
	bool have_body; /* a well-formed JSON body */
	const char *other;
	const char *problem;
	char first[80];
};

static const char get_root[] = "GET / HTTP/1.1\r\n"
                               "Host: elasticsearch\r\n"
                               "User-Agent: exposure-selfcheck\r\n"
                               "Accept: application/json\r\n"
                               "Connection: close\r\n\r\n";

static int es_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct es_state *s = state;

	(void)conn, (void)out;
	s->tls_up = s->tls;
	/* If this connection asks for a reconnect, the next one speaks TLS (end() has no tx). */
	tx->tls = !s->tls;
	return probe_tx_put(tx, get_root, sizeof(get_root) - 1) < 0 ? -ERR_TOOBIG : PROBE_MORE;
}

/* Clear text met a TLS port: everything again over TLS, once (tx.tls set by es_start). */
static int to_tls(struct es_state *s, enum es_plain plain_end)
{
	memset(s, 0, sizeof(*s));
	s->tls = true;
	s->plain_end = plain_end;
	return PROBE_RECONNECT;
}

/* The markers that make an HTTP answer Elasticsearch's (or OpenSearch's). */
static bool is_es(const struct es_state *s)
{
	const struct es_info *i = &s->info;

	if (parse_contains_ci(s->h.product, "elasticsearch"))
		return true;
	if (s->have_body && i->has_cluster_name && i->has_version)
		return true;
	if (s->have_body && strcmp(i->tagline, "You Know, for Search") == 0)
		return true;
	if (s->h.status == 401 && parse_contains_ci(s->h.www_auth, "realm=\"security\""))
		return true;
	return s->have_body && strcmp(i->error_type, "security_exception") == 0;
}

static void put_text(struct probe_result *out, const char *key, const char *v)
{
	if (v[0])
		probe_detail_set(out, key, json_string(v));
}

static void details(const struct es_state *s, struct probe_result *out)
{
	probe_detail_set(out, "status", json_integer(s->h.status));
	put_text(out, "www_authenticate", s->h.www_auth);
	put_text(out, "server", s->h.server);
	if (!s->have_body)
		return; /* members of a body cut short are not reported: perhaps cut themselves */
	put_text(out, "cluster_name", s->info.cluster_name);
	put_text(out, "node_name", s->info.name);
	put_text(out, "version", s->info.version);
	put_text(out, "distribution", s->info.distribution);
	put_text(out, "build_flavor", s->info.build_flavor);
	put_text(out, "error_type", s->info.error_type);
}

static void report_es(const struct es_state *s, struct probe_result *out)
{
	char why[FINDING_REASON_MAX];

	out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "elasticsearch");
	details(s, out);
	/* The root document is conclusive only whole (a well-formed object): Elasticsearch sends
	 * its ~500 bytes with a Content-Length, so a body cut short is not that document, whatever
	 * members its start held. A 401 or 403 is conclusive from the head alone. */
	if (s->h.status == 200 && s->have_body && s->info.has_cluster_name) {
		probe_detail_set(out, "auth", json_string("none"));
		snprintf(why, sizeof(why),
		         "GET /%s answered with the cluster's details without a password (%.20s "
		         "%.24s, cluster \"%.28s\")",
		         s->tls ? " over TLS" : "",
		         s->info.distribution[0] ? s->info.distribution : "Elasticsearch",
		         s->info.version[0] ? s->info.version : "version unknown",
		         s->info.cluster_name);
		probe_add_finding(out, QUESTION, SEVERITY_CRITICAL, CONFIDENCE_CONFIRMED, why);
	} else if (s->h.status == 401 || s->h.status == 403) {
		/* 403: an anonymous user exists but may not read the cluster */
		probe_detail_set(out, "auth", json_string("required"));
		probe_answer(out, QUESTION, PROBE_ANSWER_NO);
	} else if (s->problem) {
		snprintf(why, sizeof(why), "could not check: GET / answered HTTP %u, then %s",
		         s->h.status, s->problem);
		probe_undecided(out, QUESTION, why);
	} else {
		snprintf(why, sizeof(why), "could not check: GET / answered HTTP %u%s", s->h.status,
		         s->h.status == 200 ? " without the cluster's root document" : "");
		probe_undecided(out, QUESTION, why);
	}
}

static void report(struct es_state *s, struct probe_result *out)
{
	if (s->reported)
		return;
	s->reported = true;
	if (s->tls)
		probe_detail_set(out, "tls", json_true());
	if (s->have_head && is_es(s)) {
		report_es(s, out);
	} else if (s->have_head) {
		out->state = SERVICE_OTHER;
		snprintf(out->service, sizeof(out->service), "http");
		details(s, out);
	} else if (s->other) {
		probe_other_line(out, s->other, s->first);
	} else if (s->problem) {
		out->state = SERVICE_PROTOCOL_ERROR;
		snprintf(out->service, sizeof(out->service), "http");
	}
	if (s->problem)
		probe_detail_set(out, "reason", json_string(s->problem));
}

/* The body from the head's end: whole when Content-Length says so; without one, as soon as the
 * JSON object is complete (Connection: close ends it anyway). */
static int body(struct es_state *s, const uint8_t *buf, size_t len)
{
	const uint8_t *b = buf + s->h.head_len;
	size_t n = len - s->h.head_len;
	int r;

	if (s->h.chunked) {
		s->problem = "a chunked body (not read)";
		return 1;
	}
	if (s->h.has_length) {
		if (n < s->h.content_length)
			return PARSE_AGAIN;
		n = s->h.content_length;
	}
	r = es_parse_body(b, n, &s->info);
	if (r == PARSE_AGAIN && !s->h.has_length)
		return n > ES_BODY_MAX ? -ERR_TOOBIG : PARSE_AGAIN;
	s->have_body = r > 0;
	return 1;
}

static int es_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                   struct probe_tx *tx, struct probe_result *out)
{
	struct es_state *s = state;
	int r;

	(void)tx;
	*consumed = 0; /* the head and body are read from buf whole, once complete */
	s->any_bytes = s->any_bytes || len > 0;
	r = es_parse_head(buf, len, &s->h);
	if (r == PARSE_AGAIN || (r == -ERR_SYNTAX && probe_other_partial(buf, len)))
		return PROBE_MORE;
	if (r < 0) {
		if (r == -ERR_SYNTAX && !s->tls && probe_other_service(buf, len) != NULL &&
		    strcmp(probe_other_service(buf, len), "tls") == 0)
			return to_tls(s, PLAIN_TLS_RECORD); /* a TLS alert to clear text */
		if (r == -ERR_SYNTAX) {
			s->other = probe_other_service(buf, len);
			s->other = s->other ? s->other : "";
			probe_first_line(s->first, sizeof(s->first), buf, len);
		} else {
			s->problem = r == -ERR_TOOBIG ? "an HTTP answer larger than the probe reads"
			                              : "a malformed HTTP answer";
		}
		report(s, out);
		return PROBE_DONE;
	}
	s->have_head = true;
	/* A TLS port's refusal of clear text (a proxy's 400 page): its text may follow the head,
	 * so every feed looks again while body() waits for the Content-Length. */
	if (!s->tls && s->h.status == 400 && parse_http_wants_tls(buf, len))
		return to_tls(s, PLAIN_REFUSED);
	r = body(s, buf, len);
	if (r == PARSE_AGAIN)
		return PROBE_MORE;
	/* Without a length the refusal's text may still be coming (Go's page has none): the page
	 * is read to the close, which ends it, and judged then (es_end). */
	if (r > 0 && !s->tls && s->h.status == 400 && !s->h.has_length && !s->h.chunked) {
		s->to_close = true;
		return PROBE_MORE;
	}
	if (r < 0)
		s->problem = "an HTTP body larger than the probe reads";
	report(s, out);
	return PROBE_DONE;
}

/* No byte on this connection: the clear-text one, or the TLS one that followed it. */
static int no_answer(const struct es_state *s, enum probe_end why, struct probe_result *out)
{
	const char *note;

	probe_no_bytes(out, why);
	if (!s->tls)
		return PROBE_DONE;
	probe_detail_set(out, "tls", json_boolean(s->tls_up));
	if (s->tls_up) {
		note = "TLS handshake completed, then no answer to GET / over it";
	} else if (s->plain_end == PLAIN_TLS_RECORD) {
		out->state = SERVICE_OTHER;
		snprintf(out->service, sizeof(out->service), "tls");
		note = "answered clear text with a TLS record, then failed the TLS handshake";
	} else if (s->plain_end == PLAIN_REFUSED) {
		/* a page saying "TLS only", yet no TLS: not Elasticsearch, nothing known */
		out->state = SERVICE_OTHER;
		snprintf(out->service, sizeof(out->service), "http");
		note = "answered clear text with HTTP 400 asking for TLS, then failed the TLS "
		       "handshake";
	} else {
		out->state = SERVICE_TCPWRAPPED;
		note = "closed clear text without a byte, then failed the TLS handshake";
	}
	probe_detail_set(out, "note", json_string(note));
	return PROBE_DONE;
}

static int es_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct es_state *s = state;

	if (!s->any_bytes) {
		/* Elasticsearch 8 with TLS on its HTTP port closes a clear-text request at once. */
		if (!s->tls && (why == PROBE_END_CLOSED || why == PROBE_END_RESET))
			return to_tls(s, PLAIN_CLOSED);
		return no_answer(s, why, out);
	}
	if (s->to_close) {
		report(s, out); /* a clear-text 400 read to its end, no refusal in it */
		return PROBE_DONE;
	}
	if (!s->have_head)
		s->problem = probe_end_name(why);
	else if (why == PROBE_END_TOOBIG)
		s->problem = "an HTTP body larger than the probe reads";
	else if (s->h.has_length)
		s->problem = "the body ended before its Content-Length";
	else
		s->problem = "the body ended before its JSON object";
	report(s, out);
	return PROBE_DONE;
}

const struct probe_ops probe_elasticsearch = {
    .name = "elasticsearch",
    .state_size = sizeof(struct es_state),
    .max_rx = ES_HEAD_MAX + ES_BODY_MAX,
    .idle_ms = 5000,
    .total_ms = 10000,
    .max_conns = 2, /* clear text, then TLS */
    .start = es_start,
    .feed = es_feed,
    .end = es_end,
};
