/* SPDX-License-Identifier: MIT */
/*
 * A keyed permutation of [0, n): the order in which a sweep visits its (address, port) space.
 * A balanced Feistel network over the smallest even power of two >= n, with cycle-walking down to
 * [0, n) (docs/internals/SWEEP.md says why Feistel and not zmap's cyclic group). The same seed
 * gives the same order on every machine, so shards of one sweep agree. No I/O, no allocation.
 */
#ifndef EXPOSURE_SWEEP_PERM_H
#define EXPOSURE_SWEEP_PERM_H

#include <stdint.h>

#define PERM_ROUNDS  4
#define PERM_KEYSIZE 16 /* crypto_shorthash_KEYBYTES */

struct perm {
	uint64_t n;         /* domain size */
	unsigned half_bits; /* bits of each Feistel half */
	uint64_t half_mask;
	unsigned char key[PERM_KEYSIZE];
};

/* A permutation of [0, n) under seed. n must be >= 1 and <= 2^62. */
void perm_init(struct perm *p, uint64_t n, uint64_t seed);

/* The i-th element of the order (i < n): a bijection of [0, n). */
uint64_t perm_at(const struct perm *p, uint64_t i);

/*
 * Shard `shard` of `shards` (0 <= shard < shards) owns the positions i with i % shards == shard:
 * the shards are disjoint and together cover [0, n) for every n and shards, dividing or not.
 * Returns how many positions that shard owns.
 */
uint64_t perm_shard_count(uint64_t n, uint64_t shard, uint64_t shards);

#endif
