/* SPDX-License-Identifier: MIT */
/*
 * Pure iSCSI parsers and builders (RFC 7143; docs/internals/PROBES.md, "iSCSI") for the one
 * conversation the probe may hold, a discovery session: Login Request/Response (§11.12, §11.13)
 * and Text Request/Response (§11.10, §11.11) carrying SendTargets=All, whose data segments are
 * key=value pairs each ended by a NUL (§6.1). Conventions of parse.h; the builders write into the
 * caller's buffer and never allocate.
 */
#ifndef EXPOSURE_PROBES_PARSE_ISCSI_PARSE_H
#define EXPOSURE_PROBES_PARSE_ISCSI_PARSE_H

#include "probes/parse/parse.h"

#define ISCSI_BHS_LEN 48
/* Data segment accepted at most: the MaxRecvDataSegmentLength we declare (RFC 7143 §13.12). */
#define ISCSI_DATA_MAX 8192
/* Target names kept (an iSCSI name is at most 223 bytes, §4.2.7.1) and how many. */
#define ISCSI_NAME_MAX    224
#define ISCSI_TARGETS_MAX 16

enum iscsi_opcode {
	ISCSI_OP_LOGIN_REQ = 0x03,
	ISCSI_OP_TEXT_REQ = 0x04,
	ISCSI_OP_TEXT_RSP = 0x24,
	ISCSI_OP_LOGIN_RSP = 0x23,
	ISCSI_OP_LOGOUT_RSP = 0x26,
	ISCSI_OP_REJECT = 0x3f,
};

/* Login stages (CSG/NSG, §11.12.3). */
enum iscsi_stage {
	ISCSI_STAGE_SECURITY = 0,
	ISCSI_STAGE_OPERATIONAL = 1,
	ISCSI_STAGE_FULL_FEATURE = 3,
};

/* One target PDU: its header fields and where its data segment lies in the buffer. */
struct iscsi_pdu {
	uint8_t opcode;            /* without the I bit */
	bool final, cont;          /* F/T (0x80) and C (0x40) of byte 1 */
	uint8_t csg, nsg;          /* login stages (Login Response) */
	uint8_t version_max;       /* Login Response */
	uint8_t version_active;    /* Login Response */
	uint8_t status_class;      /* Login Response (§11.13.5) */
	uint8_t status_detail;     /* Login Response */
	uint8_t reject_reason;     /* Reject (§11.17.1) */
	uint16_t tsih;             /* Login Response */
	uint32_t itt, ttt;         /* Initiator / Target Transfer Tag */
	uint32_t stat_sn;          /* StatSN */
	size_t data_off, data_len; /* the data segment: buf[data_off .. data_off + data_len) */
};

/*
 * One PDU (BHS, AHS, data segment and its padding to 4 bytes; no digests, which we never ask
 * for). Returns the bytes consumed, PARSE_AGAIN, -ERR_PROTO when the first byte cannot start a
 * target PDU (initiator opcodes, reserved bits), or -ERR_TOOBIG for a data segment above
 * ISCSI_DATA_MAX or AHS above 1 KiB.
 */
int iscsi_parse_pdu(const uint8_t *buf, size_t len, struct iscsi_pdu *out);

/* The next key=value of a data segment from *off: true and the pair's spans, or false at the
 * end. A pair without '=' has an empty value; a last pair without its NUL ends at len. */
bool iscsi_next_key(const uint8_t *data, size_t len, size_t *off, const uint8_t **key, size_t *klen,
                    const uint8_t **val, size_t *vlen);

/* What a discovery answer says, from its data segments (Login and Text Responses). */
struct iscsi_keys {
	char auth_method[32]; /* AuthMethod=... chosen by the target ("None", "CHAP", "Reject") */
	unsigned n_targets;   /* TargetName= pairs seen */
	char targets[ISCSI_TARGETS_MAX][ISCSI_NAME_MAX]; /* the first ISCSI_TARGETS_MAX, escaped */
	bool truncated;                                  /* a name was cut */
};

/* Add what data says to *k (not zeroed: several PDUs add up). */
void iscsi_keys_scan(const uint8_t *data, size_t len, struct iscsi_keys *k);

/* "authentication failure" ... for a Login Response status (§11.13.5). */
const char *iscsi_status_name(uint8_t cls, uint8_t detail);

/*
 * Builders: a Login Request moving from csg to nsg (transit set) or a Text Request (final),
 * both immediate, with data (key=value pairs, each NUL-terminated) padded to 4 bytes. Return the
 * length written, or -ERR_TOOBIG if cap is too small.
 */
int iscsi_build_login(uint8_t *buf, size_t cap, uint8_t csg, uint8_t nsg, const uint8_t isid[6],
                      uint16_t tsih, uint32_t itt, uint32_t cmd_sn, uint32_t exp_stat_sn,
                      const void *data, size_t data_len);
int iscsi_build_text(uint8_t *buf, size_t cap, uint32_t itt, uint32_t cmd_sn, uint32_t exp_stat_sn,
                     const void *data, size_t data_len);

#endif
