/* SPDX-License-Identifier: MIT */
/*
 * Peer text made safe for a terminal (cli.h). Whatever a probed host sent (banners, names) can
 * hold escape sequences that move the cursor, rewrite the title or fake our own output, and
 * bidirectional overrides that reorder what is shown (CVE-2021-42574). Everything that is not
 * printable, valid UTF-8 is written as an escape instead; a backslash is doubled so an escape
 * in the output always came from us.
 */
#include "cli/cli.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decode one UTF-8 sequence (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, c = s[0] & 0x1fu, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0fu, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, c = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Code points shown as \u escapes although valid: C1 controls and bidi/invisible formatting. */
static bool unsafe_cp(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

/* The output for the character at s[i]: *piece (in esc or in s) of *plen bytes. Returns the
 * input bytes it stands for. */
static size_t next_piece(const unsigned char *s, size_t len, size_t i, char esc[16],
                         const char **piece, size_t *plen)
{
	uint32_t cp;
	size_t n = utf8_decode(s + i, len - i, &cp);
	int w;

	*piece = esc;
	if (n == 0) {
		w = snprintf(esc, 16, "\\x%02x", s[i]);
		n = 1;
	} else if (cp < 0x20 || cp == 0x7f) {
		w = snprintf(esc, 16, "\\x%02x", (unsigned)cp);
	} else if (cp == '\\') {
		w = snprintf(esc, 16, "\\\\");
	} else if (unsafe_cp(cp)) {
		w = snprintf(esc, 16, "\\u%04x", (unsigned)cp);
	} else {
		*piece = (const char *)s + i;
		*plen = n;
		return n;
	}
	*plen = w < 0 ? 0 : (size_t)w;
	return n;
}

size_t sanitize_text(const char *in, size_t len, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, total = 0, plen, n;
	const char *piece;
	char esc[16];

	if (size == 0)
		return 0;
	for (size_t i = 0; i < len; i += n) {
		n = next_piece(s, len, i, esc, &piece, &plen);
		total += plen;
	}
	/* If it all fits, all of it; else keep room for "..." and never split an escape. */
	size_t limit = total <= size - 1 ? size - 1 : (size - 1 >= 3 ? size - 1 - 3 : 0);
	for (size_t i = 0; i < len; i += n) {
		n = next_piece(s, len, i, esc, &piece, &plen);
		if (o + plen > limit)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
	}
	if (total > size - 1) {
		size_t dots = size - 1 - o < 3 ? size - 1 - o : 3;
		memset(out + o, '.', dots);
		o += dots;
	}
	out[o] = '\0';
	return o;
}
