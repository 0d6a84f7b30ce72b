/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: ssh_parse_banner (pre-banner lines + identification line).
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
	static struct ssh_banner a, b;
	int r = ssh_parse_banner(data, size, &a);

	CHECK(r <= (int)size);
	CHECK(r == ssh_parse_banner(data, size, &b) && memcmp(&a, &b, sizeof(a)) == 0);
	CHECK(a.pre_lines <= SSH_PRE_MAX_LINES && a.pre_bytes <= SSH_PRE_MAX_TOTAL);
	for (unsigned i = 0; i < SSH_PRE_KEEP; i++)
		check_text(a.pre[i], sizeof(a.pre[i]), 0);
	check_text(a.ident.software, sizeof(a.ident.software), 0);
	check_text(a.ident.comment, sizeof(a.ident.comment), 0);
	if (r > 0)
		CHECK(data[r - 1] == '\n' && a.pre_bytes + a.ident.line_len == (size_t)r);
	return 0;
}
