/* SPDX-License-Identifier: MIT */
/* The growable string buffer with a ceiling (sbuf.h). */
#include "core/sbuf.h"
#include "core/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b, size_t max)
{
	*b = (struct sbuf){.max = max};
}

/* Room for more bytes plus the NUL; doubles, so n additions cost O(n) copies in all. */
static int sbuf_reserve(struct sbuf *b, size_t more)
{
	size_t need, cap;
	char *p;

	if (b->err)
		return b->err;
	if (more > b->max - b->len)
		return b->err = -ERR_TOOBIG;
	need = b->len + more + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int sbuf_addn(struct sbuf *b, const char *s, size_t n)
{
	int r = sbuf_reserve(b, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int sbuf_add(struct sbuf *b, const char *s)
{
	return sbuf_addn(b, s, s ? strlen(s) : 0);
}

int sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	if (b->err)
		return b->err;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return b->err = -ERR_INTERNAL;
	if ((r = sbuf_reserve(b, (size_t)n)) < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int sbuf_add_html(struct sbuf *b, const char *s)
{
	const char *run = s;

	if (s == NULL)
		return b->err;
	/* Copy runs of plain bytes at once; stop at each byte that needs an entity or goes. */
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *ent = NULL;

		switch (c) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			if ((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' || c == '\r')
				continue;
			ent = ""; /* dropped */
		}
		sbuf_addn(b, run, (size_t)(s - run));
		sbuf_add(b, ent);
		run = s + 1;
	}
	return sbuf_addn(b, run, (size_t)(s - run));
}

int sbuf_add_urlenc(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			sbuf_addn(b, s, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			sbuf_addn(b, e, 3);
		}
	}
	return b->err;
}

const char *sbuf_str(const struct sbuf *b)
{
	return b->p && !b->err ? b->p : "";
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->p)
		b->p[0] = '\0';
}

char *sbuf_take(struct sbuf *b, size_t *len)
{
	char *p;

	if (b->err) {
		sbuf_free(b);
		return NULL;
	}
	if (b->p == NULL && sbuf_addn(b, "", 0) < 0) {
		sbuf_free(b);
		return NULL;
	}
	p = b->p;
	if (len)
		*len = b->len;
	*b = (struct sbuf){.max = b->max};
	return p;
}

void sbuf_free(struct sbuf *b)
{
	free(b->p);
	*b = (struct sbuf){.max = b->max};
}
