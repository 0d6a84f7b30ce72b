# SPDX-License-Identifier: MIT
"""Issue 9 §5, the smaller holes, each a case that failed before its fix:
- logout: a copied admin session cookie is worthless after POST /admin/logout (it was a
  stateless 12 h MAC), the session table is bounded, and a restart with another operator token
  leaves no old session valid;
- store_fail: a store that cannot write (its database on a full tmpfs of this test's own mount
  namespace) is logged, /healthz says degraded (503), a new POST gets 503 with Retry-After, the
  result that was not stored is "failed", never "done", and all comes back once it can write;
- store_mode: a store file (database, -wal, -shm) readable by group or others is refused at
  start, like the key file; a new store's three files are 0600;
- environ: $EXPOSURE_ADMIN_TOKEN is no longer readable in /proc/PID/environ of the service.
Usage: test_holes.py PATH/TO/exposure (inside tests/isolated.sh)."""
import errno
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

from attack import (Listener, case, check, deadline, exposure, finish, first_port,
                    lab_server, stop_clean)

TOKEN = "holes-operator-token-0123456789"
OTHER_TOKEN = "holes-another-token-9876543210"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def private_mounts():
    """Re-run this file in a mount namespace of its own (store_fail mounts a tmpfs there)."""
    if os.environ.get("HOLES_MOUNT_NS") == "1":
        return
    os.environ["HOLES_MOUNT_NS"] = "1"
    try:
        os.execvp("unshare", ["unshare", "-m", "--propagation", "private", sys.executable] +
                  sys.argv)
    except OSError as e:
        print("SKIP: no mount namespace here: %s" % e, flush=True)
        sys.exit(77)


def token_file(workdir, token):
    path = os.path.join(workdir, "operator-token")
    with open(path, "w") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)
    return path


def login(srv, token=TOKEN):
    """A browser's login form: (status, session cookie value or None)."""
    c = srv.client()
    r = c.request("POST", "/admin/login", body=("token=" + token).encode(),
                  headers=dict(FORM, Origin="http://127.0.0.1:%d" % srv.port))
    return r.status, c.cookies.get("exposure_admin")


def with_cookie(srv, value):
    """GET /admin/stats from a fresh client that presents only this session cookie (a copy)."""
    c = srv.client()
    c.cookies["exposure_admin"] = value
    return c.get("/admin/stats").status


def t_logout(exe):
    work = tempfile.mkdtemp(prefix="exposure-holes-")
    tok = token_file(work, TOKEN)
    srv, _ = lab_server(exe, ["--admin-token-file", tok], workdir=work)
    try:
        st, session = login(srv)
        check(st == 303 and session, "logout: login 303 with a session (%s)" % st)
        check(with_cookie(srv, session) == 200, "logout: the session opens the dashboard")
        c = srv.client()
        c.cookies["exposure_admin"] = session
        r = c.request("POST", "/admin/logout",
                      headers={"Origin": "http://127.0.0.1:%d" % srv.port})
        check(r.status == 303 and "Max-Age=0" in r.headers.get("Set-Cookie", ""),
              "logout: 303 and the browser's cookie cleared (%d)" % r.status)
        # The fix: the server forgets the session, so a copy of the cookie is worthless.
        st = with_cookie(srv, session)
        check(st == 401, "logout: a copied cookie after logout gets %d, want 401" % st)
        # Other sessions live on; a logout without a cookie changes nothing.
        st, second = login(srv)
        check(st == 303 and with_cookie(srv, second) == 200, "logout: a new login works")
        r = srv.client().request("POST", "/admin/logout",
                                 headers={"Origin": "http://127.0.0.1:%d" % srv.port})
        check(r.status == 303 and with_cookie(srv, second) == 200,
              "logout: someone else's logout does not end this session")
        # Bounded: 70 more logins; the newest works, the one that expires first is gone.
        sessions = [login(srv)[1] for _ in range(70)]
        check(all(sessions), "logout: 70 logins")
        check(with_cookie(srv, sessions[-1]) == 200, "logout: the newest session works")
        check(with_cookie(srv, second) == 401,
              "logout: the oldest session was replaced in the bounded table")
        check(with_cookie(srv, sessions[-1][:-1] + ("A" if sessions[-1][-1] != "A" else "B"))
              == 401, "logout: a changed cookie value is no session")
        stop_clean(srv, "logout")
        # A changed operator token: restart (the only way to change it); no old session lives.
        token_file(work, OTHER_TOKEN)
        srv.start()
        check(with_cookie(srv, sessions[-1]) == 401, "logout: old session after a token change")
        check(login(srv, TOKEN)[0] == 401, "logout: the old token no longer logs in")
        st, fresh = login(srv, OTHER_TOKEN)
        check(st == 303 and with_cookie(srv, fresh) == 200, "logout: the new token logs in")
    finally:
        if srv.proc:
            stop_clean(srv, "logout")
        shutil.rmtree(work, ignore_errors=True)


def start_refused(exe, db, key):
    """Start `exposure serve` on db and expect a refusal: (exit status, stderr). A service that
    starts anyway is stopped at once (SIGTERM to its PID) and reported as (None, stderr)."""
    p = subprocess.Popen([exe, "serve", "--listen", "127.0.0.1:0", "--store", db, "--key", key],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if "listening on" in line:
        p.terminate()
        _, err = p.communicate(timeout=30)
        return None, err
    _, err = p.communicate(timeout=30)
    return p.returncode, err


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def t_store_mode(exe):
    work = tempfile.mkdtemp(prefix="exposure-holes-")
    db = os.path.join(work, "exposure.db")
    old = os.umask(0o022)
    try:
        srv, _ = lab_server(exe, workdir=work, db=db)
        try:
            got = {s: mode(db + s) for s in ("", "-wal", "-shm") if os.path.exists(db + s)}
            check(got == {"": 0o600, "-wal": 0o600, "-shm": 0o600},
                  "store_mode: a new store's files are 0600: %s" % got)
        finally:
            stop_clean(srv, "store_mode")
        key = os.path.join(work, "exposure.key")
        # The database readable by others: refused at start, with the remedy.
        os.chmod(db, 0o644)
        rc, err = start_refused(exe, db, key)
        check(rc == 2 and "chmod 600" in err and db in err,
              "store_mode: a 0644 store is refused (exit %s): %r" % (rc, err[-300:]))
        check(mode(db) == 0o644 and not os.path.exists(db + "-wal"),
              "store_mode: the refused store is left as it was")
        os.chmod(db, 0o640)
        rc, err = start_refused(exe, db, key)
        check(rc == 2 and "chmod 600" in err, "store_mode: a 0640 store is refused (%s)" % rc)
        os.chmod(db, 0o600)
        # A -wal or -shm left readable by others (an older version made them 0644).
        for side in ("-wal", "-shm"):
            with open(db + side, "wb"):
                pass
            os.chmod(db + side, 0o644)
            rc, err = start_refused(exe, db, key)
            check(rc == 2 and "chmod 600" in err and (db + side) in err,
                  "store_mode: a 0644 %s is refused (exit %s): %r" % (side, rc, err[-300:]))
            if os.path.exists(db + side):  # the old code removed it at its clean stop
                os.unlink(db + side)
        # Repaired by the operator: it starts again.
        srv, _ = lab_server(exe, workdir=work, db=db)
        stop_clean(srv, "store_mode repaired")
    finally:
        os.umask(old)
        shutil.rmtree(work, ignore_errors=True)


def t_environ(exe):
    work = tempfile.mkdtemp(prefix="exposure-holes-")
    try:
        for extra in ([], ["--admin-token-file", token_file(work, OTHER_TOKEN)]):
            srv, _ = lab_server(exe, extra, workdir=work, env={"EXPOSURE_ADMIN_TOKEN": TOKEN})
            try:
                with open("/proc/%d/environ" % srv.proc.pid, "rb") as f:
                    env = f.read()
                check(TOKEN.encode() not in env,
                      "environ%s: the token is readable in /proc/PID/environ"
                      % (" (token file given too)" if extra else ""))
                # Still the operator's: the dashboard takes it (or the file's, when given).
                want = OTHER_TOKEN if extra else TOKEN
                r = srv.client().get("/admin/stats.csv",
                                     headers={"Authorization": "Bearer " + want})
                check(r.status == 200, "environ: the dashboard takes its token (%d)" % r.status)
            finally:
                stop_clean(srv, "environ")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fill(directory):
    """Write a file in directory until the filesystem is full (ENOSPC). Returns its path."""
    path = os.path.join(directory, "filler")
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        for _ in range(4096):  # 256 MiB at most; the tmpfs is a few MiB
            try:
                f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        else:
            raise RuntimeError("the tmpfs did not fill")
    return path


def wait_end(c, did, timeout=30):
    """GET the diagnosis until it is no longer queued or running: its JSON."""
    end = deadline(timeout)
    while time.monotonic() < end:
        r = c.get("/api/diagnoses/" + did)
        if r.status == 200 and r.json["status"] not in ("queued", "running"):
            return r.json
        time.sleep(0.1)
    raise AssertionError("diagnosis %s still running after %ds" % (did, timeout))


def t_store_fail(exe):
    work = tempfile.mkdtemp(prefix="exposure-holes-")
    mnt = tempfile.mkdtemp(prefix="exposure-holes-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mnt],
                   check=True, timeout=10)
    srv = hold = None
    try:
        # The database alone on the tmpfs; the log and the key stay on the ordinary disk.
        srv, ports = lab_server(exe, workdir=work, db=os.path.join(mnt, "exposure.db"))
        # A telnet server that never speaks holds the diagnosis for the probe's idle deadline,
        # long enough to fill the disk between the 202 and the result's write.
        hold = Listener(["127.0.0.1"], first_port(ports["telnet"]), hold=8)
        c = srv.client()
        r = c.post()
        check(r.status == 202, "store_fail: POST 202 while the store writes (%d)" % r.status)
        did = r.json["id"]
        filler = fill(mnt)
        got = wait_end(c, did)
        check(got["status"] == "failed",
              "store_fail: a result that was not stored is %r, want 'failed'" % got["status"])
        check("result" not in got, "store_fail: no result shown for it")
        ev = c.events(did, timeout=10)
        check(ev and ev[-1][0] == "done" and ev[-1][1]["status"] == "failed",
              "store_fail: the event stream ends with status failed: %s" % ev[-1:])
        r = srv.client().get("/healthz")
        check(r.status == 503 and r.json and r.json["status"] == "degraded" and
              r.json.get("store_error"), "store_fail: /healthz %d %s, want 503 degraded"
              % (r.status, r.raw))
        other = srv.client("127.0.0.2")
        r = other.post()
        check(r.status == 503 and r.json and r.json["reason"] == "store" and
              r.headers.get("Retry-After", "").isdigit(),
              "store_fail: a new POST gets %d %s, want 503 store with Retry-After"
              % (r.status, r.raw))
        m = {}
        for line in srv.client().get("/metrics").raw.splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                m[k] = float(v)
        check(m.get("exposure_store_writes_failed_total", 0) >= 1 and
              m.get('exposure_diagnoses_total{status="failed"}') == 1 and
              m.get('exposure_diagnoses_total{status="done"}') == 0,
              "store_fail: metrics count the failure, not a done: %s"
              % {k: v for k, v in m.items() if "failed" in k or "done" in k})
        srv.log.flush()
        with open(srv.log.name) as f:
            lines = [ln for ln in f if "store write failed" in ln]
        check(len(lines) == 1 and did in lines[0],
              "store_fail: one log line names the lost result: %s" % lines)
        # The disk has room again: after Retry-After a new diagnosis is stored and done.
        os.unlink(filler)
        wait = int(r.headers.get("Retry-After", "5"))
        check(1 <= wait <= 5, "store_fail: Retry-After %d in 1..5" % wait)
        time.sleep(wait + 0.2)
        end, r = deadline(15), None
        while time.monotonic() < end:
            r = other.post()
            if r.status != 503:
                break
            time.sleep(0.5)
        check(r is not None and r.status == 202, "store_fail: POST after recovery %s"
              % (r and r.status))
        if r is not None and r.status == 202:
            got = wait_end(other, r.json["id"])
            check(got["status"] == "done" and got.get("result"),
                  "store_fail: stored and done again (%s)" % got["status"])
        r = srv.client().get("/healthz")
        check(r.status == 200 and r.json["status"] == "ok", "store_fail: /healthz ok again")
        hold.close()
        hold = None
        stop_clean(srv, "store_fail")
        # After a restart the lost one is interrupted, never done.
        srv.start()
        r = srv.client().get("/api/diagnoses/" + did)
        check(r.status == 200 and r.json["status"] == "interrupted",
              "store_fail: after a restart the lost result is %s" % (r.json or {}).get("status"))
    finally:
        if hold:
            hold.close()
        if srv and srv.proc:
            stop_clean(srv, "store_fail")
        subprocess.run(["umount", mnt], timeout=10)
        os.rmdir(mnt)
        shutil.rmtree(work, ignore_errors=True)


def main():
    private_mounts()
    exe = exposure()
    which = sys.argv[2:] or ["logout", "store_fail", "store_mode", "environ"]
    cases = {"logout": t_logout, "store_fail": t_store_fail, "store_mode": t_store_mode,
             "environ": t_environ}
    for name in which:
        case(name, cases[name], exe)
    finish()


if __name__ == "__main__":
    main()
