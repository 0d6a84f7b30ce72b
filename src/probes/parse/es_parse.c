/* SPDX-License-Identifier: MIT */
/* Elasticsearch GET / answer: HTTP response head and root JSON document (es_parse.h). */
#include "probes/parse/es_parse.h"
#include "core/decimal.h"

#include <string.h>

static bool name_eq(const uint8_t *s, size_t n, const char *name)
{
	size_t k = strlen(name);

	if (n != k)
		return false;
	for (size_t i = 0; i < k; i++)
		if ((s[i] | 0x20) != (name[i] | 0x20))
			return false;
	return true;
}

/* One header line (without its line end) into out. */
static int header(const uint8_t *l, size_t n, struct es_http *out)
{
	const uint8_t *colon = memchr(l, ':', n);
	size_t k, v;
	uint64_t cl;

	if (colon == NULL)
		return -ERR_PROTO;
	k = (size_t)(colon - l);
	v = k + 1;
	while (v < n && (l[v] == ' ' || l[v] == '\t'))
		v++;
	while (n > v && (l[n - 1] == ' ' || l[n - 1] == '\t'))
		n--;
	if (name_eq(l, k, "content-length")) {
		int r = decimal_span_u64((const char *)l + v, n - v, UINT32_MAX, &cl);

		if (r == -ERR_RANGE)
			return -ERR_TOOBIG;
		if (r < 0)
			return -ERR_PROTO;
		if (cl > ES_BODY_MAX)
			return -ERR_TOOBIG;
		out->has_length = true;
		out->content_length = (uint32_t)cl;
	} else if (name_eq(l, k, "transfer-encoding")) {
		out->chunked = n - v >= 7 && name_eq(l + n - 7, 7, "chunked");
	} else if (name_eq(l, k, "www-authenticate") && out->www_auth[0] == '\0') {
		parse_copy_text(out->www_auth, sizeof(out->www_auth), l + v, n - v);
	} else if (name_eq(l, k, "server")) {
		parse_copy_text(out->server, sizeof(out->server), l + v, n - v);
	} else if (name_eq(l, k, "x-elastic-product")) {
		parse_copy_text(out->product, sizeof(out->product), l + v, n - v);
	} else if (name_eq(l, k, "content-type")) {
		parse_copy_text(out->content_type, sizeof(out->content_type), l + v, n - v);
	}
	return 0;
}

int es_parse_head(const uint8_t *buf, size_t len, struct es_http *out)
{
	static const char proto[] = "HTTP/1.";
	size_t scan = len < ES_HEAD_MAX ? len : ES_HEAD_MAX, pos, n;
	const uint8_t *nl;
	int r;

	memset(out, 0, sizeof(*out));
	n = len < 7 ? len : 7;
	if (memcmp(buf, proto, n) != 0)
		return -ERR_SYNTAX;
	if (len < 13)
		return PARSE_AGAIN;
	if (buf[7] < '0' || buf[7] > '9' || buf[8] != ' ')
		return -ERR_SYNTAX;
	for (size_t i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -ERR_SYNTAX;
		out->status = out->status * 10 + (unsigned)(buf[i] - '0');
	}
	/* Three digits, then a space or the line's end (no reason phrase): "4011" is not 401. */
	if (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
		return -ERR_SYNTAX;
	nl = memchr(buf, '\n', scan);
	if (nl == NULL)
		return len >= ES_HEAD_MAX ? -ERR_TOOBIG : PARSE_AGAIN;
	n = (size_t)(nl - buf);
	if (n > 13)
		parse_copy_text(out->reason, sizeof(out->reason), buf + 13,
		                n - 13 - (buf[n - 1] == '\r'));
	for (pos = n + 1;; pos = n + 1) {
		nl = pos < scan ? memchr(buf + pos, '\n', scan - pos) : NULL;
		if (nl == NULL)
			return len >= ES_HEAD_MAX ? -ERR_TOOBIG : PARSE_AGAIN;
		n = (size_t)(nl - buf);
		size_t l = n - pos - (n > pos && buf[n - 1] == '\r');
		if (l == 0)
			break;
		if ((r = header(buf + pos, l, out)) < 0)
			return r;
	}
	out->head_len = n + 1;
	return (int)out->head_len;
}

/* ---- a bounded JSON scanner: recursive descent, at most ES_JSON_DEPTH levels */

#define ES_JSON_DEPTH 16
#define JS_AGAIN      1 /* internal: the text ended early */

struct js {
	const uint8_t *b;
	size_t n, i;
	struct es_info *out;
};

/* What an object's members fill in. */
enum js_ctx { CTX_NONE = 0, CTX_ROOT, CTX_VERSION, CTX_ERROR };

static void ws(struct js *j)
{
	while (j->i < j->n && (j->b[j->i] == ' ' || j->b[j->i] == '\t' || j->b[j->i] == '\n' ||
	                       j->b[j->i] == '\r'))
		j->i++;
}

static bool hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* A string at j->i into dst (size bytes, NULL: skipped), printable ASCII, '?' for the rest.
 * Returns 0, JS_AGAIN or -ERR_SYNTAX. */
static int str(struct js *j, char *dst, size_t size, size_t *out_len)
{
	size_t k = 0;

	if (j->i >= j->n)
		return JS_AGAIN;
	if (j->b[j->i] != '"')
		return -ERR_SYNTAX;
	for (j->i++; j->i < j->n; j->i++) {
		uint8_t c = j->b[j->i];

		if (c == '"') {
			j->i++;
			if (dst)
				dst[k] = '\0';
			if (out_len)
				*out_len = k;
			return 0;
		}
		if (c < 0x20)
			return -ERR_SYNTAX;
		if (c == '\\') {
			if (j->i + 1 >= j->n)
				return JS_AGAIN;
			c = j->b[++j->i];
			if (c == 'u') {
				for (int h = 0; h < 4; h++) {
					if (j->i + 1 >= j->n)
						return JS_AGAIN;
					if (!hex(j->b[++j->i]))
						return -ERR_SYNTAX;
				}
				c = '?';
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == 0) {
				return -ERR_SYNTAX;
			} else if (c != '"' && c != '\\' && c != '/') {
				c = '?';
			}
		}
		if (dst && k + 1 < size)
			dst[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	return JS_AGAIN;
}

static int value(struct js *j, unsigned depth, enum js_ctx ctx, char *dst, size_t size);

/* Where a member's value goes: a text field, or a child context for an object. */
static char *target(struct js *j, enum js_ctx ctx, const char *key, enum js_ctx *child)
{
	struct es_info *o = j->out;

	*child = CTX_NONE;
	if (ctx == CTX_ROOT) {
		if (strcmp(key, "cluster_name") == 0) {
			o->has_cluster_name = true;
			return o->cluster_name;
		}
		if (strcmp(key, "name") == 0)
			return o->name;
		if (strcmp(key, "cluster_uuid") == 0)
			return o->cluster_uuid;
		if (strcmp(key, "tagline") == 0)
			return o->tagline;
		if (strcmp(key, "version") == 0)
			*child = CTX_VERSION;
		if (strcmp(key, "error") == 0) {
			o->has_error = true;
			*child = CTX_ERROR;
		}
	} else if (ctx == CTX_VERSION) {
		if (strcmp(key, "number") == 0) {
			o->has_version = true;
			return o->version;
		}
		if (strcmp(key, "distribution") == 0)
			return o->distribution;
		if (strcmp(key, "build_flavor") == 0)
			return o->build_flavor;
	} else if (ctx == CTX_ERROR) {
		if (strcmp(key, "type") == 0)
			return o->error_type;
	}
	return NULL;
}

static int object(struct js *j, unsigned depth, enum js_ctx ctx)
{
	char key[32];
	enum js_ctx child;
	char *dst;
	int r;

	j->i++; /* '{' */
	ws(j);
	if (j->i < j->n && j->b[j->i] == '}') {
		j->i++;
		return 0;
	}
	for (;;) {
		ws(j);
		if ((r = str(j, key, sizeof(key), NULL)) != 0)
			return r;
		ws(j);
		if (j->i >= j->n)
			return JS_AGAIN;
		if (j->b[j->i++] != ':')
			return -ERR_SYNTAX;
		if (ctx == CTX_ROOT)
			j->out->members++;
		dst = target(j, ctx, key, &child);
		if ((r = value(j, depth + 1, child, dst, ES_TEXT_MAX)) != 0)
			return r;
		ws(j);
		if (j->i >= j->n)
			return JS_AGAIN;
		if (j->b[j->i] == '}') {
			j->i++;
			return 0;
		}
		if (j->b[j->i++] != ',')
			return -ERR_SYNTAX;
	}
}

static int array(struct js *j, unsigned depth)
{
	int r;

	j->i++; /* '[' */
	ws(j);
	if (j->i < j->n && j->b[j->i] == ']') {
		j->i++;
		return 0;
	}
	for (;;) {
		if ((r = value(j, depth + 1, CTX_NONE, NULL, 0)) != 0)
			return r;
		ws(j);
		if (j->i >= j->n)
			return JS_AGAIN;
		if (j->b[j->i] == ']') {
			j->i++;
			return 0;
		}
		if (j->b[j->i++] != ',')
			return -ERR_SYNTAX;
	}
}

/* A number or true/false/null: the characters they can hold; the end must be seen. */
static int scalar(struct js *j)
{
	size_t start = j->i;
	static const char *const words[] = {"true", "false", "null"};

	if (j->b[j->i] >= 'a' && j->b[j->i] <= 'z') {
		while (j->i < j->n && j->b[j->i] >= 'a' && j->b[j->i] <= 'z')
			j->i++;
		if (j->i >= j->n)
			return JS_AGAIN;
		for (size_t w = 0; w < 3; w++)
			if (j->i - start == strlen(words[w]) &&
			    memcmp(j->b + start, words[w], j->i - start) == 0)
				return 0;
		return -ERR_SYNTAX;
	}
	while (j->i < j->n && strchr("0123456789+-.eE", j->b[j->i]) != NULL && j->b[j->i] != 0)
		j->i++;
	if (j->i == start)
		return -ERR_SYNTAX;
	return j->i >= j->n ? JS_AGAIN : 0;
}

static int value(struct js *j, unsigned depth, enum js_ctx ctx, char *dst, size_t size)
{
	if (depth > ES_JSON_DEPTH)
		return -ERR_SYNTAX;
	ws(j);
	if (j->i >= j->n)
		return JS_AGAIN;
	switch (j->b[j->i]) {
	case '{':
		return object(j, depth, ctx);
	case '[':
		return array(j, depth);
	case '"':
		return str(j, dst, size, NULL);
	default:
		return scalar(j);
	}
}

int es_parse_body(const uint8_t *buf, size_t len, struct es_info *out)
{
	struct js j = {.b = buf, .n = len, .out = out};
	int r;

	memset(out, 0, sizeof(*out));
	ws(&j);
	if (j.i >= j.n)
		return PARSE_AGAIN;
	if (j.b[j.i] != '{')
		return -ERR_SYNTAX;
	r = value(&j, 1, CTX_ROOT, NULL, 0);
	if (r == JS_AGAIN)
		return PARSE_AGAIN;
	if (r < 0)
		return r;
	ws(&j);
	return j.i == j.n ? (int)j.i : -ERR_SYNTAX;
}
