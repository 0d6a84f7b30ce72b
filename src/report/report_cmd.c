/* SPDX-License-Identifier: MIT */
/* `exposure report` below its options: store, labels, report, output, exit codes. */
#include "report/report_cmd.h"

#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_all(FILE *out, const char *p, size_t len)
{
	if (fwrite(p, 1, len, out) != len || fflush(out) != 0)
		return -EIO;
	return 0;
}

/* Compute and write the report from an open store. */
static int run_on(struct store *st, const struct report_cmd *c, const struct report_opts *o,
                  FILE *out, char *err, size_t errlen)
{
	struct report *rep = NULL;
	char *text = NULL;
	size_t len = 0;
	int r, ret = REPORT_EXIT_FAIL;

	if ((r = report_run(st, o, &rep, err, errlen)) < 0) {
		if (r == -ERR_RANGE || r == -ERR_SYNTAX)
			ret = REPORT_EXIT_USAGE;
		else if (err[0] == '\0')
			snprintf(err, errlen, "%s", err_str(r));
		goto out;
	}
	if (rep->total.n == 0) {
		snprintf(err, errlen, "no results in the period%s%s",
		         c->q.label ? " for label " : "", c->q.label ? c->q.label : "");
		ret = REPORT_EXIT_NO_RESULTS;
		goto out;
	}
	if ((r = report_render(rep, c->format, NULL, &text, &len)) < 0 ||
	    write_all(out, text, len) < 0) {
		snprintf(err, errlen, "%s", r < 0 ? err_str(r) : "write error");
		goto out;
	}
	ret = REPORT_EXIT_OK;
out:
	free(text);
	report_free(rep);
	return ret;
}

int report_cmd_run(const struct report_cmd *c, FILE *out, char *err, size_t errlen)
{
	struct report_labels *labels = NULL;
	struct store *st = NULL;
	struct report_opts o;
	char serr[256] = "";
	struct store_opts so = {.flags = STORE_READONLY, .errbuf = serr, .errlen = sizeof(serr)};
	int r, ret = REPORT_EXIT_USAGE;

	err[0] = '\0';
	if (c->labels_path != NULL && report_labels_load(c->labels_path, &labels, err, errlen) < 0)
		return REPORT_EXIT_USAGE;
	if (report_dashboard_opts(&c->q, labels, &o, err, errlen) < 0)
		goto out;
	if (c->sampled) {
		o.sample_n = c->sample_n;
		o.seed = c->seed;
	}
	if (c->sweep && !store_id_valid(c->sweep)) {
		snprintf(err, errlen, "--sweep wants a sweep id (32 hex digits), not '%.40s'",
		         c->sweep);
		goto out;
	}
	o.period.sweep = c->sweep;
	if ((r = store_open(c->db, &so, &st)) < 0) {
		char shown[512];

		snprintf(err, errlen, "cannot open store %s: %s",
		         store_display(c->db, shown, sizeof(shown)), serr[0] ? serr : err_str(r));
		ret = REPORT_EXIT_FAIL;
		goto out;
	}
	if (c->sweep && (r = store_sweep_get(st, c->sweep, &(struct store_sweep){0})) < 0) {
		snprintf(err, errlen, "%s",
		         r == -ENOENT ? "no such sweep in the store" : err_str(r));
		ret = r == -ENOENT ? REPORT_EXIT_NO_RESULTS : REPORT_EXIT_FAIL;
		goto out;
	}
	ret = run_on(st, c, &o, out, err, errlen);
out:
	store_close(st);
	report_labels_free(labels);
	return ret;
}
