/* SPDX-License-Identifier: MIT */
/* report-gen-store PATH N [STEP_MS]: a store of N generated results (tests, bench/). */
#include "gen_spec.h"

#include "core/err.h"

#include <errno.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	unsigned long long n, step = 60000;
	char *end = NULL;
	int r;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: report-gen-store PATH N [STEP_MS]\n");
		return 2;
	}
	errno = 0;
	n = strtoull(argv[2], &end, 10);
	if (errno || *end || n == 0 || n > 10000000) {
		fprintf(stderr, "report-gen-store: N must be 1..10000000\n");
		return 2;
	}
	if (argc == 4) {
		step = strtoull(argv[3], &end, 10);
		if (errno || *end || step == 0) {
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
