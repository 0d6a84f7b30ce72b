#!/bin/sh
# SPDX-License-Identifier: MIT
# The engine test's own two-namespace lab: `netns.sh up PREFIX` / `netns.sh down PREFIX`.
# PREFIX-s is the scanner, PREFIX-t the target (198.18.200.2, 2001:db8:200::2) with, per port:
# 10001 socat listener, 10002 nothing, 10003 and 10010-10019 drop, 10004 reject admin-prohibited,
# 10005 reject host-unreachable, 10006 reject port-unreachable, 10007 reject with tcp reset.
set -eu
cmd=$1
p=$2
S=$p-s
T=$p-t
state=${TMPDIR:-/tmp}/$p

up() {
	ip netns add "$S"
	ip netns add "$T"
	# Created inside the namespaces: the root namespace never holds a lab link or route.
	ip link add veth0 netns "$S" type veth peer name veth0 netns "$T"
	for ns in "$S" "$T"; do
		ip -n "$ns" link set lo up
		ip -n "$ns" link set veth0 up
	done
	ip -n "$S" addr add 198.18.200.1/24 dev veth0
	ip -n "$T" addr add 198.18.200.2/24 dev veth0
	ip -n "$S" addr add 2001:db8:200::1/64 dev veth0 nodad
	ip -n "$T" addr add 2001:db8:200::2/64 dev veth0 nodad
	# Linux rate-limits ICMP errors per peer; the test wants every REJECT answered.
	ip netns exec "$T" sysctl -qw net.ipv4.icmp_ratemask=0 net.ipv6.icmp.ratelimit=0
	ip netns exec "$T" nft -f - <<EOF
table inet xpeng {
	chain in {
		type filter hook input priority 0; policy accept;
		tcp dport { 10003, 10010-10019 } drop
		tcp dport 10004 reject with icmpx type admin-prohibited
		tcp dport 10005 reject with icmpx type host-unreachable
		tcp dport 10006 reject with icmpx type port-unreachable
		tcp dport 10007 reject with tcp reset
	}
}
EOF
	mkdir -p "$state"
	setsid ip netns exec "$T" socat TCP6-LISTEN:10001,ipv6only=0,reuseaddr,fork EXEC:/bin/cat \
		</dev/null >"$state/socat.log" 2>&1 &
	echo $! >"$state/socat.pid"
	i=0
	while [ $i -lt 50 ]; do
		if ip netns exec "$T" ss -Hltn 'sport = :10001' | grep -q .; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "netns.sh: socat did not listen" >&2
	return 1
}

down() {
	if [ -f "$state/socat.pid" ]; then
		kill "$(cat "$state/socat.pid")" 2>/dev/null || true
	fi
	ip netns del "$S" 2>/dev/null || true
	ip netns del "$T" 2>/dev/null || true
	rm -rf "$state"
}

case $cmd in
up) up ;;
down) down ;;
*) echo "usage: netns.sh up|down PREFIX" >&2; exit 2 ;;
esac
