/* SPDX-License-Identifier: MIT */
/*
 * A visitor's diagnosis over several addresses (visit.h): one struct diagnosis per address, all
 * on the same engine at once (so two families cost about the time of one), and the cross-family
 * findings once the last one finished.
 */
#include "diagnosis/visit.h"
#include "diagnosis/visit_internal.h"
#include "diagnosis/diagnosis_internal.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* What one diagnosis's callbacks carry back to its visit. */
struct visit_slot {
	struct visit *v;
	size_t t;
	struct diagnosis *d;
	bool done;
};

struct visit {
	size_t n;
	struct visit_target targets[VISIT_MAX_TARGETS];
	struct visit_slot slots[VISIT_MAX_TARGETS];
	size_t n_started, n_done;
	bool finished;
	/* visit_start() failed half-way: the started diagnoses run out unseen, then v is freed. */
	bool orphan;
	visit_check_cb *on_check;
	visit_done_cb *on_done;
	void *ud;
	/* At most one cross-family finding per check: a door open on one family only. */
	size_t n_findings;
	struct visit_finding findings[CATALOGUE_MAX_CHECKS];
};

const char *visit_proof_name(enum visit_proof p)
{
	static const char *const names[VISIT_PROOF_X_MAX] = {
	    [VISIT_PEER] = "peer", [VISIT_TICKET] = "ticket", [VISIT_RESOLVED] = "resolved"};
	return (unsigned)p < VISIT_PROOF_X_MAX ? names[p] : "unknown";
}

static void visit_release(struct visit *v)
{
	for (size_t t = 0; t < v->n; t++)
		diagnosis_free(v->slots[t].d);
	free(v);
}

void visit_free(struct visit *v)
{
	if (v != NULL)
		visit_release(v);
}

/* The worst severity among the non-unknown findings of check i of d: the door's own weight. */
static enum severity door_severity(const struct diagnosis *d, size_t i)
{
	enum severity worst = SEVERITY_INFO;

	for (size_t k = 0; k < diagnosis_check_findings(d, i); k++) {
		const struct finding *f = diagnosis_finding(d, i, k);

		if ((k == 0 || f->confidence != CONFIDENCE_UNKNOWN) && f->severity > worst)
			worst = f->severity;
	}
	return worst;
}

/*
 * Check i is open on some address of family fam and, on every address of the other family (at
 * least one), closed or filtered: a verdict each, never "error" (not tested is not closed).
 */
static void cross_family(struct visit *v, size_t i, sa_family_t fam)
{
	size_t open = v->n, other = v->n;
	bool all_shut = true;

	for (size_t t = 0; t < v->n; t++) {
		enum port_state s = diagnosis_check_state(v->slots[t].d, i);

		if (v->targets[t].addr.family == fam) {
			if (s == PORT_OPEN && open == v->n)
				open = t;
			continue;
		}
		if (other == v->n)
			other = t;
		all_shut &= s == PORT_CLOSED || s == PORT_FILTERED;
	}
	if (open == v->n || other == v->n || !all_shut)
		return;

	const struct diagnosis *d = v->slots[open].d;
	struct visit_finding *vf = &v->findings[v->n_findings++];
	enum port_state shut = diagnosis_check_state(v->slots[other].d, i);
	char a_open[ADDR_STRLEN], a_other[ADDR_STRLEN];

	*vf = (struct visit_finding){.check = i, .target = open};
	snprintf(vf->f.id, sizeof(vf->f.id), "%s",
	         fam == AF_INET6 ? FINDING_IPV6_ONLY : FINDING_IPV4_ONLY);
	vf->f.severity = door_severity(d, i);
	/* A reset is proof the port is shut there; silence might be a lossy path. */
	vf->f.confidence = shut == PORT_CLOSED ? CONFIDENCE_CONFIRMED : CONFIDENCE_LIKELY;
	if (addr_format(&v->targets[open].addr, a_open, sizeof(a_open)) < 0 ||
	    addr_format(&v->targets[other].addr, a_other, sizeof(a_other)) < 0)
		return;
	snprintf(vf->f.reason, sizeof(vf->f.reason), "port %u open on %s, %s on %s",
	         (unsigned)diagnosis_port(d, i, diagnosis_check_reported(d, i)), a_open,
	         port_state_name(shut), a_other);
}

static void compute_findings(struct visit *v)
{
	size_t n_checks = diagnosis_checks(v->slots[0].d);

	v->n_findings = 0;
	for (size_t i = 0; i < n_checks && i < CATALOGUE_MAX_CHECKS; i++) {
		size_t before = v->n_findings;

		cross_family(v, i, AF_INET6);
		/* Both cannot hold for one check: each needs the other family shut everywhere. */
		if (v->n_findings == before)
			cross_family(v, i, AF_INET);
	}
}

static void slot_check(void *ud, struct diagnosis *d, size_t i)
{
	struct visit_slot *s = ud;

	(void)d;
	if (!s->v->orphan && s->v->on_check)
		s->v->on_check(s->v->ud, s->v, s->t, i);
}

static void slot_done(void *ud, struct diagnosis *d)
{
	struct visit_slot *s = ud;
	struct visit *v = s->v;

	(void)d;
	s->done = true;
	if (++v->n_done < v->n_started)
		return;
	if (v->orphan) {
		visit_release(v);
		return;
	}
	compute_findings(v);
	v->finished = true;
	if (v->on_done)
		v->on_done(v->ud, v); /* may free v: nothing after this */
}

/* Validate and copy the targets; the slots point back at v. */
static struct visit *visit_alloc(const struct visit_target *t, size_t n, visit_check_cb *on_check,
                                 visit_done_cb *on_done, void *ud, int *err)
{
	struct visit *v;

	*err = -ERR_RANGE;
	if (n == 0 || n > VISIT_MAX_TARGETS)
		return NULL;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (addr_equal(&t[i].addr, &t[j].addr))
				return NULL; /* one address is diagnosed once */
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		*err = -ERR_NOMEM;
		return NULL;
	}
	v->n = n;
	memcpy(v->targets, t, n * sizeof(*t));
	for (size_t i = 0; i < n; i++)
		v->slots[i] = (struct visit_slot){.v = v, .t = i};
	v->on_check = on_check;
	v->on_done = on_done;
	v->ud = ud;
	*err = 0;
	return v;
}

struct visit *visit_new(const char *target, const struct visit_target *t, size_t n,
                        const struct diag_options *o, visit_check_cb *on_check,
                        visit_done_cb *on_done, void *ud, int *err)
{
	struct visit *v = visit_alloc(t, n, on_check, on_done, ud, err);

	for (size_t i = 0; v && i < n; i++) {
		v->slots[i].d =
		    diagnosis_new(target, &t[i].addr, o, slot_check, slot_done, &v->slots[i]);
		if (v->slots[i].d == NULL) {
			visit_release(v);
			*err = -ERR_NOMEM;
			return NULL;
		}
		v->n_started++;
	}
	return v;
}

struct visit *visit_start(struct engine *e, const char *target, const struct visit_target *t,
                          size_t n, const struct diag_options *o, visit_check_cb *on_check,
                          visit_done_cb *on_done, void *ud, int *err)
{
	struct visit *v = visit_alloc(t, n, on_check, on_done, ud, err);

	for (size_t i = 0; v && i < n; i++) {
		v->slots[i].d = diagnosis_start(e, target, &t[i].addr, o, slot_check, slot_done,
		                                &v->slots[i], err);
		if (v->slots[i].d != NULL) {
			v->n_started++;
			continue;
		}
		if (v->n_started == 0) {
			visit_release(v);
			return NULL;
		}
		/* The started ones hold engine callbacks: they finish unseen and free v. */
		v->n = v->n_started;
		v->orphan = true;
		return NULL;
	}
	return v;
}

struct visit *visit_adopt(struct diagnosis *const *d, size_t n, enum visit_proof proven, int *err)
{
	struct visit_target t[VISIT_MAX_TARGETS];
	struct visit *v = NULL;
	bool ok = n > 0 && n <= VISIT_MAX_TARGETS;

	for (size_t i = 0; ok && i < n; i++) {
		ok = diagnosis_done(d[i]);
		t[i] = (struct visit_target){*diagnosis_addr(d[i]), proven};
	}
	if (ok)
		v = visit_alloc(t, n, NULL, NULL, NULL, err);
	else
		*err = -ERR_RANGE;
	if (v == NULL) {
		for (size_t i = 0; i < n; i++)
			diagnosis_free(d[i]);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		v->slots[i].d = d[i];
		v->slots[i].done = true;
	}
	v->n_started = v->n_done = n;
	compute_findings(v);
	v->finished = true;
	return v;
}

struct diagnosis *visit_diagnosis_mut(struct visit *v, size_t t)
{
	return t < v->n ? v->slots[t].d : NULL;
}

size_t visit_targets(const struct visit *v)
{
	return v->n;
}

const struct visit_target *visit_target(const struct visit *v, size_t t)
{
	return t < v->n ? &v->targets[t] : NULL;
}

const struct diagnosis *visit_diagnosis(const struct visit *v, size_t t)
{
	return t < v->n ? v->slots[t].d : NULL;
}

bool visit_done(const struct visit *v)
{
	return v->finished;
}

size_t visit_checks_done(const struct visit *v)
{
	size_t n = 0;

	for (size_t t = 0; t < v->n; t++)
		n += diagnosis_checks_done(v->slots[t].d);
	return n;
}

size_t visit_checks_total(const struct visit *v)
{
	size_t n = 0;

	for (size_t t = 0; t < v->n; t++)
		n += diagnosis_checks(v->slots[t].d);
	return n;
}

size_t visit_findings(const struct visit *v)
{
	return v->n_findings;
}

const struct visit_finding *visit_finding(const struct visit *v, size_t k)
{
	return k < v->n_findings ? &v->findings[k] : NULL;
}

/* As diagnosis.c counts a finding: info and low are "something there, nothing risky". */
static enum risk risk_of_severity(enum severity s)
{
	switch (s) {
	case SEVERITY_CRITICAL:
		return RISK_CRITICAL;
	case SEVERITY_HIGH:
		return RISK_HIGH;
	case SEVERITY_MEDIUM:
		return RISK_MEDIUM;
	default:
		return RISK_LOW;
	}
}

enum risk visit_risk(const struct visit *v)
{
	enum risk worst = RISK_NONE;

	for (size_t t = 0; t < v->n; t++) {
		enum risk r = diagnosis_risk(v->slots[t].d);
		if (r > worst)
			worst = r;
	}
	for (size_t k = 0; k < v->n_findings; k++) {
		enum risk r = risk_of_severity(v->findings[k].f.severity);
		if (r > worst)
			worst = r;
	}
	return worst;
}
