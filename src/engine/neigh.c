/* SPDX-License-Identifier: MIT */
/*
 * Next-hop neighbour state over rtnetlink: `ip route get DST` then `ip neigh get HOP dev IF`.
 * Two request/response exchanges on a private netlink socket; every reply is hostile-free kernel
 * data, but it is still parsed with the bounded NLMSG_OK / RTA_OK walks.
 */
#include "engine/neigh.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NL_BUF     8192
#define NL_WAIT_US (100 * 1000)

struct nl_req {
	struct nlmsghdr h;
	union {
		struct rtmsg rt;
		struct ndmsg nd;
	} u;
	char attrs[64];
};

static int nl_open(void)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = NL_WAIT_US};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static void req_init(struct nl_req *r, unsigned short type, size_t body, unsigned seq)
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

/*
 * Send r and receive its single answer into buf. Returns the answer's length, -ENOENT and the
 * like for a kernel NLMSG_ERROR, or -errno.
 */
static int nl_exchange(int fd, struct nl_req *r, char *buf, size_t cap, struct nlmsghdr **out)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;

	if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, buf, cap, 0);
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		size_t left = (size_t)n;

		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue; /* a late answer to an earlier request */
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
					return -EPROTO;
				return e->error < 0 ? e->error : -ENOENT;
			}
			*out = h;
			return 0;
		}
	}
}

/* The route's next hop towards dst (its gateway, else dst) and outgoing interface. */
static int route_next_hop(int fd, const struct addr *dst, struct addr *hop, int *ifindex)
{
	char buf[NL_BUF];
	struct nl_req r;
	struct nlmsghdr *h;
	size_t alen = dst->family == AF_INET ? 4 : 16;
	int rc;

	req_init(&r, RTM_GETROUTE, sizeof r.u.rt, 1);
	r.u.rt.rtm_family = dst->family;
	r.u.rt.rtm_dst_len = (unsigned char)(alen * 8);
	req_add_attr(&r, RTA_DST, dst->bytes, alen);
	rc = nl_exchange(fd, &r, buf, sizeof buf, &h);
	if (rc < 0)
		return rc;
	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
		return -EPROTO;

	const struct rtmsg *rt = NLMSG_DATA(h);
	size_t left = h->nlmsg_len - NLMSG_LENGTH(sizeof *rt);

	if (rt->rtm_type != RTN_UNICAST)
		return -ENOENT; /* local, blackhole, unreachable...: no neighbour to wait for */
	*hop = *dst;
	*ifindex = 0;
	for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int))
			memcpy(ifindex, RTA_DATA(a), sizeof(int));
		else if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) == alen)
			memcpy(hop->bytes, RTA_DATA(a), alen);
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

static int neigh_get(int fd, const struct addr *hop, int ifindex, struct neigh_info *out)
{
	char buf[NL_BUF];
	struct nl_req r;
	struct nlmsghdr *h;
	size_t alen = hop->family == AF_INET ? 4 : 16;
	long ticks = sysconf(_SC_CLK_TCK);
	int rc;

	req_init(&r, RTM_GETNEIGH, sizeof r.u.nd, 2);
	r.u.nd.ndm_family = hop->family;
	r.u.nd.ndm_ifindex = ifindex;
	req_add_attr(&r, NDA_DST, hop->bytes, alen);
	rc = nl_exchange(fd, &r, buf, sizeof buf, &h);
	if (rc < 0)
		return rc;
	if (h->nlmsg_type != RTM_NEWNEIGH || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg)))
		return -EPROTO;

	const struct ndmsg *nd = NLMSG_DATA(h);
	size_t left = h->nlmsg_len - NLMSG_LENGTH(sizeof *nd);

	out->state = state_of(nd->ndm_state);
	out->age_ms = 0;
	for (const struct rtattr *a =
	         (const struct rtattr *)((const char *)nd + NLMSG_ALIGN(sizeof *nd));
	     RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		struct nda_cacheinfo ci;

		if (a->rta_type != NDA_CACHEINFO || RTA_PAYLOAD(a) < sizeof ci)
			continue;
		memcpy(&ci, RTA_DATA(a), sizeof ci);
		/* ndm_updated is in clock ticks (USER_HZ) since the last state change. */
		if (ticks > 0)
			out->age_ms =
			    (unsigned)((uint64_t)ci.ndm_updated * 1000u / (uint64_t)ticks);
	}
	return 0;
}

int neigh_lookup(const struct addr *dst, struct neigh_info *out)
{
	struct addr hop;
	int ifindex, rc, fd;

	*out = (struct neigh_info){.state = NEIGH_UNKNOWN};
	if (dst->family != AF_INET && dst->family != AF_INET6)
		return -EAFNOSUPPORT;
	fd = nl_open();
	if (fd < 0)
		return fd;
	rc = route_next_hop(fd, dst, &hop, &ifindex);
	if (rc == 0)
		rc = neigh_get(fd, &hop, ifindex, out);
	close(fd);
	/* No route, no entry, or a device without neighbours: nothing to wait for. */
	return rc == -ENOENT || rc == -ENODEV || rc == -ENETUNREACH || rc == -EHOSTUNREACH ? 0 : rc;
}
