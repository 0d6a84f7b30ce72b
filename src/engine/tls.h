/* SPDX-License-Identifier: MIT */
/*
 * TLS for a probe's connection (probe_tx.tls), inside the engine, the only probe I/O: OpenSSL's
 * libssl driven through memory BIOs, so the engine's own non-blocking socket carries the bytes
 * (docs/internals/ENGINE.md, "TLS"). The certificate is NOT verified: a probe identifies what
 * answers, it does not trust it, and the pages it reads (a NAS's login page) are judged for
 * what they say, never used as proof of who the server is.
 */
#ifndef EXPOSURE_ENGINE_TLS_H
#define EXPOSURE_ENGINE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etls;

/*
 * The library and the one client context, once per process (a prober whose checks may ask
 * for TLS, or etls_new at the first TLS connection of an unsandboxed engine): OpenSSL is in a
 * module, exposure-tls.so, loaded now (tls_load.c; found as the prober is, core/sibling.h).
 * Before a sandbox, so
 * that loading OpenSSL's configuration and seeding its random generator never needs a system call
 * the prober's filter refuses. Returns 0 or -ERR_INTERNAL.
 */
int etls_init(void);

/*
 * No TLS in this process from now on: etls_init fails with -ERR_POLICY and etls_new gives NULL
 * (the connection ends as a failed handshake). For a prober whose checks never ask for TLS:
 * OpenSSL would read its configuration at its first use, inside the filter that forbids it.
 */
void etls_off(void);

/* A client session (no SNI, no verification), or NULL. */
struct etls *etls_new(void);
void etls_free(struct etls *t);

/* Ciphertext from the socket. Returns 0, or -ERR_TOOBIG when the memory BIO refuses it. */
int etls_in(struct etls *t, const uint8_t *buf, size_t n);

/* One handshake step: 1 done, 0 wants more bytes from the peer, -ERR_PROTO failed. */
int etls_handshake(struct etls *t);

/* Plaintext for the probe: > 0 bytes, 0 nothing yet, -1 the peer closed (close_notify or a
 * fatal alert). */
int etls_read(struct etls *t, uint8_t *dst, size_t cap);

/* Plaintext from the probe, encrypted into the pending output. Returns 0 or -ERR_PROTO. */
int etls_write(struct etls *t, const uint8_t *src, size_t n);

/* Ciphertext waiting for the socket: pointer and length; etls_sent() says how much left. */
size_t etls_pending(struct etls *t, const uint8_t **out);
void etls_sent(struct etls *t, size_t n);

/* The version and cipher agreed, for the probe's details ("TLSv1.3", "TLS_AES_..."). */
const char *etls_version(const struct etls *t);
const char *etls_cipher(const struct etls *t);

/*
 * Internal: OpenSSL's side (tls.c), the table of the module exposure-tls.so (dlsym
 * "etls_openssl"), or linked in by a test (engine_tls_dep); tls_load.c forwards the calls above
 * to it.
 */
struct etls_ops {
	int (*init)(void);
	struct etls *(*new_)(void);
	void (*free)(struct etls *t);
	int (*in)(struct etls *t, const uint8_t *buf, size_t n);
	int (*handshake)(struct etls *t);
	int (*read)(struct etls *t, uint8_t *dst, size_t cap);
	int (*write)(struct etls *t, const uint8_t *src, size_t n);
	size_t (*pending)(struct etls *t, const uint8_t **out);
	void (*sent)(struct etls *t, size_t n);
	const char *(*version)(const struct etls *t);
	const char *(*cipher)(const struct etls *t);
};
extern const struct etls_ops etls_openssl;
#define ETLS_MODULE "exposure-tls.so"

#endif
