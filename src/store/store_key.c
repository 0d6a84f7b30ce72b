/* SPDX-License-Identifier: MIT */
/* Secrets and identifiers for the store: the key file, keyed requester hash, prefixes, ids. */
#include "store/store_impl.h"

#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Domain separation: a future hash of something else with the same key never collides. */
static const char requester_tag[] = "exposure requester v1";

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* a, with an IPv4-mapped IPv6 address turned into IPv4 (the same requester, one form). */
static int canonical(const struct addr *a, struct addr *out)
{
	*out = *a;
	if (a->family == AF_INET6 && memcmp(a->bytes, v4mapped_prefix, 12) == 0) {
		memset(out->bytes, 0, sizeof(out->bytes));
		memcpy(out->bytes, a->bytes + 12, 4);
		out->family = AF_INET;
	}
	if (out->family != AF_INET && out->family != AF_INET6)
		return -ERR_UNSUPPORTED;
	return 0;
}

static int read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ERR_SYNTAX;
		got += (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t n)
{
	size_t put = 0;

	while (put < n) {
		ssize_t r = write(fd, buf + put, n - put);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		put += (size_t)r;
	}
	return 0;
}

static int load_existing(const char *path, struct store_key *out)
{
	struct stat st;
	uint8_t extra;
	int fd, r;

	/* O_NONBLOCK: a FIFO in the key's place would block the start forever; fstat refuses it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != STORE_KEY_BYTES) {
		r = -ERR_SYNTAX;
		goto out_close;
	}
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		r = -EPERM;
		goto out_close;
	}
	if ((r = read_full(fd, out->bytes, STORE_KEY_BYTES)) < 0)
		goto out_close;
	/* The size was checked above; a file that grew since is not the file we checked. */
	if (read(fd, &extra, 1) != 0)
		r = -ERR_SYNTAX;
out_close:
	close(fd);
	if (r < 0)
		sodium_memzero(out, sizeof(*out));
	return r;
}

static void fsync_dir_of(const char *path)
{
	char buf[4096];
	int fd;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return;
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

/*
 * Write a new key under a temporary name, then link() it into place: link fails with EEXIST if
 * another process won the race, and a crash half-way leaves only the temporary file.
 */
static int create_new(const char *path, struct store_key *out)
{
	char tmp[4096];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	randombytes_buf(out->bytes, STORE_KEY_BYTES);
	/* The umask can only narrow 0600; be explicit anyway so the mode never depends on it. */
	if (fchmod(fd, 0600) < 0) {
		r = -errno;
		goto out_unlink;
	}
	if ((r = write_full(fd, out->bytes, STORE_KEY_BYTES)) < 0)
		goto out_unlink;
	if (fsync(fd) < 0) {
		r = -errno;
		goto out_unlink;
	}
	r = link(tmp, path) < 0 ? -errno : 1;
	if (r > 0)
		fsync_dir_of(path);
out_unlink:
	close(fd);
	(void)unlink(tmp);
	if (r < 0)
		sodium_memzero(out, sizeof(*out));
	return r;
}

int store_key_load(const char *path, struct store_key *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (sodium_init() < 0)
		return -ERR_INTERNAL;
	r = load_existing(path, out);
	if (r != -ENOENT)
		return r;
	r = create_new(path, out);
	if (r == -EEXIST)
		return load_existing(path, out);
	return r;
}

int store_requester_hash(const struct store_key *k, const struct addr *a,
                         char out_hex[STORE_HASH_HEX])
{
	uint8_t in[sizeof(requester_tag) + 1 + 16];
	uint8_t h[STORE_HASH_BYTES];
	struct addr c;
	size_t len;
	int r;

	out_hex[0] = '\0';
	if ((r = canonical(a, &c)) < 0)
		return r;
	memcpy(in, requester_tag, sizeof(requester_tag)); /* with its NUL as a separator */
	len = sizeof(requester_tag);
	in[len++] = c.family == AF_INET ? 4 : 6;
	memcpy(in + len, c.bytes, c.family == AF_INET ? 4 : 16);
	len += c.family == AF_INET ? 4 : 16;
	crypto_generichash(h, sizeof(h), in, len, k->bytes, STORE_KEY_BYTES);
	sodium_bin2hex(out_hex, STORE_HASH_HEX, h, sizeof(h));
	return 0;
}

int store_prefix(const struct addr *a, char *out, size_t n)
{
	struct cidr c = {0};
	int r;

	if (n > 0)
		out[0] = '\0';
	if ((r = canonical(a, &c.base)) < 0)
		return r;
	if (c.base.family == AF_INET) {
		c.prefix = 24;
		memset(c.base.bytes + 3, 0, 13);
	} else {
		c.prefix = 48;
		memset(c.base.bytes + 6, 0, 10);
	}
	r = cidr_format(&c, out, n);
	if (r < 0 && n > 0)
		out[0] = '\0';
	return r;
}

int store_random_id(char out[STORE_ID_LEN + 1])
{
	uint8_t b[STORE_ID_BYTES];

	if (sodium_init() < 0)
		return -ERR_INTERNAL;
	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(out, STORE_ID_LEN + 1, b, sizeof(b));
	return 0;
}

int store_random_token(char out[STORE_TOKEN_LEN + 1])
{
	uint8_t b[STORE_TOKEN_BYTES];

	if (sodium_init() < 0)
		return -ERR_INTERNAL;
	randombytes_buf(b, sizeof(b));
	sodium_bin2base64(out, STORE_TOKEN_LEN + 1, b, sizeof(b),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(b, sizeof(b));
	return 0;
}

void store_token_hash(const char *token, uint8_t out[STORE_HASH_BYTES])
{
	crypto_generichash(out, STORE_HASH_BYTES, (const uint8_t *)token, strlen(token), NULL, 0);
}

int64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
