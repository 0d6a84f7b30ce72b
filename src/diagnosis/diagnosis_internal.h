/* SPDX-License-Identifier: MIT */
/*
 * The parts of a diagnosis below diagnosis_start(): building one without an engine and feeding
 * it port results. diagnosis_start() is exactly diagnosis_new() + one engine_submit() per port
 * whose callback calls diagnosis_record(); the unit tests use the same two calls with
 * fabricated results, so what they check is what the engine path produces.
 */
#ifndef EXPOSURE_DIAGNOSIS_DIAGNOSIS_INTERNAL_H
#define EXPOSURE_DIAGNOSIS_DIAGNOSIS_INTERNAL_H

#include "diagnosis/diagnosis.h"

/*
 * A diagnosis of every catalogue check on a, with no engine: results arrive only through
 * diagnosis_record(). started is the current time. NULL on out of memory.
 */
struct diagnosis *diagnosis_new(const char *target, const struct addr *a,
                                const struct diag_options *o, diag_check_cb *on_check,
                                diag_done_cb *on_done, void *ud);

/*
 * The result of one port of check i. Takes res->details (sets it to NULL); res may be NULL
 * (no probe ran: its questions are not asked; but an open port with NULL and sys_errno set is a
 * probe that could not run, the engine's out of memory, and its questions are unknown). Calls
 * on_check when the check is complete and on_done after the last check.
 * Returns 0; -ERR_RANGE if i or port is not part of the diagnosis; -EALREADY if that port
 * already has its result.
 */
int diagnosis_record(struct diagnosis *d, size_t i, uint16_t port, const struct port_result *pr,
                     struct probe_result *res);

#endif
