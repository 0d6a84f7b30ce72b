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

#define SPEC(ah, ab, ph, pb, sh, sb)                                                               \
	((const struct rate_spec[RATE_LEVELS]){{ah, ab}, {ph, pb}, {sh, sb}})

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
	assert_int_equal(rate_limit_init(&rl, 1024, SPEC(3600, 2, 0, 0, 0, 0)), 0);
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
	assert_int_equal(rate_limit_init(&rl, 1024, SPEC(3600, 100, 3600, 3, 0, 0)), 0);
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
	assert_int_equal(rate_limit_init(&rl, 1024, SPEC(1, 1, 1, 2, 0, 0)), 0);
	assert_int_equal(rate_limit_take(&rl, &a, 0), 0);
	/* a is out; its refusal must not eat the prefix's last token. */
	assert_true(rate_limit_take(&rl, &a, 0) > 0);
	assert_true(rate_limit_take(&rl, &a, 0) > 0);
	assert_int_equal(rate_limit_take(&rl, &b, 0), 0);
	rate_limit_free(&rl);
}

/* Buckets in use at a level. */
static size_t used(const struct rate_limit *rl, enum rate_level level)
{
	size_t n = 0;

	for (size_t i = 0; i < rl->n_slots; i++)
		n += rl->t[level].slots[i].used;
	return n;
}

static struct addr v6(unsigned a, unsigned b, unsigned c, unsigned host)
{
	char text[64];

	snprintf(text, sizeof(text), "2001:db8:%x:%x:%x::%x", a, b, c, host);
	return A(text);
}

static void test_flood_table(void **st)
{
	struct rate_limit rl;
	struct addr a;
	char text[32];
	int taken = 0;

	(void)st;
	/* A small table under a flood of distinct addresses stays bounded and working. */
	assert_int_equal(rate_limit_init(&rl, 64, SPEC(3600, 1, 0, 0, 0, 0)), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(text, sizeof(text), "127.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255,
		         i & 255);
		a = A(text);
		assert_int_equal(rate_limit_take(&rl, &a, i), 0);
	}
	assert_int_equal(rl.n_slots, 64);
	assert_int_equal(used(&rl, RATE_ADDR), 64);
	rate_limit_free(&rl);

	/*
	 * The prefix level never forgets a debt: all at once, the table fills, then refuses until
	 * the first debt is paid (one token a second here).
	 */
	assert_int_equal(rate_limit_init(&rl, 64, SPEC(0, 0, 3600, 1, 0, 0)), 0);
	for (int i = 0; i < 5000; i++) {
		int64_t wait;

		snprintf(text, sizeof(text), "127.%d.%d.1", (i >> 8) & 255, i & 255);
		a = A(text);
		wait = rate_limit_take(&rl, &a, 1000000);
		assert_true(wait >= 0 && wait <= 1000);
		if (wait == 0) {
			taken++;
			assert_true(rate_limit_take(&rl, &a, 1000000) > 0);
		}
	}
	assert_true(taken >= RATE_WINDOW && taken <= 64);
	assert_int_equal(used(&rl, RATE_PREFIX), taken);
	a = A("127.200.0.1");
	assert_int_equal(rate_limit_take(&rl, &a, 1001000), 0);
	rate_limit_free(&rl);
}

/* A refused request leaves no bucket behind, at any level. */
static void test_refused_creates_nothing(void **st)
{
	struct rate_limit rl;
	struct addr a = v6(1, 1, 1, 1);

	(void)st;
	assert_int_equal(rate_limit_init(&rl, 1024, SPEC(30, 5, 120, 1, 240, 40)), 0);
	assert_int_equal(rate_limit_take(&rl, &a, 0), 0);
	assert_int_equal(used(&rl, RATE_ADDR), 1);
	for (unsigned i = 2; i < 500; i++) {
		a = v6(1, 1, 1, i); /* same /64, whose one token is gone */
		assert_true(rate_limit_take(&rl, &a, 0) > 0);
	}
	assert_int_equal(used(&rl, RATE_ADDR), 1);
	assert_int_equal(used(&rl, RATE_PREFIX), 1);
	assert_int_equal(used(&rl, RATE_SITE), 1);
	rate_limit_free(&rl);
}

/*
 * The attack of issue 9: addresses chosen to land on a /64's bucket pushed it out, and the /64
 * got a fresh burst. Here the attacker is given the key (a test hook) and still cannot: address
 * buckets live in their own table, and a bucket in debt is never recycled.
 */
static void test_chosen_collisions(void **st)
{
	static const unsigned char key[RATE_KEY_LEN] = "0123456789abcdef";
	struct rate_limit rl;
	struct addr target = v6(1, 2, 3, 1), x;
	size_t home, n_addr = 0, n_prefix = 0, mask;
	int taken = 0;

	(void)st;
	assert_int_equal(rate_limit_init(&rl, 256, SPEC(30, 5, 120, 20, 0, 0)), 0);
	rate_limit_set_key(&rl, key);
	mask = rl.n_slots - 1;
	home = rate_limit_home(&rl, RATE_PREFIX, &target);
	/* The /64 spends its burst from 20 of its addresses. */
	for (unsigned i = 1; i <= 25; i++) {
		x = v6(1, 2, 3, i);
		taken += rate_limit_take(&rl, &x, 1000) == 0;
	}
	assert_int_equal(taken, 20);
	/*
	 * Addresses of other /48s whose address bucket or whose /64's bucket starts inside the
	 * window of the target's /64 bucket: 64 of each kind.
	 */
	for (unsigned i = 1; i < 200000 && (n_addr < 64 || n_prefix < 64); i++) {
		x = v6(2 + i / 1000, i % 1000, 0, 1);
		if (n_addr < 64 &&
		    ((rate_limit_home(&rl, RATE_PREFIX, &x) - home) & mask) >= RATE_WINDOW &&
		    ((rate_limit_home(&rl, RATE_ADDR, &x) - home) & mask) < RATE_WINDOW) {
			n_addr++;
			rate_limit_take(&rl, &x, 2000);
		} else if (n_prefix < 64 &&
		           ((rate_limit_home(&rl, RATE_PREFIX, &x) - home) & mask) < RATE_WINDOW) {
			n_prefix++;
			rate_limit_take(&rl, &x, 2000);
		}
	}
	assert_int_equal(n_addr, 64);
	assert_int_equal(n_prefix, 64);
	/* The /64 is still refused, from a fresh address too. */
	x = v6(1, 2, 3, 99);
	assert_true(rate_limit_take(&rl, &x, 2000) > 0);
	rate_limit_free(&rl);
}

/* A /48 rotating through its /64s is held by the site bucket; other /48s are not. */
static void test_site_bucket(void **st)
{
	struct rate_limit rl;
	struct addr x;
	int taken = 0;

	(void)st;
	assert_int_equal(rate_limit_init(&rl, 4096, SPEC(30, 5, 120, 20, 240, 40)), 0);
	for (unsigned i = 0; i < 300; i++) {
		x = v6(7, i, 0, 1);
		taken += rate_limit_take(&rl, &x, 0) == 0;
	}
	assert_int_equal(taken, 40);
	x = v6(8, 0, 0, 1);
	assert_int_equal(rate_limit_take(&rl, &x, 0), 0);
	/* 15 s pays back one token of 240 an hour. */
	x = v6(7, 500, 0, 1);
	assert_true(rate_limit_take(&rl, &x, 14000) > 0);
	assert_int_equal(rate_limit_take(&rl, &x, 15000), 0);
	/* IPv4 has no site level: the /24 is the widest. */
	for (unsigned i = 0; i < 30; i++) {
		char text[32];

		snprintf(text, sizeof(text), "127.%u.%u.1", 3 + i / 200, i % 200);
		x = A(text);
		assert_int_equal(rate_limit_take(&rl, &x, 0), 0);
	}
	assert_int_equal(used(&rl, RATE_SITE), 2);
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
	    cmocka_unit_test(test_refused_creates_nothing),
	    cmocka_unit_test(test_chosen_collisions),
	    cmocka_unit_test(test_site_bucket),
	    cmocka_unit_test(test_csrf),
	    cmocka_unit_test(test_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
