/* SPDX-License-Identifier: MIT */
/*
 * The one bounded decimal parser. Every number that arrives as text (command-line options, the
 * config file, HTTP headers and query strings, port ranges) goes through here, so that "12x",
 * "-1", " 7", "" and a value past its ceiling are refused the same way everywhere.
 */
#ifndef EXPOSURE_CORE_DECIMAL_H
#define EXPOSURE_CORE_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse s[0..len) as 1*DIGIT (no sign, no white space, leading zeros allowed) into *out.
 * Returns 0; -ERR_SYNTAX when s is NULL, empty or holds anything but digits; -ERR_RANGE when the
 * value exceeds max (checked digit by digit, so it never overflows). *out is written only on
 * success.
 */
int decimal_span_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

/* The same over a whole NUL-terminated string. */
int decimal_u64(const char *s, uint64_t max, uint64_t *out);
int decimal_u32(const char *s, uint32_t max, uint32_t *out);

/* As decimal_u32, and below min is -ERR_RANGE too. */
int decimal_u32_in(const char *s, uint32_t min, uint32_t max, uint32_t *out);

#endif
