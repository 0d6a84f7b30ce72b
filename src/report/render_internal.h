/* SPDX-License-Identifier: MIT */
/*
 * Internal to report rendering: what render_text.c (table, CSV, JSON) and render_svg.c (SVG
 * charts, dashboard HTML) share. Every writer appends to one core/sbuf.h buffer and leaves the
 * error in it.
 */
#ifndef EXPOSURE_REPORT_RENDER_INTERNAL_H
#define EXPOSURE_REPORT_RENDER_INTERNAL_H

#include "core/sbuf.h"
#include "report/report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One measure of one set of results. */
struct measure {
	const char *measure; /* "headline", "risky", "check", "finding", "finding-unknown" */
	const char *name;
	uint64_t count;
	uint64_t n; /* its denominator: every result, or those that ran the check (profiles) */
};

#define MEASURES_MAX (2 + REPORT_MAX_CHECKS + 2 * REPORT_MAX_FINDINGS)

/*
 * The measures of a in display order into m (MEASURES_MAX); findings too if asked, then, for
 * each finding that any counted result holds only as unknown, that share ("finding-unknown").
 * Each with its denominator: a check's share counts the results that ran it, a finding's those
 * that ran the check listing it (or one that runs that check), the rest every result of a.
 */
size_t render_measures(const struct report *r, const struct report_acc *a, bool findings,
                       struct measure *m);

/* "139 or 445 reachable", "SMB (445) reachable", "finding smb1-enabled", "finding
 * ms17-010-vulnerable not known", ... */
void render_measure_title(const struct report *r, const struct measure *m, char *buf, size_t n);

/* The period's bounds as text, "" for an open end (n >= 21 each). */
void render_period(const struct report *r, char *from, char *to, size_t n);

/* Whether a trend bucket holds enough results to show its shares. */
bool render_bucket_shown(const struct report *r, const struct report_bucket *b);

/* What is counted, the period, label and sample: one line each, every line led by lead. */
void render_header_lines(struct sbuf *b, const struct report *r, const char *lead);

/* The breakdown --by asks for, NULL for none. */
const struct report_answers *render_answers(const struct report *r, enum report_by by);

/* "by connection answer", "by device class" or "by address families tested". */
const char *render_answers_title(enum report_by by);

/* The column of a breakdown's groups: "answer", "class" or "families". */
const char *render_answers_column(enum report_by by);

/*
 * The checks that some counted results did not run (a store holding results of different
 * profiles), each as "ssdp (1900/udp): run in 120 of 500 results", one a line after lead; ""
 * when every result ran every check.
 */
void render_profile_notes(struct sbuf *b, const struct report *r, const char *lead);

/* Record a failure in b (the first one sticks, as sbuf's own). */
void render_fail(struct sbuf *b, int err);

void render_table(struct sbuf *b, const struct report *r);
void render_csv(struct sbuf *b, const struct report *r);
void render_json(struct sbuf *b, const struct report *r);
void render_svg(struct sbuf *b, const struct report *r);
void render_html(struct sbuf *b, const struct report *r, const char *csv_href);

#endif
