/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: rsync_parse_line (the rsync daemon's greeting, module list and answers), first
 * as the greeting, then line after line as the probe reads them.
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/rsync_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool greeting = true;

	for (int i = 0; i < 64; i++) {
		struct rsync_line a, b;
		int r = rsync_parse_line(data, size, greeting, &a);

		FUZZ_PARSED(r, size, rsync_parse_line(data, size, greeting, &b), &a, &b);
		fuzz_text(a.name, sizeof(a.name), 0);
		fuzz_text(a.comment, sizeof(a.comment), 0);
		fuzz_text(a.text, sizeof(a.text), 0);
		if (r <= 0)
			break;
		CHECK(r <= RSYNC_LINE_MAX && data[r - 1] == '\n');
		CHECK(!greeting || a.kind == RSYNC_LINE_GREETING);
		data += r;
		size -= (size_t)r;
		greeting = false;
	}
	return 0;
}
