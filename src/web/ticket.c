/* SPDX-License-Identifier: MIT */
/* Address tickets (ticket.h). */
#include "web/ticket.h"
#include "core/err.h"

#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#define TICKET_VERSION 1
#define OFF_FAMILY     1
#define OFF_ADDR       2
#define OFF_EXPIRY     18
#define OFF_TAG        26
#define OFF_MAC        34
#define TAG_BYTES      8

_Static_assert(OFF_MAC + crypto_auth_hmacsha512256_BYTES == TICKET_RAW_BYTES, "ticket layout");
_Static_assert(TICKET_KEY_BYTES == crypto_auth_hmacsha512256_KEYBYTES, "ticket key");

int ticket_key_init(struct ticket_key *k)
{
	if (sodium_init() < 0)
		return -ERR_INTERNAL;
	crypto_auth_hmacsha512256_keygen(k->key);
	return 0;
}

static void session_tag(const char *session, uint8_t tag[TAG_BYTES])
{
	crypto_generichash(tag, TAG_BYTES, (const uint8_t *)session, strlen(session), NULL, 0);
}

/* The MAC over the ticket's fields and the session it is bound to. */
static void ticket_mac(const struct ticket_key *k, const uint8_t raw[OFF_MAC], const char *session,
                       uint8_t mac[crypto_auth_hmacsha512256_BYTES])
{
	crypto_auth_hmacsha512256_state st;

	crypto_auth_hmacsha512256_init(&st, k->key, sizeof(k->key));
	crypto_auth_hmacsha512256_update(&st, raw, OFF_MAC);
	crypto_auth_hmacsha512256_update(&st, (const uint8_t *)session, strlen(session));
	crypto_auth_hmacsha512256_final(&st, mac);
}

void ticket_issue(const struct ticket_key *k, const struct addr *a, const char *session,
                  int64_t expires_ms, char out[TICKET_LEN + 1])
{
	uint8_t raw[TICKET_RAW_BYTES] = {0};
	uint64_t e = (uint64_t)expires_ms;

	raw[0] = TICKET_VERSION;
	raw[OFF_FAMILY] = a->family == AF_INET6 ? 6 : 4;
	memcpy(raw + OFF_ADDR, a->bytes, 16);
	for (int i = 0; i < 8; i++)
		raw[OFF_EXPIRY + i] = (uint8_t)(e >> (56 - 8 * i));
	session_tag(session, raw + OFF_TAG);
	ticket_mac(k, raw, session, raw + OFF_MAC);
	memcpy(out, raw[OFF_FAMILY] == 6 ? "v6." : "v4.", 3);
	sodium_bin2base64(out + 3, TICKET_LEN + 1 - 3, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The address the ticket names, if its family prefix, byte and bytes agree. */
static enum ticket_verdict ticket_addr(const char *text, const uint8_t *raw, struct addr *a)
{
	static const uint8_t zero[12] = {0};
	unsigned prefix = text[1] == '6' ? 6 : 4;

	if (raw[OFF_FAMILY] != prefix)
		return TICKET_FAMILY;
	memset(a, 0, sizeof(*a));
	a->family = prefix == 6 ? AF_INET6 : AF_INET;
	memcpy(a->bytes, raw + OFF_ADDR, 16);
	if (prefix == 4 && memcmp(a->bytes + 4, zero, sizeof(zero)) != 0)
		return TICKET_FAMILY;
	return TICKET_OK;
}

enum ticket_verdict ticket_verify(const struct ticket_key *k, const char *text, const char *session,
                                  int64_t now_ms, struct addr *a, int64_t *expires_ms)
{
	uint8_t raw[TICKET_RAW_BYTES], mac[crypto_auth_hmacsha512256_BYTES], tag[TAG_BYTES];
	struct addr ta;
	uint64_t e = 0;
	size_t len = 0;
	enum ticket_verdict v;

	if (!text || strlen(text) != TICKET_LEN ||
	    (strncmp(text, "v4.", 3) != 0 && strncmp(text, "v6.", 3) != 0))
		return TICKET_MALFORMED;
	if (sodium_base642bin(raw, sizeof(raw), text + 3, TICKET_LEN - 3, NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != sizeof(raw) || raw[0] != TICKET_VERSION)
		return TICKET_MALFORMED;
	if ((v = ticket_addr(text, raw, &ta)) != TICKET_OK)
		return v;
	ticket_mac(k, raw, session, mac);
	if (sodium_memcmp(mac, raw + OFF_MAC, sizeof(mac)) != 0) {
		session_tag(session, tag);
		return sodium_memcmp(tag, raw + OFF_TAG, TAG_BYTES) != 0 ? TICKET_SESSION
		                                                         : TICKET_MAC;
	}
	for (int i = 0; i < 8; i++)
		e = e << 8 | raw[OFF_EXPIRY + i];
	if ((int64_t)e < now_ms)
		return TICKET_EXPIRED;
	*a = ta;
	*expires_ms = (int64_t)e;
	return TICKET_OK;
}

static const struct {
	const char *reason, *en, *ja;
} texts[TICKET_X_MAX] = {
    [TICKET_OK] = {"ok", "", ""},
    [TICKET_MALFORMED] = {"ticket-malformed", "An address ticket is malformed.",
                          "アドレスチケットの形式が正しくありません。"},
    [TICKET_FAMILY] = {"ticket-family", "An address ticket does not match its address family.",
                       "アドレスチケットがそのアドレスファミリーと一致しません。"},
    [TICKET_SESSION] = {"ticket-session",
                        "An address ticket was issued to another page session: reload the page "
                        "and try again.",
                        "アドレスチケットは別のページのセッションに発行されたものです。ページを"
                        "再読み込みしてやり直してください。"},
    [TICKET_MAC] = {"ticket-mac", "An address ticket was altered or was not issued here.",
                    "アドレスチケットが改変されているか、このサービスが発行したものではありませ"
                    "ん。"},
    [TICKET_EXPIRED] = {"ticket-expired",
                        "An address ticket has expired: reload the page and try again.",
                        "アドレスチケットの有効期限が切れています。ページを再読み込みしてやり"
                        "直してください。"},
};

const char *ticket_reason(enum ticket_verdict v)
{
	return (unsigned)v < TICKET_X_MAX ? texts[v].reason : "ticket";
}

const char *ticket_message_en(enum ticket_verdict v)
{
	return (unsigned)v < TICKET_X_MAX ? texts[v].en : "";
}

const char *ticket_message_ja(enum ticket_verdict v)
{
	return (unsigned)v < TICKET_X_MAX ? texts[v].ja : "";
}
