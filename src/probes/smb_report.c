/* SPDX-License-Identifier: MIT */
/*
 * The result of an smb_run (smb_internal.h): the service state, the details of docs/json.md and
 * the findings, rebuilt from what the connections saw each time something new is learnt. The
 * order of the details keys is part of the output: keep each first set where it is.
 */
#include "probes/smb_internal.h"

#include <stdio.h>
#include <string.h>

/* Who asks for signatures, from the NEGOTIATE answers (a LANMAN answer has no signing bits). */
struct signing {
	bool smb1_required, smb1_enabled;
	bool smb2_required, smb2_enabled;
};

static struct signing signing_seen(const struct smb_run *s)
{
	bool smb1 = s->smb1.state == SMB1_ON && !s->smb1.lanman;
	bool smb1_en = smb1 && (s->smb1.secmode & SMB1_SECMODE_SIGNATURES_ENABLED);

	return (struct signing){
	    .smb1_enabled = smb1_en,
	    .smb1_required = smb1_en && (s->smb1.secmode & SMB1_SECMODE_SIGNATURES_REQUIRED),
	    .smb2_enabled = s->smb2.answered && (s->smb2.secmode & SMB2_NEGOTIATE_SIGNING_ENABLED),
	    .smb2_required =
	        s->smb2.answered && (s->smb2.secmode & SMB2_NEGOTIATE_SIGNING_REQUIRED),
	};
}

static const char *signing_word(bool required, bool enabled)
{
	return required ? "required" : enabled ? "enabled" : "disabled";
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

static const char *dp_word(enum dp_state d)
{
	switch (d) {
	case DP_STATE_PRESENT:
		return "present";
	case DP_STATE_ABSENT:
		return "absent";
	default:
		return "unknown";
	}
}

/*
 * The MS17-010 verdict shown, and its reason. A check that never ran is "not applicable" only
 * when SMB1 is known to be off, and even then only if something spoke SMB: silence is not
 * "SMBv1 disabled".
 */
static enum ms17_state ms17_shown(const struct smb_run *s, const char **reason)
{
	enum ms17_state m = s->ms17.state;

	*reason = s->ms17.reason[0] ? s->ms17.reason : "not checked";
	if (m == MS17_STATE_UNTESTED)
		m = s->smb1.state == SMB1_OFF ? MS17_STATE_NOT_APPLICABLE : MS17_STATE_UNKNOWN;
	if (m == MS17_STATE_NOT_APPLICABLE && !s->any_smb) {
		m = MS17_STATE_UNKNOWN;
		*reason = "no SMB reply";
	}
	return m;
}

static void service_state(const struct smb_run *s, struct probe_result *out)
{
	if (s->any_smb) {
		out->state = SERVICE_IDENTIFIED;
		snprintf(out->service, sizeof(out->service), "smb");
	} else if (s->other) {
		out->state = SERVICE_OTHER;
	} else if (s->broken) {
		out->state = SERVICE_PROTOCOL_ERROR;
	}
}

/* details.dialects (SMB1, the lower SMB2 dialects accepted alone, the SMB2 maximum) and
 * details.max_dialect (the SMB2 maximum when SMB2 answered). */
static void dialect_details(const struct smb_run *s, struct probe_result *out)
{
	json_t *dialects = json_array();
	const char *max_dialect = NULL;

	if (s->smb1.state == SMB1_ON) {
		max_dialect = s->smb1.lanman ? "LANMAN" : "NT LM 0.12";
		json_array_append_new(dialects, json_string(max_dialect));
	}
	for (unsigned i = 0; i < SMB2_ENUM_N; i++)
		if (s->smb2.enum_ok[i])
			json_array_append_new(dialects,
			                      json_string(smb2_dialect_name(smb_enum_dialects[i])));
	if (s->smb2.answered) {
		max_dialect = smb2_dialect_name(s->smb2.dialect);
		json_array_append_new(dialects, json_string(max_dialect));
	}
	probe_detail_set(out, "dialects", dialects);
	probe_detail_set(out, "max_dialect", max_dialect ? json_string(max_dialect) : json_null());
}

/* details.signing: from SMB2 when it answered, else from SMB1; each protocol's own too. */
static void signing_details(const struct smb_run *s, const struct signing *sg,
                            struct probe_result *out)
{
	bool smb1_on = s->smb1.state == SMB1_ON;
	const char *overall = "unknown";

	if (s->smb2.answered)
		overall = signing_word(sg->smb2_required, sg->smb2_enabled);
	else if (smb1_on)
		overall = signing_word(sg->smb1_required, sg->smb1_enabled);
	probe_detail_set(out, "signing", json_string(overall));
	if (smb1_on && !s->smb1.lanman)
		probe_detail_set(out, "smb1_signing",
		                 json_string(signing_word(sg->smb1_required, sg->smb1_enabled)));
	if (s->smb2.answered)
		probe_detail_set(out, "smb2_signing",
		                 json_string(signing_word(sg->smb2_required, sg->smb2_enabled)));
	else if (s->smb2.reason[0])
		probe_detail_set(out, "smb2_reason", json_string(s->smb2.reason));
}

/* Peer text set only when the peer sent it. */
static void text_detail(struct probe_result *out, const char *key, const char *text)
{
	if (text[0])
		probe_detail_set(out, key, json_string(text));
}

static void ms17_details(const struct smb_run *s, enum ms17_state ms17, const char *reason,
                         struct probe_result *out)
{
	probe_detail_set(out, "ms17_010", json_string(ms17_word(ms17)));
	probe_detail_set(out, "ms17_010_reason", json_string(reason));
	text_detail(out, "native_os", s->smb1.native_os);
	text_detail(out, "native_lanman", s->smb1.native_lanman);
	text_detail(out, "server_name", s->smb1.server_name);
	text_detail(out, "domain", s->smb1.domain);
	if (s->ms17.dp != DP_STATE_UNTESTED) {
		probe_detail_set(out, "doublepulsar", json_string(dp_word(s->ms17.dp)));
		probe_detail_set(out, "doublepulsar_reason", json_string(s->ms17.dp_reason));
	}
}

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

static void ms17_findings(const struct smb_run *s, enum ms17_state ms17, const char *reason,
                          struct probe_result *out)
{
	char text[FINDING_REASON_MAX];

	if (s->ms17.dp == DP_STATE_PRESENT) {
		snprintf(text, sizeof(text), "implant answered the ping (MID 0x51, %s)",
		         s->ms17.dp_x64 ? "x64" : "x86");
		probe_add_finding(out, "doublepulsar-implant", SEVERITY_CRITICAL,
		                  CONFIDENCE_CONFIRMED, text);
	}
	if (ms17 == MS17_STATE_VULNERABLE)
		probe_add_finding(out, "ms17-010-vulnerable", SEVERITY_CRITICAL, CONFIDENCE_LIKELY,
		                  "PeekNamedPipe on FID 0 answered STATUS_INSUFF_SERVER_RESOURCES");
	if (ms17 == MS17_STATE_UNKNOWN && s->smb1.state == SMB1_ON) {
		/* SMB1 is on but the check could not run to the end: say so as a finding with
		 * confidence unknown, so that no report can read it as "not vulnerable". */
		snprintf(text, sizeof(text), "could not check: %.140s", reason);
		probe_add_finding(out, "ms17-010-vulnerable", SEVERITY_CRITICAL, CONFIDENCE_UNKNOWN,
		                  text);
	}
}

/* SMB1 on, and signing that nobody requires. */
static void protocol_findings(const struct smb_run *s, const struct signing *sg,
                              struct probe_result *out)
{
	bool smb1_on = s->smb1.state == SMB1_ON;

	if (smb1_on)
		/* §5.6: LIKELY unless the anonymous session also worked (honeypots answer
		 * NEGOTIATE). */
		probe_add_finding(out, "smb1-enabled", SEVERITY_HIGH,
		                  s->smb1.session_ok ? CONFIDENCE_CONFIRMED : CONFIDENCE_LIKELY,
		                  s->smb1.lanman ? "SMB1 NEGOTIATE answered (LANMAN dialect)"
		                                 : "SMB1 NEGOTIATE answered (NT LM 0.12)");
	if ((smb1_on || s->smb2.answered) && !sg->smb1_required && !sg->smb2_required)
		probe_add_finding(out, "smb-signing-not-required", SEVERITY_MEDIUM,
		                  CONFIDENCE_CONFIRMED,
		                  s->smb2.answered ? "SMB2 NEGOTIATE: signing not required"
		                                   : "SMB1 NEGOTIATE: signing not required");
}

/* Question id undecided: "could not check: " and why, when the probe knows why. */
static void undecided(struct probe_result *out, const char *id, const char *what, const char *why)
{
	char text[FINDING_REASON_MAX];

	snprintf(text, sizeof(text), "could not check: %s%.120s", what, why);
	probe_undecided(out, id, why[0] ? text : NULL);
}

/*
 * The questions of the smb check (catalogue.h), recomputed like the findings: answered no (SMB1
 * refused; MS17-010 not vulnerable, or out of reach with SMB1 off; no implant answered the ping,
 * or no ping is due: it is sent only after "vulnerable"), or undecided with the probe's reason.
 * A question with its finding needs neither.
 */
static void answers(const struct smb_run *s, enum ms17_state ms17, const char *ms17_reason,
                    struct probe_result *out)
{
	bool ms17_no = ms17 == MS17_STATE_NOT_VULNERABLE || ms17 == MS17_STATE_NOT_APPLICABLE;

	if (s->smb1.state == SMB1_OFF && s->any_smb)
		probe_answer(out, "smb1-enabled", PROBE_ANSWER_NO);
	else
		undecided(out, "smb1-enabled",
		          "SMB1 NEGOTIATE: ", s->smb1.state == SMB1_ON ? "" : s->smb1.reason);
	if (ms17_no)
		probe_answer(out, "ms17-010-vulnerable",
		             ms17 == MS17_STATE_NOT_VULNERABLE ? PROBE_ANSWER_NO
		                                               : PROBE_ANSWER_NOT_APPLICABLE);
	else
		undecided(out, "ms17-010-vulnerable", "",
		          ms17 == MS17_STATE_UNKNOWN ? ms17_reason : "");
	if (s->ms17.dp == DP_STATE_ABSENT)
		probe_answer(out, "doublepulsar-implant", PROBE_ANSWER_NO);
	else if (ms17_no && s->ms17.dp == DP_STATE_UNTESTED)
		probe_answer(out, "doublepulsar-implant", PROBE_ANSWER_NOT_APPLICABLE);
	else if (s->ms17.dp == DP_STATE_UNKNOWN)
		undecided(out, "doublepulsar-implant", "", s->ms17.dp_reason);
	else
		undecided(
		    out, "doublepulsar-implant", "",
		    ms17 == MS17_STATE_UNKNOWN
		        ? "the implant is pinged after the MS17-010 check, which did not finish"
		        : "");
}

void smb_run_report(const struct smb_run *s, struct probe_result *out)
{
	struct signing sg = signing_seen(s);
	const char *ms17_reason;
	enum ms17_state ms17 = ms17_shown(s, &ms17_reason);

	service_state(s, out);
	probe_detail_set(out, "smb1", json_boolean(s->smb1.state == SMB1_ON));
	text_detail(out, "smb1_reason", s->smb1.reason);
	dialect_details(s, out);
	signing_details(s, &sg, out);
	ms17_details(s, ms17, ms17_reason, out);

	/* Findings: recomputed from scratch (the netbios probe keeps its own). */
	drop_finding(out, "ms17-010-vulnerable");
	drop_finding(out, "doublepulsar-implant");
	drop_finding(out, "smb1-enabled");
	drop_finding(out, "smb-signing-not-required");
	ms17_findings(s, ms17, ms17_reason, out);
	protocol_findings(s, &sg, out);
	answers(s, ms17, ms17_reason, out);
}
