/* SPDX-License-Identifier: MIT */
/* Requester resolution, the web service's target rules, a request's language (requester.h). */
#include "web/requester.h"
#include "core/decimal.h"
#include "core/err.h"
#include "core/special.h"

#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

bool trust_contains(const struct trust *t, const struct addr *a)
{
	for (size_t i = 0; i < t->n; i++)
		if (cidr_contains(&t->proxies[i], a))
			return true;
	return false;
}

/* Trim spaces and tabs of [*b, *e). */
static void trim(const char **b, const char **e)
{
	while (*b < *e && (**b == ' ' || **b == '\t'))
		(*b)++;
	while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/*
 * The part after an address in a node: nothing, or ":PORT" with PORT a decimal port or an
 * obfuscated one ("_" then letters, digits, ".", "_", "-"; RFC 7239 §6.3). Anything else
 * ("[2600::1]junk", "1.2.3.4:80x") makes the element malformed, not a shorter address.
 */
static int node_port(const char *b, const char *e)
{
	uint64_t port;

	if (b == e)
		return 0;
	if (*b++ != ':' || b == e)
		return -ERR_SYNTAX;
	if (*b == '_') {
		if (++b == e)
			return -ERR_SYNTAX;
		for (; b < e; b++)
			if (!isalnum((unsigned char)*b) && *b != '.' && *b != '_' && *b != '-')
				return -ERR_SYNTAX;
		return 0;
	}
	return decimal_span_u64(b, (size_t)(e - b), 65535, &port) < 0 ? -ERR_SYNTAX : 0;
}

/*
 * Parse one node: "1.2.3.4", "1.2.3.4:80", "2001:db8::1", "[2001:db8::1]:80", optionally in
 * double quotes (Forwarded). Returns 0 or -ERR_SYNTAX.
 */
static int parse_node(const char *b, const char *e, struct addr *out)
{
	char buf[ADDR_STRLEN + 16];
	const char *ab, *ae, *rest; /* the address, what follows it */
	size_t n;

	trim(&b, &e);
	if (e - b >= 2 && *b == '"' && e[-1] == '"') {
		b++;
		e--;
	}
	ab = b;
	ae = e;
	if (b < e && *b == '[') {
		const char *close = memchr(b, ']', (size_t)(e - b));
		if (!close)
			return -ERR_SYNTAX;
		ab = b + 1;
		ae = close;
		rest = close + 1;
	} else {
		/* An IPv4 with a port has exactly one colon. */
		const char *c = memchr(b, ':', (size_t)(e - b));
		if (c && !memchr(c + 1, ':', (size_t)(e - c - 1)))
			ae = c;
		rest = ae;
	}
	if (node_port(rest, e) < 0)
		return -ERR_SYNTAX;
	n = (size_t)(ae - ab);
	if (n == 0 || n >= sizeof(buf))
		return -ERR_SYNTAX;
	memcpy(buf, ab, n);
	buf[n] = '\0';
	return addr_parse(buf, out);
}

/* In one Forwarded element ("for=x;proto=https;by=y"), find the for= value. */
static int forwarded_for(const char *b, const char *e, const char **vb, const char **ve)
{
	while (b < e) {
		const char *semi = memchr(b, ';', (size_t)(e - b));
		const char *pe = semi ? semi : e;
		const char *pb = b;

		trim(&pb, &pe);
		if (pe - pb > 4 && strncasecmp(pb, "for=", 4) == 0) {
			*vb = pb + 4;
			*ve = pe;
			return 0;
		}
		b = semi ? semi + 1 : e;
	}
	return -ERR_SYNTAX;
}

int requester_resolve(const struct trust *t, const struct addr *peer, const char *header,
                      struct addr *out, bool *via_proxy)
{
	const char *end;

	*via_proxy = false;
	*out = *peer;
	if (!trust_contains(t, peer) || !header)
		return 0;
	end = header + strlen(header);
	*via_proxy = true;
	/*
	 * Walk the comma-separated elements from the right. A quoted Forwarded value never
	 * holds a comma that matters here (an IPv6 literal has none), so a plain split is safe.
	 */
	while (end > header) {
		const char *b = end;
		const char *vb, *ve;
		struct addr a;
		int r;

		while (b > header && b[-1] != ',')
			b--;
		vb = b;
		ve = end;
		trim(&vb, &ve);
		end = b > header ? b - 1 : header;
		if (vb == ve) {
			if (b == header)
				break;
			continue; /* empty element: ",," */
		}
		if (t->header == PROXY_HDR_FORWARDED && forwarded_for(vb, ve, &vb, &ve) < 0)
			return -ERR_SYNTAX;
		r = parse_node(vb, ve, &a);
		if (r < 0)
			return -ERR_SYNTAX; /* "unknown", "_hidden" or garbage where a hop should be
			                     */
		*out = a;
		if (!trust_contains(t, &a))
			return 0;
		if (b == header)
			break;
	}
	return 0; /* every hop trusted: the left-most one (or the peer) asked */
}

int forwarding_value_check(const char *value, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)value[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return -ERR_SYNTAX;
	}
	return 0;
}

void addr_rate_prefix(const struct addr *a, struct addr *out)
{
	*out = *a;
	if (a->family == AF_INET)
		out->bytes[3] = 0;
	else
		memset(out->bytes + 8, 0, 8);
}

static bool in_allow(const struct target_rules *r, const struct addr *a)
{
	for (size_t i = 0; i < r->n_allow; i++)
		if (cidr_contains(&r->allow[i], a))
			return true;
	return false;
}

static void refuse(struct target_decision *d, const char *code, const char *en, const char *ja)
{
	d->allowed = false;
	d->code = code;
	d->why_en = en;
	d->why_ja = ja;
}

bool target_decide(const struct target_rules *r, const struct addr *a, struct target_decision *d)
{
	struct policy p;
	struct policy_decision pd;
	bool allowed_block = in_allow(r, a);
	const struct special_block *sb = special_lookup(a);

	memset(d, 0, sizeof(*d));
	d->cls = sb ? sb->cls : ADDR_GLOBAL;
	if (!allowed_block) {
		/* --public: every special-purpose block is refused, with its own reason. */
		if (r->public_mode && sb) {
			refuse(d, sb->reason->code, sb->reason->en, sb->reason->ja);
			return false;
		}
		if (!r->public_mode && d->cls != ADDR_LOOPBACK) {
			refuse(
			    d, "not-local",
			    "This service runs in local mode: it only diagnoses the machine it "
			    "runs "
			    "on (loopback) and the networks its operator allowed.",
			    "このサービスはローカルモードで動いています。動いている機器自身 (ループ"
			    "バック) と、運用者が許可したネットワークだけを診断します。");
			return false;
		}
	}
	/* Then the product's target policy, which no setting can loosen for special classes. */
	policy_init(&p);
	for (size_t i = 0; i < r->n_allow; i++)
		policy_allow(&p, &r->allow[i]);
	if (r->public_mode && d->cls == ADDR_GLOBAL && !allowed_block) {
		struct cidr all = {.base = {.family = a->family}, .prefix = 0};
		policy_allow(&p, &all);
	}
	p.deny_loopback = r->public_mode && !allowed_block;
	if (!policy_check(&p, a, &pd)) {
		refuse(d, "policy",
		       "This address is of a kind that is never probed (unspecified, multicast, "
		       "broadcast or reserved).",
		       "このアドレスは診断の対象にならない種類 "
		       "(未指定、マルチキャスト、ブロードキャスト、"
		       "予約済み) です。");
		return false;
	}
	d->allowed = true;
	d->code = "ok";
	d->why_en = "";
	d->why_ja = "";
	return true;
}

enum lang request_lang(const char *accept_language)
{
	enum lang l = LANG_EN;

	/* lang_choose writes only on success: anything else leaves English. */
	if (accept_language)
		lang_choose(accept_language, &l);
	return l;
}

/* ------------------------------------------------------------------------------------------ */
/* An HTTP connection's requester.                                                             */

#define HEADER_JOIN_MAX 2048

/* Every occurrence of one header, joined with ", " (RFC 9110 §5.3), within a bound. */
struct join_ctx {
	const char *name;
	char buf[HEADER_JOIN_MAX];
	size_t len;
	bool seen, overflow, malformed;
};

/*
 * Sized (the _n iterator): libmicrohttpd hands over a value with a NUL byte inside, and as a C
 * string "1.2.3.4\0, 10.0.0.1" would read as "1.2.3.4", the right-most hop cut off.
 */
static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t n)
{
	struct join_ctx *j = cls;

	(void)kind;
	(void)key_size;
	if (!key || !value || strcasecmp(key, j->name) != 0)
		return MHD_YES;
	if (forwarding_value_check(value, n) < 0) {
		j->malformed = true;
		return MHD_NO;
	}
	if (j->len + n + 3 > sizeof(j->buf)) {
		j->overflow = true;
		return MHD_NO;
	}
	if (j->seen) {
		memcpy(j->buf + j->len, ", ", 2);
		j->len += 2;
	}
	memcpy(j->buf + j->len, value, n);
	j->len += n;
	j->buf[j->len] = '\0';
	j->seen = true;
	return MHD_YES;
}

/*
 * A NUL byte inside a forwarding header's line. libmicrohttpd from 0.9.76 refuses such a
 * request itself (400). Older ones measure a header's value with strlen, so the NUL ends the
 * value and hides the rest: "1.2.3.4\0, 10.0.0.1", a client's part then the proxy's own hop,
 * reads as "1.2.3.4". Those keep the request head in place, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE
 * bytes from the method, with NULs written over each line's CR LF: a value arrived whole when
 * only that line end (1 or 2 NULs) lies between it and the next header's name, or, after the
 * last header, the line end and the empty line (2 to 4 NULs) up to the end of the head.
 */
#if MHD_VERSION < 0x00097600
struct head_scan {
	const char *name;         /* the forwarding header */
	uintptr_t head, head_end; /* the request head: [method, method + header size) */
	uintptr_t end, next;      /* one value's end; the nearest header name after it */
	struct MHD_Connection *conn;
	bool cut;
};

static enum MHD_Result nearest_name(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
	struct head_scan *s = cls;
	uintptr_t k = (uintptr_t)key;

	(void)kind, (void)key_size, (void)value, (void)value_size;
	if (k > s->end && k < s->next)
		s->next = k;
	return MHD_YES;
}

static bool value_whole(struct MHD_Connection *c, struct head_scan *s, const char *value, size_t n)
{
	bool last;
	size_t gap;

	s->end = (uintptr_t)value + n;
	s->next = s->head_end;
	if ((uintptr_t)value < s->head || s->end >= s->head_end)
		return false; /* not in place (a folded line): it cannot be checked */
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, nearest_name, s);
	last = s->next == s->head_end;
	gap = (size_t)(s->next - s->end);
	if (gap < (last ? 2 : 1) || gap > (last ? 4 : 2))
		return false;
	for (size_t i = 0; i < gap; i++)
		if (((const char *)s->end)[i] != '\0')
			return false;
	return true;
}

static enum MHD_Result check_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t n)
{
	struct head_scan *s = cls;

	(void)kind, (void)key_size;
	if (!key || !value || strcasecmp(key, s->name) != 0)
		return MHD_YES;
	s->cut = !value_whole(s->conn, s, value, n);
	return s->cut ? MHD_NO : MHD_YES;
}

int requester_head_check(struct MHD_Connection *c, const struct trust *t, const char *method)
{
	const union MHD_ConnectionInfo *ci, *hs;
	struct addr peer;
	struct head_scan s = {.name = t->header == PROXY_HDR_FORWARDED ? "Forwarded"
	                                                               : "X-Forwarded-For"};

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr || addr_from_sockaddr(ci->client_addr, &peer, NULL) < 0 ||
	    !trust_contains(t, &peer))
		return 0; /* the header is not read */
	hs = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (!hs || !method)
		return -ERR_SYNTAX;
	s.head = (uintptr_t)method;
	s.head_end = s.head + hs->header_size;
	s.conn = c;
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, check_value, &s);
	return s.cut ? -ERR_SYNTAX : 0;
}
#else
int requester_head_check(struct MHD_Connection *c, const struct trust *t, const char *method)
{
	(void)c, (void)t, (void)method;
	return 0;
}
#endif

/* The kernel's smoothed RTT of the connection, -1 when it will not say. */
static double connection_rtt_ms(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (!ci)
		return -1;
	if (getsockopt(ci->connect_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_rttvar))
		return -1;
	return ti.tcpi_rtt / 1000.0;
}

int requester_identify(struct MHD_Connection *c, const struct trust *t,
                       const struct target_rules *rules, struct requester *out)
{
	const union MHD_ConnectionInfo *ci;
	struct join_ctx jc = {.name = t->header == PROXY_HDR_FORWARDED ? "Forwarded"
	                                                               : "X-Forwarded-For"};
	int r;

	memset(out, 0, sizeof(*out));
	out->rtt_ms = -1;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr || addr_from_sockaddr(ci->client_addr, &out->peer, NULL) < 0)
		return -ERR_UNSUPPORTED;
	if (trust_contains(t, &out->peer))
		MHD_get_connection_values_n(c, MHD_HEADER_KIND, join_header, &jc);
	if (jc.overflow || jc.malformed)
		return -ERR_SYNTAX;
	r = requester_resolve(t, &out->peer, jc.seen ? jc.buf : NULL, &out->addr, &out->via_proxy);
	if (r < 0)
		return r;
	addr_format(&out->addr, out->text, sizeof(out->text));
	target_decide(rules, &out->addr, &out->d);
	out->rtt_ms = connection_rtt_ms(c);
	return 0;
}

unsigned requester_probe_timeout(const struct requester *r, const struct rtt_deadline *p)
{
	double t;

	if (r->via_proxy || r->rtt_ms < 0)
		return 0;
	t = r->rtt_ms * p->factor + p->margin_ms;
	if (t < p->floor_ms)
		t = p->floor_ms;
	if (t > p->ceiling_ms)
		t = p->ceiling_ms;
	return (unsigned)t;
}
