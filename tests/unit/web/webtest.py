# SPDX-License-Identifier: MIT
"""Helpers for the web service's tests: start `exposure serve`, lab listeners on loopback
addresses, and an HTTP client bound to a chosen 127.x.y.z source address."""
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time


def catalogue(exposure):
    """The catalogue's checks, in its order, as `exposure check --list --json` gives them:
    [{"check", "ports", "first_port", "last_port", "title", "label", "findings"}]."""
    out = subprocess.run([exposure, "check", "--list", "--json"], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    return json.loads(out)["checks"]


class Listener:
    """TCP listener on (addr, port) for each addr: sends banner (bytes) after accept, then holds
    the connection hold seconds (or until the peer closes). Bounded: at most 256 connections."""

    def __init__(self, addrs, port, banner=b"", hold=0.3):
        self.socks = []
        self.banner = banner
        self.hold = hold
        self.stop = False
        self.accepted = 0
        for a in addrs:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a, port))
            s.listen(128)
            s.settimeout(0.2)
            self.socks.append(s)
        self.threads = [threading.Thread(target=self._run, args=(s,), daemon=True)
                        for s in self.socks]
        for t in self.threads:
            t.start()

    def _serve(self, c):
        try:
            if self.banner:
                c.sendall(self.banner)
            end = time.monotonic() + self.hold
            c.settimeout(0.1)
            while time.monotonic() < end and not self.stop:
                try:
                    if c.recv(4096) == b"":
                        break
                except socket.timeout:
                    pass
        except OSError:
            pass
        finally:
            c.close()

    def _run(self, s):
        while not self.stop:
            try:
                c, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.accepted > 256:
                c.close()
                continue
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def close(self):
        self.stop = True
        for s in self.socks:
            s.close()


def free_ports(n, addrs=("127.0.0.1",)):
    """n distinct ports in 10000-32767 free on every addr (nothing listens there now)."""
    out = []
    while len(out) < n:
        p = random.randint(10000, 32767 - 16)
        if p in out:
            continue
        ok = True
        for a in addrs:
            s = socket.socket()
            try:
                s.bind((a, p))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            out.append(p)
    return out


def free_range(n, addrs=("127.0.0.1",)):
    while True:
        first = random.randint(10000, 32767 - n)
        if all(len(free_ports_check(first + i, addrs)) for i in range(n)):
            return first


def free_ports_check(p, addrs):
    for a in addrs:
        s = socket.socket()
        try:
            s.bind((a, p))
        except OSError:
            return ""
        finally:
            s.close()
    return "ok"


class Server:
    def __init__(self, cmd, args, workdir=None, db=None, env=None):
        self.cmd = list(cmd)  # the program and its subcommand: [exposure, "serve"]
        self.dir = workdir or tempfile.mkdtemp(prefix="exposure-web-")
        self.db = db or os.path.join(self.dir, "exposure.db")
        self.key = os.path.join(self.dir, "exposure.key")
        self.args = args
        self.proc = None
        self.port = None
        self.env = env
        self.start()

    def start(self):
        self.port = free_ports(1)[0]
        cmd = self.cmd + ["--listen", "127.0.0.1:%d" % self.port, "--store", self.db,
               "--key", self.key] + self.args
        self.log = open(os.path.join(self.dir, "server-%d.log" % self.port), "w+")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        env.update(self.env or {})
        env = {k: v for k, v in env.items() if v is not None}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env=env)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.wait(5)
            self.log.seek(0)
            raise RuntimeError("server did not start: %r %s" % (line, self.log.read()))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.seek(0)
        self.log_text = self.log.read()
        self.log.close()
        return rc

    def client(self, src="127.0.0.1"):
        return Client("127.0.0.1", self.port, src)


class Response:
    def __init__(self, r, body):
        self.status = r.status
        self.headers = r.headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None


class Client:
    """One requester: HTTP from a fixed source address, with its own cookie jar."""

    def __init__(self, host, port, src):
        self.host, self.port, self.src = host, port, src
        self.cookies = {}
        self.csrf = None

    def authority(self):
        """host:port as a Host header writes it (an IPv6 literal in brackets)."""
        return ("[%s]:%d" if ":" in self.host else "%s:%d") % (self.host, self.port)

    def conn(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout,
                                          source_address=(self.src, 0))

    def request(self, method, path, body=None, headers=None, cookies=True):
        h = {"Host": self.authority()}
        if cookies and self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        h.update(headers or {})
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        for v in r.headers.get_all("Set-Cookie") or []:
            m = re.match(r"([^=]+)=([^;]*)", v)
            if m:
                self.cookies[m.group(1)] = m.group(2)
        return Response(r, data.decode("utf-8", "replace"))

    def whoami(self, headers=None):
        r = self.request("GET", "/api/whoami", headers=headers)
        if r.status == 200:
            self.csrf = r.json["csrf_token"]
        return r

    def post(self, headers=None, body=b"{}"):
        if self.csrf is None:
            self.whoami()
        h = {"X-CSRF-Token": self.csrf, "Content-Type": "application/json",
             "Origin": "http://" + self.authority(), "Sec-Fetch-Site": "same-origin"}
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        return self.request("POST", "/api/diagnoses", body=body, headers=h)

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def wait_done(self, did, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = self.get("/api/diagnoses/" + did)
            if r.status == 200 and r.json["status"] in ("done", "interrupted"):
                return r
            time.sleep(0.1)
        raise AssertionError("diagnosis %s not done in %ss" % (did, timeout))

    def events(self, did, timeout=60):
        """Read the SSE stream to its end; returns [(event, data)]."""
        c = self.conn(timeout)
        c.request("GET", "/api/diagnoses/%s/events" % did)
        r = c.getresponse()
        assert r.status == 200, r.status
        assert r.headers["Content-Type"].startswith("text/event-stream")
        out, ev, data = [], None, []
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line == "":
                if ev:
                    out.append((ev, json.loads("\n".join(data))))
                ev, data = None, []
        c.close()
        return out


def lab_ports(checks, addrs=("127.0.0.1",)):
    """Free ports on every addr for every check of checks (catalogue()), a range as wide as the
    check's own, no port given twice: {check: "port" or "first-last"}, for port_args()."""
    out, used = {}, set()
    for c in checks:
        width = c["last_port"] - c["first_port"] + 1
        for _ in range(1000):
            first = free_range(width, addrs)
            span = set(range(first, first + width))
            if not span & used:
                break
        else:
            raise RuntimeError("no free ports for %s" % c["check"])
        used |= span
        out[c["check"]] = str(first) if width == 1 else "%d-%d" % (first, first + width - 1)
    return out


def port_args(ports):
    """--port overrides for every check: ports is {check: port or 'first-last'}."""
    out = []
    for k, v in ports.items():
        out += ["--port", "%s=%s" % (k, v)]
    return out
