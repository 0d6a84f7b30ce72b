/* SPDX-License-Identifier: MIT */
/*
 * The content of /admin/stats for `exposure serve`: the same charts, tables and CSV as
 * `exposure report`, for a period and a label chosen in the page's query string. The web layer
 * owns the route, the operator token and the page around the fragment.
 */
#ifndef EXPOSURE_REPORT_REPORT_DASHBOARD_H
#define EXPOSURE_REPORT_REPORT_DASHBOARD_H

#include "report/labels.h"
#include "report/report.h"

#include <stddef.h>

/* Query parameters, as received (NULL or "" = not given). */
struct report_dashboard_query {
	const char *since;     /* DATE as for --since */
	const char *until;     /* DATE as for --until (a bare date includes that day) */
	const char *label;     /* a label name or "unlabelled"; else every group */
	const char *trend;     /* "day", "week" (default) or "none" */
	const char *per;       /* "diagnosis" (default) or "requester" */
	const char *min_group; /* decimal; default 10 */
	const char *by;        /* "connection", "device"; else no breakdown by answer */
};

/*
 * Turn a query into report options (labels as loaded by the service, may be NULL).
 * `exposure report --since S --until U --label L --trend T --per P --min-group G --by B
 * --labels F`
 * computes the same report. Returns 0, or -ERR_SYNTAX with a one-line reason in err (answer
 * 400).
 */
int report_dashboard_opts(const struct report_dashboard_query *q,
                          const struct report_labels *labels, struct report_opts *o, char *err,
                          size_t errlen);

/*
 * The HTML fragment (a <section>, no <html> or <head>; no script, no style element, SVG
 * with presentation attributes only, so it passes a strict Content-Security-Policy), with a
 * "Download CSV" link to csv_href (the caller's URL, HTML-escaped here; NULL = no link).
 * A period with no results gives a fragment saying so. *out is malloc'd, NUL-terminated, *len
 * bytes; the caller frees it. Returns 0; -ERR_SYNTAX (bad query: err has the reason, answer
 * 400); -ERR_RANGE (err has the reason, answer 400); other negative (answer 500).
 */
int report_dashboard_html(struct store *s, const struct report_labels *labels,
                          const struct report_dashboard_query *q, const char *csv_href, char **out,
                          size_t *len, char *err, size_t errlen);

/* The same report as CSV (text/csv; charset=utf-8), byte for byte `--format csv`. */
int report_dashboard_csv(struct store *s, const struct report_labels *labels,
                         const struct report_dashboard_query *q, char **out, size_t *len, char *err,
                         size_t errlen);

#endif
