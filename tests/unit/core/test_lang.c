/* SPDX-License-Identifier: MIT */
/* The one language choice (core/lang.h): plain tags and Accept-Language lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/lang.h"

#include <stdio.h>

struct lang_case {
	const char *in;
	int ret;
	enum lang out;
};

static void test_lang_choose(void **state)
{
	static const struct lang_case cases[] = {
	    {"en", 0, LANG_EN},
	    {"ja", 0, LANG_JA},
	    {"JA", 0, LANG_JA},
	    {"ja-JP", 0, LANG_JA},
	    {"en-GB", 0, LANG_EN},
	    {"ja-JP,ja;q=0.9,en;q=0.8", 0, LANG_JA},
	    {"en-US,en;q=0.9,ja;q=0.8", 0, LANG_EN},
	    {"fr-FR,fr;q=0.9,ja;q=0.8,en;q=0.7", 0, LANG_JA},
	    {"fr, en;q=0.5", 0, LANG_EN},
	    {"en;q=0.5, ja;q=0.6", 0, LANG_JA},
	    {"en;q=0.8, ja;q=0.8", 0, LANG_EN}, /* tie: the earlier one */
	    {"ja;q=0.8, en;q=0.8", 0, LANG_JA},
	    {"ja;q=0.1, ja-JP;q=0.9, en;q=0.5", 0, LANG_JA}, /* best weight per language */
	    {"ja;q=0, en", 0, LANG_EN},
	    {"en;q=0, ja;q=0.001", 0, LANG_JA},
	    {"en;q=0.000, *;q=0.5", 0, LANG_JA}, /* "*" covers only the unnamed */
	    {"*", 0, LANG_EN},
	    {"de, *;q=0.1", 0, LANG_EN},
	    {"ja;q=1.000", 0, LANG_JA},
	    {" ja ; q=0.5 ,en;Q=0.4", 0, LANG_JA},
	    {",,ja,,", 0, LANG_JA},
	    {"zh-Hant-TW, ja;q=0.3", 0, LANG_JA},
	    {"", -ERR_UNSUPPORTED, LANG_EN},
	    {"  ", -ERR_UNSUPPORTED, LANG_EN},
	    {"fr", -ERR_UNSUPPORTED, LANG_EN},
	    {"fr-FR, de;q=0.5", -ERR_UNSUPPORTED, LANG_EN},
	    {"ja;q=0, en;q=0", -ERR_UNSUPPORTED, LANG_EN},
	    {"*;q=0", -ERR_UNSUPPORTED, LANG_EN},
	    {"japanese", -ERR_UNSUPPORTED, LANG_EN}, /* a valid tag, not ours */
	    {"ja_JP", -ERR_SYNTAX, LANG_EN},
	    {"ja-", -ERR_SYNTAX, LANG_EN},
	    {"ja--JP", -ERR_SYNTAX, LANG_EN},
	    {"-ja", -ERR_SYNTAX, LANG_EN},
	    {"ja;q=1.5", -ERR_SYNTAX, LANG_EN},
	    {"ja;q=1.001", -ERR_SYNTAX, LANG_EN},
	    {"ja;q=0.1234", -ERR_SYNTAX, LANG_EN},
	    {"ja;q=", -ERR_SYNTAX, LANG_EN},
	    {"ja;q=.5", -ERR_SYNTAX, LANG_EN},
	    {"ja;level=1", -ERR_SYNTAX, LANG_EN},
	    {"ja;", -ERR_SYNTAX, LANG_EN},
	    {";q=0.5", -ERR_SYNTAX, LANG_EN},
	    {"ja-abcdefghi", -ERR_SYNTAX, LANG_EN},
	    {"abcdefghi", -ERR_SYNTAX, LANG_EN},
	    {"ja\x1b[31m", -ERR_SYNTAX, LANG_EN},
	    {"\xe6\x97\xa5\xe6\x9c\xac", -ERR_SYNTAX, LANG_EN},
	    {"en, ja;q=x", -ERR_SYNTAX, LANG_EN},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Preset to a value no case expects on failure: *out is untouched then. */
		enum lang out = LANG_X_MAX;
		int r = lang_choose(cases[i].in, &out);

		if (r != cases[i].ret)
			fail_msg("'%s': returned %d, expected %d", cases[i].in, r, cases[i].ret);
		if (r == 0 && out != cases[i].out)
			fail_msg("'%s': chose %s", cases[i].in, lang_name(out));
		if (r < 0 && out != LANG_X_MAX)
			fail_msg("'%s': wrote *out on failure", cases[i].in);
	}
	{
		enum lang out = LANG_JA;

		assert_int_equal(lang_choose(NULL, &out), -ERR_SYNTAX);
		assert_int_equal(out, LANG_JA);
	}
}

/* A long header does not confuse the parser: the best of many elements wins. */
static void test_lang_choose_long(void **state)
{
	char buf[8192];
	size_t len = 0;
	enum lang out = LANG_X_MAX;

	(void)state;
	for (int i = 0; i < 500; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "x%d;q=0.5,", i % 10);
	snprintf(buf + len, sizeof(buf) - len, "ja;q=0.2,en;q=0.1");
	assert_int_equal(lang_choose(buf, &out), 0);
	assert_int_equal(out, LANG_JA);
}

static void test_lang_name(void **state)
{
	(void)state;
	assert_string_equal(lang_name(LANG_EN), "en");
	assert_string_equal(lang_name(LANG_JA), "ja");
	assert_null(lang_name(LANG_X_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lang_choose),
	    cmocka_unit_test(test_lang_choose_long),
	    cmocka_unit_test(test_lang_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
