#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 5 benchmark (by hand): `exposure report` over a generated store of N results (default
# 1,000,000 over 30 days), full and with --sample 3000; wall time and peak RSS (/usr/bin/time -v).
# Usage: bench/bench_report.sh [N] [BUILD_DIR]   (BUILD_DIR default build-report-rel, release)
# The store is kept in $BENCH_DIR (default /tmp/exposure-bench-report) for reruns; delete it
# by hand. No network traffic.
set -eu
N=${1:-1000000}
BUILD=${2:-build-report-rel}
DIR=${BENCH_DIR:-/tmp/exposure-bench-report}
DB="$DIR/store-$N.db"
EXPOSURE="$BUILD/src/cli/exposure"
GEN="$BUILD/tests/unit/report/report-gen-store"
STEP=$((30 * 86400000 / N))
[ "$STEP" -gt 0 ] || STEP=1

if [ ! -x "$EXPOSURE" ] || [ ! -x "$GEN" ]; then
	echo "build first: meson setup $BUILD --buildtype=release && ninja -C $BUILD" >&2
	exit 2
fi
mkdir -p "$DIR"
printf '198.18.0.0/16,benchnet\n198.18.0.0/20,mobile\n2001:db8::/32,v6\n2001:db8:1::/48,v6-one\n' \
	>"$DIR/labels.csv"
if [ ! -f "$DB" ]; then
	echo "generating $N results into $DB ..."
	/usr/bin/time -f "generate: %e s, peak RSS %M KiB" "$GEN" "$DB" "$N" "$STEP"
fi
ls -l "$DB"

measure() {
	name=$1
	shift
	"$EXPOSURE" report --db "$DB" "$@" >/dev/null 2>"$DIR/err" || { cat "$DIR/err" >&2; exit 1; }
	/usr/bin/time -v "$EXPOSURE" report --db "$DB" "$@" >"$DIR/out-$name" 2>"$DIR/time-$name"
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$DIR/time-$name")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/time-$name")
	printf '%-28s wall %-8s peak RSS %6d KiB (%s MiB)\n' "$name" "$wall" "$rss" \
		"$(awk "BEGIN{printf \"%.1f\", $rss/1024}")"
}

# Each run once untimed first, so every figure is for a warm page cache.
measure full
measure full-json --format json
measure sample-3000 --sample 3000 --seed 2017
measure per-requester --per requester
measure labels-trend-week --labels "$DIR/labels.csv" --trend week
measure labels-trend-svg --labels "$DIR/labels.csv" --trend day --format svg
echo "--- full report (table):"
cat "$DIR/out-full" | head -20
echo "--- sample of 3000:"
head -12 "$DIR/out-sample-3000"
