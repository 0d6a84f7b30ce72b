/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the bounded decimal parser (core/decimal.h). The first 8 bytes are the maximum,
 * the rest the text.
 * Asserts against a plain reference: -ERR_SYNTAX exactly when the text is empty or holds a
 * non-digit, else -ERR_RANGE exactly when the value exceeds the maximum, else that value; the
 * NUL-terminated forms and the u32 ones agree with the span form.
 */
#include "core/decimal.h"
#include "core/err.h"

#include "fuzz.h"

/* The reference: digits only; the value saturated past UINT64_MAX (*big set). */
static int reference(const char *s, size_t len, uint64_t *v, int *big)
{
	*v = 0;
	*big = 0;
	if (len == 0)
		return -ERR_SYNTAX;
	for (size_t i = 0; i < len; i++) {
		unsigned __int128 w;

		if (s[i] < '0' || s[i] > '9')
			return -ERR_SYNTAX;
		w = (unsigned __int128)*v * 10 + (unsigned)(s[i] - '0');
		if (w > UINT64_MAX)
			*big = 1;
		else
			*v = (uint64_t)w;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t max = 0, v, want, v64;
	uint32_t v32, min32;
	const char *s = (const char *)data + 8;
	size_t len;
	int r, ref, big;
	char *z;

	if (size < 8)
		return 0;
	for (int i = 0; i < 8; i++)
		max = max << 8 | data[i];
	len = size - 8;
	r = decimal_span_u64(s, len, max, &v);
	ref = reference(s, len, &want, &big);
	if (ref < 0)
		CHECK(r == -ERR_SYNTAX);
	else if (big || want > max)
		CHECK(r == -ERR_RANGE);
	else
		CHECK(r == 0 && v == want);

	/* The C-string forms read up to the first NUL. */
	z = fuzz_cstr((const uint8_t *)s, len);
	len = strlen(z);
	r = decimal_span_u64(z, len, max, &v);
	CHECK(decimal_u64(z, max, &v64) == r && (r < 0 || v64 == v));
	min32 = (uint32_t)(max >> 32);
	r = decimal_span_u64(z, len, (uint32_t)max, &v);
	CHECK(decimal_u32(z, (uint32_t)max, &v32) == r && (r < 0 || v32 == v));
	if (decimal_u32_in(z, min32, (uint32_t)max, &v32) == 0)
		CHECK(r == 0 && v32 == v && v32 >= min32);
	else
		CHECK(r < 0 || v < min32);
	free(z);
	return 0;
}
