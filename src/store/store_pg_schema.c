/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL schema migrations, in order: entry i takes the database from version i to i + 1
 * (exposure_schema.version; 0 = no such table). Applied in one transaction under an advisory
 * lock (store_pg.c), so two nodes starting together migrate once. Never edit a released
 * entry; append a new one and raise STORE_PG_SCHEMA_VERSION (store_pg.h). The tables mirror
 * SQLite's schema 3 (store_sqlite_schema.c, docs/internals/STORE.md) column for column, so
 * `exposure store copy` and `exposure report` see the same rows on both.
 */
#include "store/store_pg.h"

const char *const store_pg_migrations[] = {
    /* 1: the schema of SQLite version 3 in PostgreSQL types. */
    "CREATE TABLE exposure_schema (version integer NOT NULL);"
    "INSERT INTO exposure_schema (version) VALUES (0);"
    "CREATE TABLE diagnoses ("
    "  n bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  id text NOT NULL UNIQUE CHECK (length(id) = 32),"
    "  token_hash bytea NOT NULL CHECK (length(token_hash) = 32),"
    "  status text NOT NULL"
    "    CHECK (status IN ('queued', 'running', 'done', 'interrupted')),"
    "  created_ms bigint NOT NULL,"
    "  started_ms bigint,"
    "  finished_ms bigint,"
    "  requester_hash bytea NOT NULL CHECK (length(requester_hash) = 32),"
    "  requester_prefix text NOT NULL,"
    "  family smallint NOT NULL CHECK (family IN (4, 6)),"
    "  lang text NOT NULL,"
    "  risk text,"
    "  checks_summary text,"
    "  findings_summary text,"
    "  connection text"
    "    CHECK (connection IN ('sim', 'usb-modem', 'tethering', 'router', 'wired', 'unknown')),"
    "  device text CHECK (device IN ('desktop', 'tablet', 'phone', 'other')),"
    "  families smallint CHECK (families IN (4, 6, 46))"
    ");"
    /* Report periods in (created_ms, n) order, retention purge. */
    "CREATE INDEX diagnoses_created ON diagnoses (created_ms, n);"
    "CREATE INDEX diagnoses_requester ON diagnoses (requester_hash, created_ms);"
    "CREATE INDEX diagnoses_inflight ON diagnoses (status)"
    "  WHERE status IN ('queued', 'running');"
    "CREATE TABLE documents ("
    "  diag bigint PRIMARY KEY REFERENCES diagnoses (n) ON DELETE CASCADE,"
    "  json text NOT NULL"
    ");"
    "CREATE TABLE check_results ("
    "  diag bigint NOT NULL REFERENCES diagnoses (n) ON DELETE CASCADE,"
    "  check_name text NOT NULL,"
    "  port integer NOT NULL CHECK (port BETWEEN 0 AND 65535),"
    "  state text NOT NULL,"
    "  reason text,"
    "  rtt_ms double precision,"
    "  service text,"
    "  PRIMARY KEY (diag, check_name, port)"
    ");"
    "CREATE TABLE findings ("
    "  diag bigint NOT NULL REFERENCES diagnoses (n) ON DELETE CASCADE,"
    "  seq integer NOT NULL,"
    "  check_name text NOT NULL,"
    "  finding text NOT NULL,"
    "  severity text NOT NULL,"
    "  confidence text NOT NULL,"
    "  PRIMARY KEY (diag, seq)"
    ");",
    /*
     * 2: several service nodes (issue 14 §2). Each node has a row it refreshes (its lease);
     * a diagnosis names the node running it, so another node can mark it interrupted when
     * that lease runs out. One active diagnosis per requester across all nodes: a unique
     * partial index (a crash of a version-1 service may have left two: all but the newest are
     * interrupted first). The key fingerprint every node must match.
     */
    "CREATE TABLE nodes ("
    "  node text PRIMARY KEY,"
    "  started_ms bigint NOT NULL,"
    "  seen_ms bigint NOT NULL"
    ");"
    "ALTER TABLE diagnoses ADD COLUMN node text;"
    "UPDATE diagnoses SET status = 'interrupted',"
    "  finished_ms = (extract(epoch FROM clock_timestamp()) * 1000)::bigint"
    "  WHERE status IN ('queued', 'running') AND n NOT IN (SELECT max(n) FROM diagnoses"
    "  WHERE status IN ('queued', 'running') GROUP BY requester_hash);"
    "CREATE UNIQUE INDEX diagnoses_one_active ON diagnoses (requester_hash)"
    "  WHERE status IN ('queued', 'running');"
    "CREATE TABLE exposure_keys ("
    "  name text PRIMARY KEY,"
    "  fingerprint bytea NOT NULL"
    ");",
    /* 3: sweeps (issue 13, /work/brief/sweep-store.md), as SQLite's version 4: one row per
     * `exposure sweep`; its hosts are diagnoses naming it, with the host's address (the
     * operator's own hosts; a visitor's address is never stored: both NULL on every other
     * row, so the service's reports, which read sweep IS NULL, never see a sweep). */
    "CREATE TABLE sweeps ("
    "  id text PRIMARY KEY CHECK (length(id) = 32),"
    "  started_ms bigint NOT NULL,"
    "  finished_ms bigint,"
    "  targets text NOT NULL,"
    "  ports text NOT NULL,"
    "  sent bigint,"
    "  open_ports bigint,"
    "  hosts bigint"
    ");"
    "ALTER TABLE diagnoses ADD COLUMN sweep text CHECK (sweep IS NULL OR length(sweep) = 32);"
    "ALTER TABLE diagnoses ADD COLUMN address text CHECK ((address IS NULL) = (sweep IS NULL));"
    "CREATE INDEX diagnoses_sweep ON diagnoses (sweep, created_ms) WHERE sweep IS NOT NULL;"
    /* One active diagnosis per requester is the service's rule: a sweep's host (its
     * "requester hash" the address's, the same in every sweep) may be in two sweeps at once. */
    "DROP INDEX diagnoses_one_active;"
    "CREATE UNIQUE INDEX diagnoses_one_active ON diagnoses (requester_hash)"
    "  WHERE status IN ('queued', 'running') AND sweep IS NULL;",
    /* 4: takeover (issue 14 §2): what another node needs to run a diagnosis again when its
     * node dies, sealed with a key derived from the nodes' shared key file (src/web/resume.c)
     * and cleared when the diagnosis ends; how many times it was taken over (once at most). */
    "ALTER TABLE diagnoses ADD COLUMN resume bytea"
    "  CHECK (resume IS NULL OR length(resume) <= 256);"
    "ALTER TABLE diagnoses ADD COLUMN takeovers smallint NOT NULL DEFAULT 0;",
    /* 5: live rows (issue 14 §2): each check of a diagnosis in flight as it finished, for
     * the streams on other nodes; deleted when the diagnosis ends (its result has them). */
    "CREATE TABLE live_checks ("
    "  diag bigint NOT NULL REFERENCES diagnoses (n) ON DELETE CASCADE,"
    "  seq integer NOT NULL CHECK (seq >= 0),"
    "  idx integer NOT NULL CHECK (idx >= 0),"
    "  json text NOT NULL,"
    "  PRIMARY KEY (diag, seq)"
    ");",
    /*
     * 6: a sweep across machines (issue 14 §3). A sweep defined with N shards keeps the
     * options every worker runs (spec) and one row per shard, claimed by one worker at a time
     * under a lease (FOR UPDATE SKIP LOCKED, store_pg.c); every run of a shard is kept
     * (sweep_shard_runs), so that "never two live workers on one shard" can be checked. A host
     * is kept once per sweep (two shards may find the same host on two ports, a shard may run
     * twice): a unique index over (sweep, address); an older database's duplicates, which no
     * sweep of that version could write, are reduced to their best row first (done, newest).
     */
    "ALTER TABLE sweeps ADD COLUMN shards integer CHECK (shards BETWEEN 1 AND 65536);"
    "ALTER TABLE sweeps ADD COLUMN spec text CHECK ((spec IS NULL) = (shards IS NULL));"
    "CREATE TABLE sweep_shards ("
    "  sweep text NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,"
    "  shard integer NOT NULL CHECK (shard >= 0),"
    "  state text NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'running', 'done')),"
    "  worker text,"
    "  lease_until_ms bigint,"
    "  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),"
    "  finished_ms bigint,"
    "  sent bigint,"
    "  open_ports bigint,"
    "  hosts bigint,"
    "  PRIMARY KEY (sweep, shard),"
    "  CHECK (state <> 'running' OR (worker IS NOT NULL AND lease_until_ms IS NOT NULL))"
    ");"
    "CREATE INDEX sweep_shards_left ON sweep_shards (sweep, shard) WHERE state <> 'done';"
    "CREATE TABLE sweep_shard_runs ("
    "  sweep text NOT NULL,"
    "  shard integer NOT NULL,"
    "  attempt integer NOT NULL,"
    "  worker text NOT NULL,"
    "  started_ms bigint NOT NULL,"
    "  lease_until_ms bigint NOT NULL,"
    "  ended_ms bigint,"
    "  PRIMARY KEY (sweep, shard, attempt),"
    "  FOREIGN KEY (sweep, shard) REFERENCES sweep_shards ON DELETE CASCADE"
    ");"
    "DELETE FROM diagnoses d WHERE d.sweep IS NOT NULL AND EXISTS (SELECT 1 FROM diagnoses e"
    "  WHERE e.sweep = d.sweep AND e.address = d.address"
    "  AND (e.status = 'done', e.n) > (d.status = 'done', d.n));"
    "CREATE UNIQUE INDEX diagnoses_sweep_host ON diagnoses (sweep, address)"
    "  WHERE sweep IS NOT NULL;",
    /*
     * 7: no foreign keys from a diagnosis's child rows (issue 14): their checks, one trigger
     * per child row (~23 a result) and the cascades, were 8-10% of the server's CPU per
     * diagnosis. Every statement that deletes diagnoses deletes their children itself
     * (store_pg.c, STORE.md); each child's primary key begins with diag, the index those
     * deletes use. Dropped by what they are, not by name: whatever a database's constraints
     * are called, every foreign key from these four tables to diagnoses goes. The sweep
     * shards' keep theirs (not written per diagnosis).
     */
    "DO $$ DECLARE k record; BEGIN"
    " FOR k IN SELECT conrelid::regclass AS t, conname FROM pg_constraint"
    "  WHERE contype = 'f' AND confrelid = 'diagnoses'::regclass AND conrelid IN"
    "  ('documents'::regclass, 'check_results'::regclass, 'findings'::regclass,"
    "  'live_checks'::regclass) LOOP"
    "  EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', k.t, k.conname);"
    " END LOOP; END $$;",
};

const unsigned store_pg_n_migrations = sizeof(store_pg_migrations) / sizeof(store_pg_migrations[0]);

_Static_assert(sizeof(store_pg_migrations) / sizeof(store_pg_migrations[0]) ==
                   STORE_PG_SCHEMA_VERSION,
               "one migration per schema version");
