/* SPDX-License-Identifier: MIT */
/*
 * The HTTP side (httpd.h, docs/api.md): libmicrohttpd daemons with an internal epoll thread pool,
 * the request body within its limit, routing, the response helpers with the security headers,
 * the same-origin check. The handlers live in api.c, sse.c, page.c, metrics.c and admin.c.
 */
#include "web/httpd.h"
#include "web/admin.h"
#include "web/pending.h"
#include "core/decimal.h"
#include "core/err.h"
#include "core/sbuf.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

/* The page's Content-Security-Policy; connect-src gains the family hosts (csp_build). */
#define CSP_HEAD "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
#define CSP_TAIL "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/*
 * A request with more query arguments is answered 414 before libmicrohttpd parses them: 0.9.75
 * keeps every argument in the connection's memory pool and, when the pool runs out there, queues
 * its error and then goes on waiting for headers, so the client got nothing until the idle
 * timeout (300 short arguments in 16 KiB, 60 in 4 KiB). The API takes one or two.
 */
#define HTTPD_MAX_ARGS 16
/* How long a stopping service waits for the commits of creates it has not answered yet. */
#define HTTPD_STOP_CREATE_WAIT_MS 5000

/* One request: its body, gathered within --max-body. */
struct req {
	char *body;
	size_t len;
	bool begun; /* the handler's first call is done */
	bool too_big;
	bool too_many_args;
	struct pending *create; /* a POST /api/diagnoses waiting for its commit (pending.h) */
};

/* ------------------------------------------------------------------------------------------ */
/* Connections (connlimit.h): admitted per network, shed when late or for room.               */

static struct conn_slot *conn_slot_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/*
 * The request arrived whole (the handler's last call, after the body): no deadline until its
 * response ends. An answer queued earlier (421, 413, 414) leaves the deadline running: the
 * library may still be reading the body.
 */
static void conn_busy(struct web *w, struct MHD_Connection *c)
{
	struct conn_slot *s = conn_slot_of(c);

	if (s)
		connlimit_busy(&w->conns, s);
}

/*
 * libmicrohttpd owns the socket; shutdown(2) makes its poll see the end and close it. The table
 * calls this under its lock, and a slot is freed (on_connection CLOSED) before the library
 * closes the descriptor, so fd is still this connection's.
 */
static void shed_fd(int fd, void *arg)
{
	(void)arg;
	shutdown(fd, SHUT_RDWR);
}

/* Refuse a network at its limit before the library sets the connection up. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct web *w = cls;
	struct addr a;

	(void)len;
	if (addr_from_sockaddr(sa, &a, NULL) < 0)
		return MHD_NO;
	return connlimit_may_accept(&w->conns, &a) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct web *w = cls;
	const union MHD_ConnectionInfo *fd, *peer;
	struct addr a;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (*socket_context)
			connlimit_close(&w->conns, *socket_context);
		*socket_context = NULL;
		return;
	}
	fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	peer = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!fd)
		return;
	if (!peer || !peer->client_addr || addr_from_sockaddr(peer->client_addr, &a, NULL) < 0 ||
	    !(*socket_context = connlimit_open(&w->conns, &a, fd->connect_fd, web_mono_ms())))
		shutdown(fd->connect_fd, SHUT_RDWR);
}

/* The reaper: sheds every connection whose request is late, at its deadline. */
static void *reaper_main(void *arg)
{
	struct web *w = arg;
	struct timespec ts;

	pthread_mutex_lock(&w->reaper_lock);
	while (!w->reaper_stop) {
		int64_t wait = connlimit_reap(&w->conns, web_mono_ms());

		if (wait < 0)
			break;
		if (wait < 10)
			wait = 10; /* a deadline due now is shed on the next round */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait / 1000;
		ts.tv_nsec += (long)(wait % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->reaper_cond, &w->reaper_lock, &ts);
	}
	pthread_mutex_unlock(&w->reaper_lock);
	return NULL;
}

/*
 * Each connection holds a descriptor: lift the soft limit towards the hard one so that the
 * table, not EMFILE, decides who is refused.
 */
static void raise_fd_limit(size_t conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)conns + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static int conns_start(struct web *w)
{
	struct connlimit_config cc = {
	    .limit = w->cfg.conn_limit,
	    .per_net = w->cfg.per_ip_conn_limit,
	    .per_48 = w->cfg.per_48_conn_limit,
	    .request_ms = w->cfg.request_timeout_s * 1000u,
	    .shed = shed_fd,
	};
	pthread_condattr_t ca;
	int r;

	if ((r = connlimit_init(&w->conns, &cc)) < 0) {
		fprintf(stderr, "exposure serve: connection table: %s\n", err_str(r));
		return r;
	}
	w->conns_on = true;
	raise_fd_limit(connlimit_capacity(cc.limit));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->reaper_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&w->reaper_lock, NULL);
	w->reaper_stop = false;
	if ((r = pthread_create(&w->reaper, NULL, reaper_main, w)) != 0) {
		fprintf(stderr, "exposure serve: connection reaper: %s\n", strerror(r));
		return -r;
	}
	w->reaper_on = true;
	return 0;
}

/* After the daemons stopped: every connection is closed by then. */
static void conns_stop(struct web *w)
{
	if (w->reaper_on) {
		pthread_mutex_lock(&w->reaper_lock);
		w->reaper_stop = true;
		pthread_cond_signal(&w->reaper_cond);
		pthread_mutex_unlock(&w->reaper_lock);
		pthread_join(w->reaper, NULL);
		w->reaper_on = false;
	}
	if (w->conns_on) {
		pthread_cond_destroy(&w->reaper_cond);
		pthread_mutex_destroy(&w->reaper_lock);
		connlimit_free(&w->conns);
		w->conns_on = false;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Responses.                                                                                  */

/*
 * The policy, built once before the daemons start: the page may fetch only from its own origin
 * and from the two family hosts it asks for address tickets (--v4-host, --v6-host), with the
 * scheme whoami gives them (api.c), or the browser would block the ticket requests.
 */
static int csp_build(struct web *w)
{
	const char *scheme =
	    w->cfg.origin && strncmp(w->cfg.origin, "https://", 8) == 0 ? "https" : "http";
	const char *hosts[2] = {w->cfg.v4_host, w->cfg.v6_host};
	struct sbuf b;

	sbuf_init(&b, sizeof(w->csp) - 1);
	sbuf_add(&b, CSP_HEAD "connect-src 'self'");
	for (size_t i = 0; i < 2; i++)
		if (hosts[i])
			sbuf_addf(&b, " %s://%s", scheme, hosts[i]);
	sbuf_add(&b, CSP_TAIL);
	if (b.err) {
		int r = b.err;

		sbuf_free(&b);
		return r;
	}
	memcpy(w->csp, sbuf_str(&b), b.len + 1);
	sbuf_free(&b);
	return 0;
}

static void security_headers(struct web *w, struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", w->csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Permissions-Policy", "interest-cohort=()");
}

enum MHD_Result httpd_queue(struct web *w, struct MHD_Connection *c, unsigned status,
                            struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	security_headers(w, r);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	metrics_count_http(w, status);
	return ret;
}

struct MHD_Response *httpd_text(const char *type, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

	if (!r) {
		free(body);
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", type);
	return r;
}

static struct MHD_Response *json_response(char *body, size_t len)
{
	struct MHD_Response *r = httpd_text("application/json; charset=utf-8", body, len);

	if (r)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	return r;
}

enum MHD_Result httpd_json_text(struct web *w, struct MHD_Connection *c, unsigned status,
                                char *body, size_t len)
{
	return httpd_queue(w, c, status, json_response(body, len));
}

enum MHD_Result httpd_json(struct web *w, struct MHD_Connection *c, unsigned status, json_t *o, ...)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	struct MHD_Response *r;
	const char *n;
	va_list ap;

	json_decref(o);
	if (!s)
		return MHD_NO;
	r = json_response(s, strlen(s));
	if (!r)
		return MHD_NO;
	va_start(ap, o);
	while ((n = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		MHD_add_response_header(r, n, v);
	}
	va_end(ap);
	return httpd_queue(w, c, status, r);
}

enum MHD_Result httpd_error(struct web *w, struct MHD_Connection *c, unsigned status,
                            const char *reason, const char *message)
{
	return httpd_json(w, c, status,
	                  json_pack("{s:s, s:s}", "reason", reason, "message", message), NULL);
}

static enum MHD_Result method_not_allowed(struct web *w, struct MHD_Connection *c,
                                          const char *allow)
{
	return httpd_json(
	    w, c, 405,
	    json_pack("{s:s, s:s}", "reason", "method", "message", "Method not allowed."), "Allow",
	    allow, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Who may ask.                                                                                */

bool httpd_same_origin(struct web *w, struct MHD_Connection *c)
{
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");

	if (site && strcmp(site, "same-origin") != 0)
		return false;
	if (!origin)
		return true; /* not a browser, or an old one: the CSRF token still applies */
	if (w->cfg.origin)
		return strcmp(origin, w->cfg.origin) == 0;
	if (!host)
		return false;
	if (strncmp(origin, "http://", 7) == 0)
		return strcmp(origin + 7, host) == 0;
	if (strncmp(origin, "https://", 8) == 0)
		return strcmp(origin + 8, host) == 0;
	return false;
}

/*
 * Is the Host one this service answers (hostcheck.h)? Checked first on every request, so that a
 * DNS-rebinding page gets nothing, not even a CSRF token. GET /healthz is exempt: a load
 * balancer's health check may name the backend any way it likes, and the answer ("ok" and the
 * store's kind) tells a page nothing.
 */
static bool host_known(struct web *w, struct MHD_Connection *c, const char *url, const char *method)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct addr local;
	uint16_t port;

	if (strcmp(url, "/healthz") == 0 &&
	    (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
		return true;
	if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&ss, &len) != 0 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, &local, &port) != 0)
		return hostcheck_allows(&w->hosts, host, NULL, 0);
	return hostcheck_allows(&w->hosts, host, &local, port);
}

enum lang httpd_lang(struct MHD_Connection *c)
{
	return request_lang(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language"));
}

/* ------------------------------------------------------------------------------------------ */
/* Routing.                                                                                    */

/* "/api/diagnoses/ID", ".../ID/events" or ".../ID/connection": copy ID, set *events or
 * *connection. */
static bool diag_path(const char *url, char id[STORE_ID_LEN + 1], bool *events, bool *connection)
{
	const char *p = url + strlen("/api/diagnoses/");
	size_t n = strcspn(p, "/");

	if (n != STORE_ID_LEN)
		return false;
	memcpy(id, p, n);
	id[n] = '\0';
	if (!store_id_valid(id))
		return false;
	if (p[n] == '\0') {
		*events = false;
		return true;
	}
	if (strcmp(p + n, "/events") == 0) {
		*events = true;
		return true;
	}
	if (strcmp(p + n, "/connection") == 0) {
		*connection = true;
		return true;
	}
	return false;
}

static enum MHD_Result route_diagnosis(struct web *w, struct MHD_Connection *c, const char *url,
                                       bool get, const char *method, struct req *rq)
{
	char id[STORE_ID_LEN + 1];
	bool events = false, connection = false;

	if (!diag_path(url, id, &events, &connection))
		return httpd_error(w, c, 404, "not-found", "No such diagnosis.");
	if (connection)
		return strcmp(method, "PUT") == 0 ? api_connection(w, c, id, rq->body, rq->len)
		                                  : method_not_allowed(w, c, "PUT");
	if (events)
		return get ? sse_events(w, c, id) : method_not_allowed(w, c, "GET");
	if (get)
		return api_get(w, c, id);
	if (strcmp(method, "DELETE") == 0)
		return api_delete(w, c, id);
	return method_not_allowed(w, c, "GET, DELETE");
}

static enum MHD_Result route(struct web *w, struct MHD_Connection *c, const char *url,
                             const char *method, struct req *rq)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (strcmp(url, "/api/diagnoses") == 0) {
		if (strcmp(method, "POST") != 0)
			return method_not_allowed(w, c, "POST");
		return api_create(w, c, rq->body, rq->len, &rq->create);
	}
	if (strncmp(url, "/api/diagnoses/", 15) == 0)
		return route_diagnosis(w, c, url, get, method, rq);
	if (strcmp(url, "/admin") == 0 || strncmp(url, "/admin/", 7) == 0)
		return admin_route(w, c, url, method, rq->body, rq->len);
	if (!get)
		return method_not_allowed(w, c, "GET");
	if (strcmp(url, "/api/whoami") == 0)
		return api_whoami(w, c);
	if (strcmp(url, "/api/advice") == 0)
		return api_advice(w, c);
	if (strcmp(url, "/api/ticket") == 0)
		return api_ticket(w, c);
	if (strcmp(url, "/healthz") == 0)
		return health_respond(w, c);
	if (strcmp(url, "/metrics") == 0)
		return metrics_respond(w, c);
	if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
		return page_index(w, c);
	if (strncmp(url, "/d/", 3) == 0 && strlen(url + 3) == STORE_ID_LEN &&
	    store_id_valid(url + 3))
		return page_index(w, c);
	if (page_has_asset(url))
		return page_asset(w, c, url);
	return httpd_error(w, c, 404, "not-found", "Not found.");
}

/* ------------------------------------------------------------------------------------------ */
/* Requests.                                                                                   */

/*
 * The request line has arrived, before libmicrohttpd parses its query (its URI log callback):
 * with too many arguments, cut the query off where the library will look for it (the line is
 * in its read buffer, still ours to write until this returns) and answer 414 at the first call.
 * The request's struct req starts here.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req *rq = calloc(1, sizeof(*rq));
	char *q = strchr(uri, '?');
	size_t n = 1;

	(void)cls, (void)c;
	if (!rq || !q)
		return rq;
	for (const char *p = q + 1; *p && n <= HTTPD_MAX_ARGS; p++)
		n += *p == '&';
	if (n > HTTPD_MAX_ARGS) {
		rq->too_many_args = true;
		q[1] = '\0';
	}
	return rq;
}

/* Counts the headers that say how long a body is (length_headers). */
struct length_headers {
	unsigned content_length, transfer_encoding;
};

static enum MHD_Result count_length_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                           const char *value)
{
	struct length_headers *n = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, "Content-Length") == 0)
		n->content_length++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
		n->transfer_encoding++;
	return MHD_YES;
}

/*
 * Whether the request says how long its body is in one way only. Two Content-Length headers, or
 * one beside Transfer-Encoding, are the material of request smuggling: a proxy in front may read
 * the other one, and its next request would hide in our body. RFC 9112 §6.3 lets a server
 * refuse both; libmicrohttpd would pick one silently.
 */
static bool length_unambiguous(struct MHD_Connection *c)
{
	struct length_headers n = {0};

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_length_header, &n);
	return n.content_length <= 1 && !(n.content_length && n.transfer_encoding);
}

/* The first call of a request: refuse a declared body above the limit before it is read. */
static enum MHD_Result request_begin(struct web *w, struct MHD_Connection *c, void **con_cls)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	struct req *rq = *con_cls ? *con_cls : calloc(1, sizeof(*rq));
	uint64_t declared;
	int r;

	if (!rq)
		return MHD_NO;
	*con_cls = rq;
	rq->begun = true;
	if (rq->too_many_args)
		return httpd_error(w, c, 414, "uri", "Too many query arguments.");
	if (!length_unambiguous(c))
		return httpd_error(w, c, 400, "body",
		                   "Conflicting Content-Length or Transfer-Encoding headers.");
	if (!cl)
		return MHD_YES;
	r = decimal_u64(cl, w->cfg.max_body, &declared);
	if (r == -ERR_RANGE)
		return httpd_error(w, c, 413, "too-large", "Request body too large.");
	if (r < 0) /* libmicrohttpd refuses such a request itself; never read it */
		return httpd_error(w, c, 400, "body", "Malformed Content-Length.");
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct web *w = cls;
	struct req *rq = *con_cls;

	(void)version;
	if (!rq || !rq->begun) {
		if (!host_known(w, c, url, method))
			return httpd_error(w, c, 421, "host",
			                   "Misdirected request: this service does not answer for "
			                   "that Host name.");
		if (requester_head_check(c, &w->cfg.trust, method) < 0) /* a NUL cut it short */
			return httpd_error(
			    w, c, 400, "forwarded",
			    "The forwarding header from the trusted proxy is malformed.");
		return request_begin(w, c, con_cls);
	}
	if (*upload_data_size) {
		if (!rq->too_big && rq->len + *upload_data_size <= w->cfg.max_body) {
			char *nb = realloc(rq->body, rq->len + *upload_data_size + 1);

			if (!nb)
				return MHD_NO;
			rq->body = nb;
			memcpy(rq->body + rq->len, upload_data, *upload_data_size);
			rq->len += *upload_data_size;
			rq->body[rq->len] = '\0';
		} else {
			rq->too_big = true;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->create) /* resumed: its commit ended, or the service stops */
		return api_create_resumed(w, c, &rq->create);
	conn_busy(w, c);
	if (rq->too_big)
		return httpd_error(w, c, 413, "too-large", "Request body too large.");
	return route(w, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct web *w = cls;
	struct req *rq = *con_cls;
	struct conn_slot *s = conn_slot_of(c);

	(void)toe;
	if (s)
		connlimit_idle(&w->conns, s, web_mono_ms());
	if (!rq)
		return;
	if (rq->create) /* closed unanswered: the daemon stopped with it suspended */
		api_create_dropped(w, &rq->create);
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Daemons.                                                                                    */

/* Say where a daemon listens (port 0 picks one): the tests read this line. */
static void announce(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	struct sockaddr_storage b;
	socklen_t bl = sizeof(b);
	struct addr a;
	uint16_t port = 0;
	char text[ADDR_STRLEN];

	if (!di || getsockname(di->listen_fd, (struct sockaddr *)&b, &bl) != 0 ||
	    addr_from_sockaddr((struct sockaddr *)&b, &a, &port) != 0)
		return;
	addr_format(&a, text, sizeof(text));
	printf(a.family == AF_INET6 ? "listening on http://[%s]:%u/\n"
	                            : "listening on http://%s:%u/\n",
	       text, port);
	fflush(stdout);
}

static int start_one(struct web *w, const char *listen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	struct sockaddr_storage ss;
	socklen_t len;
	struct MHD_Daemon *d;
	int r;

	if ((r = web_listen_parse(listen, &ss, &len)) < 0) {
		fprintf(stderr, "exposure serve: bad --listen %s (ADDR:PORT)\n", listen);
		return r;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * [::] serves both families (IPV6_V6ONLY off), as --public --listen [::]:8080 is documented
	 * to; an IPv4 peer then arrives as ::ffff:a.b.c.d, which addr_from_sockaddr() unmaps before
	 * any rule or limit sees it.
	 */
	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
		flags |= MHD_USE_DUAL_STACK;
	/*
	 * The library's own limit is the table's capacity and its per-address limit is off: the
	 * table (on_accept, on_connection) decides, per network, and sheds for room.
	 */
	d = MHD_start_daemon(
	    flags, 0, on_accept, w, on_request, w, MHD_OPTION_SOCK_ADDR, &ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)w->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)w->cfg.conn_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)w->cfg.conn_memory, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)connlimit_capacity(w->cfg.conn_limit), MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, w, MHD_OPTION_URI_LOG_CALLBACK, on_uri, w, MHD_OPTION_END);
	if (!d) {
		r = errno ? -errno : -EADDRINUSE;
		fprintf(stderr, "exposure serve: cannot listen on %s: %s\n", listen, strerror(-r));
		return r;
	}
	w->daemons[w->n_daemons++] = d;
	announce(d);
	return 0;
}

int httpd_start(struct web *w)
{
	int r;

	if ((r = csp_build(w)) < 0)
		return r;
	if ((r = conns_start(w)) < 0)
		return r;
	for (size_t i = 0; i < w->cfg.n_listen; i++)
		if ((r = start_one(w, w->cfg.listen[i])) < 0)
			return r;
	return 0;
}

void httpd_stop(struct web *w)
{
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	sse_wake_all_locked(w);
	pthread_mutex_unlock(&w->lock);
	/* Creates whose commit is on its way get their answer; the rest are told to retry. */
	pending_stop(w, HTTPD_STOP_CREATE_WAIT_MS);
	for (size_t i = 0; i < w->n_daemons; i++)
		MHD_stop_daemon(w->daemons[i]);
	w->n_daemons = 0;
	conns_stop(w);
}
