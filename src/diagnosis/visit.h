/* SPDX-License-Identifier: MIT */
/*
 * One visitor's diagnosis: every address the visitor proved it holds (the TCP peer, and the
 * addresses of its tickets on the service's IPv4-only and IPv6-only host names), each diagnosed
 * by its own struct diagnosis in parallel on the same engine, finished together. On top, the
 * findings no single address can show: a door open on one family and closed or filtered on the
 * other (ipv6-only-exposure, ipv4-only-exposure; catalogue.h).
 *
 * The JSON form (docs/json.md, schema 2) keeps every field of the one-address document where it
 * was (the first address's) and adds "schema", "targets", an "address" on every check row and
 * the cross-family "findings".
 */
#ifndef EXPOSURE_DIAGNOSIS_VISIT_H
#define EXPOSURE_DIAGNOSIS_VISIT_H

#include "diagnosis/diagnosis.h"

/* Addresses in one visit at most: the peer and two tickets. */
#define VISIT_MAX_TARGETS 3

/* The document's "schema". */
#define VISIT_SCHEMA 2

/* How the visitor proved it holds an address. */
enum visit_proof {
	VISIT_PEER = 0, /* the address that made the request (web) */
	VISIT_TICKET,   /* proven by an address ticket (web) */
	VISIT_RESOLVED, /* an address of the host name given (exposure check) */
	VISIT_PROOF_X_MAX
};

struct visit_target {
	struct addr addr;
	enum visit_proof proven;
};

/* A cross-family finding: about check `check`, seen open on target `target` only. */
struct visit_finding {
	struct finding f;
	size_t check;  /* index into catalogue_checks() */
	size_t target; /* the address where the door is open (the first one if several) */
};

struct visit;

/* Check `check` of target t finished. Called from the loop. */
typedef void visit_check_cb(void *ud, struct visit *v, size_t t, size_t check);
/* Every check of every target finished. Called once, from the loop; the callee may free v. */
typedef void visit_done_cb(void *ud, struct visit *v);

/*
 * Start diagnosing the n (1..VISIT_MAX_TARGETS) addresses of t, the first being the one the
 * document leads with (the peer). target is the name kept for the report. Returns the visit or
 * NULL with *err set (-ERR_RANGE for a bad n, or the failure of a diagnosis); on failure no
 * callback is ever called.
 */
struct visit *visit_start(struct engine *e, const char *target, const struct visit_target *t,
                          size_t n, const struct diag_options *o, visit_check_cb *on_check,
                          visit_done_cb *on_done, void *ud, int *err);

/*
 * A finished visit from n (1..VISIT_MAX_TARGETS) finished diagnoses of distinct addresses, each
 * proven so (exposure check: the addresses of one host name). Takes the diagnoses (freed by
 * visit_free(), also on failure). NULL with *err set: -ERR_RANGE (bad n, a diagnosis not
 * finished, an address twice) or -ERR_NOMEM.
 */
struct visit *visit_adopt(struct diagnosis *const *d, size_t n, enum visit_proof proven, int *err);

size_t visit_targets(const struct visit *v);
const struct visit_target *visit_target(const struct visit *v, size_t t);
/* The diagnosis of target t, read through diagnosis.h. */
const struct diagnosis *visit_diagnosis(const struct visit *v, size_t t);

bool visit_done(const struct visit *v);
/* Checks finished over every target, and how many there are in all. */
size_t visit_checks_done(const struct visit *v);
size_t visit_checks_total(const struct visit *v);

/* Cross-family findings (computed when the last diagnosis finishes; none before). */
size_t visit_findings(const struct visit *v);
const struct visit_finding *visit_finding(const struct visit *v, size_t k);

/* The worst of every target's risk and the cross-family findings. */
enum risk visit_risk(const struct visit *v);

/* "peer", "ticket". */
const char *visit_proof_name(enum visit_proof p);

/* The check object of target t's check i with its "address"; NULL until it finished. */
json_t *visit_check_json(const struct visit *v, size_t t, size_t i);

/* The whole schema 2 document; new reference, NULL on out of memory. */
json_t *visit_json(const struct visit *v);

/* Free; takes NULL. Only after on_done. */
void visit_free(struct visit *v);

#endif
