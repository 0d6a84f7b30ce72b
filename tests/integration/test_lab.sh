#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lab itself: its ground truth checked with an independent oracle (nmap -sS, a raw SYN scan
# that sees ICMP errors), the lossy link's delay, the real servers answering from the scanner
# namespace, and a teardown that leaves no process or namespace behind.
# Usage: test_lab.sh [ignored]   (root; exit 77 otherwise)
set -u
. "$(dirname "$0")/common.sh"
lab_require_root
command -v nmap >/dev/null 2>&1 || { echo "nmap missing; skipping"; exit 77; }
trap lab_down EXIT
lab_up mixed lossy allfiltered srv || { echo "lab did not come up"; exit 1; }
GRAB="$TESTS_DIR/lab/grab.py"
# NetBIOS session request, called *SMBSERVER, calling LABCLIENT (RFC 1002 first-level encoding)
NBSS_REQ=8100004420434b4644454e45434644454646434647454646434341434143414341434143410020454d454245434544454d454a4546454f4645434143414341434143414341434100

# nmap -sS verdicts on the mixed host: PORT STATE REASON lines. --disable-arp-ping: with -Pn alone
# nmap still ARP-pings a target on the local link and reports "0 hosts up" when that one ARP reply
# is lost (seen on the lossy host).
nmap_ss()
{
	local f=
	[[ $1 == *:* ]] && f=-6
	lab_scan nmap $f -sS -Pn -n --disable-arp-ping --reason -p 10001-10008 "$1" >"$LAB_STATE/nmap.out" 2>&1
	awk '$1 ~ /^[0-9]+\/tcp$/ { sub("/tcp", "", $1); print $1, $2, $4 }' "$LAB_STATE/nmap.out"
}

# On the lossy host the oracle itself can lose both of a port's answers (nmap retransmits once
# until it sees loss), so there it gets three tries; the mixed host must match the first time.
for addr in "$(lab_addr4 mixed)" "$(lab_addr6 mixed)" "$(lab_addr4 lossy)" "$(lab_addr6 lossy)"; do
	want="10001 open syn-ack;10002 closed reset;10003 filtered no-response;"
	want+="10004 filtered admin-prohibited;10005 filtered host-unreach;"
	want+="10006 filtered port-unreach;10007 closed reset;10008 open syn-ack;"
	tries=1
	[ "$addr" = "$(lab_addr4 lossy)" ] || [ "$addr" = "$(lab_addr6 lossy)" ] && tries=3
	for try in $(seq 1 "$tries"); do
		got=$(nmap_ss "$addr" | tr '\n' ';')
		[ "$got" = "$want" ] && break
		echo "# nmap -sS $addr try $try: $got"
	done
	[ "$got" = "$want" ] && t_ok "nmap -sS $addr: $got" || {
		t_fail "nmap -sS $addr: got $got, want $want"
		sed 's/^/# /' "$LAB_STATE/nmap.out"
	}
done

# The lossy link delays the host's answers by about 300 ms.
rtt=$(lab_scan /usr/bin/python3 -c '
import socket, time
best = None
for i in range(5):
    s = socket.socket(); s.settimeout(3); t = time.monotonic()
    try:
        s.connect(("'"$(lab_addr4 lossy)"'", 10001))
        d = time.monotonic() - t
        best = d if best is None or d < best else best
    except OSError:
        pass
    s.close()
print(int(best * 1000) if best is not None else -1)')
[ "$rtt" -ge 290 ] && [ "$rtt" -le 700 ] && t_ok "lossy connect time $rtt ms" ||
	t_fail "lossy connect time $rtt ms, expected about 300"

# allfiltered: nothing answers.
got=$(lab_scan nmap -sS -Pn -n -p 22,445 "$(lab_addr4 allfiltered)" | grep -c ' filtered ')
[ "$got" = 2 ] && t_ok "allfiltered: 2 ports filtered" || t_fail "allfiltered: $got filtered"

# Real servers.
a4=$(lab_addr4 srv)
a6=$(lab_addr6 srv)
lab_sshd srv 10022 >/dev/null && t_ok "sshd started" || t_fail "sshd did not start"
lab_telnetd srv 10023 >/dev/null && t_ok "telnetd started" || t_fail "telnetd did not start"
LAB_TELNETD_LAUNCHER=socat lab_telnetd srv 10024 >/dev/null && t_ok "telnetd (socat) started" ||
	t_fail "telnetd (socat) did not start"
lab_smbd srv smb1=on ports="10445 10139" >/dev/null && t_ok "smbd (SMB1 on) started" ||
	t_fail "smbd (SMB1 on) did not start"
lab_smbd srv smb1=off signing=mandatory ports=11445 >/dev/null && t_ok "smbd (SMB1 off) started" ||
	t_fail "smbd (SMB1 off) did not start"
lab_vncd srv 15900 none >/dev/null && t_ok "Xtigervnc None started" || t_fail "Xtigervnc None did not start"
lab_vncd srv 15901 vncauth secret >/dev/null && t_ok "Xtigervnc VncAuth started" ||
	t_fail "Xtigervnc VncAuth did not start"
lab_xrdp srv 13389 tls >/dev/null && t_ok "xrdp (tls) started" || t_fail "xrdp did not start"

expect_grab()
{
	local label=$1 want=$2 got
	shift 2
	got=$(lab_scan "$GRAB" "$@" 2>&1)
	[[ $got == $want* ]] && t_ok "$label: $got" || t_fail "$label: got '$got', want '$want...'"
}
for a in "$a4" "$a6"; do
	expect_grab "ssh $a" "b'SSH-2.0-OpenSSH_" --wait 2 "$a" 10022
	expect_grab "telnet $a" "ff f" --hex --wait 1 "$a" 10023
	expect_grab "telnet (socat) $a" "ff f" --hex --wait 1 "$a" 10024
	expect_grab "vnc none $a" "52 46 42 20 30 30 33 2e 30 30 38 0a 01 01" --hex --wait 1 \
		--send 524642203030332e3030380a "$a" 15900
	expect_grab "vnc vncauth $a" "52 46 42 20 30 30 33 2e 30 30 38 0a 01 02" --hex --wait 1 \
		--send 524642203030332e3030380a "$a" 15901
	# X.224 CR + RDP_NEG_REQ TLS -> RDP_NEG_RSP selected 1; standard -> FAILURE 1 (SSL required)
	expect_grab "rdp tls $a" "03 00 00 13 0e d0 00 00 12 34 00 02 01 08 00 01 00 00 00" --hex \
		--wait 1 --send 030000130ee000000000000100080001000000 "$a" 13389
	expect_grab "rdp standard $a" "03 00 00 13 0e d0 00 00 12 34 00 03 00 08 00 01 00 00 00" \
		--hex --wait 1 --send 030000130ee000000000000100080000000000 "$a" 13389
	# NBSS session request to *SMBSERVER: positive response 82 00 00 00
	expect_grab "nbss $a" "82 00 00 00" --hex --wait 1 --send "$NBSS_REQ" "$a" 10139
done
for p in 10445 11445; do
	out=$(lab_scan nmap -Pn -n -p $p --script smb-protocols,smb2-security-mode \
		--script-args smbport=$p "$a4" 2>/dev/null)
	smb1=no
	grep -q 'NT LM 0.12' <<<"$out" && smb1=yes
	req=no
	grep -q 'enabled and required' <<<"$out" && req=yes
	case $p in
	10445) want="yes no" ;;
	11445) want="no yes" ;;
	esac
	[ "$smb1 $req" = "$want" ] && t_ok "smbd $p: SMB1 $smb1, signing required $req" ||
		t_fail "smbd $p: SMB1 $smb1, signing required $req, want $want"
done

# Teardown: every recorded process gone, namespaces deleted.
pids=$(awk '{ print $1 }' "$LAB_STATE/pids")
lab_down
trap - EXIT
alive=
for p in $pids; do
	lab_alive "$p" && alive="$alive $p"
done
[ -z "$alive" ] && t_ok "lab_down: no process left" || t_fail "lab_down left$alive"
left=$(ip netns list | grep -c "^$LAB_PREFIX-")
[ "$left" = 0 ] && t_ok "lab_down: namespaces deleted" || t_fail "lab_down left $left namespaces"
t_finish
