#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Emulator and hostile-peer tests of the SSH, Telnet, RDP and VNC probes over real loopback
sockets (tests/emul/emul.py as the server, probe_cli as the client driver).

Every case named "emulator: ..." reproduces a verdict no Debian server produces (PROTOCOLS.md
§12.11); the "hostile: ..." cases check that every probe ends within its deadline with a clear
reason and printable details. Usage: test_remote_access_emul.py PROBE_CLI EMUL_DIR
"""
import concurrent.futures
import json
import os
import random
import socket
import subprocess
import sys
import time

PROBE_CLI = sys.argv[1]
sys.path.insert(0, sys.argv[2])
import emul  # noqa: E402


def deadlines(probe):
    """The probe's idle_ms and total_ms, read from its probe_ops (probe_cli --deadlines)."""
    p = subprocess.run([PROBE_CLI, "--deadlines", probe], capture_output=True, check=True,
                       timeout=10)
    d = json.loads(p.stdout)
    if not 0 < d["idle_ms"] <= d["total_ms"]:
        raise AssertionError("%s: deadlines %r" % (probe, d))
    return d


# the probes' deadlines, checked with a margin
DEADLINES = {probe: deadlines(probe) for probe in ("ssh", "telnet", "rdp", "vnc")}
TOTAL_MS = {probe: d["total_ms"] for probe, d in DEADLINES.items()}
IDLE_MS = {probe: d["idle_ms"] for probe, d in DEADLINES.items()}
MARGIN_MS = 1500


def free_port():
    """A port in 20000-32767: >= 10000 and below the ephemeral range (PROTOCOLS.md §12.0)."""
    for _ in range(200):
        p = random.randint(20000, 32767)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


def run(probe, case, **opts):
    for _ in range(5):
        try:
            srv, port = emul.serve(case, "127.0.0.1", free_port(), **opts)
            break
        except OSError:
            continue
    try:
        t0 = time.monotonic()
        p = subprocess.run([PROBE_CLI, probe, "127.0.0.1", str(port)], capture_output=True,
                           timeout=60)
        wall = (time.monotonic() - t0) * 1000
    finally:
        srv.close()
    if p.returncode != 0:
        raise AssertionError("%s/%s: probe_cli exit %d: %s" % (probe, case, p.returncode,
                                                               p.stderr.decode(errors="replace")))
    if p.stderr:
        raise AssertionError("%s/%s: stderr: %s" % (probe, case, p.stderr.decode(errors="replace")))
    r = json.loads(p.stdout)
    r["wall_ms"] = wall
    return r


def clean(v):
    if isinstance(v, str):
        return len(v) <= 4096 and all(0x20 <= ord(c) < 0x7f or c == "\n" for c in v)
    if isinstance(v, dict):
        return all(clean(x) for x in v.values())
    if isinstance(v, list):
        return all(clean(x) for x in v)
    return True


def check(name, probe, case, state, service, findings, details=None, max_ms=None, end=None,
          states=None, **opts):
    r = run(probe, case, **opts)
    errs = []
    if states is not None:
        if r["state"] not in states:
            errs.append("state %s not in %s" % (r["state"], states))
    elif r["state"] != state:
        errs.append("state %s, want %s" % (r["state"], state))
    if service is not None and r["service"] != service:
        errs.append("service %r, want %r" % (r["service"], service))
    if findings is not None:
        got = {f["id"]: f["confidence"] for f in r["findings"]}
        want = {}
        for f in findings:
            i, _, c = f.partition("=")
            want[i] = c or None
        if set(got) != set(want):
            errs.append("findings %s, want %s" % (sorted(got), sorted(want)))
        for i, c in want.items():
            if c and got.get(i) != c:
                errs.append("%s is %s, want %s" % (i, got.get(i), c))
    for k, v in (details or {}).items():
        d = r["details"] or {}
        if d.get(k) != v:
            errs.append("details.%s = %r, want %r" % (k, d.get(k), v))
    if not clean(r["details"]):
        errs.append("details not printable ASCII")
    limit = max_ms if max_ms is not None else TOTAL_MS[probe] + MARGIN_MS
    if r["elapsed_ms"] > limit:
        errs.append("took %d ms, limit %d" % (r["elapsed_ms"], limit))
    if end is not None and r["end"] != end:
        errs.append("end %s, want %s" % (r["end"], end))
    return name, errs, r


CASES = [
    # emulators (§12.11): what no Debian server produces
    ("emulator: SSH-1.99", "ssh", "ssh-199", "identified", "ssh", ["ssh1-enabled=confirmed"],
     {"proto": "1.99"}, IDLE_MS["ssh"] + MARGIN_MS),
    ("emulator: SSH-1.5 only", "ssh", "ssh-15", "identified", "ssh", ["ssh1-enabled"],
     {"proto": "1.5", "software": "1.2.27"}, 1000),
    ("emulator: SSH pre-banner lines", "ssh", "ssh-prebanner", "identified", "ssh", [],
     {"pre_banner_lines": 2, "software": "Test_1.0"}, IDLE_MS["ssh"] + MARGIN_MS),
    ("emulator: SSH tarpit (endless lines, 1/s)", "ssh", "ssh-tarpit", "other", "", [],
     {"reason": "no SSH identification before the deadline"}, None, "deadline"),
    ("emulator: telnet BusyBox no-auth shell", "telnet", "telnet-busybox-shell", "identified",
     "telnet", ["telnet-exposed=confirmed", "telnet-no-auth-shell=likely"], None, 1000),
    ("emulator: telnet BusyBox login", "telnet", "telnet-busybox-login", "identified", "telnet",
     ["telnet-exposed=confirmed"], {"prompt": "fixture login:"}, 1000),
    ("emulator: telnet IAC only, CR LF on a second connection", "telnet", "telnet-iac-only",
     "identified", "telnet", ["telnet-exposed=confirmed"],
     {"prompt": "router login:", "sent_crlf": True}, IDLE_MS["telnet"] + MARGIN_MS),
    ("emulator: RDP requiring NLA", "rdp", "rdp-nla", "identified", "rdp", [],
     {"nla": "required", "best_protocol": "HYBRID_EX", "failure_codes": [5, 5]}, 1000),
    ("emulator: RDP NLA, P3 unanswered => unknown", "rdp", "rdp-nla-p3-silent", "identified",
     "rdp", ["rdp-nla-not-required=unknown"], {"nla": "unknown"}, IDLE_MS["rdp"] + MARGIN_MS),
    ("emulator: RDP legacy CC", "rdp", "rdp-legacy", "identified", "rdp",
     ["rdp-nla-not-required=likely", "rdp-standard-security=likely"], {"nla": "not-required"},
     1000),
    ("emulator: RDP disconnect request", "rdp", "rdp-disconnect", "protocol-error", "rdp", [],
     {"nla": "unknown"}, 1000),
    ("emulator: RealVNC 4.1", "vnc", "vnc-realvnc-4.1", "identified", "vnc",
     ["vnc-password-only=confirmed"], {"version": "4.1", "version_used": "3.8"}, 1000),
    ("emulator: RealVNC 5", "vnc", "vnc-realvnc-5", "identified", "vnc", [],
     {"security_types": ["RA2", "RA2ne"]}, 1000),
    ("emulator: Apple 003.889", "vnc", "vnc-apple", "identified", "vnc", [],
     {"version": "3.889", "security_types": ["Apple-DH", "Apple"]}, 1000),
    ("emulator: VNC refused with reason", "vnc", "vnc-refused", "identified", "vnc", [],
     {"refused_reason": "Too many security failures"}, 1000),
    ("emulator: VNC 3.3 failure before our version", "vnc", "vnc-33-failure-early",
     "identified", "vnc", [], {"refused_reason": "Too many security failures"}, 1000),
    ("emulator: TigerVNC 02 13 01 quirk", "vnc", "vnc-tigervnc-quirk", "identified", "vnc",
     ["vnc-no-auth=confirmed"], {"no_auth_via": "none"}, 1000),
    ("emulator: VeNCrypt TLSNone", "vnc", "vnc-vencrypt-tlsnone", "identified", "vnc",
     ["vnc-no-auth=confirmed"], {"no_auth_via": "vencrypt-tlsnone",
                                 "vencrypt_subtypes": ["TLSNone"]}, 1000),
    ("emulator: VNC oversized reason", "vnc", "vnc-oversized-reason", "protocol-error", "vnc",
     [], {"refused_reason_truncated": True}, 1000),
    # hostile peers: deadlines and clear reasons
    ("hostile: SSH banner with escapes/HTML/NUL/bad UTF-8", "ssh", "ssh-hostile", "identified",
     "ssh", [], None, IDLE_MS["ssh"] + MARGIN_MS),
    ("hostile: telnet banner with escapes/HTML/NUL", "telnet", "telnet-hostile", "identified",
     "telnet", ["telnet-exposed=confirmed"], {"prompt": "Password:"}, 1000),
]

HOSTILE = []
for probe in ("ssh", "telnet", "rdp", "vnc"):
    HOSTILE += [
        ("hostile: %s silent" % probe, probe, "silent", "silent", "", [], None, None, "idle"),
        ("hostile: %s tcpwrapped" % probe, probe, "tcpwrapped", "tcpwrapped", "", [], None, 1000),
    ]
    # 1 MiB of garbage: never identified, ends quickly
    HOSTILE.append(("hostile: %s 1 MiB garbage" % probe, probe, "garbage", None, None, [], None,
                    TOTAL_MS[probe] + MARGIN_MS, None, ["other", "protocol-error"]))
# one byte per second: the total deadline ends it
DRIP = [
    ("hostile: ssh one byte per second", "ssh", "ssh-15", "protocol-error", "ssh", [], None,
     TOTAL_MS["ssh"] + MARGIN_MS, "deadline"),
    ("hostile: telnet one byte per second", "telnet", "telnet-busybox-login", "identified",
     "telnet", ["telnet-exposed=confirmed"], None, TOTAL_MS["telnet"] + MARGIN_MS, "deadline"),
    ("hostile: rdp one byte per second", "rdp", "rdp-nla", "protocol-error", "rdp", [],
     {"nla": "unknown"}, TOTAL_MS["rdp"] + MARGIN_MS, "deadline"),
    ("hostile: vnc one byte per second", "vnc", "vnc-none", "protocol-error", "vnc",
     [], {"reason": "incomplete RFB ProtocolVersion"},
     TOTAL_MS["vnc"] + MARGIN_MS, "deadline"),
]


def main():
    failures = 0
    jobs = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as ex:
        for c in CASES + HOSTILE:
            name, probe, case, state, service, findings, details, max_ms = c[:8]
            end = c[8] if len(c) > 8 else None
            states = c[9] if len(c) > 9 else None
            jobs.append(ex.submit(check, name, probe, case, state, service, findings, details,
                                  max_ms, end, states))
        for c in DRIP:
            name, probe, case, state, service, findings, details, max_ms, end = c
            jobs.append(ex.submit(check, name, probe, case, state, service, findings, details,
                                  max_ms, end, None, drip=1.0))
        for j in jobs:
            name, errs, r = j.result()
            status = "ok" if not errs else "FAIL"
            print("%-4s %-58s %5d ms %s" % (status, name, r["elapsed_ms"],
                                             "; ".join(errs)))
            if errs:
                print("     result: %s" % json.dumps(r)[:600])
                failures += 1

    # closing at every byte offset of each handshake, over real sockets
    for probe, case, n in (("ssh", "ssh-prebanner", 50), ("telnet", "telnet-busybox-login", 32),
                           ("rdp", "rdp-nla", 19), ("vnc", "vnc-vencrypt-tlsnone", 20)):
        bad = 0
        for k in range(n):
            r = run(probe, case, close_at=k)
            if not clean(r["details"]) or r["elapsed_ms"] > TOTAL_MS[probe] + MARGIN_MS or \
                    r["state"] == "unknown" and k > 0 and probe != "telnet":
                bad += 1
                print("FAIL close-at %s/%s@%d: %s" % (probe, case, k, json.dumps(r)[:300]))
        print("%-4s hostile: %s closes at each of %d offsets" % ("ok" if not bad else "FAIL",
                                                                  case, n))
        failures += bad
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
