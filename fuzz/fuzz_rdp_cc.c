/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: rdp_parse_cc (X.224 Connection Confirm) and rdp_build_cr.
 * Asserts the parse.h invariants: consumed <= len, and
 * an identical result when the same input is parsed again.
 */
#include "probes/parse/rdp_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdp_cc a, b;
	uint8_t cr[RDP_CR_MAX];
	char cookie[RDP_COOKIE_MAX + 8];
	size_t n = size < sizeof(cookie) - 1 ? size : sizeof(cookie) - 1;
	int r = rdp_parse_cc(data, size, &a);

	FUZZ_PARSED(r, size, rdp_parse_cc(data, size, &b), &a, &b);
	if (r > 0)
		CHECK(r == a.tpkt_length && a.kind < RDP_CC_X_MAX && r >= RDP_CC_MIN);
	/* the builder with the input as cookie: either refused or a well-formed TPKT */
	memcpy(cookie, data, n);
	cookie[n] = '\0';
	r = rdp_build_cr(cr, sizeof(cr), cookie, size & 1, size > 0 ? data[0] : 0);
	CHECK(r == -ERR_RANGE || (r > 0 && (size_t)r <= sizeof(cr) && cr[0] == 3 &&
	                          (cr[2] << 8 | cr[3]) == r && cr[4] + 5 == r));
	return 0;
}
