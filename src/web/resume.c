/* SPDX-License-Identifier: MIT */
#include "web/resume.h"

#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "core/err.h"

#define VERSION   1
#define NONCE     crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define MAC       crypto_aead_xchacha20poly1305_ietf_ABYTES
#define PLAIN_MAX (RESUME_SEALED_MAX - NONCE - MAC)

_Static_assert(NONCE == 24 && MAC == 16, "RESUME_SEALED_MAX counts these sizes");

/* An address as a family byte (4 or 6) and its 16 bytes. */
static size_t put_addr(uint8_t *p, const struct addr *a)
{
	p[0] = a->family == AF_INET ? 4 : 6;
	memcpy(p + 1, a->bytes, 16);
	return 17;
}

static int get_addr(const uint8_t *p, struct addr *a)
{
	if (p[0] != 4 && p[0] != 6)
		return -ERR_SYNTAX;
	a->family = p[0] == 4 ? AF_INET : AF_INET6;
	memcpy(a->bytes, p + 1, 16);
	return 0;
}

/* The plain record: version, requester, targets (address, proof), timeout, target text. */
static size_t encode(const struct resume *r, uint8_t *p)
{
	size_t n = 0, tlen = strnlen(r->target, sizeof(r->target) - 1);

	p[n++] = VERSION;
	n += put_addr(p + n, &r->requester);
	p[n++] = (uint8_t)r->n_targets;
	for (size_t t = 0; t < r->n_targets; t++) {
		n += put_addr(p + n, &r->targets[t].addr);
		p[n++] = (uint8_t)r->targets[t].proven;
	}
	for (int b = 0; b < 4; b++)
		p[n++] = (uint8_t)(r->timeout_ms >> (8 * b));
	p[n++] = (uint8_t)tlen;
	memcpy(p + n, r->target, tlen);
	return n + tlen;
}

static int decode(const uint8_t *p, size_t len, struct resume *r)
{
	size_t n = 0, tlen;

	memset(r, 0, sizeof(*r));
	if (len < 1 + 17 + 1 || p[0] != VERSION || get_addr(p + 1, &r->requester) < 0)
		return -ERR_SYNTAX;
	n = 18;
	r->n_targets = p[n++];
	if (r->n_targets > VISIT_MAX_TARGETS || len < n + r->n_targets * 18 + 4 + 1)
		return -ERR_SYNTAX;
	for (size_t t = 0; t < r->n_targets; t++, n += 18) {
		if (get_addr(p + n, &r->targets[t].addr) < 0 || p[n + 17] >= VISIT_PROOF_X_MAX)
			return -ERR_SYNTAX;
		r->targets[t].proven = (enum visit_proof)p[n + 17];
	}
	for (int b = 0; b < 4; b++)
		r->timeout_ms |= (unsigned)p[n++] << (8 * b);
	tlen = p[n++];
	if (tlen >= sizeof(r->target) || len != n + tlen || memchr(p + n, '\0', tlen))
		return -ERR_SYNTAX;
	memcpy(r->target, p + n, tlen);
	return 0;
}

int resume_seal(const uint8_t key[RESUME_KEY_BYTES], const char *id, const struct resume *r,
                uint8_t *out, size_t max)
{
	uint8_t plain[PLAIN_MAX];
	unsigned long long clen = 0;
	size_t n;

	if (r->n_targets > VISIT_MAX_TARGETS || max < RESUME_SEALED_MAX)
		return -ERR_RANGE;
	n = encode(r, plain);
	randombytes_buf(out, NONCE);
	/* The id as associated data: a sealed record moved to another row does not open. */
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE, &clen, plain, n,
	                                           (const uint8_t *)id, strlen(id), NULL, out, key);
	sodium_memzero(plain, sizeof(plain));
	return (int)(NONCE + clen);
}

int resume_open(const uint8_t key[RESUME_KEY_BYTES], const char *id, const uint8_t *in, size_t len,
                struct resume *r)
{
	uint8_t plain[PLAIN_MAX];
	unsigned long long plen = 0;
	int rc;

	if (len < NONCE + MAC || len > RESUME_SEALED_MAX ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, in + NONCE, len - NONCE,
	                                               (const uint8_t *)id, strlen(id), in,
	                                               key) != 0)
		return -ERR_SYNTAX;
	rc = decode(plain, (size_t)plen, r);
	sodium_memzero(plain, sizeof(plain));
	return rc;
}
