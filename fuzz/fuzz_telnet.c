/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: telnet_parse, telnet_classify, telnet_build_replies.
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/telnet_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct telnet_scan a, b;
	struct telnet_text_class c, d;
	struct telnet_answered ans = {0};
	uint8_t out[3 * 512];
	int r = telnet_parse(data, size, &a);

	FUZZ_PARSED(r, size, telnet_parse(data, size, &b), &a, &b);
	fuzz_text(a.text, sizeof(a.text), '\n');
	CHECK(strlen(a.text) == a.text_len);
	CHECK(telnet_classify(a.text, a.text_len, &c) == 0);
	CHECK(telnet_classify(a.text, a.text_len, &d) == 0 && memcmp(&c, &d, sizeof(c)) == 0);
	fuzz_text(c.banner, sizeof(c.banner), '\n');
	/* every request is answered once: a second call with the same scan writes nothing */
	r = telnet_build_replies(&a, &ans, 0, out, 2);
	CHECK(r == -ERR_TOOBIG || r == 0);
	r = telnet_build_replies(&a, &ans, TELNET_REPLY_ACCEPT_ECHO_SGA, out, sizeof(out));
	CHECK(r >= 0 && r % 3 == 0);
	for (int i = 0; i < r; i += 3)
		CHECK(out[i] == TELNET_IAC && out[i + 1] >= TELNET_WILL);
	CHECK(telnet_build_replies(&a, &ans, 0, out, sizeof(out)) == 0);
	return 0;
}
