/* SPDX-License-Identifier: MIT */
/* PostgreSQL SSLRequest, StartupMessage, and the server's first answers (pg_parse.h). */
#include "probes/parse/pg_parse.h"

#include <string.h>

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t pg_build_ssl_request(uint8_t *out, size_t cap)
{
	if (cap < 8)
		return 0;
	be32(out, 8);
	be32(out + 4, PG_SSL_REQUEST_CODE);
	return 8;
}

size_t pg_build_startup(uint8_t *out, size_t cap)
{
	if (cap < 9)
		return 0;
	be32(out, 9);
	be32(out + 4, PG_PROTOCOL_3);
	out[8] = 0; /* the empty list of parameters */
	return 9;
}

int pg_parse_ssl_answer(const uint8_t *buf, size_t len, char *out)
{
	*out = 0;
	if (len == 0)
		return PARSE_AGAIN;
	if (buf[0] != 'S' && buf[0] != 'N')
		return -ERR_SYNTAX;
	*out = (char)buf[0];
	return 1;
}

/* The fields of an ErrorResponse body (type byte, NUL-terminated text; a NUL ends the list). */
static int error_fields(const uint8_t *p, size_t n, struct pg_message *out)
{
	size_t pos = 0;

	while (pos < n && p[pos] != 0) {
		uint8_t code = p[pos++];
		const uint8_t *z = memchr(p + pos, 0, n - pos);
		size_t l;

		if (z == NULL)
			return -ERR_PROTO;
		l = (size_t)(z - p) - pos;
		if (code == 'V' || (code == 'S' && out->severity[0] == '\0'))
			parse_copy_text(out->severity, sizeof(out->severity), p + pos, l);
		else if (code == 'C')
			parse_copy_text(out->sqlstate, sizeof(out->sqlstate), p + pos, l);
		else if (code == 'M')
			parse_copy_text(out->message, sizeof(out->message), p + pos, l);
		else if (code == 'R')
			parse_copy_text(out->routine, sizeof(out->routine), p + pos, l);
		pos += l + 1;
	}
	return pos < n ? 0 : -ERR_PROTO;
}

/* Protocol 2 (servers before 7.4): 'E' and a NUL-terminated text such as "FATAL:  ...\n". */
static int v2_error(const uint8_t *buf, size_t len, struct pg_message *out)
{
	size_t scan = len < PG_MSG_MAX ? len : PG_MSG_MAX;
	const uint8_t *z = memchr(buf + 1, 0, scan - 1);

	out->v2 = true;
	out->length = 0;
	for (size_t i = 1; i < (z ? (size_t)(z - buf) : scan); i++)
		if ((buf[i] < 0x20 || buf[i] >= 0x7f) && buf[i] != '\n' && buf[i] != '\t')
			return -ERR_SYNTAX;
	if (z == NULL)
		return len >= PG_MSG_MAX ? -ERR_TOOBIG : PARSE_AGAIN;
	out->truncated =
	    parse_copy_text(out->message, sizeof(out->message), buf + 1, (size_t)(z - buf) - 1);
	return (int)(z - buf) + 1;
}

int pg_parse_message(const uint8_t *buf, size_t len, struct pg_message *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return PARSE_AGAIN;
	if (!((buf[0] >= 'A' && buf[0] <= 'Z') || (buf[0] >= 'a' && buf[0] <= 'z')))
		return -ERR_SYNTAX;
	out->type = (char)buf[0];
	/* A protocol-3 length has a zero first byte (no message near 16 MiB); "E" + text does not.
	 */
	if (out->type == 'E' && len >= 2 && buf[1] != 0)
		return v2_error(buf, len, out);
	if (len < 5)
		return PARSE_AGAIN;
	out->length = parse_be32(buf + 1);
	if (out->length < 4)
		return -ERR_SYNTAX;
	if (out->length > PG_MSG_MAX)
		return -ERR_TOOBIG;
	if (len < 1 + (size_t)out->length)
		return PARSE_AGAIN;
	if ((out->type == 'E' || out->type == 'N') &&
	    error_fields(buf + 5, out->length - 4, out) < 0)
		return -ERR_PROTO;
	if (out->type == 'R' && out->length >= 8)
		out->auth = parse_be32(buf + 5);
	return 1 + (int)out->length;
}
