#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of issue 12 (by hand, root, never a test): the extended profile against ONE all-open
# lab host (tests/lab/lab.sh host "srv", its own namespace, 198.18.6.2) with a server behind
# every check, from the scanner namespace:
#   REAL (Debian): OpenSSH 22, inetutils-telnetd 23, Samba 445+139 (SMB1 on), xrdp 3389 (tls),
#     Xtigervnc 5900 (None), rsync daemon 873 (one open module, one with auth users), rpcbind
#     111 + rpc.mountd 20048 (an export to *), tgtd 3260, redis-server 6379 (no password),
#     mariadbd 3306 (user app@'198.18.%'), PostgreSQL 5432 (tests/lab/pg.sh), memcached 11211
#     (TCP and UDP), miniupnpd (SSDP on UDP 1900, its HTTP on 5555);
#   EMULATED (no Debian server, or no kernel nfsd here): MongoDB 7.0 open on 27017 and
#     Elasticsearch 7.17 open on 9200 (tests/emul/db_emul.py), a Synology DSM page on 5000
#     (tests/emul/nas_emul.py), NFS on 2049 (tests/emul/emul.py nfs-prog-unavail).
#   Not served: 8080, 443 (nas-admin's other ports) and 52300-52315 (skysea): closed.
# Interleaved rounds: exposure --profile extended (REPS, default 5), nmap -sT -sU -sV with the
# NSE scripts that ask the same questions (NMAP_REPS, default 3), and the 2017 profile
# (default `exposure check`) of BEFORE and AFTER (two binaries, REPS each). Prints a Markdown
# fragment for bench/RESULTS.md: medians, the machine load, and per check the verdict of each
# tool in the last round (and how many rounds agreed).
# ONLY_2017=1: the 2017 profile of BEFORE and AFTER only (no extended run, no nmap), for a
# start-up comparison (bench/bench_startup.sh); REPS rounds.
# Usage (root): bench/bench_extended.sh BEFORE-exposure AFTER-exposure
#   e.g. nohup timeout 1200 bench/bench_extended.sh /tmp/b12-before/build-rel/src/cli/exposure \
#        build-rel/src/cli/exposure >/tmp/bench12.md 2>/tmp/bench12.err &
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-xpb12}
# socat, not inetutils-inetd: inetd's sleep(1) after each telnetd exit delays a diagnosis that
# follows another by up to a second (tests/lab/servers.sh, lab_telnetd; RESULTS.md issue 11).
export LAB_TELNETD_LAUNCHER=${LAB_TELNETD_LAUNCHER:-socat}
# shellcheck source=tests/lab/lab.sh
. "$root/tests/lab/lab.sh"
# shellcheck source=tests/lab/pg.sh
. "$root/tests/lab/pg.sh"
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
ONLY_2017=${ONLY_2017:-}
for t in nmap jq redis-server mariadbd memcached miniupnpd rsync tgtd rpcbind; do
	command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 2; }
done
[ $# = 2 ] || { echo "usage: $0 BEFORE-exposure AFTER-exposure" >&2; exit 2; }
BEFORE=$(realpath "$1")
AFTER=$(realpath "$2")
REPS=${REPS:-5}
NMAP_REPS=${NMAP_REPS:-3}
ALLOW=(--allow 198.18.0.0/15 --allow 2001:db8::/32)
TPORTS=22,23,111,139,443,445,873,2049,3260,3306,3389,5000,5001,5432,5900,6379,8080,9200,11211
TPORTS+=,27017,52300-52315
UPORTS=1900,11211
SCRIPTS=redis-info,mongodb-info,mysql-info,rsync-list-modules,nfs-showmount,iscsi-info
SCRIPTS+=,memcached-info,upnp-info,http-title
SCRIPTS+=,smb-protocols,smb2-security-mode,smb-vuln-ms17-010,rdp-enum-encryption,vnc-info
SCRIPTS+=,ssh2-enum-algos
NMAP_ARGS=(-sT -sU -Pn -n -sV --script "$SCRIPTS" --script-args vulns.showall
	-p "T:$TPORTS,U:$UPORTS")
work=$(mktemp -d "${TMPDIR:-/tmp}/xp-bench12.XXXXXX")
trap 'pg_down; lab_down; rm -rf -- "$work"' EXIT

t0=$SECONDS
lab_up srv >/dev/null || { echo "bench: lab failed" >&2; exit 1; }
A=$(lab_addr4 srv)
A6=$(lab_addr6 srv)
ns=$(lab_ns srv)
up() { "$@" >/dev/null || { echo "bench: could not start: $*" >&2; exit 1; }; }
lab_mariadbd srv 3306 '198.18.%' >/dev/null &
maria=$!
up lab_sshd srv 22
up lab_telnetd srv 23
up lab_smbd srv smb1=on
up lab_xrdp srv 3389 tls
up lab_vncd srv 5900 none
up lab_rsyncd srv 873 mixed
up lab_nfsd srv 20048 world
up lab_tgtd srv 3260 iqn.2026-12.test.lab:backup-disk
up lab_redisd srv 6379 open
up lab_srv_start memcached srv 11211 -- memcached -u nobody -l "$A" -l "[$A6]" \
	-p 11211 -U 11211 -t 1 -m 8
d=$(lab_srv_dir miniupnpd)
cat >"$d/miniupnpd.conf" <<CONF
ext_ifname=lo
listening_ip=eth0
port=5555
enable_natpmp=no
enable_upnp=yes
secure_mode=yes
uuid=00000000-0000-0000-0000-000000000001
allow 1024-65535 198.18.0.0/15 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
up lab_srv_start miniupnpd srv 5555 -- miniupnpd -d -f "$d/miniupnpd.conf" -P "$d/pid"
up lab_spawn emul-nfs-2049 "$ns" python3 "$root/tests/emul/emul.py" nfs-prog-unavail \
	--host "$A" --port 2049
up lab_spawn emul-mongo "$ns" python3 "$root/tests/emul/db_emul.py" mongo-open --host "$A" \
	--port 27017
up lab_spawn emul-es "$ns" python3 "$root/tests/emul/db_emul.py" es-open --host "$A" --port 9200
up lab_spawn emul-nas "$ns" python3 -c \
	'import sys; sys.path.insert(0, sys.argv[1]); import nas_emul; nas_emul.serve("dsm", 5000, host=sys.argv[2])' \
	"$root/tests/emul" "$A"
pg_up "$A,$A6" 5432 "$ns" >/dev/null || { echo "bench: PostgreSQL did not start" >&2; exit 1; }
wait "$maria" || { echo "bench: mariadbd did not start" >&2; exit 1; }
lab_wait_listen "$ns" 2049 27017 9200 5000 3306 5432 || { echo "bench: lab not ready" >&2; exit 1; }
echo "bench: lab up in $((SECONDS - t0)) s" >&2

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

# The verdict of one exposure document per check: "CHECK VERDICT" where VERDICT is the open
# port(s) and the decisive finding ids (those with confidence confirmed/likely), or "not-open".
x_verdicts()
{
	jq -r '[.checks[] | {c: .check, p: .port, s: .state,
		f: ([.findings[]? | select(.confidence != "unknown") | .id] | sort | join("+"))}]
		| group_by(.c)[] | "\(.[0].c) " + ([.[] | select(.s == "open")
		| "\(.p):\(if .f == "" then "open" else .f end)"] | if length == 0 then "not-open"
		else join(",") end)' "$1" 2>/dev/null
}

# The same questions from nmap's XML: per check, what nmap's port states, -sV and scripts say.
n_verdicts()
{
	/usr/bin/python3 - "$1" <<-'PY'
	import sys, xml.etree.ElementTree as ET
	try:
	    root = ET.parse(sys.argv[1]).getroot()
	except Exception:
	    root = None
	ports = {}
	if root is not None:
	    for p in root.iter("port"):
	        st = p.find("state").get("state")
	        sv = p.find("service")
	        name = sv.get("name", "") + " " + sv.get("product", "") if sv is not None else ""
	        sc = {s.get("id"): s.get("output") or "" for s in p.iter("script")}
	        ports[(p.get("protocol"), int(p.get("portid")))] = (st, name, sc)
	def port(proto, n):
	    return ports.get((proto, n), ("missing", "", {}))
	out = {}
	def is_open(proto, n):
	    return port(proto, n)[0] == "open"
	def say(check, proto, n, verdicts):
	    st = port(proto, n)[0]
	    if st != "open":
	        out.setdefault(check, []).append("%d:%s" % (n, st))
	    else:
	        out.setdefault(check, []).append("%d:%s" % (n, "+".join(sorted(verdicts)) or "open"))
	st, name, sc = port("tcp", 22); say("ssh", "tcp", 22, ["ssh-exposed"] if "ssh" in name else [])
	st, name, sc = port("tcp", 23); say("telnet", "tcp", 23, ["telnet-exposed"] if "telnet" in name else [])
	host = {}
	if root is not None:
	    for hs in root.iter("hostscript"):
	        for s in hs.iter("script"):
	            host[s.get("id")] = s.get("output") or ""
	# smb-protocols, smb2-security-mode and smb-vuln-ms17-010 are host scripts: nmap runs them
	# on 445 only, so they decide smb's questions, not netbios's.
	smb = ["smb-exposed"]
	if "NT LM 0.12" in host.get("smb-protocols", ""):
	    smb.append("smb1-enabled")
	if "not required" in host.get("smb2-security-mode", ""):
	    smb.append("smb-signing-not-required")
	if "State: VULNERABLE" in host.get("smb-vuln-ms17-010", ""):
	    smb.append("ms17-010-vulnerable")
	say("smb", "tcp", 445, sorted(smb))
	st, name, sc = port("tcp", 139)
	say("netbios", "tcp", 139, ["netbios-exposed"] if "netbios" in name else [])
	st, name, sc = port("tcp", 3389)
	r = sc.get("rdp-enum-encryption", "")
	say("rdp", "tcp", 3389, ["rdp-exposed"] + (["rdp-nla-not-required"] if "CredSSP (NLA): FAILED" in r or ("SSL: SUCCESS" in r and "CredSSP" not in r) else []))
	st, name, sc = port("tcp", 5900)
	v = sc.get("vnc-info", "")
	say("vnc", "tcp", 5900, ["vnc-exposed"] + (["vnc-no-auth"] if "None" in v else []))
	for n in range(52300, 52316):
	    if is_open("tcp", n):
	        say("skysea", "tcp", n, ["skysea-port-exposed"])
	if "skysea" not in out:
	    out["skysea"] = ["not-open"]
	st, name, sc = port("udp", 1900)
	say("ssdp", "udp", 1900, ["upnp-exposed"] if sc.get("upnp-info") else [])
	st, name, sc = port("tcp", 873)
	m = sc.get("rsync-list-modules", "")
	say("rsync", "tcp", 873, (["rsync-exposed"] if "rsync" in name else []) + (["rsync-modules-listed"] if "open" in m else []))
	st, name, sc = port("tcp", 111)
	e = sc.get("nfs-showmount", "")
	say("nfs", "tcp", 111, ["nfs-exposed"] + (["nfs-export-world"] if " *" in e or "\t*" in e else []))
	st, name, sc = port("tcp", 3260)
	isc = ["iscsi-exposed"] if "iscsi" in name.lower() or sc.get("iscsi-info") else []
	if "Authentication: NOT required" in sc.get("iscsi-info", ""):
	    isc.append("iscsi-discovery-no-auth")
	say("iscsi", "tcp", 3260, isc)
	for n in (443, 5000, 5001, 8080):
	    st, name, sc = port("tcp", n)
	    if st == "open":
	        say("nas-admin", "tcp", n, ["nas-admin-exposed"] if "Synology" in sc.get("http-title", "") else [])
	if "nas-admin" not in out:
	    out["nas-admin"] = ["not-open"]
	st, name, sc = port("tcp", 6379)
	say("redis", "tcp", 6379, ["redis-exposed"] + (["redis-no-auth"] if "Version" in sc.get("redis-info", "") else []))
	st, name, sc = port("tcp", 27017)
	mi = sc.get("mongodb-info", "")
	say("mongodb", "tcp", 27017, ["mongodb-exposed"] + (["mongodb-no-auth"] if "databases" in mi or "totalSize" in mi else []))
	st, name, sc = port("tcp", 9200)
	# -sV names no service here; its fingerprint-strings hold the answer to GET /
	fp = sc.get("fingerprint-strings", "")
	esv = ["elasticsearch-exposed"] if "elastic" in name.lower() or "X-elastic-product" in fp else []
	if esv and "200 OK" in fp and "cluster_name" in fp:
	    esv.append("elasticsearch-no-auth")
	say("elasticsearch", "tcp", 9200, esv)
	st, name, sc = port("tcp", 11211)
	say("memcached", "tcp", 11211, ["memcached-exposed"] if sc.get("memcached-info") or "memcache" in name else [])
	st, name, sc = port("udp", 11211)
	say("memcached-udp", "udp", 11211, ["memcached-udp-amplifier"] if sc.get("memcached-info") else [])
	st, name, sc = port("tcp", 3306)
	say("mysql", "tcp", 3306, ["mysql-exposed"] if "Version" in sc.get("mysql-info", "") else [])
	st, name, sc = port("tcp", 5432)
	say("postgresql", "tcp", 5432, ["postgresql-exposed"] if "postgres" in name.lower() else [])
	for k in sorted(out):
	    print(k, ",".join(out[k]))
	PY
}

: >"$work/t-ext"
: >"$work/t-nmap"
: >"$work/t-before"
: >"$work/t-after"
load_start=$(uptime | sed 's/.*load average: //')
for rep in $(seq 1 "$REPS"); do
	if [ -z "$ONLY_2017" ]; then
		wall_ms "$work/ext.json" "$AFTER" check --json --profile extended "${ALLOW[@]}" "$A" \
			>>"$work/t-ext"
		x_verdicts "$work/ext.json" >"$work/v-ext-$rep"
	fi
	wall_ms "$work/before.json" "$BEFORE" check --json "${ALLOW[@]}" "$A" >>"$work/t-before"
	wall_ms "$work/after.json" "$AFTER" check --json "${ALLOW[@]}" "$A" >>"$work/t-after"
	x_verdicts "$work/before.json" >"$work/v-before-$rep"
	x_verdicts "$work/after.json" >"$work/v-after-$rep"
	if [ -z "$ONLY_2017" ] && [ "$rep" -le "$NMAP_REPS" ]; then
		wall_ms "$work/nmap.txt" nmap "${NMAP_ARGS[@]}" -oX "$work/nmap.xml" "$A" >>"$work/t-nmap"
		n_verdicts "$work/nmap.xml" >"$work/v-nmap-$rep"
		cp "$work/nmap.xml" "$work/nmap-$rep.xml"
	fi
	echo "bench: round $rep: extended $(tail -1 "$work/t-ext") ms, 2017 before" \
		"$(tail -1 "$work/t-before") ms, 2017 after $(tail -1 "$work/t-after") ms, nmap" \
		"$(tail -1 "$work/t-nmap") ms" >&2
done
load_end=$(uptime | sed 's/.*load average: //')
[ -n "${KEEP:-}" ] && cp -r "$work" "$KEEP"
if [ -n "$ONLY_2017" ]; then
	mb=$(median <"$work/t-before")
	ma=$(median <"$work/t-after")
	same=$(cat "$work"/v-before-* "$work"/v-after-* | sort | uniq -c | awk -v n=$((2 * REPS)) \
		'$1 != n' | wc -l)
	echo "The 2017 profile (\`exposure check --json\`) on the all-open host $A (bench_extended.sh's"
	echo "lab, ONLY_2017=1), $REPS rounds, before and after interleaved; release builds: before ="
	echo "\`$BEFORE\`, after = \`$AFTER\`. Machine load (uptime, 1/5/15 min): $load_start at the"
	echo "start, $load_end at the end."
	echo
	echo "| exposure check (2017 profile) | median wall time | runs (ms) |"
	echo "| --- | --- | --- |"
	echo "| before | **$mb ms** | $(tr '\n' ' ' <"$work/t-before")|"
	echo "| after | **$ma ms** | $(tr '\n' ' ' <"$work/t-after")|"
	echo
	echo "After / before: $(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.2f", a / b }');" \
		"verdicts per check the same in every run of both: $([ "$same" = 0 ] && echo yes ||
			echo "no ($same differ)")."
	exit 0
fi
me=$(median <"$work/t-ext")
mn=$(median <"$work/t-nmap")
mb=$(median <"$work/t-before")
ma=$(median <"$work/t-after")

echo "### Issue 12: the extended profile on one all-open host vs nmap -sT -sU -sV + NSE scripts" \
	"($(date -u +%Y-%m-%d))"
echo
nv=$(nmap --version | head -1 | sed 's/ ( .*//')
echo "Machine: $(nproc) CPUs, kernel $(uname -r), $nv. Host $A (\`tests/lab/lab.sh\` host srv,"
echo "prefix $LAB_PREFIX, no delay or loss) with real servers: OpenSSH 22, inetutils-telnetd 23,"
echo "Samba 445+139 (SMB1 on), xrdp 3389 (tls), Xtigervnc 5900 (None), rsync daemon 873 (an"
echo "open module and one with auth users), rpcbind 111 + rpc.mountd 20048 (export to *), tgtd"
echo "3260, redis-server 6379 (no password), mariadbd 3306, PostgreSQL 5432, memcached 11211 TCP"
echo "and UDP, miniupnpd (SSDP UDP 1900); EMULATED: MongoDB 27017 and Elasticsearch 9200"
echo "(tests/emul/db_emul.py), a Synology DSM page on 5000 (tests/emul/nas_emul.py), NFS on 2049"
echo "(tests/emul/emul.py: no kernel nfsd here); 443, 5001, 8080, 52300-52315 closed. Release"
echo "builds (\`-Dbuildtype=release -Dtests=disabled\`): before = \`$BEFORE\`, after = \`$AFTER\`."
echo "Machine load (uptime, 1/5/15 min): $load_start at the start, $load_end at the end."
echo
echo "| tool | runs | median wall time | runs (ms) |"
echo "| --- | --- | --- | --- |"
echo "| exposure check --profile extended (after) | $REPS | **$me ms** | $(tr '\n' ' ' <"$work/t-ext")|"
echo "| nmap -sT -sU -sV + 15 scripts | $NMAP_REPS | **$mn ms** | $(tr '\n' ' ' <"$work/t-nmap")|"
echo "| exposure check (2017 profile), before | $REPS | **$mb ms** | $(tr '\n' ' ' <"$work/t-before")|"
echo "| exposure check (2017 profile), after | $REPS | **$ma ms** | $(tr '\n' ' ' <"$work/t-after")|"
echo
echo "Ratio nmap / exposure extended: **$(awk -v a="$mn" -v b="$me" 'BEGIN { printf "%.1f", a / b }')x**" \
	"(goal: at least 20x). 2017 profile after / before:" \
	"$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.2f", a / b }')."
echo
echo "Verdicts per check (port:decisive findings; exposure: findings confirmed/likely; nmap: what"
echo "its port state, -sV and scripts establish), last round, and in how many rounds each tool"
echo "gave that same verdict:"
echo
echo "| check | exposure extended | rounds | nmap | rounds | same |"
echo "| --- | --- | --- | --- | --- | --- |"
lx=$work/v-ext-$REPS
ln=$work/v-nmap-$NMAP_REPS
for c in $(cat "$lx" "$ln" | awk '{ print $1 }' | sort -u); do
	vx=$(awk -v c="$c" '$1 == c { print $2 }' "$lx")
	vn=$(awk -v c="$c" '$1 == c { print $2 }' "$ln")
	nx=$(cat "$work"/v-ext-* | awk -v c="$c" -v v="$vx" '$1 == c && $2 == v' | wc -l)
	nn=$(cat "$work"/v-nmap-* | awk -v c="$c" -v v="$vn" '$1 == c && $2 == v' | wc -l)
	same=no
	[ "$vx" = "$vn" ] && same=yes
	echo "| $c | ${vx:--} | $nx/$REPS | ${vn:--} | $nn/$NMAP_REPS | $same |"
done
echo
echo "Commands (rounds interleaved: extended, 2017 before, 2017 after, nmap in the first"
echo "$NMAP_REPS rounds; whole-process wall time measured around \`ip netns exec\`):"
echo
echo '```'
echo "REPS=$REPS NMAP_REPS=$NMAP_REPS bench/bench_extended.sh BEFORE AFTER"
echo "ip netns exec $LAB_PREFIX-scan AFTER check --json --profile extended ${ALLOW[*]} $A"
echo "ip netns exec $LAB_PREFIX-scan BEFORE check --json ${ALLOW[*]} $A"
echo "ip netns exec $LAB_PREFIX-scan AFTER check --json ${ALLOW[*]} $A"
echo "ip netns exec $LAB_PREFIX-scan nmap ${NMAP_ARGS[*]} -oX FILE $A"
echo '```'
