#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): requesters that must never be diagnosed in --public mode, through the API, in
the forms test_addresses.py (one address of every special-purpose block, named by a trusted
proxy) does not use. IPv4-mapped IPv6 forms of private, CGNAT, loopback and link-local IPv4
(upper case, written out in hex, in brackets with a port): read as the IPv4 address inside,
refused with its own reason. And real TCP peers on lo from refused blocks (198.18.0.0/15,
2001:db8::/32, in this private namespace), with and without a forged X-Forwarded-For. Each:
whoami says may_diagnose false with the reason and shows the address read, a POST with a valid
token gets 403 with the same reason, the address and both messages, and no diagnosis is
created. Usage: test_held_refusals.py PATH/TO/exposure"""
import json

from attack import (case, check, exposure, finish, free_ports, lab_server, lo_add, metrics,
                    raw, stop_clean)

EXE = exposure()
PROXY = "127.0.40.1"

# (forwarded address, the address the service reads, reason)
REFUSED = [
    ("::ffff:10.1.2.3", "10.1.2.3", "private"), ("::FFFF:172.16.0.1", "172.16.0.1", "private"),
    ("[::ffff:192.168.0.1]:80", "192.168.0.1", "private"),
    ("0:0:0:0:0:ffff:a01:203", "10.1.2.3", "private"),
    ("::ffff:100.64.0.1", "100.64.0.1", "cgnat"), ("::ffff:7f00:1", "127.0.0.1", "loopback"),
    ("::ffff:127.1.2.3", "127.1.2.3", "loopback"),
    ("::ffff:169.254.0.9", "169.254.0.9", "link-local"),
    ("203.0.113.9, ::ffff:10.9.9.9", "10.9.9.9", "private"),
]


def api(port, method, path, headers, src, host="127.0.0.1", body=b""):
    """One request on a raw socket; (status, JSON or None, Set-Cookie values)."""
    hh = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    req = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, path, hh)
    for k, v in headers.items():
        req += "%s: %s\r\n" % (k, v)
    if method == "POST":
        req += "Content-Length: %d\r\n" % len(body)
    st, got = raw(port, req.encode() + b"\r\n" + body, src=src, host=host, timeout=10)
    head, _, data = got.partition(b"\r\n\r\n")
    cookies = [ln.split(b":", 1)[1].strip().split(b";")[0].decode()
               for ln in head.split(b"\r\n") if ln.lower().startswith(b"set-cookie:")]
    try:
        return st, json.loads(data), cookies
    except ValueError:
        return st, None, cookies


def refused(port, fwd, addr, reason, src, host="127.0.0.1", what=None):
    what = what or "%s (from %s)" % (fwd, src)
    hh = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    hdr = {"X-Forwarded-For": fwd} if fwd else {}
    st, w, cookies = api(port, "GET", "/api/whoami", hdr, src, host)
    if not check(st == 200 and w, "%s: whoami %s" % (what, st)):
        return
    check(w["address"] == addr and w["may_diagnose"] is False and w["reason"] == reason,
          "%s: whoami %s may_diagnose=%s reason=%s, want %s refused %s"
          % (what, w["address"], w["may_diagnose"], w["reason"], addr, reason))
    post = dict(hdr, **{"X-CSRF-Token": w["csrf_token"], "Cookie": "; ".join(cookies),
                        "Origin": "http://" + hh, "Sec-Fetch-Site": "same-origin",
                        "Content-Type": "application/json"})
    st, r, _ = api(port, "POST", "/api/diagnoses", post, src, host, b"{}")
    check(st == 403 and r and r["reason"] == reason and r["address"] == addr and
          len(r["message"]) > 20 and len(r["message_ja"]) > 10 and "id" not in r,
          "%s: POST %s %s, want 403 %s" % (what, st, r, reason))


def t_forwarded(srv):
    for i, (fwd, addr, reason) in enumerate(REFUSED):
        refused(srv.port, fwd, addr, reason, PROXY)


def t_peers(srv, v6port):
    # Real TCP peers from refused blocks: benchmarking and documentation, on lo.
    v4 = ["198.18.44.%d" % i for i in (1, 2)]
    v6 = ["2001:db8:44::%d" % i for i in (1, 2)]
    lo_add(v4 + v6)
    for a in v4:
        refused(srv.port, None, a, "special", a, what="peer " + a)
        # A forged header from such a peer changes nothing.
        refused(srv.port, "203.0.113.9", a, "special", a, what="peer %s + forged XFF" % a)
    for a in v6:
        refused(v6port, None, a, "special", a, host="::1", what="peer " + a)


def main():
    v6port = free_ports(1)[0]
    srv, _ = lab_server(EXE, ["--public", "--trusted-proxy", PROXY,
                              "--listen", "[::1]:%d" % v6port])
    try:
        created = metrics(srv).get('exposure_diagnoses_total{status="created"}', 0)
        case("forwarded refusals", t_forwarded, srv)
        case("peer refusals", t_peers, srv, v6port)
        m = metrics(srv)
        check(m.get('exposure_diagnoses_total{status="created"}', 0) == created,
              "no diagnosis created")
        check(m.get('exposure_refusals_total{reason="policy"}', 0) >= len(REFUSED),
              "refusals counted: %s" % m.get('exposure_refusals_total{reason="policy"}'))
    finally:
        stop_clean(srv, "refusals")
    finish()


if __name__ == "__main__":
    main()
