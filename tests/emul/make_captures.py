#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Write the hand-made ("emul-...") captures of tests/data/{ssh,telnet,rdp,vnc}: the cases of
# PROTOCOLS.md §12 that no Debian server produces. Bytes follow the tables of PROTOCOLS.md §12.2,
# §12.3, §12.7, §12.8. The .expect sidecars (source=, parser=, then the whole parse) are written
# by hand, or from `test_parse_golden DATA_DIR --dump` once checked against the spec tables.
# Usage: make_captures.py [DATA_DIR]   (default: tests/data of this tree; writes the .bin files)
# The SMB and NetBIOS ones: make_smb_captures.py next to this file.
import os, struct, sys

data = sys.argv[1] if len(sys.argv) > 1 else \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')


def put(proto, name, b):
    with open(os.path.join(data, proto, 'emul-' + name + '.bin'), 'wb') as f:
        f.write(b)


def namelist(names):
    s = ','.join(names).encode()
    return struct.pack('>I', len(s)) + s


def kexinit(kex, hostkey, ciphers, macs):
    payload = bytes([20]) + bytes(range(16))
    for lst in (kex, hostkey, ciphers, ciphers, macs, macs, ['none'], ['none'], [], []):
        payload += namelist(lst)
    payload += b'\x00' + b'\x00\x00\x00\x00'
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    body = bytes([pad]) + payload + b'\x00' * pad
    return struct.pack('>I', len(body)) + body


# --- SSH (§12.2)
put('ssh', 'ssh199-nocr', b'SSH-1.99-OpenSSH_3.9p1\n')
put('ssh', 'ssh15', b'SSH-1.5-1.2.27\n')
put('ssh', 'prebanner', b'Hello\r\nAuthorized use only\r\nSSH-2.0-Test_1.0\r\n')
put('ssh', 'lf-only', b'SSH-2.0-Test_1.0\n')
put('ssh', 'overlong', b'SSH-2.0-' + b'A' * 300 + b'\r\n')
put('ssh', 'nul', b'SSH-2.0-Te\x00st\r\n')
put('ssh', 'http', b'HTTP/1.1 400 Bad Request\r\n\r\n')
put('ssh', 'tarpit', b''.join(b'%032x\r\n' % (i * 0x9e3779b97f4a7c15 & (2**128 - 1))
                               for i in range(40)))
put('ssh', 'hostile', b'\x1b[2J<script>alert(1)</script>\r\n'
    b'SSH-2.0-Evil\x1b[31m_1.0 <b>x</b>\xff\xfe\xc3\x28\r\n')
put('ssh', 'dropbear-kexinit-terrapin', b'SSH-2.0-dropbear_2020.81\r\n' + kexinit(
    ['curve25519-sha256', 'diffie-hellman-group1-sha1'], ['ssh-rsa', 'ssh-dss'],
    ['chacha20-poly1305@openssh.com', 'aes128-ctr', '3des-cbc', 'none'],
    ['hmac-sha2-256', 'hmac-md5-96', 'hmac-sha1-etm@openssh.com']))
put('ssh', 'kexinit-strict', b'SSH-2.0-Test_1.0\r\n' + kexinit(
    ['curve25519-sha256', 'kex-strict-s-v00@openssh.com'], ['ssh-ed25519'],
    ['chacha20-poly1305@openssh.com', 'aes256-cbc'], ['hmac-sha2-256-etm@openssh.com']))
put('ssh', 'kexinit-badlen', b'SSH-2.0-Test_1.0\r\n' +
    struct.pack('>IB', 40, 4) + bytes([20]) + bytes(16) + struct.pack('>I', 0x7fffffff) +
    bytes(18))

# --- Telnet (§12.3)
bb = bytes.fromhex('fffd01fffd1ffffd21fffb01fffb03')
put('telnet', 'busybox-login', bb + b'\r\nfixture login: ')
put('telnet', 'busybox-shell', bb + b"\r\n\r\nBusyBox v1.20.2 (2013-01-01) built-in shell (ash)\r\n"
    b"Enter 'help' for a list of built-in commands.\r\n\r\n# ")
put('telnet', 'winxp', bytes.fromhex('fffd25fffb01fffb03fffd27fffd1ffffd00fffb00'))
put('telnet', 'plaintext-login', b'\r\nUser Access Verification\r\n\r\nUsername: ')
put('telnet', 'subneg', bytes.fromhex('fffd18fffa1801fff0') + b'\r\nlogin: ')
put('telnet', 'iac-iac', b'Welcome \xff\xff end\r\nlogin: ')
put('telnet', 'ssh-on-23', b'SSH-2.0-dropbear_2019.78\r\n')
put('telnet', 'hostile', b'\xff\xfb\x01\x1b]0;pwned\x07\x1b[31m<script>x</script>\x00\xc3\x28\r\n'
    b'Password: ')

# --- RDP (§12.7)
pfx = bytes.fromhex('030000130ed00000123400')
put('rdp', 'windows-nla-hybrid', pfx + bytes.fromhex('020f080002000000'))
put('rdp', 'windows-nla-hybridex', pfx + bytes.fromhex('021f080008000000'))
put('rdp', 'windows-nla-failure5', pfx + bytes.fromhex('0300080005000000'))
put('rdp', 'windows-ssl-not-allowed', pfx + bytes.fromhex('0300080002000000'))
put('rdp', 'windows-rdp-selected', pfx + bytes.fromhex('0200080000000000'))
put('rdp', 'client-cert-required', pfx + bytes.fromhex('0300080006000000'))
put('rdp', 'legacy', bytes.fromhex('0300000b06d00000123400'))
put('rdp', 'disconnect', bytes.fromhex('0300000b0680000000000000')[:11])
put('rdp', 'malformed-length-past-data', bytes.fromhex('030001000ed00000123400020108000100000000'))
put('rdp', 'malformed-li', bytes.fromhex('030000130dd00000123400020108000100000000')[:19])
put('rdp', 'tls-alert', bytes.fromhex('15030100020228'))

# --- VNC (§12.8)
put('vnc', 'realvnc-4.1', b'RFB 004.001\n\x01\x02')
put('vnc', 'realvnc-5', b'RFB 005.000\n\x02\x05\x06')
put('vnc', 'apple', b'RFB 003.889\n\x02\x1e\x23')
put('vnc', 'refused-reason', b'RFB 003.008\n\x00\x00\x00\x00\x1aToo many security failures')
put('vnc', '33-failure-early', b'RFB 003.003\n\x00\x00\x00\x00\x00\x00\x00\x1a'
    b'Too many security failures')
put('vnc', 'tigervnc-old-quirk', b'RFB 003.008\n\x02\x13\x01')
put('vnc', 'oversized-reason', b'RFB 003.008\n\x00\x00\x10\x00\x00' + b'x' * 2048)
put('vnc', 'http', b'HTTP/1.0 200 OK\r\n\r\n')
put('vnc', 'rfb37', b'RFB 003.007\n\x01\x02')
hostile = b'\x1b[2J<b>no</b>\x00\xc3\x28\xff\x07\r\nbye'
put('vnc', 'hostile-reason', b'RFB 003.008\n\x00' + struct.pack('>I', len(hostile)) + hostile)
