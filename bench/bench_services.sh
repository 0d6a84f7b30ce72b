#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of issue 3 (by hand, root, never a test): the full `exposure check` (every protocol
# check) of the lab's all-services host against nmap 7.93 with version detection and the scripts
# that give the same verdicts, from the scanner namespace, REPS repetitions each (default 10),
# interleaved; median whole-process wall time and the ratio. Then the verdicts of the last run of
# each, side by side (bench/nmap_crosscheck.sh has the detailed per-item comparison).
# All-services host (tests/lab/servers.sh, real Debian servers on the catalogue's real ports):
#   sshd 22, inetutils-telnetd 23 (inetutils-inetd), smbd 445+139 (SMB1 on, signing not
#   required), xrdp 3389 (security_layer=tls), Xtigervnc 5900 (SecurityTypes None);
#   52300-52315 nothing (closed).
# Usage (root): bench/bench_services.sh [PATH-TO-exposure]   (default build-bench3/src/cli/exposure)
# Prints a Markdown fragment for bench/RESULTS.md on stdout. nmap takes ~50 s per run: REPS=10
# needs ~9 minutes; run it under nohup with a time bound, e.g.
#   nohup timeout 1200 bench/bench_services.sh >/tmp/bench3.md 2>/tmp/bench3.err &
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-xpb3b}
# shellcheck source=tests/lab/lab.sh
. "$root/tests/lab/lab.sh"
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
for t in nmap jq; do
	command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 2; }
done
EXE=$(realpath "${1:-$root/build-bench3/src/cli/exposure}")
[ -x "$EXE" ] || { echo "bench: no exposure binary at $EXE" >&2; exit 2; }
REPS=${REPS:-10}
PORTS=22,23,139,445,3389,5900,52300-52315
SCRIPTS=smb-protocols,smb2-security-mode,smb-vuln-ms17-010,rdp-enum-encryption,vnc-info
SCRIPTS+=,ssh2-enum-algos
# vulns.showall only makes smb-vuln-ms17-010 print NOT VULNERABLE too (otherwise it prints
# nothing for a host that is not vulnerable); it changes no packet.
NMAP_ARGS=(-sT -Pn -n -sV --script "$SCRIPTS" --script-args vulns.showall -p "$PORTS")
ALLOW=(--allow 198.18.0.0/15 --allow 2001:db8::/32)
work=$(mktemp -d "${TMPDIR:-/tmp}/xp-bench3.XXXXXX")
trap 'lab_down; rm -rf -- "$work"' EXIT

lab_up srv >/dev/null || { echo "bench: lab failed" >&2; exit 1; }
up() { "$@" >/dev/null || { echo "bench: could not start: $*" >&2; exit 1; }; }
up lab_sshd srv 22
up lab_telnetd srv 23
up lab_smbd srv smb1=on
up lab_xrdp srv 3389 tls
up lab_vncd srv 5900 none
A=$(lab_addr4 srv)

wall_ms()
{
	local out=$1 t0 t1
	shift
	t0=$(date +%s%N)
	lab_scan "$@" >"$out" 2>"$out.err"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

median()
{
	sort -n | awk '{ a[NR] = $1 }
		END { if (NR % 2) print a[(NR + 1) / 2]
		      else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

: >"$work/t-exposure"
: >"$work/t-nmap"
for rep in $(seq 1 "$REPS"); do
	wall_ms "$work/exposure.json" "$EXE" check --json "${ALLOW[@]}" "$A" >>"$work/t-exposure"
	wall_ms "$work/nmap.txt" nmap "${NMAP_ARGS[@]}" -oX "$work/nmap.xml" "$A" >>"$work/t-nmap"
	echo "bench: rep $rep: exposure $(tail -1 "$work/t-exposure") ms," \
		"nmap $(tail -1 "$work/t-nmap") ms" >&2
done
me=$(median <"$work/t-exposure")
mn=$(median <"$work/t-nmap")

echo "### Full check of the all-services host: exposure check vs nmap -sV + scripts" \
	"($(date -u +%Y-%m-%d), $REPS repetitions)"
echo
nv=$(nmap --version | head -1 | sed 's/ ( .*//')
echo "Machine: $(nproc) CPUs, kernel $(uname -r), $nv, exposure" \
	"$(git -C "$root" log -1 --format=%h 2>/dev/null)" \
	"(release build: \`meson setup build-bench3" \
	"-Dbuildtype=release -Dtests=disabled\`). Host $A (\`tests/lab/lab.sh\` host srv, prefix" \
	"$LAB_PREFIX): OpenSSH $(dpkg-query -W -f '${Version}' openssh-server) on 22," \
	"inetutils-telnetd $(dpkg-query -W -f '${Version}' inetutils-telnetd) on 23, Samba" \
	"$(dpkg-query -W -f '${Version}' samba) on 445+139 (SMB1 on, signing default), xrdp" \
	"$(dpkg-query -W -f '${Version}' xrdp) on 3389 (tls), Xtigervnc" \
	"$(dpkg-query -W -f '${Version}' tigervnc-standalone-server) on 5900 (None);" \
	"52300-52315 closed."
echo
echo "| tool | median wall time | runs (ms) |"
echo "| --- | --- | --- |"
echo "| exposure check (all 7 checks) | **$me ms** | $(tr '\n' ' ' <"$work/t-exposure")|"
echo "| nmap -sT -sV + 6 scripts | **$mn ms** | $(tr '\n' ' ' <"$work/t-nmap")|"
echo
ratio=$(awk -v a="$mn" -v b="$me" 'BEGIN { printf "%.0f", a / b }')
echo "Ratio nmap / exposure: **${ratio}x**" \
	"(goal: at least 20x; exposure under one second)."
echo
echo "Commands (runs interleaved, whole-process wall time measured around \`ip netns exec\`):"
echo
echo '```'
echo "ip netns exec $LAB_PREFIX-scan ${EXE#"$root"/} check --json ${ALLOW[*]} $A"
echo "ip netns exec $LAB_PREFIX-scan nmap ${NMAP_ARGS[*]} -oX FILE $A"
echo '```'
echo
echo "Verdicts of the last run (exposure: service and findings per check; nmap: service/version"
echo "and the scripts' lines that carry a verdict):"
echo
echo '```'
jq -r '.checks[] | "exposure \(.check):\(.port) \(.state) \(.service // "-") "
	+ ([.findings[] | "\(.id)/\(.confidence)"] | join(" "))
	+ (if .details.ms17_010 then " ms17_010=\(.details.ms17_010)" else "" end)
	+ (if .details.nla then " nla=\(.details.nla)" else "" end)' "$work/exposure.json"
/usr/bin/python3 - "$work/nmap.xml" <<-'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
closed = []
for p in root.iter("port"):
    st = p.find("state").get("state")
    if st != "open":
        closed.append("%s:%s" % (p.get("portid"), st))
        continue
    s = p.find("service")
    desc = "-"
    if s is not None:
        desc = " ".join(x for x in (s.get("name"), s.get("product"), s.get("version"),
                                     s.get("extrainfo")) if x)
        if s.get("servicefp"):
            desc += (" (not recognised)" if s.get("name") == "unknown" else
                     " (soft match only: no product, service fingerprint printed)")
    print("nmap     %s open %s" % (p.get("portid"), desc))
    for sc in p.iter("script"):
        out = sc.get("output").strip()
        keep = [l.strip() for l in out.splitlines()
                if any(k in l for k in ("SUCCESS", "ERROR", "None (", "VNC Authentication",
                                         "WARNING", "Protocol version", "Unknown"))]
        if sc.get("id") == "ssh2-enum-algos":
            keep = ["%d lines of algorithm lists" % len(out.splitlines())]
        print("nmap     %s %s: %s" % (p.get("portid"), sc.get("id"), "; ".join(keep) or out[:80]))
for hs in root.iter("hostscript"):
    for sc in hs.iter("script"):
        out = " ".join(l.strip() for l in sc.get("output").strip().splitlines())
        print("nmap     host %s: %s" % (sc.get("id"), out[:160]))
if closed:
    print("nmap     " + " ".join(closed))
PY
echo '```'
