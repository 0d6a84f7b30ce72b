/* SPDX-License-Identifier: MIT */
/*
 * `exposure report`: its options, then the statistics of a store on stdout (report/report_cmd.h).
 * Exit status: 0 ok, 1 store or output failure, 2 usage error, 3 no results in the period.
 */
#include "cli/cli.h"
#include "core/decimal.h"
#include "core/err.h"
#include "report/report_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* Room for a message that names a store path. */
#define REPORT_ERR_MAX 8192

struct report_config {
	struct report_cmd run;
	bool help;
};

static const char usage_text[] =
    "usage: exposure report [--store STORE] [--since DATE] [--until DATE]\n"
    "                       [--sample N --seed S] [--per diagnosis|requester]\n"
    "                       [--labels FILE] [--label NAME] [--min-group N]\n"
    "                       [--trend day|week] [--format table|json|csv|svg|html]\n"
    "                       [--by connection|device|family] [--sweep ID]\n"
    "\n"
    "Statistics over the finished diagnoses in a store (see docs/report.md).\n"
    "  --store STORE    the store, opened read-only: a SQLite file (default " REPORT_DEFAULT_DB
    ",\n"
    "                   sqlite:PATH too) or postgresql://... (--db is the same option)\n"
    "  --since DATE     first day counted: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)\n"
    "  --until DATE     last day counted (a bare date includes that whole day)\n"
    "  --sample N       a uniform random sample of N, without replacement...\n"
    "  --seed S         ...reproducible from the seed S (0..2^64-1); both or neither\n"
    "  --per WHAT       diagnosis (default: every result) or requester (its latest result)\n"
    "  --labels FILE    CSV of PREFIX,LABEL; breakdown by label, longest prefix wins\n"
    "  --label NAME     only the results of one label (or \"unlabelled\")\n"
    "  --min-group N    groups smaller than N are folded into \"other\" (default 10)\n"
    "  --trend WHAT     the same shares per day or week\n"
    "  --by WHAT        the shares per connection answer (and how many results with the\n"
    "                   headline open answered sim or usb-modem), per device class, or\n"
    "                   per address families tested (and the one-family-only doors)\n"
    "  --format F       table (default), json, csv, svg, html\n"
    "  --sweep ID       the hosts of one `exposure sweep` instead of the service's results\n"
    "Exit: 0 ok, 1 store or output failure, 2 usage error, 3 no results in the period.\n";

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
	O_BY,
	O_SWEEP,
	O_HELP
};

static const struct option long_options[] = {
    {"db", required_argument, NULL, O_DB},
    {"store", required_argument, NULL, O_DB},
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
    {"by", required_argument, NULL, O_BY},
    {"sweep", required_argument, NULL, O_SWEEP},
    {"help", no_argument, NULL, O_HELP},
    {0},
};

/* Options as given, checked after the loop in the order the messages have always come. */
struct raw {
	const char *format, *sample, *seed;
};

static void one_option(struct report_config *cfg, struct raw *raw, int c, const char *arg)
{
	struct report_cmd *run = &cfg->run;

	switch (c) {
	case O_DB:
		run->db = arg;
		break;
	case O_SINCE:
		run->q.since = arg;
		break;
	case O_UNTIL:
		run->q.until = arg;
		break;
	case O_SAMPLE:
		raw->sample = arg;
		break;
	case O_SEED:
		raw->seed = arg;
		break;
	case O_PER:
		run->q.per = arg;
		break;
	case O_LABELS:
		run->labels_path = arg;
		break;
	case O_LABEL:
		run->q.label = arg;
		break;
	case O_MIN_GROUP:
		run->q.min_group = arg;
		break;
	case O_TREND:
		run->q.trend = arg;
		break;
	case O_FORMAT:
		raw->format = arg;
		break;
	case O_BY:
		run->q.by = arg;
		break;
	case O_SWEEP:
		run->sweep = arg;
		break;
	case O_HELP:
		cfg->help = true;
		break;
	}
}

static int check_values(struct report_config *cfg, const struct raw *raw, char *err, size_t errlen)
{
	struct report_cmd *run = &cfg->run;

	if (report_format_parse(raw->format, &run->format) < 0) {
		snprintf(err, errlen, "unknown format '%.20s' (table, json, csv, svg, html)",
		         raw->format);
		return -ERR_SYNTAX;
	}
	if (!raw->sample != !raw->seed) {
		snprintf(err, errlen, "--sample and --seed go together");
		return -ERR_SYNTAX;
	}
	if (raw->sample == NULL)
		return 0;
	if (decimal_u64(raw->sample, UINT64_MAX, &run->sample_n) < 0 || run->sample_n == 0) {
		snprintf(err, errlen, "--sample needs a whole number above 0, not '%.30s'",
		         raw->sample);
		return -ERR_SYNTAX;
	}
	if (decimal_u64(raw->seed, UINT64_MAX, &run->seed) < 0) {
		snprintf(err, errlen, "--seed needs a whole number from 0 to 2^64-1, not '%.30s'",
		         raw->seed);
		return -ERR_SYNTAX;
	}
	run->sampled = true;
	return 0;
}

/*
 * Parse the arguments of `exposure report` (argv[0] is "report") into cfg. Returns 0 (cfg->help
 * set if --help was given: nothing else is checked then), or -ERR_SYNTAX with one line in err.
 */
static int report_options_parse(int argc, char **argv, struct report_config *cfg, char *err,
                                size_t errlen)
{
	struct raw raw = {.format = "table"};
	int c;

	*cfg = (struct report_config){.run = {.db = REPORT_DEFAULT_DB, .q.trend = "none"}};
	err[0] = '\0';
	/* optind = 0 re-initialises glibc's getopt, so this can run more than once (tests). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
		if (c == '?') {
			snprintf(err, errlen, "unknown option or missing value: %.60s",
			         argv[optind - 1]);
			return -ERR_SYNTAX;
		}
		one_option(cfg, &raw, c, optarg);
		if (cfg->help)
			return 0;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%.60s'", argv[optind]);
		return -ERR_SYNTAX;
	}
	return check_values(cfg, &raw, err, errlen);
}

int cmd_report(int argc, char **argv)
{
	struct report_config cfg;
	char err[REPORT_ERR_MAX];
	int ret;

	if (report_options_parse(argc, argv, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "exposure report: %s (see --help)\n", err);
		return REPORT_EXIT_USAGE;
	}
	if (cfg.help) {
		fputs(usage_text, stdout);
		return REPORT_EXIT_OK;
	}
	ret = report_cmd_run(&cfg.run, stdout, err, sizeof(err));
	if (ret != REPORT_EXIT_OK)
		fprintf(stderr, "exposure report: %s%s\n", err,
		        ret == REPORT_EXIT_USAGE ? " (see --help)" : "");
	else if (err[0]) /* a note: the report stands */
		fprintf(stderr, "exposure report: %s\n", err);
	return ret;
}
