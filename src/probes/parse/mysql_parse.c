/* SPDX-License-Identifier: MIT */
/* MySQL / MariaDB initial packet: HandshakeV10 or ERR (mysql_parse.h). */
#include "probes/parse/mysql_parse.h"

#include <string.h>

static int error_packet(const uint8_t *p, size_t n, struct mysql_greeting *out)
{
	size_t pos = 3;

	if (n < 3)
		return -ERR_PROTO;
	out->is_error = true;
	out->err_code = parse_le16(p + 1);
	if (n >= 9 && p[3] == '#') { /* a sqlstate marker and 5 characters (4.1 protocol) */
		parse_copy_text(out->sqlstate, sizeof(out->sqlstate), p + 4, 5);
		pos = 9;
	}
	parse_copy_text(out->err_msg, sizeof(out->err_msg), p + pos, n - pos);
	return 0;
}

/* HandshakeV10 (and V9, which is only the version and the connection id). */
static int handshake(const uint8_t *p, size_t n, struct mysql_greeting *out)
{
	const uint8_t *z = memchr(p + 1, 0, n - 1);
	size_t pos, plen;

	if (z == NULL)
		return -ERR_PROTO;
	parse_copy_text(out->version, sizeof(out->version), p + 1, (size_t)(z - p) - 1);
	out->mariadb = strstr(out->version, "MariaDB") != NULL;
	pos = (size_t)(z - p) + 1;
	if (n - pos < 4)
		return -ERR_PROTO;
	out->conn_id = parse_le32(p + pos);
	pos += 4;
	if (out->protocol == 9)
		return 0;
	/* auth-plugin-data-part-1 (8), filler (1), capability flags (lower 2) */
	if (n - pos < 11)
		return -ERR_PROTO;
	out->capabilities = parse_le16(p + pos + 9);
	pos += 11;
	if (n - pos < 5) /* the rest is optional in old servers */
		return 0;
	out->charset = p[pos];
	out->status = parse_le16(p + pos + 1);
	out->capabilities |= (uint32_t)parse_le16(p + pos + 3) << 16;
	plen = p[pos + 5 < n ? pos + 5 : pos];
	pos += 16; /* charset, status, upper flags, auth data length, 10 reserved */
	if (!(out->capabilities & MYSQL_CLIENT_PLUGIN_AUTH) || pos >= n)
		return 0;
	/* auth-plugin-data-part-2: max(13, length - 8) bytes, then the plugin name */
	pos += plen > 21 ? plen - 8u : 13u;
	if (pos >= n)
		return -ERR_PROTO;
	z = memchr(p + pos, 0, n - pos);
	parse_copy_text(out->auth_plugin, sizeof(out->auth_plugin), p + pos,
	                z ? (size_t)(z - p) - pos : n - pos);
	return 0;
}

int mysql_parse_greeting(const uint8_t *buf, size_t len, struct mysql_greeting *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (len >= 4 && buf[3] != 0)
		return -ERR_SYNTAX;
	if (len >= 5 && buf[4] != 10 && buf[4] != 9 && buf[4] != 0xFF)
		return -ERR_SYNTAX;
	if (len < 5)
		return PARSE_AGAIN;
	out->payload_len = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16;
	out->protocol = buf[4];
	if (out->payload_len == 0)
		return -ERR_SYNTAX;
	if (out->payload_len > MYSQL_PACKET_MAX)
		return -ERR_TOOBIG;
	if (len < 4 + (size_t)out->payload_len)
		return PARSE_AGAIN;
	if (out->protocol == 0xFF)
		r = error_packet(buf + 4, out->payload_len, out);
	else
		r = handshake(buf + 4, out->payload_len, out);
	return r < 0 ? r : 4 + (int)out->payload_len;
}
