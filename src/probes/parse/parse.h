/* SPDX-License-Identifier: MIT */
/*
 * Conventions of the pure parsers (STYLE.md §5). Each x_parse(const uint8_t *buf, size_t len,
 * struct x *out) returns the bytes consumed (> 0) when a whole message was parsed, PARSE_AGAIN
 * (0) when more bytes are needed, or a negative -ERR_* when the bytes cannot be that message.
 * *out is zeroed on entry; text fields are NUL-terminated and cut to fit (truncated = true).
 * They never read beyond buf[len - 1], never allocate and never log.
 */
#ifndef EXPOSURE_PROBES_PARSE_PARSE_H
#define EXPOSURE_PROBES_PARSE_PARSE_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARSE_AGAIN 0

/* Copy at most len bytes of peer text into dst (size > 0), replacing every byte that is not
 * printable ASCII with '?', always NUL-terminating. Returns true if the text was cut. */
bool parse_copy_text(char *dst, size_t size, const uint8_t *src, size_t len);

/* Whether needle occurs in the NUL-terminated hay, bytes compared with bit 0x20 ignored (so
 * ASCII letters match without regard to case). */
bool parse_contains_ci(const char *hay, const char *needle);

/*
 * Whether bytes that answered a clear-text HTTP request say the port wants TLS: a TLS record
 * (handshake or alert, version 3.x) at their start, or one of the refusal pages web servers send
 * to plain HTTP on their TLS ports (nginx, Apache httpd's mod_ssl, Go's net/http, CherryPy's
 * cheroot) anywhere in them. The one list of those pages: PROBES.md, "Plain HTTP on a TLS port".
 */
bool parse_http_wants_tls(const uint8_t *buf, size_t len);

static inline uint16_t parse_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t parse_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t parse_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t parse_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

#endif
