/* SPDX-License-Identifier: MIT */
/* The SYN builder, the reply parser and the cookies (sweep/packet.h, sweep/cookie.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "sweep/cookie.h"
#include "sweep/packet.h"

#include <sodium.h>
#include <string.h>

static const struct pkt_syn syn = {
    .saddr = 0xc6120001, /* 198.18.0.1 */
    .daddr = 0xc6122005, /* 198.18.32.5 */
    .sport = 61440 + 17,
    .dport = 445,
    .seq = 0xdeadbeef,
    .ip_id = 0x1234,
    .ttl = 64,
};

static void test_build(void **state)
{
	uint8_t b[PKT_SYN_LEN];
	uint32_t pseudo;

	(void)state;
	assert_int_equal(pkt_syn_build(b, &syn), PKT_SYN_LEN);
	assert_int_equal(b[0], 0x45);
	assert_int_equal(b[2] << 8 | b[3], PKT_SYN_LEN);
	assert_int_equal(b[9], 6);
	/* A correct checksum sums to zero over the header (RFC 1071). */
	assert_int_equal(pkt_checksum(b, 20, 0), 0);
	pseudo = (syn.saddr >> 16) + (syn.saddr & 0xffff) + (syn.daddr >> 16) +
	         (syn.daddr & 0xffff) + 6 + 24;
	assert_int_equal(pkt_checksum(b + 20, 24, pseudo), 0);
	assert_int_equal(b[20 + 13], TCPF_SYN);
	/* A known checksum: the header of RFC 1071's style example, computed by hand once. */
	{
		const uint8_t hdr[20] = {0x45, 0, 0,    0x73, 0, 0, 0x40, 0,    0x40, 0x11,
		                         0,    0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0,    0xc7};
		assert_int_equal(pkt_checksum(hdr, 20, 0), 0xb861);
	}
}

static void test_parse_roundtrip(void **state)
{
	uint8_t b[PKT_SYN_LEN];
	struct pkt_tcp t;

	(void)state;
	pkt_syn_build(b, &syn);
	assert_int_equal(pkt_tcp_parse(b, sizeof(b), &t), 0);
	assert_true(t.saddr == syn.saddr && t.daddr == syn.daddr);
	assert_int_equal(t.sport, syn.sport);
	assert_int_equal(t.dport, syn.dport);
	assert_true(t.seq == syn.seq && t.ack == 0);
	assert_int_equal(t.flags, TCPF_SYN);
	assert_int_equal(t.ttl, 64);
}

static void test_parse_bad(void **state)
{
	uint8_t b[PKT_SYN_LEN], c[PKT_SYN_LEN];
	struct pkt_tcp t;

	(void)state;
	pkt_syn_build(b, &syn);
	for (size_t len = 0; len < 40; len++) /* cut inside the headers */
		assert_int_equal(pkt_tcp_parse(b, len, &t), -ERR_AGAIN);
	memcpy(c, b, sizeof(c));
	c[0] = 0x65; /* IPv6 version */
	assert_int_equal(pkt_tcp_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[0] = 0x44; /* IHL 16 bytes */
	assert_int_equal(pkt_tcp_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[9] = 17; /* UDP */
	assert_int_equal(pkt_tcp_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[7] = 1; /* a later fragment */
	assert_int_equal(pkt_tcp_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[3] = 30; /* total length shorter than the headers */
	assert_int_equal(pkt_tcp_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[32] = 0xf0; /* TCP data offset 60 > what the total length holds */
	assert_int_equal(pkt_tcp_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[0] = 0x4f; /* IHL 60: the TCP header would start past the packet */
	assert_int_equal(pkt_tcp_parse(c, sizeof(c), &t), -ERR_PROTO);
}

static void test_cookie(void **state)
{
	struct cookie_key k, k2;
	struct cookie c, d;

	(void)state;
	cookie_key_random(&k);
	cookie_key_random(&k2);
	cookie_make(&k, syn.saddr, syn.daddr, 445, &c);
	assert_true(c.sport >= COOKIE_SPORT_BASE &&
	            c.sport < COOKIE_SPORT_BASE + COOKIE_SPORT_COUNT);
	cookie_make(&k, syn.saddr, syn.daddr, 445, &d);
	assert_true(c.seq == d.seq && c.sport == d.sport);
	assert_true(cookie_valid(&k, syn.saddr, syn.daddr, 445, c.sport, c.seq + 1));
	assert_false(cookie_valid(&k, syn.saddr, syn.daddr, 445, c.sport, c.seq));     /* ack */
	assert_false(cookie_valid(&k, syn.saddr, syn.daddr, 445, c.sport, c.seq + 2)); /* ack */
	assert_false(cookie_valid(&k, syn.saddr, syn.daddr, 22, c.sport, c.seq + 1));  /* port */
	assert_false(cookie_valid(&k, syn.saddr, syn.daddr + 1, 445, c.sport, c.seq + 1));
	assert_false(
	    cookie_valid(&k, syn.saddr, syn.daddr, 445, (uint16_t)(c.sport ^ 1), c.seq + 1));
	/* Another run's key: the same tuple does not validate (but for a 2^-44 chance). */
	assert_false(cookie_valid(&k2, syn.saddr, syn.daddr, 445, c.sport, c.seq + 1));
	/* The wrap: seq 0xffffffff is acknowledged as 0. */
	for (uint32_t a = 0; a < 100000; a++) {
		cookie_make(&k, syn.saddr, a, 22, &c);
		if (c.seq == UINT32_MAX)
			assert_true(cookie_valid(&k, syn.saddr, a, 22, c.sport, 0));
	}
}

static const struct pkt_syn6 syn6 = {
    .saddr = {0x20, 0x01, 0x0d, 0xb8, 0, 0x21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, /* 2001:db8:21::1 */
    .daddr = {0x20, 0x01, 0x0d, 0xb8, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x05},
    .sport = 61440 + 99,
    .dport = 22,
    .seq = 0x01020304,
    .flow = 0xabcde,
    .hop_limit = 64,
};

static void test_syn6(void **state)
{
	uint8_t b[PKT_SYN6_LEN], c[PKT_SYN6_LEN];
	uint32_t pseudo = 6 + 24;
	struct pkt_tcp6 t;

	(void)state;
	assert_int_equal(pkt_syn6_build(b, &syn6), PKT_SYN6_LEN);
	/* version 6, traffic class 0, flow label 0xabcde; payload 24; next header TCP; hops */
	assert_memory_equal(b, ((uint8_t[]){0x60, 0x0a, 0xbc, 0xde, 0, 24, 6, 64}), 8);
	assert_memory_equal(b + 8, syn6.saddr, 16);
	assert_memory_equal(b + 24, syn6.daddr, 16);
	/* The pseudo-header of RFC 8200 §8.1, summed here word by word: the segment sums to 0. */
	for (int i = 0; i < 16; i += 2)
		pseudo += (uint32_t)(syn6.saddr[i] << 8 | syn6.saddr[i + 1]) +
		          (uint32_t)(syn6.daddr[i] << 8 | syn6.daddr[i + 1]);
	assert_int_equal(pkt_checksum(b + 40, 24, pseudo), 0);
	assert_int_equal(b[40 + 13], TCPF_SYN);
	assert_int_equal(b[40 + 12], 6 << 4);
	/* Same TCP bytes as the IPv4 SYN but for ports, sequence and checksum. */
	{
		uint8_t b4[PKT_SYN_LEN];
		struct pkt_syn s4 = syn;

		s4.sport = syn6.sport;
		s4.dport = syn6.dport;
		s4.seq = syn6.seq;
		pkt_syn_build(b4, &s4);
		assert_memory_equal(b4 + 20, b + 40, 16);
		assert_memory_equal(b4 + 20 + 18, b + 40 + 18, 6);
	}

	assert_int_equal(pkt_tcp6_parse(b, sizeof(b), &t), 0);
	assert_memory_equal(t.saddr, syn6.saddr, 16);
	assert_memory_equal(t.daddr, syn6.daddr, 16);
	assert_true(t.sport == syn6.sport && t.dport == syn6.dport);
	assert_true(t.seq == syn6.seq && t.ack == 0 && t.flags == TCPF_SYN && t.hop_limit == 64);

	for (size_t len = 0; len < 60; len++) /* cut inside the headers */
		assert_int_equal(pkt_tcp6_parse(b, len, &t), -ERR_AGAIN);
	memcpy(c, b, sizeof(c));
	c[0] = 0x45; /* IPv4 */
	assert_int_equal(pkt_tcp6_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[6] = 0; /* a hop-by-hop options header first: never walked */
	assert_int_equal(pkt_tcp6_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[6] = 17; /* UDP */
	assert_int_equal(pkt_tcp6_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[5] = 19; /* payload shorter than a TCP header */
	assert_int_equal(pkt_tcp6_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[5] = 0; /* a jumbogram's 0 without its extension header */
	assert_int_equal(pkt_tcp6_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[52] = 0xf0; /* TCP data offset 60 > the payload length */
	assert_int_equal(pkt_tcp6_parse(c, sizeof(c), &t), -ERR_PROTO);
	memcpy(c, b, sizeof(c));
	c[52] = 0x40; /* data offset 16 < 20 */
	assert_int_equal(pkt_tcp6_parse(c, sizeof(c), &t), -ERR_PROTO);
	/* A payload length past what was captured (a snap length) is fine: the headers are in. */
	memcpy(c, b, sizeof(c));
	c[4] = 0x05;
	assert_int_equal(pkt_tcp6_parse(c, sizeof(c), &t), 0);
}

static void test_cookie6(void **state)
{
	struct cookie_key k;
	struct cookie c, c4;
	uint8_t d2[16];

	(void)state;
	cookie_key_random(&k);
	cookie_make6(&k, syn6.saddr, syn6.daddr, 22, &c);
	assert_true(c.sport >= COOKIE_SPORT_BASE &&
	            c.sport < COOKIE_SPORT_BASE + COOKIE_SPORT_COUNT);
	assert_true(cookie_valid6(&k, syn6.saddr, syn6.daddr, 22, c.sport, c.seq + 1));
	assert_false(cookie_valid6(&k, syn6.saddr, syn6.daddr, 22, c.sport, c.seq));
	assert_false(cookie_valid6(&k, syn6.saddr, syn6.daddr, 445, c.sport, c.seq + 1));
	memcpy(d2, syn6.daddr, 16);
	d2[15] ^= 1;
	assert_false(cookie_valid6(&k, syn6.saddr, d2, 22, c.sport, c.seq + 1));
	/* The low 32 bits of both addresses as an IPv4 tuple: another hash input, another cookie.
	 */
	cookie_make(&k, 1, 0x1205, 22, &c4);
	assert_false(c4.seq == c.seq && c4.sport == c.sport);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),     cmocka_unit_test(test_parse_roundtrip),
	    cmocka_unit_test(test_parse_bad), cmocka_unit_test(test_cookie),
	    cmocka_unit_test(test_syn6),      cmocka_unit_test(test_cookie6),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
