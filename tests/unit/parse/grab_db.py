#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Capture the exact bytes a real database server sends to the probes' requests (golden captures
# for tests/data/{redis,mysql,postgresql}/). Connects to HOST (default 127.0.0.1; run it inside a
# lab namespace for lab addresses) only.
# Usage: grab_db.py redis|redis-info|mysql|pg-ssl|pg-startup PORT OUT.bin [HOST]
import socket, struct, sys, time


def read_idle(s, idle=1.0, total=5.0, cap=65536):
    data, end = b"", time.time() + total
    s.settimeout(idle)
    while time.time() < end and len(data) < cap:
        try:
            b = s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            break
        if not b:
            break
        data += b
    return data


def main():
    kind, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    host = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
    s = socket.create_connection((host, port), timeout=5)
    if kind == "redis":  # the probe's PING
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        data = read_idle(s)
    elif kind == "redis-info":  # PING, then INFO server: the INFO reply alone is kept
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        read_idle(s, 0.5)
        s.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        data = read_idle(s)
    elif kind == "mysql":  # the server speaks first
        data = read_idle(s)
    elif kind == "pg-ssl":
        s.sendall(struct.pack(">ii", 8, 80877103))
        data = read_idle(s)
    elif kind == "pg-startup":  # after 'N': the StartupMessage without any parameter
        s.sendall(struct.pack(">ii", 8, 80877103))
        if read_idle(s, 0.5) != b"N":
            sys.exit("pg-startup: the server did not answer N")
        s.sendall(struct.pack(">ii", 9, 196608) + b"\0")
        data = read_idle(s)
    else:
        sys.exit("unknown kind")
    s.close()
    open(out, "wb").write(data)
    print("%s: %d bytes" % (out, len(data)))


if __name__ == "__main__":
    main()
