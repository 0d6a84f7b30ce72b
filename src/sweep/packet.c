/* SPDX-License-Identifier: MIT */
/* SYN builder and reply parser (packet.h). RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 (TCP),
 * RFC 1071. */
#include "sweep/packet.h"
#include "core/err.h"

#include <string.h>

#define IP_HLEN  20
#define IP6_HLEN 40
#define TCP_HLEN 24 /* with the MSS option */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

uint16_t pkt_checksum(const uint8_t *buf, size_t len, uint32_t sum)
{
	uint64_t s = sum;

	for (; len > 1; buf += 2, len -= 2)
		s += get16(buf);
	if (len)
		s += (uint32_t)buf[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The TCP SYN with the MSS option, its checksum over pseudo (the pseudo-header's sum). */
static void put_syn(uint8_t *tcp, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t pseudo)
{
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	tcp[12] = (TCP_HLEN / 4) << 4;
	tcp[13] = TCPF_SYN;
	put16(tcp + 14, 65535); /* window */
	tcp[20] = 2;            /* MSS option: some stacks answer no SYN without one */
	tcp[21] = 4;
	put16(tcp + 22, 1460);
	put16(tcp + 16, pkt_checksum(tcp, TCP_HLEN, pseudo));
}

size_t pkt_syn_build(uint8_t *buf, const struct pkt_syn *s)
{
	uint8_t *ip = buf, *tcp = buf + IP_HLEN;
	uint32_t pseudo;

	memset(buf, 0, PKT_SYN_LEN);
	ip[0] = 0x45; /* version 4, 5 words */
	put16(ip + 2, PKT_SYN_LEN);
	put16(ip + 4, s->ip_id);
	ip[8] = s->ttl;
	ip[9] = 6; /* TCP */
	put32(ip + 12, s->saddr);
	put32(ip + 16, s->daddr);
	put16(ip + 10, pkt_checksum(ip, IP_HLEN, 0));

	/* Pseudo-header: source, destination, protocol, TCP length (RFC 9293 §3.1). */
	pseudo = (s->saddr >> 16) + (s->saddr & 0xffff) + (s->daddr >> 16) + (s->daddr & 0xffff) +
	         6 + TCP_HLEN;
	put_syn(tcp, s->sport, s->dport, s->seq, pseudo);
	return PKT_SYN_LEN;
}

size_t pkt_syn6_build(uint8_t *buf, const struct pkt_syn6 *s)
{
	uint8_t *ip = buf, *tcp = buf + IP6_HLEN;
	uint32_t pseudo = 6 + TCP_HLEN;

	memset(buf, 0, PKT_SYN6_LEN);
	put32(ip, 6u << 28 | (s->flow & 0xfffff)); /* version 6, traffic class 0, flow label */
	put16(ip + 4, TCP_HLEN);                   /* payload length */
	ip[6] = 6;                                 /* next header: TCP */
	ip[7] = s->hop_limit;
	memcpy(ip + 8, s->saddr, 16);
	memcpy(ip + 24, s->daddr, 16);
	/* Pseudo-header: both addresses, upper-layer length, next header (RFC 8200 §8.1). */
	for (int i = 0; i < 16; i += 2)
		pseudo += get16(s->saddr + i) + get16(s->daddr + i);
	put_syn(tcp, s->sport, s->dport, s->seq, pseudo);
	return PKT_SYN6_LEN;
}

int pkt_tcp_parse(const uint8_t *buf, size_t len, struct pkt_tcp *out)
{
	size_t ihl, tot;
	const uint8_t *tcp;

	memset(out, 0, sizeof(*out));
	if (len < IP_HLEN)
		return -ERR_AGAIN;
	if (buf[0] >> 4 != 4)
		return -ERR_PROTO;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	tot = get16(buf + 2);
	if (ihl < IP_HLEN || tot < ihl)
		return -ERR_PROTO;
	if (buf[9] != 6 || (get16(buf + 6) & 0x1fff) != 0) /* not TCP, or not the first fragment */
		return -ERR_PROTO;
	if (tot < ihl + 20)
		return -ERR_PROTO;
	/* The total length may exceed what a snap length kept, never the other way round. */
	if (len < ihl + 20)
		return -ERR_AGAIN;
	tcp = buf + ihl;
	if ((size_t)(tcp[12] >> 4) * 4 < 20 || (size_t)(tcp[12] >> 4) * 4 > tot - ihl)
		return -ERR_PROTO;
	out->saddr = get32(buf + 12);
	out->daddr = get32(buf + 16);
	out->ttl = buf[8];
	out->sport = get16(tcp);
	out->dport = get16(tcp + 2);
	out->seq = get32(tcp + 4);
	out->ack = get32(tcp + 8);
	out->flags = tcp[13];
	return 0;
}

int pkt_tcp6_parse(const uint8_t *buf, size_t len, struct pkt_tcp6 *out)
{
	size_t pl;
	const uint8_t *tcp = buf + IP6_HLEN;

	memset(out, 0, sizeof(*out));
	if (len < IP6_HLEN)
		return -ERR_AGAIN;
	if (buf[0] >> 4 != 6 || buf[6] != 6) /* not IPv6, or an extension header first */
		return -ERR_PROTO;
	pl = get16(buf + 4);
	if (pl < 20) /* 0 is a jumbogram's, which needs an extension header */
		return -ERR_PROTO;
	if (len < IP6_HLEN + 20)
		return -ERR_AGAIN;
	if ((size_t)(tcp[12] >> 4) * 4 < 20 || (size_t)(tcp[12] >> 4) * 4 > pl)
		return -ERR_PROTO;
	memcpy(out->saddr, buf + 8, 16);
	memcpy(out->daddr, buf + 24, 16);
	out->hop_limit = buf[7];
	out->sport = get16(tcp);
	out->dport = get16(tcp + 2);
	out->seq = get32(tcp + 4);
	out->ack = get32(tcp + 8);
	out->flags = tcp[13];
	return 0;
}
