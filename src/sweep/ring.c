/* SPDX-License-Identifier: MIT */
/*
 * The packet-ring paths of the sweep (ring.h). Kernel interface: packet(7) and
 * Documentation/networking/packet_mmap.rst (PACKET_TX_RING, PACKET_QDISC_BYPASS, TPACKET_V3,
 * tp_retire_blk_tov); the next hop: engine/neigh.h (rtnetlink).
 */
#include "sweep/ring.h"
#include "core/addr.h"
#include "core/err.h"
#include "engine/neigh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Send ring: 64 blocks of a page, 128-byte frames (header 32 + Ethernet 14 + SYN 44 fit). */
#define TX_FRAME_SIZE  128u
#define TX_BLOCK_NR    64u
#define TX_WAIT_MS     100 /* for a frame the kernel still holds */
#define TX_NOBUF_WAITS 1000
#define HOP_RESOLVE_MS 1000u
/* Receive ring: 32 blocks of 256 KiB (8 MiB, ~40,000 replies of 128 bytes); a block that has
 * packets is handed over at the latest after RX_RETIRE_MS even if not full. */
#define RX_BLOCK_SIZE (256u * 1024u)
#define RX_BLOCK_NR   32u
#define RX_FRAME_SIZE 2048u /* the kernel's bookkeeping only: V3 packs packets in a block */
#define RX_RETIRE_MS  10u

static void sleep_us(long us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The route's gateway towards dst and its link-layer address, refused where one frame header
 * cannot serve every probe. */
static int find_hop(uint32_t dst, struct neigh_hop *h, char *err, size_t errlen)
{
	struct addr d = addr_v4(dst);
	char a[ADDR_STRLEN], g[ADDR_STRLEN];
	int r = neigh_hop_get(&d, 0, h);

	/* Resolution only once the hop is known to be a gateway: an on-link target is refused
	 * without even an ARP request towards it. */
	if (r == 0 && h->gateway && h->state != NEIGH_RESOLVED)
		r = neigh_hop_get(&d, HOP_RESOLVE_MS, h);
	addr_format(&d, a, sizeof(a));
	if (r < 0) {
		snprintf(err, errlen,
		         "--send-path txring: no gateway route to %s (%s); use --send-path mmsg", a,
		         r == -ENOENT ? "local, or not unicast" : strerror(-r));
		return r;
	}
	if (!h->gateway) {
		snprintf(
		    err, errlen,
		    "--send-path txring: %s is on-link (no gateway): each address would need its "
		    "own link-layer address; use --send-path mmsg",
		    a);
		return -ERR_PROTO;
	}
	addr_format(&h->hop, g, sizeof(g));
	if (h->state != NEIGH_RESOLVED || h->lladdr_len != ETH_ALEN) {
		snprintf(
		    err, errlen,
		    "--send-path txring: the link-layer address of the gateway %s is not known "
		    "(not resolved within %u ms, or not Ethernet); use --send-path mmsg",
		    g, HOP_RESOLVE_MS);
		return -ERR_PROTO;
	}
	return 0;
}

int tx_ring_same_hop(const struct tx_ring *t, uint32_t dst, char *err, size_t errlen)
{
	struct neigh_hop h;
	char a[ADDR_STRLEN];
	struct addr d = addr_v4(dst);
	int r = neigh_hop_get(&d, 0, &h);

	if (r == 0 && h.gateway && h.ifindex == t->to.sll_ifindex &&
	    addr_v4_value(&h.hop) == t->hop)
		return 0;
	addr_format(&d, a, sizeof(a));
	snprintf(err, errlen,
	         "--send-path txring: %s is not behind the same gateway as the first target (one "
	         "link-layer header serves every probe); use --send-path mmsg",
	         a);
	return -ERR_PROTO;
}

/* The interface's own Ethernet address. */
static int if_mac(int fd, int ifindex, char *name, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (if_indextoname((unsigned)ifindex, ifr.ifr_name) == NULL)
		return -errno;
	snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -ERR_PROTO;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

static int tx_socket(struct tx_ring *t)
{
	struct tpacket_req req = {
	    .tp_block_size = (unsigned)sysconf(_SC_PAGESIZE),
	    .tp_frame_size = TX_FRAME_SIZE,
	    .tp_block_nr = TX_BLOCK_NR,
	};
	int v = TPACKET_V2, one = 1;

	req.tp_frame_nr = req.tp_block_size / TX_FRAME_SIZE * TX_BLOCK_NR;
	/* Protocol 0: this socket receives nothing; the protocol is given with each sendto. */
	if ((t->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) != 0 ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) != 0 ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)) != 0 ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) != 0)
		return -errno;
	t->frame_size = req.tp_frame_size;
	t->n_frames = req.tp_frame_nr;
	t->map_len = (size_t)req.tp_block_size * req.tp_block_nr;
	t->map = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (t->map == MAP_FAILED) {
		t->map = NULL;
		return -errno;
	}
	return 0;
}

int tx_ring_open(struct tx_ring *t, uint32_t dst, char *err, size_t errlen)
{
	struct neigh_hop h;
	uint8_t mac[ETH_ALEN];
	int r;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if ((r = find_hop(dst, &h, err, errlen)) < 0)
		return r;
	if ((r = tx_socket(t)) < 0) {
		snprintf(err, errlen, "cannot open the send ring: %s%s", strerror(-r),
		         r == -EPERM ? " (sweeping needs CAP_NET_RAW)" : "");
		goto fail;
	}
	if ((r = if_mac(t->fd, h.ifindex, t->ifname, mac)) < 0) {
		snprintf(err, errlen,
		         "--send-path txring: the interface towards the targets is not Ethernet "
		         "(%s); use --send-path mmsg",
		         r == -ERR_PROTO ? "no Ethernet address" : strerror(-r));
		goto fail;
	}
	frame_eth_header(t->eth, h.lladdr, mac, ETH_P_IP);
	t->hop = addr_v4_value(&h.hop);
	t->to = (struct sockaddr_ll){.sll_family = AF_PACKET,
	                             .sll_protocol = htons(ETH_P_IP),
	                             .sll_ifindex = h.ifindex,
	                             .sll_halen = ETH_ALEN};
	memcpy(t->to.sll_addr, h.lladdr, ETH_ALEN);
	return 0;
fail:
	tx_ring_close(t);
	return r;
}

int tx_ring_flush(struct tx_ring *t)
{
	for (unsigned waits = 0; t->pending > 0; waits++) {
		/* Every frame marked since the last call leaves, in ring order. */
		if (sendto(t->fd, NULL, 0, MSG_DONTWAIT, (struct sockaddr *)&t->to,
		           sizeof(t->to)) >= 0) {
			t->pending = 0;
			break;
		}
		if ((errno != ENOBUFS && errno != EAGAIN && errno != EINTR) ||
		    waits >= TX_NOBUF_WAITS)
			return -errno;
		sleep_us(100);
	}
	return 0;
}

int tx_ring_put(struct tx_ring *t, const uint8_t *pkt, size_t len)
{
	uint8_t *f = t->map + (size_t)t->head * t->frame_size;

	if (!frame_tx_free(f)) {
		struct pollfd p = {.fd = t->fd, .events = POLLOUT};

		tx_ring_flush(t);
		for (int ms = 0; ms < TX_WAIT_MS && !frame_tx_free(f); ms++)
			poll(&p, 1, 1);
		if (!frame_tx_free(f))
			return -ERR_AGAIN;
	}
	if (frame_tx_refused(f))
		t->refused++;
	if (frame_tx_fill(f, t->frame_size, t->eth, pkt, len) < 0)
		return -ERR_RANGE;
	t->head = (t->head + 1) % t->n_frames;
	t->pending++;
	return 0;
}

void tx_ring_close(struct tx_ring *t)
{
	if (t->map)
		munmap(t->map, t->map_len);
	if (t->fd >= 0)
		close(t->fd);
	t->map = NULL;
	t->fd = -1;
}

int rx_ring_setup(struct rx_ring *r, int fd)
{
	struct tpacket_req3 req = {
	    .tp_block_size = RX_BLOCK_SIZE,
	    .tp_block_nr = RX_BLOCK_NR,
	    .tp_frame_size = RX_FRAME_SIZE,
	    .tp_frame_nr = RX_BLOCK_SIZE / RX_FRAME_SIZE * RX_BLOCK_NR,
	    .tp_retire_blk_tov = RX_RETIRE_MS,
	};
	int v = TPACKET_V3;

	memset(r, 0, sizeof(*r));
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) != 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0)
		return -errno;
	r->block_size = req.tp_block_size;
	r->n_blocks = req.tp_block_nr;
	r->map_len = (size_t)req.tp_block_size * req.tp_block_nr;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return -errno;
	}
	return 0;
}

int rx_ring_read(struct rx_ring *r, int fd, int ms, frame_packet_cb *cb, void *ud)
{
	uint8_t *b = r->map + (size_t)r->cur * r->block_size;
	int n = 0, k;

	if (!frame_rx_ready(b)) {
		struct pollfd p = {.fd = fd, .events = POLLIN | POLLERR};

		if (poll(&p, 1, ms) < 0 && errno != EINTR)
			return -errno;
	}
	/* Every retired block, in ring order; each goes back to the kernel once walked. */
	while (frame_rx_ready(b)) {
		if ((k = frame_rx_walk(b, r->block_size, cb, ud)) > 0)
			n += k;
		frame_rx_release(b);
		r->cur = (r->cur + 1) % r->n_blocks;
		b = r->map + (size_t)r->cur * r->block_size;
	}
	return n;
}

void rx_ring_close(struct rx_ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
}
