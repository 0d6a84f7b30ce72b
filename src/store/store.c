/* SPDX-License-Identifier: MIT */
/* The backend-neutral front of the store: argument checks, then a call through the vtable. */
#include "store/store_impl.h"

#include "core/err.h"
#include "core/sbuf.h"
#include "core/sibling.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const status_names[STORE_STATUS_X_MAX] = {
    [STORE_QUEUED] = "queued",
    [STORE_RUNNING] = "running",
    [STORE_DONE] = "done",
    [STORE_INTERRUPTED] = "interrupted",
};

const char *store_status_name(enum store_status s)
{
	if ((unsigned)s >= STORE_STATUS_X_MAX)
		return "?";
	return status_names[s];
}

int store_status_parse(const char *name, enum store_status *out)
{
	for (unsigned i = 0; i < STORE_STATUS_X_MAX; i++) {
		if (name && strcmp(name, status_names[i]) == 0) {
			*out = (enum store_status)i;
			return 0;
		}
	}
	return -ERR_SYNTAX;
}

static const char *const connection_names[STORE_CONN_X_MAX] = {
    [STORE_CONN_SIM] = "sim",
    [STORE_CONN_USB_MODEM] = "usb-modem",
    [STORE_CONN_TETHERING] = "tethering",
    [STORE_CONN_ROUTER] = "router",
    [STORE_CONN_WIRED] = "wired",
    [STORE_CONN_UNKNOWN] = "unknown",
};

static const char *const device_names[STORE_DEVICE_X_MAX] = {
    [STORE_DEVICE_DESKTOP] = "desktop",
    [STORE_DEVICE_TABLET] = "tablet",
    [STORE_DEVICE_PHONE] = "phone",
    [STORE_DEVICE_OTHER] = "other",
};

/* names[i] for 0 < i < n; slot 0 (NONE) has no name. */
static int name_parse(const char *const *names, unsigned n, const char *name, unsigned *out)
{
	for (unsigned i = 1; i < n; i++) {
		if (name && strcmp(name, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -ERR_SYNTAX;
}

const char *store_connection_name(enum store_connection c)
{
	return (unsigned)c < STORE_CONN_X_MAX ? connection_names[c] : NULL;
}

int store_connection_parse(const char *name, enum store_connection *out)
{
	unsigned i;
	int r = name_parse(connection_names, STORE_CONN_X_MAX, name, &i);

	if (r == 0)
		*out = (enum store_connection)i;
	return r;
}

const char *store_device_name(enum store_device d)
{
	return (unsigned)d < STORE_DEVICE_X_MAX ? device_names[d] : NULL;
}

int store_device_parse(const char *name, enum store_device *out)
{
	unsigned i;
	int r = name_parse(device_names, STORE_DEVICE_X_MAX, name, &i);

	if (r == 0)
		*out = (enum store_device)i;
	return r;
}

void store_set_err(const struct store_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (!o || !o->errbuf || o->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(o->errbuf, o->errlen, fmt, ap);
	va_end(ap);
}

/*
 * The PostgreSQL backend is a module, exposure-store-pg.so (store_pg.c, STORE.md "The
 * PostgreSQL module"), loaded at the first postgresql:// store: libpq and what it pulls in
 * (GnuTLS, Kerberos, LDAP, SASL: 20 libraries) cost about 2 ms of every start of the program,
 * and most runs never open a PostgreSQL store. A program that links the backend itself (the
 * tests that reach into it) has store_pg_ops defined, and then no module is loaded.
 */
extern const struct store_ops store_pg_ops __attribute__((weak));

#ifndef EXPOSURE_MODULEDIR
#define EXPOSURE_MODULEDIR "/usr/local/lib/exposure"
#endif

static const struct store_ops *pg_load(const struct store_opts *o)
{
	char why[PATH_MAX + 64];
	const struct store_ops *ops =
	    sibling_module("EXPOSURE_STORE_PG", STORE_PG_MODULE, EXPOSURE_MODULEDIR, "store_pg_ops",
	                   why, sizeof(why));

	if (!ops)
		store_set_err(o, "PostgreSQL: %s", why);
	return ops;
}

/* The backend's operations: linked in, or the module's, loaded once (under a lock: a store
 * may be opened from any thread). NULL with the reason in o's buffer. */
static const struct store_ops *pg_ops(const struct store_opts *o)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static const struct store_ops *ops;
	const struct store_ops *r;

	if (&store_pg_ops != NULL)
		return &store_pg_ops;
	pthread_mutex_lock(&lock);
	if (!ops)
		ops = pg_load(o);
	r = ops;
	pthread_mutex_unlock(&lock);
	return r;
}

static int pg_open(const char *conninfo, const struct store_opts *o, struct store **out)
{
	const struct store_ops *ops = pg_ops(o);

	return ops ? ops->open(conninfo, o, out) : -ERR_UNSUPPORTED;
}

int store_open(const char *path, const struct store_opts *o, struct store **out)
{
	static const char sqlite_scheme[] = "sqlite:";

	*out = NULL;
	if (!path || !*path) {
		store_set_err(o, "no database path");
		return -EINVAL;
	}
	if (strncmp(path, sqlite_scheme, sizeof(sqlite_scheme) - 1) == 0)
		return store_sqlite_ops.open(path + sizeof(sqlite_scheme) - 1, o, out);
	/* postgresql://... and postgres://... are libpq URIs, given whole; postgresql:REST is
	 * REST as a libpq key=value string, empty for the PG* environment variables. */
	if (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0)
		return pg_open(path, o, out);
	if (strncmp(path, "postgresql:", 11) == 0)
		return pg_open(path + 11, o, out);
	if (strncmp(path, "postgres:", 9) == 0) {
		store_set_err(o, "say postgresql:// or postgresql:KEY=VALUE for PostgreSQL");
		return -ERR_UNSUPPORTED;
	}
	return store_sqlite_ops.open(path, o, out);
}

/* Replace from p up to the first of stop (or the end) with "***" in the copy being built. */
static void redact_from(struct sbuf *b, const char **p, const char *stop)
{
	sbuf_add(b, "***");
	*p += strcspn(*p, stop);
}

const char *store_display(const char *path, char *buf, size_t n)
{
	const char *p = path ? path : "", *at, *slash, *colon;
	struct sbuf b;

	sbuf_init(&b, n > 0 ? n - 1 : 0);
	if ((colon = strstr(p, "://")) != NULL) {
		/* userinfo: between :// and the @ that comes before the first / */
		const char *host = colon + 3;

		slash = host + strcspn(host, "/?");
		at = memchr(host, '@', (size_t)(slash - host));
		colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
		if (colon) {
			sbuf_addn(&b, p, (size_t)(colon + 1 - p));
			p = colon + 1;
			redact_from(&b, &p, "@");
		}
	}
	while (*p) {
		const char *k = strstr(p, "password=");

		if (!k) {
			sbuf_add(&b, p);
			break;
		}
		sbuf_addn(&b, p, (size_t)(k + 9 - p));
		p = k + 9;
		redact_from(&b, &p, "& ");
	}
	snprintf(buf, n, "%s", b.err ? "(store)" : sbuf_str(&b));
	sbuf_free(&b);
	return buf;
}

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

int store_flush(struct store *s)
{
	return s->q ? store_queue_flush(s->q) : 0;
}

int store_enqueue(struct store *s, struct store_write *w, unsigned flags)
{
	if (!s->q) {
		s->ops->drop(w);
		return -EROFS;
	}
	return store_queue_put(s->q, &w->qi, flags);
}

struct store_write *store_new_write(struct store *s, enum store_write_type type, const char *id)
{
	struct store_write *w = calloc(1, s->ops->write_size);

	if (!w)
		return NULL;
	w->type = type;
	if (id)
		snprintf(w->id, sizeof(w->id), "%s", id);
	return w;
}

int store_start_queue(struct store *s, const struct store_queue_ops *ops, void *ctx,
                      const struct store_opts *o)
{
	struct store_queue_cfg cfg = {
	    .queue_max = o->queue_max,
	    .batch_max = o->batch_max,
	    .block_when_full = o->flags & STORE_QUEUE_BLOCK,
	};
	int r = store_queue_start(ops, ctx, &cfg, &s->q);

	if (r < 0)
		store_set_err(o, "cannot start the store writer thread");
	return r;
}

unsigned store_create_put_flags(const struct store_new *d, unsigned open_flags,
                                struct store_queue_item *it)
{
	unsigned flags = d->created ? STORE_QUEUE_NOTIFY : STORE_QUEUE_WAIT;

	if (!(open_flags & STORE_FAST_CREATE))
		flags |= STORE_QUEUE_DURABLE;
	it->done = d->created;
	it->done_ud = d->created_ud;
	return flags;
}

const char *store_backend(const struct store *s)
{
	return s->ops->name;
}

int store_check_integrity(struct store *s, char *msg, size_t n)
{
	return s->ops->check_integrity(s, msg, n);
}

void store_get_stats(struct store *s, struct store_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (s->q)
		store_queue_stats(s->q, out);
}

static bool is_hex_lower(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return p[len] == '\0';
}

bool store_id_valid(const char *id)
{
	return id && strnlen(id, STORE_ID_LEN + 1) == STORE_ID_LEN &&
	       is_hex_lower(id, STORE_ID_LEN);
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

int store_hex_to_hash(const char *hex, uint8_t out[STORE_HASH_BYTES])
{
	if (!hex || strnlen(hex, STORE_HASH_HEX) != STORE_HASH_HEX - 1 ||
	    !is_hex_lower(hex, STORE_HASH_HEX - 1))
		return -ERR_SYNTAX;
	for (size_t i = 0; i < STORE_HASH_BYTES; i++)
		out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	return 0;
}

/* '|' for the state of a UDP port that answered nothing, "open|filtered" (engine.h, issue 12). */
static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '+' || c == '-' || c == '|';
}

enum name_kind { NAME_TOKEN, NAME_OPTIONAL_TEXT };

/*
 * A short name shorter than max. A token (check, state, finding id, risk, language) is
 * non-empty and of token characters, so it can sit in a summary between separators; optional
 * text (reason, service) may be NULL or any printable ASCII.
 */
static int check_name_max(const char *s, enum name_kind kind, size_t max)
{
	size_t len;

	if (!s)
		return kind == NAME_OPTIONAL_TEXT ? 0 : -ERR_SYNTAX;
	len = strnlen(s, max);
	if (len >= max)
		return -ERR_RANGE;
	if (len == 0 && kind == NAME_TOKEN)
		return -ERR_SYNTAX;
	for (size_t i = 0; i < len; i++) {
		if (kind == NAME_TOKEN ? !is_token_char(s[i]) : s[i] < 0x20 || s[i] > 0x7e)
			return -ERR_SYNTAX;
	}
	return 0;
}

static int check_name(const char *s, enum name_kind kind)
{
	return check_name_max(s, kind, STORE_NAME_MAX);
}

static int check_new(const struct store_new *d)
{
	uint8_t h[STORE_HASH_BYTES];
	size_t plen;
	int r;

	if (!store_id_valid(d->id) || !d->token_hash)
		return -ERR_SYNTAX;
	if ((r = store_hex_to_hash(d->requester_hash, h)) < 0)
		return r;
	if (d->family != AF_INET && d->family != AF_INET6)
		return -ERR_SYNTAX;
	if (!d->prefix)
		return -ERR_SYNTAX;
	plen = strnlen(d->prefix, STORE_PREFIX_MAX);
	if (plen == 0 || plen >= STORE_PREFIX_MAX)
		return -ERR_SYNTAX;
	if ((unsigned)d->device >= STORE_DEVICE_X_MAX ||
	    (unsigned)d->connection >= STORE_CONN_X_MAX)
		return -ERR_SYNTAX;
	/* A sweep's host: both, a valid id and an address literal; anything else: neither. */
	if ((d->sweep == NULL) != (d->address == NULL))
		return -ERR_SYNTAX;
	if (d->sweep) {
		struct addr a;

		if (!store_id_valid(d->sweep) || strnlen(d->address, ADDR_STRLEN) >= ADDR_STRLEN ||
		    addr_parse(d->address, &a) < 0)
			return -ERR_SYNTAX;
	}
	if ((d->resume == NULL) != (d->resume_len == 0))
		return -ERR_SYNTAX;
	if (d->resume_len > STORE_RESUME_MAX)
		return -ERR_RANGE;
	return check_name(d->lang, NAME_TOKEN);
}

/* Sweeps are an optional part of a backend (sweep-store.md): its hosts must never land, untagged,
 * among the service's results of a backend that cannot keep them apart. */
static bool sweeps_supported(const struct store *s)
{
	return s->ops->sweep_get != NULL;
}

int store_create(struct store *s, const struct store_new *d)
{
	int r;

	if ((r = check_new(d)) < 0)
		return r;
	if (d->sweep && !sweeps_supported(s))
		return -ERR_UNSUPPORTED;
	return s->ops->create(s, d, true);
}

int store_create_async(struct store *s, const struct store_new *d)
{
	int r;

	if (d->created) /* a promise of durability this path does not keep */
		return -ERR_SYNTAX;
	if ((r = check_new(d)) < 0)
		return r;
	if (d->sweep && !sweeps_supported(s))
		return -ERR_UNSUPPORTED;
	return s->ops->create(s, d, false);
}

int store_set_status(struct store *s, const char *id, enum store_status st, int64_t at_ms)
{
	struct store_write *w;

	if (!store_id_valid(id) || (unsigned)st >= STORE_STATUS_X_MAX)
		return -ERR_SYNTAX;
	if (st == STORE_QUEUED)
		return -ERR_RANGE;
	if (!(w = store_new_write(s, WOP_STATUS, id)))
		return -ENOMEM;
	w->status = st;
	w->at_ms = at_ms;
	return store_enqueue(s, w, 0);
}

/* The per-port rows and the findings of a result. */
static int check_rows(const struct store_check_row *checks, size_t n_checks,
                      const struct store_finding_row *findings, size_t n_findings)
{
	int e;

	for (size_t i = 0; i < n_checks; i++) {
		const struct store_check_row *c = &checks[i];

		if ((e = check_name(c->check, NAME_TOKEN)) < 0 ||
		    (e = check_name(c->state, NAME_TOKEN)) < 0 ||
		    (e = check_name(c->reason, NAME_OPTIONAL_TEXT)) < 0 ||
		    (e = check_name(c->service, NAME_OPTIONAL_TEXT)) < 0)
			return e;
	}
	for (size_t i = 0; i < n_findings; i++) {
		const struct store_finding_row *f = &findings[i];

		if ((e = check_name(f->check, NAME_TOKEN)) < 0 ||
		    (e = check_name_max(f->id, NAME_TOKEN, FINDING_ID_MAX)) < 0)
			return e;
		if ((unsigned)f->severity >= SEVERITY_X_MAX ||
		    (unsigned)f->confidence >= CONFIDENCE_X_MAX)
			return -ERR_SYNTAX;
	}
	return 0;
}

int store_save_result(struct store *s, const struct store_result *r)
{
	int e;

	if (!store_id_valid(r->id) || !r->json)
		return -ERR_SYNTAX;
	if ((e = check_name(r->risk, NAME_TOKEN)) < 0)
		return e;
	if (r->n_checks > STORE_ITER_ROWS_MAX || r->n_findings > STORE_ITER_ROWS_MAX ||
	    r->n_states > STORE_ITER_ROWS_MAX || r->families > STORE_FAMILY_BOTH)
		return -ERR_RANGE;
	if ((r->n_checks && !r->checks) || (r->n_findings && !r->findings) ||
	    (r->n_states && !r->states))
		return -ERR_SYNTAX;
	for (size_t i = 0; i < r->n_states; i++) {
		if ((e = check_name(r->states[i].check, NAME_TOKEN)) < 0 ||
		    (e = check_name(r->states[i].state, NAME_TOKEN)) < 0)
			return e;
	}
	if ((e = check_rows(r->checks, r->n_checks, r->findings, r->n_findings)) < 0)
		return e;
	return s->ops->save_result(s, r);
}

int store_delete(struct store *s, const char *id, const char *token)
{
	struct store_write *w;

	if (!store_id_valid(id))
		return -ERR_SYNTAX;
	if (!(w = store_new_write(s, WOP_DELETE, id)))
		return -ENOMEM;
	store_token_hash(token ? token : "", w->given_hash);
	return store_enqueue(s, w, STORE_QUEUE_WAIT);
}

int store_set_connection(struct store *s, const char *id, const char *token,
                         enum store_connection conn)
{
	struct store_write *w;

	if (!store_id_valid(id))
		return -ERR_SYNTAX;
	if ((unsigned)conn >= STORE_CONN_X_MAX)
		return -ERR_RANGE;
	if (!(w = store_new_write(s, WOP_CONNECTION, id)))
		return -ENOMEM;
	store_token_hash(token ? token : "", w->given_hash);
	w->connection = conn;
	return store_enqueue(s, w, STORE_QUEUE_WAIT);
}

/* In chunks, each its own write, so creates queued meanwhile wait for one chunk at most. */
int store_purge_chunks(struct store *s, int64_t cutoff_ms)
{
	int total = 0;

	for (;;) {
		struct store_write *w = store_new_write(s, WOP_PURGE, NULL);
		int r;

		if (!w)
			return total > 0 ? total : -ENOMEM;
		w->at_ms = cutoff_ms;
		r = store_enqueue(s, w, STORE_QUEUE_WAIT);
		if (r < 0)
			return total > 0 ? total : r;
		total += r;
		if (r < STORE_PURGE_CHUNK)
			return total;
	}
}

int store_purge_older_than(struct store *s, int64_t cutoff_ms)
{
	return s->ops->purge ? s->ops->purge(s, cutoff_ms) : store_purge_chunks(s, cutoff_ms);
}

int store_get(struct store *s, const char *id, struct store_diagnosis *out)
{
	memset(out, 0, sizeof(*out));
	if (!store_id_valid(id))
		return -ERR_SYNTAX;
	return s->ops->get(s, id, out);
}

void store_diagnosis_done(struct store_diagnosis *d)
{
	if (!d)
		return;
	free(d->json);
	memset(d, 0, sizeof(*d));
}

int store_find_active(struct store *s, const char *requester_hash, char id[STORE_ID_LEN + 1])
{
	uint8_t h[STORE_HASH_BYTES];

	id[0] = '\0';
	if (store_hex_to_hash(requester_hash, h) < 0)
		return -ERR_SYNTAX;
	return s->ops->find_active(s, h, id);
}

void store_on_change(struct store *s, void (*cb)(void *ud), void *ud)
{
	if (s->ops->on_change)
		s->ops->on_change(s, cb, ud);
}

void store_on_takeover(struct store *s, void (*cb)(void *ud, const struct store_takeover *t),
                       void *ud)
{
	if (s->ops->on_takeover)
		s->ops->on_takeover(s, cb, ud);
}

int store_live_add(struct store *s, const char *id, const struct store_live_row *rows, size_t n)
{
	if (!store_id_valid(id) || (n && !rows))
		return -ERR_SYNTAX;
	if (n > STORE_LIVE_BATCH)
		return -ERR_RANGE;
	for (size_t i = 0; i < n; i++)
		if (!rows[i].json)
			return -ERR_SYNTAX;
	if (!s->ops->live_add)
		return -ERR_UNSUPPORTED;
	return n ? s->ops->live_add(s, id, rows, n) : 0;
}

int store_live_get(struct store *s, const char *id, uint32_t from,
                   void (*cb)(void *ud, const struct store_live_row *row), void *ud)
{
	if (!store_id_valid(id) || !cb)
		return -ERR_SYNTAX;
	if (!s->ops->live_get)
		return -ERR_UNSUPPORTED;
	return s->ops->live_get(s, id, from, cb, ud);
}

int store_count_inflight(struct store *s)
{
	return s->ops->count_inflight(s);
}

int store_iter_results(struct store *s, const struct store_period *p, store_iter_cb *cb, void *ud)
{
	if (p && p->sweep && !sweeps_supported(s))
		return -ERR_UNSUPPORTED;
	return s->ops->iter(s, p, cb, ud);
}

int store_iter_groups(struct store *s, const struct store_period *p, unsigned flags,
                      store_iter_cb *cb, void *ud)
{
	if (p && p->sweep && !sweeps_supported(s))
		return -ERR_UNSUPPORTED;
	if (flags & ~(STORE_GROUP_PREFIX | STORE_GROUP_LATEST))
		return -ERR_RANGE;
	if (!s->ops->iter_groups && (flags & STORE_GROUP_LATEST))
		return -ERR_UNSUPPORTED;
	if (!s->ops->iter_groups)
		return s->ops->iter(s, p, cb, ud);
	return s->ops->iter_groups(s, p, flags, cb, ud);
}

int store_count_results(struct store *s, const struct store_period *p, uint64_t *out)
{
	*out = 0;
	if (p && p->sweep && !sweeps_supported(s))
		return -ERR_UNSUPPORTED;
	return s->ops->count_results(s, p, out);
}

static int check_sweep_text(const char *t)
{
	size_t n;

	if (t == NULL)
		return -ERR_SYNTAX;
	n = strnlen(t, STORE_SWEEP_TEXT_MAX);
	if (n == 0)
		return -ERR_SYNTAX;
	if (n >= STORE_SWEEP_TEXT_MAX)
		return -ERR_RANGE;
	for (size_t i = 0; i < n; i++)
		if (t[i] < 0x20 || t[i] > 0x7e)
			return -ERR_SYNTAX;
	return 0;
}

/* A sweep's row begun (durably, waited for) or ended (queued). */
static int sweep_put(struct store *s, const struct store_sweep *sw, bool begin)
{
	struct store_write *w = store_new_write(s, begin ? WOP_SWEEP_BEGIN : WOP_SWEEP_END, sw->id);

	if (!w)
		return -ENOMEM;
	if (!(w->sw = malloc(sizeof(*w->sw)))) {
		s->ops->drop(w);
		return -ENOMEM;
	}
	*w->sw = *sw;
	return store_enqueue(s, w, begin ? STORE_QUEUE_WAIT | STORE_QUEUE_DURABLE : 0);
}

int store_sweep_begin(struct store *s, const struct store_sweep *sw)
{
	int r;

	if (!sweeps_supported(s))
		return -ERR_UNSUPPORTED;
	if (!store_id_valid(sw->id))
		return -ERR_SYNTAX;
	if ((r = check_sweep_text(sw->targets)) < 0 || (r = check_sweep_text(sw->ports)) < 0)
		return r;
	return sweep_put(s, sw, true);
}

int store_sweep_end(struct store *s, const struct store_sweep *sw)
{
	if (!sweeps_supported(s))
		return -ERR_UNSUPPORTED;
	if (!store_id_valid(sw->id))
		return -ERR_SYNTAX;
	return sweep_put(s, sw, false);
}

int store_sweep_get(struct store *s, const char *id, struct store_sweep *out)
{
	memset(out, 0, sizeof(*out));
	if (!sweeps_supported(s))
		return -ERR_UNSUPPORTED;
	if (!store_id_valid(id))
		return -ERR_SYNTAX;
	return s->ops->sweep_get(s, id, out);
}

int store_sweep_list(struct store *s, store_sweep_cb *cb, void *ud)
{
	/* A backend without sweeps holds none. */
	return sweeps_supported(s) && s->ops->sweep_list ? s->ops->sweep_list(s, cb, ud) : 0;
}

int store_sweep_define(struct store *s, const struct store_sweep *sw, const char *spec,
                       unsigned shards)
{
	int r;

	if (!sweeps_supported(s) || !s->ops->sweep_define)
		return -ERR_UNSUPPORTED;
	if (!store_id_valid(sw->id))
		return -ERR_SYNTAX;
	if ((r = check_sweep_text(sw->targets)) < 0 || (r = check_sweep_text(sw->ports)) < 0)
		return r;
	if (shards == 0 || shards > STORE_SHARDS_MAX || !spec)
		return -ERR_RANGE;
	if (strnlen(spec, STORE_SWEEP_SPEC_MAX) >= STORE_SWEEP_SPEC_MAX)
		return -ERR_RANGE;
	return s->ops->sweep_define(s, sw, spec, shards);
}

/* Leases between a tenth of a second and an hour. */
static bool lease_ok(unsigned lease_ms)
{
	return lease_ms >= 100 && lease_ms <= 3600000;
}

int store_shard_claim(struct store *s, const char *sweep, unsigned lease_ms,
                      struct store_shard *out)
{
	memset(out, 0, sizeof(*out));
	if (!s->ops->shard_claim)
		return -ERR_UNSUPPORTED;
	if ((sweep && !store_id_valid(sweep)) || !lease_ok(lease_ms))
		return -ERR_SYNTAX;
	return s->ops->shard_claim(s, sweep, lease_ms, out);
}

int store_shard_renew(struct store *s, const struct store_shard *sh, unsigned lease_ms)
{
	if (!s->ops->shard_renew)
		return -ERR_UNSUPPORTED;
	if (!store_id_valid(sh->sweep) || !lease_ok(lease_ms))
		return -ERR_SYNTAX;
	return s->ops->shard_renew(s, sh, lease_ms);
}

int store_shard_done(struct store *s, const struct store_shard *sh,
                     const struct store_sweep *counts)
{
	if (!s->ops->shard_done)
		return -ERR_UNSUPPORTED;
	if (!store_id_valid(sh->sweep))
		return -ERR_SYNTAX;
	return s->ops->shard_done(s, sh, counts);
}

int store_shard_unclaim(struct store *s, const struct store_shard *sh)
{
	if (!s->ops->shard_unclaim)
		return -ERR_UNSUPPORTED;
	if (!store_id_valid(sh->sweep))
		return -ERR_SYNTAX;
	return s->ops->shard_unclaim(s, sh);
}

int store_shard_failed(struct store *s, const char *sweep, store_shard_failed_cb *cb, void *ud)
{
	if (!s->ops->shard_failed)
		return -ERR_UNSUPPORTED;
	if (sweep && !store_id_valid(sweep))
		return -ERR_SYNTAX;
	return s->ops->shard_failed(s, sweep, cb, ud);
}

void store_shard_release(struct store_shard *sh)
{
	free(sh->spec);
	sh->spec = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Summaries kept on the diagnosis row for the report.                                        */

int store_summarize(const struct store_result *r, char **checks, char **findings)
{
	/* Every name is < STORE_NAME_MAX (ids < FINDING_ID_MAX), plus separators: a ceiling that
	 * a valid result never reaches. */
	struct sbuf c, f;
	int rc;

	sbuf_init(&c, r->n_states * (2 * STORE_NAME_MAX + 2));
	sbuf_init(&f, r->n_findings * (STORE_NAME_MAX + FINDING_ID_MAX + 40));
	/* The checks as the diagnosis folded them, in its order. */
	for (size_t k = 0; k < r->n_states; k++)
		sbuf_addf(&c, "%s%s=%s", k ? "," : "", r->states[k].check, r->states[k].state);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct store_finding_row *x = &r->findings[i];

		sbuf_addf(&f, "%s%s/%s/%s/%s", i ? "," : "", x->check, x->id,
		          severity_name(x->severity), confidence_name(x->confidence));
	}
	rc = c.err ? c.err : f.err;
	*checks = sbuf_take(&c, NULL);
	*findings = sbuf_take(&f, NULL);
	if (rc == 0 && (!*checks || !*findings))
		rc = -ENOMEM;
	if (rc < 0) {
		free(*checks);
		free(*findings);
		*checks = *findings = NULL;
	}
	return rc;
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	if (need > STORE_ITER_ROWS_MAX)
		return -ERR_TOOBIG;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Copy the field [p, end) into dst (size n). Returns -ERR_SYNTAX if empty or too long. */
static int field(const char *p, const char *end, char *dst, size_t n)
{
	size_t len = (size_t)(end - p);

	if (len == 0 || len >= n)
		return -ERR_SYNTAX;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

static int parse_checks(struct store_summary_buf *b, const char *s)
{
	int r;

	b->n_checks = 0;
	while (s && *s) {
		const char *end = strchr(s, ','), *eq;
		struct store_iter_check *c;

		if (!end)
			end = s + strlen(s);
		eq = memchr(s, '=', (size_t)(end - s));
		if (!eq)
			return -ERR_SYNTAX;
		if ((r = grow((void **)&b->checks, &b->cap_checks, b->n_checks + 1,
		              sizeof(*b->checks))) < 0)
			return r;
		c = &b->checks[b->n_checks];
		if ((r = field(s, eq, c->check, sizeof(c->check))) < 0 ||
		    (r = field(eq + 1, end, c->state, sizeof(c->state))) < 0)
			return r;
		b->n_checks++;
		s = *end ? end + 1 : end;
	}
	return 0;
}

static int parse_findings(struct store_summary_buf *b, const char *s)
{
	char sev[STORE_NAME_MAX], conf[STORE_NAME_MAX];
	int r;

	b->n_findings = 0;
	while (s && *s) {
		const char *end = strchr(s, ','), *p1, *p2, *p3;
		struct store_iter_finding *f;

		if (!end)
			end = s + strlen(s);
		p1 = memchr(s, '/', (size_t)(end - s));
		p2 = p1 ? memchr(p1 + 1, '/', (size_t)(end - p1 - 1)) : NULL;
		p3 = p2 ? memchr(p2 + 1, '/', (size_t)(end - p2 - 1)) : NULL;
		if (!p3)
			return -ERR_SYNTAX;
		if ((r = grow((void **)&b->findings, &b->cap_findings, b->n_findings + 1,
		              sizeof(*b->findings))) < 0)
			return r;
		f = &b->findings[b->n_findings];
		if ((r = field(s, p1, f->check, sizeof(f->check))) < 0 ||
		    (r = field(p1 + 1, p2, f->id, sizeof(f->id))) < 0 ||
		    (r = field(p2 + 1, p3, sev, sizeof(sev))) < 0 ||
		    (r = field(p3 + 1, end, conf, sizeof(conf))) < 0)
			return r;
		if (severity_parse(sev, &f->severity) < 0 ||
		    confidence_parse(conf, &f->confidence) < 0)
			return -ERR_SYNTAX;
		b->n_findings++;
		s = *end ? end + 1 : end;
	}
	return 0;
}

int store_summary_parse(struct store_summary_buf *b, const char *checks, const char *findings)
{
	int r;

	if ((r = parse_checks(b, checks)) < 0)
		return r;
	return parse_findings(b, findings);
}

void store_summary_buf_done(struct store_summary_buf *b)
{
	free(b->checks);
	free(b->findings);
	memset(b, 0, sizeof(*b));
}

int store_dump(struct store *s, store_dump_cb *cb, void *ud)
{
	return s->ops->dump(s, cb, ud);
}

/* A summary as the report will parse it: well-formed, or refused before it is copied. */
static int check_summaries(const struct store_full *f)
{
	struct store_summary_buf b = {0};
	int r = store_summary_parse(&b, f->checks_summary, f->findings_summary);

	store_summary_buf_done(&b);
	return r;
}

int store_import(struct store *s, const struct store_full *f)
{
	struct store_new nd = {
	    .id = f->id,
	    .token_hash = f->token_hash,
	    .requester_hash = f->requester_hash,
	    .prefix = f->prefix,
	    .family = f->family,
	    .lang = f->lang,
	    .created_ms = f->created_ms,
	    .device = f->device,
	    .connection = f->connection,
	    .sweep = f->sweep,
	    .address = f->address,
	};
	int r;

	if ((r = check_new(&nd)) < 0)
		return r;
	/* A backend without sweeps would turn a sweep's host into one of the service's results. */
	if (f->sweep && !sweeps_supported(s))
		return -ERR_UNSUPPORTED;
	if ((unsigned)f->status >= STORE_STATUS_X_MAX || f->families > STORE_FAMILY_BOTH ||
	    f->n_checks > STORE_ITER_ROWS_MAX || f->n_findings > STORE_ITER_ROWS_MAX)
		return -ERR_RANGE;
	if ((f->n_checks && !f->checks) || (f->n_findings && !f->findings))
		return -ERR_SYNTAX;
	if ((f->risk && (r = check_name(f->risk, NAME_TOKEN)) < 0) ||
	    (r = check_rows(f->checks, f->n_checks, f->findings, f->n_findings)) < 0 ||
	    (r = check_summaries(f)) < 0)
		return r;
	return s->ops->import(s, f);
}

/* Bytes of s with its NUL (0 for NULL). */
static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copy s to *p (advancing it) and return the copy; NULL stays NULL. */
static const char *pack_str(char **p, const char *s)
{
	char *d = *p;
	size_t n = str_size(s);

	if (!s)
		return NULL;
	memcpy(d, s, n);
	*p += n;
	return d;
}

struct store_full *store_full_dup(const struct store_full *f)
{
	size_t size = sizeof(struct store_full) + STORE_HASH_BYTES +
	              f->n_checks * sizeof(struct store_check_row) +
	              f->n_findings * sizeof(struct store_finding_row);
	struct store_check_row *checks;
	struct store_finding_row *findings;
	struct store_full *d;
	uint8_t *th;
	char *p;

	size += str_size(f->id) + str_size(f->requester_hash) + str_size(f->prefix) +
	        str_size(f->lang) + str_size(f->risk) + str_size(f->checks_summary) +
	        str_size(f->findings_summary) + str_size(f->json) + str_size(f->sweep) +
	        str_size(f->address);
	for (size_t i = 0; i < f->n_checks; i++)
		size += str_size(f->checks[i].check) + str_size(f->checks[i].state) +
		        str_size(f->checks[i].reason) + str_size(f->checks[i].service);
	for (size_t i = 0; i < f->n_findings; i++)
		size += str_size(f->findings[i].check) + str_size(f->findings[i].id);
	if (!(d = malloc(size)))
		return NULL;
	*d = *f;
	checks = (struct store_check_row *)(d + 1);
	findings = (struct store_finding_row *)(checks + f->n_checks);
	th = (uint8_t *)(findings + f->n_findings);
	p = (char *)(th + STORE_HASH_BYTES);
	memcpy(th, f->token_hash, STORE_HASH_BYTES);
	d->token_hash = th;
	d->id = pack_str(&p, f->id);
	d->requester_hash = pack_str(&p, f->requester_hash);
	d->prefix = pack_str(&p, f->prefix);
	d->lang = pack_str(&p, f->lang);
	d->risk = pack_str(&p, f->risk);
	d->checks_summary = pack_str(&p, f->checks_summary);
	d->findings_summary = pack_str(&p, f->findings_summary);
	d->json = pack_str(&p, f->json);
	d->sweep = pack_str(&p, f->sweep);
	d->address = pack_str(&p, f->address);
	for (size_t i = 0; i < f->n_checks; i++) {
		checks[i] = f->checks[i];
		checks[i].check = pack_str(&p, f->checks[i].check);
		checks[i].state = pack_str(&p, f->checks[i].state);
		checks[i].reason = pack_str(&p, f->checks[i].reason);
		checks[i].service = pack_str(&p, f->checks[i].service);
	}
	for (size_t i = 0; i < f->n_findings; i++) {
		findings[i] = f->findings[i];
		findings[i].check = pack_str(&p, f->findings[i].check);
		findings[i].id = pack_str(&p, f->findings[i].id);
	}
	d->checks = f->n_checks ? checks : NULL;
	d->findings = f->n_findings ? findings : NULL;
	return d;
}

/* Text that fits a fixed field, or -ERR_SYNTAX (a stored row is never cut silently). */
static int fit(char *dst, size_t n, const char *src)
{
	if (strlen(src) >= n)
		return -ERR_SYNTAX;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int store_dump_add_port(struct store_dump_buf *b, const char *check, int64_t port,
                        const char *state, const char *reason, double rtt_ms, const char *service)
{
	struct store_dump_port *p;
	int r;

	if (port < 0 || port > 65535 || !check || !state)
		return -ERR_SYNTAX;
	if ((r = grow((void **)&b->ports, &b->cap_checks, b->n_checks + 1, sizeof(*p))) < 0)
		return r;
	p = &b->ports[b->n_checks];
	memset(p, 0, sizeof(*p));
	if (fit(p->check, sizeof(p->check), check) < 0 ||
	    fit(p->state, sizeof(p->state), state) < 0 ||
	    (reason && fit(p->reason, sizeof(p->reason), reason) < 0) ||
	    (service && fit(p->service, sizeof(p->service), service) < 0))
		return -ERR_SYNTAX;
	p->has_reason = reason != NULL;
	p->has_service = service != NULL;
	p->port = (uint16_t)port;
	p->rtt_ms = rtt_ms;
	b->n_checks++;
	return 0;
}

int store_dump_add_finding(struct store_dump_buf *b, const char *check, const char *id,
                           const char *severity, const char *confidence)
{
	struct store_dump_finding *f;
	int r;

	if (!check || !id)
		return -ERR_SYNTAX;
	if ((r = grow((void **)&b->finds, &b->cap_findings, b->n_findings + 1, sizeof(*f))) < 0)
		return r;
	f = &b->finds[b->n_findings];
	if (fit(f->check, sizeof(f->check), check) < 0 || fit(f->id, sizeof(f->id), id) < 0 ||
	    severity_parse(severity, &f->severity) < 0 ||
	    confidence_parse(confidence, &f->confidence) < 0)
		return -ERR_SYNTAX;
	b->n_findings++;
	return 0;
}

void store_dump_fill(struct store_dump_buf *b, struct store_full *f)
{
	/* The row arrays follow the copies' capacity; grown here, once the copies are in. */
	size_t cc = 0, cf = 0;

	free(b->checks);
	free(b->findings);
	b->checks = b->n_checks ? calloc(b->n_checks, sizeof(*b->checks)) : NULL;
	b->findings = b->n_findings ? calloc(b->n_findings, sizeof(*b->findings)) : NULL;
	for (size_t i = 0; b->checks && i < b->n_checks; i++, cc++) {
		const struct store_dump_port *p = &b->ports[i];

		b->checks[i] = (struct store_check_row){
		    .check = p->check,
		    .port = p->port,
		    .state = p->state,
		    .reason = p->has_reason ? p->reason : NULL,
		    .rtt_ms = p->rtt_ms,
		    .service = p->has_service ? p->service : NULL,
		};
	}
	for (size_t i = 0; b->findings && i < b->n_findings; i++, cf++)
		b->findings[i] = (struct store_finding_row){
		    .check = b->finds[i].check,
		    .id = b->finds[i].id,
		    .severity = b->finds[i].severity,
		    .confidence = b->finds[i].confidence,
		};
	f->checks = b->checks;
	f->n_checks = cc;
	f->findings = b->findings;
	f->n_findings = cf;
}

void store_dump_reset(struct store_dump_buf *b)
{
	b->n_checks = 0;
	b->n_findings = 0;
}

void store_dump_done(struct store_dump_buf *b)
{
	free(b->ports);
	free(b->checks);
	free(b->finds);
	free(b->findings);
	memset(b, 0, sizeof(*b));
}
