/* SPDX-License-Identifier: MIT */
/* SMB1 replies, requests and MS17-010 / DoublePulsar verdicts (smb1_parse.h). */
#include "probes/parse/smb1_parse.h"

#include <string.h>

/* Frame offsets of the SMB1 header fields ([MS-CIFS] §2.2.3.1, +4 for the NBSS header). */
#define OFF_MSG       4
#define OFF_COMMAND   8
#define OFF_STATUS    9
#define OFF_FLAGS     13
#define OFF_FLAGS2    14
#define OFF_PID_HIGH  16
#define OFF_SECFEAT   18
#define OFF_TID       28
#define OFF_PID_LOW   30
#define OFF_UID       32
#define OFF_MID       34
#define OFF_WORDCOUNT 36
#define OFF_WORDS     37

#define SMB1_PID       0xFEFF
#define SMB1_REQ_FLAGS 0x18

bool smb_copy_utf16(char *dst, size_t size, const uint8_t *src, size_t avail, size_t *used)
{
	size_t i = 0, n = 0;
	bool cut = false;

	avail &= ~(size_t)1;
	while (i < avail) {
		uint16_t u = parse_le16(src + i);
		char c;

		i += 2;
		if (u == 0)
			break;
		if (u >= 0xD800 && u <= 0xDBFF && i < avail) {
			uint16_t lo = parse_le16(src + i);

			if (lo >= 0xDC00 && lo <= 0xDFFF)
				i += 2; /* one '?' for the whole pair */
		}
		c = (u >= 0x20 && u < 0x7f) ? (char)u : '?';
		if (n + 1 < size)
			dst[n++] = c;
		else
			cut = true;
	}
	dst[n] = '\0';
	*used = i;
	return cut;
}

/* OEM string up to NUL (or avail); *used includes the NUL when present. */
static bool copy_oem(char *dst, size_t size, const uint8_t *src, size_t avail, size_t *used)
{
	const uint8_t *nul = memchr(src, 0, avail);
	size_t n = nul ? (size_t)(nul - src) : avail;

	*used = nul ? n + 1 : n;
	return parse_copy_text(dst, size, src, n);
}

/*
 * Read one string of the Bytes area at frame offset *pos (< end): UTF-16LE when unicode, else OEM.
 * With align, a UTF-16 string at an odd SMB message offset is preceded by a pad byte ([MS-CIFS]
 * §2.2.4.53.2; Windows and Samba send it) - but impacket 0.10 omits it, so the pad is skipped only
 * when it is 0x00 (the first byte of a UTF-16 printable character never is). Advances *pos;
 * returns true if cut.
 */
static bool take_string(char *dst, size_t size, const uint8_t *buf, uint32_t *pos, uint32_t end,
                        bool unicode, bool align)
{
	size_t used = 0;
	bool cut;

	dst[0] = '\0';
	if (unicode && align && ((*pos - OFF_MSG) & 1) && *pos < end && buf[*pos] == 0)
		(*pos)++;
	if (*pos >= end)
		return false;
	if (unicode)
		cut = smb_copy_utf16(dst, size, buf + *pos, end - *pos, &used);
	else
		cut = copy_oem(dst, size, buf + *pos, end - *pos, &used);
	*pos += (uint32_t)used;
	return cut;
}

int smb1_parse_header(const uint8_t *buf, size_t len, struct smb1_header *out)
{
	struct smb_frame f;
	uint32_t end, after_words;
	int r;

	memset(out, 0, sizeof(*out));
	r = smb_frame_parse(buf, len, &f);
	if (r <= 0)
		return r;
	out->kind = f.kind;
	out->frame_len = (uint32_t)r;
	if (f.kind == SMB_FRAME_SMB2 || f.kind == SMB_FRAME_TRANSFORM)
		return -ERR_UNSUPPORTED;
	if (f.kind != SMB_FRAME_SMB1)
		return -ERR_PROTO; /* keep-alive */
	end = (uint32_t)r;
	out->command = buf[OFF_COMMAND];
	out->status = parse_le32(buf + OFF_STATUS);
	out->flags = buf[OFF_FLAGS];
	out->flags2 = parse_le16(buf + OFF_FLAGS2);
	out->nt_status = out->flags2 & SMB1_FLAGS2_NT_STATUS;
	if (!out->nt_status) {
		out->dos_class = buf[OFF_STATUS];
		out->dos_code = parse_le16(buf + OFF_STATUS + 2);
	}
	out->pid_high = parse_le16(buf + OFF_PID_HIGH);
	memcpy(out->security_features, buf + OFF_SECFEAT, 8);
	out->tid = parse_le16(buf + OFF_TID);
	out->pid_low = parse_le16(buf + OFF_PID_LOW);
	out->uid = parse_le16(buf + OFF_UID);
	out->mid = parse_le16(buf + OFF_MID);
	out->word_count = buf[OFF_WORDCOUNT];
	out->words_off = OFF_WORDS;
	/* [MS-CIFS] §2.2.3.2: Words then ByteCount must fit in the message */
	after_words = OFF_WORDS + 2u * out->word_count;
	if (after_words + 2 > end)
		return -ERR_PROTO;
	out->byte_count = parse_le16(buf + after_words);
	out->bytes_off = after_words + 2;
	if (out->byte_count > end - out->bytes_off)
		return -ERR_PROTO;
	return r;
}

/* Common start of the message parsers: header, then the command. */
static int parse_cmd(const uint8_t *buf, size_t len, struct smb1_header *h, uint8_t command)
{
	int r = smb1_parse_header(buf, len, h);

	if (r <= 0)
		return r;
	if (h->command != command)
		return -ERR_PROTO;
	return r;
}

/* The LANMAN 2.1 form, WordCount 13 ([MS-CIFS] §2.2.4.52.2): no signing, an OEM challenge. */
static int negotiate_lanman(const uint8_t *buf, struct smb1_negotiate *out)
{
	const uint8_t *w = buf + out->hdr.words_off;

	out->form = SMB1_NEG_LANMAN;
	out->dialect_index = parse_le16(w);
	out->security_mode = w[2];
	out->max_buffer = parse_le16(w + 4);
	out->max_mpx = parse_le16(w + 6);
	out->max_vcs = parse_le16(w + 8);
	out->session_key = parse_le32(w + 12);
	out->time_zone = (int16_t)parse_le16(w + 20);
	out->challenge_len = w[22];
	if (out->challenge_len > out->hdr.byte_count)
		return -ERR_PROTO;
	memcpy(out->challenge, buf + out->hdr.bytes_off,
	       out->challenge_len < 8 ? out->challenge_len : 8);
	return 0;
}

/* The Bytes of the NT form: ServerGUID and a security blob with extended security ([MS-SMB]
 * §2.2.4.5.2), else the challenge, DomainName and ServerName. */
static int negotiate_nt_bytes(const uint8_t *buf, struct smb1_negotiate *out)
{
	uint32_t pos = out->hdr.bytes_off, end = pos + out->hdr.byte_count;
	bool unicode = out->hdr.flags2 & SMB1_FLAGS2_UNICODE;

	if (out->capabilities & SMB1_CAP_EXTENDED_SECURITY) {
		out->extended = true;
		if (out->hdr.byte_count < 16)
			return -ERR_PROTO;
		memcpy(out->server_guid, buf + pos, 16);
		out->security_blob_len = (uint16_t)(out->hdr.byte_count - 16);
		return 0;
	}
	if (out->challenge_len > out->hdr.byte_count)
		return -ERR_PROTO;
	memcpy(out->challenge, buf + pos, out->challenge_len < 8 ? out->challenge_len : 8);
	pos += out->challenge_len;
	out->truncated |=
	    take_string(out->domain, sizeof(out->domain), buf, &pos, end, unicode, false);
	out->truncated |=
	    take_string(out->server, sizeof(out->server), buf, &pos, end, unicode, false);
	return 0;
}

/* The NT LM 0.12 form, WordCount 17: 34 bytes of words ([MS-CIFS] §2.2.4.52.2). */
static int negotiate_nt(const uint8_t *buf, struct smb1_negotiate *out)
{
	const uint8_t *w = buf + out->hdr.words_off;

	out->form = SMB1_NEG_NT;
	out->dialect_index = parse_le16(w);
	out->security_mode = w[2];
	out->max_mpx = parse_le16(w + 3);
	out->max_vcs = parse_le16(w + 5);
	out->max_buffer = parse_le32(w + 7);
	out->max_raw = parse_le32(w + 11);
	out->session_key = parse_le32(w + 15);
	out->capabilities = parse_le32(w + 19);
	out->system_time = (uint64_t)parse_le32(w + 23) | (uint64_t)parse_le32(w + 27) << 32;
	out->time_zone = (int16_t)parse_le16(w + 31);
	out->challenge_len = w[33];
	return negotiate_nt_bytes(buf, out);
}

int smb1_parse_negotiate(const uint8_t *buf, size_t len, struct smb1_negotiate *out)
{
	int r, e;

	memset(out, 0, sizeof(*out));
	r = parse_cmd(buf, len, &out->hdr, SMB1_COM_NEGOTIATE);
	if (r <= 0)
		return r;
	if (out->hdr.status != 0) {
		out->form = SMB1_NEG_ERROR;
		return r;
	}
	switch (out->hdr.word_count) {
	case 1: /* the answer "none of these dialects" (DialectIndex 0xFFFF) */
		out->form = SMB1_NEG_NONE;
		out->dialect_index = parse_le16(buf + out->hdr.words_off);
		return r;
	case 13:
		e = negotiate_lanman(buf, out);
		break;
	case 17:
		e = negotiate_nt(buf, out);
		break;
	default:
		return -ERR_PROTO;
	}
	return e < 0 ? e : r;
}

bool smb1_negotiate_accepted(const struct smb1_negotiate *n)
{
	return n->hdr.status == 0 && (n->form == SMB1_NEG_NT || n->form == SMB1_NEG_LANMAN) &&
	       n->dialect_index != SMB1_DIALECT_NONE;
}

int smb1_parse_session_setup(const uint8_t *buf, size_t len, struct smb1_session_setup *out)
{
	const uint8_t *w;
	uint32_t pos, end;
	bool unicode;
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_cmd(buf, len, &out->hdr, SMB1_COM_SESSION_SETUP_ANDX);
	if (r <= 0)
		return r;
	if (out->hdr.word_count == 0 && out->hdr.status != 0)
		return r;
	if (out->hdr.word_count != 3 && out->hdr.word_count != 4)
		return -ERR_PROTO;
	w = buf + out->hdr.words_off;
	out->andx_command = w[0];
	out->action = parse_le16(w + 4);
	pos = out->hdr.bytes_off;
	end = pos + out->hdr.byte_count;
	if (out->hdr.word_count == 4) {
		out->security_blob_len = parse_le16(w + 6);
		if (out->security_blob_len > out->hdr.byte_count)
			return -ERR_PROTO;
		pos += out->security_blob_len;
	}
	unicode = out->hdr.flags2 & SMB1_FLAGS2_UNICODE;
	out->truncated |=
	    take_string(out->native_os, sizeof(out->native_os), buf, &pos, end, unicode, true);
	out->truncated |= take_string(out->native_lanman, sizeof(out->native_lanman), buf, &pos,
	                              end, unicode, true);
	out->truncated |= take_string(out->primary_domain, sizeof(out->primary_domain), buf, &pos,
	                              end, unicode, true);
	return r;
}

int smb1_parse_tree_connect(const uint8_t *buf, size_t len, struct smb1_tree_connect *out)
{
	const uint8_t *w;
	uint32_t pos, end;
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_cmd(buf, len, &out->hdr, SMB1_COM_TREE_CONNECT_ANDX);
	if (r <= 0)
		return r;
	if (out->hdr.word_count == 0 && out->hdr.status != 0)
		return r;
	if (out->hdr.word_count != 3 && out->hdr.word_count != 7)
		return -ERR_PROTO;
	w = buf + out->hdr.words_off;
	out->andx_command = w[0];
	out->optional_support = parse_le16(w + 4);
	if (out->hdr.word_count == 7) {
		out->extended = true;
		out->max_access = parse_le32(w + 6);
		out->guest_max_access = parse_le32(w + 10);
	}
	pos = out->hdr.bytes_off;
	end = pos + out->hdr.byte_count;
	/* Service is always OEM; NativeFileSystem follows the Flags2 UNICODE rule */
	out->truncated |=
	    take_string(out->service, sizeof(out->service), buf, &pos, end, false, false);
	out->truncated |= take_string(out->native_fs, sizeof(out->native_fs), buf, &pos, end,
	                              out->hdr.flags2 & SMB1_FLAGS2_UNICODE, true);
	return r;
}

int smb1_parse_trans(const uint8_t *buf, size_t len, struct smb1_trans *out)
{
	const uint8_t *w;
	uint32_t msg_len;
	int r;

	memset(out, 0, sizeof(*out));
	r = smb1_parse_header(buf, len, &out->hdr);
	if (r <= 0)
		return r;
	if (out->hdr.command != SMB1_COM_TRANSACTION && out->hdr.command != SMB1_COM_TRANSACTION2)
		return -ERR_PROTO;
	if (out->hdr.word_count == 0)
		return r;
	if (out->hdr.word_count < 10)
		return -ERR_PROTO;
	w = buf + out->hdr.words_off;
	out->total_param_count = parse_le16(w);
	out->total_data_count = parse_le16(w + 2);
	out->param_count = parse_le16(w + 6);
	out->param_offset = parse_le16(w + 8);
	out->param_displacement = parse_le16(w + 10);
	out->data_count = parse_le16(w + 12);
	out->data_offset = parse_le16(w + 14);
	out->data_displacement = parse_le16(w + 16);
	out->setup_count = w[18];
	if (out->hdr.word_count != 10 + out->setup_count)
		return -ERR_PROTO;
	/* offsets are from the start of the SMB header ([MS-CIFS] §2.2.4.33.2) */
	msg_len = out->hdr.frame_len - OFF_MSG;
	if ((out->param_count && (uint32_t)out->param_offset + out->param_count > msg_len) ||
	    (out->data_count && (uint32_t)out->data_offset + out->data_count > msg_len))
		return -ERR_PROTO;
	return r;
}

enum ms17_verdict smb1_ms17_classify(const struct smb1_header *h, uint16_t request_mid,
                                     const char **reason)
{
	if (h->kind != SMB_FRAME_SMB1 || h->command != SMB1_COM_TRANSACTION) {
		*reason = "reply is not a TRANSACTION";
		return MS17_UNKNOWN;
	}
	if (h->mid != request_mid) {
		*reason = "reply MID does not match";
		return MS17_UNKNOWN;
	}
	if (!h->nt_status) {
		if (h->dos_class == SMB1_ERRDOS && h->dos_code == SMB1_ERRbadfid) {
			*reason = "ERRDOS/ERRbadfid";
			return MS17_NOT_VULNERABLE;
		}
		*reason = "unexpected status";
		return MS17_UNKNOWN;
	}
	switch (h->status) {
	case SMB_STATUS_INSUFF_SERVER_RESOURCES:
		*reason = "STATUS_INSUFF_SERVER_RESOURCES";
		return MS17_VULNERABLE;
	case SMB_STATUS_INVALID_HANDLE:
		*reason = "STATUS_INVALID_HANDLE";
		return MS17_NOT_VULNERABLE;
	case SMB_STATUS_ACCESS_DENIED:
		*reason = "STATUS_ACCESS_DENIED";
		return MS17_NOT_VULNERABLE;
	default:
		*reason = "unexpected status";
		return MS17_UNKNOWN;
	}
}

const char *ms17_verdict_name(enum ms17_verdict v)
{
	switch (v) {
	case MS17_VULNERABLE:
		return "vulnerable";
	case MS17_NOT_VULNERABLE:
		return "not vulnerable";
	default:
		return "unknown";
	}
}

enum dp_verdict smb1_doublepulsar_classify(const struct smb1_header *h, struct dp_result *out)
{
	uint32_t s;

	memset(out, 0, sizeof(*out));
	out->verdict = DP_UNKNOWN;
	if (h->kind != SMB_FRAME_SMB1 || h->command != SMB1_COM_TRANSACTION2) {
		out->reason = "reply is not a TRANSACTION2";
		return out->verdict;
	}
	if (h->mid == SMB1_DP_PING_MID) {
		out->reason = "MID echoed: no implant answered";
		out->verdict = DP_NOT_DETECTED;
		return out->verdict;
	}
	if (h->mid != SMB1_DP_PRESENT_MID) {
		out->reason = "unexpected MID";
		return out->verdict;
	}
	/* CTRCPT / MSF: key from SecurityFeatures[0..3], arch from [4..7] */
	s = parse_le32(h->security_features);
	out->xor_key =
	    (2u * s) ^ ((((s & 0xff00u) | (s << 16)) << 8) | (((s >> 16) | (s & 0xff0000u)) >> 8));
	out->x64 = parse_le32(h->security_features + 4) != 0;
	out->reason = "MID 0x51: implant answered the ping";
	out->verdict = DP_PRESENT;
	return out->verdict;
}

const char *smb_status_name(uint32_t status)
{
	switch (status) {
	case SMB_STATUS_SUCCESS:
		return "STATUS_SUCCESS";
	case SMB_STATUS_NOT_IMPLEMENTED:
		return "STATUS_NOT_IMPLEMENTED";
	case SMB_STATUS_INVALID_HANDLE:
		return "STATUS_INVALID_HANDLE";
	case SMB_STATUS_INVALID_PARAMETER:
		return "STATUS_INVALID_PARAMETER";
	case SMB_STATUS_MORE_PROCESSING_REQUIRED:
		return "STATUS_MORE_PROCESSING_REQUIRED";
	case SMB_STATUS_ACCESS_DENIED:
		return "STATUS_ACCESS_DENIED";
	case SMB_STATUS_LOGON_FAILURE:
		return "STATUS_LOGON_FAILURE";
	case SMB_STATUS_ACCOUNT_DISABLED:
		return "STATUS_ACCOUNT_DISABLED";
	case SMB_STATUS_NOT_SUPPORTED:
		return "STATUS_NOT_SUPPORTED";
	case SMB_STATUS_BAD_NETWORK_NAME:
		return "STATUS_BAD_NETWORK_NAME";
	case SMB_STATUS_REQUEST_NOT_ACCEPTED:
		return "STATUS_REQUEST_NOT_ACCEPTED";
	case SMB_STATUS_INSUFF_SERVER_RESOURCES:
		return "STATUS_INSUFF_SERVER_RESOURCES";
	default:
		return "unknown status";
	}
}

/* ---- builders */

/* NBSS header + SMB1 header for a frame of total length frame_len; zeroes everything else. */
static void put_header(uint8_t *dst, size_t frame_len, uint8_t command, uint16_t flags2,
                       uint16_t tid, uint16_t uid, uint16_t mid)
{
	size_t msg = frame_len - OFF_MSG;

	memset(dst, 0, frame_len);
	dst[1] = (uint8_t)(msg >> 16);
	dst[2] = (uint8_t)(msg >> 8);
	dst[3] = (uint8_t)msg;
	smb_put_le32(dst + OFF_MSG, SMB1_MAGIC);
	dst[OFF_COMMAND] = command;
	dst[OFF_FLAGS] = SMB1_REQ_FLAGS;
	smb_put_le16(dst + OFF_FLAGS2, flags2);
	smb_put_le16(dst + OFF_TID, tid);
	smb_put_le16(dst + OFF_PID_LOW, SMB1_PID);
	smb_put_le16(dst + OFF_UID, uid);
	smb_put_le16(dst + OFF_MID, mid);
}

static const char *const negotiate_dialects[] = {
    "PC NETWORK PROGRAM 1.0",
    "LANMAN1.0",
    "Windows for Workgroups 3.1a",
    "LM1.2X002",
    "LANMAN2.1",
    "NT LM 0.12",
};

int smb1_build_negotiate(uint8_t *dst, size_t cap, uint16_t mid)
{
	size_t pos = OFF_WORDS + 2;

	if (cap < SMB1_NEGOTIATE_REQ_LEN)
		return -ERR_TOOBIG;
	put_header(dst, SMB1_NEGOTIATE_REQ_LEN, SMB1_COM_NEGOTIATE, 0xC001, 0, 0, mid);
	/* WordCount 0; Bytes: 0x02 "dialect" NUL, each */
	for (size_t i = 0; i < sizeof(negotiate_dialects) / sizeof(negotiate_dialects[0]); i++) {
		size_t n = strlen(negotiate_dialects[i]);

		dst[pos++] = 0x02;
		memcpy(dst + pos, negotiate_dialects[i], n + 1);
		pos += n + 1;
	}
	smb_put_le16(dst + OFF_WORDS, (uint16_t)(pos - OFF_WORDS - 2));
	return (int)pos;
}

/* ASCII text as UTF-16LE with its NUL; returns bytes written. */
static size_t put_utf16(uint8_t *p, const char *s)
{
	size_t n = 0;

	for (; *s; s++, n += 2)
		smb_put_le16(p + n, (uint8_t)*s);
	smb_put_le16(p + n, 0);
	return n + 2;
}

int smb1_build_session_setup_anon(uint8_t *dst, size_t cap, uint16_t mid)
{
	uint8_t *w = dst + OFF_WORDS;
	size_t pos;

	if (cap < SMB1_SESSION_SETUP_REQ_LEN)
		return -ERR_TOOBIG;
	put_header(dst, SMB1_SESSION_SETUP_REQ_LEN, SMB1_COM_SESSION_SETUP_ANDX, 0xC001, 0, 0, mid);
	dst[OFF_WORDCOUNT] = 13;
	w[0] = 0xFF;                 /* AndXCommand: none */
	smb_put_le16(w + 4, 0x1104); /* MaxBufferSize */
	smb_put_le16(w + 6, 10);     /* MaxMpxCount */
	smb_put_le16(w + 14, 1);     /* OEMPasswordLen: one NUL */
	smb_put_le32(w + 22, SMB1_CAP_UNICODE | SMB1_CAP_NT_SMBS | SMB1_CAP_STATUS32 | 0x80);
	pos = OFF_WORDS + 26 + 2;
	pos += 5; /* OEMPassword 00, AccountName 00 00, PrimaryDomain 00 00 */
	pos += put_utf16(dst + pos, "Unix");
	pos += put_utf16(dst + pos, "SelfCheck");
	smb_put_le16(w + 26, (uint16_t)(pos - OFF_WORDS - 28));
	return (int)pos;
}

int smb1_build_tree_connect_ipc(uint8_t *dst, size_t cap, uint16_t uid, uint16_t mid,
                                const char *host)
{
	char path[2 + SMB1_HOST_MAX + 6 + 1];
	size_t hn = strlen(host), frame_len, pos;
	uint8_t *w = dst + OFF_WORDS;

	if (hn == 0 || hn > SMB1_HOST_MAX)
		return -ERR_RANGE;
	for (size_t i = 0; i < hn; i++)
		if ((uint8_t)host[i] < 0x21 || (uint8_t)host[i] > 0x7e || host[i] == '\\')
			return -ERR_RANGE;
	path[0] = '\\';
	path[1] = '\\';
	memcpy(path + 2, host, hn);
	memcpy(path + 2 + hn, "\\IPC$", 6);
	/* header, WordCount 4, ByteCount, password 00, UTF-16 path + NUL, "?????" + NUL */
	frame_len = OFF_WORDS + 8 + 2 + 1 + 2 * (hn + 8) + 6;
	if (cap < frame_len)
		return -ERR_TOOBIG;
	put_header(dst, frame_len, SMB1_COM_TREE_CONNECT_ANDX, 0xC001, 0, uid, mid);
	dst[OFF_WORDCOUNT] = 4;
	w[0] = 0xFF;
	smb_put_le16(w + 4, 0x0008); /* TREE_CONNECT_ANDX_EXTENDED_RESPONSE */
	smb_put_le16(w + 6, 1);      /* PasswordLength */
	pos = OFF_WORDS + 10 + 1;    /* password byte 00 */
	pos += put_utf16(dst + pos, path);
	memcpy(dst + pos, "?????", 6);
	pos += 6;
	smb_put_le16(w + 8, (uint16_t)(pos - OFF_WORDS - 10));
	return (int)pos;
}

int smb1_build_trans_peek(uint8_t *dst, size_t cap, uint16_t tid, uint16_t uid, uint16_t mid)
{
	uint8_t *w = dst + OFF_WORDS;

	if (cap < SMB1_TRANS_PEEK_REQ_LEN)
		return -ERR_TOOBIG;
	put_header(dst, SMB1_TRANS_PEEK_REQ_LEN, SMB1_COM_TRANSACTION, 0x2801, tid, uid, mid);
	dst[OFF_WORDCOUNT] = 16;
	smb_put_le16(w + 4, 0xFFFF);  /* MaxParameterCount */
	smb_put_le16(w + 6, 0xFFFF);  /* MaxDataCount */
	smb_put_le16(w + 20, 74);     /* ParameterOffset */
	smb_put_le16(w + 24, 74);     /* DataOffset */
	w[26] = 2;                    /* SetupCount */
	smb_put_le16(w + 28, 0x0023); /* TRANS_PEEK_NMPIPE */
	smb_put_le16(w + 30, 0x0000); /* FID 0 */
	smb_put_le16(w + 32, 7);      /* ByteCount */
	memcpy(w + 34, "\\PIPE\\", 7);
	return SMB1_TRANS_PEEK_REQ_LEN;
}

int smb1_build_trans2_dp_ping(uint8_t *dst, size_t cap, uint16_t tid, uint16_t uid)
{
	uint8_t *w = dst + OFF_WORDS;

	if (cap < SMB1_TRANS2_DP_REQ_LEN)
		return -ERR_TOOBIG;
	put_header(dst, SMB1_TRANS2_DP_REQ_LEN, SMB1_COM_TRANSACTION2, 0xC007, tid, uid,
	           SMB1_DP_PING_MID);
	dst[OFF_WORDCOUNT] = 15;
	smb_put_le16(w + 0, 12);          /* TotalParameterCount */
	smb_put_le16(w + 4, 1);           /* MaxParameterCount */
	smb_put_le32(w + 12, 0x00A4D9A6); /* Timeout: the implant's ping */
	smb_put_le16(w + 18, 12);         /* ParameterCount */
	smb_put_le16(w + 20, 66);         /* ParameterOffset */
	smb_put_le16(w + 24, 78);         /* DataOffset */
	w[26] = 1;                        /* SetupCount */
	smb_put_le16(w + 28, 0x000E);     /* TRANS2_SESSION_SETUP */
	smb_put_le16(w + 30, 13);         /* ByteCount: pad + 12 parameter bytes, all zero */
	return SMB1_TRANS2_DP_REQ_LEN;
}
