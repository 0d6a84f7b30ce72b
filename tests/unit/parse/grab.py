#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Capture the exact bytes a real server sends (golden captures for tests/data/<proto>/).
# Usage: grab.py ssh|telnet|rdp|vnc|vncfail PORT OUT.bin [ARG]  (connects to 127.0.0.1 only)
import socket, struct, sys, time

HOST = '127.0.0.1'


def conn(port):
    s = socket.create_connection((HOST, port), timeout=5)
    return s


def read_idle(s, idle, total=10.0, cap=65536):
    data = b''
    end = time.time() + total
    s.settimeout(idle)
    while time.time() < end and len(data) < cap:
        try:
            b = s.recv(4096)
        except socket.timeout:
            break
        if not b:
            break
        data += b
    return data


def read_exact(s, n, total=5.0):
    data = b''
    end = time.time() + total
    s.settimeout(total)
    while len(data) < n and time.time() < end:
        b = s.recv(n - len(data))
        if not b:
            break
        data += b
    return data


def grab_ssh(port):
    s = conn(port)
    data = b''
    while b'\n' not in data:
        b = s.recv(1)
        if not b:
            return data
        data += b
    s.sendall(b'SSH-2.0-SelfCheck_1.0\r\n')
    hdr = read_exact(s, 4)
    (plen,) = struct.unpack('>I', hdr)
    body = read_exact(s, plen)
    s.close()
    return data + hdr + body


def telnet_cmds(data):
    """(verb, opt) pairs of DO/WILL in data (SB skipped)."""
    out, i = [], 0
    while i < len(data):
        if data[i] == 0xff and i + 1 < len(data):
            v = data[i + 1]
            if v in (0xfb, 0xfc, 0xfd, 0xfe) and i + 2 < len(data):
                out.append((v, data[i + 2]))
                i += 3
                continue
            if v == 0xfa:
                j = data.find(b'\xff\xf0', i)
                i = len(data) if j < 0 else j + 2
                continue
            i += 2
            continue
        i += 1
    return out


def grab_telnet(port, first_only):
    s = conn(port)
    data = read_idle(s, 1.0)
    if first_only:
        s.close()
        return data
    answered = set()
    seen = 0
    for _ in range(10):
        reply = b''
        for v, o in telnet_cmds(data):
            if (v, o) in answered:
                continue
            answered.add((v, o))
            if v == 0xfd:
                reply += bytes([0xff, 0xfc, o])   # DO -> WONT
            elif v == 0xfb:
                reply += bytes([0xff, 0xfe, o])   # WILL -> DONT
        if not reply:
            break
        s.sendall(reply)
        more = read_idle(s, 1.5)
        if not more:
            break
        data += more
    s.close()
    return data


def grab_rdp(port, requested):
    cookie = b'Cookie: mstshash=selfcheck\r\n'
    if requested == 'none':
        x224 = b'\xe0\x00\x00\x00\x00\x00' + cookie
    else:
        x224 = b'\xe0\x00\x00\x00\x00\x00' + cookie + struct.pack('<BBHI', 1, 0, 8, int(requested, 0))
    pkt = bytes([len(x224)]) + x224
    pkt = struct.pack('>BBH', 3, 0, 4 + len(pkt)) + pkt
    s = conn(port)
    s.sendall(pkt)
    hdr = read_exact(s, 4)
    (plen,) = struct.unpack('>H', hdr[2:4])
    body = read_exact(s, plen - 4)
    s.close()
    return hdr + body


def grab_vnc(port):
    s = conn(port)
    ver = read_exact(s, 12)
    minor = int(ver[8:11])
    major = int(ver[4:7])
    if major > 3 or minor >= 8:
        reply = b'RFB 003.008\n'
    elif minor == 7:
        reply = b'RFB 003.007\n'
    else:
        reply = b'RFB 003.003\n'
    s.sendall(reply)
    data = ver + read_idle(s, 1.0, 5.0)
    sec = data[12:]
    if reply != b'RFB 003.003\n' and sec and sec[0] > 0:
        types = sec[1:1 + sec[0]]
        if 19 in types and 1 not in types:
            s.sendall(b'\x13')
            data += read_exact(s, 2)
            s.sendall(b'\x00\x02')
            data += read_idle(s, 1.0, 5.0)
    s.close()
    return data


def vnc_fail_once(port):
    """One failed VncAuth attempt (wrong response) to trigger TigerVNC's blacklist."""
    s = conn(port)
    read_exact(s, 12)
    s.sendall(b'RFB 003.008\n')
    read_idle(s, 0.5, 2.0)
    s.sendall(b'\x02')
    read_exact(s, 16)
    s.sendall(b'\x00' * 16)
    r = read_idle(s, 1.0, 3.0)
    s.close()
    return r


def main():
    mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    arg = sys.argv[4] if len(sys.argv) > 4 else None
    if mode == 'ssh':
        data = grab_ssh(port)
    elif mode == 'telnet':
        data = grab_telnet(port, arg == 'first')
    elif mode == 'rdp':
        data = grab_rdp(port, arg)
    elif mode == 'vnc':
        data = grab_vnc(port)
    elif mode == 'vncfail':
        for _ in range(int(arg)):
            try:
                vnc_fail_once(port)
            except OSError:
                pass
        s = conn(port)
        data = read_idle(s, 1.0, 5.0)
        s.close()
    else:
        sys.exit('unknown mode')
    with open(out, 'wb') as f:
        f.write(data)
    print(out, len(data), data[:80])


main()
