/* SPDX-License-Identifier: MIT */
/* Operator labels for network prefixes ("mobile", "fibre"), read from a CSV: prefix,label. */
#ifndef EXPOSURE_REPORT_LABELS_H
#define EXPOSURE_REPORT_LABELS_H

#include <stddef.h>

#define LABELS_NAME_MAX   64
#define LABELS_UNLABELLED "unlabelled"
#define LABELS_OTHER      "other"

struct report_labels;

/*
 * Read a labels file: one "PREFIX,LABEL" per line (IPv4 or IPv6 CIDR, parsed by cidr_parse),
 * blank lines and lines starting with '#' ignored, an optional first line "prefix,label".
 * Labels are 1..63 printable ASCII characters without ',' or '"', trimmed of spaces;
 * "unlabelled" and "other" are reserved. A prefix may appear once.
 * Returns 0 and *out (free with report_labels_free); on failure *out is NULL, err gets one
 * line naming the file and line ("labels.csv:7: malformed prefix '10.0.0.1/8'") and the
 * return is -errno (unreadable), -ERR_SYNTAX (malformed line, duplicate) or -ENOMEM.
 */
int report_labels_load(const char *path, struct report_labels **out, char *err, size_t errlen);

/* The same from a buffer (name is used in messages). */
int report_labels_parse(const char *name, const char *text, size_t len, struct report_labels **out,
                        char *err, size_t errlen);

void report_labels_free(struct report_labels *l);

/* Distinct label names, in order of first appearance; index i in [0, count). */
size_t report_labels_count(const struct report_labels *l);
const char *report_labels_name(const struct report_labels *l, size_t i);

/*
 * The label index for a stored prefix ("198.18.5.0/24"): the longest operator prefix that
 * holds the whole stored prefix, same family. Returns the index (>= 0), or -1 when no
 * operator prefix holds it or the text is not a prefix (l may be NULL: always -1).
 */
int report_labels_match(const struct report_labels *l, const char *stored_prefix);

#endif
