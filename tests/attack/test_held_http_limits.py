#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): oversize and malformed HTTP on raw sockets. Headers beyond --conn-memory,
a request line beyond it, thousands of headers, bad and conflicting Content-Length, chunked
abuse (bad sizes, a size beyond 64 bits, a body beyond --max-body in chunks, a huge chunk
extension, thousands of trailers), unknown or mangled methods, foreign HTTP versions, binary
garbage: each is refused with a 4xx/5xx (or the connection is closed) and never reaches a
handler as a diagnosis; the service answers /healthz at once after each and exits cleanly
(no sanitizer report). The 413 of an over-long JSON body and the 400 of a non-JSON one are
tested in tests/unit/web/test_api.py. Usage: test_held_http_limits.py PATH/TO/exposure"""
from attack import (case, check, exposure, finish, healthy, lab_server, metrics, raw,
                    stop_clean)

EXE = exposure()


def host(srv):
    return b"Host: 127.0.0.1:%d\r\n" % srv.port


def post(srv, extra, body=b""):
    return b"POST /api/diagnoses HTTP/1.1\r\n" + host(srv) + extra + b"\r\n" + body


def get(srv, extra=b"", path=b"/healthz"):
    return b"GET " + path + b" HTTP/1.1\r\n" + host(srv) + extra + b"\r\n"


def refused(st, want, what):
    """st is one of want (None: the connection closed without an answer)."""
    return check(st in want, "%s: got %s, want one of %s" % (what, st, sorted(want, key=str)))


def t_oversize(srv):
    # --conn-memory 16384 bounds the request line and the headers together.
    cases = [
        ("one 20 KiB header", get(srv, b"X-A: " + b"a" * 20000 + b"\r\n"), {431}),
        ("2,000 headers", get(srv, b"".join(b"X-%d: v\r\n" % i for i in range(2000))), {431}),
        ("20 KiB URL", get(srv, path=b"/" + b"a" * 20000), {414, 431}),
        ("1 MiB header line", get(srv, b"X-A: " + b"a" * (1 << 20) + b"\r\n"), {431, None}),
        ("5 KiB method", b"A" * 5000 + b" /healthz HTTP/1.1\r\n" + host(srv) + b"\r\n",
         {405, 414, 431}),
    ]
    for i, (what, data, want) in enumerate(cases):
        st, _ = raw(srv.port, data, src="127.0.20.%d" % (i + 1), timeout=5)
        refused(st, want, what)
        healthy(srv, what)


def t_content_length(srv):
    cases = [
        ("Content-Length -1", b"Content-Length: -1\r\n", b"{}", {400}),
        ("Content-Length abc", b"Content-Length: abc\r\n", b"{}", {400}),
        ("Content-Length +2", b"Content-Length: +2\r\n", b"{}", {400}),
        ("Content-Length 0x2", b"Content-Length: 0x2\r\n", b"{}", {400}),
        ("Content-Length 10^23", b"Content-Length: 99999999999999999999999\r\n", b"{}",
         {400, 413}),
        ("Content-Length above --max-body", b"Content-Length: 1025\r\n", b"", {413}),
        ("Content-Length 2^64", b"Content-Length: 18446744073709551616\r\n", b"{}", {400, 413}),
        # Two ways of telling the length: the material of request smuggling, refused.
        ("two Content-Length", b"Content-Length: 100\r\nContent-Length: 2\r\n", b"{}", {400}),
        ("two equal Content-Length", b"Content-Length: 2\r\nContent-Length: 2\r\n", b"{}",
         {400}),
        ("Content-Length beside chunked",
         b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", b"2\r\n{}\r\n0\r\n\r\n",
         {400}),
    ]
    for i, (what, hdr, body, want) in enumerate(cases):
        st, got = raw(srv.port, post(srv, hdr, body), src="127.0.21.%d" % (i + 1), timeout=5)
        refused(st, want, what)
        check(b'"id"' not in got, what + ": no diagnosis")
    # A declared body that never comes: no answer, no diagnosis, the connection is closed.
    st, _ = raw(srv.port, post(srv, b"Content-Length: 100\r\n", b"{}"), src="127.0.21.100",
                timeout=3, half_close=True)
    check(st is None, "short body: no answer (%s)" % st)
    healthy(srv, "bad Content-Length")


def t_chunked(srv):
    te = b"Transfer-Encoding: chunked\r\n"
    cases = [
        ("8 KiB in 1 KiB chunks (--max-body 1024)", te,
         b"".join(b"400\r\n" + b"x" * 1024 + b"\r\n" for _ in range(8)) + b"0\r\n\r\n", {413}),
        ("chunk size not hex", te, b"zz\r\n{}\r\n0\r\n\r\n", {400}),
        ("chunk size beyond 64 bits", te, b"ffffffffffffffffff\r\n{}\r\n0\r\n\r\n", {400, 413}),
        ("chunk size negative", te, b"-2\r\n{}\r\n0\r\n\r\n", {400}),
        ("20 KiB chunk extension", te, b"2;" + b"e" * 20000 + b"\r\n{}\r\n0\r\n\r\n",
         {400, 413, 431, 500}),
        ("3,000 trailers", te,
         b"2\r\n{}\r\n0\r\n" + b"".join(b"T%d: x\r\n" % i for i in range(3000)) + b"\r\n",
         {400, 413, 431}),
    ]
    for i, (what, hdr, body, want) in enumerate(cases):
        st, got = raw(srv.port, post(srv, hdr, body), src="127.0.22.%d" % (i + 1), timeout=5)
        refused(st, want, what)
        check(b'"id"' not in got, what + ": no diagnosis")
    # An unknown transfer coding: never read as a body.
    st, got = raw(srv.port, post(srv, b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n"),
                  src="127.0.22.100", timeout=3, half_close=True)
    check(st is None or st >= 400, "gzip, chunked: %s" % st)
    healthy(srv, "chunked abuse")


def t_methods(srv):
    # Every method but the routes' own answers 405 with Allow; nothing is echoed (TRACE).
    for i, m in enumerate([b"get", b"BREW", b"TRACE", b"CONNECT", b"OPTIONS", b"PATCH",
                           b"GE\x00T", b"PROPFIND"]):
        path = b"127.0.0.1:22" if m == b"CONNECT" else b"/healthz"
        st, got = raw(srv.port, get(srv, b"X-Secret: s3cr3t\r\n", path=path).replace(
            b"GET", m, 1), src="127.0.23.%d" % (i + 1))
        check(st == 405 and b"\r\nAllow: " in got, "%r: 405 with Allow, got %s" % (m, st))
        check(b"s3cr3t" not in got, "%r: the request is not echoed" % m)
    st, got = raw(srv.port, get(srv, path=b"/api/diagnoses").replace(b"GET", b"DELETE", 1),
                  src="127.0.23.50")
    check(st == 405, "DELETE on the collection: %s" % st)
    # No cross-origin read is ever granted, preflight or not.
    st, got = raw(srv.port, get(srv, b"Origin: http://evil.example\r\n"
                                b"Access-Control-Request-Method: POST\r\n",
                                path=b"/api/diagnoses").replace(b"GET", b"OPTIONS", 1),
                  src="127.0.23.51")
    check(st == 405 and b"access-control-allow" not in got.lower(), "preflight: no CORS")


def t_malformed(srv):
    cases = [
        ("HTTP/0.9 request line", b"GET /healthz\r\n\r\n", {400}),
        ("HTTP/2.0 on HTTP/1", get(srv).replace(b"HTTP/1.1", b"HTTP/2.0", 1), {505}),
        ("version HTTP/1.x", get(srv).replace(b"HTTP/1.1", b"HTTP/1.x", 1), {400}),
        ("header without a colon", get(srv, b"Junk\r\n"), {400}),
        ("8 KiB of binary garbage", bytes(range(256)) * 32, {400}),
        # libmicrohttpd waits for more (the connection dies at --conn-timeout): no answer
        ("NUL as request line", b"\x00" * 100 + b"\r\n\r\n", {400, None}),
    ]
    for i, (what, data, want) in enumerate(cases):
        st, _ = raw(srv.port, data, src="127.0.24.%d" % (i + 1), timeout=2)
        refused(st, want, what)
    # 50 pipelined requests on one connection: 50 answers, in order.
    st, got = raw(srv.port, get(srv) * 50, src="127.0.24.100", timeout=10,
                  until=lambda b: b.count(b"HTTP/1.1 200 ") >= 50 and b.endswith(b"}"))
    check(st == 200 and got.count(b"HTTP/1.1 200 ") == 50,
          "50 pipelined requests, 50 answers (%d)" % got.count(b"HTTP/1.1 200 "))
    healthy(srv, "malformed")


def main():
    srv, _ = lab_server(EXE, ["--max-body", "1024", "--conn-memory", "16384"])
    try:
        before = metrics(srv).get('exposure_diagnoses_total{status="created"}', 0)
        case("oversize", t_oversize, srv)
        case("content-length", t_content_length, srv)
        case("chunked", t_chunked, srv)
        case("methods", t_methods, srv)
        case("malformed", t_malformed, srv)
        after = metrics(srv).get('exposure_diagnoses_total{status="created"}', 0)
        check(after == before, "no diagnosis was created (%s -> %s)" % (before, after))
    finally:
        stop_clean(srv, "http limits")
    finish()


if __name__ == "__main__":
    main()
