/* SPDX-License-Identifier: MIT */
/* nmap's RTT estimator (timing.cc adjust_timeouts2): RFC 6298 gains 1/8 and 1/4, microseconds. */
#include "engine/rtt.h"

#define US_PER_MS          1000
#define RTTVAR_MIN_US      (5 * 1000)        /* first sample's variance floor */
#define RTTVAR_MAX_US      (2 * 1000 * 1000) /* ... and ceiling */
#define RTTVAR_RESET_AT_US (2300 * 1000)     /* a variance this big is reset ... */
#define RTTVAR_RESET_TO_US (2000 * 1000)     /* ... to this */
#define BOGUS_DELTA_US     (1500 * 1000)

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

bool rtt_sample(struct rtt *r, int64_t rtt_us)
{
	if (rtt_us < 0)
		return false;
	if (!r->valid) {
		r->srtt = rtt_us;
		r->rttvar = clamp64(rtt_us, RTTVAR_MIN_US, RTTVAR_MAX_US);
		r->valid = true;
		r->samples = 1;
		return true;
	}
	int64_t delta = rtt_us - r->srtt;

	/* A reply far later than anything seen is more likely a stale or delayed one (nmap). */
	if (delta > BOGUS_DELTA_US && delta > 3 * r->srtt + 2 * r->rttvar)
		return false;
	r->srtt += delta / 8;
	r->rttvar += ((delta < 0 ? -delta : delta) - r->rttvar) / 4;
	if (r->rttvar > RTTVAR_RESET_AT_US)
		r->rttvar = RTTVAR_RESET_TO_US;
	r->samples++;
	return true;
}

unsigned rtt_timeout_ms(const struct rtt *r, unsigned initial_ms, unsigned min_ms, unsigned max_ms)
{
	if (!r->valid)
		return initial_ms;
	int64_t to = (r->srtt + 4 * r->rttvar + US_PER_MS - 1) / US_PER_MS;

	return (unsigned)clamp64(to, min_ms, max_ms);
}
