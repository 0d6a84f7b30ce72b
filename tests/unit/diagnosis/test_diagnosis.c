/* SPDX-License-Identifier: MIT */
/*
 * Diagnoses built from fabricated port and probe results (diagnosis_internal.h, the same path
 * the engine callbacks take): verdict folding, findings, risk, read through the typed accessors
 * and as the JSON of docs/json.md serialised, parsed back with jansson and compared field by
 * field.
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
#include <regex.h>
#include <string.h>

/* The checks these tests speak of, wherever the catalogue puts them. */
#define IDX_SSH    catalogue_rank("ssh")
#define IDX_SMB    catalogue_rank("smb")
#define IDX_RDP    catalogue_rank("rdp")
#define IDX_VNC    catalogue_rank("vnc")
#define IDX_SKYSEA catalogue_rank("skysea")

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
    .rtt_ms = 1.2345678,
    .tries = 1,
};
static const struct port_result TIMEOUT = {
    .state = PORT_FILTERED,
    .reason = REASON_TIMEOUT,
    .icmp_type = -1,
    .icmp_code = -1,
    .sys_errno = ETIMEDOUT,
    .rtt_ms = -1,
    .tries = 2,
};
static const struct port_result UNREACH = {
    .state = PORT_FILTERED,
    .reason = REASON_UNREACHABLE,
    .icmp_type = 3,
    .icmp_code = 13,
    .sys_errno = EHOSTUNREACH,
    .rtt_ms = 0.5,
    .tries = 1,
};
static const struct port_result LOCALERR = {
    .state = PORT_ERROR,
    .reason = REASON_LOCAL_ERROR,
    .icmp_type = -1,
    .icmp_code = -1,
    .sys_errno = EMFILE,
    .rtt_ms = -1,
    .tries = 0,
};

struct counts {
	size_t checks[CATALOGUE_MAX_CHECKS];
	size_t n_checks, done;
	bool check_after_done;
};

static void on_check(void *ud, struct diagnosis *d, size_t i)
{
	struct counts *c = ud;

	assert_true(diagnosis_check_done(d, i));
	c->checks[i]++;
	c->n_checks++;
	if (c->done)
		c->check_after_done = true;
}

static void on_done(void *ud, struct diagnosis *d)
{
	struct counts *c = ud;

	assert_true(diagnosis_done(d));
	c->done++;
}

static struct diagnosis *make(const char *target, const char *addr, const struct port_overrides *po,
                              struct counts *counts)
{
	struct diag_options o = {.ports = po, .checks = catalogue_all()};
	struct addr a;
	struct diagnosis *d;

	assert_int_equal(addr_parse(addr, &a), 0);
	d = diagnosis_new(target, &a, &o, on_check, on_done, counts);
	assert_non_null(d);
	return d;
}

/* How many checks a diagnosis has: every one of the catalogue (make() runs them all). */
static size_t n_checks(void)
{
	size_t n;

	catalogue_checks(&n);
	return n;
}

/* Record pr for every port of check i. */
static void record_check(struct diagnosis *d, const struct port_overrides *po, size_t i,
                         const struct port_result *pr)
{
	struct check_ports p = catalogue_ports(po, i);

	for (size_t k = 0; k < check_ports_count(p); k++)
		assert_int_equal(diagnosis_record(d, i, check_ports_nth(p, k), pr, NULL), 0);
}

/* Record pr for every check but the one at index except. */
static void record_others(struct diagnosis *d, const struct port_overrides *po, size_t except,
                          const struct port_result *pr)
{
	for (size_t k = 0; k < n_checks(); k++)
		if (k != except)
			record_check(d, po, k, pr);
}

/* Serialise, parse back: what a consumer of --json sees. */
static json_t *roundtrip(const json_t *doc)
{
	json_error_t e;
	char *text = json_dumps(doc, JSON_INDENT(2));
	json_t *back;

	assert_non_null(text);
	back = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	if (back == NULL)
		fail_msg("JSON does not parse back: %s\n%s", e.text, text);
	free(text);
	return back;
}

static json_t *doc_of(const struct diagnosis *d)
{
	json_t *doc = diagnosis_json(d);
	json_t *back;

	assert_non_null(doc);
	back = roundtrip(doc);
	json_decref(doc);
	return back;
}

static const char *s(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string", key);
	return json_string_value(v);
}

static json_int_t i(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("\"%s\" is not an integer", key);
	return json_integer_value(v);
}

static json_t *check_named(json_t *doc, const char *name)
{
	size_t k;
	json_t *c;

	json_array_foreach(json_object_get(doc, "checks"), k,
	                   c) if (strcmp(s(c, "check"), name) == 0) return c;
	fail_msg("no check %s", name);
	return NULL;
}

/* Every key of a check object is one that docs/json.md lists. */
static void assert_check_schema(const json_t *c)
{
	static const char *const keys[] = {"check",   "port",    "state",   "reason",
	                                   "icmp",    "error",   "rtt_ms",  "tries",
	                                   "service", "details", "findings"};
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)c, key, v)
	{
		bool known = false;
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			known |= strcmp(key, keys[k]) == 0;
		if (!known)
			fail_msg("undocumented key \"%s\"", key);
	}
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (strcmp(keys[k], "icmp") == 0 || strcmp(keys[k], "error") == 0)
			continue;
		if (json_object_get(c, keys[k]) == NULL)
			fail_msg("missing key \"%s\"", keys[k]);
	}
	const json_t *rtt = json_object_get(c, "rtt_ms");
	assert_true(json_is_number(rtt) || json_is_null(rtt));
	assert_true(json_is_string(json_object_get(c, "service")) ||
	            json_is_null(json_object_get(c, "service")));
	assert_true(json_is_array(json_object_get(c, "findings")));
}

static void test_all_closed(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, &counts);
	regex_t re;

	(void)state;
	assert_true(n_checks() >= 7);
	assert_int_equal(diagnosis_checks(d), n_checks());
	for (size_t k = 0; k < n_checks(); k++) {
		assert_false(diagnosis_done(d));
		record_check(d, NULL, k, &CLOSED);
		assert_int_equal(diagnosis_checks_done(d), k + 1);
	}
	assert_int_equal(counts.done, 1);
	assert_int_equal(counts.n_checks, n_checks());
	for (size_t k = 0; k < n_checks(); k++)
		assert_int_equal(counts.checks[k], 1);
	assert_int_equal(diagnosis_risk(d), RISK_NONE);
	assert_false(diagnosis_has_error(d));

	json_t *doc = doc_of(d);
	assert_string_equal(s(doc, "target"), "127.0.0.1");
	assert_string_equal(s(doc, "address"), "127.0.0.1");
	assert_string_equal(s(doc, "risk"), "none");
	assert_true(json_is_number(json_object_get(doc, "elapsed_ms")));
	assert_true(json_number_value(json_object_get(doc, "elapsed_ms")) >= 0);
	assert_int_equal(regcomp(&re,
	                         "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\."
	                         "[0-9]{3}Z$",
	                         REG_EXTENDED | REG_NOSUB),
	                 0);
	assert_int_equal(regexec(&re, s(doc, "started"), 0, NULL, 0), 0);
	regfree(&re);
	json_t *checks = json_object_get(doc, "checks");
	assert_int_equal(json_array_size(checks), n_checks());
	/* Every check of the catalogue, in its order, reported on its first default port. */
	size_t n;
	const struct check_def *defs = catalogue_checks(&n);
	for (size_t k = 0; k < n; k++) {
		json_t *c = json_array_get(checks, k);
		assert_check_schema(c);
		assert_string_equal(s(c, "check"), defs[k].name);
		assert_int_equal(i(c, "port"), check_ports_nth(defs[k].ports, 0));
		assert_string_equal(s(c, "state"), "closed");
		assert_string_equal(s(c, "reason"), "reset");
		assert_int_equal(json_array_size(json_object_get(c, "findings")), 0);
		assert_null(json_object_get(c, "icmp"));
		assert_true(json_is_null(json_object_get(c, "service")));
		assert_int_equal(i(c, "tries"), 1);
		assert_true(json_number_value(json_object_get(c, "rtt_ms")) == 0.25);
	}
	/* One port: details null. A range: details.ports for each port. */
	for (size_t k = 0; k < n; k++) {
		json_t *det = json_object_get(json_array_get(checks, k), "details");
		size_t width = check_ports_count(defs[k].ports);

		if (width == 1)
			assert_true(json_is_null(det));
		else
			assert_int_equal(json_array_size(json_object_get(det, "ports")), width);
	}
	assert_true(json_is_null(json_object_get(json_array_get(checks, IDX_SSH), "details")));
	json_t *sky = json_object_get(
	    json_object_get(json_array_get(checks, IDX_SKYSEA), "details"), "ports");
	assert_int_equal(json_array_size(sky), 16);
	for (size_t k = 0; k < 16; k++) {
		json_t *p = json_array_get(sky, k);
		assert_int_equal(i(p, "port"), 52300 + (int)k);
		assert_string_equal(s(p, "state"), "closed");
		assert_string_equal(s(p, "reason"), "reset");
	}
	json_decref(doc);
	diagnosis_free(d);
}

static void test_open_ssh_medium(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("localhost", "127.0.0.1", NULL, &counts);

	(void)state;
	record_others(d, NULL, IDX_SSH, &CLOSED);
	assert_int_equal(diagnosis_risk(d), RISK_NONE);
	assert_int_equal(counts.done, 0);
	assert_int_equal(diagnosis_record(d, IDX_SSH, 22, &OPEN, NULL), 0);
	assert_int_equal(counts.done, 1);
	assert_int_equal(diagnosis_risk(d), RISK_MEDIUM);

	json_t *doc = doc_of(d);
	assert_string_equal(s(doc, "target"), "localhost");
	assert_string_equal(s(doc, "risk"), "medium");
	json_t *c = check_named(doc, "ssh");
	assert_check_schema(c);
	assert_string_equal(s(c, "state"), "open");
	assert_string_equal(s(c, "reason"), "syn-ack");
	/* rtt rounded to the microsecond */
	assert_true(json_number_value(json_object_get(c, "rtt_ms")) == 1.235);
	json_t *f = json_array_get(json_object_get(c, "findings"), 0);
	assert_int_equal(json_array_size(json_object_get(c, "findings")), 1);
	assert_string_equal(s(f, "id"), "ssh-exposed");
	assert_string_equal(s(f, "severity"), "medium");
	assert_string_equal(s(f, "confidence"), "likely"); /* no probe identified SSH */
	assert_null(json_object_get(f, "reason"));
	json_decref(doc);
	diagnosis_free(d);
}

static void test_probe_merge(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, &counts);
	struct probe_result res = {.state = SERVICE_IDENTIFIED};

	(void)state;
	snprintf(res.service, sizeof(res.service), "smb");
	probe_add_finding(&res, "smb1-enabled", SEVERITY_HIGH, CONFIDENCE_CONFIRMED, NULL);
	probe_add_finding(&res, "ms17-010-vulnerable", SEVERITY_CRITICAL, CONFIDENCE_LIKELY,
	                  "PeekNamedPipe answered STATUS_INSUFF_SERVER_RESOURCES \xff");
	probe_detail_set(&res, "dialects", json_pack("[s,s]", "NT LM 0.12", "2.1"));
	probe_detail_set(&res, "ms17_010", json_string("vulnerable"));
	record_others(d, NULL, IDX_SMB, &TIMEOUT);
	assert_int_equal(diagnosis_record(d, IDX_SMB, 445, &OPEN, &res), 0);
	assert_null(res.details); /* taken */
	probe_result_done(&res);
	assert_int_equal(diagnosis_risk(d), RISK_CRITICAL);

	json_t *doc = doc_of(d);
	assert_string_equal(s(doc, "risk"), "critical");
	json_t *c = check_named(doc, "smb");
	assert_check_schema(c);
	assert_string_equal(s(c, "service"), "smb");
	assert_string_equal(s(json_object_get(c, "details"), "ms17_010"), "vulnerable");
	assert_int_equal(
	    json_array_size(json_object_get(json_object_get(c, "details"), "dialects")), 2);
	json_t *findings = json_object_get(c, "findings");
	/* The three probe-given, then the question the probe left open (docs/json.md). */
	assert_int_equal(json_array_size(findings), 4);
	/* The exposed finding first, confirmed since the probe identified SMB. */
	assert_string_equal(s(json_array_get(findings, 0), "id"), "smb-exposed");
	assert_string_equal(s(json_array_get(findings, 0), "confidence"), "confirmed");
	assert_string_equal(s(json_array_get(findings, 0), "severity"), "high");
	assert_string_equal(s(json_array_get(findings, 1), "id"), "smb1-enabled");
	json_t *ms = json_array_get(findings, 2);
	assert_string_equal(s(ms, "id"), "ms17-010-vulnerable");
	assert_string_equal(s(ms, "severity"), "critical");
	assert_string_equal(s(ms, "confidence"), "likely");
	/* A stray non-ASCII byte in a reason never breaks the document. */
	assert_non_null(strstr(s(ms, "reason"), "STATUS_INSUFF_SERVER_RESOURCES"));
	json_t *dp = json_array_get(findings, 3);
	assert_string_equal(s(dp, "id"), "doublepulsar-implant");
	assert_string_equal(s(dp, "severity"), "critical");
	assert_string_equal(s(dp, "confidence"), "unknown");
	assert_string_equal(s(dp, "reason"),
	                    "could not check: the SMB conversation stopped before the answer");
	/* Filtered by timeout: no rtt. */
	json_t *ssh = check_named(doc, "ssh");
	assert_string_equal(s(ssh, "state"), "filtered");
	assert_string_equal(s(ssh, "reason"), "timeout");
	assert_true(json_is_null(json_object_get(ssh, "rtt_ms")));
	assert_int_equal(i(ssh, "tries"), 2);
	json_decref(doc);
	diagnosis_free(d);
}

static void test_probe_other_service(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, &counts);
	struct probe_result res = {.state = SERVICE_OTHER};

	(void)state;
	snprintf(res.service, sizeof(res.service), "http");
	record_others(d, NULL, IDX_VNC, &CLOSED);
	assert_int_equal(diagnosis_record(d, IDX_VNC, 5900, &OPEN, &res), 0);
	json_t *doc = doc_of(d);
	json_t *c = check_named(doc, "vnc");
	/* Something else answers: the door is open, but not confirmed as VNC. */
	assert_string_equal(s(c, "service"), "http");
	assert_string_equal(s(json_array_get(json_object_get(c, "findings"), 0), "confidence"),
	                    "likely");
	json_decref(doc);
	diagnosis_free(d);
}

static void test_range_fold(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("198.18.0.2", "198.18.0.2", NULL, &counts);
	struct probe_result res = {.state = SERVICE_SILENT};

	(void)state;
	record_others(d, NULL, IDX_SKYSEA, &UNREACH);
	probe_add_finding(&res, "skysea-port-exposed", SEVERITY_MEDIUM, CONFIDENCE_POSSIBLE,
	                  "port reachable; protocol not identified");
	probe_detail_set(&res, "unprompted_bytes", json_integer(0));
	for (unsigned p = 52300; p <= 52315; p++) {
		const struct port_result *pr = p == 52305 ? &OPEN : p == 52301 ? &CLOSED : &TIMEOUT;
		assert_false(diagnosis_check_done(d, IDX_SKYSEA));
		assert_int_equal(
		    diagnosis_record(d, IDX_SKYSEA, (uint16_t)p, pr, p == 52305 ? &res : NULL), 0);
	}
	probe_result_done(&res);
	assert_true(diagnosis_check_done(d, IDX_SKYSEA));
	assert_int_equal(counts.checks[IDX_SKYSEA], 1);

	json_t *doc = doc_of(d);
	json_t *c = check_named(doc, "skysea");
	assert_check_schema(c);
	assert_int_equal(i(c, "port"), 52305); /* the first open port */
	assert_string_equal(s(c, "state"), "open");
	assert_string_equal(s(c, "reason"), "syn-ack");
	json_t *det = json_object_get(c, "details");
	assert_int_equal(i(det, "unprompted_bytes"), 0); /* the probe's details kept */
	json_t *ports = json_object_get(det, "ports");
	assert_int_equal(json_array_size(ports), 16);
	assert_string_equal(s(json_array_get(ports, 0), "state"), "filtered");
	assert_string_equal(s(json_array_get(ports, 1), "state"), "closed");
	assert_string_equal(s(json_array_get(ports, 5), "state"), "open");
	assert_true(json_is_null(json_object_get(json_array_get(ports, 0), "rtt_ms")));
	json_t *findings = json_object_get(c, "findings");
	assert_int_equal(json_array_size(findings), 1);
	/* The probe's own word on the same id refines ours (reason added). */
	assert_string_equal(s(json_array_get(findings, 0), "id"), "skysea-port-exposed");
	assert_string_equal(s(json_array_get(findings, 0), "confidence"), "possible");
	assert_non_null(strstr(s(json_array_get(findings, 0), "reason"), "reachable"));
	/* ICMP unreachable: filtered with the type and code. */
	json_t *rdp = check_named(doc, "rdp");
	assert_string_equal(s(rdp, "state"), "filtered");
	assert_string_equal(s(rdp, "reason"), "unreachable");
	assert_int_equal(i(json_object_get(rdp, "icmp"), "type"), 3);
	assert_int_equal(i(json_object_get(rdp, "icmp"), "code"), 13);
	assert_string_equal(s(doc, "risk"), "medium");
	json_decref(doc);
	diagnosis_free(d);
}

static void test_range_states(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, &counts);

	(void)state;
	/* skysea: all filtered but one closed -> closed, reported on the first port. */
	for (unsigned p = 52300; p <= 52315; p++)
		diagnosis_record(d, IDX_SKYSEA, (uint16_t)p, p == 52310 ? &CLOSED : &TIMEOUT, NULL);
	json_t *c = diagnosis_check_json(d, IDX_SKYSEA);
	assert_string_equal(s(c, "state"), "closed");
	assert_int_equal(i(c, "port"), 52300);
	assert_string_equal(s(c, "reason"), "timeout"); /* the reported port's own reason */
	json_decref(c);
	assert_null(diagnosis_check_json(d, IDX_SSH)); /* not finished yet */
	diagnosis_free(d);

	/* All filtered -> filtered. One local error and no open port -> error. */
	d = make("127.0.0.1", "127.0.0.1", NULL, &counts);
	record_check(d, NULL, IDX_SKYSEA, &TIMEOUT);
	c = diagnosis_check_json(d, IDX_SKYSEA);
	assert_string_equal(s(c, "state"), "filtered");
	json_decref(c);
	for (unsigned p = 52300; p <= 52315; p++)
		assert_int_equal(diagnosis_record(d, IDX_RDP, (uint16_t)p, &CLOSED, NULL),
		                 -ERR_RANGE);
	assert_int_equal(diagnosis_record(d, IDX_RDP, 3389, &LOCALERR, NULL), 0);
	assert_true(diagnosis_has_error(d));
	c = diagnosis_check_json(d, IDX_RDP);
	assert_check_schema(c);
	assert_string_equal(s(c, "state"), "error");
	assert_string_equal(s(c, "reason"), "local-error");
	assert_string_equal(s(c, "error"), "EMFILE");
	json_decref(c);
	diagnosis_free(d);
}

static void test_record_errors(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, &counts);

	(void)state;
	assert_int_equal(diagnosis_record(d, IDX_SSH, 22, &CLOSED, NULL), 0);
	assert_int_equal(diagnosis_record(d, IDX_SSH, 22, &OPEN, NULL), -EALREADY);
	assert_int_equal(diagnosis_record(d, IDX_SSH, 23, &OPEN, NULL), -ERR_RANGE);
	assert_int_equal(diagnosis_record(d, n_checks(), 22, &OPEN, NULL), -ERR_RANGE);
	assert_int_equal(diagnosis_record(d, 100, 22, &OPEN, NULL), -ERR_RANGE);
	assert_int_equal(counts.checks[IDX_SSH], 1);
	/* The first result stands. */
	json_t *c = diagnosis_check_json(d, IDX_SSH);
	assert_string_equal(s(c, "state"), "closed");
	json_decref(c);
	/* A partial document holds the finished checks only. */
	json_t *doc = doc_of(d);
	assert_int_equal(json_array_size(json_object_get(doc, "checks")), 1);
	json_decref(doc);
	diagnosis_free(d);
	diagnosis_free(NULL);
}

static void test_overrides(void **state)
{
	struct counts counts = {0};
	struct port_overrides po = {0};
	char err[128];

	(void)state;
	assert_int_equal(port_override_parse(&po, "smb=10445", err, sizeof(err)), 0);
	assert_int_equal(port_override_parse(&po, "skysea=20000-20002", err, sizeof(err)), 0);
	struct diagnosis *d = make("::1", "::1", &po, &counts);
	assert_int_equal(diagnosis_record(d, IDX_SMB, 445, &OPEN, NULL), -ERR_RANGE);
	record_others(d, &po, IDX_SMB, &CLOSED);
	record_check(d, &po, IDX_SMB, &OPEN);
	assert_int_equal(counts.done, 1);
	json_t *doc = doc_of(d);
	assert_string_equal(s(doc, "address"), "::1");
	assert_string_equal(s(doc, "risk"), "high");
	json_t *smb = check_named(doc, "smb");
	assert_int_equal(i(smb, "port"), 10445);
	assert_string_equal(s(smb, "state"), "open");
	json_t *sky = check_named(doc, "skysea");
	assert_int_equal(i(sky, "port"), 20000);
	assert_int_equal(json_array_size(json_object_get(json_object_get(sky, "details"), "ports")),
	                 3);
	json_decref(doc);
	diagnosis_free(d);
}

static void test_risk_levels(void **state)
{
	struct counts counts = {0};

	(void)state;
	/* Only an info finding: risk low (something answers, nothing known to be risky). */
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, &counts);
	struct probe_result res = {.state = SERVICE_IDENTIFIED};
	probe_add_finding(&res, "note", SEVERITY_INFO, CONFIDENCE_CONFIRMED, NULL);
	record_others(d, NULL, IDX_SSH, &CLOSED);
	/* A closed port's probe findings are ignored: there was no conversation. */
	assert_int_equal(diagnosis_record(d, IDX_SSH, 22, &CLOSED, &res), 0);
	assert_int_equal(diagnosis_risk(d), RISK_NONE);
	diagnosis_free(d);
	probe_result_done(&res);

	assert_string_equal(risk_name(RISK_NONE), "none");
	assert_string_equal(risk_name(RISK_LOW), "low");
	assert_string_equal(risk_name(RISK_MEDIUM), "medium");
	assert_string_equal(risk_name(RISK_HIGH), "high");
	assert_string_equal(risk_name(RISK_CRITICAL), "critical");
	assert_string_equal(risk_name(RISK_X_MAX), "unknown");
}

static void test_risk_info_is_low(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, &counts);
	struct probe_result res = {.state = SERVICE_IDENTIFIED};

	(void)state;
	/* The exposed finding is at least medium; test info alone through a probe on a check
	 * whose exposed finding the probe replaces on the reported port. */
	probe_add_finding(&res, "ssh-exposed", SEVERITY_INFO, CONFIDENCE_CONFIRMED, "test");
	snprintf(res.service, sizeof(res.service), "ssh");
	record_others(d, NULL, IDX_SSH, &CLOSED);
	assert_int_equal(diagnosis_record(d, IDX_SSH, 22, &OPEN, &res), 0);
	assert_int_equal(diagnosis_risk(d), RISK_LOW);
	json_t *doc = doc_of(d);
	assert_string_equal(s(doc, "risk"), "low");
	json_decref(doc);
	diagnosis_free(d);
}

static void test_risk_unknown_is_medium_at_most(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, &counts);
	struct probe_result res = {.state = SERVICE_IDENTIFIED};

	(void)state;
	/* Only an undecided critical finding: never "nothing risky", never "critical" either. */
	probe_add_finding(&res, "ssh-exposed", SEVERITY_INFO, CONFIDENCE_CONFIRMED, "test");
	probe_add_finding(&res, "ms17-010-vulnerable", SEVERITY_CRITICAL, CONFIDENCE_UNKNOWN,
	                  "could not check: needs credentials");
	snprintf(res.service, sizeof(res.service), "ssh");
	record_others(d, NULL, IDX_SSH, &CLOSED);
	assert_int_equal(diagnosis_record(d, IDX_SSH, 22, &OPEN, &res), 0);
	assert_int_equal(diagnosis_risk(d), RISK_MEDIUM);
	json_t *doc = doc_of(d);
	json_t *f = json_array_get(json_object_get(check_named(doc, "ssh"), "findings"), 1);
	assert_string_equal(s(f, "confidence"), "unknown");
	assert_string_equal(s(f, "severity"), "critical");
	assert_string_equal(s(f, "reason"), "could not check: needs credentials");
	json_decref(doc);
	diagnosis_free(d);
}

/* Record one result per port of skysea (16 ports) from a string: o open, c closed, f filtered
 * (timeout), u filtered (unreachable), e local error. */
static struct diagnosis *skysea_from(const char *states, struct counts *counts)
{
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, counts);

	assert_int_equal(strlen(states), 16);
	for (unsigned k = 0; k < 16; k++) {
		const struct port_result *pr = states[k] == 'o'   ? &OPEN
		                               : states[k] == 'c' ? &CLOSED
		                               : states[k] == 'u' ? &UNREACH
		                               : states[k] == 'e' ? &LOCALERR
		                                                  : &TIMEOUT;
		assert_int_equal(diagnosis_record(d, IDX_SKYSEA, (uint16_t)(52300 + k), pr, NULL),
		                 0);
	}
	assert_true(diagnosis_check_done(d, IDX_SKYSEA));
	return d;
}

/* THE folding rule, read typed, and the JSON saying the same. */
static void test_typed_fold(void **state)
{
	static const struct {
		const char *ports;
		enum port_state want;
		size_t reported;
		enum port_reason reason;
	} cases[] = {
	    {"ffffffffffffffff", PORT_FILTERED, 0, REASON_TIMEOUT},
	    {"ffuuffffffffffff", PORT_FILTERED, 0, REASON_TIMEOUT},
	    {"ffffffffffofffff", PORT_OPEN, 10, REASON_SYN_ACK},      /* open + filtered */
	    {"ufffffffffffffcf", PORT_CLOSED, 0, REASON_UNREACHABLE}, /* closed + filtered */
	    {"cccccccccccccccc", PORT_CLOSED, 0, REASON_RESET},
	    {"fffffefffffcffff", PORT_ERROR, 0, REASON_TIMEOUT}, /* error + filtered + closed */
	    {"efffffffffffffff", PORT_ERROR, 0,
	     REASON_LOCAL_ERROR},                               /* reported port is the error */
	    {"eeeoeeeoeeeeeeee", PORT_OPEN, 3, REASON_SYN_ACK}, /* open beats error */
	};

	(void)state;
	for (size_t n = 0; n < sizeof(cases) / sizeof(cases[0]); n++) {
		struct counts counts = {0};
		struct diagnosis *d;
		struct port_result pr;

		d = skysea_from(cases[n].ports, &counts);
		assert_int_equal(diagnosis_check_state(d, IDX_SKYSEA), cases[n].want);
		assert_int_equal(diagnosis_check_ports(d, IDX_SKYSEA), 16);
		assert_int_equal(diagnosis_check_reported(d, IDX_SKYSEA), cases[n].reported);
		diagnosis_check_result(d, IDX_SKYSEA, &pr);
		assert_int_equal(pr.state, cases[n].want);
		assert_int_equal(pr.reason, cases[n].reason);
		for (size_t k = 0; k < 16; k++) {
			const struct port_result *p = diagnosis_port_result(d, IDX_SKYSEA, k);
			char c = cases[n].ports[k];

			assert_non_null(p);
			assert_int_equal(diagnosis_port(d, IDX_SKYSEA, k), 52300 + k);
			assert_int_equal(p->state, c == 'o'   ? PORT_OPEN
			                           : c == 'c' ? PORT_CLOSED
			                           : c == 'e' ? PORT_ERROR
			                                      : PORT_FILTERED);
		}
		assert_int_equal(diagnosis_has_error(d), cases[n].want == PORT_ERROR);
		/* An open range has its exposed finding; nothing else has any. */
		assert_int_equal(diagnosis_check_findings(d, IDX_SKYSEA),
		                 cases[n].want == PORT_OPEN ? 1 : 0);
		json_t *c = diagnosis_check_json(d, IDX_SKYSEA);
		assert_non_null(c);
		assert_string_equal(s(c, "state"), port_state_name(cases[n].want));
		assert_int_equal(i(c, "port"), 52300 + (int)cases[n].reported);
		assert_string_equal(s(c, "reason"), port_reason_name(cases[n].reason));
		json_decref(c);
		diagnosis_free(d);
	}
}

/* A single port: its state is its port's; the error keeps its errno; rtt at microseconds. */
static void test_typed_single_port(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, &counts);
	struct port_result pr;

	(void)state;
	/* Nothing finished yet: nothing to read, and nothing read out of bounds. */
	assert_int_equal(diagnosis_check_state(d, IDX_SSH), PORT_X_MAX);
	assert_null(diagnosis_port_result(d, IDX_SSH, 0));
	assert_int_equal(diagnosis_check_findings(d, IDX_SSH), 0);
	diagnosis_check_result(d, IDX_SSH, &pr);
	assert_int_equal(pr.state, PORT_X_MAX);
	assert_int_equal(diagnosis_port(d, IDX_SSH, 0), 22);
	assert_int_equal(diagnosis_port(d, IDX_SSH, 1), 0);
	assert_null(diagnosis_port_result(d, IDX_SKYSEA, 16));
	assert_null(diagnosis_check_def(d, n_checks()));
	assert_int_equal(diagnosis_check_ports(d, n_checks()), 0);
	assert_string_equal(diagnosis_check_def(d, IDX_RDP)->name, "rdp");

	assert_int_equal(diagnosis_record(d, IDX_SSH, 22, &OPEN, NULL), 0);
	assert_int_equal(diagnosis_record(d, IDX_RDP, 3389, &LOCALERR, NULL), 0);
	assert_int_equal(diagnosis_record(d, IDX_VNC, 5900, &UNREACH, NULL), 0);
	assert_int_equal(diagnosis_check_state(d, IDX_SSH), PORT_OPEN);
	assert_true(diagnosis_port_result(d, IDX_SSH, 0)->rtt_ms == 1.235);
	assert_string_equal(diagnosis_port_service(d, IDX_SSH, 0), "");
	assert_null(diagnosis_port_details(d, IDX_SSH, 0));
	assert_int_equal(diagnosis_check_state(d, IDX_RDP), PORT_ERROR);
	diagnosis_check_result(d, IDX_RDP, &pr);
	assert_int_equal(pr.reason, REASON_LOCAL_ERROR);
	assert_int_equal(pr.sys_errno, EMFILE);
	assert_true(pr.rtt_ms < 0);
	assert_true(diagnosis_has_error(d));
	assert_int_equal(diagnosis_check_state(d, IDX_VNC), PORT_FILTERED);
	diagnosis_check_result(d, IDX_VNC, &pr);
	assert_int_equal(pr.icmp_type, 3);
	assert_int_equal(pr.icmp_code, 13);
	assert_int_equal(diagnosis_check_findings(d, IDX_VNC), 0);
	assert_int_equal(diagnosis_check_findings(d, IDX_SSH), 1);
	assert_string_equal(diagnosis_finding(d, IDX_SSH, 0)->id, "ssh-exposed");
	assert_null(diagnosis_finding(d, IDX_SSH, 1));
	diagnosis_free(d);
}

/* Findings, service and details read typed, in the order and with the text of the document. */
static void test_typed_findings(void **state)
{
	struct counts counts = {0};
	struct diagnosis *d = make("127.0.0.1", "127.0.0.1", NULL, &counts);
	struct probe_result res = {.state = SERVICE_IDENTIFIED};
	const struct finding *f;

	(void)state;
	snprintf(res.service, sizeof(res.service), "smb\xc3\xa9");
	probe_add_finding(&res, "smb1-enabled", SEVERITY_HIGH, CONFIDENCE_CONFIRMED, NULL);
	probe_add_finding(&res, "ms17-010-vulnerable", SEVERITY_CRITICAL, CONFIDENCE_UNKNOWN,
	                  "could not check \xff");
	probe_detail_set(&res, "ms17_010", json_string("unknown"));
	record_others(d, NULL, IDX_SMB, &CLOSED);
	assert_int_equal(diagnosis_record(d, IDX_SMB, 445, &OPEN, &res), 0);
	probe_result_done(&res);

	/* The two probe-given and the question it left open (doublepulsar-implant). */
	assert_int_equal(diagnosis_check_findings(d, IDX_SMB), 4);
	assert_string_equal(diagnosis_finding(d, IDX_SMB, 3)->id, "doublepulsar-implant");
	assert_int_equal(diagnosis_finding(d, IDX_SMB, 3)->confidence, CONFIDENCE_UNKNOWN);
	f = diagnosis_finding(d, IDX_SMB, 0);
	assert_string_equal(f->id, "smb-exposed");
	assert_int_equal(f->severity, SEVERITY_HIGH);
	assert_int_equal(f->confidence, CONFIDENCE_LIKELY); /* "smb\xc3\xa9" is not "smb" */
	f = diagnosis_finding(d, IDX_SMB, 1);
	assert_string_equal(f->id, "smb1-enabled");
	assert_string_equal(f->reason, "");
	f = diagnosis_finding(d, IDX_SMB, 2);
	assert_string_equal(f->id, "ms17-010-vulnerable");
	assert_int_equal(f->severity, SEVERITY_CRITICAL);
	assert_int_equal(f->confidence, CONFIDENCE_UNKNOWN);
	/* What a probe slipped past its ASCII promise reads the same everywhere: '?'. */
	assert_string_equal(f->reason, "could not check ?");
	assert_string_equal(diagnosis_port_service(d, IDX_SMB, 0), "smb??");
	assert_string_equal(
	    json_string_value(json_object_get(diagnosis_port_details(d, IDX_SMB, 0), "ms17_010")),
	    "unknown");
	/* Unknown confidence on a critical finding counts as medium; smb-exposed is high. */
	assert_int_equal(diagnosis_risk(d), RISK_HIGH);

	json_t *doc = doc_of(d);
	json_t *c = check_named(doc, "smb");
	assert_string_equal(s(c, "service"), "smb??");
	json_t *jf = json_object_get(c, "findings");
	assert_int_equal(json_array_size(jf), diagnosis_check_findings(d, IDX_SMB));
	for (size_t k = 0; k < json_array_size(jf); k++) {
		f = diagnosis_finding(d, IDX_SMB, k);
		assert_string_equal(s(json_array_get(jf, k), "id"), f->id);
		assert_string_equal(s(json_array_get(jf, k), "severity"),
		                    severity_name(f->severity));
		assert_string_equal(s(json_array_get(jf, k), "confidence"),
		                    confidence_name(f->confidence));
	}
	assert_string_equal(s(json_array_get(jf, 2), "reason"), "could not check ?");
	json_decref(doc);
	diagnosis_free(d);
}

static void test_start_without_engine(void **state)
{
	struct addr a;
	int err = 0;

	(void)state;
	addr_parse("127.0.0.1", &a);
	assert_null(diagnosis_start(NULL, "127.0.0.1", &a, NULL, on_check, on_done, NULL, &err));
	assert_true(err < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_closed),
	    cmocka_unit_test(test_open_ssh_medium),
	    cmocka_unit_test(test_probe_merge),
	    cmocka_unit_test(test_probe_other_service),
	    cmocka_unit_test(test_range_fold),
	    cmocka_unit_test(test_range_states),
	    cmocka_unit_test(test_record_errors),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_risk_levels),
	    cmocka_unit_test(test_risk_info_is_low),
	    cmocka_unit_test(test_risk_unknown_is_medium_at_most),
	    cmocka_unit_test(test_typed_fold),
	    cmocka_unit_test(test_typed_single_port),
	    cmocka_unit_test(test_typed_findings),
	    cmocka_unit_test(test_start_without_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
