/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: http_parse_head, nas_scan and parse_http_wants_tls (the NAS admin check's parsers),
 * on the input as a response: the head, then the markers of its body. Asserts the parse.h
 * invariants: consumed <= len, text fields NUL-terminated and free of control characters, identical
 * results when parsed again.
 */
#include "probes/parse/nas_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nas_page a, b;
	struct http_head ha, hb;
	int r = http_parse_head(data, size, &ha);
	size_t off = r > 0 ? (size_t)r : 0;

	FUZZ_PARSED(r, size, http_parse_head(data, size, &hb), &ha, &hb);
	fuzz_text(ha.server, sizeof(ha.server), 0);
	fuzz_text(ha.location, sizeof(ha.location), 0);
	CHECK(r <= 0 || (r >= 16 && r <= HTTP_HEAD_MAX + 4));
	nas_scan(data + off, size - off, &a);
	nas_scan(data + off, size - off, &b);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	fuzz_text(a.device_name, sizeof(a.device_name), 0);
	fuzz_text(a.model, sizeof(a.model), 0);
	fuzz_text(a.firmware, sizeof(a.firmware), 0);
	fuzz_text(a.build, sizeof(a.build), 0);
	CHECK(parse_http_wants_tls(data, size) == parse_http_wants_tls(data, size));
	/* a refusal seen in the first bytes stays seen when more arrive */
	CHECK(!parse_http_wants_tls(data, size / 2) || parse_http_wants_tls(data, size));
	return 0;
}
