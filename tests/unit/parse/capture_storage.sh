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
[ "${1:-}" = --inside ] || exec unshare -n -m "$0" --inside "$@"
shift
ip link set lo up || exit 1
tmp=$(mktemp -d /tmp/xp-capst.XXXXXX)
pids=()
# tgtd ignores SIGTERM while it has targets: SIGKILL after a moment.
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

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

iscsi_caps() {
	local v out=$data/iscsi
	v=$(dpkg-query -W -f='${Version}' tgt); v=${v#*:}
	mkdir -p "$out" /run/tgtd 2>/dev/null || { mount -t tmpfs -o mode=755,size=1m cap-run /run && mkdir -p /run/tgtd; }
	truncate -s 1M "$tmp/disk.img"
	tgtd -f --iscsi portal=127.0.0.1:3260 </dev/null >"$tmp/tgt.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do tgtadm --lld iscsi --op show --mode target >/dev/null 2>&1 && break; sleep 0.1; done
	tgtadm --lld iscsi --op new --mode target --tid 1 -T iqn.2026-12.test.lab:backup-disk
	tgtadm --lld iscsi --op new --mode target --tid 2 -T iqn.2026-12.test.lab:vm-images
	tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$tmp/disk.img"
	tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL
	tgtadm --lld iscsi --op bind --mode target --tid 2 -I ALL
	python3 "$here/grab_storage.py" iscsi-discovery 3260 "$out/tgt-$v-discovery.bin"
	tgtadm --lld iscsi --op new --mode account --user disc --password secretsecret12
	tgtadm --lld iscsi --op bind --mode account --user disc
	python3 "$here/grab_storage.py" iscsi-discovery 3260 "$out/tgt-$v-discovery-chap.bin"
}

# rpcbind and rpc.mountd from nfs-kernel-server: mountd answers EXPORT from the export table
# without a kernel nfsd (this kernel has none: no nfsd filesystem), which is all the probe asks.
nfs_caps() {
	local v out=$data/nfs
	v=$(dpkg-query -W -f='${Version}' nfs-kernel-server); v=${v#*:}
	mkdir -p "$out" "$tmp/lib" "$tmp/pub" "$tmp/priv"
	mountpoint -q /run || mount -t tmpfs -o mode=755,size=1m cap-run /run
	mkdir -p /run/rpcbind
	printf '%s\n' "$tmp/pub *(ro,insecure,no_subtree_check,fsid=1)" \
		"$tmp/priv 198.18.0.0/15(rw,no_subtree_check,fsid=2) 2001:db8::/32(rw,no_subtree_check,fsid=2)" \
		>"$tmp/exports"
	mount --bind "$tmp/lib" /var/lib/nfs && mount --bind "$tmp/exports" /etc/exports || return 1
	rpcbind -f -w </dev/null >"$tmp/rpcbind.log" 2>&1 &
	pids+=($!)
	sleep 0.3
	exportfs -ra
	rpc.mountd -F </dev/null >"$tmp/mountd.log" 2>&1 &
	pids+=($!)
	sleep 0.5
	python3 "$here/grab_storage.py" rpc-dump 111 "$out/rpcbind-$(dpkg-query -W -f='${Version}' rpcbind)-dump.bin"
	python3 "$here/grab_storage.py" rpc-exports 111 "$out/nfs-kernel-server-$v-exports.bin"
	printf '%s\n' "$tmp/priv 198.18.0.0/15(rw,no_subtree_check,fsid=2)" >"$tmp/exports"
	exportfs -ra
	python3 "$here/grab_storage.py" rpc-exports 111 "$out/nfs-kernel-server-$v-exports-restricted.bin"
}

for what in "$@"; do "${what}_caps"; done
