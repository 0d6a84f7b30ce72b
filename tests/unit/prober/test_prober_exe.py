# SPDX-License-Identifier: MIT
"""The prober executable (docs/internals/PRIVSEP.md, "The prober executable"): it loads only what
probing needs, and starts OpenSSL only when a check of the run may speak TLS.

- Its NEEDED entries (readelf -d) name none of the front's libraries (libpq, SQLite,
  libmicrohttpd, libsodium) and no library they pull in (GnuTLS, Kerberos, LDAP); the front no
  longer links libseccomp (the sandbox is the prober's alone) nor libpq (the PostgreSQL store
  is a module, docs/internals/STORE.md).
- A running prober of `exposure check` (found as the check's child, read once its seccomp filter
  is on): /proc/PID/maps holds none of those libraries; /proc/PID/io counts the bytes it read.
  OPENSSL_CONF names a 4 MiB configuration file made here: a prober for the ssh check alone
  reads far less than that (OpenSSL not started, not even mapped: exposure-tls.so, the module
  that links it, is loaded only for a TLS check), one for nas-admin (HTTPS ports) reads it all.

Runs inside tests/isolated.sh (loopback only): a listener that never answers keeps each check,
and so its prober, alive while it is looked at. Usage: test_prober_exe.py EXPOSURE PROBER
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

EXE, PROBER = sys.argv[1], sys.argv[2]
FRONT_LIBS = ("libpq", "libsqlite3", "libmicrohttpd", "libsodium", "libgnutls", "libgssapi",
              "libkrb5", "libldap")
CONF_BYTES = 4 << 20
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    else:
        print("ok: " + what, flush=True)


def needed(path):
    out = subprocess.run(["readelf", "-d", path], check=True, capture_output=True,
                         text=True).stdout
    return [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]


def front_lib(name):
    return any(os.path.basename(name).startswith(lib) for lib in FRONT_LIBS)


def child_of(pid):
    """The pid of pid's child whose command line is the prober's, or None."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv0 = f.read().split(b"\0")[0]
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and argv0 == b"exposure-prober":
            return int(d)
    return None


def sandboxed(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return any(line.split() == ["Seccomp:", "2"] for line in f)
    except OSError:
        return False


def run_prober(check_name, conf):
    """Start `exposure check` of check_name against a silent listener; return the maps and the
    bytes read of its prober once it is sandboxed, or (None, None)."""
    lis = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lis.bind(("127.0.0.1", 0))
    lis.listen(8)  # never accepted: the kernel completes the handshake, nothing is said
    port = lis.getsockname()[1]
    env = dict(os.environ, OPENSSL_CONF=conf)
    front = subprocess.Popen([EXE, "check", "--checks", check_name, "--port",
                              "%s=%d" % (check_name, port), "127.0.0.1"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    maps = rchar = None
    try:
        deadline = time.monotonic() + 10
        pid = None
        while time.monotonic() < deadline and front.poll() is None:
            pid = pid or child_of(front.pid)
            if pid and sandboxed(pid):
                with open("/proc/%d/maps" % pid) as f:
                    maps = {line.split()[-1] for line in f if "/" in line}
                with open("/proc/%d/io" % pid) as f:
                    rchar = int(next(l for l in f if l.startswith("rchar:")).split()[1])
                break
            time.sleep(0.01)
    finally:
        front.send_signal(signal.SIGTERM)
        try:
            front.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            front.kill()
            front.communicate()
        lis.close()
    return maps, rchar


def main():
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    if len(links.splitlines()) != 1 or ": lo:" not in links:
        sys.exit("not in a private network namespace")

    pn, fn = needed(PROBER), needed(EXE)
    check(not [n for n in pn if front_lib(n)], "the prober needs none of the front's "
          "libraries: %s" % " ".join(pn))
    check(any(n.startswith("libseccomp") for n in pn) and
          not any(n.startswith(("libssl", "libcrypto")) for n in pn),
          "the prober links libseccomp, and OpenSSL only through its module")
    check(not any(n.startswith(("libssl", "libcrypto")) for n in fn),
          "the front links OpenSSL only through its module")
    check(not any(n.startswith("libseccomp") for n in fn),
          "the front does not link libseccomp: %s" % " ".join(fn))
    check(not any(n.startswith("libpq") for n in fn),
          "the front does not link libpq (its PostgreSQL store is a module)")

    with tempfile.NamedTemporaryFile("w", prefix="exposure-openssl-", suffix=".cnf") as conf:
        line = "# " + "x" * 1021 + "\n"
        conf.write(line * (CONF_BYTES // len(line)))
        conf.flush()
        maps, plain = run_prober("ssh", conf.name)
        check(maps is not None, "a sandboxed prober ran for the ssh check")
        if maps is not None:
            check(not [m for m in maps if front_lib(m)],
                  "no front library mapped in the prober: %s" % " ".join(
                      sorted(os.path.basename(m) for m in maps if ".so" in m)))
            check(plain < CONF_BYTES // 2,
                  "no TLS check, OpenSSL not started: the prober read %d bytes" % plain)
            check(not [m for m in maps if "libssl" in m or "exposure-tls" in m],
                  "no TLS check, OpenSSL not even loaded")
        maps, tls = run_prober("nas-admin", conf.name)
        check(maps is not None, "a sandboxed prober ran for the nas-admin check")
        if maps is not None:
            check(tls >= CONF_BYTES,
                  "a TLS check, OpenSSL started with its configuration: %d bytes read" % tls)
            check([m for m in maps if "exposure-tls" in m] and [m for m in maps if "libssl" in m],
                  "a TLS check, the OpenSSL module loaded before the filter")
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
