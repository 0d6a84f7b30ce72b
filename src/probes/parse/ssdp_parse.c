/* SPDX-License-Identifier: MIT */
/* SSDP M-SEARCH answers (ssdp_parse.h). */
#include "probes/parse/ssdp_parse.h"
#include "core/decimal.h"

#include <string.h>

/*
 * UDA 1.1 §1.3.2: HOST is the multicast address even for a unicast search in most stacks (nmap's
 * upnp-info and zmap's upnp_1900.pkt send it so; miniupnpd answers either). MX 1: a device may
 * wait up to one second before it answers (the probe's reply delay).
 */
const char ssdp_msearch[] = "M-SEARCH * HTTP/1.1\r\n"
                            "HOST: 239.255.255.250:1900\r\n"
                            "MAN: \"ssdp:discover\"\r\n"
                            "MX: 1\r\n"
                            "ST: upnp:rootdevice\r\n"
                            "\r\n";
const size_t ssdp_msearch_len = sizeof(ssdp_msearch) - 1;

/* The next line of buf[*at..len): its start and length without CR LF; false at the end. */
static bool next_line(const uint8_t *buf, size_t len, size_t *at, const uint8_t **line, size_t *n,
                      bool *ended)
{
	const uint8_t *p = buf + *at, *lf;

	if (*at >= len)
		return false;
	lf = memchr(p, '\n', len - *at);
	*line = p;
	if (lf == NULL) {
		*n = len - *at;
		*at = len;
		*ended = false;
	} else {
		*n = (size_t)(lf - p);
		*at += *n + 1;
		*ended = true;
	}
	if (*n > 0 && p[*n - 1] == '\r')
		(*n)--;
	return true;
}

static bool name_is(const uint8_t *name, size_t n, const char *want)
{
	size_t w = strlen(want);

	if (n != w)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = name[i];

		if (c >= 'a' && c <= 'z')
			c = (uint8_t)(c - 'a' + 'A');
		if (c != (uint8_t)want[i])
			return false;
	}
	return true;
}

/* "HTTP/1.x NNN reason": 0, or -ERR_SYNTAX. */
static int status_line(const uint8_t *l, size_t n, struct ssdp_reply *out)
{
	uint64_t code;

	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[8] != ' ' || l[7] < '0' || l[7] > '9')
		return -ERR_SYNTAX;
	if (decimal_span_u64((const char *)l + 9, 3, 999, &code) < 0 || code < 100)
		return -ERR_SYNTAX;
	if (n > 12 && l[12] != ' ')
		return -ERR_SYNTAX;
	out->status = (unsigned)code;
	if (n > 13)
		parse_copy_text(out->reason, sizeof(out->reason), l + 13, n - 13);
	return 0;
}

static void keep(char *dst, const uint8_t *v, size_t n, bool *has, bool *truncated)
{
	if (*has) /* the first of repeated headers wins */
		return;
	*has = true;
	if (parse_copy_text(dst, SSDP_VALUE_MAX, v, n))
		*truncated = true;
}

static void header(const uint8_t *l, size_t n, struct ssdp_reply *out)
{
	const uint8_t *colon = memchr(l, ':', n);
	const uint8_t *v;
	size_t name_n, vn;
	bool dummy = false;

	if (colon == NULL)
		return;
	name_n = (size_t)(colon - l);
	v = colon + 1;
	vn = n - name_n - 1;
	while (vn > 0 && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if (name_is(l, name_n, "LOCATION"))
		keep(out->location, v, vn, &out->has_location, &out->truncated);
	else if (name_is(l, name_n, "SERVER"))
		keep(out->server, v, vn, &out->has_server, &out->truncated);
	else if (name_is(l, name_n, "ST"))
		keep(out->st, v, vn, &out->has_st, &out->truncated);
	else if (name_is(l, name_n, "USN"))
		keep(out->usn, v, vn, &out->has_usn, &out->truncated);
	else if (name_is(l, name_n, "CACHE-CONTROL"))
		keep(out->cache_control, v, vn, &dummy, &out->truncated);
	else if (name_is(l, name_n, "EXT"))
		out->has_ext = true;
}

int ssdp_parse_reply(const uint8_t *buf, size_t len, struct ssdp_reply *out)
{
	size_t at = 0, n;
	const uint8_t *l;
	bool ended;
	int r;

	memset(out, 0, sizeof(*out));
	if (!next_line(buf, len, &at, &l, &n, &ended) || (r = status_line(l, n, out)) < 0)
		return -ERR_SYNTAX;
	while (next_line(buf, len, &at, &l, &n, &ended)) {
		if (n == 0 && ended) {
			out->complete = true;
			break;
		}
		if (++out->lines > SSDP_LINES_MAX)
			return -ERR_TOOBIG;
		header(l, n, out);
	}
	return (int)(len > INT32_MAX ? INT32_MAX : len);
}

bool ssdp_is_discovery(const struct ssdp_reply *r)
{
	return r->status == 200 && (r->has_location || r->has_server || r->has_usn || r->has_st);
}
