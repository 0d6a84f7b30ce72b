/* SPDX-License-Identifier: MIT */
/*
 * Root only: the engine against a real kernel path with nftables verdicts (drop, ICMP rejects,
 * TCP reset) in two network namespaces of its own (netns.sh), IPv4 and IPv6. A parent process
 * builds the namespaces and always tears them down; a child enters the scanner namespace and runs
 * the checks, so that even a crash of the checks cannot leave the namespaces behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/engine.h"
#include "engine/engine_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SKIP 77

extern char **environ;

static char prefix[32];
static const char *script;

enum { P_OPEN = 10001, P_CLOSED, P_DROP, P_ADMIN, P_HOST, P_PORT, P_RESET };

struct verdict {
	int calls;
	struct port_result pr;
	double at_ms;
};

static uint64_t t0_ns;
static struct engine_stats last_stats; /* of the latest scan() */

static void on_done(void *ud, const struct port_result *pr, struct probe_result *res)
{
	struct verdict *v = ud;

	(void)res;
	v->calls++;
	v->pr = *pr;
	v->at_ms = (double)(uv_hrtime() - t0_ns) / 1e6;
}

/* Scan ports [first, first + n) of ip on a fresh engine; v[i] gets port first + i. */
static void scan(const char *ip, uint16_t first, unsigned n, struct verdict *v)
{
	uv_loop_t loop;
	struct engine *e;
	struct engine_target *t;
	struct addr a;

	assert_int_equal(addr_parse(ip, &a), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	e = engine_new(&loop, NULL);
	assert_non_null(e);
	t = engine_target_new(e, &a);
	assert_non_null(t);
	memset(v, 0, n * sizeof(*v));
	t0_ns = uv_hrtime();
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(engine_submit(e, t, (uint16_t)(first + i), NULL, on_done, &v[i]),
		                 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	engine_get_stats(e, &last_stats);
	engine_free(e);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(v[i].calls, 1);
}

static void expect(const struct verdict *v, enum port_state st, enum port_reason why, int type,
                   int code)
{
	assert_int_equal(v->pr.state, st);
	assert_int_equal(v->pr.reason, why);
	assert_int_equal(v->pr.icmp_type, type);
	assert_int_equal(v->pr.icmp_code, code);
}

static void print_times(const char *ip, const struct verdict *v)
{
	static const char *const what[] = {"open", "closed", "drop", "admin",
	                                   "host", "port",   "reset"};

	for (int i = 0; i < 7; i++)
		printf("# %s %u %-6s %s/%s icmp %d/%d rtt %.3f ms tries %u verdict at %.1f ms\n",
		       ip, P_OPEN + i, what[i], port_state_name(v[i].pr.state),
		       port_reason_name(v[i].pr.reason), v[i].pr.icmp_type, v[i].pr.icmp_code,
		       v[i].pr.rtt_ms, v[i].pr.tries, v[i].at_ms);
}

static void verdicts_v4(void **unused)
{
	struct verdict v[7];

	(void)unused;
	scan("198.18.200.2", P_OPEN, 7, v);
	print_times("198.18.200.2", v);
	expect(&v[0], PORT_OPEN, REASON_SYN_ACK, -1, -1);
	expect(&v[1], PORT_CLOSED, REASON_RESET, -1, -1);
	expect(&v[2], PORT_FILTERED, REASON_TIMEOUT, -1, -1);
	/* nft icmpx admin-prohibited sends ICMP 3/13 (communication administratively prohibited).
	 */
	expect(&v[3], PORT_FILTERED, REASON_UNREACHABLE, 3, 13);
	expect(&v[4], PORT_FILTERED, REASON_UNREACHABLE, 3, 1);
	/* Port unreachable: ECONNREFUSED like a reset, but the error queue tells them apart. */
	expect(&v[5], PORT_FILTERED, REASON_UNREACHABLE, 3, 3);
	expect(&v[6], PORT_CLOSED, REASON_RESET, -1, -1);
	assert_int_equal(v[2].pr.tries, 3);
	assert_true(v[0].at_ms < 100 && v[1].at_ms < 100);
}

static void verdicts_v6(void **unused)
{
	struct verdict v[7];

	(void)unused;
	scan("2001:db8:200::2", P_OPEN, 7, v);
	print_times("2001:db8:200::2", v);
	expect(&v[0], PORT_OPEN, REASON_SYN_ACK, -1, -1);
	expect(&v[1], PORT_CLOSED, REASON_RESET, -1, -1);
	expect(&v[2], PORT_FILTERED, REASON_TIMEOUT, -1, -1);
	/* ICMPv6 1/1 administratively prohibited, 1/3 address unreachable, 1/4 port unreachable. */
	expect(&v[3], PORT_FILTERED, REASON_UNREACHABLE, 1, 1);
	expect(&v[4], PORT_FILTERED, REASON_UNREACHABLE, 1, 3);
	expect(&v[5], PORT_FILTERED, REASON_UNREACHABLE, 1, 4);
	expect(&v[6], PORT_CLOSED, REASON_RESET, -1, -1);
	assert_int_equal(v[2].pr.tries, 3);
}

/* Nothing known of the host, every port dropped: attempts at 0 and 0.5 s, verdicts at 1.2 s. */
static void all_dropped(const char *ip)
{
	struct verdict v[7];
	double last = 0;

	scan(ip, 10010, 7, v);
	for (int i = 0; i < 7; i++) {
		expect(&v[i], PORT_FILTERED, REASON_TIMEOUT, -1, -1);
		assert_int_equal(v[i].pr.tries, 2);
		if (v[i].at_ms > last)
			last = v[i].at_ms;
	}
	printf("# %s all 7 dropped: last verdict at %.1f ms, %lu next-hop questions\n", ip, last,
	       last_stats.neigh_asked);
	assert_in_range((unsigned)last, 1150, 1450);
	/* Nothing came back: the timers asked the kernel about the next hop (resolved), on the
	 * loop, a few times for seven jobs, and had their answers. */
	assert_in_range(last_stats.neigh_asked, 1, 6);
	assert_int_equal(last_stats.neigh_unasked + last_stats.neigh_failed, 0);
}

static void all_dropped_v4(void **unused)
{
	(void)unused;
	all_dropped("198.18.200.2");
}

static void all_dropped_v6(void **unused)
{
	(void)unused;
	all_dropped("2001:db8:200::2");
}

/*
 * On-link addresses that answer no ARP / neighbour discovery (IPv4 and IPv6 at once, one engine):
 * the SYNs never leave, the kernel's resolution fails. Neither "timeout" nor an early verdict:
 * filtered / unreachable once two resolution cycles (NEIGH_WAIT_MAX_MS, 6.5 s) have failed.
 */
static void absent_hosts(void **unused)
{
	static const char *const ip[2] = {"198.18.200.99", "2001:db8:200::99"};
	struct verdict v[2][3];
	uv_loop_t loop;
	struct engine *e;
	double last = 0;

	(void)unused;
	assert_int_equal(uv_loop_init(&loop), 0);
	e = engine_new(&loop, NULL);
	assert_non_null(e);
	memset(v, 0, sizeof(v));
	t0_ns = uv_hrtime();
	for (int k = 0; k < 2; k++) {
		struct addr a;
		struct engine_target *t;

		assert_int_equal(addr_parse(ip[k], &a), 0);
		t = engine_target_new(e, &a);
		assert_non_null(t);
		for (int i = 0; i < 3; i++)
			assert_int_equal(
			    engine_submit(e, t, (uint16_t)(P_OPEN + i), NULL, on_done, &v[k][i]),
			    0);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	engine_get_stats(e, &last_stats);
	engine_free(e);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 3; i++) {
			assert_int_equal(v[k][i].calls, 1);
			assert_int_equal(v[k][i].pr.state, PORT_FILTERED);
			assert_int_equal(v[k][i].pr.reason, REASON_UNREACHABLE);
			if (v[k][i].at_ms > last)
				last = v[k][i].at_ms;
		}
	printf("# absent %s, %s: last verdict at %.1f ms, %lu next-hop questions\n", ip[0], ip[1],
	       last, last_stats.neigh_asked);
	assert_in_range((unsigned)last, 5500, 10000);
	assert_true(last_stats.neigh_asked >= 4);
	assert_int_equal(last_stats.neigh_unasked + last_stats.neigh_failed, 0);
}

static int run_script(const char *cmd)
{
	char *argv[] = {"sh", (char *)script, (char *)cmd, prefix, NULL};
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, "sh", NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int enter_scanner_ns(void)
{
	char path[96];
	int fd, r;

	snprintf(path, sizeof(path), "/run/netns/%s-s", prefix);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r < 0 ? -errno : 0;
}

static int child(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(verdicts_v4),    cmocka_unit_test(verdicts_v6),
	    cmocka_unit_test(all_dropped_v4), cmocka_unit_test(all_dropped_v6),
	    cmocka_unit_test(absent_hosts),
	};

	if (enter_scanner_ns() < 0) {
		fprintf(stderr, "cannot enter %s-s\n", prefix);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(int argc, char **argv)
{
	pid_t pid;
	int st, rc;

	if (geteuid() != 0) {
		printf("# skipped: needs root for network namespaces\n");
		return SKIP;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s path/to/netns.sh\n", argv[0]);
		return 1;
	}
	script = argv[1];
	snprintf(prefix, sizeof(prefix), "xpeng-%d", (int)getpid());
	if (run_script("up") != 0) {
		run_script("down");
		printf("# skipped: cannot build the namespaces (ip, nft, socat?)\n");
		return SKIP;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(child());
	rc = pid < 0 || waitpid(pid, &st, 0) < 0 ? 1 : WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	if (run_script("down") != 0)
		rc = rc ? rc : 1;
	return rc;
}
