#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The sweep lab (issue 13): on top of tests/lab/lab.sh, one target namespace "range" that owns a
# whole block through an AnyIP route (`ip route add local BLOCK dev lo`), and nftables rules
# that make a known pattern answer: (address, port) pairs in @open reach a real listener
# (SYN-ACK), other ports of @responders get a RST, everything else in the block is dropped.
# Named counters count packets to @excluded addresses and everything the block receives.
# A "forger" namespace hangs off the scanner to inject packets from elsewhere.
# Addresses: the block 198.18.32.0/20 (tests) or 198.19.0.0/16 (bench), all inside 198.18.0.0/15.
# IPv6 (sweeplab_up6): a /64 inside 2001:db8::/32 owned the same way by the range, with its own
# table (ip6 sweeplab6: sets open6, responders6, excluded6; counters excl6, block6); the sweep
# takes a list of its addresses, never the block.

SWEEPLAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lab/lab.sh
. "$SWEEPLAB_DIR/../lab/lab.sh"
# shellcheck source=../lab/servers.sh
. "$SWEEPLAB_DIR/../lab/servers.sh"

# sweeplab_up BLOCK: scanner + range host (+ forger), the AnyIP route and the base ruleset.
sweeplab_up()
{
	local block=$1 scan rns
	lab_up range || return 1
	scan=$(lab_scanner_ns)
	rns=$(lab_ns range)
	ip -n "$rns" route add local "$block" dev lo || return 1
	ip -n "$scan" route add "$block" via "$(lab_addr4 range)" || return 1
	# Many half-open connections from one peer: never SYN cookies or backlog drops.
	ip netns exec "$rns" sysctl -qw net.ipv4.tcp_max_syn_backlog=65536 \
		net.core.somaxconn=65535 net.ipv4.tcp_syncookies=0 >/dev/null
	ip netns exec "$rns" nft -f - <<-NFT || return 1
	table ip sweeplab {
		set open { type ipv4_addr . inet_service; size 1048576; }
		set responders { type ipv4_addr; size 1048576; }
		set excluded { type ipv4_addr; flags interval; }
		set lports { type inet_service; }
		counter excl { }
		counter block { }
		counter syn { }
		chain input {
			type filter hook input priority 0; policy accept;
			ip daddr != $block accept
			ip daddr @excluded counter name excl
			counter name block
			tcp flags & (syn | ack) == syn counter name syn
			ip daddr . tcp dport @open accept
			ip daddr @responders tcp dport @lports reject with tcp reset
			ip daddr @responders accept
			drop
		}
	}
	NFT
}

sweeplab_range() { ip netns exec "$(lab_ns range)" "$@"; }

# sweeplab_up6 BLOCK6: the IPv6 block in the range (after sweeplab_up), the same pattern.
sweeplab_up6()
{
	local block=$1
	ip -n "$(lab_ns range)" -6 route add local "$block" dev lo || return 1
	ip -n "$(lab_scanner_ns)" -6 route add "$block" via "$(lab_addr6 range)" || return 1
	sweeplab_range nft -f - <<-NFT || return 1
	table ip6 sweeplab6 {
		set open6 { type ipv6_addr . inet_service; size 65536; }
		set responders6 { type ipv6_addr; size 65536; }
		set excluded6 { type ipv6_addr; flags interval; }
		set lports6 { type inet_service; }
		counter excl6 { }
		counter block6 { }
		chain input {
			type filter hook input priority 0; policy accept;
			ip6 daddr != $block accept
			ip6 daddr @excluded6 counter name excl6
			counter name block6
			ip6 daddr . tcp dport @open6 accept
			ip6 daddr @responders6 tcp dport @lports6 reject with tcp reset
			ip6 daddr @responders6 accept
			drop
		}
	}
	NFT
}

# sweeplab_counter NAME: packets counted so far (excl6 and block6: the IPv6 table's).
sweeplab_counter()
{
	case $1 in
	*6) sweeplab_range nft list counter ip6 sweeplab6 "$1" ;;
	*) sweeplab_range nft list counter ip sweeplab "$1" ;;
	esac | awk '/packets/ { print $2 }'
}

sweeplab_reset_counters()
{
	sweeplab_range nft reset counters table ip sweeplab >/dev/null
	if sweeplab_range nft list table ip6 sweeplab6 >/dev/null 2>&1; then
		sweeplab_range nft reset counters table ip6 sweeplab6 >/dev/null
	fi
}

# sweeplab_load6 TRUTH_FILE RESPONDERS_FILE [EXCLUDED...]: sweeplab_load for the IPv6 table;
# the excluded blocks into @excluded6.
sweeplab_load6()
{
	local f e truth=$1 resp=$2
	shift 2
	f=$(mktemp)
	{
		echo "flush set ip6 sweeplab6 open6"
		awk '{ printf "add element ip6 sweeplab6 open6 { %s . %s }\n", $1, $2 }' "$truth"
		echo "flush set ip6 sweeplab6 responders6"
		awk '{ printf "add element ip6 sweeplab6 responders6 { %s }\n", $1 }' "$resp"
		echo "flush set ip6 sweeplab6 excluded6"
		for e in "$@"; do echo "add element ip6 sweeplab6 excluded6 { $e }"; done
	} >"$f"
	sweeplab_range nft -f "$f"
	local r=$?
	rm -f "$f"
	return $r
}

# sweeplab_load TRUTH_FILE RESPONDERS_FILE: "ADDR PORT" lines into @open, addresses into
# @responders (elements in batches so the command lines stay short).
sweeplab_load()
{
	local f
	f=$(mktemp)
	{
		echo "flush set ip sweeplab open"
		awk '{ printf "add element ip sweeplab open { %s . %s }\n", $1, $2 }' "$1"
		echo "flush set ip sweeplab responders"
		awk '{ printf "add element ip sweeplab responders { %s }\n", $1 }' "$2"
	} >"$f"
	sweeplab_range nft -f "$f"
	local r=$?
	rm -f "$f"
	return $r
}

# sweeplab_exclude ELEMENT...: the blocks the counter "excl" watches.
sweeplab_exclude()
{
	local e
	sweeplab_range nft flush set ip sweeplab excluded
	for e in "$@"; do
		sweeplab_range nft add element ip sweeplab excluded "{ $e }" || return 1
	done
}

# sweeplab_ports PORT...: the ports with a listener (closed by RST where not in @open), in the
# IPv6 table too when it is there (sweeplab_up6 first).
sweeplab_ports()
{
	local p v6=
	sweeplab_range nft list table ip6 sweeplab6 >/dev/null 2>&1 && v6=1
	sweeplab_range nft flush set ip sweeplab lports
	[ -z "$v6" ] || sweeplab_range nft flush set ip6 sweeplab6 lports6
	for p in "$@"; do
		sweeplab_range nft add element ip sweeplab lports "{ $p }" || return 1
		[ -z "$v6" ] || sweeplab_range nft add element ip6 sweeplab6 lports6 "{ $p }" ||
			return 1
	done
}

# sweeplab_forger: a namespace joined to the scanner by its own veth (198.18.21.0/24), for
# packets that do not come from the range.
sweeplab_forger()
{
	local scan fns
	scan=$(lab_scanner_ns)
	fns=$(lab_ns forger)
	lab_ns_base "$fns" || return 1
	ip link add s-forger netns "$scan" type veth peer name eth0 netns "$fns" || return 1
	ip -n "$scan" addr add 198.18.21.1/24 dev s-forger
	ip -n "$fns" addr add 198.18.21.2/24 dev eth0
	ip -n "$scan" addr add 2001:db8:21::1/64 dev s-forger nodad
	ip -n "$fns" addr add 2001:db8:21::2/64 dev eth0 nodad
	ip -n "$scan" link set s-forger up
	ip -n "$fns" link set eth0 up
	# The forged replies claim to come from the range: the scanner must not drop them by
	# reverse-path filtering before the packet socket could see them (it sees them first
	# anyway; this keeps the kernel's own answer deterministic).
	ip netns exec "$scan" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.s-forger.rp_filter=0 >/dev/null
	lab_wait_link "$scan" s-forger && lab_wait_link "$fns" eth0
}

# sweeplab_servers: real listeners on every address of the blocks (the AnyIP routes): OpenSSH on
# 22 (IPv4 and IPv6), the lab listener on 445, and RSTs for the other ports of the responders there.
sweeplab_servers()
{
	local d
	d=$(lab_srv_dir sshd-range) || return 1
	ssh-keygen -q -t ed25519 -N '' -C lab -f "$d/hk" || return 1
	cat >"$d/sshd_config" <<-CONF
	Port 22
	ListenAddress 0.0.0.0
	ListenAddress ::
	HostKey $d/hk
	PidFile $d/sshd.pid
	UsePAM no
	StrictModes no
	PermitRootLogin no
	MaxStartups 1000
	CONF
	lab_srv_start sshd-range range 22 -- sh -c \
		'mount -t tmpfs -o mode=755,size=1m lab-run /run && mkdir -m 755 /run/sshd && exec "$@"' \
		sh /usr/sbin/sshd -D -e -f "$d/sshd_config" >/dev/null || return 1
	lab_listen range 445 >/dev/null || return 1
	sweeplab_ports 22 445
}
