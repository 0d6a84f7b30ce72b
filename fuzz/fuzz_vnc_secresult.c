/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: vnc_parse_sec_result (SecurityResult, RFB 3.3/3.7 and 3.8).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/vnc_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnc_sec_result a, b;
	const unsigned minors[3] = {3, 7, 8};

	for (int i = 0; i < 3; i++) {
		int r = vnc_parse_sec_result(data, size, minors[i], &a);

		FUZZ_PARSED(r, size, vnc_parse_sec_result(data, size, minors[i], &b), &a, &b);
		fuzz_text(a.reason.text, sizeof(a.reason.text), 0);
		if (r > 0)
			CHECK(a.has_reason ? (size_t)r == 8 + a.reason.length : r == 4);
	}
	return 0;
}
