#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The UDP checks and the profiles (issue 12 §1-3) against REAL Debian servers in one namespace
# lab host, through `exposure check --json` from the scanner namespace (and so through the
# sandboxed prober and its seccomp filter):
#   memcached 1.6.18 on 11211 with UDP on (-U 11211): memcached-exposed with the version (TCP),
#     memcached-udp-amplifier (UDP); a second memcached on 21211 with UDP off (-U 0): the UDP
#     check gets ICMP port unreachable there, closed;
#   miniupnpd 2.3.1 (listening on the host's veth) answers our unicast M-SEARCH: upnp-exposed
#     with its SERVER and LOCATION;
#   nft in the host: UDP 1901 dropped (open|filtered: never closed, no finding), 1902 rejected
#     with ICMP administratively prohibited (filtered 3/13), 1903 nothing (closed 3/3).
# What no real server sends is EMULATED (tests/emul/udp_emul.py): garbage, a 60000-byte
# datagram, an answer cut at 100 bytes, 50 datagrams per request, an echo: each an open port,
# never upnp-exposed from it, no crash (the whole run is under ASan in the test build).
# Profiles: without --profile/--checks the run is the 2017 one (none of these checks);
# --profile extended runs every check of the catalogue.
# Usage: test_udp_checks.sh PATH-TO-exposure   (root; exit 77 otherwise)
set -u
. "$(dirname "$0")/common.sh"
t_setup "${1:-}"
for t in memcached miniupnpd nft; do
	command -v "$t" >/dev/null || { echo "$t missing: run scripts/setup.sh test" >&2; exit 1; }
done
trap 'lab_down' EXIT
lab_up srv || { echo "lab did not come up"; exit 1; }
a4=$(lab_addr4 srv)
a6=$(lab_addr6 srv)
ns=$(lab_ns srv)
out=$LAB_STATE/out.json
t0=$SECONDS

up() { "$@" >/dev/null || { t_fail "could not start: $*"; exit 1; }; }
up lab_srv_start memcached-udp srv 11211 -- memcached -u nobody -l "$a4" -l "[$a6]" \
	-p 11211 -U 11211 -t 1 -m 8
up lab_srv_start memcached-tcp srv 21211 -- memcached -u nobody -l "$a4" -l "[$a6]" \
	-p 21211 -U 0 -t 1 -m 8
d=$(lab_srv_dir miniupnpd)
cat >"$d/miniupnpd.conf" <<CONF
ext_ifname=lo
listening_ip=eth0
port=5555
enable_natpmp=no
enable_upnp=yes
secure_mode=yes
uuid=00000000-0000-0000-0000-000000000001
allow 1024-65535 198.18.0.0/15 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
up lab_srv_start miniupnpd srv 5555 -- miniupnpd -d -f "$d/miniupnpd.conf" -P "$d/pid"
up lab_spawn udp-emul "$ns" python3 "$TESTS_DIR/emul/udp_emul.py" "$a4" 1910=garbage \
	1911=huge 1912=truncated 1913=flood 1914=echo
lab_exec srv nft -f - <<'NFT' || { t_fail "nft rules"; exit 1; }
table inet udplab {
	chain input {
		type filter hook input priority 0;
		udp dport 1901 drop
		meta nfproto ipv4 udp dport 1902 reject with icmp type admin-prohibited
		meta nfproto ipv6 udp dport 1902 reject with icmpv6 type admin-prohibited
	}
}
NFT
for i in $(seq 1 100); do # the emulator binds before it prints
	grep -q serving "$LAB_STATE/log/udp-emul.log" 2>/dev/null && break
	sleep 0.05
done
echo "# lab up in $((SECONDS - t0)) s"

t_findings()
{
	local label=$1 e=$2 want=$3 got w f
	got=$(jq -r '[.findings[] | "\(.id)=\(.severity)=\(.confidence)"] | sort | join(" ")' <<<"$e")
	w=$(for f in $want; do echo "$f"; done | sort | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$w" ] && t_ok "$label: findings ${got:-none}" || t_fail "$label: findings '$got', want '$w': $e"
}
t_jq() { jq -e "$3" <<<"$2" >/dev/null && t_ok "$1: $3" || t_fail "$1: $3 is false: $2"; }
entry() { jq -c --arg c "$2" '.checks[] | select(.check == $c)' <<<"$1"; }

# 1. The three checks on their default ports, IPv4 and IPv6 in one run.
t_check "$out" --checks ssdp,memcached,memcached-udp "$a4" "$a6"
t_expect_run "$out" "defaults" 1
for a in "$a4" "$a6"; do
	j=$(t_target_json "$out" "$a")
	e=$(entry "$j" memcached)
	t_jq "memcached $a" "$e" '.state == "open" and .port == 11211 and .details.version == "1.6.18"'
	t_findings "memcached $a" "$e" "memcached-exposed=high=confirmed"
	e=$(entry "$j" memcached-udp)
	t_jq "memcached-udp $a" "$e" '.state == "open" and .reason == "udp-response" and .details.version == "1.6.18" and .details.bytes == 24 and .details.request_bytes == 17'
	t_findings "memcached-udp $a" "$e" "memcached-udp-amplifier=high=confirmed"
done
j=$(t_target_json "$out" "$a4")
e=$(entry "$j" ssdp)
t_jq "ssdp $a4" "$e" '.state == "open" and .reason == "udp-response" and .service == "ssdp" and (.details.server | test("MiniUPnPd/2.3.1$")) and .details.location == "http://'"$a4"':5555/rootDesc.xml" and .details.st == "upnp:rootdevice"'
t_findings "ssdp $a4" "$e" "upnp-exposed=high=confirmed"
# miniupnpd answers IPv6 searches only on its IPv6 multicast groups: the unicast one to the
# address gets nothing back, which must read open|filtered, never closed.
e=$(entry "$(t_target_json "$out" "$a6")" ssdp)
t_jq "ssdp $a6" "$e" '.state == "open|filtered" or .state == "open"'
t_jq "ssdp $a6" "$e" '.state != "closed"'

# 2. Each verdict of the UDP engine on one run: ssdp over nine ports, memcached-udp over two.
t_check "$out" --checks ssdp,memcached-udp --port ssdp=1900-1903,1910-1914 \
	--port memcached-udp=11211,21211 "$a4"
t_expect_run "$out" "verdicts" 1
j=$(cat "$out")
e=$(entry "$j" ssdp)
t_jq "ssdp ports" "$e" '.state == "open" and .port == 1900'
port() { jq -c --argjson p "$2" '.details.ports[] | select(.port == $p)' <<<"$1"; }
t_jq "ssdp 1900" "$(port "$e" 1900)" '.state == "open" and .reason == "udp-response"'
t_jq "ssdp 1901 dropped" "$(port "$e" 1901)" '.state == "open|filtered" and .reason == "timeout" and .icmp == null'
t_jq "ssdp 1902 prohibited" "$(port "$e" 1902)" '.state == "filtered" and .reason == "unreachable" and .icmp.type == 3 and .icmp.code == 13'
t_jq "ssdp 1903 nothing" "$(port "$e" 1903)" '.state == "closed" and .reason == "unreachable" and .icmp.type == 3 and .icmp.code == 3'
for p in 1910 1911 1912 1913 1914; do
	t_jq "ssdp $p emulated" "$(port "$e" $p)" '.state == "open" and .reason == "udp-response"'
done
t_findings "ssdp ports" "$e" "upnp-exposed=high=confirmed"
e=$(entry "$j" memcached-udp)
t_jq "memcached-udp 21211 (UDP off)" "$(port "$e" 21211)" '.state == "closed" and .icmp.type == 3 and .icmp.code == 3'
t_jq "memcached-udp 11211" "$(port "$e" 11211)" '.state == "open"'

# 3. The hostile peers alone. Garbage, a 500 flood and an echo answer but are not a discovery
# answer: open, never upnp-exposed confirmed (the door's own finding stays possible). A 200 with
# SERVER in 60000 bytes, or a real answer cut at 100 bytes, is still a device answering
# M-SEARCH: upnp-exposed, with what fitted in max_rx ("truncated" past a value's cap).
for p in 1910 1913 1914; do
	t_check "$out" --checks ssdp --port ssdp=$p "$a4"
	e=$(entry "$(cat "$out")" ssdp)
	t_jq "ssdp $p alone" "$e" '.state == "open" and ([.findings[] | select(.id == "upnp-exposed" and .confidence == "confirmed")] | length == 0)'
done
t_check "$out" --checks ssdp --port ssdp=1911 "$a4"
t_jq "ssdp 1911 huge" "$(entry "$(cat "$out")" ssdp)" '.state == "open" and .details.bytes == 4096 and .details.truncated == true and (.details.server | length) == 255 and ([.findings[] | select(.id == "upnp-exposed" and .confidence == "confirmed")] | length == 1)'
t_check "$out" --checks ssdp --port ssdp=1912 "$a4"
t_jq "ssdp 1912 cut" "$(entry "$(cat "$out")" ssdp)" '.state == "open" and .details.st == "upnp:rootdevice" and .details.bytes == 100 and ([.findings[] | select(.id == "upnp-exposed")] | length == 1)'

# 4. No answer at all is open|filtered, in the document and in words; never a finding.
t_check "$out" --checks ssdp --port ssdp=1901 "$a4"
t_expect_run "$out" "dropped" 0
e=$(entry "$(cat "$out")" ssdp)
t_jq "ssdp dropped" "$e" '.state == "open|filtered" and .findings == [] and .tries == 2'
text=$(lab_scan "$EXPOSURE" check --no-color --allow 198.18.0.0/15 --checks ssdp \
	--port ssdp=1901 "$a4")
grep -q "Not known: no answer over UDP" <<<"$text" && t_ok "text: not known" ||
	t_fail "text: $text"
grep -q "1 UDP check got no answer at all: open or filtered, not known." <<<"$text" &&
	t_ok "text: summary says so" || t_fail "text summary: $text"

# 5. Profiles: the default run is the 2017 one; extended runs the whole catalogue.
t_check "$out" "$a4"
n2017=$(lab_scan "$EXPOSURE" check --list --json | jq '.checks | length')
t_jq "default profile" "$(cat "$out")" "(.checks | length) == $n2017 and ([.checks[] | select(.check == \"ssdp\" or .check == \"memcached\")] | length == 0)"
t_check "$out" --profile extended "$a4"
nall=$(lab_scan "$EXPOSURE" check --list --json --profile extended | jq '.checks | length')
t_jq "extended profile" "$(cat "$out")" "(.checks | length) == $nall and ([.checks[] | select(.check == \"ssdp\" and .state == \"open\")] | length == 1)"
[ "$nall" -gt "$n2017" ] && t_ok "extended ($nall) holds more than 2017 ($n2017)" ||
	t_fail "extended $nall, 2017 $n2017"

echo "# $((SECONDS - t0)) s in all"
t_finish
