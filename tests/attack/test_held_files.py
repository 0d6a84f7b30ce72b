#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): bad key and store files at start. A key file of the wrong size (0, 5, 33
bytes), group- or world-readable, a directory, a FIFO, a symbolic link, in a missing directory; a
store that is random bytes, text, half of a real one, its first 100 bytes, another program's
SQLite file, a schema newer than this program, a directory, in a missing directory: each
stops the start with exit 2 and one line naming the file, binds no port, and leaves the file
as it was. An empty store file is a new store. The store's own permissions are issue 9 §5
(test_holes.py). Usage: test_held_files.py PATH/TO/exposure"""
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile

from attack import Server, case, check, exposure, finish, stop_clean

EXE = exposure()


def write(d, name, data, mode=0o600):
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, mode)
    return p


def digest(path):
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def refused(key, store, want, what, same_bytes=True):
    before = (digest(key), digest(store))
    try:
        p = subprocess.run([EXE, "serve", "--listen", "127.0.0.1:0", "--key", key,
                            "--store", store], capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        check(False, "%s: still running after 10 s (killed)" % what)
        return
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2, "%s: exit %d, want 2: %s" % (what, p.returncode, p.stderr))
    check("listening" not in p.stdout, "%s: no listener" % what)
    check(len(lines) == 1 and want in lines[0] and
          (os.path.basename(key) in lines[0] or os.path.basename(store) in lines[0]),
          "%s: one line naming the file with %r: %r" % (what, want, p.stderr))
    check("AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr,
          what + ": sanitizer report")
    if same_bytes:
        check((digest(key), digest(store)) == before, "%s: the files are unchanged" % what)


def t_keys(d, good_store):
    for what, data, mode, want in [("empty key", b"", 0o600, "malformed"),
                                   ("5-byte key", b"short", 0o600, "malformed"),
                                   ("33-byte key", os.urandom(33), 0o600, "malformed"),
                                   ("key 0644", os.urandom(32), 0o644, "0600"),
                                   ("key 0640", os.urandom(32), 0o640, "0600"),
                                   ("key 0602", os.urandom(32), 0o602, "0600")]:
        refused(write(d, what.replace(" ", "-"), data, mode), good_store, want, what)
    os.mkdir(os.path.join(d, "keydir"))
    refused(os.path.join(d, "keydir"), good_store, "malformed", "key is a directory")
    real = write(d, "real.key", os.urandom(32))
    os.symlink(real, os.path.join(d, "link.key"))
    refused(os.path.join(d, "link.key"), good_store, "symbolic link", "key is a symlink")
    refused(os.path.join(d, "nodir", "k.key"), good_store, "No such file", "key dir missing")
    # A FIFO would block open() for ever (and SIGTERM is blocked by then): refused at once.
    os.mkfifo(os.path.join(d, "fifo.key"), 0o600)
    refused(os.path.join(d, "fifo.key"), good_store, "malformed", "key is a FIFO")


def t_stores(d, key, good_store):
    with open(good_store, "rb") as f:
        real = f.read()
    for what, data, want in [("random store", os.urandom(8192), "not a database"),
                             ("text store", b"hello world\n" * 100, "not a database"),
                             ("half a store", real[:len(real) // 2], "malformed"),
                             ("100-byte store", real[:100], "malformed")]:
        refused(key, write(d, what.replace(" ", "-") + ".db", data), want, what)
    # Another program's SQLite file, whatever its tables are called, is refused before any
    # write: not switched to WAL, no table of ours created in it.
    for name, table in [("other.db", "diagnoses"), ("users.db", "users")]:
        other = os.path.join(d, name)
        c = sqlite3.connect(other)
        c.execute("CREATE TABLE %s (x)" % table)
        c.execute("INSERT INTO %s VALUES ('theirs')" % table)
        c.commit()
        c.close()
        os.chmod(other, 0o600)
        refused(key, other, "another program", "another program's SQLite file (%s)" % table)
        c = sqlite3.connect(other)
        tables = c.execute("SELECT name FROM sqlite_master").fetchall()
        rows = c.execute("SELECT x FROM %s" % table).fetchall()
        mode = c.execute("PRAGMA journal_mode").fetchone()
        c.close()
        check(tables == [(table,)] and rows == [("theirs",)] and mode == ("delete",),
              "another program's SQLite file: its tables, rows and journal mode stay: %s %s %s"
              % (tables, rows, mode))
    future = os.path.join(d, "future.db")
    shutil.copy(good_store, future)
    c = sqlite3.connect(future)
    c.execute("PRAGMA user_version = 999")
    c.commit()
    c.close()
    refused(key, future, "newer", "a newer schema")
    os.mkdir(os.path.join(d, "storedir"))
    refused(key, os.path.join(d, "storedir"), "directory", "store is a directory")
    refused(key, os.path.join(d, "nodir", "s.db"), "No such file", "store dir missing")


def t_empty(d, key):
    srv = Server([EXE, "serve"], [], workdir=d, db=write(d, "empty.db", b""))
    try:
        c = srv.client()
        r = c.post()
        check(r.status == 202, "an empty store file is a new store: %d" % r.status)
        c.wait_done(r.json["id"])
    finally:
        stop_clean(srv, "empty store")


def main():
    d = tempfile.mkdtemp(prefix="exposure-attack-files-")
    # A real store and key made by a first start.
    srv = Server([EXE, "serve"], [], workdir=d)
    stop_clean(srv, "first start")
    key, good = srv.key, srv.db
    case("bad key files", t_keys, d, good)
    case("bad store files", t_stores, d, key, good)
    case("empty store", t_empty, d, key)
    shutil.rmtree(d, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
