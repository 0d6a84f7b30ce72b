/* SPDX-License-Identifier: MIT */
/*
 * The storage probes (rsync, ...; docs/internals/PROBES.md) driven in memory with the bytes of
 * tests/data/<check>/ (real captures and hand-made hostile variants): each case fed whole, in
 * chunks of 1, 2, 7 and 64 bytes must give exactly the expected state, service, findings and
 * answer to the check's question; every connection cut at every byte offset (closed, reset,
 * idle, deadline) must end cleanly, with details that are printable ASCII only. Argument: the
 * tests/data folder.
 */
#include "drive.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

extern const struct probe_ops probe_rsync, probe_iscsi, probe_iscsi_discovery, probe_nfs,
    probe_nas_admin;

#define MAX_CONNS 6

static const char *data_dir = "tests/data";

struct tcase {
	const struct probe_ops *ops;
	const char *files[MAX_CONNS]; /* per connection, relative to data_dir; NULL = no bytes */
	enum service_state state;
	const char *service;
	const char *findings; /* "id[=confidence],..." exactly; "" = none */
	const char *question; /* optional: this question's answer must be ... */
	enum probe_answer answer;
	const char *key, *val; /* optional: details[key] (string) == val, or in it (array) */
	const char *tx_first;  /* optional: what the probe sends on the first connection */
	uint16_t ports[3];     /* optional: the port of connections 1 and 2 (0: the probed one) */
};

#define RS   "rsync/rsync-3.5.0+ds1-0+deb12u1-"
#define RSTX "@RSYNCD: 31.0\n\n"
#define TGT  "iscsi/tgt-1.0.85-1+deb12u1-"
#define ISQ  "iscsi-discovery-no-auth"
#define NFSX "nfs/nfs-kernel-server-2.6.2-4+deb12u1-"
#define RPCB "nfs/rpcbind-1.2.6-6+b1-dump.bin"
#define NFQ  "nfs-export-world"
/* the portmapper DUMP call, record mark included (RFC 1833 §3, RFC 5531 §9) */
#define DUMP_CALL                                                                                  \
	"\x80\x00\x00\x28NFS0\0\0\0\0\0\0\0\x02\0\x01\x86\xa0\0\0\0\x02\0\0\0\x04"                 \
	"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"

static const struct tcase cases[] = {
    /* real rsync 3.x daemon: open, priv (auth users), denied (hosts allow) */
    {&probe_rsync,
     {RS "list.bin", RS "open-ok.bin", RS "open-authreqd.bin", RS "open-denied.bin"},
     SERVICE_IDENTIFIED,
     "rsync",
     "rsync-modules-listed=confirmed,rsync-no-auth=confirmed",
     NULL,
     0,
     "modules",
     "priv",
     RSTX},
    /* every listed module asks for a password or refuses: the question is answered no */
    {&probe_rsync,
     {"rsync/emul-list-priv.bin", RS "open-authreqd.bin", RS "open-denied.bin"},
     SERVICE_IDENTIFIED,
     "rsync",
     "rsync-modules-listed=confirmed",
     "rsync-no-auth",
     PROBE_ANSWER_NO},
    /* a module busy ("max connections"), neither opened nor refused: undecided, never "no" */
    {&probe_rsync,
     {"rsync/emul-list-priv.bin", RS "open-authreqd.bin", "rsync/emul-open-busy.bin"},
     SERVICE_IDENTIFIED,
     "rsync",
     "rsync-modules-listed=confirmed",
     "rsync-no-auth",
     PROBE_ANSWER_UNDECIDED},
    /* a list that an @ERROR ends (not EXIT): the modules behind it unknown, undecided */
    {&probe_rsync,
     {"rsync/emul-list-error.bin", RS "open-authreqd.bin"},
     SERVICE_IDENTIFIED,
     "rsync",
     "rsync-modules-listed=confirmed",
     "rsync-no-auth",
     PROBE_ANSWER_UNDECIDED},
    /* no module listed (list = no): undecided, never "no" */
    {&probe_rsync,
     {"rsync/emul-list-empty.bin"},
     SERVICE_IDENTIFIED,
     "rsync",
     "",
     "rsync-no-auth",
     PROBE_ANSWER_UNDECIDED,
     "version",
     "32.0"},
    /* protocol 30 greeting without a minor; the module opened is refused */
    {&probe_rsync,
     {"rsync/emul-proto30.bin", RS "open-unknown.bin"},
     SERVICE_IDENTIFIED,
     "rsync",
     "rsync-modules-listed",
     "rsync-no-auth",
     PROBE_ANSWER_NO,
     "version",
     "30.0"},
    /* hostile names are listed (escaped) but never sent back */
    {&probe_rsync,
     {"rsync/emul-hostile.bin"},
     SERVICE_IDENTIFIED,
     "rsync",
     "rsync-modules-listed",
     "rsync-no-auth",
     PROBE_ANSWER_UNDECIDED},
    {&probe_rsync, {"rsync/emul-longline.bin"}, SERVICE_PROTOCOL_ERROR, "rsync", ""},
    {&probe_rsync, {"rsync/emul-nul.bin"}, SERVICE_PROTOCOL_ERROR, "rsync", ""},
    {&probe_rsync, {"rsync/emul-badversion.bin"}, SERVICE_PROTOCOL_ERROR, "rsync", ""},
    {&probe_rsync, {"rsync/emul-ssh.bin"}, SERVICE_OTHER, "ssh", ""},
    {&probe_rsync, {NULL}, SERVICE_SILENT, "", ""},
    /* iSCSI, reachability only (the default): nothing sent, the question says why */
    {&probe_iscsi,
     {NULL},
     SERVICE_UNKNOWN,
     "",
     "",
     ISQ,
     PROBE_ANSWER_UNDECIDED,
     "discovery",
     "off"},
    /* iSCSI discovery (opt-in) against Debian's tgt: two targets listed without credentials */
    {&probe_iscsi_discovery,
     {TGT "discovery.bin"},
     SERVICE_IDENTIFIED,
     "iscsi",
     ISQ "=confirmed",
     NULL,
     0,
     "targets",
     "iqn.2026-12.test.lab:vm-images"},
    /* tgt with a discovery account: authentication failure, the question answered no */
    {&probe_iscsi_discovery,
     {TGT "discovery-chap.bin"},
     SERVICE_IDENTIFIED,
     "iscsi",
     "",
     ISQ,
     PROBE_ANSWER_NO,
     "login_status",
     "authentication failure"},
    {&probe_iscsi_discovery,
     {"iscsi/emul-chap-chosen.bin"},
     SERVICE_IDENTIFIED,
     "iscsi",
     "",
     ISQ,
     PROBE_ANSWER_NO,
     "auth_method",
     "CHAP"},
    /* AuthMethod=None but the target stays in the security stage: not a refusal, undecided */
    {&probe_iscsi_discovery,
     {"iscsi/emul-none-stay.bin"},
     SERVICE_PROTOCOL_ERROR,
     "iscsi",
     "",
     ISQ,
     PROBE_ANSWER_UNDECIDED},
    {&probe_iscsi_discovery,
     {"iscsi/emul-authz-failure.bin"},
     SERVICE_IDENTIFIED,
     "iscsi",
     "",
     ISQ,
     PROBE_ANSWER_NO},
    {&probe_iscsi_discovery,
     {"iscsi/emul-redirect.bin"},
     SERVICE_PROTOCOL_ERROR,
     "iscsi",
     "",
     ISQ,
     PROBE_ANSWER_UNDECIDED},
    {&probe_iscsi_discovery,
     {"iscsi/emul-ffp-continue.bin"},
     SERVICE_IDENTIFIED,
     "iscsi",
     ISQ,
     NULL,
     0,
     "targets",
     "iqn.2026-12.test:a"},
    {&probe_iscsi_discovery,
     {"iscsi/emul-hostile-names.bin"},
     SERVICE_IDENTIFIED,
     "iscsi",
     ISQ,
     NULL,
     0,
     "targets",
     "?[31mevil?"},
    {&probe_iscsi_discovery,
     {"iscsi/emul-reject.bin"},
     SERVICE_PROTOCOL_ERROR,
     "iscsi",
     "",
     ISQ,
     PROBE_ANSWER_UNDECIDED},
    {&probe_iscsi_discovery, {"iscsi/emul-huge-dsl.bin"}, SERVICE_OTHER, "", ""},
    {&probe_iscsi_discovery, {"iscsi/emul-echo.bin"}, SERVICE_OTHER, "", ""},
    {&probe_iscsi_discovery, {"iscsi/emul-http.bin"}, SERVICE_OTHER, "http", ""},
    {&probe_iscsi_discovery, {NULL}, SERVICE_SILENT, "", ""},
    /* NFS on 111: Debian's rpcbind, then rpc.mountd's export list (one export to "*") */
    {&probe_nfs,
     {RPCB, NFSX "exports.bin"},
     SERVICE_IDENTIFIED,
     "nfs",
     NFQ "=confirmed",
     NULL,
     0,
     "programs",
     "mountd 100005 v3 tcp 52785",
     NULL,
     {0, 52785}},
    /* only restricted exports: the question is answered no */
    {&probe_nfs,
     {RPCB, NFSX "exports-restricted.bin"},
     SERVICE_IDENTIFIED,
     "nfs",
     "",
     NFQ,
     PROBE_ANSWER_NO},
    /* NFS on 2049: not the portmapper, so the portmapper on 111, then mountd */
    {&probe_nfs,
     {"nfs/emul-prog-unavail.bin", "nfs/emul-dump-2frags.bin", "nfs/emul-exports-noclients.bin"},
     SERVICE_IDENTIFIED,
     "nfs",
     NFQ,
     NULL,
     0,
     "probed_port_reply",
     "program unavailable",
     NULL,
     {0, 111, 20048}},
    /* 2049 answers, 111 does not: undecided with the reason */
    {&probe_nfs,
     {"nfs/emul-prog-unavail.bin"},
     SERVICE_IDENTIFIED,
     "nfs",
     "",
     NFQ,
     PROBE_ANSWER_UNDECIDED},
    {&probe_nfs,
     {"nfs/emul-dump-nomount.bin"},
     SERVICE_IDENTIFIED,
     "nfs",
     "",
     NFQ,
     PROBE_ANSWER_UNDECIDED,
     "programs",
     "nfs 100003 v4 tcp 2049",
     DUMP_CALL},
    {&probe_nfs,
     {"nfs/emul-denied.bin"},
     SERVICE_IDENTIFIED,
     "nfs",
     "",
     NFQ,
     PROBE_ANSWER_UNDECIDED},
    {&probe_nfs,
     {RPCB, "nfs/emul-exports-hostile.bin"},
     SERVICE_IDENTIFIED,
     "nfs",
     NFQ,
     NULL,
     0,
     NULL,
     NULL},
    {&probe_nfs,
     {RPCB, "nfs/emul-exports-overlong.bin"},
     SERVICE_PROTOCOL_ERROR,
     "nfs",
     "",
     NFQ,
     PROBE_ANSWER_UNDECIDED},
    {&probe_nfs,
     {RPCB, "nfs/emul-exports-cut.bin"},
     SERVICE_PROTOCOL_ERROR,
     "nfs",
     "",
     NFQ,
     PROBE_ANSWER_UNDECIDED},
    {&probe_nfs,
     {RPCB, "nfs/emul-bad-xid.bin"},
     SERVICE_PROTOCOL_ERROR,
     "nfs",
     "",
     NFQ,
     PROBE_ANSWER_UNDECIDED},
    {&probe_nfs, {"nfs/emul-huge-fragment.bin"}, SERVICE_OTHER, "", ""},
    {&probe_nfs, {"nfs/emul-call.bin"}, SERVICE_OTHER, "", ""},
    {&probe_nfs, {"nfs/emul-http.bin"}, SERVICE_OTHER, "http", ""},
    {&probe_nfs, {NULL}, SERVICE_SILENT, "", ""},
/* NAS admin pages (emulator bytes: no Debian server exists) */
#define NAS "nas-admin/emul-"
#define NAX "nas-admin-exposed=confirmed"
    {&probe_nas_admin,
     {NAS "dsm.bin"},
     SERVICE_IDENTIFIED,
     "nas-admin",
     NAX,
     NULL,
     0,
     "device_name",
     "backup-nas",
     "GET / HTTP/1.0\r\nUser-Agent: exposure-selfcheck\r\nAccept: */*\r\nConnection: "
     "close\r\n\r\n"},
    {&probe_nas_admin,
     {NAS "dsm-nolength.bin"},
     SERVICE_IDENTIFIED,
     "nas-admin",
     NAX,
     NULL,
     0,
     "vendor",
     "synology"},
    {&probe_nas_admin,
     {NAS "qnap-root.bin", NAS "qnap-authlogin.bin"},
     SERVICE_IDENTIFIED,
     "nas-admin",
     NAX,
     NULL,
     0,
     "model",
     "TS-453B"},
    /* plain HTTP on a TLS port: the next connection over TLS (the engine's; here plaintext) */
    {&probe_nas_admin,
     {NAS "plain-on-tls.bin", NAS "dsm.bin"},
     SERVICE_IDENTIFIED,
     "nas-admin",
     NAX,
     NULL,
     0,
     "vendor",
     "synology"},
    {&probe_nas_admin,
     {NAS "tls-alert.bin", NAS "qnap-root.bin", NAS "qnap-authlogin.bin"},
     SERVICE_IDENTIFIED,
     "nas-admin",
     NAX,
     NULL,
     0,
     "firmware",
     "4.3.6"},
    {&probe_nas_admin, {NULL, NAS "dsm.bin"}, SERVICE_IDENTIFIED, "nas-admin", NAX},
    {&probe_nas_admin,
     {NAS "hostile.bin"},
     SERVICE_IDENTIFIED,
     "nas-admin",
     NAX,
     NULL,
     0,
     "server",
     "?]0;pwn?"},
    {&probe_nas_admin, {NAS "other.bin", NAS "other.bin"}, SERVICE_OTHER, "http", ""},
    {&probe_nas_admin, {NAS "garbage.bin"}, SERVICE_OTHER, "", ""},
    {&probe_nas_admin, {NAS "huge-header.bin"}, SERVICE_OTHER, "http", ""},
    {&probe_nas_admin, {NAS "bad-status.bin"}, SERVICE_OTHER, "http", ""},
};

/* The bytes of each connection of t (a missing file: that connection sends nothing). */
static void load(const struct tcase *t, struct drive_loaded *l)
{
	const char *bad = NULL;

	if (drive_load(l, data_dir, t->files, MAX_CONNS, &bad) < 0)
		fail_msg("cannot read %s/%s", data_dir, bad);
}

static bool has_finding(const struct probe_result *r, const char *id, const char *conf)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (strcmp(r->findings[i].id, id) == 0)
			return conf == NULL ||
			       strcmp(confidence_name(r->findings[i].confidence), conf) == 0;
	return false;
}

/* Exactly the findings of "id[=confidence],...". */
static void check_findings(const struct tcase *t, const struct probe_result *r, const char *how)
{
	char want[256];
	size_t n = 0;

	snprintf(want, sizeof(want), "%s", t->findings);
	for (char *p = want, *e; *p; p = e + 1) {
		char *eq;

		e = strchr(p, ',');
		if (e)
			*e = '\0';
		eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		if (!has_finding(r, p, eq ? eq + 1 : NULL))
			fail_msg("%s %s (%s): finding %s%s%s missing", t->ops->name, t->files[0],
			         how, p, eq ? "=" : "", eq ? eq + 1 : "");
		n++;
		if (!e)
			break;
	}
	if (n != r->n_findings)
		fail_msg("%s %s (%s): %zu findings, want %zu (first: %s)", t->ops->name,
		         t->files[0], how, r->n_findings, n,
		         r->n_findings ? r->findings[0].id : "-");
}

static bool detail_has(const json_t *details, const char *key, const char *val)
{
	json_t *v = json_object_get(details, key);
	size_t i;
	json_t *e;

	if (json_is_string(v))
		return strcmp(json_string_value(v), val) == 0;
	json_array_foreach(v, i, e) if (json_is_string(e) &&
	                                strcmp(json_string_value(e), val) == 0) return true;
	return false;
}

static void run_case(const struct tcase *t, size_t chunk)
{
	struct drive_loaded l;
	struct sim_opts o = {.chunk = chunk, .cut_at = SIZE_MAX, .tail_why = PROBE_END_IDLE};
	struct probe_result r;
	struct drive_stats st;
	char how[32];
	int rc;

	snprintf(how, sizeof(how), "chunk %zu", chunk);
	load(t, &l);
	rc = sim_run(t->ops, l.conns, l.n, &o, &r, &st);
	if (rc < 0)
		fail_msg("%s %s (%s): %d %s", t->ops->name, t->files[0], how, rc, drive_error);
	if (r.state != t->state)
		fail_msg("%s %s (%s): state %d, want %d", t->ops->name, t->files[0], how, r.state,
		         t->state);
	if (strcmp(r.service, t->service) != 0)
		fail_msg("%s %s (%s): service \"%s\", want \"%s\"", t->ops->name, t->files[0], how,
		         r.service, t->service);
	check_findings(t, &r, how);
	if (t->question && probe_answer_of(&r, t->question, NULL) != t->answer)
		fail_msg("%s %s (%s): answer to %s is %d, want %d", t->ops->name, t->files[0], how,
		         t->question, probe_answer_of(&r, t->question, NULL), t->answer);
	if (t->key && !detail_has(r.details, t->key, t->val))
		fail_msg("%s %s (%s): details.%s lacks %s", t->ops->name, t->files[0], how, t->key,
		         t->val);
	for (unsigned c = 1; c < 3; c++)
		if (t->ports[c] && st.ports[c] != t->ports[c])
			fail_msg("%s %s (%s): connection %u went to port %u, want %u", t->ops->name,
			         t->files[0], how, c, st.ports[c], t->ports[c]);
	if (t->tx_first && t->tx_first == (const char *)DUMP_CALL) {
		if (st.tx_first_len != sizeof(DUMP_CALL) - 1 ||
		    memcmp(st.tx_first, DUMP_CALL, st.tx_first_len) != 0)
			fail_msg("%s (%s): not the DUMP call", t->ops->name, how);
	} else if (t->tx_first && (st.tx_first_len != strlen(t->tx_first) ||
	                           memcmp(st.tx_first, t->tx_first, st.tx_first_len) != 0))
		fail_msg("%s %s (%s): sent %.*s", t->ops->name, t->files[0], how,
		         (int)st.tx_first_len, st.tx_first);
	assert_true(r.details == NULL || drive_details_clean(r.details));
	probe_result_done(&r);
	drive_unload(&l);
}

static void test_cases(void **state)
{
	static const size_t chunks[] = {0, 1, 2, 7, 64};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
			run_case(&cases[i], chunks[c]);
}

/* Every connection of every case cut at every offset (past 256 bytes, every 7th), every way: a
 * clean end, never a crash. */
static void test_cuts(void **state)
{
	static const enum probe_end whys[] = {PROBE_END_CLOSED, PROBE_END_RESET, PROBE_END_IDLE,
	                                      PROBE_END_DEADLINE};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *t = &cases[i];
		struct drive_loaded l;

		load(t, &l);
		for (unsigned c = 0; c < MAX_CONNS; c++)
			for (size_t k = 0; k <= l.conns[c].len && t->files[c]; k += k < 256 ? 1 : 7)
				for (size_t w = 0; w < sizeof(whys) / sizeof(whys[0]); w++) {
					struct sim_opts o = {.cut_conn = c,
					                     .cut_at = k,
					                     .cut_why = whys[w],
					                     .tail_why = PROBE_END_IDLE};
					struct probe_result r;
					struct drive_stats st;
					int rc = sim_run(t->ops, l.conns, l.n, &o, &r, &st);

					if (rc < 0 && rc == -ERR_INTERNAL)
						fail_msg("%s %s cut %u@%zu: %s", t->ops->name,
						         t->files[0], c, k, drive_error);
					assert_true(r.details == NULL ||
					            drive_details_clean(r.details));
					/* a cut never decides a question "no" it could not see */
					if (t->answer != PROBE_ANSWER_NO && t->question)
						assert_int_not_equal(
						    probe_answer_of(&r, t->question, NULL),
						    PROBE_ANSWER_NO);
					probe_result_done(&r);
				}
		drive_unload(&l);
	}
}

/* 256 KiB of garbage and floods of one byte: never a crash, never identified. */
static void test_garbage(void **state)
{
	static const struct probe_ops *const ops[] = {&probe_rsync, &probe_iscsi_discovery,
	                                              &probe_nfs, &probe_nas_admin};
	size_t n = 1 << 18;
	uint8_t *g = malloc(n);
	uint32_t x = 2463534242u;

	(void)state;
	assert_non_null(g);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		g[i] = (uint8_t)x;
	}
	for (size_t p = 0; p < sizeof(ops) / sizeof(ops[0]); p++)
		for (int fill = -1; fill < 256; fill += 128) {
			struct sim_conn conn = {g, n};
			struct sim_opts o = {.chunk = 4096, .cut_at = SIZE_MAX};
			struct probe_result r;
			struct drive_stats st;

			if (fill >= 0)
				memset(g, fill, n);
			assert_true(sim_run(ops[p], &conn, 1, &o, &r, &st) != -ERR_INTERNAL);
			assert_int_not_equal(r.state, SERVICE_IDENTIFIED);
			assert_true(r.details == NULL || drive_details_clean(r.details));
			probe_result_done(&r);
		}
	free(g);
}

/*
 * rpc.mountd's EXPORT reply (xid NFS1, accepted, SUCCESS) with one export "/srv" to one client
 * name, after Debian's rpcbind DUMP: the nfs-export-world verdict for that name. Record and
 * list layout: RFC 5531 §9 and §11, RFC 1813 appendix I.
 */
static void nfs_world_for(const char *client, const char *confidence, enum probe_answer answer)
{
	static const uint8_t head[] = {'N', 'F', 'S', '1', 0,   0,   0, 1, 0, 0, 0, 0, 0, 0, 0,
	                               0,   0,   0,   0,   0,   0,   0, 0, 0, 0, 0, 0, 1, 0, 0,
	                               0,   4,   '/', 's', 'r', 'v', 0, 0, 0, 1, 0, 0, 0, 0};
	uint8_t rec[128] = {0};
	size_t k = strlen(client), n = 4 + sizeof(head) + ((k + 3) & ~(size_t)3) + 8;
	struct drive_loaded l;
	struct tcase t = {&probe_nfs, {RPCB}};
	struct sim_opts o = {.cut_at = SIZE_MAX, .tail_why = PROBE_END_IDLE};
	struct probe_result r;
	struct drive_stats st;

	assert_true(n <= sizeof(rec) && k < 64);
	rec[0] = 0x80, rec[3] = (uint8_t)(n - 4); /* the last fragment */
	memcpy(rec + 4, head, sizeof(head));
	rec[4 + sizeof(head) - 1] = (uint8_t)k;
	memcpy(rec + 4 + sizeof(head), client, k);
	load(&t, &l);
	l.conns[1] = (struct sim_conn){rec, n};
	assert_true(sim_run(&probe_nfs, l.conns, l.n, &o, &r, &st) >= 0);
	if (confidence ? !has_finding(&r, NFQ, confidence)
	               : has_finding(&r, NFQ, NULL) || probe_answer_of(&r, NFQ, NULL) != answer)
		fail_msg("nfs export to %s: want %s %d, got %zu findings, answer %d", client,
		         confidence ? confidence : "no finding", answer, r.n_findings,
		         probe_answer_of(&r, NFQ, NULL));
	assert_true(drive_details_clean(r.details));
	probe_result_done(&r);
	drive_unload(&l);
}

/*
 * Every spelling of "every address" is world (PROBES.md, "NFS"): "::0/0" was answered no before;
 * a prefix of length 0 is everyone as exports(5) has it but not as nfs-utils computes it
 * (likely); a netgroup's members are not shown, so not "no" (undecided; before, no).
 */
static void test_nfs_world_forms(void **state)
{
	(void)state;
	nfs_world_for("*", "confirmed", PROBE_ANSWER_NONE);
	nfs_world_for("0.0.0.0/0.0.0.0", "confirmed", PROBE_ANSWER_NONE);
	nfs_world_for("::/::", "confirmed", PROBE_ANSWER_NONE);
	nfs_world_for("::0/0", "likely", PROBE_ANSWER_NONE);
	nfs_world_for("::/0", "likely", PROBE_ANSWER_NONE);
	nfs_world_for("0.0.0.0/0", "likely", PROBE_ANSWER_NONE);
	nfs_world_for("198.18.0.0/0", "likely", PROBE_ANSWER_NONE);
	nfs_world_for("**", "likely", PROBE_ANSWER_NONE);
	nfs_world_for("@trusted", NULL, PROBE_ANSWER_UNDECIDED);
	nfs_world_for("198.18.0.0/15", NULL, PROBE_ANSWER_NO);
	nfs_world_for("*.example.com", NULL, PROBE_ANSWER_NO);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_cuts),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_nfs_world_forms),
	};

	if (argc > 1)
		data_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
