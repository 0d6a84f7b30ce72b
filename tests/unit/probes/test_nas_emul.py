#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The nas-admin check through the real engine (and its TLS, src/engine/tls.c) and the sandboxed
# prober: `exposure check --json --checks nas-admin` on loopback against the NAS page EMULATOR
# (tests/emul/nas_emul.py: no Debian package serves a Synology or QNAP page), in a private
# network namespace (tests/isolated.sh). Plain and TLS DSM, QNAP over HTTP and over TLS (a port
# that closes on plain HTTP), another web server, and hostile servers (garbage, a 20 KB header,
# one byte every 50 ms, control bytes in the page): exact verdicts, no crash, escaped details.
# Usage: test_nas_emul.py EXPOSURE EMUL_DIR
import json, os, socket, subprocess, sys, tempfile, time

exe, emul = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix='xp-nas.')
cert, key = os.path.join(tmp, 'cert.pem'), os.path.join(tmp, 'key.pem')
subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                '-subj', '/CN=nas.test', '-keyout', key, '-out', cert],
               check=True, capture_output=True)

# case -> (port, tls)
servers = {'dsm': (15000, False), 'dsm-tls': (15001, True), 'qnap': (18080, False),
           'qnap-tls-close': (10443, True), 'other': (18081, False), 'garbage': (18082, False),
           'huge-header': (18083, False), 'drip': (18084, False), 'hostile': (18085, False),
           'dsm-nolength': (18086, False)}
procs = []
for case, (port, tls) in servers.items():
    args = [sys.executable, os.path.join(emul, 'nas_emul.py'), case, str(port)]
    if tls:
        args += ['--tls', cert, key]
    procs.append(subprocess.Popen(args))
for case, (port, _) in servers.items():
    for _ in range(100):
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)

failed = 0


def check(label, cond, info):
    global failed
    if cond:
        print('ok - %s' % label)
    else:
        failed += 1
        print('not ok - %s: %s' % (label, info))


def run(port):
    r = subprocess.run([exe, 'check', '--json', '--checks', 'nas-admin', '--port',
                        'nas-admin=%d' % port, '127.0.0.1'],
                       capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout)['checks'][0]


def printable(v):
    return all(0x20 <= ord(ch) < 0x7f for ch in json.dumps(v, ensure_ascii=True))


# case -> (service, vendor, tls, finding confidence, extra details)
want = {
    'dsm': ('nas-admin', 'synology', False, 'confirmed', {'device_name': 'backup-nas'}),
    'dsm-nolength': ('nas-admin', 'synology', False, 'confirmed', {'device_name': 'backup-nas'}),
    'dsm-tls': ('nas-admin', 'synology', True, 'confirmed', {'device_name': 'backup-nas'}),
    'qnap': ('nas-admin', 'qnap', False, 'confirmed',
             {'model': 'TS-453B', 'firmware': '4.3.6', 'build': '20190919'}),
    'qnap-tls-close': ('nas-admin', 'qnap', True, 'confirmed', {'model': 'TS-453B'}),
    'other': ('http', None, False, 'possible', {}),
    'garbage': (None, None, None, 'possible', {}),
    'huge-header': (None, None, None, 'possible', {}),
    'drip': ('nas-admin', 'synology', False, 'confirmed', {}),
    'hostile': ('nas-admin', 'synology', False, 'confirmed', {}),
}
try:
    for case, (service, vendor, tls, conf, extra) in want.items():
        e = run(servers[case][0])
        d = e.get('details') or {}
        label = 'nas-admin %s (port %d)' % (case, servers[case][0])
        check(label + ' open', e['state'] == 'open', e)
        if service is not None:
            check(label + ' service ' + service, e['service'] == service, e)
        check(label + ' vendor', d.get('vendor') == vendor, e)
        if tls is not None:
            check(label + ' tls', d.get('tls') == tls, e)
        f = [x for x in e['findings'] if x['id'] == 'nas-admin-exposed']
        check(label + ' finding ' + conf, len(f) == 1 and f[0]['confidence'] == conf, e)
        for k, v in extra.items():
            check(label + ' ' + k, d.get(k) == v, e)
        check(label + ' details printable', printable(d), d)
finally:
    for p in procs:
        p.kill()
        p.wait()
print('# %d failed' % failed)
sys.exit(1 if failed else 0)
