/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the address tickets of a two-family visit (ticket_verify, ticket_issue). With
 * the first byte even, the rest is a ticket as a visitor sends it; odd, the rest gives an
 * address, an expiry and a session for a ticket issued with the harness's key.
 * Asserts: a hostile ticket gets a verdict of the enum with its reason; one that verifies is
 * exactly the ticket issued for its address and expiry (nothing else in the text is ignored);
 * an issued ticket verifies to its address and expiry, and is refused for another session or
 * once expired.
 */
#include "web/ticket.h"

#include "fuzz.h"

#include <sys/socket.h>

static const struct ticket_key key = {{0x5a, 0x17, 0x42}};

static void hostile(const char *text, const char *session)
{
	char again[TICKET_LEN + 1];
	struct addr a = {0};
	int64_t expires = 0;
	enum ticket_verdict v = ticket_verify(&key, text, session, 0, &a, &expires);

	CHECK((unsigned)v < TICKET_X_MAX && ticket_reason(v)[0] != '\0');
	if (v == TICKET_OK) {
		ticket_issue(&key, &a, session, expires, again);
		CHECK(strcmp(again, text) == 0);
	}
}

static void issued(const uint8_t *data, size_t size)
{
	char text[TICKET_LEN + 1], *session, *other;
	struct addr a = {0}, got;
	int64_t expires, e;
	uint64_t u = 0;

	if (size < 1 + 16 + 8)
		return;
	a.family = data[0] & 2 ? AF_INET6 : AF_INET;
	memcpy(a.bytes, data + 1, a.family == AF_INET6 ? 16 : 4);
	for (int i = 0; i < 8; i++)
		u = u << 8 | data[17 + i];
	expires = (int64_t)(u >> 1); /* a time, never negative */
	session = fuzz_cstr(data + 25, size - 25);
	ticket_issue(&key, &a, session, expires, text);
	CHECK(strlen(text) == TICKET_LEN);
	CHECK(ticket_verify(&key, text, session, expires, &got, &e) == TICKET_OK);
	CHECK(addr_equal(&got, &a) && e == expires);
	if (expires < INT64_MAX)
		CHECK(ticket_verify(&key, text, session, expires + 1, &got, &e) == TICKET_EXPIRED);
	other = malloc(strlen(session) + 2);
	CHECK(other != NULL);
	memcpy(other, session, strlen(session));
	memcpy(other + strlen(session), "x", 2);
	CHECK(ticket_verify(&key, text, other, expires, &got, &e) == TICKET_SESSION);
	text[3 + (data[0] >> 2) % (TICKET_LEN - 3)] ^= 1;
	CHECK(ticket_verify(&key, text, session, expires, &got, &e) != TICKET_OK);
	free(other);
	free(session);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		issued(data + 1, size - 1);
		return 0;
	}
	text = fuzz_cstr(data + 1, size - 1);
	hostile(text, "session");
	hostile(text, "");
	free(text);
	return 0;
}
