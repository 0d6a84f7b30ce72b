/* SPDX-License-Identifier: MIT */
/*
 * SMB2/3 NEGOTIATE: build the request of PROTOCOLS.md §5.4 ([MS-SMB2] §2.2.3) and parse the
 * response ([MS-SMB2] §2.2.4, negotiate contexts §2.2.3.1). Conventions of parse.h; like
 * smb1_parse.h the parser takes the WHOLE FRAME (4-byte NBSS / direct-TCP header first).
 *
 * Probe use (one NEGOTIATE per TCP connection, PROTOCOLS.md §5.1):
 *   n = smb2_build_negotiate(tx, cap, dialects, n_dialects, guid16, salt32);  random GUID, salt
 *   r = smb2_parse_negotiate(rx, rxlen, &neg);  until r != PARSE_AGAIN
 *   r > 0 and neg.status == 0: neg.dialect (smb2_dialect_name), neg.security_mode
 *   (SMB2_NEGOTIATE_SIGNING_REQUIRED clear => signing not required);
 *   neg.status == SMB_STATUS_NOT_SUPPORTED => no common dialect.
 * Over NetBIOS (139) offer without 3.1.1 ([MS-SMB2] §3.2.5.2).
 */
#ifndef EXPOSURE_PROBES_PARSE_SMB2_PARSE_H
#define EXPOSURE_PROBES_PARSE_SMB2_PARSE_H

#include "probes/parse/nbss_parse.h"
#include "probes/parse/parse.h"

/* SecurityMode ([MS-SMB2] §2.2.4). */
#define SMB2_NEGOTIATE_SIGNING_ENABLED  0x0001
#define SMB2_NEGOTIATE_SIGNING_REQUIRED 0x0002

/* Capabilities ([MS-SMB2] §2.2.4). */
#define SMB2_GLOBAL_CAP_DFS                0x01u
#define SMB2_GLOBAL_CAP_LEASING            0x02u
#define SMB2_GLOBAL_CAP_LARGE_MTU          0x04u
#define SMB2_GLOBAL_CAP_MULTI_CHANNEL      0x08u
#define SMB2_GLOBAL_CAP_PERSISTENT_HANDLES 0x10u
#define SMB2_GLOBAL_CAP_DIRECTORY_LEASING  0x20u
#define SMB2_GLOBAL_CAP_ENCRYPTION         0x40u

/* Header Flags bit of a reply. */
#define SMB2_FLAGS_SERVER_TO_REDIR 0x00000001u

/* Negotiate context types ([MS-SMB2] §2.2.3.1). */
#define SMB2_PREAUTH_INTEGRITY_CAPABILITIES 0x0001
#define SMB2_ENCRYPTION_CAPABILITIES        0x0002
#define SMB2_COMPRESSION_CAPABILITIES       0x0003
#define SMB2_NETNAME_NEGOTIATE_CONTEXT_ID   0x0005
#define SMB2_TRANSPORT_CAPABILITIES         0x0006
#define SMB2_RDMA_TRANSFORM_CAPABILITIES    0x0007
#define SMB2_SIGNING_CAPABILITIES           0x0008

/* Most negotiate contexts walked in a response (more => -ERR_PROTO). */
#define SMB2_CONTEXTS_MAX 16

/* Dialect revisions ([MS-SMB2] §2.2.3; 0x02FF only ever in a reply, §3.3.5.3.1). */
#define SMB2_DIALECT_202      0x0202
#define SMB2_DIALECT_210      0x0210
#define SMB2_DIALECT_300      0x0300
#define SMB2_DIALECT_302      0x0302
#define SMB2_DIALECT_311      0x0311
#define SMB2_DIALECT_WILDCARD 0x02FF

#define SMB2_GUID_LEN 16 /* ClientGuid */
#define SMB2_SALT_LEN 32 /* preauth integrity Salt, as Windows sends it */

/* Most dialects one request may offer. */
#define SMB2_DIALECTS_MAX 8

/* Sizes of the requests smb2_build_negotiate writes (checked against its layout there). */
#define SMB2_NEGOTIATE_REQ_LEN     112 /* 2.0.2, 2.1, 3.0, 3.0.2 */
#define SMB2_NEGOTIATE_REQ_311_LEN 178 /* the same and 3.1.1, with its two contexts */
#define SMB2_NEGOTIATE_REQ_MAX     186 /* SMB2_DIALECTS_MAX dialects, 3.1.1 among them */

struct smb2_negotiate {
	uint32_t frame_len; /* bytes consumed */
	/* header ([MS-SMB2] §2.2.1.2) */
	uint32_t status; /* NT status; 0 = body below is valid */
	uint16_t credit_charge, credits;
	uint32_t flags;
	uint64_t message_id;
	/* body ([MS-SMB2] §2.2.4) */
	uint16_t structure_size; /* 65; 9 for an error body (§2.2.2) */
	uint16_t security_mode;  /* SMB2_NEGOTIATE_SIGNING_* */
	uint16_t dialect;        /* 0x0202..0x0311, 0x02FF wildcard */
	uint16_t context_count;
	uint8_t server_guid[16];
	uint32_t capabilities; /* SMB2_GLOBAL_CAP_* */
	uint32_t max_transact, max_read, max_write;
	uint64_t system_time, server_start_time;
	uint16_t security_buffer_offset, security_buffer_length; /* from the SMB2 header start */
	uint32_t context_offset;
	/* from the 3.1.1 negotiate contexts, 0 when absent */
	uint16_t contexts_seen; /* contexts walked */
	uint16_t preauth_hash;  /* first HashAlgorithm (1 = SHA-512) */
	uint16_t cipher;        /* first Cipher (1 CCM, 2 GCM, 3/4 256-bit) */
	uint16_t signing_alg;   /* first SigningAlgorithm */
};

/*
 * Parse an SMB2 NEGOTIATE response frame. Returns the frame length; PARSE_AGAIN; -ERR_SYNTAX /
 * -ERR_TOOBIG as smb_frame_parse; -ERR_UNSUPPORTED for a complete SMB1 (or transform) frame;
 * -ERR_PROTO when the header StructureSize is not 64, the command is not NEGOTIATE, or (status
 * 0) the body is short, its StructureSize is not 65, the security buffer or a negotiate context
 * lies outside the message, or there are more than SMB2_CONTEXTS_MAX contexts.
 * A non-zero status is a successful parse (only the header fields are set).
 */
int smb2_parse_negotiate(const uint8_t *buf, size_t len, struct smb2_negotiate *out);

/*
 * Write an SMB2 NEGOTIATE request frame (PROTOCOLS.md §5.4) offering dialects[0..n_dialects) in
 * that order: SecurityMode 0x0001, MessageId 0, CreditRequest 1, client_guid (should be random).
 * When SMB2_DIALECT_311 is offered, NegotiateContextOffset/Count and two contexts follow the
 * dialects ([MS-SMB2] §2.2.3.1): preauth integrity (SHA-512, salt, should be random) and
 * encryption (AES-128-GCM, AES-128-CCM); otherwise salt is not read and may be NULL.
 * Returns the frame length (at most SMB2_NEGOTIATE_REQ_MAX); -ERR_RANGE when n_dialects is 0 or
 * above SMB2_DIALECTS_MAX; -ERR_TOOBIG when cap is short (dst untouched on either error).
 */
int smb2_build_negotiate(uint8_t *dst, size_t cap, const uint16_t *dialects, unsigned n_dialects,
                         const uint8_t client_guid[SMB2_GUID_LEN],
                         const uint8_t salt[SMB2_SALT_LEN]);

/* "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1", "2.???" (0x02FF); "unknown" otherwise. Static. */
const char *smb2_dialect_name(uint16_t dialect);

#endif
