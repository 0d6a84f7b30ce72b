/* SPDX-License-Identifier: MIT */
/*
 * The store contract (store_contract.h): create/get/status/result/delete with the token, the
 * connection answer, purge, the iterator and its counts, sweeps, the asynchronous writer and
 * many threads, restart marking and read-only opens, through store.h only, the same cases on
 * every backend. What a case reads from
 * the database itself goes through the backend's raw_int / raw_ok: plain SQL both accept.
 */
#include "store_contract.h"

#include "core/err.h"
#include "store/store_impl.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/socket.h>

static const char *backend_name;
static bool backend_groups;

const struct store_key key1 = {.bytes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}};

const struct store_check_row rows_a[4] = {
    {.check = "ssh",
     .port = 22,
     .state = "open",
     .reason = "syn-ack",
     .rtt_ms = 0.25,
     .service = "SSH-2.0-x \"q\\b\""},
    {.check = "smb", .port = 445, .state = "open", .reason = "syn-ack", .rtt_ms = 0.5},
    {.check = "skysea", .port = 52300, .state = "closed", .reason = "reset", .rtt_ms = -1},
    {.check = "skysea", .port = 52301, .state = "filtered", .reason = "timeout", .rtt_ms = -1},
};

/* Each check of rows_a once, as the diagnosis folds it (skysea: closed + filtered). */
const struct store_check_state states_a[3] = {
    {.check = "ssh", .state = "open"},
    {.check = "smb", .state = "open"},
    {.check = "skysea", .state = "closed"},
};

const struct store_finding_row finds_a[2] = {
    {.check = "ssh",
     .id = "ssh-exposed",
     .severity = SEVERITY_MEDIUM,
     .confidence = CONFIDENCE_CONFIRMED},
    {.check = "smb",
     .id = "smb1-enabled",
     .severity = SEVERITY_CRITICAL,
     .confidence = CONFIDENCE_LIKELY},
};

void save(struct store *st, const char *id, int64_t fin, const char *risk, const char *json,
          size_t nc, size_t nf, unsigned families)
{
	struct store_result r = {
	    .id = id,
	    .finished_ms = fin,
	    .risk = risk,
	    .json = json,
	    .checks = rows_a,
	    .n_checks = nc,
	    .findings = finds_a,
	    .n_findings = nf,
	    .states = states_a,
	    .n_states = nc < 3 ? nc : 3, /* the checks of the first nc rows */
	    .families = families,
	};

	assert_int_equal(store_save_result(st, &r), 0);
}

int collect_cb(void *ud, const struct store_iter_row *row)
{
	struct collected *c = ud;
	int i = c->rows++;
	size_t off = 0;

	if (i >= 8)
		return -1;
	snprintf(c->ids[i], sizeof(c->ids[i]), "%s", row->id ? row->id : "");
	snprintf(c->hash[i], sizeof(c->hash[i]), "%s", row->requester_hash);
	snprintf(c->prefix[i], sizeof(c->prefix[i]), "%s", row->prefix);
	snprintf(c->risk[i], sizeof(c->risk[i]), "%s", row->risk);
	c->created[i] = row->created_ms;
	c->count[i] = row->count;
	c->families[i] = row->families;
	c->conn[i] = row->connection;
	c->n_checks[i] = row->n_checks;
	c->n_findings[i] = row->n_findings;
	for (size_t k = 0; k < row->n_checks && k < 4; k++)
		c->checks[i][k] = row->checks[k];
	for (size_t k = 0; k < row->n_findings && k < 2; k++)
		c->findings[i][k] = row->findings[k];
	for (size_t k = 0; k < row->n_checks; k++)
		off += (size_t)snprintf(c->summary[i] + off, sizeof(c->summary[i]) - off, "%s=%s,",
		                        row->checks[k].check, row->checks[k].state);
	for (size_t k = 0; k < row->n_findings; k++)
		off += (size_t)snprintf(c->summary[i] + off, sizeof(c->summary[i]) - off,
		                        "%s/%s/%d/%d;", row->findings[k].check, row->findings[k].id,
		                        (int)row->findings[k].severity,
		                        (int)row->findings[k].confidence);
	if (c->stop_after && c->rows == c->stop_after)
		return 42;
	return 0;
}

int answers_cb(void *ud, const struct store_iter_row *row)
{
	struct answers *a = ud;
	int i = a->rows++;

	if (i >= 4)
		return -1;
	snprintf(a->ids[i], sizeof(a->ids[i]), "%s", row->id);
	a->conn[i] = row->connection;
	a->dev[i] = row->device;
	a->fams[i] = row->families;
	return 0;
}

static struct store *open_ok(void **state, unsigned flags, int expect_marked)
{
	char err[256] = "";
	struct store_opts o = {.flags = flags, .errbuf = err, .errlen = sizeof(err)};
	struct store *st = NULL;
	int r = store_open(contract_where(state), &o, &st);

	if (r != expect_marked)
		fail_msg("store_open: %d (%s)", r, err);
	assert_non_null(st);
	return st;
}

static long long raw_int(void **state, const char *sql)
{
	return contract_raw_int(state, sql);
}

static void test_create_get_delete(void **state)
{
	struct store *st = open_ok(state, 0, 0);
	struct store_diagnosis d;
	struct new_diag a, b;
	char other[STORE_TOKEN_LEN + 1];

	assert_string_equal(store_backend(st), backend_name);
	assert_int_equal(new_diag_make(&a, &key1, "198.18.5.7", 1000), 0);
	assert_int_equal(new_diag_make(&b, &key1, "2001:db8:1:2:3::4", 2000), 0);
	b.nd.lang = "en";
	assert_int_equal(store_create(st, &a.nd), 0);
	assert_int_equal(store_create(st, &b.nd), 0);
	assert_int_equal(store_create(st, &a.nd), -EEXIST);

	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_string_equal(d.id, a.id);
	assert_int_equal(d.status, STORE_QUEUED);
	assert_int_equal(d.created_ms, 1000);
	assert_int_equal(d.started_ms, 0);
	assert_int_equal(d.finished_ms, 0);
	assert_string_equal(d.prefix, "198.18.5.0/24");
	assert_string_equal(d.requester_hash, a.rhash);
	assert_int_equal(d.family, AF_INET);
	assert_string_equal(d.lang, "ja");
	assert_null(d.json);
	store_diagnosis_done(&d);
	assert_int_equal(store_get(st, b.id, &d), 0);
	assert_int_equal(d.family, AF_INET6);
	assert_string_equal(d.prefix, "2001:db8:1::/48");
	assert_string_equal(d.lang, "en");
	store_diagnosis_done(&d);
	assert_int_equal(store_count_inflight(st), 2);

	/* Wrong token: forbidden, and nothing deleted. */
	assert_int_equal(store_random_token(other), 0);
	assert_int_equal(store_delete(st, a.id, other), -EACCES);
	assert_int_equal(store_delete(st, a.id, b.token), -EACCES);
	assert_int_equal(store_delete(st, a.id, ""), -EACCES);
	assert_int_equal(store_get(st, a.id, &d), 0);
	store_diagnosis_done(&d);
	/* Unknown and malformed ids. */
	assert_int_equal(store_delete(st, "0123456789abcdef0123456789abcdef", a.token), -ENOENT);
	assert_int_equal(store_delete(st, "../etc/passwd", a.token), -ERR_SYNTAX);
	assert_int_equal(store_get(st, "0123456789ABCDEF0123456789ABCDEF", &d), -ERR_SYNTAX);
	assert_int_equal(store_get(st, "0123456789abcdef0123456789abcdef", &d), -ENOENT);
	/* Right token. */
	assert_int_equal(store_delete(st, a.id, a.token), 0);
	assert_int_equal(store_get(st, a.id, &d), -ENOENT);
	assert_int_equal(store_delete(st, a.id, a.token), -ENOENT);
	assert_int_equal(store_count_inflight(st), 1);
	store_close(st);
}

static void test_create_rejects_bad_input(void **state)
{
	struct store *st = open_ok(state, 0, 0);
	struct new_diag a;
	struct store_new bad;

	assert_int_equal(new_diag_make(&a, &key1, "198.18.5.7", 1000), 0);
	bad = a.nd;
	bad.id = "short";
	assert_int_equal(store_create(st, &bad), -ERR_SYNTAX);
	bad = a.nd;
	bad.requester_hash = "198.18.5.7"; /* never the address */
	assert_int_equal(store_create(st, &bad), -ERR_SYNTAX);
	bad = a.nd;
	bad.family = AF_UNIX;
	assert_int_equal(store_create(st, &bad), -ERR_SYNTAX);
	bad = a.nd;
	bad.lang = "a-language-name-that-is-far-too-long-to-keep";
	assert_int_equal(store_create(st, &bad), -ERR_RANGE);
	assert_int_equal(store_count_inflight(st), 0);
	store_close(st);
}

/*
 * Statuses, results and the iterator: a result applies to a diagnosis in flight (one deleted
 * meanwhile is dropped), a finished one never goes back; the iterator gives the done ones in
 * creation order with their summaries, families and answer; periods, counts, purge.
 */
static void test_result_and_iterator(void **state)
{
	struct store *st = open_ok(state, 0, 0);
	struct new_diag a, b, c, gone;
	struct store_diagnosis d;
	struct collected col = {0};
	struct store_period p;
	uint64_t n;
	int g;

	assert_int_equal(new_diag_make(&a, &key1, "198.18.5.7", 3000), 0);
	assert_int_equal(new_diag_make(&b, &key1, "2001:db8:1:2:3::4", 1000), 0);
	assert_int_equal(new_diag_make(&c, &key1, "198.18.9.9", 2000), 0);
	assert_int_equal(new_diag_make(&gone, &key1, "198.18.9.10", 2500), 0);
	b.nd.device = STORE_DEVICE_PHONE;
	assert_int_equal(store_create(st, &a.nd), 0);
	assert_int_equal(store_create(st, &b.nd), 0);
	assert_int_equal(store_create(st, &c.nd), 0);
	assert_int_equal(store_create(st, &gone.nd), 0);
	assert_int_equal(store_create(st, &a.nd), -EEXIST);
	assert_int_equal(store_count_inflight(st), 4);
	assert_int_equal(store_set_status(st, a.id, STORE_RUNNING, 3100), 0);
	assert_int_equal(store_set_status(st, b.id, STORE_RUNNING, 1100), 0);
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.status, STORE_RUNNING);
	assert_int_equal(d.started_ms, 3100);
	assert_int_equal(d.created_ms, 3000);
	assert_int_equal(d.family, AF_INET);
	assert_string_equal(d.requester_hash, a.rhash);
	assert_null(d.json);
	store_diagnosis_done(&d);

	/* Delete: wrong token, unknown id, then the right token. */
	assert_int_equal(store_delete(st, gone.id, a.token), -EACCES);
	assert_int_equal(store_delete(st, "0123456789abcdef0123456789abcdef", gone.token), -ENOENT);
	assert_int_equal(store_delete(st, gone.id, gone.token), 0);
	assert_int_equal(store_get(st, gone.id, &d), -ENOENT);
	save(st, a.id, 3500, "critical", "{\"target\":\"a\"}", 4, 2, STORE_FAMILY_BOTH);
	save(st, b.id, 1500, "none", "{\"target\":\"b\"}", 1, 0, 0);
	save(st, gone.id, 2600, "low", "{}", 4, 2, 0); /* deleted meanwhile: silently dropped */
	assert_int_equal(store_flush(st), 0);

	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.status, STORE_DONE);
	assert_int_equal(d.finished_ms, 3500);
	assert_string_equal(d.risk, "critical");
	assert_string_equal(d.json, "{\"target\":\"a\"}");
	store_diagnosis_done(&d);
	assert_null(d.json);
	/* done never goes back */
	assert_int_equal(store_set_status(st, a.id, STORE_INTERRUPTED, 9999), 0);
	assert_int_equal(store_set_status(st, a.id, STORE_RUNNING, 9999), 0);
	assert_int_equal(store_set_status(st, a.id, STORE_QUEUED, 9999), -ERR_RANGE);
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.status, STORE_DONE);
	assert_int_equal(d.started_ms, 3100);
	store_diagnosis_done(&d);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM check_results"), 5);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM findings"), 2);
	/* The free text with a quote and a backslash came through intact; no rtt is NULL. */
	assert_int_equal(raw_int(state, "SELECT count(*) FROM check_results WHERE service ="
	                                " 'SSH-2.0-x \"q\\b\"' AND rtt_ms = 0.25"),
	                 2); /* a's and b's */
	assert_int_equal(raw_int(state, "SELECT count(*) FROM check_results WHERE rtt_ms IS NULL"),
	                 2);

	/* The connection answer, under the token. */
	assert_int_equal(store_set_connection(st, b.id, a.token, STORE_CONN_SIM), -EACCES);
	assert_int_equal(store_set_connection(st, b.id, b.token, STORE_CONN_SIM), 0);

	/* c is still queued: not a result. Order is by creation time. */
	assert_int_equal(store_iter_results(st, NULL, collect_cb, &col), 2);
	assert_int_equal(col.rows, 2);
	assert_string_equal(col.ids[0], b.id);
	assert_string_equal(col.ids[1], a.id);
	assert_int_equal(col.created[0], 1000);
	assert_string_equal(col.prefix[0], "2001:db8:1::/48");
	assert_string_equal(col.hash[1], a.rhash);
	assert_string_equal(col.risk[1], "critical");
	assert_int_equal(col.n_checks[0], 1);
	assert_int_equal(col.n_findings[0], 0);
	assert_int_equal(col.n_checks[1], 3);
	assert_int_equal(col.n_findings[1], 2);
	assert_int_equal(col.count[0], 1);
	assert_int_equal(col.families[0], STORE_FAMILY_V6); /* none saved: the requester's */
	assert_int_equal(col.families[1], STORE_FAMILY_BOTH);
	assert_int_equal(col.conn[0], STORE_CONN_SIM);
	assert_string_equal(col.summary[1], "ssh=open,smb=open,skysea=closed,ssh/ssh-exposed/2/0;"
	                                    "smb/smb1-enabled/4/1;");
	/* Grouped by prefix, two results that differ are two groups of one; a backend that does
	 * not aggregate gives the rows themselves, in order. */
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_iter_groups(st, NULL, STORE_GROUP_PREFIX, collect_cb, &col), 2);
	if (!backend_groups)
		assert_string_equal(col.ids[1], a.id);
	/* Each requester's latest only: a backend that cannot pick it says so before any row. */
	if (!backend_groups) {
		assert_int_equal(store_iter_groups(st, NULL, STORE_GROUP_LATEST, collect_cb, &col),
		                 -ERR_UNSUPPORTED);
		assert_int_equal(col.rows, 2);
	}
	g = col.n_checks[0] == 3 ? 0 : 1; /* a's */
	assert_int_equal(col.n_checks[g], 3);
	assert_int_equal(col.count[0], 1);
	assert_int_equal(col.count[1], 1);
	/* one entry per check, in the order given, ports taken together */
	assert_string_equal(col.checks[g][0].check, "ssh");
	assert_string_equal(col.checks[g][0].state, "open");
	assert_string_equal(col.checks[g][1].check, "smb");
	assert_string_equal(col.checks[g][1].state, "open");
	assert_string_equal(col.checks[g][2].check, "skysea");
	assert_string_equal(col.checks[g][2].state, "closed"); /* as given, never refolded */
	assert_string_equal(col.findings[g][0].id, "ssh-exposed");
	assert_string_equal(col.findings[g][0].check, "ssh");
	assert_int_equal(col.findings[g][0].severity, SEVERITY_MEDIUM);
	assert_int_equal(col.findings[g][0].confidence, CONFIDENCE_CONFIRMED);
	assert_string_equal(col.findings[g][1].id, "smb1-enabled");
	assert_string_equal(col.findings[g][1].check, "smb");
	assert_int_equal(col.findings[g][1].severity, SEVERITY_CRITICAL);
	assert_int_equal(col.findings[g][1].confidence, CONFIDENCE_LIKELY);

	/* A period selects by creation time, half-open. */
	memset(&col, 0, sizeof(col));
	p = (struct store_period){.since_ms = 1001, .until_ms = 3000};
	assert_int_equal(store_iter_results(st, &p, collect_cb, &col), 0);
	p = (struct store_period){.since_ms = 1001, .until_ms = 3001};
	assert_int_equal(store_iter_results(st, &p, collect_cb, &col), 1);
	assert_string_equal(col.ids[0], a.id);
	assert_int_equal(store_count_results(st, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_count_results(st, NULL, &n), 0);
	assert_int_equal(n, 2);
	/* The callback can stop the walk. */
	memset(&col, 0, sizeof(col));
	col.stop_after = 1;
	assert_int_equal(store_iter_results(st, NULL, collect_cb, &col), 42);
	assert_int_equal(col.rows, 1);
	assert_int_equal(store_count_inflight(st), 1); /* c */

	/* Bad rows are refused before they reach the queue. */
	{
		struct store_check_row bad = rows_a[0];
		struct store_result r = {
		    .id = c.id, .risk = "low", .json = "{}", .checks = &bad, .n_checks = 1};

		bad.state = NULL;
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad.state = "open\n<script>";
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad.state = "open,smb=closed"; /* would forge a summary entry */
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad.state = "open";
		bad.service = "banner\r\n";
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad.service = "OpenSSH_9.2p1 Debian-2/x"; /* free text is fine there */
		assert_int_equal(store_save_result(st, &r), 0);
	}
	/* So are bad check states: the summary's separators stay unambiguous. */
	{
		struct store_check_state bad = {.check = "ssh", .state = "open,smb=closed"};
		struct store_result r = {
		    .id = c.id, .risk = "low", .json = "{}", .states = &bad, .n_states = 1};

		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad.state = NULL;
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		bad = (struct store_check_state){.check = "", .state = "open"};
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
		r.states = NULL;
		assert_int_equal(store_save_result(st, &r), -ERR_SYNTAX);
	}

	/* Purge by age, with each diagnosis's rows. */
	assert_int_equal(store_purge_older_than(st, 2001), 2); /* b (1000), c (2000) */
	assert_int_equal(raw_int(state, "SELECT count(*) FROM diagnoses"), 1);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM check_results"), 4);
	store_close(st);
}

static void test_connection_and_device(void **state)
{
	struct store *st = open_ok(state, 0, 0);
	struct store_diagnosis d;
	struct new_diag a, b;
	struct answers an = {0};
	enum store_connection c;
	enum store_device dv;

	assert_string_equal(store_connection_name(STORE_CONN_USB_MODEM), "usb-modem");
	assert_null(store_connection_name(STORE_CONN_NONE));
	assert_null(store_connection_name(STORE_CONN_X_MAX));
	assert_int_equal(store_connection_parse("tethering", &c), 0);
	assert_int_equal(c, STORE_CONN_TETHERING);
	assert_int_equal(store_connection_parse("SIM", &c), -ERR_SYNTAX);
	assert_int_equal(store_connection_parse("", &c), -ERR_SYNTAX);
	assert_int_equal(store_connection_parse(NULL, &c), -ERR_SYNTAX);
	assert_int_equal(store_device_parse("tablet", &dv), 0);
	assert_int_equal(dv, STORE_DEVICE_TABLET);
	assert_int_equal(store_device_parse("watch", &dv), -ERR_SYNTAX);

	assert_int_equal(new_diag_make(&a, &key1, "198.18.5.7", 1000), 0);
	assert_int_equal(new_diag_make(&b, &key1, "198.18.5.8", 2000), 0);
	a.nd.device = STORE_DEVICE_TABLET;
	assert_int_equal(store_create(st, &a.nd), 0);
	assert_int_equal(store_create(st, &b.nd), 0); /* no class recorded */
	b.nd.device = STORE_DEVICE_X_MAX;
	assert_int_equal(store_create(st, &b.nd), -ERR_SYNTAX);
	b.nd.device = STORE_DEVICE_NONE;
	b.nd.connection = STORE_CONN_X_MAX;
	assert_int_equal(store_create(st, &b.nd), -ERR_SYNTAX);

	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.device, STORE_DEVICE_TABLET);
	assert_int_equal(d.connection, STORE_CONN_NONE);
	store_diagnosis_done(&d);

	/* The delete token guards the answer: a wrong one changes nothing. */
	assert_int_equal(store_set_connection(st, a.id, b.token, STORE_CONN_SIM), -EACCES);
	assert_int_equal(store_set_connection(st, a.id, "", STORE_CONN_SIM), -EACCES);
	assert_int_equal(
	    store_set_connection(st, "0123456789abcdef0123456789abcdef", a.token, STORE_CONN_SIM),
	    -ENOENT);
	assert_int_equal(store_set_connection(st, "nope", a.token, STORE_CONN_SIM), -ERR_SYNTAX);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_X_MAX), -ERR_RANGE);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.connection, STORE_CONN_NONE);
	store_diagnosis_done(&d);

	/* Set, change, clear, set again. */
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_SIM), 0);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.connection, STORE_CONN_SIM);
	store_diagnosis_done(&d);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM diagnoses WHERE connection = 'sim'"
	                                " AND device = 'tablet'"),
	                 1);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_ROUTER), 0);
	assert_int_equal(store_get(st, a.id, &d), 0);
	assert_int_equal(d.connection, STORE_CONN_ROUTER);
	store_diagnosis_done(&d);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_NONE), 0);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM diagnoses WHERE connection IS NULL"),
	                 2);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_USB_MODEM), 0);
	assert_int_equal(store_set_connection(st, b.id, b.token, STORE_CONN_WIRED), 0);

	/* An answer known at creation (a generated store) is stored as given. */
	{
		struct new_diag c3;

		assert_int_equal(new_diag_make(&c3, &key1, "198.18.5.9", 2500), 0);
		c3.nd.connection = STORE_CONN_TETHERING;
		c3.nd.device = STORE_DEVICE_PHONE;
		assert_int_equal(store_create_async(st, &c3.nd), 0);
		assert_int_equal(store_flush(st), 0);
		assert_int_equal(store_get(st, c3.id, &d), 0);
		assert_int_equal(d.connection, STORE_CONN_TETHERING);
		assert_int_equal(d.device, STORE_DEVICE_PHONE);
		store_diagnosis_done(&d);
		assert_int_equal(store_delete(st, c3.id, c3.token), 0);
	}

	/* The report iterator sees both (done diagnoses only). */
	save(st, a.id, 1500, "critical", "{}", 1, 0, 0);
	save(st, b.id, 2500, "none", "{}", 1, 0, 0);
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_iter_results(st, NULL, answers_cb, &an), 2);
	assert_string_equal(an.ids[0], a.id);
	assert_int_equal(an.conn[0], STORE_CONN_USB_MODEM);
	assert_int_equal(an.dev[0], STORE_DEVICE_TABLET);
	assert_int_equal(an.conn[1], STORE_CONN_WIRED);
	assert_int_equal(an.dev[1], STORE_DEVICE_NONE);

	/* Deleting the result deletes the answer with the row. */
	assert_int_equal(store_delete(st, a.id, a.token), 0);
	assert_int_equal(store_set_connection(st, a.id, a.token, STORE_CONN_SIM), -ENOENT);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM diagnoses WHERE connection ="
	                                " 'usb-modem' OR device = 'tablet'"),
	                 0);
	store_close(st);
	/* The database itself refuses a value outside the list. */
	assert_false(contract_raw_ok(state, "UPDATE diagnoses SET connection = 'wifi'"));
	assert_false(contract_raw_ok(state, "UPDATE diagnoses SET device = 'watch'"));
}

static void test_purge(void **state)
{
	struct store *st = open_ok(state, 0, 0);
	struct new_diag d[5];
	struct store_diagnosis g;

	for (int i = 0; i < 5; i++) {
		assert_int_equal(new_diag_make(&d[i], &key1, "198.18.1.1", 1000 * (i + 1)), 0);
		assert_int_equal(store_create(st, &d[i].nd), 0);
		save(st, d[i].id, 1000 * (i + 1) + 10, "high", "{}", 4, 2, 0);
	}
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM check_results"), 20);
	assert_int_equal(store_purge_older_than(st, 3000), 2);
	assert_int_equal(store_get(st, d[0].id, &g), -ENOENT);
	assert_int_equal(store_get(st, d[1].id, &g), -ENOENT);
	assert_int_equal(store_get(st, d[2].id, &g), 0);
	store_diagnosis_done(&g);
	/* rows go with their diagnosis */
	assert_int_equal(raw_int(state, "SELECT count(*) FROM check_results"), 12);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM findings"), 6);
	assert_int_equal(store_purge_older_than(st, 3000), 0);
	assert_int_equal(store_purge_older_than(st, INT64_MAX), 3);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM check_results"), 0);
	store_close(st);
}

/* One requester each (one active diagnosis per requester may be the backend's rule). */
static void new_diag_nth(struct new_diag *d, int i, int64_t created_ms)
{
	char a[32];

	snprintf(a, sizeof(a), "198.18.%d.%d", 100 + i / 250, 1 + i % 250);
	assert_int_equal(new_diag_make(d, &key1, a, created_ms), 0);
}

static void test_purge_many(void **state)
{
	struct store_opts o = {.flags = STORE_QUEUE_BLOCK | STORE_FAST_CREATE};
	struct store *st;
	struct new_diag d;

	assert_int_equal(store_open(contract_where(state), &o, &st), 0);
	for (int i = 0; i < 1234; i++) {
		new_diag_nth(&d, i, i);
		assert_int_equal(store_create_async(st, &d.nd), 0);
	}
	assert_int_equal(store_flush(st), 0);
	/* several chunks of 500 */
	assert_int_equal(store_purge_older_than(st, 1200), 1200);
	assert_int_equal(store_count_inflight(st), 34);
	store_close(st);
}

static void test_async_order_and_flush(void **state)
{
	struct store_opts o = {.flags = STORE_QUEUE_BLOCK, .queue_max = 16, .batch_max = 7};
	struct store *st;
	struct new_diag d[300];
	struct store_diagnosis g;
	struct store_stats stats;

	assert_int_equal(store_open(contract_where(state), &o, &st), 0);
	/* create, running, result, interrupted: each applies only in this order */
	for (int i = 0; i < 300; i++) {
		assert_int_equal(new_diag_make(&d[i], &key1, "2001:db8::1", i), 0);
		assert_int_equal(store_create_async(st, &d[i].nd), 0);
		assert_int_equal(store_set_status(st, d[i].id, STORE_RUNNING, 10000 + i), 0);
		if (i % 2 == 0)
			save(st, d[i].id, 20000 + i, "medium", "{}", 2, 1, 0);
		assert_int_equal(store_set_status(st, d[i].id, STORE_INTERRUPTED, 30000 + i), 0);
	}
	assert_int_equal(store_flush(st), 0);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(store_get(st, d[i].id, &g), 0);
		assert_int_equal(g.started_ms, 10000 + i);
		if (i % 2 == 0) {
			assert_int_equal(g.status, STORE_DONE);
			assert_int_equal(g.finished_ms, 20000 + i);
		} else {
			assert_int_equal(g.status, STORE_INTERRUPTED);
			assert_int_equal(g.finished_ms, 30000 + i);
		}
		store_diagnosis_done(&g);
	}
	store_get_stats(st, &stats);
	assert_int_equal(stats.queued, 300 * 3 + 150);
	assert_int_equal(stats.applied, stats.queued);
	assert_int_equal(stats.failed, 0);
	assert_int_equal(stats.queue_len, 0);
	assert_true(stats.transactions >= (300 * 3 + 150) / 7);

	/* A failing write is reported by the next flush, once, and does not undo its batch. */
	assert_int_equal(store_create_async(st, &d[0].nd), 0);
	assert_int_equal(store_set_status(st, d[1].id, STORE_DONE, 1), 0);
	assert_int_equal(store_flush(st), -EEXIST);
	assert_int_equal(store_flush(st), 0);
	store_get_stats(st, &stats);
	assert_int_equal(stats.failed, 1);
	store_close(st);
}

/* Many threads at once: sync creates, async writes, reads. */
struct mt_arg {
	struct store *st;
	int base;
	int errors;
};

static void *mt_worker(void *p)
{
	struct mt_arg *a = p;
	struct store_diagnosis g;
	struct new_diag d;
	char addr[32];

	for (int i = 0; i < 100; i++) {
		snprintf(addr, sizeof(addr), "198.18.%d.%d", 7 + a->base / 1000, 1 + i);
		if (new_diag_make(&d, &key1, addr, a->base + i) < 0 ||
		    store_create(a->st, &d.nd) < 0 ||
		    store_set_status(a->st, d.id, STORE_RUNNING, a->base + i) < 0 ||
		    store_get(a->st, d.id, &g) < 0)
			a->errors++;
		store_diagnosis_done(&g);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct store_opts o = {.flags = STORE_QUEUE_BLOCK | STORE_FAST_CREATE};
	struct mt_arg args[4];
	pthread_t t[4];
	struct store *st;

	assert_int_equal(store_open(contract_where(state), &o, &st), 0);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct mt_arg){.st = st, .base = i * 1000};
		assert_int_equal(pthread_create(&t[i], NULL, mt_worker, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(args[i].errors, 0);
	}
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM diagnoses WHERE status"
	                                " = 'running'"),
	                 400);
	store_close(st);
}

/*
 * A store opened again marks what the last one left queued or running interrupted (a process
 * that died); closing marks nothing, a finished diagnosis stays as it was, a late result for an
 * interrupted one is ignored.
 */
static void test_restart_marks_interrupted(void **state)
{
	struct store *st = open_ok(state, 0, 0);
	struct new_diag q, r, dn, in;
	struct store_diagnosis g;
	int64_t before;

	assert_int_equal(new_diag_make(&q, &key1, "198.18.1.1", 1000), 0);
	assert_int_equal(new_diag_make(&r, &key1, "198.18.1.2", 1001), 0);
	assert_int_equal(new_diag_make(&dn, &key1, "198.18.1.3", 1002), 0);
	assert_int_equal(new_diag_make(&in, &key1, "198.18.1.4", 1003), 0);
	assert_int_equal(store_create(st, &q.nd), 0);
	assert_int_equal(store_create(st, &r.nd), 0);
	assert_int_equal(store_create(st, &dn.nd), 0);
	assert_int_equal(store_create(st, &in.nd), 0);
	assert_int_equal(store_set_status(st, r.id, STORE_RUNNING, 1100), 0);
	assert_int_equal(store_set_status(st, dn.id, STORE_RUNNING, 1100), 0);
	assert_int_equal(store_set_status(st, in.id, STORE_INTERRUPTED, 1200), 0);
	save(st, dn.id, 1300, "none", "{}", 1, 0, 0);
	store_close(st); /* closing never marks anything */
	assert_int_equal(raw_int(state, "SELECT count(*) FROM diagnoses WHERE status"
	                                " IN ('queued', 'running')"),
	                 2);

	before = store_now_ms();
	st = open_ok(state, 0, 2);
	assert_int_equal(store_count_inflight(st), 0);
	assert_int_equal(store_get(st, q.id, &g), 0);
	assert_int_equal(g.status, STORE_INTERRUPTED);
	assert_true(g.finished_ms >= before);
	store_diagnosis_done(&g);
	assert_int_equal(store_get(st, r.id, &g), 0);
	assert_int_equal(g.status, STORE_INTERRUPTED);
	assert_int_equal(g.started_ms, 1100);
	store_diagnosis_done(&g);
	assert_int_equal(store_get(st, dn.id, &g), 0);
	assert_int_equal(g.status, STORE_DONE);
	assert_int_equal(g.finished_ms, 1300);
	store_diagnosis_done(&g);
	assert_int_equal(store_get(st, in.id, &g), 0);
	assert_int_equal(g.status, STORE_INTERRUPTED);
	assert_int_equal(g.finished_ms, 1200);
	store_diagnosis_done(&g);
	/* a late result for an interrupted diagnosis is ignored */
	save(st, q.id, 5000, "high", "{}", 1, 0, 0);
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_get(st, q.id, &g), 0);
	assert_int_equal(g.status, STORE_INTERRUPTED);
	assert_null(g.json);
	store_diagnosis_done(&g);
	store_close(st);
	st = open_ok(state, 0, 0);
	store_close(st);
}

/* A reader (exposure report) does not mark, lock or write. */
static void test_readonly(void **state)
{
	struct store *st = open_ok(state, 0, 0), *ro;
	struct new_diag q;
	struct store_diagnosis g;

	assert_int_equal(new_diag_make(&q, &key1, "198.18.1.1", 1000), 0);
	assert_int_equal(store_create(st, &q.nd), 0);
	ro = open_ok(state, STORE_READONLY, 0);
	assert_int_equal(store_get(ro, q.id, &g), 0);
	assert_int_equal(g.status, STORE_QUEUED);
	store_diagnosis_done(&g);
	assert_int_equal(store_create(ro, &q.nd), -EROFS);
	assert_int_equal(store_set_status(ro, q.id, STORE_RUNNING, 1), -EROFS);
	assert_int_equal(store_delete(ro, q.id, q.token), -EROFS);
	assert_int_equal(store_purge_older_than(ro, INT64_MAX), -EROFS);
	assert_int_equal(store_flush(ro), 0);
	store_close(ro);
	store_close(st);
	st = open_ok(state, 0, 1);
	store_close(st);
}

/* What a walk over one sweep's (or no sweep's) results saw. */
struct swept {
	int rows;
	char addr[4][ADDR_STRLEN];
	bool sweep_null[4];
};

static int swept_cb(void *ud, const struct store_iter_row *row)
{
	struct swept *w = ud;

	if (w->rows < 4) {
		snprintf(w->addr[w->rows], ADDR_STRLEN, "%s", row->address ? row->address : "-");
		w->sweep_null[w->rows] = row->sweep == NULL;
	}
	w->rows++;
	return 0;
}

/*
 * Sweeps (/work/brief/sweep-store.md): a sweep row from begin to end; its hosts carry the
 * sweep id and their address; a walk or count without a sweep sees only the other results
 * (the web service's figures never include a sweep), one with a sweep only that sweep's.
 */
static void test_sweeps(void **state)
{
	struct store *st = open_ok(state, 0, 0);
	struct store_sweep sw = {
	    .started_ms = 1000, .targets = "198.18.32.0/20", .ports = "22,445"};
	struct store_sweep got;
	struct new_diag web, h1, h2, other;
	char id2[STORE_ID_LEN + 1];
	struct store_period p = {0};
	struct swept w = {0};
	uint64_t n;

	store_random_id(sw.id);
	store_random_id(id2);
	assert_int_equal(store_sweep_begin(st, &sw), 0);
	assert_int_equal(store_sweep_begin(st, &sw), -EEXIST);
	assert_int_equal(store_sweep_get(st, sw.id, &got), 0);
	assert_string_equal(got.id, sw.id);
	assert_int_equal(got.started_ms, 1000);
	assert_int_equal(got.finished_ms, 0);
	assert_int_equal(got.sent, -1);
	assert_int_equal(got.hosts, -1);
	assert_string_equal(got.targets, "198.18.32.0/20");
	assert_string_equal(got.ports, "22,445");
	assert_int_equal(store_sweep_get(st, id2, &got), -ENOENT);
	assert_int_equal(store_sweep_get(st, "nope", &got), -ERR_SYNTAX);

	assert_int_equal(new_diag_make(&web, &key1, "198.18.5.7", 1500), 0);
	assert_int_equal(new_diag_make(&h1, &key1, "198.18.32.5", 1100), 0);
	assert_int_equal(new_diag_make(&h2, &key1, "198.18.40.9", 1200), 0);
	assert_int_equal(new_diag_make(&other, &key1, "198.18.40.9", 1300), 0);
	h1.nd.sweep = h2.nd.sweep = sw.id;
	h1.nd.address = "198.18.32.5";
	h2.nd.address = "198.18.40.9";
	other.nd.sweep = id2;
	other.nd.address = "198.18.40.9";
	/* Both or neither; an address literal; a valid id. */
	web.nd.address = "198.18.5.7";
	assert_int_equal(store_create(st, &web.nd), -ERR_SYNTAX);
	web.nd.address = NULL;
	h1.nd.address = "not-an-address";
	assert_int_equal(store_create(st, &h1.nd), -ERR_SYNTAX);
	h1.nd.address = "198.18.32.5";
	assert_int_equal(store_create(st, &web.nd), 0);
	assert_int_equal(store_create(st, &h1.nd), 0);
	assert_int_equal(store_create(st, &h2.nd), 0);
	/* The same host in another sweep at the same time: one active diagnosis per requester is
	 * the service's rule, not a sweep's. */
	assert_int_equal(store_create(st, &other.nd), 0);
	save(st, web.id, 1600, "none", "{}", 1, 0, 0);
	save(st, h1.id, 1700, "high", "{}", 2, 1, 0);
	save(st, h2.id, 1800, "none", "{}", 1, 0, 0);
	save(st, other.id, 1900, "none", "{}", 1, 0, 0);
	sw.finished_ms = 2000;
	sw.sent = 32768;
	sw.open_ports = 3;
	sw.hosts = 2;
	assert_int_equal(store_sweep_end(st, &sw), 0);
	assert_int_equal(store_flush(st), 0);

	assert_int_equal(store_iter_results(st, NULL, swept_cb, &w), 1); /* no sweep: web only */
	assert_string_equal(w.addr[0], "-");
	assert_true(w.sweep_null[0]);
	assert_int_equal(store_count_results(st, NULL, &n), 0);
	assert_int_equal(n, 1);
	memset(&w, 0, sizeof(w));
	p.sweep = sw.id;
	assert_int_equal(store_iter_results(st, &p, swept_cb, &w), 2);
	assert_string_equal(w.addr[0], "198.18.32.5");
	assert_string_equal(w.addr[1], "198.18.40.9");
	assert_false(w.sweep_null[0]);
	assert_int_equal(store_count_results(st, &p, &n), 0);
	assert_int_equal(n, 2);
	p.since_ms = 1150; /* the period applies too */
	assert_int_equal(store_count_results(st, &p, &n), 0);
	assert_int_equal(n, 1);
	p = (struct store_period){.sweep = id2};
	assert_int_equal(store_count_results(st, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_sweep_get(st, sw.id, &got), 0);
	assert_int_equal(got.finished_ms, 2000);
	assert_int_equal(got.sent, 32768);
	assert_int_equal(got.open_ports, 3);
	assert_int_equal(got.hosts, 2);
	store_close(st);
	/* The column constraint: an address without a sweep is refused by the database too. */
	assert_int_equal(raw_int(state, "SELECT count(*) FROM diagnoses WHERE sweep IS NULL AND"
	                                " address IS NOT NULL"),
	                 0);
	assert_int_equal(raw_int(state, "SELECT count(*) FROM diagnoses WHERE sweep IS NOT NULL"),
	                 3);
}

int store_contract_run(const char *backend, bool groups)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_get_delete, contract_setup,
	                                    contract_teardown),
	    cmocka_unit_test_setup_teardown(test_create_rejects_bad_input, contract_setup,
	                                    contract_teardown),
	    cmocka_unit_test_setup_teardown(test_result_and_iterator, contract_setup,
	                                    contract_teardown),
	    cmocka_unit_test_setup_teardown(test_connection_and_device, contract_setup,
	                                    contract_teardown),
	    cmocka_unit_test_setup_teardown(test_purge, contract_setup, contract_teardown),
	    cmocka_unit_test_setup_teardown(test_purge_many, contract_setup, contract_teardown),
	    cmocka_unit_test_setup_teardown(test_async_order_and_flush, contract_setup,
	                                    contract_teardown),
	    cmocka_unit_test_setup_teardown(test_threads, contract_setup, contract_teardown),
	    cmocka_unit_test_setup_teardown(test_sweeps, contract_setup, contract_teardown),
	    cmocka_unit_test_setup_teardown(test_restart_marks_interrupted, contract_setup,
	                                    contract_teardown),
	    cmocka_unit_test_setup_teardown(test_readonly, contract_setup, contract_teardown),
	};

	backend_name = backend;
	backend_groups = groups;
	return cmocka_run_group_tests_name(backend, tests, NULL, NULL);
}
