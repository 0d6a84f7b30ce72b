/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: es_parse_head, then es_parse_body on what follows the head (Elasticsearch's
 * answer to GET /), es_parse_body on the whole input, and parse_http_wants_tls (a TLS port's
 * refusal of the clear-text GET).
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and printable,
 * the same result when parsed again.
 */
#include "probes/parse/es_parse.h"

#include "fuzz.h"

static void body(const uint8_t *data, size_t size)
{
	static struct es_info a, b;
	int r = es_parse_body(data, size, &a);

	FUZZ_PARSED(r, size, es_parse_body(data, size, &b), &a, &b);
	fuzz_text(a.cluster_name, sizeof(a.cluster_name), 0);
	fuzz_text(a.name, sizeof(a.name), 0);
	fuzz_text(a.version, sizeof(a.version), 0);
	fuzz_text(a.distribution, sizeof(a.distribution), 0);
	fuzz_text(a.tagline, sizeof(a.tagline), 0);
	fuzz_text(a.error_type, sizeof(a.error_type), 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct es_http a, b;
	int r = es_parse_head(data, size, &a);

	FUZZ_PARSED(r, size, es_parse_head(data, size, &b), &a, &b);
	fuzz_text(a.reason, sizeof(a.reason), 0);
	fuzz_text(a.www_auth, sizeof(a.www_auth), 0);
	fuzz_text(a.server, sizeof(a.server), 0);
	if (r > 0)
		body(data + r, size - (size_t)r);
	body(data, size);
	/* the TLS-refusal test of the clear-text answer (elasticsearch.c): more bytes never unsee
	 * one */
	CHECK(!parse_http_wants_tls(data, size / 2) || parse_http_wants_tls(data, size));
	return 0;
}
