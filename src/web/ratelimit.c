/* SPDX-License-Identifier: MIT */
/* Token buckets at three levels (ratelimit.h). */
#include "web/ratelimit.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(RATE_KEY_LEN == crypto_shorthash_KEYBYTES, "SipHash key size");

/* Bits of the address a level keeps; 0: the level does not apply to this family. */
static unsigned level_bits(enum rate_level level, sa_family_t family)
{
	static const unsigned v4[RATE_LEVELS] = {32, 24, 0}, v6[RATE_LEVELS] = {128, 64, 48};

	return family == AF_INET ? v4[level] : v6[level];
}

/* a with only its first bits kept. */
static struct addr level_key(const struct addr *a, unsigned bits)
{
	struct addr k = {.family = a->family};

	memcpy(k.bytes, a->bytes, bits / 8);
	return k; /* every level keeps whole bytes */
}

int rate_limit_init(struct rate_limit *rl, size_t slots, const struct rate_spec spec[RATE_LEVELS])
{
	size_t n = 64;

	memset(rl, 0, sizeof(*rl));
	if (sodium_init() < 0)
		return -ENOMEM;
	while (n < slots)
		n <<= 1;
	rl->n_slots = n;
	pthread_mutex_init(&rl->lock, NULL);
	for (int i = 0; i < RATE_LEVELS; i++) {
		struct rate_table *t = &rl->t[i];

		if (spec[i].per_hour <= 0)
			continue; /* off: no table */
		t->slots = calloc(n, sizeof(*t->slots));
		if (!t->slots) {
			rate_limit_free(rl);
			return -ENOMEM;
		}
		t->rate = spec[i].per_hour / 3600000.0;
		t->burst = spec[i].burst < 1 ? 1 : spec[i].burst;
	}
	randombytes_buf(rl->key, sizeof(rl->key));
	return 0;
}

void rate_limit_free(struct rate_limit *rl)
{
	if (!rl->n_slots)
		return;
	for (int i = 0; i < RATE_LEVELS; i++) {
		free(rl->t[i].slots);
		rl->t[i].slots = NULL;
	}
	pthread_mutex_destroy(&rl->lock);
	sodium_memzero(rl->key, sizeof(rl->key));
	rl->n_slots = 0;
}

void rate_limit_set_key(struct rate_limit *rl, const unsigned char key[RATE_KEY_LEN])
{
	memcpy(rl->key, key, RATE_KEY_LEN);
}

static size_t home(const struct rate_limit *rl, enum rate_level level, const struct addr *k)
{
	unsigned char in[2 + sizeof(k->bytes)], out[crypto_shorthash_BYTES];
	uint64_t h = 0;

	in[0] = (unsigned char)level;
	in[1] = k->family == AF_INET ? 4 : 6;
	memcpy(in + 2, k->bytes, sizeof(k->bytes));
	crypto_shorthash(out, in, sizeof(in), rl->key);
	for (size_t i = 0; i < sizeof(out); i++)
		h = h << 8 | out[i];
	return (size_t)h & (rl->n_slots - 1);
}

size_t rate_limit_home(const struct rate_limit *rl, enum rate_level level, const struct addr *a)
{
	struct addr k = level_key(a, level_bits(level, a->family));

	return home(rl, level, &k);
}

/* b refilled to now. */
static void refill(const struct rate_table *t, struct rate_bucket *b, int64_t now_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * t->rate;
		if (b->tokens > t->burst)
			b->tokens = t->burst;
		b->last_ms = now_ms;
	}
}

static int64_t wait_for(const struct rate_table *t, double tokens, double want)
{
	if (tokens >= want)
		return 0;
	return (int64_t)ceil((want - tokens) / t->rate);
}

/*
 * The bucket of key k in t, or where a new one may go: an empty slot or a bucket refilled to
 * its burst (forgetting it loses nothing). When every slot in reach holds a debt, the address
 * level takes the bucket closest to paid (what its owner gains back is still held by the
 * prefix and site levels); the wider levels set *slot to NULL and *wait to when the first debt
 * is paid.
 */
static bool find(struct rate_limit *rl, enum rate_level level, const struct addr *k, int64_t now_ms,
                 struct rate_bucket **slot, int64_t *wait)
{
	struct rate_table *t = &rl->t[level];
	size_t mask = rl->n_slots - 1, i = home(rl, level, k);
	struct rate_bucket *free_slot = NULL, *fullest = NULL;
	int64_t soonest = INT64_MAX;

	for (size_t n = 0; n < RATE_WINDOW; n++) {
		struct rate_bucket *b = &t->slots[(i + n) & mask];

		if (!b->used) {
			if (!free_slot)
				free_slot = b;
			continue;
		}
		refill(t, b, now_ms);
		if (addr_equal(&b->key, k)) {
			*slot = b;
			return true;
		}
		if (b->tokens >= t->burst) {
			if (!free_slot)
				free_slot = b;
			continue;
		}
		if (wait_for(t, b->tokens, t->burst) < soonest)
			soonest = wait_for(t, b->tokens, t->burst);
		if (!fullest || b->tokens > fullest->tokens)
			fullest = b;
	}
	if (!free_slot && level == RATE_ADDR)
		free_slot = fullest;
	*slot = free_slot;
	*wait = free_slot ? 0 : soonest;
	return false;
}

int64_t rate_limit_take(struct rate_limit *rl, const struct addr *a, int64_t now_ms)
{
	struct rate_bucket *slot[RATE_LEVELS] = {0};
	struct addr key[RATE_LEVELS];
	bool found[RATE_LEVELS] = {0};
	int64_t wait = 0, w;

	pthread_mutex_lock(&rl->lock);
	/* First ask every level; nothing is written unless all of them agree. */
	for (int i = 0; i < RATE_LEVELS; i++) {
		unsigned bits = level_bits((enum rate_level)i, a->family);

		if (!rl->t[i].slots || bits == 0)
			continue;
		key[i] = level_key(a, bits);
		found[i] = find(rl, (enum rate_level)i, &key[i], now_ms, &slot[i], &w);
		if (found[i])
			w = wait_for(&rl->t[i], slot[i]->tokens, 1.0);
		if (w > wait)
			wait = w;
	}
	if (wait > 0)
		goto out;
	for (int i = 0; i < RATE_LEVELS; i++) {
		if (!slot[i])
			continue;
		if (!found[i])
			*slot[i] = (struct rate_bucket){.key = key[i],
			                                .used = true,
			                                .tokens = rl->t[i].burst,
			                                .last_ms = now_ms};
		slot[i]->tokens -= 1.0;
	}
out:
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
