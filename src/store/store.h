/* SPDX-License-Identifier: MIT */
/*
 * The result store: diagnoses, their per-port check results and findings, behind a small
 * backend-neutral interface (SQLite today; PostgreSQL can follow). See docs/internals/STORE.md.
 * The requester's address is never stored: only a keyed hash and the truncated prefix.
 */
#ifndef EXPOSURE_STORE_STORE_H
#define EXPOSURE_STORE_STORE_H

#include "core/addr.h"
#include "core/finding.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_KEY_BYTES   32 /* secret key for the requester hash */
#define STORE_HASH_BYTES  32 /* keyed requester hash and token hash */
#define STORE_HASH_HEX    (2 * STORE_HASH_BYTES + 1)
#define STORE_ID_BYTES    16                   /* 128 random bits */
#define STORE_ID_LEN      (2 * STORE_ID_BYTES) /* lowercase hex */
#define STORE_TOKEN_BYTES 32
#define STORE_TOKEN_LEN   43 /* base64url, no padding */
#define STORE_PREFIX_MAX  (ADDR_STRLEN + 4)
#define STORE_NAME_MAX    32 /* check, state, reason, service, risk, language names */

/* Version of the newest schema this code knows (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 4

/* The address families a diagnosis covered (a visit diagnoses up to one address of each): bits. */
#define STORE_FAMILY_V4   1u
#define STORE_FAMILY_V6   2u
#define STORE_FAMILY_BOTH (STORE_FAMILY_V4 | STORE_FAMILY_V6)

enum store_status {
	STORE_QUEUED = 0,
	STORE_RUNNING,
	STORE_DONE,
	STORE_INTERRUPTED,
	STORE_STATUS_X_MAX
};

/*
 * The visitor's own answer to "how is this device connected right now?" (issue 10 §3), and the
 * coarse device class taken from the User-Agent at request time (the User-Agent itself is never
 * stored). NONE is no answer / not recorded: NULL in the database, null in JSON.
 */
enum store_connection {
	STORE_CONN_NONE = 0,
	STORE_CONN_SIM,
	STORE_CONN_USB_MODEM,
	STORE_CONN_TETHERING,
	STORE_CONN_ROUTER,
	STORE_CONN_WIRED,
	STORE_CONN_UNKNOWN,
	STORE_CONN_X_MAX
};

enum store_device {
	STORE_DEVICE_NONE = 0,
	STORE_DEVICE_DESKTOP,
	STORE_DEVICE_TABLET,
	STORE_DEVICE_PHONE,
	STORE_DEVICE_OTHER,
	STORE_DEVICE_X_MAX
};

/* "sim", "usb-modem", "tethering", "router", "wired", "unknown"; NULL for NONE or junk. */
const char *store_connection_name(enum store_connection c);
/* Return 0 or -ERR_SYNTAX (NULL or any other text; NONE is never parsed). */
int store_connection_parse(const char *name, enum store_connection *out);
/* "desktop", "tablet", "phone", "other"; NULL for NONE or junk. */
const char *store_device_name(enum store_device d);
/* Return 0 or -ERR_SYNTAX. */
int store_device_parse(const char *name, enum store_device *out);

/* "queued", "running", "done", "interrupted"; "?" for anything else. */
const char *store_status_name(enum store_status s);
/* Return 0 or -ERR_SYNTAX. */
int store_status_parse(const char *name, enum store_status *out);

/* ------------------------------------------------------------------------------------------ */
/* Secrets, identifiers, hashing (store_key.c; libsodium, no database).                       */

struct store_key {
	uint8_t bytes[STORE_KEY_BYTES];
};

/*
 * Load the requester-hash key from path, or create it if absent (O_CREAT|O_EXCL on a temporary
 * name, fchmod 0600 whatever the umask, fsync, then link() into place so a crash never leaves a
 * short key). Returns 1 if created, 0 if loaded; -EPERM if the file is readable or writable by
 * group or others, or not owned by us; -ERR_SYNTAX if it is not a regular file of exactly
 * STORE_KEY_BYTES bytes; -errno otherwise. *out is zeroed on entry.
 */
int store_key_load(const char *path, struct store_key *out);

/*
 * Keyed hash (BLAKE2b, crypto_generichash with the key) of a requester's address, as 64
 * lowercase hex chars + NUL. An IPv4-mapped IPv6 address hashes as its IPv4 form. Stable for a
 * key; unlinkable without it. Returns 0 or -ERR_UNSUPPORTED (family).
 */
int store_requester_hash(const struct store_key *k, const struct addr *a,
                         char out_hex[STORE_HASH_HEX]);

/*
 * The prefix kept for statistics: /24 for IPv4, /48 for IPv6 ("198.18.5.0/24",
 * "2001:db8:1::/48"); IPv4-mapped IPv6 is treated as IPv4. Returns the length, -ERR_RANGE if n
 * is too small (use STORE_PREFIX_MAX), -ERR_UNSUPPORTED for another family.
 */
int store_prefix(const struct addr *a, char *out, size_t n);

/* A fresh 128-bit random id: 32 lowercase hex chars + NUL. Returns 0. */
int store_random_id(char out[STORE_ID_LEN + 1]);

/* A fresh 256-bit delete token, base64url without padding (43 chars + NUL). Returns 0. */
int store_random_token(char out[STORE_TOKEN_LEN + 1]);

/* The hash kept for a token (unkeyed BLAKE2b-256; the token has 256 bits of entropy). */
void store_token_hash(const char *token, uint8_t out[STORE_HASH_BYTES]);

/* True if id is exactly STORE_ID_LEN lowercase hex characters. */
bool store_id_valid(const char *id);

/* Wall-clock milliseconds since the epoch. */
int64_t store_now_ms(void);

/* ------------------------------------------------------------------------------------------ */
/* Opening and closing.                                                                       */

struct store;

enum store_open_flags {
	/* Reader only (exposure report): no migrations, no restart marking, no writer thread,
	 * no lock; the schema must already be current. */
	STORE_READONLY = 1 << 0,
	/* When the asynchronous queue is full, wait for room instead of failing with -EAGAIN
	 * (bulk generation and tests; never from the event loop). */
	STORE_QUEUE_BLOCK = 1 << 1,
	/* Commit synchronous creates with synchronous=NORMAL instead of FULL: survives kill -9
	 * but not power loss (bulk generation). */
	STORE_FAST_CREATE = 1 << 2,
	/* PostgreSQL: take no part in the nodes' leases (no node row, no heartbeat, nothing
	 * marked interrupted): `exposure store copy` writes rows exactly as they were. */
	STORE_NO_LEASE = 1 << 3,
};

struct store_opts {
	unsigned flags;           /* enum store_open_flags */
	unsigned busy_timeout_ms; /* wait for a lock held by another connection (default 5000) */
	unsigned queue_max;       /* bound of the asynchronous write queue (default 4096) */
	unsigned batch_max;       /* queued writes applied per transaction (default 256) */
	/* PostgreSQL: the key every node sharing the database must hold (its fingerprint is
	 * recorded by the first node; another key is refused, -EKEYREJECTED). NULL: not checked. */
	const struct store_key *key;
	char *errbuf; /* optional: a one-line reason when store_open fails */
	size_t errlen;
};

/*
 * Open (creating if needed) the store at path: a file name for SQLite ("sqlite:PATH" too), or
 * PostgreSQL: "postgresql://..." (a libpq URI), "postgresql:KEY=VALUE ..." (libpq key/value
 * pairs), "postgresql:" alone (the PG* environment variables). Applies pending schema migrations in
 * one transaction, then, unless STORE_READONLY, marks every queued or running diagnosis interrupted
 * (they were left by a process that died) and starts the writer thread. o may be NULL (defaults).
 * A writable open takes an exclusive lock on PATH.lock: a second service on the same database
 * gets -EBUSY instead of marking the first one's diagnoses interrupted.
 * Returns the number of diagnoses marked interrupted (>= 0) and *out, or: -ERR_UNSUPPORTED
 * (schema newer than this code, or an unknown backend), -EBUSY, -ERR_INTERNAL (database error),
 * -errno. *out is NULL on failure; o->errbuf, if set, gets the reason.
 */
int store_open(const char *path, const struct store_opts *o, struct store **out);

/*
 * path as it may be shown in a message or a log: a password in a PostgreSQL connection string
 * (postgresql://user:PASSWORD@..., password=... as a key or a URI parameter) replaced by ***.
 * Returns buf (always NUL-terminated, cut to n).
 */
const char *store_display(const char *path, char *buf, size_t n);

/* Flush the queue, stop the writer, close. Takes NULL. Never marks anything interrupted. */
void store_close(struct store *s);

/*
 * Wait until every asynchronous write queued before this call is applied (committed or
 * failed). Returns 0, or the negative code of the first write that failed since the last flush.
 * Blocks: not from the event loop except at shutdown.
 */
int store_flush(struct store *s);

/* Backend name ("sqlite") and a database self-check ("ok" from PRAGMA integrity_check). */
const char *store_backend(const struct store *s);
int store_check_integrity(struct store *s, char *msg, size_t n);

/* Counters for /metrics. Read without locking beyond a mutex; cheap. */
struct store_stats {
	uint64_t queued;        /* writes accepted into the queue, ever */
	uint64_t applied;       /* writes applied (committed or failed) */
	uint64_t failed;        /* writes that failed */
	uint64_t rejected_full; /* writes refused with -EAGAIN (queue full) */
	uint64_t transactions;  /* writer transactions committed */
	size_t queue_len;       /* writes waiting now */
	/* Writes that failed for the database's sake (full disk, I/O error, read-only, locked; not
	 * a refused write such as a duplicate id or a wrong token) since the last batch that
	 * committed without one, waited ones included: > 0 while the store cannot write. */
	uint64_t failing;
	int last_err; /* the negative code of the last such failure, 0 if none ever */
};
void store_get_stats(struct store *s, struct store_stats *out);

/* ------------------------------------------------------------------------------------------ */
/* Writing.                                                                                   */

/* A new diagnosis, status queued. Strings are copied. */
struct store_new {
	const char *id;             /* store_random_id() */
	const uint8_t *token_hash;  /* STORE_HASH_BYTES: store_token_hash() */
	const char *requester_hash; /* 64 hex: store_requester_hash() */
	const char *prefix;         /* store_prefix() */
	sa_family_t family;         /* AF_INET or AF_INET6 */
	const char *lang;           /* "ja", "en" */
	int64_t created_ms;
	enum store_device device;         /* from the User-Agent; NONE: not recorded */
	enum store_connection connection; /* NONE (the service: asked after the result); an
	                                   * import or a generated store may know it already */
	/* A host of `exposure sweep`: the sweep's id and the host's address (the operator's own
	 * hosts, never a visitor's). NULL, NULL for every other diagnosis. */
	const char *sweep;
	const char *address;
	/* What another node needs to run this diagnosis again if this node dies (PostgreSQL's
	 * takeover, store_on_takeover): sealed by the caller, opaque here, at most
	 * STORE_RESUME_MAX bytes, kept only while the diagnosis is queued or running. NULL:
	 * nobody can resume it (it is marked interrupted if its node dies). */
	const uint8_t *resume;
	size_t resume_len;
	/*
	 * Optional, store_create only: nobody blocks. store_create queues the durable create and
	 * returns 0 (or fails at once, and then created is never called); created is called once
	 * with what store_create would have returned, on the store's writer thread, after the
	 * create's batch committed durably or failed. Every create queued meanwhile shares that one
	 * commit, where blocking callers share one commit each (the web front answers its 202 from
	 * here, api.c). It must not wait for the store (as store_result's saved).
	 */
	void (*created)(void *ud, int result);
	void *created_ud;
};

#define STORE_RESUME_MAX 256

/*
 * Record a new diagnosis, synchronously and durably: committed (WAL fsynced, unless
 * STORE_FAST_CREATE) before this returns, so the caller may answer 202 afterwards (or, with
 * d->created, before created is called: then this returns once queued).
 * Blocks for one commit (~ an fsync): call from a worker thread or accept the cost.
 * Returns 0; -ERR_SYNTAX (malformed id, hash, prefix), -ERR_RANGE (string too long), -EEXIST
 * (id already used), -ERR_INTERNAL.
 */
int store_create(struct store *s, const struct store_new *d);

/* The same through the asynchronous queue (bulk generation; no durability promise). */
int store_create_async(struct store *s, const struct store_new *d);

/*
 * Queue a status change (asynchronous: returns once queued). RUNNING sets started_ms and
 * applies only to a queued diagnosis; INTERRUPTED and DONE set finished_ms and apply only to a
 * queued or running one (a finished diagnosis never goes back). Returns 0; -EAGAIN if the queue
 * is full (unless STORE_QUEUE_BLOCK); -ERR_SYNTAX (id, status); -ERR_RANGE (QUEUED).
 */
int store_set_status(struct store *s, const char *id, enum store_status st, int64_t at_ms);

/*
 * One port of one check, as in the JSON document. check, state and finding ids are tokens:
 * letters, digits and ". _ + -" only; reason and service may be any printable ASCII.
 */
struct store_check_row {
	const char *check; /* catalogue name: "ssh", "smb", ... */
	uint16_t port;
	const char *state;   /* port_state_name(): "open", "closed", "filtered", "error" */
	const char *reason;  /* port_reason_name() or NULL */
	double rtt_ms;       /* < 0: none */
	const char *service; /* identified service or NULL */
};

struct store_finding_row {
	const char *check;
	const char *id; /* finding id, "smb1-enabled" */
	enum severity severity;
	enum confidence confidence;
};

/*
 * One check with all its ports taken together, as the diagnosis folded them
 * (diagnosis_check_state(): the one folding rule; the store never folds). Both are tokens.
 */
struct store_check_state {
	const char *check; /* catalogue name */
	const char *state; /* port_state_name() of the check's state */
};

/* The final result of a diagnosis. Everything is copied at the call. */
struct store_result {
	const char *id;
	int64_t finished_ms;
	const char *risk; /* risk_name() */
	const char *json; /* the document of `exposure check --json` (docs/json.md), UTF-8 */
	const struct store_check_row *checks;
	size_t n_checks;
	const struct store_finding_row *findings;
	size_t n_findings;
	/* Every check once, in display order: the summary the report reads. */
	const struct store_check_state *states;
	size_t n_states;
	/* STORE_FAMILY_* bits of the addresses diagnosed; 0: the requester's family alone. */
	unsigned families;
	/*
	 * Optional: called once with the write's outcome (0: committed, or nothing to update; a
	 * negative code: not stored) when store_save_result returned 0, on the store's writer
	 * thread, after the write is applied. It must not wait for the store (no store_create,
	 * store_flush, store_delete, store_close from it). Not called when store_save_result fails.
	 */
	void (*saved)(void *ud, int result);
	void *saved_ud;
};

/*
 * Queue the result: in ONE transaction the document, its check_results and findings rows, and
 * status done with finished_ms. Applied only if the diagnosis is still queued or running (a
 * deleted or interrupted one is left alone). Returns 0 once queued; -EAGAIN (queue full),
 * -ERR_SYNTAX, -ERR_RANGE (a name longer than STORE_NAME_MAX-1), -ENOMEM.
 */
int store_save_result(struct store *s, const struct store_result *r);

/*
 * Delete a diagnosis (and its rows) if token hashes to its stored token hash (constant-time
 * comparison). Synchronous. Returns 0; -ENOENT (no such id), -EACCES (wrong token),
 * -ERR_SYNTAX (malformed id).
 */
int store_delete(struct store *s, const char *id, const char *token);

/*
 * Set (or, with STORE_CONN_NONE, clear) the visitor's connection answer, if token hashes to the
 * stored token hash (constant-time comparison), whatever the diagnosis's status. Synchronous,
 * through the write queue. Returns 0; -ENOENT (no such id), -EACCES (wrong token), -ERR_SYNTAX
 * (malformed id), -ERR_RANGE (not an enum store_connection), -EAGAIN (queue full).
 */
int store_set_connection(struct store *s, const char *id, const char *token,
                         enum store_connection conn);

/*
 * Delete every diagnosis created before cutoff_ms, in short transactions of a few hundred so
 * creates are never held up for long. Synchronous: call from a worker thread. Returns the
 * number deleted.
 */
int store_purge_older_than(struct store *s, int64_t cutoff_ms);

/* ------------------------------------------------------------------------------------------ */
/* Reading. Reads see committed writes only: store_flush() first to read your own queued ones. */

struct store_diagnosis {
	char id[STORE_ID_LEN + 1];
	enum store_status status;
	int64_t created_ms;
	int64_t started_ms;  /* 0 = not started */
	int64_t finished_ms; /* 0 = not finished */
	char requester_hash[STORE_HASH_HEX];
	char prefix[STORE_PREFIX_MAX];
	sa_family_t family;
	char lang[STORE_NAME_MAX];
	char risk[STORE_NAME_MAX]; /* "" until done */
	enum store_connection connection;
	enum store_device device;
	char *json; /* the result document or NULL; freed by store_diagnosis_done */
};

/* Fetch one diagnosis. Returns 0; -ENOENT; -ERR_SYNTAX (malformed id). out zeroed on entry. */
int store_get(struct store *s, const char *id, struct store_diagnosis *out);

/* Free what store_get() allocated and zero out. */
void store_diagnosis_done(struct store_diagnosis *d);

/*
 * The id of the requester's queued or running diagnosis (requester_hash: 64 hex), if any: on
 * PostgreSQL another node's too (one active diagnosis per requester is a unique index there,
 * so store_create of a second fails with -EEXIST). Returns 0, -ENOENT, -ERR_SYNTAX.
 */
int store_find_active(struct store *s, const char *requester_hash, char id[STORE_ID_LEN + 1]);

/*
 * Call cb(ud) when another process sharing the store changed a diagnosis (PostgreSQL:
 * LISTEN/NOTIFY on the heartbeat thread, from about one lease round after this call). A
 * wake-up only: notifications can be lost (a reconnection), so a caller that waits for a
 * change also looks again by itself. Not called at all on SQLite (one process). Call once,
 * right after store_open, before anything waits on it.
 */
void store_on_change(struct store *s, void (*cb)(void *ud), void *ud);

/* A diagnosis of a dead node that this node has claimed (store_on_takeover). */
struct store_takeover {
	char id[STORE_ID_LEN + 1];
	uint8_t token_hash[STORE_HASH_BYTES];
	int64_t created_ms;
	char lang[STORE_NAME_MAX];
	enum store_device device;
	uint8_t resume[STORE_RESUME_MAX]; /* as store_new.resume gave it */
	size_t resume_len;
};

/*
 * Take over the diagnoses of dead nodes (PostgreSQL; issue 14 §2). When a node's lease runs
 * out, the next lease round of a live node claims its queued and running diagnoses that carry
 * resume data (FOR UPDATE SKIP LOCKED: each one by one node only), makes them its own with
 * status queued, and calls cb(ud, t) for each on the heartbeat thread: cb runs it again, or
 * sets it interrupted. A diagnosis is taken over once at most (its second node dying too, it
 * is interrupted: a diagnosis that kills nodes must not go round them all), and one without
 * resume data, or with no callback set, is marked interrupted as before. Never called on
 * SQLite (one process). cb NULL stops it: when this returns, no callback is running.
 */
void store_on_takeover(struct store *s, void (*cb)(void *ud, const struct store_takeover *t),
                       void *ud);

/*
 * Live rows (PostgreSQL; issue 14 §2): the checks of a diagnosis in flight, as they finish,
 * for the event streams that follow it from other nodes. Kept only while it runs (the result
 * carries every check), deleted with the result or final status.
 */
struct store_live_row {
	uint32_t seq;     /* the seq-th check of the diagnosis to finish, from 0 */
	uint32_t index;   /* which check (the web layer's slot: target x catalogue entry) */
	const char *json; /* its check object as the stream sends it */
};

#define STORE_LIVE_BATCH 64 /* rows per store_live_add / store_live_get call at most */

/* Queue rows of diagnosis id (asynchronous; a diagnosis no longer in flight takes none).
 * Returns 0, -ERR_RANGE (more than STORE_LIVE_BATCH), -ERR_UNSUPPORTED (SQLite). */
int store_live_add(struct store *s, const char *id, const struct store_live_row *rows, size_t n);

/* The live rows of id with seq >= from, in seq order, at most STORE_LIVE_BATCH: cb(ud, row)
 * for each (the row's strings live for the call). Returns how many, or a negative error
 * (-ERR_UNSUPPORTED on SQLite). */
int store_live_get(struct store *s, const char *id, uint32_t from,
                   void (*cb)(void *ud, const struct store_live_row *row), void *ud);

/* Diagnoses queued or running now (as committed). Returns the count, or a negative error. */
int store_count_inflight(struct store *s);

/* A period [since_ms, until_ms); 0 and INT64_MAX (or 0) mean open ends. */
struct store_period {
	int64_t since_ms;
	int64_t until_ms;
	/* NULL: only the diagnoses of no sweep (the web service's, `exposure check`'s); else only
	 * those of this sweep. */
	const char *sweep;
};

/*
 * One check of a result, all its ports taken together: its store_check_state as saved.
 * Per-port rows stay in the check_results table.
 */
struct store_iter_check {
	char check[STORE_NAME_MAX];
	char state[STORE_NAME_MAX];
};

struct store_iter_finding {
	char check[STORE_NAME_MAX];
	char id[FINDING_ID_MAX];
	enum severity severity;
	enum confidence confidence;
};

/* One finished diagnosis. Every pointer is valid only during the callback. */
struct store_iter_row {
	uint64_t serial; /* stable per database, increasing with insertion */
	const char *id;
	int64_t created_ms;
	int64_t finished_ms;
	const char *requester_hash; /* 64 hex */
	const char *prefix;
	sa_family_t family;
	const char *risk;
	const char *lang;
	enum store_connection connection;
	enum store_device device;
	unsigned families; /* STORE_FAMILY_* bits, never 0: the requester's family if not saved */
	const struct store_iter_check *checks;
	size_t n_checks;
	const struct store_iter_finding *findings;
	size_t n_findings;
	const char *sweep;   /* the sweep's id, or NULL */
	const char *address; /* a sweep's host address, or NULL */
	uint64_t count; /* the results this row stands for: 1, or a group's (store_iter_groups) */
};

/* Return 0 to go on; any other value stops the iteration, which returns it. */
typedef int store_iter_cb(void *ud, const struct store_iter_row *row);

/*
 * Call cb for every diagnosis with status done created in period p (NULL = all), in order of
 * (created_ms, serial). Streams from the database on its own read connection (a consistent
 * snapshot; writers are not blocked); memory does not grow with the number of results. It
 * reads only the diagnoses table (with its per-check summary), never the per-port rows or the
 * documents. Returns the number of rows visited, cb's non-zero value, or a negative error.
 */
int store_iter_results(struct store *s, const struct store_period *p, store_iter_cb *cb, void *ud);

/* store_iter_groups: keep the requester prefixes apart (for labels). */
#define STORE_GROUP_PREFIX 1u
/*
 * store_iter_groups: only each requester's latest result of the period (report --per
 * requester): the last of its results in store_iter_results' order, (created_ms, serial),
 * requesters told apart by the first 16 bytes of their hash, a hash whose first 16 bytes are
 * all zero not counted (report.c's rule for the rows).
 */
#define STORE_GROUP_LATEST 2u

/*
 * The results of store_iter_results that are alike for counting, each group once with its
 * number in row->count: alike = the same risk, checks and findings summaries, connection
 * answer, device class and families tested (and prefix with STORE_GROUP_PREFIX). Only those
 * fields are given (prefix "" without the flag; the rest zero or empty); groups come in no
 * particular order. A backend that can aggregate in its database does (PostgreSQL: one scan
 * and a hash in the server, instead of every row over the wire); the others call cb once per
 * result with count 1, except with STORE_GROUP_LATEST: -ERR_UNSUPPORTED, before any cb, and the
 * caller picks the latest rows itself. For counting only: no period order, no per-row
 * identity. Returns the number of groups (rows) visited, cb's non-zero value, or a negative
 * error.
 */
int store_iter_groups(struct store *s, const struct store_period *p, unsigned flags,
                      store_iter_cb *cb, void *ud);

/* Number of done diagnoses in p (for sampling without replacement). */
int store_count_results(struct store *s, const struct store_period *p, uint64_t *out);

/* ------------------------------------------------------------------------------------------ */
/* Copying a whole store between backends (exposure store copy).                              */

/*
 * Every column of one diagnosis with its document and per-port rows, as stored: what
 * store_dump() gives and store_import() writes. Summaries are copied as they are (never
 * recomputed), so a report reads the same on both stores. 0 for started_ms/finished_ms, NULL
 * for risk, summaries or json, NONE for connection/device and 0 for families are SQL NULL.
 */
struct store_full {
	const char *id;
	const uint8_t *token_hash; /* STORE_HASH_BYTES */
	enum store_status status;
	int64_t created_ms, started_ms, finished_ms;
	const char *requester_hash; /* 64 hex */
	const char *prefix;
	sa_family_t family;
	const char *lang;
	const char *risk;
	const char *checks_summary;
	const char *findings_summary;
	enum store_connection connection;
	enum store_device device;
	unsigned families;
	const char *json;
	const struct store_check_row *checks;
	size_t n_checks;
	const struct store_finding_row *findings; /* in their order (seq) */
	size_t n_findings;
	const char *sweep, *address; /* a sweep's host (store_new), else NULL, NULL */
};

typedef int store_dump_cb(void *ud, const struct store_full *row);

/*
 * Call cb for every diagnosis, whatever its status, in (created_ms, serial) order, from a
 * consistent snapshot. Every pointer is valid only during the callback. Returns the number of
 * rows, cb's non-zero value, or a negative error.
 */
int store_dump(struct store *s, store_dump_cb *cb, void *ud);

/*
 * Write one such diagnosis, through the asynchronous queue (store_flush() afterwards gives the
 * first failure: -EEXIST if the id is taken). Returns 0 once queued, -ERR_SYNTAX / -ERR_RANGE
 * for a malformed field, -EROFS read-only.
 */
int store_import(struct store *s, const struct store_full *row);

/* ------------------------------------------------------------------------------------------ */
/* Sweeps (`exposure sweep`, docs/sweep.md): one row per sweep; its hosts are diagnoses whose  */
/* store_new.sweep names it. Contract for every backend: /work/brief/sweep-store.md.          */

#define STORE_SWEEP_TEXT_MAX 4096

struct store_sweep {
	char id[STORE_ID_LEN + 1];
	int64_t started_ms;
	int64_t finished_ms;                /* 0: not finished (running, or interrupted) */
	char targets[STORE_SWEEP_TEXT_MAX]; /* the target arguments, space-separated */
	char ports[STORE_SWEEP_TEXT_MAX];   /* "22,445" */
	int64_t sent, open_ports, hosts;    /* -1 until the end */
	unsigned shards; /* defined with --define --shards N: N; else 0 (one machine, a copy) */
};

/*
 * Record a new sweep (id, started_ms, targets, ports), synchronously and durably. Returns 0;
 * -ERR_SYNTAX (id, empty text), -ERR_RANGE (text too long), -EEXIST, -ERR_INTERNAL.
 */
int store_sweep_begin(struct store *s, const struct store_sweep *sw);

/* Queue the end of a sweep: finished_ms, sent, open_ports, hosts of sw->id. Returns 0 once
 * queued; -EAGAIN (queue full), -ERR_SYNTAX. */
int store_sweep_end(struct store *s, const struct store_sweep *sw);

/* Read one sweep. Returns 0; -ENOENT; -ERR_SYNTAX (malformed id). */
int store_sweep_get(struct store *s, const char *id, struct store_sweep *out);

typedef int store_sweep_cb(void *ud, const struct store_sweep *sw);

/*
 * Call cb for every sweep row, in (started_ms, id) order (exposure store copy); sw is valid
 * only during the callback. Returns the number of rows, cb's non-zero value, or a negative
 * error.
 */
int store_sweep_list(struct store *s, store_sweep_cb *cb, void *ud);

/* ------------------------------------------------------------------------------------------ */
/* A sweep across machines (issue 14 §3, docs/internals/STORE.md "Sweep shards"): defined once */
/* with N shards, then run by `exposure sweep --worker` processes that claim one shard at a   */
/* time under a lease. PostgreSQL only: SQLite returns -ERR_UNSUPPORTED (one machine).        */

#define STORE_SHARDS_MAX     65536u
#define STORE_SWEEP_SPEC_MAX (1u << 20) /* the sweep's options, JSON (files inlined) */

/* One claimed shard. spec is owned (store_shard_release). */
struct store_shard {
	char sweep[STORE_ID_LEN + 1];
	unsigned shard, shards;
	unsigned attempt; /* 1 for the first run of this shard, 2 after one was lost... */
	char *spec;       /* the sweep's options as given to store_sweep_define */
};

/*
 * Record a sweep of `shards` shards, all pending, with the options every worker runs (spec,
 * opaque text) in one transaction. sw: id, started_ms, targets, ports (as store_sweep_begin).
 * Returns 0; -EEXIST; -ERR_SYNTAX; -ERR_RANGE; -ERR_UNSUPPORTED (this backend has no shards).
 */
int store_sweep_define(struct store *s, const struct store_sweep *sw, const char *spec,
                       unsigned shards);

/*
 * Claim one shard (of sweep, or of any sweep when NULL) that is pending or whose lease ran out,
 * and has not failed (STORE_SHARD_FAILED_RUNS), for this process (the store's node name),
 * until lease_ms from now on the database's clock. Returns 0 (out filled); -EAGAIN: none free
 * now, but some still run under a live lease (one may yet be lost: try again later); -ENOENT:
 * every shard is done or failed (store_shard_failed), or no such sweep.
 */
int store_shard_claim(struct store *s, const char *sweep, unsigned lease_ms,
                      struct store_shard *out);

/* Extend the lease of a claimed shard. Returns 0; -ESTALE if it is no longer ours. */
int store_shard_renew(struct store *s, const struct store_shard *sh, unsigned lease_ms);

/*
 * Mark a claimed shard done with its counts (sent, open_ports, hosts of counts); the last
 * shard done also ends the sweep's row (sums, and hosts = its distinct hosts). Call after the
 * shard's hosts are flushed. Returns 0; -ESTALE if the shard is no longer ours.
 */
int store_shard_done(struct store *s, const struct store_shard *sh,
                     const struct store_sweep *counts);

/*
 * Hand a claimed shard back unfinished (its run failed): pending again at once, for any worker
 * (its lease need not run out first). Returns 0; -ESTALE if it is no longer ours.
 */
int store_shard_unclaim(struct store *s, const struct store_shard *sh);

/* Free what a claim allocated (takes a zeroed shard). */
void store_shard_release(struct store_shard *sh);

/*
 * A shard handed back this many times (store_shard_unclaim: its run failed on the worker that
 * claimed it) has failed: it is never claimed again, and its sweep never ends (docs/sweep.md
 * "A shard that fails"). Runs lost with their worker (the lease ran out) do not count. A plain
 * number: the SQL counts against it.
 */
#define STORE_SHARD_FAILED_RUNS 3

typedef int store_shard_failed_cb(void *ud, const char *sweep, unsigned shard, unsigned shards);

/*
 * Call cb for every failed shard (of sweep, or of any sweep when NULL), in (sweep, shard)
 * order. Returns the number of them, cb's non-zero value, or a negative error
 * (-ERR_UNSUPPORTED: this backend has no shards).
 */
int store_shard_failed(struct store *s, const char *sweep, store_shard_failed_cb *cb, void *ud);

#endif
