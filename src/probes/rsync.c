/* SPDX-License-Identifier: MIT */
/*
 * rsync daemon probe (docs/internals/PROBES.md, "rsync"). Connection 0: read the greeting,
 * answer with ours and an empty line, which asks for the module list, and read it to
 * "@RSYNCD: EXIT". Then, for each listed module (at most RSYNC_OPEN_MAX), one connection that
 * opens it by name and reads the one answer: "@RSYNCD: OK" (it opened without a password),
 * "@RSYNCD: AUTHREQD" or "@ERROR". Opening is the only step beyond the greeting: the probe then
 * closes, so no file list is asked for, nothing is read and nothing is written.
 */
#include "probes/probe.h"
#include "probes/parse/rsync_parse.h"

#include <stdio.h>
#include <string.h>

/* Modules remembered from the list, and opened at most (one connection each). */
#define RSYNC_MODULES_MAX 32
#define RSYNC_OPEN_MAX    4
/* Lines read on one connection at most (a module list or a message of the day). */
#define RSYNC_LINES_MAX 512

/* Our greeting: protocol 31.0 (rsync 3.1 and later); the daemon speaks the lower of the two. */
static const char our_greeting[] = "@RSYNCD: 31.0\n";

enum rsync_phase { RS_GREETING = 0, RS_LIST, RS_OPEN, RS_FINISHED };

enum rsync_open { OPEN_NOT_TRIED = 0, OPEN_OK, OPEN_AUTH, OPEN_ERROR, OPEN_CUT };

struct rsync_module {
	char name[RSYNC_NAME_MAX];
	char comment[RSYNC_COMMENT_MAX];
	bool cut; /* the name was cut or held bytes we replaced: it cannot be opened by name */
	enum rsync_open open;
	char error[RSYNC_TEXT_MAX];
};

struct rsync_state {
	enum rsync_phase phase;
	unsigned conn;
	bool any_bytes, greeted, list_done, list_cut, not_rsync;
	unsigned lines;
	struct rsync_line greeting;
	char list_error[RSYNC_TEXT_MAX];
	char list_end[64];
	unsigned motd_lines;
	char motd[RSYNC_TEXT_MAX];
	struct rsync_module mods[RSYNC_MODULES_MAX];
	size_t n_mods, n_listed, n_open; /* kept, listed in all, connections spent opening */
	size_t cur;                      /* the module being opened */
};

static const char *const open_names[] = {"not-tried", "ok", "auth-required", "error", "cut"};

static bool openable(const struct rsync_module *m)
{
	return !m->cut && m->name[0] != '\0' && strchr(m->name, '?') == NULL;
}

/*
 * Whether opening the module answered the question for it: a password asked for, or a refusal
 * (hosts allow/deny: "access denied", or no such module). Other @ERRORs ("max connections
 * reached", "chroot failed", a lock file) say the daemon could not serve it now, not that it
 * is protected: the module stays undecided.
 */
static bool refused(const struct rsync_module *m)
{
	return m->open == OPEN_AUTH ||
	       (m->open == OPEN_ERROR && (strstr(m->error, "access denied") != NULL ||
	                                  strstr(m->error, "Unknown module") != NULL));
}

/* The next module to open after index from, or n_mods. */
static size_t next_module(const struct rsync_state *s, size_t from)
{
	while (from < s->n_mods && !openable(&s->mods[from]))
		from++;
	return from;
}

static void report(struct rsync_state *s, struct probe_result *out)
{
	json_t *mods = json_array(), *opened = json_array();
	char version[32], reason[FINDING_REASON_MAX];
	size_t n_ok = 0, n_decided = 0, n_openable = 0;

	if (s->not_rsync || !s->greeted) {
		json_decref(mods), json_decref(opened);
		return;
	}
	out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "rsync");
	snprintf(version, sizeof(version), "%u.%u", s->greeting.major, s->greeting.minor);
	probe_detail_set(out, "version", json_string(version));
	if (s->greeting.text[0])
		probe_detail_set(out, "digests", json_string(s->greeting.text));
	for (size_t i = 0; i < s->n_mods; i++) {
		struct rsync_module *m = &s->mods[i];

		json_array_append_new(mods, json_string(m->name));
		n_openable += openable(m);
		if (m->open == OPEN_NOT_TRIED)
			continue;
		json_array_append_new(opened, json_pack("{s:s,s:s}", "module", m->name, "answer",
		                                        open_names[m->open]));
		if (m->open == OPEN_ERROR)
			json_object_set_new(json_array_get(opened, json_array_size(opened) - 1),
			                    "error", json_string(m->error));
		n_ok += m->open == OPEN_OK;
		n_decided += m->open == OPEN_OK || refused(m);
	}
	probe_detail_set(out, "modules", mods);
	probe_detail_set(out, "modules_listed", json_integer((json_int_t)s->n_listed));
	probe_detail_set(out, "list_complete", json_boolean(s->list_done && !s->list_cut));
	probe_detail_set(out, "opened", opened);
	if (s->list_error[0])
		probe_detail_set(out, "list_error", json_string(s->list_error));
	if (s->list_end[0])
		probe_detail_set(out, "list_end", json_string(s->list_end));
	if (s->motd_lines) {
		probe_detail_set(out, "motd", json_string(s->motd));
		probe_detail_set(out, "motd_lines", json_integer(s->motd_lines));
	}

	if (n_ok > 0) {
		for (size_t i = 0; i < s->n_mods; i++)
			if (s->mods[i].open == OPEN_OK) {
				snprintf(reason, sizeof(reason),
				         "module \"%s\" opens without a password: your backups "
				         "can be read and overwritten",
				         s->mods[i].name);
				break;
			}
		probe_add_finding(out, "rsync-no-auth", SEVERITY_CRITICAL, CONFIDENCE_CONFIRMED,
		                  reason);
	}
	/* Worst first: the list after the module that opens. */
	if (s->n_listed > 0)
		probe_add_finding(out, "rsync-modules-listed", SEVERITY_MEDIUM,
		                  CONFIDENCE_CONFIRMED, NULL);
	if (n_ok > 0)
		return;
	/* "No" only when every listed module was opened and asked for a password or refused. */
	if (s->list_done && !s->list_cut && !s->list_error[0] && s->n_listed > 0 &&
	    s->n_listed == s->n_mods && n_decided == s->n_mods)
		probe_answer(out, "rsync-no-auth", PROBE_ANSWER_NO);
	else if (s->list_error[0] && s->n_listed > 0)
		probe_undecided(out, "rsync-no-auth",
		                "could not check: an @ERROR ended the module list before its end");
	else if (s->list_done && s->n_listed == 0)
		probe_undecided(out, "rsync-no-auth",
		                "could not check: the daemon lists no module, and a hidden one "
		                "can only be opened by its name");
	else if (!s->list_done)
		probe_undecided(out, "rsync-no-auth",
		                "could not check: the module list did not arrive whole");
	else if (n_openable > RSYNC_OPEN_MAX || s->n_listed > s->n_mods)
		probe_undecided(out, "rsync-no-auth",
		                "could not check: more modules than the probe opens; those opened "
		                "ask for a password");
	else
		probe_undecided(out, "rsync-no-auth",
		                "could not check: not every module answered when opened");
}

static int rsync_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct rsync_state *s = state;

	(void)tx, (void)out;
	s->conn = conn;
	s->lines = 0;
	s->phase = RS_GREETING;
	return PROBE_MORE;
}

static int on_greeting(struct rsync_state *s, const struct rsync_line *l, struct probe_tx *tx)
{
	char line[RSYNC_NAME_MAX + 2];
	int n;

	if (s->conn == 0)
		s->greeting = *l;
	s->greeted = true;
	if (probe_tx_put(tx, our_greeting, sizeof(our_greeting) - 1) < 0)
		return -ERR_TOOBIG;
	if (s->conn == 0) {
		s->phase = RS_LIST;
		return probe_tx_put(tx, "\n", 1) < 0 ? -ERR_TOOBIG : PROBE_MORE;
	}
	s->phase = RS_OPEN;
	n = snprintf(line, sizeof(line), "%s\n", s->mods[s->cur].name);
	if (n < 0 || (size_t)n >= sizeof(line) || probe_tx_put(tx, line, (size_t)n) < 0)
		return -ERR_TOOBIG;
	s->n_open++;
	return PROBE_MORE;
}

/* After the list, or after one module answered: open the next module, or finish. */
static int next_step(struct rsync_state *s, size_t from, struct probe_result *out)
{
	s->cur = next_module(s, from);
	if (s->cur < s->n_mods && s->n_open < RSYNC_OPEN_MAX)
		return PROBE_RECONNECT;
	s->phase = RS_FINISHED;
	report(s, out);
	return PROBE_DONE;
}

static int on_list_line(struct rsync_state *s, const struct rsync_line *l, struct probe_result *out)
{
	switch (l->kind) {
	case RSYNC_LINE_MODULE:
		s->n_listed++;
		if (s->n_mods < RSYNC_MODULES_MAX) {
			struct rsync_module *m = &s->mods[s->n_mods++];

			memcpy(m->name, l->name, sizeof(m->name));
			memcpy(m->comment, l->comment, sizeof(m->comment));
			m->cut = l->truncated;
		}
		return PROBE_MORE;
	case RSYNC_LINE_EXIT:
		s->list_done = true;
		return next_step(s, 0, out);
	case RSYNC_LINE_ERROR:
		snprintf(s->list_error, sizeof(s->list_error), "%s", l->text);
		s->list_done = true;
		return next_step(s, 0, out);
	default:
		/* The message of the day comes before the list; keep its first line. */
		if (s->motd_lines++ == 0)
			snprintf(s->motd, sizeof(s->motd), "%s", l->text);
		return PROBE_MORE;
	}
}

static int on_open_line(struct rsync_state *s, const struct rsync_line *l, struct probe_result *out)
{
	struct rsync_module *m = &s->mods[s->cur];

	switch (l->kind) {
	case RSYNC_LINE_OK:
		m->open = OPEN_OK;
		break;
	case RSYNC_LINE_AUTHREQD:
		m->open = OPEN_AUTH;
		break;
	case RSYNC_LINE_ERROR:
		m->open = OPEN_ERROR;
		snprintf(m->error, sizeof(m->error), "%s", l->text);
		break;
	default:
		return PROBE_MORE; /* the message of the day again */
	}
	return next_step(s, s->cur + 1, out);
}

static int rsync_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                      struct probe_tx *tx, struct probe_result *out)
{
	struct rsync_state *s = state;
	size_t off = 0;
	int r = PROBE_MORE;

	*consumed = 0;
	s->any_bytes |= len > 0;
	while (r == PROBE_MORE && off < len) {
		struct rsync_line l;
		int n = rsync_parse_line(buf + off, len - off, s->phase == RS_GREETING, &l);

		if (n == PARSE_AGAIN)
			break;
		if (n < 0) {
			if (s->phase == RS_GREETING && s->conn == 0) {
				/* A few more bytes name what answers instead ("SSH-", "HTTP/"). */
				s->not_rsync = true;
				if (probe_other(out, buf, len) == PROBE_MORE)
					return PROBE_MORE;
				/* "@RSYNCD: " with a version that is not one: broken rsync */
				if (strcmp(out->service, "rsync") == 0)
					out->state = SERVICE_PROTOCOL_ERROR;
				*consumed = len;
				return PROBE_DONE;
			}
			s->phase = RS_FINISHED;
			snprintf(s->list_end, sizeof(s->list_end), "malformed line: %s",
			         err_str(n));
			if (s->conn > 0)
				s->mods[s->cur].open = OPEN_CUT;
			out->state = SERVICE_PROTOCOL_ERROR;
			report(s, out);
			out->state = SERVICE_PROTOCOL_ERROR;
			*consumed = len;
			return PROBE_DONE;
		}
		off += (size_t)n;
		if (++s->lines > RSYNC_LINES_MAX) {
			s->list_cut = true;
			snprintf(s->list_end, sizeof(s->list_end), "more than %d lines",
			         RSYNC_LINES_MAX);
			s->phase = RS_FINISHED;
			report(s, out);
			r = PROBE_DONE;
			break;
		}
		if (s->phase == RS_GREETING)
			r = on_greeting(s, &l, tx);
		else if (s->phase == RS_LIST)
			r = on_list_line(s, &l, out);
		else if (s->phase == RS_OPEN)
			r = on_open_line(s, &l, out);
	}
	*consumed = off;
	return r;
}

static int rsync_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct rsync_state *s = state;

	if (s->phase == RS_FINISHED)
		return PROBE_DONE;
	if (s->conn == 0 && !s->any_bytes) {
		out->state = probe_no_bytes_state(why);
		return PROBE_DONE;
	}
	if (s->not_rsync)
		return PROBE_DONE; /* feed() already said what answers */
	if (s->conn == 0 && !s->greeted) {
		out->state = SERVICE_UNKNOWN;
		probe_detail_set(out, "end", json_string(probe_end_name(why)));
		return PROBE_DONE;
	}
	if (s->conn == 0) {
		snprintf(s->list_end, sizeof(s->list_end), "%s", probe_end_name(why));
		report(s, out);
		return PROBE_DONE;
	}
	/* An opening connection that ended before the module answered. */
	s->mods[s->cur].open = OPEN_CUT;
	if (why != PROBE_END_DEADLINE && why != PROBE_END_CONNECT) {
		int r = next_step(s, s->cur + 1, out);

		if (r == PROBE_RECONNECT)
			return r;
		return PROBE_DONE;
	}
	s->phase = RS_FINISHED;
	report(s, out);
	return PROBE_DONE;
}

const struct probe_ops probe_rsync = {
    .name = "rsync",
    .state_size = sizeof(struct rsync_state),
    .max_rx = 16384,
    .idle_ms = 3000,
    .total_ms = 10000,
    .max_conns = 1 + RSYNC_OPEN_MAX,
    .start = rsync_start,
    .feed = rsync_feed,
    .end = rsync_end,
};
