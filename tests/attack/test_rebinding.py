# SPDX-License-Identifier: MIT
"""Issue 9 section 3: DNS rebinding in the default local mode. A page on any site that rebinds its
name to 127.0.0.1 sends the service its own name in Host and a matching Origin; the service must
answer 421 (Misdirected Request) to every such request before anything else: no CSRF token, no
diagnosis, no result, no page. Its own names (the listen address, localhost on loopback, the host
of --origin) keep working; GET /healthz answers any Host (docs/api.md, "Host names")."""
import socket

from attack import Server, check, exposure, finish

EXE = exposure()
EVIL = "rebind.attacker.example"


def foreign(cl):
    """Headers of the rebinding page: its own name as Host, its own origin."""
    name = "%s:%d" % (EVIL, cl.port)
    return {"Host": name, "Origin": "http://" + name, "Sec-Fetch-Site": "same-origin"}


def raw(port, data):
    """One raw request (for a request without Host); returns the status line."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(data)
        return s.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
    finally:
        s.close()


def refused(r, what):
    check(r.status == 421 and r.json is not None and r.json.get("reason") == "host",
          "%s: 421 host, got %d %r" % (what, r.status, r.raw[:80]))
    check(r.headers.get("Set-Cookie") is None, "%s: no cookie on a 421" % what)


def t_local(srv):
    good = srv.client()
    r = good.whoami()
    check(r.status == 200 and good.csrf, "own Host: whoami 200 (%d)" % r.status)
    r = good.post()
    check(r.status == 202, "own Host: POST 202 (%d)" % r.status)
    did = r.json["id"] if r.status == 202 else "0" * 22
    good.wait_done(did)

    evil = srv.client("127.0.0.2")
    refused(evil.whoami(headers=foreign(evil)), "rebinding whoami")
    # A token and cookie the page could not have had: the Host alone must refuse it.
    evil.cookies, evil.csrf = dict(good.cookies), good.csrf
    refused(evil.post(headers=foreign(evil)), "rebinding POST")
    refused(evil.get("/api/diagnoses/" + did, headers=foreign(evil)), "rebinding GET result")
    refused(evil.get("/api/diagnoses/%s/events" % did, headers=foreign(evil)), "rebinding SSE")
    refused(evil.get("/", headers=foreign(evil)), "rebinding page")
    refused(evil.get("/d/" + did, headers=foreign(evil)), "rebinding result page")
    refused(evil.get("/app.js", headers=foreign(evil)), "rebinding asset")
    refused(evil.get("/api/advice", headers=foreign(evil)), "rebinding advice")
    refused(evil.get("/metrics", headers=foreign(evil)), "rebinding metrics")
    refused(evil.get("/admin/stats", headers=foreign(evil)), "rebinding admin")
    refused(evil.request("DELETE", "/api/diagnoses/" + did, headers=foreign(evil)),
            "rebinding DELETE")
    # Before anything else: a body over the limit is still a 421, not a 413.
    refused(evil.request("POST", "/api/diagnoses", body=b"x" * 4096, headers=foreign(evil)),
            "rebinding oversized POST")
    # The same name without a port, with the service's port, and the attacker's IP-looking name.
    for host in (EVIL, "127.0.0.1.nip.example:%d" % srv.port, "127.0.0.1:%d" % (srv.port + 1),
                 "[::1]:%d" % srv.port, "localhost.:%d" % srv.port):
        refused(evil.whoami(headers={"Host": host}), "Host %s" % host)
    check(raw(srv.port, b"GET /api/whoami HTTP/1.0\r\n\r\n").split(" ")[1:2] == ["421"],
          "no Host at all: 421")

    # The result the page wanted is still there for its owner.
    r = good.get("/api/diagnoses/" + did)
    check(r.status == 200 and r.json["status"] == "done", "own Host: result 200")
    for host in ("127.0.0.1:%d" % srv.port, "localhost:%d" % srv.port,
                 "LOCALHOST:%d" % srv.port):
        r = good.whoami(headers={"Host": host})
        check(r.status == 200, "Host %s: 200 (%d)" % (host, r.status))
    r = good.get("/")
    check(r.status == 200 and "<html" in r.raw.lower(), "own Host: page 200")
    # /healthz answers any Host: load balancers name backends as they like.
    r = evil.get("/healthz", headers={"Host": "backend.internal.example"})
    check(r.status == 200 and r.json["status"] == "ok", "healthz with any Host: 200")
    check(raw(srv.port, b"GET /healthz HTTP/1.0\r\n\r\n").split(" ")[1:2] == ["200"],
          "healthz without Host: 200")
    m = good.get("/metrics").raw
    check('exposure_http_responses_total{code="421"}' in m, "421 counted in /metrics")


def t_origin(srv):
    cl = srv.client()
    r = cl.whoami(headers={"Host": "exposure.example"})
    check(r.status == 200, "--origin host: whoami 200 (%d)" % r.status)
    r = cl.post(headers={"Host": "exposure.example", "Origin": "https://exposure.example"})
    check(r.status == 202, "--origin host: POST 202 (%d %s)" % (r.status, r.raw[:80]))
    r = cl.whoami(headers={"Host": "exposure.example:443"})
    check(r.status == 200, "--origin host:443: 200 (%d)" % r.status)
    r = cl.whoami(headers={"Host": "127.0.0.1:%d" % srv.port})
    check(r.status == 200, "listen address with --origin: 200 (%d)" % r.status)
    refused(cl.whoami(headers=foreign(cl)), "--origin set, rebinding whoami")
    refused(cl.whoami(headers={"Host": "exposure.example:8080"}), "--origin host, other port")


srv = Server([EXE, "serve"], [])
try:
    t_local(srv)
finally:
    srv.stop()
srv = Server([EXE, "serve"], ["--origin", "https://exposure.example"])
try:
    t_origin(srv)
finally:
    srv.stop()
finish()
