/* SPDX-License-Identifier: MIT */
/*
 * The probe engine: the only place that does probe I/O. On a libuv loop it connects to many
 * (address, port) pairs at once under a global and a per-target cap, classifies each port
 * (open / closed / filtered) from the connect result and the ICMP error queue, adapts its
 * deadlines to each target's round-trip times (nmap's estimator, PROTOCOLS.md §1.4), and then,
 * on an open port, drives the probe state machine (probe.h) with byte caps and deadlines.
 * See docs/internals/ENGINE.md.
 */
#ifndef EXPOSURE_ENGINE_ENGINE_H
#define EXPOSURE_ENGINE_ENGINE_H

#include "core/addr.h"
#include "probes/probe.h"

#include <stdint.h>
#include <uv.h>

/*
 * PORT_OPEN_FILTERED: a UDP port that sent nothing back, neither an answer nor an ICMP error
 * after every retransmission (nmap's open|filtered): it may be open and silent, or filtered;
 * never reported as closed, never as safe.
 */
enum port_state {
	PORT_OPEN = 0,
	PORT_CLOSED,
	PORT_FILTERED,
	PORT_ERROR,
	PORT_OPEN_FILTERED,
	PORT_X_MAX
};

enum port_reason {
	REASON_SYN_ACK = 0,  /* connected */
	REASON_RESET,        /* a TCP reset (ECONNREFUSED with no ICMP in the error queue) */
	REASON_TIMEOUT,      /* no answer after every attempt */
	REASON_UNREACHABLE,  /* an ICMP error (icmp_type/icmp_code say which) or a local refusal */
	REASON_LOCAL_ERROR,  /* our side failed (EMFILE, EADDRNOTAVAIL...): PORT_ERROR */
	REASON_PROBER_LOST,  /* the prober doing the job died or stopped answering: PORT_ERROR */
	REASON_UDP_RESPONSE, /* a UDP datagram came back from the port: PORT_OPEN */
	REASON_X_MAX
};

struct port_result {
	enum port_state state;
	enum port_reason reason;
	int icmp_type;  /* -1 if no ICMP error was seen; else type (ICMPv4 or ICMPv6) */
	int icmp_code;  /* -1 or the code */
	int sys_errno;  /* the errno behind the verdict, 0 for open */
	double rtt_ms;  /* time from the answered attempt's connect() to its answer; -1 if none */
	unsigned tries; /* connect attempts made (UDP: datagrams of the first request sent) */
};

struct engine_opts {
	unsigned max_inflight;       /* sockets open at once, all targets (default 512) */
	unsigned per_target;         /* sockets open at once per target (default 64) */
	unsigned fixed_timeout_ms;   /* if non-zero: per-attempt timeout, no adaptation */
	unsigned initial_timeout_ms; /* when nothing is known of a target (default 1000) */
	unsigned min_timeout_ms;     /* floor of the adaptive timeout (default 100) */
	unsigned max_timeout_ms;     /* ceiling (default 10000) */
	unsigned max_retries;        /* ceiling on retransmissions with evidence of loss (6) */
};

struct engine;
struct engine_target;

/* Called once per submitted job, from the loop. res is NULL when no probe ran. The callee
 * may take the probe result's details (set res->details = NULL) before it is released. */
typedef void engine_done_cb(void *ud, const struct port_result *pr, struct probe_result *res);

/* Fill o with the defaults above. */
void engine_opts_default(struct engine_opts *o);

/* Create an engine on loop. Returns NULL on out of memory. */
struct engine *engine_new(uv_loop_t *loop, const struct engine_opts *o);

/*
 * Free the engine. Only after every job has completed (the loop has run to the end), or the
 * loop will be left with dangling handles. Takes NULL.
 */
void engine_free(struct engine *e);

/*
 * A target: one address whose round-trip-time estimate and per-target cap are shared by its
 * jobs. The caller must already have checked the address against the policy. Owned by the
 * engine; freed with it. NULL on out of memory.
 */
struct engine_target *engine_target_new(struct engine *e, const struct addr *a);

/* Fix this target's per-attempt timeout (e.g. from the requester's TCP_INFO rtt); 0 = adapt. */
void engine_target_set_timeout(struct engine_target *t, unsigned timeout_ms);

/*
 * Queue one port of a target. probe may be NULL (port state only); a datagram probe
 * (probe->datagram) makes it a UDP job (ENGINE.md "UDP"). cb is called exactly once,
 * from the loop, never from inside this call. Returns 0, or a negative error (then cb is never
 * called).
 */
int engine_submit(struct engine *e, struct engine_target *t, uint16_t port,
                  const struct probe_ops *probe, engine_done_cb *cb, void *ud);

/*
 * A front's engine probes nothing itself: engine_submit hands each job to submit (prober/pool.h),
 * which calls cb exactly once from the loop like the engine does. slot is the target's own
 * pointer for submit to remember which prober serves it (NULL at first).
 */
struct engine_remote {
	int (*submit)(void *ctx, void **slot, const struct addr *a, unsigned fixed_ms,
	              uint16_t port, const struct probe_ops *probe, engine_done_cb *cb, void *ud);
	void *ctx;
};

/* Send every job of e to r from now on (NULL: probe in this process again). */
void engine_set_remote(struct engine *e, const struct engine_remote *r);

/* Jobs submitted and not yet completed. */
size_t engine_pending(const struct engine *e);

/* "open", "closed", "filtered", "error", "open|filtered" */
const char *port_state_name(enum port_state s);
/* "syn-ack", "reset", "timeout", ..., "udp-response" */
const char *port_reason_name(enum port_reason r);

#endif
