/* SPDX-License-Identifier: MIT */
/*
 * Human output of `exposure check` (output.h). Everything is read through the typed accessors
 * of diagnosis.h that the --json writer uses too, so the two never disagree. Text that came
 * from the probed host goes through sanitize_text() before it reaches the terminal.
 */
#include "cli/output.h"
#include "cli/cli.h"
#include "catalogue/advice/advice.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

#define PROGRESS_SHOWN 8
#define DETAILS_SHOWN  6   /* scalar details of an open port; the rest is in --json */
#define PEER_TEXT_MAX  160 /* bytes shown of one text a peer sent; longer is cut with "..." */
/* Bytes of it looked at: every shown byte stands for at least a quarter of one read. */
#define PEER_SCAN_MAX (PEER_TEXT_MAX * 4)

struct text_out {
	FILE *f;
	struct text_out_opts o;
	unsigned progress_lines; /* lines of the progress block on screen now */
	uint64_t last_draw_ms;
	size_t targets_done;
	bool header_done; /* single address: the header was printed */
};

enum color { C_RESET, C_BOLD, C_DIM, C_RED, C_GREEN, C_YELLOW, C_MAGENTA, C_BOLD_RED };

static const char *col(const struct text_out *t, enum color c)
{
	static const char *const seq[] = {
	    [C_RESET] = "\033[0m",    [C_BOLD] = "\033[1m",        [C_DIM] = "\033[2m",
	    [C_RED] = "\033[31m",     [C_GREEN] = "\033[32m",      [C_YELLOW] = "\033[33m",
	    [C_MAGENTA] = "\033[35m", [C_BOLD_RED] = "\033[1;31m",
	};
	return t->o.color ? seq[c] : "";
}

struct text_out *text_out_new(FILE *f, const struct text_out_opts *o)
{
	struct text_out *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->f = f;
	t->o = *o;
	t->o.color = o->color && o->tty;
	return t;
}

void text_out_free(struct text_out *t)
{
	free(t);
}

static void print_peer(struct text_out *t, const char *s, size_t len)
{
	char buf[PEER_TEXT_MAX + 1];

	if (len > PEER_SCAN_MAX)
		len = PEER_SCAN_MAX;
	sanitize_text(s, len, buf, sizeof(buf));
	fputs(buf, t->f);
}

const char *text_sentence(const struct check_def *def, const struct port_result *pr)
{
	switch (pr->state) {
	case PORT_OPEN:
		return def ? def->open_en : "Something answers on this port.";
	case PORT_CLOSED:
		return "Not reachable: the device answered that nothing listens here.";
	case PORT_FILTERED:
		if (pr->reason == REASON_UNREACHABLE)
			return "Not reachable: a router or firewall refused the connection.";
		return "Not reachable: no answer (a firewall probably drops the connection).";
	case PORT_OPEN_FILTERED:
		return "Not known: no answer over UDP; a service may be listening and silent, or a "
		       "firewall drops the request.";
	default:
		return "Could not test this port: a problem on this computer, not an answer from "
		       "the target.";
	}
}

static enum color state_color(enum port_state state, size_t n_findings)
{
	if (state == PORT_OPEN)
		return n_findings ? C_BOLD_RED : C_YELLOW;
	if (state == PORT_ERROR || state == PORT_OPEN_FILTERED)
		return C_MAGENTA;
	return C_GREEN;
}

/* The reason, with what the document adds to it: the ICMP type/code or our own error. */
static void format_why(const struct port_result *pr, char *buf, size_t size)
{
	const char *reason = port_reason_name(pr->reason);

	if (pr->icmp_type >= 0)
		snprintf(buf, size, "%s (ICMP %d/%d)", reason, pr->icmp_type, pr->icmp_code);
	else if (pr->state == PORT_ERROR && pr->sys_errno > 0)
		snprintf(buf, size, "%s (%s)", reason, err_name(-pr->sys_errno));
	else
		snprintf(buf, size, "%s", reason);
}

/* "16 ports: 1 open, 15 closed" for a check over a port range. */
static void print_port_counts(struct text_out *t, const struct diagnosis *d, size_t i)
{
	size_t ports = diagnosis_check_ports(d, i), n[PORT_X_MAX] = {0};
	const char *sep = "";

	if (ports < 2)
		return;
	for (size_t k = 0; k < ports; k++) {
		const struct port_result *pr = diagnosis_port_result(d, i, k);

		if (pr && (unsigned)pr->state < PORT_X_MAX)
			n[pr->state]++;
	}
	fprintf(t->f, "%s        [%zu ports:", col(t, C_DIM), ports);
	for (size_t s = 0; s < PORT_X_MAX; s++) {
		if (n[s] == 0)
			continue;
		fprintf(t->f, "%s %zu %s", sep, n[s], port_state_name((enum port_state)s));
		sep = ",";
	}
	fprintf(t->f, "]%s\n", col(t, C_RESET));
}

/* A short array of strings (dialects, security types) on one line; false if v is not one. */
static bool print_string_list(struct text_out *t, const json_t *v)
{
	size_t i;
	json_t *item;

	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 16)
		return false;
	json_array_foreach(v, i, item) if (!json_is_string(item)) return false;
	json_array_foreach(v, i, item)
	{
		if (i > 0)
			fputs(", ", t->f);
		print_peer(t, json_string_value(item), json_string_length(item));
	}
	return true;
}

/*
 * What answered on the reported port k: the service and the scalar details the probe learnt
 * (its own JSON object, docs/json.md), all of it peer-derived text.
 */
static void print_details(struct text_out *t, const struct diagnosis *d, size_t i, size_t k)
{
	const char *service = diagnosis_port_service(d, i, k);
	const json_t *details = diagnosis_port_details(d, i, k);
	const char *key;
	json_t *v;
	int shown = 0;

	if (service[0]) {
		fputs("        answers: ", t->f);
		print_peer(t, service, strlen(service));
		fputc('\n', t->f);
	}
	if (!json_is_object(details))
		return;
	json_object_foreach((json_t *)details, key, v)
	{
		char num[32];

		if (shown >= DETAILS_SHOWN || strcmp(key, "ports") == 0)
			continue;
		fputs("        ", t->f);
		print_peer(t, key, strlen(key));
		fputs(": ", t->f);
		if (json_is_string(v)) {
			print_peer(t, json_string_value(v), json_string_length(v));
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			fputs(num, t->f);
		} else if (json_is_boolean(v)) {
			fputs(json_is_true(v) ? "yes" : "no", t->f);
		} else if (!print_string_list(t, v)) {
			fputs("(see --json)", t->f);
		}
		fputc('\n', t->f);
		shown++;
	}
}

static void print_advice(struct text_out *t, const char *id)
{
	const struct advice *a = advice_get(id, LANG_EN);

	if (a == NULL)
		return;
	if (!t->o.explain) {
		fprintf(t->f, "          -> %s\n", a->actions[0].text);
		if (a->actions[0].command)
			fprintf(t->f, "             $ %s\n", a->actions[0].command);
		return;
	}
	fprintf(t->f, "          %s\n", a->meaning);
	for (size_t k = 0; k < a->n_actions; k++) {
		const struct advice_action *act = &a->actions[k];

		fprintf(t->f, "          -> [%s] %s\n", act->platform, act->text);
		if (act->command)
			fprintf(t->f, "             $ %s\n", act->command);
	}
}

static enum color severity_color(enum severity sev)
{
	if (sev >= SEVERITY_HIGH)
		return C_BOLD_RED;
	if (sev == SEVERITY_MEDIUM)
		return C_YELLOW;
	return C_DIM;
}

/*
 * A finding the check could not decide (confidence unknown): "not known" in words, never its
 * severity in red as if it were so, with the reason and the advice for an undecided check.
 */
static void print_not_known(struct text_out *t, const struct finding *f)
{
	const struct advice *a = advice_get(f->id, LANG_EN);

	fprintf(t->f, "        %s? not known%s %s (unknown)", col(t, C_MAGENTA), col(t, C_RESET),
	        f->id);
	if (a)
		fprintf(t->f, ": %s", a->title);
	fputc('\n', t->f);
	fprintf(t->f,
	        "          the check could not tell whether this is so: not proof of safety\n");
	if (f->reason[0]) {
		fputs("          because: ", t->f);
		print_peer(t, f->reason, strnlen(f->reason, sizeof(f->reason)));
		fputc('\n', t->f);
	}
	print_advice(t, CATALOGUE_UNDECIDED_ADVICE);
}

static void print_findings(struct text_out *t, const struct diagnosis *d, size_t i)
{
	for (size_t k = 0; k < diagnosis_check_findings(d, i); k++) {
		const struct finding *f = diagnosis_finding(d, i, k);
		const struct advice *a = advice_get(f->id, LANG_EN);

		if (f->confidence == CONFIDENCE_UNKNOWN) {
			print_not_known(t, f);
			continue;
		}

		fprintf(t->f, "        %s! %-8s%s %s (%s)", col(t, severity_color(f->severity)),
		        severity_name(f->severity), col(t, C_RESET), f->id,
		        confidence_name(f->confidence));
		if (a)
			fprintf(t->f, ": %s", a->title);
		fputc('\n', t->f);
		if (f->reason[0]) {
			fputs("          because: ", t->f);
			print_peer(t, f->reason, strnlen(f->reason, sizeof(f->reason)));
			fputc('\n', t->f);
		}
		print_advice(t, f->id);
	}
}

/* One finished check: its row, the port counts of a range, and for an open one what
 * answered and what it means. */
static void print_row(struct text_out *t, const struct diagnosis *d, size_t i)
{
	const struct check_def *def = diagnosis_check_def(d, i);
	size_t k = diagnosis_check_reported(d, i);
	char why[64], rtt[24];
	struct port_result pr;

	diagnosis_check_result(d, i, &pr);
	format_why(&pr, why, sizeof(why));
	if (pr.rtt_ms >= 0)
		snprintf(rtt, sizeof(rtt), "%.2f ms", pr.rtt_ms);
	else
		snprintf(rtt, sizeof(rtt), "-");
	fprintf(t->f, "  %-8s %5u  %s%-8s%s  %-24s %10s  %s\n", def->name,
	        (unsigned)diagnosis_port(d, i, k),
	        col(t, state_color(pr.state, diagnosis_check_findings(d, i))),
	        port_state_name(pr.state), col(t, C_RESET), why, rtt, text_sentence(def, &pr));
	print_port_counts(t, d, i);
	if (pr.state == PORT_OPEN) {
		print_details(t, d, i, k);
		print_findings(t, d, i);
	}
}

static void clear_progress(struct text_out *t)
{
	if (t->progress_lines == 0)
		return;
	fprintf(t->f, "\033[%uA\033[J", t->progress_lines);
	t->progress_lines = 0;
}

static void print_header(struct text_out *t, const struct diagnosis *d)
{
	char addr[ADDR_STRLEN];

	if (addr_format(diagnosis_addr(d), addr, sizeof(addr)) < 0)
		snprintf(addr, sizeof(addr), "?");
	fprintf(t->f, "%s%s%s", col(t, C_BOLD), addr, col(t, C_RESET));
	if (strcmp(addr, diagnosis_target(d)) != 0) {
		fputs(" (", t->f);
		print_peer(t, diagnosis_target(d), strlen(diagnosis_target(d)));
		fputc(')', t->f);
	}
	fputc('\n', t->f);
}

void text_check_done(struct text_out *t, const struct diagnosis *d, size_t check)
{
	/* Rows as they finish only where someone watches: one address on a terminal. */
	if (!t->o.tty || t->o.multi)
		return;
	if (!t->header_done) {
		print_header(t, d);
		t->header_done = true;
	}
	if (!diagnosis_check_done(d, check))
		return;
	print_row(t, d, check);
	fflush(t->f);
}

static const char *risk_words(enum risk r)
{
	switch (r) {
	case RISK_CRITICAL:
		return "something critical is reachable: act now";
	case RISK_HIGH:
		return "something dangerous is reachable";
	case RISK_MEDIUM:
		return "something risky is reachable";
	case RISK_LOW:
		return "something answers, nothing known to be risky";
	default:
		return "nothing risky is reachable";
	}
}

static void print_summary(struct text_out *t, const struct diagnosis *d)
{
	enum risk r = diagnosis_risk(d);
	enum color c = r >= RISK_HIGH ? C_BOLD_RED : r == RISK_MEDIUM ? C_YELLOW : C_GREEN;
	size_t open = 0, not_known = 0, silent = 0, n = diagnosis_checks(d);
	char upper[16];

	for (size_t i = 0; i < n; i++) {
		open += diagnosis_check_state(d, i) == PORT_OPEN;
		silent += diagnosis_check_state(d, i) == PORT_OPEN_FILTERED;
		for (size_t k = 0; k < diagnosis_check_findings(d, i); k++)
			not_known += diagnosis_finding(d, i, k)->confidence == CONFIDENCE_UNKNOWN;
	}
	snprintf(upper, sizeof(upper), "%s", risk_name(r));
	for (char *p = upper; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	/* A check that could not run is never shown as safe: no green "nothing risky" then. */
	if (diagnosis_has_error(d) && r <= RISK_LOW) {
		fprintf(t->f,
		        "  %sRisk: not known%s - nothing risky among the checks that ran "
		        "(%zu of %zu checks open), but not every check could run.\n",
		        col(t, C_MAGENTA), col(t, C_RESET), open, n);
		fprintf(t->f, "  %sSee the rows marked error.%s\n", col(t, C_MAGENTA),
		        col(t, C_RESET));
		return;
	}
	fprintf(t->f, "  %sRisk: %s%s - %s (%zu of %zu checks open).\n", col(t, c), upper,
	        col(t, C_RESET), risk_words(r), open, n);
	if (not_known > 0)
		fprintf(t->f,
		        "  %s%zu question%s could not be answered: see the findings marked not "
		        "known.%s\n",
		        col(t, C_MAGENTA), not_known, not_known == 1 ? "" : "s", col(t, C_RESET));
	if (silent > 0)
		fprintf(
		    t->f,
		    "  %s%zu UDP check%s got no answer at all: open or filtered, not known.%s\n",
		    col(t, C_MAGENTA), silent, silent == 1 ? "" : "s", col(t, C_RESET));
	if (diagnosis_has_error(d))
		fprintf(t->f, "  %sSome checks could not be run: see the rows marked error.%s\n",
		        col(t, C_MAGENTA), col(t, C_RESET));
}

void text_target_done(struct text_out *t, const struct diagnosis *d)
{
	bool live = t->o.tty && !t->o.multi;

	clear_progress(t);
	t->targets_done++;
	if (!live || !t->header_done)
		print_header(t, d);
	for (size_t i = 0; !live && i < diagnosis_checks(d); i++)
		if (diagnosis_check_done(d, i))
			print_row(t, d, i);
	print_summary(t, d);
	if (t->o.multi)
		fputc('\n', t->f);
	fflush(t->f);
}

void text_visit_done(struct text_out *t, const struct visit *v)
{
	for (size_t k = 0; k < visit_targets(v); k++)
		text_target_done(t, visit_diagnosis(v, k));
	clear_progress(t);
	if (visit_findings(v) == 0)
		fprintf(t->f, "  %s: the same doors on IPv4 and IPv6.\n",
		        diagnosis_target(visit_diagnosis(v, 0)));
	else
		fprintf(t->f, "  %s, IPv4 and IPv6 together:\n",
		        diagnosis_target(visit_diagnosis(v, 0)));
	for (size_t k = 0; k < visit_findings(v); k++) {
		const struct visit_finding *vf = visit_finding(v, k);
		const struct diagnosis *d = visit_diagnosis(v, vf->target);

		fprintf(t->f, "    %s%-8s%s %s on %s: %s\n", col(t, severity_color(vf->f.severity)),
		        severity_name(vf->f.severity), col(t, C_RESET), vf->f.id,
		        diagnosis_check_def(d, vf->check)->name, vf->f.reason);
		print_advice(t, vf->f.id);
	}
	if (t->o.multi)
		fputc('\n', t->f);
	fflush(t->f);
}

void text_progress(struct text_out *t, struct diagnosis *const *active, size_t n, uint64_t now_ms,
                   bool force)
{
	char addr[ADDR_STRLEN];

	if (!t->o.tty || !t->o.multi)
		return;
	if (!force && now_ms - t->last_draw_ms < 100)
		return;
	t->last_draw_ms = now_ms;
	clear_progress(t);
	fprintf(t->f, "%s  %zu/%zu targets done%s\n", col(t, C_DIM), t->targets_done, t->o.total,
	        col(t, C_RESET));
	t->progress_lines = 1;
	for (size_t i = 0; i < n && i < PROGRESS_SHOWN; i++) {
		if (addr_format(diagnosis_addr(active[i]), addr, sizeof(addr)) < 0)
			continue;
		fprintf(t->f, "  %-39s %zu/%zu checks\n", addr, diagnosis_checks_done(active[i]),
		        diagnosis_checks(active[i]));
		t->progress_lines++;
	}
	if (n > PROGRESS_SHOWN) {
		fprintf(t->f, "  ... and %zu more running\n", n - PROGRESS_SHOWN);
		t->progress_lines++;
	}
	fflush(t->f);
}

void text_finish(struct text_out *t)
{
	clear_progress(t);
	fflush(t->f);
}
