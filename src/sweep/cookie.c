/* SPDX-License-Identifier: MIT */
/* SYN cookies of the sweep (cookie.h). */
#include "sweep/cookie.h"

#include <sodium.h>

void cookie_key_random(struct cookie_key *key)
{
	randombytes_buf(key->k, sizeof(key->k));
}

void cookie_make(const struct cookie_key *key, uint32_t saddr, uint32_t daddr, uint16_t dport,
                 struct cookie *out)
{
	unsigned char in[10], h[8];
	uint64_t v = 0;

	for (int i = 0; i < 4; i++) {
		in[i] = (unsigned char)(saddr >> (24 - 8 * i));
		in[4 + i] = (unsigned char)(daddr >> (24 - 8 * i));
	}
	in[8] = (unsigned char)(dport >> 8);
	in[9] = (unsigned char)dport;
	crypto_shorthash(h, in, sizeof(in), key->k);
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)h[i] << (8 * i);
	out->seq = (uint32_t)v;
	out->sport = (uint16_t)(COOKIE_SPORT_BASE + (uint32_t)(v >> 32) % COOKIE_SPORT_COUNT);
}

bool cookie_valid(const struct cookie_key *key, uint32_t saddr, uint32_t daddr, uint16_t dport,
                  uint16_t sport, uint32_t ack)
{
	struct cookie c;

	cookie_make(key, saddr, daddr, dport, &c);
	return c.sport == sport && (uint32_t)(c.seq + 1u) == ack;
}
