#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack: a probed host that breaks the prober parsing its reply (issue 11 §2). `exposure
serve --probers 2` in a build with the test hooks (meson -Dtest_hooks=true, turned on by
EXPOSURE_TEST_HOOKS=1): a marker in a probed host's SSH banner makes the prober that parses it
try to escape (open /etc/passwd, a UNIX socket, execve /bin/sh, fork: seccomp kills it with
SIGSYS at the first call), crash (abort: SIGABRT) or grow past its memory cap (--prober-memory:
the front's resident-set watch kills it). Each time: the front logs the signal or the cause, the
checks that prober had in flight end as error / prober-lost (so the diagnosis says "not known",
never "nothing risky"), the service answers /healthz at once (median under 100 ms), a
diagnosis running on the other prober at the same time is untouched, /metrics counts the
restart, and the replacement serves the next diagnosis. Then kill -9 of a prober under a
bounded loop of 40 diagnoses: every accepted diagnosis is done (none lost, no 5xx), some with
prober-lost checks, every other one with its full verdicts. Last, `exposure check` (one
sandboxed prober) on the escaping host says "Risk: not known" and exits 2.
The marker hosts are emulated (a Listener sending a banner): no real server sends the markers.
Exit 77 when the binary has no test hooks (a release build). Usage: test_probers.py EXPOSURE"""
import os
import signal
import statistics
import subprocess
import threading
import time

from attack import (Listener, case, check, exposure, finish, first_port, lab_server, metrics,
                    stop_clean, timed)

EXE = exposure()
ESCAPE, CRASH, HOG, BYSTANDER = "127.0.96.1", "127.0.96.2", "127.0.96.3", "127.0.96.4"
BANNER = {ESCAPE: b"SSH-2.0-EXPOSURE-TEST-ESCAPE\r\n", CRASH: b"SSH-2.0-EXPOSURE-TEST-CRASH\r\n",
          HOG: b"SSH-2.0-EXPOSURE-TEST-HOG\r\n", BYSTANDER: b"SSH-2.0-OpenSSH_9.2p1\r\n"}
ARGS = ["--probers", "2", "--prober-memory", "128", "--max-inflight", "16", "--queue-max", "512",
        "--addr-rate", "0", "--prefix-rate", "0"]


def checks_of(doc):
    return {c["check"]: c for c in doc["result"]["checks"]}


def lost(doc):
    return [n for n, c in checks_of(doc).items() if c["reason"] == "prober-lost"]


def prober_pids(srv):
    out = subprocess.run(["pgrep", "-P", str(srv.proc.pid)], capture_output=True, text=True,
                         timeout=10).stdout.split()
    return [int(p) for p in out]


def log_text(srv):
    srv.log.flush()
    with open(srv.log.name) as f:
        return f.read()


def wait_probers_up(srv, restarts_before, what):
    """The replacement is up: two probers again and one more restart counted (3 s at most)."""
    end = time.monotonic() + 3
    m = metrics(srv)
    while time.monotonic() < end:
        m = metrics(srv)
        if (m["exposure_probers_up"] == 2 and
                m["exposure_prober_restarts_total"] > restarts_before):
            break
        time.sleep(0.05)
    check(m["exposure_probers_up"] == 2, "%s: 2 probers up again: %s" % (what, m))
    check(m["exposure_prober_restarts_total"] > restarts_before,
          "%s: /metrics counts the restart: %s" % (what, m["exposure_prober_restarts_total"]))
    return m


def health_fast(srv, what, n=5):
    """/healthz from a new visitor, n times: all 200, the median under 100 ms, none over 1 s."""
    times = []
    for _ in range(n):
        r, t = timed(srv.client("127.0.0.9").get, "/healthz")
        check(r.status == 200, "%s: /healthz %d" % (what, r.status))
        times.append(t)
    check(statistics.median(times) < 0.1 and max(times) < 1.0,
          "%s: /healthz times %s" % (what, ["%.3f" % t for t in times]))


def clean_next(srv, src, what):
    """A new visitor's diagnosis, served by whichever prober, has no check in error."""
    c = srv.client(src)
    r = c.post()
    check(r.status == 202, "%s: next POST %d" % (what, r.status))
    doc = c.wait_done(r.json["id"], 30).json
    bad = [n for n, k in checks_of(doc).items() if k["state"] == "error"]
    check(doc["status"] == "done" and not bad, "%s: the next diagnosis is clean: %s"
          % (what, bad))


def marker_case(srv, src, signal_line, what, bystander=False):
    before = metrics(srv)["exposure_prober_restarts_total"]
    other = None
    if bystander:
        # The bystander first: its silent telnet check keeps it on one prober for ~1.5 s, so
        # the marker's target goes to the other one (the least loaded).
        other = srv.client(BYSTANDER).post().json["id"]
        time.sleep(0.3)
    c = srv.client(src)
    r = c.post()
    check(r.status == 202, "%s: POST %d" % (what, r.status))
    time.sleep(0.2)
    health_fast(srv, what)
    doc = c.wait_done(r.json["id"], 30).json
    ssh = checks_of(doc)["ssh"]
    check(doc["status"] == "done", "%s: done, not lost: %s" % (what, doc["status"]))
    check(ssh["state"] == "error" and ssh["reason"] == "prober-lost",
          "%s: the ssh check is error / prober-lost: %s %s" % (what, ssh["state"], ssh["reason"]))
    check(doc["risk"] in ("none", "low") and not ssh["findings"],
          "%s: nothing claimed of the lost check (the page says not known): %s %s"
          % (what, doc["risk"], ssh["findings"]))
    check(signal_line in log_text(srv), "%s: the front logged '%s'" % (what, signal_line))
    if other:
        od = srv.client(BYSTANDER).wait_done(other, 30).json
        oc = checks_of(od)
        check(not lost(od) and oc["ssh"]["state"] == "open" and
              [f["id"] for f in oc["ssh"]["findings"]] == ["ssh-exposed"] and
              oc["telnet"]["state"] == "open",
              "%s: the diagnosis on the other prober is untouched: %s" % (what, lost(od)))
    m = wait_probers_up(srv, before, what)
    check(m["exposure_prober_lost_checks_total"] >= 1, "%s: lost checks counted" % what)
    return m


def t_escape(srv):
    marker_case(srv, ESCAPE, "killed by SIGSYS (31)", "escape", bystander=True)
    clean_next(srv, "127.0.96.11", "escape")


def t_crash(srv):
    marker_case(srv, CRASH, "killed by SIGABRT (6)", "crash", bystander=True)
    clean_next(srv, "127.0.96.12", "crash")


def t_hog(srv):
    m = marker_case(srv, HOG, "lost (over its memory cap)", "memory cap")
    check(m["exposure_prober_memory_kills_total"] >= 1, "memory cap: counted in /metrics")
    clean_next(srv, "127.0.96.13", "memory cap")


def t_kill9_load(srv):
    before = metrics(srv)["exposure_prober_restarts_total"]
    srcs = ["127.0.97.%d" % i for i in range(1, 41)]
    lock = threading.Lock()
    accepted, statuses, killed = [], [], []

    def kill_one():
        pids = prober_pids(srv)
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    def worker():
        while True:
            with lock:
                if not srcs:
                    return
                src = srcs.pop()
            r = srv.client(src).post()
            with lock:
                statuses.append(r.status)
                if r.status == 202:
                    accepted.append((src, r.json["id"]))
                if len(statuses) == 12:
                    kill_one()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    check(killed, "kill -9: a prober was killed")
    check(all(s == 202 for s in statuses), "kill -9: every POST 202: %s" % sorted(set(statuses)))
    n_lost, bad = 0, []
    for src, did in accepted:
        r = srv.client(src).wait_done(did, 60)
        check(r.status == 200, "kill -9: GET %d" % r.status)
        doc = r.json
        if doc["status"] != "done":
            bad.append((did, doc["status"]))
            continue
        if lost(doc):
            n_lost += 1
            continue
        cs = checks_of(doc)
        if cs["telnet"]["state"] != "open" or any(c["state"] == "error" for c in cs.values()):
            bad.append((did, [(n, c["state"], c["reason"]) for n, c in cs.items()]))
    print("kill -9: %d accepted, %d with prober-lost checks" % (len(accepted), n_lost),
          flush=True)
    check(len(accepted) == 40, "kill -9: all 40 accepted: %d" % len(accepted))
    check(n_lost >= 1, "kill -9: the killed prober's checks are prober-lost")
    check(not bad, "kill -9: every other diagnosis done with its verdicts: %s" % bad[:3])
    if killed:
        check("prober %d killed by SIGKILL (9)" % killed[0] in log_text(srv),
              "kill -9: the front logged SIGKILL")
    wait_probers_up(srv, before, "kill -9")


def t_check_cli(ssh_port):
    env = dict(os.environ, EXPOSURE_TEST_HOOKS="1")
    p = subprocess.run([EXE, "check", "--no-color", "--port", "ssh=%d" % ssh_port, ESCAPE],
                       capture_output=True, text=True, timeout=60, env=env)
    check(p.returncode == 2, "check: exit %d" % p.returncode)
    check("Risk: not known" in p.stdout and "prober-lost" in p.stdout,
          "check: 'Risk: not known' and prober-lost:\n%s" % p.stdout)
    check("killed by SIGSYS" in p.stderr, "check: SIGSYS seen by the front: %s" % p.stderr)


def main():
    try:
        srv, ports = lab_server(EXE, ARGS, env={"EXPOSURE_TEST_HOOKS": "1"})
    except RuntimeError as e:
        if "no test hooks" in str(e):
            print("SKIP: this build has no test hooks (meson -Dtest_hooks=true)", flush=True)
            raise SystemExit(77)
        raise
    ssh = first_port(ports["ssh"])
    hosts = [Listener([a], ssh, BANNER[a], hold=0.5) for a in BANNER]
    slow = Listener(["0.0.0.0"], first_port(ports["telnet"]), b"", hold=1.5)
    try:
        case("escape: SIGSYS", t_escape, srv)
        case("crash: SIGABRT", t_crash, srv)
        case("memory cap", t_hog, srv)
        case("kill -9 under load", t_kill9_load, srv)
        case("check through a prober", t_check_cli, ssh)
    finally:
        for h in hosts + [slow]:
            h.close()
        stop_clean(srv, "probers")
    finish()


if __name__ == "__main__":
    main()
