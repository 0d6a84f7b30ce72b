/* SPDX-License-Identifier: MIT */
/*
 * SQLite schema migrations, in order: entry i takes the database from user_version i to i + 1.
 * Never edit a released entry; append a new one and raise STORE_SCHEMA_VERSION (store.h).
 */
#include "store/store_sqlite.h"

const char *const store_sqlite_migrations[] = {
    /* 1: initial schema. */
    "CREATE TABLE diagnoses ("
    "  n INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE CHECK (length(id) = 32),"
    "  token_hash BLOB NOT NULL CHECK (length(token_hash) = 32),"
    "  status TEXT NOT NULL"
    "    CHECK (status IN ('queued', 'running', 'done', 'interrupted')),"
    "  created_ms INTEGER NOT NULL,"
    "  started_ms INTEGER,"
    "  finished_ms INTEGER,"
    "  requester_hash BLOB NOT NULL CHECK (length(requester_hash) = 32),"
    "  requester_prefix TEXT NOT NULL,"
    "  family INTEGER NOT NULL CHECK (family IN (4, 6)),"
    "  lang TEXT NOT NULL,"
    "  risk TEXT,"
    /* Per check, the aggregate state ("ssh=open,smb=closed") and the findings
     * ("smb/smb1-enabled/critical/likely,..."): what the report reads, without touching the
     * per-port rows or the document (store.c, store_summary_*). */
    "  checks_summary TEXT,"
    "  findings_summary TEXT"
    ");"
    /* Report periods, retention purge. */
    "CREATE INDEX diagnoses_created ON diagnoses (created_ms);"
    /* --per requester, one-at-a-time per requester. */
    "CREATE INDEX diagnoses_requester ON diagnoses (requester_hash, created_ms);"
    /* Restart marking and the in-flight count: a tiny partial index. */
    "CREATE INDEX diagnoses_inflight ON diagnoses (status)"
    "  WHERE status IN ('queued', 'running');"
    /* The result document apart, so that diagnoses rows stay small for the report scan. */
    "CREATE TABLE documents ("
    "  diag INTEGER PRIMARY KEY REFERENCES diagnoses (n) ON DELETE CASCADE,"
    "  json TEXT NOT NULL"
    ");"
    "CREATE TABLE check_results ("
    "  diag INTEGER NOT NULL REFERENCES diagnoses (n) ON DELETE CASCADE,"
    "  check_name TEXT NOT NULL,"
    "  port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),"
    "  state TEXT NOT NULL,"
    "  reason TEXT,"
    "  rtt_ms REAL,"
    "  service TEXT,"
    "  PRIMARY KEY (diag, check_name, port)"
    ") WITHOUT ROWID;"
    "CREATE TABLE findings ("
    "  diag INTEGER NOT NULL REFERENCES diagnoses (n) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  check_name TEXT NOT NULL,"
    "  finding TEXT NOT NULL,"
    "  severity TEXT NOT NULL,"
    "  confidence TEXT NOT NULL,"
    "  PRIMARY KEY (diag, seq)"
    ") WITHOUT ROWID;",
    /* 2: the visitor's connection answer and the device class (issue 10 §3). Columns of the
     * diagnosis row, so deleting the result deletes them. NULL: no answer / not recorded
     * (every row before this version). */
    "ALTER TABLE diagnoses ADD COLUMN connection TEXT"
    "  CHECK (connection IN ('sim', 'usb-modem', 'tethering', 'router', 'wired', 'unknown'));"
    "ALTER TABLE diagnoses ADD COLUMN device TEXT"
    "  CHECK (device IN ('desktop', 'tablet', 'phone', 'other'));",
    /* 3: the address families a visit diagnosed (issue 10 §1): 4, 6 or 46 (both). NULL: the
     * requester's family alone (every row before this version, and a result saved without). */
    "ALTER TABLE diagnoses ADD COLUMN families INTEGER CHECK (families IN (4, 6, 46));",
    /* 4: sweeps (issue 13, /work/brief/sweep-store.md): one row per `exposure sweep`; its
     * hosts are diagnoses naming it, with the host's address (the operator's own hosts; a
     * visitor's address is never stored: both NULL on every other row). */
    "CREATE TABLE sweeps ("
    "  id TEXT PRIMARY KEY CHECK (length(id) = 32),"
    "  started_ms INTEGER NOT NULL,"
    "  finished_ms INTEGER,"
    "  targets TEXT NOT NULL,"
    "  ports TEXT NOT NULL,"
    "  sent INTEGER,"
    "  open_ports INTEGER,"
    "  hosts INTEGER"
    ");"
    "ALTER TABLE diagnoses ADD COLUMN sweep TEXT CHECK (sweep IS NULL OR length(sweep) = 32);"
    "ALTER TABLE diagnoses ADD COLUMN address TEXT CHECK ((address IS NULL) = (sweep IS NULL));"
    "CREATE INDEX diagnoses_sweep ON diagnoses (sweep, created_ms) WHERE sweep IS NOT NULL;",
};

const unsigned store_sqlite_n_migrations =
    sizeof(store_sqlite_migrations) / sizeof(store_sqlite_migrations[0]);

_Static_assert(sizeof(store_sqlite_migrations) / sizeof(store_sqlite_migrations[0]) ==
                   STORE_SCHEMA_VERSION,
               "one migration per schema version");
