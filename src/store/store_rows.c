/* SPDX-License-Identifier: MIT */
/* A finished diagnosis as the store's rows (store_rows.h); moved here from web/runner.c. */
#include "store/store_rows.h"
#include "engine/engine.h"

size_t store_port_rows(const struct diagnosis *d, size_t i, struct store_check_row *rows)
{
	const char *name = diagnosis_check_def(d, i)->name;
	size_t n = diagnosis_check_ports(d, i), nc = 0;

	if (n == 1) {
		/* A single port is the check object itself: its state, reason, rtt and service. */
		const char *service = diagnosis_port_service(d, i, 0);
		struct port_result pr;

		diagnosis_check_result(d, i, &pr);
		rows[nc++] = (struct store_check_row){
		    .check = name,
		    .port = diagnosis_port(d, i, 0),
		    .state = port_state_name(pr.state),
		    .reason = port_reason_name(pr.reason),
		    .rtt_ms = pr.rtt_ms < 0 ? -1 : pr.rtt_ms,
		    .service = service[0] ? service : NULL,
		};
		return nc;
	}
	for (size_t k = 0; k < n; k++) {
		const struct port_result *pr = diagnosis_port_result(d, i, k);

		if (pr == NULL)
			continue;
		rows[nc++] = (struct store_check_row){
		    .check = name,
		    .port = diagnosis_port(d, i, k),
		    .state = port_state_name(pr->state),
		    .reason = port_reason_name(pr->reason),
		    .rtt_ms = pr->rtt_ms < 0 ? -1 : pr->rtt_ms,
		};
	}
	return nc;
}
