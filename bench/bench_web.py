#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmark of `exposure serve` on loopback (issue 4), by hand:

  bench/bench_web.py throughput --exe build/src/web/exposure-serve [--total 6000] [--seconds 60]
  sudo bench/bench_web.py inflight --exe ... [--count 10000]   (in a private network namespace)

throughput: requesters spread over many 127.0.x.y source addresses run diagnoses back to back
(POST, then the SSE stream to "done") against lightweight responders (an SSH-banner listener
bound on every requester address; every other check on a closed port, answered by the kernel's
RST). Limits are raised for the run. Reports completed diagnoses per second, p50/p99 from POST
to done, the server's peak RSS (VmHWM), errors, 5xx, and whether every 202 reached done.

inflight: inside a fresh network namespace (its own loopback; nftables drops SYNs to the probed
ports, so every probe waits for its deadline), COUNT requesters each start one diagnosis; we
sample the server's in-flight gauge and RSS. The namespace is deleted at the end.

Every loop is bounded in count and in time; all traffic stays on loopback.
"""
import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time

BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"


def addresses(n):
    out = []
    for i in range(n):
        out.append("127.0.%d.%d" % (10 + i // 250, 1 + i % 250))
    return out


def responder(addrs, port, stop):
    """One thread: accept on every address, send the banner, close."""
    sel = selectors.DefaultSelector()
    socks = []
    for a in addrs:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a, port))
        s.listen(512)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    while not stop.is_set():
        for key, _ in sel.select(0.2):
            try:
                c, _ = key.fileobj.accept()
            except OSError:
                continue
            try:
                c.setblocking(False)
                c.send(BANNER)
            except OSError:
                pass
            c.close()
    for s in socks:
        s.close()


def free_port(addr="127.0.0.1"):
    while True:
        p = random.randint(10000, 32000)
        s = socket.socket()
        try:
            s.bind((addr, p))
            return p
        except OSError:
            continue
        finally:
            s.close()


def start_server(exe, port, extra, workdir):
    cmd = [exe, "--listen", "127.0.0.1:%d" % port, "--store", os.path.join(workdir, "b.db"),
           "--key", os.path.join(workdir, "b.key")] + extra
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(os.path.join(workdir, "log"), "w"),
                         text=True)
    line = p.stdout.readline()
    if "listening" not in line:
        raise SystemExit("server did not start: " + open(os.path.join(workdir, "log")).read())
    return p


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def client_proc(port, addrs, deadline, per_addr_max, q):
    """One process: one thread per source address, diagnoses back to back."""
    lat, errors, e5xx, ids_ok, ids_lost = [], 0, 0, 0, 0
    lock = threading.Lock()

    def worker(src):
        nonlocal errors, e5xx, ids_ok, ids_lost
        def conn():
            return http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                              source_address=(src, 0))
        c = conn()
        try:
            c.request("GET", "/api/whoami")
            r = c.getresponse()
            body = json.loads(r.read())
            token = body["csrf_token"]
        except Exception:  # noqa: BLE001
            with lock:
                errors += 1
            return
        hdr = {"X-CSRF-Token": token, "Cookie": "exposure_csrf=" + token,
               "Content-Type": "application/json"}
        n = 0
        while time.time() < deadline and n < per_addr_max:
            n += 1
            t0 = time.monotonic()
            try:
                c.request("POST", "/api/diagnoses", body=b"{}", headers=hdr)
                r = c.getresponse()
                body = r.read()
                if r.status >= 500:
                    with lock:
                        e5xx += 1
                if r.status != 202:
                    with lock:
                        errors += 1
                    time.sleep(0.05)
                    continue
                did = json.loads(body)["id"]
                c.request("GET", "/api/diagnoses/%s/events" % did)
                r = c.getresponse()
                done = None
                for raw in r:
                    line = raw.decode()
                    if line.startswith("data: ") and '"status"' in line and "risk" in line:
                        done = json.loads(line[6:])["status"]
                r.read()
                dt = time.monotonic() - t0
                with lock:
                    if done == "done":
                        lat.append(dt)
                        ids_ok += 1
                    else:
                        ids_lost += 1
            except Exception:  # noqa: BLE001
                with lock:
                    errors += 1
                c.close()
                c = conn()
        c.close()

    threads = [threading.Thread(target=worker, args=(a,)) for a in addrs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q.put((lat, errors, e5xx, ids_ok, ids_lost))


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


def throughput(a):
    addrs = addresses(a.requesters)
    ssh_port = free_port()
    closed = []
    while len(closed) < 5:
        p = free_port()
        if p not in closed and p != ssh_port:
            closed.append(p)
    sky = free_port()
    stop = threading.Event()
    rt = threading.Thread(target=responder, args=(addrs, ssh_port, stop), daemon=True)
    rt.start()
    work = tempfile.mkdtemp(prefix="bench-web-")
    port = free_port()
    srv = start_server(a.exe, port, [
        "--port", "ssh=%d" % ssh_port, "--port", "telnet=%d" % closed[0],
        "--port", "netbios=%d" % closed[1], "--port", "smb=%d" % closed[2],
        "--port", "rdp=%d" % closed[3], "--port", "vnc=%d" % closed[4],
        "--port", "skysea=%d-%d" % (sky, sky + 15),
        "--addr-rate", "100000000", "--addr-burst", "100000000", "--prefix-rate", "100000000",
        "--prefix-burst", "100000000", "--max-inflight", "4096", "--queue-max", "100000",
        "--conn-limit", "20000", "--per-ip-conn-limit", "0", "--threads", str(a.threads),
        "--done-cache", "2000"], work)
    time.sleep(0.5)
    deadline = time.time() + a.seconds
    per_addr = max(1, a.total // len(addrs))
    q = mp.Queue()
    procs = []
    chunk = (len(addrs) + a.procs - 1) // a.procs
    t0 = time.monotonic()
    for i in range(a.procs):
        sub = addrs[i * chunk:(i + 1) * chunk]
        if sub:
            p = mp.Process(target=client_proc, args=(port, sub, deadline, per_addr, q))
            p.start()
            procs.append(p)
    lat, errors, e5xx, ok, lost = [], 0, 0, 0, 0
    for _ in procs:
        l_, e, e5, o, lo = q.get()
        lat += l_
        errors += e
        e5xx += e5
        ok += o
        lost += lo
    for p in procs:
        p.join()
    elapsed = time.monotonic() - t0
    rss = vm(srv.pid, "VmHWM")
    metrics = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    metrics.request("GET", "/metrics")
    mtext = metrics.getresponse().read().decode()
    created = float(re.search(r'status="created"\} (\S+)', mtext).group(1))
    done = float(re.search(r'status="done"\} (\S+)', mtext).group(1))
    srv.terminate()
    srv.wait(30)
    stop.set()
    print("requesters %d, client processes %d, server threads %d" % (len(addrs), a.procs, a.threads))
    print("completed %d diagnoses in %.1f s: %.0f per second" % (ok, elapsed, ok / elapsed))
    print("POST -> done: p50 %.1f ms, p99 %.1f ms" % (pct(lat, 50) * 1000, pct(lat, 99) * 1000))
    print("server peak RSS %.1f MiB" % (rss / 1024.0))
    print("errors %d, 5xx %d, not done %d; server created %d done %d" %
          (errors, e5xx, lost, created, done))


def sh(*cmd):
    subprocess.run(cmd, check=True)


def inflight(a):
    if os.geteuid() != 0:
        raise SystemExit("inflight needs root (a private network namespace)")
    ns = "webbench%d" % os.getpid()
    if not os.environ.get("BENCH_IN_NS"):
        sh("ip", "netns", "add", ns)
        try:
            env = dict(os.environ, BENCH_IN_NS="1")
            subprocess.run(["ip", "netns", "exec", ns, sys.executable] + sys.argv, env=env,
                           check=True)
        finally:
            sh("ip", "netns", "del", ns)
        return
    sh("ip", "link", "set", "lo", "up")
    ports = [free_port() for _ in range(7)]
    # Drop SYNs to the probed ports: every probe waits for its deadline (a "filtered" port).
    rules = "table inet webbench { chain in { type filter hook input priority 0; " \
            "tcp dport { %s } tcp flags syn drop; } }" % ", ".join(str(p) for p in ports[:6] +
                                                                 list(range(ports[6], ports[6] + 16)))
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
    work = tempfile.mkdtemp(prefix="bench-web-inflight-")
    port = free_port()
    srv = start_server(a.exe, port, [
        "--port", "ssh=%d" % ports[0], "--port", "telnet=%d" % ports[1],
        "--port", "netbios=%d" % ports[2], "--port", "smb=%d" % ports[3],
        "--port", "rdp=%d" % ports[4], "--port", "vnc=%d" % ports[5],
        "--port", "skysea=%d-%d" % (ports[6], ports[6] + 15),
        "--addr-rate", "100000000", "--addr-burst", "100000000", "--prefix-rate", "100000000",
        "--prefix-burst", "100000000", "--max-inflight", str(a.count + 10),
        "--queue-max", str(a.count + 10), "--conn-limit", "20000", "--per-ip-conn-limit", "0",
        "--engine-sockets", "65536", "--rtt-floor-ms", "20000", "--rtt-ceiling-ms", "20000",
        "--threads", "2"], work)
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
    addrs = addresses(a.count)
    t0 = time.monotonic()
    accepted = errors = 0
    token = None
    for src in addrs:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(src, 0))
        try:
            if token is None:
                c.request("GET", "/api/whoami")
                token = json.loads(c.getresponse().read())["csrf_token"]
            c.request("POST", "/api/diagnoses", body=b"{}", headers={
                "X-CSRF-Token": token, "Cookie": "exposure_csrf=" + token})
            r = c.getresponse()
            r.read()
            accepted += r.status == 202
            errors += r.status != 202
        except Exception:  # noqa: BLE001
            errors += 1
        c.close()
        if time.monotonic() - t0 > a.seconds:
            break
    post_s = time.monotonic() - t0
    peak_inflight = 0
    for _ in range(20):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/metrics")
        m = c.getresponse().read().decode()
        peak_inflight = max(peak_inflight, int(re.search(r"exposure_diagnoses_in_flight (\d+)", m).group(1)))
        time.sleep(0.25)
    rss = vm(srv.pid, "VmHWM")
    srv.kill()
    srv.wait()
    print("accepted %d (errors %d) in %.1f s; peak in flight %d; server peak RSS %.1f MiB" %
          (accepted, errors, post_s, peak_inflight, rss / 1024.0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["throughput", "inflight"])
    ap.add_argument("--exe", required=True)
    ap.add_argument("--requesters", type=int, default=200)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--total", type=int, default=6000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--count", type=int, default=10000)
    a = ap.parse_args()
    a.exe = os.path.abspath(a.exe)
    (throughput if a.mode == "throughput" else inflight)(a)


if __name__ == "__main__":
    main()
