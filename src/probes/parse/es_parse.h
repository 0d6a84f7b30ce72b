/* SPDX-License-Identifier: MIT */
/*
 * Pure parsers for an Elasticsearch (or OpenSearch) answer to GET / (RFC 9112 message framing;
 * Elasticsearch "Root API" / "Info API" documentation; docs/internals/PROBES.md,
 * "Elasticsearch"): the HTTP response head, and a bounded JSON scanner that picks the few
 * members the probe reports from the body. Conventions of parse.h.
 */
#ifndef EXPOSURE_PROBES_PARSE_ES_PARSE_H
#define EXPOSURE_PROBES_PARSE_ES_PARSE_H

#include "probes/parse/parse.h"

/* Longest response head read (status line + headers). */
#define ES_HEAD_MAX 8192
/* Longest body read: the root document is about 500 bytes. */
#define ES_BODY_MAX 16384
#define ES_TEXT_MAX 128

struct es_http {
	unsigned status;            /* 200, 401 ... */
	char reason[ES_TEXT_MAX];   /* reason phrase */
	char www_auth[ES_TEXT_MAX]; /* WWW-Authenticate (first one) */
	char server[ES_TEXT_MAX];   /* Server, if any */
	char product[ES_TEXT_MAX];  /* X-elastic-product (Elasticsearch 7.14+) */
	char content_type[ES_TEXT_MAX];
	bool has_length; /* Content-Length present */
	bool chunked;    /* Transfer-Encoding: chunked */
	uint32_t content_length;
	size_t head_len; /* bytes of the head, with the empty line */
};

/*
 * Parse the response head at the start of buf. Returns head_len (> 0) when the empty line that
 * ends it is there; PARSE_AGAIN before; -ERR_SYNTAX when buf does not start with "HTTP/1." and a
 * 3-digit status (another service); -ERR_TOOBIG past ES_HEAD_MAX; -ERR_PROTO for a malformed
 * Content-Length or one past ES_BODY_MAX.
 */
int es_parse_head(const uint8_t *buf, size_t len, struct es_http *out);

/* The members of the root document (and of an error document) the probe reports. */
struct es_info {
	char cluster_name[ES_TEXT_MAX];
	char name[ES_TEXT_MAX]; /* node name */
	char cluster_uuid[ES_TEXT_MAX];
	char version[ES_TEXT_MAX];      /* version.number */
	char distribution[ES_TEXT_MAX]; /* version.distribution: "opensearch" */
	char build_flavor[ES_TEXT_MAX]; /* version.build_flavor: "default", "oss" */
	char tagline[ES_TEXT_MAX];      /* "You Know, for Search" (also OpenSearch's) */
	char error_type[ES_TEXT_MAX];   /* error.type: "security_exception" */
	bool has_cluster_name, has_version, has_error;
	unsigned members; /* top-level members seen */
};

/*
 * Scan a JSON body (an object, with blanks around it). Returns len (> 0) when buf is exactly one
 * well-formed JSON object; PARSE_AGAIN when it ends before the object does; -ERR_SYNTAX
 * otherwise (not JSON, something after the object, or nesting deeper than 16).
 */
int es_parse_body(const uint8_t *buf, size_t len, struct es_info *out);

#endif
