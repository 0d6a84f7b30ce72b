/* SPDX-License-Identifier: MIT */
/*
 * Rendering a report: what every format shares (measures, titles, period, header lines) and the
 * choice of format. The formats are in render_text.c (table, CSV, JSON) and render_svg.c (SVG
 * charts, dashboard HTML).
 */
#include "report/render_internal.h"

#include "catalogue/catalogue.h"
#include "core/err.h"
#include "report/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A ceiling on one rendered report: far above a year of daily trend rows with every measure. */
#define RENDER_MAX ((size_t)256 << 20)

void render_fail(struct sbuf *b, int err)
{
	if (b->err == 0)
		b->err = err;
}

/*
 * A finding's denominator: the results that ran the check listing it, or a check that runs
 * that one (check_reach); every result of a for the others (a visitor's finding, an id no check
 * of this catalogue lists).
 */
static uint64_t finding_n(const struct report *r, const struct report_acc *a, const char *id)
{
	const struct check_def *owner = catalogue_owner(id);

	for (size_t c = 0; owner && c < r->n_checks; c++)
		if (strcmp(r->check_names[c], owner->name) == 0)
			return a->check_reach[c];
	return a->n;
}

size_t render_measures(const struct report *r, const struct report_acc *a, bool findings,
                       struct measure *m)
{
	size_t k = 0;

	m[k++] = (struct measure){"headline", r->headline_name, a->headline, a->n};
	m[k++] = (struct measure){"risky", "medium-or-worse", a->risky, a->n};
	for (size_t i = 0; i < r->n_checks; i++) {
		size_t c = r->check_order[i];

		m[k++] =
		    (struct measure){"check", r->check_names[c], a->check_open[c], a->check_run[c]};
	}
	for (size_t i = 0; findings && i < r->n_findings; i++) {
		size_t f = r->finding_order[i];

		m[k++] = (struct measure){"finding", r->finding_names[f], a->finding[f],
		                          finding_n(r, a, r->finding_names[f])};
	}
	/* Only where there is one at all: a catalogue with no undecided result reads as before. */
	for (size_t i = 0; findings && i < r->n_findings; i++) {
		size_t f = r->finding_order[i];

		if (r->total.finding_unknown[f] > 0)
			m[k++] = (struct measure){"finding-unknown", r->finding_names[f],
			                          a->finding_unknown[f],
			                          finding_n(r, a, r->finding_names[f])};
	}
	return k;
}

void render_profile_notes(struct sbuf *b, const struct report *r, const char *lead)
{
	char title[64];

	for (size_t i = 0; i < r->n_checks; i++) {
		size_t c = r->check_order[i];

		if (r->total.check_run[c] == r->total.n)
			continue;
		catalogue_title(r->check_names[c], title, sizeof(title));
		sbuf_addf(b,
		          "%s%s: run in %llu of %llu %s, its shares are of those only (the others' "
		          "profile left it out)\n",
		          lead, title, (unsigned long long)r->total.check_run[c],
		          (unsigned long long)r->total.n, report_counting_name(r));
	}
}

void render_measure_title(const struct report *r, const struct measure *m, char *buf, size_t n)
{
	char title[64];

	if (strcmp(m->measure, "headline") == 0) {
		snprintf(buf, n, "%s reachable", r->headline_ports);
	} else if (strcmp(m->measure, "risky") == 0) {
		snprintf(buf, n, "risk medium or worse");
	} else if (strcmp(m->measure, "check") == 0) {
		catalogue_title(m->name, title, sizeof(title));
		snprintf(buf, n, "%s reachable", title);
	} else if (strcmp(m->measure, "finding-unknown") == 0) {
		snprintf(buf, n, "finding %s not known", m->name);
	} else {
		snprintf(buf, n, "finding %s", m->name);
	}
}

void render_period(const struct report *r, char *from, char *to, size_t n)
{
	from[0] = to[0] = '\0';
	if (r->opts.period.since_ms > 0)
		stats_format_time(r->opts.period.since_ms, from, n);
	if (r->opts.period.until_ms > 0 && r->opts.period.until_ms != INT64_MAX)
		stats_format_time(r->opts.period.until_ms, to, n);
}

const struct report_answers *render_answers(const struct report *r, enum report_by by)
{
	if (by == REPORT_BY_CONNECTION)
		return &r->by_connection;
	if (by == REPORT_BY_DEVICE)
		return &r->by_device;
	if (by == REPORT_BY_FAMILY)
		return &r->by_family;
	return NULL;
}

const char *render_answers_title(enum report_by by)
{
	return by == REPORT_BY_CONNECTION ? "by connection answer"
	       : by == REPORT_BY_DEVICE   ? "by device class"
	                                  : "by address families tested";
}

const char *render_answers_column(enum report_by by)
{
	return by == REPORT_BY_CONNECTION ? "answer"
	       : by == REPORT_BY_DEVICE   ? "class"
	                                  : "families";
}

bool render_bucket_shown(const struct report *r, const struct report_bucket *b)
{
	return b->acc.n >= r->min_group;
}

void render_header_lines(struct sbuf *b, const struct report *r, const char *lead)
{
	char from[32], to[32];

	render_period(r, from, to, sizeof(from));
	sbuf_addf(b, "%scounting %s (%s)\n", lead, report_counting_name(r),
	          r->opts.per == REPORT_PER_REQUESTER
	              ? "each requester once: its latest result in the period"
	              : "each finished diagnosis once");
	sbuf_addf(b, "%speriod: %s .. %s (UTC, end exclusive)\n", lead, from[0] ? from : "start",
	          to[0] ? to : "now");
	if (r->label_filter[0])
		sbuf_addf(b, "%slabel: %s\n", lead, r->label_filter);
	if (r->opts.sample_n > 0)
		sbuf_addf(b, "%ssample: %llu of %llu %s, uniform without replacement, seed %llu\n",
		          lead, (unsigned long long)r->opts.sample_n,
		          (unsigned long long)r->population, report_counting_name(r),
		          (unsigned long long)r->opts.seed);
	sbuf_addf(b, "%s%s: %llu\n", lead, report_counting_name(r), (unsigned long long)r->total.n);
	render_profile_notes(b, r, lead);
}

int report_format_parse(const char *s, enum report_format *out)
{
	static const char *const names[REPORT_FORMAT_X_MAX] = {"table", "json", "csv", "svg",
	                                                       "html"};

	for (int i = 0; i < REPORT_FORMAT_X_MAX; i++) {
		if (s && strcmp(s, names[i]) == 0) {
			*out = (enum report_format)i;
			return 0;
		}
	}
	return -ERR_SYNTAX;
}

int report_render(const struct report *r, enum report_format f, const char *csv_href, char **out,
                  size_t *len)
{
	struct sbuf b;
	int err;

	sbuf_init(&b, RENDER_MAX);
	switch (f) {
	case REPORT_FORMAT_TABLE:
		render_table(&b, r);
		break;
	case REPORT_FORMAT_JSON:
		render_json(&b, r);
		break;
	case REPORT_FORMAT_CSV:
		render_csv(&b, r);
		break;
	case REPORT_FORMAT_SVG:
		render_svg(&b, r);
		break;
	case REPORT_FORMAT_HTML:
		render_html(&b, r, csv_href);
		break;
	default:
		render_fail(&b, -ERR_SYNTAX);
	}
	err = b.err;
	/* An empty report is an allocated ""; a failed one is nothing. */
	*out = sbuf_take(&b, len);
	if (*out == NULL) {
		*len = 0;
		return err < 0 ? err : -ENOMEM;
	}
	return 0;
}
