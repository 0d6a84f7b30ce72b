/* SPDX-License-Identifier: MIT */
/*
 * The schema 2 document of a visit (docs/json.md): the first address's one-address document
 * (every field where old readers look), its risk and elapsed time widened to the whole visit,
 * plus "schema", "targets", every address's check rows with their "address", and the
 * cross-family "findings".
 */
#include "diagnosis/visit.h"
#include "core/err.h"

#include <math.h>
#include <string.h>
#include <sys/socket.h>

static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (value == NULL || json_object_set_new(obj, key, value) != 0)
		*ok = false;
}

static json_t *address_json(const struct addr *a)
{
	char buf[ADDR_STRLEN];

	return addr_format(a, buf, sizeof(buf)) < 0 ? NULL : json_string(buf);
}

json_t *visit_check_json(const struct visit *v, size_t t, size_t i)
{
	const struct diagnosis *d = visit_diagnosis(v, t);
	json_t *o = d ? diagnosis_check_json(d, i) : NULL;
	bool ok = true;

	if (o == NULL)
		return NULL;
	put(o, "address", address_json(&visit_target(v, t)->addr), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *targets_json(const struct visit *v, bool *ok)
{
	json_t *arr = json_array();

	for (size_t t = 0; arr && t < visit_targets(v); t++) {
		const struct visit_target *vt = visit_target(v, t);
		json_t *o = json_object();

		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(o);
			*ok = false;
			continue;
		}
		put(o, "address", address_json(&vt->addr), ok);
		put(o, "family", json_integer(vt->addr.family == AF_INET6 ? 6 : 4), ok);
		put(o, "proven", json_string(visit_proof_name(vt->proven)), ok);
	}
	return arr;
}

/*
 * Every address's check rows into arr, which already holds the first address's rows as
 * diagnosis_json() made them (the same objects visit_check_json() makes, but for "address").
 * Building them again made the service build each of the first address's check objects three
 * times (the web runner's, then twice here) instead of twice: jansson's allocations are a good
 * part of the service's time per diagnosis (bench/RESULTS.md, issue 10).
 */
static void checks_json(const struct visit *v, json_t *arr, bool *ok)
{
	if (!json_is_array(arr)) {
		*ok = false;
		return;
	}
	for (size_t k = 0; k < json_array_size(arr); k++)
		put(json_array_get(arr, k), "address", address_json(&visit_target(v, 0)->addr), ok);
	for (size_t t = 1; t < visit_targets(v); t++) {
		const struct diagnosis *d = visit_diagnosis(v, t);

		for (size_t i = 0; i < diagnosis_checks(d); i++) {
			if (!diagnosis_check_done(d, i))
				continue;
			json_t *c = visit_check_json(v, t, i);
			if (c == NULL || json_array_append_new(arr, c) != 0)
				*ok = false;
		}
	}
}

static json_t *findings_json(const struct visit *v, bool *ok)
{
	json_t *arr = json_array();

	for (size_t k = 0; arr && k < visit_findings(v); k++) {
		const struct visit_finding *vf = visit_finding(v, k);
		const struct diagnosis *d = visit_diagnosis(v, vf->target);
		json_t *o = json_object();

		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(o);
			*ok = false;
			continue;
		}
		put(o, "id", json_string(vf->f.id), ok);
		put(o, "severity", json_string(severity_name(vf->f.severity)), ok);
		put(o, "confidence", json_string(confidence_name(vf->f.confidence)), ok);
		put(o, "check", json_string(diagnosis_check_def(d, vf->check)->name), ok);
		put(o, "port",
		    json_integer(
		        diagnosis_port(d, vf->check, diagnosis_check_reported(d, vf->check))),
		    ok);
		put(o, "address", address_json(&visit_target(v, vf->target)->addr), ok);
		if (vf->f.reason[0])
			put(o, "reason",
			    json_stringn(vf->f.reason, strnlen(vf->f.reason, sizeof(vf->f.reason))),
			    ok);
	}
	return arr;
}

json_t *visit_json(const struct visit *v)
{
	json_t *o = diagnosis_json(visit_diagnosis(v, 0));
	double elapsed = 0;
	bool ok = true;

	if (o == NULL)
		return NULL;
	for (size_t t = 0; t < visit_targets(v); t++) {
		double e = diagnosis_elapsed_ms(visit_diagnosis(v, t));
		if (e > elapsed)
			elapsed = e;
	}
	put(o, "schema", json_integer(VISIT_SCHEMA), &ok);
	put(o, "elapsed_ms", json_real(round(elapsed * 1000.0) / 1000.0), &ok);
	put(o, "risk", json_string(risk_name(visit_risk(v))), &ok);
	put(o, "targets", targets_json(v, &ok), &ok);
	checks_json(v, json_object_get(o, "checks"), &ok);
	put(o, "findings", findings_json(v, &ok), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}
