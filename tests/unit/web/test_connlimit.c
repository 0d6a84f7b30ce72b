/* SPDX-License-Identifier: MIT */
/* The front's connection table (src/web/connlimit.h): per-network limits, deadline, shedding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "web/connlimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The descriptors shed, in order: the table's shed() records instead of shutdown(2). */
struct shed_log {
	int fds[4096];
	size_t n;
};

static void record(int fd, void *arg)
{
	struct shed_log *log = arg;

	assert_true(log->n < sizeof(log->fds) / sizeof(log->fds[0]));
	log->fds[log->n++] = fd;
}

static struct addr A(const char *s) {
	struct addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static void
setup(struct connlimit *cl, struct shed_log *log, unsigned limit, unsigned per_net, unsigned per_48,
      unsigned request_ms)
{
	struct connlimit_config c = {.limit = limit,
	                             .per_net = per_net,
	                             .per_48 = per_48,
	                             .request_ms = request_ms,
	                             .shed = record,
	                             .arg = log};

	memset(log, 0, sizeof(*log));
	assert_int_equal(connlimit_init(cl, &c), 0);
}

static struct conn_slot *open_at(struct connlimit *cl, const char *addr, int fd, int64_t t)
{
	struct addr a = A(addr);
	struct conn_slot *s = connlimit_open(cl, &a, fd, t);

	assert_non_null(s);
	assert_int_equal(s->fd, fd);
	return s;
}

/* Every count entry is empty: the table gave back what it took. */
static void assert_counts_empty(const struct connlimit *cl)
{
	for (size_t i = 0; i < cl->n_counts; i++)
		assert_int_equal(cl->counts[i].n, 0);
}

static void test_per_ipv4(void **st)
{
	struct connlimit cl;
	struct shed_log log;
	struct conn_slot *s[4];
	struct addr a = A("198.18.0.1"), mapped = A("::ffff:198.18.0.1");

	(void)st;
	setup(&cl, &log, 100, 3, 0, 0);
	for (int i = 0; i < 3; i++) {
		assert_true(connlimit_may_accept(&cl, &a));
		s[i] = open_at(&cl, "198.18.0.1", 10 + i, 0);
		assert_int_equal(s[i]->state, CONN_WAIT);
	}
	assert_false(connlimit_may_accept(&cl, &a));
	/* The same address seen on a dual-stack socket is the same network. */
	assert_false(connlimit_may_accept(&cl, &mapped));
	assert_int_equal(connlimit_count(&cl, &mapped, NULL), 3);
	s[3] = open_at(&cl, "::ffff:198.18.0.1", 13, 0);
	assert_int_equal(s[3]->state, CONN_SHED);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.fds[0], 13);
	assert_int_equal(connlimit_stats(&cl).refused_net, 3); /* may_accept twice, open */
	/* The neighbour address is another network. */
	assert_int_equal(open_at(&cl, "198.18.0.2", 20, 0)->state, CONN_WAIT);
	assert_int_equal(connlimit_live(&cl), 4);
	/* A refused connection's close gives back nothing it did not take. */
	connlimit_close(&cl, s[3]);
	assert_int_equal(connlimit_count(&cl, &a, NULL), 3);
	connlimit_close(&cl, s[0]);
	assert_true(connlimit_may_accept(&cl, &a));
	assert_int_equal(open_at(&cl, "198.18.0.1", 14, 0)->state, CONN_WAIT);
	assert_int_equal(connlimit_count(&cl, &a, NULL), 3);
	connlimit_free(&cl);
}

static void test_per_64_and_48(void **st)
{
	struct connlimit cl;
	struct shed_log log;
	char text[64];
	unsigned n48 = 0;
	struct addr a64 = A("2001:db8:1:0::1"), other48 = A("2001:db8:2::1");

	(void)st;
	setup(&cl, &log, 1000, 4, 10, 0);
	/* Four /128s of one /64: one connection each fills the /64. */
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "2001:db8:1:0::%x", 0x100 + i);
		assert_int_equal(open_at(&cl, text, i, 0)->state, CONN_WAIT);
	}
	assert_false(connlimit_may_accept(&cl, &a64));
	assert_int_equal(open_at(&cl, "2001:db8:1:0:ffff::9", 99, 0)->state, CONN_SHED);
	assert_int_equal(connlimit_count(&cl, &a64, &n48), 4);
	assert_int_equal(n48, 4);
	/* Other /64s of the same /48 until the /48 holds 10. */
	for (int i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "2001:db8:1:%x::1", 1 + i / 4);
		assert_int_equal(open_at(&cl, text, 100 + i, 0)->state, CONN_WAIT);
	}
	assert_int_equal(connlimit_count(&cl, &a64, &n48), 4);
	assert_int_equal(n48, 10);
	assert_int_equal(open_at(&cl, "2001:db8:1:77::1", 200, 0)->state, CONN_SHED);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.fds[1], 200);
	/* Another /48 is not touched. */
	assert_true(connlimit_may_accept(&cl, &other48));
	assert_int_equal(open_at(&cl, "2001:db8:2::1", 300, 0)->state, CONN_WAIT);
	assert_int_equal(connlimit_stats(&cl).refused_net, 3);
	connlimit_free(&cl);
}

static void test_full_sheds_oldest_waiting(void **st)
{
	struct connlimit cl;
	struct shed_log log;
	struct conn_slot *s[8];
	char text[32];

	(void)st;
	setup(&cl, &log, 4, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "198.18.1.%d", i + 1);
		s[i] = open_at(&cl, text, i, 1000 + i);
	}
	/* s[0]'s request arrived: it is answered, never shed for room. */
	connlimit_busy(&cl, s[0]);
	/* s[1] was answered and waits since 2000 for its next request: younger than s[2], s[3]. */
	connlimit_busy(&cl, s[1]);
	connlimit_idle(&cl, s[1], 2000);
	s[4] = open_at(&cl, "198.18.2.1", 4, 3000);
	assert_int_equal(s[4]->state, CONN_WAIT);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.fds[0], 2); /* s[2], waiting since 1002 */
	assert_int_equal(s[2]->state, CONN_SHED);
	s[5] = open_at(&cl, "198.18.2.2", 5, 3001);
	assert_int_equal(log.fds[1], 3);
	s[6] = open_at(&cl, "198.18.2.3", 6, 3002);
	assert_int_equal(log.fds[2], 1); /* s[1], idle since 2000 */
	assert_int_equal(connlimit_live(&cl), 4);
	assert_int_equal(connlimit_stats(&cl).shed_full, 3);
	/* Everything busy: nobody to shed, the newcomer is refused. */
	connlimit_busy(&cl, s[4]);
	connlimit_busy(&cl, s[5]);
	connlimit_busy(&cl, s[6]);
	s[7] = open_at(&cl, "198.18.2.4", 7, 3003);
	assert_int_equal(s[7]->state, CONN_SHED);
	assert_int_equal(log.fds[3], 7);
	assert_int_equal(connlimit_stats(&cl).refused_full, 1);
	/* Shed slots stay taken until closed, and closing gives them back. */
	for (int i = 0; i < 8; i++)
		connlimit_close(&cl, s[i]);
	assert_int_equal(connlimit_live(&cl), 0);
	assert_counts_empty(&cl);
	connlimit_free(&cl);
}

static void test_deadline(void **st)
{
	struct connlimit cl;
	struct shed_log log;
	struct conn_slot *slow, *quick, *kept;

	(void)st;
	setup(&cl, &log, 100, 0, 0, 1000);
	assert_int_equal(connlimit_reap(&cl, 0), 1000); /* nobody waits */
	slow = open_at(&cl, "198.18.3.1", 1, 0);
	quick = open_at(&cl, "198.18.3.2", 2, 100);
	kept = open_at(&cl, "198.18.3.3", 3, 200);
	/* quick's request arrived whole; then its response ended at 900: a new deadline. */
	connlimit_busy(&cl, quick);
	assert_int_equal(connlimit_reap(&cl, 500), 500);
	connlimit_idle(&cl, quick, 900);
	/* kept is being answered (an event stream, say): no deadline. */
	connlimit_busy(&cl, kept);
	assert_int_equal(connlimit_reap(&cl, 999), 1);
	assert_int_equal(log.n, 0);
	/* Whatever bytes slow sent, at 1000 its request is not whole: shed. */
	assert_int_equal(connlimit_reap(&cl, 1000), 900);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.fds[0], 1);
	assert_int_equal(slow->state, CONN_SHED);
	assert_int_equal(connlimit_reap(&cl, 1899), 1);
	assert_int_equal(connlimit_reap(&cl, 5000), 1000);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.fds[1], 2);
	assert_int_equal(kept->state, CONN_BUSY);
	assert_int_equal(connlimit_stats(&cl).shed_deadline, 2);
	assert_int_equal(connlimit_live(&cl), 1);
	connlimit_free(&cl);

	/* Without a deadline nothing is ever reaped. */
	setup(&cl, &log, 10, 0, 0, 0);
	open_at(&cl, "198.18.3.1", 1, 0);
	assert_int_equal(connlimit_reap(&cl, 1000000), -1);
	assert_int_equal(log.n, 0);
	connlimit_free(&cl);
}

/* Many networks opened and closed in a scrambled order: the counts stay exact. */
static void test_counts_churn(void **st)
{
	enum { N = 1500 };
	struct connlimit cl;
	struct shed_log log;
	struct conn_slot **s = calloc(N, sizeof(*s));
	size_t order[N];
	char text[64];
	unsigned seed = 12345;

	(void)st;
	assert_non_null(s);
	setup(&cl, &log, N, 2, 6, 0);
	for (int i = 0; i < N; i++) {
		/* Pairs share an address (IPv4) or a /64; three /64s share a /48: all at their
		 * limit. */
		if (i % 2)
			snprintf(text, sizeof(text), "198.18.%d.%d", (i / 4) / 250,
			         (i / 4) % 250 + 1);
		else
			snprintf(text, sizeof(text), "2001:db8:%x:%x::%x", i / 12, (i / 4) % 3, i);
		s[i] = open_at(&cl, text, i, i);
		assert_int_equal(s[i]->state, CONN_WAIT);
	}
	assert_int_equal(open_at(&cl, "198.18.0.1", N, N)->state, CONN_SHED);
	assert_int_equal(open_at(&cl, "2001:db8::ffff", N + 1, N)->state, CONN_SHED);
	for (int i = 0; i < N; i++)
		order[i] = (size_t)i;
	for (int i = N - 1; i > 0; i--) {
		size_t j, t;

		seed = seed * 1103515245u + 12345u;
		j = (seed >> 8) % (unsigned)(i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int k = 0; k < N; k++)
		connlimit_close(&cl, s[order[k]]);
	assert_int_equal(connlimit_live(&cl), 0);
	assert_counts_empty(&cl);
	/* The same again after the churn: every network counted from zero. */
	assert_int_equal(open_at(&cl, "198.18.0.1", 1, 0)->state, CONN_WAIT);
	assert_int_equal(open_at(&cl, "198.18.0.1", 2, 0)->state, CONN_WAIT);
	assert_int_equal(open_at(&cl, "198.18.0.1", 3, 0)->state, CONN_SHED);
	free(s);
	connlimit_free(&cl);
}

/* Live connections of each network recounted by hand match the table after every close. */
static void test_counts_exact(void **st)
{
	enum { N = 300 };
	struct connlimit cl;
	struct shed_log log;
	struct conn_slot *s[N];
	struct addr a[N];
	bool open[N];
	char text[64];

	(void)st;
	setup(&cl, &log, N, 0, 0, 0);
	for (int i = 0; i < N; i++) {
		snprintf(text, sizeof(text), "2001:db8:%x:%x::1", i % 5, i % 17);
		a[i] = A(text);
		s[i] = open_at(&cl, text, i, 0);
		open[i] = true;
	}
	for (int k = 0; k < N; k++) {
		int i = (k * 7) % N; /* 7 is prime to 300: every one once */

		connlimit_close(&cl, s[i]);
		open[i] = false;
		for (int q = 0; q < N; q += 13) {
			unsigned want64 = 0, want48 = 0, n48;

			for (int j = 0; j < N; j++) {
				if (!open[j])
					continue;
				want64 += memcmp(a[j].bytes, a[q].bytes, 8) == 0;
				want48 += memcmp(a[j].bytes, a[q].bytes, 6) == 0;
			}
			assert_int_equal(connlimit_count(&cl, &a[q], &n48), want64);
			assert_int_equal(n48, want48);
		}
	}
	assert_counts_empty(&cl);
	connlimit_free(&cl);
}

static void test_init(void **st)
{
	struct connlimit cl;
	struct connlimit_config c = {.limit = 0};

	(void)st;
	assert_true(connlimit_init(&cl, &c) < 0);
	assert_true(connlimit_capacity(1024) > 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_per_ipv4),
	    cmocka_unit_test(test_per_64_and_48),
	    cmocka_unit_test(test_full_sheds_oldest_waiting),
	    cmocka_unit_test(test_deadline),
	    cmocka_unit_test(test_counts_churn),
	    cmocka_unit_test(test_counts_exact),
	    cmocka_unit_test(test_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
