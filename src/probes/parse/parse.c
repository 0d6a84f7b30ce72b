/* SPDX-License-Identifier: MIT */
/* Shared helpers of the pure parsers (parse.h). */
#include "probes/parse/parse.h"

#include <string.h>

bool parse_copy_text(char *dst, size_t size, const uint8_t *src, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[n] = '\0';
	return n < len;
}

bool parse_contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = hay; *p; p++) {
		size_t i = 0;

		while (i < n && p[i] && (p[i] | 0x20) == (needle[i] | 0x20))
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* What each server's refusal page says (PROBES.md, "Plain HTTP on a TLS port", with sources). */
static const char *const tls_refusals[] = {
    "The plain HTTP request was sent to HTTPS port",     /* nginx (its code 497) */
    "speaking plain HTTP to an SSL-enabled server port", /* Apache httpd mod_ssl */
    "Client sent an HTTP request to an HTTPS server",    /* Go net/http */
    "The client sent a plain HTTP request",              /* CherryPy cheroot */
};

bool parse_http_wants_tls(const uint8_t *buf, size_t len)
{
	if (len >= 3 && (buf[0] == 0x15 || buf[0] == 0x16) && buf[1] == 3)
		return true;
	for (size_t i = 0; i < sizeof(tls_refusals) / sizeof(tls_refusals[0]); i++)
		if (len > 0 && memmem(buf, len, tls_refusals[i], strlen(tls_refusals[i])) != NULL)
			return true;
	return false;
}
