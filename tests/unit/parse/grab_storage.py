#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Capture what a real storage server sends to the storage probes' requests (golden captures for
# tests/data/{iscsi,nfs}/), speaking the same bytes as src/probes/{iscsi,nfs}.c.
# Usage: grab_storage.py iscsi-discovery|rpc-dump|rpc-exports PORT OUT.bin   (127.0.0.1 only)
import socket, struct, sys, time

HOST = '127.0.0.1'
ISID = bytes([0x80, 0x00, 0x23, 0x17, 0x00, 0x01])


def pad4(b):
    return b + b'\0' * (-len(b) % 4)


def pdu(bhs, data):
    bhs = bytearray(bhs)
    bhs[5:8] = len(data).to_bytes(3, 'big')
    return bytes(bhs) + pad4(data)


def login(csg, nsg, itt, exp_stat_sn, keys):
    b = bytearray(48)
    b[0] = 0x43
    b[1] = 0x80 | csg << 2 | nsg
    b[8:14] = ISID
    b[16:20] = struct.pack('>I', itt)
    b[24:28] = struct.pack('>I', 1)
    b[28:32] = struct.pack('>I', exp_stat_sn)
    return pdu(b, keys)


def text(itt, exp_stat_sn, keys):
    b = bytearray(48)
    b[0] = 0x44
    b[1] = 0x80
    b[16:20] = struct.pack('>I', itt)
    b[20:24] = b'\xff\xff\xff\xff'
    b[24:28] = struct.pack('>I', 1)
    b[28:32] = struct.pack('>I', exp_stat_sn)
    return pdu(b, keys)


def read_pdu(s):
    data = b''
    s.settimeout(3)
    while len(data) < 48:
        b = s.recv(48 - len(data))
        if not b:
            return data
        data += b
    n = 48 + data[4] * 4 + ((int.from_bytes(data[5:8], 'big') + 3) & ~3)
    while len(data) < n:
        b = s.recv(n - len(data))
        if not b:
            break
        data += b
    return data


def iscsi_discovery(port):
    s = socket.create_connection((HOST, port), timeout=5)
    out = b''
    s.sendall(login(0, 1, 1, 0, b'InitiatorName=iqn.2017-06.exposure.selfcheck:probe\0'
                    b'SessionType=Discovery\0AuthMethod=None\0'))
    r = read_pdu(s)
    out += r
    if len(r) < 48 or r[36] != 0 or not r[1] & 0x80:
        return out
    stat_sn = struct.unpack('>I', r[24:28])[0]
    if r[1] & 3 == 1:
        s.sendall(login(1, 3, 2, stat_sn + 1, b'HeaderDigest=None\0DataDigest=None\0'
                        b'MaxRecvDataSegmentLength=8192\0'))
        r = read_pdu(s)
        out += r
        if len(r) < 48 or r[36] != 0:
            return out
        stat_sn = struct.unpack('>I', r[24:28])[0]
    s.sendall(text(3, stat_sn + 1, b'SendTargets=All\0'))
    out += read_pdu(s)
    s.close()
    return out


def rpc_call(port, xid, prog, vers, proc):
    """One ONC RPC call with AUTH_NULL and no arguments; the reply record as sent."""
    s = socket.create_connection((HOST, port), timeout=5)
    body = struct.pack('>10I', xid, 0, 2, prog, vers, proc, 0, 0, 0, 0)
    s.sendall(struct.pack('>I', 0x80000000 | len(body)) + body)
    out = b''
    s.settimeout(3)
    while True:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        out += b
        # stop after the last fragment
        off, done = 0, False
        while off + 4 <= len(out):
            mark = struct.unpack('>I', out[off:off + 4])[0]
            off += 4 + (mark & 0x7fffffff)
            if mark & 0x80000000 and off <= len(out):
                done = True
                break
        if done:
            break
    s.close()
    return out


def mount_port(dump):
    """The TCP port of mountd version 3 in a DUMP reply record (first fragment only)."""
    words = struct.unpack('>%dI' % ((len(dump) - 4) // 4), dump[4:4 + (len(dump) - 4) // 4 * 4])
    i = 6  # xid, REPLY, MSG_ACCEPTED, verf flavor, verf len 0, SUCCESS
    while words[i] == 1:
        prog, vers, prot, port = words[i + 1:i + 5]
        if prog == 100005 and vers == 3 and prot == 6:
            return port
        i += 5
    raise SystemExit('no mountd v3 over TCP')


def rpc_dump(port):
    return rpc_call(port, 0x4e465330, 100000, 2, 4)


def rpc_exports(port):
    return rpc_call(mount_port(rpc_call(port, 0x4e465330, 100000, 2, 4)), 0x4e465331, 100005,
                    3, 5)


if __name__ == '__main__':
    what, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = {'iscsi-discovery': iscsi_discovery, 'rpc-dump': rpc_dump,
            'rpc-exports': rpc_exports}[what](port)
    with open(path, 'wb') as f:
        f.write(data)
