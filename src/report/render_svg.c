/* SPDX-License-Identifier: MIT */
/*
 * Rendering a report as pictures: the SVG charts (shares with their intervals, the trend) and
 * the dashboard's HTML fragment around them. Presentation attributes only, no script or style,
 * so that the fragment passes a strict Content-Security-Policy.
 */
#include "report/render_internal.h"

#include "catalogue/catalogue.h"
#include "core/err.h"
#include "report/stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void svg_text(struct sbuf *b, double x, double y, const char *anchor, int size,
                     const char *weight, const char *text)
{
	sbuf_addf(b,
	          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s%s%s "
	          "fill=\"" COLOR_INK "\" font-family=\"sans-serif\">",
	          x, y, anchor, size, weight ? " font-weight=\"" : "", weight ? weight : "",
	          weight ? "\"" : "");
	sbuf_add_html(b, text);
	sbuf_addf(b, "</text>\n");
}

static void svg_subtitle(const struct report *r, char *buf, size_t n)
{
	char from[32], to[32], tmp[160];
	size_t len;

	render_period(r, from, to, sizeof(from));
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

/*
 * Open one chart at y0 (a nested <svg>): its accessible title (aria id "<id>-title"), a white
 * background, the title in bold and the subtitle saying what was counted, when and how.
 */
static void svg_open(struct sbuf *b, const struct report *r, const char *id, const char *title,
                     double y0, double height)
{
	char sub[200];

	sbuf_addf(b,
	          "<svg x=\"0\" y=\"%.0f\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
	          "role=\"img\" aria-labelledby=\"%s-title\">\n",
	          y0, SVG_W, height, SVG_W, height, id);
	sbuf_addf(b, "<title id=\"%s-title\">", id);
	sbuf_add_html(b, title);
	sbuf_add(b, "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
	svg_text(b, 16, 26, "start", 17, "bold", title);
	svg_subtitle(r, sub, sizeof(sub));
	svg_text(b, 16, 46, "start", 12, NULL, sub);
}

#define SVG_BAR_ROW 30.0
#define SVG_BAR_TOP 92.0
#define SVG_TREND_H 350.0

static double svg_bars_height(const struct report *r)
{
	return SVG_BAR_TOP + (double)(2 + r->n_checks) * SVG_BAR_ROW + 80;
}

static double svg_bars(struct sbuf *b, const struct report *r, double y0)
{
	struct measure m[2 + REPORT_MAX_CHECKS];
	const double left = 250, plot_w = 330, row_h = SVG_BAR_ROW, top = SVG_BAR_TOP;
	size_t k = render_measures(r, &r->total, false, m);
	double height = svg_bars_height(r), max = 0.0;
	char title[160], buf[200];

	for (size_t i = 0; i < k && r->total.n > 0; i++) {
		double lo, hi;

		if (stats_wilson(m[i].count, m[i].n, STATS_Z95, &lo, &hi) == 0)
			max = hi > max ? hi : max;
	}
	max = nice_max(max);
	snprintf(title, sizeof(title), "Share of %s with each door reachable from the Internet",
	         report_counting_name(r));
	svg_open(b, r, "bars", title, y0, height);
	/* Legend. */
	sbuf_addf(b,
	          "<rect x=\"16\" y=\"58\" width=\"14\" height=\"10\" fill=\"" COLOR_BAR "\"/>\n");
	svg_text(b, 36, 67, "start", 12, NULL, "share (bar)");
	sbuf_addf(b, "<line x1=\"130\" y1=\"63\" x2=\"160\" y2=\"63\" stroke=\"" COLOR_INK
	             "\" stroke-width=\"1.5\"/><line x1=\"130\" y1=\"58\" x2=\"130\" y2=\"68\" "
	             "stroke=\"" COLOR_INK
	             "\"/><line x1=\"160\" y1=\"58\" x2=\"160\" y2=\"68\" stroke=\"" COLOR_INK
	             "\"/>\n");
	svg_text(b, 166, 67, "start", 12, NULL, "95% interval (Wilson)");
	sbuf_addf(b, "<rect x=\"330\" y=\"58\" width=\"14\" height=\"10\" fill=\"" COLOR_HEAD
	             "\"/>\n");
	snprintf(buf, sizeof(buf), "the 2017 headline: %s", r->headline_ports);
	svg_text(b, 350, 67, "start", 12, NULL, buf);
	if (r->total.n == 0) {
		svg_text(b, SVG_W / 2.0, top + 30, "middle", 14, NULL, "no results in this period");
		sbuf_addf(b, "</svg>\n");
		return height;
	}
	/* Grid and x axis. */
	for (int t = 0; t <= 5; t++) {
		double x = left + plot_w * t / 5.0;
		double y1 = top + (double)k * row_h;

		sbuf_addf(
		    b,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_GRID
		    "\"/>\n",
		    x, top - 6, x, y1);
		snprintf(buf, sizeof(buf), "%g%%", 100.0 * max * t / 5.0);
		svg_text(b, x, y1 + 16, "middle", 11, NULL, buf);
	}
	snprintf(buf, sizeof(buf), "share of %s (%%), with 95%% interval", report_counting_name(r));
	svg_text(b, left + plot_w / 2, top + (double)k * row_h + 38, "middle", 12, NULL, buf);
	for (size_t i = 0; i < k; i++) {
		double share = m[i].n ? (double)m[i].count / (double)m[i].n : 0.0, lo = 0, hi = 0;
		double y = top + (double)i * row_h, cy = y + row_h / 2;
		double xl, xh, w;

		stats_wilson(m[i].count, m[i].n, STATS_Z95, &lo, &hi);
		w = plot_w * share / max;
		xl = left + plot_w * lo / max;
		xh = left + plot_w * hi / max;
		render_measure_title(r, &m[i], title, sizeof(title));
		svg_text(b, left - 8, cy + 4, "end", 12, NULL, title);
		sbuf_addf(b, "<rect class=\"bar\" data-measure=\"%s\" data-name=\"", m[i].measure);
		sbuf_add_html(b, m[i].name);
		sbuf_addf(b,
		          "\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"/>\n",
		          left, y + 6, w, row_h - 12, i == 0 ? COLOR_HEAD : COLOR_BAR);
		sbuf_addf(
		    b,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_INK
		    "\" stroke-width=\"1.5\"/>\n",
		    xl, cy, xh, cy);
		sbuf_addf(
		    b,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_INK
		    "\"/>\n",
		    xl, cy - 6, xl, cy + 6);
		sbuf_addf(
		    b,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_INK
		    "\"/>\n",
		    xh, cy - 6, xh, cy + 6);
		snprintf(buf, sizeof(buf), "%.1f%% (%llu of %llu) [%.1f%%, %.1f%%]", 100 * share,
		         (unsigned long long)m[i].count, (unsigned long long)m[i].n, 100 * lo,
		         100 * hi);
		svg_text(b, left + plot_w + 8, cy + 4, "start", 11, NULL, buf);
	}
	sbuf_addf(b, "</svg>\n");
	return height;
}

static double svg_trend(struct sbuf *b, const struct report *r, double y0)
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

		if (!render_bucket_shown(r, bk))
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
	svg_open(b, r, "trend", title, y0, height);
	sbuf_addf(b, "<line x1=\"16\" y1=\"62\" x2=\"40\" y2=\"62\" stroke=\"" COLOR_HEAD
	             "\" stroke-width=\"2.5\"/>\n");
	snprintf(buf, sizeof(buf), "%s reachable", r->headline_ports);
	svg_text(b, 46, 66, "start", 12, NULL, buf);
	sbuf_addf(b, "<line x1=\"200\" y1=\"62\" x2=\"224\" y2=\"62\" stroke=\"" COLOR_RISK
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
		sbuf_addf(b, "</svg>\n");
		return height;
	}
	for (int t = 0; t <= 5; t++) {
		double y = top + plot_h - plot_h * t / 5.0;

		sbuf_addf(
		    b,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_GRID
		    "\"/>\n",
		    left, y, left + plot_w, y);
		snprintf(buf, sizeof(buf), "%g%%", 100.0 * max * t / 5.0);
		svg_text(b, left - 6, y + 4, "end", 11, NULL, buf);
	}
	snprintf(buf, sizeof(buf), "share of %s (%%)", report_counting_name(r));
	sbuf_addf(
	    b,
	    "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" fill=\"" COLOR_INK
	    "\" font-family=\"sans-serif\" transform=\"rotate(-90 18 %.1f)\">",
	    top + plot_h / 2, top + plot_h / 2);
	sbuf_add_html(b, buf);
	sbuf_addf(b, "</text>\n");
	snprintf(buf, sizeof(buf), "%s starting (UTC%s)", unit,
	         r->opts.trend == REPORT_TREND_DAY ? "" : ", Monday");
	svg_text(b, left + plot_w / 2, top + plot_h + 44, "middle", 12, NULL, buf);
	for (int series = 0; series < 2; series++) {
		const char *color = series == 0 ? COLOR_HEAD : COLOR_RISK;
		size_t label_every = shown / 8 + 1, j = 0;

		sbuf_addf(
		    b,
		    "<polyline class=\"trend\" data-series=\"%s\" fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"2.5\"%s points=\"",
		    series == 0 ? "headline" : "risky", color,
		    series == 0 ? "" : " stroke-dasharray=\"6 3\"");
		for (size_t i = 0; i < r->n_buckets; i++) {
			const struct report_bucket *bk = &r->buckets[i];
			uint64_t x = series == 0 ? bk->acc.headline : bk->acc.risky;
			double px, py;

			if (!render_bucket_shown(r, bk))
				continue;
			px = t1 > t0
			         ? left + plot_w * (double)(bk->start_ms - t0) / (double)(t1 - t0)
			         : left + plot_w / 2;
			py = top + plot_h - plot_h * ((double)x / (double)bk->acc.n) / max;
			sbuf_addf(b, "%.1f,%.1f ", px, py);
		}
		sbuf_addf(b, "\"/>\n");
		for (size_t i = 0; i < r->n_buckets; i++) {
			const struct report_bucket *bk = &r->buckets[i];
			uint64_t x = series == 0 ? bk->acc.headline : bk->acc.risky;
			double px, py, lo, hi;

			if (!render_bucket_shown(r, bk))
				continue;
			stats_wilson(x, bk->acc.n, STATS_Z95, &lo, &hi);
			px = t1 > t0
			         ? left + plot_w * (double)(bk->start_ms - t0) / (double)(t1 - t0)
			         : left + plot_w / 2;
			py = top + plot_h - plot_h * ((double)x / (double)bk->acc.n) / max;
			sbuf_addf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px,
			          py, color);
			sbuf_addf(b,
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
	sbuf_addf(b, "</svg>\n");
	return height;
}

static double svg_answers_height(const struct report *r, enum report_by by)
{
	return SVG_BAR_TOP + (double)(2 * render_answers(r, by)->n_groups) * SVG_BAR_ROW + 100;
}

/* One share as a bar with its interval and its figures, on row y of a plot at left. */
static void svg_share_bar(struct sbuf *b, double left, double plot_w, double max, double y,
                          const char *color, const char *series, const char *group, uint64_t x,
                          uint64_t n)
{
	double lo, hi, cy = y + SVG_BAR_ROW / 2, share, xl, xh;
	char buf[96];

	if (stats_wilson(x, n, STATS_Z95, &lo, &hi) < 0)
		return;
	share = (double)x / (double)n;
	xl = left + plot_w * lo / max;
	xh = left + plot_w * hi / max;
	sbuf_addf(b, "<rect class=\"bar\" data-measure=\"%s\" data-name=\"", series);
	sbuf_add_html(b, group);
	sbuf_addf(b, "\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"/>\n",
	          left, y + 6, plot_w * share / max, SVG_BAR_ROW - 12, color);
	sbuf_addf(b,
	          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COLOR_INK
	          "\" stroke-width=\"1.5\"/>\n",
	          xl, cy, xh, cy);
	snprintf(buf, sizeof(buf), "%.1f%% (%llu of %llu) [%.1f%%, %.1f%%]", 100 * share,
	         (unsigned long long)x, (unsigned long long)n, 100 * lo, 100 * hi);
	svg_text(b, left + plot_w + 8, cy + 4, "start", 11, NULL, buf);
}

/* "what: x of n, share [lo, hi]" as one line of a chart, or "what: none of n". */
static void svg_share_line(struct sbuf *b, double y, const char *what, uint64_t x, uint64_t n)
{
	double lo, hi;
	char buf[200];

	if (stats_wilson(x, n, STATS_Z95, &lo, &hi) == 0)
		snprintf(buf, sizeof(buf), "%s: %llu of %llu, %.1f%% [%.1f%%, %.1f%%]", what,
		         (unsigned long long)x, (unsigned long long)n,
		         100.0 * (double)x / (double)n, 100 * lo, 100 * hi);
	else
		snprintf(buf, sizeof(buf), "%s: none of none", what);
	svg_text(b, 16, y, "start", 13, "bold", buf);
}

/* Under the families' chart: tested on both, and the IPv6-only doors among those. */
static void svg_families(struct sbuf *b, const struct report *r, double y)
{
	char what[96];

	snprintf(what, sizeof(what), "Tested on both families, of all %s", report_counting_name(r));
	svg_share_line(b, y, what, r->tested[2].n, r->total.n);
	svg_share_line(b, y + 20, FINDING_IPV6_ONLY ", of those tested on both",
	               r->only_exposure[1], r->tested[2].n);
	svg_share_line(b, y + 40, FINDING_IPV4_ONLY ", of those tested on both",
	               r->only_exposure[0], r->tested[2].n);
}

/*
 * The breakdown by connection answer or device class: per shown group, the headline share and
 * the risky share with their intervals; for the connection, the 2017 claim under the plot.
 */
static double svg_answers(struct sbuf *b, const struct report *r, enum report_by by, double y0)
{
	const struct report_answers *an = render_answers(r, by);
	const double left = 250, plot_w = 330, top = SVG_BAR_TOP;
	double height = svg_answers_height(r, by), max = 0.0, lo, hi, y;
	char title[160], buf[200];

	for (size_t g = 0; g < an->n_groups; g++) {
		const struct report_acc *a = &an->groups[g].acc;

		if (stats_wilson(a->headline, a->n, STATS_Z95, &lo, &hi) == 0)
			max = fmax(max, hi);
		if (stats_wilson(a->risky, a->n, STATS_Z95, &lo, &hi) == 0)
			max = fmax(max, hi);
	}
	max = nice_max(max);
	snprintf(title, sizeof(title), "%s reachable, and risk medium or worse, %s",
	         r->headline_ports, render_answers_title(by));
	svg_open(b, r,
	         by == REPORT_BY_CONNECTION ? "by-connection"
	         : by == REPORT_BY_DEVICE   ? "by-device"
	                                    : "by-family",
	         title, y0, height);
	sbuf_addf(b,
	          "<rect x=\"16\" y=\"58\" width=\"14\" height=\"10\" fill=\"" COLOR_HEAD "\"/>\n");
	snprintf(buf, sizeof(buf), "%s reachable", r->headline_ports);
	svg_text(b, 36, 67, "start", 12, NULL, buf);
	sbuf_addf(b, "<rect x=\"200\" y=\"58\" width=\"14\" height=\"10\" fill=\"" COLOR_RISK
	             "\"/>\n");
	svg_text(b, 220, 67, "start", 12, NULL, "risk medium or worse");
	snprintf(buf, sizeof(buf), "lines: 95%% interval (Wilson); groups under %u folded into %s",
	         r->min_group, REPORT_BY_FOLDED);
	svg_text(b, 380, 67, "start", 11, NULL, buf);
	for (size_t g = 0; g < an->n_groups; g++) {
		const struct report_acc *a = &an->groups[g].acc;

		y = top + (double)(2 * g) * SVG_BAR_ROW;
		snprintf(buf, sizeof(buf), "%s (%llu)", an->groups[g].name,
		         (unsigned long long)a->n);
		svg_text(b, left - 8, y + SVG_BAR_ROW + 4, "end", 12, NULL, buf);
		svg_share_bar(b, left, plot_w, max, y, COLOR_HEAD, "headline", an->groups[g].name,
		              a->headline, a->n);
		svg_share_bar(b, left, plot_w, max, y + SVG_BAR_ROW, COLOR_RISK, "risky",
		              an->groups[g].name, a->risky, a->n);
	}
	y = top + (double)(2 * an->n_groups) * SVG_BAR_ROW + 24;
	if (an->n_groups == 0)
		svg_text(b, SVG_W / 2.0, top + 30, "middle", 14, NULL, "too few results to show");
	if (by == REPORT_BY_CONNECTION) {
		if (stats_wilson(r->headline_mobile, r->total.headline, STATS_Z95, &lo, &hi) == 0)
			snprintf(buf, sizeof(buf),
			         "Of the %llu with %s reachable, %llu answered sim or usb-modem: "
			         "%.1f%% [%.1f%%, %.1f%%]",
			         (unsigned long long)r->total.headline, r->headline_ports,
			         (unsigned long long)r->headline_mobile,
			         100.0 * (double)r->headline_mobile / (double)r->total.headline,
			         100 * lo, 100 * hi);
		else
			snprintf(buf, sizeof(buf), "No result with %s reachable.",
			         r->headline_ports);
		svg_text(b, 16, y, "start", 13, "bold", buf);
	}
	if (by == REPORT_BY_FAMILY)
		svg_families(b, r, y);
	sbuf_addf(b, "</svg>\n");
	return height;
}

void render_svg(struct sbuf *b, const struct report *r)
{
	double h = svg_bars_height(r);

	if (r->opts.trend != REPORT_TREND_NONE)
		h += SVG_TREND_H;
	if (r->opts.by != REPORT_BY_NONE)
		h += svg_answers_height(r, r->opts.by);
	sbuf_addf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	sbuf_addf(b,
	          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
	          "viewBox=\"0 0 %d %.0f\">\n",
	          SVG_W, h, SVG_W, h);
	h = svg_bars(b, r, 0);
	if (r->opts.trend != REPORT_TREND_NONE)
		h += svg_trend(b, r, h);
	if (r->opts.by != REPORT_BY_NONE)
		svg_answers(b, r, r->opts.by, h);
	sbuf_addf(b, "</svg>\n");
}

/* ------------------------------------------------------------------------------------------ */

static void html_share_cells(struct sbuf *b, uint64_t x, uint64_t n)
{
	double lo, hi;

	if (stats_wilson(x, n, STATS_Z95, &lo, &hi) < 0) {
		sbuf_addf(b, "<td>-</td><td>-</td>");
		return;
	}
	sbuf_addf(b, "<td>%.1f%%</td><td>%.1f%% – %.1f%%</td>", 100.0 * (double)x / (double)n,
	          100 * lo, 100 * hi);
}

/* The header lines, one per <br>: our own text (labels are checked printable), escaped anyway. */
static void html_meta(struct sbuf *b, const struct report *r)
{
	struct sbuf meta;
	char *text;

	sbuf_init(&meta, b->max);
	render_header_lines(&meta, r, "");
	if (meta.err < 0) {
		render_fail(b, meta.err);
		sbuf_free(&meta);
		return;
	}
	text = sbuf_take(&meta, NULL);
	if (text == NULL) {
		render_fail(b, -ENOMEM);
		return;
	}
	for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		sbuf_add_html(b, line);
		sbuf_add(b, "<br>");
	}
	free(text);
}

/* One row of the families' figures: x of n with its interval. */
static void html_share_row(struct sbuf *b, const char *what, uint64_t x, uint64_t n)
{
	sbuf_addf(b, "<tr><th scope=\"row\">");
	sbuf_add_html(b, what);
	sbuf_addf(b, "</th><td>%llu</td><td>%llu</td>", (unsigned long long)n,
	          (unsigned long long)x);
	html_share_cells(b, x, n);
	sbuf_addf(b, "</tr>\n");
}

/* The families' figures: who was tested on what, and the cross-family findings. */
static void html_families(struct sbuf *b, const struct report *r)
{
	const char *c = report_counting_name(r);
	char what[96];

	sbuf_addf(b, "<table class=\"report-table\" data-by=\"families\">\n<caption>Address "
	             "families tested, and the doors open on one family only</caption>\n<thead><tr>"
	             "<th scope=\"col\">measure</th><th scope=\"col\">of</th><th scope=\"col\">"
	             "count</th><th scope=\"col\">share</th><th scope=\"col\">95%% interval</th>"
	             "</tr></thead>\n<tbody>\n");
	snprintf(what, sizeof(what), "tested on IPv4, of all %s", c);
	html_share_row(b, what, r->tested[0].n, r->total.n);
	snprintf(what, sizeof(what), "tested on IPv6, of all %s", c);
	html_share_row(b, what, r->tested[1].n, r->total.n);
	snprintf(what, sizeof(what), "tested on both, of all %s", c);
	html_share_row(b, what, r->tested[2].n, r->total.n);
	snprintf(what, sizeof(what), "%s, of all %s", FINDING_IPV6_ONLY, c);
	html_share_row(b, what, r->only_exposure[1], r->total.n);
	html_share_row(b, FINDING_IPV6_ONLY ", of those tested on both", r->only_exposure[1],
	               r->tested[2].n);
	snprintf(what, sizeof(what), "%s, of all %s", FINDING_IPV4_ONLY, c);
	html_share_row(b, what, r->only_exposure[0], r->total.n);
	html_share_row(b, FINDING_IPV4_ONLY ", of those tested on both", r->only_exposure[0],
	               r->tested[2].n);
	sbuf_addf(b, "</tbody>\n</table>\n");
}

/* The table of one breakdown by answer (the dashboard shows each); its chart if --by asks. */
static void html_answers(struct sbuf *b, const struct report *r, enum report_by by)
{
	const struct report_answers *an = render_answers(r, by);

	if (r->opts.by == by) {
		sbuf_addf(b, "<figure class=\"report-chart\">\n");
		svg_answers(b, r, by, 0);
		sbuf_addf(b, "</figure>\n");
	}
	sbuf_addf(b,
	          "<table class=\"report-table\" data-by=\"%s\">\n<caption>%s (groups under %u "
	          "folded into &quot;%s&quot;)</caption>\n<thead><tr><th scope=\"col\">%s</th>"
	          "<th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
	          "<th scope=\"col\">95%% interval</th><th scope=\"col\">risk medium or worse"
	          "</th><th scope=\"col\">95%% interval</th></tr></thead>\n<tbody>\n",
	          report_by_name(by),
	          by == REPORT_BY_CONNECTION ? "By connection answer"
	          : by == REPORT_BY_DEVICE   ? "By device class"
	                                     : "By address families tested",
	          r->min_group, REPORT_BY_FOLDED, render_answers_column(by),
	          report_counting_name(r), r->headline_ports);
	for (size_t g = 0; g < an->n_groups; g++) {
		const struct report_acc *a = &an->groups[g].acc;

		sbuf_addf(b, "<tr><th scope=\"row\">");
		sbuf_add_html(b, an->groups[g].name);
		sbuf_addf(b, "</th><td>%llu</td>", (unsigned long long)a->n);
		html_share_cells(b, a->headline, a->n);
		html_share_cells(b, a->risky, a->n);
		sbuf_addf(b, "</tr>\n");
	}
	sbuf_addf(b, "</tbody>\n</table>\n");
	if (by == REPORT_BY_FAMILY)
		html_families(b, r);
	if (by != REPORT_BY_CONNECTION)
		return;
	sbuf_addf(b,
	          "<table class=\"report-table\" data-by=\"claim\">\n<caption>Of the %s with "
	          "%s reachable, answered sim or usb-modem</caption>\n<thead><tr><th "
	          "scope=\"col\">of</th><th scope=\"col\">%s</th><th scope=\"col\">sim or "
	          "usb-modem</th><th scope=\"col\">share</th><th scope=\"col\">95%% interval"
	          "</th></tr></thead>\n<tbody>\n<tr><th scope=\"row\">all</th><td>%llu</td>"
	          "<td>%llu</td>",
	          report_counting_name(r), r->headline_ports, report_counting_name(r),
	          (unsigned long long)r->total.headline, (unsigned long long)r->headline_mobile);
	html_share_cells(b, r->headline_mobile, r->total.headline);
	sbuf_addf(b,
	          "</tr>\n<tr><th scope=\"row\">those that answered</th><td>%llu</td>"
	          "<td>%llu</td>",
	          (unsigned long long)r->headline_answered, (unsigned long long)r->headline_mobile);
	html_share_cells(b, r->headline_mobile, r->headline_answered);
	sbuf_addf(b, "</tr>\n</tbody>\n</table>\n");
}

void render_html(struct sbuf *b, const struct report *r, const char *csv_href)
{
	struct measure *m = calloc(MEASURES_MAX, sizeof(*m));
	char title[96];
	size_t k;

	if (m == NULL) {
		render_fail(b, -ENOMEM);
		return;
	}
	sbuf_addf(b, "<section class=\"exposure-report\">\n<p class=\"report-meta\">");
	html_meta(b, r);
	sbuf_addf(b, "</p>\n");
	if (r->total.n == 0) {
		sbuf_addf(b,
		          "<p class=\"report-empty\">No results in this period.</p>\n</section>\n");
		free(m);
		return;
	}
	sbuf_addf(b, "<figure class=\"report-chart\">\n");
	svg_bars(b, r, 0);
	sbuf_addf(
	    b, "</figure>\n<table class=\"report-table\">\n<caption>Every measure, with its 95%% "
	       "interval (Wilson)</caption>\n<thead><tr><th scope=\"col\">measure</th>"
	       "<th scope=\"col\">count</th><th scope=\"col\">share</th>"
	       "<th scope=\"col\">95%% interval</th></tr></thead>\n<tbody>\n");
	k = render_measures(r, &r->total, true, m);
	for (size_t i = 0; i < k; i++) {
		render_measure_title(r, &m[i], title, sizeof(title));
		sbuf_addf(b, "<tr><th scope=\"row\">");
		sbuf_add_html(b, title);
		sbuf_addf(b, "</th><td>%llu</td>", (unsigned long long)m[i].count);
		html_share_cells(b, m[i].count, m[i].n);
		sbuf_addf(b, "</tr>\n");
	}
	sbuf_addf(b, "</tbody>\n</table>\n");
	if (r->n_groups > 0 && !r->label_filter[0]) {
		sbuf_addf(
		    b,
		    "<table class=\"report-table\">\n<caption>By network label (groups under %u "
		    "folded into &quot;other&quot;)</caption>\n<thead><tr><th scope=\"col\">label"
		    "</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
		    "<th scope=\"col\">95%% interval</th><th scope=\"col\">risk medium or worse"
		    "</th><th scope=\"col\">95%% interval</th></tr></thead>\n<tbody>\n",
		    r->min_group, report_counting_name(r), r->headline_ports);
		for (size_t g = 0; g < r->n_groups; g++) {
			const struct report_acc *a = &r->groups[g].acc;

			sbuf_addf(b, "<tr><th scope=\"row\">");
			sbuf_add_html(b, r->groups[g].name);
			sbuf_addf(b, "</th><td>%llu</td>", (unsigned long long)a->n);
			html_share_cells(b, a->headline, a->n);
			html_share_cells(b, a->risky, a->n);
			sbuf_addf(b, "</tr>\n");
		}
		sbuf_addf(b, "</tbody>\n</table>\n");
	}
	if (r->opts.trend != REPORT_TREND_NONE) {
		sbuf_addf(b, "<figure class=\"report-chart\">\n");
		svg_trend(b, r, 0);
		sbuf_addf(b, "</figure>\n");
	}
	html_answers(b, r, REPORT_BY_CONNECTION);
	html_answers(b, r, REPORT_BY_DEVICE);
	html_answers(b, r, REPORT_BY_FAMILY);
	if (csv_href != NULL) {
		sbuf_addf(b, "<p><a class=\"report-csv\" href=\"");
		sbuf_add_html(b, csv_href);
		sbuf_addf(b, "\" download=\"exposure-report.csv\">Download CSV</a></p>\n");
	}
	sbuf_addf(b, "</section>\n");
	free(m);
}
