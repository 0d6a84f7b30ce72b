#!/bin/bash
# SPDX-License-Identifier: MIT
# Re-take the golden captures of tests/data/{netbios,smb}/samba-* and impacket-* from Debian's
# Samba smbd and python3-impacket, run on the loopback of a private network namespace
# (xp-smb-cap), each killed by its PID. Needs root and a build dir with smb_reqgen:
#   tests/unit/parse/capture_samba.sh BUILD_DIR
# The .expect sidecars are kept by hand (or from `test_parse_golden DATA_DIR --dump`); compare first.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:-build}" && pwd)
reqgen=$build/tests/unit/parse/smb_reqgen
out=${2:-$root/tests/data}
ns=xp-smb-cap
tmp=$(mktemp -d /tmp/xp-smb-cap.XXXXXX)
pid=

stop()
{
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}

cleanup()
{
	stop
	ip netns del $ns 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
[ -x "$reqgen" ] || { echo "no $reqgen"; exit 1; }
mkdir -p "$out/netbios" "$out/smb"
ip netns add $ns && ip -n $ns link set lo up || exit 1

wait_port()
{
	for _ in $(seq 1 75); do
		ip netns exec $ns ss -Hltn "sport = :$1" | grep -q LISTEN && return 0
		sleep 0.2
	done
	echo "port $1 not listening" >&2
	return 1
}

grab()
{
	ip netns exec $ns python3 "$here/grab_smb.py" "$reqgen" "$@"
}

# samba VARIANT EXTRA-CONFIG-LINES...
samba()
{
	local v=$1 d=$tmp/$1
	shift
	mkdir -p "$d"/{lock,state,cache,pid,private,ncalrpc,binddns,usershares,share}
	{
		cat <<CONF
[global]
  netbios name = FIXTURE
  workgroup = WORKGROUP
  server role = standalone server
  smb ports = 10445 10139
  interfaces = lo
  bind interfaces only = yes
  disable netbios = yes
  lock directory = $d/lock
  state directory = $d/state
  cache directory = $d/cache
  pid directory = $d/pid
  private dir = $d/private
  ncalrpc dir = $d/ncalrpc
  binddns dir = $d/binddns
  usershare path = $d/usershares
  log file = $d/log.%m
  load printers = no
  disable spoolss = yes
  map to guest = Bad User
CONF
		for l in "$@"; do echo "  $l"; done
		cat <<CONF
[share]
  path = $d/share
  guest ok = yes
CONF
	} >"$d/smb.conf"
	setsid ip netns exec $ns /usr/sbin/smbd --foreground --no-process-group --debug-stdout \
		-s "$d/smb.conf" </dev/null >"$d/stdout" 2>&1 &
	pid=$!
	wait_port 10445 && wait_port 10139 || { cat "$d/stdout"; stop; return 1; }
}

sv=4.17
p=samba-$sv
samba nt1-default "server min protocol = NT1"
grab 10139 "$out/netbios" $p-nt1-default nbss nbss-neg nbss-called nbt-neg1
grab 10445 "$out/smb" $p-nt1-default neg1 neg2 neg2-311 ms17
stop
samba nt1-auto "server min protocol = NT1" "server signing = auto"
grab 10445 "$out/smb" $p-nt1-auto neg1 neg2 neg2-311
stop
samba nt1-mandatory "server min protocol = NT1" "server signing = mandatory"
grab 10445 "$out/smb" $p-nt1-mandatory neg1 neg2 neg2-311 ms17
stop
samba nt1-restrict2 "server min protocol = NT1" "restrict anonymous = 2"
grab 10445 "$out/smb" $p-nt1-restrict2 ms17
stop
samba smb1off-default
grab 10139 "$out/netbios" $p-smb1off-default nbss
grab 10445 "$out/smb" $p-smb1off-default neg1 neg2 neg2-311
stop
samba smb1off-auto "server signing = auto"
grab 10445 "$out/smb" $p-smb1off-auto neg2-311
stop
samba smb1off-mandatory "server signing = mandatory"
grab 10445 "$out/smb" $p-smb1off-mandatory neg1 neg2 neg2-311
stop
samba smb1off-max202 "server max protocol = SMB2_02"
grab 10445 "$out/smb" $p-smb1off-max202 neg2-311
stop

# python3-impacket 0.10 SMB server (SMB1 only): its NEGOTIATE reply
iv=$(dpkg-query -W -f '${Version}' python3-impacket | sed 's/-.*//')
mkdir -p "$tmp/imp/share"
cat >"$tmp/imp/srv.py" <<PY
from impacket import smbserver
s = smbserver.SimpleSMBServer(listenAddress='127.0.0.1', listenPort=10446)
s.addShare('SHARE', '$tmp/imp/share', '')
s.start()
PY
setsid ip netns exec $ns /usr/bin/python3 "$tmp/imp/srv.py" </dev/null >"$tmp/imp/log" 2>&1 &
pid=$!
wait_port 10446 && grab 10446 "$out/smb" impacket-$iv neg1 ms17
stop
