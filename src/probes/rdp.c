/* SPDX-License-Identifier: MIT */
/*
 * RDP probe (PROTOCOLS.md §7.3): three fresh connections, each sending one X.224 Connection
 * Request with an RDP_NEG_REQ and reading the Connection Confirm, then closing:
 *   P1 requestedProtocols 0x0B (TLS | CredSSP | CredSSP-EX): what the server prefers;
 *   P2 0x00 (Standard RDP Security only);
 *   P3 0x01 (TLS only).
 * NLA is enforced iff neither P2 nor P3 was accepted (RDP_NEG_RSP) and at least one of them got
 * failure 5 (HYBRID_REQUIRED_BY_SERVER); any acceptance of P2 or P3 means NLA is not enforced; if
 * P2 or P3 could not be completed the answer is "unknown", never "required". P1 alone never
 * decides (nmap issue #174). Handshake level: nothing after the Connection Confirm is sent.
 */
#include "probes/probe.h"
#include "probes/parse/rdp_parse.h"

#include <stdio.h>
#include <string.h>

#define RDP_PROBES 3
#define RDP_COOKIE "selfcheck"

static const uint32_t requested[RDP_PROBES] = {
    RDP_PROTO_SSL | RDP_PROTO_HYBRID | RDP_PROTO_HYBRID_EX,
    RDP_PROTO_RDP,
    RDP_PROTO_SSL,
};

/* What one connection gave. */
enum rdp_outcome {
	RDP_OUT_NONE = 0,   /* not run */
	RDP_OUT_CC,         /* a valid Connection Confirm: cc holds it */
	RDP_OUT_NOT_TPKT,   /* first byte not TPKT version 3: another service */
	RDP_OUT_MALFORMED,  /* TPKT but not a valid CC */
	RDP_OUT_DISCONNECT, /* a well-framed TPDU that is not a CC (Disconnect Request...) */
	RDP_OUT_ENDED,      /* connection ended before a whole CC (why says how) */
};

struct rdp_one {
	enum rdp_outcome outcome;
	enum probe_end why; /* RDP_OUT_ENDED */
	bool any_bytes;
	bool partial;      /* a TPKT start that never completed */
	uint8_t tpdu_code; /* RDP_OUT_DISCONNECT: byte 5 */
	struct rdp_cc cc;
};

struct rdp_state {
	unsigned conn;
	bool finished;
	const char *other; /* guessed other service */
	struct rdp_one p[RDP_PROBES];
};

static const char *proto_name(uint32_t p)
{
	switch (p) {
	case RDP_PROTO_RDP:
		return "RDP";
	case RDP_PROTO_SSL:
		return "SSL";
	case RDP_PROTO_HYBRID:
		return "HYBRID";
	case RDP_PROTO_RDSTLS:
		return "RDSTLS";
	case RDP_PROTO_HYBRID_EX:
		return "HYBRID_EX";
	case RDP_PROTO_RDSAAD:
		return "RDSAAD";
	default:
		return "UNKNOWN";
	}
}

/* An RDP_NEG_RSP that accepts this probe: the selected protocol is one we asked for (or 0). */
static bool accepted(const struct rdp_one *o, unsigned i)
{
	if (o->outcome != RDP_OUT_CC || o->cc.kind != RDP_CC_NEG_RSP)
		return false;
	uint32_t sel = o->cc.selected_protocol;
	return sel == RDP_PROTO_RDP || (sel & requested[i]) == sel;
}

static bool failed_with(const struct rdp_one *o, uint32_t code)
{
	return o->outcome == RDP_OUT_CC && o->cc.kind == RDP_CC_NEG_FAILURE &&
	       o->cc.failure_code == code;
}

/* A definite answer to the probe: a CC (RSP, FAILURE or legacy). */
static bool completed(const struct rdp_one *o)
{
	return o->outcome == RDP_OUT_CC;
}

static int rdp_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct rdp_state *s = state;
	uint8_t cr[RDP_CR_MAX];
	int n;

	(void)out;
	s->conn = conn < RDP_PROBES ? conn : RDP_PROBES - 1;
	n = rdp_build_cr(cr, sizeof(cr), RDP_COOKIE, true, requested[s->conn]);
	if (n < 0)
		return n;
	if ((n = probe_tx_put(tx, cr, (size_t)n)) < 0)
		return n;
	return PROBE_MORE;
}

static json_t *probe_json(const struct rdp_one *o, unsigned i)
{
	json_t *j = json_object();
	char req[8];

	if (j == NULL)
		return NULL;
	snprintf(req, sizeof(req), "0x%02x", (unsigned)requested[i]);
	json_object_set_new(j, "requested", json_string(req));
	switch (o->outcome) {
	case RDP_OUT_NONE:
		json_object_set_new(j, "reply", json_string("not-run"));
		break;
	case RDP_OUT_CC:
		if (o->cc.kind == RDP_CC_NEG_RSP) {
			json_object_set_new(j, "reply", json_string("selected"));
			json_object_set_new(j, "selected",
			                    json_string(proto_name(o->cc.selected_protocol)));
			json_object_set_new(j, "flags", json_integer(o->cc.neg_flags));
		} else if (o->cc.kind == RDP_CC_NEG_FAILURE) {
			json_object_set_new(j, "reply", json_string("failure"));
			json_object_set_new(j, "failure_code", json_integer(o->cc.failure_code));
			json_object_set_new(j, "failure",
			                    json_string(rdp_failure_name(o->cc.failure_code)));
		} else {
			json_object_set_new(j, "reply", json_string("legacy"));
		}
		break;
	case RDP_OUT_NOT_TPKT:
		json_object_set_new(j, "reply", json_string("not-rdp"));
		break;
	case RDP_OUT_MALFORMED:
		json_object_set_new(j, "reply", json_string("malformed"));
		break;
	case RDP_OUT_DISCONNECT:
		json_object_set_new(
		    j, "reply",
		    json_string(o->tpdu_code == 0x80 ? "disconnect" : "unexpected-tpdu"));
		break;
	case RDP_OUT_ENDED:
		json_object_set_new(j, "reply", json_string(probe_end_name(o->why)));
		break;
	}
	return j;
}

static void finish(struct rdp_state *s, struct probe_result *out)
{
	const struct rdp_one *p1 = &s->p[0], *p2 = &s->p[1], *p3 = &s->p[2];
	bool any_cc = false, legacy = false, standard = false, any_bytes = false;
	json_t *probes = json_array(), *sel = json_array(), *codes = json_array();
	const char *nla, *why_nla;
	char reason[FINDING_REASON_MAX];

	s->finished = true;
	for (unsigned i = 0; i < RDP_PROBES; i++) {
		const struct rdp_one *o = &s->p[i];

		any_bytes |= o->any_bytes;
		if (probes)
			json_array_append_new(probes, probe_json(o, i));
		if (o->outcome != RDP_OUT_CC)
			continue;
		any_cc = true;
		if (o->cc.kind == RDP_CC_LEGACY)
			legacy = true;
		else if (o->cc.kind == RDP_CC_NEG_RSP) {
			if (sel)
				json_array_append_new(
				    sel, json_string(proto_name(o->cc.selected_protocol)));
			if (o->cc.selected_protocol == RDP_PROTO_RDP)
				standard = true;
		} else if (codes) {
			json_array_append_new(codes, json_integer(o->cc.failure_code));
		}
	}
	probe_detail_set(out, "probes", probes);
	probe_detail_set(out, "selected_protocols", sel);
	probe_detail_set(out, "failure_codes", codes);

	if (!any_cc) {
		if (!any_bytes) {
			/* state already set by rdp_end() (silent / tcpwrapped) */
			return;
		}
		bool malformed = false;
		for (unsigned i = 0; i < RDP_PROBES; i++)
			malformed |= s->p[i].outcome == RDP_OUT_MALFORMED ||
			             s->p[i].outcome == RDP_OUT_DISCONNECT ||
			             (s->p[i].outcome == RDP_OUT_ENDED && s->p[i].partial);
		out->state = malformed ? SERVICE_PROTOCOL_ERROR : SERVICE_OTHER;
		snprintf(out->service, sizeof(out->service), "%s",
		         malformed ? "rdp" : (s->other ? s->other : ""));
		probe_detail_set(out, "nla", json_string("unknown"));
		probe_detail_set(
		    out, "nla_reason",
		    json_string(malformed ? "no valid Connection Confirm" : "not an RDP server"));
		return;
	}
	out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "rdp");
	if (p1->outcome == RDP_OUT_CC && p1->cc.kind == RDP_CC_NEG_RSP)
		probe_detail_set(out, "best_protocol",
		                 json_string(proto_name(p1->cc.selected_protocol)));

	if (legacy) {
		/* §7.3: no negotiation data at all; pre-Vista or non-Microsoft stack [unverified]
		 */
		nla = "not-required";
		why_nla = "Connection Confirm without negotiation data (legacy RDP stack)";
		probe_add_finding(out, "rdp-nla-not-required", SEVERITY_HIGH, CONFIDENCE_LIKELY,
		                  "legacy server without security negotiation: no NLA");
		probe_add_finding(
		    out, "rdp-standard-security", SEVERITY_HIGH, CONFIDENCE_LIKELY,
		    "legacy server without security negotiation: RDP standard security");
		probe_detail_set(out, "legacy", json_true());
	} else if (accepted(p2, 1) || accepted(p3, 2)) {
		nla = "not-required";
		why_nla = accepted(p2, 1) ? "a connection without NLA or TLS was accepted"
		                          : "a TLS connection without NLA was accepted";
		snprintf(reason, sizeof(reason), "%s", why_nla);
		probe_add_finding(out, "rdp-nla-not-required", SEVERITY_HIGH, CONFIDENCE_CONFIRMED,
		                  reason);
	} else if (completed(p2) && completed(p3) &&
	           (failed_with(p2, RDP_FAIL_HYBRID_REQUIRED_BY_SERVER) ||
	            failed_with(p3, RDP_FAIL_HYBRID_REQUIRED_BY_SERVER))) {
		nla = "required";
		why_nla = "connections without NLA were refused (HYBRID_REQUIRED_BY_SERVER)";
		probe_answer(out, "rdp-nla-not-required", PROBE_ANSWER_NO);
	} else {
		nla = "unknown";
		if (!completed(p2) || !completed(p3))
			why_nla = "a test connection without NLA did not complete";
		else if (failed_with(p2, RDP_FAIL_SSL_WITH_USER_AUTH_REQUIRED) ||
		         failed_with(p3, RDP_FAIL_SSL_WITH_USER_AUTH_REQUIRED))
			why_nla = "the server requires TLS with a client certificate";
		else if (failed_with(p3, RDP_FAIL_SSL_CERT_NOT_ON_SERVER))
			why_nla = "the server has no usable TLS certificate";
		else
			why_nla = "refused without saying NLA is required";
		snprintf(reason, sizeof(reason), "NLA status unknown: %s", why_nla);
		/* a finding with confidence unknown, so the doubt is never read as "safe" */
		probe_add_finding(out, "rdp-nla-not-required", SEVERITY_HIGH, CONFIDENCE_UNKNOWN,
		                  reason);
	}
	if (!legacy && standard)
		probe_add_finding(out, "rdp-standard-security", SEVERITY_HIGH, CONFIDENCE_CONFIRMED,
		                  "the server accepts RDP standard security (no TLS, legacy RC4)");
	probe_detail_set(out, "nla", json_string(nla));
	probe_detail_set(out, "nla_reason", json_string(why_nla));
}

static const char *other_service(const uint8_t *buf, size_t len)
{
	if (len >= 2 && buf[0] >= 0x14 && buf[0] <= 0x17 && buf[1] == 0x03)
		return "tls"; /* a TLS record: change-cipher-spec, alert, handshake, data */
	if (len >= 4 && memcmp(buf, "HTTP", 4) == 0)
		return "http";
	if (len >= 4 && memcmp(buf, "SSH-", 4) == 0)
		return "ssh";
	if (len >= 4 && memcmp(buf, "RFB ", 4) == 0)
		return "vnc";
	if (len >= 1 && buf[0] == 0xff)
		return "telnet";
	return NULL;
}

/* Not TPKT, and too few bytes yet for other_service() to name what it is. */
static bool too_short_to_name(const uint8_t *buf, size_t len)
{
	static const char *const p[] = {"HTTP", "SSH-", "RFB "};

	if (len < 2 && buf[0] >= 0x14 && buf[0] <= 0x17)
		return true;
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (len < 4 && memcmp(buf, p[i], len) == 0)
			return true;
	return false;
}

/* This connection is over: next probe, or the verdict. */
static int next(struct rdp_state *s, struct probe_result *out)
{
	if (s->conn + 1 < RDP_PROBES)
		return PROBE_RECONNECT;
	finish(s, out);
	return PROBE_DONE;
}

static int rdp_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                    struct probe_tx *tx, struct probe_result *out)
{
	struct rdp_state *s = state;
	struct rdp_one *o = &s->p[s->conn];
	int r;

	(void)tx;
	*consumed = 0;
	if (s->finished || o->outcome != RDP_OUT_NONE) {
		*consumed = len;
		return s->finished ? PROBE_DONE : PROBE_MORE;
	}
	if (len > 0)
		o->any_bytes = true;
	r = rdp_parse_cc(buf, len, &o->cc);
	if (r == PARSE_AGAIN) {
		o->partial = len > 0;
		return PROBE_MORE;
	}
	*consumed = len;
	if (r > 0) {
		o->outcome = RDP_OUT_CC;
		return next(s, out);
	}
	if (r == -ERR_SYNTAX && s->conn == 0 && too_short_to_name(buf, len)) {
		*consumed = 0;
		return PROBE_MORE;
	}
	if (r == -ERR_SYNTAX) {
		o->outcome = RDP_OUT_NOT_TPKT;
		if (s->conn == 0) {
			/* not RDP at all: two more connections would only repeat it */
			s->other = other_service(buf, len);
			finish(s, out);
			return PROBE_DONE;
		}
		return next(s, out);
	}
	if (r == -ERR_UNSUPPORTED) {
		o->outcome = RDP_OUT_DISCONNECT;
		o->tpdu_code = len > 5 ? (uint8_t)(buf[5] & 0xf0) : 0;
	} else {
		o->outcome = RDP_OUT_MALFORMED;
	}
	return next(s, out);
}

static int rdp_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct rdp_state *s = state;
	struct rdp_one *o = &s->p[s->conn];

	if (s->finished)
		return PROBE_DONE;
	if (o->outcome == RDP_OUT_NONE) {
		o->outcome = RDP_OUT_ENDED;
		o->why = why;
	}
	/* a port that gave nothing to P1 is not RDP: do not spend two more timeouts on it */
	if (s->conn == 0 && !o->any_bytes) {
		probe_no_bytes(out, why);
		finish(s, out);
		return PROBE_DONE;
	}
	if (why != PROBE_END_DEADLINE && why != PROBE_END_CONNECT && s->conn + 1 < RDP_PROBES)
		return PROBE_RECONNECT;
	finish(s, out);
	return PROBE_DONE;
}

const struct probe_ops probe_rdp = {
    .name = "rdp",
    .state_size = sizeof(struct rdp_state),
    .max_rx = 2 * RDP_CC_MAX,
    .idle_ms = 5000,
    .total_ms = 15000,
    .max_conns = RDP_PROBES,
    .start = rdp_start,
    .feed = rdp_feed,
    .end = rdp_end,
};
