/* SPDX-License-Identifier: MIT */
/*
 * A visitor's diagnosis over several addresses (visit.h), built with visit_new() and fed with
 * fabricated port results (the path the engine callbacks take): done only when every address is,
 * the cross-family findings both ways and never from an untested port, the schema 2 document.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "diagnosis/diagnosis_internal.h"
#include "diagnosis/visit.h"
#include "diagnosis/visit_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static const struct port_result CLOSED = {.state = PORT_CLOSED,
                                          .reason = REASON_RESET,
                                          .icmp_type = -1,
                                          .icmp_code = -1,
                                          .sys_errno = ECONNREFUSED,
                                          .rtt_ms = 0.25,
                                          .tries = 1};
static const struct port_result OPEN = {.state = PORT_OPEN,
                                        .reason = REASON_SYN_ACK,
                                        .icmp_type = -1,
                                        .icmp_code = -1,
                                        .rtt_ms = 1.5,
                                        .tries = 1};
static const struct port_result TIMEOUT = {.state = PORT_FILTERED,
                                           .reason = REASON_TIMEOUT,
                                           .icmp_type = -1,
                                           .icmp_code = -1,
                                           .sys_errno = ETIMEDOUT,
                                           .rtt_ms = -1,
                                           .tries = 2};
static const struct port_result LOCALERR = {.state = PORT_ERROR,
                                            .reason = REASON_LOCAL_ERROR,
                                            .icmp_type = -1,
                                            .icmp_code = -1,
                                            .sys_errno = EMFILE,
                                            .rtt_ms = -1,
                                            .tries = 0};

struct counts {
	size_t checks[VISIT_MAX_TARGETS];
	size_t done;
};

static void on_check(void *ud, struct visit *v, size_t t, size_t i)
{
	struct counts *c = ud;

	assert_true(t < visit_targets(v));
	assert_true(diagnosis_check_done(visit_diagnosis(v, t), i));
	assert_int_equal(c->done, 0);
	c->checks[t]++;
}

static void on_done(void *ud, struct visit *v)
{
	struct counts *c = ud;

	assert_true(visit_done(v));
	c->done++;
}

static size_t n_checks(void)
{
	size_t n;

	catalogue_checks(&n);
	return n;
}

static struct visit *make(const char *const *addrs, size_t n, struct counts *c)
{
	struct visit_target t[VISIT_MAX_TARGETS];
	struct diag_options o = {.ports_only = true, .checks = catalogue_all()};
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(addr_parse(addrs[i], &t[i].addr), 0);
		t[i].proven = i == 0 ? VISIT_PEER : VISIT_TICKET;
	}
	struct visit *v = visit_new("visitor", t, n, &o, on_check, on_done, c, &err);
	assert_non_null(v);
	assert_int_equal(err, 0);
	return v;
}

static void record_check(struct visit *v, size_t t, size_t i, const struct port_result *pr)
{
	struct check_ports p = catalogue_ports(NULL, i);

	for (size_t pk = 0; pk < check_ports_count(p); pk++)
		assert_int_equal(diagnosis_record(visit_diagnosis_mut(v, t), i,
		                                  check_ports_nth(p, pk), pr, NULL),
		                 0);
}

/* Every check of target t: pr, except check `except` which gets pr_except. */
static void record_all(struct visit *v, size_t t, size_t except, const struct port_result *pr,
                       const struct port_result *pr_except)
{
	for (size_t i = 0; i < n_checks(); i++)
		record_check(v, t, i, i == except ? pr_except : pr);
}

static const char *s(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string", key);
	return json_string_value(v);
}

static json_t *doc_of(const struct visit *v)
{
	json_t *doc = visit_json(v);
	json_error_t e;
	char *text;
	json_t *back;

	assert_non_null(doc);
	text = json_dumps(doc, 0);
	assert_non_null(text);
	back = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	assert_non_null(back);
	free(text);
	json_decref(doc);
	return back;
}

/* Done only when every address is; each address's checks reported with its index. */
static void test_done_when_all_are(void **state)
{
	static const char *const a[] = {"198.18.0.1", "2001:db8::1"};
	struct counts c = {0};
	struct visit *v = make(a, 2, &c);

	(void)state;
	assert_int_equal(visit_targets(v), 2);
	assert_int_equal(visit_checks_total(v), 2 * n_checks());
	record_all(v, 1, 0, &CLOSED, &CLOSED);
	assert_false(visit_done(v));
	assert_int_equal(c.done, 0);
	assert_int_equal(c.checks[1], n_checks());
	record_all(v, 0, 0, &CLOSED, &CLOSED);
	assert_true(visit_done(v));
	assert_int_equal(c.done, 1);
	assert_int_equal(c.checks[0], n_checks());
	assert_int_equal(visit_checks_done(v), 2 * n_checks());
	assert_int_equal(visit_findings(v), 0);
	assert_int_equal(visit_risk(v), RISK_NONE);
	visit_free(v);
}

/* SMB open on IPv6, filtered on IPv4: ipv6-only-exposure with SMB's severity. */
static void test_ipv6_only(void **state)
{
	static const char *const a[] = {"198.18.0.1", "2001:db8::1"};
	struct counts c = {0};
	size_t smb = catalogue_rank("smb");
	struct visit *v = make(a, 2, &c);

	(void)state;
	record_all(v, 0, smb, &CLOSED, &TIMEOUT);
	record_all(v, 1, smb, &CLOSED, &OPEN);
	assert_true(visit_done(v));
	assert_int_equal(visit_findings(v), 1);
	const struct visit_finding *f = visit_finding(v, 0);
	assert_string_equal(f->f.id, "ipv6-only-exposure");
	assert_int_equal(f->check, smb);
	assert_int_equal(f->target, 1);
	assert_int_equal(f->f.severity, catalogue_checks(&(size_t){0})[smb].exposed_severity);
	assert_int_equal(f->f.confidence, CONFIDENCE_LIKELY);
	assert_string_equal(f->f.reason, "port 445 open on 2001:db8::1, filtered on 198.18.0.1");
	assert_int_equal(visit_risk(v), diagnosis_risk(visit_diagnosis(v, 1)));
	visit_free(v);
}

/* The reverse: open on IPv4 (the peer is IPv6 here), closed by a reset on IPv6. */
static void test_ipv4_only(void **state)
{
	static const char *const a[] = {"2001:db8::7", "198.18.0.7"};
	struct counts c = {0};
	size_t ssh = catalogue_rank("ssh");
	struct visit *v = make(a, 2, &c);

	(void)state;
	record_all(v, 0, ssh, &TIMEOUT, &CLOSED);
	record_all(v, 1, ssh, &TIMEOUT, &OPEN);
	assert_int_equal(visit_findings(v), 1);
	assert_string_equal(visit_finding(v, 0)->f.id, "ipv4-only-exposure");
	assert_int_equal(visit_finding(v, 0)->f.confidence, CONFIDENCE_CONFIRMED);
	assert_int_equal(visit_finding(v, 0)->target, 1);
	visit_free(v);
}

/* Open on both families, or not tested (error) on the other: no cross-family finding. */
static void test_no_finding_without_verdict(void **state)
{
	static const char *const a[] = {"198.18.0.1", "2001:db8::1"};
	size_t smb = catalogue_rank("smb"), rdp = catalogue_rank("rdp");
	struct counts c = {0};
	struct visit *v = make(a, 2, &c);

	(void)state;
	for (size_t i = 0; i < n_checks(); i++) {
		record_check(v, 0, i, i == smb ? &OPEN : i == rdp ? &LOCALERR : &CLOSED);
		record_check(v, 1, i, i == smb || i == rdp ? &OPEN : &CLOSED);
	}
	assert_true(visit_done(v));
	assert_int_equal(visit_findings(v), 0);
	visit_free(v);
}

/* One family only: nothing to compare. */
static void test_one_family(void **state)
{
	static const char *const a[] = {"2001:db8::1", "2001:db8::2"};
	struct counts c = {0};
	struct visit *v = make(a, 2, &c);

	(void)state;
	record_all(v, 0, 0, &CLOSED, &OPEN);
	record_all(v, 1, 0, &CLOSED, &CLOSED);
	assert_int_equal(visit_findings(v), 0);
	visit_free(v);
}

/* Bad shapes: no target, too many, one address twice. */
static void test_refused_shapes(void **state)
{
	struct visit_target t[4];
	struct diag_options o = {.checks = catalogue_all()};
	int err = 0;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		char text[32];
		snprintf(text, sizeof(text), "198.18.0.%zu", i + 1);
		assert_int_equal(addr_parse(text, &t[i].addr), 0);
		t[i].proven = VISIT_TICKET;
	}
	assert_null(visit_new("x", t, 0, &o, NULL, NULL, NULL, &err));
	assert_int_equal(err, -ERR_RANGE);
	assert_null(visit_new("x", t, 4, &o, NULL, NULL, NULL, &err));
	assert_int_equal(err, -ERR_RANGE);
	t[1].addr = t[0].addr;
	assert_null(visit_new("x", t, 2, &o, NULL, NULL, NULL, &err));
	assert_int_equal(err, -ERR_RANGE);
}

/* The schema 2 document: old fields of the peer, targets, address per row, findings. */
static void test_json(void **state)
{
	static const char *const a[] = {"198.18.0.1", "2001:db8::1"};
	size_t smb = catalogue_rank("smb");
	struct counts c = {0};
	struct visit *v = make(a, 2, &c);
	json_t *doc, *row;
	size_t k;

	(void)state;
	record_all(v, 0, smb, &CLOSED, &CLOSED);
	record_all(v, 1, smb, &CLOSED, &OPEN);
	doc = doc_of(v);
	assert_int_equal(json_integer_value(json_object_get(doc, "schema")), 2);
	assert_string_equal(s(doc, "target"), "visitor");
	assert_string_equal(s(doc, "address"), "198.18.0.1");
	assert_string_equal(s(doc, "risk"), risk_name(visit_risk(v)));
	assert_true(json_is_string(json_object_get(doc, "started")));
	assert_true(json_is_number(json_object_get(doc, "elapsed_ms")));

	json_t *targets = json_object_get(doc, "targets");
	assert_int_equal(json_array_size(targets), 2);
	assert_string_equal(s(json_array_get(targets, 0), "address"), "198.18.0.1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(targets, 0), "family")),
	                 4);
	assert_string_equal(s(json_array_get(targets, 0), "proven"), "peer");
	assert_string_equal(s(json_array_get(targets, 1), "address"), "2001:db8::1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(targets, 1), "family")),
	                 6);
	assert_string_equal(s(json_array_get(targets, 1), "proven"), "ticket");

	/* Each check once per address, in catalogue order, the peer's address first. */
	json_t *checks = json_object_get(doc, "checks");
	assert_int_equal(json_array_size(checks), 2 * n_checks());
	json_array_foreach(checks, k, row)
	{
		size_t t = k / n_checks(), i = k % n_checks();
		assert_string_equal(s(row, "address"), a[t]);
		assert_string_equal(s(row, "check"), catalogue_checks(&(size_t){0})[i].name);
		assert_string_equal(s(row, "state"), t == 1 && i == smb ? "open" : "closed");
	}

	json_t *findings = json_object_get(doc, "findings");
	assert_int_equal(json_array_size(findings), 1);
	row = json_array_get(findings, 0);
	assert_string_equal(s(row, "id"), "ipv6-only-exposure");
	assert_string_equal(s(row, "check"), "smb");
	assert_string_equal(s(row, "address"), "2001:db8::1");
	assert_string_equal(s(row, "confidence"), "confirmed");
	assert_int_equal(json_integer_value(json_object_get(row, "port")), 445);
	json_decref(doc);
	visit_free(v);
}

/* A one-address visit: the one-address document plus the new fields, nothing moved. */
static void test_json_one_address(void **state)
{
	static const char *const a[] = {"198.18.0.9"};
	struct counts c = {0};
	struct visit *v = make(a, 1, &c);
	json_t *doc, *old;
	const char *key;
	json_t *value;

	(void)state;
	record_all(v, 0, 0, &CLOSED, &OPEN);
	assert_true(visit_done(v));
	doc = doc_of(v);
	old = diagnosis_json(visit_diagnosis(v, 0));
	assert_non_null(old);
	json_object_foreach(old, key, value)
	{
		if (strcmp(key, "checks") == 0 || strcmp(key, "elapsed_ms") == 0)
			continue;
		assert_true(json_equal(value, json_object_get(doc, key)));
	}
	assert_int_equal(json_array_size(json_object_get(doc, "checks")),
	                 json_array_size(json_object_get(old, "checks")));
	assert_int_equal(json_array_size(json_object_get(doc, "findings")), 0);
	assert_int_equal(json_array_size(json_object_get(doc, "targets")), 1);
	json_decref(old);
	json_decref(doc);
	visit_free(v);
}

/* exposure check's path: finished diagnoses of one name's addresses adopted as one visit. */
static void test_adopt(void **state)
{
	struct diag_options o = {.ports_only = true, .checks = catalogue_all()};
	struct diagnosis *d[2];
	struct addr a4, a6;
	size_t smb = catalogue_rank("smb");
	int err = 0;

	(void)state;
	assert_int_equal(addr_parse("198.18.0.3", &a4), 0);
	assert_int_equal(addr_parse("2001:db8::3", &a6), 0);
	d[0] = diagnosis_new("both.test", &a6, &o, NULL, NULL, NULL);
	d[1] = diagnosis_new("both.test", &a4, &o, NULL, NULL, NULL);
	assert_non_null(d[0]);
	assert_non_null(d[1]);
	/* Not finished: refused, and the diagnoses are freed (ASan sees a leak otherwise). */
	assert_null(visit_adopt(d, 2, VISIT_RESOLVED, &err));
	assert_int_equal(err, -ERR_RANGE);

	d[0] = diagnosis_new("both.test", &a6, &o, NULL, NULL, NULL);
	d[1] = diagnosis_new("both.test", &a4, &o, NULL, NULL, NULL);
	for (size_t i = 0; i < n_checks(); i++) {
		struct check_ports p = catalogue_ports(NULL, i);

		for (size_t pk = 0; pk < check_ports_count(p); pk++) {
			unsigned port = check_ports_nth(p, pk);

			assert_int_equal(diagnosis_record(d[0], i, (uint16_t)port,
			                                  i == smb ? &OPEN : &CLOSED, NULL),
			                 0);
			assert_int_equal(diagnosis_record(d[1], i, (uint16_t)port, &CLOSED, NULL),
			                 0);
		}
	}
	struct visit *v = visit_adopt(d, 2, VISIT_RESOLVED, &err);
	assert_non_null(v);
	assert_true(visit_done(v));
	assert_int_equal(visit_findings(v), 1);
	assert_string_equal(visit_finding(v, 0)->f.id, "ipv6-only-exposure");
	assert_int_equal(visit_finding(v, 0)->target, 0);
	assert_string_equal(visit_proof_name(visit_target(v, 1)->proven), "resolved");
	visit_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_done_when_all_are),
	    cmocka_unit_test(test_ipv6_only),
	    cmocka_unit_test(test_ipv4_only),
	    cmocka_unit_test(test_no_finding_without_verdict),
	    cmocka_unit_test(test_one_family),
	    cmocka_unit_test(test_refused_shapes),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_json_one_address),
	    cmocka_unit_test(test_adopt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
