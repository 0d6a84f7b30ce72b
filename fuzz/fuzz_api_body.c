/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: api_body_parse, the JSON body of POST /api/diagnoses.
 * Asserts: 0 or -ERR_SYNTAX, the defaults kept on an error; a language of the enum; tickets only
 * when the list is well formed and at most API_BODY_TICKETS_MAX, each a NUL-terminated string
 * no longer than a ticket (or marked as not a string, then empty); the same body parsed again
 * gives the same struct.
 */
#include "web/body.h"
#include "core/err.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_body a, b;
	int r = api_body_parse((const char *)data, size, LANG_JA, &a);

	CHECK(r == 0 || r == -ERR_SYNTAX);
	CHECK(api_body_parse((const char *)data, size, LANG_JA, &b) == r);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	CHECK(a.lang == LANG_EN || a.lang == LANG_JA);
	CHECK(a.tickets_error <= API_BODY_TICKETS_TOO_MANY);
	if (r < 0 || size == 0)
		CHECK(a.lang == LANG_JA && a.n_tickets == 0 && a.tickets_error == 0);
	CHECK(a.n_tickets <= API_BODY_TICKETS_MAX);
	CHECK(a.tickets_error == API_BODY_TICKETS_OK || a.n_tickets == 0);
	for (size_t k = 0; k < API_BODY_TICKETS_MAX; k++) {
		CHECK(memchr(a.tickets[k].text, 0, sizeof(a.tickets[k].text)) != NULL);
		if (k >= a.n_tickets || !a.tickets[k].string)
			CHECK(!a.tickets[k].string && a.tickets[k].text[0] == '\0');
	}
	return 0;
}
