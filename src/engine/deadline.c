/* SPDX-License-Identifier: MIT */
/* A probe's deadlines from its connection's TCP_INFO (engine/deadline.h). */
#include "engine/deadline.h"

#define DEFAULT_IDLE_MS  5000
#define DEFAULT_TOTAL_MS 10000

static unsigned umax(unsigned a, unsigned b)
{
	return a > b ? a : b;
}

static unsigned umin(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

/*
 * R in ms: the largest of what the engine and the socket know of the path. tcpi_rto counts only
 * once the socket has retransmitted (then it carries the backoff); before that it is mostly the
 * kernel's 200 ms floor, and a fast path keeps its old deadlines.
 */
static unsigned path_rto_ms(const struct deadline_tcp *tcp, unsigned target_timeout_ms)
{
	uint64_t est_us = (uint64_t)tcp->rtt_us + 4 * (uint64_t)tcp->rttvar_us;
	bool lost = tcp->retransmits > 0 || tcp->total_retrans > 0;
	uint64_t r_us = lost && tcp->rto_us > est_us ? tcp->rto_us : est_us;
	uint64_t r_ms = (r_us + 999) / 1000;

	if (r_ms < target_timeout_ms)
		r_ms = target_timeout_ms;
	return r_ms > DEADLINE_RTO_MAX_MS ? DEADLINE_RTO_MAX_MS : (unsigned)r_ms;
}

void deadline_rule(const struct deadline_tcp *tcp, const struct deadline_budget *b,
                   struct deadlines *out)
{
	unsigned own_idle = b->idle_ms ? b->idle_ms : DEFAULT_IDLE_MS;
	unsigned own_total = b->total_ms ? b->total_ms : DEFAULT_TOTAL_MS;
	unsigned ceiling = umin(2 * own_total, own_total + DEADLINE_GROW_MAX_MS);
	unsigned r = path_rto_ms(tcp, b->target_timeout_ms);
	unsigned idle = umax(own_idle, 4 * r);
	unsigned total = own_total;
	/*
	 * A reconnect goes to a port that has just answered, so a handshake still missing after
	 * the kernel's first SYN retransmission is loss, not a closed port: wait for the second
	 * one (1 s + 2 s) and its answer on every path. Waiting for one only (1 s + R) let two
	 * losses in a row on a lossy path whose last connection was clean end the conversation
	 * (an SMB2 NEGOTIATE "connection failed" at 300 ms / 10% loss, 1 run in 8). On a clean
	 * path the handshake completes in one trip, so this costs nothing there.
	 */
	unsigned connect = 3 * DEADLINE_SYN_RTO_MS + r;
	uint64_t scaled = (uint64_t)own_total * r / DEADLINE_SLOW_RTO_MS;

	out->rto_ms = r;
	out->slow = tcp->retransmits > 0 || tcp->total_retrans > 0 || r >= DEADLINE_SLOW_RTO_MS;
	if (out->slow) {
		total = umax(own_total, 2 * idle + connect);
		if (scaled > total)
			total = scaled > ceiling ? ceiling : (unsigned)scaled;
		total = umin(total, ceiling);
	}
	out->connect_ms = connect;
	/* A path slower than the budget can hold: the probe still gets its second half. */
	if (idle > own_idle && idle > total / 2)
		idle = umax(own_idle, total / 2);
	out->idle_ms = idle;
	out->total_ms = total;
}
