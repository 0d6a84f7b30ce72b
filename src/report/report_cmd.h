/* SPDX-License-Identifier: MIT */
/*
 * `exposure report` below its options: open the store, load the labels, compute and write the
 * report, and say how it ended. The options are parsed in src/cli/cmd_report.c.
 */
#ifndef EXPOSURE_REPORT_REPORT_CMD_H
#define EXPOSURE_REPORT_REPORT_CMD_H

#include "report/report.h"
#include "report/report_dashboard.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of `exposure report` (docs/report.md). */
enum report_exit {
	REPORT_EXIT_OK = 0,
	REPORT_EXIT_FAIL = 1,       /* the store could not be read, out of memory, write error */
	REPORT_EXIT_USAGE = 2,      /* bad option or value, labels file, sample > population */
	REPORT_EXIT_NO_RESULTS = 3, /* nothing in the period (or label) */
};

/* Default store path, as for `exposure serve`. */
#define REPORT_DEFAULT_DB "./exposure.db"

/* One run of `exposure report`. */
struct report_cmd {
	const char *db;          /* the store, opened read-only */
	const char *labels_path; /* CSV of PREFIX,LABEL; NULL: no breakdown by label */
	enum report_format format;
	bool sampled; /* a uniform sample of sample_n (> 0) from seed */
	uint64_t sample_n, seed;
	struct report_dashboard_query q; /* period, label, trend, per and min-group, as text */
	const char
	    *sweep; /* a sweep's id: its hosts (docs/sweep.md); NULL: the service's results */
};

/*
 * Run c: write the report to out. Returns an enum report_exit value; for any but
 * REPORT_EXIT_OK, err holds one line (no newline) saying why, REPORT_EXIT_USAGE included (a
 * labels file, a query value or a sample the period cannot hold). With REPORT_EXIT_OK, err is
 * empty or holds a note: the sweep reported is incomplete (its failed shards named).
 */
int report_cmd_run(const struct report_cmd *c, FILE *out, char *err, size_t errlen);

#endif
