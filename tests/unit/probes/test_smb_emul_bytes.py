#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The reply bytes that test_smb_probes.c feeds the smb and netbios probes in memory (its NEG,
SESS, TRANS_..., SMB2_..., NB_... macros) are what the SMB EMULATOR sends: each request the
probes' builders make (smb_reqgen) is handed to tests/emul/smb_emul.py's connection handler over
a socket pair, and its answer must equal the macro byte for byte. So the emulator stays the one
place those bytes come from; a change on either side fails here.

Usage: test_smb_emul_bytes.py SMB_REQGEN EMUL_DIR test_smb_probes.c
"""
import re
import socket
import struct
import subprocess
import sys
import threading

REQGEN = sys.argv[1]
sys.path.insert(0, sys.argv[2])
import smb_emul  # noqa: E402

C_FILE = sys.argv[3]


def req(*args):
    """A request as the probes build it (NBSS header included)."""
    return subprocess.run([REQGEN] + [str(a) for a in args], capture_output=True, check=True,
                          timeout=10).stdout


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        x = s.recv(n - len(b))
        if not x:
            raise AssertionError("emulator closed after %d of %d bytes" % (len(b), n))
        b += x
    return b


def exchange(case, requests, nbt=False, session=None):
    """The emulator's answers to requests, one NBSS message each (a session request first
    when nbt: its answer, and a keep-alive before it, are returned as their own messages)."""
    ours, theirs = socket.socketpair()
    ours.settimeout(10)
    t = threading.Thread(target=smb_emul.serve_conn, args=(theirs, case, nbt, smb_emul.Shared()),
                         daemon=True)
    t.start()
    replies = []
    try:
        if nbt:
            ours.sendall(session)
            while True:
                h = recv_exact(ours, 4)
                replies.append(h + recv_exact(ours, struct.unpack(">H", h[2:4])[0]))
                if h[0] != 0x85:
                    break
        for r in requests:
            ours.sendall(r)
            h = recv_exact(ours, 4)
            replies.append(h + recv_exact(ours, struct.unpack(">I", h)[0] & 0xFFFFFF))
    finally:
        ours.close()
        t.join(10)
    return replies


def macros(path):
    """#define NAME "hex" "hex"... of the C file: {NAME: bytes}."""
    text = open(path).read().replace("\\\n", " ")
    out = {}
    for m in re.finditer(r'^#define\s+(\w+)\s+((?:"[0-9a-f]*"\s*)+)', text, re.M):
        out[m.group(1)] = bytes.fromhex("".join(re.findall(r'"([0-9a-f]*)"', m.group(2))))
    return out


def main():
    neg1 = req("neg1", 0x40)
    ssetup = req("ssetup", 0x40)
    tcon = req("tcon", 0x0800, 0x40, "127.0.0.1")
    peek = req("peek", 0x0800, 0x0800, 0x41)
    dp = req("dp", 0x0800, 0x0800)
    neg2 = req("neg2")
    neg2_202 = req("neg2-one", 0x0202)
    nbss = req("nbss", "*SMBSERVER", 0x20, "SELFCHECK", 0)
    nbss_xp = req("nbss", "*SMBSERV", 0x20, "SELFCHECK", 0)
    # a NEGOTIATE without "NT LM 0.12": the emulator's no-dialect answer (NEG_NONE)
    neg1_none = neg1.replace(b"NT LM 0.12", b"NT LM 9.99")
    ms17 = [neg1, ssetup, tcon, peek, dp]

    def nth(i, case, requests, **kw):
        return lambda: exchange(case, requests, **kw)[i]

    want = {
        "NEG": nth(0, "ms17-vulnerable", ms17),
        "SESS": nth(1, "ms17-vulnerable", ms17),
        "TREE": nth(2, "ms17-vulnerable", ms17),
        "TRANS_VULN": nth(3, "ms17-vulnerable", ms17),
        "DP_ABSENT": nth(4, "ms17-vulnerable", ms17),
        "DP_PRESENT": nth(4, "ms17-doublepulsar", ms17),
        "TRANS_WIN10": nth(3, "ms17-patched-win10", ms17),
        "TRANS_INVALID": nth(3, "ms17-patched-invalid-handle", ms17),
        "TRANS_DOS": nth(3, "ms17-patched-dos-badfid", ms17),
        "TRANS_CMD32": nth(3, "ms17-trans-cmd32", ms17),
        "SESS_LOGON_FAIL": nth(1, "ms17-logon-failure", [neg1, ssetup]),
        "SESS_BUSY": nth(1, "ms17-busy", [neg1, ssetup]),
        "TREE_DENIED": nth(2, "ms17-tree-denied", [neg1, ssetup, tcon]),
        "NEG_LANMAN": nth(0, "smb1-lanman", [neg1]),
        "NEG_NONE": nth(0, "ms17-vulnerable", [neg1_none]),
        "SMB2_210": nth(0, "ms17-vulnerable", [neg2]),
        "SMB2_202": nth(0, "ms17-vulnerable", [neg2_202]),
        "SMB2_210_REQ": nth(0, "smb1-off-rst", [neg2]),
        "SMB2_202_REQ": nth(0, "smb1-off-rst", [neg2_202]),
        "NB_POS": nth(0, "nbt-xp", [], nbt=True, session=nbss_xp),
        "NB_NEG82": nth(0, "nbt-xp", [], nbt=True, session=nbss),
        "NB_RETARGET": nth(0, "nbt-retarget", [], nbt=True, session=nbss),
        "NB_KEEPALIVE": nth(0, "nbt-keepalive", [], nbt=True, session=nbss),
    }
    have = macros(C_FILE)
    failures = 0
    for name, make in want.items():
        if name not in have:
            print("not ok - %s: no such macro in %s" % (name, C_FILE))
            failures += 1
            continue
        got = make()
        if got == have[name]:
            print("ok - %s is what smb_emul.py sends (%d bytes)" % (name, len(got)))
        else:
            print("not ok - %s differs from smb_emul.py:\n  C:     %s\n  emul:  %s" %
                  (name, have[name].hex(), got.hex()))
            failures += 1
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
