/* SPDX-License-Identifier: MIT */
/*
 * Token buckets per requester at three levels (docs/api.md, "Rate limits"): the address, its
 * prefix (IPv4 /24, IPv6 /64) and, for IPv6, its site (/48), since whoever holds a /48 holds
 * 65,536 /64s. Thread-safe.
 *
 * Each level has its own fixed table, so a flood of addresses can never push out a prefix's or a
 * site's bucket. Slots are found with SipHash (crypto_shorthash) under a random per-process key,
 * so nobody can choose addresses that land on a given bucket. A bucket is recycled once it has
 * refilled to its burst, which is when forgetting it changes nothing. When every slot in reach
 * still holds a debt: the address level recycles the bucket closest to paid (the levels above
 * still hold its owner), a prefix or site request is refused until the first debt is paid, so
 * the widest limits never give way to a full table. A refused request creates no bucket.
 */
#ifndef EXPOSURE_WEB_RATELIMIT_H
#define EXPOSURE_WEB_RATELIMIT_H

#include "core/addr.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATE_KEY_LEN 16 /* crypto_shorthash_KEYBYTES */
#define RATE_WINDOW  16 /* slots probed from a key's home slot */

enum rate_level {
	RATE_ADDR,   /* the address */
	RATE_PREFIX, /* IPv4 /24, IPv6 /64 */
	RATE_SITE,   /* IPv6 /48; none for IPv4 */
	RATE_LEVELS
};

/* One level's limit: per_hour 0 turns the level off. */
struct rate_spec {
	double per_hour, burst;
};

struct rate_bucket {
	struct addr key; /* the address with the level's prefix kept */
	bool used;
	double tokens;
	int64_t last_ms;
};

struct rate_table {
	struct rate_bucket *slots;
	double rate, burst; /* tokens per ms; capacity */
};

struct rate_limit {
	pthread_mutex_t lock;
	struct rate_table t[RATE_LEVELS];
	size_t n_slots; /* per table; a power of two */
	unsigned char key[RATE_KEY_LEN];
};

/*
 * slots: per table (rounded up to a power of two, at least 64); memory is
 * RATE_LEVELS * n_slots * sizeof(struct rate_bucket), whatever the traffic. spec[level]: the
 * limits. Draws a random hash key. Returns 0 or -ENOMEM.
 */
int rate_limit_init(struct rate_limit *rl, size_t slots, const struct rate_spec spec[RATE_LEVELS]);
void rate_limit_free(struct rate_limit *rl);

/*
 * Take one token from each level's bucket of a, or none if any level refuses. Returns 0 when
 * taken, else the milliseconds until a retry can succeed (> 0).
 */
int64_t rate_limit_take(struct rate_limit *rl, const struct addr *a, int64_t now_ms);

/* Tests: a known hash key, and the home slot of a's bucket at a level. */
void rate_limit_set_key(struct rate_limit *rl, const unsigned char key[RATE_KEY_LEN]);
size_t rate_limit_home(const struct rate_limit *rl, enum rate_level level, const struct addr *a);

#endif
