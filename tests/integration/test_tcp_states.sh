#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every TCP state verdict of `exposure check`, asserted exactly on the lab's "mixed" host, IPv4
# and IPv6: listener -> open/syn-ack; nothing -> closed/reset; nft drop -> filtered/timeout;
# nft reject with ICMP admin-prohibited, host-unreachable, port-unreachable -> filtered/unreachable
# with the ICMP type/code (as nmap -sS; -sT says closed for port-unreachable); nft reject with
# tcp reset -> closed/reset. Exit status 1 when an open risky port, 0 when none. Also: a cold
# neighbour entry with lost ARP/ND replies, and an on-link address where no host answers.
# Usage: test_tcp_states.sh PATH-TO-exposure   (root; exit 77 otherwise)
set -u
. "$(dirname "$0")/common.sh"
t_setup "${1:-}"
trap lab_down EXIT
lab_up mixed allclosed || { echo "lab did not come up"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/xp-states.XXXXXX")
# Host names for the scanner: `ip netns exec` binds /etc/netns/NS/hosts over /etc/hosts, so the
# names resolve from this file only, inside the scanner namespace (no resolver is asked).
names_dir=/etc/netns/$(lab_scanner_ns)
trap 'lab_down; rm -rf -- "$work" "$names_dir"; rmdir /etc/netns 2>/dev/null' EXIT

P_NOLISTEN=10009 # no listener, no rule: a second closed port

for fam in 4 6; do
	if [ $fam = 4 ]; then
		addr=$(lab_addr4 mixed)
		adm=(3 13) hun=(3 1) pun=(3 3)
	else
		addr=$(lab_addr6 mixed)
		adm=(1 1) hun=(1 3) pun=(1 4)
	fi

	# Mapping A: one check per kind of port, two of them open -> exit 1.
	label="IPv$fam A"
	t_check "$work/a$fam.json" --port ssh=$LAB_PORT_OPEN --port telnet=$LAB_PORT_CLOSED \
		--port netbios=$LAB_PORT_DROP --port smb=$LAB_PORT_ADMIN \
		--port rdp=$LAB_PORT_PORTUNREACH --port vnc=$LAB_PORT_RESET \
		--port skysea=$LAB_PORT_OPEN2 "$addr"
	echo "# $label: exit $T_RC, wall ${T_WALL_MS} ms"
	if t_expect_run "$work/a$fam.json" "$label" 1; then
		tj=$(t_target_json "$work/a$fam.json" "$addr")
		t_expect_top "$tj" "$label" "$addr" no
		n=$(jq '.checks | length' <<<"$tj")
		want=$("$EXPOSURE" check --list --json | jq '.checks | length')
		[ "$n" = "$want" ] && t_ok "$label: $n checks (the catalogue's)" ||
			t_fail "$label: $n checks, expected the catalogue's $want"
		t_expect "$tj" "$label" ssh $LAB_PORT_OPEN open syn-ack
		t_expect "$tj" "$label" telnet $LAB_PORT_CLOSED closed reset
		t_expect "$tj" "$label" netbios $LAB_PORT_DROP filtered timeout
		t_expect "$tj" "$label" smb $LAB_PORT_ADMIN filtered unreachable "${adm[@]}"
		t_expect "$tj" "$label" rdp $LAB_PORT_PORTUNREACH filtered unreachable "${pun[@]}"
		t_expect "$tj" "$label" vnc $LAB_PORT_RESET closed reset
		t_expect "$tj" "$label" skysea $LAB_PORT_OPEN2 open syn-ack
	fi

	# Mapping B: the kinds rotated onto other checks, host-unreachable added, nothing open
	# -> exit 0, risk none.
	label="IPv$fam B"
	t_check "$work/b$fam.json" --port ssh=$LAB_PORT_RESET --port telnet=$LAB_PORT_PORTUNREACH \
		--port netbios=$LAB_PORT_ADMIN --port smb=$LAB_PORT_HOSTUNREACH \
		--port rdp=$LAB_PORT_DROP --port vnc=$LAB_PORT_CLOSED \
		--port skysea=$P_NOLISTEN "$addr"
	echo "# $label: exit $T_RC, wall ${T_WALL_MS} ms"
	if t_expect_run "$work/b$fam.json" "$label" 0; then
		tj=$(t_target_json "$work/b$fam.json" "$addr")
		t_expect_top "$tj" "$label" "$addr" yes
		t_expect "$tj" "$label" ssh $LAB_PORT_RESET closed reset
		t_expect "$tj" "$label" telnet $LAB_PORT_PORTUNREACH filtered unreachable "${pun[@]}"
		t_expect "$tj" "$label" netbios $LAB_PORT_ADMIN filtered unreachable "${adm[@]}"
		t_expect "$tj" "$label" smb $LAB_PORT_HOSTUNREACH filtered unreachable "${hun[@]}"
		t_expect "$tj" "$label" rdp $LAB_PORT_DROP filtered timeout
		t_expect "$tj" "$label" vnc $LAB_PORT_CLOSED closed reset
		t_expect "$tj" "$label" skysea $P_NOLISTEN closed reset
	fi
done

# The default catalogue (no overrides) on a host where nothing listens: the seven checks on
# their default ports, skysea over its range 52300-52315 (one check, details.ports per port),
# everything closed/reset, exit 0.
for addr in "$(lab_addr4 allclosed)" "$(lab_addr6 allclosed)"; do
	label="defaults $addr"
	t_check "$work/c.json" "$addr"
	echo "# $label: exit $T_RC, wall ${T_WALL_MS} ms"
	if t_expect_run "$work/c.json" "$label" 0; then
		tj=$(t_target_json "$work/c.json" "$addr")
		t_expect_top "$tj" "$label" "$addr" yes
		got=$(jq -c '[.checks[] | "\(.check):\(.port)"]' <<<"$tj")
		want='["ssh:22","telnet:23","netbios:139","smb:445","rdp:3389","vnc:5900","skysea:52300"]'
		[ "$got" = "$want" ] && t_ok "$label: checks and ports in catalogue order" ||
			t_fail "$label: checks $got, expected $want"
		bad=$(jq -c '[.checks[] | select(.state != "closed" or .reason != "reset")]' <<<"$tj")
		[ "$bad" = "[]" ] && t_ok "$label: all closed/reset" || t_fail "$label: not closed: $bad"
		got=$(jq -c '[.checks[] | select(.check == "skysea") | .details.ports[]
			| "\(.port):\(.state)/\(.reason)"]' <<<"$tj")
		want=$(seq -f '%g:closed/reset' 52300 52315 | jq -R . | jq -sc .)
		[ "$got" = "$want" ] && t_ok "$label: skysea details.ports 52300-52315 closed/reset" ||
			t_fail "$label: skysea details.ports $got"
	fi
done

# A range with one open port: skysea=10001-10008 on mixed reports the first open port (10001),
# and details.ports carries every kind exactly.
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$(lab_addr4 mixed) adm="3/13" hun="3/1" pun="3/3"
	else addr=$(lab_addr6 mixed) adm="1/1" hun="1/3" pun="1/4"; fi
	label="IPv$fam range"
	t_check "$work/r.json" --port skysea=$LAB_PORT_OPEN-$LAB_PORT_OPEN2 "$addr"
	echo "# $label: exit $T_RC, wall ${T_WALL_MS} ms"
	if t_expect_run "$work/r.json" "$label" 1; then
		tj=$(t_target_json "$work/r.json" "$addr")
		t_expect "$tj" "$label" skysea $LAB_PORT_OPEN open syn-ack
		got=$(jq -r '.checks[] | select(.check == "skysea") | .details.ports[]
			| "\(.port) \(.state)/\(.reason)\(if .icmp then " \(.icmp.type)/\(.icmp.code)" else "" end)"' \
			<<<"$tj" | tr '\n' ';')
		want="10001 open/syn-ack;10002 closed/reset;10003 filtered/timeout;"
		want+="10004 filtered/unreachable $adm;10005 filtered/unreachable $hun;"
		want+="10006 filtered/unreachable $pun;10007 closed/reset;10008 open/syn-ack;"
		[ "$got" = "$want" ] && t_ok "$label: details.ports $got" ||
			t_fail "$label: details.ports $got, expected $want"
	fi
done

# A cold neighbour entry whose first answers are lost: the mixed host drops its ARP replies and
# neighbour advertisements for 1.4 s, so the scanner's SYNs wait in the kernel's neighbour queue
# until its third solicitation (2 s). On the clock alone every port would be "filtered" at 1.2 s
# (a false "safe"); the engine asks the kernel whether the next hop was resolved (neigh.c) and
# must report the exact verdicts. Then an address of the link where no host answers at all: the
# kernel gives up after its solicitations and the verdict is filtered/unreachable, not timeout.
slow_neigh_on()
{
	lab_exec mixed nft -f - <<-'EOF'
	table arp xpslow {
		chain out {
			type filter hook output priority 0; policy drop;
		}
	}
	table ip6 xpslow {
		chain out {
			type filter hook output priority 0;
			icmpv6 type nd-neighbor-advert drop
		}
	}
	EOF
}
slow_neigh_off()
{
	lab_exec mixed nft delete table arp xpslow 2>/dev/null
	lab_exec mixed nft delete table ip6 xpslow 2>/dev/null
	return 0
}
# t_check_slow_neigh SECONDS LABEL OUTFILE ARGS...: t_check from a cold neighbour cache while the
# mixed host answers no ARP / neighbour solicitation for SECONDS.
t_check_slow_neigh()
{
	local secs=$1 label=$2 undo
	shift 2
	lab_scan ip neigh flush all
	slow_neigh_on || t_fail "$label: could not install the ARP/ND drop rules"
	( sleep "$secs"; slow_neigh_off ) &
	undo=$!
	t_check "$@"
	wait "$undo"
	slow_neigh_off
	echo "# $label: exit $T_RC, wall ${T_WALL_MS} ms"
}
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$(lab_addr4 mixed) absent=198.18.1.99 adm=(3 13) pun=(3 3) hun=(3 1)
	else addr=$(lab_addr6 mixed) absent=2001:db8:1::99 adm=(1 1) pun=(1 4) hun=(1 3); fi
	label="IPv$fam cold neighbour"
	t_check_slow_neigh 1.4 "$label" "$work/n$fam.json" --port ssh=$LAB_PORT_OPEN \
		--port telnet=$LAB_PORT_CLOSED --port netbios=$LAB_PORT_DROP \
		--port smb=$LAB_PORT_ADMIN --port rdp=$LAB_PORT_PORTUNREACH \
		--port vnc=$LAB_PORT_RESET --port skysea=$LAB_PORT_OPEN2 "$addr"
	if t_expect_run "$work/n$fam.json" "$label" 1; then
		tj=$(t_target_json "$work/n$fam.json" "$addr")
		el=$(jq -r '.elapsed_ms | floor' <<<"$tj")
		# Proof that the neighbour really was slow: no answer can come before 1.4 s.
		[ "$el" -ge 1400 ] && t_ok "$label: elapsed $el ms (answers held until resolution)" ||
			t_fail "$label: elapsed $el ms; the ARP/ND drop did not hold the SYNs"
		t_expect "$tj" "$label" ssh $LAB_PORT_OPEN open syn-ack
		t_expect "$tj" "$label" skysea $LAB_PORT_OPEN2 open syn-ack
		t_expect "$tj" "$label" telnet $LAB_PORT_CLOSED closed reset
		t_expect "$tj" "$label" vnc $LAB_PORT_RESET closed reset
		t_expect "$tj" "$label" netbios $LAB_PORT_DROP filtered timeout
		t_expect "$tj" "$label" smb $LAB_PORT_ADMIN filtered unreachable "${adm[@]}"
		t_expect "$tj" "$label" rdp $LAB_PORT_PORTUNREACH filtered unreachable "${pun[@]}"
		# The RTT is the path's, not the wait for ARP (that would inflate every timeout).
		rtt=$(jq -r '.checks[] | select(.check == "ssh") | .rtt_ms' <<<"$tj")
		jq -e --argjson r "$rtt" -n '$r < 500' >/dev/null &&
			t_ok "$label: ssh rtt_ms $rtt excludes the wait for ARP/ND" ||
			t_fail "$label: ssh rtt_ms $rtt includes the wait for ARP/ND"
	fi

	# Every solicitation of the kernel's first resolution cycle lost (drop for 3.5 s): the
	# kernel fails the neighbour at ~3 s; the engine gives it one more cycle (ENGINE.md).
	label="IPv$fam failed resolution"
	t_check_slow_neigh 3.5 "$label" "$work/f$fam.json" --ports-only --port ssh=$LAB_PORT_OPEN \
		--port telnet=$LAB_PORT_CLOSED --port netbios=$LAB_PORT_DROP "$addr"
	if t_expect_run "$work/f$fam.json" "$label" 1; then
		tj=$(t_target_json "$work/f$fam.json" "$addr")
		el=$(jq -r '.elapsed_ms | floor' <<<"$tj")
		[ "$el" -ge 3500 ] && t_ok "$label: elapsed $el ms (first resolution failed)" ||
			t_fail "$label: elapsed $el ms; the ARP/ND drop did not last a resolution cycle"
		t_expect "$tj" "$label" ssh $LAB_PORT_OPEN open syn-ack
		t_expect "$tj" "$label" telnet $LAB_PORT_CLOSED closed reset
		t_expect "$tj" "$label" netbios $LAB_PORT_DROP filtered timeout
	fi

	label="IPv$fam absent on-link host"
	t_check "$work/x$fam.json" --port ssh=$LAB_PORT_OPEN "$absent"
	echo "# $label: exit $T_RC, wall ${T_WALL_MS} ms"
	if t_expect_run "$work/x$fam.json" "$label" 0; then
		tj=$(t_target_json "$work/x$fam.json" "$absent")
		t_expect "$tj" "$label" ssh $LAB_PORT_OPEN filtered unreachable "${hun[@]}"
	fi
done

# Many absent on-link addresses at once: 16 addresses x 22 ports. The kernel's own ICMP "host
# unreachable" for them is rate-limited (a burst of 50), so most sockets never hear it; the
# verdict must come from the next hop's neighbour state: filtered/unreachable, never timeout.
label="absent block"
t_check "$work/blk.json" --ports-only 198.18.1.8/29 2001:db8:1::8/125
echo "# $label: exit $T_RC, wall ${T_WALL_MS} ms"
if t_expect_run "$work/blk.json" "$label" 0; then
	got=$(jq -c '[.[] | .checks[] | select(.check == "skysea") | .details.ports[]
		| "\(.state)/\(.reason)"] + [.[] | .checks[] | "\(.state)/\(.reason)"]
		| group_by(.) | map("\(.[0]) x\(length)")' "$work/blk.json")
	[ "$got" = '["filtered/unreachable x368"]' ] &&
		t_ok "$label: 16 addresses, every port filtered/unreachable" ||
		t_fail "$label: verdicts $got, expected 368 x filtered/unreachable (16 x 7 checks + 16 x 16 SKYSEA ports)"
	# Two resolution cycles (~6.5 s); one target in 16 sometimes needs a third (~9.2 s).
	[ "$T_WALL_MS" -le 12000 ] && t_ok "$label: done in $T_WALL_MS ms" ||
		t_fail "$label: took $T_WALL_MS ms (two or three resolution cycles of ~3 s)"
fi

# Names: every address a name resolves to is diagnosed ("target" = the name), and every one goes
# through the policy: one refused address refuses the run before any probe. A name with both
# families is one visit (docs/json.md, schema 2): its addresses in "targets", each check row
# with its "address"; the door open on both families is no cross-family finding.
mkdir -p "$names_dir"
printf '%s mixed.lab.test\n%s mixed.lab.test\n' "$(lab_addr4 mixed)" "$(lab_addr6 mixed)" \
	>"$names_dir/hosts"
label="name"
t_check "$work/name.json" --ports-only --port ssh=$LAB_PORT_OPEN --port telnet=$LAB_PORT_CLOSED \
	--port netbios=$LAB_PORT_DROP mixed.lab.test
echo "# $label: exit $T_RC, wall ${T_WALL_MS} ms"
if t_expect_run "$work/name.json" "$label" 1; then
	got=$(jq -c 'if .schema == 2 and (.targets | all(.proven == "resolved")) then
		.target as $t | .targets | map("\($t) \(.address)") | sort else . end' "$work/name.json")
	want=$(jq -cn --arg a "mixed.lab.test $(lab_addr4 mixed)" --arg b "mixed.lab.test $(lab_addr6 mixed)" \
		'[$a, $b] | sort')
	[ "$got" = "$want" ] && t_ok "$label: both addresses diagnosed under the name" ||
		t_fail "$label: results $got, expected $want"
	[ "$(jq -c .findings "$work/name.json")" = "[]" ] &&
		t_ok "$label: open on both families, no cross-family finding" ||
		t_fail "$label: findings $(jq -c .findings "$work/name.json")"
	for a in "$(lab_addr4 mixed)" "$(lab_addr6 mixed)"; do
		tj=$(jq -c --arg a "$a" '{checks: [.checks[] | select(.address == $a)]}' "$work/name.json")
		t_expect "$tj" "$label $a" ssh $LAB_PORT_OPEN open syn-ack
		t_expect "$tj" "$label $a" telnet $LAB_PORT_CLOSED closed reset
		t_expect "$tj" "$label $a" netbios $LAB_PORT_DROP filtered timeout
	done
fi
label="name, IPv6 not allowed"
lab_scan "$EXPOSURE" check --json --ports-only --allow 198.18.0.0/15 --port ssh=$LAB_PORT_OPEN \
	mixed.lab.test >"$work/name6.json" 2>"$work/name6.err"
rc=$?
[ "$rc" = 2 ] && t_ok "$label: exit 2" || t_fail "$label: exit $rc, expected 2"
[ ! -s "$work/name6.json" ] && t_ok "$label: nothing probed, nothing on stdout" ||
	t_fail "$label: stdout: $(head -c 200 "$work/name6.json")"
grep -q "mixed.lab.test.*$(lab_addr6 mixed) refused" "$work/name6.err" &&
	t_ok "$label: the refusal names the address and the rule: $(cat "$work/name6.err")" ||
	t_fail "$label: stderr: $(cat "$work/name6.err")"

t_finish
