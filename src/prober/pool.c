/* SPDX-License-Identifier: MIT */
/*
 * The front's side of the split (pool.h). Every byte a prober sends is checked by frame.c and
 * every finding id against the catalogue before a callback sees it; any breach of the framing
 * is treated like a crash: the prober is killed and replaced, its jobs end as prober-lost.
 */
#include "prober/pool.h"

#include "catalogue/catalogue.h"
#include "core/decimal.h"
#include "core/err.h"
#include "prober/frame.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The counters are written on the loop and read by /metrics from an HTTP thread. */
#define STAT_ADD(p, f, n) __atomic_fetch_add(&(p)->st.f, (n), __ATOMIC_RELAXED)
#define STAT_SUB(p, f, n) __atomic_fetch_sub(&(p)->st.f, (n), __ATOMIC_RELAXED)
#define STAT_GET(p, f)    __atomic_load_n(&(p)->st.f, __ATOMIC_RELAXED)

#define JOB_BUCKETS   4096         /* at first; doubled whenever it holds two jobs per bucket */
#define OUT_BATCH_MAX (256 * 1024) /* jobs queued in one turn: written at once beyond this */
#define LIVED_LONG_NS (10ull * 1000 * 1000 * 1000) /* a prober this old resets the backoff */

struct pjob {
	struct pjob *hnext;       /* hash chain by id */
	struct pjob *prev, *next; /* its prober's jobs, or the waiting queue */
	uint32_t id;
	uint32_t target;
	unsigned idx; /* the prober it went to */
	struct frame_job job;
	engine_done_cb *cb;
	void *ud;
};

struct jlist {
	struct pjob *head, *tail;
};

struct prober_slot {
	struct pool *pool;
	unsigned idx;
	pid_t pid;    /* running, or killed and not yet reaped */
	bool up;      /* its socket is read and jobs go to it */
	bool closing; /* chan is being closed; no restart before */
	uv_pipe_t chan;
	uv_timer_t restart;
	unsigned backoff_ms;
	uint64_t started_ns, seen_ns;
	uint8_t *in;
	size_t in_len;
	uint8_t *out; /* jobs queued in this turn of the loop, written before it next waits */
	size_t out_len, out_cap;
	struct jlist jobs;
	size_t in_flight;
};

struct pool {
	uv_loop_t *loop;
	struct pool_opts o;
	struct prober_slot s[POOL_MAX_PROBERS];
	uv_timer_t heartbeat;
	uv_prepare_t flush;    /* active while some prober's out holds jobs */
	uint64_t last_tick_ns; /* the heartbeat's last run */
	uv_signal_t sigchld;
	struct pjob **by_id; /* jobs in flight by id: buckets (a power of two), hashed in all */
	size_t buckets, hashed;
	struct jlist waiting; /* submitted while no prober was up */
	uint32_t next_id, next_target;
	struct prober_argv av; /* when built from o.conf */
	char exe[PATH_MAX];    /* o.exe, or the one prober_exe_find() found */
	struct pool_stats st;
	bool closed;
};

static void jl_add(struct jlist *l, struct pjob *j)
{
	j->next = NULL;
	j->prev = l->tail;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static void jl_del(struct jlist *l, struct pjob *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		l->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		l->tail = j->prev;
	j->prev = j->next = NULL;
}

/*
 * Twice the buckets. serve may hold hundreds of thousands of jobs in flight (thousands of
 * diagnoses of a couple of hundred ports each): in a fixed table of 4096 buckets, finding the
 * job of each result walked a chain of a hundred. Never shrinks; without memory the chains
 * only grow longer.
 */
static void hash_grow(struct pool *p)
{
	size_t n = p->buckets * 2;
	struct pjob **t = calloc(n, sizeof(*t));

	if (!t)
		return;
	for (size_t i = 0; i < p->buckets; i++) {
		while (p->by_id[i]) {
			struct pjob *j = p->by_id[i];

			p->by_id[i] = j->hnext;
			j->hnext = t[j->id & (n - 1)];
			t[j->id & (n - 1)] = j;
		}
	}
	free(p->by_id);
	p->by_id = t;
	p->buckets = n;
}

static void hash_add(struct pool *p, struct pjob *j)
{
	struct pjob **b;

	if (++p->hashed > 2 * p->buckets)
		hash_grow(p);
	b = &p->by_id[j->id & (p->buckets - 1)];
	j->hnext = *b;
	*b = j;
}

/* Remove and return the job id in flight on prober idx; NULL for an id it was never given. */
static struct pjob *hash_take(struct pool *p, uint32_t id, unsigned idx)
{
	for (struct pjob **at = &p->by_id[id & (p->buckets - 1)]; *at; at = &(*at)->hnext) {
		struct pjob *j = *at;

		if (j->id == id && j->idx == idx) {
			*at = j->hnext;
			p->hashed--;
			return j;
		}
	}
	return NULL;
}

struct wreq {
	uv_write_t req;
	uint8_t buf[];
};

static void written(uv_write_t *req, int status)
{
	(void)status; /* a failed write shows as EOF or a heartbeat miss */
	free(req);
}

static int send_bytes(struct prober_slot *s, const uint8_t *b, size_t n)
{
	struct wreq *w = malloc(sizeof(*w) + n);
	uv_buf_t ub;
	int r;

	if (w == NULL)
		return -ERR_NOMEM;
	memcpy(w->buf, b, n);
	ub = uv_buf_init((char *)w->buf, (unsigned)n);
	r = uv_write(&w->req, (uv_stream_t *)&s->chan, &ub, 1, written);
	if (r < 0)
		free(w);
	return r;
}

static void lose(struct prober_slot *s, const char *why);
static void restart_cb(uv_timer_t *t);

/* Write what s->out holds (one write for all the jobs of a turn). */
static void flush_out(struct prober_slot *s)
{
	int r = s->out_len ? send_bytes(s, s->out, s->out_len) : 0;

	s->out_len = 0;
	if (r < 0)
		lose(s, "cannot write to it");
}

/* Before the loop waits: the jobs of this turn go out, one write per prober. */
static void flush_cb(uv_prepare_t *h)
{
	struct pool *p = h->data;

	for (unsigned i = 0; i < p->o.probers; i++)
		if (p->s[i].up)
			flush_out(&p->s[i]);
	uv_prepare_stop(h);
}

/*
 * Queue frame b for prober s until the loop is about to wait (flush_cb): a write per job was
 * half the front's CPU in a check of a range, a system call and a wake-up of the prober each.
 */
static int queue_bytes(struct prober_slot *s, const uint8_t *b, size_t n)
{
	if (s->out_len + n > s->out_cap) {
		size_t cap = s->out_cap ? s->out_cap * 2 : 4096;
		uint8_t *o;

		while (cap < s->out_len + n)
			cap *= 2;
		if (!(o = realloc(s->out, cap)))
			return -ERR_NOMEM;
		s->out = o;
		s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, b, n);
	s->out_len += n;
	uv_prepare_start(&s->pool->flush, flush_cb);
	if (s->out_len >= OUT_BATCH_MAX)
		flush_out(s);
	return 0;
}

static void send_job(struct prober_slot *s, struct pjob *j)
{
	uint8_t buf[FRAME_HEADER_LEN + 64];
	int n = frame_job_encode(buf, sizeof(buf), &j->job);

	j->idx = s->idx;
	jl_add(&s->jobs, j);
	hash_add(s->pool, j);
	s->in_flight++;
	STAT_ADD(s->pool, in_flight, 1);
	if (n < 0 || queue_bytes(s, buf, (size_t)n) < 0)
		lose(s, "cannot write to it");
}

static void deliver_lost(struct pool *p, struct pjob *j)
{
	struct port_result pr = {.state = PORT_ERROR,
	                         .reason = REASON_PROBER_LOST,
	                         .icmp_type = -1,
	                         .icmp_code = -1,
	                         .rtt_ms = -1};

	STAT_ADD(p, lost_jobs, 1);
	j->cb(j->ud, &pr, NULL);
	free(j);
}

static void chan_closed(uv_handle_t *h)
{
	struct prober_slot *s = h->data;

	s->closing = false;
	free(s->in);
	s->in = NULL;
}

/* Kill and forget prober s: its jobs end as prober-lost; a replacement comes after backoff. */
static void lose(struct prober_slot *s, const char *why)
{
	struct pool *p = s->pool;
	uint64_t lived = uv_hrtime() - s->started_ns;

	if (!s->up)
		return;
	s->up = false;
	s->out_len = 0; /* its jobs end below: what was queued for it goes nowhere */
	if (!p->closed) /* a stop is no news */
		fprintf(stderr, "exposure: prober %d lost (%s), %zu job(s) in flight\n",
		        (int)s->pid, why, s->in_flight);
	if (s->pid > 0)
		(void)kill(s->pid, SIGKILL);
	s->closing = true;
	uv_close((uv_handle_t *)&s->chan, chan_closed);
	while (s->jobs.head) {
		struct pjob *j = s->jobs.head;

		jl_del(&s->jobs, j);
		(void)hash_take(p, j->id, s->idx);
		s->in_flight--;
		STAT_SUB(p, in_flight, 1);
		deliver_lost(p, j);
	}
	STAT_SUB(p, probers_up, 1);
	if (p->closed || p->o.no_restart)
		return;
	s->backoff_ms =
	    lived >= LIVED_LONG_NS || !s->backoff_ms ? p->o.backoff_min_ms : s->backoff_ms * 2;
	if (s->backoff_ms > p->o.backoff_max_ms)
		s->backoff_ms = p->o.backoff_max_ms;
	uv_timer_start(&s->restart, restart_cb, s->backoff_ms, 0);
}

/* Whether id is a finding or a question of a check that the probe called name runs. */
static bool probe_may_raise(const char *name, const char *id)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);
	struct finding_def f;

	for (size_t i = 0; i < n; i++) {
		/* the check's probe, or the one the operator may enable instead (probe_opt_in) */
		if ((!c[i].probe || strcmp(c[i].probe, name) != 0) &&
		    (!c[i].probe_opt_in || strcmp(c[i].probe_opt_in, name) != 0))
			continue;
		for (size_t k = 0; check_finding(&c[i], k, &f); k++)
			if (strcmp(f.id, id) == 0)
				return true;
		for (size_t k = 0; check_question(&c[i], k, &f); k++)
			if (strcmp(f.id, id) == 0)
				return true;
	}
	return false;
}

/*
 * The check document's rules that the framing alone cannot know (docs/json.md): a probe runs
 * only on an open port and only when the job named one, and it raises or answers only what the
 * checks of that probe can (an ssh probe never reports an SMB finding).
 */
static bool result_fits(const struct pjob *j, const struct frame_result *fr)
{
	if (!fr->probed)
		return true;
	if (!j->job.probe[0] || fr->port.state != PORT_OPEN)
		return false;
	for (size_t i = 0; i < fr->probe.n_findings; i++)
		if (!probe_may_raise(j->job.probe, fr->probe.findings[i].id))
			return false;
	for (size_t i = 0; i < fr->probe.n_answers; i++)
		if (!probe_may_raise(j->job.probe, fr->probe.answers[i].id))
			return false;
	return true;
}

static void on_result(struct prober_slot *s, const struct frame *f)
{
	struct pool *p = s->pool;
	struct frame_result fr;
	struct pjob *j;
	json_t *details = NULL;
	int r = frame_result_decode(f->payload, f->len, catalogue_raises, &fr);

	if (r < 0) {
		lose(s, err_name(r));
		return;
	}
	if (fr.details) {
		details = json_loadb((const char *)fr.details, fr.details_len,
		                     JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(details)) {
			json_decref(details);
			lose(s, "details not a JSON object");
			return;
		}
	}
	if (!(j = hash_take(p, fr.id, s->idx))) {
		json_decref(details);
		lose(s, "a result for no job");
		return;
	}
	if (!result_fits(j, &fr)) {
		hash_add(p, j); /* still in flight: lose() ends it as prober-lost */
		json_decref(details);
		lose(s, "a result that does not answer its job");
		return;
	}
	jl_del(&s->jobs, j);
	s->in_flight--;
	STAT_SUB(p, in_flight, 1);
	fr.probe.details = details;
	j->cb(j->ud, &fr.port, fr.probed ? &fr.probe : NULL);
	json_decref(fr.probe.details); /* NULL if the callee took it */
	free(j);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct prober_slot *s = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)s->in + s->in_len, (unsigned)(2 * FRAME_MAX - s->in_len));
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct prober_slot *s = st->data;
	struct frame f;
	size_t off = 0;
	int r = 0;

	(void)buf;
	if (nread < 0) {
		lose(s, nread == UV_EOF ? "closed its socket" : uv_strerror((int)nread));
		return;
	}
	s->in_len += (size_t)nread;
	s->seen_ns = uv_hrtime();
	while (s->up && off < s->in_len &&
	       (r = frame_decode(s->in + off, s->in_len - off, &f)) > 0) {
		off += (size_t)r;
		if (f.type == FRAME_RESULT)
			on_result(s, &f);
		else if (f.type != FRAME_PONG)
			lose(s, "a frame only the front sends");
	}
	if (r < 0) {
		lose(s, err_name(r));
		return;
	}
	if (!s->up)
		return;
	memmove(s->in, s->in + off, s->in_len - off);
	s->in_len -= off;
}

static struct prober_slot *least_loaded(struct pool *p)
{
	struct prober_slot *best = NULL;

	for (unsigned i = 0; i < p->o.probers; i++)
		if (p->s[i].up && (!best || p->s[i].in_flight < best->in_flight))
			best = &p->s[i];
	return best;
}

/*
 * Start the prober image with its socket on 3 and nothing else but 0..2 (CLOEXEC closes the
 * rest). posix_spawn, which glibc runs with vfork's semantics: the front's pages are neither
 * copied nor write-protected while the child execs (a fork of a front with many libraries
 * mapped, then copy-on-write faults in the front until the exec), and an exec that fails is an
 * error here instead of a child exiting 127.
 */
static int start_image(const struct pool *p, int fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	int r;

	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		return -r;
	/* a dup2 onto itself clears FD_CLOEXEC (POSIX.1-2024; glibc since 2.29) */
	r = posix_spawn_file_actions_adddup2(&fa, fd, 3);
	if (r == 0)
		r = posix_spawn(pid, p->exe, &fa, NULL, p->o.argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

static int spawn(struct prober_slot *s)
{
	struct pool *p = s->pool;
	int sv[2], r = 0;
	pid_t pid;

	if (s->pid > 0) /* the one before, SIGKILLed and not reaped yet: it dies at once */
		(void)waitpid(s->pid, NULL, 0);
	s->pid = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (!(s->in = malloc(2 * FRAME_MAX)) || (r = start_image(p, sv[1], &pid)) < 0) {
		r = s->in ? r : -ENOMEM;
		free(s->in);
		s->in = NULL;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	close(sv[1]);
	s->pid = pid;
	s->in_len = 0;
	uv_pipe_init(p->loop, &s->chan, 0);
	s->chan.data = s;
	if (uv_pipe_open(&s->chan, sv[0]) < 0 ||
	    uv_read_start((uv_stream_t *)&s->chan, alloc_cb, read_cb) < 0) {
		close(sv[0]);
		(void)kill(pid, SIGKILL);
		s->closing = true;
		uv_close((uv_handle_t *)&s->chan, chan_closed);
		return -EIO;
	}
	s->up = true;
	s->started_ns = s->seen_ns = uv_hrtime();
	STAT_ADD(p, probers_up, 1);
	return 0;
}

static void flush_waiting(struct pool *p)
{
	struct prober_slot *s;

	while (p->waiting.head && (s = least_loaded(p))) {
		struct pjob *j = p->waiting.head;

		jl_del(&p->waiting, j);
		send_job(s, j);
	}
}

static void restart_cb(uv_timer_t *t)
{
	struct prober_slot *s = t->data;
	struct pool *p = s->pool;

	if (p->closed || s->up)
		return;
	if (s->closing || spawn(s) < 0) { /* try again later */
		uv_timer_start(&s->restart, restart_cb, s->backoff_ms, 0);
		return;
	}
	STAT_ADD(p, restarts, 1);
	flush_waiting(p);
}

/* Prober s's resident set in MiB from /proc/PID/statm (its second field, in pages); 0 when
 * it cannot be read (the prober is exiting: its socket says so soon). */
static uint64_t resident_mib(const struct prober_slot *s)
{
	char path[64], buf[128], *sp, *end;
	uint64_t pages = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)s->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (!(sp = strchr(buf, ' ')))
		return 0;
	if ((end = strchr(sp + 1, ' ')))
		*end = '\0';
	if (decimal_u64(sp + 1, UINT64_MAX / 4096, &pages) < 0)
		return 0;
	return pages * (uint64_t)sysconf(_SC_PAGESIZE) >> 20;
}

static void heartbeat_cb(uv_timer_t *t)
{
	struct pool *p = t->data;
	uint64_t now = uv_hrtime();
	uint8_t ping[FRAME_HEADER_LEN];
	/*
	 * The front's own loop was held up (the whole service stopped, a slow callback): the
	 * probers got no ping meanwhile and what they sent is still unread (timers run before
	 * reads in a loop turn). Their silence is ours: each gets a whole window from this ping.
	 */
	bool late = p->last_tick_ns && now - p->last_tick_ns > 2ull * p->o.heartbeat_ms * 1000000;

	(void)frame_encode(ping, sizeof(ping), FRAME_PING, NULL, 0);
	for (unsigned i = 0; i < p->o.probers; i++) {
		struct prober_slot *s = &p->s[i];

		if (!s->up)
			continue;
		if (late)
			s->seen_ns = now;
		if (now - s->seen_ns > (uint64_t)p->o.dead_after_ms * 1000000) {
			lose(s, "no heartbeat");
		} else if (p->o.mem_mib && resident_mib(s) > p->o.mem_mib) {
			STAT_ADD(p, lost_memory, 1);
			lose(s, "over its memory cap");
		} else if (send_bytes(s, ping, sizeof(ping)) < 0)
			lose(s, "cannot write to it");
	}
	p->last_tick_ns = now;
}

static const char *signame(int sig)
{
	return sig == SIGSYS    ? "SIGSYS"
	       : sig == SIGABRT ? "SIGABRT"
	       : sig == SIGKILL ? "SIGKILL"
	       : sig == SIGSEGV ? "SIGSEGV"
	                        : "a signal";
}

static void log_exit(pid_t pid, int st)
{
	if (WIFSIGNALED(st))
		fprintf(stderr, "exposure: prober %d killed by %s (%d)\n", (int)pid,
		        signame(WTERMSIG(st)), WTERMSIG(st));
	else
		fprintf(stderr, "exposure: prober %d exited with status %d\n", (int)pid,
		        WEXITSTATUS(st));
}

/* Reap our probers only (waitpid by pid): other children of this process are not ours. */
static void sigchld_cb(uv_signal_t *h, int sig)
{
	struct pool *p = h->data;

	(void)sig;
	for (unsigned i = 0; i < p->o.probers; i++) {
		struct prober_slot *s = &p->s[i];
		int st;

		if (s->pid <= 0 || waitpid(s->pid, &st, WNOHANG) != s->pid)
			continue;
		log_exit(s->pid, st);
		lose(s, "it exited");
		s->pid = 0;
	}
}

static int remote_submit(void *ctx, void **slot, const struct addr *a, unsigned fixed_ms,
                         uint16_t port, const struct probe_ops *probe, engine_done_cb *cb, void *ud)
{
	struct pool *p = ctx;
	uintptr_t v = (uintptr_t)*slot;
	struct prober_slot *s;
	struct pjob *j;

	if (p->closed)
		return -ECANCELED;
	if (probe && strlen(probe->name) >= FRAME_PROBE_MAX)
		return -ERR_RANGE;
	if (!(j = calloc(1, sizeof(*j))))
		return -ERR_NOMEM;
	/* a target stays on the prober chosen at its first job (its RTT estimate lives there) */
	if (v == 0) {
		s = least_loaded(p);
		v = (uintptr_t)++p->next_target << 8 | (s ? s->idx + 1 : 0);
		*slot = (void *)v;
	}
	s = (v & 0xff) ? &p->s[(v & 0xff) - 1] : NULL;
	if (!s || !s->up) /* its prober was lost: the replacement or another takes it */
		s = least_loaded(p);
	if (!s && p->o.no_restart) { /* nobody will take it */
		free(j);
		return -ECANCELED;
	}
	j->id = ++p->next_id;
	j->cb = cb;
	j->ud = ud;
	j->job = (struct frame_job){.id = j->id,
	                            .target = (uint32_t)(v >> 8),
	                            .addr = *a,
	                            .port = port,
	                            .timeout_ms = fixed_ms};
	if (probe)
		snprintf(j->job.probe, sizeof(j->job.probe), "%s", probe->name);
	if (s)
		send_job(s, j);
	else
		jl_add(&p->waiting, j);
	return 0;
}

void pool_remote(struct pool *p, struct engine_remote *out)
{
	*out = (struct engine_remote){remote_submit, p};
}

static void opts_default(struct pool_opts *o)
{
	if (!o->heartbeat_ms)
		o->heartbeat_ms = 1000;
	if (!o->dead_after_ms)
		o->dead_after_ms = 5000;
	if (!o->backoff_min_ms)
		o->backoff_min_ms = 50;
	if (!o->backoff_max_ms)
		o->backoff_max_ms = 5000;
}

struct pool *pool_new(uv_loop_t *loop, const struct pool_opts *o, char *err, size_t errlen)
{
	struct pool *p;
	char why[PATH_MAX + 64];
	int r = 0;

	if (o->probers < 1 || o->probers > POOL_MAX_PROBERS || !(o->argv || o->conf)) {
		snprintf(err, errlen, "probers: want 1..%d", POOL_MAX_PROBERS);
		return NULL;
	}
	if (!(p = calloc(1, sizeof(*p))) || !(p->by_id = calloc(JOB_BUCKETS, sizeof(*p->by_id)))) {
		snprintf(err, errlen, "probers: out of memory");
		free(p); /* NULL, or by_id was not made */
		return NULL;
	}
	p->buckets = JOB_BUCKETS;
	if (o->exe)
		snprintf(p->exe, sizeof(p->exe), "%s", o->exe);
	else if (prober_exe_find(p->exe, sizeof(p->exe), why, sizeof(why)) < 0) {
		snprintf(err, errlen, "probers: %s", why);
		free(p->by_id);
		free(p);
		return NULL;
	}
	(void)signal(SIGPIPE, SIG_IGN);
	p->loop = loop;
	p->o = *o;
	p->o.exe = p->exe;
	opts_default(&p->o);
	if (!o->argv) {
		struct prober_conf c = *o->conf;

		c.eo.max_inflight /= o->probers;
		if (c.eo.max_inflight < 1)
			c.eo.max_inflight = 1;
		if (c.eo.per_target > c.eo.max_inflight)
			c.eo.per_target = c.eo.max_inflight;
		c.mem_mib = o->mem_mib;
		prober_argv_make(&c, &p->av);
		p->o.argv = p->av.argv;
		p->o.conf = NULL;
	}
	uv_timer_init(loop, &p->heartbeat);
	p->heartbeat.data = p;
	uv_prepare_init(loop, &p->flush);
	p->flush.data = p;
	uv_signal_init(loop, &p->sigchld);
	p->sigchld.data = p;
	uv_signal_start(&p->sigchld, sigchld_cb, SIGCHLD);
	for (unsigned i = 0; i < p->o.probers && r == 0; i++) {
		p->s[i].pool = p;
		p->s[i].idx = i;
		uv_timer_init(loop, &p->s[i].restart);
		p->s[i].restart.data = &p->s[i];
		r = spawn(&p->s[i]);
	}
	uv_timer_start(&p->heartbeat, heartbeat_cb, p->o.heartbeat_ms, p->o.heartbeat_ms);
	if (r < 0) {
		snprintf(err, errlen, "probers: cannot start one: %s", uv_strerror(r));
		pool_close(p);
		return p; /* the caller runs the loop to close the handles, then pool_free */
	}
	return p;
}

void pool_get_stats(const struct pool *p, struct pool_stats *out)
{
	*out = (struct pool_stats){
	    .probers_up = STAT_GET(p, probers_up),
	    .restarts = STAT_GET(p, restarts),
	    .lost_jobs = STAT_GET(p, lost_jobs),
	    .in_flight = STAT_GET(p, in_flight),
	    .lost_memory = STAT_GET(p, lost_memory),
	};
}

unsigned pool_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > POOL_MAX_PROBERS ? POOL_MAX_PROBERS : (unsigned)n;
}

int pool_prober_pid(const struct pool *p, unsigned i)
{
	return i < p->o.probers && p->s[i].up ? (int)p->s[i].pid : 0;
}

void pool_close(struct pool *p)
{
	if (p->closed)
		return;
	p->closed = true;
	for (unsigned i = 0; i < p->o.probers; i++) {
		lose(&p->s[i], "service stopping");
		if (p->s[i].restart.data)
			uv_close((uv_handle_t *)&p->s[i].restart, NULL);
	}
	while (p->waiting.head) {
		struct pjob *j = p->waiting.head;

		jl_del(&p->waiting, j);
		deliver_lost(p, j);
	}
	uv_close((uv_handle_t *)&p->heartbeat, NULL);
	uv_close((uv_handle_t *)&p->flush, NULL);
	uv_close((uv_handle_t *)&p->sigchld, NULL);
}

/* After pool_close and a turn of the loop. Reaps what is left (every prober was SIGKILLed). */
void pool_free(struct pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->o.probers; i++) {
		int st;

		/* One that died of its own before the stop (exposure check's last diagnosis lost
		 * it) is told as SIGCHLD would have: the SIGKILL of the stop is no news. */
		if (p->s[i].pid > 0 && waitpid(p->s[i].pid, &st, 0) == p->s[i].pid &&
		    !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) &&
		    !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			log_exit(p->s[i].pid, st);
		free(p->s[i].out);
	}
	free(p->by_id);
	free(p);
}
