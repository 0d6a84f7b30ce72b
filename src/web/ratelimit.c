/* SPDX-License-Identifier: MIT */
/* Token buckets (ratelimit.h). */
#include "web/ratelimit.h"
#include "web/requester.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_WINDOW 8

int rate_limit_init(struct rate_limit *rl, size_t slots, double addr_per_hour, double addr_burst,
                    double prefix_per_hour, double prefix_burst)
{
	size_t n = 64;

	memset(rl, 0, sizeof(*rl));
	while (n < slots)
		n <<= 1;
	rl->slots = calloc(n, sizeof(*rl->slots));
	if (!rl->slots)
		return -ENOMEM;
	rl->n_slots = n;
	rl->addr_rate = addr_per_hour / 3600000.0;
	rl->addr_burst = addr_burst < 1 ? 1 : addr_burst;
	rl->prefix_rate = prefix_per_hour / 3600000.0;
	rl->prefix_burst = prefix_burst < 1 ? 1 : prefix_burst;
	pthread_mutex_init(&rl->lock, NULL);
	return 0;
}

void rate_limit_free(struct rate_limit *rl)
{
	if (!rl->slots)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->slots);
	rl->slots = NULL;
}

static uint64_t hash_key(const struct addr *a, uint8_t kind)
{
	uint64_t h = 1469598103934665603ull ^ kind ^ ((uint64_t)a->family << 8);

	for (size_t i = 0; i < sizeof(a->bytes); i++) {
		h ^= a->bytes[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

/* The bucket of (a, kind), refilled to now; a fresh or recycled one starts full. */
static struct rate_bucket *lookup(struct rate_limit *rl, const struct addr *a, uint8_t kind,
                                  double rate, double burst, int64_t now_ms,
                                  const struct rate_bucket *avoid)
{
	size_t mask = rl->n_slots - 1, i = hash_key(a, kind) & mask;
	struct rate_bucket *victim = NULL, *b;

	for (size_t k = 0; k < PROBE_WINDOW; k++) {
		b = &rl->slots[(i + k) & mask];
		if (b->kind == kind && addr_equal(&b->key, a))
			goto found;
		if (b == avoid)
			continue;
		if (!victim || b->kind == 0 || (victim->kind != 0 && b->last_ms < victim->last_ms))
			victim = b;
	}
	b = victim;
	b->key = *a;
	b->kind = kind;
	b->tokens = burst;
	b->last_ms = now_ms;
found:
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * rate;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ms = now_ms;
	}
	return b;
}

static int64_t wait_ms(const struct rate_bucket *b, double rate)
{
	if (b->tokens >= 1.0)
		return 0;
	return (int64_t)ceil((1.0 - b->tokens) / rate);
}

int64_t rate_limit_take(struct rate_limit *rl, const struct addr *a, int64_t now_ms)
{
	struct rate_bucket *ba = NULL, *bp = NULL;
	struct addr prefix;
	int64_t wa = 0, wp = 0;

	addr_rate_prefix(a, &prefix);
	pthread_mutex_lock(&rl->lock);
	if (rl->addr_rate > 0) {
		ba = lookup(rl, a, 1, rl->addr_rate, rl->addr_burst, now_ms, NULL);
		wa = wait_ms(ba, rl->addr_rate);
	}
	if (rl->prefix_rate > 0) {
		bp = lookup(rl, &prefix, 2, rl->prefix_rate, rl->prefix_burst, now_ms, ba);
		wp = wait_ms(bp, rl->prefix_rate);
	}
	if (wa == 0 && wp == 0) {
		if (ba)
			ba->tokens -= 1.0;
		if (bp)
			bp->tokens -= 1.0;
	}
	pthread_mutex_unlock(&rl->lock);
	return wa > wp ? wa : wp;
}
