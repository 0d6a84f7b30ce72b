/* SPDX-License-Identifier: MIT */
/* The RTT estimator (engine/rtt.h) against nmap's arithmetic, worked by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/rtt.h"

static void unknown_uses_initial(void **unused)
{
	struct rtt r = {0};

	(void)unused;
	assert_int_equal(rtt_timeout_ms(&r, 1000, 100, 10000), 1000);
}

static void first_sample(void **unused)
{
	struct rtt r = {0};

	(void)unused;
	/* 300 ms: srtt 300, rttvar 300 => 1500 ms. */
	assert_true(rtt_sample(&r, 300000));
	assert_int_equal(r.srtt, 300000);
	assert_int_equal(r.rttvar, 300000);
	assert_int_equal(rtt_timeout_ms(&r, 1000, 100, 10000), 1500);
}

static void first_sample_clamps(void **unused)
{
	struct rtt a = {0}, b = {0};

	(void)unused;
	rtt_sample(&a, 50); /* 50 us on loopback: rttvar floor 5 ms => 20 ms => min 100 */
	assert_int_equal(a.rttvar, 5000);
	assert_int_equal(rtt_timeout_ms(&a, 1000, 100, 10000), 100);
	rtt_sample(&b, 5000000); /* 5 s: rttvar ceiling 2 s => 13 s => max 10 s */
	assert_int_equal(b.rttvar, 2000000);
	assert_int_equal(rtt_timeout_ms(&b, 1000, 100, 10000), 10000);
}

static void later_samples(void **unused)
{
	struct rtt r = {0};

	(void)unused;
	rtt_sample(&r, 100000);
	/* delta = +80 ms: srtt 110 ms, rttvar 100 + (80 - 100) / 4 = 95 ms. */
	assert_true(rtt_sample(&r, 180000));
	assert_int_equal(r.srtt, 110000);
	assert_int_equal(r.rttvar, 95000);
	/* delta = -30 ms: srtt 106.25 ms, rttvar 95 + (30 - 95) / 4 = 78.75 ms. */
	rtt_sample(&r, 80000);
	assert_int_equal(r.srtt, 106250);
	assert_int_equal(r.rttvar, 78750);
	assert_int_equal(rtt_timeout_ms(&r, 1000, 100, 10000), 422);
}

static void bogus_ignored(void **unused)
{
	struct rtt r = {0};

	(void)unused;
	rtt_sample(&r, 10000); /* srtt 10 ms, rttvar 10 ms */
	/* delta 1.99 s > 1.5 s and > 3*10 + 2*10 ms: ignored. */
	assert_false(rtt_sample(&r, 2000000));
	assert_int_equal(r.srtt, 10000);
	/* delta 1.4 s is not > 1.5 s: used. */
	assert_true(rtt_sample(&r, 1410000));
}

static void rttvar_reset(void **unused)
{
	struct rtt r = {.srtt = 9000000, .rttvar = 2000000, .valid = true, .samples = 1};

	(void)unused;
	/* delta -9 s: rttvar 2 + (9 - 2) / 4 = 3.75 s > 2.3 s => reset to 2 s. */
	rtt_sample(&r, 0);
	assert_int_equal(r.rttvar, 2000000);
}

static void converges(void **unused)
{
	struct rtt r = {0};

	(void)unused;
	for (int i = 0; i < 40; i++)
		rtt_sample(&r, 300000);
	/* A steady 300 ms path: rttvar decays towards 0, the timeout towards the RTT itself. */
	assert_in_range(rtt_timeout_ms(&r, 1000, 100, 10000), 300, 310);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(unknown_uses_initial),
	    cmocka_unit_test(first_sample),
	    cmocka_unit_test(first_sample_clamps),
	    cmocka_unit_test(later_samples),
	    cmocka_unit_test(bogus_ignored),
	    cmocka_unit_test(rttvar_reset),
	    cmocka_unit_test(converges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
