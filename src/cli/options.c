/* SPDX-License-Identifier: MIT */
/* Options and config file of `exposure check` (cli.h). */
#include "cli/cli.h"
#include "core/decimal.h"
#include "core/err.h"
#include "prober/pool.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int opt_allow(struct check_config *cfg, const char *text, const char *where, char *err,
                     size_t errlen)
{
	struct cidr c;
	int r;

	if ((r = cidr_parse(text, &c)) < 0) {
		snprintf(err, errlen,
		         "%s: '%s' is not a CIDR block (ADDRESS/PREFIX with the host bits clear, "
		         "e.g. 198.18.0.0/24)",
		         where, text);
		return r;
	}
	if ((r = policy_allow(&cfg->policy, &c)) < 0) {
		snprintf(err, errlen, "%s: at most %d allowed blocks", where, POLICY_MAX_ALLOW);
		return r;
	}
	return 0;
}

static int opt_timeout(struct check_config *cfg, const char *text, const char *where, char *err,
                       size_t errlen)
{
	uint32_t ms;
	int r = decimal_u32_in(text, 1, CLI_TIMEOUT_MAX_MS, &ms);

	if (r < 0) {
		snprintf(err, errlen, "%s: '%s' is not a timeout in milliseconds from 1 to %d",
		         where, text, CLI_TIMEOUT_MAX_MS);
		return r;
	}
	cfg->timeout_ms = ms;
	return 0;
}

static int opt_port(struct check_config *cfg, const char *text, const char *where, char *err,
                    size_t errlen)
{
	char why[256];
	int r = port_override_parse(&cfg->ports, text, why, sizeof(why));

	/* The catalogue's message names --port already; a config file adds where. */
	if (r < 0 && strncmp(where, "--", 2) == 0)
		snprintf(err, errlen, "%s", why);
	else if (r < 0)
		snprintf(err, errlen, "%s: %s", where, why);
	return r;
}

/* --profile NAME or --checks LIST (where names the option or the config line). */
static int opt_select(struct check_config *cfg, bool list, const char *text, const char *where,
                      char *err, size_t errlen)
{
	char why[CLI_ERR_MAX / 2];
	int r = catalogue_select(list ? NULL : text, list ? text : NULL, &cfg->checks, why,
	                         sizeof(why));

	if (r < 0 && strncmp(where, "--", 2) == 0)
		snprintf(err, errlen, "%s", why);
	else if (r < 0)
		snprintf(err, errlen, "%s: %s", where, why);
	return r;
}

/*
 * One line: blanks around, '#' comments and empty lines skipped, then NAME and VALUE ("" when
 * the line has none) split at the first run of blanks, handed to fn.
 */
static int config_file_line(char *line, const char *where, config_setting_fn *fn, void *ud,
                            char *err, size_t errlen)
{
	char *key = line, *val, *end;

	while (*key == ' ' || *key == '\t')
		key++;
	end = key + strlen(key);
	while (end > key && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if (*key == '\0' || *key == '#')
		return 0;
	val = key + strcspn(key, " \t");
	if (*val != '\0')
		*val++ = '\0';
	while (*val == ' ' || *val == '\t')
		val++;
	return fn(ud, key, val, where, err, errlen);
}

int config_file_read(FILE *f, const char *path, config_setting_fn *fn, void *ud, char *err,
                     size_t errlen)
{
	char where[CLI_ERR_MAX / 2];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int r = 0;

	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > CLI_CONFIG_LINE_MAX) {
			snprintf(err, errlen, "%s: line longer than %d bytes", where,
			         CLI_CONFIG_LINE_MAX);
			r = -ERR_TOOBIG;
			goto out;
		}
		if (strlen(line) != (size_t)len) {
			snprintf(err, errlen, "%s: NUL byte in the line", where);
			r = -ERR_SYNTAX;
			goto out;
		}
		if ((r = config_file_line(line, where, fn, ud, err, errlen)) < 0)
			goto out;
	}
	if (ferror(f)) {
		r = -EIO;
		snprintf(err, errlen, "--config %s: read error", path);
	}
out:
	free(line);
	return r;
}

int config_file_load(const char *path, config_setting_fn *fn, void *ud, char *err, size_t errlen)
{
	int r;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		r = -errno;
		snprintf(err, errlen, "--config %s: %s", path, strerror(-r));
		return r;
	}
	r = config_file_read(f, path, fn, ud, err, errlen);
	fclose(f);
	return r;
}

/*
 * --iscsi-discovery, or `iscsi-discovery yes|no` in the config file: the iSCSI check opens a
 * discovery session (SendTargets=All) instead of only connecting (PROBES.md, "iSCSI").
 */
static int opt_iscsi_discovery(struct check_config *cfg, const char *val, const char *where,
                               char *err, size_t errlen)
{
	size_t i = catalogue_rank("iscsi");
	size_t n;

	catalogue_checks(&n);
	if (i >= n) {
		snprintf(err, errlen, "%s: no iscsi check in this build", where);
		return -ERR_UNSUPPORTED;
	}
	if (strcmp(val, "yes") == 0) {
		cfg->opt_in |= 1u << i;
	} else if (strcmp(val, "no") == 0) {
		cfg->opt_in &= ~(1u << i);
	} else {
		snprintf(err, errlen, "%s: iscsi-discovery wants yes or no, not \"%s\"", where,
		         val);
		return -ERR_SYNTAX;
	}
	return 0;
}

/* A setting of `exposure check`'s config file: allow, port or timeout. */
static int check_setting(void *ud, const char *key, char *val, const char *where, char *err,
                         size_t errlen)
{
	struct check_config *cfg = ud;

	if (*val == '\0') {
		snprintf(err, errlen, "%s: '%s' needs a value", where, key);
		return -ERR_SYNTAX;
	}
	if (strcmp(key, "allow") == 0)
		return opt_allow(cfg, val, where, err, errlen);
	if (strcmp(key, "port") == 0)
		return opt_port(cfg, val, where, err, errlen);
	if (strcmp(key, "timeout") == 0)
		return opt_timeout(cfg, val, where, err, errlen);
	if (strcmp(key, "profile") == 0 || strcmp(key, "checks") == 0)
		return opt_select(cfg, key[0] == 'c', val, where, err, errlen);
	if (strcmp(key, "iscsi-discovery") == 0)
		return opt_iscsi_discovery(cfg, val, where, err, errlen);
	snprintf(
	    err, errlen,
	    "%s: unknown setting '%s' (allow, port, timeout, profile, checks, iscsi-discovery)",
	    where, key);
	return -ERR_SYNTAX;
}

int config_read(struct check_config *cfg, FILE *f, const char *path, char *err, size_t errlen)
{
	return config_file_read(f, path, check_setting, cfg, err, errlen);
}

int config_load(struct check_config *cfg, const char *path, char *err, size_t errlen)
{
	return config_file_load(path, check_setting, cfg, err, errlen);
}

enum {
	OPT_JSON = 256,
	OPT_ALLOW,
	OPT_CONFIG,
	OPT_PORT,
	OPT_TIMEOUT,
	OPT_EXPLAIN,
	OPT_NO_COLOR,
	OPT_MAX_INFLIGHT,
	OPT_PORTS_ONLY,
	OPT_LIST,
	OPT_PROFILE,
	OPT_CHECKS,
	OPT_NO_SANDBOX,
	OPT_PROBERS,
	OPT_ISCSI_DISCOVERY,
	OPT_HELP
};

static const struct option long_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"allow", required_argument, NULL, OPT_ALLOW},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"port", required_argument, NULL, OPT_PORT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
    {"ports-only", no_argument, NULL, OPT_PORTS_ONLY},
    {"list", no_argument, NULL, OPT_LIST},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"checks", required_argument, NULL, OPT_CHECKS},
    {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
    {"probers", required_argument, NULL, OPT_PROBERS},
    {"iscsi-discovery", no_argument, NULL, OPT_ISCSI_DISCOVERY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int opt_max_inflight(struct check_config *cfg, const char *text, char *err, size_t errlen)
{
	uint32_t n;
	int r = decimal_u32_in(text, 1, CLI_INFLIGHT_MAX, &n);

	if (r < 0) {
		snprintf(err, errlen, "--max-inflight: '%s' is not a number from 1 to %d", text,
		         CLI_INFLIGHT_MAX);
		return r;
	}
	cfg->max_inflight = n;
	return 0;
}

static int opt_probers(struct check_config *cfg, const char *text, char *err, size_t errlen)
{
	uint32_t n;
	int r = decimal_u32_in(text, 1, POOL_MAX_PROBERS, &n);

	if (r < 0) {
		snprintf(err, errlen, "--probers wants a number in 1..%d, not \"%s\"",
		         POOL_MAX_PROBERS, text);
		return r;
	}
	cfg->probers = n;
	return 0;
}

static int one_option(struct check_config *cfg, int c, const char *arg, char *err, size_t errlen)
{

	switch (c) {
	case OPT_JSON:
		cfg->json = true;
		return 0;
	case OPT_ALLOW:
		return opt_allow(cfg, arg, "--allow", err, errlen);
	case OPT_CONFIG:
		return config_load(cfg, arg, err, errlen);
	case OPT_PORT:
		return opt_port(cfg, arg, "--port", err, errlen);
	case OPT_TIMEOUT:
		return opt_timeout(cfg, arg, "--timeout", err, errlen);
	case OPT_EXPLAIN:
		cfg->explain = true;
		return 0;
	case OPT_NO_COLOR:
		cfg->no_color = true;
		return 0;
	case OPT_MAX_INFLIGHT:
		return opt_max_inflight(cfg, arg, err, errlen);
	case OPT_PORTS_ONLY:
		cfg->ports_only = true;
		return 0;
	case OPT_LIST:
		cfg->list = true;
		return 0;
	case OPT_PROFILE:
		return opt_select(cfg, false, arg, "--profile", err, errlen);
	case OPT_CHECKS:
		return opt_select(cfg, true, arg, "--checks", err, errlen);
	case OPT_NO_SANDBOX:
		cfg->no_sandbox = true;
		return 0;
	case OPT_PROBERS:
		return opt_probers(cfg, arg, err, errlen);
	case OPT_ISCSI_DISCOVERY:
		return opt_iscsi_discovery(cfg, "yes", "--iscsi-discovery", err, errlen);
	case OPT_HELP:
		cfg->help = true;
		return 0;
	default:
		snprintf(err, errlen, "internal error: option %d", c);
		return -ERR_INTERNAL;
	}
}

int cli_getopt_error(int ch, char *const *argv, char *err, size_t errlen)
{
	/* A long option's word is argv[optind - 1]; a short one is optopt. */
	const char *word = argv[optind - 1];

	if (ch == ':')
		snprintf(err, errlen, "option '%s' needs a value", word);
	else if (strncmp(word, "--", 2) != 0)
		snprintf(err, errlen, "unknown option '-%c' (try --help)", optopt);
	else if (strchr(word, '=') && optopt)
		snprintf(err, errlen, "option '%s' takes no value", word);
	else
		snprintf(err, errlen, "unknown option '%s' (try --help)", word);
	return -ERR_SYNTAX;
}

int check_options_parse(int argc, char **argv, struct check_config *cfg, char *err, size_t errlen)
{
	int c, r = 0;

	*cfg = (struct check_config){0};
	policy_init(&cfg->policy);
	err[0] = '\0';
	/* optind = 0 re-initialises glibc's getopt, so this can run more than once (tests). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cli_getopt_error(c, argv, err, errlen);
		if ((r = one_option(cfg, c, optarg, err, errlen)) < 0)
			return r;
	}
	if (cfg->help)
		return 0;
	cfg->targets = argv + optind;
	cfg->n_targets = (size_t)(argc - optind);
	if (cfg->list && cfg->n_targets > 0) {
		snprintf(err, errlen, "--list takes no TARGET: it probes nothing");
		return -ERR_SYNTAX;
	}
	if (cfg->n_targets == 0 && !cfg->list) {
		snprintf(err, errlen, "no target given (try 'exposure check --help')");
		return -ERR_SYNTAX;
	}
	if (cfg->probers && cfg->no_sandbox) {
		snprintf(err, errlen,
		         "--probers and --no-sandbox: no prober runs without the sandbox");
		return -ERR_SYNTAX;
	}
	/* The probers share the sockets (pool.h): each needs one at least. */
	if (cfg->probers && cfg->max_inflight && cfg->probers > cfg->max_inflight) {
		snprintf(err, errlen, "--probers %u is more than --max-inflight %u", cfg->probers,
		         cfg->max_inflight);
		return -ERR_SYNTAX;
	}
	return 0;
}
