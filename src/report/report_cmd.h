/* SPDX-License-Identifier: MIT */
/* `exposure report`: the statistics of a store on the terminal, as JSON, CSV or SVG. */
#ifndef EXPOSURE_REPORT_REPORT_CMD_H
#define EXPOSURE_REPORT_REPORT_CMD_H

/* Exit codes of `exposure report` (docs/report.md). */
enum report_exit {
	REPORT_EXIT_OK = 0,
	REPORT_EXIT_FAIL = 1,       /* the store could not be read, out of memory, write error */
	REPORT_EXIT_USAGE = 2,      /* bad option or value, labels file, sample > population */
	REPORT_EXIT_NO_RESULTS = 3, /* nothing in the period (or label) */
};

/* Default store path, as for `exposure serve`. */
#define REPORT_DEFAULT_DB "./exposure.db"

/*
 * Run `exposure report` with argv[0] the command name. Writes the report to stdout and at
 * most one line to stderr on failure. Returns an enum report_exit value.
 */
int report_main(int argc, char **argv);

#endif
