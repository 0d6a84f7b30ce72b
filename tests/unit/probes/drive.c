/* SPDX-License-Identifier: MIT */
/* Test drivers for the probe state machines (drive.h). */
#include "drive.h"
#include "core/err.h"
#include "core/finding.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TX_CAP 4096

char drive_error[256];

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(drive_error, sizeof(drive_error), fmt, ap);
	va_end(ap);
	return -ERR_INTERNAL;
}

static bool valid_status(int r, bool feed)
{
	return r == PROBE_MORE || r == PROBE_DONE || (feed && r == PROBE_RECONNECT) || r < 0;
}

static void note_tx(struct drive_stats *st, const struct probe_tx *tx, unsigned conn)
{
	st->tx_total += tx->len;
	if (conn == 0)
		for (size_t i = 0; i < tx->len && st->tx_first_len < sizeof(st->tx_first); i++)
			st->tx_first[st->tx_first_len++] = tx->buf[i];
}

/* ---- conversations side by side (probe_conv_ops) */

#define SIM_PARALLEL_MAX 8

/* One open connection of a conversation. */
struct sim_slot {
	bool open;
	unsigned conn;
	const uint8_t *data;
	size_t avail, pos, have;
	enum probe_end why; /* how it ends when its bytes run out */
	uint8_t *rx;
};

static bool valid_conv_status(int r, bool end)
{
	return r == PROBE_CLOSE || r == PROBE_DONE || (!end && r == PROBE_MORE) || r < 0;
}

/* The slot the order serves next, or NULL (nothing open). */
static struct sim_slot *sim_pick(struct sim_slot *sl, unsigned n, enum sim_order order,
                                 unsigned *last)
{
	struct sim_slot *low = NULL, *after = NULL;

	for (unsigned i = 0; i < n; i++) {
		if (!sl[i].open)
			continue;
		if (low == NULL || sl[i].conn < low->conn)
			low = &sl[i];
		if (sl[i].conn > *last && (after == NULL || sl[i].conn < after->conn))
			after = &sl[i];
	}
	if (order == SIM_CONV_ROUND && after)
		low = after;
	if (low)
		*last = low->conn;
	return low;
}

/* Open every connection the probe wants now; false when it said DONE or failed (*ret). */
static bool sim_open_wanted(const struct probe_ops *ops, void *state, const struct sim_conn *conns,
                            size_t n_conns, const struct sim_opts *o, struct sim_slot *sl,
                            unsigned n_sl, bool *used, struct probe_result *out,
                            struct drive_stats *st, int *ret)
{
	uint8_t txbuf[TX_CAP];

	for (;;) {
		struct probe_tx tx = {.buf = txbuf, .cap = TX_CAP, .len = 0};
		struct sim_slot *s = NULL;
		unsigned open = 0;
		int c, r;

		for (unsigned i = 0; i < n_sl; i++) {
			open += sl[i].open;
			if (!sl[i].open && s == NULL)
				s = &sl[i];
		}
		if (open > st->peak_open)
			st->peak_open = open;
		if (s == NULL || st->conns >= ops->max_conns)
			return true;
		c = ops->conv->next(state);
		if (c < 0)
			return true;
		if ((unsigned)c >= ops->max_conns || used[c]) {
			*ret = fail("%s: next() gave connection %d (max_conns %u)", ops->name, c,
			            ops->max_conns);
			return false;
		}
		used[c] = true;
		st->conns++;
		*s = (struct sim_slot){
		    .open = true, .conn = (unsigned)c, .why = o->tail_why, .rx = s->rx};
		if ((size_t)c < n_conns) {
			s->data = conns[c].data;
			s->avail = conns[c].len;
		}
		if ((unsigned)c == o->cut_conn && o->cut_at < s->avail) {
			s->avail = o->cut_at;
			s->why = o->cut_why;
		}
		if (s->rx == NULL) /* a slot's buffer, kept over the connections it serves */
			s->rx = malloc(ops->max_rx + 1);
		if (s->rx == NULL) {
			*ret = -ERR_NOMEM;
			return false;
		}
		r = ops->conv->start(state, s->conn, &tx, out);
		if (!valid_conv_status(r, false) || tx.len > tx.cap) {
			*ret = fail("%s: start(%u) returned %d", ops->name, s->conn, r);
			return false;
		}
		note_tx(st, &tx, s->conn);
		if (r == PROBE_DONE || r < 0) {
			*ret = r < 0 ? r : 0;
			return false;
		}
		if (r == PROBE_CLOSE)
			s->open = false;
	}
}

/* One step of slot s: a chunk of its bytes, or its end when they ran out. Returns the status. */
static int sim_step(const struct probe_ops *ops, void *state, const struct sim_opts *o,
                    struct sim_slot *s, struct probe_result *out, struct drive_stats *st)
{
	uint8_t txbuf[TX_CAP];
	struct probe_tx tx = {.buf = txbuf, .cap = TX_CAP, .len = 0};
	size_t n, consumed = SIZE_MAX;
	int r;

	if (s->pos == s->avail) {
		st->last_end = s->why;
		r = ops->conv->end(state, s->conn, s->why, out);
		return valid_conv_status(r, true)
		           ? r
		           : fail("%s: end(%u) returned %d", ops->name, s->conn, r);
	}
	n = o->chunk ? o->chunk : s->avail - s->pos;
	if (n > s->avail - s->pos)
		n = s->avail - s->pos;
	if (s->have + n > ops->max_rx) {
		st->last_end = PROBE_END_TOOBIG;
		r = ops->conv->end(state, s->conn, PROBE_END_TOOBIG, out);
		return valid_conv_status(r, true)
		           ? r
		           : fail("%s: end(%u) returned %d", ops->name, s->conn, r);
	}
	memcpy(s->rx + s->have, s->data + s->pos, n);
	s->pos += n;
	s->have += n;
	r = ops->conv->feed(state, s->conn, s->rx, s->have, &consumed, &tx, out);
	if (!valid_conv_status(r, false) || consumed > s->have || tx.len > tx.cap)
		return fail("%s: feed(%u) returned %d, consumed %zu of %zu", ops->name, s->conn, r,
		            consumed, s->have);
	note_tx(st, &tx, s->conn);
	memmove(s->rx, s->rx + consumed, s->have - consumed);
	s->have -= consumed;
	return r;
}

static int sim_conv(const struct probe_ops *ops, void *state, const struct sim_conn *conns,
                    size_t n_conns, const struct sim_opts *o, struct probe_result *out,
                    struct drive_stats *st)
{
	struct sim_slot sl[SIM_PARALLEL_MAX] = {0};
	unsigned n_sl = ops->conv->max_parallel ? ops->conv->max_parallel : 1, last = 0;
	bool *used = calloc(ops->max_conns ? ops->max_conns : 1, sizeof(bool));
	int ret = 0;

	if (used == NULL)
		return -ERR_NOMEM;
	if (n_sl > SIM_PARALLEL_MAX) {
		free(used);
		return fail("%s: max_parallel %u", ops->name, n_sl);
	}

	last = UINT32_MAX; /* the first round starts at the lowest */
	while (sim_open_wanted(ops, state, conns, n_conns, o, sl, n_sl, used, out, st, &ret)) {
		struct sim_slot *s = sim_pick(sl, n_sl, o->order, &last);
		int r;

		if (s == NULL)
			break; /* nothing open, nothing wanted: the probe is over */
		r = sim_step(ops, state, o, s, out, st);
		if (r == PROBE_MORE)
			continue;
		s->open = false;
		if (r == PROBE_DONE || r < 0) {
			ret = r < 0 ? r : 0;
			break;
		}
	}
	for (unsigned i = 0; i < n_sl; i++)
		free(sl[i].rx);
	free(used);
	return ret;
}

/* What sim_run and net_run begin with: out and st zeroed, the probe's state and a receive
 * buffer of max_rx (+1) allocated. Returns 0 or -ERR_NOMEM (the caller frees both anyway). */
static int run_begin(const struct probe_ops *ops, void **state, uint8_t **rx,
                     struct probe_result *out, struct drive_stats *st)
{
	*state = calloc(1, ops->state_size ? ops->state_size : 1);
	*rx = malloc(ops->max_rx + 1);
	memset(out, 0, sizeof(*out));
	memset(st, 0, sizeof(*st));
	st->last_end = PROBE_END_X_MAX;
	drive_error[0] = '\0';
	return *state == NULL || *rx == NULL ? -ERR_NOMEM : 0;
}

int sim_run(const struct probe_ops *ops, const struct sim_conn *conns, size_t n_conns,
            const struct sim_opts *o, struct probe_result *out, struct drive_stats *st)
{
	uint8_t txbuf[TX_CAP];
	void *state;
	uint8_t *rx;
	int ret = run_begin(ops, &state, &rx, out, st);

	if (ret < 0)
		goto out;
	if (ops->conv && o->order != SIM_ONE_BY_ONE) {
		ret = sim_conv(ops, state, conns, n_conns, o, out, st);
		goto out;
	}
	for (unsigned c = 0;; c++) {
		struct probe_tx tx = {.buf = txbuf, .cap = TX_CAP, .len = 0};
		const struct sim_conn *sc = c < n_conns ? &conns[c] : NULL;
		size_t avail = sc ? sc->len : 0, pos = 0, have = 0;
		enum probe_end why = o->tail_why;
		int r;

		if (c >= ops->max_conns) {
			ret = fail("%s: connection %u beyond max_conns %u", ops->name, c,
			           ops->max_conns);
			goto out;
		}
		st->conns++;
		st->peak_open = 1;
		if (c == o->cut_conn && o->cut_at < avail) {
			avail = o->cut_at;
			why = o->cut_why;
		}
		r = ops->start(state, c, &tx, out);
		if (!valid_status(r, false) || tx.len > tx.cap) {
			ret = fail("%s: start returned %d", ops->name, r);
			goto out;
		}
		note_tx(st, &tx, c);
		if (r == PROBE_DONE)
			goto out;
		if (r < 0) {
			ret = r;
			goto out;
		}
		for (;;) {
			size_t n, consumed = SIZE_MAX;

			if (pos == avail) {
				r = ops->end(state, why, out);
				st->last_end = why;
				break;
			}
			n = o->chunk ? o->chunk : avail - pos;
			if (n > avail - pos)
				n = avail - pos;
			if (have + n > ops->max_rx) {
				r = ops->end(state, PROBE_END_TOOBIG, out);
				st->last_end = PROBE_END_TOOBIG;
				break;
			}
			memcpy(rx + have, sc->data + pos, n);
			pos += n;
			have += n;
			tx.len = 0;
			tx.next_port = 0;
			r = ops->feed(state, rx, have, &consumed, &tx, out);
			if (r == PROBE_RECONNECT && c + 1 < DRIVE_MAX_PORTS)
				st->ports[c + 1] = tx.next_port;
			if (!valid_status(r, true) || consumed > have || tx.len > tx.cap) {
				ret = fail("%s: feed returned %d, consumed %zu of %zu", ops->name,
				           r, consumed, have);
				goto out;
			}
			note_tx(st, &tx, c);
			memmove(rx, rx + consumed, have - consumed);
			have -= consumed;
			if (r != PROBE_MORE)
				break;
		}
		if (r == PROBE_RECONNECT)
			continue;
		if (r < 0)
			ret = r;
		else if (r != PROBE_DONE)
			ret = fail("%s: end returned %d", ops->name, r);
		break;
	}
out:
	if (out->n_findings > PROBE_MAX_FINDINGS)
		ret = fail("%s: %zu findings", ops->name, out->n_findings);
	if ((unsigned)out->state >= SERVICE_X_MAX)
		ret = fail("%s: state %d", ops->name, (int)out->state);
	if (memchr(out->service, '\0', sizeof(out->service)) == NULL)
		ret = fail("%s: service not terminated", ops->name);
	free(state);
	free(rx);
	return ret;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int connect_to(const char *host, uint16_t port, int timeout_ms)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int fd, err = 0;
	socklen_t el = sizeof(err);
	struct pollfd p;

	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		sl = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	p = (struct pollfd){.fd = fd, .events = POLLOUT};
	if (poll(&p, 1, timeout_ms) != 1) {
		close(fd);
		return -ETIMEDOUT;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) {
		close(fd);
		return -(err ? err : EIO);
	}
	return fd;
}

static int send_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			poll(&p, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -errno;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int net_run(const struct probe_ops *ops, const char *host, uint16_t port, struct probe_result *out,
            struct drive_stats *st)
{
	uint8_t txbuf[TX_CAP];
	double t0 = now_ms(), deadline = t0 + ops->total_ms;
	void *state;
	uint8_t *rx;
	int fd = -1, ret = run_begin(ops, &state, &rx, out, st);

	if (ret < 0)
		goto out;
	for (unsigned c = 0, next_port = port;; c++) {
		struct probe_tx tx = {.buf = txbuf, .cap = TX_CAP, .len = 0};
		double last = now_ms();
		size_t have = 0;
		enum probe_end why;
		int r;

		/* like the engine: a later connection may go to the port the probe chose */
		fd = connect_to(host, (uint16_t)next_port, 3000);
		if (fd < 0) {
			if (c == 0) {
				ret = fd;
				fd = -1;
				goto out;
			}
			fd = -1;
			r = ops->end(state, PROBE_END_CONNECT, out);
			st->last_end = PROBE_END_CONNECT;
			break;
		}
		st->conns++;
		r = ops->start(state, c, &tx, out);
		note_tx(st, &tx, c);
		if (r == PROBE_MORE && tx.len && send_all(fd, tx.buf, tx.len) < 0)
			r = PROBE_MORE; /* the read side will see the error */
		while (r == PROBE_MORE) {
			double t = now_ms();
			double wait = last + ops->idle_ms - t;
			struct pollfd p = {.fd = fd, .events = POLLIN};
			ssize_t n;
			size_t consumed = SIZE_MAX;

			if (deadline - t < wait)
				wait = deadline - t;
			if (wait <= 0) {
				why = t >= deadline ? PROBE_END_DEADLINE : PROBE_END_IDLE;
				goto ended;
			}
			if (poll(&p, 1, (int)wait + 1) == 0)
				continue;
			if (have == ops->max_rx) {
				why = PROBE_END_TOOBIG;
				goto ended;
			}
			n = recv(fd, rx + have, ops->max_rx - have, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				why = n == 0 ? PROBE_END_CLOSED : PROBE_END_RESET;
				goto ended;
			}
			last = now_ms();
			have += (size_t)n;
			tx.len = 0;
			tx.next_port = 0;
			r = ops->feed(state, rx, have, &consumed, &tx, out);
			next_port = r == PROBE_RECONNECT && tx.next_port ? tx.next_port : port;
			if (consumed > have) {
				ret = fail("%s: consumed %zu of %zu", ops->name, consumed, have);
				goto out;
			}
			note_tx(st, &tx, c);
			if (tx.len && send_all(fd, tx.buf, tx.len) < 0 && r == PROBE_MORE)
				continue;
			memmove(rx, rx + consumed, have - consumed);
			have -= consumed;
		}
		goto next;
	ended:
		r = ops->end(state, why, out);
		st->last_end = why;
	next:
		close(fd);
		fd = -1;
		if (r == PROBE_RECONNECT && c + 1 < ops->max_conns && now_ms() < deadline)
			continue;
		if (r == PROBE_RECONNECT) {
			r = ops->end(state, PROBE_END_DEADLINE, out);
			st->last_end = PROBE_END_DEADLINE;
		}
		if (r < 0)
			ret = r;
		break;
	}
out:
	if (fd >= 0)
		close(fd);
	st->elapsed_ms = now_ms() - t0;
	free(state);
	free(rx);
	return ret;
}

int drive_append_file(const char *dir, const char *rel, uint8_t **buf, size_t *len)
{
	char path[512];
	FILE *f;
	long sz;
	uint8_t *b;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "rb");
	if (f == NULL)
		return -errno;
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		ret = -EIO;
		goto out;
	}
	b = realloc(*buf, *len + (size_t)sz + 1);
	if (b == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	*buf = b;
	if (fread(b + *len, 1, (size_t)sz, f) != (size_t)sz) {
		ret = -EIO;
		goto out;
	}
	*len += (size_t)sz;
out:
	fclose(f);
	return ret;
}

int drive_load(struct drive_loaded *l, const char *dir, const char *const *files, size_t n,
               const char **bad)
{
	memset(l, 0, sizeof(*l));
	if (n > DRIVE_MAX_FILES)
		return -EINVAL;
	l->n = n;
	for (size_t i = 0; i < n; i++) {
		int r;

		if (files[i] == NULL)
			continue;
		r = drive_append_file(dir, files[i], &l->data[i], &l->conns[i].len);
		l->conns[i].data = l->data[i];
		if (r < 0) {
			*bad = files[i];
			return r;
		}
	}
	return 0;
}

void drive_unload(struct drive_loaded *l)
{
	for (size_t i = 0; i < DRIVE_MAX_FILES; i++)
		free(l->data[i]);
}

bool drive_details_clean(const json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_STRING: {
		const char *s = json_string_value(j);
		size_t n = json_string_length(j);

		if (n > 4096)
			return false;
		for (i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
				if (s[i] != '\n')
					return false;
		return true;
	}
	case JSON_OBJECT:
		json_object_foreach((json_t *)j, k, v) if (!drive_details_clean(v)) return false;
		return true;
	case JSON_ARRAY:
		json_array_foreach(j, i, v) if (!drive_details_clean(v)) return false;
		return true;
	default:
		return true;
	}
}

json_t *drive_result_json(const struct probe_result *r)
{
	static const char *const states[SERVICE_X_MAX] = {
	    "unknown", "identified", "silent", "tcpwrapped", "other", "protocol-error"};
	json_t *o = json_object(), *f = json_array();

	for (size_t i = 0; i < r->n_findings; i++) {
		const struct finding *x = &r->findings[i];
		json_array_append_new(f, json_pack("{s:s,s:s,s:s,s:s}", "id", x->id, "severity",
		                                   severity_name(x->severity), "confidence",
		                                   confidence_name(x->confidence), "reason",
		                                   x->reason));
	}
	json_object_set_new(
	    o, "state",
	    json_string((unsigned)r->state < SERVICE_X_MAX ? states[r->state] : "invalid"));
	json_object_set_new(o, "service", json_string(r->service));
	json_object_set_new(o, "findings", f);
	json_object_set_new(o, "details", r->details ? json_deep_copy(r->details) : json_null());
	return o;
}
