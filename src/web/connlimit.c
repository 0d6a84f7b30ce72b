/* SPDX-License-Identifier: MIT */
/* The front's table of HTTP connections (connlimit.h). */
#include "web/connlimit.h"
#include "core/err.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

size_t connlimit_capacity(unsigned limit)
{
	/* Shed connections keep their slot until the library closes them (a few ms). */
	return (size_t)limit + limit / 8 + 16;
}

/* The networks a counts against: IPv4 /32; IPv6 /64 and /48. */
static void nets_of(const struct addr *a, struct conn_net net[2])
{
	memset(net, 0, 2 * sizeof(*net));
	if (a->family == AF_INET) {
		net[0].kind = 4;
		memcpy(net[0].bytes, a->bytes, 4);
	} else if (a->family == AF_INET6 && memcmp(a->bytes, v4mapped, 12) == 0) {
		net[0].kind = 4;
		memcpy(net[0].bytes, a->bytes + 12, 4);
	} else if (a->family == AF_INET6) {
		net[0].kind = 64;
		memcpy(net[0].bytes, a->bytes, 8);
		net[1].kind = 48;
		memcpy(net[1].bytes, a->bytes, 6);
	}
}

static unsigned limit_of(const struct connlimit *cl, const struct conn_net *n)
{
	return n->kind == 48 ? cl->cfg.per_48 : cl->cfg.per_net;
}

/* ------------------------------------------------------------------------------------------ */
/* Counts per network: open addressing, linear probing, keyed hash, deletion by shifting back. */

static size_t home(const struct connlimit *cl, const struct conn_net *n)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const unsigned char *)n, sizeof(*n), cl->key);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & (cl->n_counts - 1);
}

static bool net_equal(const struct conn_net *a, const struct conn_net *b)
{
	return a->kind == b->kind && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

/* The entry of n, or the empty one where it would go. */
static struct conn_count *count_find(struct connlimit *cl, const struct conn_net *n)
{
	size_t mask = cl->n_counts - 1, i = home(cl, n);

	while (cl->counts[i].n && !net_equal(&cl->counts[i].net, n))
		i = (i + 1) & mask;
	return &cl->counts[i];
}

static unsigned count_of(struct connlimit *cl, const struct conn_net *n)
{
	return n->kind ? count_find(cl, n)->n : 0;
}

static void count_add(struct connlimit *cl, const struct conn_net *n)
{
	struct conn_count *e;

	if (!n->kind)
		return;
	e = count_find(cl, n);
	e->net = *n;
	e->n++;
}

/* Empty entry i, then move back every later entry of its run that may not skip the hole. */
static void count_erase(struct connlimit *cl, size_t i)
{
	size_t mask = cl->n_counts - 1, j = i;

	for (;;) {
		size_t h;

		j = (j + 1) & mask;
		if (!cl->counts[j].n)
			break;
		h = home(cl, &cl->counts[j].net);
		/* The entry at j stays when its home lies cyclically in (i, j]. */
		if (i <= j ? (h > i && h <= j) : (h > i || h <= j))
			continue;
		cl->counts[i] = cl->counts[j];
		i = j;
	}
	memset(&cl->counts[i], 0, sizeof(cl->counts[i]));
}

static void count_del(struct connlimit *cl, const struct conn_net *n)
{
	struct conn_count *e;

	if (!n->kind)
		return;
	e = count_find(cl, n);
	if (!e->n)
		return;
	if (--e->n == 0)
		count_erase(cl, (size_t)(e - cl->counts));
}

/* ------------------------------------------------------------------------------------------ */
/* Slots.                                                                                      */

int connlimit_init(struct connlimit *cl, const struct connlimit_config *cfg)
{
	size_t n = 64;

	memset(cl, 0, sizeof(*cl));
	if (cfg->limit == 0)
		return -ERR_RANGE;
	if (sodium_init() < 0)
		return -ERR_INTERNAL;
	cl->cfg = *cfg;
	cl->n_slots = connlimit_capacity(cfg->limit);
	/* Two networks per slot at most; a load of one half or less keeps probes short. */
	while (n < 4 * cl->n_slots)
		n <<= 1;
	cl->n_counts = n;
	cl->slots = calloc(cl->n_slots, sizeof(*cl->slots));
	cl->counts = calloc(cl->n_counts, sizeof(*cl->counts));
	if (!cl->slots || !cl->counts) {
		connlimit_free(cl);
		return -ENOMEM;
	}
	for (size_t i = cl->n_slots; i-- > 0;) {
		cl->slots[i].fd = -1;
		cl->slots[i].next = cl->free_list;
		cl->free_list = &cl->slots[i];
	}
	randombytes_buf(cl->key, sizeof(cl->key));
	pthread_mutex_init(&cl->lock, NULL);
	return 0;
}

void connlimit_free(struct connlimit *cl)
{
	if (cl->slots && cl->counts)
		pthread_mutex_destroy(&cl->lock);
	free(cl->slots);
	free(cl->counts);
	cl->slots = NULL;
	cl->counts = NULL;
}

static void wait_append(struct connlimit *cl, struct conn_slot *s, int64_t now_ms)
{
	s->state = CONN_WAIT;
	s->since_ms = now_ms;
	s->next = NULL;
	s->prev = cl->wait_tail;
	if (cl->wait_tail)
		cl->wait_tail->next = s;
	else
		cl->wait_head = s;
	cl->wait_tail = s;
}

static void wait_remove(struct connlimit *cl, struct conn_slot *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		cl->wait_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		cl->wait_tail = s->prev;
	s->prev = s->next = NULL;
}

/* s counts no more; its socket is ended. */
static void shed(struct connlimit *cl, struct conn_slot *s)
{
	if (s->state == CONN_WAIT)
		wait_remove(cl, s);
	if (s->state == CONN_WAIT || s->state == CONN_BUSY) {
		count_del(cl, &s->net[0]);
		count_del(cl, &s->net[1]);
		cl->live--;
	}
	s->state = CONN_SHED;
	if (cl->cfg.shed && s->fd >= 0)
		cl->cfg.shed(s->fd, cl->cfg.arg);
}

static bool net_full(struct connlimit *cl, const struct conn_net net[2])
{
	for (int k = 0; k < 2; k++) {
		unsigned max = limit_of(cl, &net[k]);

		if (net[k].kind && max && count_of(cl, &net[k]) >= max)
			return true;
	}
	return false;
}

bool connlimit_may_accept(struct connlimit *cl, const struct addr *a)
{
	struct conn_net net[2];
	bool ok;

	nets_of(a, net);
	pthread_mutex_lock(&cl->lock);
	ok = !net_full(cl, net);
	if (!ok)
		cl->stats.refused_net++;
	pthread_mutex_unlock(&cl->lock);
	return ok;
}

/* Decide for s, registered but not counted yet. */
static void admit(struct connlimit *cl, struct conn_slot *s, int64_t now_ms)
{
	if (net_full(cl, s->net)) {
		cl->stats.refused_net++;
		shed(cl, s);
		return;
	}
	if (cl->live >= cl->cfg.limit) {
		if (!cl->wait_head) {
			cl->stats.refused_full++;
			shed(cl, s);
			return;
		}
		cl->stats.shed_full++;
		shed(cl, cl->wait_head);
	}
	count_add(cl, &s->net[0]);
	count_add(cl, &s->net[1]);
	cl->live++;
	wait_append(cl, s, now_ms);
}

struct conn_slot *connlimit_open(struct connlimit *cl, const struct addr *a, int fd, int64_t now_ms)
{
	struct conn_slot *s;

	pthread_mutex_lock(&cl->lock);
	s = cl->free_list;
	if (s) {
		cl->free_list = s->next;
		memset(s, 0, sizeof(*s));
		s->fd = fd;
		s->state = CONN_SHED; /* counted by admit() only */
		nets_of(a, s->net);
		admit(cl, s, now_ms);
	}
	pthread_mutex_unlock(&cl->lock);
	return s;
}

void connlimit_busy(struct connlimit *cl, struct conn_slot *s)
{
	pthread_mutex_lock(&cl->lock);
	if (s->state == CONN_WAIT) {
		wait_remove(cl, s);
		s->state = CONN_BUSY;
	}
	pthread_mutex_unlock(&cl->lock);
}

void connlimit_idle(struct connlimit *cl, struct conn_slot *s, int64_t now_ms)
{
	pthread_mutex_lock(&cl->lock);
	if (s->state == CONN_WAIT)
		wait_remove(cl, s);
	if (s->state == CONN_WAIT || s->state == CONN_BUSY)
		wait_append(cl, s, now_ms);
	pthread_mutex_unlock(&cl->lock);
}

void connlimit_close(struct connlimit *cl, struct conn_slot *s)
{
	pthread_mutex_lock(&cl->lock);
	if (s->state == CONN_WAIT)
		wait_remove(cl, s);
	if (s->state == CONN_WAIT || s->state == CONN_BUSY) {
		count_del(cl, &s->net[0]);
		count_del(cl, &s->net[1]);
		cl->live--;
	}
	s->state = CONN_FREE;
	s->fd = -1;
	s->prev = NULL;
	s->next = cl->free_list;
	cl->free_list = s;
	pthread_mutex_unlock(&cl->lock);
}

int64_t connlimit_reap(struct connlimit *cl, int64_t now_ms)
{
	int64_t wait;

	if (!cl->cfg.request_ms)
		return -1;
	pthread_mutex_lock(&cl->lock);
	/* The wait list is in the order of since_ms: the expired ones are at its head. */
	while (cl->wait_head && now_ms - cl->wait_head->since_ms >= cl->cfg.request_ms) {
		cl->stats.shed_deadline++;
		shed(cl, cl->wait_head);
	}
	wait = cl->wait_head ? cl->wait_head->since_ms + cl->cfg.request_ms - now_ms
	                     : cl->cfg.request_ms;
	pthread_mutex_unlock(&cl->lock);
	return wait;
}

unsigned connlimit_count(struct connlimit *cl, const struct addr *a, unsigned *n48)
{
	struct conn_net net[2];
	unsigned n;

	nets_of(a, net);
	pthread_mutex_lock(&cl->lock);
	n = count_of(cl, &net[0]);
	if (n48)
		*n48 = count_of(cl, &net[1]);
	pthread_mutex_unlock(&cl->lock);
	return n;
}

struct connlimit_stats connlimit_stats(struct connlimit *cl)
{
	struct connlimit_stats st;

	pthread_mutex_lock(&cl->lock);
	st = cl->stats;
	pthread_mutex_unlock(&cl->lock);
	return st;
}

size_t connlimit_live(struct connlimit *cl)
{
	size_t n;

	pthread_mutex_lock(&cl->lock);
	n = cl->live;
	pthread_mutex_unlock(&cl->lock);
	return n;
}
