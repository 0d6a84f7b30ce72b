/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: report_labels_parse, the operator's labels CSV (PREFIX,LABEL lines).
 * Asserts: 0 with a table, or an error with no table and a one-line message; every label name
 * NUL-terminated, printable, without comma or quote, not a reserved one; a match is a label of
 * the table; the same text parsed again gives the same labels and matches.
 */
#include "report/labels.h"

#include "fuzz.h"

static const char *const probes[] = {"198.18.0.0/24", "198.18.7.0/24",     "10.1.2.0/24",
                                     "2001:db8::/48", "2001:db8:1:2::/64", "0.0.0.0/0",
                                     "::/0",          "203.0.113.0/24"};

static void labels_valid(const struct report_labels *l)
{
	size_t n = report_labels_count(l);

	for (size_t i = 0; i < n; i++) {
		const char *name = report_labels_name(l, i);

		CHECK(name != NULL && name[0] != '\0' && strlen(name) < LABELS_NAME_MAX);
		fuzz_text(name, LABELS_NAME_MAX, 0);
		CHECK(!strchr(name, ',') && !strchr(name, '"'));
		CHECK(strcmp(name, LABELS_UNLABELLED) != 0 && strcmp(name, LABELS_OTHER) != 0);
	}
	CHECK(report_labels_name(l, n) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_labels *a = NULL, *b = NULL;
	char err[256], err2[256];
	int r = report_labels_parse("fuzz.csv", (const char *)data, size, &a, err, sizeof(err));
	int r2 = report_labels_parse("fuzz.csv", (const char *)data, size, &b, err2, sizeof(err2));

	CHECK(r == r2);
	if (r < 0) {
		CHECK(a == NULL && b == NULL);
		fuzz_message(err, sizeof(err));
		CHECK(strcmp(err, err2) == 0);
		return 0;
	}
	CHECK(r == 0 && a != NULL && b != NULL);
	labels_valid(a);
	CHECK(report_labels_count(a) == report_labels_count(b));
	for (size_t i = 0; i < report_labels_count(a); i++)
		CHECK(strcmp(report_labels_name(a, i), report_labels_name(b, i)) == 0);
	for (size_t i = 0; i < sizeof(probes) / sizeof(*probes); i++) {
		int m = report_labels_match(a, probes[i]);

		CHECK(m >= -1 && m < (int)report_labels_count(a));
		CHECK(m == report_labels_match(b, probes[i]));
	}
	CHECK(report_labels_match(a, "not a prefix") == -1);
	report_labels_free(a);
	report_labels_free(b);
	return 0;
}
