/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: redis_parse_reply and redis_parse_info (Redis RESP2 replies, INFO text).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and printable, a
 * bulk payload inside the bytes consumed, and the same result when parsed again.
 */
#include "probes/parse/redis_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct redis_reply a, b;
	struct redis_info ia, ib;
	int r = redis_parse_reply(data, size, &a);

	FUZZ_PARSED(r, size, redis_parse_reply(data, size, &b), &a, &b);
	fuzz_text(a.text, sizeof(a.text), 0);
	if (r > 0 && a.type == '$' && a.length >= 0)
		CHECK(a.data_off + a.data_len + 2 == (size_t)r);
	r = redis_parse_info(data, size, &ia);
	FUZZ_PARSED(r, size, redis_parse_info(data, size, &ib), &ia, &ib);
	fuzz_text(ia.version, sizeof(ia.version), 0);
	fuzz_text(ia.mode, sizeof(ia.mode), 0);
	fuzz_text(ia.os, sizeof(ia.os), 0);
	return 0;
}
