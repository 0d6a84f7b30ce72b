/* SPDX-License-Identifier: MIT */
/*
 * SKYSEA Client View (CVE-2016-7836), PROTOCOLS.md §9: reachability only, as the 2017 service
 * did. The protocol is proprietary and undocumented and speaking it would be exploit-adjacent,
 * so the probe sends nothing: it waits briefly and records whether the port talks first (length
 * and the first bytes in hex), as evidence for a future signature. It never changes the verdict.
 */
#include "probes/probe.h"

#include <stdio.h>

#define SKYSEA_EVIDENCE_BYTES 64

struct skysea_state {
	size_t seen; /* bytes the port sent unprompted */
	uint8_t first[SKYSEA_EVIDENCE_BYTES];
	size_t n_first;
};

static int skysea_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	(void)state, (void)conn, (void)tx, (void)out;
	return PROBE_MORE;
}

static void put_evidence(const struct skysea_state *s, struct probe_result *out)
{
	char hex[2 * SKYSEA_EVIDENCE_BYTES + 1];

	for (size_t i = 0; i < s->n_first; i++)
		snprintf(hex + 2 * i, 3, "%02x", s->first[i]);
	hex[2 * s->n_first] = '\0';
	probe_detail_set(out, "unprompted_bytes", json_integer((json_int_t)s->seen));
	probe_detail_set(out, "first_bytes_hex", json_string(hex));
}

static int skysea_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                       struct probe_tx *tx, struct probe_result *out)
{
	struct skysea_state *s = state;

	(void)tx;
	for (size_t i = 0; i < len && s->n_first < SKYSEA_EVIDENCE_BYTES; i++)
		s->first[s->n_first++] = buf[i];
	s->seen += len;
	*consumed = len;
	if (s->n_first < SKYSEA_EVIDENCE_BYTES)
		return PROBE_MORE;
	put_evidence(s, out);
	return PROBE_DONE;
}

static int skysea_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct skysea_state *s = state;

	put_evidence(s, out);
	if (s->seen == 0)
		out->state = why == PROBE_END_CLOSED ? SERVICE_TCPWRAPPED : SERVICE_SILENT;
	else
		out->state = SERVICE_UNKNOWN;
	return PROBE_DONE;
}

const struct probe_ops probe_skysea = {
    .name = "skysea",
    .state_size = sizeof(struct skysea_state),
    .max_rx = 4096,
    .idle_ms = 1000,
    .total_ms = 2000,
    .max_conns = 1,
    .start = skysea_start,
    .feed = skysea_feed,
    .end = skysea_end,
};
