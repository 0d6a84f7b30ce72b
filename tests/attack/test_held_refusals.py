#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): requesters that must never be diagnosed in --public mode, through the API.
Named by a trusted proxy (X-Forwarded-For): private, CGNAT, link-local, loopback, the same
inside IPv4-mapped IPv6 (read as the IPv4 address), NAT64 and 6to4 forms of private and
global addresses, documentation, benchmarking, reserved, multicast, broadcast, unspecified.
And as real TCP peers on lo (198.18.0.0/15 and 2001:db8::/32 in this private namespace).
Each: whoami says may_diagnose false with the reason, a POST with a valid token gets 403 with
the same reason and both messages, and no diagnosis is created. The blocks added by issue 9
§4 (Teredo, ORCHIDv2, 3fff::/20, ...) are tested by test_addresses.py.
Usage: test_held_refusals.py PATH/TO/exposure"""
import json

from attack import (case, check, exposure, finish, free_ports, lab_server, lo_add, metrics,
                    raw, stop_clean)

EXE = exposure()
PROXY = "127.0.40.1"

# (forwarded address, the address the service reads, reason)
REFUSED = [
    ("10.1.2.3", "10.1.2.3", "private"), ("172.16.5.4", "172.16.5.4", "private"),
    ("172.31.255.254", "172.31.255.254", "private"), ("192.168.1.1", "192.168.1.1", "private"),
    ("fc00::1", "fc00::1", "private"), ("fd12:3456::1", "fd12:3456::1", "private"),
    ("100.64.0.1", "100.64.0.1", "cgnat"), ("100.127.255.254", "100.127.255.254", "cgnat"),
    ("169.254.1.1", "169.254.1.1", "link-local"), ("fe80::1", "fe80::1", "link-local"),
    ("127.0.0.1", "127.0.0.1", "loopback"), ("127.255.255.254", "127.255.255.254", "loopback"),
    ("::1", "::1", "loopback"),
    # IPv4-mapped IPv6: the IPv4 address inside, with its own reason.
    ("::ffff:10.1.2.3", "10.1.2.3", "private"), ("::ffff:100.64.0.1", "100.64.0.1", "cgnat"),
    ("::ffff:127.0.0.1", "127.0.0.1", "loopback"), ("[::ffff:192.168.0.1]:80", "192.168.0.1",
                                                    "private"),
    ("::ffff:169.254.0.9", "169.254.0.9", "link-local"),
    # NAT64 (64:ff9b::/96, 64:ff9b:1::/48) and 6to4 (2002::/16), of private and global IPv4.
    ("64:ff9b::a01:203", "64:ff9b::a01:203", "special"),
    ("64:ff9b::808:808", "64:ff9b::808:808", "special"),
    ("64:ff9b:1::a00:1", "64:ff9b:1::a00:1", "special"),
    ("2002:a01:203::1", "2002:a01:203::1", "special"),
    ("2002:808:808::1", "2002:808:808::1", "special"),
    # Documentation, benchmarking, reserved, IPv4-compatible.
    ("192.0.2.1", "192.0.2.1", "special"), ("198.51.100.1", "198.51.100.1", "special"),
    ("203.0.113.1", "203.0.113.1", "special"), ("2001:db8::1", "2001:db8::1", "special"),
    ("198.18.0.1", "198.18.0.1", "special"), ("198.19.255.254", "198.19.255.254", "special"),
    ("2001:2::1", "2001:2::1", "special"), ("192.0.0.1", "192.0.0.1", "special"),
    ("240.0.0.1", "240.0.0.1", "special"), ("fec0::1", "fec0::1", "special"),
    ("100::1", "100::1", "special"), ("::10.1.2.3", "::10.1.2.3", "special"),
    # Never a target at all.
    ("0.0.0.0", "0.0.0.0", "special"), ("0.1.2.3", "0.1.2.3", "special"),
    ("224.0.0.1", "224.0.0.1", "special"), ("239.255.255.250", "239.255.255.250", "special"),
    ("255.255.255.255", "255.255.255.255", "special"), ("ff02::1", "ff02::1", "special"),
    ("::", "::", "special"),
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
