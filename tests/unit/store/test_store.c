/* SPDX-License-Identifier: MIT */
/* Unit tests of the store: schema, CRUD, results and iteration, purge, restart, async writer. */
#include "store_test_util.h"

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

static struct store_key key1 = {.bytes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}};

static int setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (!s || scratch_make(s) < 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
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

static void test_create_get_delete(void **state)
{
	struct scratch *sc = *state;
	struct store *st = open_ok(sc->db, 0, 0);
	struct store_diagnosis d;
	struct new_diag a, b;
	char other[STORE_TOKEN_LEN + 1];

	assert_int_equal(new_diag_make(&a, &key1, "198.18.5.7", 1000), 0);
	assert_int_equal(new_diag_make(&b, &key1, "2001:db8:1:2:3::4", 2000), 0);
	b.nd.lang = "en";
	assert_int_equal(store_create(st, &a.nd), 0);
	assert_int_equal(store_create(st, &b.nd), 0);
	assert_int_equal(store_create(st, &a.nd), -EEXIST);

	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_string_equal(d.id, a.id);
	assert_int_equal(d.status, STORE_QUEUED);
	assert_int_equal(d.created_ms, 1000);
	assert_int_equal(d.started_ms, 0);
	assert_int_equal(d.finished_ms, 0);
	assert_string_equal(d.prefix, "198.18.5.0/24");
	assert_string_equal(d.requester_hash, a.rhash);
	assert_int_equal(d.family, AF_INET);
	assert_string_equal(d.lang, "ja");
	assert_null(d.json);
	store_diagnosis_done(&d);
	assert_int_equal(store_get(st, b.id, &d), 0);
	assert_int_equal(d.family, AF_INET6);
	assert_string_equal(d.prefix, "2001:db8:1::/48");
	assert_string_equal(d.lang, "en");
	store_diagnosis_done(&d);
	assert_int_equal(store_count_inflight(st), 2);

	/* Wrong token: forbidden, and nothing deleted. */
	assert_int_equal(store_random_token(other), 0);
	assert_int_equal(store_delete(st, a.id, other), -EACCES);
	assert_int_equal(store_delete(st, a.id, b.token), -EACCES);
	assert_int_equal(store_delete(st, a.id, ""), -EACCES);
	assert_int_equal(store_get(st, a.id, &d), 0);
	store_diagnosis_done(&d);
	/* Unknown and malformed ids. */
	assert_int_equal(store_delete(st, "0123456789abcdef0123456789abcdef", a.token), -ENOENT);
	assert_int_equal(store_delete(st, "../etc/passwd", a.token), -ERR_SYNTAX);
	assert_int_equal(store_get(st, "0123456789ABCDEF0123456789ABCDEF", &d), -ERR_SYNTAX);
	assert_int_equal(store_get(st, "0123456789abcdef0123456789abcdef", &d), -ENOENT);
	/* Right token. */
	assert_int_equal(store_delete(st, a.id, a.token), 0);
	assert_int_equal(store_get(st, a.id, &d), -ENOENT);
	assert_int_equal(store_delete(st, a.id, a.token), -ENOENT);
	assert_int_equal(store_count_inflight(st), 1);
	store_close(st);
}

static void test_create_rejects_bad_input(void **state)
{
	struct scratch *sc = *state;
	struct store *st = open_ok(sc->db, 0, 0);
	struct new_diag a;
	struct store_new bad;

	assert_int_equal(new_diag_make(&a, &key1, "198.18.5.7", 1000), 0);
	bad = a.nd;
	bad.id = "short";
	assert_int_equal(store_create(st, &bad), -ERR_SYNTAX);
	bad = a.nd;
	bad.requester_hash = "198.18.5.7"; /* never the address */
	assert_int_equal(store_create(st, &bad), -ERR_SYNTAX);
	bad = a.nd;
	bad.family = AF_UNIX;
	assert_int_equal(store_create(st, &bad), -ERR_SYNTAX);
	bad = a.nd;
	bad.lang = "a-language-name-that-is-far-too-long-to-keep";
	assert_int_equal(store_create(st, &bad), -ERR_RANGE);
	assert_int_equal(store_count_inflight(st), 0);
	store_close(st);
}

static const struct store_check_row rows_a[] = {
    {.check = "ssh",
     .port = 22,
     .state = "open",
     .reason = "syn-ack",
     .rtt_ms = 0.4,
     .service = "ssh"},
    {.check = "smb", .port = 445, .state = "open", .reason = "syn-ack", .rtt_ms = 0.5},
    {.check = "skysea", .port = 52300, .state = "closed", .reason = "reset", .rtt_ms = -1},
    {.check = "skysea", .port = 52301, .state = "filtered", .reason = "timeout", .rtt_ms = -1},
};

/* Each check of rows_a once, as the diagnosis folds it (skysea: closed + filtered). */
static const struct store_check_state states_a[] = {
    {.check = "ssh", .state = "open"},
    {.check = "smb", .state = "open"},
    {.check = "skysea", .state = "closed"},
};

static const struct store_finding_row finds_a[] = {
    {.check = "ssh",
     .id = "ssh-exposed",
     .severity = SEVERITY_MEDIUM,
     .confidence = CONFIDENCE_CONFIRMED},
    {.check = "smb",
     .id = "smb1-enabled",
     .severity = SEVERITY_CRITICAL,
     .confidence = CONFIDENCE_LIKELY},
};

static void save(struct store *st, const char *id, int64_t fin, const char *risk, const char *json,
                 size_t nc, size_t nf)
{
	struct store_result r = {
	    .id = id,
	    .finished_ms = fin,
	    .risk = risk,
	    .json = json,
	    .checks = rows_a,
	    .n_checks = nc,
	    .findings = finds_a,
	    .n_findings = nf,
	    .states = states_a,
	    .n_states = nc < 3 ? nc : 3, /* the checks of the first nc rows */
	};

	assert_int_equal(store_save_result(st, &r), 0);
}

/* What a walk over one sweep's (or no sweep's) results saw. */
struct swept {
	int rows;
	char addr[4][ADDR_STRLEN];
	bool sweep_null[4];
};

static int swept_cb(void *ud, const struct store_iter_row *row)
{
	struct swept *w = ud;

	if (w->rows < 4) {
		snprintf(w->addr[w->rows], ADDR_STRLEN, "%s", row->address ? row->address : "-");
		w->sweep_null[w->rows] = row->sweep == NULL;
	}
	w->rows++;
	return 0;
}

/*
 * Sweeps (schema 4, /work/brief/sweep-store.md): a sweep row from begin to end; its hosts
 * carry the sweep id and their address; a walk without a sweep sees only the other results
 * (the web service's figures never include a sweep), a walk with one only that sweep's.
 */
static void test_sweeps(void **state)
{
	struct scratch *sc = *state;
	struct store *st = open_ok(sc->db, 0, 0);
	struct store_sweep sw = {
	    .started_ms = 1000, .targets = "198.18.32.0/20", .ports = "22,445"};
	struct store_sweep got;
	struct new_diag web, h1, h2, other;
	char id2[STORE_ID_LEN + 1];
	struct store_period p = {0};
	struct swept w = {0};
	uint64_t n;

	store_random_id(sw.id);
	store_random_id(id2);
	assert_int_equal(store_sweep_begin(st, &sw), 0);
	assert_int_equal(store_sweep_begin(st, &sw), -EEXIST);
	assert_int_equal(store_sweep_get(st, sw.id, &got), 0);
	assert_int_equal(got.started_ms, 1000);
	assert_int_equal(got.finished_ms, 0);
	assert_int_equal(got.sent, -1);
	assert_string_equal(got.targets, "198.18.32.0/20");
	assert_int_equal(store_sweep_get(st, id2, &got), -ENOENT);
	assert_int_equal(store_sweep_get(st, "nope", &got), -ERR_SYNTAX);

	assert_int_equal(new_diag_make(&web, &key1, "198.18.5.7", 1500), 0);
	assert_int_equal(new_diag_make(&h1, &key1, "198.18.32.5", 1100), 0);
	assert_int_equal(new_diag_make(&h2, &key1, "198.18.40.9", 1200), 0);
	assert_int_equal(new_diag_make(&other, &key1, "198.18.40.9", 1300), 0);
	h1.nd.sweep = h2.nd.sweep = sw.id;
	h1.nd.address = "198.18.32.5";
	h2.nd.address = "198.18.40.9";
	other.nd.sweep = id2;
	other.nd.address = "198.18.40.9";
	/* Both or neither; an address literal; a valid id. */
	web.nd.address = "198.18.5.7";
	assert_int_equal(store_create(st, &web.nd), -ERR_SYNTAX);
	web.nd.address = NULL;
	h1.nd.address = "not-an-address";
	assert_int_equal(store_create(st, &h1.nd), -ERR_SYNTAX);
	h1.nd.address = "198.18.32.5";
	assert_int_equal(store_create(st, &web.nd), 0);
	assert_int_equal(store_create(st, &h1.nd), 0);
	assert_int_equal(store_create(st, &h2.nd), 0);
	assert_int_equal(store_create(st, &other.nd), 0);
	save(st, web.id, 1600, "none", "{}", 1, 0);
	save(st, h1.id, 1700, "high", "{}", 2, 1);
	save(st, h2.id, 1800, "none", "{}", 1, 0);
	save(st, other.id, 1900, "none", "{}", 1, 0);
	sw.finished_ms = 2000;
	sw.sent = 32768;
	sw.open_ports = 3;
	sw.hosts = 2;
	assert_int_equal(store_sweep_end(st, &sw), 0);
	assert_int_equal(store_flush(st), 0);

	assert_int_equal(store_iter_results(st, NULL, swept_cb, &w), 1); /* no sweep: web only */
	assert_string_equal(w.addr[0], "-");
	assert_true(w.sweep_null[0]);
	assert_int_equal(store_count_results(st, NULL, &n), 0);
	assert_int_equal(n, 1);
	memset(&w, 0, sizeof(w));
	p.sweep = sw.id;
	assert_int_equal(store_iter_results(st, &p, swept_cb, &w), 2);
	assert_string_equal(w.addr[0], "198.18.32.5");
	assert_string_equal(w.addr[1], "198.18.40.9");
	assert_false(w.sweep_null[0]);
	assert_int_equal(store_count_results(st, &p, &n), 0);
	assert_int_equal(n, 2);
	p.since_ms = 1150; /* the period applies too */
	assert_int_equal(store_count_results(st, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_sweep_get(st, sw.id, &got), 0);
	assert_int_equal(got.finished_ms, 2000);
	assert_int_equal(got.sent, 32768);
	assert_int_equal(got.open_ports, 3);
	assert_int_equal(got.hosts, 2);
	store_close(st);
	/* The column constraint: an address without a sweep is refused by the database too. */
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM diagnoses WHERE sweep IS NULL AND"
	                                 " address IS NOT NULL"),
	                 0);
}

struct collected {
	int rows;
	char ids[8][STORE_ID_LEN + 1];
	size_t n_checks[8], n_findings[8];
	struct store_iter_check checks[8][4];
	struct store_iter_finding findings[8][2];
	char hash[8][STORE_HASH_HEX];
	char prefix[8][STORE_PREFIX_MAX];
	char risk[8][STORE_NAME_MAX];
	int64_t created[8];
	uint64_t count[8];
	int stop_after;
};

static int collect_cb(void *ud, const struct store_iter_row *row)
{
	struct collected *c = ud;
	int i = c->rows++;

	if (i >= 8)
		return -1;
	snprintf(c->ids[i], sizeof(c->ids[i]), "%s", row->id);
	snprintf(c->hash[i], sizeof(c->hash[i]), "%s", row->requester_hash);
	snprintf(c->prefix[i], sizeof(c->prefix[i]), "%s", row->prefix);
	snprintf(c->risk[i], sizeof(c->risk[i]), "%s", row->risk);
	c->created[i] = row->created_ms;
	c->count[i] = row->count;
	c->n_checks[i] = row->n_checks;
	c->n_findings[i] = row->n_findings;
	for (size_t k = 0; k < row->n_checks && k < 4; k++)
		c->checks[i][k] = row->checks[k];
	for (size_t k = 0; k < row->n_findings && k < 2; k++)
		c->findings[i][k] = row->findings[k];
	if (c->stop_after && c->rows == c->stop_after)
		return 42;
	return 0;
}

static void test_result_and_iterator(void **state)
{
	struct scratch *sc = *state;
	struct store *st = open_ok(sc->db, 0, 0);
	struct new_diag a, b, c, gone;
	struct store_diagnosis d;
	struct collected col = {0};
	struct store_period p;
	uint64_t n;

	assert_int_equal(new_diag_make(&a, &key1, "198.18.5.7", 3000), 0);
	assert_int_equal(new_diag_make(&b, &key1, "2001:db8:1:2:3::4", 1000), 0);
	assert_int_equal(new_diag_make(&c, &key1, "198.18.9.9", 2000), 0);
	assert_int_equal(new_diag_make(&gone, &key1, "198.18.9.10", 2500), 0);
	assert_int_equal(store_create(st, &a.nd), 0);
	assert_int_equal(store_create(st, &b.nd), 0);
	assert_int_equal(store_create(st, &c.nd), 0);
	assert_int_equal(store_create(st, &gone.nd), 0);
	assert_int_equal(store_set_status(st, a.id, STORE_RUNNING, 3100), 0);
	assert_int_equal(store_set_status(st, b.id, STORE_RUNNING, 1100), 0);
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.status, STORE_RUNNING);
	assert_int_equal(d.started_ms, 3100);
	store_diagnosis_done(&d);

	assert_int_equal(store_delete(st, gone.id, gone.token), 0);
	save(st, a.id, 3500, "critical", "{\"target\":\"a\"}", 4, 2);
	save(st, b.id, 1500, "none", "{\"target\":\"b\"}", 1, 0);
	save(st, gone.id, 2600, "low", "{}", 4, 2); /* deleted meanwhile: silently dropped */
	assert_int_equal(store_flush(st), 0);

	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.status, STORE_DONE);
	assert_int_equal(d.finished_ms, 3500);
	assert_string_equal(d.risk, "critical");
	assert_string_equal(d.json, "{\"target\":\"a\"}");
	store_diagnosis_done(&d);
	assert_null(d.json);
	/* done never goes back */
	assert_int_equal(store_set_status(st, a.id, STORE_INTERRUPTED, 9999), 0);
	assert_int_equal(store_set_status(st, a.id, STORE_RUNNING, 9999), 0);
	assert_int_equal(store_set_status(st, a.id, STORE_QUEUED, 9999), -ERR_RANGE);
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.status, STORE_DONE);
	assert_int_equal(d.started_ms, 3100);
	store_diagnosis_done(&d);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM check_results"), 5);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM findings"), 2);

	/* c is still queued: not a result. Order is by creation time. */
	assert_int_equal(store_iter_results(st, NULL, collect_cb, &col), 2);
	assert_int_equal(col.rows, 2);
	assert_string_equal(col.ids[0], b.id);
	assert_string_equal(col.ids[1], a.id);
	assert_int_equal(col.created[0], 1000);
	assert_string_equal(col.prefix[0], "2001:db8:1::/48");
	assert_string_equal(col.hash[1], a.rhash);
	assert_string_equal(col.risk[1], "critical");
	assert_int_equal(col.n_checks[0], 1);
	assert_int_equal(col.n_findings[0], 0);
	assert_int_equal(col.n_checks[1], 3);
	assert_int_equal(col.n_findings[1], 2);
	assert_int_equal(col.count[0], 1);
	/* SQLite groups nothing: store_iter_groups gives the same rows, each counting once. */
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_iter_groups(st, NULL, STORE_GROUP_PREFIX, collect_cb, &col), 2);
	assert_string_equal(col.ids[1], a.id);
	assert_int_equal(col.count[0], 1);
	assert_int_equal(col.count[1], 1);
	/* one entry per check, in the order given, ports taken together */
	assert_string_equal(col.checks[1][0].check, "ssh");
	assert_string_equal(col.checks[1][0].state, "open");
	assert_string_equal(col.checks[1][1].check, "smb");
	assert_string_equal(col.checks[1][1].state, "open");
	assert_string_equal(col.checks[1][2].check, "skysea");
	assert_string_equal(col.checks[1][2].state, "closed"); /* as given, never refolded */
	assert_string_equal(col.findings[1][0].id, "ssh-exposed");
	assert_string_equal(col.findings[1][0].check, "ssh");
	assert_int_equal(col.findings[1][0].severity, SEVERITY_MEDIUM);
	assert_int_equal(col.findings[1][0].confidence, CONFIDENCE_CONFIRMED);
	assert_string_equal(col.findings[1][1].id, "smb1-enabled");
	assert_string_equal(col.findings[1][1].check, "smb");
	assert_int_equal(col.findings[1][1].severity, SEVERITY_CRITICAL);
	assert_int_equal(col.findings[1][1].confidence, CONFIDENCE_LIKELY);

	/* A period selects by creation time, half-open. */
	memset(&col, 0, sizeof(col));
	p = (struct store_period){.since_ms = 1001, .until_ms = 3000};
	assert_int_equal(store_iter_results(st, &p, collect_cb, &col), 0);
	p = (struct store_period){.since_ms = 1001, .until_ms = 3001};
	assert_int_equal(store_iter_results(st, &p, collect_cb, &col), 1);
	assert_string_equal(col.ids[0], a.id);
	assert_int_equal(store_count_results(st, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_count_results(st, NULL, &n), 0);
	assert_int_equal(n, 2);
	/* The callback can stop the walk. */
	memset(&col, 0, sizeof(col));
	col.stop_after = 1;
	assert_int_equal(store_iter_results(st, NULL, collect_cb, &col), 42);
	assert_int_equal(col.rows, 1);

	/* Bad rows are refused before they reach the queue. */
	{
		struct store_check_row bad = rows_a[0];
		struct store_result r = {
		    .id = c.id, .risk = "low", .json = "{}", .checks = &bad, .n_checks = 1};

		bad.state = NULL;
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad.state = "open\n<script>";
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad.state = "open,smb=closed"; /* would forge a summary entry */
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad.state = "open";
		bad.service = "banner\r\n";
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad.service = "OpenSSH_9.2p1 Debian-2/x"; /* free text is fine there */
		assert_int_equal(store_save_result(st, &r), 0);
	}
	/* So are bad check states: the summary's separators stay unambiguous. */
	{
		struct store_check_state bad = {.check = "ssh", .state = "open,smb=closed"};
		struct store_result r = {
		    .id = c.id, .risk = "low", .json = "{}", .states = &bad, .n_states = 1};

		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad.state = NULL;
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad = (struct store_check_state){.check = "", .state = "open"};
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		r.states = NULL;
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
	}
	store_close(st);
}

/* Each row's answer and class as the report iterator sees them. */
struct answers {
	int rows;
	char ids[4][STORE_ID_LEN + 1];
	enum store_connection conn[4];
	enum store_device dev[4];
	unsigned fams[4];
};

static int answers_cb(void *ud, const struct store_iter_row *row)
{
	struct answers *a = ud;
	int i = a->rows++;

	if (i >= 4)
		return -1;
	snprintf(a->ids[i], sizeof(a->ids[i]), "%s", row->id);
	a->conn[i] = row->connection;
	a->dev[i] = row->device;
	a->fams[i] = row->families;
	return 0;
}

static void test_connection_and_device(void **state)
{
	struct scratch *sc = *state;
	struct store *st = open_ok(sc->db, 0, 0);
	struct store_diagnosis d;
	struct new_diag a, b;
	struct answers an = {0};
	enum store_connection c;
	enum store_device dv;

	assert_string_equal(store_connection_name(STORE_CONN_USB_MODEM), "usb-modem");
	assert_null(store_connection_name(STORE_CONN_NONE));
	assert_null(store_connection_name(STORE_CONN_X_MAX));
	assert_int_equal(store_connection_parse("tethering", &c), 0);
	assert_int_equal(c, STORE_CONN_TETHERING);
	assert_int_equal(store_connection_parse("SIM", &c), -ERR_SYNTAX);
	assert_int_equal(store_connection_parse("", &c), -ERR_SYNTAX);
	assert_int_equal(store_connection_parse(NULL, &c), -ERR_SYNTAX);
	assert_int_equal(store_device_parse("tablet", &dv), 0);
	assert_int_equal(dv, STORE_DEVICE_TABLET);
	assert_int_equal(store_device_parse("watch", &dv), -ERR_SYNTAX);

	assert_int_equal(new_diag_make(&a, &key1, "198.18.5.7", 1000), 0);
	assert_int_equal(new_diag_make(&b, &key1, "198.18.5.8", 2000), 0);
	a.nd.device = STORE_DEVICE_TABLET;
	assert_int_equal(store_create(st, &a.nd), 0);
	assert_int_equal(store_create(st, &b.nd), 0); /* no class recorded */
	b.nd.device = STORE_DEVICE_X_MAX;
	assert_int_equal(store_create(st, &b.nd), -ERR_SYNTAX);
	b.nd.device = STORE_DEVICE_NONE;
	b.nd.connection = STORE_CONN_X_MAX;
	assert_int_equal(store_create(st, &b.nd), -ERR_SYNTAX);

	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.device, STORE_DEVICE_TABLET);
	assert_int_equal(d.connection, STORE_CONN_NONE);
	store_diagnosis_done(&d);

	/* The delete token guards the answer: a wrong one changes nothing. */
	assert_int_equal(store_set_connection(st, a.id, b.token, STORE_CONN_SIM), -EACCES);
	assert_int_equal(store_set_connection(st, a.id, "", STORE_CONN_SIM), -EACCES);
	assert_int_equal(
	    store_set_connection(st, "0123456789abcdef0123456789abcdef", a.token, STORE_CONN_SIM),
	    -ENOENT);
	assert_int_equal(store_set_connection(st, "nope", a.token, STORE_CONN_SIM), -ERR_SYNTAX);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_X_MAX), -ERR_RANGE);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.connection, STORE_CONN_NONE);
	store_diagnosis_done(&d);

	/* Set, change, clear, set again. */
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_SIM), 0);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.connection, STORE_CONN_SIM);
	store_diagnosis_done(&d);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM diagnoses WHERE connection = 'sim'"
	                                 " AND device = 'tablet'"),
	                 1);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_ROUTER), 0);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.connection, STORE_CONN_ROUTER);
	store_diagnosis_done(&d);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_NONE), 0);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM diagnoses WHERE connection IS NULL"),
	                 2);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_USB_MODEM), 0);
	assert_int_equal(store_set_connection(st, b.id, b.token, STORE_CONN_WIRED), 0);

	/* An answer known at creation (a generated store) is stored as given. */
	{
		struct new_diag c3;

		assert_int_equal(new_diag_make(&c3, &key1, "198.18.5.9", 2500), 0);
		c3.nd.connection = STORE_CONN_TETHERING;
		c3.nd.device = STORE_DEVICE_PHONE;
		assert_int_equal(store_create_async(st, &c3.nd), 0);
		assert_int_equal(store_flush(st), 0);
		assert_int_equal(store_get(st, c3.id, &d), 0);
		assert_int_equal(d.connection, STORE_CONN_TETHERING);
		assert_int_equal(d.device, STORE_DEVICE_PHONE);
		store_diagnosis_done(&d);
		assert_int_equal(store_delete(st, c3.id, c3.token), 0);
	}

	/* The report iterator sees both (done diagnoses only). */
	save(st, a.id, 1500, "critical", "{}", 1, 0);
	save(st, b.id, 2500, "none", "{}", 1, 0);
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_iter_results(st, NULL, answers_cb, &an), 2);
	assert_string_equal(an.ids[0], a.id);
	assert_int_equal(an.conn[0], STORE_CONN_USB_MODEM);
	assert_int_equal(an.dev[0], STORE_DEVICE_TABLET);
	assert_int_equal(an.conn[1], STORE_CONN_WIRED);
	assert_int_equal(an.dev[1], STORE_DEVICE_NONE);

	/* Deleting the result deletes the answer with the row. */
	assert_int_equal(store_delete(st, a.id, a.token), 0);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_SIM), -ENOENT);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM diagnoses WHERE connection ="
	                                 " 'usb-modem' OR device = 'tablet'"),
	                 0);
	store_close(st);
	/* The database itself refuses a value outside the list. */
	{
		sqlite3 *h;

		assert_int_equal(sqlite3_open(sc->db, &h), SQLITE_OK);
		assert_int_not_equal(
		    sqlite3_exec(h, "UPDATE diagnoses SET connection = 'wifi'", NULL, NULL, NULL),
		    SQLITE_OK);
		assert_int_not_equal(
		    sqlite3_exec(h, "UPDATE diagnoses SET device = 'watch'", NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(h);
	}
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

static void test_purge(void **state)
{
	struct scratch *sc = *state;
	struct store *st = open_ok(sc->db, 0, 0);
	struct new_diag d[5];
	struct store_diagnosis g;

	for (int i = 0; i < 5; i++) {
		assert_int_equal(new_diag_make(&d[i], &key1, "198.18.1.1", 1000 * (i + 1)), 0);
		assert_int_equal(store_create(st, &d[i].nd), 0);
		save(st, d[i].id, 1000 * (i + 1) + 10, "high", "{}", 4, 2);
	}
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM check_results"), 20);
	assert_int_equal(store_purge_older_than(st, 3000), 2);
	assert_int_equal(store_get(st, d[0].id, &g), -ENOENT);
	assert_int_equal(store_get(st, d[1].id, &g), -ENOENT);
	assert_int_equal(store_get(st, d[2].id, &g), 0);
	store_diagnosis_done(&g);
	/* rows go with their diagnosis (ON DELETE CASCADE) */
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM check_results"), 12);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM findings"), 6);
	assert_int_equal(store_purge_older_than(st, 3000), 0);
	assert_int_equal(store_purge_older_than(st, INT64_MAX), 3);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM check_results"), 0);
	store_close(st);
}

static void test_purge_many(void **state)
{
	struct scratch *sc = *state;
	struct store_opts o = {.flags = STORE_QUEUE_BLOCK | STORE_FAST_CREATE};
	struct store *st;
	struct new_diag d;

	assert_int_equal(store_open(sc->db, &o, &st), 0);
	for (int i = 0; i < 1234; i++) {
		assert_int_equal(new_diag_make(&d, &key1, "198.18.1.1", i), 0);
		assert_int_equal(store_create_async(st, &d.nd), 0);
	}
	assert_int_equal(store_flush(st), 0);
	/* several chunks of 500 */
	assert_int_equal(store_purge_older_than(st, 1200), 1200);
	assert_int_equal(store_count_inflight(st), 34);
	store_close(st);
}

static void test_restart_marks_interrupted(void **state)
{
	struct scratch *sc = *state;
	struct store *st = open_ok(sc->db, 0, 0);
	struct new_diag q, r, dn, in;
	struct store_diagnosis g;
	int64_t before;

	assert_int_equal(new_diag_make(&q, &key1, "198.18.1.1", 1000), 0);
	assert_int_equal(new_diag_make(&r, &key1, "198.18.1.2", 1001), 0);
	assert_int_equal(new_diag_make(&dn, &key1, "198.18.1.3", 1002), 0);
	assert_int_equal(new_diag_make(&in, &key1, "198.18.1.4", 1003), 0);
	assert_int_equal(store_create(st, &q.nd), 0);
	assert_int_equal(store_create(st, &r.nd), 0);
	assert_int_equal(store_create(st, &dn.nd), 0);
	assert_int_equal(store_create(st, &in.nd), 0);
	assert_int_equal(store_set_status(st, r.id, STORE_RUNNING, 1100), 0);
	assert_int_equal(store_set_status(st, dn.id, STORE_RUNNING, 1100), 0);
	assert_int_equal(store_set_status(st, in.id, STORE_INTERRUPTED, 1200), 0);
	save(st, dn.id, 1300, "none", "{}", 1, 0);
	store_close(st); /* closing never marks anything */
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM diagnoses WHERE status"
	                                 " IN ('queued', 'running')"),
	                 2);

	before = store_now_ms();
	st = open_ok(sc->db, 0, 2);
	assert_int_equal(store_count_inflight(st), 0);
	assert_int_equal(store_get(st, q.id, &g), 0);
	assert_int_equal(g.status, STORE_INTERRUPTED);
	assert_true(g.finished_ms >= before);
	store_diagnosis_done(&g);
	assert_int_equal(store_get(st, r.id, &g), 0);
	assert_int_equal(g.status, STORE_INTERRUPTED);
	assert_int_equal(g.started_ms, 1100);
	store_diagnosis_done(&g);
	assert_int_equal(store_get(st, dn.id, &g), 0);
	assert_int_equal(g.status, STORE_DONE);
	assert_int_equal(g.finished_ms, 1300);
	store_diagnosis_done(&g);
	assert_int_equal(store_get(st, in.id, &g), 0);
	assert_int_equal(g.status, STORE_INTERRUPTED);
	assert_int_equal(g.finished_ms, 1200);
	store_diagnosis_done(&g);
	/* a late result for an interrupted diagnosis is ignored */
	save(st, q.id, 5000, "high", "{}", 1, 0);
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_get(st, q.id, &g), 0);
	assert_int_equal(g.status, STORE_INTERRUPTED);
	assert_null(g.json);
	store_diagnosis_done(&g);
	store_close(st);
	st = open_ok(sc->db, 0, 0);
	store_close(st);
}

static void test_readonly_and_lock(void **state)
{
	struct scratch *sc = *state;
	struct store *st = open_ok(sc->db, 0, 0), *ro, *second;
	struct store_opts o = {0};
	struct new_diag q;
	struct store_diagnosis g;

	assert_int_equal(new_diag_make(&q, &key1, "198.18.1.1", 1000), 0);
	assert_int_equal(store_create(st, &q.nd), 0);
	/* A second service on the same file would mark the first one's work interrupted. */
	second = (struct store *)&o;
	assert_int_equal(store_open(sc->db, &o, &second), -EBUSY);
	assert_null(second);
	/* A reader (exposure report) does not mark, lock or write. */
	ro = open_ok(sc->db, STORE_READONLY, 0);
	assert_int_equal(store_get(ro, q.id, &g), 0);
	assert_int_equal(g.status, STORE_QUEUED);
	store_diagnosis_done(&g);
	assert_int_equal(store_create(ro, &q.nd), -EROFS);
	assert_int_equal(store_set_status(ro, q.id, STORE_RUNNING, 1), -EROFS);
	assert_int_equal(store_delete(ro, q.id, q.token), -EROFS);
	assert_int_equal(store_purge_older_than(ro, INT64_MAX), -EROFS);
	assert_int_equal(store_flush(ro), 0);
	store_close(ro);
	store_close(st);
	st = open_ok(sc->db, 0, 1);
	store_close(st);
}

static void test_async_order_and_flush(void **state)
{
	struct scratch *sc = *state;
	struct store_opts o = {.flags = STORE_QUEUE_BLOCK, .queue_max = 16, .batch_max = 7};
	struct store *st;
	struct new_diag d[300];
	struct store_diagnosis g;
	struct store_stats stats;

	assert_int_equal(store_open(sc->db, &o, &st), 0);
	/* create, running, result, interrupted: each applies only in this order */
	for (int i = 0; i < 300; i++) {
		assert_int_equal(new_diag_make(&d[i], &key1, "2001:db8::1", i), 0);
		assert_int_equal(store_create_async(st, &d[i].nd), 0);
		assert_int_equal(store_set_status(st, d[i].id, STORE_RUNNING, 10000 + i), 0);
		if (i % 2 == 0)
			save(st, d[i].id, 20000 + i, "medium", "{}", 2, 1);
		assert_int_equal(store_set_status(st, d[i].id, STORE_INTERRUPTED, 30000 + i), 0);
	}
	assert_int_equal(store_flush(st), 0);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(store_get(st, d[i].id, &g), 0);
		assert_int_equal(g.started_ms, 10000 + i);
		if (i % 2 == 0) {
			assert_int_equal(g.status, STORE_DONE);
			assert_int_equal(g.finished_ms, 20000 + i);
		} else {
			assert_int_equal(g.status, STORE_INTERRUPTED);
			assert_int_equal(g.finished_ms, 30000 + i);
		}
		store_diagnosis_done(&g);
	}
	store_get_stats(st, &stats);
	assert_int_equal(stats.queued, 300 * 3 + 150);
	assert_int_equal(stats.applied, stats.queued);
	assert_int_equal(stats.failed, 0);
	assert_int_equal(stats.queue_len, 0);
	assert_true(stats.transactions >= (300 * 3 + 150) / 7);

	/* A failing write is reported by the next flush, once, and does not undo its batch. */
	assert_int_equal(store_create_async(st, &d[0].nd), 0);
	assert_int_equal(store_set_status(st, d[1].id, STORE_DONE, 1), 0);
	assert_int_equal(store_flush(st), -EEXIST);
	assert_int_equal(store_flush(st), 0);
	store_get_stats(st, &stats);
	assert_int_equal(stats.failed, 1);
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

/* Many threads at once: sync creates, async writes, reads. */
struct mt_arg {
	struct store *st;
	int base;
	int errors;
};

static void *mt_worker(void *p)
{
	struct mt_arg *a = p;
	struct store_diagnosis g;
	struct new_diag d;

	for (int i = 0; i < 100; i++) {
		if (new_diag_make(&d, &key1, "198.18.7.7", a->base + i) < 0 ||
		    store_create(a->st, &d.nd) < 0 ||
		    store_set_status(a->st, d.id, STORE_RUNNING, a->base + i) < 0 ||
		    store_get(a->st, d.id, &g) < 0)
			a->errors++;
		store_diagnosis_done(&g);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct scratch *sc = *state;
	struct store_opts o = {.flags = STORE_QUEUE_BLOCK | STORE_FAST_CREATE};
	struct mt_arg args[4];
	pthread_t t[4];
	struct store *st;

	assert_int_equal(store_open(sc->db, &o, &st), 0);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct mt_arg){.st = st, .base = i * 1000};
		assert_int_equal(pthread_create(&t[i], NULL, mt_worker, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(args[i].errors, 0);
	}
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(raw_int(sc->db, "SELECT count(*) FROM diagnoses WHERE status"
	                                 " = 'running'"),
	                 400);
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
	    cmocka_unit_test_setup_teardown(test_migrations_new_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_get_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_rejects_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_result_and_iterator, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connection_and_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_from_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_marks_interrupted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readonly_and_lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_async_order_and_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sweeps, setup, teardown),
	    cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
