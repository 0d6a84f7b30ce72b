/* SPDX-License-Identifier: MIT */
/*
 * The one growable string buffer, with a hard ceiling. Pages, reports, SVG charts, metrics and
 * event streams are built with it. Errors are sticky (as in Redis's sds users and curl's dynbuf):
 * after the first failure every later call does nothing and returns the same error, so a writer
 * can add many pieces and check once at the end.
 */
#ifndef EXPOSURE_CORE_SBUF_H
#define EXPOSURE_CORE_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *p;    /* NUL-terminated once anything was added; NULL before */
	size_t len; /* bytes held, without the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* ceiling on len; adding past it fails with -ERR_TOOBIG */
	int err;    /* 0, or the first failure (-ENOMEM, -ERR_TOOBIG, -ERR_INTERNAL) */
};

/* An empty buffer that may grow to max bytes (not counting the NUL). Allocates nothing. */
void sbuf_init(struct sbuf *b, size_t max);

/* Add n bytes, a string, or printf-formatted text. Return 0 or the sticky error. */
int sbuf_addn(struct sbuf *b, const char *s, size_t n);
int sbuf_add(struct sbuf *b, const char *s);
int sbuf_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Add s escaped for HTML and XML text and quoted attribute values: & < > " ' become entities,
 * the C0 controls other than tab, line feed and carriage return and DEL are dropped (XML 1.0
 * forbids them), every other byte (UTF-8 included) is kept. s NULL adds nothing.
 */
int sbuf_add_html(struct sbuf *b, const char *s);

/* Add s percent-encoded for a URL query value (RFC 3986 unreserved characters kept). */
int sbuf_add_urlenc(struct sbuf *b, const char *s);

/* The text so far: "" when empty, never NULL. */
const char *sbuf_str(const struct sbuf *b);

/* Forget the content, keep the memory and the ceiling; clears the error. */
void sbuf_reset(struct sbuf *b);

/*
 * Hand the text to the caller (free() it) and leave b empty. Returns NULL and keeps nothing if b
 * holds an error; an empty buffer gives an allocated "". *len (if not NULL) gets the length.
 */
char *sbuf_take(struct sbuf *b, size_t *len);

/* Free the memory; b is empty afterwards (its ceiling kept). */
void sbuf_free(struct sbuf *b);

#endif
