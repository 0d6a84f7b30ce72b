/* SPDX-License-Identifier: MIT */
/* RDP X.224 Connection Confirm parser and Connection Request builder (rdp_parse.h). */
#include "probes/parse/rdp_parse.h"

#include <string.h>

#define TPKT_VERSION 0x03
#define X224_CR      0xE0
#define X224_CC      0xD0
#define NEG_REQ      0x01
#define NEG_RSP      0x02
#define NEG_FAILURE  0x03

int rdp_parse_cc(const uint8_t *buf, size_t len, struct rdp_cc *out)
{
	uint16_t l;
	uint8_t li;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return PARSE_AGAIN;
	if (buf[0] != TPKT_VERSION)
		return -ERR_SYNTAX;
	if (len < 4)
		return PARSE_AGAIN;
	l = parse_be16(buf + 2);
	if (l < RDP_CC_MIN || l > RDP_CC_MAX)
		return -ERR_PROTO;
	if (len < l)
		return PARSE_AGAIN;
	/* X.224 §13.3: LI counts the header bytes after itself */
	li = buf[4];
	if ((size_t)li + 5 != l)
		return -ERR_PROTO;
	out->tpkt_length = l;
	if ((buf[5] & 0xF0) != X224_CC)
		return -ERR_UNSUPPORTED;
	out->dst_ref = parse_be16(buf + 6);
	out->src_ref = parse_be16(buf + 8);
	out->class_opt = buf[10];
	if (li == 6) {
		out->kind = RDP_CC_LEGACY;
		return l;
	}
	if (li != 14)
		return -ERR_PROTO;
	/* [MS-RDPBCGR] §2.2.1.2.1/2: type, flags, length (LE, always 8), 32-bit value (LE) */
	if (parse_le16(buf + 13) != 8)
		return -ERR_PROTO;
	switch (buf[11]) {
	case NEG_RSP:
		out->kind = RDP_CC_NEG_RSP;
		out->neg_flags = buf[12];
		out->selected_protocol = parse_le32(buf + 15);
		break;
	case NEG_FAILURE:
		out->kind = RDP_CC_NEG_FAILURE;
		out->neg_flags = buf[12];
		out->failure_code = parse_le32(buf + 15);
		break;
	default:
		return -ERR_PROTO;
	}
	return l;
}

int rdp_build_cr(uint8_t *dst, size_t cap, const char *cookie, bool neg_req, uint32_t requested)
{
	static const char pfx[] = "Cookie: mstshash=";
	size_t clen = 0, n = 0, total;

	if (cookie) {
		clen = strnlen(cookie, RDP_COOKIE_MAX + 1);
		if (clen > RDP_COOKIE_MAX)
			return -ERR_RANGE;
		for (size_t i = 0; i < clen; i++)
			if (cookie[i] <= 0x20 || cookie[i] >= 0x7f)
				return -ERR_RANGE;
	}
	/* TPKT 4 + LI 1 + CR TPDU 6 [+ cookie line] [+ RDP_NEG_REQ 8] */
	total = 11 + (cookie ? sizeof(pfx) - 1 + clen + 2 : 0) + (neg_req ? 8 : 0);
	if (total > cap)
		return -ERR_TOOBIG;
	dst[n++] = TPKT_VERSION;
	dst[n++] = 0;
	dst[n++] = (uint8_t)(total >> 8);
	dst[n++] = (uint8_t)total;
	dst[n++] = (uint8_t)(total - 5);
	dst[n++] = X224_CR;
	memset(dst + n, 0, 5); /* DST-REF, SRC-REF, class 0 */
	n += 5;
	if (cookie) {
		memcpy(dst + n, pfx, sizeof(pfx) - 1);
		n += sizeof(pfx) - 1;
		memcpy(dst + n, cookie, clen);
		n += clen;
		dst[n++] = '\r';
		dst[n++] = '\n';
	}
	if (neg_req) {
		dst[n++] = NEG_REQ;
		dst[n++] = 0;
		dst[n++] = 8;
		dst[n++] = 0;
		for (int i = 0; i < 4; i++)
			dst[n++] = (uint8_t)(requested >> (8 * i));
	}
	return (int)n;
}

const char *rdp_failure_name(uint32_t code)
{
	switch (code) {
	case RDP_FAIL_SSL_REQUIRED_BY_SERVER:
		return "SSL_REQUIRED_BY_SERVER";
	case RDP_FAIL_SSL_NOT_ALLOWED_BY_SERVER:
		return "SSL_NOT_ALLOWED_BY_SERVER";
	case RDP_FAIL_SSL_CERT_NOT_ON_SERVER:
		return "SSL_CERT_NOT_ON_SERVER";
	case RDP_FAIL_INCONSISTENT_FLAGS:
		return "INCONSISTENT_FLAGS";
	case RDP_FAIL_HYBRID_REQUIRED_BY_SERVER:
		return "HYBRID_REQUIRED_BY_SERVER";
	case RDP_FAIL_SSL_WITH_USER_AUTH_REQUIRED:
		return "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER";
	default:
		return "UNKNOWN";
	}
}
