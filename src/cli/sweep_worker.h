/* SPDX-License-Identifier: MIT */
/*
 * A sweep across machines (issue 14 §3): the options a defined sweep keeps in the store (its
 * "spec") and `exposure sweep --worker`, which claims its shards one at a time. See
 * docs/sweep.md "Across machines" and docs/internals/STORE.md "Sweep shards".
 */
#ifndef EXPOSURE_CLI_SWEEP_WORKER_H
#define EXPOSURE_CLI_SWEEP_WORKER_H

#include <stddef.h>

#define SWEEP_WORKER_LEASE_DEFAULT_MS 30000u
#define SWEEP_WORKER_LEASE_MIN_MS     1000u
#define SWEEP_WORKER_LEASE_MAX_MS     600000u

/*
 * The spec of a sweep: the options every worker runs (args: "--seed", "S", "--rate", ...,
 * only those sweep_worker_run passes on: --seed --rate --retries --wait --ports --checks
 * --port), the targets (a CIDR block or address as given; a file's content inlined, as no
 * other machine has the file) and the --exclude files' contents. Returns a JSON text (free()
 * it), or NULL with err set.
 */
char *sweep_spec_make(const char *const *args, size_t n_args, char *const *targets,
                      size_t n_targets, const char *const *excludes, size_t n_excludes, char *err,
                      size_t errlen);

struct sweep_worker_cfg {
	const char *store; /* postgresql://... */
	const char *sweep; /* --sweep ID, or NULL: shards of any defined sweep */
	unsigned lease_ms;
	/* This machine's own options, passed to every shard's run: --allow (the policy stays
	 * each machine's), --source, --max-hosts, --no-sandbox, --json, --progress... */
	const char *const *local_args;
	size_t n_local_args;
};

/*
 * Claim and run shards until none is left (waiting while others run under a live lease: one
 * of them may be lost and become free). Returns the exit status: 0 every shard done, 2 a
 * usage, store or shard failure (a shard it could not finish is handed back, or left to its
 * lease), a sweep with no shards, or shards left that failed (STORE_SHARD_FAILED_RUNS: named).
 */
int sweep_worker_run(const struct sweep_worker_cfg *wc);

#endif
