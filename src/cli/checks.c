/* SPDX-License-Identifier: MIT */
/*
 * The catalogue's checks as the command line shows them: the door lists of the usage texts and
 * `exposure check --list` (cli.h). Everything here is read from catalogue_checks() at run time,
 * so that a check added to the catalogue shows up without an edit (docs/internals/PROBES.md,
 * "Adding a check").
 */
#include "cli/cli.h"
#include "core/err.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#define PORTS_TEXT_MAX CHECK_PORTS_TEXT_MAX

void checks_doors(struct sbuf *b, enum doors_style style, enum doors_set set)
{
	size_t n, named = 0;
	const struct check_def *c = catalogue_checks(&n);
	char ports[PORTS_TEXT_MAX];

	for (size_t i = 0; i < n; i++) {
		if ((set == DOORS_2017 && !c[i].profile_2017) ||
		    (set == DOORS_BEYOND && c[i].profile_2017))
			continue;
		sbuf_add(b, named++ ? ", " : "");
		if (style == DOORS_TITLES) {
			sbuf_add(b, c[i].title);
			continue;
		}
		check_ports_text(c[i].ports, ports, sizeof(ports));
		sbuf_addf(b, "%s %s%s", c[i].name, ports,
		          c[i].transport == TRANSPORT_UDP ? "/udp" : "");
	}
}

/* Terminal columns of n bytes of UTF-8: one per character (no wide characters here). */
static size_t columns(const char *s, size_t n)
{
	size_t cols = 0;

	for (size_t k = 0; k < n; k++)
		cols += ((unsigned char)s[k] & 0xC0) != 0x80;
	return cols;
}

void text_wrap(FILE *f, const char *text, size_t width)
{
	size_t col = 0;

	while (*text) {
		size_t n = strcspn(text, " ");
		size_t w = columns(text, n);

		if (n == 0) {
			text++;
			continue;
		}
		if (col > 0 && col + 1 + w > width) {
			fputc('\n', f);
			col = 0;
		} else if (col > 0) {
			fputc(' ', f);
			col++;
		}
		fwrite(text, 1, n, f);
		col += w;
		text += n;
	}
	fputc('\n', f);
}

/* The ids of check_finding() (questions false) or check_question() (true), as a JSON array. */
static json_t *id_list(const struct check_def *c, bool questions)
{
	struct finding_def f;
	json_t *ids = json_array();

	for (size_t k = 0; ids && (questions ? check_question(c, k, &f) : check_finding(c, k, &f));
	     k++)
		if (json_array_append_new(ids, json_string(f.id)) < 0) {
			json_decref(ids);
			return NULL;
		}
	return ids;
}

/* [[first, last], ...]: every range of p. */
static json_t *ranges_json(struct check_ports p)
{
	json_t *a = json_array();

	for (size_t k = 0; a && k < check_ports_ranges(p); k++)
		if (json_array_append_new(
		        a, json_pack("[i, i]", (int)p.r[k].first, (int)p.r[k].last)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* The profiles check c belongs to: ["2017", "extended"] or ["extended"]. */
static json_t *profiles_json(const struct check_def *c)
{
	return c->profile_2017 ? json_pack("[s, s]", "2017", "extended")
	                       : json_pack("[s]", "extended");
}

/*
 * One check for --list --json: what `GET /api/whoami` says of it, and more for scripts.
 * first_port and last_port are the first range (the whole list for a check of one range).
 */
static json_t *check_json(const struct check_def *c, struct check_ports p)
{
	char ports[PORTS_TEXT_MAX];

	check_ports_text(p, ports, sizeof(ports));
	/* "o" takes the lists, also when packing fails (and fails on a NULL one). */
	return json_pack("{s:s, s:s, s:i, s:i, s:s, s:{s:s, s:s}, s:o, s:o, s:s, s:o, s:o}",
	                 "check", c->name, "ports", ports, "first_port", (int)p.r[0].first,
	                 "last_port", (int)p.r[0].last, "title", c->title, "label", "en",
	                 c->label_en, "ja", c->label_ja, "findings", id_list(c, false), "questions",
	                 id_list(c, true), "transport", transport_name(c->transport), "ranges",
	                 ranges_json(p), "profiles", profiles_json(c));
}

static int list_json(FILE *f, const struct port_overrides *po, uint32_t set)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);
	json_t *checks = json_array();
	json_t *doc = json_pack("{s:o}", "checks", checks);
	int r = -ENOMEM;

	if (doc == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (checks_has(set, i) &&
		    json_array_append_new(checks, check_json(&c[i], catalogue_ports(po, i))) < 0)
			goto out;
	r = json_dumpf(doc, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF ? 0 : -EIO;
out:
	json_decref(doc);
	return r;
}

/* "1900/udp" for a UDP check, the bare ports for TCP (as they always were). */
static size_t list_ports(const struct check_def *c, struct check_ports p, char *buf, size_t n)
{
	size_t len = check_ports_text(p, buf, n);

	if (c->transport == TRANSPORT_UDP && len + 4 < n) {
		memcpy(buf + len, "/udp", 5);
		len += 4;
	}
	return len;
}

/* Columns: the widest name and the widest ports, then the label. */
static int list_text(FILE *f, const struct port_overrides *po, uint32_t set)
{
	size_t n, name_w = 0, ports_w = 0;
	const struct check_def *c = catalogue_checks(&n);
	char ports[PORTS_TEXT_MAX + 4];

	for (size_t i = 0; i < n; i++) {
		if (!checks_has(set, i))
			continue;
		size_t len = list_ports(&c[i], catalogue_ports(po, i), ports, sizeof(ports));

		if (strlen(c[i].name) > name_w)
			name_w = strlen(c[i].name);
		if (len > ports_w)
			ports_w = len;
	}
	for (size_t i = 0; i < n; i++) {
		if (!checks_has(set, i))
			continue;
		list_ports(&c[i], catalogue_ports(po, i), ports, sizeof(ports));
		fprintf(f, "%-*s  %-*s  %s\n", (int)name_w, c[i].name, (int)ports_w, ports,
		        c[i].label_en);
	}
	return ferror(f) ? -EIO : 0;
}

int checks_list(FILE *f, const struct port_overrides *po, uint32_t set, bool json)
{
	if (set == 0)
		set = catalogue_profile_2017();
	return json ? list_json(f, po, set) : list_text(f, po, set);
}
