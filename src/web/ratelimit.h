/* SPDX-License-Identifier: MIT */
/*
 * Token buckets per requester address and per prefix (/24, /64). Thread-safe. The table has a
 * fixed size: when an attacker floods it with addresses, an entry whose bucket is least recently
 * used inside its probe window is recycled (the per-prefix bucket still holds such a flood).
 */
#ifndef EXPOSURE_WEB_RATELIMIT_H
#define EXPOSURE_WEB_RATELIMIT_H

#include "core/addr.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct rate_bucket {
	struct addr key;
	uint8_t kind; /* 0 empty, 1 address, 2 prefix */
	double tokens;
	int64_t last_ms;
};

struct rate_limit {
	pthread_mutex_t lock;
	struct rate_bucket *slots;
	size_t n_slots;               /* power of two */
	double addr_rate, addr_burst; /* tokens per ms; capacity */
	double prefix_rate, prefix_burst;
};

/*
 * per_hour: sustained diagnoses per hour; burst: how many at once. A per_hour of 0 disables
 * that limit. Returns 0 or -ENOMEM.
 */
int rate_limit_init(struct rate_limit *rl, size_t slots, double addr_per_hour, double addr_burst,
                    double prefix_per_hour, double prefix_burst);
void rate_limit_free(struct rate_limit *rl);

/*
 * Take one token from a's bucket and from its prefix's, or none if either is empty. Returns 0
 * when taken, else the milliseconds until both have a token again (> 0).
 */
int64_t rate_limit_take(struct rate_limit *rl, const struct addr *a, int64_t now_ms);

#endif
