#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The nas-admin check through the real engine (and its TLS, src/engine/tls.c) and the sandboxed
# prober: `exposure check --json --checks nas-admin` on loopback against the NAS page EMULATOR
# (tests/emul/nas_emul.py: no Debian package serves a Synology or QNAP page), in a private
# network namespace (tests/isolated.sh). Plain and TLS DSM, QNAP over HTTP and over TLS (a port
# that closes on plain HTTP), another web server, and hostile servers (garbage, a 20 KB header,
# one byte every 50 ms, control bytes in the page): exact verdicts, no crash, escaped details.
# Usage: test_nas_emul.py EXPOSURE EMUL_DIR
import json, os, subprocess, sys, tempfile

exe, emul = sys.argv[1], sys.argv[2]
sys.path.insert(0, emul)
import common  # noqa: E402

tmp = tempfile.mkdtemp(prefix='xp-nas.')
cert, key = common.self_signed(tmp, 'nas.test')

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
    common.wait_port(port)
check = common.Checks()


def run(port):
    return common.check_json(exe, 'nas-admin', port)


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
sys.exit(check.status())
