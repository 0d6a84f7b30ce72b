/* SPDX-License-Identifier: MIT */
/*
 * `exposure check`: resolve and police every target, then diagnose the addresses on one engine,
 * a window of them at a time, and print text or one JSON document. Exit status: 0 nothing risky
 * reachable, 1 something risky (medium or worse) on any target, 2 usage or runtime error.
 */
#include "cli/cli.h"
#include "cli/output.h"
#include "core/err.h"
#include "diagnosis/diagnosis.h"
#include "diagnosis/visit.h"
#include "prober/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define FD_RESERVE 32 /* descriptors kept for stdio, the loop, the resolver... */
/* The usage text's width, and a ceiling on its paragraph that names every check. */
#define USAGE_WIDTH    80
#define USAGE_PARA_MAX 4096

struct slot {
	struct diagnosis *d;
	bool done;
	/* The first address of a host name that resolved to both families: how many addresses
	 * follow as one visit (visit.h), this one included; 1 for every other address. */
	size_t group;
};

struct run {
	uv_loop_t loop;
	struct engine *engine;
	struct pool *pool; /* the probers that probe and parse; NULL with --no-sandbox */
	const struct check_config *cfg;
	struct target_list targets;
	struct diag_options dopts;
	struct slot *slots;
	size_t next_start, next_emit;
	struct diagnosis **active; /* in flight, for the progress lines */
	size_t n_active, window;
	bool in_order; /* emit results in target order (JSON, pipes) */
	bool array;    /* --json and more than one address */
	size_t emitted;
	struct text_out *text;
	enum risk worst;
	bool failed;   /* a runtime error: exit 2 unless something risky was found */
	bool reported; /* ...and its one line is already on stderr */
};

/* "Probe the dangerous doors of each TARGET: by default (ssh 22, ...); with --profile extended
 * also (...)": the doors read from the catalogue, so the text follows its profiles. */
static void usage_doors(FILE *f)
{
	struct sbuf b;

	sbuf_init(&b, USAGE_PARA_MAX);
	sbuf_add(&b, "Probe the dangerous doors of each TARGET and say what is reachable: by "
	             "default those of the 2017 service (");
	checks_doors(&b, DOORS_NAME_PORTS, DOORS_2017);
	sbuf_add(&b, "); with --profile extended also ");
	checks_doors(&b, DOORS_NAME_PORTS, DOORS_BEYOND);
	sbuf_add(&b, ".");
	text_wrap(f,
	          b.err ? "Probe the dangerous doors of each TARGET and say what is reachable."
	                : sbuf_str(&b),
	          USAGE_WIDTH);
	sbuf_free(&b);
}

void check_usage(FILE *f)
{
	fputs("Usage: exposure check [OPTIONS] TARGET...\n"
	      "\n",
	      f);
	usage_doors(f);
	fputs(
	    "TARGET: an IPv4 or IPv6 address ([brackets] allowed), a CIDR block of at most\n"
	    "65536 addresses (/16 for IPv4, /112 for IPv6), or a host name (every address it\n"
	    "resolves to is probed). Only loopback may be probed unless --allow covers the\n"
	    "target; multicast, broadcast, unspecified and reserved addresses never are.\n"
	    "\n"
	    "Options:\n"
	    "  --json              print one JSON document (docs/json.md) and nothing else\n"
	    "  --allow CIDR        also allow probing this block (repeatable)\n"
	    "  --config FILE       read settings: 'allow CIDR', 'port CHECK=PORT', 'timeout MS',\n"
	    "                      'profile NAME', 'checks A,B,...', 'iscsi-discovery yes'\n"
	    "  --port CHECK=PORT   probe CHECK on another port, or CHECK=FIRST-LAST, or a list\n"
	    "                      FIRST-LAST,PORT,... (<= 16 ports in all)\n"
	    "  --timeout MS        fixed per-attempt connect timeout, 1..60000 (default: "
	    "adaptive)\n"
	    "  --ports-only        port states only, no protocol checks (like nmap -sT)\n"
	    "  --list              print the checks and their ports (JSON with --json)\n"
	    "  --profile NAME      the checks to run: 2017 (the default: the seven doors of the\n"
	    "                      2017 service) or extended (every check)\n"
	    "  --checks A,B,...    run these checks only (names as in --list --profile extended)\n"
	    "  --iscsi-discovery   iscsi: open a discovery session and list the target names\n"
	    "                      (off by default: only the connection is tried)\n"
	    "  --explain           show all advice for each finding\n"
	    "  --no-color          no colours (also when NO_COLOR is set)\n"
	    "  --max-inflight N    connections open at once (default 512)\n"
	    "  --probers N         sandboxed prober processes, 1..64 (default: the online CPUs\n"
	    "                      for more than one address, 1 for one; an address stays on\n"
	    "                      one prober)\n"
	    "  --no-sandbox        probe inside this process instead of a sandboxed prober\n"
	    "                      process (debugging only; docs/internals/PRIVSEP.md)\n"
	    "  --help              this text\n"
	    "\n"
	    "Exit status: 0 nothing risky reachable, 1 something risky reachable (medium or\n"
	    "worse), 2 usage or runtime error.\n",
	    f);
}

/* Many targets mean many sockets: take every descriptor the hard limit allows. */
static rlim_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

static void fail(const char *what)
{
	fprintf(stderr, "exposure check: %s\n", what);
}

static void emit_json(struct run *run, struct diagnosis *d)
{
	json_t *doc = diagnosis_json(d);

	if (doc == NULL) {
		run->failed = true;
		return;
	}
	if (run->array)
		fputs(run->emitted ? ",\n" : "[\n", stdout);
	/* 12 digits: the millisecond values (microsecond resolution) print as written. */
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
	json_decref(doc);
	run->emitted++;
	if (!run->array)
		fputc('\n', stdout);
}

static void account(struct run *run, struct diagnosis *d)
{
	enum risk r = diagnosis_risk(d);

	if (r > run->worst)
		run->worst = r;
	if (diagnosis_has_error(d))
		run->failed = true;
}

/* The addresses of one host name with both families, diagnosed: one visit, one document. */
static void emit_visit(struct run *run, struct slot *s)
{
	struct diagnosis *d[VISIT_MAX_TARGETS];
	struct visit *v;
	json_t *doc;
	int err;

	for (size_t k = 0; k < s->group; k++) {
		account(run, s[k].d);
		d[k] = s[k].d;
		s[k].d = NULL;
	}
	if ((v = visit_adopt(d, s->group, VISIT_RESOLVED, &err)) == NULL) {
		run->failed = true;
		return;
	}
	if (!run->cfg->json) {
		text_visit_done(run->text, v);
	} else if ((doc = visit_json(v)) == NULL) {
		run->failed = true;
	} else {
		if (run->array)
			fputs(run->emitted ? ",\n" : "[\n", stdout);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
		json_decref(doc);
		run->emitted++;
		if (!run->array)
			fputc('\n', stdout);
	}
	visit_free(v);
}

/* Whether the group starting at slot i has every address finished (and started). */
static bool group_done(const struct run *run, size_t i)
{
	for (size_t k = 0; k < run->slots[i].group; k++)
		if (i + k >= run->next_start || !run->slots[i + k].done)
			return false;
	return true;
}

static void emit(struct run *run, struct slot *s)
{
	account(run, s->d);
	if (run->cfg->json)
		emit_json(run, s->d);
	else
		text_target_done(run->text, s->d);
	diagnosis_free(s->d);
	s->d = NULL;
}

static void progress(struct run *run, bool force)
{
	if (run->text)
		text_progress(run->text, run->active, run->n_active, uv_now(&run->loop), force);
}

static void start_more(struct run *run);
static void pool_done(struct run *run);

static void on_check(void *ud, struct diagnosis *d, size_t check)
{
	struct run *run = ud;

	if (run->text) {
		text_check_done(run->text, d, check);
		progress(run, false);
	}
}

static void on_done(void *ud, struct diagnosis *d)
{
	struct run *run = ud;

	for (size_t i = 0; i < run->n_active; i++) {
		if (run->active[i] == d) {
			run->active[i] = run->active[--run->n_active];
			break;
		}
	}
	for (size_t i = run->next_emit; i < run->next_start; i++) {
		if (run->slots[i].d == d) {
			run->slots[i].done = true;
			if (!run->in_order)
				emit(run, &run->slots[i]);
			break;
		}
	}
	while (run->next_emit < run->next_start && run->slots[run->next_emit].done) {
		struct slot *s = &run->slots[run->next_emit];

		if (s->group > 1) {
			if (!group_done(run, run->next_emit))
				break;
			emit_visit(run, s);
			run->next_emit += s->group;
			continue;
		}
		if (s->d)
			emit(run, s);
		run->next_emit++;
	}
	start_more(run);
	pool_done(run);
	progress(run, true);
}

/* Nothing in flight and nothing more to start: the prober goes, so that the loop ends. */
static void pool_done(struct run *run)
{
	if (run->pool && run->n_active == 0)
		pool_close(run->pool);
}

/*
 * Keep the engine fed without holding every address's diagnosis in memory: at most window in
 * flight, and (for in-order output) at most 4 * window finished ones waiting for a slow one.
 */
static void start_more(struct run *run)
{
	char msg[CLI_ERR_MAX], addr[ADDR_STRLEN];
	int err;

	while (!run->failed && run->n_active < run->window && run->next_start < run->targets.n &&
	       run->next_start - run->next_emit < 4 * run->window) {
		struct target_addr *t = &run->targets.v[run->next_start];
		struct slot *s = &run->slots[run->next_start];

		s->d = diagnosis_start(run->engine, t->name, &t->addr, &run->dopts, on_check,
		                       on_done, run, &err);
		if (s->d == NULL) {
			if (addr_format(&t->addr, addr, sizeof(addr)) < 0)
				snprintf(addr, sizeof(addr), "?");
			snprintf(msg, sizeof(msg), "cannot start probing %s: %s", addr,
			         err_str(err));
			fail(msg);
			run->failed = true;
			run->reported = true;
			return;
		}
		run->active[run->n_active++] = s->d;
		run->next_start++;
	}
}

static bool want_color(const struct check_config *cfg)
{
	const char *no_color = getenv("NO_COLOR");

	/* no-color.org: set and not empty disables colour. */
	return !cfg->no_color && !(no_color && no_color[0]) && isatty(STDOUT_FILENO);
}

/*
 * How many probers: --probers N, or one per online CPU for more than one address and no more
 * than the addresses (a target stays on one prober: a single address gains nothing from a
 * second); never more than the sockets, as each prober needs one.
 */
static unsigned prober_count(const struct run *run, const struct engine_opts *eo)
{
	size_t n = run->cfg->probers;

	if (n == 0) {
		n = run->targets.n > 1 ? pool_online_cpus() : 1;
		if (n > run->targets.n)
			n = run->targets.n;
	}
	if (n > eo->max_inflight)
		n = eo->max_inflight;
	return n < 1 ? 1 : (unsigned)n;
}

/* Sandboxed probers do the probing and parsing, as the service's do. */
static int prober_start(struct run *run, const struct engine_opts *eo)
{
	char err[CLI_ERR_MAX];
	int r = cli_prober_start(&run->loop, run->engine, eo, prober_count(run, eo), &run->dopts,
	                         true, &run->pool, err, sizeof(err));

	if (r < 0)
		fail(err);
	return r;
}

static int setup_engine(struct run *run, rlim_t nofile)
{
	struct engine_opts eo;
	int r;

	engine_opts_default(&eo);
	if (run->cfg->max_inflight)
		eo.max_inflight = run->cfg->max_inflight;
	if (nofile > FD_RESERVE * 2 && eo.max_inflight > nofile - FD_RESERVE)
		eo.max_inflight = (unsigned)(nofile - FD_RESERVE);
	if (eo.per_target > eo.max_inflight)
		eo.per_target = eo.max_inflight;
	run->engine = engine_new(&run->loop, &eo);
	if (run->engine == NULL)
		return -ERR_INTERNAL;
	if (!run->cfg->no_sandbox && (r = prober_start(run, &eo)) < 0)
		return r;
	/* A diagnosis is ~22 connections: enough of them to keep every slot busy. */
	run->window = eo.max_inflight / 16;
	if (run->window < 4)
		run->window = 4;
	if (run->window > run->targets.n)
		run->window = run->targets.n;
	return 0;
}

/* A host name (not an address literal, not a block): its addresses come from the resolver. */
static bool is_host_name(const char *name)
{
	struct addr a;

	return strchr(name, '/') == NULL && strchr(name, ':') == NULL && addr_parse(name, &a) < 0;
}

/*
 * Mark the runs of consecutive addresses of one host name that hold both families (at most
 * VISIT_MAX_TARGETS of them): each becomes one visit. Returns the number of documents.
 */
static size_t find_groups(struct run *run)
{
	const struct target_addr *v = run->targets.v;
	size_t docs = 0;

	for (size_t i = 0; i < run->targets.n;) {
		size_t k = 1;
		bool v4 = v[i].addr.family == AF_INET, v6 = !v4;

		while (i + k < run->targets.n && is_host_name(v[i].name) &&
		       strcmp(v[i + k].name, v[i].name) == 0) {
			v4 |= v[i + k].addr.family == AF_INET;
			v6 |= v[i + k].addr.family == AF_INET6;
			k++;
		}
		if (v4 && v6 && k <= VISIT_MAX_TARGETS) {
			run->slots[i].group = k; /* the others stay 0: members of the visit */
			docs++;
		} else {
			for (size_t j = 0; j < k; j++)
				run->slots[i + j].group = 1;
			docs += k;
		}
		i += k;
	}
	return docs;
}

static int run_diagnoses(struct run *run)
{
	bool tty = isatty(STDOUT_FILENO);
	size_t docs;

	run->slots = calloc(run->targets.n, sizeof(*run->slots));
	run->active = calloc(run->window, sizeof(*run->active));
	if (run->slots == NULL || run->active == NULL)
		return -ERR_NOMEM;
	docs = find_groups(run);
	run->array = run->cfg->json && docs > 1;
	/* A visit waits for all its addresses: in order then, as JSON and pipes are. */
	run->in_order = run->cfg->json || !tty || run->targets.n == 1 || docs < run->targets.n;
	if (!run->cfg->json) {
		struct text_out_opts to = {
		    .tty = tty,
		    .color = want_color(run->cfg),
		    .explain = run->cfg->explain,
		    .multi = run->targets.n > 1,
		    .total = run->targets.n,
		};
		if ((run->text = text_out_new(stdout, &to)) == NULL)
			return -ERR_NOMEM;
	}
	start_more(run);
	pool_done(run);
	progress(run, true);
	uv_run(&run->loop, UV_RUN_DEFAULT);
	if (run->text)
		text_finish(run->text);
	if (run->cfg->json && run->array)
		fputs(run->emitted ? "\n]\n" : "[]\n", stdout);
	/* A diagnosis that never finished (failed start, engine trouble) is a runtime error. */
	if (run->next_emit < run->targets.n)
		run->failed = true;
	return 0;
}

static void close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void run_done(struct run *run)
{
	for (size_t i = 0; run->slots && i < run->targets.n; i++)
		diagnosis_free(run->slots[i].d);
	free(run->slots);
	free(run->active);
	text_out_free(run->text);
	engine_free(run->engine);
	if (run->pool)
		pool_close(run->pool); /* a no-op when the last diagnosis closed it */
	target_list_done(&run->targets);
	/* Close what remains (nothing when all went well) so that the loop can be closed. */
	uv_walk(&run->loop, close_handle, NULL);
	uv_run(&run->loop, UV_RUN_DEFAULT);
	pool_free(run->pool);
	uv_loop_close(&run->loop);
}

int cmd_check(int argc, char **argv)
{
	struct check_config cfg;
	struct run run = {.cfg = &cfg};
	char err[CLI_ERR_MAX];
	rlim_t nofile;
	int r;

	if (check_options_parse(argc, argv, &cfg, err, sizeof(err)) < 0) {
		fail(err);
		return 2;
	}
	if (cfg.help) {
		check_usage(stdout);
		return 0;
	}
	if (cfg.list) {
		if ((r = checks_list(stdout, &cfg.ports, cfg.checks, cfg.json)) < 0 ||
		    fflush(stdout) != 0) {
			fail(r < 0 ? err_str(r) : strerror(errno));
			return 2;
		}
		return 0;
	}
	nofile = raise_nofile();
	run.dopts = (struct diag_options){
	    .ports = &cfg.ports,
	    .checks = cfg.checks,
	    .timeout_ms = cfg.timeout_ms,
	    .ports_only = cfg.ports_only,
	    .opt_in = cfg.opt_in,
	};
	if ((r = uv_loop_init(&run.loop)) < 0) {
		fail(uv_strerror(r));
		return 2;
	}
	r = targets_resolve(&run.loop, cfg.targets, cfg.n_targets, &cfg.policy, &run.targets, err,
	                    sizeof(err));
	if (r == -ETIMEDOUT) {
		/* A resolver thread still runs: the loop cannot be closed, only left. */
		fail(err);
		return 2;
	}
	if (r < 0) {
		fail(err);
		run_done(&run);
		return 2;
	}
	if (setup_engine(&run, nofile) < 0) {
		fail("cannot start the probe engine");
		run_done(&run);
		return 2;
	}
	if ((r = run_diagnoses(&run)) < 0) {
		fail(err_str(r));
		run.failed = run.reported = true;
	}
	fflush(stdout);
	run_done(&run);
	if (run.worst >= RISK_MEDIUM)
		return 1;
	if (run.failed) {
		if (!run.reported)
			fail("some checks could not be run (state \"error\")");
		return 2;
	}
	return 0;
}
