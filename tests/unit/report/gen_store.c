/* SPDX-License-Identifier: MIT */
/* report-gen-store PATH N [STEP_MS]: a store of N generated results (tests, bench/). */
#include "gen_spec.h"

#include "core/decimal.h"
#include "core/err.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	uint64_t n, step = 60000;
	int r;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: report-gen-store PATH N [STEP_MS]\n");
		return 2;
	}
	if (decimal_u64(argv[2], 10000000, &n) < 0 || n == 0) {
		fprintf(stderr, "report-gen-store: N must be 1..10000000\n");
		return 2;
	}
	if (argc == 4) {
		if (decimal_u64(argv[3], INT64_MAX, &step) < 0 || step == 0) {
			fprintf(stderr, "report-gen-store: STEP_MS must be a positive number\n");
			return 2;
		}
	}
	if ((r = gen_store(argv[1], n, (int64_t)step)) < 0) {
		fprintf(stderr, "report-gen-store: %s\n", err_str(r));
		return 1;
	}
	return 0;
}
