/* SPDX-License-Identifier: MIT */
/* The space of a sweep (sweep/space.h): blocks, exclusions, ports, the policy on every address. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "sweep/space.h"

#include <stdlib.h>
#include <string.h>

static struct space *space_new(void)
{
	struct space *s = malloc(sizeof(*s));

	assert_non_null(s);
	space_init(s);
	return s;
}

static void space_del(struct space *s)
{
	space_free(s);
	free(s);
}

static void allow(struct policy *p, const char *text)
{
	struct cidr c;

	assert_int_equal(cidr_parse(text, &c), 0);
	assert_int_equal(policy_allow(p, &c), 0);
}

static void test_blocks(void **state)
{
	struct space *s = space_new();
	struct policy p;
	char err[256];

	(void)state;
	policy_init(&p);
	allow(&p, "198.18.0.0/15");
	assert_int_equal(space_add_target(s, "198.18.32.0/24", err, sizeof(err)), 0);
	assert_int_equal(space_add_target(s, "198.18.32.128/25", err, sizeof(err)), 0); /* inside */
	assert_int_equal(space_add_target(s, "198.18.10.7", err, sizeof(err)), 0);
	assert_int_equal(space_add_port(s, 22), 0);
	assert_int_equal(space_add_port(s, 445), 0);
	assert_int_equal(space_add_port(s, 22), 0); /* kept once */
	assert_int_equal(space_add_port(s, 0), -ERR_RANGE);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), 0);
	assert_int_equal(s->n_blocks, 2);
	assert_true(s->n_addrs == 257);
	assert_int_equal(s->n_ports, 2);
	assert_true(space_size(s) == 514);
	assert_true(space_addr(s, 0) == 0xc6120a07);
	assert_true(space_addr(s, 1) == 0xc6122000);
	assert_true(space_addr(s, 256) == 0xc61220ff);
	for (uint64_t i = 0; i < s->n_addrs; i++)
		assert_true(space_index(s, space_addr(s, i)) == (int64_t)i);
	assert_true(space_index(s, 0xc6122100) == -1);
	assert_true(space_index(s, 0xc6120a06) == -1);
	assert_int_equal(s->port_index[445], 2);
	assert_int_equal(s->port_index[23], 0);
	space_del(s);
}

static void test_file_and_exclude(void **state)
{
	struct space *s = space_new();
	struct policy p;
	char err[256];
	const char *targets = "# our blocks\n198.18.32.0/20  # the lab\n\n  198.18.64.1\t\n";
	const char *excl = "198.18.33.0/24\n198.18.40.7 # a printer\n";
	FILE *f;

	(void)state;
	policy_init(&p);
	allow(&p, "198.18.0.0/15");
	f = fmemopen((void *)targets, strlen(targets), "r");
	assert_int_equal(space_read(s, f, "t", false, err, sizeof(err)), 0);
	fclose(f);
	f = fmemopen((void *)excl, strlen(excl), "r");
	assert_int_equal(space_read(s, f, "x", true, err, sizeof(err)), 0);
	fclose(f);
	space_add_port(s, 80);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), 0);
	assert_true(s->n_addrs == 4097);
	assert_true(space_excluded(s, 0xc6122100));  /* 198.18.33.0 */
	assert_true(space_excluded(s, 0xc61221ff));  /* 198.18.33.255 */
	assert_false(space_excluded(s, 0xc6122200)); /* 198.18.34.0 */
	assert_true(space_excluded(s, 0xc6122807));  /* 198.18.40.7 */
	assert_false(space_excluded(s, 0xc6122806));
	space_del(s);

	s = space_new();
	f = fmemopen((void *)"198.18.0.0/15\nnot-a-block\n", 26, "r");
	assert_int_equal(space_read(s, f, "bad.txt", false, err, sizeof(err)), -ERR_SYNTAX);
	fclose(f);
	assert_non_null(strstr(err, "bad.txt:2:"));
	f = fmemopen((void *)"2001:db8::/64\n", 14, "r");
	assert_int_equal(space_read(s, f, "v6", false, err, sizeof(err)), -ERR_UNSUPPORTED);
	fclose(f);
	space_del(s);
}

/* The policy: every address checked; one outside --allow refuses the whole run. */
static void test_policy(void **state)
{
	struct space *s;
	struct policy p;
	char err[256];

	(void)state;
	s = space_new(); /* the default allows loopback only */
	policy_init(&p);
	space_add_target(s, "198.18.32.0/24", err, sizeof(err));
	space_add_port(s, 22);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), -ERR_POLICY);
	assert_non_null(strstr(err, "198.18.32.0"));
	space_del(s);

	s = space_new(); /* the last address of the block is outside the allowed /25 */
	allow(&p, "198.18.32.0/25");
	space_add_target(s, "198.18.32.0/24", err, sizeof(err));
	space_add_port(s, 22);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), -ERR_POLICY);
	assert_non_null(strstr(err, "198.18.32.128"));
	space_del(s);

	s = space_new(); /* ...unless it is excluded */
	space_add_target(s, "198.18.32.0/24", err, sizeof(err));
	{
		FILE *f = fmemopen((void *)"198.18.32.128/25\n", 17, "r");

		assert_int_equal(space_read(s, f, "x", true, err, sizeof(err)), 0);
		fclose(f);
	}
	space_add_port(s, 22);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), 0);
	space_del(s);

	s = space_new(); /* multicast never, whatever --allow says */
	policy_init(&p);
	allow(&p, "0.0.0.0/0");
	space_add_target(s, "224.0.0.0/30", err, sizeof(err));
	space_add_port(s, 22);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), -ERR_POLICY);
	space_del(s);

	s = space_new(); /* no targets, no ports */
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), -ERR_SYNTAX);
	space_del(s);
}

static void add_file(struct space *s, const char *text, bool exclude)
{
	char err[256];
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(f);
	assert_int_equal(space_read(s, f, "f", exclude, err, sizeof(err)), 0);
	fclose(f);
}

static void parse6(const char *text, uint8_t out[16])
{
	struct addr a;

	assert_int_equal(addr_parse(text, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	memcpy(out, a.bytes, 16);
}

/* IPv6 from a list of addresses (issue 13): after the IPv4 blocks, sorted, once each. */
static void test_v6_list(void **state)
{
	static const char *const order[] = {"2001:db8:5eef::1", "2001:db8:5eef::2",
	                                    "2001:db8:5eef::10", "2001:db8:5eef::13",
	                                    "2001:db8:5eef::14"};
	struct space *s = space_new();
	struct policy p;
	struct addr a;
	uint8_t b[16];
	char err[256];

	(void)state;
	policy_init(&p);
	allow(&p, "198.18.0.0/15");
	allow(&p, "2001:db8::/32");
	assert_int_equal(space_add_target(s, "2001:db8:5eef::2", err, sizeof(err)), 0);
	assert_int_equal(space_add_target(s, "2001:db8:5eef::1/128", err, sizeof(err)), 0);
	assert_int_equal(space_add_target(s, "2001:db8:5eef::2", err, sizeof(err)), 0); /* again */
	add_file(s, "2001:db8:5eef::14 # a\n198.18.32.0/30\n2001:db8:5eef::13\n2001:db8:5eef::10\n",
	         false);
	/* Excluded blocks of any width, nested ones too; none of them is allowed. */
	add_file(s, "2001:db8:5eef::10/126\n2001:db8:5eef::10/127\n3fff::/20\n", true);
	space_add_port(s, 22);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), 0);
	assert_true(s->n_addrs4 == 4);
	assert_int_equal(s->n_addrs6, 5);
	assert_true(s->n_addrs == 9);
	assert_true(space_size(s) == 9);
	assert_false(space_is_v6(s, 3));
	assert_true(space_addr(s, 3) == 0xc6122003);
	for (uint64_t i = 0; i < 5; i++) {
		parse6(order[i], b);
		assert_true(space_is_v6(s, 4 + i));
		assert_memory_equal(space_addr6(s, 4 + i), b, 16);
		assert_true(space_index6(s, b) == (int64_t)(4 + i));
		space_addr_get(s, 4 + i, &a);
		assert_int_equal(a.family, AF_INET6);
		assert_memory_equal(a.bytes, b, 16);
		/* ::10 and ::13 are inside the /126 */
		assert_int_equal(space_excluded_at(s, 4 + i), i == 2 || i == 3);
	}
	space_addr_get(s, 0, &a);
	assert_int_equal(a.family, AF_INET);
	assert_false(space_excluded_at(s, 0));
	parse6("2001:db8:5eef::3", b);
	assert_true(space_index6(s, b) == -1);
	space_del(s);

	/* IPv6 alone, no IPv4 block. */
	s = space_new();
	assert_int_equal(space_add_target(s, "2001:db8:5eef::1", err, sizeof(err)), 0);
	space_add_port(s, 22);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), 0);
	assert_true(s->n_addrs4 == 0 && s->n_addrs == 1);
	space_del(s);
}

/* Never exhaustively, never link-local; the policy on every listed address. */
static void test_v6_refused(void **state)
{
	struct space *s = space_new();
	struct policy p;
	char err[256];

	(void)state;
	assert_int_equal(space_add_target(s, "2001:db8:5eef::/120", err, sizeof(err)),
	                 -ERR_UNSUPPORTED);
	assert_non_null(strstr(err, "only from a list of addresses"));
	assert_int_equal(space_add_target(s, "fe80::1", err, sizeof(err)), -ERR_UNSUPPORTED);
	assert_non_null(strstr(err, "link-local"));
	space_del(s);

	s = space_new(); /* the default allows loopback only: ::1 yes, 2001:db8:... no */
	policy_init(&p);
	assert_int_equal(space_add_target(s, "::1", err, sizeof(err)), 0);
	assert_int_equal(space_add_target(s, "2001:db8:5eef::7", err, sizeof(err)), 0);
	space_add_port(s, 22);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), -ERR_POLICY);
	assert_non_null(strstr(err, "2001:db8:5eef::7 refused"));
	space_del(s);

	s = space_new(); /* ...unless excluded */
	assert_int_equal(space_add_target(s, "::1", err, sizeof(err)), 0);
	assert_int_equal(space_add_target(s, "2001:db8:5eef::7", err, sizeof(err)), 0);
	add_file(s, "2001:db8:5eef::/64\n", true);
	space_add_port(s, 22);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), 0);
	space_del(s);

	s = space_new(); /* multicast never, whatever --allow says */
	allow(&p, "::/0");
	assert_int_equal(space_add_target(s, "ff02::1", err, sizeof(err)), 0);
	space_add_port(s, 22);
	assert_int_equal(space_finish(s, &p, err, sizeof(err)), -ERR_POLICY);
	assert_non_null(strstr(err, "ff02::1"));
	space_del(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blocks),     cmocka_unit_test(test_file_and_exclude),
	    cmocka_unit_test(test_policy),     cmocka_unit_test(test_v6_list),
	    cmocka_unit_test(test_v6_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
