/* SPDX-License-Identifier: MIT */
/* Rendering a report: aligned table, JSON, CSV (same fields), SVG charts, dashboard HTML. */
#include "report/report.h"

#include "catalogue/catalogue.h"
#include "core/err.h"
#include "report/stats.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rbuf {
	char *p;
	size_t len, cap;
	int err;
};

__attribute__((format(printf, 2, 3))) static void put(struct rbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -ERR_INTERNAL;
		return;
	}
	if (b->p == NULL || b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* Text escaped for XML and HTML content and attributes. */
static void put_xml(struct rbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			put(b, "&amp;");
			break;
		case '<':
			put(b, "&lt;");
			break;
		case '>':
			put(b, "&gt;");
			break;
		case '"':
			put(b, "&quot;");
			break;
		case '\'':
			put(b, "&#39;");
			break;
		default:
			if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
				put(b, "%c", *s);
		}
	}
}

/* One measure of one set of results. */
struct measure {
	const char *measure; /* "headline", "risky", "check", "finding" */
	const char *name;
	uint64_t count;
};

#define MEASURES_MAX (2 + REPORT_MAX_CHECKS + REPORT_MAX_FINDINGS)

static size_t measures(const struct report *r, const struct report_acc *a, bool findings,
                       struct measure *m)
{
	size_t k = 0;

	m[k++] = (struct measure){"headline", r->headline_name, a->headline};
	m[k++] = (struct measure){"risky", "medium-or-worse", a->risky};
	for (size_t i = 0; i < r->n_checks; i++) {
		size_t c = r->check_order[i];

		m[k++] = (struct measure){"check", r->check_names[c], a->check_open[c]};
	}
	for (size_t i = 0; findings && i < r->n_findings; i++) {
		size_t f = r->finding_order[i];

		m[k++] = (struct measure){"finding", r->finding_names[f], a->finding[f]};
	}
	return k;
}

static void measure_title(const struct report *r, const struct measure *m, char *buf, size_t n)
{
	char title[64];

	if (strcmp(m->measure, "headline") == 0) {
		snprintf(buf, n, "%s reachable", r->headline_ports);
	} else if (strcmp(m->measure, "risky") == 0) {
		snprintf(buf, n, "risk medium or worse");
	} else if (strcmp(m->measure, "check") == 0) {
		catalogue_title(m->name, title, sizeof(title));
		snprintf(buf, n, "%s reachable", title);
	} else {
		snprintf(buf, n, "finding %s", m->name);
	}
}

static void period_text(const struct report *r, char *from, char *to, size_t n)
{
	from[0] = to[0] = '\0';
	if (r->opts.period.since_ms > 0)
		stats_format_time(r->opts.period.since_ms, from, n);
	if (r->opts.period.until_ms > 0 && r->opts.period.until_ms != INT64_MAX)
		stats_format_time(r->opts.period.until_ms, to, n);
}

static const char *scope_group(const struct report *r)
{
	return r->label_filter[0] ? r->label_filter : "all";
}

static bool bucket_shown(const struct report *r, const struct report_bucket *b)
{
	return b->acc.n >= r->min_group;
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

static void header_lines(struct rbuf *b, const struct report *r, const char *lead)
{
	char from[32], to[32];

	period_text(r, from, to, sizeof(from));
	put(b, "%scounting %s (%s)\n", lead, report_counting_name(r),
	    r->opts.per == REPORT_PER_REQUESTER
	        ? "each requester once: its latest result in the period"
	        : "each finished diagnosis once");
	put(b, "%speriod: %s .. %s (UTC, end exclusive)\n", lead, from[0] ? from : "start",
	    to[0] ? to : "now");
	if (r->label_filter[0])
		put(b, "%slabel: %s\n", lead, r->label_filter);
	if (r->opts.sample_n > 0)
		put(b, "%ssample: %llu of %llu %s, uniform without replacement, seed %llu\n", lead,
		    (unsigned long long)r->opts.sample_n, (unsigned long long)r->population,
		    report_counting_name(r), (unsigned long long)r->opts.seed);
	put(b, "%s%s: %llu\n", lead, report_counting_name(r), (unsigned long long)r->total.n);
}

/* ------------------------------------------------------------------------------------------ */

static void render_table(struct rbuf *b, const struct report *r)
{
	struct measure *m = calloc(MEASURES_MAX, sizeof(*m));
	char title[96], share[64], head[64];
	size_t k;

	if (m == NULL) {
		b->err = -ENOMEM;
		return;
	}
	snprintf(head, sizeof(head), "%s reachable", r->headline_ports);
	header_lines(b, r, "");
	put(b, "\n%-40s %10s  %s\n", "measure", "count", "share [95% interval, Wilson]");
	k = measures(r, &r->total, true, m);
	for (size_t i = 0; i < k; i++) {
		measure_title(r, &m[i], title, sizeof(title));
		share_text(share, sizeof(share), m[i].count, r->total.n);
		put(b, "%-40s %10llu  %s\n", title, (unsigned long long)m[i].count, share);
	}
	if (r->opts.labels != NULL && !r->label_filter[0]) {
		put(b, "\nby network label (groups under %u folded into \"%s\")\n", r->min_group,
		    LABELS_OTHER);
		put(b, "%-24s %10s  %-28s %s\n", "label",
		    r->opts.per == REPORT_PER_REQUESTER ? "requesters" : "results", head,
		    "risk medium or worse");
		for (size_t g = 0; g < r->n_groups; g++) {
			const struct report_acc *a = &r->groups[g].acc;
			char s2[64];

			share_text(share, sizeof(share), a->headline, a->n);
			share_text(s2, sizeof(s2), a->risky, a->n);
			put(b, "%-24s %10llu  %-28s %s\n", r->groups[g].name,
			    (unsigned long long)a->n, share, s2);
		}
		if (r->suppressed > 0)
			put(b, "(%llu in groups too small to show, even together)\n",
			    (unsigned long long)r->suppressed);
	}
	if (r->opts.trend != REPORT_TREND_NONE) {
		put(b, "\ntrend per %s (UTC%s; shares only where at least %u)\n",
		    r->opts.trend == REPORT_TREND_DAY ? "day" : "week",
		    r->opts.trend == REPORT_TREND_DAY ? "" : ", weeks start on Monday",
		    r->min_group);
		put(b, "%-12s %10s  %-28s %s\n", "from", report_counting_name(r), head,
		    "risk medium or worse");
		for (size_t i = 0; i < r->n_buckets; i++) {
			const struct report_bucket *bk = &r->buckets[i];
			char day[16], s2[64];

			stats_format_day(bk->start_ms, day, sizeof(day));
			if (bucket_shown(r, bk)) {
				share_text(share, sizeof(share), bk->acc.headline, bk->acc.n);
				share_text(s2, sizeof(s2), bk->acc.risky, bk->acc.n);
			} else {
				snprintf(share, sizeof(share), "(too few)");
				snprintf(s2, sizeof(s2), "(too few)");
			}
			put(b, "%-12s %10llu  %-28s %s\n", day, (unsigned long long)bk->acc.n,
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
	k = measures(r, a, true, m);
	for (size_t i = 0; i < k; i++) {
		row = base;
		row.measure = m[i].measure;
		row.name = m[i].name;
		row.count = m[i].count;
		row.n = a->n;
		row.has_share = stats_wilson(m[i].count, a->n, STATS_Z95, &row.lo, &row.hi) == 0;
		row.share = row.has_share ? (double)m[i].count / (double)a->n : 0.0;
		cb(ud, &row);
	}
}

static int emit_rows(const struct report *r, row_cb *cb, void *ud)
{
	struct measure *m = calloc(MEASURES_MAX, sizeof(*m));
	char from[32], to[32];

	if (m == NULL)
		return -ENOMEM;
	period_text(r, from, to, sizeof(from));
	emit_acc(r, &r->total,
	         (struct row){.scope = "all", .group = scope_group(r), .from = from, .to = to},
	         r->total.n > 0, m, cb, ud);
	for (size_t g = 0; g < r->n_groups && !r->label_filter[0]; g++)
		emit_acc(r, &r->groups[g].acc,
		         (struct row){
		             .scope = "group", .group = r->groups[g].name, .from = from, .to = to},
		         true, m, cb, ud);
	for (size_t i = 0; i < r->n_buckets; i++) {
		const struct report_bucket *bk = &r->buckets[i];
		char bf[32], bt[32];

		stats_format_time(bk->start_ms, bf, sizeof(bf));
		stats_format_time(bk->end_ms, bt, sizeof(bt));
		emit_acc(
		    r, &bk->acc,
		    (struct row){.scope = "trend", .group = scope_group(r), .from = bf, .to = bt},
		    bucket_shown(r, bk), m, cb, ud);
	}
	free(m);
	return 0;
}

static void put_csv_field(struct rbuf *b, const char *s)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL || strchr("=+-@", s[0]) != NULL;

	if (!quote || s[0] == '\0') {
		put(b, "%s", s);
		return;
	}
	put(b, "\"");
	/* A leading formula character is neutralised for spreadsheets (OWASP CSV injection). */
	if (strchr("=+-@", s[0]) != NULL)
		put(b, "'");
	for (; *s; s++)
		put(b, *s == '"' ? "\"\"" : "%c", *s);
	put(b, "\"");
}

struct csv_ctx {
	struct rbuf *b;
	const char *counting;
};

static void csv_row(void *ud, const struct row *row)
{
	struct csv_ctx *c = ud;
	struct rbuf *b = c->b;
	const char *f[] = {c->counting, row->scope,   row->group, row->from,
	                   row->to,     row->measure, row->name};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		put_csv_field(b, f[i]);
		put(b, ",");
	}
	put(b, "%llu,%llu,", (unsigned long long)row->count, (unsigned long long)row->n);
	if (row->has_share)
		put(b, "%.6f,%.6f,%.6f\r\n", row->share, row->lo, row->hi);
	else
		put(b, ",,\r\n");
}

#define CSV_HEADER "counting,scope,group,from,to,measure,name,count,n,share,wilson_low,wilson_high"

static void render_csv(struct rbuf *b, const struct report *r)
{
	struct csv_ctx c = {.b = b, .counting = report_counting_name(r)};

	put(b, "%s\r\n", CSV_HEADER);
	if (emit_rows(r, csv_row, &c) < 0)
		b->err = -ENOMEM;
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

static void render_json(struct rbuf *b, const struct report *r)
{
	struct json_ctx c = {.rows = json_array(), .counting = report_counting_name(r)};
	char from[32], to[32], seed[24];
	json_t *doc;
	char *text;

	period_text(r, from, to, sizeof(from));
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)r->opts.seed);
	doc = json_pack("{s:s,s:s?,s:s?,s:s?,s:I,s:I,s:I,s:I,s:o}", "counting", c.counting, "from",
	                from[0] ? from : NULL, "to", to[0] ? to : NULL, "label",
	                r->label_filter[0] ? r->label_filter : NULL, "population",
	                (json_int_t)r->population, "counted", (json_int_t)r->total.n, "min_group",
	                (json_int_t)r->min_group, "suppressed", (json_int_t)r->suppressed, "rows",
	                c.rows);
	if (doc == NULL) {
		b->err = -ENOMEM;
		return;
	}
	json_object_set_new(doc, "sample",
	                    r->opts.sample_n ? json_pack("{s:I,s:s}", "n",
	                                                 (json_int_t)r->opts.sample_n, "seed", seed)
	                                     : json_null());
	json_object_set_new(doc, "trend",
	                    r->opts.trend == REPORT_TREND_NONE
	                        ? json_null()
	                        : json_string(r->opts.trend == REPORT_TREND_DAY ? "day" : "week"));
	if (emit_rows(r, json_row, &c) < 0 || c.err < 0) {
		json_decref(doc);
		b->err = -ENOMEM;
		return;
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(doc);
	if (text == NULL) {
		b->err = -ENOMEM;
		return;
	}
	put(b, "%s\n", text);
	free(text);
}

/* ------------------------------------------------------------------------------------------ */
/* SVG.                                                                                       */

#define SVG_W      820
#define COLOR_BAR  "#2c6fbb"
#define COLOR_HEAD "#b03a2e"
#define COLOR_RISK "#1f5fa8"
#define COLOR_INK  "#1a1a1a"
#define COLOR_GRID "#d0d0d0"

/* The smallest "nice" axis maximum (a fraction) at or above v. */
static double nice_max(double v)
{
	static const double steps[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (v <= steps[i] + 1e-12)
			return steps[i];
	return 1.0;
}

static void svg_text(struct rbuf *b, double x, double y, const char *anchor, int size,
                     const char *weight, const char *text)
{
	put(b,
	    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s%s%s "
	    "fill=\"" COLOR_INK "\" font-family=\"sans-serif\">",
	    x, y, anchor, size, weight ? " font-weight=\"" : "", weight ? weight : "",
	    weight ? "\"" : "");
	put_xml(b, text);
	put(b, "</text>\n");
}

static void svg_subtitle(const struct report *r, char *buf, size_t n)
{
	char from[32], to[32], tmp[160];
	size_t len;

	period_text(r, from, to, sizeof(from));
	snprintf(buf, n, "%llu %s, %s to %s (UTC)", (unsigned long long)r->total.n,
	         report_counting_name(r), from[0] ? from : "start", to[0] ? to : "now");
	len = strlen(buf);
	if (r->opts.sample_n > 0 && len < n) {
		snprintf(tmp, sizeof(tmp), "; random sample of %llu from %llu, seed %llu",
		         (unsigned long long)r->opts.sample_n, (unsigned long long)r->population,
		         (unsigned long long)r->opts.seed);
		snprintf(buf + len, n - len, "%s", tmp);
		len = strlen(buf);
	}
	if (r->label_filter[0] && len < n)
		snprintf(buf + len, n - len, "; label %s", r->label_filter);
}

#define SVG_BAR_ROW 30.0
#define SVG_BAR_TOP 92.0
#define SVG_TREND_H 350.0

static double svg_bars_height(const struct report *r)
{
	return SVG_BAR_TOP + (double)(2 + r->n_checks) * SVG_BAR_ROW + 80;
}

static double svg_bars(struct rbuf *b, const struct report *r, double y0)
{
	struct measure m[2 + REPORT_MAX_CHECKS];
	const double left = 250, plot_w = 330, row_h = SVG_BAR_ROW, top = SVG_BAR_TOP;
	size_t k = measures(r, &r->total, false, m);
	double height = svg_bars_height(r), max = 0.0;
	char title[160], buf[200];

	for (size_t i = 0; i < k && r->total.n > 0; i++) {
		double lo, hi;

		stats_wilson(m[i].count, r->total.n, STATS_Z95, &lo, &hi);
		max = hi > max ? hi : max;
	}
	max = nice_max(max);
	snprintf(title, sizeof(title), "Share of %s with each door reachable from the Internet",
	         report_counting_name(r));
	put(b,
	    "<svg x=\"0\" y=\"%.0f\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
	    "role=\"img\" aria-labelledby=\"bars-title\">\n",
	    y0, SVG_W, height, SVG_W, height);
	put(b, "<title id=\"bars-title\">");
	put_xml(b, title);
	put(b, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
	svg_text(b, 16, 26, "start", 17, "bold", title);
	svg_subtitle(r, buf, sizeof(buf));
	svg_text(b, 16, 46, "start", 12, NULL, buf);
	/* Legend. */
	put(b, "<rect x=\"16\" y=\"58\" width=\"14\" height=\"10\" fill=\"" COLOR_BAR "\"/>\n");
	svg_text(b, 36, 67, "start", 12, NULL, "share (bar)");
	put(b, "<line x1=\"130\" y1=\"63\" x2=\"160\" y2=\"63\" stroke=\"" COLOR_INK
	       "\" stroke-width=\"1.5\"/><line x1=\"130\" y1=\"58\" x2=\"130\" y2=\"68\" "
	       "stroke=\"" COLOR_INK
	       "\"/><line x1=\"160\" y1=\"58\" x2=\"160\" y2=\"68\" stroke=\"" COLOR_INK "\"/>\n");
	svg_text(b, 166, 67, "start", 12, NULL, "95% interval (Wilson)");
	put(b, "<rect x=\"330\" y=\"58\" width=\"14\" height=\"10\" fill=\"" COLOR_HEAD "\"/>\n");
	snprintf(buf, sizeof(buf), "the 2017 headline: %s", r->headline_ports);
	svg_text(b, 350, 67, "start", 12, NULL, buf);
	if (r->total.n == 0) {
		svg_text(b, SVG_W / 2.0, top + 30, "middle", 14, NULL, "no results in this period");
		put(b, "</svg>\n");
		return height;
	}
	/* Grid and x axis. */
	for (int t = 0; t <= 5; t++) {
		double x = left + plot_w * t / 5.0;
		double y1 = top + (double)k * row_h;

		put(b,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_GRID
		    "\"/>\n",
		    x, top - 6, x, y1);
		snprintf(buf, sizeof(buf), "%g%%", 100.0 * max * t / 5.0);
		svg_text(b, x, y1 + 16, "middle", 11, NULL, buf);
	}
	snprintf(buf, sizeof(buf), "share of %s (%%), with 95%% interval", report_counting_name(r));
	svg_text(b, left + plot_w / 2, top + (double)k * row_h + 38, "middle", 12, NULL, buf);
	for (size_t i = 0; i < k; i++) {
		double share = (double)m[i].count / (double)r->total.n, lo, hi;
		double y = top + (double)i * row_h, cy = y + row_h / 2;
		double xl, xh, w;

		stats_wilson(m[i].count, r->total.n, STATS_Z95, &lo, &hi);
		w = plot_w * share / max;
		xl = left + plot_w * lo / max;
		xh = left + plot_w * hi / max;
		measure_title(r, &m[i], title, sizeof(title));
		svg_text(b, left - 8, cy + 4, "end", 12, NULL, title);
		put(b, "<rect class=\"bar\" data-measure=\"%s\" data-name=\"", m[i].measure);
		put_xml(b, m[i].name);
		put(b, "\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"/>\n",
		    left, y + 6, w, row_h - 12, i == 0 ? COLOR_HEAD : COLOR_BAR);
		put(b,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_INK
		    "\" stroke-width=\"1.5\"/>\n",
		    xl, cy, xh, cy);
		put(b,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_INK
		    "\"/>\n",
		    xl, cy - 6, xl, cy + 6);
		put(b,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_INK
		    "\"/>\n",
		    xh, cy - 6, xh, cy + 6);
		snprintf(buf, sizeof(buf), "%.1f%% (%llu of %llu) [%.1f%%, %.1f%%]", 100 * share,
		         (unsigned long long)m[i].count, (unsigned long long)r->total.n, 100 * lo,
		         100 * hi);
		svg_text(b, left + plot_w + 8, cy + 4, "start", 11, NULL, buf);
	}
	put(b, "</svg>\n");
	return height;
}

static double svg_trend(struct rbuf *b, const struct report *r, double y0)
{
	const double left = 70, plot_w = 560, top = 80, plot_h = 200, height = SVG_TREND_H;
	const char *unit = r->opts.trend == REPORT_TREND_DAY ? "day" : "week";
	int64_t t0 = 0, t1 = 0;
	double max = 0.0;
	size_t shown = 0;
	char title[160], buf[200];

	for (size_t i = 0; i < r->n_buckets; i++) {
		const struct report_bucket *bk = &r->buckets[i];
		double lo, hi, lo2, hi2;

		if (!bucket_shown(r, bk))
			continue;
		if (shown++ == 0)
			t0 = bk->start_ms;
		t1 = bk->start_ms;
		stats_wilson(bk->acc.headline, bk->acc.n, STATS_Z95, &lo, &hi);
		stats_wilson(bk->acc.risky, bk->acc.n, STATS_Z95, &lo2, &hi2);
		max = fmax(max, fmax(hi, hi2));
	}
	max = nice_max(max);
	snprintf(title, sizeof(title), "Trend per %s: %s reachable, and risk medium or worse", unit,
	         r->headline_ports);
	put(b,
	    "<svg x=\"0\" y=\"%.0f\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
	    "role=\"img\" aria-labelledby=\"trend-title\">\n",
	    y0, SVG_W, height, SVG_W, height);
	put(b, "<title id=\"trend-title\">");
	put_xml(b, title);
	put(b, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
	svg_text(b, 16, 26, "start", 17, "bold", title);
	svg_subtitle(r, buf, sizeof(buf));
	svg_text(b, 16, 46, "start", 12, NULL, buf);
	put(b, "<line x1=\"16\" y1=\"62\" x2=\"40\" y2=\"62\" stroke=\"" COLOR_HEAD
	       "\" stroke-width=\"2.5\"/>\n");
	snprintf(buf, sizeof(buf), "%s reachable", r->headline_ports);
	svg_text(b, 46, 66, "start", 12, NULL, buf);
	put(b, "<line x1=\"200\" y1=\"62\" x2=\"224\" y2=\"62\" stroke=\"" COLOR_RISK
	       "\" stroke-width=\"2.5\" stroke-dasharray=\"6 3\"/>\n");
	svg_text(b, 230, 66, "start", 12, NULL, "risk medium or worse");
	snprintf(buf, sizeof(buf),
	         "vertical lines: 95%% interval; %ss with fewer than %u %s not "
	         "plotted",
	         unit, r->min_group, report_counting_name(r));
	svg_text(b, 380, 66, "start", 11, NULL, buf);
	if (shown == 0) {
		svg_text(b, SVG_W / 2.0, top + plot_h / 2, "middle", 14, NULL,
		         "too few results per period to plot a trend");
		put(b, "</svg>\n");
		return height;
	}
	for (int t = 0; t <= 5; t++) {
		double y = top + plot_h - plot_h * t / 5.0;

		put(b,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_GRID
		    "\"/>\n",
		    left, y, left + plot_w, y);
		snprintf(buf, sizeof(buf), "%g%%", 100.0 * max * t / 5.0);
		svg_text(b, left - 6, y + 4, "end", 11, NULL, buf);
	}
	snprintf(buf, sizeof(buf), "share of %s (%%)", report_counting_name(r));
	put(b,
	    "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" fill=\"" COLOR_INK
	    "\" font-family=\"sans-serif\" transform=\"rotate(-90 18 %.1f)\">",
	    top + plot_h / 2, top + plot_h / 2);
	put_xml(b, buf);
	put(b, "</text>\n");
	snprintf(buf, sizeof(buf), "%s starting (UTC%s)", unit,
	         r->opts.trend == REPORT_TREND_DAY ? "" : ", Monday");
	svg_text(b, left + plot_w / 2, top + plot_h + 44, "middle", 12, NULL, buf);
	for (int series = 0; series < 2; series++) {
		const char *color = series == 0 ? COLOR_HEAD : COLOR_RISK;
		size_t label_every = shown / 8 + 1, j = 0;

		put(b,
		    "<polyline class=\"trend\" data-series=\"%s\" fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"2.5\"%s points=\"",
		    series == 0 ? "headline" : "risky", color,
		    series == 0 ? "" : " stroke-dasharray=\"6 3\"");
		for (size_t i = 0; i < r->n_buckets; i++) {
			const struct report_bucket *bk = &r->buckets[i];
			uint64_t x = series == 0 ? bk->acc.headline : bk->acc.risky;
			double px, py;

			if (!bucket_shown(r, bk))
				continue;
			px = t1 > t0
			         ? left + plot_w * (double)(bk->start_ms - t0) / (double)(t1 - t0)
			         : left + plot_w / 2;
			py = top + plot_h - plot_h * ((double)x / (double)bk->acc.n) / max;
			put(b, "%.1f,%.1f ", px, py);
		}
		put(b, "\"/>\n");
		for (size_t i = 0; i < r->n_buckets; i++) {
			const struct report_bucket *bk = &r->buckets[i];
			uint64_t x = series == 0 ? bk->acc.headline : bk->acc.risky;
			double px, py, lo, hi;

			if (!bucket_shown(r, bk))
				continue;
			stats_wilson(x, bk->acc.n, STATS_Z95, &lo, &hi);
			px = t1 > t0
			         ? left + plot_w * (double)(bk->start_ms - t0) / (double)(t1 - t0)
			         : left + plot_w / 2;
			py = top + plot_h - plot_h * ((double)x / (double)bk->acc.n) / max;
			put(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px, py,
			    color);
			put(b,
			    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			    "stroke=\"%s\"/>\n",
			    px + (series ? 2 : -2), top + plot_h - plot_h * lo / max,
			    px + (series ? 2 : -2), top + plot_h - plot_h * hi / max, color);
			if (series == 0 && j++ % label_every == 0) {
				stats_format_day(bk->start_ms, buf, sizeof(buf));
				svg_text(b, px, top + plot_h + 18, "middle", 10, NULL, buf);
			}
		}
	}
	put(b, "</svg>\n");
	return height;
}

static void render_svg(struct rbuf *b, const struct report *r)
{
	double h = svg_bars_height(r);

	if (r->opts.trend != REPORT_TREND_NONE)
		h += SVG_TREND_H;
	put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	put(b,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
	    "viewBox=\"0 0 %d %.0f\">\n",
	    SVG_W, h, SVG_W, h);
	h = svg_bars(b, r, 0);
	if (r->opts.trend != REPORT_TREND_NONE)
		svg_trend(b, r, h);
	put(b, "</svg>\n");
}

/* ------------------------------------------------------------------------------------------ */

static void html_share_cells(struct rbuf *b, uint64_t x, uint64_t n)
{
	double lo, hi;

	if (stats_wilson(x, n, STATS_Z95, &lo, &hi) < 0) {
		put(b, "<td>-</td><td>-</td>");
		return;
	}
	put(b, "<td>%.1f%%</td><td>%.1f%% – %.1f%%</td>", 100.0 * (double)x / (double)n, 100 * lo,
	    100 * hi);
}

static void render_html(struct rbuf *b, const struct report *r, const char *csv_href)
{
	struct measure *m = calloc(MEASURES_MAX, sizeof(*m));
	char title[96];
	size_t k, meta_start;

	if (m == NULL) {
		b->err = -ENOMEM;
		return;
	}
	put(b, "<section class=\"exposure-report\">\n<p class=\"report-meta\">");
	meta_start = b->len;
	header_lines(b, r, "");
	/* The meta lines are our own text (labels are checked printable); escape anyway. */
	if (!b->err) {
		char *meta = strdup(b->p + meta_start);

		b->len = meta_start;
		if (meta == NULL) {
			b->err = -ENOMEM;
		} else {
			for (char *line = meta, *nl; *line; line = nl + 1) {
				nl = strchr(line, '\n');
				*nl = '\0';
				put_xml(b, line);
				put(b, "<br>");
			}
			free(meta);
		}
	}
	put(b, "</p>\n");
	if (r->total.n == 0) {
		put(b, "<p class=\"report-empty\">No results in this period.</p>\n</section>\n");
		free(m);
		return;
	}
	put(b, "<figure class=\"report-chart\">\n");
	svg_bars(b, r, 0);
	put(b, "</figure>\n<table class=\"report-table\">\n<caption>Every measure, with its 95%% "
	       "interval (Wilson)</caption>\n<thead><tr><th scope=\"col\">measure</th>"
	       "<th scope=\"col\">count</th><th scope=\"col\">share</th>"
	       "<th scope=\"col\">95%% interval</th></tr></thead>\n<tbody>\n");
	k = measures(r, &r->total, true, m);
	for (size_t i = 0; i < k; i++) {
		measure_title(r, &m[i], title, sizeof(title));
		put(b, "<tr><th scope=\"row\">");
		put_xml(b, title);
		put(b, "</th><td>%llu</td>", (unsigned long long)m[i].count);
		html_share_cells(b, m[i].count, r->total.n);
		put(b, "</tr>\n");
	}
	put(b, "</tbody>\n</table>\n");
	if (r->n_groups > 0 && !r->label_filter[0]) {
		put(b,
		    "<table class=\"report-table\">\n<caption>By network label (groups under %u "
		    "folded into &quot;other&quot;)</caption>\n<thead><tr><th scope=\"col\">label"
		    "</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
		    "<th scope=\"col\">95%% interval</th><th scope=\"col\">risk medium or worse"
		    "</th><th scope=\"col\">95%% interval</th></tr></thead>\n<tbody>\n",
		    r->min_group, report_counting_name(r), r->headline_ports);
		for (size_t g = 0; g < r->n_groups; g++) {
			const struct report_acc *a = &r->groups[g].acc;

			put(b, "<tr><th scope=\"row\">");
			put_xml(b, r->groups[g].name);
			put(b, "</th><td>%llu</td>", (unsigned long long)a->n);
			html_share_cells(b, a->headline, a->n);
			html_share_cells(b, a->risky, a->n);
			put(b, "</tr>\n");
		}
		put(b, "</tbody>\n</table>\n");
	}
	if (r->opts.trend != REPORT_TREND_NONE) {
		put(b, "<figure class=\"report-chart\">\n");
		svg_trend(b, r, 0);
		put(b, "</figure>\n");
	}
	if (csv_href != NULL) {
		put(b, "<p><a class=\"report-csv\" href=\"");
		put_xml(b, csv_href);
		put(b, "\" download=\"exposure-report.csv\">Download CSV</a></p>\n");
	}
	put(b, "</section>\n");
	free(m);
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
	struct rbuf b = {0};

	*out = NULL;
	*len = 0;
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
		b.err = -ERR_SYNTAX;
	}
	if (b.err == 0 && b.p == NULL)
		put(&b, "%s", "");
	if (b.err < 0) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
