#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (held): kill -9 and SIGTERM under load. 120 visitors post at once (8 threads) while
every diagnosis is kept busy by a silent port and 4 run at a time; a real kill -9 lands in the
middle of the posting. After the restart every diagnosis that was answered 202 is there, done
or interrupted (none lost, none still queued or running), and a new one runs. Then 60 more
and SIGTERM in the middle: the service exits 0 within its 15 s grace, an open event stream
ends, a POST during the stop is never answered 202 without being kept, and after the restart
every accepted id is done or interrupted again. The 4-diagnosis kill -9 of
tests/unit/web/test_api.py is the unloaded case. Usage: test_held_crash.py PATH/TO/exposure"""
import signal
import threading
import time

from attack import (Listener, case, check, exposure, finish, first_port, lab_server,
                    sanitizer_clean, stop_clean)

EXE = exposure()
ARGS = ["--max-inflight", "4", "--queue-max", "512", "--addr-rate", "0", "--prefix-rate", "0"]


def flood(srv, srcs, accepted, stop_after=None):
    """Post once from every source in srcs, 8 threads; 202 ids go to accepted [(src, id)].
    stop_after: (n, fn): call fn once when n posts have been answered."""
    lock = threading.Lock()
    todo = list(srcs)
    answered = [0]
    fired = [False]

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                src = todo.pop()
            try:
                r = srv.client(src).post()
                if r.status == 202:
                    with lock:
                        accepted.append((src, r.json["id"]))
            except OSError:
                pass  # the service is gone: no answer, nothing was promised
            with lock:
                answered[0] += 1
                go = stop_after and not fired[0] and answered[0] >= stop_after[0]
                if go:
                    fired[0] = True
            if go:
                stop_after[1]()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not any(t.is_alive() for t in threads), "posting threads ended")


def verify(srv, accepted, what):
    c = srv.client("127.0.0.1")
    states = {}
    for src, did in accepted:
        r = c.get("/api/diagnoses/" + did)
        s = r.json["status"] if r.status == 200 else "missing %d" % r.status
        states[s] = states.get(s, 0) + 1
    print("%s: %d accepted: %s" % (what, len(accepted), states), flush=True)
    check(set(states) <= {"done", "interrupted"}, "%s: every accepted id done or interrupted: %s"
          % (what, states))
    check(states.get("interrupted", 0) > 0, "%s: some were cut short (under load)" % what)
    return states


def t_kill9(srv):
    accepted = []
    srcs = ["127.0.90.%d" % i for i in range(1, 121)]
    flood(srv, srcs, accepted, stop_after=(60, lambda: srv.proc.send_signal(signal.SIGKILL)))
    srv.proc.wait(30)
    srv.proc = None
    srv.log.close()
    check(len(accepted) >= 40, "enough accepted before the kill: %d" % len(accepted))
    srv.start()
    verify(srv, accepted, "kill -9")
    c = srv.client("127.0.0.1")
    r = c.post()
    check(r.status == 202 and c.wait_done(r.json["id"], 60).json["status"] == "done",
          "a new diagnosis runs after the restart")


def t_sigterm(srv):
    accepted = []
    srcs = ["127.0.91.%d" % i for i in range(1, 61)]
    flood(srv, srcs, accepted)
    check(len(accepted) == len(srcs), "all accepted before SIGTERM: %d" % len(accepted))
    c = srv.client("127.0.92.1")
    events = []
    reader = threading.Thread(target=lambda: events.extend(c.events(accepted[-1][1], 40)),
                              daemon=True)
    reader.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    late = []
    flood(srv, ["127.0.93.%d" % i for i in range(1, 21)], late)
    rc = srv.proc.wait(30)
    took = time.monotonic() - t0
    check(rc == 0 and took < 20, "SIGTERM under load: exit %s in %.1fs" % (rc, took))
    reader.join(10)
    check(not reader.is_alive(), "an open event stream ends at the stop")
    srv.proc = None
    srv.log.seek(0)
    srv.log_text = srv.log.read()
    srv.log.close()
    sanitizer_clean(srv, "SIGTERM")
    srv.start()
    verify(srv, accepted, "SIGTERM")
    c = srv.client("127.0.0.1")
    for src, did in late:
        r = c.get("/api/diagnoses/" + did)
        check(r.status == 200 and r.json["status"] in ("done", "interrupted"),
              "a 202 during the stop is kept: %s" % r.status)


def main():
    srv, ports = lab_server(EXE, ARGS)
    silent = Listener(["0.0.0.0"], first_port(ports["skysea"]), b"", hold=30)
    try:
        case("kill -9 under load", t_kill9, srv)
        case("SIGTERM under load", t_sigterm, srv)
    finally:
        silent.close()
        stop_clean(srv, "crash")
    finish()


if __name__ == "__main__":
    main()
