/* SPDX-License-Identifier: MIT */
/* One diagnosis: every catalogue check against one address, its verdicts and JSON (diagnosis.h). */
#include "diagnosis/diagnosis.h"
#include "diagnosis/diagnosis_internal.h"
#include "core/err.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The exposed finding, plus what the probes of up to CHECK_MAX_PORTS ports found. */
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
};

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
	size_t n, job = 0;

	defs = catalogue_checks(&n);
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
	};
	clock_gettime(CLOCK_REALTIME, &d->started);
	d->target = strdup(target ? target : "");
	d->checks = calloc(n, sizeof(*d->checks));
	if (d->target == NULL || d->checks == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct diag_check *c = &d->checks[i];

		c->def = &defs[i];
		c->ports = catalogue_ports(o ? o->ports : NULL, i);
		c->first_job = d->n_jobs;
		c->n_jobs = (size_t)(c->ports.last - c->ports.first) + 1;
		d->n_jobs += c->n_jobs;
	}
	d->jobs = calloc(d->n_jobs, sizeof(*d->jobs));
	if (d->jobs == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		for (size_t p = 0; p < d->checks[i].n_jobs; p++, job++) {
			d->jobs[job] = (struct diag_port){
			    .d = d,
			    .check = i,
			    .port = (uint16_t)(d->checks[i].ports.first + p),
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
 * Fold the port results of a complete check into one verdict. The reported port is the first
 * open one, else the first; the state is open if any port is open. A local error on a port
 * that might have been open makes the check an error rather than a false "closed".
 */
static void conclude(struct diagnosis *d, struct diag_check *c)
{
	struct diag_port *jobs = d->jobs + c->first_job;
	bool any_open = false, any_error = false, any_closed = false, confirmed = false;
	struct finding exposed = {0};

	c->chosen = c->first_job;
	for (size_t p = 0; p < c->n_jobs; p++) {
		enum port_state s = jobs[p].pr.state;

		if (s == PORT_OPEN && !any_open) {
			any_open = true;
			c->chosen = c->first_job + p;
		}
		any_error |= s == PORT_ERROR;
		any_closed |= s == PORT_CLOSED;
		if (s == PORT_OPEN && identified_expected(c->def, &jobs[p]))
			confirmed = true;
	}
	if (any_open)
		c->state = PORT_OPEN;
	else if (any_error)
		c->state = PORT_ERROR;
	else if (any_closed)
		c->state = PORT_CLOSED;
	else
		c->state = PORT_FILTERED;
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
	if (port < c->ports.first || port > c->ports.last)
		return NULL;
	return &d->jobs[c->first_job + (size_t)(port - c->ports.first)];
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
	if (res && (job->res = calloc(1, sizeof(*job->res))) != NULL) {
		struct probe_result *mine = job->res;

		mine->state = res->state;
		memcpy(mine->service, res->service, sizeof(mine->service));
		mine->service[sizeof(mine->service) - 1] = '\0';
		mine->n_findings =
		    res->n_findings < PROBE_MAX_FINDINGS ? res->n_findings : PROBE_MAX_FINDINGS;
		memcpy(mine->findings, res->findings, mine->n_findings * sizeof(mine->findings[0]));
		if (json_is_object(res->details)) {
			mine->details = res->details;
			res->details = NULL;
		}
	}
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

		r = engine_submit(e, t, job->port, ports_only ? NULL : probe_by_name(def->probe),
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

/* Milliseconds with microsecond resolution: enough for loopback, short in the document. */
static json_t *json_ms(double ms)
{
	return json_real(round(ms * 1000.0) / 1000.0);
}

static json_t *json_ms_or_null(double ms)
{
	return ms < 0 ? json_null() : json_ms(ms);
}

/*
 * A bounded C string as a JSON string. Probes promise ASCII; if one slips, a byte that would
 * make the text invalid UTF-8 becomes '?', so the document stays valid.
 */
static json_t *json_text(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	json_t *j = json_stringn(s, n);
	char copy[FINDING_REASON_MAX];

	if (j != NULL)
		return j;
	if (n > sizeof(copy))
		n = sizeof(copy);
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	return json_stringn(copy, n);
}

/* Set key to value (stolen); remember a failure in *ok instead of checking every call. */
static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (value == NULL || json_object_set_new(obj, key, value) != 0)
		*ok = false;
}

static void put_port_fields(json_t *o, const struct port_result *pr, bool *ok)
{
	put(o, "state", json_string(port_state_name(pr->state)), ok);
	put(o, "reason", json_string(port_reason_name(pr->reason)), ok);
	if (pr->icmp_type >= 0) {
		json_t *icmp = json_object();
		if (icmp) {
			put(icmp, "type", json_integer(pr->icmp_type), ok);
			put(icmp, "code", json_integer(pr->icmp_code), ok);
		}
		put(o, "icmp", icmp, ok);
	}
	if (pr->state == PORT_ERROR && pr->sys_errno > 0)
		put(o, "error", json_string(err_name(-pr->sys_errno)), ok);
}

static json_t *findings_json(const struct diag_check *c, bool *ok)
{
	json_t *arr = json_array();

	if (arr == NULL) {
		*ok = false;
		return NULL;
	}
	for (size_t k = 0; k < c->n_findings; k++) {
		const struct finding *f = &c->findings[k];
		json_t *o = json_object();

		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(o);
			*ok = false;
			continue;
		}
		put(o, "id", json_string(f->id), ok);
		put(o, "severity", json_string(severity_name(f->severity)), ok);
		put(o, "confidence", json_string(confidence_name(f->confidence)), ok);
		if (f->reason[0])
			put(o, "reason", json_text(f->reason, sizeof(f->reason)), ok);
	}
	return arr;
}

/* details: what the probe of the reported port learnt, plus every port of a port range. */
static json_t *details_json(const struct diagnosis *d, const struct diag_check *c, bool *ok)
{
	const struct diag_port *chosen = &d->jobs[c->chosen];
	json_t *details = NULL;

	if (chosen->res && chosen->res->details)
		details = json_deep_copy(chosen->res->details);
	if (c->n_jobs == 1)
		return details ? details : json_null();
	if (details == NULL)
		details = json_object();
	json_t *ports = json_array();
	if (details == NULL || ports == NULL) {
		json_decref(ports);
		*ok = false;
		return details;
	}
	for (size_t p = 0; p < c->n_jobs; p++) {
		const struct diag_port *job = &d->jobs[c->first_job + p];
		json_t *o = json_object();

		if (o == NULL || json_array_append_new(ports, o) != 0) {
			json_decref(o);
			*ok = false;
			continue;
		}
		put(o, "port", json_integer(job->port), ok);
		put_port_fields(o, &job->pr, ok);
		put(o, "rtt_ms", json_ms_or_null(job->pr.rtt_ms), ok);
	}
	put(details, "ports", ports, ok);
	return details;
}

json_t *diagnosis_check_json(const struct diagnosis *d, size_t i)
{
	const struct diag_check *c;
	const struct diag_port *chosen;
	struct port_result pr;
	json_t *o;
	bool ok = true;

	if (!diagnosis_check_done(d, i))
		return NULL;
	c = &d->checks[i];
	chosen = &d->jobs[c->chosen];
	pr = chosen->pr;
	pr.state = c->state;
	if ((o = json_object()) == NULL)
		return NULL;
	put(o, "check", json_string(c->def->name), &ok);
	put(o, "port", json_integer(chosen->port), &ok);
	put_port_fields(o, &pr, &ok);
	put(o, "rtt_ms", json_ms_or_null(pr.rtt_ms), &ok);
	put(o, "tries", json_integer(pr.tries), &ok);
	if (chosen->res && chosen->res->service[0])
		put(o, "service", json_text(chosen->res->service, sizeof(chosen->res->service)),
		    &ok);
	else
		put(o, "service", json_null(), &ok);
	put(o, "details", details_json(d, c, &ok), &ok);
	put(o, "findings", findings_json(c, &ok), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* RFC 3339, UTC, milliseconds: 2026-01-31T23:59:59.123Z. */
static int format_time(const struct timespec *ts, char *buf, size_t size)
{
	struct tm tm;
	char base[32];

	if (gmtime_r(&ts->tv_sec, &tm) == NULL ||
	    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return -ERR_RANGE;
	int n = snprintf(buf, size, "%s.%03ldZ", base, ts->tv_nsec / 1000000L);
	return n < 0 || (size_t)n >= size ? -ERR_RANGE : n;
}

json_t *diagnosis_json(const struct diagnosis *d)
{
	char addr[ADDR_STRLEN], started[40];
	json_t *o, *checks;
	bool ok = true;

	if (addr_format(&d->addr, addr, sizeof(addr)) < 0 ||
	    format_time(&d->started, started, sizeof(started)) < 0)
		return NULL;
	uint64_t end = d->finished ? d->t1_ns : uv_hrtime();
	if ((o = json_object()) == NULL)
		return NULL;
	put(o, "target", json_string(d->target), &ok);
	put(o, "address", json_string(addr), &ok);
	put(o, "started", json_string(started), &ok);
	put(o, "elapsed_ms", json_ms((double)(end - d->t0_ns) / 1e6), &ok);
	put(o, "risk", json_string(risk_name(diagnosis_risk(d))), &ok);
	checks = json_array();
	for (size_t i = 0; checks && i < d->n_checks; i++) {
		if (!d->checks[i].done)
			continue;
		json_t *c = diagnosis_check_json(d, i);
		if (c == NULL || json_array_append_new(checks, c) != 0)
			ok = false;
	}
	put(o, "checks", checks, &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}
