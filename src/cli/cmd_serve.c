/* SPDX-License-Identifier: MIT */
/*
 * `exposure serve`: its options into struct web_config (web.h), then the service until SIGINT or
 * SIGTERM (web/serve.h). Exit status: 0 after a clean stop or --help, 2 on a usage or start-up
 * error.
 */
#include "cli/cli.h"
#include "core/decimal.h"
#include "core/err.h"
#include "prober/pool.h"
#include "prober/prober.h"
#include "web/serve.h"
#include "web/web.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SERVE_ERR_MAX 512

static const char usage[] =
    "Usage: exposure serve [OPTION]...\n"
    "The web self-diagnosis service: a visitor opens the page, agrees, and the service\n"
    "probes the visitor's own address (the TCP peer of the request; never an address the\n"
    "client names). See docs/api.md.\n"
    "\n"
    "  --config FILE             read settings from FILE, one 'NAME VALUE' a line (NAME: a\n"
    "                            long option below without its dashes; 'public' and\n"
    "                            'secure-cookie' alone), '#' comments; it takes effect\n"
    "                            where it stands on the command line (docs/deploy.md)\n"
    "Where:\n"
    "  --listen ADDR:PORT        listen here (repeatable, up to 4; default 127.0.0.1:8080;\n"
    "                            IPv6 as [::1]:8080; port 0 picks a free one)\n"
    "  --store STORE             result store: a SQLite file (default ./exposure.db;\n"
    "                            sqlite:PATH too) or postgresql://... shared by nodes\n"
    "  --key PATH                requester-hash key, created 0600 at first start\n"
    "                            (default ./exposure.key)\n"
    "  --probe-source-label TEXT the address the probes come from, shown on the page\n"
    "                            (default: \"this server\")\n"
    "Whom:\n"
    "  --public                  diagnose any global unicast requester; loopback, private,\n"
    "                            CGNAT, link-local and special addresses are refused with a\n"
    "                            reason (default: local mode, loopback requesters only)\n"
    "  --allow CIDR              also diagnose requesters inside CIDR (repeatable; labs)\n"
    "  --trusted-proxy CIDR      a reverse proxy whose forwarding header is believed\n"
    "                            (repeatable); read from the right, skipping trusted proxies\n"
    "  --proxy-header NAME       x-forwarded-for (default) or forwarded (RFC 7239)\n"
    "  --origin URL              the site's origin for the same-origin check of POSTs\n"
    "                            (default: http(s):// plus the request's Host)\n"
    "  --secure-cookie           mark the CSRF cookie Secure (behind HTTPS)\n"
    "  --v4-host NAME[:PORT]     this service's IPv4-only name, --v6-host its IPv6-only one:\n"
    "                            the page takes address tickets there to test both families\n"
    "                            (need --origin; docs/api.md, \"Tickets\")\n"
    "  --ticket-ttl SEC          how long an address ticket lives, 1..120 (default 120)\n"
    "  --port CHECK=PORT[-LAST]  move a check to other ports (labs and tests); a list\n"
    "                            FIRST-LAST,PORT,... for a check of several ports\n"
    "What:\n"
    "  --profile NAME            the checks each diagnosis runs: 2017 (the default: the\n"
    "                            seven doors of the 2017 service) or extended (every check)\n"
    "  --checks A,B,...          run these checks only (exposure check --list --profile\n"
    "                            extended names them)\n"
    "  --iscsi-discovery         iscsi: open a discovery session and list the target names\n"
    "                            (default: only connect; docs/internals/PROBES.md, \"iSCSI\")\n"
    "Abuse limits:\n"
    "  --max-inflight N          diagnoses running at once (default 64)\n"
    "  --queue-max N             diagnoses waiting; beyond it 429 + Retry-After (default 256)\n"
    "  --addr-rate N             diagnoses per hour per requester address (default 30; 0 off)\n"
    "  --addr-burst N            of which at once (default 5)\n"
    "  --prefix-rate N           per hour per /24 (IPv4) or /64 (IPv6) (default 120; 0 off)\n"
    "  --prefix-burst N          of which at once (default 20)\n"
    "  --site-rate N             per hour per IPv6 /48 (default 240; 0 off)\n"
    "  --site-burst N            of which at once (default 40)\n"
    "  (one diagnosis at a time per requester always holds)\n"
    "  --max-body BYTES          request body limit (default 1024)\n"
    "  --conn-memory BYTES       per-connection memory, bounds headers (default 16384)\n"
    "  --conn-timeout SEC        idle connection timeout (default 15)\n"
    "  --request-timeout SEC     a whole request (headers and body) within SEC of the\n"
    "                            connection or of its previous response (default 10)\n"
    "  --conn-limit N            connections at once; when full, the one waiting longest\n"
    "                            for its request is closed for a new one (default 1024)\n"
    "  --per-ip-conn-limit N     connections at once per IPv4 address or IPv6 /64\n"
    "                            (default 16; 0 off)\n"
    "  --per-48-conn-limit N     connections at once per IPv6 /48 (default 64; 0 off)\n"
    "  --threads N               HTTP threads (default 2)\n"
    "Probe deadlines (from the requester's HTTP round-trip time, TCP_INFO):\n"
    "  --rtt-factor N            timeout = N * rtt + margin (default 4)\n"
    "  --rtt-margin-ms MS        (default 250)\n"
    "  --rtt-floor-ms MS         lower bound (default 300)\n"
    "  --rtt-ceiling-ms MS       upper bound (default 5000)\n"
    "  --engine-sockets N        probe sockets open at once (default 512), all probers\n"
    "Probers (the processes that probe and parse the replies; docs/internals/PRIVSEP.md):\n"
    "  --probers N               sandboxed prober processes, 0..64 (default: the online\n"
    "                            CPUs; 0 probes inside the service, for debugging only)\n"
    "  --prober-memory MIB       a prober's memory cap: over it, it is replaced\n"
    "                            (16..65536, default 256)\n"
    "Retention:\n"
    "  --retention-days N        delete results older than N days (default 30)\n"
    "  --purge-interval SEC      how often to purge (default 3600)\n"
    "  --done-cache N            finished diagnoses kept in memory (default 4096)\n"
    "Operator dashboard (/admin/stats, docs/api.md):\n"
    "  --admin-token-file PATH   the operator token (16..512 printable characters; the file\n"
    "                            must not be group or world accessible: chmod 600). Without\n"
    "                            it, $EXPOSURE_ADMIN_TOKEN; without both the dashboard is off\n"
    "  --labels FILE             prefix,label CSV for the breakdown by network (as\n"
    "                            exposure report --labels), read once at start\n"
    "  -h, --help                this text\n";

/* Everything `exposure serve` was asked to do. */
struct serve_config {
	struct web_config web;
	bool help;
	/* The values read from --config files: web's strings point into them until the end. */
	char **owned;
	size_t n_owned;
};

enum {
	O_LISTEN = 256,
	O_STORE,
	O_KEY,
	O_LABEL,
	O_PUBLIC,
	O_ALLOW,
	O_TRUSTED,
	O_PROXY_HDR,
	O_ORIGIN,
	O_V4_HOST,
	O_V6_HOST,
	O_SECURE,
	O_PORT,
	O_PROFILE,
	O_CHECKS,
	O_ISCSI_DISCOVERY,
	O_ADMIN_TOKEN,
	O_LABELS,
	O_CONFIG,
	O_NUMBER, /* every option from here on takes a number: see numbers[] */
};

/* The options that take a number: bounds and the field of struct web_config it goes to. */
struct number_opt {
	const char *name;
	uint32_t min, max;
	size_t off;
	bool real; /* the field is a double (the rate limits), else unsigned */
};

#define NUM_U(f) offsetof(struct web_config, f), false
#define NUM_D(f) offsetof(struct web_config, f), true

static const struct number_opt numbers[] = {
    {"max-inflight", 1, 100000, NUM_U(max_inflight)},
    {"queue-max", 0, 1000000, NUM_U(queue_max)},
    {"addr-rate", 0, 100000000, NUM_D(addr_per_hour)},
    {"addr-burst", 0, 100000000, NUM_D(addr_burst)},
    {"prefix-rate", 0, 100000000, NUM_D(prefix_per_hour)},
    {"prefix-burst", 0, 100000000, NUM_D(prefix_burst)},
    {"site-rate", 0, 100000000, NUM_D(site_per_hour)},
    {"site-burst", 0, 100000000, NUM_D(site_burst)},
    {"max-body", 0, 65536, NUM_U(max_body)},
    {"conn-memory", 4096, 1 << 20, NUM_U(conn_memory)},
    {"conn-timeout", 1, 3600, NUM_U(conn_timeout_s)},
    {"request-timeout", 1, 3600, NUM_U(request_timeout_s)},
    {"conn-limit", 1, 1000000, NUM_U(conn_limit)},
    {"per-ip-conn-limit", 0, 1000000, NUM_U(per_ip_conn_limit)},
    {"per-48-conn-limit", 0, 1000000, NUM_U(per_48_conn_limit)},
    {"threads", 1, 64, NUM_U(threads)},
    {"rtt-factor", 1, 100, NUM_U(rtt.factor)},
    {"rtt-margin-ms", 0, 60000, NUM_U(rtt.margin_ms)},
    {"rtt-floor-ms", 1, 60000, NUM_U(rtt.floor_ms)},
    {"rtt-ceiling-ms", 1, 60000, NUM_U(rtt.ceiling_ms)},
    {"engine-sockets", 1, 1000000, NUM_U(engine_inflight)},
    {"probers", 0, POOL_MAX_PROBERS, NUM_U(probers)},
    {"prober-memory", 16, 65536, NUM_U(prober_memory_mib)},
    {"retention-days", 0, 36500, NUM_U(retention_days)},
    {"purge-interval", 1, 86400 * 7, NUM_U(purge_interval_s)},
    {"done-cache", 0, 10000000, NUM_U(done_cache)},
    {"ticket-ttl", 1, 120, NUM_U(ticket_ttl_s)},
};

#undef NUM_U
#undef NUM_D

#define N_NUMBERS (sizeof(numbers) / sizeof(numbers[0]))

static const struct option other_options[] = {
    {"listen", required_argument, NULL, O_LISTEN},
    {"store", required_argument, NULL, O_STORE},
    {"key", required_argument, NULL, O_KEY},
    {"probe-source-label", required_argument, NULL, O_LABEL},
    {"public", no_argument, NULL, O_PUBLIC},
    {"allow", required_argument, NULL, O_ALLOW},
    {"trusted-proxy", required_argument, NULL, O_TRUSTED},
    {"proxy-header", required_argument, NULL, O_PROXY_HDR},
    {"origin", required_argument, NULL, O_ORIGIN},
    {"v4-host", required_argument, NULL, O_V4_HOST},
    {"v6-host", required_argument, NULL, O_V6_HOST},
    {"secure-cookie", no_argument, NULL, O_SECURE},
    {"port", required_argument, NULL, O_PORT},
    {"profile", required_argument, NULL, O_PROFILE},
    {"checks", required_argument, NULL, O_CHECKS},
    {"iscsi-discovery", no_argument, NULL, O_ISCSI_DISCOVERY},
    {"admin-token-file", required_argument, NULL, O_ADMIN_TOKEN},
    {"labels", required_argument, NULL, O_LABELS},
    {"config", required_argument, NULL, O_CONFIG},
    {"help", no_argument, NULL, 'h'},
};

#define N_OTHERS (sizeof(other_options) / sizeof(other_options[0]))

/* getopt's table: the options above, then one per numbers[] entry, then the end. */
static void build_options(struct option out[N_OTHERS + N_NUMBERS + 1])
{
	memcpy(out, other_options, sizeof(other_options));
	for (size_t i = 0; i < N_NUMBERS; i++)
		out[N_OTHERS + i] =
		    (struct option){numbers[i].name, required_argument, NULL, O_NUMBER + (int)i};
	out[N_OTHERS + N_NUMBERS] = (struct option){0};
}

static int opt_number(struct web_config *c, const struct number_opt *o, const char *text, char *err,
                      size_t errlen)
{
	uint32_t v;
	int r = decimal_u32_in(text, o->min, o->max, &v);

	if (r < 0) {
		snprintf(err, errlen, "--%s wants a number in %u..%u, not \"%s\"", o->name, o->min,
		         o->max, text);
		return r;
	}
	if (o->real)
		*(double *)((char *)c + o->off) = v;
	else
		*(unsigned *)((char *)c + o->off) = v;
	return 0;
}

static int opt_cidr(const char *name, const char *text, struct cidr *out, char *err, size_t errlen)
{
	int r = cidr_parse(text, out);

	if (r < 0)
		snprintf(err, errlen, "--%s wants ADDR/PREFIX, not \"%s\"", name, text);
	return r;
}

static int opt_listen(struct web_config *c, const char *text, char *err, size_t errlen)
{
	if (c->n_listen >= WEB_MAX_LISTEN || strlen(text) >= sizeof(c->listen[0])) {
		snprintf(err, errlen, "too many or too long --listen");
		return -ERR_RANGE;
	}
	snprintf(c->listen[c->n_listen++], sizeof(c->listen[0]), "%s", text);
	return 0;
}

static int opt_allow(struct web_config *c, const char *text, char *err, size_t errlen)
{
	int r;

	if (c->rules.n_allow >= POLICY_MAX_ALLOW - 1) {
		snprintf(err, errlen, "too many --allow");
		return -ERR_RANGE;
	}
	if ((r = opt_cidr("allow", text, &c->rules.allow[c->rules.n_allow], err, errlen)) < 0)
		return r;
	c->rules.n_allow++;
	return 0;
}

static int opt_trusted(struct web_config *c, const char *text, char *err, size_t errlen)
{
	int r;

	if (c->trust.n >= WEB_MAX_TRUSTED) {
		snprintf(err, errlen, "too many --trusted-proxy");
		return -ERR_RANGE;
	}
	if ((r = opt_cidr("trusted-proxy", text, &c->trust.proxies[c->trust.n], err, errlen)) < 0)
		return r;
	c->trust.n++;
	return 0;
}

static int opt_proxy_header(struct web_config *c, const char *text, char *err, size_t errlen)
{
	if (strcasecmp(text, "x-forwarded-for") == 0) {
		c->trust.header = PROXY_HDR_XFF;
	} else if (strcasecmp(text, "forwarded") == 0) {
		c->trust.header = PROXY_HDR_FORWARDED;
	} else {
		snprintf(err, errlen, "--proxy-header is x-forwarded-for or forwarded");
		return -ERR_SYNTAX;
	}
	return 0;
}

/* The catalogue's message names --port and the text already. */
static int opt_port(struct web_config *c, const char *text, char *err, size_t errlen)
{
	int r = port_override_parse(&c->ports, text, err, errlen);

	if (r < 0)
		return r;
	c->ports_set = true;
	return 0;
}

static int serve_config_load(struct serve_config *cfg, const char *path, char *err, size_t errlen);

/*
 * --iscsi-discovery (a config line 'iscsi-discovery' alone): the iSCSI check opens a discovery
 * session (SendTargets=All) instead of only connecting, as exposure check --iscsi-discovery does.
 */
static int opt_iscsi_discovery(struct web_config *c, char *err, size_t errlen)
{
	size_t n, i = catalogue_rank("iscsi");

	catalogue_checks(&n);
	if (i >= n) {
		snprintf(err, errlen, "--iscsi-discovery: no iscsi check in this build");
		return -ERR_UNSUPPORTED;
	}
	c->opt_in |= 1u << i;
	return 0;
}

static int one_option(struct serve_config *cfg, int ch, char *arg, char *err, size_t errlen)
{
	struct web_config *c = &cfg->web;

	if (ch >= O_NUMBER && (size_t)(ch - O_NUMBER) < N_NUMBERS)
		return opt_number(c, &numbers[ch - O_NUMBER], arg, err, errlen);
	switch (ch) {
	case 'h':
		cfg->help = true;
		return 0;
	case O_LISTEN:
		return opt_listen(c, arg, err, errlen);
	case O_STORE:
		c->store_path = arg;
		return 0;
	case O_KEY:
		c->key_path = arg;
		return 0;
	case O_LABEL:
		c->probe_source = arg;
		return 0;
	case O_PUBLIC:
		c->rules.public_mode = true;
		return 0;
	case O_ALLOW:
		return opt_allow(c, arg, err, errlen);
	case O_TRUSTED:
		return opt_trusted(c, arg, err, errlen);
	case O_PROXY_HDR:
		return opt_proxy_header(c, arg, err, errlen);
	case O_ORIGIN:
		c->origin = arg;
		return 0;
	case O_V4_HOST:
		c->v4_host = arg;
		return 0;
	case O_V6_HOST:
		c->v6_host = arg;
		return 0;
	case O_SECURE:
		c->secure_cookie = true;
		return 0;
	case O_PORT:
		return opt_port(c, arg, err, errlen);
	case O_PROFILE: /* the catalogue's message names the option already */
		return catalogue_select(arg, NULL, &c->checks, err, errlen);
	case O_CHECKS:
		return catalogue_select(NULL, arg, &c->checks, err, errlen);
	case O_ISCSI_DISCOVERY:
		return opt_iscsi_discovery(c, err, errlen);
	case O_ADMIN_TOKEN:
		c->admin_token_file = arg;
		return 0;
	case O_LABELS:
		c->labels_path = arg;
		return 0;
	case O_CONFIG:
		return serve_config_load(cfg, arg, err, errlen);
	default:
		snprintf(err, errlen, "internal error: option %d", ch);
		return -ERR_INTERNAL;
	}
}

/* Keep a value read from a config file for as long as cfg lives. */
static char *config_keep(struct serve_config *cfg, const char *val)
{
	char **grown = realloc(cfg->owned, (cfg->n_owned + 1) * sizeof(*grown));
	char *copy;

	if (!grown)
		return NULL;
	cfg->owned = grown;
	if (!(copy = strdup(val)))
		return NULL;
	return cfg->owned[cfg->n_owned++] = copy;
}

/* A setting's NAME is the long option's: the same table, so every option has one. */
static const struct option *config_find(const struct option *opts, const char *name)
{
	for (; opts->name; opts++)
		if (strcmp(opts->name, name) == 0)
			return opts;
	return NULL;
}

/* What a serve config file's setting goes through: the config and serve's option table. */
struct serve_file {
	struct serve_config *cfg;
	const struct option *opts;
};

/*
 * One setting of a config file (the reader is cli.h's config_file_read): NAME is a long option
 * of serve, VALUE its argument. 'config' and 'help' are command-line words only: a file cannot
 * include another.
 */
static int serve_setting(void *ud, const char *key, char *val, const char *where, char *err,
                         size_t errlen)
{
	struct serve_file *sf = ud;
	const struct option *o = config_find(sf->opts, key);
	char line_err[SERVE_ERR_MAX / 2];
	char *kept;
	int r;

	if (!o || o->val == O_CONFIG || o->val == 'h') {
		snprintf(err, errlen, "%s: unknown setting '%s' (see exposure serve --help)", where,
		         key);
		return -ERR_SYNTAX;
	}
	if (o->has_arg == no_argument && *val != '\0') {
		snprintf(err, errlen, "%s: '%s' takes no value", where, key);
		return -ERR_SYNTAX;
	}
	if (o->has_arg != no_argument && *val == '\0') {
		snprintf(err, errlen, "%s: '%s' needs a value", where, key);
		return -ERR_SYNTAX;
	}
	if (!(kept = config_keep(sf->cfg, val))) {
		snprintf(err, errlen, "%s: out of memory", where);
		return -ENOMEM;
	}
	line_err[0] = '\0';
	if ((r = one_option(sf->cfg, o->val, kept, line_err, sizeof(line_err))) < 0)
		snprintf(err, errlen, "%s: %s", where, line_err);
	return r;
}

/* `--config FILE`, read as `exposure check --config` reads its own. */
static int serve_config_load(struct serve_config *cfg, const char *path, char *err, size_t errlen)
{
	struct option opts[N_OTHERS + N_NUMBERS + 1];
	struct serve_file sf = {.cfg = cfg, .opts = opts};

	build_options(opts);
	return config_file_load(path, serve_setting, &sf, err, errlen);
}

static void serve_config_free(struct serve_config *cfg)
{
	for (size_t i = 0; i < cfg->n_owned; i++)
		free(cfg->owned[i]);
	free(cfg->owned);
	cfg->owned = NULL;
	cfg->n_owned = 0;
}

/*
 * EXPOSURE_TEST_HOOKS=1 turns the probers' test hooks on (tests/attack/test_probers.py); a
 * build without them (every release: meson -Dtest_hooks=false) refuses to start.
 */
static int test_hooks_env(struct web_config *c, char *err, size_t errlen)
{
	const char *v = getenv("EXPOSURE_TEST_HOOKS");

	if (!v || strcmp(v, "1") != 0)
		return 0;
	if (!prober_test_hooks_built()) {
		snprintf(err, errlen, "EXPOSURE_TEST_HOOKS: this build has no test hooks");
		return -ERR_POLICY;
	}
	c->test_hooks = true;
	return 0;
}

/*
 * Parse the arguments of `exposure serve` (argv[0] is "serve") into cfg, defaults first, and
 * check the whole. Returns 0 (cfg->help set after --help: nothing else is checked then), or
 * -ERR_* with one line in err (no newline).
 */
static int serve_options_parse(int argc, char **argv, struct serve_config *cfg, char *err,
                               size_t errlen)
{
	struct option opts[N_OTHERS + N_NUMBERS + 1];
	int ch, r;

	*cfg = (struct serve_config){0};
	web_config_defaults(&cfg->web);
	build_options(opts);
	err[0] = '\0';
	/* optind = 0 re-initialises glibc's getopt, so this can run more than once. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == '?' || ch == ':')
			return cli_getopt_error(ch, argv, err, errlen);
		if ((r = one_option(cfg, ch, optarg, err, errlen)) < 0)
			return r;
	}
	if (cfg->help)
		return 0;
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
		return -ERR_SYNTAX;
	}
	if ((r = test_hooks_env(&cfg->web, err, errlen)) < 0)
		return r;
	return web_config_check(&cfg->web, err, errlen);
}

int cmd_serve(int argc, char **argv)
{
	struct serve_config cfg;
	char err[SERVE_ERR_MAX];
	int status;

	if (serve_options_parse(argc, argv, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "exposure serve: %s\n", err);
		status = 2;
	} else if (cfg.help) {
		fputs(usage, stdout);
		status = 0;
	} else {
		status = serve_run(&cfg.web);
	}
	serve_config_free(&cfg);
	return status;
}
