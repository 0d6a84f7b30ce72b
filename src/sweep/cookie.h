/* SPDX-License-Identifier: MIT */
/*
 * Stateless validation: the sequence number and source port of each SYN are a keyed hash
 * (SipHash-2-4, libsodium's crypto_shorthash) of (source, destination, destination port) under
 * a per-run key, so a reply is ours only if it comes back to that port and acknowledges that
 * number plus one. Nothing is remembered per probe. No I/O.
 */
#ifndef EXPOSURE_SWEEP_COOKIE_H
#define EXPOSURE_SWEEP_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#define COOKIE_KEYSIZE 16
/*
 * Source ports 61440..65535: above Linux's default ephemeral range (32768..60999), so that the
 * connections of stage 2 (kernel sockets) never share a 4-tuple with a probe of stage 1.
 */
#define COOKIE_SPORT_BASE  61440u
#define COOKIE_SPORT_COUNT 4096u

struct cookie_key {
	unsigned char k[COOKIE_KEYSIZE];
};

/* What one probe carries. Addresses are IPv4 in host byte order. */
struct cookie {
	uint32_t seq;
	uint16_t sport;
};

/* A fresh random key (randombytes_buf). */
void cookie_key_random(struct cookie_key *key);

void cookie_make(const struct cookie_key *key, uint32_t saddr, uint32_t daddr, uint16_t dport,
                 struct cookie *out);

/*
 * Whether a reply from daddr:dport to saddr:sport acknowledging ack answers our probe: sport
 * and ack - 1 must be the cookie's.
 */
bool cookie_valid(const struct cookie_key *key, uint32_t saddr, uint32_t daddr, uint16_t dport,
                  uint16_t sport, uint32_t ack);

/* The same for IPv6: addresses of 16 bytes, network order (another input length, so an IPv6
 * probe never shares a cookie with an IPv4 one by construction). */
void cookie_make6(const struct cookie_key *key, const uint8_t saddr[16], const uint8_t daddr[16],
                  uint16_t dport, struct cookie *out);
bool cookie_valid6(const struct cookie_key *key, const uint8_t saddr[16], const uint8_t daddr[16],
                   uint16_t dport, uint16_t sport, uint32_t ack);

#endif
