#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Banner grab for the namespace lab: connect, optionally send bytes, print what comes back.

Usage: grab.py [--send HEX] [--wait SECONDS] [--max BYTES] [--hex] ADDR PORT
Reads until the peer closes, --max bytes arrived or --wait seconds passed (default 2).
Prints the bytes as Python repr (or hex with --hex). Exit 0 if any byte arrived, 1 if none,
2 if the connect failed.
"""
import argparse
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--send", default="")
    ap.add_argument("--wait", type=float, default=2.0)
    ap.add_argument("--max", type=int, default=4096)
    ap.add_argument("--hex", action="store_true")
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    a = ap.parse_args()
    try:
        s = socket.create_connection((a.addr, a.port), timeout=a.wait)
    except OSError as e:
        print(f"connect failed: {e}", file=sys.stderr)
        return 2
    if a.send:
        s.sendall(bytes.fromhex(a.send))
    data = b""
    end = time.monotonic() + a.wait
    while len(data) < a.max:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            chunk = s.recv(a.max - len(data))
        except socket.timeout:
            break
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    print(data.hex(" ") if a.hex else repr(data))
    return 0 if data else 1


if __name__ == "__main__":
    sys.exit(main())
