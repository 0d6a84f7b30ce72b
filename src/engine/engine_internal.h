/* SPDX-License-Identifier: MIT */
/*
 * Engine internals shared by engine.c (queues, jobs), sock.c (socket mechanics), attempt.c
 * (connect attempts and their timers) and probe_run.c (the probe conversation).
 */
#ifndef EXPOSURE_ENGINE_INTERNAL_H
#define EXPOSURE_ENGINE_INTERNAL_H

#include "engine/elist.h"
#include "engine/engine.h"
#include "engine/neigh.h"
#include "engine/rtt.h"

#include <stdbool.h>
#include <stdint.h>

/* Counters for tests and diagnostics. */
struct engine_stats {
	unsigned inflight;           /* sockets open now */
	unsigned inflight_peak;      /* most sockets open at once, all targets */
	unsigned target_peak;        /* most sockets open at once for one target */
	unsigned long connects;      /* connect() calls made */
	unsigned long neigh_asked;   /* next-hop questions sent to the kernel */
	unsigned long neigh_unasked; /* next-hop questions that could not be sent (no socket...) */
	unsigned long neigh_failed;  /* next-hop questions without an answer (timeout...) */
	unsigned neigh_waiting_peak; /* most jobs waiting at once for one next-hop answer */
	unsigned long probe_retries; /* silent server-speaks-first conversations tried again */
	unsigned long idle_extended; /* idle timers re-armed from a later TCP_INFO */
	unsigned long udp_sent;      /* datagrams sent by UDP jobs, retransmissions included */
	unsigned conv_peak;          /* most connections one probe held at once */
};

struct engine {
	uv_loop_t *loop;
	struct engine_opts o;
	struct elist targets; /* every target, freed with the engine */
	struct elist ready;   /* targets with queued work and a free per-target slot */
	size_t pending;       /* submitted, callback not yet called */
	unsigned fd_cap;      /* sockets that fit in the process's descriptors (<= max_inflight) */
	unsigned hold;        /* > 0: dispatching or swapping sockets; dispatch() waits */
	/* The next-hop questions' socket: opened at the first question, closed when idle. */
	struct neigh_asker *nl;
	int (*nl_open)(void); /* neigh_socket_open(); a test puts a stand-in kernel here */
	struct engine_stats st;
	struct engine_remote remote; /* submit != NULL: every job goes there */
};

/* What a target's jobs know of its next hop's neighbour entry (neigh.h), and who waits for it. */
struct next_hop {
	enum neigh_state state; /* as last answered */
	uint64_t asked_ns;      /* when the question of that answer was asked; 0 never */
	uint64_t change_ns;     /* when that entry last changed state (resolved: when) */
	uint64_t unres_ns;      /* when it was last seen unresolved (resolving, failed); 0 never */
	struct neigh_query q;   /* the question out now, if neigh_query_pending() */
	struct elist waiters;   /* jobs waiting for an answer (engine_job.hop_link) */
	unsigned n_waiting;     /* how many */
};

struct engine_target {
	struct engine *e;
	struct elist link;       /* e->targets */
	struct elist ready_link; /* e->ready while in_ready */
	bool in_ready;
	struct addr addr;
	struct rtt rtt;
	unsigned fixed_ms;       /* engine_target_set_timeout(); 0 = adapt */
	void *remote;            /* engine_remote's slot */
	int max_ok_tryno;        /* highest 0-based attempt index ever answered; -1 none */
	unsigned inflight;       /* sockets open for this target */
	struct elist queue;      /* jobs not started yet (FIFO) */
	struct elist retry;      /* started jobs waiting for a slot for their next attempt */
	struct elist connecting; /* jobs in JOB_CONNECTING, re-armed when the timeout shrinks */
	struct next_hop hop;
	uint64_t first_ns; /* when its first job started; 0 not yet */
};

enum job_phase {
	JOB_QUEUED = 0,
	JOB_CONNECTING, /* attempts in flight */
	JOB_PROBING,    /* probe conversation on open connections (and those it is opening) */
	JOB_UDP,        /* a UDP job: datagrams out, answers or ICMP errors in (udp.c) */
	JOB_FINISHED,   /* verdict known; the callback runs on the next loop turn */
	JOB_DELIVERED,  /* callback ran; handles closing */
};

/* What a job waiting for its target's next hop does with the answer (attempt.c). */
enum hop_wait {
	HOP_WAIT_NONE = 0,
	HOP_WAIT_STEP,        /* its timer fired: retransmit, wait on, or decide */
	HOP_WAIT_ANSWER,      /* an attempt answered: time the answer from the SYN's departure */
	HOP_WAIT_UNREACHABLE, /* the kernel's "host unreachable": retry the resolution or not */
};

/* One socket: a connect attempt, or the connection a probe talks on. */
struct engine_sock {
	uv_poll_t poll;
	struct engine_job *job;
	struct elist link; /* job->socks */
	int fd;
	unsigned tryno;  /* 0-based attempt index */
	uint64_t t0_ns;  /* when connect() was called */
	unsigned events; /* UV_* events the poll handle watches now */
};

/* One connection of a probe's conversation (probe_run.c). */
struct probe_conv {
	struct engine_sock *s; /* the connection; NULL: this slot is free */
	unsigned conn;         /* the probe's number for it */
	uint16_t port;   /* the port the probe chose for it (tx.next_port), or 0: the probed one */
	bool connecting; /* s is not established yet (a reconnect, or another conversation) */
	uint64_t due_ns; /* its idle deadline, or while connecting its connect wait */
	uint8_t *rx;     /* max_rx bytes, allocated at its first use */
	size_t rx_len;
	struct probe_tx tx;
	size_t tx_off;    /* bytes of tx already sent */
	unsigned idle_ms; /* this connection's, from its TCP_INFO (engine/deadline.h) */
	uint64_t last_ns; /* the latest byte received, or the connection's start */
	bool sent_any;    /* the probe queued bytes on this connection */
	bool got_any;     /* bytes arrived on this connection */
	bool retrying;    /* this connection is the retry of a silent one */
	bool tls_want;    /* this slot's connection speaks TLS (tx.tls with PROBE_RECONNECT) */
	bool handshaking; /* TLS handshake under way: start() not called yet */
	struct etls *tls; /* the connection's TLS session (engine/tls.h), or NULL */
};

/* The probe conversation of an open port (probe_run.c): one connection at a time, or several
 * side by side for a probe with conversations (probe_ops.conv). */
struct probe_run {
	void *state;
	size_t max_rx;
	struct probe_result res;
	struct probe_conv *convs; /* n_convs slots: 1, or the probe's max_parallel */
	unsigned n_convs;
	unsigned opened; /* connections the probe was given, the first included */
	unsigned max_conns;
	/* The port of the connection being opened, read by sock_open: its slot's (tx.next_port), or
	 * 0 for the probed port. */
	uint16_t port;
	unsigned total_ms;   /* the whole probe's; grows (to its ceiling) when the path does */
	uint64_t start_ns;   /* the probe's first connection */
	bool retried;        /* a silent server-speaks-first connection was tried again */
	bool ended_deadline; /* end(DEADLINE) was called: no more connections */
	/*
	 * A UDP job (udp.c) has no connections: its one socket, its buffers, and the request
	 * datagram start() queued, sent again on each try.
	 */
	struct engine_sock *s;
	uint8_t *rx;
	struct probe_tx tx;
	uint64_t last_ns; /* the latest datagram received */
	bool got_any;     /* a datagram arrived */
	uint8_t *dgram;
	size_t dgram_len;
	unsigned datagrams; /* datagrams received */
};

struct engine_job {
	struct engine *e;
	struct engine_target *t;
	struct elist link;  /* t->queue or t->retry */
	struct elist tlink; /* t->connecting while JOB_CONNECTING */
	bool waiting_slot;  /* linked in t->retry */
	uint16_t port;
	const struct probe_ops *probe;
	engine_done_cb *cb;
	void *ud;
	enum job_phase phase;
	uv_timer_t timer;    /* connect: retransmit/verdict; probe: the next idle or connect wait;
	                      * finished: deliver */
	uv_timer_t deadline; /* probe: total_ms */
	unsigned refs;       /* handles not yet closed; the job is freed at 0 once delivered */
	struct elist socks;  /* open sockets */
	unsigned tries;      /* connect attempts made */
	uint64_t first_ns;   /* start of the first attempt */
	bool neigh_retried;  /* the next hop's resolution failed once and was retried */
	uint64_t last_ns;    /* start of the latest attempt */
	/* Waiting for the next hop (attempt.c): the answer held meanwhile, if any. */
	enum hop_wait hop_wait;
	struct elist hop_link;      /* t->hop.waiters while hop_wait */
	uint64_t hop_need_ns;       /* wants an answer asked at or after this; 0 any recent one */
	struct engine_sock *held_s; /* the attempt that answered */
	struct port_result held_pr;
	uint64_t held_ns; /* when it answered */
	struct port_result pr;
	struct probe_run *run;
};

/* engine.c: targets, queues, caps, dispatch, the job life cycle */
uint64_t engine_now_ns(void);
unsigned engine_target_timeout_ms(const struct engine_target *t);
unsigned engine_target_allowed_tries(const struct engine_target *t);
bool engine_target_has_room(const struct engine_target *t);
/* Out of descriptors (or local ports) with sockets open: j waits for one to close. */
void engine_out_of_sockets(struct engine_job *j);
void engine_dispatch(struct engine *e);
void engine_slot_released(struct engine_target *t);
void engine_job_finish(struct engine_job *j);
void engine_job_unref(struct engine_job *j);
void engine_get_stats(const struct engine *e, struct engine_stats *out);

/* sock.c: socket mechanics, no policy */
int sock_open(struct engine_job *j, unsigned tryno, struct engine_sock **out);
/* The same with a connected UDP socket (IP_RECVERR set before connect()), watched for reading. */
int sock_open_udp(struct engine_job *j, struct engine_sock **out);
void sock_close(struct engine_sock *s);
/* Watch s for events (UV_* flags); events go to the owner of the job's phase. */
void sock_watch(struct engine_sock *s, unsigned events);
int sock_classify(int fd, struct port_result *pr);
/* Read the whole ICMP error queue; true if an ICMP error was in it (type/code into pr). */
bool sock_errqueue(int fd, struct port_result *pr);
void sock_classify_errno(int err, struct port_result *pr);
/* err (from socket()/connect()) means our side ran short (EMFILE...), not a verdict. */
bool sock_err_is_shortage(int err);

/* attempt.c: connect attempts, retransmission and verdict timers, the next hop */
/* The job leaves its queue: its first attempt starts now. */
void attempt_begin(struct engine_job *j);
/* A slot came free for the job's next attempt (it waited in its target's retry queue); a probing
 * job's is for another connection of its probe (probe_run_slot). */
void attempt_retry(struct engine_job *j);
/* An event on a socket of a job in JOB_CONNECTING. */
void attempt_sock_event(struct engine_job *j, struct engine_sock *s);
/* The job stops waiting for its target's next hop (it finished). */
void attempt_hop_wait_cancel(struct engine_job *j);
/* The engine is idle: the next-hop socket is closed (the next question opens a new one). */
void attempt_hop_idle(struct engine *e);

/* probe_run.c: the probe conversation on an open connection */
void probe_run_start(struct engine_job *j, struct engine_sock *s);
/* An event on a socket of a job in JOB_PROBING (a connection, or one being opened). */
void probe_run_io(struct engine_job *j, struct engine_sock *s, int status, int events);
/* A slot came free for a connection the probe wants (it waited in its target's retry queue). */
void probe_run_slot(struct engine_job *j);
/* The job's sockets are being closed (engine_job_finish): forget them. */
void probe_run_detach(struct probe_run *run);
void probe_run_free(struct probe_run *run);

/* udp.c: UDP jobs (a datagram probe): send, retransmit, answers and ICMP errors */
void udp_begin(struct engine_job *j);
/* A slot came free for the job's socket (it waited for a descriptor). */
void udp_retry(struct engine_job *j);
void udp_sock_event(struct engine_job *j, struct engine_sock *s, int status, int events);

#endif
