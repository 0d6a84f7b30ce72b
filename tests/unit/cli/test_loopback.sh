#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `exposure check` end to end on loopback: a listener (open) and unused ports (closed), JSON
# parsed back and checked field by field, exit codes 1 (something risky) and 0 (all closed).
# Every check's port is overridden onto high ports, so nothing touches this machine's real
# services; the checks and their ports come from the catalogue (`exposure check --list --json`).
# Skips (77) until the engine is built in.
set -u
exe=${1:?usage: $0 path/to/exposure}
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
failed=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failed=$((failed + 1)); }

# The catalogue's checks: "name width" per line, width the number of ports of its default range.
"$exe" check --list --json >"$tmp/list.json" || { echo "exposure check --list --json failed"; exit 1; }
mapfile -t catalogue < <(python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["checks"]:
    print(c["check"], c["last_port"] - c["first_port"] + 1)' "$tmp/list.json")
[ "${#catalogue[@]}" -gt 0 ] || { echo "no checks in exposure check --list --json"; exit 1; }
span=2 # the open listener's port and the hostile banner's, then every check's ports
for c in "${catalogue[@]}"; do span=$((span + ${c#* })); done

# Ports 10000-32767 (below the ephemeral range, so no self-connect), none listening now.
listening() { ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://' ; }
pick_base() {
	local used base p clash
	used=$(listening)
	for _ in $(seq 1 50); do
		base=$((10000 + RANDOM % (22768 - span)))
		clash=0
		for p in $(seq "$base" $((base + span - 1))); do
			if grep -qx "$p" <<<"$used"; then clash=1; break; fi
		done
		[ "$clash" -eq 0 ] && { echo "$base"; return; }
	done
	echo "no free port range" >&2
	exit 1
}
base=$(pick_base)
open_port=$base
hostile_port=$((base + 1))
# Every check on its own unused ports from base + 2 on, as many as its default range holds.
ports=()
next=$((base + 2))
for c in "${catalogue[@]}"; do
	name=${c% *} width=${c#* }
	if [ "$width" = 1 ]; then ports+=(--port "$name=$next"); else ports+=(--port "$name=$next-$((next + width - 1))"); fi
	next=$((next + width))
done

# A listener on 127.0.0.1 and ::1 that accepts and closes each connection at once (so a
# protocol check behind the port ends quickly: "open, closed by the peer"); it exits by itself
# after 60 s whatever happens.
cat >"$tmp/listen.py" <<'PY'
import socket, sys, threading, time
port = int(sys.argv[1])
socks = []
for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    try:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(64)
        socks.append(s)
    except OSError:
        pass
def serve(s):
    while True:
        c, _ = s.accept()
        c.close()
for s in socks:
    threading.Thread(target=serve, args=(s,), daemon=True).start()
print("ready", len(socks), flush=True)
time.sleep(60)
PY
python3 "$tmp/listen.py" "$open_port" >"$tmp/listen.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do grep -q ready "$tmp/listen.out" && break; sleep 0.1; done
grep -q ready "$tmp/listen.out" || { echo "listener did not start"; exit 1; }
have_v6=0
grep -q "ready 2" "$tmp/listen.out" && have_v6=1

run() { # run NAME args... -> $tmp/NAME.out/.err/.rc, duration in $tmp/NAME.ms
	local name=$1 start end
	shift
	start=$(date +%s%N)
	timeout 30 "$exe" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
	end=$(date +%s%N)
	echo $(((end - start) / 1000000)) >"$tmp/$name.ms"
}

run probe check --json "${ports[@]}" --port ssh=$open_port 127.0.0.1
if grep -q "cannot start the probe engine" "$tmp/probe.err"; then
	echo "# SKIP: the engine is not built in yet"
	exit 77
fi

# 1. ssh open (medium: risky), everything else closed: exit 1.
run open check --json "${ports[@]}" --port ssh=$open_port 127.0.0.1
python3 - "$tmp/open.out" "$open_port" "$base" "$tmp/list.json" <<'PY' && ok "JSON open/closed verdicts" || bad "JSON open/closed verdicts"
import json, re, sys
doc = json.load(open(sys.argv[1]))
open_port, base = int(sys.argv[2]), int(sys.argv[3])
catalogue = json.load(open(sys.argv[4]))["checks"]
assert isinstance(doc, dict), "one target: one object"
assert set(doc) == {"target", "address", "started", "elapsed_ms", "risk", "checks"}, sorted(doc)
assert doc["target"] == "127.0.0.1" and doc["address"] == "127.0.0.1"
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc["started"]), doc["started"]
assert doc["risk"] == "medium", doc["risk"]
assert isinstance(doc["elapsed_ms"], (int, float)) and doc["elapsed_ms"] < 2000
names = [c["check"] for c in doc["checks"]]
assert names == [c["check"] for c in catalogue], names
assert {"ssh", "telnet", "netbios", "smb", "rdp", "vnc", "skysea"} <= set(names), names
# The ports the shell gave each check: in catalogue order from base + 2, its range's width each.
expect_port, expect_range, nxt = {}, {}, base + 2
for c in catalogue:
    width = c["last_port"] - c["first_port"] + 1
    expect_port[c["check"]] = nxt
    expect_range[c["check"]] = list(range(nxt, nxt + width))
    nxt += width
expect_port["ssh"] = open_port
for c in doc["checks"]:
    assert c["port"] == expect_port[c["check"]], (c["check"], c["port"])
    assert isinstance(c["rtt_ms"], (int, float)) and c["rtt_ms"] >= 0, c
    assert "icmp" not in c, c
    if c["check"] == "ssh":
        assert c["state"] == "open" and c["reason"] == "syn-ack", c
        assert c["findings"] == [{"id": "ssh-exposed", "severity": "medium",
                                  "confidence": "likely"}] or \
            (len(c["findings"]) >= 1 and c["findings"][0]["id"] == "ssh-exposed"), c["findings"]
    else:
        assert c["state"] == "closed" and c["reason"] == "reset", c
        assert c["findings"] == [], c
        assert c["service"] is None
for c in doc["checks"]:
    if len(expect_range[c["check"]]) > 1:  # a range: every port in details.ports
        got = c["details"]["ports"]
        assert [p["port"] for p in got] == expect_range[c["check"]], (c["check"], got)
        assert all(p["state"] == "closed" for p in got), got
sky = next(c for c in doc["checks"] if c["check"] == "skysea")["details"]["ports"]
assert len(sky) == 16 and all(p["state"] == "closed" for p in sky), sky
PY
[ "$(cat "$tmp/open.rc")" = 1 ] && ok "exit 1 when something risky is open" ||
	bad "exit $(cat "$tmp/open.rc"), want 1; stderr: $(cat "$tmp/open.err")"
[ -s "$tmp/open.err" ] && bad "stderr not empty: $(cat "$tmp/open.err")"
[ "$(cat "$tmp/open.ms")" -lt 2000 ] && ok "finished in $(cat "$tmp/open.ms") ms" ||
	bad "took $(cat "$tmp/open.ms") ms on loopback"

# 1b. --ports-only: the same verdicts, and no protocol check ran (no service, no details).
run portsonly check --json --ports-only "${ports[@]}" --port ssh=$open_port 127.0.0.1
python3 - "$tmp/portsonly.out" <<'PY' && ok "--ports-only runs no protocol check" || bad "--ports-only"
import json, sys
doc = json.load(open(sys.argv[1]))
ssh = next(c for c in doc["checks"] if c["check"] == "ssh")
assert ssh["state"] == "open" and ssh["service"] is None, ssh
assert ssh.get("details") in (None, {}), ssh
assert [f["id"] for f in ssh["findings"]] == ["ssh-exposed"], ssh["findings"]
assert ssh["findings"][0]["confidence"] == "likely", ssh["findings"]
PY
[ "$(cat "$tmp/portsonly.rc")" = 1 ] && ok "--ports-only exit 1" || bad "--ports-only exit $(cat "$tmp/portsonly.rc")"

# 1c. An open VNC port that closes without a greeting: its question (vnc-no-auth) is not
# answered, so it is there with confidence unknown and a reason, in JSON and in words; with
# --ports-only nothing is asked (issue 15 §2).
run vncq check --json "${ports[@]}" --port vnc=$open_port 127.0.0.1
run vncq_po check --json --ports-only "${ports[@]}" --port vnc=$open_port 127.0.0.1
run vncq_text check "${ports[@]}" --port vnc=$open_port 127.0.0.1
python3 - "$tmp/vncq.out" "$tmp/vncq_po.out" <<'PY' && ok "open VNC without a greeting: vnc-no-auth unknown" || bad "vnc-no-auth unknown"
import json, sys
vnc = next(c for c in json.load(open(sys.argv[1]))["checks"] if c["check"] == "vnc")
assert vnc["state"] == "open" and vnc["service"] is None, vnc
f = [x for x in vnc["findings"] if x["id"] == "vnc-no-auth"]
assert f == [{"id": "vnc-no-auth", "severity": "critical", "confidence": "unknown",
              "reason": "could not check: the service closed the connection without a byte "
                        "(closed by the server)"}], vnc["findings"]
po = next(c for c in json.load(open(sys.argv[2]))["checks"] if c["check"] == "vnc")
assert [x["id"] for x in po["findings"]] == ["vnc-exposed"], po["findings"]
PY
if grep -q "? not known vnc-no-auth (unknown)" "$tmp/vncq_text.out" &&
	grep -q "because: could not check: the service closed the connection" "$tmp/vncq_text.out" &&
	grep -q "1 question could not be answered" "$tmp/vncq_text.out"; then
	ok "text: vnc-no-auth not known, in words"
else
	bad "text: vnc-no-auth not known"
	sed 's/^/#   /' "$tmp/vncq_text.out"
fi

# 2. Everything closed: risk none, exit 0.
run closed check --json "${ports[@]}" 127.0.0.1
python3 - "$tmp/closed.out" <<'PY' && ok "all closed: risk none" || bad "all closed: risk none"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["risk"] == "none"
assert all(c["state"] == "closed" and c["findings"] == [] for c in doc["checks"])
PY
[ "$(cat "$tmp/closed.rc")" = 0 ] && ok "exit 0 when nothing is reachable" ||
	bad "exit $(cat "$tmp/closed.rc"), want 0; stderr: $(cat "$tmp/closed.err")"

# 3. Text on a pipe: rows, a summary, no colour or escape sequences, nothing on stderr.
run text check "${ports[@]}" --port ssh=$open_port 127.0.0.1
if [ "$(cat "$tmp/text.rc")" = 1 ] && grep -qE '^  ssh +[0-9]+  open +syn-ack' "$tmp/text.out" &&
	grep -q "Risk: MEDIUM" "$tmp/text.out" && grep -q "ssh-exposed" "$tmp/text.out" &&
	grep -qE '^  smb +[0-9]+  closed +reset' "$tmp/text.out" &&
	! grep -q $'\x1b' "$tmp/text.out" && [ ! -s "$tmp/text.err" ]; then
	ok "text output"
else
	bad "text output (rc $(cat "$tmp/text.rc"))"
	sed 's/^/#   /' "$tmp/text.out" "$tmp/text.err"
fi

# 4. Several targets (and a name): a JSON array, one document per address.
targets=(127.0.0.1 localhost)
[ "$have_v6" = 1 ] && targets+=("[::1]")
run multi check --json "${ports[@]}" --port ssh=$open_port "${targets[@]}"
python3 - "$tmp/multi.out" "${#targets[@]}" <<'PY' && ok "JSON array for ${#targets[@]} targets" || bad "JSON array"
import json, sys
docs = json.load(open(sys.argv[1]))
assert isinstance(docs, list) and len(docs) >= int(sys.argv[2]), docs
assert docs[0]["target"] == "127.0.0.1"
assert docs[1]["target"] == "localhost"
for d in docs:
    assert d["risk"] == "medium", d
    assert next(c for c in d["checks"] if c["check"] == "ssh")["state"] == "open"
if int(sys.argv[2]) == 3:
    assert docs[-1]["address"] == "::1" and docs[-1]["target"] == "[::1]"
PY
[ "$(cat "$tmp/multi.rc")" = 1 ] || bad "multi: exit $(cat "$tmp/multi.rc"), want 1"

# 5. A fixed timeout is accepted and changes nothing on loopback.
run fixed check --json --timeout 200 "${ports[@]}" 127.0.0.1
[ "$(cat "$tmp/fixed.rc")" = 0 ] && ok "--timeout 200" || bad "--timeout 200: exit $(cat "$tmp/fixed.rc")"

# 6. A hostile banner (escape sequences, C1 CSI, a bidi override, markup, invalid UTF-8) on
#    the ssh port: whatever the layers do, no control sequence of the peer reaches the
#    terminal, on a pipe or on a pseudo-terminal (where our own colours are allowed).
cat >"$tmp/hostile.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
s.settimeout(30)
end = time.time() + 30
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    c.sendall(b"SSH-2.0-Evil\x1b]0;pwned\x07\x1b[2J\xc2\x9b31m\xe2\x80\xae<script>x</script>\xff\r\n")
    time.sleep(0.1)
    c.close()
PY
python3 "$tmp/hostile.py" "$hostile_port" &
pids+=($!)
for _ in $(seq 1 50); do ss -Htln | grep -q ":$hostile_port " && break; sleep 0.1; done
run hostile check "${ports[@]}" --port ssh=$hostile_port 127.0.0.1
if [ "$(cat "$tmp/hostile.rc")" = 1 ] && grep -q "ssh-exposed" "$tmp/hostile.out" &&
	! LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f\x80-\x9f\xff]' "$tmp/hostile.out" &&
	! grep -qP '\x{202e}' "$tmp/hostile.out"; then
	ok "hostile banner neutralised on a pipe"
else
	bad "hostile banner on a pipe (rc $(cat "$tmp/hostile.rc"))"
	cat -v "$tmp/hostile.out" | sed 's/^/#   /'
fi
if command -v script >/dev/null; then
	script -qec "$(printf '%q ' "$exe" check "${ports[@]}" --port ssh=$hostile_port 127.0.0.1)" \
		/dev/null >"$tmp/pty.out" 2>&1 </dev/null
	# Our colours are SGR sequences (ESC [ digits m); nothing else may appear.
	if grep -q "ssh-exposed" "$tmp/pty.out" &&
		! LC_ALL=C grep -qP '\x1b(?!\[[0-9;]*m)|\x07|\xc2\x9b|\xe2\x80\xae' "$tmp/pty.out"; then
		ok "hostile banner neutralised on a terminal"
	else
		bad "hostile banner on a terminal"
		cat -v "$tmp/pty.out" | sed 's/^/#   /'
	fi
fi

# 7. A range over several probers (--probers N): the same documents in the same order as with
#    one (times aside), and as many prober children as asked; the default is one per online
#    CPU for a range (at most one per address) and one for a single address.
cat >"$tmp/probers.py" <<'PY'
import json, os, re, subprocess, sys, time
exe, out, args = sys.argv[1], sys.argv[2], sys.argv[3:]
# The probers are children of `exposure check` from its start to its last diagnosis.
p = subprocess.Popen([exe] + args, stdout=open(out, "wb"), stderr=subprocess.PIPE)
most, end = 0, time.monotonic() + 30
while p.poll() is None and time.monotonic() < end:
    try:
        with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
            most = max(most, len(f.read().split()))
    except OSError:
        pass
    time.sleep(0.002)
err = p.communicate(timeout=30)[1]
print(most, p.returncode, err.decode(errors="replace").strip())
PY
times_out() { # the document without what differs from run to run: times
	python3 -c '
import json, sys
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("started", "elapsed_ms", "rtt_ms")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
print(json.dumps(strip(json.load(open(sys.argv[1]))), indent=1))' "$1"
}
range=(127.0.0.0/27 127.0.1.7)
p1=$(python3 "$tmp/probers.py" "$exe" "$tmp/r1.json" check --json --probers 1 "${ports[@]}" \
	--port ssh=$open_port "${range[@]}")
p3=$(python3 "$tmp/probers.py" "$exe" "$tmp/r3.json" check --json --probers 3 "${ports[@]}" \
	--port ssh=$open_port "${range[@]}")
if [ "$p1" = "1 1 " ] && [ "$p3" = "3 1 " ] && times_out "$tmp/r1.json" >"$tmp/r1.cmp" &&
	times_out "$tmp/r3.json" >"$tmp/r3.cmp" && cmp -s "$tmp/r1.cmp" "$tmp/r3.cmp" &&
	[ "$(grep -c '"address"' "$tmp/r3.cmp")" = 33 ] && grep -q '"risk": "medium"' "$tmp/r3.cmp"; then
	ok "--probers 3: 3 probers, the same 33 documents in the same order as --probers 1"
else
	bad "--probers 3 vs 1: probers/exit/stderr '$p1' and '$p3'"
	diff "$tmp/r1.cmp" "$tmp/r3.cmp" | head -20 | sed 's/^/#   /'
fi
p1=$(python3 "$tmp/probers.py" "$exe" "$tmp/t1.txt" check --no-color --probers 1 "${ports[@]}" \
	--port ssh=$open_port "${range[@]}")
p2=$(python3 "$tmp/probers.py" "$exe" "$tmp/t2.txt" check --no-color --probers 2 "${ports[@]}" \
	--port ssh=$open_port "${range[@]}")
sed -E 's/ +[0-9.]+ ms/ - ms/g' "$tmp/t1.txt" >"$tmp/t1.cmp"
sed -E 's/ +[0-9.]+ ms/ - ms/g' "$tmp/t2.txt" >"$tmp/t2.cmp"
if [ "$p1" = "1 1 " ] && [ "$p2" = "2 1 " ] && cmp -s "$tmp/t1.cmp" "$tmp/t2.cmp" &&
	[ "$(grep -c '^127\.0\.' "$tmp/t2.cmp")" = 33 ]; then
	ok "--probers 2: the same text as --probers 1"
else
	bad "--probers 2 vs 1 (text): '$p1' and '$p2'"
	diff "$tmp/t1.cmp" "$tmp/t2.cmp" | head -20 | sed 's/^/#   /'
fi
cpus=$(getconf _NPROCESSORS_ONLN)
[ "$cpus" -gt 33 ] && cpus=33
[ "$cpus" -gt 64 ] && cpus=64
pd=$(python3 "$tmp/probers.py" "$exe" "$tmp/d.json" check --json "${ports[@]}" "${range[@]}")
p1=$(python3 "$tmp/probers.py" "$exe" "$tmp/d1.json" check --json "${ports[@]}" 127.0.0.1)
[ "$pd" = "$cpus 0 " ] && [ "$p1" = "1 0 " ] &&
	ok "default: $cpus probers for 33 addresses, 1 for one address" ||
	bad "default probers: '$pd' for 33 addresses (want $cpus), '$p1' for one (want 1)"
run probers_bad check --probers 2 --no-sandbox 127.0.0.1
[ "$(cat "$tmp/probers_bad.rc")" = 2 ] && grep -q "no-sandbox" "$tmp/probers_bad.err" &&
	ok "--probers with --no-sandbox refused" || bad "--probers with --no-sandbox: $(cat "$tmp/probers_bad.err")"

# Few descriptors: from the lowest limit that lets the tool start upwards, a port is "error" only
# while not even one socket fits; above that every port gets its verdict (the engine waits for a
# socket to close). A run with error rows must exit 2 and never print the green "nothing risky".
saw_error=0
saw_full=0
for n in $(seq 6 24); do
	# LeakSanitizer needs descriptors of its own at exit (/proc): leaks are checked elsewhere.
	(ulimit -n "$n"; ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		timeout 30 "$exe" check --ports-only --no-color "${ports[@]}" 127.0.0.1) \
		>"$tmp/fd.out" 2>"$tmp/fd.err"
	rc=$?
	grep -q "too many open files" "$tmp/fd.err" && [ "$rc" = 2 ] && continue
	if grep -qE "[0-9]+ error\]| error +local-error" "$tmp/fd.out"; then
		saw_error=1
		[ "$rc" = 2 ] || bad "ulimit -n $n: error rows but exit $rc"
		grep -q "nothing risky is reachable" "$tmp/fd.out" &&
			bad "ulimit -n $n: error rows under a 'nothing risky' summary"
		grep -q "Risk: not known" "$tmp/fd.out" || bad "ulimit -n $n: no 'Risk: not known'"
	else
		saw_full=1
		[ "$rc" = 0 ] || bad "ulimit -n $n: exit $rc without error rows: $(head -c 300 "$tmp/fd.err")"
		[ "$(grep -c "closed    reset" "$tmp/fd.out")" -ge "${#catalogue[@]}" ] ||
			bad "ulimit -n $n: not every check closed/reset: $(cat "$tmp/fd.out")"
	fi
done
[ $saw_error = 1 ] && ok "few descriptors: error rows say 'Risk: not known', exit 2" ||
	bad "few descriptors: no limit between 6 and 24 produced error rows"
[ $saw_full = 1 ] && ok "few descriptors: above that, every port gets its verdict" ||
	bad "few descriptors: no limit between 6 and 24 gave full verdicts"

echo "# $failed failed"
[ "$failed" -eq 0 ]
