/* SPDX-License-Identifier: MIT */
/*
 * One diagnosis: every catalogue check against one address, its verdicts and their typed read
 * access (diagnosis.h). The JSON form is written in diagnosis_json.c.
 */
#include "diagnosis/diagnosis.h"
#include "diagnosis/diagnosis_internal.h"
#include "core/err.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Findings of one check: the exposed finding plus two probes' worth of distinct ids. The probes
 * of a range's ports raise the same ids, merged by add_finding(); past this a finding is
 * dropped, never written out of bounds.
 */
#define DIAG_MAX_FINDINGS (1 + PROBE_MAX_FINDINGS * 2)

/* One (check, port) job. */
struct diag_port {
	struct diagnosis *d;
	size_t check;
	uint16_t port;
	bool done;
	struct port_result pr;
	/* What a probe learnt, details owned here; NULL when no probe ran. Allocated only then,
	 * so that thousands of diagnoses of silent targets stay small. */
	struct probe_result *res;
	bool probe_failed; /* open, the probe ran or should have, and no result is kept */
};

/* Questions of one check: its own and those of the check it runs (catalogue.h). */
#define DIAG_MAX_QUESTIONS (2 * CHECK_MAX_QUESTIONS)

struct diag_check {
	const struct check_def *def;
	struct check_ports ports;
	size_t first_job, n_jobs, n_done;
	bool done, notified;
	/* Set when done: */
	size_t chosen; /* job index whose state, reason and rtt the check reports */
	enum port_state state;
	struct finding *findings; /* DIAG_MAX_FINDINGS, allocated at the first finding */
	size_t n_findings;
	unsigned char questions[DIAG_MAX_QUESTIONS]; /* enum question_state, catalogue order */
};

struct diagnosis {
	char *target;
	struct addr addr;
	struct timespec started; /* CLOCK_REALTIME */
	uint64_t t0_ns, t1_ns;   /* uv_hrtime() at start and when the last check finished */
	diag_check_cb *on_check;
	diag_done_cb *on_done;
	void *ud;
	size_t n_checks, checks_done;
	bool finished;
	bool ports_only; /* no protocol check runs: no question is asked */
	struct diag_check *checks;
	size_t n_jobs;
	struct diag_port *jobs;
};

const char *risk_name(enum risk r)
{
	static const char *const names[RISK_X_MAX] = {
	    [RISK_NONE] = "none", [RISK_LOW] = "low",           [RISK_MEDIUM] = "medium",
	    [RISK_HIGH] = "high", [RISK_CRITICAL] = "critical",
	};
	return (unsigned)r < RISK_X_MAX ? names[r] : "unknown";
}

/*
 * A finding that could not be confirmed (confidence unknown: "could not check whether...") keeps
 * the result out of "nothing risky" but does not by itself claim the worst: it counts as medium
 * at most. The confirmed findings beside it (smb1-enabled, rdp-exposed) carry their own weight.
 */
static enum risk risk_of(const struct finding *f)
{
	if (f->confidence == CONFIDENCE_UNKNOWN && f->severity > SEVERITY_MEDIUM)
		return RISK_MEDIUM;
	switch (f->severity) {
	case SEVERITY_CRITICAL:
		return RISK_CRITICAL;
	case SEVERITY_HIGH:
		return RISK_HIGH;
	case SEVERITY_MEDIUM:
		return RISK_MEDIUM;
	default:
		return RISK_LOW; /* info and low: something is there, nothing risky */
	}
}

void diagnosis_free(struct diagnosis *d)
{
	if (d == NULL)
		return;
	for (size_t j = 0; j < d->n_jobs; j++) {
		if (d->jobs[j].res)
			probe_result_done(d->jobs[j].res);
		free(d->jobs[j].res);
	}
	for (size_t i = 0; d->checks && i < d->n_checks; i++)
		free(d->checks[i].findings);
	free(d->jobs);
	free(d->checks);
	free(d->target);
	free(d);
}

struct diagnosis *diagnosis_new(const char *target, const struct addr *a,
                                const struct diag_options *o, diag_check_cb *on_check,
                                diag_done_cb *on_done, void *ud)
{
	const struct check_def *defs;
	struct diagnosis *d;
	size_t n_all, n, job = 0;
	uint32_t set = o && o->checks ? o->checks : catalogue_profile_2017();

	defs = catalogue_checks(&n_all);
	n = checks_count(set);
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	*d = (struct diagnosis){
	    .addr = *a,
	    .on_check = on_check,
	    .on_done = on_done,
	    .ud = ud,
	    .n_checks = n,
	    .t0_ns = uv_hrtime(),
	    .ports_only = o && o->ports_only,
	};
	clock_gettime(CLOCK_REALTIME, &d->started);
	d->target = strdup(target ? target : "");
	d->checks = calloc(n, sizeof(*d->checks));
	if (d->target == NULL || d->checks == NULL)
		goto fail;
	for (size_t k = 0, i = 0; k < n_all; k++) {
		struct diag_check *c = &d->checks[i];

		if (!checks_has(set, k))
			continue;
		c->def = &defs[k];
		c->ports = catalogue_ports(o ? o->ports : NULL, k);
		c->first_job = d->n_jobs;
		c->n_jobs = check_ports_count(c->ports);
		d->n_jobs += c->n_jobs;
		i++;
	}
	d->jobs = calloc(d->n_jobs, sizeof(*d->jobs));
	if (d->jobs == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		for (size_t p = 0; p < d->checks[i].n_jobs; p++, job++) {
			d->jobs[job] = (struct diag_port){
			    .d = d,
			    .check = i,
			    .port = check_ports_nth(d->checks[i].ports, p),
			};
		}
	}
	return d;
fail:
	diagnosis_free(d);
	return NULL;
}

/* Add f to c, or merge it with the finding of the same id: the worse severity wins. */
static void add_finding(struct diag_check *c, const struct finding *f, bool replace)
{
	for (size_t i = 0; i < c->n_findings; i++) {
		struct finding *g = &c->findings[i];

		if (strcmp(g->id, f->id) != 0)
			continue;
		if (replace || f->severity > g->severity ||
		    (f->severity == g->severity && f->confidence < g->confidence))
			*g = *f;
		return;
	}
	if (c->findings == NULL)
		c->findings = calloc(DIAG_MAX_FINDINGS, sizeof(*c->findings));
	/* Out of memory drops the finding; the check's state and risk of others stay right. */
	if (c->findings && c->n_findings < DIAG_MAX_FINDINGS)
		c->findings[c->n_findings++] = *f;
}

static bool identified_expected(const struct check_def *def, const struct diag_port *p)
{
	return p->res && p->res->state == SERVICE_IDENTIFIED &&
	       (strcmp(p->res->service, def->probe) == 0 ||
	        strcmp(p->res->service, def->name) == 0);
}

/*
 * THE folding rule of a check's state over its ports (diagnosis.h, docs/json.md "state"): the
 * higher rank wins. A port we could not test might have been open, so error outranks the
 * verdicts about the target; a reset is an answer from the host, so closed outranks the
 * silence of filtered. A UDP port that answered nothing (open|filtered) might be open: it
 * outranks closed and filtered, never error or open.
 */
static const unsigned char state_rank[PORT_X_MAX] = {
    [PORT_FILTERED] = 0, [PORT_CLOSED] = 1, [PORT_OPEN_FILTERED] = 2,
    [PORT_ERROR] = 3,    [PORT_OPEN] = 4,
};
_Static_assert(PORT_X_MAX == 5, "a new port state needs its rank in the folding rule");

static enum port_state fold_state(enum port_state acc, enum port_state s)
{
	if ((unsigned)s >= PORT_X_MAX)
		s = PORT_ERROR; /* not a verdict we know: never a reassuring one */
	return state_rank[s] > state_rank[acc] ? s : acc;
}

static void ascii_text(char *s, size_t size);

static const struct finding *find_finding(const struct diag_check *c, const char *id)
{
	for (size_t i = 0; i < c->n_findings; i++)
		if (strcmp(c->findings[i].id, id) == 0)
			return &c->findings[i];
	return NULL;
}

/* A string of the probe's details, or NULL. */
static const char *detail_text(const struct probe_result *res, const char *key)
{
	const json_t *v = res && res->details ? json_object_get(res->details, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * Why the probe of open port p left question id undecided, in words (docs/json.md): its own
 * reason if it gave one (probe_undecided()); else what it heard, then how its conversation
 * ended when it said so (details.reason, else details.end).
 */
static void undecided_reason(const struct check_def *def, const struct diag_port *p, const char *id,
                             char *buf, size_t n)
{
	const struct probe_result *res = p->res;
	const struct probe_answer_rec *rec = NULL;
	const char *how = detail_text(res, "reason");
	char what[96];

	if (res && probe_answer_of(res, id, &rec) == PROBE_ANSWER_UNDECIDED && rec->reason[0]) {
		snprintf(buf, n, "%s", rec->reason);
		ascii_text(buf, n);
		return;
	}
	if (how == NULL)
		how = detail_text(res, "end");
	switch (res ? res->state : SERVICE_X_MAX) {
	case SERVICE_SILENT:
		snprintf(what, sizeof(what), "the service sent nothing");
		break;
	case SERVICE_TCPWRAPPED:
		snprintf(what, sizeof(what), "the service closed the connection without a byte");
		break;
	case SERVICE_PROTOCOL_ERROR:
		snprintf(what, sizeof(what), "the service broke the %s protocol", def->title);
		break;
	case SERVICE_IDENTIFIED:
		snprintf(what, sizeof(what), "the %s conversation stopped before the answer",
		         def->title);
		break;
	case SERVICE_X_MAX: /* no result kept */
		snprintf(what, sizeof(what), "the protocol check could not run on our side");
		break;
	default: /* SERVICE_OTHER, SERVICE_UNKNOWN */
		snprintf(what, sizeof(what), "not identified as %s%s%s%s", def->title,
		         res->service[0] ? " (" : "", res->service,
		         res->service[0] ? " answers)" : "");
		break;
	}
	snprintf(buf, n, "could not check: %s%s%s%s", what, how ? " (" : "", how ? how : "",
	         how ? ")" : "");
	ascii_text(buf, n);
}

/* Folding the answers of a range's ports: an undecided port leaves the question undecided. */
static const unsigned char answer_rank[QUESTION_X_MAX] = {
    [QUESTION_NOT_ASKED] = 0, [QUESTION_NOT_APPLICABLE] = 1, [QUESTION_NO] = 2,
    [QUESTION_YES] = 3,       [QUESTION_UNKNOWN] = 4,
};

/* How the probe of open port p settled question id (yes is its finding, seen by the caller). */
static enum question_state port_answer(const struct diag_port *p, const char *id)
{
	if (p->res == NULL)
		return QUESTION_UNKNOWN;
	switch (probe_answer_of(p->res, id, NULL)) {
	case PROBE_ANSWER_NO:
		return QUESTION_NO;
	case PROBE_ANSWER_NOT_APPLICABLE:
		return QUESTION_NOT_APPLICABLE;
	default:
		return QUESTION_UNKNOWN;
	}
}

/*
 * Open ports whose protocol check ran: a probe result, or a probe that could not start (a
 * local error on an open port). Without either no question was asked (--ports-only, or a
 * caller that records port states only).
 */
static bool asked(const struct diag_port *p)
{
	return p->pr.state == PORT_OPEN && (p->res != NULL || p->probe_failed);
}

/*
 * The questions of the catalogue (check_def.questions) on a concluded check: the finding, or
 * every asked port's "no", settles one; else the check could not decide it, and says so with
 * the finding at confidence unknown (counted medium at most: risk_of) and the reason of the
 * first port that left it open. Never silently missing.
 */
static void ask_questions(struct diagnosis *d, struct diag_check *c)
{
	struct diag_port *jobs = d->jobs + c->first_job;
	struct finding_def q;

	for (size_t k = 0; k < DIAG_MAX_QUESTIONS && check_question(c->def, k, &q); k++) {
		const struct finding *f = find_finding(c, q.id);
		enum question_state st = QUESTION_NOT_ASKED;
		const struct diag_port *open = NULL;

		for (size_t p = 0; p < c->n_jobs; p++) {
			enum question_state a;

			if (!asked(&jobs[p]))
				continue;
			a = port_answer(&jobs[p], q.id);
			if (a == QUESTION_UNKNOWN && open == NULL)
				open = &jobs[p];
			if (answer_rank[a] > answer_rank[st])
				st = a;
		}
		if (f != NULL) {
			st = f->confidence == CONFIDENCE_UNKNOWN ? QUESTION_UNKNOWN : QUESTION_YES;
		} else if (st == QUESTION_UNKNOWN && open != NULL) {
			struct finding u = {.severity = q.severity,
			                    .confidence = CONFIDENCE_UNKNOWN};

			snprintf(u.id, sizeof(u.id), "%s", q.id);
			undecided_reason(c->def, open, q.id, u.reason, sizeof(u.reason));
			if ((unsigned)u.severity >= SEVERITY_X_MAX)
				u.severity =
				    SEVERITY_HIGH; /* a question that is none of its findings */
			add_finding(c, &u, false);
		}
		c->questions[k] = (unsigned char)st;
	}
}

/*
 * Conclude a complete check: its folded state and the port it reports (the first open one,
 * else the first), then its findings: the exposed finding for an open port, refined by what
 * the probes of its open ports found.
 */
static void conclude(struct diagnosis *d, struct diag_check *c)
{
	struct diag_port *jobs = d->jobs + c->first_job;
	bool any_open = false, confirmed = false;
	struct finding exposed = {0};

	c->chosen = c->first_job;
	c->state = PORT_FILTERED; /* the lowest rank */
	for (size_t p = 0; p < c->n_jobs; p++) {
		enum port_state s = jobs[p].pr.state;

		c->state = fold_state(c->state, s);
		if (s == PORT_OPEN && !any_open) {
			any_open = true;
			c->chosen = c->first_job + p;
		}
		if (s == PORT_OPEN && identified_expected(c->def, &jobs[p]))
			confirmed = true;
	}
	if (!any_open)
		return;

	snprintf(exposed.id, sizeof(exposed.id), "%s", c->def->exposed_id);
	exposed.severity = c->def->exposed_severity;
	exposed.confidence = confirmed ? CONFIDENCE_CONFIRMED : c->def->exposed_confidence;
	add_finding(c, &exposed, true);
	/* The probes know more than the port state: their findings refine ours, same id included.
	 */
	for (size_t p = 0; p < c->n_jobs; p++) {
		const struct probe_result *res = jobs[p].res;

		if (jobs[p].pr.state != PORT_OPEN || res == NULL)
			continue;
		for (size_t k = 0; k < res->n_findings && k < PROBE_MAX_FINDINGS; k++)
			add_finding(c, &res->findings[k],
			            strcmp(res->findings[k].id, c->def->exposed_id) == 0 &&
			                p + c->first_job == c->chosen);
	}
	if (!d->ports_only)
		ask_questions(d, c);
}

/* Tell the caller about finished checks, then about the end, each exactly once. */
static void notify(struct diagnosis *d)
{
	for (size_t i = 0; i < d->n_checks; i++) {
		struct diag_check *c = &d->checks[i];

		if (!c->done || c->notified)
			continue;
		c->notified = true;
		if (d->on_check)
			d->on_check(d->ud, d, i);
	}
	if (d->checks_done == d->n_checks && !d->finished) {
		d->finished = true;
		d->t1_ns = uv_hrtime();
		if (d->on_done)
			d->on_done(d->ud, d);
	}
}

static struct diag_port *find_job(struct diagnosis *d, size_t i, uint16_t port)
{
	if (i >= d->n_checks)
		return NULL;
	struct diag_check *c = &d->checks[i];
	size_t k = check_ports_index(c->ports, port);
	if (k >= c->n_jobs)
		return NULL;
	return &d->jobs[c->first_job + k];
}

/*
 * Probes promise ASCII in the names and sentences they conclude; if one slips, a byte that is
 * not becomes '?', here once, so every reader (the JSON document, the terminal, the store's
 * rows) gets the same valid text. Also terminates a field that filled its buffer.
 */
static void ascii_text(char *s, size_t size)
{
	s[size - 1] = '\0';
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			*s = '?';
}

/* Store one port's result; conclude its check if it was the last. Never calls back. */
static int store_result(struct diag_port *job, const struct port_result *pr,
                        struct probe_result *res)
{
	struct diagnosis *d = job->d;
	struct diag_check *c = &d->checks[job->check];

	if (job->done)
		return -EALREADY;
	job->done = true;
	job->pr = *pr;
	/* Microsecond resolution, as the document shows it: every reader sees the same figure. */
	if (job->pr.rtt_ms >= 0)
		job->pr.rtt_ms = round(job->pr.rtt_ms * 1000.0) / 1000.0;
	if (res && (job->res = calloc(1, sizeof(*job->res))) != NULL) {
		struct probe_result *mine = job->res;

		mine->state = res->state;
		memcpy(mine->service, res->service, sizeof(mine->service));
		ascii_text(mine->service, sizeof(mine->service));
		mine->n_findings =
		    res->n_findings < PROBE_MAX_FINDINGS ? res->n_findings : PROBE_MAX_FINDINGS;
		memcpy(mine->findings, res->findings, mine->n_findings * sizeof(mine->findings[0]));
		mine->n_answers =
		    res->n_answers < PROBE_MAX_ANSWERS ? res->n_answers : PROBE_MAX_ANSWERS;
		memcpy(mine->answers, res->answers, mine->n_answers * sizeof(mine->answers[0]));
		for (size_t k = 0; k < mine->n_findings; k++) {
			ascii_text(mine->findings[k].id, sizeof(mine->findings[k].id));
			ascii_text(mine->findings[k].reason, sizeof(mine->findings[k].reason));
		}
		if (json_is_object(res->details)) {
			mine->details = res->details;
			res->details = NULL;
		}
	}
	/* An open port whose probe ran but left us no result (out of memory here or in the
	 * engine, which then sets sys_errno): its questions were asked and not answered. */
	job->probe_failed = job->res == NULL && pr->state == PORT_OPEN && !d->ports_only &&
	                    (res != NULL || pr->sys_errno != 0);
	if (res) {
		/* Taken above, or not an object, or no memory to keep it: never leaked. */
		json_decref(res->details);
		res->details = NULL;
	}
	if (++c->n_done == c->n_jobs) {
		conclude(d, c);
		c->done = true;
		d->checks_done++;
	}
	return 0;
}

int diagnosis_record(struct diagnosis *d, size_t i, uint16_t port, const struct port_result *pr,
                     struct probe_result *res)
{
	struct diag_port *job = find_job(d, i, port);
	int r;

	if (job == NULL)
		return -ERR_RANGE;
	if ((r = store_result(job, pr, res)) < 0)
		return r;
	notify(d);
	return 0;
}

static void on_port_done(void *ud, const struct port_result *pr, struct probe_result *res)
{
	struct diag_port *job = ud;

	store_result(job, pr, res);
	notify(job->d);
}

/* The probe of a check: its opt-in one when the operator enabled it (diag_options.opt_in). */
static const struct probe_ops *probe_of(const struct check_def *def, const struct diag_options *o)
{
	size_t rank = catalogue_rank(def->name);

	if (o && def->probe_opt_in && rank < 32 && (o->opt_in >> rank & 1u))
		return probe_by_name(def->probe_opt_in);
	return probe_by_name(def->probe);
}

struct diagnosis *diagnosis_start(struct engine *e, const char *target, const struct addr *a,
                                  const struct diag_options *o, diag_check_cb *on_check,
                                  diag_done_cb *on_done, void *ud, int *err)
{
	struct engine_target *t;
	struct diagnosis *d;
	size_t submitted = 0;
	int r = 0, first_err = 0;

	*err = 0;
	if (e == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	d = diagnosis_new(target, a, o, on_check, on_done, ud);
	t = d ? engine_target_new(e, a) : NULL;
	if (t == NULL) {
		*err = -ERR_NOMEM;
		diagnosis_free(d);
		return NULL;
	}
	if (o && o->timeout_ms)
		engine_target_set_timeout(t, o->timeout_ms);
	bool ports_only = o && o->ports_only;
	for (size_t j = 0; j < d->n_jobs; j++) {
		struct diag_port *job = &d->jobs[j];
		const struct check_def *def = d->checks[job->check].def;

		/* A UDP port says nothing to an empty datagram: its protocol's request is the
		 * port test itself (nmap -sU sends the same payloads), also with --ports-only. */
		bool udp = def->transport == TRANSPORT_UDP;
		r = engine_submit(e, t, job->port, ports_only && !udp ? NULL : probe_of(def, o),
		                  on_port_done, job);
		if (r == 0) {
			submitted++;
			continue;
		}
		if (first_err == 0)
			first_err = r;
		/*
		 * A port the engine would not take is a local error, never a verdict about the
		 * target. It is reported from the loop with the other results (notify() runs
		 * on every engine callback), so no callback runs inside this call.
		 */
		struct port_result pr = {
		    .state = PORT_ERROR,
		    .reason = REASON_LOCAL_ERROR,
		    .icmp_type = -1,
		    .icmp_code = -1,
		    .sys_errno = r < 0 && -r < ERR_BASE ? -r : 0,
		    .rtt_ms = -1,
		};
		store_result(job, &pr, NULL);
	}
	if (submitted == 0) {
		/* No callback will ever come: give up before anyone was told anything. */
		*err = first_err ? first_err : -ERR_INTERNAL;
		diagnosis_free(d);
		return NULL;
	}
	return d;
}

size_t diagnosis_checks(const struct diagnosis *d)
{
	return d->n_checks;
}

bool diagnosis_check_done(const struct diagnosis *d, size_t i)
{
	return i < d->n_checks && d->checks[i].done;
}

size_t diagnosis_checks_done(const struct diagnosis *d)
{
	return d->checks_done;
}

bool diagnosis_done(const struct diagnosis *d)
{
	return d->finished;
}

const char *diagnosis_target(const struct diagnosis *d)
{
	return d->target;
}

const struct addr *diagnosis_addr(const struct diagnosis *d)
{
	return &d->addr;
}

bool diagnosis_has_error(const struct diagnosis *d)
{
	for (size_t i = 0; i < d->n_checks; i++)
		if (d->checks[i].done && d->checks[i].state == PORT_ERROR)
			return true;
	return false;
}

enum risk diagnosis_risk(const struct diagnosis *d)
{
	enum risk worst = RISK_NONE;

	for (size_t i = 0; i < d->n_checks; i++) {
		const struct diag_check *c = &d->checks[i];

		for (size_t k = 0; c->done && k < c->n_findings; k++) {
			enum risk r = risk_of(&c->findings[k]);
			if (r > worst)
				worst = r;
		}
	}
	return worst;
}

const struct timespec *diagnosis_started(const struct diagnosis *d)
{
	return &d->started;
}

double diagnosis_elapsed_ms(const struct diagnosis *d)
{
	uint64_t end = d->finished ? d->t1_ns : uv_hrtime();

	return (double)(end - d->t0_ns) / 1e6;
}

/* ------------------------------------------------------------------------------------------ */
/* Typed reading (diagnosis.h). Out-of-range indexes read as "nothing", never out of bounds.  */

static const struct diag_check *check_at(const struct diagnosis *d, size_t i)
{
	return i < d->n_checks ? &d->checks[i] : NULL;
}

/* Job k of check i, or NULL. */
static const struct diag_port *port_at(const struct diagnosis *d, size_t i, size_t k)
{
	const struct diag_check *c = check_at(d, i);

	return c && k < c->n_jobs ? &d->jobs[c->first_job + k] : NULL;
}

static const struct diag_check *finished_at(const struct diagnosis *d, size_t i)
{
	const struct diag_check *c = check_at(d, i);

	return c && c->done ? c : NULL;
}

const struct check_def *diagnosis_check_def(const struct diagnosis *d, size_t i)
{
	const struct diag_check *c = check_at(d, i);

	return c ? c->def : NULL;
}

enum port_state diagnosis_check_state(const struct diagnosis *d, size_t i)
{
	const struct diag_check *c = finished_at(d, i);

	return c ? c->state : PORT_X_MAX;
}

size_t diagnosis_check_ports(const struct diagnosis *d, size_t i)
{
	const struct diag_check *c = check_at(d, i);

	return c ? c->n_jobs : 0;
}

size_t diagnosis_check_reported(const struct diagnosis *d, size_t i)
{
	const struct diag_check *c = finished_at(d, i);

	return c ? c->chosen - c->first_job : 0;
}

void diagnosis_check_result(const struct diagnosis *d, size_t i, struct port_result *out)
{
	const struct diag_check *c = finished_at(d, i);

	memset(out, 0, sizeof(*out));
	out->state = PORT_X_MAX;
	if (c == NULL)
		return;
	*out = d->jobs[c->chosen].pr;
	out->state = c->state;
}

uint16_t diagnosis_port(const struct diagnosis *d, size_t i, size_t k)
{
	const struct diag_port *p = port_at(d, i, k);

	return p ? p->port : 0;
}

const struct port_result *diagnosis_port_result(const struct diagnosis *d, size_t i, size_t k)
{
	const struct diag_port *p = port_at(d, i, k);

	return p && p->done ? &p->pr : NULL;
}

const char *diagnosis_port_service(const struct diagnosis *d, size_t i, size_t k)
{
	const struct diag_port *p = port_at(d, i, k);

	return p && p->done && p->res ? p->res->service : "";
}

const json_t *diagnosis_port_details(const struct diagnosis *d, size_t i, size_t k)
{
	const struct diag_port *p = port_at(d, i, k);

	return p && p->done && p->res ? p->res->details : NULL;
}

size_t diagnosis_check_findings(const struct diagnosis *d, size_t i)
{
	const struct diag_check *c = finished_at(d, i);

	return c ? c->n_findings : 0;
}

const struct finding *diagnosis_finding(const struct diagnosis *d, size_t i, size_t k)
{
	const struct diag_check *c = finished_at(d, i);

	return c && k < c->n_findings ? &c->findings[k] : NULL;
}

size_t diagnosis_check_questions(const struct diagnosis *d, size_t i)
{
	const struct diag_check *c = check_at(d, i);
	struct finding_def q;
	size_t n = 0;

	while (c && n < DIAG_MAX_QUESTIONS && check_question(c->def, n, &q))
		n++;
	return n;
}

enum question_state diagnosis_question(const struct diagnosis *d, size_t i, size_t k,
                                       const char **id)
{
	const struct diag_check *c = finished_at(d, i);
	struct finding_def q = {0};

	if (id)
		*id = check_at(d, i) && check_question(d->checks[i].def, k, &q) ? q.id : NULL;
	if (c == NULL || k >= diagnosis_check_questions(d, i))
		return QUESTION_NOT_ASKED;
	return (enum question_state)c->questions[k];
}

const char *question_state_name(enum question_state s)
{
	static const char *const names[QUESTION_X_MAX] = {
	    [QUESTION_NOT_ASKED] = "not-asked",
	    [QUESTION_YES] = "yes",
	    [QUESTION_NO] = "no",
	    [QUESTION_NOT_APPLICABLE] = "not-applicable",
	    [QUESTION_UNKNOWN] = "unknown",
	};
	return (unsigned)s < QUESTION_X_MAX ? names[s] : "unknown";
}
