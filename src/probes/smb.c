/* SPDX-License-Identifier: MIT */
/*
 * SMB probe (TCP 445), PROTOCOLS.md §5 and §6, and the SMB conversation it shares with the netbios
 * probe (smb_internal.h). Non-intrusive: negotiation, an anonymous null session to IPC$ and the
 * PeekNamedPipe transaction that unpatched srv.sys answers with STATUS_INSUFF_SERVER_RESOURCES;
 * the DoublePulsar ping only after "vulnerable". Never credentials, never a write, never the
 * implant's uninstall command.
 */
#include "probes/smb_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* Request MIDs of PROTOCOLS.md §6 (the emulators echo them). */
#define MID_STEPS 0x0040
#define MID_TRANS 0x0041

/* Tree connect host when the server did not name itself (Samba and Windows accept their own
 * NetBIOS name; the probe interface does not carry the target's address). */
#define TREE_HOST_FALLBACK "*SMBSERVER"

static const uint16_t smb2_enum[SMB2_ENUM_N] = {0x0202, 0x0210, 0x0300, 0x0302};

static const char *const step_names[] = {
    [SMB_STEP_NEG] = "NEGOTIATE",     [SMB_STEP_SESSION] = "SESSION_SETUP",
    [SMB_STEP_TREE] = "TREE_CONNECT", [SMB_STEP_TRANS] = "TRANSACTION",
    [SMB_STEP_DP] = "TRANSACTION2",   [SMB_STEP_DONE] = "end",
};

void smb_run_init(struct smb_run *s, bool nbt)
{
	memset(s, 0, sizeof(*s));
	s->nbt = nbt;
	s->kind = SMB_CONN_SMB1;
}

static void ms17_set(struct smb_run *s, enum ms17_state v, const char *reason)
{
	s->ms17 = v;
	snprintf(s->ms17_reason, sizeof(s->ms17_reason), "%s", reason);
}

/* An NT status or DOS error as text. */
static void status_text(char *dst, size_t size, const struct smb1_header *h)
{
	if (h->nt_status)
		snprintf(dst, size, "%s (0x%08X)", smb_status_name(h->status), (unsigned)h->status);
	else
		snprintf(dst, size, "DOS error class %u code %u", h->dos_class, h->dos_code);
}

/* ---- requests */

static int queue(struct probe_tx *tx, const uint8_t *b, int n)
{
	if (n < 0)
		return n;
	return probe_tx_put(tx, b, (size_t)n);
}

static void random_bytes(uint8_t *b, size_t n)
{
	static uint32_t fallback = 0x9e3779b9u;

	if (getrandom(b, n, GRND_NONBLOCK) == (ssize_t)n)
		return;
	for (size_t i = 0; i < n; i++) {
		fallback = fallback * 1103515245u + 12345u;
		b[i] = (uint8_t)(fallback >> 16);
	}
}

/*
 * The first SMB2 connection offers every dialect we know, lowest first; 3.1.1 last and only on
 * direct TCP (SMB over NetBIOS stops at 3.0.2, [MS-SMB2] §3.2.5.2).
 */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const uint16_t smb2_offer_all[] = {SMB2_DIALECT_202, SMB2_DIALECT_210, SMB2_DIALECT_300,
                                          SMB2_DIALECT_302, SMB2_DIALECT_311};

static int send_smb2_negotiate(struct probe_tx *tx, const uint16_t *dialects, unsigned n_dialects)
{
	uint8_t b[SMB2_NEGOTIATE_REQ_MAX], guid[SMB2_GUID_LEN], salt[SMB2_SALT_LEN];

	random_bytes(guid, sizeof(guid));
	random_bytes(salt, sizeof(salt));
	return queue(tx, b, smb2_build_negotiate(b, sizeof(b), dialects, n_dialects, guid, salt));
}

static int send_step(struct smb_run *s, struct probe_tx *tx)
{
	uint8_t b[SMB1_TREE_CONNECT_REQ_MAX + SMB1_NEGOTIATE_REQ_LEN];

	switch (s->step) {
	case SMB_STEP_NEG:
		return queue(tx, b, smb1_build_negotiate(b, sizeof(b), MID_STEPS));
	case SMB_STEP_SESSION:
		return queue(tx, b, smb1_build_session_setup_anon(b, sizeof(b), MID_STEPS));
	case SMB_STEP_TREE: {
		const char *host = s->server_name[0] ? s->server_name : TREE_HOST_FALLBACK;
		int n = smb1_build_tree_connect_ipc(b, sizeof(b), s->uid, MID_STEPS, host);

		if (n == -ERR_RANGE) /* a name we cannot put in a path ('\\', '?'...) */
			n = smb1_build_tree_connect_ipc(b, sizeof(b), s->uid, MID_STEPS,
			                                TREE_HOST_FALLBACK);
		return queue(tx, b, n);
	}
	case SMB_STEP_TRANS:
		return queue(tx, b, smb1_build_trans_peek(b, sizeof(b), s->tid, s->uid, MID_TRANS));
	case SMB_STEP_DP:
		return queue(tx, b, smb1_build_trans2_dp_ping(b, sizeof(b), s->tid, s->uid));
	default:
		return 0;
	}
}

int smb_run_start(struct smb_run *s, struct probe_tx *tx, struct probe_result *out)
{
	int r;

	s->conn_bytes = false;
	s->partial = false;
	s->step = SMB_STEP_NEG;
	switch (s->kind) {
	case SMB_CONN_SMB1:
		r = send_step(s, tx);
		break;
	case SMB_CONN_SMB2_MAX:
		/* 3.1.1 is the last of smb2_offer_all */
		r = send_smb2_negotiate(tx, smb2_offer_all, ARRAY_LEN(smb2_offer_all) - s->nbt);
		break;
	case SMB_CONN_SMB2_ONE:
		r = send_smb2_negotiate(tx, &smb2_enum[s->enum_idx], 1);
		break;
	default:
		s->finished = true;
		smb_run_report(s, out);
		return PROBE_DONE;
	}
	if (r < 0) {
		s->finished = true;
		smb_run_report(s, out);
		return r;
	}
	return PROBE_MORE;
}

/* ---- what comes next */

/* Choose the next connection after the current one; PROBE_RECONNECT or PROBE_DONE. */
static int next_conn(struct smb_run *s, struct probe_result *out)
{
	switch (s->kind) {
	case SMB_CONN_SMB1:
		s->kind = SMB_CONN_SMB2_MAX;
		break;
	case SMB_CONN_SMB2_MAX:
	case SMB_CONN_SMB2_ONE:
		if (s->kind == SMB_CONN_SMB2_ONE)
			s->enum_idx++;
		s->kind = SMB_CONN_NONE;
		if (!s->smb2_answered)
			break;
		/* The max dialect is known to work; each lower one gets its own connection. */
		if (s->enum_idx < SMB2_ENUM_N && smb2_enum[s->enum_idx] < s->smb2_dialect &&
		    s->smb2_dialect != 0x02FF)
			s->kind = SMB_CONN_SMB2_ONE;
		break;
	default:
		s->kind = SMB_CONN_NONE;
		break;
	}
	smb_run_report(s, out);
	if (s->kind == SMB_CONN_NONE) {
		s->finished = true;
		return PROBE_DONE;
	}
	return PROBE_RECONNECT;
}

/* ---- SMB1 conversation */

static int on_negotiate(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_tx *tx,
                        struct probe_result *out)
{
	struct smb1_negotiate n;
	int r = smb1_parse_negotiate(buf, len, &n);
	char st[64];

	if (r == -ERR_UNSUPPORTED) {
		/* An SMB2 answer to an SMB1-only NEGOTIATE: SMB1 is off (§5.3). */
		s->any_smb = true;
		s->smb1 = SMB1_OFF;
		snprintf(s->smb1_reason, sizeof(s->smb1_reason), "SMB2 reply to SMB1 NEGOTIATE");
		ms17_set(s, MS17_STATE_NOT_APPLICABLE, "SMBv1 is disabled");
		return next_conn(s, out);
	}
	if (r < 0) {
		s->broken = true;
		s->smb1 = SMB1_UNDECIDED;
		snprintf(s->smb1_reason, sizeof(s->smb1_reason), "malformed NEGOTIATE reply (%s)",
		         err_name(r));
		ms17_set(s, MS17_STATE_UNKNOWN, "malformed SMB1 NEGOTIATE reply");
		return next_conn(s, out);
	}
	s->any_smb = true;
	if (!smb1_negotiate_accepted(&n)) {
		s->smb1 = SMB1_OFF;
		if (n.form == SMB1_NEG_ERROR) {
			status_text(st, sizeof(st), &n.hdr);
			snprintf(s->smb1_reason, sizeof(s->smb1_reason), "NEGOTIATE refused: %s",
			         st);
		} else {
			snprintf(s->smb1_reason, sizeof(s->smb1_reason),
			         "no SMB1 dialect accepted (index 0x%04X)", n.dialect_index);
		}
		ms17_set(s, MS17_STATE_NOT_APPLICABLE, "SMBv1 is disabled");
		return next_conn(s, out);
	}
	s->smb1 = SMB1_ON;
	s->smb1_dialect_index = n.dialect_index;
	s->smb1_secmode = n.security_mode;
	s->smb1_lanman = n.form == SMB1_NEG_LANMAN;
	snprintf(s->server_name, sizeof(s->server_name), "%s", n.server);
	snprintf(s->domain, sizeof(s->domain), "%s", n.domain);
	snprintf(s->smb1_reason, sizeof(s->smb1_reason), "NEGOTIATE answered (WordCount %u)",
	         n.hdr.word_count);
	if (n.form != SMB1_NEG_NT || n.dialect_index != SMB1_DIALECT_NT_LM) {
		ms17_set(s, MS17_STATE_UNKNOWN, "server chose a LANMAN dialect, not NT LM 0.12");
		return next_conn(s, out);
	}
	if (n.extended) {
		/* Our request has no EXTENDED_SECURITY; a server that insists cannot take the
		 * non-extended anonymous login of §6.3. */
		ms17_set(s, MS17_STATE_UNKNOWN, "server requires extended security");
		return next_conn(s, out);
	}
	s->step = SMB_STEP_SESSION;
	r = send_step(s, tx);
	if (r < 0)
		return r;
	smb_run_report(s, out);
	return PROBE_MORE;
}

static int on_session(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_tx *tx,
                      struct probe_result *out)
{
	struct smb1_session_setup ss;
	int r = smb1_parse_session_setup(buf, len, &ss);
	char st[64], why[SMB_REASON_MAX];

	if (r < 0 || ss.hdr.command != SMB1_COM_SESSION_SETUP_ANDX || ss.hdr.mid != MID_STEPS) {
		s->broken = r < 0;
		ms17_set(s, MS17_STATE_UNKNOWN, "unexpected reply to SESSION_SETUP_ANDX");
		return next_conn(s, out);
	}
	if (ss.hdr.nt_status && ss.hdr.status == SMB_STATUS_REQUEST_NOT_ACCEPTED && !s->retried) {
		/* Too many sessions: one retry (§6.3; the probe has no timer for nmap's back-off).
		 */
		s->retried = true;
		r = send_step(s, tx);
		return r < 0 ? r : PROBE_MORE;
	}
	if (ss.hdr.status != 0) {
		status_text(st, sizeof(st), &ss.hdr);
		snprintf(why, sizeof(why), "needs credentials: anonymous login refused, %s", st);
		ms17_set(s, MS17_STATE_UNKNOWN, why);
		return next_conn(s, out);
	}
	s->session_ok = true;
	s->uid = ss.hdr.uid;
	snprintf(s->native_os, sizeof(s->native_os), "%s", ss.native_os);
	snprintf(s->native_lanman, sizeof(s->native_lanman), "%s", ss.native_lanman);
	s->step = SMB_STEP_TREE;
	r = send_step(s, tx);
	if (r < 0)
		return r;
	smb_run_report(s, out);
	return PROBE_MORE;
}

static int on_tree(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_tx *tx,
                   struct probe_result *out)
{
	struct smb1_tree_connect tc;
	int r = smb1_parse_tree_connect(buf, len, &tc);
	char st[64], why[SMB_REASON_MAX];

	if (r < 0 || tc.hdr.command != SMB1_COM_TREE_CONNECT_ANDX || tc.hdr.mid != MID_STEPS) {
		s->broken = r < 0;
		ms17_set(s, MS17_STATE_UNKNOWN, "unexpected reply to TREE_CONNECT_ANDX");
		return next_conn(s, out);
	}
	if (tc.hdr.status != 0 || tc.hdr.tid == 0) {
		status_text(st, sizeof(st), &tc.hdr);
		snprintf(why, sizeof(why), "needs credentials: IPC$ refused, %s", st);
		ms17_set(s, MS17_STATE_UNKNOWN, why);
		return next_conn(s, out);
	}
	s->tid = tc.hdr.tid;
	s->step = SMB_STEP_TRANS;
	r = send_step(s, tx);
	return r < 0 ? r : PROBE_MORE;
}

static int on_trans(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_tx *tx,
                    struct probe_result *out)
{
	struct smb1_header h;
	const char *reason = "";
	char st[64], why[SMB_REASON_MAX];
	int r = smb1_parse_header(buf, len, &h);

	if (r < 0) {
		s->broken = true;
		ms17_set(s, MS17_STATE_UNKNOWN, "malformed reply to the PeekNamedPipe TRANSACTION");
		return next_conn(s, out);
	}
	switch (smb1_ms17_classify(&h, MID_TRANS, &reason)) {
	case MS17_VULNERABLE:
		ms17_set(s, MS17_STATE_VULNERABLE, reason);
		s->step = SMB_STEP_DP;
		r = send_step(s, tx);
		if (r < 0)
			return r;
		smb_run_report(s, out);
		return PROBE_MORE;
	case MS17_NOT_VULNERABLE:
		ms17_set(s, MS17_STATE_NOT_VULNERABLE, reason);
		return next_conn(s, out);
	default:
		status_text(st, sizeof(st), &h);
		snprintf(why, sizeof(why), "%s: command 0x%02X, %s", reason, h.command, st);
		ms17_set(s, MS17_STATE_UNKNOWN, why);
		return next_conn(s, out);
	}
}

static int on_dp(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_result *out)
{
	struct smb1_header h;
	struct dp_result dp;
	int r = smb1_parse_header(buf, len, &h);

	if (r < 0) {
		s->dp = DP_STATE_UNKNOWN;
		snprintf(s->dp_reason, sizeof(s->dp_reason), "malformed reply to the ping");
		return next_conn(s, out);
	}
	switch (smb1_doublepulsar_classify(&h, &dp)) {
	case DP_PRESENT:
		s->dp = DP_STATE_PRESENT;
		s->dp_x64 = dp.x64;
		s->dp_key = dp.xor_key;
		break;
	case DP_NOT_DETECTED:
		s->dp = DP_STATE_ABSENT;
		break;
	default:
		s->dp = DP_STATE_UNKNOWN;
		break;
	}
	snprintf(s->dp_reason, sizeof(s->dp_reason), "%s", dp.reason);
	return next_conn(s, out);
}

/* ---- SMB2 */

static int on_smb2(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_result *out)
{
	struct smb2_negotiate n;
	int r = smb2_parse_negotiate(buf, len, &n);

	if (r < 0) {
		if (r == -ERR_UNSUPPORTED)
			s->any_smb = true; /* an SMB1 answer to SMB2: no SMB2 */
		else
			s->broken = true;
		if (s->kind == SMB_CONN_SMB2_MAX)
			snprintf(s->smb2_reason, sizeof(s->smb2_reason), "%s",
			         r == -ERR_UNSUPPORTED ? "SMB1 reply to SMB2 NEGOTIATE"
			                               : "malformed SMB2 NEGOTIATE reply");
		return next_conn(s, out);
	}
	s->any_smb = true;
	if (s->kind == SMB_CONN_SMB2_MAX) {
		if (n.status == 0) {
			s->smb2_answered = true;
			s->smb2_dialect = n.dialect;
			s->smb2_secmode = n.security_mode;
			s->smb2_caps = n.capabilities;
			snprintf(s->smb2_reason, sizeof(s->smb2_reason), "NEGOTIATE answered");
		} else {
			snprintf(s->smb2_reason, sizeof(s->smb2_reason), "NEGOTIATE refused: %s",
			         smb_status_name(n.status));
		}
	} else if (s->kind == SMB_CONN_SMB2_ONE && s->enum_idx < SMB2_ENUM_N) {
		s->enum_tried[s->enum_idx] = true;
		s->enum_ok[s->enum_idx] = n.status == 0 && n.dialect == smb2_enum[s->enum_idx];
	}
	return next_conn(s, out);
}

int smb_run_feed(struct smb_run *s, const uint8_t *buf, size_t len, size_t *consumed,
                 struct probe_tx *tx, struct probe_result *out)
{
	size_t off = 0;
	int ret = PROBE_MORE;

	*consumed = 0;
	if (len > 0) {
		s->conn_bytes = true;
		s->any_bytes = true;
	}
	while (ret == PROBE_MORE && off < len) {
		struct smb_frame f;
		int r = smb_frame_parse(buf + off, len - off, &f);

		if (r == PARSE_AGAIN)
			break;
		if (r < 0) {
			/* Not SMB framing at all (HTTP, TLS...) or a frame we will not buffer. */
			if (r == -ERR_SYNTAX && !s->any_smb)
				s->other = true;
			else
				s->broken = true;
			if (s->kind == SMB_CONN_SMB1 && s->step == SMB_STEP_NEG) {
				s->smb1 = SMB1_UNDECIDED;
				snprintf(s->smb1_reason, sizeof(s->smb1_reason), "%s",
				         r == -ERR_SYNTAX ? "reply is not SMB"
				                          : "malformed or oversized reply");
				ms17_set(s, MS17_STATE_UNKNOWN, "SMB1 NEGOTIATE got no SMB reply");
			} else if (s->kind == SMB_CONN_SMB1 && s->step < SMB_STEP_DP) {
				ms17_set(s, MS17_STATE_UNKNOWN, "malformed reply");
			}
			off = len;
			if (s->other) {
				/* Another service: no point in more connections. */
				s->finished = true;
				smb_run_report(s, out);
				ret = PROBE_DONE;
			} else {
				ret = next_conn(s, out);
			}
			break;
		}
		if (f.kind == SMB_FRAME_KEEPALIVE) {
			off += (size_t)r;
			continue;
		}
		if (s->kind == SMB_CONN_SMB1) {
			switch (s->step) {
			case SMB_STEP_NEG:
				ret = on_negotiate(s, buf + off, (size_t)r, tx, out);
				break;
			case SMB_STEP_SESSION:
				ret = on_session(s, buf + off, (size_t)r, tx, out);
				break;
			case SMB_STEP_TREE:
				ret = on_tree(s, buf + off, (size_t)r, tx, out);
				break;
			case SMB_STEP_TRANS:
				ret = on_trans(s, buf + off, (size_t)r, tx, out);
				break;
			case SMB_STEP_DP:
				ret = on_dp(s, buf + off, (size_t)r, out);
				break;
			default:
				ret = next_conn(s, out);
				break;
			}
		} else if (s->kind == SMB_CONN_SMB2_MAX || s->kind == SMB_CONN_SMB2_ONE) {
			ret = on_smb2(s, buf + off, (size_t)r, out);
		} else {
			s->finished = true;
			smb_run_report(s, out);
			ret = PROBE_DONE;
		}
		off += (size_t)r;
	}
	*consumed = off;
	s->partial = ret == PROBE_MORE && off < len;
	return ret;
}

int smb_run_end(struct smb_run *s, enum probe_end why, struct probe_result *out)
{
	char why_text[SMB_REASON_MAX];

	if (s->finished) {
		smb_run_report(s, out);
		return PROBE_DONE;
	}
	if (s->partial)
		s->broken = true; /* a frame that never completed */
	s->partial = false;
	switch (s->kind) {
	case SMB_CONN_SMB1:
		if (s->step == SMB_STEP_NEG) {
			snprintf(s->smb1_reason, sizeof(s->smb1_reason), "%s%s",
			         probe_end_name(why),
			         s->conn_bytes ? " in the middle of a reply" : " without a reply");
			if (!s->conn_bytes && (why == PROBE_END_CLOSED || why == PROBE_END_RESET)) {
				/* [MS-SMB2] §3.3.5.3.2: a server without SMB1 disconnects. */
				s->smb1 = SMB1_OFF;
				ms17_set(s, MS17_STATE_NOT_APPLICABLE, "SMBv1 is disabled");
			} else {
				s->smb1 = SMB1_UNDECIDED;
				snprintf(why_text, sizeof(why_text),
				         "SMB1 NEGOTIATE not answered: %s", probe_end_name(why));
				ms17_set(s, MS17_STATE_UNKNOWN, why_text);
			}
		} else if (s->step == SMB_STEP_DP) {
			s->dp = DP_STATE_UNKNOWN;
			snprintf(s->dp_reason, sizeof(s->dp_reason), "%s after the ping",
			         probe_end_name(why));
		} else if (s->step < SMB_STEP_DONE) {
			snprintf(why_text, sizeof(why_text), "%s after %s", probe_end_name(why),
			         step_names[s->step]);
			ms17_set(s, MS17_STATE_UNKNOWN, why_text);
		}
		break;
	case SMB_CONN_SMB2_MAX:
		snprintf(s->smb2_reason, sizeof(s->smb2_reason), "SMB2 NEGOTIATE: %s",
		         probe_end_name(why));
		break;
	case SMB_CONN_SMB2_ONE:
		if (s->enum_idx < SMB2_ENUM_N)
			s->enum_tried[s->enum_idx] = true;
		break;
	default:
		break;
	}
	/* A port that keeps silent at the first NEGOTIATE is not an SMB server that lacks SMB1
	 * (that one disconnects): do not spend another idle period on SMB2. */
	if (why == PROBE_END_DEADLINE || why == PROBE_END_CONNECT ||
	    (s->kind == SMB_CONN_SMB1 && s->step == SMB_STEP_NEG && !s->any_bytes &&
	     why == PROBE_END_IDLE)) {
		s->finished = true;
		smb_run_report(s, out);
		return PROBE_DONE;
	}
	return next_conn(s, out);
}

/* ---- the result */

static void drop_finding(struct probe_result *out, const char *id)
{
	for (size_t i = 0; i < out->n_findings; i++) {
		if (strcmp(out->findings[i].id, id) != 0)
			continue;
		memmove(&out->findings[i], &out->findings[i + 1],
		        (out->n_findings - i - 1) * sizeof(out->findings[0]));
		out->n_findings--;
		return;
	}
}

static const char *ms17_word(enum ms17_state m)
{
	switch (m) {
	case MS17_STATE_VULNERABLE:
		return "vulnerable";
	case MS17_STATE_NOT_VULNERABLE:
		return "not vulnerable";
	case MS17_STATE_NOT_APPLICABLE:
		return "not applicable";
	default:
		return "unknown";
	}
}

static const char *signing_word(bool required, bool enabled)
{
	return required ? "required" : enabled ? "enabled" : "disabled";
}

void smb_run_report(const struct smb_run *s, struct probe_result *out)
{
	bool smb1_on = s->smb1 == SMB1_ON;
	bool smb1_req = smb1_on && !s->smb1_lanman &&
	                (s->smb1_secmode & SMB1_SECMODE_SIGNATURES_ENABLED) &&
	                (s->smb1_secmode & SMB1_SECMODE_SIGNATURES_REQUIRED);
	bool smb1_en =
	    smb1_on && !s->smb1_lanman && (s->smb1_secmode & SMB1_SECMODE_SIGNATURES_ENABLED);
	bool smb2_req = s->smb2_answered && (s->smb2_secmode & SMB2_NEGOTIATE_SIGNING_REQUIRED);
	bool smb2_en = s->smb2_answered && (s->smb2_secmode & SMB2_NEGOTIATE_SIGNING_ENABLED);
	json_t *dialects = json_array();
	const char *max_dialect = NULL;
	char text[SMB_REASON_MAX];
	enum ms17_state ms17 = s->ms17;
	const char *ms17_reason = s->ms17_reason[0] ? s->ms17_reason : "not checked";

	if (s->any_smb) {
		out->state = SERVICE_IDENTIFIED;
		snprintf(out->service, sizeof(out->service), "smb");
	} else if (s->other) {
		out->state = SERVICE_OTHER;
	} else if (s->broken) {
		out->state = SERVICE_PROTOCOL_ERROR;
	}

	if (smb1_on) {
		json_array_append_new(dialects,
		                      json_string(s->smb1_lanman ? "LANMAN" : "NT LM 0.12"));
		max_dialect = s->smb1_lanman ? "LANMAN" : "NT LM 0.12";
	}
	for (unsigned i = 0; i < SMB2_ENUM_N; i++)
		if (s->enum_ok[i])
			json_array_append_new(dialects,
			                      json_string(smb2_dialect_name(smb2_enum[i])));
	if (s->smb2_answered) {
		max_dialect = smb2_dialect_name(s->smb2_dialect);
		json_array_append_new(dialects, json_string(max_dialect));
	}
	if (ms17 == MS17_STATE_UNTESTED)
		ms17 = s->smb1 == SMB1_OFF ? MS17_STATE_NOT_APPLICABLE : MS17_STATE_UNKNOWN;
	if (ms17 == MS17_STATE_NOT_APPLICABLE && !s->any_smb) {
		/* Silence is not "SMBv1 disabled" unless something else spoke SMB. */
		ms17 = MS17_STATE_UNKNOWN;
		ms17_reason = "no SMB reply";
	}

	probe_detail_set(out, "smb1", json_boolean(smb1_on));
	if (s->smb1_reason[0])
		probe_detail_set(out, "smb1_reason", json_string(s->smb1_reason));
	probe_detail_set(out, "dialects", dialects);
	probe_detail_set(out, "max_dialect", max_dialect ? json_string(max_dialect) : json_null());
	if (smb1_on || s->smb2_answered)
		probe_detail_set(out, "signing",
		                 json_string(s->smb2_answered ? signing_word(smb2_req, smb2_en)
		                                              : signing_word(smb1_req, smb1_en)));
	else
		probe_detail_set(out, "signing", json_string("unknown"));
	if (smb1_on && !s->smb1_lanman)
		probe_detail_set(out, "smb1_signing", json_string(signing_word(smb1_req, smb1_en)));
	if (s->smb2_answered)
		probe_detail_set(out, "smb2_signing", json_string(signing_word(smb2_req, smb2_en)));
	else if (s->smb2_reason[0])
		probe_detail_set(out, "smb2_reason", json_string(s->smb2_reason));
	probe_detail_set(out, "ms17_010", json_string(ms17_word(ms17)));
	probe_detail_set(out, "ms17_010_reason", json_string(ms17_reason));
	if (s->native_os[0])
		probe_detail_set(out, "native_os", json_string(s->native_os));
	if (s->native_lanman[0])
		probe_detail_set(out, "native_lanman", json_string(s->native_lanman));
	if (s->server_name[0])
		probe_detail_set(out, "server_name", json_string(s->server_name));
	if (s->domain[0])
		probe_detail_set(out, "domain", json_string(s->domain));
	if (s->dp != DP_STATE_UNTESTED) {
		probe_detail_set(out, "doublepulsar",
		                 json_string(s->dp == DP_STATE_PRESENT  ? "present"
		                             : s->dp == DP_STATE_ABSENT ? "absent"
		                                                        : "unknown"));
		probe_detail_set(out, "doublepulsar_reason", json_string(s->dp_reason));
	}

	/* Findings: recomputed from scratch (the netbios probe keeps its own). */
	drop_finding(out, "ms17-010-vulnerable");
	drop_finding(out, "doublepulsar-implant");
	drop_finding(out, "smb1-enabled");
	drop_finding(out, "smb-signing-not-required");
	if (s->dp == DP_STATE_PRESENT) {
		snprintf(text, sizeof(text), "implant answered the ping (MID 0x51, %s)",
		         s->dp_x64 ? "x64" : "x86");
		probe_add_finding(out, "doublepulsar-implant", SEVERITY_CRITICAL,
		                  CONFIDENCE_CONFIRMED, text);
	}
	if (ms17 == MS17_STATE_VULNERABLE)
		probe_add_finding(out, "ms17-010-vulnerable", SEVERITY_CRITICAL, CONFIDENCE_LIKELY,
		                  "PeekNamedPipe on FID 0 answered STATUS_INSUFF_SERVER_RESOURCES");
	if (ms17 == MS17_STATE_UNKNOWN && smb1_on) {
		/* SMB1 is on but the check could not run to the end: say so as a finding with
		 * confidence unknown, so that no report can read it as "not vulnerable". */
		char unknown[FINDING_REASON_MAX];

		snprintf(unknown, sizeof(unknown), "could not check: %.140s", ms17_reason);
		probe_add_finding(out, "ms17-010-vulnerable", SEVERITY_CRITICAL, CONFIDENCE_UNKNOWN,
		                  unknown);
	}
	if (smb1_on)
		/* §5.6: LIKELY unless the anonymous session also worked (honeypots answer
		 * NEGOTIATE). */
		probe_add_finding(out, "smb1-enabled", SEVERITY_HIGH,
		                  s->session_ok ? CONFIDENCE_CONFIRMED : CONFIDENCE_LIKELY,
		                  s->smb1_lanman ? "SMB1 NEGOTIATE answered (LANMAN dialect)"
		                                 : "SMB1 NEGOTIATE answered (NT LM 0.12)");
	if ((smb1_on || s->smb2_answered) && !smb1_req && !smb2_req)
		probe_add_finding(out, "smb-signing-not-required", SEVERITY_MEDIUM,
		                  CONFIDENCE_CONFIRMED,
		                  s->smb2_answered ? "SMB2 NEGOTIATE: signing not required"
		                                   : "SMB1 NEGOTIATE: signing not required");
}

/* ---- the smb probe (TCP 445) */

static int smb_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct smb_run *s = state;

	if (conn == 0)
		smb_run_init(s, false);
	return smb_run_start(s, tx, out);
}

static int smb_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                    struct probe_tx *tx, struct probe_result *out)
{
	return smb_run_feed(state, buf, len, consumed, tx, out);
}

static int smb_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct smb_run *s = state;
	int r = smb_run_end(s, why, out);

	if (r == PROBE_DONE && !s->any_bytes && !s->other && !s->broken)
		out->state = why == PROBE_END_CLOSED || why == PROBE_END_RESET ? SERVICE_TCPWRAPPED
		             : why == PROBE_END_IDLE || why == PROBE_END_DEADLINE ? SERVICE_SILENT
		                                                                  : out->state;
	return r;
}

const struct probe_ops probe_smb = {
    .name = "smb",
    .state_size = sizeof(struct smb_run),
    .max_rx = 4 + SMB_FRAME_MAX,
    .idle_ms = 5000,
    .total_ms = 25000,
    .max_conns = SMB_RUN_CONNS,
    .start = smb_start,
    .feed = smb_feed,
    .end = smb_end,
};
