#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 14's benchmarks, by hand (bench/RESULTS.md "Issue 14"): completed diagnoses per second of
# one node on SQLite, one and two nodes on PostgreSQL, and the store's writes per second, for a
# NEW and an OLD build side by side in interleaved rounds.
#
#   bench/bench_pg_nodes.sh throughput NEW_DIR [OLD_DIR]   # REQ=200 ROUNDS=3 by default
#   bench/bench_pg_nodes.sh writes NEW_DIR [OLD_DIR]       # ROUNDS=2
#
# A DIR holds a release build's exposure, exposure-prober, exposure-store-pg.so, exposure-tls.so
# (and test_store_perf for writes); bench_web.py is taken from this tree. Run as root on a quiet
# machine (flock /work/brief/bench.lock ...): it starts its own PostgreSQL 15 with fsync on
# (tests/lab/pg.sh run --fsync) on loopback, a fresh database per run, and prints the server's
# CPU and transactions next to each run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${EXPOSURE_PG_URL:-}" ]; then
	exec "$here/../tests/lab/pg.sh" run --fsync -- "$0" "$@"
fi
mode=$1 new=$2 old=${3:-}

# CPU seconds the private cluster has used so far (postmaster, its children, reaped children).
pg_cpu() {
	python3 - "$(head -1 "$EXPOSURE_PG_DIR/data/postmaster.pid")" <<'PY'
import os, sys
pm = int(sys.argv[1])
def st(p):
    f = open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()
    return [int(x) for x in f[11:15]]
tot = sum(st(pm))
for c in open("/proc/%d/task/%d/children" % (pm, pm)).read().split():
    try:
        tot += sum(st(int(c))[:2])
    except OSError:
        pass
print("%.2f" % (tot / os.sysconf("SC_CLK_TCK")))
PY
}

fresh_db() {
	local db=b$RANDOM$RANDOM
	psql -q -c "CREATE DATABASE $db"
	echo "${EXPOSURE_PG_URL%/*}/$db"
}

web() { # label dir [store nodes]
	local c0 url
	echo "== round $r $1 ($2); $(uptime)"
	if [ -z "${3:-}" ]; then
		timeout 120 python3 "$here/bench_web.py" throughput --exe "$2/exposure" \
			--requesters "${REQ:-200}" --procs 4 --total 3000 --seconds 20 |
			grep -E "completed|POST|server CPU|errors"
		return
	fi
	url=$(fresh_db)
	c0=$(pg_cpu)
	timeout 120 python3 "$here/bench_web.py" throughput --exe "$2/exposure" \
		--requesters "${REQ:-200}" --procs 4 --total 3000 --seconds 20 --store "$url" \
		--nodes "$4" | grep -E "completed|POST|server CPU|errors|per-node"
	echo "postgres CPU $(echo "$(pg_cpu) - $c0" | bc) s; transactions" \
		"$(psql -At -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '${url##*/}'")"
}

writes() { # dir
	echo "== round $r sqlite ($1); $(uptime)"
	STORE_PERF_N=20000 "$1/test_store_perf" 2>&1 | grep store_perf:
	echo "== round $r postgresql ($1); $(uptime)"
	STORE_PERF_DB=$(fresh_db) STORE_PERF_N=20000 "$1/test_store_perf" 2>&1 | grep store_perf:
}

for r in $(seq 1 "${ROUNDS:-$([ "$mode" = writes ] && echo 2 || echo 3)}"); do
	for d in "$new" $old; do
		case $mode in
		throughput)
			web "sqlite, 1 node" "$d"
			web "postgresql, 1 node" "$d" pg 1
			[ "$d" = "$new" ] && web "postgresql, 2 nodes" "$d" pg 2
			;;
		writes) writes "$d" ;;
		*) echo "usage: $0 throughput|writes NEW_DIR [OLD_DIR]" >&2; exit 2 ;;
		esac
	done
done
