#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""exposure serve and the profiles (issue 12 §3) over HTTP on loopback, in a private namespace
(tests/isolated.sh): the default service lists and runs the seven checks of 2017; --checks
ssdp,ssh lists exactly those in /api/whoami (the page's "What will be probed"), with ssdp's
transport; a diagnosis of that service whose UDP port answers nothing is done and stored with
ssdp open|filtered (never closed), its ssh door closed; exposure report then counts ssdp over the
one result that ran it and says the 2017 result did not run it.
Usage: test_profiles.py EXPOSURE"""
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import Server, catalogue, free_ports, lab_ports, port_args  # noqa: E402

EXE = sys.argv[1]
fails = 0


def check(ok, what):
    global fails
    print(("ok   " if ok else "FAIL ") + what)
    fails += not ok


seven = catalogue(EXE)
free = lab_ports(seven)
# A UDP socket bound and never read: a port that answers nothing at all (no ICMP either).
silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", 0))
udp_port = silent.getsockname()[1]
ssh_port = free_ports(1)[0]

# 1. The default: the profile 2017, one diagnosis stored (every door closed on loopback).
srv = Server([EXE, "serve"], port_args(free) + ["--probers", "0"])
c = srv.client()
who = c.whoami().json
check([x["check"] for x in who["checks"]] == [x["check"] for x in seven],
      "default whoami lists the profile 2017")
check(all(x["transport"] == "tcp" for x in who["checks"]), "the seven are TCP")
r = c.post()
check(r.status == 202, "default diagnosis accepted (%d)" % r.status)
d = c.wait_done(r.json["id"]).json
check(d["status"] == "done", "default diagnosis done")
db = srv.db
srv.stop()

# 2. --checks ssdp,ssh on the same store.
srv = Server([EXE, "serve"], ["--checks", "ssdp,ssh", "--port", "ssdp=%d" % udp_port,
                              "--port", "ssh=%d" % ssh_port, "--probers", "0"],
             workdir=os.path.dirname(db), db=db)
c = srv.client()
who = c.whoami().json
check([x["check"] for x in who["checks"]] == ["ssh", "ssdp"], "whoami follows --checks")
ssdp = next(x for x in who["checks"] if x["check"] == "ssdp")
check(ssdp["transport"] == "udp" and ssdp["ports"] == str(udp_port), "ssdp: udp, its port")
r = c.post()
check(r.status == 202, "diagnosis accepted (%d)" % r.status)
d = c.wait_done(r.json["id"]).json
check(d["status"] == "done", "done and stored (%s)" % d["status"])
doc = d.get("result") or d
checks = {x["check"]: x for x in json.dumps(doc) and doc.get("checks", [])}
if not checks:  # the result may be nested per address
    for t in doc.get("targets", []) or doc.get("addresses", []):
        checks.update({x["check"]: x for x in t.get("checks", [])})
check(set(checks) == {"ssdp", "ssh"}, "the document holds the two checks: %s" % sorted(checks))
if "ssdp" in checks:
    check(checks["ssdp"]["state"] == "open|filtered" and checks["ssdp"]["findings"] == [],
          "ssdp open|filtered, no finding: %s" % json.dumps(checks["ssdp"]))
if "ssh" in checks:
    check(checks["ssh"]["state"] == "closed", "ssh closed")
srv.stop()
check("ERROR: " not in srv.log_text and "runtime error" not in srv.log_text, "clean log")

# 3. The report over both results: ssdp counted over the one that ran it, and said so.
rep = subprocess.run([EXE, "report", "--store", db, "--format", "csv"], capture_output=True,
                     text=True, timeout=60)
check(rep.returncode == 0, "report csv ran (%d) %s" % (rep.returncode, rep.stderr[:200]))
check(",check,ssdp,0,1," in rep.stdout, "ssdp over 1 result: %s" % rep.stdout[:600])
check(",check,ssh,0,2," in rep.stdout, "ssh over 2 results")
rep = subprocess.run([EXE, "report", "--store", db], capture_output=True, text=True, timeout=60)
check("SSDP (%d/udp): run in 1 of 2 results" % udp_port in rep.stdout or
      "SSDP (1900/udp): run in 1 of 2 results" in rep.stdout,
      "the table says ssdp ran in 1 of 2: %s" % rep.stdout[:800])
silent.close()
print("%d failed" % fails)
sys.exit(1 if fails else 0)
