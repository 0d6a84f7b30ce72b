#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The storage checks (issue 12: rsync, nfs, iscsi) against REAL Debian servers in the namespace
# lab, through `exposure check --json` from the scanner namespace:
#   rsync --daemon 873 (a module without password + one with auth users; IPv4 and IPv6) and
#     10873 (the auth users module only);
#   rpcbind + rpc.mountd (nfs-kernel-server) with an export to * and one to 198.18.0.0/15, then
#     the second only. This kernel has no nfsd (no nfsd filesystem in /proc/filesystems), so
#     nothing real listens on 2049: an EMULATOR there (tests/emul/emul.py nfs-prog-unavail)
#     answers the portmapper call as nfsd does, which sends the probe to 111, then to mountd;
#   tgtd (tgt) with one target: reachability only by default; --iscsi-discovery lists the
#     target; with a discovery account bound, discovery is refused (answered no).
# The new checks are not in the default profile: every run names them with --checks.
# Usage: test_storage.sh PATH-TO-exposure   (root; exit 77 otherwise)
set -u
. "$(dirname "$0")/common.sh"
t_setup "${1:-}"
trap 'lab_down' EXIT
lab_up srv || { echo "lab did not come up"; exit 1; }

up() { "$@" >/dev/null || { t_fail "could not start: $*"; exit 1; }; }
up lab_rsyncd srv 873 mixed
up lab_rsyncd srv 10873 auth
up lab_nfsd srv 20048 world
up lab_tgtd srv 3260 iqn.2026-12.test.lab:backup-disk
up lab_spawn emul-nfs-2049 "$(lab_ns srv)" python3 "$TESTS_DIR/emul/emul.py" nfs-prog-unavail \
	--host "$(lab_addr4 srv)" --port 2049
lab_wait_listen "$(lab_ns srv)" 2049 || { t_fail "emulator on 2049 did not start"; exit 1; }

a4=$(lab_addr4 srv)
a6=$(lab_addr6 srv)
out=$LAB_STATE/out.json

# t_findings LABEL ENTRY "id[=confidence] ..." : exactly these findings
t_findings()
{
	local label=$1 e=$2 want=$3 got w f
	got=$(jq -r '[.findings[] | "\(.id)=\(.confidence)"] | sort | join(" ")' <<<"$e")
	w=$(for f in $want; do echo "$f"; done | sort | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$w" ] && t_ok "$label: findings $got" || t_fail "$label: findings '$got', want '$w': $e"
}
# t_jq LABEL ENTRY FILTER : the jq filter is true on the entry
t_jq()
{
	jq -e "$3" <<<"$2" >/dev/null && t_ok "$1: $3" || t_fail "$1: $3 is false: $2"
}

# rsync, IPv4 and IPv6 in one run: the open module is found, the list is shown
t_check "$out" --checks rsync "$a4" "$a6"
t_expect_run "$out" rsync 1
for a in "$a4" "$a6"; do
	e=$(t_entry "$(t_target_json "$out" "$a")" rsync 873)
	t_findings "rsync $a" "$e" "rsync-exposed=confirmed rsync-no-auth=confirmed rsync-modules-listed=confirmed"
	t_jq "rsync $a" "$e" '.service == "rsync" and .details.modules == ["open", "priv"]'
	t_jq "rsync $a" "$e" '.details.opened == [{"module":"open","answer":"ok"},{"module":"priv","answer":"auth-required"}]'
	t_jq "rsync $a" "$e" '[.findings[] | select(.id == "rsync-no-auth") | .reason] == ["module \"open\" opens without a password: your backups can be read and overwritten"]'
done
# every module asks for a password: the question is answered no (no rsync-no-auth at all)
t_check "$out" --checks rsync --port rsync=10873 "$a4"
e=$(t_entry "$(cat "$out")" rsync 10873)
t_findings "rsync auth" "$e" "rsync-exposed=confirmed rsync-modules-listed=confirmed"
t_jq "rsync auth" "$e" '.details.opened == [{"module":"priv","answer":"auth-required"}]'

# NFS on 111: the portmapper, then mountd on the port it names; 2049: the emulator
t_check "$out" --checks nfs "$a4"
t_expect_run "$out" nfs 1
e=$(t_entry "$(cat "$out")" nfs 111)
t_findings "nfs 111" "$e" "nfs-exposed=confirmed nfs-export-world=confirmed"
t_jq "nfs 111" "$e" '.service == "nfs" and .details.mount_port == 20048 and .details.exports_listed == 2'
t_jq "nfs 111" "$e" '[.details.exports[] | select(.world) | .clients] == ["*"]'
# through 2049 alone: not the portmapper, so 111, then mountd (two redirects of the engine)
t_check "$out" --checks nfs --port nfs=2049 "$a4"
e=$(t_entry "$(cat "$out")" nfs 2049)
t_findings "nfs 2049" "$e" "nfs-exposed=confirmed nfs-export-world=confirmed"
t_jq "nfs 2049" "$e" '.details.probed_port_reply == "program unavailable" and .details.mount_port == 20048'
# restricted exports only: answered no
printf '%s\n' "$LAB_STATE/srv/nfsd-srv/priv 198.18.0.0/15(rw,no_subtree_check,fsid=2)" \
	>"$LAB_STATE/srv/nfsd-srv/exports"
lab_nfsd_reload srv || t_fail "exportfs -ra in mountd's namespace failed"
t_check "$out" --checks nfs --port nfs=111 "$a4"
e=$(t_entry "$(cat "$out")" nfs 111)
t_findings "nfs restricted" "$e" "nfs-exposed=confirmed"
t_jq "nfs restricted" "$e" '.details.exports == [{"dir": .details.exports[0].dir, "clients": "198.18.0.0/15", "world": false}]'

# iSCSI, the default: reachability only, the question unknown and why
t_check "$out" --checks iscsi "$a4"
e=$(t_entry "$(cat "$out")" iscsi 3260)
t_findings "iscsi default" "$e" "iscsi-exposed=likely iscsi-discovery-no-auth=unknown"
t_jq "iscsi default" "$e" '.details.discovery == "off"'
t_jq "iscsi default" "$e" '[.findings[] | select(.id == "iscsi-discovery-no-auth") | .reason | startswith("not checked: iSCSI discovery is off")] == [true]'
# --iscsi-discovery: the target listed without credentials
t_check "$out" --checks iscsi --iscsi-discovery "$a4"
e=$(t_entry "$(cat "$out")" iscsi 3260)
t_findings "iscsi discovery" "$e" "iscsi-exposed=confirmed iscsi-discovery-no-auth=confirmed"
t_jq "iscsi discovery" "$e" '.service == "iscsi" and .details.targets == ["iqn.2026-12.test.lab:backup-disk"]'
# a discovery account bound: refused, answered no
lab_tgtd_discovery_chap srv 3260 || t_fail "tgtadm bind discovery account failed"
t_check "$out" --checks iscsi --iscsi-discovery "$a4"
e=$(t_entry "$(cat "$out")" iscsi 3260)
t_findings "iscsi chap" "$e" "iscsi-exposed=confirmed"
t_jq "iscsi chap" "$e" '.details.login_status == "authentication failure"'

# the default profile (2017) probes none of them
t_check "$out" "$a4"
t_jq "default profile" "$(cat "$out")" '[.checks[].check] | index("rsync") == null and index("nfs") == null and index("iscsi") == null'

t_finish
