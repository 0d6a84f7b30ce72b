#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of the fixed start-up of every `exposure check` (issue 12's "the 2017 profile's speed
# unchanged", issue 11's prober; by hand, root, never a test). Two binaries, BEFORE and AFTER
# (release builds), interleaved run by run:
#   1. `exposure check ::1` with every port closed: through the sandboxed prober and with
#      --no-sandbox (REPS rounds, default 31), whole-process wall time and CPU (user + system
#      of the process and its prober, from the children's rusage), medians;
#   2. what a prober's start costs at the least, measured on AFTER's exposure-prober alone with
#      its socket at end of file (it starts, enters its sandbox, reads EOF and exits): sandboxed
#      without and with OpenSSL, not sandboxed; beside /bin/true (fork + exec of a small
#      program) from the same spawner;
#   3. the 2017 profile on bench_extended.sh's all-open lab host (ONLY_2017=1, LAB_REPS rounds,
#      default 11), unless NO_LAB=1.
# PRE=/path/exposure adds a third binary from before the prober existed (5cfcf29: no
# --no-sandbox): its `check ::1` in part 1's rounds, and a second lab comparison PRE vs AFTER.
# Prints a Markdown fragment for bench/RESULTS.md.
# Usage (root): bench/bench_startup.sh BEFORE-exposure AFTER-exposure
#   e.g. flock /work/brief/bench.lock bench/bench_startup.sh \
#        /tmp/startup-before/build-rel/src/cli/exposure build-rel/src/cli/exposure
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
[ $# = 2 ] || { echo "usage: $0 BEFORE-exposure AFTER-exposure" >&2; exit 2; }
BEFORE=$(realpath "$1")
AFTER=$(realpath "$2")
REPS=${REPS:-31}
LAB_REPS=${LAB_REPS:-11}
PRE=${PRE:+$(realpath "$PRE")}

echo "### Issue 12: the start-up of exposure check, before and after ($(date -u +%Y-%m-%d))"
echo
echo "Machine: $(nproc) CPUs, kernel $(uname -r). Release builds (\`-Dbuildtype=release"
echo "-Dtests=disabled\`): before = \`$BEFORE\`, after = \`$AFTER\`."
echo
[ -n "$PRE" ] && echo "Pre-prober = \`$PRE\`." && echo
/usr/bin/python3 - "$BEFORE" "$AFTER" "$REPS" "$PRE" <<'PY'
import os, resource, statistics, subprocess, sys, time

before, after, reps, pre = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
prober = os.path.join(os.path.dirname(after), "exposure-prober")
null = os.open(os.devnull, os.O_RDWR)


def spawn(argv, fd3=None):
    """Wall ms and CPU ms (user + system of it and its waited descendants) of one run."""
    acts = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
            (os.POSIX_SPAWN_DUP2, null, 2)]
    if fd3 is not None:
        acts.append((os.POSIX_SPAWN_DUP2, fd3, 3))
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=acts)
    _, st = os.waitpid(pid, 0)
    t1 = time.perf_counter_ns()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
    return (t1 - t0) / 1e6, cpu, os.waitstatus_to_exitcode(st)


def load():
    return open("/proc/loadavg").read().split()[:3]


def row(name, runs):
    wall = [w for w, _, _ in runs]
    cpu = [c for _, c, _ in runs]
    return "| %s | %d | **%.1f ms** | %.1f-%.1f | %.1f ms |" % (
        name, len(runs), statistics.median(wall), min(wall), max(wall), statistics.median(cpu))


cases = [("before: exposure check ::1", [before, "check", "::1"]),
         ("after: exposure check ::1", [after, "check", "::1"]),
         ("before: exposure check --no-sandbox ::1", [before, "check", "--no-sandbox", "::1"]),
         ("after: exposure check --no-sandbox ::1", [after, "check", "--no-sandbox", "::1"])]
if pre:
    cases.insert(0, ("pre-prober: exposure check ::1", [pre, "check", "::1"]))
res = {n: [] for n, _ in cases}
l0 = load()
for _ in range(3):  # warm the page cache, not counted
    for _, argv in cases:
        spawn(argv)
for _ in range(reps):
    for n, argv in cases:
        w, c, rc = spawn(argv)
        if rc != 0:
            sys.exit("bench: %s exited %d" % (" ".join(argv), rc))
        res[n].append((w, c, rc))
l1 = load()
print("1. `exposure check ::1`, every port closed (16 ports, the 2017 profile), %d rounds, the"
      % reps)
print("%d commands interleaved in each round (after 3 rounds of warm-up); wall time from"
      % len(cases))
print("posix_spawn to waitpid, CPU = user + system of the process and its prober (the children's")
print("rusage). Load (1/5/15 min): %s at the start, %s at the end." % (" ".join(l0), " ".join(l1)))
print()
print("| command | runs | median wall | min-max | median CPU |")
print("| --- | --- | --- | --- | --- |")
for n, _ in cases:
    print(row(n, res[n]))
print()

# 2. A prober alone: its socket is a pipe at end of file, so it starts, enters its sandbox
# (root: the user, the empty filesystem, no-new-privs, the filter), reads EOF and exits.
def prober_argv(sandbox, tls):
    return [prober, "2", "512", "64", "0", "1000", "100", "10000", "6", str(sandbox), "0",
            str(tls), "1024"]


r, w = os.pipe()
os.close(w)
pcases = [("/bin/true (fork + exec of a small program)", ["/bin/true"], None),
          ("exposure-prober, no sandbox, no OpenSSL", prober_argv(0, 0), r),
          ("exposure-prober, sandboxed, no OpenSSL", prober_argv(1, 0), r),
          ("exposure-prober, sandboxed, OpenSSL loaded and started", prober_argv(1, 1), r)]
pres = {n: [] for n, _, _ in pcases}
l0 = load()
for _ in range(reps):
    for n, argv, fd in pcases:
        pres[n].append(spawn(argv, fd))
l1 = load()
print("2. A prober's start at the least (after's `exposure-prober` with its socket at end of file:")
print("exec, loading, its set-up and sandbox, EOF, exit), %d rounds interleaved. Load: %s at the"
      % (reps, " ".join(l0)))
print("start, %s at the end." % " ".join(l1))
print()
print("| what | runs | median wall | min-max | median CPU |")
print("| --- | --- | --- | --- | --- |")
for n, _, _ in pcases:
    print(row(n, pres[n]))
print()
PY
[ $? = 0 ] || exit 1
if [ -z "${NO_LAB:-}" ]; then
	echo "3. $(ONLY_2017=1 REPS=$LAB_REPS "$here/bench_extended.sh" "$BEFORE" "$AFTER")"
	echo
	if [ -n "$PRE" ]; then
		echo "4. The same, pre-prober (as before) against after: $(ONLY_2017=1 REPS=$LAB_REPS \
			"$here/bench_extended.sh" "$PRE" "$AFTER")"
		echo
	fi
fi
echo "Commands:"
echo
echo '```'
echo "${PRE:+PRE=PRE }REPS=$REPS LAB_REPS=$LAB_REPS bench/bench_startup.sh BEFORE AFTER"
echo "BEFORE|AFTER check ::1;  BEFORE|AFTER check --no-sandbox ::1"
echo "AFTER's exposure-prober 2 512 64 0 1000 100 10000 6 S 0 T 1024 3<(EOF)"
echo "ONLY_2017=1 REPS=$LAB_REPS bench/bench_extended.sh BEFORE AFTER   (and PRE AFTER)"
echo '```'
