/* SPDX-License-Identifier: MIT */
/*
 * Internals of the web service shared by its files: configuration (config.c), the diagnosis
 * jobs, the loop thread that runs them (runner.c), the HTTP side (httpd.h), metrics. Threads: the
 * libmicrohttpd threads handle requests and never wait for a probe; ONE libuv loop thread owns
 * the engine and every struct diagnosis. Work goes to the loop through a mutex-protected queue
 * and a uv_async_t; results come back as strings in struct job, under web->lock.
 */
#ifndef EXPOSURE_WEB_WEB_H
#define EXPOSURE_WEB_WEB_H

#include "catalogue/catalogue.h"
#include "diagnosis/visit.h"
#include "engine/engine.h"
#include "report/labels.h"
#include "store/store.h"
#include "web/connlimit.h"
#include "web/csrf.h"
#include "web/hostcheck.h"
#include "web/ratelimit.h"
#include "web/ticket.h"
#include "web/requester.h"
#include "web/resume.h"

#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define WEB_MAX_LISTEN 4
#define WEB_LABEL_MAX  128

struct web_config {
	char listen[WEB_MAX_LISTEN][ADDR_STRLEN + 8]; /* "127.0.0.1:8080", "[::1]:8080" */
	size_t n_listen;
	const char *store_path;
	const char *key_path;
	const char *probe_source; /* shown on the page: where the probes come from */
	const char *origin;       /* expected Origin of POSTs; NULL = "http://" + Host */
	/* The IPv4-only and IPv6-only names of this service ("v4.example.net[:PORT]"), for the
	 * address tickets (ticket.h); NULL: none. Need --origin, the main origin they answer. */
	const char *v4_host, *v6_host;
	unsigned ticket_ttl_s; /* 1..TICKET_TTL_MS / 1000 */
	bool secure_cookie;
	struct target_rules rules;
	struct trust trust;
	struct port_overrides ports;
	bool ports_set;
	/* The checks every diagnosis runs (catalogue_select()); 0 = the profile "2017". */
	uint32_t checks;
	/* Checks whose operator-enabled probe runs instead of their default one
	 * (diag_options.opt_in:
	 * `--iscsi-discovery`); 0 = none. */
	uint32_t opt_in;
	/* Abuse limits. */
	unsigned max_inflight; /* diagnoses running at once */
	unsigned queue_max;    /* diagnoses waiting to run */
	/* Per address, per /24 or /64, per IPv6 /48 (ratelimit.h). */
	double addr_per_hour, addr_burst, prefix_per_hour, prefix_burst;
	double site_per_hour, site_burst;
	unsigned max_body;          /* request body bytes */
	unsigned conn_memory;       /* per-connection memory (headers), bytes */
	unsigned conn_timeout_s;    /* idle connection timeout */
	unsigned request_timeout_s; /* a whole request within this (connlimit.h) */
	unsigned conn_limit;        /* connections at once */
	unsigned per_ip_conn_limit; /* connections at once per IPv4 address or IPv6 /64 */
	unsigned per_48_conn_limit; /* connections at once per IPv6 /48 */
	unsigned threads;           /* HTTP threads */
	/* Probe deadlines from the requester's round-trip time. */
	struct rtt_deadline rtt;
	/* Retention. */
	unsigned retention_days;
	unsigned purge_interval_s;
	unsigned done_cache;      /* finished diagnoses kept in memory for fast reads */
	unsigned engine_inflight; /* engine max_inflight (sockets), all probers together */
	/* The probers (docs/internals/PRIVSEP.md): 0 probes in this process (debugging only). */
	unsigned probers;
	unsigned prober_memory_mib; /* each prober's memory cap (pool.h) */
	bool test_hooks;            /* EXPOSURE_TEST_HOOKS=1 in a -Dtest_hooks=true build */
	/* Operator dashboard (admin.c). */
	const char *admin_token_file; /* NULL: $EXPOSURE_ADMIN_TOKEN, else the dashboard is off */
	const char *labels_path;      /* operator labels for the statistics, or NULL */
};

/* The defaults of every setting (docs/api.md); no --listen yet (web_config_check adds one). */
void web_config_defaults(struct web_config *c);

/*
 * Check c as a whole, after every setting was given: each --listen is ADDR:PORT, the RTT
 * floor is not above its ceiling. Adds the default listen address when none was given.
 * Returns 0, or -ERR_SYNTAX / -ERR_RANGE with one line in err (no newline).
 */
int web_config_check(struct web_config *c, char *err, size_t errlen);

/* "127.0.0.1:8080", "[::1]:0" into a socket address. Returns 0 or -ERR_SYNTAX. */
int web_listen_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len);

struct pending; /* pending.h */

/* A suspended SSE connection waiting for news of a job. */
struct waiter {
	struct MHD_Connection *conn;
	struct waiter *next;
};

/* A ticket address of a running job in the active table: one at a time holds per address. */
struct active_alias {
	struct addr a;
	struct job *j;
	struct active_alias *next;
};

struct job {
	char id[STORE_ID_LEN + 1];
	uint8_t token_hash[STORE_HASH_BYTES];
	struct addr requester;
	/* Every address diagnosed: the requester first (the peer), then its proven tickets'. */
	struct visit_target targets[VISIT_MAX_TARGETS];
	size_t n_targets;
	char target[ADDR_STRLEN];
	char lang[4];
	enum store_device device; /* from the User-Agent at creation; the UA is not kept */
	unsigned timeout_ms;      /* 0: adaptive */
	int64_t created_ms, started_ms, finished_ms;
	/* Under web->lock: */
	int refs;
	enum store_status status;
	enum store_connection connection; /* the visitor's answer, as last stored */
	bool deleted;
	bool listed;       /* in the id table */
	bool not_stored;   /* finished, but the store could not keep the result: "failed" */
	int64_t end_ms;    /* when the probes ended: finished_ms once the store has the result */
	size_t n_checks;   /* check rows in all: catalogue entries x targets */
	size_t n_slots;    /* check_json and order hold this many (VISIT_MAX_TARGETS x entries) */
	char **check_json; /* per target then catalogue entry, NULL until finished */
	size_t *order;     /* order[k]: the k-th check row to finish */
	size_t n_done;
	size_t live_sent; /* of them, given to the store as live rows (shared store; runner.c) */
	char *doc;        /* the docs/json.md document once done */
	char risk[16];
	struct waiter *waiters;
	/* Links. */
	struct job *hnext;                                /* id table chain */
	struct job *anext;                                /* active-requester table chain */
	struct active_alias alias[VISIT_MAX_TARGETS - 1]; /* the targets but the requester */
	struct job *qnext;                                /* pending queue */
	struct job *dprev, *dnext;                        /* finished list, oldest first */
	struct visit *visit;                              /* loop thread only */
	struct job *gnext;                                /* loop thread only: visits to free */
	struct web *web;
};

#define WEB_HBUCKETS    4096
#define WEB_LAT_BUCKETS 11

struct metrics {
	atomic_ullong http_by_code[6][100]; /* [code/100][code%100] */
	atomic_ullong created, refused_policy, refused_rate, refused_busy, refused_csrf;
	atomic_ullong done, interrupted, deleted, failed_start, not_stored;
	atomic_ullong ports_by_state[PORT_X_MAX + 1]; /* by enum port_state, then "other" */
	atomic_ullong lat_buckets[WEB_LAT_BUCKETS];   /* created -> done, cumulative at export */
	atomic_ullong lat_count;
	atomic_ullong lat_sum_us;
	atomic_ullong purged;
	atomic_ullong taken_over; /* diagnoses of dead nodes this node ran again */
};

struct web {
	struct web_config cfg;
	struct store *store;
	struct store_key key;
	struct csrf csrf;
	struct rate_limit rl;
	struct hostcheck hosts; /* the Host names answered */
	char csp[1024];         /* the Content-Security-Policy of every answer (httpd.c) */
	struct ticket_key tickets;
	/* Shared store only (serve.c shared_keys): seals what another node needs to resume a
	 * diagnosis of this one (resume.h). */
	uint8_t resume_key[RESUME_KEY_BYTES];
	bool resumable;
	struct metrics m;
	size_t n_checks;

	pthread_mutex_t lock; /* everything below, and the locked fields of struct job */
	struct job *table[WEB_HBUCKETS];
	struct job *active[WEB_HBUCKETS];
	struct active_alias *aliases[WEB_HBUCKETS]; /* the active jobs' ticket addresses */
	struct job *q_head, *q_tail;
	size_t q_len;    /* queued, reservations included */
	size_t inflight; /* running on the engine */
	size_t reserved; /* accepted by POST, not yet queued */
	struct job *d_head, *d_tail;
	size_t d_len;
	bool stopping;
	double avg_run_ms; /* moving average of a diagnosis's duration, for Retry-After */
	/* Failed store writes (runner.c): the last logged, those not logged since (one line per
	 * 10 s), and the last seen by anyone (web_mono_ms(), 0: none), read without the lock. */
	int64_t store_log_ms;
	unsigned long store_log_quiet;
	atomic_llong store_fail_ms;

	/* Loop thread. */
	uv_loop_t loop;
	uv_async_t wake;
	uv_timer_t purge_timer;
	/* Streams of diagnoses another node runs (shared store): parked here, resumed by the
	 * follow timer to look at the store again (sse.c, sse_tick). Under lock. */
	uv_timer_t follow_timer;
	struct waiter *remote_waiters;
	struct engine *engine;
	struct pool *pool; /* the probers the engine's jobs go to; NULL: probing in process */
	pthread_t thread;
	struct job *graveyard;
	bool loop_closed;
	atomic_bool purge_running;

	struct MHD_Daemon *daemons[WEB_MAX_LISTEN];
	size_t n_daemons;
	struct connlimit conns; /* every HTTP connection, all daemons (httpd.c) */
	bool conns_on, reaper_on, reaper_stop;
	pthread_t reaper; /* sheds the connections late with their request */
	pthread_mutex_t reaper_lock;
	pthread_cond_t reaper_cond;

	/* Creates waiting for their commit, connection suspended (pending.h). */
	pthread_mutex_t pending_lock; /* the three below and struct pending's locked fields */
	struct pending *pending;      /* those whose store callback has not run */
	size_t pending_waiting;       /* of them, with their connection suspended */
	bool pending_stopped;         /* shutting down: no more suspensions */

	/* Operator dashboard (admin.c); set before the HTTP threads start, read-only after. */
	bool admin_on;
	uint8_t admin_key[32];  /* per-process key of the token hash */
	uint8_t admin_hash[32]; /* keyed hash of the operator token */
	/* The browsers logged in (admin.c); NULL when the dashboard is off. */
	struct admin_sessions *admin_sessions;
	struct report_labels *labels; /* NULL: no label breakdown */
};

/* Jobs (runner.c). Every function takes web->lock itself unless it says "locked". */
struct job *job_new(struct web *w);
void job_ref_locked(struct job *j);
void job_unref(struct web *w, struct job *j);
void job_unref_locked(struct web *w, struct job *j);
struct job *job_find_locked(struct web *w, const char *id);
struct job *active_find_locked(struct web *w, const struct addr *a);
void active_add_locked(struct web *w, struct job *j);
void active_del_locked(struct web *w, struct job *j);
/* Publish a reserved job: id table + pending queue; wakes the loop. */
void job_enqueue(struct web *w, struct job *j);
/* Wake every SSE waiter of j. */
void job_wake_locked(struct job *j);
/* The status a client sees: the store's name, or "failed" for a result the store did not keep. */
const char *job_status_name(const struct job *j);
/*
 * A store write failed (err): log one line on stderr at most every 10 s (what: "the result of",
 * "the new diagnosis"; id may be NULL) and refuse new diagnoses for a while (store_retry_ms).
 */
void store_failure_note(struct web *w, const char *what, const char *id, int err);
/*
 * While the store fails to write (store_stats.failing) and a failure was seen in the last
 * few seconds: the milliseconds a client should wait before a new diagnosis; else 0.
 */
int64_t store_retry_ms(struct web *w);

int runner_start(struct web *w);

/* store_on_takeover's callback: run a dead node's diagnosis here, or end it interrupted. */
void runner_takeover(void *ud, const struct store_takeover *t);
/*
 * Stop: no new diagnoses; waits (bounded) for running ones; joins the thread. Returns false if
 * diagnoses were still running at the deadline (the loop thread is then left running and the
 * caller must not free anything it uses).
 */
bool runner_stop(struct web *w, unsigned wait_ms);

/*
 * HTTP (httpd.c): one daemon per --listen, each announced on stdout ("listening on URL").
 * Returns 0, or a negative error after printing why; httpd_stop then undoes what started.
 */
int httpd_start(struct web *w);
/* No new requests; every event stream ends; the daemons stop. */
void httpd_stop(struct web *w);

/* Metrics (metrics.c). */
void metrics_count_http(struct web *w, unsigned code);
void metrics_observe_latency(struct web *w, double seconds);

/* Milliseconds on the monotonic clock. */
int64_t web_mono_ms(void);

#endif
