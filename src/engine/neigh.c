/* SPDX-License-Identifier: MIT */
/*
 * Next-hop neighbour state over rtnetlink, asked on the loop: `ip route get DST`, then
 * `ip neigh get HOP dev IF`, each a request with its own sequence number on one socket per
 * asker. Replies are kernel data, but they are still read with bounds: at most NL_RECV_MAX
 * datagrams per wake-up, none larger than NL_BUF (a longer one is dropped, and its question
 * times out), every message walked with NLMSG_OK / RTA_OK and its length checked before use.
 */
#include "engine/neigh.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NL_BUF      8192
#define NL_RECV_MAX 16 /* datagrams read per wake-up: the loop has other work */
#define NS_PER_MS   1000000ull

struct neigh_asker {
	uv_poll_t poll;
	uv_timer_t timer; /* the oldest request's reply deadline */
	int fd;
	uint32_t seq;
	struct elist out; /* questions in flight, in the order of their current request */
	unsigned open_handles;
	bool dead; /* the socket failed for good, or is closing: every new question is refused */
};

struct nl_req {
	struct nlmsghdr h;
	union {
		struct rtmsg rt;
		struct ndmsg nd;
	} u;
	char attrs[64];
};

void neigh_query_init(struct neigh_query *q)
{
	memset(q, 0, sizeof(*q));
	elist_init(&q->link);
}

bool neigh_query_pending(const struct neigh_query *q)
{
	return q->a != NULL;
}

int neigh_socket_open(void)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	/* Connected: the kernel refuses other senders' unicasts to this socket. */
	if (connect(fd, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static void req_init(struct nl_req *r, unsigned short type, size_t body, uint32_t seq)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(body);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST;
	r->h.nlmsg_seq = seq;
}

static void req_add_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static size_t addr_len(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

static void timer_cb(uv_timer_t *timer);

/* Send q's next request (route, or neighbour once the route is known) with a new number. */
static int query_send(struct neigh_asker *a, struct neigh_query *q)
{
	struct nl_req r;
	uint32_t seq = ++a->seq;

	if (seq == 0)
		seq = ++a->seq; /* 0 is what an unnumbered message carries */
	if (!q->asking_neigh) {
		req_init(&r, RTM_GETROUTE, sizeof r.u.rt, seq);
		r.u.rt.rtm_family = q->dst.family;
		r.u.rt.rtm_dst_len = (unsigned char)(addr_len(&q->dst) * 8);
		req_add_attr(&r, RTA_DST, q->dst.bytes, addr_len(&q->dst));
	} else {
		req_init(&r, RTM_GETNEIGH, sizeof r.u.nd, seq);
		r.u.nd.ndm_family = q->hop.family;
		r.u.nd.ndm_ifindex = q->ifindex;
		req_add_attr(&r, NDA_DST, q->hop.bytes, addr_len(&q->hop));
	}
	if (send(a->fd, &r, r.h.nlmsg_len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	q->seq = seq;
	q->sent_ns = uv_hrtime();
	elist_del(&q->link);
	elist_add_tail(&a->out, &q->link);
	if (!uv_is_active((uv_handle_t *)&a->timer))
		uv_timer_start(&a->timer, timer_cb, NEIGH_REPLY_MS, 0);
	return 0;
}

/* q leaves the asker and gets its answer. */
static void query_answer(struct neigh_query *q, int status, enum neigh_state st, unsigned age_ms)
{
	struct neigh_info n = {
	    .state = status < 0 ? NEIGH_UNKNOWN : st,
	    .age_ms = status < 0 ? 0 : age_ms,
	    .asked_ns = q->asked_ns,
	    .seen_ns = q->sent_ns,
	};

	elist_del(&q->link);
	q->a = NULL;
	q->cb(q, status, &n);
}

/* No route, no entry, or a device without neighbours: nothing to wait for, not a failure. */
static int nothing_to_know(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ENETUNREACH || err == -EHOSTUNREACH ||
	       err == -ESRCH;
}

/* The route's next hop (its gateway, else dst: *gateway says which) and outgoing interface. */
static int route_parse(const struct nlmsghdr *h, const struct addr *dst, struct addr *hop,
                       int *ifindex, bool *gateway)
{
	size_t alen = addr_len(dst);

	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
		return -EPROTO;

	const struct rtmsg *rt = NLMSG_DATA(h);
	size_t left = h->nlmsg_len - NLMSG_LENGTH(sizeof *rt);

	if (rt->rtm_type != RTN_UNICAST)
		return -ENOENT; /* local, blackhole, unreachable...: no neighbour to wait for */
	*hop = *dst;
	*ifindex = 0;
	*gateway = false;
	for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int)) {
			memcpy(ifindex, RTA_DATA(a), sizeof(int));
		} else if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) == alen) {
			memcpy(hop->bytes, RTA_DATA(a), alen);
			*gateway = true;
		}
	}
	return *ifindex > 0 ? 0 : -ENOENT;
}

static enum neigh_state state_of(uint16_t nud)
{
	if (nud & NUD_INCOMPLETE)
		return NEIGH_RESOLVING;
	if (nud & NUD_FAILED)
		return NEIGH_FAILED;
	if (nud & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT))
		return NEIGH_RESOLVED;
	return NEIGH_UNKNOWN; /* NUD_NOARP, NUD_NONE */
}

/* The entry's state, age, and (lladdr not NULL) its link-layer address: *lladdr_len bytes. */
static int neigh_parse(const struct nlmsghdr *h, enum neigh_state *st, unsigned *age_ms,
                       uint8_t *lladdr, size_t *lladdr_len)
{
	long ticks = sysconf(_SC_CLK_TCK);

	if (h->nlmsg_type != RTM_NEWNEIGH || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg)))
		return -EPROTO;

	const struct ndmsg *nd = NLMSG_DATA(h);
	size_t left = h->nlmsg_len - NLMSG_LENGTH(sizeof *nd);

	*st = state_of(nd->ndm_state);
	*age_ms = 0;
	for (const struct rtattr *a =
	         (const struct rtattr *)((const char *)nd + NLMSG_ALIGN(sizeof *nd));
	     RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		struct nda_cacheinfo ci;

		if (a->rta_type == NDA_LLADDR && lladdr != NULL &&
		    RTA_PAYLOAD(a) <= NEIGH_LLADDR_MAX) {
			*lladdr_len = RTA_PAYLOAD(a);
			memcpy(lladdr, RTA_DATA(a), *lladdr_len);
		}
		if (a->rta_type != NDA_CACHEINFO || RTA_PAYLOAD(a) < sizeof ci)
			continue;
		memcpy(&ci, RTA_DATA(a), sizeof ci);
		/* ndm_updated is in clock ticks (USER_HZ) since the last state change. */
		if (ticks > 0)
			*age_ms = (unsigned)((uint64_t)ci.ndm_updated * 1000u / (uint64_t)ticks);
	}
	return 0;
}

/* The kernel's error for this request, or 0 if h is not an error. */
static int reply_error(const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);

	if (h->nlmsg_type != NLMSG_ERROR)
		return 0;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
		return -EPROTO;
	return e->error < 0 ? e->error : -ENOENT; /* an ACK: no data came */
}

/* h answers q's current request: go on to the neighbour request, or answer q. */
static void query_step(struct neigh_asker *a, struct neigh_query *q, const struct nlmsghdr *h)
{
	enum neigh_state st = NEIGH_UNKNOWN;
	unsigned age_ms = 0;
	int rc = reply_error(h);

	bool gateway;

	if (rc == 0 && !q->asking_neigh) {
		rc = route_parse(h, &q->dst, &q->hop, &q->ifindex, &gateway);
		if (rc == 0) {
			q->asking_neigh = true;
			rc = query_send(a, q);
			if (rc == 0)
				return;
		}
	} else if (rc == 0) {
		rc = neigh_parse(h, &st, &age_ms, NULL, NULL);
	}
	query_answer(q, nothing_to_know(rc) ? 0 : rc, st, age_ms);
}

/* The question whose current request carries seq; NULL for a late or foreign reply. */
static struct neigh_query *query_by_seq(struct neigh_asker *a, uint32_t seq)
{
	/* Replies come in request order: the match is almost always the first. */
	for (struct elist *n = a->out.next; n != &a->out; n = n->next) {
		struct neigh_query *q = elist_entry(n, struct neigh_query, link);

		if (q->seq == seq)
			return q;
	}
	return NULL;
}

static void datagram_parse(struct neigh_asker *a, const char *buf, size_t len)
{
	size_t left = len;

	for (const struct nlmsghdr *h = (const struct nlmsghdr *)(const void *)buf;
	     NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		struct neigh_query *q = query_by_seq(a, h->nlmsg_seq);

		if (q != NULL)
			query_step(a, q, h);
	}
}

/* Every question still out is answered "unknown" with err. */
static void fail_all(struct neigh_asker *a, int err)
{
	while (!elist_empty(&a->out))
		query_answer(elist_entry(a->out.next, struct neigh_query, link), err, NEIGH_UNKNOWN,
		             0);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	struct neigh_asker *a = p->data;
	union {
		struct nlmsghdr align;
		char buf[NL_BUF];
	} u;

	(void)status, (void)events;
	for (int i = 0; i < NL_RECV_MAX && !a->dead; i++) {
		ssize_t n = recv(a->fd, u.buf, sizeof u.buf, MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* ENOBUFS: the kernel dropped replies; their questions time out. */
		if (n < 0 && errno == ENOBUFS)
			continue;
		if (n <= 0) {
			/* The socket is gone (a test's stand-in hung up, or worse): stop asking. */
			a->dead = true;
			uv_poll_stop(&a->poll);
			fail_all(a, n == 0 ? -EPIPE : -errno);
			return;
		}
		if ((size_t)n > sizeof u.buf)
			continue; /* truncated: never parsed */
		datagram_parse(a, u.buf, (size_t)n);
	}
	/* libuv stops the handle on POLLERR (a socket error such as ENOBUFS): watch again. */
	if (!a->dead)
		uv_poll_start(&a->poll, UV_READABLE, poll_cb);
}

/* Requests without a reply for NEIGH_REPLY_MS are answered "unknown"; re-arm for the next. */
static void timer_cb(uv_timer_t *timer)
{
	struct neigh_asker *a = timer->data;
	uint64_t now = uv_hrtime(), limit = NEIGH_REPLY_MS * NS_PER_MS;

	while (!a->dead && !elist_empty(&a->out)) {
		struct neigh_query *q = elist_entry(a->out.next, struct neigh_query, link);

		if (now - q->sent_ns < limit) {
			uv_timer_start(timer, timer_cb,
			               (limit - (now - q->sent_ns)) / NS_PER_MS + 1, 0);
			return;
		}
		query_answer(q, -ETIMEDOUT, NEIGH_UNKNOWN, 0);
	}
}

int neigh_asker_new(uv_loop_t *loop, int fd, struct neigh_asker **out)
{
	struct neigh_asker *a = calloc(1, sizeof(*a));
	int r;

	*out = NULL;
	if (a == NULL) {
		close(fd);
		return -ENOMEM;
	}
	r = uv_poll_init(loop, &a->poll, fd);
	if (r < 0) {
		close(fd);
		free(a);
		return r;
	}
	a->fd = fd;
	elist_init(&a->out);
	a->poll.data = a;
	uv_timer_init(loop, &a->timer);
	a->timer.data = a;
	a->open_handles = 2;
	uv_poll_start(&a->poll, UV_READABLE, poll_cb);
	*out = a;
	return 0;
}

int neigh_ask(struct neigh_asker *a, struct neigh_query *q, const struct addr *dst,
              neigh_answer_cb *cb)
{
	int r;

	if (dst->family != AF_INET && dst->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (q->a != NULL)
		return -EBUSY;
	if (a->dead)
		return -EPIPE;
	q->dst = *dst;
	q->cb = cb;
	q->asking_neigh = false;
	r = query_send(a, q);
	if (r < 0)
		return r;
	q->a = a;
	q->asked_ns = q->sent_ns;
	return 0;
}

void neigh_cancel(struct neigh_query *q)
{
	elist_del(&q->link);
	q->a = NULL;
}

static void asker_closed(uv_handle_t *h)
{
	struct neigh_asker *a = h->data;

	if (--a->open_handles == 0) {
		close(a->fd);
		free(a);
	}
}

void neigh_asker_close(struct neigh_asker *a)
{
	if (a == NULL)
		return;
	while (!elist_empty(&a->out))
		neigh_cancel(elist_entry(a->out.next, struct neigh_query, link));
	/* Also ends a poll_cb that runs this through a callback: no restart of a closing handle. */
	a->dead = true;
	uv_poll_stop(&a->poll);
	uv_close((uv_handle_t *)&a->poll, asker_closed);
	uv_close((uv_handle_t *)&a->timer, asker_closed);
}

/* ------------------------------------------------------------------------------------------ */
/* neigh_hop_get: the same requests, asked once and waited for.                               */

/* Send r on the blocking path and wait for the message carrying its number; *out points into
 * buf. An error reply is its error (an ACK is -ENOENT, as reply_error says). */
static int exchange(int fd, struct nl_req *r, char *buf, size_t size, const struct nlmsghdr **out)
{
	uint64_t deadline = uv_hrtime() + NEIGH_REPLY_MS * NS_PER_MS;

	if (send(fd, r, r->h.nlmsg_len, MSG_NOSIGNAL) < 0)
		return -errno;
	for (;;) {
		uint64_t now = uv_hrtime();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int k;

		if (now >= deadline)
			return -ETIMEDOUT;
		k = poll(&p, 1, (int)((deadline - now) / NS_PER_MS) + 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -ETIMEDOUT;
		n = recv(fd, buf, size, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOBUFS))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		if ((size_t)n > size)
			continue; /* truncated: never parsed */
		size_t left = (size_t)n;

		for (const struct nlmsghdr *h = (const struct nlmsghdr *)(const void *)buf;
		     NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			int e;

			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue;
			if ((e = reply_error(h)) < 0)
				return e;
			*out = h;
			return 0;
		}
	}
}

/* The hop's entry into out (state UNKNOWN when there is none). */
static int hop_entry(int fd, uint32_t seq, struct neigh_hop *out, char *buf, size_t size)
{
	const struct nlmsghdr *h;
	struct nl_req r;
	unsigned age_ms;
	int e;

	req_init(&r, RTM_GETNEIGH, sizeof r.u.nd, seq);
	r.u.nd.ndm_family = out->hop.family;
	r.u.nd.ndm_ifindex = out->ifindex;
	req_add_attr(&r, NDA_DST, out->hop.bytes, addr_len(&out->hop));
	out->state = NEIGH_UNKNOWN;
	out->lladdr_len = 0;
	if ((e = exchange(fd, &r, buf, size, &h)) < 0)
		return nothing_to_know(e) ? 0 : e;
	return neigh_parse(h, &out->state, &age_ms, out->lladdr, &out->lladdr_len);
}

/* Ask the kernel to resolve the hop now (NTF_USE: neigh_event_send, as for a queued packet). */
static int hop_use(int fd, uint32_t seq, const struct neigh_hop *hop, char *buf, size_t size)
{
	const struct nlmsghdr *h;
	struct nl_req r;
	int e;

	req_init(&r, RTM_NEWNEIGH, sizeof r.u.nd, seq);
	r.h.nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK;
	r.u.nd.ndm_family = hop->hop.family;
	r.u.nd.ndm_ifindex = hop->ifindex;
	r.u.nd.ndm_state = NUD_NONE;
	r.u.nd.ndm_flags = NTF_USE;
	req_add_attr(&r, NDA_DST, hop->hop.bytes, addr_len(&hop->hop));
	e = exchange(fd, &r, buf, size, &h);
	return e == -ENOENT ? 0 : e; /* the ACK */
}

int neigh_hop_get(const struct addr *dst, unsigned wait_ms, struct neigh_hop *out)
{
	union {
		struct nlmsghdr align;
		char buf[NL_BUF];
	} u;
	const struct nlmsghdr *h;
	struct nl_req r;
	uint64_t t0 = uv_hrtime();
	uint32_t seq = 1;
	bool used = false;
	int fd, e;

	memset(out, 0, sizeof(*out));
	if (dst->family != AF_INET && dst->family != AF_INET6)
		return -EAFNOSUPPORT;
	if ((fd = neigh_socket_open()) < 0)
		return fd;
	req_init(&r, RTM_GETROUTE, sizeof r.u.rt, seq++);
	r.u.rt.rtm_family = dst->family;
	r.u.rt.rtm_dst_len = (unsigned char)(addr_len(dst) * 8);
	req_add_attr(&r, RTA_DST, dst->bytes, addr_len(dst));
	if ((e = exchange(fd, &r, u.buf, sizeof u.buf, &h)) < 0 ||
	    (e = route_parse(h, dst, &out->hop, &out->ifindex, &out->gateway)) < 0)
		goto out;
	for (;;) {
		if ((e = hop_entry(fd, seq++, out, u.buf, sizeof u.buf)) < 0)
			goto out;
		if ((out->state == NEIGH_RESOLVED && out->lladdr_len > 0) ||
		    uv_hrtime() - t0 >= (uint64_t)wait_ms * NS_PER_MS)
			break;
		if (!used && out->state != NEIGH_RESOLVING) {
			/* Refused without CAP_NET_ADMIN: then wait for somebody else's packet. */
			(void)hop_use(fd, seq++, out, u.buf, sizeof u.buf);
			used = true;
		}
		poll(NULL, 0, NEIGH_WAIT_STEP_MS);
	}
out:
	close(fd);
	return e;
}
