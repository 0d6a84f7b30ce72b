/* SPDX-License-Identifier: MIT */
/*
 * One diagnosis: every check of the catalogue against one address, run on an engine, with the
 * verdicts, findings and overall risk. Shared by `exposure check` and `exposure serve`. The
 * caller has already passed the address through the policy (core/policy.h).
 *
 * Read it through the typed accessors below (what the text output, the store rows and the
 * metrics use); its JSON form (docs/json.md, diagnosis_json.c) is for the edges where JSON is
 * the contract: `--json`, the HTTP API, the stored document.
 */
#ifndef EXPOSURE_DIAGNOSIS_DIAGNOSIS_H
#define EXPOSURE_DIAGNOSIS_DIAGNOSIS_H

#include "engine/engine.h"
#include "catalogue/catalogue.h"

#include <jansson.h>
#include <time.h>

/* Overall risk: the worst severity among findings (info counts as low), or none. */
enum risk { RISK_NONE = 0, RISK_LOW, RISK_MEDIUM, RISK_HIGH, RISK_CRITICAL, RISK_X_MAX };

struct diag_options {
	const struct port_overrides *ports; /* NULL = the catalogue's ports */
	/* The checks to run, a set of catalogue indices (catalogue_select()); 0 = the profile
	 * "2017". Check i of the diagnosis is then the i-th check of the set, in catalogue order.
	 */
	uint32_t checks;
	unsigned timeout_ms; /* 0 = adaptive (engine); else a fixed per-attempt timeout */
	bool ports_only;     /* port states only, like nmap -sT: no protocol check runs */
	/* Checks (catalogue indices, like checks) whose operator-enabled probe runs instead of
	 * their default one (check_def.probe_opt_in: iscsi's discovery session); 0 = none. */
	uint32_t opt_in;
};

struct diagnosis;

/* A check finished (its index in the diagnosis: diagnosis_check_def()). Called from the loop. */
typedef void diag_check_cb(void *ud, struct diagnosis *d, size_t check);
/*
 * Every check finished. Called once, from the loop, after the last on_check; d stays valid until
 * diagnosis_free(), which the callee may call from inside this callback.
 */
typedef void diag_done_cb(void *ud, struct diagnosis *d);

/*
 * Start diagnosing address a (target is the name the user typed, kept for the report).
 * Returns the diagnosis, or NULL on failure (with *err set to a negative code); on failure no
 * callback is ever called.
 */
struct diagnosis *diagnosis_start(struct engine *e, const char *target, const struct addr *a,
                                  const struct diag_options *o, diag_check_cb *on_check,
                                  diag_done_cb *on_done, void *ud, int *err);

/* Number of checks (those of the set it runs) and whether check i has finished. */
size_t diagnosis_checks(const struct diagnosis *d);
bool diagnosis_check_done(const struct diagnosis *d, size_t i);

/* How many checks have finished, and whether all have (on_done was called). */
size_t diagnosis_checks_done(const struct diagnosis *d);
bool diagnosis_done(const struct diagnosis *d);

/* The target as given to diagnosis_start() and the address; valid until diagnosis_free(). */
const char *diagnosis_target(const struct diagnosis *d);
const struct addr *diagnosis_addr(const struct diagnosis *d);

/* When the diagnosis started (CLOCK_REALTIME), and milliseconds from then to the end of its
 * last check (to now while it runs). */
const struct timespec *diagnosis_started(const struct diagnosis *d);
double diagnosis_elapsed_ms(const struct diagnosis *d);

/*
 * True if a finished check ended in PORT_ERROR (a local failure: we could not test, which is
 * never a verdict about the target). Its JSON "state" is "error".
 */
bool diagnosis_has_error(const struct diagnosis *d);

/* Overall risk so far (final once on_done was called). */
enum risk diagnosis_risk(const struct diagnosis *d);

/*
 * Reading one check, typed. i < diagnosis_checks(d); k < diagnosis_check_ports(d, i). Nothing
 * allocates; what a pointer points to stays valid and unchanged until diagnosis_free() (a
 * check's data is written once, when it finishes). Read a check only once
 * diagnosis_check_done() says it finished: before, the state is PORT_X_MAX, the reported port
 * 0, there are no findings and a port without its result yet reads as NULL.
 */

/* The catalogue entry of check i: its name, probe, exposed finding, labels. */
const struct check_def *diagnosis_check_def(const struct diagnosis *d, size_t i);

/*
 * The state of check i over all its ports, by THE folding rule of a check's state (the JSON
 * "state", the page, the report's summaries all take it from here): open if any port is
 * open; else error if any port could not be tested (it might have been open: never a false
 * "closed"); else open|filtered if a UDP port answered nothing at all (it might be open);
 * else closed if any port answered with a reset or port unreachable; else filtered.
 */
enum port_state diagnosis_check_state(const struct diagnosis *d, size_t i);

/* How many ports check i probes: 1, or every port of a range, in port order. */
size_t diagnosis_check_ports(const struct diagnosis *d, size_t i);

/* Which of them (an index k) the check reports: its first open port, else its first port. */
size_t diagnosis_check_reported(const struct diagnosis *d, size_t i);

/*
 * The result check i reports (the JSON check object): the reported port's reason, ICMP,
 * errno, rtt and tries, with the check's folded state. *out is zeroed first; its state is
 * PORT_X_MAX while the check runs.
 */
void diagnosis_check_result(const struct diagnosis *d, size_t i, struct port_result *out);

/* Port k of check i: its number, and its result (NULL until it has one). rtt_ms has
 * microsecond resolution (< 0: nothing answered). */
uint16_t diagnosis_port(const struct diagnosis *d, size_t i, size_t k);
const struct port_result *diagnosis_port_result(const struct diagnosis *d, size_t i, size_t k);

/* What the protocol check named on port k ("ssh", "http"...; ASCII), "" when nothing. */
const char *diagnosis_port_service(const struct diagnosis *d, size_t i, size_t k);

/* What the probe of port k learnt (a JSON object, docs/json.md "details"), borrowed: do not
 * change it. NULL when no probe ran or it learnt nothing. */
const json_t *diagnosis_port_details(const struct diagnosis *d, size_t i, size_t k);

/* The findings of check i, in the order of docs/json.md: the check's exposed finding first
 * (an open port), then the probes'. Ids, reasons: ASCII. */
size_t diagnosis_check_findings(const struct diagnosis *d, size_t i);
const struct finding *diagnosis_finding(const struct diagnosis *d, size_t i, size_t k);

/*
 * The questions of check i (catalogue.h, check_question()): how the check settled each on its
 * open ports. A question never goes missing: left undecided on an open port, it is a finding
 * with confidence unknown and a reason (added by the diagnosis when the probe did not).
 */
enum question_state {
	QUESTION_NOT_ASKED = 0,  /* no open port, or no protocol check ran (--ports-only) */
	QUESTION_YES,            /* its finding, confirmed, likely or possible */
	QUESTION_NO,             /* the probe answered no */
	QUESTION_NOT_APPLICABLE, /* cannot arise there (MS17-010 with SMB1 off) */
	QUESTION_UNKNOWN,        /* its finding with confidence unknown */
	QUESTION_X_MAX
};

/* How many questions check i has, and the k-th: its id (*id, may be NULL) and state. */
size_t diagnosis_check_questions(const struct diagnosis *d, size_t i);
enum question_state diagnosis_question(const struct diagnosis *d, size_t i, size_t k,
                                       const char **id);

/* "yes", "no", "not-applicable", "unknown", "not-asked". */
const char *question_state_name(enum question_state s);

/* The JSON form (diagnosis_json.c), written from the accessors above. */

/* The JSON object of one finished check (schema: docs/json.md); new reference. */
json_t *diagnosis_check_json(const struct diagnosis *d, size_t i);

/* The whole document of docs/json.md for this target; new reference. */
json_t *diagnosis_json(const struct diagnosis *d);

/* "critical", "high", "medium", "low", "none". */
const char *risk_name(enum risk r);

/* Free; takes NULL. Only after on_done (the engine may still hold callbacks before). */
void diagnosis_free(struct diagnosis *d);

#endif
