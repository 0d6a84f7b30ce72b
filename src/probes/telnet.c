/* SPDX-License-Identifier: MIT */
/*
 * Telnet probe (PROTOCOLS.md §3): read what the server sends, refuse every option it asks for
 * (DO x -> WONT x, WILL x -> DONT x, once per option, §3.2), and collect its text until a prompt
 * shows: a login or password prompt ends the probe at once, so a real telnetd costs one round
 * trip after its negotiation, not an idle timeout. A server that negotiated but printed nothing is
 * given one more chance (§3.2 step 5): a second connection on which we send a single CR LF after
 * our refusals. Never a user name, never a password.
 */
#include "probes/probe.h"
#include "probes/parse/telnet_parse.h"

#include <stdio.h>
#include <string.h>

/* Text kept in details (the scan keeps 4 KiB). */
#define TELNET_DETAIL_TEXT    512
#define TELNET_MAX_OPTS_SHOWN 32

struct telnet_state {
	unsigned conn;
	bool any_bytes; /* on any connection */
	bool iac_ever;  /* option negotiation seen on any connection */
	bool crlf_sent;
	bool finished;
	bool scan_error; /* a subnegotiation past TELNET_SB_MAX */
	bool binary;     /* binary data before any negotiation */
	const char *problem;
	struct telnet_answered ans;
	struct telnet_scan scan; /* of the current connection, from its first byte */
	struct telnet_text_class cls;
};

static const char *opt_name(uint8_t o)
{
	switch (o) {
	case 0:
		return "BINARY";
	case 1:
		return "ECHO";
	case 3:
		return "SGA";
	case 5:
		return "STATUS";
	case 6:
		return "TIMING-MARK";
	case 24:
		return "TTYPE";
	case 31:
		return "NAWS";
	case 32:
		return "TSPEED";
	case 33:
		return "LFLOW";
	case 34:
		return "LINEMODE";
	case 35:
		return "XDISPLOC";
	case 36:
		return "OLD-ENVIRON";
	case 37:
		return "AUTHENTICATION";
	case 38:
		return "ENCRYPT";
	case 39:
		return "NEW-ENVIRON";
	default:
		return NULL;
	}
}

static const char *verb_name(uint8_t v)
{
	switch (v) {
	case TELNET_WILL:
		return "WILL";
	case TELNET_WONT:
		return "WONT";
	case TELNET_DO:
		return "DO";
	case TELNET_DONT:
		return "DONT";
	case TELNET_SB:
		return "SB";
	default:
		return "?";
	}
}

static json_t *options_json(const struct telnet_scan *sc)
{
	json_t *a = json_array();
	unsigned n = sc->ncmds < TELNET_CMDS_KEEP ? sc->ncmds : TELNET_CMDS_KEEP;

	for (unsigned i = 0; a && i < n && i < TELNET_MAX_OPTS_SHOWN; i++) {
		char s[32];
		const char *on = opt_name(sc->cmds[i].option);

		if (on)
			snprintf(s, sizeof(s), "%s %s", verb_name(sc->cmds[i].verb), on);
		else
			snprintf(s, sizeof(s), "%s %u", verb_name(sc->cmds[i].verb),
			         (unsigned)sc->cmds[i].option);
		json_array_append_new(a, json_string(s));
	}
	return a;
}

static bool has_printable(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] > ' ' && t[i] < 0x7f)
			return true;
	return false;
}

/* The last non-empty line of the text (the prompt), without trailing blanks: the probe stops as
 * soon as the prompt is recognised, whether or not its trailing space has arrived. */
static json_t *last_line(const char *t, size_t n)
{
	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == ' '))
		n--;
	size_t b = n;
	while (b > 0 && t[b - 1] != '\n')
		b--;
	if (n - b > 128)
		b = n - 128;
	return json_stringn(t + b, n - b);
}

/*
 * Binary data rather than a Telnet server: control bytes that no terminal text carries (other than
 * NUL, BEL, BS, TAB, LF, CR, ESC) in the first 64 bytes before the first IAC. Bytes >= 0x80 are not
 * counted: banners in Shift_JIS or UTF-8 are common.
 */
static bool binary_lead(const uint8_t *buf, size_t len)
{
	unsigned bad = 0;

	for (size_t i = 0; i < len && i < 64 && buf[i] != TELNET_IAC; i++)
		if (buf[i] < 0x20 && buf[i] != 0 && buf[i] != 7 && buf[i] != 8 && buf[i] != 9 &&
		    buf[i] != 10 && buf[i] != 13 && buf[i] != 0x1b)
			bad++;
	return bad >= 4;
}

static int telnet_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct telnet_state *s = state;

	(void)tx, (void)out;
	s->conn = conn;
	memset(&s->ans, 0, sizeof(s->ans));
	memset(&s->scan, 0, sizeof(s->scan));
	memset(&s->cls, 0, sizeof(s->cls));
	return PROBE_MORE;
}

static void finish(struct telnet_state *s, struct probe_result *out)
{
	const struct telnet_scan *sc = &s->scan;
	const struct telnet_text_class *c = &s->cls;
	bool text = has_printable(sc->text, sc->text_len);

	s->finished = true;
	if (sc->ncmds > 0 || s->conn == 0)
		probe_detail_set(out, "options_seen", options_json(sc));
	if (text) {
		size_t n = sc->text_len < TELNET_DETAIL_TEXT ? sc->text_len : TELNET_DETAIL_TEXT;

		probe_detail_set(out, "text", json_stringn(sc->text, n));
		if (sc->truncated || n < sc->text_len)
			probe_detail_set(out, "text_truncated", json_true());
		if (c->banner[0])
			probe_detail_set(out, "banner", json_string(c->banner));
		if (c->login_prompt || c->password_prompt || c->shell_prompt)
			probe_detail_set(out, "prompt", last_line(sc->text, sc->text_len));
	}
	if (s->crlf_sent)
		probe_detail_set(out, "sent_crlf", json_true());
	if (s->problem)
		probe_detail_set(out, "reason", json_string(s->problem));

	if (s->binary) {
		out->state = SERVICE_OTHER;
		return;
	}
	if (c->service != TELNET_SVC_TELNET && !s->iac_ever) {
		static const char *const names[TELNET_SVC_X_MAX] = {"", "ssh", "http", "vnc"};

		out->state = SERVICE_OTHER;
		snprintf(out->service, sizeof(out->service), "%s", names[c->service]);
		return;
	}
	if (s->iac_ever) {
		out->state = SERVICE_IDENTIFIED;
		probe_add_finding(out, "telnet-exposed", SEVERITY_HIGH, CONFIDENCE_CONFIRMED,
		                  "the server negotiates Telnet options");
	} else if (c->login_prompt || c->password_prompt) {
		out->state = SERVICE_IDENTIFIED;
		probe_add_finding(out, "telnet-exposed", SEVERITY_HIGH, CONFIDENCE_LIKELY,
		                  "a login prompt in clear text, without option negotiation");
	} else if (c->no_auth_shell) {
		out->state = SERVICE_IDENTIFIED;
	} else if (text) {
		out->state = SERVICE_OTHER;
		return;
	} else if (s->scan_error) {
		out->state = SERVICE_PROTOCOL_ERROR;
		return;
	} else {
		return; /* no bytes: state set by telnet_end() */
	}
	snprintf(out->service, sizeof(out->service), "telnet");
	/* A login or password prompt before any shell: a shell without a password it is not. */
	if (!c->no_auth_shell && (c->login_prompt || c->password_prompt))
		probe_answer(out, "telnet-no-auth-shell", PROBE_ANSWER_NO);
	if (c->no_auth_shell)
		probe_add_finding(out, "telnet-no-auth-shell", SEVERITY_CRITICAL, CONFIDENCE_LIKELY,
		                  c->shell_banner ? "a shell banner before any login prompt"
		                                  : "a shell prompt before any login prompt");
}

static int telnet_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                       struct probe_tx *tx, struct probe_result *out)
{
	struct telnet_state *s = state;
	int r;

	/*
	 * The scanner is stateless: it is run on everything this connection sent, so nothing is
	 * consumed and max_rx bounds the whole conversation.
	 */
	*consumed = 0;
	if (s->finished) {
		*consumed = len;
		return PROBE_DONE;
	}
	if (len > 0)
		s->any_bytes = true;
	r = telnet_parse(buf, len, &s->scan);
	if (r < 0) {
		s->scan_error = true;
		s->problem = "subnegotiation longer than 512 bytes";
		s->iac_ever |= s->scan.ncmds > 0;
		telnet_classify(s->scan.text, s->scan.text_len, &s->cls);
		finish(s, out);
		*consumed = len;
		return PROBE_DONE;
	}
	if (binary_lead(buf, len)) {
		s->binary = true;
		s->problem = "binary data, not Telnet";
		finish(s, out);
		*consumed = len;
		return PROBE_DONE;
	}
	if (s->scan.ncmds > 0)
		s->iac_ever = true;
	telnet_classify(s->scan.text, s->scan.text_len, &s->cls);

	if (s->cls.service != TELNET_SVC_TELNET && s->scan.ncmds == 0) {
		finish(s, out);
		*consumed = len;
		return PROBE_DONE;
	}
	if (s->cls.login_prompt || s->cls.password_prompt ||
	    (s->cls.no_auth_shell && s->cls.shell_prompt) || s->scan.truncated) {
		finish(s, out);
		*consumed = len;
		return PROBE_DONE;
	}
	r = telnet_build_replies(&s->scan, &s->ans, 0, tx->buf + tx->len, tx->cap - tx->len);
	if (r > 0)
		tx->len += (size_t)r;
	/* second connection (§3.2 step 5): one CR LF once our first refusals are queued */
	if (s->conn > 0 && !s->crlf_sent && r >= 0 && probe_tx_put(tx, "\r\n", 2) == 0)
		s->crlf_sent = true;
	return PROBE_MORE;
}

static int telnet_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct telnet_state *s = state;

	if (s->finished)
		return PROBE_DONE;
	if (s->conn == 0 && why == PROBE_END_IDLE && s->scan.ncmds > 0 &&
	    !has_printable(s->scan.text, s->scan.text_len)) {
		/* negotiation but no text: try once more with a CR LF (§3.2 step 5) */
		probe_detail_set(out, "options_seen", options_json(&s->scan));
		return PROBE_RECONNECT;
	}
	if (!s->any_bytes) {
		s->finished = true;
		return probe_no_bytes(out, why);
	}
	finish(s, out);
	probe_detail_set(out, "end", json_string(probe_end_name(why)));
	return PROBE_DONE;
}

const struct probe_ops probe_telnet = {
    .name = "telnet",
    .state_size = sizeof(struct telnet_state),
    /* 4 KiB of text plus room for the negotiation around it */
    .max_rx = 2 * TELNET_TEXT_MAX,
    .idle_ms = 3000,
    .total_ms = 10000,
    .max_conns = 2,
    .start = telnet_start,
    .feed = telnet_feed,
    .end = telnet_end,
};
