/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: requester_resolve over X-Forwarded-For and RFC 7239 Forwarded values, and
 * forwarding_value_check. The first byte picks the header the trusted proxy writes; the rest is
 * the header's value, received from a trusted peer (127.0.0.1).
 * Asserts: the result is 0 or -ERR_SYNTAX; believed only from a trusted peer; on success an
 * address of a known family that formats and parses back to itself; the same value resolved
 * again gives the same answer.
 */
#include "web/requester.h"
#include "core/err.h"

#include "fuzz.h"

#include <sys/socket.h>

static struct trust trust_for(enum proxy_header h)
{
	static const char *const proxies[] = {"127.0.0.0/8", "::1/128", "198.18.0.0/15",
	                                      "2001:db8:1::/48"};
	struct trust t = {.header = h};

	for (size_t i = 0; i < sizeof(proxies) / sizeof(*proxies); i++)
		CHECK(cidr_parse(proxies[i], &t.proxies[t.n++]) == 0);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr peer, stranger, a, b, back;
	struct trust t;
	bool via_a, via_b;
	char text[ADDR_STRLEN];
	char *v;
	int r;

	if (size < 1)
		return 0;
	t = trust_for(data[0] & 1 ? PROXY_HDR_FORWARDED : PROXY_HDR_XFF);
	v = fuzz_cstr(data + 1, size - 1);
	CHECK(addr_parse("127.0.0.1", &peer) == 0 && addr_parse("192.0.2.7", &stranger) == 0);
	r = forwarding_value_check(v, strlen(v));
	CHECK(r == 0 || r == -ERR_SYNTAX);

	r = requester_resolve(&t, &peer, v, &a, &via_a);
	CHECK(r == 0 || r == -ERR_SYNTAX);
	CHECK(via_a);
	CHECK(requester_resolve(&t, &peer, v, &b, &via_b) == r && via_a == via_b);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	if (r == 0) {
		CHECK(a.family == AF_INET || a.family == AF_INET6);
		CHECK(addr_format(&a, text, sizeof(text)) >= 0);
		CHECK(addr_parse(text, &back) == 0 && addr_equal(&a, &back));
	}
	/* An untrusted peer's header is never read. */
	CHECK(requester_resolve(&t, &stranger, v, &a, &via_a) == 0 && !via_a);
	CHECK(addr_equal(&a, &stranger));
	free(v);
	return 0;
}
