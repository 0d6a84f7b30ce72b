/* SPDX-License-Identifier: MIT */
/*
 * NetBIOS Session Service (RFC 1002 §4.3, PROTOCOLS.md §4) and the 4-byte framing of SMB
 * (direct TCP 445, [MS-SMB2] §2.1; NBT 139, PROTOCOLS.md §5.1). Pure helpers with the
 * conventions of parse.h: no I/O, no allocation, never read past buf[len - 1].
 *
 * How a probe on TCP 139 uses this file:
 *   1. n = nbss_build_session_request(tx, cap, "*SMBSERVER", NBSS_SUFFIX_SERVER,
 *                                     "SELFCHECK", NBSS_SUFFIX_WORKSTATION);   (72 bytes, §4.3)
 *   2. r = nbss_parse(rx, rxlen, &pkt) until r != PARSE_AGAIN; skip NBSS_KEEPALIVE packets
 *      (r bytes each); NBSS_POSITIVE => SMB follows on this connection in NBSS_MESSAGE frames;
 *      NBSS_NEGATIVE => pkt.error_code (nbss_error_name()); NBSS_RETARGET => pkt.retarget_*
 *      (record, never follow); -ERR_SYNTAX => not NetBIOS at all (e.g. "HTTP/").
 *   3. Each SMB reply: smb_frame_parse() (also on 445), or directly the message parsers of
 *      smb1_parse.h / smb2_parse.h, which take the whole frame including its 4-byte header.
 */
#ifndef EXPOSURE_PROBES_PARSE_NBSS_PARSE_H
#define EXPOSURE_PROBES_PARSE_NBSS_PARSE_H

#include "probes/parse/parse.h"

/* RFC 1002 §4.3.1 packet types. */
enum nbss_type {
	NBSS_MESSAGE = 0x00,   /* SESSION MESSAGE: payload (SMB) */
	NBSS_REQUEST = 0x81,   /* SESSION REQUEST: called name (34) + calling name (34) */
	NBSS_POSITIVE = 0x82,  /* POSITIVE SESSION RESPONSE, no body */
	NBSS_NEGATIVE = 0x83,  /* NEGATIVE SESSION RESPONSE, 1-byte error code */
	NBSS_RETARGET = 0x84,  /* RETARGET SESSION RESPONSE, IPv4 (4) + port (2) */
	NBSS_KEEPALIVE = 0x85, /* SESSION KEEP ALIVE, no body */
};

/* NEGATIVE SESSION RESPONSE error codes (RFC 1002 §4.3.4). */
enum nbss_error {
	NBSS_ERR_NOT_LISTENING_CALLED = 0x80,
	NBSS_ERR_NOT_LISTENING_CALLING = 0x81,
	NBSS_ERR_CALLED_NOT_PRESENT = 0x82,
	NBSS_ERR_INSUFFICIENT_RESOURCES = 0x83,
	NBSS_ERR_UNSPECIFIED = 0x8F,
};

/* NetBIOS name suffix bytes (the 16th byte, PROTOCOLS.md §4.1). */
#define NBSS_SUFFIX_WORKSTATION 0x00
#define NBSS_SUFFIX_SERVER      0x20

#define NBSS_HDR_LEN 4
/* Largest RFC 1002 length: 17 bits (FLAGS bit 0 = extension bit E). */
#define NBSS_LEN_MAX 131071u
/* Longest SMB message accepted from a peer (PROTOCOLS.md §5.1 cap, the protocol allows 2^24-1). */
#define SMB_FRAME_MAX 65536u
/* An encoded name on the wire: length byte 0x20, 32 letters A-P, empty scope 0x00. */
#define NBSS_NAME_WIRE 34
/* Longest NetBIOS name (without the suffix byte). */
#define NBSS_NAME_MAX 15
/* Size of a SESSION REQUEST. */
#define NBSS_REQUEST_LEN (NBSS_HDR_LEN + 2 * NBSS_NAME_WIRE)

/* One RFC 1002 session packet ([RFC 1002] §4.3.1..§4.3.7). */
struct nbss_packet {
	uint8_t type;           /* enum nbss_type */
	uint8_t flags;          /* 0 or 1 (E bit) */
	uint32_t length;        /* 17-bit body length */
	uint8_t error_code;     /* NBSS_NEGATIVE: enum nbss_error */
	uint8_t retarget_ip[4]; /* NBSS_RETARGET: IPv4 in network order */
	uint16_t retarget_port; /* NBSS_RETARGET */
};

/*
 * Parse one RFC 1002 session packet at the start of buf. Returns 4 + length (> 0) once the whole
 * packet is present; PARSE_AGAIN before that; -ERR_SYNTAX when the first byte is not one of the
 * types above or FLAGS has bits other than the E bit (not NetBIOS: "HTTP/", TLS...);
 * -ERR_TOOBIG for a SESSION MESSAGE longer than SMB_FRAME_MAX (checked as soon as the 4 header
 * bytes are present); -ERR_PROTO when a control packet has the wrong length for its type
 * (POSITIVE 0, NEGATIVE 1, RETARGET 6, KEEPALIVE 0, REQUEST 68). For NBSS_MESSAGE only the
 * header is interpreted; the payload is buf[4 .. 4 + length).
 */
int nbss_parse(const uint8_t *buf, size_t len, struct nbss_packet *out);

/*
 * Write the 34-byte wire form of a NetBIOS name (RFC 1001 §14.1, PROTOCOLS.md §4.1): name upper-
 * cased, space-padded to 15 (the wildcard "*" is NUL-padded), suffix as 16th byte, first-level
 * encoded, empty scope. Returns NBSS_NAME_WIRE; -ERR_TOOBIG if cap < 34; -ERR_RANGE for an
 * empty name, more than NBSS_NAME_MAX characters, or a byte outside printable ASCII.
 */
int nbss_encode_name(uint8_t *dst, size_t cap, const char *name, uint8_t suffix);

/*
 * Write a SESSION REQUEST (PROTOCOLS.md §4.3): called name then calling name. With "*SMBSERVER"
 * / NBSS_SUFFIX_SERVER and "SELFCHECK" / NBSS_SUFFIX_WORKSTATION the 72 bytes of §4.3. Samba
 * answers NEGATIVE (code 0x82) when the calling suffix is 'R' (0x52), §12.4. Returns
 * NBSS_REQUEST_LEN; -ERR_TOOBIG if cap is too small; -ERR_RANGE for a bad name.
 */
int nbss_build_session_request(uint8_t *dst, size_t cap, const char *called, uint8_t called_suffix,
                               const char *calling, uint8_t calling_suffix);

/* "not listening on called name"...; "unknown error code" otherwise. Static storage. */
const char *nbss_error_name(uint8_t code);

/* ---- SMB framing (PROTOCOLS.md §5.1) */

enum smb_frame_kind {
	SMB_FRAME_KEEPALIVE = 0, /* NBSS keep-alive (0x85, length 0): skip it */
	SMB_FRAME_SMB1,          /* ff 'S' 'M' 'B' */
	SMB_FRAME_SMB2,          /* fe 'S' 'M' 'B' */
	SMB_FRAME_TRANSFORM,     /* fd 'S' 'M' 'B' (SMB3 encrypted: unexpected here) */
	SMB_FRAME_X_MAX
};

/* Protocol identifiers ([MS-CIFS] §2.2.3.1, [MS-SMB2] §2.2.1, §2.2.41), as LE u32. */
#define SMB1_MAGIC           0x424d53ffu
#define SMB2_MAGIC           0x424d53feu
#define SMB3_TRANSFORM_MAGIC 0x424d53fdu
/* Smallest messages: SMB1 header + WordCount + ByteCount; SMB2 header. */
#define SMB1_MSG_MIN 35
#define SMB2_MSG_MIN 64

struct smb_frame {
	enum smb_frame_kind kind;
	uint32_t length; /* message length after the 4-byte header */
};

/*
 * Frame one SMB message: byte 0 must be 0x00 (direct TCP / NBSS SESSION MESSAGE; 24-bit big-
 * endian length, which equals NBSS's 17-bit length whenever it is < 128 KiB) or 0x85 (keep-alive,
 * length 0: returns 4 with kind SMB_FRAME_KEEPALIVE). Returns 4 + length once complete;
 * PARSE_AGAIN before; -ERR_SYNTAX when byte 0 is another value, or (as soon as 8 bytes are
 * present) the message does not start with one of the three SMB magics: another service;
 * -ERR_TOOBIG for a length > SMB_FRAME_MAX (checked on the 4 header bytes alone); -ERR_PROTO for
 * a keep-alive with a body or a message shorter than its header (SMB1_MSG_MIN / SMB2_MSG_MIN).
 */
int smb_frame_parse(const uint8_t *buf, size_t len, struct smb_frame *out);

/* Little-endian writers of the SMB request builders (every SMB field is little-endian). */
static inline void smb_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void smb_put_le32(uint8_t *p, uint32_t v)
{
	smb_put_le16(p, (uint16_t)v);
	smb_put_le16(p + 2, (uint16_t)(v >> 16));
}

#endif
