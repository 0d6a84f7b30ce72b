/* SPDX-License-Identifier: MIT */
/* Redis RESP2 replies and INFO text (redis_parse.h). */
#include "probes/parse/redis_parse.h"
#include "core/decimal.h"

#include <string.h>

static bool starts_with(const char *s, const char *word)
{
	size_t n = strlen(word);

	return strncmp(s, word, n) == 0 && (s[n] == ' ' || s[n] == '\0');
}

static enum redis_err error_kind(const char *text)
{
	if (starts_with(text, "NOAUTH"))
		return REDIS_ERR_NOAUTH;
	if (starts_with(text, "DENIED"))
		return REDIS_ERR_DENIED;
	if (starts_with(text, "NOPERM"))
		return REDIS_ERR_NOPERM;
	return REDIS_ERR_OTHER;
}

/* "-1" or digits, into *out. */
static int parse_length(const uint8_t *s, size_t n, int64_t *out)
{
	uint64_t v;
	int r;

	if (n == 2 && s[0] == '-' && s[1] == '1') {
		*out = -1;
		return 0;
	}
	r = decimal_span_u64((const char *)s, n, INT32_MAX, &v);
	if (r < 0)
		return -ERR_PROTO;
	*out = (int64_t)v;
	return 0;
}

int redis_parse_reply(const uint8_t *buf, size_t len, struct redis_reply *out)
{
	size_t eol = 0, line_len, need;
	const uint8_t *nl;
	size_t scan = len < REDIS_LINE_MAX + 2 ? len : REDIS_LINE_MAX + 2;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return PARSE_AGAIN;
	if (strchr("+-:$*", buf[0]) == NULL || buf[0] == '\0')
		return -ERR_SYNTAX;
	out->type = (char)buf[0];
	nl = memchr(buf, '\n', scan);
	if (nl == NULL)
		return len >= REDIS_LINE_MAX + 2 ? -ERR_TOOBIG : PARSE_AGAIN;
	eol = (size_t)(nl - buf);
	if (eol == 0 || buf[eol - 1] != '\r' || memchr(buf, '\r', eol - 1) != NULL)
		return -ERR_SYNTAX; /* a bare LF or CR: a text protocol, not RESP */
	line_len = eol - 2;         /* without the type byte and the CR */
	out->truncated = parse_copy_text(out->text, sizeof(out->text), buf + 1, line_len);
	if (out->type == '-')
		out->err = error_kind(out->text);
	if (out->type != '$' && out->type != '*')
		return (int)(eol + 1);
	if (parse_length(buf + 1, line_len, &out->length) < 0)
		return -ERR_PROTO;
	if (out->type == '*' || out->length < 0)
		return (int)(eol + 1);
	if (out->length > REDIS_BULK_MAX)
		return -ERR_TOOBIG;
	need = eol + 1 + (size_t)out->length + 2;
	if (len < need)
		return PARSE_AGAIN;
	if (buf[need - 2] != '\r' || buf[need - 1] != '\n')
		return -ERR_PROTO;
	out->data_off = eol + 1;
	out->data_len = (size_t)out->length;
	return (int)need;
}

/* If line is "key:value", copy the value into dst (size bytes). */
static void field(const uint8_t *line, size_t n, const char *key, char *dst, size_t size)
{
	size_t k = strlen(key);

	if (n > k && memcmp(line, key, k) == 0 && line[k] == ':')
		parse_copy_text(dst, size, line + k + 1, n - k - 1);
}

int redis_parse_info(const uint8_t *data, size_t len, struct redis_info *out)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		const uint8_t *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		size_t n = end - pos;
		const uint8_t *line = data + pos;

		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n == 8 && memcmp(line, "# Server", 8) == 0)
			out->server_section = true;
		if (n > 0 && line[0] != '#' && memchr(line, ':', n) != NULL) {
			out->lines++;
			field(line, n, "redis_version", out->version, sizeof(out->version));
			field(line, n, "redis_mode", out->mode, sizeof(out->mode));
			field(line, n, "os", out->os, sizeof(out->os));
		}
		pos = end + 1;
	}
	return (int)out->lines;
}
