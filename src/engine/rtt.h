/* SPDX-License-Identifier: MIT */
/* Per-target round-trip-time estimator and timeout (nmap adjust_timeouts2, PROTOCOLS.md §1.4). */
#ifndef EXPOSURE_ENGINE_RTT_H
#define EXPOSURE_ENGINE_RTT_H

#include <stdbool.h>
#include <stdint.h>

/* All in microseconds. Zero-initialised = nothing known. */
struct rtt {
	int64_t srtt;
	int64_t rttvar;
	bool valid;
	unsigned samples; /* accepted samples */
};

/* Feed one measured round trip (>= 0). Returns true if used, false if ignored as bogus. */
bool rtt_sample(struct rtt *r, int64_t rtt_us);

/*
 * The per-attempt timeout in ms: initial_ms while nothing is known, else srtt + 4 * rttvar,
 * clamped to [min_ms, max_ms].
 */
unsigned rtt_timeout_ms(const struct rtt *r, unsigned initial_ms, unsigned min_ms, unsigned max_ms);

#endif
