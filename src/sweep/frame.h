/* SPDX-License-Identifier: MIT */
/*
 * The frames of the sweep's packet rings (docs/internals/SWEEP.md, "Send and receive paths"):
 * a TPACKET_V2 transmit frame (the kernel's header, then a whole Ethernet frame at the offset the
 * kernel reads it from) and the walk over the packets of one TPACKET_V3 receive block. Pure: they
 * touch only the memory they are given (a ring's mapping, or a test's buffer). The status words
 * are shared with the kernel: read with acquire ordering before the frame, written with release
 * ordering after it. Offsets in a receive block are checked against the block before use.
 */
#ifndef EXPOSURE_SWEEP_FRAME_H
#define EXPOSURE_SWEEP_FRAME_H

#include <linux/if_packet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_ETH_LEN 14 /* destination, source, EtherType */
/* Where the kernel reads a TPACKET_V2 frame's data from (no PACKET_TX_HAS_OFF). */
#define FRAME_TX_DATA TPACKET_ALIGN(sizeof(struct tpacket2_hdr))

/* An Ethernet header: dst, src (6 bytes each), type (host order). */
void frame_eth_header(uint8_t out[FRAME_ETH_LEN], const uint8_t dst[6], const uint8_t src[6],
                      uint16_t type);

/* Whether the transmit frame at f is ours to fill (the kernel is done with it). */
bool frame_tx_free(const uint8_t *f);

/* Whether the kernel refused the frame at f as malformed (TP_STATUS_WRONG_FORMAT). */
bool frame_tx_refused(const uint8_t *f);

/*
 * Fill the free frame f (size bytes) with eth then pkt (len bytes) and give it to the kernel's
 * next send. Returns 0, or -ERR_RANGE if the frame cannot hold them (f untouched).
 */
int frame_tx_fill(uint8_t *f, size_t size, const uint8_t eth[FRAME_ETH_LEN], const uint8_t *pkt,
                  size_t len);

/* A packet of a receive block: its network-layer bytes (the IP header on). */
typedef void frame_packet_cb(void *ud, const uint8_t *pkt, size_t len);

/* Whether the receive block at b is the user's (the kernel has retired it). */
bool frame_rx_ready(const uint8_t *b);

/* Give the block at b back to the kernel. */
void frame_rx_release(uint8_t *b);

/*
 * Walk the packets of the user's TPACKET_V3 block at b (size bytes): each packet's bytes from its
 * network header, as many as were captured, to cb. Returns the number of packets walked, or
 * -ERR_PROTO when the block's header or a packet's offsets leave the block (what comes after is
 * not walked; what came before was).
 */
int frame_rx_walk(const uint8_t *b, size_t size, frame_packet_cb *cb, void *ud);

#endif
