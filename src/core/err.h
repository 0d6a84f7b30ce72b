/* SPDX-License-Identifier: MIT */
/* Error codes shared by every layer: negative errno for system failures, negative ERR_* for ours.
 */
#ifndef EXPOSURE_CORE_ERR_H
#define EXPOSURE_CORE_ERR_H

/*
 * Every fallible function returns an int: >= 0 on success, -errno for a system failure, or -ERR_*
 * for a project-defined failure. ERR_* start at ERR_BASE so they never collide with errno.
 * Outcomes of a probe (open, closed, filtered...) are results, not errors: see engine.h.
 */
#define ERR_MAP(X)                                                                                 \
	X(AGAIN, "incomplete input")                                                               \
	X(PROTO, "peer violated the protocol")                                                     \
	X(TOOBIG, "peer data exceeds limit")                                                       \
	X(UNSUPPORTED, "peer chose an unsupported option")                                         \
	X(SYNTAX, "malformed input")                                                               \
	X(RANGE, "value out of range")                                                             \
	X(POLICY, "refused by the target policy")                                                  \
	X(RESOLVE, "name does not resolve")                                                        \
	X(NOMEM, "out of memory")                                                                  \
	X(INTERNAL, "internal error")

enum {
	ERR_BASE = 4096,
#define ERR_ENUM(name, text) ERR_##name,
	ERR_MAP(ERR_ENUM)
#undef ERR_ENUM
	    ERR_X_MAX
};

/* "ERR_PROTO" or "ECONNREFUSED"; never NULL, static storage. */
const char *err_name(int r);

/* Human text for r (negative); thread-safe, static storage. */
const char *err_str(int r);

#endif
