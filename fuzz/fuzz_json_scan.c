/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: json_scan_member, the validating scan of a stored document. The first byte picks
 * the member looked for.
 * Asserts: 0, -ENOENT or -ERR_SYNTAX, *out untouched on an error; a span found lies inside the
 * text, and put back alone as {"k": SPAN} scans again to the same length and element count (what
 * the scan hands out is JSON); the same text scanned again gives the same span.
 */
#include "web/json_scan.h"
#include "core/err.h"

#include "fuzz.h"

#include <errno.h>

static const char *const keys[] = {"checks", "result", "schema", "targets", "k", ""};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct json_span untouched = {(const char *)1, 7, 9};
	struct json_span a = untouched, b = untouched, c;
	const char *key, *s = (const char *)data + 1;
	size_t len, wlen;
	char *wrap;
	int r;

	if (size < 1)
		return 0;
	key = keys[data[0] % (sizeof(keys) / sizeof(*keys))];
	len = size - 1;
	r = json_scan_member(s, len, key, &a);
	CHECK(r == 0 || r == -ENOENT || r == -ERR_SYNTAX);
	CHECK(json_scan_member(s, len, key, &b) == r && memcmp(&a, &b, sizeof(a)) == 0);
	if (r < 0) {
		CHECK(memcmp(&a, &untouched, sizeof(a)) == 0);
		return 0;
	}
	CHECK(a.p >= s && a.len > 0 && a.len <= len && (size_t)(a.p - s) <= len - a.len);
	wlen = a.len + 6;
	wrap = malloc(wlen);
	CHECK(wrap != NULL);
	memcpy(wrap, "{\"k\":", 5);
	memcpy(wrap + 5, a.p, a.len);
	wrap[wlen - 1] = '}';
	CHECK(json_scan_member(wrap, wlen, "k", &c) == 0);
	CHECK(c.p == wrap + 5 && c.len == a.len && c.n_elems == a.n_elems);
	free(wrap);
	return 0;
}
