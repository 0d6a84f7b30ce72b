/* SPDX-License-Identifier: MIT */
/* The service's life: start-up, signals, shutdown (serve.h). */
#include "web/serve.h"
#include "web/web.h"
#include "web/httpd.h"
#include "web/admin.h"
#include "web/pending.h"
#include "core/err.h"

#include <errno.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void free_jobs(struct web *w)
{
	for (size_t b = 0; b < WEB_HBUCKETS; b++) {
		while (w->table[b]) {
			struct job *j = w->table[b];

			w->table[b] = j->hnext;
			j->hnext = NULL;
			job_unref_locked(w, j);
		}
		while (w->active[b]) {
			struct job *j = w->active[b];

			w->active[b] = j->anext;
			job_unref_locked(w, j);
		}
	}
}

/*
 * Nodes sharing one database must accept each other's page tokens and tickets (a page loaded
 * from one node posts to another behind the load balancer): there the CSRF and ticket keys
 * derive from the key file every node shares (store_open checked its fingerprint). One node
 * on SQLite keeps fresh random keys at each start, as before.
 */
static void shared_keys(struct web *w)
{
	if (strcmp(store_backend(w->store), "postgresql") != 0)
		return;
	crypto_kdf_derive_from_key(w->csrf.key, sizeof(w->csrf.key), 1, "exp-csrf", w->key.bytes);
	crypto_kdf_derive_from_key(w->tickets.key, sizeof(w->tickets.key), 2, "exp-tick",
	                           w->key.bytes);
	crypto_kdf_derive_from_key(w->resume_key, sizeof(w->resume_key), 3, "exp-resm",
	                           w->key.bytes);
	w->resumable = true;
}

int serve_run(const struct web_config *cfg)
{
	struct web *w = calloc(1, sizeof(*w));
	char errbuf[256] = "", shown[512];
	sigset_t set;
	int r, sig, status = 2;

	if (!w) {
		fputs("exposure serve: out of memory\n", stderr);
		return 2;
	}
	w->cfg = *cfg;
	/* Every diagnosis runs this set: the page's table and the API's catalogue list it. */
	if (w->cfg.checks == 0)
		w->cfg.checks = catalogue_profile_2017();
	w->n_checks = checks_count(w->cfg.checks);
	pthread_mutex_init(&w->lock, NULL);
	pending_init(w);

	/* Signals are taken synchronously by this thread; every other thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* web_config_check accepted --origin already. */
	if (hostcheck_init(&w->hosts, w->cfg.origin) < 0) {
		fprintf(stderr, "exposure serve: bad --origin %s\n", w->cfg.origin);
		goto out_free;
	}
	/* web_config_check accepted the family host names too. */
	if ((w->cfg.v4_host && hostcheck_add_name(&w->hosts, w->cfg.v4_host) < 0) ||
	    (w->cfg.v6_host && hostcheck_add_name(&w->hosts, w->cfg.v6_host) < 0) ||
	    ticket_key_init(&w->tickets) < 0) {
		fprintf(stderr, "exposure serve: bad --v4-host or --v6-host\n");
		goto out_free;
	}
	if ((r = csrf_init(&w->csrf, 24 * 3600 * 1000LL)) < 0) {
		fprintf(stderr, "exposure serve: libsodium does not start: %s\n", err_str(r));
		goto out_free;
	}
	if (admin_init(w) < 0)
		goto out_free;
	r = store_key_load(w->cfg.key_path, &w->key);
	if (r < 0) {
		fprintf(stderr, "exposure serve: key file %s: %s\n", w->cfg.key_path,
		        r == -EPERM ? "must be 0600 and ours" : err_str(r));
		goto out_free;
	}
	r = store_open(
	    w->cfg.store_path,
	    &(struct store_opts){.errbuf = errbuf, .errlen = sizeof(errbuf), .key = &w->key},
	    &w->store);
	if (r < 0) {
		fprintf(stderr, "exposure serve: store %s: %s\n",
		        store_display(w->cfg.store_path, shown, sizeof(shown)),
		        errbuf[0] ? errbuf : err_str(r));
		goto out_free;
	}
	if (r > 0)
		fprintf(stderr, "exposure serve: %d unfinished diagnoses marked interrupted\n", r);
	shared_keys(w);
	/* Another node's write wakes the streams that follow its diagnoses (they poll anyway). */
	store_on_change(w->store, sse_store_changed, w);
	r = rate_limit_init(&w->rl, 65536,
	                    (const struct rate_spec[RATE_LEVELS]){
	                        [RATE_ADDR] = {w->cfg.addr_per_hour, w->cfg.addr_burst},
	                        [RATE_PREFIX] = {w->cfg.prefix_per_hour, w->cfg.prefix_burst},
	                        [RATE_SITE] = {w->cfg.site_per_hour, w->cfg.site_burst},
	                    });
	if (r < 0) {
		fprintf(stderr, "exposure serve: rate limits: %s\n", err_str(r));
		goto out_store;
	}
	r = runner_start(w);
	if (r < 0) {
		fprintf(stderr, "exposure serve: probe engine: %s\n", err_str(r));
		goto out_rl;
	}
	/* The diagnoses of nodes that die are run again here (shared store; resume.h). */
	if (w->resumable)
		store_on_takeover(w->store, runner_takeover, w);
	if (httpd_start(w) < 0) {
		httpd_stop(w);
		store_on_takeover(w->store, NULL, NULL);
		runner_stop(w, 10000);
		goto out_rl;
	}
	fprintf(stderr, "exposure serve: %s mode, store %s\n",
	        w->cfg.rules.public_mode ? "public" : "local",
	        store_display(w->cfg.store_path, shown, sizeof(shown)));
	do {
		r = sigwait(&set, &sig);
	} while (r == EINTR);
	fprintf(stderr, "exposure serve: stopping\n");
	httpd_stop(w);
	store_on_takeover(w->store, NULL, NULL);
	if (!runner_stop(w, 15000)) {
		/* Probes outlived the wait: keep what is saved, leave the rest to the next start.
		 */
		store_flush(w->store);
		_exit(0);
	}
	status = 0;
out_rl:
	rate_limit_free(&w->rl);
out_store:
	store_close(w->store);
out_free:
	free_jobs(w);
	admin_free(w);
	pthread_mutex_destroy(&w->lock);
	pending_destroy(w);
	sodium_memzero(&w->key, sizeof(w->key));
	sodium_memzero(w->resume_key, sizeof(w->resume_key));
	free(w);
	return status;
}
