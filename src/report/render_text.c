/* SPDX-License-Identifier: MIT */
/* Rendering a report as text: the aligned table, and JSON and CSV with the same rows. */
#include "report/render_internal.h"

#include "catalogue/catalogue.h"
#include "core/err.h"
#include "report/stats.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *scope_group(const struct report *r)
{
	return r->label_filter[0] ? r->label_filter : "all";
}

static void pct(char *buf, size_t n, double v)
{
	snprintf(buf, n, "%.1f%%", 100.0 * v);
}

/* "3.0% [2.4%, 3.7%]" or "-" when n == 0. */
static void share_text(char *buf, size_t n, uint64_t x, uint64_t total)
{
	double lo, hi;
	char a[16], b[16], c[16];

	if (stats_wilson(x, total, STATS_Z95, &lo, &hi) < 0) {
		snprintf(buf, n, "-");
		return;
	}
	pct(a, sizeof(a), (double)x / (double)total);
	pct(b, sizeof(b), lo);
	pct(c, sizeof(c), hi);
	snprintf(buf, n, "%s [%s, %s]", a, b, c);
}

/* "tested on IPv4" and the like: the set's count of all, its headline and risky shares. */
static void table_tested(struct sbuf *b, const struct report *r, const char *name,
                         const struct report_acc *a)
{
	char share[64], s2[64], s3[64];

	share_text(share, sizeof(share), a->n, r->total.n);
	if (a->n >= r->min_group) {
		share_text(s2, sizeof(s2), a->headline, a->n);
		share_text(s3, sizeof(s3), a->risky, a->n);
	} else {
		snprintf(s2, sizeof(s2), "(too few)");
		snprintf(s3, sizeof(s3), "(too few)");
	}
	sbuf_addf(b, "%-24s %10llu  %-28s %-28s %s\n", name, (unsigned long long)a->n, share, s2,
	          s3);
}

/* One cross-family finding: its share of every result, and of those tested on both. */
static void table_only(struct sbuf *b, const struct report *r, const char *id, uint64_t x)
{
	char share[64], s2[64];

	share_text(share, sizeof(share), x, r->total.n);
	share_text(s2, sizeof(s2), x, r->tested[2].n);
	sbuf_addf(b, "%-24s %10llu  %-28s %s\n", id, (unsigned long long)x, share, s2);
}

/* --by family: the sets tested on each family and on both, and the cross-family findings. */
static void table_families(struct sbuf *b, const struct report *r, const char *head)
{
	sbuf_addf(b, "\n%-24s %10s  %-28s %-28s %s\n", "tested on", report_counting_name(r),
	          "share of all", head, "risk medium or worse");
	table_tested(b, r, "IPv4", &r->tested[0]);
	table_tested(b, r, "IPv6", &r->tested[1]);
	table_tested(b, r, "both", &r->tested[2]);
	sbuf_addf(b, "\n%-24s %10s  %-28s %s\n", "finding", report_counting_name(r), "share of all",
	          "share of those tested on both");
	table_only(b, r, FINDING_IPV6_ONLY, r->only_exposure[1]);
	table_only(b, r, FINDING_IPV4_ONLY, r->only_exposure[0]);
}

/* The shares of one breakdown by answer, and for the connection the 2017 claim. */
static void table_answers(struct sbuf *b, const struct report *r, const char *head)
{
	const struct report_answers *an = render_answers(r, r->opts.by);
	char share[64], s2[64];

	sbuf_addf(b, "\n%s (groups under %u folded into \"%s\")\n",
	          render_answers_title(r->opts.by), r->min_group, REPORT_BY_FOLDED);
	sbuf_addf(b, "%-24s %10s  %-28s %s\n", render_answers_column(r->opts.by),
	          report_counting_name(r), head, "risk medium or worse");
	for (size_t g = 0; g < an->n_groups; g++) {
		const struct report_acc *a = &an->groups[g].acc;

		share_text(share, sizeof(share), a->headline, a->n);
		share_text(s2, sizeof(s2), a->risky, a->n);
		sbuf_addf(b, "%-24s %10llu  %-28s %s\n", an->groups[g].name,
		          (unsigned long long)a->n, share, s2);
	}
	if (an->suppressed > 0)
		sbuf_addf(b, "(%llu in groups too small to show, even together)\n",
		          (unsigned long long)an->suppressed);
	if (r->opts.by == REPORT_BY_FAMILY)
		table_families(b, r, head);
	if (r->opts.by != REPORT_BY_CONNECTION)
		return;
	share_text(share, sizeof(share), r->headline_mobile, r->total.headline);
	share_text(s2, sizeof(s2), r->headline_mobile, r->headline_answered);
	sbuf_addf(b, "\nof the %llu %s with %s, answered sim or usb-modem: %llu  %s\n",
	          (unsigned long long)r->total.headline, report_counting_name(r), head,
	          (unsigned long long)r->headline_mobile, share);
	sbuf_addf(b, "of the %llu of them that answered the question: %s\n",
	          (unsigned long long)r->headline_answered, s2);
}

void render_table(struct sbuf *b, const struct report *r)
{
	struct measure *m = calloc(MEASURES_MAX, sizeof(*m));
	char title[96], share[64], head[64];
	size_t k;

	if (m == NULL) {
		render_fail(b, -ENOMEM);
		return;
	}
	snprintf(head, sizeof(head), "%s reachable", r->headline_ports);
	render_header_lines(b, r, "");
	sbuf_addf(b, "\n%-40s %10s  %s\n", "measure", "count", "share [95% interval, Wilson]");
	k = render_measures(r, &r->total, true, m);
	for (size_t i = 0; i < k; i++) {
		render_measure_title(r, &m[i], title, sizeof(title));
		share_text(share, sizeof(share), m[i].count, m[i].n);
		sbuf_addf(b, "%-40s %10llu  %s\n", title, (unsigned long long)m[i].count, share);
	}
	if (r->opts.labels != NULL && !r->label_filter[0]) {
		sbuf_addf(b, "\nby network label (groups under %u folded into \"%s\")\n",
		          r->min_group, LABELS_OTHER);
		sbuf_addf(b, "%-24s %10s  %-28s %s\n", "label",
		          r->opts.per == REPORT_PER_REQUESTER ? "requesters" : "results", head,
		          "risk medium or worse");
		for (size_t g = 0; g < r->n_groups; g++) {
			const struct report_acc *a = &r->groups[g].acc;
			char s2[64];

			share_text(share, sizeof(share), a->headline, a->n);
			share_text(s2, sizeof(s2), a->risky, a->n);
			sbuf_addf(b, "%-24s %10llu  %-28s %s\n", r->groups[g].name,
			          (unsigned long long)a->n, share, s2);
		}
		if (r->suppressed > 0)
			sbuf_addf(b, "(%llu in groups too small to show, even together)\n",
			          (unsigned long long)r->suppressed);
	}
	if (r->opts.by != REPORT_BY_NONE)
		table_answers(b, r, head);
	if (r->opts.trend != REPORT_TREND_NONE) {
		sbuf_addf(b, "\ntrend per %s (UTC%s; shares only where at least %u)\n",
		          r->opts.trend == REPORT_TREND_DAY ? "day" : "week",
		          r->opts.trend == REPORT_TREND_DAY ? "" : ", weeks start on Monday",
		          r->min_group);
		sbuf_addf(b, "%-12s %10s  %-28s %s\n", "from", report_counting_name(r), head,
		          "risk medium or worse");
		for (size_t i = 0; i < r->n_buckets; i++) {
			const struct report_bucket *bk = &r->buckets[i];
			char day[16], s2[64];

			stats_format_day(bk->start_ms, day, sizeof(day));
			if (render_bucket_shown(r, bk)) {
				share_text(share, sizeof(share), bk->acc.headline, bk->acc.n);
				share_text(s2, sizeof(s2), bk->acc.risky, bk->acc.n);
			} else {
				snprintf(share, sizeof(share), "(too few)");
				snprintf(s2, sizeof(s2), "(too few)");
			}
			sbuf_addf(b, "%-12s %10llu  %-28s %s\n", day, (unsigned long long)bk->acc.n,
			          share, s2);
		}
	}
	free(m);
}

/* ------------------------------------------------------------------------------------------ */
/* CSV and JSON: one row per (scope, group, period, measure).                                 */

struct row {
	const char *scope; /* "all", "group", "trend" */
	const char *group;
	const char *from, *to;
	const char *measure, *name;
	uint64_t count, n;
	bool has_share;
	double share, lo, hi;
};

typedef void row_cb(void *ud, const struct row *row);

static void emit_acc(const struct report *r, const struct report_acc *a, struct row base,
                     bool shares, struct measure *m, row_cb *cb, void *ud)
{
	struct row row = base;
	size_t k;

	row.measure = r->opts.per == REPORT_PER_REQUESTER ? "requesters" : "results";
	row.name = "";
	row.count = a->n;
	row.n = strcmp(base.scope, "all") == 0 ? r->population : a->n;
	row.has_share = false;
	cb(ud, &row);
	if (!shares)
		return;
	k = render_measures(r, a, true, m);
	for (size_t i = 0; i < k; i++) {
		row = base;
		row.measure = m[i].measure;
		row.name = m[i].name;
		row.count = m[i].count;
		row.n = m[i].n;
		row.has_share = stats_wilson(m[i].count, m[i].n, STATS_Z95, &row.lo, &row.hi) == 0;
		row.share = row.has_share ? (double)m[i].count / (double)m[i].n : 0.0;
		cb(ud, &row);
	}
}

/* A figure of a breakdown as a row: x of n, with its share where n > 0. */
static void emit_share(const char *scope, const char *group, const char *from, const char *to,
                       const char *measure, const char *name, uint64_t x, uint64_t n, row_cb *cb,
                       void *ud)
{
	struct row row = {.scope = scope,
	                  .group = group,
	                  .from = from,
	                  .to = to,
	                  .measure = measure,
	                  .name = name,
	                  .count = x,
	                  .n = n};

	row.has_share = stats_wilson(x, n, STATS_Z95, &row.lo, &row.hi) == 0;
	row.share = row.has_share ? (double)x / (double)n : 0.0;
	cb(ud, &row);
}

/* The 2017 claim as a row. */
static void emit_claim(const struct report *r, const char *from, const char *to,
                       const char *measure, uint64_t x, uint64_t n, row_cb *cb, void *ud)
{
	emit_share("connection", r->headline_name, from, to, measure, "", x, n, cb, ud);
}

/*
 * --by family, after its groups: each set tested (scope "family-tested": its results, and its
 * shares from min_group results); then, scope "family" and group "all", how many of all were
 * tested on each and on both (measure "tested"), and the cross-family findings over all
 * ("finding") and over those tested on both ("finding-of-both").
 */
static void emit_families(const struct report *r, const char *from, const char *to,
                          struct measure *m, row_cb *cb, void *ud)
{
	static const char *const set[3] = {REPORT_FAMILY_V4, REPORT_FAMILY_V6, REPORT_FAMILY_BOTH};
	static const char *const only[2] = {FINDING_IPV4_ONLY, FINDING_IPV6_ONLY};
	uint64_t n = r->total.n, both = r->tested[2].n;

	for (int k = 0; k < 3; k++)
		emit_acc(
		    r, &r->tested[k],
		    (struct row){.scope = "family-tested", .group = set[k], .from = from, .to = to},
		    r->tested[k].n >= r->min_group, m, cb, ud);
	for (int k = 0; k < 3; k++)
		emit_share("family", "all", from, to, "tested", set[k], r->tested[k].n, n, cb, ud);
	for (int k = 1; k >= 0; k--) {
		emit_share("family", "all", from, to, "finding", only[k], r->only_exposure[k], n,
		           cb, ud);
		emit_share("family", "all", from, to, "finding-of-both", only[k],
		           r->only_exposure[k], both, cb, ud);
	}
}

/* --by: one group of rows per shown answer (scope "connection", "device" or "family"), then
 * the claim or the families' figures. */
static void emit_answers(const struct report *r, const char *from, const char *to,
                         struct measure *m, row_cb *cb, void *ud)
{
	const struct report_answers *an = render_answers(r, r->opts.by);

	for (size_t g = 0; an && g < an->n_groups; g++)
		emit_acc(r, &an->groups[g].acc,
		         (struct row){.scope = report_by_name(r->opts.by),
		                      .group = an->groups[g].name,
		                      .from = from,
		                      .to = to},
		         true, m, cb, ud);
	if (r->opts.by == REPORT_BY_FAMILY)
		emit_families(r, from, to, m, cb, ud);
	if (r->opts.by != REPORT_BY_CONNECTION)
		return;
	emit_claim(r, from, to, "answered-sim-or-usb-modem", r->headline_mobile, r->total.headline,
	           cb, ud);
	emit_claim(r, from, to, "answered-sim-or-usb-modem-of-answered", r->headline_mobile,
	           r->headline_answered, cb, ud);
}

static int emit_rows(const struct report *r, row_cb *cb, void *ud)
{
	struct measure *m = calloc(MEASURES_MAX, sizeof(*m));
	char from[32], to[32];

	if (m == NULL)
		return -ENOMEM;
	render_period(r, from, to, sizeof(from));
	emit_acc(r, &r->total,
	         (struct row){.scope = "all", .group = scope_group(r), .from = from, .to = to},
	         r->total.n > 0, m, cb, ud);
	for (size_t g = 0; g < r->n_groups && !r->label_filter[0]; g++)
		emit_acc(r, &r->groups[g].acc,
		         (struct row){
		             .scope = "group", .group = r->groups[g].name, .from = from, .to = to},
		         true, m, cb, ud);
	emit_answers(r, from, to, m, cb, ud);
	for (size_t i = 0; i < r->n_buckets; i++) {
		const struct report_bucket *bk = &r->buckets[i];
		char bf[32], bt[32];

		stats_format_time(bk->start_ms, bf, sizeof(bf));
		stats_format_time(bk->end_ms, bt, sizeof(bt));
		emit_acc(
		    r, &bk->acc,
		    (struct row){.scope = "trend", .group = scope_group(r), .from = bf, .to = bt},
		    render_bucket_shown(r, bk), m, cb, ud);
	}
	free(m);
	return 0;
}

static void put_csv_field(struct sbuf *b, const char *s)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL || strchr("=+-@", s[0]) != NULL;

	if (!quote || s[0] == '\0') {
		sbuf_addf(b, "%s", s);
		return;
	}
	sbuf_addf(b, "\"");
	/* A leading formula character is neutralised for spreadsheets (OWASP CSV injection). */
	if (strchr("=+-@", s[0]) != NULL)
		sbuf_addf(b, "'");
	for (; *s; s++)
		sbuf_addf(b, *s == '"' ? "\"\"" : "%c", *s);
	sbuf_addf(b, "\"");
}

struct csv_ctx {
	struct sbuf *b;
	const char *counting;
};

static void csv_row(void *ud, const struct row *row)
{
	struct csv_ctx *c = ud;
	struct sbuf *b = c->b;
	const char *f[] = {c->counting, row->scope,   row->group, row->from,
	                   row->to,     row->measure, row->name};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		put_csv_field(b, f[i]);
		sbuf_addf(b, ",");
	}
	sbuf_addf(b, "%llu,%llu,", (unsigned long long)row->count, (unsigned long long)row->n);
	if (row->has_share)
		sbuf_addf(b, "%.6f,%.6f,%.6f\r\n", row->share, row->lo, row->hi);
	else
		sbuf_addf(b, ",,\r\n");
}

#define CSV_HEADER "counting,scope,group,from,to,measure,name,count,n,share,wilson_low,wilson_high"

void render_csv(struct sbuf *b, const struct report *r)
{
	struct csv_ctx c = {.b = b, .counting = report_counting_name(r)};

	sbuf_addf(b, "%s\r\n", CSV_HEADER);
	if (emit_rows(r, csv_row, &c) < 0)
		render_fail(b, -ENOMEM);
}

struct json_ctx {
	json_t *rows;
	const char *counting;
	int err;
};

static double round6(double v)
{
	return round(v * 1e6) / 1e6;
}

static void json_row(void *ud, const struct row *row)
{
	struct json_ctx *c = ud;
	json_t *o =
	    json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s,s:s,s:I,s:I}", "counting", c->counting, "scope",
	              row->scope, "group", row->group, "from", row->from[0] ? row->from : NULL,
	              "to", row->to[0] ? row->to : NULL, "measure", row->measure, "name", row->name,
	              "count", (json_int_t)row->count, "n", (json_int_t)row->n);

	if (o == NULL) {
		c->err = -ENOMEM;
		return;
	}
	json_object_set_new(o, "share",
	                    row->has_share ? json_real(round6(row->share)) : json_null());
	json_object_set_new(o, "wilson_low",
	                    row->has_share ? json_real(round6(row->lo)) : json_null());
	json_object_set_new(o, "wilson_high",
	                    row->has_share ? json_real(round6(row->hi)) : json_null());
	if (json_array_append_new(c->rows, o) < 0)
		c->err = -ENOMEM;
}

void render_json(struct sbuf *b, const struct report *r)
{
	struct json_ctx c = {.rows = json_array(), .counting = report_counting_name(r)};
	char from[32], to[32], seed[24];
	json_t *doc;
	char *text;

	render_period(r, from, to, sizeof(from));
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)r->opts.seed);
	doc = json_pack("{s:s,s:s?,s:s?,s:s?,s:I,s:I,s:I,s:I,s:o}", "counting", c.counting, "from",
	                from[0] ? from : NULL, "to", to[0] ? to : NULL, "label",
	                r->label_filter[0] ? r->label_filter : NULL, "population",
	                (json_int_t)r->population, "counted", (json_int_t)r->total.n, "min_group",
	                (json_int_t)r->min_group, "suppressed", (json_int_t)r->suppressed, "rows",
	                c.rows);
	if (doc == NULL) {
		render_fail(b, -ENOMEM);
		return;
	}
	json_object_set_new(doc, "sample",
	                    r->opts.sample_n ? json_pack("{s:I,s:s}", "n",
	                                                 (json_int_t)r->opts.sample_n, "seed", seed)
	                                     : json_null());
	if (r->opts.by != REPORT_BY_NONE) {
		const struct report_answers *an = render_answers(r, r->opts.by);

		json_object_set_new(doc, "by", json_string(report_by_name(r->opts.by)));
		json_object_set_new(doc, "by_suppressed", json_integer((json_int_t)an->suppressed));
	}
	json_object_set_new(doc, "trend",
	                    r->opts.trend == REPORT_TREND_NONE
	                        ? json_null()
	                        : json_string(r->opts.trend == REPORT_TREND_DAY ? "day" : "week"));
	if (emit_rows(r, json_row, &c) < 0 || c.err < 0) {
		json_decref(doc);
		render_fail(b, -ENOMEM);
		return;
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(doc);
	if (text == NULL) {
		render_fail(b, -ENOMEM);
		return;
	}
	sbuf_addf(b, "%s\n", text);
	free(text);
}
