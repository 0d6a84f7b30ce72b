# SPDX-License-Identifier: MIT
"""Issue 10 section 1: address tickets, in a private namespace (tests/isolated.sh). The service
listens on a main name, an IPv4-only name (198.18.0.1) and an IPv6-only name (2001:db8::1); the
visitor holds 198.18.0.10 and 2001:db8::10. A real two-family flow: tickets from each family
host, a POST with both on the main origin, both addresses diagnosed in one document, and a door
listening only on the IPv6 address reported as ipv6-only-exposure. Then the abuse: replay under
another CSRF session, expired, altered MAC, altered address, a v4 ticket presented as v6, a
third ticket, two of one family, a forged Origin on /api/ticket, a ticket for an address the
rules refuse: each refused with its reason; the rate buckets of a ticket's address. And no request makes the service probe an address
that did not connect to it (a listener on 198.18.0.99 / 2001:db8::99 on every check port
counts zero connections)."""
import base64
import json
import socket
import sqlite3
import subprocess
import threading
import time

from attack import (Client, Server, catalogue, check, exposure, finish, first_port, free_ports,
                    lab_ports, lo_add, port_args)

EXE = exposure()
V4_HOST, V6_HOST = "198.18.0.1", "2001:db8::1"
V4_VISITOR, V6_VISITOR = "198.18.0.10", "2001:db8::10"
V4_OTHER, V6_OTHER = "198.18.0.99", "2001:db8::99"
V4_OTHER_VISITOR = "198.18.0.20"
V6_REFUSED = "2001:db8:1::5"  # outside --allow 2001:db8::/64
V4_REFUSED_VISITOR = "198.18.5.10"  # outside --allow 198.18.0.0/24 (t_refused_requester)


class Door:
    """A listener on (addr, port) of either family that answers an SSH banner; counts accepts.
    Bounded: at most 64 connections served."""

    def __init__(self, addr, port, banner=b"SSH-2.0-OpenSSH_9.6\r\n"):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((addr, port))
        self.s.listen(64)
        self.s.settimeout(0.2)
        self.banner, self.accepted, self.stop = banner, 0, False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.accepted <= 64:
                try:
                    c.sendall(self.banner)
                    time.sleep(0.2)
                except OSError:
                    pass
            c.close()

    def close(self):
        self.stop = True
        self.s.close()
        self.t.join(2)


def reason(r):
    return r.json.get("reason") if r.json else None


def refused(r, status, why, what):
    ok = check(r.status == status and reason(r) == why,
               "%s: %d %s, got %d %r" % (what, status, why, r.status, r.raw[:160]))
    if ok and r.json:
        check(bool(r.json.get("message")) and bool(r.json.get("message_ja")),
              "%s: a message in English and Japanese" % what)


class Lab:
    def __init__(self, extra=(), allow=True):
        self.checks = catalogue(EXE)
        self.ports = lab_ports(self.checks, ("127.0.0.1", V4_VISITOR))
        self.pm, self.p4, self.p6 = free_ports(3, ("127.0.0.1", V4_HOST))
        self.origin = "http://%s:%d" % (V4_HOST, self.pm)
        self.srv = Server([EXE, "serve"], port_args(self.ports) + (
            ["--allow", "198.18.0.0/15"] if allow else []) + ["--allow", "2001:db8::/64",
            "--listen", "%s:%d" % (V4_HOST, self.pm),
            "--listen", "%s:%d" % (V4_HOST, self.p4),
            "--listen", "[%s]:%d" % (V6_HOST, self.p6),
            "--origin", self.origin,
            "--v4-host", "%s:%d" % (V4_HOST, self.p4),
            "--v6-host", "[%s]:%d" % (V6_HOST, self.p6)] + list(extra))
        self.wait_listening()

    def wait_listening(self):
        """Every listener accepts (bounded: 5 s), not only the first one the server names."""
        end = time.monotonic() + 5
        for addr, port in ((V4_HOST, self.pm), (V4_HOST, self.p4), (V6_HOST, self.p6)):
            while time.monotonic() < end:
                try:
                    socket.create_connection((addr, port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)

    def main(self, src=V4_VISITOR):
        """The visitor's page on the main origin."""
        return Client(V4_HOST, self.pm, src)

    def ticket(self, main, fam, src=None, origin=True, csrf=None):
        """GET /api/ticket on the family host fam (4 or 6) from src, as the main page asks it."""
        host, port = (V4_HOST, self.p4) if fam == 4 else (V6_HOST, self.p6)
        src = src or (V4_VISITOR if fam == 4 else V6_VISITOR)
        c = Client(host, port, src)
        h = {}
        if origin is True:
            h["Origin"] = self.origin
        elif origin:
            h["Origin"] = origin
        return c.request("GET", "/api/ticket?csrf=" + (csrf or main.csrf), headers=h,
                         cookies=False)

    def post(self, main, tickets):
        return main.post(headers={"Origin": self.origin},
                         body=json.dumps({"tickets": tickets}).encode())

    def stop(self):
        self.srv.stop()


def alter(ticket, index, xor=1):
    """The ticket with byte index of its payload changed."""
    raw = bytearray(base64.urlsafe_b64decode(ticket[3:] + "=" * (-len(ticket[3:]) % 4)))
    raw[index] ^= xor
    return ticket[:3] + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def t_flow(lab, doors):
    main = lab.main()
    who = main.whoami()
    check(who.status == 200 and who.json.get("may_diagnose"), "main whoami %d" % who.status)
    fh = who.json.get("family_hosts") if who.json else None
    check(fh == {"v4": "http://%s:%d" % (V4_HOST, lab.p4),
                 "v6": "http://[%s]:%d" % (V6_HOST, lab.p6)}, "whoami family_hosts %r" % fh)
    # The page may fetch its tickets from the family hosts, and from nowhere else.
    csp = who.headers.get("Content-Security-Policy") or ""
    connect = [d for d in csp.split(";") if d.strip().startswith("connect-src")]
    check(connect == [" connect-src 'self' %s %s" % (fh["v4"], fh["v6"])] if fh else False,
          "CSP connect-src names the family hosts: %r" % csp)
    t4, t6 = lab.ticket(main, 4), lab.ticket(main, 6)
    for fam, t, addr in ((4, t4, V4_VISITOR), (6, t6, V6_VISITOR)):
        check(t.status == 200, "ticket v%d: 200 (%d %r)" % (fam, t.status, t.raw[:120]))
        if t.status != 200:
            return None
        check(t.json["address"] == addr and t.json["family"] == fam,
              "ticket v%d names the address that connected: %r" % (fam, t.json))
        check(0 < t.json["expires_ms"] - time.time() * 1000 <= 120000, "ticket lives <= 120 s")
        check(t.headers.get("Access-Control-Allow-Origin") == lab.origin and
              t.headers.get("Access-Control-Allow-Credentials") == "true",
              "ticket v%d: CORS for the main origin with credentials" % fam)
    r = lab.post(main, [t4.json["ticket"], t6.json["ticket"]])
    check(r.status == 202, "POST with both tickets: 202 (%d %r)" % (r.status, r.raw[:200]))
    if r.status != 202:
        return None
    done = main.wait_done(r.json["id"])
    doc = done.json.get("result") or done.json
    targets = doc.get("targets") or []
    check(doc.get("schema") == 2, "schema 2")
    check([(t["address"], t["family"], t["proven"]) for t in targets] ==
          [(V4_VISITOR, 4, "peer"), (V6_VISITOR, 6, "ticket")],
          "both addresses diagnosed, the peer first: %r" % targets)
    rows = doc.get("checks") or []
    check(len(rows) == 2 * len(lab.checks), "every check once per address (%d rows)" % len(rows))
    ssh = {c["address"]: c["state"] for c in rows if c["check"] == "ssh"}
    check(ssh == {V4_VISITOR: "closed", V6_VISITOR: "open"}, "ssh per address: %r" % ssh)
    f = [x for x in doc.get("findings") or [] if x["id"] == "ipv6-only-exposure"]
    check(len(f) == 1 and f[0]["check"] == "ssh" and f[0]["address"] == V6_VISITOR,
          "ipv6-only-exposure on ssh at the IPv6 address: %r" % doc.get("findings"))
    check(not [x for x in doc.get("findings") or [] if x["id"] == "ipv4-only-exposure"],
          "no ipv4-only-exposure")
    return main, t4.json["ticket"], t6.json["ticket"], r.json["id"]


def t_store_families(lab, diag_id):
    """The stored row says both families were tested (46), and the report counts it so."""
    db = sqlite3.connect("file:%s?mode=ro" % lab.srv.db, uri=True)
    try:
        got = db.execute("SELECT family, families FROM diagnoses WHERE id = ?",
                         (diag_id,)).fetchall()
    finally:
        db.close()
    check(got == [(4, 46)], "stored: requester family 4, families 46: %r" % got)
    p = subprocess.run([EXE, "report", "--db", lab.srv.db, "--by", "family", "--min-group", "1",
                        "--format", "json"], capture_output=True, text=True, timeout=60)
    doc = json.loads(p.stdout) if p.returncode == 0 else {}
    fig = {(r["measure"], r["name"]): (r["count"], r["n"]) for r in doc.get("rows", [])
           if r["scope"] == "family" and r["group"] == "all"}
    check(doc.get("counted") == 1 and fig.get(("tested", "both")) == (1, 1) and
          fig.get(("finding-of-both", "ipv6-only-exposure")) == (1, 1) and
          fig.get(("finding-of-both", "ipv4-only-exposure")) == (0, 1),
          "report --by family: tested on both, ipv6-only-exposure (%d %r)" % (p.returncode, fig))


def t_abuse(lab, t6):
    main = lab.main()
    main.whoami()
    # Replay under another visitor's CSRF session: a ticket of the first page's session.
    refused(lab.post(main, [t6]), 403, "ticket-session", "replay under another CSRF session")
    fresh = lab.ticket(main, 6).json["ticket"]
    refused(lab.post(main, [alter(fresh, 60)]), 403, "ticket-mac", "altered MAC")
    refused(lab.post(main, [alter(fresh, 2 + 15)]), 403, "ticket-mac", "altered address")
    refused(lab.post(main, [alter(fresh, 18 + 6)]), 403, "ticket-mac", "altered expiry")
    t4 = lab.ticket(main, 4).json["ticket"]
    refused(lab.post(main, ["v6." + t4[3:]]), 400, "ticket-family", "v4 ticket presented as v6")
    refused(lab.post(main, [fresh, fresh, fresh]), 400, "tickets-too-many", "a third ticket")
    refused(lab.post(main, ["garbage"]), 400, "ticket-malformed", "garbage ticket")
    # The peer's own family twice: an IPv4 ticket of another address of the visitor.
    other = lab.ticket(main, 4, src=V4_OTHER_VISITOR).json["ticket"]
    refused(lab.post(main, [other]), 400, "ticket-family-twice", "peer's family twice")
    # A forged Origin on /api/ticket: no ticket, and nothing the forging page may read.
    r = lab.ticket(main, 6, origin="http://evil.example")
    refused(r, 403, "origin", "forged Origin on /api/ticket")
    check(r.headers.get("Access-Control-Allow-Origin") is None, "forged Origin: no CORS header")
    r = lab.ticket(main, 6, csrf="x" * 54)
    refused(r, 403, "csrf", "ticket without a valid session")
    # An address the rules refuse gets no ticket: the same rules as a requester, same reason.
    r = lab.ticket(main, 6, src=V6_REFUSED)
    refused(r, 403, "not-local", "ticket for an address the rules refuse")
    check(r.json is not None and r.json.get("address") == V6_REFUSED and
          r.headers.get("Access-Control-Allow-Origin") == lab.origin,
          "the refusal names the address and the main page may read it")
    return main


def t_expired():
    lab = Lab(["--ticket-ttl", "1"])
    try:
        main = lab.main()
        main.whoami()
        t = lab.ticket(main, 6)
        check(t.status == 200 and t.json["expires_ms"] - time.time() * 1000 <= 1000,
              "--ticket-ttl 1: a ticket of one second")
        time.sleep(1.3)
        refused(lab.post(main, [t.json["ticket"]]), 403, "ticket-expired", "expired ticket")
        # Another process's ticket (another key): not ours.
        return t.json["ticket"]
    finally:
        lab.stop()


def t_limits():
    """The rate buckets hold for every address of a diagnosis: with one diagnosis per address
    (--addr-burst 1), another visitor's page that brings the same IPv6 address's ticket is
    refused although its own IPv4 address still has its token."""
    lab = Lab(["--addr-burst", "1", "--addr-rate", "1"])
    try:
        a = lab.main()
        a.whoami()
        r = lab.post(a, [lab.ticket(a, 6).json["ticket"]])
        check(r.status == 202, "first diagnosis with the IPv6 ticket: 202 (%d)" % r.status)
        if r.status == 202:
            a.wait_done(r.json["id"])
        b = lab.main(src=V4_OTHER_VISITOR)
        b.whoami()
        r = lab.post(b, [lab.ticket(b, 6).json["ticket"]])
        check(r.status == 429 and reason(r) == "rate" and r.headers.get("Retry-After"),
              "the IPv6 address's bucket is empty: 429 rate (%d %r)" % (r.status, r.raw[:80]))
    finally:
        lab.stop()


def t_refused_requester():
    """A requester the rules refuse (here: outside --allow, as a carrier-grade NAT IPv4 address is
    under --public) with a ticket of its other family: that address alone is diagnosed. Without
    a ticket, or with one naming only itself, the refusal stands."""
    lab = Lab(["--allow", "198.18.0.0/24"], allow=False)
    try:
        main = lab.main(src=V4_REFUSED_VISITOR)
        who = main.whoami()
        check(who.status == 200 and who.json.get("may_diagnose") is False,
              "refused requester: may not diagnose itself (%r)" % who.json)
        refused(main.post(headers={"Origin": lab.origin}, body=b"{}"), 403, "not-local",
                "refused requester without a ticket")
        t4 = lab.ticket(main, 4, src=V4_REFUSED_VISITOR)
        check(t4.status == 403, "no ticket for the refused address itself (%d)" % t4.status)
        t6 = lab.ticket(main, 6)
        check(t6.status == 200, "ticket of the other family: 200 (%d)" % t6.status)
        if t6.status != 200:
            return
        r = lab.post(main, [t6.json["ticket"]])
        check(r.status == 202, "refused requester with a v6 ticket: 202 (%d %r)" %
              (r.status, r.raw[:200]))
        if r.status != 202:
            return
        doc = main.wait_done(r.json["id"]).json
        doc = doc.get("result") or doc
        check([(x["address"], x["family"], x["proven"]) for x in doc.get("targets", [])] ==
              [(V6_VISITOR, 6, "ticket")], "only the ticket's address: %r" % doc.get("targets"))
        check(all(c.get("address") == V6_VISITOR for c in doc.get("checks", [])),
              "every check row at the ticket's address")
        # One at a time still holds for the ticket's address (it is the visit's only one).
        r2 = lab.post(main, [lab.ticket(main, 6).json["ticket"]])
        check(r2.status in (202, 429), "a second visit: 202 after the first, or 429 (%d)" %
              r2.status)
    finally:
        lab.stop()


def t_only_connected(lab, others, foreign_ticket):
    """Everything that might name a target: body fields, query, forwarding header, a ticket of
    another process. Only the addresses that connected are ever probed."""
    main = lab.main()
    main.whoami()
    # Another process: another ticket key and another CSRF key, so another session too.
    r = lab.post(main, [foreign_ticket])
    check(r.status == 403 and reason(r) in ("ticket-mac", "ticket-session"),
          "another process's ticket: 403 (%d %r)" % (r.status, r.raw[:80]))
    for body in ({"target": V6_OTHER}, {"address": V4_OTHER}, {"targets": [V6_OTHER]},
                 {"tickets": []}):
        r = main.post(headers={"Origin": lab.origin}, body=json.dumps(body).encode())
        check(r.status == 202, "POST %r: 202 for the peer only (%d)" % (body, r.status))
        if r.status == 202:
            doc = main.wait_done(r.json["id"]).json
            doc = doc.get("result") or doc
            check([t["address"] for t in doc.get("targets", [])] == [V4_VISITOR],
                  "POST %r diagnoses the peer only" % body)
    c = lab.main()
    c.whoami()
    r = c.request("POST", "/api/diagnoses?target=" + V4_OTHER,
                  body=b"{}", headers={"X-CSRF-Token": c.csrf, "Origin": lab.origin,
                                       "Content-Type": "application/json",
                                       "X-Forwarded-For": V6_OTHER})
    if r.status == 202:
        doc = c.wait_done(r.json["id"]).json
        doc = doc.get("result") or doc
        check([t["address"] for t in doc.get("targets", [])] == [V4_VISITOR],
              "query and forwarding header name nothing")
    time.sleep(0.5)
    hits = sum(d.accepted for d in others)
    check(hits == 0, "no connection ever reached an address that did not connect (%d)" % hits)


def main():
    lo_add([V4_HOST, V6_HOST, V4_VISITOR, V6_VISITOR, V4_OTHER, V6_OTHER, V4_OTHER_VISITOR,
            V6_REFUSED, V4_REFUSED_VISITOR])
    lab = Lab()
    doors, others = [], []
    try:
        ssh = first_port(lab.ports["ssh"])
        doors.append(Door(V6_VISITOR, ssh))  # the door open on IPv6 only
        for c in lab.checks:
            for a in (V4_OTHER, V6_OTHER):
                others.append(Door(a, first_port(lab.ports[c["check"]])))
        got = t_flow(lab, doors)
        if got:
            t_store_families(lab, got[3])
            t_abuse(lab, got[2])
        foreign = t_expired()
        t_limits()
        t_refused_requester()
        t_only_connected(lab, others, foreign)
    finally:
        for d in doors + others:
            d.close()
        lab.stop()
    finish()


if __name__ == "__main__":
    main()
