/* SPDX-License-Identifier: MIT */
/*
 * CSRF tokens: stateless, keyed (BLAKE2b with a per-process random key), time-limited. The page
 * gets one from GET /api/whoami, which also sets it as a SameSite=Strict cookie; a POST must
 * carry it in the X-CSRF-Token header AND the cookie (double submit), and the MAC must verify.
 */
#ifndef EXPOSURE_WEB_CSRF_H
#define EXPOSURE_WEB_CSRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSRF_KEY_BYTES 32
#define CSRF_TOKEN_LEN 54 /* base64url of 16 nonce + 8 time + 16 MAC = 40 bytes, no padding */

struct csrf {
	uint8_t key[CSRF_KEY_BYTES];
	int64_t max_age_ms;
};

/* A fresh random key. Returns 0, or -ERR_INTERNAL if libsodium cannot start. */
int csrf_init(struct csrf *c, int64_t max_age_ms);

/* A token issued at now_ms into out (CSRF_TOKEN_LEN + 1 bytes). */
void csrf_issue(const struct csrf *c, int64_t now_ms, char out[CSRF_TOKEN_LEN + 1]);

/* True if token is one we issued, not older than max_age_ms. */
bool csrf_verify(const struct csrf *c, const char *token, int64_t now_ms);

/*
 * The value of cookie name in a Cookie header ("a=1; b=2"), copied into out. Returns true if
 * found and it fits.
 */
bool cookie_value(const char *header, const char *name, char *out, size_t size);

#endif
