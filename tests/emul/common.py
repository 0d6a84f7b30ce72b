# SPDX-License-Identifier: MIT
"""What the emulators of this folder and the tests that drive them share, written once.

The emulator side: Conn (a connection that sends with --drip / --close-at), listen(),
accept_loop() / serve_background() (a thread per connection), tls_context() and case_main()
(the command line of emul.py and db_emul.py: CASE, --host, --port, --list, "PORT <n>").
The test side: Checks (ok / not ok lines and their count), self_signed() (a throw-away
certificate from `openssl req`), wait_port() and check_json() (`exposure check --json` of one
check on one loopback port). Loopback or lab addresses only.
"""
import argparse
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

# ---- the emulator side


class Conn:
    """One accepted connection. send() cuts what it sends at close_at bytes in total (then raises
    EOFError: the caller closes) and, with drip, sends one byte every drip seconds."""

    def __init__(self, sock, drip=None, close_at=None):
        self.s, self.drip, self.close_at, self.sent = sock, drip, close_at, 0

    def send(self, data):
        if self.close_at is not None:
            data = data[:max(0, self.close_at - self.sent)]
        if self.drip:
            for i in range(len(data)):
                self.s.sendall(data[i:i + 1])
                self.sent += 1
                time.sleep(self.drip)
        else:
            self.s.sendall(data)
            self.sent += len(data)
        if self.close_at is not None and self.sent >= self.close_at:
            raise EOFError("close-at reached")

    def recv_n(self, n):
        buf = b""
        while len(buf) < n:
            d = self.s.recv(n - len(buf))
            if not d:
                raise EOFError("peer closed")
            buf += d
        return buf

    def until(self, delim):
        """Up to and with delim, bounded to 64 KiB."""
        buf = b""
        while delim not in buf and len(buf) < 65536:
            d = self.s.recv(1)
            if not d:
                raise EOFError("peer closed")
            buf += d
        return buf


def listen(host, port, backlog=16):
    """A listening TCP socket on host (IPv6 when it has a colon) and port (0: ephemeral)."""
    srv = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(backlog)
    return srv


def accept_loop(srv, handle, nodelay=False):
    """Hands each connection to handle(sock, n) on a thread of its own (n: 0, 1, ... in the order
    of arrival) until srv is closed. nodelay: TCP_NODELAY, so a drip leaves byte by byte."""
    n = 0
    while True:
        try:
            c, _ = srv.accept()
        except OSError:
            return
        if nodelay:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(c, n), daemon=True).start()
        n += 1


def serve_background(srv, handle, nodelay=True):
    """accept_loop() on a thread; returns (srv, its port)."""
    threading.Thread(target=accept_loop, args=(srv, handle, nodelay), daemon=True).start()
    return srv, srv.getsockname()[1]


def tls_context(cert, key):
    """A server-side TLS context with cert and key, or None without a cert."""
    if not cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def case_main(doc, cases, start, add_options=None, conn_options=True, list_without_case=True):
    """The command line of an emulator: [--host ADDR] [--port N] [options] CASE, or --list.
    start(args) starts serving the case and returns its port; then "PORT <n>" is printed and
    the process serves until killed. conn_options: --drip S and --close-at K (Conn's);
    add_options(parser) adds the emulator's own. Without a case: the list (list_without_case),
    else an error."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    ap.add_argument("case", nargs="?")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    if conn_options:
        ap.add_argument("--drip", type=float)
        ap.add_argument("--close-at", type=int)
    if add_options:
        add_options(ap)
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list or (list_without_case and not a.case):
        print("\n".join(sorted(cases)))
        return 0
    if a.case not in cases:
        print("unknown case %s" % a.case, file=sys.stderr)
        return 2
    print("PORT %d" % start(a), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


# ---- the test side


class Checks:
    """Prints "ok - LABEL" or "not ok - LABEL: INFO" per check(label, cond, info) and counts the
    failures; show(info) formats INFO (default: as it is)."""

    def __init__(self, show=str):
        self.failed = 0
        self.show = show

    def __call__(self, label, cond, info=None):
        if cond:
            print("ok - %s" % label)
        else:
            self.failed += 1
            print("not ok - %s%s" % (label, "" if info is None else ": " + self.show(info)))
        return bool(cond)

    def status(self, summary="# %d failed"):
        """Prints the summary with the count; the exit status: 1 if a check failed."""
        print(summary % self.failed)
        return 1 if self.failed else 0


def self_signed(directory, cn, key_args=("-newkey", "rsa:2048"), days=2):
    """A throw-away self-signed certificate for CN cn, made by `openssl req` in directory;
    returns (cert path, key path)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", *key_args, "-nodes", "-days", str(days), "-subj",
                    "/CN=" + cn, "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def wait_port(port, host="127.0.0.1", tries=100):
    """Until a TCP connection to host:port succeeds (tries of 50 ms apart at most)."""
    for _ in range(tries):
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def check_json(exe, check, port, host="127.0.0.1"):
    """`exposure check --json` of one check on host:port: its entry in "checks"."""
    r = subprocess.run([exe, "check", "--json", "--checks", check, "--port",
                        "%s=%d" % (check, port), host], capture_output=True, text=True,
                       timeout=60)
    return json.loads(r.stdout)["checks"][0]
