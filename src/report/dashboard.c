/* SPDX-License-Identifier: MIT */
/* Query parsing shared by the dashboard and the command line; dashboard rendering. */
#include "report/report_dashboard.h"

#include "core/decimal.h"
#include "core/err.h"
#include "report/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool given(const char *s)
{
	return s != NULL && *s != '\0';
}

static int parse_bound(const char *what, const char *text, bool until, int64_t *ms, char *err,
                       size_t errlen)
{
	bool date_only;

	if (stats_parse_date(text, ms, &date_only) < 0) {
		snprintf(err, errlen,
		         "malformed %s date '%.40s' (YYYY-MM-DD or "
		         "YYYY-MM-DDTHH:MM:SSZ, UTC)",
		         what, text);
		return -ERR_SYNTAX;
	}
	/* "--until 2024-05-31" means up to the end of that day. */
	if (until && date_only)
		*ms += STATS_DAY_MS;
	return 0;
}

int report_dashboard_opts(const struct report_dashboard_query *q,
                          const struct report_labels *labels, struct report_opts *o, char *err,
                          size_t errlen)
{
	int r;

	*o = (struct report_opts){
	    .labels = labels, .min_group = REPORT_MIN_GROUP, .trend = REPORT_TREND_WEEK};
	if (given(q->since) &&
	    (r = parse_bound("since", q->since, false, &o->period.since_ms, err, errlen)) < 0)
		return r;
	if (given(q->until) &&
	    (r = parse_bound("until", q->until, true, &o->period.until_ms, err, errlen)) < 0)
		return r;
	if (o->period.until_ms != 0 && o->period.until_ms <= o->period.since_ms) {
		snprintf(err, errlen, "empty period: since is not before until");
		return -ERR_SYNTAX;
	}
	if (given(q->trend)) {
		if (strcmp(q->trend, "day") == 0) {
			o->trend = REPORT_TREND_DAY;
		} else if (strcmp(q->trend, "week") == 0) {
			o->trend = REPORT_TREND_WEEK;
		} else if (strcmp(q->trend, "none") == 0) {
			o->trend = REPORT_TREND_NONE;
		} else {
			snprintf(err, errlen, "trend must be day, week or none");
			return -ERR_SYNTAX;
		}
	}
	if (given(q->per)) {
		if (strcmp(q->per, "diagnosis") == 0) {
			o->per = REPORT_PER_DIAGNOSIS;
		} else if (strcmp(q->per, "requester") == 0) {
			o->per = REPORT_PER_REQUESTER;
		} else {
			snprintf(err, errlen, "per must be diagnosis or requester");
			return -ERR_SYNTAX;
		}
	}
	if (given(q->min_group)) {
		uint32_t v;

		if (decimal_u32_in(q->min_group, 1, 1000000, &v) < 0) {
			snprintf(err, errlen, "min-group must be a whole number from 1 to 1000000");
			return -ERR_SYNTAX;
		}
		o->min_group = v;
	}
	if (given(q->by) && report_by_parse(q->by, &o->by) < 0) {
		snprintf(err, errlen, "by must be connection, device or family");
		return -ERR_SYNTAX;
	}
	if (given(q->label)) {
		bool known = strcmp(q->label, LABELS_UNLABELLED) == 0;

		for (size_t i = 0; !known && i < report_labels_count(labels); i++)
			known = strcmp(report_labels_name(labels, i), q->label) == 0;
		if (!known) {
			snprintf(err, errlen, "unknown label");
			return -ERR_SYNTAX;
		}
		o->label_filter = q->label;
	}
	return 0;
}

static int dashboard(struct store *s, const struct report_labels *labels,
                     const struct report_dashboard_query *q, enum report_format f,
                     const char *csv_href, char **out, size_t *len, char *err, size_t errlen)
{
	struct report_opts o;
	struct report *rep = NULL;
	int r;

	*out = NULL;
	*len = 0;
	if ((r = report_dashboard_opts(q, labels, &o, err, errlen)) < 0)
		return r;
	if ((r = report_run(s, &o, &rep, err, errlen)) < 0)
		return r;
	r = report_render(rep, f, csv_href, out, len);
	report_free(rep);
	return r;
}

int report_dashboard_html(struct store *s, const struct report_labels *labels,
                          const struct report_dashboard_query *q, const char *csv_href, char **out,
                          size_t *len, char *err, size_t errlen)
{
	return dashboard(s, labels, q, REPORT_FORMAT_HTML, csv_href, out, len, err, errlen);
}

int report_dashboard_csv(struct store *s, const struct report_labels *labels,
                         const struct report_dashboard_query *q, char **out, size_t *len, char *err,
                         size_t errlen)
{
	return dashboard(s, labels, q, REPORT_FORMAT_CSV, NULL, out, len, err, errlen);
}
