#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Several `exposure serve` nodes on one real PostgreSQL 15 (issue 14 §2, §4). Run as
tests/isolated.sh tests/lab/pg.sh run -- test_nodes.py PATH/TO/exposure: a private network
namespace with only loopback, a throw-away PostgreSQL in it (EXPOSURE_PG_URL). Requesters are
127.0.x.y sources, the probed services loopback listeners, so nothing leaves the namespace.

- a diagnosis accepted by node A: followed to the end through node B (SSE and GET), with A's
  page token (the CSRF key derives from the shared key file); deleted through B, then gone on A
- one at a time per requester across nodes (B answers 429 naming A's diagnosis)
- rate limits per node, arithmetic of docs/deploy.md: N nodes let N x burst through
- a node with another key file refused at start
- three nodes, kill -9 of one with diagnoses in flight: each is taken over by exactly one of the
  two others, run again and ends done, read the same on both; the sealed address cleared; one
  accepted by the third is followed to the end through the second
- PostgreSQL stopped under the nodes: 503 + Retry-After, then they reconnect by themselves
- a node cut off from the database by a firewall rule (nft, this namespace), then let back
- creates wait for their commit off the HTTP threads: one thread, the database stalled, the
  node still answers; the waiting creates share a commit and each gets its 202
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import faulthandler
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import Listener, Server, catalogue, lab_ports, port_args  # noqa: E402

EXPOSURE = sys.argv[1]
PG_SH = sys.argv[2]
SERVE = [EXPOSURE, "serve"]
PG = os.environ.get("EXPOSURE_PG_URL")
SLOW = ["127.0.5.%d" % i for i in range(1, 9)]
FAST = ["127.0.4.%d" % i for i in range(1, 9)]
LEASE_MS = "1500"
failures = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def node(env, workdir, extra=(), store=None):
    return Server(SERVE, port_args(env) + list(extra), workdir=workdir, db=store or PG,
                  env={"EXPOSURE_STORE_LEASE_MS": LEASE_MS})


def t_follow_across(env, workdir):
    a, b = node(env, workdir), node(env, workdir)
    try:
        ca, cb = a.client(SLOW[0]), b.client(SLOW[0])
        ca.whoami()
        cb.csrf = ca.csrf  # the page came from A, the POST goes to B
        cb.cookies = dict(ca.cookies)
        r = cb.post()
        check(r.status == 202, "B accepts A's page token: %d %s" % (r.status, r.raw))
        did, token = r.json["id"], r.json["delete_token"]
        g = a.client(FAST[0]).get("/api/diagnoses/" + did)
        check(g.status == 200 and g.json["status"] in ("queued", "running"),
              "A reads B's diagnosis in flight: %d %s" % (g.status, g.raw[:80]))
        ev = a.client(FAST[0]).events(did, timeout=30)
        names = [e for e, _ in ev]
        check(names[-1] == "done" and ev[-1][1]["status"] == "done",
              "A streams it to the end: %s" % ev)
        check("status" in names, "A streamed a status before done: %s" % names)
        # Live rows: the checks B finished while the slow one (SKYSEA's silent listener)
        # held the diagnosis open reach A's stream before "done", each once, as B sent them.
        idx = [d["index"] for e, d in ev if e == "check"]
        check(len(idx) >= 5 and len(set(idx)) == len(idx),
              "A streamed B's checks live, each once: %s" % names)
        check(all(d["check"]["check"] for e, d in ev if e == "check"),
              "each live event carries its check object: %s" % ev[:3])
        g = a.client(FAST[0]).get("/api/diagnoses/" + did)
        check(g.status == 200 and g.json["status"] == "done" and len(g.json["checks"]) >= 7,
              "A shows the result with its checks")
        # Deleted through A (the other node), then gone on B too.
        d = a.client(SLOW[0]).request("DELETE", "/api/diagnoses/" + did,
                                      headers={"X-Delete-Token": token})
        check(d.status == 204, "delete through the other node: %d" % d.status)
        check(b.client(FAST[0]).get("/api/diagnoses/" + did).status == 404, "gone on B")
        # One started on A, deleted through B while it runs: gone on A at once.
        r = ca.post()
        check(r.status == 202, "A accepts")
        d = b.client(SLOW[0]).request("DELETE", "/api/diagnoses/" + r.json["id"],
                                      headers={"X-Delete-Token": r.json["delete_token"]})
        check(d.status == 204, "B deletes A's running diagnosis: %d" % d.status)
        check(ca.get("/api/diagnoses/" + r.json["id"]).status == 404, "A says gone")
    finally:
        check(a.stop() == 0 and b.stop() == 0, "clean stops")


def t_one_at_a_time(env, workdir):
    a, b = node(env, workdir), node(env, workdir)
    try:
        ra = a.client(SLOW[1]).post()
        check(ra.status == 202, "A accepts")
        rb = b.client(SLOW[1]).post()
        check(rb.status == 429 and rb.json["reason"] == "one-at-a-time" and
              rb.json["active"] == ra.json["id"] and int(rb.headers["Retry-After"]) >= 1,
              "B refuses the same requester, naming A's: %d %s" % (rb.status, rb.raw))
        a.client(SLOW[1]).wait_done(ra.json["id"])
        rb = b.client(SLOW[1]).post()
        check(rb.status == 202, "after it finished, B accepts: %d" % rb.status)
        b.client(SLOW[1]).wait_done(rb.json["id"])
    finally:
        check(a.stop() == 0 and b.stop() == 0, "clean stops")


def t_rates(env, workdir):
    # Each node keeps its own buckets (docs/deploy.md): with burst 2 and two nodes a requester
    # gets 2 per node, 4 in all, then 429 from both.
    extra = ["--addr-rate", "1", "--addr-burst", "2"]
    a, b = node(env, workdir, extra), node(env, workdir, extra)
    try:
        ok = 0
        for i in range(6):
            c = (a if i % 2 == 0 else b).client(FAST[1])
            r = c.post()
            if r.status == 202:
                ok += 1
                c.wait_done(r.json["id"])
            else:
                check(r.status == 429 and r.json["reason"] == "rate", "rate 429: %d" % r.status)
        check(ok == 4, "2 nodes x burst 2 = 4 accepted, not %d" % ok)
    finally:
        check(a.stop() == 0 and b.stop() == 0, "clean stops")


def t_foreign_key(env, workdir):
    other = tempfile.mkdtemp(prefix="exposure-node-")
    try:
        try:
            s = node(env, other)
            s.stop()
            check(False, "a node with another key file started")
        except RuntimeError as e:
            check("key file differs" in str(e), "refused for its key: %s" % e)
    finally:
        shutil.rmtree(other, ignore_errors=True)


def ended_everywhere(srv, ids, timeout):
    """Every id ends done or interrupted on srv within timeout; returns {id: status}."""
    end = time.monotonic() + timeout
    seen = {}
    while time.monotonic() < end:
        c = srv.client(FAST[7])
        seen = {i: c.get("/api/diagnoses/" + i) for i in ids}
        if all(r.status == 200 and r.json["status"] in ("done", "interrupted")
               for r in seen.values()):
            return {i: r.json["status"] for i, r in seen.items()}
        time.sleep(0.2)
    raise AssertionError("not ended: %s" % {i: (r.status, r.raw[:60]) for i, r in seen.items()})


def taken_over(srv):
    r = srv.client(FAST[7]).get("/metrics")
    for line in r.raw.splitlines():
        if line.startswith("exposure_diagnoses_taken_over_total "):
            return int(line.split()[1])
    raise AssertionError("no takeover counter in /metrics")


def t_kill9(env, workdir):
    # Three nodes: A dies with four diagnoses in flight; B and C both run lease rounds, and
    # SKIP LOCKED gives each diagnosis to exactly one of them, which runs it again from the
    # sealed record A stored (the requester's address): it ends done, read the same on both.
    a, b, c = node(env, workdir), node(env, workdir), node(env, workdir)
    try:
        ids = []
        for src in SLOW[2:6]:
            r = a.client(src).post()
            check(r.status == 202, "A accepts %s" % src)
            ids.append((r.json["id"], r.json["delete_token"]))
        time.sleep(0.3)
        a.stop(signal.SIGKILL)  # a real kill -9 with diagnoses in flight
        st = ended_everywhere(b, [i for i, _ in ids], 60)
        check(all(v == "done" for v in st.values()), "A's taken over and done: %s" % st)
        check(ended_everywhere(c, [i for i, _ in ids], 5) == st, "C reads the same as B")
        check(taken_over(b) + taken_over(c) == 4, "each taken over once, by one node: %d + %d"
              % (taken_over(b), taken_over(c)))
        g = c.client(FAST[6]).get("/api/diagnoses/" + ids[0][0])
        check(g.status == 200 and len(g.json["checks"]) >= 7 and g.json["status"] == "done",
              "the result has its checks: %s" % g.raw[:200])
        out = subprocess.run(["psql", "-tAX", "-c", "SELECT count(*) FROM diagnoses WHERE"
                              " resume IS NOT NULL AND status IN ('done', 'interrupted')"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
        check(out == "0", "no ended diagnosis keeps its sealed address: %s" % out)
        # The visitor's delete token still works, through either survivor.
        d = b.client(SLOW[2]).request("DELETE", "/api/diagnoses/" + ids[1][0],
                                      headers={"X-Delete-Token": ids[1][1]})
        check(d.status == 204, "delete of a taken-over diagnosis: %d" % d.status)
        # The requesters may start again, on B and on C; one accepted by C is followed on B.
        r = b.client(SLOW[2]).post()
        check(r.status == 202, "B accepts the requester again: %d %s" % (r.status, r.raw))
        r3 = c.client(SLOW[3]).post()
        check(r3.status == 202, "C accepts another: %d %s" % (r3.status, r3.raw))
        b.client(SLOW[2]).wait_done(r.json["id"])
        ev = b.client(FAST[6]).events(r3.json["id"], timeout=30)
        check(ev and ev[-1][0] == "done" and ev[-1][1]["status"] == "done",
              "B streams C's diagnosis to the end: %s" % ev[-1:])
    finally:
        a.stop()
        check(b.stop() == 0 and c.stop() == 0, "clean stops")


def t_db_restart(env, workdir):
    a, b = node(env, workdir), node(env, workdir)
    try:
        ids = []
        for i, src in enumerate(SLOW[:4]):
            r = (a if i % 2 else b).client(src).post()
            check(r.status == 202, "accepted before the stop")
            ids.append(r.json["id"])
        subprocess.run([PG_SH, "stop", "fast"], check=True, timeout=60)
        seen503 = 0
        for srv in (a, b):
            r = srv.client(FAST[2]).post()
            if r.status == 503 and int(r.headers["Retry-After"]) >= 1:
                seen503 += 1
        check(seen503 == 2, "503 with Retry-After from both nodes while the database is down")
        time.sleep(1)
        subprocess.run([PG_SH, "start"], check=True, timeout=60)
        # They reconnect by themselves: a new diagnosis on each node is accepted again.
        end, got = time.monotonic() + 20, set()
        while time.monotonic() < end and len(got) < 2:
            for n, srv in enumerate((a, b)):
                if n in got:
                    continue
                r = srv.client(FAST[3 + n]).post()
                if r.status == 202:
                    got.add(n)
                    ids.append(r.json["id"])
            time.sleep(0.3)
        check(len(got) == 2, "both nodes accept again after the restart")
        # In the database every accepted diagnosis ends done, or interrupted when its result
        # could not be written while the database was down (the node that ran it says
        # "failed", docs/api.md): none stays running, none is missing.
        end, st = time.monotonic() + 30, {}
        while time.monotonic() < end:
            st = dict(line.split("|") for line in subprocess.run(
                ["psql", "-tAX", "-c", "SELECT id, status FROM diagnoses WHERE id IN (%s)" %
                 ",".join("'%s'" % i for i in ids)], capture_output=True, text=True,
                timeout=30).stdout.split())
            if len(st) == len(ids) and all(v in ("done", "interrupted") for v in st.values()):
                break
            time.sleep(0.3)
        check(len(st) == len(ids) and all(v in ("done", "interrupted") for v in st.values()),
              "each ended done or interrupted, none missing: %s" % st)
        check(list(st.values()).count("done") >= 2, "the ones after the restart done: %s" % st)
    finally:
        check(a.stop() == 0 and b.stop() == 0, "clean stops")


def t_cut_off(env, workdir):
    # Node A reaches the database over TCP, node B over its Unix socket: an nft rule in this
    # namespace that drops A's packets to the database's port is a firewall between A alone and
    # the database. A's connection options make it notice within seconds.
    port = os.environ["PGPORT"]
    url = PG + ("&" if "?" in PG else "?") + "tcp_user_timeout=2000&keepalives_idle=1&" \
        "keepalives_interval=1&keepalives_count=2&connect_timeout=2"
    sock = "postgresql:host=%s/sock port=%s user=exposure dbname=exposure" % (
        os.environ["EXPOSURE_PG_DIR"], port)
    a, b = node(env, workdir, store=url), node(env, workdir, store=sock)
    rules = ("table inet cut {\n chain out {\n  type filter hook output priority 0;\n"
             "  tcp dport %s drop\n }\n}\n" % port)
    try:
        r = a.client(FAST[5]).post()
        check(r.status == 202, "A accepts before the cut")
        a.client(FAST[5]).wait_done(r.json["id"])
        subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True, timeout=10)
        end, r = time.monotonic() + 20, None
        while time.monotonic() < end:
            r = a.client(FAST[6]).post()
            if r.status == 503:
                break
        check(r.status == 503 and int(r.headers["Retry-After"]) >= 1,
              "A answers 503 with Retry-After while cut off: %d" % r.status)
        r = b.client(FAST[6]).post()
        check(r.status == 202, "B goes on meanwhile: %d %s" % (r.status, r.raw))
        b.client(FAST[6]).wait_done(r.json["id"])
        subprocess.run(["nft", "delete", "table", "inet", "cut"], check=True, timeout=10)
        end, ok = time.monotonic() + 30, False
        while time.monotonic() < end and not ok:
            r = a.client(FAST[7]).post()
            ok = r.status == 202
            if not ok:
                time.sleep(0.3)
        check(ok, "A accepts again once let back: %d" % r.status)
        a.client(FAST[7]).wait_done(r.json["id"])
    finally:
        subprocess.run(["nft", "delete", "table", "inet", "cut"], capture_output=True)
        check(a.stop() == 0 and b.stop() == 0, "clean stops")


def psql(sql):
    return subprocess.run(["psql", "-qtAX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def commits(srv):
    for line in srv.client(FAST[7]).get("/metrics").raw.splitlines():
        if line.startswith("exposure_store_commits_total "):
            return int(line.split()[1])
    raise AssertionError("no commit counter in /metrics")


def t_stalled_commit(env, workdir):
    # A node with ONE HTTP thread while the database cannot commit its creates (a session
    # holds a SHARE lock on diagnoses: every INSERT waits). The POSTs wait with their
    # connections suspended, not on the thread: the node still answers, and once the lock goes
    # the waiting creates are committed together and each gets its 202. Before, the thread sat
    # in the commit and the node answered nothing until the lock went.
    a = node(env, workdir, ["--threads", "1"])
    held = None
    try:
        clients = [a.client(src) for src in FAST[:7]]
        for c in clients:
            c.whoami()
        before = commits(a)
        psql("CREATE TABLE test_create_xids (id text, xid bigint);"
             "CREATE FUNCTION test_create_xid() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
             " INSERT INTO test_create_xids VALUES (NEW.id, txid_current()); RETURN NEW; END $$;"
             "CREATE TRIGGER test_create_xid AFTER INSERT ON diagnoses FOR EACH ROW"
             " EXECUTE FUNCTION test_create_xid()")
        held = subprocess.Popen(["psql", "-qtAX", "-c", "BEGIN", "-c",
                                 "LOCK TABLE diagnoses IN SHARE MODE", "-c",
                                 "SELECT pg_sleep(3)", "-c", "COMMIT"],
                                stdout=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while time.monotonic() < end and subprocess.run(
                ["psql", "-tAX", "-c", "SELECT count(*) FROM pg_locks l JOIN pg_class c ON"
                 " c.oid = l.relation WHERE c.relname = 'diagnoses' AND l.mode = 'ShareLock'"
                 " AND l.granted"], capture_output=True, text=True,
                timeout=30).stdout.strip() != "1":
            time.sleep(0.05)
        results = [None] * len(clients)

        def post(i):
            results[i] = clients[i].post()
        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        h = a.client(FAST[7]).get("/healthz")
        took = time.monotonic() - t0
        check(h.status == 200 and took < 1.0 and held.poll() is None,
              "the node answers while its creates wait for the database: %d in %.2f s"
              % (h.status, took))
        check(all(r is None for r in results), "no 202 before the commit: %s" % results)
        for t in threads:
            t.join(30)
        check(held.wait(30) == 0, "the lock session ended")
        check(all(r is not None and r.status == 202 for r in results),
              "each waiting create answered 202 after the commit: %s"
              % [r and r.status for r in results])
        ids = [r.json["id"] for r in results]
        out = subprocess.run(["psql", "-tAX", "-c", "SELECT count(*) FROM diagnoses WHERE id IN"
                              " (%s)" % ",".join("'%s'" % i for i in ids)],
                             capture_output=True, text=True, timeout=30).stdout.strip()
        check(out == str(len(ids)), "every 202 has its row: %s" % out)
        # Which transaction inserted each row (the test's trigger): the first create alone
        # (its INSERT waited on the lock), the six queued behind it in one more. Committed
        # one by one they would be seven.
        xids = psql("SELECT count(DISTINCT xid) FROM test_create_xids WHERE id IN (%s)"
                    % ",".join("'%s'" % i for i in ids))
        check(xids in ("1", "2"), "the waiting creates shared a commit: %s transactions for %d"
              % (xids, len(ids)))
        check(commits(a) > before, "the commit counter moved")
        for c, i in zip(clients, ids):
            c.wait_done(i)
    finally:
        if held is not None and held.poll() is None:
            held.kill()
            held.wait()
        psql("DROP TRIGGER IF EXISTS test_create_xid ON diagnoses;"
             "DROP FUNCTION IF EXISTS test_create_xid(); DROP TABLE IF EXISTS test_create_xids")
        check(a.stop() == 0, "clean stop")


def main():
    faulthandler.dump_traceback_later(int(os.environ.get("NODES_HANG_S", "200")), exit=True)  # a hang shows where, inside the timeout
    if not PG:
        print("SKIP: run through tests/lab/pg.sh (no EXPOSURE_PG_URL)")
        return 77
    env = lab_ports(catalogue(EXPOSURE), SLOW + FAST)
    sky = int(env["skysea"].split("-")[0])
    listeners = [Listener(SLOW + FAST, int(env["ssh"]), b"SSH-2.0-OpenSSH_9.2p1\r\n", hold=0.3),
                 Listener(SLOW, sky, b"", hold=30)]
    workdir = tempfile.mkdtemp(prefix="exposure-nodes-")
    cases = [("follow", t_follow_across), ("one-at-a-time", t_one_at_a_time),
             ("rates", t_rates), ("foreign-key", t_foreign_key), ("kill9", t_kill9),
             ("db-restart", t_db_restart), ("cut-off", t_cut_off),
             ("stalled-commit", t_stalled_commit)]
    only = os.environ.get("NODES_ONLY")  # one case by name, by hand
    try:
        for name, fn in cases:
            if only and name != only:
                continue
            t0 = time.monotonic()
            try:
                fn(env, workdir)
                print("ok    %s (%.1f s)" % (name, time.monotonic() - t0), flush=True)
            except Exception as e:  # noqa: BLE001
                failures.append(name)
                print("FAIL  %s: %s" % (name, e), flush=True)
                traceback.print_exc()
    finally:
        for lst in listeners:
            lst.close()
        for f in sorted(os.listdir(workdir)):
            if f.endswith(".log") and failures:
                print("--- %s\n%s" % (f, open(os.path.join(workdir, f)).read()[-3000:]))
        shutil.rmtree(workdir, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
