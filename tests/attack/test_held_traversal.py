#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): path traversal on the page and its assets. The files are embedded in the
binary and looked up by exact name, so no path reaches the file system: every dot-dot form
(plain, %2e, %2f, backslash, overlong UTF-8), doubled slashes, suffixes after the name and
malformed escapes answer 404 (400 for an escape libmicrohttpd cannot decode), and no answer
holds a line of /etc/passwd. An encoded NUL ends the name where libmicrohttpd decodes it
("/app.js%00.html" is "/app.js"): it can only ever name an embedded asset, which it serves
with that asset's own type. Usage: test_held_traversal.py PATH/TO/exposure"""
from attack import case, check, exposure, finish, healthy, lab_server, raw, stop_clean

EXE = exposure()

TRAVERSAL = [
    b"/../../../../etc/passwd", b"/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    b"/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", b"/..%2f..%2fetc%2fpasswd", b"/..%2fapp.js",
    b"/d/../app.js", b"/d/%2e%2e/%2e%2e/etc/passwd", b"/..\\..\\etc\\passwd",
    b"/%5c..%5c..%5cetc/passwd", b"/%c0%ae%c0%ae/etc/passwd", b"/%252e%252e/etc/passwd",
    b"//etc/passwd", b"//app.js", b"///app.js", b"/./app.js", b"/app.js/", b"/app.js/..",
    b"/index.html/../../etc/passwd", b"/app.js;.html", b"/APP.JS", b"/app.js.map",
    b"/api/diagnoses/..%2f..%2fhealthz", b"/api/diagnoses/../../healthz",
    b"/d/" + b"0" * 32 + b"/", b"/d/" + b"0" * 32 + b"/../../etc/passwd",
    b"/d/" + b"0" * 31 + b"g", b"/d/" + b"0" * 33, b"/admin/../etc/passwd",
    b"/%", b"/%zz", b"/%2",
]


def t_traversal(srv):
    for i, p in enumerate(TRAVERSAL):
        st, got = raw(srv.port, b"GET " + p + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                      % srv.port, src="127.0.30.%d" % (i + 1), timeout=5)
        check(st in (400, 404), "%r: %s, want 404 (or 400)" % (p, st))
        check(b"root:" not in got and b"/bin/" not in got, "%r: no file content" % p)


def t_encoded_nul(srv):
    js = srv.client().get("/app.js")
    page = srv.client().get("/")
    check(js.status == 200 and page.status == 200, "the assets are there")
    for i, (p, want) in enumerate([(b"/app.js%00", js), (b"/app.js%00.html", js),
                                   (b"/app.js%00/../../etc/passwd", js), (b"/%00", page),
                                   (b"/%00/etc/passwd", page)]):
        st, got = raw(srv.port, b"GET " + p + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                      % srv.port, src="127.0.31.%d" % (i + 1), timeout=5)
        head, _, body = got.partition(b"\r\n\r\n")
        ok = st == 404 or (st == 200 and body.decode() == want.raw and
                           ("Content-Type: " + want.headers["Content-Type"]).encode() in head)
        check(ok, "%r: %s: 404 or the embedded asset itself with its own type" % (p, st))
        check(b"root:" not in got, "%r: no file content" % p)


def main():
    srv, _ = lab_server(EXE)
    try:
        case("traversal", t_traversal, srv)
        case("encoded NUL", t_encoded_nul, srv)
        healthy(srv, "after traversal")
    finally:
        stop_clean(srv, "traversal")
    finish()


if __name__ == "__main__":
    main()
