/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: pg_parse_ssl_answer and pg_parse_message (PostgreSQL's answer to SSLRequest and
 * its first backend message, protocol 3 or a protocol-2 error).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and printable,
 * the same result when parsed again.
 */
#include "probes/parse/pg_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_message a, b;
	char s1, s2;
	int r = pg_parse_ssl_answer(data, size, &s1);

	CHECK(r == pg_parse_ssl_answer(data, size, &s2) && s1 == s2 && r <= (int)size);
	CHECK(r != 1 || s1 == 'S' || s1 == 'N');
	r = pg_parse_message(data, size, &a);
	FUZZ_PARSED(r, size, pg_parse_message(data, size, &b), &a, &b);
	fuzz_text(a.severity, sizeof(a.severity), 0);
	fuzz_text(a.sqlstate, sizeof(a.sqlstate), 0);
	fuzz_text(a.message, sizeof(a.message), 0);
	fuzz_text(a.routine, sizeof(a.routine), 0);
	return 0;
}
