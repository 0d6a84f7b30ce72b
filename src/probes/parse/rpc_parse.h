/* SPDX-License-Identifier: MIT */
/*
 * Pure ONC RPC parsers and builders for the NFS probe (docs/internals/PROBES.md, "NFS"): the
 * record marking of RPC over TCP and the call and reply headers (RFC 5531 §9, §11), the
 * portmapper's DUMP result (RFC 1833 §3, version 2 mappings) and the mount protocol's EXPORT
 * result (RFC 1813 appendix I, the same list in versions 1 to 3). XDR: big-endian 4-byte units,
 * strings and opaques as a length then the bytes padded to 4. Conventions of parse.h; the
 * builder writes into the caller's buffer and never allocates.
 */
#ifndef EXPOSURE_PROBES_PARSE_RPC_PARSE_H
#define EXPOSURE_PROBES_PARSE_RPC_PARSE_H

#include "probes/parse/parse.h"

#define RPC_PROG_PORTMAP      100000u
#define RPC_PROG_NFS          100003u
#define RPC_PROG_MOUNT        100005u
#define RPC_PMAP_PROC_DUMP    4u
#define RPC_MOUNT_PROC_EXPORT 5u
#define RPC_IPPROTO_TCP       6u

/* A reply record is reassembled up to this size (a longer export list is cut, and says so). */
#define RPC_RECORD_MAX (64 * 1024)

/* The 4-byte record mark before each fragment (RFC 5531 §11). */
struct rpc_fragment {
	bool last;
	uint32_t len;
};

/* Returns 4 (the mark) with *out, PARSE_AGAIN, or -ERR_TOOBIG for a fragment above max. */
int rpc_parse_fragment(const uint8_t *buf, size_t len, uint32_t max, struct rpc_fragment *out);

enum rpc_reply_kind {
	RPC_ACCEPTED = 1, /* accept_stat in .stat: 0 SUCCESS, 1 PROG_UNAVAIL, 2 PROG_MISMATCH ... */
	RPC_DENIED,       /* reject_stat in .stat: 0 RPC_MISMATCH, 1 AUTH_ERROR (auth in .auth) */
};

struct rpc_reply {
	uint32_t xid;
	enum rpc_reply_kind kind;
	uint32_t stat;      /* accept_stat or reject_stat */
	uint32_t low, high; /* PROG_MISMATCH / RPC_MISMATCH: versions supported */
	uint32_t auth;      /* AUTH_ERROR: the auth_stat */
	size_t body;        /* SUCCESS: where the procedure's result starts */
};

/*
 * A whole reply record (fragments already joined). Returns the bytes of the header consumed
 * (> 0), or -ERR_PROTO when it is not a reply (a call, another message type, a bad verifier),
 * -ERR_SYNTAX when it is cut short. (A record is complete: there is no PARSE_AGAIN here.)
 */
int rpc_parse_reply(const uint8_t *rec, size_t len, struct rpc_reply *out);

/* One portmapper mapping (RFC 1833 §3). */
struct rpc_mapping {
	uint32_t prog, vers, prot, port;
};

#define RPC_MAPPINGS_MAX 64

struct rpc_pmap_list {
	struct rpc_mapping map[RPC_MAPPINGS_MAX];
	unsigned n;     /* kept */
	unsigned total; /* in the list */
};

/* The DUMP result at rec[off..len): returns 0 or -ERR_SYNTAX (cut or not a list). */
int rpc_parse_pmap_dump(const uint8_t *rec, size_t len, size_t off, struct rpc_pmap_list *out);

#define RPC_EXPORTS_MAX   32
#define RPC_DIR_MAX       128
#define RPC_GROUPS_TEXT   128
#define RPC_DIRPATH_LIMIT 1024 /* MNTPATHLEN */
#define RPC_NAME_LIMIT    255  /* MNTNAMLEN */

/*
 * Who a client name of an export admits (PROBES.md, "NFS", with the sources), in increasing
 * order; an export's reach is its broadest name's (no name at all: RPC_REACH_ALL).
 */
enum rpc_reach {
	RPC_REACH_LISTED = 0, /* the hosts, networks or patterns named */
	RPC_REACH_UNSEEN,     /* a netgroup "@name": its members are not shown; it may hold all */
	RPC_REACH_ALL_LIKELY, /* a prefix of length 0 ("0.0.0.0/0", "::/0", "::0/0", "a.b.c.d/0")
	                       * or a pattern of '*' only ("**"): everyone as documented, but not
	                       * in every implementation (nfs-utils reads a /0 prefix as /32) */
	RPC_REACH_ALL,        /* "*", a zero mask spelled out ("/0.0.0.0", "/::"), "everyone" */
};

struct rpc_export {
	char dir[RPC_DIR_MAX];        /* escaped, cut */
	char groups[RPC_GROUPS_TEXT]; /* the clients allowed, joined by ' ', escaped, cut */
	unsigned n_groups;
	enum rpc_reach reach;
	bool world; /* reach >= RPC_REACH_ALL_LIKELY: open to every client */
};

struct rpc_exports {
	struct rpc_export ex[RPC_EXPORTS_MAX];
	unsigned n;          /* kept */
	unsigned total;      /* in the list */
	unsigned world;      /* exports to everyone (world), over the whole list */
	unsigned world_sure; /* of them, RPC_REACH_ALL */
	unsigned unseen;     /* exports whose broadest name is a netgroup */
	bool truncated;      /* a name was cut */
};

/* The EXPORT result at rec[off..len): returns 0, or -ERR_SYNTAX (cut, or a string longer than
 * the protocol allows). */
int rpc_parse_exports(const uint8_t *rec, size_t len, size_t off, struct rpc_exports *out);

/* "portmapper", "nfs", "mountd" ... for a program number, or NULL. */
const char *rpc_program_name(uint32_t prog);

/*
 * A call record with AUTH_NULL credentials and verifier and no arguments (DUMP, EXPORT and NULL
 * take none), record mark included. Returns its length (44) or -ERR_TOOBIG.
 */
int rpc_build_call(uint8_t *buf, size_t cap, uint32_t xid, uint32_t prog, uint32_t vers,
                   uint32_t proc);

#endif
