/* SPDX-License-Identifier: MIT */
/* A validating scan of a JSON text for one top-level member (json_scan.h). */
#include "web/json_scan.h"
#include "core/err.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct scan {
	const unsigned char *s;
	size_t len, i;
};

static void skip_ws(struct scan *sc)
{
	while (sc->i < sc->len && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' ||
	                           sc->s[sc->i] == '\n' || sc->s[sc->i] == '\r'))
		sc->i++;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence of 2 to 4 bytes at sc->i (RFC 3629 §4: no overlongs, no surrogates). */
static int utf8_seq(struct scan *sc)
{
	unsigned char c = sc->s[sc->i];
	size_t n;
	uint32_t cp, min;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07, min = 0x10000;
	else
		return -ERR_SYNTAX;
	if (sc->len - sc->i < n)
		return -ERR_SYNTAX;
	for (size_t k = 1; k < n; k++) {
		unsigned char t = sc->s[sc->i + k];

		if ((t & 0xc0) != 0x80)
			return -ERR_SYNTAX;
		cp = cp << 6 | (t & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -ERR_SYNTAX;
	sc->i += n;
	return 0;
}

/* A string at sc->i (the opening quote). */
static int scan_string(struct scan *sc)
{
	sc->i++;
	while (sc->i < sc->len) {
		unsigned char c = sc->s[sc->i];

		if (c == '"') {
			sc->i++;
			return 0;
		}
		if (c < 0x20)
			return -ERR_SYNTAX;
		if (c >= 0x80) {
			if (utf8_seq(sc) < 0)
				return -ERR_SYNTAX;
			continue;
		}
		if (c != '\\') {
			sc->i++;
			continue;
		}
		if (sc->len - sc->i < 2)
			return -ERR_SYNTAX;
		c = sc->s[sc->i + 1];
		if (c == 'u') {
			if (sc->len - sc->i < 6)
				return -ERR_SYNTAX;
			for (size_t k = 2; k < 6; k++)
				if (!is_hex(sc->s[sc->i + k]))
					return -ERR_SYNTAX;
			sc->i += 6;
		} else if (strchr("\"\\/bfnrt", c) && c) {
			sc->i += 2;
		} else {
			return -ERR_SYNTAX;
		}
	}
	return -ERR_SYNTAX;
}

static size_t digits(struct scan *sc)
{
	size_t b = sc->i;

	while (sc->i < sc->len && is_digit(sc->s[sc->i]))
		sc->i++;
	return sc->i - b;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int scan_number(struct scan *sc)
{
	if (sc->s[sc->i] == '-')
		sc->i++;
	if (sc->i < sc->len && sc->s[sc->i] == '0')
		sc->i++;
	else if (digits(sc) == 0)
		return -ERR_SYNTAX;
	if (sc->i < sc->len && sc->s[sc->i] == '.') {
		sc->i++;
		if (digits(sc) == 0)
			return -ERR_SYNTAX;
	}
	if (sc->i < sc->len && (sc->s[sc->i] == 'e' || sc->s[sc->i] == 'E')) {
		sc->i++;
		if (sc->i < sc->len && (sc->s[sc->i] == '+' || sc->s[sc->i] == '-'))
			sc->i++;
		if (digits(sc) == 0)
			return -ERR_SYNTAX;
	}
	return 0;
}

static int scan_literal(struct scan *sc, const char *word)
{
	size_t n = strlen(word);

	if (sc->len - sc->i < n || memcmp(sc->s + sc->i, word, n) != 0)
		return -ERR_SYNTAX;
	sc->i += n;
	return 0;
}

/* The member json_scan_member looks for, among the members of the outermost object. */
struct want {
	const char *key;
	struct json_span span;
	bool have;
};

static int scan_value(struct scan *sc, unsigned depth, size_t *n_elems);

/* Is the string token s[b..e) (quotes included) exactly "key"? */
static bool key_is(const unsigned char *s, size_t b, size_t e, const char *key)
{
	size_t n = strlen(key);

	return e - b == n + 2 && memcmp(s + b + 1, key, n) == 0;
}

/* A member name and its colon; *kb, *ke: the name's bytes, quotes included. */
static int scan_name(struct scan *sc, size_t *kb, size_t *ke)
{
	skip_ws(sc);
	*kb = sc->i;
	if (sc->i >= sc->len || sc->s[sc->i] != '"' || scan_string(sc) < 0)
		return -ERR_SYNTAX;
	*ke = sc->i;
	skip_ws(sc);
	if (sc->i >= sc->len || sc->s[sc->i++] != ':')
		return -ERR_SYNTAX;
	return 0;
}

/*
 * An object or array at sc->i; *count: its members or elements. want (outermost object only):
 * the first member named want->key is recorded.
 */
static int scan_container(struct scan *sc, unsigned depth, size_t *count, struct want *want)
{
	unsigned char close = sc->s[sc->i] == '{' ? '}' : ']';
	size_t kb = 0, ke = 0, vb, n;
	int r;

	if (depth >= JSON_SCAN_DEPTH_MAX)
		return -ERR_SYNTAX;
	*count = 0;
	sc->i++;
	skip_ws(sc);
	if (sc->i < sc->len && sc->s[sc->i] == close) {
		sc->i++;
		return 0;
	}
	for (;;) {
		if (close == '}' && (r = scan_name(sc, &kb, &ke)) < 0)
			return r;
		skip_ws(sc);
		vb = sc->i;
		if ((r = scan_value(sc, depth + 1, &n)) < 0)
			return r;
		if (want && !want->have && key_is(sc->s, kb, ke, want->key)) {
			want->span = (struct json_span){(const char *)sc->s + vb, sc->i - vb, n};
			want->have = true;
		}
		(*count)++;
		skip_ws(sc);
		if (sc->i >= sc->len)
			return -ERR_SYNTAX;
		if (sc->s[sc->i] == close) {
			sc->i++;
			return 0;
		}
		if (sc->s[sc->i++] != ',')
			return -ERR_SYNTAX;
	}
}

/* One value at sc->i; *n_elems: its elements when it is an array, else 0. */
static int scan_value(struct scan *sc, unsigned depth, size_t *n_elems)
{
	*n_elems = 0;
	if (sc->i >= sc->len)
		return -ERR_SYNTAX;
	switch (sc->s[sc->i]) {
	case '{': {
		size_t members;

		return scan_container(sc, depth, &members, NULL);
	}
	case '[':
		return scan_container(sc, depth, n_elems, NULL);
	case '"':
		return scan_string(sc);
	case 't':
		return scan_literal(sc, "true");
	case 'f':
		return scan_literal(sc, "false");
	case 'n':
		return scan_literal(sc, "null");
	default:
		return scan_number(sc);
	}
}

int json_scan_member(const char *s, size_t len, const char *key, struct json_span *out)
{
	struct scan sc = {(const unsigned char *)s, len, 0};
	struct want want = {.key = key};
	size_t members;
	int r;

	skip_ws(&sc);
	if (sc.i >= sc.len || sc.s[sc.i] != '{')
		return -ERR_SYNTAX;
	if ((r = scan_container(&sc, 0, &members, &want)) < 0)
		return r;
	skip_ws(&sc);
	if (sc.i != sc.len)
		return -ERR_SYNTAX;
	if (!want.have)
		return -ENOENT;
	*out = want.span;
	return 0;
}
