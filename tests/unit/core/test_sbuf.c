/* SPDX-License-Identifier: MIT */
/* The string buffer with a ceiling (core/sbuf.h): growth, the ceiling, sticky errors, escapes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/sbuf.h"

#include <stdlib.h>
#include <string.h>

static void test_grows_past_first_allocation(void **state)
{
	struct sbuf b;

	(void)state;
	sbuf_init(&b, 1 << 20);
	assert_string_equal(sbuf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sbuf_addf(&b, "%04d,", i), 0);
	assert_int_equal(b.len, 5000);
	assert_int_equal(memcmp(sbuf_str(&b), "0000,0001,", 10), 0);
	assert_string_equal(sbuf_str(&b) + 4995, "0999,");
	sbuf_free(&b);
}

static void test_ceiling_is_hard_and_sticky(void **state)
{
	struct sbuf b;

	(void)state;
	sbuf_init(&b, 8);
	assert_int_equal(sbuf_add(&b, "12345678"), 0); /* exactly the ceiling */
	assert_int_equal(sbuf_add(&b, "9"), -ERR_TOOBIG);
	assert_int_equal(sbuf_add(&b, ""), -ERR_TOOBIG); /* sticky, even for nothing */
	assert_int_equal(sbuf_addf(&b, "%d", 1), -ERR_TOOBIG);
	assert_int_equal(b.len, 8);
	assert_null(sbuf_take(&b, NULL)); /* an erred buffer hands out nothing */
	assert_int_equal(b.len, 0);
	sbuf_init(&b, 4);
	assert_int_equal(sbuf_addf(&b, "%s", "too long"), -ERR_TOOBIG);
	sbuf_reset(&b); /* reset clears the error */
	assert_int_equal(sbuf_add(&b, "ok"), 0);
	assert_string_equal(sbuf_str(&b), "ok");
	sbuf_free(&b);
}

static void test_html_escapes(void **state)
{
	struct sbuf b;

	(void)state;
	sbuf_init(&b, 4096);
	sbuf_add_html(&b, "<script>alert('x&y')</script> \"q\"");
	assert_string_equal(sbuf_str(&b),
	                    "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt; &quot;q&quot;");
	sbuf_reset(&b);
	/* Controls XML forbids go, tab/LF/CR and UTF-8 stay. */
	sbuf_add_html(&b, "a\x01\x1b[31m\x7f\tb\n\xe6\x97\xa5\xe6\x9c\xac");
	assert_string_equal(sbuf_str(&b), "a[31m\tb\n\xe6\x97\xa5\xe6\x9c\xac");
	sbuf_reset(&b);
	assert_int_equal(sbuf_add_html(&b, NULL), 0);
	assert_string_equal(sbuf_str(&b), "");
	sbuf_free(&b);
}

static void test_urlenc(void **state)
{
	struct sbuf b;

	(void)state;
	sbuf_init(&b, 4096);
	sbuf_add_urlenc(&b, "a b&c=d/~._-\xe6");
	assert_string_equal(sbuf_str(&b), "a%20b%26c%3Dd%2F~._-%E6");
	sbuf_free(&b);
}

static void test_take(void **state)
{
	struct sbuf b;
	size_t len = 99;
	char *p;

	(void)state;
	sbuf_init(&b, 100);
	p = sbuf_take(&b, &len); /* empty: an allocated "" */
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	sbuf_add(&b, "hello");
	p = sbuf_take(&b, &len);
	assert_string_equal(p, "hello");
	assert_int_equal(len, 5);
	assert_null(b.p);
	assert_int_equal(b.max, 100);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grows_past_first_allocation),
	    cmocka_unit_test(test_ceiling_is_hard_and_sticky),
	    cmocka_unit_test(test_html_escapes),
	    cmocka_unit_test(test_urlenc),
	    cmocka_unit_test(test_take),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
