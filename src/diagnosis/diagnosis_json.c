/* SPDX-License-Identifier: MIT */
/*
 * The JSON form of a diagnosis (docs/json.md): the contract of `exposure check --json`, the
 * HTTP API and the stored document. Written only through the typed accessors of diagnosis.h,
 * so the document says exactly what the text output and the store rows say.
 */
#include "diagnosis/diagnosis.h"
#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Milliseconds with microsecond resolution: enough for loopback, short in the document. */
static json_t *json_ms(double ms)
{
	return json_real(round(ms * 1000.0) / 1000.0);
}

static json_t *json_ms_or_null(double ms)
{
	return ms < 0 ? json_null() : json_ms(ms);
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

static json_t *findings_json(const struct diagnosis *d, size_t i, bool *ok)
{
	json_t *arr = json_array();

	if (arr == NULL) {
		*ok = false;
		return NULL;
	}
	for (size_t k = 0; k < diagnosis_check_findings(d, i); k++) {
		const struct finding *f = diagnosis_finding(d, i, k);
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
			put(o, "reason",
			    json_stringn(f->reason, strnlen(f->reason, sizeof(f->reason))), ok);
	}
	return arr;
}

/* details: what the probe of the reported port learnt, plus every port of a port range. */
static json_t *details_json(const struct diagnosis *d, size_t i, bool *ok)
{
	const json_t *learnt = diagnosis_port_details(d, i, diagnosis_check_reported(d, i));
	size_t n = diagnosis_check_ports(d, i);
	json_t *details = learnt ? json_deep_copy(learnt) : NULL;

	if (n == 1)
		return details ? details : json_null();
	if (details == NULL)
		details = json_object();
	json_t *ports = json_array();
	if (details == NULL || ports == NULL) {
		json_decref(ports);
		*ok = false;
		return details;
	}
	for (size_t k = 0; k < n; k++) {
		const struct port_result *pr = diagnosis_port_result(d, i, k);
		json_t *o = json_object();

		if (pr == NULL || o == NULL || json_array_append_new(ports, o) != 0) {
			json_decref(o);
			*ok = false;
			continue;
		}
		put(o, "port", json_integer(diagnosis_port(d, i, k)), ok);
		put_port_fields(o, pr, ok);
		put(o, "rtt_ms", json_ms_or_null(pr->rtt_ms), ok);
	}
	put(details, "ports", ports, ok);
	return details;
}

json_t *diagnosis_check_json(const struct diagnosis *d, size_t i)
{
	struct port_result pr;
	const char *service;
	size_t k;
	json_t *o;
	bool ok = true;

	if (!diagnosis_check_done(d, i))
		return NULL;
	k = diagnosis_check_reported(d, i);
	diagnosis_check_result(d, i, &pr);
	service = diagnosis_port_service(d, i, k);
	if ((o = json_object()) == NULL)
		return NULL;
	put(o, "check", json_string(diagnosis_check_def(d, i)->name), &ok);
	put(o, "port", json_integer(diagnosis_port(d, i, k)), &ok);
	put_port_fields(o, &pr, &ok);
	put(o, "rtt_ms", json_ms_or_null(pr.rtt_ms), &ok);
	put(o, "tries", json_integer(pr.tries), &ok);
	put(o, "service", service[0] ? json_string(service) : json_null(), &ok);
	put(o, "details", details_json(d, i, &ok), &ok);
	put(o, "findings", findings_json(d, i, &ok), &ok);
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

	if (addr_format(diagnosis_addr(d), addr, sizeof(addr)) < 0 ||
	    format_time(diagnosis_started(d), started, sizeof(started)) < 0)
		return NULL;
	if ((o = json_object()) == NULL)
		return NULL;
	put(o, "target", json_string(diagnosis_target(d)), &ok);
	put(o, "address", json_string(addr), &ok);
	put(o, "started", json_string(started), &ok);
	put(o, "elapsed_ms", json_ms(diagnosis_elapsed_ms(d)), &ok);
	put(o, "risk", json_string(risk_name(diagnosis_risk(d))), &ok);
	checks = json_array();
	for (size_t i = 0; checks && i < diagnosis_checks(d); i++) {
		if (!diagnosis_check_done(d, i))
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
