/* SPDX-License-Identifier: MIT */
/*
 * The questions of the catalogue (issue 15 §2): every question a check declares is present in
 * every result of that check with an open port, as a finding (confirmed, likely or unknown with
 * a reason) or as an answer (no, not applicable), never missing. Over every check of the
 * catalogue, so a check added later is held to it by declaring its questions: synthetic probe
 * results (answered yes, no, not applicable, silent, garbage, broken, undecided), and the real
 * probes driven in memory through silence, resets, garbage and another service's greeting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "diagnosis/diagnosis.h"
#include "diagnosis/diagnosis_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct port_result CLOSED = {
    .state = PORT_CLOSED,
    .reason = REASON_RESET,
    .icmp_type = -1,
    .icmp_code = -1,
    .sys_errno = ECONNREFUSED,
    .rtt_ms = 0.25,
    .tries = 1,
};
static const struct port_result OPEN = {
    .state = PORT_OPEN,
    .reason = REASON_SYN_ACK,
    .icmp_type = -1,
    .icmp_code = -1,
    .rtt_ms = 1.5,
    .tries = 1,
};

/* Builds the probe result of one port of check c (each port gets its own: details are taken). */
typedef void result_fn(const struct check_def *c, struct probe_result *out);

static size_t n_checks(void)
{
	size_t n;

	catalogue_checks(&n);
	return n;
}

static size_t n_questions(const struct check_def *c)
{
	struct finding_def q;
	size_t n = 0;

	while (check_question(c, n, &q))
		n++;
	return n;
}

static struct diagnosis *make(bool ports_only)
{
	struct diag_options o = {.ports_only = ports_only, .checks = catalogue_all()};
	struct addr a;
	struct diagnosis *d;

	assert_int_equal(addr_parse("127.0.0.1", &a), 0);
	d = diagnosis_new("127.0.0.1", &a, &o, NULL, NULL, NULL);
	assert_non_null(d);
	return d;
}

/* Check i open on every port, each with the result fn builds (NULL: no probe ran); the other
 * checks closed. */
static struct diagnosis *diagnose(size_t i, result_fn *fn, const struct port_result *pr,
                                  bool ports_only)
{
	struct diagnosis *d = make(ports_only);

	for (size_t k = 0; k < n_checks(); k++) {
		struct check_ports p = catalogue_ports(NULL, k);

		for (size_t pk = 0; pk < check_ports_count(p); pk++) {
			unsigned port = check_ports_nth(p, pk);

			struct probe_result res = {0};

			if (k != i) {
				assert_int_equal(
				    diagnosis_record(d, k, (uint16_t)port, &CLOSED, NULL), 0);
				continue;
			}
			if (fn)
				fn(diagnosis_check_def(d, k), &res);
			assert_int_equal(
			    diagnosis_record(d, k, (uint16_t)port, pr, fn ? &res : NULL), 0);
			probe_result_done(&res);
		}
	}
	assert_true(diagnosis_done(d));
	return d;
}

static const struct finding *finding_of(const struct diagnosis *d, size_t i, const char *id,
                                        size_t *count)
{
	const struct finding *found = NULL;

	*count = 0;
	for (size_t k = 0; k < diagnosis_check_findings(d, i); k++) {
		const struct finding *f = diagnosis_finding(d, i, k);

		if (strcmp(f->id, id) == 0) {
			found = f;
			(*count)++;
		}
	}
	return found;
}

/* The reason of the finding of question id, which must be there. */
static const char *reason_of(const struct diagnosis *d, size_t i, const char *id)
{
	size_t count;
	const struct finding *f = finding_of(d, i, id, &count);

	if (f == NULL)
		fail_msg("no finding %s", id);
	return f->reason;
}

/* A critical or high question left open is medium at most: risk_of(). */
static enum risk risk_cap(const struct check_def *c)
{
	enum risk exposed = c->exposed_severity == SEVERITY_CRITICAL ? RISK_CRITICAL
	                    : c->exposed_severity == SEVERITY_HIGH   ? RISK_HIGH
	                                                             : RISK_MEDIUM;

	return exposed > RISK_MEDIUM ? exposed : RISK_MEDIUM;
}

/*
 * THE property: every question of check i is present, as its finding (yes: confirmed, likely or
 * possible; unknown: with a reason) or as an answer without a finding (no, not applicable). The
 * JSON document says the same. Returns how many questions are unknown.
 */
static size_t assert_present(const struct diagnosis *d, size_t i, const char *how)
{
	const struct check_def *c = diagnosis_check_def(d, i);
	json_t *check = diagnosis_check_json(d, i);
	json_t *findings = json_object_get(check, "findings");
	size_t unknown = 0;

	assert_int_equal(diagnosis_check_questions(d, i), n_questions(c));
	for (size_t k = 0; k < diagnosis_check_questions(d, i); k++) {
		const char *id;
		enum question_state st = diagnosis_question(d, i, k, &id);
		size_t count, in_json = 0, j;
		const struct finding *f = finding_of(d, i, id, &count);
		json_t *x;

		json_array_foreach(findings, j, x) in_json +=
		    strcmp(json_string_value(json_object_get(x, "id")), id) == 0;
		if (count > 1 || in_json != count)
			fail_msg("%s %s: %s %zu times, %zu in JSON", c->name, how, id, count,
			         in_json);
		switch (st) {
		case QUESTION_YES:
			if (f == NULL || f->confidence == CONFIDENCE_UNKNOWN)
				fail_msg("%s %s: %s yes without its finding", c->name, how, id);
			break;
		case QUESTION_NO:
		case QUESTION_NOT_APPLICABLE:
			if (f != NULL)
				fail_msg("%s %s: %s answered %s beside its finding", c->name, how,
				         id, question_state_name(st));
			break;
		case QUESTION_UNKNOWN:
			if (f == NULL || f->confidence != CONFIDENCE_UNKNOWN ||
			    f->reason[0] == '\0')
				fail_msg(
				    "%s %s: %s unknown without an unknown finding and its reason",
				    c->name, how, id);
			unknown++;
			break;
		default:
			fail_msg("%s %s: question %s is %s on an open port", c->name, how, id,
			         question_state_name(st));
		}
	}
	if (unknown > 0 && diagnosis_risk(d) > risk_cap(c))
		fail_msg("%s %s: risk %s: an unknown question counts as medium at most", c->name,
		         how, risk_name(diagnosis_risk(d)));
	json_decref(check);
	return unknown;
}

/* ---- the catalogue's side */

/* The questions issue 15 names, per check; netbios asks SMB's over its session. */
static void test_catalogue_declares(void **state)
{
	static const struct {
		const char *check, *questions;
	} want[] = {
	    {"ssh", ""},
	    {"telnet", "telnet-no-auth-shell"},
	    {"netbios", "smb1-enabled ms17-010-vulnerable doublepulsar-implant"},
	    {"smb", "smb1-enabled ms17-010-vulnerable doublepulsar-implant"},
	    {"rdp", "rdp-nla-not-required"},
	    {"vnc", "vnc-no-auth"},
	    {"skysea", ""},
	};

	(void)state;
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		const struct check_def *c = catalogue_find(want[w].check);
		char got[256] = "";
		struct finding_def q;

		assert_non_null(c);
		for (size_t k = 0; check_question(c, k, &q); k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "",
			         q.id);
		assert_string_equal(got, want[w].questions);
	}
}

/* Every question of every check is one of its findings, critical or high, asked once. */
static void test_catalogue_questions_are_findings(void **state)
{
	size_t n;
	const struct check_def *checks = catalogue_checks(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		struct finding_def q, f, q2;

		for (size_t k = 0; check_question(&checks[i], k, &q); k++) {
			bool found = false;

			for (size_t j = 1; check_finding(&checks[i], j, &f); j++)
				found |= strcmp(f.id, q.id) == 0 && f.severity == q.severity;
			if (!found)
				fail_msg("%s: question %s is none of its findings", checks[i].name,
				         q.id);
			if (q.severity < SEVERITY_HIGH)
				fail_msg("%s: question %s is not critical or high", checks[i].name,
				         q.id);
			for (size_t j = 0; j < k; j++)
				if (check_question(&checks[i], j, &q2) && strcmp(q2.id, q.id) == 0)
					fail_msg("%s: question %s twice", checks[i].name, q.id);
		}
		assert_true(n_questions(&checks[i]) <= 2 * CHECK_MAX_QUESTIONS);
	}
}

/* ---- synthetic probe results, for every check of the catalogue */

static void identified(const struct check_def *c, struct probe_result *out)
{
	out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "%s", c->probe);
}

static void yes_all(const struct check_def *c, struct probe_result *out)
{
	struct finding_def q;

	identified(c, out);
	for (size_t k = 0; check_question(c, k, &q); k++)
		probe_add_finding(out, q.id, q.severity, CONFIDENCE_CONFIRMED, "seen");
}

static void no_all(const struct check_def *c, struct probe_result *out)
{
	struct finding_def q;

	identified(c, out);
	for (size_t k = 0; check_question(c, k, &q); k++)
		probe_answer(out, q.id, PROBE_ANSWER_NO);
}

static void not_applicable_all(const struct check_def *c, struct probe_result *out)
{
	struct finding_def q;

	identified(c, out);
	for (size_t k = 0; check_question(c, k, &q); k++)
		probe_answer(out, q.id, PROBE_ANSWER_NOT_APPLICABLE);
}

/* The first question yes, the second no, the rest left open. */
static void mixed(const struct check_def *c, struct probe_result *out)
{
	struct finding_def q;

	identified(c, out);
	if (check_question(c, 0, &q))
		probe_add_finding(out, q.id, q.severity, CONFIDENCE_LIKELY, "seen");
	if (check_question(c, 1, &q))
		probe_answer(out, q.id, PROBE_ANSWER_NO);
}

static void silent(const struct check_def *c, struct probe_result *out)
{
	(void)c;
	out->state = SERVICE_SILENT;
	probe_detail_set(out, "reason", json_string(probe_end_name(PROBE_END_IDLE)));
}

static void tcpwrapped(const struct check_def *c, struct probe_result *out)
{
	(void)c;
	out->state = SERVICE_TCPWRAPPED;
	probe_detail_set(out, "reason", json_string(probe_end_name(PROBE_END_CLOSED)));
}

static void garbage(const struct check_def *c, struct probe_result *out)
{
	(void)c;
	out->state = SERVICE_OTHER;
	snprintf(out->service, sizeof(out->service), "http");
}

static void broken(const struct check_def *c, struct probe_result *out)
{
	out->state = SERVICE_PROTOCOL_ERROR;
	snprintf(out->service, sizeof(out->service), "%s", c->probe);
	probe_detail_set(out, "end", json_string(probe_end_name(PROBE_END_RESET)));
}

static void nothing_learnt(const struct check_def *c, struct probe_result *out)
{
	(void)c;
	out->state = SERVICE_UNKNOWN;
}

/* Identified, the conversation cut short: no answer, no finding. */
static void undecided(const struct check_def *c, struct probe_result *out)
{
	identified(c, out);
	probe_detail_set(out, "end", json_string(probe_end_name(PROBE_END_DEADLINE)));
}

/* The probe says why it could not decide. */
static void undecided_with_reason(const struct check_def *c, struct probe_result *out)
{
	struct finding_def q;

	identified(c, out);
	for (size_t k = 0; check_question(c, k, &q); k++)
		probe_undecided(out, q.id, "could not check: told by the probe");
}

/* The probe raises the unknown finding itself (rdp NLA, MS17-010 with SMB1 on): kept as is. */
static void probe_unknown(const struct check_def *c, struct probe_result *out)
{
	struct finding_def q;

	identified(c, out);
	for (size_t k = 0; check_question(c, k, &q); k++)
		probe_add_finding(out, q.id, q.severity, CONFIDENCE_UNKNOWN, "probe's own doubt");
}

/* An answer "no" then forgotten (probe_answer NONE): open again, so unknown. */
static void answer_forgotten(const struct check_def *c, struct probe_result *out)
{
	struct finding_def q;

	identified(c, out);
	for (size_t k = 0; check_question(c, k, &q); k++) {
		probe_answer(out, q.id, PROBE_ANSWER_NO);
		probe_answer(out, q.id, PROBE_ANSWER_NONE);
	}
}

#define ALL         (-1)
#define ALL_BUT_TWO (-2)

static const struct {
	const char *name;
	result_fn *fn;
	int unknown; /* how many questions end unknown: ALL, ALL_BUT_TWO or 0 */
	enum question_state first;
	const char *reason; /* of the first question when unknown; NULL: not compared */
} cases[] = {
    {"answered yes", yes_all, 0, QUESTION_YES, NULL},
    {"answered no", no_all, 0, QUESTION_NO, NULL},
    {"not applicable", not_applicable_all, 0, QUESTION_NOT_APPLICABLE, NULL},
    {"yes, no and open", mixed, ALL_BUT_TWO, QUESTION_YES, NULL},
    {"silent", silent, ALL, QUESTION_UNKNOWN,
     "could not check: the service sent nothing (no data before the idle timeout)"},
    {"tcpwrapped", tcpwrapped, ALL, QUESTION_UNKNOWN,
     "could not check: the service closed the connection without a byte (closed by the "
     "server)"},
    {"garbage", garbage, ALL, QUESTION_UNKNOWN, NULL},
    {"broken", broken, ALL, QUESTION_UNKNOWN, NULL},
    {"nothing learnt", nothing_learnt, ALL, QUESTION_UNKNOWN, NULL},
    {"undecided", undecided, ALL, QUESTION_UNKNOWN, NULL},
    {"undecided, the probe's reason", undecided_with_reason, ALL, QUESTION_UNKNOWN,
     "could not check: told by the probe"},
    {"the probe's unknown finding", probe_unknown, ALL, QUESTION_UNKNOWN, "probe's own doubt"},
    {"answer forgotten", answer_forgotten, ALL, QUESTION_UNKNOWN, NULL},
};

static void test_synthetic_results(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_checks(); i++) {
		const struct check_def *c = &catalogue_checks(&(size_t){0})[i];
		size_t nq = n_questions(c);

		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			struct diagnosis *d = diagnose(i, cases[k].fn, &OPEN, false);
			size_t want = cases[k].unknown == ALL           ? nq
			              : cases[k].unknown == ALL_BUT_TWO ? (nq > 2 ? nq - 2 : 0)
			                                                : (size_t)cases[k].unknown;
			size_t got = assert_present(d, i, cases[k].name);
			const char *id;

			if (got != want)
				fail_msg("%s %s: %zu questions unknown, want %zu", c->name,
				         cases[k].name, got, want);
			if (nq > 0 && diagnosis_question(d, i, 0, &id) != cases[k].first)
				fail_msg("%s %s: %s is %s", c->name, cases[k].name, id,
				         question_state_name(diagnosis_question(d, i, 0, &id)));
			if (nq > 0 && cases[k].reason) {
				diagnosis_question(d, i, 0, &id);
				assert_string_equal(reason_of(d, i, id), cases[k].reason);
			}
			diagnosis_free(d);
		}
	}
}

/* The reasons name the check and what answered instead, from the catalogue's title. */
static void test_reasons(void **state)
{
	size_t i = catalogue_rank("vnc");
	struct diagnosis *d;

	(void)state;
	d = diagnose(i, garbage, &OPEN, false);
	assert_string_equal(reason_of(d, i, "vnc-no-auth"),
	                    "could not check: not identified as VNC (http answers)");
	diagnosis_free(d);
	d = diagnose(i, broken, &OPEN, false);
	assert_string_equal(
	    reason_of(d, i, "vnc-no-auth"),
	    "could not check: the service broke the VNC protocol (connection reset)");
	diagnosis_free(d);
	d = diagnose(i, undecided, &OPEN, false);
	assert_string_equal(reason_of(d, i, "vnc-no-auth"),
	                    "could not check: the VNC conversation stopped before the answer "
	                    "(deadline reached)");
	diagnosis_free(d);
	d = diagnose(i, nothing_learnt, &OPEN, false);
	assert_string_equal(reason_of(d, i, "vnc-no-auth"),
	                    "could not check: not identified as VNC");
	diagnosis_free(d);
}

/*
 * The case of issue 15: VNC open, "no data before the idle timeout", service null, and only
 * vnc-exposed (likely). Now vnc-no-auth is there too, unknown, with the reason; the risk stays
 * that of the open door (high), not critical.
 */
static void test_issue_vnc_silent(void **state)
{
	size_t i = catalogue_rank("vnc");
	struct diagnosis *d = diagnose(i, silent, &OPEN, false);
	json_t *check = diagnosis_check_json(d, i);
	json_t *f;

	(void)state;
	assert_true(json_is_null(json_object_get(check, "service")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(check, "details"), "reason")),
	    "no data before the idle timeout");
	assert_int_equal(json_array_size(json_object_get(check, "findings")), 2);
	f = json_array_get(json_object_get(check, "findings"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "id")), "vnc-exposed");
	assert_string_equal(json_string_value(json_object_get(f, "confidence")), "likely");
	f = json_array_get(json_object_get(check, "findings"), 1);
	assert_string_equal(json_string_value(json_object_get(f, "id")), "vnc-no-auth");
	assert_string_equal(json_string_value(json_object_get(f, "severity")), "critical");
	assert_string_equal(json_string_value(json_object_get(f, "confidence")), "unknown");
	assert_string_equal(
	    json_string_value(json_object_get(f, "reason")),
	    "could not check: the service sent nothing (no data before the idle timeout)");
	assert_int_equal(diagnosis_risk(d), RISK_HIGH);
	json_decref(check);
	diagnosis_free(d);
}

/* --ports-only asks nothing: no question, no unknown finding; nor a caller with no probe. */
static void test_not_asked(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_checks(); i++) {
		struct diagnosis *d = diagnose(i, NULL, &OPEN, true);
		struct diagnosis *e = diagnose(i, silent, &OPEN, true);
		struct diagnosis *f = diagnose(i, NULL, &OPEN, false);

		for (size_t k = 0; k < diagnosis_check_questions(d, i); k++) {
			assert_int_equal(diagnosis_question(d, i, k, NULL), QUESTION_NOT_ASKED);
			assert_int_equal(diagnosis_question(e, i, k, NULL), QUESTION_NOT_ASKED);
			assert_int_equal(diagnosis_question(f, i, k, NULL), QUESTION_NOT_ASKED);
		}
		assert_int_equal(diagnosis_check_findings(d, i), 1); /* the exposed one */
		assert_int_equal(diagnosis_check_findings(e, i), 1);
		assert_int_equal(diagnosis_check_findings(f, i), 1);
		diagnosis_free(d);
		diagnosis_free(e);
		diagnosis_free(f);
	}
}

/* A closed check asks nothing either. */
static void test_closed_not_asked(void **state)
{
	struct diagnosis *d = diagnose(n_checks(), NULL, &OPEN, false); /* every check closed */

	(void)state;
	for (size_t i = 0; i < n_checks(); i++) {
		assert_int_equal(diagnosis_check_findings(d, i), 0);
		for (size_t k = 0; k < diagnosis_check_questions(d, i); k++)
			assert_int_equal(diagnosis_question(d, i, k, NULL), QUESTION_NOT_ASKED);
	}
	assert_int_equal(diagnosis_risk(d), RISK_NONE);
	diagnosis_free(d);
}

/* An open port whose probe could not run (the engine's ENOMEM): asked, and not answered. */
static void test_probe_failed(void **state)
{
	struct port_result nomem = OPEN;

	(void)state;
	nomem.sys_errno = ENOMEM;
	for (size_t i = 0; i < n_checks(); i++) {
		struct diagnosis *d = diagnose(i, NULL, &nomem, false);
		const char *id;

		assert_int_equal(assert_present(d, i, "probe failed"),
		                 n_questions(diagnosis_check_def(d, i)));
		if (diagnosis_check_questions(d, i) > 0) {
			diagnosis_question(d, i, 0, &id);
			assert_string_equal(
			    reason_of(d, i, id),
			    "could not check: the protocol check could not run on our side");
		}
		diagnosis_free(d);
	}
}

/* ---- the real probes, driven in memory */

struct script {
	const char *name;
	const char *bytes; /* sent on every connection (NULL: none) */
	size_t len;
	enum probe_end why; /* how every connection ends */
};

#define BYTES(s) s, sizeof(s) - 1

static const struct script scripts[] = {
    {"silent", NULL, 0, PROBE_END_IDLE},
    {"closed at once", NULL, 0, PROBE_END_CLOSED},
    {"reset at once", NULL, 0, PROBE_END_RESET},
    {"deadline", NULL, 0, PROBE_END_DEADLINE},
    {"garbage", BYTES("\x01\x02\x03\x04\x05\x06\x07\x08\xfe\xfd garbage \x00\x11"), PROBE_END_IDLE},
    {"HTTP", BYTES("HTTP/1.0 400 Bad Request\r\nServer: x\r\n\r\n"), PROBE_END_CLOSED},
    {"SSH", BYTES("SSH-2.0-OpenSSH_9.2\r\n"), PROBE_END_IDLE},
    {"half a TPKT", BYTES("\x03\x00\x00\x13\x0e"), PROBE_END_IDLE},
    {"half an SMB frame", BYTES("\x00\x00\x00\x50\xffSMB"), PROBE_END_RESET},
    {"NetBIOS negative", BYTES("\x83\x00\x00\x01\x82"), PROBE_END_CLOSED},
    {"RFB version only", BYTES("RFB 003.008\n"), PROBE_END_IDLE},
    {"RFB refusal", BYTES("RFB 003.008\n\x00\x00\x00\x00\x04nope"), PROBE_END_CLOSED},
    {"RFB VeNCrypt cut", BYTES("RFB 003.008\n\x01\x13"), PROBE_END_RESET},
    {"telnet options only", BYTES("\xff\xfd\x18\xff\xfd\x20"), PROBE_END_IDLE},
};

/*
 * What the engine does, in memory: start each connection, offer the bytes once, then end it
 * with why; reconnect while the probe asks (bounded by its max_conns).
 */
static void drive(const struct probe_ops *ops, const struct script *s, struct probe_result *out)
{
	void *st = calloc(1, ops->state_size ? ops->state_size : 1);
	static uint8_t txbuf[16 * 1024];

	assert_non_null(st);
	for (unsigned conn = 0; conn < (ops->max_conns ? ops->max_conns : 1); conn++) {
		struct probe_tx tx = {txbuf, sizeof(txbuf), 0};
		size_t used = 0;
		int r = ops->start(st, conn, &tx, out);

		if (r != PROBE_MORE)
			break;
		if (s->len > 0) {
			r = ops->feed(st, (const uint8_t *)s->bytes, s->len, &used, &tx, out);
			if (r == PROBE_RECONNECT)
				continue;
			if (r != PROBE_MORE)
				break;
		}
		if (ops->end(st, s->why, out) != PROBE_RECONNECT)
			break;
	}
	free(st);
}

static void test_real_probes(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_checks(); i++) {
		const struct check_def *c = &catalogue_checks(&(size_t){0})[i];
		const struct probe_ops *ops = probe_by_name(c->probe);

		assert_non_null(ops);
		for (size_t k = 0; k < sizeof(scripts) / sizeof(scripts[0]); k++) {
			struct diagnosis *d = make(false);

			for (size_t j = 0; j < n_checks(); j++) {
				struct check_ports p = catalogue_ports(NULL, j);

				for (size_t pk = 0; pk < check_ports_count(p); pk++) {
					unsigned port = check_ports_nth(p, pk);

					struct probe_result res = {0};

					if (j == i)
						drive(ops, &scripts[k], &res);
					assert_int_equal(diagnosis_record(d, j, (uint16_t)port,
					                                  j == i ? &OPEN : &CLOSED,
					                                  j == i ? &res : NULL),
					                 0);
					probe_result_done(&res);
				}
			}
			assert_present(d, i, scripts[k].name);
			diagnosis_free(d);
		}
	}
}

/* One real probe's conversation on the VNC check: the answer it gives to vnc-no-auth. */
static enum question_state vnc_says(const char *bytes, size_t len, enum probe_end why,
                                    const char **reason)
{
	static char kept[FINDING_REASON_MAX];
	struct script s = {"vnc", bytes, len, why};
	size_t i = catalogue_rank("vnc"), count;
	struct diagnosis *d = make(false);
	enum question_state st;
	const struct finding *f;

	for (size_t j = 0; j < n_checks(); j++) {
		struct check_ports p = catalogue_ports(NULL, j);

		for (size_t pk = 0; pk < check_ports_count(p); pk++) {
			unsigned port = check_ports_nth(p, pk);

			struct probe_result res = {0};

			if (j == i)
				drive(probe_by_name("vnc"), &s, &res);
			assert_int_equal(diagnosis_record(d, j, (uint16_t)port,
			                                  j == i ? &OPEN : &CLOSED,
			                                  j == i ? &res : NULL),
			                 0);
			probe_result_done(&res);
		}
	}
	assert_present(d, i, "vnc");
	st = diagnosis_question(d, i, 0, NULL);
	f = finding_of(d, i, "vnc-no-auth", &count);
	snprintf(kept, sizeof(kept), "%s", f ? f->reason : "");
	*reason = kept;
	diagnosis_free(d);
	return st;
}

/* The VNC probe answers its question yes and no itself, and leaves it open when it must. */
static void test_vnc_probe_answers(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(vnc_says(BYTES("RFB 003.008\n\x01\x01"), PROBE_END_IDLE, &why),
	                 QUESTION_YES);
	assert_int_equal(vnc_says(BYTES("RFB 003.008\n\x01\x02"), PROBE_END_IDLE, &why),
	                 QUESTION_NO);
	assert_int_equal(vnc_says(BYTES("RFB 003.003\n\x00\x00\x00\x02"), PROBE_END_IDLE, &why),
	                 QUESTION_NO);
	assert_int_equal(vnc_says(BYTES("RFB 003.008\n\x02\x02\x01"), PROBE_END_IDLE, &why),
	                 QUESTION_YES);
	/* VeNCrypt alone, its subtypes never read: not decided. */
	assert_int_equal(vnc_says(BYTES("RFB 003.008\n\x01\x13"), PROBE_END_RESET, &why),
	                 QUESTION_UNKNOWN);
	assert_string_equal(why, "could not check: the VNC conversation stopped before the answer "
	                         "(VeNCrypt sub-negotiation did not complete)");
	/* A refusal ("too many authentication failures") decides nothing. */
	assert_int_equal(
	    vnc_says(BYTES("RFB 003.008\n\x00\x00\x00\x00\x08too many"), PROBE_END_CLOSED, &why),
	    QUESTION_UNKNOWN);
	assert_int_equal(vnc_says(NULL, 0, PROBE_END_IDLE, &why), QUESTION_UNKNOWN);
	assert_string_equal(
	    why, "could not check: the service sent nothing (no data before the idle timeout)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalogue_declares),
	    cmocka_unit_test(test_catalogue_questions_are_findings),
	    cmocka_unit_test(test_synthetic_results),
	    cmocka_unit_test(test_reasons),
	    cmocka_unit_test(test_issue_vnc_silent),
	    cmocka_unit_test(test_not_asked),
	    cmocka_unit_test(test_closed_not_asked),
	    cmocka_unit_test(test_probe_failed),
	    cmocka_unit_test(test_real_probes),
	    cmocka_unit_test(test_vnc_probe_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
