#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): the delete token. Another diagnosis's token, one changed character, cut,
lengthened, empty, 4 KiB, the CSRF token in its place, Authorization forms that are not
"Bearer TOKEN", a cross-site Sec-Fetch-Site with the right token: each is refused and the
diagnosis stays. Then the right one as Bearer, a delete during the diagnosis (its event
stream ends with "deleted"), and a token checked against the store after a restart (only its
hash is kept). No token, a wrong one, a cross-site Origin and a second delete are in
tests/unit/web/test_api.py. Usage: test_held_delete.py PATH/TO/exposure"""
import os
import threading

from attack import (Listener, case, check, exposure, finish, first_port, lab_server,
                    stop_clean)

EXE = exposure()


def delete(c, did, headers):
    return c.request("DELETE", "/api/diagnoses/" + did, headers=headers)


def exists(c, did):
    return c.get("/api/diagnoses/" + did).status == 200


def t_wrong(srv):
    a, b = srv.client("127.0.60.1"), srv.client("127.0.60.2")
    ra, rb = a.post(), b.post()
    check(ra.status == 202 and rb.status == 202, "two diagnoses")
    aid, atok = ra.json["id"], ra.json["delete_token"]
    bid, btok = rb.json["id"], rb.json["delete_token"]
    a.wait_done(aid)
    b.wait_done(bid)
    x = srv.client("127.0.60.3")
    flip = atok[:10] + ("A" if atok[10] != "A" else "B") + atok[11:]
    x.whoami()
    for what, h, want in [
            ("another diagnosis's token", {"X-Delete-Token": btok}, 403),
            ("one character changed", {"X-Delete-Token": flip}, 403),
            ("truncated", {"X-Delete-Token": atok[:-1]}, 403),
            ("lengthened", {"X-Delete-Token": atok + "A"}, 403),
            ("empty", {"X-Delete-Token": ""}, (401, 403)),
            ("4 KiB", {"X-Delete-Token": atok * 95}, 403),
            ("upper case", {"X-Delete-Token": atok.upper()}, 403),
            ("the CSRF token", {"X-Delete-Token": x.csrf}, 403),
            ("Basic", {"Authorization": "Basic " + atok}, 401),
            ("bearer in lower case", {"Authorization": "bearer " + atok}, 401),
            ("Bearer without a space", {"Authorization": "Bearer" + atok}, 401),
            ("wrong header, right Bearer", {"X-Delete-Token": btok,
                                            "Authorization": "Bearer " + atok}, 403),
            ("right token, cross-site", {"X-Delete-Token": atok,
                                         "Sec-Fetch-Site": "cross-site"}, 403),
            ("right token, same-site", {"X-Delete-Token": atok, "Sec-Fetch-Site": "same-site"},
             403)]:
        r = delete(x, aid, h)
        want = want if isinstance(want, tuple) else (want,)
        check(r.status in want, "%s: %d, want %s" % (what, r.status, want))
        check(exists(x, aid), "%s: the diagnosis stays" % what)
    # Ids that are not ids; a well-formed unknown id with a token.
    for path in ("/api/diagnoses/" + aid[:-1], "/api/diagnoses/" + aid + "0",
                 "/api/diagnoses/" + aid.upper(), "/api/diagnoses/" + aid + "/events",
                 "/api/diagnoses/%2e%2e"):
        r = x.request("DELETE", path, headers={"X-Delete-Token": atok})
        check(r.status in (404, 405), "DELETE %s: %d" % (path, r.status))
    r = delete(x, "f" * 32, {"X-Delete-Token": atok})
    check(r.status == 404, "unknown id: %d" % r.status)
    check(exists(x, aid) and exists(x, bid), "both stay")
    # The right token as Bearer, from anybody.
    r = delete(x, bid, {"Authorization": "Bearer " + btok})
    check(r.status == 204 and not exists(x, bid), "Bearer deletes: %d" % r.status)
    r = delete(x, aid, {"X-Delete-Token": atok, "Origin": "http://127.0.0.1:%d" % srv.port,
                        "Sec-Fetch-Site": "same-origin"})
    check(r.status == 204 and not exists(x, aid), "same-origin deletes: %d" % r.status)


def t_running(srv, ports):
    # A diagnosis kept busy by a silent port, deleted while its event stream is open.
    src = "127.0.61.1"
    silent = Listener([src], first_port(ports["skysea"]), b"", hold=20)
    try:
        c = srv.client(src)
        r = c.post()
        check(r.status == 202, "running diagnosis: %d" % r.status)
        did, tok = r.json["id"], r.json["delete_token"]
        got = []
        t = threading.Thread(target=lambda: got.extend(c.events(did, timeout=30)), daemon=True)
        t.start()
        check(c.get("/api/diagnoses/" + did).json["status"] in ("queued", "running"),
              "still running when deleted")
        r = delete(c, did, {"X-Delete-Token": tok})
        check(r.status == 204, "delete while running: %d" % r.status)
        t.join(30)
        check(not t.is_alive() and got and got[-1][0] == "deleted",
              "the stream ends with deleted: %s" % [e for e, _ in got])
        check(not exists(c, did), "deleted while running: 404")
        srv.deleted_running = did
    finally:
        silent.close()


def t_restart(srv):
    c = srv.client("127.0.62.1")
    r = c.post()
    check(r.status == 202, "stored diagnosis: %d" % r.status)
    did, tok = r.json["id"], r.json["delete_token"]
    c.wait_done(did)
    check(srv.stop() == 0, "clean stop")
    srv.start()
    c = srv.client("127.0.62.1")
    check(exists(c, did), "found after restart")
    gone = getattr(srv, "deleted_running", None)
    check(gone is None or not exists(c, gone), "the deleted one stays deleted after restart")
    r = delete(c, did, {"X-Delete-Token": tok[:-1] + ("A" if tok[-1] != "A" else "B")})
    check(r.status == 403 and exists(c, did), "wrong token against the store: %d" % r.status)
    r = delete(c, did, {"X-Delete-Token": tok})
    check(r.status == 204 and not exists(c, did), "token against the store: %d" % r.status)
    for path in (srv.db, srv.db + "-wal"):
        if os.path.exists(path):
            with open(path, "rb") as f:
                check(tok.encode() not in f.read(), "the token itself is not in " + path)


def main():
    srv, ports = lab_server(EXE)
    try:
        case("wrong tokens", t_wrong, srv)
        case("delete while running", t_running, srv, ports)
        case("after restart", t_restart, srv)
    finally:
        stop_clean(srv, "delete")
    finish()


if __name__ == "__main__":
    main()
