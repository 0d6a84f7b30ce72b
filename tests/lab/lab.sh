#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The namespace lab: a scanner namespace and target hosts in Linux network namespaces, joined by
# veth pairs created directly inside the namespaces (the root namespace never gets a lab
# interface or route; no namespace has a default route). Addresses only from 198.18.0.0/15 and
# 2001:db8::/32. Real servers (sshd, telnetd, smbd, Xtigervnc, xrdp) can be started in a host.
#
# Use as a library:            . tests/lab/lab.sh; lab_require_root; trap lab_down EXIT; lab_up
# or from the command line:    tests/lab/lab.sh up [HOST...] | down | status
# Environment: LAB_PREFIX (default "xplab") prefixes every namespace, so parallel labs never
# collide; LAB_STATE (default ${TMPDIR:-/tmp}/exposure-lab.$LAB_PREFIX) holds PIDs, logs and
# server configs. Function reference: docs/internals/TESTING.md.

LAB_PREFIX=${LAB_PREFIX:-xplab}
LAB_STATE=${LAB_STATE:-${TMPDIR:-/tmp}/exposure-lab.$LAB_PREFIX}
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PY=/usr/bin/python3
LAB_READY_TIMEOUT=${LAB_READY_TIMEOUT:-15}

# Port plan of the "mixed" host (and its twin "lossy"): one port per kind, >= 10000 and below the
# ephemeral range (32768), as PROTOCOLS.md §12.1 numbers them.
LAB_PORT_OPEN=10001        # listener                                -> open / syn-ack
LAB_PORT_CLOSED=10002      # nothing listens                         -> closed / reset
LAB_PORT_DROP=10003        # nft drop                                -> filtered / timeout
LAB_PORT_ADMIN=10004       # nft reject icmpx admin-prohibited (3/13, v6 1/1)  -> filtered / unreachable
LAB_PORT_HOSTUNREACH=10005 # nft reject icmpx host-unreachable (3/1, v6 1/3)   -> filtered / unreachable
LAB_PORT_PORTUNREACH=10006 # nft reject icmpx port-unreachable (3/3, v6 1/4)   -> filtered / unreachable
LAB_PORT_RESET=10007       # nft reject with tcp reset               -> closed / reset
LAB_PORT_OPEN2=10008       # a second listener
LAB_PORTS_OPEN7="10011 10012 10013 10014 10015 10016 10017" # seven more listeners
# The real default ports of the catalogue (the benchmark hosts use them; root in a namespace may
# listen on low ports).
LAB_DEFAULT_PORTS="22 23 139 445 3389 5900 52300-52315"

# Predefined hosts: name, index (address 198.18.INDEX.2 / 2001:db8:INDEX::2), profile.
LAB_HOSTS_ALL="mixed lossy allopen allclosed allfiltered srv"
LAB_LOSSY_DELAY_MS=${LAB_LOSSY_DELAY_MS:-300}
LAB_LOSSY_LOSS=${LAB_LOSSY_LOSS:-10}
LAB_LOSSY_BOTH=${LAB_LOSSY_BOTH:-0}

lab_log() { printf 'lab: %s\n' "$*" >&2; }

# Exit 77 (skipped) unless root; the tests call it first.
lab_require_root()
{
	if [ "$(id -u)" != 0 ]; then
		echo "lab: needs root (network namespaces); skipping" >&2
		exit 77
	fi
	local t
	for t in ip nft tc ss "$LAB_PY"; do
		command -v "$t" >/dev/null 2>&1 || { echo "lab: missing $t; skipping" >&2; exit 77; }
	done
}

lab_scanner_ns() { printf '%s-scan\n' "$LAB_PREFIX"; }
lab_ns() { printf '%s-%s\n' "$LAB_PREFIX" "$1"; }

# Index of a host: predefined ones are fixed, others come from the state file.
lab_host_index()
{
	case $1 in
	mixed) echo 1 ;; lossy) echo 2 ;; allopen) echo 3 ;; allclosed) echo 4 ;;
	allfiltered) echo 5 ;; srv) echo 6 ;;
	*)
		local idx
		idx=$(awk -v h="$1" '$1 == h { print $2 }' "$LAB_STATE/hosts" 2>/dev/null)
		[ -n "$idx" ] || { lab_log "unknown host $1"; return 1; }
		echo "$idx"
		;;
	esac
}

lab_addr4() { local i; i=$(lab_host_index "$1") || return 1; echo "198.18.$i.2"; }
lab_addr6() { local i; i=$(lab_host_index "$1") || return 1; echo "2001:db8:$i::2"; }
lab_scanner_addr4() { local i; i=$(lab_host_index "$1") || return 1; echo "198.18.$i.1"; }
lab_scanner_addr6() { local i; i=$(lab_host_index "$1") || return 1; echo "2001:db8:$i::1"; }

# Run a command in the scanner namespace / in a host's namespace.
lab_scan() { ip netns exec "$(lab_scanner_ns)" "$@"; }
lab_exec() { local h=$1; shift; ip netns exec "$(lab_ns "$h")" "$@"; }

# Expand "22 52300-52302" into "22 52300 52301 52302".
lab_expand_ports()
{
	local p out=()
	for p in ${*//,/ }; do
		if [[ $p == *-* ]]; then
			out+=($(seq "${p%-*}" "${p#*-}"))
		else
			out+=("$p")
		fi
	done
	echo "${out[*]}"
}

lab_ns_base()
{
	local ns=$1
	ip netns add "$ns" || return 1
	echo "ns $ns" >>"$LAB_STATE/namespaces"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null 2>&1
}

# Spawn a daemon in a namespace: lab_spawn NAME NS CMD...
# Runs `setsid ip netns exec NS CMD` in the background, stdin from /dev/null, output to
# $LAB_STATE/log/NAME.log; records the daemon's own PID (written by the shell that execs into it)
# in $LAB_STATE/pids and prints it. lab_down (or lab_kill NAME) stops it by that PID.
lab_spawn()
{
	local name=$1 ns=$2 pidf log pid i
	shift 2
	mkdir -p "$LAB_STATE/log" "$LAB_STATE/run"
	pidf="$LAB_STATE/run/$name.pid"
	log="$LAB_STATE/log/$name.log"
	rm -f "$pidf"
	# shellcheck disable=SC2016
	setsid sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec ip netns exec "$@"' \
		"$pidf" "$ns" "$@" </dev/null >"$log" 2>&1 &
	for i in $(seq 1 200); do
		[ -s "$pidf" ] && break
		sleep 0.01
	done
	pid=$(cat "$pidf" 2>/dev/null)
	[ -n "$pid" ] || { lab_log "spawn $name: no pid"; return 1; }
	echo "$pid $name $ns" >>"$LAB_STATE/pids"
	echo "$pid"
}

# Stop one spawned process (by name or PID) and its process group.
lab_kill()
{
	local key=$1 pid name ns
	while read -r pid name ns; do
		[ "$key" = "$pid" ] || [ "$key" = "$name" ] || continue
		lab_kill_pid "$pid"
		sed -i "/^$pid /d" "$LAB_STATE/pids"
	done < <(cat "$LAB_STATE/pids" 2>/dev/null)
}

# True while a process exists and is not a zombie.
lab_alive()
{
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Stop processes by PID: SIGTERM to each one and its process group (setsid made each a group
# leader, so the group holds only the daemon and its children), wait up to 3 s, then SIGKILL.
lab_kill_pid()
{
	local pid i left
	for pid in "$@"; do
		kill -TERM -- "-$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	for i in $(seq 1 60); do
		left=
		for pid in "$@"; do
			lab_alive "$pid" && left=1
		done
		[ -z "$left" ] && break
		sleep 0.05
	done
	for pid in "$@"; do
		if lab_alive "$pid"; then
			kill -KILL -- "-$pid" 2>/dev/null
			kill -KILL "$pid" 2>/dev/null
		fi
		# reap it if this shell started it
		wait "$pid" 2>/dev/null
	done
	return 0
}

# Wait until every PORT is in LISTEN in namespace NS (bounded, LAB_READY_TIMEOUT seconds).
lab_wait_listen()
{
	local ns=$1 deadline p missing
	shift
	deadline=$((SECONDS + LAB_READY_TIMEOUT))
	while :; do
		missing=
		local listening
		listening=$(ip netns exec "$ns" ss -Hltn 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
		for p in $(lab_expand_ports "$@"); do
			grep -qx "$p" <<<"$listening" || { missing="$missing $p"; break; }
		done
		[ -z "$missing" ] && return 0
		if [ $SECONDS -ge $deadline ]; then
			lab_log "not listening in $ns after ${LAB_READY_TIMEOUT}s:$missing"
			return 1
		fi
		sleep 0.05
	done
}

# Create a target host joined to the scanner: lab_host_add NAME [PROFILE] (profile defaults to
# the name for predefined hosts, "empty" otherwise: no listener, no firewall).
# Profiles: mixed, allopen, allclosed, allfiltered, empty.
lab_host_add()
{
	local name=$1 profile=${2:-} idx ns scan sif a4 a6
	case $name in
	mixed | lossy | allopen | allclosed | allfiltered | srv) ;;
	*)
		if ! lab_host_index "$name" >/dev/null 2>&1; then
			idx=$(( $(awk 'BEGIN { m = 19 } $2 > m { m = $2 } END { print m }' \
				"$LAB_STATE/hosts" 2>/dev/null || echo 19) + 1 ))
			[ "$idx" -le 250 ] || { lab_log "too many hosts"; return 1; }
			echo "$name $idx" >>"$LAB_STATE/hosts"
		fi
		;;
	esac
	[ ${#name} -le 13 ] || { lab_log "host name too long: $name"; return 1; }
	if [ -z "$profile" ]; then
		case $name in
		lossy) profile=mixed ;;
		srv) profile=empty ;;
		mixed | allopen | allclosed | allfiltered) profile=$name ;;
		*) profile=empty ;;
		esac
	fi
	idx=$(lab_host_index "$name") || return 1
	ns=$(lab_ns "$name")
	scan=$(lab_scanner_ns)
	sif="s-$name"
	a4=$(lab_addr4 "$name")
	a6=$(lab_addr6 "$name")
	lab_ns_base "$ns" || return 1
	if [ "$name" = lossy ] && ! lab_netem_link "$name"; then
		lab_relay_link "$name" || return 1
	elif [ "$name" != lossy ]; then
		ip link add "$sif" netns "$scan" type veth peer name eth0 netns "$ns" || return 1
	fi
	ip -n "$scan" addr add "198.18.$idx.1/24" dev "$sif"
	ip -n "$scan" addr add "2001:db8:$idx::1/64" dev "$sif" nodad
	ip -n "$ns" addr add "$a4/24" dev eth0
	ip -n "$ns" addr add "$a6/64" dev eth0 nodad
	ip -n "$scan" link set "$sif" up
	ip -n "$ns" link set eth0 up
	# libpcap readers (nmap -sS) drop bursts on a veth with offloads on (TESTING.md).
	ip netns exec "$scan" ethtool -K "$sif" tso off gso off sg off tx off >/dev/null 2>&1
	# Linux rate-limits ICMP errors per peer; REJECT answers must never turn into silence.
	ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratemask=0 net.ipv6.icmp.ratelimit=0 >/dev/null
	ip netns exec "$ns" sysctl -qw net.ipv4.icmp_msgs_per_sec=100000 \
		net.ipv4.icmp_msgs_burst=100000 >/dev/null 2>&1
	echo "host $name $profile" >>"$LAB_STATE/namespaces"
	lab_profile "$name" "$profile" || return 1
	lab_wait_link "$scan" "$sif" && lab_wait_link "$ns" eth0
}

# Wait (bounded) until a link has carrier: changing offloads bounces a veth for a moment.
lab_wait_link()
{
	local i
	for i in $(seq 1 300); do
		ip -n "$1" link show "$2" 2>/dev/null | grep -q 'LOWER_UP' && return 0
		sleep 0.01
	done
	lab_log "link $2 in $1 has no carrier"
	return 1
}

# The lossy host's link where the kernel has sch_netem: a veth pair and `tc netem` on the
# target's egress (and the scanner's with LAB_LOSSY_BOTH=1). Returns non-zero, leaving nothing
# behind, where netem is missing; LAB_NETEM=relay forces the relay below.
lab_netem_link()
{
	local name=$1 ns scan sif netem
	[ "${LAB_NETEM:-}" = relay ] && return 1
	ns=$(lab_ns "$name")
	scan=$(lab_scanner_ns)
	sif="s-$name"
	netem=(netem delay "${LAB_LOSSY_DELAY_MS}ms" loss "${LAB_LOSSY_LOSS}%")
	ip link add "$sif" netns "$scan" type veth peer name eth0 netns "$ns" || return 1
	if ! ip netns exec "$ns" tc qdisc add dev eth0 root "${netem[@]}" 2>/dev/null ||
		{ [ "$LAB_LOSSY_BOTH" = 1 ] &&
			! ip netns exec "$scan" tc qdisc add dev "$sif" root "${netem[@]}" 2>/dev/null; }; then
		ip -n "$scan" link del "$sif" 2>/dev/null
		return 1
	fi
	lab_log "lossy link: tc netem ${netem[*]:1}"
	return 0
}

# The lossy host's link where the kernel has no sch_netem (this machine): instead of a veth pair with
# `tc qdisc add dev eth0 root netem delay 300ms loss 10%` the link is a pair of TAP devices
# bridged by tests/lab/netem.py, which delays and drops frames the same way. Frames from the
# target to the scanner (the target's egress, where netem would sit) get LAB_LOSSY_DELAY_MS and
# LAB_LOSSY_LOSS percent loss; with LAB_LOSSY_BOTH=1 the scanner's frames too.
lab_relay_link()
{
	local name=$1 ns scan sif ready i ab=(--delay-ab 0 --loss-ab 0)
	ns=$(lab_ns "$name")
	scan=$(lab_scanner_ns)
	sif="s-$name"
	ready="$LAB_STATE/run/netem-$name.ready"
	mkdir -p "$LAB_STATE/run"
	[ "$LAB_LOSSY_BOTH" = 1 ] && ab=(--delay-ab "$LAB_LOSSY_DELAY_MS" --loss-ab "$LAB_LOSSY_LOSS")
	lab_spawn "netem-$name" "$scan" "$LAB_PY" "$LAB_DIR/netem.py" --a "$sif" --b "t-$name" \
		--ready "$ready" "${ab[@]}" --delay-ba "$LAB_LOSSY_DELAY_MS" \
		--loss-ba "$LAB_LOSSY_LOSS" >/dev/null || return 1
	for i in $(seq 1 300); do
		[ -s "$ready" ] && break
		sleep 0.01
	done
	[ -s "$ready" ] || { lab_log "netem relay for $name did not start"; return 1; }
	ip -n "$scan" link set "t-$name" netns "$ns" || return 1
	ip -n "$ns" link set "t-$name" name eth0 || return 1
}

# Shape a host: listeners and nftables rules of a profile.
lab_profile()
{
	local name=$1 profile=$2 ns
	ns=$(lab_ns "$name")
	case $profile in
	mixed)
		ip netns exec "$ns" nft -f - <<-EOF || return 1
		table inet lab {
			chain input {
				type filter hook input priority 0; policy accept;
				tcp dport $LAB_PORT_DROP counter drop
				tcp dport $LAB_PORT_ADMIN counter reject with icmpx type admin-prohibited
				tcp dport $LAB_PORT_HOSTUNREACH counter reject with icmpx type host-unreachable
				tcp dport $LAB_PORT_PORTUNREACH counter reject with icmpx type port-unreachable
				tcp dport $LAB_PORT_RESET counter reject with tcp reset
			}
		}
		EOF
		lab_listen "$name" "$LAB_PORT_OPEN" "$LAB_PORT_OPEN2" $LAB_PORTS_OPEN7 >/dev/null || return 1
		;;
	allopen)
		lab_listen "$name" $LAB_DEFAULT_PORTS $LAB_PORTS_OPEN7 >/dev/null || return 1
		;;
	allclosed | empty) ;;
	allfiltered)
		ip netns exec "$ns" nft -f - <<-EOF || return 1
		table inet lab {
			chain input {
				type filter hook input priority 0; policy accept;
				meta l4proto tcp counter drop
			}
		}
		EOF
		;;
	*) lab_log "unknown profile $profile"; return 1 ;;
	esac
}

# Start the lab's listener on PORTS (numbers or FIRST-LAST) in a host, IPv4 and IPv6; waits
# until they listen. lab_listen HOST [--banner TEXT] PORT...  Prints the PID.
lab_listen()
{
	local host=$1 ns pid ports=() opts=()
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--banner | --idle) opts+=("$1" "$2"); shift 2 ;;
		*) ports+=("$1"); shift ;;
		esac
	done
	ns=$(lab_ns "$host")
	pid=$(lab_spawn "listen-$host-${ports[0]}" "$ns" "$LAB_PY" "$LAB_DIR/listener.py" \
		"${opts[@]}" "${ports[@]}") || return 1
	lab_wait_listen "$ns" "${ports[@]}" || return 1
	echo "$pid"
}

# Bring the lab up: lab_up [HOST...] (default: every predefined host).
lab_up()
{
	local hosts=("$@") h
	[ ${#hosts[@]} -gt 0 ] || read -r -a hosts <<<"$LAB_HOSTS_ALL"
	if [ -e "$LAB_STATE/namespaces" ] || ip netns list | grep -q "^$LAB_PREFIX-"; then
		lab_log "stale lab with prefix $LAB_PREFIX: tearing it down first"
		lab_down
	fi
	mkdir -p "$LAB_STATE" || return 1
	chmod 755 "$LAB_STATE"
	: >"$LAB_STATE/pids"
	: >>"$LAB_STATE/hosts"
	lab_ns_base "$(lab_scanner_ns)" || { lab_down; return 1; }
	for h in "${hosts[@]}"; do
		lab_host_add "$h" || { lab_log "host $h failed"; lab_down; return 1; }
	done
	return 0
}

# Tear everything down: kill every recorded PID, then every leftover process inside our
# namespaces (all of them were started by this lab), then delete the namespaces and state.
lab_down()
{
	local pid ns
	if [ -f "$LAB_STATE/pids" ]; then
		# shellcheck disable=SC2046
		lab_kill_pid $(awk '{ print $1 }' "$LAB_STATE/pids")
	fi
	for ns in $(ip netns list 2>/dev/null | awk -v p="$LAB_PREFIX-" 'index($1, p) == 1 { print $1 }'); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null || lab_log "could not delete $ns"
	done
	case $LAB_STATE in
	*exposure-lab*) rm -rf -- "$LAB_STATE" ;;
	esac
	return 0
}

lab_status()
{
	local ns
	echo "prefix $LAB_PREFIX, state $LAB_STATE"
	for ns in $(ip netns list 2>/dev/null | awk -v p="$LAB_PREFIX-" 'index($1, p) == 1 { print $1 }'); do
		echo "== $ns"
		ip -n "$ns" -br addr | sed 's/^/   /'
		ip netns exec "$ns" ss -Hltn 2>/dev/null | awk '{ print "   listen " $4 }'
		ip netns exec "$ns" tc qdisc show dev eth0 2>/dev/null | grep netem | sed 's/^/   /'
	done
	[ -f "$LAB_STATE/pids" ] && sed 's/^/pid /' "$LAB_STATE/pids"
	return 0
}

# Real servers for issue 3 (tests/lab/servers.sh).
# shellcheck source=tests/lab/servers.sh
. "$LAB_DIR/servers.sh"

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	cmd=${1:-status}
	shift || true
	case $cmd in
	up) lab_up "$@" && lab_status ;;
	down) lab_down ;;
	status) lab_status ;;
	*) echo "usage: $0 up [HOST...] | down | status" >&2; exit 2 ;;
	esac
fi
