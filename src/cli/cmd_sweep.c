/* SPDX-License-Identifier: MIT */
/*
 * `exposure sweep`: stage 1, stateless SYN discovery over the operator's own blocks
 * (src/sweep/), pipelined into stage 2, the full diagnosis of every responder on the engine,
 * a bounded number of hosts at a time. See docs/sweep.md and docs/internals/SWEEP.md.
 * Exit status: 0 done, 2 usage or runtime error.
 */
#include "cli/cli.h"
#include "cli/sweep_worker.h"
#include "core/decimal.h"
#include "core/err.h"
#include "diagnosis/diagnosis.h"
#include "engine/engine.h"
#include "prober/pool.h"
#include "store/store.h"
#include "store/store_rows.h"
#include "sweep/space.h"
#include "sweep/sweep.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SWEEP_HOSTS_DEFAULT 32u /* hosts diagnosed at once in stage 2 */
#define SWEEP_HOSTS_MAX     1024u
#define SWEEP_WAIT_MAX_MS   60000u
#define SWEEP_MAX_EXCLUDE   16
#define SWEEP_MAX_KEPT      160 /* --port and this machine's own options, kept as given */

struct sweep_config {
	struct policy policy;
	struct port_overrides overrides;
	struct sweep_opts so;
	const char *excludes[SWEEP_MAX_EXCLUDE];
	size_t n_excludes;
	const char *ports; /* --ports LIST, or NULL: the catalogue's */
	const char *store; /* --store PATH: keep the sweep and its diagnoses */
	uint32_t checks;   /* --profile / --checks: the set diagnosed (0 = the profile 2017) */
	const char *diff;  /* --diff OLD (NEW is the one argument) */
	unsigned hosts;
	bool json, ports_only, help, seed_set, no_progress;
	bool no_sandbox; /* --no-sandbox: stage 2 in this process, not in a prober */
	char *const *targets;
	size_t n_targets;
	/* Across machines (issue 14 §3, sweep_worker.h): --define a sweep of --shards N in the
	 * store, or be a --worker; a worker's run of one shard stores --into-sweep ID and tells
	 * its counts on --counts-fd. */
	bool define, worker;
	bool own_given; /* one of the sweep's own options (a defined sweep has its own) */
	uint32_t shards, lease_ms;
	const char *sweep;                     /* --sweep ID: the worker's sweep (NULL: any) */
	const char *into;                      /* --into-sweep ID */
	int counts_fd;                         /* -1: none */
	const char *port_args[SWEEP_MAX_KEPT]; /* --port values, for the spec */
	size_t n_port_args;
	const char *local_args[SWEEP_MAX_KEPT]; /* this machine's options, for a worker's runs */
	size_t n_local_args;
};

enum {
	OPT_RATE = 256,
	OPT_RETRIES,
	OPT_SEED,
	OPT_SHARD,
	OPT_EXCLUDE,
	OPT_ALLOW,
	OPT_PORTS,
	OPT_PORT,
	OPT_SOURCE,
	OPT_WAIT,
	OPT_HOSTS,
	OPT_JSON,
	OPT_PORTS_ONLY,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_STORE,
	OPT_DIFF,
	OPT_PROFILE,
	OPT_CHECKS,
	OPT_NO_SANDBOX,
	OPT_DEFINE,
	OPT_SHARDS,
	OPT_WORKER,
	OPT_SWEEP,
	OPT_LEASE,
	OPT_INTO,
	OPT_COUNTS_FD,
	OPT_SEND_PATH,
	OPT_RECV_PATH,
	OPT_HELP,
};

static const struct option long_options[] = {
    {"rate", required_argument, NULL, OPT_RATE},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"seed", required_argument, NULL, OPT_SEED},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"allow", required_argument, NULL, OPT_ALLOW},
    {"ports", required_argument, NULL, OPT_PORTS},
    {"port", required_argument, NULL, OPT_PORT},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"wait", required_argument, NULL, OPT_WAIT},
    {"max-hosts", required_argument, NULL, OPT_HOSTS},
    {"json", no_argument, NULL, OPT_JSON},
    {"ports-only", no_argument, NULL, OPT_PORTS_ONLY},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"store", required_argument, NULL, OPT_STORE},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"checks", required_argument, NULL, OPT_CHECKS},
    {"diff", required_argument, NULL, OPT_DIFF},
    {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
    {"define", no_argument, NULL, OPT_DEFINE},
    {"shards", required_argument, NULL, OPT_SHARDS},
    {"worker", no_argument, NULL, OPT_WORKER},
    {"sweep", required_argument, NULL, OPT_SWEEP},
    {"lease", required_argument, NULL, OPT_LEASE},
    {"into-sweep", required_argument, NULL, OPT_INTO},
    {"counts-fd", required_argument, NULL, OPT_COUNTS_FD},
    {"send-path", required_argument, NULL, OPT_SEND_PATH},
    {"recv-path", required_argument, NULL, OPT_RECV_PATH},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
	fputs(
	    "Usage: exposure sweep [OPTIONS] TARGET...\n"
	    "       exposure sweep --store PATH --diff OLD NEW [--json]\n"
	    "       exposure sweep --store postgresql://... --define --shards N [OPTIONS] "
	    "TARGET...\n"
	    "       exposure sweep --store postgresql://... --worker [--sweep ID] [OPTIONS]\n"
	    "\n"
	    "Find every address of your own IPv4 blocks and IPv6 host lists that answers on the\n"
	    "checks' ports with a stateless SYN sweep, then diagnose each responder like\n"
	    "'exposure check'.\n"
	    "TARGET: an IPv4 CIDR block or address, an IPv6 address, or a file of them (one per\n"
	    "line, '#' comments). IPv6 is swept only from such a list, never a whole block.\n"
	    "Only loopback may be swept unless --allow covers every target address; multicast,\n"
	    "broadcast and reserved addresses never are. Needs CAP_NET_RAW (given up, with every\n"
	    "other privilege, once the sockets are open).\n"
	    "\n"
	    "Options:\n"
	    "  --allow CIDR        also allow this block (repeatable)\n"
	    "  --exclude FILE      never send to these blocks, IPv4 or IPv6 (zmap blocklist\n"
	    "                      format; repeatable)\n"
	    "  --rate PPS          SYNs per second, 1..10000000 (default 10000)\n"
	    "  --retries K         re-send unanswered probes K times, 0..10 (default 3)\n"
	    "  --seed S            the order's seed (shards of one sweep must share it)\n"
	    "  --shard I/N         send only shard I (0-based) of N\n"
	    "  --ports LIST        sweep these ports (e.g. 22,445,5900-5901) instead of the\n"
	    "                      catalogue's\n"
	    "  --port CHECK=PORT   probe CHECK on another port (as 'exposure check')\n"
	    "  --profile NAME      the checks swept and diagnosed: 2017 (default) or extended\n"
	    "  --checks a,b,c      only these checks (their TCP ports are swept)\n"
	    "  --source ADDR       send from ADDR (default: the route's source to the targets);\n"
	    "                      once per family\n"
	    "  --wait MS           wait for late replies after the last probe (default 1000)\n"
	    "  --max-hosts N       hosts diagnosed at once, 1..1024 (default 32)\n"
	    "  --send-path PATH    how SYNs leave: mmsg (default; sendmmsg on a raw socket,\n"
	    "                      routed by the kernel) or txring (a PACKET_TX_RING of Ethernet\n"
	    "                      frames to the targets' one gateway, bypassing the qdisc)\n"
	    "  --recv-path PATH    how replies come in: tpacket3 (default; a TPACKET_V3 ring)\n"
	    "                      or socket (recvmmsg); docs/internals/SWEEP.md compares them\n"
	    "  --ports-only        stage 1 only: print the open ports, diagnose nothing\n"
	    "  --json              one JSON line per finished host (per open port with\n"
	    "                      --ports-only)\n"
	    "  --store PATH        keep the sweep and one diagnosis per host in this store\n"
	    "                      ('exposure report --sweep ID' reads them)\n"
	    "  --diff OLD NEW      what changed between two stored sweeps: doors opened and\n"
	    "                      closed, findings appeared and fixed\n"
	    "  --define            with --store postgresql://... and --shards N: record the sweep\n"
	    "                      (targets, ports, checks, seed, rate...) in N shards for\n"
	    "                      workers on several machines; prints its id\n"
	    "  --shards N          shards of a defined sweep, 1..65536\n"
	    "  --worker            run shards of defined sweeps from the store until none is\n"
	    "                      left; this machine's --allow, --source, --max-hosts apply\n"
	    "  --sweep ID          with --worker: only this sweep's shards\n"
	    "  --lease MS          with --worker: a shard whose worker is silent this long is\n"
	    "                      run again elsewhere, 1000..600000 (default 30000)\n"
	    "  --progress          a live progress line on stderr (default when it is a terminal)\n"
	    "  --no-progress       no progress line\n"
	    "  --no-sandbox        diagnose in this process instead of a sandboxed prober\n"
	    "                      process (debugging only; docs/internals/PRIVSEP.md)\n"
	    "  --help              this text\n",
	    f);
}

static void fail(const char *what)
{
	fprintf(stderr, "exposure sweep: %s\n", what);
}

static int number(const char *name, const char *text, uint32_t min, uint32_t max, uint32_t *out,
                  char *err, size_t errlen)
{
	int r = decimal_u32_in(text, min, max, out);

	if (r < 0)
		snprintf(err, errlen, "--%s wants a number in %u..%u, not \"%s\"", name, min, max,
		         text);
	return r;
}

static int opt_shard(struct sweep_config *cfg, const char *text, char *err, size_t errlen)
{
	const char *slash = strchr(text, '/');
	uint64_t i, n;

	if (slash == NULL || decimal_span_u64(text, (size_t)(slash - text), UINT32_MAX, &i) < 0 ||
	    decimal_u64(slash + 1, 65536, &n) < 0 || n == 0 || i >= n) {
		snprintf(err, errlen, "--shard wants I/N with 0 <= I < N <= 65536, not \"%s\"",
		         text);
		return -ERR_SYNTAX;
	}
	cfg->so.shard = i;
	cfg->so.shards = n;
	return 0;
}

static int one_option(struct sweep_config *cfg, int c, const char *arg, char *err, size_t errlen)
{
	struct cidr block;
	struct addr a;
	uint32_t v;
	uint64_t v64;
	int r;

	switch (c) {
	case OPT_RATE:
		if ((r = number("rate", arg, 1, SWEEP_RATE_MAX, &v, err, errlen)) < 0)
			return r;
		cfg->so.rate = v;
		return 0;
	case OPT_RETRIES:
		if ((r = number("retries", arg, 0, SWEEP_RETRIES_MAX, &v, err, errlen)) < 0)
			return r;
		cfg->so.retries = v;
		return 0;
	case OPT_WAIT:
		if ((r = number("wait", arg, 0, SWEEP_WAIT_MAX_MS, &v, err, errlen)) < 0)
			return r;
		cfg->so.wait_ms = v;
		return 0;
	case OPT_HOSTS:
		if ((r = number("max-hosts", arg, 1, SWEEP_HOSTS_MAX, &v, err, errlen)) < 0)
			return r;
		cfg->hosts = v;
		return 0;
	case OPT_SEED:
		if (decimal_u64(arg, UINT64_MAX, &v64) < 0) {
			snprintf(err, errlen, "--seed wants a number, not \"%s\"", arg);
			return -ERR_SYNTAX;
		}
		cfg->so.seed = v64;
		cfg->seed_set = true;
		return 0;
	case OPT_SHARD:
		return opt_shard(cfg, arg, err, errlen);
	case OPT_EXCLUDE:
		if (cfg->n_excludes >= SWEEP_MAX_EXCLUDE) {
			snprintf(err, errlen, "at most %d --exclude files", SWEEP_MAX_EXCLUDE);
			return -ERR_RANGE;
		}
		cfg->excludes[cfg->n_excludes++] = arg;
		return 0;
	case OPT_ALLOW:
		if (cidr_parse(arg, &block) < 0) {
			snprintf(err, errlen, "--allow: \"%s\" is not a CIDR block", arg);
			return -ERR_SYNTAX;
		}
		if ((r = policy_allow(&cfg->policy, &block)) < 0)
			snprintf(err, errlen, "--allow: at most %d blocks", POLICY_MAX_ALLOW);
		return r;
	case OPT_PORTS:
		cfg->ports = arg;
		return 0;
	case OPT_PORT:
		return port_override_parse(&cfg->overrides, arg, err, errlen);
	case OPT_SOURCE:
		if (addr_parse(arg, &a) < 0) {
			snprintf(err, errlen, "--source: \"%s\" is not an address", arg);
			return -ERR_SYNTAX;
		}
		if (a.family == AF_INET6) {
			memcpy(cfg->so.source6, a.bytes, 16);
			return 0;
		}
		cfg->so.source = addr_v4_value(&a);
		return 0;
	case OPT_JSON:
		cfg->json = true;
		return 0;
	case OPT_PORTS_ONLY:
		cfg->ports_only = true;
		return 0;
	case OPT_PROGRESS:
		cfg->so.progress = true;
		cfg->no_progress = false;
		return 0;
	case OPT_NO_PROGRESS:
		cfg->no_progress = true;
		cfg->so.progress = false;
		return 0;
	case OPT_STORE:
		cfg->store = arg;
		return 0;
	case OPT_PROFILE:
	case OPT_CHECKS:
		return catalogue_select(c == OPT_PROFILE ? arg : NULL, c == OPT_CHECKS ? arg : NULL,
		                        &cfg->checks, err, errlen);
	case OPT_DIFF:
		cfg->diff = arg;
		return 0;
	case OPT_NO_SANDBOX:
		cfg->no_sandbox = true;
		return 0;
	case OPT_DEFINE:
		cfg->define = true;
		return 0;
	case OPT_SHARDS:
		return number("shards", arg, 1, STORE_SHARDS_MAX, &cfg->shards, err, errlen);
	case OPT_WORKER:
		cfg->worker = true;
		return 0;
	case OPT_LEASE:
		return number("lease", arg, SWEEP_WORKER_LEASE_MIN_MS, SWEEP_WORKER_LEASE_MAX_MS,
		              &cfg->lease_ms, err, errlen);
	case OPT_SWEEP:
	case OPT_INTO:
		if (!store_id_valid(arg)) {
			snprintf(err, errlen,
			         "--%s wants a sweep id (32 hex digits), not \"%.40s\"",
			         c == OPT_SWEEP ? "sweep" : "into-sweep", arg);
			return -ERR_SYNTAX;
		}
		*(c == OPT_SWEEP ? &cfg->sweep : &cfg->into) = arg;
		return 0;
	case OPT_COUNTS_FD:
		if ((r = number("counts-fd", arg, 3, 65535, &v, err, errlen)) < 0)
			return r;
		cfg->counts_fd = (int)v;
		return 0;
	case OPT_SEND_PATH:
		if (sweep_send_path_parse(arg, &cfg->so.send_path) < 0) {
			snprintf(err, errlen, "--send-path wants mmsg or txring, not \"%s\"", arg);
			return -ERR_SYNTAX;
		}
		return 0;
	case OPT_RECV_PATH:
		if (sweep_recv_path_parse(arg, &cfg->so.recv_path) < 0) {
			snprintf(err, errlen, "--recv-path wants socket or tpacket3, not \"%s\"",
			         arg);
			return -ERR_SYNTAX;
		}
		return 0;
	case OPT_HELP:
		cfg->help = true;
		return 0;
	}
	return -ERR_INTERNAL;
}

/* The modes across machines and what each needs (sweep_worker.h). */
static int modes_check(const struct sweep_config *cfg, char *err, size_t errlen)
{
	const char *e = NULL;

	if (cfg->worker && (cfg->define || cfg->diff || cfg->into || cfg->ports_only))
		e = "--worker runs the shards of defined sweeps: no --define, --diff, --ports-only";
	else if (cfg->worker && cfg->own_given)
		e = "--worker runs each sweep with the options it was defined with: no --rate, "
		    "--ports, --checks, --seed...";
	else if (cfg->worker && (!cfg->store || cfg->n_targets))
		e = "--worker wants --store postgresql://... and no targets (the sweep's are in "
		    "the store)";
	else if (cfg->define && (!cfg->store || !cfg->shards))
		e = "--define wants --store postgresql://... and --shards N";
	else if (cfg->define && (cfg->diff || cfg->into || cfg->ports_only || cfg->so.shards > 1))
		e = "--define records a whole sweep: no --diff, --ports-only, --shard";
	else if (cfg->shards && !cfg->define)
		e = "--shards N goes with --define (one machine: --shard I/N)";
	else if ((cfg->sweep || cfg->lease_ms != SWEEP_WORKER_LEASE_DEFAULT_MS) && !cfg->worker)
		e = "--sweep and --lease go with --worker";
	else if (cfg->into && (!cfg->store || cfg->ports_only))
		e = "--into-sweep wants --store";
	if (e)
		snprintf(err, errlen, "%s", e);
	return e ? -ERR_SYNTAX : 0;
}

int sweep_options_parse(int argc, char **argv, struct sweep_config *cfg, char *err, size_t errlen);
/* This machine's own options, which a worker passes to the run of each shard: the policy
 * (--allow) stays each machine's; NULL for the sweep's own options. */
static const char *local_option(int c)
{
	switch (c) {
	case OPT_ALLOW:
		return "--allow";
	case OPT_SOURCE:
		return "--source";
	case OPT_HOSTS:
		return "--max-hosts";
	case OPT_NO_SANDBOX:
		return "--no-sandbox";
	case OPT_JSON:
		return "--json";
	case OPT_PROGRESS:
		return "--progress";
	case OPT_NO_PROGRESS:
		return "--no-progress";
	}
	return NULL;
}

/* Keep --port values (a defined sweep's spec) and this machine's options (a worker's runs). */
static int keep_option(struct sweep_config *cfg, int c, const char *arg, char *err, size_t errlen)
{
	const char *name = local_option(c);

	if (c == OPT_RATE || c == OPT_RETRIES || c == OPT_SEED || c == OPT_SHARD ||
	    c == OPT_EXCLUDE || c == OPT_PORTS || c == OPT_PORT || c == OPT_WAIT ||
	    c == OPT_PROFILE || c == OPT_CHECKS)
		cfg->own_given = true;
	if (c == OPT_PORT && cfg->n_port_args < SWEEP_MAX_KEPT) {
		cfg->port_args[cfg->n_port_args++] = arg;
		return 0;
	}
	if (c != OPT_PORT && !name)
		return 0;
	if (c == OPT_PORT || cfg->n_local_args + 2 > SWEEP_MAX_KEPT) {
		snprintf(err, errlen, "too many options");
		return -ERR_RANGE;
	}
	cfg->local_args[cfg->n_local_args++] = name;
	if (arg)
		cfg->local_args[cfg->n_local_args++] = arg;
	return 0;
}

int sweep_options_parse(int argc, char **argv, struct sweep_config *cfg, char *err, size_t errlen)
{
	int c, r;

	memset(cfg, 0, sizeof(*cfg));
	policy_init(&cfg->policy);
	sweep_opts_default(&cfg->so);
	cfg->hosts = SWEEP_HOSTS_DEFAULT;
	cfg->so.progress = isatty(STDERR_FILENO);
	cfg->lease_ms = SWEEP_WORKER_LEASE_DEFAULT_MS;
	cfg->counts_fd = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cli_getopt_error(c, argv, err, errlen);
		if ((r = one_option(cfg, c, optarg, err, errlen)) < 0 ||
		    (r = keep_option(cfg, c, optarg, err, errlen)) < 0)
			return r;
		if (cfg->help)
			return 0;
	}
	cfg->targets = argv + optind;
	cfg->n_targets = (size_t)(argc - optind);
	if ((r = modes_check(cfg, err, errlen)) < 0)
		return r;
	if (cfg->worker)
		return 0;
	if (cfg->diff) {
		if (cfg->n_targets != 1 || cfg->store == NULL) {
			snprintf(err, errlen, "--diff OLD NEW wants --store and two sweep ids");
			return -ERR_SYNTAX;
		}
		return 0;
	}
	if (cfg->n_targets == 0) {
		snprintf(err, errlen,
		         "no targets: name the blocks to sweep (nothing is swept by "
		         "default)");
		return -ERR_SYNTAX;
	}
	if (cfg->so.shards > 1 && !cfg->seed_set) {
		snprintf(err, errlen,
		         "--shard needs --seed (every shard must walk the same order)");
		return -ERR_SYNTAX;
	}
	if (!cfg->seed_set)
		randombytes_buf(&cfg->so.seed, sizeof(cfg->so.seed));
	return 0;
}

/* "22,445,5900-5901" into the space. */
static int parse_ports(struct space *sp, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");
		const char *dash = memchr(p, '-', len);
		uint64_t first, last;

		if (dash == NULL ? decimal_span_u64(p, len, 65535, &first) < 0
		                 : decimal_span_u64(p, (size_t)(dash - p), 65535, &first) < 0 ||
		                       decimal_span_u64(dash + 1, len - (size_t)(dash - p) - 1,
		                                        65535, &last) < 0)
			goto bad;
		if (dash == NULL)
			last = first;
		if (first == 0 || last < first)
			goto bad;
		for (uint64_t port = first; port <= last; port++)
			if (space_add_port(sp, (uint16_t)port) < 0) {
				snprintf(err, errlen, "--ports: at most %u ports", SPACE_MAX_PORTS);
				return -ERR_RANGE;
			}
		p += len;
		if (*p == ',')
			p++;
	}
	if (sp->n_ports)
		return 0;
bad:
	snprintf(err, errlen, "--ports wants ports or ranges like 22,445,5900-5901, not \"%s\"",
	         list);
	return -ERR_SYNTAX;
}

static int catalogue_space_ports(struct space *sp, const struct port_overrides *o, uint32_t checks)
{
	size_t n;

	const struct check_def *c = catalogue_checks(&n);

	/* The checks its diagnoses run (--profile/--checks, default the profile 2017), and the SYN
	 * sweep finds TCP ports only. */
	if (checks == 0)
		checks = catalogue_profile_2017();
	for (size_t i = 0; i < n; i++) {
		struct check_ports cp = catalogue_ports(o, i);

		if (!checks_has(checks, i) || c[i].transport != TRANSPORT_TCP)
			continue;
		for (size_t k = 0; k < check_ports_count(cp); k++)
			if (space_add_port(sp, check_ports_nth(cp, k)) < 0)
				return -ERR_RANGE;
	}
	return 0;
}

static int build_space(struct sweep_config *cfg, struct space *sp, char *err, size_t errlen)
{
	int r;

	for (size_t i = 0; i < cfg->n_targets; i++)
		if ((r = space_add_target(sp, cfg->targets[i], err, errlen)) < 0)
			return r;
	for (size_t i = 0; i < cfg->n_excludes; i++)
		if ((r = space_add_exclude_file(sp, cfg->excludes[i], err, errlen)) < 0)
			return r;
	if (cfg->ports)
		r = parse_ports(sp, cfg->ports, err, errlen);
	else if ((r = catalogue_space_ports(sp, &cfg->overrides, cfg->checks)) < 0)
		snprintf(err, errlen, "too many ports in the catalogue");
	if (r < 0)
		return r;
	/* The policy, for every address, before any socket is opened. */
	return space_finish(sp, &cfg->policy, err, errlen);
}

/* ------------------------------------------------------------------------------------------ */
/* Stage 2: the receiver thread hands open ports over; the loop diagnoses their hosts.        */

struct found {
	uint64_t index; /* of the address in the space (space_addr_get) */
	uint16_t port;
};

/* What stage 2 knows of an address (run.seen, one byte per address index). */
enum host_seen {
	HOST_NEW = 0, /* not found yet */
	HOST_TAKEN,   /* found: diagnosed by this run (started once) */
	HOST_STORED,  /* a shard's run: the sweep had it stored done before this run began */
	HOST_SKIPPED, /* ... and this run found it too: counted, not diagnosed again */
};

struct run {
	const struct sweep_config *cfg;
	const struct space *sp;
	uv_loop_t loop;
	uv_async_t async;
	struct engine *engine;
	struct pool *pool; /* the prober that probes and parses; NULL with --no-sandbox */
	struct diag_options dopts;
	pthread_mutex_t lock;
	struct found *queue; /* under lock */
	size_t qhead, qn, qcap;
	bool stage1_done; /* under lock */
	bool nomem;       /* under lock */
	uint8_t *seen;    /* per address index: enum host_seen (loop thread only) */
	size_t active;
	uint64_t hosts_done;
	uint64_t hosts_skipped; /* found, and already stored in the sweep (HOST_SKIPPED) */
	bool failed;
	struct store *store; /* NULL without --store */
	char sweep_id[STORE_ID_LEN + 1];
};

static void on_found(void *ud, uint64_t index, uint16_t port)
{
	struct run *run = ud;

	pthread_mutex_lock(&run->lock);
	if (run->qn == run->qcap) {
		size_t cap = run->qcap ? run->qcap * 2 : 1024;
		struct found *q = realloc(run->queue, cap * sizeof(*q));

		if (q == NULL) {
			run->nomem = true;
			pthread_mutex_unlock(&run->lock);
			return;
		}
		run->queue = q;
		run->qcap = cap;
	}
	run->queue[run->qn++] = (struct found){index, port};
	pthread_mutex_unlock(&run->lock);
	uv_async_send(&run->async);
}

static void on_stage1_done(void *ud)
{
	struct run *run = ud;

	pthread_mutex_lock(&run->lock);
	run->stage1_done = true;
	pthread_mutex_unlock(&run->lock);
	uv_async_send(&run->async);
}

static void print_port(struct run *run, const struct found *f)
{
	struct addr a;
	char buf[ADDR_STRLEN];

	space_addr_get(run->sp, f->index, &a);
	addr_format(&a, buf, sizeof(buf));
	if (run->cfg->json)
		printf("{\"address\":\"%s\",\"port\":%u,\"state\":\"open\"}\n", buf, f->port);
	else
		printf("%s %u open\n", buf, f->port);
	fflush(stdout);
}

/*
 * Keep one host's diagnosis: a row naming the sweep and the address (the operator's own host;
 * its "requester hash" an unkeyed hash of the address, which is stored anyway), then the
 * result, both through the store's queue. text: the document.
 */
static int store_host(struct run *run, const struct diagnosis *d, const char *text)
{
	size_t n = diagnosis_checks(d), np = 0, nf = 0, nc = 0, ns = 0;
	char id[STORE_ID_LEN + 1], token[STORE_TOKEN_LEN + 1], hash[STORE_HASH_HEX];
	char addr[ADDR_STRLEN], prefix[STORE_PREFIX_MAX];
	uint8_t th[STORE_HASH_BYTES], ah[STORE_HASH_BYTES];
	struct store_check_row *rows = NULL;
	struct store_finding_row *frows = NULL;
	struct store_check_state *states = NULL;
	const struct timespec *t0 = diagnosis_started(d);
	int r = -ENOMEM;

	addr_format(diagnosis_addr(d), addr, sizeof(addr));
	store_random_id(id);
	store_random_token(token);
	store_token_hash(token, th);
	store_token_hash(addr, ah);
	sodium_bin2hex(hash, sizeof(hash), ah, sizeof(ah));
	if ((r = store_prefix(diagnosis_addr(d), prefix, sizeof(prefix))) < 0)
		return r;
	r = store_create_async(run->store,
	                       &(struct store_new){
	                           .id = id,
	                           .token_hash = th,
	                           .requester_hash = hash,
	                           .prefix = prefix,
	                           .family = diagnosis_addr(d)->family,
	                           .lang = "en",
	                           .created_ms = (int64_t)t0->tv_sec * 1000 + t0->tv_nsec / 1000000,
	                           .sweep = run->sweep_id,
	                           .address = addr,
	                       });
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		np += diagnosis_check_ports(d, i);
		nf += diagnosis_check_findings(d, i);
	}
	rows = calloc(np ? np : 1, sizeof(*rows));
	frows = calloc(nf ? nf : 1, sizeof(*frows));
	states = calloc(n ? n : 1, sizeof(*states));
	r = -ENOMEM;
	if (!rows || !frows || !states)
		goto out;
	nf = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = diagnosis_check_def(d, i)->name;

		nc += store_port_rows(d, i, rows + nc);
		states[ns++] = (struct store_check_state){
		    .check = name, .state = port_state_name(diagnosis_check_state(d, i))};
		for (size_t k = 0; k < diagnosis_check_findings(d, i); k++) {
			const struct finding *f = diagnosis_finding(d, i, k);

			frows[nf++] = (struct store_finding_row){.check = name,
			                                         .id = f->id,
			                                         .severity = f->severity,
			                                         .confidence = f->confidence};
		}
	}
	r = store_save_result(run->store, &(struct store_result){
	                                      .id = id,
	                                      .finished_ms = store_now_ms(),
	                                      .risk = risk_name(diagnosis_risk(d)),
	                                      .json = text,
	                                      .checks = rows,
	                                      .n_checks = nc,
	                                      .findings = frows,
	                                      .n_findings = nf,
	                                      .states = states,
	                                      .n_states = ns,
	                                      .families = diagnosis_addr(d)->family == AF_INET6
	                                                      ? STORE_FAMILY_V6
	                                                      : STORE_FAMILY_V4,
	                                  });
out:
	free(rows);
	free(frows);
	free(states);
	return r;
}

static void print_host(struct run *run, struct diagnosis *d)
{
	char buf[ADDR_STRLEN];
	size_t n = diagnosis_checks(d);
	json_t *doc = NULL;
	char *text = NULL;
	int r;

	if (run->cfg->json || run->store) {
		if ((doc = diagnosis_json(d)) == NULL) {
			run->failed = true;
			return;
		}
		if (run->store)
			json_object_set_new(doc, "sweep", json_string(run->sweep_id));
		text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12));
		json_decref(doc);
		if (text == NULL) {
			run->failed = true;
			return;
		}
		if (run->store && (r = store_host(run, d, text)) < 0) {
			fprintf(stderr, "exposure sweep: cannot store a host: %s\n", err_str(r));
			run->failed = true;
		}
	}
	if (run->cfg->json) {
		fputs(text, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		free(text);
		return;
	}
	free(text);
	addr_format(diagnosis_addr(d), buf, sizeof(buf));
	printf("%s risk %s open", buf, risk_name(diagnosis_risk(d)));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < diagnosis_check_ports(d, i); k++) {
			const struct port_result *pr = diagnosis_port_result(d, i, k);

			if (pr && pr->state == PORT_OPEN)
				printf(" %s/%u", diagnosis_check_def(d, i)->name,
				       diagnosis_port(d, i, k));
		}
	fputs(" findings", stdout);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < diagnosis_check_findings(d, i); k++)
			printf(" %s", diagnosis_finding(d, i, k)->id);
	fputc('\n', stdout);
	fflush(stdout);
}

static void start_more(struct run *run);

static void on_host_done(void *ud, struct diagnosis *d)
{
	struct run *run = ud;

	print_host(run, d);
	if (diagnosis_has_error(d))
		run->failed = true;
	diagnosis_free(d);
	run->active--;
	run->hosts_done++;
	start_more(run);
}

/* Close what keeps the loop running (the prober goes, its jobs all done), so that it ends. */
static void stop_loop(struct run *run)
{
	if (!uv_is_closing((uv_handle_t *)&run->async))
		uv_close((uv_handle_t *)&run->async, NULL);
	if (run->pool)
		pool_close(run->pool);
}

/* Take what the receiver found; start diagnoses up to the window; end when all is done. */
static void start_more(struct run *run)
{
	char name[ADDR_STRLEN];
	bool done;
	int err;

	pthread_mutex_lock(&run->lock);
	while (run->qhead < run->qn && (run->cfg->ports_only || run->active < run->cfg->hosts)) {
		struct found f = run->queue[run->qhead++];
		struct addr a;
		uint64_t ai = f.index;

		pthread_mutex_unlock(&run->lock);
		space_addr_get(run->sp, ai, &a);
		if (run->cfg->ports_only) {
			print_port(run, &f);
		} else if (run->seen[ai] == HOST_STORED) {
			run->seen[ai] = HOST_SKIPPED;
			run->hosts_skipped++;
		} else if (run->seen[ai] == HOST_NEW) {
			run->seen[ai] = HOST_TAKEN;
			addr_format(&a, name, sizeof(name));
			if (diagnosis_start(run->engine, name, &a, &run->dopts, NULL, on_host_done,
			                    run, &err) == NULL) {
				fprintf(stderr, "exposure sweep: cannot diagnose %s: %s\n", name,
				        err_str(err));
				run->failed = true;
			} else {
				run->active++;
			}
		}
		pthread_mutex_lock(&run->lock);
	}
	if (run->qhead == run->qn)
		run->qhead = run->qn = 0;
	if (run->nomem)
		run->failed = true;
	done = run->stage1_done && run->qn == 0 && run->active == 0;
	pthread_mutex_unlock(&run->lock);
	if (done)
		stop_loop(run);
}

static void on_async(uv_async_t *h)
{
	start_more(h->data);
}

/* "22,445,5900-5901" back from the space, for the sweep's row. */
static void ports_text(const struct space *sp, char *buf, size_t n)
{
	struct sbuf b;

	sbuf_init(&b, n - 1);
	for (size_t i = 0; i < sp->n_ports; i++)
		sbuf_addf(&b, "%s%u", i ? "," : "", sp->ports[i]);
	snprintf(buf, n, "%s", b.err ? "?" : sbuf_str(&b));
	sbuf_free(&b);
}

/* The sweep's row as it starts: now, the target arguments, the ports swept (id: the caller's). */
static void sweep_row(const struct sweep_config *cfg, const struct space *sp,
                      struct store_sweep *sw)
{
	struct sbuf t;

	sw->started_ms = store_now_ms();
	sbuf_init(&t, sizeof(sw->targets) - 1);
	for (size_t i = 0; i < cfg->n_targets; i++)
		sbuf_addf(&t, "%s%s", i ? " " : "", cfg->targets[i]);
	snprintf(sw->targets, sizeof(sw->targets), "%s", t.err ? "(too long)" : sbuf_str(&t));
	sbuf_free(&t);
	ports_text(sp, sw->ports, sizeof(sw->ports));
}

/*
 * A shard's run: a host the sweep has stored done already (diagnosed by an earlier run of this
 * shard whose worker died or failed, or by another shard that found it on another port) is
 * not diagnosed again. Read once, before the first packet, into run.seen: one query per run,
 * not a round trip on the loop per host found (docs/sweep.md "Across machines").
 */
static int stored_host(void *ud, const struct store_iter_row *row)
{
	struct run *run = ud;
	struct addr a;
	int64_t i;

	if (row->address == NULL || addr_parse(row->address, &a) < 0)
		return 0; /* not a sweep's host: cannot happen with p.sweep set */
	i = a.family == AF_INET6 ? space_index6(run->sp, a.bytes)
	                         : space_index(run->sp, addr_v4_value(&a));
	if (i >= 0)
		run->seen[i] = HOST_STORED;
	return 0;
}

/* --store: open it and record the sweep's start (before any packet). */
static int open_store(struct run *run, const struct space *sp)
{
	const struct sweep_config *cfg = run->cfg;
	char serr[256] = "";
	struct store_opts so = {.flags = STORE_QUEUE_BLOCK, .errbuf = serr, .errlen = sizeof(serr)};
	struct store_sweep *sw = calloc(1, sizeof(*sw));
	int r = -ENOMEM;

	if (sw == NULL)
		goto out;
	if ((r = store_open(cfg->store, &so, &run->store)) < 0) {
		fprintf(stderr, "exposure sweep: cannot open store %s: %s\n", cfg->store,
		        serr[0] ? serr : err_str(r));
		goto out;
	}
	if (cfg->into) { /* one shard of a defined sweep: its row is there already */
		snprintf(run->sweep_id, sizeof(run->sweep_id), "%s", cfg->into);
		if ((r = store_sweep_get(run->store, cfg->into, sw)) < 0)
			fprintf(stderr, "exposure sweep: sweep %s: %s\n", cfg->into,
			        r == -ENOENT ? "not in the store" : err_str(r));
		else if ((r = store_iter_results(run->store,
		                                 &(struct store_period){.sweep = cfg->into},
		                                 stored_host, run)) < 0)
			fprintf(stderr, "exposure sweep: cannot read the sweep's hosts: %s\n",
			        err_str(r));
		r = r < 0 ? r : 0;
		goto out;
	}
	store_random_id(run->sweep_id);
	snprintf(sw->id, sizeof(sw->id), "%s", run->sweep_id);
	sweep_row(cfg, sp, sw);
	if ((r = store_sweep_begin(run->store, sw)) < 0) {
		fprintf(stderr, "exposure sweep: cannot record the sweep: %s\n", err_str(r));
		goto out;
	}
	fprintf(stderr, "exposure sweep: sweep %s\n", run->sweep_id);
out:
	free(sw);
	return r;
}

static int end_store(struct run *run, const struct sweep *s)
{
	struct store_sweep *sw = calloc(1, sizeof(*sw));
	struct sweep_stats st;
	int r = -ENOMEM;

	if (sw == NULL)
		return r;
	sweep_get_stats(s, &st);
	snprintf(sw->id, sizeof(sw->id), "%s", run->sweep_id);
	sw->finished_ms = store_now_ms();
	sw->sent = (int64_t)st.sent;
	sw->open_ports = (int64_t)st.open;
	sw->hosts = (int64_t)(run->hosts_done + run->hosts_skipped);
	/* A shard's run: every host flushed, then the counts to the worker, which ends the
	 * shard (sweep_worker.c); the sweep's row ends with its last shard. Its hosts are the
	 * ones it found, those already stored included, as a run that was never interrupted. */
	if (run->cfg->into)
		r = store_flush(run->store);
	else if ((r = store_sweep_end(run->store, sw)) == 0)
		r = store_flush(run->store);
	if (r == 0 && run->cfg->counts_fd >= 0 &&
	    dprintf(run->cfg->counts_fd, "%llu %llu %lld\n", (unsigned long long)st.sent,
	            (unsigned long long)st.open, (long long)sw->hosts) < 0)
		r = -errno;
	if (r < 0)
		fprintf(stderr, "exposure sweep: cannot store the sweep: %s\n", err_str(r));
	free(sw);
	return r;
}

static struct sweep *the_sweep; /* for the signal handler */

static void on_signal(int sig)
{
	(void)sig;
	if (the_sweep)
		sweep_stop(the_sweep);
}

static void summary(const struct sweep *s, const struct sweep_opts *o)
{
	struct sweep_stats st;

	sweep_get_stats(s, &st);
	fprintf(stderr,
	        "exposure sweep: first pass %llu in %.3f s (%.0f/s), sent %llu in %.2f s, "
	        "replies %llu, validated %llu, invalid %llu, open %llu, closed %llu, "
	        "dropped %llu\n",
	        (unsigned long long)st.first_sent, st.first_s,
	        st.first_s > 0 ? (double)st.first_sent / st.first_s : 0.0,
	        (unsigned long long)st.sent, st.elapsed_s, (unsigned long long)st.replies,
	        (unsigned long long)st.validated, (unsigned long long)st.invalid,
	        (unsigned long long)st.open, (unsigned long long)st.closed,
	        (unsigned long long)st.drops);
	fprintf(stderr, "exposure sweep: send path %s, receive path %s, not handed over %llu\n",
	        sweep_send_path_name(o->send_path), sweep_recv_path_name(o->recv_path),
	        (unsigned long long)st.tx_lost);
}

static int run_sweep(struct sweep_config *cfg, struct space *sp)
{
	struct run run = {.cfg = cfg, .sp = sp};
	struct engine_opts eo;
	struct sweep *s = NULL;
	char err[CLI_ERR_MAX];
	int r, status = 2;

	pthread_mutex_init(&run.lock, NULL);
	run.dopts = (struct diag_options){.ports = &cfg->overrides, .checks = cfg->checks};
	if ((run.seen = calloc(sp->n_addrs, 1)) == NULL) {
		fail("out of memory");
		goto out;
	}
	if ((r = uv_loop_init(&run.loop)) < 0) {
		fail(uv_strerror(r));
		goto out;
	}
	engine_opts_default(&eo);
	if ((run.engine = engine_new(&run.loop, &eo)) == NULL ||
	    uv_async_init(&run.loop, &run.async, on_async) < 0) {
		fail("cannot start the probe engine");
		goto out_loop;
	}
	run.async.data = &run;
	/*
	 * The prober first (docs/internals/SWEEP.md, "Privileges"): it is exec'd while this process
	 * still has the privileges its sandbox is built with (a mount namespace, chroot, the user
	 * exposure or nobody) and before the raw sockets exist, so it never holds one. After the
	 * drop below no new prober could be sandboxed: a lost one is not replaced.
	 */
	if (!cfg->ports_only && !cfg->no_sandbox &&
	    cli_prober_start(&run.loop, run.engine, &eo, 1, &run.dopts, false, &run.pool, err,
	                     sizeof(err)) < 0) {
		fail(err);
		goto out_stop;
	}
	/* Capabilities are per thread: they go before any thread exists (the store's writer
	 * included), so no thread of this process ever holds one after the sockets are open. */
	if (sweep_open(&s, sp, &cfg->so, on_found, &run, err, sizeof(err)) < 0 ||
	    sweep_drop_privileges(err, sizeof(err)) < 0) {
		fail(err);
		goto out_stop;
	}
	if (cfg->store && open_store(&run, sp) < 0)
		goto out_stop;
	the_sweep = s;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((r = sweep_start(s, on_stage1_done)) < 0) {
		fail(strerror(-r));
		goto out_stop;
	}
	uv_run(&run.loop, UV_RUN_DEFAULT);
	summary(s, &cfg->so);
	if (cfg->into)
		fprintf(stderr,
		        "exposure sweep: shard %llu/%llu: %llu hosts, %llu diagnosed, %llu already "
		        "in the sweep\n",
		        (unsigned long long)cfg->so.shard, (unsigned long long)cfg->so.shards,
		        (unsigned long long)(run.hosts_done + run.hosts_skipped),
		        (unsigned long long)run.hosts_done, (unsigned long long)run.hosts_skipped);
	if (run.store && end_store(&run, s) < 0)
		run.failed = true;
	status = run.failed ? 2 : 0;
	goto out_loop;
out_stop:
	stop_loop(&run);
	uv_run(&run.loop, UV_RUN_DEFAULT);
out_loop:
	sweep_close(s);
	the_sweep = NULL;
	engine_free(run.engine);
	if (run.pool)
		pool_close(run.pool); /* a no-op when the loop ended as it should */
	uv_run(&run.loop, UV_RUN_DEFAULT);
	pool_free(run.pool);
	uv_loop_close(&run.loop);
	store_close(run.store);
out:
	free(run.queue);
	free(run.seen);
	pthread_mutex_destroy(&run.lock);
	return status;
}

/* ------------------------------------------------------------------------------------------ */
/* --define: a sweep for workers on several machines (sweep_worker.h).                        */

/* Arguments with their values formatted into one buffer: args point into it. */
struct spec_out {
	const char **args;
	size_t n;
	char *buf;
	size_t off, size;
};

static void spec_arg(struct spec_out *o, const char *name, unsigned long long v)
{
	o->args[o->n++] = name;
	o->args[o->n++] = o->buf + o->off;
	o->off += (size_t)snprintf(o->buf + o->off, o->size - o->off, "%llu", v) + 1;
}

/* The sweep's own options as arguments, every value explicit (the seed drawn here if none). */
static int spec_args(const struct sweep_config *cfg, const struct space *sp, struct spec_out *o)
{
	size_t nc;
	const struct check_def *c = catalogue_checks(&nc);
	struct sbuf names;
	int r = 0;

	spec_arg(o, "--seed", (unsigned long long)cfg->so.seed);
	spec_arg(o, "--rate", cfg->so.rate);
	spec_arg(o, "--retries", cfg->so.retries);
	spec_arg(o, "--wait", cfg->so.wait_ms);
	o->args[o->n++] = "--ports";
	o->args[o->n++] = o->buf + o->off;
	ports_text(sp, o->buf + o->off, o->size - o->off);
	o->off += strlen(o->buf + o->off) + 1;
	if (cfg->checks) {
		sbuf_init(&names, o->size - o->off - 1);
		for (size_t i = 0; i < nc; i++)
			if (checks_has(cfg->checks, i))
				sbuf_addf(&names, "%s%s", names.len ? "," : "", c[i].name);
		if (names.err)
			r = -ERR_RANGE;
		else
			snprintf(o->buf + o->off, o->size - o->off, "%s", sbuf_str(&names));
		sbuf_free(&names);
		o->args[o->n++] = "--checks";
		o->args[o->n++] = o->buf + o->off;
	}
	for (size_t i = 0; i < cfg->n_port_args; i++) {
		o->args[o->n++] = "--port";
		o->args[o->n++] = cfg->port_args[i];
	}
	return r;
}

static int run_define(const struct sweep_config *cfg, const struct space *sp)
{
	enum { ARGS_MAX = 16 + 2 * SWEEP_MAX_KEPT, BUF = 3 * STORE_SWEEP_TEXT_MAX };
	char serr[256] = "", err[CLI_ERR_MAX];
	struct store_opts so = {.flags = STORE_QUEUE_BLOCK, .errbuf = serr, .errlen = sizeof(serr)};
	struct store_sweep *sw = calloc(1, sizeof(*sw));
	const char **args = calloc(ARGS_MAX, sizeof(*args));
	char *buf = calloc(1, BUF), *spec = NULL;
	struct store *st = NULL;
	struct spec_out o = {.args = args, .buf = buf, .size = BUF};
	int r, status = 2;

	if (!sw || !args || !buf) {
		fail("out of memory");
		goto out;
	}
	if (spec_args(cfg, sp, &o) < 0) {
		fail("too many checks for a sweep's definition");
		goto out;
	}
	if (!(spec = sweep_spec_make(args, o.n, cfg->targets, cfg->n_targets, cfg->excludes,
	                             cfg->n_excludes, err, sizeof(err)))) {
		fail(err);
		goto out;
	}
	if ((r = store_open(cfg->store, &so, &st)) < 0) {
		fprintf(stderr, "exposure sweep: cannot open store %s: %s\n", cfg->store,
		        serr[0] ? serr : err_str(r));
		goto out;
	}
	store_random_id(sw->id);
	sweep_row(cfg, sp, sw);
	if ((r = store_sweep_define(st, sw, spec, cfg->shards)) < 0) {
		if (r == -ERR_UNSUPPORTED)
			fail("--define needs a PostgreSQL store (workers on several machines share "
			     "it); on one machine run the sweep itself");
		else
			fprintf(stderr, "exposure sweep: cannot record the sweep: %s\n",
			        err_str(r));
		goto out;
	}
	printf("%s\n", sw->id);
	fflush(stdout);
	fprintf(stderr, "exposure sweep: sweep %s defined in %u shards\n", sw->id, cfg->shards);
	status = 0;
out:
	store_close(st);
	free(spec);
	free(buf);
	free(args);
	free(sw);
	return status;
}

/* ------------------------------------------------------------------------------------------ */
/* --diff OLD NEW: what changed between two stored sweeps.                                     */

#define DIFF_NAME_MAX (STORE_NAME_MAX + FINDING_ID_MAX)

struct fact {
	struct addr addr;
	bool finding; /* false: an open door (check name); true: a finding (check/id) */
	char name[DIFF_NAME_MAX];
	enum confidence conf; /* of a finding: "unknown" is not "confirmed" (a change too) */
};

struct facts {
	struct fact *v;
	size_t n, cap;
	int err;
};

static int fact_add(struct facts *f, const struct addr *a, bool finding, const char *check,
                    const char *id, enum confidence conf)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		struct fact *v = realloc(f->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n].addr = *a;
	f->v[f->n].finding = finding;
	f->v[f->n].conf = conf;
	snprintf(f->v[f->n].name, DIFF_NAME_MAX, "%s%s%s", check, id ? "/" : "", id ? id : "");
	f->n++;
	return 0;
}

/* Every open door and every finding of one stored host. */
static int facts_cb(void *ud, const struct store_iter_row *row)
{
	struct facts *f = ud;
	struct addr a;
	int r = 0;

	if (row->address == NULL || addr_parse(row->address, &a) < 0)
		return 0; /* not a sweep's host: cannot happen with p.sweep set */
	for (size_t i = 0; i < row->n_checks && r == 0; i++)
		if (strcmp(row->checks[i].state, "open") == 0)
			r = fact_add(f, &a, false, row->checks[i].check, NULL, 0);
	for (size_t i = 0; i < row->n_findings && r == 0; i++)
		r = fact_add(f, &a, true, row->findings[i].check, row->findings[i].id,
		             row->findings[i].confidence);
	return r;
}

static int fact_cmp(const void *x, const void *y)
{
	const struct fact *a = x, *b = y;
	/* The family first: an IPv4 address's bytes are an IPv6 address's first four. */
	int c = (int)a->addr.family - (int)b->addr.family;

	if (c == 0)
		c = memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes));

	if (c == 0)
		c = (int)a->finding - (int)b->finding;
	if (c == 0)
		c = strcmp(a->name, b->name);
	return c ? c : (int)a->conf - (int)b->conf;
}

static int load_facts(struct store *st, const char *id, struct facts *f)
{
	struct store_period p = {.sweep = id};
	int r;

	if ((r = store_iter_results(st, &p, facts_cb, f)) < 0)
		return r;
	if (f->n)
		qsort(f->v, f->n, sizeof(*f->v), fact_cmp);
	return 0;
}

static void print_change(bool json, const struct fact *f, bool added, size_t *counts)
{
	static const char *const words[2][2] = {{"closed", "opened"}, {"fixed", "appeared"}};
	const char *word = words[f->finding][added];
	char a[ADDR_STRLEN];

	addr_format(&f->addr, a, sizeof(a));
	counts[f->finding * 2 + added]++;
	if (!json) {
		if (f->finding)
			printf("%s %s %s (%s)\n", a, word, f->name, confidence_name(f->conf));
		else
			printf("%s %s %s\n", a, word, f->name);
		return;
	}
	if (f->finding) {
		const char *slash = strchr(f->name, '/');

		printf("{\"address\":\"%s\",\"change\":\"%s\",\"check\":\"%.*s\","
		       "\"finding\":\"%s\",\"confidence\":\"%s\"}\n",
		       a, word, (int)(slash - f->name), f->name, slash + 1,
		       confidence_name(f->conf));
	} else {
		printf("{\"address\":\"%s\",\"change\":\"%s\",\"check\":\"%s\"}\n", a, word,
		       f->name);
	}
}

/* Names are tokens from the store (store.c refuses anything else), so they print as they are. */
static int run_diff(const struct sweep_config *cfg)
{
	const char *ids[2] = {cfg->diff, cfg->targets[0]};
	char serr[256] = "";
	struct store_opts so = {.flags = STORE_READONLY, .errbuf = serr, .errlen = sizeof(serr)};
	struct facts f[2] = {{0}, {0}};
	size_t i = 0, j = 0, counts[4] = {0};
	struct store *st = NULL;
	int r, status = 2;

	if ((r = store_open(cfg->store, &so, &st)) < 0) {
		fprintf(stderr, "exposure sweep: cannot open store %s: %s\n", cfg->store,
		        serr[0] ? serr : err_str(r));
		return 2;
	}
	for (int k = 0; k < 2; k++) {
		struct store_sweep *sw = calloc(1, sizeof(*sw));

		r = sw ? store_sweep_get(st, ids[k], sw) : -ENOMEM;
		free(sw);
		if (r < 0) {
			fprintf(stderr, "exposure sweep: sweep '%.40s': %s\n", ids[k],
			        r == -ENOENT ? "not in the store" : err_str(r));
			goto out;
		}
		if ((r = load_facts(st, ids[k], &f[k])) < 0) {
			fprintf(stderr, "exposure sweep: cannot read the store: %s\n", err_str(r));
			goto out;
		}
	}
	/* A merge of the two sorted lists: what only NEW has appeared, what only OLD had went. */
	while (i < f[0].n || j < f[1].n) {
		int c = i == f[0].n ? 1 : j == f[1].n ? -1 : fact_cmp(&f[0].v[i], &f[1].v[j]);

		if (c < 0)
			print_change(cfg->json, &f[0].v[i++], false, counts);
		else if (c > 0)
			print_change(cfg->json, &f[1].v[j++], true, counts);
		else
			i++, j++;
	}
	fflush(stdout);
	fprintf(stderr,
	        "exposure sweep: %zu doors opened, %zu closed; %zu findings appeared, "
	        "%zu fixed\n",
	        counts[1], counts[0], counts[3], counts[2]);
	status = 0;
out:
	free(f[0].v);
	free(f[1].v);
	store_close(st);
	return status;
}

int cmd_sweep(int argc, char **argv)
{
	struct sweep_config cfg;
	char err[CLI_ERR_MAX];
	struct space *sp;
	int status;

	if (sweep_options_parse(argc, argv, &cfg, err, sizeof(err)) < 0) {
		fail(err);
		return 2;
	}
	if (cfg.help) {
		usage(stdout);
		return 0;
	}
	if (cfg.diff)
		return run_diff(&cfg);
	if (cfg.worker)
		return sweep_worker_run(&(struct sweep_worker_cfg){
		    .store = cfg.store,
		    .sweep = cfg.sweep,
		    .lease_ms = cfg.lease_ms,
		    .local_args = cfg.local_args,
		    .n_local_args = cfg.n_local_args,
		});
	if ((sp = malloc(sizeof(*sp))) == NULL) {
		fail("out of memory");
		return 2;
	}
	space_init(sp);
	if (build_space(&cfg, sp, err, sizeof(err)) < 0) {
		fail(err);
		space_free(sp);
		free(sp);
		return 2;
	}
	/* A shard's run: the files a worker inlined were read; none goes further (the prober). */
	if (cfg.into)
		(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	status = cfg.define ? run_define(&cfg, sp) : run_sweep(&cfg, sp);
	space_free(sp);
	free(sp);
	return status;
}
