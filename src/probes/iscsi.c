/* SPDX-License-Identifier: MIT */
/*
 * iSCSI probe (docs/internals/PROBES.md, "iSCSI"; RFC 7143). Two probes for one check:
 * - "iscsi" (the default): reachability only. A target speaks only after a Login Request, and a
 *   login is a step the operator must choose, so this probe sends nothing and ends at once; the
 *   question of an unauthenticated discovery stays undecided and says why.
 * - "iscsi-discovery" (when the operator enables discovery: `--iscsi-discovery`, or
 *   `iscsi-discovery yes` in the config file): a discovery session as an initiator without
 *   credentials (AuthMethod=None): Login to the operational stage, then to full feature phase,
 *   then one Text Request SendTargets=All, and close. It never logs in to a target (no normal
 *   session, no SCSI command): the names a discovery session lists are the whole answer.
 */
#include "probes/probe.h"
#include "probes/parse/iscsi_parse.h"

#include <stdio.h>
#include <string.h>

#define NOT_CHECKED                                                                                \
	"not checked: iSCSI discovery is off (enable it with --iscsi-discovery or "                \
	"'iscsi-discovery yes')"

static const char sec_keys[] = "InitiatorName=iqn.2017-06.exposure.selfcheck:probe\0"
                               "SessionType=Discovery\0"
                               "AuthMethod=None";
static const char op_keys[] = "HeaderDigest=None\0"
                              "DataDigest=None\0"
                              "MaxRecvDataSegmentLength=8192";
static const char text_keys[] = "SendTargets=All";
static const uint8_t isid[6] = {0x80, 0x00, 0x23, 0x17, 0x00, 0x01}; /* random format (§11.12.5) */

/* Other PDUs (NOP-In, Async) tolerated in between, at most. */
#define ISCSI_OTHER_MAX 8

enum iscsi_phase { IS_LOGIN_SEC = 0, IS_LOGIN_OP, IS_TEXT, IS_FINISHED };

struct iscsi_state {
	enum iscsi_phase phase;
	bool any_bytes, spoke, text_cut;
	unsigned others;
	uint8_t status_class, status_detail;
	bool have_status;
	uint32_t stat_sn;
	const char *problem;
	struct iscsi_keys keys;
};

static int reach_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)state, (void)conn, (void)tx;
	probe_detail_set(out, "discovery", json_string("off"));
	probe_undecided(out, "iscsi-discovery-no-auth", NOT_CHECKED);
	return PROBE_DONE;
}

static int send_login(struct probe_tx *tx, uint8_t csg, uint8_t nsg, uint32_t itt,
                      uint32_t exp_stat_sn, const char *keys, size_t klen)
{
	uint8_t pdu[ISCSI_BHS_LEN + 128];
	int n =
	    iscsi_build_login(pdu, sizeof(pdu), csg, nsg, isid, 0, itt, 1, exp_stat_sn, keys, klen);

	if (n < 0 || probe_tx_put(tx, pdu, (size_t)n) < 0)
		return -ERR_TOOBIG;
	return PROBE_MORE;
}

static int send_text(struct probe_tx *tx, uint32_t exp_stat_sn)
{
	uint8_t pdu[ISCSI_BHS_LEN + 32];
	int n = iscsi_build_text(pdu, sizeof(pdu), 3, 1, exp_stat_sn, text_keys, sizeof(text_keys));

	if (n < 0 || probe_tx_put(tx, pdu, (size_t)n) < 0)
		return -ERR_TOOBIG;
	return PROBE_MORE;
}

static int disc_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)state, (void)conn;
	probe_detail_set(out, "discovery", json_string("on"));
	return send_login(tx, ISCSI_STAGE_SECURITY, ISCSI_STAGE_OPERATIONAL, 1, 0, sec_keys,
	                  sizeof(sec_keys));
}

static void report(struct iscsi_state *s, struct probe_result *out)
{
	char reason[FINDING_REASON_MAX];

	if (!s->spoke)
		return;
	out->state =
	    s->problem && s->phase != IS_FINISHED ? SERVICE_PROTOCOL_ERROR : SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "iscsi");
	if (s->have_status) {
		probe_detail_set(out, "login_status",
		                 json_string(iscsi_status_name(s->status_class, s->status_detail)));
		probe_detail_set(out, "login_status_code",
		                 json_integer(s->status_class << 8 | s->status_detail));
	}
	if (s->keys.auth_method[0])
		probe_detail_set(out, "auth_method", json_string(s->keys.auth_method));
	if (s->problem)
		probe_detail_set(out, "reason", json_string(s->problem));
	if (s->phase != IS_FINISHED || s->problem) {
		probe_undecided(out, "iscsi-discovery-no-auth",
		                s->problem
		                    ? "could not check: the discovery session did not finish"
		                    : "could not check: the discovery session was cut short");
		return;
	}
	if (s->keys.n_targets > 0 || s->text_cut) {
		json_t *names = json_array();

		for (unsigned i = 0; i < s->keys.n_targets && i < ISCSI_TARGETS_MAX; i++)
			json_array_append_new(names, json_string(s->keys.targets[i]));
		probe_detail_set(out, "targets", names);
		probe_detail_set(out, "targets_listed", json_integer(s->keys.n_targets));
		if (s->text_cut)
			probe_detail_set(out, "targets_truncated", json_true());
		snprintf(reason, sizeof(reason),
		         "discovery lists %u target(s) without authentication, first \"%.64s\"",
		         s->keys.n_targets, s->keys.n_targets ? s->keys.targets[0] : "?");
		probe_add_finding(out, "iscsi-discovery-no-auth", SEVERITY_HIGH,
		                  CONFIDENCE_CONFIRMED, reason);
		return;
	}
	/* Refused (authentication or authorisation), CHAP chosen, or nothing to list. */
	probe_answer(out, "iscsi-discovery-no-auth", PROBE_ANSWER_NO);
}

static int finish(struct iscsi_state *s, const char *problem, struct probe_result *out)
{
	if (problem)
		s->problem = problem;
	else
		s->phase = IS_FINISHED;
	report(s, out);
	s->phase = IS_FINISHED;
	return PROBE_DONE;
}

static int on_login(struct iscsi_state *s, const uint8_t *buf, const struct iscsi_pdu *p,
                    struct probe_tx *tx, struct probe_result *out)
{
	s->status_class = p->status_class;
	s->status_detail = p->status_detail;
	s->have_status = true;
	s->stat_sn = p->stat_sn;
	iscsi_keys_scan(buf + p->data_off, p->data_len, &s->keys);
	if (p->status_class == 2 ||
	    (p->status_class == 0 && !p->final && s->keys.auth_method[0] != '\0' &&
	     strcmp(s->keys.auth_method, "None") != 0)) {
		/* Refused, or the target stays in the security stage to authenticate (CHAP). */
		return finish(s, NULL, out);
	}
	/* Staying in the stage without a method that asks for a secret is no refusal. */
	if (p->status_class == 0 && !p->final)
		return finish(s,
		              "the target stayed in the security stage without choosing "
		              "an authentication method",
		              out);
	if (p->status_class != 0)
		return finish(s, "the target redirected or failed the login", out);
	if (strcmp(s->keys.auth_method, "None") != 0 && s->keys.auth_method[0] != '\0' &&
	    s->phase == IS_LOGIN_SEC)
		return finish(s, NULL, out);
	if (p->nsg == ISCSI_STAGE_FULL_FEATURE) {
		s->phase = IS_TEXT;
		return send_text(tx, s->stat_sn + 1);
	}
	if (s->phase == IS_LOGIN_SEC && p->nsg == ISCSI_STAGE_OPERATIONAL) {
		s->phase = IS_LOGIN_OP;
		return send_login(tx, ISCSI_STAGE_OPERATIONAL, ISCSI_STAGE_FULL_FEATURE, 2,
		                  s->stat_sn + 1, op_keys, sizeof(op_keys));
	}
	return finish(s, "unexpected login stage", out);
}

static int one_pdu(void *state, const uint8_t *buf, size_t len, size_t *used, struct probe_tx *tx,
                   struct probe_result *out)
{
	struct iscsi_state *s = state;
	struct iscsi_pdu p;
	int n = iscsi_parse_pdu(buf, len, &p);

	*used = 0;
	if (n == PARSE_AGAIN)
		return PROBE_MORE;
	if (n < 0) {
		if (!s->spoke) {
			if (probe_other(out, buf, len) == PROBE_MORE)
				return PROBE_MORE;
			*used = len;
			s->phase = IS_FINISHED;
			return PROBE_DONE;
		}
		*used = len;
		return finish(s, n == -ERR_TOOBIG ? "a PDU above 8 KiB" : "a malformed PDU", out);
	}
	*used = (size_t)n;
	s->spoke = true;
	if (p.opcode == ISCSI_OP_REJECT)
		return finish(s, "the target rejected a request", out);
	if (s->phase != IS_TEXT && p.opcode == ISCSI_OP_LOGIN_RSP)
		return on_login(s, buf, &p, tx, out);
	if (s->phase == IS_TEXT && p.opcode == ISCSI_OP_TEXT_RSP) {
		iscsi_keys_scan(buf + p.data_off, p.data_len, &s->keys);
		/* A list longer than one PDU continues only if asked for: we do not ask. */
		s->text_cut = !p.final || p.cont;
		return finish(s, NULL, out);
	}
	if (++s->others > ISCSI_OTHER_MAX)
		return finish(s, "unexpected PDUs", out);
	return PROBE_MORE;
}

static int disc_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                     struct probe_tx *tx, struct probe_result *out)
{
	struct iscsi_state *s = state;

	s->any_bytes |= len > 0;
	return probe_feed_each(s, buf, len, consumed, tx, out, one_pdu);
}

static int disc_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct iscsi_state *s = state;

	if (s->phase == IS_FINISHED)
		return PROBE_DONE;
	if (!s->any_bytes) {
		/* Silent after a Login Request, or closed: the target did not answer discovery. */
		out->state = probe_no_bytes_state(why);
		return PROBE_DONE;
	}
	if (!s->spoke) {
		out->state = SERVICE_UNKNOWN;
		probe_detail_set(out, "end", json_string(probe_end_name(why)));
		return PROBE_DONE;
	}
	probe_detail_set(out, "end", json_string(probe_end_name(why)));
	report(s, out);
	return PROBE_DONE;
}

const struct probe_ops probe_iscsi = {
    .name = "iscsi",
    .state_size = sizeof(struct iscsi_state),
    .max_rx = 4096,
    .idle_ms = 1000,
    .total_ms = 2000,
    .max_conns = 1,
    .start = reach_start, /* always DONE: the conversation below never starts */
    .feed = disc_feed,
    .end = disc_end,
};

const struct probe_ops probe_iscsi_discovery = {
    .name = "iscsi-discovery",
    .state_size = sizeof(struct iscsi_state),
    .max_rx = 2 * (ISCSI_BHS_LEN + 1024 + ISCSI_DATA_MAX),
    .idle_ms = 3000,
    .total_ms = 8000,
    .max_conns = 1,
    .start = disc_start,
    .feed = disc_feed,
    .end = disc_end,
};
