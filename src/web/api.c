/* SPDX-License-Identifier: MIT */
/*
 * The JSON API (httpd.h, docs/api.md): who is asking, start a diagnosis, read one, delete one,
 * the advice texts. A diagnosis is served from the strings the loop thread serialised once (a
 * job in memory) or from the stored document's bytes (json_scan.h): a GET never parses a
 * document and never builds one under web->lock.
 */
#include "web/httpd.h"
#include "web/devclass.h"
#include "web/body.h"
#include "web/json_scan.h"
#include "web/pending.h"
#include "catalogue/advice/advice.h"
#include "core/err.h"
#include "core/sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CSRF_COOKIE     "exposure_csrf"
#define API_DOC_MAX     (16u << 20) /* one diagnosis as JSON: a few KiB in practice */
#define RETRY_AFTER_LEN 24

/* ------------------------------------------------------------------------------------------ */
/* Pieces of responses.                                                                        */

static json_t *links(const char *id)
{
	char self[64], events[80], page[48];

	snprintf(self, sizeof(self), "/api/diagnoses/%s", id);
	snprintf(events, sizeof(events), "/api/diagnoses/%s/events", id);
	snprintf(page, sizeof(page), "/d/%s", id);
	return json_pack("{s:s, s:s, s:s}", "self", self, "events", events, "page", page);
}

/* The checks every diagnosis of this service runs (its profile), with their effective ports. */
static json_t *catalogue_json(struct web *w)
{
	size_t n;
	const struct check_def *defs = catalogue_checks(&n);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		struct check_ports p = catalogue_ports(w->cfg.ports_set ? &w->cfg.ports : NULL, i);
		char ports[CHECK_PORTS_TEXT_MAX];

		if (!checks_has(w->cfg.checks, i))
			continue;
		check_ports_text(p, ports, sizeof(ports));
		json_array_append_new(
		    a,
		    json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:s}", "check",
		              defs[i].name, "ports", ports, "label", "en", defs[i].label_en, "ja",
		              defs[i].label_ja, "open", "en", defs[i].open_en, "ja",
		              defs[i].open_ja, "severity", severity_name(defs[i].exposed_severity),
		              "transport", transport_name(defs[i].transport)));
	}
	return a;
}

static void retry_after(char buf[RETRY_AFTER_LEN], int64_t ms)
{
	int64_t s = (ms + 999) / 1000;

	snprintf(buf, RETRY_AFTER_LEN, "%lld", (long long)(s < 1 ? 1 : s));
}

static enum MHD_Result bad_forwarding(struct web *w, struct MHD_Connection *c)
{
	return httpd_error(w, c, 400, "forwarded",
	                   "The forwarding header from the trusted proxy is malformed.");
}

static enum MHD_Result refusal(struct web *w, struct MHD_Connection *c, const struct requester *r)
{
	return httpd_json(w, c, 403,
	                  json_pack("{s:s, s:s, s:s, s:s, s:s}", "reason", r->d.code, "address",
	                            r->text, "class", addr_class_name(r->d.cls), "message",
	                            r->d.why_en, "message_ja", r->d.why_ja),
	                  NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/whoami                                                                             */

/* {"v4": "https://NAME", "v6": ...}: where the page takes its address tickets, with the scheme
 * of the main origin. */
static json_t *family_hosts_json(struct web *w)
{
	const char *scheme =
	    w->cfg.origin && strncmp(w->cfg.origin, "https://", 8) == 0 ? "https" : "http";
	json_t *o = json_object();
	char url[HOSTCHECK_NAME_MAX + 16];

	if (w->cfg.v4_host) {
		snprintf(url, sizeof(url), "%s://%s", scheme, w->cfg.v4_host);
		json_object_set_new(o, "v4", json_string(url));
	}
	if (w->cfg.v6_host) {
		snprintf(url, sizeof(url), "%s://%s", scheme, w->cfg.v6_host);
		json_object_set_new(o, "v6", json_string(url));
	}
	return o;
}

enum MHD_Result api_whoami(struct web *w, struct MHD_Connection *c)
{
	struct requester who;
	char token[CSRF_TOKEN_LEN + 1], cookie[CSRF_TOKEN_LEN + 96];
	json_t *o;

	if (requester_identify(c, &w->cfg.trust, &w->cfg.rules, &who) < 0)
		return bad_forwarding(w, c);
	csrf_issue(&w->csrf, store_now_ms(), token);
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; SameSite=Strict; HttpOnly%s", CSRF_COOKIE,
	         token, w->cfg.secure_cookie ? "; Secure" : "");
	o = json_pack("{s:s, s:s, s:s, s:b, s:s, s:b, s:s, s:s, s:s?, s:o, s:s}", "address",
	              who.text, "family", who.addr.family == AF_INET6 ? "ipv6" : "ipv4", "class",
	              addr_class_name(who.d.cls), "may_diagnose", who.d.allowed, "mode",
	              w->cfg.rules.public_mode ? "public" : "local", "via_proxy", who.via_proxy,
	              "csrf_token", token, "lang", lang_name(httpd_lang(c)), "probe_source",
	              w->cfg.probe_source, "checks", catalogue_json(w), "reason", who.d.code);
	if (!who.d.allowed) {
		json_object_set_new(o, "message", json_string(who.d.why_en));
		json_object_set_new(o, "message_ja", json_string(who.d.why_ja));
	}
	if (who.rtt_ms >= 0)
		json_object_set_new(o, "rtt_ms", json_real(who.rtt_ms));
	json_object_set_new(o, "probe_timeout_ms",
	                    json_integer(requester_probe_timeout(&who, &w->cfg.rtt)));
	if (w->cfg.v4_host || w->cfg.v6_host)
		json_object_set_new(o, "family_hosts", family_hosts_json(w));
	return httpd_json(w, c, 200, o, "Set-Cookie", cookie, "Vary", "Accept-Language", NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/ticket (ticket.h)                                                                  */

/*
 * The Origin a ticket answer may be read by: --origin, the main page's (or, without --origin,
 * the request's own origin). *origin is NULL when the request sent none (not a browser's
 * cross-origin fetch: no CORS headers then). False for any other origin.
 */
static bool ticket_origin(struct web *w, struct MHD_Connection *c, const char **origin)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");

	*origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (!*origin)
		return true;
	if (w->cfg.origin)
		return strcmp(*origin, w->cfg.origin) == 0;
	if (!host)
		return false;
	if (strncmp(*origin, "http://", 7) == 0)
		return strcmp(*origin + 7, host) == 0;
	return strncmp(*origin, "https://", 8) == 0 && strcmp(*origin + 8, host) == 0;
}

/* The visitor's CSRF session: the csrf query argument (the page on the main origin names its
 * token, the family host never saw its cookie), else the cookie; verified as ours. */
static bool ticket_session(struct web *w, struct MHD_Connection *c, char out[CSRF_TOKEN_LEN + 2])
{
	const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "csrf");
	const char *cookies = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");

	if (arg && strlen(arg) < CSRF_TOKEN_LEN + 2)
		snprintf(out, CSRF_TOKEN_LEN + 2, "%s", arg);
	else if (!cookies || !cookie_value(cookies, CSRF_COOKIE, out, CSRF_TOKEN_LEN + 2))
		return false;
	return csrf_verify(&w->csrf, out, store_now_ms());
}

/* A refusal of /api/ticket, readable by the main page when the origin is. */
static enum MHD_Result ticket_refuse(struct web *w, struct MHD_Connection *c, const char *origin,
                                     unsigned status, json_t *o)
{
	if (!origin)
		return httpd_json(w, c, status, o, NULL);
	return httpd_json(w, c, status, o, "Access-Control-Allow-Origin", origin,
	                  "Access-Control-Allow-Credentials", "true", "Vary", "Origin", NULL);
}

enum MHD_Result api_ticket(struct web *w, struct MHD_Connection *c)
{
	char session[CSRF_TOKEN_LEN + 2], ticket[TICKET_LEN + 1];
	const char *origin;
	struct requester who;
	int64_t expires;

	if (!ticket_origin(w, c, &origin)) {
		atomic_fetch_add(&w->m.refused_csrf, 1);
		return httpd_json(
		    w, c, 403,
		    json_pack("{s:s, s:s, s:s}", "reason", "origin", "message",
		              "Address tickets are given to this site's own page only.",
		              "message_ja",
		              "アドレスチケットはこのサイト自身のページにだけ発行"
		              "されます。"),
		    NULL);
	}
	if (!ticket_session(w, c, session))
		return ticket_refuse(w, c, origin, 403,
		                     json_pack("{s:s, s:s, s:s}", "reason", "csrf", "message",
		                               "Missing or stale page token: reload the page and "
		                               "try again.",
		                               "message_ja",
		                               "ページのトークンがないか古くなっています。ページを"
		                               "再読み込みしてやり直してください。"));
	if (requester_identify(c, &w->cfg.trust, &w->cfg.rules, &who) < 0)
		return bad_forwarding(w, c);
	if (!who.d.allowed) {
		atomic_fetch_add(&w->m.refused_policy, 1);
		return ticket_refuse(w, c, origin, 403,
		                     json_pack("{s:s, s:s, s:s, s:s, s:s}", "reason", who.d.code,
		                               "address", who.text, "class",
		                               addr_class_name(who.d.cls), "message", who.d.why_en,
		                               "message_ja", who.d.why_ja));
	}
	expires = store_now_ms() + (int64_t)w->cfg.ticket_ttl_s * 1000;
	ticket_issue(&w->tickets, &who.addr, session, expires, ticket);
	json_t *o = json_pack("{s:s, s:i, s:I, s:s}", "address", who.text, "family",
	                      who.addr.family == AF_INET6 ? 6 : 4, "expires_ms",
	                      (json_int_t)expires, "ticket", ticket);
	return ticket_refuse(w, c, origin, 200, o);
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/diagnoses                                                                         */

/* The page's token in the X-CSRF-Token header and the cookie alike (double submit), verified. */
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

/* Why the tickets of a POST are refused: status, reason, message en and ja, and for an address
 * the policy refuses, that address and its class. */
struct ticket_refusal {
	unsigned status;
	const char *reason, *en, *ja;
	const char *cls;
	char address[ADDR_STRLEN];
};

static int tickets_refuse(struct ticket_refusal *r, unsigned status, const char *reason,
                          const char *en, const char *ja)
{
	*r = (struct ticket_refusal){status, reason, en, ja, NULL, ""};
	return -ERR_POLICY;
}

/*
 * One verified ticket t into the targets: an address the visitor already proved is dropped; a
 * second address of one family (the peer's or another ticket's) is refused; the address must
 * pass the same target rules as a requester.
 */
static int ticket_take(struct web *w, const char *t, const char *session, struct job *j,
                       struct ticket_refusal *r)
{
	enum ticket_verdict v;
	struct target_decision d;
	struct addr a;
	int64_t expires;

	if (!t)
		return tickets_refuse(r, 400, "tickets", "Each ticket must be a string.",
		                      "チケットは文字列で指定してください。");
	v = ticket_verify(&w->tickets, t, session, store_now_ms(), &a, &expires);
	if (v != TICKET_OK)
		return tickets_refuse(r, v == TICKET_MALFORMED || v == TICKET_FAMILY ? 400 : 403,
		                      ticket_reason(v), ticket_message_en(v), ticket_message_ja(v));
	/* The requester's own address adds nothing, whether or not it may be diagnosed. */
	if (addr_equal(&j->requester, &a))
		return 0;
	for (size_t k = 0; k < j->n_targets; k++) {
		if (addr_equal(&j->targets[k].addr, &a))
			return 0;
	}
	for (size_t k = 0; k <= j->n_targets; k++) {
		const struct addr *have = k < j->n_targets ? &j->targets[k].addr : &j->requester;

		if (have->family == a.family)
			return tickets_refuse(
			    r, 400, "ticket-family-twice",
			    "Two addresses of one family: one address per family is diagnosed.",
			    "同じアドレスファミリーのアドレスが二つあります。ファミリーごとに一つの"
			    "アドレスだけを診断します。");
	}
	if (!target_decide(&w->cfg.rules, &a, &d)) {
		tickets_refuse(r, 403, d.code, d.why_en, d.why_ja);
		r->cls = addr_class_name(d.cls);
		addr_format(&a, r->address, sizeof(r->address));
		return -ERR_POLICY;
	}
	j->targets[j->n_targets++] = (struct visit_target){a, VISIT_TICKET};
	return 0;
}

_Static_assert(API_BODY_TICKETS_MAX == VISIT_MAX_TARGETS - 1, "a ticket per other address");

/*
 * The body's tickets (api_body_parse), verified for session: j's targets become the requester
 * (already in j->requester) when it may be diagnosed, and every proven address. A requester
 * the rules refuse (a carrier-grade NAT IPv4 address, say) is left out, but still counts as its
 * family's address. Returns 0, or -ERR_POLICY with *r set.
 */
static int body_tickets(struct web *w, const struct api_body *b, const char *session,
                        bool requester_allowed, struct job *j, struct ticket_refusal *r)
{
	int rc = 0;

	j->n_targets = 0;
	if (requester_allowed)
		j->targets[j->n_targets++] = (struct visit_target){j->requester, VISIT_PEER};
	if (b->tickets_error == API_BODY_TICKETS_NOT_LIST)
		rc = tickets_refuse(r, 400, "tickets", "\"tickets\" must be a list of tickets.",
		                    "\"tickets\" はチケットのリストで指定してください。");
	else if (b->tickets_error == API_BODY_TICKETS_TOO_MANY)
		rc = tickets_refuse(r, 400, "tickets-too-many", "At most two address tickets.",
		                    "アドレスチケットは二つまでです。");
	for (size_t k = 0; k < b->n_tickets && rc == 0; k++)
		rc =
		    ticket_take(w, b->tickets[k].string ? b->tickets[k].text : NULL, session, j, r);
	j->n_checks = w->n_checks * j->n_targets;
	return rc;
}

static enum MHD_Result ticket_refused(struct web *w, struct MHD_Connection *c,
                                      const struct ticket_refusal *r)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "reason", r->reason, "message", r->en,
	                      "message_ja", r->ja);

	if (r->cls) {
		json_object_set_new(o, "address", json_string(r->address));
		json_object_set_new(o, "class", json_string(r->cls));
		atomic_fetch_add(&w->m.refused_policy, 1);
	}
	return httpd_json(w, c, r->status, o, NULL);
}

enum reserve { RESERVED, BUSY_REQUESTER, BUSY_QUEUE };

/*
 * One diagnosis at a time per requester, and the bounded queue. RESERVED: j holds a place
 * (active table + w->reserved); otherwise active_id (BUSY_REQUESTER) and retry are set.
 */
static enum reserve reserve_locked(struct web *w, struct job *j, char active_id[STORE_ID_LEN + 1],
                                   char retry[RETRY_AFTER_LEN])
{
	struct job *other = NULL;

	/* One at a time per address: the requester's and every ticket's. */
	for (size_t t = 0; !other && t < j->n_targets; t++)
		other = active_find_locked(w, &j->targets[t].addr);
	if (other) {
		memcpy(active_id, other->id, STORE_ID_LEN + 1);
		retry_after(retry, (int64_t)w->avg_run_ms);
		return BUSY_REQUESTER;
	}
	if (w->stopping || w->q_len + w->reserved >= w->cfg.queue_max) {
		double avg = w->avg_run_ms ? w->avg_run_ms : 2000;
		unsigned lanes = w->cfg.max_inflight ? w->cfg.max_inflight : 1;

		retry_after(retry, (int64_t)(avg * (double)(w->q_len + 1) / lanes));
		return BUSY_QUEUE;
	}
	active_add_locked(w, j);
	w->reserved++;
	return RESERVED;
}

static void unreserve(struct web *w, struct job *j)
{
	pthread_mutex_lock(&w->lock);
	active_del_locked(w, j);
	w->reserved--;
	pthread_mutex_unlock(&w->lock);
}

static enum MHD_Result busy(struct web *w, struct MHD_Connection *c, enum reserve why,
                            const char *active_id, const char *retry)
{
	atomic_fetch_add(&w->m.refused_busy, 1);
	if (why == BUSY_REQUESTER)
		return httpd_json(w, c, 429,
		                  json_pack("{s:s, s:s, s:s, s:o}", "reason", "one-at-a-time",
		                            "message",
		                            "A diagnosis of your address is already running: wait "
		                            "for it to finish.",
		                            "active", active_id, "links", links(active_id)),
		                  "Retry-After", retry, NULL);
	return httpd_json(w, c, 429,
	                  json_pack("{s:s, s:s}", "reason", "busy", "message",
	                            "The service is busy: try again in a moment."),
	                  "Retry-After", retry, NULL);
}

/* Seal what another node needs to run j again if this node dies (resume.h). Returns the
 * length, 0 when the store is not shared. */
static size_t job_seal(const struct web *w, const struct job *j, uint8_t *out, size_t max)
{
	struct resume r = {.requester = j->requester, .timeout_ms = j->timeout_ms};
	int n;

	if (!w->resumable)
		return 0;
	memcpy(r.targets, j->targets, sizeof(r.targets));
	r.n_targets = j->n_targets;
	snprintf(r.target, sizeof(r.target), "%s", j->target);
	n = resume_seal(w->resume_key, j->id, &r, out, max);
	return n > 0 ? (size_t)n : 0;
}

/*
 * Give j its id and delete token (into p->token) and queue its row's durable create, whose
 * result goes to pending_created. Returns 0 once queued, or negative (then no callback comes).
 */
static int job_register(struct web *w, struct job *j, struct pending *p)
{
	char *token = p->token;
	char prefix[STORE_PREFIX_MAX], rhash[STORE_HASH_HEX];
	uint8_t sealed[RESUME_SEALED_MAX];
	size_t sealed_len;

	store_random_id(j->id);
	store_random_token(token);
	store_token_hash(token, j->token_hash);
	store_requester_hash(&w->key, &j->requester, rhash);
	store_prefix(&j->requester, prefix, sizeof(prefix));
	sealed_len = job_seal(w, j, sealed, sizeof(sealed));
	return store_create(w->store, &(struct store_new){
	                                  .id = j->id,
	                                  .token_hash = j->token_hash,
	                                  .requester_hash = rhash,
	                                  .prefix = prefix,
	                                  .family = j->requester.family,
	                                  .lang = j->lang,
	                                  .created_ms = j->created_ms,
	                                  .device = j->device,
	                                  .resume = sealed_len ? sealed : NULL,
	                                  .resume_len = sealed_len,
	                                  .created = pending_created,
	                                  .created_ud = p,
	                              });
}

/* The id of the requester's diagnosis that another node runs, from the store. */
static bool active_elsewhere(struct web *w, const struct job *j, char id[STORE_ID_LEN + 1])
{
	char rhash[STORE_HASH_HEX];

	return store_requester_hash(&w->key, &j->requester, rhash) == 0 &&
	       store_find_active(w->store, rhash, id) == 0;
}

/*
 * The answer once the new row's fate is known (r: store_create's result): 202 and the job
 * queued, or why not. Consumes the reference to j and its reservation.
 */
static enum MHD_Result create_answer(struct web *w, struct MHD_Connection *c, struct job *j, int r,
                                     const char *token)
{
	char retry[RETRY_AFTER_LEN], active_id[STORE_ID_LEN + 1], loc[64];
	json_t *o;

	if (r == -EEXIST && active_elsewhere(w, j, active_id)) {
		/* A shared store: another node runs a diagnosis of this requester (the database's
		 * one-active-per-requester index refused this one). */
		retry_after(retry, (int64_t)(w->avg_run_ms ? w->avg_run_ms : 2000));
		unreserve(w, j);
		job_unref(w, j);
		return busy(w, c, BUSY_REQUESTER, active_id, retry);
	}
	if (r < 0) {
		store_failure_note(w, "the new diagnosis", NULL, r);
		unreserve(w, j);
		job_unref(w, j);
		return httpd_json(w, c, 503,
		                  json_pack("{s:s, s:s}", "reason", "store", "message",
		                            "The result store is not available: try again later."),
		                  "Retry-After", "5", NULL);
	}
	job_enqueue(w, j);
	atomic_fetch_add(&w->m.created, 1);
	o = json_pack("{s:s, s:s, s:s, s:o, s:i}", "id", j->id, "delete_token", token, "status",
	              "queued", "links", links(j->id), "probe_timeout_ms",
	              (json_int_t)j->timeout_ms);
	snprintf(loc, sizeof(loc), "/api/diagnoses/%s", j->id);
	job_unref(w, j);
	return httpd_json(w, c, 202, o, "Location", loc, NULL);
}

/* A pending create whose commit ended (or that the stopping service gave up on): answer. */
static enum MHD_Result create_finish(struct web *w, struct MHD_Connection *c, struct pending *p)
{
	struct job *j = p->job;
	enum MHD_Result ret;
	bool abandoned;
	int r = pending_outcome(p, &abandoned);

	p->job = NULL;
	if (abandoned) {
		unreserve(w, j);
		job_unref(w, j);
		ret = httpd_json(w, c, 503,
		                 json_pack("{s:s, s:s}", "reason", "stopping", "message",
		                           "The service is restarting: try again in a moment."),
		                 "Retry-After", "5", NULL);
	} else {
		ret = create_answer(w, c, j, r, p->token);
	}
	pending_release(p);
	return ret;
}

/*
 * The requester may be diagnosed: reserve, rate-limit, then queue the row's create and suspend
 * the connection until it is committed (pending.h); the answer comes from create_finish.
 */
static enum MHD_Result create(struct web *w, struct MHD_Connection *c, struct job *j,
                              struct pending **pending)
{
	char retry[RETRY_AFTER_LEN], active_id[STORE_ID_LEN + 1];
	struct pending *p;
	enum reserve res;
	int64_t wait;
	int r;

	if ((wait = store_retry_ms(w)) > 0) {
		/* The store cannot write: a diagnosis now would end as "failed". */
		retry_after(retry, wait);
		job_unref(w, j);
		return httpd_json(w, c, 503,
		                  json_pack("{s:s, s:s}", "reason", "store", "message",
		                            "The result store cannot save results now: try again "
		                            "later."),
		                  "Retry-After", retry, NULL);
	}
	pthread_mutex_lock(&w->lock);
	res = reserve_locked(w, j, active_id, retry);
	pthread_mutex_unlock(&w->lock);
	if (res != RESERVED) {
		job_unref(w, j);
		return busy(w, c, res, active_id, retry);
	}
	/* Every address of the diagnosis pays, at every level (address, prefix, site). */
	wait = 0;
	for (size_t t = 0; wait <= 0 && t < j->n_targets; t++)
		wait = rate_limit_take(&w->rl, &j->targets[t].addr, web_mono_ms());
	if (wait > 0) {
		retry_after(retry, wait);
		atomic_fetch_add(&w->m.refused_rate, 1);
		unreserve(w, j);
		job_unref(w, j);
		return httpd_json(w, c, 429,
		                  json_pack("{s:s, s:s}", "reason", "rate", "message",
		                            "Too many diagnoses from your address or network: try "
		                            "again later."),
		                  "Retry-After", retry, NULL);
	}
	if (!(p = pending_new(w, c, j))) {
		unreserve(w, j);
		job_unref(w, j);
		return httpd_error(w, c, 503, "memory", "Out of memory.");
	}
	if ((r = job_register(w, j, p)) < 0) {
		enum MHD_Result ret;

		pending_no_callback(p);
		p->job = NULL;
		ret = create_answer(w, c, j, r, p->token);
		pending_release(p);
		return ret;
	}
	if (pending_suspend(p)) {
		*pending = p;
		return MHD_YES;
	}
	return create_finish(w, c, p);
}

enum MHD_Result api_create_resumed(struct web *w, struct MHD_Connection *c,
                                   struct pending **pending)
{
	struct pending *p = *pending;

	*pending = NULL;
	return create_finish(w, c, p);
}

void api_create_dropped(struct web *w, struct pending **pending)
{
	struct pending *p = *pending;

	/* Only a stopping daemon closes a request it never resumed: the job will not run (a row
	 * already committed ends interrupted at the next start, or its lease ends elsewhere). */
	*pending = NULL;
	if (p->job) {
		unreserve(w, p->job);
		job_unref(w, p->job);
		p->job = NULL;
	}
	pending_release(p);
}

enum MHD_Result api_create(struct web *w, struct MHD_Connection *c, const char *body, size_t len,
                           struct pending **pending)
{
	struct requester who;
	struct ticket_refusal refused;
	struct api_body parsed;
	struct job *j;

	if (!httpd_same_origin(w, c)) {
		atomic_fetch_add(&w->m.refused_csrf, 1);
		return httpd_error(
		    w, c, 403, "origin",
		    "Cross-site request refused: start the diagnosis from this site's page.");
	}
	if (!csrf_ok(w, c)) {
		atomic_fetch_add(&w->m.refused_csrf, 1);
		return httpd_error(w, c, 403, "csrf",
		                   "Missing or stale page token: reload the page and try again.");
	}
	if (requester_identify(c, &w->cfg.trust, &w->cfg.rules, &who) < 0)
		return bad_forwarding(w, c);
	/*
	 * A requester the rules refuse may still have proven another address with a ticket: the
	 * mobile visitor whose IPv4 leaves through carrier-grade NAT while its device holds a
	 * global IPv6 address is the one this service exists for. Without a ticket, the refusal
	 * stands.
	 */
	if (api_body_parse(body, len, httpd_lang(c), &parsed) < 0 ||
	    (!who.d.allowed && parsed.n_tickets == 0)) {
		if (!who.d.allowed) {
			atomic_fetch_add(&w->m.refused_policy, 1);
			return refusal(w, c, &who);
		}
		return httpd_error(w, c, 400, "body", "The body must be a JSON object.");
	}
	j = job_new(w);
	if (!j)
		return httpd_error(w, c, 503, "memory", "Out of memory.");
	j->requester = who.addr;
	/* csrf_ok() verified the header: the session the tickets must be bound to. */
	if (body_tickets(w, &parsed,
	                 MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"),
	                 who.d.allowed, j, &refused) < 0) {
		job_unref(w, j);
		return ticket_refused(w, c, &refused);
	}
	if (j->n_targets == 0) { /* a refused requester whose tickets named only itself */
		job_unref(w, j);
		atomic_fetch_add(&w->m.refused_policy, 1);
		return refusal(w, c, &who);
	}
	if (who.d.allowed)
		snprintf(j->target, sizeof(j->target), "%s", who.text);
	else
		addr_format(&j->targets[0].addr, j->target, sizeof(j->target));
	snprintf(j->lang, sizeof(j->lang), "%s", lang_name(parsed.lang));
	j->timeout_ms = requester_probe_timeout(&who, &w->cfg.rtt);
	j->created_ms = store_now_ms();
	/* Only the class is kept (issue 10 §3): the User-Agent itself goes nowhere. */
	j->device = devclass_from_ua(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent"));
	return create(w, c, j, pending);
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/diagnoses/ID                                                                       */

/* What a diagnosis response says besides its checks and result. */
struct view {
	const char *id; /* a store id: lowercase hex, nothing to escape */
	enum store_status status;
	const char *status_name; /* NULL: store_status_name(status) */
	int64_t created_ms, started_ms, finished_ms;
	const char *risk;
	size_t total, done;
	enum store_connection connection;
	enum store_device device;
};

/* A JSON string for s (the store's risk column holds text we did not check). */
static int add_json_string(struct sbuf *b, const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
	int r = t ? sbuf_add(b, t) : -ENOMEM;

	free(t);
	json_decref(j);
	return r;
}

/* Up to the opening bracket of "checks". */
static int view_head(struct sbuf *b, const struct view *v)
{
	/* Ids are lowercase hex and status names ours: nothing to escape. */
	sbuf_addf(b, "{\"id\":\"%s\",\"status\":\"%s\"", v->id,
	          v->status_name ? v->status_name : store_status_name(v->status));
	return sbuf_addf(
	    b, ",\"created_ms\":%lld,\"checks_total\":%zu,\"checks_done\":%zu,\"checks\":[",
	    (long long)v->created_ms, v->total, v->done);
}

/* From the closing bracket of "checks" on; doc: the result document, NULL for null. */
static int view_tail(struct sbuf *b, const struct view *v, const char *doc, size_t doc_len)
{
	sbuf_addf(b,
	          "],\"links\":{\"self\":\"/api/diagnoses/%s\",\"events\":\"/api/diagnoses/%s/"
	          "events\",\"page\":\"/d/%s\"}",
	          v->id, v->id, v->id);
	/* Names of ours (store.c): nothing to escape. */
	if (store_connection_name(v->connection))
		sbuf_addf(b, ",\"connection\":\"%s\"", store_connection_name(v->connection));
	else
		sbuf_add(b, ",\"connection\":null");
	if (store_device_name(v->device))
		sbuf_addf(b, ",\"device\":\"%s\"", store_device_name(v->device));
	else
		sbuf_add(b, ",\"device\":null");
	if (v->started_ms)
		sbuf_addf(b, ",\"started_ms\":%lld", (long long)v->started_ms);
	if (v->finished_ms)
		sbuf_addf(b, ",\"finished_ms\":%lld", (long long)v->finished_ms);
	if (v->status == STORE_DONE) {
		sbuf_add(b, ",\"risk\":");
		add_json_string(b, v->risk);
		sbuf_add(b, ",\"result\":");
		if (doc)
			sbuf_addn(b, doc, doc_len);
		else
			sbuf_add(b, "null");
	}
	return sbuf_add(b, "}");
}

/* A job in memory: its check strings in catalogue order, and its document. */
static int job_view_locked(struct job *j, struct sbuf *b)
{
	struct view v = {
	    .id = j->id,
	    .status = j->status,
	    .status_name = job_status_name(j),
	    .created_ms = j->created_ms,
	    .started_ms = j->started_ms,
	    .finished_ms = j->finished_ms,
	    .risk = j->risk,
	    .connection = j->connection,
	    .device = j->device,
	    .total = j->n_checks,
	    .done = j->n_done,
	};
	bool first = true;

	view_head(b, &v);
	for (size_t i = 0; i < j->n_checks; i++) {
		if (!j->check_json[i])
			continue;
		if (!first)
			sbuf_add(b, ",");
		sbuf_add(b, j->check_json[i]);
		first = false;
	}
	return view_tail(b, &v, j->doc, j->doc ? strlen(j->doc) : 0);
}

/*
 * A stored diagnosis: "checks" is the document's own array. A document that does not scan (a
 * damaged store) is served as no checks and a null result, as jansson's refusal was before.
 */
static int stored_view(const struct store_diagnosis *sd, struct sbuf *b)
{
	struct view v = {
	    .id = sd->id,
	    .status = sd->status,
	    .created_ms = sd->created_ms,
	    .started_ms = sd->started_ms,
	    .finished_ms = sd->finished_ms,
	    .risk = sd->risk,
	    .connection = sd->connection,
	    .device = sd->device,
	};
	struct json_span checks = {0};
	size_t len = sd->json ? strlen(sd->json) : 0;
	int r = sd->json ? json_scan_member(sd->json, len, "checks", &checks) : -ERR_SYNTAX;
	bool doc_ok = r == 0 || r == -ENOENT;

	if (r == 0 && checks.p[0] != '[')
		checks = (struct json_span){0}; /* not an array: no checks, as before */
	v.total = v.done = checks.n_elems;
	view_head(b, &v);
	if (checks.len > 2)
		sbuf_addn(b, checks.p + 1, checks.len - 2);
	return view_tail(b, &v, doc_ok ? sd->json : NULL, len);
}

static enum MHD_Result send_view(struct web *w, struct MHD_Connection *c, struct sbuf *b)
{
	size_t len;
	char *text = sbuf_take(b, &len);

	if (!text)
		return httpd_error(w, c, 500, "internal", "The diagnosis cannot be shown now.");
	return httpd_json_text(w, c, 200, text, len);
}

/*
 * On a shared store another node may have deleted a diagnosis this node runs (its delete
 * token is checked by the database): the row is gone, so the job is shown as deleted here
 * too. One indexed read; SQLite has one node and needs none. Under w->lock.
 */
static bool deleted_elsewhere_locked(struct web *w, struct job *j)
{
	struct store_diagnosis sd;
	int r;

	if (strcmp(store_backend(w->store), "postgresql") != 0)
		return false;
	r = store_get(w->store, j->id, &sd);
	store_diagnosis_done(&sd);
	if (r != -ENOENT)
		return false;
	j->deleted = true;
	job_wake_locked(j);
	return true;
}

enum MHD_Result api_get(struct web *w, struct MHD_Connection *c, const char *id)
{
	struct store_diagnosis sd;
	struct sbuf b;
	struct job *j;

	sbuf_init(&b, API_DOC_MAX);
	pthread_mutex_lock(&w->lock);
	j = job_find_locked(w, id);
	if (j && !j->deleted && !deleted_elsewhere_locked(w, j)) {
		job_view_locked(j, &b);
		pthread_mutex_unlock(&w->lock);
		return send_view(w, c, &b);
	}
	pthread_mutex_unlock(&w->lock);
	if (j || store_get(w->store, id, &sd) < 0)
		return httpd_error(w, c, 404, "not-found", "No such diagnosis.");
	stored_view(&sd, &b);
	store_diagnosis_done(&sd);
	return send_view(w, c, &b);
}

/* ------------------------------------------------------------------------------------------ */
/* DELETE /api/diagnoses/ID                                                                    */

enum MHD_Result api_delete(struct web *w, struct MHD_Connection *c, const char *id)
{
	const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Delete-Token");
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	struct MHD_Response *resp;
	struct job *j;
	int r;

	if (!httpd_same_origin(w, c))
		return httpd_error(w, c, 403, "origin", "Cross-site request refused.");
	if (!token && auth && strncmp(auth, "Bearer ", 7) == 0)
		token = auth + 7;
	if (!token)
		return httpd_error(w, c, 401, "token",
		                   "The delete token is missing (X-Delete-Token header).");
	r = store_delete(w->store, id, token);
	if (r == -ENOENT)
		return httpd_error(w, c, 404, "not-found", "No such diagnosis.");
	if (r == -EACCES)
		return httpd_error(w, c, 403, "token", "Wrong delete token.");
	if (r < 0)
		return httpd_error(w, c, 503, "store", "The result store is not available.");
	pthread_mutex_lock(&w->lock);
	j = job_find_locked(w, id);
	if (j) {
		j->deleted = true;
		job_wake_locked(j);
	}
	pthread_mutex_unlock(&w->lock);
	atomic_fetch_add(&w->m.deleted, 1);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	return httpd_queue(w, c, 204, resp);
}

/* ------------------------------------------------------------------------------------------ */
/* PUT /api/diagnoses/ID/connection                                                            */

/*
 * The body's "connection": one of the answers, or null to clear it. Returns 0, or -ERR_SYNTAX
 * (not a JSON object, no such member, or another value).
 */
static int body_connection(const char *body, size_t len, enum store_connection *out)
{
	json_t *b = len ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *v = json_object_get(b, "connection"); /* NULL unless b is an object */
	int r = -ERR_SYNTAX;

	*out = STORE_CONN_NONE;
	if (json_is_null(v))
		r = 0;
	else if (json_is_string(v))
		r = store_connection_parse(json_string_value(v), out);
	json_decref(b);
	return r;
}

/* The delete token: Authorization: Bearer (or X-Delete-Token, as DELETE takes it). */
static const char *delete_token(struct MHD_Connection *c)
{
	const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Delete-Token");
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	if (!token && auth && strncmp(auth, "Bearer ", 7) == 0)
		token = auth + 7;
	return token;
}

enum MHD_Result api_connection(struct web *w, struct MHD_Connection *c, const char *id,
                               const char *body, size_t len)
{
	const char *token = delete_token(c);
	enum store_connection conn;
	struct MHD_Response *resp;
	struct job *j;
	int r;

	if (!httpd_same_origin(w, c)) {
		atomic_fetch_add(&w->m.refused_csrf, 1);
		return httpd_error(w, c, 403, "origin", "Cross-site request refused.");
	}
	if (!csrf_ok(w, c)) {
		atomic_fetch_add(&w->m.refused_csrf, 1);
		return httpd_error(w, c, 403, "csrf",
		                   "Missing or stale page token: reload the page and try again.");
	}
	if (!token)
		return httpd_error(w, c, 403, "token",
		                   "The delete token is missing (Authorization: Bearer).");
	if (body_connection(body, len, &conn) < 0)
		return httpd_error(
		    w, c, 400, "connection",
		    "The body must be {\"connection\": one of \"sim\", \"usb-modem\", "
		    "\"tethering\", \"router\", \"wired\", \"unknown\", or null}.");
	r = store_set_connection(w->store, id, token, conn);
	if (r == -ENOENT)
		return httpd_error(w, c, 404, "not-found", "No such diagnosis.");
	if (r == -EACCES)
		return httpd_error(w, c, 403, "token", "Wrong delete token.");
	if (r < 0)
		return httpd_error(w, c, 503, "store", "The result store is not available.");
	pthread_mutex_lock(&w->lock);
	j = job_find_locked(w, id);
	if (j) /* a GET served from memory says the same as the store */
		j->connection = conn;
	pthread_mutex_unlock(&w->lock);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	return httpd_queue(w, c, 204, resp);
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/advice                                                                             */

/* Every advice text of one language, by finding id: the page shows them next to findings. */
enum MHD_Result api_advice(struct web *w, struct MHD_Connection *c)
{
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lang");
	enum lang lang = httpd_lang(c);
	const struct advice *all;
	json_t *map = json_object();
	size_t n;

	if (q && lang_choose(q, &lang) < 0)
		lang = LANG_EN;
	all = advice_all(lang, &n);
	for (size_t i = 0; i < n; i++)
		json_object_set_new(map, all[i].id, advice_json(&all[i]));
	return httpd_json(w, c, 200,
	                  json_pack("{s:s, s:o}", "lang", lang_name(lang), "advice", map), NULL);
}
