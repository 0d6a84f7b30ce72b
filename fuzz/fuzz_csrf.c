/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: csrf_verify on a hostile X-CSRF-Token and cookie_value on a hostile Cookie
 * header. The first byte picks the cookie name ("csrf", or the next bytes up to a NUL).
 * Asserts: no forged token verifies (the key is the harness's, the input cannot carry its MAC);
 * a token issued with the key verifies, also when read out of the hostile header with a cookie
 * of it appended; a value found is NUL-terminated inside the buffer, a substring of the header,
 * and holds no ';'.
 */
#include "web/csrf.h"

#include "fuzz.h"

#include <stdio.h>

#define NOW_MS 1790000000000LL

static void cookie_checks(const char *header, const char *name)
{
	char out[CSRF_TOKEN_LEN + 2], small[4];

	if (cookie_value(header, name, out, sizeof(out))) {
		CHECK(memchr(out, 0, sizeof(out)) != NULL);
		CHECK(strchr(out, ';') == NULL && strstr(header, out) != NULL);
	}
	if (cookie_value(header, name, small, sizeof(small)))
		CHECK(strlen(small) < sizeof(small) && strstr(header, small) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct csrf c = {.key = {1, 2, 3}, .max_age_ms = 3600000};
	char token[CSRF_TOKEN_LEN + 1], got[CSRF_TOKEN_LEN + 2];
	char *s, *header, *name = "csrf";
	size_t hlen;

	if (size < 1)
		return 0;
	s = fuzz_cstr(data + 1, size - 1);
	header = s;
	if (data[0] & 1) {
		name = s;
		header = s + strlen(s) + (strlen(s) < size - 1); /* past the name's NUL */
		if (!*name || strchr(name, '='))
			name = "csrf";
	}
	CHECK(!csrf_verify(&c, header, NOW_MS));
	cookie_checks(header, name);

	/* A real token, after whatever the header holds, is found and verifies. */
	csrf_issue(&c, NOW_MS, token);
	CHECK(csrf_verify(&c, token, NOW_MS));
	CHECK(!csrf_verify(&c, token, NOW_MS + c.max_age_ms + 1));
	if (!strchr(header, '=') && !strchr(header, ';')) {
		hlen = strlen(header) + sizeof("; csrf=") + CSRF_TOKEN_LEN;
		char *h = malloc(hlen);

		CHECK(h != NULL);
		snprintf(h, hlen, "%s; csrf=%s", header, token);
		CHECK(cookie_value(h, "csrf", got, sizeof(got)) && strcmp(got, token) == 0);
		CHECK(csrf_verify(&c, got, NOW_MS));
		free(h);
	}
	free(s);
	return 0;
}
