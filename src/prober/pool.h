/* SPDX-License-Identifier: MIT */
/*
 * The front's side of the split (docs/internals/PRIVSEP.md): N prober processes forked at start,
 * each on a socketpair read by the front's loop. Plugged under an engine with engine_set_remote,
 * so the diagnosis takes results from a prober as it does from the engine. A prober that dies,
 * breaks the framing or misses its heartbeat is killed and replaced with backoff; its jobs in
 * flight end as error / prober-lost.
 */
#ifndef EXPOSURE_PROBER_POOL_H
#define EXPOSURE_PROBER_POOL_H

#include "engine/engine.h"
#include "prober/prober.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define POOL_MAX_PROBERS 64

struct pool_opts {
	unsigned probers;        /* 1..POOL_MAX_PROBERS */
	unsigned heartbeat_ms;   /* ping period (default 1000) */
	unsigned dead_after_ms;  /* no frame for this long: lost (default 5000) */
	unsigned backoff_min_ms; /* first replacement delay (default 50), doubling ... */
	unsigned backoff_max_ms; /* ... up to this (default 5000) */
	/*
	 * Memory cap of a prober in MiB (0: none): its resident set, read from /proc/PID/statm at
	 * every heartbeat, above this is a lost prober (no cgroup needed). The prober also sets
	 * RLIMIT_AS to twice the cap plus 256 MiB where it can (not under ASan).
	 */
	unsigned mem_mib;
	/*
	 * What a prober runs: exe (NULL: prober_exe_find(), the exposure-prober executable) with
	 * argv, its socket as descriptor 3. A fresh image of a small executable, as OpenSSH runs
	 * its privilege-separated helpers: a forked copy of the front would carry its key, token
	 * and store handles into the process that parses hostile bytes, and the front's own
	 * libraries (libpq's chain, SQLite, libmicrohttpd) would cost every start to load.
	 */
	const char *exe;
	char *const *argv;
	/*
	 * Or, argv NULL: what every prober is given, with the engine limits of all of them
	 * together; each gets max_inflight / probers sockets (at least 1) and a per-target cap no
	 * larger, so the limits hold per prober and in total (a target stays on one prober).
	 */
	const struct prober_conf *conf;
	/*
	 * A lost prober is not replaced, and a job finding none up is refused (-ECANCELED): for a
	 * front that gave up, after starting them, the privileges a new prober's sandbox is built
	 * with (exposure sweep drops every capability once its raw sockets are open).
	 */
	bool no_restart;
};

/* Read from any thread (pool_get_stats loads each field atomically). */
struct pool_stats {
	unsigned probers_up;
	uint64_t restarts;  /* probers replaced since start */
	uint64_t lost_jobs; /* jobs ended as prober-lost */
	uint64_t in_flight;
	uint64_t lost_memory; /* of the restarts: probers over their memory cap */
};

struct pool;

/* Fork the probers (before the front accepts traffic) and watch them on loop. NULL on error
 * with a line in err (no prober executable found, out of memory). Ignores SIGPIPE in this process:
 * a dead prober's socket must not kill it. */
struct pool *pool_new(uv_loop_t *loop, const struct pool_opts *o, char *err, size_t errlen);

/* The engine_remote that sends e's jobs to this pool. */
void pool_remote(struct pool *p, struct engine_remote *out);

/* The counters, from any thread (the /metrics handler's). */
void pool_get_stats(const struct pool *p, struct pool_stats *out);

/* Stop the probers (EOF on their socket, then SIGKILL) and close the handles; the loop must run
 * once more to finish closing, then pool_free. Jobs in flight end as prober-lost. */
void pool_close(struct pool *p);
void pool_free(struct pool *p);

/* The online CPUs, 1..POOL_MAX_PROBERS: the default number of probers (serve, check). */
unsigned pool_online_cpus(void);

/* Test use: the pid of prober i (0 when it is down). */
int pool_prober_pid(const struct pool *p, unsigned i);

#endif
