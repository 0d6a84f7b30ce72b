/* SPDX-License-Identifier: MIT */
/*
 * SMB probe (TCP 445), PROTOCOLS.md §5 and §6, and the driver of the SMB conversation it shares
 * with the netbios probe (smb_internal.h): the SMB framing of each connection, which connection
 * comes next, and the SMB2 NEGOTIATE connections. The SMB1 connection is smb_ms17010.c, the
 * result smb_report.c.
 */
#include "probes/smb_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The first SMB2 connection offers every dialect we know, lowest first; 3.1.1 last and only on
 * direct TCP (SMB over NetBIOS stops at 3.0.2, [MS-SMB2] §3.2.5.2).
 */
static const uint16_t smb2_offer_all[] = {SMB2_DIALECT_202, SMB2_DIALECT_210, SMB2_DIALECT_300,
                                          SMB2_DIALECT_302, SMB2_DIALECT_311};

const uint16_t smb_enum_dialects[SMB2_ENUM_N] = {SMB2_DIALECT_202, SMB2_DIALECT_210,
                                                 SMB2_DIALECT_300, SMB2_DIALECT_302};

void smb_run_init(struct smb_run *s, bool nbt, bool one_by_one)
{
	memset(s, 0, sizeof(*s));
	s->nbt = nbt;
	s->one_by_one = one_by_one;
	s->conns[SMB_C_SMB1].state = SMB_CONN_DUE;
}

static enum smb_conn_kind conn_kind(unsigned c)
{
	if (c == SMB_C_SMB1)
		return SMB_CONN_SMB1;
	if (c == SMB_C_SMB2_MAX)
		return SMB_CONN_SMB2_MAX;
	return c < SMB_RUN_CONNS ? SMB_CONN_SMB2_ONE : SMB_CONN_NONE;
}

/* Nothing more to learn on any connection. */
static int finish(struct smb_run *s, struct probe_result *out)
{
	s->finished = true;
	smb_run_report(s, out);
	return PROBE_DONE;
}

/* ---- the SMB2 NEGOTIATE connections ([MS-SMB2] §2.2.3, §2.2.4) */

/* ClientGuid and salt are random as a real client's are: fixed ones would mark every connection
 * as ours. Before the kernel has entropy, a fixed sequence: nothing secret rests on them. */
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

static int send_smb2_negotiate(struct probe_tx *tx, const uint16_t *dialects, unsigned n_dialects)
{
	uint8_t b[SMB2_NEGOTIATE_REQ_MAX], guid[SMB2_GUID_LEN], salt[SMB2_SALT_LEN];

	random_bytes(guid, sizeof(guid));
	random_bytes(salt, sizeof(salt));
	return smb_queue(tx, b,
	                 smb2_build_negotiate(b, sizeof(b), dialects, n_dialects, guid, salt));
}

static int smb2_start(const struct smb_run *s, unsigned c, struct probe_tx *tx)
{
	unsigned n = ARRAY_LEN(smb2_offer_all);

	if (conn_kind(c) == SMB_CONN_SMB2_ONE)
		return send_smb2_negotiate(tx, &smb_enum_dialects[c - SMB_C_SMB2_ONE], 1);
	if (s->nbt)
		n--; /* without 3.1.1, the last */
	return send_smb2_negotiate(tx, smb2_offer_all, n);
}

/* The answer to the every-dialect NEGOTIATE: the maximum and the signing mode. */
static void smb2_max_seen(struct smb_run *s, const struct smb2_negotiate *n)
{
	if (n->status != 0) {
		snprintf(s->smb2.reason, sizeof(s->smb2.reason), "NEGOTIATE refused: %s",
		         smb_status_name(n->status));
		return;
	}
	s->smb2.answered = true;
	s->smb2.dialect = n->dialect;
	s->smb2.secmode = n->security_mode;
	s->smb2.caps = n->capabilities;
	snprintf(s->smb2.reason, sizeof(s->smb2.reason), "NEGOTIATE answered");
}

static int on_smb2(struct smb_run *s, unsigned c, const uint8_t *buf, size_t len,
                   struct probe_result *out)
{
	struct smb2_negotiate n;
	int r = smb2_parse_negotiate(buf, len, &n);
	enum smb_conn_kind kind = conn_kind(c);
	unsigned i = c - SMB_C_SMB2_ONE;

	if (r < 0) {
		if (r == -ERR_UNSUPPORTED)
			s->any_smb = true; /* an SMB1 answer to SMB2: no SMB2 */
		else
			s->broken = true;
		if (kind == SMB_CONN_SMB2_MAX)
			snprintf(s->smb2.reason, sizeof(s->smb2.reason), "%s",
			         r == -ERR_UNSUPPORTED ? "SMB1 reply to SMB2 NEGOTIATE"
			                               : "malformed SMB2 NEGOTIATE reply");
		return smb_run_conn_over(s, c, out);
	}
	s->any_smb = true;
	if (kind == SMB_CONN_SMB2_MAX) {
		smb2_max_seen(s, &n);
	} else if (kind == SMB_CONN_SMB2_ONE) {
		s->smb2.enum_tried[i] = true;
		s->smb2.enum_ok[i] = n.status == 0 && n.dialect == smb_enum_dialects[i];
	}
	return smb_run_conn_over(s, c, out);
}

/* ---- the connections */

void smb_run_due(struct smb_run *s, unsigned c)
{
	if (c < SMB_RUN_CONNS && s->conns[c].state == SMB_CONN_IDLE)
		s->conns[c].state = SMB_CONN_DUE;
}

int smb_run_next(struct smb_run *s)
{
	if (s->finished)
		return -1;
	for (unsigned c = 0; c < SMB_RUN_CONNS; c++) {
		if (s->conns[c].state != SMB_CONN_DUE)
			continue;
		s->conns[c].state = SMB_CONN_OPEN;
		return (int)c;
	}
	return -1;
}

bool smb_run_idle(const struct smb_run *s)
{
	for (unsigned c = 0; c < SMB_RUN_CONNS; c++)
		if (s->conns[c].state == SMB_CONN_DUE || s->conns[c].state == SMB_CONN_OPEN)
			return false;
	return true;
}

/* Connection c is one of the run's and open now. */
static bool conn_open(const struct smb_run *s, unsigned c)
{
	return c < SMB_RUN_CONNS && s->conns[c].state == SMB_CONN_OPEN && !s->finished;
}

int smb_run_start(struct smb_run *s, unsigned c, struct probe_tx *tx, struct probe_result *out)
{
	int r;

	if (!conn_open(s, c))
		return s->finished || smb_run_idle(s) ? finish(s, out) : PROBE_CLOSE;
	s->conns[c].bytes = false;
	s->conns[c].partial = false;
	if (conn_kind(c) == SMB_CONN_SMB1) {
		s->step = SMB_STEP_NEG;
		r = smb_ms17010_send(s, tx);
	} else {
		r = smb2_start(s, c, tx);
	}
	if (r < 0) {
		finish(s, out);
		return r;
	}
	return PROBE_MORE;
}

/* After the SMB2 maximum is known, each lower dialect gets its own connection; the wildcard
 * 0x02FF (an SMB 2.??? server) has no lower dialect worth asking for. */
static bool dialect_due(const struct smb_run *s, unsigned i)
{
	return s->smb2.answered && i < SMB2_ENUM_N && smb_enum_dialects[i] < s->smb2.dialect &&
	       s->smb2.dialect != SMB2_DIALECT_WILDCARD;
}

int smb_run_conn_over(struct smb_run *s, unsigned c, struct probe_result *out)
{
	if (c >= SMB_RUN_CONNS)
		return finish(s, out);
	s->conns[c].state = SMB_CONN_OVER;
	switch (conn_kind(c)) {
	case SMB_CONN_SMB1:
		smb_run_due(s, SMB_C_SMB2_MAX);
		break;
	case SMB_CONN_SMB2_MAX:
		for (unsigned i = 0; i < SMB2_ENUM_N; i++)
			if (dialect_due(s, i))
				smb_run_due(s, SMB_C_SMB2_ONE + i);
		break;
	default:
		break;
	}
	if (smb_run_idle(s))
		return finish(s, out);
	smb_run_report(s, out);
	return PROBE_CLOSE;
}

int smb_run_drop(struct smb_run *s, unsigned c, struct probe_result *out)
{
	if (s->one_by_one || c >= SMB_RUN_CONNS)
		return finish(s, out);
	s->conns[c].state = SMB_CONN_OVER;
	if (smb_run_idle(s))
		return finish(s, out);
	return PROBE_CLOSE;
}

/* Bytes that are not an SMB frame, or one we will not buffer (r: from smb_frame_parse). */
static int bad_frame(struct smb_run *s, unsigned c, int r, struct probe_result *out)
{
	if (r == -ERR_SYNTAX && !s->any_smb)
		s->other = true;
	else
		s->broken = true;
	if (conn_kind(c) == SMB_CONN_SMB1)
		smb_ms17010_bad_frame(s, r);
	if (s->other) /* another service (HTTP, TLS...): no point in more connections */
		return finish(s, out);
	return smb_run_conn_over(s, c, out);
}

/* One whole frame for connection c. */
static int on_frame(struct smb_run *s, unsigned c, const uint8_t *frame, size_t len,
                    struct probe_tx *tx, struct probe_result *out)
{
	if (conn_kind(c) == SMB_CONN_SMB1)
		return smb_ms17010_feed(s, frame, len, tx, out);
	return on_smb2(s, c, frame, len, out);
}

int smb_run_feed(struct smb_run *s, unsigned c, const uint8_t *buf, size_t len, size_t *consumed,
                 struct probe_tx *tx, struct probe_result *out)
{
	size_t off = 0;
	int ret = PROBE_MORE;

	*consumed = 0;
	if (!conn_open(s, c)) {
		*consumed = len;
		return s->finished || smb_run_idle(s) ? finish(s, out) : PROBE_CLOSE;
	}
	if (len > 0) {
		s->conns[c].bytes = true;
		s->any_bytes = true;
	}
	while (ret == PROBE_MORE && off < len) {
		struct smb_frame f;
		int r = smb_frame_parse(buf + off, len - off, &f);

		if (r == PARSE_AGAIN)
			break;
		if (r < 0) {
			off = len;
			ret = bad_frame(s, c, r, out);
			break;
		}
		if (f.kind != SMB_FRAME_KEEPALIVE)
			ret = on_frame(s, c, buf + off, (size_t)r, tx, out);
		off += (size_t)r;
	}
	*consumed = off;
	s->conns[c].partial = ret == PROBE_MORE && off < len;
	return ret;
}

/*
 * A port that keeps silent at the first NEGOTIATE is not an SMB server that lacks SMB1 (that one
 * disconnects): do not spend another idle period on SMB2. No time left either; one by one, a
 * connection that could not be had ends the walk as it always did (side by side it ends only
 * itself: the others' answers stand).
 */
static bool no_next_conn(const struct smb_run *s, unsigned c, enum probe_end why)
{
	if (why == PROBE_END_DEADLINE || (why == PROBE_END_CONNECT && s->one_by_one))
		return true;
	return c == SMB_C_SMB1 && s->step == SMB_STEP_NEG && !s->any_bytes && why == PROBE_END_IDLE;
}

int smb_run_end(struct smb_run *s, unsigned c, enum probe_end why, struct probe_result *out)
{
	struct smb_conn *conn;

	if (!conn_open(s, c))
		return s->finished || smb_run_idle(s) ? finish(s, out) : PROBE_CLOSE;
	conn = &s->conns[c];
	if (conn->partial)
		s->broken = true; /* a frame that never completed */
	conn->partial = false;
	switch (conn_kind(c)) {
	case SMB_CONN_SMB1:
		smb_ms17010_end(s, why);
		break;
	case SMB_CONN_SMB2_MAX:
		snprintf(s->smb2.reason, sizeof(s->smb2.reason), "SMB2 NEGOTIATE: %s",
		         probe_end_name(why));
		break;
	default:
		s->smb2.enum_tried[c - SMB_C_SMB2_ONE] = true;
		break;
	}
	if (no_next_conn(s, c, why)) {
		conn->state = SMB_CONN_OVER;
		/* At the deadline nothing more is opened, and every open connection hears it: each
		 * records its end, the last one finishes. */
		for (unsigned k = 0; k < SMB_RUN_CONNS; k++)
			if (s->conns[k].state == SMB_CONN_DUE)
				s->conns[k].state = SMB_CONN_OVER;
		if (why == PROBE_END_DEADLINE && !smb_run_idle(s)) {
			smb_run_report(s, out);
			return PROBE_CLOSE;
		}
		return finish(s, out);
	}
	return smb_run_conn_over(s, c, out);
}

enum service_state smb_silent_state(enum probe_end why, enum service_state current)
{
	switch (why) {
	case PROBE_END_CLOSED:
	case PROBE_END_RESET:
		return SERVICE_TCPWRAPPED;
	case PROBE_END_IDLE:
	case PROBE_END_DEADLINE:
		return SERVICE_SILENT;
	default:
		return current;
	}
}

/* ---- the smb probe (TCP 445): the conversation on direct TCP connections */

/*
 * The state of either way of driving: side by side (probe_conv_ops, the engine) or one connection
 * at a time (probe_ops start/feed/end: test drivers); the connection after a CLOSE is then the
 * next due, and the driver's connection numbers are the run's (each follows the last).
 */
struct smb_one {
	struct smb_run run;
	bool init;    /* side by side: run initialised by the first next() */
	unsigned cur; /* one at a time: the run's connection on the driver's current one */
};

static int smb_conv_next(void *state)
{
	struct smb_one *o = state;

	if (!o->init) {
		smb_run_init(&o->run, false, false);
		o->init = true;
	}
	return smb_run_next(&o->run);
}

static int smb_conv_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	return smb_run_start(&((struct smb_one *)state)->run, conn, tx, out);
}

static int smb_conv_feed(void *state, unsigned conn, const uint8_t *buf, size_t len,
                         size_t *consumed, struct probe_tx *tx, struct probe_result *out)
{
	return smb_run_feed(&((struct smb_one *)state)->run, conn, buf, len, consumed, tx, out);
}

/* A port that never sent a byte on any connection: its state from how the last one ended. */
static int smb_run_end_silent(struct smb_run *s, unsigned conn, enum probe_end why,
                              struct probe_result *out)
{
	int r = smb_run_end(s, conn, why, out);

	if (r == PROBE_DONE && !s->any_bytes && !s->other && !s->broken)
		out->state = smb_silent_state(why, out->state);
	return r;
}

static int smb_conv_end(void *state, unsigned conn, enum probe_end why, struct probe_result *out)
{
	return smb_run_end_silent(&((struct smb_one *)state)->run, conn, why, out);
}

/* A connection is over: the next one due (RECONNECT), or the end. */
static int smb_one_after(struct smb_one *o, int r)
{
	int next;

	if (r != PROBE_CLOSE)
		return r;
	next = smb_run_next(&o->run);
	if (next < 0)
		return PROBE_DONE;
	o->cur = (unsigned)next;
	return PROBE_RECONNECT;
}

static int smb_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct smb_one *o = state;

	if (conn == 0) {
		smb_run_init(&o->run, false, true);
		o->cur = (unsigned)smb_run_next(&o->run);
	}
	return smb_one_after(o, smb_run_start(&o->run, o->cur, tx, out));
}

static int smb_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                    struct probe_tx *tx, struct probe_result *out)
{
	struct smb_one *o = state;

	return smb_one_after(o, smb_run_feed(&o->run, o->cur, buf, len, consumed, tx, out));
}

static int smb_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct smb_one *o = state;

	return smb_one_after(o, smb_run_end_silent(&o->run, o->cur, why, out));
}

static const struct probe_conv_ops smb_conv = {
    .max_parallel = SMB_RUN_PARALLEL,
    .next = smb_conv_next,
    .start = smb_conv_start,
    .feed = smb_conv_feed,
    .end = smb_conv_end,
};

const struct probe_ops probe_smb = {
    .name = "smb",
    .state_size = sizeof(struct smb_one),
    .max_rx = 4 + SMB_FRAME_MAX,
    .idle_ms = 5000,
    .total_ms = 25000,
    .max_conns = SMB_RUN_CONNS,
    .start = smb_start,
    .feed = smb_feed,
    .end = smb_end,
    .conv = &smb_conv,
};
