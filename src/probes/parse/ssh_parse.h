/* SPDX-License-Identifier: MIT */
/*
 * Pure parsers for what an SSH server sends first: the identification line (RFC 4253 §4.2, §5.1),
 * the pre-banner lines before it, and the binary packet carrying KEXINIT (RFC 4253 §6, §7.1).
 * Conventions of parse.h: no I/O, no allocation; > 0 consumed, PARSE_AGAIN (0), -ERR_*.
 */
#ifndef EXPOSURE_PROBES_PARSE_SSH_PARSE_H
#define EXPOSURE_PROBES_PARSE_SSH_PARSE_H

#include "probes/parse/parse.h"

/* RFC 4253 §4.2: at most 255 characters including CR LF; longer lines are parsed and flagged. */
#define SSH_IDENT_MAX 255
/* How far we look for the LF of an identification line before giving up (OpenSSH's
 * SSH_MAX_BANNER_LEN, PROTOCOLS.md §2.1). */
#define SSH_IDENT_SCAN_MAX 8192
/* Pre-banner caps of PROTOCOLS.md §2.2 (tighter than OpenSSH on purpose: tarpits). */
#define SSH_PRE_MAX_LINES 32
#define SSH_PRE_MAX_LINE  255 /* bytes of one line, CR LF included */
#define SSH_PRE_MAX_TOTAL 8192
/* Pre-banner lines kept as text for display (all lines up to the caps are counted). */
#define SSH_PRE_KEEP 8
/* RFC 4253 §6.1: implementations must handle packets of 35000 bytes; we accept no larger. */
#define SSH_PACKET_MIN  12
#define SSH_PACKET_MAX  35000
#define SSH_MSG_KEXINIT 20

/* Which protocol the protoversion field announces (PROTOCOLS.md §2.4). */
enum ssh_proto_kind {
	SSH_PROTO_OTHER = 0, /* anything else ("3.0", "", garbage): flag it, do not guess */
	SSH_PROTO_2,         /* "2.0" */
	SSH_PROTO_1_99,      /* "1.99": SSH-2 plus SSH-1 compatibility (RFC 4253 §5.1) */
	SSH_PROTO_1,         /* "1.x" with x != 99, e.g. "1.5": SSH-1 only */
	SSH_PROTO_X_MAX
};

enum ssh_ident_flags {
	SSH_IDENT_F_NO_CR = 1 << 0,     /* line ended with a bare LF (accepted, RFC 4253 §4.2) */
	SSH_IDENT_F_OVERLONG = 1 << 1,  /* line longer than SSH_IDENT_MAX incl. CR LF */
	SSH_IDENT_F_NONPRINT = 1 << 2,  /* bytes outside printable ASCII (shown as '?') */
	SSH_IDENT_F_NUL = 1 << 3,       /* a NUL byte: forbidden by RFC 4253 §4.2 */
	SSH_IDENT_F_NO_DASH = 1 << 4,   /* no '-' after protoversion: no softwareversion */
	SSH_IDENT_F_MALFORMED = 1 << 5, /* summary: NUL or NO_DASH */
};

/* "SSH-protoversion-softwareversion SP comments CR LF" (RFC 4253 §4.2). */
struct ssh_ident {
	enum ssh_proto_kind kind;
	unsigned flags;     /* enum ssh_ident_flags */
	char proto[16];     /* "2.0", "1.99", "1.5" */
	char software[128]; /* "OpenSSH_9.2p1", "dropbear_2022.83" */
	char comment[128];  /* text after the first SP ("Debian-2+deb12u10"), may be empty */
	size_t line_len;    /* bytes of the line, LF (and CR) included */
	bool truncated;     /* some field was cut to fit */
};

/*
 * Parse one identification line at the start of buf. Fields are sanitised with
 * parse_copy_text() (non-printable bytes become '?').
 * Returns the bytes consumed (the line with its LF) and fills *out; a line that starts with
 * "SSH-" is always returned (> 0), defects are reported in out->flags (NUL or a missing '-' set
 * SSH_IDENT_F_MALFORMED: the caller decides).
 * PARSE_AGAIN: the bytes so far are a prefix of "SSH-" or no LF yet (within SSH_IDENT_SCAN_MAX).
 * -ERR_SYNTAX: the line does not start with "SSH-" (a pre-banner line or another service).
 * -ERR_TOOBIG: no LF within SSH_IDENT_SCAN_MAX bytes.
 */
int ssh_parse_ident(const uint8_t *buf, size_t len, struct ssh_ident *out);

/* Everything up to and including the identification line (PROTOCOLS.md §2.2). */
struct ssh_banner {
	struct ssh_ident ident;
	unsigned pre_lines;          /* pre-banner lines before the ident line */
	size_t pre_bytes;            /* their total size */
	char pre[SSH_PRE_KEEP][128]; /* the first SSH_PRE_KEEP of them, sanitised, no CR LF */
	bool pre_truncated;          /* a kept line was cut or more lines than SSH_PRE_KEEP */
};

/*
 * Walk the pre-banner lines (lines not starting with "SSH-", RFC 4253 §4.2) up to the
 * identification line and parse it. Returns the bytes consumed through the identification
 * line's LF; bytes after it (a KEXINIT sent in the same segment, dropbear style) are not
 * consumed and belong to the caller. PARSE_AGAIN while no ident line is complete and the caps
 * are not hit. -ERR_TOOBIG when the caps of PROTOCOLS.md §2.2 are exceeded (more than
 * SSH_PRE_MAX_LINES lines, a line longer than SSH_PRE_MAX_LINE, more than SSH_PRE_MAX_TOTAL bytes):
 * a tarpit or another service. -ERR_SYNTAX when a pre-banner line holds a NUL byte (binary data,
 * not SSH). out->pre_lines/pre[] also describe the lines seen when PARSE_AGAIN or an error is
 * returned, so a caller can show what the other service said.
 */
int ssh_parse_banner(const uint8_t *buf, size_t len, struct ssh_banner *out);

/* One binary packet before NEWKEYS (no MAC, no encryption), RFC 4253 §6. */
struct ssh_packet {
	uint32_t packet_length; /* bytes after this field */
	uint8_t padding_length;
	uint8_t msg;        /* first payload byte: message number */
	size_t payload_off; /* payload = buf[payload_off .. payload_off + payload_len) */
	size_t payload_len;
};

/*
 * Frame one unencrypted binary packet at the start of buf. Returns 4 + packet_length (> 0)
 * when the whole packet is present; PARSE_AGAIN before; -ERR_PROTO when packet_length is outside
 * SSH_PACKET_MIN..SSH_PACKET_MAX or padding_length is < 4 or leaves no payload.
 */
int ssh_parse_packet(const uint8_t *buf, size_t len, struct ssh_packet *out);

/* Weak or noteworthy algorithms offered in a KEXINIT (PROTOCOLS.md §2.4). Computed over the full
 * name-lists, even when the text copies below are truncated. */
enum ssh_alg_flags {
	SSH_ALG_WEAK_KEX = 1 << 0,     /* diffie-hellman-group1-sha1 */
	SSH_ALG_WEAK_HOSTKEY = 1 << 1, /* ssh-dss */
	SSH_ALG_WEAK_CIPHER = 1 << 2,  /* arcfour*, 3des-cbc, blowfish-cbc, cast128-cbc */
	SSH_ALG_WEAK_MAC = 1 << 3,     /* hmac-md5*, *-96 */
	SSH_ALG_NONE_CIPHER = 1 << 4,  /* "none" cipher */
	SSH_ALG_NONE_MAC = 1 << 5,     /* "none" MAC */
	SSH_ALG_CHACHA20 = 1 << 6,     /* chacha20-poly1305@openssh.com */
	SSH_ALG_CBC = 1 << 7,          /* any *-cbc cipher (incl. rijndael-cbc@lysator.liu.se) */
	SSH_ALG_ETM = 1 << 8,          /* any *-etm@openssh.com MAC */
	SSH_ALG_STRICT_KEX = 1 << 9,   /* kex-strict-s-v00@openssh.com in kex_algorithms */
	/* CVE-2023-48795: (CHACHA20 or (CBC and ETM)) and not STRICT_KEX */
	SSH_ALG_TERRAPIN_PRONE = 1 << 10,
};

/* Text copies of the name-lists; longer lists are cut (truncated = true), flags stay exact. */
#define SSH_NAMELIST_TEXT 1024

/* SSH_MSG_KEXINIT payload, RFC 4253 §7.1. */
struct ssh_kexinit {
	uint8_t cookie[16];
	char kex[SSH_NAMELIST_TEXT];
	char hostkey[SSH_NAMELIST_TEXT];
	char enc_c2s[SSH_NAMELIST_TEXT];
	char enc_s2c[SSH_NAMELIST_TEXT];
	char mac_c2s[SSH_NAMELIST_TEXT];
	char mac_s2c[SSH_NAMELIST_TEXT];
	char comp_c2s[256];
	char comp_s2c[256];
	bool first_kex_follows;
	unsigned alg_flags; /* enum ssh_alg_flags */
	bool truncated;
};

/*
 * Parse one binary packet holding SSH_MSG_KEXINIT at the start of buf (the bytes after the
 * identification line). Returns the packet size (> 0); PARSE_AGAIN until the whole packet is
 * present; -ERR_PROTO for a bad frame, a name-list running past the payload or a name-list with
 * bytes outside printable ASCII; -ERR_UNSUPPORTED for a well-framed packet that is not KEXINIT
 * (the caller may skip it: ssh_parse_packet gives its size).
 */
int ssh_parse_kexinit(const uint8_t *buf, size_t len, struct ssh_kexinit *out);

/* Class of one algorithm name (enum ssh_alg_flags bits; 0 for an unremarkable name). list is
 * which name-list it came from: 0 kex, 1 host key, 2 cipher, 3 MAC. */
unsigned ssh_alg_classify(const char *name, size_t len, int list);

/*
 * Write the weak names of k (those that set a WEAK_* or NONE_* flag), comma-separated and without
 * duplicates, into dst (size > 0, always NUL-terminated). Only the text copies are examined, so a
 * name beyond a truncated copy is not listed (its flag is still set). Returns the number of names
 * written, or -ERR_TOOBIG when dst was too small (dst then holds the names that fitted).
 */
int ssh_kexinit_weak_names(const struct ssh_kexinit *k, char *dst, size_t size);

#endif
