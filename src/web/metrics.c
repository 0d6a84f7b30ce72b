/* SPDX-License-Identifier: MIT */
/* Prometheus text for GET /metrics (web.h). Counters are atomics; gauges read under the lock. */
#include "web/web.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

struct out {
	char *buf;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? o->cap - o->len : 0, fmt,
		              ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if (o->buf && o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = (o->cap + (size_t)n + 1) * 2;
		char *nb = realloc(o->buf, cap);

		if (!nb) {
			o->failed = true;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
}

char *metrics_render(struct web *w)
{
	struct out o = {0};
	struct metrics *m = &w->m;
	static const char *const states[5] = {"open", "closed", "filtered", "error", "other"};
	size_t q, inflight, cached;
	struct store_stats ss;
	unsigned long long cum = 0;

	pthread_mutex_lock(&w->lock);
	q = w->q_len;
	inflight = w->inflight;
	cached = w->d_len;
	pthread_mutex_unlock(&w->lock);
	store_get_stats(w->store, &ss);

	put(&o, "# HELP exposure_diagnoses_total Diagnoses by outcome since start.\n"
	        "# TYPE exposure_diagnoses_total counter\n");
	put(&o, "exposure_diagnoses_total{status=\"created\"} %llu\n", atomic_load(&m->created));
	put(&o, "exposure_diagnoses_total{status=\"done\"} %llu\n", atomic_load(&m->done));
	put(&o, "exposure_diagnoses_total{status=\"interrupted\"} %llu\n",
	    atomic_load(&m->interrupted));
	put(&o, "exposure_diagnoses_total{status=\"deleted\"} %llu\n", atomic_load(&m->deleted));
	put(&o, "# HELP exposure_refusals_total POSTs refused, by reason.\n"
	        "# TYPE exposure_refusals_total counter\n");
	put(&o, "exposure_refusals_total{reason=\"policy\"} %llu\n",
	    atomic_load(&m->refused_policy));
	put(&o, "exposure_refusals_total{reason=\"rate\"} %llu\n", atomic_load(&m->refused_rate));
	put(&o, "exposure_refusals_total{reason=\"busy\"} %llu\n", atomic_load(&m->refused_busy));
	put(&o, "exposure_refusals_total{reason=\"csrf\"} %llu\n", atomic_load(&m->refused_csrf));
	put(&o,
	    "# HELP exposure_diagnoses_in_flight Diagnoses running on the engine now.\n"
	    "# TYPE exposure_diagnoses_in_flight gauge\nexposure_diagnoses_in_flight %zu\n",
	    inflight);
	put(&o,
	    "# HELP exposure_queue_length Diagnoses waiting to start.\n"
	    "# TYPE exposure_queue_length gauge\nexposure_queue_length %zu\n",
	    q);
	put(&o,
	    "# HELP exposure_diagnoses_cached Finished diagnoses held in memory.\n"
	    "# TYPE exposure_diagnoses_cached gauge\nexposure_diagnoses_cached %zu\n",
	    cached);
	put(&o, "# HELP exposure_probe_ports_total Probed ports by state.\n"
	        "# TYPE exposure_probe_ports_total counter\n");
	for (size_t i = 0; i < 5; i++)
		put(&o, "exposure_probe_ports_total{state=\"%s\"} %llu\n", states[i],
		    atomic_load(&m->ports_by_state[i]));
	put(&o, "# HELP exposure_http_responses_total HTTP responses by status code.\n"
	        "# TYPE exposure_http_responses_total counter\n");
	for (unsigned c = 100; c < 600; c++) {
		unsigned long long v = atomic_load(&m->http_by_code[c / 100][c % 100]);

		if (v)
			put(&o, "exposure_http_responses_total{code=\"%u\"} %llu\n", c, v);
	}
	put(&o, "# HELP exposure_diagnosis_seconds Time from POST to done.\n"
	        "# TYPE exposure_diagnosis_seconds histogram\n");
	for (size_t i = 0; i < WEB_LAT_BUCKETS; i++) {
		cum += atomic_load(&m->lat_buckets[i]);
		if (i < WEB_LAT_BUCKETS - 1)
			put(&o, "exposure_diagnosis_seconds_bucket{le=\"%g\"} %llu\n",
			    lat_bounds[i], cum);
		else
			put(&o, "exposure_diagnosis_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	}
	put(&o, "exposure_diagnosis_seconds_sum %.6f\n", (double)atomic_load(&m->lat_sum_us) / 1e6);
	put(&o, "exposure_diagnosis_seconds_count %llu\n", atomic_load(&m->lat_count));
	put(&o,
	    "# HELP exposure_purged_total Diagnoses deleted by the retention purge.\n"
	    "# TYPE exposure_purged_total counter\nexposure_purged_total %llu\n",
	    atomic_load(&m->purged));
	put(&o,
	    "# HELP exposure_store_queue_length Store writes waiting.\n"
	    "# TYPE exposure_store_queue_length gauge\nexposure_store_queue_length %zu\n",
	    ss.queue_len);
	put(&o,
	    "# HELP exposure_store_writes_failed_total Store writes that failed.\n"
	    "# TYPE exposure_store_writes_failed_total counter\n"
	    "exposure_store_writes_failed_total %llu\n",
	    (unsigned long long)(ss.failed + ss.rejected_full));
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
