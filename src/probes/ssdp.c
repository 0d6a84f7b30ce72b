/* SPDX-License-Identifier: MIT */
/*
 * SSDP probe (docs/internals/PROBES.md, "SSDP"): one unicast M-SEARCH for upnp:rootdevice to UDP
 * 1900 and the answer datagram(s). A 200 OK with LOCATION or SERVER is a UPnP device answering
 * discovery from wherever we are: upnp-exposed (a reflection and amplification source, and its
 * description names the device). Nothing else is sent: the LOCATION URL is reported, never
 * fetched. A datagram probe: the engine sends, retransmits and waits (engine/udp.c); no answer at
 * all is the engine's open|filtered, never "closed".
 */
#include "probes/probe.h"
#include "probes/parse/ssdp_parse.h"

#include <stdio.h>
#include <string.h>

#define SSDP_FIRST_MAX 80

struct ssdp_state {
	unsigned datagrams;         /* answers read */
	unsigned bytes;             /* their bytes, for the amplification ratio */
	bool found;                 /* a discovery answer was read */
	bool http_other;            /* an HTTP answer that is not one */
	char first[SSDP_FIRST_MAX]; /* the first line of something else */
	struct ssdp_reply r;        /* the discovery answer (or the last HTTP one) */
};

static int ssdp_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)state, (void)conn, (void)out;
	return probe_tx_put(tx, ssdp_msearch, ssdp_msearch_len) < 0 ? -ERR_TOOBIG : PROBE_MORE;
}

static void set_text(struct probe_result *out, const char *key, const char *v, bool has)
{
	if (has)
		probe_detail_set(out, key, json_string(v));
}

static void report(struct ssdp_state *s, struct probe_result *out)
{
	char why[FINDING_REASON_MAX];

	probe_detail_set(out, "datagrams", json_integer(s->datagrams));
	probe_detail_set(out, "bytes", json_integer(s->bytes));
	probe_detail_set(out, "request_bytes", json_integer((json_int_t)ssdp_msearch_len));
	if (s->found || s->http_other) {
		probe_detail_set(out, "status", json_integer(s->r.status));
		set_text(out, "server", s->r.server, s->r.has_server);
		set_text(out, "location", s->r.location, s->r.has_location);
		set_text(out, "st", s->r.st, s->r.has_st);
		set_text(out, "usn", s->r.usn, s->r.has_usn);
		if (s->r.truncated)
			probe_detail_set(out, "truncated", json_true());
	}
	if (s->found) {
		out->state = SERVICE_IDENTIFIED;
		snprintf(out->service, sizeof(out->service), "ssdp");
		snprintf(why, sizeof(why),
		         "a UPnP device answered M-SEARCH from the Internet (%u bytes for our "
		         "%zu)%s%.80s",
		         s->bytes, ssdp_msearch_len, s->r.has_server ? ": " : "",
		         s->r.has_server ? s->r.server : "");
		probe_add_finding(out, "upnp-exposed", SEVERITY_HIGH, CONFIDENCE_CONFIRMED, why);
		return;
	}
	if (s->http_other) {
		out->state = SERVICE_PROTOCOL_ERROR;
		snprintf(out->service, sizeof(out->service), "ssdp");
		probe_detail_set(out, "reason",
		                 json_string("an HTTP answer that is not a discovery "
		                             "answer (no 200 with LOCATION or SERVER)"));
		return;
	}
	if (s->datagrams > 0) {
		out->state = SERVICE_OTHER;
		probe_detail_set(out, "first_line", json_string(s->first));
		probe_detail_set(out, "reason", json_string("the answer is not HTTP"));
	}
}

static int ssdp_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                     struct probe_tx *tx, struct probe_result *out)
{
	struct ssdp_state *s = state;
	struct ssdp_reply r;
	int rc;

	(void)tx;
	*consumed = len;
	s->datagrams++;
	s->bytes += (unsigned)len;
	rc = ssdp_parse_reply(buf, len, &r);
	if (rc > 0 && ssdp_is_discovery(&r)) {
		s->r = r;
		s->found = true;
		report(s, out);
		return PROBE_DONE; /* one answer tells it all; more would only add bytes */
	}
	if (rc > 0 || rc == -ERR_TOOBIG) {
		if (rc > 0)
			s->r = r;
		s->http_other = true;
	} else if (s->datagrams == 1) {
		const uint8_t *lf = memchr(buf, '\n', len);
		size_t n = lf ? (size_t)(lf - buf) : len;

		if (n > 0 && buf[n - 1] == '\r')
			n--;
		parse_copy_text(s->first, sizeof(s->first), buf, n);
	}
	/* Something else answered: a few more datagrams may still bring the discovery answer
	 * (a device answering twice); the idle timer ends it. */
	return s->datagrams >= 8 ? (report(s, out), PROBE_DONE) : PROBE_MORE;
}

static int ssdp_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct ssdp_state *s = state;

	if (s->datagrams == 0) {
		out->state = SERVICE_SILENT;
		probe_detail_set(out, "reason", json_string("no answer to M-SEARCH"));
		return PROBE_DONE;
	}
	(void)why;
	report(s, out);
	return PROBE_DONE;
}

const struct probe_ops probe_ssdp = {
    .name = "ssdp",
    .state_size = sizeof(struct ssdp_state),
    .max_rx = 4096, /* one answer datagram; a longer one is cut here */
    .idle_ms = 500, /* after a non-discovery answer, for another datagram */
    .total_ms = 6000,
    .max_conns = 1,
    .datagram = true,
    .reply_delay_ms = 1000, /* MX 1: a device may wait up to a second */
    .start = ssdp_start,
    .feed = ssdp_feed,
    .end = ssdp_end,
};
