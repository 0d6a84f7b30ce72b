/* SPDX-License-Identifier: MIT */
/* Statistics for `exposure report`: Wilson intervals, seeded PRNG, sampling, dates, buckets. */
#ifndef EXPOSURE_REPORT_STATS_H
#define EXPOSURE_REPORT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 97.5th percentile of the standard normal distribution: a two-sided 95% interval. */
#define STATS_Z95 1.959964

/*
 * Wilson score interval for x successes out of n at z (Wilson 1927):
 *   centre = (p + z^2/2n) / (1 + z^2/n), half = z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n).
 * Returns 0 and sets *lo, *hi (clamped to [0, 1]); -ERR_RANGE if n == 0 or x > n.
 */
int stats_wilson(uint64_t x, uint64_t n, double z, double *lo, double *hi);

/* xoshiro256** 1.0 (Blackman and Vigna, https://prng.di.unimi.it/xoshiro256starstar.c). */
struct stats_rng {
	uint64_t s[4];
};

/* Seed the four words with splitmix64 from seed, as the xoshiro authors recommend. */
void stats_rng_seed(struct stats_rng *r, uint64_t seed);
uint64_t stats_rng_next(struct stats_rng *r);
/* Uniform in [0, bound) with no modulo bias (rejection); bound > 0. */
uint64_t stats_rng_below(struct stats_rng *r, uint64_t bound);

/*
 * A uniform sample of k distinct indices from [0, n) (Floyd's algorithm, CACM 30(9) 1987),
 * reproducible from seed, returned sorted ascending in *out (caller frees). Returns 0;
 * -ERR_RANGE if k > n; -ENOMEM. k == 0 gives *out == NULL.
 */
int stats_sample(uint64_t n, uint64_t k, uint64_t seed, uint64_t **out);

/*
 * Parse a date: "YYYY-MM-DD" (UTC midnight) or "YYYY-MM-DDTHH:MM:SSZ" (UTC), into milliseconds
 * since the epoch. *date_only says which form it was (an --until date means the whole day).
 * Returns 0 or -ERR_SYNTAX (malformed, or no such day: 2023-02-29).
 */
int stats_parse_date(const char *text, int64_t *ms, bool *date_only);

/* "YYYY-MM-DD" of the UTC day holding ms, into buf (>= 11 bytes). */
void stats_format_day(int64_t ms, char *buf, size_t n);
/* "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void stats_format_time(int64_t ms, char *buf, size_t n);

#define STATS_DAY_MS ((int64_t)86400000)

/* Start (ms) of the UTC day or ISO week (Monday 00:00 UTC) holding ms. */
int64_t stats_day_start(int64_t ms);
int64_t stats_week_start(int64_t ms);

#endif
