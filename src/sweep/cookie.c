/* SPDX-License-Identifier: MIT */
/* SYN cookies of the sweep (cookie.h). */
#include "sweep/cookie.h"

#include <sodium.h>
#include <string.h>

void cookie_key_random(struct cookie_key *key)
{
	randombytes_buf(key->k, sizeof(key->k));
}

/* SipHash of the input: the low 32 bits the sequence number, the high ones the source port. */
static void hash_into(const struct cookie_key *key, const unsigned char *in, size_t len,
                      struct cookie *out)
{
	unsigned char h[8];
	uint64_t v = 0;

	crypto_shorthash(h, in, len, key->k);
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)h[i] << (8 * i);
	out->seq = (uint32_t)v;
	out->sport = (uint16_t)(COOKIE_SPORT_BASE + (uint32_t)(v >> 32) % COOKIE_SPORT_COUNT);
}

void cookie_make(const struct cookie_key *key, uint32_t saddr, uint32_t daddr, uint16_t dport,
                 struct cookie *out)
{
	unsigned char in[10];

	for (int i = 0; i < 4; i++) {
		in[i] = (unsigned char)(saddr >> (24 - 8 * i));
		in[4 + i] = (unsigned char)(daddr >> (24 - 8 * i));
	}
	in[8] = (unsigned char)(dport >> 8);
	in[9] = (unsigned char)dport;
	hash_into(key, in, sizeof(in), out);
}

bool cookie_valid(const struct cookie_key *key, uint32_t saddr, uint32_t daddr, uint16_t dport,
                  uint16_t sport, uint32_t ack)
{
	struct cookie c;

	cookie_make(key, saddr, daddr, dport, &c);
	return c.sport == sport && (uint32_t)(c.seq + 1u) == ack;
}

void cookie_make6(const struct cookie_key *key, const uint8_t saddr[16], const uint8_t daddr[16],
                  uint16_t dport, struct cookie *out)
{
	unsigned char in[34];

	memcpy(in, saddr, 16);
	memcpy(in + 16, daddr, 16);
	in[32] = (unsigned char)(dport >> 8);
	in[33] = (unsigned char)dport;
	hash_into(key, in, sizeof(in), out);
}

bool cookie_valid6(const struct cookie_key *key, const uint8_t saddr[16], const uint8_t daddr[16],
                   uint16_t dport, uint16_t sport, uint32_t ack)
{
	struct cookie c;

	cookie_make6(key, saddr, daddr, dport, &c);
	return c.sport == sport && (uint32_t)(c.seq + 1u) == ack;
}
