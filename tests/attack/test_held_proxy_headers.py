#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): the forms of the forwarding headers. From a --trusted-proxy peer, every
occurrence of the operator's header is joined and read from the right, skipping trusted hops
(a CIDR of them): addresses with and without ports, IPv6 bare and in brackets, IPv4-mapped,
upper case, spaces, empty elements, several header lines, client-written garbage on the left;
RFC 7239 Forwarded with for= anywhere in an element, quoted, any case. What should be the
requester and is not an address is a 400; the header the operator did not choose is ignored;
from an untrusted peer both are ignored. The basics (a spoof from an untrusted peer, one
trusted hop, "unknown", a POST through the proxy) are in tests/unit/web/test_api.py.
Usage: test_held_proxy_headers.py PATH/TO/exposure"""
import json

from attack import case, check, exposure, finish, lab_server, raw, stop_clean

EXE = exposure()
PROXY = "127.0.40.1"       # the --trusted-proxy in front
INNER = "127.0.41.0/24"    # more trusted proxies: hops to skip
UNTRUSTED = "127.0.42.1"   # a visitor that forges headers


def whoami(srv, headers, src=PROXY):
    """whoami with header lines as given (a list of (name, value): several lines allowed)."""
    req = b"GET /api/whoami HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % srv.port
    for k, v in headers:
        req += k.encode() + b": " + v.encode("latin-1") + b"\r\n"
    st, got = raw(srv.port, req + b"\r\n", src=src, timeout=10)
    body = got.partition(b"\r\n\r\n")[2]
    try:
        return st, json.loads(body)
    except ValueError:
        return st, None


def expect(srv, headers, want, via=True, src=PROXY):
    st, w = whoami(srv, headers, src)
    what = "%s from %s" % (headers, src)
    if check(st == 200 and w is not None, "%s: %s" % (what, st)):
        check(w["address"] == want and w["via_proxy"] == via,
              "%s: %s via_proxy=%s, want %s via_proxy=%s"
              % (what, w["address"], w["via_proxy"], want, via))


def refused(srv, headers, src=PROXY):
    st, w = whoami(srv, headers, src)
    check(st == 400 and w and w["reason"] == "forwarded", "%s: %s, want 400 forwarded"
          % (headers, st))


def t_xff(srv):
    X = "X-Forwarded-For"
    expect(srv, [(X, "203.0.113.9")], "203.0.113.9")
    expect(srv, [(X, "   203.0.113.9  ")], "203.0.113.9")
    expect(srv, [(X, "1.1.1.1,203.0.113.9")], "203.0.113.9")
    expect(srv, [(X, "1.1.1.1"), (X, "203.0.113.9")], "203.0.113.9")  # two lines, joined
    expect(srv, [("x-forwarded-for", "203.0.113.9")], "203.0.113.9")
    expect(srv, [(X, "203.0.113.9:4711")], "203.0.113.9")
    expect(srv, [(X, "2001:db8::9")], "2001:db8::9")
    expect(srv, [(X, "2001:DB8:0:0::9")], "2001:db8::9")
    expect(srv, [(X, "[2001:db8::9]")], "2001:db8::9")
    expect(srv, [(X, "[2001:db8::9]:4711")], "2001:db8::9")
    expect(srv, [(X, "::ffff:203.0.113.9")], "203.0.113.9")
    expect(srv, [(X, ",, 203.0.113.9 ,,")], "203.0.113.9")
    expect(srv, [(X, "garbage, _hidden, unknown, 203.0.113.9")], "203.0.113.9")
    # Trusted hops are skipped, the first other one asked; all trusted: the left-most.
    expect(srv, [(X, "203.0.113.9, 127.0.41.5, 127.0.41.6")], "203.0.113.9")
    expect(srv, [(X, "203.0.113.9"), (X, "127.0.41.5")], "203.0.113.9")
    expect(srv, [(X, "127.0.41.5, 127.0.41.6")], "127.0.41.5")
    # The Forwarded header is not the operator's choice here: ignored, the proxy asked.
    expect(srv, [("Forwarded", "for=203.0.113.77")], PROXY, via=False)
    # What should be the requester and is not an address.
    for bad in ["_hidden", "203.0.113.9, garbage", "300.1.2.3", "01.2.3.4", "1.2.3",
                "[2001:db8::9", "2001:db8::9::1", "203.0.113.9:80:80", "\"203.0.113.9\"x",
                "1.2.3.4/24", "0x7f.0.0.1"]:
        refused(srv, [(X, bad)])
    refused(srv, [(X, "203.0.113.9, " * 200 + "203.0.113.9")])  # beyond 2 KiB joined


def t_untrusted(srv):
    # A visitor that is not a trusted proxy: every forwarding header is ignored, garbage too.
    for h in [[("X-Forwarded-For", "203.0.113.9")], [("Forwarded", "for=203.0.113.9")],
              [("X-Forwarded-For", "unknown")], [("X-Forwarded-For", "x" * 3000)],
              [("X-Real-IP", "203.0.113.9")], [("True-Client-IP", "203.0.113.9")],
              [("X-Forwarded-For", PROXY)]]:
        expect(srv, h, UNTRUSTED, via=False, src=UNTRUSTED)


def t_forwarded(srv):
    F = "Forwarded"
    expect(srv, [(F, "for=203.0.113.9")], "203.0.113.9")
    expect(srv, [(F, "For=203.0.113.9;proto=https;by=127.0.40.1")], "203.0.113.9")
    expect(srv, [(F, "proto=https; for=203.0.113.9")], "203.0.113.9")
    expect(srv, [(F, 'for="203.0.113.9"')], "203.0.113.9")
    expect(srv, [(F, 'for="[2001:db8::9]:4711"')], "2001:db8::9")
    expect(srv, [(F, "for=1.1.1.1, for=203.0.113.9")], "203.0.113.9")
    expect(srv, [(F, "for=1.1.1.1"), (F, "for=203.0.113.9")], "203.0.113.9")
    expect(srv, [(F, "for=203.0.113.9, for=127.0.41.5;proto=http")], "203.0.113.9")
    expect(srv, [("X-Forwarded-For", "203.0.113.77")], PROXY, via=False)
    for bad in ["for=unknown", "for=_hidden", "proto=https", "by=203.0.113.9", "for=",
                'for="[2001:db8::9"', "203.0.113.9"]:
        refused(srv, [(F, bad)])


def main():
    common = ["--trusted-proxy", PROXY + "/32", "--trusted-proxy", INNER]
    srv, _ = lab_server(EXE, common)
    try:
        case("x-forwarded-for", t_xff, srv)
        case("untrusted peer", t_untrusted, srv)
    finally:
        stop_clean(srv, "x-forwarded-for")
    srv, _ = lab_server(EXE, common + ["--proxy-header", "forwarded"])
    try:
        case("forwarded", t_forwarded, srv)
        case("untrusted peer (forwarded)", t_untrusted, srv)
    finally:
        stop_clean(srv, "forwarded")
    finish()


if __name__ == "__main__":
    main()
