/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: vnc_parse_version (RFB ProtocolVersion).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/vnc_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnc_version a, b;
	int r = vnc_parse_version(data, size, &a);

	FUZZ_PARSED(r, size, vnc_parse_version(data, size, &b), &a, &b);
	fuzz_text(a.text, sizeof(a.text), 0);
	if (r > 0) {
		CHECK(r == VNC_VERSION_LEN && a.major <= 999 && a.minor <= 999);
		CHECK(a.rfb_minor == 3 || a.rfb_minor == 7 || a.rfb_minor == 8);
		CHECK(strlen(vnc_version_reply(a.rfb_minor)) == VNC_VERSION_LEN);
	}
	return 0;
}
