/* SPDX-License-Identifier: MIT */
/*
 * The prober process (docs/internals/PRIVSEP.md): one libuv loop running the engine, the probes
 * and their parsers for the jobs that arrive on its socketpair, each result sent back as a frame.
 * The only code that parses bytes of a probed host, once the split is on.
 */
#ifndef EXPOSURE_PROBER_PROBER_H
#define EXPOSURE_PROBER_PROBER_H

#include "engine/engine.h"

#include <stdbool.h>

/* What a forked prober is given (copied by fork; nothing is shared afterwards). */
struct prober_conf {
	struct engine_opts eo; /* this prober's share of the limits */
	bool sandbox;          /* enter the sandbox (false only for debugging) */
	bool test_hooks;       /* honour the test markers (only in a -Dtest_hooks=true build) */
	unsigned mem_mib;      /* its memory cap (pool_opts.mem_mib); 0: none */
};

/*
 * Run a prober on fd (its end of the socketpair) until the front closes it. Called in the child
 * right after fork; never returns to the caller's code paths: the caller _exit()s with the
 * returned status (0 when the front went away, 1 when the sandbox or the loop failed).
 */
int prober_run(int fd, const struct prober_conf *c);

/* Whether this build has the test hooks (meson -Dtest_hooks=true; prober_argv.c). */
bool prober_test_hooks_built(void);

/* The markers a probed host sends to trigger a test hook (only with test hooks on). */
#define PROBER_MARK_CRASH  "EXPOSURE-TEST-CRASH"
#define PROBER_MARK_ESCAPE "EXPOSURE-TEST-ESCAPE"
#define PROBER_MARK_HOG    "EXPOSURE-TEST-HOG" /* grows past its memory cap and holds it */

/* The private command line of an exec'd prober: "exposure __prober 1 N N N N N N N S H M". */
#define PROBER_CMD  "__prober"
#define PROBER_ARGC 13

struct prober_argv {
	char num[PROBER_ARGC][12];
	char *argv[PROBER_ARGC + 1];
};

/* Build the command line that gives a prober c (front side; links no engine code). */
void prober_argv_make(const struct prober_conf *c, struct prober_argv *out);

/* main()'s entry for argv[1] == PROBER_CMD: parse, run on descriptor 3, _exit. Refuses test hooks
 * in a build without them, and any command line it did not make (exit 2). */
int prober_main(int argc, char **argv);

#endif
