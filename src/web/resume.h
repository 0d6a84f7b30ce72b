/* SPDX-License-Identifier: MIT */
/*
 * What another node needs to run a diagnosis again when the node that accepted it dies
 * (issue 14 §2, store_on_takeover): the requester's address and the addresses its tickets
 * proved, the target text and the probe timeout. The store keeps only a hash of the
 * requester, so this is sealed (XChaCha20-Poly1305, libsodium) with a key every node derives
 * from the shared key file, bound to the diagnosis id, and the store clears it when the
 * diagnosis ends: in the database, an address exists only sealed and only while in flight.
 */
#ifndef EXPOSURE_WEB_RESUME_H
#define EXPOSURE_WEB_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "diagnosis/visit.h"

#define RESUME_KEY_BYTES  32
#define RESUME_SEALED_MAX (24 + 16 + 1 + 17 + 1 + VISIT_MAX_TARGETS * 18 + 4 + 1 + ADDR_STRLEN)

struct resume {
	struct addr requester;
	struct visit_target targets[VISIT_MAX_TARGETS];
	size_t n_targets;
	char target[ADDR_STRLEN]; /* the text the diagnosis names its first address by */
	unsigned timeout_ms;      /* 0: adaptive */
};

/* Seal r for diagnosis id into out (max bytes). Returns the length, or -ERR_RANGE. */
int resume_seal(const uint8_t key[RESUME_KEY_BYTES], const char *id, const struct resume *r,
                uint8_t *out, size_t max);

/* Open what resume_seal made for id. Returns 0, or -ERR_SYNTAX (forged, another id's, another
 * key's, or malformed). */
int resume_open(const uint8_t key[RESUME_KEY_BYTES], const char *id, const uint8_t *in, size_t len,
                struct resume *r);

#endif
