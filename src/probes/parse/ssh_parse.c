/* SPDX-License-Identifier: MIT */
/* SSH identification line, pre-banner lines and KEXINIT parsers (ssh_parse.h). */
#include "probes/parse/ssh_parse.h"

#include <string.h>

static bool is_print(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

static const uint8_t *find_byte(const uint8_t *p, size_t n, uint8_t c)
{
	return n ? memchr(p, c, n) : NULL;
}

static bool bytes_eq(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

static enum ssh_proto_kind proto_kind(const uint8_t *p, size_t n)
{
	if (bytes_eq(p, n, "2.0"))
		return SSH_PROTO_2;
	if (bytes_eq(p, n, "1.99"))
		return SSH_PROTO_1_99;
	if (n < 3 || p[0] != '1' || p[1] != '.')
		return SSH_PROTO_OTHER;
	for (size_t i = 2; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return SSH_PROTO_OTHER;
	return SSH_PROTO_1;
}

/* Split "proto-software SP comment" (line without "SSH-" and without CR LF). */
static void split_ident(const uint8_t *p, size_t n, struct ssh_ident *out)
{
	const uint8_t *dash = find_byte(p, n, '-');
	size_t plen = dash ? (size_t)(dash - p) : n;
	bool cut;

	cut = parse_copy_text(out->proto, sizeof(out->proto), p, plen);
	out->kind = proto_kind(p, plen);
	if (!dash) {
		out->flags |= SSH_IDENT_F_NO_DASH | SSH_IDENT_F_MALFORMED;
		out->truncated = cut;
		return;
	}
	p += plen + 1;
	n -= plen + 1;
	const uint8_t *sp = find_byte(p, n, ' ');
	size_t slen = sp ? (size_t)(sp - p) : n;

	cut |= parse_copy_text(out->software, sizeof(out->software), p, slen);
	if (sp)
		cut |= parse_copy_text(out->comment, sizeof(out->comment), sp + 1, n - slen - 1);
	out->truncated = cut;
}

int ssh_parse_ident(const uint8_t *buf, size_t len, struct ssh_ident *out)
{
	size_t scan = len < SSH_IDENT_SCAN_MAX ? len : SSH_IDENT_SCAN_MAX;
	size_t pfx = len < 4 ? len : 4;
	const uint8_t *lf;
	size_t end;

	memset(out, 0, sizeof(*out));
	if (memcmp(buf, "SSH-", pfx) != 0)
		return -ERR_SYNTAX;
	lf = find_byte(buf, scan, '\n');
	if (!lf)
		return len >= SSH_IDENT_SCAN_MAX ? -ERR_TOOBIG : PARSE_AGAIN;

	out->line_len = (size_t)(lf - buf) + 1;
	end = out->line_len - 1;
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	else
		out->flags |= SSH_IDENT_F_NO_CR;
	if (end < 4)
		return PARSE_AGAIN; /* unreachable: "SSH-" precedes the LF */
	if (out->line_len > SSH_IDENT_MAX)
		out->flags |= SSH_IDENT_F_OVERLONG;
	for (size_t i = 0; i < end; i++) {
		if (buf[i] == 0)
			out->flags |= SSH_IDENT_F_NUL | SSH_IDENT_F_MALFORMED;
		else if (!is_print(buf[i]))
			out->flags |= SSH_IDENT_F_NONPRINT;
	}
	split_ident(buf + 4, end - 4, out);
	return (int)out->line_len;
}

/* A complete pre-banner line of line_len bytes: check the caps, keep its text. */
static int add_pre_line(const uint8_t *p, size_t line_len, struct ssh_banner *out)
{
	size_t n = line_len - 1;

	if (find_byte(p, line_len, 0))
		return -ERR_SYNTAX;
	if (out->pre_lines >= SSH_PRE_MAX_LINES || out->pre_bytes + line_len > SSH_PRE_MAX_TOTAL)
		return -ERR_TOOBIG;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (out->pre_lines < SSH_PRE_KEEP) {
		if (parse_copy_text(out->pre[out->pre_lines], sizeof(out->pre[0]), p, n))
			out->pre_truncated = true;
	} else {
		out->pre_truncated = true;
	}
	out->pre_lines++;
	out->pre_bytes += line_len;
	return 0;
}

int ssh_parse_banner(const uint8_t *buf, size_t len, struct ssh_banner *out)
{
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	for (;;) {
		const uint8_t *p = buf + off;
		size_t left = len - off;
		size_t scan = left < SSH_PRE_MAX_LINE ? left : SSH_PRE_MAX_LINE;
		const uint8_t *lf;
		int r;

		if (left == 0)
			return PARSE_AGAIN;
		r = ssh_parse_ident(p, left, &out->ident);
		if (r > 0)
			return (int)off + r;
		if (r != -ERR_SYNTAX)
			return r;
		memset(&out->ident, 0, sizeof(out->ident));
		lf = find_byte(p, scan, '\n');
		if (!lf) {
			if (find_byte(p, scan, 0))
				return -ERR_SYNTAX;
			if (left >= SSH_PRE_MAX_LINE || out->pre_lines >= SSH_PRE_MAX_LINES ||
			    out->pre_bytes + left > SSH_PRE_MAX_TOTAL)
				return -ERR_TOOBIG;
			return PARSE_AGAIN;
		}
		r = add_pre_line(p, (size_t)(lf - p) + 1, out);
		if (r < 0)
			return r;
		off += (size_t)(lf - p) + 1;
	}
}

int ssh_parse_packet(const uint8_t *buf, size_t len, struct ssh_packet *out)
{
	uint32_t pl;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return PARSE_AGAIN;
	pl = parse_be32(buf);
	if (pl < SSH_PACKET_MIN || pl > SSH_PACKET_MAX)
		return -ERR_PROTO;
	if (len < 5)
		return PARSE_AGAIN;
	/* RFC 4253 §6: at least 4 bytes of padding, and a payload of at least one byte */
	if (buf[4] < 4 || (uint32_t)buf[4] + 1 >= pl)
		return -ERR_PROTO;
	if (len - 4 < pl)
		return PARSE_AGAIN;
	out->packet_length = pl;
	out->padding_length = buf[4];
	out->payload_off = 5;
	out->payload_len = pl - buf[4] - 1;
	out->msg = buf[5];
	return (int)(4 + pl);
}

static bool has_prefix(const char *name, size_t len, const char *pfx)
{
	size_t n = strlen(pfx);

	return len >= n && memcmp(name, pfx, n) == 0;
}

static bool has_suffix(const char *name, size_t len, const char *sfx)
{
	size_t n = strlen(sfx);

	return len >= n && memcmp(name + len - n, sfx, n) == 0;
}

static bool contains(const char *name, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(name + i, needle, n) == 0)
			return true;
	return false;
}

static bool name_is(const char *name, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(name, s, len) == 0;
}

unsigned ssh_alg_classify(const char *name, size_t len, int list)
{
	unsigned f = 0;

	switch (list) {
	case 0:
		if (name_is(name, len, "diffie-hellman-group1-sha1"))
			f |= SSH_ALG_WEAK_KEX;
		if (name_is(name, len, "kex-strict-s-v00@openssh.com"))
			f |= SSH_ALG_STRICT_KEX;
		break;
	case 1:
		if (has_prefix(name, len, "ssh-dss"))
			f |= SSH_ALG_WEAK_HOSTKEY;
		break;
	case 2:
		if (has_prefix(name, len, "arcfour") || name_is(name, len, "3des-cbc") ||
		    name_is(name, len, "blowfish-cbc") || name_is(name, len, "cast128-cbc"))
			f |= SSH_ALG_WEAK_CIPHER;
		if (name_is(name, len, "none"))
			f |= SSH_ALG_NONE_CIPHER;
		if (name_is(name, len, "chacha20-poly1305@openssh.com"))
			f |= SSH_ALG_CHACHA20;
		if (contains(name, len, "-cbc"))
			f |= SSH_ALG_CBC;
		break;
	case 3:
		if (has_prefix(name, len, "hmac-md5") || has_suffix(name, len, "-96") ||
		    contains(name, len, "-96@") || contains(name, len, "-96-etm@"))
			f |= SSH_ALG_WEAK_MAC;
		if (name_is(name, len, "none"))
			f |= SSH_ALG_NONE_MAC;
		if (has_suffix(name, len, "-etm@openssh.com"))
			f |= SSH_ALG_ETM;
		break;
	default:
		break;
	}
	return f;
}

/* Flags of every name of a comma-separated list (names are printable ASCII, checked before). */
static unsigned classify_list(const uint8_t *p, size_t n, int list)
{
	unsigned f = 0;
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != ',')
			continue;
		f |= ssh_alg_classify((const char *)p + start, i - start, list);
		start = i + 1;
	}
	return f;
}

/* Name-list index (RFC 4253 §7.1 order) -> kind for ssh_alg_classify. */
static const int list_kind[10] = {0, 1, 2, 2, 3, 3, -1, -1, -1, -1};

static char *list_text(struct ssh_kexinit *k, int i, size_t *size)
{
	char *const dst[8] = {k->kex,     k->hostkey, k->enc_c2s,  k->enc_s2c,
	                      k->mac_c2s, k->mac_s2c, k->comp_c2s, k->comp_s2c};

	if (i >= 8)
		return NULL;
	*size = i >= 6 ? sizeof(k->comp_c2s) : SSH_NAMELIST_TEXT;
	return dst[i];
}

int ssh_parse_kexinit(const uint8_t *buf, size_t len, struct ssh_kexinit *out)
{
	struct ssh_packet pkt;
	const uint8_t *p;
	size_t n, pos;
	int r;

	memset(out, 0, sizeof(*out));
	r = ssh_parse_packet(buf, len, &pkt);
	if (r <= 0)
		return r;
	if (pkt.msg != SSH_MSG_KEXINIT)
		return -ERR_UNSUPPORTED;
	p = buf + pkt.payload_off;
	n = pkt.payload_len;
	if (n < 17)
		return -ERR_PROTO;
	memcpy(out->cookie, p + 1, 16);
	pos = 17;
	for (int i = 0; i < 10; i++) {
		uint32_t l;
		size_t size;
		char *dst;

		/* RFC 4251 §5 name-list: uint32 length, then that many US-ASCII bytes */
		if (n - pos < 4)
			return -ERR_PROTO;
		l = parse_be32(p + pos);
		pos += 4;
		if (l > n - pos)
			return -ERR_PROTO;
		for (size_t j = 0; j < l; j++)
			if (p[pos + j] <= 0x20 || p[pos + j] >= 0x7f)
				return -ERR_PROTO;
		if (list_kind[i] >= 0)
			out->alg_flags |= classify_list(p + pos, l, list_kind[i]);
		dst = list_text(out, i, &size);
		if (dst && parse_copy_text(dst, size, p + pos, l))
			out->truncated = true;
		pos += l;
	}
	if (n - pos < 5)
		return -ERR_PROTO;
	out->first_kex_follows = p[pos] != 0;
	if ((out->alg_flags & (SSH_ALG_CHACHA20 | SSH_ALG_CBC | SSH_ALG_ETM)) &&
	    !(out->alg_flags & SSH_ALG_STRICT_KEX) &&
	    ((out->alg_flags & SSH_ALG_CHACHA20) ||
	     (out->alg_flags & (SSH_ALG_CBC | SSH_ALG_ETM)) == (SSH_ALG_CBC | SSH_ALG_ETM)))
		out->alg_flags |= SSH_ALG_TERRAPIN_PRONE;
	return r;
}

/* Is the name already listed in the comma-separated dst? */
static bool listed(const char *dst, const char *name, size_t len)
{
	const char *s = dst;

	while (*s) {
		const char *e = strchr(s, ',');
		size_t l = e ? (size_t)(e - s) : strlen(s);

		if (l == len && memcmp(s, name, len) == 0)
			return true;
		if (!e)
			break;
		s = e + 1;
	}
	return false;
}

int ssh_kexinit_weak_names(const struct ssh_kexinit *k, char *dst, size_t size)
{
	const char *const lists[6] = {k->kex,     k->hostkey, k->enc_c2s,
	                              k->enc_s2c, k->mac_c2s, k->mac_s2c};
	const unsigned weak = SSH_ALG_WEAK_KEX | SSH_ALG_WEAK_HOSTKEY | SSH_ALG_WEAK_CIPHER |
	                      SSH_ALG_WEAK_MAC | SSH_ALG_NONE_CIPHER | SSH_ALG_NONE_MAC;
	size_t used = 0;
	int count = 0;

	dst[0] = '\0';
	for (int i = 0; i < 6; i++) {
		const char *s = lists[i];

		while (*s) {
			const char *e = strchr(s, ',');
			size_t l = e ? (size_t)(e - s) : strlen(s);

			if (l && (ssh_alg_classify(s, l, list_kind[i]) & weak) &&
			    !listed(dst, s, l)) {
				size_t need = l + (used ? 1 : 0);

				if (used + need + 1 > size)
					return -ERR_TOOBIG;
				if (used)
					dst[used++] = ',';
				memcpy(dst + used, s, l);
				used += l;
				dst[used] = '\0';
				count++;
			}
			if (!e)
				break;
			s = e + 1;
		}
	}
	return count;
}
