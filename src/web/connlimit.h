/* SPDX-License-Identifier: MIT */
/*
 * The front's own table of HTTP connections (docs/api.md "Connections"). libmicrohttpd's
 * timeout measures idleness only and its per-address limit counts whole IPv6 /128s, so one /64
 * sending a byte every few seconds could hold every slot. Here:
 * - a connection counts against its network: its IPv4 address or IPv6 /64 (per_net), and its
 *   IPv6 /48 (per_48); one above either is refused;
 * - a connection waiting for a request must have it whole (headers and body) within request_ms
 *   of its accept or of its previous response, whatever its byte rate, or it is shed;
 * - when the table is full, the connection that has waited longest for its request (the
 *   oldest idle or slowest) is shed to admit a new one; connections whose request arrived
 *   (being answered, event streams) are never shed for room.
 * Shedding calls cfg.shed(fd) under the table's lock: the HTTP library still owns the socket
 * and closes it when it sees the end (shutdown(2)). Thread-safe. Times are monotonic ms given
 * by the caller, so the unit test plays them.
 */
#ifndef EXPOSURE_WEB_CONNLIMIT_H
#define EXPOSURE_WEB_CONNLIMIT_H

#include "core/addr.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct connlimit_config {
	unsigned limit;      /* connections at once (>= 1) */
	unsigned per_net;    /* per IPv4 address or IPv6 /64; 0: no limit */
	unsigned per_48;     /* per IPv6 /48; 0: no limit */
	unsigned request_ms; /* a whole request within this; 0: no deadline */
	/* End the connection on fd (shutdown(2) in the service). Called under the lock. */
	void (*shed)(int fd, void *arg);
	void *arg;
};

enum conn_state {
	CONN_FREE,
	CONN_WAIT, /* waiting for a whole request: in the wait list, under the deadline */
	CONN_BUSY, /* its request arrived: being answered */
	CONN_SHED, /* refused or shed: counts no more, waits for its close */
};

/* A network a connection counts against: kind 4 (IPv4 /32), 64 or 48 (IPv6), and its bytes. */
struct conn_net {
	uint8_t kind; /* 0: none */
	uint8_t bytes[8];
};

struct conn_slot {
	int fd;
	enum conn_state state;
	int64_t since_ms; /* CONN_WAIT: accepted, or its previous response ended */
	struct conn_net net[2];
	struct conn_slot *prev, *next; /* the wait list (oldest first), or the free list */
};

struct conn_count {
	struct conn_net net;
	uint32_t n; /* 0: empty entry */
};

struct connlimit_stats {
	uint64_t refused_net;   /* a network above its limit */
	uint64_t refused_full;  /* the table full of connections being answered */
	uint64_t shed_full;     /* shed for room */
	uint64_t shed_deadline; /* no whole request in time */
};

struct connlimit {
	pthread_mutex_t lock;
	struct connlimit_config cfg;
	struct conn_slot *slots;
	size_t n_slots;
	struct conn_slot *free_list;
	struct conn_slot *wait_head, *wait_tail;
	size_t live; /* CONN_WAIT + CONN_BUSY */
	struct conn_count *counts;
	size_t n_counts; /* power of two, at least twice the networks that can be counted */
	uint8_t key[16]; /* per-process hash key: colliding networks cannot be chosen */
	struct connlimit_stats stats;
};

/*
 * Slots for limit connections plus room for those shed but not closed yet: the HTTP
 * library's own connection limit, so that it never refuses before this table decides.
 */
size_t connlimit_capacity(unsigned limit);

/* Returns 0 or -ENOMEM / -ERR_RANGE (limit 0). */
int connlimit_init(struct connlimit *cl, const struct connlimit_config *cfg);
void connlimit_free(struct connlimit *cl);

/*
 * A cheap refusal before a connection is set up: false (counted in refused_net) if a's network
 * is at its limit.
 * connlimit_open decides for good.
 */
bool connlimit_may_accept(struct connlimit *cl, const struct addr *a);

/*
 * Register the connection on fd from a (IPv4-mapped addresses count as IPv4). Returns its slot,
 * CONN_WAIT when admitted, CONN_SHED when refused (shed(fd) was called); NULL if every slot is
 * taken (the caller ends fd itself). Admitting into a full table sheds the oldest waiting
 * connection first.
 */
struct conn_slot *connlimit_open(struct connlimit *cl, const struct addr *a, int fd,
                                 int64_t now_ms);

/* Its request arrived whole: no deadline until its response ends. */
void connlimit_busy(struct connlimit *cl, struct conn_slot *s);

/* Its response ended: it waits for the next request, under a new deadline from now. */
void connlimit_idle(struct connlimit *cl, struct conn_slot *s, int64_t now_ms);

/* The connection is gone: its slot is free again. */
void connlimit_close(struct connlimit *cl, struct conn_slot *s);

/*
 * Shed every connection whose request did not arrive whole in time. Returns the milliseconds
 * until the next deadline (request_ms when none waits; -1 without a deadline).
 */
int64_t connlimit_reap(struct connlimit *cl, int64_t now_ms);

/* Live connections counted against a's /32 or /64 (and its /48 in *n48, may be NULL). */
unsigned connlimit_count(struct connlimit *cl, const struct addr *a, unsigned *n48);

struct connlimit_stats connlimit_stats(struct connlimit *cl);
size_t connlimit_live(struct connlimit *cl);

#endif
