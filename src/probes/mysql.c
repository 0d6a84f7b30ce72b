/* SPDX-License-Identifier: MIT */
/*
 * MySQL / MariaDB probe (docs/internals/PROBES.md, "MySQL"): the server speaks first. Its
 * HandshakeV10 greeting proves a database server anyone can try passwords on (mysql-exposed,
 * with the version it announces); an ERR packet instead (1130 host not allowed, 1129 host
 * blocked, 1040 too many connections) proves it is there but refuses this address now. The probe
 * reads the first packet and closes: it never answers the greeting, never tries a login.
 */
#include "probes/probe.h"
#include "probes/parse/mysql_parse.h"

#include <stdio.h>
#include <string.h>

#define EXPOSED "mysql-exposed"

struct mysql_state {
	bool any_bytes;
};

static int mysql_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)state, (void)conn, (void)tx, (void)out;
	return PROBE_MORE; /* the server speaks first */
}

static const char *refusal(uint16_t code)
{
	switch (code) {
	case 1130:
		return "host-not-allowed";
	case 1129:
		return "host-blocked";
	case 1040:
		return "too-many-connections";
	default:
		return "error";
	}
}

static void report_greeting(const struct mysql_greeting *g, struct probe_result *out)
{
	char why[FINDING_REASON_MAX];

	probe_detail_set(out, "protocol", json_integer(g->protocol));
	probe_detail_set(out, "version", json_string(g->version));
	probe_detail_set(out, "product", json_string(g->mariadb ? "MariaDB" : "MySQL"));
	if (g->protocol == 10) {
		probe_detail_set(out, "tls", json_boolean(g->capabilities & MYSQL_CLIENT_SSL));
		if (g->auth_plugin[0])
			probe_detail_set(out, "auth_plugin", json_string(g->auth_plugin));
	}
	snprintf(why, sizeof(why), "the server greets anyone with its version (%s %.60s)",
	         g->mariadb ? "MariaDB" : "MySQL", g->version);
	probe_add_finding(out, EXPOSED, SEVERITY_HIGH, CONFIDENCE_CONFIRMED, why);
}

static void report_error(const struct mysql_greeting *g, struct probe_result *out)
{
	char why[FINDING_REASON_MAX];

	probe_detail_set(out, "refused", json_string(refusal(g->err_code)));
	probe_detail_set(out, "error_code", json_integer(g->err_code));
	probe_detail_set(out, "error_message", json_string(g->err_msg));
	snprintf(why, sizeof(why),
	         "the server answers but refuses this address now (ERR %u: %.80s)",
	         (unsigned)g->err_code, g->err_msg);
	probe_add_finding(out, EXPOSED, SEVERITY_MEDIUM, CONFIDENCE_CONFIRMED, why);
}

static int mysql_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                      struct probe_tx *tx, struct probe_result *out)
{
	struct mysql_state *s = state;
	struct mysql_greeting g;
	char first[80];
	int r;

	(void)tx;
	*consumed = 0;
	s->any_bytes = s->any_bytes || len > 0;
	r = mysql_parse_greeting(buf, len, &g);
	if (r == PARSE_AGAIN)
		return PROBE_MORE;
	*consumed = len;
	if (r == -ERR_SYNTAX) {
		probe_first_line(first, sizeof(first), buf, len);
		probe_other_line(out, probe_other_service(buf, len), first);
		return PROBE_DONE;
	}
	snprintf(out->service, sizeof(out->service), "mysql");
	if (r < 0) {
		out->state = SERVICE_PROTOCOL_ERROR;
		probe_detail_set(out, "reason",
		                 json_string(r == -ERR_TOOBIG
		                                 ? "a first packet longer than a greeting"
		                                 : "a malformed greeting"));
		return PROBE_DONE;
	}
	out->state = SERVICE_IDENTIFIED;
	if (g.is_error)
		report_error(&g, out);
	else
		report_greeting(&g, out);
	return PROBE_DONE;
}

static int mysql_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct mysql_state *s = state;

	if (!s->any_bytes) {
		out->state = probe_no_bytes_state(why);
	} else {
		out->state = SERVICE_PROTOCOL_ERROR; /* a packet cut short */
		snprintf(out->service, sizeof(out->service), "mysql");
	}
	probe_detail_set(out, "reason", json_string(probe_end_name(why)));
	return PROBE_DONE;
}

const struct probe_ops probe_mysql = {
    .name = "mysql",
    .state_size = sizeof(struct mysql_state),
    .max_rx = 4 + MYSQL_PACKET_MAX,
    .idle_ms = 5000,
    .total_ms = 8000,
    .max_conns = 1,
    .start = mysql_start,
    .feed = mysql_feed,
    .end = mysql_end,
};
