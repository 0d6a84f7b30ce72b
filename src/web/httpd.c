/* SPDX-License-Identifier: MIT */
/*
 * The HTTP side (web.h, docs/api.md): libmicrohttpd daemons with an internal epoll thread pool,
 * routes, API handlers, server-sent events, the same-origin and CSRF checks, security headers.
 * Nothing here waits for a probe: an SSE stream with nothing new to say suspends its connection
 * and the loop thread resumes it (job_wake_locked).
 */
#include "web/web.h"
#include "web/admin.h"
#include "web/assets.h"
#include "core/err.h"
#include "catalogue/advice/advice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CSP                                                                                        \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "                \
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "             \
	"frame-ancestors 'none'"
#define CSRF_COOKIE     "exposure_csrf"
#define MAX_HEADER_JOIN 2048

struct req {
	char *body;
	size_t len;
	bool too_big;
};

/* ------------------------------------------------------------------------------------------ */
/* Responses.                                                                                  */

static void security_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Permissions-Policy", "interest-cohort=()");
}

static enum MHD_Result queue(struct web *w, struct MHD_Connection *c, unsigned code,
                             struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	security_headers(r);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	metrics_count_http(w, code);
	return ret;
}

static struct MHD_Response *text_response(const char *type, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

	if (!r) {
		free(body);
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", type);
	return r;
}

/* Send a JSON object (reference stolen); extra headers as name, value pairs, NULL-ended. */
static enum MHD_Result send_json(struct web *w, struct MHD_Connection *c, unsigned code, json_t *o,
                                 ...)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	struct MHD_Response *r;
	va_list ap;
	const char *n;

	json_decref(o);
	if (!s)
		return MHD_NO;
	r = text_response("application/json; charset=utf-8", s, strlen(s));
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Cache-Control", "no-store");
	va_start(ap, o);
	while ((n = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		MHD_add_response_header(r, n, v);
	}
	va_end(ap);
	return queue(w, c, code, r);
}

static enum MHD_Result send_error(struct web *w, struct MHD_Connection *c, unsigned code,
                                  const char *reason, const char *message)
{
	return send_json(w, c, code, json_pack("{s:s, s:s}", "reason", reason, "message", message),
	                 NULL);
}

static enum MHD_Result send_refusal(struct web *w, struct MHD_Connection *c,
                                    const struct target_decision *d, const char *addr)
{
	return send_json(w, c, 403,
	                 json_pack("{s:s, s:s, s:s, s:s, s:s}", "reason", d->code, "address", addr,
	                           "class", addr_class_name(d->cls), "message", d->why_en,
	                           "message_ja", d->why_ja),
	                 NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Who is asking.                                                                              */

struct join_ctx {
	const char *name;
	char buf[MAX_HEADER_JOIN];
	size_t len;
	bool seen, overflow;
};

static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
	struct join_ctx *j = cls;
	size_t n;

	(void)kind;
	if (!key || !value || strcasecmp(key, j->name) != 0)
		return MHD_YES;
	n = strlen(value);
	if (j->len + n + 3 > sizeof(j->buf)) {
		j->overflow = true;
		return MHD_NO;
	}
	if (j->seen) {
		memcpy(j->buf + j->len, ", ", 2);
		j->len += 2;
	}
	memcpy(j->buf + j->len, value, n);
	j->len += n;
	j->buf[j->len] = '\0';
	j->seen = true;
	return MHD_YES;
}

struct who {
	struct addr peer;
	struct addr requester;
	bool via_proxy;
	char text[ADDR_STRLEN];
	struct target_decision d;
	double rtt_ms; /* of the HTTP connection; -1 unknown */
};

/* Returns 0, or -ERR_SYNTAX (bad forwarding header), -ERR_UNSUPPORTED (no peer address). */
static int who_is_asking(struct web *w, struct MHD_Connection *c, struct who *out)
{
	const union MHD_ConnectionInfo *ci;
	struct join_ctx jc = {
	    .name = w->cfg.trust.header == PROXY_HDR_FORWARDED ? "Forwarded" : "X-Forwarded-For"};
	int r;

	memset(out, 0, sizeof(*out));
	out->rtt_ms = -1;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr || addr_from_sockaddr(ci->client_addr, &out->peer, NULL) < 0)
		return -ERR_UNSUPPORTED;
	if (trust_contains(&w->cfg.trust, &out->peer))
		MHD_get_connection_values(c, MHD_HEADER_KIND, join_header, &jc);
	if (jc.overflow)
		return -ERR_SYNTAX;
	r = requester_resolve(&w->cfg.trust, &out->peer, jc.seen ? jc.buf : NULL, &out->requester,
	                      &out->via_proxy);
	if (r < 0)
		return r;
	addr_format(&out->requester, out->text, sizeof(out->text));
	target_decide(&w->cfg.rules, &out->requester, &out->d);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		if (getsockopt(ci->connect_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
		    len >= offsetof(struct tcp_info, tcpi_rttvar))
			out->rtt_ms = ti.tcpi_rtt / 1000.0;
	}
	return 0;
}

/*
 * The per-attempt probe timeout for this requester: from the HTTP connection's smoothed RTT
 * when the connection is the requester's own (not a proxy's), else 0 (the engine adapts).
 */
static unsigned probe_timeout(const struct web *w, const struct who *who)
{
	double t;

	if (who->via_proxy || who->rtt_ms < 0)
		return 0;
	t = who->rtt_ms * w->cfg.rtt_factor + w->cfg.rtt_margin_ms;
	if (t < w->cfg.rtt_floor_ms)
		t = w->cfg.rtt_floor_ms;
	if (t > w->cfg.rtt_ceiling_ms)
		t = w->cfg.rtt_ceiling_ms;
	return (unsigned)t;
}

static bool wants_ja(struct MHD_Connection *c)
{
	return lang_prefers_ja(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language"));
}

/* ------------------------------------------------------------------------------------------ */
/* Same origin and CSRF.                                                                       */

static bool same_origin(struct web *w, struct MHD_Connection *c)
{
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");

	if (site && strcmp(site, "same-origin") != 0)
		return false;
	if (!origin)
		return true; /* not a browser, or an old one: the CSRF token still applies */
	if (w->cfg.origin)
		return strcmp(origin, w->cfg.origin) == 0;
	if (!host)
		return false;
	if (strncmp(origin, "http://", 7) == 0)
		return strcmp(origin + 7, host) == 0;
	if (strncmp(origin, "https://", 8) == 0)
		return strcmp(origin + 8, host) == 0;
	return false;
}

/* Shared with admin.c (admin.h). */
enum MHD_Result httpd_queue(struct web *w, struct MHD_Connection *c, unsigned code,
                            struct MHD_Response *r)
{
	return queue(w, c, code, r);
}

struct MHD_Response *httpd_text(const char *type, char *body, size_t len)
{
	return text_response(type, body, len);
}

enum MHD_Result httpd_error(struct web *w, struct MHD_Connection *c, unsigned code,
                            const char *reason, const char *message)
{
	return send_error(w, c, code, reason, message);
}

bool httpd_same_origin(struct web *w, struct MHD_Connection *c)
{
	return same_origin(w, c);
}

static bool csrf_ok(struct web *w, struct MHD_Connection *c)
{
	const char *hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	const char *cookies = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
	char cookie[CSRF_TOKEN_LEN + 2];

	if (!hdr || !cookies || !cookie_value(cookies, CSRF_COOKIE, cookie, sizeof(cookie)))
		return false;
	if (strcmp(cookie, hdr) != 0)
		return false;
	return csrf_verify(&w->csrf, hdr, store_now_ms());
}

/* ------------------------------------------------------------------------------------------ */
/* Handlers.                                                                                   */

static json_t *links(const char *id)
{
	char self[64], events[80], page[48];

	snprintf(self, sizeof(self), "/api/diagnoses/%s", id);
	snprintf(events, sizeof(events), "/api/diagnoses/%s/events", id);
	snprintf(page, sizeof(page), "/d/%s", id);
	return json_pack("{s:s, s:s, s:s}", "self", self, "events", events, "page", page);
}

static json_t *catalogue_json(struct web *w)
{
	size_t n;
	const struct check_def *defs = catalogue_checks(&n);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		struct check_ports p = catalogue_ports(w->cfg.ports_set ? &w->cfg.ports : NULL, i);
		char ports[16];

		if (p.first == p.last)
			snprintf(ports, sizeof(ports), "%u", p.first);
		else
			snprintf(ports, sizeof(ports), "%u-%u", p.first, p.last);
		json_array_append_new(a, json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s}",
		                                   "check", defs[i].name, "ports", ports, "label",
		                                   "en", defs[i].label_en, "ja", defs[i].label_ja,
		                                   "open", "en", defs[i].open_en, "ja",
		                                   defs[i].open_ja, "severity",
		                                   severity_name(defs[i].exposed_severity)));
	}
	return a;
}

static enum MHD_Result h_whoami(struct web *w, struct MHD_Connection *c)
{
	struct who who;
	char token[CSRF_TOKEN_LEN + 1], cookie[CSRF_TOKEN_LEN + 96];
	json_t *o;

	if (who_is_asking(w, c, &who) < 0)
		return send_error(w, c, 400, "forwarded",
		                  "The forwarding header from the trusted proxy is malformed.");
	csrf_issue(&w->csrf, store_now_ms(), token);
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; SameSite=Strict; HttpOnly%s", CSRF_COOKIE,
	         token, w->cfg.secure_cookie ? "; Secure" : "");
	o = json_pack("{s:s, s:s, s:s, s:b, s:s, s:b, s:s, s:s, s:s?, s:o, s:s}", "address",
	              who.text, "family", who.requester.family == AF_INET6 ? "ipv6" : "ipv4",
	              "class", addr_class_name(who.d.cls), "may_diagnose", who.d.allowed, "mode",
	              w->cfg.rules.public_mode ? "public" : "local", "via_proxy", who.via_proxy,
	              "csrf_token", token, "lang", wants_ja(c) ? "ja" : "en", "probe_source",
	              w->cfg.probe_source, "checks", catalogue_json(w), "reason", who.d.code);
	if (!who.d.allowed) {
		json_object_set_new(o, "message", json_string(who.d.why_en));
		json_object_set_new(o, "message_ja", json_string(who.d.why_ja));
	}
	if (who.rtt_ms >= 0)
		json_object_set_new(o, "rtt_ms", json_real(who.rtt_ms));
	json_object_set_new(o, "probe_timeout_ms", json_integer(probe_timeout(w, &who)));
	return send_json(w, c, 200, o, "Set-Cookie", cookie, "Vary", "Accept-Language", NULL);
}

static void retry_after(char *buf, size_t n, int64_t ms)
{
	int64_t s = (ms + 999) / 1000;

	snprintf(buf, n, "%lld", (long long)(s < 1 ? 1 : s));
}

static enum MHD_Result h_create(struct web *w, struct MHD_Connection *c, struct req *rq)
{
	struct who who;
	struct job *j, *other;
	char ra[24], token[STORE_TOKEN_LEN + 1], prefix[STORE_PREFIX_MAX], rhash[STORE_HASH_HEX];
	const char *lang = wants_ja(c) ? "ja" : "en";
	int64_t wait;
	int r;

	if (!same_origin(w, c)) {
		atomic_fetch_add(&w->m.refused_csrf, 1);
		return send_error(
		    w, c, 403, "origin",
		    "Cross-site request refused: start the diagnosis from this site's page.");
	}
	if (!csrf_ok(w, c)) {
		atomic_fetch_add(&w->m.refused_csrf, 1);
		return send_error(w, c, 403, "csrf",
		                  "Missing or stale page token: reload the page and try again.");
	}
	if (who_is_asking(w, c, &who) < 0)
		return send_error(w, c, 400, "forwarded",
		                  "The forwarding header from the trusted proxy is malformed.");
	if (!who.d.allowed) {
		atomic_fetch_add(&w->m.refused_policy, 1);
		return send_refusal(w, c, &who.d, who.text);
	}
	if (rq->len) {
		json_t *b = json_loadb(rq->body, rq->len, 0, NULL);
		const char *l = json_string_value(json_object_get(b, "lang"));

		if (!json_is_object(b)) {
			json_decref(b);
			return send_error(w, c, 400, "body", "The body must be a JSON object.");
		}
		if (l && (strcmp(l, "ja") == 0 || strcmp(l, "en") == 0))
			lang = strcmp(l, "ja") == 0 ? "ja" : "en";
		json_decref(b);
	}

	j = job_new(w);
	if (!j)
		return send_error(w, c, 503, "memory", "Out of memory.");
	j->requester = who.requester;
	snprintf(j->target, sizeof(j->target), "%s", who.text);
	snprintf(j->lang, sizeof(j->lang), "%s", lang);
	j->timeout_ms = probe_timeout(w, &who);
	j->created_ms = store_now_ms();

	/* One at a time per requester, and the bounded queue: reserve under the lock. */
	pthread_mutex_lock(&w->lock);
	other = active_find_locked(w, &who.requester);
	if (other) {
		char id[STORE_ID_LEN + 1];

		memcpy(id, other->id, sizeof(id));
		retry_after(ra, sizeof(ra), (int64_t)w->avg_run_ms);
		pthread_mutex_unlock(&w->lock);
		job_unref(w, j);
		atomic_fetch_add(&w->m.refused_busy, 1);
		return send_json(
		    w, c, 429,
		    json_pack("{s:s, s:s, s:s, s:o}", "reason", "one-at-a-time", "message",
		              "A diagnosis of your address is already running: wait for it "
		              "to finish.",
		              "active", id, "links", links(id)),
		    "Retry-After", ra, NULL);
	}
	if (w->stopping || w->q_len + w->reserved >= w->cfg.queue_max) {
		int64_t est =
		    (int64_t)((w->avg_run_ms ? w->avg_run_ms : 2000) * (double)(w->q_len + 1) /
		              (w->cfg.max_inflight ? w->cfg.max_inflight : 1));
		retry_after(ra, sizeof(ra), est);
		pthread_mutex_unlock(&w->lock);
		job_unref(w, j);
		atomic_fetch_add(&w->m.refused_busy, 1);
		return send_json(w, c, 429,
		                 json_pack("{s:s, s:s}", "reason", "busy", "message",
		                           "The service is busy: try again in a moment."),
		                 "Retry-After", ra, NULL);
	}
	active_add_locked(w, j);
	w->reserved++;
	pthread_mutex_unlock(&w->lock);

	wait = rate_limit_take(&w->rl, &who.requester, web_mono_ms());
	if (wait > 0) {
		retry_after(ra, sizeof(ra), wait);
		atomic_fetch_add(&w->m.refused_rate, 1);
		r = 429;
		goto unreserve;
	}
	store_random_id(j->id);
	store_random_token(token);
	store_token_hash(token, j->token_hash);
	store_requester_hash(&w->key, &who.requester, rhash);
	store_prefix(&who.requester, prefix, sizeof(prefix));
	r = store_create(w->store, &(struct store_new){
	                               .id = j->id,
	                               .token_hash = j->token_hash,
	                               .requester_hash = rhash,
	                               .prefix = prefix,
	                               .family = who.requester.family,
	                               .lang = lang,
	                               .created_ms = j->created_ms,
	                           });
	if (r < 0) {
		fprintf(stderr, "exposure serve: store_create: %s\n", err_str(r));
		r = 503;
		snprintf(ra, sizeof(ra), "5");
		goto unreserve;
	}
	job_enqueue(w, j);
	atomic_fetch_add(&w->m.created, 1);
	{
		json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:i}", "id", j->id, "delete_token",
		                      token, "status", "queued", "links", links(j->id),
		                      "probe_timeout_ms", (json_int_t)j->timeout_ms);
		char loc[64];

		snprintf(loc, sizeof(loc), "/api/diagnoses/%s", j->id);
		job_unref(w, j);
		return send_json(w, c, 202, o, "Location", loc, NULL);
	}

unreserve:
	pthread_mutex_lock(&w->lock);
	active_del_locked(w, j);
	w->reserved--;
	pthread_mutex_unlock(&w->lock);
	job_unref(w, j);
	if (r == 429)
		return send_json(
		    w, c, 429,
		    json_pack("{s:s, s:s}", "reason", "rate", "message",
		              "Too many diagnoses from your address or network: try again "
		              "later."),
		    "Retry-After", ra, NULL);
	return send_json(w, c, 503,
	                 json_pack("{s:s, s:s}", "reason", "store", "message",
	                           "The result store is not available: try again later."),
	                 "Retry-After", ra, NULL);
}

/* The diagnosis as JSON from a job in memory (under lock). */
static json_t *job_json_locked(struct web *w, struct job *j)
{
	json_t *checks = json_array();
	json_t *o;

	for (size_t i = 0; i < j->n_checks; i++) {
		json_t *cj;

		if (!j->check_json[i])
			continue;
		cj = json_loads(j->check_json[i], 0, NULL);
		if (cj)
			json_array_append_new(checks, cj);
	}
	o = json_pack("{s:s, s:s, s:I, s:i, s:i, s:o, s:o}", "id", j->id, "status",
	              store_status_name(j->status), "created_ms", (json_int_t)j->created_ms,
	              "checks_total", (json_int_t)j->n_checks, "checks_done", (json_int_t)j->n_done,
	              "checks", checks, "links", links(j->id));
	(void)w;
	if (j->started_ms)
		json_object_set_new(o, "started_ms", json_integer(j->started_ms));
	if (j->finished_ms)
		json_object_set_new(o, "finished_ms", json_integer(j->finished_ms));
	if (j->status == STORE_DONE) {
		json_object_set_new(o, "risk", json_string(j->risk));
		json_object_set_new(o, "result",
		                    j->doc ? json_loads(j->doc, 0, NULL) : json_null());
	}
	return o;
}

static json_t *stored_json(struct store_diagnosis *sd)
{
	json_t *doc = sd->json ? json_loads(sd->json, 0, NULL) : NULL;
	json_t *checks = doc ? json_object_get(doc, "checks") : NULL;
	json_t *o;

	o = json_pack("{s:s, s:s, s:I, s:o, s:o}", "id", sd->id, "status",
	              store_status_name(sd->status), "created_ms", (json_int_t)sd->created_ms,
	              "checks", checks ? json_incref(checks) : json_array(), "links",
	              links(sd->id));
	json_object_set_new(
	    o, "checks_total",
	    json_integer((json_int_t)json_array_size(json_object_get(o, "checks"))));
	json_object_set_new(
	    o, "checks_done",
	    json_integer((json_int_t)json_array_size(json_object_get(o, "checks"))));
	if (sd->started_ms)
		json_object_set_new(o, "started_ms", json_integer(sd->started_ms));
	if (sd->finished_ms)
		json_object_set_new(o, "finished_ms", json_integer(sd->finished_ms));
	if (sd->status == STORE_DONE) {
		json_object_set_new(o, "risk", json_string(sd->risk));
		json_object_set_new(o, "result", doc ? doc : json_null());
	} else {
		json_decref(doc);
	}
	return o;
}

static enum MHD_Result h_get(struct web *w, struct MHD_Connection *c, const char *id)
{
	struct store_diagnosis sd;
	struct job *j;
	json_t *o;
	int r;

	pthread_mutex_lock(&w->lock);
	j = job_find_locked(w, id);
	if (j && !j->deleted) {
		o = job_json_locked(w, j);
		pthread_mutex_unlock(&w->lock);
		return send_json(w, c, 200, o, NULL);
	}
	pthread_mutex_unlock(&w->lock);
	if (j)
		return send_error(w, c, 404, "not-found", "No such diagnosis.");
	r = store_get(w->store, id, &sd);
	if (r < 0)
		return send_error(w, c, 404, "not-found", "No such diagnosis.");
	o = stored_json(&sd);
	store_diagnosis_done(&sd);
	return send_json(w, c, 200, o, NULL);
}

static enum MHD_Result h_delete(struct web *w, struct MHD_Connection *c, const char *id)
{
	const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Delete-Token");
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	struct job *j;
	int r;

	if (!same_origin(w, c))
		return send_error(w, c, 403, "origin", "Cross-site request refused.");
	if (!token && auth && strncmp(auth, "Bearer ", 7) == 0)
		token = auth + 7;
	if (!token)
		return send_error(w, c, 401, "token",
		                  "The delete token is missing (X-Delete-Token header).");
	r = store_delete(w->store, id, token);
	if (r == -ENOENT)
		return send_error(w, c, 404, "not-found", "No such diagnosis.");
	if (r == -EACCES)
		return send_error(w, c, 403, "token", "Wrong delete token.");
	if (r < 0)
		return send_error(w, c, 503, "store", "The result store is not available.");
	pthread_mutex_lock(&w->lock);
	j = job_find_locked(w, id);
	if (j) {
		j->deleted = true;
		job_wake_locked(j);
	}
	pthread_mutex_unlock(&w->lock);
	atomic_fetch_add(&w->m.deleted, 1);
	{
		struct MHD_Response *resp =
		    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

		return queue(w, c, 204, resp);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Server-sent events.                                                                         */

struct sse {
	struct web *w;
	struct job *job;
	struct MHD_Connection *conn;
	size_t next;     /* events of job->order sent */
	int sent_status; /* last status announced, -1 none */
	bool ended;
	char *buf;
	size_t len, off, cap;
};

static int sse_put(struct sse *s, const char *event, const char *data)
{
	size_t need = strlen(event) + strlen(data) + 20;

	if (s->len + need > s->cap) {
		size_t cap = (s->len + need) * 2;
		char *nb = realloc(s->buf, cap);

		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap = cap;
	}
	s->len += (size_t)snprintf(s->buf + s->len, s->cap - s->len, "event: %s\ndata: %s\n\n",
	                           event, data);
	return 0;
}

/* Under w->lock: append what is new. */
static void sse_collect_locked(struct sse *s)
{
	struct job *j = s->job;
	char small[128];

	if (s->ended)
		return;
	if (j->deleted) {
		sse_put(s, "deleted", "{}");
		s->ended = true;
		return;
	}
	if ((int)j->status != s->sent_status && j->status != STORE_DONE) {
		snprintf(small, sizeof(small), "{\"status\":\"%s\"}", store_status_name(j->status));
		sse_put(s, "status", small);
		s->sent_status = (int)j->status;
	}
	while (s->next < j->n_done) {
		size_t i = j->order[s->next++];
		const char *cj = j->check_json[i];
		size_t n = strlen(cj) + 64;
		char *d = malloc(n);

		if (!d)
			break;
		snprintf(d, n, "{\"index\":%zu,\"check\":%s}", i, cj);
		sse_put(s, "check", d);
		free(d);
	}
	if (j->status == STORE_DONE || j->status == STORE_INTERRUPTED) {
		snprintf(small, sizeof(small), "{\"status\":\"%s\",\"risk\":\"%s\"}",
		         store_status_name(j->status), j->risk);
		sse_put(s, "done", small);
		s->ended = true;
	}
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	struct web *w = s->w;
	size_t n;

	(void)pos;
	if (s->off == s->len) {
		s->off = s->len = 0;
		pthread_mutex_lock(&w->lock);
		if (w->stopping) {
			pthread_mutex_unlock(&w->lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		sse_collect_locked(s);
		if (s->len == 0) {
			struct waiter *wt;

			if (s->ended) {
				pthread_mutex_unlock(&w->lock);
				return MHD_CONTENT_READER_END_OF_STREAM;
			}
			wt = malloc(sizeof(*wt));
			if (!wt) {
				pthread_mutex_unlock(&w->lock);
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			wt->conn = s->conn;
			wt->next = s->job->waiters;
			s->job->waiters = wt;
			MHD_suspend_connection(s->conn);
			pthread_mutex_unlock(&w->lock);
			return 0;
		}
		pthread_mutex_unlock(&w->lock);
	}
	n = s->len - s->off;
	if (n > max)
		n = max;
	memcpy(buf, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse *s = cls;

	job_unref(s->w, s->job);
	free(s->buf);
	free(s);
}

static enum MHD_Result h_events(struct web *w, struct MHD_Connection *c, const char *id)
{
	struct MHD_Response *r;
	struct job *j;
	struct sse *s;

	pthread_mutex_lock(&w->lock);
	j = job_find_locked(w, id);
	if (j)
		job_ref_locked(j);
	pthread_mutex_unlock(&w->lock);
	if (!j) {
		/* Not in memory any more: one final event from the store. */
		struct store_diagnosis sd;
		char *body;

		if (store_get(w->store, id, &sd) < 0)
			return send_error(w, c, 404, "not-found", "No such diagnosis.");
		if (asprintf(&body, "event: done\ndata: {\"status\":\"%s\",\"risk\":\"%s\"}\n\n",
		             store_status_name(sd.status), sd.risk) < 0)
			body = NULL;
		store_diagnosis_done(&sd);
		if (!body)
			return MHD_NO;
		r = text_response("text/event-stream", body, strlen(body));
		if (r)
			MHD_add_response_header(r, "Cache-Control", "no-store");
		return queue(w, c, 200, r);
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		job_unref(w, j);
		return MHD_NO;
	}
	*s = (struct sse){.w = w, .job = j, .conn = c, .sent_status = -1};
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
	if (!r) {
		sse_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return queue(w, c, 200, r);
}

void httpd_wake_all_locked(struct web *w)
{
	for (size_t b = 0; b < WEB_HBUCKETS; b++)
		for (struct job *j = w->table[b]; j; j = j->hnext)
			job_wake_locked(j);
}

/* ------------------------------------------------------------------------------------------ */
/* Static files.                                                                               */

static const struct web_asset *asset(const char *path)
{
	for (size_t i = 0; i < web_n_assets; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			return &web_assets[i];
	return NULL;
}

static enum MHD_Result h_page(struct web *w, struct MHD_Connection *c)
{
	const struct web_asset *a = asset("/index.html");
	const char *lang = wants_ja(c) ? "ja" : "en";
	struct MHD_Response *r;
	char *body, *p;

	if (!a)
		return send_error(w, c, 500, "internal", "The page is missing from this build.");
	body = malloc(a->len + 1);
	if (!body)
		return MHD_NO;
	memcpy(body, a->data, a->len);
	body[a->len] = '\0';
	/* The page's lang attribute follows Accept-Language before any script runs. */
	p = strstr(body, "lang=\"en\"");
	if (p)
		memcpy(p + 6, lang, 2);
	r = text_response(a->type, body, a->len);
	if (r) {
		MHD_add_response_header(r, "Cache-Control", "no-cache");
		MHD_add_response_header(r, "Vary", "Accept-Language");
	}
	return queue(w, c, 200, r);
}

static enum MHD_Result h_asset(struct web *w, struct MHD_Connection *c, const struct web_asset *a)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);

	if (r) {
		MHD_add_response_header(r, "Content-Type", a->type);
		MHD_add_response_header(r, "Cache-Control", "no-cache");
	}
	return queue(w, c, 200, r);
}

/* Every advice text of one language, by finding id: the page shows them next to findings. */
static enum MHD_Result h_advice(struct web *w, struct MHD_Connection *c)
{
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lang");
	enum lang lang = wants_ja(c) ? LANG_JA : LANG_EN;
	const struct advice *all;
	json_t *map = json_object();
	size_t n;

	if (q && lang_choose(q, &lang) < 0)
		lang = LANG_EN;
	all = advice_all(lang, &n);
	for (size_t i = 0; i < n; i++)
		json_object_set_new(map, all[i].id, advice_json(&all[i]));
	return send_json(w, c, 200, json_pack("{s:s, s:o}", "lang", lang_name(lang), "advice", map),
	                 NULL);
}

static enum MHD_Result h_metrics(struct web *w, struct MHD_Connection *c)
{
	char *s = metrics_render(w);

	if (!s)
		return MHD_NO;
	return queue(w, c, 200,
	             text_response("text/plain; version=0.0.4; charset=utf-8", s, strlen(s)));
}

static enum MHD_Result h_health(struct web *w, struct MHD_Connection *c)
{
	bool stopping;

	pthread_mutex_lock(&w->lock);
	stopping = w->stopping;
	pthread_mutex_unlock(&w->lock);
	return send_json(w, c, stopping ? 503 : 200,
	                 json_pack("{s:s, s:s}", "status", stopping ? "stopping" : "ok", "store",
	                           store_backend(w->store)),
	                 NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Dispatch.                                                                                   */

static enum MHD_Result method_not_allowed(struct web *w, struct MHD_Connection *c,
                                          const char *allow)
{
	return send_json(
	    w, c, 405,
	    json_pack("{s:s, s:s}", "reason", "method", "message", "Method not allowed."), "Allow",
	    allow, NULL);
}

/* "/api/diagnoses/ID" or ".../ID/events": copy ID, set *events. */
static bool diag_path(const char *url, char id[STORE_ID_LEN + 1], bool *events)
{
	const char *p = url + strlen("/api/diagnoses/");
	size_t n = strcspn(p, "/");

	if (n != STORE_ID_LEN)
		return false;
	memcpy(id, p, n);
	id[n] = '\0';
	if (!store_id_valid(id))
		return false;
	if (p[n] == '\0') {
		*events = false;
		return true;
	}
	if (strcmp(p + n, "/events") == 0) {
		*events = true;
		return true;
	}
	return false;
}

static enum MHD_Result route(struct web *w, struct MHD_Connection *c, const char *url,
                             const char *method, struct req *rq)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	char id[STORE_ID_LEN + 1];
	bool events;
	const struct web_asset *a;

	if (strcmp(url, "/api/diagnoses") == 0) {
		if (strcmp(method, "POST") != 0)
			return method_not_allowed(w, c, "POST");
		return h_create(w, c, rq);
	}
	if (strncmp(url, "/api/diagnoses/", 15) == 0) {
		if (!diag_path(url, id, &events))
			return send_error(w, c, 404, "not-found", "No such diagnosis.");
		if (events)
			return get ? h_events(w, c, id) : method_not_allowed(w, c, "GET");
		if (get)
			return h_get(w, c, id);
		if (strcmp(method, "DELETE") == 0)
			return h_delete(w, c, id);
		return method_not_allowed(w, c, "GET, DELETE");
	}
	if (strcmp(url, "/admin") == 0 || strncmp(url, "/admin/", 7) == 0)
		return admin_route(w, c, url, method, rq->body, rq->len);
	if (!get)
		return method_not_allowed(w, c, "GET");
	if (strcmp(url, "/api/whoami") == 0)
		return h_whoami(w, c);
	if (strcmp(url, "/api/advice") == 0)
		return h_advice(w, c);
	if (strcmp(url, "/healthz") == 0)
		return h_health(w, c);
	if (strcmp(url, "/metrics") == 0)
		return h_metrics(w, c);
	if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
		return h_page(w, c);
	if (strncmp(url, "/d/", 3) == 0 && strlen(url + 3) == STORE_ID_LEN &&
	    store_id_valid(url + 3))
		return h_page(w, c);
	a = asset(url);
	if (a && strcmp(url, "/index.html") != 0)
		return h_asset(w, c, a);
	return send_error(w, c, 404, "not-found", "Not found.");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct web *w = cls;
	struct req *rq = *con_cls;

	(void)version;
	if (!rq) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		if (cl && strtoull(cl, NULL, 10) > w->cfg.max_body)
			return send_error(w, c, 413, "too-large", "Request body too large.");
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!rq->too_big && rq->len + *upload_data_size <= w->cfg.max_body) {
			char *nb = realloc(rq->body, rq->len + *upload_data_size + 1);

			if (!nb)
				return MHD_NO;
			rq->body = nb;
			memcpy(rq->body + rq->len, upload_data, *upload_data_size);
			rq->len += *upload_data_size;
			rq->body[rq->len] = '\0';
		} else {
			rq->too_big = true;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return send_error(w, c, 413, "too-large", "Request body too large.");
	return route(w, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (!rq)
		return;
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

static int parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[ADDR_STRLEN + 2];
	const char *colon = strrchr(text, ':');
	struct addr a;
	char *end;
	unsigned long port;
	size_t n;

	if (!colon)
		return -ERR_SYNTAX;
	n = (size_t)(colon - text);
	if (n == 0 || n >= sizeof(host))
		return -ERR_SYNTAX;
	memcpy(host, text, n);
	host[n] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port > 65535)
		return -ERR_SYNTAX;
	if (addr_parse(host, &a) < 0)
		return -ERR_SYNTAX;
	*len = addr_to_sockaddr(&a, (uint16_t)port, ss);
	return 0;
}

int httpd_start(struct web *w)
{
	for (size_t i = 0; i < w->cfg.n_listen; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		unsigned flags =
		    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
		const union MHD_DaemonInfo *di;
		struct MHD_Daemon *d;

		if (parse_listen(w->cfg.listen[i], &ss, &len) < 0) {
			fprintf(stderr, "exposure serve: bad --listen %s (ADDR:PORT)\n",
			        w->cfg.listen[i]);
			return -ERR_SYNTAX;
		}
		if (ss.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, &ss,
		                     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)w->cfg.threads,
		                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)w->cfg.conn_timeout_s,
		                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)w->cfg.conn_memory,
		                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)w->cfg.conn_limit,
		                     MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		                     (unsigned)w->cfg.per_ip_conn_limit,
		                     MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_END);
		if (!d) {
			fprintf(stderr, "exposure serve: cannot listen on %s: %s\n",
			        w->cfg.listen[i], strerror(errno ? errno : EADDRINUSE));
			return -EADDRINUSE;
		}
		w->daemons[w->n_daemons++] = d;
		di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
		if (di) {
			struct sockaddr_storage b;
			socklen_t bl = sizeof(b);
			struct addr a;
			uint16_t port = 0;
			char text[ADDR_STRLEN];

			if (getsockname(di->listen_fd, (struct sockaddr *)&b, &bl) == 0 &&
			    addr_from_sockaddr((struct sockaddr *)&b, &a, &port) == 0) {
				addr_format(&a, text, sizeof(text));
				printf(a.family == AF_INET6 ? "listening on http://[%s]:%u/\n"
				                            : "listening on http://%s:%u/\n",
				       text, port);
				fflush(stdout);
			}
		}
	}
	return 0;
}

void httpd_stop(struct web *w)
{
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	httpd_wake_all_locked(w);
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < w->n_daemons; i++)
		MHD_stop_daemon(w->daemons[i]);
	w->n_daemons = 0;
}
