#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nginx from Debian in front of `exposure serve`, with the very file docs/deploy/nginx-exposure.conf
(ports, certificate paths substituted): TLS with a throw-away certificate made here by openssl,
HTTP/1.1 and the event stream through the proxy, --trusted-proxy set to nginx's address. The
diagnosed address is the browser's (127.0.0.77), not nginx's (127.0.0.1), and a forged
X-Forwarded-For from the browser is not believed. Runs under tests/isolated.sh (loopback only).
Usage: test_proxy.py EXPOSURE NGINX_CONF"""
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "web"))
import webtest  # noqa: E402

EXE, SITE = sys.argv[1], sys.argv[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
if not os.access(NGINX, os.X_OK) or not shutil.which("openssl"):
    print("SKIP: nginx or openssl missing (scripts/setup.sh test installs them)")
    sys.exit(77)

NAME = "exposure.example.org"
BROWSER = "127.0.0.77"  # the visitor; nginx connects to the service from 127.0.0.1
FORGED = "127.0.0.99"
tmp = webtest.tempfile.mkdtemp(prefix="exposure-proxy-")
os.chmod(tmp, 0o755)  # nginx's workers (nobody when we are root) read and write below it


def make_cert():
    key, crt = os.path.join(tmp, "privkey.pem"), os.path.join(tmp, "fullchain.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=" + NAME, "-addext", "subjectAltName=DNS:" + NAME,
                    "-keyout", key, "-out", crt], check=True, capture_output=True)
    return key, crt


def site_conf(https, plain, upstream, key, crt):
    """The shipped file with this test's ports and certificate: each substituted string must
    be there, so the file and this test cannot drift apart."""
    text = open(SITE).read()
    subs = [("server 127.0.0.1:8080;", "server 127.0.0.1:%d;" % upstream),
            ("listen 443 ssl;", "listen 127.0.0.1:%d ssl;" % https),
            ("listen [::]:443 ssl;", ""),
            ("listen 80;", "listen 127.0.0.1:%d;" % plain),
            ("listen [::]:80;", ""),
            ("/etc/ssl/exposure/fullchain.pem", crt),
            ("/etc/ssl/exposure/privkey.pem", key)]
    for old, new in subs:
        assert text.count(old) == 1, "%s: %r not found once" % (SITE, old)
        text = text.replace(old, new)
    path = os.path.join(tmp, "site.conf")
    open(path, "w").write(text)
    return path


def start_nginx(site):
    conf = os.path.join(tmp, "nginx.conf")
    temps = "".join("%s_temp_path %s/%s;\n" % (t, tmp, t)
                    for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # In a user namespace (tests/isolated.sh without root) only our own uid is mapped: the
    # workers cannot switch to nobody, so they stay who we are.
    identity = open("/proc/self/uid_map").read().split() == ["0", "0", "4294967295"]
    user = "" if identity else "user root root;\n"
    open(conf, "w").write(
        user + "daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log info;\n"
        "events { worker_connections 64; }\n"
        "http {\naccess_log %s/access.log;\n%sinclude %s;\n}\n" % (tmp, tmp, tmp, temps, site))
    t = subprocess.run([NGINX, "-t", "-p", tmp, "-c", conf, "-e", tmp + "/error.log"],
                       capture_output=True, text=True)
    assert t.returncode == 0, t.stderr
    return subprocess.Popen([NGINX, "-p", tmp, "-c", conf, "-e", tmp + "/error.log"])


class Browser:
    """HTTPS to nginx from BROWSER, verifying the throw-away certificate, with a cookie jar."""

    def __init__(self, port, crt):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=crt)
        self.origin = "https://%s:%d" % (NAME, port)
        self.cookies, self.csrf = {}, None

    def conn(self):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                        source_address=(BROWSER, 0), context=self.ctx)
        return c

    def request(self, method, path, body=None, headers=None, conn=None):
        c = conn or self.conn()
        h = {"Host": "%s:%d" % (NAME, self.port)}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        for v in r.headers.get_all("Set-Cookie") or []:
            k, _, rest = v.partition("=")
            self.cookies[k] = rest.split(";")[0]
        return r, data


def wrap_sni(ctx):
    """http.client sends SNI from the connection's host (an address): name the site instead."""
    orig = ctx.wrap_socket

    def wrap(sock, server_hostname=None, **kw):
        return orig(sock, server_hostname=NAME, **kw)
    ctx.wrap_socket = wrap


def main():
    key, crt = make_cert()
    https, plain, upstream = webtest.free_ports(3)
    nginx = start_nginx(site_conf(https, plain, upstream, key, crt))
    ssh_port = webtest.free_ports(1, (BROWSER,))[0]
    silent = webtest.Listener([BROWSER], ssh_port, hold=10)
    try:
        svc = start_service(upstream, https, ssh_port)
        try:
            run_checks(https, plain, crt, upstream)
        finally:
            svc.send_signal(signal.SIGTERM)
            assert svc.wait(30) == 0
        assert silent.accepted >= 1, "the silent ssh listener was never probed"
    finally:
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(10)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait()


def start_service(upstream, https, ssh_port):
    # The ssh check meets a silent listener (server speaks first): it waits for its deadline
    # while the closed ports' checks are over at once, so the stream has rows long before
    # its end.
    args = [EXE, "serve", "--listen", "127.0.0.1:%d" % upstream, "--port", "ssh=%d" % ssh_port,
            "--store", os.path.join(tmp, "svc.db"), "--key", os.path.join(tmp, "svc.key"),
            "--trusted-proxy", "127.0.0.1/32", "--origin", "https://%s:%d" % (NAME, https),
            "--secure-cookie"]
    log = open(os.path.join(tmp, "svc.log"), "w")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
    line = p.stdout.readline()
    assert "listening on" in line, (line, open(os.path.join(tmp, "svc.log")).read())
    return p


def run_checks(https, plain, crt, upstream):
    b = Browser(https, crt)
    wrap_sni(b.ctx)

    # HTTP on port 80 only redirects to HTTPS.
    c = http.client.HTTPConnection("127.0.0.1", plain, timeout=10, source_address=(BROWSER, 0))
    c.request("GET", "/", headers={"Host": NAME})
    r = c.getresponse()
    r.read()
    assert r.status == 301 and r.headers["Location"].startswith("https://" + NAME), r.status

    # Over TLS, HTTP/1.1, a keep-alive connection: the page, then who is asking.
    c = b.conn()
    r, page = b.request("GET", "/", conn=c)
    assert r.status == 200 and r.version == 11 and b"<html" in page.lower(), r.status
    r, body = b.request("GET", "/api/whoami", conn=c)
    assert r.status == 200, (r.status, body)
    who = json.loads(body)
    assert who["address"] == BROWSER and who["via_proxy"] is True, who
    assert "Secure" in r.headers["Set-Cookie"], r.headers["Set-Cookie"]
    b.csrf = who["csrf_token"]

    # A forged X-Forwarded-For from the browser is not believed: nginx replaces it.
    for forged in ({"X-Forwarded-For": FORGED}, {"X-Forwarded-For": FORGED + ", " + FORGED},
                   {"Forwarded": "for=" + FORGED}):
        r, body = b.request("GET", "/api/whoami", headers=forged)
        assert r.status == 200 and json.loads(body)["address"] == BROWSER, (forged, body)
        b.csrf = json.loads(body)["csrf_token"]  # each whoami sets a new cookie and token

    # A diagnosis through the proxy, with a forged header too: it is the browser's address.
    r, body = b.request("POST", "/api/diagnoses", body=b"{}", headers={
        "X-CSRF-Token": b.csrf, "Content-Type": "application/json", "Origin": b.origin,
        "Sec-Fetch-Site": "same-origin", "X-Forwarded-For": FORGED})
    assert r.status in (200, 201, 202), (r.status, body)
    did = json.loads(body)["id"]

    # The event stream through the proxy, to its end.
    c = b.conn()
    c.request("GET", "/api/diagnoses/%s/events" % did, headers={"Host": "%s:%d" % (NAME, https)})
    r = c.getresponse()
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/event-stream"), r.status
    events, ev, data, at = [], None, [], []
    for raw in r:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            ev = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and ev:
            events.append((ev, json.loads("\n".join(data))))
            at.append(time.monotonic())
            ev, data = None, []
    c.close()
    names = [e for e, _ in events]
    assert "check" in names and names[-1] == "done", names
    # Streamed, not buffered to the end: the first row came well before the last event.
    first = at[names.index("check")]
    assert at[-1] - first >= 0.25, "SSE rows arrived together: %.3f s apart" % (at[-1] - first)
    print("SSE through the proxy: first row %.3f s before the end" % (at[-1] - first))
    for e, d in events:
        if e == "check":
            assert d.get("address", BROWSER) == BROWSER, d
    r, body = b.request("GET", "/api/diagnoses/" + did)
    doc = json.loads(body)
    assert r.status == 200 and doc["status"] == "done", doc.get("status")
    assert BROWSER in body.decode() and FORGED not in body.decode(), doc

    # Straight to the service (not through nginx), the browser's forged header is ignored:
    # only 127.0.0.1/32 is a trusted proxy.
    c = http.client.HTTPConnection("127.0.0.1", upstream, timeout=10, source_address=(BROWSER, 0))
    c.request("GET", "/api/whoami", headers={"Host": "127.0.0.1:%d" % upstream,
                                             "X-Forwarded-For": FORGED})
    r = c.getresponse()
    who = json.loads(r.read())
    assert r.status == 200 and who["address"] == BROWSER and who["via_proxy"] is False, who

    # nginx saw the browser, and the service saw nginx: the access log names the browser.
    log = open(os.path.join(tmp, "access.log")).read()
    assert BROWSER in log and FORGED not in log.split('"')[0], log[-400:]


main()
shutil.rmtree(tmp, ignore_errors=True)  # kept on failure, for its logs
print("ok: nginx in front, TLS, SSE, the browser's address believed and forged ones not")
