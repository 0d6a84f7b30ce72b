/* SPDX-License-Identifier: MIT */
/*
 * A store of many results (10,000 by default; STORE_PERF_N up to 2,000,000 by hand) built
 * through the store's own interface, then iterated, counted and purged, with timings printed.
 * The rows are realistic: 22 ports per diagnosis (SKYSEA is 16 of them) and 0-3 findings.
 */
#include "store_test_util.h"

#include "core/decimal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

static struct store_key key1 = {.bytes = {9}};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct tally {
	uint64_t rows, checks, open, findings, smb_or_netbios;
	int64_t last_created;
	uint64_t last_serial;
	int order_ok;
};

static int tally_cb(void *ud, const struct store_iter_row *row)
{
	struct tally *t = ud;
	int headline = 0;

	if (row->created_ms < t->last_created ||
	    (row->created_ms == t->last_created && row->serial <= t->last_serial))
		t->order_ok = 0;
	t->last_created = row->created_ms;
	t->last_serial = row->serial;
	t->rows++;
	t->checks += row->n_checks;
	t->findings += row->n_findings;
	for (size_t i = 0; i < row->n_checks; i++) {
		if (strcmp(row->checks[i].state, "open") != 0)
			continue;
		t->open++;
		if (strcmp(row->checks[i].check, "smb") == 0 ||
		    strcmp(row->checks[i].check, "netbios") == 0)
			headline = 1;
	}
	t->smb_or_netbios += (uint64_t)headline;
	return 0;
}

/* STORE_PERF_DB: another store to measure (an empty PostgreSQL database, by hand). */
static const char *perf_db(const struct scratch *sc)
{
	const char *db = getenv("STORE_PERF_DB");

	return db && *db ? db : sc->db;
}

static void test_many(void **state)
{
	struct store_opts o = {.flags = STORE_QUEUE_BLOCK | STORE_FAST_CREATE, .batch_max = 512};
	struct store_check_row rows[22];
	struct store_check_state states[7];
	struct store_finding_row finds[3] = {
	    {.check = "ssh", .id = "ssh-exposed", .severity = SEVERITY_MEDIUM},
	    {.check = "smb", .id = "smb-exposed", .severity = SEVERITY_HIGH},
	    {.check = "smb", .id = "smb1-enabled", .severity = SEVERITY_CRITICAL},
	};
	static const char *const checks[6] = {"ssh", "telnet", "netbios", "smb", "rdp", "vnc"};
	static const uint16_t ports[6] = {22, 23, 139, 445, 3389, 5900};
	struct tally t = {.order_ok = 1, .last_created = -1};
	uint64_t expect_open = 0, expect_findings = 0, expect_headline = 0, counted;
	struct scratch sc;
	struct store *st;
	struct new_diag d;
	struct rusage ru;
	const char *env = getenv("STORE_PERF_N");
	uint64_t want = 10000;
	long n;
	double t0, t_ins, t_iter, t_count, t_purge;
	char addr[64];
	int r;

	(void)state;
	if (env && (decimal_u64(env, 2000000, &want) < 0 || want < 100))
		want = 10000;
	n = (long)want;
	assert_int_equal(scratch_make(&sc), 0);
	assert_int_equal(store_open(perf_db(&sc), &o, &st), 0);
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		int open_smb = i % 33 == 0, open_ssh = i % 5 == 0;
		struct store_result res = {
		    .finished_ms = 1000 * i + 500,
		    .risk = open_smb   ? "high"
		            : open_ssh ? "medium"
		                       : "none",
		    .json = "{\"checks\":[],\"risk\":\"none\"}",
		    .checks = rows,
		    .n_checks = 22,
		    .findings = open_smb ? finds + (open_ssh ? 0 : 1) : finds,
		    .n_findings = (size_t)(open_smb   ? (open_ssh ? 3 : 2)
		                           : open_ssh ? 1
		                                      : 0),
		    .states = states,
		    .n_states = 7,
		};

		for (int k = 0; k < 22; k++) {
			int c = k < 6 ? k : -1;

			rows[k] = (struct store_check_row){
			    .check = c >= 0 ? checks[c] : "skysea",
			    .port = (uint16_t)(c >= 0 ? ports[c] : 52300 + k - 6),
			    .state = "closed",
			    .reason = "reset",
			    .rtt_ms = 0.2,
			};
		}
		if (open_ssh)
			rows[0].state = "open";
		if (open_smb)
			rows[3].state = "open";
		/* Six checks of one port, then skysea's 16 closed ones. */
		for (int c = 0; c < 7; c++)
			states[c] = (struct store_check_state){.check = rows[c].check,
			                                       .state = rows[c].state};
		expect_open += (uint64_t)(open_ssh + open_smb);
		expect_findings += res.n_findings;
		expect_headline += (uint64_t)open_smb;
		if (i % 2)
			snprintf(addr, sizeof(addr), "198.18.%ld.%ld", (i / 256) % 256, i % 256);
		else
			snprintf(addr, sizeof(addr), "2001:db8:%lx::%lx", i % 65536,
			         (i / 65536) + 1);
		assert_int_equal(new_diag_make(&d, &key1, addr, 1000 * i), 0);
		assert_int_equal(store_create_async(st, &d.nd), 0);
		res.id = d.id;
		assert_int_equal(store_save_result(st, &res), 0);
	}
	assert_int_equal(store_flush(st), 0);
	t_ins = now_s() - t0;

	t0 = now_s();
	r = store_iter_results(st, NULL, tally_cb, &t);
	t_iter = now_s() - t0;
	assert_int_equal(r, n);
	assert_true(t.order_ok);
	assert_int_equal(t.rows, (uint64_t)n);
	assert_int_equal(t.checks, (uint64_t)n * 7); /* 6 one-port checks + skysea */
	assert_int_equal(t.open, expect_open);
	assert_int_equal(t.findings, expect_findings);
	assert_int_equal(t.smb_or_netbios, expect_headline);

	t0 = now_s();
	assert_int_equal(store_count_results(st, NULL, &counted), 0);
	t_count = now_s() - t0;
	assert_int_equal(counted, (uint64_t)n);

	t0 = now_s();
	assert_int_equal(store_purge_older_than(st, 1000 * (n / 2)), n / 2);
	t_purge = now_s() - t0;
	assert_int_equal(store_count_results(st, NULL, &counted), 0);
	assert_int_equal(counted, (uint64_t)(n - n / 2));

	getrusage(RUSAGE_SELF, &ru);
	print_message("store_perf: n=%ld (22 check rows each): insert+flush %.2f s (%.0f/s), "
	              "iterate %.3f s (%.0f rows/s), count %.4f s, purge half %.2f s, "
	              "peak RSS %ld MiB\n",
	              n, t_ins, (double)n / t_ins, t_iter, (double)n / t_iter, t_count, t_purge,
	              ru.ru_maxrss / 1024);
	/* "fast": generous enough for sanitizers and a busy 2-core machine */
	if (n == 10000)
		assert_true(t_iter < 5.0);
	store_close(st);
	scratch_remove(&sc);
}

struct creator {
	struct store *st;
	int n, id;
	double worst_ms;
	int errors;
};

static void *creator_main(void *p)
{
	struct creator *c = p;
	struct new_diag d;

	for (int i = 0; i < c->n; i++) {
		double t0 = now_s(), ms;

		char addr[32];

		/* A requester of its own each: on PostgreSQL one requester has one active
		 * diagnosis. */
		snprintf(addr, sizeof(addr), "198.18.%d.%d", c->id, i % 256);
		if (new_diag_make(&d, &key1, addr, i) < 0 || store_create(c->st, &d.nd) < 0)
			c->errors++;
		ms = (now_s() - t0) * 1e3;
		if (ms > c->worst_ms)
			c->worst_ms = ms;
	}
	return NULL;
}

/*
 * Durable creates (synchronous=FULL, one fsync per writer batch): one caller at a time, then
 * eight callers at once, whose creates share commits (group commit).
 */
static void test_sync_create(void **state)
{
	struct creator c[8];
	pthread_t t[8];
	struct scratch sc;
	struct store *st;
	struct store_stats stats;
	double t0, one, eight, worst = 0;

	(void)state;
	assert_int_equal(scratch_make(&sc), 0);
	assert_int_equal(store_open(perf_db(&sc), NULL, &st), 0);
	c[0] = (struct creator){.st = st, .n = 200};
	t0 = now_s();
	creator_main(&c[0]);
	one = now_s() - t0;
	assert_int_equal(c[0].errors, 0);
	store_get_stats(st, &stats);
	assert_int_equal(stats.transactions, 200); /* one at a time: one commit each */
	t0 = now_s();
	for (int i = 0; i < 8; i++) {
		c[i] = (struct creator){.st = st, .n = 100, .id = 1 + i};
		assert_int_equal(pthread_create(&t[i], NULL, creator_main, &c[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].errors, 0);
		if (c[i].worst_ms > worst)
			worst = c[i].worst_ms;
	}
	eight = now_s() - t0;
	store_get_stats(st, &stats);
	assert_int_equal(store_count_inflight(st), 1000);
	print_message("store_perf: durable creates: 1 caller %.0f/s (%.2f ms each); 8 callers "
	              "%.0f/s in %llu commits, worst %.1f ms\n",
	              200 / one, one * 1e3 / 200, 800 / eight,
	              (unsigned long long)stats.transactions - 200, worst);
	store_close(st);
	scratch_remove(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_sync_create),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
