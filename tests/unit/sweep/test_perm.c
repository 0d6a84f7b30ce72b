/* SPDX-License-Identifier: MIT */
/* The sweep order (sweep/perm.h): a bijection for every size, sharded exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sweep/perm.h"

#include <sodium.h>
#include <stdlib.h>

/* Every position maps into [0, n) and no value twice. */
static void check_bijection(uint64_t n, uint64_t seed)
{
	struct perm p;
	uint8_t *seen = calloc(n, 1);

	assert_non_null(seen);
	perm_init(&p, n, seed);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t x = perm_at(&p, i);

		assert_true(x < n);
		assert_int_equal(seen[x], 0);
		seen[x] = 1;
	}
	free(seen);
}

static void test_bijection(void **state)
{
	static const uint64_t sizes[] = {1,   2,   3,    4,        5,     17,     255,
	                                 256, 257, 1000, 4096 * 2, 65537, 131072, 100003};

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		check_bijection(sizes[k], k * 7919 + 1);
}

/* The same seed gives the same order; another seed another one. */
static void test_seed(void **state)
{
	struct perm a, b, c;
	size_t same = 0;

	(void)state;
	perm_init(&a, 131072, 42);
	perm_init(&b, 131072, 42);
	perm_init(&c, 131072, 43);
	for (uint64_t i = 0; i < 131072; i++) {
		assert_true(perm_at(&a, i) == perm_at(&b, i));
		same += perm_at(&a, i) == perm_at(&c, i);
	}
	assert_true(same < 100);
}

/* Spread: consecutive positions land far apart (not a counter in disguise). */
static void test_spread(void **state)
{
	struct perm p;
	size_t near = 0;

	(void)state;
	perm_init(&p, 65536 * 2, 7);
	for (uint64_t i = 0; i + 1 < 10000; i++) {
		uint64_t a = perm_at(&p, i), b = perm_at(&p, i + 1);

		near += (a > b ? a - b : b - a) < 256;
	}
	assert_true(near < 100); /* ~20 expected by chance */
}

/* Shards of several N, dividing n or not: disjoint, and their union is [0, n). */
static void test_shards(void **state)
{
	static const uint64_t shards[] = {1, 2, 3, 4, 7, 10, 64, 1000};
	const uint64_t n = 4096 * 3 + 5; /* divisible by none of them but 1 */
	struct perm p;

	(void)state;
	perm_init(&p, n, 99);
	for (size_t k = 0; k < sizeof(shards) / sizeof(shards[0]); k++) {
		uint8_t *owner = calloc(n, 1);
		uint64_t total = 0;

		assert_non_null(owner);
		for (uint64_t s = 0; s < shards[k]; s++) {
			uint64_t count = 0;

			/* What the sender of shard s walks (sweep.c send_pass). */
			for (uint64_t i = s; i < n; i += shards[k]) {
				uint64_t x = perm_at(&p, i);

				assert_int_equal(owner[x], 0);
				owner[x] = 1;
				count++;
			}
			assert_true(count == perm_shard_count(n, s, shards[k]));
			total += count;
		}
		assert_true(total == n);
		for (uint64_t x = 0; x < n; x++)
			assert_int_equal(owner[x], 1);
		free(owner);
	}
	assert_true(perm_shard_count(10, 3, 3) == 0);
	assert_true(perm_shard_count(2, 5, 8) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bijection),
	    cmocka_unit_test(test_seed),
	    cmocka_unit_test(test_spread),
	    cmocka_unit_test(test_shards),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
