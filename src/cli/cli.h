/* SPDX-License-Identifier: MIT */
/* The command-line tool: options, targets, output. Shared by the files of src/cli. */
#ifndef EXPOSURE_CLI_CLI_H
#define EXPOSURE_CLI_CLI_H

#include "core/addr.h"
#include "core/policy.h"
#include "catalogue/catalogue.h"
#include "core/sbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <uv.h>

#define CLI_ERR_MAX         512
#define CLI_TIMEOUT_MAX_MS  60000
#define CLI_INFLIGHT_MAX    65536
#define CLI_CONFIG_LINE_MAX 512

/* Everything `exposure check` was asked to do. */
struct check_config {
	struct policy policy;
	struct port_overrides ports;
	uint32_t checks;       /* --profile / --checks (catalogue_select()); 0 = profile 2017 */
	unsigned timeout_ms;   /* 0 = adaptive */
	unsigned max_inflight; /* 0 = the engine's default */
	unsigned probers;      /* --probers N; 0 = one per online CPU, one for one address */
	bool json, explain, no_color, help;
	bool ports_only;      /* port states only: no protocol checks */
	bool list;            /* --list: print the checks and their ports, probe nothing */
	bool no_sandbox;      /* --no-sandbox: probe in this process, not in a prober */
	uint32_t opt_in;      /* --iscsi-discovery: checks whose opt-in probe runs (diag_options) */
	char *const *targets; /* into argv */
	size_t n_targets;
};

/*
 * Parse the arguments of `exposure check` (argv[0] is "check"), --config files included, into
 * cfg. Returns 0 (cfg->help set if --help was given: nothing else is checked then), or a negative
 * code with a one-line message in err (no trailing newline).
 */
int check_options_parse(int argc, char **argv, struct check_config *cfg, char *err, size_t errlen);

/*
 * One setting of a config file, NAME and VALUE ("" when the line has none; the callee may keep
 * or change value until the next line), with "PATH:LINE" in where for its messages.
 */
typedef int config_setting_fn(void *ud, const char *name, char *value, const char *where, char *err,
                              size_t errlen);

/*
 * The one config file reader of the subcommands: line by line (at most CLI_CONFIG_LINE_MAX
 * bytes, no NUL), blanks trimmed, blank lines and '#' comments skipped, NAME and VALUE split at
 * the first run of blanks, each handed to fn. Returns 0 or the first error, err set.
 */
int config_file_read(FILE *f, const char *path, config_setting_fn *fn, void *ud, char *err,
                     size_t errlen);
int config_file_load(const char *path, config_setting_fn *fn, void *ud, char *err, size_t errlen);

/*
 * Read a config file: lines `allow CIDR`, `port CHECK=PORT[-LAST]`, `timeout MS`, blank lines
 * and `#` comments. Errors name the file and line. Returns 0 or negative with err set.
 */
int config_load(struct check_config *cfg, const char *path, char *err, size_t errlen);

/* The same from an open stream (config_load's loop; the fuzzer reads from memory); path names
 * the source in errors. */
int config_read(struct check_config *cfg, FILE *f, const char *path, char *err, size_t errlen);

/*
 * getopt_long (opterr 0, optstring starting with ':') returned ch, '?' or ':': the one line that
 * every subcommand says about argv[optind - 1] ("unknown option", "takes no value", "needs a
 * value") into err. Returns -ERR_SYNTAX.
 */
int cli_getopt_error(int ch, char *const *argv, char *err, size_t errlen);

/* One address to diagnose and the target text it came from. */
struct target_addr {
	const char *name; /* as the user typed it: address, block or host name (not owned) */
	struct addr addr;
};

struct target_list {
	struct target_addr *v;
	size_t n, cap;
};

#define TARGETS_MAX_BLOCK  65536u  /* addresses per CIDR block: /16 or /112 */
#define TARGETS_MAX_TOTAL  262144u /* addresses per run */
#define TARGETS_RESOLVE_MS 10000u  /* a name that has not resolved by then is an error */

/*
 * Turn the target arguments into addresses: literals, CIDR blocks (at most TARGETS_MAX_BLOCK
 * addresses) and host names (resolved on loop with uv_getaddrinfo; each distinct address
 * once). Then check EVERY address against the policy, before anything is probed. Returns 0,
 * or a negative code with a one-line message in err; on failure list is empty.
 */
int targets_resolve(uv_loop_t *loop, char *const *args, size_t n, const struct policy *p,
                    struct target_list *list, char *err, size_t errlen);

/* Classify one argument without resolving: 0 literal address, 1 CIDR block, 2 host name;
 * or -ERR_SYNTAX / -ERR_RANGE with a message in err. */
enum target_kind { TARGET_ADDR = 0, TARGET_BLOCK, TARGET_NAME };
int target_classify(const char *arg, struct cidr *block, char *err, size_t errlen);

void target_list_done(struct target_list *list);

/*
 * Copy peer-controlled text into out (size >= 1), made safe for a terminal: control
 * characters, escape sequences, C1 controls, bidirectional overrides and invalid UTF-8
 * become \xNN (or \u{NNNN}) escapes; the result is cut (with "...") to fit. Returns the length.
 */
size_t sanitize_text(const char *in, size_t len, char *out, size_t size);

struct diag_options;
struct engine;
struct engine_opts;
struct pool;

/*
 * Start the sandboxed probers of a command-line run under e (exposure check, exposure sweep;
 * docs/internals/PRIVSEP.md): e's jobs go there (a target stays on one prober), with eo as the
 * limits of all n together; d says which checks they will run (OpenSSL is started in them only
 * when one may ask for TLS). replaceable false: a lost prober is not replaced (the caller has
 * given up what a new one's sandbox needs) and the jobs after it fail. EXPOSURE_TEST_HOOKS=1
 * turns on the test hooks of a -Dtest_hooks=true build. Returns 0, or -ERR_* with one line in
 * err. *out is set whenever a pool was made, also on failure: the caller pool_close()s it, runs
 * the loop and pool_free()s it.
 */
int cli_prober_start(uv_loop_t *loop, struct engine *e, const struct engine_opts *eo, unsigned n,
                     const struct diag_options *d, bool replaceable, struct pool **out, char *err,
                     size_t errlen);

/* `exposure check`: returns the process exit status (0, 1 or 2). */
int cmd_check(int argc, char **argv);

/* The usage text of `exposure check`. */
void check_usage(FILE *f);

/* How a usage text names the catalogue's checks (checks.c). */
enum doors_style {
	DOORS_NAME_PORTS, /* "ssh 22, telnet 23, ..., skysea 52300-52315" */
	DOORS_TITLES,     /* "SSH, Telnet, ..., SKYSEA" */
};

/* Which of the catalogue's checks a usage text names. */
enum doors_set {
	DOORS_ALL,
	DOORS_2017,  /* the 2017 profile's (the default) */
	DOORS_BEYOND /* those only --profile extended runs */
};

/* Add the set's checks, in catalogue order and joined by ", ", to b (its error tells). */
void checks_doors(struct sbuf *b, enum doors_style style, enum doors_set set);

/*
 * Print text (one paragraph: words separated by spaces) on f, wrapped greedily so that no line
 * is wider than width columns unless a single word is; ends with a newline.
 */
void text_wrap(FILE *f, const char *text, size_t width);

/*
 * `exposure check --list`: each check of set (--profile / --checks; 0: the profile 2017) with its
 * ports (po: the --port overrides, or NULL) as aligned text (check, ports, label), or as one
 * JSON document (docs/json.md, "The list of checks"). Returns 0 or -ERR_* / -errno.
 */
int checks_list(FILE *f, const struct port_overrides *po, uint32_t set, bool json);

/* `exposure serve` (cmd_serve.c): returns the process exit status (0 or 2). */
int cmd_serve(int argc, char **argv);

/* `exposure report` (cmd_report.c): returns the process exit status (0 to 3, docs/report.md). */
int cmd_report(int argc, char **argv);

/* `exposure sweep` (cmd_sweep.c). */
int cmd_sweep(int argc, char **argv);

/* `exposure store copy FROM TO` (cmd_store.c): 0 copied and verified, 1 failure, 2 usage. */
int cmd_store(int argc, char **argv);

#endif
