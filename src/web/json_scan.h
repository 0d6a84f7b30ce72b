/* SPDX-License-Identifier: MIT */
/*
 * Find a member of a serialised JSON document without building it: the API serves a stored
 * result document and its "checks" array as the bytes they were stored as, so a GET never
 * parses and re-serialises a document (docs/api.md). The scan checks the whole text against
 * the JSON grammar (RFC 8259, UTF-8 included), so what it hands out is valid JSON.
 */
#ifndef EXPOSURE_WEB_JSON_SCAN_H
#define EXPOSURE_WEB_JSON_SCAN_H

#include <stddef.h>

#define JSON_SCAN_DEPTH_MAX 64 /* nesting; our documents use five */

/* A member's value inside the scanned text. */
struct json_span {
	const char *p; /* its first byte */
	size_t len;
	size_t n_elems; /* elements, when the value is an array; else 0 */
};

/*
 * s[0..len) must be one JSON object (white space around it allowed). Find its top-level member
 * key (the first one of that name; key holds no character that needs escaping) and set *out.
 * Returns 0; -ENOENT when the object has no such member; -ERR_SYNTAX when s is not valid JSON,
 * not an object, or nests deeper than JSON_SCAN_DEPTH_MAX. *out is written only on success.
 */
int json_scan_member(const char *s, size_t len, const char *key, struct json_span *out);

#endif
