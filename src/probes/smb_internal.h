/* SPDX-License-Identifier: MIT */
/*
 * The SMB conversation shared by the smb probe (TCP 445) and the netbios probe (TCP 139, SMB over
 * a NetBIOS session), PROTOCOLS.md §5 and §6. One smb_run holds these connections, numbered in
 * the order the conversation first walked them one after another (enum smb_conn_id):
 *   0. SMB1 NEGOTIATE (§5.3); if SMB1 answers with NT LM 0.12, the MS17-010 sequence on the same
 *      connection (§6.3 anonymous SESSION_SETUP_ANDX, §6.4 TREE_CONNECT_ANDX to IPC$, §6.5
 *      PeekNamedPipe on FID 0) and, only after "vulnerable", the DoublePulsar ping (§6.6);
 *   1. SMB2 NEGOTIATE offering every dialect (3.1.1 only on direct TCP, [MS-SMB2] §3.2.5.2):
 *      the highest dialect and the signing mode;
 *   2-5. one connection per lower SMB2 dialect with DialectCount 1 (as nmap's smb-protocols).
 * Every step runs on a fresh connection where the protocol needs one (one NEGOTIATE per TCP
 * connection, §5.1). The connections are independent once they are due, so they run side by side
 * (probe_conv_ops): connection 1 is due as soon as SMB1 has answered its NEGOTIATE and goes on
 * with MS17-010, or when connection 0 is over; the lower dialects when connection 1 has named the
 * highest. A connection is started only when the walk one at a time would have started it, so
 * the requests are the same; each connection writes only its own part of what is learnt (smb1
 * and ms17 by 0, smb2's maximum by 1, one enum_ok by each lower dialect), and the flags they
 * share only ever go one way, so the result does not depend on which answer came first.
 * The caller owns the transport: the smb probe calls smb_run_start() as soon as a connection is
 * up, the netbios probe after that connection's POSITIVE SESSION RESPONSE.
 *
 * Where the code lives: smb.c drives the connections (SMB framing, which connection is due,
 * the SMB2 dialects) and holds the smb probe; smb_ms17010.c is the SMB1 connection (NEGOTIATE,
 * the MS17-010 steps, the DoublePulsar ping); smb_report.c turns what was seen into details and
 * findings. Nothing here sends a credential, writes a file or uninstalls an implant.
 */
#ifndef EXPOSURE_PROBES_SMB_INTERNAL_H
#define EXPOSURE_PROBES_SMB_INTERNAL_H

#include "probes/probe.h"
#include "probes/parse/smb1_parse.h"
#include "probes/parse/smb2_parse.h"

/* Connections an smb_run may use: SMB1, SMB2 max, four lower SMB2 dialects. */
#define SMB_RUN_CONNS 6
/* Lower SMB2 dialects enumerated one per connection (smb_enum_dialects). */
#define SMB2_ENUM_N 4
/* Open at once, at most: SMB1 and the lower dialects (the SMB2 maximum is over before them). */
#define SMB_RUN_PARALLEL (1 + SMB2_ENUM_N)

/* The connections of an smb_run, by number (the lower dialect i is SMB_C_SMB2_ONE + i). */
enum smb_conn_id { SMB_C_SMB1 = 0, SMB_C_SMB2_MAX = 1, SMB_C_SMB2_ONE = 2 };

#define SMB_REASON_MAX 120

enum smb_conn_kind {
	SMB_CONN_SMB1 = 0, /* NEGOTIATE, then MS17-010 and DoublePulsar */
	SMB_CONN_SMB2_MAX, /* NEGOTIATE with every dialect */
	SMB_CONN_SMB2_ONE, /* NEGOTIATE with one dialect */
	SMB_CONN_NONE,     /* not a connection of the run */
};

/* Where one connection of the run is. */
enum smb_conn_state {
	SMB_CONN_IDLE = 0, /* not due (yet) */
	SMB_CONN_DUE,      /* to be opened (smb_run_next) */
	SMB_CONN_OPEN,     /* opened: start, feed, end */
	SMB_CONN_OVER,     /* done with */
};

/* One connection's own record; what it learnt goes to the run's smb1 / ms17 / smb2. */
struct smb_conn {
	enum smb_conn_state state;
	bool bytes;   /* this connection received a byte */
	bool partial; /* this connection holds an incomplete frame */
};

/* The request of the SMB1 connection whose reply is awaited. */
enum smb_step {
	SMB_STEP_NEG = 0,
	SMB_STEP_SESSION,
	SMB_STEP_TREE,
	SMB_STEP_TRANS,
	SMB_STEP_DP,
	SMB_STEP_DONE,
};

enum smb1_state { SMB1_UNTESTED = 0, SMB1_ON, SMB1_OFF, SMB1_UNDECIDED };

/* details.ms17_010 words (plus the internal "not tested yet"). */
enum ms17_state {
	MS17_STATE_UNTESTED = 0,
	MS17_STATE_VULNERABLE,
	MS17_STATE_NOT_VULNERABLE,
	MS17_STATE_UNKNOWN,
	MS17_STATE_NOT_APPLICABLE,
};

enum dp_state { DP_STATE_UNTESTED = 0, DP_STATE_PRESENT, DP_STATE_ABSENT, DP_STATE_UNKNOWN };

/* What the SMB1 connection learnt: the NEGOTIATE answer and the anonymous session. */
struct smb1_seen {
	enum smb1_state state;
	char reason[SMB_REASON_MAX]; /* how state was decided */
	uint16_t dialect_index;
	bool lanman; /* WordCount 13 answer: no signing fields */
	uint8_t secmode;
	char server_name[SMB1_NAME_MAX]; /* also the host of the IPC$ path */
	char domain[SMB1_NAME_MAX];
	uint16_t uid, tid;
	bool retried;    /* REQUEST_NOT_ACCEPTED retry used */
	bool session_ok; /* the anonymous SESSION_SETUP worked */
	char native_os[SMB1_TEXT_MAX];
	char native_lanman[SMB1_TEXT_MAX];
};

/* The MS17-010 verdict, and the DoublePulsar ping sent only after "vulnerable". */
struct ms17_seen {
	enum ms17_state state;
	char reason[SMB_REASON_MAX];
	enum dp_state dp;
	char dp_reason[SMB_REASON_MAX];
	bool dp_x64;
	uint32_t dp_key;
};

/* The SMB2 NEGOTIATE with every dialect, then the lower dialects, each on its own connection. */
struct smb2_seen {
	bool answered; /* the every-dialect NEGOTIATE got status 0 */
	char reason[SMB_REASON_MAX];
	uint16_t dialect; /* the highest, as the server chose it */
	uint16_t secmode;
	uint32_t caps;
	bool enum_ok[SMB2_ENUM_N]; /* lower dialect accepted alone */
	bool enum_tried[SMB2_ENUM_N];
};

struct smb_run {
	bool nbt;           /* over a NetBIOS session: no 3.1.1 */
	bool one_by_one;    /* driven one connection at a time (probe_ops start/feed/end) */
	enum smb_step step; /* the SMB1 connection's request awaited */
	bool any_bytes;     /* any connection received a byte */
	bool any_smb;       /* a well-framed SMB reply was seen */
	bool other;         /* the first bytes were not SMB framing */
	bool broken;        /* an SMB reply was malformed or cut short */
	bool finished;      /* nothing left to do */
	struct smb_conn conns[SMB_RUN_CONNS];
	struct smb1_seen smb1;
	struct ms17_seen ms17;
	struct smb2_seen smb2;
};

/* ---- the conversation, for the smb and netbios probes (smb.c) */

/* Reset s for a new probe; nbt: SMB over NetBIOS (139); one_by_one: see struct smb_run. */
void smb_run_init(struct smb_run *s, bool nbt, bool one_by_one);

/* The connection to open now (smb_conn_id; it is then open), or -1: none due now. */
int smb_run_next(struct smb_run *s);

/* Connection c is ready for SMB: queue its first request. PROBE_MORE / CLOSE / DONE or -ERR_*. */
int smb_run_start(struct smb_run *s, unsigned c, struct probe_tx *tx, struct probe_result *out);

/* Bytes on connection c (SMB frames, 4-byte header first). PROBE_MORE, CLOSE or DONE. */
int smb_run_feed(struct smb_run *s, unsigned c, const uint8_t *buf, size_t len, size_t *consumed,
                 struct probe_tx *tx, struct probe_result *out);

/* Connection c ended without being over (why). PROBE_CLOSE (others go on) or PROBE_DONE. */
int smb_run_end(struct smb_run *s, unsigned c, enum probe_end why, struct probe_result *out);

/* Connection c is given up before SMB spoke on it (the netbios session of a later connection was
 * refused): nothing learnt, nothing due after it; one by one, the whole run ends as before.
 * PROBE_CLOSE or PROBE_DONE. */
int smb_run_drop(struct smb_run *s, unsigned c, struct probe_result *out);

/* Nothing open and nothing due: the run is over. */
bool smb_run_idle(const struct smb_run *s);

/* Write every SMB detail and finding into out (idempotent: call again as knowledge grows).
 * smb_report.c. */
void smb_run_report(const struct smb_run *s, struct probe_result *out);

/* The state of a port that never sent a byte, from how its last connection ended: closed at
 * once is tcpwrapped, nothing before a timeout is silent; otherwise current (smb.c). */
enum service_state smb_silent_state(enum probe_end why, enum service_state current);

/* ---- between the files of the conversation */

/* The lower SMB2 dialects, lowest first, each tried alone below the maximum (smb.c). */
extern const uint16_t smb_enum_dialects[SMB2_ENUM_N];

/* Connection c is over: make due what follows it, and report what is known. Returns PROBE_CLOSE
 * (something is open or due) or PROBE_DONE (smb.c). */
int smb_run_conn_over(struct smb_run *s, unsigned c, struct probe_result *out);

/* Connection c is due now, if it was not yet (smb.c). */
void smb_run_due(struct smb_run *s, unsigned c);

/* The SMB1 connection is over (smb_run_conn_over of SMB_C_SMB1). */
static inline int smb1_conn_over(struct smb_run *s, struct probe_result *out)
{
	return smb_run_conn_over(s, SMB_C_SMB1, out);
}

/* Queue a request a builder returned: n bytes of b, or n < 0 its error (returned as is). */
static inline int smb_queue(struct probe_tx *tx, const uint8_t *b, int n)
{
	if (n < 0)
		return n;
	return probe_tx_put(tx, b, (size_t)n);
}

/* The SMB1 connection (smb_ms17010.c). Queue the request of s->step: 0 or -ERR_*. */
int smb_ms17010_send(struct smb_run *s, struct probe_tx *tx);

/* One whole SMB frame answering s->step: record it and send the next step, or end the SMB1
 * connection. PROBE_MORE, PROBE_CLOSE, PROBE_DONE or -ERR_*. */
int smb_ms17010_feed(struct smb_run *s, const uint8_t *frame, size_t len, struct probe_tx *tx,
                     struct probe_result *out);

/* The bytes of the SMB1 connection are not an SMB frame (r: the -ERR_* of smb_frame_parse). */
void smb_ms17010_bad_frame(struct smb_run *s, int r);

/* The SMB1 connection ended (why) before its sequence was done. */
void smb_ms17010_end(struct smb_run *s, enum probe_end why);

#endif
