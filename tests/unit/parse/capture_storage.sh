#!/bin/bash
# SPDX-License-Identifier: MIT
# Re-take the golden captures of tests/data/{rsync,...} from Debian's real servers, run in a
# private network namespace (unshare -n: loopback only) and killed by PID. Needs root. What each
# connection sends is written beside the capture in its .expect (source= line); the .expect
# sidecars are written by hand: compare new captures with them before committing.
# Usage: tests/unit/parse/capture_storage.sh rsync
set -u
here=$(cd "$(dirname "$0")" && pwd)
data=$(cd "$here/../../data" && pwd)
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
[ "${1:-}" = --inside ] || exec unshare -n "$0" --inside "$@"
shift
ip link set lo up || exit 1
tmp=$(mktemp -d /tmp/xp-capst.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# grab PORT OUT REQUEST: send REQUEST (printf format), keep what the server sends for 1 s
grab() { printf "$3" | timeout 2 socat -t1 - TCP:127.0.0.1:"$1" >"$2"; }

rsync_caps() {
	local v out=$data/rsync
	v=$(dpkg-query -W -f='${Version}' rsync)
	mkdir -p "$tmp/open" "$tmp/priv"
	printf 'Welcome to the lab\n' >"$tmp/motd"
	printf 'backup:secret\n' >"$tmp/secrets" && chmod 600 "$tmp/secrets"
	cat >"$tmp/rsyncd.conf" <<-CONF
	port = 873
	address = 127.0.0.1
	use chroot = no
	motd file = $tmp/motd
	[open]
	  path = $tmp/open
	  comment = open backups
	  read only = no
	[priv]
	  path = $tmp/priv
	  comment = private
	  auth users = backup
	  secrets file = $tmp/secrets
	[hidden]
	  path = $tmp/open
	  list = no
	[denied]
	  path = $tmp/open
	  hosts allow = 198.18.0.1
	CONF
	rsync --daemon --no-detach --config="$tmp/rsyncd.conf" </dev/null >"$tmp/log" 2>&1 &
	pids+=($!)
	sleep 0.5
	grab 873 "$out/rsync-$v-list.bin" '@RSYNCD: 31.0\n\n'
	grab 873 "$out/rsync-$v-open-ok.bin" '@RSYNCD: 31.0\nopen\n'
	grab 873 "$out/rsync-$v-open-authreqd.bin" '@RSYNCD: 31.0\npriv\n'
	grab 873 "$out/rsync-$v-open-denied.bin" '@RSYNCD: 31.0\ndenied\n'
	grab 873 "$out/rsync-$v-open-unknown.bin" '@RSYNCD: 31.0\nnosuch\n'
}

for what in "$@"; do "${what}_caps"; done
