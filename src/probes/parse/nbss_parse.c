/* SPDX-License-Identifier: MIT */
/* NetBIOS session service packets and SMB framing (nbss_parse.h). */
#include "probes/parse/nbss_parse.h"

#include <string.h>

/* Size of an SMB3 TRANSFORM_HEADER ([MS-SMB2] §2.2.41). */
#define SMB3_TRANSFORM_MIN 52

int nbss_parse(const uint8_t *buf, size_t len, struct nbss_packet *out)
{
	uint32_t need;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return PARSE_AGAIN;
	switch (buf[0]) {
	case NBSS_MESSAGE:
		need = 0;
		break;
	case NBSS_REQUEST:
		need = 2 * NBSS_NAME_WIRE;
		break;
	case NBSS_POSITIVE:
	case NBSS_KEEPALIVE:
		need = 0;
		break;
	case NBSS_NEGATIVE:
		need = 1;
		break;
	case NBSS_RETARGET:
		need = 6;
		break;
	default:
		return -ERR_SYNTAX;
	}
	if (len < 2)
		return PARSE_AGAIN;
	if (buf[1] & ~1u)
		return -ERR_SYNTAX;
	if (len < NBSS_HDR_LEN)
		return PARSE_AGAIN;
	out->type = buf[0];
	out->flags = buf[1];
	/* RFC 1002 §4.3.1: E bit is the 17th bit of LENGTH */
	out->length = (uint32_t)(buf[1] & 1) << 16 | parse_be16(buf + 2);
	if (buf[0] == NBSS_MESSAGE) {
		if (out->length > SMB_FRAME_MAX)
			return -ERR_TOOBIG;
	} else if (out->length != need) {
		return -ERR_PROTO;
	}
	if (len - NBSS_HDR_LEN < out->length)
		return PARSE_AGAIN;
	if (buf[0] == NBSS_NEGATIVE) {
		out->error_code = buf[4];
	} else if (buf[0] == NBSS_RETARGET) {
		memcpy(out->retarget_ip, buf + 4, 4);
		out->retarget_port = parse_be16(buf + 8);
	}
	return (int)(NBSS_HDR_LEN + out->length);
}

int nbss_encode_name(uint8_t *dst, size_t cap, const char *name, uint8_t suffix)
{
	uint8_t raw[16];
	size_t n = strlen(name);
	bool wildcard = strcmp(name, "*") == 0;

	if (cap < NBSS_NAME_WIRE)
		return -ERR_TOOBIG;
	if (n == 0 || n > NBSS_NAME_MAX)
		return -ERR_RANGE;
	for (size_t i = 0; i < NBSS_NAME_MAX; i++) {
		if (i < n) {
			uint8_t c = (uint8_t)name[i];

			if (c < 0x20 || c > 0x7e)
				return -ERR_RANGE;
			raw[i] = (c >= 'a' && c <= 'z') ? (uint8_t)(c - 'a' + 'A') : c;
		} else {
			raw[i] = wildcard ? 0x00 : 0x20;
		}
	}
	raw[15] = suffix;
	/* RFC 1001 §14.1 first-level encoding: one nibble per letter 'A'..'P' */
	dst[0] = 0x20;
	for (size_t i = 0; i < 16; i++) {
		dst[1 + 2 * i] = (uint8_t)('A' + (raw[i] >> 4));
		dst[2 + 2 * i] = (uint8_t)('A' + (raw[i] & 0x0f));
	}
	dst[33] = 0x00;
	return NBSS_NAME_WIRE;
}

int nbss_build_session_request(uint8_t *dst, size_t cap, const char *called, uint8_t called_suffix,
                               const char *calling, uint8_t calling_suffix)
{
	int r;

	if (cap < NBSS_REQUEST_LEN)
		return -ERR_TOOBIG;
	dst[0] = NBSS_REQUEST;
	dst[1] = 0;
	dst[2] = 0;
	dst[3] = 2 * NBSS_NAME_WIRE;
	r = nbss_encode_name(dst + 4, cap - 4, called, called_suffix);
	if (r < 0)
		return r;
	r = nbss_encode_name(dst + 4 + NBSS_NAME_WIRE, cap - 4 - NBSS_NAME_WIRE, calling,
	                     calling_suffix);
	if (r < 0)
		return r;
	return NBSS_REQUEST_LEN;
}

const char *nbss_error_name(uint8_t code)
{
	switch (code) {
	case NBSS_ERR_NOT_LISTENING_CALLED:
		return "not listening on called name";
	case NBSS_ERR_NOT_LISTENING_CALLING:
		return "not listening for calling name";
	case NBSS_ERR_CALLED_NOT_PRESENT:
		return "called name not present";
	case NBSS_ERR_INSUFFICIENT_RESOURCES:
		return "called name present, but insufficient resources";
	case NBSS_ERR_UNSPECIFIED:
		return "unspecified error";
	default:
		return "unknown error code";
	}
}

int smb_frame_parse(const uint8_t *buf, size_t len, struct smb_frame *out)
{
	uint32_t length, magic, min;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return PARSE_AGAIN;
	if (buf[0] != NBSS_MESSAGE && buf[0] != NBSS_KEEPALIVE)
		return -ERR_SYNTAX;
	if (len < NBSS_HDR_LEN)
		return PARSE_AGAIN;
	/* [MS-SMB2] §2.1: Zero (1) + StreamProtocolLength (3, big-endian) */
	length = (uint32_t)buf[1] << 16 | parse_be16(buf + 2);
	out->length = length;
	if (buf[0] == NBSS_KEEPALIVE) {
		if (length != 0)
			return -ERR_PROTO;
		out->kind = SMB_FRAME_KEEPALIVE;
		return NBSS_HDR_LEN;
	}
	if (length > SMB_FRAME_MAX)
		return -ERR_TOOBIG;
	if (length < 4)
		return -ERR_PROTO;
	if (len < NBSS_HDR_LEN + 4)
		return PARSE_AGAIN;
	magic = parse_le32(buf + 4);
	if (magic == SMB1_MAGIC) {
		out->kind = SMB_FRAME_SMB1;
		min = SMB1_MSG_MIN;
	} else if (magic == SMB2_MAGIC) {
		out->kind = SMB_FRAME_SMB2;
		min = SMB2_MSG_MIN;
	} else if (magic == SMB3_TRANSFORM_MAGIC) {
		out->kind = SMB_FRAME_TRANSFORM;
		min = SMB3_TRANSFORM_MIN;
	} else {
		return -ERR_SYNTAX;
	}
	if (length < min)
		return -ERR_PROTO;
	if (len - NBSS_HDR_LEN < length)
		return PARSE_AGAIN;
	return (int)(NBSS_HDR_LEN + length);
}
