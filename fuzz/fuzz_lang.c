/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: lang_choose, the Accept-Language parser (and request_lang over it).
 * Asserts: 0 with a language of the enum, or a negative code with the output untouched;
 * request_lang gives that language, or English; the same header gives the same answer.
 */
#include "core/lang.h"
#include "web/requester.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	enum lang a = LANG_X_MAX, b = LANG_X_MAX;
	int r = lang_choose(s, &a);

	CHECK(lang_choose(s, &b) == r && a == b);
	if (r == 0)
		CHECK(a < LANG_X_MAX && lang_name(a) != NULL);
	else
		CHECK(r < 0 && a == LANG_X_MAX);
	CHECK(request_lang(s) == (r == 0 ? a : LANG_EN));
	free(s);
	return 0;
}
