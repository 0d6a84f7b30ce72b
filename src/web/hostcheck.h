/* SPDX-License-Identifier: MIT */
/*
 * Which Host names the service answers (docs/api.md, "Host names"). A DNS-rebinding page reaches
 * a local service under the attacker's own name, so its requests carry that name in Host and,
 * being same-origin to the page, an Origin that matches it: the Origin check alone cannot tell.
 * The service therefore answers only the names it knows:
 *  - the address the connection arrived at, as an IP literal with its port ("127.0.0.1:8080",
 *    "[::1]:8080"): one of the --listen addresses, or for a wildcard listener the local address
 *    the client chose; a rebinding page never has an IP literal as its name;
 *  - "localhost" with that port when that address is loopback;
 *  - the host (and port) of --origin, the name a reverse proxy's visitors use;
 *  - the IPv4-only and IPv6-only names (--v4-host, --v6-host) where the page takes its address
 *    tickets, with the port of --origin's scheme unless they name one.
 * The port may be left out only where it is the scheme's default (80; 443 for an https origin).
 * Pure: no I/O, no locks.
 */
#ifndef EXPOSURE_WEB_HOSTCHECK_H
#define EXPOSURE_WEB_HOSTCHECK_H

#include "core/addr.h"

#include <stdbool.h>
#include <stdint.h>

#define HOSTCHECK_NAME_MAX  253 /* a DNS name */
#define HOSTCHECK_NAMES_MAX 2   /* names besides the origin's */

struct hostcheck {
	char origin_host[HOSTCHECK_NAME_MAX + 1]; /* lower case; "" without --origin */
	uint16_t origin_port;                     /* explicit, or the scheme's default */
	uint16_t origin_default;                  /* the scheme's default: 80 or 443 */
	struct {
		char host[HOSTCHECK_NAME_MAX + 1];
		uint16_t port;
	} names[HOSTCHECK_NAMES_MAX]; /* --v4-host, --v6-host */
	size_t n_names;
};

/*
 * origin: the --origin URL ("https://exposure.example", "http://[2001:db8::1]:8080"), or NULL.
 * Returns 0, or -ERR_SYNTAX if it is not scheme://host[:port] with scheme http or https (one
 * trailing '/' is allowed).
 */
int hostcheck_init(struct hostcheck *hc, const char *origin);

/*
 * Answer name too ("v6.example.net" or "v6.example.net:8443"; without a port, the default port
 * of --origin's scheme, else 80). After hostcheck_init(). Returns 0, -ERR_SYNTAX if it is not
 * host[:port], or -ERR_RANGE past HOSTCHECK_NAMES_MAX.
 */
int hostcheck_add_name(struct hostcheck *hc, const char *name);

/*
 * May a request with this Host header (NULL when absent) be answered on a connection that
 * arrived at local:local_port? An absent, empty or malformed Host is refused.
 */
bool hostcheck_allows(const struct hostcheck *hc, const char *host, const struct addr *local,
                      uint16_t local_port);

#endif
