/* SPDX-License-Identifier: MIT */
/* Shared helpers of the pure parsers (parse.h). */
#include "probes/parse/parse.h"

bool parse_copy_text(char *dst, size_t size, const uint8_t *src, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[n] = '\0';
	return n < len;
}
