#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Userspace netem for the namespace lab: delay and random loss between two TAP devices.

This machine's kernel has no sch_netem, so `tc qdisc ... netem` is not available; this relay
stands in for it. It creates two TAP devices A and B in the namespace it is started in and
copies every Ethernet frame from one to the other: frames from B to A are held DELAY_BA ms and
dropped with probability LOSS_BA percent (what `tc qdisc add dev B root netem delay .. loss ..`
on the target's end would do), and likewise A to B. The caller moves B into the target
namespace afterwards (a TAP device keeps its file descriptor across namespaces).

Usage: netem.py --a NAME --b NAME --ready FILE [--delay-ab MS] [--loss-ab PCT]
                [--delay-ba MS] [--loss-ba PCT] [--seed N]
"""
import argparse
import fcntl
import heapq
import os
import random
import select
import struct
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
MAX_QUEUE = 10000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--delay-ab", type=float, default=0.0)
    ap.add_argument("--loss-ab", type=float, default=0.0)
    ap.add_argument("--delay-ba", type=float, default=0.0)
    ap.add_argument("--loss-ba", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    fa = open_tap(args.a)
    fb = open_tap(args.b)
    # peer fd, delay (s), loss (fraction) for frames read from each fd
    route = {
        fa: (fb, args.delay_ab / 1000.0, args.loss_ab / 100.0),
        fb: (fa, args.delay_ba / 1000.0, args.loss_ba / 100.0),
    }
    with open(args.ready + ".tmp", "w") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(args.ready + ".tmp", args.ready)

    queue = []  # (due, seq, fd, frame)
    seq = 0
    stats = {"in": 0, "lost": 0, "out": 0}
    while True:
        now = time.monotonic()
        timeout = max(0.0, queue[0][0] - now) if queue else 1.0
        ready, _, _ = select.select([fa, fb], [], [], timeout)
        now = time.monotonic()
        for fd in ready:
            for _ in range(64):
                try:
                    frame = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    break  # device down while moving namespaces: try later
                stats["in"] += 1
                peer, delay, loss = route[fd]
                if loss > 0 and rng.random() < loss:
                    stats["lost"] += 1
                    continue
                if len(queue) >= MAX_QUEUE:
                    stats["lost"] += 1
                    continue
                seq += 1
                heapq.heappush(queue, (now + delay, seq, peer, frame))
        while queue and queue[0][0] <= time.monotonic():
            _, _, peer, frame = heapq.heappop(queue)
            try:
                os.write(peer, frame)
                stats["out"] += 1
            except OSError:
                pass  # peer down or full: a lost frame, as on a wire


if __name__ == "__main__":
    main()
