/* SPDX-License-Identifier: MIT */
/* Unit tests of the store's secrets and identifiers: key file, requester hash, prefixes, ids. */
#include "store_test_util.h"

#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <sys/stat.h>

static int setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (!s || scratch_make(s) < 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	scratch_remove(*state);
	free(*state);
	return 0;
}

static void test_key_file(void **state)
{
	struct scratch *sc = *state;
	struct store_key k1, k2, zero = {0};
	struct stat st;
	mode_t old;
	char p[200];

	/* A permissive umask must not widen the mode. */
	old = umask(0);
	assert_int_equal(store_key_load(sc->key, &k1), 1);
	umask(old);
	assert_int_equal(stat(sc->key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, STORE_KEY_BYTES);
	assert_memory_not_equal(k1.bytes, zero.bytes, STORE_KEY_BYTES);
	/* no temporary file left behind */
	snprintf(p, sizeof(p), "%s/requester.key.tmp.%ld", sc->dir, (long)getpid());
	assert_int_equal(access(p, F_OK), -1);

	/* Later starts read the same key. */
	assert_int_equal(store_key_load(sc->key, &k2), 0);
	assert_memory_equal(k1.bytes, k2.bytes, STORE_KEY_BYTES);

	/* Group or world access: refused, and the out-param is zeroed. */
	assert_int_equal(chmod(sc->key, 0644), 0);
	assert_int_equal(store_key_load(sc->key, &k2), -EPERM);
	assert_memory_equal(k2.bytes, zero.bytes, STORE_KEY_BYTES);
	assert_int_equal(chmod(sc->key, 0640), 0);
	assert_int_equal(store_key_load(sc->key, &k2), -EPERM);
	assert_int_equal(chmod(sc->key, 0604), 0);
	assert_int_equal(store_key_load(sc->key, &k2), -EPERM);
	assert_int_equal(chmod(sc->key, 0600), 0);
	assert_int_equal(store_key_load(sc->key, &k2), 0);

	/* Wrong size: refused, never replaced. */
	assert_int_equal(truncate(sc->key, STORE_KEY_BYTES - 1), 0);
	assert_int_equal(store_key_load(sc->key, &k2), -ERR_SYNTAX);
	assert_int_equal(truncate(sc->key, STORE_KEY_BYTES + 1), 0);
	assert_int_equal(store_key_load(sc->key, &k2), -ERR_SYNTAX);
	assert_int_equal(truncate(sc->key, 0), 0);
	assert_int_equal(store_key_load(sc->key, &k2), -ERR_SYNTAX);
	assert_int_equal(stat(sc->key, &st), 0);
	assert_int_equal(st.st_size, 0);

	/* Not a regular file; a symlink is not followed. */
	snprintf(p, sizeof(p), "%s/keydir", sc->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(store_key_load(p, &k2), -ERR_SYNTAX);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/keylink", sc->dir);
	assert_int_equal(unlink(sc->key), 0);
	assert_int_equal(store_key_load(sc->key, &k1), 1);
	assert_int_equal(symlink(sc->key, p), 0);
	assert_int_equal(store_key_load(p, &k2), -ELOOP);

	/* A directory we cannot create in. */
	assert_true(store_key_load("/proc/exposure-no-such/key", &k2) < 0);
}

static void hash_of(const struct store_key *k, const char *text, char out[STORE_HASH_HEX])
{
	struct addr a;

	assert_int_equal(addr_parse(text, &a), 0);
	assert_int_equal(store_requester_hash(k, &a, out), 0);
}

static void test_requester_hash(void **state)
{
	struct store_key k1 = {.bytes = {1}}, k2 = {.bytes = {2}};
	char h1[STORE_HASH_HEX], h1b[STORE_HASH_HEX], h2[STORE_HASH_HEX], h3[STORE_HASH_HEX];
	struct addr mapped = {.family = AF_INET6,
	                      .bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 5, 7}};
	struct addr unix_addr = {.family = AF_UNIX};

	(void)state;
	hash_of(&k1, "198.18.5.7", h1);
	hash_of(&k1, "198.18.5.7", h1b);
	hash_of(&k2, "198.18.5.7", h2);
	hash_of(&k1, "198.18.5.8", h3);
	assert_int_equal(strlen(h1), 64);
	assert_int_equal(strspn(h1, "0123456789abcdef"), 64);
	assert_string_equal(h1, h1b);
	assert_string_not_equal(h1, h2);
	assert_string_not_equal(h1, h3);
	/* Not a plain hash of the address: the key matters, so it is not in any table. */
	assert_null(strstr(h1, "c6120507"));
	/* an IPv4-mapped requester is the same requester */
	assert_int_equal(store_requester_hash(&k1, &mapped, h3), 0);
	assert_string_equal(h1, h3);
	/* IPv6, and the same bytes as IPv4 in an IPv6 address are a different requester */
	hash_of(&k1, "2001:db8:1:2:3::4", h2);
	hash_of(&k1, "2001:db8:1:2:3::4", h3);
	assert_string_equal(h2, h3);
	hash_of(&k1, "c612:507::", h3);
	assert_string_not_equal(h1, h3);
	assert_int_equal(store_requester_hash(&k1, &unix_addr, h3), -ERR_UNSUPPORTED);
	assert_string_equal(h3, "");
}

static void test_prefix(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"198.18.5.7", "198.18.5.0/24"},
	    {"198.18.5.0", "198.18.5.0/24"},
	    {"255.255.255.255", "255.255.255.0/24"},
	    {"0.0.0.0", "0.0.0.0/24"},
	    {"::ffff:198.18.5.7", "198.18.5.0/24"},
	    {"2001:db8:1:2:3::4", "2001:db8:1::/48"},
	    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:ffff::/48"},
	    {"2001:db8::1", "2001:db8::/48"},
	    {"::1", "::/48"},
	    {"[2001:db8:abcd:12::1]", "2001:db8:abcd::/48"},
	};
	struct addr mapped = {.family = AF_INET6,
	                      .bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 5, 7}};
	struct addr bad = {.family = AF_UNIX};
	char out[STORE_PREFIX_MAX];
	struct addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse(cases[i].in, &a), 0);
		assert_int_equal(store_prefix(&a, out, sizeof(out)), (int)strlen(cases[i].out));
		assert_string_equal(out, cases[i].out);
		/* and never the full address */
		if (strcmp(cases[i].in, "198.18.5.0") != 0 && strcmp(cases[i].in, "0.0.0.0") != 0)
			assert_null(strstr(out, cases[i].in));
	}
	/* a mapped address that did not come through addr_parse */
	assert_int_equal(store_prefix(&mapped, out, sizeof(out)), 13);
	assert_string_equal(out, "198.18.5.0/24");
	/* the input is not modified */
	assert_int_equal(mapped.family, AF_INET6);
	assert_int_equal(mapped.bytes[15], 7);
	assert_int_equal(store_prefix(&bad, out, sizeof(out)), -ERR_UNSUPPORTED);
	assert_int_equal(addr_parse("198.18.5.7", &a), 0);
	assert_int_equal(store_prefix(&a, out, 8), -ERR_RANGE);
	assert_string_equal(out, "");
}

static void test_ids_and_tokens(void **state)
{
	char id1[STORE_ID_LEN + 1], id2[STORE_ID_LEN + 1];
	char t1[STORE_TOKEN_LEN + 1], t2[STORE_TOKEN_LEN + 1];
	uint8_t h1[STORE_HASH_BYTES], h2[STORE_HASH_BYTES], h1b[STORE_HASH_BYTES];

	(void)state;
	assert_int_equal(store_random_id(id1), 0);
	assert_int_equal(store_random_id(id2), 0);
	assert_int_equal(strlen(id1), STORE_ID_LEN);
	assert_true(store_id_valid(id1));
	assert_string_not_equal(id1, id2);
	assert_int_equal(store_random_token(t1), 0);
	assert_int_equal(store_random_token(t2), 0);
	assert_int_equal(strlen(t1), STORE_TOKEN_LEN);
	assert_int_equal(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                            "0123456789-_"),
	                 STORE_TOKEN_LEN);
	assert_string_not_equal(t1, t2);
	store_token_hash(t1, h1);
	store_token_hash(t1, h1b);
	store_token_hash(t2, h2);
	assert_memory_equal(h1, h1b, sizeof(h1));
	assert_memory_not_equal(h1, h2, sizeof(h1));

	assert_false(store_id_valid(NULL));
	assert_false(store_id_valid(""));
	assert_false(store_id_valid("0123456789abcdef0123456789abcde"));
	assert_false(store_id_valid("0123456789abcdef0123456789abcdef0"));
	assert_false(store_id_valid("0123456789abcdef0123456789abcdeF"));
	assert_false(store_id_valid("0123456789abcdef0123456789abcdeg"));
	assert_true(store_id_valid("0123456789abcdef0123456789abcdef"));

	assert_string_equal(store_status_name(STORE_INTERRUPTED), "interrupted");
	assert_string_equal(store_status_name(STORE_STATUS_X_MAX), "?");
	{
		enum store_status s;

		assert_int_equal(store_status_parse("running", &s), 0);
		assert_int_equal(s, STORE_RUNNING);
		assert_int_equal(store_status_parse("Running", &s), -ERR_SYNTAX);
	}
	assert_true(store_now_ms() > 1600000000000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
	    cmocka_unit_test(test_requester_hash),
	    cmocka_unit_test(test_prefix),
	    cmocka_unit_test(test_ids_and_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
