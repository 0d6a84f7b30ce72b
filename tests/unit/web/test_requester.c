/* SPDX-License-Identifier: MIT */
/* Requester resolution, target rules, Accept-Language (src/web/requester.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "web/requester.h"

#include <string.h>

static struct addr A(const char *s) {
	struct addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static void
trust_add(struct trust *t, const char *cidr)
{
	assert_int_equal(cidr_parse(cidr, &t->proxies[t->n++]), 0);
}

static void expect_resolve(const struct trust *t, const char *peer, const char *hdr,
                           const char *want, bool want_proxy)
{
	struct addr p = A(peer), out, w = A(want);
	bool via;

	assert_int_equal(requester_resolve(t, &p, hdr, &out, &via), 0);
	if (!addr_equal(&out, &w)) {
		char got[ADDR_STRLEN];

		addr_format(&out, got, sizeof(got));
		fail_msg("peer %s header \"%s\": got %s, want %s", peer, hdr ? hdr : "(none)", got,
		         want);
	}
	assert_int_equal(via, want_proxy);
}

static void test_untrusted_peer_ignores_header(void **st)
{
	struct trust t = {0};

	(void)st;
	trust_add(&t, "127.0.0.2");
	/* A spoofed header from an untrusted peer changes nothing. */
	expect_resolve(&t, "127.0.0.9", "198.18.0.1", "127.0.0.9", false);
	expect_resolve(&t, "127.0.0.9", NULL, "127.0.0.9", false);
	t.n = 0;
	expect_resolve(&t, "127.0.0.2", "198.18.0.1", "127.0.0.2", false);
}

static void test_trusted_rightmost_untrusted(void **st)
{
	struct trust t = {0};

	(void)st;
	trust_add(&t, "127.0.0.2");
	trust_add(&t, "127.0.1.0/24");
	/* Client-supplied left part is ignored: the right-most untrusted hop is the requester. */
	expect_resolve(&t, "127.0.0.2", "6.6.6.6, 127.0.5.5", "127.0.5.5", true);
	expect_resolve(&t, "127.0.0.2", "6.6.6.6, 127.0.5.5, 127.0.1.7", "127.0.5.5", true);
	expect_resolve(&t, "127.0.0.2", "6.6.6.6,127.0.5.5 ,  127.0.1.7,127.0.1.8", "127.0.5.5",
	               true);
	/* Every hop trusted: the left-most. */
	expect_resolve(&t, "127.0.0.2", "127.0.1.3, 127.0.1.4", "127.0.1.3", true);
	/* No header: the proxy itself asked. */
	expect_resolve(&t, "127.0.0.2", NULL, "127.0.0.2", false);
	/* Ports and IPv6 brackets. */
	expect_resolve(&t, "127.0.0.2", "1.1.1.1, 127.0.5.6:4444", "127.0.5.6", true);
	expect_resolve(&t, "127.0.0.2", "[2001:db8::5]:80", "2001:db8::5", true);
	expect_resolve(&t, "127.0.0.2", "2001:db8::6", "2001:db8::6", true);
}

static void test_bad_header(void **st)
{
	struct trust t = {0};
	struct addr p = A("127.0.0.2"), out;
	bool via;

	(void)st;
	trust_add(&t, "127.0.0.2");
	assert_int_equal(requester_resolve(&t, &p, "1.2.3.4, unknown", &out, &via), -ERR_SYNTAX);
	assert_int_equal(requester_resolve(&t, &p, "<script>", &out, &via), -ERR_SYNTAX);
	/* Garbage left of the requester does not matter. */
	assert_int_equal(requester_resolve(&t, &p, "garbage, 127.0.3.3", &out, &via), 0);
}

static void test_forwarded(void **st)
{
	struct trust t = {.header = PROXY_HDR_FORWARDED};

	(void)st;
	trust_add(&t, "127.0.0.2");
	expect_resolve(&t, "127.0.0.2", "for=6.6.6.6, for=127.0.5.5;proto=https", "127.0.5.5",
	               true);
	expect_resolve(&t, "127.0.0.2", "for=\"[2001:db8::7]:443\";by=127.0.0.2", "2001:db8::7",
	               true);
	{
		struct addr p = A("127.0.0.2"), out;
		bool via;

		assert_int_equal(requester_resolve(&t, &p, "for=_hidden", &out, &via), -ERR_SYNTAX);
		assert_int_equal(requester_resolve(&t, &p, "proto=https", &out, &via), -ERR_SYNTAX);
	}
}

static void decide(const struct target_rules *r, const char *addr, bool allowed, const char *code)
{
	struct addr a = A(addr);
	struct target_decision d;

	assert_int_equal(target_decide(r, &a, &d), allowed);
	assert_int_equal(d.allowed, allowed);
	if (strcmp(d.code, code) != 0)
		fail_msg("%s: code %s, want %s", addr, d.code, code);
	if (!allowed) {
		assert_true(strlen(d.why_en) > 20);
		assert_true(strlen(d.why_ja) > 20);
	}
}

static void test_local_mode(void **st)
{
	struct target_rules r = {0};

	(void)st;
	decide(&r, "127.0.0.1", true, "ok");
	decide(&r, "::1", true, "ok");
	decide(&r, "8.8.8.8", false, "not-local");
	decide(&r, "192.168.1.2", false, "not-local");
	assert_int_equal(cidr_parse("198.18.0.0/15", &r.allow[r.n_allow++]), 0);
	decide(&r, "198.18.3.4", true, "ok");
}

static void test_public_mode(void **st)
{
	struct target_rules r = {.public_mode = true};
	struct addr a;
	struct target_decision d;

	(void)st;
	decide(&r, "8.8.8.8", true, "ok");
	decide(&r, "2606:4700::1", true, "ok");
	decide(&r, "127.0.0.1", false, "loopback");
	decide(&r, "::1", false, "loopback");
	decide(&r, "10.1.2.3", false, "private");
	decide(&r, "192.168.0.9", false, "private");
	decide(&r, "fd00::1", false, "private");
	decide(&r, "100.64.1.2", false, "cgnat");
	decide(&r, "169.254.1.1", false, "link-local");
	decide(&r, "fe80::1", false, "link-local");
	decide(&r, "198.18.0.1", false, "special");
	decide(&r, "2001:db8::1", false, "special");
	decide(&r, "224.0.0.1", false, "special");
	/* CGNAT's explanation says we cannot reach the device, and that this is good news. */
	a = A("100.64.1.2");
	target_decide(&r, &a, &d);
	assert_non_null(strstr(d.why_en, "good news"));
	/* Operator blocks open lab ranges, even loopback, but never multicast. */
	assert_int_equal(cidr_parse("127.0.0.0/8", &r.allow[r.n_allow++]), 0);
	assert_int_equal(cidr_parse("224.0.0.0/4", &r.allow[r.n_allow++]), 0);
	decide(&r, "127.3.4.5", true, "ok");
	decide(&r, "224.0.0.1", false, "policy");
	decide(&r, "::1", false, "loopback");
}

/* The page's language and the API's advice language come from request_lang (lang_choose). */
static void test_lang(void **st)
{
	(void)st;
	assert_int_equal(request_lang("ja"), LANG_JA);
	assert_int_equal(request_lang("ja-JP,ja;q=0.9,en;q=0.8"), LANG_JA);
	assert_int_equal(request_lang("en;q=0.5, ja;q=0.8"), LANG_JA);
	assert_int_equal(request_lang("ja, en"), LANG_JA);
	assert_int_equal(request_lang("en, ja"), LANG_EN);
	assert_int_equal(request_lang("en-US,en;q=0.9"), LANG_EN);
	assert_int_equal(request_lang("fr"), LANG_EN);
	assert_int_equal(request_lang(""), LANG_EN);
	assert_int_equal(request_lang(NULL), LANG_EN);
	assert_int_equal(request_lang("ja;q=0, en"), LANG_EN);
	assert_int_equal(request_lang("jam"), LANG_EN);
	assert_int_equal(request_lang("fr, ja;q=0.3"), LANG_JA);
	/* Malformed: English, whatever else the header says. */
	assert_int_equal(request_lang("ja;q=2"), LANG_EN);
	assert_int_equal(request_lang("ja;q=abc"), LANG_EN);
}

/*
 * "*" is every language not named (RFC 9110 §12.5.4): alone it is English, the first we speak.
 * The page used to ignore it, so "ja;q=0.5, *" showed Japanese while the advice came in English.
 */
static void test_lang_wildcard(void **st)
{
	(void)st;
	assert_int_equal(request_lang("*"), LANG_EN);
	assert_int_equal(request_lang("ja;q=0.5, *"), LANG_EN);
	assert_int_equal(request_lang("*;q=0.1, ja"), LANG_JA);
	assert_int_equal(request_lang("en;q=0, *"), LANG_JA);
	assert_int_equal(request_lang("en, *;q=0"), LANG_EN);
	assert_int_equal(request_lang("*;q=0"), LANG_EN);
}

/* The probe deadline from the HTTP connection's round-trip time. */
static void test_probe_timeout(void **st)
{
	const struct rtt_deadline p = {
	    .factor = 4, .margin_ms = 250, .floor_ms = 300, .ceiling_ms = 5000};
	struct requester r = {.rtt_ms = 100};

	(void)st;
	assert_int_equal(requester_probe_timeout(&r, &p), 650);
	r.rtt_ms = 10; /* 290 ms: the floor */
	assert_int_equal(requester_probe_timeout(&r, &p), 300);
	r.rtt_ms = 2000; /* 8250 ms: the ceiling */
	assert_int_equal(requester_probe_timeout(&r, &p), 5000);
	r.rtt_ms = -1; /* unknown: the engine adapts */
	assert_int_equal(requester_probe_timeout(&r, &p), 0);
	r.rtt_ms = 100;
	r.via_proxy = true; /* the proxy's RTT, not the requester's */
	assert_int_equal(requester_probe_timeout(&r, &p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_untrusted_peer_ignores_header),
	    cmocka_unit_test(test_trusted_rightmost_untrusted),
	    cmocka_unit_test(test_bad_header),
	    cmocka_unit_test(test_forwarded),
	    cmocka_unit_test(test_local_mode),
	    cmocka_unit_test(test_public_mode),
	    cmocka_unit_test(test_lang),
	    cmocka_unit_test(test_lang_wildcard),
	    cmocka_unit_test(test_probe_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
