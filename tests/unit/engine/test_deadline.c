/* SPDX-License-Identifier: MIT */
/*
 * The deadline rule (engine/deadline.h) from TCP_INFO values as `ss -ti` recorded them on this
 * machine (kernel 6.18, 2026-12-04): loopback, the lab's veth (host mixed), the lab's lossy host
 * (150 ms and 10% loss each way) right after the handshake; the lossy path after two losses is
 * that recorded socket with its RTO backed off twice; and a path slower than any ceiling.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/deadline.h"

/* The probes' own deadlines (the probe_ops in src/probes). */
static const struct deadline_budget ssh = {.idle_ms = 5000, .total_ms = 10000};
static const struct deadline_budget telnet = {.idle_ms = 3000, .total_ms = 10000};
static const struct deadline_budget vnc = {.idle_ms = 5000, .total_ms = 8000};
static const struct deadline_budget skysea = {.idle_ms = 1000, .total_ms = 2000};
static const struct deadline_budget netbios = {.idle_ms = 5000, .total_ms = 30000};

static struct deadlines rule(const struct deadline_tcp *tcp, struct deadline_budget b,
                             unsigned target_timeout_ms)
{
	struct deadlines d;

	b.target_timeout_ms = target_timeout_ms;
	deadline_rule(tcp, &b, &d);
	return d;
}

/* Loopback: rtt 14 us, rttvar 7 us, rto 204 ms (the kernel's floor); the estimator's 100 ms. */
static void fast_path_keeps_own(void **unused)
{
	const struct deadline_tcp lo = {.rtt_us = 14, .rttvar_us = 7, .rto_us = 204000};
	const struct deadline_budget all[] = {ssh, telnet, vnc, skysea, netbios};
	struct deadlines d;

	(void)unused;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		d = rule(&lo, all[i], 100);
		assert_int_equal(d.idle_ms, all[i].idle_ms);
		assert_int_equal(d.total_ms, all[i].total_ms);
		assert_false(d.slow);
		/* tcpi_rto's 200 ms floor does not count before a retransmission */
		assert_int_equal(d.rto_ms, 100);
		assert_int_equal(d.connect_ms,
		                 3100); /* the kernel's first two SYN retransmissions */
	}
	/* The lab's veth (host mixed): rtt 45 us, rttvar 22 us, rto 200 ms. The same. */
	const struct deadline_tcp veth = {.rtt_us = 45, .rttvar_us = 22, .rto_us = 200000};
	d = rule(&veth, skysea, 100);
	assert_int_equal(d.idle_ms, 1000);
	assert_int_equal(d.total_ms, 2000);
	assert_false(d.slow);
}

/* Zeroes (no TCP_INFO) fall back on the target's timeout alone, as before this rule. */
static void no_tcp_info_uses_target_timeout(void **unused)
{
	const struct deadline_tcp none = {0};
	struct deadlines d;

	(void)unused;
	d = rule(&none, ssh, 1000);
	assert_int_equal(d.rto_ms, 1000);
	assert_true(d.slow);
	assert_int_equal(d.idle_ms, 5000);
	/* the reconnect waits for two SYN retransmissions: 1 s + 2 s + R */
	assert_int_equal(d.connect_ms, 4000);
	/* 2 x 5 s + 4 s = 14 s; own 10 s x R / 0.6 s = 16.666 s */
	assert_int_equal(d.total_ms, 16666);
	d = rule(&none, ssh, 300);
	assert_false(d.slow);
	assert_int_equal(d.idle_ms, 5000);
	assert_int_equal(d.total_ms, 10000);
	assert_int_equal(d.connect_ms, 3300); /* a reconnect waits for two SYN retransmissions */
}

/*
 * The lossy lab host right after the handshake, no loss yet: rtt 300.828 ms, rttvar 150.414 ms,
 * rto 904 ms. R = rtt + 4 rttvar = 0.903 s; two retransmissions of the server's first segment and
 * the trip: 4R = 3.612 s. Telnet's own 3 s grows; ssh keeps 5 s; the totals hold a retry.
 */
static void slow_path(void **unused)
{
	const struct deadline_tcp tcp = {.rtt_us = 300828, .rttvar_us = 150414, .rto_us = 904000};
	struct deadlines d;

	(void)unused;
	d = rule(&tcp, telnet, 420);
	assert_true(d.slow);
	assert_int_equal(d.rto_ms, 903);
	assert_int_equal(d.idle_ms, 3612);
	assert_int_equal(d.connect_ms, 3903);
	/* 2 x 3.612 + 3.903 = 11.127 s; own 10 s x 0.903 / 0.6 = 15.05 s */
	assert_int_equal(d.total_ms, 15050);
	d = rule(&tcp, ssh, 420);
	assert_int_equal(d.idle_ms, 5000);
	assert_int_equal(d.total_ms, 15050);
	/* vnc: 2 x 5 s + 3.903 s = 13.903 s > 8 s x 0.903 / 0.6 = 12.04 s */
	d = rule(&tcp, vnc, 420);
	assert_int_equal(d.idle_ms, 5000);
	assert_int_equal(d.total_ms, 13903);
	/* The target's timeout is larger (the web service's 4 x 300 + 250 ms): it wins. */
	d = rule(&tcp, vnc, 1450);
	assert_int_equal(d.rto_ms, 1450);
	assert_int_equal(d.idle_ms, 5800);
	/* 2 x 5.8 + 4.45 = 16.05 s, 8 s x 1.45 / 0.6 = 19.3 s: the ceiling, 2 x 8 s */
	assert_int_equal(d.total_ms, 16000);
	/* skysea: 4R = 3.6 s but the total stops at 2 x 2 s, and idle at half of it */
	d = rule(&tcp, skysea, 420);
	assert_int_equal(d.total_ms, 4000);
	assert_int_equal(d.idle_ms, 2000);
}

/*
 * The recorded lossy-host socket after our request was lost twice: tcpi_retransmits 2, its RTO
 * of 904 ms backed off twice (3.616 s), total_retrans 3 (a SYN's one too). The wait follows the
 * backed-off RTO. And a recorded handshake that came back after 601 ms (rttvar 300.741 ms, rto
 * 1.808 s): slow before any loss.
 */
static void lossy_path(void **unused)
{
	const struct deadline_tcp tcp = {.rtt_us = 300828,
	                                 .rttvar_us = 150414,
	                                 .rto_us = 3616000,
	                                 .retransmits = 2,
	                                 .total_retrans = 3};
	const struct deadline_tcp once = {
	    .rtt_us = 120000, .rttvar_us = 60000, .rto_us = 360000, .total_retrans = 1};
	struct deadlines d;

	(void)unused;
	d = rule(&tcp, ssh, 420);
	assert_true(d.slow);
	assert_int_equal(d.rto_ms, 3616);
	/* 4R = 14.5 s > half of the ceiling (20 s): 10 s */
	assert_int_equal(d.total_ms, 20000);
	assert_int_equal(d.idle_ms, 10000);
	const struct deadline_tcp late = {.rtt_us = 601483, .rttvar_us = 300741, .rto_us = 1808000};
	d = rule(&late, ssh, 420);
	assert_true(d.slow);
	assert_int_equal(d.rto_ms, 1805);
	assert_int_equal(d.idle_ms, 7220);
	assert_int_equal(d.connect_ms, 4805);
	assert_int_equal(d.total_ms, 20000);
	/* A 120 ms path is fast, but one retransmission makes it lossy: a retry is allowed. */
	d = rule(&once, ssh, 300);
	assert_true(d.slow);
	assert_int_equal(d.idle_ms, 5000);
	assert_int_equal(d.connect_ms, 3360);
	assert_int_equal(d.total_ms, 2 * 5000 + 3360);
}

/* The ceiling: min(2 x own total, own total + 10 s), whatever the RTO (capped at 10 s itself). */
static void ceiling(void **unused)
{
	const struct deadline_tcp huge = {.rtt_us = 4000000,
	                                  .rttvar_us = 2000000,
	                                  .rto_us = 120000000,
	                                  .retransmits = 6,
	                                  .total_retrans = 9};
	struct deadlines d;

	(void)unused;
	d = rule(&huge, ssh, 10000);
	assert_int_equal(d.rto_ms, DEADLINE_RTO_MAX_MS);
	assert_int_equal(d.total_ms, 20000);
	assert_int_equal(d.idle_ms, 10000);
	d = rule(&huge, netbios, 10000);
	assert_int_equal(d.total_ms, 30000 + DEADLINE_GROW_MAX_MS);
	assert_int_equal(d.idle_ms, 20000);
	d = rule(&huge, vnc, 0);
	assert_int_equal(d.total_ms, 16000);
	assert_int_equal(d.idle_ms, 8000);
	/* the engine's defaults (0): 5 s idle, 10 s total */
	d = rule(&huge, (struct deadline_budget){0}, 0);
	assert_int_equal(d.total_ms, 20000);
	assert_int_equal(d.idle_ms, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fast_path_keeps_own),
	    cmocka_unit_test(no_tcp_info_uses_target_timeout),
	    cmocka_unit_test(slow_path),
	    cmocka_unit_test(lossy_path),
	    cmocka_unit_test(ceiling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
