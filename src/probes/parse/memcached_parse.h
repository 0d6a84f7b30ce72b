/* SPDX-License-Identifier: MIT */
/*
 * memcached's text protocol, the little the probes use (memcached's doc/protocol.txt): the
 * `version` command's answer line, the error lines, and the 8-byte frame header every UDP
 * datagram carries (docs/internals/PROBES.md, "memcached"). Pure: no I/O, no allocation.
 */
#ifndef EXPOSURE_PROBES_PARSE_MEMCACHED_PARSE_H
#define EXPOSURE_PROBES_PARSE_MEMCACHED_PARSE_H

#include "probes/parse/parse.h"

#define MEMCACHED_LINE_MAX 1024 /* a version or error line longer than this is not one */
#define MEMCACHED_TEXT_MAX 128  /* bytes kept of the version or the error text */
#define MEMCACHED_UDP_HDR  8

enum memcached_line_kind {
	MEMCACHED_VERSION = 1, /* "VERSION <version>" */
	MEMCACHED_ERROR,       /* "ERROR" */
	MEMCACHED_CLIENT_ERROR,
	MEMCACHED_SERVER_ERROR,
	MEMCACHED_OTHER, /* a line, not one of these */
};

struct memcached_line {
	enum memcached_line_kind kind;
	char text[MEMCACHED_TEXT_MAX]; /* the version, or the error's text */
	bool truncated;
};

/*
 * One reply line (ending in LF, CR LF expected): returns the bytes it took (> 0), PARSE_AGAIN
 * while no LF has come within MEMCACHED_LINE_MAX bytes, -ERR_TOOBIG past that.
 */
int memcached_parse_line(const uint8_t *buf, size_t len, struct memcached_line *out);

/* The UDP frame header (protocol.txt "UDP protocol"): all four fields big-endian. */
struct memcached_udp_hdr {
	uint16_t request_id, seq, total, reserved;
};

/* The probe's request id: any 16-bit value; the answer echoes it. */
#define MEMCACHED_UDP_REQUEST_ID 0x5ec1

/* Write the header of a single-datagram request (seq 0, total 1) into out[8]. */
void memcached_udp_request_hdr(uint8_t out[MEMCACHED_UDP_HDR], uint16_t request_id);

/*
 * Read the header of a UDP answer: returns MEMCACHED_UDP_HDR, or -ERR_SYNTAX (shorter than the
 * header, total 0, seq >= total, or reserved not 0).
 */
int memcached_udp_parse_hdr(const uint8_t *buf, size_t len, struct memcached_udp_hdr *out);

#endif
