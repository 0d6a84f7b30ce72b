/* SPDX-License-Identifier: MIT */
/*
 * The statistics of issue 5 over a store: counts and shares with Wilson 95% intervals, per
 * check, per finding, the 2017 headline (139 or 445 reachable) and "anything risky", over all
 * results or a seeded uniform sample, per result or per requester, broken down by operator
 * labels and by day or week. Never prints an address or a stored prefix. See docs/report.md.
 */
#ifndef EXPOSURE_REPORT_REPORT_H
#define EXPOSURE_REPORT_REPORT_H

#include "store/store.h"
#include "report/labels.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPORT_MAX_CHECKS   32
#define REPORT_MAX_FINDINGS 256
#define REPORT_MIN_GROUP    10 /* default threshold below which a group is folded */

enum report_per { REPORT_PER_DIAGNOSIS = 0, REPORT_PER_REQUESTER, REPORT_PER_X_MAX };
enum report_trend { REPORT_TREND_NONE = 0, REPORT_TREND_DAY, REPORT_TREND_WEEK };
/* --by: the shares per answer to the connection question, or per device class (issue 10 §3),
 * or per address families tested (issue 10 §1). */
enum report_by {
	REPORT_BY_NONE = 0,
	REPORT_BY_CONNECTION,
	REPORT_BY_DEVICE,
	REPORT_BY_FAMILY,
	REPORT_BY_X_MAX
};
enum report_format {
	REPORT_FORMAT_TABLE = 0,
	REPORT_FORMAT_JSON,
	REPORT_FORMAT_CSV,
	REPORT_FORMAT_SVG,
	REPORT_FORMAT_HTML,
	REPORT_FORMAT_X_MAX
};

struct report_opts {
	struct store_period period; /* created_ms in [since, until); 0 = open end */
	uint64_t sample_n;          /* 0 = every result */
	uint64_t seed;
	enum report_per per;
	const struct report_labels *labels; /* NULL: no breakdown by label */
	const char *label_filter;           /* NULL: every group; else a label or "unlabelled" */
	unsigned min_group;                 /* 0 means REPORT_MIN_GROUP */
	enum report_trend trend;
	enum report_by by; /* which breakdown the formats show; all are always computed */
};

/* Counts over one set of results. */
struct report_acc {
	uint64_t n;        /* results (or requesters) counted */
	uint64_t headline; /* a headline check of the catalogue open (netbios 139 or smb 445) */
	uint64_t risky;    /* risk medium, high or critical */
	uint64_t check_open[REPORT_MAX_CHECKS];
	/*
	 * Profiles (issue 12 §3): results whose diagnosis ran the check (it is in their states),
	 * the denominator of its share; and those that ran it or a check that runs it (netbios runs
	 * smb), the denominator of the findings it lists. A result of the profile 2017 did not run
	 * ssdp: it is not counted in ssdp's shares.
	 */
	uint64_t check_run[REPORT_MAX_CHECKS];
	uint64_t check_reach[REPORT_MAX_CHECKS];
	/* results where the finding holds: there at least once with a confidence other than
	 * unknown */
	uint64_t finding[REPORT_MAX_FINDINGS];
	/* results where it is there only as unknown: a question the check could not answer
	 * (docs/json.md), never counted as holding */
	uint64_t finding_unknown[REPORT_MAX_FINDINGS];
};

struct report_group {
	char name[LABELS_NAME_MAX];
	struct report_acc acc;
};

struct report_bucket {
	int64_t start_ms, end_ms; /* [start, end) UTC day or ISO week */
	struct report_acc acc;
};

#define REPORT_HEADLINE_MAX 48

/* The fold of the answers (or classes) with fewer than min_group results. */
#define REPORT_BY_FOLDED    "small-groups"
#define REPORT_NO_ANSWER    "no-answer"    /* the connection question not answered */
#define REPORT_NOT_RECORDED "not-recorded" /* no device class (results before schema 2) */
#define REPORT_ANSWERS_MAX  8              /* every answer or class, no answer, the fold */
/* The groups by families tested: the requester's family alone, or both in one visit. */
#define REPORT_FAMILY_V4   "ipv4"
#define REPORT_FAMILY_V6   "ipv6"
#define REPORT_FAMILY_BOTH "both"

/* One breakdown by answer: each answer of at least min_group in the enum's order, then the
 * unanswered, then the fold of the small ones (if it reaches min_group itself). */
struct report_answers {
	struct report_group groups[REPORT_ANSWERS_MAX];
	size_t n_groups;
	uint64_t suppressed; /* counted results in answers too small to show, even folded */
};

struct report {
	struct report_opts opts; /* as given; labels and label_filter are not owned */
	/* The headline's ports from the catalogue: measure name "139-or-445", text "139 or 445". */
	char headline_name[REPORT_HEADLINE_MAX];
	char headline_ports[REPORT_HEADLINE_MAX];
	char label_filter[LABELS_NAME_MAX];
	unsigned min_group;
	uint64_t population; /* eligible results (or requesters) before sampling */
	struct report_acc total;
	size_t n_checks, n_findings;
	char check_names[REPORT_MAX_CHECKS][STORE_NAME_MAX];
	char finding_names[REPORT_MAX_FINDINGS][FINDING_ID_MAX];
	size_t check_order[REPORT_MAX_CHECKS];     /* display order: catalogue, then by name */
	size_t finding_order[REPORT_MAX_FINDINGS]; /* by name */
	struct report_group *groups;               /* shown groups, largest first; "other" last */
	size_t n_groups;
	uint64_t suppressed; /* counted results in groups too small to show, even folded */
	struct report_bucket *buckets;
	size_t n_buckets;
	struct report_answers by_connection, by_device;
	/* The 2017 claim as a number: of the counted results with the headline open
	 * (total.headline), those whose visitor answered sim or usb-modem, and those that gave
	 * any answer at all ("unknown" included). */
	uint64_t headline_mobile, headline_answered;
	/* Families (issue 10 §1), over the counted results: tested[0] those whose diagnosis
	 * covered an IPv4 address, tested[1] an IPv6 one (a both-families visit is in each),
	 * tested[2] those that covered both; only_exposure[0] those holding ipv4-only-exposure,
	 * only_exposure[1] ipv6-only-exposure (confidence not unknown). Never folded: shares
	 * shown only from min_group results. */
	struct report_answers by_family;
	struct report_acc tested[3];
	uint64_t only_exposure[2];
};

/*
 * Compute a report. Returns 0 and *out (free with report_free) even when nothing matched
 * ((*out)->total.n == 0: print "no results"). Errors: -ERR_RANGE (sample larger than the
 * population; more than REPORT_MAX_CHECKS checks or REPORT_MAX_FINDINGS finding ids),
 * -ERR_SYNTAX (label_filter names no label), -ENOMEM, or the store's error. err gets one line.
 */
int report_run(struct store *s, const struct report_opts *o, struct report **out, char *err,
               size_t errlen);

void report_free(struct report *r);

/* "results" or "requesters". */
const char *report_counting_name(const struct report *r);

/* "connection", "device" or "family" ("" for none); parse them, 0 or -ERR_SYNTAX. */
const char *report_by_name(enum report_by by);
int report_by_parse(const char *s, enum report_by *out);

/* Parse "table", "json", "csv", "svg", "html"; 0 or -ERR_SYNTAX. */
int report_format_parse(const char *s, enum report_format *out);

/*
 * Render r as format f into a fresh NUL-terminated buffer *out (caller frees) of *len bytes.
 * Returns 0 or -ENOMEM. HTML is a fragment for the dashboard: csv_href, if not NULL, is the
 * (already URL-safe) link of the CSV download. Every label is escaped for its format.
 */
int report_render(const struct report *r, enum report_format f, const char *csv_href, char **out,
                  size_t *len);

#endif
