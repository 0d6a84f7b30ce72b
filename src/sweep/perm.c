/* SPDX-License-Identifier: MIT */
/* The sweep order: a Feistel network with cycle-walking (perm.h, docs/internals/SWEEP.md). */
#include "sweep/perm.h"

#include <sodium.h>
#include <string.h>

void perm_init(struct perm *p, uint64_t n, uint64_t seed)
{
	unsigned char s[8];
	unsigned bits = 2;

	memset(p, 0, sizeof(*p));
	p->n = n ? n : 1;
	/* The smallest even bit count whose power of two holds n: at most 4n values to walk. */
	while (bits < 62 && (UINT64_C(1) << bits) < p->n)
		bits += 2;
	p->half_bits = bits / 2;
	p->half_mask = (UINT64_C(1) << p->half_bits) - 1;
	for (int i = 0; i < 8; i++)
		s[i] = (unsigned char)(seed >> (8 * i));
	/* The key is a hash of the seed: equal seeds, equal orders; no structure of the seed shows.
	 */
	crypto_generichash(p->key, sizeof(p->key), s, sizeof(s),
	                   (const unsigned char *)"sweep-perm", 10);
}

static uint64_t round_fn(const struct perm *p, unsigned round, uint64_t half)
{
	unsigned char in[9], out[8];
	uint64_t v = 0;

	in[0] = (unsigned char)round;
	for (int i = 0; i < 8; i++)
		in[1 + i] = (unsigned char)(half >> (8 * i));
	crypto_shorthash(out, in, sizeof(in), p->key);
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)out[i] << (8 * i);
	return v & p->half_mask;
}

/* One pass of the network over [0, 2^(2 half_bits)): a bijection of that range. */
static uint64_t feistel(const struct perm *p, uint64_t x)
{
	uint64_t l = x >> p->half_bits, r = x & p->half_mask;

	for (unsigned k = 0; k < PERM_ROUNDS; k++) {
		uint64_t t = r;

		r = l ^ round_fn(p, k, r);
		l = t;
	}
	return l << p->half_bits | r;
}

uint64_t perm_at(const struct perm *p, uint64_t i)
{
	uint64_t x = i;

	/* Cycle-walking: apply the bijection of the larger range until the value falls inside
	 * [0, n). Starting inside, the walk returns inside before it can come back to i, so this
	 * is a bijection of [0, n); the expected number of steps is below 4. */
	do
		x = feistel(p, x);
	while (x >= p->n);
	return x;
}

uint64_t perm_shard_count(uint64_t n, uint64_t shard, uint64_t shards)
{
	if (shards == 0 || shard >= shards || shard >= n)
		return 0;
	return (n - shard + shards - 1) / shards;
}
