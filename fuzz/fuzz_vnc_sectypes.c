/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: vnc_parse_sec_types (RFB 3.7/3.8 security types).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/vnc_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnc_sec_types a, b;
	int r = vnc_parse_sec_types(data, size, &a);

	FUZZ_PARSED(r, size, vnc_parse_sec_types(data, size, &b), &a, &b);
	fuzz_text(a.reason.text, sizeof(a.reason.text), 0);
	if (r > 0)
		CHECK(a.failed ? (size_t)r == 5 + a.reason.length : (unsigned)r == 1 + a.count);
	if (r == -ERR_TOOBIG)
		CHECK(a.failed && a.reason.truncated && a.reason.length > VNC_REASON_MAX);
	return 0;
}
