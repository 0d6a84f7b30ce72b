/* SPDX-License-Identifier: MIT */
/* iSCSI PDUs of a discovery session (iscsi_parse.h; RFC 7143 §11). */
#include "probes/parse/iscsi_parse.h"

#include <string.h>

#define AHS_MAX 1024

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool target_opcode(uint8_t op)
{
	/* Target opcodes are 0x20-0x3f (§11.1.1); only those the target may send us. */
	switch (op) {
	case 0x20: /* NOP-In */
	case 0x21: /* SCSI Response */
	case ISCSI_OP_LOGIN_RSP:
	case ISCSI_OP_TEXT_RSP:
	case 0x25: /* SCSI Data-In */
	case ISCSI_OP_LOGOUT_RSP:
	case 0x31: /* R2T */
	case 0x32: /* Async Message */
	case ISCSI_OP_REJECT:
		return true;
	default:
		return false;
	}
}

int iscsi_parse_pdu(const uint8_t *buf, size_t len, struct iscsi_pdu *out)
{
	size_t ahs, dsl, total;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return PARSE_AGAIN;
	/* The first byte is enough to refuse: bit 7 reserved, bit 6 (I) only from initiators. */
	if ((buf[0] & 0xc0) != 0 || !target_opcode(buf[0] & 0x3f))
		return -ERR_PROTO;
	if (len < ISCSI_BHS_LEN)
		return PARSE_AGAIN;
	ahs = (size_t)buf[4] * 4;
	dsl = (size_t)buf[5] << 16 | (size_t)buf[6] << 8 | buf[7];
	if (ahs > AHS_MAX || dsl > ISCSI_DATA_MAX)
		return -ERR_TOOBIG;
	total = ISCSI_BHS_LEN + ahs + ((dsl + 3) & ~(size_t)3);
	if (len < total)
		return PARSE_AGAIN;
	out->opcode = buf[0] & 0x3f;
	out->final = (buf[1] & 0x80) != 0;
	out->cont = (buf[1] & 0x40) != 0;
	out->csg = (buf[1] >> 2) & 3;
	out->nsg = buf[1] & 3;
	out->itt = parse_be32(buf + 16);
	out->ttt = parse_be32(buf + 20);
	out->stat_sn = parse_be32(buf + 24);
	if (out->opcode == ISCSI_OP_LOGIN_RSP) {
		out->version_max = buf[2];
		out->version_active = buf[3];
		out->tsih = parse_be16(buf + 14);
		out->status_class = buf[36];
		out->status_detail = buf[37];
	} else if (out->opcode == ISCSI_OP_REJECT) {
		out->reject_reason = buf[2];
	}
	out->data_off = ISCSI_BHS_LEN + ahs;
	out->data_len = dsl;
	return (int)total;
}

bool iscsi_next_key(const uint8_t *data, size_t len, size_t *off, const uint8_t **key, size_t *klen,
                    const uint8_t **val, size_t *vlen)
{
	const uint8_t *p, *nul, *eq;
	size_t n;

	/* Skip the padding NULs between pairs. */
	while (*off < len && data[*off] == '\0')
		(*off)++;
	if (*off >= len)
		return false;
	p = data + *off;
	nul = memchr(p, '\0', len - *off);
	n = nul ? (size_t)(nul - p) : len - *off;
	eq = memchr(p, '=', n);
	*key = p;
	*klen = eq ? (size_t)(eq - p) : n;
	*val = eq ? eq + 1 : p + n;
	*vlen = eq ? n - *klen - 1 : 0;
	*off += n + (nul != NULL);
	return true;
}

static bool key_is(const uint8_t *k, size_t kl, const char *name)
{
	return kl == strlen(name) && memcmp(k, name, kl) == 0;
}

void iscsi_keys_scan(const uint8_t *data, size_t len, struct iscsi_keys *k)
{
	const uint8_t *key, *val;
	size_t off = 0, kl, vl;

	while (iscsi_next_key(data, len, &off, &key, &kl, &val, &vl)) {
		if (key_is(key, kl, "AuthMethod")) {
			k->truncated |=
			    parse_copy_text(k->auth_method, sizeof(k->auth_method), val, vl);
		} else if (key_is(key, kl, "TargetName")) {
			if (k->n_targets < ISCSI_TARGETS_MAX)
				k->truncated |= parse_copy_text(k->targets[k->n_targets],
				                                ISCSI_NAME_MAX, val, vl);
			if (k->n_targets < UINT32_MAX / 2)
				k->n_targets++;
		}
	}
}

const char *iscsi_status_name(uint8_t cls, uint8_t detail)
{
	static const struct {
		uint8_t cls, detail;
		const char *name;
	} names[] = {
	    {0, 0, "success"},
	    {1, 1, "target moved temporarily"},
	    {1, 2, "target moved permanently"},
	    {2, 0, "initiator error"},
	    {2, 1, "authentication failure"},
	    {2, 2, "authorization failure"},
	    {2, 3, "not found"},
	    {2, 4, "target removed"},
	    {2, 5, "unsupported version"},
	    {2, 6, "too many connections"},
	    {2, 7, "missing parameter"},
	    {2, 8, "cannot include in session"},
	    {2, 9, "session type not supported"},
	    {2, 10, "session does not exist"},
	    {2, 11, "invalid during login"},
	    {3, 0, "target error"},
	    {3, 1, "service unavailable"},
	    {3, 2, "out of resources"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cls == cls && names[i].detail == detail)
			return names[i].name;
	return cls == 0   ? "success"
	       : cls == 1 ? "redirection"
	       : cls == 2 ? "initiator error"
	                  : "target error";
}

static int build(uint8_t *buf, size_t cap, const uint8_t bhs[ISCSI_BHS_LEN], const void *data,
                 size_t data_len)
{
	size_t padded = (data_len + 3) & ~(size_t)3;

	if (data_len > ISCSI_DATA_MAX || cap < ISCSI_BHS_LEN + padded)
		return -ERR_TOOBIG;
	memcpy(buf, bhs, ISCSI_BHS_LEN);
	buf[5] = (uint8_t)(data_len >> 16), buf[6] = (uint8_t)(data_len >> 8);
	buf[7] = (uint8_t)data_len;
	if (data_len)
		memcpy(buf + ISCSI_BHS_LEN, data, data_len);
	memset(buf + ISCSI_BHS_LEN + data_len, 0, padded - data_len);
	return (int)(ISCSI_BHS_LEN + padded);
}

int iscsi_build_login(uint8_t *buf, size_t cap, uint8_t csg, uint8_t nsg, const uint8_t isid[6],
                      uint16_t tsih, uint32_t itt, uint32_t cmd_sn, uint32_t exp_stat_sn,
                      const void *data, size_t data_len)
{
	uint8_t bhs[ISCSI_BHS_LEN] = {0};

	bhs[0] = 0x40 | ISCSI_OP_LOGIN_REQ;                    /* immediate */
	bhs[1] = (uint8_t)(0x80 | (csg & 3) << 2 | (nsg & 3)); /* transit */
	memcpy(bhs + 8, isid, 6);
	bhs[14] = (uint8_t)(tsih >> 8), bhs[15] = (uint8_t)tsih;
	put_be32(bhs + 16, itt);
	put_be32(bhs + 24, cmd_sn);
	put_be32(bhs + 28, exp_stat_sn);
	return build(buf, cap, bhs, data, data_len);
}

int iscsi_build_text(uint8_t *buf, size_t cap, uint32_t itt, uint32_t cmd_sn, uint32_t exp_stat_sn,
                     const void *data, size_t data_len)
{
	uint8_t bhs[ISCSI_BHS_LEN] = {0};

	bhs[0] = 0x40 | ISCSI_OP_TEXT_REQ; /* immediate */
	bhs[1] = 0x80;                     /* final */
	put_be32(bhs + 16, itt);
	put_be32(bhs + 20, 0xffffffffu); /* no Target Transfer Tag: a new request */
	put_be32(bhs + 24, cmd_sn);
	put_be32(bhs + 28, exp_stat_sn);
	return build(buf, cap, bhs, data, data_len);
}
