/* SPDX-License-Identifier: MIT */
/*
 * The sweep's two packet-ring paths (docs/internals/SWEEP.md, "Send and receive paths"):
 * - the send ring (--send-path txring): an AF_PACKET SOCK_RAW socket with a PACKET_TX_RING of
 *   TPACKET_V2 frames, each a whole Ethernet frame addressed to the gateway's link-layer address,
 *   PACKET_QDISC_BYPASS, and one sendto() per batch to hand the filled frames to the device;
 * - the receive ring (--recv-path tpacket3): a PACKET_RX_RING of TPACKET_V3 blocks on the
 *   filtered packet socket, read a retired block at a time.
 * The frames themselves: frame.h (pure, unit-tested).
 */
#ifndef EXPOSURE_SWEEP_RING_H
#define EXPOSURE_SWEEP_RING_H

#include "sweep/frame.h"

#include <linux/if_packet.h>
#include <stddef.h>
#include <stdint.h>

struct tx_ring {
	int fd;
	uint8_t *map;
	size_t map_len;
	unsigned frame_size, n_frames, head, pending;
	uint8_t eth[FRAME_ETH_LEN]; /* gateway's address, ours, IPv4 */
	struct sockaddr_ll to;
	uint64_t refused; /* frames the kernel refused as malformed (never expected) */
	uint32_t hop;     /* the gateway (host order), for the messages */
	char ifname[16];
};

/*
 * Find the next hop towards dst (host order): it must be a gateway on an Ethernet interface;
 * have its link-layer address resolved if it is not yet (up to 1 s; neigh_hop_get); open the
 * socket and map its ring. Needs CAP_NET_RAW (CAP_NET_ADMIN to ask for a resolution). Returns 0,
 * or negative with err set (t then holds nothing to close).
 */
int tx_ring_open(struct tx_ring *t, uint32_t dst, char *err, size_t errlen);

/*
 * Whether the route towards dst (host order) goes through the same gateway and interface as the
 * ring's. Returns 0, or negative with err set.
 */
int tx_ring_same_hop(const struct tx_ring *t, uint32_t dst, char *err, size_t errlen);

/*
 * Put one IPv4 packet into the next frame. When the kernel still holds that frame, what was put
 * is flushed and the frame waited for (poll POLLOUT). Returns 0, or -ERR_AGAIN if the frame
 * stayed busy (the packet is not sent: the retries are there for it).
 */
int tx_ring_put(struct tx_ring *t, const uint8_t *pkt, size_t len);

/*
 * Hand every frame put since the last flush to the device (one sendto). A full device queue
 * (ENOBUFS: the kernel keeps the frame for the next send) is waited out a little; returns 0 or
 * a negative errno when frames are still waiting after that (they leave with the next flush).
 */
int tx_ring_flush(struct tx_ring *t);

void tx_ring_close(struct tx_ring *t);

struct rx_ring {
	uint8_t *map;
	size_t map_len, block_size;
	unsigned n_blocks, cur;
};

/*
 * Map a TPACKET_V3 receive ring on the packet socket fd (before it is bound, so that no packet
 * lands outside the ring). Returns 0 or a negative errno.
 */
int rx_ring_setup(struct rx_ring *r, int fd);

/*
 * Hand the packets of every retired block to cb, after waiting up to ms for one if none is.
 * Returns the packets walked, or a negative errno if the wait failed. A malformed block (never
 * from a kernel) is given back with what it held before the fault.
 */
int rx_ring_read(struct rx_ring *r, int fd, int ms, frame_packet_cb *cb, void *ud);

void rx_ring_close(struct rx_ring *r);

#endif
