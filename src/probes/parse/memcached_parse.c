/* SPDX-License-Identifier: MIT */
/* memcached's text protocol lines and UDP frame header (memcached_parse.h). */
#include "probes/parse/memcached_parse.h"

#include <string.h>

static bool starts(const uint8_t *l, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && memcmp(l, word, w) == 0 && (n == w || l[w] == ' ');
}

int memcached_parse_line(const uint8_t *buf, size_t len, struct memcached_line *out)
{
	size_t scan = len < MEMCACHED_LINE_MAX ? len : MEMCACHED_LINE_MAX;
	const uint8_t *lf = memchr(buf, '\n', scan);
	size_t n, used;
	const char *words[] = {"VERSION", "ERROR", "CLIENT_ERROR", "SERVER_ERROR"};

	memset(out, 0, sizeof(*out));
	if (lf == NULL)
		return len >= MEMCACHED_LINE_MAX ? -ERR_TOOBIG : PARSE_AGAIN;
	used = (size_t)(lf - buf) + 1;
	n = used - 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	out->kind = MEMCACHED_OTHER;
	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
		size_t w = strlen(words[k]);

		if (!starts(buf, n, words[k]))
			continue;
		out->kind = (enum memcached_line_kind)(MEMCACHED_VERSION + k);
		if (n > w + 1)
			out->truncated =
			    parse_copy_text(out->text, sizeof(out->text), buf + w + 1, n - w - 1);
		return (int)used;
	}
	out->truncated = parse_copy_text(out->text, sizeof(out->text), buf, n);
	return (int)used;
}

void memcached_udp_request_hdr(uint8_t out[MEMCACHED_UDP_HDR], uint16_t request_id)
{
	out[0] = (uint8_t)(request_id >> 8);
	out[1] = (uint8_t)request_id;
	out[2] = 0; /* sequence number */
	out[3] = 0;
	out[4] = 0; /* datagrams in this message */
	out[5] = 1;
	out[6] = 0; /* reserved */
	out[7] = 0;
}

int memcached_udp_parse_hdr(const uint8_t *buf, size_t len, struct memcached_udp_hdr *out)
{
	memset(out, 0, sizeof(*out));
	if (len < MEMCACHED_UDP_HDR)
		return -ERR_SYNTAX;
	out->request_id = parse_be16(buf);
	out->seq = parse_be16(buf + 2);
	out->total = parse_be16(buf + 4);
	out->reserved = parse_be16(buf + 6);
	if (out->total == 0 || out->seq >= out->total || out->reserved != 0)
		return -ERR_SYNTAX;
	return MEMCACHED_UDP_HDR;
}
