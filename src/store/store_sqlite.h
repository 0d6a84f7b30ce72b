/* SPDX-License-Identifier: MIT */
/* Internal to the SQLite backend: its migration table (store_sqlite_schema.c). */
#ifndef EXPOSURE_STORE_STORE_SQLITE_H
#define EXPOSURE_STORE_STORE_SQLITE_H

#include "store/store_impl.h"

/* Entry i upgrades user_version i to i + 1; store_sqlite_n_migrations == STORE_SCHEMA_VERSION. */
extern const char *const store_sqlite_migrations[];
extern const unsigned store_sqlite_n_migrations;

#endif
