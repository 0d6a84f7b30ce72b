/* SPDX-License-Identifier: MIT */
/* Address and CIDR parsing, formatting and classification (core/addr.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/addr.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* Parse, format, and compare with the expected canonical text (NULL: must fail). */
static void check_addr(const char *in, const char *canonical)
{
	struct addr a;
	char buf[ADDR_STRLEN];
	int r = addr_parse(in, &a);

	if (canonical == NULL) {
		if (r != -ERR_SYNTAX)
			fail_msg("'%s' should be refused, got %d", in, r);
		assert_int_equal(a.family, 0); /* zeroed on failure */
		return;
	}
	if (r != 0)
		fail_msg("'%s' should parse, got %d", in, r);
	assert_true(addr_format(&a, buf, sizeof(buf)) > 0);
	if (strcmp(buf, canonical) != 0)
		fail_msg("'%s' formatted as '%s', expected '%s'", in, buf, canonical);
}

static void test_addr_good(void **state)
{
	(void)state;
	check_addr("127.0.0.1", "127.0.0.1");
	check_addr("0.0.0.0", "0.0.0.0");
	check_addr("255.255.255.255", "255.255.255.255");
	check_addr("198.18.0.2", "198.18.0.2");
	check_addr("::1", "::1");
	check_addr("[::1]", "::1");
	check_addr("2001:DB8::1", "2001:db8::1");
	check_addr("[2001:db8:0:0:0:0:0:2]", "2001:db8::2");
	check_addr("fe80::1", "fe80::1");
	/* IPv4-mapped IPv6 becomes IPv4, so the policy sees one canonical form. */
	check_addr("::ffff:127.0.0.1", "127.0.0.1");
	check_addr("[::ffff:198.18.0.1]", "198.18.0.1");
	check_addr("::ffff:7f00:1", "127.0.0.1");
}

static void test_addr_mapped_family(void **state)
{
	struct addr a;

	(void)state;
	assert_int_equal(addr_parse("::ffff:10.1.2.3", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.bytes, ((uint8_t[]){10, 1, 2, 3, 0, 0, 0, 0}), 8);
	/* Not mapped: ::10.1.2.3 (deprecated compatible form) stays IPv6. */
	assert_int_equal(addr_parse("::10.1.2.3", &a), 0);
	assert_int_equal(a.family, AF_INET6);
}

static void test_addr_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "1.2.3",
	    "1.2.3.4.5",
	    "256.0.0.1",
	    "1.2.3.-1",
	    "01.2.3.4",
	    "1.2.3.04",
	    "1..2.3",
	    ".1.2.3",
	    "1.2.3.",
	    "1.2.3.4 ",
	    " 1.2.3.4",
	    "0x7f.0.0.1",
	    "2130706433",
	    "::g",
	    ":::",
	    "1:2:3:4:5:6:7:8:9",
	    "[::1",
	    "::1]",
	    "[]",
	    "[1.2.3.4",
	    "localhost",
	    "1.2.3.4/32",
	    "fe80::1%eth0",
	    "1.2.3.4:22",
	    "1234.1.1.1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_addr(bad[i], NULL);
	struct addr a;
	assert_int_equal(addr_parse(NULL, &a), -ERR_SYNTAX);
	/* Longer than any address: refused, no overflow. */
	char longtext[200];
	memset(longtext, '1', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	check_addr(longtext, NULL);
}

static void test_addr_format_short(void **state)
{
	struct addr a;
	char small[8];

	(void)state;
	assert_int_equal(addr_parse("127.0.0.1", &a), 0);
	assert_int_equal(addr_format(&a, small, sizeof(small)), -ERR_RANGE);
}

static void test_addr_equal(void **state)
{
	struct addr a, b, c;

	(void)state;
	addr_parse("127.0.0.1", &a);
	addr_parse("::ffff:127.0.0.1", &b);
	addr_parse("::1", &c);
	assert_true(addr_equal(&a, &b));
	assert_false(addr_equal(&a, &c));
}

/* Parse a block; expect its canonical text and size, or an error code. */
static void check_cidr(const char *in, int want_r, const char *canonical, uint64_t size)
{
	struct cidr c;
	char buf[ADDR_STRLEN + 8];
	int r = cidr_parse(in, &c);

	if (r != want_r)
		fail_msg("cidr '%s': got %d, expected %d", in, r, want_r);
	if (r < 0) {
		assert_int_equal(c.base.family, 0);
		return;
	}
	assert_true(cidr_format(&c, buf, sizeof(buf)) > 0);
	if (strcmp(buf, canonical) != 0)
		fail_msg("cidr '%s' formatted '%s', expected '%s'", in, buf, canonical);
	if (cidr_size(&c) != size)
		fail_msg("cidr '%s' size %llu, expected %llu", in,
		         (unsigned long long)cidr_size(&c), (unsigned long long)size);
}

static void test_cidr(void **state)
{
	(void)state;
	check_cidr("198.18.0.0/15", 0, "198.18.0.0/15", 131072);
	check_cidr("198.18.0.0/16", 0, "198.18.0.0/16", 65536);
	check_cidr("10.0.0.0/8", 0, "10.0.0.0/8", 16777216);
	check_cidr("0.0.0.0/0", 0, "0.0.0.0/0", 4294967296ULL);
	check_cidr("127.0.0.1", 0, "127.0.0.1/32", 1);
	check_cidr("127.0.0.1/32", 0, "127.0.0.1/32", 1);
	check_cidr("2001:db8::/32", 0, "2001:db8::/32", UINT64_MAX);
	check_cidr("2001:db8::/112", 0, "2001:db8::/112", 65536);
	check_cidr("2001:db8::/111", 0, "2001:db8::/111", 131072);
	check_cidr("::/0", 0, "::/0", UINT64_MAX);
	check_cidr("::1/128", 0, "::1/128", 1);
	check_cidr("[2001:db8::]/120", 0, "2001:db8::/120", 256);
	/* A mapped block: the prefix counts from the IPv4 part. */
	check_cidr("::ffff:198.18.0.0/112", 0, "198.18.0.0/16", 65536);
	check_cidr("::ffff:198.18.0.0/96", -ERR_SYNTAX, NULL, 0); /* host bits past /0 */
	check_cidr("::ffff:0.0.0.0/95", -ERR_RANGE, NULL, 0);
	/* Host bits set: a typo, not a wish for the whole block. */
	check_cidr("10.0.0.1/8", -ERR_SYNTAX, NULL, 0);
	check_cidr("198.18.0.1/24", -ERR_SYNTAX, NULL, 0);
	check_cidr("2001:db8::1/64", -ERR_SYNTAX, NULL, 0);
	/* Prefix ranges. */
	check_cidr("1.2.3.4/33", -ERR_RANGE, NULL, 0);
	check_cidr("::/129", -ERR_RANGE, NULL, 0);
	check_cidr("1.2.3.4/99999", -ERR_RANGE, NULL, 0);
	check_cidr("1.2.3.4/", -ERR_SYNTAX, NULL, 0);
	check_cidr("1.2.3.4/-1", -ERR_SYNTAX, NULL, 0);
	check_cidr("1.2.3.4/+8", -ERR_SYNTAX, NULL, 0);
	check_cidr("1.2.3.4/8x", -ERR_SYNTAX, NULL, 0);
	check_cidr("1.2.3.4/ 8", -ERR_SYNTAX, NULL, 0);
	check_cidr("/8", -ERR_SYNTAX, NULL, 0);
	check_cidr("1.2.3/8", -ERR_SYNTAX, NULL, 0);
	check_cidr("1.2.3.0/24/1", -ERR_SYNTAX, NULL, 0);
	check_cidr("", -ERR_SYNTAX, NULL, 0);
}

static void test_cidr_contains_nth(void **state)
{
	struct cidr c;
	struct addr a, in, out;
	char buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(cidr_parse("198.18.0.0/24", &c), 0);
	assert_int_equal(addr_parse("198.18.0.255", &in), 0);
	assert_int_equal(addr_parse("198.18.1.0", &out), 0);
	assert_true(cidr_contains(&c, &in));
	assert_false(cidr_contains(&c, &out));
	assert_int_equal(cidr_nth(&c, 0, &a), 0);
	addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.0");
	assert_int_equal(cidr_nth(&c, 255, &a), 0);
	addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.255");
	assert_int_equal(cidr_nth(&c, 256, &a), -ERR_RANGE);

	assert_int_equal(cidr_parse("2001:db8::/112", &c), 0);
	assert_int_equal(cidr_nth(&c, 65535, &a), 0);
	addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::ffff");
	assert_int_equal(cidr_nth(&c, 65536, &a), -ERR_RANGE);
	/* Different family never matches. */
	assert_int_equal(addr_parse("::ffff:198.18.0.1", &a), 0);
	assert_false(cidr_contains(&c, &a));
	/* /0 holds everything of its family. */
	assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
	assert_true(cidr_contains(&c, &in));
}

struct class_case {
	const char *addr;
	enum addr_class cls;
};

static void test_classify(void **state)
{
	static const struct class_case cases[] = {
	    {"127.0.0.1", ADDR_LOOPBACK},
	    {"127.255.255.254", ADDR_LOOPBACK},
	    {"::1", ADDR_LOOPBACK},
	    {"::ffff:127.0.0.1", ADDR_LOOPBACK},
	    {"0.0.0.0", ADDR_UNSPECIFIED},
	    {"::", ADDR_UNSPECIFIED},
	    {"0.1.2.3", ADDR_THIS_NETWORK},
	    {"224.0.0.1", ADDR_MULTICAST},
	    {"239.255.255.250", ADDR_MULTICAST},
	    {"ff02::1", ADDR_MULTICAST},
	    {"255.255.255.255", ADDR_BROADCAST},
	    {"240.0.0.1", ADDR_RESERVED},
	    {"192.0.0.8", ADDR_RESERVED},
	    {"100::1", ADDR_RESERVED},
	    {"fec0::1", ADDR_RESERVED},
	    {"::1.2.3.4", ADDR_RESERVED},
	    {"10.1.2.3", ADDR_PRIVATE},
	    {"172.16.0.1", ADDR_PRIVATE},
	    {"172.31.255.255", ADDR_PRIVATE},
	    {"192.168.1.1", ADDR_PRIVATE},
	    {"fd00::2", ADDR_PRIVATE},
	    {"100.64.0.1", ADDR_SHARED},
	    {"100.127.255.255", ADDR_SHARED},
	    {"169.254.1.1", ADDR_LINK_LOCAL},
	    {"fe80::1", ADDR_LINK_LOCAL},
	    {"192.0.2.1", ADDR_DOCUMENTATION},
	    {"198.51.100.1", ADDR_DOCUMENTATION},
	    {"203.0.113.9", ADDR_DOCUMENTATION},
	    {"2001:db8::1", ADDR_DOCUMENTATION},
	    {"198.18.0.1", ADDR_BENCHMARK},
	    {"198.19.255.255", ADDR_BENCHMARK},
	    {"2001:2::1", ADDR_BENCHMARK},
	    {"64:ff9b::1.2.3.4", ADDR_TRANSLATED},
	    {"2002::1", ADDR_TRANSLATED},
	    {"8.8.8.8", ADDR_GLOBAL},
	    {"172.32.0.1", ADDR_GLOBAL},
	    {"100.128.0.1", ADDR_GLOBAL},
	    {"198.20.0.1", ADDR_GLOBAL},
	    {"2606:4700::1", ADDR_GLOBAL},
	    {"223.255.255.255", ADDR_GLOBAL},
	};
	struct addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse(cases[i].addr, &a), 0);
		enum addr_class got = addr_classify(&a);
		if (got != cases[i].cls)
			fail_msg("%s classified %s, expected %s", cases[i].addr,
			         addr_class_name(got), addr_class_name(cases[i].cls));
	}
	for (int c = 0; c < ADDR_X_MAX; c++)
		assert_string_not_equal(addr_class_name((enum addr_class)c), "unknown");
	assert_string_equal(addr_class_name(ADDR_X_MAX), "unknown");
}

static void test_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct addr a, b;
	uint16_t port = 0;

	(void)state;
	assert_int_equal(addr_parse("198.18.0.2", &a), 0);
	assert_int_equal(addr_to_sockaddr(&a, 445, &ss), sizeof(struct sockaddr_in));
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &b, &port), 0);
	assert_true(addr_equal(&a, &b));
	assert_int_equal(port, 445);
	assert_int_equal(addr_parse("2001:db8::2", &a), 0);
	assert_int_equal(addr_to_sockaddr(&a, 22, &ss), sizeof(struct sockaddr_in6));
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &b, &port), 0);
	assert_true(addr_equal(&a, &b));
	assert_int_equal(port, 22);
	/* A mapped peer (dual-stack socket) comes back as IPv4. */
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sin6, &b, NULL), 0);
	assert_int_equal(b.family, AF_INET);
	ss.ss_family = AF_UNIX;
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &b, NULL), -ERR_UNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_good),         cmocka_unit_test(test_addr_mapped_family),
	    cmocka_unit_test(test_addr_bad),          cmocka_unit_test(test_addr_format_short),
	    cmocka_unit_test(test_addr_equal),        cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_cidr_contains_nth), cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_sockaddr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
