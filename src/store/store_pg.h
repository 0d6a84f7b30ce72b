/* SPDX-License-Identifier: MIT */
/* Internal to the PostgreSQL backend: its migration table (store_pg_schema.c). */
#ifndef EXPOSURE_STORE_STORE_PG_H
#define EXPOSURE_STORE_STORE_PG_H

#include "store/store_impl.h"

/* The newest PostgreSQL schema this code knows (table exposure_schema, one row). */
#define STORE_PG_SCHEMA_VERSION 7

/* Entry i upgrades version i to i + 1; store_pg_n_migrations == STORE_PG_SCHEMA_VERSION. */
extern const char *const store_pg_migrations[];
extern const unsigned store_pg_n_migrations;

#endif
