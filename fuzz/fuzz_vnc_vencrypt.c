/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: vnc_parse_vencrypt_version and vnc_parse_vencrypt_subtypes.
 * Asserts the parse.h invariants: consumed <= len, and
 * an identical result when the same input is parsed again.
 */
#include "probes/parse/vnc_parse.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vnc_vencrypt_subtypes a, b;
	struct vnc_vencrypt_version v, w;
	int r = vnc_parse_vencrypt_version(data, size, &v);

	CHECK(r <= (int)size && (r == 2 || r == PARSE_AGAIN));
	CHECK(r == vnc_parse_vencrypt_version(data, size, &w) && memcmp(&v, &w, sizeof(v)) == 0);
	r = vnc_parse_vencrypt_subtypes(data, size, &a);
	CHECK(r >= 0 && r <= (int)size);
	CHECK(r == vnc_parse_vencrypt_subtypes(data, size, &b) && memcmp(&a, &b, sizeof(a)) == 0);
	if (r > 1)
		CHECK((unsigned)r == 2 + 4 * a.count);
	return 0;
}
