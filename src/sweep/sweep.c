/* SPDX-License-Identifier: MIT */
/* Stage 1 of the sweep: the sender and receiver threads (sweep.h, docs/internals/SWEEP.md). */
#include "sweep/sweep.h"
#include "core/err.h"
#include "sweep/cookie.h"
#include "sweep/packet.h"
#include "sweep/perm.h"
#include "sweep/ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RCV_BUF      (32 * 1024 * 1024) /* replies queue here while the receiver is busy */
#define SND_BUF      (4 * 1024 * 1024)
#define RCV_BATCH    64
#define RCV_SNAP     128 /* IPv4 (or IPv6) + TCP headers with options */
#define RCV_POLL_MS  50
#define SEND_RETRIES 1000 /* ENOBUFS waits per batch before a probe counts as sent anyway */

struct sweep {
	const struct space *sp;
	struct sweep_opts o;
	struct perm perm;
	struct cookie_key key;
	int tx, tx6, rx;    /* tx6: only when the space lists IPv6 addresses */
	struct tx_ring txr; /* --send-path txring, for IPv4 (tx stays -1) */
	struct rx_ring rxr; /* --recv-path tpacket3 (on rx) */
	sweep_found_cb *cb;
	void *ud;
	void (*done)(void *ud);
	_Atomic uint8_t *answered; /* per (address, port) index: 1 open, 2 closed */
	pthread_t tx_thread, rx_thread;
	bool tx_started, rx_started;
	atomic_bool stop, rx_stop;
	_Atomic uint64_t sent, replies, validated, invalid, open, closed, drops, tx_lost;
	atomic_uint pass;
	_Atomic uint64_t t0_ns, t1_ns;
	_Atomic uint64_t first_sent, first_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
	                      .tv_nsec = (long)(ns % 1000000000u)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int sweep_send_path_parse(const char *s, enum sweep_send_path *out)
{
	if (strcmp(s, "mmsg") == 0)
		*out = SWEEP_SEND_MMSG;
	else if (strcmp(s, "txring") == 0)
		*out = SWEEP_SEND_TXRING;
	else
		return -ERR_SYNTAX;
	return 0;
}

int sweep_recv_path_parse(const char *s, enum sweep_recv_path *out)
{
	if (strcmp(s, "socket") == 0)
		*out = SWEEP_RECV_SOCKET;
	else if (strcmp(s, "tpacket3") == 0)
		*out = SWEEP_RECV_TPACKET3;
	else
		return -ERR_SYNTAX;
	return 0;
}

const char *sweep_send_path_name(enum sweep_send_path p)
{
	return p == SWEEP_SEND_TXRING ? "txring" : "mmsg";
}

const char *sweep_recv_path_name(enum sweep_recv_path p)
{
	return p == SWEEP_RECV_TPACKET3 ? "tpacket3" : "socket";
}

void sweep_opts_default(struct sweep_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rate = SWEEP_RATE_DEFAULT;
	o->retries = SWEEP_RETRIES_DEFAULT;
	o->shards = 1;
	o->wait_ms = SWEEP_WAIT_DEFAULT_MS;
	o->retry_delay_ms = SWEEP_RETRY_DELAY_MS;
	o->send_path = SWEEP_SEND_DEFAULT;
	o->recv_path = SWEEP_RECV_DEFAULT;
}

/*
 * The address the kernel would send from towards a (space_addr_get), into *out4 or out6: a
 * connected UDP socket sends nothing.
 */
static int route_source(const struct addr *a, uint32_t *out4, uint8_t *out6)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_to_sockaddr(a, 9, &ss);
	int fd, r = 0;

	if ((fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		r = -errno;
	else if (a->family == AF_INET)
		*out4 = ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr);
	else
		memcpy(out6, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	close(fd);
	return r;
}

static uint32_t word(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * The classic BPF filter of the receive socket (SOCK_DGRAM: offsets from the network header),
 * by the packet's protocol (skb->protocol, an ancillary load). IPv4: TCP, first fragment, to our
 * address, to a cookie source port, SYN+ACK or RST. IPv6: TCP right after the fixed header (an
 * extension header is refused, as pkt_tcp6_parse does), to our address, the same port and flags.
 */
enum {
	F_V4 = 2,      /* first instruction of the IPv4 part */
	F_V6 = 15,     /* ...of the IPv6 part */
	F_ACCEPT = 31, /* return the snap length */
	F_REJECT = 32, /* return 0 */
	F_LEN = 33,
};

#define J(pc, to) ((uint8_t)((to) - (pc)-1))

static int attach_filter(int fd, uint32_t source, const uint8_t source6[16])
{
	struct sock_filter code[F_LEN] = {
	    [0] = BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
	    [1] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, J(1, F_V6), 0),
	    /* IPv4 */
	    [2] = BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), /* protocol */
	    [3] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, J(3, F_REJECT)),
	    [4] = BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), /* flags + fragment offset */
	    [5] = BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, J(5, F_REJECT), 0),
	    [6] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 16), /* destination */
	    [7] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, source, 0, J(7, F_REJECT)),
	    [8] = BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* X = IPv4 header length */
	    [9] = BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),  /* TCP destination port */
	    [10] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, COOKIE_SPORT_BASE, 0, J(10, F_REJECT)),
	    [11] = BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13), /* TCP flags */
	    [12] = BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, TCPF_RST, J(12, F_ACCEPT), 0),
	    [13] = BPF_STMT(BPF_ALU | BPF_AND | BPF_K, TCPF_SYN | TCPF_ACK),
	    [14] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TCPF_SYN | TCPF_ACK, J(14, F_ACCEPT),
	                    J(14, F_REJECT)),
	    /* IPv6 */
	    [15] = BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6), /* next header */
	    [16] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, J(16, F_REJECT)),
	    [17] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 24), /* destination, 4 words */
	    [18] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word(source6), 0, J(18, F_REJECT)),
	    [19] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 28),
	    [20] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word(source6 + 4), 0, J(20, F_REJECT)),
	    [21] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 32),
	    [22] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word(source6 + 8), 0, J(22, F_REJECT)),
	    [23] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 36),
	    [24] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word(source6 + 12), 0, J(24, F_REJECT)),
	    [25] = BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 40 + 2), /* TCP destination port */
	    [26] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, COOKIE_SPORT_BASE, 0, J(26, F_REJECT)),
	    [27] = BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 40 + 13), /* TCP flags */
	    [28] = BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, TCPF_RST, J(28, F_ACCEPT), 0),
	    [29] = BPF_STMT(BPF_ALU | BPF_AND | BPF_K, TCPF_SYN | TCPF_ACK),
	    [30] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TCPF_SYN | TCPF_ACK, J(30, F_ACCEPT),
	                    J(30, F_REJECT)),
	    [F_ACCEPT] = BPF_STMT(BPF_RET | BPF_K, RCV_SNAP),
	    [F_REJECT] = BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = F_LEN, .filter = code};

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0)
		return -errno;
	return 0;
}

static void set_buf(int fd, int force, int plain, int size)
{
	/* FORCE passes the sysctl ceiling (CAP_NET_ADMIN); without it, take what is allowed. */
	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) != 0)
		setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
}

/*
 * The receive socket: opened for no protocol, so that nothing arrives before the filter (and the
 * ring) are in place, then bound on every interface to IPv4, or to every protocol when IPv6 is
 * swept too (the filter picks IPv4 and IPv6).
 */
static int open_rx(struct sweep *s)
{
	struct sockaddr_ll all = {.sll_family = AF_PACKET,
	                          .sll_protocol = htons(s->sp->n_addrs6 ? ETH_P_ALL : ETH_P_IP)};
	struct timeval tv = {.tv_usec = RCV_POLL_MS * 1000};
	int one = 1, r;

	if ((s->rx = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if ((r = attach_filter(s->rx, s->o.source, s->o.source6)) < 0)
		return r;
#ifdef PACKET_IGNORE_OUTGOING
	setsockopt(s->rx, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
#endif
	(void)one;
	if (s->o.recv_path == SWEEP_RECV_TPACKET3) {
		if ((r = rx_ring_setup(&s->rxr, s->rx)) < 0)
			return r;
	} else {
		set_buf(s->rx, SO_RCVBUFFORCE, SO_RCVBUF, RCV_BUF);
		setsockopt(s->rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (bind(s->rx, (struct sockaddr *)&all, sizeof(all)) != 0)
		return -errno;
	return 0;
}

/* The send ring (IPv4): one gateway for every target block (its first and last address asked). */
static int open_txring(struct sweep *s, char *err, size_t errlen)
{
	const struct space *sp = s->sp;
	int r;

	if ((r = tx_ring_open(&s->txr, space_addr(sp, 0), err, errlen)) < 0)
		return r;
	for (size_t i = 0; i < sp->n_blocks; i++) {
		uint32_t first = sp->blocks[i].base, last = first + sp->blocks[i].size_minus_1;

		if ((r = tx_ring_same_hop(&s->txr, first, err, errlen)) < 0 ||
		    (r = tx_ring_same_hop(&s->txr, last, err, errlen)) < 0)
			return r;
	}
	return 0;
}

static int open_sockets(struct sweep *s, char *err, size_t errlen)
{
	int r;

	/* Receive first: no reply may arrive before somebody listens. */
	if ((r = open_rx(s)) < 0) {
		errno = -r;
		goto fail;
	}
	if (s->o.send_path == SWEEP_SEND_TXRING && s->sp->n_addrs4) {
		if ((r = open_txring(s, err, errlen)) < 0)
			return r;
	} else {
		/* IPPROTO_RAW implies IP_HDRINCL: the packet is ours from the IPv4 header on. */
		s->tx = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (s->tx < 0)
			goto fail;
		set_buf(s->tx, SO_SNDBUFFORCE, SO_SNDBUF, SND_BUF);
	}
	/*
	 * IPv6 (with either --send-path: the send ring frames IPv4 only): on Linux IPPROTO_RAW
	 * implies IPV6_HDRINCL too (RFC 3542 §3 has no such option), but unlike IPv4 the kernel
	 * fills in nothing (rawv6_send_hdrinc sends the bytes as they are): no payload length, no
	 * source, no checksum, no fragmentation. pkt_syn6_build writes every field; the source is
	 * the route's (find_sources), so replies come back to us.
	 */
	if (s->sp->n_addrs6) {
		if ((s->tx6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) < 0)
			goto fail;
		set_buf(s->tx6, SO_SNDBUFFORCE, SO_SNDBUF, SND_BUF);
	}
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, "cannot open the raw sockets: %s%s", strerror(errno),
	         errno == EPERM ? " (sweeping needs CAP_NET_RAW)" : "");
	return r;
}

static bool zero16(const uint8_t *b)
{
	static const uint8_t z[16];

	return memcmp(b, z, 16) == 0;
}

/* Our address of each family swept, unless given: the route's towards the first target. */
static int find_sources(struct sweep *s, char *err, size_t errlen)
{
	const struct space *sp = s->sp;
	struct addr a;
	int r = 0;

	if (sp->n_addrs4 && s->o.source == 0) {
		space_addr_get(sp, 0, &a);
		r = route_source(&a, &s->o.source, NULL);
	}
	if (r == 0 && sp->n_addrs6 && zero16(s->o.source6)) {
		space_addr_get(sp, sp->n_addrs4, &a);
		r = route_source(&a, NULL, s->o.source6);
	}
	if (r < 0)
		snprintf(err, errlen, "no route to the targets: %s", strerror(-r));
	return r;
}

int sweep_open(struct sweep **out, const struct space *sp, const struct sweep_opts *o,
               sweep_found_cb *cb, void *ud, char *err, size_t errlen)
{
	struct sweep *s;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ERR_NOMEM;
	s->sp = sp;
	s->o = *o;
	s->cb = cb;
	s->ud = ud;
	s->tx = s->tx6 = s->rx = s->txr.fd = -1;
	if (s->o.shards == 0)
		s->o.shards = 1;
	if (s->o.rate == 0)
		s->o.rate = 1;
	perm_init(&s->perm, space_size(sp), s->o.seed);
	cookie_key_random(&s->key);
	if ((s->answered = calloc(space_size(sp), 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		r = -ERR_NOMEM;
		goto fail;
	}
	if ((r = find_sources(s, err, errlen)) < 0)
		goto fail;
	if ((r = open_sockets(s, err, errlen)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	sweep_close(s);
	return r;
}

/* A validated reply for address index ai, port index pi: count, report a newly open port. */
static void answered(struct sweep *s, int64_t ai, uint16_t pi, uint8_t flags, uint16_t port)
{
	uint64_t x = (uint64_t)ai * s->sp->n_ports + (pi - 1u);
	uint8_t was = 0, state = (flags & (TCPF_SYN | TCPF_RST)) == TCPF_SYN ? 1 : 2;

	atomic_fetch_add_explicit(&s->validated, 1, memory_order_relaxed);
	if (!atomic_compare_exchange_strong(&s->answered[x], &was, state))
		return; /* a retransmission or a reply to a re-sent probe */
	if (state == 1) {
		atomic_fetch_add_explicit(&s->open, 1, memory_order_relaxed);
		if (s->cb)
			s->cb(s->ud, (uint64_t)ai, port);
	} else {
		atomic_fetch_add_explicit(&s->closed, 1, memory_order_relaxed);
	}
}

static void invalid(struct sweep *s)
{
	atomic_fetch_add_explicit(&s->invalid, 1, memory_order_relaxed);
}

static void on_packet6(struct sweep *s, const uint8_t *p, size_t len)
{
	struct pkt_tcp6 t;
	int64_t ai;
	uint16_t pi;

	if (pkt_tcp6_parse(p, len, &t) < 0 || memcmp(t.daddr, s->o.source6, 16) != 0)
		return;
	atomic_fetch_add_explicit(&s->replies, 1, memory_order_relaxed);
	ai = space_index6(s->sp, t.saddr);
	pi = s->sp->port_index[t.sport];
	if (ai < 0 || pi == 0 || !(t.flags & TCPF_ACK) ||
	    !cookie_valid6(&s->key, s->o.source6, t.saddr, t.sport, t.dport, t.ack))
		invalid(s);
	else
		answered(s, ai, pi, t.flags, t.sport);
}

/* A reply: parse, validate, count, and report a newly open port. */
static void on_packet(struct sweep *s, const uint8_t *p, size_t len)
{
	struct pkt_tcp t;
	int64_t ai;
	uint16_t pi;

	if (len > 0 && p[0] >> 4 == 6) {
		on_packet6(s, p, len);
		return;
	}
	if (pkt_tcp_parse(p, len, &t) < 0 || t.daddr != s->o.source)
		return;
	atomic_fetch_add_explicit(&s->replies, 1, memory_order_relaxed);
	ai = space_index(s->sp, t.saddr);
	pi = s->sp->port_index[t.sport];
	if (ai < 0 || pi == 0 || !(t.flags & TCPF_ACK) ||
	    !cookie_valid(&s->key, s->o.source, t.saddr, t.sport, t.dport, t.ack))
		invalid(s);
	else
		answered(s, ai, pi, t.flags, t.sport);
}

static void on_frame(void *ud, const uint8_t *p, size_t len)
{
	on_packet(ud, p, len);
}

static void add_drops(struct sweep *s)
{
	struct tpacket_stats st; /* the first two counters of tpacket_stats_v3 too */
	socklen_t stlen = sizeof(st);

	/* Reading resets the kernel's counters: each read is added. */
	if (getsockopt(s->rx, SOL_PACKET, PACKET_STATISTICS, &st, &stlen) == 0)
		atomic_fetch_add(&s->drops, st.tp_drops);
}

/* --recv-path tpacket3: retired blocks as they come; after the stop, one more wait (longer than
 * the retire timeout) so that the replies of a block not yet full are read too. */
static void rx_ring_main(struct sweep *s)
{
	while (!atomic_load(&s->rx_stop)) {
		rx_ring_read(&s->rxr, s->rx, RCV_POLL_MS, on_frame, s);
		add_drops(s);
	}
	rx_ring_read(&s->rxr, s->rx, RCV_POLL_MS, on_frame, s);
	add_drops(s);
}

static void *rx_main(void *arg)
{
	struct sweep *s = arg;
	static __thread uint8_t bufs[RCV_BATCH][RCV_SNAP];
	struct mmsghdr msgs[RCV_BATCH];
	struct iovec iov[RCV_BATCH];

	if (s->o.recv_path == SWEEP_RECV_TPACKET3) {
		rx_ring_main(s);
		return NULL;
	}
	for (int i = 0; i < RCV_BATCH; i++) {
		iov[i] = (struct iovec){bufs[i], RCV_SNAP};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	while (!atomic_load(&s->rx_stop)) {
		int n = recvmmsg(s->rx, msgs, RCV_BATCH, MSG_WAITFORONE, NULL);

		for (int i = 0; i < n; i++)
			on_packet(s, bufs[i], msgs[i].msg_len);
		add_drops(s);
	}
	return NULL;
}

/*
 * Token bucket: wait until n tokens are there, then take them. Depth: 20 ms of the rate (at least
 * one batch), so that a sleep that overshoots (a loaded machine wakes a sleeper late by
 * milliseconds) is made up by the next batches instead of lost: bench/RESULTS.md, issue 13.
 */
struct bucket {
	double tokens, rate, burst;
	uint64_t last;
};

static void bucket_take(struct bucket *b, unsigned n)
{
	for (;;) {
		uint64_t t = now_ns();

		b->tokens += (double)(t - b->last) * b->rate / 1e9;
		b->last = t;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		if (b->tokens >= n) {
			b->tokens -= n;
			return;
		}
		sleep_ns((uint64_t)((n - b->tokens) * 1e9 / b->rate) + 1);
	}
}

/* A batch of one family's SYNs for its raw socket (one batch per family). */
struct batch {
	uint8_t pkt[SWEEP_BATCH_MAX][PKT_SYN6_LEN];
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} to[SWEEP_BATCH_MAX];
	struct iovec iov[SWEEP_BATCH_MAX];
	struct mmsghdr msgs[SWEEP_BATCH_MAX];
	unsigned n;
	int fd;
	bool v6;
};

static void batch_init(struct batch *b, int fd, bool v6)
{
	b->fd = fd;
	b->v6 = v6;
	for (unsigned i = 0; i < SWEEP_BATCH_MAX; i++) {
		b->iov[i] = (struct iovec){b->pkt[i], v6 ? PKT_SYN6_LEN : PKT_SYN_LEN};
		b->msgs[i].msg_hdr =
		    (struct msghdr){.msg_name = &b->to[i],
		                    .msg_namelen = v6 ? sizeof(b->to[i].v6) : sizeof(b->to[i].v4),
		                    .msg_iov = &b->iov[i],
		                    .msg_iovlen = 1};
	}
}

/* --send-path txring (IPv4): the batch into the ring's frames, then one sendto for them all. */
static void flush_ring(struct sweep *s, struct batch *b)
{
	uint64_t lost = 0;

	for (unsigned i = 0; i < b->n; i++)
		if (tx_ring_put(&s->txr, b->pkt[i], PKT_SYN_LEN) < 0)
			lost++;
	if (tx_ring_flush(&s->txr) < 0)
		lost += s->txr.pending; /* still in the ring: they leave with the next batch */
	if (lost)
		atomic_fetch_add_explicit(&s->tx_lost, lost, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sent, b->n, memory_order_relaxed);
	b->n = 0;
}

static void flush(struct sweep *s, struct batch *b, struct bucket *bk)
{
	unsigned done = 0, waits = 0;

	if (b->n == 0)
		return;
	bucket_take(bk, b->n);
	if (!b->v6 && s->txr.map != NULL) {
		flush_ring(s, b);
		return;
	}
	while (done < b->n && !atomic_load(&s->stop)) {
		int r = sendmmsg(b->fd, b->msgs + done, b->n - done, 0);

		if (r > 0) {
			done += (unsigned)r;
			continue;
		}
		/* A full queue (ENOBUFS) is back-pressure: wait a little; anything else loses
		 * the packet (the retries are there for it). */
		if (r < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) &&
		    waits++ < SEND_RETRIES) {
			sleep_ns(100000);
			continue;
		}
		done++;
		atomic_fetch_add_explicit(&s->tx_lost, 1, memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&s->sent, b->n, memory_order_relaxed);
	b->n = 0;
}

static void progress(struct sweep *s, uint64_t total, bool last)
{
	double el = (double)(now_ns() - atomic_load(&s->t0_ns)) / 1e9;
	uint64_t sent = atomic_load(&s->sent);
	double rate = el > 0 ? (double)sent / el : 0;
	unsigned pass = atomic_load(&s->pass);
	double eta = rate > 0 && total > sent ? (double)(total - sent) / rate : 0;

	fprintf(stderr,
	        "\rsweep: pass %u/%u sent %llu (%.0f/s) replies %llu validated %llu open %llu "
	        "ETA %.0f s   %s",
	        pass + 1, s->o.retries + 1, (unsigned long long)sent, rate,
	        (unsigned long long)atomic_load(&s->replies),
	        (unsigned long long)atomic_load(&s->validated),
	        (unsigned long long)atomic_load(&s->open), eta, last ? "\n" : "");
}

/* One pass over this shard's positions: every probe (pass 0), or the unanswered ones. */
/* Add the SYN for address index ai, port to its family's batch; flush a full batch. */
static void add_probe(struct sweep *s, struct batch **bs, struct bucket *bk, uint64_t ai,
                      uint16_t port, unsigned batch)
{
	const struct space *sp = s->sp;
	struct batch *b = bs[space_is_v6(sp, ai)];
	unsigned k = b->n++;
	struct cookie c;

	if (space_is_v6(sp, ai)) {
		const uint8_t *a = space_addr6(sp, ai);
		struct pkt_syn6 syn = {.dport = port, .hop_limit = 64};

		cookie_make6(&s->key, s->o.source6, a, port, &c);
		memcpy(syn.saddr, s->o.source6, 16);
		memcpy(syn.daddr, a, 16);
		syn.sport = c.sport;
		syn.seq = c.seq;
		syn.flow = c.seq >> 12; /* one flow label per probe: keyed, so not guessable */
		pkt_syn6_build(b->pkt[k], &syn);
		b->to[k].v6 = (struct sockaddr_in6){.sin6_family = AF_INET6};
		memcpy(&b->to[k].v6.sin6_addr, a, 16);
	} else {
		uint32_t a = space_addr(sp, ai);

		cookie_make(&s->key, s->o.source, a, port, &c);
		pkt_syn_build(b->pkt[k], &(struct pkt_syn){.saddr = s->o.source,
		                                           .daddr = a,
		                                           .sport = c.sport,
		                                           .dport = port,
		                                           .seq = c.seq,
		                                           .ip_id = (uint16_t)(c.seq >> 16),
		                                           .ttl = 64});
		b->to[k].v4 =
		    (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(a)};
	}
	if (b->n >= batch)
		flush(s, b, bk);
}

static void send_pass(struct sweep *s, struct batch **b, struct bucket *bk, unsigned pass,
                      uint64_t *next_progress, uint64_t total)
{
	const struct space *sp = s->sp;
	uint64_t n = space_size(sp);
	unsigned batch = s->o.rate / 1000; /* a batch per millisecond, at most 64 probes */

	if (batch < 1)
		batch = 1;
	if (batch > SWEEP_BATCH_MAX)
		batch = SWEEP_BATCH_MAX;
	for (uint64_t i = s->o.shard; i < n && !atomic_load(&s->stop); i += s->o.shards) {
		uint64_t x = perm_at(&s->perm, i);

		if (pass > 0 && atomic_load_explicit(&s->answered[x], memory_order_relaxed))
			continue;
		if (space_excluded_at(sp, x / sp->n_ports))
			continue;
		add_probe(s, b, bk, x / sp->n_ports, sp->ports[x % sp->n_ports], batch);
		if (s->o.progress && now_ns() >= *next_progress) {
			progress(s, total, false);
			*next_progress = now_ns() + 1000000000u;
		}
	}
	flush(s, b[0], bk);
	flush(s, b[1], bk);
}

/* Sleep ms unless asked to stop. */
static void pause_ms(struct sweep *s, unsigned ms)
{
	for (unsigned t = 0; t < ms && !atomic_load(&s->stop); t += 10)
		sleep_ns(10000000u);
}

static void *tx_main(void *arg)
{
	struct sweep *s = arg;
	struct batch *b = calloc(2, sizeof(*b)); /* IPv4, IPv6 */
	struct batch *bs[2] = {b, b ? b + 1 : NULL};
	struct bucket bk = {.rate = s->o.rate, .burst = s->o.rate / 50.0};
	uint64_t next_progress, total;

	if (b == NULL)
		goto out;
	if (bk.burst < SWEEP_BATCH_MAX)
		bk.burst = SWEEP_BATCH_MAX;
	batch_init(bs[0], s->tx, false);
	batch_init(bs[1], s->tx6, true);
	total = perm_shard_count(space_size(s->sp), s->o.shard, s->o.shards);
	atomic_store(&s->t0_ns, now_ns());
	bk.last = now_ns();
	bk.tokens = 1;
	next_progress = now_ns() + 1000000000u;
	for (unsigned pass = 0; pass <= s->o.retries && !atomic_load(&s->stop); pass++) {
		atomic_store(&s->pass, pass);
		if (pass > 0)
			pause_ms(s, s->o.retry_delay_ms);
		send_pass(s, bs, &bk, pass, &next_progress, total);
		if (pass == 0) {
			atomic_store(&s->first_sent, atomic_load(&s->sent));
			atomic_store(&s->first_ns, now_ns() - atomic_load(&s->t0_ns));
		}
	}
	pause_ms(s, s->o.wait_ms);
out:
	atomic_store(&s->t1_ns, now_ns());
	atomic_store(&s->rx_stop, true);
	if (s->rx_started) {
		pthread_join(s->rx_thread, NULL);
		s->rx_started = false;
	}
	if (s->o.progress)
		progress(s, 0, true);
	free(b);
	if (s->done)
		s->done(s->ud);
	return NULL;
}

int sweep_start(struct sweep *s, void (*done)(void *ud))
{
	int r;

	s->done = done;
	if ((r = pthread_create(&s->rx_thread, NULL, rx_main, s)) != 0)
		return -r;
	s->rx_started = true;
	if ((r = pthread_create(&s->tx_thread, NULL, tx_main, s)) != 0) {
		atomic_store(&s->rx_stop, true);
		pthread_join(s->rx_thread, NULL);
		s->rx_started = false;
		return -r;
	}
	s->tx_started = true;
	return 0;
}

void sweep_stop(struct sweep *s)
{
	atomic_store(&s->stop, true);
}

void sweep_close(struct sweep *s)
{
	if (s == NULL)
		return;
	if (s->tx_started)
		pthread_join(s->tx_thread, NULL);
	if (s->rx_started) {
		atomic_store(&s->rx_stop, true);
		pthread_join(s->rx_thread, NULL);
	}
	if (s->tx >= 0)
		close(s->tx);
	if (s->tx6 >= 0)
		close(s->tx6);
	tx_ring_close(&s->txr);
	rx_ring_close(&s->rxr);
	if (s->rx >= 0)
		close(s->rx);
	free((void *)s->answered);
	free(s);
}

void sweep_get_stats(const struct sweep *s, struct sweep_stats *st)
{
	struct sweep *m = (struct sweep *)s; /* atomics are read through non-const pointers */
	uint64_t t0 = atomic_load(&m->t0_ns), t1 = atomic_load(&m->t1_ns);

	st->sent = atomic_load(&m->sent);
	st->replies = atomic_load(&m->replies);
	st->validated = atomic_load(&m->validated);
	st->invalid = atomic_load(&m->invalid);
	st->open = atomic_load(&m->open);
	st->closed = atomic_load(&m->closed);
	st->drops = atomic_load(&m->drops);
	st->tx_lost = atomic_load(&m->tx_lost);
	st->pass = atomic_load(&m->pass);
	st->first_sent = atomic_load(&m->first_sent);
	st->first_s = (double)atomic_load(&m->first_ns) / 1e9;
	st->elapsed_s = t0 ? (double)((t1 ? t1 : now_ns()) - t0) / 1e9 : 0;
}

int sweep_drop_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		goto fail;
	/* The bounding set needs CAP_SETPCAP to shrink; a process started with CAP_NET_RAW alone
	 * (setcap) has nothing there to give up that capset below does not already take. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EPERM && errno != EINVAL)
			goto fail;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot drop privileges: %s", strerror(errno));
	return -errno;
}
