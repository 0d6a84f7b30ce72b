/* SPDX-License-Identifier: MIT */
/* The scan that serves a stored document's "checks" without parsing it (web/json_scan.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "web/json_scan.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int scan(const char *s, const char *key, struct json_span *out)
{
	return json_scan_member(s, strlen(s), key, out);
}

static void assert_span(const struct json_span *sp, const char *want, size_t n)
{
	assert_int_equal(sp->len, strlen(want));
	assert_memory_equal(sp->p, want, sp->len);
	assert_int_equal(sp->n_elems, n);
}

static void test_finds_member(void **st)
{
	const char *doc =
	    "{\"target\":\"127.0.0.1\",\"risk\":\"high\",\"checks\":[{\"check\":\"ssh\","
	    "\"details\":{\"checks\":[1]},\"findings\":[]},{\"check\":\"smb\"}]}";
	struct json_span sp;

	(void)st;
	assert_int_equal(scan(doc, "checks", &sp), 0);
	assert_span(&sp,
	            "[{\"check\":\"ssh\",\"details\":{\"checks\":[1]},\"findings\":[]},"
	            "{\"check\":\"smb\"}]",
	            2);
	assert_int_equal(scan(doc, "risk", &sp), 0);
	assert_span(&sp, "\"high\"", 0);
	/* A nested member of that name is not the top-level one. */
	assert_int_equal(scan("{\"a\":{\"checks\":[]}}", "checks", &sp), -ENOENT);
	assert_int_equal(scan(" {\"checks\" : [ ] } \n", "checks", &sp), 0);
	assert_span(&sp, "[ ]", 0);
	assert_int_equal(scan("{\"checks\":[1,2,3],\"checks\":[]}", "checks", &sp), 0);
	assert_span(&sp, "[1,2,3]", 3);
	assert_int_equal(scan("{}", "checks", &sp), -ENOENT);
}

static void test_values(void **st)
{
	struct json_span sp;
	const char *ok[] = {
	    "{\"k\":-0.5e+10}",
	    "{\"k\":0}",
	    "{\"k\":true}",
	    "{\"k\":null}",
	    "{\"k\":false}",
	    "{\"k\":\"\\u00e9\\n\\\"\"}",
	    "{\"k\":\"\xe3\x81\x82\"}",
	    "{\"k\":[[],{},\"\"]}",
	};

	(void)st;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(scan(ok[i], "k", &sp), 0);
	assert_int_equal(scan("{\"k\":[[],{},\"\"]}", "k", &sp), 0);
	assert_int_equal(sp.n_elems, 3);
}

/* What jansson refuses, the scan refuses: a damaged store gives no half document. */
static void test_refuses(void **st)
{
	struct json_span sp;
	const char *bad[] = {
	    "",
	    "[]",
	    "{",
	    "{\"checks\":[1,2}",
	    "{\"checks\":[1,2]",
	    "{\"checks\":[1,2]} x",
	    "{\"checks\":[01]}",
	    "{\"checks\":[1.]}",
	    "{\"checks\":[-]}",
	    "{\"checks\":[tru]}",
	    "{\"checks\":[\"a\x01\"]}",
	    "{\"checks\":[\"\\x\"]}",
	    "{\"checks\":[\"\\u12\"]}",
	    "{\"checks\":[\"\xc0\xaf\"]}",     /* overlong */
	    "{\"checks\":[\"\xed\xa0\x80\"]}", /* a surrogate */
	    "{\"checks\":[\"\xe3\x81\"]}",     /* cut */
	    "{\"checks\":[1,]}",
	    "{\"checks\" [1]}",
	    "{checks:[1]}",
	    "{\"checks\":[1]]}",
	};

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_int_equal(scan(bad[i], "checks", &sp), -ERR_SYNTAX);
	}
}

static void test_depth(void **st)
{
	char deep[2 * JSON_SCAN_DEPTH_MAX + 32];
	size_t n = 0;
	struct json_span sp;

	(void)st;
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"k\":");
	for (int i = 0; i < JSON_SCAN_DEPTH_MAX; i++)
		deep[n++] = '[';
	for (int i = 0; i < JSON_SCAN_DEPTH_MAX; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	assert_int_equal(scan(deep, "k", &sp), -ERR_SYNTAX);
	/* One level less fits. */
	memmove(deep + 5, deep + 6, n - 6);
	memmove(deep + 5 + JSON_SCAN_DEPTH_MAX - 1, deep + 5 + JSON_SCAN_DEPTH_MAX,
	        n - 5 - JSON_SCAN_DEPTH_MAX);
	deep[n - 2] = '\0';
	assert_int_equal(scan(deep, "k", &sp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_finds_member),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_refuses),
	    cmocka_unit_test(test_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
