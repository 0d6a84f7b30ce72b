/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: ssh_parse_ident (SSH identification line).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/ssh_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssh_ident a, b;
	int r = ssh_parse_ident(data, size, &a);

	FUZZ_PARSED(r, size, ssh_parse_ident(data, size, &b), &a, &b);
	fuzz_text(a.proto, sizeof(a.proto), 0);
	fuzz_text(a.software, sizeof(a.software), 0);
	fuzz_text(a.comment, sizeof(a.comment), 0);
	if (r > 0) {
		CHECK((size_t)r == a.line_len && data[r - 1] == '\n');
		CHECK(a.kind < SSH_PROTO_X_MAX);
	}
	return 0;
}
