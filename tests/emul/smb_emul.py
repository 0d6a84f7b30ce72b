#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SMB EMULATOR for the probe tests (PROTOCOLS.md §12.4-§12.6): answers what no Debian server
produces - an unpatched MS17-010 Windows 7 host (PeekNamedPipe on FID 0 -> 0xC0000205), a patched
Windows 10 (0xC0000022), a DoublePulsar-infected host (TRANS2 reply MID 0x51), refusals, resets,
and NetBIOS session answers other than positive. It is a stateful responder, not a server: every
reply is built from the field tables / byte dumps of PROTOCOLS.md §12.6 (with the corrections noted
there: MaxBufferSize 4356, Capabilities 0x0001E3FC, TREE_CONNECT WordCount 7 when the extended
response is asked for), copying PID and MID from each request; UID = TID = 0x0800.

  smb_emul.py [--host ADDR] [--port N] [--nbt] CASE      (prints "PORT <n>", serves until killed)
  smb_emul.py --list
--nbt: every connection starts with an RFC 1002 session request (TCP 139 style).
Loopback or lab addresses only (the caller chooses --host; default 127.0.0.1).
"""
import socket
import struct
import sys

import common

UID = TID = 0x0800

ST_OK = 0
ST_NOT_IMPLEMENTED = 0xC0000002
ST_INVALID_HANDLE = 0xC0000008
ST_ACCESS_DENIED = 0xC0000022
ST_LOGON_FAILURE = 0xC000006D
ST_NOT_SUPPORTED = 0xC00000BB
ST_REQUEST_NOT_ACCEPTED = 0xC00000D0
ST_INSUFF_RESOURCES = 0xC0000205

# Per case: what changes from the unpatched Windows 7 default.
CASES = {
    # §12.6: unpatched Windows 7 SP1, SMB1 on, anonymous IPC$ allowed, no implant
    "ms17-vulnerable": {},
    # §12.6: patched Windows 10 answer
    "ms17-patched-win10": {"trans": ST_ACCESS_DENIED},
    # §12.6: patched "others" (and Samba's answer)
    "ms17-patched-invalid-handle": {"trans": ST_INVALID_HANDLE},
    # §12.6: DOS error form ERRDOS/ERRbadfid
    "ms17-patched-dos-badfid": {"trans": "dos-badfid"},
    # §12.6: unpatched and infected: the implant answers the ping with MID 0x51
    "ms17-doublepulsar": {"dp": True},
    # §12.6 failure variants
    "ms17-logon-failure": {"session": ST_LOGON_FAILURE},
    "ms17-tree-denied": {"tree": ST_ACCESS_DENIED},
    "ms17-busy": {"session": ST_REQUEST_NOT_ACCEPTED},
    "ms17-busy-once": {"session": ST_REQUEST_NOT_ACCEPTED, "busy_once": True},
    "ms17-rst-after-trans": {"trans": "rst"},
    "ms17-trans-cmd32": {"trans": "cmd32"},
    # §12.5 emulator-only: SMB1 answered with a LANMAN dialect (WordCount 13)
    "smb1-lanman": {"neg": "lanman"},
    # Windows without SMB1: SMB1 NEGOTIATE reset, SMB2 answered with signing required
    "smb1-off-rst": {"neg": "rst", "smb2_secmode": 0x0003},
    # SMB2 reply to an SMB1 negotiate (§12.5)
    "smb1-smb2-reply": {"neg": "smb2"},
    # NetBIOS (§12.4, with --nbt): negative for *SMBSERVER, positive for *SMBSERV (XP)
    "nbt-xp": {"nbt": "xp"},
    "nbt-negative": {"nbt": "negative"},
    "nbt-retarget": {"nbt": "retarget"},
    "nbt-keepalive": {"nbt": "keepalive"},
}


def nb_decode(enc):
    """First-level decode of 32 letters to 16 bytes (RFC 1001 §14.1)."""
    return bytes(((enc[i] - 0x41) << 4) | (enc[i + 1] - 0x41) for i in range(0, 32, 2))


def frame(msg):
    return struct.pack(">I", len(msg)) + msg


def smb1(req, cmd, status=0, words=b"", data=b"", flags2=0xC001, mid=None, sec=bytes(8),
         uid=None, tid=None):
    pid = struct.unpack_from("<H", req, 26)[0]
    rmid = struct.unpack_from("<H", req, 30)[0] if mid is None else mid
    flags = req[9] | 0x80
    hdr = (b"\xffSMB" + bytes([cmd]) + struct.pack("<I", status) + bytes([flags]) +
           struct.pack("<HH", flags2, 0) + sec + b"\0\0" +
           struct.pack("<HHHH", UID if tid is None else tid, pid, UID if uid is None else uid,
                       rmid))
    return frame(hdr + bytes([len(words) // 2]) + words + struct.pack("<H", len(data)) + data)


def utf16z(s):
    return s.encode("utf-16-le") + b"\0\0"


def neg_reply(req, lanman=False):
    # the dialect list: 0x02 + name + NUL each; answer with NT LM 0.12's index (or LANMAN2.1's)
    bc = struct.unpack_from("<H", req, 33)[0]
    names = [d[1:] for d in req[35:35 + bc].split(b"\0") if d.startswith(b"\x02")]
    want = b"LANMAN2.1" if lanman else b"NT LM 0.12"
    if want not in names:
        return smb1(req, 0x72, words=struct.pack("<H", 0xFFFF), uid=0, tid=0)
    idx = names.index(want)
    if lanman:
        # WordCount 13: DialectIndex, SecurityMode, MaxBufferSize, MaxMpxCount, MaxNumberVcs,
        # RawMode, SessionKey, ServerTime, ServerDate, ServerTimeZone, EncryptionKeyLength, Reserved
        words = struct.pack("<HHHHHHIHHhHH", idx, 0x0003, 4356, 50, 1, 0, 0, 0, 0, 0, 8, 0)
        return smb1(req, 0x72, words=words, data=bytes(range(0x11, 0x19)) + b"WORKGROUP\0",
                    flags2=0x0001, uid=0, tid=0)
    challenge = bytes.fromhex("1122334455667788")
    words = struct.pack("<HBHHIIIIQhB", idx, 0x03, 50, 1, 4356, 65536, 0, 0x0001E3FC,
                        0x01D2F3A0B0C0D000, 0, len(challenge))
    return smb1(req, 0x72, words=words, data=challenge + utf16z("WORKGROUP") + utf16z("EMUL7"),
                uid=0, tid=0)


def session_reply(req):
    os_ = utf16z("Windows 7 Professional 7601 Service Pack 1")
    lm = utf16z("Windows 7 Professional 6.1")
    dom = utf16z("WORKGROUP")
    words = struct.pack("<BBHH", 0xFF, 0, 0, 0)
    return smb1(req, 0x73, words=words, data=b"\0" + os_ + lm + dom, tid=0)


def tree_reply(req):
    flags = struct.unpack_from("<H", req, 37)[0]
    if flags & 0x0008:
        words = struct.pack("<BBHHII", 0xFF, 0, 0, 0x0001, 0x001F01FF, 0)
    else:
        words = struct.pack("<BBHH", 0xFF, 0, 0, 0x0001)
    return smb1(req, 0x75, words=words, data=b"IPC\0\0\0")


def smb2_reply(req, secmode):
    # dialects offered (body at 64: StructureSize 36, DialectCount at +2, dialects at +36)
    msg_id = struct.unpack_from("<Q", req, 24)[0]
    count = struct.unpack_from("<H", req, 66)[0]
    offered = [struct.unpack_from("<H", req, 100 + 2 * i)[0] for i in range(count)
               if 100 + 2 * i + 2 <= len(req)]
    chosen = next((d for d in (0x0210, 0x0202) if d in offered), None)
    status = ST_OK if chosen else ST_NOT_SUPPORTED
    hdr = (b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 0, status, 0, 1, 1, 0, msg_id, 0xFEFF, 0,
                                        0) + bytes(16))
    if chosen is None:
        return frame(hdr + struct.pack("<HBBI", 9, 0, 0, 0) + b"\0")
    body = struct.pack("<HHHH", 65, secmode, chosen, 0) + bytes(range(0x40, 0x50))
    body += struct.pack("<IIIIQQHHI", 0x00000001, 65536, 65536, 65536, 0x01D2F3A0B0C0D000, 0,
                        128, 0, 0) + b"\0"
    return frame(hdr + body)


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            return None
        b += x
    return b


def rst(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


class Shared:
    busy_used = False


def serve_conn(c, case, nbt, shared):
    cfg = CASES[case]
    try:
        if nbt:
            h = recv_exact(c, 4)
            if h is None or h[0] != 0x81:
                return
            body = recv_exact(c, ((h[1] & 1) << 16) | struct.unpack(">H", h[2:4])[0])
            if body is None:
                return
            called = nb_decode(body[1:33]).rstrip(b" \0\x20")
            mode = cfg.get("nbt")
            if mode == "negative" or (mode == "xp" and called != b"*SMBSERV"):
                c.sendall(b"\x83\x00\x00\x01\x82")
                return
            if mode == "retarget":
                c.sendall(bytes.fromhex("84000006c000020101bd"))
                return
            if mode == "keepalive":
                c.sendall(b"\x85\x00\x00\x00")
            c.sendall(b"\x82\x00\x00\x00")
        while True:
            h = recv_exact(c, 4)
            if h is None:
                return
            if h[0] == 0x85:
                continue
            req = recv_exact(c, struct.unpack(">I", h)[0] & 0xFFFFFF)
            if req is None:
                return
            if req[:4] == b"\xfeSMB":
                if struct.unpack_from("<H", req, 12)[0] != 0:
                    return  # only NEGOTIATE
                c.sendall(smb2_reply(req, cfg.get("smb2_secmode", 0x0001)))
                continue
            if req[:4] != b"\xffSMB":
                return
            cmd = req[4]
            if cmd == 0x72:
                neg = cfg.get("neg")
                if neg == "rst":
                    rst(c)
                    return
                if neg == "smb2":
                    c.sendall(smb2_reply(b"\xfeSMB" + bytes(60) +
                                         struct.pack("<HHHH", 36, 1, 1, 0) + bytes(32) +
                                         struct.pack("<H", 0x0202), 0x0001))
                    return
                c.sendall(neg_reply(req, lanman=neg == "lanman"))
            elif cmd == 0x73:
                st = cfg.get("session", ST_OK)
                if st == ST_REQUEST_NOT_ACCEPTED and cfg.get("busy_once") and shared.busy_used:
                    st = ST_OK
                if st == ST_REQUEST_NOT_ACCEPTED:
                    shared.busy_used = True
                if st:
                    c.sendall(smb1(req, 0x73, status=st, uid=0, tid=0))
                else:
                    c.sendall(session_reply(req))
            elif cmd == 0x75:
                st = cfg.get("tree", ST_OK)
                c.sendall(smb1(req, 0x75, status=st, tid=0) if st else tree_reply(req))
            elif cmd == 0x25:
                t = cfg.get("trans", ST_INSUFF_RESOURCES)
                if t == "rst":
                    rst(c)
                    return
                if t == "cmd32":
                    c.sendall(smb1(req, 0x32, status=ST_INSUFF_RESOURCES, flags2=0x6801))
                elif t == "dos-badfid":
                    c.sendall(smb1(req, 0x25, status=0x00060001, flags2=0x2801))
                else:
                    c.sendall(smb1(req, 0x25, status=t, flags2=0x6801))
            elif cmd == 0x32:
                if cfg.get("dp"):
                    c.sendall(smb1(req, 0x32, status=ST_NOT_IMPLEMENTED, flags2=0xC007,
                                   mid=0x0051, sec=bytes.fromhex("7c7c45b100000000")))
                else:
                    c.sendall(smb1(req, 0x32, status=ST_NOT_IMPLEMENTED, flags2=0xC007))
            else:
                # TREE_DISCONNECT, LOGOFF, ECHO...: a plain success
                c.sendall(smb1(req, cmd))
    except OSError:
        pass
    finally:
        try:
            c.close()
        except OSError:
            pass


def start(a):
    shared = Shared()
    srv = common.listen(a.host, a.port)
    return common.serve_background(srv, lambda c, _: serve_conn(c, a.case, a.nbt, shared),
                                   nodelay=False)[1]


def main():
    return common.case_main(None, CASES, start,
                            lambda ap: ap.add_argument("--nbt", action="store_true"),
                            conn_options=False, list_without_case=False)


if __name__ == "__main__":
    sys.exit(main())
