/* SPDX-License-Identifier: MIT */
/*
 * MongoDB probe (docs/internals/PROBES.md, "MongoDB"): three commands on the admin database, one
 * after the other: hello (identifies the server), buildInfo (its version; allowed without
 * authentication) and listDatabases with nameOnly. ok: 1 on listDatabases means anyone can read
 * and change the data (mongodb-no-auth); code 13 Unauthorized means authentication is on. Sent as
 * OP_MSG (MongoDB 3.6+); a server that closes on OP_MSG without a byte gets the same three as
 * legacy OP_QUERY on a second connection (servers before 3.6, the ones most often left open).
 * Nothing is read from a database, nothing written, no credentials.
 */
#include "probes/probe.h"
#include "probes/parse/mongodb_parse.h"

#include <stdio.h>
#include <string.h>

#define QUESTION           "mongodb-no-auth"
#define MONGO_UNAUTHORIZED 13

struct mongodb_state {
	bool legacy;     /* this connection speaks OP_QUERY */
	bool any_bytes;  /* on this connection */
	bool identified; /* a well-formed reply with an ok field */
	bool reported;
	enum mongo_cmd step; /* the command whose reply is awaited */
	const char *other;
	const char *problem;
	char first[80];
	struct mongo_reply hello, build, list;
	bool have_build, have_list;
};

static int send_cmd(struct mongodb_state *s, struct probe_tx *tx)
{
	uint8_t msg[160];
	size_t n = mongo_build(msg, sizeof(msg), s->step, (int32_t)s->step + 1, s->legacy);

	if (n == 0 || probe_tx_put(tx, msg, n) < 0)
		return -ERR_TOOBIG;
	return PROBE_MORE;
}

static int mongodb_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct mongodb_state *s = state;

	(void)out;
	s->legacy = conn > 0;
	s->any_bytes = false;
	s->step = MONGO_CMD_HELLO;
	return send_cmd(s, tx);
}

static void put_text(struct probe_result *out, const char *key, const char *v)
{
	if (v[0])
		probe_detail_set(out, key, json_string(v));
}

static void report_list(struct mongodb_state *s, struct probe_result *out)
{
	char why[FINDING_REASON_MAX];
	const struct mongo_reply *l = &s->list;

	if (!s->have_list) {
		probe_undecided(out, QUESTION,
		                "could not check: the server did not answer listDatabases");
		return;
	}
	if (l->ok) {
		json_t *names = json_array();

		for (unsigned i = 0; i < l->n_databases && i < MONGO_DB_KEEP; i++)
			json_array_append_new(names, json_string(l->databases[i]));
		probe_detail_set(out, "auth", json_string("none"));
		probe_detail_set(out, "databases", json_integer(l->n_databases));
		probe_detail_set(out, "database_names", names);
		snprintf(why, sizeof(why),
		         "listDatabases answered without a password (%u databases, MongoDB %.32s)",
		         l->n_databases,
		         s->build.version[0] ? s->build.version : "version unknown");
		probe_add_finding(out, QUESTION, SEVERITY_CRITICAL, CONFIDENCE_CONFIRMED, why);
		return;
	}
	probe_detail_set(out, "list_error",
	                 json_string(l->code_name[0] ? l->code_name : l->errmsg));
	if (l->has_code)
		probe_detail_set(out, "list_code", json_integer(l->code));
	if (l->has_code && l->code == MONGO_UNAUTHORIZED) {
		probe_detail_set(out, "auth", json_string("required"));
		probe_answer(out, QUESTION, PROBE_ANSWER_NO);
		return;
	}
	snprintf(why, sizeof(why), "could not check: listDatabases was refused (%.60s, code %d)",
	         l->code_name[0] ? l->code_name : "no code name", l->has_code ? l->code : -1);
	probe_detail_set(out, "auth", json_string("unknown"));
	probe_undecided(out, QUESTION, why);
}

static void report(struct mongodb_state *s, struct probe_result *out)
{
	if (s->reported)
		return;
	s->reported = true;
	if (s->other) {
		probe_other_line(out, s->other, s->first);
		return;
	}
	if (s->problem)
		probe_detail_set(out, "reason", json_string(s->problem));
	if (!s->identified) {
		if (s->problem)
			out->state = SERVICE_PROTOCOL_ERROR;
		return;
	}
	out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "mongodb");
	probe_detail_set(out, "wire", json_string(s->legacy ? "OP_QUERY" : "OP_MSG"));
	if (s->hello.has_max_wire)
		probe_detail_set(out, "max_wire_version", json_integer(s->hello.max_wire));
	put_text(out, "set_name", s->hello.set_name);
	put_text(out, "version", s->build.version);
	report_list(s, out);
}

static int finish(struct mongodb_state *s, struct probe_result *out)
{
	report(s, out);
	return PROBE_DONE;
}

/* One reply at buf: PROBE_MORE after sending the next command, PROBE_DONE at the verdict. */
static int one_reply(void *state, const uint8_t *buf, size_t len, size_t *used, struct probe_tx *tx,
                     struct probe_result *out)
{
	struct mongodb_state *s = state;
	struct mongo_msg m;
	struct mongo_reply rep;
	int r = mongo_parse_msg(buf, len, &m);

	if (r == PARSE_AGAIN)
		return PROBE_MORE;
	if (r == -ERR_SYNTAX && !s->identified) {
		s->other = probe_other_service(buf, len);
		s->other = s->other ? s->other : "";
		probe_first_line(s->first, sizeof(s->first), buf, len);
		return finish(s, out);
	}
	if (r < 0) {
		s->problem =
		    r == -ERR_TOOBIG ? "a reply longer than the probe reads" : "a malformed reply";
		return finish(s, out);
	}
	*used = (size_t)r;
	if (m.response_to != (int32_t)s->step + 1 ||
	    mongo_parse_reply(buf + m.doc_off, m.doc_len, &rep) < 0 || !rep.has_ok) {
		s->problem = "a reply that is not the answer to the command sent";
		return finish(s, out);
	}
	switch (s->step) {
	case MONGO_CMD_HELLO:
		s->identified = true;
		s->hello = rep;
		break;
	case MONGO_CMD_BUILDINFO:
		s->have_build = true;
		s->build = rep;
		break;
	default:
		s->have_list = true;
		s->list = rep;
		return finish(s, out);
	}
	s->step++;
	return send_cmd(s, tx);
}

static int mongodb_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                        struct probe_tx *tx, struct probe_result *out)
{
	struct mongodb_state *s = state;

	s->any_bytes = s->any_bytes || len > 0;
	return probe_feed_each(s, buf, len, consumed, tx, out, one_reply);
}

static int mongodb_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct mongodb_state *s = state;

	/* Closed at once on OP_MSG: a server before 3.6 does that; ask again the old way. */
	if (!s->legacy && !s->any_bytes && (why == PROBE_END_CLOSED || why == PROBE_END_RESET)) {
		probe_detail_set(out, "op_msg", json_string(probe_end_name(why)));
		return PROBE_RECONNECT;
	}
	if (!s->any_bytes && !s->identified)
		return probe_no_bytes(out, why);
	if (!s->problem)
		s->problem = probe_end_name(why);
	return finish(s, out);
}

const struct probe_ops probe_mongodb = {
    .name = "mongodb",
    .state_size = sizeof(struct mongodb_state),
    .max_rx = MONGO_MSG_MAX,
    .idle_ms = 5000,
    .total_ms = 12000,
    .max_conns = 2,
    .start = mongodb_start,
    .feed = mongodb_feed,
    .end = mongodb_end,
};
