/* SPDX-License-Identifier: MIT */
/* The target policy: which addresses exposure may ever probe. The product's safety default. */
#ifndef EXPOSURE_CORE_POLICY_H
#define EXPOSURE_CORE_POLICY_H

#include "core/addr.h"
#include "core/special.h"

#define POLICY_MAX_ALLOW 64

/*
 * Loopback is allowed by default; everything else must be inside an operator's --allow block.
 * Unspecified, this-network, multicast, broadcast and reserved addresses (the classes of
 * special_never_probed, read from the one table of core/special.c) are refused even when an
 * allow block covers them: no operator setting makes probing them meaningful or safe.
 */
struct policy {
	struct cidr allow[POLICY_MAX_ALLOW];
	size_t n_allow;
	bool
	    deny_loopback; /* the web service's --public mode: requesters on loopback are refused */
};

enum policy_rule {
	POLICY_ALLOWED_LOOPBACK,  /* allowed: loopback (default rule) */
	POLICY_ALLOWED_BY_BLOCK,  /* allowed: inside an --allow block */
	POLICY_DENIED_ALWAYS,     /* refused: a class no setting allows (multicast...) */
	POLICY_DENIED_LOOPBACK,   /* refused: loopback in a mode that forbids it */
	POLICY_DENIED_NOT_ALLOWED /* refused: not loopback and in no --allow block */
};

struct policy_decision {
	bool allowed;
	enum policy_rule rule;
	enum addr_class cls;
	const struct special_block *special; /* the special-purpose block holding it, or NULL */
	int block; /* index into allow[] for POLICY_ALLOWED_BY_BLOCK, else -1 */
};

/* An empty policy: loopback only. */
void policy_init(struct policy *p);

/* Add an allowed block. Returns 0, or -ERR_RANGE when POLICY_MAX_ALLOW blocks are present. */
int policy_allow(struct policy *p, const struct cidr *c);

/* Decide for one address. Never fails; d is always filled. Returns d->allowed. */
bool policy_check(const struct policy *p, const struct addr *a, struct policy_decision *d);

/*
 * One line naming the rule that refused (or allowed) a, e.g.
 * "198.18.0.1 refused: not loopback and not inside any --allow block (the default allows only
 * loopback)". Returns the length written, truncated to size.
 */
int policy_explain(const struct policy *p, const struct addr *a, const struct policy_decision *d,
                   char *buf, size_t size);

#endif
