/* SPDX-License-Identifier: MIT */
/*
 * SMB1 (CIFS) pure helpers: parse the replies a probe needs ([MS-CIFS] §2.2.3.1 header,
 * §2.2.4.52 NEGOTIATE, §2.2.4.53 SESSION_SETUP_ANDX, §2.2.4.55 TREE_CONNECT_ANDX, §2.2.4.33
 * TRANSACTION, §2.2.4.46 TRANSACTION2; [MS-SMB] §2.2.4.5 extended forms), build the requests of
 * PROTOCOLS.md §5.3 and §6.2-§6.6, and classify the MS17-010 and DoublePulsar answers (§6.5,
 * §6.6). Conventions of parse.h.
 *
 * Every parser takes a WHOLE FRAME: the 4-byte NBSS / direct-TCP header (nbss_parse.h) followed
 * by the SMB message, exactly what arrives on the socket; it returns the frame length (> 0, the
 * bytes consumed), PARSE_AGAIN until the whole frame is there, or a negative ERR_*. Keep-alive
 * frames (0x85) are not skipped here: on 139, drop them first with smb_frame_parse().
 * A reply with a non-zero status is still a successful parse (> 0): look at hdr.status.
 *
 * The MS17-010 check (PROTOCOLS.md §6), one TCP connection, each reply read before the next send:
 *   1. smb1_build_negotiate(tx, cap, 0x0040)            -> smb1_parse_negotiate()
 *      SMB1 on: smb1_negotiate_accepted() and dialect_index == SMB1_DIALECT_NT_LM.
 *   2. smb1_build_session_setup_anon(tx, cap, 0x0040)   -> smb1_parse_session_setup()
 *      status 0 => uid = reply hdr.uid; otherwise "needs credentials" (UNKNOWN).
 *   3. smb1_build_tree_connect_ipc(tx, cap, uid, 0x0040, "192.0.2.1")
 *                                                       -> smb1_parse_tree_connect()
 *      status 0 and hdr.tid != 0 => tid; otherwise UNKNOWN.
 *   4. smb1_build_trans_peek(tx, cap, tid, uid, 0x0041) -> smb1_parse_header() (or
 *      smb1_parse_trans()) then smb1_ms17_classify(&hdr, 0x0041, &reason).
 *   5. only after MS17_VULNERABLE: smb1_build_trans2_dp_ping(tx, cap, tid, uid)
 *      -> smb1_parse_header() then smb1_doublepulsar_classify(&hdr, &dp).
 */
#ifndef EXPOSURE_PROBES_PARSE_SMB1_PARSE_H
#define EXPOSURE_PROBES_PARSE_SMB1_PARSE_H

#include "probes/parse/nbss_parse.h"
#include "probes/parse/parse.h"

/* Commands ([MS-CIFS] §2.2.2.1). */
enum smb1_command {
	SMB1_COM_TRANSACTION = 0x25,
	SMB1_COM_TRANSACTION2 = 0x32,
	SMB1_COM_TREE_DISCONNECT = 0x71,
	SMB1_COM_NEGOTIATE = 0x72,
	SMB1_COM_SESSION_SETUP_ANDX = 0x73,
	SMB1_COM_LOGOFF_ANDX = 0x74,
	SMB1_COM_TREE_CONNECT_ANDX = 0x75,
};

/* Header Flags / Flags2 bits ([MS-CIFS] §2.2.3.1, PROTOCOLS.md §5.2). */
#define SMB1_FLAGS_REPLY               0x80
#define SMB1_FLAGS2_LONG_NAMES         0x0001
#define SMB1_FLAGS2_EAS                0x0002
#define SMB1_FLAGS2_SECURITY_SIGNATURE 0x0004
#define SMB1_FLAGS2_SIGNATURE_REQUIRED 0x0010
#define SMB1_FLAGS2_IS_LONG_NAME       0x0040
#define SMB1_FLAGS2_EXTENDED_SECURITY  0x0800
#define SMB1_FLAGS2_PAGING_IO          0x2000
#define SMB1_FLAGS2_NT_STATUS          0x4000
#define SMB1_FLAGS2_UNICODE            0x8000

/* NEGOTIATE SecurityMode bits ([MS-CIFS] §2.2.4.52.2, PROTOCOLS.md §5.3). */
#define SMB1_SECMODE_USER                0x01 /* clear: share-level security */
#define SMB1_SECMODE_ENCRYPT_PASSWORDS   0x02 /* clear: plaintext passwords */
#define SMB1_SECMODE_SIGNATURES_ENABLED  0x04
#define SMB1_SECMODE_SIGNATURES_REQUIRED 0x08

/* Capabilities ([MS-CIFS] §2.2.4.52.2, [MS-SMB] §2.2.4.5.2). */
#define SMB1_CAP_UNICODE           0x00000004u
#define SMB1_CAP_NT_SMBS           0x00000010u
#define SMB1_CAP_STATUS32          0x00000040u
#define SMB1_CAP_EXTENDED_SECURITY 0x80000000u

/* NT status values used by the probes ([MS-ERREF] §2.3.1). */
#define SMB_STATUS_SUCCESS                  0x00000000u
#define SMB_STATUS_NOT_IMPLEMENTED          0xC0000002u
#define SMB_STATUS_INVALID_HANDLE           0xC0000008u
#define SMB_STATUS_INVALID_PARAMETER        0xC000000Du
#define SMB_STATUS_MORE_PROCESSING_REQUIRED 0xC0000016u
#define SMB_STATUS_ACCESS_DENIED            0xC0000022u
#define SMB_STATUS_LOGON_FAILURE            0xC000006Du
#define SMB_STATUS_ACCOUNT_DISABLED         0xC0000072u
#define SMB_STATUS_NOT_SUPPORTED            0xC00000BBu
#define SMB_STATUS_BAD_NETWORK_NAME         0xC00000CCu
#define SMB_STATUS_REQUEST_NOT_ACCEPTED     0xC00000D0u
#define SMB_STATUS_INSUFF_SERVER_RESOURCES  0xC0000205u

/* DOS error form ([MS-CIFS] §2.2.2.4): ERRDOS class, ERRbadfid code. */
#define SMB1_ERRDOS    0x01
#define SMB1_ERRbadfid 0x0006

/* Index of "NT LM 0.12" in the dialect list of smb1_build_negotiate (PROTOCOLS.md §5.3). */
#define SMB1_DIALECT_NT_LM 5
/* DialectIndex meaning "no dialect acceptable" (Samba with SMB1 off). */
#define SMB1_DIALECT_NONE 0xFFFF

/* Bounded text fields (NUL-terminated, '?' for anything but printable ASCII). */
#define SMB1_NAME_MAX 64
#define SMB1_TEXT_MAX 96

/*
 * Header of any SMB1 message ([MS-CIFS] §2.2.3.1) plus its WordCount / ByteCount, checked
 * against the frame. Offsets are from the start of the frame buffer (the NBSS header included).
 */
struct smb1_header {
	enum smb_frame_kind kind; /* SMB_FRAME_SMB1 on success */
	uint32_t frame_len;       /* 4 + message length = bytes consumed */
	uint8_t command;          /* enum smb1_command */
	uint32_t status;          /* the 4 status bytes as LE u32 (NT status if nt_status) */
	bool nt_status;           /* Flags2 & SMB1_FLAGS2_NT_STATUS */
	uint8_t dos_class;        /* !nt_status: ErrorClass (status byte 0) */
	uint16_t dos_code;        /* !nt_status: ErrorCode (status bytes 2..3) */
	uint8_t flags;
	uint16_t flags2;
	uint16_t pid_high;
	uint8_t security_features[8]; /* signature; DoublePulsar puts its key material here */
	uint16_t tid, pid_low, uid, mid;
	uint8_t word_count;
	uint16_t byte_count;
	uint32_t words_off; /* frame offset of the Words (37) */
	uint32_t bytes_off; /* frame offset of the Bytes (39 + 2 * word_count) */
};

/*
 * Frame (smb_frame_parse) and check one SMB1 message: 35 bytes at least, 2 * WordCount + 2 and
 * then ByteCount within the message. Returns the frame length; PARSE_AGAIN; -ERR_SYNTAX for
 * bytes that are not SMB framing or not SMB at all (HTTP...); -ERR_TOOBIG above SMB_FRAME_MAX;
 * -ERR_UNSUPPORTED for a complete SMB2 / SMB3-transform frame (out->kind and out->frame_len
 * set: e.g. an SMB2 reply to our SMB1 NEGOTIATE means SMB1 is off); -ERR_PROTO for a keep-alive
 * or a WordCount / ByteCount that points past the message.
 */
int smb1_parse_header(const uint8_t *buf, size_t len, struct smb1_header *out);

enum smb1_neg_form {
	SMB1_NEG_ERROR = 0, /* status != 0: no dialect fields */
	SMB1_NEG_NONE,      /* WordCount 1: DialectIndex only (0xFFFF = none acceptable) */
	SMB1_NEG_LANMAN,    /* WordCount 13: a LANMAN dialect was chosen */
	SMB1_NEG_NT,        /* WordCount 17: NT LM 0.12 */
};

/* NEGOTIATE response ([MS-CIFS] §2.2.4.52.2; extended form [MS-SMB] §2.2.4.5.2). */
struct smb1_negotiate {
	struct smb1_header hdr;
	enum smb1_neg_form form;
	uint16_t dialect_index;
	uint8_t security_mode; /* SMB1_SECMODE_* (LANMAN: low byte of its 16-bit field) */
	uint16_t max_mpx, max_vcs;
	uint32_t max_buffer, max_raw; /* LANMAN: max_buffer only */
	uint32_t session_key;
	uint32_t capabilities; /* SMB1_CAP_* (NT form) */
	uint64_t system_time;  /* FILETIME (NT form) */
	int16_t time_zone;     /* minutes from UTC */
	uint8_t challenge_len; /* as sent; challenge[] keeps the first 8 bytes */
	uint8_t challenge[8];
	bool extended; /* CAP_EXTENDED_SECURITY: server_guid + security blob */
	uint8_t server_guid[16];
	uint16_t security_blob_len;
	char domain[SMB1_NAME_MAX]; /* non-extended NT form: DomainName */
	char server[SMB1_NAME_MAX]; /* non-extended NT form: ServerName (may be absent) */
	bool truncated;             /* a text field was cut */
};

/*
 * Parse a NEGOTIATE reply frame. Returns as smb1_parse_header, plus -ERR_PROTO when the command
 * is not NEGOTIATE, or when status is 0 and WordCount is not 1, 13 or 17, or the challenge or
 * GUID does not fit ByteCount. Names are UTF-16LE when Flags2 has UNICODE, else OEM, unaligned
 * (as Samba's reply_nt1 and Windows send them); missing names are left empty.
 */
int smb1_parse_negotiate(const uint8_t *buf, size_t len, struct smb1_negotiate *out);

/* true when the server accepted one of our dialects: status 0, form NT or LANMAN, index valid. */
bool smb1_negotiate_accepted(const struct smb1_negotiate *n);

/* SESSION_SETUP_ANDX response ([MS-CIFS] §2.2.4.53.2; WordCount 4 form [MS-SMB] §2.2.4.6.2). */
struct smb1_session_setup {
	struct smb1_header hdr;
	uint8_t andx_command;
	uint16_t action;            /* bit 0: logged on as guest */
	uint16_t security_blob_len; /* WordCount 4 form only */
	char native_os[SMB1_TEXT_MAX];
	char native_lanman[SMB1_TEXT_MAX];
	char primary_domain[SMB1_TEXT_MAX];
	bool truncated;
};

#define SMB1_ACTION_GUEST 0x0001

/*
 * Parse a SESSION_SETUP_ANDX reply frame. Status != 0 with WordCount 0 is a successful parse (the
 * refusal); otherwise WordCount must be 3 or 4 (-ERR_PROTO). Strings are UTF-16LE (after a pad
 * byte to an even message offset) when Flags2 has UNICODE, else OEM; missing ones stay empty.
 */
int smb1_parse_session_setup(const uint8_t *buf, size_t len, struct smb1_session_setup *out);

/* TREE_CONNECT_ANDX response ([MS-CIFS] §2.2.4.55.2; WordCount 7 form [MS-SMB] §2.2.4.7.2). */
struct smb1_tree_connect {
	struct smb1_header hdr;
	uint8_t andx_command;
	uint16_t optional_support;
	bool extended; /* WordCount 7 */
	uint32_t max_access, guest_max_access;
	char service[16]; /* "IPC" for IPC$ (always OEM) */
	char native_fs[SMB1_NAME_MAX];
	bool truncated;
};

/* Parse a TREE_CONNECT_ANDX reply frame. WordCount 3 or 7 when status is 0, else any. */
int smb1_parse_tree_connect(const uint8_t *buf, size_t len, struct smb1_tree_connect *out);

/* TRANSACTION / TRANSACTION2 response ([MS-CIFS] §2.2.4.33.2, §2.2.4.46.2). */
struct smb1_trans {
	struct smb1_header hdr;
	uint16_t total_param_count, total_data_count;
	uint16_t param_count, param_offset, param_displacement; /* offsets from the SMB header */
	uint16_t data_count, data_offset, data_displacement;
	uint8_t setup_count;
};

/*
 * Parse a TRANSACTION (0x25) or TRANSACTION2 (0x32) reply frame. WordCount 0 (an error, or the
 * empty replies of §12.6) is accepted; otherwise WordCount must be 10 + SetupCount and the
 * parameter and data blocks must lie inside the message (-ERR_PROTO); other commands -ERR_PROTO.
 */
int smb1_parse_trans(const uint8_t *buf, size_t len, struct smb1_trans *out);

/* ---- verdicts (PROTOCOLS.md §6.5, §6.6) */

enum ms17_verdict {
	MS17_UNKNOWN = 0,    /* could not decide: never show as safe */
	MS17_VULNERABLE,     /* STATUS_INSUFF_SERVER_RESOURCES: confidence LIKELY */
	MS17_NOT_VULNERABLE, /* INVALID_HANDLE / ACCESS_DENIED / ERRDOS ERRbadfid */
};

/*
 * Classify the reply to the PeekNamedPipe TRANSACTION of step 4 (§6.5 table), given its parsed
 * header and the MID of our request. *reason (static text, never NULL) names the status seen or
 * why the answer is unknown: "reply is not a TRANSACTION", "reply MID does not match",
 * "unexpected status" (the caller adds hdr->status).
 */
enum ms17_verdict smb1_ms17_classify(const struct smb1_header *h, uint16_t request_mid,
                                     const char **reason);

/* "vulnerable", "not vulnerable", "unknown" (the details.ms17_010 words). */
const char *ms17_verdict_name(enum ms17_verdict v);

enum dp_verdict {
	DP_UNKNOWN = 0,  /* not a TRANSACTION2 reply, or another MID */
	DP_NOT_DETECTED, /* MID echoed (0x41) */
	DP_PRESENT,      /* MID 0x51: the implant answered (host compromised) */
};

/* MID of the DoublePulsar ping and of the implant's answer (CTRCPT, PROTOCOLS.md §6.6). */
#define SMB1_DP_PING_MID    0x0041
#define SMB1_DP_PRESENT_MID 0x0051

struct dp_result {
	enum dp_verdict verdict;
	const char *reason; /* static text, never NULL */
	uint32_t xor_key;   /* DP_PRESENT: the implant's XOR key (MSF / CTRCPT formula) */
	bool x64;           /* DP_PRESENT: SecurityFeatures bytes 4..7 non-zero */
};

/* Classify the reply to smb1_build_trans2_dp_ping(). Returns out->verdict. */
enum dp_verdict smb1_doublepulsar_classify(const struct smb1_header *h, struct dp_result *out);

/* "STATUS_ACCESS_DENIED"... for the statuses above; "unknown status" otherwise. Static. */
const char *smb_status_name(uint32_t status);

/*
 * Copy a UTF-16LE string of at most avail bytes, up to its NUL code unit, into dst as ASCII
 * ('?' for anything not printable ASCII, one '?' per surrogate pair). *used receives the bytes
 * read including the terminator (all of avail, rounded down to even, when there is none).
 * Returns true if the text was cut to fit dst.
 */
bool smb_copy_utf16(char *dst, size_t size, const uint8_t *src, size_t avail, size_t *used);

/* ---- request builders: write a whole frame (4-byte header included) into dst, return its
 * length, or -ERR_TOOBIG when cap is too small. PID is 0xFEFF, Flags 0x18. */

/* Sizes of the fixed requests. */
#define SMB1_NEGOTIATE_REQ_LEN     137 /* §5.3, six dialects, Flags2 0xC001 */
#define SMB1_SESSION_SETUP_REQ_LEN 100 /* §6.3, anonymous, non-extended */
#define SMB1_TRANS_PEEK_REQ_LEN    78  /* §6.5 */
#define SMB1_TRANS2_DP_REQ_LEN     82  /* §6.6 */
/* Longest host text in the IPC$ path and the largest tree connect request. */
#define SMB1_HOST_MAX             63
#define SMB1_TREE_CONNECT_REQ_MAX (4 + 32 + 1 + 8 + 2 + 1 + 2 * (2 + SMB1_HOST_MAX + 6) + 6)

/* NEGOTIATE with the six dialects of PROTOCOLS.md §5.3 ("NT LM 0.12" = index 5). */
int smb1_build_negotiate(uint8_t *dst, size_t cap, uint16_t mid);

/* Anonymous SESSION_SETUP_ANDX (§6.3): empty account and password, Capabilities 0xD4. */
int smb1_build_session_setup_anon(uint8_t *dst, size_t cap, uint16_t mid);

/*
 * TREE_CONNECT_ANDX to \\<host>\IPC$ (§6.4), host being the target's address as text (printable
 * ASCII, 1..SMB1_HOST_MAX, no backslash; -ERR_RANGE otherwise), uid from step 2.
 */
int smb1_build_tree_connect_ipc(uint8_t *dst, size_t cap, uint16_t uid, uint16_t mid,
                                const char *host);

/* TRANSACTION PeekNamedPipe on FID 0 (§6.5), Flags2 0x2801, MaxParameter/DataCount 0xFFFF. */
int smb1_build_trans_peek(uint8_t *dst, size_t cap, uint16_t tid, uint16_t uid, uint16_t mid);

/* TRANSACTION2 SESSION_SETUP DoublePulsar ping (§6.6): MID 0x0041, Timeout 0x00A4D9A6. Only the
 * ping; the uninstall variant is deliberately not offered. */
int smb1_build_trans2_dp_ping(uint8_t *dst, size_t cap, uint16_t tid, uint16_t uid);

#endif
