#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of issue 12's UDP checks (by hand, root, never a test): `exposure check --checks
# ssdp,memcached,memcached-udp` of a lab host running real Debian memcached 1.6.18 (UDP on) and
# miniupnpd 2.3.1, against nmap 7.93 with version detection and the NSE scripts that give the
# same verdicts (upnp-info, memcached-info) over the same three ports, from the scanner
# namespace, REPS repetitions each (default 7), interleaved (ours, nmap, ours, nmap...); median
# whole-process wall time and the ratio, the load (uptime) before and after, and the verdicts of
# the last run of each. Prints a Markdown fragment for bench/RESULTS.md on stdout.
# Usage (root): bench/bench_udp.sh [PATH-TO-exposure]   (default build/src/cli/exposure)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-xpbu}
# shellcheck source=tests/lab/lab.sh
. "$root/tests/lab/lab.sh"
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
for t in nmap jq memcached miniupnpd; do
	command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 2; }
done
EXE=$(realpath "${1:-$root/build/src/cli/exposure}")
REPS=${REPS:-7}
trap 'lab_down' EXIT
lab_up srv >/dev/null || { echo "bench: lab did not come up" >&2; exit 1; }
a4=$(lab_addr4 srv)
lab_srv_start memcached srv 11211 -- memcached -u nobody -l "$a4" -p 11211 -U 11211 -t 1 \
	-m 8 >/dev/null || exit 1
d=$(lab_srv_dir miniupnpd)
printf 'ext_ifname=lo\nlistening_ip=eth0\nport=5555\nenable_natpmp=no\nsecure_mode=yes\nuuid=00000000-0000-0000-0000-000000000001\n' >"$d/c"
lab_srv_start miniupnpd srv 5555 -- miniupnpd -d -f "$d/c" -P "$d/pid" >/dev/null || exit 1

ours() { lab_scan "$EXE" check --json --allow 198.18.0.0/15 --checks ssdp,memcached,memcached-udp "$a4"; }
theirs() { lab_scan nmap -n -Pn -sU -sT -sV -p U:1900,11211,T:11211 --script upnp-info,memcached-info "$a4"; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >"$LAB_STATE/last.$1" 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

load0=$(uptime)
o=() n=()
for i in $(seq 1 "$REPS"); do
	o+=("$(ms ours)")
	n+=("$(ms theirs)")
done
load1=$(uptime)
mo=$(printf '%s\n' "${o[@]}" | median)
mn=$(printf '%s\n' "${n[@]}" | median)
echo "### Issue 12: the UDP checks (ssdp, memcached, memcached-udp) vs nmap -sU -sT -sV + NSE"
echo
echo "Command: \`REPS=$REPS bench/bench_udp.sh $EXE\` (lab host: Debian memcached 1.6.18 -U 11211, miniupnpd 2.3.1)."
echo "exposure: \`exposure check --checks ssdp,memcached,memcached-udp $a4\`;"
echo "nmap 7.93: \`nmap -n -Pn -sU -sT -sV -p U:1900,11211,T:11211 --script upnp-info,memcached-info $a4\`."
echo
echo "| | runs (ms, in order) | median |"
echo "| --- | --- | --- |"
echo "| exposure | ${o[*]} | $mo ms |"
echo "| nmap | ${n[*]} | $mn ms |"
echo
awk -v a="$mn" -v b="$mo" 'BEGIN { printf "Ratio nmap / exposure: %.1fx.\n", a / b }'
echo
echo "Load before: \`$load0\`; after: \`$load1\`."
echo
echo "Verdicts of the last run: exposure:"
jq -r '.checks[] | "- \(.check) \(.port): \(.state) \([.findings[] | "\(.id) \(.confidence)"] | join(", "))"' "$LAB_STATE/last.ours"
echo
echo "nmap:"
echo '```'
sed -n '/^PORT/,/^Service detection\|^Nmap done/p' "$LAB_STATE/last.theirs" | grep -v "^MAC"
echo '```'
