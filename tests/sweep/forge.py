#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Forge SYN-ACKs for the sweep test: what no real server sends (replies to probes never made,
with acknowledgment numbers the prober never chose), so it is emulated here.

Usage: forge.py DST SRC_LIST_FILE COUNT SECONDS
Sends COUNT SYN-ACKs spread over SECONDS from addresses of SRC_LIST_FILE ("ADDR PORT" lines:
the claimed source and its port) to DST (IPv4, or IPv6 with IPv6 sources), to destination ports in the sweep's cookie range
(61440..65535), with random acknowledgment numbers. Raw socket: run it only inside the test's
forger namespace, whose one route leads to the scanner namespace.
"""
import random
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def synack(src, dst, sport, dport, ack):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), ack, 5 << 4, 0x12,
                      65535, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", csum(s + d + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0, 64, 6, 0, s, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def synack6(src, dst, sport, dport, ack):
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), ack, 5 << 4, 0x12,
                      65535, 0, 0)
    pseudo = s + d + struct.pack("!IxxxB", len(tcp), 6)  # RFC 8200 section 8.1
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, 64, s, d)
    return ip + tcp


def main():
    dst, path, count, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    pairs = [line.split() for line in open(path) if line.strip()]
    v6 = ":" in dst
    sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                         socket.IPPROTO_RAW)
    gap = seconds / max(count, 1)
    for i in range(count):
        src, port = random.choice(pairs)
        pkt = (synack6 if v6 else synack)(src, dst, int(port), random.randint(61440, 65535),
                                          random.getrandbits(32))
        sock.sendto(pkt, (dst, 0))
        time.sleep(gap)
    print(count)


if __name__ == "__main__":
    main()
