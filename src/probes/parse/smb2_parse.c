/* SPDX-License-Identifier: MIT */
/* SMB2 NEGOTIATE request and response (smb2_parse.h). */
#include "probes/parse/smb2_parse.h"

#include <string.h>

/* Frame offset of the SMB2 header, and sizes ([MS-SMB2] §2.2.1, §2.2.4). */
#define HDR          4
#define HDR_LEN      64
#define NEG_BODY_LEN 64

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)parse_le32(p) | (uint64_t)parse_le32(p + 4) << 32;
}

/* Walk the 3.1.1 negotiate contexts ([MS-SMB2] §2.2.4: offsets from the SMB2 header). */
static int walk_contexts(const uint8_t *msg, uint32_t msg_len, struct smb2_negotiate *out)
{
	uint32_t pos = out->context_offset;

	if (out->context_count > SMB2_CONTEXTS_MAX)
		return -ERR_PROTO;
	for (unsigned i = 0; i < out->context_count; i++) {
		uint16_t type, dlen;
		const uint8_t *d;

		if (pos > msg_len)
			return -ERR_PROTO;
		pos = (pos + 7) & ~7u; /* each context is 8-byte aligned; no wrap: pos <= 64 KiB */
		if (pos > msg_len || msg_len - pos < 8)
			return -ERR_PROTO;
		type = parse_le16(msg + pos);
		dlen = parse_le16(msg + pos + 2);
		if (msg_len - pos - 8 < dlen)
			return -ERR_PROTO;
		d = msg + pos + 8;
		/* §2.2.3.1.1 / .2 / .7: count (2) then, for preauth, SaltLength (2), then ids */
		if (type == SMB2_PREAUTH_INTEGRITY_CAPABILITIES && dlen >= 6 && parse_le16(d) > 0)
			out->preauth_hash = parse_le16(d + 4);
		else if (type == SMB2_ENCRYPTION_CAPABILITIES && dlen >= 4 && parse_le16(d) > 0)
			out->cipher = parse_le16(d + 2);
		else if (type == SMB2_SIGNING_CAPABILITIES && dlen >= 4 && parse_le16(d) > 0)
			out->signing_alg = parse_le16(d + 2);
		out->contexts_seen++;
		pos += 8u + dlen;
	}
	return 0;
}

int smb2_parse_negotiate(const uint8_t *buf, size_t len, struct smb2_negotiate *out)
{
	const uint8_t *msg = buf + HDR, *b;
	struct smb_frame f;
	uint32_t msg_len;
	int r;

	memset(out, 0, sizeof(*out));
	r = smb_frame_parse(buf, len, &f);
	if (r <= 0)
		return r;
	out->frame_len = (uint32_t)r;
	if (f.kind == SMB_FRAME_SMB1 || f.kind == SMB_FRAME_TRANSFORM)
		return -ERR_UNSUPPORTED;
	if (f.kind != SMB_FRAME_SMB2)
		return -ERR_PROTO; /* keep-alive */
	msg_len = f.length;
	/* SMB2 sync header: StructureSize 64, CreditCharge, Status, Command, Credit, Flags... */
	if (parse_le16(msg + 4) != HDR_LEN || parse_le16(msg + 12) != 0x0000)
		return -ERR_PROTO;
	out->credit_charge = parse_le16(msg + 6);
	out->status = parse_le32(msg + 8);
	out->credits = parse_le16(msg + 14);
	out->flags = parse_le32(msg + 16);
	out->message_id = le64(msg + 24);
	if (msg_len >= HDR_LEN + 2)
		out->structure_size = parse_le16(msg + HDR_LEN);
	if (out->status != 0)
		return r;
	if (msg_len < HDR_LEN + NEG_BODY_LEN || out->structure_size != 65)
		return -ERR_PROTO;
	b = msg + HDR_LEN;
	out->security_mode = parse_le16(b + 2);
	out->dialect = parse_le16(b + 4);
	out->context_count = parse_le16(b + 6);
	memcpy(out->server_guid, b + 8, 16);
	out->capabilities = parse_le32(b + 24);
	out->max_transact = parse_le32(b + 28);
	out->max_read = parse_le32(b + 32);
	out->max_write = parse_le32(b + 36);
	out->system_time = le64(b + 40);
	out->server_start_time = le64(b + 48);
	out->security_buffer_offset = parse_le16(b + 56);
	out->security_buffer_length = parse_le16(b + 58);
	out->context_offset = parse_le32(b + 60);
	if (out->security_buffer_length &&
	    (uint32_t)out->security_buffer_offset + out->security_buffer_length > msg_len)
		return -ERR_PROTO;
	/* NegotiateContextOffset/Count are only defined for 3.1.1 (else Reserved) */
	if (out->dialect == 0x0311 && out->context_count) {
		int e = walk_contexts(msg, msg_len, out);

		if (e < 0)
			return e;
	}
	return r;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

int smb2_build_negotiate(uint8_t *dst, size_t cap, const uint8_t client_guid[16], bool with_311,
                         const uint8_t salt[32])
{
	static const uint16_t dialects[] = {0x0202, 0x0210, 0x0300, 0x0302, 0x0311};
	size_t frame_len = with_311 ? SMB2_NEGOTIATE_REQ_311_LEN : SMB2_NEGOTIATE_REQ_LEN;
	unsigned nd = with_311 ? 5 : 4;
	uint8_t *msg = dst + HDR, *b = msg + HDR_LEN;
	size_t msg_len = frame_len - HDR;

	if (cap < frame_len)
		return -ERR_TOOBIG;
	memset(dst, 0, frame_len);
	dst[2] = (uint8_t)(msg_len >> 8);
	dst[3] = (uint8_t)msg_len;
	msg[0] = 0xfe;
	memcpy(msg + 1, "SMB", 3);
	put16(msg + 4, HDR_LEN);    /* StructureSize */
	put16(msg + 14, 1);         /* CreditRequest */
	put16(msg + 32, 0xFEFF);    /* Reserved (ProcessId) */
	put16(b, 36);               /* StructureSize */
	put16(b + 2, (uint16_t)nd); /* DialectCount */
	put16(b + 4, SMB2_NEGOTIATE_SIGNING_ENABLED);
	memcpy(b + 12, client_guid, 16);
	for (unsigned i = 0; i < nd; i++)
		put16(b + 36 + 2 * i, dialects[i]);
	if (with_311) {
		/* contexts at 112 from the SMB2 header: 64 + 36 + 10 dialect bytes + 2 pad */
		uint8_t *c = msg + 112;

		put16(b + 28, 112); /* NegotiateContextOffset (4) */
		put16(b + 32, 2);   /* NegotiateContextCount */
		put16(c, SMB2_PREAUTH_INTEGRITY_CAPABILITIES);
		put16(c + 2, 38);      /* DataLength */
		put16(c + 8, 1);       /* HashAlgorithmCount */
		put16(c + 10, 32);     /* SaltLength */
		put16(c + 12, 0x0001); /* SHA-512 */
		memcpy(c + 14, salt, 32);
		c = msg + 160; /* 112 + 8 + 38 = 158, aligned to 8 */
		put16(c, SMB2_ENCRYPTION_CAPABILITIES);
		put16(c + 2, 6);
		put16(c + 8, 2);       /* CipherCount */
		put16(c + 10, 0x0002); /* AES-128-GCM */
		put16(c + 12, 0x0001); /* AES-128-CCM */
	}
	return (int)frame_len;
}

const char *smb2_dialect_name(uint16_t dialect)
{
	switch (dialect) {
	case 0x0202:
		return "2.0.2";
	case 0x0210:
		return "2.1";
	case 0x0300:
		return "3.0";
	case 0x0302:
		return "3.0.2";
	case 0x0311:
		return "3.1.1";
	case 0x02FF:
		return "2.???";
	default:
		return "unknown";
	}
}
