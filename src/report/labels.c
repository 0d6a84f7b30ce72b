/* SPDX-License-Identifier: MIT */
/* Labels file parsing and longest-prefix matching of stored prefixes. */
#include "report/labels.h"

#include "core/addr.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LABELS_FILE_MAX (16u << 20)

struct label_entry {
	struct cidr net;
	unsigned label;
	unsigned line;
};

struct report_labels {
	struct label_entry *e; /* sorted by prefix length, longest first */
	size_t n, cap;
	char (*names)[LABELS_NAME_MAX];
	size_t n_names, cap_names;
};

void report_labels_free(struct report_labels *l)
{
	if (l == NULL)
		return;
	free(l->e);
	free(l->names);
	free(l);
}

size_t report_labels_count(const struct report_labels *l)
{
	return l ? l->n_names : 0;
}

const char *report_labels_name(const struct report_labels *l, size_t i)
{
	return l && i < l->n_names ? l->names[i] : NULL;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int name_index(struct report_labels *l, const char *name)
{
	for (size_t i = 0; i < l->n_names; i++)
		if (strcmp(l->names[i], name) == 0)
			return (int)i;
	if (l->n_names == l->cap_names) {
		size_t cap = l->cap_names ? 2 * l->cap_names : 8;
		void *p = realloc(l->names, cap * sizeof(*l->names));

		if (p == NULL)
			return -ENOMEM;
		l->names = p;
		l->cap_names = cap;
	}
	snprintf(l->names[l->n_names], LABELS_NAME_MAX, "%s", name);
	return (int)l->n_names++;
}

static bool label_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= LABELS_NAME_MAX)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == ',' || *s == '"')
			return false;
	return true;
}

/* One non-comment line; returns 0 or -ERR_SYNTAX / -ENOMEM with err filled. */
static int parse_line(struct report_labels *l, const char *name, unsigned lineno, char *line,
                      char *err, size_t errlen)
{
	char *comma = strchr(line, ',');
	char *pfx, *lab;
	struct cidr c;
	int idx;

	if (comma == NULL) {
		snprintf(err, errlen, "%s:%u: expected PREFIX,LABEL", name, lineno);
		return -ERR_SYNTAX;
	}
	*comma = '\0';
	pfx = trim(line);
	lab = trim(comma + 1);
	if (cidr_parse(pfx, &c) < 0) {
		snprintf(err, errlen, "%s:%u: malformed prefix '%.60s'", name, lineno, pfx);
		return -ERR_SYNTAX;
	}
	if (!label_ok(lab)) {
		snprintf(err, errlen,
		         "%s:%u: malformed label (1-63 printable characters, no comma or quote)",
		         name, lineno);
		return -ERR_SYNTAX;
	}
	if (strcmp(lab, LABELS_UNLABELLED) == 0 || strcmp(lab, LABELS_OTHER) == 0) {
		snprintf(err, errlen, "%s:%u: label '%s' is reserved", name, lineno, lab);
		return -ERR_SYNTAX;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->e[i].net.prefix == c.prefix && addr_equal(&l->e[i].net.base, &c.base)) {
			snprintf(err, errlen, "%s:%u: prefix already labelled on line %u", name,
			         lineno, l->e[i].line);
			return -ERR_SYNTAX;
		}
	}
	if ((idx = name_index(l, lab)) < 0)
		goto nomem;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *p = realloc(l->e, cap * sizeof(*l->e));

		if (p == NULL)
			goto nomem;
		l->e = p;
		l->cap = cap;
	}
	l->e[l->n++] = (struct label_entry){.net = c, .label = (unsigned)idx, .line = lineno};
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", name);
	return -ENOMEM;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct label_entry *x = a, *y = b;

	if (x->net.prefix != y->net.prefix)
		return x->net.prefix > y->net.prefix ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

int report_labels_parse(const char *name, const char *text, size_t len, struct report_labels **out,
                        char *err, size_t errlen)
{
	struct report_labels *l = calloc(1, sizeof(*l));
	char line[512];
	unsigned lineno = 0;
	size_t pos = 0;
	int r = 0;

	*out = NULL;
	if (l == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	while (pos < len) {
		size_t end = pos, n;
		char *s;

		while (end < len && text[end] != '\n')
			end++;
		n = end - pos;
		lineno++;
		if (n >= sizeof(line) || memchr(text + pos, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%u: line too long or not text", name, lineno);
			r = -ERR_SYNTAX;
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos = end + 1;
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (lineno == 1 && strcmp(s, "prefix,label") == 0)
			continue;
		if ((r = parse_line(l, name, lineno, s, err, errlen)) < 0)
			goto fail;
	}
	if (l->n) /* an empty table has no array: qsort must not be handed NULL */
		qsort(l->e, l->n, sizeof(*l->e), cmp_entry);
	*out = l;
	return 0;
fail:
	report_labels_free(l);
	return r;
}

int report_labels_load(const char *path, struct report_labels **out, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot read labels file: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		snprintf(err, errlen, "%s: cannot read labels file: is a directory", path);
		goto out;
	}
	buf = malloc(LABELS_FILE_MAX + 1);
	if (buf == NULL) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	/* Read to the end (a pipe such as <(...) works too), at most LABELS_FILE_MAX bytes. */
	for (;;) {
		ssize_t k = read(fd, buf + got, LABELS_FILE_MAX + 1 - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: cannot read labels file: %s", path,
			         strerror(-r));
			goto out;
		}
		if (k == 0)
			break;
		got += (size_t)k;
		if (got > LABELS_FILE_MAX) {
			r = -EFBIG;
			snprintf(err, errlen, "%s: labels file larger than 16 MiB", path);
			goto out;
		}
	}
	r = report_labels_parse(path, buf, got, out, err, errlen);
out:
	free(buf);
	close(fd);
	return r;
}

int report_labels_match(const struct report_labels *l, const char *stored_prefix)
{
	struct cidr c;

	if (l == NULL || l->n == 0 || cidr_parse(stored_prefix, &c) < 0)
		return -1;
	/* Longest first: the first operator prefix that holds the whole stored block wins. */
	for (size_t i = 0; i < l->n; i++) {
		const struct cidr *n = &l->e[i].net;

		if (n->base.family == c.base.family && n->prefix <= c.prefix &&
		    cidr_contains(n, &c.base))
			return (int)l->e[i].label;
	}
	return -1;
}
