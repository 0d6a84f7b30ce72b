/* SPDX-License-Identifier: MIT */
/*
 * How a front starts a prober (prober.h): which executable, and the command line that gives it
 * its engine limits, sandbox, TLS and test-hook flags and memory cap as decimals, so that the
 * prober needs no file and no environment. Both ends of the command line live here.
 */
#include "prober/prober.h"

#include "core/decimal.h"
#include "core/err.h"
#include "core/sibling.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef EXPOSURE_LIBEXECDIR
#define EXPOSURE_LIBEXECDIR "/usr/local/libexec"
#endif

void prober_argv_make(const struct prober_conf *c, struct prober_argv *out)
{
	const unsigned v[] = {c->eo.max_inflight,
	                      c->eo.per_target,
	                      c->eo.fixed_timeout_ms,
	                      c->eo.initial_timeout_ms,
	                      c->eo.min_timeout_ms,
	                      c->eo.max_timeout_ms,
	                      c->eo.max_retries,
	                      c->sandbox,
	                      c->test_hooks,
	                      c->tls,
	                      c->mem_mib};
	size_t i;

	snprintf(out->num[0], sizeof(out->num[0]), PROBER_EXE_NAME);
	snprintf(out->num[1], sizeof(out->num[1]), PROBER_ARGV_VERSION);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		snprintf(out->num[2 + i], sizeof(out->num[2 + i]), "%u", v[i]);
	for (i = 0; i < PROBER_ARGC; i++)
		out->argv[i] = out->num[i];
	out->argv[PROBER_ARGC] = NULL;
}

int prober_argv_parse(int argc, char **argv, struct prober_conf *c, char *err, size_t errlen)
{
	uint32_t v[PROBER_ARGC - 2];

	if (argc != PROBER_ARGC || strcmp(argv[1], PROBER_ARGV_VERSION) != 0) {
		snprintf(err, errlen, "run by exposure serve, check and sweep only");
		return -ERR_SYNTAX;
	}
	for (int i = 2; i < PROBER_ARGC; i++)
		if (decimal_u32(argv[i], UINT32_MAX, &v[i - 2]) < 0) {
			snprintf(err, errlen, "bad argument \"%.32s\"", argv[i]);
			return -ERR_SYNTAX;
		}
	*c = (struct prober_conf){
	    .eo = {v[0], v[1], v[2], v[3], v[4], v[5], v[6]},
	    .sandbox = v[7] != 0,
	    .test_hooks = v[8] != 0,
	    .tls = v[9] != 0,
	    .mem_mib = v[10],
	};
	return 0;
}

int prober_exe_find(char *buf, size_t n, char *err, size_t errlen)
{
	return sibling_find("EXPOSURE_PROBER", PROBER_EXE_NAME, EXPOSURE_LIBEXECDIR "/exposure",
	                    X_OK, buf, n, err, errlen);
}

bool prober_test_hooks_built(void)
{
#ifdef EXPOSURE_TEST_HOOKS
	return true;
#else
	return false;
#endif
}
