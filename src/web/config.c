/* SPDX-License-Identifier: MIT */
/* `exposure serve` options (web.h). Every limit is a flag; --help documents each. */
#include "web/web.h"
#include "core/err.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char usage[] =
    "Usage: exposure serve [OPTION]...\n"
    "The web self-diagnosis service: a visitor opens the page, agrees, and the service\n"
    "probes the visitor's own address (the TCP peer of the request; never an address the\n"
    "client names). See docs/api.md.\n"
    "\n"
    "Where:\n"
    "  --listen ADDR:PORT        listen here (repeatable, up to 4; default 127.0.0.1:8080;\n"
    "                            IPv6 as [::1]:8080; port 0 picks a free one)\n"
    "  --store PATH              SQLite result store (default ./exposure.db)\n"
    "  --key PATH                requester-hash key, created 0600 at first start\n"
    "                            (default ./exposure.key)\n"
    "  --probe-source-label TEXT the address the probes come from, shown on the page\n"
    "                            (default: \"this server\")\n"
    "Whom:\n"
    "  --public                  diagnose any global unicast requester; loopback, private,\n"
    "                            CGNAT, link-local and special addresses are refused with a\n"
    "                            reason (default: local mode, loopback requesters only)\n"
    "  --allow CIDR              also diagnose requesters inside CIDR (repeatable; labs)\n"
    "  --trusted-proxy CIDR      a reverse proxy whose forwarding header is believed\n"
    "                            (repeatable); read from the right, skipping trusted proxies\n"
    "  --proxy-header NAME       x-forwarded-for (default) or forwarded (RFC 7239)\n"
    "  --origin URL              the site's origin for the same-origin check of POSTs\n"
    "                            (default: http(s):// plus the request's Host)\n"
    "  --secure-cookie           mark the CSRF cookie Secure (behind HTTPS)\n"
    "  --port CHECK=PORT[-LAST]  move a check to other ports (labs and tests)\n"
    "Abuse limits:\n"
    "  --max-inflight N          diagnoses running at once (default 64)\n"
    "  --queue-max N             diagnoses waiting; beyond it 429 + Retry-After (default 256)\n"
    "  --addr-rate N             diagnoses per hour per requester address (default 30; 0 off)\n"
    "  --addr-burst N            of which at once (default 5)\n"
    "  --prefix-rate N           per hour per /24 (IPv4) or /64 (IPv6) (default 120; 0 off)\n"
    "  --prefix-burst N          of which at once (default 20)\n"
    "  (one diagnosis at a time per requester always holds)\n"
    "  --max-body BYTES          request body limit (default 1024)\n"
    "  --conn-memory BYTES       per-connection memory, bounds headers (default 16384)\n"
    "  --conn-timeout SEC        idle connection timeout (default 15)\n"
    "  --conn-limit N            connections at once (default 1024)\n"
    "  --per-ip-conn-limit N     connections at once per peer address (default 16)\n"
    "  --threads N               HTTP threads (default 2)\n"
    "Probe deadlines (from the requester's HTTP round-trip time, TCP_INFO):\n"
    "  --rtt-factor N            timeout = N * rtt + margin (default 4)\n"
    "  --rtt-margin-ms MS        (default 250)\n"
    "  --rtt-floor-ms MS         lower bound (default 300)\n"
    "  --rtt-ceiling-ms MS       upper bound (default 5000)\n"
    "  --engine-sockets N        probe sockets open at once (default 512)\n"
    "Retention:\n"
    "  --retention-days N        delete results older than N days (default 30)\n"
    "  --purge-interval SEC      how often to purge (default 3600)\n"
    "  --done-cache N            finished diagnoses kept in memory (default 4096)\n"
    "Operator dashboard (/admin/stats, docs/api.md):\n"
    "  --admin-token-file PATH   the operator token (16..512 printable characters; the file\n"
    "                            must not be group or world accessible: chmod 600). Without\n"
    "                            it, $EXPOSURE_ADMIN_TOKEN; without both the dashboard is off\n"
    "  --labels FILE             prefix,label CSV for the breakdown by network (as\n"
    "                            exposure report --labels), read once at start\n"
    "  -h, --help                this text\n";

enum {
	O_LISTEN = 256,
	O_STORE,
	O_KEY,
	O_LABEL,
	O_PUBLIC,
	O_ALLOW,
	O_TRUSTED,
	O_PROXY_HDR,
	O_ORIGIN,
	O_SECURE,
	O_PORT,
	O_INFLIGHT,
	O_QUEUE,
	O_ARATE,
	O_ABURST,
	O_PRATE,
	O_PBURST,
	O_BODY,
	O_CMEM,
	O_CTIME,
	O_CLIMIT,
	O_IPLIMIT,
	O_THREADS,
	O_RFACTOR,
	O_RMARGIN,
	O_RFLOOR,
	O_RCEIL,
	O_ESOCK,
	O_RETENTION,
	O_PURGE,
	O_DCACHE,
	O_ADMIN_TOKEN,
	O_LABELS,
};

static const struct option opts[] = {
    {"listen", required_argument, NULL, O_LISTEN},
    {"store", required_argument, NULL, O_STORE},
    {"key", required_argument, NULL, O_KEY},
    {"probe-source-label", required_argument, NULL, O_LABEL},
    {"public", no_argument, NULL, O_PUBLIC},
    {"allow", required_argument, NULL, O_ALLOW},
    {"trusted-proxy", required_argument, NULL, O_TRUSTED},
    {"proxy-header", required_argument, NULL, O_PROXY_HDR},
    {"origin", required_argument, NULL, O_ORIGIN},
    {"secure-cookie", no_argument, NULL, O_SECURE},
    {"port", required_argument, NULL, O_PORT},
    {"max-inflight", required_argument, NULL, O_INFLIGHT},
    {"queue-max", required_argument, NULL, O_QUEUE},
    {"addr-rate", required_argument, NULL, O_ARATE},
    {"addr-burst", required_argument, NULL, O_ABURST},
    {"prefix-rate", required_argument, NULL, O_PRATE},
    {"prefix-burst", required_argument, NULL, O_PBURST},
    {"max-body", required_argument, NULL, O_BODY},
    {"conn-memory", required_argument, NULL, O_CMEM},
    {"conn-timeout", required_argument, NULL, O_CTIME},
    {"conn-limit", required_argument, NULL, O_CLIMIT},
    {"per-ip-conn-limit", required_argument, NULL, O_IPLIMIT},
    {"threads", required_argument, NULL, O_THREADS},
    {"rtt-factor", required_argument, NULL, O_RFACTOR},
    {"rtt-margin-ms", required_argument, NULL, O_RMARGIN},
    {"rtt-floor-ms", required_argument, NULL, O_RFLOOR},
    {"rtt-ceiling-ms", required_argument, NULL, O_RCEIL},
    {"engine-sockets", required_argument, NULL, O_ESOCK},
    {"retention-days", required_argument, NULL, O_RETENTION},
    {"purge-interval", required_argument, NULL, O_PURGE},
    {"done-cache", required_argument, NULL, O_DCACHE},
    {"admin-token-file", required_argument, NULL, O_ADMIN_TOKEN},
    {"labels", required_argument, NULL, O_LABELS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int number(const char *name, const char *text, unsigned long min, unsigned long max,
                  unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
		fprintf(stderr, "exposure serve: --%s wants a number in %lu..%lu, not \"%s\"\n",
		        name, min, max, text);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int cidr_arg(const char *name, const char *text, struct cidr *out)
{
	if (cidr_parse(text, out) < 0) {
		fprintf(stderr, "exposure serve: --%s wants ADDR/PREFIX, not \"%s\"\n", name, text);
		return -1;
	}
	return 0;
}

int web_config_parse(struct web_config *c, int argc, char **argv)
{
	unsigned v;
	int ch;

	*c = (struct web_config){
	    .n_listen = 0,
	    .store_path = "./exposure.db",
	    .key_path = "./exposure.key",
	    .probe_source = "this server",
	    .max_inflight = 64,
	    .queue_max = 256,
	    .addr_per_hour = 30,
	    .addr_burst = 5,
	    .prefix_per_hour = 120,
	    .prefix_burst = 20,
	    .max_body = 1024,
	    .conn_memory = 16384,
	    .conn_timeout_s = 15,
	    .conn_limit = 1024,
	    .per_ip_conn_limit = 16,
	    .threads = 2,
	    .rtt_factor = 4,
	    .rtt_margin_ms = 250,
	    .rtt_floor_ms = 300,
	    .rtt_ceiling_ms = 5000,
	    .retention_days = 30,
	    .purge_interval_s = 3600,
	    .done_cache = 4096,
	};
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *name = NULL;

		for (const struct option *o = opts; o->name; o++)
			if (o->val == ch)
				name = o->name;
		switch (ch) {
		case 'h':
			fputs(usage, stdout);
			return 1;
		case O_LISTEN:
			if (c->n_listen >= WEB_MAX_LISTEN ||
			    strlen(optarg) >= sizeof(c->listen[0])) {
				fprintf(stderr, "exposure serve: too many or too long --listen\n");
				return -1;
			}
			snprintf(c->listen[c->n_listen++], sizeof(c->listen[0]), "%s", optarg);
			break;
		case O_STORE:
			c->store_path = optarg;
			break;
		case O_KEY:
			c->key_path = optarg;
			break;
		case O_LABEL:
			c->probe_source = optarg;
			break;
		case O_PUBLIC:
			c->rules.public_mode = true;
			break;
		case O_ALLOW:
			if (c->rules.n_allow >= POLICY_MAX_ALLOW - 1) {
				fprintf(stderr, "exposure serve: too many --allow\n");
				return -1;
			}
			if (cidr_arg(name, optarg, &c->rules.allow[c->rules.n_allow]) < 0)
				return -1;
			c->rules.n_allow++;
			break;
		case O_TRUSTED:
			if (c->trust.n >= WEB_MAX_TRUSTED) {
				fprintf(stderr, "exposure serve: too many --trusted-proxy\n");
				return -1;
			}
			if (cidr_arg(name, optarg, &c->trust.proxies[c->trust.n]) < 0)
				return -1;
			c->trust.n++;
			break;
		case O_PROXY_HDR:
			if (strcasecmp(optarg, "x-forwarded-for") == 0) {
				c->trust.header = PROXY_HDR_XFF;
			} else if (strcasecmp(optarg, "forwarded") == 0) {
				c->trust.header = PROXY_HDR_FORWARDED;
			} else {
				fprintf(stderr, "exposure serve: --proxy-header is x-forwarded-for "
				                "or forwarded\n");
				return -1;
			}
			break;
		case O_ORIGIN:
			c->origin = optarg;
			break;
		case O_SECURE:
			c->secure_cookie = true;
			break;
		case O_PORT: {
			char err[160];

			if (port_override_parse(&c->ports, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "exposure serve: --port %s: %s\n", optarg, err);
				return -1;
			}
			c->ports_set = true;
			break;
		}
		case O_INFLIGHT:
			if (number(name, optarg, 1, 100000, &c->max_inflight) < 0)
				return -1;
			break;
		case O_QUEUE:
			if (number(name, optarg, 0, 1000000, &c->queue_max) < 0)
				return -1;
			break;
		case O_ARATE:
		case O_ABURST:
		case O_PRATE:
		case O_PBURST:
			if (number(name, optarg, 0, 100000000, &v) < 0)
				return -1;
			if (ch == O_ARATE)
				c->addr_per_hour = v;
			else if (ch == O_ABURST)
				c->addr_burst = v;
			else if (ch == O_PRATE)
				c->prefix_per_hour = v;
			else
				c->prefix_burst = v;
			break;
		case O_BODY:
			if (number(name, optarg, 0, 65536, &c->max_body) < 0)
				return -1;
			break;
		case O_CMEM:
			if (number(name, optarg, 4096, 1 << 20, &c->conn_memory) < 0)
				return -1;
			break;
		case O_CTIME:
			if (number(name, optarg, 1, 3600, &c->conn_timeout_s) < 0)
				return -1;
			break;
		case O_CLIMIT:
			if (number(name, optarg, 1, 1000000, &c->conn_limit) < 0)
				return -1;
			break;
		case O_IPLIMIT:
			if (number(name, optarg, 0, 1000000, &c->per_ip_conn_limit) < 0)
				return -1;
			break;
		case O_THREADS:
			if (number(name, optarg, 1, 64, &c->threads) < 0)
				return -1;
			break;
		case O_RFACTOR:
			if (number(name, optarg, 1, 100, &c->rtt_factor) < 0)
				return -1;
			break;
		case O_RMARGIN:
			if (number(name, optarg, 0, 60000, &c->rtt_margin_ms) < 0)
				return -1;
			break;
		case O_RFLOOR:
			if (number(name, optarg, 1, 60000, &c->rtt_floor_ms) < 0)
				return -1;
			break;
		case O_RCEIL:
			if (number(name, optarg, 1, 60000, &c->rtt_ceiling_ms) < 0)
				return -1;
			break;
		case O_ESOCK:
			if (number(name, optarg, 1, 1000000, &c->engine_inflight) < 0)
				return -1;
			break;
		case O_RETENTION:
			if (number(name, optarg, 0, 36500, &c->retention_days) < 0)
				return -1;
			break;
		case O_PURGE:
			if (number(name, optarg, 1, 86400 * 7, &c->purge_interval_s) < 0)
				return -1;
			break;
		case O_DCACHE:
			if (number(name, optarg, 0, 10000000, &c->done_cache) < 0)
				return -1;
			break;
		case O_ADMIN_TOKEN:
			c->admin_token_file = optarg;
			break;
		case O_LABELS:
			c->labels_path = optarg;
			break;
		default:
			fputs("Try 'exposure serve --help'.\n", stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "exposure serve: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (c->rtt_floor_ms > c->rtt_ceiling_ms) {
		fprintf(stderr, "exposure serve: --rtt-floor-ms is above --rtt-ceiling-ms\n");
		return -1;
	}
	if (c->n_listen == 0)
		snprintf(c->listen[c->n_listen++], sizeof(c->listen[0]), "127.0.0.1:8080");
	return 0;
}
