#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""1 prober against 2 (issue 11: "2 probers at least 1.5x one prober when probing dominates"),
by hand, as root:

  bench/bench_probers.py check --exe build-rel/src/cli/exposure [--rounds 5] [--range 127.64.0.0/18]
  bench/bench_probers.py serve --exe build-rel/src/cli/exposure [--rounds 3] [--total 6000]
                         [--profiles 2017,extended,many]

check: `exposure check --probers N RANGE` of a loopback range inside a fresh network namespace
(only its own loopback: no service of this machine answers, every port of every address is
closed, so each probe is a connect answered by a RST that the kernel handles in the prober's
own system call). The front only folds results and prints them: probing dominates by
construction. Each round runs N = 1 and N = 2 (order alternating) for each form of output
(text, --json; both to /dev/null) and for each profile (2017: 22 TCP ports per address;
extended: 36 TCP + 2 UDP). Per run: wall time, the front's CPU (utime + stime of `exposure
check`) and its probers' (cutime + cstime: the probers are its only children and it reaps
them), read from /proc/PID/stat while the finished process is a zombie (waitid WNOWAIT); how
often the front slept and was woken and the probers were preempted (/proc/PID/status context
switches, the probers' sampled every 20 ms while they live).

serve: bench/bench_web.py throughput --netns (requesters on 198.18.x.y in a fresh namespace,
an SSH-banner responder, every other port closed) with --serve-arg=--probers N, N = 1 and 2
alternating, for --profile 2017, extended and "many" (extended with 14 ports for each TCP
check: 227 TCP ports per diagnosis); its own lines report throughput and the CPU of the
service, its probers, the Python clients and the responder.

Why a ratio is what it is: with the front's CPU F and the probers' P per unit of work on 2
cores, one prober takes at least max(P, F, (P + F) / 2) and two at least max(F, P / 2,
(P + F) / 2) (both cores full). exposure check's front is one thread: with P >= F that is P
against (P + F) / 2, so 2 probers reach 1.5x only if P >= 3F. serve's F (its HTTP threads,
the clients, the responder) spreads over both cores: one prober takes at least max(P,
(P + F) / 2), so with P <= F a second prober cannot gain at all. The script prints that
bound (from the 1-prober runs' CPU) beside the measured ratio. The bound assumes the front and
one prober run side by side; when the scheduler puts them on one core (every result written
to the front's socket wakes it with a "sync" wake-up, which places it on the writer's core),
one prober takes P + F and two can gain more than the bound says: the switch counts show it.

Every loop is bounded in count and time; all traffic stays on loopback.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))


sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from bench_web import children, in_fresh_netns, sh  # noqa: E402 (the one namespace helper)


def switches(pid):
    """(voluntary, nonvoluntary) context switches of a process so far, or None."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                    out[k] = int(v)
    except OSError:
        return None
    return out.get("voluntary_ctxt_switches", 0), out.get("nonvoluntary_ctxt_switches", 0)


def run_check(argv, timeout, pin=False):
    """One run: (wall s, front CPU s, probers CPU s, exit status, switches): switches are the
    front's voluntary ones (it slept and was woken) and the probers' nonvoluntary ones (they
    were preempted), the probers' as last seen alive (the front kills them at its end). pin:
    the front on CPU 0 from its start, its prober on CPU 1 as soon as it is seen (a
    diagnostic run: the two kept apart, whatever the scheduler would do)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                         preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if pin else None)
    end = t0 + timeout
    seen = {}
    while time.monotonic() < end:
        # the process has exited and is not reaped: its /proc/PID/stat is still there
        if os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG):
            break
        for c in children(p.pid):
            if pin and c not in seen:
                try:
                    os.sched_setaffinity(c, {1})
                except OSError:
                    pass
            s = switches(c)
            if s:
                seen[c] = s
        time.sleep(0.001 if pin and not seen else 0.02)
    else:
        p.kill()
        p.wait()
        raise SystemExit("%s: no end after %d s" % (" ".join(argv), timeout))
    wall = time.monotonic() - t0
    with open("/proc/%d/stat" % p.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ut, st, cut, cst = (int(x) / HZ for x in fields[11:15])
    front = switches(p.pid)
    rc = p.wait()
    return wall, ut + st, cut + cst, rc, (front[0] if front else 0,
                                          sum(s[1] for s in seen.values()))


def bound(front, probers, front_threads=1):
    """The most 2 probers can gain on 2 cores from this CPU split (see the docstring): the
    front on one thread (check) or spread over both cores (serve's threads, the clients)."""
    f1 = front if front_threads == 1 else front / 2
    one = max(f1, probers, (front + probers) / 2)
    two = max(f1, probers / 2, (front + probers) / 2)
    return one / two if two else float("nan")


def check(a):
    a.seconds = 3000  # the namespace's run at most (bench_web's in_fresh_netns: + 300 s)
    if in_fresh_netns(a, "probersbench"):
        return
    sh("ip", "link", "set", "lo", "up")
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cases = []
    for profile in a.profiles.split(","):
        for form in a.forms.split(","):
            cases.append((profile, form))
    ns = (1, 2, "1p") if a.pinned else (1, 2)
    res = {(c, n): [] for c in cases for n in ns}
    print("exposure check of %s in a fresh network namespace (every port closed); load %s" %
          (a.range, os.getloadavg()[0]))
    for r in range(a.rounds):
        for c in cases:
            profile, form = c
            for n in (ns if r % 2 == 0 else ns[::-1]):
                argv = [a.exe, "check", "--probers", "1" if n == "1p" else str(n),
                        "--profile", profile]
                if form == "json":
                    argv.append("--json")
                argv.append(a.range)
                wall, fr, pr, rc, sw = run_check(argv, a.timeout, n == "1p")
                if rc != 0:
                    raise SystemExit("%s: exit %d" % (" ".join(argv), rc))
                res[(c, n)].append((wall, fr, pr))
                print("round %d %-8s %-4s probers %-2s: %.3f s wall, front %.2f s, probers %.2f s;"
                      " front woken %d times, probers preempted %d times" %
                      (r + 1, profile, form, str(n), wall, fr, pr, sw[0], sw[1]), flush=True)
    print("\nload at the end %s" % (os.getloadavg()[0],))
    print("| profile | output | 1 prober: wall (front / probers CPU) | 2 probers: wall (front / "
          "probers CPU) | ratio | bound from 1 prober's CPU split |" +
          (" 1 prober pinned apart: wall (front / prober CPU) | 2 probers vs pinned |"
           if a.pinned else ""))
    print("| --- | --- | --- | --- | --- | --- |" + (" --- | --- |" if a.pinned else ""))
    for c in cases:
        m = {}
        for n in ns:
            v = res[(c, n)]
            m[n] = tuple(statistics.median(x[i] for x in v) for i in range(3))
        print("| %s | %s | %.2f s (%.2f / %.2f) | %.2f s (%.2f / %.2f) | **%.2fx** | %.2fx |" %
              (c[0], c[1], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2],
               m[1][0] / m[2][0], bound(m[1][1], m[1][2])) +
              (" %.2f s (%.2f / %.2f) | %.2fx |" % (m["1p"] + (m["1p"][0] / m[2][0],))
               if a.pinned else ""))


NUM = r"([0-9.]+)"
# "many": the extended profile with 14 ports for every TCP check but ssh (bench_web's one open
# port, the banner responder) and skysea (16 already): 227 TCP ports and 2 UDP per diagnosis,
# 600-809, closed in the namespace (below bench_web's own ports and the ephemeral range). 14, not
# the 16 a check may have: the store keeps at most 256 port rows per diagnosis
# (STORE_ITER_ROWS_MAX) and refuses a bigger result.
MANY = ["telnet", "netbios", "smb", "rdp", "vnc", "rsync", "nfs", "iscsi", "nas-admin", "redis",
        "mongodb", "elasticsearch", "memcached", "mysql", "postgresql"]


def serve_profile_args(profile):
    if profile != "many":
        return ["--serve-arg=--profile", "--serve-arg=" + profile]
    out = ["--serve-arg=--profile", "--serve-arg=extended"]
    for i, c in enumerate(MANY):
        out += ["--serve-arg=--port", "--serve-arg=%s=%d-%d" % (c, 600 + 14 * i, 613 + 14 * i)]
    return out


def serve(a):
    rows = {}
    for r in range(a.rounds):
        for profile in a.profiles.split(","):
            for n in ((1, 2) if r % 2 == 0 else (2, 1)):
                cmd = [sys.executable, os.path.join(HERE, "bench_web.py"), "throughput", "--netns",
                       "--exe", a.exe, "--total", str(a.total), "--seconds", str(a.seconds),
                       "--requesters", str(a.requesters), "--procs", str(a.procs),
                       "--serve-arg=--probers", "--serve-arg=%d" % n] + serve_profile_args(profile)
                out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                     timeout=a.seconds + 400).stdout
                per_s = float(re.search(r"completed \d+ diagnoses in [0-9.]+ s: " + NUM, out)[1])
                srv = float(re.search(r"server CPU " + NUM, out)[1])
                done = int(re.search(r"completed (\d+) diagnoses", out)[1])
                cl = float(re.search(r"clients " + NUM, out)[1])
                resp = float(re.search(r"responder " + NUM, out)[1])
                prb = float(re.search(r"probers: peak RSS [0-9.]+ MiB \(sum\), CPU " + NUM, out)[1])
                bad = re.search(r"errors (\d+), 5xx (\d+), not done (\d+)", out)
                rows.setdefault((profile, n), []).append((per_s, srv, prb, cl, resp, done))
                print("round %d %-8s probers %d: %.0f/s; CPU s: service %.1f, probers %.1f, "
                      "clients %.1f, responder %.1f; %s" % (r + 1, profile, n, per_s, srv, prb,
                                                            cl, resp, bad[0]), flush=True)
    print("\nload at the end %s" % (os.getloadavg()[0],))
    print("| profile | 1 prober | 2 probers | ratio | CPU per diagnosis, 1 prober: service / "
          "probers / clients + responder (ms) | bound |")
    print("| --- | --- | --- | --- | --- | --- |")
    for profile in a.profiles.split(","):
        m = {n: statistics.median(x[0] for x in rows[(profile, n)]) for n in (1, 2)}
        v = rows[(profile, 1)]
        per = [statistics.median(x[i] / x[5] * 1000 for x in v) for i in (1, 2, 3, 4)]
        # On one machine the clients and the responder share the cores with the service.
        front = per[0] + per[2] + per[3]
        print("| %s | %.0f/s | %.0f/s | **%.2fx** | %.3f / %.3f / %.3f | %.2fx |" %
              (profile, m[1], m[2], m[2] / m[1], per[0], per[1], per[2] + per[3],
               bound(front, per[1], 2)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["check", "serve"])
    ap.add_argument("--exe", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--range", default="127.64.0.0/18",
                    help="check: the loopback block (default 16,384 addresses)")
    ap.add_argument("--profiles", default="2017,extended",
                    help="2017, extended; serve also many (extended, 16 ports per TCP check)")
    ap.add_argument("--forms", default="text,json", help="check: text, json or both")
    ap.add_argument("--timeout", type=int, default=120, help="check: seconds per run at most")
    ap.add_argument("--pinned", action="store_true",
                    help="check: also 1 prober with the front on CPU 0 and the prober on CPU 1")
    ap.add_argument("--total", type=int, default=6000, help="serve: diagnoses per run")
    ap.add_argument("--seconds", type=float, default=60, help="serve: seconds per run at most")
    ap.add_argument("--requesters", type=int, default=200)
    ap.add_argument("--procs", type=int, default=4)
    a = ap.parse_args()
    a.exe = os.path.abspath(a.exe)
    check(a) if a.mode == "check" else serve(a)


if __name__ == "__main__":
    main()
