/* SPDX-License-Identifier: MIT */
/* Address parsing, formatting and classification (addr.h). */
#include "core/addr.h"
#include "core/err.h"
#include "core/special.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <endian.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static unsigned family_bits(sa_family_t family)
{
	return family == AF_INET ? 32 : 128;
}

static void unmap_v4(struct addr *a)
{
	if (a->family != AF_INET6 || memcmp(a->bytes, v4mapped_prefix, 12) != 0)
		return;
	memmove(a->bytes, a->bytes + 12, 4);
	memset(a->bytes + 4, 0, 12);
	a->family = AF_INET;
}

/* inet_pton accepts "01.2.3.4" on some libcs as octal; we accept only plain decimal octets. */
static bool strict_dotted_quad(const char *s)
{
	int octets = 0, digits = 0;

	for (; *s; s++) {
		if (*s == '.') {
			if (digits == 0)
				return false;
			octets++;
			digits = 0;
		} else if (*s >= '0' && *s <= '9') {
			if (digits == 1 && s[-1] == '0')
				return false;
			if (++digits > 3)
				return false;
		} else {
			return false;
		}
	}
	return digits > 0 && octets == 3;
}

int addr_parse(const char *text, struct addr *out)
{
	char tmp[ADDR_STRLEN + 2];
	size_t len;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return -ERR_SYNTAX;
	len = strlen(text);
	if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(tmp))
		return -ERR_SYNTAX;
	memcpy(tmp, text, len);
	tmp[len] = '\0';

	if (strchr(tmp, ':') == NULL) {
		if (!strict_dotted_quad(tmp) || inet_pton(AF_INET, tmp, out->bytes) != 1)
			return -ERR_SYNTAX;
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, out->bytes) != 1) {
		memset(out, 0, sizeof(*out));
		return -ERR_SYNTAX;
	}
	out->family = AF_INET6;
	unmap_v4(out);
	return 0;
}

int addr_format(const struct addr *a, char *buf, size_t size)
{
	if (size < ADDR_STRLEN)
		return -ERR_RANGE;
	if (inet_ntop(a->family, a->bytes, buf, (socklen_t)size) == NULL)
		return -ERR_RANGE;
	return (int)strlen(buf);
}

struct addr addr_v4(uint32_t v)
{
	struct addr a = {.family = AF_INET};

	a.bytes[0] = (uint8_t)(v >> 24);
	a.bytes[1] = (uint8_t)(v >> 16);
	a.bytes[2] = (uint8_t)(v >> 8);
	a.bytes[3] = (uint8_t)v;
	return a;
}

uint32_t addr_v4_value(const struct addr *a)
{
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	       (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}

bool addr_equal(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, 16) == 0;
}

static bool prefix_match(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(x, y, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (x[whole] & mask) == (y[whole] & mask);
}

bool cidr_contains(const struct cidr *c, const struct addr *a)
{
	return c->base.family == a->family && prefix_match(c->base.bytes, a->bytes, c->prefix);
}

enum addr_class addr_classify(const struct addr *a)
{
	const struct special_block *b = special_lookup(a);

	return b ? b->cls : ADDR_GLOBAL;
}

const char *addr_class_name(enum addr_class c)
{
	static const char *const names[ADDR_X_MAX] = {
	    [ADDR_GLOBAL] = "global",
	    [ADDR_LOOPBACK] = "loopback",
	    [ADDR_UNSPECIFIED] = "unspecified",
	    [ADDR_THIS_NETWORK] = "this-network",
	    [ADDR_MULTICAST] = "multicast",
	    [ADDR_BROADCAST] = "broadcast",
	    [ADDR_RESERVED] = "reserved",
	    [ADDR_PRIVATE] = "private",
	    [ADDR_SHARED] = "shared (carrier-grade NAT)",
	    [ADDR_LINK_LOCAL] = "link-local",
	    [ADDR_DOCUMENTATION] = "documentation",
	    [ADDR_BENCHMARK] = "benchmarking",
	    [ADDR_TRANSLATED] = "translated (NAT64/6to4)",
	    [ADDR_ANYCAST] = "anycast",
	};
	return (unsigned)c < ADDR_X_MAX ? names[c] : "unknown";
}

static int parse_prefix_len(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (*s == '\0')
		return -ERR_SYNTAX;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -ERR_SYNTAX;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 999)
			return -ERR_RANGE;
	}
	if (v > max)
		return -ERR_RANGE;
	*out = v;
	return 0;
}

static bool host_bits_clear(const struct addr *a, unsigned prefix)
{
	unsigned bits = family_bits(a->family);

	for (unsigned b = prefix; b < bits; b++)
		if (a->bytes[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

int cidr_parse(const char *text, struct cidr *out)
{
	char tmp[ADDR_STRLEN + 8];
	const char *slash;
	size_t alen;
	int r;

	memset(out, 0, sizeof(*out));
	if (text == NULL || strlen(text) >= sizeof(tmp))
		return -ERR_SYNTAX;
	slash = strchr(text, '/');
	alen = slash ? (size_t)(slash - text) : strlen(text);
	memcpy(tmp, text, alen);
	tmp[alen] = '\0';
	if ((r = addr_parse(tmp, &out->base)) < 0)
		return r;
	/* A mapped address was unmapped: its prefix counts from the IPv4 part. */
	bool was_mapped = strchr(tmp, ':') != NULL && out->base.family == AF_INET;
	unsigned max = family_bits(out->base.family);
	if (slash == NULL) {
		out->prefix = max;
		return 0;
	}
	if ((r = parse_prefix_len(slash + 1, was_mapped ? 128 : max, &out->prefix)) < 0)
		goto fail;
	if (was_mapped) {
		if (out->prefix < 96) {
			r = -ERR_RANGE;
			goto fail;
		}
		out->prefix -= 96;
	}
	if (!host_bits_clear(&out->base, out->prefix)) {
		r = -ERR_SYNTAX;
		goto fail;
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return r;
}

uint64_t cidr_size(const struct cidr *c)
{
	unsigned host = family_bits(c->base.family) - c->prefix;

	return host >= 64 ? UINT64_MAX : (uint64_t)1 << host;
}

int cidr_nth(const struct cidr *c, uint64_t index, struct addr *out)
{
	unsigned bits = family_bits(c->base.family);

	if (index >= cidr_size(c) && !(cidr_size(c) == UINT64_MAX))
		return -ERR_RANGE;
	*out = c->base;
	/* Add index to the low 64 bits; host bits are clear so there is no carry into the prefix.
	 */
	for (unsigned i = 0; i < 8 && index; i++) {
		unsigned byte = bits / 8 - 1 - i;
		out->bytes[byte] = (uint8_t)(out->bytes[byte] | (index & 0xff));
		index >>= 8;
	}
	return 0;
}

int cidr_format(const struct cidr *c, char *buf, size_t size)
{
	char a[ADDR_STRLEN];
	int n;

	if (addr_format(&c->base, a, sizeof(a)) < 0)
		return -ERR_RANGE;
	n = snprintf(buf, size, "%s/%u", a, c->prefix);
	return n < 0 || (size_t)n >= size ? -ERR_RANGE : n;
}

socklen_t addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htobe16(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htobe16(port);
	memcpy(&sin6->sin6_addr, a->bytes, 16);
	return sizeof(*sin6);
}

int addr_from_sockaddr(const struct sockaddr *sa, struct addr *out, uint16_t *port)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		out->family = AF_INET;
		memcpy(out->bytes, &sin->sin_addr, 4);
		if (port)
			*port = be16toh(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		out->family = AF_INET6;
		memcpy(out->bytes, &sin6->sin6_addr, 16);
		if (port)
			*port = be16toh(sin6->sin6_port);
		unmap_v4(out);
		return 0;
	}
	return -ERR_UNSUPPORTED;
}
