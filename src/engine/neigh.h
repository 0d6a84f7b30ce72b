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
 */
#ifndef EXPOSURE_ENGINE_NEIGH_H
#define EXPOSURE_ENGINE_NEIGH_H

#include "core/addr.h"

enum neigh_state {
	NEIGH_UNKNOWN = 0, /* no entry, no link layer (loopback, tunnels), or no answer */
	NEIGH_RESOLVING,   /* NUD_INCOMPLETE: packets wait in the kernel's queue */
	NEIGH_RESOLVED,    /* packets flow (REACHABLE, STALE, DELAY, PROBE, PERMANENT) */
	NEIGH_FAILED,      /* NUD_FAILED: the kernel gave up; connects see EHOSTUNREACH */
};

struct neigh_info {
	enum neigh_state state;
	unsigned age_ms; /* since the entry last changed state (resolved: since it resolved) */
};

/*
 * Look up the next hop towards dst (the gateway of its route, or dst itself on-link) and that
 * hop's neighbour entry. Returns 0 and fills out (NEIGH_UNKNOWN when there is nothing to know),
 * or a negative errno if the kernel could not be asked. Blocks at most ~100 ms (local netlink).
 */
int neigh_lookup(const struct addr *dst, struct neigh_info *out);

#endif
