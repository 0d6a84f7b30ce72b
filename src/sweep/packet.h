/* SPDX-License-Identifier: MIT */
/*
 * The packets of a sweep: an IPv4 TCP SYN built byte by byte with its checksums, and the
 * parser of what comes back (an IPv4 packet from a packet socket, hostile like everything a
 * probed host sends: every length is checked against what was received). Pure: no I/O, no
 * allocation. Addresses and ports in host byte order.
 */
#ifndef EXPOSURE_SWEEP_PACKET_H
#define EXPOSURE_SWEEP_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define PKT_SYN_LEN 44 /* IPv4 header 20 + TCP header 20 + MSS option 4 */

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

struct pkt_syn {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq;
	uint16_t ip_id;
	uint8_t ttl;
};

/* Write the SYN described by s into buf (PKT_SYN_LEN bytes). Returns PKT_SYN_LEN. */
size_t pkt_syn_build(uint8_t *buf, const struct pkt_syn *s);

/* A TCP segment's header fields, from an IPv4 packet. */
struct pkt_tcp {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint8_t ttl;
};

/*
 * Parse an IPv4 packet holding the start of a TCP segment (len bytes from buf; the payload may
 * be cut by a snap length). Returns 0 with *out filled (every byte set), -ERR_AGAIN if the
 * headers are cut short, -ERR_PROTO for anything else (not IPv4, not TCP, a fragment past the
 * first, lengths that do not add up).
 */
int pkt_tcp_parse(const uint8_t *buf, size_t len, struct pkt_tcp *out);

/*
 * IPv6 (RFC 8200): the same SYN behind a fixed 40-byte header, and the reply parser. Addresses
 * are 16 bytes in network order. For targets from a list of addresses only (issue 13).
 */
#define PKT_SYN6_LEN 64 /* IPv6 header 40 + TCP header 20 + MSS option 4 */

struct pkt_syn6 {
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t seq;
	uint32_t flow; /* flow label, 20 bits */
	uint8_t hop_limit;
};

size_t pkt_syn6_build(uint8_t *buf, const struct pkt_syn6 *s);

struct pkt_tcp6 {
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint8_t hop_limit;
};

/*
 * Parse an IPv6 packet whose TCP segment follows the fixed header directly (a SYN-ACK or RST
 * carries no extension header; one that does is -ERR_PROTO, never walked). Returns as
 * pkt_tcp_parse: 0, -ERR_AGAIN when cut short, -ERR_PROTO otherwise.
 */
int pkt_tcp6_parse(const uint8_t *buf, size_t len, struct pkt_tcp6 *out);

/* The Internet checksum (RFC 1071) of len bytes, starting from sum (for a pseudo-header). */
uint16_t pkt_checksum(const uint8_t *buf, size_t len, uint32_t sum);

#endif
