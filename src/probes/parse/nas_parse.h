/* SPDX-License-Identifier: MIT */
/*
 * Pure parsers for the NAS admin check (docs/internals/PROBES.md, "NAS admin pages"): an HTTP
 * response head (RFC 9112 §4: status line, then header fields to the empty line), and the
 * markers of a Synology DSM or QNAP QTS page in a body (their sources are listed in PROBES.md).
 * Conventions of parse.h; text is escaped and cut.
 */
#ifndef EXPOSURE_PROBES_PARSE_NAS_PARSE_H
#define EXPOSURE_PROBES_PARSE_NAS_PARSE_H

#include "probes/parse/parse.h"

/* A response head longer than this is refused (-ERR_TOOBIG). */
#define HTTP_HEAD_MAX 8192

struct http_head {
	unsigned status;         /* 100..599 */
	bool has_length;         /* Content-Length present and valid */
	uint64_t content_length; /* its value */
	char server[64];         /* Server:, escaped */
	char location[128];      /* Location:, escaped */
	bool truncated;
};

/*
 * "HTTP/1.x NNN ..." up to the empty line. Returns the head's length (the body starts there),
 * PARSE_AGAIN, -ERR_PROTO when the bytes cannot start an HTTP/1 response, -ERR_SYNTAX for a
 * malformed status line, -ERR_TOOBIG past HTTP_HEAD_MAX.
 */
int http_parse_head(const uint8_t *buf, size_t len, struct http_head *out);

enum nas_vendor { NAS_NONE = 0, NAS_SYNOLOGY, NAS_QNAP };

struct nas_page {
	enum nas_vendor vendor;
	unsigned markers;     /* Synology markers seen (bits, see nas_parse.c) */
	char device_name[64]; /* DSM: the name in "<title>NAME - Synology DiskStation</title>" */
	char model[64];       /* QNAP: displayModelName, else modelName, else internalModelName */
	char firmware[32];    /* QNAP: <version> */
	char build[32];       /* QNAP: <build> */
	bool truncated;
};

/* Scan a body (or what was read of it) for the pages' markers. Never fails. */
void nas_scan(const uint8_t *body, size_t len, struct nas_page *out);

#endif
