#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# NAS admin page EMULATOR (issue 12): Debian packages no Synology DSM or QNAP QTS, so their login
# pages are emulated here, with the markers the real pages carry (docs/internals/PROBES.md, "NAS
# admin pages", lists the source of each): DSM's login page (title "NAME - Synology DiskStation",
# the SYNO.SDS.Session script, synoSDSjslib/ and webman/ paths), QNAP's public
# /cgi-bin/authLogin.cgi (a QDocRoot document with the model and firmware).
# Usage: nas_emul.py CASE PORT [--tls CERT KEY]   (127.0.0.1 only; --list lists the cases)
# With --tls the port sniffs the first byte: a TLS ClientHello gets TLS, plain HTTP gets nginx's
# "400 The plain HTTP request was sent to HTTPS port" (as DSM's nginx on 5001 answers), or, for
# the case qnap-tls-close, the connection is closed without a byte.
import socket, ssl, sys, time

import common

DSM = (b'<!DOCTYPE html>\n<html class="img-no-dragging">\n<head>\n'
       b'<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />\n'
       b'<meta name="application-name" content="backup-nas&nbsp;-&nbsp;Synology&nbsp;DiskStation" />\n'
       b'<link rel="shortcut icon" href="webman/favicon.ico?v=40000" />\n'
       b'<link rel="stylesheet" type="text/css" href="synoSDSjslib/sds.css?v=1681372342" />\n'
       b'<title>backup-nas&nbsp;-&nbsp;Synology&nbsp;DiskStation</title>\n</head>\n<body>\n'
       b'<script type="text/javascript">SYNO.SDS.Session = {"hostname":"backup-nas","lang":"enu"};</script>\n'
       b'</body>\n</html>\n')
QNAP = (b'<?xml version="1.0" encoding="UTF-8" ?>\n<QDocRoot version="1.0">\n'
        b'<doQuick><![CDATA[]]></doQuick>\n<is_booting><![CDATA[0]]></is_booting>\n'
        b'<model>\n<modelName><![CDATA[TS-X53B]]></modelName>\n'
        b'<internalModelName><![CDATA[TS-X53B]]></internalModelName>\n'
        b'<displayModelName><![CDATA[TS-453B]]></displayModelName>\n</model>\n'
        b'<firmware>\n<version><![CDATA[4.3.6]]></version>\n<number><![CDATA[1070]]></number>\n'
        b'<build><![CDATA[20190919]]></build>\n</firmware>\n'
        b'<hostname><![CDATA[qnap-office]]></hostname>\n</QDocRoot>\n')
OTHER = b'<html><head><title>Welcome to nginx!</title></head><body>nginx</body></html>\n'
PLAIN_ON_TLS = (b'HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n'
                b'Content-Length: 60\r\nConnection: close\r\n\r\n'
                b'<h1>The plain HTTP request was sent to HTTPS port</h1>\r\n\r\n')


def resp(status, body, extra=b'', length=True):
    head = b'HTTP/1.1 %s\r\nServer: nginx\r\nContent-Type: text/html\r\n' % status + extra
    if length:
        head += b'Content-Length: %d\r\n' % len(body)
    return head + b'Connection: close\r\n\r\n' + body


def answer(case, path):
    if case.startswith('dsm'):
        return resp(b'200 OK', DSM, length=case != 'dsm-nolength')
    if case.startswith('qnap'):
        if path == b'/cgi-bin/authLogin.cgi':
            return resp(b'200 OK', QNAP, b'Content-Type: text/xml\r\n')
        return resp(b'302 Found', b'', b'Location: /cgi-bin/\r\n')
    if case == 'other':
        return resp(b'200 OK', OTHER)
    if case == 'huge-header':
        return b'HTTP/1.1 200 OK\r\nX-Pad: ' + b'a' * 20000 + b'\r\n\r\n'
    if case == 'garbage':
        return bytes(range(256)) * 64
    if case == 'hostile':
        return resp(b'200 OK', b'<title>\x1b[2J\x07evil&nbsp;-&nbsp;Synology&nbsp;DiskStation</title>'
                    b'<script>SYNO.SDS.Session = {}</script>', b'Server: \x1b]0;pwn\x07\r\n')
    return b''


CASES = ['dsm', 'dsm-nolength', 'dsm-tls', 'qnap', 'qnap-tls', 'qnap-tls-close', 'other',
         'huge-header', 'garbage', 'hostile', 'drip']


def handle(conn, case, tlsctx):
    try:
        conn.settimeout(5)
        if tlsctx:
            first = conn.recv(1, socket.MSG_PEEK)
            if first != b'\x16':
                if case != 'qnap-tls-close':
                    conn.recv(4096)
                    conn.sendall(PLAIN_ON_TLS)
                return
            conn = tlsctx.wrap_socket(conn, server_side=True)
        req = b''
        while b'\r\n\r\n' not in req and len(req) < 8192:
            b = conn.recv(4096)
            if not b:
                return
            req += b
        path = req.split(b' ')[1] if req.count(b' ') >= 2 else b'/'
        if case == 'drip':
            data = resp(b'200 OK', DSM)
            for i in range(0, len(data), 16):
                conn.sendall(data[i:i + 16])
                time.sleep(0.02)
            return
        conn.sendall(answer(case, path))
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def serve(case, port, cert=None, key=None, host='127.0.0.1'):
    tlsctx = common.tls_context(cert, key)
    common.accept_loop(common.listen(host, port, 64), lambda conn, _: handle(conn, case, tlsctx))


if __name__ == '__main__':
    if sys.argv[1:] == ['--list']:
        print('\n'.join(CASES))
        sys.exit(0)
    case, port = sys.argv[1], int(sys.argv[2])
    cert = key = None
    if len(sys.argv) >= 6 and sys.argv[3] == '--tls':
        cert, key = sys.argv[4], sys.argv[5]
    serve(case, port, cert, key)
