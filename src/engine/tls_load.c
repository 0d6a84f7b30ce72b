/* SPDX-License-Identifier: MIT */
/*
 * The engine's TLS (tls.h) without OpenSSL linked in: libssl and libcrypto cost about 0.7 ms
 * of every start of a process (bench/RESULTS.md, "Issue 12: the start-up"), and most runs never
 * speak TLS (the 2017 profile has no TLS check). OpenSSL's side is the module exposure-tls.so
 * (tls.c), loaded at the first etls_init(): before its filter in a prober whose checks may ask
 * for TLS, at the first TLS connection in an unsandboxed engine. A program that links tls.c
 * itself (the engine's tests) has etls_openssl defined and loads no module.
 */
#include "engine/tls.h"

#include "core/err.h"
#include "core/sibling.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#ifndef EXPOSURE_MODULEDIR
#define EXPOSURE_MODULEDIR "/usr/local/lib/exposure"
#endif

extern const struct etls_ops etls_openssl __attribute__((weak));

/* Set once by the engine's one thread (its loop), like OpenSSL's context in tls.c. */
static const struct etls_ops *ops;
static bool off; /* etls_off(): this process never starts OpenSSL */

void etls_off(void)
{
	off = true;
}

static const struct etls_ops *load(void)
{
	char why[PATH_MAX + 64];
	const struct etls_ops *o;

	if (&etls_openssl != NULL)
		return &etls_openssl;
	o = sibling_module("EXPOSURE_TLS", ETLS_MODULE, EXPOSURE_MODULEDIR, "etls_openssl", why,
	                   sizeof(why));
	if (!o)
		fprintf(stderr, "exposure: TLS: %s\n", why);
	return o;
}

int etls_init(void)
{
	if (off)
		return -ERR_POLICY;
	if (!ops && !(ops = load())) {
		off = true; /* said once; every later TLS connection fails as a handshake */
		return -ERR_INTERNAL;
	}
	return ops->init();
}

struct etls *etls_new(void)
{
	return etls_init() < 0 ? NULL : ops->new_();
}

void etls_free(struct etls *t)
{
	if (t)
		ops->free(t);
}

int etls_in(struct etls *t, const uint8_t *buf, size_t n)
{
	return ops->in(t, buf, n);
}

int etls_handshake(struct etls *t)
{
	return ops->handshake(t);
}

int etls_read(struct etls *t, uint8_t *dst, size_t cap)
{
	return ops->read(t, dst, cap);
}

int etls_write(struct etls *t, const uint8_t *src, size_t n)
{
	return ops->write(t, src, n);
}

size_t etls_pending(struct etls *t, const uint8_t **out)
{
	return ops->pending(t, out);
}

void etls_sent(struct etls *t, size_t n)
{
	ops->sent(t, n);
}

const char *etls_version(const struct etls *t)
{
	return ops->version(t);
}

const char *etls_cipher(const struct etls *t)
{
	return ops->cipher(t);
}
