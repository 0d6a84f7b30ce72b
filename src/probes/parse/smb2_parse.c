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
	if (out->dialect == SMB2_DIALECT_311 && out->context_count) {
		int e = walk_contexts(msg, msg_len, out);

		if (e < 0)
			return e;
	}
	return r;
}

/* ---- the request ([MS-SMB2] §2.2.3) */

#define NEG_REQ_FIXED_LEN 36 /* the body's StructureSize: the part before Dialects[] */
#define CTX_HDR_LEN       8  /* ContextType, DataLength, Reserved */
#define PREAUTH_DATA_LEN  (6 + SMB2_SALT_LEN) /* HashAlgorithmCount, SaltLength, one id, salt */
#define CIPHERS_DATA_LEN  6                   /* CipherCount, two ids */
#define ALIGN8(x)         (((x) + 7u) & ~7u)

/* Where the contexts start (from the SMB2 header): after the dialects, 8-byte aligned. */
#define CONTEXTS_AT(n) ALIGN8(HDR_LEN + NEG_REQ_FIXED_LEN + 2u * (n))
#define REQ_LEN(n)     (HDR + HDR_LEN + NEG_REQ_FIXED_LEN + 2u * (n))
#define REQ_311_LEN(n)                                                                             \
	(HDR + ALIGN8(CONTEXTS_AT(n) + CTX_HDR_LEN + PREAUTH_DATA_LEN) + CTX_HDR_LEN +             \
	 CIPHERS_DATA_LEN)

_Static_assert(REQ_LEN(4) == SMB2_NEGOTIATE_REQ_LEN, "four dialects");
_Static_assert(REQ_311_LEN(5) == SMB2_NEGOTIATE_REQ_311_LEN, "five dialects with 3.1.1");
_Static_assert(REQ_311_LEN(SMB2_DIALECTS_MAX) == SMB2_NEGOTIATE_REQ_MAX, "the largest request");

static bool offers_311(const uint16_t *dialects, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (dialects[i] == SMB2_DIALECT_311)
			return true;
	return false;
}

/* NBSS length, then the SMB2 sync header: a client request with MessageId 0 asking for one
 * credit, ProcessId 0xFEFF as Windows sends it ([MS-SMB2] §2.2.1.2). */
static void put_header(uint8_t *dst, size_t frame_len)
{
	uint8_t *msg = dst + HDR;

	dst[2] = (uint8_t)((frame_len - HDR) >> 8);
	dst[3] = (uint8_t)(frame_len - HDR);
	msg[0] = 0xfe;
	memcpy(msg + 1, "SMB", 3);
	smb_put_le16(msg + 4, HDR_LEN); /* StructureSize */
	smb_put_le16(msg + 14, 1);      /* CreditRequest */
	smb_put_le16(msg + 32, 0xFEFF); /* Reserved (ProcessId) */
}

/*
 * The two contexts a 3.1.1 offer needs, at ctx (8-byte aligned, from the SMB2 header msg):
 * preauth integrity with SHA-512, which 3.1.1 requires (§2.2.3.1.1), and the ciphers that every
 * 3.x server knows (§2.2.3.1.2), so that servers which insist on encryption still answer.
 */
static void put_contexts(uint8_t *msg, uint32_t ctx, const uint8_t salt[SMB2_SALT_LEN])
{
	uint8_t *c = msg + ctx;

	smb_put_le16(c, SMB2_PREAUTH_INTEGRITY_CAPABILITIES);
	smb_put_le16(c + 2, PREAUTH_DATA_LEN);
	smb_put_le16(c + 8, 1);              /* HashAlgorithmCount */
	smb_put_le16(c + 10, SMB2_SALT_LEN); /* SaltLength */
	smb_put_le16(c + 12, 0x0001);        /* SHA-512 */
	memcpy(c + 14, salt, SMB2_SALT_LEN);
	c = msg + ALIGN8(ctx + CTX_HDR_LEN + PREAUTH_DATA_LEN);
	smb_put_le16(c, SMB2_ENCRYPTION_CAPABILITIES);
	smb_put_le16(c + 2, CIPHERS_DATA_LEN);
	smb_put_le16(c + 8, 2);       /* CipherCount */
	smb_put_le16(c + 10, 0x0002); /* AES-128-GCM */
	smb_put_le16(c + 12, 0x0001); /* AES-128-CCM */
}

int smb2_build_negotiate(uint8_t *dst, size_t cap, const uint16_t *dialects, unsigned n_dialects,
                         const uint8_t client_guid[SMB2_GUID_LEN],
                         const uint8_t salt[SMB2_SALT_LEN])
{
	uint8_t *msg = dst + HDR, *b = msg + HDR_LEN;
	bool with_311;
	size_t frame_len;

	if (n_dialects == 0 || n_dialects > SMB2_DIALECTS_MAX)
		return -ERR_RANGE;
	with_311 = offers_311(dialects, n_dialects);
	frame_len = with_311 ? REQ_311_LEN(n_dialects) : REQ_LEN(n_dialects);
	if (cap < frame_len)
		return -ERR_TOOBIG;
	memset(dst, 0, frame_len);
	put_header(dst, frame_len);
	smb_put_le16(b, NEG_REQ_FIXED_LEN); /* StructureSize */
	smb_put_le16(b + 2, (uint16_t)n_dialects);
	smb_put_le16(b + 4, SMB2_NEGOTIATE_SIGNING_ENABLED);
	memcpy(b + 12, client_guid, SMB2_GUID_LEN);
	for (unsigned i = 0; i < n_dialects; i++)
		smb_put_le16(b + NEG_REQ_FIXED_LEN + 2 * i, dialects[i]);
	if (with_311) {
		/* NegotiateContextOffset/Count; before 3.1.1 these 8 bytes are ClientStartTime 0 */
		smb_put_le32(b + 28, CONTEXTS_AT(n_dialects));
		smb_put_le16(b + 32, 2);
		put_contexts(msg, CONTEXTS_AT(n_dialects), salt);
	}
	return (int)frame_len;
}

const char *smb2_dialect_name(uint16_t dialect)
{
	switch (dialect) {
	case SMB2_DIALECT_202:
		return "2.0.2";
	case SMB2_DIALECT_210:
		return "2.1";
	case SMB2_DIALECT_300:
		return "3.0";
	case SMB2_DIALECT_302:
		return "3.0.2";
	case SMB2_DIALECT_311:
		return "3.1.1";
	case SMB2_DIALECT_WILDCARD:
		return "2.???";
	default:
		return "unknown";
	}
}
