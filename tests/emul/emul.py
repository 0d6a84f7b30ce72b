#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Scripted TCP emulator for probe tests (PROTOCOLS.md §12.0): per connection, wait for N bytes or
a delimiter and answer canned bytes; plus hostile-peer modes. Loopback or lab addresses only.

  emul.py [--host ADDR] [--port N] [--drip SECONDS] [--close-at K] [--hold S] CASE
  emul.py --list

Prints "PORT <n>" on stdout once listening, serves connections (one thread each) until killed.
A case is a list of per-connection scripts, used in turn (connection i runs script i % len).
Script steps (tuples):
  ("send", bytes)           send (respecting --drip and --close-at)
  ("recv", n)               read exactly n bytes (or until the peer closes)
  ("until", delim)          read until delim (bounded to 64 KiB)
  ("tpkt",)                 read one TPKT-framed message (RDP Connection Request)
  ("rdp_nla",)              read a CR and answer like Windows requiring NLA (§12.7)
  ("sleep", s)              pause
  ("lines", n, interval)    tarpit: n random lines, one every interval seconds
  ("garbage", n)            n pseudo-random bytes
  ("close",)                close now (the default after the last step is to hold the
                            connection open for --hold seconds, then close)
--drip S: every byte is sent separately, S seconds apart ("one byte per second").
--close-at K: the connection is closed after K bytes in total were sent.
Importable: serve(case_name, host, port, **opts) returns (server, port).
"""
import random
import struct
import sys
import time

import common

CC = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00"
BUSYBOX_IAC = bytes.fromhex("fffd01fffd1ffffd21fffb01fffb03")

CASES = {
    # SSH (§12.2)
    "ssh-199": [[("send", b"SSH-1.99-OpenSSH_3.9p1\n")]],
    "ssh-15": [[("send", b"SSH-1.5-1.2.27\n")]],
    "ssh-prebanner": [[("send", b"Hello\r\nAuthorized use only\r\nSSH-2.0-Test_1.0\r\n")]],
    "ssh-tarpit": [[("lines", 1000, 1.0)]],
    "ssh-hostile": [[("send", b"\x1b]0;owned\x07<script>alert(1)</script>\r\n"
                      b"SSH-2.0-Evil\x1b[2J\xc3\x28\xff\x00 <b>x</b>\r\n")]],
    "ssh-http": [[("send", b"HTTP/1.1 400 Bad Request\r\n\r\n"), ("close",)]],
    # Telnet (§12.3)
    "telnet-busybox-login": [[("send", BUSYBOX_IAC + b"\r\nfixture login: ")]],
    "telnet-busybox-shell": [[("send", BUSYBOX_IAC), ("recv", 1),
                              ("send", b"\r\n\r\nBusyBox v1.20.2 (2013-01-01) built-in shell (ash)\r\n"
                                       b"Enter 'help' for a list of built-in commands.\r\n\r\n# ")]],
    "telnet-iac-only": [[("send", bytes.fromhex("fffd18fffd20"))],
                        [("send", bytes.fromhex("fffd18fffd20")), ("until", b"\r\n"),
                         ("send", b"\r\nrouter login: ")]],
    "telnet-hostile": [[("send", b"\xff\xfb\x01\x1b]0;pwned\x07\x1b[31m<script>x</script>\x00"
                        b"\xc3\x28\r\nPassword: ")]],
    # NFS server on 2049 (PROBES.md, "NFS"): answers the portmapper DUMP call as nfsd does,
    # accepted but PROG_UNAVAIL (RFC 5531 §9), for the lab where no kernel nfsd can run
    "nfs-prog-unavail": [[("recv", 44),
                          ("send", bytes.fromhex("80000018") + b"NFS0" +
                           bytes.fromhex("00000001 00000000 00000000 00000000 00000001"))]],
    # RDP (§12.7)
    "rdp-nla": [[("rdp_nla",)]],
    "rdp-nla-p3-silent": [[("rdp_nla",)], [("rdp_nla",)], [("tpkt",)]],
    "rdp-legacy": [[("tpkt",), ("send", b"\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00")]],
    "rdp-length-past": [[("tpkt",), ("send", b"\x03\x00\x01\x00" + bytes(16)), ("close",)]],
    "rdp-disconnect": [[("tpkt",), ("send", b"\x03\x00\x00\x0b\x06\x80\x00\x00\x00\x00\x00")]],
    # VNC (§12.8)
    "vnc-realvnc-4.1": [[("send", b"RFB 004.001\n"), ("recv", 12), ("send", b"\x01\x02")]],
    "vnc-realvnc-5": [[("send", b"RFB 005.000\n"), ("recv", 12), ("send", b"\x02\x05\x06")]],
    "vnc-apple": [[("send", b"RFB 003.889\n"), ("recv", 12), ("send", b"\x02\x1e\x23")]],
    "vnc-refused": [[("send", b"RFB 003.008\n"), ("recv", 12),
                     ("send", b"\x00\x00\x00\x00\x1aToo many security failures"), ("close",)]],
    "vnc-33-failure-early": [[("send", b"RFB 003.003\n\x00\x00\x00\x00\x00\x00\x00\x1a"
                               b"Too many security failures"), ("close",)]],
    "vnc-tigervnc-quirk": [[("send", b"RFB 003.008\n"), ("recv", 12), ("send", b"\x02\x13\x01")]],
    "vnc-vencrypt-tlsnone": [[("send", b"RFB 003.008\n"), ("recv", 12), ("send", b"\x01\x13"),
                              ("recv", 1), ("send", b"\x00\x02"), ("recv", 2),
                              ("send", b"\x00\x01\x00\x00\x01\x01")]],
    "vnc-oversized-reason": [[("send", b"RFB 003.008\n"), ("recv", 12),
                              ("send", b"\x00\x00\x10\x00\x00" + b"x" * 2048)]],
    "vnc-none": [[("send", b"RFB 003.008\n"), ("recv", 12), ("send", b"\x01\x01")]],
    # generic hostile peers
    "silent": [[]],
    "tcpwrapped": [[("close",)]],
    "garbage": [[("garbage", 1 << 20)]],
}


def rdp_reply(req):
    """Windows with NLA required: HYBRID(_EX) selected when asked for, else failure 5."""
    if len(req) >= 19 and req[-8] == 0x01:
        requested = struct.unpack("<I", req[-4:])[0]
    else:
        return CC[:4] + bytes([0x06]) + CC[5:]  # no RDP_NEG_REQ: never happens with our probe
    if requested & 0x08:
        return CC + bytes.fromhex("021f080008000000")
    if requested & 0x02:
        return CC + bytes.fromhex("020f080002000000")
    return CC + bytes.fromhex("0300080005000000")


class Conn(common.Conn):
    """common.Conn, and RDP's TPKT framing (at most 4 KiB)."""

    def tpkt(self):
        h = self.recv_n(4)
        n = struct.unpack(">H", h[2:4])[0]
        if n < 4 or n > 4096:
            raise EOFError("bad tpkt")
        return h + self.recv_n(n - 4)


def run_script(conn, script, hold):
    rnd = random.Random(1234)
    try:
        for step in script:
            op = step[0]
            if op == "send":
                conn.send(step[1])
            elif op == "recv":
                conn.recv_n(step[1])
            elif op == "until":
                conn.until(step[1])
            elif op == "tpkt":
                conn.tpkt()
            elif op == "rdp_nla":
                conn.send(rdp_reply(conn.tpkt()))
            elif op == "sleep":
                time.sleep(step[1])
            elif op == "lines":
                for _ in range(step[1]):
                    line = bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(30))
                    conn.send(line + b"\r\n")
                    time.sleep(step[2])
            elif op == "garbage":
                left = step[1]
                while left > 0:
                    n = min(left, 65536)
                    conn.send(rnd.randbytes(n))
                    left -= n
            elif op == "close":
                return
        # hold the connection open (the probe decides when it is done)
        conn.s.settimeout(hold)
        while conn.s.recv(4096):
            pass
    except (OSError, EOFError):
        pass
    finally:
        try:
            conn.s.close()
        except OSError:
            pass


def serve(case, host="127.0.0.1", port=0, drip=None, close_at=None, hold=30.0):
    scripts = CASES[case]

    def handle(c, i):
        run_script(Conn(c, drip, close_at), scripts[i % len(scripts)], hold)

    return common.serve_background(common.listen(host, port), handle)


def main():
    def start(a):
        return serve(a.case, a.host, a.port, a.drip, a.close_at, a.hold)[1]

    return common.case_main(__doc__, CASES, start,
                            lambda ap: ap.add_argument("--hold", type=float, default=30.0))


if __name__ == "__main__":
    sys.exit(main())
