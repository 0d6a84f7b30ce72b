/* SPDX-License-Identifier: MIT */
/*
 * NAS admin page probe (docs/internals/PROBES.md, "NAS admin pages"): is the port a Synology DSM
 * or QNAP QTS administration page? One HTTP/1.0 GET per connection (Connection: close, so the
 * response ends when the server closes), on the ports the operator chose (5000, 5001, 8080,
 * 443 by default), over plain HTTP first and over TLS when the port answers plain HTTP with a
 * TLS record or a "plain HTTP to an HTTPS port" page (the engine does TLS, probe_tx.tls):
 *   GET /                        -> DSM's login page markers;
 *   GET /cgi-bin/authLogin.cgi   -> QNAP's public QDocRoot document (model, firmware), asked
 *                                   only when GET / was not DSM.
 * Nothing is posted and no login is tried; the model and firmware are what the pages announce.
 */
#include "probes/probe.h"
#include "probes/parse/nas_parse.h"

#include <stdio.h>
#include <string.h>

#define REQ_ROOT  "GET / HTTP/1.0\r\n"
#define REQ_QNAP  "GET /cgi-bin/authLogin.cgi HTTP/1.0\r\n"
#define REQ_HEADS "User-Agent: exposure-selfcheck\r\nAccept: */*\r\nConnection: close\r\n\r\n"

enum nas_step { STEP_ROOT = 0, STEP_QNAP };

struct nas_state {
	enum nas_step step;
	bool tls;       /* this connection (and the next) speaks TLS */
	bool tried_tls; /* TLS was asked for once: never twice */
	bool any_http;  /* an HTTP response was read on some connection */
	bool finished;
	unsigned conn;
	struct http_head head;
	struct nas_page page;
	uint8_t body[32768]; /* this connection's response, kept whole (or cut there) */
	size_t blen;
	unsigned root_status;
	char server[64];
};

static int nas_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct nas_state *s = state;
	const char *line = s->step == STEP_ROOT ? REQ_ROOT : REQ_QNAP;

	(void)out;
	s->conn = conn;
	s->blen = 0;
	/* If this connection ends without a byte, the next speaks TLS (a TLS port that closes on
	 * plain HTTP), once. */
	tx->tls = s->tls || !s->tried_tls;
	if (probe_tx_put(tx, line, strlen(line)) < 0 ||
	    probe_tx_put(tx, REQ_HEADS, strlen(REQ_HEADS)) < 0)
		return -ERR_TOOBIG;
	return PROBE_MORE;
}

static void report(struct nas_state *s, struct probe_result *out)
{
	char reason[FINDING_REASON_MAX];
	const struct nas_page *p = &s->page;

	s->finished = true;
	probe_detail_set(out, "tls", json_boolean(s->tls));
	if (s->server[0])
		probe_detail_set(out, "server", json_string(s->server));
	if (s->root_status)
		probe_detail_set(out, "status", json_integer(s->root_status));
	if (p->vendor == NAS_NONE) {
		if (s->any_http) {
			out->state = SERVICE_OTHER;
			snprintf(out->service, sizeof(out->service), "http");
		}
		return;
	}
	out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "nas-admin");
	if (p->vendor == NAS_SYNOLOGY) {
		probe_detail_set(out, "vendor", json_string("synology"));
		probe_detail_set(out, "product", json_string("DSM"));
		if (p->device_name[0])
			probe_detail_set(out, "device_name", json_string(p->device_name));
		probe_detail_set(out, "markers", json_integer(p->markers));
		snprintf(reason, sizeof(reason),
		         "Synology DSM login page%s%.48s%s (the page names "
		         "no model or firmware)",
		         p->device_name[0] ? " of \"" : "", p->device_name,
		         p->device_name[0] ? "\"" : "");
	} else {
		probe_detail_set(out, "vendor", json_string("qnap"));
		probe_detail_set(out, "product", json_string("QTS"));
		if (p->model[0])
			probe_detail_set(out, "model", json_string(p->model));
		if (p->firmware[0])
			probe_detail_set(out, "firmware", json_string(p->firmware));
		if (p->build[0])
			probe_detail_set(out, "build", json_string(p->build));
		snprintf(reason, sizeof(reason),
		         "QNAP QTS (model %.40s, firmware %.24s build %.16s)",
		         p->model[0] ? p->model : "?", p->firmware[0] ? p->firmware : "?",
		         p->build[0] ? p->build : "?");
	}
	probe_add_finding(out, "nas-admin-exposed", SEVERITY_HIGH, CONFIDENCE_CONFIRMED, reason);
}

/* Plain HTTP reached a TLS port: the same request again over TLS, once. */
static int to_tls(struct nas_state *s, struct probe_result *out)
{
	if (s->tls || s->tried_tls) {
		report(s, out);
		return PROBE_DONE;
	}
	s->tls = s->tried_tls = true;
	s->blen = 0;
	return PROBE_RECONNECT; /* tx.tls was set true by the feed or start that led here */
}

/*
 * Judge what this connection brought (a whole response, or all the server sent before it
 * closed): TLS wanted, DSM, QNAP, or another web server. The next connection's transport is in
 * tx.tls already (set by every start and feed, since end() has no tx).
 */
static int judge(struct nas_state *s, struct probe_result *out)
{
	int n;

	if (s->blen == 0)
		return s->step == STEP_ROOT ? to_tls(s, out) : (report(s, out), PROBE_DONE);
	n = http_parse_head(s->body, s->blen, &s->head);
	if (n <= 0) {
		if (parse_http_wants_tls(s->body, s->blen))
			return to_tls(s, out);
		if (!s->any_http && s->step == STEP_ROOT && !s->tls)
			(void)probe_other(out, s->body, s->blen);
		s->finished = true;
		if (s->any_http)
			report(s, out);
		return PROBE_DONE;
	}
	s->any_http = true;
	if (s->step == STEP_ROOT) {
		s->root_status = s->head.status;
		memcpy(s->server, s->head.server, sizeof(s->server));
		if (s->head.status == 400 && parse_http_wants_tls(s->body, s->blen))
			return to_tls(s, out);
	}
	nas_scan(s->body + n, s->blen - (size_t)n, &s->page);
	s->blen = 0;
	if (s->step == STEP_ROOT && s->page.vendor == NAS_NONE) {
		s->step = STEP_QNAP;
		return PROBE_RECONNECT;
	}
	report(s, out);
	return PROBE_DONE;
}

static int nas_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                    struct probe_tx *tx, struct probe_result *out)
{
	struct nas_state *s = state;
	size_t take = len < sizeof(s->body) - s->blen ? len : sizeof(s->body) - s->blen;
	int n;

	memcpy(s->body + s->blen, buf, take);
	s->blen += take;
	*consumed = len;
	/* The transport of a next connection: TLS if these bytes ask for it. */
	tx->tls = s->tls || (!s->tried_tls && parse_http_wants_tls(s->body, s->blen));
	if (s->blen < 3 && (s->body[0] == 0x15 || s->body[0] == 0x16))
		return PROBE_MORE; /* perhaps a TLS record: its header first */
	if (s->blen >= 3 && parse_http_wants_tls(s->body, 3))
		return judge(s, out);
	n = http_parse_head(s->body, s->blen, &s->head);
	if (n == PARSE_AGAIN && s->blen < sizeof(s->body))
		return PROBE_MORE;
	/* Complete when the body announced by Content-Length is here, or at the buffer's end;
	 * else at the close (end()). */
	if (n < 0 || s->blen == sizeof(s->body) ||
	    (s->head.has_length && s->blen - (size_t)n >= s->head.content_length))
		return judge(s, out);
	return PROBE_MORE;
}

static int nas_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct nas_state *s = state;

	if (s->finished)
		return PROBE_DONE;
	if (why == PROBE_END_DEADLINE || why == PROBE_END_CONNECT) {
		report(s, out);
		return PROBE_DONE;
	}
	return judge(s, out);
}

const struct probe_ops probe_nas_admin = {
    .name = "nas-admin",
    .state_size = sizeof(struct nas_state),
    .max_rx = 65536,
    .idle_ms = 3000,
    .total_ms = 10000,
    .max_conns = 4,
    .start = nas_start,
    .feed = nas_feed,
    .end = nas_end,
};
