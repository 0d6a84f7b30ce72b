/* SPDX-License-Identifier: MIT */
/*
 * What the kernel knows of the link-layer next hop towards an address (rtnetlink).
 *
 * Why the engine asks: a SYN to a host on our own link waits in the kernel's neighbour queue
 * until ARP / neighbour discovery has resolved that host. If the first ARP reply is lost the
 * kernel asks again only after a second (net.ipv4.neigh.*.retrans_time_ms), so the SYNs leave
 * late, and a verdict "filtered / timeout" taken on the clock alone would call an open port
 * filtered: a false "safe". Knowing that the next hop is still being resolved, or was resolved
 * only a moment ago, lets the engine wait for the packets that really left.
 *
 * The questions are asked on the caller's libuv loop and never block it: one rtnetlink socket
 * (struct neigh_asker) watched by a uv_poll_t, each request with its own sequence number, each
 * reply matched to the question waiting for it. A question is two exchanges, `ip route get DST`
 * then `ip neigh get HOP dev IF`; one that gets no reply within NEIGH_REPLY_MS is answered
 * "unknown".
 */
#ifndef EXPOSURE_ENGINE_NEIGH_H
#define EXPOSURE_ENGINE_NEIGH_H

#include "core/addr.h"
#include "engine/elist.h"

#include <stdint.h>
#include <uv.h>

#define NEIGH_REPLY_MS 100 /* a request the kernel has not answered by then is dropped */

enum neigh_state {
	NEIGH_UNKNOWN = 0, /* no entry, no link layer (loopback, tunnels), or no answer */
	NEIGH_RESOLVING,   /* NUD_INCOMPLETE: packets wait in the kernel's queue */
	NEIGH_RESOLVED,    /* packets flow (REACHABLE, STALE, DELAY, PROBE, PERMANENT) */
	NEIGH_FAILED,      /* NUD_FAILED: the kernel gave up; connects see EHOSTUNREACH */
};

struct neigh_info {
	enum neigh_state state;
	unsigned age_ms;   /* since the entry last changed state (resolved: since it resolved) */
	uint64_t asked_ns; /* uv_hrtime() when the question was asked (its first request) */
	uint64_t seen_ns;  /* when the kernel was asked for the entry that age_ms is counted from */
};

struct neigh_asker;
struct neigh_query;

/*
 * The answer to a question, from the loop. status is 0, or a negative errno when the kernel could
 * not be asked or did not answer (-ETIMEDOUT, -EPROTO...); n->state is then NEIGH_UNKNOWN. A
 * route or entry that does not exist is status 0, NEIGH_UNKNOWN: nothing to wait for. The callee
 * may ask again with the same query.
 */
typedef void neigh_answer_cb(struct neigh_query *q, int status, const struct neigh_info *n);

/* One question; the caller embeds it (neigh_query_init() first) and keeps it while it is out. */
struct neigh_query {
	struct elist link; /* the asker's questions in flight, oldest request first */
	struct neigh_asker *a;
	neigh_answer_cb *cb;
	struct addr dst;
	struct addr hop;   /* the route's gateway, or dst on-link */
	int ifindex;       /* the route's outgoing interface */
	uint32_t seq;      /* of the request waiting for its reply */
	bool asking_neigh; /* the route is known; the neighbour request is out */
	uint64_t asked_ns; /* first request sent */
	uint64_t sent_ns;  /* current request sent */
};

void neigh_query_init(struct neigh_query *q);

/* True while q waits for its answer. */
bool neigh_query_pending(const struct neigh_query *q);

/* An rtnetlink socket, non-blocking and connected to the kernel (so that only the kernel's
 * messages reach it). Returns the fd or -errno. */
int neigh_socket_open(void);

/*
 * An asker on loop over fd (neigh_socket_open(), or a test's stand-in for the kernel), which it
 * owns from now on, even when this fails. Returns 0 or -ENOMEM.
 */
int neigh_asker_new(uv_loop_t *loop, int fd, struct neigh_asker **out);

/*
 * Ask for the neighbour entry of the next hop towards dst. Returns 0 (cb will be called once,
 * from the loop, never from inside this call) or a negative errno (-EAFNOSUPPORT, -EBUSY if q is
 * already out, the socket's error): then cb is never called.
 */
int neigh_ask(struct neigh_asker *a, struct neigh_query *q, const struct addr *dst,
              neigh_answer_cb *cb);

/* Withdraw q: its callback will not be called. A reply that comes later is ignored. */
void neigh_cancel(struct neigh_query *q);

/*
 * Close the socket. Questions still out are withdrawn without a callback. The memory goes once
 * the loop has run the close callbacks. Takes NULL.
 */
void neigh_asker_close(struct neigh_asker *a);

/* ------------------------------------------------------------------------------------------ */
/* Asked once and blocking, outside any loop: the sweep's link-layer send path (src/sweep/). */

#define NEIGH_LLADDR_MAX   32 /* MAX_ADDR_LEN of the kernel */
#define NEIGH_WAIT_STEP_MS 10

struct neigh_hop {
	struct addr hop; /* the route's gateway, or dst on-link */
	bool gateway;    /* the route has a gateway */
	int ifindex;     /* the route's outgoing interface */
	enum neigh_state state;
	uint8_t lladdr[NEIGH_LLADDR_MAX]; /* the hop's link-layer address when resolved */
	size_t lladdr_len;
};

/*
 * The next hop towards dst (`ip route get`, then `ip neigh get`), each reply waited for at most
 * NEIGH_REPLY_MS. If the hop is not resolved and wait_ms > 0, the kernel is asked to resolve it
 * (RTM_NEWNEIGH with NTF_USE, as `ip neigh replace ... use`: the ARP or neighbour solicitation
 * the kernel would send for our own first packet; needs CAP_NET_ADMIN, without it only an entry
 * already there is found) and the entry is read again every NEIGH_WAIT_STEP_MS for up to wait_ms.
 * Returns 0 with *out filled (out->state says whether lladdr is there), -ENOENT when there is no
 * unicast route (local, unreachable...), or another negative errno.
 */
int neigh_hop_get(const struct addr *dst, unsigned wait_ms, struct neigh_hop *out);

#endif
