/* SPDX-License-Identifier: MIT */
/*
 * The prober process (prober.h). Jobs arrive as frames on a socketpair read by a uv_pipe_t; each
 * becomes one engine_submit on this process's own engine; each engine callback becomes one
 * RESULT frame written back. Everything it holds is what probing needs: no store, no key, no
 * token, no listener (the sandbox closed them all before the first job was read).
 */
#include "prober/prober.h"

#include "core/err.h"
#include "engine/tls.h"
#include "prober/frame.h"
#include "prober/sandbox.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Targets remembered by the front's id; older ones stay in the engine, only unnamed here. */
#define TARGETS_KEPT  1024
#define OUT_BATCH_MAX (256 * 1024) /* frames of one turn: written at once beyond this */

struct prober {
	uv_loop_t loop;
	uv_pipe_t chan;
	struct engine *e;
	const struct prober_conf *c;
	uint8_t *in; /* bytes read and not yet a whole frame */
	size_t in_len;
	uint8_t *out; /* frames of this turn of the loop, written before it next waits */
	size_t out_len, out_cap;
	uv_prepare_t flush; /* active while out holds frames */
	struct {
		uint32_t id;
		struct engine_target *t;
	} targets[TARGETS_KEPT];
	size_t n_targets; /* ever added; the slot is n % TARGETS_KEPT */
};

struct pjob {
	struct prober *p;
	uint32_t id;
};

struct wreq {
	uv_write_t req;
	uint8_t buf[];
};

static void written(uv_write_t *req, int status)
{
	(void)status; /* a lost front is seen by the read side */
	free(req);
}

static void flush_out(struct prober *p)
{
	struct wreq *w;
	uv_buf_t ub;

	if (!p->out_len)
		return;
	if (!(w = malloc(sizeof(*w) + p->out_len)))
		abort(); /* a prober without memory is lost; the front replaces it */
	memcpy(w->buf, p->out, p->out_len);
	ub = uv_buf_init((char *)w->buf, (unsigned)p->out_len);
	p->out_len = 0;
	if (uv_write(&w->req, (uv_stream_t *)&p->chan, &ub, 1, written) < 0)
		free(w);
}

/* Before the loop waits: the frames of this turn go up in one write. */
static void flush_cb(uv_prepare_t *h)
{
	flush_out(h->data);
	uv_prepare_stop(h);
}

/*
 * Queue a frame for the front until the loop is about to wait: a write per result was a tenth
 * of the prober's CPU in a check of a range, and each woke the front, which the kernel then ran
 * on the prober's own core (a socket's wake-up is "sync"), taking turns with it there.
 */
static void send_frame(struct prober *p, const uint8_t *b, size_t n)
{
	if (p->out_len + n > p->out_cap) {
		size_t cap = p->out_cap ? p->out_cap * 2 : 4096;

		while (cap < p->out_len + n)
			cap *= 2;
		if (!(p->out = realloc(p->out, cap)))
			abort(); /* as above */
		p->out_cap = cap;
	}
	memcpy(p->out + p->out_len, b, n);
	p->out_len += n;
	uv_prepare_start(&p->flush, flush_cb);
	if (p->out_len >= OUT_BATCH_MAX)
		flush_out(p);
}

/* AddressSanitizer reserves terabytes of address space: RLIMIT_AS cannot work under it. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifdef EXPOSURE_TEST_HOOKS
/* Grow past the memory cap and hold it, as a parser that leaks under attack would: the front's
 * watch (or RLIMIT_AS) ends it. Bounded: twice the cap, then 30 s, then abort. */
static void hog(unsigned mib)
{
	const size_t chunk = 1u << 20;
	struct timespec pause = {.tv_nsec = 100 * 1000000};

	for (size_t i = 0; i < 2 * (size_t)(mib ? mib : 256); i++) {
		char *b = malloc(chunk);

		if (b == NULL)
			abort();
		memset(b, 0x5a, chunk); /* resident, not only reserved */
	}
	for (int i = 0; i < 300; i++)
		(void)nanosleep(&pause, NULL);
	abort();
}

/* Test hooks: a marker in what a probed host said makes the prober crash or try to escape, as
 * a parser bug under an attacker's control would. Compiled only with -Dtest_hooks=true. */
static void test_hook(const struct prober *p, const char *text)
{
	if (!p->c->test_hooks || !text)
		return;
	if (strstr(text, PROBER_MARK_CRASH))
		abort();
	if (strstr(text, PROBER_MARK_HOG))
		hog(p->c->mem_mib);
	if (strstr(text, PROBER_MARK_ESCAPE)) {
		char *const argv[] = {"/bin/sh", NULL};

		(void)open("/etc/passwd", O_RDONLY);
		(void)socket(AF_UNIX, SOCK_STREAM, 0);
		(void)execve(argv[0], argv, NULL);
		(void)fork();
		abort(); /* not reached in the sandbox: the first call is fatal */
	}
}
#else
static void test_hook(const struct prober *p, const char *text)
{
	(void)p;
	(void)text;
}
#endif

static void job_done(void *ud, const struct port_result *pr, struct probe_result *res)
{
	struct pjob *j = ud;
	struct prober *p = j->p;
	static uint8_t out[FRAME_MAX];
	char *details =
	    res && res->details ? json_dumps(res->details, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	size_t dlen = details ? strlen(details) : 0;
	int n;

	test_hook(p, details);
	n = frame_result_encode(out, sizeof(out), j->id, pr, res, details, dlen);
	if (n == -ERR_TOOBIG) /* details too big for a frame: the verdict still goes up */
		n = frame_result_encode(out, sizeof(out), j->id, pr, res, NULL, 0);
	free(details);
	free(j);
	if (n < 0) {
		fprintf(stderr, "exposure prober: a result the front would refuse (%s)\n",
		        err_name(n));
		abort();
	}
	send_frame(p, out, (size_t)n);
}

static struct engine_target *target_for(struct prober *p, const struct frame_job *job)
{
	size_t kept = p->n_targets < TARGETS_KEPT ? p->n_targets : TARGETS_KEPT;
	struct engine_target *t;

	for (size_t i = 0; i < kept; i++)
		if (p->targets[i].id == job->target && p->targets[i].t)
			return p->targets[i].t;
	t = engine_target_new(p->e, &job->addr);
	if (t == NULL)
		return NULL;
	engine_target_set_timeout(t, job->timeout_ms);
	p->targets[p->n_targets % TARGETS_KEPT].id = job->target;
	p->targets[p->n_targets % TARGETS_KEPT].t = t;
	p->n_targets++;
	return t;
}

/* A job the engine cannot take is answered at once as a local error. */
static void refuse_job(struct prober *p, uint32_t id, int why)
{
	static uint8_t out[FRAME_MAX];
	struct port_result pr = {.state = PORT_ERROR,
	                         .reason = REASON_LOCAL_ERROR,
	                         .icmp_type = -1,
	                         .icmp_code = -1,
	                         .rtt_ms = -1};
	int n;

	pr.sys_errno = why > 0 && why < 4096 ? why : 0;
	n = frame_result_encode(out, sizeof(out), id, &pr, NULL, NULL, 0);
	if (n > 0)
		send_frame(p, out, (size_t)n);
}

static int on_job(struct prober *p, const struct frame *f)
{
	struct frame_job job;
	const struct probe_ops *ops = NULL;
	struct engine_target *t;
	struct pjob *j;
	int r = frame_job_decode(f->payload, f->len, &job);

	if (r < 0)
		return r;
	if (job.probe[0] && !(ops = probe_by_name(job.probe)))
		return -ERR_PROTO;
	t = target_for(p, &job);
	j = malloc(sizeof(*j));
	if (!t || !j) {
		free(j);
		refuse_job(p, job.id, ENOMEM);
		return 0;
	}
	*j = (struct pjob){p, job.id};
	r = engine_submit(p->e, t, job.port, ops, job_done, j);
	if (r < 0) {
		free(j);
		refuse_job(p, job.id, -r);
	}
	return 0;
}

static int on_frame(struct prober *p, const struct frame *f)
{
	static uint8_t out[FRAME_HEADER_LEN + 64];
	int n;

	switch (f->type) {
	case FRAME_JOB:
		return on_job(p, f);
	case FRAME_PING:
		n = frame_encode(out, sizeof(out), FRAME_PONG, f->payload, f->len);
		if (n < 0)
			return n;
		send_frame(p, out, (size_t)n);
		return 0;
	default:
		return -ERR_PROTO; /* results and pongs never come down */
	}
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct prober *p = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)p->in + p->in_len, (unsigned)(2 * FRAME_MAX - p->in_len));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct prober *p = s->data;
	struct frame f;
	size_t off = 0;
	int r = 0;

	(void)buf;
	if (nread < 0) { /* the front closed its end or died: nothing left to do */
		uv_stop(&p->loop);
		return;
	}
	p->in_len += (size_t)nread;
	while (off < p->in_len && (r = frame_decode(p->in + off, p->in_len - off, &f)) > 0) {
		off += (size_t)r;
		if ((r = on_frame(p, &f)) < 0)
			break;
	}
	if (r < 0) {
		fprintf(stderr, "exposure prober: bad frame from the front (%s)\n", err_name(r));
		uv_stop(&p->loop);
		return;
	}
	memmove(p->in, p->in + off, p->in_len - off);
	p->in_len -= off;
}

/* The front's handlers (libuv's signal pipe among them) mean nothing here. */
static void reset_signals(void)
{
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		(void)signal(s, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The kernel's backstop under the front's resident-memory watch (pool.h, mem_mib): address
 * space of twice the cap plus room for the mapped libraries, so one huge allocation fails here
 * instead of growing between two heartbeats. Not under ASan (see UNDER_ASAN).
 */
static void limit_memory(unsigned mib)
{
#ifndef UNDER_ASAN
	struct rlimit rl;

	if (mib == 0)
		return;
	rl.rlim_cur = rl.rlim_max = ((rlim_t)mib * 2 + 256) << 20;
	if (setrlimit(RLIMIT_AS, &rl) < 0)
		fprintf(stderr, "exposure prober: cannot limit its memory\n");
#else
	(void)mib;
#endif
}

int prober_run(int fd, const struct prober_conf *c)
{
	static struct prober p;
	struct sandbox_report rep;
	char msg[160];

	reset_signals();
	(void)json_object_seed(0); /* reads /dev/urandom: before the sandbox forbids it */
	memset(&rep, 0, sizeof(rep));
	if (c->sandbox && (fd = sandbox_fds(fd, msg, sizeof(msg))) < 0) {
		fprintf(stderr, "exposure prober: %s\n", msg);
		return 1;
	}
	/* the loop opens what it needs (epoll, its signal pipe, /dev/null) before the filter */
	p.c = c;
	p.in = malloc(2 * FRAME_MAX);
	if (!p.in || uv_loop_init(&p.loop) < 0 || !(p.e = engine_new(&p.loop, &c->eo)) ||
	    uv_pipe_init(&p.loop, &p.chan, 0) < 0 || uv_pipe_open(&p.chan, fd) < 0) {
		fprintf(stderr, "exposure prober: cannot start its loop\n");
		return 1;
	}
	/*
	 * TLS's library and context now, when a check the front runs may ask for it: OpenSSL
	 * reads its configuration file at its first use, which the filter forbids (PRIVSEP.md). A
	 * failure shows later as a failed handshake, on the one probe that asked for TLS. Without
	 * such a check OpenSSL is never started (about a millisecond of every start), and a probe
	 * that asks anyway gets a failed handshake instead of a SIGSYS (etls_off). A front
	 * (serve, or check's parent) never probes, and an engine probing in its own unsandboxed
	 * process starts TLS at its first TLS connection (etls_new).
	 */
	if (c->tls)
		(void)etls_init();
	else
		etls_off();
	limit_memory(c->mem_mib);
	if (c->sandbox && sandbox_lock(&rep, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "exposure prober: %s\n", msg);
		return 1;
	}
	p.chan.data = &p;
	uv_prepare_init(&p.loop, &p.flush);
	p.flush.data = &p;
	if (uv_read_start((uv_stream_t *)&p.chan, alloc_cb, read_cb) < 0)
		return 1;
	uv_run(&p.loop, UV_RUN_DEFAULT);
	return 0;
}

int prober_main(int argc, char **argv)
{
	static struct prober_conf c;
	char msg[96];

	if (prober_argv_parse(argc, argv, &c, msg, sizeof(msg)) < 0) {
		fprintf(stderr, PROBER_EXE_NAME ": %s\n", msg);
		return 2;
	}
	if (c.test_hooks && !prober_test_hooks_built()) {
		fprintf(stderr, PROBER_EXE_NAME ": test hooks are not in this build\n");
		return 2;
	}
	fflush(NULL);
	_exit(prober_run(3, &c)); /* _exit: no atexit handler (LeakSanitizer forks) in a sandbox */
}
