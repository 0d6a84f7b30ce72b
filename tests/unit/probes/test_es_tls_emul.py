#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The elasticsearch check over TLS through the real engine (src/engine/tls.c) and the sandboxed
# prober: `exposure check --json --checks elasticsearch` on loopback against the Elasticsearch
# EMULATOR (tests/emul/db_emul.py: Debian packages no Elasticsearch) playing Elasticsearch 8's
# default, HTTPS on 9200 that closes a clear-text request without a byte, with a throw-away
# certificate made here by `openssl req`; in a private network namespace (tests/isolated.sh).
# TLS must give the verdicts of clear text (the same cases without --tls beside them): the
# cluster's root document -> elasticsearch-no-auth, a 401 with the security realm -> answered no
# (elasticsearch-exposed only), the details saying tls; a body cut short stays not known.
# Usage: test_es_tls_emul.py EXPOSURE EMUL_DIR
import os, shutil, subprocess, sys, tempfile

exe, emul = sys.argv[1], sys.argv[2]
sys.path.insert(0, emul)
import common  # noqa: E402

tmp = tempfile.mkdtemp(prefix='xp-es-tls.')
cert, key = common.self_signed(tmp, 'es.test',
                               ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'))

# port -> (case, tls, extra emulator arguments)
servers = {19200: ('es-open', True, []), 19201: ('es-secured', True, []),
           19202: ('es-open', False, []), 19203: ('es-secured', False, []),
           19204: ('es-open', True, ['--close-at', '300'])}
procs = []
for port, (case, tls, extra) in servers.items():
    args = [sys.executable, os.path.join(emul, 'db_emul.py'), case, '--port', str(port)] + extra
    if tls:
        args += ['--tls', cert, key]
    procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL))
for port in servers:
    common.wait_port(port)
check = common.Checks()


def run(port):
    return common.check_json(exe, 'elasticsearch', port)


def findings(e):
    return sorted('%s=%s' % (f['id'], f['confidence']) for f in e['findings'])


OPEN = ['elasticsearch-exposed=confirmed', 'elasticsearch-no-auth=confirmed']
SECURED = ['elasticsearch-exposed=confirmed']
try:
    for port, want, tls, status in ((19200, OPEN, True, 200), (19202, OPEN, False, 200),
                                     (19201, SECURED, True, 401), (19203, SECURED, False, 401)):
        e = run(port)
        d = e.get('details') or {}
        label = '%s %s (port %d)' % (servers[port][0], 'TLS' if tls else 'clear text', port)
        check(label + ' open, elasticsearch', e['state'] == 'open' and
              e['service'] == 'elasticsearch', e)
        check(label + ' findings ' + ' '.join(want), findings(e) == want, e)
        check(label + ' status %d' % status, d.get('status') == status, e)
        check(label + ' tls %s' % tls, d.get('tls', False) == tls, e)
        if status == 200:
            check(label + ' cluster', d.get('cluster_name') == 'emul-cluster' and
                  d.get('version') == '7.17.22', d)
            f = [x for x in e['findings'] if x['id'] == 'elasticsearch-no-auth']
            check(label + ' reason', ('over TLS' in f[0]['reason']) == tls, f)
        else:
            check(label + ' auth required', d.get('auth') == 'required', d)
    # over TLS, the body cut at 300 bytes by the server's close: not known, never "no"
    e = run(19204)
    f = [x for x in e['findings'] if x['id'] == 'elasticsearch-no-auth']
    check('es-open TLS cut at 300: no-auth unknown',
          len(f) == 1 and f[0]['confidence'] == 'unknown' and f[0]['reason'], e)
    check('es-open TLS cut at 300: tls', (e.get('details') or {}).get('tls') is True, e)
finally:
    for p in procs:
        p.kill()
        p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(check.status())
