#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Tiny TCP listener for the namespace lab: makes ports "open".

Usage: listener.py [--banner TEXT] [--idle SECONDS] PORT|FIRST-LAST...

Listens on 0.0.0.0 and :: (IPv6-only socket) for every port given, accepts every
connection, optionally sends a banner, and holds the connection until the peer closes it
or it has been idle for --idle seconds (default 10). At most 512 connections are held; the
oldest is closed first. Runs until killed (the lab kills it by PID).
"""
import argparse
import selectors
import socket
import time

MAX_HELD = 512


def parse_ports(items):
    ports = []
    for item in items:
        for part in item.replace(",", " ").split():
            if "-" in part:
                first, last = part.split("-", 1)
                ports.extend(range(int(first), int(last) + 1))
            else:
                ports.append(int(part))
    for p in ports:
        if not 0 < p < 65536:
            raise SystemExit(f"listener: port out of range: {p}")
    return ports


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--banner", default="")
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("ports", nargs="+")
    args = ap.parse_args()
    banner = args.banner.encode().decode("unicode_escape").encode("latin-1")

    sel = selectors.DefaultSelector()
    for port in parse_ports(args.ports):
        for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
            s.listen(1024)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, "listen")

    held = {}  # conn -> last activity
    while True:
        now = time.monotonic()
        for conn, last in list(held.items()):
            if now - last > args.idle:
                sel.unregister(conn)
                conn.close()
                del held[conn]
        for key, _ in sel.select(timeout=1.0):
            sock = key.fileobj
            if key.data == "listen":
                try:
                    conn, _ = sock.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                if banner:
                    try:
                        conn.send(banner)
                    except OSError:
                        pass
                if len(held) >= MAX_HELD:
                    oldest = min(held, key=held.get)
                    sel.unregister(oldest)
                    oldest.close()
                    del held[oldest]
                held[conn] = time.monotonic()
                sel.register(conn, selectors.EVENT_READ, "conn")
            else:
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if data:
                    held[sock] = time.monotonic()
                else:
                    sel.unregister(sock)
                    sock.close()
                    del held[sock]


if __name__ == "__main__":
    main()
