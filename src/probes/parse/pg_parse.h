/* SPDX-License-Identifier: MIT */
/*
 * Pure builders and parsers for the start of a PostgreSQL conversation (PostgreSQL
 * documentation, "Frontend/Backend Protocol": 55.2.10 SSL Session Encryption, 55.7 Message
 * Formats, 55.8 Error and Notice Message Fields; docs/internals/PROBES.md, "PostgreSQL"): the
 * SSLRequest and a StartupMessage without a user, the one-byte answer to the SSLRequest, and
 * the server's first message (ErrorResponse, and the protocol-2 error of servers before 7.4).
 * Conventions of parse.h.
 */
#ifndef EXPOSURE_PROBES_PARSE_PG_PARSE_H
#define EXPOSURE_PROBES_PARSE_PG_PARSE_H

#include "probes/parse/parse.h"

#define PG_SSL_REQUEST_CODE 80877103u /* 1234 << 16 | 5679 */
#define PG_PROTOCOL_3       196608u   /* 3 << 16 */
/* Longest message read: an ErrorResponse is ~100-300 bytes. */
#define PG_MSG_MAX  8192
#define PG_TEXT_MAX 256

/* The 8 bytes of the SSLRequest into out (cap >= 8). Returns 8, or 0 if cap is too small. */
size_t pg_build_ssl_request(uint8_t *out, size_t cap);

/*
 * A StartupMessage for protocol 3.0 with no parameter at all (no user: the server must refuse
 * it with an error, and never authenticates). Returns 9, or 0 if cap is too small.
 */
size_t pg_build_startup(uint8_t *out, size_t cap);

/*
 * The answer to the SSLRequest at the start of buf: 'S' (TLS next) or 'N' (go on in clear).
 * Returns 1 with *out set; PARSE_AGAIN for no byte; -ERR_SYNTAX for anything else ('E': a
 * server that does not know the request; the caller parses it with pg_parse_message).
 */
int pg_parse_ssl_answer(const uint8_t *buf, size_t len, char *out);

struct pg_message {
	char type; /* 'E' ErrorResponse, 'R' Authentication, 'v' NegotiateProtocolVersion... */
	uint32_t length; /* the int32 after the type (protocol 3); 0 for a protocol-2 error */
	bool v2;         /* a protocol-2 error: 'E' and one NUL-terminated text */
	/* ErrorResponse / NoticeResponse fields (55.8) */
	char severity[16];         /* S: localized; V (9.6+): never localized, preferred */
	char sqlstate[6];          /* C */
	char message[PG_TEXT_MAX]; /* M, or the protocol-2 text */
	char routine[64];          /* R: the server function that raised it */
	bool truncated;            /* a protocol-2 text past PG_TEXT_MAX */
	uint32_t auth;             /* 'R': 0 ok, 3 cleartext, 5 MD5, 10 SASL ... */
};

/*
 * Parse one backend message at the start of buf. Returns its size; PARSE_AGAIN until complete;
 * -ERR_SYNTAX when the type is not a letter or the length is under 4 (another service);
 * -ERR_TOOBIG past PG_MSG_MAX; -ERR_PROTO for an ErrorResponse whose fields do not end inside
 * it. An 'E' whose length is not plausible is read as a protocol-2 error when it is text.
 */
int pg_parse_message(const uint8_t *buf, size_t len, struct pg_message *out);

#endif
