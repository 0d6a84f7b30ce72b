/* SPDX-License-Identifier: MIT */
/* Requester resolution, the web service's target rules, a request's language (requester.h). */
#include "web/requester.h"
#include "core/err.h"

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
 * Parse one node: "1.2.3.4", "1.2.3.4:80", "2001:db8::1", "[2001:db8::1]:80", optionally in
 * double quotes (Forwarded). Returns 0 or -ERR_SYNTAX.
 */
static int parse_node(const char *b, const char *e, struct addr *out)
{
	char buf[ADDR_STRLEN + 16];
	size_t n;

	trim(&b, &e);
	if (e - b >= 2 && *b == '"' && e[-1] == '"') {
		b++;
		e--;
	}
	if (b < e && *b == '[') {
		const char *close = memchr(b, ']', (size_t)(e - b));
		if (!close)
			return -ERR_SYNTAX;
		b++;
		e = close;
	} else {
		/* An IPv4 with a port has exactly one colon. */
		const char *c = memchr(b, ':', (size_t)(e - b));
		if (c && !memchr(c + 1, ':', (size_t)(e - c - 1)))
			e = c;
	}
	n = (size_t)(e - b);
	if (n == 0 || n >= sizeof(buf))
		return -ERR_SYNTAX;
	memcpy(buf, b, n);
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

static void refuse_class(struct target_decision *d)
{
	switch (d->cls) {
	case ADDR_LOOPBACK:
		refuse(
		    d, "loopback",
		    "You are connecting from this server itself (a loopback address). This public "
		    "service only diagnoses addresses on the Internet.",
		    "このサーバー自身 (ループバックアドレス) "
		    "からの接続です。この公開サービスはインター"
		    "ネット上のアドレスだけを診断します。");
		break;
	case ADDR_PRIVATE:
		refuse(d, "private",
		       "Your address is a private one (home or office network), which cannot be "
		       "reached "
		       "from the Internet. Open this page from outside that network, or ask the "
		       "service's "
		       "operator.",
		       "あなたのアドレスはプライベートアドレス (家庭や社内のネットワーク) "
		       "で、インターネット"
		       "からは届きません。そのネットワークの外からこのページを開いてください。");
		break;
	case ADDR_SHARED:
		refuse(
		    d, "cgnat",
		    "Your carrier gives you a shared address (carrier-grade NAT, 100.64.0.0/10): "
		    "it hides "
		    "your device behind the carrier's equipment, together with other customers. We "
		    "cannot reach your device from the Internet, which is itself good news: the "
		    "doors "
		    "this service checks are not open to the Internet through this connection.",
		    "通信事業者があなたに共有アドレス (キャリアグレード NAT, 100.64.0.0/10) "
		    "を割り当てて"
		    "います。あなたの機器は事業者の設備の奥に、ほかの利用者と一緒に隠れています。"
		    "インターネットからあなたの機器には届きません。それ自体は良い知らせです。この接"
		    "続で"
		    "は、このサービスが調べる入口はインターネットに開いていません。");
		break;
	case ADDR_LINK_LOCAL:
		refuse(
		    d, "link-local",
		    "Your address is a link-local one, valid only on your own network segment; it "
		    "cannot be reached from the Internet.",
		    "あなたのアドレスはリンクローカルアドレスで、同じネットワーク内でしか使えません"
		    "。"
		    "インターネットからは届きません。");
		break;
	default:
		refuse(
		    d, "special",
		    "Your address belongs to a special-purpose block (documentation, benchmarking, "
		    "translation or reserved) that is not an ordinary Internet address, so it is "
		    "not "
		    "diagnosed.",
		    "あなたのアドレスは特別な用途のブロック "
		    "(文書用、ベンチマーク用、変換用、予約済み) "
		    "に属し、通常のインターネットアドレスではないため診断しません。");
		break;
	}
}

bool target_decide(const struct target_rules *r, const struct addr *a, struct target_decision *d)
{
	struct policy p;
	struct policy_decision pd;
	bool allowed_block = in_allow(r, a);

	memset(d, 0, sizeof(*d));
	d->cls = addr_classify(a);
	if (!allowed_block) {
		if (r->public_mode && d->cls != ADDR_GLOBAL) {
			refuse_class(d);
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
	bool seen, overflow;
};

static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
	struct join_ctx *j = cls;
	size_t n;

	(void)kind;
	if (!key || !value || strcasecmp(key, j->name) != 0)
		return MHD_YES;
	n = strlen(value);
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
		MHD_get_connection_values(c, MHD_HEADER_KIND, join_header, &jc);
	if (jc.overflow)
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
