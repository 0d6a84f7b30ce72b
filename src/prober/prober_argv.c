/* SPDX-License-Identifier: MIT */
/* The command line the front gives an exec'd prober (prober.h): its engine limits, sandbox and
 * test-hook flags and memory cap as decimals, so the prober needs no file and no environment. */
#include "prober/prober.h"

#include <stdio.h>

void prober_argv_make(const struct prober_conf *c, struct prober_argv *out)
{
	const unsigned v[] = {c->eo.max_inflight,     c->eo.per_target,
	                      c->eo.fixed_timeout_ms, c->eo.initial_timeout_ms,
	                      c->eo.min_timeout_ms,   c->eo.max_timeout_ms,
	                      c->eo.max_retries,      c->sandbox,
	                      c->test_hooks,          c->mem_mib};
	size_t i;

	snprintf(out->num[0], sizeof(out->num[0]), "exposure");
	snprintf(out->num[1], sizeof(out->num[1]), PROBER_CMD);
	snprintf(out->num[2], sizeof(out->num[2]), "1"); /* the version of this command line */
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		snprintf(out->num[3 + i], sizeof(out->num[3 + i]), "%u", v[i]);
	for (i = 0; i < PROBER_ARGC; i++)
		out->argv[i] = out->num[i];
	out->argv[PROBER_ARGC] = NULL;
}

bool prober_test_hooks_built(void)
{
#ifdef EXPOSURE_TEST_HOOKS
	return true;
#else
	return false;
#endif
}
