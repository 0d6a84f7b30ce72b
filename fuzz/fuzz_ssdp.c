/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: ssdp_parse_reply, ssdp_is_discovery (one answer datagram to M-SEARCH).
 * Asserts the parse.h invariants: the datagram is taken whole or refused, every header value
 * NUL-terminated and printable, and the same result when parsed again.
 */
#include "probes/parse/ssdp_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ssdp_reply a, b;
	int r = ssdp_parse_reply(data, size, &a);

	FUZZ_PARSED(r, size, ssdp_parse_reply(data, size, &b), &a, &b);
	CHECK(r < 0 || (size_t)r == size);
	CHECK(r == -ERR_SYNTAX || r == -ERR_TOOBIG || r > 0);
	fuzz_text(a.reason, sizeof(a.reason), 0);
	fuzz_text(a.location, sizeof(a.location), 0);
	fuzz_text(a.server, sizeof(a.server), 0);
	fuzz_text(a.st, sizeof(a.st), 0);
	fuzz_text(a.usn, sizeof(a.usn), 0);
	fuzz_text(a.cache_control, sizeof(a.cache_control), 0);
	CHECK(a.lines <= SSDP_LINES_MAX + 1);
	if (r > 0)
		CHECK(a.status >= 100 && a.status <= 999);
	CHECK(!ssdp_is_discovery(&a) || a.status == 200);
	return 0;
}
