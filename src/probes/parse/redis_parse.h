/* SPDX-License-Identifier: MIT */
/*
 * Pure parsers for the replies of a Redis server to PING and INFO (RESP2, the Redis protocol
 * specification "RESP protocol spec"; docs/internals/PROBES.md, "Redis"). Conventions of parse.h.
 */
#ifndef EXPOSURE_PROBES_PARSE_REDIS_PARSE_H
#define EXPOSURE_PROBES_PARSE_REDIS_PARSE_H

#include "probes/parse/parse.h"

/* A first line longer than this is not a reply we expect (protected mode's -DENIED is ~1 KiB). */
#define REDIS_LINE_MAX 4096
/* Text kept of a simple string or error line. */
#define REDIS_TEXT_MAX 256
/* Largest bulk string read: INFO server is about 1 KiB. */
#define REDIS_BULK_MAX 16384

/* The error kinds the probe tells apart, by the error's first word (src/server.c, acl.c). */
enum redis_err {
	REDIS_ERR_NONE = 0, /* not an error reply */
	REDIS_ERR_OTHER,    /* -ERR ... or anything else */
	REDIS_ERR_NOAUTH,   /* -NOAUTH Authentication required. (requirepass / ACL) */
	REDIS_ERR_DENIED,   /* -DENIED Redis is running in protected mode ... */
	REDIS_ERR_NOPERM,   /* -NOPERM: the default user may not run the command (ACL) */
};

struct redis_reply {
	char type;                     /* '+', '-', ':', '$' or '*' (RESP2 first byte) */
	char text[REDIS_TEXT_MAX + 1]; /* the line after the type byte, sanitised */
	bool truncated;                /* the line was longer than REDIS_TEXT_MAX */
	enum redis_err err;            /* for '-' */
	int64_t length;                /* '$': the bulk length (-1: null), '*': the count */
	size_t data_off, data_len;     /* '$': where the bulk payload is in buf */
};

/*
 * Parse one reply at the start of buf: a line "<type><text>\r\n", and for '$' the bulk payload
 * and its CRLF. Returns the bytes consumed; PARSE_AGAIN until complete; -ERR_SYNTAX when the
 * first byte is not a RESP2 type or the line holds a bare CR/LF (another service); -ERR_TOOBIG
 * for a line past REDIS_LINE_MAX or a bulk past REDIS_BULK_MAX; -ERR_PROTO for a malformed
 * length or a bulk not followed by CRLF. An array ('*') is the header line only.
 */
int redis_parse_reply(const uint8_t *buf, size_t len, struct redis_reply *out);

#define REDIS_FIELD_MAX 64

/* The fields of INFO server the probe reports ("field:value" lines, src/server.c
 * genRedisInfoString). */
struct redis_info {
	char version[REDIS_FIELD_MAX]; /* redis_version */
	char mode[REDIS_FIELD_MAX];    /* redis_mode: standalone, cluster, sentinel */
	char os[REDIS_FIELD_MAX];      /* os */
	unsigned lines;                /* "field:value" lines seen */
	bool server_section;           /* a "# Server" header was seen */
};

/* Read INFO text (a bulk payload). Returns the number of field lines (>= 0); never fails. */
int redis_parse_info(const uint8_t *data, size_t len, struct redis_info *out);

#endif
