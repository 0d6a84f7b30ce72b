#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Elasticsearch behind an HTTPS reverse proxy (issue 12's remainder): `exposure check --json
# --checks elasticsearch` through the real engine, its TLS and the sandboxed prober, against a
# REAL nginx (Debian's package) listening with TLS (a throw-away certificate made here) and
# proxying to the Elasticsearch EMULATOR (tests/emul/db_emul.py: Debian packages no
# Elasticsearch; only Elasticsearch is emulated, nginx is real). The clear-text GET / gets nginx's
# own "400 The plain HTTP request was sent to HTTPS port" page; the probe must then ask again over
# TLS, once, and judge that answer:
#   nginx -> open cluster           elasticsearch-no-auth confirmed, over TLS, tls: true;
#   nginx auth_basic -> open cluster nginx's 401: no confirmed no-auth, never "safe" (unknown);
#   nginx -> Elasticsearch's 401    security on: elasticsearch-exposed only, auth required;
#   a plain server replaying nginx's 400 bytes, no TLS at all: the TLS attempt fails, nothing is
#   decided (no-auth unknown, not "no" and not confirmed), within the check's deadline.
# One nginx serves every case; in a private network namespace (tests/isolated.sh).
# Usage: test_es_proxy.py EXPOSURE EMUL_DIR (tests/emul: common.py, db_emul.py)
import os, shutil, socket, subprocess, sys, tempfile, time

exe, emul = sys.argv[1], sys.argv[2]
sys.path.insert(0, emul)
import common, db_emul  # noqa: E402

NGINX = shutil.which('nginx') or '/usr/sbin/nginx'
P_OPEN, P_BASIC, P_SECURED, P_PLAIN400 = 19300, 19301, 19302, 19303
GET = (b'GET / HTTP/1.1\r\nHost: elasticsearch\r\nUser-Agent: exposure-selfcheck\r\n'
       b'Accept: application/json\r\nConnection: close\r\n\r\n')

tmp = tempfile.mkdtemp(prefix='xp-es-proxy.')
cert, key = common.self_signed(tmp, 'es.test',
                               ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'))
with open(os.path.join(tmp, 'htpasswd'), 'w') as f:
    f.write('elastic:{PLAIN}changeme\n')

# the Elasticsearch emulators nginx proxies to (threads of this process)
open_srv, open_port = db_emul.serve('es-open')
sec_srv, sec_port = db_emul.serve('es-secured')

conf = os.path.join(tmp, 'nginx.conf')
with open(conf, 'w') as f:
    f.write('''
daemon off;
master_process off;
worker_processes 1;
pid %(t)s/nginx.pid;
error_log %(t)s/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %(t)s/cb;
    proxy_temp_path %(t)s/px;
    fastcgi_temp_path %(t)s/fc;
    uwsgi_temp_path %(t)s/uw;
    scgi_temp_path %(t)s/sc;
    ssl_certificate %(cert)s;
    ssl_certificate_key %(key)s;
    server {
        listen 127.0.0.1:%(p_open)d ssl;
        location / { proxy_pass http://127.0.0.1:%(open)d; }
    }
    server {
        listen 127.0.0.1:%(p_basic)d ssl;
        location / {
            auth_basic "Restricted";
            auth_basic_user_file %(t)s/htpasswd;
            proxy_pass http://127.0.0.1:%(open)d;
        }
    }
    server {
        listen 127.0.0.1:%(p_sec)d ssl;
        location / { proxy_pass http://127.0.0.1:%(sec)d; }
    }
}
''' % {'t': tmp, 'cert': cert, 'key': key, 'open': open_port, 'sec': sec_port,
       'p_open': P_OPEN, 'p_basic': P_BASIC, 'p_sec': P_SECURED})
nginx = subprocess.Popen([NGINX, '-e', os.path.join(tmp, 'error.log'), '-p', tmp, '-c', conf],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
plain_srv = None
check = common.Checks()


def plain_get(port):
    """The probe's clear-text GET /, and every byte until the server closes."""
    s = socket.create_connection(('127.0.0.1', port), timeout=5)
    s.sendall(GET)
    got = b''
    while len(got) < 65536:
        d = s.recv(4096)
        if not d:
            break
        got += d
    s.close()
    return got


def answer_with(data):
    """A plain server's connection (no TLS anywhere): data to whatever comes, then the close."""
    def one(c, _n):
        try:
            c.settimeout(5)
            c.recv(4096)  # the request, or a TLS ClientHello: the same page either way
            c.sendall(data)
        except OSError:
            pass
        finally:
            c.close()
    return one


def finding(e, fid):
    f = [x for x in e['findings'] if x['id'] == fid]
    return f[0] if f else None


def run(port):
    """The check's object, its details, its elasticsearch-no-auth finding, the seconds taken."""
    t0 = time.monotonic()
    e = common.check_json(exe, 'elasticsearch', port)
    return e, e.get('details') or {}, finding(e, 'elasticsearch-no-auth'), time.monotonic() - t0


try:
    check('nginx listening', all(common.wait_port(p) for p in (P_OPEN, P_BASIC, P_SECURED)),
          open(os.path.join(tmp, 'error.log')).read())

    # what real nginx answers the probe's clear-text request on its TLS port
    page = plain_get(P_OPEN)
    check('nginx answers clear text with its 400 page',
          page.startswith(b'HTTP/1.1 400 ') and
          b'The plain HTTP request was sent to HTTPS port' in page, page[:300])

    e, d, f, _ = run(P_OPEN)
    check('nginx -> open cluster: elasticsearch', e['state'] == 'open' and
          e['service'] == 'elasticsearch', e)
    check('nginx -> open cluster: no-auth confirmed over TLS',
          f is not None and f['confidence'] == 'confirmed' and 'over TLS' in f['reason'], e)
    check('nginx -> open cluster: tls true, status 200, cluster',
          d.get('tls') is True and d.get('status') == 200 and
          d.get('cluster_name') == 'emul-cluster' and d.get('server', '').startswith('nginx'), d)

    e, d, f, _ = run(P_BASIC)
    check('nginx auth_basic: its 401 read over TLS',
          d.get('tls') is True and d.get('status') == 401 and
          d.get('www_authenticate', '').startswith('Basic realm="Restricted"'), e)
    check('nginx auth_basic: exposed', finding(e, 'elasticsearch-exposed') is not None, e)
    check('nginx auth_basic: no-auth not confirmed, not "safe" (unknown)',
          f is not None and f['confidence'] == 'unknown', e)

    e, d, _, _ = run(P_SECURED)
    check('nginx -> Elasticsearch 401: elasticsearch-exposed only, auth required',
          e['service'] == 'elasticsearch' and
          sorted(x['id'] for x in e['findings']) == ['elasticsearch-exposed'] and
          d.get('auth') == 'required' and d.get('status') == 401 and d.get('tls') is True, e)

    # nginx's very bytes from a plain server with no TLS: one TLS attempt, then nothing decided
    plain_srv, _ = common.serve_background(common.listen('127.0.0.1', P_PLAIN400),
                                           answer_with(page))
    e, d, f, took = run(P_PLAIN400)
    check('plain 400 page, no TLS: open, not identified', e['state'] == 'open' and
          e['service'] == 'http', e)
    check('plain 400 page, no TLS: no-auth unknown (neither "no" nor confirmed)',
          f is not None and f['confidence'] == 'unknown' and f.get('reason'), e)
    check('plain 400 page, no TLS: the failed TLS attempt said',
          d.get('tls') is False and 'asking for TLS' in d.get('note', ''), d)
    check('plain 400 page, no TLS: within the check\'s deadline (%.1f s)' % took, took < 12, took)
finally:
    nginx.kill()
    nginx.wait()
    for s in (open_srv, sec_srv, plain_srv):
        if s is not None:
            s.close()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(check.status())
