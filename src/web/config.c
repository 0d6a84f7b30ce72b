/* SPDX-License-Identifier: MIT */
/*
 * The service's settings (web.h): defaults and the checks of the whole. The command line that
 * fills them is `exposure serve` (src/cli/cmd_serve.c).
 */
#include "web/web.h"
#include "core/decimal.h"
#include "core/err.h"
#include "prober/pool.h"
#include "web/hostcheck.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_LISTEN "127.0.0.1:8080"

void web_config_defaults(struct web_config *c)
{
	*c = (struct web_config){
	    .store_path = "./exposure.db",
	    .key_path = "./exposure.key",
	    .probe_source = "this server",
	    .max_inflight = 64,
	    .queue_max = 256,
	    .addr_per_hour = 30,
	    .addr_burst = 5,
	    .prefix_per_hour = 120,
	    .prefix_burst = 20,
	    .site_per_hour = 240,
	    .site_burst = 40,
	    .max_body = 1024,
	    .conn_memory = 16384,
	    .conn_timeout_s = 15,
	    .request_timeout_s = 10,
	    .ticket_ttl_s = TICKET_TTL_MS / 1000,
	    .conn_limit = 1024,
	    .per_ip_conn_limit = 16,
	    .per_48_conn_limit = 64,
	    .threads = 2,
	    .rtt = {.factor = 4, .margin_ms = 250, .floor_ms = 300, .ceiling_ms = 5000},
	    .retention_days = 30,
	    .purge_interval_s = 3600,
	    .done_cache = 4096,
	    .probers = pool_online_cpus(),
	    .prober_memory_mib = 256,
	};
}

int web_listen_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[ADDR_STRLEN + 2];
	const char *colon = strrchr(text, ':');
	struct addr a;
	uint32_t port;
	size_t n;

	if (!colon)
		return -ERR_SYNTAX;
	n = (size_t)(colon - text);
	if (n == 0 || n >= sizeof(host))
		return -ERR_SYNTAX;
	memcpy(host, text, n);
	host[n] = '\0';
	if (decimal_u32(colon + 1, 65535, &port) < 0 || addr_parse(host, &a) < 0)
		return -ERR_SYNTAX;
	*len = addr_to_sockaddr(&a, (uint16_t)port, ss);
	return 0;
}

int web_config_check(struct web_config *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->n_listen; i++) {
		struct sockaddr_storage ss;
		socklen_t len;

		if (web_listen_parse(c->listen[i], &ss, &len) < 0) {
			snprintf(err, errlen, "bad --listen %s (ADDR:PORT)", c->listen[i]);
			return -ERR_SYNTAX;
		}
	}
	if (hostcheck_init(&(struct hostcheck){0}, c->origin) < 0) {
		snprintf(err, errlen, "bad --origin %s (http(s)://HOST[:PORT])", c->origin);
		return -ERR_SYNTAX;
	}
	for (int f = 0; f < 2; f++) {
		const char *name = f ? c->v6_host : c->v4_host;

		if (name == NULL)
			continue;
		if (hostcheck_add_name(&(struct hostcheck){0}, name) < 0) {
			snprintf(err, errlen, "bad --v%d-host %s (HOST[:PORT])", f ? 6 : 4, name);
			return -ERR_SYNTAX;
		}
		if (c->origin == NULL) {
			/* The ticket answers are for the main origin only: it must be known. */
			snprintf(err, errlen, "--v%d-host needs --origin", f ? 6 : 4);
			return -ERR_SYNTAX;
		}
	}
	if (c->ticket_ttl_s < 1 || c->ticket_ttl_s > TICKET_TTL_MS / 1000) {
		snprintf(err, errlen, "--ticket-ttl wants a number in 1..%d", TICKET_TTL_MS / 1000);
		return -ERR_RANGE;
	}
	if (c->rtt.floor_ms > c->rtt.ceiling_ms) {
		snprintf(err, errlen, "--rtt-floor-ms is above --rtt-ceiling-ms");
		return -ERR_RANGE;
	}
	/* The probers share the engine's sockets (pool.h): each needs one at least. */
	if (c->engine_inflight && c->probers > c->engine_inflight) {
		snprintf(err, errlen, "--probers %u is more than --engine-sockets %u", c->probers,
		         c->engine_inflight);
		return -ERR_RANGE;
	}
	if (c->n_listen == 0)
		snprintf(c->listen[c->n_listen++], sizeof(c->listen[0]), "%s", DEFAULT_LISTEN);
	return 0;
}
