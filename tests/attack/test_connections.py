# SPDX-License-Identifier: MIT
"""Connection exhaustion (issue 9 §1) and two front-door holes of §5, against `exposure serve`
in a private namespace (tests/isolated.sh) whose lo carries the visitors' addresses
(2001:db8::/32, 198.18.0.0/15).

- one /64: 64 addresses x 16 connections, one header byte per second each (never idle for
  --conn-timeout), against --conn-limit 64: a visitor from another network is answered within
  1 s throughout;
- many networks (8 /48s x 12 slow connections) fill the table: the one waiting longest is shed,
  the visitor is still answered within 1 s;
- slowloris on the headers and on the body: cut at --request-timeout whatever the byte rate,
  while a slow but whole request inside it is answered;
- the limits per IPv4 address, per IPv6 /64 and per /48, counted by the service;
- --listen [::]:PORT serves an IPv4 visitor too, seen as its IPv4 address;
- a GET with 300 query arguments is answered 414 at once.
Usage: test_connections.py PATH/TO/exposure"""
import json
import resource
import socket
import threading
import time

from attack import (Server, case, check, deadline, exposure, finish, lo_add, metrics,
                    stop_clean)

EXE = exposure()
V6_SERVER = "2001:db8:ffff::1"
V4_VISITOR = "198.18.7.7"
V6_VISITOR = "2001:db8:7::7"
REQUEST_TIMEOUT = 3
SLOW_LINE = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 4096)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def start(args):
    """The service on 127.0.0.1 (webtest's Server) and on V6_SERVER or [::]: (Server, v6 port)."""
    srv = Server([EXE, "serve"], args)
    line = srv.proc.stdout.readline()
    check("listening on http://[" in line, "second listener announced: %r" % line)
    return srv, int(line.strip().rstrip("/").rsplit(":", 1)[1])


def dst_of(src, srv, v6port):
    return (V6_SERVER, v6port) if ":" in src else ("127.0.0.1", srv.port)


def connect(src, dst, timeout=2.0):
    s = socket.socket(socket.AF_INET6 if ":" in src else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect(dst)
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s


def closed(s):
    """True once the server ended s (EOF or reset); False while it is open and silent."""
    try:
        return s.recv(65536, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def visit(src, dst, path="/healthz", timeout=1.0, host=None):
    """One GET from src: (status or None, seconds)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET6 if ":" in src else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    got = b""
    try:
        s.bind((src, 0))
        s.connect(dst)
        h = host or ("[%s]:%d" % dst if ":" in dst[0] else "%s:%d" % dst)
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" %
                   (path, h)).encode())
        while time.monotonic() - t0 < timeout and b"\r\n" not in got:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    finally:
        s.close()
    dt = time.monotonic() - t0
    try:
        return int(got.split(b" ", 2)[1]), dt
    except (IndexError, ValueError):
        return None, dt


class Visitor(threading.Thread):
    """A legitimate visitor from another network: GET /healthz every 0.25 s, from IPv4 and
    IPv6 in turn, each must be 200 within 1 s. Bounded by its deadline."""

    def __init__(self, srv, v6port, seconds):
        super().__init__(daemon=True)
        self.dsts = [(V4_VISITOR, ("127.0.0.1", srv.port)), (V6_VISITOR, (V6_SERVER, v6port))]
        self.end = deadline(seconds)
        self.results = []

    def run(self):
        i = 0
        while time.monotonic() < self.end:
            src, dst = self.dsts[i % 2]
            st, dt = visit(src, dst)
            self.results.append((src, st, dt))
            i += 1
            time.sleep(max(0.0, 0.25 - dt))

    def verdict(self, what):
        bad = [r for r in self.results if r[1] != 200 or r[2] > 1.0]
        worst = max((r[2] for r in self.results), default=0)
        print("%s: %d visits, %d late or refused, slowest %.3f s" %
              (what, len(self.results), len(bad), worst), flush=True)
        check(len(self.results) >= 10, "%s: the visitor asked (%d)" % (what, len(self.results)))
        check(not bad, "%s: every visit answered 200 within 1 s (%s)" % (what, bad[:5]))


def slow_attack(srv, v6port, sources, per_source, seconds, max_opens):
    """per_source connections from each source, one header byte per second each, reopened when
    the service ends them (at most max_opens opens). Returns (opens, ends before the
    deadline, most attacker connections open at once)."""
    conns = []  # [socket or None, src, bytes sent, opened at, next send]
    opens = early = most = 0
    end = deadline(seconds)
    for src in sources:
        for _ in range(per_source):
            conns.append([None, src, 0, 0.0, 0.0])
    while time.monotonic() < end:
        now = time.monotonic()
        n_open = 0
        for c in conns:
            if c[0] is not None and closed(c[0]):
                if now - c[3] < REQUEST_TIMEOUT - 0.5:
                    early += 1
                c[0].close()
                c[0] = None
            if c[0] is None and opens < max_opens:
                c[0] = connect(c[1], dst_of(c[1], srv, v6port), timeout=0.5)
                opens += 1
                c[2], c[3], c[4] = 0, time.monotonic(), time.monotonic() + (opens % 10) / 10
            if c[0] is not None and now >= c[4]:
                try:
                    c[0].send(SLOW_LINE[c[2]:c[2] + 1])
                    c[2] += 1
                except OSError:
                    pass
                c[4] = now + 1.0
            n_open += c[0] is not None
        most = max(most, n_open)
        time.sleep(0.1)
    for c in conns:
        if c[0] is not None:
            c[0].close()
    return opens, early, most


def t_one_64(srv, v6port):
    """The issue's attack, scaled: 64 addresses of one /64 x 16 connections."""
    sources = ["2001:db8:1::%x" % (i + 1) for i in range(64)]
    v = Visitor(srv, v6port, 9)
    v.start()
    opens, early, most = slow_attack(srv, v6port, sources, 16, 10, 20000)
    v.join()
    print("one /64: %d opens, %d ended early, %d open at most" % (opens, early, most),
          flush=True)
    v.verdict("one /64 x 1024 slow connections")
    m = metrics(srv)
    closed_by = 'exposure_http_connections_closed_total{reason="%s"}'
    check(m.get(closed_by % "network-limit", 0) > 1000,
          "/metrics counts the /64's refusals: %s" % m.get(closed_by % "network-limit"))


def t_many_networks(srv, v6port):
    """8 /48s x 12 slow connections (96 > --conn-limit 64): the table sheds for room."""
    sources = ["2001:db8:%x::1" % (0x10 + i) for i in range(8)]
    v = Visitor(srv, v6port, 6)
    v.start()
    opens, early, most = slow_attack(srv, v6port, sources, 12, 7, 5000)
    v.join()
    print("8 /48s: %d opens, %d ended early, %d open at most" % (opens, early, most),
          flush=True)
    v.verdict("8 networks filling the table")
    check(early > 0, "a full table sheds connections before their deadline (%d)" % early)
    m = metrics(srv)
    check(m.get('exposure_http_connections_closed_total{reason="shed"}', 0) > 0,
          "/metrics counts the connections shed for room")


def lifetimes(socks, limit):
    """Seconds until the service ends each socket (None: still open after limit)."""
    t0 = time.monotonic()
    out = [None] * len(socks)
    while time.monotonic() - t0 < limit and None in out:
        for i, s in enumerate(socks):
            if out[i] is None and closed(s):
                out[i] = time.monotonic() - t0
        time.sleep(0.05)
    return out


def t_slowloris(srv, v6port):
    """Headers, then a body, one byte every 0.5 s: never idle, never whole. Cut at the total
    deadline; a request that takes 1.5 s but arrives whole is answered."""
    lo_add(["198.18.2.%d" % (i + 1) for i in range(4)] + ["198.18.3.1", "198.18.3.2"])
    heads, bodies = [], []
    for i in range(4):
        for _ in range(4):
            heads.append(connect("198.18.2.%d" % (i + 1), ("127.0.0.1", srv.port)))
    for _ in range(4):
        s = connect("198.18.3.1", ("127.0.0.1", srv.port))
        if s:
            s.send(b"POST /api/diagnoses HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{" % srv.port)
        bodies.append(s)
    check(None not in heads + bodies, "slowloris connections opened")
    socks = [s for s in heads + bodies if s]
    t0 = time.monotonic()
    ends = [None] * len(socks)
    sent = 0
    # Trickle a byte every 0.5 s (bounded: REQUEST_TIMEOUT + 3 s) and note when each ends.
    while time.monotonic() - t0 < REQUEST_TIMEOUT + 3 and None in ends:
        for i, s in enumerate(socks):
            if ends[i] is None and closed(s):
                ends[i] = time.monotonic() - t0
            elif ends[i] is None and sent % 10 == 0:
                try:
                    s.send(b"a")
                except OSError:
                    pass
        sent += 1
        time.sleep(0.05)
    print("slowloris: ends after %s s" % ["%.1f" % e if e else None for e in ends], flush=True)
    for s in socks:
        s.close()
    check(all(e is not None and REQUEST_TIMEOUT - 0.5 <= e <= REQUEST_TIMEOUT + 1.5
              for e in ends),
          "slow headers and bodies are cut at --request-timeout %d s: %s" % (REQUEST_TIMEOUT, ends))
    n = metrics(srv).get('exposure_http_connections_closed_total{reason="request-timeout"}', 0)
    check(n >= len(socks), "/metrics counts them (%s >= %d)" % (n, len(socks)))
    # Slow but whole within the deadline: three pieces over 1.5 s.
    s = connect("198.18.3.2", ("127.0.0.1", srv.port))
    got = b""
    if check(s is not None, "slow visitor connects"):
        s.setblocking(True)
        s.settimeout(3)
        for part in (b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", b"Connection: close\r\n\r\n"):
            s.sendall(part)
            time.sleep(0.75)
        try:
            got = s.recv(4096)
        except OSError:
            pass
        s.close()
    check(got.startswith(b"HTTP/1.1 200 "), "a slow whole request is answered: %r" % got[:40])


def count_open(socks, settle=0.5):
    time.sleep(settle)
    return sum(1 for s in socks if s is not None and not closed(s))


def t_limits(exe_args):
    """Per IPv4 address, per IPv6 /64, per /48: counted by the service, given back on close."""
    srv, v6port = start(exe_args + ["--conn-limit", "256", "--per-ip-conn-limit", "8",
                                    "--per-48-conn-limit", "24", "--request-timeout", "30"])
    opened = []
    try:
        one64 = ["2001:db8:3::%x" % (i + 1) for i in range(4)]
        one48 = ["2001:db8:4:%x::1" % (i + 1) for i in range(5)]
        v4 = ["198.18.4.1", "198.18.4.2"]
        lo_add(one64 + one48 + v4 + ["2001:db8:5::1"])
        a = [connect(src, (V6_SERVER, v6port)) for src in one64 for _ in range(6)]
        opened += a
        n = count_open(a)
        check(n == 8, "4 addresses of one /64 x 6: 8 held (per-ip-conn-limit), got %d" % n)
        b = [connect(src, (V6_SERVER, v6port)) for src in one48 for _ in range(8)]
        opened += b
        n = count_open(b)
        check(n == 24, "5 /64s of one /48 x 8: 24 held (per-48-conn-limit), got %d" % n)
        c = [connect("198.18.4.1", ("127.0.0.1", srv.port)) for _ in range(12)]
        d = [connect("198.18.4.2", ("127.0.0.1", srv.port)) for _ in range(4)]
        opened += c + d
        n, m = count_open(c), count_open(d, 0)
        check(n == 8 and m == 4, "IPv4: 12 from one address, 8 held; 4 from the next, 4 (%d, %d)"
              % (n, m))
        st, _ = visit("2001:db8:5::1", (V6_SERVER, v6port))
        check(st == 200, "another /48 is answered while one holds its maximum: %s" % st)
        st, _ = visit(V4_VISITOR, ("127.0.0.1", srv.port), path="/",
                      host="127.0.0.1:%d" % srv.port)
        check(st == 200, "the page is answered meanwhile: %s" % st)
        # 8 + 24 + 8 + 4 held, and the /metrics request itself.
        n = metrics(srv).get("exposure_http_connections", 0)
        check(45 <= n <= 47, "/metrics: the table holds the 44 held connections (%s)" % n)
        # Closing 4 of the /64's connections gives 4 places back to that /64.
        held = [s for s in a if s is not None and not closed(s)]
        for s in held[:4]:
            s.close()
            opened.remove(s)
        time.sleep(0.3)
        e = [connect(one64[0], (V6_SERVER, v6port)) for _ in range(6)]
        opened += e
        n = count_open(e)
        check(n == 4, "after 4 closes, 4 more from the /64 are held, got %d" % n)
    finally:
        for s in opened:
            if s is not None:
                s.close()
        stop_clean(srv, "limits server")


def t_dual_stack():
    """--listen [::]:PORT answers IPv4 too, and the visitor is its IPv4 address, unmapped."""
    srv, port = start(["--listen", "[::]:0"])
    try:
        for src, dst, want in (("127.0.0.1", "127.0.0.1", "127.0.0.1"), ("::1", "::1", "::1")):
            fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.settimeout(3)
            got = b""
            try:
                s.connect((dst, port))
                h = "[%s]:%d" % (dst, port) if ":" in dst else "%s:%d" % (dst, port)
                s.sendall(("GET /api/whoami HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                           % h).encode())
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    got += b
            except OSError as e:
                got = str(e).encode()
            finally:
                s.close()
            head, _, body = got.partition(b"\r\n\r\n")
            ok = head.startswith(b"HTTP/1.1 200 ")
            try:
                addr = json.loads(body)["address"] if ok else None
            except ValueError:
                addr = None
            check(ok and addr == want, "[::] listener, visitor %s: 200 as %s, got %r %r" %
                  (src, want, head[:30], addr))
    finally:
        stop_clean(srv, "dual-stack server")


def t_query_args(srv):
    """300 query arguments: 414 at once (libmicrohttpd 0.9.75 said nothing until the timeout);
    the page's own arguments still work."""
    dst = ("127.0.0.1", srv.port)
    many = "&".join("a%d=1" % i for i in range(300))
    st, dt = visit("127.0.0.1", dst, path="/healthz?" + many, timeout=3)
    check(st == 414 and dt < 1.0, "300 query arguments: 414 at once (%s in %.2f s)" % (st, dt))
    st, dt = visit("127.0.0.1", dst, path="/api/advice?" + many + "&lang=ja", timeout=3)
    check(st == 414 and dt < 1.0, "on the API too (%s in %.2f s)" % (st, dt))
    st, _ = visit("127.0.0.1", dst, path="/api/advice?lang=ja", timeout=3)
    check(st == 200, "/api/advice?lang=ja still answered: %s" % st)
    st, _ = visit("127.0.0.1", dst, path="/healthz?" + "&".join(["b=2"] * 16), timeout=3)
    check(st == 200, "16 arguments are answered: %s" % st)


def t_query_args_small_pool():
    """With the smallest --conn-memory the arguments a request may have fit its pool."""
    srv = Server([EXE, "serve"], ["--conn-memory", "4096"])
    try:
        q = "&".join("k%d=%s" % (i, "v" * 100) for i in range(16))
        st, dt = visit("127.0.0.1", ("127.0.0.1", srv.port), path="/healthz?" + q, timeout=3)
        check(st in (200, 414, 431) and dt < 1.0, "16 long arguments in 4 KiB: answered at "
              "once (%s in %.2f s)" % (st, dt))
        q = "&".join("a%d=1" % i for i in range(60))
        st, dt = visit("127.0.0.1", ("127.0.0.1", srv.port), path="/healthz?" + q, timeout=3)
        check(st == 414 and dt < 1.0, "60 arguments in 4 KiB: 414 at once (%s in %.2f s)" %
              (st, dt))
    finally:
        stop_clean(srv, "small-pool server")


def main():
    raise_nofile()
    lo_add([V6_SERVER, V4_VISITOR, V6_VISITOR] + ["2001:db8:1::%x" % (i + 1) for i in range(64)] +
           ["2001:db8:%x::1" % (0x10 + i) for i in range(8)])
    base = ["--request-timeout", str(REQUEST_TIMEOUT), "--listen", "[%s]:0" % V6_SERVER]
    srv = None
    try:
        srv, v6port = start(base + ["--conn-limit", "64"])
        case("one /64", t_one_64, srv, v6port)
        case("many networks", t_many_networks, srv, v6port)
        case("slowloris", t_slowloris, srv, v6port)
        case("query arguments", t_query_args, srv)
    except Exception as e:
        check(False, "service under attack: %r" % e)
    finally:
        if srv is not None:
            stop_clean(srv, "attacked server")
    case("limits", t_limits, ["--listen", "[%s]:0" % V6_SERVER])
    case("dual stack", t_dual_stack)
    case("query arguments, 4 KiB", t_query_args_small_pool)
    finish()


if __name__ == "__main__":
    main()
