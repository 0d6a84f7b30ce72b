/* SPDX-License-Identifier: MIT */
/*
 * The prober's sandbox (docs/internals/PRIVSEP.md, "The sandbox"): entered once, after fork, by
 * a process that will from then on only probe: its descriptors closed, its privileges dropped,
 * an empty filesystem view and a seccomp filter that kills it on any call probing does not need.
 */
#ifndef EXPOSURE_PROBER_SANDBOX_H
#define EXPOSURE_PROBER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* What sandbox_enter managed; each false field is said in the log line, never silently. */
struct sandbox_report {
	bool fds_closed;    /* every descriptor but 0, 1, 2 and the kept one closed */
	bool privs_dropped; /* was root: now the dedicated user or nobody, no groups */
	bool empty_fs; /* chrooted into an empty read-only tmpfs of a private mount namespace */
	bool seccomp;  /* the filter is installed (always true when sandbox_enter returns 0) */
	char user[32]; /* the user dropped to, "" when not root */
};

/* The user a root-started prober becomes, when it exists; else "nobody". */
#define SANDBOX_USER "exposure"

/*
 * Enter the sandbox, keeping descriptor keep (the socketpair; moved to 3, the new number is
 * returned) and 0, 1 (/dev/null) and 2 (the service's log). Only what libuv, the engine and
 * the probes call is allowed afterwards: sockets of AF_INET, AF_INET6 and AF_NETLINK, connect,
 * the event loop, reads and writes, socket options, clocks, memory, signals to itself, exit.
 * Opening a file, execve, fork or clone, ptrace, a UNIX socket: the process is killed
 * (SIGSYS). Returns the kept descriptor, or -errno with a line in err (the caller must then exit:
 * a half-entered sandbox is not a sandbox).
 */
int sandbox_enter(int keep, struct sandbox_report *rep, char *err, size_t errlen);

/* sandbox_enter in two steps, for a caller that opens what it needs (its event loop) in
 * between: the descriptors first, then the rest. */
int sandbox_fds(int keep, char *err, size_t errlen);
int sandbox_lock(struct sandbox_report *rep, char *err, size_t errlen);

/* One line saying what rep holds ("sandbox: user nobody, empty filesystem, seccomp"). */
void sandbox_describe(const struct sandbox_report *rep, char *buf, size_t size);

#endif
