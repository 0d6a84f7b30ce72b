#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# exposure sweep (issue 13) in a namespace lab: a /20 (198.18.32.0/20, 4096 addresses, AnyIP in
# one target namespace) where nftables lets a known pattern of (address, port) pairs reach real
# listeners (OpenSSH on 22, the lab listener on 445), gives RSTs on the other ports of the
# responders, and drops the rest. Every raw packet stays inside namespaces this test creates.
# Cases: found set == truth at two rates; forged SYN-ACKs (another namespace, wrong acks) not
# counted; three shards of one seed partition the finds (IPv4 block and IPv6 list); --exclude honoured (nft counter on the
# target side: zero packets to excluded addresses); the policy refuses before any packet
# (counter zero); stage 2 diagnoses every responder (one JSON line per host, ssh seen on 22) in
# one sandboxed prober (and in process with --no-sandbox);
# 5% loss each way -> recall 1.0 with the default retries (IPv6 list included); the packet-ring
# send and receive paths find the truth too, and the send ring refuses loopback and on-link
# targets.
# IPv6 from a list of addresses in 2001:db8:5eef::/64 (the block itself is refused): a mixed
# IPv4 + IPv6 sweep finds exactly the truth of both, forged IPv6 SYN-ACKs not counted, --exclude
# honoured for IPv6 blocks (nft counter), the policy refuses before any packet, stage 2 diagnoses
# the IPv6 hosts (real OpenSSH) into the store; the progress line's content.
# Usage: test_sweep.sh EXPOSURE_BINARY. Exit 77 without root.
set -u
EXPOSURE=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
export LAB_PREFIX=xpsw$$
# shellcheck source=sweeplab.sh
. "$HERE/sweeplab.sh"
lab_require_root
command -v sshd >/dev/null 2>&1 || command -v /usr/sbin/sshd >/dev/null 2>&1 ||
	{ echo "no sshd; skipping"; exit 77; }

BLOCK=198.18.32.0/20
BLOCK6=2001:db8:5eef::/64
WORK=$(mktemp -d)
fails=0
cleanup() { lab_down; rm -rf -- "$WORK"; }
trap cleanup EXIT

ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

sweeplab_up "$BLOCK" || { echo "lab did not come up"; exit 1; }
sweeplab_up6 "$BLOCK6" || { echo "IPv6 block did not come up"; exit 1; }
sweeplab_forger || { echo "forger did not come up"; exit 1; }
SCANADDR=$(lab_scanner_addr4 range)
SCANADDR6=$(lab_scanner_addr6 range)
ip -n "$(lab_ns forger)" route add "$SCANADDR/32" via 198.18.21.1 || exit 1
ip -n "$(lab_ns forger)" -6 route add "$SCANADDR6/128" via 2001:db8:21::1 || exit 1

# Real listeners on every address of the block: OpenSSH on 22, the lab listener on 445.
sweeplab_servers || exit 1

# The truth: a fixed pseudo-random pattern (seeded) over the block's 4096 addresses.
python3 - "$WORK" <<'PY'
import random, sys
w = sys.argv[1]
rnd = random.Random(13)
addrs = ["198.18.%d.%d" % (32 + i // 256, i % 256) for i in range(4096)]
hosts = rnd.sample(addrs, 70)
open_pairs, responders = [], []
for k, a in enumerate(hosts):
    responders.append(a)
    if k < 50:  # 50 hosts with open ports, 20 answering RST only
        ports = rnd.choice([[22], [445], [22, 445]])
        open_pairs += [(a, p) for p in ports]
# the block's edges too
for a, p in (("198.18.32.0", 445), ("198.18.47.255", 22)):
    open_pairs.append((a, p)); responders.append(a)
with open(w + "/truth", "w") as f:
    for a, p in sorted(open_pairs):
        f.write("%s %d\n" % (a, p))
with open(w + "/responders", "w") as f:
    f.write("\n".join(responders) + "\n")
# sources for forged replies: addresses of the block that have no open port
closed = [a for a in addrs if a not in responders][:200]
with open(w + "/forged_src", "w") as f:
    for a in closed:
        f.write("%s %d\n" % (a, rnd.choice([22, 445])))
PY
sweeplab_load "$WORK/truth" "$WORK/responders" || exit 1
sort "$WORK/truth" >"$WORK/truth.sorted"

# IPv6 from a list of addresses (sections 3, 9 and 10). The truth: 42 listed addresses of the
# /64, 13 with open ports (two of them excluded in 10a: one by a /128, one inside an excluded
# /120), 5 answering RST only, the rest dropping.
python3 - "$WORK" <<'PY'
import ipaddress, random, sys
w = sys.argv[1]
rnd = random.Random(6)
net = ipaddress.ip_network("2001:db8:5eef::/64")
addrs = sorted({str(net[rnd.getrandbits(64)]) for _ in range(40)})
open_pairs, responders = [], []
for k, a in enumerate(addrs[:16]):
    responders.append(a)
    if k < 12:
        open_pairs += [(a, p) for p in rnd.choice([[22], [445], [22, 445]])]
addrs += ["2001:db8:5eef::ee01", "2001:db8:5eef::ee02"]  # inside the excluded /120
open_pairs.append(("2001:db8:5eef::ee01", 22))
responders += addrs[-2:]
ex = addrs[0]  # an open host excluded by a /128
with open(w + "/truth6", "w") as f:
    f.writelines("%s %d\n" % x for x in open_pairs)
with open(w + "/truth6.excl", "w") as f:
    f.writelines("%s %d\n" % (a, p) for a, p in open_pairs if a != ex and ":ee0" not in a)
with open(w + "/responders6", "w") as f:
    f.write("\n".join(responders) + "\n")
with open(w + "/targets6", "w") as f:  # comments, one address twice
    f.write("# our IPv6 hosts\n" + "\n".join(addrs) + "\n%s  # again\n" % addrs[1])
with open(w + "/exclude6", "w") as f:
    f.write("2001:db8:5eef::ee00/120\n%s/128 # one host\n" % ex)
with open(w + "/ex6", "w") as f:
    f.write(ex + "\n")
with open(w + "/forged_src6", "w") as f:  # listed, not open, not excluded
    openset = {a for a, _ in open_pairs}
    f.writelines("%s %d\n" % (a, rnd.choice([22, 445]))
                 for a in addrs[:-2] if a not in openset)
PY
EX6=$(cat "$WORK/ex6")
sweeplab_load6 "$WORK/truth6" "$WORK/responders6" 2001:db8:5eef::ee00/120 "$EX6" ||
	bad "IPv6 nft sets"
sort "$WORK/truth6" >"$WORK/truth6.sorted"

# sweep NAME ARGS...: stage 1 only, output "ADDR PORT" sorted into $WORK/NAME, stderr to .err
sweep()
{
	local name=$1
	shift
	lab_scan "$EXPOSURE" sweep --allow "$BLOCK" --ports 22,445 --ports-only --no-progress "$@" \
		"$BLOCK" >"$WORK/$name.out" 2>"$WORK/$name.err"
	local rc=$?
	awk '$3 == "open" { print $1, $2 }' "$WORK/$name.out" | sort >"$WORK/$name"
	return $rc
}

same_as_truth()
{
	local name=$1 what=$2 truth=${3:-$WORK/truth.sorted}
	if cmp -s "$WORK/$name" "$truth"; then
		ok "$what: $(wc -l <"$WORK/$name") open ports, the truth exactly"
	else
		bad "$what: found set differs from the truth"
		diff "$truth" "$WORK/$name" | head -10
		cat "$WORK/$name.err"
	fi
}

# nocaps PID: "ok N threads ..." when no thread of PID holds a capability (none effective,
# permitted, inheritable or in the bounding set) and no-new-privileges is set, else what it saw.
nocaps()
{
	local pid=$1 caps n
	caps=$(cat /proc/"$pid"/task/*/status 2>/dev/null |
		awk '/^(CapEff|CapPrm|CapBnd|CapInh|NoNewPrivs):/ { print $1, $2 }' | sort | uniq -c |
		tr '\n' ';')
	n=$(ls /proc/"$pid"/task 2>/dev/null | wc -l)
	if [ "$n" -ge 3 ] && ! grep -v 'CapEff: 0000000000000000\|CapPrm: 0000000000000000\|CapBnd: 0000000000000000\|CapInh: 0000000000000000\|NoNewPrivs: 1' <<<"${caps//;/$'\n'}" | grep -q .; then
		echo "ok $n threads, every capability set empty, no-new-privs ($caps)"
	else
		echo "threads $n: $caps"
	fi
}

# 1. Found set == truth at two rates (default retries).
for rate in 10000 100000; do
	sweep "rate$rate" --rate "$rate" --wait 500 || bad "sweep at $rate/s exited $?"
	same_as_truth "rate$rate" "rate $rate/s"
	grep -o 'first pass [0-9]* in [0-9.]* s ([0-9]*/s)' "$WORK/rate$rate.err"
done

# 1b. The other paths (the default is --send-path mmsg --recv-path tpacket3): the send ring
# (PACKET_TX_RING frames to the gateway) with either receive path, and the receive socket
# (recvmmsg) with sendmmsg: found set == truth. The scanner's neighbour entries are flushed first: the send ring must have the gateway
# resolved itself. The run with both rings is slow enough to look at it while it runs: the rings
# are mapped before the capabilities go, and after that no thread holds one.
ip -n "$(lab_scanner_ns)" neigh flush all
ip netns exec "$(lab_scanner_ns)" "$EXPOSURE" sweep --allow "$BLOCK" --ports 22,445 --ports-only \
	--no-progress --send-path txring --recv-path tpacket3 --rate 4000 --retries 0 --wait 1500 "$BLOCK" \
	>"$WORK/rings.out" 2>"$WORK/rings.err" &
rpid=$!
sleep 1.5
rcaps=$(nocaps $rpid)
wait $rpid || bad "sweep with both rings exited $?"
awk '$3 == "open" { print $1, $2 }' "$WORK/rings.out" | sort >"$WORK/rings"
same_as_truth rings "send ring + receive ring at 4000/s, no retry"
grep -q 'send path txring, receive path tpacket3, not handed over 0' "$WORK/rings.err" ||
	bad "rings: the summary does not name both rings: $(cat "$WORK/rings.err")"
case $rcaps in
ok*) ok "rings: $rcaps" ;;
*) bad "rings: privileges while sweeping: $rcaps" ;;
esac
for paths in "txring socket" "mmsg socket"; do
	set -- $paths
	sweep "$1-$2" --send-path "$1" --recv-path "$2" --rate 100000 --retries 1 --wait 300 ||
		bad "sweep $paths exited $?"
	same_as_truth "$1-$2" "--send-path $1 --recv-path $2 at 100000/s"
done
# The send ring refuses targets it cannot frame for (exit 2 before its socket exists): loopback
# (no gateway, not Ethernet), and an on-link address (each would need its own link-layer address).
lab_scan "$EXPOSURE" sweep --send-path txring --ports 22 --ports-only 127.0.0.1 \
	>/dev/null 2>"$WORK/ring-lo.err"
rc=$?
RANGEADDR=$(lab_addr4 range)
lab_scan "$EXPOSURE" sweep --send-path txring --allow "$RANGEADDR/32" --ports 22 --ports-only \
	"$RANGEADDR" >/dev/null 2>"$WORK/ring-link.err"
rc2=$?
if [ $rc = 2 ] && grep -q 'no gateway route to 127.0.0.1' "$WORK/ring-lo.err" && [ $rc2 = 2 ] &&
	grep -q "$RANGEADDR is on-link" "$WORK/ring-link.err"; then
	ok "send ring refusals: loopback and on-link"
else
	bad "send ring refusals: rc $rc/$rc2: $(cat "$WORK/ring-lo.err" "$WORK/ring-link.err")"
fi

# 2. Forged SYN-ACKs with wrong acks from the forger namespace during a sweep: not counted.
lab_spawn forge "$(lab_ns forger)" python3 "$HERE/forge.py" "$SCANADDR" "$WORK/forged_src" \
	2000 1.5 >/dev/null
sweep forged --rate 10000 --retries 1 --wait 500 || bad "sweep with forgeries exited $?"
lab_kill forge
same_as_truth forged "with 2000 forged SYN-ACKs"
invalid=$(grep -o 'invalid [0-9]*' "$WORK/forged.err" | awk '{ print $2 }')
if [ "${invalid:-0}" -ge 200 ]; then
	ok "forged replies seen and refused: invalid $invalid"
else
	bad "forged replies: invalid ${invalid:-?} (expected >= 200 of the 2000 within the sweep)"
fi

# 3. Shards 0..2 of 3 with one seed over the block and the IPv6 list: disjoint, union == truth.
: >"$WORK/shards.all"
for i in 0 1 2; do
	sweep "shard$i" --shard "$i/3" --seed 77 --rate 50000 --retries 1 --wait 300 \
		--allow 2001:db8::/32 "$WORK/targets6" || bad "shard $i exited $?"
	cat "$WORK/shard$i" >>"$WORK/shards.all"
done
if [ "$(sort "$WORK/shards.all" | uniq -d | wc -l)" = 0 ] &&
	[ "$(sort "$WORK/shards.all")" = "$(sort "$WORK/truth.sorted" "$WORK/truth6.sorted")" ] &&
	grep -q : "$WORK/shard0" && grep -q : "$WORK/shard1" && grep -q : "$WORK/shard2"; then
	ok "3 shards (IPv4 and IPv6 in each): disjoint, union == truth ($(wc -l <"$WORK/shard0") + $(wc -l <"$WORK/shard1") + $(wc -l <"$WORK/shard2"))"
else
	bad "3 shards do not partition the truth"
fi

# 3b. --checks picks the ports swept (no --ports): ssh alone sweeps 22 alone.
lab_scan "$EXPOSURE" sweep --allow "$BLOCK" --checks ssh --ports-only --no-progress --rate 50000 \
	--wait 300 "$BLOCK" >"$WORK/checks.out" 2>"$WORK/checks.err" || bad "sweep --checks exited $?"
awk '$3 == "open" { print $1, $2 }' "$WORK/checks.out" | sort >"$WORK/checks"
awk '$2 == 22' "$WORK/truth.sorted" >"$WORK/truth.22"
same_as_truth checks "--checks ssh (port 22 only)" "$WORK/truth.22"
grep -q 'first pass 4096 ' "$WORK/checks.err" || bad "--checks ssh: not 4096 probes: $(cat "$WORK/checks.err")"

# 4. --exclude: a /24 and one responder; the target side sees no packet to them.
EX1=198.18.33.0/24
EX2=$(awk 'NR == 3 { print $1 }' "$WORK/truth.sorted")
printf '# zmap blocklist format\n%s  # a block\n%s\n' "$EX1" "$EX2" >"$WORK/exclude"
sweeplab_exclude "$EX1" "$EX2"
sweeplab_reset_counters
sweep excl --rate 50000 --exclude "$WORK/exclude" --wait 300 || bad "sweep --exclude exited $?"
python3 - "$WORK/truth.sorted" "$EX2" >"$WORK/truth.excl" <<'PY'
import ipaddress, sys
net = ipaddress.ip_network("198.18.33.0/24")
for line in open(sys.argv[1]):
    a, p = line.split()
    if ipaddress.ip_address(a) not in net and a != sys.argv[2]:
        print(a, p)
PY
same_as_truth excl "--exclude" "$WORK/truth.excl"
n=$(sweeplab_counter excl)
blk=$(sweeplab_counter block)
if [ "$n" = 0 ] && [ "${blk:-0}" -gt 8000 ]; then
	ok "--exclude: 0 packets reached excluded addresses ($blk reached the block)"
else
	bad "--exclude: $n packets reached excluded addresses (block $blk)"
fi

# 5. The policy refuses before any packet: half the block allowed; no target at all.
sweeplab_reset_counters
lab_scan "$EXPOSURE" sweep --allow 198.18.32.0/21 --ports 22,445 "$BLOCK" >"$WORK/pol.out" \
	2>"$WORK/pol.err"
rc=$?
lab_scan "$EXPOSURE" sweep --ports 22 >/dev/null 2>"$WORK/pol2.err"
rc2=$?
sleep 0.2
blk=$(sweeplab_counter block)
if [ $rc = 2 ] && grep -q '198.18.40.0 refused' "$WORK/pol.err" && [ $rc2 = 2 ] &&
	grep -q 'no targets' "$WORK/pol2.err" && [ "$blk" = 0 ]; then
	ok "policy: refused before any packet ($(cat "$WORK/pol.err"))"
else
	bad "policy: rc $rc/$rc2, block counter $blk: $(cat "$WORK/pol.err" "$WORK/pol2.err")"
fi

# probers PID: while PID runs, note each child prober as "PID UID SECCOMP", the last sample of
# each, into $WORK/probers (polled every 50 ms; the sweep's own deadlines bound it). A sample
# taken between its exec and its sandbox says uid 0, no seccomp: only the last one counts.
probers()
{
	local pid=$1 c
	: >"$WORK/probers.raw"
	while kill -0 "$pid" 2>/dev/null; do
		for c in $(pgrep -P "$pid"); do
			tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | grep -q exposure-prober || continue
			awk -v c="$c" '/^Uid:/ { u = $3 } /^Seccomp:/ { m = $2 }
				END { if (u != "") print c, u, m }' "/proc/$c/status" 2>/dev/null
		done >>"$WORK/probers.raw"
		sleep 0.05
	done
	awk '{ last[$1] = $0 } END { for (p in last) print last[p] }' "$WORK/probers.raw" |
		sort >"$WORK/probers"
}

# 6. Stage 2: every host with an open port diagnosed, one JSON line each; OpenSSH seen on 22;
# kept in a store as one diagnosis per host under the sweep's id. The diagnoses run in ONE
# sandboxed prober, a child of the sweep under another user with a seccomp filter (mode 2).
ip netns exec "$(lab_scanner_ns)" "$EXPOSURE" sweep --allow "$BLOCK" --ports 22,445 --rate 50000 \
	--wait 300 --no-progress --json --store "$WORK/store.db" "$BLOCK" >"$WORK/stage2.out" \
	2>"$WORK/stage2.err" &
spid=$!
probers $spid
wait $spid
rc=$?
SBUID=$(id -u exposure 2>/dev/null || id -u nobody)
if [ "$(wc -l <"$WORK/probers")" = 1 ] && [ "$(awk '{ print $2, $3 }' "$WORK/probers")" = "$SBUID 2" ]; then
	ok "stage 2 in one sandboxed prober: pid uid seccomp $(cat "$WORK/probers")"
else
	bad "stage 2 probers (pid uid seccomp; want one, uid $SBUID, 2): [$(cat "$WORK/probers")]"
fi
if python3 - "$WORK/stage2.out" "$WORK/truth.sorted" <<'PY'; then
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
truth = {}
for l in open(sys.argv[2]):
    a, p = l.split()
    truth.setdefault(a, set()).add(int(p))
got = {d["address"]: d for d in lines}
assert len(lines) == len(got), "a host twice"
assert set(got) == set(truth), "hosts differ: %s" % (set(got) ^ set(truth))
for a, ports in truth.items():
    checks = {c["check"]: c for c in got[a]["checks"]}
    if 22 in ports:
        assert checks["ssh"]["state"] == "open", a
        assert checks["ssh"]["service"] == "ssh", (a, checks["ssh"])
    else:
        assert checks["ssh"]["state"] == "closed", (a, checks["ssh"]["state"])
    assert checks["smb"]["state"] == ("open" if 445 in ports else "closed"), a
print("%d hosts" % len(got))
PY
	[ $rc = 0 ] && ok "stage 2: one diagnosis per responding host, states as the truth" ||
		bad "stage 2 exited $rc"
else
	bad "stage 2 output"
	head -c 2000 "$WORK/stage2.err"
fi

# 6b. --no-sandbox (debugging): the same diagnoses in the sweep's own process, no prober child.
ip netns exec "$(lab_scanner_ns)" "$EXPOSURE" sweep --allow "$BLOCK" --checks ssh --rate 50000 \
	--wait 300 --retries 1 --no-progress --no-sandbox "$BLOCK" >"$WORK/nosb.out" \
	2>"$WORK/nosb.err" &
spid=$!
probers $spid
wait $spid
rc=$?
n22=$(awk '$2 == 22' "$WORK/truth.sorted" | wc -l)
nssh=$(grep -c ' open ssh/22 ' "$WORK/nosb.out")
if [ $rc = 0 ] && [ ! -s "$WORK/probers" ] && [ "$nssh" = "$n22" ]; then
	ok "--no-sandbox: no prober, $nssh hosts with ssh open diagnosed in process"
else
	bad "--no-sandbox: rc $rc, probers [$(cat "$WORK/probers")], ssh open $nssh of $n22"
	head -c 1000 "$WORK/nosb.err"
fi

# 7. The store: exposure report --sweep counts that sweep's hosts; a second sweep after three
# changes (a door closed, one opened on a known host, a new host) and --diff names exactly them.
ID1=$(awk '/^exposure sweep: sweep / { print $4 }' "$WORK/stage2.err")
hosts1=$(sort -u -k1,1 "$WORK/truth.sorted" | wc -l)
"$EXPOSURE" report --db "$WORK/store.db" --sweep "$ID1" >"$WORK/report1" 2>&1
rc=$?
if [ $rc = 0 ] && grep -qx "results: $hosts1" "$WORK/report1"; then
	ok "report --sweep $ID1: $hosts1 results"
else
	bad "report --sweep: rc $rc, $(grep results: "$WORK/report1"), want $hosts1"
fi
"$EXPOSURE" report --db "$WORK/store.db" >/dev/null 2>&1
[ $? = 3 ] && ok "report without --sweep: no sweep host among the service's results" ||
	bad "report without --sweep counts sweep hosts"
A=$(awk '$2 == 22 { print $1; exit }' "$WORK/truth.sorted")         # loses its 22
B=$(awk '$2 == 22 && $1 != "'"$A"'" { print $1 }' "$WORK/truth.sorted" |
	while read -r h; do grep -q "^$h 445$" "$WORK/truth.sorted" || { echo "$h"; break; }; done)
C=198.18.44.44                                                     # a new host with 22
grep -q "^$C " "$WORK/truth.sorted" && C=198.18.44.45
{ grep -v "^$A 22$" "$WORK/truth.sorted"; echo "$B 445"; echo "$C 22"; } | sort >"$WORK/truth2"
{ cat "$WORK/responders"; echo "$C"; } >"$WORK/responders2"
sweeplab_load "$WORK/truth2" "$WORK/responders2"
lab_scan "$EXPOSURE" sweep --allow "$BLOCK" --ports 22,445 --rate 50000 --wait 300 \
	--no-progress --store "$WORK/store.db" "$BLOCK" >/dev/null 2>"$WORK/sweep2.err" ||
	bad "second sweep exited $?"
ID2=$(awk '/^exposure sweep: sweep / { print $4 }' "$WORK/sweep2.err")
"$EXPOSURE" sweep --store "$WORK/store.db" --diff "$ID1" "$ID2" --json >"$WORK/diff" 2>&1 ||
	bad "--diff exited $?"
got=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    if l.startswith("{"):
        d = json.loads(l)
        if d["change"] in ("opened", "closed"):
            print(d["address"], d["change"], d["check"])' "$WORK/diff" | sort)
want=$(printf '%s closed ssh\n%s opened smb\n%s opened ssh\n' "$A" "$B" "$C" | sort)
if [ -n "$A" ] && [ -n "$B" ] && [ "$got" = "$want" ]; then
	ok "--diff: exactly the three changed doors ($(echo "$got" | tr '\n' ';'))"
else
	bad "--diff: got [$got] want [$want]"
fi
sweeplab_load "$WORK/truth" "$WORK/responders"

# 8. Privileges: once the sockets are open, no thread of the process holds a capability (none
# effective, permitted or in the bounding set) and no-new-privileges is set.
ip netns exec "$(lab_scanner_ns)" "$EXPOSURE" sweep --allow "$BLOCK" --ports 22 --ports-only \
	--no-progress --retries 0 --rate 2000 --wait 2000 --store "$WORK/caps.db" "$BLOCK" \
	>/dev/null 2>"$WORK/caps.err" &
cpid=$!
sleep 1.5
caps=$(nocaps $cpid)
wait $cpid
rc=$?
if [ $rc = 0 ] && [ "${caps%% *}" = ok ]; then
	ok "privileges: ${caps#ok }"
else
	bad "privileges: rc $rc $caps"
fi

# 10. IPv6 from a list of addresses.
# 10a. Mixed IPv4 + IPv6, --exclude with blocks of both, forged IPv6 SYN-ACKs, --progress.
# At 6,000/s the first pass lasts 1.3 s, so the progress line shows once before the last one.
cat "$WORK/exclude" "$WORK/exclude6" >"$WORK/exclude.mixed"
sweeplab_exclude "$EX1" "$EX2"
sweeplab_reset_counters
lab_spawn forge6 "$(lab_ns forger)" python3 "$HERE/forge.py" "$SCANADDR6" "$WORK/forged_src6" \
	2000 1.5 >/dev/null
lab_scan "$EXPOSURE" sweep --allow "$BLOCK" --allow 2001:db8::/32 --ports 22,445 --ports-only \
	--progress --rate 6000 --retries 1 --wait 500 --exclude "$WORK/exclude.mixed" "$BLOCK" "$WORK/targets6" \
	>"$WORK/mixed.out" 2>"$WORK/mixed.err" || bad "mixed sweep exited $?"
lab_kill forge6
awk '$3 == "open" { print $1, $2 }' "$WORK/mixed.out" | sort >"$WORK/mixed"
sort "$WORK/truth.excl" "$WORK/truth6.excl" >"$WORK/truth.mixed"
same_as_truth mixed "IPv4 block + IPv6 list, --exclude of both" "$WORK/truth.mixed"
invalid=$(grep -o 'invalid [0-9]*' "$WORK/mixed.err" | awk '{ print $2 }')
n=$(sweeplab_counter excl)
n6=$(sweeplab_counter excl6)
blk6=$(sweeplab_counter block6)
if [ "${invalid:-0}" -ge 200 ] && [ "$n" = 0 ] && [ "$n6" = 0 ] && [ "${blk6:-0}" -gt 0 ]; then
	ok "IPv6: forged SYN-ACKs refused (invalid $invalid), 0 packets to excluded IPv6 addresses ($blk6 to the /64)"
else
	bad "IPv6: invalid ${invalid:-?} (want >= 200), excluded v4 $n v6 $n6, block6 $blk6"
fi
# The progress line (\r-separated on stderr): during pass 1 and the last one, whose counts are
# the summary's; rate = sent / elapsed, ETA = what is left of the first pass at that rate.
if python3 - "$WORK/mixed.err" "$(wc -l <"$WORK/truth.mixed")" <<'PY'; then
import re, sys
text = open(sys.argv[1]).read()
want_open = int(sys.argv[2])
pat = (r"sweep: pass (\d+)/(\d+) sent (\d+) \((\d+)/s\) replies (\d+) validated (\d+) "
       r"open (\d+) ETA (\d+) s")
lines = [tuple(map(int, m)) for m in re.findall(pat, text)]
summ = re.search(r"sent (\d+) in ([0-9.]+) s, replies (\d+), validated (\d+), invalid (\d+), "
                 r"open (\d+)", text)
sent, el, replies, val, inv, opn = (float(x) for x in summ.groups())
first = int(re.search(r"first pass (\d+) in", text).group(1))  # excluded ones not sent
total = 2 * (4096 + 42)  # the space: (address, port) pairs of the shard
assert len(lines) >= 2, lines
mid, last = lines[0], lines[-1]
assert mid[:2] == (1, 2) and 3000 <= mid[2] < first, (mid, first)
assert 4800 <= mid[3] <= 7200 and mid[5] <= mid[4], mid
assert abs(mid[7] - (total - mid[2]) / mid[3]) <= 1, mid
assert last[:2] == (2, 2) and last[7] == 0, last
assert (last[2], last[4], last[5], last[6]) == (sent, replies, val, opn), (last, summ.groups())
assert opn == want_open and replies == val + inv, summ.groups()
assert abs(last[3] - sent / el) <= 0.05 * sent / el + 1, (last, el)
print(mid, last)
PY
	ok "progress line: during the first pass and at the end, counts as the summary's"
else
	bad "progress line: $(tr '\r' '\n' <"$WORK/mixed.err" | tail -4)"
fi

# 10a'. The same mixed sweep through the send ring and the receive socket: the IPv4 probes leave
# through the ring, the IPv6 ones through the AF_INET6 raw socket (the ring frames IPv4 only).
sweep mixedring --allow 2001:db8::/32 --send-path txring --recv-path socket --rate 50000 \
	--retries 1 --wait 300 --exclude "$WORK/exclude.mixed" "$WORK/targets6" ||
	bad "mixed sweep through the send ring exited $?"
same_as_truth mixedring "IPv4 block + IPv6 list, send ring for IPv4" "$WORK/truth.mixed"

# 10b. The policy before any packet: IPv6 targets without --allow for them; a /120 refused.
sweeplab_reset_counters
lab_scan "$EXPOSURE" sweep --allow "$BLOCK" --ports 22,445 "$BLOCK" "$WORK/targets6" \
	>/dev/null 2>"$WORK/pol6.err"
rc=$?
lab_scan "$EXPOSURE" sweep --allow 2001:db8::/32 --ports 22 2001:db8:5eef::/120 \
	>/dev/null 2>"$WORK/pol6b.err"
rc2=$?
sleep 0.2
blk=$(sweeplab_counter block)
blk6=$(sweeplab_counter block6)
if [ $rc = 2 ] && grep -q '2001:db8:5eef:[0-9a-f:]* refused' "$WORK/pol6.err" &&
	[ $rc2 = 2 ] && grep -q 'only from a list of addresses' "$WORK/pol6b.err" &&
	[ "$blk" = 0 ] && [ "$blk6" = 0 ]; then
	ok "IPv6 policy: refused before any packet ($(cat "$WORK/pol6.err" "$WORK/pol6b.err" | tr '\n' ' '))"
else
	bad "IPv6 policy: rc $rc/$rc2, counters $blk/$blk6: $(cat "$WORK/pol6.err" "$WORK/pol6b.err")"
fi

# 10c. Stage 2 on the IPv6 list: one diagnosis per host with an open port, OpenSSH seen on 22
# over IPv6, stored under the sweep's id as IPv6 hosts (report --by family).
lab_scan "$EXPOSURE" sweep --allow 2001:db8::/32 --ports 22,445 --rate 20000 --wait 300 \
	--retries 1 --no-progress --json --store "$WORK/store6.db" "$WORK/targets6" \
	>"$WORK/stage2v6.out" 2>"$WORK/stage2v6.err"
rc=$?
ID6=$(awk '/^exposure sweep: sweep / { print $4 }' "$WORK/stage2v6.err")
hosts6=$(sort -u -k1,1 "$WORK/truth6.sorted" | wc -l)
"$EXPOSURE" report --db "$WORK/store6.db" --sweep "$ID6" --by family >"$WORK/report6" 2>&1
if [ $rc = 0 ] && grep -qx "results: $hosts6" "$WORK/report6" &&
	grep -Eq "^IPv6 +$hosts6 " "$WORK/report6" &&
	python3 - "$WORK/stage2v6.out" "$WORK/truth6.sorted" <<'PY'; then
import json, sys
got = {}
for l in open(sys.argv[1]):
    d = json.loads(l)
    assert d["address"] not in got, "a host twice"
    got[d["address"]] = {c["check"]: c for c in d["checks"]}
truth = {}
for l in open(sys.argv[2]):
    a, p = l.split()
    truth.setdefault(a, set()).add(int(p))
assert set(got) == set(truth), set(got) ^ set(truth)
for a, ports in truth.items():
    ssh = got[a]["ssh"]
    assert ssh["state"] == ("open" if 22 in ports else "closed"), (a, ssh)
    assert 22 not in ports or ssh["service"] == "ssh", (a, ssh)
    assert got[a]["smb"]["state"] == ("open" if 445 in ports else "closed"), a
PY
	ok "IPv6 stage 2: $hosts6 hosts diagnosed (ssh over IPv6), stored in sweep $ID6"
else
	bad "IPv6 stage 2: rc $rc, $(grep results: "$WORK/report6"), want $hosts6"
	head -c 2000 "$WORK/stage2v6.err"
fi

# 9. 5% loss each way: recall 1.0 with the default retries. nftables drops at random (netem is
# not in every kernel): the probes as they arrive, the answers as they leave.
lab_exec range nft -f - <<'NFT' || bad "loss rules"
table ip sweeploss {
	chain in { type filter hook prerouting priority -400; ip daddr 198.18.32.0/20 numgen random mod 100 < 5 drop; }
	chain out { type filter hook output priority -400; ip saddr 198.18.32.0/20 numgen random mod 100 < 5 drop; }
}
table ip6 sweeploss6 {
	chain in { type filter hook prerouting priority -400; ip6 daddr 2001:db8:5eef::/64 numgen random mod 100 < 5 drop; }
	chain out { type filter hook output priority -400; ip6 saddr 2001:db8:5eef::/64 numgen random mod 100 < 5 drop; }
}
NFT
sweep lossy --rate 20000 --allow 2001:db8::/32 "$WORK/targets6" || bad "lossy sweep exited $?"
sort "$WORK/truth.sorted" "$WORK/truth6.sorted" >"$WORK/truth.both"
same_as_truth lossy "5% loss each way (IPv4 and IPv6), default retries" "$WORK/truth.both"

echo "$fails failure(s)"
[ $fails = 0 ]
