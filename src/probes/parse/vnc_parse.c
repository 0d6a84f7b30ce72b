/* SPDX-License-Identifier: MIT */
/* RFB ProtocolVersion, security, SecurityResult and VeNCrypt parsers (vnc_parse.h). */
#include "probes/parse/vnc_parse.h"

#include <string.h>

int vnc_parse_version(const uint8_t *buf, size_t len, struct vnc_version *out)
{
	static const char pattern[] = "RFB 999.999\n"; /* '9' = any digit */
	size_t n = len < VNC_VERSION_LEN ? len : VNC_VERSION_LEN;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		bool ok =
		    pattern[i] == '9' ? (buf[i] >= '0' && buf[i] <= '9') : buf[i] == pattern[i];

		if (!ok)
			return -ERR_SYNTAX;
	}
	if (len < VNC_VERSION_LEN)
		return PARSE_AGAIN;
	for (size_t i = 4; i < 7; i++)
		out->major = out->major * 10 + (unsigned)(buf[i] - '0');
	for (size_t i = 8; i < 11; i++)
		out->minor = out->minor * 10 + (unsigned)(buf[i] - '0');
	memcpy(out->text, buf, VNC_VERSION_LEN - 1);
	out->text[VNC_VERSION_LEN - 1] = '\0';
	/* §8.1 step 2: never answer higher than the server; 3.5 (and other odd 3.x) is 3.3 */
	if (out->major > 3 || (out->major == 3 && out->minor >= 8))
		out->rfb_minor = 8;
	else if (out->major == 3 && out->minor == 7)
		out->rfb_minor = 7;
	else
		out->rfb_minor = 3;
	return VNC_VERSION_LEN;
}

const char *vnc_version_reply(unsigned rfb_minor)
{
	switch (rfb_minor) {
	case 8:
		return "RFB 003.008\n";
	case 7:
		return "RFB 003.007\n";
	default:
		return "RFB 003.003\n";
	}
}

/* U32 length + text at buf. Returns 4 + length, PARSE_AGAIN or -ERR_TOOBIG (text cut). */
static int parse_reason(const uint8_t *buf, size_t len, struct vnc_reason *r)
{
	if (len < 4)
		return PARSE_AGAIN;
	r->length = parse_be32(buf);
	if (r->length > VNC_REASON_MAX) {
		if (len - 4 < VNC_REASON_MAX)
			return PARSE_AGAIN;
		parse_copy_text(r->text, sizeof(r->text), buf + 4, VNC_REASON_MAX);
		r->truncated = true;
		return -ERR_TOOBIG;
	}
	if (len - 4 < r->length)
		return PARSE_AGAIN;
	parse_copy_text(r->text, sizeof(r->text), buf + 4, r->length);
	return (int)(4 + r->length);
}

int vnc_parse_sec_types(const uint8_t *buf, size_t len, struct vnc_sec_types *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return PARSE_AGAIN;
	out->count = buf[0];
	if (out->count == 0) {
		out->failed = true;
		r = parse_reason(buf + 1, len - 1, &out->reason);
		return r > 0 ? r + 1 : r;
	}
	if (len - 1 < out->count)
		return PARSE_AGAIN;
	for (unsigned i = 0; i < out->count; i++) {
		uint8_t t = buf[1 + i];

		out->types[i] = t;
		out->has_none |= t == VNC_SEC_NONE;
		out->has_vnc_auth |= t == VNC_SEC_VNC_AUTH;
		out->has_vencrypt |= t == VNC_SEC_VENCRYPT;
		out->has_tight |= t == VNC_SEC_TIGHT;
	}
	return (int)(1 + out->count);
}

int vnc_parse_sec33(const uint8_t *buf, size_t len, struct vnc_sec33 *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return PARSE_AGAIN;
	out->type = parse_be32(buf);
	if (out->type > 255)
		return -ERR_PROTO;
	if (out->type != VNC_SEC_INVALID)
		return 4;
	out->failed = true;
	r = parse_reason(buf + 4, len - 4, &out->reason);
	return r > 0 ? r + 4 : r;
}

int vnc_parse_sec_result(const uint8_t *buf, size_t len, unsigned rfb_minor,
                         struct vnc_sec_result *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return PARSE_AGAIN;
	out->status = parse_be32(buf);
	if (out->status == 0 || rfb_minor < 8)
		return 4;
	out->has_reason = true;
	r = parse_reason(buf + 4, len - 4, &out->reason);
	return r > 0 ? r + 4 : r;
}

int vnc_parse_vencrypt_version(const uint8_t *buf, size_t len, struct vnc_vencrypt_version *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 2)
		return PARSE_AGAIN;
	out->major = buf[0];
	out->minor = buf[1];
	return 2;
}

int vnc_parse_vencrypt_subtypes(const uint8_t *buf, size_t len, struct vnc_vencrypt_subtypes *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 1)
		return PARSE_AGAIN;
	out->ack = buf[0];
	if (out->ack != 0)
		return 1;
	if (len < 2)
		return PARSE_AGAIN;
	out->count = buf[1];
	if ((len - 2) / 4 < out->count)
		return PARSE_AGAIN;
	for (unsigned i = 0; i < out->count; i++) {
		uint32_t t = parse_be32(buf + 2 + 4 * i);

		out->subtypes[i] = t;
		out->has_plain |= t == VNC_VENCRYPT_PLAIN;
		out->has_no_auth |= t == VNC_VENCRYPT_TLSNONE || t == VNC_VENCRYPT_X509NONE;
	}
	return (int)(2 + 4 * out->count);
}
