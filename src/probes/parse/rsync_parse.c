/* SPDX-License-Identifier: MIT */
/* rsync daemon lines (rsync_parse.h). Every field is copied through parse_copy_text. */
#include "probes/parse/rsync_parse.h"
#include "core/decimal.h"

#include <string.h>

#define AT_RSYNCD "@RSYNCD: "
#define AT_ERROR  "@ERROR"

static bool starts(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && memcmp(p, s, k) == 0;
}

/* "31.0" or "29" followed by the end or a space; the rest after one space goes to text. */
static int parse_greeting(const uint8_t *p, size_t n, struct rsync_line *out)
{
	size_t i = 0, dot;
	uint64_t v;

	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i == 0 || decimal_span_u64((const char *)p, i, 999, &v) < 0)
		return -ERR_SYNTAX;
	out->major = (unsigned)v;
	if (i < n && p[i] == '.') {
		dot = ++i;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i == dot || decimal_span_u64((const char *)p + dot, i - dot, 999, &v) < 0)
			return -ERR_SYNTAX;
		out->minor = (unsigned)v;
		out->has_minor = true;
	}
	if (i < n && p[i] != ' ')
		return -ERR_SYNTAX;
	if (i < n)
		out->truncated |=
		    parse_copy_text(out->text, sizeof(out->text), p + i + 1, n - i - 1);
	out->kind = RSYNC_LINE_GREETING;
	return 0;
}

/* "name<spaces>\t<comment>": rsync pads the name to 15 with spaces (clientserver.c). */
static void parse_module(const uint8_t *p, size_t n, size_t tab, struct rsync_line *out)
{
	size_t e = tab;

	while (e > 0 && p[e - 1] == ' ')
		e--;
	out->kind = RSYNC_LINE_MODULE;
	out->truncated |= parse_copy_text(out->name, sizeof(out->name), p, e);
	out->truncated |=
	    parse_copy_text(out->comment, sizeof(out->comment), p + tab + 1, n - tab - 1);
}

static int classify(const uint8_t *p, size_t n, bool want_greeting, struct rsync_line *out)
{
	const uint8_t *tab;

	if (starts(p, n, AT_RSYNCD)) {
		const uint8_t *a = p + strlen(AT_RSYNCD);
		size_t an = n - strlen(AT_RSYNCD);

		if (want_greeting || (an > 0 && a[0] >= '0' && a[0] <= '9'))
			return parse_greeting(a, an, out);
		if (an == 2 && memcmp(a, "OK", 2) == 0)
			out->kind = RSYNC_LINE_OK;
		else if (starts(a, an, "AUTHREQD"))
			out->kind = RSYNC_LINE_AUTHREQD;
		else if (an == 4 && memcmp(a, "EXIT", 4) == 0)
			out->kind = RSYNC_LINE_EXIT;
		else
			out->kind = RSYNC_LINE_OTHER_AT;
		if (out->kind == RSYNC_LINE_OTHER_AT)
			out->truncated |= parse_copy_text(out->text, sizeof(out->text), p, n);
		return 0;
	}
	if (want_greeting)
		return -ERR_PROTO;
	if (starts(p, n, AT_ERROR)) {
		out->kind = RSYNC_LINE_ERROR;
		out->truncated |= parse_copy_text(out->text, sizeof(out->text), p, n);
		return 0;
	}
	tab = memchr(p, '\t', n);
	if (tab != NULL && tab != p && p[0] != ' ') {
		parse_module(p, n, (size_t)(tab - p), out);
		return 0;
	}
	out->kind = RSYNC_LINE_TEXT;
	out->truncated |= parse_copy_text(out->text, sizeof(out->text), p, n);
	return 0;
}

int rsync_parse_line(const uint8_t *buf, size_t len, bool want_greeting, struct rsync_line *out)
{
	size_t scan = len < RSYNC_LINE_MAX ? len : RSYNC_LINE_MAX;
	const uint8_t *lf;
	size_t n;
	int r;

	memset(out, 0, sizeof(*out));
	/* A greeting is recognised (or refused) before its LF: a wrong first byte is enough. */
	if (want_greeting &&
	    memcmp(buf, AT_RSYNCD, len < strlen(AT_RSYNCD) ? len : strlen(AT_RSYNCD)) != 0)
		return -ERR_PROTO;
	lf = memchr(buf, '\n', scan);
	if (lf == NULL)
		return len >= RSYNC_LINE_MAX ? -ERR_TOOBIG : PARSE_AGAIN;
	n = (size_t)(lf - buf);
	if (memchr(buf, '\0', n) != NULL)
		return -ERR_SYNTAX;
	r = classify(buf, n > 0 && buf[n - 1] == '\r' ? n - 1 : n, want_greeting, out);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		return r;
	}
	return (int)(n + 1);
}
