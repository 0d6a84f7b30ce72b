/* SPDX-License-Identifier: MIT */
/*
 * Address tickets (docs/api.md, "Tickets"): proof that the visitor holds an address. The page
 * asks the service's IPv4-only and IPv6-only host names for GET /api/ticket; the answer names the
 * address that connected there, bound to the visitor's CSRF session and valid for at most
 * TICKET_TTL_MS. POST /api/diagnoses on the main origin may carry them: an address enters a
 * diagnosis only because the visitor connected from it, never because a parameter named it.
 *
 * A ticket is "v4." or "v6." and base64url (no padding) of
 *   version (1) | family 4 or 6 (1) | address (16) | expiry ms, big endian (8) |
 *   session tag (8) | MAC (32)
 * with MAC = crypto_auth (HMAC-SHA-512-256) under a per-process key over everything before it
 * and the session (the CSRF token) itself. The session tag (a hash of the session) only tells a
 * ticket of another session apart from a forged one, for the refusal's reason.
 * Pure (no I/O, no clock: the caller passes now).
 */
#ifndef EXPOSURE_WEB_TICKET_H
#define EXPOSURE_WEB_TICKET_H

#include "core/addr.h"

#include <stdint.h>

#define TICKET_KEY_BYTES 32
#define TICKET_TTL_MS    120000 /* the longest a ticket lives */
#define TICKET_RAW_BYTES (1 + 1 + 16 + 8 + 8 + 32)
#define TICKET_LEN       (3 + (TICKET_RAW_BYTES * 4 + 2) / 3) /* "v6." + base64url */

struct ticket_key {
	uint8_t key[TICKET_KEY_BYTES];
};

/* A fresh random key. Returns 0, or -ERR_INTERNAL if libsodium cannot start. */
int ticket_key_init(struct ticket_key *k);

/*
 * The ticket for address a, bound to session, valid until expires_ms (CLOCK_REALTIME ms), into
 * out (TICKET_LEN + 1 bytes).
 */
void ticket_issue(const struct ticket_key *k, const struct addr *a, const char *session,
                  int64_t expires_ms, char out[TICKET_LEN + 1]);

/* Why a ticket is refused; each has a stable reason code and a message in en and ja. */
enum ticket_verdict {
	TICKET_OK = 0,
	TICKET_MALFORMED, /* not a ticket at all */
	TICKET_FAMILY,    /* its family prefix, family byte and address disagree */
	TICKET_SESSION,   /* issued to another CSRF session */
	TICKET_MAC,       /* altered (address, expiry, anything) or not ours */
	TICKET_EXPIRED,
	TICKET_X_MAX
};

/*
 * Verify text for session at now_ms; on TICKET_OK *a gets its address and *expires_ms its
 * expiry. Nothing is trusted before the MAC verified, except to name the refusal.
 */
enum ticket_verdict ticket_verify(const struct ticket_key *k, const char *text, const char *session,
                                  int64_t now_ms, struct addr *a, int64_t *expires_ms);

/* "ticket-malformed", "ticket-family", "ticket-session", "ticket-mac", "ticket-expired". */
const char *ticket_reason(enum ticket_verdict v);
const char *ticket_message_en(enum ticket_verdict v);
const char *ticket_message_ja(enum ticket_verdict v);

#endif
