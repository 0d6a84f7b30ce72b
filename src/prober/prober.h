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
#include <stddef.h>

/* What a prober is given, on its command line (prober_argv_make, prober_argv_parse). */
struct prober_conf {
	struct engine_opts eo; /* this prober's share of the limits */
	bool sandbox;          /* enter the sandbox (false only for debugging) */
	bool test_hooks;       /* honour the test markers (only in a -Dtest_hooks=true build) */
	/*
	 * Set up TLS (OpenSSL: its configuration file, its context) before the filter: true when
	 * a check the front runs may ask for it (catalogue_tls()). Without, OpenSSL is never
	 * started and a probe asking for TLS anyway gets a failed handshake (etls_off()).
	 */
	bool tls;
	unsigned mem_mib; /* its memory cap (pool_opts.mem_mib); 0: none */
};

/*
 * Run a prober on fd (its end of the socketpair) until the front closes it. Called by
 * prober_main in the exposure-prober executable; the caller _exit()s with the returned status
 * (0 when the front went away, 1 when the sandbox or the loop failed).
 */
int prober_run(int fd, const struct prober_conf *c);

/* Whether this build has the test hooks (meson -Dtest_hooks=true; prober_argv.c). */
bool prober_test_hooks_built(void);

/* The markers a probed host sends to trigger a test hook (only with test hooks on). */
#define PROBER_MARK_CRASH  "EXPOSURE-TEST-CRASH"
#define PROBER_MARK_ESCAPE "EXPOSURE-TEST-ESCAPE"
#define PROBER_MARK_HOG    "EXPOSURE-TEST-HOG" /* grows past its memory cap and holds it */

/*
 * The prober is its own small executable, exposure-prober (src/prober/main.c), linked with
 * what probing needs only (the engine, the probes and their parsers, libuv, jansson, OpenSSL,
 * libseccomp): none of the front's store, web or report libraries is loaded into the process
 * that parses hostile bytes, nor paid for at each start (docs/internals/PRIVSEP.md).
 * Its private command line: "exposure-prober 2 N N N N N N N S H T M", the version of this
 * command line, then the engine limits and flags as decimals (no file, no environment).
 */
#define PROBER_EXE_NAME     "exposure-prober"
#define PROBER_ARGV_VERSION "2"
#define PROBER_ARGC         13

struct prober_argv {
	char num[PROBER_ARGC][16];
	char *argv[PROBER_ARGC + 1];
};

/* Build the command line that gives a prober c (front side; links no engine code). */
void prober_argv_make(const struct prober_conf *c, struct prober_argv *out);

/* Read it back into *c (prober side). Returns 0, or -ERR_SYNTAX with one line in err for a
 * command line prober_argv_make did not make. */
int prober_argv_parse(int argc, char **argv, struct prober_conf *c, char *err, size_t errlen);

/*
 * The prober executable the front runs, into buf: $EXPOSURE_PROBER when set (tests, a
 * relocated install), else exposure-prober next to the running binary (the build tree), else
 * the installed one (LIBEXECDIR/exposure/exposure-prober). Returns 0, or -ENOENT with one line
 * in err naming where it looked when none is an executable file.
 */
int prober_exe_find(char *buf, size_t n, char *err, size_t errlen);

/* The prober executable's main(): parse, run on descriptor 3, _exit. Refuses test hooks in a
 * build without them, and any command line it did not make (exit 2). */
int prober_main(int argc, char **argv);

#endif
