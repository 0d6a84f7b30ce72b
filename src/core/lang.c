/* SPDX-License-Identifier: MIT */
/* Language choice (lang.h): RFC 4647 ranges in an RFC 9110 Accept-Language list. */
#include "core/lang.h"
#include "core/err.h"

#include <stdbool.h>
#include <string.h>

static const char *const lang_names[LANG_X_MAX] = {
    [LANG_EN] = "en",
    [LANG_JA] = "ja",
};

const char *lang_name(enum lang l)
{
	if ((unsigned)l >= LANG_X_MAX)
		return NULL;
	return lang_names[l];
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Range value for "*": a wildcard, not a language. */
#define RANGE_ANY (LANG_X_MAX + 1)

/*
 * A language range (RFC 4647 §2.1): "*" or 1*8ALPHA *("-" 1*8alphanum), at s[0..len). Returns
 * the supported language its primary subtag names, LANG_X_MAX for a valid but unsupported one,
 * RANGE_ANY for "*", or -ERR_SYNTAX.
 */
static int range_lang(const char *s, size_t len)
{
	size_t i = 0, primary, sub = 1;

	if (len == 1 && s[0] == '*')
		return RANGE_ANY;
	while (i < len && is_alpha(s[i]))
		i++;
	primary = i;
	if (primary == 0 || primary > 8)
		return -ERR_SYNTAX;
	for (; i < len; i++) {
		if (s[i] == '-') {
			if (sub == 0)
				return -ERR_SYNTAX;
			sub = 0;
		} else if ((!is_alpha(s[i]) && !is_digit(s[i])) || ++sub > 8) {
			return -ERR_SYNTAX;
		}
	}
	if (sub == 0)
		return -ERR_SYNTAX;
	for (int l = 0; l < LANG_X_MAX; l++) {
		const char *name = lang_names[l];
		bool same = strlen(name) == primary;

		for (size_t k = 0; same && k < primary; k++)
			same = lower(s[k]) == name[k];
		if (same)
			return l;
	}
	return LANG_X_MAX;
}

/*
 * A weight (RFC 9110 §12.4.2): qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ),
 * as thousandths. Returns 0..1000 or -ERR_SYNTAX.
 */
static int parse_qvalue(const char *s, size_t len)
{
	int v, scale = 100;

	if (len == 0 || len > 5 || (s[0] != '0' && s[0] != '1'))
		return -ERR_SYNTAX;
	v = (s[0] - '0') * 1000;
	if (len == 1)
		return v;
	if (s[1] != '.')
		return -ERR_SYNTAX;
	for (size_t i = 2; i < len; i++, scale /= 10) {
		if (!is_digit(s[i]))
			return -ERR_SYNTAX;
		v += (s[i] - '0') * scale;
	}
	return v > 1000 ? -ERR_SYNTAX : v;
}

/* Trim optional white space around s[*b..*e). */
static void trim(const char *s, size_t *b, size_t *e)
{
	while (*b < *e && is_ows(s[*b]))
		(*b)++;
	while (*e > *b && is_ows(s[*e - 1]))
		(*e)--;
}

/*
 * One list element s[b..e): range [ OWS ";" OWS "q=" qvalue ]. Sets *lang (as range_lang) and
 * *q. Returns 0, or -ERR_SYNTAX.
 */
static int parse_element(const char *s, size_t b, size_t e, int *lang, int *q)
{
	size_t semi = b, pb, pe;

	while (semi < e && s[semi] != ';')
		semi++;
	pe = semi;
	trim(s, &b, &pe);
	if (b == pe)
		return -ERR_SYNTAX;
	*lang = range_lang(s + b, pe - b);
	if (*lang < 0)
		return *lang;
	*q = 1000;
	if (semi == e)
		return 0;
	pb = semi + 1;
	pe = e;
	trim(s, &pb, &pe);
	if (pe - pb < 2 || lower(s[pb]) != 'q' || s[pb + 1] != '=')
		return -ERR_SYNTAX;
	*q = parse_qvalue(s + pb + 2, pe - pb - 2);
	return *q < 0 ? *q : 0;
}

/* The weight and list position a language got; q < 0: not named. */
struct weight {
	int q;
	size_t pos;
};

/* Keep the higher weight; on a tie, the earlier position (already stored). */
static void weigh(struct weight *w, int q, size_t pos)
{
	if (q > w->q)
		*w = (struct weight){q, pos};
}

int lang_choose(const char *s, enum lang *out)
{
	struct weight named[LANG_X_MAX], any = {-1, 0};
	int best = -1;
	size_t len, b = 0, pos = 0;

	if (s == NULL)
		return -ERR_SYNTAX;
	for (int l = 0; l < LANG_X_MAX; l++)
		named[l] = (struct weight){-1, 0};
	len = strlen(s);
	while (b <= len) {
		size_t e = b, tb, te;
		int lang, q, r;

		while (e < len && s[e] != ',')
			e++;
		tb = b;
		te = e;
		trim(s, &tb, &te);
		b = e + 1;
		/* RFC 9110 §5.6.1: a recipient accepts and ignores empty list elements. */
		if (tb == te)
			continue;
		if ((r = parse_element(s, tb, te, &lang, &q)) < 0)
			return r;
		if (lang == RANGE_ANY)
			weigh(&any, q, pos);
		else if (lang < LANG_X_MAX)
			weigh(&named[lang], q, pos);
		pos++;
	}
	/* "*" covers only the languages not named (RFC 9110 §12.5.4); q=0 means "not this". */
	for (int l = 0; l < LANG_X_MAX; l++) {
		if (named[l].q < 0)
			named[l] = any;
		if (named[l].q <= 0)
			continue;
		if (best < 0 || named[l].q > named[best].q ||
		    (named[l].q == named[best].q && named[l].pos < named[best].pos))
			best = l;
	}
	if (best < 0)
		return -ERR_UNSUPPORTED;
	*out = (enum lang)best;
	return 0;
}
