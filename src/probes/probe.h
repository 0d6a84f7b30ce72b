/* SPDX-License-Identifier: MIT */
/*
 * The probe interface: one state machine per protocol, driven by the engine. A probe never
 * touches a socket: the engine connects, reads (bounded by max_rx), writes what the probe queued
 * in tx, enforces the idle and total deadlines, and closes. See docs/internals/PROBES.md.
 */
#ifndef EXPOSURE_PROBES_PROBE_H
#define EXPOSURE_PROBES_PROBE_H

#include "core/finding.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum probe_status {
	PROBE_MORE = 0,      /* keep the connection, wait for more bytes */
	PROBE_DONE = 1,      /* finished: the engine closes the connection and reports */
	PROBE_RECONNECT = 2, /* close this connection, open a new one, call start() again */
	PROBE_CLOSE = 3,     /* conversations (probe_conv_ops): this one is over, others go on */
};

/* Why a connection ended before the probe said DONE. */
enum probe_end {
	PROBE_END_CLOSED = 0, /* peer closed (FIN) */
	PROBE_END_RESET,      /* peer reset, or another socket error */
	PROBE_END_IDLE,       /* no byte for idle_ms */
	PROBE_END_DEADLINE,   /* total_ms since the first connect: the probe must finish */
	PROBE_END_TOOBIG,     /* the peer sent more than max_rx */
	PROBE_END_CONNECT,    /* a reconnect did not succeed */
	PROBE_END_X_MAX
};

/* What answered on the port (PROTOCOLS.md §0.3). */
enum service_state {
	SERVICE_UNKNOWN = 0,    /* nothing learnt (yet) */
	SERVICE_IDENTIFIED,     /* the protocol the check expected (or another named one) */
	SERVICE_SILENT,         /* open, no bytes before the deadline */
	SERVICE_TCPWRAPPED,     /* closed by the peer without a byte */
	SERVICE_OTHER,          /* something else answers (service names it if known) */
	SERVICE_PROTOCOL_ERROR, /* started like the protocol, then broke it */
	SERVICE_X_MAX
};

/* Bytes to send; owned by the engine, the probe appends (probe_tx_put) and never frees. */
struct probe_tx {
	uint8_t *buf;
	size_t cap;
	size_t len;
	/*
	 * Set with PROBE_RECONNECT: the next connection goes to this port of the same host (0: the
	 * probed port). For conversations whose second leg is on a port the first one names (the
	 * NFS mount service, found through the portmapper); the engine resets it to 0 each time.
	 */
	uint16_t next_port;
	/*
	 * Set with PROBE_RECONNECT: the next connection speaks TLS. The engine does the handshake
	 * (no certificate verification: we identify, we do not trust) before start(), then feeds
	 * the probe plaintext and encrypts what it queues. Reset to false each time. A probe that
	 * sets it needs its check's check_def.tls in the catalogue: a prober starts OpenSSL only
	 * for such checks (without, the handshake fails).
	 */
	bool tls;
};

#define PROBE_MAX_FINDINGS 8
#define PROBE_MAX_ANSWERS  4
#define PROBE_SERVICE_MAX  24

/*
 * How a probe settled one of its check's questions (catalogue.h, check_def.questions) without
 * raising the finding. "Yes" needs no answer: it is the finding itself (an undecided one is the
 * finding with confidence unknown). A question with neither finding nor answer on an open port
 * was not decided, and the diagnosis says so with the finding at confidence unknown.
 */
enum probe_answer {
	PROBE_ANSWER_NONE = 0,       /* not decided (also: forget an earlier answer) */
	PROBE_ANSWER_NO,             /* asked and answered: no (vnc-no-auth: a password is asked) */
	PROBE_ANSWER_NOT_APPLICABLE, /* cannot arise here (ms17-010-vulnerable with SMB1 off) */
	PROBE_ANSWER_UNDECIDED,      /* not decided, and the probe knows why (reason) */
	PROBE_ANSWER_X_MAX
};

struct probe_answer_rec {
	char id[FINDING_ID_MAX]; /* the question: a finding id */
	enum probe_answer answer;
	char reason[FINDING_REASON_MAX]; /* PROBE_ANSWER_UNDECIDED: why, plain ASCII */
};

/* What a probe learnt. The engine zeroes it before start() and hands it to the caller after. */
struct probe_result {
	enum service_state state;
	char service[PROBE_SERVICE_MAX]; /* "ssh", "smb", ...; "" if not identified */
	json_t *details; /* JSON object owned by the result (NULL = none); see docs/json.md */
	struct finding findings[PROBE_MAX_FINDINGS];
	size_t n_findings;
	struct probe_answer_rec answers[PROBE_MAX_ANSWERS]; /* questions answered no */
	size_t n_answers;
};

/*
 * A probe that holds several conversations at once (optional, probe_ops.conv): independent
 * connections of one probe (the SMB conversation's SMB1 and SMB2 NEGOTIATEs) run side by side,
 * so the probe takes about as long as its longest conversation instead of their sum. Each
 * connection has the probe's own number `conn` (< max_conns, each used once). The engine opens
 * connection next() returns whenever it can (fewer than max_parallel open, a slot free under the
 * per-target cap) and calls start/feed/end with that number; the engine's deadlines, byte caps
 * and the total budget apply to each connection as to one. start and feed return PROBE_MORE,
 * PROBE_CLOSE (this connection is over: close it, open what next() wants), PROBE_DONE (the whole
 * probe is over: close every connection) or a negative error; end returns PROBE_CLOSE or
 * PROBE_DONE. At the total deadline every open connection hears end(PROBE_END_DEADLINE). The
 * probe is over when it says DONE, or when nothing is open and next() wants nothing.
 * A probe with conv keeps start/feed/end too: they walk the same connections one at a time (the
 * order next() gives), for drivers that hold one connection (tests, probe_cli).
 */
struct probe_conv_ops {
	unsigned max_parallel; /* connections open at once (>= 1) */
	/* The number of the connection to open now, or -1 (none now; maybe later). */
	int (*next)(void *state);
	int (*start)(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out);
	int (*feed)(void *state, unsigned conn, const uint8_t *buf, size_t len, size_t *consumed,
	            struct probe_tx *tx, struct probe_result *out);
	int (*end)(void *state, unsigned conn, enum probe_end why, struct probe_result *out);
};

struct probe_ops {
	const char *name;   /* stable id, the check's protocol: "ssh", "smb", ... */
	size_t state_size;  /* the engine allocates and zeroes this much per probe */
	size_t max_rx;      /* hard cap on bytes buffered per connection */
	unsigned idle_ms;   /* no-byte timeout per connection */
	unsigned total_ms;  /* deadline for the whole probe, reconnects included */
	unsigned max_conns; /* how many connections start() may be called for (>= 1) */
	/*
	 * A datagram probe (UDP, docs/internals/ENGINE.md "UDP"): what start() queues is ONE
	 * datagram (sent again as it is on each retransmission), each datagram received is fed
	 * alone (buf is that datagram, truncated to max_rx; *consumed is ignored), and what
	 * feed() queues goes out as one more datagram. idle_ms is the wait for a further
	 * datagram once one arrived; start() is called once (conn 0), end() with PROBE_END_IDLE
	 * when nothing or nothing more came, PROBE_END_DEADLINE at total_ms.
	 */
	bool datagram;
	/* A datagram probe's protocol delay: how long a server may wait before it answers (SSDP's
	 * MX), added to the adaptive timeout after the last retransmission. */
	unsigned reply_delay_ms;

	/*
	 * A connection is established (conn is 0 for the first, then 1, 2, ... after RECONNECT).
	 * May queue bytes in tx. Returns PROBE_MORE, PROBE_DONE or a negative error.
	 */
	int (*start)(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out);

	/*
	 * Bytes arrived. buf holds every byte received on this connection and not yet consumed
	 * (at most max_rx); set *consumed to what was used (the rest is offered again with the
	 * next bytes). Returns PROBE_MORE, PROBE_DONE, PROBE_RECONNECT or a negative error;
	 * on error *out keeps what was learnt and the engine ends the probe.
	 */
	int (*feed)(void *state, const uint8_t *buf, size_t len, size_t *consumed,
	            struct probe_tx *tx, struct probe_result *out);

	/*
	 * The connection ended without DONE (why). Finish *out from what was seen. May return
	 * PROBE_RECONNECT (if conns remain and why != PROBE_END_DEADLINE); otherwise PROBE_DONE.
	 */
	int (*end)(void *state, enum probe_end why, struct probe_result *out);

	/* Several conversations at once (NULL: one connection at a time, the callbacks above). */
	const struct probe_conv_ops *conv;
};

/* Append n bytes to tx. Returns 0 or -ERR_TOOBIG (nothing appended). */
int probe_tx_put(struct probe_tx *tx, const void *data, size_t n);

/*
 * Add a finding to out (ignored past PROBE_MAX_FINDINGS; the first ones are the most
 * important by convention). reason may be NULL. Replaces an existing finding with the same id.
 */
void probe_add_finding(struct probe_result *out, const char *id, enum severity sev,
                       enum confidence conf, const char *reason);

/*
 * Record how question id (a finding id of the check) was settled without its finding, replacing
 * an earlier answer to it; PROBE_ANSWER_NONE forgets it. Ignored past PROBE_MAX_ANSWERS.
 */
void probe_answer(struct probe_result *out, const char *id, enum probe_answer a);

/*
 * Question id stays undecided for a reason the probe knows better than the diagnosis would
 * ("not checked: ..."): the diagnosis's unknown finding then carries it. NULL reason: forget.
 */
void probe_undecided(struct probe_result *out, const char *id, const char *reason);

/* How question id was answered, and the record (NULL when PROBE_ANSWER_NONE). A finding with
 * that id is not an answer: the caller looks at the findings first. */
enum probe_answer probe_answer_of(const struct probe_result *res, const char *id,
                                  const struct probe_answer_rec **rec);

/* Set details[key] = value (takes ownership of value), creating the object if needed. */
void probe_detail_set(struct probe_result *out, const char *key, json_t *value);

/*
 * The first bytes are not the protocol: out->state = SERVICE_OTHER, with out->service named
 * as probe_other_service() names them. Returns PROBE_MORE while buf is still a short prefix of
 * such a greeting (the caller consumes nothing and waits for more), else PROBE_DONE.
 */
int probe_other(struct probe_result *out, const uint8_t *buf, size_t len);

/* Why a connection ended, in words: "closed by the server", "no data before the idle timeout". */
const char *probe_end_name(enum probe_end why);

/*
 * What a port that ended a connection before its first byte is (PROTOCOLS.md §0.3): closed or
 * reset by the peer, SERVICE_TCPWRAPPED; ended by a timeout, SERVICE_SILENT.
 */
enum service_state probe_no_bytes_state(enum probe_end why);

/* out->state = probe_no_bytes_state(why), with details.reason = probe_end_name(why). Returns
 * PROBE_DONE. */
int probe_no_bytes(struct probe_result *out, enum probe_end why);

/*
 * The first line of what another service sent (up to '\n', without a '\r' before it), as
 * printable text (parse_copy_text) in dst of size bytes (> 0).
 */
void probe_first_line(char *dst, size_t size, const uint8_t *buf, size_t len);

/* Another service answered: out->state = SERVICE_OTHER, out->service = name ("" when NULL: not
 * named), details.first_line = first (what probe_first_line kept). */
void probe_other_line(struct probe_result *out, const char *name, const char *first);

/*
 * feed() for a protocol of back-to-back messages: calls one(state, ...) on the bytes not yet
 * used, one message at a time, while it returns PROBE_MORE and says through *used how many
 * bytes its message took (0: it waits for more bytes, or it decided). *consumed is their sum;
 * returns what the last call returned.
 */
int probe_feed_each(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                    struct probe_tx *tx, struct probe_result *out,
                    int (*one)(void *state, const uint8_t *buf, size_t len, size_t *used,
                               struct probe_tx *tx, struct probe_result *out));

/*
 * Another well-known service recognised from the first bytes it sent ("ssh", "http", "vnc",
 * "rsync", "tls", "rdp"), or NULL: one table for every probe, so what answered instead
 * is named the same way everywhere.
 */
const char *probe_other_service(const uint8_t *buf, size_t len);

/* Whether buf is still too short to tell: a strict prefix of what probe_other_service names. */
bool probe_other_partial(const uint8_t *buf, size_t len);

/* Release what out owns and zero it. */
void probe_result_done(struct probe_result *out);

/* The probe registered under name, or NULL. */
const struct probe_ops *probe_by_name(const char *name);

#endif
