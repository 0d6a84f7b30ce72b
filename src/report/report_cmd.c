/* SPDX-License-Identifier: MIT */
/* `exposure report`: options, store, labels, output, exit codes. */
#include "report/report_cmd.h"

#include "core/err.h"
#include "report/report.h"
#include "report/report_dashboard.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: exposure report [--db PATH] [--since DATE] [--until DATE]\n"
    "                       [--sample N --seed S] [--per diagnosis|requester]\n"
    "                       [--labels FILE] [--label NAME] [--min-group N]\n"
    "                       [--trend day|week] [--format table|json|csv|svg|html]\n"
    "\n"
    "Statistics over the finished diagnoses in a store (see docs/report.md).\n"
    "  --db PATH        the store (default " REPORT_DEFAULT_DB "), opened read-only\n"
    "  --since DATE     first day counted: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)\n"
    "  --until DATE     last day counted (a bare date includes that whole day)\n"
    "  --sample N       a uniform random sample of N, without replacement...\n"
    "  --seed S         ...reproducible from the seed S (0..2^64-1); both or neither\n"
    "  --per WHAT       diagnosis (default: every result) or requester (its latest result)\n"
    "  --labels FILE    CSV of PREFIX,LABEL; breakdown by label, longest prefix wins\n"
    "  --label NAME     only the results of one label (or \"unlabelled\")\n"
    "  --min-group N    groups smaller than N are folded into \"other\" (default 10)\n"
    "  --trend WHAT     the same shares per day or week\n"
    "  --format F       table (default), json, csv, svg, html\n"
    "Exit: 0 ok, 1 store or output failure, 2 usage error, 3 no results in the period.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("exposure report: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	return REPORT_EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -ERR_SYNTAX;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -ERR_SYNTAX;
	*out = v;
	return 0;
}

static int write_all(const char *p, size_t len)
{
	if (fwrite(p, 1, len, stdout) != len || fflush(stdout) != 0)
		return -EIO;
	return 0;
}

struct cmd {
	const char *db, *labels_path, *format;
	const char *sample, *seed;
	struct report_dashboard_query q;
};

static int parse_args(int argc, char **argv, struct cmd *c)
{
	enum {
		O_DB = 256,
		O_SINCE,
		O_UNTIL,
		O_SAMPLE,
		O_SEED,
		O_PER,
		O_LABELS,
		O_LABEL,
		O_MIN_GROUP,
		O_TREND,
		O_FORMAT,
		O_HELP
	};
	static const struct option opts[] = {
	    {"db", required_argument, NULL, O_DB},
	    {"since", required_argument, NULL, O_SINCE},
	    {"until", required_argument, NULL, O_UNTIL},
	    {"sample", required_argument, NULL, O_SAMPLE},
	    {"seed", required_argument, NULL, O_SEED},
	    {"per", required_argument, NULL, O_PER},
	    {"labels", required_argument, NULL, O_LABELS},
	    {"label", required_argument, NULL, O_LABEL},
	    {"min-group", required_argument, NULL, O_MIN_GROUP},
	    {"trend", required_argument, NULL, O_TREND},
	    {"format", required_argument, NULL, O_FORMAT},
	    {"help", no_argument, NULL, O_HELP},
	    {0},
	};
	int ch;

	*c = (struct cmd){.db = REPORT_DEFAULT_DB, .format = "table", .q.trend = "none"};
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case O_DB:
			c->db = optarg;
			break;
		case O_SINCE:
			c->q.since = optarg;
			break;
		case O_UNTIL:
			c->q.until = optarg;
			break;
		case O_SAMPLE:
			c->sample = optarg;
			break;
		case O_SEED:
			c->seed = optarg;
			break;
		case O_PER:
			c->q.per = optarg;
			break;
		case O_LABELS:
			c->labels_path = optarg;
			break;
		case O_LABEL:
			c->q.label = optarg;
			break;
		case O_MIN_GROUP:
			c->q.min_group = optarg;
			break;
		case O_TREND:
			c->q.trend = optarg;
			break;
		case O_FORMAT:
			c->format = optarg;
			break;
		case O_HELP:
			fputs(usage_text, stdout);
			return 1;
		default:
			usage_error("unknown option or missing value: %.60s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		usage_error("unexpected argument '%.60s'", argv[optind]);
		return -1;
	}
	return 0;
}

int report_main(int argc, char **argv)
{
	struct report_labels *labels = NULL;
	struct report *rep = NULL;
	struct store *st = NULL;
	struct report_opts o;
	struct cmd c;
	enum report_format fmt;
	char err[256] = "", *text = NULL;
	size_t len = 0;
	int r, ret = REPORT_EXIT_FAIL;
	struct store_opts so = {.flags = STORE_READONLY, .errbuf = err, .errlen = sizeof(err)};

	if ((r = parse_args(argc, argv, &c)) != 0)
		return r > 0 ? REPORT_EXIT_OK : REPORT_EXIT_USAGE;
	if (report_format_parse(c.format, &fmt) < 0)
		return usage_error("unknown format '%.20s' (table, json, csv, svg, html)",
		                   c.format);
	if (!c.sample != !c.seed)
		return usage_error("%s", "--sample and --seed go together");
	if (c.labels_path != NULL &&
	    report_labels_load(c.labels_path, &labels, err, sizeof(err)) < 0)
		return usage_error("%s", err);
	if (report_dashboard_opts(&c.q, labels, &o, err, sizeof(err)) < 0) {
		ret = usage_error("%s", err);
		goto out;
	}
	if (c.sample && (parse_u64(c.sample, &o.sample_n) < 0 || o.sample_n == 0)) {
		ret = usage_error("--sample needs a whole number above 0, not '%.30s'", c.sample);
		goto out;
	}
	if (c.seed && parse_u64(c.seed, &o.seed) < 0) {
		ret = usage_error("--seed needs a whole number from 0 to 2^64-1, not '%.30s'",
		                  c.seed);
		goto out;
	}
	if ((r = store_open(c.db, &so, &st)) < 0) {
		fprintf(stderr, "exposure report: cannot open store %s: %s\n", c.db,
		        err[0] ? err : err_str(r));
		goto out;
	}
	if ((r = report_run(st, &o, &rep, err, sizeof(err))) < 0) {
		if (r == -ERR_RANGE || r == -ERR_SYNTAX)
			ret = usage_error("%s", err);
		else
			fprintf(stderr, "exposure report: %s\n", err[0] ? err : err_str(r));
		goto out;
	}
	if (rep->total.n == 0) {
		fprintf(stderr, "exposure report: no results in the period%s%s\n",
		        c.q.label ? " for label " : "", c.q.label ? c.q.label : "");
		ret = REPORT_EXIT_NO_RESULTS;
		goto out;
	}
	if ((r = report_render(rep, fmt, NULL, &text, &len)) < 0 || write_all(text, len) < 0) {
		fprintf(stderr, "exposure report: %s\n", r < 0 ? err_str(r) : "write error");
		goto out;
	}
	ret = REPORT_EXIT_OK;
out:
	free(text);
	report_free(rep);
	store_close(st);
	report_labels_free(labels);
	return ret;
}
