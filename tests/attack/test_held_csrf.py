#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): the same-origin and CSRF checks of POST /api/diagnoses as a matrix. Origin
(absent, the site's over http and https, foreign, null, look-alikes) x Sec-Fetch-Site (absent,
same-origin, same-site, cross-site, none, upper case), with a valid double-submit token: only
an absent or the site's own Origin with an absent or same-origin Sec-Fetch-Site is accepted;
with --origin only that origin. Then the token itself: two valid tokens that differ, a token of
another process, one changed character, truncated, padded, in the URL, in a look-alike cookie,
a delete token in its place, 4 KiB. No answer ever grants a cross-origin read. The five
basic refusals (no token, a forged one, no cookie, evil.example, cross-site) are in
tests/unit/web/test_api.py. Usage: test_held_csrf.py PATH/TO/exposure"""
import itertools

from attack import case, check, exposure, finish, lab_server, metrics, stop_clean

EXE = exposure()
SITES = [None, "same-origin", "same-site", "cross-site", "none", "SAME-ORIGIN"]
_n = itertools.count(1)


def visitor(srv):
    """A new requester (its own 127.0.50.x address): one diagnosis each, no rate limit met."""
    i = next(_n)
    return srv.client("127.0.%d.%d" % (50 + i // 250, 1 + i % 250))


def origins(srv):
    """(Origin, accepted without --origin)."""
    h = "127.0.0.1:%d" % srv.port
    return [(None, True), ("http://" + h, True), ("https://" + h, True),
            ("http://evil.example", False), ("null", False), ("http://" + h + "/", False),
            ("HTTP://" + h, False), ("http://" + h + ".evil.example", False),
            ("http://127.0.0.1:1", False), ("http://localhost:%d" % srv.port, False),
            ("http://127.0.0.1", False), ("ws://" + h, False), ("", False)]


def post(c, origin, site, token=None, cookie=True):
    c.whoami()
    h = {"Origin": origin, "Sec-Fetch-Site": site}
    if token is not None:
        h["X-CSRF-Token"] = token
    if not cookie:
        c.cookies.pop("exposure_csrf", None)
    return c.post(headers=h)


def no_cors(r, what):
    check(not any(k.lower().startswith("access-control-") for k in r.headers.keys()),
          "%s: no Access-Control-* header" % what)


def t_matrix(srv, ids):
    for (origin, ok_origin), site in itertools.product(origins(srv), SITES):
        c = visitor(srv)
        r = post(c, origin, site)
        what = "Origin %r x Sec-Fetch-Site %r" % (origin, site)
        if ok_origin and site in (None, "same-origin"):
            if check(r.status == 202, "%s: accepted, got %d %s" % (what, r.status, r.raw)):
                ids.append((c, r.json["id"]))
        else:
            check(r.status == 403 and r.json and r.json["reason"] == "origin",
                  "%s: 403 origin, got %d %s" % (what, r.status, r.raw))
        no_cors(r, what)


def t_configured_origin(exe):
    # With --origin, only that origin (the Host header's own is no longer enough).
    srv, _ = lab_server(exe, ["--origin", "https://diag.example"])
    try:
        h = "127.0.0.1:%d" % srv.port
        for origin, ok in [("https://diag.example", True), ("http://" + h, False),
                           ("https://" + h, False), ("http://diag.example", False),
                           ("https://diag.example:443", False),
                           ("https://diag.example.evil.example", False), (None, True)]:
            c = visitor(srv)
            r = post(c, origin, "same-origin")
            if ok:
                check(r.status == 202, "--origin: %r accepted: %d" % (origin, r.status))
                if r.status == 202:
                    c.wait_done(r.json["id"])
            else:
                check(r.status == 403 and r.json["reason"] == "origin",
                      "--origin: %r refused: %d" % (origin, r.status))
    finally:
        stop_clean(srv, "--origin")


def t_tokens(srv, exe):
    same = {"Sec-Fetch-Site": "same-origin"}
    # Two valid tokens of this process that differ: the header and the cookie must be one.
    a, b = visitor(srv), visitor(srv)
    a.whoami()
    b.whoami()
    check(a.csrf != b.csrf, "every whoami gives a new token")
    r = a.post(headers=dict(same, **{"X-CSRF-Token": b.csrf}))
    check(r.status == 403 and r.json["reason"] == "csrf", "header and cookie differ: %d"
          % r.status)
    # A token of another process (another key): valid shape, wrong MAC.
    other, _ = lab_server(exe)
    try:
        o = other.client("127.0.0.1")
        o.whoami()
        foreign = o.csrf
    finally:
        stop_clean(other, "other process")
    c = visitor(srv)
    c.whoami()
    c.cookies["exposure_csrf"] = foreign
    r = c.post(headers=dict(same, **{"X-CSRF-Token": foreign}))
    check(r.status == 403 and r.json["reason"] == "csrf", "another process's token: %d"
          % r.status)
    # Changed, cut, padded, oversized tokens, the same in cookie and header.
    c = visitor(srv)
    c.whoami()
    good = c.csrf
    flip = good[:20] + ("A" if good[20] != "A" else "B") + good[21:]
    for what, t in [("one character changed", flip), ("truncated", good[:-1]),
                    ("padded", good + "="), ("longer", good + "A"), ("4 KiB", good * 75),
                    ("standard base64", good.replace("-", "+").replace("_", "/") + "/+"),
                    ("empty", "")]:
        c.cookies["exposure_csrf"] = t
        r = c.post(headers=dict(same, **{"X-CSRF-Token": t}))
        check(r.status == 403 and r.json["reason"] == "csrf",
              "token %s: %d" % (what, r.status))
    # The token anywhere but the header: URL, look-alike cookie names.
    c = visitor(srv)
    c.whoami()
    good = c.csrf
    r = c.request("POST", "/api/diagnoses?csrf_token=" + good, body=b"{}",
                  headers=dict(same, **{"Content-Type": "application/json"}))
    check(r.status == 403 and r.json["reason"] == "csrf", "token in the URL: %d" % r.status)
    for name in ("xexposure_csrf", "exposure_csrf2", "exposure_CSRF"):
        r = c.request("POST", "/api/diagnoses", body=b"{}", cookies=False,
                      headers=dict(same, **{"X-CSRF-Token": good,
                                            "Cookie": "%s=%s" % (name, good)}))
        check(r.status == 403 and r.json["reason"] == "csrf", "cookie %s: %d" % (name, r.status))
    # A delete token is no CSRF token.
    d = visitor(srv)
    r = d.post(headers=same)
    check(r.status == 202, "a diagnosis for its delete token: %d" % r.status)
    if r.status == 202:
        dt = r.json["delete_token"]
        d.wait_done(r.json["id"])
        e = visitor(srv)
        e.whoami()
        e.cookies["exposure_csrf"] = dt
        r = e.post(headers=dict(same, **{"X-CSRF-Token": dt}))
        check(r.status == 403 and r.json["reason"] == "csrf", "delete token as CSRF: %d"
              % r.status)


def main():
    srv, _ = lab_server(EXE, ["--addr-rate", "0", "--prefix-rate", "0"])
    ids = []
    try:
        csrf0 = metrics(srv).get('exposure_refusals_total{reason="csrf"}', 0)
        case("origin x sec-fetch-site", t_matrix, srv, ids)
        case("tokens", t_tokens, srv, EXE)
        csrf1 = metrics(srv).get('exposure_refusals_total{reason="csrf"}', 0)
        check(csrf1 - csrf0 >= 60, "refusals counted (%s)" % (csrf1 - csrf0))
        for c, did in ids:
            c.wait_done(did)
    finally:
        stop_clean(srv, "csrf")
    case("--origin", t_configured_origin, EXE)
    finish()


if __name__ == "__main__":
    main()
