#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Write the hand-made (emulator-only) captures of tests/data/{netbios,smb}/emul-*.bin from the
# byte dumps of PROTOCOLS.md §12.4, §12.5 and §12.6 (and a few hostile variants). No server
# produces these. Each .expect starts with source=/handmade=/parser= lines written here; the
# expected parse lines below them are kept by hand (checked against the spec tables).
# Usage: make_smb_captures.py [DATA_DIR]   (default: tests/data of this tree; writes .bin always,
# the .expect header only if missing). The SSH/Telnet/RDP/VNC ones: make_captures.py.
import os, struct, sys

data = sys.argv[1] if len(sys.argv) > 1 else \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')


def hx(s):
    return bytes.fromhex(''.join(l.split(':', 1)[1] if ':' in l else l for l in s.strip().splitlines()))


def put(sub, name, b, parser, what):
    os.makedirs(f'{data}/{sub}', exist_ok=True)
    with open(f'{data}/{sub}/{name}.bin', 'wb') as f:
        f.write(b)
    e = f'{data}/{sub}/{name}.expect'
    if not os.path.exists(e):
        with open(e, 'w') as f:
            f.write(f'source=hand-made: {what}\nhandmade=1\nparser={parser}\n')


def patch(b, off, new):
    return b[:off] + new + b[off + len(new):]


# ---- NetBIOS (§12.4)
for code, what in ((0x80, 'not listening on called name'), (0x81, 'not listening for calling name'),
                   (0x83, 'insufficient resources'), (0x8f, 'unspecified error')):
    put('netbios', f'emul-nbss-negative-{code:02x}', bytes([0x83, 0, 0, 1, code]), 'nbss',
        f'PROTOCOLS.md §12.4 negative session response code 0x{code:02x} ({what})')
put('netbios', 'emul-nbss-retarget', hx('84 00 00 06 c0 00 02 01 01 bd'), 'nbss',
    'PROTOCOLS.md §12.4 retarget to 192.0.2.1:445')
put('netbios', 'emul-nbss-keepalive-positive', hx('85 00 00 00 82 00 00 00'), 'nbss',
    'PROTOCOLS.md §12.4 keep-alive before the positive response')
put('netbios', 'emul-nbss-http', b'HTTP/1.0 400\r\n\r\n', 'nbss',
    'PROTOCOLS.md §12.4 non-NBSS bytes (an HTTP server on 139)')
put('netbios', 'emul-nbss-negative-badlen', hx('83 00 00 05 82 00 00 00 00'), 'nbss',
    'hostile: negative response whose length field says 5 (must be 1)')
put('netbios', 'emul-nbss-message-over-cap', hx('00 01 ff ff ff 53 4d 42'), 'nbss',
    'hostile: session message of 131071 bytes, over the 64 KiB SMB cap (5.1)')
put('netbios', 'emul-nbss-badflags', hx('82 02 00 00'), 'nbss',
    'hostile: positive response with reserved FLAGS bits set')

# ---- SMB1 MS17-010 sequence (§12.6 (b)), Windows 7 emulator
neg = hx('''
0000: 00 00 00 6d ff 53 4d 42 72 00 00 00 00 98 01 c0
0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ff fe
0020: 00 00 40 00 11 05 00 03 32 00 01 00 04 41 00 00
0030: 00 00 01 00 00 00 00 00 fd e3 00 00 00 d0 c0 b0
0040: a0 f3 d2 01 e4 fd 08 28 00 11 22 33 44 55 66 77
0050: 88 57 00 4f 00 52 00 4b 00 47 00 52 00 4f 00 55
0060: 00 50 00 00 00 45 00 4d 00 55 00 4c 00 37 00 00
0070: 00''')
sess = hx('''
0000: 00 00 00 ca ff 53 4d 42 73 00 00 00 00 98 01 c0
0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ff fe
0020: 00 08 40 00 03 ff 00 00 00 00 00 a1 00 00 57 00
0030: 69 00 6e 00 64 00 6f 00 77 00 73 00 20 00 37 00
0040: 20 00 50 00 72 00 6f 00 66 00 65 00 73 00 73 00
0050: 69 00 6f 00 6e 00 61 00 6c 00 20 00 37 00 36 00
0060: 30 00 31 00 20 00 53 00 65 00 72 00 76 00 69 00
0070: 63 00 65 00 20 00 50 00 61 00 63 00 6b 00 20 00
0080: 31 00 00 00 57 00 69 00 6e 00 64 00 6f 00 77 00
0090: 73 00 20 00 37 00 20 00 50 00 72 00 6f 00 66 00
00a0: 65 00 73 00 73 00 69 00 6f 00 6e 00 61 00 6c 00
00b0: 20 00 36 00 2e 00 31 00 00 00 57 00 4f 00 52 00
00c0: 4b 00 47 00 52 00 4f 00 55 00 50 00 00 00''')
tcon = hx('''
0000: 00 00 00 2f ff 53 4d 42 75 00 00 00 00 98 01 c0
0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 08 ff fe
0020: 00 08 40 00 03 ff 00 00 00 01 00 06 00 49 50 43
0030: 00 00 00''')
trans = hx('''
0000: 00 00 00 23 ff 53 4d 42 25 05 02 00 c0 98 01 68
0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 08 ff fe
0020: 00 08 41 00 00 00 00''')
dp = hx('''
0000: 00 00 00 23 ff 53 4d 42 32 02 00 00 c0 98 07 c0
0010: 00 00 7c 7c 45 b1 00 00 00 00 00 00 00 08 ff fe
0020: 00 08 51 00 00 00 00''')
w7 = 'PROTOCOLS.md §12.6 (b) Windows 7 emulator'
put('smb', 'emul-win7-ms17-1-negotiate', neg, 'smb1_negotiate', w7 + ' NEGOTIATE reply')
put('smb', 'emul-win7-ms17-2-session-setup', sess, 'smb1_session_setup', w7 + ' SESSION_SETUP_ANDX reply')
put('smb', 'emul-win7-ms17-3-tree-connect', tcon, 'smb1_tree_connect', w7 + ' TREE_CONNECT_ANDX reply')
put('smb', 'emul-vulnerable-ms17-4-trans', trans, 'smb1_trans', 'PROTOCOLS.md §12.6 TRANSACTION reply, unpatched (0xC0000205)')
put('smb', 'emul-patched-ms17-4-trans', patch(trans, 9, hx('08 00 00 c0')), 'smb1_trans',
    'PROTOCOLS.md §12.6 TRANSACTION reply, patched (0xC0000008)')
put('smb', 'emul-win10-ms17-4-trans', patch(trans, 9, hx('22 00 00 c0')), 'smb1_trans',
    'PROTOCOLS.md §12.6 TRANSACTION reply, patched Windows 10 (0xC0000022)')
put('smb', 'emul-dos-ms17-4-trans', patch(patch(trans, 9, hx('01 00 06 00')), 14, hx('01 28')), 'smb1_trans',
    'PROTOCOLS.md §12.6 TRANSACTION reply, DOS error form ERRDOS/ERRbadfid (Flags2 0x2801)')
put('smb', 'emul-dos-other-ms17-4-trans', patch(patch(trans, 9, hx('01 00 05 00')), 14, hx('01 28')), 'smb1_trans',
    'TRANSACTION reply, DOS error form ERRDOS/ERRnoaccess (not the badfid of 6.5: unknown)')
put('smb', 'emul-other-status-ms17-4-trans', patch(trans, 9, hx('02 00 00 c0')), 'smb1_trans',
    'TRANSACTION reply with STATUS_NOT_IMPLEMENTED (unknown, as impacket answers)')
put('smb', 'emul-wrong-command-ms17-4-trans', patch(trans, 8, b'\x32'), 'smb1_trans',
    'PROTOCOLS.md §12.6 failure variant: TRANSACTION reply with Command 0x32 (unknown)')
put('smb', 'emul-wrong-mid-ms17-4-trans', patch(trans, 34, hx('99 00')), 'smb1_trans',
    'TRANSACTION reply 0xC0000205 with another MID (unknown, never vulnerable)')
put('smb', 'emul-dp-present-ms17-5-trans2', dp, 'smb1_trans2',
    'PROTOCOLS.md §12.6 TRANSACTION2 reply, DoublePulsar present (MID 0x51, x86 key)')
put('smb', 'emul-dp-present-x64-ms17-5-trans2', patch(dp, 22, hx('01 00 00 00')), 'smb1_trans2',
    'TRANSACTION2 reply, DoublePulsar present, SecurityFeatures bytes 4..7 non-zero (x64)')
put('smb', 'emul-dp-absent-ms17-5-trans2', patch(patch(dp, 34, hx('41 00')), 18, bytes(8)), 'smb1_trans2',
    'PROTOCOLS.md §12.6 TRANSACTION2 reply, no implant (MID 0x41, zero SecurityFeatures)')
put('smb', 'emul-fail-logon-ms17-2-session-setup',
    patch(hx('00 00 00 23') + sess[4:36] + hx('00 00 00'), 9, hx('6d 00 00 c0')), 'smb1_session_setup',
    'PROTOCOLS.md §12.6 failure variant: SESSION_SETUP refused, LOGON_FAILURE, WordCount 0')
put('smb', 'emul-fail-busy-ms17-2-session-setup',
    patch(hx('00 00 00 23') + sess[4:36] + hx('00 00 00'), 9, hx('d0 00 00 c0')), 'smb1_session_setup',
    'PROTOCOLS.md §12.6 failure variant: REQUEST_NOT_ACCEPTED, WordCount 0')
put('smb', 'emul-fail-denied-ms17-3-tree-connect',
    patch(hx('00 00 00 23') + tcon[4:36] + hx('00 00 00'), 9, hx('22 00 00 c0')), 'smb1_tree_connect',
    'PROTOCOLS.md §12.6 failure variant: TREE_CONNECT refused, ACCESS_DENIED')

# ---- SMB1 NEGOTIATE variants (§12.5 emulator-only)
lanman_words = struct.pack('<HHHHHHIHHhHH', 4, 0x0003, 4356, 10, 1, 0, 0, 0, 0, -540, 8, 0)
lan_msg = hx('ff 53 4d 42 72 00 00 00 00 98 01 40') + bytes(12) + hx('00 00 ff fe 00 00 40 00') + \
    b'\x0d' + lanman_words + struct.pack('<H', 8 + 10) + bytes.fromhex('1122334455667788') + b'WORKGROUP\x00'
put('smb', 'emul-lanman-negotiate1', struct.pack('>I', len(lan_msg)) + lan_msg, 'smb1_negotiate',
    'PROTOCOLS.md §12.5 LANMAN2.1 reply (WordCount 13, DialectIndex 4)')
put('smb', 'emul-sharelevel-negotiate1', patch(neg, 39, b'\x02'), 'smb1_negotiate',
    'PROTOCOLS.md §12.5 share-level SMB1 (SecurityMode 0x02)')
put('smb', 'emul-plaintext-negotiate1', patch(neg, 39, b'\x01'), 'smb1_negotiate',
    'PROTOCOLS.md §12.5 plaintext-password SMB1 (SecurityMode 0x01)')
# extended-security reply with a GUID of 16 x 'A' (honeypot, nuclei issue #2204) and a small blob
blob = bytes.fromhex('6006062b0601050502')
ext_msg = hx('ff 53 4d 42 72 00 00 00 00 98 01 c8') + bytes(12) + hx('00 00 ff fe 00 00 40 00') + b'\x11' + \
    struct.pack('<HBHHIIIIQhB', 5, 0x03, 50, 1, 16644, 65536, 0, 0x8000e3fd, 0, 0, 0) + \
    struct.pack('<H', 16 + len(blob)) + b'A' * 16 + blob
put('smb', 'emul-honeypot-negotiate1', struct.pack('>I', len(ext_msg)) + ext_msg, 'smb1_negotiate',
    'PROTOCOLS.md §12.5 honeypot-style extended-security reply, ServerGUID 16 x "A"')
put('smb', 'emul-http-negotiate1', b'HTTP/1.1 400 Bad Request\r\nServer: x\r\n\r\n', 'smb1_negotiate',
    'PROTOCOLS.md §5.1 non-SMB bytes on 445 (an HTTP server)')
put('smb', 'emul-over-cap-negotiate1', hx('00 01 00 01') + neg[4:], 'smb1_negotiate',
    'hostile: frame length 65537, over the 64 KiB cap of 5.1')
put('smb', 'emul-wordcount-lie-negotiate1', patch(neg, 36, b'\x40'), 'smb1_negotiate',
    'hostile: WordCount 64 points past the message')
put('smb', 'emul-bytecount-lie-negotiate1', patch(neg, 71, hx('ff 00')), 'smb1_negotiate',
    'hostile: ByteCount 255 points past the message')
put('smb', 'emul-challenge-lie-negotiate1', patch(neg, 70, b'\x80'), 'smb1_negotiate',
    'hostile: ChallengeLength 128 longer than ByteCount')
put('smb', 'emul-transform-negotiate1', hx('00 00 00 34 fd 53 4d 42') + bytes(48), 'smb1_negotiate',
    'hostile: SMB3 transform header instead of a NEGOTIATE reply')
# hostile UTF-16 names: control characters, non-ASCII, surrogate pair, no terminator
names = 'W\x1b[31mX<script>'.encode('utf-16-le') + '\u00e9\u65e5'.encode('utf-16-le') + \
    '\U0001f600'.encode('utf-16-le') + b'\x00\x00' + ('S' * 100).encode('utf-16-le')
hn = neg[4:71] + struct.pack('<H', 8 + len(names)) + neg[73:81] + names
put('smb', 'emul-hostile-names-negotiate1', struct.pack('>I', len(hn)) + hn, 'smb1_negotiate',
    'hostile: DomainName with an escape sequence, HTML, non-ASCII and a surrogate pair; '
    'ServerName of 100 characters without terminator (truncated)')
