#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The SMB EMULATOR (tests/emul/smb_emul.py) through the real engine: `exposure check --json` on
127.0.0.1, with the smb and netbios checks pointed at emulators listening on ephemeral ports.
Unlike probes_smb (the probe fed in memory by the test driver), this runs the product path:
engine, probe, diagnosis and JSON. Run in a private network namespace (tests/isolated.sh), so the
other checks find their ports closed and nothing leaves loopback.

  an unpatched MS17-010 host (and an XP-style NetBIOS name)  -> ms17_010 vulnerable
  a patched Windows 10 (and a negative NetBIOS answer)       -> ms17_010 not vulnerable
  an unpatched host with the DoublePulsar implant            -> doublepulsar-implant

Usage: test_smb_engine.py PATH-TO-exposure EMUL_DIR
"""
import json
import os
import subprocess
import sys

EXPOSURE = sys.argv[1]
SMB_EMUL = os.path.join(sys.argv[2], "smb_emul.py")
sys.path.insert(0, sys.argv[2])
import common  # noqa: E402

HOST = "127.0.0.1"
# the findings of every SMB1-enabled emulator case besides the MS17-010 ones
SMB1 = ["smb-exposed", "smb-signing-not-required", "smb1-enabled"]
NBT1 = ["netbios-exposed", "smb-signing-not-required", "smb1-enabled"]

checks = common.Checks(show=lambda entry: json.dumps(entry)[:600])


def ok(cond, what, entry=None):
    checks(what, cond, entry)


def start_emul(case, *opts):
    """One emulator on an ephemeral loopback port; returns (process, port)."""
    p = subprocess.Popen([sys.executable, SMB_EMUL, "--host", HOST, "--port", "0", *opts, case],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    if len(line) != 2 or line[0] != "PORT":
        p.kill()
        p.wait()
        raise RuntimeError("smb_emul.py %s did not start: %r" % (case, line))
    return p, int(line[1])


def check(smb_port, netbios_port):
    """`exposure check --json` of 127.0.0.1; returns (exit status, {check: entry})."""
    argv = [EXPOSURE, "check", "--json", "--port", "smb=%d" % smb_port]
    if netbios_port:
        argv += ["--port", "netbios=%d" % netbios_port]
    p = subprocess.run(argv + [HOST], capture_output=True, text=True, timeout=90)
    doc = json.loads(p.stdout)
    ok(isinstance(doc, dict) and doc.get("address") == HOST, "one document for %s" % HOST)
    return p.returncode, {c["check"]: c for c in doc["checks"]}


def ids(entry):
    return sorted(f["id"] for f in entry["findings"])


def finding(entry, fid):
    """severity/confidence of one finding, or None."""
    for f in entry["findings"]:
        if f["id"] == fid:
            return "%s/%s" % (f["severity"], f["confidence"])
    return None


def expect_smb(label, entry, port, want_ids, ms17):
    ok(entry["port"] == port and entry["state"] == "open", "%s: smb on %d open" % (label, port),
       entry)
    ok(entry["service"] == "smb" and finding(entry, "smb-exposed") == "high/confirmed",
       "%s: service smb, smb-exposed confirmed" % label, entry)
    ok(ids(entry) == sorted(want_ids), "%s: findings %s" % (label, ",".join(sorted(want_ids))),
       entry)
    ok((entry["details"] or {}).get("ms17_010") == ms17, "%s: ms17_010 %s" % (label, ms17),
       entry)


def main():
    procs = []
    try:
        for case, opts in (("ms17-vulnerable", ()), ("nbt-xp", ("--nbt",)),
                           ("ms17-patched-win10", ()), ("nbt-negative", ("--nbt",)),
                           ("ms17-doublepulsar", ())):
            procs.append((case,) + start_emul(case, *opts))
        port = {case: p for case, _, p in procs}

        rc, c = check(port["ms17-vulnerable"], port["nbt-xp"])
        ok(rc == 1, "unpatched: exit status 1 (something risky), got %d" % rc)
        smb = c["smb"]
        expect_smb("unpatched", smb, port["ms17-vulnerable"], ["ms17-010-vulnerable"] + SMB1,
                   "vulnerable")
        ok(finding(smb, "ms17-010-vulnerable") == "critical/likely" and
           smb["details"].get("doublepulsar") == "absent",
           "unpatched: ms17-010-vulnerable critical/likely, no implant", smb)
        nb = c["netbios"]
        ok(nb["port"] == port["nbt-xp"] and nb["service"] == "netbios" and
           ids(nb) == sorted(["ms17-010-vulnerable"] + NBT1) and
           nb["details"].get("ms17_010") == "vulnerable" and
           nb["details"].get("called_name") == "*SMBSERV",
           "unpatched over NetBIOS (XP name *SMBSERV): vulnerable", nb)

        rc, c = check(port["ms17-patched-win10"], port["nbt-negative"])
        ok(rc == 1, "Windows 10: exit status 1 (smb exposed), got %d" % rc)
        smb = c["smb"]
        expect_smb("Windows 10", smb, port["ms17-patched-win10"], SMB1, "not vulnerable")
        ok(smb["details"].get("ms17_010_reason") == "STATUS_ACCESS_DENIED" and
           "doublepulsar" not in smb["details"],
           "Windows 10: STATUS_ACCESS_DENIED, no implant ping", smb)
        nb = c["netbios"]
        # No session, so SMB's questions stay open over 139: unknown, never missing (issue 15).
        ok(nb["service"] == "netbios" and nb["details"].get("session") == "negative" and
           [f["id"] + "=" + f["confidence"] for f in nb["findings"]] ==
           ["netbios-exposed=likely", "smb1-enabled=unknown", "ms17-010-vulnerable=unknown",
            "doublepulsar-implant=unknown"] and
           all(f["reason"] == "could not check: the NetBIOS session was refused for every "
               "name we know" for f in nb["findings"][1:]),
           "NetBIOS negative answer: netbios-exposed likely, SMB's questions unknown", nb)

        rc, c = check(port["ms17-doublepulsar"], 0)
        ok(rc == 1, "DoublePulsar: exit status 1, got %d" % rc)
        smb = c["smb"]
        expect_smb("DoublePulsar", smb, port["ms17-doublepulsar"],
                   ["doublepulsar-implant", "ms17-010-vulnerable"] + SMB1, "vulnerable")
        ok(finding(smb, "doublepulsar-implant") == "critical/confirmed" and
           smb["details"].get("doublepulsar") == "present",
           "DoublePulsar: implant critical/confirmed", smb)
    finally:
        for _, p, _ in procs:
            p.kill()
            p.wait()
    return checks.status("%d failure(s)")


if __name__ == "__main__":
    sys.exit(main())
