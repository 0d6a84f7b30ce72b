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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_parse_roundtrip),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_cookie),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
