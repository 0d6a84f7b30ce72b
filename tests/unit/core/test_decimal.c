/* SPDX-License-Identifier: MIT */
/* The one bounded decimal parser (core/decimal.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/decimal.h"
#include "core/err.h"

#include <string.h>

struct dec_case {
	const char *in;
	uint64_t max;
	int ret;
	uint64_t out;
};

static void test_whole_strings(void **state)
{
	static const struct dec_case cases[] = {
	    {"0", 10, 0, 0},
	    {"7", 10, 0, 7},
	    {"10", 10, 0, 10},
	    {"11", 10, -ERR_RANGE, 0},
	    {"007", 10, 0, 7}, /* leading zeros are digits too (Content-Length allows them) */
	    {"65535", 65535, 0, 65535},
	    {"65536", 65535, -ERR_RANGE, 0},
	    {"18446744073709551615", UINT64_MAX, 0, UINT64_MAX},
	    {"18446744073709551616", UINT64_MAX, -ERR_RANGE, 0},
	    {"99999999999999999999999999", UINT64_MAX, -ERR_RANGE, 0},
	    {"", 10, -ERR_SYNTAX, 0},
	    {"-1", 10, -ERR_SYNTAX, 0},
	    {"+1", 10, -ERR_SYNTAX, 0},
	    {" 1", 10, -ERR_SYNTAX, 0},
	    {"1 ", 10, -ERR_SYNTAX, 0},
	    {"1x", 10, -ERR_SYNTAX, 0},
	    {"0x10", 100, -ERR_SYNTAX, 0},
	    {"1e3", 10000, -ERR_SYNTAX, 0},
	    /* Past the ceiling and then garbage: the garbage is what is wrong. */
	    {"99999x", 10, -ERR_SYNTAX, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t out = 12345;
		int r = decimal_u64(cases[i].in, cases[i].max, &out);

		if (r != cases[i].ret)
			fail_msg("'%s' max %llu: returned %d, expected %d", cases[i].in,
			         (unsigned long long)cases[i].max, r, cases[i].ret);
		if (r == 0 && out != cases[i].out)
			fail_msg("'%s': gave %llu", cases[i].in, (unsigned long long)out);
		if (r < 0 && out != 12345)
			fail_msg("'%s': wrote *out on failure", cases[i].in);
	}
	assert_int_equal(decimal_u64(NULL, 10, &(uint64_t){0}), -ERR_SYNTAX);
}

static void test_span_stops_at_len(void **state)
{
	uint64_t out = 0;

	(void)state;
	assert_int_equal(decimal_span_u64("52300-52315", 5, 65535, &out), 0);
	assert_int_equal(out, 52300);
	assert_int_equal(decimal_span_u64("52300-52315", 6, 65535, &out), -ERR_SYNTAX);
	assert_int_equal(decimal_span_u64("123", 0, 65535, &out), -ERR_SYNTAX);
}

static void test_u32(void **state)
{
	uint32_t out = 9;

	(void)state;
	assert_int_equal(decimal_u32("4294967295", UINT32_MAX, &out), 0);
	assert_int_equal(out, UINT32_MAX);
	assert_int_equal(decimal_u32("4294967296", UINT32_MAX, &out), -ERR_RANGE);
	assert_int_equal(decimal_u32_in("0", 1, 60000, &out), -ERR_RANGE);
	assert_int_equal(decimal_u32_in("60001", 1, 60000, &out), -ERR_RANGE);
	assert_int_equal(decimal_u32_in("1", 1, 60000, &out), 0);
	assert_int_equal(out, 1);
	assert_int_equal(decimal_u32_in("abc", 1, 60000, &out), -ERR_SYNTAX);
	assert_int_equal(out, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_strings),
	    cmocka_unit_test(test_span_stops_at_len),
	    cmocka_unit_test(test_u32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
