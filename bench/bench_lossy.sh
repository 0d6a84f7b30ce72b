#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of issue 15 (by hand, root, never a test): full diagnoses of the lab's lossy host
# with real servers (OpenSSH 22, inetutils-telnetd 23, Samba 445+139 with SMB1 on, xrdp 3389
# security_layer=tls, Xtigervnc 5900 without a password; 52300-52315 closed) behind the lab's
# wire at 150 ms and 10% loss each way (300 ms round trip), from the scanner namespace: exposure
# BEFORE and AFTER (two binaries), REPS runs each (default 10), and nmap -sV with the scripts
# that answer the same questions, NMAP_REPS runs (default 3), interleaved. Prints a Markdown
# fragment for bench/RESULTS.md: median wall time, and per question the share of runs that
# answered it (exposure: its finding confirmed/likely, or absent on the open port = answered no,
# docs/json.md "Questions"; "unknown" and a port not open are not answered; nmap: its script said
# something that decides it).
# EACH_REPS=N (default 0) then times each check alone, N runs of each binary interleaved, the
# other checks pointed at the closed port 10002 (--port CHECK=10002): what bounds a diagnosis.
# The machine load (uptime) at the start and the end is printed with the figures.
# Usage (root): bench/bench_lossy.sh BEFORE-exposure AFTER-exposure
#   e.g. nohup timeout 1500 bench/bench_lossy.sh /tmp/b/build/src/cli/exposure \
#        build-rel/src/cli/exposure >/tmp/bench15.md 2>/tmp/bench15.err &
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-xpb15} LAB_LOSSY_DELAY_MS=150 LAB_LOSSY_LOSS=10 LAB_LOSSY_BOTH=1
# shellcheck source=tests/lab/lab.sh
. "$root/tests/lab/lab.sh"
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
for t in nmap jq; do
	command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 2; }
done
[ $# = 2 ] || { echo "usage: $0 BEFORE-exposure AFTER-exposure" >&2; exit 2; }
BEFORE=$(realpath "$1")
AFTER=$(realpath "$2")
REPS=${REPS:-10}
NMAP_REPS=${NMAP_REPS:-3}
EACH_REPS=${EACH_REPS:-0}
CHECKS="ssh telnet netbios smb rdp vnc skysea"
load_start=$(uptime | sed 's/.*load average: //')
PORTS=22,23,139,445,3389,5900,52300-52315
SCRIPTS=smb-protocols,smb2-security-mode,smb-vuln-ms17-010,rdp-enum-encryption,vnc-info
SCRIPTS+=,ssh2-enum-algos
NMAP_ARGS=(-sT -Pn -n -sV --script "$SCRIPTS" --script-args vulns.showall -p "$PORTS")
ALLOW=(--allow 198.18.0.0/15 --allow 2001:db8::/32)
work=$(mktemp -d "${TMPDIR:-/tmp}/xp-bench15.XXXXXX")
trap 'lab_down; rm -rf -- "$work"' EXIT

lab_up lossy >/dev/null || { echo "bench: lab failed" >&2; exit 1; }
up() { "$@" >/dev/null || { echo "bench: could not start: $*" >&2; exit 1; }; }
up lab_sshd lossy 22
up lab_telnetd lossy 23
up lab_smbd lossy smb1=on
up lab_xrdp lossy 3389 tls
up lab_vncd lossy 5900 none
A=$(lab_addr4 lossy)
# CHECK PORT FINDING TRUTH (the lab's truth)
QUESTIONS="vnc:5900:vnc-no-auth:yes smb:445:smb1-enabled:yes netbios:139:smb1-enabled:yes
rdp:3389:rdp-nla-not-required:yes smb:445:ms17-010-vulnerable:no
netbios:139:ms17-010-vulnerable:no smb:445:doublepulsar-implant:no
netbios:139:doublepulsar-implant:no telnet:23:telnet-no-auth-shell:no"

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

# One exposure document: "QUESTION answered|unknown|missing|wrong" per question.
x_answers()
{
	local q c p id truth
	for q in $QUESTIONS; do
		IFS=: read -r c p id truth <<<"$q"
		jq -r --arg c "$c" --argjson p "$p" --arg id "$id" --arg truth "$truth" '
			(.checks[] | select(.check == $c and .port == $p)) as $e
			| ([$e.findings[] | select(.id == $id)] | first) as $f
			| "\($c):\($p):\($id) " + (
			  if $e.state != "open" then "missing"
			  elif $f != null and $f.confidence == "unknown" then "unknown"
			  elif $truth == "yes" then
				(if $f != null then "answered" else "wrong" end)
			  elif $f != null then "wrong" else "answered" end)' "$1" 2>/dev/null ||
			echo "$c:$p:$id missing"
	done
}

# One nmap XML: the same questions nmap's scripts answer ("-" where no script asks it).
n_answers()
{
	/usr/bin/python3 - "$1" <<-'PY'
	import sys, xml.etree.ElementTree as ET
	try:
	    root = ET.parse(sys.argv[1]).getroot()
	except Exception:
	    root = None
	out = {}
	def scripts():
	    if root is None:
	        return
	    for p in root.iter("port"):
	        for sc in p.iter("script"):
	            yield p.get("portid"), sc.get("id"), sc.get("output")
	    for hs in root.iter("hostscript"):
	        for sc in hs.iter("script"):
	            yield "host", sc.get("id"), sc.get("output")
	for port, sid, text in scripts():
	    if sid == "vnc-info" and port == "5900" and ("None" in text or "VNC Authentication" in text):
	        out["vnc:5900:vnc-no-auth"] = "answered"
	    if sid == "smb-protocols" and "dialects" in text:
	        out["smb:445:smb1-enabled"] = "answered"
	    if sid == "smb-vuln-ms17-010" and "VULNERABLE" in text:
	        out["smb:445:ms17-010-vulnerable"] = "answered"
	    if sid == "rdp-enum-encryption" and port == "3389" and "CredSSP" in text:
	        out["rdp:3389:rdp-nla-not-required"] = "answered"
	for q in ("vnc:5900:vnc-no-auth", "smb:445:smb1-enabled", "netbios:139:smb1-enabled",
	          "rdp:3389:rdp-nla-not-required", "smb:445:ms17-010-vulnerable",
	          "netbios:139:ms17-010-vulnerable", "smb:445:doublepulsar-implant",
	          "netbios:139:doublepulsar-implant", "telnet:23:telnet-no-auth-shell"):
	    asked = q in ("vnc:5900:vnc-no-auth", "smb:445:smb1-enabled",
	                  "rdp:3389:rdp-nla-not-required", "smb:445:ms17-010-vulnerable")
	    print(q, out.get(q, "missing") if asked else "-")
	PY
}

: >"$work/t-before"
: >"$work/t-after"
: >"$work/t-nmap"
: >"$work/a-before"
: >"$work/a-after"
: >"$work/a-nmap"
for rep in $(seq 1 "$REPS"); do
	for tool in before after; do
		exe=$BEFORE
		[ $tool = after ] && exe=$AFTER
		wall_ms "$work/$tool.json" "$exe" check --json "${ALLOW[@]}" "$A" >>"$work/t-$tool"
		x_answers "$work/$tool.json" >>"$work/a-$tool"
	done
	if [ "$rep" -le "$NMAP_REPS" ]; then
		wall_ms "$work/nmap.txt" nmap "${NMAP_ARGS[@]}" -oX "$work/nmap.xml" "$A" >>"$work/t-nmap"
		n_answers "$work/nmap.xml" >>"$work/a-nmap"
	fi
	echo "bench: rep $rep: before $(tail -1 "$work/t-before") ms, after" \
		"$(tail -1 "$work/t-after") ms, nmap $(tail -1 "$work/t-nmap") ms" >&2
done
# Each check alone: the others at the closed port 10002.
for check in $CHECKS; do
	[ "$EACH_REPS" -gt 0 ] || break
	others=()
	for o in $CHECKS; do
		[ "$o" = "$check" ] || others+=(--port "$o=10002")
	done
	: >"$work/e-before-$check"
	: >"$work/e-after-$check"
	for rep in $(seq 1 "$EACH_REPS"); do
		for tool in before after; do
			exe=$BEFORE
			[ $tool = after ] && exe=$AFTER
			wall_ms "$work/each.json" "$exe" check --json "${ALLOW[@]}" "${others[@]}" "$A" \
				>>"$work/e-$tool-$check"
		done
	done
	echo "bench: $check alone: before $(tr '\n' ' ' <"$work/e-before-$check")ms, after" \
		"$(tr '\n' ' ' <"$work/e-after-$check")ms" >&2
done
load_end=$(uptime | sed 's/.*load average: //')
mb=$(median <"$work/t-before")
ma=$(median <"$work/t-after")
mn=$(median <"$work/t-nmap")

# share QFILE QUESTION RUNS: "answered/runs (unknown u, missing m, wrong w)" or "not asked"
share()
{
	awk -v q="$2" -v n="$3" '$1 == q { c[$2]++ } END {
		if (c["-"]) { print "not asked"; exit }
		printf "%d/%d", c["answered"], n
		s = ""
		if (c["unknown"]) s = s sprintf(", %d unknown", c["unknown"])
		if (c["missing"]) s = s sprintf(", %d missing", c["missing"])
		if (c["wrong"]) s = s sprintf(", %d wrong", c["wrong"])
		if (s != "") printf " (%s)", substr(s, 3)
		print "" }' "$1"
}

echo "### Issue 15: the lossy host with real servers, exposure before / after vs nmap -sV + scripts" \
	"($(date -u +%Y-%m-%d))"
echo
nv=$(nmap --version | head -1 | sed 's/ ( .*//')
echo "Machine: $(nproc) CPUs, kernel $(uname -r), $nv. Host $A (\`tests/lab/lab.sh\` host lossy,"
echo "prefix $LAB_PREFIX) behind tests/lab/netem.py: 150 ms and 10% loss each way (300 ms round"
echo "trip); OpenSSH on 22, inetutils-telnetd on 23, Samba on 445+139 (SMB1 on), xrdp on 3389"
echo "(tls), Xtigervnc on 5900 (None); 52300-52315 closed. Release builds"
echo "(\`-Dbuildtype=release -Dtests=disabled\`): before = \`$BEFORE\`, after = \`$AFTER\`."
echo "Machine load (uptime, 1/5/15 min): $load_start at the start, $load_end at the end."
echo
echo "| tool | runs | median wall time | runs (ms) |"
echo "| --- | --- | --- | --- |"
echo "| exposure check, before | $REPS | **$mb ms** | $(tr '\n' ' ' <"$work/t-before")|"
echo "| exposure check, after | $REPS | **$ma ms** | $(tr '\n' ' ' <"$work/t-after")|"
echo "| nmap -sT -sV + 6 scripts | $NMAP_REPS | **$mn ms** | $(tr '\n' ' ' <"$work/t-nmap")|"
echo
echo "Ratio nmap / exposure after: **$(awk -v a="$mn" -v b="$ma" 'BEGIN { printf "%.1f", a / b }')x**" \
	"(goal: at least 8x); before: $(awk -v a="$mn" -v b="$mb" 'BEGIN { printf "%.1f", a / b }')x."
echo
echo "Share of runs that answered each question (goal: >= 95%, none missing):"
echo
echo "| question | exposure before | exposure after | nmap |"
echo "| --- | --- | --- | --- |"
for q in $QUESTIONS; do
	k=${q%:*}
	echo "| $k | $(share "$work/a-before" "$k" "$REPS") | $(share "$work/a-after" "$k" "$REPS") |" \
		"$(share "$work/a-nmap" "$k" "$NMAP_REPS") |"
done
if [ "$EACH_REPS" -gt 0 ]; then
	echo
	echo "Each check alone (the others at the closed port 10002), wall ms, $EACH_REPS runs each:"
	echo
	echo "| check | before | median | after | median |"
	echo "| --- | --- | --- | --- | --- |"
	for check in $CHECKS; do
		echo "| $check | $(tr '\n' ' ' <"$work/e-before-$check")| $(median <"$work/e-before-$check") |" \
			"$(tr '\n' ' ' <"$work/e-after-$check")| $(median <"$work/e-after-$check") |"
	done
fi
echo
echo "Commands (runs interleaved, whole-process wall time measured around \`ip netns exec\`):"
echo
echo '```'
echo "REPS=$REPS NMAP_REPS=$NMAP_REPS EACH_REPS=$EACH_REPS bench/bench_lossy.sh BEFORE AFTER"
echo "ip netns exec $LAB_PREFIX-scan EXPOSURE check --json ${ALLOW[*]} $A"
echo "ip netns exec $LAB_PREFIX-scan nmap ${NMAP_ARGS[*]} -oX FILE $A"
[ "$EACH_REPS" -gt 0 ] &&
	echo "ip netns exec $LAB_PREFIX-scan EXPOSURE check --json ${ALLOW[*]} --port OTHER=10002 ... $A"
echo '```'
