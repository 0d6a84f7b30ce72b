/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL backend against a real PostgreSQL 15 that tests/lab/pg.sh started for this
 * test (EXPOSURE_PG_URL; exit 77 = skip without it): the store contract (store_contract.c, the
 * same cases test_store.c runs on SQLite), then PostgreSQL's own: migrations from an empty
 * database and from every earlier version, a newer schema and another program's table refused,
 * the server's grouping, sweep shards, two nodes, leases and takeovers, live rows, the explicit
 * deletes of a diagnosis's rows and their races, LISTEN/NOTIFY, a failed pipelined statement,
 * and the server stopped and started again under a store that keeps going. Each case works in
 * a database of its own.
 */
#include "store_contract.h"

#include "core/decimal.h"
#include "core/err.h"
#include "store/store_impl.h"
#include "store/store_pg.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <time.h>

static const char *base_url; /* EXPOSURE_PG_URL: .../exposure */
static const char *pg_sh;    /* tests/lab/pg.sh, to stop and start the server */
static char url[512];        /* the current case's database */
static int case_no;

static PGconn *raw_connect(const char *u)
{
	PGconn *c = PQconnectdb(u);

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	return c;
}

static void raw_exec(const char *sql)
{
	PGconn *c = raw_connect(url);
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

static long long raw_int(const char *sql)
{
	PGconn *c = raw_connect(url);
	PGresult *res = PQexec(c, sql);
	uint64_t v = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    decimal_u64(PQgetvalue(res, 0, 0), INT64_MAX, &v) < 0)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	return (long long)v;
}

/* The tables of a diagnosis's own rows (no foreign keys since schema 7). */
static const char *const children[4] = {"documents", "check_results", "findings", "live_checks"};

/* Every child table's rows whose diagnosis is gone: none, table by table. */
static void assert_no_orphans(void)
{
	for (int i = 0; i < 4; i++) {
		char sql[160];
		long long k;

		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM %s x"
		         " WHERE NOT EXISTS (SELECT 1 FROM diagnoses d WHERE d.n = x.diag)",
		         children[i]);
		if ((k = raw_int(sql)) != 0)
			fail_msg("%lld orphan rows in %s", k, children[i]);
	}
}

static long long child_rows(int i)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", children[i]);
	return raw_int(sql);
}

/*
 * Schema 7: no foreign key into diagnoses (the sweep shards' two stay), and each child table
 * has an index led by diag, which the explicit deletes use.
 */
static void assert_children_schema(void)
{
	assert_int_equal(raw_int("SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
	                         " AND confrelid = 'diagnoses'::regclass"),
	                 0);
	assert_int_equal(raw_int("SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
	                         " AND conrelid IN ('sweep_shards'::regclass,"
	                         " 'sweep_shard_runs'::regclass)"),
	                 2);
	assert_int_equal(raw_int("SELECT count(DISTINCT i.indrelid) FROM pg_index i"
	                         " JOIN pg_attribute a ON a.attrelid = i.indrelid"
	                         " AND a.attnum = i.indkey[0] WHERE a.attname = 'diag'"
	                         " AND i.indrelid IN ('documents'::regclass,"
	                         " 'check_results'::regclass, 'findings'::regclass,"
	                         " 'live_checks'::regclass)"),
	                 4);
}

/* A fresh database per case: the URL's last path element replaced. */
int contract_setup(void **state)
{
	char sql[64];
	PGconn *c = PQconnectdb(base_url);
	PGresult *res;
	const char *slash = strrchr(base_url, '/');

	(void)state;
	if (PQstatus(c) != CONNECTION_OK || !slash)
		return -1;
	case_no++;
	snprintf(sql, sizeof(sql), "CREATE DATABASE t%d", case_no);
	res = PQexec(c, sql);
	PQclear(res);
	PQfinish(c);
	snprintf(url, sizeof(url), "%.*s/t%d", (int)(slash - base_url), base_url, case_no);
	return 0;
}

/* Every case's database is left to the cluster, which pg.sh removes. */
int contract_teardown(void **state)
{
	(void)state;
	return 0;
}

const char *contract_where(void **state)
{
	(void)state;
	return url;
}

long long contract_raw_int(void **state, const char *sql)
{
	(void)state;
	return raw_int(sql);
}

bool contract_raw_ok(void **state, const char *sql)
{
	PGconn *c = raw_connect(url);
	PGresult *res = PQexec(c, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	(void)state;
	PQclear(res);
	PQfinish(c);
	return ok;
}

static struct store *open_ok(unsigned flags, int expect_marked)
{
	char err[256] = "";
	struct store_opts o = {.flags = flags, .errbuf = err, .errlen = sizeof(err)};
	struct store *st = NULL;
	int r = store_open(url, &o, &st);

	if (r != expect_marked)
		fail_msg("store_open %s: %d (%s)", url, r, err);
	assert_non_null(st);
	return st;
}

static void test_migrations_new_reopen_newer(void **state)
{
	char err[256] = "";
	struct store_opts o = {.errbuf = err, .errlen = sizeof(err)};
	struct store *st = open_ok(0, 0);
	char msg[64];

	(void)state;
	assert_string_equal(store_backend(st), "postgresql");
	assert_int_equal(store_check_integrity(st, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "ok");
	store_close(st);
	assert_int_equal(raw_int("SELECT version FROM exposure_schema"), STORE_PG_SCHEMA_VERSION);
	assert_int_equal(raw_int("SELECT count(*) FROM pg_tables WHERE tablename IN ('diagnoses',"
	                         " 'documents', 'check_results', 'findings')"),
	                 4);
	st = open_ok(0, 0); /* re-open: nothing to migrate */
	store_close(st);
	st = open_ok(STORE_READONLY, 0);
	store_close(st);
	/* A newer schema: refused writable and read-only, left as it is. */
	raw_exec("UPDATE exposure_schema SET version = version + 1");
	st = (struct store *)&o;
	assert_int_equal(store_open(url, &o, &st), -ERR_UNSUPPORTED);
	assert_null(st);
	assert_non_null(strstr(err, "newer than this program"));
	o.flags = STORE_READONLY;
	assert_int_equal(store_open(url, &o, &st), -ERR_UNSUPPORTED);
	assert_int_equal(raw_int("SELECT version FROM exposure_schema"),
	                 STORE_PG_SCHEMA_VERSION + 1);
}

/* Another program's diagnoses table: never touched. An empty database read-only: refused. */
static void test_foreign_and_empty(void **state)
{
	char err[256] = "";
	struct store_opts o = {.flags = STORE_READONLY, .errbuf = err, .errlen = sizeof(err)};
	struct store *st;

	(void)state;
	assert_int_equal(store_open(url, &o, &st), -ERR_UNSUPPORTED);
	assert_non_null(strstr(err, "version 0"));
	raw_exec("CREATE TABLE diagnoses (x int); INSERT INTO diagnoses VALUES (7)");
	o.flags = 0;
	assert_int_equal(store_open(url, &o, &st), -ERR_UNSUPPORTED);
	assert_non_null(strstr(err, "another program"));
	assert_int_equal(raw_int("SELECT x FROM diagnoses"), 7);
	assert_int_equal(raw_int("SELECT count(*) FROM pg_tables WHERE tablename = "
	                         "'exposure_schema'"),
	                 0);
}

/*
 * From every earlier version: the migrations up to v applied by hand with a diagnosis in it,
 * then opened: the version is current and the diagnosis is there (interrupted: it was left
 * queued by "a service that died"). A done one with a row in each child table (live rows
 * from version 5) keeps them through the migrations; the schema is 7's (no foreign keys on
 * the children), and a purge then leaves no child row behind.
 */
static void test_migrations_from_every_version(void **state)
{
	(void)state;
	for (unsigned v = 1; v < STORE_PG_SCHEMA_VERSION + 1; v++) {
		char sql[128];
		struct store *st;
		struct store_diagnosis d;

		if (v > 1)
			contract_setup(NULL);
		for (unsigned i = 0; i < v; i++)
			raw_exec(store_pg_migrations[i]);
		snprintf(sql, sizeof(sql), "UPDATE exposure_schema SET version = %u", v);
		raw_exec(sql);
		raw_exec(
		    "INSERT INTO diagnoses (id, token_hash, status, created_ms, requester_hash,"
		    " requester_prefix, family, lang) VALUES (repeat('a', 32),"
		    " decode(repeat('11', 32), 'hex'), 'queued', 5, decode(repeat('22', 32), "
		    "'hex'),"
		    " '198.18.0.0/24', 4, 'en')");
		raw_exec(
		    "INSERT INTO diagnoses (id, token_hash, status, created_ms, finished_ms,"
		    " requester_hash, requester_prefix, family, lang) VALUES (repeat('b', 32),"
		    " decode(repeat('11', 32), 'hex'), 'done', 6, 7,"
		    " decode(repeat('44', 32), 'hex'), '198.18.0.0/24', 4, 'en');"
		    "INSERT INTO documents (diag, json) SELECT n, '{}' FROM diagnoses"
		    " WHERE id = repeat('b', 32);"
		    "INSERT INTO check_results (diag, check_name, port, state) SELECT n, 'ssh',"
		    " 22, 'open' FROM diagnoses WHERE id = repeat('b', 32);"
		    "INSERT INTO findings (diag, seq, check_name, finding, severity, confidence)"
		    " SELECT n, 0, 'ssh', 'ssh-exposed', 'medium', 'confirmed' FROM diagnoses"
		    " WHERE id = repeat('b', 32)");
		if (v >= 5)
			raw_exec(
			    "INSERT INTO live_checks (diag, seq, idx, json) SELECT n, 0, 0, '{}'"
			    " FROM diagnoses WHERE id = repeat('b', 32)");
		if (v == 3) /* one host twice in a sweep: version 4 keeps the done row */
			raw_exec("INSERT INTO sweeps (id, started_ms, targets, ports) VALUES"
			         " (repeat('c', 32), 1, '198.18.0.0/24', '22');"
			         "INSERT INTO diagnoses (id, token_hash, status, created_ms,"
			         " requester_hash, requester_prefix, family, lang, sweep, address)"
			         " SELECT repeat(x, 32), decode(repeat('11', 32), 'hex'), s, 6,"
			         " decode(repeat('33', 32), 'hex'), '198.18.0.0/24', 4, 'en',"
			         " repeat('c', 32), '198.18.0.9' FROM (VALUES ('d', 'done'),"
			         " ('e', 'interrupted')) AS t(x, s)");
		st = open_ok(0, 1);
		if (v == 3)
			assert_int_equal(raw_int("SELECT count(*) FROM diagnoses WHERE sweep IS NOT"
			                         " NULL AND id = repeat('d', 32)"),
			                 1);
		if (v == 3)
			assert_int_equal(raw_int("SELECT count(*) FROM diagnoses WHERE sweep IS NOT"
			                         " NULL"),
			                 1);
		assert_int_equal(store_get(st, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &d), 0);
		assert_int_equal(d.status, STORE_INTERRUPTED);
		assert_string_equal(d.prefix, "198.18.0.0/24");
		assert_string_equal(d.requester_hash,
		                    "2222222222222222222222222222222222222222222222"
		                    "222222222222222222");
		store_diagnosis_done(&d);
		assert_children_schema();
		for (int i = 0; i < 4; i++)
			assert_int_equal(child_rows(i), i < 3 || v >= 5 ? 1 : 0);
		assert_int_equal(store_purge_older_than(st, 100), v == 3 ? 3 : 2);
		for (int i = 0; i < 4; i++)
			assert_int_equal(child_rows(i), 0);
		store_close(st);
		assert_int_equal(raw_int("SELECT version FROM exposure_schema"),
		                 STORE_PG_SCHEMA_VERSION);
	}
}

/*
 * Sweep shards (issue 14 §3): defined with its shards; claimed by two stores (two workers) one
 * at a time; none free while the rest run under live leases (-EAGAIN); a lease run out is
 * claimed again (attempt 2) and the old holder can neither renew nor finish (-ESTALE); the last
 * shard done ends the sweep's row; a host is kept once per sweep (a done row stays, a row that
 * never got its result is replaced); every run is kept.
 */
/* The last failed shard store_shard_failed gave, and how many it gave in all. */
struct failed_seen {
	char sweep[STORE_ID_LEN + 1];
	unsigned shard, shards, n;
};

static int failed_cb(void *ud, const char *sweep, unsigned shard, unsigned shards)
{
	struct failed_seen *f = ud;

	snprintf(f->sweep, sizeof(f->sweep), "%s", sweep);
	f->shard = shard;
	f->shards = shards;
	f->n++;
	return 0;
}

static void test_shards(void **state)
{
	struct store *a = open_ok(0, 0), *b = open_ok(0, 0);
	struct store_sweep sw = {.started_ms = 1000, .targets = "198.18.32.0/22", .ports = "22"};
	struct store_sweep got, counts = {.sent = 10, .open_ports = 2, .hosts = 1};
	struct store_shard s0, s1, s2;
	struct new_diag h1, h1b, h2, h2b;
	struct failed_seen failed = {.n = 0};

	(void)state;
	store_random_id(sw.id);
	assert_int_equal(store_sweep_define(a, &sw, "{\"v\":1}", 2), 0);
	assert_int_equal(store_sweep_define(a, &sw, "{}", 2), -EEXIST);
	assert_int_equal(store_sweep_define(a, &sw, "{}", 0), -ERR_RANGE);
	assert_int_equal(store_shard_claim(a, sw.id, 60000, &s0), 0);
	assert_int_equal(store_shard_claim(b, NULL, 60000, &s1), 0);
	assert_string_equal(s0.sweep, sw.id);
	assert_string_equal(s0.spec, "{\"v\":1}");
	assert_int_equal(s0.shards, 2);
	assert_int_equal(s0.attempt, 1);
	assert_int_equal(s0.shard + s1.shard, 1); /* 0 and 1, one each */
	assert_int_equal(store_shard_claim(b, sw.id, 60000, &s2), -EAGAIN);
	assert_int_equal(store_shard_renew(a, &s0, 60000), 0);
	assert_int_equal(store_shard_renew(b, &s0, 60000), -ESTALE); /* not b's */

	/* Hosts: h1 done by a; b's row of the same host is refused quietly, its result lost. */
	assert_int_equal(new_diag_make(&h1, &key1, "198.18.32.5", 1100), 0);
	assert_int_equal(new_diag_make(&h1b, &key1, "198.18.32.5", 1200), 0);
	assert_int_equal(new_diag_make(&h2, &key1, "198.18.32.9", 1100), 0);
	assert_int_equal(new_diag_make(&h2b, &key1, "198.18.32.9", 1300), 0);
	h1.nd.sweep = h1b.nd.sweep = h2.nd.sweep = h2b.nd.sweep = sw.id;
	h1.nd.address = h1b.nd.address = "198.18.32.5";
	h2.nd.address = h2b.nd.address = "198.18.32.9";
	assert_int_equal(store_create(a, &h1.nd), 0);
	save(a, h1.id, 1150, "critical", "{}", 1, 0, 0);
	assert_int_equal(store_flush(a), 0);
	assert_int_equal(store_create(b, &h1b.nd), 0);
	save(b, h1b.id, 1250, "critical", "{}", 2, 0, 0);
	/* h2 created by a worker that dies before its result; b's row replaces it. */
	assert_int_equal(store_create(a, &h2.nd), 0);
	assert_int_equal(store_create(b, &h2b.nd), 0);
	save(b, h2b.id, 1350, "critical", "{}", 1, 1, 0);
	assert_int_equal(store_flush(b), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM diagnoses WHERE status = 'done'"), 2);
	assert_int_equal(raw_int("SELECT count(*) FROM diagnoses"), 2);
	assert_int_equal(raw_int("SELECT created_ms FROM diagnoses WHERE address = '198.18.32.5'"),
	                 1100);
	assert_int_equal(raw_int("SELECT created_ms FROM diagnoses WHERE address = '198.18.32.9'"),
	                 1300);
	assert_int_equal(raw_int("SELECT count(*) FROM findings"), 1);

	/* b's lease runs out (made so): a claims it again; b is stale. */
	raw_exec("UPDATE sweep_shards SET lease_until_ms = 5 WHERE worker IS NOT NULL"
	         " AND shard = (SELECT shard FROM sweep_shard_runs WHERE attempt = 1"
	         " ORDER BY started_ms DESC LIMIT 1)");
	assert_int_equal(store_shard_claim(a, sw.id, 60000, &s2), 0);
	assert_int_equal(s2.shard, s1.shard);
	assert_int_equal(s2.attempt, 2);
	assert_int_equal(store_shard_renew(b, &s1, 60000), -ESTALE);
	assert_int_equal(store_shard_done(b, &s1, &counts), -ESTALE);
	assert_int_equal(store_shard_done(a, &s0, &counts), 0);
	assert_int_equal(store_sweep_get(a, sw.id, &got), 0);
	assert_int_equal(got.finished_ms, 0); /* one shard left */
	assert_int_equal(store_shard_done(a, &s2, &counts), 0);
	store_shard_release(&s1);
	assert_int_equal(store_shard_claim(b, sw.id, 60000, &s1), -ENOENT);
	assert_int_equal(store_sweep_get(a, sw.id, &got), 0);
	assert_true(got.finished_ms > 0);
	assert_int_equal(got.shards, 2);
	assert_int_equal(got.sent, 20);
	assert_int_equal(got.open_ports, 4);
	assert_int_equal(got.hosts, 2); /* distinct hosts, not the shards' sum */
	assert_int_equal(raw_int("SELECT count(*) FROM sweep_shard_runs"), 3);
	assert_int_equal(raw_int("SELECT count(*) FROM sweep_shard_runs WHERE ended_ms IS NULL"),
	                 1);
	store_shard_release(&s0);
	store_shard_release(&s1);
	store_shard_release(&s2);

	/* A shard handed back unfinished: pending at once, claimed again as attempt 2. */
	store_random_id(sw.id);
	assert_int_equal(store_sweep_define(a, &sw, "{}", 1), 0);
	assert_int_equal(store_shard_claim(a, sw.id, 60000, &s0), 0);
	assert_int_equal(store_shard_unclaim(b, &s0), -ESTALE); /* not b's */
	assert_int_equal(store_shard_unclaim(a, &s0), 0);
	assert_int_equal(store_shard_unclaim(a, &s0), -ESTALE);
	assert_int_equal(store_shard_claim(b, sw.id, 60000, &s1), 0);
	assert_int_equal(s1.attempt, 2);
	assert_int_equal(store_shard_renew(a, &s0, 60000), -ESTALE);
	store_shard_release(&s0);

	/* Handed back STORE_SHARD_FAILED_RUNS (3) times: failed, never claimed again, listed; a
	 * run lost with its worker (attempt 2 here, its lease made to run out) is not counted. */
	raw_exec("UPDATE sweep_shards SET lease_until_ms = 5 WHERE state = 'running'");
	assert_int_equal(store_shard_claim(a, sw.id, 60000, &s0), 0);
	assert_int_equal(s0.attempt, 3);
	assert_int_equal(store_shard_unclaim(a, &s0), 0); /* 2 handed back */
	store_shard_release(&s0);
	assert_int_equal(store_shard_failed(a, sw.id, failed_cb, &failed), 0);
	assert_int_equal(store_shard_claim(b, sw.id, 60000, &s0), 0);
	assert_int_equal(s0.attempt, 4);
	assert_int_equal(store_shard_unclaim(b, &s0), 0); /* 3 */
	store_shard_release(&s0);
	assert_int_equal(store_shard_claim(a, sw.id, 60000, &s0), -ENOENT); /* not -EAGAIN */
	assert_int_equal(store_shard_claim(a, NULL, 60000, &s0), -ENOENT);
	assert_int_equal(store_shard_failed(a, sw.id, failed_cb, &failed), 1);
	assert_int_equal(store_shard_failed(b, NULL, failed_cb, &failed),
	                 1); /* the first is done */
	assert_int_equal(failed.n, 2);
	assert_string_equal(failed.sweep, sw.id);
	assert_int_equal(failed.shard, 0);
	assert_int_equal(failed.shards, 1);
	assert_int_equal(store_sweep_get(a, sw.id, &got), 0);
	assert_int_equal(got.finished_ms, 0); /* never ends */
	assert_int_equal(got.shards, 1);
	store_shard_release(&s1);
	store_close(a);
	store_close(b);
}

/* store_iter_groups' rows: "prefix|families|summary" and the count, in a small table. */
struct groups {
	int rows;
	uint64_t total;
	char key[8][200];
	uint64_t count[8];
};

static int groups_cb(void *ud, const struct store_iter_row *row)
{
	struct groups *g = ud;
	struct collected one = {0};

	if (g->rows >= 8)
		return -1;
	collect_cb(&one, row);
	snprintf(g->key[g->rows], sizeof(g->key[0]), "%s|%u|%s|%s", row->prefix, row->families,
	         row->risk, one.summary[0]);
	g->count[g->rows++] = row->count;
	g->total += row->count;
	return 0;
}

static uint64_t group_count(const struct groups *g, const char *key)
{
	for (int i = 0; i < g->rows; i++)
		if (strcmp(g->key[i], key) == 0)
			return g->count[i];
	return 0;
}

/* The groups of test_groups' store without prefixes: IPv4 and IPv6 alike, the other outcome. */
static void groups_are(struct store *st, unsigned flags, uint64_t v4, uint64_t v6, uint64_t other)
{
	struct groups g = {0};

	assert_int_equal(store_iter_groups(st, NULL, flags, groups_cb, &g), 3);
	assert_int_equal(g.total, v4 + v6 + other);
	assert_int_equal(group_count(&g, "|1|critical|ssh=open,"), v4);
	assert_int_equal(group_count(&g, "|2|critical|ssh=open,"), v6);
	assert_int_equal(group_count(&g, "|3|critical|ssh=open,smb=open,skysea=closed,"
	                                 "ssh/ssh-exposed/2/0;smb/smb1-enabled/4/1;"),
	                 other);
}

/*
 * store_iter_groups (the report's counting pass): the server groups alike results, each group
 * once with its number; the prefix keeps them apart only when asked; running results and a
 * sweep's hosts stay out of the service's groups, a period and a sweep select as the
 * iteration does.
 */
static void test_groups(void **state)
{
	static const char *const addrs[6] = {"198.18.5.1",    "198.18.5.2", "198.18.9.1",
	                                     "2001:db8:1::1", "198.18.5.3", "198.18.7.7"};
	struct store *st = open_ok(0, 0);
	struct new_diag d[8];
	struct store_sweep sw = {.started_ms = 1, .targets = "198.18.32.0/20", .ports = "22"};
	struct store_period p = {0};
	struct groups g = {0};

	(void)state;
	store_random_id(sw.id);
	assert_int_equal(store_sweep_begin(st, &sw), 0);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(
		    new_diag_make(&d[i], &key1, i < 6 ? addrs[i] : "198.18.32.9", 1000 + 100 * i),
		    0);
		if (i == 6) {
			d[i].nd.sweep = sw.id;
			d[i].nd.address = "198.18.32.9";
		}
		assert_int_equal(store_create(st, &d[i].nd), 0);
	}
	/* 0, 1, 2 alike (2 in another /24), 3 alike but IPv6, 4 another outcome, 5 running, 6 a
	 * sweep's host alike the first three. */
	for (int i = 0; i < 7; i++)
		if (i != 5)
			save(st, d[i].id, 5000, "critical", "{}", i == 4 ? 4 : 1, i == 4 ? 2 : 0,
			     i == 4 ? STORE_FAMILY_BOTH : 0);
	assert_int_equal(store_flush(st), 0);

	groups_are(st, 0, 3, 1, 1);
	assert_int_equal(store_iter_groups(st, NULL, STORE_GROUP_PREFIX, groups_cb, &g), 4);
	assert_int_equal(group_count(&g, "198.18.5.0/24|1|critical|ssh=open,"), 2);
	assert_int_equal(group_count(&g, "198.18.9.0/24|1|critical|ssh=open,"), 1);
	assert_int_equal(group_count(&g, "2001:db8:1::/48|2|critical|ssh=open,"), 1);
	memset(&g, 0, sizeof(g));
	p.since_ms = 1100;
	p.until_ms = 1300; /* 1 and 2 */
	assert_int_equal(store_iter_groups(st, &p, 0, groups_cb, &g), 1);
	assert_int_equal(group_count(&g, "|1|critical|ssh=open,"), 2);
	memset(&g, 0, sizeof(g));
	p = (struct store_period){.sweep = sw.id};
	assert_int_equal(store_iter_groups(st, &p, STORE_GROUP_PREFIX, groups_cb, &g), 1);
	assert_int_equal(group_count(&g, "198.18.32.0/24|1|critical|ssh=open,"), 1);
	assert_int_equal(store_iter_groups(st, NULL, 4, groups_cb, &g), -ERR_RANGE);
	/*
	 * Each requester's latest only (report --per requester): 0's requester again at 0's time,
	 * after it (a tie, decided by the serial), with 4's outcome; the sweep's apart.
	 */
	assert_int_equal(new_diag_make(&d[7], &key1, addrs[0], 1000), 0);
	assert_int_equal(store_create(st, &d[7].nd), 0);
	save(st, d[7].id, 5000, "critical", "{}", 4, 2, STORE_FAMILY_BOTH);
	assert_int_equal(store_flush(st), 0);
	groups_are(st, STORE_GROUP_LATEST, 2, 1, 2);
	groups_are(st, 0, 3, 1, 2); /* every result */
	memset(&g, 0, sizeof(g));
	p = (struct store_period){.since_ms = 1100, .until_ms = 9000}; /* 1, 2, 3, 4 */
	assert_int_equal(
	    store_iter_groups(st, &p, STORE_GROUP_LATEST | STORE_GROUP_PREFIX, groups_cb, &g), 4);
	assert_int_equal(g.total, 4);
	assert_int_equal(group_count(&g, "198.18.5.0/24|1|critical|ssh=open,"), 1);
	memset(&g, 0, sizeof(g));
	p = (struct store_period){.sweep = sw.id};
	assert_int_equal(store_iter_groups(st, &p, STORE_GROUP_LATEST, groups_cb, &g), 1);
	assert_int_equal(g.total, 1);
	store_close(st);
}

/*
 * Two nodes on one database (two stores in this process stand for them): both write; one
 * active diagnosis per requester across them (the unique index: -EEXIST, and find_active
 * names the other node's); a node with another key refused; read-only opens beside them; the
 * retention purge of one while the other holds its lock does nothing.
 */
static void test_two_nodes(void **state)
{
	struct store_key key2 = {.bytes = {9}};
	char err[256] = "", id[STORE_ID_LEN + 1];
	struct store_opts o = {.errbuf = err, .errlen = sizeof(err), .key = &key1};
	struct store *a = NULL, *b = NULL, *c = NULL, *ro;
	struct new_diag x, y, again;
	uint64_t n;

	(void)state;
	assert_int_equal(store_open(url, &o, &a), 0);
	assert_int_equal(store_open(url, &o, &b), 0);
	o.key = &key2;
	assert_int_equal(store_open(url, &o, &c), -EKEYREJECTED);
	assert_null(c);
	assert_non_null(strstr(err, "key file differs"));
	ro = open_ok(STORE_READONLY, 0);
	assert_int_equal(new_diag_make(&x, &key1, "198.18.1.1", 10), 0);
	assert_int_equal(new_diag_make(&y, &key1, "198.18.1.2", 20), 0);
	assert_int_equal(new_diag_make(&again, &key1, "198.18.1.1", 30), 0);
	assert_int_equal(store_create(a, &x.nd), 0);
	assert_int_equal(store_create(b, &y.nd), 0);
	/* x's requester again, on the other node: one at a time across nodes. */
	assert_int_equal(store_create(b, &again.nd), -EEXIST);
	assert_int_equal(store_find_active(b, x.rhash, id), 0);
	assert_string_equal(id, x.id);
	assert_int_equal(store_find_active(b, again.rhash, id), 0);
	assert_int_equal(
	    store_find_active(a,
	                      "00000000000000000000000000000000000000000000000000000000"
	                      "00000000",
	                      id),
	    -ENOENT);
	/* Node b reads and deletes what node a accepted. */
	save(a, x.id, 40, "critical", "{\"x\":1}", 2, 1, 0);
	assert_int_equal(store_flush(a), 0);
	{
		struct store_diagnosis d;

		assert_int_equal(store_get(b, x.id, &d), 0);
		assert_int_equal(d.status, STORE_DONE);
		assert_string_equal(d.json, "{\"x\":1}");
		store_diagnosis_done(&d);
	}
	assert_int_equal(store_find_active(b, x.rhash, id), -ENOENT);
	assert_int_equal(store_create(b, &again.nd), 0); /* x is done: the requester may again */
	assert_int_equal(store_count_results(ro, NULL, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_create(ro, &x.nd), -EROFS);
	assert_int_equal(store_delete(b, x.id, x.token), 0);
	/* The purge: while a's session holds the lock, b's purge leaves everything. */
	{
		PGconn *h = raw_connect(url);
		PGresult *res = PQexec(h, "SELECT pg_advisory_lock(7311717617079681027)");

		PQclear(res);
		assert_int_equal(store_purge_older_than(b, 1000), 0);
		assert_int_equal(raw_int("SELECT count(*) FROM diagnoses"), 2);
		res = PQexec(h, "SELECT pg_advisory_unlock(7311717617079681027)");
		PQclear(res);
		PQfinish(h);
		assert_int_equal(store_purge_older_than(b, 1000), 2);
	}
	store_close(ro);
	store_close(b);
	store_close(a);
}

/*
 * A node that stops renewing its lease: another marks what it left queued or running
 * interrupted within a lease or so (the lease is 600 ms here), and never touches the rows of
 * a node that renews. A node closed cleanly hands over the same way (its row is gone).
 */
static void test_lease_takeover(void **state)
{
	struct store *a = open_ok(0, 0), *b = open_ok(0, 0);
	struct new_diag x, y;
	struct store_diagnosis d;
	int i;

	(void)state;
	assert_int_equal(new_diag_make(&x, &key1, "198.18.3.1", 10), 0);
	assert_int_equal(new_diag_make(&y, &key1, "198.18.3.2", 20), 0);
	assert_int_equal(store_create(a, &x.nd), 0);
	assert_int_equal(store_create(b, &y.nd), 0);
	assert_int_equal(store_set_status(b, y.id, STORE_RUNNING, 25), 0);
	assert_int_equal(store_flush(b), 0);
	/* Both renew: after three leases nothing was marked. */
	usleep(1800 * 1000);
	assert_int_equal(raw_int("SELECT count(*) FROM diagnoses WHERE status = 'interrupted'"), 0);
	store_close(a); /* x stays queued, a's lease is gone */
	for (i = 0; i < 40; i++) {
		if (raw_int("SELECT count(*) FROM diagnoses WHERE status = 'interrupted'") == 1)
			break;
		usleep(100 * 1000);
	}
	assert_true(i < 40);
	assert_int_equal(store_get(b, x.id, &d), 0);
	assert_int_equal(d.status, STORE_INTERRUPTED);
	assert_true(d.finished_ms > 0);
	store_diagnosis_done(&d);
	assert_int_equal(store_get(b, y.id, &d), 0);
	assert_int_equal(d.status, STORE_RUNNING); /* b's own, renewed: untouched */
	store_diagnosis_done(&d);
	store_close(b);
}

/* What a node's takeover callback was given (heartbeat thread). */
struct taken {
	pthread_mutex_t mu;
	int n;
	struct store_takeover last;
};

static void on_takeover(void *ud, const struct store_takeover *t)
{
	struct taken *k = ud;

	pthread_mutex_lock(&k->mu);
	k->n++;
	k->last = *t;
	pthread_mutex_unlock(&k->mu);
}

static int taken_n(struct taken *k)
{
	int n;

	pthread_mutex_lock(&k->mu);
	n = k->n;
	pthread_mutex_unlock(&k->mu);
	return n;
}

/*
 * Takeover (issue 14 §2): a dead node's diagnosis with resume data goes to exactly one live
 * node's callback, with its id, token hash, creation time and the sealed bytes as given, and
 * becomes that node's, queued; one without resume data is marked interrupted. When the node
 * that took it over dies too, it is not taken over again: interrupted, its resume data gone.
 */
static void test_takeover_resume(void **state)
{
	struct store *a = open_ok(0, 0), *b = open_ok(0, 0), *c = open_ok(0, 0);
	struct taken kb = {.mu = PTHREAD_MUTEX_INITIALIZER}, kc = {.mu = PTHREAD_MUTEX_INITIALIZER};
	static const uint8_t blob[5] = {1, 2, 0, 255, 7};
	struct new_diag x, y;
	struct store_diagnosis d;
	struct store *claimer, *other;
	int i;

	(void)state;
	store_on_takeover(b, on_takeover, &kb);
	store_on_takeover(c, on_takeover, &kc);
	assert_int_equal(new_diag_make(&x, &key1, "198.18.3.1", 10), 0);
	assert_int_equal(new_diag_make(&y, &key1, "198.18.3.2", 20), 0);
	x.nd.resume = blob;
	x.nd.resume_len = sizeof(blob);
	assert_int_equal(store_create(a, &x.nd), 0);
	assert_int_equal(store_create(a, &y.nd), 0);
	assert_int_equal(store_set_status(a, x.id, STORE_RUNNING, 15), 0);
	assert_int_equal(store_flush(a), 0);
	store_close(a);
	for (i = 0; i < 200 && (taken_n(&kb) + taken_n(&kc) == 0 ||
	                        raw_int("SELECT count(*) FROM diagnoses"
	                                " WHERE status = 'interrupted'") == 0);
	     i++)
		usleep(100 * 1000);
	assert_true(i < 200); /* 20 s: a loaded machine's lease rounds run late */
	usleep(1200 * 1000);  /* two more rounds of both: nobody takes it twice */
	assert_int_equal(taken_n(&kb) + taken_n(&kc), 1);
	{
		struct taken *k = taken_n(&kb) ? &kb : &kc;

		claimer = k == &kb ? b : c;
		other = k == &kb ? c : b;
		assert_string_equal(k->last.id, x.id);
		assert_memory_equal(k->last.token_hash, x.nd.token_hash, STORE_HASH_BYTES);
		assert_int_equal(k->last.created_ms, 10);
		assert_int_equal(k->last.resume_len, sizeof(blob));
		assert_memory_equal(k->last.resume, blob, sizeof(blob));
	}
	assert_int_equal(store_get(other, x.id, &d), 0);
	assert_int_equal(d.status, STORE_QUEUED); /* the claimer's now, to run again */
	store_diagnosis_done(&d);
	assert_int_equal(store_get(other, y.id, &d), 0);
	assert_int_equal(d.status, STORE_INTERRUPTED); /* nothing to resume it with */
	store_diagnosis_done(&d);
	/* The claimer dies before finishing it: interrupted by the other, not taken again. */
	store_close(claimer);
	for (i = 0; i < 200; i++) {
		if (raw_int("SELECT count(*) FROM diagnoses WHERE status = 'interrupted'") == 2)
			break;
		usleep(100 * 1000);
	}
	assert_true(i < 200);
	assert_int_equal(taken_n(&kb) + taken_n(&kc), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM diagnoses WHERE resume IS NOT NULL"), 0);
	assert_int_equal(raw_int("SELECT max(takeovers) FROM diagnoses"), 1);
	store_on_takeover(other, NULL, NULL);
	store_close(other);
}

/* What store_live_get gave, concatenated "seq:index:json;" */
static void live_collect(void *ud, const struct store_live_row *row)
{
	char *out = ud;
	size_t len = strlen(out);

	snprintf(out + len, 512 - len, "%u:%u:%s;", row->seq, row->index, row->json);
}

/*
 * Live rows (issue 14 §2): added in batches, read from a seq on in order (through another
 * node's store); none taken by a diagnosis no longer in flight; gone when
 * the diagnosis ends, and with it when deleted.
 */
static void test_live_rows(void **state)
{
	struct store *a = open_ok(0, 0), *b = open_ok(0, 0);
	const struct store_live_row rows[3] = {
	    {0, 4, "{\"check\":\"ssh\"}"}, {1, 0, "{\"q\":\"a \\\" b\"}"}, {2, 9, "{}"}};
	struct new_diag x;
	char got[512] = "";

	(void)state;
	assert_int_equal(new_diag_make(&x, &key1, "198.18.3.9", 10), 0);
	assert_int_equal(store_create(a, &x.nd), 0);
	assert_int_equal(store_set_status(a, x.id, STORE_RUNNING, 12), 0);
	assert_int_equal(store_live_add(a, x.id, rows, 2), 0);
	assert_int_equal(store_live_add(a, x.id, rows + 2, 1), 0);
	assert_int_equal(store_flush(a), 0);
	assert_int_equal(store_live_get(b, x.id, 0, live_collect, got), 3);
	assert_string_equal(got, "0:4:{\"check\":\"ssh\"};1:0:{\"q\":\"a \\\" b\"};2:9:{};");
	got[0] = '\0';
	assert_int_equal(store_live_get(b, x.id, 2, live_collect, got), 1);
	assert_string_equal(got, "2:9:{};");
	assert_int_equal(store_live_add(a, x.id, rows, STORE_LIVE_BATCH + 1), -ERR_RANGE);
	/* Ended: its live rows go, and no more are taken. */
	assert_int_equal(store_set_status(a, x.id, STORE_INTERRUPTED, 20), 0);
	assert_int_equal(store_live_add(a, x.id, rows, 1), 0);
	assert_int_equal(store_flush(a), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM live_checks"), 0);
	assert_int_equal(store_live_get(b, x.id, 0, live_collect, got), 0);
	store_close(b);
	store_close(a);
}

/*
 * Deleting and purging take every child row along (schema 7: no foreign keys, no cascades;
 * store_pg.c's DELETE_CHILDREN): each of the four tables has rows of a diagnosis deleted by
 * its token and of one purged, and none is left; the rows of the diagnoses kept stay.
 */
static void test_no_orphans(void **state)
{
	static const struct store_live_row live[2] = {{0, 1, "{}"}, {1, 0, "{}"}};
	struct store *st = open_ok(0, 0);
	struct new_diag d[6]; /* deleted: 0 done, 1 running; purged: 2, 3; kept: 4, 5 */
	static const int64_t created[6] = {1000, 1100, 2000, 2100, 9000, 9100};
	long long per[4] = {1, 4, 2, 2}; /* a done one's rows; a running one's live rows */

	(void)state;
	for (int i = 0; i < 6; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.18.6.%d", i + 1);
		assert_int_equal(new_diag_make(&d[i], &key1, a, created[i]), 0);
		assert_int_equal(store_create(st, &d[i].nd), 0);
		assert_int_equal(store_set_status(st, d[i].id, STORE_RUNNING, created[i] + 1), 0);
		if (i % 2 == 0)
			save(st, d[i].id, created[i] + 50, "critical", "{}", 4, 2, 0);
		else
			assert_int_equal(store_live_add(st, d[i].id, live, 2), 0);
	}
	assert_int_equal(store_flush(st), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(child_rows(i), 3 * per[i]);
	assert_int_equal(store_delete(st, d[0].id, d[0].token), 0);
	assert_int_equal(store_delete(st, d[1].id, d[1].token), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(child_rows(i), 2 * per[i]);
	assert_no_orphans();
	assert_int_equal(store_purge_older_than(st, 5000), 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(child_rows(i), per[i]);
	assert_no_orphans();
	store_close(st);
}

/* A store call on another thread, to be blocked by a transaction this test holds. */
struct bg {
	pthread_t t;
	struct store *st;
	const struct new_diag *d;
	int op; /* 0 purge before 1000, 1 delete d, 2 live rows for d */
	int r;
	atomic_bool done;
};

static void *bg_run(void *p)
{
	static const struct store_live_row live[2] = {{0, 1, "{}"}, {1, 0, "{}"}};
	struct bg *b = p;

	if (b->op == 0)
		b->r = store_purge_older_than(b->st, 1000);
	else if (b->op == 1)
		b->r = store_delete(b->st, b->d->id, b->d->token);
	else if ((b->r = store_live_add(b->st, b->d->id, live, 2)) == 0)
		b->r = store_flush(b->st);
	atomic_store(&b->done, true);
	return NULL;
}

/* Whether b waits for a lock in this case's database (within 5 s) before it is done. */
static bool bg_blocked(struct bg *b)
{
	for (int i = 0; i < 250 && !atomic_load(&b->done); i++) {
		if (raw_int("SELECT count(*) FROM pg_stat_activity WHERE datname ="
		            " current_database() AND wait_event_type = 'Lock'") > 0)
			return true;
		usleep(20 * 1000);
	}
	return false;
}

static void exec_on(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

/*
 * Another transaction writes child rows of a diagnosis (another node's result: its UPDATE
 * locks the row) while this node purges or deletes it: the purge and the delete wait for it
 * and then take its rows too. (One statement deleting the diagnosis and its children would
 * wait inside the DELETE with a snapshot taken before, and leave these rows behind.) And live
 * rows written while another transaction has deleted the diagnosis (not committed yet): they
 * wait, and add nothing once it has.
 */
static void test_delete_races(void **state)
{
	struct store *st = open_ok(0, 0);
	struct new_diag d[3];
	char sql[512];

	(void)state;
	for (int i = 0; i < 3; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.18.7.%d", i + 1);
		assert_int_equal(new_diag_make(&d[i], &key1, a, i == 0 ? 100 : 5000), 0);
		assert_int_equal(store_create(st, &d[i].nd), 0);
	}
	for (int op = 0; op < 3; op++) {
		const struct new_diag *x = op == 0 ? &d[0] : op == 1 ? &d[1] : &d[2];
		struct bg b = {.st = st, .d = x, .op = op};
		PGconn *c = raw_connect(url);

		exec_on(c, "BEGIN");
		if (op < 2) {
			snprintf(
			    sql, sizeof(sql),
			    "WITH u AS (UPDATE diagnoses SET status = 'done' WHERE id = '%s'"
			    " RETURNING n) INSERT INTO findings (diag, seq, check_name, finding,"
			    " severity, confidence) SELECT n, 0, 'ssh', 'ssh-exposed', 'medium',"
			    " 'confirmed' FROM u",
			    x->id);
		} else {
			snprintf(sql, sizeof(sql), "DELETE FROM diagnoses WHERE id = '%s'", x->id);
		}
		exec_on(c, sql);
		assert_int_equal(pthread_create(&b.t, NULL, bg_run, &b), 0);
		assert_true(bg_blocked(&b));
		exec_on(c, "COMMIT");
		PQfinish(c);
		assert_int_equal(pthread_join(b.t, NULL), 0);
		assert_int_equal(b.r, op == 0 ? 1 : 0);
		assert_no_orphans();
	}
	assert_int_equal(raw_int("SELECT count(*) FROM diagnoses"), 0);
	store_close(st);
}

static atomic_int changes;

static void on_change(void *ud)
{
	(void)ud;
	atomic_fetch_add(&changes, 1);
}

/*
 * LISTEN/NOTIFY: node b hears node a's status writes (a wake-up; the lease here is 600 ms, so
 * b LISTENs within 200 ms of registering); nothing is heard while nobody writes.
 */
static void test_notify(void **state)
{
	struct store *a = open_ok(0, 0), *b = open_ok(0, 0);
	struct new_diag x;
	int i;

	(void)state;
	store_on_change(b, on_change, NULL);
	usleep(700 * 1000); /* b's heartbeat LISTENs at its next round */
	assert_int_equal(atomic_load(&changes), 0);
	assert_int_equal(new_diag_make(&x, &key1, "198.18.4.1", 10), 0);
	assert_int_equal(store_create(a, &x.nd), 0);
	assert_int_equal(store_set_status(a, x.id, STORE_RUNNING, 20), 0);
	assert_int_equal(store_flush(a), 0);
	for (i = 0; i < 30 && atomic_load(&changes) == 0; i++)
		usleep(50 * 1000);
	assert_true(atomic_load(&changes) >= 1);
	atomic_store(&changes, 0);
	save(a, x.id, 30, "critical", "{}", 1, 0, 0);
	assert_int_equal(store_flush(a), 0);
	for (i = 0; i < 30 && atomic_load(&changes) == 0; i++)
		usleep(50 * 1000);
	assert_true(atomic_load(&changes) >= 1);
	store_close(a);
	store_close(b);
}

/*
 * A statement the database refuses in the middle of a pipelined batch (here a trigger that
 * raises; a full disk would do the same): the batch fails and says so, its result is not in
 * the database, and the next batches on the same writer connection commit (the aborted
 * transaction was rolled back after the pipeline's sync point).
 */
static void test_failed_statement(void **state)
{
	struct store *st = open_ok(0, 0);
	struct new_diag d[3];
	struct store_diagnosis got;
	struct store_stats stats;
	long long conns;

	(void)state;
	for (int i = 0; i < 3; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.18.3.%d", i + 1);
		assert_int_equal(new_diag_make(&d[i], &key1, a, 100 + i), 0);
		assert_int_equal(store_create(st, &d[i].nd), 0);
	}
	conns =
	    raw_int("SELECT sum(pid) FROM pg_stat_activity WHERE application_name = 'exposure'");
	raw_exec(
	    "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS"
	    " $$BEGIN RAISE EXCEPTION 'boom'; END$$;"
	    "CREATE TRIGGER boom BEFORE INSERT ON findings FOR EACH ROW EXECUTE FUNCTION boom()");
	assert_int_equal(store_set_status(st, d[0].id, STORE_RUNNING, 200), 0);
	save(st, d[1].id, 300, "critical", "{}", 4, 2, 0); /* findings: the trigger refuses */
	assert_true(store_flush(st) < 0);
	store_get_stats(st, &stats);
	assert_true(stats.failing >= 1);
	assert_int_equal(store_get(st, d[1].id, &got), 0);
	assert_true(got.status != STORE_DONE); /* nothing of the failed batch (queued, or
	                                        * interrupted by a lease round meanwhile) */
	store_diagnosis_done(&got);
	raw_exec("DROP TRIGGER boom ON findings");
	save(st, d[2].id, 400, "critical", "{}", 4, 2, 0);
	assert_int_equal(store_flush(st), 0);
	store_get_stats(st, &stats);
	assert_int_equal(stats.failing, 0);
	assert_int_equal(store_get(st, d[2].id, &got), 0);
	assert_int_equal(got.status, STORE_DONE);
	store_diagnosis_done(&got);
	assert_int_equal(raw_int("SELECT count(*) FROM findings"), 2);
	/* On the same connections (the same backends): the pipeline was read to its sync point,
	 * not dropped. */
	assert_int_equal(
	    raw_int("SELECT sum(pid) FROM pg_stat_activity WHERE application_name = 'exposure'"),
	    conns);
	store_close(st);
}

static void pg_ctl(const char *what)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1", pg_sh, what);
	assert_int_equal(system(cmd), 0);
}

/*
 * The server goes away under an open store: writes fail (a waited create says so, queued ones
 * are counted as failing), reads fail; once it is back the same store reconnects by itself
 * and what was committed before is all there.
 */
static void test_server_restart(void **state)
{
	struct store *st = open_ok(0, 0);
	struct new_diag d[4];
	struct store_stats stats;
	struct store_diagnosis got;
	int r;

	(void)state;
	for (int i = 0; i < 4; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.18.2.%d", i + 1);
		assert_int_equal(new_diag_make(&d[i], &key1, a, 100 + i), 0);
	}
	assert_int_equal(store_create(st, &d[0].nd), 0);
	pg_ctl("stop fast");
	r = store_create(st, &d[1].nd);
	assert_true(r == -ENOTCONN || r == -ECONNREFUSED);
	assert_int_equal(store_set_status(st, d[0].id, STORE_RUNNING, 200), 0);
	assert_true(store_flush(st) < 0);
	store_get_stats(st, &stats);
	assert_true(stats.failing >= 2);
	assert_true(store_get(st, d[0].id, &got) < 0);
	pg_ctl("start");
	assert_int_equal(store_create(st, &d[2].nd), 0);
	assert_int_equal(store_set_status(st, d[2].id, STORE_RUNNING, 300), 0);
	assert_int_equal(store_flush(st), 0);
	store_get_stats(st, &stats);
	assert_int_equal(stats.failing, 0);
	assert_int_equal(store_get(st, d[0].id, &got), 0);
	store_diagnosis_done(&got);
	assert_int_equal(store_get(st, d[1].id, &got), -ENOENT); /* its caller was told */
	assert_int_equal(store_get(st, d[2].id, &got), 0);
	assert_int_equal(got.status, STORE_RUNNING);
	store_diagnosis_done(&got);
	/* An immediate stop (as a crash) too. */
	pg_ctl("stop immediate");
	pg_ctl("start");
	assert_int_equal(store_create(st, &d[3].nd), 0);
	store_close(st);
	assert_int_equal(raw_int("SELECT count(*) FROM diagnoses"), 3);
}

int main(int argc, char **argv)
{
	int failed;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_migrations_new_reopen_newer, contract_setup),
	    cmocka_unit_test_setup(test_foreign_and_empty, contract_setup),
	    cmocka_unit_test_setup(test_migrations_from_every_version, contract_setup),
	    cmocka_unit_test_setup(test_groups, contract_setup),
	    cmocka_unit_test_setup(test_failed_statement, contract_setup),
	    cmocka_unit_test_setup(test_shards, contract_setup),
	    cmocka_unit_test_setup(test_two_nodes, contract_setup),
	    cmocka_unit_test_setup(test_lease_takeover, contract_setup),
	    cmocka_unit_test_setup(test_takeover_resume, contract_setup),
	    cmocka_unit_test_setup(test_live_rows, contract_setup),
	    cmocka_unit_test_setup(test_no_orphans, contract_setup),
	    cmocka_unit_test_setup(test_delete_races, contract_setup),
	    cmocka_unit_test_setup(test_notify, contract_setup),
	    cmocka_unit_test_setup(test_server_restart, contract_setup),
	};

	base_url = getenv("EXPOSURE_PG_URL");
	setenv("EXPOSURE_STORE_LEASE_MS", "600", 1);
	pg_sh = argc > 1 ? argv[1] : NULL;
	if (!base_url || !pg_sh) {
		fprintf(stderr, "SKIP: run through tests/lab/pg.sh run (no EXPOSURE_PG_URL)\n");
		return 77;
	}
	failed = store_contract_run("postgresql", true);
	return failed + cmocka_run_group_tests_name("postgresql", tests, NULL, NULL);
}
