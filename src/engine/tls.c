/* SPDX-License-Identifier: MIT */
/*
 * TLS through memory BIOs for a probe's connection (tls.h): OpenSSL's side, built as the module
 * exposure-tls.so that tls_load.c loads at the first etls_init() (or linked in by a test), so
 * that a process without a TLS check never loads libssl and libcrypto. Only the table at the
 * end is visible outside.
 */
#include "engine/tls.h"
#include "core/err.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>

/* Ciphertext staged for the socket at most: a few records. */
#define ETLS_OUT_MAX (64 * 1024)

struct etls {
	SSL *ssl;
	BIO *in, *out; /* in: socket -> SSL; out: SSL -> socket (both owned by ssl) */
	uint8_t pend[ETLS_OUT_MAX];
	size_t pend_off, pend_len;
};

static SSL_CTX *ctx;

static int ossl_init(void)
{
	if (ctx != NULL)
		return 0;
	if (OPENSSL_init_ssl(0, NULL) != 1)
		return -ERR_INTERNAL;
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return -ERR_INTERNAL;
	/*
	 * We identify, we do not trust: no certificate verification (a NAS's self-signed
	 * certificate is the usual case), and security level 0 with TLS 1.0 allowed so that the
	 * old firmware whose exposure matters most still completes a handshake.
	 */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
	return 0;
}

static struct etls *ossl_new(void)
{
	struct etls *t;

	if (ossl_init() < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->ssl = SSL_new(ctx);
	t->in = BIO_new(BIO_s_mem());
	t->out = BIO_new(BIO_s_mem());
	if (t->ssl == NULL || t->in == NULL || t->out == NULL) {
		BIO_free(t->in);
		BIO_free(t->out);
		SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	BIO_set_mem_eof_return(t->in, -1); /* empty means "more to come", not EOF */
	SSL_set_bio(t->ssl, t->in, t->out);
	SSL_set_connect_state(t->ssl);
	return t;
}

static void ossl_free(struct etls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl); /* frees both BIOs */
	free(t);
}

static int ossl_in(struct etls *t, const uint8_t *buf, size_t n)
{
	if (n > INT32_MAX || BIO_write(t->in, buf, (int)n) != (int)n)
		return -ERR_TOOBIG;
	return 0;
}

/* Move what OpenSSL wrote into the staging buffer (whatever fits). */
static void drain(struct etls *t)
{
	if (t->pend_off > 0) {
		memmove(t->pend, t->pend + t->pend_off, t->pend_len - t->pend_off);
		t->pend_len -= t->pend_off;
		t->pend_off = 0;
	}
	while (t->pend_len < sizeof(t->pend) && BIO_ctrl_pending(t->out) > 0) {
		int n =
		    BIO_read(t->out, t->pend + t->pend_len, (int)(sizeof(t->pend) - t->pend_len));

		if (n <= 0)
			break;
		t->pend_len += (size_t)n;
	}
}

static int ossl_handshake(struct etls *t)
{
	int r = SSL_do_handshake(t->ssl);

	drain(t);
	if (r == 1)
		return 1;
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		ERR_clear_error();
		return -ERR_PROTO;
	}
}

static int ossl_read(struct etls *t, uint8_t *dst, size_t cap)
{
	int n;

	if (cap == 0)
		return 0;
	n = SSL_read(t->ssl, dst, cap > INT32_MAX ? INT32_MAX : (int)cap);
	drain(t); /* a TLS 1.3 key update or alert may want to be sent */
	if (n > 0)
		return n;
	switch (SSL_get_error(t->ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		ERR_clear_error();
		return -1;
	}
}

static int ossl_write(struct etls *t, const uint8_t *src, size_t n)
{
	while (n > 0) {
		int w = SSL_write(t->ssl, src, n > INT32_MAX ? INT32_MAX : (int)n);

		if (w <= 0) {
			ERR_clear_error();
			return -ERR_PROTO;
		}
		src += w;
		n -= (size_t)w;
		drain(t);
	}
	drain(t);
	return 0;
}

static size_t ossl_pending(struct etls *t, const uint8_t **out)
{
	drain(t);
	*out = t->pend + t->pend_off;
	return t->pend_len - t->pend_off;
}

static void ossl_sent(struct etls *t, size_t n)
{
	t->pend_off += n;
	if (t->pend_off > t->pend_len)
		t->pend_off = t->pend_len;
}

static const char *ossl_version(const struct etls *t)
{
	return SSL_get_version(t->ssl);
}

static const char *ossl_cipher(const struct etls *t)
{
	const char *c = SSL_get_cipher_name(t->ssl);

	return c ? c : "";
}

const struct etls_ops etls_openssl = {
    .init = ossl_init,
    .new_ = ossl_new,
    .free = ossl_free,
    .in = ossl_in,
    .handshake = ossl_handshake,
    .read = ossl_read,
    .write = ossl_write,
    .pending = ossl_pending,
    .sent = ossl_sent,
    .version = ossl_version,
    .cipher = ossl_cipher,
};
