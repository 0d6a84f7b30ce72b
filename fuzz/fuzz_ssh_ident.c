/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: ssh_parse_ident (SSH identification line).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/ssh_parse.h"

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
	struct ssh_ident a, b;
	int r = ssh_parse_ident(data, size, &a);

	CHECK(r <= (int)size);
	CHECK(r == ssh_parse_ident(data, size, &b) && memcmp(&a, &b, sizeof(a)) == 0);
	check_text(a.proto, sizeof(a.proto), 0);
	check_text(a.software, sizeof(a.software), 0);
	check_text(a.comment, sizeof(a.comment), 0);
	if (r > 0) {
		CHECK((size_t)r == a.line_len && data[r - 1] == '\n');
		CHECK(a.kind < SSH_PROTO_X_MAX);
	}
	return 0;
}
