#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 10 §1 end to end, in a namespace lab (tests/lab/lab.sh), with the real page in Chromium.
# The lab's scanner namespace is the server: `exposure serve --public` on 198.18.0.1:8080 and
# [2001:db8::1]:8080 (addresses on its loopback, reached through each visitor's veth), with
# --origin http://exposure.test:8080, --v4-host v4.exposure.test, --v6-host v6.exposure.test
# and --allow for the lab's blocks (so 100.64.0.0/10 is still refused as 'cgnat'). Three
# visitor namespaces, each with its own hosts file (/etc/netns/NAME/hosts: exposure.test to both
# addresses, v4. to the IPv4 one only, v6. to the IPv6 one only) and resolv.conf (a loopback
# nameserver nobody answers: no name ever leaves the namespace):
#   vdual   198.18.20.2 + 2001:db8:20::2: SSH open on the IPv6 address only, Telnet on both
#   vfour   198.18.21.2, no IPv6 at all: Telnet open
#   vcgnat  IPv4 seen as 100.64.22.2 (carrier-grade NAT, through --trusted-proxy: no packet to
#           that block) + 2001:db8:22::2: SSH open on IPv6
# In each, families_test.mjs (node + playwright-core) runs Chromium inside the namespace
# (`ip netns exec`) through the whole flow. A visitor with IPv6 has a default IPv6 route to the
# server namespace, as a real one has: Chromium counts IPv6 reachable (and connects to a name of
# both families over IPv6) only when a UDP connect to a global IPv6 address finds a route (no
# packet is sent; the server namespace forwards nothing, and it has no link but the visitors').
# Without it the page comes over IPv4 and, in this lab only, may not fetch the IPv6 host's
# ticket: Chromium counts 2001:db8::/32 as a 'local' address space and 198.18.0.0/15 as public
# (Local Network Access; on the Internet both are public).
# Usage: families.sh PATH/TO/exposure ARTIFACT_DIR   (root, node, chromium; exit 77 otherwise)
set -u
here=$(cd "$(dirname "$0")" && pwd)
exe=${1:?usage: families.sh PATH/TO/exposure ARTIFACT_DIR}
art=${2:?usage: families.sh PATH/TO/exposure ARTIFACT_DIR}
[ "$(id -u)" = 0 ] || { echo "families: needs root (network namespaces): skip"; exit 77; }
command -v node >/dev/null 2>&1 || { echo "node missing: skip"; exit 77; }
[ -x /usr/bin/chromium ] || { echo "chromium missing: skip"; exit 77; }
exe=$(realpath "$exe")
export LAB_PREFIX=xpfam$$
# shellcheck source=tests/lab/lab.sh
. "$here/../lab/lab.sh"
lab_require_root

PORT=8080
SRV4=198.18.0.1
SRV6=2001:db8::1
work=$(mktemp -d "${TMPDIR:-/tmp}/xp-families.XXXXXX")
names=()
srv_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup()
{
	[ -n "$srv_pid" ] && lab_kill_pid "$srv_pid"
	lab_down
	local d
	for d in "${names[@]}"; do rm -rf -- "$d"; done
	rmdir /etc/netns 2>/dev/null
	rm -rf -- "$work"
}
# Bounded: every wait of the lab is, each browser run has its own 45 s deadline, and meson's
# timeout (SIGTERM) still tears everything down.
trap cleanup EXIT
trap 'exit 143' TERM INT

if [ ! -d "$here/node_modules/playwright-core" ]; then
	command -v npm >/dev/null 2>&1 || { echo "npm missing: skip"; exit 77; }
	(cd "$here" && npm ci --no-audit --no-fund) || exit 1
fi

lab_up vdual vfour vcgnat || { echo "lab did not come up"; exit 1; }
scan=$(lab_scanner_ns)
ip -n "$scan" addr add "$SRV4/32" dev lo
ip -n "$scan" addr add "$SRV6/128" dev lo

# vdual: both families. The IPv6 default route leads to the server namespace (see above).
ip -n "$(lab_ns vdual)" route add "$SRV4/32" via "$(lab_scanner_addr4 vdual)"
ip -n "$(lab_ns vdual)" -6 route add default via "$(lab_scanner_addr6 vdual)"
# vfour: IPv4 only, IPv6 switched off on every interface.
ip -n "$(lab_ns vfour)" route add "$SRV4/32" via "$(lab_scanner_addr4 vfour)"
ip netns exec "$(lab_ns vfour)" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.eth0.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1
# vcgnat: its IPv4 requests reach the service as from the carrier's shared address. No packet
# ever goes to or from 100.64.0.0/10: the visitor keeps its lab address, which the service trusts
# as a proxy (--trusted-proxy), and the page's requests to the IPv4 host carry
# X-Forwarded-For: 100.64.22.2 (added by families_test.mjs), as a carrier's NAT would present it.
CG4=100.64.22.2
ip -n "$(lab_ns vcgnat)" route add "$SRV4/32" via "$(lab_scanner_addr4 vcgnat)"
ip -n "$(lab_ns vcgnat)" -6 route add default via "$(lab_scanner_addr6 vcgnat)"

for v in vdual vfour vcgnat; do
	d=/etc/netns/$(lab_ns $v)
	mkdir -p "$d"
	names+=("$d")
	printf '127.0.0.1 localhost\n%s exposure.test\n%s exposure.test\n%s v4.exposure.test\n%s v6.exposure.test\n' \
		"$SRV4" "$SRV6" "$SRV4" "$SRV6" >"$d/hosts"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$d/resolv.conf"
done

# The doors: a banner on (address, port), that address only.
door()
{
	local v=$1 addr=$2 port=$3 banner=$4
	lab_spawn "door-$v-$port-${addr//:/_}" "$(lab_ns "$v")" /usr/bin/python3 -c '
import socket, sys, threading
addr, port, banner = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode() + b"\r\n"
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(64)
def serve(c):
    try:
        c.settimeout(5)
        c.sendall(banner)
        c.recv(4096)
    except OSError:
        pass
    c.close()
for _ in range(256):
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$addr" "$port" "$banner" >/dev/null || return 1
}
if ! { door vdual "$(lab_addr6 vdual)" 22 "SSH-2.0-OpenSSH_9.2p1 Debian-2" &&
	door vdual "$(lab_addr4 vdual)" 23 "Debian GNU/Linux 12 login:" &&
	door vdual "$(lab_addr6 vdual)" 23 "Debian GNU/Linux 12 login:" &&
	door vfour "$(lab_addr4 vfour)" 23 "Debian GNU/Linux 12 login:" &&
	door vcgnat "$(lab_addr6 vcgnat)" 22 "SSH-2.0-OpenSSH_9.2p1 Debian-2"; }; then
	echo "doors did not start"
	exit 1
fi
lab_wait_listen "$(lab_ns vdual)" 22 23 && lab_wait_listen "$(lab_ns vfour)" 23 &&
	lab_wait_listen "$(lab_ns vcgnat)" 22 || exit 1

srv_pid=$(lab_spawn serve "$scan" "$exe" serve --public \
	--allow 198.18.0.0/15 --allow 2001:db8::/32 --trusted-proxy "$(lab_addr4 vcgnat)/32" \
	--listen "$SRV4:$PORT" --listen "[$SRV6]:$PORT" \
	--origin "http://exposure.test:$PORT" \
	--v4-host "v4.exposure.test:$PORT" --v6-host "v6.exposure.test:$PORT" \
	--store "$work/x.db" --key "$work/x.key" --probe-source-label "lab server") || exit 1
lab_wait_listen "$scan" "$PORT" || { cat "$LAB_STATE/log/serve.log"; exit 1; }

mkdir -p "$art"
rc=0
for v in vdual vfour vcgnat; do
	case $v in
	vdual) a4=$(lab_addr4 vdual) a6=$(lab_addr6 vdual) ;;
	vfour) a4=$(lab_addr4 vfour) a6= ;;
	vcgnat) a4=$CG4 a6=$(lab_addr6 vcgnat) ;;
	esac
	echo "# visitor $v: IPv4 $a4, IPv6 ${a6:-none}"
	t0=$SECONDS
	ip netns exec "$(lab_ns "$v")" env HOME="$work" XFF_V4="$([ "$v" = vcgnat ] && echo "$CG4")" \
		node "$here/families_test.mjs" "$v" "http://exposure.test:$PORT" "$a4" "$a6" "$art" || rc=1
	echo "# visitor $v: $((SECONDS - t0)) s"
done
if ! lab_alive "$srv_pid"; then
	echo "FAIL the service died"
	rc=1
fi
[ $rc = 0 ] || { echo "# service log:"; tail -n 40 "$LAB_STATE/log/serve.log"; }
exit $rc
