/* SPDX-License-Identifier: MIT */
/*
 * The sealed record another node resumes a diagnosis from (web/resume.h): it opens to what
 * was sealed (both families, three targets, the target text, the timeout) for its own id and
 * key only; a flipped byte anywhere, a cut, another id, another key, or a record too long:
 * each refused. Two seals of one record differ (a fresh nonce each time).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "web/resume.h"
#include "core/err.h"

#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#define ID  "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"

static uint8_t key[RESUME_KEY_BYTES], key2[RESUME_KEY_BYTES];

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(key2, sizeof(key2));
	return 0;
}

static void sample(struct resume *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(addr_parse("2001:db8::42", &r->requester), 0);
	r->targets[0] = (struct visit_target){r->requester, VISIT_PEER};
	assert_int_equal(addr_parse("198.18.0.7", &r->targets[1].addr), 0);
	r->targets[1].proven = VISIT_TICKET;
	assert_int_equal(addr_parse("2001:db8::43", &r->targets[2].addr), 0);
	r->targets[2].proven = VISIT_TICKET;
	r->n_targets = 3;
	snprintf(r->target, sizeof(r->target), "2001:db8::42");
	r->timeout_ms = 0x01020304;
}

static void same(const struct resume *a, const struct resume *b)
{
	assert_memory_equal(&a->requester, &b->requester, sizeof(a->requester));
	assert_int_equal(a->n_targets, b->n_targets);
	for (size_t t = 0; t < a->n_targets; t++) {
		assert_memory_equal(&a->targets[t].addr, &b->targets[t].addr, sizeof(struct addr));
		assert_int_equal(a->targets[t].proven, b->targets[t].proven);
	}
	assert_string_equal(a->target, b->target);
	assert_int_equal(a->timeout_ms, b->timeout_ms);
}

static void test_round_trip(void **state)
{
	uint8_t s1[RESUME_SEALED_MAX], s2[RESUME_SEALED_MAX];
	struct resume r, back;
	int n1, n2;

	(void)state;
	sample(&r);
	n1 = resume_seal(key, ID, &r, s1, sizeof(s1));
	n2 = resume_seal(key, ID, &r, s2, sizeof(s2));
	assert_true(n1 > 0 && n1 <= RESUME_SEALED_MAX && n1 == n2);
	assert_memory_not_equal(s1, s2, (size_t)n1);
	assert_int_equal(resume_open(key, ID, s1, (size_t)n1, &back), 0);
	same(&r, &back);
	/* The requester alone, IPv4, no target yet: the web's usual case. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(addr_parse("127.0.5.3", &r.requester), 0);
	snprintf(r.target, sizeof(r.target), "127.0.5.3");
	n1 = resume_seal(key, ID, &r, s1, sizeof(s1));
	assert_true(n1 > 0);
	assert_int_equal(resume_open(key, ID, s1, (size_t)n1, &back), 0);
	same(&r, &back);
	assert_int_equal(back.requester.family, AF_INET);
}

static void test_refused(void **state)
{
	uint8_t s[RESUME_SEALED_MAX], big[RESUME_SEALED_MAX + 1] = {0};
	struct resume r, back;
	int n;

	(void)state;
	sample(&r);
	n = resume_seal(key, ID, &r, s, sizeof(s));
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		s[i] ^= 0x01;
		assert_int_equal(resume_open(key, ID, s, (size_t)n, &back), -ERR_SYNTAX);
		s[i] ^= 0x01;
	}
	for (int len = 0; len < n; len++)
		assert_int_equal(resume_open(key, ID, s, (size_t)len, &back), -ERR_SYNTAX);
	assert_int_equal(resume_open(key, ID2, s, (size_t)n, &back), -ERR_SYNTAX);
	assert_int_equal(resume_open(key2, ID, s, (size_t)n, &back), -ERR_SYNTAX);
	assert_int_equal(resume_open(key, ID, big, sizeof(big), &back), -ERR_SYNTAX);
	assert_int_equal(resume_open(key, ID, s, (size_t)n, &back), 0);
	/* Too small an output, too many targets: refused before anything is written. */
	assert_int_equal(resume_seal(key, ID, &r, s, RESUME_SEALED_MAX - 1), -ERR_RANGE);
	r.n_targets = VISIT_MAX_TARGETS + 1;
	assert_int_equal(resume_seal(key, ID, &r, s, sizeof(s)), -ERR_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
