/* SPDX-License-Identifier: MIT */
/* Host names the service answers (hostcheck.h). */
#include "web/hostcheck.h"
#include "core/decimal.h"
#include "core/err.h"

#include <stddef.h>
#include <string.h>

/* One authority (host[:port]) taken apart. */
struct authority {
	char name[HOSTCHECK_NAME_MAX + 1]; /* lower case; an IPv6 literal without its brackets */
	bool bracketed;
	uint16_t port; /* 0: not given */
};

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
	       ch == '_';
}

/* A bracketed IPv6 literal keeps hex digits, ':' and '.' only: no zone, no '%'. */
static bool literal6_char(char ch)
{
	return (ch >= 'a' && ch <= 'f') || (ch >= '0' && ch <= '9') || ch == ':' || ch == '.';
}

static int parse_port(const char *s, size_t len, uint16_t *port)
{
	uint64_t v;

	if (decimal_span_u64(s, len, 65535, &v) < 0 || v == 0)
		return -ERR_SYNTAX;
	*port = (uint16_t)v;
	return 0;
}

/* s[0..len) as host[:port], the name lowered; anything a Host header cannot hold is refused. */
static int parse_authority(const char *s, size_t len, struct authority *out)
{
	const char *end = s + len, *name = s, *name_end;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (len > 0 && s[0] == '[') {
		name = s + 1;
		name_end = memchr(name, ']', len - 1);
		if (!name_end)
			return -ERR_SYNTAX;
		out->bracketed = true;
	} else {
		name_end = memchr(s, ':', len);
		if (!name_end)
			name_end = end;
	}
	n = (size_t)(name_end - name);
	if (n == 0 || n > HOSTCHECK_NAME_MAX)
		return -ERR_SYNTAX;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (out->bracketed ? !literal6_char(ch) : !name_char(ch))
			return -ERR_SYNTAX;
		out->name[i] = ch;
	}
	name_end += out->bracketed; /* past ']' */
	if (name_end == end)
		return 0;
	if (*name_end != ':')
		return -ERR_SYNTAX;
	return parse_port(name_end + 1, (size_t)(end - name_end - 1), &out->port);
}

int hostcheck_init(struct hostcheck *hc, const char *origin)
{
	struct authority a;
	uint16_t default_port;
	size_t len;

	memset(hc, 0, sizeof(*hc));
	if (!origin)
		return 0;
	if (strncmp(origin, "http://", 7) == 0) {
		origin += 7;
		default_port = 80;
	} else if (strncmp(origin, "https://", 8) == 0) {
		origin += 8;
		default_port = 443;
	} else {
		return -ERR_SYNTAX;
	}
	len = strlen(origin);
	if (len > 0 && origin[len - 1] == '/')
		len--;
	if (memchr(origin, '/', len) || parse_authority(origin, len, &a) < 0)
		return -ERR_SYNTAX;
	if (a.bracketed) {
		struct addr ip;

		if (addr_parse(a.name, &ip) < 0 || ip.family != AF_INET6)
			return -ERR_SYNTAX;
	}
	/* Kept as written (brackets dropped): a Host names it the same way. */
	memcpy(hc->origin_host, a.name, sizeof(hc->origin_host));
	hc->origin_port = a.port ? a.port : default_port;
	hc->origin_default = default_port;
	return 0;
}

int hostcheck_add_name(struct hostcheck *hc, const char *name)
{
	struct authority a;

	if (!name || parse_authority(name, strlen(name), &a) < 0)
		return -ERR_SYNTAX;
	if (hc->n_names >= HOSTCHECK_NAMES_MAX)
		return -ERR_RANGE;
	memcpy(hc->names[hc->n_names].host, a.name, sizeof(a.name));
	hc->names[hc->n_names].port =
	    a.port ? a.port : (hc->origin_default ? hc->origin_default : 80);
	hc->n_names++;
	return 0;
}

/* Is a the address the connection arrived at, as a literal of the right form? */
static bool is_local_literal(const struct authority *a, const struct addr *local)
{
	struct addr ip;

	/* An IPv6 literal is written in brackets, an IPv4 one without (RFC 3986 3.2.2). */
	if (a->bracketed != (strchr(a->name, ':') != NULL))
		return false;
	return addr_parse(a->name, &ip) == 0 && addr_equal(&ip, local);
}

static bool local_name(const struct authority *a, const struct addr *local, uint16_t local_port)
{
	uint16_t port = a->port ? a->port : 80;

	if (port != local_port)
		return false;
	if (!a->bracketed && strcmp(a->name, "localhost") == 0)
		return addr_classify(local) == ADDR_LOOPBACK;
	return is_local_literal(a, local);
}

bool hostcheck_allows(const struct hostcheck *hc, const char *host, const struct addr *local,
                      uint16_t local_port)
{
	struct authority a;

	if (!host || parse_authority(host, strlen(host), &a) < 0)
		return false;
	if (local && local_name(&a, local, local_port))
		return true;
	for (size_t i = 0; i < hc->n_names; i++)
		if (strcmp(a.name, hc->names[i].host) == 0 &&
		    (a.port ? a.port : (hc->origin_default ? hc->origin_default : 80)) ==
		        hc->names[i].port)
			return true;
	if (!hc->origin_host[0])
		return false;
	return strcmp(a.name, hc->origin_host) == 0 &&
	       (a.port ? a.port : hc->origin_default) == hc->origin_port;
}
