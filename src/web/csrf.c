/* SPDX-License-Identifier: MIT */
/* CSRF tokens (csrf.h). */
#include "web/csrf.h"
#include "core/err.h"

#include <sodium.h>
#include <string.h>

#define NONCE 16
#define MACB  16
#define RAW   (NONCE + 8 + MACB)

int csrf_init(struct csrf *c, int64_t max_age_ms)
{
	if (sodium_init() < 0)
		return -ERR_INTERNAL;
	randombytes_buf(c->key, sizeof(c->key));
	c->max_age_ms = max_age_ms;
	return 0;
}

static void mac(const struct csrf *c, const uint8_t *msg, uint8_t out[MACB])
{
	crypto_generichash(out, MACB, msg, NONCE + 8, c->key, sizeof(c->key));
}

void csrf_issue(const struct csrf *c, int64_t now_ms, char out[CSRF_TOKEN_LEN + 1])
{
	uint8_t raw[RAW];
	uint64_t t = (uint64_t)now_ms;

	randombytes_buf(raw, NONCE);
	for (int i = 0; i < 8; i++)
		raw[NONCE + i] = (uint8_t)(t >> (56 - 8 * i));
	mac(c, raw, raw + NONCE + 8);
	sodium_bin2base64(out, CSRF_TOKEN_LEN + 1, raw, RAW,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool csrf_verify(const struct csrf *c, const char *token, int64_t now_ms)
{
	uint8_t raw[RAW], want[MACB];
	size_t len = 0;
	uint64_t t = 0;

	if (!token || strlen(token) != CSRF_TOKEN_LEN)
		return false;
	if (sodium_base642bin(raw, sizeof(raw), token, CSRF_TOKEN_LEN, NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != RAW)
		return false;
	mac(c, raw, want);
	if (sodium_memcmp(want, raw + NONCE + 8, MACB) != 0)
		return false;
	for (int i = 0; i < 8; i++)
		t = (t << 8) | raw[NONCE + i];
	return (int64_t)t <= now_ms + 60000 && now_ms - (int64_t)t <= c->max_age_ms;
}

bool cookie_value(const char *header, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = header;

	while (p && *p) {
		const char *end = strchr(p, ';');
		size_t vlen;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			vlen = (size_t)(end - p) - nlen - 1;
			if (vlen + 1 > size)
				return false;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		p = *end ? end + 1 : end;
	}
	return false;
}
