#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 14's report benchmark, by hand (bench/RESULTS.md "Issue 14"): a PostgreSQL store of
# 1,000,000 results (report-gen-store 2,000, `exposure store copy` into PostgreSQL, then 499
# shifted copies by INSERT ... SELECT, the first two bytes of each copy's requester hash from
# k % 64: 97,500 requesters), its copy into SQLite, then `exposure report --per requester` of
# BEFORE, AFTER (PostgreSQL) and AFTER (SQLite) in three interleaved rounds, outputs compared.
#
#   bench/bench_report_pg.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR   # meson build dirs, release
#
# Root, a quiet machine (flock /work/brief/bench.lock ...); starts its own PostgreSQL 15
# (tests/lab/pg.sh run), about a minute to build the store.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${EXPOSURE_PG_URL:-}" ]; then
	exec "$here/../tests/lab/pg.sh" run -- "$0" "$@"
fi
BEFORE=$(cd "$1" && pwd)
AFTER=$(cd "$2" && pwd)
T=/tmp/perreq-bench; rm -rf $T; mkdir -p $T; chmod 777 $T
DB="${EXPOSURE_PG_URL%/exposure}/r1m"
psql -q -c "CREATE DATABASE r1m"
/usr/bin/time -f "gen 2000: %e s" $AFTER/tests/unit/report/report-gen-store $T/gen.db 2000 60000
$AFTER/src/cli/exposure store copy $T/gen.db "$DB"
/usr/bin/time -f "copies: %e s" psql -q -d r1m -c "INSERT INTO diagnoses (id, token_hash, status,
 created_ms, started_ms, finished_ms, requester_hash, requester_prefix, family, lang, risk,
 checks_summary, findings_summary, connection, device, families)
 SELECT md5(id || k), token_hash, status, created_ms + k::bigint * 120000000, started_ms + k::bigint * 120000000,
 finished_ms + k::bigint * 120000000, overlay(requester_hash placing int2send((k % 64)::int2) from 1),
 requester_prefix, family, lang, risk, checks_summary, findings_summary, connection, device,
 families FROM diagnoses, generate_series(1, 499) k WHERE status = 'done'"
psql -q -d r1m -c "VACUUM ANALYZE"
psql -d r1m -Atc "SELECT count(*), count(DISTINCT substring(requester_hash FOR 16)) FROM diagnoses WHERE status = 'done'"
/usr/bin/time -f "store copy to SQLite: %e s" $AFTER/src/cli/exposure store copy "$DB" "sqlite:$T/r1m.db"
sqlite3 $T/r1m.db "SELECT count(*) FROM diagnoses"
m() { # name binary store
	/usr/bin/time -f "$1 %e s %M KB" "$2" report --store "$3" --per requester >"$T/out-$1" 2>>"$T/times"
	tail -1 "$T/times"
}
echo "load before: $(cat /proc/loadavg)"
m w-before $BEFORE/src/cli/exposure "$DB"; m w-after $AFTER/src/cli/exposure "$DB"; m w-sqlite $AFTER/src/cli/exposure "$T/r1m.db"
for r in 1 2 3; do
	m before$r $BEFORE/src/cli/exposure "$DB"
	m after$r $AFTER/src/cli/exposure "$DB"
	m sqlite$r $AFTER/src/cli/exposure "$T/r1m.db"
	cmp "$T/out-before$r" "$T/out-sqlite$r" && cmp "$T/out-after$r" "$T/out-sqlite$r" && echo "round $r: same bytes"
done
echo "load after: $(cat /proc/loadavg)"
m table-after $AFTER/src/cli/exposure "$DB" || true
psql -d r1m -c "SET jit = off; SET work_mem = '64MB'; EXPLAIN ANALYZE SELECT count(*), '', risk, checks_summary, findings_summary, connection, device, coalesce(families, family) FROM diagnoses WHERE n IN (SELECT (max(ARRAY[created_ms, n]))[2] FROM diagnoses WHERE substring(requester_hash FOR 16) <> decode(repeat('00', 16), 'hex') AND status = 'done' AND created_ms >= 0 AND created_ms < 9223372036854775807 AND sweep IS NULL GROUP BY substring(requester_hash FOR 16)) GROUP BY 2,3,4,5,6,7,8 ORDER BY min(created_ms), min(n)" | grep -E "Execution|Aggregate|Loop"
head -5 $T/out-after1
