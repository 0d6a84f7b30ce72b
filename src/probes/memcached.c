/* SPDX-License-Identifier: MIT */
/*
 * memcached probes (docs/internals/PROBES.md, "memcached"): `version` over TCP 11211 and the same
 * command in one UDP datagram behind memcached's 8-byte frame header (doc/protocol.txt, "UDP
 * protocol"). memcached has no authentication in its text protocol: an answer means anyone can
 * read, change and flush the cache (memcached-exposed); a UDP answer makes the server a
 * reflection and amplification source (memcached-udp-amplifier, the 2018 attacks). Nothing else
 * is sent: no key is read, no statistic asked.
 */
#include "probes/probe.h"
#include "probes/parse/memcached_parse.h"

#include <stdio.h>
#include <string.h>

static const char version_cmd[] = "version\r\n";

struct mc_state {
	bool reported;
	unsigned datagrams;
	unsigned bytes;
	bool bad_header;
	struct memcached_line line;
	bool have_line;
	char first[80];
	const char *other;
	const char *problem;
};

static void mc_report(struct mc_state *s, struct probe_result *out, const char *service)
{
	if (s->reported)
		return;
	s->reported = true;
	if (s->other) {
		probe_other_line(out, s->other, s->first);
		return;
	}
	if (s->have_line && s->line.kind == MEMCACHED_VERSION) {
		out->state = SERVICE_IDENTIFIED;
		snprintf(out->service, sizeof(out->service), "%s", service);
		probe_detail_set(out, "version", json_string(s->line.text));
		return;
	}
	if (s->have_line && s->line.kind != MEMCACHED_OTHER) {
		/* ERROR / CLIENT_ERROR / SERVER_ERROR: memcached's words, without the version
		 * (a SASL-only server refuses text commands so). */
		out->state = SERVICE_IDENTIFIED;
		snprintf(out->service, sizeof(out->service), "%s", service);
		probe_detail_set(out, "error",
		                 json_string(s->line.text[0] ? s->line.text : "ERROR"));
		return;
	}
	if (s->have_line) {
		out->state = SERVICE_PROTOCOL_ERROR;
		probe_detail_set(out, "first_line", json_string(s->line.text));
	}
	if (s->problem)
		probe_detail_set(out, "reason", json_string(s->problem));
}

/* TCP ----------------------------------------------------------------------------------------- */

static int mc_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)state, (void)conn, (void)out;
	return probe_tx_put(tx, version_cmd, sizeof(version_cmd) - 1) < 0 ? -ERR_TOOBIG
	                                                                  : PROBE_MORE;
}

static int mc_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                   struct probe_tx *tx, struct probe_result *out)
{
	struct mc_state *s = state;
	const char *o = NULL;
	int r;

	(void)tx;
	*consumed = 0;
	s->bytes = (unsigned)len; /* all of it is offered again until DONE */
	if (s->other || (o = probe_other_service(buf, len)) != NULL) {
		if (!s->other)
			s->other = o;
		probe_first_line(s->first, sizeof(s->first), buf, len);
		/* Its whole first line, when it comes soon: what answers is named by it. */
		if (memchr(buf, '\n', len) == NULL && len < sizeof(s->first))
			return PROBE_MORE;
		mc_report(s, out, "memcached");
		return PROBE_DONE;
	}
	if (probe_other_partial(buf, len))
		return PROBE_MORE;
	r = memcached_parse_line(buf, len, &s->line);
	if (r == PARSE_AGAIN)
		return PROBE_MORE;
	if (r < 0) {
		s->problem = "a line longer than 1024 bytes without its end";
		mc_report(s, out, "memcached");
		out->state = SERVICE_PROTOCOL_ERROR;
		return PROBE_DONE;
	}
	*consumed = (size_t)r;
	s->have_line = true;
	mc_report(s, out, "memcached");
	return PROBE_DONE;
}

static int mc_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct mc_state *s = state;

	if (!s->have_line && !s->other) {
		s->problem = probe_end_name(why);
		mc_report(s, out, "memcached");
		if (s->bytes > 0 || why == PROBE_END_TOOBIG) /* a line that never ended */
			out->state = SERVICE_PROTOCOL_ERROR;
		else if (why == PROBE_END_IDLE || why == PROBE_END_DEADLINE)
			out->state = SERVICE_SILENT;
		else
			out->state = SERVICE_TCPWRAPPED;
		return PROBE_DONE;
	}
	mc_report(s, out, "memcached");
	return PROBE_DONE;
}

const struct probe_ops probe_memcached = {
    .name = "memcached",
    .state_size = sizeof(struct mc_state),
    .max_rx = 2048,
    .idle_ms = 3000,
    .total_ms = 6000,
    .max_conns = 1,
    .start = mc_start,
    .feed = mc_feed,
    .end = mc_end,
};

/* UDP ----------------------------------------------------------------------------------------- */

static int mcu_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	uint8_t hdr[MEMCACHED_UDP_HDR];

	(void)state, (void)conn, (void)out;
	memcached_udp_request_hdr(hdr, MEMCACHED_UDP_REQUEST_ID);
	if (probe_tx_put(tx, hdr, sizeof(hdr)) < 0 ||
	    probe_tx_put(tx, version_cmd, sizeof(version_cmd) - 1) < 0)
		return -ERR_TOOBIG;
	return PROBE_MORE;
}

static void mcu_amplification(struct mc_state *s, struct probe_result *out)
{
	char why[FINDING_REASON_MAX];
	unsigned sent = MEMCACHED_UDP_HDR + (unsigned)sizeof(version_cmd) - 1;

	probe_detail_set(out, "datagrams", json_integer(s->datagrams));
	probe_detail_set(out, "bytes", json_integer(s->bytes));
	probe_detail_set(out, "request_bytes", json_integer(sent));
	if (out->state != SERVICE_IDENTIFIED)
		return;
	snprintf(why, sizeof(why),
	         "memcached answers over UDP (%u bytes for our %u; a `stats` or `get` of a large "
	         "value multiplies that many times)",
	         s->bytes, sent);
	probe_add_finding(out, "memcached-udp-amplifier", SEVERITY_HIGH, CONFIDENCE_CONFIRMED, why);
}

static int mcu_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                    struct probe_tx *tx, struct probe_result *out)
{
	struct mc_state *s = state;
	struct memcached_udp_hdr h;
	int r;

	(void)tx;
	*consumed = len;
	s->datagrams++;
	s->bytes += (unsigned)len;
	if (memcached_udp_parse_hdr(buf, len, &h) < 0 || h.request_id != MEMCACHED_UDP_REQUEST_ID) {
		s->bad_header = true;
		if (s->datagrams < 4)
			return PROBE_MORE; /* perhaps the real answer follows */
		s->problem = "UDP answers without memcached's frame header for our request";
		s->reported = false;
		mc_report(s, out, "memcached-udp");
		out->state = SERVICE_PROTOCOL_ERROR;
		mcu_amplification(s, out);
		return PROBE_DONE;
	}
	r = memcached_parse_line(buf + MEMCACHED_UDP_HDR, len - MEMCACHED_UDP_HDR, &s->line);
	s->have_line = true;
	if (r <= 0) {
		/* Our header, but no whole line in the datagram: not memcached's answer. */
		s->line.kind = MEMCACHED_OTHER;
		parse_copy_text(s->line.text, sizeof(s->line.text), buf + MEMCACHED_UDP_HDR,
		                len - MEMCACHED_UDP_HDR);
		s->problem = "the answer's line does not end in its datagram";
	}
	mc_report(s, out, "memcached-udp");
	mcu_amplification(s, out);
	return PROBE_DONE;
}

static int mcu_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct mc_state *s = state;

	(void)why;
	if (s->datagrams == 0) {
		out->state = SERVICE_SILENT;
		probe_detail_set(out, "reason", json_string("no answer over UDP"));
		return PROBE_DONE;
	}
	if (!s->reported) {
		s->problem = "UDP answers without memcached's frame header for our request";
		mc_report(s, out, "memcached-udp");
		out->state = SERVICE_PROTOCOL_ERROR;
		mcu_amplification(s, out);
	}
	return PROBE_DONE;
}

const struct probe_ops probe_memcached_udp = {
    .name = "memcached-udp",
    .state_size = sizeof(struct mc_state),
    .max_rx = 2048,
    .idle_ms = 500,
    .total_ms = 4000,
    .max_conns = 1,
    .datagram = true,
    .start = mcu_start,
    .feed = mcu_feed,
    .end = mcu_end,
};
