/* SPDX-License-Identifier: MIT */
/*
 * The front's pool of probers (prober/pool.h) with real prober processes: the exposure-prober
 * executable given as argv[1], exec'd in the sandbox. An engine whose jobs go to the pool gives the
 * same verdicts as in process (open, closed, and a probe's result with its service); kill -9 of the
 * prober holding a job in flight ends that job as error / prober-lost, at once, and a new
 * prober serves the next job; a prober that stops answering pings is replaced too.
 * Loopback only (run in a private network namespace).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "prober/pool.h"
#include "prober/prober.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *exe;

struct got {
	int n;
	struct port_result pr;
	bool probed;
	char service[PROBE_SERVICE_MAX];
};

static void done(void *ud, const struct port_result *pr, struct probe_result *res)
{
	struct got *g = ud;

	g->n++;
	g->pr = *pr;
	g->probed = res != NULL;
	if (res)
		memcpy(g->service, res->service, sizeof(g->service));
}

/* A listener on 127.0.0.1 (never accepting: the kernel completes the handshake) and its port. */
static int listen_any(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

struct fx {
	uv_loop_t loop;
	struct pool *pool;
	struct engine *e;
	struct engine_target *t;
	struct prober_argv av;
};

static void fx_start(struct fx *f, unsigned n, unsigned dead_after_ms)
{
	struct prober_conf c = {.sandbox = true};
	struct pool_opts o = {
	    .probers = n, .heartbeat_ms = 100, .dead_after_ms = dead_after_ms, .exe = exe};
	struct engine_remote r;
	struct addr lo;
	char err[160] = "";

	engine_opts_default(&c.eo);
	prober_argv_make(&c, &f->av);
	o.argv = f->av.argv;
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->pool = pool_new(&f->loop, &o, err, sizeof(err));
	assert_non_null(f->pool);
	assert_string_equal(err, "");
	f->e = engine_new(&f->loop, NULL);
	pool_remote(f->pool, &r);
	engine_set_remote(f->e, &r);
	assert_int_equal(addr_parse("127.0.0.1", &lo), 0);
	f->t = engine_target_new(f->e, &lo);
}

static void fx_stop(struct fx *f)
{
	pool_close(f->pool);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	pool_free(f->pool);
	engine_free(f->e);
	assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* Run the loop until *n reaches want or about ms pass. */
static void run_until(struct fx *f, const int *n, int want, unsigned ms)
{
	for (unsigned i = 0; i < ms / 10 && *n < want; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
}

static void test_verdicts_through_a_prober(void **state)
{
	struct fx f;
	struct got open = {0}, closed = {0}, ssh = {0};
	uint16_t port, dead;
	int lis = listen_any(&port);
	int gone = listen_any(&dead);
	struct pool_stats st;

	(void)state;
	close(gone); /* nothing listens there any more: closed */
	fx_start(&f, 2, 5000);
	assert_int_equal(engine_submit(f.e, f.t, port, NULL, done, &open), 0);
	assert_int_equal(engine_submit(f.e, f.t, dead, NULL, done, &closed), 0);
	assert_int_equal(engine_pending(f.e), 2);
	run_until(&f, &closed.n, 1, 5000);
	run_until(&f, &open.n, 1, 5000);
	assert_int_equal(open.n, 1);
	assert_int_equal(open.pr.state, PORT_OPEN);
	assert_false(open.probed);
	assert_true(open.pr.rtt_ms >= 0);
	assert_int_equal(closed.n, 1);
	assert_int_equal(closed.pr.state, PORT_CLOSED);
	assert_int_equal(closed.pr.reason, REASON_RESET);
	assert_int_equal(engine_pending(f.e), 0);

	/* a probe: ssh against a listener that never speaks ends with a result, not a crash */
	assert_int_equal(engine_submit(f.e, f.t, port, probe_by_name("ssh"), done, &ssh), 0);
	run_until(&f, &ssh.n, 1, 30000);
	assert_int_equal(ssh.n, 1);
	assert_int_equal(ssh.pr.state, PORT_OPEN);
	assert_true(ssh.probed);
	pool_get_stats(f.pool, &st);
	assert_int_equal(st.probers_up, 2);
	assert_int_equal(st.restarts, 0);
	fx_stop(&f);
	close(lis);
}

static void test_kill9_in_flight(void **state)
{
	struct fx f;
	struct got slow = {0}, next = {0};
	struct pool_stats st;
	uint16_t port;
	int lis = listen_any(&port);
	int pid;

	(void)state;
	fx_start(&f, 1, 5000);
	/* the ssh probe waits for a banner that never comes: the job stays in flight */
	assert_int_equal(engine_submit(f.e, f.t, port, probe_by_name("ssh"), done, &slow), 0);
	run_until(&f, &slow.n, 1, 300);
	assert_int_equal(slow.n, 0);
	pid = pool_prober_pid(f.pool, 0);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	run_until(&f, &slow.n, 1, 2000);
	assert_int_equal(slow.n, 1);
	assert_int_equal(slow.pr.state, PORT_ERROR);
	assert_int_equal(slow.pr.reason, REASON_PROBER_LOST);
	assert_string_equal(port_reason_name(slow.pr.reason), "prober-lost");
	assert_false(slow.probed);

	/* the next job is served by the replacement */
	assert_int_equal(engine_submit(f.e, f.t, port, NULL, done, &next), 0);
	run_until(&f, &next.n, 1, 5000);
	assert_int_equal(next.n, 1);
	assert_int_equal(next.pr.state, PORT_OPEN);
	assert_true(pool_prober_pid(f.pool, 0) > 0);
	assert_int_not_equal(pool_prober_pid(f.pool, 0), pid);
	pool_get_stats(f.pool, &st);
	assert_int_equal(st.restarts, 1);
	assert_int_equal(st.lost_jobs, 1);
	assert_int_equal(engine_pending(f.e), 0);
	fx_stop(&f);
	close(lis);
}

/* SIGSTOP: alive but silent. The heartbeat finds it, it is killed and replaced. */
static void test_heartbeat(void **state)
{
	struct fx f;
	struct got slow = {0};
	struct pool_stats st;
	uint16_t port;
	int lis = listen_any(&port);
	int pid;

	(void)state;
	fx_start(&f, 1, 400);
	assert_int_equal(engine_submit(f.e, f.t, port, probe_by_name("ssh"), done, &slow), 0);
	run_until(&f, &slow.n, 1, 200);
	pid = pool_prober_pid(f.pool, 0);
	assert_int_equal(kill(pid, SIGSTOP), 0);
	run_until(&f, &slow.n, 1, 3000);
	assert_int_equal(slow.n, 1);
	assert_int_equal(slow.pr.reason, REASON_PROBER_LOST);
	run_until(&f, &slow.n, 2, 500); /* the replacement's backoff */
	pool_get_stats(f.pool, &st);
	assert_int_equal(st.restarts, 1);
	assert_true(pool_prober_pid(f.pool, 0) > 0 && pool_prober_pid(f.pool, 0) != pid);
	fx_stop(&f);
	close(lis);
}

/* The front itself stalls (its loop held 1.5 s, three times the limit): no prober is blamed for
 * the pings it never got; the prober keeps its job and answers the next ping. */
static void test_front_stalled(void **state)
{
	struct fx f;
	struct got slow = {0};
	struct pool_stats st;
	uint16_t port;
	int lis = listen_any(&port);
	int pid;

	(void)state;
	fx_start(&f, 1, 500);
	assert_int_equal(engine_submit(f.e, f.t, port, probe_by_name("ssh"), done, &slow), 0);
	run_until(&f, &slow.n, 1, 300);
	pid = pool_prober_pid(f.pool, 0);
	usleep(1500 * 1000);
	run_until(&f, &slow.n, 1, 1500);
	pool_get_stats(f.pool, &st);
	assert_int_equal(st.restarts, 0);
	assert_int_equal(st.lost_jobs, 0);
	assert_int_equal(pool_prober_pid(f.pool, 0), pid);
	fx_stop(&f);
	close(lis);
}

static int many_done;

static void done_many(void *ud, const struct port_result *pr, struct probe_result *res)
{
	done(ud, pr, res);
	many_done++;
}

/*
 * 12,000 jobs submitted in one turn of the loop, over two targets (so both probers): they leave
 * in a few writes (the batch's ceiling is crossed), the table of jobs in flight grows past its
 * first 4096 buckets, and each job gets exactly one answer, its own (closed, reset).
 */
static void test_many_in_flight(void **state)
{
	enum { N = 12000 };
	struct got *g = calloc(N, sizeof(*g));
	struct engine_target *t2;
	struct pool_stats st;
	struct addr lo2;
	struct fx f;
	uint16_t dead;
	int gone = listen_any(&dead);

	(void)state;
	assert_non_null(g);
	close(gone);
	fx_start(&f, 2, 5000);
	assert_int_equal(addr_parse("127.0.0.2", &lo2), 0);
	assert_non_null(t2 = engine_target_new(f.e, &lo2));
	many_done = 0;
	for (int i = 0; i < N; i++)
		assert_int_equal(engine_submit(f.e, i % 2 ? t2 : f.t, dead, NULL, done_many, &g[i]),
		                 0);
	run_until(&f, &many_done, N, 60000);
	assert_int_equal(many_done, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(g[i].n, 1);
		assert_int_equal(g[i].pr.state, PORT_CLOSED);
		assert_int_equal(g[i].pr.reason, REASON_RESET);
	}
	assert_int_equal(engine_pending(f.e), 0);
	pool_get_stats(f.pool, &st);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(st.lost_jobs, 0);
	assert_int_equal(st.restarts, 0);
	fx_stop(&f);
	free(g);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdicts_through_a_prober),
	    cmocka_unit_test(test_kill9_in_flight),
	    cmocka_unit_test(test_heartbeat),
	    cmocka_unit_test(test_front_stalled),
	    cmocka_unit_test(test_many_in_flight),
	};

	if (argc != 2)
		return 2;
	exe = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
