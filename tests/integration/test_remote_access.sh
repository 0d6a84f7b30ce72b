#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The SSH, Telnet, RDP and VNC probes against REAL Debian servers in the namespace lab, through
# `exposure check --json` from the scanner namespace: exact service and findings per check.
#   run A (IPv4): sshd 9.2 default; inetutils-telnetd; xrdp security_layer=tls; Xtigervnc None
#   run B (IPv6): sshd with weak algorithms; telnetd --exec-login=fake shell (no-auth shell staged
#                 as PROTOCOLS.md §12.3 says, the fake shell only prints a prompt and sleeps);
#                 xrdp negotiate; Xtigervnc VncAuth
#   run C (IPv4): Xtigervnc None with -Protocol3.3; xrdp tls without a usable certificate
# Also: the whole check of run A (all seven checks) must take well under a second of wall time.
# Usage: test_remote_access.sh PATH-TO-exposure   (root; exit 77 otherwise)
set -u
. "$(dirname "$0")/common.sh"
t_setup "${1:-}"
work=$(mktemp -d "${TMPDIR:-/tmp}/xp-remote-access.XXXXXX")
trap 'lab_down; rm -rf -- "$work"' EXIT
lab_up srv || { echo "lab did not come up"; exit 1; }

cat >"$work/fake-shell" <<'EOF'
#!/bin/sh
# A stand-in for a device that drops every visitor into a root shell: prints a prompt, sleeps.
printf 'BusyBox v1.36.1 (Debian 1:1.36.1-9) built-in shell (ash)\r\n\r\nroot@fixture:~# '
sleep 20
EOF
chmod 755 "$work/fake-shell"
chmod 711 "$work"

up() { "$@" >/dev/null || { t_fail "could not start: $*"; exit 1; }; }
up lab_sshd srv 10022
up lab_sshd srv 10024 KexAlgorithms=+diffie-hellman-group1-sha1 Ciphers=+3des-cbc MACs=+hmac-md5
up lab_telnetd srv 10023
up lab_telnetd srv 10025 "--exec-login=$work/fake-shell"
up lab_xrdp srv 13389 tls
up lab_xrdp srv 13390 negotiate
up lab_xrdp srv 13391 tls nocert
up lab_xrdp srv 13392 tls
up lab_vncd srv 15900 none
up lab_vncd srv 15901 vncauth secret
up lab_vncd srv 15902 none -Protocol3.3

a4=$(lab_addr4 srv)
a6=$(lab_addr6 srv)

# t_probe LABEL TARGET_JSON CHECK PORT SERVICE "finding[=confidence] ..." [JQ-FILTER EXPECTED]
t_probe()
{
	local label=$1 tj=$2 check=$3 port=$4 service=$5 want=$6 filter=${7:-} expect=${8:-}
	local e got w id conf gc
	e=$(t_entry "$tj" "$check" "$port")
	if [ -z "$e" ]; then
		t_fail "$label: no entry for $check:$port"
		return
	fi
	got=$(jq -r '"\(.state) \(.service)"' <<<"$e")
	[ "$got" = "open $service" ] && t_ok "$label: $check:$port open, service $service" ||
		t_fail "$label: $check:$port expected 'open $service', got '$got': $e"
	got=$(jq -r '[.findings[].id] | sort | join(" ")' <<<"$e")
	w=$(for f in $want; do echo "${f%%=*}"; done | sort | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$w" ] && t_ok "$label: $check:$port findings: $got" ||
		t_fail "$label: $check:$port findings '$got', expected '$w': $e"
	for f in $want; do
		case $f in *=*) ;; *) continue ;; esac
		id=${f%%=*} conf=${f#*=}
		gc=$(jq -r --arg i "$id" '.findings[] | select(.id == $i) | .confidence' <<<"$e")
		[ "$gc" = "$conf" ] && t_ok "$label: $check:$port $id $conf" ||
			t_fail "$label: $check:$port $id is '$gc', expected $conf"
	done
	if [ -n "$filter" ]; then
		got=$(jq -c "$filter" <<<"$e")
		[ "$got" = "$expect" ] && t_ok "$label: $check:$port $filter = $got" ||
			t_fail "$label: $check:$port $filter = $got, expected $expect"
	fi
}

# Run A, IPv4: Debian's defaults.
t_check "$work/a.json" --port ssh=10022 --port telnet=10023 --port rdp=13389 --port vnc=15900 "$a4"
echo "# run A: exit $T_RC, wall $T_WALL_MS ms"
tj=$(t_target_json "$work/a.json" "$a4")
t_probe A "$tj" ssh 10022 ssh "ssh-exposed=confirmed" '.details.software' '"OpenSSH_9.2p1"'
t_probe A "$tj" ssh 10022 ssh "ssh-exposed=confirmed" \
	'.details.kex.kex_algorithms | index("kex-strict-s-v00@openssh.com") != null' true
t_probe A "$tj" telnet 10023 telnet "telnet-exposed=confirmed" '.details.prompt | test("login:$")' true
t_probe A "$tj" rdp 13389 rdp "rdp-exposed=confirmed rdp-nla-not-required=confirmed" \
	'[.details.nla, .details.probes[1].failure_code, .details.probes[2].selected]' \
	'["not-required",1,"SSL"]'
t_probe A "$tj" vnc 15900 vnc "vnc-exposed=confirmed vnc-no-auth=confirmed" \
	'.details.security_types' '["None"]'
if [ "$T_WALL_MS" -lt 1000 ]; then
	t_ok "A: whole check (7 checks, 4 real servers) in $T_WALL_MS ms"
else
	t_fail "A: whole check took $T_WALL_MS ms (expected < 1000)"
fi

# Run B, IPv6: weak algorithms, a no-auth shell, standard RDP security, a VNC password.
t_check "$work/b.json" --port ssh=10024 --port telnet=10025 --port rdp=13390 --port vnc=15901 "$a6"
echo "# run B: exit $T_RC, wall $T_WALL_MS ms"
tj=$(t_target_json "$work/b.json" "$a6")
t_probe B "$tj" ssh 10024 ssh "ssh-exposed=confirmed ssh-weak-algorithms=confirmed" \
	'.findings[] | select(.id == "ssh-weak-algorithms") | .severity' '"medium"'
t_probe B "$tj" telnet 10025 telnet "telnet-exposed=confirmed telnet-no-auth-shell=likely"
t_probe B "$tj" rdp 13390 rdp \
	"rdp-exposed=confirmed rdp-nla-not-required=confirmed rdp-standard-security=confirmed" \
	'[.details.nla, .details.probes[1].selected]' '["not-required","RDP"]'
t_probe B "$tj" vnc 15901 vnc "vnc-exposed=confirmed vnc-password-only=confirmed" \
	'.details.security_types' '["VncAuth"]'

# Run C, IPv4: RFB 3.3 and an RDP server whose TLS is broken (NLA cannot be judged: unknown).
t_check "$work/c.json" --port rdp=13391 --port vnc=15902 "$a4"
echo "# run C: exit $T_RC, wall $T_WALL_MS ms"
tj=$(t_target_json "$work/c.json" "$a4")
t_probe C "$tj" vnc 15902 vnc "vnc-exposed=confirmed vnc-no-auth=confirmed" \
	'.details.version_used' '"3.3"'
t_probe C "$tj" rdp 13391 rdp "rdp-exposed=confirmed rdp-nla-not-required=unknown" '[.details.nla, .details.failure_codes]' \
	'["unknown",[3,3,3]]'

# Run D, IPv4: every second SYN to 13392 is dropped, so each of the NLA test's later connections
# needs the kernel's SYN retransmission (1 s). The test must still complete: no "unknown".
lab_exec srv nft -f - <<-'EOF' || t_fail "D: could not install the SYN drop rule"
	table inet xpsyn {
		chain input {
			type filter hook input priority 0; policy accept;
			tcp dport 13392 tcp flags & (syn | ack) == syn numgen inc mod 2 == 1 counter drop
		}
	}
	EOF
t_check "$work/d.json" --port rdp=13392 "$a4"
echo "# run D: exit $T_RC, wall $T_WALL_MS ms"
dropped=$(lab_exec srv nft list table inet xpsyn | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
lab_exec srv nft delete table inet xpsyn
[ "${dropped:-0}" -ge 2 ] && t_ok "D: $dropped SYNs dropped" || t_fail "D: ${dropped:-0} SYNs dropped"
tj=$(t_target_json "$work/d.json" "$a4")
t_probe D "$tj" rdp 13392 rdp "rdp-exposed=confirmed rdp-nla-not-required=confirmed" \
	'[.details.probes[].reply]' '["selected","failure","selected"]'

echo "# $T_OKS ok, $T_FAILS failed"
[ "$T_FAILS" = 0 ]
