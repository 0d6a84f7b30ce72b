/* SPDX-License-Identifier: MIT */
/*
 * NFS probe (docs/internals/PROBES.md, "NFS"; RFC 5531, RFC 1833, RFC 1813 appendix I): what
 * `showmount -e` asks, over TCP. One probe for both ports of the check, which does not need to
 * know which one it is on:
 * 1. on the probed port, a portmapper DUMP call (program 100000 version 2 procedure 4). The
 *    portmapper (111) answers with its mappings; an NFS server (2049) answers that it is not
 *    the portmapper (PROG_UNAVAIL), and the probe then asks the portmapper on 111 itself;
 * 2. from the mappings, the mount service over TCP (100005, version 3, else 2 or 1), and on its
 *    port (probe_tx.next_port) one EXPORT call (procedure 5): the export list with the clients
 *    each export allows. An export with no client restriction or to "*" is nfs-export-world.
 * Nothing is mounted and no file handle is asked for.
 */
#include "probes/probe.h"
#include "probes/parse/rpc_parse.h"

#include <stdio.h>
#include <string.h>

#define PORTMAP_PORT 111
#define XID_BASE     0x4e465330u /* "NFS0": DUMP; "NFS1": EXPORT */
#define Q_WORLD      "nfs-export-world"

enum nfs_role { ROLE_FIRST = 0, ROLE_PORTMAP, ROLE_MOUNT };

struct nfs_state {
	enum nfs_role role, roles[3];
	unsigned conn;
	bool finished, any_bytes, rpc, have_mark, frag_last, rec_cut;
	uint32_t frag_left;
	size_t rec_len;
	uint8_t rec[RPC_RECORD_MAX];
	bool have_list, have_exports;
	uint16_t mount_port;
	uint32_t mount_vers;
	const char *reply_first; /* what the probed port said when it was not the portmapper */
	struct rpc_pmap_list pm;
	struct rpc_exports ex;
};

static int nfs_start(void *state, unsigned conn, struct probe_tx *tx, struct probe_result *out)
{
	struct nfs_state *s = state;
	uint8_t call[64];
	int n;

	(void)out;
	s->conn = conn;
	s->role = conn < 3 ? s->roles[conn] : ROLE_FIRST;
	s->have_mark = false;
	s->rec_len = 0;
	s->frag_left = 0;
	s->frag_last = false;
	if (s->role == ROLE_MOUNT)
		n = rpc_build_call(call, sizeof(call), XID_BASE + 1, RPC_PROG_MOUNT, s->mount_vers,
		                   RPC_MOUNT_PROC_EXPORT);
	else
		n = rpc_build_call(call, sizeof(call), XID_BASE, RPC_PROG_PORTMAP, 2,
		                   RPC_PMAP_PROC_DUMP);
	if (n < 0 || probe_tx_put(tx, call, (size_t)n) < 0)
		return -ERR_TOOBIG;
	return PROBE_MORE;
}

static void put_programs(const struct nfs_state *s, struct probe_result *out)
{
	json_t *progs = json_array();

	for (unsigned i = 0; i < s->pm.n; i++) {
		const struct rpc_mapping *m = &s->pm.map[i];
		const char *name = rpc_program_name(m->prog);
		char line[96];

		snprintf(line, sizeof(line), "%s%s%u v%u %s %u", name ? name : "", name ? " " : "",
		         m->prog, m->vers,
		         m->prot == 6    ? "tcp"
		         : m->prot == 17 ? "udp"
		                         : "proto",
		         m->port);
		json_array_append_new(progs, json_string(line));
	}
	probe_detail_set(out, "programs", progs);
	probe_detail_set(out, "programs_listed", json_integer(s->pm.total));
}

static void put_exports(const struct nfs_state *s, struct probe_result *out)
{
	json_t *list = json_array();

	for (unsigned i = 0; i < s->ex.n; i++)
		json_array_append_new(list,
		                      json_pack("{s:s,s:s,s:b}", "dir", s->ex.ex[i].dir, "clients",
		                                s->ex.ex[i].groups, "world", s->ex.ex[i].world));
	probe_detail_set(out, "exports", list);
	probe_detail_set(out, "exports_listed", json_integer(s->ex.total));
}

/*
 * An export open to every client: confirmed when one admits everyone in every implementation
 * ("*", no client, a zero netmask spelled out), likely when the broadest is a prefix of length 0
 * or a '*'-only pattern (everyone as exports(5) has it, not as nfs-utils computes a /0 mask).
 */
static void world_finding(const struct nfs_state *s, struct probe_result *out)
{
	enum rpc_reach want = s->ex.world_sure > 0 ? RPC_REACH_ALL : RPC_REACH_ALL_LIKELY;
	char reason[FINDING_REASON_MAX] = "";

	for (unsigned i = 0; i < s->ex.n && reason[0] == '\0'; i++)
		if (s->ex.ex[i].reach == want)
			snprintf(reason, sizeof(reason),
			         "%.64s is exported to every client (%.32s)%s", s->ex.ex[i].dir,
			         s->ex.ex[i].n_groups ? s->ex.ex[i].groups : "no restriction",
			         want == RPC_REACH_ALL ? "" : ", as exports(5) reads it");
	if (reason[0] == '\0')
		snprintf(reason, sizeof(reason), "an export is open to every client");
	probe_add_finding(out, Q_WORLD, SEVERITY_CRITICAL,
	                  want == RPC_REACH_ALL ? CONFIDENCE_CONFIRMED : CONFIDENCE_LIKELY, reason);
}

/* The end of the conversation: say what was learnt, and answer the question or say why not. */
static int finish(struct nfs_state *s, const char *undecided, struct probe_result *out)
{
	char reason[FINDING_REASON_MAX] = "";

	s->finished = true;
	if (!s->rpc)
		return PROBE_DONE;
	if (out->state != SERVICE_PROTOCOL_ERROR)
		out->state = SERVICE_IDENTIFIED;
	snprintf(out->service, sizeof(out->service), "nfs");
	if (s->reply_first)
		probe_detail_set(out, "probed_port_reply", json_string(s->reply_first));
	if (s->have_list)
		put_programs(s, out);
	if (s->mount_port) {
		probe_detail_set(out, "mount_port", json_integer(s->mount_port));
		probe_detail_set(out, "mount_version", json_integer(s->mount_vers));
	}
	if (s->have_exports)
		put_exports(s, out);
	if (s->have_exports && s->ex.world > 0) {
		world_finding(s, out);
	} else if (s->have_exports && s->ex.unseen > 0) {
		for (unsigned i = 0; i < s->ex.n && reason[0] == '\0'; i++)
			if (s->ex.ex[i].reach == RPC_REACH_UNSEEN)
				snprintf(reason, sizeof(reason),
				         "%.48s is exported to a netgroup (%.40s): its members are "
				         "not shown",
				         s->ex.ex[i].dir, s->ex.ex[i].groups);
		probe_undecided(out, Q_WORLD,
		                reason[0] ? reason : "an export is to a netgroup not shown");
	} else if (s->have_exports) {
		probe_answer(out, Q_WORLD, PROBE_ANSWER_NO);
	} else {
		probe_undecided(out, Q_WORLD, undecided ? undecided : "could not check");
	}
	return PROBE_DONE;
}

/* The mount service over TCP: version 3, else the highest of 1 and 2. */
static bool find_mount(struct nfs_state *s)
{
	for (unsigned i = 0; i < s->pm.n; i++) {
		const struct rpc_mapping *m = &s->pm.map[i];

		if (m->prog != RPC_PROG_MOUNT || m->prot != RPC_IPPROTO_TCP || m->port == 0 ||
		    m->port > 65535 || m->vers < 1 || m->vers > 3 || m->vers <= s->mount_vers)
			continue;
		s->mount_vers = m->vers;
		s->mount_port = (uint16_t)m->port;
	}
	return s->mount_port != 0;
}

static int next_conn(struct nfs_state *s, enum nfs_role role, uint16_t port, struct probe_tx *tx)
{
	if (s->conn + 1 >= 3)
		return -ERR_INTERNAL;
	s->roles[s->conn + 1] = role;
	tx->next_port = port;
	return PROBE_RECONNECT;
}

static int on_pmap_reply(struct nfs_state *s, const struct rpc_reply *r, struct probe_tx *tx,
                         struct probe_result *out)
{
	static const char *const accept_names[] = {"success",
	                                           "program unavailable",
	                                           "program version mismatch",
	                                           "procedure unavailable",
	                                           "garbage arguments",
	                                           "system error"};

	if (r->kind == RPC_DENIED)
		return finish(s, "could not check: the portmapper refused the call", out);
	if (r->stat != 0) {
		if (s->role == ROLE_PORTMAP)
			return finish(s,
			              "could not check: port 111 answers RPC but not as the "
			              "portmapper",
			              out);
		/* Not the portmapper (nfsd on 2049): ask the one on 111. */
		s->reply_first = r->stat < 6 ? accept_names[r->stat] : "rpc error";
		return next_conn(s, ROLE_PORTMAP, PORTMAP_PORT, tx);
	}
	if (rpc_parse_pmap_dump(s->rec, s->rec_len, r->body, &s->pm) < 0) {
		out->state = SERVICE_PROTOCOL_ERROR;
		return finish(s, "could not check: the portmapper's list is malformed", out);
	}
	s->have_list = true;
	if (!find_mount(s))
		return finish(
		    s,
		    "could not check: no mount service over TCP is registered (an NFSv4-only "
		    "server lists no exports)",
		    out);
	return next_conn(s, ROLE_MOUNT, s->mount_port, tx);
}

static int on_record(struct nfs_state *s, struct probe_tx *tx, struct probe_result *out)
{
	struct rpc_reply r;
	int n = rpc_parse_reply(s->rec, s->rec_len, &r);

	if (n < 0 || r.xid != XID_BASE + (s->role == ROLE_MOUNT)) {
		if (!s->rpc && s->role == ROLE_FIRST) {
			out->state = SERVICE_OTHER;
			s->finished = true;
			return PROBE_DONE;
		}
		out->state = SERVICE_PROTOCOL_ERROR;
		return finish(s, "could not check: a malformed RPC reply", out);
	}
	s->rpc = true;
	if (s->role != ROLE_MOUNT)
		return on_pmap_reply(s, &r, tx, out);
	if (r.kind != RPC_ACCEPTED || r.stat != 0)
		return finish(s, "could not check: the mount service refused the export list", out);
	if (s->rec_cut)
		return finish(s, "could not check: the export list is longer than 64 KiB", out);
	if (rpc_parse_exports(s->rec, s->rec_len, r.body, &s->ex) < 0) {
		out->state = SERVICE_PROTOCOL_ERROR;
		return finish(s, "could not check: the export list is malformed", out);
	}
	s->have_exports = true;
	return finish(s, NULL, out);
}

static int nfs_feed(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                    struct probe_tx *tx, struct probe_result *out)
{
	struct nfs_state *s = state;
	size_t off = 0;

	s->any_bytes |= len > 0;
	*consumed = 0;
	while (off < len) {
		if (!s->have_mark) {
			struct rpc_fragment f;
			int n = rpc_parse_fragment(buf + off, len - off, 0x7fffffffu, &f);

			if (n == PARSE_AGAIN)
				break;
			/* A record mark whose length field is text ("HTTP", "SSH-") is not RPC. */
			if (!s->rpc && s->role == ROLE_FIRST && s->rec_len == 0 &&
			    (f.len > RPC_RECORD_MAX || f.len < 12)) {
				int r = probe_other(out, buf, len);

				*consumed = r == PROBE_MORE ? 0 : len;
				s->finished = r != PROBE_MORE;
				return r;
			}
			s->have_mark = true;
			s->frag_last = f.last;
			s->frag_left = f.len;
			off += 4;
		}
		size_t take = len - off < s->frag_left ? len - off : s->frag_left;
		size_t room = RPC_RECORD_MAX - s->rec_len;

		memcpy(s->rec + s->rec_len, buf + off, take < room ? take : room);
		s->rec_len += take < room ? take : room;
		s->rec_cut |= take > room;
		off += take;
		s->frag_left -= (uint32_t)take;
		if (s->frag_left > 0)
			break;
		s->have_mark = false;
		if (s->frag_last) {
			*consumed = len;
			return on_record(s, tx, out);
		}
	}
	*consumed = off;
	return PROBE_MORE;
}

static int nfs_end(void *state, enum probe_end why, struct probe_result *out)
{
	struct nfs_state *s = state;
	char reason[FINDING_REASON_MAX];

	if (s->finished)
		return PROBE_DONE;
	if (s->role == ROLE_FIRST && !s->any_bytes) {
		out->state = probe_no_bytes_state(why);
		return PROBE_DONE;
	}
	probe_detail_set(out, "end", json_string(probe_end_name(why)));
	if (!s->rpc) {
		out->state = SERVICE_UNKNOWN;
		return PROBE_DONE;
	}
	if (s->role == ROLE_PORTMAP)
		snprintf(reason, sizeof(reason),
		         "could not check: the portmapper (111) did not answer (%s)",
		         probe_end_name(why));
	else if (s->role == ROLE_MOUNT)
		snprintf(reason, sizeof(reason),
		         "could not check: the mount service (port %u) did not answer (%s)",
		         s->mount_port, probe_end_name(why));
	else
		snprintf(reason, sizeof(reason), "could not check: %s", probe_end_name(why));
	return finish(s, reason, out);
}

const struct probe_ops probe_nfs = {
    .name = "nfs",
    .state_size = sizeof(struct nfs_state),
    .max_rx = 16384,
    .idle_ms = 3000,
    .total_ms = 10000,
    .max_conns = 3,
    .start = nfs_start,
    .feed = nfs_feed,
    .end = nfs_end,
};
