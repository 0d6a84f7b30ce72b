/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: mysql_parse_greeting (MySQL / MariaDB HandshakeV10 or ERR packet).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and printable,
 * the same result when parsed again.
 */
#include "probes/parse/mysql_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mysql_greeting a, b;
	int r = mysql_parse_greeting(data, size, &a);

	FUZZ_PARSED(r, size, mysql_parse_greeting(data, size, &b), &a, &b);
	fuzz_text(a.version, sizeof(a.version), 0);
	fuzz_text(a.auth_plugin, sizeof(a.auth_plugin), 0);
	fuzz_text(a.sqlstate, sizeof(a.sqlstate), 0);
	fuzz_text(a.err_msg, sizeof(a.err_msg), 0);
	if (r > 0)
		CHECK((size_t)r == 4 + a.payload_len && a.payload_len <= MYSQL_PACKET_MAX);
	return 0;
}
