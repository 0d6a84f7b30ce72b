/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL backend of the store (libpq): migrations under an advisory lock, the writes as SQL
 * applied by the shared write queue's thread (store_queue.c) on its own connection, a small
 * pool of connections for point reads and report iteration (a server-side cursor, fetched in
 * blocks), reconnection when the server went away. The tables are SQLite's, column for column
 * (store_pg_schema.c). Threading model and what differs from SQLite: docs/internals/STORE.md.
 */
#include "store/store_pg.h"

#include "store/store_queue.h"

#include "core/decimal.h"
#include "core/err.h"
#include "core/sbuf.h"

#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX      4
#define FETCH_N       20000 /* rows of a report block: FETCH_ROWS */
#define FETCH_ROWS    "20000"
#define PARAMS_MAX    29 /* an import's; a result has RESULT_PARAMS */
#define RESULT_PARAMS 17
#define ARRAY_MAX     (1u << 20)                     /* one text[] parameter of a result */
#define HEX_BYTEA     (2 + 2 * STORE_HASH_BYTES + 1) /* "\x" + 64 hex + NUL */
#define INT64_TEXT    24
#define PG_ERRMSG     200

/* Advisory lock keys (pg_advisory_*): "expo" in the high half, one low half per purpose. */
#define LOCK_MIGRATE 0x6578706f00000001LL
#define LOCK_OWNER   0x6578706f00000002LL /* version 1's one service per database */
#define LOCK_PURGE   0x6578706f00000003LL

#define DEFAULT_LEASE_MS 15000
#define LOST_MAX         8192 /* finishing writes remembered while the database is away */

enum sql_id {
	SQL_INSERT = 0,
	SQL_RUNNING,
	SQL_FINISH,
	SQL_RESULT,
	SQL_TOKEN,
	SQL_DELETE_N,
	SQL_CONNECTION,
	SQL_PURGE_LOCK,
	SQL_PURGE,
	SQL_GET,
	SQL_INFLIGHT,
	SQL_COUNT,
	SQL_IMPORT,
	SQL_ACTIVE,
	SQL_SWEEP_INS,
	SQL_SWEEP_END,
	SQL_SWEEP_GET,
	SQL_SWEEP_LIST,
	SQL_LIVE_ADD,
	SQL_LIVE_GET,
	SQL_INSERT_HOST,
	SQL_DEFINE,
	SQL_CLAIM,
	SQL_LEFT,
	SQL_SHARDS_FAILED,
	SQL_RENEW,
	SQL_SWEEP_LOCK,
	SQL_SHARD_DONE,
	SQL_SWEEP_FINISH,
	SQL_UNCLAIM,
	SQL_X_MAX
};

/* Leases are timed on the database's clock, the one clock every worker shares. */
#define DB_NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
#define STR_(x)   #x
#define STR(x)    STR_(x)
/* Shard x has failed: handed back STORE_SHARD_FAILED_RUNS times (store.h). Its runs that
 * ended without it done were handed back (SQL_UNCLAIM); a run lost with its worker never
 * ends, and only the last run of a done shard ends it done. By its key: PRIMARY KEY (sweep,
 * shard, attempt). */
#define SHARD_FAILED                                                                               \
	"((SELECT count(*) FROM sweep_shard_runs r WHERE r.sweep = x.sweep AND r.shard = x.shard"  \
	" AND r.ended_ms IS NOT NULL) >= " STR(STORE_SHARD_FAILED_RUNS) ")"

/*
 * Every table of a diagnosis's own rows, deleted in the statement that deletes the diagnoses
 * (CTEs; WHICH: the diag values, $1, matched in each table's primary key, which begins with
 * diag). They have no foreign key (migration 7: its checks cost 8-10% of the server's CPU), so
 * a child table not listed here would keep its rows. The diagnoses must have been locked by
 * an earlier statement of the same transaction: this one's snapshot then holds every child
 * row written before the lock, and every writer of child rows locks its diagnosis first (the
 * result's UPDATE, the live rows' FOR KEY SHARE), so none comes after. (In one statement the
 * snapshot is taken before the DELETE waits for such a writer's commit, and would miss its
 * rows.)
 */
#define DELETE_CHILDREN(WHICH)                                                                     \
	" k1 AS (DELETE FROM documents WHERE diag " WHICH "),"                                     \
	" k2 AS (DELETE FROM check_results WHERE diag " WHICH "),"                                 \
	" k3 AS (DELETE FROM findings WHERE diag " WHICH "),"                                      \
	" k4 AS (DELETE FROM live_checks WHERE diag " WHICH ")"
#define CHILDREN_OF_ONE  DELETE_CHILDREN("= $1::bigint")
#define CHILDREN_OF_LIST DELETE_CHILDREN("= ANY($1::bigint[])")

static const char *const sql_text[SQL_X_MAX] = {
    [SQL_INSERT] = "INSERT INTO diagnoses (id, token_hash, status, created_ms, requester_hash,"
                   " requester_prefix, family, lang, device, connection, node, sweep, address,"
                   " resume)"
                   " VALUES ($1, $2::bytea, 'queued', $3, $4::bytea, $5, $6, $7, $8, $9, $10,"
                   " $11, $12, $13::bytea)"
                   " ON CONFLICT DO NOTHING",
    /* A status change wakes the other nodes' streams (NOTIFY is sent at commit; a wake-up
     * only: they read the row, and poll anyway). */
    [SQL_RUNNING] = "WITH u AS (UPDATE diagnoses SET status = 'running', started_ms = $2"
                    " WHERE id = $1 AND status = 'queued' RETURNING id)"
                    " SELECT pg_notify('exposure_diagnoses', id) FROM u",
    /* An ended diagnosis keeps no resume data (the requester's sealed address). */
    [SQL_FINISH] = "WITH u AS (UPDATE diagnoses SET status = $3, finished_ms = $2, resume = NULL"
                   " WHERE id = $1 AND status IN ('queued', 'running') RETURNING id, n),"
                   " l AS (DELETE FROM live_checks WHERE diag IN (SELECT n FROM u))"
                   " SELECT pg_notify('exposure_diagnoses', id) FROM u",
    /* The whole result in one statement: the row, its document and its child rows. Plain
     * inserts: u matches a diagnosis once only (the one step to done), and its rows come only
     * with it (row_arrays keeps one per check and port), so no row can be there already; an
     * ON CONFLICT clause made each of the ~23 a speculative insertion (about 5% of the
     * server's CPU per diagnosis, bench/RESULTS.md). */
    [SQL_RESULT] =
        "WITH u AS (UPDATE diagnoses SET status = 'done', finished_ms = $2, risk = $3,"
        "   checks_summary = $4, findings_summary = $5, families = $6, resume = NULL"
        "   WHERE id = $1 AND status IN ('queued', 'running') RETURNING n),"
        " l AS (DELETE FROM live_checks WHERE diag IN (SELECT n FROM u)),"
        " d AS (INSERT INTO documents (diag, json) SELECT n, $7 FROM u),"
        " c AS (INSERT INTO check_results (diag, check_name, port, state, reason, rtt_ms,"
        "   service) SELECT u.n, x.* FROM u, unnest($8::text[], $9::int[], $10::text[],"
        "   $11::text[], $12::float8[], $13::text[]) AS x),"
        " f AS (INSERT INTO findings (diag, seq, check_name, finding, severity, confidence)"
        "   SELECT u.n, x.o - 1, x.c, x.f, x.s, x.k FROM u, unnest($14::text[], $15::text[],"
        "   $16::text[], $17::text[]) WITH ORDINALITY AS x(c, f, s, k, o))"
        " SELECT n, pg_notify('exposure_diagnoses', $1) FROM u",
    [SQL_TOKEN] = "SELECT n, token_hash FROM diagnoses WHERE id = $1 FOR UPDATE",
    /* After SQL_TOKEN's FOR UPDATE of the row. */
    [SQL_DELETE_N] =
        "WITH u AS (DELETE FROM diagnoses WHERE n = $1::bigint RETURNING id)," CHILDREN_OF_ONE
        " SELECT pg_notify('exposure_diagnoses', id) FROM u",
    [SQL_CONNECTION] = "UPDATE diagnoses SET connection = $2 WHERE n = $1",
    /* The purge: a chunk's diagnoses locked, then deleted with their rows (DELETE_CHILDREN)
     * by their n, counted. */
    [SQL_PURGE_LOCK] = "SELECT n FROM diagnoses WHERE created_ms < $1 ORDER BY created_ms"
                       " LIMIT $2 FOR UPDATE",
    [SQL_PURGE] = "WITH u AS (DELETE FROM diagnoses WHERE n = ANY($1::bigint[])"
                  " RETURNING 1)," CHILDREN_OF_LIST " SELECT count(*) FROM u",
    [SQL_GET] = "SELECT d.id, d.status, d.created_ms, d.started_ms, d.finished_ms,"
                " d.requester_hash, d.requester_prefix, d.family, d.lang, d.risk, x.json,"
                " d.connection, d.device"
                " FROM diagnoses d LEFT JOIN documents x ON x.diag = d.n WHERE d.id = $1",
    [SQL_INFLIGHT] = "SELECT count(*) FROM diagnoses WHERE status IN ('queued', 'running')",
    /* $3 NULL: the rows of no sweep (the service's), else that sweep's (sweep-store.md). */
    [SQL_COUNT] = "SELECT count(*) FROM diagnoses WHERE status = 'done'"
                  " AND created_ms >= $1 AND created_ms < $2"
                  " AND sweep IS NOT DISTINCT FROM $3::text",
    [SQL_ACTIVE] = "SELECT id FROM diagnoses WHERE requester_hash = $1::bytea"
                   " AND status IN ('queued', 'running') AND sweep IS NULL LIMIT 1",
    /* A whole diagnosis as another store had it (exposure store copy), in one statement. */
    [SQL_IMPORT] =
        "WITH u AS (INSERT INTO diagnoses (id, token_hash, status, created_ms, started_ms,"
        "   finished_ms, requester_hash, requester_prefix, family, lang, risk, checks_summary,"
        "   findings_summary, connection, device, families, sweep, address) VALUES ($1,"
        "   $2::bytea, $3, $4, $5, $6, $7::bytea, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
        "   $28::text, $29::text) ON CONFLICT DO NOTHING"
        "   RETURNING n),"
        " d AS (INSERT INTO documents (diag, json) SELECT n, $17::text FROM u"
        "   WHERE $17::text IS NOT NULL),"
        " c AS (INSERT INTO check_results (diag, check_name, port, state, reason, rtt_ms,"
        "   service) SELECT u.n, x.* FROM u, unnest($18::text[], $19::int[], $20::text[],"
        "   $21::text[], $22::float8[], $23::text[]) AS x),"
        " f AS (INSERT INTO findings (diag, seq, check_name, finding, severity, confidence)"
        "   SELECT u.n, x.o - 1, x.c, x.f, x.s, x.k FROM u, unnest($24::text[], $25::text[],"
        "   $26::text[], $27::text[]) WITH ORDINALITY AS x(c, f, s, k, o))"
        " SELECT n FROM u",
    /* Sweeps: ON CONFLICT DO NOTHING inserting no row is -EEXIST (a result, not an error
     * aborting the batch). */
    [SQL_SWEEP_INS] = "INSERT INTO sweeps (id, started_ms, targets, ports) VALUES ($1, $2, $3, $4)"
                      " ON CONFLICT DO NOTHING",
    [SQL_SWEEP_END] = "UPDATE sweeps SET finished_ms = $2, sent = $3, open_ports = $4, hosts = $5"
                      " WHERE id = $1",
    [SQL_SWEEP_GET] = "SELECT id, started_ms, finished_ms, targets, ports, sent, open_ports, hosts,"
                      " shards FROM sweeps WHERE id = $1",
    /* Live rows: only while the diagnosis is in flight; a wake-up for the streams. The
     * diagnosis is locked (FOR KEY SHARE, which no status write waits for) so that a delete
     * cannot miss the rows (DELETE_CHILDREN): one that locked it first leaves nothing here
     * to add to. */
    [SQL_LIVE_ADD] =
        "WITH p AS (SELECT n FROM diagnoses WHERE id = $1 AND status IN ('queued', 'running')"
        "   FOR KEY SHARE),"
        " u AS (INSERT INTO live_checks (diag, seq, idx, json)"
        "   SELECT p.n, x.* FROM p, unnest($2::int[], $3::int[], $4::text[]) AS x"
        "   ON CONFLICT (diag, seq) DO NOTHING RETURNING diag)"
        " SELECT pg_notify('exposure_diagnoses', $1) WHERE EXISTS (SELECT 1 FROM u)",
    [SQL_LIVE_GET] = "SELECT l.seq, l.idx, l.json FROM live_checks l"
                     " JOIN diagnoses d ON d.n = l.diag WHERE d.id = $1 AND l.seq >= $2"
                     " ORDER BY l.seq LIMIT 64",
    [SQL_SWEEP_LIST] = "SELECT id, started_ms, finished_ms, targets, ports, sent, open_ports,"
                       " hosts, shards FROM sweeps ORDER BY started_ms, id COLLATE \"C\"",
    /* A sweep's host, once per (sweep, address): a row that never got its result (its worker
     * died, or another shard's write replaced it) is replaced; a done one stays and this
     * insert is -EEXIST (its result then updates no row). A non-done row has no child rows
     * (SQL_RESULT writes them with 'done'). */
    [SQL_INSERT_HOST] =
        "INSERT INTO diagnoses (id, token_hash, status, created_ms, requester_hash,"
        " requester_prefix, family, lang, device, connection, node, sweep, address, resume)"
        " VALUES ($1, $2::bytea, 'queued', $3, $4::bytea, $5, $6, $7, $8, $9, $10, $11, $12,"
        " $13::bytea) ON CONFLICT (sweep, address) WHERE sweep IS NOT NULL DO UPDATE SET id = "
        "excluded.id,"
        " token_hash = excluded.token_hash, status = 'queued', created_ms = excluded.created_ms,"
        " started_ms = NULL, finished_ms = NULL, requester_hash = excluded.requester_hash,"
        " requester_prefix = excluded.requester_prefix, family = excluded.family,"
        " lang = excluded.lang, device = excluded.device, connection = excluded.connection,"
        " node = excluded.node, risk = NULL, checks_summary = NULL, findings_summary = NULL,"
        " families = NULL, resume = excluded.resume, takeovers = 0"
        " WHERE diagnoses.status <> 'done'",
    /* Sweep shards (issue 14 §3): the sweep and its N pending shards in one statement. */
    [SQL_DEFINE] = "WITH s AS (INSERT INTO sweeps (id, started_ms, targets, ports, shards, spec)"
                   " VALUES ($1, $2, $3, $4, $5::int, $6) ON CONFLICT DO NOTHING RETURNING id)"
                   " INSERT INTO sweep_shards (sweep, shard)"
                   " SELECT s.id, g FROM s, generate_series(0, $5::int - 1) AS g",
    /* One shard, pending or with its lease run out, taken for $2 until now + $3 ms; rows
     * another worker is claiming right now are skipped, not waited for. The run is kept. */
    [SQL_CLAIM] =
        "WITH t AS (SELECT " DB_NOW_MS " AS now),"
        " c AS (SELECT x.sweep, x.shard FROM sweep_shards x, t"
        "   WHERE ($1::text IS NULL OR x.sweep = $1::text) AND (x.state = 'pending'"
        "   OR (x.state = 'running' AND x.lease_until_ms < t.now)) AND NOT " SHARD_FAILED
        "   ORDER BY x.sweep, x.shard LIMIT 1 FOR UPDATE OF x SKIP LOCKED),"
        " u AS (UPDATE sweep_shards x SET state = 'running', worker = $2,"
        "   lease_until_ms = t.now + $3::bigint, attempts = x.attempts + 1 FROM c, t"
        "   WHERE x.sweep = c.sweep AND x.shard = c.shard"
        "   RETURNING x.sweep, x.shard, x.attempts, x.lease_until_ms, t.now),"
        " h AS (INSERT INTO sweep_shard_runs (sweep, shard, attempt, worker, started_ms,"
        "   lease_until_ms) SELECT sweep, shard, attempts, $2, now, lease_until_ms FROM u)"
        " SELECT u.sweep, u.shard, u.attempts, w.shards, w.spec"
        " FROM u JOIN sweeps w ON w.id = u.sweep",
    [SQL_LEFT] = "SELECT count(*) FROM sweep_shards x"
                 " WHERE ($1::text IS NULL OR x.sweep = $1::text) AND x.state <> 'done'"
                 " AND NOT " SHARD_FAILED,
    [SQL_SHARDS_FAILED] = "SELECT x.sweep, x.shard, w.shards FROM sweep_shards x"
                          " JOIN sweeps w ON w.id = x.sweep"
                          " WHERE ($1::text IS NULL OR x.sweep = $1::text) AND x.state <> 'done'"
                          " AND " SHARD_FAILED " ORDER BY x.sweep, x.shard",
    /* Ours only while the row still names this worker and this attempt. */
    [SQL_RENEW] = "WITH u AS (UPDATE sweep_shards SET lease_until_ms = " DB_NOW_MS
                  " + $5::bigint WHERE sweep = $1 AND shard = $2::int AND worker = $3"
                  " AND attempts = $4::int AND state = 'running' RETURNING lease_until_ms)"
                  " UPDATE sweep_shard_runs r SET lease_until_ms = u.lease_until_ms FROM u"
                  " WHERE r.sweep = $1 AND r.shard = $2::int AND r.attempt = $4::int",
    /* Shards of one sweep finish one at a time, so the last one sees all the others done. */
    [SQL_SWEEP_LOCK] = "SELECT 1 FROM sweeps WHERE id = $1 FOR UPDATE",
    [SQL_SHARD_DONE] = "WITH u AS (UPDATE sweep_shards SET state = 'done', lease_until_ms = NULL,"
                       "   finished_ms = " DB_NOW_MS ", sent = $5::bigint, open_ports = $6::bigint,"
                       "   hosts = $7::bigint WHERE sweep = $1 AND shard = $2::int AND worker = $3"
                       "   AND attempts = $4::int AND state = 'running' RETURNING finished_ms)"
                       " UPDATE sweep_shard_runs r SET ended_ms = u.finished_ms FROM u"
                       " WHERE r.sweep = $1 AND r.shard = $2::int AND r.attempt = $4::int",
    [SQL_SWEEP_FINISH] =
        "UPDATE sweeps w SET finished_ms = " DB_NOW_MS ", sent = x.sent,"
        " open_ports = x.open_ports, hosts = (SELECT count(*) FROM diagnoses d"
        " WHERE d.sweep = $1 AND d.status = 'done') FROM (SELECT sum(sent)::bigint AS sent,"
        " sum(open_ports)::bigint AS open_ports, bool_and(state = 'done') AS all_done"
        " FROM sweep_shards WHERE sweep = $1) x"
        " WHERE w.id = $1 AND x.all_done AND w.finished_ms IS NULL",
    /* Handed back unfinished (its run failed): pending again, the run ended. */
    [SQL_UNCLAIM] = "WITH u AS (UPDATE sweep_shards SET state = 'pending', worker = NULL,"
                    " lease_until_ms = NULL WHERE sweep = $1 AND shard = $2::int AND worker = $3"
                    " AND attempts = $4::int AND state = 'running' RETURNING 1)"
                    " UPDATE sweep_shard_runs r SET ended_ms = " DB_NOW_MS " FROM u"
                    " WHERE r.sweep = $1 AND r.shard = $2::int AND r.attempt = $4::int",
};

/* One connection and which statements are prepared on it (lost with a reconnection). */
struct pgc {
	PGconn *c;
	bool prepared[SQL_X_MAX];
};

/* One queued write; owns everything it points to. */
struct wop {
	struct store_write h; /* first: the queue's part, type, id, status, token (store_impl.h) */
	/* WOP_CREATE */
	char token_hash[HEX_BYTEA];
	char requester_hash[HEX_BYTEA];
	char prefix[STORE_PREFIX_MAX];
	char lang[STORE_NAME_MAX];
	int64_t created_ms;
	int family;
	enum store_device device;
	const char *node;             /* the store's own name, which outlives the write */
	char sweep[STORE_ID_LEN + 1]; /* "": none (then no address either) */
	char address[ADDR_STRLEN];
	char resume[2 + 2 * STORE_RESUME_MAX + 1]; /* bytea's hex input form; "": none */
	/* WOP_RESULT, WOP_IMPORT: the statement's parameters as text (NULL = SQL NULL), owned;
	 * rp[k - 1] is $k (a result's $1, its id, is w->h.id) */
	char *rp[PARAMS_MAX];
	/* The writer's: what the database answered (the write's result at commit), and the
	 * next write whose answer is still to be read on the pipeline. */
	int answer;
	struct wop *pnext;
};

struct pg {
	struct store base;
	char *conninfo;
	unsigned flags;

	struct pgc wr; /* the queue's writer thread's own */
	/* The batch on wr's pipeline (writer thread only): writes sent whose answers are still
	 * to be read, in order, after ctl_pending answers of BEGIN and its setting; the first
	 * failure of the database, which is the batch's. */
	struct wop *pend_head, *pend_tail;
	int ctl_pending;
	int batch_err;
	char node[96];     /* host/pid: the lease's name */
	unsigned lease_ms; /* a node silent this long is taken for dead */
	struct pgc hb;     /* the heartbeat thread's own */
	pthread_t hb_thread;
	pthread_mutex_t hb_mu; /* guards changed, changed_ud, takeover, takeover_ud */
	bool hb_started;
	atomic_bool hb_stop;
	atomic_uint taken_over; /* diagnoses of dead nodes this node marked interrupted */
	/* Told (on the heartbeat thread) when another node's write woke us: store_on_change. */
	void (*changed)(void *ud);
	void *changed_ud;
	/* Given the diagnoses of dead nodes this node claims (store_on_takeover); under hb_mu. */
	void (*takeover)(void *ud, const struct store_takeover *t);
	void *takeover_ud;
	bool listening; /* LISTEN issued on hb's current connection */
	/* Diagnoses whose finishing write failed for the database's sake (it was away): marked
	 * interrupted by the next lease round that reaches it, so none stays running. */
	pthread_mutex_t lost_mu;
	char (*lost)[STORE_ID_LEN + 1];
	size_t n_lost;

	pthread_mutex_t pool_mu;
	pthread_cond_t pool_cv;
	struct pgc pool[POOL_MAX];
	bool busy[POOL_MAX];
};

static struct pg *to_pg(struct store *s)
{
	return (struct pg *)s;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The first line of libpq's message, for a one-line error. */
static const char *first_line(const char *msg, char *buf, size_t n)
{
	size_t len = strcspn(msg ? msg : "", "\n");

	snprintf(buf, n, "%.*s", (int)len, msg ? msg : "");
	return buf;
}

/*
 * A new connection. The operator's string (a postgresql:// URI or key=value pairs, or empty
 * for the PG* environment variables) comes last so that anything it says wins over our
 * defaults: a bounded connect, TCP keepalives and a user timeout so a server cut off behind a
 * firewall is noticed in seconds, not hours.
 */
static PGconn *connect_db(const char *conninfo)
{
	static const char *const keys[] = {
	    "connect_timeout",  "application_name", "keepalives_idle", "keepalives_interval",
	    "keepalives_count", "tcp_user_timeout", "dbname",          NULL,
	};
	const char *vals[] = {"5", "exposure", "10", "3", "3", "10000", conninfo, NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c)
		PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static int pgc_open(struct pg *s, struct pgc *c, const struct store_opts *o)
{
	char line[PG_ERRMSG];

	memset(c, 0, sizeof(*c));
	c->c = connect_db(s->conninfo);
	if (c->c && PQstatus(c->c) == CONNECTION_OK)
		return 0;
	store_set_err(o, "cannot connect to PostgreSQL: %s",
	              c->c ? first_line(PQerrorMessage(c->c), line, sizeof(line))
	                   : "out of memory");
	PQfinish(c->c);
	c->c = NULL;
	return -ECONNREFUSED;
}

static void pgc_close(struct pgc *c)
{
	PQfinish(c->c);
	memset(c, 0, sizeof(*c));
}

/* Make sure c is usable, reconnecting (bounded by connect_timeout) if the server went away. */
static int pgc_ready(struct pg *s, struct pgc *c)
{
	if (c->c && PQstatus(c->c) == CONNECTION_OK)
		return 0;
	memset(c->prepared, 0, sizeof(c->prepared));
	if (c->c)
		PQreset(c->c);
	else
		c->c = connect_db(s->conninfo);
	return c->c && PQstatus(c->c) == CONNECTION_OK ? 0 : -ENOTCONN;
}

/* A failed command's negative code, from its SQLSTATE (or the connection's state). */
static int pg_err(PGconn *c, const PGresult *res)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (!c || PQstatus(c) != CONNECTION_OK)
		return -ENOTCONN;
	if (!st)
		return res ? -ERR_INTERNAL : -ENOMEM;
	if (strcmp(st, "23505") == 0) /* unique_violation */
		return -EEXIST;
	if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0)
		return -EBUSY;
	if (strcmp(st, "53100") == 0) /* disk_full */
		return -ENOSPC;
	if (strcmp(st, "53200") == 0) /* out_of_memory */
		return -ENOMEM;
	if (strcmp(st, "25006") == 0) /* read_only_sql_transaction */
		return -EROFS;
	if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0) /* connection, shutdown */
		return -ENOTCONN;
	if (strncmp(st, "28", 2) == 0 || strcmp(st, "42501") == 0) /* auth, privilege */
		return -EACCES;
	return -ERR_INTERNAL;
}

/* Run a command that returns no rows; 0 or a negative code. */
static int exec_cmd(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	int r = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		r = pg_err(c, res);
	PQclear(res);
	return r;
}

/* The cached statement id with n text parameters (NULL = SQL NULL). Caller clears. */
static PGresult *exec_id(struct pgc *c, enum sql_id id, int n, const char *const *vals)
{
	char name[8];

	snprintf(name, sizeof(name), "s%d", (int)id);
	if (!c->prepared[id]) {
		PGresult *res = PQprepare(c->c, name, sql_text[id], 0, NULL);

		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		PQclear(res);
		c->prepared[id] = true;
	}
	return PQexecPrepared(c->c, name, n, vals, NULL, NULL, 0);
}

/* A text column, NULL for SQL NULL. */
static const char *col_opt(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* A non-negative bigint column. */
static int64_t col_i64(const PGresult *res, int row, int col)
{
	uint64_t v = 0;

	if (PQgetisnull(res, row, col) || decimal_u64(PQgetvalue(res, row, col), INT64_MAX, &v) < 0)
		return 0;
	return (int64_t)v;
}

static const char *col_str(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
}

/* A bytea column of STORE_HASH_BYTES in PostgreSQL's hex output ("\x" + 64 lowercase hex). */
static const char *col_hash_hex(const PGresult *res, int row, int col)
{
	const char *v = col_str(res, row, col);

	return strlen(v) == HEX_BYTEA - 1 && v[0] == '\\' && v[1] == 'x' ? v + 2 : NULL;
}

static void bytea_hex(char out[HEX_BYTEA], const uint8_t bin[STORE_HASH_BYTES])
{
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, HEX_BYTEA - 2, bin, STORE_HASH_BYTES);
}

/* ---------------------------------------------------------------------------------------- */
/* Opening: migrations under an advisory lock, the owner lock, restart marking.             */

static int query_version(PGconn *c, int64_t *v, bool *foreign)
{
	PGresult *res;
	int r = 0;

	*v = 0;
	*foreign = false;
	res = PQexec(c, "SELECT to_regclass('exposure_schema') IS NOT NULL,"
	                " to_regclass('diagnoses') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		r = pg_err(c, res);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		*foreign = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		goto out;
	}
	PQclear(res);
	res = PQexec(c, "SELECT version FROM exposure_schema");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		r = PQresultStatus(res) == PGRES_TUPLES_OK ? -ERR_SYNTAX : pg_err(c, res);
	else
		*v = col_i64(res, 0, 0);
out:
	PQclear(res);
	return r;
}

static int migrate(PGconn *c, const struct store_opts *o)
{
	char sql[96], line[PG_ERRMSG];
	bool foreign;
	int64_t v;
	int r;

	/* Transactional DDL: all pending migrations or none; the lock makes a second node wait
	 * and then find the schema current. */
	if ((r = exec_cmd(c, "BEGIN")) < 0)
		return r;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)", LOCK_MIGRATE);
	if ((r = exec_cmd(c, sql)) < 0 || (r = query_version(c, &v, &foreign)) < 0)
		goto out_rollback;
	if (foreign) {
		store_set_err(o, "the database holds another program's diagnoses table (no "
		                 "exposure_schema); refusing to change it: use a new database");
		r = -ERR_UNSUPPORTED;
		goto out_rollback;
	}
	if (v > STORE_PG_SCHEMA_VERSION) {
		store_set_err(o,
		              "database schema version %lld is newer than this program knows (%d); "
		              "use a newer exposure or another database",
		              (long long)v, STORE_PG_SCHEMA_VERSION);
		r = -ERR_UNSUPPORTED;
		goto out_rollback;
	}
	for (int64_t i = v; i < STORE_PG_SCHEMA_VERSION; i++) {
		if ((r = exec_cmd(c, store_pg_migrations[i])) < 0) {
			store_set_err(o, "migration to version %lld failed: %s", (long long)i + 1,
			              first_line(PQerrorMessage(c), line, sizeof(line)));
			goto out_rollback;
		}
	}
	snprintf(sql, sizeof(sql), "UPDATE exposure_schema SET version = %d",
	         STORE_PG_SCHEMA_VERSION);
	if ((r = exec_cmd(c, sql)) < 0 || (r = exec_cmd(c, "COMMIT")) < 0)
		goto out_rollback;
	return 0;
out_rollback:
	exec_cmd(c, "ROLLBACK");
	return r;
}

static int check_version_readonly(PGconn *c, const struct store_opts *o)
{
	bool foreign;
	int64_t v;
	int r;

	if ((r = query_version(c, &v, &foreign)) < 0) {
		store_set_err(o, "cannot read the schema version");
		return r;
	}
	if (v == STORE_PG_SCHEMA_VERSION)
		return 0;
	store_set_err(o, "database schema version %lld, this program reads %d%s", (long long)v,
	              STORE_PG_SCHEMA_VERSION,
	              v > STORE_PG_SCHEMA_VERSION ? "; use a newer exposure"
	                                          : "; start exposure serve on it once to migrate");
	return -ERR_UNSUPPORTED;
}

/*
 * Several nodes (issue 14 §2). A version-1 program (one service per database) holds
 * LOCK_OWNER for as long as it runs: while it does, this version does not start beside it.
 */
static int refuse_v1_owner(PGconn *c, const struct store_opts *o)
{
	char sql[96];
	PGresult *res;
	int r = 0;

	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%lld) AND pg_advisory_unlock(%lld)",
	         LOCK_OWNER, LOCK_OWNER);
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		r = pg_err(c, res);
	else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		r = -EBUSY;
	PQclear(res);
	if (r == -EBUSY)
		store_set_err(o,
		              "an older exposure serve (one node only) runs on this database: stop "
		              "it first");
	return r;
}

/*
 * The key every node must share (requester hash; CSRF and ticket keys derive from it): its
 * fingerprint, a keyed hash that tells nothing about the key, is recorded by the first node;
 * a node with another key is refused, as two keys would split one requester into two and
 * make one node's page tokens fail on the next.
 */
static int check_key(PGconn *c, const struct store_key *k, const struct store_opts *o)
{
	static const char tag[] = "exposure key fingerprint v1";
	uint8_t fp[STORE_HASH_BYTES];
	char hex[HEX_BYTEA];
	const char *vals[1] = {hex};
	PGresult *res;
	int r = 0;

	if (!k)
		return 0;
	crypto_generichash(fp, sizeof(fp), (const uint8_t *)tag, sizeof(tag) - 1, k->bytes,
	                   sizeof(k->bytes));
	bytea_hex(hex, fp);
	res = PQexecParams(c,
	                   "WITH i AS (INSERT INTO exposure_keys (name, fingerprint)"
	                   " VALUES ('requester', $1::bytea) ON CONFLICT (name) DO NOTHING)"
	                   " SELECT fingerprint = $1::bytea FROM exposure_keys"
	                   " WHERE name = 'requester'"
	                   " UNION ALL SELECT true LIMIT 1",
	                   1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		r = pg_err(c, res);
	else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		r = -EKEYREJECTED;
	PQclear(res);
	if (r == -EKEYREJECTED)
		store_set_err(o, "this node's key file differs from the one the other nodes use "
		                 "(its fingerprint is in the database): give every node the same "
		                 "--key file");
	return r;
}

/* This node's name: host, process and which open in it, unique while it runs. */
static void node_name(struct pg *s)
{
	static atomic_uint opens;
	char host[64] = "";

	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "?");
	snprintf(s->node, sizeof(s->node), "%s/%ld.%u", host, (long)getpid(),
	         atomic_fetch_add(&opens, 1));
}

/*
 * The lease: renew this node's row, then take over or mark interrupted every queued or
 * running diagnosis whose node has not renewed its own within the lease (it died, or lost the
 * database; a version-1 row has no node at all). One with resume data (the requester's
 * addresses sealed by the web layer, store_new.resume) and not taken over before becomes this
 * node's, queued, and goes to the takeover callback, which runs it again; the rest are marked
 * interrupted, never silently lost. SKIP LOCKED leaves a row its node is writing right now to
 * the next round, and gives each row to one live node only. Returns the number settled.
 */
static int mark_lost(struct pg *s, PGconn *c, const char *now);
static int take_over(struct pg *s, PGconn *c, const char *now, const char *cut);

static int lease_round(struct pg *s, PGconn *c)
{
	char now[INT64_TEXT], cut[INT64_TEXT];
	const char *vals[3] = {s->node, now, cut};
	PGresult *res;
	uint32_t k = 0;
	int64_t t = store_now_ms();
	int r, took;

	snprintf(now, sizeof(now), "%lld", (long long)t);
	snprintf(cut, sizeof(cut), "%lld", (long long)(t - s->lease_ms));
	res = PQexecParams(c,
	                   "INSERT INTO nodes (node, started_ms, seen_ms) VALUES ($1, $2, $2)"
	                   " ON CONFLICT (node) DO UPDATE SET seen_ms = excluded.seen_ms",
	                   2, NULL, vals, NULL, NULL, 0);
	r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_err(c, res);
	PQclear(res);
	if (r < 0)
		return r;
	took = take_over(s, c, now, cut);
	res = PQexecParams(c,
	                   "UPDATE diagnoses SET status = 'interrupted', finished_ms = $1,"
	                   " resume = NULL"
	                   " WHERE n IN (SELECT d.n FROM diagnoses d"
	                   "  WHERE d.status IN ('queued', 'running') AND NOT EXISTS"
	                   "  (SELECT 1 FROM nodes x WHERE x.node = d.node AND x.seen_ms >= $2)"
	                   "  FOR UPDATE SKIP LOCKED)",
	                   2, NULL, vals + 1, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		r = pg_err(c, res);
	} else {
		(void)decimal_u32(PQcmdTuples(res), INT32_MAX, &k);
		r = (int)k + (took > 0 ? took : 0);
	}
	PQclear(res);
	if (r >= 0) {
		int k2 = mark_lost(s, c, now);

		if (k2 > 0)
			r += k2;
	}
	/* Rows of nodes long gone (ten leases): nothing refers to them any more. */
	res = PQexecParams(
	    c, "DELETE FROM nodes WHERE seen_ms < $1::bigint - 9 * ($1::bigint - $2::bigint)", 2,
	    NULL, vals + 1, NULL, NULL, 0);
	PQclear(res);
	return r;
}

/* bytea's hex output ("\\x" then pairs) into out. Returns the length, or -ERR_SYNTAX. */
static int bytea_unhex(const char *text, uint8_t *out, size_t max)
{
	size_t len = 0;

	if (strncmp(text, "\\x", 2) != 0 ||
	    sodium_hex2bin(out, max, text + 2, strlen(text + 2), NULL, &len, NULL) != 0)
		return -ERR_SYNTAX;
	return (int)len;
}

/* One claimed row (id, token_hash, created_ms, lang, device, resume) as a takeover. */
static int takeover_row(const PGresult *res, int i, struct store_takeover *t)
{
	const char *device = PQgetvalue(res, i, 4);
	int len;

	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", PQgetvalue(res, i, 0));
	if (bytea_unhex(PQgetvalue(res, i, 1), t->token_hash, sizeof(t->token_hash)) !=
	        STORE_HASH_BYTES ||
	    PQgetisnull(res, i, 2))
		return -ERR_SYNTAX;
	t->created_ms = col_i64(res, i, 2);
	snprintf(t->lang, sizeof(t->lang), "%s", PQgetvalue(res, i, 3));
	t->device = STORE_DEVICE_NONE;
	if (!PQgetisnull(res, i, 4) && store_device_parse(device, &t->device) < 0)
		return -ERR_SYNTAX;
	if ((len = bytea_unhex(PQgetvalue(res, i, 5), t->resume, sizeof(t->resume))) <= 0)
		return -ERR_SYNTAX;
	t->resume_len = (size_t)len;
	return 0;
}

/*
 * Claim the resumable diagnoses of dead nodes (their node's row older than cut) for this node
 * and hand each to the takeover callback. Nothing without a callback. Returns the number
 * claimed, or a negative error.
 */
static int take_over(struct pg *s, PGconn *c, const char *now, const char *cut)
{
	void (*cb)(void *ud, const struct store_takeover *t);
	const char *vals[2] = {s->node, cut};
	struct store_takeover t;
	PGresult *res;
	void *ud;
	int r, n;

	/* Held through the callbacks: once store_on_takeover(NULL) returns, none runs. */
	pthread_mutex_lock(&s->hb_mu);
	cb = s->takeover;
	ud = s->takeover_ud;
	if (!cb) {
		pthread_mutex_unlock(&s->hb_mu);
		return 0;
	}
	/* A few at a time: the rest come at the next rounds, as this node's queue allows. The
	 * dead node's live rows go: the run starts again from its first check. */
	res = PQexecParams(c,
	                   "WITH u AS (UPDATE diagnoses SET node = $1, status = 'queued',"
	                   " started_ms = NULL, takeovers = takeovers + 1"
	                   " WHERE n IN (SELECT d.n FROM diagnoses d"
	                   "  WHERE d.status IN ('queued', 'running') AND d.resume IS NOT NULL"
	                   "  AND d.takeovers = 0 AND d.sweep IS NULL AND NOT EXISTS"
	                   "  (SELECT 1 FROM nodes x WHERE x.node = d.node AND x.seen_ms >= $2)"
	                   "  LIMIT 64 FOR UPDATE SKIP LOCKED)"
	                   " RETURNING n, id, token_hash, created_ms, lang, device, resume),"
	                   " l AS (DELETE FROM live_checks WHERE diag IN (SELECT n FROM u))"
	                   " SELECT id, token_hash, created_ms, lang, device, resume FROM u",
	                   2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pthread_mutex_unlock(&s->hb_mu);
		r = pg_err(c, res);
		PQclear(res);
		return r;
	}
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		if (takeover_row(res, i, &t) == 0) {
			cb(ud, &t);
		} else { /* unreadable: it cannot run again, so it ends as the rest do */
			const char *v[2] = {PQgetvalue(res, i, 0), now};

			PQclear(
			    PQexecParams(c,
			                 "UPDATE diagnoses SET status = 'interrupted',"
			                 " finished_ms = $2::bigint, resume = NULL WHERE id = $1",
			                 2, NULL, v, NULL, NULL, 0));
		}
	}
	pthread_mutex_unlock(&s->hb_mu);
	PQclear(res);
	atomic_fetch_add(&s->taken_over, (unsigned)n);
	return n;
}

/*
 * The diagnoses whose result or final status could not be written while the database was
 * away: interrupted now (a result that did reach the database meanwhile stays done). Returns
 * the number marked; the list is kept if the database is still away.
 */
static int mark_lost(struct pg *s, PGconn *c, const char *now)
{
	struct sbuf ids;
	const char *vals[3];
	PGresult *res;
	uint32_t k = 0;
	size_t n;
	int r;

	pthread_mutex_lock(&s->lost_mu);
	n = s->n_lost;
	sbuf_init(&ids, LOST_MAX * (STORE_ID_LEN + 1) + 2);
	sbuf_add(&ids, "{");
	for (size_t i = 0; i < n; i++)
		sbuf_addf(&ids, "%s%s", i ? "," : "", s->lost[i]);
	pthread_mutex_unlock(&s->lost_mu);
	sbuf_add(&ids, "}");
	if (n == 0 || ids.err) {
		sbuf_free(&ids);
		return 0;
	}
	vals[0] = sbuf_str(&ids);
	vals[1] = now;
	vals[2] = s->node;
	/* Still this node's only: another node may have taken it over meanwhile (and runs it). */
	res = PQexecParams(c,
	                   "UPDATE diagnoses SET status = 'interrupted', finished_ms = $2,"
	                   " resume = NULL WHERE id = ANY ($1::text[])"
	                   " AND status IN ('queued', 'running') AND node = $3",
	                   3, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		(void)decimal_u32(PQcmdTuples(res), INT32_MAX, &k);
		r = (int)k;
		pthread_mutex_lock(&s->lost_mu); /* those n are settled; later ones stay */
		memmove(s->lost, s->lost + n, (s->n_lost - n) * sizeof(s->lost[0]));
		s->n_lost -= n;
		pthread_mutex_unlock(&s->lost_mu);
	} else {
		r = pg_err(c, res);
	}
	PQclear(res);
	sbuf_free(&ids);
	return r;
}

/* The heartbeat thread: a lease round every third of a lease, on its own connection. */
/* LISTEN on the heartbeat connection (again after a reconnection). */
static void hb_listen(struct pg *s)
{
	bool want;

	pthread_mutex_lock(&s->hb_mu);
	want = s->changed != NULL;
	pthread_mutex_unlock(&s->hb_mu);
	if (s->listening || !want || !s->hb.c || PQstatus(s->hb.c) != CONNECTION_OK)
		return;
	s->listening = exec_cmd(s->hb.c, "LISTEN exposure_diagnoses") == 0;
}

/* Wait up to ms for a notification (or the stop); tell the web layer if one came. */
static void hb_wait(struct pg *s, int64_t ms)
{
	int fd = s->listening ? PQsocket(s->hb.c) : -1;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int64_t end = store_now_ms() + ms;
	bool woke = false;

	while (!atomic_load(&s->hb_stop) && store_now_ms() < end) {
		int64_t left = end - store_now_ms();
		PGnotify *n;

		/* At most 200 ms at a time, to see the stop. */
		if (poll(&pfd, fd >= 0 ? 1 : 0, (int)(left < 200 ? left : 200)) <= 0)
			continue;
		if (!PQconsumeInput(s->hb.c)) {
			s->listening = false; /* reconnected and listened again next round */
			break;
		}
		while ((n = PQnotifies(s->hb.c)) != NULL) {
			woke = true;
			PQfreemem(n);
		}
		if (woke) {
			void (*cb)(void *);
			void *ud;

			pthread_mutex_lock(&s->hb_mu);
			cb = s->changed;
			ud = s->changed_ud;
			pthread_mutex_unlock(&s->hb_mu);
			if (cb)
				cb(ud);
			woke = false;
		}
	}
}

/*
 * The heartbeat thread: a lease round every third of a lease, on its own connection, which
 * also LISTENs for the other nodes' writes in between (a wake-up only: streams poll too).
 */
static void *heartbeat(void *arg)
{
	struct pg *s = arg;

	while (!atomic_load(&s->hb_stop)) {
		hb_wait(s, s->lease_ms / 3);
		if (atomic_load(&s->hb_stop))
			break;
		if (PQstatus(s->hb.c) != CONNECTION_OK)
			s->listening = false;
		if (pgc_ready(s, &s->hb) == 0) {
			int r = lease_round(s, s->hb.c);

			if (r > 0)
				atomic_fetch_add(&s->taken_over, (unsigned)r);
			if (PQstatus(s->hb.c) != CONNECTION_OK)
				s->listening = false;
			hb_listen(s);
		}
	}
	return NULL;
}

static void pg_on_change(struct store *base, void (*cb)(void *ud), void *ud)
{
	struct pg *s = to_pg(base);

	/* The heartbeat LISTENs at its next round. */
	pthread_mutex_lock(&s->hb_mu);
	s->changed_ud = ud;
	s->changed = cb;
	pthread_mutex_unlock(&s->hb_mu);
}

static void pg_on_takeover(struct store *base, void (*cb)(void *ud, const struct store_takeover *t),
                           void *ud)
{
	struct pg *s = to_pg(base);

	pthread_mutex_lock(&s->hb_mu);
	s->takeover_ud = ud;
	s->takeover = cb;
	pthread_mutex_unlock(&s->hb_mu);
}

static unsigned lease_from_env(void)
{
	const char *v = getenv("EXPOSURE_STORE_LEASE_MS");
	uint32_t ms;

	if (v && decimal_u32_in(v, 300, 3600000, &ms) == 0)
		return ms;
	return DEFAULT_LEASE_MS;
}

static const struct store_queue_ops pg_queue_ops;

static void pg_close(struct store *base)
{
	struct pg *s = to_pg(base);

	if (s->hb_started) {
		atomic_store(&s->hb_stop, true);
		pthread_join(s->hb_thread, NULL);
	}
	store_queue_stop(s->base.q); /* drains: every queued write is applied first */
	/* Gone: what this node leaves queued or running is marked by the next lease round of
	 * any node (its row no longer vouches for it). */
	if (s->base.q && s->hb.c && PQstatus(s->hb.c) == CONNECTION_OK) {
		const char *vals[1] = {s->node};
		char now[INT64_TEXT];
		PGresult *res;

		snprintf(now, sizeof(now), "%lld", (long long)store_now_ms());
		mark_lost(s, s->hb.c, now);
		res = PQexecParams(s->hb.c, "DELETE FROM nodes WHERE node = $1", 1, NULL, vals,
		                   NULL, NULL, 0);
		PQclear(res);
	}
	pgc_close(&s->wr);
	pgc_close(&s->hb);
	for (unsigned i = 0; i < POOL_MAX; i++)
		pgc_close(&s->pool[i]);
	pthread_mutex_destroy(&s->pool_mu);
	pthread_cond_destroy(&s->pool_cv);
	pthread_mutex_destroy(&s->hb_mu);
	pthread_mutex_destroy(&s->lost_mu);
	free(s->lost);
	if (s->conninfo)
		sodium_memzero(s->conninfo, strlen(s->conninfo)); /* may hold a password */
	free(s->conninfo);
	free(s);
}

static int pg_open(const char *conninfo, const struct store_opts *o, struct store **out)
{
	static const struct store_opts defaults = {0};
	char line[PG_ERRMSG];
	struct pg *s;
	int r, marked;

	if (!o)
		o = &defaults;
	if (sodium_init() < 0)
		return -ERR_INTERNAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->base.ops = &store_pg_ops;
	s->flags = o->flags;
	pthread_mutex_init(&s->pool_mu, NULL);
	pthread_cond_init(&s->pool_cv, NULL);
	pthread_mutex_init(&s->hb_mu, NULL);
	pthread_mutex_init(&s->lost_mu, NULL);
	if (!(s->lost = calloc(LOST_MAX, sizeof(s->lost[0])))) {
		r = -ENOMEM;
		goto out_close;
	}
	s->lease_ms = lease_from_env();
	node_name(s);
	if (!(s->conninfo = strdup(conninfo))) {
		r = -ENOMEM;
		goto out_close;
	}
	/* The first pool connection doubles as the one that migrates. */
	if ((r = pgc_open(s, &s->pool[0], o)) < 0)
		goto out_close;
	if (s->flags & STORE_READONLY) {
		if ((r = check_version_readonly(s->pool[0].c, o)) < 0)
			goto out_close;
		*out = &s->base;
		return 0;
	}
	if ((r = refuse_v1_owner(s->pool[0].c, o)) < 0)
		goto out_close;
	if ((r = migrate(s->pool[0].c, o)) < 0) {
		if (o->errbuf && !o->errbuf[0])
			store_set_err(o, "cannot migrate the schema: %s",
			              first_line(PQerrorMessage(s->pool[0].c), line, sizeof(line)));
		goto out_close;
	}
	if ((r = check_key(s->pool[0].c, o->key, o)) < 0)
		goto out_close;
	if ((r = pgc_open(s, &s->hb, o)) < 0)
		goto out_close;
	marked = 0;
	if (!(s->flags & STORE_NO_LEASE) && (marked = lease_round(s, s->hb.c)) < 0) {
		r = marked;
		store_set_err(o, "cannot renew this node's lease: %s",
		              first_line(PQerrorMessage(s->hb.c), line, sizeof(line)));
		goto out_close;
	}
	if ((r = pgc_open(s, &s->wr, o)) < 0)
		goto out_close;
	if ((r = store_start_queue(&s->base, &pg_queue_ops, s, o)) < 0)
		goto out_close;
	if (!(s->flags & STORE_NO_LEASE) &&
	    pthread_create(&s->hb_thread, NULL, heartbeat, s) != 0) {
		store_set_err(o, "cannot start the store heartbeat thread");
		r = -ERR_INTERNAL;
		goto out_close;
	}
	s->hb_started = !(s->flags & STORE_NO_LEASE);
	*out = &s->base;
	return marked;
out_close:
	pg_close(&s->base);
	return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Applying writes: on the writer thread only, in pipeline mode.                            */

/*
 * A batch goes out as one pipeline (libpq 14+): BEGIN, the synchronous_commit setting, every
 * write's statement and COMMIT are sent back to back and their answers read at commit, one
 * round trip per batch instead of one per statement (STORE.md). The statements are prepared
 * once per connection, before its first batch. What each write's answer means is read from
 * it in the queue's order (answer()); a write whose next step depends on an answer (the token
 * of a delete or a connection answer, compared here; the diagnoses a purge chunk locked)
 * reads the answers sent so far and its own at once (pipe_exec).
 */
static const enum sql_id wr_sql[] = {
    SQL_INSERT,    SQL_RUNNING,    SQL_FINISH,     SQL_RESULT,      SQL_TOKEN,
    SQL_DELETE_N,  SQL_CONNECTION, SQL_PURGE_LOCK, SQL_PURGE,       SQL_IMPORT,
    SQL_SWEEP_INS, SQL_SWEEP_END,  SQL_LIVE_ADD,   SQL_INSERT_HOST,
};

static void stmt_name(char name[8], enum sql_id id)
{
	snprintf(name, 8, "s%d", (int)id);
}

/* A fresh writer connection: nonblocking (the pipeline never waits on a full socket while
 * answers pile up unread), every write statement prepared. */
static int wr_setup(struct pgc *c)
{
	char name[8];

	if (PQsetnonblocking(c->c, 1) != 0)
		return -ENOTCONN;
	for (size_t i = 0; i < sizeof(wr_sql) / sizeof(wr_sql[0]); i++) {
		PGresult *res;
		int r = 0;

		if (c->prepared[wr_sql[i]])
			continue;
		stmt_name(name, wr_sql[i]);
		res = PQprepare(c->c, name, sql_text[wr_sql[i]], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			r = pg_err(c->c, res);
		PQclear(res);
		if (r < 0)
			return r;
		c->prepared[wr_sql[i]] = true;
	}
	return 0;
}

/* Queue one prepared statement on the pipeline (sent with the next flush). */
static int pipe_send(struct pgc *c, enum sql_id id, int n, const char *const *vals)
{
	char name[8];

	stmt_name(name, id);
	return PQsendQueryPrepared(c->c, name, n, vals, NULL, NULL, 0) ? 0 : pg_err(c->c, NULL);
}

static int pipe_send_text(PGconn *c, const char *sql)
{
	return PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 0) ? 0 : pg_err(c, NULL);
}

/* Send everything queued, reading answers meanwhile so that neither side blocks the other. */
static int pipe_flush(PGconn *c)
{
	int r;

	while ((r = PQflush(c)) == 1) {
		struct pollfd p = {.fd = PQsocket(c), .events = POLLIN | POLLOUT};

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -errno;
		if ((p.revents & POLLIN) && !PQconsumeInput(c))
			return -ENOTCONN;
	}
	return r < 0 ? -ENOTCONN : 0;
}

/* The next command's answer on the pipeline (and the NULL that ends it); caller clears. */
static PGresult *pipe_get(PGconn *c)
{
	PGresult *res = PQgetResult(c), *end;

	if (!res)
		return NULL;
	if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		return res;                    /* no NULL after a sync point */
	while ((end = PQgetResult(c)) != NULL) /* a command gives one result; be safe */
		PQclear(end);
	return res;
}

static int cmd_ok(const PGresult *res)
{
	return PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
}

static int cmd_rows(const PGresult *res)
{
	uint32_t k = 0;

	(void)decimal_u32(PQcmdTuples((PGresult *)res), INT32_MAX, &k);
	return (int)k;
}

/*
 * What a write's answer means for its caller. The refusals are results, not SQL errors (a
 * taken id or an active requester: ON CONFLICT DO NOTHING inserting no row is -EEXIST; a
 * finished or deleted diagnosis: the UPDATE matches nothing, which is fine).
 */
static int answer(const struct wop *w, PGconn *c, const PGresult *res)
{
	if (!res)
		return pg_err(c, NULL);
	if (!cmd_ok(res))
		return pg_err(c, res);
	switch (w->h.type) {
	case WOP_CREATE:
		/* A sweep's host already done in its sweep: kept, the insert idempotent. */
		return cmd_rows(res) == 0 && !w->sweep[0] ? -EEXIST : 0;
	case WOP_SWEEP_BEGIN:
		return cmd_rows(res) == 0 ? -EEXIST : 0;
	case WOP_IMPORT:
		return PQntuples(res) == 0 ? -EEXIST : 0; /* its id was taken: nothing inserted */
	default:
		return 0;
	}
}

/* A refusal (duplicate, token, syntax) is the caller's; anything else is the database's. */
static bool db_trouble(int r)
{
	return r < 0 && r != -EEXIST && r != -ENOENT && r != -EACCES && r != -ERR_SYNTAX &&
	       r != -ERR_RANGE;
}

/* Read the answers of everything sent so far in this batch, in order. */
static int pipe_drain(struct pg *s)
{
	PGconn *c = s->wr.c;
	int r;

	if (!s->pend_head && !s->ctl_pending)
		return 0;
	if (!PQsendFlushRequest(c) || (r = pipe_flush(c)) < 0)
		return s->batch_err = s->batch_err ? s->batch_err : pg_err(c, NULL);
	for (; s->ctl_pending > 0; s->ctl_pending--) { /* BEGIN, SET */
		PGresult *res = pipe_get(c);

		if (!res || !cmd_ok(res))
			r = pg_err(c, res);
		else
			r = 0;
		PQclear(res);
		if (r < 0 && !s->batch_err)
			s->batch_err = r;
	}
	while (s->pend_head) {
		struct wop *w = s->pend_head;
		PGresult *res = pipe_get(c);

		w->answer = answer(w, c, res);
		PQclear(res);
		if (db_trouble(w->answer) && !s->batch_err)
			s->batch_err = w->answer; /* the transaction is aborted: so is the batch */
		s->pend_head = w->pnext;
	}
	s->pend_tail = NULL;
	return s->batch_err;
}

/* One statement whose answer is needed now: the earlier ones' answers are read first. */
static PGresult *pipe_exec(struct pg *s, enum sql_id id, int n, const char *const *vals)
{
	PGconn *c = s->wr.c;

	if (pipe_drain(s) < 0 || pipe_send(&s->wr, id, n, vals) < 0 || !PQsendFlushRequest(c) ||
	    pipe_flush(c) < 0)
		return NULL;
	return pipe_get(c);
}

/* Queue w's statement; its answer is read later (pipe_drain). */
static int pipe_write(struct pg *s, struct wop *w, enum sql_id id, int n, const char *const *vals)
{
	int r = pipe_send(&s->wr, id, n, vals);

	if (r < 0)
		return r;
	w->pnext = NULL;
	if (s->pend_tail)
		s->pend_tail->pnext = w;
	else
		s->pend_head = w;
	s->pend_tail = w;
	return 0;
}

static int apply_create(struct pg *s, struct wop *w)
{
	char created[INT64_TEXT], family[4];
	const char *vals[13] = {
	    w->h.id,
	    w->token_hash,
	    created,
	    w->requester_hash,
	    w->prefix,
	    family,
	    w->lang,
	    store_device_name(w->device),
	    store_connection_name(w->h.connection),
	    w->node,
	    w->sweep[0] ? w->sweep : NULL,
	    w->sweep[0] ? w->address : NULL,
	    w->resume[0] ? w->resume : NULL,
	};

	snprintf(created, sizeof(created), "%lld", (long long)w->created_ms);
	snprintf(family, sizeof(family), "%d", w->family);
	/* ON CONFLICT DO NOTHING: a taken id, or an active diagnosis of this requester (the
	 * unique index), inserts no row instead of aborting the batch's transaction. */
	/* A sweep's host the sweep holds already is kept (SQL_INSERT_HOST, answer()). */
	return pipe_write(s, w, w->sweep[0] ? SQL_INSERT_HOST : SQL_INSERT, 13, vals);
}

static int apply_status(struct pg *s, struct wop *w)
{
	char at[INT64_TEXT];
	const char *vals[3] = {w->h.id, at, store_status_name(w->h.status)};

	snprintf(at, sizeof(at), "%lld", (long long)w->h.at_ms);
	if (w->h.status == STORE_RUNNING)
		return pipe_write(s, w, SQL_RUNNING, 2, vals);
	return pipe_write(s, w, SQL_FINISH, 3, vals);
}

/*
 * The result in one statement; a diagnosis deleted, interrupted or done meanwhile is left. An
 * import the same way, a whole row (-EEXIST if its id is taken).
 */
static int apply_result(struct pg *s, struct wop *w)
{
	const char *vals[PARAMS_MAX];

	for (unsigned i = 0; i < PARAMS_MAX; i++)
		vals[i] = w->rp[i];
	if (w->h.type == WOP_RESULT)
		return pipe_write(s, w, SQL_RESULT, RESULT_PARAMS, (vals[0] = w->h.id, vals));
	return pipe_write(s, w, SQL_IMPORT, PARAMS_MAX, vals);
}

/* The row of w->h.id, locked, if its token hash matches (constant time): 0, -ENOENT, -EACCES. */
static int token_row(struct pg *s, const struct wop *w, char n[INT64_TEXT])
{
	const char *vals[1] = {w->h.id};
	uint8_t stored[STORE_HASH_BYTES];
	PGresult *res = pipe_exec(s, SQL_TOKEN, 1, vals);
	const char *hex;
	int r;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = s->batch_err ? s->batch_err : pg_err(s->wr.c, res);
		goto out;
	}
	if (PQntuples(res) != 1) {
		r = -ENOENT;
		goto out;
	}
	snprintf(n, INT64_TEXT, "%s", PQgetvalue(res, 0, 0));
	hex = col_hash_hex(res, 0, 1);
	r = -EACCES;
	if (hex && store_hex_to_hash(hex, stored) == 0 &&
	    sodium_memcmp(stored, w->h.given_hash, STORE_HASH_BYTES) == 0)
		r = 0;
out:
	PQclear(res);
	return r;
}

/* A delete or a connection answer: the token first, then the statement on the row found. */
static int apply_token(struct pg *s, struct wop *w)
{
	char n[INT64_TEXT];
	const char *vals[2] = {n, store_connection_name(w->h.connection)}; /* NONE: NULL */
	PGresult *res;
	int r;

	if ((r = token_row(s, w, n)) < 0)
		return r;
	if (w->h.type == WOP_DELETE)
		res = pipe_exec(s, SQL_DELETE_N, 1, vals);
	else
		res = pipe_exec(s, SQL_CONNECTION, 2, vals);
	r = res && cmd_ok(res) ? 0 : s->batch_err ? s->batch_err : pg_err(s->wr.c, res);
	PQclear(res);
	if (db_trouble(r) && !s->batch_err)
		s->batch_err = r;
	return r;
}

/*
 * A chunk of the purge, answered now: its diagnoses locked by one statement, deleted with
 * their rows by the next (DELETE_CHILDREN says why two). Returns the number deleted.
 */
static int apply_purge(struct pg *s, struct wop *w)
{
	char at[INT64_TEXT], lim[16];
	const char *vals[2] = {at, lim};
	struct sbuf ns;
	PGresult *res;
	int r, k;

	snprintf(at, sizeof(at), "%lld", (long long)w->h.at_ms);
	snprintf(lim, sizeof(lim), "%d", STORE_PURGE_CHUNK);
	res = pipe_exec(s, SQL_PURGE_LOCK, 2, vals);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = s->batch_err ? s->batch_err : pg_err(s->wr.c, res);
		PQclear(res);
		return r;
	}
	k = PQntuples(res);
	sbuf_init(&ns, (size_t)STORE_PURGE_CHUNK * INT64_TEXT + 2);
	sbuf_add(&ns, "{");
	for (int i = 0; i < k; i++)
		sbuf_addf(&ns, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
	sbuf_add(&ns, "}");
	PQclear(res);
	if (k == 0 || ns.err) {
		r = ns.err ? ns.err : 0;
		goto out;
	}
	vals[0] = sbuf_str(&ns);
	res = pipe_exec(s, SQL_PURGE, 1, vals);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		r = (int)col_i64(res, 0, 0);
	else
		r = s->batch_err ? s->batch_err : pg_err(s->wr.c, res);
	PQclear(res);
out:
	sbuf_free(&ns);
	if (db_trouble(r) && !s->batch_err)
		s->batch_err = r;
	return r;
}

/* A sweep's row: inserted (-EEXIST if its id is taken) or ended (an unknown id: nothing). */
static int apply_sweep(struct pg *s, struct wop *w)
{
	const struct store_sweep *sw = w->h.sw;
	char a[INT64_TEXT], b[INT64_TEXT], d[INT64_TEXT], e[INT64_TEXT];
	const char *vals[5] = {sw->id, a, b, d, e};

	if (w->h.type == WOP_SWEEP_BEGIN) {
		snprintf(a, sizeof(a), "%lld", (long long)sw->started_ms);
		vals[2] = sw->targets;
		vals[3] = sw->ports;
		return pipe_write(s, w, SQL_SWEEP_INS, 4, vals);
	}
	snprintf(a, sizeof(a), "%lld", (long long)sw->finished_ms);
	snprintf(b, sizeof(b), "%lld", (long long)sw->sent);
	snprintf(d, sizeof(d), "%lld", (long long)sw->open_ports);
	snprintf(e, sizeof(e), "%lld", (long long)sw->hosts);
	return pipe_write(s, w, SQL_SWEEP_END, 5, vals);
}

/* Live rows: none is taken by a diagnosis no longer in flight (not an error). */
static int apply_live(struct pg *s, struct wop *w)
{
	const char *vals[4] = {w->h.id, w->rp[1], w->rp[2], w->rp[3]};

	return pipe_write(s, w, SQL_LIVE_ADD, 4, vals);
}

/* Sent (its answer comes at commit: 0 until then), or answered now (a token write). */
static int apply_one(struct pg *s, struct wop *w)
{
	switch (w->h.type) {
	case WOP_CREATE:
		return apply_create(s, w);
	case WOP_STATUS:
		return apply_status(s, w);
	case WOP_RESULT:
	case WOP_IMPORT:
		return apply_result(s, w);
	case WOP_DELETE:
	case WOP_CONNECTION:
		return apply_token(s, w);
	case WOP_PURGE:
		return apply_purge(s, w);
	case WOP_SWEEP_BEGIN:
	case WOP_SWEEP_END:
		return apply_sweep(s, w);
	case WOP_LIVE:
		return apply_live(s, w);
	}
	return -ERR_INTERNAL;
}

static void wop_free(struct wop *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < PARAMS_MAX; i++)
		free(w->rp[i]);
	free(w->h.sw);
	free(w);
}

/* A write never put (store_enqueue on a read-only store). */
static void pg_drop(struct store_write *h)
{
	wop_free((struct wop *)h); /* h is its first member */
}

/* ---------------------------------------------------------------------------------------- */
/* The write queue's steps (store_queue.h), on its writer thread and the wr connection.     */

static struct wop *to_wop(struct store_queue_item *it)
{
	return (struct wop *)(void *)((char *)it - offsetof(struct wop, h.qi));
}

/* Close the writer's connection after a broken pipeline: the next batch opens a new one. */
static void wr_drop(struct pg *s)
{
	pgc_close(&s->wr);
	s->pend_head = s->pend_tail = NULL;
	s->ctl_pending = 0;
}

/*
 * A server that restarted since the last batch shows on an idle connection as something to
 * read (its FATAL message, then the end of the stream): consumed here, it marks the
 * connection bad, so the batch goes to a new one instead of failing on a dead socket.
 */
static void wr_check_idle(struct pg *s)
{
	struct pollfd p = {.fd = s->wr.c ? PQsocket(s->wr.c) : -1, .events = POLLIN};

	for (int i = 0; i < 8 && p.fd >= 0 && PQstatus(s->wr.c) == CONNECTION_OK; i++)
		if (poll(&p, 1, 0) != 1 || !PQconsumeInput(s->wr.c))
			break;
}

/*
 * A batch holding a durable write (store_create before the 202) commits with
 * synchronous_commit on: COMMIT returns once the WAL is flushed on the server. Others commit
 * with it off: a crash of the server may lose the last few (the diagnosis then ends
 * interrupted), never corrupts. A connection lost since the last batch is re-opened here.
 * BEGIN and the setting are only sent: their answers come with the batch's.
 */
static int wr_begin(void *ctx, bool durable)
{
	struct pg *s = ctx;
	const char *set =
	    durable ? "SET LOCAL synchronous_commit TO on" : "SET LOCAL synchronous_commit TO off";
	int r;

	s->batch_err = 0;
	wr_check_idle(s);
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((r = pgc_ready(s, &s->wr)) < 0)
			return r;
		if ((r = wr_setup(&s->wr)) != -ENOTCONN)
			break;
		wr_drop(s); /* once more on a new connection */
	}
	if (r < 0)
		return r;
	if (!PQenterPipelineMode(s->wr.c) || (r = pipe_send_text(s->wr.c, "BEGIN")) < 0 ||
	    (r = pipe_send_text(s->wr.c, set)) < 0) {
		r = pg_err(s->wr.c, NULL);
		wr_drop(s);
		return r;
	}
	s->ctl_pending = 2;
	return 0;
}

/*
 * One statement per write (three for a delete or a connection answer, two for a purge
 * chunk), no savepoint: each is written so that the refusals a caller must hear come back as
 * results, not as SQL errors, so the transaction stays usable; everything else was checked by
 * store.c before it was queued.
 * A statement that fails anyway (the database's trouble) aborts the transaction: the later
 * writes and the COMMIT fail, and the whole batch is reported failed, as the queue's contract
 * says. A savepoint around each write cost two more round trips per write
 * (test_store_perf, bench/RESULTS.md). The answer is the write's at commit.
 */
static int wr_apply(void *ctx, struct store_queue_item *it)
{
	struct pg *s = ctx;
	struct wop *w = to_wop(it);
	int r = apply_one(s, w);

	/* A token write or a purge was answered now; a write that could not be sent fails the
	 * batch. */
	if (r < 0 || w->h.type == WOP_DELETE || w->h.type == WOP_CONNECTION ||
	    w->h.type == WOP_PURGE)
		w->answer = r;
	if (db_trouble(r) && !s->batch_err)
		s->batch_err = r;
	return r;
}

/*
 * COMMIT and a sync point go out after the batch; then every answer is read in order and
 * becomes its write's result. COMMIT of an aborted transaction "succeeds" with the tag
 * ROLLBACK: the first statement's failure is the batch's.
 */
static int wr_commit(void *ctx, struct store_queue_item *batch)
{
	struct pg *s = ctx;
	PGconn *c = s->wr.c;
	PGresult *res;
	int r;

	if (pipe_send_text(c, "COMMIT") < 0 || !PQpipelineSync(c) || pipe_flush(c) < 0)
		goto out_broken;
	pipe_drain(s);
	res = pipe_get(c); /* COMMIT */
	if (!res)
		goto out_broken;
	r = cmd_ok(res) ? 0 : pg_err(c, res);
	if (r == 0 && strcmp(PQcmdStatus(res), "COMMIT") != 0)
		r = -ERR_INTERNAL;
	PQclear(res);
	res = pipe_get(c); /* the sync point */
	if (PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		PQclear(res);
		goto out_broken;
	}
	PQclear(res);
	if (!PQexitPipelineMode(c))
		goto out_broken;
	if (s->batch_err)
		return s->batch_err;
	if (r < 0)
		return r;
	for (struct store_queue_item *it = batch; it; it = it->next)
		it->result = to_wop(it)->answer;
	return 0;
out_broken:
	r = s->batch_err ? s->batch_err : pg_err(c, NULL);
	wr_drop(s);
	return r < 0 ? r : -ENOTCONN;
}

static void wr_rollback(void *ctx)
{
	PGconn *c = ((struct pg *)ctx)->wr.c;

	if (c && PQstatus(c) == CONNECTION_OK && PQpipelineStatus(c) == PQ_PIPELINE_OFF)
		exec_cmd(c, "ROLLBACK");
}

static void wr_release(void *ctx, struct store_queue_item *it)
{
	struct pg *s = ctx;
	struct wop *w = to_wop(it);

	if (db_trouble(it->result) && (w->h.type == WOP_RESULT ||
	                               (w->h.type == WOP_STATUS && w->h.status != STORE_RUNNING))) {
		pthread_mutex_lock(&s->lost_mu);
		if (s->n_lost < LOST_MAX)
			memcpy(s->lost[s->n_lost++], w->h.id, STORE_ID_LEN + 1);
		pthread_mutex_unlock(&s->lost_mu);
	}
	wop_free(w);
}

static const struct store_queue_ops pg_queue_ops = {
    .begin = wr_begin,
    .apply = wr_apply,
    .commit = wr_commit,
    .rollback = wr_rollback,
    .release = wr_release,
};

static int pg_create(struct store *base, const struct store_new *d, bool sync)
{
	struct pg *s = to_pg(base);
	uint8_t rh[STORE_HASH_BYTES];
	unsigned flags = 0;
	struct wop *w;

	if (store_hex_to_hash(d->requester_hash, rh) < 0)
		return -ERR_SYNTAX;
	if (!(w = (struct wop *)store_new_write(base, WOP_CREATE, d->id)))
		return -ENOMEM;
	if (sync)
		flags = store_create_put_flags(d, s->flags, &w->h.qi);
	bytea_hex(w->token_hash, d->token_hash);
	bytea_hex(w->requester_hash, rh);
	snprintf(w->prefix, sizeof(w->prefix), "%s", d->prefix);
	snprintf(w->lang, sizeof(w->lang), "%s", d->lang ? d->lang : "");
	w->created_ms = d->created_ms;
	w->family = d->family == AF_INET ? 4 : 6;
	w->device = d->device;
	w->h.connection = d->connection;
	w->node = s->node;
	if (d->sweep) { /* store.c checked both */
		snprintf(w->sweep, sizeof(w->sweep), "%s", d->sweep);
		snprintf(w->address, sizeof(w->address), "%s", d->address);
	}
	if (d->resume_len) { /* store.c bounded it */
		memcpy(w->resume, "\\x", 2);
		sodium_bin2hex(w->resume + 2, sizeof(w->resume) - 2, d->resume, d->resume_len);
	}
	return store_enqueue(&s->base, &w->h, flags);
}

/* One element of a text[] literal: NULL, or the text double-quoted with " and \ escaped. */
static void array_text(struct sbuf *b, const char *v)
{
	if (b->len > 1)
		sbuf_add(b, ",");
	if (!v) {
		sbuf_add(b, "NULL");
		return;
	}
	sbuf_add(b, "\"");
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			sbuf_add(b, "\\");
		sbuf_addn(b, p, 1);
	}
	sbuf_add(b, "\"");
}

static char *array_close(struct sbuf *b)
{
	sbuf_add(b, "}");
	return sbuf_take(b, NULL);
}

/* The i-th port row is overwritten by a later one of the same check and port (as SQLite's
 * INSERT OR REPLACE would): PostgreSQL refuses one statement touching a row twice. */
static bool superseded(const struct store_check_row *checks, size_t n, size_t i)
{
	for (size_t j = i + 1; j < n; j++)
		if (checks[j].port == checks[i].port &&
		    strcmp(checks[j].check, checks[i].check) == 0)
			return true;
	return false;
}

/* The port rows and findings as ten array parameters from rp[first]. */
static int row_arrays(struct wop *w, unsigned first, const struct store_check_row *checks,
                      size_t n_checks, const struct store_finding_row *findings, size_t n_findings)
{
	struct sbuf a[10];
	int e = 0;

	for (unsigned i = 0; i < 10; i++) {
		sbuf_init(&a[i], ARRAY_MAX);
		sbuf_add(&a[i], "{");
	}
	for (size_t i = 0; i < n_checks; i++) {
		const struct store_check_row *c = &checks[i];
		char num[40];

		if (superseded(checks, n_checks, i))
			continue;
		array_text(&a[0], c->check);
		snprintf(num, sizeof(num), "%u", c->port);
		array_text(&a[1], num);
		array_text(&a[2], c->state);
		array_text(&a[3], c->reason);
		snprintf(num, sizeof(num), "%.17g", c->rtt_ms);
		array_text(&a[4], c->rtt_ms >= 0 ? num : NULL);
		array_text(&a[5], c->service && *c->service ? c->service : NULL);
	}
	for (size_t i = 0; i < n_findings; i++) {
		const struct store_finding_row *f = &findings[i];

		array_text(&a[6], f->check);
		array_text(&a[7], f->id);
		array_text(&a[8], severity_name(f->severity));
		array_text(&a[9], confidence_name(f->confidence));
	}
	for (unsigned i = 0; i < 10; i++) {
		if (!(w->rp[first + i] = array_close(&a[i])) && !e)
			e = a[i].err ? a[i].err : -ENOMEM;
		sbuf_free(&a[i]);
	}
	return e;
}

static int pg_save_result(struct store *base, const struct store_result *r)
{
	struct wop *w = (struct wop *)store_new_write(base, WOP_RESULT, r->id);
	char num[INT64_TEXT];
	int e;

	if (!w)
		return -ENOMEM;
	if ((e = store_summarize(r, &w->rp[3], &w->rp[4])) < 0)
		goto out_free;
	snprintf(num, sizeof(num), "%lld", (long long)r->finished_ms);
	w->rp[1] = strdup(num);
	w->rp[2] = strdup(r->risk);
	if (r->families) {
		snprintf(num, sizeof(num), "%d",
		         r->families == STORE_FAMILY_BOTH ? 46
		         : r->families == STORE_FAMILY_V4 ? 4
		                                          : 6);
		w->rp[5] = strdup(num);
	}
	w->rp[6] = strdup(r->json);
	e = -ENOMEM;
	if (!w->rp[1] || !w->rp[2] || (r->families && !w->rp[5]) || !w->rp[6])
		goto out_free;
	if ((e = row_arrays(w, 7, r->checks, r->n_checks, r->findings, r->n_findings)) < 0)
		goto out_free;
	w->h.qi.done = r->saved;
	w->h.qi.done_ud = r->saved_ud;
	return store_enqueue(base, &w->h, 0);
out_free:
	wop_free(w);
	return e;
}

static char *dup_i64(int64_t v)
{
	char num[INT64_TEXT];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	return strdup(num);
}

static char *dup_opt(const char *v)
{
	return v ? strdup(v) : NULL;
}

/* The row's parameters $1..$27 of SQL_IMPORT, owned by w. */
static int import_params(struct wop *w, const struct store_full *f)
{
	char hex[HEX_BYTEA];
	uint8_t rh[STORE_HASH_BYTES];
	char **p = w->rp;

	if (store_hex_to_hash(f->requester_hash, rh) < 0)
		return -ERR_SYNTAX;
	p[0] = strdup(f->id);
	bytea_hex(hex, f->token_hash);
	p[1] = strdup(hex);
	p[2] = strdup(store_status_name(f->status));
	p[3] = dup_i64(f->created_ms);
	p[4] = f->started_ms ? dup_i64(f->started_ms) : NULL;
	p[5] = f->finished_ms ? dup_i64(f->finished_ms) : NULL;
	bytea_hex(hex, rh);
	p[6] = strdup(hex);
	p[7] = strdup(f->prefix);
	p[8] = strdup(f->family == AF_INET ? "4" : "6");
	p[9] = strdup(f->lang);
	p[10] = dup_opt(f->risk);
	p[11] = dup_opt(f->checks_summary);
	p[12] = dup_opt(f->findings_summary);
	p[13] = dup_opt(store_connection_name(f->connection));
	p[14] = dup_opt(store_device_name(f->device));
	p[15] = f->families ? strdup(f->families == STORE_FAMILY_BOTH ? "46"
	                             : f->families == STORE_FAMILY_V4 ? "4"
	                                                              : "6")
	                    : NULL;
	p[16] = dup_opt(f->json);
	p[27] = dup_opt(f->sweep);
	p[28] = dup_opt(f->address);
	if ((f->sweep && !p[27]) || (f->address && !p[28]))
		return -ENOMEM;
	for (unsigned i = 0; i < 17; i++) {
		bool want = i == 0 || i == 1 || i == 2 || i == 3 || (i >= 6 && i <= 9) ||
		            (i == 4 && f->started_ms) || (i == 5 && f->finished_ms) ||
		            (i == 10 && f->risk) || (i == 11 && f->checks_summary) ||
		            (i == 12 && f->findings_summary) || (i == 13 && f->connection) ||
		            (i == 14 && f->device) || (i == 15 && f->families) ||
		            (i == 16 && f->json);

		if (want && !p[i])
			return -ENOMEM;
	}
	return row_arrays(w, 17, f->checks, f->n_checks, f->findings, f->n_findings);
}

static int pg_import(struct store *base, const struct store_full *f)
{
	struct wop *w = (struct wop *)store_new_write(base, WOP_IMPORT, NULL);
	int e;

	if (!w)
		return -ENOMEM;
	if ((e = import_params(w, f)) < 0) {
		wop_free(w);
		return e;
	}
	return store_enqueue(base, &w->h, 0);
}

static int pool_take(struct pg *s, struct pgc **out);
static void pool_give(struct pg *s, struct pgc *c);

/*
 * The retention purge runs on one node at a time: the others find the lock taken and leave it
 * (0). A session lock on a pooled connection, held for the whole purge.
 */
static int pg_purge(struct store *base, int64_t cutoff_ms)
{
	struct pg *s = to_pg(base);
	char sql[96];
	PGresult *res;
	struct pgc *c;
	bool mine;
	int r;

	if ((r = pool_take(s, &c)) < 0)
		return r;
	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%lld)", LOCK_PURGE);
	res = PQexec(c->c, sql);
	mine = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	       strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	r = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : pg_err(c->c, res);
	PQclear(res);
	if (mine) {
		r = store_purge_chunks(base, cutoff_ms);
		snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", LOCK_PURGE);
		exec_cmd(c->c, sql);
	}
	pool_give(s, c);
	return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Reads: a connection from the pool, re-opened if the server went away.                    */

static int pool_take(struct pg *s, struct pgc **out)
{
	unsigned i;
	int r;

	pthread_mutex_lock(&s->pool_mu);
	for (;;) {
		for (i = 0; i < POOL_MAX && s->busy[i]; i++)
			;
		if (i < POOL_MAX)
			break;
		pthread_cond_wait(&s->pool_cv, &s->pool_mu);
	}
	s->busy[i] = true;
	pthread_mutex_unlock(&s->pool_mu);
	if ((r = pgc_ready(s, &s->pool[i])) < 0) {
		pthread_mutex_lock(&s->pool_mu);
		s->busy[i] = false;
		pthread_cond_signal(&s->pool_cv);
		pthread_mutex_unlock(&s->pool_mu);
		return r;
	}
	*out = &s->pool[i];
	return 0;
}

/*
 * A pooled connection whose server restarted fails at its first use: then (once) clear the
 * failed result, reconnect and say so, so the caller runs its query again.
 */
static bool retry_on_new(struct pg *s, struct pgc *c, PGresult **res)
{
	ExecStatusType st = PQresultStatus(*res);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || PQstatus(c->c) == CONNECTION_OK)
		return false;
	PQclear(*res);
	*res = NULL;
	if (pgc_ready(s, c) == 0)
		return true;
	*res = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
	return false;
}

/* A prepared statement on a pooled connection; run again once on a fresh connection when the
 * server had restarted (retry_on_new). */
static PGresult *exec_id_again(struct pg *s, struct pgc *c, enum sql_id id, int n,
                               const char *const *vals)
{
	PGresult *res = exec_id(c, id, n, vals);

	if (retry_on_new(s, c, &res))
		res = exec_id(c, id, n, vals);
	return res;
}

static void pool_give(struct pg *s, struct pgc *c)
{
	pthread_mutex_lock(&s->pool_mu);
	s->busy[c - s->pool] = false;
	pthread_cond_signal(&s->pool_cv);
	pthread_mutex_unlock(&s->pool_mu);
}

static void copy_col(const PGresult *res, int col, char *dst, size_t n)
{
	snprintf(dst, n, "%s", col_str(res, 0, col));
}

static int fill_diagnosis(const PGresult *res, struct store_diagnosis *out)
{
	const char *hex = col_hash_hex(res, 0, 5);
	enum store_status status;

	copy_col(res, 0, out->id, sizeof(out->id));
	if (store_status_parse(col_str(res, 0, 1), &status) < 0)
		return -ERR_INTERNAL;
	out->status = status;
	out->created_ms = col_i64(res, 0, 2);
	out->started_ms = col_i64(res, 0, 3);
	out->finished_ms = col_i64(res, 0, 4);
	if (hex)
		snprintf(out->requester_hash, sizeof(out->requester_hash), "%s", hex);
	copy_col(res, 6, out->prefix, sizeof(out->prefix));
	out->family = strcmp(col_str(res, 0, 7), "4") == 0 ? AF_INET : AF_INET6;
	copy_col(res, 8, out->lang, sizeof(out->lang));
	copy_col(res, 9, out->risk, sizeof(out->risk));
	(void)store_connection_parse(col_str(res, 0, 11), &out->connection);
	(void)store_device_parse(col_str(res, 0, 12), &out->device);
	if (!PQgetisnull(res, 0, 10) && !(out->json = strdup(PQgetvalue(res, 0, 10))))
		return -ENOMEM;
	return 0;
}

static int pg_get(struct store *base, const char *id, struct store_diagnosis *out)
{
	struct pg *s = to_pg(base);
	const char *vals[1] = {id};
	PGresult *res;
	struct pgc *c;
	int r;

	if ((r = pool_take(s, &c)) < 0)
		return r;
	res = exec_id_again(s, c, SQL_GET, 1, vals);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		r = pg_err(c->c, res);
	else if (PQntuples(res) != 1)
		r = -ENOENT;
	else
		r = fill_diagnosis(res, out);
	PQclear(res);
	pool_give(s, c);
	if (r < 0)
		store_diagnosis_done(out);
	return r;
}

/* The first column of a one-row count. */
static int count_query(struct pg *s, enum sql_id id, int n, const char *const *vals, uint64_t *out)
{
	PGresult *res;
	struct pgc *c;
	int r = 0;

	if ((r = pool_take(s, &c)) < 0)
		return r;
	res = exec_id_again(s, c, id, n, vals);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		r = pg_err(c->c, res);
	else
		*out = (uint64_t)col_i64(res, 0, 0);
	PQclear(res);
	pool_give(s, c);
	return r;
}

static int pg_live_add(struct store *base, const char *id, const struct store_live_row *rows,
                       size_t n)
{
	struct wop *w = (struct wop *)store_new_write(base, WOP_LIVE, id);
	struct sbuf a[3];
	char num[16];
	int e = 0;

	if (!w)
		return -ENOMEM;
	for (unsigned i = 0; i < 3; i++) {
		sbuf_init(&a[i], ARRAY_MAX);
		sbuf_add(&a[i], "{");
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%u", rows[i].seq);
		array_text(&a[0], num);
		snprintf(num, sizeof(num), "%u", rows[i].index);
		array_text(&a[1], num);
		array_text(&a[2], rows[i].json);
	}
	for (unsigned i = 0; i < 3; i++) {
		if (!(w->rp[1 + i] = array_close(&a[i])) && !e)
			e = a[i].err ? a[i].err : -ENOMEM;
		sbuf_free(&a[i]);
	}
	if (e < 0) {
		wop_free(w);
		return e;
	}
	return store_enqueue(base, &w->h, 0);
}

static int pg_live_get(struct store *base, const char *id, uint32_t from,
                       void (*cb)(void *ud, const struct store_live_row *row), void *ud)
{
	struct pg *s = to_pg(base);
	char num[16];
	const char *vals[2] = {id, num};
	PGresult *res;
	struct pgc *c;
	int r, n;

	snprintf(num, sizeof(num), "%u", from);
	if ((r = pool_take(s, &c)) < 0)
		return r;
	res = exec_id_again(s, c, SQL_LIVE_GET, 2, vals);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = pg_err(c->c, res);
	} else {
		n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			uint32_t seq = 0, idx = 0;

			/* The table's CHECKs keep both non-negative; a bad one ends the list. */
			if (decimal_u32(PQgetvalue(res, i, 0), UINT32_MAX, &seq) < 0 ||
			    decimal_u32(PQgetvalue(res, i, 1), UINT32_MAX, &idx) < 0) {
				n = i;
				break;
			}
			cb(ud, &(struct store_live_row){seq, idx, PQgetvalue(res, i, 2)});
		}
		r = n;
	}
	PQclear(res);
	pool_give(s, c);
	return r;
}

static int pg_find_active(struct store *base, const uint8_t hash[STORE_HASH_BYTES],
                          char id[STORE_ID_LEN + 1])
{
	struct pg *s = to_pg(base);
	char hex[HEX_BYTEA];
	const char *vals[1] = {hex};
	PGresult *res;
	struct pgc *c;
	int r;

	bytea_hex(hex, hash);
	if ((r = pool_take(s, &c)) < 0)
		return r;
	res = exec_id_again(s, c, SQL_ACTIVE, 1, vals);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		r = pg_err(c->c, res);
	else if (PQntuples(res) != 1)
		r = -ENOENT;
	else
		snprintf(id, STORE_ID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	pool_give(s, c);
	return r;
}

static int pg_count_inflight(struct store *base)
{
	uint64_t n = 0;
	int r = count_query(to_pg(base), SQL_INFLIGHT, 0, NULL, &n);

	return r < 0 ? r : n > INT32_MAX ? INT32_MAX : (int)n;
}

static void period_text(const struct store_period *p, char since[INT64_TEXT],
                        char until[INT64_TEXT])
{
	snprintf(since, INT64_TEXT, "%lld", (long long)(p ? p->since_ms : 0));
	snprintf(until, INT64_TEXT, "%lld",
	         (long long)(p && p->until_ms > 0 ? p->until_ms : INT64_MAX));
}

static int pg_count_results(struct store *base, const struct store_period *p, uint64_t *out)
{
	char since[INT64_TEXT], until[INT64_TEXT];
	const char *vals[2] = {since, until};

	period_text(p, since, until);
	const char *vals3[3] = {vals[0], vals[1], p ? p->sweep : NULL};

	return count_query(to_pg(base), SQL_COUNT, 3, vals3, out);
}

/* "ok" if the server answers and the schema is the one this code reads. */
static int pg_check_integrity(struct store *base, char *msg, size_t n)
{
	struct pg *s = to_pg(base);
	char line[PG_ERRMSG];
	bool foreign;
	struct pgc *c;
	int64_t v;
	int r;

	if (n > 0)
		msg[0] = '\0';
	if ((r = pool_take(s, &c)) < 0) {
		if (n > 0)
			snprintf(msg, n, "cannot connect to PostgreSQL");
		return r;
	}
	r = query_version(c->c, &v, &foreign);
	if (r == 0 && v != STORE_PG_SCHEMA_VERSION)
		r = -ERR_INTERNAL;
	if (n > 0)
		snprintf(msg, n, "%s",
		         r == 0 ? "ok" : first_line(PQerrorMessage(c->c), line, sizeof(line)));
	pool_give(s, c);
	return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Report iteration: a server-side cursor in a read-only snapshot, fetched in blocks.       */

/*
 * The service's rows (no sweep) or one sweep's, in two statements: with one written "sweep IS
 * NOT DISTINCT FROM $3" the planner guessed a single matching row, so it read the table
 * whole and sorted a million rows on disk (4.5 s) instead of walking diagnoses_created in
 * order (1.7 s, load 16).
 */
#define ITER_SELECT                                                                                \
	"DECLARE it NO SCROLL CURSOR FOR"                                                          \
	" SELECT n, id, created_ms, finished_ms, requester_hash, requester_prefix, family, risk,"  \
	" lang, checks_summary, findings_summary, connection, device, families, sweep, address"    \
	" FROM diagnoses WHERE status = 'done' AND created_ms >= $1 AND created_ms < $2 AND "
static const char iter_sql_service[] = ITER_SELECT "sweep IS NULL ORDER BY created_ms, n";
static const char iter_sql_sweep[] = ITER_SELECT "sweep = $3 ORDER BY created_ms, n";

/* The families tested: the families column (4, 6, 46), or the requester's family if NULL. */
static unsigned family_bits_of(const char *families, const char *family)
{
	const char *f = *families ? families : family;

	return strcmp(f, "4") == 0    ? STORE_FAMILY_V4
	       : strcmp(f, "46") == 0 ? STORE_FAMILY_BOTH
	                              : STORE_FAMILY_V6;
}

static unsigned family_bits(const PGresult *res, int row)
{
	return family_bits_of(col_str(res, row, 13), col_str(res, row, 6));
}

static int emit(const PGresult *res, int i, struct store_summary_buf *b, store_iter_cb *cb,
                void *ud)
{
	enum store_connection conn = STORE_CONN_NONE;
	enum store_device dev = STORE_DEVICE_NONE;
	const char *hash = col_hash_hex(res, i, 4);
	struct store_iter_row row;
	int r;

	if ((r = store_summary_parse(b, col_str(res, i, 9), col_str(res, i, 10))) < 0)
		return r;
	(void)store_connection_parse(col_str(res, i, 11), &conn);
	(void)store_device_parse(col_str(res, i, 12), &dev);
	row = (struct store_iter_row){
	    .count = 1,
	    .serial = (uint64_t)col_i64(res, i, 0),
	    .id = col_str(res, i, 1),
	    .created_ms = col_i64(res, i, 2),
	    .finished_ms = col_i64(res, i, 3),
	    .requester_hash = hash ? hash : "",
	    .prefix = col_str(res, i, 5),
	    .family = strcmp(col_str(res, i, 6), "4") == 0 ? AF_INET : AF_INET6,
	    .risk = col_str(res, i, 7),
	    .lang = col_str(res, i, 8),
	    .connection = conn,
	    .device = dev,
	    .families = family_bits(res, i),
	    .checks = b->checks,
	    .n_checks = b->n_checks,
	    .findings = b->findings,
	    .n_findings = b->n_findings,
	    .sweep = col_opt(res, i, 14),
	    .address = col_opt(res, i, 15),
	};
	return cb(ud, &row);
}

/* The answer to the command sent last (and the NULL after it); caller clears. */
static PGresult *sent_result(PGconn *c)
{
	PGresult *res = PQgetResult(c), *more;

	while ((more = PQgetResult(c)) != NULL)
		PQclear(more);
	return res;
}

#define FETCH_SQL "FETCH FORWARD " FETCH_ROWS " FROM it"

/*
 * The cursor in blocks, the next one asked for before this one is gone through: the server
 * reads and sends block k + 1 while the report counts block k (two blocks in memory at most).
 */
typedef int emit_fn(const PGresult *res, int i, struct store_summary_buf *b, store_iter_cb *cb,
                    void *ud);

/*
 * sql declares the cursor "it" over the period ($1, $2) and, if p names a sweep, that sweep
 * ($3; the service's rows otherwise); each row goes through emit_row.
 */
static int iter_cursor(struct pgc *c, const char *sql, const struct store_period *p,
                       emit_fn *emit_row, store_iter_cb *cb, void *ud, struct store_summary_buf *b)
{
	char since[INT64_TEXT], until[INT64_TEXT];
	const char *vals[3] = {since, until, p ? p->sweep : NULL};
	bool asked = false;
	PGresult *res;
	int r, count = 0;

	period_text(p, since, until);
	res = PQexecParams(c->c, sql, vals[2] ? 3 : 2, NULL, vals, NULL, NULL, 0);
	r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_err(c->c, res);
	PQclear(res);
	if (r == 0 && !(asked = PQsendQuery(c->c, FETCH_SQL)))
		r = pg_err(c->c, NULL);
	while (r == 0) {
		int rows;

		res = sent_result(c->c);
		asked = false;
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			r = pg_err(c->c, res);
			PQclear(res);
			break;
		}
		rows = PQntuples(res);
		if (rows == FETCH_N && !(asked = PQsendQuery(c->c, FETCH_SQL)))
			r = pg_err(c->c, NULL);
		for (int i = 0; i < rows && r == 0; i++) {
			r = emit_row(res, i, b, cb, ud);
			if (r == 0 && count < INT32_MAX)
				count++;
		}
		PQclear(res);
		if (rows < FETCH_N)
			break;
	}
	if (asked) /* stopped early: the block asked for is not wanted */
		PQclear(sent_result(c->c));
	return r == 0 ? count : r;
}

/* One snapshot for the whole walk (writers are never blocked by it), then the cursor. */
static int iter_in_snapshot(struct pg *s, const char *set, const char *sql,
                            const struct store_period *p, emit_fn *emit_row, store_iter_cb *cb,
                            void *ud)
{
	struct store_summary_buf b = {0};
	struct pgc *c;
	int r;

	if ((r = pool_take(s, &c)) < 0)
		return r;
	r = exec_cmd(c->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (r == -ENOTCONN && (r = pgc_ready(s, c)) == 0)
		r = exec_cmd(c->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (r == 0 && set && (r = exec_cmd(c->c, set)) < 0)
		exec_cmd(c->c, "ROLLBACK");
	else if (r == 0) {
		r = iter_cursor(c, sql, p, emit_row, cb, ud, &b);
		exec_cmd(c->c, "ROLLBACK");
	}
	pool_give(s, c);
	store_summary_buf_done(&b);
	return r;
}

static int pg_iter(struct store *base, const struct store_period *p, store_iter_cb *cb, void *ud)
{
	return iter_in_snapshot(to_pg(base), NULL,
	                        p && p->sweep ? iter_sql_sweep : iter_sql_service, p, emit, cb, ud);
}

/*
 * store_iter_groups: the server groups the rows alike for counting (one scan, a hash) and
 * sends each group once, instead of every row over the wire for the report to count one by
 * one (bench/RESULTS.md, issue 14). In a rough order of first appearance. JIT compiling
 * costs more than it saves on one scan, and the planner, which cannot tell how few distinct
 * summaries there are, sorts on disk unless the hash may take more than the default 4 MB.
 */
#define GROUPS_SQL(prefix, rows)                                                                   \
	"DECLARE it NO SCROLL CURSOR FOR"                                                          \
	" SELECT count(*), " prefix ", risk, checks_summary, findings_summary, connection,"        \
	" device, coalesce(families, family) FROM " rows                                           \
	" GROUP BY 2, 3, 4, 5, 6, 7, 8 ORDER BY min(created_ms), min(n)"
#define DONE_IN(sweep)  "status = 'done' AND created_ms >= $1 AND created_ms < $2 AND " sweep
#define ALL_ROWS(sweep) "diagnoses WHERE " DONE_IN(sweep)
/*
 * STORE_GROUP_LATEST: each requester's last result in (created_ms, n), the order the report
 * reads the rows in (ties decided by the serial), a requester being the first 16 bytes of its
 * hash (report.c keeps those), all zero not counted. One hash of the requesters in the server
 * (the greatest (created_ms, n) of each) instead of every row, twice, over the wire: 0.74 s
 * for a million results and 97,500 requesters, DISTINCT ON 0.94 s (its sort of the whole rows
 * went to disk).
 */
#define REQUESTER "substring(requester_hash FOR 16)"
#define LATEST_ROWS(sweep)                                                                         \
	"diagnoses WHERE n IN (SELECT (max(ARRAY[created_ms, n]))[2] FROM diagnoses "              \
	"WHERE " REQUESTER                                                                         \
	" <> decode(repeat('00', 16), 'hex') AND " DONE_IN(sweep) " GROUP BY " REQUESTER ")"
#define GROUPS_BY(prefix, rows)                                                                    \
	{                                                                                          \
		GROUPS_SQL(prefix, rows("sweep IS NULL")), GROUPS_SQL(prefix, rows("sweep = $3"))  \
	}
/* [prefix kept][latest only][a sweep's] */
static const char *const groups_sql[2][2][2] = {
    {GROUPS_BY("''", ALL_ROWS), GROUPS_BY("''", LATEST_ROWS)},
    {GROUPS_BY("requester_prefix", ALL_ROWS), GROUPS_BY("requester_prefix", LATEST_ROWS)},
};

static int emit_group(const PGresult *res, int i, struct store_summary_buf *b, store_iter_cb *cb,
                      void *ud)
{
	enum store_connection conn = STORE_CONN_NONE;
	enum store_device dev = STORE_DEVICE_NONE;
	const char *fam = col_str(res, i, 7);
	uint64_t count = 0;
	int r;

	if ((r = store_summary_parse(b, col_str(res, i, 3), col_str(res, i, 4))) < 0 ||
	    (r = decimal_u64(col_str(res, i, 0), INT64_MAX, &count)) < 0)
		return r;
	(void)store_connection_parse(col_str(res, i, 5), &conn);
	(void)store_device_parse(col_str(res, i, 6), &dev);
	return cb(ud, &(struct store_iter_row){
	                  .count = count,
	                  .id = "",
	                  .requester_hash = "",
	                  .prefix = col_str(res, i, 1),
	                  .family = strcmp(fam, "4") == 0 ? AF_INET : AF_INET6,
	                  .risk = col_str(res, i, 2),
	                  .lang = "",
	                  .connection = conn,
	                  .device = dev,
	                  .families = family_bits_of(fam, fam),
	                  .checks = b->checks,
	                  .n_checks = b->n_checks,
	                  .findings = b->findings,
	                  .n_findings = b->n_findings,
	              });
}

static int pg_iter_groups(struct store *base, const struct store_period *p, unsigned flags,
                          store_iter_cb *cb, void *ud)
{
	return iter_in_snapshot(to_pg(base), "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'",
	                        groups_sql[!!(flags & STORE_GROUP_PREFIX)]
	                                  [!!(flags & STORE_GROUP_LATEST)][p && p->sweep ? 1 : 0],
	                        p, emit_group, cb, ud);
}

/* ---------------------------------------------------------------------------------------- */
/* Dump (exposure store copy): every diagnosis, its rows aggregated as JSON by the server.  */

static const char dump_sql[] =
    "DECLARE dump NO SCROLL CURSOR FOR"
    " SELECT d.n, d.id, d.token_hash, d.status, d.created_ms, d.started_ms, d.finished_ms,"
    " d.requester_hash, d.requester_prefix, d.family, d.lang, d.risk, d.checks_summary,"
    " d.findings_summary, d.connection, d.device, d.families, x.json, d.sweep, d.address,"
    " (SELECT json_agg(json_build_array(check_name, port, state, reason, rtt_ms, service)"
    "   ORDER BY check_name COLLATE \"C\", port) FROM check_results c WHERE c.diag = d.n),"
    " (SELECT json_agg(json_build_array(check_name, finding, severity, confidence)"
    "   ORDER BY seq) FROM findings f WHERE f.diag = d.n)"
    " FROM diagnoses d LEFT JOIN documents x ON x.diag = d.n ORDER BY d.n";

static const char *jstr(const json_t *a, size_t i)
{
	return json_string_value(json_array_get(a, i)); /* NULL for JSON null */
}

/* The server's JSON arrays of ports and findings into b. */
static int dump_children(const char *ports, const char *finds, struct store_dump_buf *b)
{
	json_t *p = ports ? json_loads(ports, 0, NULL) : NULL;
	json_t *f = finds ? json_loads(finds, 0, NULL) : NULL;
	size_t i;
	json_t *e;
	int r = (ports && !json_is_array(p)) || (finds && !json_is_array(f)) ? -ERR_SYNTAX : 0;

	store_dump_reset(b);
	json_array_foreach(p, i, e)
	{
		json_t *rtt = json_array_get(e, 4);

		if (r == 0)
			r = store_dump_add_port(
			    b, jstr(e, 0), json_integer_value(json_array_get(e, 1)), jstr(e, 2),
			    jstr(e, 3), json_is_number(rtt) ? json_number_value(rtt) : -1,
			    jstr(e, 5));
	}
	json_array_foreach(f, i, e)
	{
		if (r == 0)
			r = store_dump_add_finding(b, jstr(e, 0), jstr(e, 1), jstr(e, 2),
			                           jstr(e, 3));
	}
	json_decref(p);
	json_decref(f);
	return r;
}

static int dump_row(const PGresult *res, int i, struct store_dump_buf *b, store_dump_cb *cb,
                    void *ud)
{
	const char *tok = col_hash_hex(res, i, 2), *hash = col_hash_hex(res, i, 7);
	uint8_t token_hash[STORE_HASH_BYTES];
	enum store_status status;
	const char *fam = col_str(res, i, 16);
	struct store_full f;
	int r;

	if (!tok || !hash || store_hex_to_hash(tok, token_hash) < 0 ||
	    store_status_parse(col_str(res, i, 3), &status) < 0)
		return -ERR_SYNTAX;
	if ((r = dump_children(col_opt(res, i, 20), col_opt(res, i, 21), b)) < 0)
		return r;
	f = (struct store_full){
	    .id = col_str(res, i, 1),
	    .token_hash = token_hash,
	    .status = status,
	    .created_ms = col_i64(res, i, 4),
	    .started_ms = col_i64(res, i, 5),
	    .finished_ms = col_i64(res, i, 6),
	    .requester_hash = hash,
	    .prefix = col_str(res, i, 8),
	    .family = strcmp(col_str(res, i, 9), "4") == 0 ? AF_INET : AF_INET6,
	    .lang = col_str(res, i, 10),
	    .risk = col_opt(res, i, 11),
	    .checks_summary = col_opt(res, i, 12),
	    .findings_summary = col_opt(res, i, 13),
	    .families = !*fam                    ? 0
	                : strcmp(fam, "4") == 0  ? STORE_FAMILY_V4
	                : strcmp(fam, "46") == 0 ? STORE_FAMILY_BOTH
	                                         : STORE_FAMILY_V6,
	    .json = col_opt(res, i, 17),
	    .sweep = col_opt(res, i, 18),
	    .address = col_opt(res, i, 19),
	};
	(void)store_connection_parse(col_opt(res, i, 14), &f.connection);
	(void)store_device_parse(col_opt(res, i, 15), &f.device);
	store_dump_fill(b, &f);
	return cb(ud, &f);
}

static int dump_cursor(struct pgc *c, store_dump_cb *cb, void *ud, struct store_dump_buf *b)
{
	int r = exec_cmd(c->c, dump_sql), count = 0;

	while (r == 0) {
		PGresult *res = PQexec(c->c, "FETCH FORWARD 2000 FROM dump");
		int rows;

		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			r = pg_err(c->c, res);
			PQclear(res);
			break;
		}
		rows = PQntuples(res);
		for (int i = 0; i < rows && r == 0; i++) {
			r = dump_row(res, i, b, cb, ud);
			if (r == 0 && count < INT32_MAX)
				count++;
		}
		PQclear(res);
		if (rows == 0)
			break;
	}
	return r == 0 ? count : r;
}

static int pg_dump(struct store *base, store_dump_cb *cb, void *ud)
{
	struct pg *s = to_pg(base);
	struct store_dump_buf b = {0};
	struct pgc *c;
	int r;

	if ((r = pool_take(s, &c)) < 0)
		return r;
	if ((r = exec_cmd(c->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) == 0) {
		r = dump_cursor(c, cb, ud, &b);
		exec_cmd(c->c, "ROLLBACK");
	}
	pool_give(s, c);
	store_dump_done(&b);
	return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Sweeps (/work/brief/sweep-store.md), as the SQLite backend's.                           */

/* A bigint column of any sign (a sweep's counts may be -1); none for NULL. */
static int64_t col_i64_or(const PGresult *res, int row, int col, int64_t none)
{
	const char *t = PQgetvalue(res, row, col);
	uint64_t v = 0;

	if (PQgetisnull(res, row, col))
		return none;
	if (*t == '-')
		return decimal_u64(t + 1, INT64_MAX, &v) < 0 ? none : -(int64_t)v;
	return decimal_u64(t, INT64_MAX, &v) < 0 ? none : (int64_t)v;
}

/* Row i of SQL_SWEEP_GET or SQL_SWEEP_LIST. */
static void fill_sweep(const PGresult *res, int i, struct store_sweep *out)
{
	snprintf(out->id, sizeof(out->id), "%s", col_str(res, i, 0));
	out->started_ms = col_i64(res, i, 1);
	out->finished_ms = col_i64_or(res, i, 2, 0);
	snprintf(out->targets, sizeof(out->targets), "%s", col_str(res, i, 3));
	snprintf(out->ports, sizeof(out->ports), "%s", col_str(res, i, 4));
	out->sent = col_i64_or(res, i, 5, -1);
	out->open_ports = col_i64_or(res, i, 6, -1);
	out->hosts = col_i64_or(res, i, 7, -1);
	out->shards = (unsigned)col_i64_or(res, i, 8, 0); /* the schema bounds it: 1..65536 */
}

static int pg_sweep_get(struct store *base, const char *id, struct store_sweep *out)
{
	struct pg *s = to_pg(base);
	const char *vals[1] = {id};
	PGresult *res;
	struct pgc *c;
	int r = 0;

	if ((r = pool_take(s, &c)) < 0)
		return r;
	res = exec_id_again(s, c, SQL_SWEEP_GET, 1, vals);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = pg_err(c->c, res);
	} else if (PQntuples(res) != 1) {
		r = -ENOENT;
	} else {
		fill_sweep(res, 0, out);
	}
	PQclear(res);
	pool_give(s, c);
	return r;
}

/* Every sweep in one result: a handful of rows (one per `exposure sweep` run). */
static int pg_sweep_list(struct store *base, store_sweep_cb *cb, void *ud)
{
	struct pg *s = to_pg(base);
	struct store_sweep *sw = malloc(sizeof(*sw));
	PGresult *res;
	struct pgc *c;
	int r, count = 0;

	if (!sw)
		return -ENOMEM;
	if ((r = pool_take(s, &c)) < 0) {
		free(sw);
		return r;
	}
	res = exec_id_again(s, c, SQL_SWEEP_LIST, 0, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		r = pg_err(c->c, res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		memset(sw, 0, sizeof(*sw));
		fill_sweep(res, i, sw);
		if ((r = cb(ud, sw)) == 0 && count < INT32_MAX)
			count++;
	}
	PQclear(res);
	pool_give(s, c);
	free(sw);
	return r == 0 ? count : r;
}

/* ---------------------------------------------------------------------------------------- */
/* Sweep shards (issue 14 §3): synchronous, on a pooled connection, timed by the database.   */

/* A prepared command on a pooled connection: the rows it touched, or a negative code. */
static int exec_id_rows(struct pgc *c, enum sql_id id, int n, const char *const *vals)
{
	PGresult *res = exec_id(c, id, n, vals);
	int r;

	if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
		r = cmd_rows(res);
	else
		r = pg_err(c->c, res);
	PQclear(res);
	return r;
}

static int pg_sweep_define(struct store *base, const struct store_sweep *sw, const char *spec,
                           unsigned shards)
{
	struct pg *s = to_pg(base);
	char started[INT64_TEXT], n[INT64_TEXT];
	const char *vals[6] = {sw->id, started, sw->targets, sw->ports, n, spec};
	struct pgc *c;
	int r;

	if (!s->base.q)
		return -EROFS;
	snprintf(started, sizeof(started), "%lld", (long long)sw->started_ms);
	snprintf(n, sizeof(n), "%u", shards);
	if ((r = pool_take(s, &c)) < 0)
		return r;
	r = exec_id_rows(c, SQL_DEFINE, 6, vals);
	pool_give(s, c);
	return r < 0 ? r : r == 0 ? -EEXIST : 0;
}

/* Whether any shard (of sweep, or of any) is still not done: -EAGAIN, else -ENOENT. */
static int shards_left(struct pgc *c, const char *sweep)
{
	const char *vals[1] = {sweep};
	PGresult *res = exec_id(c, SQL_LEFT, 1, vals);
	int r = -ENOENT;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		r = pg_err(c->c, res);
	else if (col_i64(res, 0, 0) > 0)
		r = -EAGAIN;
	PQclear(res);
	return r;
}

static int pg_shard_claim(struct store *base, const char *sweep, unsigned lease_ms,
                          struct store_shard *out)
{
	struct pg *s = to_pg(base);
	char lease[INT64_TEXT];
	const char *vals[3] = {sweep, s->node, lease};
	uint32_t shard = 0, shards = 0, attempt = 0;
	PGresult *res;
	struct pgc *c;
	int r = 0;

	if (!s->base.q)
		return -EROFS;
	snprintf(lease, sizeof(lease), "%u", lease_ms);
	if ((r = pool_take(s, &c)) < 0)
		return r;
	res = exec_id_again(s, c, SQL_CLAIM, 3, vals);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = pg_err(c->c, res);
	} else if (PQntuples(res) != 1) {
		r = shards_left(c, sweep);
	} else if (decimal_u32(col_str(res, 0, 1), STORE_SHARDS_MAX - 1, &shard) < 0 ||
	           decimal_u32(col_str(res, 0, 2), INT32_MAX, &attempt) < 0 ||
	           decimal_u32_in(col_str(res, 0, 3), 1, STORE_SHARDS_MAX, &shards) < 0 ||
	           shard >= shards || PQgetisnull(res, 0, 4)) {
		r = -ERR_SYNTAX; /* not a row this program wrote */
	} else if (!(out->spec = strdup(col_str(res, 0, 4)))) {
		r = -ENOMEM;
	} else {
		snprintf(out->sweep, sizeof(out->sweep), "%s", col_str(res, 0, 0));
		out->shard = shard;
		out->shards = shards;
		out->attempt = attempt;
	}
	PQclear(res);
	pool_give(s, c);
	return r;
}

/* Renew (SQL_RENEW: a, the lease) or finish (SQL_SHARD_DONE: a, b, d the counts) a claimed
 * shard: the rows touched, or negative. */
static int shard_update(struct pgc *c, enum sql_id id, const struct store_shard *sh,
                        const char *node, const char *a, const char *b, const char *d)
{
	char shard[INT64_TEXT], attempt[INT64_TEXT];
	const char *vals[7] = {sh->sweep, shard, node, attempt, a, b, d};

	snprintf(shard, sizeof(shard), "%u", sh->shard);
	snprintf(attempt, sizeof(attempt), "%u", sh->attempt);
	return exec_id_rows(c, id, id == SQL_RENEW ? 5 : id == SQL_UNCLAIM ? 4 : 7, vals);
}

static int pg_shard_renew(struct store *base, const struct store_shard *sh, unsigned lease_ms)
{
	struct pg *s = to_pg(base);
	char lease[INT64_TEXT];
	struct pgc *c;
	int r;

	snprintf(lease, sizeof(lease), "%u", lease_ms);
	if ((r = pool_take(s, &c)) < 0)
		return r;
	r = shard_update(c, SQL_RENEW, sh, s->node, lease, NULL, NULL);
	if (r < 0 && PQstatus(c->c) != CONNECTION_OK && pgc_ready(s, c) == 0)
		r = shard_update(c, SQL_RENEW, sh, s->node, lease, NULL, NULL);
	pool_give(s, c);
	return r < 0 ? r : r == 0 ? -ESTALE : 0;
}

static int pg_shard_unclaim(struct store *base, const struct store_shard *sh)
{
	struct pg *s = to_pg(base);
	struct pgc *c;
	int r;

	if ((r = pool_take(s, &c)) < 0)
		return r;
	r = shard_update(c, SQL_UNCLAIM, sh, s->node, NULL, NULL, NULL);
	pool_give(s, c);
	return r < 0 ? r : r == 0 ? -ESTALE : 0;
}

static int pg_shard_failed(struct store *base, const char *sweep, store_shard_failed_cb *cb,
                           void *ud)
{
	struct pg *s = to_pg(base);
	const char *vals[1] = {sweep};
	uint32_t shard, shards;
	PGresult *res;
	struct pgc *c;
	int r, count = 0;

	if ((r = pool_take(s, &c)) < 0)
		return r;
	res = exec_id_again(s, c, SQL_SHARDS_FAILED, 1, vals);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		r = pg_err(c->c, res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		if (decimal_u32(col_str(res, i, 1), STORE_SHARDS_MAX - 1, &shard) < 0 ||
		    decimal_u32_in(col_str(res, i, 2), 1, STORE_SHARDS_MAX, &shards) < 0)
			r = -ERR_SYNTAX; /* not a row this program wrote */
		else if ((r = cb(ud, col_str(res, i, 0), shard, shards)) == 0 && count < INT32_MAX)
			count++;
	}
	PQclear(res);
	pool_give(s, c);
	return r == 0 ? count : r;
}

/* In one transaction, after the sweep's row lock: this shard done, then the sweep's end if
 * it was the last. */
static int pg_shard_done(struct store *base, const struct store_shard *sh,
                         const struct store_sweep *counts)
{
	struct pg *s = to_pg(base);
	char sent[INT64_TEXT], open[INT64_TEXT], hosts[INT64_TEXT];
	const char *vals[1] = {sh->sweep};
	struct pgc *c;
	int r;

	snprintf(sent, sizeof(sent), "%lld", (long long)counts->sent);
	snprintf(open, sizeof(open), "%lld", (long long)counts->open_ports);
	snprintf(hosts, sizeof(hosts), "%lld", (long long)counts->hosts);
	if ((r = pool_take(s, &c)) < 0)
		return r;
	if ((r = exec_cmd(c->c, "BEGIN")) < 0)
		goto out;
	if ((r = exec_id_rows(c, SQL_SWEEP_LOCK, 1, vals)) < 0 ||
	    (r = shard_update(c, SQL_SHARD_DONE, sh, s->node, sent, open, hosts)) <= 0 ||
	    (r = exec_id_rows(c, SQL_SWEEP_FINISH, 1, vals)) < 0) {
		exec_cmd(c->c, "ROLLBACK");
		r = r == 0 ? -ESTALE : r;
		goto out;
	}
	r = exec_cmd(c->c, "COMMIT");
out:
	pool_give(s, c);
	return r;
}

const struct store_ops store_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .check_integrity = pg_check_integrity,
    .write_size = sizeof(struct wop),
    .drop = pg_drop,
    .create = pg_create,
    .save_result = pg_save_result,
    .purge = pg_purge,
    .get = pg_get,
    .count_inflight = pg_count_inflight,
    .find_active = pg_find_active,
    .on_change = pg_on_change,
    .on_takeover = pg_on_takeover,
    .live_add = pg_live_add,
    .live_get = pg_live_get,
    .iter = pg_iter,
    .iter_groups = pg_iter_groups,
    .count_results = pg_count_results,
    .dump = pg_dump,
    .import = pg_import,
    .sweep_get = pg_sweep_get,
    .sweep_list = pg_sweep_list,
    .sweep_define = pg_sweep_define,
    .shard_claim = pg_shard_claim,
    .shard_renew = pg_shard_renew,
    .shard_done = pg_shard_done,
    .shard_unclaim = pg_shard_unclaim,
    .shard_failed = pg_shard_failed,
};
