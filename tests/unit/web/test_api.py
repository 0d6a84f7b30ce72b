#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""API tests of `exposure serve` over real HTTP on loopback, requesters from distinct
127.0.x.y source addresses: every status code, SSE, rate limits and the queue bound,
trusted-proxy handling, CSRF and same-origin refusal, delete, retention purge, restart
safety with a real kill -9. Usage: test_api.py PATH/TO/exposure PATH/TO/report-gen-store"""
import json
import os
import subprocess
import re
import shutil
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import Listener, Server, catalogue, lab_ports, port_args  # noqa: E402

EXPOSURE = sys.argv[1]
CHECKS = [c["check"] for c in catalogue(EXPOSURE)]  # the catalogue's, in its order
SERVE = [EXPOSURE, "serve"]
GEN = sys.argv[2] if len(sys.argv) > 2 else None  # report-gen-store
ADMIN_TOKEN = "lab-operator-token-0123456789"
FAST = ["127.0.0.1", "127.0.1.1", "127.0.3.1", "127.0.3.2", "127.0.6.2", "127.0.6.3",
        "127.0.66.1", "127.0.8.1", "127.0.9.1"] + ["127.0.4.%d" % i for i in range(1, 7)]
SLOW = ["127.0.2.1"] + ["127.0.5.%d" % i for i in range(1, 4)] + \
       ["127.0.7.%d" % i for i in range(1, 5)]
ALL = FAST + SLOW
SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"

failures = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def sec_headers(r, what):
    csp = r.headers.get("Content-Security-Policy") or ""
    check("default-src 'self'" in csp, what + ": CSP default-src")
    check("frame-ancestors 'none'" in csp, what + ": CSP frame-ancestors")
    check("unsafe-inline" not in csp, what + ": no unsafe-inline")
    check(r.headers.get("X-Content-Type-Options") == "nosniff", what + ": nosniff")
    check(r.headers.get("Referrer-Policy") == "no-referrer", what + ": referrer")


def setup():
    # Every check of the catalogue on free loopback ports, a range as wide as its own.
    env = lab_ports(catalogue(EXPOSURE), ALL)
    sky = int(env["skysea"].split("-")[0])
    ssh = Listener(ALL, int(env["ssh"]), SSH_BANNER, hold=0.3)
    # The SLOW requesters must stay busy for a while whatever the other probes do: a silent
    # port in their SKYSEA range makes the skysea probe (always registered: it sends nothing)
    # wait for its idle deadline (1 s, total 2 s). A silent VNC adds its own wait when the VNC
    # probe is registered.
    sky_silent = Listener(SLOW, sky, b"", hold=30)
    vnc = Listener(SLOW, int(env["vnc"]), b"", hold=30)
    return env, [ssh, sky_silent, vnc]


def t_basics(srv):
    c = srv.client("127.0.0.1")
    r = c.get("/healthz")
    check(r.status == 200 and r.json["status"] == "ok", "healthz")
    sec_headers(r, "healthz")
    r = c.whoami()
    check(r.status == 200, "whoami 200")
    sec_headers(r, "whoami")
    w = r.json
    check(w["address"] == "127.0.0.1" and w["class"] == "loopback", "whoami address")
    check(w["may_diagnose"] is True and w["mode"] == "local", "whoami may diagnose")
    check([x["check"] for x in w["checks"]] == CHECKS, "whoami lists the catalogue")
    check(w["checks"][0]["ports"] != "22", "port overrides shown")
    check(w["probe_source"] == "lab 127.0.0.1", "probe source label")
    check("exposure_csrf" in c.cookies and c.cookies["exposure_csrf"] == w["csrf_token"],
          "csrf cookie set")
    rtt_timeout = w["probe_timeout_ms"]
    check(300 <= rtt_timeout <= 5000, "timeout from TCP_INFO within floor..ceiling")
    check("rtt_ms" in w and w["rtt_ms"] >= 0, "rtt measured")
    # Page and assets.
    r = c.get("/", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.8"})
    check(r.status == 200 and '<html lang="ja">' in r.raw, "page lang ja")
    sec_headers(r, "page")
    check(not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.raw), "no inline script")
    r = c.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    check('<html lang="en">' in r.raw, "page lang en")
    r = c.get("/d/" + "0" * 32)
    check(r.status == 200 and "<html" in r.raw, "permanent URL serves the page")
    r = c.get("/app.js")
    check(r.status == 200 and r.headers["Content-Type"].startswith("text/javascript"), "js")
    check(not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", r.raw),
          "app.js never inserts markup")
    r = c.get("/api/advice?lang=ja")
    check(r.status == 200 and r.json["lang"] == "ja", "advice")
    # Errors.
    r = c.get("/nope")
    check(r.status == 404, "404 unknown path")
    sec_headers(r, "404")
    r = c.get("/api/diagnoses/" + "a" * 32)
    check(r.status == 404, "404 unknown id")
    r = c.get("/api/diagnoses/XYZ")
    check(r.status == 404, "404 malformed id")
    r = c.request("PUT", "/api/diagnoses")
    check(r.status == 405 and "POST" in r.headers["Allow"], "405")
    r = c.request("GET", "/api/diagnoses")
    check(r.status == 405, "405 GET on collection")
    r = c.post(body=b"x" * 5000)
    check(r.status == 413, "413 body too large: %d" % r.status)
    r = c.post(body=b"[not json")
    check(r.status == 400, "400 bad body")
    return rtt_timeout


def t_csrf(srv):
    c = srv.client("127.0.0.1")
    c.whoami()
    good = c.csrf
    r = c.post(headers={"X-CSRF-Token": None})
    check(r.status == 403 and r.json["reason"] == "csrf", "no token -> 403 csrf")
    r = c.post(headers={"X-CSRF-Token": "A" * 54})
    check(r.status == 403 and r.json["reason"] == "csrf", "forged token -> 403")
    saved = dict(c.cookies)
    c.cookies.clear()
    r = c.post(headers={"X-CSRF-Token": good})
    check(r.status == 403 and r.json["reason"] == "csrf", "token without cookie -> 403")
    c.cookies.update(saved)
    r = c.post(headers={"Origin": "http://evil.example"})
    check(r.status == 403 and r.json["reason"] == "origin", "cross origin -> 403")
    r = c.post(headers={"Sec-Fetch-Site": "cross-site", "Origin": None})
    check(r.status == 403 and r.json["reason"] == "origin", "Sec-Fetch-Site cross-site -> 403")
    sec_headers(r, "403")


def t_flow(srv):
    c = srv.client("127.0.1.1")
    r = c.post()
    check(r.status == 202, "202: %d %s" % (r.status, r.raw))
    sec_headers(r, "202")
    d = r.json
    check(re.fullmatch(r"[0-9a-f]{32}", d["id"]), "128-bit hex id")
    check(len(d["delete_token"]) == 43, "delete token")
    check(d["links"]["page"] == "/d/" + d["id"], "page link")
    check(r.headers["Location"] == "/api/diagnoses/" + d["id"], "Location")
    ev = c.events(d["id"])
    names = [e for e, _ in ev]
    checks = [x for e, x in ev if e == "check"]
    check(names[-1] == "done", "SSE ends with done: %s" % names)
    check(sorted(x["check"]["check"] for x in checks) == sorted(CHECKS),
          "one SSE event per check: %s" % names)
    check(all(CHECKS[x["index"]] == x["check"]["check"] for x in checks), "event index")
    r = c.wait_done(d["id"])
    g = r.json
    check(g["status"] == "done" and g["checks_done"] == len(CHECKS), "GET done")
    doc = g["result"]
    check(doc["address"] == "127.0.1.1", "probed the requester's address")
    by = {x["check"]: x for x in doc["checks"]}
    check(by["ssh"]["state"] == "open", "ssh open: %s" % by["ssh"])
    check(any(f["id"] == "ssh-exposed" for f in by["ssh"]["findings"]), "ssh-exposed finding")
    check(by["telnet"]["state"] == "closed", "telnet closed")
    check(g["risk"] in ("medium", "high", "critical"), "risk %s" % g["risk"])
    # SSE after the fact still ends with done.
    ev = c.events(d["id"])
    check(ev[-1][0] == "done", "late SSE")
    # Delete: needs the token.
    other = srv.client("127.0.1.2")
    r = other.request("DELETE", "/api/diagnoses/" + d["id"])
    check(r.status == 401, "DELETE without token 401")
    r = other.request("DELETE", "/api/diagnoses/" + d["id"],
                      headers={"X-Delete-Token": "x" * 43})
    check(r.status == 403, "DELETE wrong token 403")
    r = c.request("DELETE", "/api/diagnoses/" + d["id"],
                  headers={"X-Delete-Token": d["delete_token"], "Origin": "http://evil.example"})
    check(r.status == 403, "DELETE cross-origin 403")
    r = c.request("DELETE", "/api/diagnoses/" + d["id"],
                  headers={"X-Delete-Token": d["delete_token"]})
    check(r.status == 204, "DELETE 204: %d" % r.status)
    check(c.get("/api/diagnoses/" + d["id"]).status == 404, "deleted -> 404")
    r = c.request("DELETE", "/api/diagnoses/" + d["id"],
                  headers={"X-Delete-Token": d["delete_token"]})
    check(r.status == 404, "DELETE again 404")


IPAD_UA = ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
           "Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.6367.82 Mobile Safari/537.36")
ANSWERS = ["sim", "usb-modem", "tethering", "router", "wired", "unknown"]


def put_connection(c, did, body, token, headers=None):
    """PUT /api/diagnoses/ID/connection as the page sends it (contract C)."""
    h = {"X-CSRF-Token": c.csrf, "Content-Type": "application/json",
         "Origin": "http://" + c.authority(), "Sec-Fetch-Site": "same-origin",
         "Authorization": None if token is None else "Bearer " + token}
    h.update(headers or {})
    h = {k: v for k, v in h.items() if v is not None}
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return c.request("PUT", "/api/diagnoses/%s/connection" % did, body=body, headers=h)


def t_connection(srv):
    # Contract C: the device class from the User-Agent at POST, the visitor's answer by PUT.
    c = srv.client("127.0.10.1")
    r = c.post(headers={"User-Agent": IPAD_UA})
    check(r.status == 202, "connection: 202 %d %s" % (r.status, r.raw))
    did, tok = r.json["id"], r.json["delete_token"]
    g = c.get("/api/diagnoses/" + did).json
    check(g["device"] == "tablet" and g["connection"] is None, "fresh: tablet, no answer: %s" % g)
    g = c.wait_done(did).json
    check(g["device"] == "tablet" and g["connection"] is None, "done: tablet, no answer")
    path = "/api/diagnoses/%s/connection" % did
    # Every answer, each replacing the last; null clears.
    for v in ANSWERS + [None, "sim"]:
        r = put_connection(c, did, {"connection": v}, tok)
        check(r.status == 204 and not r.raw, "PUT %s -> 204: %d %s" % (v, r.status, r.raw))
        g = c.get("/api/diagnoses/" + did).json
        check(g["connection"] == v and g["device"] == "tablet", "GET after PUT %s: %s" % (v, g))
    # 400: not an answer; the stored one stays.
    for body in [{"connection": "wifi"}, {"connection": "SIM"}, {"connection": ""},
                 {"connection": 1}, {"connection": ["sim"]}, {"other": "sim"}, {},
                 b"[\"sim\"]", b"\"sim\"", b"not json", b""]:
        r = put_connection(c, did, body, tok)
        check(r.status == 400 and r.json["reason"] == "connection",
              "PUT %r -> 400: %d %s" % (body, r.status, r.raw))
    # 403: the delete token, missing, wrong, or another diagnosis's.
    other = srv.client("127.0.10.2")
    r = other.post(headers={"User-Agent": PHONE_UA})
    check(r.status == 202, "second diagnosis 202")
    did2, tok2 = r.json["id"], r.json["delete_token"]
    check(other.get("/api/diagnoses/" + did2).json["device"] == "phone", "Android phone class")
    for t in [None, "x" * 43, tok2, tok[:-1], ""]:
        r = put_connection(c, did, {"connection": "wired"}, t)
        check(r.status == 403 and r.json["reason"] == "token",
              "token %r -> 403: %d %s" % (t, r.status, r.raw))
    r = put_connection(c, did, {"connection": "wired"}, None,
                       headers={"Authorization": "Basic " + tok})
    check(r.status == 403 and r.json["reason"] == "token", "Basic, not Bearer -> 403")
    # 403: CSRF and origin, as POST; the right token does not make up for them.
    r = put_connection(c, did, {"connection": "wired"}, tok, headers={"X-CSRF-Token": None})
    check(r.status == 403 and r.json["reason"] == "csrf", "no CSRF header -> 403 csrf")
    r = put_connection(c, did, {"connection": "wired"}, tok, headers={"X-CSRF-Token": "A" * 54})
    check(r.status == 403 and r.json["reason"] == "csrf", "forged CSRF -> 403 csrf")
    r = put_connection(other, did, {"connection": "wired"}, tok,
                       headers={"X-CSRF-Token": c.csrf})
    check(r.status == 403 and r.json["reason"] == "csrf", "another session's CSRF -> 403")
    saved = dict(c.cookies)
    c.cookies.clear()
    r = put_connection(c, did, {"connection": "wired"}, tok)
    check(r.status == 403 and r.json["reason"] == "csrf", "CSRF without cookie -> 403")
    c.cookies.update(saved)
    r = put_connection(c, did, {"connection": "wired"}, tok,
                       headers={"Origin": "http://evil.example"})
    check(r.status == 403 and r.json["reason"] == "origin", "cross origin -> 403 origin")
    r = put_connection(c, did, {"connection": "wired"}, tok,
                       headers={"Origin": None, "Sec-Fetch-Site": "cross-site"})
    check(r.status == 403 and r.json["reason"] == "origin", "cross-site -> 403 origin")
    check(c.get("/api/diagnoses/" + did).json["connection"] == "sim", "refused PUTs changed nothing")
    check(other.get("/api/diagnoses/" + did2).json["connection"] is None, "other untouched")
    # 404: no such diagnosis; 405 for any other method.
    r = put_connection(c, "0123456789abcdef0123456789abcdef", {"connection": "sim"}, tok)
    check(r.status == 404 and r.json["reason"] == "not-found", "unknown id -> 404")
    r = put_connection(c, "0123456789ABCDEF0123456789ABCDEF", {"connection": "sim"}, tok)
    check(r.status == 404, "malformed id -> 404")
    for m in ["GET", "POST", "DELETE"]:
        r = c.request(m, path)
        check(r.status == 405 and r.headers.get("Allow") == "PUT", "%s -> 405 Allow PUT" % m)
    # Deleted with the result.
    r = c.request("DELETE", "/api/diagnoses/" + did, headers={"Authorization": "Bearer " + tok})
    check(r.status == 204, "DELETE 204")
    r = put_connection(c, did, {"connection": "sim"}, tok)
    check(r.status == 404, "PUT after DELETE -> 404: %d" % r.status)
    other.wait_done(did2)


def t_one_at_a_time(srv):
    c = srv.client("127.0.2.1")
    r = c.post()
    check(r.status == 202, "first 202")
    did = r.json["id"]
    r = c.post()
    check(r.status == 429 and r.json["reason"] == "one-at-a-time", "second 429: %d" % r.status)
    check(int(r.headers["Retry-After"]) >= 1, "Retry-After")
    check(r.json["active"] == did, "names the running one")
    c.wait_done(did)


def t_rate(srv):
    c = srv.client("127.0.3.1")
    for i in range(2):  # --addr-burst 2
        r = c.post()
        check(r.status == 202, "burst %d: %d" % (i, r.status))
        c.wait_done(r.json["id"])
    r = c.post()
    check(r.status == 429 and r.json["reason"] == "rate", "per-address 429: %d" % r.status)
    check(int(r.headers["Retry-After"]) >= 30, "Retry-After %s" % r.headers["Retry-After"])
    # Another address in another /24 is not limited by it... but the same /24 shares a prefix
    # bucket: 127.0.4.0/24 allows --prefix-burst 4.
    ids = []
    for i in range(1, 5):
        r = srv.client("127.0.4.%d" % i).post()
        check(r.status == 202, "prefix burst %d: %d" % (i, r.status))
        ids.append((i, r.json["id"]))
    r = srv.client("127.0.4.5").post()
    check(r.status == 429 and r.json["reason"] == "rate", "per-prefix 429: %d" % r.status)
    for i, did in ids:
        srv.client("127.0.4.%d" % i).wait_done(did)


def t_proxy(srv, env):
    # Untrusted peer: a spoofed X-Forwarded-For is ignored.
    c = srv.client("127.0.6.3")
    r = c.whoami(headers={"X-Forwarded-For": "127.0.66.1"})
    check(r.json["address"] == "127.0.6.3" and not r.json["via_proxy"], "spoof ignored")
    # Trusted proxy: the right-most untrusted address.
    p = srv.client("127.0.6.2")
    r = p.whoami(headers={"X-Forwarded-For": "6.6.6.6, 127.0.66.1"})
    check(r.json["address"] == "127.0.66.1" and r.json["via_proxy"], "via proxy: %s" % r.json)
    check(r.json["probe_timeout_ms"] == 0, "no RTT deadline through a proxy")
    r = p.whoami(headers={"X-Forwarded-For": "127.0.66.1, 127.0.6.2"})
    check(r.json["address"] == "127.0.66.1", "trusted hops skipped")
    r = p.whoami(headers={"X-Forwarded-For": "1.2.3.4, unknown"})
    check(r.status == 400, "malformed forwarding 400")
    r = p.post(headers={"X-Forwarded-For": "8.8.8.8, 127.0.66.1"})
    check(r.status == 202, "POST via proxy 202: %d %s" % (r.status, r.raw))
    g = p.wait_done(r.json["id"]).json
    check(g["result"]["address"] == "127.0.66.1", "probed the forwarded requester")
    # Spoofing through an untrusted peer cannot name a target.
    r = c.post(headers={"X-Forwarded-For": "127.0.66.1"})
    check(r.status == 202, "untrusted POST 202")
    g = c.wait_done(r.json["id"]).json
    check(g["result"]["address"] == "127.0.6.3", "untrusted peer probed itself")


def t_metrics(srv):
    r = srv.client().get("/metrics")
    check(r.status == 200 and r.headers["Content-Type"].startswith("text/plain"), "metrics")
    m = {}
    for line in r.raw.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    check(m['exposure_http_responses_total{code="202"}'] >= 5, "202 counted")
    check(m['exposure_http_responses_total{code="429"}'] >= 3, "429 counted")
    check(m['exposure_http_responses_total{code="403"}'] >= 5, "403 counted")
    check(m['exposure_diagnoses_total{status="done"}'] >= 5, "done counted")
    check(m['exposure_probe_ports_total{state="open"}'] >= 5, "open ports counted")
    check(m['exposure_probe_ports_total{state="closed"}'] >= 20, "closed ports counted")
    check(m["exposure_diagnoses_in_flight"] == 0, "none in flight")
    check(m["exposure_queue_length"] == 0, "queue empty")
    check(m["exposure_diagnosis_seconds_count"] >= 5, "histogram count")
    check(m['exposure_diagnosis_seconds_bucket{le="+Inf"}'] ==
          m["exposure_diagnosis_seconds_count"], "histogram +Inf")


def t_queue(env, workdir):
    srv = Server(SERVE, port_args(env) + ["--max-inflight", "1", "--queue-max", "1"],
                 workdir=workdir)
    try:
        a, b, c = (srv.client("127.0.5.%d" % i) for i in (1, 2, 3))
        ra = a.post()
        check(ra.status == 202, "queue a 202")
        time.sleep(0.3)
        rb = b.post()
        check(rb.status == 202, "queue b 202: %d" % rb.status)
        check(b.get("/api/diagnoses/" + rb.json["id"]).json["status"] == "queued", "b queued")
        rc = c.post()
        check(rc.status == 429 and rc.json["reason"] == "busy", "queue full 429: %d" % rc.status)
        check(int(rc.headers["Retry-After"]) >= 1, "Retry-After")
        m = srv.client().get("/metrics").raw
        check("exposure_queue_length 1" in m and "exposure_diagnoses_in_flight 1" in m,
              "gauges while busy")
        check(a.wait_done(ra.json["id"]).json["status"] == "done", "a done")
        check(b.wait_done(rb.json["id"]).json["status"] == "done", "b done after a")
    finally:
        check(srv.stop() == 0, "clean stop")


def t_public(env, workdir):
    srv = Server(SERVE, port_args(env) + ["--public", "--allow", "127.0.9.0/24"], workdir=workdir)
    try:
        c = srv.client("127.0.0.1")
        w = c.whoami().json
        check(not w["may_diagnose"] and w["reason"] == "loopback", "public: loopback refused")
        check(len(w["message"]) > 20 and len(w["message_ja"]) > 20, "reason in words")
        r = c.post()
        check(r.status == 403 and r.json["reason"] == "loopback", "public POST 403")
        sec_headers(r, "403 policy")
        a = srv.client("127.0.9.1")
        check(a.whoami().json["may_diagnose"], "--allow lab range")
        r = a.post()
        check(r.status == 202, "allowed lab requester 202")
        a.wait_done(r.json["id"])
    finally:
        check(srv.stop() == 0, "clean stop")


def t_restart(env, workdir):
    db = os.path.join(workdir, "restart.db")
    srv = Server(SERVE, port_args(env), workdir=workdir, db=db)
    ids = []
    for i in range(1, 5):
        r = srv.client("127.0.7.%d" % i).post()
        check(r.status == 202, "restart 202")
        ids.append(r.json["id"])
    time.sleep(0.3)
    srv.stop(signal.SIGKILL)  # a real kill -9 during the diagnoses
    srv.start()
    try:
        c = srv.client("127.0.0.1")
        for did in ids:
            r = c.get("/api/diagnoses/" + did)
            check(r.status == 200, "answered 202, found after kill -9")
            check(r.json["status"] == "interrupted", "marked interrupted: %s" % r.json["status"])
        check("marked interrupted" in open(srv.log.name).read(), "start-up says so")
    finally:
        check(srv.stop() == 0, "clean stop")


def t_stored(env, workdir):
    # A finished diagnosis read back from the store after a restart: the same JSON as from
    # memory (the API serves the stored document's own bytes, docs/api.md).
    db = os.path.join(workdir, "stored.db")
    srv = Server(SERVE, port_args(env), workdir=workdir, db=db)
    try:
        c = srv.client("127.0.0.1")
        r = c.post()
        check(r.status == 202, "stored 202")
        did, tok = r.json["id"], r.json["delete_token"]
        mem = c.wait_done(did).json
        check(mem["status"] == "done", "stored: done")
        # The answer and the class come back from the store too.
        r = put_connection(c, did, {"connection": "usb-modem"}, tok)
        check(r.status == 204, "stored: PUT 204")
        mem = c.get("/api/diagnoses/" + did).json
        check(mem["connection"] == "usb-modem" and mem["device"] == "other",
              "stored: answer in memory, no User-Agent is other: %s" % mem)
        check(srv.stop() == 0, "clean stop")
        srv.start()
        r = srv.client("127.0.0.1").get("/api/diagnoses/" + did)
        check(r.status == 200 and r.json is not None, "stored: found after restart")
        got = r.json
        # finished_ms too: the runner reads the clock once for the store and for memory.
        check(got == mem, "stored: same JSON as from memory:\n%s\n%s" % (mem, got))
        check(got["checks"] == got["result"]["checks"] and
              got["checks_total"] == got["checks_done"] == len(CHECKS), "stored: the checks")
        ev = srv.client("127.0.0.1").events(did)
        check(ev == [("done", {"status": "done", "risk": mem["risk"]})], "stored: one done event")
    finally:
        check(srv.stop() == 0, "clean stop")


def t_retention(env, workdir):
    db = os.path.join(workdir, "retention.db")
    srv = Server(SERVE, port_args(env), workdir=workdir, db=db)
    c = srv.client("127.0.8.1")
    r = c.post()
    check(r.status == 202, "retention 202")
    did = r.json["id"]
    c.wait_done(did)
    check(srv.stop() == 0, "clean stop")
    # Still there after a restart with the default 30 days, read from the store.
    srv.args = port_args(env)
    srv.start()
    g = srv.client().get("/api/diagnoses/" + did)
    check(g.status == 200 and g.json["status"] == "done" and g.json["result"], "kept")
    check(srv.stop() == 0, "clean stop")
    srv.args = port_args(env) + ["--retention-days", "0", "--purge-interval", "1"]
    srv.start()
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if srv.client().get("/api/diagnoses/" + did).status == 404:
                break
            time.sleep(0.2)
        check(srv.client().get("/api/diagnoses/" + did).status == 404, "purged")
        check("exposure_purged_total 1" in srv.client().get("/metrics").raw, "purge counted")
    finally:
        check(srv.stop() == 0, "clean stop")


def t_admin_off(env, workdir):
    # No token anywhere: the route does not exist.
    srv = Server(SERVE, port_args(env), workdir=workdir, env={"EXPOSURE_ADMIN_TOKEN": None})
    try:
        c = srv.client()
        for path in ("/admin/stats", "/admin/stats.csv", "/admin/login", "/admin"):
            check(c.get(path).status == 404, "dashboard off: %s 404" % path)
        r = c.request("POST", "/admin/login", body=b"token=" + ADMIN_TOKEN.encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        check(r.status == 404, "login off")
    finally:
        check(srv.stop() == 0, "clean stop")
    # A token file readable by others is refused at start; so is a short token.
    tok = os.path.join(workdir, "token-open")
    with open(tok, "w") as f:
        f.write(ADMIN_TOKEN + "\n")
    os.chmod(tok, 0o644)
    p = subprocess.run(SERVE + ["--listen", "127.0.0.1:0", "--store",
                        os.path.join(workdir, "off.db"), "--key", os.path.join(workdir, "off.key"),
                        "--admin-token-file", tok], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and "chmod 600" in p.stderr, "0644 token file refused: %s"
          % p.stderr)
    os.chmod(tok, 0o600)
    with open(tok, "w") as f:
        f.write("short\n")
    p = subprocess.run(SERVE + ["--listen", "127.0.0.1:0", "--store",
                        os.path.join(workdir, "off.db"), "--key", os.path.join(workdir, "off.key"),
                        "--admin-token-file", tok], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and "printable" in p.stderr, "short token refused: %s" % p.stderr)


def t_options(workdir):
    # `exposure serve` refuses bad options before it starts anything: exit 2, one line.
    def run_serve(*args):
        return subprocess.run(SERVE + list(args) + ["--store", os.path.join(workdir, "o.db"),
                                                    "--key", os.path.join(workdir, "o.key")],
                              capture_output=True, text=True, timeout=30)
    p = subprocess.run(SERVE + ["--help"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and p.stdout.startswith("Usage: exposure serve") and not p.stderr,
          "--help: %r" % p.stderr)
    for args, want in [
            (["--threads", "0"], 'exposure serve: --threads wants a number in 1..64, not "0"\n'),
            (["--max-body", "12x"],
             'exposure serve: --max-body wants a number in 0..65536, not "12x"\n'),
            (["--addr-rate", "-1"],
             'exposure serve: --addr-rate wants a number in 0..100000000, not "-1"\n'),
            (["--listen", "127.0.0.1:65536"],
             "exposure serve: bad --listen 127.0.0.1:65536 (ADDR:PORT)\n"),
            (["--rtt-floor-ms", "6000"],
             "exposure serve: --rtt-floor-ms is above --rtt-ceiling-ms\n"),
            (["--proxy-header", "via"],
             "exposure serve: --proxy-header is x-forwarded-for or forwarded\n"),
            (["--trusted-proxy", "10.0.0.1/33"],
             'exposure serve: --trusted-proxy wants ADDR/PREFIX, not "10.0.0.1/33"\n'),
            (["--no-such-thing"], "exposure serve: unknown option '--no-such-thing' (try --help)\n"),
            (["extra"], 'exposure serve: unexpected argument "extra"\n')]:
        p = run_serve(*args)
        check(p.returncode == 2 and p.stderr == want and not p.stdout,
              "%s: %d %r" % (args, p.returncode, p.stderr))
    check(not os.path.exists(os.path.join(workdir, "o.db")), "nothing started")


def t_admin(env, workdir):
    if not GEN or not EXPOSURE:
        raise AssertionError("test_api.py needs the exposure and report-gen-store programs")
    db = os.path.join(workdir, "admin.db")
    # 3,000 results, 10 minutes apart from 2024-01-01: about three weeks.
    subprocess.run([GEN, db, "3000", "600000"], check=True, timeout=120)
    labels = os.path.join(workdir, "labels.csv")
    with open(labels, "w") as f:
        f.write("prefix,label\n198.18.0.0/16,benchnet\n198.18.0.0/20,mobile\n"
                "2001:db8::/32,v6\n")
    tok = os.path.join(workdir, "token")
    fd = os.open(tok, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, (ADMIN_TOKEN + "\n").encode())
    os.close(fd)
    srv = Server(SERVE, port_args(env) + ["--admin-token-file", tok, "--labels", labels,
                                        "--retention-days", "36500"], workdir=workdir, db=db,
                 env={"EXPOSURE_ADMIN_TOKEN": "env-token-is-not-used-1234"})
    bearer = {"Authorization": "Bearer " + ADMIN_TOKEN}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        c = srv.client()
        r = c.get("/admin/stats")
        check(r.status == 401 and 'name="token"' in r.raw and "<svg" not in r.raw,
              "no token: 401 with the login form")
        sec_headers(r, "admin 401")
        check(c.get("/admin/stats.csv").status == 401, "CSV without token 401")
        r = c.get("/admin/stats", headers={"Authorization": "Bearer " + ADMIN_TOKEN[:-1] + "x"})
        check(r.status == 401, "wrong bearer 401")
        r = c.get("/admin/stats", headers={"Authorization": "Bearer env-token-is-not-used-1234"})
        check(r.status == 401, "the file wins over the environment")
        r = c.get("/admin/stats?token=" + ADMIN_TOKEN)
        check(r.status == 401, "a token in the URL is not accepted")
        r = c.get("/admin/stats", headers=bearer)
        check(r.status == 200 and "<svg" in r.raw and 'class="bar"' in r.raw, "bearer: page")
        sec_headers(r, "admin page")
        check(r.headers["Cache-Control"] == "no-store", "admin page not cached")
        check(not re.search(r"<script", r.raw) and "style=" not in r.raw, "no script, no style")
        check("198.18." not in r.raw and "2001:db8" not in r.raw, "no prefix on the page")
        check('option value="mobile"' in r.raw, "label filter lists the labels")
        # Login form: wrong, cross-site, right.
        r = c.request("POST", "/admin/login", body=b"token=nope", headers=form)
        check(r.status == 401 and "Wrong operator token" in r.raw, "wrong login 401")
        r = c.request("POST", "/admin/login", body=("token=" + ADMIN_TOKEN).encode(),
                      headers=dict(form, Origin="http://evil.example"))
        check(r.status == 403 and "exposure_admin" not in c.cookies, "cross-site login 403")
        r = c.request("POST", "/admin/login", body=("token=" + ADMIN_TOKEN).encode(),
                      headers=dict(form, Origin="null", **{"Sec-Fetch-Site": "cross-site"}))
        check(r.status == 403, "cross-site login (Sec-Fetch-Site) 403")
        r = c.request("POST", "/admin/login", body=("token=" + ADMIN_TOKEN).encode(),
                      headers=dict(form, Origin="null"))
        check(r.status == 403, "Origin null without Sec-Fetch-Site 403")
        r = c.request("POST", "/admin/login", body=("token=" + ADMIN_TOKEN).encode(),
                      headers=dict(form, Origin="null", **{"Sec-Fetch-Site": "same-origin"}))
        check(r.status == 303, "browser form post (Origin null, same-origin) 303")
        r = c.request("POST", "/admin/login", body=("token=" + ADMIN_TOKEN).encode(),
                      headers=dict(form, Origin="http://127.0.0.1:%d" % srv.port))
        check(r.status == 303 and r.headers["Location"] == "/admin/stats", "login 303")
        sc = r.headers["Set-Cookie"]
        check("HttpOnly" in sc and "SameSite=Strict" in sc and "Path=/admin" in sc and
              "Secure" not in sc and ADMIN_TOKEN not in sc, "session cookie: %s" % sc)
        r = c.get("/admin/stats?since=2024-01-08&until=2024-01-14&label=mobile&trend=day")
        check(r.status == 200 and "<svg" in r.raw, "cookie: page with filters")
        m = re.search(r'href="(/admin/stats\.csv[^"]*)"', r.raw)
        check(m is not None, "CSV link")
        href = m.group(1).replace("&amp;", "&")
        check(href == "/admin/stats.csv?since=2024-01-08&until=2024-01-14&label=mobile"
              "&trend=day", "CSV link keeps the filters: %s" % href)
        got = c.get(href)
        check(got.status == 200 and got.headers["Content-Type"].startswith("text/csv"), "CSV")
        check("attachment" in got.headers["Content-Disposition"], "CSV is a download")
        want = subprocess.run([EXPOSURE, "report", "--db", db, "--format", "csv", "--labels",
                               labels, "--since", "2024-01-08", "--until", "2024-01-14",
                               "--label", "mobile", "--trend", "day"],
                              capture_output=True, timeout=60, check=True).stdout
        check(got.raw.encode() == want, "CSV = exposure report --format csv, filtered")
        got = c.get("/admin/stats.csv", headers=bearer)
        want = subprocess.run([EXPOSURE, "report", "--db", db, "--format", "csv", "--labels",
                               labels, "--trend", "week"],
                              capture_output=True, timeout=60, check=True).stdout
        check(got.raw.encode() == want and len(want) > 1000,
              "default CSV = exposure report --format csv --trend week")
        # Issue 10 §3: the answers and the device classes on the page; ?by= in the CSV link
        # and the CSV, as --by.
        r = c.get("/admin/stats?by=connection&trend=none")
        check(r.status == 200 and 'data-by="connection"' in r.raw and 'data-by="device"' in
              r.raw and 'data-by="claim"' in r.raw and "by-connection-title" in r.raw,
              "dashboard: by connection and device")
        href = re.search(r'href="(/admin/stats\.csv[^"]*)"', r.raw).group(1).replace("&amp;", "&")
        check(href == "/admin/stats.csv?trend=none&by=connection", "CSV link keeps by: " + href)
        got = c.get(href)
        want = subprocess.run([EXPOSURE, "report", "--db", db, "--format", "csv", "--labels",
                               labels, "--by", "connection"],
                              capture_output=True, timeout=60, check=True).stdout
        check(got.raw.encode() == want and b",connection,sim," in want,
              "CSV = exposure report --format csv --by connection")
        # Issue 10 §1: the families tested and the one-family-only doors, as --by family.
        r = c.get("/admin/stats?by=family&trend=none")
        check(r.status == 200 and 'data-by="family"' in r.raw and 'data-by="families"' in
              r.raw and "by-family-title" in r.raw and "tested on both, of all" in r.raw,
              "dashboard: by family")
        got = c.get("/admin/stats.csv?trend=none&by=family")
        want = subprocess.run([EXPOSURE, "report", "--db", db, "--format", "csv", "--labels",
                               labels, "--by", "family"],
                              capture_output=True, timeout=60, check=True).stdout
        check(got.raw.encode() == want and b",family,all,,,tested,both," in want and
              b",family,all,,,finding-of-both,ipv6-only-exposure," in want,
              "CSV = exposure report --format csv --by family")
        r = c.get("/admin/stats?by=phone")
        check(r.status == 400 and "by must be connection, device or family" in r.raw,
              "bad by 400")
        r = c.get("/admin/stats?since=yesterday")
        check(r.status == 400 and "malformed since" in r.raw, "bad date 400 in words")
        r = c.get("/admin/stats?label=%3Cscript%3E")
        check(r.status == 400 and "<script>" not in r.raw, "unknown label 400, escaped")
        # Logout clears the cookie.
        r = c.request("POST", "/admin/logout",
                      headers={"Origin": "http://127.0.0.1:%d" % srv.port})
        check(r.status == 303 and "Max-Age=0" in r.headers["Set-Cookie"], "logout")
        check(c.get("/admin/stats").status == 401, "logged out")
        # A CSRF token of the public page is not an admin session.
        c.whoami()
        c.cookies["exposure_admin"] = c.csrf
        check(c.get("/admin/stats").status == 401, "CSRF token is no session")
    finally:
        check(srv.stop() == 0, "clean stop")
    # The token from the environment when there is no file.
    srv = Server(SERVE, port_args(env) + ["--retention-days", "36500"], workdir=workdir, db=db,
                 env={"EXPOSURE_ADMIN_TOKEN": ADMIN_TOKEN})
    try:
        check(srv.client().get("/admin/stats.csv", headers=bearer).status == 200,
              "token from EXPOSURE_ADMIN_TOKEN")
    finally:
        check(srv.stop() == 0, "clean stop")


def run(name, fn, *args):
    t0 = time.monotonic()
    try:
        fn(*args)
        print("ok   %-16s %.1fs" % (name, time.monotonic() - t0), flush=True)
    except Exception:  # noqa: BLE001
        failures.append(name)
        print("FAIL %s" % name, flush=True)
        traceback.print_exc()


def main():
    env, listeners = setup()
    work = os.path.join(os.environ.get("MESON_BUILD_ROOT", "/tmp"), "web-api-test-%d" % os.getpid())
    os.makedirs(work, exist_ok=True)
    srv = Server(SERVE, port_args(env) + [
        "--addr-rate", "60", "--addr-burst", "2", "--prefix-rate", "60", "--prefix-burst", "4",
        "--trusted-proxy", "127.0.6.2", "--probe-source-label", "lab 127.0.0.1",
        "--max-body", "1024"], workdir=work)
    try:
        run("basics", t_basics, srv)
        run("csrf", t_csrf, srv)
        run("flow", t_flow, srv)
        run("connection", t_connection, srv)
        run("one-at-a-time", t_one_at_a_time, srv)
        run("rate", t_rate, srv)
        run("proxy", t_proxy, srv, env)
        run("metrics", t_metrics, srv)
    finally:
        rc = srv.stop()
        if rc != 0:
            failures.append("server exit %s" % rc)
            print(srv.log_text)
    run("queue", t_queue, env, work)
    run("public", t_public, env, work)
    run("restart", t_restart, env, work)
    run("stored", t_stored, env, work)
    run("retention", t_retention, env, work)
    run("admin-off", t_admin_off, env, work)
    run("options", t_options, work)
    run("admin", t_admin, env, work)
    for lst in listeners:
        lst.close()
    if failures:
        print("FAILED: %s (logs in %s)" % (", ".join(failures), work))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
