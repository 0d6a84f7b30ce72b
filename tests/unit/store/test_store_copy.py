#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`exposure store copy` SQLite -> PostgreSQL -> SQLite, and `exposure report` byte for byte the
same on all three (issue 14 §1). Run by tests/lab/pg.sh, which started a real PostgreSQL 15 for
it (EXPOSURE_PG_URL). argv: exposure, report-gen-store."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

EXPOSURE, GEN = sys.argv[1], sys.argv[2]
PG = os.environ.get("EXPOSURE_PG_URL")
failures = 0


def check(cond, what):
    global failures
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        failures += 1


def run(*args):
    return subprocess.run([EXPOSURE, *args], capture_output=True, timeout=120)


if not PG:
    print("SKIP: run through tests/lab/pg.sh run (no EXPOSURE_PG_URL)")
    sys.exit(77)

SW = "0123456789abcdef" * 2
tmp = tempfile.mkdtemp(prefix="exposure-store-copy-")
try:
    a, b = os.path.join(tmp, "a.db"), os.path.join(tmp, "b.db")
    subprocess.run([GEN, a, "4000", "3600000"], check=True, timeout=120)
    # A few rows the generator does not make: in flight, interrupted, a connection answer,
    # a service text with quotes and a backslash, a result without a document.
    db = sqlite3.connect(a)
    db.execute("UPDATE diagnoses SET status = 'running', risk = NULL, checks_summary = NULL,"
               " findings_summary = NULL WHERE n IN (3, 4)")
    db.execute("UPDATE diagnoses SET status = 'interrupted' WHERE n = 5")
    db.execute("UPDATE diagnoses SET connection = 'tethering' WHERE n % 7 = 0")
    db.execute("UPDATE check_results SET service = 'SSH-2.0-x \"q\\b\"' WHERE diag = 9")
    db.execute("DELETE FROM documents WHERE diag = 10")
    # A sweep (issue 13): its row, and some done results as its hosts with their address,
    # which the service's report must not count and `report --sweep SW` reads alone.
    db.execute("INSERT INTO sweeps (id, started_ms, finished_ms, targets, ports, sent,"
               " open_ports, hosts) VALUES (?, 1000, 2000, '198.18.32.0/20', '22,445', 8192,"
               " 40, 30)", (SW,))
    # One row per host of a sweep, as a sweep writes them (PostgreSQL holds it to that: its
    # unique index diagnoses_sweep_host, schema 6).
    db.execute("UPDATE diagnoses SET sweep = ?, address = '198.18.' || (32 + n / 256) || '.'"
               " || (n % 256) WHERE n % 13 = 0 AND status = 'done'", (SW,))
    # A second one still running (no end, no counts), with no host.
    db.execute("INSERT INTO sweeps (id, started_ms, targets, ports) VALUES (?, 3000,"
               " '198.18.0.1 2001:db8::1', '22')", ("f" * 32,))
    # --per requester counts each requester's latest result (PostgreSQL picks it in the server,
    # SQLite in the report): ties on created_ms within a requester, decided by the serial, and
    # one requester whose hash starts with 16 zero bytes, which neither counts.
    db.execute("UPDATE diagnoses SET created_ms = (SELECT max(d.created_ms) FROM diagnoses d"
               " WHERE d.requester_hash = diagnoses.requester_hash) WHERE n % 3 = 0")
    ties = db.execute("SELECT count(*) FROM (SELECT 1 FROM diagnoses WHERE status = 'done'"
                      " GROUP BY requester_hash, created_ms HAVING count(*) > 1)").fetchone()[0]
    h = db.execute("SELECT requester_hash FROM diagnoses WHERE n = 20").fetchone()[0]
    db.execute("UPDATE diagnoses SET requester_hash = ? WHERE requester_hash = ?",
               (bytes(16) + h[16:], h))
    swept = db.execute("SELECT count(*) FROM diagnoses WHERE sweep IS NOT NULL").fetchone()[0]
    db.commit()
    db.close()

    # "done": the service's results (a sweep's hosts are not among them).
    copied = f"copied 4000 diagnoses ({3997 - swept} done)".encode()
    check(swept > 250, f"{swept} results of a sweep")
    check(ties > 50, f"{ties} requesters with several results at their latest time")
    p = run("store", "copy", a, PG)
    check(p.returncode == 0 and copied + f"; the target holds 4000".encode()
          in p.stdout, f"copy SQLite -> PostgreSQL: {p.returncode} {p.stdout!r} {p.stderr!r}")
    check(b"copied 2 sweeps" in p.stdout, f"the sweeps' rows copied too: {p.stdout!r}")
    p = run("store", "copy", PG, "sqlite:" + b)
    check(p.returncode == 0 and copied in p.stdout and b"copied 2 sweeps" in p.stdout,
          f"copy PostgreSQL -> SQLite: {p.returncode} {p.stdout!r} {p.stderr!r}")

    # Every column of every table, keyed by the diagnosis id, equal after the round trip.
    def rows(path):
        db = sqlite3.connect(path)
        q = {
            "diagnoses": "SELECT id, token_hash, status, created_ms, started_ms, finished_ms,"
                         " requester_hash, requester_prefix, family, lang, risk, checks_summary,"
                         " findings_summary, connection, device, families, sweep, address"
                         " FROM diagnoses",
            "documents": "SELECT d.id, x.json FROM documents x JOIN diagnoses d ON d.n = x.diag",
            "check_results": "SELECT d.id, c.check_name, c.port, c.state, c.reason, c.rtt_ms,"
                             " c.service FROM check_results c JOIN diagnoses d ON d.n = c.diag",
            "sweeps": "SELECT * FROM sweeps",
            "findings": "SELECT d.id, f.seq, f.check_name, f.finding, f.severity, f.confidence"
                        " FROM findings f JOIN diagnoses d ON d.n = f.diag",
        }
        out = {k: sorted(db.execute(v).fetchall(), key=repr) for k, v in q.items()}
        db.close()
        return out

    ra, rb = rows(a), rows(b)
    first = min(r[3] for r in ra["diagnoses"])

    def day(n):  # the n-th day after the first result, as --since/--until take it
        return time.strftime("%Y-%m-%d", time.gmtime(first / 1000 + n * 86400))

    for t in ra:
        check(ra[t] == rb[t] and len(ra[t]) > 0, f"{t}: {len(ra[t])} rows, equal after the round trip")
    check(any("\"q\\b\"" in (r[6] or "") for r in rb["check_results"]), "quoted service kept")

    # The report: byte for byte the same from SQLite, PostgreSQL and the copy back.
    cases = [[], ["--format", "json"], ["--format", "csv"], ["--format", "svg"],
             ["--format", "html"], ["--per", "requester"], ["--by", "family"],
             ["--by", "connection"], ["--by", "device"], ["--trend", "day", "--format", "csv"],
             ["--sample", "500", "--seed", "7"], ["--since", day(1), "--until", day(3)],
             ["--per", "requester", "--format", "json"], ["--per", "requester", "--by", "family"],
             ["--per", "requester", "--since", day(1), "--until", day(3)],
             ["--per", "requester", "--since", day(2), "--format", "csv"],
             ["--per", "requester", "--until", day(1), "--by", "connection"],
             ["--per", "requester", "--trend", "day", "--format", "csv"],
             ["--per", "requester", "--sample", "300", "--seed", "3"]]
    # Labels: PostgreSQL counts groups kept apart by prefix (store_iter_groups), SQLite rows.
    labels = os.path.join(tmp, "labels.csv")
    with open(labels, "w") as f:
        f.write("prefix,label\n198.18.0.0/16,lab-a\n198.19.0.0/16,lab-b\n2001:db8::/32,v6\n")
    cases += [["--labels", labels], ["--labels", labels, "--format", "json"],
              ["--labels", labels, "--label", "lab-a", "--format", "csv"],
              ["--labels", labels, "--per", "requester", "--format", "json"],
              ["--labels", labels, "--label", "v6", "--per", "requester", "--format", "csv"]]
    for c in cases:
        outs = [run("report", "--store", s, *c) for s in (a, PG, b)]
        same = all(o.returncode == 0 and o.stdout == outs[0].stdout for o in outs)
        check(same and len(outs[0].stdout) > 100,
              f"report {' '.join(c) or '(table)'}: {len(outs[0].stdout)} bytes, same on all three"
              + ("" if same else f" rc {[o.returncode for o in outs]} {outs[1].stderr!r}"))

    # A sweep's report: byte for byte the same from SQLite, PostgreSQL and the copy back.
    for c in [[], ["--format", "json"], ["--format", "csv"], ["--by", "family"],
              ["--per", "requester", "--format", "json"]]:
        outs = [run("report", "--store", s, "--sweep", SW, *c) for s in (a, PG, b)]
        same = all(o.returncode == 0 and o.stdout == outs[0].stdout for o in outs)
        check(same and len(outs[0].stdout) > 100,
              f"report --sweep {' '.join(c) or '(table)'}: {len(outs[0].stdout)} bytes, same on"
              " all three"
              + ("" if same else f" rc {[o.returncode for o in outs]} {outs[1].stderr!r}"))
    # ... and not the service's report: the sweep's hosts are counted in one, not the other.
    whole = json.loads(run("report", "--store", PG, "--format", "json").stdout)
    part = json.loads(run("report", "--store", PG, "--sweep", SW, "--format", "json").stdout)
    check(whole["population"] == 3997 - swept and part["population"] == swept,
          f"populations: service {whole['population']}, sweep {part['population']}")

    # Refusals: a target that holds diagnoses, usage errors.
    p = run("store", "copy", a, PG)
    check(p.returncode == 1 and b"not empty" in p.stderr, f"non-empty target refused: {p.stderr!r}")
    p = run("store", "copy", a)
    check(p.returncode == 2 and b"FROM and TO" in p.stderr, "copy without TO: usage error")
    p = run("store", "move", a, b)
    check(p.returncode == 2 and b"unknown subcommand" in p.stderr, "unknown subcommand")
    p = run("report", "--store", "postgresql://exposure:s3cret@127.0.0.1:1/none")
    check(p.returncode == 1 and b"s3cret" not in p.stderr and b"***" in p.stderr,
          f"a password in the store URI is never shown: {p.stderr!r}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(f"{failures} failure(s)")
sys.exit(1 if failures else 0)
