/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: vnc_parse_vencrypt_version and vnc_parse_vencrypt_subtypes.
 * Asserts the parse.h invariants: consumed <= len, and
 * an identical result when the same input is parsed again.
 */
#include "probes/parse/vnc_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vnc_vencrypt_subtypes a, b;
	struct vnc_vencrypt_version v, w;
	int r = vnc_parse_vencrypt_version(data, size, &v);

	FUZZ_PARSED(r, size, vnc_parse_vencrypt_version(data, size, &w), &v, &w);
	CHECK(r == 2 || r == PARSE_AGAIN);
	r = vnc_parse_vencrypt_subtypes(data, size, &a);
	FUZZ_PARSED(r, size, vnc_parse_vencrypt_subtypes(data, size, &b), &a, &b);
	CHECK(r >= 0);
	if (r > 1)
		CHECK((unsigned)r == 2 + 4 * a.count);
	return 0;
}
