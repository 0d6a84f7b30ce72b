# SPDX-License-Identifier: MIT
"""Shared helpers of the attack suite (tests/attack): the service and its clients come from
tests/unit/web/webtest.py (on PYTHONPATH, set by tests/attack/meson.build); what only attacks
need is added here, once."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import traceback

from webtest import Client, Listener, Server, catalogue, free_ports, lab_ports, port_args  # noqa: F401

failures = []


def check(ok, what):
    """Record one assertion; every file ends with finish()."""
    if not ok:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return ok


def finish():
    """Exit 1 if any check failed, 0 otherwise, with a count line."""
    print("%d failed" % len(failures), flush=True)
    sys.exit(1 if failures else 0)


def deadline(seconds):
    """A monotonic deadline: every attack loop is bounded in time as well as in count."""
    return time.monotonic() + seconds


def exposure():
    """The exposure binary given as the first argument."""
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.stderr.write("usage: %s PATH/TO/exposure\n" % sys.argv[0])
        sys.exit(2)
    return sys.argv[1]


# ------------------------------------------------------------------------------------------
# Many visitors, raw HTTP, timing: what the attacks of the held defences share.

def lo_add(addrs):
    """Put addrs (198.18.0.0/15 or 2001:db8::/32 only: the namespace's own visitors) on lo.
    Only inside tests/isolated.sh's namespace: a test that is not there refuses to start."""
    for a in addrs:
        if not (a.startswith("198.18.") or a.startswith("198.19.") or
                a.lower().startswith("2001:db8:")):
            raise ValueError("not a test address: " + a)
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                           timeout=10).stdout.splitlines()
    if len(links) != 1 or ": lo:" not in links[0]:
        raise RuntimeError("lo_add outside a private namespace (run through tests/isolated.sh)")
    for a in addrs:
        plen = "128" if ":" in a else "32"
        subprocess.run(["ip", "addr", "add", "%s/%s" % (a, plen), "dev", "lo"] +
                       (["nodad"] if ":" in a else []), check=True, timeout=10)


def lab_server(exe, args=(), lab_addrs=("127.0.0.1",), env=None, **kw):
    """`exposure serve` with every check of the catalogue moved onto free loopback ports (so a
    diagnosis only ever probes this machine): returns (Server, {check: ports})."""
    ports = lab_ports(catalogue(exe), lab_addrs)
    return Server([exe, "serve"], port_args(ports) + list(args), env=env, **kw), ports


def first_port(spec):
    """The first port of a lab_ports value ("2201" or "2201-2210")."""
    return int(str(spec).split("-")[0])


def _whole(got):
    """True when got holds one whole response with a Content-Length."""
    head, sep, body = got.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length: *(\d+)\r?$", head)
    return bool(sep and m and len(body) >= int(m.group(1)))


def raw(port, data, src="127.0.0.1", host="127.0.0.1", timeout=5.0, limit=1 << 20,
        until_close=False, half_close=False, until=None):
    """Send data (bytes, or a list of bytes sent one after the other) on one TCP connection
    (then half-close it with half_close), read one whole response (or, with until_close, until
    the server closes) or until timeout. Returns (status of the first response or None, bytes).
    Without half_close the connection is closed at once after the answer: libmicrohttpd keeps
    a half-closed connection open until --conn-timeout, and it counts against the per-address
    connection limit meanwhile. until(bytes so far) -> bool: stop reading when true."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    got = b""
    end = deadline(timeout)
    try:
        s.bind((src, 0))
        s.connect((host, port))
        for part in (data if isinstance(data, list) else [data]):
            s.sendall(part)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        while len(got) < limit and time.monotonic() < end:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            got += b
            if until(got) if until else not until_close and _whole(got):
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", got)
    return (int(m.group(1)) if m else None), got


def timed(fn, *args, **kw):
    """(result, seconds) of one call."""
    t0 = time.monotonic()
    r = fn(*args, **kw)
    return r, time.monotonic() - t0


def healthy(srv, what, within=1.0, src="127.0.0.1"):
    """A new visitor's GET /healthz answers 200 within `within` seconds."""
    try:
        r, t = timed(srv.client(src).get, "/healthz")
    except OSError as e:
        return check(False, "%s: /healthz failed: %s" % (what, e))
    return check(r.status == 200 and t < within,
                 "%s: /healthz %d in %.3fs (want 200 within %.1fs)" % (what, r.status, t, within))


def metrics(srv):
    """/metrics as {name{labels}: value}."""
    out = {}
    for line in srv.client().get("/metrics").raw.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def sanitizer_clean(srv, what):
    """After srv.stop(): the log holds no sanitizer report."""
    text = getattr(srv, "log_text", "")
    return check("AddressSanitizer" not in text and "runtime error" not in text and
                 "LeakSanitizer" not in text, "%s: sanitizer report in the log:\n%s"
                 % (what, text[-3000:]))


def stop_clean(srv, what):
    """SIGTERM: exit 0 and no sanitizer report."""
    rc = srv.stop()
    check(rc == 0, "%s: exit %s after SIGTERM" % (what, rc))
    sanitizer_clean(srv, what)


def case(name, fn, *args):
    """Run one case, bounded by its own checks; an exception is a failure, not a crash."""
    t0 = time.monotonic()
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        check(False, "%s: %s: %s" % (name, type(e).__name__, e))
    print("case %-28s %.1fs" % (name, time.monotonic() - t0), flush=True)


def is_json(text):
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


class Hostile(Listener):
    """A hostile probed host: a Listener whose every connection gets payload, either at once
    (bytes) or one byte every `drip` seconds, then is held open `hold` seconds (or until the
    peer closes). Bounded like Listener: at most 256 connections, hold seconds each."""

    def __init__(self, addrs, port, payload, hold=0.3, drip=0):
        self.payload, self.drip = payload, drip
        super().__init__(addrs, port, b"", hold=hold)

    def _serve(self, c):
        try:
            c.settimeout(0.1)
            end = time.monotonic() + self.hold
            if not self.drip:
                c.sendall(self.payload)
            sent = 0
            while time.monotonic() < end and not self.stop:
                if self.drip and sent < len(self.payload):
                    c.sendall(self.payload[sent:sent + 1])
                    sent += 1
                    time.sleep(self.drip)
                    continue
                try:
                    if c.recv(4096) == b"":
                        break
                except socket.timeout:
                    pass
        except OSError:
            pass
        finally:
            c.close()


def sse_events(port, did, src="127.0.0.1", timeout=60):
    """The raw bytes of a diagnosis's event stream to its end, and its events parsed strictly:
    (bytes, [(event, data)]); data that is not JSON is kept as the text."""
    st, got = raw(port, b"GET /api/diagnoses/%s/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                  % (did.encode(), port), src=src, timeout=timeout,
                  until=lambda b: re.search(rb"event: (done|deleted)\n[^\n]*\n\n", b) is not None)
    body = got.partition(b"\r\n\r\n")[2]
    # Chunked transfer coding: take the chunks' data.
    text, rest = b"", body
    while rest:
        size, _, rest = rest.partition(b"\r\n")
        try:
            n = int(size.split(b";")[0], 16)
        except ValueError:
            text += size + rest  # not chunked
            break
        if n == 0:
            break
        text, rest = text + rest[:n], rest[n + 2:]
    out = []
    for block in text.decode("utf-8", "replace").split("\n\n"):
        ev, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if ev:
            d = "\n".join(data)
            try:
                d = json.loads(d)
            except ValueError:
                pass
            out.append((ev, d))
    return got, out
