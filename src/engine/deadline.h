/* SPDX-License-Identifier: MIT */
/*
 * A probe's idle and total deadlines from its own connection's TCP_INFO (docs/internals/ENGINE.md,
 * "Deadlines from the connection's own measurements"). Pure arithmetic, unit-tested from recorded
 * values; the engine reads TCP_INFO and applies the result.
 */
#ifndef EXPOSURE_ENGINE_DEADLINE_H
#define EXPOSURE_ENGINE_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

/* A path whose retransmission timeout is at least this long is slow (RTT of ~200 ms and more). */
#define DEADLINE_SLOW_RTO_MS 600
/* No RTO above this is believed (the engine's own timeout ceiling). */
#define DEADLINE_RTO_MAX_MS 10000
/* A probe's total budget grows at most by this much, and never past twice its own. */
#define DEADLINE_GROW_MAX_MS 10000
/* The kernel's first SYN retransmission (TCP_TIMEOUT_INIT); the second comes 2 s later. */
#define DEADLINE_SYN_RTO_MS 1000

/* What TCP_INFO said of a probe's connection. Zero = not known. */
struct deadline_tcp {
	uint32_t rtt_us;        /* tcpi_rtt: smoothed round trip */
	uint32_t rttvar_us;     /* tcpi_rttvar: its mean deviation */
	uint32_t rto_us;        /* tcpi_rto: retransmission timeout now (backed off after losses) */
	uint32_t retransmits;   /* tcpi_retransmits: retransmissions not yet answered */
	uint32_t total_retrans; /* tcpi_total_retrans: every retransmission, SYN included */
};

/* The probe's own deadlines, and the engine's per-target timeout. */
struct deadline_budget {
	unsigned idle_ms;           /* the probe's idle_ms (0 = the engine's default) */
	unsigned total_ms;          /* the probe's total_ms (0 = the engine's default) */
	unsigned target_timeout_ms; /* estimate, --timeout, or the web service's requester rule */
};

struct deadlines {
	unsigned idle_ms;    /* silence allowed on a connection */
	unsigned total_ms;   /* the whole probe, reconnects and a retry included */
	unsigned connect_ms; /* a reconnect's wait for its connection */
	unsigned rto_ms;     /* R: the retransmission timeout the rule assumed for the server */
	bool slow;           /* retransmissions seen, or R >= DEADLINE_SLOW_RTO_MS */
};

/*
 * R = max(target timeout, tcpi_rtt + 4 tcpi_rttvar, and tcpi_rto once the socket has retransmitted
 * (it then carries the backoff)), at most DEADLINE_RTO_MAX_MS: the
 * server's TCP sees the same path, so its RTO is about ours. Its first segment, lost twice, comes
 * at R + 2R after it was sent, and one trip (<= R) later here: idle = max(own idle, 4R).
 * A reconnect waits for the kernel's first two SYN retransmissions and their answer
 * (1 s + 2 s + R) on every path: the port has just answered, so a missing handshake is loss. On a
 * slow path the total grows with R, to own total x R / DEADLINE_SLOW_RTO_MS, and at least to two
 * idle waits and a reconnect, so that a silent server-speaks-first conversation can be tried once
 * more; the total never exceeds min(2 x own total, own total + DEADLINE_GROW_MAX_MS), and the idle
 * never half of the total. A fast path keeps the probe's own idle and total deadlines exactly.
 */
void deadline_rule(const struct deadline_tcp *tcp, const struct deadline_budget *b,
                   struct deadlines *out);

#endif
