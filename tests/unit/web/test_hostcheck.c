/* SPDX-License-Identifier: MIT */
/* Host names the service answers (src/web/hostcheck.h): the DNS-rebinding defence. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "web/hostcheck.h"

static struct addr A(const char *s) {
	struct addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static void
test_local_v4(void **st)
{
	struct hostcheck hc;
	struct addr lo = A("127.0.0.1");

	(void)st;
	assert_int_equal(hostcheck_init(&hc, NULL), 0);
	assert_true(hostcheck_allows(&hc, "127.0.0.1:8080", &lo, 8080));
	assert_true(hostcheck_allows(&hc, "localhost:8080", &lo, 8080));
	assert_true(hostcheck_allows(&hc, "LocalHost:8080", &lo, 8080));
	/* The rebinding request: the attacker's name, whatever it resolves to. */
	assert_false(hostcheck_allows(&hc, "rebind.attacker.example:8080", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "rebind.attacker.example", &lo, 8080));
	/* Another port, another address, a port left out that is not 80. */
	assert_false(hostcheck_allows(&hc, "127.0.0.1:8081", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "127.0.0.2:8080", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "127.0.0.1", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "localhost", &lo, 8080));
	/* Port 80 may be left out. */
	assert_true(hostcheck_allows(&hc, "127.0.0.1", &lo, 80));
	assert_true(hostcheck_allows(&hc, "localhost", &lo, 80));
	assert_true(hostcheck_allows(&hc, "localhost:80", &lo, 80));
	/* Malformed or absent. */
	assert_false(hostcheck_allows(&hc, NULL, &lo, 8080));
	assert_false(hostcheck_allows(&hc, "", &lo, 8080));
	assert_false(hostcheck_allows(&hc, ":8080", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "127.0.0.1:", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "127.0.0.1:8080x", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "127.0.0.1:0", &lo, 0));
	assert_false(hostcheck_allows(&hc, "127.0.0.1:+8080", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "127.0.0.1:99999", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "user@127.0.0.1:8080", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "localhost.:8080", &lo, 8080));
	assert_false(hostcheck_allows(&hc, " localhost:8080", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "[127.0.0.1]:8080", &lo, 8080));
	/* No local address known: only --origin could match. */
	assert_false(hostcheck_allows(&hc, "127.0.0.1:8080", NULL, 0));
}

static void test_local_v6_and_wildcard(void **st)
{
	struct hostcheck hc;
	struct addr lo6 = A("::1"), lan = A("192.0.2.10"), v6 = A("2001:db8::1");

	(void)st;
	assert_int_equal(hostcheck_init(&hc, NULL), 0);
	assert_true(hostcheck_allows(&hc, "[::1]:8080", &lo6, 8080));
	assert_true(hostcheck_allows(&hc, "[0:0::1]:8080", &lo6, 8080));
	assert_true(hostcheck_allows(&hc, "localhost:8080", &lo6, 8080));
	assert_false(hostcheck_allows(&hc, "::1:8080", &lo6, 8080));
	assert_false(hostcheck_allows(&hc, "[::1]", &lo6, 8080));
	assert_false(hostcheck_allows(&hc, "[::1]x:8080", &lo6, 8080));
	assert_false(hostcheck_allows(&hc, "[::1%25lo]:8080", &lo6, 8080));
	assert_false(hostcheck_allows(&hc, "[::1:8080", &lo6, 8080));
	/* A wildcard listener: the address the client reached, never localhost off loopback. */
	assert_true(hostcheck_allows(&hc, "192.0.2.10:8080", &lan, 8080));
	assert_false(hostcheck_allows(&hc, "localhost:8080", &lan, 8080));
	assert_false(hostcheck_allows(&hc, "127.0.0.1:8080", &lan, 8080));
	assert_true(hostcheck_allows(&hc, "[2001:DB8::1]:8080", &v6, 8080));
	assert_false(hostcheck_allows(&hc, "[2001:db8::2]:8080", &v6, 8080));
	assert_false(hostcheck_allows(&hc, "localhost:8080", &v6, 8080));
}

static void test_origin(void **st)
{
	struct hostcheck hc;
	struct addr lo = A("127.0.0.1");

	(void)st;
	assert_int_equal(hostcheck_init(&hc, "https://Exposure.Example/"), 0);
	assert_true(hostcheck_allows(&hc, "exposure.example", &lo, 8080));
	assert_true(hostcheck_allows(&hc, "exposure.example:443", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "exposure.example:80", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "exposure.example.attacker.example", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "xexposure.example", &lo, 8080));
	/* The listen address still answers (a proxy that passes its upstream's name). */
	assert_true(hostcheck_allows(&hc, "127.0.0.1:8080", &lo, 8080));
	assert_false(hostcheck_allows(&hc, "attacker.example:8080", &lo, 8080));

	assert_int_equal(hostcheck_init(&hc, "http://exposure.example:8443"), 0);
	assert_true(hostcheck_allows(&hc, "exposure.example:8443", NULL, 0));
	assert_false(hostcheck_allows(&hc, "exposure.example", NULL, 0));

	assert_int_equal(hostcheck_init(&hc, "http://[2001:db8::5]:8080"), 0);
	assert_true(hostcheck_allows(&hc, "[2001:db8::5]:8080", NULL, 0));
	assert_false(hostcheck_allows(&hc, "[2001:db8::6]:8080", NULL, 0));

	assert_int_equal(hostcheck_init(&hc, "ftp://exposure.example"), -ERR_SYNTAX);
	assert_int_equal(hostcheck_init(&hc, "exposure.example"), -ERR_SYNTAX);
	assert_int_equal(hostcheck_init(&hc, "https://"), -ERR_SYNTAX);
	assert_int_equal(hostcheck_init(&hc, "https://exposure.example/path"), -ERR_SYNTAX);
	assert_int_equal(hostcheck_init(&hc, "https://exposure.example:0"), -ERR_SYNTAX);
	assert_int_equal(hostcheck_init(&hc, "https://exposure.example:65536"), -ERR_SYNTAX);
	assert_int_equal(hostcheck_init(&hc, "https://user@exposure.example"), -ERR_SYNTAX);
	assert_int_equal(hostcheck_init(&hc, "https://[zz::1]"), -ERR_SYNTAX);
}

/* The family host names (--v4-host, --v6-host): answered with the origin scheme's port. */
static void test_family_names(void **st)
{
	struct hostcheck hc;

	(void)st;
	assert_int_equal(hostcheck_init(&hc, "https://exposure.example"), 0);
	assert_int_equal(hostcheck_add_name(&hc, "V6.exposure.example"), 0);
	assert_int_equal(hostcheck_add_name(&hc, "v4.exposure.example:8443"), 0);
	assert_int_equal(hostcheck_add_name(&hc, "third.exposure.example"), -ERR_RANGE);
	assert_true(hostcheck_allows(&hc, "v6.exposure.example", NULL, 0));
	assert_true(hostcheck_allows(&hc, "v6.exposure.example:443", NULL, 0));
	assert_false(hostcheck_allows(&hc, "v6.exposure.example:80", NULL, 0));
	assert_true(hostcheck_allows(&hc, "v4.exposure.example:8443", NULL, 0));
	assert_false(hostcheck_allows(&hc, "v4.exposure.example", NULL, 0));
	assert_false(hostcheck_allows(&hc, "third.exposure.example", NULL, 0));
	assert_true(hostcheck_allows(&hc, "exposure.example", NULL, 0));
	assert_int_equal(hostcheck_add_name(&(struct hostcheck){0}, "bad host"), -ERR_SYNTAX);
	assert_int_equal(hostcheck_add_name(&(struct hostcheck){0}, "[2001:db8::1]:8080"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_local_v4),
	    cmocka_unit_test(test_local_v6_and_wildcard),
	    cmocka_unit_test(test_origin),
	    cmocka_unit_test(test_family_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
