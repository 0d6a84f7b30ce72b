/* SPDX-License-Identifier: MIT */
/*
 * Pure RDP helpers: parse the server's X.224 Connection Confirm inside TPKT ([MS-RDPBCGR]
 * §2.2.1.2, PROTOCOLS.md §7.2) and build the client's X.224 Connection Request with an
 * RDP_NEG_REQ ([MS-RDPBCGR] §2.2.1.1, PROTOCOLS.md §7.1). Conventions of parse.h.
 */
#ifndef EXPOSURE_PROBES_PARSE_RDP_PARSE_H
#define EXPOSURE_PROBES_PARSE_RDP_PARSE_H

#include "probes/parse/parse.h"

/* requestedProtocols / selectedProtocol bits ([MS-RDPBCGR] §2.2.1.1.1). */
enum rdp_protocol {
	RDP_PROTO_RDP = 0x00,    /* Standard RDP Security only */
	RDP_PROTO_SSL = 0x01,    /* TLS */
	RDP_PROTO_HYBRID = 0x02, /* CredSSP = NLA */
	RDP_PROTO_RDSTLS = 0x04,
	RDP_PROTO_HYBRID_EX = 0x08, /* CredSSP with Early User Authorization Result PDU */
	RDP_PROTO_RDSAAD = 0x10,
};

/* RDP_NEG_RSP flags ([MS-RDPBCGR] §2.2.1.2.1). */
enum rdp_neg_rsp_flags {
	RDP_NEGRSP_EXTENDED_CLIENT_DATA = 0x01,
	RDP_NEGRSP_DYNVC_GFX = 0x02,
	RDP_NEGRSP_RESERVED = 0x04,
	RDP_NEGRSP_RESTRICTED_ADMIN = 0x08,
	RDP_NEGRSP_REDIRECTED_AUTH = 0x10,
};

/* RDP_NEG_FAILURE failureCode ([MS-RDPBCGR] §2.2.1.2.2). */
enum rdp_failure_code {
	RDP_FAIL_SSL_REQUIRED_BY_SERVER = 1,
	RDP_FAIL_SSL_NOT_ALLOWED_BY_SERVER = 2,
	RDP_FAIL_SSL_CERT_NOT_ON_SERVER = 3,
	RDP_FAIL_INCONSISTENT_FLAGS = 4,
	RDP_FAIL_HYBRID_REQUIRED_BY_SERVER = 5,   /* NLA required */
	RDP_FAIL_SSL_WITH_USER_AUTH_REQUIRED = 6, /* TLS with client certificate */
};

enum rdp_cc_kind {
	RDP_CC_LEGACY = 0,  /* CC without rdpNegData (LI 6) */
	RDP_CC_NEG_RSP,     /* RDP_NEG_RSP (type 0x02): selected_protocol is valid */
	RDP_CC_NEG_FAILURE, /* RDP_NEG_FAILURE (type 0x03): failure_code is valid */
	RDP_CC_X_MAX
};

/* Smallest / largest TPKT length accepted for a CC (PROTOCOLS.md §7.2). */
#define RDP_CC_MIN 11
#define RDP_CC_MAX 512

/* TPKT (T.123 §8) + X.224 Connection Confirm TPDU + optional 8-byte rdpNegData. */
struct rdp_cc {
	enum rdp_cc_kind kind;
	uint16_t tpkt_length;
	uint16_t dst_ref, src_ref; /* xrdp and Windows: 0x0000 / 0x1234 */
	uint8_t class_opt;
	uint8_t neg_flags;          /* RDP_NEG_RSP flags (enum rdp_neg_rsp_flags) */
	uint32_t selected_protocol; /* RDP_CC_NEG_RSP: one enum rdp_protocol value */
	uint32_t failure_code;      /* RDP_CC_NEG_FAILURE: enum rdp_failure_code */
};

/*
 * Parse a Connection Confirm at the start of buf. Returns the TPKT length (> 0, the bytes
 * consumed); PARSE_AGAIN until the whole TPKT is present; -ERR_SYNTAX when the first byte is not
 * the TPKT version 3 (another service: TLS, HTTP...); -ERR_PROTO for a TPKT length outside
 * RDP_CC_MIN..RDP_CC_MAX, LI + 5 != TPKT length, an LI other than 6 or 14, a rdpNegData type
 * other than 2/3 or with a length other than 8; -ERR_UNSUPPORTED for a well-framed TPDU that is
 * not a CC (Disconnect Request 0x80, data 0xF0...: out->tpkt_length is set, buf[5] tells which).
 */
int rdp_parse_cc(const uint8_t *buf, size_t len, struct rdp_cc *out);

/* Longest cookie name accepted by rdp_build_cr (printable ASCII, no space). */
#define RDP_COOKIE_MAX 64
/* Size of the largest Connection Request rdp_build_cr writes. */
#define RDP_CR_MAX (11 + 17 + RDP_COOKIE_MAX + 2 + 8)

/*
 * Write a TPKT + X.224 Connection Request into dst: cookie "Cookie: mstshash=<cookie>\r\n" when
 * cookie is not NULL, then an RDP_NEG_REQ (flags 0) with requested (enum rdp_protocol bits) when
 * neg_req is true. Returns the bytes written (PROTOCOLS.md §7.1: 47 with cookie "selfcheck",
 * 19 without cookie); -ERR_TOOBIG when cap is too small; -ERR_RANGE when the cookie is longer than
 * RDP_COOKIE_MAX or holds bytes outside printable ASCII or a space.
 */
int rdp_build_cr(uint8_t *dst, size_t cap, const char *cookie, bool neg_req, uint32_t requested);

/* "SSL_REQUIRED_BY_SERVER"...; "UNKNOWN" for other codes. Static storage. */
const char *rdp_failure_name(uint32_t code);

#endif
