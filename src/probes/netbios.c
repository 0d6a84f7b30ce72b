/* SPDX-License-Identifier: MIT */
/*
 * NetBIOS Session Service probe (TCP 139), PROTOCOLS.md §4: a SESSION REQUEST for each called name
 * in turn on a fresh connection (a server closes after a negative answer, §4.4), then, after a
 * POSITIVE SESSION RESPONSE, the SMB conversation of the smb probe over the session (SMB over
 * NBT, smb_internal.h), each of its connections opened with the name that worked: the first on
 * the connection that was answered, the others side by side as the conversation makes them due
 * (its connection j is this probe's connection name_idx + j, as when they came one by one).
 * nmap's order is: the NBSTAT name (UDP 137), *SMBSERVER, the reverse-DNS name. The engine speaks
 * TCP only and the probe does not know the target's names, so the list is *SMBSERVER (NT/2000,
 * Samba answers positive for any name) then *SMBSERV (XP). A RETARGET is recorded, never followed.
 */
#include "probes/smb_internal.h"
#include "probes/parse/nbss_parse.h"

#include <stdio.h>
#include <string.h>

#define NB_CALLING "SELFCHECK"

static const char *const nb_names[] = {"*SMBSERVER", "*SMBSERV"};
#define NB_NAMES (sizeof(nb_names) / sizeof(nb_names[0]))

/* This probe's connections: the called names, then the SMB conversation's after the first. */
#define NB_CONNS (NB_NAMES + SMB_RUN_CONNS)

/* Where one connection is. */
enum nb_phase { NB_UNUSED = 0, NB_SESSION, NB_SMB, NB_GONE };

enum nb_outcome { NB_NONE = 0, NB_POSITIVE, NB_NEGATIVE, NB_RETARGET, NB_OTHER, NB_BROKEN };

struct nb_state {
	struct smb_run smb;
	bool init;               /* set by the first next() or start(0) */
	unsigned cur;            /* one connection at a time: the connection in use */
	enum nb_outcome outcome; /* what the session requests gave */
	unsigned name_idx;       /* called name in use; after POSITIVE, the connection it came on */
	bool name_due;           /* a session request for name_idx is to be opened */
	enum nb_phase phase[NB_CONNS];
	bool any_bytes;
	bool finished;
	uint8_t neg_codes[NB_NAMES];
	unsigned n_neg;
	uint8_t retarget_ip[4];
	uint16_t retarget_port;
	char end_reason[64]; /* how the session request ended without an answer */
};

/* The session service answered as one: the check's service, whatever the SMB part says. */
static void identified(struct probe_result *out, const char *session)
{
	out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "netbios");
	probe_detail_set(out, "session", json_string(session));
}

static void report_positive(const struct nb_state *s, struct probe_result *out)
{
	smb_run_report(&s->smb, out);
	identified(out, "positive");
	probe_detail_set(out, "called_name", json_string(nb_names[s->name_idx]));
	probe_detail_set(out, "smb_over_netbios", json_boolean(s->smb.any_smb));
	probe_add_finding(out, "netbios-exposed", SEVERITY_HIGH, CONFIDENCE_CONFIRMED,
	                  "NetBIOS session accepted");
}

/* No session, so none of SMB's questions could be asked over this port: say why. */
static void smb_unasked(struct probe_result *out, const char *why)
{
	static const char *const questions[] = {"smb1-enabled", "ms17-010-vulnerable",
	                                        "doublepulsar-implant"};

	for (size_t i = 0; i < sizeof(questions) / sizeof(questions[0]); i++)
		probe_undecided(out, questions[i], why);
}

static void report_negative(const struct nb_state *s, struct probe_result *out)
{
	char text[FINDING_REASON_MAX];
	json_t *codes = json_array();

	identified(out, "negative");
	for (unsigned i = 0; i < s->n_neg; i++)
		json_array_append_new(codes, json_string(nbss_error_name(s->neg_codes[i])));
	probe_detail_set(out, "negative_codes", codes);
	snprintf(text, sizeof(text), "session refused for every called name (%s)",
	         s->n_neg ? nbss_error_name(s->neg_codes[s->n_neg - 1]) : "?");
	probe_add_finding(out, "netbios-exposed", SEVERITY_HIGH, CONFIDENCE_LIKELY, text);
	smb_unasked(out, "could not check: the NetBIOS session was refused for every name we know");
}

static void report_retarget(const struct nb_state *s, struct probe_result *out)
{
	char text[FINDING_REASON_MAX];

	identified(out, "retarget");
	snprintf(text, sizeof(text), "%u.%u.%u.%u:%u", s->retarget_ip[0], s->retarget_ip[1],
	         s->retarget_ip[2], s->retarget_ip[3], s->retarget_port);
	probe_detail_set(out, "retarget", json_string(text));
	probe_add_finding(out, "netbios-exposed", SEVERITY_HIGH, CONFIDENCE_LIKELY,
	                  "session retargeted (not followed)");
	smb_unasked(out, "could not check: the NetBIOS session was redirected (not followed)");
}

static void nb_report(const struct nb_state *s, struct probe_result *out)
{
	switch (s->outcome) {
	case NB_POSITIVE:
		report_positive(s, out);
		break;
	case NB_NEGATIVE:
		report_negative(s, out);
		break;
	case NB_RETARGET:
		report_retarget(s, out);
		break;
	case NB_OTHER:
		out->state = SERVICE_OTHER;
		probe_detail_set(out, "session", json_string("not netbios"));
		break;
	case NB_BROKEN:
		out->state = SERVICE_PROTOCOL_ERROR;
		probe_detail_set(out, "session", json_string("malformed"));
		break;
	default:
		if (s->end_reason[0]) {
			probe_detail_set(out, "session", json_string("no answer"));
			probe_detail_set(out, "session_reason", json_string(s->end_reason));
		}
		break;
	}
}

static int nb_finish(struct nb_state *s, struct probe_result *out)
{
	s->finished = true;
	nb_report(s, out);
	return PROBE_DONE;
}

static void nb_init(struct nb_state *s, bool one_by_one)
{
	memset(s, 0, sizeof(*s));
	smb_run_init(&s->smb, true, one_by_one);
	s->init = true;
	s->name_due = true;
}

/* The connection to open now: the next called name, or the SMB conversation's next one. */
static int nb_next(struct nb_state *s)
{
	int j;

	if (s->finished)
		return -1;
	if (s->outcome != NB_POSITIVE) {
		if (!s->name_due || s->name_idx >= NB_NAMES)
			return -1;
		s->name_due = false;
		s->phase[s->name_idx] = NB_SESSION;
		return (int)s->name_idx;
	}
	j = smb_run_next(&s->smb);
	if (j < 0 || s->name_idx + (unsigned)j >= NB_CONNS)
		return -1;
	s->phase[s->name_idx + (unsigned)j] = NB_SESSION;
	return (int)(s->name_idx + (unsigned)j);
}

/* Connection k is known and in phase ph. */
static bool nb_conn_in(const struct nb_state *s, unsigned k, enum nb_phase ph)
{
	return k < NB_CONNS && s->phase[k] == ph;
}

static int nb_conn_start(struct nb_state *s, unsigned k, struct probe_tx *tx,
                         struct probe_result *out)
{
	uint8_t req[NBSS_REQUEST_LEN];
	int n;

	if (s->finished || !nb_conn_in(s, k, NB_SESSION))
		return nb_finish(s, out);
	n = nbss_build_session_request(req, sizeof(req), nb_names[s->name_idx], NBSS_SUFFIX_SERVER,
	                               NB_CALLING, NBSS_SUFFIX_WORKSTATION);
	n = smb_queue(tx, req, n);
	return n < 0 ? n : PROBE_MORE;
}

/* After an SMB call on one of its connections: keep the netbios view of the result on top. */
static int nb_after_smb(struct nb_state *s, int r, struct probe_result *out)
{
	if (r == PROBE_DONE || r < 0)
		s->finished = true;
	nb_report(s, out);
	return r;
}

/* SMB connection k lost its session (refused, not answered, garbage) before SMB spoke: one at a
 * time that ends the probe as it always did; side by side only that connection goes. */
static int nb_drop(struct nb_state *s, unsigned k, struct probe_result *out)
{
	s->phase[k] = NB_GONE;
	return nb_after_smb(s, smb_run_drop(&s->smb, k - s->name_idx, out), out);
}

/* ---- the answer to the session request (RFC 1002 §4.3, PROTOCOLS.md §4.2) */

/* Bytes that are no session packet (r: the -ERR_* of nbss_parse). */
static int session_garbage(struct nb_state *s, unsigned k, int r, struct probe_result *out)
{
	if (s->outcome == NB_POSITIVE) /* a later connection broke: keep what we have */
		return nb_drop(s, k, out);
	s->outcome = r == -ERR_SYNTAX ? NB_OTHER : NB_BROKEN;
	return nb_finish(s, out);
}

/* The session is up on connection k: SMB from now on. PROBE_MORE, or how the SMB start ended. */
static int session_positive(struct nb_state *s, unsigned k, struct probe_tx *tx,
                            struct probe_result *out)
{
	int r, j;

	if (s->outcome != NB_POSITIVE) {
		/* The first session: the SMB conversation's first connection is this one. */
		s->outcome = NB_POSITIVE;
		s->name_idx = k;
		j = smb_run_next(&s->smb);
	} else {
		j = (int)(k - s->name_idx);
	}
	s->phase[k] = NB_SMB;
	r = j < 0 ? smb_run_drop(&s->smb, SMB_RUN_CONNS, out)
	          : smb_run_start(&s->smb, (unsigned)j, tx, out);
	return r == PROBE_MORE ? r : nb_after_smb(s, r, out);
}

/* This called name is refused: the next one on a fresh connection, since the server closes
 * (PROTOCOLS.md §4.4). */
static int session_negative(struct nb_state *s, unsigned k, const struct nbss_packet *p,
                            struct probe_result *out)
{
	if (s->n_neg < NB_NAMES)
		s->neg_codes[s->n_neg++] = p->error_code;
	s->outcome = NB_NEGATIVE;
	s->phase[k] = NB_GONE;
	if (s->name_idx + 1 >= NB_NAMES)
		return nb_finish(s, out);
	s->name_idx++;
	s->name_due = true;
	nb_report(s, out);
	return PROBE_CLOSE;
}

/* Any packet but a keep-alive and a POSITIVE response; *consumed_all: the rest of the bytes go
 * too. Once a session worked, a later connection that is refused changes nothing. */
static int session_answer(struct nb_state *s, unsigned k, const struct nbss_packet *p,
                          bool *consumed_all, struct probe_result *out)
{
	*consumed_all = p->type != NBSS_NEGATIVE && p->type != NBSS_RETARGET;
	if (s->outcome == NB_POSITIVE)
		return nb_drop(s, k, out);
	switch (p->type) {
	case NBSS_NEGATIVE:
		return session_negative(s, k, p, out);
	case NBSS_RETARGET:
		s->outcome = NB_RETARGET;
		memcpy(s->retarget_ip, p->retarget_ip, sizeof(s->retarget_ip));
		s->retarget_port = p->retarget_port;
		return nb_finish(s, out);
	default:
		/* A SESSION MESSAGE or REQUEST before any session: not a session service. */
		s->outcome = NB_BROKEN;
		return nb_finish(s, out);
	}
}

static int nb_conn_feed(struct nb_state *s, unsigned k, const uint8_t *buf, size_t len,
                        size_t *consumed, struct probe_tx *tx, struct probe_result *out)
{
	size_t off = 0, used = 0;
	bool consumed_all;
	int r;

	*consumed = 0;
	if (s->finished || !(nb_conn_in(s, k, NB_SESSION) || nb_conn_in(s, k, NB_SMB))) {
		*consumed = len;
		return nb_finish(s, out);
	}
	if (len > 0)
		s->any_bytes = true;
	while (s->phase[k] == NB_SESSION && off < len) {
		struct nbss_packet p;

		r = nbss_parse(buf + off, len - off, &p);
		if (r == PARSE_AGAIN)
			break;
		if (r < 0) {
			*consumed = len;
			return session_garbage(s, k, r, out);
		}
		off += (size_t)r;
		if (p.type == NBSS_KEEPALIVE)
			continue;
		if (p.type != NBSS_POSITIVE) {
			r = session_answer(s, k, &p, &consumed_all, out);
			*consumed = consumed_all ? len : off;
			return r;
		}
		r = session_positive(s, k, tx, out);
		if (r != PROBE_MORE) {
			*consumed = off;
			return r;
		}
	}
	*consumed = off;
	if (s->phase[k] != NB_SMB)
		return PROBE_MORE;
	/* SMB frames, the first ones maybe in the same read as the POSITIVE response */
	r = smb_run_feed(&s->smb, k - s->name_idx, buf + off, len - off, &used, tx, out);
	*consumed = off + used;
	return nb_after_smb(s, r, out);
}

static int nb_conn_end(struct nb_state *s, unsigned k, enum probe_end why, struct probe_result *out)
{
	if (s->finished || k >= NB_CONNS)
		return nb_finish(s, out);
	if (s->phase[k] == NB_SMB)
		return nb_after_smb(s, smb_run_end(&s->smb, k - s->name_idx, why, out), out);
	if (s->outcome == NB_POSITIVE) /* a later session request was not answered */
		return nb_drop(s, k, out);
	snprintf(s->end_reason, sizeof(s->end_reason), "session request: %s", probe_end_name(why));
	nb_finish(s, out);
	if (!s->any_bytes)
		out->state = smb_silent_state(why, out->state);
	else if (s->outcome == NB_NONE)
		out->state = SERVICE_PROTOCOL_ERROR; /* a partial session packet */
	return PROBE_DONE;
}

/* ---- side by side (probe_conv_ops) */

static int nb_conv_next(void *state)
{
	struct nb_state *s = state;

	if (!s->init)
		nb_init(s, false);
	return nb_next(s);
}

static int nb_conv_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	return nb_conn_start(state, conn, tx, out);
}

static int nb_conv_feed(void *state, unsigned conn, const uint8_t *buf, size_t len,
                        size_t *consumed, struct probe_tx *tx, struct probe_result *out)
{
	return nb_conn_feed(state, conn, buf, len, consumed, tx, out);
}

static int nb_conv_end(void *state, unsigned conn, enum probe_end why, struct probe_result *out)
{
	return nb_conn_end(state, conn, why, out);
}

/* ---- one connection at a time (probe_ops start/feed/end): the next due after a CLOSE */

static int nb_one_after(struct nb_state *s, int r)
{
	int next;

	if (r != PROBE_CLOSE)
		return r;
	next = nb_next(s);
	if (next < 0)
		return PROBE_DONE;
	s->cur = (unsigned)next;
	return PROBE_RECONNECT;
}

static int nb_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct nb_state *s = state;

	if (conn == 0) {
		nb_init(s, true);
		s->cur = (unsigned)nb_next(s);
	}
	return nb_one_after(s, nb_conn_start(s, s->cur, tx, out));
}

static int nb_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                   struct probe_tx *tx, struct probe_result *out)
{
	struct nb_state *s = state;

	return nb_one_after(s, nb_conn_feed(s, s->cur, buf, len, consumed, tx, out));
}

static int nb_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct nb_state *s = state;

	return nb_one_after(s, nb_conn_end(s, s->cur, why, out));
}

static const struct probe_conv_ops nb_conv = {
    .max_parallel = SMB_RUN_PARALLEL,
    .next = nb_conv_next,
    .start = nb_conv_start,
    .feed = nb_conv_feed,
    .end = nb_conv_end,
};

const struct probe_ops probe_netbios = {
    .name = "netbios",
    .state_size = sizeof(struct nb_state),
    .max_rx = 4 + SMB_FRAME_MAX,
    .idle_ms = 5000,
    .total_ms = 30000,
    .max_conns = NB_CONNS,
    .start = nb_start,
    .feed = nb_feed,
    .end = nb_end,
    .conv = &nb_conv,
};
