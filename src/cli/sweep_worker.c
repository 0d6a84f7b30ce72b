/* SPDX-License-Identifier: MIT */
/*
 * `exposure sweep --worker` (issue 14 §3). The worker claims one shard of a defined sweep at a
 * time (store_shard_claim: FOR UPDATE SKIP LOCKED under a lease on the database's clock) and
 * runs it as a child `exposure sweep --shard I/N --into-sweep ID`: the single-machine code,
 * stage 1 and stage 2, with the sweep's options from the store and this machine's own --allow,
 * checked by the child before any packet. While the child runs the worker renews the lease;
 * once the child has stored every host and exited 0 the shard is marked done. The child dies
 * with the worker (PR_SET_PDEATHSIG), so a killed worker leaves no run behind; a worker that
 * could not renew in time kills its child before its lease runs out, so a shard never has two
 * live runs. docs/internals/STORE.md "Sweep shards".
 */
#include "cli/sweep_worker.h"

#include "core/addr.h"
#include "core/decimal.h"
#include "core/err.h"
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SPEC_VERSION  1
#define CHILD_ARGS    512 /* the child's argv, all told */
#define CHILD_FILES   32  /* inlined target and exclude files */
#define POLL_MS       50
#define WAIT_MAX_MS   2000 /* between claims while every free shard is someone else's */
#define COUNTS_MAX    96
#define SPEC_FILE_MAX (1u << 19) /* one inlined file */

/* The options a spec may carry: the sweep's own, never a machine's (no --allow, --store). */
static const char *const spec_options[] = {"--seed",  "--rate",   "--retries", "--wait",
                                           "--ports", "--checks", "--port"};

static bool spec_option(const char *name)
{
	for (size_t i = 0; i < sizeof(spec_options) / sizeof(spec_options[0]); i++)
		if (strcmp(name, spec_options[i]) == 0)
			return true;
	return false;
}

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------------------------------ */
/* The spec.                                                                                  */

/* A whole file (at most SPEC_FILE_MAX bytes) as a string; NULL with err set. */
static char *read_text(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n;

	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!(buf = malloc(SPEC_FILE_MAX + 1))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	n = fread(buf, 1, SPEC_FILE_MAX + 1, f);
	if (ferror(f) || n > SPEC_FILE_MAX || memchr(buf, 0, n)) {
		snprintf(err, errlen, "%s: %s", path,
		         ferror(f) ? "read error" : "too large or not text for a sweep's spec");
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
out:
	fclose(f);
	return buf;
}

/* {"name": path, "content": its text}; NULL with err set. */
static json_t *file_entry(const char *path, char *err, size_t errlen)
{
	char *text = read_text(path, err, errlen);
	json_t *o;

	if (!text)
		return NULL;
	o = json_pack("{s:s, s:s}", "name", path, "content", text);
	free(text);
	if (!o)
		snprintf(err, errlen, "%s: not UTF-8 text", path);
	return o;
}

char *sweep_spec_make(const char *const *args, size_t n_args, char *const *targets,
                      size_t n_targets, const char *const *excludes, size_t n_excludes, char *err,
                      size_t errlen)
{
	json_t *doc =
	    json_pack("{s:i, s:[], s:[], s:[]}", "v", SPEC_VERSION, "args", "targets", "excludes");
	char *text = NULL;
	json_t *e;

	if (!doc)
		goto nomem;
	for (size_t i = 0; i < n_args; i++)
		if (json_array_append_new(json_object_get(doc, "args"), json_string(args[i])) < 0)
			goto nomem;
	for (size_t i = 0; i < n_targets; i++) {
		struct cidr c;

		if (cidr_parse(targets[i], &c) == 0)
			e = json_pack("{s:s}", "arg", targets[i]);
		else if (!(e = file_entry(targets[i], err, errlen)))
			goto out;
		if (json_array_append_new(json_object_get(doc, "targets"), e) < 0)
			goto nomem;
	}
	for (size_t i = 0; i < n_excludes; i++) {
		if (!(e = file_entry(excludes[i], err, errlen)))
			goto out;
		if (json_array_append_new(json_object_get(doc, "excludes"), e) < 0)
			goto nomem;
	}
	if ((text = json_dumps(doc, JSON_COMPACT)))
		goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	json_decref(doc);
	return text;
}

/* ------------------------------------------------------------------------------------------ */
/* One shard's run: the child's arguments from the spec, this machine's options, the shard.  */

struct child_args {
	char *argv[CHILD_ARGS + 1];
	size_t n;
	char *owned[CHILD_ARGS]; /* what was formatted here */
	size_t n_owned;
	int fds[CHILD_FILES]; /* the inlined files, one memfd each (CLOEXEC, cleared in the child)
	                       */
	size_t n_fds;
};

static int push(struct child_args *a, const char *s)
{
	if (a->n >= CHILD_ARGS)
		return -ERR_RANGE;
	a->argv[a->n++] = (char *)s;
	return 0;
}

static int pushf(struct child_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int pushf(struct child_args *a, const char *fmt, ...)
{
	char buf[48];
	va_list ap;
	char *s;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (a->n_owned >= CHILD_ARGS || !(s = strdup(buf)))
		return -ENOMEM;
	a->owned[a->n_owned++] = s;
	return push(a, s);
}

/* An inlined file as a memfd the child reads as /proc/self/fd/N. */
static int push_file(struct child_args *a, const char *content)
{
	size_t len = strlen(content), off = 0;
	int fd;

	if (a->n_fds >= CHILD_FILES)
		return -ERR_RANGE;
	if ((fd = memfd_create("exposure-sweep-spec", MFD_CLOEXEC)) < 0)
		return -errno;
	a->fds[a->n_fds++] = fd;
	while (off < len) {
		ssize_t w = write(fd, content + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		off += (size_t)w;
	}
	return pushf(a, "/proc/self/fd/%d", fd);
}

static void child_args_free(struct child_args *a)
{
	for (size_t i = 0; i < a->n_owned; i++)
		free(a->owned[i]);
	for (size_t i = 0; i < a->n_fds; i++)
		close(a->fds[i]);
	memset(a, 0, sizeof(*a));
}

/*
 * The spec comes from the database: only the sweep's own options pass (never --allow or
 * --store), each with its value; a target is a CIDR block or address, or inlined text, never
 * a path on this machine.
 */
static int args_from_spec(struct child_args *a, const char *spec, char *err, size_t errlen)
{
	json_t *doc = json_loads(spec, 0, NULL), *args, *targets, *excl, *e;
	const char *s;
	size_t i;
	int r = -ERR_SYNTAX;

	if (!doc || json_integer_value(json_object_get(doc, "v")) != SPEC_VERSION ||
	    !json_is_array(args = json_object_get(doc, "args")) ||
	    !json_is_array(targets = json_object_get(doc, "targets")) ||
	    !json_is_array(excl = json_object_get(doc, "excludes")) ||
	    json_array_size(args) % 2 != 0 || json_array_size(targets) == 0)
		goto bad;
	/* The strings stay alive in the child_args (strdup'd), doc is freed below. */
	json_array_foreach(args, i, e)
	{
		if (!(s = json_string_value(e)) || (i % 2 == 0 && !spec_option(s)) ||
		    (i % 2 == 1 && s[0] == '-'))
			goto bad;
		if (!(s = strdup(s)) || a->n_owned >= CHILD_ARGS)
			goto nomem;
		a->owned[a->n_owned++] = (char *)s;
		if ((r = push(a, s)) < 0)
			goto bad;
	}
	json_array_foreach(excl, i, e)
	{
		if (!(s = json_string_value(json_object_get(e, "content"))))
			goto bad;
		if ((r = push(a, "--exclude")) < 0 || (r = push_file(a, s)) < 0)
			goto bad;
	}
	if ((r = push(a, "--")) < 0)
		goto bad;
	json_array_foreach(targets, i, e)
	{
		struct cidr c;

		if ((s = json_string_value(json_object_get(e, "arg")))) {
			if (cidr_parse(s, &c) < 0 || !(s = strdup(s)) || a->n_owned >= CHILD_ARGS)
				goto bad;
			a->owned[a->n_owned++] = (char *)s;
			r = push(a, s);
		} else if ((s = json_string_value(json_object_get(e, "content")))) {
			r = push_file(a, s);
		} else {
			r = -ERR_SYNTAX;
		}
		if (r < 0)
			goto bad;
	}
	json_decref(doc);
	return 0;
nomem:
	r = -ENOMEM;
bad:
	snprintf(err, errlen, "the sweep's options in the store are not this program's (%s)",
	         err_str(r));
	json_decref(doc);
	return r < 0 ? r : -ERR_SYNTAX;
}

/* The child: dies with the worker; its inlined files and counts pipe kept across exec. */
static void child_exec(struct child_args *a, int counts_fd, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	for (size_t i = 0; i < a->n_fds; i++)
		(void)fcntl(a->fds[i], F_SETFD, 0);
	(void)fcntl(counts_fd, F_SETFD, 0);
	execv("/proc/self/exe", a->argv);
	_exit(127);
}

/* "SENT OPEN HOSTS\n" from the child's pipe. */
static int read_counts(int fd, struct store_sweep *counts)
{
	char buf[COUNTS_MAX] = "";
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	unsigned long long v[3];

	if (n <= 0 || sscanf(buf, "%llu %llu %llu", &v[0], &v[1], &v[2]) != 3 || v[0] > INT64_MAX ||
	    v[1] > INT64_MAX || v[2] > INT64_MAX)
		return -ERR_SYNTAX;
	counts->sent = (int64_t)v[0];
	counts->open_ports = (int64_t)v[1];
	counts->hosts = (int64_t)v[2];
	return 0;
}

static void kill_child(pid_t pid)
{
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * Wait for the child, renewing the lease every third of it. A lease lost (-ESTALE) or not
 * renewed for three quarters of it (the database away): the child is killed first, so it is
 * gone before any other worker may claim the shard. Returns the child's wait status, or
 * negative.
 */
static int supervise(const struct sweep_worker_cfg *wc, struct store *st,
                     const struct store_shard *sh, pid_t pid)
{
	int64_t renewed = mono_ms(), next = renewed + wc->lease_ms / 3;
	int status, r;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return status;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (mono_ms() >= next) {
			int64_t asked = mono_ms();

			if ((r = store_shard_renew(st, sh, wc->lease_ms)) == 0) {
				renewed = asked;
			} else if (r == -ESTALE) {
				kill_child(pid);
				return r;
			} else {
				fprintf(stderr, "exposure sweep: cannot renew the lease: %s\n",
				        err_str(r));
			}
			next = mono_ms() + (r == 0 ? wc->lease_ms / 3 : wc->lease_ms / 10);
		}
		if (mono_ms() - renewed >= (int64_t)wc->lease_ms * 3 / 4) {
			kill_child(pid);
			return -ETIMEDOUT;
		}
		sleep_ms(POLL_MS);
	}
}

static int run_shard(const struct sweep_worker_cfg *wc, struct store *st,
                     const struct store_shard *sh, struct store_sweep *counts)
{
	struct child_args a = {0};
	char err[256] = "";
	int pfd[2] = {-1, -1}, status, r;
	pid_t pid, self = getpid();

	if ((r = push(&a, "exposure")) < 0 || (r = push(&a, "sweep")) < 0)
		goto out;
	for (size_t i = 0; i < wc->n_local_args; i++)
		if ((r = push(&a, wc->local_args[i])) < 0)
			goto out;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = push(&a, "--store")) < 0 || (r = push(&a, wc->store)) < 0 ||
	    (r = push(&a, "--into-sweep")) < 0 || (r = push(&a, sh->sweep)) < 0 ||
	    (r = push(&a, "--shard")) < 0 || (r = pushf(&a, "%u/%u", sh->shard, sh->shards)) < 0 ||
	    (r = push(&a, "--counts-fd")) < 0 || (r = pushf(&a, "%d", pfd[1])) < 0)
		goto out;
	if ((r = args_from_spec(&a, sh->spec, err, sizeof(err))) < 0) {
		fprintf(stderr, "exposure sweep: %s\n", err);
		goto out;
	}
	a.argv[a.n] = NULL;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		child_exec(&a, pfd[1], self);
	close(pfd[1]);
	pfd[1] = -1;
	if ((r = supervise(wc, st, sh, pid)) < 0)
		goto out;
	status = r;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "exposure sweep: shard %u/%u: its run %s %d\n", sh->shard,
		        sh->shards, WIFEXITED(status) ? "exited" : "was killed by signal",
		        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		r = -ERR_INTERNAL;
		goto out;
	}
	r = read_counts(pfd[0], counts);
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	child_args_free(&a);
	return r;
}

/* ------------------------------------------------------------------------------------------ */

#define FAILED_SHOWN 10 /* failed shards named one by one; the rest counted */

static int print_failed(void *ud, const char *sweep, unsigned shard, unsigned shards)
{
	unsigned *n = ud;

	if ((*n)++ < FAILED_SHOWN)
		fprintf(stderr,
		        "exposure sweep: sweep %s shard %u/%u failed: its run failed %u times "
		        "(each handed back by its worker); not run again\n",
		        sweep, shard, shards, STORE_SHARD_FAILED_RUNS);
	return 0;
}

/* Shards that failed (of wc->sweep, or of any sweep): named, and counted. */
static int report_failed(const struct sweep_worker_cfg *wc, struct store *st)
{
	unsigned n = 0;
	int r = store_shard_failed(st, wc->sweep, print_failed, &n);

	if (r < 0) {
		fprintf(stderr, "exposure sweep: cannot read the failed shards: %s\n", err_str(r));
		return r;
	}
	if (n > FAILED_SHOWN)
		fprintf(stderr, "exposure sweep: ... and %u more failed shards\n",
		        n - FAILED_SHOWN);
	return (int)n;
}

static const char *why(int r)
{
	switch (r) {
	case -ESTALE:
		return "its lease was lost to another worker";
	case -ETIMEDOUT:
		return "its lease could not be renewed in time: stopped";
	default:
		return err_str(r);
	}
}

int sweep_worker_run(const struct sweep_worker_cfg *wc)
{
	char serr[256] = "";
	struct store_opts so = {.flags = STORE_QUEUE_BLOCK, .errbuf = serr, .errlen = sizeof(serr)};
	struct store *st = NULL;
	struct store_sweep *counts = calloc(1, sizeof(*counts));
	unsigned done = 0;
	int r, status = 2;

	if (!counts)
		return 2;
	if ((r = store_open(wc->store, &so, &st)) < 0) {
		fprintf(stderr, "exposure sweep: cannot open store %s: %s\n", wc->store,
		        serr[0] ? serr : err_str(r));
		goto out;
	}
	if (wc->sweep && (r = store_sweep_get(st, wc->sweep, counts)) < 0) {
		fprintf(stderr, "exposure sweep: sweep %s: %s\n", wc->sweep,
		        r == -ENOENT ? "not in the store" : err_str(r));
		goto out;
	}
	if (wc->sweep && !counts->shards) { /* nothing to claim: it would end at once, "done" */
		fprintf(stderr,
		        "exposure sweep: sweep %s has no shards (it was not defined with --define "
		        "--shards N): a one-machine sweep, or a copy, is not run by workers\n",
		        wc->sweep);
		goto out;
	}
	for (;;) {
		struct store_shard sh;

		r = store_shard_claim(st, wc->sweep, wc->lease_ms, &sh);
		if (r == -ERR_UNSUPPORTED) {
			fprintf(stderr,
			        "exposure sweep: --worker needs a PostgreSQL store (the "
			        "machines share it); on one machine run the sweep itself\n");
			goto out;
		}
		if (r == -ENOENT)
			break;
		if (r == -EAGAIN) { /* others run the rest; one of them may yet be lost */
			sleep_ms(wc->lease_ms / 4 < WAIT_MAX_MS ? wc->lease_ms / 4 : WAIT_MAX_MS);
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "exposure sweep: cannot claim a shard: %s\n", err_str(r));
			goto out;
		}
		fprintf(stderr, "exposure sweep: sweep %s shard %u/%u (attempt %u)\n", sh.sweep,
		        sh.shard, sh.shards, sh.attempt);
		if ((r = run_shard(wc, st, &sh, counts)) == 0)
			r = store_shard_done(st, &sh, counts);
		if (r < 0) {
			fprintf(stderr, "exposure sweep: shard %u/%u not done: %s\n", sh.shard,
			        sh.shards, why(r));
			/* Its run failed here (this machine's policy, privileges...): another
			 * worker may take it at once. A lost lease is not ours to hand back. */
			if (r != -ESTALE && r != -ETIMEDOUT)
				(void)store_shard_unclaim(st, &sh);
			store_shard_release(&sh);
			goto out;
		}
		store_shard_release(&sh);
		done++;
	}
	/* None left to run: done, or failed on every worker that ran it (then its sweep never
	 * ends, and no worker may say it is done). */
	if ((r = report_failed(wc, st)) != 0) {
		if (r > 0)
			fprintf(stderr,
			        "exposure sweep: worker: %u shard%s done, %d failed: the sweep is "
			        "incomplete\n",
			        done, done == 1 ? "" : "s", r);
		goto out;
	}
	fprintf(stderr, "exposure sweep: worker: %u shard%s done, none left\n", done,
	        done == 1 ? "" : "s");
	status = 0;
out:
	store_close(st);
	free(counts);
	return status;
}
