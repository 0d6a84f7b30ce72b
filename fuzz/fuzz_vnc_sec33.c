/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: vnc_parse_sec33 (RFB 3.3 security type).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/vnc_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnc_sec33 a, b;
	int r = vnc_parse_sec33(data, size, &a);

	FUZZ_PARSED(r, size, vnc_parse_sec33(data, size, &b), &a, &b);
	fuzz_text(a.reason.text, sizeof(a.reason.text), 0);
	if (r > 0)
		CHECK(a.failed ? (size_t)r == 8 + a.reason.length : r == 4);
	return 0;
}
