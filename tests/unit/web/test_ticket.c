/* SPDX-License-Identifier: MIT */
/*
 * Address tickets (web/ticket.h): a ticket verifies for its session before its expiry and names
 * its address; another session, an expired one, an altered MAC, address or expiry, a family
 * prefix that lies, another process's key, garbage: each refused with its own verdict.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "web/ticket.h"

#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#define SESSION "session-token-of-visitor-a"
#define NOW     1700000000000LL

static struct ticket_key key;

static int setup(void **state)
{
	(void)state;
	return ticket_key_init(&key);
}

static void issue(const char *addr, int64_t expires, char out[TICKET_LEN + 1])
{
	struct addr a;

	assert_int_equal(addr_parse(addr, &a), 0);
	ticket_issue(&key, &a, SESSION, expires, out);
	assert_int_equal(strlen(out), TICKET_LEN);
}

static enum ticket_verdict verify(const char *t, const char *session, int64_t now)
{
	struct addr a;
	int64_t e;

	return ticket_verify(&key, t, session, now, &a, &e);
}

/* Raw bytes of a ticket, to alter them and encode them back. */
static void decode(const char *t, uint8_t raw[TICKET_RAW_BYTES])
{
	size_t len = 0;

	assert_int_equal(sodium_base642bin(raw, TICKET_RAW_BYTES, t + 3, TICKET_LEN - 3, NULL, &len,
	                                   NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	                 0);
	assert_int_equal(len, TICKET_RAW_BYTES);
}

static void encode(const char *prefix, const uint8_t raw[TICKET_RAW_BYTES],
                   char out[TICKET_LEN + 1])
{
	memcpy(out, prefix, 3);
	sodium_bin2base64(out + 3, TICKET_LEN + 1 - 3, raw, TICKET_RAW_BYTES,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void test_roundtrip(void **state)
{
	char t[TICKET_LEN + 1];
	struct addr a, want;
	int64_t e = 0;

	(void)state;
	issue("2001:db8::5", NOW + 120000, t);
	assert_memory_equal(t, "v6.", 3);
	assert_int_equal(ticket_verify(&key, t, SESSION, NOW, &a, &e), TICKET_OK);
	assert_int_equal(addr_parse("2001:db8::5", &want), 0);
	assert_true(addr_equal(&a, &want));
	assert_int_equal(e, NOW + 120000);
	issue("198.18.0.5", NOW + 1, t);
	assert_memory_equal(t, "v4.", 3);
	assert_int_equal(ticket_verify(&key, t, SESSION, NOW, &a, &e), TICKET_OK);
	assert_int_equal(a.family, AF_INET);
}

static void test_other_session(void **state)
{
	char t[TICKET_LEN + 1];

	(void)state;
	issue("198.18.0.5", NOW + 60000, t);
	assert_int_equal(verify(t, "session-token-of-visitor-b", NOW), TICKET_SESSION);
	assert_int_equal(verify(t, "", NOW), TICKET_SESSION);
}

static void test_expired(void **state)
{
	char t[TICKET_LEN + 1];

	(void)state;
	issue("198.18.0.5", NOW + 60000, t);
	assert_int_equal(verify(t, SESSION, NOW + 60000), TICKET_OK);
	assert_int_equal(verify(t, SESSION, NOW + 60001), TICKET_EXPIRED);
}

static void test_altered(void **state)
{
	char t[TICKET_LEN + 1], x[TICKET_LEN + 1];
	uint8_t raw[TICKET_RAW_BYTES];

	(void)state;
	issue("198.18.0.5", NOW + 60000, t);
	/* The MAC's last byte. */
	decode(t, raw);
	raw[TICKET_RAW_BYTES - 1] ^= 1;
	encode("v4.", raw, x);
	assert_int_equal(verify(x, SESSION, NOW), TICKET_MAC);
	/* The address: 198.18.0.5 -> 198.18.0.6. */
	decode(t, raw);
	raw[2 + 3] = 6;
	encode("v4.", raw, x);
	assert_int_equal(verify(x, SESSION, NOW), TICKET_MAC);
	/* The expiry pushed later. */
	decode(t, raw);
	raw[18 + 5] ^= 0x10;
	encode("v4.", raw, x);
	assert_int_equal(verify(x, SESSION, NOW), TICKET_MAC);
	/* Another process (another key) issued it. */
	struct ticket_key saved = key;
	assert_int_equal(ticket_key_init(&key), 0);
	assert_int_equal(verify(t, SESSION, NOW), TICKET_MAC);
	key = saved;
	assert_int_equal(verify(t, SESSION, NOW), TICKET_OK);
}

/* A v4 ticket presented as v6, or its family byte turned: refused before the MAC. */
static void test_family(void **state)
{
	char t[TICKET_LEN + 1], x[TICKET_LEN + 1];
	uint8_t raw[TICKET_RAW_BYTES];

	(void)state;
	issue("198.18.0.5", NOW + 60000, t);
	memcpy(x, t, sizeof(x));
	x[1] = '6';
	assert_int_equal(verify(x, SESSION, NOW), TICKET_FAMILY);
	decode(t, raw);
	raw[1] = 6;
	encode("v6.", raw, x);
	assert_int_equal(verify(x, SESSION, NOW), TICKET_MAC);
	raw[1] = 4;
	raw[2 + 10] = 0xff; /* an IPv4 ticket with bytes past its four */
	encode("v4.", raw, x);
	assert_int_equal(verify(x, SESSION, NOW), TICKET_FAMILY);
}

static void test_malformed(void **state)
{
	char t[TICKET_LEN + 1], x[TICKET_LEN + 1];

	(void)state;
	issue("198.18.0.5", NOW + 60000, t);
	assert_int_equal(verify(NULL, SESSION, NOW), TICKET_MALFORMED);
	assert_int_equal(verify("", SESSION, NOW), TICKET_MALFORMED);
	assert_int_equal(verify("v4.", SESSION, NOW), TICKET_MALFORMED);
	memcpy(x, t, sizeof(x));
	x[0] = 'w';
	assert_int_equal(verify(x, SESSION, NOW), TICKET_MALFORMED);
	memcpy(x, t, sizeof(x));
	x[10] = '*';
	assert_int_equal(verify(x, SESSION, NOW), TICKET_MALFORMED);
	memcpy(x, t, sizeof(x));
	x[TICKET_LEN - 1] = '\0';
	assert_int_equal(verify(x, SESSION, NOW), TICKET_MALFORMED);
	for (int v = TICKET_MALFORMED; v < TICKET_X_MAX; v++) {
		assert_true(strncmp(ticket_reason(v), "ticket-", 7) == 0);
		assert_true(ticket_message_en(v)[0] != '\0');
		assert_true(ticket_message_ja(v)[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_other_session),
	    cmocka_unit_test(test_expired),   cmocka_unit_test(test_altered),
	    cmocka_unit_test(test_family),    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
