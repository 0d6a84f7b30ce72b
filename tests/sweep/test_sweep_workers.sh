#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# A sweep across machines (issue 14 §3) in the sweep lab (sweeplab.sh), on a real PostgreSQL
# (run through tests/lab/pg.sh: EXPOSURE_PG_DIR, PGPORT): a /22 with a known pattern of open
# ports behind real listeners (OpenSSH on 22, the lab listener on 445). The sweep is defined in
# 4 shards (its targets and --exclude given as files, gone before the workers start); two
# workers run it; one is killed with SIGKILL in the middle of its first shard, once its run
# stored some hosts (its run dies with it), the other takes that shard over once the 2 s lease
# ran out and diagnoses none of the hosts already stored (its summary counts them as already
# in the sweep; the same for a run that failed and was handed back, a 1-shard sweep). Asserted:
# the union of the shards' hosts, open doors and findings equals a single-machine
# `exposure sweep` of the same range (same seed) into SQLite, row for row and in
# `exposure report --sweep --format json`; one row per host; every run of a shard began only
# after the run before it ended or its lease ran out (never two live runs of one shard);
# a worker whose policy refuses the range hands its shard back; --worker and --define on
# SQLite refused with a message; --worker --sweep of a sweep without shards or of an unknown
# id exits 2; a shard whose run failed 3 times is not claimed again, the workers end naming it
# (exit 2), the sweep's row does not end and its report says it is incomplete.
# Usage: test_sweep_workers.sh EXPOSURE_BINARY. Exit 77 without root, sshd or PostgreSQL.
set -u
EXPOSURE=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
export LAB_PREFIX=xpwk$$
# shellcheck source=sweeplab.sh
. "$HERE/sweeplab.sh"
lab_require_root
command -v /usr/sbin/sshd >/dev/null 2>&1 || { echo "no sshd; skipping"; exit 77; }
[ -n "${EXPOSURE_PG_DIR:-}" ] || { echo "run through tests/lab/pg.sh run; skipping"; exit 77; }

BLOCK=198.18.32.0/22
# The workers run in the scanner's namespace: they reach PostgreSQL by its Unix socket.
PG="postgresql:///exposure?host=$EXPOSURE_PG_DIR/sock&port=$PGPORT&user=exposure"
WORK=$(mktemp -d)
fails=0
A=
cleanup()
{
	[ -n "$A" ] && kill -9 "$A" 2>/dev/null
	lab_down
	rm -rf -- "$WORK"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
q() { psql -X -q -A -t -c "$1"; }

sweeplab_up "$BLOCK" || { echo "lab did not come up"; exit 1; }
sweeplab_servers || exit 1
python3 - "$WORK" <<'PY'
import random, sys
w = sys.argv[1]
rnd = random.Random(14)
addrs = ["198.18.%d.%d" % (32 + i // 256, i % 256) for i in range(1024)]
hosts = rnd.sample(addrs, 30)
pairs = []
for k, a in enumerate(hosts):
    if k < 24:  # 24 hosts with open ports, 6 answering RST only
        pairs += [(a, p) for p in rnd.choice([[22], [445], [22, 445]])]
open(w + "/truth", "w").write("".join("%s %d\n" % x for x in sorted(pairs)))
open(w + "/responders", "w").write("\n".join(hosts) + "\n")
PY
sweeplab_load "$WORK/truth" "$WORK/responders" || exit 1
# The targets and one excluded host (with open ports) given as files: the definition inlines
# them, and they are gone before any worker runs (the other machines never had them).
EX=$(awk 'NR == 2 { print $1 }' "$WORK/truth")
printf '# the range\n%s\n' "$BLOCK" >"$WORK/targets"
printf '%s  # one host\n' "$EX" >"$WORK/exclude"
nhosts=$(awk -v x="$EX" '$1 != x { print $1 }' "$WORK/truth" | sort -u | wc -l)
npairs=$(awk -v x="$EX" '$1 != x' "$WORK/truth" | wc -l)

# The same sweep everywhere: one seed, ports, checks, rate (4 shards of 512 probes: ~2 s each).
OPTS=(--allow "$BLOCK" --ports 22,445 --checks ssh --seed 1414 --rate 2000 --retries 1
	--wait 300 --no-progress)

# 1. Not on SQLite: one machine needs no workers.
"$EXPOSURE" sweep --store "$WORK/no.db" --worker >/dev/null 2>"$WORK/sq1.err"
rc1=$?
"$EXPOSURE" sweep --store "$WORK/no.db" --define --shards 2 "${OPTS[@]}" "$BLOCK" >/dev/null \
	2>"$WORK/sq2.err"
rc2=$?
if [ $rc1 = 2 ] && [ $rc2 = 2 ] && grep -q 'needs a PostgreSQL store' "$WORK/sq1.err" &&
	grep -q 'needs a PostgreSQL store' "$WORK/sq2.err"; then
	ok "--worker and --define on SQLite refused: $(cat "$WORK/sq1.err")"
else
	bad "SQLite: rc $rc1/$rc2: $(cat "$WORK/sq1.err" "$WORK/sq2.err")"
fi

# 1b. A worker this machine's policy does not allow the range: refused before any packet, the
# shard handed back at once (pending, its run ended), not left to its lease.
ID1=$("$EXPOSURE" sweep --store "$PG" --define --shards 1 "${OPTS[@]}" "$BLOCK" 2>/dev/null)
lab_scan "$EXPOSURE" sweep --store "$PG" --worker --sweep "$ID1" --allow 198.18.32.0/24 \
	--no-progress >/dev/null 2>"$WORK/c.err"
rc=$?
if [ $rc = 2 ] && grep -q 'refused' "$WORK/c.err" &&
	[ "$(q "SELECT state, attempts FROM sweep_shards WHERE sweep = '$ID1'")" = "pending|1" ] &&
	[ "$(q "SELECT count(*) FROM sweep_shard_runs WHERE sweep = '$ID1' AND ended_ms IS NOT NULL")" = 1 ]; then
	ok "a worker not allowed the range: exit 2, its shard pending again at once"
else
	bad "not allowed: rc $rc, $(q "SELECT state, attempts FROM sweep_shards WHERE sweep = '$ID1'"): $(cat "$WORK/c.err")"
fi

# 1c. Sweeps no worker can run: one never defined in shards (a one-machine sweep into the same
# store, one quiet address) and an id not in the store: exit 2 saying which, nothing claimed.
lab_scan "$EXPOSURE" sweep --store "$PG" --allow "$BLOCK" --ports 22 --checks ssh --wait 100 \
	--no-progress 198.18.35.254 >/dev/null 2>"$WORK/one.err"
ID0=$(awk '/^exposure sweep: sweep / { print $4 }' "$WORK/one.err")
"$EXPOSURE" sweep --store "$PG" --worker --sweep "$ID0" --allow "$BLOCK" --no-progress \
	>/dev/null 2>"$WORK/w0.err"
rc0=$?
"$EXPOSURE" sweep --store "$PG" --worker --sweep ffffffffffffffffffffffffffffffff \
	--allow "$BLOCK" --no-progress >/dev/null 2>"$WORK/wx.err"
rcx=$?
if [ ${#ID0} = 32 ] && [ $rc0 = 2 ] && grep -q "sweep $ID0 has no shards" "$WORK/w0.err" &&
	[ $rcx = 2 ] && grep -q 'sweep ffffffffffffffffffffffffffffffff: not in the store' \
	"$WORK/wx.err" && [ "$(q "SELECT count(*) FROM sweep_shards WHERE sweep = '$ID0'")" = 0 ]; then
	ok "--worker --sweep of a sweep without shards, of an unknown id: exit 2: $(cat "$WORK/w0.err")"
else
	bad "no shards: [$ID0] rc $rc0, unknown: rc $rcx: $(cat "$WORK/one.err" "$WORK/w0.err" "$WORK/wx.err")"
fi

# 1d. A shard that fails on every worker: handed back 3 times (STORE_SHARD_FAILED_RUNS), never
# claimed again. A 2-shard sweep of a /23; three workers whose --allow refuses it each take
# shard 0 (the first free one), fail and hand it back; a fourth, allowed the range, runs shard 1
# only, then ends naming shard 0/2 failed, exit 2. The sweep's row never ends and its report
# says it is incomplete, naming the shard.
ID3=$("$EXPOSURE" sweep --store "$PG" --define --shards 2 "${OPTS[@]}" 198.18.32.0/23 2>/dev/null)
frc=
for _ in 1 2 3; do
	lab_scan "$EXPOSURE" sweep --store "$PG" --worker --sweep "$ID3" --allow 198.18.32.0/24 \
		--no-progress >/dev/null 2>>"$WORK/f.err"
	frc="$frc$?"
done
lab_scan "$EXPOSURE" sweep --store "$PG" --worker --sweep "$ID3" --allow "$BLOCK" --no-progress \
	>/dev/null 2>"$WORK/g.err"
rcg=$?
runs3=$(q "SELECT shard, count(*), count(ended_ms) FROM sweep_shard_runs WHERE sweep = '$ID3'
	GROUP BY shard ORDER BY shard" | tr '\n' ' ')
if [ "$frc" = 222 ] && [ $rcg = 2 ] && [ "$runs3" = "0|3|3 1|1|1 " ] &&
	grep -q "sweep $ID3 shard 0/2 failed: its run failed 3 times" "$WORK/g.err" &&
	grep -q 'worker: 1 shard done, 1 failed: the sweep is incomplete' "$WORK/g.err" &&
	[ "$(q "SELECT state FROM sweep_shards WHERE sweep = '$ID3' ORDER BY shard" | tr '\n' ' ')" = "pending done " ] &&
	[ "$(q "SELECT finished_ms IS NULL FROM sweeps WHERE id = '$ID3'")" = t ]; then
	ok "a shard failed 3 times: not claimed again; the next worker ran shard 1, exit 2: $(grep failed "$WORK/g.err" | head -1)"
else
	bad "failed shard: refused workers [$frc], the next $rcg, runs [$runs3]: $(tail -4 "$WORK/f.err") $(cat "$WORK/g.err")"
fi
"$EXPOSURE" report --store "$PG" --sweep "$ID3" >"$WORK/f.report" 2>"$WORK/f.rerr"
rc=$?
if [ $rc = 0 ] && [ -s "$WORK/f.report" ] &&
	grep -q "sweep $ID3 is incomplete: 1 of its 2 shards failed (0/2), not run again" \
	"$WORK/f.rerr"; then
	ok "report --sweep of it: $(cat "$WORK/f.rerr")"
else
	bad "report of the failed sweep: rc $rc: $(cat "$WORK/f.rerr")"
fi

# 2. Defined in 4 shards; two workers; A killed mid-shard, B takes it over after the lease.
ID=$("$EXPOSURE" sweep --store "$PG" --define --shards 4 "${OPTS[@]}" --exclude "$WORK/exclude" \
	"$WORK/targets" 2>"$WORK/def.err")
mv "$WORK/targets" "$WORK/targets.1"
mv "$WORK/exclude" "$WORK/exclude.1"
[ ${#ID} = 32 ] || { bad "--define printed [$ID]: $(cat "$WORK/def.err")"; exit 1; }
# (ip netns exec runs the worker in its own pid: $! is the worker, whose node name has it)
SCAN=$(lab_scanner_ns)
ip netns exec "$SCAN" "$EXPOSURE" sweep --store "$PG" --worker --sweep "$ID" --lease 2000 \
	--allow "$BLOCK" --no-progress >/dev/null 2>"$WORK/a.err" &
A=$!
# A's claim in the table and its run (the child) under way, then SIGKILL.
for _ in $(seq 1 100); do
	[ "$(q "SELECT count(*) FROM sweep_shard_runs WHERE worker LIKE '%/$A.%'")" = 1 ] &&
		AC=$(pgrep -P "$A") && break
	sleep 0.05
done
# B's output and messages in one file, in order: each run's host lines follow its shard's line.
ip netns exec "$SCAN" "$EXPOSURE" sweep --store "$PG" --worker --sweep "$ID" --lease 2000 \
	--allow "$BLOCK" --no-progress --json >"$WORK/b.log" 2>&1 &
B=$!
ASHARD=$(q "SELECT shard FROM sweep_shard_runs WHERE worker LIKE '%/$A.%'")
# Killed once its run has stored some of its hosts (each row names the run's own node).
mine() { q "SELECT $1 FROM diagnoses WHERE sweep = '$2' AND status = 'done' AND node LIKE '%/$3.%' ${4:-}"; }
for _ in $(seq 1 100); do
	[ "$(mine 'count(*)' "$ID" "${AC:-x}")" != 0 ] && break
	sleep 0.05
done
kill -9 "$A"
wait "$A" 2>/dev/null
A=
sleep 0.3
# gone, or a zombie its new parent (pid 1 here) has not reaped yet: dead either way
dead() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
if [ -n "${AC:-}" ] && [ -n "$ASHARD" ] && dead "$AC" &&
	[ "$(q "SELECT state FROM sweep_shards WHERE sweep = '$ID' AND shard = $ASHARD")" = running ]; then
	ok "worker A killed in shard $ASHARD: its run (pid $AC) died with it, the shard still 'running'"
else
	bad "worker A: shard [$ASHARD] run [${AC:-}] $(cat /proc/"${AC:-0}"/status 2>/dev/null | grep -E 'State|PPid' | tr '\n' ' ') state $(q "SELECT state FROM sweep_shards WHERE sweep = '$ID' AND shard = $ASHARD"): $(cat "$WORK/a.err")"
fi
t0=$(date +%s)
while kill -0 "$B" 2>/dev/null && [ $(($(date +%s) - t0)) -lt 60 ]; do sleep 0.2; done
wait "$B"
rc=$?
if [ $rc = 0 ] && [ "$(q "SELECT count(*) FROM sweep_shards WHERE sweep = '$ID' AND state = 'done'")" = 4 ] &&
	[ "$(q "SELECT attempts FROM sweep_shards WHERE sweep = '$ID' AND shard = $ASHARD")" = 2 ] &&
	[ "$(q "SELECT count(*) FROM sweep_shard_runs WHERE sweep = '$ID' AND shard = $ASHARD AND attempt = 2 AND worker LIKE '%/$B.%' AND ended_ms IS NOT NULL")" = 1 ]; then
	ok "worker B: all 4 shards done, shard $ASHARD taken over (attempt 2)"
else
	bad "worker B exited $rc: $(q "SELECT shard, state, worker, attempts FROM sweep_shards WHERE sweep = '$ID'" | tr '\n' ';') $(grep -v '^{' "$WORK/b.log" | tail -5)"
fi
# Never two live runs of one shard: each run began after the one before it ended or its
# lease ran out; only the last run of a shard ended it, and every shard ran at most twice.
overlap=$(q "SELECT count(*) FROM sweep_shard_runs r JOIN sweep_shard_runs p ON p.sweep = r.sweep
	AND p.shard = r.shard AND p.attempt = r.attempt - 1
	WHERE r.sweep = '$ID' AND r.started_ms < coalesce(p.ended_ms, p.lease_until_ms)")
runs=$(q "SELECT count(*) FROM sweep_shard_runs WHERE sweep = '$ID'")
if [ "$overlap" = 0 ] && [ "$runs" = 5 ] &&
	[ "$(q "SELECT count(*) FROM sweep_shard_runs WHERE sweep = '$ID' AND ended_ms IS NULL")" = 1 ]; then
	ok "runs: 5 for 4 shards, no run began before its predecessor ended or lost its lease"
else
	bad "runs: $runs, overlapping $overlap: $(q "SELECT * FROM sweep_shard_runs WHERE sweep = '$ID'" | tr '\n' ';')"
fi

# A run of a shard after one that died or failed (DEAD: that run's pid) diagnosed none of
# the hosts the dead run had stored: in LOG (a worker's output and messages), the lines of
# the run of shard S/N attempt K (from its "shard S/N (attempt K)" line to the next shard's)
# print none of them, and its summary counts them as already in the sweep: H hosts = D
# diagnosed (its host lines) + S, S at least the dead run's. Prints "OK ..." or what differs.
# Usage: no_rerun LOG SWEEP S N K DEAD
no_rerun()
{
	mine address "$2" "$6" >"$WORK/stored.$6"
	python3 - "$1" "shard $3/$4 (attempt $5)" "$WORK/stored.$6" "shard $3/$4:" \
		"$(q "SELECT hosts FROM sweep_shards WHERE sweep = '$2' AND shard = $3")" <<'PY'
import json, re, sys
log, head, stored, tag, row = sys.argv[1:]
seg, on = [], False
for line in open(log):
    if re.match(r"exposure sweep: sweep [0-9a-f]{32} shard ", line):
        on = head in line
    elif on:
        seg.append(line)
hosts = [json.loads(l)["address"] for l in seg if l.startswith("{")]
had = set(open(stored).read().split())
sums = [l for l in seg if l.startswith("exposure sweep: " + tag)]
m = re.search(r": (\d+) hosts, (\d+) diagnosed, (\d+) already in the sweep", "".join(sums))
h, d, s = map(int, m.groups()) if m and len(sums) == 1 else (-1, -1, -1)
again = sorted(had & set(hosts))
if had and not again and d == len(hosts) and h == d + s and s >= len(had) and row == str(h):
    print("OK %d hosts stored by the dead run; the next: %d hosts, %d diagnosed, %d already"
          " in the sweep" % (len(had), h, d, s))
else:
    print("dead run stored %d, the next run printed %d (%d of them again: %s), summary %s,"
          " shard row hosts %s" % (len(had), len(hosts), len(again), " ".join(again),
                                   "".join(sums).strip() or "none", row))
PY
}
res=$(no_rerun "$WORK/b.log" "$ID" "$ASHARD" 4 2 "${AC:-x}")
case $res in
OK*) ok "shard $ASHARD taken over: ${res#OK }" ;;
*) bad "shard $ASHARD taken over: $res" ;;
esac

# 2b. A run that failed is handed back at once (store_shard_unclaim), and the next run skips
# what it stored too: a 1-shard sweep of a /24 with 10 responders; worker C (one host at a
# time) has its run killed once it stored one, exits 2; worker D runs the shard again.
ID2=$("$EXPOSURE" sweep --store "$PG" --define --shards 1 "${OPTS[@]}" 198.18.34.0/24 2>/dev/null)
ip netns exec "$SCAN" "$EXPOSURE" sweep --store "$PG" --worker --sweep "$ID2" --max-hosts 1 \
	--allow "$BLOCK" --no-progress --json >"$WORK/c.log" 2>&1 &
C=$!
CC=
for _ in $(seq 1 100); do
	[ -z "$CC" ] && CC=$(pgrep -P "$C")
	[ -n "$CC" ] && [ "$(mine 'count(*)' "$ID2" "$CC")" != 0 ] && break
	sleep 0.05
done
kill -9 "${CC:-0}"
wait "$C"
rc=$?
lab_scan "$EXPOSURE" sweep --store "$PG" --worker --sweep "$ID2" --allow "$BLOCK" \
	--no-progress --json >"$WORK/d.log" 2>&1
rcd=$?
res=$(no_rerun "$WORK/d.log" "$ID2" 0 1 2 "${CC:-x}")
if [ $rc = 2 ] && grep -q 'its run was killed by signal 9' "$WORK/c.log" && [ $rcd = 0 ] &&
	[ "${res%% *}" = OK ]; then
	ok "a failed run handed back (worker C exit 2), run again by D: ${res#OK }"
else
	bad "handed back: C exited $rc, D $rcd: $res; $(grep -v '^{' "$WORK/c.log" "$WORK/d.log" | tail -6)"
fi

# 3. A single-machine sweep of the same range, into SQLite.
lab_scan "$EXPOSURE" sweep "${OPTS[@]}" --exclude "$WORK/exclude.1" --store "$WORK/single.db" \
	"$WORK/targets.1" >/dev/null \
	2>"$WORK/single.err" || bad "single-machine sweep exited $?"
SID=$(awk '/^exposure sweep: sweep / { print $4 }' "$WORK/single.err")

# Hosts, doors and findings: one row per host, the same rows on both.
q "SELECT address, risk, checks_summary, coalesce(findings_summary, '') FROM diagnoses
	WHERE sweep = '$ID' AND status = 'done' ORDER BY address" >"$WORK/union.rows"
python3 - "$WORK/single.db" "$SID" >"$WORK/single.rows" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for r in db.execute("SELECT address, risk, checks_summary, coalesce(findings_summary, '')"
                    " FROM diagnoses WHERE sweep = ? AND status = 'done'"
                    " ORDER BY address", (sys.argv[2],)):
    print("|".join(r))
PY
dups=$(q "SELECT count(*) - count(DISTINCT address) FROM diagnoses WHERE sweep = '$ID'")
if [ -s "$WORK/union.rows" ] && cmp -s "$WORK/union.rows" "$WORK/single.rows" &&
	[ "$(wc -l <"$WORK/union.rows")" = "$nhosts" ] && [ "$dups" = 0 ]; then
	ok "union of the shards == single-machine sweep: $nhosts hosts, doors and findings row for row"
else
	bad "union vs single ($nhosts hosts, $dups duplicates):"
	diff "$WORK/single.rows" "$WORK/union.rows" | head -10
fi
"$EXPOSURE" report --store "$PG" --sweep "$ID" --format json >"$WORK/union.json" 2>&1
"$EXPOSURE" report --store "$WORK/single.db" --sweep "$SID" --format json >"$WORK/single.json" 2>&1
if [ -s "$WORK/union.json" ] && cmp -s "$WORK/union.json" "$WORK/single.json"; then
	ok "report --sweep --format json: the same bytes on both"
else
	bad "report --sweep differs"
	diff "$WORK/single.json" "$WORK/union.json" | head -10
fi
row=$(q "SELECT finished_ms IS NOT NULL, open_ports, hosts FROM sweeps WHERE id = '$ID'")
if [ "$row" = "t|$npairs|$nhosts" ]; then
	ok "the sweep's row ended with its last shard: $npairs open ports, $nhosts hosts"
else
	bad "sweep row [$row], want [t|$npairs|$nhosts]"
fi

echo "$fails failure(s)"
[ $fails = 0 ]
