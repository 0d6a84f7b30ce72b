/* SPDX-License-Identifier: MIT */
/* ONC RPC, portmapper DUMP and mount EXPORT (rpc_parse.h). */
#include "probes/parse/rpc_parse.h"

#include <arpa/inet.h>
#include <string.h>

/* An XDR reader over one record: every read checks the bytes left. */
struct xdr {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static uint32_t u32(struct xdr *x)
{
	uint32_t v;

	if (x->bad || x->len - x->off < 4) {
		x->bad = true;
		return 0;
	}
	v = parse_be32(x->p + x->off);
	x->off += 4;
	return v;
}

/* A string or opaque of at most max bytes: its bytes in *s, *n. */
static bool bytes(struct xdr *x, uint32_t max, const uint8_t **s, uint32_t *n)
{
	uint32_t l = u32(x);
	size_t padded;

	if (x->bad || l > max) {
		x->bad = true;
		return false;
	}
	padded = ((size_t)l + 3) & ~(size_t)3;
	if (x->len - x->off < padded) {
		x->bad = true;
		return false;
	}
	*s = x->p + x->off;
	*n = l;
	x->off += padded;
	return true;
}

/* The boolean before each item of an XDR optional list: 1 (an item follows) or 0 (the end).
 * Any other word is garbage, never the end of the list: a list cut there was not read whole. */
static bool more(struct xdr *x)
{
	uint32_t v = u32(x);

	if (v > 1)
		x->bad = true;
	return v == 1 && !x->bad;
}

int rpc_parse_fragment(const uint8_t *buf, size_t len, uint32_t max, struct rpc_fragment *out)
{
	uint32_t v;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return PARSE_AGAIN;
	v = parse_be32(buf);
	out->last = (v & 0x80000000u) != 0;
	out->len = v & 0x7fffffffu;
	if (out->len > max)
		return -ERR_TOOBIG;
	return 4;
}

int rpc_parse_reply(const uint8_t *rec, size_t len, struct rpc_reply *out)
{
	struct xdr x = {.p = rec, .len = len};
	const uint8_t *s;
	uint32_t n, stat;

	memset(out, 0, sizeof(*out));
	out->xid = u32(&x);
	if (!x.bad && u32(&x) != 1) /* msg_type REPLY */
		return -ERR_PROTO;
	switch (u32(&x)) {
	case 0: /* MSG_ACCEPTED: verifier, then accept_stat */
		out->kind = RPC_ACCEPTED;
		u32(&x);                     /* verifier flavor */
		if (!bytes(&x, 400, &s, &n)) /* verifier body: at most 400 bytes (§8.2) */
			break;
		stat = u32(&x);
		out->stat = stat;
		if (stat == 2) { /* PROG_MISMATCH */
			out->low = u32(&x);
			out->high = u32(&x);
		}
		break;
	case 1: /* MSG_DENIED */
		out->kind = RPC_DENIED;
		out->stat = u32(&x);
		if (out->stat == 0) {
			out->low = u32(&x);
			out->high = u32(&x);
		} else {
			out->auth = u32(&x);
		}
		break;
	default:
		return x.bad ? -ERR_SYNTAX : -ERR_PROTO;
	}
	if (x.bad) {
		memset(out, 0, sizeof(*out));
		return -ERR_SYNTAX;
	}
	out->body = x.off;
	return (int)x.off;
}

int rpc_parse_pmap_dump(const uint8_t *rec, size_t len, size_t off, struct rpc_pmap_list *out)
{
	struct xdr x = {.p = rec, .len = len, .off = off};

	memset(out, 0, sizeof(*out));
	if (off > len)
		return -ERR_SYNTAX;
	/* An XDR optional list: a boolean 1 before each mapping, 0 at the end. */
	while (more(&x)) {
		struct rpc_mapping m;

		m.prog = u32(&x), m.vers = u32(&x), m.prot = u32(&x), m.port = u32(&x);
		if (x.bad)
			break;
		if (out->n < RPC_MAPPINGS_MAX)
			out->map[out->n++] = m;
		out->total++;
	}
	if (x.bad) {
		memset(out, 0, sizeof(*out));
		return -ERR_SYNTAX;
	}
	return 0;
}

static bool all_of(const uint8_t *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == 0 || strchr(set, s[i]) == NULL)
			return false;
	return true;
}

/* A netmask spelled out (after the '/') that is all zero: "0.0.0.0", "::", "0::0"... */
static bool zero_mask(const uint8_t *m, size_t n)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t a[16] = {0}, zero[16] = {0};

	if (n == 0 || n >= sizeof(text) || !all_of(m, n, "0.:"))
		return false;
	memcpy(text, m, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, a) == 1)
		return memcmp(a, zero, 4) == 0;
	return inet_pton(AF_INET6, text, a) == 1 && memcmp(a, zero, 16) == 0;
}

/*
 * Who a client name admits (exports(5) and nfs-utils' client.c, PROBES.md "NFS"): "*" is every
 * host; a network whose netmask is zero, spelled out, every address; a prefix length 0 every
 * address as documented (nfs-utils computes the mask with a shift by 32 and gets /32 instead);
 * a wildcard of '*' only every host with a reverse DNS name; "@name" a netgroup, whose members
 * (a triple with an empty host field matches any host) cannot be seen from here.
 */
static enum rpc_reach reach_of(const uint8_t *s, uint32_t n)
{
	const uint8_t *slash = memchr(s, '/', n);
	size_t base, mask;

	if ((n == 1 && s[0] == '*') || (n == 8 && memcmp(s, "everyone", 8) == 0))
		return RPC_REACH_ALL;
	if (n > 0 && s[0] == '@')
		return RPC_REACH_UNSEEN;
	if (slash == NULL)
		return n > 1 && all_of(s, n, "*") ? RPC_REACH_ALL_LIKELY : RPC_REACH_LISTED;
	base = (size_t)(slash - s);
	mask = n - base - 1;
	if (base == 0 || !all_of(s, base, "0123456789abcdefABCDEF.:"))
		return RPC_REACH_LISTED; /* "gss/krb5" and the like */
	if (mask > 0 && all_of(slash + 1, mask, "0"))
		return RPC_REACH_ALL_LIKELY;
	return zero_mask(slash + 1, mask) ? RPC_REACH_ALL : RPC_REACH_LISTED;
}

static void add_group(struct rpc_export *e, const uint8_t *s, uint32_t n, bool *cut)
{
	size_t used = strlen(e->groups);
	char name[RPC_GROUPS_TEXT];

	*cut |= parse_copy_text(name, sizeof(name), s, n);
	if (used + (used ? 1 : 0) + strlen(name) + 1 > sizeof(e->groups)) {
		*cut = true;
		return;
	}
	if (used)
		e->groups[used++] = ' ';
	memcpy(e->groups + used, name, strlen(name) + 1);
}

int rpc_parse_exports(const uint8_t *rec, size_t len, size_t off, struct rpc_exports *out)
{
	struct xdr x = {.p = rec, .len = len, .off = off};

	memset(out, 0, sizeof(*out));
	if (off > len)
		return -ERR_SYNTAX;
	while (more(&x)) {
		struct rpc_export e = {0};
		const uint8_t *s;
		uint32_t n;

		if (!bytes(&x, RPC_DIRPATH_LIMIT, &s, &n))
			break;
		out->truncated |= parse_copy_text(e.dir, sizeof(e.dir), s, n);
		while (more(&x)) {
			if (!bytes(&x, RPC_NAME_LIMIT, &s, &n))
				break;
			enum rpc_reach r = reach_of(s, n);

			if (r > e.reach)
				e.reach = r;
			add_group(&e, s, n, &out->truncated);
			if (e.n_groups < UINT32_MAX / 2)
				e.n_groups++;
		}
		if (x.bad)
			break;
		/* No group at all: no client restriction (RFC 1813 appendix I, "groups"). */
		if (e.n_groups == 0)
			e.reach = RPC_REACH_ALL;
		e.world = e.reach >= RPC_REACH_ALL_LIKELY;
		out->world += e.world;
		out->world_sure += e.reach == RPC_REACH_ALL;
		out->unseen += e.reach == RPC_REACH_UNSEEN;
		if (out->n < RPC_EXPORTS_MAX)
			out->ex[out->n++] = e;
		out->total++;
	}
	if (x.bad) {
		memset(out, 0, sizeof(*out));
		return -ERR_SYNTAX;
	}
	return 0;
}

const char *rpc_program_name(uint32_t prog)
{
	switch (prog) {
	case RPC_PROG_PORTMAP:
		return "portmapper";
	case RPC_PROG_NFS:
		return "nfs";
	case 100004:
		return "ypserv";
	case RPC_PROG_MOUNT:
		return "mountd";
	case 100011:
		return "rquotad";
	case 100021:
		return "nlockmgr";
	case 100024:
		return "status";
	case 100227:
		return "nfs_acl";
	default:
		return NULL;
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int rpc_build_call(uint8_t *buf, size_t cap, uint32_t xid, uint32_t prog, uint32_t vers,
                   uint32_t proc)
{
	/* xid, CALL, rpcvers 2, prog, vers, proc, cred AUTH_NULL (0, 0), verf AUTH_NULL (0, 0) */
	const uint32_t words[] = {xid, 0, 2, prog, vers, proc, 0, 0, 0, 0};
	size_t n = 4 + sizeof(words);

	if (cap < n)
		return -ERR_TOOBIG;
	put32(buf, 0x80000000u | (uint32_t)sizeof(words)); /* one last fragment */
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		put32(buf + 4 + 4 * i, words[i]);
	return (int)n;
}
