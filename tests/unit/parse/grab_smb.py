#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Send the probes' exact requests (built by smb_reqgen, i.e. by the C builders) to a server on
# 127.0.0.1 and save each reply frame as OUTDIR/PREFIX-<step>.bin (golden captures, tests/data).
# Usage: grab_smb.py REQGEN PORT OUTDIR PREFIX PLAN...
#   nbss               session request *SMBSERVER<20> / SELFCHECK<00>       -> nbss-positive
#   nbss-neg           calling name suffix 'R' (Samba answers negative)      -> nbss-negative
#   nbss-called        called name FIXTURE2<20> (a name the server lacks)   -> nbss-called-other
#   nbt-neg1           positive session, then SMB1 NEGOTIATE over NetBIOS    -> nbt-negotiate1
#   neg1 | neg2 | neg2-311                                                   -> negotiate1 ...
#   ms17               steps 1..4 (+ 5, the DoublePulsar ping) on one connection -> ms17-N-<name>
import socket, struct, subprocess, sys

HOST = '127.0.0.1'


def req(reqgen, *args):
    return subprocess.run([reqgen] + [str(a) for a in args], check=True,
                          stdout=subprocess.PIPE).stdout


def read_exact(s, n):
    data = b''
    while len(data) < n:
        try:
            b = s.recv(n - len(data))
        except (socket.timeout, ConnectionResetError):
            break
        if not b:
            break
        data += b
    return data


def read_frame(s):
    """One NBSS / direct-TCP frame (skipping nothing); whatever arrived if the peer closed."""
    hdr = read_exact(s, 4)
    if len(hdr) < 4:
        return hdr
    n = (hdr[1] << 16 | hdr[2] << 8 | hdr[3]) if hdr[0] == 0 else ((hdr[1] & 1) << 16 | hdr[2] << 8 | hdr[3])
    return hdr + read_exact(s, min(n, 1 << 17))


def conn(port):
    return socket.create_connection((HOST, port), timeout=5)


def save(outdir, prefix, step, data):
    path = f'{outdir}/{prefix}-{step}.bin'
    with open(path, 'wb') as f:
        f.write(data)
    print(f'{path}: {len(data)} bytes: {data[:48].hex()}')


def one(port, data):
    s = conn(port)
    s.sendall(data)
    r = read_frame(s)
    s.close()
    return r


def main():
    reqgen, port, outdir, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    for plan in sys.argv[5:]:
        if plan == 'nbss':
            save(outdir, prefix, 'nbss-positive', one(port, req(reqgen, 'nbss', '*SMBSERVER', 0x20, 'SELFCHECK', 0)))
        elif plan == 'nbss-neg':
            save(outdir, prefix, 'nbss-negative', one(port, req(reqgen, 'nbss', '*SMBSERVER', 0x20, 'SELFCHECK', 0x52)))
        elif plan == 'nbss-called':
            save(outdir, prefix, 'nbss-called-other', one(port, req(reqgen, 'nbss', 'FIXTURE2', 0x20, 'SELFCHECK', 0)))
        elif plan == 'nbt-neg1':
            s = conn(port)
            s.sendall(req(reqgen, 'nbss', '*SMBSERVER', 0x20, 'SELFCHECK', 0))
            r = read_frame(s)
            assert r == b'\x82\x00\x00\x00', r
            s.sendall(req(reqgen, 'neg1', 0x40))
            save(outdir, prefix, 'nbt-negotiate1', read_frame(s))
            s.close()
        elif plan == 'neg1':
            save(outdir, prefix, 'negotiate1', one(port, req(reqgen, 'neg1', 0x40)))
        elif plan == 'neg2':
            save(outdir, prefix, 'negotiate2', one(port, req(reqgen, 'neg2')))
        elif plan == 'neg2-311':
            save(outdir, prefix, 'negotiate2-311', one(port, req(reqgen, 'neg2-311')))
        elif plan == 'ms17':
            s = conn(port)
            s.sendall(req(reqgen, 'neg1', 0x40))
            r = read_frame(s)
            save(outdir, prefix, 'ms17-1-negotiate', r)
            if len(r) < 40 or r[4] != 0xff or r[36] != 17:
                continue
            s.sendall(req(reqgen, 'ssetup', 0x40))
            r = read_frame(s)
            save(outdir, prefix, 'ms17-2-session-setup', r)
            if len(r) < 36 or struct.unpack('<I', r[9:13])[0] != 0:
                continue
            uid = struct.unpack('<H', r[32:34])[0]
            s.sendall(req(reqgen, 'tcon', uid, 0x40, HOST))
            r = read_frame(s)
            save(outdir, prefix, 'ms17-3-tree-connect', r)
            if len(r) < 36 or struct.unpack('<I', r[9:13])[0] != 0:
                continue
            tid = struct.unpack('<H', r[28:30])[0]
            s.sendall(req(reqgen, 'peek', tid, uid, 0x41))
            r = read_frame(s)
            save(outdir, prefix, 'ms17-4-trans', r)
            # our own lab server: the harmless implant ping, for a real "not detected" reply
            s.sendall(req(reqgen, 'dp', tid, uid))
            save(outdir, prefix, 'ms17-5-trans2-dp', read_frame(s))
            s.close()
        else:
            sys.exit(f'unknown plan {plan}')


main()
