/* SPDX-License-Identifier: MIT */
/* Wilson intervals, xoshiro256**, Floyd's sampling, UTC dates: no I/O, no globals. */
#include "report/stats.h"

#include "core/decimal.h"
#include "core/err.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int stats_wilson(uint64_t x, uint64_t n, double z, double *lo, double *hi)
{
	double p, nn, z2, denom, centre, half;

	*lo = 0.0;
	*hi = 0.0;
	if (n == 0 || x > n)
		return -ERR_RANGE;
	nn = (double)n;
	p = (double)x / nn;
	z2 = z * z;
	denom = 1.0 + z2 / nn;
	centre = (p + z2 / (2.0 * nn)) / denom;
	half = z * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
	*lo = centre - half < 0.0 ? 0.0 : centre - half;
	*hi = centre + half > 1.0 ? 1.0 : centre + half;
	/* At the edges the closed form is exact in theory but rounds to a hair off. */
	if (x == 0)
		*lo = 0.0;
	if (x == n)
		*hi = 1.0;
	return 0;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void stats_rng_seed(struct stats_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t stats_rng_next(struct stats_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t stats_rng_below(struct stats_rng *r, uint64_t bound)
{
	/* Reject the top (2^64 mod bound) values so every residue is equally likely. */
	uint64_t threshold = (0 - bound) % bound;

	for (;;) {
		uint64_t v = stats_rng_next(r);

		if (v >= threshold)
			return v % bound;
	}
}

/* An open-addressing set of uint64 values for Floyd's membership test. */
struct u64set {
	uint64_t *slot; /* value + 1; 0 = empty */
	size_t mask;
};

static bool u64set_add(struct u64set *s, uint64_t v)
{
	size_t i = (size_t)((v * 0x9e3779b97f4a7c15ULL) >> 20) & s->mask;

	while (s->slot[i] != 0) {
		if (s->slot[i] == v + 1)
			return false;
		i = (i + 1) & s->mask;
	}
	s->slot[i] = v + 1;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int stats_sample(uint64_t n, uint64_t k, uint64_t seed, uint64_t **out)
{
	struct stats_rng rng;
	struct u64set set = {0};
	uint64_t *v = NULL;
	size_t cap = 16, got = 0;

	*out = NULL;
	if (k > n)
		return -ERR_RANGE;
	if (k == 0)
		return 0;
	if (k > SIZE_MAX / 4 / sizeof(uint64_t))
		return -ENOMEM;
	while (cap < 2 * k)
		cap <<= 1;
	set.mask = cap - 1;
	set.slot = calloc(cap, sizeof(*set.slot));
	v = malloc((size_t)k * sizeof(*v));
	if (set.slot == NULL || v == NULL) {
		free(set.slot);
		free(v);
		return -ENOMEM;
	}
	stats_rng_seed(&rng, seed);
	/* Floyd: for j in [n-k, n): pick t in [0, j]; take t, or j if t is already taken. */
	for (uint64_t j = n - k; j < n; j++) {
		uint64_t t = stats_rng_below(&rng, j + 1);

		if (!u64set_add(&set, t)) {
			u64set_add(&set, j);
			t = j;
		}
		v[got++] = t;
	}
	free(set.slot);
	qsort(v, got, sizeof(*v), cmp_u64);
	*out = v;
	return 0;
}

static bool leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Exactly n digits at s (fixed-width date fields). */
static int digits(const char *s, size_t n, long *out)
{
	uint64_t v;
	int r = decimal_span_u64(s, n, 9999, &v);

	if (r < 0)
		return -ERR_SYNTAX;
	*out = (long)v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Hinnant's days_from_civil). */
static int64_t days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

int stats_parse_date(const char *text, int64_t *ms, bool *date_only)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	long y, mo, d, h = 0, mi = 0, s = 0;
	size_t len = text ? strlen(text) : 0;

	*ms = 0;
	*date_only = false;
	if (len != 10 && len != 20)
		return -ERR_SYNTAX;
	if (digits(text, 4, &y) < 0 || text[4] != '-' || digits(text + 5, 2, &mo) < 0 ||
	    text[7] != '-' || digits(text + 8, 2, &d) < 0)
		return -ERR_SYNTAX;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return -ERR_SYNTAX;
	if (len == 20) {
		if (text[10] != 'T' || digits(text + 11, 2, &h) < 0 || text[13] != ':' ||
		    digits(text + 14, 2, &mi) < 0 || text[16] != ':' ||
		    digits(text + 17, 2, &s) < 0 || text[19] != 'Z')
			return -ERR_SYNTAX;
		if (h > 23 || mi > 59 || s > 59)
			return -ERR_SYNTAX;
	}
	*date_only = len == 10;
	*ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000;
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void split(int64_t ms, struct tm *tm)
{
	time_t t = (time_t)floor_div(ms, 1000);

	memset(tm, 0, sizeof(*tm));
	gmtime_r(&t, tm);
}

void stats_format_day(int64_t ms, char *buf, size_t n)
{
	struct tm tm;

	split(ms, &tm);
	snprintf(buf, n, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void stats_format_time(int64_t ms, char *buf, size_t n)
{
	struct tm tm;

	split(ms, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int64_t stats_day_start(int64_t ms)
{
	return floor_div(ms, STATS_DAY_MS) * STATS_DAY_MS;
}

int64_t stats_week_start(int64_t ms)
{
	/* 1970-01-01 was a Thursday; 1969-12-29, day -3, was a Monday. */
	int64_t day = floor_div(ms, STATS_DAY_MS);

	return (floor_div(day + 3, 7) * 7 - 3) * STATS_DAY_MS;
}
