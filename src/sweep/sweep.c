/* SPDX-License-Identifier: MIT */
/* Stage 1 of the sweep: the sender and receiver threads (sweep.h, docs/internals/SWEEP.md). */
#include "sweep/sweep.h"
#include "core/err.h"
#include "sweep/cookie.h"
#include "sweep/packet.h"
#include "sweep/perm.h"

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
#define RCV_SNAP     128 /* IPv4 + TCP headers with options */
#define RCV_POLL_MS  50
#define SEND_RETRIES 1000 /* ENOBUFS waits per batch before a probe counts as sent anyway */

struct sweep {
	const struct space *sp;
	struct sweep_opts o;
	struct perm perm;
	struct cookie_key key;
	int tx, rx;
	sweep_found_cb *cb;
	void *ud;
	void (*done)(void *ud);
	_Atomic uint8_t *answered; /* per (address, port) index: 1 open, 2 closed */
	pthread_t tx_thread, rx_thread;
	bool tx_started, rx_started;
	atomic_bool stop, rx_stop;
	_Atomic uint64_t sent, replies, validated, invalid, open, closed, drops;
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

void sweep_opts_default(struct sweep_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rate = SWEEP_RATE_DEFAULT;
	o->retries = SWEEP_RETRIES_DEFAULT;
	o->shards = 1;
	o->wait_ms = SWEEP_WAIT_DEFAULT_MS;
	o->retry_delay_ms = SWEEP_RETRY_DELAY_MS;
}

/* The address the kernel would send from towards a: a connected UDP socket sends nothing. */
static int route_source(uint32_t a, uint32_t *out)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
	socklen_t len = sizeof(sin);
	int fd, r = 0;

	sin.sin_addr.s_addr = htonl(a);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		r = -errno;
	else
		*out = ntohl(sin.sin_addr.s_addr);
	close(fd);
	return r;
}

/*
 * The classic BPF filter of the receive socket (SOCK_DGRAM: offsets from the IPv4 header):
 * TCP, first fragment, to our address, to a cookie source port, SYN+ACK or RST.
 */
static int attach_filter(int fd, uint32_t source)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), /* protocol */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 12),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), /* flags + fragment offset */
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 10, 0),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 16), /* destination */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, source, 0, 8),
	    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* X = IPv4 header length */
	    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),  /* TCP destination port */
	    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, COOKIE_SPORT_BASE, 0, 5),
	    BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13), /* TCP flags */
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, TCPF_RST, 2, 0),
	    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, TCPF_SYN | TCPF_ACK),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TCPF_SYN | TCPF_ACK, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, RCV_SNAP),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

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

static int open_sockets(struct sweep *s, char *err, size_t errlen)
{
	int one = 1, r;
	struct timeval tv = {.tv_usec = RCV_POLL_MS * 1000};

	/* Receive first: no reply may arrive before somebody listens. */
	s->rx = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (s->rx < 0)
		goto fail;
	if ((r = attach_filter(s->rx, s->o.source)) < 0) {
		errno = -r;
		goto fail;
	}
#ifdef PACKET_IGNORE_OUTGOING
	setsockopt(s->rx, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
#endif
	set_buf(s->rx, SO_RCVBUFFORCE, SO_RCVBUF, RCV_BUF);
	setsockopt(s->rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* IPPROTO_RAW implies IP_HDRINCL: the packet is ours from the IPv4 header on. */
	s->tx = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (s->tx < 0)
		goto fail;
	set_buf(s->tx, SO_SNDBUFFORCE, SO_SNDBUF, SND_BUF);
	(void)one;
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, "cannot open the raw sockets: %s%s", strerror(errno),
	         errno == EPERM ? " (sweeping needs CAP_NET_RAW)" : "");
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
	s->tx = s->rx = -1;
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
	if (s->o.source == 0 && (r = route_source(space_addr(sp, 0), &s->o.source)) < 0) {
		snprintf(err, errlen, "no route to the targets: %s", strerror(-r));
		goto fail;
	}
	if ((r = open_sockets(s, err, errlen)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	sweep_close(s);
	return r;
}

/* A reply: parse, validate, count, and report a newly open port. */
static void on_packet(struct sweep *s, const uint8_t *p, size_t len)
{
	struct pkt_tcp t;
	int64_t ai;
	uint16_t pi;
	uint64_t x;
	uint8_t was, state;

	if (pkt_tcp_parse(p, len, &t) < 0 || t.daddr != s->o.source)
		return;
	atomic_fetch_add_explicit(&s->replies, 1, memory_order_relaxed);
	ai = space_index(s->sp, t.saddr);
	pi = s->sp->port_index[t.sport];
	if (ai < 0 || pi == 0 || !(t.flags & TCPF_ACK) ||
	    !cookie_valid(&s->key, s->o.source, t.saddr, t.sport, t.dport, t.ack)) {
		atomic_fetch_add_explicit(&s->invalid, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&s->validated, 1, memory_order_relaxed);
	x = (uint64_t)ai * s->sp->n_ports + (pi - 1u);
	state = (t.flags & (TCPF_SYN | TCPF_RST)) == TCPF_SYN ? 1 : 2;
	was = 0;
	if (!atomic_compare_exchange_strong(&s->answered[x], &was, state))
		return; /* a retransmission or a reply to a re-sent probe */
	if (state == 1) {
		atomic_fetch_add_explicit(&s->open, 1, memory_order_relaxed);
		if (s->cb)
			s->cb(s->ud, t.saddr, t.sport);
	} else {
		atomic_fetch_add_explicit(&s->closed, 1, memory_order_relaxed);
	}
}

static void *rx_main(void *arg)
{
	struct sweep *s = arg;
	static __thread uint8_t bufs[RCV_BATCH][RCV_SNAP];
	struct mmsghdr msgs[RCV_BATCH];
	struct iovec iov[RCV_BATCH];
	struct tpacket_stats st;
	socklen_t stlen;

	for (int i = 0; i < RCV_BATCH; i++) {
		iov[i] = (struct iovec){bufs[i], RCV_SNAP};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	while (!atomic_load(&s->rx_stop)) {
		int n = recvmmsg(s->rx, msgs, RCV_BATCH, MSG_WAITFORONE, NULL);

		for (int i = 0; i < n; i++)
			on_packet(s, bufs[i], msgs[i].msg_len);
		stlen = sizeof(st);
		if (getsockopt(s->rx, SOL_PACKET, PACKET_STATISTICS, &st, &stlen) == 0)
			atomic_fetch_add(&s->drops, st.tp_drops);
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

struct batch {
	uint8_t pkt[SWEEP_BATCH_MAX][PKT_SYN_LEN];
	struct sockaddr_in to[SWEEP_BATCH_MAX];
	struct iovec iov[SWEEP_BATCH_MAX];
	struct mmsghdr msgs[SWEEP_BATCH_MAX];
	unsigned n;
};

static void flush(struct sweep *s, struct batch *b, struct bucket *bk)
{
	unsigned done = 0, waits = 0;

	if (b->n == 0)
		return;
	bucket_take(bk, b->n);
	while (done < b->n && !atomic_load(&s->stop)) {
		int r = sendmmsg(s->tx, b->msgs + done, b->n - done, 0);

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
static void send_pass(struct sweep *s, struct batch *b, struct bucket *bk, unsigned pass,
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
		uint32_t a;
		uint16_t port;
		struct cookie c;
		unsigned k;

		if (pass > 0 && atomic_load_explicit(&s->answered[x], memory_order_relaxed))
			continue;
		a = space_addr(sp, x / sp->n_ports);
		if (space_excluded(sp, a))
			continue;
		port = sp->ports[x % sp->n_ports];
		cookie_make(&s->key, s->o.source, a, port, &c);
		k = b->n++;
		pkt_syn_build(b->pkt[k], &(struct pkt_syn){.saddr = s->o.source,
		                                           .daddr = a,
		                                           .sport = c.sport,
		                                           .dport = port,
		                                           .seq = c.seq,
		                                           .ip_id = (uint16_t)(c.seq >> 16),
		                                           .ttl = 64});
		b->to[k] = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(a)};
		if (b->n >= batch)
			flush(s, b, bk);
		if (s->o.progress && now_ns() >= *next_progress) {
			progress(s, total, false);
			*next_progress = now_ns() + 1000000000u;
		}
	}
	flush(s, b, bk);
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
	struct batch *b = calloc(1, sizeof(*b));
	struct bucket bk = {.rate = s->o.rate, .burst = s->o.rate / 50.0};
	uint64_t next_progress, total;

	if (b == NULL)
		goto out;
	if (bk.burst < SWEEP_BATCH_MAX)
		bk.burst = SWEEP_BATCH_MAX;
	for (unsigned i = 0; i < SWEEP_BATCH_MAX; i++) {
		b->iov[i] = (struct iovec){b->pkt[i], PKT_SYN_LEN};
		b->msgs[i].msg_hdr = (struct msghdr){.msg_name = &b->to[i],
		                                     .msg_namelen = sizeof(b->to[i]),
		                                     .msg_iov = &b->iov[i],
		                                     .msg_iovlen = 1};
	}
	total = perm_shard_count(space_size(s->sp), s->o.shard, s->o.shards);
	atomic_store(&s->t0_ns, now_ns());
	bk.last = now_ns();
	bk.tokens = 1;
	next_progress = now_ns() + 1000000000u;
	for (unsigned pass = 0; pass <= s->o.retries && !atomic_load(&s->stop); pass++) {
		atomic_store(&s->pass, pass);
		if (pass > 0)
			pause_ms(s, s->o.retry_delay_ms);
		send_pass(s, b, &bk, pass, &next_progress, total);
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
