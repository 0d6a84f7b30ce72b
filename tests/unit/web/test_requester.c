/* SPDX-License-Identifier: MIT */
/* Requester resolution, target rules, Accept-Language (src/web/requester.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/special.h"
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

/*
 * Anything after the requester's address but a port makes the header malformed: it used to be
 * cut off, so "[2600::1]junk" read as 2600::1 (issue 9 §4).
 */
static void test_trailing_junk(void **st)
{
	static const char *const bad[] = {
	    "[2600::1]junk",   "[2600::1] :80",       "[2600::1]:",    "[2600::1]:80x",
	    "[2600::1]:65536", "1.2.3.4:80x",         "1.2.3.4:",      "1.2.3.4:-1",
	    "1.2.3.4:_",       "8.8.8.8, [2600::1]x", "[2600::1]:_a b"};
	struct trust t = {0};
	struct trust f = {.header = PROXY_HDR_FORWARDED};
	struct addr p = A("127.0.0.2"), out;
	bool via;

	(void)st;
	trust_add(&t, "127.0.0.2");
	trust_add(&f, "127.0.0.2");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (requester_resolve(&t, &p, bad[i], &out, &via) != -ERR_SYNTAX)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(requester_resolve(&f, &p, "for=\"[2600::1]junk\"", &out, &via),
	                 -ERR_SYNTAX);
	assert_int_equal(requester_resolve(&f, &p, "for=\"[2600::1]:80\"x", &out, &via),
	                 -ERR_SYNTAX);
	/* Ports, obfuscated ports (RFC 7239 §6.3) and spaces around a node stay fine. */
	expect_resolve(&t, "127.0.0.2", "[2600::1]:65535", "2600::1", true);
	expect_resolve(&t, "127.0.0.2", "1.2.3.4:0", "1.2.3.4", true);
	expect_resolve(&t, "127.0.0.2", " 1.2.3.4:443 ", "1.2.3.4", true);
	expect_resolve(&f, "127.0.0.2", "for=\"[2600::1]:_hidden-port.1\"", "2600::1", true);
	/* Junk left of the requester is still not the requester's business. */
	expect_resolve(&t, "127.0.0.2", "[2600::1]junk, 1.2.3.4", "1.2.3.4", true);
}

/* A NUL or another control byte in the header, as received, is malformed (issue 9 §4). */
static void test_control_bytes(void **st)
{
	static const char nul[] = "1.2.3.4\0, 10.0.0.1";

	(void)st;
	assert_int_equal(forwarding_value_check(nul, sizeof(nul) - 1), -ERR_SYNTAX);
	assert_int_equal(forwarding_value_check("1.2.3.4\r", 8), -ERR_SYNTAX);
	assert_int_equal(forwarding_value_check("1.2.3.4\x7f", 8), -ERR_SYNTAX);
	assert_int_equal(forwarding_value_check("\x01", 1), -ERR_SYNTAX);
	assert_int_equal(forwarding_value_check("1.2.3.4,\t5.6.7.8", 16), 0);
	assert_int_equal(forwarding_value_check("for=\"[2600::1]:80\"", 18), 0);
	assert_int_equal(forwarding_value_check("", 0), 0);
	/* The length is what counts, not the first NUL. */
	assert_int_equal(forwarding_value_check(nul, 7), 0);
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

/* The last address of c: every host bit set. */
static void last_address(const struct cidr *c, struct addr *a)
{
	unsigned bits = c->base.family == AF_INET ? 32 : 128;

	*a = c->base;
	for (unsigned b = c->prefix; b < bits; b++)
		a->bytes[b / 8] |= (uint8_t)(0x80 >> (b % 8));
}

/*
 * --public refuses every block of the special-purpose table (core/special.h) with that block's
 * reason: those found accepted as global by issue 9 §4 first, then one address of every row.
 */
static void test_public_special(void **st)
{
	static const char *const found[] = {
	    "2001::1", "2001:0:4136:e378::1", "2001:20::1",  "3fff::1",   "3fff:fff:ffff::1",
	    "5f00::1", "::ffff:0:808:808",    "192.88.99.1", "192.0.0.9", "2620:4f:8000::53",
	    "4000::1"};
	struct target_rules r = {.public_mode = true};
	struct target_decision d;
	size_t n;
	const struct special_block *t = special_table(&n);

	(void)st;
	for (size_t i = 0; i < sizeof(found) / sizeof(found[0]); i++)
		decide(&r, found[i], false, "special");
	for (size_t i = 0; i < n; i++) {
		struct cidr c;
		struct addr a;

		assert_int_equal(special_cidr(&t[i], &c), 0);
		last_address(&c, &a); /* the first is often a nested block's */
		if (special_lookup(&a) != &t[i])
			continue; /* a more specific row holds it: tested there */
		if (target_decide(&r, &a, &d) || strcmp(d.code, t[i].reason->code) != 0 ||
		    strcmp(d.why_en, t[i].reason->en) != 0 ||
		    strcmp(d.why_ja, t[i].reason->ja) != 0)
			fail_msg("%s: allowed %d code %s", t[i].cidr, d.allowed, d.code);
	}
	/* Ordinary addresses next to them stay diagnosable. */
	decide(&r, "2001:200::1", true, "ok");
	decide(&r, "3fff:1000::1", true, "ok");
	decide(&r, "3ffe:ffff::1", true, "ok");
	decide(&r, "192.88.100.1", true, "ok");
	decide(&r, "::ffff:8.8.8.8", true, "ok"); /* judged as the IPv4 it is */
	decide(&r, "::ffff:198.51.100.1", false, "special");
	/* The lab's blocks: refused to a visitor, allowed when the operator names them. */
	decide(&r, "198.18.0.1", false, "special");
	decide(&r, "2001:db8::1", false, "special");
	assert_int_equal(cidr_parse("198.18.0.0/15", &r.allow[r.n_allow++]), 0);
	assert_int_equal(cidr_parse("2001:db8::/32", &r.allow[r.n_allow++]), 0);
	decide(&r, "198.18.0.1", true, "ok");
	decide(&r, "2001:db8::1", true, "ok");
	/* ...but no --allow opens a never-probed block. */
	assert_int_equal(cidr_parse("2001:20::/28", &r.allow[r.n_allow++]), 0);
	decide(&r, "2001:20::1", false, "policy");
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
	    cmocka_unit_test(test_trailing_junk),
	    cmocka_unit_test(test_control_bytes),
	    cmocka_unit_test(test_local_mode),
	    cmocka_unit_test(test_public_mode),
	    cmocka_unit_test(test_public_special),
	    cmocka_unit_test(test_lang),
	    cmocka_unit_test(test_lang_wildcard),
	    cmocka_unit_test(test_probe_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
