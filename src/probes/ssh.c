/* SPDX-License-Identifier: MIT */
/*
 * SSH probe (PROTOCOLS.md §2): read the identification line (pre-banner lines capped, §2.2),
 * send our own identification "SSH-2.0-SelfCheck_1.0\r\n" (handshake level: it spares the server
 * a "did not receive identification" log line), read the server's KEXINIT (which a server sends
 * unprompted, RFC 4253 §7.1, possibly in the same segment as its banner) and stop. Nothing else is
 * sent: no KEXINIT of ours, no authentication.
 */
#include "probes/probe.h"
#include "probes/parse/ssh_parse.h"

#include <stdio.h>
#include <string.h>

#define SSH_CLIENT_IDENT "SSH-2.0-SelfCheck_1.0\r\n"
/* Packets skipped while waiting for KEXINIT (a server may send SSH_MSG_IGNORE first). */
#define SSH_MAX_SKIP 4
/* Bytes of another service's first line kept for details. */
#define SSH_OTHER_TEXT 128

enum ssh_phase { SSH_BANNER = 0, SSH_KEX, SSH_FINISHED };

struct ssh_state {
	enum ssh_phase phase;
	bool any_bytes;
	bool have_ident;
	bool have_kex;
	unsigned skipped;
	const char *other;   /* guess when another service answers ("http", ...), or NULL */
	const char *problem; /* why the conversation stopped short, or NULL */
	char other_text[SSH_OTHER_TEXT];
	struct ssh_banner b;
	struct ssh_kexinit k;
};

static int ssh_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)state, (void)conn, (void)tx, (void)out;
	return PROBE_MORE; /* the server speaks first (RFC 4253 §4.2) */
}

/* A comma-separated name-list (already printable ASCII) as a JSON array of names. */
static json_t *name_list(const char *text)
{
	json_t *a = json_array();
	const char *p = text;

	if (a == NULL)
		return NULL;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p += n + (c ? 1 : 0);
	}
	return a;
}

static json_t *kex_json(const struct ssh_kexinit *k)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "kex_algorithms", name_list(k->kex));
	json_object_set_new(o, "server_host_key_algorithms", name_list(k->hostkey));
	json_object_set_new(o, "encryption_c2s", name_list(k->enc_c2s));
	json_object_set_new(o, "encryption_s2c", name_list(k->enc_s2c));
	json_object_set_new(o, "mac_c2s", name_list(k->mac_c2s));
	json_object_set_new(o, "mac_s2c", name_list(k->mac_s2c));
	json_object_set_new(o, "compression_c2s", name_list(k->comp_c2s));
	json_object_set_new(o, "compression_s2c", name_list(k->comp_s2c));
	json_object_set_new(o, "strict_kex", json_boolean(k->alg_flags & SSH_ALG_STRICT_KEX));
	if (k->truncated)
		json_object_set_new(o, "truncated", json_true());
	return o;
}

static json_t *pre_lines_json(const struct ssh_banner *b)
{
	json_t *a = json_array();
	unsigned n = b->pre_lines < SSH_PRE_KEEP ? b->pre_lines : SSH_PRE_KEEP;

	for (unsigned i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(b->pre[i]));
	return a;
}

static json_t *flags_json(unsigned f)
{
	static const char *const names[] = {"no-cr", "overlong", "non-printable",
	                                    "nul",   "no-dash",  "malformed"};
	json_t *a = json_array();

	for (unsigned i = 0; a && i < sizeof(names) / sizeof(names[0]); i++)
		if (f & (1u << i))
			json_array_append_new(a, json_string(names[i]));
	return a;
}

static void add_findings(const struct ssh_state *s, struct probe_result *out)
{
	const struct ssh_ident *id = &s->b.ident;
	char names[FINDING_REASON_MAX];
	char reason[FINDING_REASON_MAX + 16]; /* cut to fit by probe_add_finding */

	if (id->kind == SSH_PROTO_1_99)
		probe_add_finding(out, "ssh1-enabled", SEVERITY_HIGH, CONFIDENCE_CONFIRMED,
		                  "protocol 1.99: SSH-2 with SSH-1 compatibility");
	else if (id->kind == SSH_PROTO_1)
		probe_add_finding(out, "ssh1-enabled", SEVERITY_HIGH, CONFIDENCE_CONFIRMED,
		                  "protocol 1.x: SSH-1 only");
	if (!s->have_kex)
		return;

	unsigned f = s->k.alg_flags;
	unsigned weak = SSH_ALG_WEAK_KEX | SSH_ALG_WEAK_HOSTKEY | SSH_ALG_WEAK_CIPHER |
	                SSH_ALG_WEAK_MAC | SSH_ALG_NONE_CIPHER | SSH_ALG_NONE_MAC;
	if (f & weak) {
		bool none = f & (SSH_ALG_NONE_CIPHER | SSH_ALG_NONE_MAC);
		int n = ssh_kexinit_weak_names(&s->k, names, sizeof(names) - 16);

		snprintf(reason, sizeof(reason), "offers %s%s", n > 0 ? names : "weak algorithms",
		         n == -ERR_TOOBIG ? ",..." : "");
		probe_add_finding(out, "ssh-weak-algorithms",
		                  none ? SEVERITY_HIGH : SEVERITY_MEDIUM, CONFIDENCE_CONFIRMED,
		                  reason);
	}
	if (f & SSH_ALG_TERRAPIN_PRONE)
		probe_add_finding(out, "ssh-terrapin-prone", SEVERITY_MEDIUM, CONFIDENCE_LIKELY,
		                  f & SSH_ALG_CHACHA20
		                      ? "chacha20-poly1305 without strict key exchange"
		                      : "CBC cipher with an EtM MAC without strict key exchange");
}

/* Write everything learnt so far into out (idempotent). */
static void finish(struct ssh_state *s, struct probe_result *out)
{
	const struct ssh_ident *id = &s->b.ident;
	char line[sizeof(id->proto) + sizeof(id->software) + sizeof(id->comment) + 8];

	s->phase = SSH_FINISHED;
	if (s->b.pre_lines > 0) {
		probe_detail_set(out, "pre_banner_lines", json_integer(s->b.pre_lines));
		probe_detail_set(out, "pre_banner", pre_lines_json(&s->b));
	}
	if (!s->have_ident) {
		if (!s->any_bytes) {
			/* state set by ssh_end() */
		} else if (strncmp(s->other_text, "SSH-", 4) == 0) {
			/* an identification line that never ended: SSH-like, then broken */
			out->state = SERVICE_PROTOCOL_ERROR;
			snprintf(out->service, sizeof(out->service), "ssh");
			probe_detail_set(out, "first_line", json_string(s->other_text));
		} else {
			out->state = SERVICE_OTHER;
			if (s->other)
				snprintf(out->service, sizeof(out->service), "%s", s->other);
			if (s->other_text[0])
				probe_detail_set(out, "first_line", json_string(s->other_text));
		}
		if (s->problem)
			probe_detail_set(out, "reason", json_string(s->problem));
		return;
	}
	snprintf(line, sizeof(line), "SSH-%s%s%s%s%s", id->proto,
	         id->flags & SSH_IDENT_F_NO_DASH ? "" : "-", id->software,
	         id->comment[0] ? " " : "", id->comment);
	snprintf(out->service, sizeof(out->service), "ssh");
	out->state = id->kind == SSH_PROTO_OTHER ? SERVICE_PROTOCOL_ERROR : SERVICE_IDENTIFIED;
	probe_detail_set(out, "banner", json_string(line));
	probe_detail_set(out, "proto", json_string(id->proto));
	probe_detail_set(out, "software", json_string(id->software));
	probe_detail_set(out, "comments", json_string(id->comment));
	if (s->b.pre_lines == 0)
		probe_detail_set(out, "pre_banner_lines", json_integer(0));
	if (id->flags)
		probe_detail_set(out, "banner_flags", flags_json(id->flags));
	if (s->have_kex)
		probe_detail_set(out, "kex", kex_json(&s->k));
	else if (s->problem)
		probe_detail_set(out, "kex_error", json_string(s->problem));
	add_findings(s, out);
}

static bool has_prefix(const uint8_t *buf, size_t len, const char *p)
{
	size_t n = strlen(p);

	return len >= n && memcmp(buf, p, n) == 0;
}

/* Another well-known service on the port? Decided from the first bytes, before any line. */
static const char *other_service(const uint8_t *buf, size_t len)
{
	if (len == 0)
		return NULL;
	if (has_prefix(buf, len, "HTTP/"))
		return "http";
	if (has_prefix(buf, len, "RFB "))
		return "vnc";
	if (buf[0] == 0xff)
		return "telnet";
	if (len >= 2 && buf[0] == 0x16 && buf[1] == 0x03)
		return "tls";
	if (len >= 2 && buf[0] == 0x03 && buf[1] == 0x00)
		return "rdp";
	return NULL;
}

static void keep_first_line(struct ssh_state *s, const uint8_t *buf, size_t len)
{
	probe_first_line(s->other_text, sizeof(s->other_text), buf, len);
}

static int feed_kex(struct ssh_state *s, const uint8_t *buf, size_t len, size_t *off,
                    struct probe_result *out)
{
	for (;;) {
		struct ssh_packet pkt;
		int r = ssh_parse_kexinit(buf + *off, len - *off, &s->k);

		if (r > 0) {
			*off += (size_t)r;
			s->have_kex = true;
			finish(s, out);
			return PROBE_DONE;
		}
		if (r == PARSE_AGAIN)
			return PROBE_MORE;
		if (r == -ERR_UNSUPPORTED && s->skipped < SSH_MAX_SKIP &&
		    ssh_parse_packet(buf + *off, len - *off, &pkt) > 0) {
			s->skipped++;
			*off += 4 + (size_t)pkt.packet_length;
			continue;
		}
		s->problem = r == -ERR_UNSUPPORTED ? "no KEXINIT among the first packets"
		                                   : "malformed KEXINIT packet";
		finish(s, out);
		return PROBE_DONE;
	}
}

static int ssh_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                    struct probe_tx *tx, struct probe_result *out)
{
	struct ssh_state *s = state;
	size_t off = 0;
	int r;

	*consumed = 0;
	if (len > 0)
		s->any_bytes = true;
	if (s->phase == SSH_FINISHED) {
		*consumed = len;
		return PROBE_DONE;
	}
	if (s->phase == SSH_KEX) {
		r = feed_kex(s, buf, len, &off, out);
		*consumed = off;
		return r;
	}

	r = ssh_parse_banner(buf, len, &s->b);
	if (r == PARSE_AGAIN) {
		keep_first_line(s, buf, len);
		if ((s->other = other_service(buf, len)) != NULL) {
			s->problem = "another service answers";
			finish(s, out);
			*consumed = len;
			return PROBE_DONE;
		}
		return PROBE_MORE;
	}
	if (r < 0) {
		keep_first_line(s, buf, len);
		s->other = other_service(buf, len);
		s->problem = r == -ERR_TOOBIG ? "no SSH identification within the pre-banner caps"
		                              : "binary data instead of an SSH identification";
		finish(s, out);
		*consumed = len;
		return PROBE_DONE;
	}
	off = (size_t)r;
	s->have_ident = true;
	if (s->b.ident.kind == SSH_PROTO_1 || s->b.ident.kind == SSH_PROTO_OTHER) {
		/* SSH-1 only, or an unknown version: there is no SSH-2 KEXINIT to wait for */
		finish(s, out);
		*consumed = len;
		return PROBE_DONE;
	}
	if (probe_tx_put(tx, SSH_CLIENT_IDENT, strlen(SSH_CLIENT_IDENT)) < 0) {
		s->problem = "could not send our identification";
		finish(s, out);
		*consumed = len;
		return PROBE_DONE;
	}
	s->phase = SSH_KEX;
	r = feed_kex(s, buf, len, &off, out);
	*consumed = off;
	return r;
}

static int ssh_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct ssh_state *s = state;

	if (s->phase == SSH_FINISHED)
		return PROBE_DONE;
	if (!s->any_bytes) {
		s->phase = SSH_FINISHED;
		return probe_no_bytes(out, why);
	}
	if (s->phase == SSH_BANNER)
		s->problem = why == PROBE_END_TOOBIG ? "no SSH identification within the byte cap"
		             : why == PROBE_END_DEADLINE
		                 ? "no SSH identification before the deadline"
		                 : "no SSH identification line";
	else
		s->problem = why == PROBE_END_IDLE || why == PROBE_END_DEADLINE
		                 ? "no KEXINIT before the timeout"
		                 : "connection ended before KEXINIT";
	finish(s, out);
	probe_detail_set(out, "end", json_string(probe_end_name(why)));
	return PROBE_DONE;
}

const struct probe_ops probe_ssh = {
    .name = "ssh",
    .state_size = sizeof(struct ssh_state),
    /* pre-banner caps (8 KiB) + identification (8 KiB scan) + one KEXINIT (35000) */
    .max_rx = SSH_PRE_MAX_TOTAL + SSH_IDENT_SCAN_MAX + SSH_PACKET_MAX + 4,
    .idle_ms = 5000,
    .total_ms = 10000,
    .max_conns = 1,
    .start = ssh_start,
    .feed = ssh_feed,
    .end = ssh_end,
};
