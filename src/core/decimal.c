/* SPDX-License-Identifier: MIT */
/* The bounded decimal parser (decimal.h). */
#include "core/decimal.h"
#include "core/err.h"

#include <string.h>

int decimal_span_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	int r = 0;

	if (s == NULL || len == 0)
		return -ERR_SYNTAX;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -ERR_SYNTAX;
		d = (unsigned)(s[i] - '0');
		/* Keep reading after an overflow: a non-digit later is a syntax error, not a range
		 * one. */
		if (r == 0 && (v > (max - d) / 10 || v * 10 + d > max))
			r = -ERR_RANGE;
		if (r == 0)
			v = v * 10 + d;
	}
	if (r < 0)
		return r;
	*out = v;
	return 0;
}

int decimal_u64(const char *s, uint64_t max, uint64_t *out)
{
	return decimal_span_u64(s, s ? strlen(s) : 0, max, out);
}

int decimal_u32(const char *s, uint32_t max, uint32_t *out)
{
	return decimal_u32_in(s, 0, max, out);
}

int decimal_u32_in(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int r = decimal_u64(s, max, &v);

	if (r < 0)
		return r;
	if (v < min)
		return -ERR_RANGE;
	*out = (uint32_t)v;
	return 0;
}
