/* SPDX-License-Identifier: MIT */
/*
 * The sandboxed probers of a command-line run (exposure check, exposure sweep): the probing and
 * parsing of its diagnoses happen there (docs/internals/PRIVSEP.md), and this process only
 * folds checked results.
 */
#include "catalogue/catalogue.h"
#include "cli/cli.h"
#include "core/err.h"
#include "diagnosis/diagnosis.h"
#include "prober/pool.h"

#include <stdlib.h>
#include <string.h>

/* The prober's memory cap: 10,000 diagnoses in flight fit in much less (bench/RESULTS.md). */
#define CLI_PROBER_MIB 1024

int cli_prober_start(uv_loop_t *loop, struct engine *e, const struct engine_opts *eo, unsigned n,
                     const struct diag_options *d, bool replaceable, struct pool **out, char *err,
                     size_t errlen)
{
	const char *hooks = getenv("EXPOSURE_TEST_HOOKS");
	/* OpenSSL is started in the prober only when a check of this run may ask for TLS */
	struct prober_conf c = {
	    .eo = *eo, .sandbox = true, .tls = !d->ports_only && catalogue_tls(d->checks)};
	struct pool_opts po = {
	    .probers = n, .mem_mib = CLI_PROBER_MIB, .conf = &c, .no_restart = !replaceable};
	struct engine_remote remote;

	*out = NULL;
	if (hooks && strcmp(hooks, "1") == 0) {
		if (!prober_test_hooks_built()) {
			snprintf(err, errlen, "EXPOSURE_TEST_HOOKS: this build has no test hooks");
			return -ERR_POLICY;
		}
		c.test_hooks = true;
	}
	err[0] = '\0';
	*out = pool_new(loop, &po, err, errlen);
	if (*out == NULL || err[0]) {
		if (!err[0])
			snprintf(err, errlen, "probers: cannot start one");
		return -ERR_INTERNAL;
	}
	pool_remote(*out, &remote);
	engine_set_remote(e, &remote);
	return 0;
}
