/* SPDX-License-Identifier: MIT */
/*
 * Pure RFB (VNC) parsers for the messages a server sends before authentication (RFC 6143 §7.1,
 * §7.2; PROTOCOLS.md §8): ProtocolVersion, the security types (3.7/3.8) or security type (3.3),
 * SecurityResult, and the VeNCrypt version and subtypes (§8.3). Conventions of parse.h.
 */
#ifndef EXPOSURE_PROBES_PARSE_VNC_PARSE_H
#define EXPOSURE_PROBES_PARSE_VNC_PARSE_H

#include "probes/parse/parse.h"

/* Security type numbers (RFBPROTO list; PROTOCOLS.md §8.1). */
enum vnc_sec_type {
	VNC_SEC_INVALID = 0,
	VNC_SEC_NONE = 1,
	VNC_SEC_VNC_AUTH = 2,
	VNC_SEC_RA2 = 5,
	VNC_SEC_RA2NE = 6,
	VNC_SEC_TIGHT = 16,
	VNC_SEC_ULTRA = 17,
	VNC_SEC_TLS = 18,
	VNC_SEC_VENCRYPT = 19,
	VNC_SEC_SASL = 20,
	VNC_SEC_APPLE_DH = 30,
	VNC_SEC_APPLE = 35,
	VNC_SEC_MSLOGON2 = 113,
};

/* VeNCrypt subtypes (PROTOCOLS.md §8.3). */
enum vnc_vencrypt_subtype {
	VNC_VENCRYPT_PLAIN = 256,   /* cleartext user + password */
	VNC_VENCRYPT_TLSNONE = 257, /* TLS, no authentication */
	VNC_VENCRYPT_TLSVNC = 258,
	VNC_VENCRYPT_TLSPLAIN = 259,
	VNC_VENCRYPT_X509NONE = 260, /* X.509 TLS, no authentication */
	VNC_VENCRYPT_X509VNC = 261,
	VNC_VENCRYPT_X509PLAIN = 262,
	VNC_VENCRYPT_TLSSASL = 263,
	VNC_VENCRYPT_X509SASL = 264,
	VNC_VENCRYPT_IDENT = 265,
	VNC_VENCRYPT_TLSIDENT = 266,
	VNC_VENCRYPT_X509IDENT = 267,
};

#define VNC_VERSION_LEN 12
/* Longest reason string read (PROTOCOLS.md §8.2); longer ones are cut and reported TOOBIG. */
#define VNC_REASON_MAX 1024

/* ProtocolVersion "RFB xxx.yyy\n" (RFC 6143 §7.1.1). */
struct vnc_version {
	unsigned major,
	    minor; /* 3.8, 3.889 (Apple), 4.1 / 5.0 (RealVNC), 0.0 (UltraVNC repeater) */
	/*
	 * The RFB 3.x layout to speak, i.e. the version the client answers (§8.1 step 2): 8 when
	 * the server is >= 3.8 (including 4.x, 5.x, 3.889), 7 for 3.7, else 3 (3.3, and 3.5 which
	 * is 3.3). Decides between vnc_parse_sec_types (7, 8) and vnc_parse_sec33 (3).
	 */
	unsigned rfb_minor;
	char text[VNC_VERSION_LEN]; /* "RFB 003.008" without the LF, NUL-terminated */
};

/*
 * Parse the 12-byte ProtocolVersion at the start of buf. Returns 12; PARSE_AGAIN while the bytes
 * so far match the pattern ^RFB [0-9]{3}\.[0-9]{3}\n$ but are fewer than 12; -ERR_SYNTAX as soon
 * as a byte does not match (another service).
 */
int vnc_parse_version(const uint8_t *buf, size_t len, struct vnc_version *out);

/* The 12 bytes "RFB 003.00N\n" a client sends for rfb_minor 3, 7 or 8 (anything else: 3). */
const char *vnc_version_reply(unsigned rfb_minor);

/* A failure reason: U32 length + text (RFC 6143 §7.1.2). */
struct vnc_reason {
	uint32_t length;               /* as announced by the server */
	char text[VNC_REASON_MAX + 1]; /* sanitised (parse_copy_text), NUL-terminated */
	bool truncated;                /* length > VNC_REASON_MAX: text holds the first part */
};

/* Security types of RFB 3.7/3.8 (RFC 6143 §7.1.2): U8 n, n x U8; n == 0: failure + reason. */
struct vnc_sec_types {
	unsigned count;     /* n */
	uint8_t types[255]; /* in the server's order */
	bool failed;        /* n == 0: reason holds why */
	struct vnc_reason reason;
	bool has_none;     /* 1 anywhere in the list (PROTOCOLS.md §8.6) */
	bool has_vnc_auth; /* 2 */
	bool has_vencrypt; /* 19 */
	bool has_tight;    /* 16 */
};

/*
 * Parse the security types at the start of buf (after our ProtocolVersion). Returns the bytes
 * consumed (1 + n, or 5 + reason length when n == 0); PARSE_AGAIN until complete; -ERR_TOOBIG
 * when n == 0 and the reason is longer than VNC_REASON_MAX: returned once VNC_REASON_MAX bytes of
 * it are present, with out->failed, out->reason (cut, truncated = true) filled in.
 */
int vnc_parse_sec_types(const uint8_t *buf, size_t len, struct vnc_sec_types *out);

/* RFB 3.3 security (RFC 6143 §7.1.2 / appendix): U32 type chosen by the server. */
struct vnc_sec33 {
	uint32_t type; /* 0 failure, 1 None, 2 VNC Authentication */
	bool failed;   /* type 0: reason holds why */
	struct vnc_reason reason;
};

/*
 * Parse the 3.3 security type at the start of buf (also what a 3.x server sends right after its
 * version when it refuses at once, e.g. TigerVNC's "Too many security failures", §8.2). Returns
 * 4 for a non-zero type (a 16-byte challenge follows type 2: not consumed); 8 + reason length
 * for type 0; PARSE_AGAIN until complete; -ERR_PROTO for a type > 255 (no such security type);
 * -ERR_TOOBIG for an overlong reason, as in vnc_parse_sec_types.
 */
int vnc_parse_sec33(const uint8_t *buf, size_t len, struct vnc_sec33 *out);

/* SecurityResult (RFC 6143 §7.1.3): U32 status; with 3.8, a reason follows a failure. */
struct vnc_sec_result {
	uint32_t status; /* 0 OK, 1 failed, 2 too many attempts (Tight) */
	bool has_reason;
	struct vnc_reason reason;
};

/*
 * Parse a SecurityResult; rfb_minor (3, 7 or 8) is the version spoken: only 8 carries a reason
 * after a non-zero status. Returns 4 or 8 + reason length; PARSE_AGAIN; -ERR_TOOBIG for an
 * overlong reason as above.
 */
int vnc_parse_sec_result(const uint8_t *buf, size_t len, unsigned rfb_minor,
                         struct vnc_sec_result *out);

/* VeNCrypt version the server offers after the client picked type 19: U8 major, U8 minor. */
struct vnc_vencrypt_version {
	uint8_t major, minor; /* 0.2 in practice */
};

/* Returns 2; PARSE_AGAIN. Never fails (any two bytes are a version; the caller checks 0.2). */
int vnc_parse_vencrypt_version(const uint8_t *buf, size_t len, struct vnc_vencrypt_version *out);

/* After the client sent 00 02: U8 ack (0 = version accepted), then U8 count, count x U32. */
struct vnc_vencrypt_subtypes {
	uint8_t ack; /* non-zero: the server refused; no list follows */
	unsigned count;
	uint32_t subtypes[255]; /* in the server's order */
	bool has_plain;         /* 256: cleartext password */
	bool has_no_auth;       /* 257 TLSNone or 260 X509None: no password (§8.4) */
};

/*
 * Parse the ack and the subtype list at the start of buf. Returns 1 when ack != 0, else
 * 2 + 4 x count; PARSE_AGAIN until complete. Never fails otherwise.
 */
int vnc_parse_vencrypt_subtypes(const uint8_t *buf, size_t len, struct vnc_vencrypt_subtypes *out);

#endif
