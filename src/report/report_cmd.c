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

#define FAILED_NAMED 4 /* failed shards a note names */

struct failed_note {
	char *buf;
	size_t len;
	unsigned n;
};

static int name_failed(void *ud, const char *sweep, unsigned shard, unsigned shards)
{
	struct failed_note *f = ud;
	size_t at = strlen(f->buf);

	(void)sweep;
	if (f->n++ < FAILED_NAMED && at < f->len)
		snprintf(f->buf + at, f->len - at, "%s%u/%u", f->n > 1 ? ", " : "", shard, shards);
	return 0;
}

/*
 * A sweep whose row has not ended is incomplete: its report covers the hosts stored so far,
 * and says so (note, one line), naming the shards that failed (docs/sweep.md "A shard that
 * fails"). A finished sweep: note empty.
 */
static void sweep_note(struct store *st, const struct store_sweep *sw, char *note, size_t len)
{
	char names[96] = "";
	struct failed_note f = {names, sizeof(names), 0};

	note[0] = '\0';
	if (sw->finished_ms)
		return;
	if (sw->shards && store_shard_failed(st, sw->id, name_failed, &f) > 0)
		snprintf(note, len,
		         "sweep %s is incomplete: %u of its %u shards failed (%s%s), not run "
		         "again; this report covers the hosts stored",
		         sw->id, f.n, sw->shards, names, f.n > FAILED_NAMED ? ", ..." : "");
	else
		snprintf(
		    note, len,
		    "sweep %s is incomplete (still running, or interrupted): this report covers "
		    "the hosts stored so far",
		    sw->id);
}

int report_cmd_run(const struct report_cmd *c, FILE *out, char *err, size_t errlen)
{
	struct report_labels *labels = NULL;
	struct store_sweep *sw = NULL;
	struct store *st = NULL;
	char note[512] = "";
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
	if (c->sweep && !(sw = malloc(sizeof(*sw)))) {
		snprintf(err, errlen, "out of memory");
		ret = REPORT_EXIT_FAIL;
		goto out;
	}
	if (c->sweep && (r = store_sweep_get(st, c->sweep, sw)) < 0) {
		snprintf(err, errlen, "%s",
		         r == -ENOENT ? "no such sweep in the store" : err_str(r));
		ret = r == -ENOENT ? REPORT_EXIT_NO_RESULTS : REPORT_EXIT_FAIL;
		goto out;
	}
	if (sw)
		sweep_note(st, sw, note, sizeof(note));
	ret = run_on(st, c, &o, out, err, errlen);
	if (note[0]) { /* the note, after why it failed if it did */
		size_t at = ret == REPORT_EXIT_OK ? 0 : strlen(err);

		if (at + 2 < errlen)
			snprintf(err + at, errlen - at, "%s%s", at ? "; " : "", note);
	}
out:
	free(sw);
	store_close(st);
	report_labels_free(labels);
	return ret;
}
