/* SPDX-License-Identifier: MIT */
/*
 * Stage 1 of `exposure sweep`: stateless SYN discovery over a space (space.h) in a keyed order
 * (perm.h), validated by cookies (cookie.h). Two threads: the sender (token bucket, batches
 * through sendmmsg on a raw IPv4 socket, and a raw IPv6 one when the space lists IPv6
 * addresses; passes for the retries) and the receiver (a packet socket behind a classic BPF
 * filter). Found ports are handed to a callback from the receiver thread.
 * See docs/internals/SWEEP.md.
 */
#ifndef EXPOSURE_SWEEP_SWEEP_H
#define EXPOSURE_SWEEP_SWEEP_H

#include "sweep/space.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SWEEP_RATE_DEFAULT    10000u
#define SWEEP_RATE_MAX        10000000u
#define SWEEP_RETRIES_DEFAULT 3u
#define SWEEP_RETRIES_MAX     10u
#define SWEEP_WAIT_DEFAULT_MS 1000u /* after the last probe, for late replies */
#define SWEEP_RETRY_DELAY_MS  500u  /* between passes */
#define SWEEP_BATCH_MAX       64u

/* How probes leave and replies come in (docs/internals/SWEEP.md, "Send and receive paths"). */
enum sweep_send_path {
	SWEEP_SEND_MMSG,   /* sendmmsg on a raw IPv4 socket: the kernel routes every packet */
	SWEEP_SEND_TXRING, /* PACKET_TX_RING + PACKET_QDISC_BYPASS, Ethernet frames to one gateway
	                    */
};

enum sweep_recv_path {
	SWEEP_RECV_SOCKET,   /* recvmmsg on the filtered packet socket */
	SWEEP_RECV_TPACKET3, /* a TPACKET_V3 block ring on the same socket */
};

/* The defaults, by measurement (bench/RESULTS.md, issue 13 paths; SWEEP.md says why). */
#define SWEEP_SEND_DEFAULT SWEEP_SEND_MMSG
#define SWEEP_RECV_DEFAULT SWEEP_RECV_TPACKET3

/* "mmsg" / "txring", "socket" / "tpacket3": 0 and *out set, or -ERR_SYNTAX. */
int sweep_send_path_parse(const char *s, enum sweep_send_path *out);
int sweep_recv_path_parse(const char *s, enum sweep_recv_path *out);
const char *sweep_send_path_name(enum sweep_send_path p);
const char *sweep_recv_path_name(enum sweep_recv_path p);

struct sweep_opts {
	uint32_t source;     /* our address, host order; 0 = the route's to the first target */
	uint8_t source6[16]; /* our IPv6 address; all zero = the route's to the first IPv6 one */
	unsigned rate;       /* probes per second */
	unsigned retries;    /* extra passes over the unanswered probes */
	uint64_t seed;       /* the order's seed (shards of one sweep share it) */
	uint64_t shard, shards;
	unsigned wait_ms;        /* after the last pass */
	unsigned retry_delay_ms; /* between passes */
	bool progress;           /* a live line on stderr */
	enum sweep_send_path send_path;
	enum sweep_recv_path recv_path;
};

/* Running counts (read at any time; updated with relaxed atomics). */
struct sweep_stats {
	uint64_t sent;       /* SYNs handed to the kernel, every pass */
	uint64_t replies;    /* TCP packets the filter let through */
	uint64_t validated;  /* ...whose cookie matched */
	uint64_t invalid;    /* ...whose cookie did not: counted and dropped */
	uint64_t open;       /* distinct (address, port) answering SYN-ACK */
	uint64_t closed;     /* distinct (address, port) answering RST */
	uint64_t drops;      /* packets the socket dropped (PACKET_STATISTICS) */
	uint64_t tx_lost;    /* probes the send path could not hand over (counted in sent too) */
	unsigned pass;       /* pass being sent, 0-based */
	double elapsed_s;    /* from the first probe to the end */
	uint64_t first_sent; /* probes of the first pass (every probe of the shard) */
	double first_s;      /* ...and how long sending them took: the achieved rate */
};

/*
 * An open port found on the address of index addr in the space (space_addr_get). Called from
 * the receiver thread, once per pair.
 */
typedef void sweep_found_cb(void *ud, uint64_t addr, uint16_t port);

struct sweep;

void sweep_opts_default(struct sweep_opts *o);

/*
 * Open the sockets (needs CAP_NET_RAW) and find the source address. The space must have
 * passed space_finish. Returns 0 or negative with err set.
 */
int sweep_open(struct sweep **out, const struct space *sp, const struct sweep_opts *o,
               sweep_found_cb *cb, void *ud, char *err, size_t errlen);

/* Start the threads; done(ud) is called from the sender thread once all is over. */
int sweep_start(struct sweep *s, void (*done)(void *ud));

/* Ask the threads to stop early (signal-safe: sets a flag). */
void sweep_stop(struct sweep *s);

/* Join the threads and free. Takes NULL. */
void sweep_close(struct sweep *s);

void sweep_get_stats(const struct sweep *s, struct sweep_stats *st);

/*
 * Give up every privilege once the sockets are open: no new privileges, the bounding set
 * emptied, every capability dropped (the uid stays, so files the user owns stay writable).
 * Returns 0 or negative with err set.
 */
int sweep_drop_privileges(char *err, size_t errlen);

#endif
