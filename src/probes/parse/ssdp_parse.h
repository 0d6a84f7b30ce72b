/* SPDX-License-Identifier: MIT */
/*
 * SSDP (UPnP discovery, UDP 1900): the M-SEARCH request we send and the answer to it, an HTTP/1.1
 * response in one datagram (UPnP Device Architecture 1.1 §1.3.2-§1.3.3; docs/internals/PROBES.md,
 * "SSDP"). Pure: no I/O, no allocation; every header value is printable ASCII ('?' for anything
 * else) and capped.
 */
#ifndef EXPOSURE_PROBES_PARSE_SSDP_PARSE_H
#define EXPOSURE_PROBES_PARSE_SSDP_PARSE_H

#include "probes/parse/parse.h"

#define SSDP_VALUE_MAX 256 /* bytes kept of one header value, NUL included */
#define SSDP_LINES_MAX 64  /* header lines read at most; more is not an SSDP answer */

/* What the answer says. */
struct ssdp_reply {
	unsigned status;                    /* 200 */
	char reason[64];                    /* "OK" */
	char location[SSDP_VALUE_MAX];      /* LOCATION: the device description's URL */
	char server[SSDP_VALUE_MAX];        /* SERVER: "OS/ver UPnP/1.1 product/ver" */
	char st[SSDP_VALUE_MAX];            /* ST: the search target answered */
	char usn[SSDP_VALUE_MAX];           /* USN: uuid:...::upnp:rootdevice */
	char cache_control[SSDP_VALUE_MAX]; /* CACHE-CONTROL: max-age=N */
	bool has_location, has_server, has_st, has_usn, has_ext;
	bool truncated; /* a value was cut to SSDP_VALUE_MAX */
	bool complete;  /* the empty line ending the headers was there */
	unsigned lines; /* header lines read */
};

/* The unicast M-SEARCH of the probe (ST upnp:rootdevice, MAN "ssdp:discover", MX 1). */
extern const char ssdp_msearch[];
extern const size_t ssdp_msearch_len;

/*
 * Parse one answer datagram. Returns len (> 0) when it is an HTTP/1.x response whose status line
 * and headers could be read (out holds them; complete says whether the blank line came: a
 * datagram cut short still counts), or -ERR_SYNTAX when it is not an HTTP response at all (no
 * "HTTP/1." status line), or -ERR_TOOBIG past SSDP_LINES_MAX header lines.
 */
int ssdp_parse_reply(const uint8_t *buf, size_t len, struct ssdp_reply *out);

/* Whether the answer is an SSDP discovery answer: 200 with LOCATION or SERVER (or USN/ST). */
bool ssdp_is_discovery(const struct ssdp_reply *r);

#endif
