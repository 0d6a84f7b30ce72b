#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): event-stream floods. 480 streams from 40 visitors (198.18.2.0/24 on lo,
12 each) held open on one queued diagnosis, a third of them dropped with a reset half-way:
/healthz, whoami and the page answer a new visitor within a second throughout (an open stream
suspends its connection: no HTTP thread waits for a probe); every stream still open gets the
diagnosis's events and ends with done. Then 200 streams of an unknown id (404 at once) and
200 of a finished one (done at once). The service exits cleanly.
Usage: test_held_sse_flood.py PATH/TO/exposure"""
import selectors
import socket
import statistics
import struct
import time

from attack import (Listener, case, check, deadline, exposure, finish, first_port, healthy,
                    lab_server, lo_add, metrics, stop_clean, timed)

EXE = exposure()
VISITORS = ["198.18.2.%d" % i for i in range(1, 41)]
PER_VISITOR = 12


class Stream:
    def __init__(self, port, src, did):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.bind((src, 0))
        self.s.connect(("127.0.0.1", port))
        self.s.sendall(b"GET /api/diagnoses/%s/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                       % (did.encode(), port))
        self.s.setblocking(False)
        self.got = b""
        self.closed = False

    def reset(self):
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()
        self.closed = True


def drain(streams, until, seconds):
    """Read every open stream until until(stream) holds for all, or seconds pass."""
    sel = selectors.DefaultSelector()
    for st in streams:
        if not st.closed:
            sel.register(st.s, selectors.EVENT_READ, st)
    end = deadline(seconds)
    while time.monotonic() < end and any(not until(st) for st in streams if not st.closed):
        for key, _ in sel.select(0.2):
            st = key.data
            try:
                b = st.s.recv(65536)
            except (BlockingIOError, ConnectionResetError):
                b = None
            if b:
                st.got += b
            elif b == b"":
                sel.unregister(st.s)
                st.s.close()
                st.closed = True
    sel.close()


def latencies(srv, n):
    out = []
    for i in range(n):
        c = srv.client("127.0.71.%d" % (1 + i % 200))
        for path in ("/healthz", "/api/whoami", "/"):
            r, t = timed(c.get, path)
            check(r.status == 200, "%s during the flood: %d" % (path, r.status))
            out.append(t)
    return out


def t_flood(srv, ports):
    lo_add(VISITORS)
    # Two visitors keep the one engine slot busy (a silent port each): the target waits queued.
    blockers = ["127.0.70.1", "127.0.70.2"]
    silent = Listener(blockers, first_port(ports["skysea"]), b"", hold=20)
    try:
        for b in blockers:
            check(srv.client(b).post().status == 202, "blocker accepted")
        c = srv.client("127.0.70.3")
        r = c.post()
        check(r.status == 202, "target accepted: %d" % r.status)
        did = r.json["id"]
        check(c.get("/api/diagnoses/" + did).json["status"] == "queued", "target queued")
        streams = [Stream(srv.port, v, did) for v in VISITORS for _ in range(PER_VISITOR)]
        drain(streams, lambda st: b"\r\n\r\n" in st.got, 20)
        ok = sum(1 for st in streams if st.got.startswith(b"HTTP/1.1 200 ") and
                 b"text/event-stream" in st.got)
        check(ok == len(streams), "%d of %d streams open" % (ok, len(streams)))
        lat = latencies(srv, 20)
        check(max(lat) < 1.0 and statistics.median(lat) < 0.2,
              "a new visitor during 480 streams: median %.3fs, max %.3fs"
              % (statistics.median(lat), max(lat)))
        for st in streams[::3]:
            st.reset()
        lat = latencies(srv, 10)
        check(max(lat) < 1.0, "after 160 resets: max %.3fs" % max(lat))
        drain(streams, lambda st: b"event: done" in st.got, 60)
        alive = [st for st in streams if st not in streams[::3]]
        done = sum(1 for st in alive if b"event: done" in st.got and b"event: check" in st.got)
        check(done == len(alive), "%d of %d streams saw the checks and done" % (done, len(alive)))
        for st in streams:
            if not st.closed:
                st.s.close()
        check(c.wait_done(did).json["status"] == "done", "the target finished")
    finally:
        silent.close()
    return did


def t_quick(srv, did):
    unknown = "0" * 32
    streams = [Stream(srv.port, VISITORS[i % len(VISITORS)], unknown) for i in range(200)]
    drain(streams, lambda st: b"\r\n\r\n" in st.got, 20)
    check(all(st.got.startswith(b"HTTP/1.1 404 ") for st in streams), "unknown id: 404")
    for st in streams:
        if not st.closed:
            st.s.close()
    streams = [Stream(srv.port, VISITORS[i % len(VISITORS)], did) for i in range(200)]
    drain(streams, lambda st: b"event: done" in st.got, 30)
    check(all(b"event: done" in st.got for st in streams), "finished id: done at once")
    for st in streams:
        if not st.closed:
            st.s.close()
    healthy(srv, "after the floods")


def main():
    srv, ports = lab_server(EXE, ["--max-inflight", "1", "--per-ip-conn-limit", "16",
                                  "--conn-limit", "1024"])
    try:
        got = []
        case("480 streams", lambda: got.append(t_flood(srv, ports)))
        if got:
            case("unknown and finished ids", t_quick, srv, got[0])
        time.sleep(0.5)
        m = metrics(srv)
        check(m.get("exposure_diagnoses_in_flight", -1) == 0, "nothing in flight at the end")
    finally:
        stop_clean(srv, "sse flood")
    finish()


if __name__ == "__main__":
    main()
