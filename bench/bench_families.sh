#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of issue 10 §1 (by hand, root, never a test): a both-families diagnosis of the lab's
# all-services host against a single-family one, through `exposure serve` with address tickets.
#
# The host (tests/lab/lab.sh host srv, 198.18.6.2 and 2001:db8:6::2) runs the real Debian
# servers of bench/bench_services.sh on both addresses: sshd 22, telnetd 23 (started by socat,
# LAB_TELNETD_LAUNCHER=socat: inetutils-inetd is deaf for a second after every telnet session,
# bench/RESULTS.md issue 11, and a both-families run ends two sessions at once), smbd 445+139
# (SMB1 on), xrdp 3389 (tls), Xtigervnc 5900 (None); with SKYSEA=open (default) the lab's
# listener on 52300-52315 too, so every port of every check is open; SKYSEA=closed leaves them
# closed as bench_services.sh does.
# DELAY_MS=N (default 0): the same servers on the lab's "lossy" host (198.18.2.2,
# 2001:db8:2::2), whose link is tests/lab/netem.py (this kernel has no sch_netem) holding every
# frame N ms each way with no loss (LAB_LOSSY_LOSS=0, LAB_LOSSY_BOTH=1): a visitor 2N ms away,
# where a diagnosis waits on round trips rather than on the lab host's CPU.
# The service runs in the scanner namespace: `exposure serve --public` on 198.18.0.1:8080 and
# [2001:db8::1]:8080 (its loopback), --origin http://exposure.test:8080, --v4-host
# v4.exposure.test:8080, --v6-host v6.exposure.test:8080, the limits raised for the run. The
# visitor is the host itself: a Python client in its namespace, names from
# /etc/netns/<ns>/hosts (exposure.test to both addresses, v4. to the IPv4 one only, v6. to the
# IPv6 one only), as tests/browser/families.sh sets them up. Per round, in a rotating order:
#   v4    the page over IPv4, POST without tickets: the IPv4 address alone
#   v6    the page over IPv6, POST without tickets: the IPv6 address alone
#   both  the page over IPv4, GET /api/ticket on v4. and v6., POST with both tickets: one
#         diagnosis of the two addresses (the IPv4 ticket names the peer and is dropped)
# Wall time: from sending POST /api/diagnoses to the event stream's `done` (tickets are taken
# before the clock starts). GAP seconds of quiet between diagnoses (default 0.3). Then, for
# reference, `exposure check` from the scanner namespace of one address, the other, and the
# name srv.lab resolving to both (one visit of the two addresses, as serve does), CHECK_REPS
# times each, interleaved, whole-process wall time.
# Usage (root): bench/bench_families.sh [PATH-TO-exposure]  (default build-rel/src/cli/exposure)
#   REPS=20 CHECK_REPS=10 nohup timeout 900 bench/bench_families.sh >/tmp/fam.md 2>/tmp/fam.err &
# Prints a Markdown fragment for bench/RESULTS.md on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-xpb10}
# shellcheck source=tests/lab/lab.sh
. "$root/tests/lab/lab.sh"
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
for t in jq socat; do
	command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 2; }
done
EXE=$(realpath "${1:-$root/build-rel/src/cli/exposure}")
[ -x "$EXE" ] || { echo "bench: no exposure binary at $EXE" >&2; exit 2; }
REPS=${REPS:-20}
CHECK_REPS=${CHECK_REPS:-10}
GAP=${GAP:-0.3}
SKYSEA=${SKYSEA:-open}
DELAY_MS=${DELAY_MS:-0}
H=srv
if [ "$DELAY_MS" != 0 ]; then
	H=lossy
	export LAB_LOSSY_DELAY_MS=$DELAY_MS LAB_LOSSY_LOSS=0 LAB_LOSSY_BOTH=1
fi
PORT=8080
SRV4=198.18.0.1
SRV6=2001:db8::1
ALLOW=(--allow 198.18.0.0/15 --allow 2001:db8::/32)
work=$(mktemp -d "${TMPDIR:-/tmp}/xp-bench10.XXXXXX")
etc=()
srv_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup()
{
	[ -n "$srv_pid" ] && lab_kill_pid "$srv_pid"
	lab_down
	local d
	for d in "${etc[@]}"; do rm -rf -- "$d"; done
	rmdir /etc/netns 2>/dev/null
	rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

lab_up $H >/dev/null || { echo "bench: lab failed" >&2; exit 1; }
up() { "$@" >/dev/null || { echo "bench: could not start: $*" >&2; exit 1; }; }
up lab_sshd $H 22
LAB_TELNETD_LAUNCHER=socat up lab_telnetd $H 23
up lab_smbd $H smb1=on
up lab_xrdp $H 3389 tls
up lab_vncd $H 5900 none
[ "$SKYSEA" = open ] && up lab_listen $H 52300-52315
A4=$(lab_addr4 $H)
A6=$(lab_addr6 $H)
scan=$(lab_scanner_ns)
vis=$(lab_ns $H)

# The service's addresses on the scanner's loopback, reached through the host's veth.
ip -n "$scan" addr add "$SRV4/32" dev lo
ip -n "$scan" addr add "$SRV6/128" dev lo
ip -n "$vis" route add "$SRV4/32" via "$(lab_scanner_addr4 $H)"
ip -n "$vis" -6 route add "$SRV6/128" via "$(lab_scanner_addr6 $H)"
for ns in "$vis" "$scan"; do
	d=/etc/netns/$ns
	mkdir -p "$d"
	etc+=("$d")
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$d/resolv.conf"
done
printf '127.0.0.1 localhost\n%s exposure.test\n%s exposure.test\n%s v4.exposure.test\n%s v6.exposure.test\n' \
	"$SRV4" "$SRV6" "$SRV4" "$SRV6" >"/etc/netns/$vis/hosts"
printf '127.0.0.1 localhost\n%s srv.lab\n%s srv.lab\n' "$A4" "$A6" >"/etc/netns/$scan/hosts"

SERVE=(serve --public "${ALLOW[@]}" --listen "$SRV4:$PORT" --listen "[$SRV6]:$PORT"
	--origin "http://exposure.test:$PORT" --v4-host "v4.exposure.test:$PORT"
	--v6-host "v6.exposure.test:$PORT" --addr-rate 0 --prefix-rate 0 --site-rate 0
	--store "$work/x.db" --key "$work/x.key")
srv_pid=$(lab_spawn serve "$scan" "$EXE" "${SERVE[@]}") || exit 1
lab_wait_listen "$scan" "$PORT" || { cat "$LAB_STATE/log/serve.log" >&2; exit 1; }

# The visitor: REPS rounds of v4, v6 and both, in a rotating order; one line per diagnosis
# "MODE MS TARGETS STATUS SERVER_MS LAB_CPU_MS SERVE_CPU_MS" on stdout: the CPU time the lab
# host's servers (with the processes they forked and reaped) and exposure serve spent from the
# tickets to GAP after the end. Every request bounded (30 s timeouts, REPS rounds).
cat >"$work/visitor.py" <<'PY'
import http.client, json, os, sys, time
reps, gap, port = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
a4, a6 = sys.argv[4], sys.argv[5]
serve_pid, lab_pids = sys.argv[6], sys.argv[7].split()
TCK = os.sysconf("SC_CLK_TCK")

def stat(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None

def cpu_ms(pid):
    """CPU of a process and of its children it reaped (a forking server's connections) and,
    recursively, of its live children."""
    f = stat(pid)
    if f is None:
        return 0
    own = sum(int(x) for x in f[11:15]) * 1000 / TCK
    for p in os.listdir("/proc"):
        if p.isdigit():
            g = stat(p)
            if g and g[1] == str(pid):
                own += cpu_ms(p)
    return own

def lab_cpu():
    return sum(cpu_ms(p) for p in lab_pids)
origin = "http://exposure.test:%d" % port
main_host = "exposure.test:%d" % port

def conn(addr):
    return http.client.HTTPConnection(addr, port, timeout=30)

def req(c, method, path, host, body=None, headers=None):
    """A request on keep-alive connection c; once more on a new connection if the service had
    closed it while it sat idle (--conn-timeout, --request-timeout), as a browser does."""
    h = {"Host": host}
    h.update(headers or {})
    for attempt in (0, 1):
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            c.close()
            if attempt:
                raise

main = {4: conn(a4), 6: conn(a6)}
st, b = req(main[4], "GET", "/api/whoami", main_host)
token = json.loads(b)["csrf_token"]
hdr = {"X-CSRF-Token": token, "Cookie": "exposure_csrf=" + token, "Origin": origin,
       "Content-Type": "application/json"}
fam = {4: conn("v4.exposure.test"), 6: conn("v6.exposure.test")}

def ticket(f):
    st, b = req(fam[f], "GET", "/api/ticket?csrf=" + token, "v%d.exposure.test:%d" % (f, port),
                headers={"Origin": origin})
    if st != 200:
        raise SystemExit("ticket v%d: %d %r" % (f, st, b[:200]))
    return json.loads(b)["ticket"]

def diagnose(mode):
    c = main[6] if mode == "v6" else main[4]
    tickets = [ticket(4), ticket(6)] if mode == "both" else []
    lab0, serve0 = lab_cpu(), cpu_ms(serve_pid)
    req(c, "GET", "/healthz", main_host)  # the connection is open before the clock starts
    body = json.dumps({"tickets": tickets} if tickets else {}).encode()
    t0 = time.monotonic()
    st, b = req(c, "POST", "/api/diagnoses", main_host, body, hdr)
    if st != 202:
        raise SystemExit("POST %s: %d %r" % (mode, st, b[:200]))
    did = json.loads(b)["id"]
    c.request("GET", "/api/diagnoses/%s/events" % did, headers={"Host": main_host})
    r = c.getresponse()
    done = None
    for raw in r:
        line = raw.decode()
        if line.startswith("data: ") and '"risk"' in line:
            done = json.loads(line[6:])
    r.read()
    ms = (time.monotonic() - t0) * 1000
    time.sleep(gap)  # the servers reap their connections' processes
    lab1, serve1 = lab_cpu(), cpu_ms(serve_pid)
    st, b = req(c, "GET", "/api/diagnoses/%s" % did, main_host)
    doc = json.loads(b)
    targets = ",".join(t["address"] for t in (doc.get("result") or {}).get("targets", []))
    # The service's own view: from accepting the POST to the end of the last check.
    server_ms = doc.get("finished_ms", 0) - doc.get("created_ms", 0)
    print("%s %.1f %s %s %d %d %d" % (mode, ms, targets or "?", done and done.get("status"),
                                      server_ms, lab1 - lab0, serve1 - serve0), flush=True)

modes = ["v4", "v6", "both"]
for i in range(reps):
    for k in range(3):
        diagnose(modes[(i + k) % 3])
PY
echo "bench: serve: $REPS rounds of v4, v6, both" >&2
lab_pids=$(awk '$2 !~ /^(serve|netem)/ { print $1 }' "$LAB_STATE/pids" | tr '\n' ' ')
lab_exec $H python3 "$work/visitor.py" "$REPS" "$GAP" "$PORT" "$SRV4" "$SRV6" "$srv_pid" \
	"$lab_pids" >"$work/serve.txt" ||
	{ echo "bench: the visitor failed" >&2; tail -20 "$LAB_STATE/log/serve.log" >&2; exit 1; }
# The last both-families document, for its rows.
last_id=$(sqlite3 "file:$work/x.db?mode=ro" \
	"SELECT id FROM diagnoses WHERE families = 46 ORDER BY created_ms DESC LIMIT 1" 2>/dev/null)

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

echo "bench: check: $CHECK_REPS rounds of $A4, $A6, srv.lab" >&2
: >"$work/c4" && : >"$work/c6" && : >"$work/cboth"
for _ in $(seq 1 "$CHECK_REPS"); do
	wall_ms "$work/c4.json" "$EXE" check --json "${ALLOW[@]}" "$A4" >>"$work/c4"
	sleep "$GAP"
	wall_ms "$work/c6.json" "$EXE" check --json "${ALLOW[@]}" "$A6" >>"$work/c6"
	sleep "$GAP"
	wall_ms "$work/cboth.json" "$EXE" check --json "${ALLOW[@]}" srv.lab >>"$work/cboth"
	sleep "$GAP"
done

col() { awk -v m="$1" '$1 == m { print $2 }' "$work/serve.txt"; }
row()
{
	local label=$1 file=$2
	echo "| $label | **$(median <"$file") ms** | $(awk '{ printf "%d ", $1 + 0.5 }' "$file")|"
}
col v4 >"$work/s4" && col v6 >"$work/s6" && col both >"$work/sboth"
srow()
{
	local label=$1 mode=$2 file=$3
	echo "| $label | **$(median <"$file") ms** |" \
		"$(awk -v m="$mode" '$1 == m { print $5 }' "$work/serve.txt" | median) ms |" \
		"$(awk -v m="$mode" '$1 == m { print $6 }' "$work/serve.txt" | median) ms |" \
		"$(awk -v m="$mode" '$1 == m { print $7 }' "$work/serve.txt" | median) ms |" \
		"$(awk '{ printf "%d ", $1 + 0.5 }' "$file")|"
}
m4=$(median <"$work/s4")
m6=$(median <"$work/s6")
mb=$(median <"$work/sboth")
c4=$(median <"$work/c4")
c6=$(median <"$work/c6")
cb=$(median <"$work/cboth")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
slower() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }

echo "### Both address families vs one: the all-services host through exposure serve with tickets" \
	"($(date -u +%Y-%m-%d), $REPS rounds, skysea $SKYSEA, $([ "$DELAY_MS" = 0 ] &&
		echo "no delay" || echo "a $((2 * DELAY_MS)) ms round trip"))"
echo
echo "Machine: $(nproc) CPUs, kernel $(uname -r), exposure" \
	"$(git -C "$root" log -1 --format=%h 2>/dev/null) (release build), host $A4 and $A6" \
	"(\`tests/lab/lab.sh\` host $H, prefix $LAB_PREFIX$([ "$DELAY_MS" = 0 ] || echo ", link" \
		"tests/lab/netem.py: $DELAY_MS ms each way, no loss")): OpenSSH" \
	"$(dpkg-query -W -f '${Version}' openssh-server) on 22, inetutils-telnetd" \
	"$(dpkg-query -W -f '${Version}' inetutils-telnetd) by socat on 23, Samba" \
	"$(dpkg-query -W -f '${Version}' samba) on 445+139 (SMB1 on), xrdp" \
	"$(dpkg-query -W -f '${Version}' xrdp) on 3389 (tls), Xtigervnc" \
	"$(dpkg-query -W -f '${Version}' tigervnc-standalone-server) on 5900 (None), 52300-52315" \
	"$([ "$SKYSEA" = open ] && echo "open (tests/lab/listener.py, silent)" || echo closed)," \
	"every server on both addresses. Load at the end: $(uptime | sed 's/.*load average: //')."
echo
echo "| diagnosis | median POST to done (client) | median created to finished (service) |" \
	"median CPU of the host's servers | median CPU of exposure serve | runs (ms, client, in order) |"
echo "| --- | --- | --- | --- | --- | --- |"
srow "serve, IPv4 alone (no ticket)" v4 "$work/s4"
srow "serve, IPv6 alone (no ticket)" v6 "$work/s6"
srow "serve, both families (two tickets)" both "$work/sboth"
echo
echo "Diagnoses not ending \`done\`: $(awk '$4 != "done"' "$work/serve.txt" | wc -l) of" \
	"$(wc -l <"$work/serve.txt"); both-families diagnoses with other than two targets:" \
	"$(awk '$1 == "both" && split($3, a, ",") != 2' "$work/serve.txt" | wc -l)."
echo
echo "Both / IPv4 alone: **$(ratio "$mb" "$m4")**; both / IPv6 alone: **$(ratio "$mb" "$m6")**;" \
	"both / the slower family alone: **$(ratio "$mb" "$(slower "$m4" "$m6")")** (goal: at most 1.10)."
echo
echo "| exposure check (reference) | median wall time | runs (ms) |"
echo "| --- | --- | --- |"
row "check $A4" "$work/c4"
row "check $A6" "$work/c6"
row "check srv.lab (both addresses, one visit)" "$work/cboth"
echo
echo "check both / IPv4: $(ratio "$cb" "$c4"); both / IPv6: $(ratio "$cb" "$c6");" \
	"both / the slower alone: $(ratio "$cb" "$(slower "$c4" "$c6")")."
echo
echo "Targets of the last both-families diagnosis: $(awk '$1 == "both" { t = $3 } END { print t }' \
	"$work/serve.txt"); its check rows (address check port state):"
echo
echo '```'
if [ -n "$last_id" ]; then
	lab_exec $H python3 - "$PORT" "$last_id" <<-'PY'
	import http.client, json, sys
	c = http.client.HTTPConnection("198.18.0.1", int(sys.argv[1]), timeout=10)
	c.request("GET", "/api/diagnoses/" + sys.argv[2], headers={"Host": "exposure.test:%s" % sys.argv[1]})
	d = json.loads(c.getresponse().read())
	for ch in d.get("checks", []):
	    ports = " ".join("%s:%s" % (p.get("port"), p.get("state")) for p in ch.get("ports", []))
	    print(ch.get("address"), ch.get("check"), ports or ch.get("state"),
	          " ".join(f["id"] for f in ch.get("findings", [])))
	for f in (d.get("result") or {}).get("findings", []):
	    print("cross-family:", f.get("id"))
	PY
fi
echo '```'
echo
echo "Commands:"
echo
echo '```'
echo "ip netns exec $scan ${EXE#"$root"/} ${SERVE[*]}"
echo "ip netns exec $vis python3 visitor.py $REPS $GAP $PORT $SRV4 $SRV6   # bench_families.sh"
echo "ip netns exec $scan ${EXE#"$root"/} check --json ${ALLOW[*]} $A4 | $A6 | srv.lab"
echo '```'
