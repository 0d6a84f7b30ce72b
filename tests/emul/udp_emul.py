#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile UDP peers for the UDP checks (issue 12 §2): what no real server sends, so EMULATED.
Each PORT=CASE serves one case on HOST until killed (the lab's lab_spawn stops it by PID):
  garbage    one datagram of 512 binary bytes for every request
  huge       one 60000-byte datagram (an answer far over the probe's max_rx)
  truncated  miniupnpd's real answer cut after 100 bytes (a datagram cut short on the way)
  flood      50 datagrams of 'HTTP/1.1 500 x' per request (bounded: at most 20 requests)
  echo       the request itself back (a UDP echo service: it answers, it is not SSDP)
Every reply goes only to the requester's address and port (the lab's scanner).
Usage: udp_emul.py HOST PORT=CASE [PORT=CASE...]"""
import selectors
import socket
import sys

TRUNCATED = (b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: upnp:rootdevice\r\n"
             b"USN: uuid:00000000-0000-0000-0000-000000000001::upnp:rootdevice\r\nEXT:\r\nSER")[:100]


def reply(case, data, n):
    if case == "garbage":
        return [bytes((i * 37 + 11) & 0xFF for i in range(512))]
    if case == "huge":
        return [b"HTTP/1.1 200 OK\r\nSERVER: " + b"A" * 60000]
    if case == "truncated":
        return [TRUNCATED]
    if case == "flood":
        return [b"HTTP/1.1 500 x\r\n\r\n"] * 50 if n <= 20 else []
    if case == "echo":
        return [data]
    raise SystemExit("unknown case " + case)


def main():
    host = sys.argv[1]
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    sel = selectors.DefaultSelector()
    for spec in sys.argv[2:]:
        port, case = spec.split("=", 1)
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        s.bind((host, int(port)))
        sel.register(s, selectors.EVENT_READ, [case, 0])
    print("udp_emul: serving", " ".join(sys.argv[2:]), flush=True)
    while True:
        for key, _ in sel.select():
            data, peer = key.fileobj.recvfrom(65535)
            key.data[1] += 1
            for d in reply(key.data[0], data, key.data[1]):
                try:
                    key.fileobj.sendto(d, peer)
                except OSError:
                    pass


if __name__ == "__main__":
    main()
