#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Benchmark of issue 13 (by hand, never a timed test): a /16 with two ports (131,072 probes) in a
# namespace range (198.19.0.0/16, AnyIP in one target namespace, tests/sweep/sweeplab.sh), 1% of
# the (address, port) pairs answering (a listener behind an nftables set), the rest dropped; from
# one scanner namespace: exposure sweep (--retries 0: one probe per pair like the others, and the
# default retries), masscan and zmap (Debian packages), interleaved round by round, each at rates
# rising until its recall drops below 1.0. Prints one line per run: tool, rate, round, recall,
# false positives, wall seconds, CPU seconds (user+sys of the tool), probes per CPU-second, and the
# achieved rate where the tool says it. Every raw packet stays inside the lab's namespaces.
#
# Send and receive paths (issue 13 §1's comparison): RUNS lists exposure's runs per round as
# SEND/RECV/RETRIES (default: the four combinations of --send-path mmsg|txring and --recv-path
# socket|tpacket3, one probe per pair, then the default paths with the default retries). mach_cpu_s is
# the whole machine's busy CPU during the run (/proc/stat: user, nice, system, irq, softirq,
# steal), which also holds the kernel's work for the tool's packets wherever it was accounted (the
# target namespace's replies included, the same for every tool): meaningful on a quiet machine.
#
# Usage: sudo [RUNS="..."] [OTHERS=0] bench/bench_sweep.sh EXPOSURE_BINARY [ROUNDS] [RATES]
#   (OTHERS=0: exposure's runs alone, no masscan or zmap)
#   e.g. sudo bench/bench_sweep.sh build-bench/src/cli/exposure 3 "25000 50000 100000 150000"
#        sudo bench/bench_sweep.sh EXPOSURE_BINARY rate   (exposure alone: the achieved rate of
#        the first pass at --rate 1,000 to 200,000, three runs each, on blocks sized to ~1 s)
#        sudo bench/bench_sweep.sh EXPOSURE_BINARY v6 [RATES]   (exposure alone: a list of 65,536
#        IPv6 addresses of 2001:db8:5eef::/64 with the same two ports and 1% open, beside the
#        /16 in the same rounds, three rounds; --retries 0 and 3 for IPv6)
# NIC offloads on the veth are left as the kernel sets them (the lab never changes them for
# this benchmark); `ethtool -k` is printed when ethtool is installed.
set -u
EXPOSURE=$(realpath "$1")
ROUNDS=${2:-3}
RUNS=${RUNS:-"mmsg/socket/0 mmsg/tpacket3/0 txring/socket/0 txring/tpacket3/0 mmsg/tpacket3/3"}
RATES=${3:-"25000 50000 100000 150000 200000"}
HERE=$(cd "$(dirname "$0")" && pwd)
export LAB_PREFIX=xpbsw$$
# shellcheck source=../tests/sweep/sweeplab.sh
. "$HERE/../tests/sweep/sweeplab.sh"
lab_require_root
for t in zmap masscan; do
	command -v $t >/dev/null || { echo "needs $t (apt-get install zmap masscan)"; exit 1; }
done
BLOCK=198.19.0.0/16
WORK=$(mktemp -d)
trap 'lab_down; rm -rf -- "$WORK"' EXIT

sweeplab_up "$BLOCK" || exit 1
SCAN=$(lab_scanner_ns)
SRC=$(lab_scanner_addr4 range)
MAC=$(ip -n "$(lab_ns range)" -br link show eth0 | awk '{ print $3 }')
lab_listen range 22 445 >/dev/null || exit 1
sweeplab_ports 22 445
python3 - "$WORK" <<'PY'
import random, sys
rnd = random.Random(1313)
pairs = rnd.sample(range(65536 * 2), 1311)  # 1% of the pairs
with open(sys.argv[1] + "/truth", "w") as t, open(sys.argv[1] + "/resp", "w") as r:
    for x in sorted(pairs):
        a = "198.19.%d.%d" % (x // 2 // 256, x // 2 % 256)
        t.write("%s %d\n" % (a, (22, 445)[x % 2]))
        r.write(a + "\n")
PY
# ALLRST=1: every address of the /16 answers (RST where no listener): 131,072 replies per sweep,
# the receive paths' load; recall still counts the open pairs, "closed" the RSTs received.
if [ "${ALLRST:-0}" = 1 ]; then
	python3 -c 'for i in range(65536): print("198.19.%d.%d" % (i // 256, i % 256))' >"$WORK/resp"
fi
sort -u "$WORK/resp" -o "$WORK/resp"
sweeplab_load "$WORK/truth" "$WORK/resp" || exit 1
sort "$WORK/truth" -o "$WORK/truth"
echo "# $(date -u +%FT%TZ) $(uname -r); load: $(uptime)"
echo "# veth s-range offloads: $(ip netns exec "$SCAN" ethtool -k s-range 2>/dev/null |
	grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|tx-checksumming|rx-checksumming|scatter-gather):' |
	tr '\n' ' ' || true)"
[ -n "$(ip netns exec "$SCAN" ethtool -k s-range 2>/dev/null)" ] ||
	echo "# (ethtool not installed: the veth keeps the kernel's defaults: TSO/GSO/checksum offload on)"
echo "# truth: $(wc -l <"$WORK/truth") open pairs of 131072"
printf '%-16s %7s %5s %7s %4s %7s %7s %9s %9s %10s\n' tool rate round recall fp wall_s cpu_s probes/cpu achieved mach_cpu_s

# score FILE: recall and false positives of "ADDR PORT" lines against the truth.
score()
{
	sort -u "$1" -o "$1"
	local hit fp truth=${TRUTH:-$WORK/truth}
	hit=$(comm -12 "$1" "$truth" | wc -l)
	fp=$(comm -23 "$1" "$truth" | wc -l)
	echo "$(awk -v h="$hit" -v n="$(wc -l <"$truth")" 'BEGIN { printf "%.4f", h / n }') $fp"
}

# busy: the machine's busy jiffies so far (every CPU).
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# timed CMD...: run, and leave "wall user sys" in $WORK/t, the machine's busy CPU seconds added
# to $WORK/mach
timed()
{
	local TIMEFORMAT="%R %U %S" b0 m
	b0=$(busy)
	{ time "$@" >"$WORK/out" 2>"$WORK/err"; } 2>"$WORK/t"
	m=$(cat "$WORK/mach" 2>/dev/null || echo 0)
	awk -v m="$m" -v a="$b0" -v b="$(busy)" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { print m + (b - a) / hz }' >"$WORK/mach"
}

row()
{
	local tool=$1 rate=$2 round=$3 probes=$4 achieved=$5 s
	s=$(score "$WORK/found")
	read -r wall user sys <"$WORK/t"
	awk -v t="$tool" -v r="$rate" -v k="$round" -v s="$s" -v w="$wall" -v u="$user" \
		-v y="$sys" -v p="$probes" -v a="$achieved" -v m="$(cat "$WORK/mach")" 'BEGIN {
		split(s, f, " "); c = u + y;
		printf "%-16s %7d %5d %7s %4d %7.2f %7.2f %9.0f %9s %10.2f\n", t, r, k, f[1], f[2],
			w, c, (c > 0 ? p / c : 0), a, m }'
	rm -f "$WORK/mach"
}

# run_exposure RATE ROUND SEND/RECV/RETRIES
run_exposure()
{
	local rate=$1 round=$2 send recv retries a
	IFS=/ read -r send recv retries <<<"$3"
	timed lab_scan "$EXPOSURE" sweep --allow "$BLOCK" --ports 22,445 --ports-only --no-progress \
		--rate "$rate" --retries "$retries" --wait 1000 --send-path "$send" \
		--recv-path "$recv" "$BLOCK"
	awk '$3 == "open" { print $1, $2 }' "$WORK/out" >"$WORK/found"
	a=$(grep -o 'first pass [0-9]* in [0-9.]* s ([0-9]*/s)' "$WORK/err" | grep -o '([0-9]*' | tr -d '(')
	row "x-${send/txring/ring}+${recv/tpacket3/tp3}-r$retries" "$rate" "$round" \
		"$(grep -o 'sent [0-9]* in' "$WORK/err" | tail -1 | awk '{ print $2 }')" "${a:-?}"
	grep -q 'dropped 0$' "$WORK/err" || grep -o 'dropped [0-9]*' "$WORK/err"
	[ "${ALLRST:-0}" = 1 ] && grep -o 'replies [0-9]*.*closed [0-9]*' "$WORK/err"
	grep -q 'not handed over 0$' "$WORK/err" || grep -o 'not handed over [0-9]*' "$WORK/err"
	grep -q '^exposure sweep: send path' "$WORK/err" || head -c 300 "$WORK/err"
}

run_masscan()
{
	local rate=$1 round=$2 pid
	# masscan 1.3.2 waits for one more packet after --wait on a quiet link (lab notes): a
	# bounded trickle of pings from the range keeps the link alive for every tool alike.
	ip netns exec "$(lab_ns range)" ping -q -i 0.2 -c 1500 "$SRC" >/dev/null 2>&1 &
	pid=$!
	# masscan 1.3.2 sometimes hangs for minutes after its --wait even with the trickle: stop it
	# (SIGINT, as Ctrl-C: it writes its list) 20 s after what the rate and the wait need.
	timed lab_scan timeout -s INT -k 5 $((131072 / rate + 21)) masscan "$BLOCK" -p22,445 --rate "$rate" --interface s-range \
		--adapter-ip "$SRC" --router-mac "$MAC" --wait 1 -oL "$WORK/masscan.txt"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	awk '$1 == "open" { print $4, $3 }' "$WORK/masscan.txt" >"$WORK/found"
	row masscan "$rate" "$round" 131072 "?"
}

run_zmap()
{
	local rate=$1 round=$2 w=0 u=0 s=0 port
	: >"$WORK/found"
	# zmap 2.1.1 takes one port per run: two runs, times added.
	for port in 22 445; do
		timed lab_scan zmap -q -p "$port" -i s-range -S "$SRC" -G "$MAC" -r "$rate" -c 1 \
			-b /dev/null -o "$WORK/zmap.txt" "$BLOCK"
		awk -v p="$port" '{ print $1, p }' "$WORK/zmap.txt" >>"$WORK/found"
		read -r a b c <"$WORK/t"
		w=$(awk -v x="$w" -v y="$a" 'BEGIN { print x + y }')
		u=$(awk -v x="$u" -v y="$b" 'BEGIN { print x + y }')
		s=$(awk -v x="$s" -v y="$c" 'BEGIN { print x + y }')
	done
	echo "$w $u $s" >"$WORK/t"
	row zmap "$rate" "$round" 131072 "?"
}

if [ "$ROUNDS" = rate ]; then
	for spec in "1000 198.19.0.0/23" "5000 198.19.0.0/21" "10000 198.19.0.0/20" \
		"50000 198.19.0.0/17" "100000 198.19.0.0/16" "200000 198.19.0.0/16"; do
		read -r rate block <<<"$spec"
		for k in 1 2 3; do
			lab_scan "$EXPOSURE" sweep --allow "$BLOCK" --ports 22,445 --ports-only \
				--no-progress --retries 0 --wait 0 --rate "$rate" "$block" 2>&1 >/dev/null |
				grep -o 'first pass [0-9]* in [0-9.]* s ([0-9]*/s)' | sed "s|^|rate $rate: |"
		done
	done
	echo "# $(uptime)"
	exit 0
fi

# IPv6 from a list (issue 13): 65,536 addresses with random interface ids in a /64 (AnyIP in
# the range like the /16), 1% of the pairs open; exposure on the list and on the /16 in turn.
run_exposure6()
{
	local rate=$1 round=$2 retries=$3 a
	timed lab_scan "$EXPOSURE" sweep --allow 2001:db8::/32 --ports 22,445 --ports-only \
		--no-progress --rate "$rate" --retries "$retries" --wait 1000 "$WORK/list6"
	awk '$3 == "open" { print $1, $2 }' "$WORK/out" >"$WORK/found"
	a=$(grep -o 'first pass [0-9]* in [0-9.]* s ([0-9]*/s)' "$WORK/err" | grep -o '([0-9]*' | tr -d '(')
	TRUTH=$WORK/truth6 row "exposure6-r$retries" "$rate" "$round" \
		"$(grep -o 'sent [0-9]* in' "$WORK/err" | tail -1 | awk '{ print $2 }')" "${a:-?}"
	grep -q 'dropped 0$' "$WORK/err" || grep -o 'dropped [0-9]*' "$WORK/err"
}

if [ "$ROUNDS" = v6 ]; then
	sweeplab_up6 2001:db8:5eef::/64 || exit 1
	sweeplab_ports 22 445
	python3 - "$WORK" <<'PY'
import ipaddress, random, sys
w = sys.argv[1]
rnd = random.Random(6136)
net = ipaddress.ip_network("2001:db8:5eef::/64")
addrs = set()
while len(addrs) < 65536:
    addrs.add(str(net[rnd.getrandbits(64)]))
addrs = sorted(addrs)
with open(w + "/list6", "w") as f:
    f.write("\n".join(addrs) + "\n")
pairs = rnd.sample(range(65536 * 2), 1311)  # 1% of the pairs
with open(w + "/truth6", "w") as t, open(w + "/resp6", "w") as r:
    for x in pairs:
        t.write("%s %d\n" % (addrs[x // 2], (22, 445)[x % 2]))
        r.write(addrs[x // 2] + "\n")
PY
	sort -u "$WORK/resp6" -o "$WORK/resp6"
	sweeplab_load6 "$WORK/truth6" "$WORK/resp6" || exit 1
	sort "$WORK/truth6" -o "$WORK/truth6"
	echo "# IPv6 list: $(wc -l <"$WORK/list6") addresses, $(wc -l <"$WORK/truth6") open pairs of 131072"
	for rate in ${3:-50000 100000 150000 200000}; do
		for round in 1 2 3; do
			run_exposure "$rate" "$round" mmsg/tpacket3/0
			run_exposure6 "$rate" "$round" 0
			run_exposure6 "$rate" "$round" 3
		done
		echo "# after rate $rate: $(uptime)"
	done
	exit 0
fi

for rate in $RATES; do
	for round in $(seq 1 "$ROUNDS"); do
		for r in $RUNS; do
			run_exposure "$rate" "$round" "$r"
		done
		[ "${OTHERS:-1}" = 0 ] && continue
		run_masscan "$rate" "$round"
		run_zmap "$rate" "$round"
	done
	echo "# after rate $rate: $(uptime)"
done
