/* SPDX-License-Identifier: MIT */
/*
 * The special-purpose address table (core/special.h), entry by entry: for every block, its
 * class, the visitor's reason code and the registry's "globally reachable" answer, an address
 * inside it, and the addresses just before and just after it, which belong to another block
 * (named) or to none (NULL). The expected rows are written here by hand from the IANA
 * registries, not read from the table: a row dropped, added or changed there fails here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/policy.h"
#include "core/special.h"

#include <arpa/inet.h>
#include <string.h>

/*
 * An address as written, without addr_parse's unmapping of ::ffff:a.b.c.d: the table's
 * IPv4-mapped row can only be reached this way.
 */
static struct addr raw(const char *text)
{
	struct addr a = {0};

	a.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a.family, text, a.bytes) != 1)
		fail_msg("bad test address %s", text);
	return a;
}

/* The block's text of the row holding text, or NULL for an ordinary address. */
static const char *block_of(const char *text)
{
	struct addr a = raw(text);
	const struct special_block *b = special_lookup(&a);

	return b ? b->cidr : NULL;
}

struct row {
	const char *cidr;
	enum addr_class cls;
	const char *code;
	enum special_answer global;
	const char *inside;
	const char *before, *before_in; /* NULL before: the block starts the address space */
	const char *after, *after_in;   /* NULL after: the block ends it */
};

#define T  SPECIAL_TRUE
#define F  SPECIAL_FALSE
#define NA SPECIAL_NA

static const struct row rows[] = {
    /* IPv4 registry */
    {"0.0.0.0/8", ADDR_THIS_NETWORK, "special", F, "0.1.2.3", NULL, NULL, "1.0.0.0", NULL},
    {"0.0.0.0/32", ADDR_UNSPECIFIED, "special", F, "0.0.0.0", NULL, NULL, "0.0.0.1", "0.0.0.0/8"},
    {"10.0.0.0/8", ADDR_PRIVATE, "private", F, "10.1.2.3", "9.255.255.255", NULL, "11.0.0.0", NULL},
    {"100.64.0.0/10", ADDR_SHARED, "cgnat", F, "100.100.1.1", "100.63.255.255", NULL, "100.128.0.0",
     NULL},
    {"127.0.0.0/8", ADDR_LOOPBACK, "loopback", F, "127.0.0.1", "126.255.255.255", NULL, "128.0.0.0",
     NULL},
    {"169.254.0.0/16", ADDR_LINK_LOCAL, "link-local", F, "169.254.1.1", "169.253.255.255", NULL,
     "169.255.0.0", NULL},
    {"172.16.0.0/12", ADDR_PRIVATE, "private", F, "172.20.0.1", "172.15.255.255", NULL,
     "172.32.0.0", NULL},
    {"192.0.0.0/24", ADDR_RESERVED, "special", F, "192.0.0.100", "191.255.255.255", NULL,
     "192.0.1.0", NULL},
    {"192.0.0.0/29", ADDR_RESERVED, "special", F, "192.0.0.1", "191.255.255.255", NULL, "192.0.0.8",
     "192.0.0.8/32"},
    {"192.0.0.8/32", ADDR_RESERVED, "special", F, "192.0.0.8", "192.0.0.7", "192.0.0.0/29",
     "192.0.0.9", "192.0.0.9/32"},
    {"192.0.0.9/32", ADDR_ANYCAST, "special", T, "192.0.0.9", "192.0.0.8", "192.0.0.8/32",
     "192.0.0.10", "192.0.0.10/32"},
    {"192.0.0.10/32", ADDR_ANYCAST, "special", T, "192.0.0.10", "192.0.0.9", "192.0.0.9/32",
     "192.0.0.11", "192.0.0.0/24"},
    {"192.0.0.170/31", ADDR_RESERVED, "special", F, "192.0.0.171", "192.0.0.169", "192.0.0.0/24",
     "192.0.0.172", "192.0.0.0/24"},
    {"192.0.2.0/24", ADDR_DOCUMENTATION, "special", F, "192.0.2.1", "192.0.1.255", NULL,
     "192.0.3.0", NULL},
    {"192.31.196.0/24", ADDR_ANYCAST, "special", T, "192.31.196.1", "192.31.195.255", NULL,
     "192.31.197.0", NULL},
    {"192.52.193.0/24", ADDR_ANYCAST, "special", T, "192.52.193.1", "192.52.192.255", NULL,
     "192.52.194.0", NULL},
    {"192.88.99.0/24", ADDR_TRANSLATED, "special", NA, "192.88.99.1", "192.88.98.255", NULL,
     "192.88.100.0", NULL},
    {"192.168.0.0/16", ADDR_PRIVATE, "private", F, "192.168.1.1", "192.167.255.255", NULL,
     "192.169.0.0", NULL},
    {"192.175.48.0/24", ADDR_ANYCAST, "special", T, "192.175.48.6", "192.175.47.255", NULL,
     "192.175.49.0", NULL},
    {"198.18.0.0/15", ADDR_BENCHMARK, "special", F, "198.19.0.1", "198.17.255.255", NULL,
     "198.20.0.0", NULL},
    {"198.51.100.0/24", ADDR_DOCUMENTATION, "special", F, "198.51.100.1", "198.51.99.255", NULL,
     "198.51.101.0", NULL},
    {"203.0.113.0/24", ADDR_DOCUMENTATION, "special", F, "203.0.113.9", "203.0.112.255", NULL,
     "203.0.114.0", NULL},
    {"240.0.0.0/4", ADDR_RESERVED, "special", F, "250.1.2.3", "239.255.255.255", "224.0.0.0/4",
     NULL, NULL},
    {"255.255.255.255/32", ADDR_BROADCAST, "special", F, "255.255.255.255", "255.255.255.254",
     "240.0.0.0/4", NULL, NULL},

    /* IPv6 registry */
    {"::1/128", ADDR_LOOPBACK, "loopback", F, "::1", "::", "::/128", "::2", "::/96"},
    {"::/128", ADDR_UNSPECIFIED, "special", F, "::", NULL, NULL, "::1", "::1/128"},
    {"::ffff:0:0/96", ADDR_TRANSLATED, "special", F, "::ffff:1.2.3.4", "::fffe:ffff:ffff", "::/3",
     "::1:0:0:0", "::/3"},
    {"64:ff9b::/96", ADDR_TRANSLATED, "special", T, "64:ff9b::808:808",
     "64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", "::/3", "64:ff9b::1:0:0", "::/3"},
    {"64:ff9b:1::/48", ADDR_TRANSLATED, "special", F, "64:ff9b:1::1",
     "64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "::/3", "64:ff9b:2::", "::/3"},
    {"100::/64", ADDR_RESERVED, "special", F, "100::1", "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
     "::/3", "100:0:0:1::", "100:0:0:1::/64"},
    {"100:0:0:1::/64", ADDR_RESERVED, "special", F, "100:0:0:1::1", "100::ffff:ffff:ffff:ffff",
     "100::/64", "100:0:0:2::", "::/3"},
    {"2001::/23", ADDR_RESERVED, "special", F, "2001:100::1",
     "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, "2001:200::", NULL},
    {"2001::/32", ADDR_TRANSLATED, "special", NA, "2001:0:4136:e378:8000:63bf:3fff:fdd2",
     "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, "2001:1::", "2001::/23"},
    {"2001:1::1/128", ADDR_ANYCAST, "special", T, "2001:1::1", "2001:1::", "2001::/23", "2001:1::2",
     "2001:1::2/128"},
    {"2001:1::2/128", ADDR_ANYCAST, "special", T, "2001:1::2", "2001:1::1", "2001:1::1/128",
     "2001:1::3", "2001:1::3/128"},
    {"2001:1::3/128", ADDR_ANYCAST, "special", T, "2001:1::3", "2001:1::2", "2001:1::2/128",
     "2001:1::4", "2001::/23"},
    {"2001:2::/48", ADDR_BENCHMARK, "special", F, "2001:2::1",
     "2001:1:ffff:ffff:ffff:ffff:ffff:ffff", "2001::/23", "2001:2:1::", "2001::/23"},
    {"2001:3::/32", ADDR_ANYCAST, "special", T, "2001:3::1", "2001:2:ffff:ffff:ffff:ffff:ffff:ffff",
     "2001::/23", "2001:4::", "2001::/23"},
    {"2001:4:112::/48", ADDR_ANYCAST, "special", T, "2001:4:112::1",
     "2001:4:111:ffff:ffff:ffff:ffff:ffff", "2001::/23", "2001:4:113::", "2001::/23"},
    {"2001:10::/28", ADDR_RESERVED, "special", NA, "2001:10::1",
     "2001:f:ffff:ffff:ffff:ffff:ffff:ffff", "2001::/23", "2001:20::", "2001:20::/28"},
    {"2001:20::/28", ADDR_RESERVED, "special", T, "2001:20::1",
     "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", "2001:10::/28", "2001:30::", "2001:30::/28"},
    {"2001:30::/28", ADDR_RESERVED, "special", T, "2001:30::1",
     "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", "2001:20::/28", "2001:40::", "2001::/23"},
    {"2001:db8::/32", ADDR_DOCUMENTATION, "special", F, "2001:db8::1",
     "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL, "2001:db9::", NULL},
    {"2002::/16", ADDR_TRANSLATED, "special", NA, "2002:c000:204::1",
     "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, "2003::", NULL},
    {"2620:4f:8000::/48", ADDR_ANYCAST, "special", T, "2620:4f:8000::42",
     "2620:4f:7fff:ffff:ffff:ffff:ffff:ffff", NULL, "2620:4f:8001::", NULL},
    {"3fff::/20", ADDR_DOCUMENTATION, "special", F, "3fff::1",
     "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, "3fff:1000::", NULL},
    {"5f00::/16", ADDR_RESERVED, "special", F, "5f00::1", "5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
     "4000::/2", "5f01::", "4000::/2"},
    {"fc00::/7", ADDR_PRIVATE, "private", F, "fd00::1", "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
     "8000::/1", "fe00::", "8000::/1"},
    {"fe80::/10", ADDR_LINK_LOCAL, "link-local", F, "fe80::1",
     "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1", "fec0::", "fec0::/10"},

    /* outside the registries */
    {"224.0.0.0/4", ADDR_MULTICAST, "special", NA, "239.255.255.250", "223.255.255.255", NULL,
     "240.0.0.0", "240.0.0.0/4"},
    {"ff00::/8", ADDR_MULTICAST, "special", NA, "ff02::1",
     "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::/10", NULL, NULL},
    {"::/96", ADDR_RESERVED, "special", NA, "::1.2.3.4", NULL, NULL, "::1:0:0", "::/3"},
    {"::ffff:0:0:0/96", ADDR_TRANSLATED, "special", NA, "::ffff:0:102:304", "::fffe:ffff:ffff:ffff",
     "::/3", "::1:0:0:0:0", "::/3"},
    {"fec0::/10", ADDR_RESERVED, "special", NA, "fec0::1",
     "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::/10", "ff00::", "ff00::/8"},
    {"::/3", ADDR_RESERVED, "special", NA, "1::1", NULL, NULL, "2000::", NULL},
    {"4000::/2", ADDR_RESERVED, "special", NA, "4000::1", "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
     NULL, "8000::", "8000::/1"},
    {"8000::/1", ADDR_RESERVED, "special", NA, "8000::1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
     "4000::/2", NULL, NULL},
};

#undef T
#undef F
#undef NA

static const struct special_block *find(const char *cidr)
{
	size_t n;
	const struct special_block *t = special_table(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].cidr, cidr) == 0)
			return &t[i];
	return NULL;
}

static void expect_in(const char *addr, const char *want, const char *what)
{
	const char *got = block_of(addr);

	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
		fail_msg("%s (%s): in %s, expected %s", addr, what, got ? got : "no block",
		         want ? want : "no block");
}

/* Every row of the table is one of ours, and every one of ours is in the table. */
static void test_rows_match_table(void **state)
{
	size_t n;

	(void)state;
	special_table(&n);
	assert_int_equal(n, sizeof(rows) / sizeof(rows[0]));
	for (size_t i = 0; i < n; i++) {
		const struct special_block *b = find(rows[i].cidr);

		if (!b)
			fail_msg("%s missing from the table", rows[i].cidr);
		if (b->cls != rows[i].cls || strcmp(b->reason->code, rows[i].code) != 0 ||
		    b->global != rows[i].global)
			fail_msg("%s: class %s code %s global %s, expected %s %s %s", rows[i].cidr,
			         addr_class_name(b->cls), b->reason->code,
			         special_answer_name(b->global), addr_class_name(rows[i].cls),
			         rows[i].code, special_answer_name(rows[i].global));
	}
}

/* Each block: an address inside is in it, the addresses just outside are not. */
static void test_each_block(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		expect_in(r->inside, r->cidr, "inside");
		if (r->before)
			expect_in(r->before, r->before_in, "just before");
		if (r->after)
			expect_in(r->after, r->after_in, "just after");
	}
}

/* Every row parses, names its block and source, and explains itself in both languages. */
static void test_rows_well_formed(void **state)
{
	size_t n;
	const struct special_block *t = special_table(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		struct cidr c;
		unsigned bits;

		if (special_cidr(&t[i], &c) != 0)
			fail_msg("row %zu: %s does not parse", i, t[i].cidr);
		/* Host bits clear: the text is the block's own base, not an address inside it. */
		bits = c.base.family == AF_INET ? 32 : 128;
		for (unsigned b = c.prefix; b < bits; b++)
			if (c.base.bytes[b / 8] & (0x80 >> (b % 8)))
				fail_msg("row %zu: %s has host bits set", i, t[i].cidr);
		assert_true(strlen(t[i].name) > 2);
		assert_non_null(strstr(t[i].rfc, "RFC "));
		assert_true(strlen(t[i].reason->en) > 40);
		assert_true(strlen(t[i].reason->ja) > 40);
		if (!t[i].registry) {
			assert_int_equal(t[i].global, SPECIAL_NA);
			assert_int_equal(t[i].forwardable, SPECIAL_NA);
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(t[i].cidr, t[j].cidr) == 0)
				fail_msg("%s listed twice", t[i].cidr);
	}
	assert_string_equal(special_answer_name(SPECIAL_TRUE), "yes");
	assert_string_equal(special_answer_name(SPECIAL_FALSE), "no");
	assert_string_equal(special_answer_name(SPECIAL_NA), "n/a");
}

/* A few registry answers, as IANA writes them. */
static void test_registry_answers(void **state)
{
	(void)state;
	assert_int_equal(find("192.88.99.0/24")->global, SPECIAL_NA);
	assert_int_equal(find("2001::/32")->global, SPECIAL_NA);
	assert_int_equal(find("2001::/32")->forwardable, SPECIAL_TRUE);
	assert_int_equal(find("127.0.0.0/8")->forwardable, SPECIAL_FALSE);
	assert_int_equal(find("fe80::/10")->forwardable, SPECIAL_FALSE);
	assert_int_equal(find("10.0.0.0/8")->forwardable, SPECIAL_TRUE);
	assert_int_equal(find("64:ff9b::/96")->global, SPECIAL_TRUE);
	assert_int_equal(find("64:ff9b:1::/48")->global, SPECIAL_FALSE);
	assert_true(find("3fff::/20")->registry);
	assert_false(find("224.0.0.0/4")->registry);
}

/*
 * The blocks the issue found accepted as global; an address written as IPv4-mapped is judged
 * as the IPv4 inside (addr_parse unmaps it), and ordinary addresses stay ordinary.
 */
static void test_classify(void **state)
{
	static const struct {
		const char *addr;
		enum addr_class cls;
	} cases[] = {
	    {"2001::1", ADDR_TRANSLATED},
	    {"2001:20::1", ADDR_RESERVED},
	    {"3fff::1", ADDR_DOCUMENTATION},
	    {"5f00::1", ADDR_RESERVED},
	    {"::ffff:0:808:808", ADDR_TRANSLATED},
	    {"192.88.99.1", ADDR_TRANSLATED},
	    {"::ffff:198.51.100.1", ADDR_DOCUMENTATION},
	    {"::ffff:8.8.8.8", ADDR_GLOBAL},
	    {"::ffff:127.0.0.1", ADDR_LOOPBACK},
	    {"8.8.8.8", ADDR_GLOBAL},
	    {"2606:4700::1", ADDR_GLOBAL},
	    {"2a00:1450::1", ADDR_GLOBAL},
	    {"3ffe:ffff::1", ADDR_GLOBAL},
	    {"192.0.1.1", ADDR_GLOBAL},
	};
	struct addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse(cases[i].addr, &a), 0);
		if (addr_classify(&a) != cases[i].cls)
			fail_msg("%s: %s, expected %s", cases[i].addr,
			         addr_class_name(addr_classify(&a)), addr_class_name(cases[i].cls));
	}
}

/*
 * The core policy reads the same table: the lab's blocks stay allowed by an explicit --allow,
 * the never-probed classes stay refused even under --allow ::/0, naming their block.
 */
static void test_policy_uses_table(void **state)
{
	static const char *const allowed[] = {"198.18.0.1", "2001:db8::1", "2001::1",
	                                      "192.0.0.9",  "3fff::1",     "2001:2::1"};
	static const char *const never[] = {"2001:20::1", "5f00::1", "2001:100::1", "100:0:0:1::1",
	                                    "192.0.0.8",  "4000::1", "2001:30::1"};
	struct policy p;
	struct policy_decision d;
	struct cidr c;
	struct addr a;
	char buf[256];

	(void)state;
	policy_init(&p);
	assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(policy_allow(&p, &c), 0);
	assert_int_equal(cidr_parse("::/0", &c), 0);
	assert_int_equal(policy_allow(&p, &c), 0);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		assert_int_equal(addr_parse(allowed[i], &a), 0);
		if (!policy_check(&p, &a, &d))
			fail_msg("%s refused under --allow", allowed[i]);
	}
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		assert_int_equal(addr_parse(never[i], &a), 0);
		if (policy_check(&p, &a, &d) || d.rule != POLICY_DENIED_ALWAYS)
			fail_msg("%s allowed under --allow", never[i]);
		policy_explain(&p, &a, &d, buf, sizeof(buf));
		assert_non_null(d.special);
		assert_non_null(strstr(buf, d.special->name));
		assert_non_null(strstr(buf, d.special->rfc));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows_match_table), cmocka_unit_test(test_each_block),
	    cmocka_unit_test(test_rows_well_formed), cmocka_unit_test(test_registry_answers),
	    cmocka_unit_test(test_classify),         cmocka_unit_test(test_policy_uses_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
