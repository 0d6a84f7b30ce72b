/* SPDX-License-Identifier: MIT */
/*
 * The operator's dashboard (admin.h, docs/api.md "Operator dashboard"). The token is read once
 * at start and kept only as a BLAKE2b hash under a per-process random key; a presented token is
 * hashed the same way and the two 32-byte hashes are compared with sodium_memcmp (constant
 * time, equal lengths whatever was presented). A browser logs in with a form; the session
 * cookie is a MAC under its own key (never the CSRF key), HttpOnly, SameSite=Strict, Path=/admin,
 * Secure behind HTTPS. Scripts send `Authorization: Bearer TOKEN`. The token is never accepted
 * in a URL. The statistics are computed in the HTTP thread that asks (the report reads the
 * store on its own read-only connection), never on the probe engine's loop.
 *
 * A session is a random cookie value that this process remembers (its keyed hash, in a small
 * table), not a stateless MAC: logging out forgets it at once, and a restart with another
 * operator token (the only way to change it) starts with an empty table. The table is bounded:
 * a login when it is full replaces the session that expires first.
 */
#include "web/admin.h"
#include "core/err.h"
#include "core/sbuf.h"
#include "web/httpd.h"
#include "report/report_dashboard.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ADMIN_COOKIE   "exposure_admin"
#define ADMIN_CSV_NAME "exposure-report.csv"
#define ADMIN_PAGE_MAX (4u << 20) /* a page or link: the tables and chart stay far below */
#define SESSION_BYTES  32
#define SESSION_LEN    43 /* base64url of SESSION_BYTES, no padding */
#define SESSIONS_MAX   64 /* browsers logged in at once; one operator needs a few */

struct admin_session {
	uint8_t hash[32];   /* keyed hash of the cookie value; all zero when free */
	int64_t expires_ms; /* 0 when free */
};

struct admin_sessions {
	pthread_mutex_t mu; /* the HTTP threads log in, out and check concurrently */
	struct admin_session s[SESSIONS_MAX];
};

/* ------------------------------------------------------------------------------------------ */
/* The token.                                                                                  */

static bool token_well_formed(const char *t, size_t n)
{
	if (n < ADMIN_TOKEN_MIN || n > ADMIN_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] < 0x21 || t[i] > 0x7e)
			return false;
	return true;
}

static void token_hash(const struct web *w, const char *t, size_t n, uint8_t out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)t, n, w->admin_key,
	                   sizeof(w->admin_key));
}

/* True if t (n bytes) is the operator token. Constant time in the token's content. */
static bool token_matches(const struct web *w, const char *t, size_t n)
{
	uint8_t h[32];
	bool ok;

	if (n > ADMIN_TOKEN_MAX)
		n = ADMIN_TOKEN_MAX + 1; /* hashed anyway; cannot match a valid token */
	token_hash(w, t, n, h);
	ok = sodium_memcmp(h, w->admin_hash, sizeof(h)) == 0;
	sodium_memzero(h, sizeof(h));
	return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* Sessions.                                                                                   */

/* A new session into out (SESSION_LEN + 1): remembered until logout or ADMIN_SESSION_MS. */
static void session_open(struct web *w, int64_t now_ms, char out[SESSION_LEN + 1])
{
	struct admin_sessions *t = w->admin_sessions;
	uint8_t raw[SESSION_BYTES];
	size_t slot = 0;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, SESSION_LEN + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	pthread_mutex_lock(&t->mu);
	/* A free or expired slot, else the one that expires first. */
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		if (t->s[i].expires_ms <= now_ms) {
			slot = i;
			break;
		}
		if (t->s[i].expires_ms < t->s[slot].expires_ms)
			slot = i;
	}
	token_hash(w, out, SESSION_LEN, t->s[slot].hash);
	t->s[slot].expires_ms = now_ms + ADMIN_SESSION_MS;
	pthread_mutex_unlock(&t->mu);
}

/*
 * The slot of session value v if this process issued it and it is neither logged out nor
 * expired, else -1. Every slot is compared (constant time in v). Under t->mu.
 */
static int session_find_locked(struct web *w, const char *v, int64_t now_ms)
{
	struct admin_sessions *t = w->admin_sessions;
	uint8_t h[32];
	int found = -1;

	if (strlen(v) != SESSION_LEN)
		return -1;
	token_hash(w, v, SESSION_LEN, h);
	for (size_t i = 0; i < SESSIONS_MAX; i++)
		if (sodium_memcmp(h, t->s[i].hash, sizeof(h)) == 0 && t->s[i].expires_ms > now_ms)
			found = (int)i;
	sodium_memzero(h, sizeof(h));
	return found;
}

static bool session_valid(struct web *w, const char *v, int64_t now_ms)
{
	int slot;

	pthread_mutex_lock(&w->admin_sessions->mu);
	slot = session_find_locked(w, v, now_ms);
	pthread_mutex_unlock(&w->admin_sessions->mu);
	return slot >= 0;
}

/* Logout: the session is forgotten, its cookie worthless from now on. */
static void session_close(struct web *w, const char *v, int64_t now_ms)
{
	struct admin_sessions *t = w->admin_sessions;
	int slot;

	pthread_mutex_lock(&t->mu);
	slot = session_find_locked(w, v, now_ms);
	if (slot >= 0)
		sodium_memzero(&t->s[slot], sizeof(t->s[slot]));
	pthread_mutex_unlock(&t->mu);
}

/* ------------------------------------------------------------------------------------------ */

/* Read the token file into buf (trailing white space trimmed). Returns the length or -errno. */
static int read_token_file(const char *path, char *buf, size_t cap)
{
	struct stat st;
	ssize_t got;
	size_t n = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -ERR_SYNTAX;
		goto out;
	}
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		r = -EPERM;
		goto out;
	}
	while (n < cap - 1) {
		got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
	                 buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	r = (int)n;
out:
	close(fd);
	return r;
}

/*
 * Nothing this process starts needs the token, and unsetenv() only drops the pointer: the
 * bytes would stay in the environment block that /proc/PID/environ shows to anyone with the
 * same uid (and to core dumps). Overwrite them in place, then unset.
 */
static void env_scrub(const char *name)
{
	char *v = getenv(name);

	if (!v)
		return;
	sodium_memzero(v, strlen(v));
	unsetenv(name);
}

int admin_init(struct web *w)
{
	char buf[ADMIN_TOKEN_MAX + 2];
	const char *env = getenv(ADMIN_ENV_TOKEN);
	const char *from;
	size_t n = 0;
	int r;

	if (w->cfg.labels_path) {
		char err[256] = "";

		r = report_labels_load(w->cfg.labels_path, &w->labels, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "exposure serve: --labels: %s\n",
			        err[0] ? err : err_str(r));
			return r;
		}
	}
	if (w->cfg.admin_token_file) {
		from = w->cfg.admin_token_file;
		r = read_token_file(from, buf, sizeof(buf));
		if (r < 0) {
			fprintf(stderr, "exposure serve: --admin-token-file %s: %s\n", from,
			        r == -EPERM ? "must be ours and not accessible by group or others "
			                      "(chmod 600)"
			        : r == -ERR_SYNTAX ? "not a regular file"
			                           : err_str(r));
			return r;
		}
		n = (size_t)r;
	} else if (env) {
		from = "$" ADMIN_ENV_TOKEN;
		n = strnlen(env, sizeof(buf) - 1);
		memcpy(buf, env, n);
		buf[n] = '\0';
	} else {
		return 0; /* the dashboard is off */
	}
	env_scrub(ADMIN_ENV_TOKEN); /* buf has it; also when the file took precedence */
	if (!token_well_formed(buf, n)) {
		fprintf(stderr,
		        "exposure serve: operator token from %s: %d to %d printable "
		        "characters without spaces, please\n",
		        from, ADMIN_TOKEN_MIN, ADMIN_TOKEN_MAX);
		sodium_memzero(buf, sizeof(buf));
		return -ERR_SYNTAX;
	}
	randombytes_buf(w->admin_key, sizeof(w->admin_key));
	token_hash(w, buf, n, w->admin_hash);
	sodium_memzero(buf, sizeof(buf));
	w->admin_sessions = calloc(1, sizeof(*w->admin_sessions));
	if (!w->admin_sessions) {
		fputs("exposure serve: out of memory\n", stderr);
		return -ENOMEM;
	}
	pthread_mutex_init(&w->admin_sessions->mu, NULL);
	w->admin_on = true;
	fprintf(stderr, "exposure serve: operator dashboard on /admin/stats (token from %s)\n",
	        from);
	return 0;
}

void admin_free(struct web *w)
{
	report_labels_free(w->labels);
	w->labels = NULL;
	sodium_memzero(w->admin_key, sizeof(w->admin_key));
	sodium_memzero(w->admin_hash, sizeof(w->admin_hash));
	if (w->admin_sessions) {
		pthread_mutex_destroy(&w->admin_sessions->mu);
		sodium_memzero(w->admin_sessions, sizeof(*w->admin_sessions));
		free(w->admin_sessions);
		w->admin_sessions = NULL;
	}
	w->admin_on = false;
}

/* A Bearer header with the token, or a session cookie we issued. */
static bool authorized(struct web *w, struct MHD_Connection *c)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *cookies = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
	char v[SESSION_LEN + 2];

	if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
		return token_matches(w, auth + 7, strlen(auth + 7));
	if (cookies && cookie_value(cookies, ADMIN_COOKIE, v, sizeof(v)))
		return session_valid(w, v, store_now_ms());
	return false;
}

static bool secure_site(const struct web *w)
{
	return w->cfg.secure_cookie ||
	       (w->cfg.origin && strncmp(w->cfg.origin, "https://", 8) == 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Pages.                                                                                      */

static void page_head(struct sbuf *b, const char *title)
{
	sbuf_add(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	            "<meta name=\"robots\" content=\"noindex\">\n<title>");
	sbuf_add_html(b, title);
	sbuf_add(
	    b, "</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n"
	       "<link rel=\"stylesheet\" href=\"/admin.css\">\n</head>\n<body class=\"admin\">\n");
}

static enum MHD_Result send_page(struct web *w, struct MHD_Connection *c, unsigned code,
                                 struct sbuf *b, const char *extra_name, const char *extra_value)
{
	struct MHD_Response *r;
	size_t len;
	char *text = sbuf_take(b, &len);

	if (!text)
		return MHD_NO;
	r = httpd_text("text/html; charset=utf-8", text, len);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (extra_name)
		MHD_add_response_header(r, extra_name, extra_value);
	return httpd_queue(w, c, code, r);
}

static enum MHD_Result login_page(struct web *w, struct MHD_Connection *c, unsigned code,
                                  const char *message)
{
	struct sbuf b;

	sbuf_init(&b, ADMIN_PAGE_MAX);
	page_head(&b, "exposure: operator login");
	sbuf_add(&b, "<main>\n<h1>Statistics: operator login</h1>\n");
	if (message) {
		sbuf_add(&b, "<p class=\"error\" id=\"login-error\" role=\"alert\">");
		sbuf_add_html(&b, message);
		sbuf_add(&b, "</p>\n");
	}
	sbuf_add(&b, "<form method=\"post\" action=\"/admin/login\" class=\"login\">\n"
	             "<label for=\"token\">Operator token</label>\n"
	             "<input id=\"token\" name=\"token\" type=\"password\" required "
	             "autocomplete=\"current-password\" maxlength=\"512\">\n"
	             "<button type=\"submit\" class=\"primary\" id=\"login\">Log in</button>\n"
	             "</form>\n</main>\n</body>\n</html>\n");
	return send_page(w, c, code, &b, code == 401 ? "WWW-Authenticate" : NULL,
	                 "Bearer realm=\"exposure-admin\"");
}

static const char *qarg(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);

	return v && *v ? v : NULL;
}

static void get_query(struct MHD_Connection *c, struct report_dashboard_query *q)
{
	*q = (struct report_dashboard_query){
	    .since = qarg(c, "since"),
	    .until = qarg(c, "until"),
	    .label = qarg(c, "label"),
	    .trend = qarg(c, "trend"),
	    .per = qarg(c, "per"),
	    .min_group = qarg(c, "min_group"),
	    .by = qarg(c, "by"),
	};
}

/*
 * The query string of q (only the parameters given), "" if none, with a leading '?'. Returns 0
 * or the buffer's error.
 */
static int query_string(struct sbuf *b, const struct report_dashboard_query *q)
{
	const char *names[] = {"since", "until", "label", "trend", "per", "min_group", "by"};
	const char *values[] = {q->since, q->until,     q->label, q->trend,
	                        q->per,   q->min_group, q->by};
	bool first = true;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!values[i])
			continue;
		sbuf_add(b, first ? "?" : "&");
		sbuf_add(b, names[i]);
		sbuf_add(b, "=");
		sbuf_add_urlenc(b, values[i]);
		first = false;
	}
	return b->err;
}

static void option(struct sbuf *b, const char *value, const char *text, const char *current)
{
	sbuf_add(b, "<option value=\"");
	sbuf_add_html(b, value);
	sbuf_add(b, "\"");
	if ((current && strcmp(current, value) == 0) || (!current && !*value))
		sbuf_add(b, " selected");
	sbuf_add(b, ">");
	sbuf_add_html(b, text);
	sbuf_add(b, "</option>");
}

static void filters(struct web *w, struct sbuf *b, const struct report_dashboard_query *q)
{
	const char *trend = q->trend ? q->trend : "week";
	const char *per = q->per ? q->per : "diagnosis";

	sbuf_add(b,
	         "<form method=\"get\" action=\"/admin/stats\" class=\"filters\" id=\"filters\">\n"
	         "<label>Since (UTC) <input type=\"date\" name=\"since\" id=\"since\" value=\"");
	sbuf_add_html(b, q->since);
	sbuf_add(b, "\"></label>\n<label>Until, inclusive <input type=\"date\" name=\"until\" "
	            "id=\"until\" value=\"");
	sbuf_add_html(b, q->until);
	sbuf_add(b, "\"></label>\n<label>Network label <select name=\"label\" id=\"label\">");
	option(b, "", "every label", q->label);
	for (size_t i = 0; i < report_labels_count(w->labels); i++)
		option(b, report_labels_name(w->labels, i), report_labels_name(w->labels, i),
		       q->label);
	option(b, LABELS_UNLABELLED, LABELS_UNLABELLED, q->label);
	sbuf_add(b, "</select></label>\n<label>Trend <select name=\"trend\" id=\"trend\">");
	option(b, "week", "per week", trend);
	option(b, "day", "per day", trend);
	option(b, "none", "none", trend);
	sbuf_add(b, "</select></label>\n<label>Count <select name=\"per\" id=\"per\">");
	option(b, "diagnosis", "every result", per);
	option(b, "requester", "every requester once", per);
	sbuf_add(b, "</select></label>\n<button type=\"submit\" class=\"primary\" id=\"show\">Show"
	            "</button>\n</form>\n");
}

static enum MHD_Result stats_page(struct web *w, struct MHD_Connection *c)
{
	struct report_dashboard_query q;
	struct sbuf b, href;
	char err[256] = "", *frag = NULL;
	size_t flen = 0;
	unsigned status = 200;
	int r;

	sbuf_init(&b, ADMIN_PAGE_MAX);
	sbuf_init(&href, ADMIN_PAGE_MAX);
	get_query(c, &q);
	sbuf_add(&href, "/admin/stats.csv");
	if (query_string(&href, &q) < 0) {
		sbuf_free(&href);
		return MHD_NO;
	}
	r = report_dashboard_html(w->store, w->labels, &q, sbuf_str(&href), &frag, &flen, err,
	                          sizeof(err));
	sbuf_free(&href);
	page_head(&b, "exposure: statistics");
	sbuf_add(&b, "<header class=\"admin-top\">\n<h1>Statistics of the self-diagnoses</h1>\n"
	             "<form method=\"post\" action=\"/admin/logout\"><button type=\"submit\" "
	             "id=\"logout\">Log out</button></form>\n</header>\n<main>\n");
	filters(w, &b, &q);
	if (r == -ERR_SYNTAX || r == -ERR_RANGE) {
		status = 400;
		sbuf_add(&b, "<p class=\"error\" id=\"query-error\" role=\"alert\">");
		sbuf_add_html(&b, err[0] ? err : "bad query");
		sbuf_add(&b, "</p>\n");
	} else if (r < 0) {
		status = 500;
		fprintf(stderr, "exposure serve: /admin/stats: %s\n", err[0] ? err : err_str(r));
		sbuf_add(&b, "<p class=\"error\" role=\"alert\">The statistics cannot be computed "
		             "now (see the service's log).</p>\n");
	} else {
		sbuf_addn(&b, frag, flen);
	}
	free(frag);
	sbuf_add(&b,
	         "<p class=\"muted\">The CSV is byte for byte <code>exposure report --format csv "
	         "--trend week</code> (plus <code>--labels</code> as given to the service) with "
	         "the same filters. No address or stored prefix is ever shown.</p>\n"
	         "</main>\n</body>\n</html>\n");
	return send_page(w, c, status, &b, NULL, NULL);
}

static enum MHD_Result stats_csv(struct web *w, struct MHD_Connection *c)
{
	struct report_dashboard_query q;
	struct MHD_Response *resp;
	char err[256] = "", *csv = NULL;
	size_t len = 0;
	int r;

	get_query(c, &q);
	r = report_dashboard_csv(w->store, w->labels, &q, &csv, &len, err, sizeof(err));
	if (r == -ERR_SYNTAX || r == -ERR_RANGE)
		return httpd_error(w, c, 400, "query", err[0] ? err : "bad query");
	if (r < 0) {
		fprintf(stderr, "exposure serve: /admin/stats.csv: %s\n",
		        err[0] ? err : err_str(r));
		return httpd_error(w, c, 500, "internal", "The statistics cannot be computed now.");
	}
	resp = httpd_text("text/csv; charset=utf-8", csv, len);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Content-Disposition",
	                        "attachment; filename=\"" ADMIN_CSV_NAME "\"");
	return httpd_queue(w, c, 200, resp);
}

/* ------------------------------------------------------------------------------------------ */
/* Login and logout.                                                                           */

/*
 * A form POST from our own page. The site sends Referrer-Policy: no-referrer, so a browser's
 * form submission carries "Origin: null"; Sec-Fetch-Site (set by the browser, not by a page)
 * then decides. Without Sec-Fetch-Site, the Origin must be ours (httpd_same_origin).
 */
static bool form_same_origin(struct web *w, struct MHD_Connection *c)
{
	const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");

	if (site)
		return strcmp(site, "same-origin") == 0 &&
		       (!origin || strcmp(origin, "null") == 0 || httpd_same_origin(w, c));
	return httpd_same_origin(w, c);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) ("+" is a space) into out. Returns the length, -ERR_SYNTAX for a bad
 * escape, or -ERR_TOOBIG when it does not fit with its NUL.
 */
static int form_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t k = 0; k < n; k++) {
		char ch = s[k];

		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%') {
			int hi = k + 2 < n ? hexval(s[k + 1]) : -1;
			int lo = k + 2 < n ? hexval(s[k + 2]) : -1;

			if (hi < 0 || lo < 0)
				return -ERR_SYNTAX;
			ch = (char)(hi << 4 | lo);
			k += 2;
		}
		if (o + 1 >= cap)
			return -ERR_TOOBIG;
		out[o++] = ch;
	}
	out[o] = '\0';
	return (int)o;
}

/*
 * The value of field name in an application/x-www-form-urlencoded body, decoded into out.
 * Returns its length, -ENOENT when absent, or form_decode's error.
 */
static int form_value(const char *body, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), i = 0;

	while (i < len) {
		size_t end = i;

		while (end < len && body[end] != '&')
			end++;
		if (end - i > nl && memcmp(body + i, name, nl) == 0 && body[i + nl] == '=')
			return form_decode(body + i + nl + 1, end - i - nl - 1, out, cap);
		i = end + 1;
	}
	return -ENOENT;
}

static enum MHD_Result redirect(struct web *w, struct MHD_Connection *c, const char *to,
                                const char *cookie)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Location", to);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (cookie)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	return httpd_queue(w, c, 303, r);
}

static enum MHD_Result login(struct web *w, struct MHD_Connection *c, const char *body, size_t len)
{
	char token[ADMIN_TOKEN_MAX + 2], session[SESSION_LEN + 1], cookie[SESSION_LEN + 128];
	int n;
	bool ok;

	if (!form_same_origin(w, c))
		return login_page(w, c, 403, "Cross-site login refused.");
	n = form_value(body ? body : "", body ? len : 0, "token", token, sizeof(token));
	ok = n > 0 && token_matches(w, token, (size_t)n);
	sodium_memzero(token, sizeof(token));
	if (!ok)
		return login_page(w, c, 401, "Wrong operator token.");
	session_open(w, store_now_ms(), session);
	snprintf(cookie, sizeof(cookie),
	         "%s=%s; Path=/admin; Max-Age=%lld; HttpOnly; "
	         "SameSite=Strict%s",
	         ADMIN_COOKIE, session, ADMIN_SESSION_MS / 1000, secure_site(w) ? "; Secure" : "");
	return redirect(w, c, "/admin/stats", cookie);
}

static enum MHD_Result logout(struct web *w, struct MHD_Connection *c)
{
	const char *cookies = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
	char cookie[128], v[SESSION_LEN + 2];

	if (!form_same_origin(w, c))
		return httpd_error(w, c, 403, "origin", "Cross-site request refused.");
	/* Forget it here, not only in the browser: a copied cookie dies with the logout. */
	if (cookies && cookie_value(cookies, ADMIN_COOKIE, v, sizeof(v)))
		session_close(w, v, store_now_ms());
	snprintf(cookie, sizeof(cookie), "%s=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict%s",
	         ADMIN_COOKIE, secure_site(w) ? "; Secure" : "");
	return redirect(w, c, "/admin/stats", cookie);
}

/* ------------------------------------------------------------------------------------------ */

enum MHD_Result admin_route(struct web *w, struct MHD_Connection *c, const char *url,
                            const char *method, const char *body, size_t len)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	bool page = strcmp(url, "/admin") == 0 || strcmp(url, "/admin/") == 0 ||
	            strcmp(url, "/admin/stats") == 0;

	if (!w->admin_on)
		return httpd_error(w, c, 404, "not-found", "Not found.");
	if (strcmp(url, "/admin/login") == 0) {
		if (post)
			return login(w, c, body, len);
		if (get)
			return login_page(w, c, 200, NULL);
	} else if (strcmp(url, "/admin/logout") == 0) {
		if (post)
			return logout(w, c);
	} else if (page || strcmp(url, "/admin/stats.csv") == 0) {
		if (!get)
			return httpd_error(w, c, 405, "method", "Method not allowed.");
		if (!authorized(w, c))
			return page ? login_page(w, c, 401, NULL)
			            : httpd_error(w, c, 401, "token",
			                          "The operator token is missing or wrong.");
		return page ? stats_page(w, c) : stats_csv(w, c);
	} else {
		return httpd_error(w, c, 404, "not-found", "Not found.");
	}
	return httpd_error(w, c, 405, "method", "Method not allowed.");
}
