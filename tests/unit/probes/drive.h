/* SPDX-License-Identifier: MIT */
/*
 * Test drivers for the probe state machines (probe.h), shared by the probe tests:
 * - sim_run: feeds canned server bytes to a probe in memory (whole, in chunks, or cut short),
 *   the way the engine does (unconsumed bytes offered again, max_rx, reconnects), and checks the
 *   contract on every call (consumed <= len, valid return values, tx within its capacity); a
 *   probe with conversations (probe_ops.conv) one connection at a time or side by side, in a
 *   replay order fixed by sim_opts.order, so every run is deterministic;
 * - net_run: a small blocking driver on real sockets (poll, idle and total deadlines, max_rx,
 *   reconnects) for emulators and real servers, used until/besides the engine.
 * Both return 0 or a negative error; contract violations are reported as -ERR_INTERNAL with a
 * message in drive_error.
 */
#ifndef EXPOSURE_TESTS_PROBES_DRIVE_H
#define EXPOSURE_TESTS_PROBES_DRIVE_H

#include "probes/probe.h"

#include <stddef.h>
#include <stdint.h>

/* The bytes a server sends on one connection. */
struct sim_conn {
	const uint8_t *data;
	size_t len;
};

/*
 * How sim_run drives a probe. Connection numbers are the probe's: the bytes of conns[c] go to its
 * connection c (one at a time, the c-th connection it opens, as the engine numbers them).
 */
enum sim_order {
	SIM_ONE_BY_ONE =
	    0,           /* probe_ops start/feed/end: each connection to its end, then the next */
	SIM_CONV_LOWEST, /* conversations: the lowest-numbered open connection is served first */
	SIM_CONV_ROUND,  /* conversations: one feed (or end) to each open connection in turn, by
	                  * number: answers interleave as on a real network */
};

struct sim_opts {
	size_t chunk;            /* bytes per feed (0 = everything available at once) */
	enum sim_order order;    /* conversations only; the others are always one by one */
	unsigned cut_conn;       /* connection that is cut short ... */
	size_t cut_at;           /* ... after this many bytes (SIZE_MAX = never) */
	enum probe_end cut_why;  /* how a cut connection ends (default CLOSED) */
	enum probe_end tail_why; /* how a connection whose bytes ran out ends (default IDLE) */
};

#define DRIVE_MAX_PORTS 8

struct drive_stats {
	uint16_t ports[DRIVE_MAX_PORTS]; /* the port each connection went to (0: the probed one) */
	unsigned conns;                  /* connections started */
	size_t tx_total;                 /* bytes the probe queued */
	uint8_t tx_first[512];           /* what the probe queued on the first connection */
	size_t tx_first_len;
	enum probe_end last_end; /* why the last connection ended, PROBE_END_X_MAX if DONE */
	unsigned peak_open;      /* most connections open at once */
	double elapsed_ms;       /* net_run only */
};

extern char drive_error[256];

int sim_run(const struct probe_ops *ops, const struct sim_conn *conns, size_t n_conns,
            const struct sim_opts *o, struct probe_result *out, struct drive_stats *st);

/* Connect to host:port (numeric IPv4 or IPv6) and run the probe like the engine would. */
int net_run(const struct probe_ops *ops, const char *host, uint16_t port, struct probe_result *out,
            struct drive_stats *st);

/*
 * Append the bytes of file rel in directory dir (a capture of tests/data) to *buf, which holds
 * *len bytes (NULL and 0: a new buffer; it always has one byte more, so an empty file gets one
 * too). Returns 0, or a negative errno with *buf and *len unchanged.
 */
int drive_append_file(const char *dir, const char *rel, uint8_t **buf, size_t *len);

#define DRIVE_MAX_FILES 8

/* The bytes of each connection of a test case, read by drive_load. */
struct drive_loaded {
	uint8_t *data[DRIVE_MAX_FILES];
	struct sim_conn conns[DRIVE_MAX_FILES];
	size_t n;
};

/*
 * l->conns[i] = the bytes of files[i] in dir for i < n (<= DRIVE_MAX_FILES; a NULL file: that
 * connection sends nothing), l->n = n. Returns 0, or a negative errno with *bad the file that
 * could not be read. drive_unload frees what it read, even after an error.
 */
int drive_load(struct drive_loaded *l, const char *dir, const char *const *files, size_t n,
               const char **bad);
void drive_unload(struct drive_loaded *l);

/* Check that every string in details (recursively) is printable ASCII; false otherwise. */
bool drive_details_clean(const json_t *j);

/* The result as one JSON object {"state","service","findings":[...],"details"}; caller decrefs. */
json_t *drive_result_json(const struct probe_result *r);

#endif
