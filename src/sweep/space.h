/* SPDX-License-Identifier: MIT */
/*
 * The space a sweep covers: IPv4 target blocks (merged, sorted), IPv6 target addresses (a list,
 * sorted: IPv6 is never swept exhaustively), blocks excluded from them (zmap's blocklist format,
 * IPv4 and IPv6), and the ports; an address index maps to an address and back. Indexes
 * [0, n_addrs4) are the IPv4 addresses, [n_addrs4, n_addrs) the IPv6 ones.
 * Reading the operator's files is the only I/O here.
 */
#ifndef EXPOSURE_SWEEP_SPACE_H
#define EXPOSURE_SWEEP_SPACE_H

#include "core/policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SPACE_MAX_ADDRS  (UINT64_C(1) << 24) /* a /8: the largest sweep a run takes */
#define SPACE_MAX_ADDRS6 (UINT64_C(1) << 20) /* IPv6 addresses listed in one sweep */
#define SPACE_MAX_BLOCKS 65536u
#define SPACE_MAX_PORTS  256u
#define SPACE_LINE_MAX   512u

struct space_block {
	uint32_t base; /* host byte order */
	uint32_t size_minus_1;
};

struct space {
	struct space_block *blocks; /* targets: sorted, disjoint */
	uint64_t *start;            /* address index of each block's first address */
	size_t n_blocks;
	uint64_t n_addrs;         /* IPv4 and IPv6 */
	uint64_t n_addrs4;        /* IPv4: the first indexes */
	struct space_block *excl; /* excluded: sorted, disjoint */
	size_t n_excl;
	uint8_t (*addrs6)[16]; /* IPv6 targets, network order: sorted, unique after space_finish */
	size_t n_addrs6;
	struct cidr *excl6; /* IPv6 blocks excluded (any prefix) */
	size_t n_excl6;
	uint8_t *excluded6; /* per IPv6 target: 1 if inside an excluded block (space_finish) */
	uint16_t ports[SPACE_MAX_PORTS];
	size_t n_ports;
	uint16_t port_index[65536]; /* port -> index + 1, 0 for none */
};

void space_init(struct space *s);
void space_free(struct space *s);

/*
 * Add a target: a CIDR block or address, or (if the text is neither) a file of them, one per
 * line, '#' comments (zmap's blocklist format). IPv4 blocks; IPv6 single addresses only (a
 * wider IPv6 block is refused: issue 13 sweeps IPv6 from a list, never exhaustively), and
 * never a link-local one (it has no meaning without an interface). Returns 0 or negative, err
 * set.
 */
int space_add_target(struct space *s, const char *arg, char *err, size_t errlen);

/* Read a file of blocks to exclude (the same format). Returns 0 or negative, err set. */
int space_add_exclude_file(struct space *s, const char *path, char *err, size_t errlen);

/* Read blocks from f (named path in messages) into targets (exclude false) or exclusions. */
int space_read(struct space *s, FILE *f, const char *path, bool exclude, char *err, size_t errlen);

/* Add one port (no duplicates kept). Returns 0 or -ERR_RANGE when full or port 0. */
int space_add_port(struct space *s, uint16_t port);

/*
 * Sort and merge the blocks, count the addresses; then check EVERY address that is not excluded
 * against the policy. Returns 0, or negative with err naming the first refused address and the
 * rule (policy_explain), or the size limit. Nothing may be sent before this returned 0.
 */
int space_finish(struct space *s, const struct policy *p, char *err, size_t errlen);

/* Whether a is inside an excluded block. */
bool space_excluded(const struct space *s, uint32_t a);

/* Whether the address of index i (< n_addrs, either family) is excluded. */
bool space_excluded_at(const struct space *s, uint64_t i);

/* The IPv4 address of index i (< n_addrs4). */
uint32_t space_addr(const struct space *s, uint64_t i);

/* Whether index i is an IPv6 address. */
static inline bool space_is_v6(const struct space *s, uint64_t i)
{
	return i >= s->n_addrs4;
}

/* The IPv6 address of index i (n_addrs4 <= i < n_addrs), 16 bytes in network order. */
const uint8_t *space_addr6(const struct space *s, uint64_t i);

/* The address of index i (< n_addrs), either family. */
void space_addr_get(const struct space *s, uint64_t i, struct addr *out);

/* The index of address a, or -1 if a is not a target. */
int64_t space_index(const struct space *s, uint32_t a);

/* The index of IPv6 address a (16 bytes, network order), or -1 if a is not a target. */
int64_t space_index6(const struct space *s, const uint8_t a[16]);

/* Number of (address, port) pairs: n_addrs * n_ports. */
uint64_t space_size(const struct space *s);

#endif
