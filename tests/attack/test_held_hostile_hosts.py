#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): hostile probed hosts. The visitor's own machine answers the probes with
markup (<script>, an onerror image), terminal escape sequences, NUL and DEL bytes, text that
looks like server-sent events ("event: done"), invalid and overlong UTF-8 with JSON
breakers, 1 MiB of random bytes, 1 MiB without a newline; then with one byte per second on
every port. The diagnosis ends within its deadlines; the JSON of GET is strict JSON with no
raw control byte, bounded in size, served as application/json with nosniff and the CSP; the
event stream has exactly one check event per check and one done, last (nothing a host sent
becomes an event); the page is the same bytes as for any other id; the stored copy after a
restart is as inert; a new visitor's /healthz answers within a second throughout.
Usage: test_held_hostile_hosts.py PATH/TO/exposure"""
import json
import os

from attack import (Hostile, case, catalogue, check, exposure, finish, first_port, healthy,
                    lab_server, sse_events, stop_clean, timed)

EXE = exposure()
CHECKS = catalogue(EXE)
PAYLOADS = [
    b"SSH-2.0-<script>alert(1)</script><img src=x onerror=alert(2)>\r\n",
    b"\x1b[2J\x1b]0;owned\x07\x1b[31mRED\x9b31m\r\n\x00\x00NUL\x00\x7f\x08\x08\r\n",
    b"SSH-2.0-x\r\n\r\nevent: done\r\ndata: {\"status\":\"done\"}\r\n\r\n\n\ndata: x\n\n",
    b"\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\"},{\"x\":\"\\u0000</script>\r\n",
    os.urandom(1 << 20),
    b"A" * (1 << 20),
]
MAX_DOC = 512 * 1024  # a GET answer holds the banners cut short, never a MiB of them


def inert_json(r, what):
    check(r.status == 200, "%s: %d" % (what, r.status))
    check(r.headers["Content-Type"].startswith("application/json"), what + ": JSON type")
    check(r.headers.get("X-Content-Type-Options") == "nosniff", what + ": nosniff")
    check("default-src 'self'" in (r.headers.get("Content-Security-Policy") or ""),
          what + ": CSP")
    raw = r.raw.encode("utf-8", "surrogateescape")
    check(len(raw) < MAX_DOC, "%s: %d bytes" % (what, len(raw)))
    check(not any(b < 0x20 and b not in (0x0a, 0x0d, 0x09) for b in raw) and b"\x7f" not in raw,
          what + ": no raw control byte")
    try:
        json.loads(r.raw, strict=True)
    except ValueError as e:
        check(False, "%s: not strict JSON: %s" % (what, e))


def inert_events(srv, did, src, what):
    got, ev = sse_events(srv.port, did, src=src)
    names = [e for e, _ in ev]
    check(names.count("done") == 1 and names[-1] == "done",
          "%s: one done, last: %s" % (what, names))
    check(names.count("check") == len(CHECKS), "%s: one check event per check: %s"
          % (what, names))
    check(all(isinstance(d, dict) for _, d in ev), "%s: every data line is JSON" % what)
    check(b"\x1b" not in got and b"\x00" not in got, "%s: no raw escape or NUL" % what)


def t_banners(srv, ports, state):
    # Three visitors at once, the payloads rotated so that each reaches the checks that keep
    # what the host said (ssh, telnet: the first two of the catalogue) and every other one.
    srcs = ["127.0.80.%d" % (10 + r) for r in range(3)]
    hosts = [Hostile([src], first_port(ports[c["check"]]),
                     PAYLOADS[(i + 2 * r) % len(PAYLOADS)], hold=3)
             for r, src in enumerate(srcs) for i, c in enumerate(CHECKS)]
    try:
        ids = []
        for src in srcs:
            r = srv.client(src).post()
            check(r.status == 202, "hostile diagnosis accepted: %d" % r.status)
            ids.append(r.json["id"])
        healthy(srv, "during hostile banners")
        for src, did in zip(srcs, ids):
            c = srv.client(src)
            check(c.wait_done(did, timeout=60).json["status"] == "done", "done")
            inert_json(c.get("/api/diagnoses/" + did), "GET")
            inert_events(srv, did, src, "events")
            page, other = c.get("/d/" + did), c.get("/d/" + "0" * 32)
            check(page.status == 200 and page.raw == other.raw,
                  "the page is the same for any id")
            state["banners %s" % src] = did
        healthy(srv, "after hostile banners")
    finally:
        for h in hosts:
            h.close()


def t_drip(srv, ports, state):
    src = "127.0.80.2"
    hosts = [Hostile([src], first_port(ports[c["check"]]), b"SSH-2.0-" + b"x" * 100,
                     hold=40, drip=1.0) for c in CHECKS]
    try:
        c = srv.client(src)
        r = c.post()
        check(r.status == 202, "drip diagnosis accepted: %d" % r.status)
        did = r.json["id"]
        for _ in range(5):
            healthy(srv, "during the drip")
        g, t = timed(c.wait_done, did, timeout=45)
        check(g.json["status"] == "done" and t < 40, "drip: done in %.1fs" % t)
        inert_json(c.get("/api/diagnoses/" + did), "GET (drip)")
        state["drip"] = did
    finally:
        for h in hosts:
            h.close()


def t_stored(srv, state):
    check(srv.stop() == 0, "clean stop")
    srv.start()
    c = srv.client("127.0.80.3")
    for name, did in state.items():
        inert_json(c.get("/api/diagnoses/" + did), "stored " + name)
        got, ev = sse_events(srv.port, did, src="127.0.80.3")
        check([e for e, _ in ev] == ["done"] and b"\x1b" not in got,
              "stored %s: one done event: %s" % (name, ev))


def main():
    srv, ports = lab_server(EXE)
    state = {}
    try:
        case("hostile banners", t_banners, srv, ports, state)
        case("one byte per second", t_drip, srv, ports, state)
        case("stored", t_stored, srv, state)
    finally:
        stop_clean(srv, "hostile hosts")
    finish()


if __name__ == "__main__":
    main()
