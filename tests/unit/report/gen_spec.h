/* SPDX-License-Identifier: MIT */
/*
 * A store of known composition for the report tests and the benchmark, written through the
 * store's own interface. Result i is a pure function of i (gen_row), so a test can recompute
 * every expected count on its own, without the report code.
 */
#ifndef EXPOSURE_TESTS_REPORT_GEN_SPEC_H
#define EXPOSURE_TESTS_REPORT_GEN_SPEC_H

#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define GEN_BASE_MS  INT64_C(1704067200000) /* 2024-01-01T00:00:00Z, a Monday */
#define GEN_N_CHECKS 7
#define GEN_MAX_FIND 12

static const char *const gen_checks[GEN_N_CHECKS] = {"ssh", "telnet", "netbios", "smb",
                                                     "rdp", "vnc",    "skysea"};
static const uint16_t gen_ports[GEN_N_CHECKS] = {22, 23, 139, 445, 3389, 5900, 52300};
static const enum severity gen_sev[GEN_N_CHECKS] = {
    SEVERITY_MEDIUM, SEVERITY_HIGH, SEVERITY_HIGH,   SEVERITY_HIGH,
    SEVERITY_HIGH,   SEVERITY_HIGH, SEVERITY_MEDIUM,
};
static const char *const gen_exposed[GEN_N_CHECKS] = {
    "ssh-exposed", "telnet-exposed", "netbios-exposed",     "smb-exposed",
    "rdp-exposed", "vnc-exposed",    "skysea-port-exposed",
};

struct gen_row {
	int64_t created_ms;
	uint64_t requester; /* index: the same index is the same address */
	char addr[64];
	const char *state[GEN_N_CHECKS];
	struct store_finding_row find[GEN_MAX_FIND];
	size_t n_find;
	const char *risk;
	enum store_connection connection; /* the visitor's answer (issue 10 §3) */
	enum store_device device;
	unsigned families; /* STORE_FAMILY_* bits tested (issue 10 §1) */
};

static inline uint64_t gen_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Requesters: result i comes from requester i % n_req. */
static inline uint64_t gen_n_req(uint64_t n)
{
	return n * 3 / 4 ? n * 3 / 4 : 1;
}

/*
 * Address of requester a (injective for a < 12800): IPv6 for a % 4 == 3, in 2001:db8:beef::/48
 * for a == 3 and a == 7, else 2001:db8:(a%5)::/48; IPv4 198.(18 or 19 when a%3==0).(a%50).x.
 */
static inline void gen_addr(uint64_t a, char *buf, size_t n)
{
	if (a == 3 || a == 7)
		snprintf(buf, n, "2001:db8:beef:%llx::1", (unsigned long long)a);
	else if (a % 4 == 3)
		snprintf(buf, n, "2001:db8:%llx:%llx::1", (unsigned long long)(a % 5),
		         (unsigned long long)((a / 5) % 65536));
	else
		snprintf(buf, n, "198.%d.%llu.%llu", a % 3 == 0 ? 19 : 18,
		         (unsigned long long)(a % 50), (unsigned long long)((a / 50) % 256));
}

/*
 * The connection answer and device class of result i, from a hash of its own: every answer and
 * class, and no answer; a result with 139 or 445 open is far more often on SIM or a USB modem
 * (the 2017 finding), so the claim's share is well above the answers' base rate.
 */
static inline void gen_answers(uint64_t i, struct gen_row *r)
{
	uint64_t h = gen_mix(i ^ 0x5eed5eed5eedULL);
	bool headline = strcmp(r->state[2], "open") == 0 || strcmp(r->state[3], "open") == 0;

	r->connection = (enum store_connection)(h % 8 % STORE_CONN_X_MAX); /* 7: none again */
	if (headline && (h >> 8) % 4 != 0)
		r->connection = (h >> 10) % 2 ? STORE_CONN_SIM : STORE_CONN_USB_MODEM;
	r->device = (enum store_device)((h >> 16) % STORE_DEVICE_X_MAX);
	/* A rare answer, to be folded at the default threshold: tethering. */
	if (r->connection == STORE_CONN_TETHERING && (h >> 20) % 400 != 0)
		r->connection = STORE_CONN_ROUTER;
}

/*
 * The families tested in result i, from a hash of its own: the requester's family, and in
 * about 2 of 5 results the other one too (a both-families visit). In a both-families result
 * with a door open, about 1 in 3 also holds ipv6-only-exposure about its first open door and
 * 1 in 3 ipv4-only-exposure (the door's severity, so the risk stays the same), 1 in 10 of those
 * with confidence unknown (never counted as holding).
 */
static inline void gen_families(uint64_t i, struct gen_row *r)
{
	uint64_t h = gen_mix(i ^ 0xfa111e5fa111e5ULL);
	unsigned own = strchr(r->addr, ':') ? STORE_FAMILY_V6 : STORE_FAMILY_V4;
	int c = 0;

	r->families = h % 5 < 2 ? STORE_FAMILY_BOTH : own;
	while (c < GEN_N_CHECKS && strcmp(r->state[c], "open") != 0)
		c++;
	if (r->families != STORE_FAMILY_BOTH || c == GEN_N_CHECKS || (h >> 8) % 3 == 2)
		return;
	r->find[r->n_find++] = (struct store_finding_row){
	    .check = gen_checks[c],
	    .id = (h >> 8) % 3 == 0 ? "ipv6-only-exposure" : "ipv4-only-exposure",
	    .severity = gen_sev[c],
	    .confidence = (h >> 12) % 10 == 0 ? CONFIDENCE_UNKNOWN : CONFIDENCE_CONFIRMED};
}

static inline void gen_row(uint64_t i, uint64_t n, int64_t step_ms, struct gen_row *r)
{
	uint64_t h = gen_mix(i);
	static const unsigned mod[GEN_N_CHECKS] = {10, 50, 40, 33, 25, 60, 100};
	enum severity worst = SEVERITY_X_MAX;

	memset(r, 0, sizeof(*r));
	r->created_ms = GEN_BASE_MS + (int64_t)i * step_ms;
	r->requester = i % gen_n_req(n);
	gen_addr(r->requester, r->addr, sizeof(r->addr));
	for (int c = 0; c < GEN_N_CHECKS; c++) {
		bool open = (h >> (6 * c)) % mod[c] == 0;

		r->state[c] = open ? "open" : "closed";
		if (!open && c == 4 && (h >> 42) % 7 == 0)
			r->state[c] = "filtered";
		if (!open && c == 5 && (h >> 46) % 97 == 0)
			r->state[c] = "error";
		if (!open)
			continue;
		r->find[r->n_find++] =
		    (struct store_finding_row){.check = gen_checks[c],
		                               .id = gen_exposed[c],
		                               .severity = gen_sev[c],
		                               .confidence = CONFIDENCE_CONFIRMED};
		if (c == 3 && (h >> 50) % 3 == 0)
			r->find[r->n_find++] =
			    (struct store_finding_row){.check = "smb",
			                               .id = "smb1-enabled",
			                               .severity = SEVERITY_CRITICAL,
			                               .confidence = CONFIDENCE_LIKELY};
		if (c == 5) /* the same id twice in one result: counted once */
			r->find[r->n_find++] =
			    (struct store_finding_row){.check = "vnc",
			                               .id = "vnc-exposed",
			                               .severity = SEVERITY_HIGH,
			                               .confidence = CONFIDENCE_CONFIRMED};
	}
	if (strcmp(r->state[0], "open") != 0 && (h >> 56) % 20 == 0)
		r->find[r->n_find++] =
		    (struct store_finding_row){.check = "ssh",
		                               .id = "ssh-hint",
		                               .severity = SEVERITY_INFO,
		                               .confidence = CONFIDENCE_POSSIBLE};
	for (size_t k = 0; k < r->n_find; k++)
		if (worst == SEVERITY_X_MAX || r->find[k].severity > worst)
			worst = r->find[k].severity;
	gen_answers(i, r);
	gen_families(i, r);
	r->risk = worst == SEVERITY_X_MAX      ? "none"
	          : worst == SEVERITY_CRITICAL ? "critical"
	          : worst == SEVERITY_HIGH     ? "high"
	          : worst == SEVERITY_MEDIUM   ? "medium"
	                                       : "low";
}

/* Write n results, one every step_ms from GEN_BASE_MS. Returns 0 or a negative code. */
static inline int gen_store(const char *path, uint64_t n, int64_t step_ms)
{
	static const struct store_key key = {.bytes = {5, 4, 3}};
	struct store_opts o = {
	    .flags = STORE_QUEUE_BLOCK | STORE_FAST_CREATE, .batch_max = 1024, .queue_max = 8192};
	struct store_check_row rows[GEN_N_CHECKS];
	struct store_check_state states[GEN_N_CHECKS];
	struct store *st = NULL;
	struct gen_row g;
	int r;

	if ((r = store_open(path, &o, &st)) < 0)
		return r;
	for (uint64_t i = 0; i < n; i++) {
		char id[STORE_ID_LEN + 1], token[STORE_TOKEN_LEN + 1], rhash[STORE_HASH_HEX];
		char prefix[STORE_PREFIX_MAX];
		uint8_t th[STORE_HASH_BYTES];
		struct addr a;

		gen_row(i, n, step_ms, &g);
		if ((r = addr_parse(g.addr, &a)) < 0 || (r = store_random_id(id)) < 0 ||
		    (r = store_random_token(token)) < 0 ||
		    (r = store_requester_hash(&key, &a, rhash)) < 0 ||
		    (r = store_prefix(&a, prefix, sizeof(prefix))) < 0)
			goto out;
		store_token_hash(token, th);
		struct store_new nd = {.id = id,
		                       .token_hash = th,
		                       .requester_hash = rhash,
		                       .prefix = prefix,
		                       .family = a.family,
		                       .lang = "en",
		                       .created_ms = g.created_ms,
		                       .device = g.device,
		                       .connection = g.connection};
		if ((r = store_create_async(st, &nd)) < 0)
			goto out;
		for (int c = 0; c < GEN_N_CHECKS; c++) {
			rows[c] = (struct store_check_row){.check = gen_checks[c],
			                                   .port = gen_ports[c],
			                                   .state = g.state[c],
			                                   .rtt_ms = -1};
			/* One port per check: the check's state is its port's. */
			states[c] =
			    (struct store_check_state){.check = gen_checks[c], .state = g.state[c]};
		}
		struct store_result res = {.id = id,
		                           .finished_ms = g.created_ms + 1500,
		                           .risk = g.risk,
		                           .json = "{}",
		                           .checks = rows,
		                           .n_checks = GEN_N_CHECKS,
		                           .findings = g.find,
		                           .n_findings = g.n_find,
		                           .states = states,
		                           .n_states = GEN_N_CHECKS,
		                           .families = g.families};
		if ((r = store_save_result(st, &res)) < 0)
			goto out;
	}
	r = store_flush(st);
out:
	store_close(st);
	return r;
}

#endif
