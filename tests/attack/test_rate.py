# SPDX-License-Identifier: MIT
"""Issue 9 section 2: rate-limit buckets evicted on purpose. Visitors are played from
2001:db8::/32 on lo of the private namespace (a local route for the block, non-local bind on):
- the colliding-address attack: a /64 spends its burst of 20, then addresses of other networks
  chosen to land on its bucket's slots (under the unkeyed FNV-1a of issue 9, the attack as
  reported; under a keyed hash they are just other visitors) must not give it a second burst;
- a /48 rotating through its /64s is held by the per-/48 bucket (--site-burst 40)."""
import socket
import subprocess
import time

from attack import Client, Server, check, deadline, exposure, finish

EXE = exposure()
SLOTS = 65536  # the table size `exposure serve` asks for
PREFIX_BURST, PREFIX_PER_S = 20, 120 / 3600.0
SITE_BURST, SITE_PER_S = 40, 240 / 3600.0


def setup_namespace():
    subprocess.run(["ip", "-6", "addr", "add", "2001:db8::1/128", "dev", "lo"], check=True)
    subprocess.run(["ip", "-6", "route", "add", "local", "2001:db8::/32", "dev", "lo"],
                   check=True)
    with open("/proc/sys/net/ipv6/ip_nonlocal_bind", "w") as f:
        f.write("1\n")


def fnv_home(b, kind):
    """The slot of issue 9's table (ratelimit.c before the fix): FNV-1a over kind, family, 16
    bytes."""
    h = 1469598103934665603 ^ kind ^ (socket.AF_INET6 << 8)
    for x in b:
        h = ((h ^ x) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return (h ^ (h >> 29)) & (SLOTS - 1)


def colliders(target64, n):
    """n addresses, each in its own /48, whose address bucket starts on target64's /64 bucket."""
    want = fnv_home(socket.inet_pton(socket.AF_INET6, target64), 2)
    out = []
    for i in range(1, 1 << 22):
        a = "2001:db8:%x:%x::1" % (0x100 + (i >> 12), i & 0xFFF)
        if fnv_home(socket.inet_pton(socket.AF_INET6, a), 1) == want:
            out.append(a)
            if len(out) == n:
                break
    return out


def post_from(port, src):
    """One diagnosis asked from src; its status (202, 429...) and reason."""
    cl = Client("2001:db8::1", port, src)
    r = cl.post()
    return r.status, (r.json or {}).get("reason")


def t_collisions(port):
    start = time.monotonic()
    accepted = 0
    for i in range(1, 26):
        st, _ = post_from(port, "2001:db8:1:1::%x" % i)
        accepted += st == 202
    check(accepted == PREFIX_BURST, "the /64's burst: %d accepted" % accepted)
    found = colliders("2001:db8:1:1::", 12)
    check(len(found) == 12, "12 colliding addresses found")
    for a in found:
        time.sleep(0.005)  # the old table recycled the least recently used slot
        post_from(port, a)
    refused = 0
    for i in range(26, 50):
        st, reason = post_from(port, "2001:db8:1:1::%x" % i)
        accepted += st == 202
        refused += st == 429 and reason == "rate"
    most = PREFIX_BURST + int((time.monotonic() - start) * PREFIX_PER_S)
    check(accepted <= most, "colliding addresses: the /64 got %d diagnoses, at most %d"
          % (accepted, most))
    check(refused >= 24 - (most - PREFIX_BURST), "the /64 refused with reason rate: %d" % refused)


def t_site(port):
    start = time.monotonic()
    accepted, statuses = 0, {}
    end = deadline(120)
    for i in range(60):
        if time.monotonic() > end:
            break
        st, reason = post_from(port, "2001:db8:5:%x::1" % i)
        accepted += st == 202
        statuses[(st, reason)] = statuses.get((st, reason), 0) + 1
    most = SITE_BURST + int((time.monotonic() - start) * SITE_PER_S)
    check(SITE_BURST <= accepted <= most, "a /48 rotating /64s: %d accepted, want %d..%d %r"
          % (accepted, SITE_BURST, most, statuses))
    st, reason = post_from(port, "2001:db8:6:1::1")
    check(st == 202, "another /48 is not held: %d %s" % (st, reason))


setup_namespace()
srv = Server([EXE, "serve"], ["--public", "--allow", "2001:db8::/32",
                              "--listen", "[2001:db8::1]:0"])
try:
    line = srv.proc.stdout.readline()
    port = int(line.rsplit(":", 1)[1].strip("/\n"))
    check("[2001:db8::1]" in line, "listening on 2001:db8::1: %r" % line)
    t_collisions(port)
    t_site(port)
finally:
    srv.stop()
finish()
