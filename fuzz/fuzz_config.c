/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the config file of `exposure check` (config_read, the loop of config_load, read
 * from memory).
 * Asserts: 0, or an error with a one-line message naming the file; a timeout read is within
 * 1..CLI_TIMEOUT_MAX_MS; at most POLICY_MAX_ALLOW blocks; the same text read again into a fresh
 * config gives the same config and message.
 */
#include "cli/cli.h"

#include "fuzz.h"

#include <stdio.h>

static int read_buf(const uint8_t *data, size_t size, struct check_config *cfg, char *err,
                    size_t errlen)
{
	static const char empty[1];
	FILE *f = fmemopen(size ? (void *)data : (void *)empty, size ? size : 1, "r");
	int r;

	CHECK(f != NULL);
	if (!size)
		(void)fgetc(f); /* an empty file: nothing left to read */
	memset(cfg, 0, sizeof(*cfg));
	policy_init(&cfg->policy);
	err[0] = '\0';
	r = config_read(cfg, f, "fuzz.conf", err, errlen);
	fclose(f);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct check_config a, b;
	char err[CLI_ERR_MAX], err2[CLI_ERR_MAX];
	int r = read_buf(data, size, &a, err, sizeof(err));

	CHECK(read_buf(data, size, &b, err2, sizeof(err2)) == r && strcmp(err, err2) == 0);
	/* Field by field: struct copies may leave padding bytes that differ. */
	CHECK(a.timeout_ms == b.timeout_ms && a.policy.n_allow == b.policy.n_allow);
	for (size_t i = 0; i < a.policy.n_allow && i < POLICY_MAX_ALLOW; i++)
		CHECK(addr_equal(&a.policy.allow[i].base, &b.policy.allow[i].base) &&
		      a.policy.allow[i].prefix == b.policy.allow[i].prefix);
	CHECK(memcmp(a.ports.set, b.ports.set, sizeof(a.ports.set)) == 0);
	if (r < 0) {
		fuzz_message(err, sizeof(err));
		CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
		return 0;
	}
	CHECK(r == 0 && err[0] == '\0');
	CHECK(a.timeout_ms <= CLI_TIMEOUT_MAX_MS);
	CHECK(a.policy.n_allow <= POLICY_MAX_ALLOW);
	return 0;
}
