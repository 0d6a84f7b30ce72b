#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`exposure serve --config FILE` (docs/deploy.md): the package's /etc/exposure/exposure.conf,
every commented default switched on, starts the service and each setting takes effect; a bad
line is refused with FILE:LINE and the option's own message; the command line after --config
overrides it. Loopback only.
Usage: test_serve_config.py EXPOSURE CONF"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile

EXE, CONF = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="exposure-conf-")
TOKEN = "operator-token-0123456789"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def write(name, text, mode=0o600):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def start(args):
    """Run serve; returns (proc, port line) once it listens, or raises with its stderr."""
    log = open(os.path.join(TMP, "serve.log"), "w+")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    env.pop("EXPOSURE_ADMIN_TOKEN", None)
    p = subprocess.Popen([EXE, "serve"] + args, stdout=subprocess.PIPE, stderr=log, text=True,
                         env=env)
    line = p.stdout.readline()
    if "listening on" not in line:
        p.wait(10)
        log.seek(0)
        raise AssertionError("serve did not start: %r %s" % (line, log.read()))
    return p, log


def stop(p, log):
    p.send_signal(signal.SIGTERM)
    rc = p.wait(30)
    log.seek(0)
    text = log.read()
    assert rc == 0, (rc, text)
    assert "ERROR: " not in text and "runtime error" not in text, text


def get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def refused(lines, want):
    """A config of these lines is refused (exit 2) with want on stderr."""
    path = write("bad.conf", "\n".join(lines) + "\n")
    r = subprocess.run([EXE, "serve", "--config", path, "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, (lines, r.returncode, r.stderr)
    assert r.stdout == "", r.stdout
    assert want % {"f": path} in r.stderr, (want, r.stderr)
    assert r.stderr.count("\n") == 1, r.stderr


def shipped_defaults():
    """The shipped file with every commented setting switched on, the paths and the port made
    this test's own: each documented default must be a setting serve accepts."""
    port = free_port()
    labels = write("labels.csv", "prefix,label\n127.0.0.0/8,loopback\n")
    token = write("token", TOKEN + "\n")
    local = {"listen": "127.0.0.1:%d" % port, "store": os.path.join(TMP, "conf.db"),
             "key": os.path.join(TMP, "conf.key"), "labels": labels, "admin-token-file": token,
             "origin": "http://127.0.0.1:%d" % port}
    out, names = [], []
    with open(CONF) as f:
        for line in f:
            m = re.match(r"#([a-z][a-z0-9-]*)( (.*))?$", line.rstrip("\n"))
            if not m:
                out.append(line.rstrip("\n"))
                continue
            name = m.group(1)
            names.append(name)
            val = local.get(name, m.group(3))
            out.append(name if val is None else "%s %s" % (name, val))
    # Every option of serve --help (but config and help) is in the shipped file.
    usage = subprocess.run([EXE, "serve", "--help"], capture_output=True, text=True).stdout
    options = set(re.findall(r"^  (?:-h, )?--([a-z0-9-]+)", usage, re.M)) - {"config", "help"}
    missing = options - set(names)
    assert not missing, ("%s lacks %s: a new serve option gets a commented default line there "
                         "(and docs/deploy.md)" % (CONF, sorted(missing)))
    conf = write("all.conf", "\n".join(out) + "\n")

    p, log = start(["--config", conf])
    try:
        status, body = get(port, "/api/whoami")
        assert status == 200, status
        who = json.loads(body)
        assert who["mode"] == "public", who  # 'public' took effect
        assert who["may_diagnose"] is False, who  # loopback is refused in public mode
        # 'checks' (after 'profile') took effect: the page's table lists those checks only.
        assert [c["check"] for c in who["checks"]] == ["ssh", "smb", "rdp"], who["checks"]
        status, _ = get(port, "/healthz")
        assert status == 200, status
        status, body = get(port, "/metrics")
        assert status == 200 and b"\nexposure_probers_up 2\n" in body, body  # probers took effect
        # The operator token from admin-token-file opens the dashboard.
        status, _ = get(port, "/admin/stats", {"Authorization": "Bearer " + TOKEN})
        assert status == 200, status
        status, _ = get(port, "/admin/stats", {"Authorization": "Bearer not-the-token-at-all"})
        assert status in (401, 403), status
    finally:
        stop(p, log)
    assert os.path.exists(local["store"]), "store not where the config put it"
    assert stat.S_IMODE(os.stat(local["key"]).st_mode) == 0o600


def command_line_overrides():
    port = free_port()
    a, b = os.path.join(TMP, "a.db"), os.path.join(TMP, "b.db")
    conf = write("order.conf", "  # a comment, then blanks\n\n\tstore %s \r\nkey %s\n" %
                 (a, os.path.join(TMP, "o.key")))
    p, log = start(["--listen", "127.0.0.1:%d" % port, "--config", conf, "--store", b])
    stop(p, log)
    assert os.path.exists(b) and not os.path.exists(a), os.listdir(TMP)


def bad_lines():
    refused(["# fine", "bogus 1"], "exposure serve: %(f)s:2: unknown setting 'bogus'")
    refused(["max-inflight 0"],
            "exposure serve: %(f)s:1: --max-inflight wants a number in 1..100000, not \"0\"")
    refused(["public yes"], "exposure serve: %(f)s:1: 'public' takes no value")
    refused(["store"], "exposure serve: %(f)s:1: 'store' needs a value")
    refused(["config /etc/passwd"], "exposure serve: %(f)s:1: unknown setting 'config'")
    refused(["help"], "exposure serve: %(f)s:1: unknown setting 'help'")
    refused(["allow 10.0.0.0/33"], "exposure serve: %(f)s:1: --allow wants ADDR/PREFIX")
    refused(["profile 2016"],
            "exposure serve: %(f)s:1: --profile is 2017 or extended, not '2016'")
    refused(["checks ssh,ssh"], "exposure serve: %(f)s:1: --checks: ssh is named twice")
    refused(["listen " + "1" * 600], "exposure serve: %(f)s:1: line longer than 512 bytes")
    missing = os.path.join(TMP, "no-such.conf")
    r = subprocess.run([EXE, "serve", "--config", missing], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr == (
        "exposure serve: --config %s: No such file or directory\n" % missing), r.stderr


bad_lines()
command_line_overrides()
shipped_defaults()
shutil.rmtree(TMP, ignore_errors=True)  # kept on failure, for its logs
print("ok: serve --config")
