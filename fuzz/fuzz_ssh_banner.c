/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: ssh_parse_banner (pre-banner lines + identification line).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/ssh_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ssh_banner a, b;
	int r = ssh_parse_banner(data, size, &a);

	FUZZ_PARSED(r, size, ssh_parse_banner(data, size, &b), &a, &b);
	CHECK(a.pre_lines <= SSH_PRE_MAX_LINES && a.pre_bytes <= SSH_PRE_MAX_TOTAL);
	for (unsigned i = 0; i < SSH_PRE_KEEP; i++)
		fuzz_text(a.pre[i], sizeof(a.pre[i]), 0);
	fuzz_text(a.ident.software, sizeof(a.ident.software), 0);
	fuzz_text(a.ident.comment, sizeof(a.ident.comment), 0);
	if (r > 0)
		CHECK(data[r - 1] == '\n' && a.pre_bytes + a.ident.line_len == (size_t)r);
	return 0;
}
