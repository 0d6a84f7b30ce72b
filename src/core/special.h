/* SPDX-License-Identifier: MIT */
/*
 * The special-purpose address blocks: the IANA IPv4 and IPv6 Special-Purpose Address Registries
 * (RFC 6890 and its successors), plus the few blocks the address architecture sets aside outside
 * them (multicast, site-local, IPv4-compatible, IPv4-translated). ONE table: addr_classify, the
 * target policy (policy.c) and the web service's --public visitor rules (web/requester.c) all
 * read it. docs/internals/ADDRESSES.md says how to refresh it from the registries.
 */
#ifndef EXPOSURE_CORE_SPECIAL_H
#define EXPOSURE_CORE_SPECIAL_H

#include "core/addr.h"

#include <stdbool.h>
#include <stddef.h>

/* A registry column's answer: "True", "False" or "N/A" (or a block outside the registry). */
enum special_answer { SPECIAL_FALSE = 0, SPECIAL_TRUE, SPECIAL_NA };

/*
 * Why a visitor from a block is not diagnosed, in plain words: code is the API's "reason"
 * ("loopback", "private", "cgnat", "link-local" or "special"), en and ja the message.
 */
struct special_reason {
	const char *code;
	const char *en;
	const char *ja;
};

struct special_block {
	const char *cidr; /* as the registry writes it: "192.0.0.0/24", "2001::/23" */
	const char *name; /* the registry's name: "IETF Protocol Assignments" */
	const char *rfc;  /* the source: "RFC 6890" */
	bool registry; /* listed in the IANA special-purpose registry (else the answers are N/A) */
	enum special_answer forwardable; /* may a router forward it between interfaces */
	enum special_answer global;      /* is it globally reachable */
	enum addr_class cls;
	const struct special_reason *reason; /* shown to a --public visitor from the block */
};

/* The table, in the registries' order (IPv4, then IPv6, then the blocks outside them). */
const struct special_block *special_table(size_t *n);

/* The most specific block holding a (longest prefix), or NULL for an ordinary address. */
const struct special_block *special_lookup(const struct addr *a);

/* The entry's block as a struct cidr (no IPv4-mapped unmapping). 0 or -ERR_SYNTAX (a bug). */
int special_cidr(const struct special_block *b, struct cidr *out);

/*
 * True for the classes no setting makes worth probing: unspecified, this-network, multicast,
 * broadcast and reserved (identifiers, discard-only, protocol assignments, future use).
 */
bool special_never_probed(enum addr_class cls);

/* "yes", "no", "n/a". */
const char *special_answer_name(enum special_answer a);

#endif
