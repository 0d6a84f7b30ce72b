/* SPDX-License-Identifier: MIT */
/* Shared helpers for the store tests: a scratch directory and diagnosis builders. */
#ifndef EXPOSURE_TESTS_STORE_UTIL_H
#define EXPOSURE_TESTS_STORE_UTIL_H

#include "store/store.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct scratch {
	char dir[64];
	char db[128];
	char key[128];
};

static inline int scratch_make(struct scratch *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/exposure-store-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->db, sizeof(s->db), "%s/store.db", s->dir);
	snprintf(s->key, sizeof(s->key), "%s/requester.key", s->dir);
	return 0;
}

static inline void scratch_remove(struct scratch *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	char p[400];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", s->dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(s->dir);
}

/* One new diagnosis with its own id and token, for requester text (an address literal). */
struct new_diag {
	char id[STORE_ID_LEN + 1];
	char token[STORE_TOKEN_LEN + 1];
	uint8_t token_hash[STORE_HASH_BYTES];
	char rhash[STORE_HASH_HEX];
	char prefix[STORE_PREFIX_MAX];
	struct store_new nd;
};

static inline int new_diag_make(struct new_diag *n, const struct store_key *k, const char *addr,
                                int64_t created_ms)
{
	struct addr a;

	if (addr_parse(addr, &a) < 0 || store_random_id(n->id) < 0 ||
	    store_random_token(n->token) < 0 || store_requester_hash(k, &a, n->rhash) < 0 ||
	    store_prefix(&a, n->prefix, sizeof(n->prefix)) < 0)
		return -1;
	store_token_hash(n->token, n->token_hash);
	n->nd = (struct store_new){
	    .id = n->id,
	    .token_hash = n->token_hash,
	    .requester_hash = n->rhash,
	    .prefix = n->prefix,
	    .family = a.family,
	    .lang = "ja",
	    .created_ms = created_ms,
	};
	return 0;
}

#endif
