/* SPDX-License-Identifier: MIT */
/*
 * SQLite backend of the store: WAL, migrations at open, restart marking, the writes as SQL
 * applied by the write queue's thread (store_queue.c: order, batching, group commit, waiting
 * callers) on the only writing connection, a mutex-guarded connection for point reads, and a
 * fresh read connection per report iteration. Threading model: docs/internals/STORE.md.
 */
#include "store/store_sqlite.h"

#include "store/store_queue.h"

#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_BUSY_MS 5000

/* Statements cached per connection, prepared on first use. */
enum sql_id {
	SQL_BEGIN = 0,
	SQL_COMMIT,
	SQL_ROLLBACK,
	SQL_SAVEPOINT,
	SQL_RELEASE,
	SQL_ROLLBACK_TO,
	SQL_INSERT,
	SQL_RUNNING,
	SQL_FINISH,
	SQL_RESULT,
	SQL_CHECK_INS,
	SQL_FINDING_INS,
	SQL_GET,
	SQL_TOKEN,
	SQL_DOC_INS,
	SQL_DELETE_N,
	SQL_PURGE,
	SQL_INFLIGHT,
	SQL_SYNC_FULL,
	SQL_SYNC_NORMAL,
	SQL_CONNECTION,
	SQL_IMPORT,
	SQL_SWEEP_INS,
	SQL_SWEEP_END,
	SQL_SWEEP_GET,
	SQL_SWEEP_LIST,
	SQL_ACTIVE,
	SQL_X_MAX
};

static const char *const sql_text[SQL_X_MAX] = {
    [SQL_BEGIN] = "BEGIN IMMEDIATE",
    [SQL_COMMIT] = "COMMIT",
    [SQL_ROLLBACK] = "ROLLBACK",
    [SQL_SAVEPOINT] = "SAVEPOINT w",
    [SQL_RELEASE] = "RELEASE w",
    [SQL_ROLLBACK_TO] = "ROLLBACK TO w",
    [SQL_INSERT] = "INSERT INTO diagnoses (id, token_hash, status, created_ms, requester_hash,"
                   " requester_prefix, family, lang, device, connection, sweep, address)"
                   " VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [SQL_RUNNING] = "UPDATE diagnoses SET status = 'running', started_ms = ?2"
                    " WHERE id = ?1 AND status = 'queued'",
    [SQL_FINISH] = "UPDATE diagnoses SET status = ?3, finished_ms = ?2"
                   " WHERE id = ?1 AND status IN ('queued', 'running')",
    [SQL_RESULT] = "UPDATE diagnoses SET status = 'done', finished_ms = ?2, risk = ?3,"
                   " checks_summary = ?4, findings_summary = ?5, families = ?6"
                   " WHERE id = ?1 AND status IN ('queued', 'running') RETURNING n",
    [SQL_DOC_INS] = "INSERT OR REPLACE INTO documents (diag, json) VALUES (?1, ?2)",
    [SQL_CHECK_INS] = "INSERT OR REPLACE INTO check_results (diag, check_name, port, state,"
                      " reason, rtt_ms, service) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQL_FINDING_INS] = "INSERT INTO findings (diag, seq, check_name, finding, severity,"
                        " confidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SQL_GET] = "SELECT d.id, d.status, d.created_ms, d.started_ms, d.finished_ms,"
                " d.requester_hash, d.requester_prefix, d.family, d.lang, d.risk, x.json,"
                " d.connection, d.device"
                " FROM diagnoses d LEFT JOIN documents x ON x.diag = d.n WHERE d.id = ?1",
    [SQL_TOKEN] = "SELECT n, token_hash FROM diagnoses WHERE id = ?1",
    [SQL_DELETE_N] = "DELETE FROM diagnoses WHERE n = ?1",
    [SQL_PURGE] = "DELETE FROM diagnoses WHERE n IN (SELECT n FROM diagnoses"
                  " WHERE created_ms < ?1 ORDER BY created_ms LIMIT ?2)",
    [SQL_INFLIGHT] = "SELECT count(*) FROM diagnoses WHERE status IN ('queued', 'running')",
    [SQL_SYNC_FULL] = "PRAGMA synchronous = FULL",
    [SQL_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
    [SQL_CONNECTION] = "UPDATE diagnoses SET connection = ?2 WHERE n = ?1",
    [SQL_ACTIVE] = "SELECT id FROM diagnoses WHERE requester_hash = ?1"
                   " AND status IN ('queued', 'running') ORDER BY created_ms DESC LIMIT 1",
    [SQL_IMPORT] = "INSERT INTO diagnoses (id, token_hash, status, created_ms, started_ms,"
                   " finished_ms, requester_hash, requester_prefix, family, lang, risk,"
                   " checks_summary, findings_summary, connection, device, families, sweep,"
                   " address)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                   " ?16, ?17, ?18) RETURNING n",
    [SQL_SWEEP_INS] = "INSERT INTO sweeps (id, started_ms, targets, ports) VALUES (?1, ?2, ?3, ?4)",
    [SQL_SWEEP_END] = "UPDATE sweeps SET finished_ms = ?2, sent = ?3, open_ports = ?4, hosts = ?5"
                      " WHERE id = ?1",
    [SQL_SWEEP_GET] = "SELECT id, started_ms, finished_ms, targets, ports, sent, open_ports, hosts"
                      " FROM sweeps WHERE id = ?1",
    [SQL_SWEEP_LIST] = "SELECT id, started_ms, finished_ms, targets, ports, sent, open_ports,"
                       " hosts FROM sweeps ORDER BY started_ms, id",
};

struct conn {
	sqlite3 *db;
	sqlite3_stmt *st[SQL_X_MAX];
	bool full_sync; /* PRAGMA synchronous is FULL now */
};

struct wcheck {
	char check[STORE_NAME_MAX];
	char state[STORE_NAME_MAX];
	char reason[STORE_NAME_MAX];
	char service[STORE_NAME_MAX];
	uint16_t port;
	bool has_reason, has_service;
	double rtt_ms;
};

struct wfinding {
	char check[STORE_NAME_MAX];
	char id[FINDING_ID_MAX];
	enum severity severity;
	enum confidence confidence;
};

/* One queued write; owns everything it points to. */
struct wop {
	struct store_write h; /* first: the queue's part, type, id, status, token (store_impl.h) */
	/* WOP_CREATE */
	struct store_new nd;
	uint8_t token_hash[STORE_HASH_BYTES];
	char requester_hash[STORE_HASH_HEX];
	char prefix[STORE_PREFIX_MAX];
	char lang[STORE_NAME_MAX];
	char sweep[STORE_ID_LEN + 1];
	char address[ADDR_STRLEN];
	/* WOP_RESULT */
	char risk[STORE_NAME_MAX];
	unsigned families;
	char *json;
	char *checks_summary;
	char *findings_summary;
	struct wcheck *checks;
	size_t n_checks;
	struct wfinding *findings;
	size_t n_findings;
	/* WOP_IMPORT */
	struct store_full *imp;
};

struct sq {
	struct store base;
	char *path;
	unsigned flags;
	unsigned busy_ms;
	int lock_fd;

	pthread_mutex_t sync_mu; /* guards sync */
	struct conn sync;        /* migrations and marking at open; then point reads only */

	struct conn wr; /* the queue's writer thread's own */
};

static struct sq *to_sq(struct store *s)
{
	return (struct sq *)s;
}

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_IOERR:
		return -EIO;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		return -ERR_INTERNAL;
	default:
		return -ERR_INTERNAL;
	}
}

/* The cached statement id on c, reset and unbound; NULL if it cannot be prepared. */
static sqlite3_stmt *stmt(struct conn *c, enum sql_id id)
{
	sqlite3_stmt *st = c->st[id];

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(c->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK)
		return NULL;
	c->st[id] = st;
	return st;
}

/* Run a cached statement that returns no rows we need. */
static int run(struct conn *c, enum sql_id id)
{
	sqlite3_stmt *st = stmt(c, id);
	int rc;

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : map_rc(rc);
}

static void conn_close(struct conn *c)
{
	for (unsigned i = 0; i < SQL_X_MAX; i++) {
		sqlite3_finalize(c->st[i]);
		c->st[i] = NULL;
	}
	sqlite3_close(c->db);
	c->db = NULL;
}

/* The first column of the first row of sql as an integer. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return map_rc(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static int conn_open(struct conn *c, const char *path, bool readonly, bool full_sync,
                     unsigned busy_ms, const struct store_opts *o)
{
	int flags = SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW;
	char sql[64];
	int rc;

	memset(c, 0, sizeof(*c));
	flags |= readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		store_set_err(o, "cannot open %s: %s", path,
		              c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		goto out_close;
	}
	c->full_sync = full_sync;
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, (int)busy_ms);
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s", full_sync ? "FULL" : "NORMAL");
	rc = sqlite3_exec(c->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_set_err(o, "cannot configure %s: %s", path, sqlite3_errmsg(c->db));
		goto out_close;
	}
	return 0;
out_close:
	if (rc == SQLITE_OK)
		rc = SQLITE_ERROR;
	conn_close(c);
	return map_rc(rc);
}

/*
 * Touch only a database that is ours or empty. A file with no schema version of ours
 * (user_version 0) that already holds tables belongs to another program: switching it to WAL
 * or creating our tables in it would change someone else's data, so it is refused before any
 * write.
 */
static int check_ours(struct conn *c, const char *path, const struct store_opts *o)
{
	int64_t version, objects;
	int r;

	if ((r = query_int(c->db, "PRAGMA user_version", &version)) < 0 ||
	    (r = query_int(c->db, "SELECT count(*) FROM sqlite_master", &objects)) < 0) {
		store_set_err(o, "%s: not a readable database: %s", path, sqlite3_errmsg(c->db));
		return r;
	}
	if (version != 0 || objects == 0)
		return 0;
	store_set_err(o,
	              "%s: holds another program's tables (no exposure schema); refusing to "
	              "change it: use a new file",
	              path);
	return -ERR_UNSUPPORTED;
}

static int set_wal(struct conn *c, const char *path, const struct store_opts *o)
{
	sqlite3_stmt *st;
	int rc;
	bool wal = false;

	rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		wal = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!wal) {
		store_set_err(o, "%s: cannot switch to WAL mode: %s", path, sqlite3_errmsg(c->db));
		return rc == SQLITE_ROW ? -ERR_UNSUPPORTED : map_rc(rc);
	}
	return 0;
}

/* Apply pending migrations in one transaction; refuse a schema newer than ours. */
static int migrate(struct conn *c, const char *path, const struct store_opts *o)
{
	int64_t v;
	char sql[48];
	int r, rc;

	if ((r = run(c, SQL_BEGIN)) < 0) {
		store_set_err(o, "%s: cannot lock the database: %s", path, sqlite3_errmsg(c->db));
		return r;
	}
	if ((r = query_int(c->db, "PRAGMA user_version", &v)) < 0)
		goto out_rollback;
	if (v > STORE_SCHEMA_VERSION || v < 0) {
		store_set_err(o,
		              "%s: database schema version %lld is newer than this program knows "
		              "(%d); use a newer exposure or another database",
		              path, (long long)v, STORE_SCHEMA_VERSION);
		r = -ERR_UNSUPPORTED;
		goto out_rollback;
	}
	for (int64_t i = v; i < STORE_SCHEMA_VERSION; i++) {
		rc = sqlite3_exec(c->db, store_sqlite_migrations[i], NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			store_set_err(o, "%s: migration to version %lld failed: %s", path,
			              (long long)i + 1, sqlite3_errmsg(c->db));
			r = map_rc(rc);
			goto out_rollback;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	if ((rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL)) != SQLITE_OK) {
		r = map_rc(rc);
		goto out_rollback;
	}
	if ((r = run(c, SQL_COMMIT)) < 0)
		goto out_rollback;
	return 0;
out_rollback:
	run(c, SQL_ROLLBACK);
	return r;
}

static int check_version_readonly(struct conn *c, const char *path, const struct store_opts *o)
{
	int64_t v;
	int r;

	if ((r = query_int(c->db, "PRAGMA user_version", &v)) < 0) {
		store_set_err(o, "%s: not a readable database: %s", path, sqlite3_errmsg(c->db));
		return r;
	}
	if (v == STORE_SCHEMA_VERSION)
		return 0;
	store_set_err(o, "%s: database schema version %lld, this program reads %d%s", path,
	              (long long)v, STORE_SCHEMA_VERSION,
	              v > STORE_SCHEMA_VERSION ? "; use a newer exposure"
	                                       : "; start exposure serve on it once to migrate");
	return -ERR_UNSUPPORTED;
}

/* The previous process died: whatever it had queued or running will never finish. */
static int mark_interrupted(struct conn *c)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(c->db,
	                        "UPDATE diagnoses SET status = 'interrupted', finished_ms = ?1"
	                        " WHERE status IN ('queued', 'running')",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return map_rc(rc);
	sqlite3_bind_int64(st, 1, store_now_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return map_rc(rc);
	return sqlite3_changes(c->db);
}

static int take_lock(struct sq *s, const struct store_opts *o)
{
	char lp[4096];
	int e;

	if (snprintf(lp, sizeof(lp), "%s.lock", s->path) >= (int)sizeof(lp))
		return -ENAMETOOLONG;
	s->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lock_fd < 0) {
		e = errno; /* before the message's formatting can change it */
		store_set_err(o, "cannot open %s: %s", lp, strerror(e));
		return -e;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		e = errno;
		store_set_err(o, "%s is in use by another process (%s held)", s->path, lp);
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
	return 0;
}

/*
 * Refuse a store file (the database, its -wal or -shm) that group or others may read or write,
 * or that is not ours, as the key file is refused: the documents hold what people's devices
 * answered, and a file that was readable may have been copied already, so the operator must
 * look at it and chmod 600 (a silent repair would hide that). fd is open on it (fstat: the
 * file itself, never a path swapped meanwhile).
 */
static int private_file(int fd, const char *name, const struct store_opts *o)
{
	struct stat st;
	int e;

	if (fstat(fd, &st) < 0) {
		e = errno;
		store_set_err(o, "cannot stat %s: %s", name, strerror(e));
		return -e;
	}
	if ((st.st_mode & 077) == 0 && st.st_uid == geteuid())
		return 0;
	store_set_err(o, "%s must be ours and not accessible by group or others (chmod 600)", name);
	return -EPERM;
}

/* An existing -wal or -shm next to path: refused like the database if it is not private. */
static int private_sidecar(const char *path, const char *suffix, const struct store_opts *o)
{
	char side[4096];
	int fd, r;

	if (snprintf(side, sizeof(side), "%s%s", path, suffix) >= (int)sizeof(side))
		return -ENAMETOOLONG;
	fd = open(side, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = private_file(fd, side, o);
	close(fd);
	return r;
}

/*
 * Create the database file 0600 before SQLite does (it would use 0644 minus the umask): the
 * documents hold what people's devices answered. SQLite creates -wal and -shm with the
 * database's own mode, so they are 0600 as well; an existing file of any of the three with
 * wider permissions is refused (private_file). Done before SQLite opens the file, so closing
 * this fd cannot drop any of its POSIX locks.
 */
static int precreate(const char *path, const struct store_opts *o)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int e, r;

	if (fd < 0) {
		e = errno; /* before the message's formatting can change it */
		store_set_err(o, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	r = private_file(fd, path, o);
	close(fd);
	if (r == 0)
		r = private_sidecar(path, "-wal", o);
	if (r == 0)
		r = private_sidecar(path, "-shm", o);
	return r;
}

static const struct store_queue_ops sq_queue_ops;

static void sq_close(struct store *base)
{
	struct sq *s = to_sq(base);

	store_queue_stop(s->base.q); /* drains: every queued write is applied first */
	conn_close(&s->wr);
	conn_close(&s->sync);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	pthread_mutex_destroy(&s->sync_mu);
	free(s->path);
	free(s);
}

static int sq_open(const char *path, const struct store_opts *o, struct store **out)
{
	static const struct store_opts defaults = {0};
	bool ro, full;
	struct sq *s;
	int r, marked = 0;

	if (!o)
		o = &defaults;
	if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0) {
		store_set_err(o, "the store needs a plain file name");
		return -EINVAL;
	}
	if (sodium_init() < 0)
		return -ERR_INTERNAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->base.ops = &store_sqlite_ops;
	s->lock_fd = -1;
	s->flags = o->flags;
	s->busy_ms = o->busy_timeout_ms ? o->busy_timeout_ms : DEFAULT_BUSY_MS;
	pthread_mutex_init(&s->sync_mu, NULL);
	s->path = strdup(path);
	if (!s->path) {
		r = -ENOMEM;
		goto out_close;
	}
	ro = s->flags & STORE_READONLY;
	full = !(s->flags & STORE_FAST_CREATE);
	if (!ro && (r = take_lock(s, o)) < 0)
		goto out_close;
	if (!ro && (r = precreate(path, o)) < 0)
		goto out_close;
	if ((r = conn_open(&s->sync, path, ro, full, s->busy_ms, o)) < 0)
		goto out_close;
	if (ro) {
		if ((r = check_version_readonly(&s->sync, path, o)) < 0)
			goto out_close;
		*out = &s->base;
		return 0;
	}
	if ((r = check_ours(&s->sync, path, o)) < 0 || (r = set_wal(&s->sync, path, o)) < 0 ||
	    (r = migrate(&s->sync, path, o)) < 0)
		goto out_close;
	if ((marked = mark_interrupted(&s->sync)) < 0) {
		r = marked;
		store_set_err(o, "%s: cannot mark unfinished diagnoses: %s", path,
		              sqlite3_errmsg(s->sync.db));
		goto out_close;
	}
	/* The writer's connection: NORMAL by default (a commit is in the WAL, in the page cache,
	 * before the writer moves on: a kill -9 loses none, a power cut may lose the last few);
	 * a batch holding a synchronous create switches to FULL (wr_begin). */
	if ((r = conn_open(&s->wr, path, false, false, s->busy_ms, o)) < 0)
		goto out_close;
	if ((r = store_start_queue(&s->base, &sq_queue_ops, s, o)) < 0)
		goto out_close;
	*out = &s->base;
	return marked;
out_close:
	sq_close(&s->base);
	return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Applying writes: on the writer thread only.                                              */

static int apply_create(struct conn *c, const struct store_new *d)
{
	uint8_t rh[STORE_HASH_BYTES];
	sqlite3_stmt *st = stmt(c, SQL_INSERT);
	int rc;

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	if (store_hex_to_hash(d->requester_hash, rh) < 0)
		return -ERR_SYNTAX;
	sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, d->token_hash, STORE_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, d->created_ms);
	sqlite3_bind_blob(st, 4, rh, sizeof(rh), SQLITE_STATIC);
	sqlite3_bind_text(st, 5, d->prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, d->family == AF_INET ? 4 : 6);
	sqlite3_bind_text(st, 7, d->lang, -1, SQLITE_STATIC);
	if (d->device != STORE_DEVICE_NONE)
		sqlite3_bind_text(st, 8, store_device_name(d->device), -1, SQLITE_STATIC);
	if (d->connection != STORE_CONN_NONE)
		sqlite3_bind_text(st, 9, store_connection_name(d->connection), -1, SQLITE_STATIC);
	if (d->sweep) {
		sqlite3_bind_text(st, 10, d->sweep, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, d->address, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static int apply_status(struct conn *c, const struct wop *w)
{
	sqlite3_stmt *st = stmt(c, w->h.status == STORE_RUNNING ? SQL_RUNNING : SQL_FINISH);
	int rc;

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	sqlite3_bind_text(st, 1, w->h.id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, w->h.at_ms);
	if (w->h.status != STORE_RUNNING)
		sqlite3_bind_text(st, 3, store_status_name(w->h.status), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* The rows of diagnosis n, one at a time: a result's and an imported one's alike. */
static int insert_doc(struct conn *c, int64_t n, const char *json)
{
	sqlite3_stmt *st = stmt(c, SQL_DOC_INS);

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	sqlite3_bind_int64(st, 1, n);
	sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
	return step_done(st);
}

/* One port (reason, service NULL: none; rtt_ms < 0: none). */
static int insert_port(struct conn *c, int64_t n, const char *check, uint16_t port,
                       const char *state, const char *reason, double rtt_ms, const char *service)
{
	sqlite3_stmt *st = stmt(c, SQL_CHECK_INS);

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	sqlite3_bind_int64(st, 1, n);
	sqlite3_bind_text(st, 2, check, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, port);
	sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
	bind_opt_text(st, 5, reason);
	if (rtt_ms >= 0)
		sqlite3_bind_double(st, 6, rtt_ms);
	bind_opt_text(st, 7, service);
	return step_done(st);
}

/* The finding at seq (its order in the result). */
static int insert_finding(struct conn *c, int64_t n, size_t seq, const char *check, const char *id,
                          enum severity severity, enum confidence confidence)
{
	sqlite3_stmt *st = stmt(c, SQL_FINDING_INS);

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	sqlite3_bind_int64(st, 1, n);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	sqlite3_bind_text(st, 3, check, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, severity_name(severity), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, confidence_name(confidence), -1, SQLITE_STATIC);
	return step_done(st);
}

static int insert_rows(struct conn *c, const struct wop *w, int64_t n)
{
	int r;

	if ((r = insert_doc(c, n, w->json)) < 0)
		return r;
	for (size_t i = 0; i < w->n_checks; i++) {
		const struct wcheck *k = &w->checks[i];

		if ((r = insert_port(c, n, k->check, k->port, k->state,
		                     k->has_reason ? k->reason : NULL, k->rtt_ms,
		                     k->has_service ? k->service : NULL)) < 0)
			return r;
	}
	for (size_t i = 0; i < w->n_findings; i++) {
		const struct wfinding *f = &w->findings[i];

		if ((r = insert_finding(c, n, i, f->check, f->id, f->severity, f->confidence)) < 0)
			return r;
	}
	return 0;
}

/* The families column: 4, 6 or 46 for both, as an operator reads it in the database. */
static int family_column(unsigned families)
{
	return families == STORE_FAMILY_BOTH ? 46 : families == STORE_FAMILY_V4 ? 4 : 6;
}

/* The column read back; NULL (a row before schema 3, or saved without) is the requester's. */
static unsigned family_bits(sqlite3_stmt *st, int col, int requester_col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return sqlite3_column_int(st, requester_col) == 4 ? STORE_FAMILY_V4
		                                                  : STORE_FAMILY_V6;
	switch (sqlite3_column_int(st, col)) {
	case 4:
		return STORE_FAMILY_V4;
	case 46:
		return STORE_FAMILY_BOTH;
	default:
		return STORE_FAMILY_V6;
	}
}

static int apply_result(struct conn *c, const struct wop *w)
{
	sqlite3_stmt *st = stmt(c, SQL_RESULT);
	int64_t n;
	int rc;

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	sqlite3_bind_text(st, 1, w->h.id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, w->h.at_ms);
	sqlite3_bind_text(st, 3, w->risk, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, w->checks_summary, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, w->findings_summary, -1, SQLITE_STATIC);
	if (w->families != 0) /* 0 stays unbound: NULL, the requester's family */
		sqlite3_bind_int(st, 6, family_column(w->families));
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		/* Deleted, interrupted or already done meanwhile: nothing to attach rows to. */
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return map_rc(rc);
	}
	n = sqlite3_column_int64(st, 0);
	if ((rc = step_done(st)) < 0) /* finish the RETURNING statement before the inserts */
		return rc;
	return insert_rows(c, w, n);
}

/* The row number of w->h.id if its token hash matches (constant time): 0, -ENOENT or -EACCES. */
static int token_row(struct conn *c, const struct wop *w, int64_t *n)
{
	sqlite3_stmt *st = stmt(c, SQL_TOKEN);
	int rc, r;

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	sqlite3_bind_text(st, 1, w->h.id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOENT : map_rc(rc);
	}
	*n = sqlite3_column_int64(st, 0);
	r = -EACCES;
	if (sqlite3_column_bytes(st, 1) == STORE_HASH_BYTES &&
	    sodium_memcmp(sqlite3_column_blob(st, 1), w->h.given_hash, STORE_HASH_BYTES) == 0)
		r = 0;
	sqlite3_reset(st);
	return r;
}

/* Statement id with the token's row bound as its $1 if the token hash matches: 0, -ENOENT,
 * -EACCES. */
static int token_stmt(struct conn *c, const struct wop *w, enum sql_id id, sqlite3_stmt **st)
{
	int64_t n;
	int r;

	if ((r = token_row(c, w, &n)) < 0)
		return r;
	if (!(*st = stmt(c, id)))
		return map_rc(sqlite3_errcode(c->db));
	sqlite3_bind_int64(*st, 1, n);
	return 0;
}

/* Delete if the token hash matches. 0, -ENOENT or -EACCES. */
static int apply_delete(struct conn *c, const struct wop *w)
{
	sqlite3_stmt *st;
	int r;

	if ((r = token_stmt(c, w, SQL_DELETE_N, &st)) < 0)
		return r;
	return step_done(st);
}

/* Set or clear the connection answer if the token hash matches. 0, -ENOENT or -EACCES. */
static int apply_connection(struct conn *c, const struct wop *w)
{
	sqlite3_stmt *st;
	int r;

	if ((r = token_stmt(c, w, SQL_CONNECTION, &st)) < 0)
		return r;
	if (w->h.connection != STORE_CONN_NONE) /* NONE stays unbound: NULL */
		sqlite3_bind_text(st, 2, store_connection_name(w->h.connection), -1, SQLITE_STATIC);
	return step_done(st);
}

/* The rows of an imported diagnosis n: document, ports, findings (seq in their order). */
static int import_rows(struct conn *c, const struct store_full *f, int64_t n)
{
	int r;

	if (f->json && (r = insert_doc(c, n, f->json)) < 0)
		return r;
	for (size_t i = 0; i < f->n_checks; i++) {
		const struct store_check_row *k = &f->checks[i];

		if ((r = insert_port(c, n, k->check, k->port, k->state, k->reason, k->rtt_ms,
		                     k->service)) < 0)
			return r;
	}
	for (size_t i = 0; i < f->n_findings; i++) {
		const struct store_finding_row *k = &f->findings[i];

		if ((r = insert_finding(c, n, i, k->check, k->id, k->severity, k->confidence)) < 0)
			return r;
	}
	return 0;
}

/* A whole diagnosis as another store had it (exposure store copy). */
static int apply_import(struct conn *c, const struct store_full *f)
{
	uint8_t rh[STORE_HASH_BYTES];
	sqlite3_stmt *st = stmt(c, SQL_IMPORT);
	int64_t n;
	int rc;

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	if (store_hex_to_hash(f->requester_hash, rh) < 0)
		return -ERR_SYNTAX;
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, f->token_hash, STORE_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, store_status_name(f->status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, f->created_ms);
	if (f->started_ms)
		sqlite3_bind_int64(st, 5, f->started_ms);
	if (f->finished_ms)
		sqlite3_bind_int64(st, 6, f->finished_ms);
	sqlite3_bind_blob(st, 7, rh, sizeof(rh), SQLITE_STATIC);
	sqlite3_bind_text(st, 8, f->prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, f->family == AF_INET ? 4 : 6);
	sqlite3_bind_text(st, 10, f->lang, -1, SQLITE_STATIC);
	bind_opt_text(st, 11, f->risk);
	bind_opt_text(st, 12, f->checks_summary);
	bind_opt_text(st, 13, f->findings_summary);
	bind_opt_text(st, 14, store_connection_name(f->connection));
	bind_opt_text(st, 15, store_device_name(f->device));
	if (f->families)
		sqlite3_bind_int(st, 16, family_column(f->families));
	bind_opt_text(st, 17, f->sweep);
	bind_opt_text(st, 18, f->address);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return map_rc(rc);
	}
	n = sqlite3_column_int64(st, 0);
	if ((rc = step_done(st)) < 0)
		return rc;
	return import_rows(c, f, n);
}

/* One chunk of a purge. Returns the number deleted. */
static int apply_purge(struct conn *c, const struct wop *w)
{
	sqlite3_stmt *st = stmt(c, SQL_PURGE);
	int r;

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	sqlite3_bind_int64(st, 1, w->h.at_ms);
	sqlite3_bind_int(st, 2, STORE_PURGE_CHUNK);
	if ((r = step_done(st)) < 0)
		return r;
	return sqlite3_changes(c->db);
}

static int apply_sweep(struct conn *c, const struct wop *w)
{
	const struct store_sweep *sw = w->h.sw;
	sqlite3_stmt *st = stmt(c, w->h.type == WOP_SWEEP_BEGIN ? SQL_SWEEP_INS : SQL_SWEEP_END);

	if (!st)
		return map_rc(sqlite3_errcode(c->db));
	sqlite3_bind_text(st, 1, sw->id, -1, SQLITE_STATIC);
	if (w->h.type == WOP_SWEEP_BEGIN) {
		sqlite3_bind_int64(st, 2, sw->started_ms);
		sqlite3_bind_text(st, 3, sw->targets, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, sw->ports, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_int64(st, 2, sw->finished_ms);
		sqlite3_bind_int64(st, 3, sw->sent);
		sqlite3_bind_int64(st, 4, sw->open_ports);
		sqlite3_bind_int64(st, 5, sw->hosts);
	}
	return step_done(st);
}

static int apply_one(struct conn *c, const struct wop *w)
{
	switch (w->h.type) {
	case WOP_CREATE:
		return apply_create(c, &w->nd);
	case WOP_STATUS:
		return apply_status(c, w);
	case WOP_RESULT:
		return apply_result(c, w);
	case WOP_DELETE:
		return apply_delete(c, w);
	case WOP_PURGE:
		return apply_purge(c, w);
	case WOP_CONNECTION:
		return apply_connection(c, w);
	case WOP_IMPORT:
		return apply_import(c, w->imp);
	case WOP_SWEEP_BEGIN:
	case WOP_SWEEP_END:
		return apply_sweep(c, w);
	case WOP_LIVE: /* PostgreSQL's only: never queued here */
		break;
	}
	return -ERR_INTERNAL;
}

static void wop_free(struct wop *w)
{
	if (!w)
		return;
	free(w->json);
	free(w->checks_summary);
	free(w->findings_summary);
	free(w->checks);
	free(w->findings);
	free(w->imp);
	free(w->h.sw);
	free(w);
}

/* A write never put (store_enqueue on a read-only store). */
static void sq_drop(struct store_write *h)
{
	wop_free((struct wop *)h); /* h is its first member */
}

/* ---------------------------------------------------------------------------------------- */
/* The write queue's steps (store_queue.h), on its writer thread and the wr connection.     */

static struct wop *to_wop(struct store_queue_item *it)
{
	return (struct wop *)(void *)((char *)it - offsetof(struct wop, h.qi));
}

/*
 * A batch that holds a durable write (store_create) commits with synchronous=FULL, so the WAL
 * is fsynced before its caller answers 202; others commit with NORMAL (see STORE.md).
 */
static void set_sync_mode(struct conn *c, bool full)
{
	if (c->full_sync == full)
		return;
	if (run(c, full ? SQL_SYNC_FULL : SQL_SYNC_NORMAL) == 0)
		c->full_sync = full;
}

static int wr_begin(void *ctx, bool durable)
{
	struct sq *s = ctx;

	set_sync_mode(&s->wr, durable);
	return run(&s->wr, SQL_BEGIN);
}

/* Each write under a savepoint, so one bad write (a duplicate id) does not undo the others. */
static int wr_apply(void *ctx, struct store_queue_item *it)
{
	struct conn *c = &((struct sq *)ctx)->wr;
	int r;

	if ((r = run(c, SQL_SAVEPOINT)) < 0)
		return r;
	r = apply_one(c, to_wop(it));
	if (r < 0)
		run(c, SQL_ROLLBACK_TO);
	run(c, SQL_RELEASE);
	return r;
}

static int wr_commit(void *ctx, struct store_queue_item *batch)
{
	(void)batch; /* apply's results are final */
	return run(&((struct sq *)ctx)->wr, SQL_COMMIT);
}

static void wr_rollback(void *ctx)
{
	run(&((struct sq *)ctx)->wr, SQL_ROLLBACK);
}

static void wr_release(void *ctx, struct store_queue_item *it)
{
	(void)ctx;
	wop_free(to_wop(it));
}

static const struct store_queue_ops sq_queue_ops = {
    .begin = wr_begin,
    .apply = wr_apply,
    .commit = wr_commit,
    .rollback = wr_rollback,
    .release = wr_release,
};

/* snprintf into a fixed field; the front end has already checked the length. */
static void copy_name(char *dst, const char *src)
{
	snprintf(dst, STORE_NAME_MAX, "%s", src ? src : "");
}

static int sq_create(struct store *base, const struct store_new *d, bool sync)
{
	struct sq *s = to_sq(base);
	unsigned flags = 0;
	struct wop *w;

	if (!(w = (struct wop *)store_new_write(base, WOP_CREATE, d->id)))
		return -ENOMEM;
	if (sync)
		flags = store_create_put_flags(d, s->flags, &w->h.qi);
	memcpy(w->token_hash, d->token_hash, STORE_HASH_BYTES);
	snprintf(w->requester_hash, sizeof(w->requester_hash), "%s", d->requester_hash);
	snprintf(w->prefix, sizeof(w->prefix), "%s", d->prefix);
	copy_name(w->lang, d->lang);
	w->nd = (struct store_new){
	    .id = w->h.id,
	    .token_hash = w->token_hash,
	    .requester_hash = w->requester_hash,
	    .prefix = w->prefix,
	    .family = d->family,
	    .lang = w->lang,
	    .created_ms = d->created_ms,
	    .device = d->device,
	    .connection = d->connection,
	};
	if (d->sweep) {
		snprintf(w->sweep, sizeof(w->sweep), "%s", d->sweep);
		snprintf(w->address, sizeof(w->address), "%s", d->address);
		w->nd.sweep = w->sweep;
		w->nd.address = w->address;
	}
	return store_enqueue(&s->base, &w->h, flags);
}

static int sq_save_result(struct store *base, const struct store_result *r)
{
	struct wop *w = (struct wop *)store_new_write(base, WOP_RESULT, r->id);
	int e;

	if (!w)
		return -ENOMEM;
	w->h.at_ms = r->finished_ms;
	copy_name(w->risk, r->risk);
	w->families = r->families;
	if ((e = store_summarize(r, &w->checks_summary, &w->findings_summary)) < 0) {
		wop_free(w);
		return e;
	}
	w->json = strdup(r->json);
	w->checks = r->n_checks ? calloc(r->n_checks, sizeof(*w->checks)) : NULL;
	w->findings = r->n_findings ? calloc(r->n_findings, sizeof(*w->findings)) : NULL;
	if (!w->json || (r->n_checks && !w->checks) || (r->n_findings && !w->findings)) {
		wop_free(w);
		return -ENOMEM;
	}
	w->n_checks = r->n_checks;
	w->n_findings = r->n_findings;
	for (size_t i = 0; i < r->n_checks; i++) {
		const struct store_check_row *c = &r->checks[i];
		struct wcheck *k = &w->checks[i];

		copy_name(k->check, c->check);
		copy_name(k->state, c->state);
		copy_name(k->reason, c->reason);
		copy_name(k->service, c->service);
		k->has_reason = c->reason != NULL;
		k->has_service = c->service && *c->service;
		k->port = c->port;
		k->rtt_ms = c->rtt_ms;
	}
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct store_finding_row *f = &r->findings[i];
		struct wfinding *k = &w->findings[i];

		copy_name(k->check, f->check);
		snprintf(k->id, sizeof(k->id), "%s", f->id);
		k->severity = f->severity;
		k->confidence = f->confidence;
	}
	w->h.qi.done = r->saved;
	w->h.qi.done_ud = r->saved_ud;
	return store_enqueue(base, &w->h, 0);
}

static int sq_import(struct store *base, const struct store_full *f)
{
	struct wop *w = (struct wop *)store_new_write(base, WOP_IMPORT, NULL);

	if (!w)
		return -ENOMEM;
	if (!(w->imp = store_full_dup(f))) {
		wop_free(w);
		return -ENOMEM;
	}
	return store_enqueue(base, &w->h, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Reads on the sync connection.                                                            */

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static const char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static int fill_diagnosis(sqlite3_stmt *st, struct store_diagnosis *out)
{
	const unsigned char *json;
	enum store_status status;

	col_text(st, 0, out->id, sizeof(out->id));
	if (store_status_parse((const char *)sqlite3_column_text(st, 1), &status) < 0)
		return -ERR_INTERNAL;
	out->status = status;
	out->created_ms = sqlite3_column_int64(st, 2);
	out->started_ms = sqlite3_column_int64(st, 3);
	out->finished_ms = sqlite3_column_int64(st, 4);
	if (sqlite3_column_bytes(st, 5) == STORE_HASH_BYTES)
		sodium_bin2hex(out->requester_hash, sizeof(out->requester_hash),
		               sqlite3_column_blob(st, 5), STORE_HASH_BYTES);
	col_text(st, 6, out->prefix, sizeof(out->prefix));
	out->family = sqlite3_column_int(st, 7) == 4 ? AF_INET : AF_INET6;
	col_text(st, 8, out->lang, sizeof(out->lang));
	col_text(st, 9, out->risk, sizeof(out->risk));
	(void)store_connection_parse(col_str(st, 11), &out->connection); /* NULL: stays NONE */
	(void)store_device_parse(col_str(st, 12), &out->device);
	json = sqlite3_column_text(st, 10);
	if (json && !(out->json = strdup((const char *)json)))
		return -ENOMEM;
	return 0;
}

static int sq_get(struct store *base, const char *id, struct store_diagnosis *out)
{
	struct sq *s = to_sq(base);
	sqlite3_stmt *st;
	int rc, r;

	pthread_mutex_lock(&s->sync_mu);
	st = stmt(&s->sync, SQL_GET);
	if (!st) {
		r = map_rc(sqlite3_errcode(s->sync.db));
		goto out_unlock;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = fill_diagnosis(st, out);
	else
		r = rc == SQLITE_DONE ? -ENOENT : map_rc(rc);
	sqlite3_reset(st);
out_unlock:
	pthread_mutex_unlock(&s->sync_mu);
	if (r < 0)
		store_diagnosis_done(out);
	return r;
}

static int sq_count_inflight(struct store *base)
{
	struct sq *s = to_sq(base);
	sqlite3_stmt *st;
	int rc, r;

	pthread_mutex_lock(&s->sync_mu);
	st = stmt(&s->sync, SQL_INFLIGHT);
	if (!st) {
		r = map_rc(sqlite3_errcode(s->sync.db));
	} else {
		rc = sqlite3_step(st);
		r = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : map_rc(rc);
		sqlite3_reset(st);
	}
	pthread_mutex_unlock(&s->sync_mu);
	return r;
}

static int sq_find_active(struct store *base, const uint8_t hash[STORE_HASH_BYTES],
                          char id[STORE_ID_LEN + 1])
{
	struct sq *s = to_sq(base);
	sqlite3_stmt *st;
	int rc, r;

	pthread_mutex_lock(&s->sync_mu);
	st = stmt(&s->sync, SQL_ACTIVE);
	if (!st) {
		r = map_rc(sqlite3_errcode(s->sync.db));
	} else {
		sqlite3_bind_blob(st, 1, hash, STORE_HASH_BYTES, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			col_text(st, 0, id, STORE_ID_LEN + 1);
			r = 0;
		} else {
			r = rc == SQLITE_DONE ? -ENOENT : map_rc(rc);
		}
		sqlite3_reset(st);
	}
	pthread_mutex_unlock(&s->sync_mu);
	return r;
}

static int sq_check_integrity(struct store *base, char *msg, size_t n)
{
	struct sq *s = to_sq(base);
	sqlite3_stmt *st;
	int rc, r = -ERR_INTERNAL;

	if (n > 0)
		msg[0] = '\0';
	pthread_mutex_lock(&s->sync_mu);
	rc = sqlite3_prepare_v2(s->sync.db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (n > 0)
			snprintf(msg, n, "%s", t ? t : "");
		r = t && strcmp(t, "ok") == 0 ? 0 : -ERR_INTERNAL;
	} else if (n > 0) {
		snprintf(msg, n, "%s", sqlite3_errmsg(s->sync.db));
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->sync_mu);
	return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Report iteration: one indexed scan of diagnoses, summaries parsed per row.               */

static const char iter_sql[] =
    "SELECT n, id, created_ms, finished_ms, requester_hash, requester_prefix, family, risk,"
    " lang, checks_summary, findings_summary, connection, device, families, sweep, address"
    " FROM diagnoses"
    " WHERE status = 'done' AND created_ms >= ?1 AND created_ms < ?2 AND sweep IS ?3"
    " ORDER BY created_ms, n";

static void period_bind(sqlite3_stmt *st, const struct store_period *p)
{
	int64_t until = p && p->until_ms > 0 ? p->until_ms : INT64_MAX;

	sqlite3_bind_int64(st, 1, p ? p->since_ms : 0);
	sqlite3_bind_int64(st, 2, until);
	/* "sweep IS ?3": NULL matches the rows of no sweep (sweep-store.md). */
	if (p && p->sweep)
		sqlite3_bind_text(st, 3, p->sweep, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 3);
}

static int emit(sqlite3_stmt *st, struct store_summary_buf *b, store_iter_cb *cb, void *ud)
{
	char hash[STORE_HASH_HEX] = "";
	enum store_connection conn = STORE_CONN_NONE;
	enum store_device dev = STORE_DEVICE_NONE;
	struct store_iter_row row;
	int r;

	if ((r = store_summary_parse(b, col_str(st, 9), col_str(st, 10))) < 0)
		return r;
	if (sqlite3_column_bytes(st, 4) == STORE_HASH_BYTES)
		sodium_bin2hex(hash, sizeof(hash), sqlite3_column_blob(st, 4), STORE_HASH_BYTES);
	(void)store_connection_parse(col_str(st, 11), &conn); /* NULL: no answer */
	(void)store_device_parse(col_str(st, 12), &dev);
	row = (struct store_iter_row){
	    .count = 1,
	    .serial = (uint64_t)sqlite3_column_int64(st, 0),
	    .id = col_str(st, 1),
	    .created_ms = sqlite3_column_int64(st, 2),
	    .finished_ms = sqlite3_column_int64(st, 3),
	    .requester_hash = hash,
	    .prefix = col_str(st, 5),
	    .family = sqlite3_column_int(st, 6) == 4 ? AF_INET : AF_INET6,
	    .risk = col_str(st, 7),
	    .lang = col_str(st, 8),
	    .connection = conn,
	    .device = dev,
	    .families = family_bits(st, 13, 6),
	    .checks = b->checks,
	    .n_checks = b->n_checks,
	    .findings = b->findings,
	    .n_findings = b->n_findings,
	    .sweep = (const char *)sqlite3_column_text(st, 14),
	    .address = (const char *)sqlite3_column_text(st, 15),
	};
	return cb(ud, &row);
}

static int read_conn(struct sq *s, sqlite3 **db)
{
	int rc = sqlite3_open_v2(s->path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		sqlite3_close(*db);
		*db = NULL;
		return map_rc(rc);
	}
	sqlite3_busy_timeout(*db, (int)s->busy_ms);
	return 0;
}

static int sq_iter(struct store *base, const struct store_period *p, store_iter_cb *cb, void *ud)
{
	struct sq *s = to_sq(base);
	struct store_summary_buf b = {0};
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, r, count = 0;

	if ((r = read_conn(s, &db)) < 0)
		return r;
	rc = sqlite3_prepare_v2(db, iter_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = map_rc(rc);
		goto out;
	}
	period_bind(st, p);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = emit(st, &b, cb, ud)) != 0)
			goto out;
		if (count < INT32_MAX)
			count++;
	}
	r = rc == SQLITE_DONE ? count : map_rc(rc);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	store_summary_buf_done(&b);
	return r;
}

static int sq_count_results(struct store *base, const struct store_period *p, uint64_t *out)
{
	struct sq *s = to_sq(base);
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, r;

	if ((r = read_conn(s, &db)) < 0)
		return r;
	rc = sqlite3_prepare_v2(db,
	                        "SELECT count(*) FROM diagnoses WHERE status = 'done'"
	                        " AND created_ms >= ?1 AND created_ms < ?2 AND sweep IS ?3",
	                        -1, &st, NULL);
	if (rc == SQLITE_OK) {
		period_bind(st, p);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*out = (uint64_t)sqlite3_column_int64(st, 0);
	}
	r = rc == SQLITE_ROW ? 0 : map_rc(rc);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Dump (exposure store copy): every diagnosis with its rows, on a read connection.         */

static const char dump_sql[] =
    "SELECT d.n, d.id, d.token_hash, d.status, d.created_ms, d.started_ms, d.finished_ms,"
    " d.requester_hash, d.requester_prefix, d.family, d.lang, d.risk, d.checks_summary,"
    " d.findings_summary, d.connection, d.device, d.families, x.json, d.sweep, d.address"
    " FROM diagnoses d LEFT JOIN documents x ON x.diag = d.n ORDER BY d.n";

static const char *col_opt(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
	                                                 : (const char *)sqlite3_column_text(st, i);
}

static int dump_children(sqlite3_stmt *ports, sqlite3_stmt *finds, int64_t n,
                         struct store_dump_buf *b)
{
	int rc, r;

	store_dump_reset(b);
	sqlite3_reset(ports);
	sqlite3_bind_int64(ports, 1, n);
	while ((rc = sqlite3_step(ports)) == SQLITE_ROW) {
		double rtt = sqlite3_column_type(ports, 4) == SQLITE_NULL
		                 ? -1
		                 : sqlite3_column_double(ports, 4);

		if ((r = store_dump_add_port(b, col_opt(ports, 0), sqlite3_column_int64(ports, 1),
		                             col_opt(ports, 2), col_opt(ports, 3), rtt,
		                             col_opt(ports, 5))) < 0)
			return r;
	}
	if (rc != SQLITE_DONE)
		return map_rc(rc);
	sqlite3_reset(finds);
	sqlite3_bind_int64(finds, 1, n);
	while ((rc = sqlite3_step(finds)) == SQLITE_ROW) {
		if ((r = store_dump_add_finding(b, col_opt(finds, 0), col_opt(finds, 1),
		                                col_opt(finds, 2), col_opt(finds, 3))) < 0)
			return r;
	}
	return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static int dump_row(sqlite3_stmt *st, struct store_dump_buf *b, store_dump_cb *cb, void *ud)
{
	char hash[STORE_HASH_HEX] = "";
	struct store_full f;
	enum store_status status;

	if (store_status_parse(col_str(st, 3), &status) < 0 ||
	    sqlite3_column_bytes(st, 2) != STORE_HASH_BYTES ||
	    sqlite3_column_bytes(st, 7) != STORE_HASH_BYTES)
		return -ERR_SYNTAX;
	sodium_bin2hex(hash, sizeof(hash), sqlite3_column_blob(st, 7), STORE_HASH_BYTES);
	f = (struct store_full){
	    .id = col_str(st, 1),
	    .token_hash = sqlite3_column_blob(st, 2),
	    .status = status,
	    .created_ms = sqlite3_column_int64(st, 4),
	    .started_ms = sqlite3_column_int64(st, 5),
	    .finished_ms = sqlite3_column_int64(st, 6),
	    .requester_hash = hash,
	    .prefix = col_str(st, 8),
	    .family = sqlite3_column_int(st, 9) == 4 ? AF_INET : AF_INET6,
	    .lang = col_str(st, 10),
	    .risk = col_opt(st, 11),
	    .checks_summary = col_opt(st, 12),
	    .findings_summary = col_opt(st, 13),
	    .families = sqlite3_column_type(st, 16) == SQLITE_NULL ? 0 : family_bits(st, 16, 9),
	    .json = col_opt(st, 17),
	    .sweep = col_opt(st, 18),
	    .address = col_opt(st, 19),
	};
	(void)store_connection_parse(col_opt(st, 14), &f.connection);
	(void)store_device_parse(col_opt(st, 15), &f.device);
	store_dump_fill(b, &f);
	return cb(ud, &f);
}

static int sq_dump(struct store *base, store_dump_cb *cb, void *ud)
{
	struct sq *s = to_sq(base);
	struct store_dump_buf b = {0};
	sqlite3_stmt *st = NULL, *ports = NULL, *finds = NULL;
	sqlite3 *db;
	int rc, r, count = 0;

	if ((r = read_conn(s, &db)) < 0)
		return r;
	/* One read transaction: the three statements see one snapshot. */
	if ((rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(db, dump_sql, -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(db,
	                             "SELECT check_name, port, state, reason, rtt_ms, service FROM"
	                             " check_results WHERE diag = ?1 ORDER BY check_name, port",
	                             -1, &ports, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(db,
	                             "SELECT check_name, finding, severity, confidence FROM"
	                             " findings WHERE diag = ?1 ORDER BY seq",
	                             -1, &finds, NULL)) != SQLITE_OK) {
		r = map_rc(rc);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = dump_children(ports, finds, sqlite3_column_int64(st, 0), &b)) < 0 ||
		    (r = dump_row(st, &b, cb, ud)) != 0)
			goto out;
		if (count < INT32_MAX)
			count++;
	}
	r = rc == SQLITE_DONE ? count : map_rc(rc);
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ports);
	sqlite3_finalize(finds);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	store_dump_done(&b);
	return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Sweeps (/work/brief/sweep-store.md).                                                     */

static int64_t col_int_or(sqlite3_stmt *st, int i, int64_t none)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? none : sqlite3_column_int64(st, i);
}

/* A row of SQL_SWEEP_GET or SQL_SWEEP_LIST. */
static void fill_sweep(sqlite3_stmt *st, struct store_sweep *out)
{
	col_text(st, 0, out->id, sizeof(out->id));
	out->started_ms = sqlite3_column_int64(st, 1);
	out->finished_ms = col_int_or(st, 2, 0);
	col_text(st, 3, out->targets, sizeof(out->targets));
	col_text(st, 4, out->ports, sizeof(out->ports));
	out->sent = col_int_or(st, 5, -1);
	out->open_ports = col_int_or(st, 6, -1);
	out->hosts = col_int_or(st, 7, -1);
}

static int sq_sweep_get(struct store *base, const char *id, struct store_sweep *out)
{
	struct sq *s = to_sq(base);
	sqlite3_stmt *st;
	int rc, r;

	pthread_mutex_lock(&s->sync_mu);
	if (!(st = stmt(&s->sync, SQL_SWEEP_GET))) {
		r = map_rc(sqlite3_errcode(s->sync.db));
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fill_sweep(st, out);
		r = 0;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : map_rc(rc);
	}
	sqlite3_reset(st);
out:
	pthread_mutex_unlock(&s->sync_mu);
	return r;
}

static int sq_sweep_list(struct store *base, store_sweep_cb *cb, void *ud)
{
	struct sq *s = to_sq(base);
	struct store_sweep *sw = malloc(sizeof(*sw));
	sqlite3_stmt *st;
	int rc, r = 0, count = 0;

	if (!sw)
		return -ENOMEM;
	pthread_mutex_lock(&s->sync_mu);
	if (!(st = stmt(&s->sync, SQL_SWEEP_LIST))) {
		r = map_rc(sqlite3_errcode(s->sync.db));
		goto out;
	}
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(sw, 0, sizeof(*sw));
		fill_sweep(st, sw);
		if ((r = cb(ud, sw)) == 0 && count < INT32_MAX)
			count++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = map_rc(rc);
	sqlite3_reset(st);
out:
	pthread_mutex_unlock(&s->sync_mu);
	free(sw);
	return r == 0 ? count : r;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .check_integrity = sq_check_integrity,
    .write_size = sizeof(struct wop),
    .drop = sq_drop,
    .create = sq_create,
    .save_result = sq_save_result,
    .get = sq_get,
    .count_inflight = sq_count_inflight,
    .find_active = sq_find_active,
    .iter = sq_iter,
    .count_results = sq_count_results,
    .dump = sq_dump,
    .import = sq_import,
    .sweep_get = sq_sweep_get,
    .sweep_list = sq_sweep_list,
};
