/* SPDX-License-Identifier: MIT */
/*
 * The frames of the packet rings (frame.h). Layouts: <linux/if_packet.h> and the kernel's
 * Documentation/networking/packet_mmap.rst ("TPACKET versions", "AF_PACKET TPACKET_V3
 * example"): a V2 frame starts with struct tpacket2_hdr, whose first word is the status; a V3
 * block starts with struct tpacket_block_desc, its packets chained by tp_next_offset.
 */
#include "sweep/frame.h"
#include "core/err.h"

#include <string.h>

/* The status word at the start of a frame or of a block's header (both 32 bits). */
static uint32_t status_load(const uint8_t *p)
{
	return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_ACQUIRE);
}

static void status_store(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELEASE);
}

void frame_eth_header(uint8_t out[FRAME_ETH_LEN], const uint8_t dst[6], const uint8_t src[6],
                      uint16_t type)
{
	memcpy(out, dst, 6);
	memcpy(out + 6, src, 6);
	out[12] = (uint8_t)(type >> 8);
	out[13] = (uint8_t)type;
}

bool frame_tx_free(const uint8_t *f)
{
	return (status_load(f + offsetof(struct tpacket2_hdr, tp_status)) &
	        (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING)) == 0;
}

bool frame_tx_refused(const uint8_t *f)
{
	return status_load(f + offsetof(struct tpacket2_hdr, tp_status)) == TP_STATUS_WRONG_FORMAT;
}

int frame_tx_fill(uint8_t *f, size_t size, const uint8_t eth[FRAME_ETH_LEN], const uint8_t *pkt,
                  size_t len)
{
	struct tpacket2_hdr h;

	if (size < FRAME_TX_DATA || len > size - FRAME_TX_DATA - FRAME_ETH_LEN)
		return -ERR_RANGE;
	memcpy(f + FRAME_TX_DATA, eth, FRAME_ETH_LEN);
	memcpy(f + FRAME_TX_DATA + FRAME_ETH_LEN, pkt, len);
	memset(&h, 0, sizeof(h));
	h.tp_len = h.tp_snaplen = (uint32_t)(FRAME_ETH_LEN + len);
	/* Everything but the status first; the status last, released after the frame. */
	memcpy(f + sizeof(h.tp_status), (const uint8_t *)&h + sizeof(h.tp_status),
	       sizeof(h) - sizeof(h.tp_status));
	status_store(f + offsetof(struct tpacket2_hdr, tp_status), TP_STATUS_SEND_REQUEST);
	return 0;
}

bool frame_rx_ready(const uint8_t *b)
{
	return (status_load(b + offsetof(struct tpacket_block_desc, hdr.bh1.block_status)) &
	        TP_STATUS_USER) != 0;
}

void frame_rx_release(uint8_t *b)
{
	status_store(b + offsetof(struct tpacket_block_desc, hdr.bh1.block_status),
	             TP_STATUS_KERNEL);
}

int frame_rx_walk(const uint8_t *b, size_t size, frame_packet_cb *cb, void *ud)
{
	struct tpacket_block_desc d;
	size_t off;
	uint32_t n;

	/* Fields are copied out: a hostile (test) block may put them anywhere, aligned or not. */
	if (size < sizeof(d))
		return -ERR_PROTO;
	memcpy(&d, b, sizeof(d));
	n = d.hdr.bh1.num_pkts;
	off = d.hdr.bh1.offset_to_first_pkt;
	for (uint32_t i = 0; i < n; i++) {
		struct tpacket3_hdr h;

		if (off < sizeof(d) || off > size || size - off < sizeof(h))
			return -ERR_PROTO;
		memcpy(&h, b + off, sizeof(h));
		if (h.tp_net < sizeof(h) || h.tp_net > size - off ||
		    h.tp_snaplen > size - off - h.tp_net)
			return -ERR_PROTO;
		cb(ud, b + off + h.tp_net, h.tp_snaplen);
		if (i + 1 == n)
			break;
		/* The next packet lies after this one's bytes, inside the block. */
		if (h.tp_next_offset < h.tp_net + h.tp_snaplen || h.tp_next_offset > size - off)
			return -ERR_PROTO;
		off += h.tp_next_offset;
	}
	return (int)n;
}
