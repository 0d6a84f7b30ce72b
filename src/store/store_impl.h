/* SPDX-License-Identifier: MIT */
/* Internal: the backend vtable behind struct store. Only store.c and backends include this. */
#ifndef EXPOSURE_STORE_STORE_IMPL_H
#define EXPOSURE_STORE_STORE_IMPL_H

#include "store/store.h"
#include "store/store_queue.h"

/*
 * Each backend embeds struct store as its first member. store.c validates arguments (ids,
 * lengths, hex) before calling, so a backend may trust them. A backend's writes go through the
 * shared write queue (store_queue.h): create, set_status, save_result, del and purge build a
 * record and put it (store_enqueue); flush and stats are the queue's, in store.c.
 */
struct store_write;

struct store_ops {
	const char *name;
	int (*open)(const char *path, const struct store_opts *o, struct store **out);
	void (*close)(struct store *s);
	int (*check_integrity)(struct store *s, char *msg, size_t n);
	/* The size of the backend's write record, which begins with its struct store_write (the
	 * records store.c builds), and freeing one never put (a read-only store has no queue). */
	size_t write_size;
	void (*drop)(struct store_write *w);
	int (*create)(struct store *s, const struct store_new *d, bool sync);
	int (*save_result)(struct store *s, const struct store_result *r);
	/* Optional (NULL: store_purge_chunks alone). */
	int (*purge)(struct store *s, int64_t cutoff_ms);
	int (*get)(struct store *s, const char *id, struct store_diagnosis *out);
	int (*count_inflight)(struct store *s);
	int (*find_active)(struct store *s, const uint8_t hash[STORE_HASH_BYTES],
	                   char id[STORE_ID_LEN + 1]);
	/* Optional (NULL: one process only, nothing to hear). */
	void (*on_change)(struct store *s, void (*cb)(void *ud), void *ud);
	int (*live_add)(struct store *s, const char *id, const struct store_live_row *rows,
	                size_t n);
	int (*live_get)(struct store *s, const char *id, uint32_t from,
	                void (*cb)(void *ud, const struct store_live_row *row), void *ud);
	void (*on_takeover)(struct store *s, void (*cb)(void *ud, const struct store_takeover *t),
	                    void *ud);
	int (*iter)(struct store *s, const struct store_period *p, store_iter_cb *cb, void *ud);
	/* Optional (NULL: iter, one result a row; no STORE_GROUP_LATEST): store_iter_groups. */
	int (*iter_groups)(struct store *s, const struct store_period *p, unsigned flags,
	                   store_iter_cb *cb, void *ud);
	int (*count_results)(struct store *s, const struct store_period *p, uint64_t *out);
	int (*dump)(struct store *s, store_dump_cb *cb, void *ud);
	int (*import)(struct store *s, const struct store_full *row);
	/* Sweeps (/work/brief/sweep-store.md). */
	int (*sweep_get)(struct store *s, const char *id, struct store_sweep *out);
	int (*sweep_list)(struct store *s, store_sweep_cb *cb, void *ud);
	/* Sweep shards (optional: NULL = -ERR_UNSUPPORTED). */
	int (*sweep_define)(struct store *s, const struct store_sweep *sw, const char *spec,
	                    unsigned shards);
	int (*shard_claim)(struct store *s, const char *sweep, unsigned lease_ms,
	                   struct store_shard *out);
	int (*shard_renew)(struct store *s, const struct store_shard *sh, unsigned lease_ms);
	int (*shard_done)(struct store *s, const struct store_shard *sh,
	                  const struct store_sweep *counts);
	int (*shard_unclaim)(struct store *s, const struct store_shard *sh);
	int (*shard_failed)(struct store *s, const char *sweep, store_shard_failed_cb *cb,
	                    void *ud);
};

struct store {
	const struct store_ops *ops;
	struct store_queue *q; /* the backend's write queue; NULL when read-only */
};

/* The kinds of queued write, the same for every backend (live rows: PostgreSQL's only). */
enum store_write_type {
	WOP_CREATE = 0,
	WOP_STATUS,
	WOP_RESULT,
	WOP_DELETE,
	WOP_PURGE,
	WOP_CONNECTION,
	WOP_IMPORT,
	WOP_SWEEP_BEGIN,
	WOP_SWEEP_END,
	WOP_LIVE
};

/*
 * What every backend's write record begins with (its first member): store.c builds the writes
 * that need no more than this (a status, a delete, a connection answer, a purge chunk, a
 * sweep's row).
 */
struct store_write {
	struct store_queue_item qi; /* the queue's part */
	enum store_write_type type;
	char id[STORE_ID_LEN + 1];
	int64_t at_ms;                        /* WOP_STATUS: its time; WOP_PURGE: the cutoff */
	enum store_status status;             /* WOP_STATUS */
	uint8_t given_hash[STORE_HASH_BYTES]; /* WOP_DELETE, WOP_CONNECTION: the token's hash */
	enum store_connection connection;     /* WOP_CONNECTION (PostgreSQL: WOP_CREATE's too) */
	struct store_sweep *sw;               /* WOP_SWEEP_BEGIN, WOP_SWEEP_END: owned */
};

/* A zeroed write record of s's backend of this type for diagnosis id (NULL: none), or NULL. */
struct store_write *store_new_write(struct store *s, enum store_write_type type, const char *id);

/* Start the writer thread of s's queue over the backend's steps (ops, ctx), as o asks. */
int store_start_queue(struct store *s, const struct store_queue_ops *ops, void *ctx,
                      const struct store_opts *o);

/* Diagnoses deleted per purge write (one transaction): creates wait for one chunk at most. */
#define STORE_PURGE_CHUNK 500

/*
 * Put a backend's write on its store's queue (store_queue_put, which owns it from here).
 * A read-only store has no queue: the write is dropped (ops->drop) and -EROFS returned.
 */
int store_enqueue(struct store *s, struct store_write *w, unsigned flags);

/* Delete the diagnoses created before cutoff_ms, a chunk per write, waiting for each: the
 * number deleted (a failure after some were deleted: that number). */
int store_purge_chunks(struct store *s, int64_t cutoff_ms);

/*
 * How store_create's write is put (sync: store.h's contract), with it->done set from d: a
 * caller told by callback blocks nobody; durable unless the store was opened with
 * STORE_FAST_CREATE (open_flags). Returns the store_queue_put flags.
 */
unsigned store_create_put_flags(const struct store_new *d, unsigned open_flags,
                                struct store_queue_item *it);

extern const struct store_ops store_sqlite_ops;
/* In the module exposure-store-pg.so (store.c loads it), or linked in by a test. */
extern const struct store_ops store_pg_ops;
#define STORE_PG_MODULE "exposure-store-pg.so"

/* Write a one-line message into o->errbuf if the caller gave one. */
void store_set_err(const struct store_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Convert 64 hex chars to 32 bytes. Returns 0 or -ERR_SYNTAX. */
int store_hex_to_hash(const char *hex, uint8_t out[STORE_HASH_BYTES]);

/* A deep copy of f in one allocation (free() it), for a queued import. NULL: out of memory. */
struct store_full *store_full_dup(const struct store_full *f);

/* The per-port rows and findings of one dumped diagnosis, copied, reused from row to row. */
struct store_dump_port {
	char check[STORE_NAME_MAX], state[STORE_NAME_MAX], reason[STORE_NAME_MAX];
	char service[STORE_NAME_MAX];
	bool has_reason, has_service;
	uint16_t port;
	double rtt_ms;
};

struct store_dump_finding {
	char check[STORE_NAME_MAX];
	char id[FINDING_ID_MAX];
	enum severity severity;
	enum confidence confidence;
};

struct store_dump_buf {
	struct store_dump_port *ports;
	struct store_check_row *checks;
	size_t n_checks, cap_checks;
	struct store_dump_finding *finds;
	struct store_finding_row *findings;
	size_t n_findings, cap_findings;
};

/* Add one port row (reason, service NULL: none; rtt_ms < 0: none). 0, -ENOMEM, -ERR_SYNTAX. */
int store_dump_add_port(struct store_dump_buf *b, const char *check, int64_t port,
                        const char *state, const char *reason, double rtt_ms, const char *service);
/* Add one finding; severity and confidence by name. 0, -ENOMEM, -ERR_SYNTAX. */
int store_dump_add_finding(struct store_dump_buf *b, const char *check, const char *id,
                           const char *severity, const char *confidence);
/* Point f's checks and findings at the rows added since the last reset. */
void store_dump_fill(struct store_dump_buf *b, struct store_full *f);
void store_dump_reset(struct store_dump_buf *b);
void store_dump_done(struct store_dump_buf *b);

/* At most this many checks or findings in one result (the catalogue has a handful). */
#define STORE_ITER_ROWS_MAX 256

/*
 * The per-check summary kept on the diagnosis row ("ssh=open,smb=closed") and the findings
 * summary ("smb/smb1-enabled/critical/likely,..."). Caller frees both. Returns 0, -ENOMEM,
 * -ERR_TOOBIG.
 */
int store_summarize(const struct store_result *r, char **checks, char **findings);

/* Growable arrays for parsing summaries back, reused from row to row. */
struct store_summary_buf {
	struct store_iter_check *checks;
	size_t n_checks, cap_checks;
	struct store_iter_finding *findings;
	size_t n_findings, cap_findings;
};

/* Parse both summaries (NULL = empty) into b. Returns 0, -ENOMEM, -ERR_TOOBIG, -ERR_SYNTAX. */
int store_summary_parse(struct store_summary_buf *b, const char *checks, const char *findings);
void store_summary_buf_done(struct store_summary_buf *b);

#endif
