/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the SQLite store: the store contract (store_contract.c) on a scratch file, then
 * what is SQLite's own: file modes, WAL, schema versions and migrations, bad paths, the owner
 * lock, the queue bound under a held write lock, the per-check summary.
 */
#include "store_contract.h"

#include "core/err.h"
#include "store/store_impl.h"
#include "store/store_sqlite.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

int contract_setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (!s || scratch_make(s) < 0)
		return -1;
	*state = s;
	return 0;
}

int contract_teardown(void **state)
{
	scratch_remove(*state);
	free(*state);
	return 0;
}

static int64_t raw_int(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void raw_exec(const char *db, const char *sql)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

const char *contract_where(void **state)
{
	return ((struct scratch *)*state)->db;
}

long long contract_raw_int(void **state, const char *sql)
{
	return raw_int(contract_where(state), sql);
}

bool contract_raw_ok(void **state, const char *sql)
{
	sqlite3 *h;
	int rc;

	assert_int_equal(sqlite3_open(contract_where(state), &h), SQLITE_OK);
	rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc == SQLITE_OK;
}

static struct store *open_ok(const char *db, unsigned flags, int expect_marked)
{
	struct store_opts o = {.flags = flags};
	struct store *st = NULL;

	assert_int_equal(store_open(db, &o, &st), expect_marked);
	assert_non_null(st);
	return st;
}

static void test_migrations_new_and_reopen(void **state)
{
	struct scratch *sc = *state;
	struct store *st = open_ok(sc->db, 0, 0);
	char msg[64];

	assert_string_equal(store_backend(st), "sqlite");
	{
		struct stat sb;
		char wal[200];

		assert_int_equal(stat(sc->db, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		snprintf(wal, sizeof(wal), "%s-wal", sc->db);
		assert_int_equal(stat(wal, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	assert_int_equal(store_check_integrity(st, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "ok");
	store_close(st);
	assert_int_equal(raw_int(sc->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	                                 " AND name IN ('diagnoses', 'check_results', 'findings')"),
	                 3);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	                                 " AND name LIKE 'diagnoses_%'"),
	                 4);
	/* WAL is persistent: a raw connection sees it. */
	{
		sqlite3 *h;
		sqlite3_stmt *s;

		assert_int_equal(sqlite3_open(sc->db, &h), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, NULL), 0);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
		sqlite3_finalize(s);
		sqlite3_close(h);
	}
	st = open_ok(sc->db, 0, 0);
	store_close(st);
	assert_int_equal(raw_int(sc->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

static void test_newer_schema_refused(void **state)
{
	struct scratch *sc = *state;
	char err[256] = "";
	struct store_opts o = {.errbuf = err, .errlen = sizeof(err)};
	struct store *st = open_ok(sc->db, 0, 0);
	char sql[64];

	store_close(st);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION + 1);
	raw_exec(sc->db, sql);
	st = (struct store *)&o; /* must be cleared */
	assert_int_equal(store_open(sc->db, &o, &st), -ERR_UNSUPPORTED);
	assert_null(st);
	assert_non_null(strstr(err, "newer than this program"));
	o.flags = STORE_READONLY;
	assert_int_equal(store_open(sc->db, &o, &st), -ERR_UNSUPPORTED);
	assert_null(st);
	/* The refused open changed nothing. */
	assert_int_equal(raw_int(sc->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION + 1);
}

static void test_bad_paths(void **state)
{
	struct scratch *sc = *state;
	char err[256] = "";
	struct store_opts o = {.errbuf = err, .errlen = sizeof(err)};
	struct store *st;
	char p[200];

	assert_int_equal(store_open(":memory:", &o, &st), -EINVAL);
	assert_int_equal(store_open("postgres:x", &o, &st), -ERR_UNSUPPORTED);
	/* Port 1 on loopback: nothing listens, the backend says it cannot connect. */
	assert_int_equal(store_open("postgresql://127.0.0.1:1/none?connect_timeout=2", &o, &st),
	                 -ECONNREFUSED);
	assert_non_null(strstr(err, "PostgreSQL"));
	snprintf(p, sizeof(p), "%s/missing/dir/x.db", sc->dir);
	assert_true(store_open(p, &o, &st) < 0);
	assert_null(st);
	snprintf(p, sizeof(p), "%s/none.db", sc->dir);
	o.flags = STORE_READONLY;
	assert_true(store_open(p, &o, &st) < 0);
	snprintf(p, sizeof(p), "sqlite:%s", sc->db);
	o.flags = 0;
	assert_int_equal(store_open(p, &o, &st), 0);
	store_close(st);
	store_close(NULL);
}

/* A file written by the previous release (schema 1, one done diagnosis) is migrated in place. */
static void test_migration_from_v1(void **state)
{
	struct scratch *sc = *state;
	struct store_diagnosis d;
	struct answers an = {0};
	struct new_diag a;
	struct store *st;
	char sql[1024];
	sqlite3 *h;

	assert_int_equal(new_diag_make(&a, &key1, "198.18.5.7", 1000), 0);
	assert_int_equal(sqlite3_open(sc->db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, store_sqlite_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	{
		char hex[2 * STORE_HASH_BYTES + 1];

		for (size_t i = 0; i < STORE_HASH_BYTES; i++)
			snprintf(hex + 2 * i, 3, "%02x", a.token_hash[i]);
		snprintf(sql, sizeof(sql),
		         "INSERT INTO diagnoses (id, token_hash, status, created_ms, finished_ms,"
		         " requester_hash, requester_prefix, family, lang, risk, checks_summary,"
		         " findings_summary) VALUES ('%s', x'%s', 'done', 1000, 1500, x'%s',"
		         " '198.18.5.0/24', 4, 'en', 'none', 'smb=closed', '')",
		         a.id, hex, a.rhash);
	}
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(chmod(sc->db, 0600), 0); /* as the previous release left it */

	/* A reader does not migrate: it says so. */
	{
		char err[256] = "";
		struct store_opts o = {
		    .flags = STORE_READONLY, .errbuf = err, .errlen = sizeof(err)};

		assert_int_equal(store_open(sc->db, &o, &st), -ERR_UNSUPPORTED);
		assert_non_null(strstr(err, "to migrate"));
	}
	st = open_ok(sc->db, 0, 0);
	assert_int_equal(raw_int(sc->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.status, STORE_DONE);
	assert_int_equal(d.connection, STORE_CONN_NONE);
	assert_int_equal(d.device, STORE_DEVICE_NONE);
	store_diagnosis_done(&d);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_TETHERING), 0);
	assert_int_equal(store_iter_results(st, NULL, answers_cb, &an), 1);
	assert_int_equal(an.conn[0], STORE_CONN_TETHERING);
	assert_int_equal(an.dev[0], STORE_DEVICE_NONE);
	store_close(st);
}

/* A schema-2 row, done, from the address family fam (4 or 6), with connection conn (SQL). */
static void insert_v2_row(sqlite3 *h, const struct new_diag *a, int fam, const char *conn)
{
	char hex[2 * STORE_HASH_BYTES + 1], sql[1024];

	for (size_t i = 0; i < STORE_HASH_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", a->token_hash[i]);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO diagnoses (id, token_hash, status, created_ms, finished_ms,"
	         " requester_hash, requester_prefix, family, lang, risk, checks_summary,"
	         " findings_summary, connection, device) VALUES ('%s', x'%s', 'done', %d, %d,"
	         " x'%s', 'p', %d, 'en', 'none', 'smb=closed', '', %s, 'phone')",
	         a->id, hex, 100 * fam, 100 * fam + 50, a->rhash, fam, conn);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
}

/*
 * A schema-2 file (issue 10 §3's release) is migrated to 3 in place: its rows read as tested on
 * their requester's family alone; a new result saves the families of its visit (4, 6 or 46 in
 * the column), none saved reads as the requester's; the column refuses anything else.
 */
static void test_migration_from_v2(void **state)
{
	struct scratch *sc = *state;
	struct answers an = {0};
	struct new_diag a, b, c, d;
	struct store *st;
	sqlite3 *h;

	assert_int_equal(new_diag_make(&a, &key1, "198.18.5.7", 1000), 0);
	assert_int_equal(new_diag_make(&b, &key1, "2001:db8:5::7", 2000), 0);
	assert_int_equal(sqlite3_open(sc->db, &h), SQLITE_OK);
	for (int i = 0; i < 2; i++)
		assert_int_equal(sqlite3_exec(h, store_sqlite_migrations[i], NULL, NULL, NULL),
		                 SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	insert_v2_row(h, &a, 4, "NULL");
	insert_v2_row(h, &b, 6, "'sim'");
	sqlite3_close(h);
	assert_int_equal(chmod(sc->db, 0600), 0);

	st = open_ok(sc->db, 0, 0);
	assert_int_equal(raw_int(sc->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(store_iter_results(st, NULL, answers_cb, &an), 2);
	assert_string_equal(an.ids[0], a.id);
	assert_int_equal(an.fams[0], STORE_FAMILY_V4);
	assert_int_equal(an.fams[1], STORE_FAMILY_V6);
	assert_int_equal(an.conn[1], STORE_CONN_SIM); /* schema 2's columns kept */
	assert_int_equal(an.dev[0], STORE_DEVICE_PHONE);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM diagnoses WHERE families IS NULL"),
	                 2);

	/* New results: a visit of both families from an IPv4 peer, one of IPv6 alone from an
	 * IPv4 peer (the ticket's family only: not a case the service makes, but the column
	 * says what was tested, not who asked), and one saved without families. */
	assert_int_equal(new_diag_make(&c, &key1, "198.18.5.8", 3000), 0);
	assert_int_equal(new_diag_make(&d, &key1, "2001:db8:5::8", 4000), 0);
	assert_int_equal(store_create(st, &c.nd), 0);
	assert_int_equal(store_create(st, &d.nd), 0);
	{
		struct store_result r = {.id = c.id,
		                         .finished_ms = 3500,
		                         .risk = "none",
		                         .json = "{}",
		                         .families = STORE_FAMILY_BOTH};

		assert_int_equal(store_save_result(st, &r), 0);
		r.id = d.id;
		r.families = STORE_FAMILY_BOTH + 1;
		assert_int_equal(store_save_result(st, &r), -ERR_RANGE);
		r.families = 0;
		assert_int_equal(store_save_result(st, &r), 0);
	}
	assert_int_equal(store_flush(st), 0);
	memset(&an, 0, sizeof(an));
	assert_int_equal(store_iter_results(st, NULL, answers_cb, &an), 4);
	assert_string_equal(an.ids[2], c.id);
	assert_int_equal(an.fams[2], STORE_FAMILY_BOTH);
	assert_int_equal(an.fams[3], STORE_FAMILY_V6);
	assert_int_equal(raw_int(sc->db, "SELECT families FROM diagnoses WHERE created_ms = 3000"),
	                 46);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM diagnoses WHERE created_ms = 4000"
	                                 " AND families IS NULL"),
	                 1);
	store_close(st);

	/* The CHECK constraint: 4, 6 and 46 only. */
	assert_int_equal(sqlite3_open(sc->db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
	                              "UPDATE diagnoses SET families = 64 WHERE created_ms = 3000",
	                              NULL, NULL, NULL),
	                 SQLITE_CONSTRAINT);
	assert_int_equal(sqlite3_exec(h,
	                              "UPDATE diagnoses SET families = 6 WHERE created_ms = 3000",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(h);
}

/* A second service on the same file would mark the first one's work interrupted. */
static void test_lock(void **state)
{
	struct scratch *sc = *state;
	struct store *st = open_ok(sc->db, 0, 0), *second;
	struct store_opts o = {0};
	struct new_diag q;

	assert_int_equal(new_diag_make(&q, &key1, "198.18.1.1", 1000), 0);
	assert_int_equal(store_create(st, &q.nd), 0);
	second = (struct store *)&o;
	assert_int_equal(store_open(sc->db, &o, &second), -EBUSY);
	assert_null(second);
	store_close(st);
}

/* Hold the database's write lock from outside so the writer cannot drain its queue. */
static void test_queue_bound(void **state)
{
	struct scratch *sc = *state;
	struct store_opts o = {.queue_max = 2, .batch_max = 1, .busy_timeout_ms = 20000};
	struct store *st;
	struct new_diag d;
	struct store_stats stats;
	struct store_diagnosis g;
	sqlite3 *h;
	int ok = 0, full = 0;

	assert_int_equal(store_open(sc->db, &o, &st), 0);
	assert_int_equal(new_diag_make(&d, &key1, "198.18.1.1", 1), 0);
	assert_int_equal(store_create(st, &d.nd), 0);
	assert_int_equal(sqlite3_open(sc->db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < 10; i++) {
		int r = store_set_status(st, d.id, STORE_RUNNING, 100 + i);

		if (r == 0)
			ok++;
		else if (r == -EAGAIN)
			full++;
		else
			fail_msg("unexpected %d", r);
	}
	/* at most one batch of one taken by the blocked writer, plus two queued */
	assert_true(ok >= 2 && ok <= 3);
	assert_int_equal(full, 10 - ok);
	store_get_stats(st, &stats);
	assert_int_equal(stats.rejected_full, (uint64_t)full);
	assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_get(st, d.id, &g), 0);
	assert_int_equal(g.status, STORE_RUNNING);
	assert_int_equal(g.started_ms, 100); /* the first one won; later ones found it running */
	store_diagnosis_done(&g);
	store_close(st);
}

/*
 * The per-check summary holds each check's state as the diagnosis folded it, in the order
 * given: the store never folds per-port rows itself (here they disagree on purpose).
 */
static void test_summary(void **state)
{
	static const char *const states[] = {"closed", "filtered", "error", "open", "weird"};
	struct store_finding_row f[2] = {
	    {.check = "x",
	     .id = "x-one",
	     .severity = SEVERITY_INFO,
	     .confidence = CONFIDENCE_UNKNOWN},
	    {.check = "y",
	     .id = "ms17-010",
	     .severity = SEVERITY_CRITICAL,
	     .confidence = CONFIDENCE_POSSIBLE},
	};
	struct store_summary_buf b = {0};
	char *cs, *fs;

	(void)state;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct store_check_row rows[3] = {
		    {.check = "x", .port = 1, .state = "open"},
		    {.check = "y", .port = 9, .state = "filtered"},
		    {.check = "x", .port = 2, .state = "error"},
		};
		struct store_check_state st[2] = {
		    {.check = "x", .state = states[i]},
		    {.check = "y", .state = "closed"},
		};
		struct store_result r = {.checks = rows,
		                         .n_checks = 3,
		                         .findings = f,
		                         .n_findings = 2,
		                         .states = st,
		                         .n_states = 2};
		char want[64];

		assert_int_equal(store_summarize(&r, &cs, &fs), 0);
		snprintf(want, sizeof(want), "x=%s,y=closed", states[i]);
		assert_string_equal(cs, want);
		assert_string_equal(fs, "x/x-one/info/unknown,y/ms17-010/critical/possible");
		assert_int_equal(store_summary_parse(&b, cs, fs), 0);
		assert_int_equal(b.n_checks, 2);
		assert_string_equal(b.checks[0].state, states[i]);
		assert_string_equal(b.checks[1].check, "y");
		assert_int_equal(b.n_findings, 2);
		assert_string_equal(b.findings[1].id, "ms17-010");
		assert_int_equal(b.findings[1].severity, SEVERITY_CRITICAL);
		assert_int_equal(b.findings[1].confidence, CONFIDENCE_POSSIBLE);
		free(cs);
		free(fs);
	}
	assert_int_equal(store_summary_parse(&b, "", ""), 0);
	assert_int_equal(b.n_checks, 0);
	assert_int_equal(b.n_findings, 0);
	assert_int_equal(store_summary_parse(&b, "x", ""), -ERR_SYNTAX);
	assert_int_equal(store_summary_parse(&b, "x=", ""), -ERR_SYNTAX);
	assert_int_equal(store_summary_parse(&b, "", "a/b/c"), -ERR_SYNTAX);
	assert_int_equal(store_summary_parse(&b, "", "a/b/bad/unknown"), -ERR_SYNTAX);
	store_summary_buf_done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_migrations_new_and_reopen, contract_setup,
	                                    contract_teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, contract_setup,
	                                    contract_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_paths, contract_setup, contract_teardown),
	    cmocka_unit_test_setup_teardown(test_migration_from_v1, contract_setup,
	                                    contract_teardown),
	    cmocka_unit_test_setup_teardown(test_migration_from_v2, contract_setup,
	                                    contract_teardown),
	    cmocka_unit_test_setup_teardown(test_lock, contract_setup, contract_teardown),
	    cmocka_unit_test_setup_teardown(test_queue_bound, contract_setup, contract_teardown),
	    cmocka_unit_test(test_summary),
	};

	int failed = store_contract_run("sqlite", false);

	return failed + cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
}
