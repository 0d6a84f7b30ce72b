/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the Host allow-list (hostcheck_init, hostcheck_add_name, hostcheck_allows). The
 * first byte picks the use of the rest: a Host header against a fixed list, an --origin, or a
 * --v4-host/--v6-host name.
 * Asserts: a name accepted into the list is lower case and NUL-terminated; the Host that
 * names exactly what was accepted (the origin's authority, the family host) is then allowed;
 * every answer is the same when asked again.
 */
#include "web/hostcheck.h"

#include "fuzz.h"

#include <stdio.h>

static void lowered(const char *s, size_t size)
{
	CHECK(memchr(s, 0, size) != NULL);
	for (; *s; s++)
		CHECK(!(*s >= 'A' && *s <= 'Z'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostcheck hc;
	struct addr local;
	char *s, *origin;
	size_t n;
	int r;

	if (size < 1)
		return 0;
	s = fuzz_cstr(data + 1, size - 1);
	n = strlen(s);
	CHECK(addr_parse(data[0] & 4 ? "::1" : "127.0.0.1", &local) == 0);
	switch (data[0] % 3) {
	case 0: /* a Host header */
		CHECK(hostcheck_init(&hc, "https://scan.example.org") == 0);
		CHECK(hostcheck_add_name(&hc, "v4.example.org") == 0);
		CHECK(hostcheck_add_name(&hc, "[2001:db8::1]:8443") == 0);
		r = hostcheck_allows(&hc, s, &local, 8080);
		CHECK(r == hostcheck_allows(&hc, s, &local, 8080));
		break;
	case 1: /* an --origin */
		origin = malloc(n + sizeof("https://"));
		CHECK(origin != NULL);
		snprintf(origin, n + sizeof("https://"), "%s%s",
		         data[0] & 8 ? "https://" : "http://", s);
		r = hostcheck_init(&hc, origin);
		if (r == 0) {
			lowered(hc.origin_host, sizeof(hc.origin_host));
			CHECK(hc.origin_port != 0);
			if (n > 0 && s[n - 1] == '/')
				s[--n] = '\0';
			CHECK(hostcheck_allows(&hc, s, NULL, 0));
		}
		free(origin);
		break;
	default: /* a family host name */
		CHECK(hostcheck_init(&hc, NULL) == 0);
		r = hostcheck_add_name(&hc, s);
		if (r == 0) {
			CHECK(hc.n_names == 1 && hc.names[0].port != 0);
			lowered(hc.names[0].host, sizeof(hc.names[0].host));
			CHECK(hostcheck_allows(&hc, s, &local, 1));
		}
		break;
	}
	free(s);
	return 0;
}
