/* SPDX-License-Identifier: MIT */
/*
 * A visit without an engine, for the unit tests: visit_new() builds the per-address diagnoses
 * with diagnosis_new() (diagnosis_internal.h) and the tests feed them with diagnosis_record()
 * through visit_diagnosis_mut(). visit_start() is visit_new()'s composition with
 * diagnosis_start(), so the merge the tests check is the one the engine path runs.
 */
#ifndef EXPOSURE_DIAGNOSIS_VISIT_INTERNAL_H
#define EXPOSURE_DIAGNOSIS_VISIT_INTERNAL_H

#include "diagnosis/visit.h"

struct visit *visit_new(const char *target, const struct visit_target *t, size_t n,
                        const struct diag_options *o, visit_check_cb *on_check,
                        visit_done_cb *on_done, void *ud, int *err);

struct diagnosis *visit_diagnosis_mut(struct visit *v, size_t t);

#endif
