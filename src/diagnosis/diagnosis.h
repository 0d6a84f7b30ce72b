/* SPDX-License-Identifier: MIT */
/*
 * One diagnosis: every check of the catalogue against one address, run on an engine, with the
 * verdicts, findings and overall risk, and its JSON form (docs/json.md). Shared by
 * `exposure check` and `exposure serve`. The caller has already passed the address through the
 * policy (core/policy.h).
 */
#ifndef EXPOSURE_DIAGNOSIS_DIAGNOSIS_H
#define EXPOSURE_DIAGNOSIS_DIAGNOSIS_H

#include "engine/engine.h"
#include "catalogue/catalogue.h"

#include <jansson.h>

/* Overall risk: the worst severity among findings (info counts as low), or none. */
enum risk { RISK_NONE = 0, RISK_LOW, RISK_MEDIUM, RISK_HIGH, RISK_CRITICAL, RISK_X_MAX };

struct diag_options {
	const struct port_overrides *ports; /* NULL = the catalogue's ports */
	unsigned timeout_ms; /* 0 = adaptive (engine); else a fixed per-attempt timeout */
	bool ports_only;     /* port states only, like nmap -sT: no protocol check runs */
};

struct diagnosis;

/* A check finished (index into catalogue_checks()). Called from the loop. */
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

/* Number of checks (== catalogue count) and whether check i has finished. */
size_t diagnosis_checks(const struct diagnosis *d);
bool diagnosis_check_done(const struct diagnosis *d, size_t i);

/* How many checks have finished, and whether all have (on_done was called). */
size_t diagnosis_checks_done(const struct diagnosis *d);
bool diagnosis_done(const struct diagnosis *d);

/* The target as given to diagnosis_start() and the address; valid until diagnosis_free(). */
const char *diagnosis_target(const struct diagnosis *d);
const struct addr *diagnosis_addr(const struct diagnosis *d);

/*
 * True if a finished check ended in PORT_ERROR (a local failure: we could not test, which is
 * never a verdict about the target). Its JSON "state" is "error".
 */
bool diagnosis_has_error(const struct diagnosis *d);

/* The JSON object of one finished check (schema: docs/json.md); new reference. */
json_t *diagnosis_check_json(const struct diagnosis *d, size_t i);

/* The whole document of docs/json.md for this target; new reference. */
json_t *diagnosis_json(const struct diagnosis *d);

/* Overall risk so far (final once on_done was called). */
enum risk diagnosis_risk(const struct diagnosis *d);

/* "critical", "high", "medium", "low", "none". */
const char *risk_name(enum risk r);

/* Free; takes NULL. Only after on_done (the engine may still hold callbacks before). */
void diagnosis_free(struct diagnosis *d);

#endif
