/* SPDX-License-Identifier: MIT */
/*
 * The store contract: what every backend must do through store.h, written once as cmocka cases
 * (store_contract.c) that test_store.c runs on SQLite and test_store_pg.c on PostgreSQL, each
 * case in a fresh store of its own. A backend's own cases (file modes and locks, migrations,
 * leases, takeovers, races) stay in its file; the rows and helpers here serve both.
 */
#ifndef EXPOSURE_TESTS_STORE_CONTRACT_H
#define EXPOSURE_TESTS_STORE_CONTRACT_H

#include "store_test_util.h"

#include <stdbool.h>

/*
 * What the backend's test file (one per executable) gives the contract cases: a fresh, empty
 * store for one case and its removal, where it is (a path or a URL for store_open), one integer
 * straight from the database and whether the database itself takes a statement (both on a
 * connection of their own, not the store's).
 */
int contract_setup(void **state);
int contract_teardown(void **state);
const char *contract_where(void **state);
long long contract_raw_int(void **state, const char *sql);
bool contract_raw_ok(void **state, const char *sql);

/*
 * Run every contract case on the backend store_backend() names; groups: store_iter_groups
 * aggregates in the database (groups in no particular order, without ids), else it gives one
 * row per result in the iteration's order. Returns cmocka's count of failures.
 */
int store_contract_run(const char *backend, bool groups);

extern const struct store_key key1;

/* A result of four ports (ssh open with free text as its service, smb open, skysea closed and
 * filtered with no rtt), its three checks as folded, and two findings. */
extern const struct store_check_row rows_a[4];
extern const struct store_check_state states_a[3];
extern const struct store_finding_row finds_a[2];

/* Save the result of id: the first nc rows of rows_a, the first nf findings of finds_a. */
void save(struct store *st, const char *id, int64_t fin, const char *risk, const char *json,
          size_t nc, size_t nf, unsigned families);

/* What store_iter_results / store_iter_groups gave, row by row (8 at most). */
struct collected {
	int rows;
	char ids[8][STORE_ID_LEN + 1];
	size_t n_checks[8], n_findings[8];
	struct store_iter_check checks[8][4];
	struct store_iter_finding findings[8][2];
	char hash[8][STORE_HASH_HEX];
	char prefix[8][STORE_PREFIX_MAX];
	char risk[8][STORE_NAME_MAX];
	char summary[8][160]; /* "check=state,...check/id/severity/confidence;..." */
	unsigned families[8];
	int64_t created[8];
	uint64_t count[8];
	enum store_connection conn[8];
	int stop_after; /* stop the walk (42) after this many rows */
};

int collect_cb(void *ud, const struct store_iter_row *row);

/* Each row's answer, class and families as the report iterator sees them. */
struct answers {
	int rows;
	char ids[4][STORE_ID_LEN + 1];
	enum store_connection conn[4];
	enum store_device dev[4];
	unsigned fams[4];
};

int answers_cb(void *ud, const struct store_iter_row *row);

#endif
