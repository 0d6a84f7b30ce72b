/* SPDX-License-Identifier: MIT */
/* The target policy (core/policy.h): every rule that allows or refuses, and its explanation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/finding.h"
#include "core/policy.h"

#include <errno.h>
#include <string.h>

static struct addr A(const char *text) {
	struct addr a;

	if (addr_parse(text, &a) != 0)
		fail_msg("bad test address %s", text);
	return a;
}

static void
allow(struct policy *p, const char *block)
{
	struct cidr c;

	if (cidr_parse(block, &c) != 0)
		fail_msg("bad test block %s", block);
	assert_int_equal(policy_allow(p, &c), 0);
}

/* Decide; compare allowed, rule and (for refusals) that the explanation names the rule. */
static void expect(const struct policy *p, const char *addr, bool allowed, enum policy_rule rule,
                   const char *explain_part)
{
	struct policy_decision d;
	struct addr a = A(addr);
	char buf[512], text[ADDR_STRLEN];

	if (policy_check(p, &a, &d) != allowed || d.allowed != allowed || d.rule != rule)
		fail_msg("%s: allowed=%d rule=%d, expected allowed=%d rule=%d", addr, d.allowed,
		         d.rule, allowed, rule);
	assert_true(policy_explain(p, &a, &d, buf, sizeof(buf)) > 0);
	assert_true(addr_format(&a, text, sizeof(text)) > 0);
	assert_non_null(strstr(buf, text)); /* names the address, in canonical form */
	if (explain_part && strstr(buf, explain_part) == NULL)
		fail_msg("%s: explanation '%s' lacks '%s'", addr, buf, explain_part);
}

static void test_default_loopback_only(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	expect(&p, "127.0.0.1", true, POLICY_ALLOWED_LOOPBACK, "loopback");
	expect(&p, "127.1.2.3", true, POLICY_ALLOWED_LOOPBACK, "loopback");
	expect(&p, "::1", true, POLICY_ALLOWED_LOOPBACK, "loopback");
	expect(&p, "198.18.0.1", false, POLICY_DENIED_NOT_ALLOWED, "--allow");
	expect(&p, "8.8.8.8", false, POLICY_DENIED_NOT_ALLOWED, "global address outside");
	expect(&p, "192.168.1.1", false, POLICY_DENIED_NOT_ALLOWED, "private");
	expect(&p, "100.64.0.1", false, POLICY_DENIED_NOT_ALLOWED, "shared");
	expect(&p, "fe80::1", false, POLICY_DENIED_NOT_ALLOWED, "link-local");
	expect(&p, "2001:db8::2", false, POLICY_DENIED_NOT_ALLOWED, "documentation");
}

static void test_always_denied(void **state)
{
	struct policy p;
	static const char *const never[][2] = {
	    {"0.0.0.0", "unspecified"},       {"::", "unspecified"},
	    {"0.1.2.3", "this-network"},      {"224.0.0.1", "multicast"},
	    {"239.1.2.3", "multicast"},       {"ff02::1", "multicast"},
	    {"255.255.255.255", "broadcast"}, {"240.0.0.1", "reserved"},
	    {"100::1", "reserved"},
	};

	(void)state;
	policy_init(&p);
	/* Even when the operator allows everything. */
	allow(&p, "0.0.0.0/0");
	allow(&p, "::/0");
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		expect(&p, never[i][0], false, POLICY_DENIED_ALWAYS, never[i][1]);
	/* ...which allows the ordinary addresses. */
	expect(&p, "8.8.8.8", true, POLICY_ALLOWED_BY_BLOCK, "0.0.0.0/0");
	expect(&p, "2606:4700::1", true, POLICY_ALLOWED_BY_BLOCK, "::/0");
}

static void test_deny_loopback(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	p.deny_loopback = true;
	allow(&p, "127.0.0.0/8"); /* an allow block does not override the mode */
	expect(&p, "127.0.0.1", false, POLICY_DENIED_LOOPBACK, "loopback");
	expect(&p, "::1", false, POLICY_DENIED_LOOPBACK, "not probed in this mode");
}

static void test_allowed_by_block(void **state)
{
	struct policy p;
	struct policy_decision d;
	struct addr a;

	(void)state;
	policy_init(&p);
	allow(&p, "198.18.0.0/24");
	allow(&p, "2001:db8::/64");
	expect(&p, "198.18.0.0", true, POLICY_ALLOWED_BY_BLOCK, "inside --allow 198.18.0.0/24");
	expect(&p, "198.18.0.255", true, POLICY_ALLOWED_BY_BLOCK, "198.18.0.0/24");
	expect(&p, "198.18.1.0", false, POLICY_DENIED_NOT_ALLOWED, "refused");
	expect(&p, "2001:db8::ffff", true, POLICY_ALLOWED_BY_BLOCK, "2001:db8::/64");
	expect(&p, "2001:db8:0:1::1", false, POLICY_DENIED_NOT_ALLOWED, "refused");
	/* A mapped address is judged as the IPv4 it is. */
	expect(&p, "::ffff:198.18.0.7", true, POLICY_ALLOWED_BY_BLOCK, "198.18.0.0/24");
	a = A("2001:db8::9");
	policy_check(&p, &a, &d);
	assert_int_equal(d.block, 1);
	a = A("198.18.9.9");
	policy_check(&p, &a, &d);
	assert_int_equal(d.block, -1);
	/* Loopback stays allowed alongside blocks. */
	expect(&p, "127.0.0.1", true, POLICY_ALLOWED_LOOPBACK, "loopback");
}

static void test_allow_limit(void **state)
{
	struct policy p;
	struct cidr c;

	(void)state;
	policy_init(&p);
	assert_int_equal(cidr_parse("198.18.0.0/24", &c), 0);
	for (int i = 0; i < POLICY_MAX_ALLOW; i++)
		assert_int_equal(policy_allow(&p, &c), 0);
	assert_int_equal(policy_allow(&p, &c), -ERR_RANGE);
	assert_int_equal(p.n_allow, POLICY_MAX_ALLOW);
}

static void test_explain_truncates(void **state)
{
	struct policy p;
	struct policy_decision d;
	struct addr a = A("198.18.0.1");
	char small[16];

	(void)state;
	policy_init(&p);
	policy_check(&p, &a, &d);
	policy_explain(&p, &a, &d, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_err_names(void **state)
{
	(void)state;
	assert_string_equal(err_name(-ERR_POLICY), "ERR_POLICY");
	assert_string_equal(err_str(-ERR_POLICY), "refused by the target policy");
	assert_string_equal(err_name(-ECONNREFUSED), "ECONNREFUSED");
	assert_string_equal(err_name(0), "OK");
	assert_non_null(err_str(-ECONNREFUSED));
}

static void test_finding_names(void **state)
{
	enum severity s;
	enum confidence c;

	(void)state;
	for (int i = 0; i < SEVERITY_X_MAX; i++) {
		assert_int_equal(severity_parse(severity_name((enum severity)i), &s), 0);
		assert_int_equal(s, i);
	}
	for (int i = 0; i < CONFIDENCE_X_MAX; i++) {
		assert_int_equal(confidence_parse(confidence_name((enum confidence)i), &c), 0);
		assert_int_equal(c, i);
	}
	assert_int_equal(severity_parse("severe", &s), -ERR_SYNTAX);
	assert_int_equal(confidence_parse("", &c), -ERR_SYNTAX);
	assert_string_equal(severity_name(SEVERITY_X_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_loopback_only),
	    cmocka_unit_test(test_always_denied),
	    cmocka_unit_test(test_deny_loopback),
	    cmocka_unit_test(test_allowed_by_block),
	    cmocka_unit_test(test_allow_limit),
	    cmocka_unit_test(test_explain_truncates),
	    cmocka_unit_test(test_err_names),
	    cmocka_unit_test(test_finding_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
