/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: vnc_parse_version (RFB ProtocolVersion).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/vnc_parse.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

/* NUL-terminated within size, printable ASCII before the NUL (plus extra, when not 0). */
static void check_text(const char *s, size_t size, char extra)
{
	const char *nul = memchr(s, 0, size);

	CHECK(nul);
	for (const char *p = s; p < nul; p++)
		CHECK((*p >= 0x20 && *p < 0x7f) || (extra && *p == extra));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnc_version a, b;
	int r = vnc_parse_version(data, size, &a);

	CHECK(r <= (int)size);
	CHECK(r == vnc_parse_version(data, size, &b) && memcmp(&a, &b, sizeof(a)) == 0);
	check_text(a.text, sizeof(a.text), 0);
	if (r > 0) {
		CHECK(r == VNC_VERSION_LEN && a.major <= 999 && a.minor <= 999);
		CHECK(a.rfb_minor == 3 || a.rfb_minor == 7 || a.rfb_minor == 8);
		CHECK(strlen(vnc_version_reply(a.rfb_minor)) == VNC_VERSION_LEN);
	}
	return 0;
}
