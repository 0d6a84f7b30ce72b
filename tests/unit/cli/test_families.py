# SPDX-License-Identifier: MIT
"""`exposure check NAME` where NAME resolves to both families (issue 10 section 1): the rows of
its addresses grouped as one visit, one schema 2 document with --json, and a door open on the
IPv6 address only reported as ipv6-only-exposure. Runs inside
tests/isolated.sh (a private network namespace) and a private mount namespace whose /etc/hosts
names both.test with test addresses on lo. Usage: test_families.py PATH/TO/exposure
"""
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading

EXE = sys.argv[1]
V4, V6 = "198.18.0.30", "2001:db8::30"
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what, flush=True)


def inner():
    """In the namespaces: addresses on lo, the hosts file, then the runs."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    if len(links.splitlines()) != 1 or ": lo:" not in links:
        sys.exit("not in a private network namespace")
    subprocess.run(["ip", "addr", "add", V4 + "/32", "dev", "lo"], check=True)
    subprocess.run(["ip", "addr", "add", V6 + "/128", "dev", "lo", "nodad"], check=True)
    tmp = tempfile.mkdtemp(prefix="exposure-families-")
    hosts = os.path.join(tmp, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n%s both.test\n%s both.test\n" % (V4, V6))
    subprocess.run(["mount", "--bind", hosts, "/etc/hosts"], check=True)

    checks = json.loads(subprocess.run([EXE, "check", "--list", "--json"], check=True,
                                       capture_output=True, text=True).stdout)["checks"]
    base = random.randint(12000, 30000)
    args, port = ["--allow", "198.18.0.0/15", "--allow", "2001:db8::/32"], base
    for c in checks:
        width = c["last_port"] - c["first_port"] + 1
        args += ["--port", "%s=%d" % (c["check"], port) if width == 1 else
                 "%s=%d-%d" % (c["check"], port, port + width - 1)]
        if c["check"] == "ssh":
            ssh = port
        port += width
    # The door: SSH on the IPv6 address only (the IPv4 one answers with a reset).
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((V6, ssh))
    s.listen(16)

    def serve():
        for _ in range(8):
            try:
                c, _ = s.accept()
            except OSError:
                return
            c.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            c.close()
    threading.Thread(target=serve, daemon=True).start()

    r = subprocess.run([EXE, "check", "both.test", "--json"] + args, capture_output=True,
                       text=True, timeout=120)
    if r.returncode == 2:
        print("stderr: " + r.stderr, flush=True)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = None
    check(isinstance(doc, dict), "one document for a name with both families: %r" % r.stdout[:200])
    if isinstance(doc, dict):
        check(doc.get("schema") == 2, "schema 2")
        # In the resolver's order, as every name's addresses.
        check(sorted((t["address"], t["family"], t["proven"]) for t in doc.get("targets", [])) ==
              [(V4, 4, "resolved"), (V6, 6, "resolved")], "targets: %r" % doc.get("targets"))
        check(len(doc["checks"]) == 2 * len(checks), "every check once per address")
        f = doc.get("findings") or []
        check(len(f) == 1 and f[0]["id"] == "ipv6-only-exposure" and f[0]["check"] == "ssh" and
              f[0]["address"] == V6 and f[0]["confidence"] == "confirmed",
              "ipv6-only-exposure on ssh: %r" % f)
    check(r.returncode == 1, "exit 1: something risky (%d)" % r.returncode)

    r = subprocess.run([EXE, "check", "both.test"] + args, capture_output=True, text=True,
                       timeout=120)
    out = r.stdout
    check(out.count("%s (both.test)" % V4) == 1 and out.count("%s (both.test)" % V6) == 1,
          "text: the rows of each address under its header")
    check("both.test, IPv4 and IPv6 together:" in out and "ipv6-only-exposure on ssh" in out and
          "port %d open on %s, closed on %s" % (ssh, V6, V4) in out,
          "text: the cross-family finding after the rows:\n" + out)

    # Two literal addresses are two targets, never one visit.
    r = subprocess.run([EXE, "check", V4, V6, "--json"] + args, capture_output=True, text=True,
                       timeout=120)
    docs = json.loads(r.stdout) if r.stdout.startswith("[") else None
    check(isinstance(docs, list) and len(docs) == 2 and "schema" not in docs[0],
          "two literals: two schema 1 documents")
    s.close()
    print("%d failed" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    if os.environ.get("FAMILIES_INNER") == "1":
        inner()
    if os.geteuid() != 0:
        print("SKIP: needs root for the mount namespace")
        sys.exit(77)
    env = dict(os.environ, FAMILIES_INNER="1")
    sys.exit(subprocess.run(["unshare", "-m", sys.executable, __file__, EXE], env=env).returncode)
