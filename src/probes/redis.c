/* SPDX-License-Identifier: MIT */
/*
 * Redis probe (docs/internals/PROBES.md, "Redis"): PING, and INFO server only after +PONG. A
 * server without a password answers +PONG (redis-no-auth: anyone can read, change or wipe the
 * data); with requirepass or an ACL it answers -NOAUTH; in protected mode (no password, a
 * non-loopback client) it sends -DENIED and closes. Nothing else is sent: no AUTH, no key read.
 */
#include "probes/probe.h"
#include "probes/parse/redis_parse.h"

#include <stdio.h>
#include <string.h>

enum redis_phase { REDIS_PING = 0, REDIS_INFO, REDIS_FINISHED };

struct redis_state {
	enum redis_phase phase;
	unsigned conn; /* the connection: 1 only listens (protected mode, see redis_end) */
	bool any_bytes;
	bool pong;          /* PING answered +PONG */
	bool info;          /* INFO answered with its text */
	bool reported;      /* report() ran */
	enum redis_err err; /* the error PING (or INFO) got */
	char err_text[REDIS_TEXT_MAX + 1];
	char first[80];      /* what another service sent first */
	const char *other;   /* its name, or NULL */
	const char *problem; /* why the conversation broke */
	struct redis_info ri;
};

#define QUESTION "redis-no-auth"

/* RESP arrays of bulk strings, as redis-cli sends them. */
static const char ping_cmd[] = "*1\r\n$4\r\nPING\r\n";
static const char info_cmd[] = "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n";

static int redis_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct redis_state *s = state;

	(void)out;
	s->conn = conn;
	if (conn > 0)
		return PROBE_MORE; /* listen only: the server speaks first if it refuses */
	return probe_tx_put(tx, ping_cmd, sizeof(ping_cmd) - 1) < 0 ? -ERR_TOOBIG : PROBE_MORE;
}

static void identified(struct probe_result *out)
{
	out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "redis");
}

static void report_error(struct redis_state *s, struct probe_result *out)
{
	char why[FINDING_REASON_MAX];

	probe_detail_set(out, "error", json_string(s->err_text));
	switch (s->err) {
	case REDIS_ERR_NOAUTH:
		probe_detail_set(out, "auth", json_string("required"));
		probe_answer(out, QUESTION, PROBE_ANSWER_NO);
		break;
	case REDIS_ERR_DENIED:
		/* No password, but commands from other addresses are refused: one configuration
		 * change (bind, protected-mode no) away from open. */
		probe_detail_set(out, "auth", json_string("protected-mode"));
		probe_detail_set(out, "protected_mode", json_true());
		probe_answer(out, QUESTION, PROBE_ANSWER_NO);
		probe_add_finding(out, "redis-exposed", SEVERITY_MEDIUM, CONFIDENCE_CONFIRMED,
		                  "Redis answers but refuses commands in protected mode (it has no "
		                  "password; only local clients may use it)");
		break;
	default:
		snprintf(why, sizeof(why), "could not check: PING was refused with -%.60s",
		         s->err_text);
		probe_detail_set(out, "auth", json_string("unknown"));
		probe_undecided(out, QUESTION, why);
		break;
	}
}

static void report(struct redis_state *s, struct probe_result *out)
{
	char why[FINDING_REASON_MAX];

	if (s->reported)
		return;
	s->reported = true;
	if (s->other) {
		probe_other_line(out, s->other, s->first);
		return;
	}
	if (s->pong) {
		identified(out);
		probe_detail_set(out, "auth", json_string("none"));
		if (s->ri.version[0])
			probe_detail_set(out, "redis_version", json_string(s->ri.version));
		if (s->ri.mode[0])
			probe_detail_set(out, "redis_mode", json_string(s->ri.mode));
		if (s->ri.os[0])
			probe_detail_set(out, "os", json_string(s->ri.os));
		if (s->info)
			snprintf(why, sizeof(why),
			         "PING and INFO answered without a password (Redis %.40s)",
			         s->ri.version[0] ? s->ri.version : "version not given");
		else
			snprintf(why, sizeof(why), "PING answered +PONG without a password");
		probe_add_finding(out, QUESTION, SEVERITY_CRITICAL, CONFIDENCE_CONFIRMED, why);
	} else if (s->err != REDIS_ERR_NONE) {
		identified(out);
		report_error(s, out);
	}
	if (s->problem) {
		if (!s->pong && s->err == REDIS_ERR_NONE)
			out->state = SERVICE_PROTOCOL_ERROR;
		probe_detail_set(out, "reason", json_string(s->problem));
	}
}

/* The reply to PING. */
static int on_ping(struct redis_state *s, const struct redis_reply *rep, struct probe_tx *tx)
{
	if (rep->type == '+' && strcmp(rep->text, "PONG") == 0) {
		s->pong = true;
		s->phase = REDIS_INFO;
		if (probe_tx_put(tx, info_cmd, sizeof(info_cmd) - 1) < 0)
			return -ERR_TOOBIG;
		return PROBE_MORE;
	}
	if (rep->type == '-') {
		s->err = rep->err;
		memcpy(s->err_text, rep->text, sizeof(s->err_text));
		return PROBE_DONE;
	}
	s->problem = "PING got neither +PONG nor an error";
	return PROBE_DONE;
}

/* One reply at buf: PROBE_MORE to wait for the next, PROBE_DONE when the verdict is in. */
static int one_reply(void *state, const uint8_t *buf, size_t len, size_t *used, struct probe_tx *tx,
                     struct probe_result *out)
{
	struct redis_state *s = state;
	struct redis_reply rep;
	int r = redis_parse_reply(buf, len, &rep);

	if (r == PARSE_AGAIN || (r == -ERR_SYNTAX && probe_other_partial(buf, len)))
		return PROBE_MORE;
	if (r < 0) {
		if (s->phase == REDIS_PING && r == -ERR_SYNTAX) {
			s->other = probe_other_service(buf, len);
			s->other = s->other ? s->other : "";
			probe_first_line(s->first, sizeof(s->first), buf, len);
		} else {
			s->problem = r == -ERR_TOOBIG ? "a reply longer than the probe reads"
			                              : "a malformed reply";
		}
		s->phase = REDIS_FINISHED;
		report(s, out);
		return PROBE_DONE;
	}
	*used = (size_t)r;
	if (s->phase == REDIS_PING) {
		r = on_ping(s, &rep, tx);
		if (r != PROBE_DONE)
			return r;
	} else if (rep.type == '$' && rep.length >= 0) {
		s->info = true;
		redis_parse_info(buf + rep.data_off, rep.data_len, &s->ri);
	}
	s->phase = REDIS_FINISHED;
	report(s, out);
	return PROBE_DONE;
}

static int redis_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                      struct probe_tx *tx, struct probe_result *out)
{
	struct redis_state *s = state;

	s->any_bytes = s->any_bytes || len > 0;
	/* A reply may follow in the same bytes (the INFO reply right behind +PONG). */
	return probe_feed_each(s, buf, len, consumed, tx, out, one_reply);
}

static int redis_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct redis_state *s = state;

	/*
	 * In protected mode Redis writes -DENIED at accept and closes at once; our PING then meets
	 * a closed socket, the peer answers it with a reset, and a reset drops the unread -DENIED
	 * from our receive queue (seen with redis-server 7.0 and the engine). So a first
	 * connection that ends without a byte gets a second one that sends nothing and listens.
	 */
	if (!s->any_bytes && s->conn == 0 && (why == PROBE_END_CLOSED || why == PROBE_END_RESET))
		return PROBE_RECONNECT;
	if (!s->any_bytes)
		return probe_no_bytes(out, why);
	if (!s->pong && s->err == REDIS_ERR_NONE && !s->other)
		s->problem = probe_end_name(why); /* a reply cut short */
	else if (s->pong && !s->info)
		probe_detail_set(out, "info", json_string(probe_end_name(why)));
	report(s, out);
	return PROBE_DONE;
}

const struct probe_ops probe_redis = {
    .name = "redis",
    .state_size = sizeof(struct redis_state),
    .max_rx = REDIS_LINE_MAX + 2 + REDIS_BULK_MAX + 2 + 32,
    .idle_ms = 5000,
    .total_ms = 10000,
    .max_conns = 2,
    .start = redis_start,
    .feed = redis_feed,
    .end = redis_end,
};
