/* SPDX-License-Identifier: MIT */
/* The packet rings' frames (sweep/frame.h): the TPACKET_V2 send frame and the TPACKET_V3 walk. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "sweep/frame.h"
#include "sweep/packet.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK 4096

static const uint8_t gw[6] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
static const uint8_t me[6] = {0x02, 0x00, 0x5e, 0x40, 0x50, 0x60};

static size_t syn(uint8_t *b, uint32_t daddr, uint16_t dport)
{
	return pkt_syn_build(b, &(struct pkt_syn){.saddr = 0xc6120001, /* 198.18.0.1 */
	                                          .daddr = daddr,
	                                          .sport = 61440 + 7,
	                                          .dport = dport,
	                                          .seq = 0x01020304,
	                                          .ttl = 64});
}

static uint32_t status(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void set_status(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void test_eth_header(void **state)
{
	uint8_t h[FRAME_ETH_LEN];
	const uint8_t want[FRAME_ETH_LEN] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 0x02,
	                                     0x00, 0x5e, 0x40, 0x50, 0x60, 0x08, 0x00};

	(void)state;
	frame_eth_header(h, gw, me, 0x0800);
	assert_memory_equal(h, want, sizeof(want));
}

static void test_tx_fill(void **state)
{
	uint8_t *f = aligned_alloc(16, 128), eth[FRAME_ETH_LEN], pkt[PKT_SYN_LEN];
	struct tpacket2_hdr h;

	(void)state;
	assert_non_null(f);
	memset(f, 0, 128);
	frame_eth_header(eth, gw, me, 0x0800);
	syn(pkt, 0xc6130102, 445);
	assert_true(frame_tx_free(f));
	assert_false(frame_tx_refused(f));
	assert_int_equal(frame_tx_fill(f, 128, eth, pkt, sizeof(pkt)), 0);
	memcpy(&h, f, sizeof(h));
	assert_int_equal(h.tp_status, TP_STATUS_SEND_REQUEST);
	assert_int_equal(h.tp_len, FRAME_ETH_LEN + PKT_SYN_LEN);
	/* The kernel reads the frame from TPACKET_ALIGN(sizeof(tpacket2_hdr)): 32. */
	assert_int_equal(FRAME_TX_DATA, 32);
	assert_memory_equal(f + 32, eth, FRAME_ETH_LEN);
	assert_memory_equal(f + 32 + FRAME_ETH_LEN, pkt, PKT_SYN_LEN);
	/* The kernel's states: ours again only once it is done (or refused it). */
	assert_false(frame_tx_free(f));
	set_status(f, TP_STATUS_SENDING);
	assert_false(frame_tx_free(f));
	set_status(f, TP_STATUS_AVAILABLE);
	assert_true(frame_tx_free(f));
	set_status(f, TP_STATUS_WRONG_FORMAT);
	assert_true(frame_tx_free(f));
	assert_true(frame_tx_refused(f));
	free(f);
}

static void test_tx_too_small(void **state)
{
	uint8_t *f = aligned_alloc(16, 128), eth[FRAME_ETH_LEN] = {0}, pkt[PKT_SYN_LEN] = {0};
	uint8_t zero[128] = {0};

	(void)state;
	assert_non_null(f);
	memset(f, 0, 128);
	/* 32 + 14 + 44 = 90 bytes: 89 do not hold them, 90 do; a short frame stays untouched. */
	assert_int_equal(frame_tx_fill(f, 89, eth, pkt, sizeof(pkt)), -ERR_RANGE);
	assert_int_equal(frame_tx_fill(f, 16, eth, pkt, sizeof(pkt)), -ERR_RANGE);
	assert_memory_equal(f, zero, 128);
	assert_int_equal(frame_tx_fill(f, 90, eth, pkt, sizeof(pkt)), 0);
	free(f);
}

/* A block laid out as the kernel does (packet_mmap.rst): the descriptor, then packets at
 * TPACKET_ALIGN'ed offsets, each its tpacket3_hdr, the packet at tp_net. */
struct layout {
	uint32_t first;
	uint32_t off[8];
	unsigned n;
};

static void put_packet(uint8_t *b, uint32_t off, uint16_t net, const uint8_t *p, size_t len,
                       uint32_t next)
{
	struct tpacket3_hdr h;

	memset(&h, 0, sizeof(h));
	h.tp_next_offset = next;
	h.tp_snaplen = h.tp_len = (uint32_t)len;
	h.tp_mac = h.tp_net = net;
	h.tp_status = TP_STATUS_USER;
	memcpy(b + off, &h, sizeof(h));
	memcpy(b + off + net, p, len);
}

static uint8_t *make_block(unsigned n, struct layout *l)
{
	uint8_t *b = aligned_alloc(4096, BLOCK), pkt[PKT_SYN_LEN];
	struct tpacket_block_desc d;
	uint32_t off = TPACKET_ALIGN(sizeof(d));
	uint16_t net = (uint16_t)TPACKET_ALIGN(sizeof(struct tpacket3_hdr) + 16);

	assert_non_null(b);
	memset(b, 0, BLOCK);
	memset(&d, 0, sizeof(d));
	d.version = TPACKET_V3;
	d.hdr.bh1.block_status = TP_STATUS_USER;
	d.hdr.bh1.num_pkts = n;
	d.hdr.bh1.offset_to_first_pkt = off;
	l->first = off;
	l->n = n;
	for (unsigned i = 0; i < n; i++) {
		uint32_t next = TPACKET_ALIGN(net + PKT_SYN_LEN);

		syn(pkt, 0xc6130000 + i, (uint16_t)(22 + i));
		l->off[i] = off;
		put_packet(b, off, net, pkt, sizeof(pkt), i + 1 < n ? next : 0);
		off += next;
	}
	d.hdr.bh1.blk_len = off;
	memcpy(b, &d, sizeof(d));
	return b;
}

struct seen {
	unsigned n;
	uint32_t daddr[16];
	uint16_t dport[16];
};

static void on_pkt(void *ud, const uint8_t *p, size_t len)
{
	struct seen *s = ud;
	struct pkt_tcp t;

	assert_int_equal(pkt_tcp_parse(p, len, &t), 0);
	assert_true(s->n < 16);
	s->daddr[s->n] = t.daddr;
	s->dport[s->n] = t.dport;
	s->n++;
}

static void test_rx_walk(void **state)
{
	struct layout l;
	uint8_t *b = make_block(5, &l);
	struct seen s = {0};

	(void)state;
	assert_true(frame_rx_ready(b));
	assert_int_equal(frame_rx_walk(b, BLOCK, on_pkt, &s), 5);
	assert_int_equal(s.n, 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(s.daddr[i], 0xc6130000 + i);
		assert_int_equal(s.dport[i], 22 + i);
	}
	frame_rx_release(b);
	assert_false(frame_rx_ready(b));
	assert_int_equal(status(b + offsetof(struct tpacket_block_desc, hdr.bh1.block_status)),
	                 TP_STATUS_KERNEL);
	free(b);
	/* An empty block (never retired by the kernel, but harmless). */
	b = make_block(0, &l);
	s.n = 0;
	assert_int_equal(frame_rx_walk(b, BLOCK, on_pkt, &s), 0);
	assert_int_equal(s.n, 0);
	free(b);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Each corruption: the walk stops with -ERR_PROTO after exactly the packets before it. */
static void test_rx_walk_malformed(void **state)
{
	const size_t first = offsetof(struct tpacket_block_desc, hdr.bh1.offset_to_first_pkt);
	const size_t npkts = offsetof(struct tpacket_block_desc, hdr.bh1.num_pkts);
	const size_t next = offsetof(struct tpacket3_hdr, tp_next_offset);
	const size_t snap = offsetof(struct tpacket3_hdr, tp_snaplen);
	const size_t net = offsetof(struct tpacket3_hdr, tp_net);
	struct layout l;
	struct seen s;
	uint8_t *b;

	(void)state;
	for (int c = 0; c < 9; c++) {
		unsigned before;

		b = make_block(3, &l);
		switch (c) {
		case 0: /* the first packet outside the block */
			put32(b + first, BLOCK - 8), before = 0;
			break;
		case 1: /* ...or inside the descriptor */
			put32(b + first, 4), before = 0;
			break;
		case 2: /* a network offset past the block */
			put16(b + l.off[1] + net, 0xfff0), before = 1;
			break;
		case 3: /* a network offset inside the packet's own header */
			put16(b + l.off[1] + net, 8), before = 1;
			break;
		case 4: /* a captured length past the block */
			put32(b + l.off[2] + snap, BLOCK), before = 2;
			break;
		case 5: /* a next offset of 0 would walk the same packet for ever */
			put32(b + l.off[0] + next, 0), before = 1;
			break;
		case 6: /* a next offset inside the packet's bytes */
			put32(b + l.off[0] + next, 40), before = 1;
			break;
		case 7: /* a next offset past the block */
			put32(b + l.off[1] + next, BLOCK), before = 2;
			break;
		default: /* more packets counted than there are: the zeroes after them are no header
		          */
			put32(b + npkts, 1000000), before = 3;
			put32(b + l.off[2] + next, 128);
			break;
		}
		memset(&s, 0, sizeof(s));
		assert_int_equal(frame_rx_walk(b, BLOCK, on_pkt, &s), -ERR_PROTO);
		assert_int_equal(s.n, before);
		free(b);
	}
	/* A block smaller than its descriptor. */
	b = make_block(1, &l);
	assert_int_equal(frame_rx_walk(b, 16, on_pkt, &s), -ERR_PROTO);
	free(b);
}

static void on_any(void *ud, const uint8_t *p, size_t len)
{
	const uint8_t **bounds = ud;

	/* Every packet handed out lies inside the block. */
	assert_true(p >= bounds[0] && p + len <= bounds[1]);
}

/* Random descriptors and headers over a small block: the walk stays inside (ASan watches). */
static void test_rx_walk_random(void **state)
{
	enum { SIZE = 512 };
	uint8_t *b = malloc(SIZE);
	const uint8_t *bounds[2] = {b, b + SIZE};
	uint32_t x = 13;

	(void)state;
	assert_non_null(b);
	for (int round = 0; round < 20000; round++) {
		for (int i = 0; i < SIZE; i++) {
			x = x * 1103515245u + 12345u;
			b[i] = (uint8_t)(x >> 16);
		}
		/* Small numbers where they matter, so that walks get somewhere. */
		put32(b + offsetof(struct tpacket_block_desc, hdr.bh1.num_pkts), x % 9);
		put32(b + offsetof(struct tpacket_block_desc, hdr.bh1.offset_to_first_pkt),
		      48 + (x >> 8) % 64);
		int r = frame_rx_walk(b, SIZE, on_any, bounds);

		assert_true(r == -ERR_PROTO || (r >= 0 && r <= 8));
	}
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eth_header),        cmocka_unit_test(test_tx_fill),
	    cmocka_unit_test(test_tx_too_small),      cmocka_unit_test(test_rx_walk),
	    cmocka_unit_test(test_rx_walk_malformed), cmocka_unit_test(test_rx_walk_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
