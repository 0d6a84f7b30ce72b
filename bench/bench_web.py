#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmark of `exposure serve` on loopback (issue 4), by hand:

  bench/bench_web.py throughput --exe build/src/cli/exposure [--total 6000] [--seconds 60]
  bench/bench_web.py throughput --exe ... --store postgresql://... [--nodes 2]   (issue 14)
  sudo bench/bench_web.py throughput --tickets --exe ...      (two-ticket diagnoses, namespace)
  sudo bench/bench_web.py throughput --netns --exe ...        (single-address, same namespace)
  sudo bench/bench_web.py inflight --exe ... [--count 10000]   (in a private network namespace)

throughput: requesters spread over many 127.0.x.y source addresses run diagnoses back to back
(POST, then the SSE stream to "done") against lightweight responders (an SSH-banner listener
bound on every requester address; every other check on a closed port, answered by the kernel's
RST). Limits are raised for the run. Reports completed diagnoses per second, p50/p99 from POST
to done, the server's peak RSS (VmHWM), errors, 5xx, and whether every 202 reached done.

throughput --netns: the same, inside a fresh network namespace (as inflight's) with requesters
from 198.18.x.y (--allow 198.18.0.0/15): the same-run peer of --tickets.
throughput --tickets (issue 10 §1, implies --netns): every requester also holds an IPv6 address
(2001:db8:1::N on the namespace's loopback, --allow 2001:db8::/32); the service listens on
198.18.0.1 and [2001:db8::1] with --origin, --v4-host and --v6-host, and each diagnosis is what
the page does: GET /api/ticket on the IPv4 host and on the IPv6 host (from the IPv6 address),
then POST /api/diagnoses with both tickets (one diagnosis of the two addresses: 14 checks over
44 ports), then the SSE stream to "done". The SSH responder answers on both families. Latency is
counted from the first ticket request.

inflight: inside a fresh network namespace (its own loopback, where 198.18.0.0/15 is made
local; nftables drops SYNs to the probed ports, so every probe waits for its deadline), COUNT
requesters from 198.18.x.y (--allow 198.18.0.0/15) each start one diagnosis from 4 processes
x 32 threads; we sample the in-flight gauge, open fds and the server's RSS until every
diagnosis is done, then count the store's rows. The namespace is deleted at the end.

--serve-arg passes one more argument to `exposure serve` (repeatable: --serve-arg=--probers
--serve-arg=2). Memory and CPU are the server's and its probers' (issue 11): the children of
the server process, their VmHWM and CPU seconds summed.

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
    """One thread: accept on every address, send the banner, close. An address "::" listens
    on every IPv6 address (IPv6 only), "0.0.0.0" on every IPv4 one."""
    sel = selectors.DefaultSelector()
    socks = []
    for a in addrs:
        s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if ":" in a:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
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


def start_server(exe, port, extra, workdir, host="127.0.0.1", store=None):
    cmd = [exe, "serve", "--listen", "%s:%d" % (host, port),
           "--store", store or os.path.join(workdir, "b.db"),
           "--key", os.path.join(workdir, "b.key")] + extra
    log = os.path.join(workdir, "log-%d" % port)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
    line = p.stdout.readline()
    if "listening" not in line:
        raise SystemExit("server did not start: " + open(log).read())
    return p


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def client_proc(srv, addrs, deadline, per_addr_max, q):
    """One process: one thread per requester, diagnoses back to back. srv: host, port and, for
    two-ticket diagnoses, host6 and the names (main, v4, v6); addrs: (IPv4, IPv6 or None)."""
    lat, errors, e5xx, ids_ok, ids_lost = [], 0, 0, 0, 0
    lock = threading.Lock()
    port = srv["port"]
    names = srv.get("names")

    def worker(src, src6):
        nonlocal errors, e5xx, ids_ok, ids_lost
        def conn():
            return http.client.HTTPConnection(srv["host"], port, timeout=60,
                                              source_address=(src, 0))

        def conn6():
            return http.client.HTTPConnection(srv["host6"], port, timeout=60,
                                              source_address=(src6, 0))
        c = conn()
        c6 = conn6() if src6 else None
        main = {"Host": names[0]} if names else {}
        try:
            c.request("GET", "/api/whoami", headers=main)
            r = c.getresponse()
            body = json.loads(r.read())
            token = body["csrf_token"]
        except Exception:  # noqa: BLE001
            with lock:
                errors += 1
            return
        hdr = {"X-CSRF-Token": token, "Cookie": "exposure_csrf=" + token,
               "Content-Type": "application/json"}
        hdr.update(main)
        if names:
            hdr["Origin"] = "http://" + names[0]

        def ticket(cc, name):
            """GET /api/ticket on a family host, as the page asks it (its Origin, csrf=)."""
            cc.request("GET", "/api/ticket?csrf=" + token,
                       headers={"Host": name, "Origin": "http://" + names[0]})
            r = cc.getresponse()
            b = r.read()
            if r.status != 200:
                raise TicketRefused(r.status)
            return json.loads(b)["ticket"]
        n = 0
        while time.time() < deadline and n < per_addr_max:
            n += 1
            t0 = time.monotonic()
            try:
                body = b"{}"
                if c6:
                    body = json.dumps({"tickets": [ticket(c, names[1]),
                                                   ticket(c6, names[2])]}).encode()
                c.request("POST", "/api/diagnoses", body=body, headers=hdr)
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
                c.request("GET", "/api/diagnoses/%s/events" % did, headers=main)
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
            except TicketRefused as e:
                with lock:
                    errors += 1
                    e5xx += e.status >= 500
                time.sleep(0.05)
            except Exception:  # noqa: BLE001
                with lock:
                    errors += 1
                c.close()
                c = conn()
                if c6:
                    c6.close()
                    c6 = conn6()
        c.close()
        if c6:
            c6.close()

    threads = [threading.Thread(target=worker, args=a) for a in addrs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q.put((lat, errors, e5xx, ids_ok, ids_lost))


class TicketRefused(Exception):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


NS_V6_PREFIX = "2001:db8:1::"


def netns_setup(a):
    """Inside the fresh namespace: loopback up, 198.18.0.0/15 local on it (an AnyIP route: the
    requesters bind to those addresses and the service probes them back), and with --tickets
    2001:db8::1 on it and 2001:db8:1::/64 local too (AnyIP again; the requesters bind to
    2001:db8:1::N with ip_nonlocal_bind). Nothing leaves the namespace. (Not one /128 address
    per requester: the kernel's IPv6 source address selection walks every address of the
    device for every probe's connect, 8% of the server's CPU time with 200 of them.)"""
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "route", "add", "local", "198.18.0.0/15", "dev", "lo")
    if a.tickets:
        sh("ip", "-6", "address", "add", "2001:db8::1/128", "dev", "lo", "nodad")
        sh("ip", "-6", "route", "add", "local", NS_V6_PREFIX + "/64", "dev", "lo")
        sh("sysctl", "-qw", "net.ipv6.ip_nonlocal_bind=1")


def in_fresh_netns(a, prefix):
    """Run this same command in a fresh network namespace (deleted at the end); True in the
    parent once it ran, False in the child (which goes on with the benchmark)."""
    if os.environ.get("BENCH_IN_NS"):
        return False
    if os.geteuid() != 0:
        raise SystemExit("this run needs root (a private network namespace)")
    ns = "%s%d" % (prefix, os.getpid())
    sh("ip", "netns", "add", ns)
    try:
        env = dict(os.environ, BENCH_IN_NS="1")
        subprocess.run(["ip", "netns", "exec", ns, sys.executable] + sys.argv, env=env,
                       check=True, timeout=a.seconds + 300)
    finally:
        sh("ip", "netns", "del", ns)
    return True


def throughput(a):
    if a.tickets:
        a.netns = True
    if a.netns:
        if in_fresh_netns(a, "webtbench"):
            return
        netns_setup(a)
        host = "198.18.0.1"
        addrs = ["198.18.%d.%d" % (1 + i // 250, 1 + i % 250) for i in range(a.requesters)]
    else:
        host = "127.0.0.1"
        addrs = addresses(a.requesters)
    pairs = [(x, "%s%x" % (NS_V6_PREFIX, i + 1) if a.tickets else None)
             for i, x in enumerate(addrs)]
    ssh_port = free_port(host)
    closed = []
    while len(closed) < 5:
        p = free_port(host)
        if p not in closed and p != ssh_port:
            closed.append(p)
    sky = free_port(host)
    stop = threading.Event()
    listen = (["0.0.0.0"] + (["::"] if a.tickets else [])) if a.netns else addrs
    rt = threading.Thread(target=responder, args=(listen, ssh_port, stop), daemon=True)
    rt.start()
    work = tempfile.mkdtemp(prefix="bench-web-")
    port = free_port(host)
    srv = {"host": host, "port": port}
    extra = []
    if a.netns:
        extra += ["--allow", "198.18.0.0/15"]
    if a.tickets:
        srv["host6"] = "2001:db8::1"
        srv["names"] = ("exposure.test:%d" % port, "v4.exposure.test:%d" % port,
                        "v6.exposure.test:%d" % port)
        extra += ["--allow", "2001:db8::/32", "--listen", "[2001:db8::1]:%d" % port,
                  "--origin", "http://" + srv["names"][0], "--v4-host", srv["names"][1],
                  "--v6-host", srv["names"][2], "--site-rate", "100000000", "--site-burst",
                  "100000000", "--per-48-conn-limit", "0"]
    args = [
        "--port", "ssh=%d" % ssh_port, "--port", "telnet=%d" % closed[0],
        "--port", "netbios=%d" % closed[1], "--port", "smb=%d" % closed[2],
        "--port", "rdp=%d" % closed[3], "--port", "vnc=%d" % closed[4],
        "--port", "skysea=%d-%d" % (sky, sky + 15),
        "--addr-rate", "100000000", "--addr-burst", "100000000", "--prefix-rate", "100000000",
        "--prefix-burst", "100000000", "--max-inflight", "4096", "--queue-max", "100000",
        "--conn-limit", "20000", "--per-ip-conn-limit", "0", "--threads", str(a.threads),
        "--done-cache", "2000"] + extra + a.serve_arg
    # --nodes N (issue 14): N servers on one --store (PostgreSQL) and one key file, the client
    # processes spread over them round robin.
    procs_srv, srvs = [], []
    for n in range(a.nodes):
        p_n = port if n == 0 else free_port(host)
        procs_srv.append(start_server(a.exe, p_n, args, work, host, a.store))
        srvs.append(dict(srv, port=p_n))
    proc = procs_srv[0]
    time.sleep(0.5)
    deadline = time.time() + a.seconds
    per_addr = max(1, a.total // len(addrs))
    q = mp.Queue()
    procs = []
    chunk = (len(pairs) + a.procs - 1) // a.procs
    t = os.times()
    cpu_children0, cpu_self0 = t.children_user + t.children_system, t.user + t.system
    t0 = time.monotonic()
    for i in range(a.procs):
        sub = pairs[i * chunk:(i + 1) * chunk]
        if sub:
            p = mp.Process(target=client_proc, args=(srvs[i % len(srvs)], sub, deadline,
                                                     per_addr, q))
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
    rss = sum(vm(p_.pid, "VmHWM") for p_ in procs_srv)
    cpus = [proc_cpu_s(p_.pid) for p_ in procs_srv]
    cpu = sum(cpus)
    prss, nprobers = vm_probers(proc.pid, "VmHWM")
    cpu_probers = sum(proc_cpu_s(c) for p_ in procs_srv for c in children(p_.pid))
    created = done = 0
    for sv in srvs:
        metrics = http.client.HTTPConnection(host, sv["port"], timeout=10)
        metrics.request("GET", "/metrics",
                        headers={"Host": srv["names"][0]} if a.tickets else {})
        mtext = metrics.getresponse().read().decode()
        created += float(re.search(r'status="created"\} (\S+)', mtext).group(1))
        done += float(re.search(r'status="done"\} (\S+)', mtext).group(1))
    for p_ in procs_srv:
        p_.terminate()
    rc = [p_.wait(30) for p_ in procs_srv]
    if len(cpus) > 1:
        print("per-node server CPU: %s s" % ", ".join("%.1f" % c for c in cpus))
    stop.set()
    # CPU of the run's parts: the clients (children reaped before the server), this process
    # (the responder thread and the setup), the server (read before it stopped).
    t = os.times()
    clients_cpu = t.children_user + t.children_system - cpu_children0 - cpu - cpu_probers
    self_cpu = t.user + t.system - cpu_self0
    counts = store_counts(a.store or os.path.join(work, "b.db"))
    fams = store_families(a.store or os.path.join(work, "b.db"))
    kind = "two-ticket diagnoses (IPv4 + IPv6)" if a.tickets else "single-address diagnoses"
    print("%s; requesters %d (%s), client processes %d, server threads %d" %
          (kind, len(addrs), "198.18.x.y" + (" + 2001:db8:1::N" if a.tickets else "")
           if a.netns else "127.0.x.y", a.procs, a.threads))
    print("completed %d diagnoses in %.1f s: %.0f per second" % (ok, elapsed, ok / elapsed))
    print("%s -> done: p50 %.1f ms, p99 %.1f ms" % ("first ticket" if a.tickets else "POST",
                                                   pct(lat, 50) * 1000, pct(lat, 99) * 1000))
    print("server peak RSS %.1f MiB, server CPU %.1f s (%.2f ms per diagnosis); clients %.1f s, "
          "responder %.1f s" % (rss / 1024.0, cpu, cpu * 1000 / ok if ok else float("nan"),
                                clients_cpu, self_cpu))
    print("%d probers: peak RSS %.1f MiB (sum), CPU %.1f s; server and probers %.1f MiB" %
          (nprobers, prss / 1024.0, cpu_probers, (rss + prss) / 1024.0))
    print("errors %d, 5xx %d, not done %d; server created %d done %d; exit %s; store %s; "
          "families %s" % (errors, e5xx, lost, created, done, rc, counts, fams))


def children(pid):
    """The server's child processes (its probers, issue 11), by pid."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def vm_probers(pid, key):
    """key (VmHWM, VmRSS) summed over the server's probers, in kB; their count."""
    kids = children(pid)
    total = 0
    for c in kids:
        try:
            total += vm(c, key)
        except OSError:
            pass
    return total, len(kids)


def proc_cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pg_query(url, sql):
    """Rows of sql on a PostgreSQL store (psql), as {first column: second}."""
    out = subprocess.run(["psql", "-tAX", url, "-c", sql], capture_output=True, text=True,
                         timeout=120).stdout
    return {k: int(v) for k, v in (line.split("|") for line in out.split())}


def store_families(db):
    """Diagnoses by tested families (4, 6, 46; None before schema 3), after the server stopped."""
    import sqlite3
    if db.startswith("postgresql:"):
        return pg_query(db, "SELECT coalesce(families, 0), count(*) FROM diagnoses GROUP BY 1")
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return dict(con.execute("SELECT families, count(*) FROM diagnoses GROUP BY families"))
    except sqlite3.Error:
        return {}
    finally:
        con.close()


def sh(*cmd):
    subprocess.run(cmd, check=True)


def store_counts(db):
    """Diagnoses by status in the store, read after the server stopped."""
    import sqlite3
    if db.startswith("postgresql:"):
        return pg_query(db, "SELECT status, count(*) FROM diagnoses GROUP BY 1")
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return dict(con.execute("SELECT status, count(*) FROM diagnoses GROUP BY status"))
    finally:
        con.close()


def post_many(port, host, addrs, deadline, q):
    """One process: POST one diagnosis from each source address (32 threads)."""
    ok, errs, e5xx = [], 0, 0
    lock = threading.Lock()
    it = iter(addrs)

    def worker():
        nonlocal errs, e5xx
        token = None
        while time.time() < deadline:
            with lock:
                src = next(it, None)
            if src is None:
                return
            c = http.client.HTTPConnection(host, port, timeout=60, source_address=(src, 0))
            try:
                if token is None:
                    c.request("GET", "/api/whoami")
                    token = json.loads(c.getresponse().read())["csrf_token"]
                c.request("POST", "/api/diagnoses", body=b"{}", headers={
                    "X-CSRF-Token": token, "Cookie": "exposure_csrf=" + token})
                r = c.getresponse()
                body = r.read()
                with lock:
                    if r.status == 202:
                        ok.append(json.loads(body)["id"])
                    else:
                        errs += 1
                        e5xx += r.status >= 500
            except Exception:  # noqa: BLE001
                with lock:
                    errs += 1
            finally:
                c.close()

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q.put((ok, errs, e5xx))


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else 0.0


def inflight(a):
    """COUNT requesters from 198.18.0.0/15 (--allow) in a private network namespace whose
    nftables drop every SYN to the probed ports: every diagnosis waits for its deadlines."""
    if in_fresh_netns(a, "web2bench"):
        return
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if a.engine_sockets + 1000 > hard:
        raise SystemExit("--engine-sockets %d needs RLIMIT_NOFILE above %d (hard limit %d)" %
                         (a.engine_sockets, a.engine_sockets + 1000, hard))
    sh("ip", "link", "set", "lo", "up")
    # Every address of 198.18.0.0/15 is local in this namespace (an AnyIP route on lo): the
    # requesters bind to them and the service probes them back; nothing leaves the namespace.
    sh("ip", "route", "add", "local", "198.18.0.0/15", "dev", "lo")
    host = "198.18.0.1"
    ports = [free_port(host) for _ in range(7)]
    probed = ports[:6] + list(range(ports[6], ports[6] + 16))
    rules = "table inet web2bench {\n chain in {\n  type filter hook input priority 0;\n" \
            "  tcp dport { %s } tcp flags syn drop\n }\n}\n" % ", ".join(str(p) for p in probed)
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
    work = tempfile.mkdtemp(prefix="bench-web-inflight-")
    port = free_port(host)
    timeout_ms = str(a.probe_timeout_ms)
    cmd = [a.exe, "serve", "--listen", "%s:%d" % (host, port),
           "--store", os.path.join(work, "b.db"),
           "--key", os.path.join(work, "b.key"), "--allow", "198.18.0.0/15",
           "--port", "ssh=%d" % ports[0], "--port", "telnet=%d" % ports[1],
           "--port", "netbios=%d" % ports[2], "--port", "smb=%d" % ports[3],
           "--port", "rdp=%d" % ports[4], "--port", "vnc=%d" % ports[5],
           "--port", "skysea=%d-%d" % (ports[6], ports[6] + 15),
           "--addr-rate", "100000000", "--addr-burst", "100000000",
           "--prefix-rate", "100000000", "--prefix-burst", "100000000",
           "--max-inflight", str(a.count + 10), "--queue-max", str(a.count + 10),
           "--conn-limit", "20000", "--per-ip-conn-limit", "0",
           "--engine-sockets", str(a.engine_sockets),
           "--rtt-floor-ms", timeout_ms, "--rtt-ceiling-ms", timeout_ms,
           "--done-cache", str(a.count + 10), "--threads", "2"] + a.serve_arg
    srv = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                           stderr=open(os.path.join(work, "log"), "w"), text=True)
    if "listening" not in srv.stdout.readline():
        raise SystemExit("server did not start: " + open(os.path.join(work, "log")).read())
    addrs = ["198.18.%d.%d" % (1 + i // 250, 1 + i % 250) for i in range(a.count)]
    t0 = time.monotonic()
    deadline = time.time() + a.seconds
    q = mp.Queue()
    chunks = [addrs[i::a.procs] for i in range(a.procs)]
    procs = [mp.Process(target=post_many, args=(port, host, ch, deadline, q)) for ch in chunks]
    for p in procs:
        p.start()
    ids, errors, e5xx = [], 0, 0
    peak_inflight = peak_sockets = peak_total_rss = 0
    pending = len(procs)

    def sample():
        nonlocal peak_inflight
        c = http.client.HTTPConnection(host, port, timeout=10)
        c.request("GET", "/metrics")
        m = c.getresponse().read().decode()
        c.close()
        peak_inflight = max(peak_inflight, int(metric(m, "exposure_diagnoses_in_flight")))
        return m

    post_s = None
    while time.time() < deadline:
        try:
            r = q.get(timeout=0.5)
            ids += r[0]
            errors += r[1]
            e5xx += r[2]
            pending -= 1
        except Exception:  # noqa: BLE001 (queue.Empty)
            pass
        m = sample()
        try:
            n = len(os.listdir("/proc/%d/fd" % srv.pid))
            for c in children(srv.pid):
                n += len(os.listdir("/proc/%d/fd" % c))
            peak_sockets = max(peak_sockets, n)
            peak_total_rss = max(peak_total_rss,
                                 vm(srv.pid, "VmRSS") + vm_probers(srv.pid, "VmRSS")[0])
        except OSError:
            pass
        if pending == 0 and post_s is None:
            post_s = time.monotonic() - t0
        if pending == 0 and metric(m, "exposure_diagnoses_in_flight") == 0 and \
                metric(m, "exposure_queue_length") == 0:
            break
        if post_s is not None and time.monotonic() - t0 > post_s + a.hold:
            break
    for p in procs:
        p.join(5)
    m = sample()
    total_s = time.monotonic() - t0
    rss = vm(srv.pid, "VmHWM")
    prss, nprobers = vm_probers(srv.pid, "VmHWM")
    done = metric(m, 'exposure_diagnoses_total{status="done"}')
    hist_count = metric(m, "exposure_diagnosis_seconds_count")
    hist_sum = metric(m, "exposure_diagnosis_seconds_sum")
    srv.terminate()
    rc = srv.wait(60)
    counts = store_counts(os.path.join(work, "b.db"))
    print("requesters %d (198.18.0.0/15, --allow), probe timeout %s ms, engine sockets %d" %
          (a.count, timeout_ms, a.engine_sockets))
    print("accepted %d (errors %d, 5xx %d); all POSTs answered in %.1f s" %
          (len(ids), errors, e5xx, post_s or float("nan")))
    print("peak diagnoses in flight %d; peak open fds %d (server and probers); server peak RSS "
          "%.1f MiB; %d probers' peak RSS %.1f MiB (sum); total %.1f MiB (sum of peaks), "
          "%.1f MiB (peak of the sum, sampled)" %
          (peak_inflight, peak_sockets, rss / 1024.0, nprobers, prss / 1024.0,
           (rss + prss) / 1024.0, peak_total_rss / 1024.0))
    print("stopped after %.1f s (SIGTERM): done %d, mean POST->done %.1f s; server exit %s; "
          "store rows %d %s" % (total_s, done, hist_sum / hist_count if hist_count else
                                float("nan"), rc, sum(counts.values()), counts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["throughput", "inflight"])
    ap.add_argument("--exe", required=True, help="the exposure program (runs `exposure serve`)")
    ap.add_argument("--requesters", type=int, default=200)
    ap.add_argument("--netns", action="store_true",
                    help="throughput: in a fresh network namespace, requesters from 198.18.x.y")
    ap.add_argument("--tickets", action="store_true",
                    help="throughput: two-ticket diagnoses (IPv4 + IPv6; implies --netns)")
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--total", type=int, default=6000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--probe-timeout-ms", type=int, default=20000)
    ap.add_argument("--engine-sockets", type=int, default=18000)
    ap.add_argument("--hold", type=float, default=30,
                    help="inflight: seconds to keep sampling after the last POST")
    ap.add_argument("--store", default=None,
                    help="the servers' --store (default: a new SQLite file); e.g. postgresql://...")
    ap.add_argument("--nodes", type=int, default=1,
                    help="throughput: this many servers on one --store (PostgreSQL)")
    ap.add_argument("--serve-arg", action="append", default=[],
                    help="one more argument of exposure serve, e.g. --serve-arg=--probers "
                    "--serve-arg=2 (repeatable)")
    a = ap.parse_args()
    a.exe = os.path.abspath(a.exe)
    (throughput if a.mode == "throughput" else inflight)(a)


if __name__ == "__main__":
    main()
