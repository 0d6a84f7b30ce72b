/* SPDX-License-Identifier: MIT */
/*
 * The database probes (redis, mongodb, elasticsearch, mysql, postgresql) driven in memory with
 * the bytes of tests/data/<check>/ (real Debian servers' captures; MongoDB and Elasticsearch
 * from the emulator, as Debian has neither; hand-made hostile variants): each case fed whole, in
 * small chunks and one byte at a time must give exactly the expected state, service, findings
 * and answer to the check's question; the bytes the probe sends first are checked; cut at every
 * byte offset of every connection (closed, reset, idle, deadline) it must end cleanly, with
 * printable details, and never raise the no-auth finding before the bytes that prove it.
 * Argument: the tests/data folder.
 */
#include "drive.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

extern const struct probe_ops probe_redis, probe_mongodb, probe_elasticsearch, probe_mysql,
    probe_postgresql;

static const char *data_dir = "tests/data";

struct tcase {
	const struct probe_ops *ops;
	const char *files[2][2]; /* per connection, up to two files concatenated; NULL = none */
	int tail; /* how a connection whose bytes ran out ends: TAIL(why); 0 = idle */
	enum service_state state;
	const char *service;
	const char *findings;  /* "id=severity,..." exactly; "" = none */
	const char *answer;    /* the question's answer: "no", "undecided", "" (none) */
	const char *key, *val; /* optional: details[key] as text == val */
};

/* 0 is PROBE_END_CLOSED: the table keeps why + 1 so that 0 can mean "idle" */
#define TAIL(why) ((int)(why) + 1)

#define R "redis/"
#define M "mongodb/"
#define E "elasticsearch/"
#define Y "mysql/"
#define P "postgresql/"

static const struct tcase cases[] = {
    /* Redis 7.0.15 (real) */
    {&probe_redis,
     {{R "redis-7.0-noauth-pong.bin", R "redis-7.0-noauth-info.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "redis",
     "redis-no-auth=critical",
     "",
     "redis_version",
     "7.0.15"},
    {&probe_redis,
     {{R "redis-7.0-noauth-pong.bin"}},
     TAIL(PROBE_END_CLOSED),
     SERVICE_IDENTIFIED,
     "redis",
     "redis-no-auth=critical",
     "",
     "auth",
     "none"},
    {&probe_redis,
     {{R "redis-7.0-requirepass-noauth.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "redis",
     "",
     "no",
     "auth",
     "required"},
    {&probe_redis,
     {{R "redis-7.0-protected-denied.bin"}},
     TAIL(PROBE_END_CLOSED),
     SERVICE_IDENTIFIED,
     "redis",
     "redis-exposed=medium",
     "no",
     "auth",
     "protected-mode"},
    /* protected mode through the engine: PING meets the closed socket, the reset drops the
     * -DENIED; the second connection only listens and reads it */
    {&probe_redis,
     {{NULL}, {R "redis-7.0-protected-denied.bin"}},
     TAIL(PROBE_END_RESET),
     SERVICE_IDENTIFIED,
     "redis",
     "redis-exposed=medium",
     "no",
     "auth",
     "protected-mode"},
    {&probe_redis,
     {{R "hand-redis-noperm.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "redis",
     "",
     "undecided",
     "auth",
     "unknown"},
    {&probe_redis, {{R "hand-redis-http.bin"}}, 0, SERVICE_OTHER, "http", "", ""},
    {&probe_redis, {{R "hand-redis-huge-bulk.bin"}}, 0, SERVICE_PROTOCOL_ERROR, "", "", ""},
    {&probe_redis, {{R "hand-redis-long-line.bin"}}, 0, SERVICE_PROTOCOL_ERROR, "", "", ""},
    {&probe_redis, {{R "hand-redis-bare-lf.bin"}}, 0, SERVICE_OTHER, "", "", ""},
    {&probe_redis, {{NULL}}, 0, SERVICE_SILENT, "", "", ""},
    {&probe_redis, {{NULL}}, TAIL(PROBE_END_CLOSED), SERVICE_TCPWRAPPED, "", "", ""},
    /* MongoDB (emulator) */
    {&probe_mongodb,
     {{M "emul-mongo-7.0-open.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "mongodb",
     "mongodb-no-auth=critical",
     "",
     "version",
     "7.0.12"},
    {&probe_mongodb,
     {{M "emul-mongo-7.0-auth.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "mongodb",
     "",
     "no",
     "auth",
     "required"},
    {&probe_mongodb,
     {{M "emul-mongo-4.4-open.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "mongodb",
     "mongodb-no-auth=critical",
     "",
     "wire",
     "OP_MSG"},
    {&probe_mongodb,
     {{NULL}, {M "emul-mongo-3.4-legacy-open.bin"}},
     TAIL(PROBE_END_CLOSED),
     SERVICE_IDENTIFIED,
     "mongodb",
     "mongodb-no-auth=critical",
     "",
     "wire",
     "OP_QUERY"},
    {&probe_mongodb,
     {{NULL}, {M "emul-mongo-3.4-legacy-auth.bin"}},
     TAIL(PROBE_END_CLOSED),
     SERVICE_IDENTIFIED,
     "mongodb",
     "",
     "no",
     "version",
     "3.4.24"},
    {&probe_mongodb, {{M "emul-mongo-http.bin"}}, 0, SERVICE_OTHER, "http", "", ""},
    {&probe_mongodb, {{M "emul-mongo-huge-length.bin"}}, 0, SERVICE_PROTOCOL_ERROR, "", "", ""},
    {&probe_mongodb, {{M "emul-mongo-bad-bson.bin"}}, 0, SERVICE_PROTOCOL_ERROR, "", "", ""},
    {&probe_mongodb, {{M "emul-mongo-short-doc.bin"}}, 0, SERVICE_PROTOCOL_ERROR, "", "", ""},
    {&probe_mongodb, {{NULL}, {NULL}}, TAIL(PROBE_END_CLOSED), SERVICE_TCPWRAPPED, "", "", ""},
    {&probe_mongodb, {{NULL}}, 0, SERVICE_SILENT, "", "", ""},
    /* Elasticsearch / OpenSearch (emulator) */
    {&probe_elasticsearch,
     {{E "emul-es-7.17-open.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "elasticsearch",
     "elasticsearch-no-auth=critical",
     "",
     "cluster_name",
     "emul-cluster"},
    {&probe_elasticsearch,
     {{E "emul-es-opensearch-2.15-open.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "elasticsearch",
     "elasticsearch-no-auth=critical",
     "",
     "distribution",
     "opensearch"},
    {&probe_elasticsearch,
     {{E "emul-es-no-length.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "elasticsearch",
     "elasticsearch-no-auth=critical",
     "",
     "version",
     "7.17.22"},
    {&probe_elasticsearch,
     {{E "emul-es-8-secured-401.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "elasticsearch",
     "",
     "no",
     "auth",
     "required"},
    {&probe_elasticsearch,
     {{E "emul-es-nginx-401.bin"}},
     0,
     SERVICE_OTHER,
     "http",
     "",
     "",
     "server",
     "nginx"},
    {&probe_elasticsearch,
     {{E "emul-es-huge-length.bin"}},
     0,
     SERVICE_PROTOCOL_ERROR,
     "http",
     "",
     ""},
    {&probe_elasticsearch, {{E "emul-es-deep-json.bin"}}, 0, SERVICE_OTHER, "http", "", ""},
    {&probe_elasticsearch,
     {{E "emul-es-hostile-strings.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "elasticsearch",
     "elasticsearch-no-auth=critical",
     "",
     "cluster_name",
     "?]0;owned?<script>x</script>"},
    {&probe_elasticsearch, {{E "emul-es-ssh.bin"}}, 0, SERVICE_OTHER, "ssh", "", ""},
    {&probe_elasticsearch, {{NULL}}, TAIL(PROBE_END_CLOSED), SERVICE_TCPWRAPPED, "", "", ""},
    /* Elasticsearch 8 over TLS: clear text closed without a byte, then the same over TLS
     * (drive.c hands the TLS connection's plaintext) */
    {&probe_elasticsearch,
     {{NULL}, {E "emul-es-7.17-open.bin"}},
     TAIL(PROBE_END_CLOSED),
     SERVICE_IDENTIFIED,
     "elasticsearch",
     "elasticsearch-no-auth=critical",
     "",
     "cluster_name",
     "emul-cluster"},
    {&probe_elasticsearch,
     {{NULL}, {E "emul-es-8-secured-401.bin"}},
     TAIL(PROBE_END_CLOSED),
     SERVICE_IDENTIFIED,
     "elasticsearch",
     "",
     "no",
     "auth",
     "required"},
    /* MySQL / MariaDB 10.11.19 (real) */
    {&probe_mysql,
     {{Y "mariadb-10.11-greeting.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "mysql",
     "mysql-exposed=high",
     "",
     "version",
     "5.5.5-10.11.19-MariaDB-0+deb12u1"},
    {&probe_mysql,
     {{Y "mariadb-10.11-err1130.bin"}},
     TAIL(PROBE_END_CLOSED),
     SERVICE_IDENTIFIED,
     "mysql",
     "mysql-exposed=medium",
     "",
     "refused",
     "host-not-allowed"},
    {&probe_mysql,
     {{Y "hand-mysql-err1040.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "mysql",
     "mysql-exposed=medium",
     "",
     "refused",
     "too-many-connections"},
    {&probe_mysql,
     {{Y "hand-mysql-v9.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "mysql",
     "mysql-exposed=high",
     "",
     "version",
     "3.22.32"},
    {&probe_mysql,
     {{Y "hand-mysql-hostile-version.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "mysql",
     "mysql-exposed=high",
     "",
     "version",
     "8.0.36?[2J<script>"},
    {&probe_mysql, {{Y "hand-mysql-huge-length.bin"}}, 0, SERVICE_PROTOCOL_ERROR, "mysql", "", ""},
    {&probe_mysql,
     {{Y "hand-mysql-greeting-cut-fields.bin"}},
     0,
     SERVICE_PROTOCOL_ERROR,
     "mysql",
     "",
     ""},
    {&probe_mysql, {{Y "hand-mysql-ssh.bin"}}, 0, SERVICE_OTHER, "ssh", "", ""},
    {&probe_mysql, {{NULL}}, 0, SERVICE_SILENT, "", "", ""},
    /* PostgreSQL 15.18 (real) */
    {&probe_postgresql,
     {{P "pg-15-ssl-no.bin", P "pg-15-startup-nouser.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "postgresql",
     "postgresql-exposed=high",
     "",
     "sqlstate",
     "28000"},
    {&probe_postgresql,
     {{P "pg-15-ssl-yes.bin"}, {P "pg-15-startup-nouser.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "postgresql",
     "postgresql-exposed=high",
     "",
     "severity",
     "FATAL"},
    {&probe_postgresql,
     {{P "hand-pg-v2-error.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "postgresql",
     "postgresql-exposed=high",
     ""},
    {&probe_postgresql,
     {{P "pg-15-ssl-no.bin", P "hand-pg-auth-md5.bin"}},
     0,
     SERVICE_IDENTIFIED,
     "postgresql",
     "postgresql-exposed=high",
     ""},
    {&probe_postgresql,
     {{P "pg-15-ssl-no.bin", P "hand-pg-huge-length.bin"}},
     0,
     SERVICE_PROTOCOL_ERROR,
     "postgresql",
     "",
     ""},
    {&probe_postgresql,
     {{P "pg-15-ssl-no.bin", P "hand-pg-fields-unterminated.bin"}},
     0,
     SERVICE_PROTOCOL_ERROR,
     "postgresql",
     "",
     ""},
    {&probe_postgresql, {{P "hand-pg-http.bin"}}, 0, SERVICE_OTHER, "http", "", ""},
    {&probe_postgresql, {{NULL}}, TAIL(PROBE_END_RESET), SERVICE_TCPWRAPPED, "", "", ""},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* The question of each probe's check, and the finding that proves it. */
static const char *question(const struct probe_ops *ops)
{
	if (ops == &probe_redis)
		return "redis-no-auth";
	if (ops == &probe_mongodb)
		return "mongodb-no-auth";
	if (ops == &probe_elasticsearch)
		return "elasticsearch-no-auth";
	return NULL;
}

struct loaded {
	uint8_t *data[2];
	struct sim_conn conns[2];
	size_t n;
};

static size_t append_file(const char *rel, uint8_t **buf, size_t len)
{
	if (drive_append_file(data_dir, rel, buf, &len) < 0)
		fail_msg("cannot read %s/%s", data_dir, rel);
	return len;
}

static void load(const struct tcase *t, struct loaded *l)
{
	memset(l, 0, sizeof(*l));
	l->n = t->ops->max_conns < 2 ? 1 : 2;
	for (size_t i = 0; i < l->n; i++) {
		size_t len = 0;

		for (size_t k = 0; k < 2 && t->files[i][k]; k++)
			len = append_file(t->files[i][k], &l->data[i], len);
		l->conns[i] = (struct sim_conn){l->data[i], len};
	}
}

static void unload(struct loaded *l)
{
	for (size_t i = 0; i < 2; i++)
		free(l->data[i]);
}

static const char *name_of(const struct tcase *t)
{
	return t->files[0][0] ? t->files[0][0] : t->files[1][0] ? t->files[1][0] : "(nothing)";
}

static void check_findings(const struct tcase *t, const struct probe_result *r, const char *how)
{
	char want[256], got[256] = "";
	size_t n = 0;

	for (size_t i = 0; i < r->n_findings; i++)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s=%s", i ? "," : "",
		                      r->findings[i].id, severity_name(r->findings[i].severity));
	snprintf(want, sizeof(want), "%s", t->findings);
	if (strcmp(got, want) != 0)
		fail_msg("%s %s (%s): findings '%s', want '%s'", t->ops->name, name_of(t), how, got,
		         want);
	for (size_t i = 0; i < r->n_findings; i++)
		assert_string_equal(confidence_name(r->findings[i].confidence), "confirmed");
}

static void check_answer(const struct tcase *t, const struct probe_result *r, const char *how)
{
	const char *q = question(t->ops);
	enum probe_answer a = q ? probe_answer_of(r, q, NULL) : PROBE_ANSWER_NONE;
	const char *got = a == PROBE_ANSWER_NO          ? "no"
	                  : a == PROBE_ANSWER_UNDECIDED ? "undecided"
	                  : a == PROBE_ANSWER_NONE      ? ""
	                                                : "other";

	if (strcmp(got, t->answer) != 0)
		fail_msg("%s %s (%s): answer '%s', want '%s'", t->ops->name, name_of(t), how, got,
		         t->answer);
}

static void check_exact(const struct tcase *t, const struct probe_result *r, const char *how)
{
	static const char *const states[SERVICE_X_MAX] = {
	    "unknown", "identified", "silent", "tcpwrapped", "other", "protocol-error"};

	if (r->state != t->state)
		fail_msg("%s %s (%s): state %s, want %s", t->ops->name, name_of(t), how,
		         states[r->state], states[t->state]);
	if (strcmp(r->service, t->service) != 0)
		fail_msg("%s %s (%s): service '%s', want '%s'", t->ops->name, name_of(t), how,
		         r->service, t->service);
	check_findings(t, r, how);
	check_answer(t, r, how);
	if (t->key) {
		json_t *v = r->details ? json_object_get(r->details, t->key) : NULL;
		char *d = r->details ? json_dumps(r->details, JSON_COMPACT) : NULL;

		if (!json_is_string(v) || strcmp(json_string_value(v), t->val) != 0)
			fail_msg("%s %s (%s): details.%s, want '%s'; details %s", t->ops->name,
			         name_of(t), how, t->key, t->val, d ? d : "null");
		free(d);
	}
	if (r->details && !drive_details_clean(r->details))
		fail_msg("%s %s (%s): details not printable ASCII", t->ops->name, name_of(t), how);
}

static void test_exact(void **unused)
{
	static const size_t chunks[] = {0, 1, 2, 3, 7, 64};

	(void)unused;
	for (size_t c = 0; c < N_CASES; c++) {
		const struct tcase *t = &cases[c];
		struct loaded l;

		load(t, &l);
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			struct sim_opts o = {.chunk = chunks[k],
			                     .cut_at = SIZE_MAX,
			                     .tail_why = t->tail ? (enum probe_end)(t->tail - 1)
			                                         : PROBE_END_IDLE};
			struct probe_result r;
			struct drive_stats st;
			char how[32];
			int rc = sim_run(t->ops, l.conns, l.n, &o, &r, &st);

			snprintf(how, sizeof(how), "chunk %zu", chunks[k]);
			if (rc < 0)
				fail_msg("%s %s (%s): %s %s", t->ops->name, name_of(t), how,
				         err_name(rc), drive_error);
			check_exact(t, &r, how);
			probe_result_done(&r);
		}
		unload(&l);
	}
}

/* What each probe sends first: the exact bytes of docs/internals/PROBES.md. */
static void test_sent(void **unused)
{
	static const struct {
		const struct probe_ops *ops;
		const char *hex;
	} want[] = {
	    {&probe_redis, "2a310d0a24340d0a50494e470d0a"}, /* *1 $4 PING */
	    {&probe_postgresql, "0000000804d2162f"},        /* SSLRequest */
	    {&probe_mysql, ""},                             /* nothing: the server speaks first */
	};
	(void)unused;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct sim_conn none = {NULL, 0};
		struct sim_opts o = {.cut_at = SIZE_MAX, .tail_why = PROBE_END_IDLE};
		struct probe_result r;
		struct drive_stats st;
		char got[64] = "";

		assert_true(sim_run(want[i].ops, &none, 1, &o, &r, &st) >= 0);
		for (size_t k = 0; k < st.tx_first_len && 2 * k + 2 < sizeof(got); k++)
			snprintf(got + 2 * k, 3, "%02x", st.tx_first[k]);
		assert_string_equal(got, want[i].hex);
		probe_result_done(&r);
	}
}

/* Cut every connection at every offset: never an error, always clean, and the no-auth finding
 * only when the cut comes after the bytes that prove it (the whole run raises it too). */
static void test_cut_everywhere(void **unused)
{
	static const enum probe_end whys[] = {PROBE_END_CLOSED, PROBE_END_RESET, PROBE_END_IDLE,
	                                      PROBE_END_DEADLINE};
	unsigned runs = 0;

	(void)unused;
	for (size_t c = 0; c < N_CASES; c++) {
		const struct tcase *t = &cases[c];
		const char *q = question(t->ops);
		bool proves = q && strstr(t->findings, q) != NULL;
		struct loaded l;

		load(t, &l);
		for (unsigned conn = 0; conn < l.n; conn++)
			for (size_t at = 0; at <= l.conns[conn].len && at < 2048;
			     at += at < 160 ? 1 : 13)
				for (size_t w = 0; w < sizeof(whys) / sizeof(whys[0]); w++) {
					struct sim_opts o = {
					    .chunk = (at & 1) ? 1 : 0,
					    .cut_conn = conn,
					    .cut_at = at,
					    .cut_why = whys[w],
					    .tail_why = t->tail ? (enum probe_end)(t->tail - 1)
					                        : PROBE_END_IDLE};
					struct probe_result r;
					struct drive_stats st;
					int rc = sim_run(t->ops, l.conns, l.n, &o, &r, &st);

					if (rc < 0)
						fail_msg("%s %s cut %u@%zu: %s %s", t->ops->name,
						         name_of(t), conn, at, err_name(rc),
						         drive_error);
					if (r.details && !drive_details_clean(r.details))
						fail_msg("%s %s cut %u@%zu: unclean details",
						         t->ops->name, name_of(t), conn, at);
					for (size_t i = 0; q && !proves && i < r.n_findings; i++)
						if (strcmp(r.findings[i].id, q) == 0)
							fail_msg("%s %s cut %u@%zu: %s invented",
							         t->ops->name, name_of(t), conn, at,
							         q);
					probe_result_done(&r);
					runs++;
				}
		unload(&l);
	}
	print_message("%u cut runs\n", runs);
}

/* One Elasticsearch run over conns (n of them); the question's answer and the result in *r. */
static enum probe_answer es_run(const struct sim_conn *conns, size_t n, enum probe_end tail,
                                struct probe_result *r)
{
	struct sim_opts o = {.cut_at = SIZE_MAX, .tail_why = tail};
	struct drive_stats st;

	assert_true(sim_run(&probe_elasticsearch, conns, n, &o, r, &st) >= 0);
	assert_true(r->details == NULL || drive_details_clean(r->details));
	return probe_answer_of(r, "elasticsearch-no-auth", NULL);
}

static bool has_finding(const struct probe_result *r, const char *id)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (strcmp(r->findings[i].id, id) == 0)
			return true;
	return false;
}

/*
 * A body cut short is not the root document (PROBES.md, "Elasticsearch"): Elasticsearch sends
 * its ~500 bytes whole with a Content-Length, so a 200 whose body runs past the probe's 16 KiB
 * or ends at the close before its JSON object does leaves the question undecided, even when
 * cluster_name was among the members read (before: elasticsearch-no-auth confirmed on it). A
 * 401 with the security realm is conclusive from its head: a cut body changes nothing.
 */
static void test_es_cut_body(void **unused)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\n"
	                         "content-type: application/json\r\n\r\n"
	                         "{\"name\":\"n1\",\"cluster_name\":\"c1\",\"version\":"
	                         "{\"number\":\"8.13.4\"},\"tagline\":\"You Know, for Search\","
	                         "\"pad\":\"";
	static const char denied[] =
	    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"security\" "
	    "charset=\"UTF-8\"\r\nX-elastic-product: Elasticsearch\r\n\r\n{\"error\":{\"type\":";
	size_t n = sizeof(ok) - 1 + 20000;
	uint8_t *b = malloc(n);
	struct probe_result r;
	const struct probe_answer_rec *why;

	(void)unused;
	assert_non_null(b);
	memcpy(b, ok, sizeof(ok) - 1);
	memset(b + sizeof(ok) - 1, 'x', n - (sizeof(ok) - 1));
	/* past the 16 KiB the probe reads of a body without a length */
	assert_int_equal(es_run(&(struct sim_conn){b, n}, 1, PROBE_END_IDLE, &r),
	                 PROBE_ANSWER_UNDECIDED);
	assert_false(has_finding(&r, "elasticsearch-no-auth"));
	assert_int_equal(r.state, SERVICE_IDENTIFIED);
	assert_int_equal(probe_answer_of(&r, "elasticsearch-no-auth", &why),
	                 PROBE_ANSWER_UNDECIDED);
	assert_non_null(strstr(why->reason, "larger than the probe reads"));
	assert_null(json_object_get(r.details, "cluster_name"));
	probe_result_done(&r);
	/* closed by the server after cluster_name, before the object's end */
	assert_int_equal(
	    es_run(&(struct sim_conn){b, sizeof(ok) - 1 + 10}, 1, PROBE_END_CLOSED, &r),
	    PROBE_ANSWER_UNDECIDED);
	assert_false(has_finding(&r, "elasticsearch-no-auth"));
	assert_int_equal(probe_answer_of(&r, "elasticsearch-no-auth", &why),
	                 PROBE_ANSWER_UNDECIDED);
	assert_non_null(strstr(why->reason, "before its JSON object"));
	probe_result_done(&r);
	/* the same over TLS (clear text closed at once first) */
	assert_int_equal(es_run((struct sim_conn[]){{NULL, 0}, {b, n}}, 2, PROBE_END_CLOSED, &r),
	                 PROBE_ANSWER_UNDECIDED);
	assert_false(has_finding(&r, "elasticsearch-no-auth"));
	assert_true(json_is_true(json_object_get(r.details, "tls")));
	probe_result_done(&r);
	/* a 401 with the realm, its body cut: answered no all the same */
	memcpy(b, denied, sizeof(denied) - 1);
	memset(b + sizeof(denied) - 1, ' ', n - (sizeof(denied) - 1));
	assert_int_equal(es_run(&(struct sim_conn){b, n}, 1, PROBE_END_IDLE, &r), PROBE_ANSWER_NO);
	assert_int_equal(r.state, SERVICE_IDENTIFIED);
	probe_result_done(&r);
	assert_int_equal(es_run(&(struct sim_conn){b, sizeof(denied) - 1}, 1, PROBE_END_CLOSED, &r),
	                 PROBE_ANSWER_NO);
	probe_result_done(&r);
	free(b);
}

/*
 * Over TLS the verdicts are those of clear text, the details say so (tls: true) and so does the
 * finding's reason; a clear-text TLS alert leads to TLS too; a port that fails the handshake
 * after closing clear text stays tcpwrapped, not known.
 */
static void test_es_tls(void **unused)
{
	static const uint8_t alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46};
	static const char open_doc[] =
	    "HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\ncontent-length: 64\r\n\r\n"
	    "{\"name\":\"n1\",\"cluster_name\":\"c1\",\"version\":{\"number\":\"8.13.4\"}}\n";
	struct sim_conn conns[2] = {{NULL, 0}, {(const uint8_t *)open_doc, sizeof(open_doc) - 1}};
	struct probe_result r;

	(void)unused;
	assert_int_equal(strlen(strstr(open_doc, "\r\n\r\n") + 4), 64);
	assert_int_equal(es_run(conns, 2, PROBE_END_CLOSED, &r), PROBE_ANSWER_NONE);
	assert_true(has_finding(&r, "elasticsearch-no-auth"));
	assert_non_null(strstr(r.findings[0].reason, "over TLS"));
	assert_true(json_is_true(json_object_get(r.details, "tls")));
	probe_result_done(&r);
	/* a TLS alert to the clear-text request */
	conns[0] = (struct sim_conn){alert, sizeof(alert)};
	assert_int_equal(es_run(conns, 2, PROBE_END_CLOSED, &r), PROBE_ANSWER_NONE);
	assert_true(has_finding(&r, "elasticsearch-no-auth"));
	probe_result_done(&r);
	/* clear text: the same document, no tls detail */
	assert_int_equal(es_run(&conns[1], 1, PROBE_END_CLOSED, &r), PROBE_ANSWER_NONE);
	assert_true(has_finding(&r, "elasticsearch-no-auth"));
	assert_null(strstr(r.findings[0].reason, "TLS"));
	assert_null(json_object_get(r.details, "tls"));
	probe_result_done(&r);
	/* closed clear text, then a reset during the handshake: tcpwrapped, the note says why */
	{
		struct sim_opts o = {.cut_conn = 1,
		                     .cut_at = 0,
		                     .cut_why = PROBE_END_RESET,
		                     .tail_why = PROBE_END_CLOSED};
		struct drive_stats st;

		assert_true(sim_run(&probe_elasticsearch, conns + 0, 1, &o, &r, &st) >= 0);
		assert_int_equal(r.state, SERVICE_TCPWRAPPED);
		assert_int_equal(st.conns, 2);
		probe_result_done(&r);
	}
}

/*
 * An HTTPS reverse proxy in front of Elasticsearch answers the clear-text GET / with its 400 page
 * for plain HTTP on a TLS port (PROBES.md, "Plain HTTP on a TLS port"): the probe asks again over
 * TLS, once, and judges that answer, for each server's page (hand-made from the sources there;
 * nginx's own is also read from the real server in test_es_proxy.py), whole or a few bytes a
 * feed. Another 400 stays a clear-text answer; the page again over TLS, or a reset after it,
 * decides nothing and opens no third connection.
 */
static void test_es_tls_refusals(void **unused)
{
	static const char *const pages[][2] = {
	    {"HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n",
	     "<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title>"
	     "</head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The plain "
	     "HTTP request was sent to HTTPS port</center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
	     "</body>\r\n</html>\r\n"},
	    {"HTTP/1.1 400 Bad Request\r\nServer: Apache/2.4.62 (Debian)\r\nConnection: close\r\n"
	     "Content-Type: text/html; charset=iso-8859-1\r\n",
	     "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>400 Bad "
	     "Request</title>\n</head><body>\n<h1>Bad Request</h1>\n<p>Your browser sent a request "
	     "that this server could not understand.<br />\nReason: You're speaking plain HTTP to "
	     "an SSL-enabled server port.<br />\n Instead use the HTTPS scheme to access this URL, "
	     "please.<br />\n</p>\n</body></html>\n"},
	    {"HTTP/1.0 400 Bad Request\r\n", "Client sent an HTTP request to an HTTPS server.\n"},
	    {"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n",
	     "The client sent a plain HTTP request, but this server only speaks HTTPS on this "
	     "port."},
	};
	static const char open_doc[] =
	    "HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\ncontent-length: 64\r\n\r\n"
	    "{\"name\":\"n1\",\"cluster_name\":\"c1\",\"version\":{\"number\":\"8.13.4\"}}\n";
	static const char es_400[] =
	    "HTTP/1.1 400 Bad Request\r\nX-elastic-product: Elasticsearch\r\ncontent-length: 2\r\n"
	    "\r\n{}";
	char page[1024];
	struct sim_conn conns[2] = {{NULL, 0}, {(const uint8_t *)open_doc, sizeof(open_doc) - 1}};
	struct probe_result r;
	struct drive_stats st;
	const struct probe_answer_rec *why;

	(void)unused;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		/* Go's page has no Content-Length: it ends at the close */
		int n = i == 2 ? snprintf(page, sizeof(page), "%s\r\n%s", pages[i][0], pages[i][1])
		               : snprintf(page, sizeof(page), "%sContent-Length: %zu\r\n\r\n%s",
		                          pages[i][0], strlen(pages[i][1]), pages[i][1]);

		assert_true(n > 0 && (size_t)n < sizeof(page));
		conns[0] = (struct sim_conn){(const uint8_t *)page, (size_t)n};
		for (size_t chunk = 0; chunk <= 9; chunk += 9) {
			struct sim_opts o = {
			    .chunk = chunk, .cut_at = SIZE_MAX, .tail_why = PROBE_END_CLOSED};

			assert_true(sim_run(&probe_elasticsearch, conns, 2, &o, &r, &st) >= 0);
			assert_int_equal(st.conns, 2);
			assert_int_equal(r.state, SERVICE_IDENTIFIED);
			assert_true(has_finding(&r, "elasticsearch-no-auth"));
			assert_non_null(strstr(r.findings[0].reason, "over TLS"));
			assert_true(json_is_true(json_object_get(r.details, "tls")));
			probe_result_done(&r);
		}
		/* the page again over TLS: judged as it is, no third connection */
		conns[1] = conns[0];
		assert_true(
		    sim_run(&probe_elasticsearch, conns, 2,
		            &(struct sim_opts){.cut_at = SIZE_MAX, .tail_why = PROBE_END_CLOSED},
		            &r, &st) >= 0);
		assert_int_equal(st.conns, 2);
		assert_int_equal(r.state, SERVICE_OTHER);
		assert_false(has_finding(&r, "elasticsearch-no-auth"));
		assert_true(json_is_true(json_object_get(r.details, "tls")));
		probe_result_done(&r);
		/* the page, then a reset on the TLS connection: nothing decided (a failed
		 * handshake, which this driver cannot play, is test_es_proxy.py's) */
		assert_true(sim_run(&probe_elasticsearch, conns, 1,
		                    &(struct sim_opts){.cut_conn = 1,
		                                       .cut_at = 0,
		                                       .cut_why = PROBE_END_RESET,
		                                       .tail_why = PROBE_END_CLOSED},
		                    &r, &st) >= 0);
		assert_int_equal(st.conns, 2);
		assert_int_equal(probe_answer_of(&r, "elasticsearch-no-auth", &why),
		                 PROBE_ANSWER_NONE);
		assert_int_equal(r.n_findings, 0);
		assert_true(json_is_true(json_object_get(r.details, "tls")));
		probe_result_done(&r);
		conns[1] = (struct sim_conn){(const uint8_t *)open_doc, sizeof(open_doc) - 1};
	}
	/* Elasticsearch's own 400 (another request error) is no refusal: one connection */
	conns[0] = (struct sim_conn){(const uint8_t *)es_400, sizeof(es_400) - 1};
	assert_int_equal(es_run(conns, 2, PROBE_END_CLOSED, &r), PROBE_ANSWER_UNDECIDED);
	assert_null(json_object_get(r.details, "tls"));
	assert_int_equal(json_integer_value(json_object_get(r.details, "status")), 400);
	probe_result_done(&r);
}

/* 1 MiB of garbage and floods of one byte: an ending, never a crash or a no-auth finding. */
static void test_garbage(void **unused)
{
	static const struct probe_ops *const ops[] = {
	    &probe_redis, &probe_mongodb, &probe_elasticsearch, &probe_mysql, &probe_postgresql};
	static const uint8_t fill[] = {0x00, 0xff, '\n', '+', '$', 'E', 'H'};
	size_t n = 1 << 20;
	uint8_t *g = malloc(n);
	uint32_t x = 12345;

	(void)unused;
	assert_non_null(g);
	for (size_t f = 0; f <= sizeof(fill); f++) {
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			g[i] = f < sizeof(fill) ? fill[f] : (uint8_t)(x >> 16);
		}
		for (size_t p = 0; p < sizeof(ops) / sizeof(ops[0]); p++) {
			struct sim_conn conns[2] = {{g, n}, {g, n}};
			struct sim_opts o = {
			    .chunk = 4096, .cut_at = SIZE_MAX, .tail_why = PROBE_END_IDLE};
			struct probe_result r;
			struct drive_stats st;
			const char *q = question(ops[p]);

			assert_true(sim_run(ops[p], conns, ops[p]->max_conns > 1 ? 2 : 1, &o, &r,
			                    &st) >= 0);
			assert_true(r.state != SERVICE_IDENTIFIED || ops[p] == &probe_mysql ||
			            ops[p] == &probe_postgresql || ops[p] == &probe_redis);
			for (size_t i = 0; q && i < r.n_findings; i++)
				assert_string_not_equal(r.findings[i].id, q);
			assert_true(r.details == NULL || drive_details_clean(r.details));
			probe_result_done(&r);
		}
	}
	free(g);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact),           cmocka_unit_test(test_sent),
	    cmocka_unit_test(test_cut_everywhere),  cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_es_cut_body),     cmocka_unit_test(test_es_tls),
	    cmocka_unit_test(test_es_tls_refusals),
	};

	if (argc > 1)
		data_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
