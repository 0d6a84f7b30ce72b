/* SPDX-License-Identifier: MIT */
/*
 * GET /metrics in Prometheus text, and GET /healthz (httpd.h). Counters are atomics; gauges
 * are read under the lock.
 */
#include "web/httpd.h"
#include "core/err.h"
#include "core/sbuf.h"
#include "prober/pool.h"

#include <stdlib.h>

#define METRICS_TEXT_MAX (1u << 20) /* about 6 KiB with every status code seen */

static const double lat_bounds[WEB_LAT_BUCKETS - 1] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60};

void metrics_count_http(struct web *w, unsigned code)
{
	if (code >= 100 && code < 600)
		atomic_fetch_add(&w->m.http_by_code[code / 100][code % 100], 1);
}

void metrics_observe_latency(struct web *w, double seconds)
{
	size_t i = 0;

	while (i < WEB_LAT_BUCKETS - 1 && seconds > lat_bounds[i])
		i++;
	atomic_fetch_add(&w->m.lat_buckets[i], 1);
	atomic_fetch_add(&w->m.lat_count, 1);
	atomic_fetch_add(&w->m.lat_sum_us, (unsigned long long)(seconds * 1e6));
}

/* The connection table (connlimit.h): what it holds, whom it closed and why. */
static void metrics_connections(struct web *w, struct sbuf *o)
{
	struct connlimit_stats st = connlimit_stats(&w->conns);

	sbuf_addf(o,
	          "# HELP exposure_http_connections HTTP connections in the table now.\n"
	          "# TYPE exposure_http_connections gauge\nexposure_http_connections %zu\n",
	          connlimit_live(&w->conns));
	sbuf_addf(o, "# HELP exposure_http_connections_closed_total Connections refused or closed "
	             "by the table, by reason.\n"
	             "# TYPE exposure_http_connections_closed_total counter\n");
	sbuf_addf(o, "exposure_http_connections_closed_total{reason=\"network-limit\"} %llu\n",
	          (unsigned long long)st.refused_net);
	sbuf_addf(o, "exposure_http_connections_closed_total{reason=\"full\"} %llu\n",
	          (unsigned long long)st.refused_full);
	sbuf_addf(o, "exposure_http_connections_closed_total{reason=\"shed\"} %llu\n",
	          (unsigned long long)st.shed_full);
	sbuf_addf(o, "exposure_http_connections_closed_total{reason=\"request-timeout\"} %llu\n",
	          (unsigned long long)st.shed_deadline);
}

/*
 * The probers (prober/pool.h): how many are up, how many were replaced (crashed, killed, over
 * their memory cap, silent past the heartbeat), and the checks that ended as prober-lost. Zero
 * and none up when the service probes in process (--probers 0).
 */
static void metrics_probers(struct web *w, struct sbuf *o)
{
	struct pool_stats st = {0};

	if (w->pool)
		pool_get_stats(w->pool, &st);
	sbuf_addf(o,
	          "# HELP exposure_probers_up Prober processes running now.\n"
	          "# TYPE exposure_probers_up gauge\nexposure_probers_up %u\n",
	          st.probers_up);
	sbuf_addf(o,
	          "# HELP exposure_prober_restarts_total Probers replaced since start (crashed, "
	          "killed, over their memory cap or silent).\n"
	          "# TYPE exposure_prober_restarts_total counter\n"
	          "exposure_prober_restarts_total %llu\n",
	          (unsigned long long)st.restarts);
	sbuf_addf(o,
	          "# HELP exposure_prober_memory_kills_total Probers ended for passing their "
	          "memory cap.\n"
	          "# TYPE exposure_prober_memory_kills_total counter\n"
	          "exposure_prober_memory_kills_total %llu\n",
	          (unsigned long long)st.lost_memory);
	sbuf_addf(o,
	          "# HELP exposure_prober_lost_checks_total Probe jobs ended as error / "
	          "prober-lost.\n"
	          "# TYPE exposure_prober_lost_checks_total counter\n"
	          "exposure_prober_lost_checks_total %llu\n",
	          (unsigned long long)st.lost_jobs);
}

/* The Prometheus text of every metric, or NULL (out of memory). */
static char *metrics_render(struct web *w, size_t *len)
{
	struct sbuf o;
	struct metrics *m = &w->m;
	size_t q, inflight, cached;
	struct store_stats ss;
	unsigned long long cum = 0;

	sbuf_init(&o, METRICS_TEXT_MAX);
	pthread_mutex_lock(&w->lock);
	q = w->q_len;
	inflight = w->inflight;
	cached = w->d_len;
	pthread_mutex_unlock(&w->lock);
	store_get_stats(w->store, &ss);

	sbuf_addf(&o, "# HELP exposure_diagnoses_total Diagnoses by outcome since start.\n"
	              "# TYPE exposure_diagnoses_total counter\n");
	sbuf_addf(&o, "exposure_diagnoses_total{status=\"created\"} %llu\n",
	          atomic_load(&m->created));
	sbuf_addf(&o, "exposure_diagnoses_total{status=\"done\"} %llu\n", atomic_load(&m->done));
	sbuf_addf(&o, "exposure_diagnoses_total{status=\"interrupted\"} %llu\n",
	          atomic_load(&m->interrupted));
	sbuf_addf(&o, "exposure_diagnoses_total{status=\"deleted\"} %llu\n",
	          atomic_load(&m->deleted));
	sbuf_addf(&o, "exposure_diagnoses_total{status=\"failed\"} %llu\n",
	          atomic_load(&m->not_stored));
	sbuf_addf(&o,
	          "# HELP exposure_diagnoses_taken_over_total Diagnoses of dead nodes run again "
	          "here (shared store).\n"
	          "# TYPE exposure_diagnoses_taken_over_total counter\n");
	sbuf_addf(&o, "exposure_diagnoses_taken_over_total %llu\n", atomic_load(&m->taken_over));
	sbuf_addf(&o, "# HELP exposure_refusals_total POSTs refused, by reason.\n"
	              "# TYPE exposure_refusals_total counter\n");
	sbuf_addf(&o, "exposure_refusals_total{reason=\"policy\"} %llu\n",
	          atomic_load(&m->refused_policy));
	sbuf_addf(&o, "exposure_refusals_total{reason=\"rate\"} %llu\n",
	          atomic_load(&m->refused_rate));
	sbuf_addf(&o, "exposure_refusals_total{reason=\"busy\"} %llu\n",
	          atomic_load(&m->refused_busy));
	sbuf_addf(&o, "exposure_refusals_total{reason=\"csrf\"} %llu\n",
	          atomic_load(&m->refused_csrf));
	sbuf_addf(&o,
	          "# HELP exposure_diagnoses_in_flight Diagnoses running on the engine now.\n"
	          "# TYPE exposure_diagnoses_in_flight gauge\nexposure_diagnoses_in_flight %zu\n",
	          inflight);
	sbuf_addf(&o,
	          "# HELP exposure_queue_length Diagnoses waiting to start.\n"
	          "# TYPE exposure_queue_length gauge\nexposure_queue_length %zu\n",
	          q);
	sbuf_addf(&o,
	          "# HELP exposure_diagnoses_cached Finished diagnoses held in memory.\n"
	          "# TYPE exposure_diagnoses_cached gauge\nexposure_diagnoses_cached %zu\n",
	          cached);
	sbuf_addf(&o, "# HELP exposure_probe_ports_total Probed ports by state.\n"
	              "# TYPE exposure_probe_ports_total counter\n");
	for (int i = 0; i <= PORT_X_MAX; i++)
		sbuf_addf(&o, "exposure_probe_ports_total{state=\"%s\"} %llu\n",
		          i < PORT_X_MAX ? port_state_name((enum port_state)i) : "other",
		          atomic_load(&m->ports_by_state[i]));
	sbuf_addf(&o, "# HELP exposure_http_responses_total HTTP responses by status code.\n"
	              "# TYPE exposure_http_responses_total counter\n");
	for (unsigned c = 100; c < 600; c++) {
		unsigned long long v = atomic_load(&m->http_by_code[c / 100][c % 100]);

		if (v)
			sbuf_addf(&o, "exposure_http_responses_total{code=\"%u\"} %llu\n", c, v);
	}
	sbuf_addf(&o, "# HELP exposure_diagnosis_seconds Time from POST to done.\n"
	              "# TYPE exposure_diagnosis_seconds histogram\n");
	for (size_t i = 0; i < WEB_LAT_BUCKETS; i++) {
		cum += atomic_load(&m->lat_buckets[i]);
		if (i < WEB_LAT_BUCKETS - 1)
			sbuf_addf(&o, "exposure_diagnosis_seconds_bucket{le=\"%g\"} %llu\n",
			          lat_bounds[i], cum);
		else
			sbuf_addf(&o, "exposure_diagnosis_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	}
	sbuf_addf(&o, "exposure_diagnosis_seconds_sum %.6f\n",
	          (double)atomic_load(&m->lat_sum_us) / 1e6);
	sbuf_addf(&o, "exposure_diagnosis_seconds_count %llu\n", atomic_load(&m->lat_count));
	sbuf_addf(&o,
	          "# HELP exposure_purged_total Diagnoses deleted by the retention purge.\n"
	          "# TYPE exposure_purged_total counter\nexposure_purged_total %llu\n",
	          atomic_load(&m->purged));
	sbuf_addf(&o,
	          "# HELP exposure_store_queue_length Store writes waiting.\n"
	          "# TYPE exposure_store_queue_length gauge\nexposure_store_queue_length %zu\n",
	          ss.queue_len);
	sbuf_addf(
	    &o,
	    "# HELP exposure_store_commits_total Transactions the store's writer committed "
	    "(creates queued together share one).\n"
	    "# TYPE exposure_store_commits_total counter\nexposure_store_commits_total %llu\n",
	    (unsigned long long)ss.transactions);
	sbuf_addf(&o,
	          "# HELP exposure_store_writes_failed_total Store writes that failed.\n"
	          "# TYPE exposure_store_writes_failed_total counter\n"
	          "exposure_store_writes_failed_total %llu\n",
	          (unsigned long long)(ss.failed + ss.rejected_full));
	metrics_probers(w, &o);
	metrics_connections(w, &o);
	return sbuf_take(&o, len);
}

enum MHD_Result metrics_respond(struct web *w, struct MHD_Connection *c)
{
	size_t len;
	char *s = metrics_render(w, &len);

	if (!s)
		return MHD_NO;
	return httpd_queue(w, c, 200,
	                   httpd_text("text/plain; version=0.0.4; charset=utf-8", s, len));
}

/*
 * 200 "ok"; 503 "stopping"; 503 "degraded" while the store fails to write (every write since
 * the last clean one failed): results would not be kept, so a load balancer should send
 * visitors elsewhere, and the operator's monitoring sees it without reading the log.
 */
enum MHD_Result health_respond(struct web *w, struct MHD_Connection *c)
{
	struct store_stats ss;
	bool stopping;
	json_t *o;

	pthread_mutex_lock(&w->lock);
	stopping = w->stopping;
	pthread_mutex_unlock(&w->lock);
	store_get_stats(w->store, &ss);
	o = json_pack("{s:s, s:s}", "status",
	              stopping     ? "stopping"
	              : ss.failing ? "degraded"
	                           : "ok",
	              "store", store_backend(w->store));
	if (!stopping && ss.failing)
		json_object_set_new(o, "store_error", json_string(err_str(ss.last_err)));
	return httpd_json(w, c, stopping || ss.failing ? 503 : 200, o, NULL);
}
