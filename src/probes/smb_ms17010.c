/* SPDX-License-Identifier: MIT */
/*
 * The SMB1 connection of an smb_run (smb_internal.h): NEGOTIATE (is SMB1 on?), then the
 * non-intrusive MS17-010 check of PROTOCOLS.md §6 (an anonymous null session, IPC$, and the
 * PeekNamedPipe transaction that unpatched srv.sys answers with STATUS_INSUFF_SERVER_RESOURCES)
 * and, only after "vulnerable", the DoublePulsar ping. Never credentials, never a write, never
 * the implant's uninstall command.
 */
#include "probes/smb_internal.h"

#include <stdio.h>

/* Request MIDs of PROTOCOLS.md §6 (the emulators echo them). */
#define MID_STEPS 0x0040
#define MID_TRANS 0x0041

/* Tree connect host when the server did not name itself (Samba and Windows accept their own
 * NetBIOS name; the probe interface does not carry the target's address). */
#define TREE_HOST_FALLBACK "*SMBSERVER"

/* The largest fixed-size SMB1 request (the tree connect has its own maximum). */
#define FIXED_REQ_MAX SMB1_NEGOTIATE_REQ_LEN
_Static_assert(SMB1_SESSION_SETUP_REQ_LEN <= FIXED_REQ_MAX &&
                   SMB1_TRANS_PEEK_REQ_LEN <= FIXED_REQ_MAX &&
                   SMB1_TRANS2_DP_REQ_LEN <= FIXED_REQ_MAX,
               "every fixed request fits");

/* Room for status_text(): the longest status name and its code. */
#define STATUS_TEXT_MAX 64

static const char *const step_names[] = {
    [SMB_STEP_NEG] = "NEGOTIATE",     [SMB_STEP_SESSION] = "SESSION_SETUP",
    [SMB_STEP_TREE] = "TREE_CONNECT", [SMB_STEP_TRANS] = "TRANSACTION",
    [SMB_STEP_DP] = "TRANSACTION2",   [SMB_STEP_DONE] = "end",
};

static void ms17_set(struct smb_run *s, enum ms17_state v, const char *reason)
{
	s->ms17.state = v;
	snprintf(s->ms17.reason, sizeof(s->ms17.reason), "%s", reason);
}

/* What a refusal says, for a reason: an NT status, or the DOS error of an old server. */
static void status_text(char *dst, size_t size, const struct smb1_header *h)
{
	if (h->nt_status)
		snprintf(dst, size, "%s (0x%08X)", smb_status_name(h->status), (unsigned)h->status);
	else
		snprintf(dst, size, "DOS error class %u code %u", h->dos_class, h->dos_code);
}

/* Mark SMB1 off: nothing of MS17-010 can be reached (§5.3). */
static void smb1_off(struct smb_run *s)
{
	s->smb1.state = SMB1_OFF;
	ms17_set(s, MS17_STATE_NOT_APPLICABLE, "SMBv1 is disabled");
}

/* Go on with the next step on this connection: PROBE_MORE, or the error of a request we could
 * not build. */
static int next_step(struct smb_run *s, enum smb_step step, struct probe_tx *tx,
                     struct probe_result *out)
{
	int r;

	s->step = step;
	r = smb_ms17010_send(s, tx);
	if (r < 0)
		return r;
	smb_run_report(s, out);
	return PROBE_MORE;
}

/* ---- requests */

static int send_tree_connect(struct smb_run *s, struct probe_tx *tx)
{
	uint8_t b[SMB1_TREE_CONNECT_REQ_MAX];
	const char *host = s->smb1.server_name[0] ? s->smb1.server_name : TREE_HOST_FALLBACK;
	int n = smb1_build_tree_connect_ipc(b, sizeof(b), s->smb1.uid, MID_STEPS, host);

	if (n == -ERR_RANGE) /* a name we cannot put in a path ('\\', '?'...) */
		n = smb1_build_tree_connect_ipc(b, sizeof(b), s->smb1.uid, MID_STEPS,
		                                TREE_HOST_FALLBACK);
	return smb_queue(tx, b, n);
}

int smb_ms17010_send(struct smb_run *s, struct probe_tx *tx)
{
	uint8_t b[FIXED_REQ_MAX];
	uint16_t tid = s->smb1.tid, uid = s->smb1.uid;

	switch (s->step) {
	case SMB_STEP_NEG:
		return smb_queue(tx, b, smb1_build_negotiate(b, sizeof(b), MID_STEPS));
	case SMB_STEP_SESSION:
		return smb_queue(tx, b, smb1_build_session_setup_anon(b, sizeof(b), MID_STEPS));
	case SMB_STEP_TREE:
		return send_tree_connect(s, tx);
	case SMB_STEP_TRANS:
		return smb_queue(tx, b, smb1_build_trans_peek(b, sizeof(b), tid, uid, MID_TRANS));
	case SMB_STEP_DP:
		return smb_queue(tx, b, smb1_build_trans2_dp_ping(b, sizeof(b), tid, uid));
	default:
		return 0;
	}
}

/* ---- NEGOTIATE: is SMB1 on, and can the MS17-010 steps follow? */

/* A well-formed NEGOTIATE reply that accepted no dialect of ours. */
static void negotiate_refused(struct smb_run *s, const struct smb1_negotiate *n)
{
	char st[STATUS_TEXT_MAX];

	if (n->form == SMB1_NEG_ERROR) {
		status_text(st, sizeof(st), &n->hdr);
		snprintf(s->smb1.reason, sizeof(s->smb1.reason), "NEGOTIATE refused: %s", st);
	} else {
		snprintf(s->smb1.reason, sizeof(s->smb1.reason),
		         "no SMB1 dialect accepted (index 0x%04X)", n->dialect_index);
	}
	smb1_off(s);
}

static void negotiate_accepted(struct smb_run *s, const struct smb1_negotiate *n)
{
	s->smb1.state = SMB1_ON;
	s->smb1.dialect_index = n->dialect_index;
	s->smb1.secmode = n->security_mode;
	s->smb1.lanman = n->form == SMB1_NEG_LANMAN;
	snprintf(s->smb1.server_name, sizeof(s->smb1.server_name), "%s", n->server);
	snprintf(s->smb1.domain, sizeof(s->smb1.domain), "%s", n->domain);
	snprintf(s->smb1.reason, sizeof(s->smb1.reason), "NEGOTIATE answered (WordCount %u)",
	         n->hdr.word_count);
}

static int on_negotiate(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_tx *tx,
                        struct probe_result *out)
{
	struct smb1_negotiate n;
	int r = smb1_parse_negotiate(buf, len, &n);

	if (r == -ERR_UNSUPPORTED) {
		/* An SMB2 answer to an SMB1-only NEGOTIATE: SMB1 is off (§5.3). */
		s->any_smb = true;
		snprintf(s->smb1.reason, sizeof(s->smb1.reason), "SMB2 reply to SMB1 NEGOTIATE");
		smb1_off(s);
		return smb1_conn_over(s, out);
	}
	if (r < 0) {
		s->broken = true;
		s->smb1.state = SMB1_UNDECIDED;
		snprintf(s->smb1.reason, sizeof(s->smb1.reason), "malformed NEGOTIATE reply (%s)",
		         err_name(r));
		ms17_set(s, MS17_STATE_UNKNOWN, "malformed SMB1 NEGOTIATE reply");
		return smb1_conn_over(s, out);
	}
	s->any_smb = true;
	if (!smb1_negotiate_accepted(&n)) {
		negotiate_refused(s, &n);
		return smb1_conn_over(s, out);
	}
	negotiate_accepted(s, &n);
	if (n.form != SMB1_NEG_NT || n.dialect_index != SMB1_DIALECT_NT_LM) {
		ms17_set(s, MS17_STATE_UNKNOWN, "server chose a LANMAN dialect, not NT LM 0.12");
		return smb1_conn_over(s, out);
	}
	if (n.extended) {
		/* Our request has no EXTENDED_SECURITY; a server that insists cannot take the
		 * non-extended anonymous login of §6.3. */
		ms17_set(s, MS17_STATE_UNKNOWN, "server requires extended security");
		return smb1_conn_over(s, out);
	}
	/* SMB1 answered, so the SMB2 connection is due whatever MS17-010 gives: it need not wait
	 * for the steps below. */
	smb_run_due(s, SMB_C_SMB2_MAX);
	return next_step(s, SMB_STEP_SESSION, tx, out);
}

/* ---- the MS17-010 steps: anonymous session, IPC$, PeekNamedPipe on FID 0 */

/* A refusal on the way to the transaction: MS17-010 cannot be decided without credentials. */
static int needs_credentials(struct smb_run *s, const char *what, const struct smb1_header *h,
                             struct probe_result *out)
{
	char st[STATUS_TEXT_MAX], why[SMB_REASON_MAX];

	status_text(st, sizeof(st), h);
	snprintf(why, sizeof(why), "needs credentials: %s, %s", what, st);
	ms17_set(s, MS17_STATE_UNKNOWN, why);
	return smb1_conn_over(s, out);
}

static int on_session(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_tx *tx,
                      struct probe_result *out)
{
	struct smb1_session_setup ss;
	int r = smb1_parse_session_setup(buf, len, &ss);

	if (r < 0 || ss.hdr.command != SMB1_COM_SESSION_SETUP_ANDX || ss.hdr.mid != MID_STEPS) {
		if (r < 0)
			s->broken = true;
		ms17_set(s, MS17_STATE_UNKNOWN, "unexpected reply to SESSION_SETUP_ANDX");
		return smb1_conn_over(s, out);
	}
	if (ss.hdr.nt_status && ss.hdr.status == SMB_STATUS_REQUEST_NOT_ACCEPTED &&
	    !s->smb1.retried) {
		/* Too many sessions: one retry (§6.3; the probe has no timer for nmap's back-off).
		 */
		s->smb1.retried = true;
		r = smb_ms17010_send(s, tx);
		return r < 0 ? r : PROBE_MORE;
	}
	if (ss.hdr.status != 0)
		return needs_credentials(s, "anonymous login refused", &ss.hdr, out);
	s->smb1.session_ok = true;
	s->smb1.uid = ss.hdr.uid;
	snprintf(s->smb1.native_os, sizeof(s->smb1.native_os), "%s", ss.native_os);
	snprintf(s->smb1.native_lanman, sizeof(s->smb1.native_lanman), "%s", ss.native_lanman);
	return next_step(s, SMB_STEP_TREE, tx, out);
}

static int on_tree(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_tx *tx,
                   struct probe_result *out)
{
	struct smb1_tree_connect tc;
	int r = smb1_parse_tree_connect(buf, len, &tc);

	if (r < 0 || tc.hdr.command != SMB1_COM_TREE_CONNECT_ANDX || tc.hdr.mid != MID_STEPS) {
		if (r < 0)
			s->broken = true;
		ms17_set(s, MS17_STATE_UNKNOWN, "unexpected reply to TREE_CONNECT_ANDX");
		return smb1_conn_over(s, out);
	}
	if (tc.hdr.status != 0 || tc.hdr.tid == 0)
		return needs_credentials(s, "IPC$ refused", &tc.hdr, out);
	s->smb1.tid = tc.hdr.tid;
	s->step = SMB_STEP_TRANS;
	/* No report here: nothing the result shows has changed since the session. */
	r = smb_ms17010_send(s, tx);
	return r < 0 ? r : PROBE_MORE;
}

static int on_trans(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_tx *tx,
                    struct probe_result *out)
{
	struct smb1_header h;
	const char *reason = "";
	char st[STATUS_TEXT_MAX], why[SMB_REASON_MAX];
	int r = smb1_parse_header(buf, len, &h);

	if (r < 0) {
		s->broken = true;
		ms17_set(s, MS17_STATE_UNKNOWN, "malformed reply to the PeekNamedPipe TRANSACTION");
		return smb1_conn_over(s, out);
	}
	switch (smb1_ms17_classify(&h, MID_TRANS, &reason)) {
	case MS17_VULNERABLE:
		ms17_set(s, MS17_STATE_VULNERABLE, reason);
		return next_step(s, SMB_STEP_DP, tx, out);
	case MS17_NOT_VULNERABLE:
		ms17_set(s, MS17_STATE_NOT_VULNERABLE, reason);
		return smb1_conn_over(s, out);
	default:
		status_text(st, sizeof(st), &h);
		snprintf(why, sizeof(why), "%s: command 0x%02X, %s", reason, h.command, st);
		ms17_set(s, MS17_STATE_UNKNOWN, why);
		return smb1_conn_over(s, out);
	}
}

/* ---- the DoublePulsar ping (§6.6), only on a host found vulnerable */

static int on_dp(struct smb_run *s, const uint8_t *buf, size_t len, struct probe_result *out)
{
	struct smb1_header h;
	struct dp_result dp;
	int r = smb1_parse_header(buf, len, &h);

	if (r < 0) {
		s->ms17.dp = DP_STATE_UNKNOWN;
		snprintf(s->ms17.dp_reason, sizeof(s->ms17.dp_reason),
		         "malformed reply to the ping");
		return smb1_conn_over(s, out);
	}
	switch (smb1_doublepulsar_classify(&h, &dp)) {
	case DP_PRESENT:
		s->ms17.dp = DP_STATE_PRESENT;
		s->ms17.dp_x64 = dp.x64;
		s->ms17.dp_key = dp.xor_key;
		break;
	case DP_NOT_DETECTED:
		s->ms17.dp = DP_STATE_ABSENT;
		break;
	default:
		s->ms17.dp = DP_STATE_UNKNOWN;
		break;
	}
	snprintf(s->ms17.dp_reason, sizeof(s->ms17.dp_reason), "%s", dp.reason);
	return smb1_conn_over(s, out);
}

int smb_ms17010_feed(struct smb_run *s, const uint8_t *frame, size_t len, struct probe_tx *tx,
                     struct probe_result *out)
{
	switch (s->step) {
	case SMB_STEP_NEG:
		return on_negotiate(s, frame, len, tx, out);
	case SMB_STEP_SESSION:
		return on_session(s, frame, len, tx, out);
	case SMB_STEP_TREE:
		return on_tree(s, frame, len, tx, out);
	case SMB_STEP_TRANS:
		return on_trans(s, frame, len, tx, out);
	case SMB_STEP_DP:
		return on_dp(s, frame, len, out);
	default:
		return smb1_conn_over(s, out);
	}
}

/* ---- the connection broke off */

void smb_ms17010_bad_frame(struct smb_run *s, int r)
{
	if (s->step == SMB_STEP_NEG) {
		s->smb1.state = SMB1_UNDECIDED;
		snprintf(s->smb1.reason, sizeof(s->smb1.reason), "%s",
		         r == -ERR_SYNTAX ? "reply is not SMB" : "malformed or oversized reply");
		ms17_set(s, MS17_STATE_UNKNOWN, "SMB1 NEGOTIATE got no SMB reply");
	} else if (s->step < SMB_STEP_DP) {
		ms17_set(s, MS17_STATE_UNKNOWN, "malformed reply");
	}
}

/* The first NEGOTIATE got no complete reply. */
static void negotiate_unanswered(struct smb_run *s, enum probe_end why)
{
	char why_text[SMB_REASON_MAX];

	snprintf(s->smb1.reason, sizeof(s->smb1.reason), "%s%s", probe_end_name(why),
	         s->conns[SMB_C_SMB1].bytes ? " in the middle of a reply" : " without a reply");
	if (!s->conns[SMB_C_SMB1].bytes && (why == PROBE_END_CLOSED || why == PROBE_END_RESET)) {
		/* [MS-SMB2] §3.3.5.3.2: a server without SMB1 disconnects. */
		smb1_off(s);
		return;
	}
	s->smb1.state = SMB1_UNDECIDED;
	snprintf(why_text, sizeof(why_text), "SMB1 NEGOTIATE not answered: %s",
	         probe_end_name(why));
	ms17_set(s, MS17_STATE_UNKNOWN, why_text);
}

void smb_ms17010_end(struct smb_run *s, enum probe_end why)
{
	char why_text[SMB_REASON_MAX];

	if (s->step == SMB_STEP_NEG) {
		negotiate_unanswered(s, why);
	} else if (s->step == SMB_STEP_DP) {
		s->ms17.dp = DP_STATE_UNKNOWN;
		snprintf(s->ms17.dp_reason, sizeof(s->ms17.dp_reason), "%s after the ping",
		         probe_end_name(why));
	} else if (s->step < SMB_STEP_DONE) {
		snprintf(why_text, sizeof(why_text), "%s after %s", probe_end_name(why),
		         step_names[s->step]);
		ms17_set(s, MS17_STATE_UNKNOWN, why_text);
	}
}
