/* SPDX-License-Identifier: MIT */
/* Token buckets and CSRF tokens (src/web/ratelimit.h, csrf.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "web/csrf.h"
#include "web/ratelimit.h"

#include <stdio.h>
#include <string.h>

static struct addr A(const char *s) {
	struct addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static void
test_addr_bucket(void **st)
{
	struct rate_limit rl;
	struct addr a = A("127.0.0.5"), b = A("127.0.1.5");
	int64_t t = 1000000;

	(void)st;
	/* 3600/hour = 1 per second, burst 2; prefix limit off. */
	assert_int_equal(rate_limit_init(&rl, 1024, 3600, 2, 0, 0), 0);
	assert_int_equal(rate_limit_take(&rl, &a, t), 0);
	assert_int_equal(rate_limit_take(&rl, &a, t), 0);
	int64_t wait = rate_limit_take(&rl, &a, t);
	assert_true(wait > 900 && wait <= 1000);
	/* Another address is unaffected. */
	assert_int_equal(rate_limit_take(&rl, &b, t), 0);
	/* Refills with time. */
	assert_true(rate_limit_take(&rl, &a, t + 500) > 0);
	assert_int_equal(rate_limit_take(&rl, &a, t + 1001), 0);
	assert_true(rate_limit_take(&rl, &a, t + 1001) > 0);
	rate_limit_free(&rl);
}

static void test_prefix_bucket(void **st)
{
	struct rate_limit rl;
	int64_t t = 5000;
	char text[32];

	(void)st;
	/* Per address generous, per /24 burst 3. */
	assert_int_equal(rate_limit_init(&rl, 1024, 3600, 100, 3600, 3), 0);
	for (int i = 1; i <= 3; i++) {
		struct addr a;

		snprintf(text, sizeof(text), "127.0.9.%d", i);
		a = A(text);
		assert_int_equal(rate_limit_take(&rl, &a, t), 0);
	}
	struct addr x = A("127.0.9.200"), y = A("127.0.10.1");
	assert_true(rate_limit_take(&rl, &x, t) > 0);
	/* Another /24 is fine. */
	assert_int_equal(rate_limit_take(&rl, &y, t), 0);
	/* IPv6: the /64 counts together. */
	struct addr v1 = A("2001:db8:1:2::1"), v2 = A("2001:db8:1:2:ffff::9"),
	            v3 = A("2001:db8:1:2::77"), v4 = A("2001:db8:1:2::88"),
	            other = A("2001:db8:1:3::1");
	assert_int_equal(rate_limit_take(&rl, &v1, t), 0);
	assert_int_equal(rate_limit_take(&rl, &v2, t), 0);
	assert_int_equal(rate_limit_take(&rl, &v3, t), 0);
	assert_true(rate_limit_take(&rl, &v4, t) > 0);
	assert_int_equal(rate_limit_take(&rl, &other, t), 0);
	rate_limit_free(&rl);
}

static void test_refused_take_consumes_nothing(void **st)
{
	struct rate_limit rl;
	struct addr a = A("127.0.0.7"), b = A("127.0.0.8");

	(void)st;
	/* Address burst 1, prefix burst 2. */
	assert_int_equal(rate_limit_init(&rl, 1024, 1, 1, 1, 2), 0);
	assert_int_equal(rate_limit_take(&rl, &a, 0), 0);
	/* a is out; its refusal must not eat the prefix's last token. */
	assert_true(rate_limit_take(&rl, &a, 0) > 0);
	assert_true(rate_limit_take(&rl, &a, 0) > 0);
	assert_int_equal(rate_limit_take(&rl, &b, 0), 0);
	rate_limit_free(&rl);
}

static void test_flood_table(void **st)
{
	struct rate_limit rl;
	char text[32];

	(void)st;
	/* A small table under a flood of distinct addresses stays bounded and working. */
	assert_int_equal(rate_limit_init(&rl, 64, 3600, 1, 0, 0), 0);
	for (int i = 0; i < 5000; i++) {
		struct addr a;

		snprintf(text, sizeof(text), "127.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255,
		         i & 255);
		a = A(text);
		assert_int_equal(rate_limit_take(&rl, &a, i), 0);
	}
	assert_int_equal(rl.n_slots, 64);
	rate_limit_free(&rl);
}

static void test_csrf(void **st)
{
	struct csrf c, other;
	char tok[CSRF_TOKEN_LEN + 1], tok2[CSRF_TOKEN_LEN + 1];
	int64_t now = 1700000000000;

	(void)st;
	assert_int_equal(csrf_init(&c, 3600000), 0);
	assert_int_equal(csrf_init(&other, 3600000), 0);
	csrf_issue(&c, now, tok);
	assert_int_equal(strlen(tok), CSRF_TOKEN_LEN);
	assert_true(csrf_verify(&c, tok, now));
	assert_true(csrf_verify(&c, tok, now + 3599000));
	assert_false(csrf_verify(&c, tok, now + 3601000)); /* expired */
	assert_false(csrf_verify(&other, tok, now));       /* another key */
	csrf_issue(&c, now, tok2);
	assert_string_not_equal(tok, tok2);
	tok2[10] = tok2[10] == 'A' ? 'B' : 'A';
	assert_false(csrf_verify(&c, tok2, now)); /* tampered */
	assert_false(csrf_verify(&c, "", now));
	assert_false(csrf_verify(&c, NULL, now));
	assert_false(csrf_verify(&c, "short", now));
}

static void test_cookie(void **st)
{
	char v[64];

	(void)st;
	assert_true(cookie_value("a=1; exposure_csrf=xyz; b=2", "exposure_csrf", v, sizeof(v)));
	assert_string_equal(v, "xyz");
	assert_true(cookie_value("exposure_csrf=q", "exposure_csrf", v, sizeof(v)));
	assert_string_equal(v, "q");
	assert_false(cookie_value("xexposure_csrf=q", "exposure_csrf", v, sizeof(v)));
	assert_false(cookie_value("a=1", "exposure_csrf", v, sizeof(v)));
	assert_false(cookie_value("exposure_csrf=toolongvalue", "exposure_csrf", v, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_bucket),
	    cmocka_unit_test(test_prefix_bucket),
	    cmocka_unit_test(test_refused_take_consumes_nothing),
	    cmocka_unit_test(test_flood_table),
	    cmocka_unit_test(test_csrf),
	    cmocka_unit_test(test_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
