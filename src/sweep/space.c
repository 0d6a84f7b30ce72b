/* SPDX-License-Identifier: MIT */
/* The space of a sweep (space.h). */
#include "sweep/space.h"
#include "core/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void space_init(struct space *s)
{
	memset(s, 0, sizeof(*s));
}

void space_free(struct space *s)
{
	free(s->blocks);
	free(s->start);
	free(s->excl);
	free(s->addrs6);
	free(s->excl6);
	free(s->excluded6);
	space_init(s);
}

/* Room for element n of *v (elements of size bytes), at most max: grown at powers of two. */
static int grow(void **v, size_t n, size_t size, uint64_t max)
{
	void *nv;

	if (n >= max)
		return -ERR_RANGE;
	if (n != 0 && (n < 16 || (n & (n - 1)) != 0))
		return 0; /* room left: capacity is 16, then doubles each time n reaches it */
	if ((nv = realloc(*v, (n ? n * 2 : 16) * size)) == NULL)
		return -ERR_NOMEM;
	*v = nv;
	return 0;
}

static int push(struct space_block **v, size_t *n, uint32_t base, uint32_t size_minus_1)
{
	int r = grow((void **)v, *n, sizeof(**v), SPACE_MAX_BLOCKS);

	if (r < 0)
		return r;
	(*v)[(*n)++] = (struct space_block){base, size_minus_1};
	return 0;
}

/*
 * An IPv6 block: excluded at any width; as a target only a single address (issue 13: IPv6 from
 * a list of addresses, never exhaustively), and never link-local (no interface to send it on).
 */
static int add_text6(struct space *s, const struct cidr *c, const char *text, bool exclude,
                     const char *where, char *err, size_t errlen)
{
	int r;

	if (exclude) {
		if ((r = grow((void **)&s->excl6, s->n_excl6, sizeof(*s->excl6),
		              SPACE_MAX_BLOCKS)) < 0)
			goto full;
		s->excl6[s->n_excl6++] = *c;
		return 0;
	}
	if (c->prefix != 128) {
		snprintf(err, errlen,
		         "%s\"%s\": IPv6 is swept only from a list of addresses, never a block "
		         "(list each address)",
		         where, text);
		return -ERR_UNSUPPORTED;
	}
	if (addr_classify(&c->base) == ADDR_LINK_LOCAL) {
		snprintf(err, errlen, "%s\"%s\": a link-local address cannot be swept", where,
		         text);
		return -ERR_UNSUPPORTED;
	}
	if ((r = grow((void **)&s->addrs6, s->n_addrs6, sizeof(*s->addrs6), SPACE_MAX_ADDRS6)) < 0)
		goto full;
	memcpy(s->addrs6[s->n_addrs6++], c->base.bytes, 16);
	return 0;
full:
	if (r == -ERR_NOMEM)
		snprintf(err, errlen, "out of memory");
	else if (exclude)
		snprintf(err, errlen, "%stoo many blocks (at most %u)", where, SPACE_MAX_BLOCKS);
	else
		snprintf(err, errlen, "%smore than %llu IPv6 addresses", where,
		         (unsigned long long)SPACE_MAX_ADDRS6);
	return r;
}

static uint32_t v4(const struct addr *a)
{
	return addr_v4_value(a);
}

/* One block in text; where names its origin in messages ("" for an argument). */
static int add_text(struct space *s, const char *text, bool exclude, const char *where, char *err,
                    size_t errlen)
{
	struct cidr c;
	int r;

	if (cidr_parse(text, &c) < 0) {
		snprintf(err, errlen, "%s\"%s\" is not an address or CIDR block", where, text);
		return -ERR_SYNTAX;
	}
	if (c.base.family == AF_INET6)
		return add_text6(s, &c, text, exclude, where, err, errlen);
	r = exclude ? push(&s->excl, &s->n_excl, v4(&c.base), (uint32_t)(cidr_size(&c) - 1))
	            : push(&s->blocks, &s->n_blocks, v4(&c.base), (uint32_t)(cidr_size(&c) - 1));
	if (r < 0)
		snprintf(err, errlen, "%stoo many blocks (at most %u)", where, SPACE_MAX_BLOCKS);
	return r;
}

int space_read(struct space *s, FILE *f, const char *path, bool exclude, char *err, size_t errlen)
{
	char line[SPACE_LINE_MAX + 2], where[SPACE_LINE_MAX];
	unsigned no = 0;
	int r;

	while (fgets(line, sizeof(line), f)) {
		char *p = line, *e;
		size_t len = strlen(line);

		no++;
		snprintf(where, sizeof(where), "%s:%u: ", path, no);
		if (len > SPACE_LINE_MAX) {
			snprintf(err, errlen, "%sline longer than %u bytes", where, SPACE_LINE_MAX);
			return -ERR_TOOBIG;
		}
		if ((e = strchr(p, '#')) != NULL)
			*e = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
			*--e = '\0';
		if (*p == '\0')
			continue;
		if ((r = add_text(s, p, exclude, where, err, errlen)) < 0)
			return r;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		return -EIO;
	}
	return 0;
}

static int read_file(struct space *s, const char *path, bool exclude, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int r;

	if (f == NULL) {
		r = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return r;
	}
	r = space_read(s, f, path, exclude, err, errlen);
	fclose(f);
	return r;
}

int space_add_target(struct space *s, const char *arg, char *err, size_t errlen)
{
	struct cidr c;

	if (cidr_parse(arg, &c) == 0)
		return add_text(s, arg, false, "", err, errlen);
	return read_file(s, arg, false, err, errlen);
}

int space_add_exclude_file(struct space *s, const char *path, char *err, size_t errlen)
{
	return read_file(s, path, true, err, errlen);
}

int space_add_port(struct space *s, uint16_t port)
{
	if (port == 0)
		return -ERR_RANGE;
	if (s->port_index[port])
		return 0;
	if (s->n_ports >= SPACE_MAX_PORTS)
		return -ERR_RANGE;
	s->ports[s->n_ports++] = port;
	s->port_index[port] = (uint16_t)s->n_ports;
	return 0;
}

static int block_cmp(const void *a, const void *b)
{
	const struct space_block *x = a, *y = b;

	if (x->base != y->base)
		return x->base < y->base ? -1 : 1;
	/* The larger block first, so that it swallows those it holds. */
	return x->size_minus_1 > y->size_minus_1 ? -1 : x->size_minus_1 < y->size_minus_1;
}

/* CIDR blocks either nest or are disjoint: sorted, a block inside the previous one goes. */
static void merge(struct space_block *v, size_t *n)
{
	size_t k = 0;

	if (*n == 0)
		return;
	qsort(v, *n, sizeof(*v), block_cmp);
	for (size_t i = 1; i < *n; i++) {
		uint64_t end = (uint64_t)v[k].base + v[k].size_minus_1;

		if (v[i].base > end)
			v[++k] = v[i];
	}
	*n = k + 1;
}

static bool in_blocks(const struct space_block *v, size_t n, uint32_t a, size_t *at)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* the last block with base <= a */
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].base <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	if (at)
		*at = lo - 1;
	return a - v[lo - 1].base <= v[lo - 1].size_minus_1;
}

bool space_excluded(const struct space *s, uint32_t a)
{
	return in_blocks(s->excl, s->n_excl, a, NULL);
}

static int addr6_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static int cidr6_cmp(const void *a, const void *b)
{
	const struct cidr *x = a, *y = b;
	int c = memcmp(x->base.bytes, y->base.bytes, 16);

	if (c != 0)
		return c;
	return x->prefix < y->prefix ? -1 : x->prefix > y->prefix; /* the larger block first */
}

/* Sorted by base, the larger first: a block inside the last one kept goes (they nest or are
 * disjoint), so the last block whose base is <= a is the only one that can hold a. */
static void merge6(struct cidr *v, size_t *n)
{
	size_t k = 0;

	if (*n == 0)
		return;
	qsort(v, *n, sizeof(*v), cidr6_cmp);
	for (size_t i = 1; i < *n; i++)
		if (!cidr_contains(&v[k], &v[i].base))
			v[++k] = v[i];
	*n = k + 1;
}

static bool excluded6(const struct space *s, const uint8_t a[16])
{
	struct addr x = {.family = AF_INET6};
	size_t lo = 0, hi = s->n_excl6;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(s->excl6[mid].base.bytes, a, 16) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	memcpy(x.bytes, a, 16);
	return cidr_contains(&s->excl6[lo - 1], &x);
}

/* The IPv6 list sorted without repeats, and which of its addresses are excluded. */
static int finish6(struct space *s)
{
	size_t k = 0;

	if (s->n_addrs6 == 0)
		return 0;
	qsort(s->addrs6, s->n_addrs6, sizeof(*s->addrs6), addr6_cmp);
	for (size_t i = 1; i < s->n_addrs6; i++)
		if (memcmp(s->addrs6[k], s->addrs6[i], 16) != 0)
			memcpy(s->addrs6[++k], s->addrs6[i], 16);
	s->n_addrs6 = k + 1;
	merge6(s->excl6, &s->n_excl6);
	free(s->excluded6);
	if ((s->excluded6 = calloc(s->n_addrs6, 1)) == NULL)
		return -ERR_NOMEM;
	for (size_t i = 0; i < s->n_addrs6; i++)
		s->excluded6[i] = excluded6(s, s->addrs6[i]);
	return 0;
}

static int check_policy(const struct space *s, const struct policy *p, char *err, size_t errlen)
{
	struct policy_decision d;
	struct addr a = {.family = AF_INET};
	struct addr a6 = {.family = AF_INET6};

	for (size_t i = 0; i < s->n_addrs6; i++) {
		if (s->excluded6[i])
			continue;
		memcpy(a6.bytes, s->addrs6[i], 16);
		if (!policy_check(p, &a6, &d)) {
			policy_explain(p, &a6, &d, err, errlen);
			return -ERR_POLICY;
		}
	}

	for (size_t b = 0; b < s->n_blocks; b++) {
		for (uint64_t i = 0; i <= s->blocks[b].size_minus_1; i++) {
			uint32_t v = s->blocks[b].base + (uint32_t)i;

			if (space_excluded(s, v))
				continue;
			a = addr_v4(v);
			if (!policy_check(p, &a, &d)) {
				policy_explain(p, &a, &d, err, errlen);
				return -ERR_POLICY;
			}
		}
	}
	return 0;
}

int space_finish(struct space *s, const struct policy *p, char *err, size_t errlen)
{
	uint64_t total = 0;

	if (s->n_blocks == 0 && s->n_addrs6 == 0) {
		snprintf(err, errlen, "no targets: name the blocks to sweep");
		return -ERR_SYNTAX;
	}
	if (s->n_ports == 0) {
		snprintf(err, errlen, "no ports to sweep");
		return -ERR_SYNTAX;
	}
	merge(s->blocks, &s->n_blocks);
	merge(s->excl, &s->n_excl);
	free(s->start);
	if ((s->start = malloc((s->n_blocks + 1) * sizeof(*s->start))) == NULL || finish6(s) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ERR_NOMEM;
	}
	for (size_t b = 0; b < s->n_blocks; b++) {
		s->start[b] = total;
		total += (uint64_t)s->blocks[b].size_minus_1 + 1;
		if (total > SPACE_MAX_ADDRS)
			break;
	}
	s->n_addrs4 = total;
	total += s->n_addrs6; /* the IPv6 list after the IPv4 blocks */
	if (total > SPACE_MAX_ADDRS) {
		snprintf(err, errlen, "more than %llu addresses (a /8) in one sweep",
		         (unsigned long long)SPACE_MAX_ADDRS);
		return -ERR_RANGE;
	}
	s->n_addrs = total;
	return check_policy(s, p, err, errlen);
}

uint32_t space_addr(const struct space *s, uint64_t i)
{
	size_t lo = 0, hi = s->n_blocks;

	while (hi - lo > 1) { /* the last block starting at or before i */
		size_t mid = lo + (hi - lo) / 2;

		if (s->start[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	return s->blocks[lo].base + (uint32_t)(i - s->start[lo]);
}

bool space_excluded_at(const struct space *s, uint64_t i)
{
	if (space_is_v6(s, i))
		return s->excluded6[i - s->n_addrs4];
	return space_excluded(s, space_addr(s, i));
}

const uint8_t *space_addr6(const struct space *s, uint64_t i)
{
	return s->addrs6[i - s->n_addrs4];
}

void space_addr_get(const struct space *s, uint64_t i, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (space_is_v6(s, i)) {
		out->family = AF_INET6;
		memcpy(out->bytes, space_addr6(s, i), 16);
	} else {
		uint32_t v = space_addr(s, i);

		out->family = AF_INET;
		out->bytes[0] = (uint8_t)(v >> 24);
		out->bytes[1] = (uint8_t)(v >> 16);
		out->bytes[2] = (uint8_t)(v >> 8);
		out->bytes[3] = (uint8_t)v;
	}
}

int64_t space_index6(const struct space *s, const uint8_t a[16])
{
	const uint8_t(*hit)[16] =
	    s->n_addrs6 ? bsearch(a, s->addrs6, s->n_addrs6, sizeof(*s->addrs6), addr6_cmp) : NULL;

	return hit ? (int64_t)(s->n_addrs4 + (uint64_t)(hit - s->addrs6)) : -1;
}

int64_t space_index(const struct space *s, uint32_t a)
{
	size_t at;

	if (!in_blocks(s->blocks, s->n_blocks, a, &at))
		return -1;
	return (int64_t)(s->start[at] + (a - s->blocks[at].base));
}

uint64_t space_size(const struct space *s)
{
	return s->n_addrs * s->n_ports;
}
