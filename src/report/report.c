/* SPDX-License-Identifier: MIT */
/* Aggregation: one or two streaming passes over the store's results, memory bounded by groups. */
#include "report/report.h"

#include "catalogue/catalogue.h"
#include "core/err.h"
#include "report/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_CACHE_SLOTS 65536 /* power of two; filled to 3/4 at most */
#define FAMILY_SLOTS       (STORE_FAMILY_BOTH + 1)
#define BY_RAW_SLOTS       (STORE_CONN_X_MAX + STORE_DEVICE_X_MAX + FAMILY_SLOTS)
/* Where one row is counted: total, label, trend bucket, answer, class, families, and the
 * tested-on-IPv4, tested-on-IPv6 and tested-on-both sets. */
#define ROW_ACCS 9

/* Every check of the catalogue fits, with room for names only older stores hold. */
_Static_assert(CATALOGUE_MAX_CHECKS <= REPORT_MAX_CHECKS, "a report holds every catalogue check");

struct prefix_slot {
	char key[STORE_PREFIX_MAX];
	int label;
};

/* Latest result per requester: the first 128 bits of the keyed hash are plenty as a key. */
struct req_slot {
	uint64_t k0, k1; /* k0 == k1 == 0: empty (a real hash of all zeros is ignored) */
	uint64_t serial;
	int label;
};

struct run {
	struct report *r;
	const struct report_opts *o;
	int filter; /* label index, -1 unlabelled; only if has_filter */
	bool has_filter;
	size_t n_raw;              /* label groups + 1 (index 0 = unlabelled) */
	struct report_acc *raw;    /* per label, unfolded */
	struct prefix_slot *cache; /* stored prefix -> label */
	size_t cache_used;
	struct req_slot *req; /* pass 1 of --per requester */
	size_t req_mask, req_used;
	uint8_t *bits; /* latest serials, from min_serial */
	uint64_t min_serial, max_serial, nbits;
	uint64_t *pick; /* sorted sample positions */
	size_t n_pick, next_pick;
	uint64_t pos;   /* eligible rows seen in the counting pass */
	uint64_t rowno; /* for the per-row finding de-duplication */
	uint64_t seen[REPORT_MAX_FINDINGS];
	/* Per answer, per device class and per families, unfolded: [0, STORE_CONN_X_MAX), then
	 * the classes, then FAMILY_SLOTS indexed by the STORE_FAMILY_* bits (0 unused). */
	struct report_acc *by_raw;
	size_t bucket_cap;
	int err;
	char *errbuf;
	size_t errlen;
};

void report_free(struct report *r)
{
	if (r == NULL)
		return;
	free(r->groups);
	free(r->buckets);
	free(r);
}

const char *report_counting_name(const struct report *r)
{
	return r->opts.per == REPORT_PER_REQUESTER ? "requesters" : "results";
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static int label_of(struct run *u, const char *prefix)
{
	size_t i, mask = PREFIX_CACHE_SLOTS - 1;
	int l;

	if (u->o->labels == NULL)
		return -1;
	if (u->cache == NULL)
		return report_labels_match(u->o->labels, prefix);
	for (i = hash_str(prefix) & mask; u->cache[i].key[0] != '\0'; i = (i + 1) & mask)
		if (strcmp(u->cache[i].key, prefix) == 0)
			return u->cache[i].label;
	l = report_labels_match(u->o->labels, prefix);
	if (u->cache_used < PREFIX_CACHE_SLOTS / 4 * 3 && strlen(prefix) < STORE_PREFIX_MAX) {
		snprintf(u->cache[i].key, sizeof(u->cache[i].key), "%s", prefix);
		u->cache[i].label = l;
		u->cache_used++;
	}
	return l;
}

static int intern_check(struct run *u, const char *name, size_t hint)
{
	struct report *r = u->r;

	if (hint < r->n_checks && strcmp(r->check_names[hint], name) == 0)
		return (int)hint;
	for (size_t i = 0; i < r->n_checks; i++)
		if (strcmp(r->check_names[i], name) == 0)
			return (int)i;
	if (r->n_checks == REPORT_MAX_CHECKS)
		return -ERR_RANGE;
	snprintf(r->check_names[r->n_checks], STORE_NAME_MAX, "%s", name);
	return (int)r->n_checks++;
}

static int intern_finding(struct run *u, const char *id)
{
	struct report *r = u->r;

	for (size_t i = 0; i < r->n_findings; i++)
		if (strcmp(r->finding_names[i], id) == 0)
			return (int)i;
	if (r->n_findings == REPORT_MAX_FINDINGS)
		return -ERR_RANGE;
	snprintf(r->finding_names[r->n_findings], FINDING_ID_MAX, "%s", id);
	return (int)r->n_findings++;
}

static bool is_risky(const char *risk)
{
	return strcmp(risk, "medium") == 0 || strcmp(risk, "high") == 0 ||
	       strcmp(risk, "critical") == 0;
}

static struct report_acc *bucket_for(struct run *u, int64_t created_ms)
{
	struct report *r = u->r;
	int64_t start, end;

	if (u->o->trend == REPORT_TREND_DAY) {
		start = stats_day_start(created_ms);
		end = start + STATS_DAY_MS;
	} else {
		start = stats_week_start(created_ms);
		end = start + 7 * STATS_DAY_MS;
	}
	/* Rows come in created_ms order, so a new bucket is always the last one. */
	if (r->n_buckets > 0 && r->buckets[r->n_buckets - 1].start_ms == start)
		return &r->buckets[r->n_buckets - 1].acc;
	if (r->n_buckets == u->bucket_cap) {
		size_t cap = u->bucket_cap ? 2 * u->bucket_cap : 16;
		void *p = realloc(r->buckets, cap * sizeof(*r->buckets));

		if (p == NULL)
			return NULL;
		r->buckets = p;
		u->bucket_cap = cap;
	}
	r->buckets[r->n_buckets] = (struct report_bucket){.start_ms = start, .end_ms = end};
	return &r->buckets[r->n_buckets++].acc;
}

static void count_finding(struct report_acc *a, int f, bool unknown, uint64_t w)
{
	if (unknown)
		a->finding_unknown[f] += w;
	else
		a->finding[f] += w;
}

/* The 2017 claim: of the results with the headline open, how many answered SIM or modem. */
static void count_mobile(struct report *r, const struct store_iter_row *row)
{
	if (row->connection != STORE_CONN_NONE)
		r->headline_answered += row->count;
	if (row->connection == STORE_CONN_SIM || row->connection == STORE_CONN_USB_MODEM)
		r->headline_mobile += row->count;
}

/* The families figures: what was tested, and the cross-family findings that hold. */
static void count_families(struct report *r, const struct store_iter_row *row)
{
	bool only[2] = {false, false};

	for (size_t i = 0; i < row->n_findings; i++) {
		if (row->findings[i].confidence == CONFIDENCE_UNKNOWN)
			continue;
		if (strcmp(row->findings[i].id, FINDING_IPV4_ONLY) == 0)
			only[0] = true;
		else if (strcmp(row->findings[i].id, FINDING_IPV6_ONLY) == 0)
			only[1] = true;
	}
	r->only_exposure[0] += only[0] ? row->count : 0;
	r->only_exposure[1] += only[1] ? row->count : 0;
}

/*
 * Add one row to the totals, its label group, its trend bucket, its answer, its class, its
 * families and the families it was tested on: row->count times (a group of alike results,
 * store_iter_groups, or one).
 */
static int count_row(struct run *u, const struct store_iter_row *row, int label)
{
	/* The store gives values of its enums only; anything else counts as none. */
	unsigned conn = (unsigned)row->connection < STORE_CONN_X_MAX ? row->connection : 0;
	unsigned dev = (unsigned)row->device < STORE_DEVICE_X_MAX ? row->device : 0;
	unsigned fam = row->families & STORE_FAMILY_BOTH;
	struct report_acc *acc[ROW_ACCS] = {
	    &u->r->total,
	    &u->raw[label + 1],
	    NULL,
	    &u->by_raw[conn],
	    &u->by_raw[STORE_CONN_X_MAX + dev],
	    &u->by_raw[STORE_CONN_X_MAX + STORE_DEVICE_X_MAX + fam],
	    fam & STORE_FAMILY_V4 ? &u->r->tested[0] : NULL,
	    fam & STORE_FAMILY_V6 ? &u->r->tested[1] : NULL,
	    fam == STORE_FAMILY_BOTH ? &u->r->tested[2] : NULL,
	};
	uint64_t w = row->count;
	bool headline = false, risky = is_risky(row->risk);
	int ci[REPORT_MAX_CHECKS], fi[16];
	bool fu[16], ran[REPORT_MAX_CHECKS] = {0}, reach[REPORT_MAX_CHECKS] = {0};
	size_t nci = 0, nfi = 0;

	if (u->o->trend != REPORT_TREND_NONE && (acc[2] = bucket_for(u, row->created_ms)) == NULL)
		return -ENOMEM;
	u->rowno++;
	for (size_t i = 0; i < row->n_checks; i++) {
		int c = intern_check(u, row->checks[i].check, i);

		if (c < 0)
			return c;
		ran[c] = reach[c] = true;
		const struct check_def *def = catalogue_find(row->checks[i].check);
		if (def && def->runs) {
			int run = intern_check(u, def->runs, REPORT_MAX_CHECKS);

			if (run < 0)
				return run;
			reach[run] = true;
		}
		if (strcmp(row->checks[i].state, "open") != 0 || nci == REPORT_MAX_CHECKS)
			continue;
		ci[nci++] = c;
		if (catalogue_headline(row->checks[i].check))
			headline = true;
	}
	/*
	 * A finding holds for a result when it is there with a confidence other than unknown (the
	 * first pass); one there only as unknown, a question not answered, is counted apart (the
	 * second). Each id once per result.
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < row->n_findings; i++) {
			bool unknown = row->findings[i].confidence == CONFIDENCE_UNKNOWN;
			int f;

			if (unknown != (pass == 1))
				continue;
			if ((f = intern_finding(u, row->findings[i].id)) < 0)
				return f;
			if (u->seen[f] == u->rowno)
				continue;
			u->seen[f] = u->rowno;
			if (nfi < sizeof(fi) / sizeof(fi[0])) {
				fu[nfi] = unknown;
				fi[nfi++] = f;
			} else {
				/* Rare: more than 16 distinct findings; count them directly. */
				for (int k = 0; k < ROW_ACCS; k++)
					if (acc[k])
						count_finding(acc[k], f, unknown, w);
			}
		}
	}
	if (headline)
		count_mobile(u->r, row);
	count_families(u->r, row);
	for (int k = 0; k < ROW_ACCS; k++) {
		if (!acc[k])
			continue; /* no trend, or a family not tested */
		acc[k]->n += w;
		acc[k]->headline += headline ? w : 0;
		acc[k]->risky += risky ? w : 0;
		for (size_t i = 0; i < nci; i++)
			acc[k]->check_open[ci[i]] += w;
		for (size_t c = 0; c < REPORT_MAX_CHECKS; c++) {
			acc[k]->check_run[c] += ran[c] ? w : 0;
			acc[k]->check_reach[c] += reach[c] ? w : 0;
		}
		for (size_t i = 0; i < nfi; i++)
			count_finding(acc[k], fi[i], fu[i], w);
	}
	return 0;
}

static bool passes_filter(const struct run *u, int label)
{
	return !u->has_filter || label == u->filter;
}

static int hex_u64(const char *h, uint64_t *out)
{
	uint64_t v = 0;

	for (int i = 0; i < 16; i++) {
		char c = h[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			return -ERR_SYNTAX;
		v = (v << 4) | (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int req_grow(struct run *u)
{
	size_t cap = u->req ? 2 * (u->req_mask + 1) : 4096;
	struct req_slot *n = calloc(cap, sizeof(*n));

	if (n == NULL)
		return -ENOMEM;
	for (size_t i = 0; u->req && i <= u->req_mask; i++) {
		struct req_slot *s = &u->req[i];
		size_t j;

		if (s->k0 == 0 && s->k1 == 0)
			continue;
		for (j = (size_t)(s->k0 ^ s->k1) & (cap - 1); n[j].k0 || n[j].k1;
		     j = (j + 1) & (cap - 1))
			;
		n[j] = *s;
	}
	free(u->req);
	u->req = n;
	u->req_mask = cap - 1;
	return 0;
}

/* Pass 1 of --per requester: remember each requester's latest row (rows come oldest first). */
static int pass_requesters(void *ud, const struct store_iter_row *row)
{
	struct run *u = ud;
	uint64_t k0, k1;
	size_t j;

	if (hex_u64(row->requester_hash, &k0) < 0 || hex_u64(row->requester_hash + 16, &k1) < 0)
		return 0; /* the store validates hashes; nothing sensible to count otherwise */
	if ((k0 | k1) == 0)
		return 0;
	if ((u->req == NULL || u->req_used + 1 > (u->req_mask + 1) / 4 * 3) &&
	    (u->err = req_grow(u)) < 0)
		return 1;
	for (j = (size_t)(k0 ^ k1) & u->req_mask; u->req[j].k0 || u->req[j].k1;
	     j = (j + 1) & u->req_mask)
		if (u->req[j].k0 == k0 && u->req[j].k1 == k1)
			break;
	if (u->req[j].k0 == 0 && u->req[j].k1 == 0)
		u->req_used++;
	u->req[j] = (struct req_slot){
	    .k0 = k0, .k1 = k1, .serial = row->serial, .label = label_of(u, row->prefix)};
	return 0;
}

/* Pass 1 when sampling results with a label filter: count the eligible rows. */
static int pass_count(void *ud, const struct store_iter_row *row)
{
	struct run *u = ud;

	if (passes_filter(u, label_of(u, row->prefix)))
		u->pos++;
	return 0;
}

static bool latest(const struct run *u, uint64_t serial)
{
	uint64_t b;

	if (serial < u->min_serial || serial > u->max_serial)
		return false;
	b = serial - u->min_serial;
	return (u->bits[b / 8] >> (b % 8)) & 1;
}

static int pass_final(void *ud, const struct store_iter_row *row)
{
	struct run *u = ud;
	int label = label_of(u, row->prefix);

	if (!passes_filter(u, label))
		return 0;
	if (u->bits != NULL && !latest(u, row->serial))
		return 0;
	if (u->pick != NULL) {
		uint64_t here = u->pos++;

		if (u->next_pick >= u->n_pick)
			return 1; /* every pick counted: stop early */
		if (here != u->pick[u->next_pick])
			return 0;
		u->next_pick++;
	}
	if ((u->err = count_row(u, row, label)) < 0)
		return 1;
	return 0;
}

static int build_bitmap(struct run *u)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	u->pos = 0;
	for (size_t i = 0; u->req && i <= u->req_mask; i++) {
		const struct req_slot *s = &u->req[i];

		if (s->k0 == 0 && s->k1 == 0)
			continue;
		lo = s->serial < lo ? s->serial : lo;
		hi = s->serial > hi ? s->serial : hi;
		if (passes_filter(u, s->label))
			u->pos++;
	}
	if (lo > hi) {
		lo = 1;
		hi = 0;
	}
	u->min_serial = lo;
	u->max_serial = hi;
	u->nbits = hi >= lo ? hi - lo + 1 : 0;
	u->bits = calloc(u->nbits / 8 + 1, 1);
	if (u->bits == NULL)
		return -ENOMEM;
	for (size_t i = 0; u->req && i <= u->req_mask; i++) {
		const struct req_slot *s = &u->req[i];
		uint64_t b;

		if (s->k0 == 0 && s->k1 == 0)
			continue;
		b = s->serial - lo;
		u->bits[b / 8] |= (uint8_t)(1u << (b % 8));
	}
	free(u->req);
	u->req = NULL;
	return 0;
}

static int cmp_check(const void *a, const void *b, void *ctx)
{
	const struct report *r = ctx;
	const char *x = r->check_names[*(const size_t *)a];
	const char *y = r->check_names[*(const size_t *)b];
	size_t rx = catalogue_rank(x), ry = catalogue_rank(y);

	/* Checks the catalogue no longer knows (older stores) come last, by name. */
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(x, y);
}

static int cmp_finding(const void *a, const void *b, void *ctx)
{
	const struct report *r = ctx;

	return strcmp(r->finding_names[*(const size_t *)a], r->finding_names[*(const size_t *)b]);
}

static int cmp_group(const void *a, const void *b)
{
	const struct report_group *x = a, *y = b;

	if (x->acc.n != y->acc.n)
		return x->acc.n > y->acc.n ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void acc_add(struct report_acc *to, const struct report_acc *from)
{
	to->n += from->n;
	to->headline += from->headline;
	to->risky += from->risky;
	for (size_t i = 0; i < REPORT_MAX_CHECKS; i++) {
		to->check_open[i] += from->check_open[i];
		to->check_run[i] += from->check_run[i];
		to->check_reach[i] += from->check_reach[i];
	}
	for (size_t i = 0; i < REPORT_MAX_FINDINGS; i++) {
		to->finding[i] += from->finding[i];
		to->finding_unknown[i] += from->finding_unknown[i];
	}
}

/* Shown groups: each label group of at least min_group; the rest folded into "other". */
static int fold_groups(struct run *u)
{
	struct report *r = u->r;
	struct report_acc *other;
	size_t shown = 0;

	if (u->o->labels == NULL)
		return 0;
	other = calloc(1, sizeof(*other));
	r->groups = calloc(u->n_raw + 1, sizeof(*r->groups));
	if (other == NULL || r->groups == NULL) {
		free(other);
		return -ENOMEM;
	}
	for (size_t i = 0; i < u->n_raw; i++) {
		const struct report_acc *a = &u->raw[i];
		const char *name =
		    i == 0 ? LABELS_UNLABELLED : report_labels_name(u->o->labels, i - 1);

		if (a->n == 0)
			continue;
		if (a->n < r->min_group) {
			acc_add(other, a);
			continue;
		}
		snprintf(r->groups[shown].name, LABELS_NAME_MAX, "%s", name);
		r->groups[shown++].acc = *a;
	}
	qsort(r->groups, shown, sizeof(*r->groups), cmp_group);
	if (other->n >= r->min_group) {
		snprintf(r->groups[shown].name, LABELS_NAME_MAX, "%s", LABELS_OTHER);
		r->groups[shown++].acc = *other;
	} else {
		r->suppressed = other->n;
	}
	r->n_groups = shown;
	free(other);
	return 0;
}

/* The shown answers: in the enum's order, the unanswered (slot 0) last, small ones folded. */
static void fold_answers(const struct report *r, const struct report_acc *raw, unsigned n_raw,
                         const char *(*name)(unsigned), struct report_answers *out)
{
	struct report_acc other = {0};

	for (unsigned k = 1; k <= n_raw; k++) {
		const struct report_acc *a = &raw[k % n_raw];

		if (a->n == 0)
			continue;
		if (a->n < r->min_group) {
			acc_add(&other, a);
			continue;
		}
		snprintf(out->groups[out->n_groups].name, LABELS_NAME_MAX, "%s", name(k % n_raw));
		out->groups[out->n_groups++].acc = *a;
	}
	if (other.n >= r->min_group) {
		snprintf(out->groups[out->n_groups].name, LABELS_NAME_MAX, "%s", REPORT_BY_FOLDED);
		out->groups[out->n_groups++].acc = other;
	} else {
		out->suppressed = other.n;
	}
}

static const char *connection_group(unsigned i)
{
	const char *n = store_connection_name((enum store_connection)i);

	return n ? n : REPORT_NO_ANSWER;
}

static const char *device_group(unsigned i)
{
	const char *n = store_device_name((enum store_device)i);

	return n ? n : REPORT_NOT_RECORDED;
}

/* Slot i holds the STORE_FAMILY_* bits i; 0 (no family) never counts anything. */
static const char *family_group(unsigned i)
{
	return i == STORE_FAMILY_V4   ? REPORT_FAMILY_V4
	       : i == STORE_FAMILY_V6 ? REPORT_FAMILY_V6
	                              : REPORT_FAMILY_BOTH;
}

_Static_assert(STORE_CONN_X_MAX + 1 <= REPORT_ANSWERS_MAX, "every answer and the fold fit");
_Static_assert(FAMILY_SLOTS + 1 <= REPORT_ANSWERS_MAX, "every families group and the fold fit");
_Static_assert(STORE_DEVICE_X_MAX + 1 <= REPORT_ANSWERS_MAX, "every class and the fold fit");

const char *report_by_name(enum report_by by)
{
	return by == REPORT_BY_CONNECTION ? "connection"
	       : by == REPORT_BY_DEVICE   ? "device"
	       : by == REPORT_BY_FAMILY   ? "family"
	                                  : "";
}

int report_by_parse(const char *s, enum report_by *out)
{
	if (s && strcmp(s, "connection") == 0)
		*out = REPORT_BY_CONNECTION;
	else if (s && strcmp(s, "device") == 0)
		*out = REPORT_BY_DEVICE;
	else if (s && strcmp(s, "family") == 0)
		*out = REPORT_BY_FAMILY;
	else
		return -ERR_SYNTAX;
	return 0;
}

static int resolve_filter(struct run *u)
{
	const char *f = u->o->label_filter;

	if (f == NULL || *f == '\0')
		return 0;
	u->has_filter = true;
	snprintf(u->r->label_filter, sizeof(u->r->label_filter), "%s", f);
	if (strcmp(f, LABELS_UNLABELLED) == 0) {
		u->filter = -1;
		return 0;
	}
	for (size_t i = 0; i < report_labels_count(u->o->labels); i++) {
		if (strcmp(report_labels_name(u->o->labels, i), f) == 0) {
			u->filter = (int)i;
			return 0;
		}
	}
	snprintf(u->errbuf, u->errlen, "no label '%.*s' in the labels file", LABELS_NAME_MAX, f);
	return -ERR_SYNTAX;
}

/* What a walk of the store returned (r), or the callback's own failure. */
static int walked(struct run *u, int r)
{
	if (u->err < 0)
		return u->err;
	if (r < 0) {
		snprintf(u->errbuf, u->errlen, "reading the store: %s", err_str(r));
		return r;
	}
	return 0;
}

static int iterate(struct run *u, struct store *s, store_iter_cb *cb)
{
	return walked(u, store_iter_results(s, &u->r->opts.period, cb, u));
}

/* Pass 1 of --per requester in the report: each requester's latest row, and how many. */
static int pick_latest(struct run *u, struct store *s)
{
	int r;

	if ((r = iterate(u, s, pass_requesters)) < 0 || (r = build_bitmap(u)) < 0)
		return r;
	u->r->population = u->pos;
	return 0;
}

/*
 * The counting pass. Counting every result of the period needs no row's identity or time:
 * the store may give alike results once with their number (store_iter_groups; PostgreSQL
 * groups them in the server), and per requester it may pick each requester's latest result
 * itself (STORE_GROUP_LATEST; a store that cannot, SQLite, leaves it to pick_latest). A
 * sample or a trend need the rows one by one.
 */
static int count_all(struct run *u, struct store *s)
{
	unsigned flags = u->o->labels ? STORE_GROUP_PREFIX : 0;
	int r;

	if (u->o->sample_n > 0) /* prepare picked the rows (and per requester, the latest) */
		return iterate(u, s, pass_final);
	if (u->o->per == REPORT_PER_REQUESTER && u->o->trend == REPORT_TREND_NONE) {
		r = store_iter_groups(s, &u->r->opts.period, flags | STORE_GROUP_LATEST, pass_final,
		                      u);
		if (r != -ERR_UNSUPPORTED) {
			u->r->population = u->r->total.n;
			return walked(u, r);
		}
	}
	if (u->o->per == REPORT_PER_REQUESTER && (r = pick_latest(u, s)) < 0)
		return r;
	if (u->o->per == REPORT_PER_REQUESTER || u->o->trend != REPORT_TREND_NONE)
		return iterate(u, s, pass_final);
	return walked(u, store_iter_groups(s, &u->r->opts.period, flags, pass_final, u));
}

/* Decide the population and the sample before the counting pass. */
static int prepare(struct run *u, struct store *s)
{
	const struct report_opts *o = u->o;
	int r;

	if (o->sample_n == 0)
		return 0; /* per requester: count_all */
	if (o->per == REPORT_PER_REQUESTER) {
		if ((r = pick_latest(u, s)) < 0)
			return r;
	} else if (u->has_filter) {
		if ((r = iterate(u, s, pass_count)) < 0)
			return r;
		u->r->population = u->pos;
	} else if ((r = store_count_results(s, &u->r->opts.period, &u->r->population)) < 0) {
		snprintf(u->errbuf, u->errlen, "counting results: %s", err_str(r));
		return r;
	}
	u->pos = 0;
	if (u->r->population == 0)
		return 0;
	if (o->sample_n > u->r->population) {
		snprintf(u->errbuf, u->errlen,
		         "sample of %llu is larger than the %llu %s in the period",
		         (unsigned long long)o->sample_n, (unsigned long long)u->r->population,
		         report_counting_name(u->r));
		return -ERR_RANGE;
	}
	if ((r = stats_sample(u->r->population, o->sample_n, o->seed, &u->pick)) < 0)
		return r;
	u->n_pick = (size_t)o->sample_n;
	return 0;
}

int report_run(struct store *s, const struct report_opts *o, struct report **out, char *err,
               size_t errlen)
{
	struct run u = {.o = o, .errbuf = err, .errlen = errlen};
	struct report *r;
	int ret;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	r = calloc(1, sizeof(*r));
	u.r = r;
	u.n_raw = report_labels_count(o->labels) + 1;
	u.raw = calloc(u.n_raw, sizeof(*u.raw));
	u.by_raw = calloc(BY_RAW_SLOTS, sizeof(*u.by_raw));
	if (o->labels != NULL)
		u.cache = calloc(PREFIX_CACHE_SLOTS, sizeof(*u.cache));
	if (r == NULL || u.raw == NULL || u.by_raw == NULL ||
	    (o->labels != NULL && u.cache == NULL)) {
		ret = -ENOMEM;
		goto out;
	}
	r->opts = *o;
	catalogue_headline_ports(r->headline_name, sizeof(r->headline_name), "-or-");
	catalogue_headline_ports(r->headline_ports, sizeof(r->headline_ports), " or ");
	if (r->opts.period.until_ms == 0)
		r->opts.period.until_ms = INT64_MAX;
	r->min_group = o->min_group ? o->min_group : REPORT_MIN_GROUP;
	if ((ret = resolve_filter(&u)) < 0 || (ret = prepare(&u, s)) < 0)
		goto out;
	if ((ret = count_all(&u, s)) < 0)
		goto out;
	if (o->sample_n == 0 && o->per != REPORT_PER_REQUESTER)
		r->population = r->total.n;
	if (u.has_filter && r->total.n > 0 && r->total.n < r->min_group) {
		/* A small label group on its own could point at a person. */
		snprintf(err, errlen, "label '%s' has fewer than %u %s in the period",
		         r->label_filter, r->min_group, report_counting_name(r));
		ret = -ERR_RANGE;
		goto out;
	}
	if ((ret = fold_groups(&u)) < 0)
		goto out;
	fold_answers(r, u.by_raw, STORE_CONN_X_MAX, connection_group, &r->by_connection);
	fold_answers(r, u.by_raw + STORE_CONN_X_MAX, STORE_DEVICE_X_MAX, device_group,
	             &r->by_device);
	fold_answers(r, u.by_raw + STORE_CONN_X_MAX + STORE_DEVICE_X_MAX, FAMILY_SLOTS,
	             family_group, &r->by_family);
	for (size_t i = 0; i < r->n_checks; i++)
		r->check_order[i] = i;
	for (size_t i = 0; i < r->n_findings; i++)
		r->finding_order[i] = i;
	qsort_r(r->check_order, r->n_checks, sizeof(size_t), cmp_check, r);
	qsort_r(r->finding_order, r->n_findings, sizeof(size_t), cmp_finding, r);
	*out = r;
	r = NULL;
	ret = 0;
out:
	if (ret == -ENOMEM && err && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	if (ret == -ERR_RANGE && err && err[0] == '\0')
		snprintf(err, errlen, "more than %d checks or %d finding ids in the store",
		         REPORT_MAX_CHECKS, REPORT_MAX_FINDINGS);
	report_free(r);
	free(u.raw);
	free(u.by_raw);
	free(u.cache);
	free(u.req);
	free(u.bits);
	free(u.pick);
	return ret;
}
