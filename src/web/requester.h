/* SPDX-License-Identifier: MIT */
/*
 * Who is asking, and may they be diagnosed: the requester is the TCP peer, or, only when the
 * peer is a trusted reverse proxy, the right-most address of the forwarding header that is not
 * itself a trusted proxy. The rules are pure functions; requester_identify applies them to an
 * HTTP connection and measures its round-trip time (TCP_INFO), from which the probe deadline
 * follows.
 */
#ifndef EXPOSURE_WEB_REQUESTER_H
#define EXPOSURE_WEB_REQUESTER_H

#include "core/addr.h"
#include "core/lang.h"
#include "core/policy.h"

#include <stdbool.h>
#include <stddef.h>

#define WEB_MAX_TRUSTED 16

enum proxy_header { PROXY_HDR_XFF = 0, PROXY_HDR_FORWARDED };

struct trust {
	struct cidr proxies[WEB_MAX_TRUSTED];
	size_t n;
	enum proxy_header header; /* which header the operator's proxy writes */
};

bool trust_contains(const struct trust *t, const struct addr *a);

/*
 * Resolve the requester. peer is the TCP peer of the HTTP connection; header is the value of
 * the configured forwarding header (all occurrences joined by ", "), or NULL if absent.
 * When the peer is not trusted, header is ignored and *out = *peer. When it is, the header's
 * elements are read from the right, skipping trusted proxies; the first other one is the
 * requester (if every element is trusted, the left-most one; if the header is absent, the
 * peer). *via_proxy says whether the header was used. Returns 0, or -ERR_SYNTAX when the
 * element that would be the requester is not an address ("unknown", obfuscated, garbage) or
 * has anything but a port after it ("[2600::1]junk", "1.2.3.4:80x").
 */
int requester_resolve(const struct trust *t, const struct addr *peer, const char *header,
                      struct addr *out, bool *via_proxy);

/*
 * One occurrence of the forwarding header, as received (len bytes): -ERR_SYNTAX when it holds a
 * NUL or another control byte (RFC 9110 §5.5 allows only HTAB), which would cut or disguise the
 * hop list; 0 otherwise. requester_identify answers such a request as malformed (400).
 */
int forwarding_value_check(const char *value, size_t len);

/* Which requesters the service may diagnose. */
struct target_rules {
	bool public_mode;                    /* --public */
	struct cidr allow[POLICY_MAX_ALLOW]; /* operator --allow blocks */
	size_t n_allow;
};

/* Why a requester may not be diagnosed, in plain words. */
struct target_decision {
	bool allowed;
	enum addr_class cls;
	const char *code; /* "ok", "loopback", "private", "cgnat", "link-local", "special",
	                     "not-local", "policy" */
	const char *why_en;
	const char *why_ja;
};

/*
 * Decide for requester a. Local mode: loopback and --allow blocks. Public mode: any global
 * unicast address and --allow blocks; every special-purpose block (core/special.h) is refused
 * with its reason.
 * The result has also passed the core policy (policy.h). Returns d->allowed.
 */
bool target_decide(const struct target_rules *r, const struct addr *a, struct target_decision *d);

/* "/24" for IPv4, "/64" for IPv6: the block a rate limit per prefix counts together. */
void addr_rate_prefix(const struct addr *a, struct addr *out);

/*
 * The language of a request from its Accept-Language header (NULL: absent): lang_choose's
 * choice, English when the header is absent, malformed or accepts no language we speak.
 */
enum lang request_lang(const char *accept_language);

/* The probe deadline from the requester's round-trip time (--rtt-* options). */
struct rtt_deadline {
	unsigned factor, margin_ms, floor_ms, ceiling_ms;
};

/* One HTTP request's requester. */
struct requester {
	struct addr peer;       /* the TCP peer */
	struct addr addr;       /* the requester: the peer or, behind a trusted proxy, its client */
	bool via_proxy;         /* addr came from the forwarding header */
	char text[ADDR_STRLEN]; /* addr as text */
	struct target_decision d;
	double rtt_ms; /* smoothed RTT of the HTTP connection (TCP_INFO); -1 unknown */
};

struct MHD_Connection;

/*
 * Identify the requester of an HTTP connection: its peer, the forwarding header when the peer
 * is in t (every occurrence joined), the decision under rules, the connection's RTT. Returns 0,
 * -ERR_SYNTAX (bad, too long or control bytes in the forwarding header) or -ERR_UNSUPPORTED
 * (no peer address).
 */
int requester_identify(struct MHD_Connection *c, const struct trust *t,
                       const struct target_rules *rules, struct requester *out);

/*
 * Whether every occurrence of the forwarding header arrived whole, for a request from a trusted
 * proxy (0 for any other peer): -ERR_SYNTAX when a NUL byte inside its line made libmicrohttpd
 * (before 0.9.76, which measures values with strlen) cut the value short, hiding the hops after
 * it. method is the access handler's method argument, where the request head begins. The
 * caller answers -ERR_SYNTAX as a malformed forwarding header (400) before anything else.
 */
int requester_head_check(struct MHD_Connection *c, const struct trust *t, const char *method);

/*
 * The per-attempt probe timeout for r: factor * rtt + margin within [floor, ceiling] when the
 * HTTP connection is the requester's own; 0 (the engine adapts) behind a proxy, whose RTT is
 * not the requester's, or when the RTT is unknown.
 */
unsigned requester_probe_timeout(const struct requester *r, const struct rtt_deadline *p);

#endif
