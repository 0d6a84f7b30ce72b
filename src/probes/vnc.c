/* SPDX-License-Identifier: MIT */
/*
 * VNC / RFB probe (PROTOCOLS.md §8): read the server's ProtocolVersion, answer with the highest
 * version we speak that is not above the server's (3.8, 3.7 or 3.3), read the security types
 * (3.7/3.8) or the type the server chose (3.3), and stop before choosing one. Only when VeNCrypt
 * (19) is offered and None (1) is not, pick 19 and read its subtype list (§8.3, handshake level),
 * then close without choosing a subtype. Never a type that authenticates, never a password.
 */
#include "probes/probe.h"
#include "probes/parse/vnc_parse.h"

#include <stdio.h>
#include <string.h>

enum vnc_phase { VNC_VERSION = 0, VNC_SEC, VNC_SEC33, VNC_VC_VER, VNC_VC_SUB, VNC_FINISHED };

struct vnc_state {
	enum vnc_phase phase;
	bool any_bytes;
	bool have_version;
	bool have_types;      /* 3.7/3.8 list parsed */
	bool have_33;         /* 3.3 type parsed */
	bool have_sub;        /* VeNCrypt subtypes parsed */
	bool partial_version; /* the start of an RFB ProtocolVersion, never completed */
	bool proto_error;     /* reason longer than VNC_REASON_MAX, or an invalid 3.3 type */
	const char *problem;
	struct vnc_version ver;
	struct vnc_sec_types st;
	struct vnc_sec33 s33;
	struct vnc_vencrypt_version vcv;
	struct vnc_vencrypt_subtypes sub;
};

static const char *sec_name(uint32_t t)
{
	switch (t) {
	case 0:
		return "Invalid";
	case 1:
		return "None";
	case 2:
		return "VncAuth";
	case 5:
		return "RA2";
	case 6:
		return "RA2ne";
	case 13:
		return "RSA-AES-two-step";
	case 16:
		return "Tight";
	case 17:
		return "Ultra";
	case 18:
		return "TLS";
	case 19:
		return "VeNCrypt";
	case 20:
		return "SASL";
	case 21:
		return "MD5";
	case 22:
		return "xvp";
	case 30:
		return "Apple-DH";
	case 35:
		return "Apple";
	case 113:
		return "MSLogonII";
	case 129:
	case 130:
	case 133:
		return "RSA-AES-256";
	case 256:
		return "Plain";
	case 257:
		return "TLSNone";
	case 258:
		return "TLSVnc";
	case 259:
		return "TLSPlain";
	case 260:
		return "X509None";
	case 261:
		return "X509Vnc";
	case 262:
		return "X509Plain";
	case 263:
		return "TLSSASL";
	case 264:
		return "X509SASL";
	case 265:
		return "Ident";
	case 266:
		return "TLSIdent";
	case 267:
		return "X509Ident";
	default:
		return NULL;
	}
}

static json_t *type_json(uint32_t t)
{
	const char *n = sec_name(t);
	char buf[24];

	if (n)
		return json_string(n);
	snprintf(buf, sizeof(buf), "type-%u", (unsigned)t);
	return json_string(buf);
}

static int vnc_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)state, (void)conn, (void)tx, (void)out;
	return PROBE_MORE; /* the server speaks first (RFC 6143 §7.1.1) */
}

static bool has_subtype(const struct vnc_state *s, uint32_t t)
{
	for (unsigned i = 0; s->have_sub && i < s->sub.count && i < 255; i++)
		if (s->sub.subtypes[i] == t)
			return true;
	return false;
}

static void put_reason(const struct vnc_reason *r, struct probe_result *out)
{
	probe_detail_set(out, "refused_reason", json_string(r->text));
	if (r->truncated)
		probe_detail_set(out, "refused_reason_truncated", json_true());
	if (parse_contains_ci(r->text, "too many"))
		probe_detail_set(out, "note",
		                 json_string("the server blocks new connections after repeated "
		                             "failed logins: someone may be trying to guess the "
		                             "password"));
}

/*
 * Whether the security handshake was read far enough to say that no type lets us in without a
 * password: a list or a 3.3 type that is no refusal, and the VeNCrypt subtypes when VeNCrypt was
 * the only way left (a refusal, "too many" included, decides nothing).
 */
static bool auth_decided(const struct vnc_state *s)
{
	if (s->have_types && !s->st.failed)
		return !s->st.has_vencrypt || s->st.has_none || s->have_sub;
	return s->have_33 && !s->s33.failed;
}

static void finish(struct vnc_state *s, struct probe_result *out)
{
	json_t *types = json_array();
	const char *no_auth_via = NULL;
	bool vnc_auth = false, vnc_auth_tls = false;
	char v[16];

	s->phase = VNC_FINISHED;
	if (!s->have_version) {
		if (s->problem)
			probe_detail_set(out, "reason", json_string(s->problem));
		json_decref(types);
		return;
	}
	snprintf(out->service, sizeof(out->service), "vnc");
	out->state = s->proto_error ? SERVICE_PROTOCOL_ERROR : SERVICE_IDENTIFIED;
	snprintf(v, sizeof(v), "%u.%u", s->ver.major, s->ver.minor);
	probe_detail_set(out, "version", json_string(v));
	probe_detail_set(out, "version_used",
	                 json_string(s->ver.rfb_minor == 8   ? "3.8"
	                             : s->ver.rfb_minor == 7 ? "3.7"
	                                                     : "3.3"));
	if (s->have_types && !s->st.failed) {
		for (unsigned i = 0; types && i < s->st.count && i < 255; i++)
			json_array_append_new(types, type_json(s->st.types[i]));
		if (s->st.has_none)
			no_auth_via = "none";
		vnc_auth = s->st.has_vnc_auth;
	} else if (s->have_33 && !s->s33.failed) {
		if (types)
			json_array_append_new(types, type_json(s->s33.type));
		if (s->s33.type == VNC_SEC_NONE)
			no_auth_via = "none";
		vnc_auth = s->s33.type == VNC_SEC_VNC_AUTH;
	}
	probe_detail_set(out, "security_types", types);
	if (s->have_types && s->st.failed)
		put_reason(&s->st.reason, out);
	if (s->have_33 && s->s33.failed)
		put_reason(&s->s33.reason, out);
	if (s->have_sub) {
		json_t *sub = json_array();

		for (unsigned i = 0; sub && i < s->sub.count && i < 255; i++)
			json_array_append_new(sub, type_json(s->sub.subtypes[i]));
		probe_detail_set(out, "vencrypt_subtypes", sub);
		if (no_auth_via == NULL && has_subtype(s, VNC_VENCRYPT_TLSNONE))
			no_auth_via = "vencrypt-tlsnone";
		else if (no_auth_via == NULL && has_subtype(s, VNC_VENCRYPT_X509NONE))
			no_auth_via = "vencrypt-x509none";
		vnc_auth_tls =
		    has_subtype(s, VNC_VENCRYPT_TLSVNC) || has_subtype(s, VNC_VENCRYPT_X509VNC);
		if (has_subtype(s, VNC_VENCRYPT_PLAIN))
			probe_detail_set(out, "cleartext_password", json_true());
	}
	if (s->problem)
		probe_detail_set(out, "reason", json_string(s->problem));

	if (no_auth_via == NULL && auth_decided(s))
		probe_answer(out, "vnc-no-auth", PROBE_ANSWER_NO);
	if (no_auth_via) {
		probe_detail_set(out, "no_auth_via", json_string(no_auth_via));
		probe_add_finding(out, "vnc-no-auth", SEVERITY_CRITICAL, CONFIDENCE_CONFIRMED,
		                  strcmp(no_auth_via, "none") == 0
		                      ? "security type None offered: no password"
		                      : "VeNCrypt offers TLS without authentication");
	} else if (vnc_auth) {
		probe_add_finding(out, "vnc-password-only", SEVERITY_HIGH, CONFIDENCE_CONFIRMED,
		                  "VNC authentication: one password of at most 8 characters");
	} else if (vnc_auth_tls) {
		probe_add_finding(
		    out, "vnc-password-only", SEVERITY_HIGH, CONFIDENCE_CONFIRMED,
		    "VNC authentication inside TLS: one password of at most 8 characters");
	}
}

/* buf (shorter than p) is the start of p. */
static bool prefix_of(const uint8_t *buf, size_t len, const char *p)
{
	size_t n = strlen(p);

	return len < n && memcmp(buf, p, len) == 0;
}

/* 00 00 00 00 00: a 3.3-layout failure (U32 0, U32 length < 2^24) where a 3.8 list was due. */
static bool looks_33_failure(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < 5; i++)
		if (i >= len || buf[i] != 0)
			return false;
	return true;
}

/* One step of the conversation on buf: sets *used, and *again when the next step may run now. */
static int step(struct vnc_state *s, const uint8_t *buf, size_t len, size_t *used,
                struct probe_tx *tx, struct probe_result *out, bool *again)
{
	int r;

	*used = 0;
	*again = false;
	switch (s->phase) {
	case VNC_VERSION:
		r = vnc_parse_version(buf, len, &s->ver);
		if (r == PARSE_AGAIN) {
			s->partial_version = len > 0;
			return PROBE_MORE;
		}
		if (r < 0 && (prefix_of(buf, len, "HTTP/") || prefix_of(buf, len, "SSH-")))
			return PROBE_MORE; /* wait for enough bytes to name the other service */
		if (r < 0) {
			s->problem = "not an RFB ProtocolVersion";
			out->state = SERVICE_OTHER;
			if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0)
				snprintf(out->service, sizeof(out->service), "http");
			else if (len >= 4 && memcmp(buf, "SSH-", 4) == 0)
				snprintf(out->service, sizeof(out->service), "ssh");
			*used = len;
			finish(s, out);
			return PROBE_DONE;
		}
		s->have_version = true;
		*used = (size_t)r;
		if (probe_tx_put(tx, vnc_version_reply(s->ver.rfb_minor), VNC_VERSION_LEN) < 0) {
			s->problem = "could not send our version";
			finish(s, out);
			return PROBE_DONE;
		}
		s->phase = s->ver.rfb_minor == 3 ? VNC_SEC33 : VNC_SEC;
		*again = true;
		return PROBE_MORE;
	case VNC_SEC:
		/*
		 * §8.2: some servers refuse at once with the 3.3 layout, whatever version they
		 * announced (the failure may even arrive before our version was sent).
		 */
		if (looks_33_failure(buf, len)) {
			if (len < 8)
				return PROBE_MORE;
			s->phase = VNC_SEC33;
			*again = true;
			return PROBE_MORE;
		}
		r = vnc_parse_sec_types(buf, len, &s->st);
		if (r == PARSE_AGAIN)
			return PROBE_MORE;
		s->have_types = true;
		if (r == -ERR_TOOBIG) {
			s->proto_error = true;
			s->problem = "failure reason longer than 1024 bytes";
			*used = len;
			finish(s, out);
			return PROBE_DONE;
		}
		*used = (size_t)r;
		if (!s->st.failed && s->st.has_vencrypt && !s->st.has_none) {
			uint8_t pick = VNC_SEC_VENCRYPT;

			if (probe_tx_put(tx, &pick, 1) == 0) {
				s->phase = VNC_VC_VER;
				*again = true;
				return PROBE_MORE;
			}
		}
		finish(s, out);
		return PROBE_DONE;
	case VNC_SEC33:
		r = vnc_parse_sec33(buf, len, &s->s33);
		if (r == PARSE_AGAIN)
			return PROBE_MORE;
		if (r < 0) {
			if (r == -ERR_TOOBIG) {
				s->have_33 = true;
				s->proto_error = true;
				s->problem = "failure reason longer than 1024 bytes";
			} else {
				s->problem = "invalid RFB 3.3 security type";
				s->proto_error = true;
			}
			*used = len;
			finish(s, out);
			return PROBE_DONE;
		}
		s->have_33 = true;
		*used = (size_t)r;
		finish(s, out);
		return PROBE_DONE;
	case VNC_VC_VER:
		r = vnc_parse_vencrypt_version(buf, len, &s->vcv);
		if (r == PARSE_AGAIN)
			return PROBE_MORE;
		*used = (size_t)r;
		if (s->vcv.major != 0 || s->vcv.minor != 2) {
			s->problem = "unsupported VeNCrypt version";
			finish(s, out);
			return PROBE_DONE;
		}
		if (probe_tx_put(tx, "\x00\x02", 2) < 0) {
			finish(s, out);
			return PROBE_DONE;
		}
		s->phase = VNC_VC_SUB;
		*again = true;
		return PROBE_MORE;
	case VNC_VC_SUB:
		r = vnc_parse_vencrypt_subtypes(buf, len, &s->sub);
		if (r == PARSE_AGAIN)
			return PROBE_MORE;
		*used = (size_t)r;
		if (s->sub.ack != 0)
			s->problem = "the server refused VeNCrypt 0.2";
		else
			s->have_sub = true;
		finish(s, out);
		return PROBE_DONE;
	case VNC_FINISHED:
		*used = len;
		return PROBE_DONE;
	}
	return PROBE_DONE;
}

static int vnc_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                    struct probe_tx *tx, struct probe_result *out)
{
	struct vnc_state *s = state;
	size_t off = 0;
	int r;

	if (len > 0)
		s->any_bytes = true;
	for (;;) {
		size_t used;
		bool again;

		r = step(s, buf + off, len - off, &used, tx, out, &again);
		off += used;
		if (r != PROBE_MORE || !again)
			break;
	}
	*consumed = off;
	return r;
}

static int vnc_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct vnc_state *s = state;

	if (s->phase == VNC_FINISHED)
		return PROBE_DONE;
	if (!s->any_bytes) {
		s->phase = VNC_FINISHED;
		return probe_no_bytes(out, why);
	}
	if (!s->have_version && s->partial_version) {
		out->state = SERVICE_PROTOCOL_ERROR;
		snprintf(out->service, sizeof(out->service), "vnc");
		s->problem = "incomplete RFB ProtocolVersion";
	} else if (!s->have_version) {
		out->state = SERVICE_OTHER;
		s->problem = "no RFB ProtocolVersion";
	} else if (s->phase == VNC_SEC || s->phase == VNC_SEC33) {
		s->problem = "the server sent its version and no security types";
	} else if (s->phase == VNC_VC_VER || s->phase == VNC_VC_SUB) {
		s->problem = "VeNCrypt sub-negotiation did not complete";
	}
	finish(s, out);
	probe_detail_set(out, "end", json_string(probe_end_name(why)));
	return PROBE_DONE;
}

const struct probe_ops probe_vnc = {
    .name = "vnc",
    .state_size = sizeof(struct vnc_state),
    /* version + a 255-type list or a reason cut at 1024 + VeNCrypt subtypes (255 x 4) */
    .max_rx = 4096,
    .idle_ms = 5000,
    .total_ms = 8000,
    .max_conns = 1,
    .start = vnc_start,
    .feed = vnc_feed,
    .end = vnc_end,
};
