#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attack (issue 9 §4): special-purpose addresses in --public, and malformed forwarding
elements. A trusted proxy (127.0.0.1) names, in X-Forwarded-For (and Forwarded), one address
of every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries and of the blocks
the address architecture sets aside beside them (src/core/special.c): whoami says it may not be
diagnosed and why, a POST is refused 403 with that reason, and no diagnosis is ever created.
Teredo, ORCHIDv2, 3fff::/20, 5f00::/16, ::ffff:0:0:0/96 and 192.88.99.0/24 used to be taken
as global. An element with a NUL byte, another control byte or anything but a port after the
address (`1.2.3.4\\0, 10.0.0.1`, `[2600::1]junk`) is a malformed header (400), where it used to
be read as a shorter address. Nothing is probed: the refused ones are refused before, and the
ordinary neighbours are only asked whoami. Usage: test_addresses.py PATH/TO/exposure"""
from attack import case, check, exposure, finish, healthy, lab_server, metrics, raw, stop_clean

EXE = exposure()

# What each kind of refusal says: its API code, a word of the English and of the Japanese text.
KINDS = {
    "loopback": ("loopback", "loopback", "ループバック"),
    "private": ("private", "private", "プライベート"),
    "cgnat": ("cgnat", "good news", "共有アドレス"),
    "link-local": ("link-local", "link-local", "リンクローカル"),
    "doc": ("special", "documentation", "文書"),
    "bench": ("special", "benchmarking", "性能試験"),
    "translation": ("special", "translation", "変換"),
    "anycast": ("special", "anycast", "エニーキャスト"),
    "identifier": ("special", "identifier", "識別子"),
    "reserved": ("special", "reserved block", "予約済み"),
}

# One address of every block, with the kind of its refusal.
SPECIAL = [
    # IPv4 Special-Purpose Address Registry
    ("0.1.2.3", "reserved"), ("0.0.0.0", "reserved"), ("10.1.2.3", "private"),
    ("100.100.1.1", "cgnat"), ("127.0.0.5", "loopback"), ("169.254.1.1", "link-local"),
    ("172.20.0.1", "private"), ("192.0.0.100", "reserved"), ("192.0.0.1", "reserved"),
    ("192.0.0.8", "reserved"), ("192.0.0.9", "anycast"), ("192.0.0.10", "anycast"),
    ("192.0.0.171", "reserved"), ("192.0.2.1", "doc"), ("192.31.196.1", "anycast"),
    ("192.52.193.1", "anycast"), ("192.88.99.1", "translation"), ("192.168.1.1", "private"),
    ("192.175.48.6", "anycast"), ("198.19.0.1", "bench"), ("198.51.100.1", "doc"),
    ("203.0.113.9", "doc"), ("250.1.2.3", "reserved"), ("255.255.255.255", "reserved"),
    # IPv6 Special-Purpose Address Registry
    ("::1", "loopback"), ("::", "reserved"), ("::ffff:198.51.100.7", "doc"),
    ("64:ff9b::808:808", "translation"), ("64:ff9b:1::1", "translation"),
    ("100::1", "reserved"), ("100:0:0:1::1", "reserved"), ("2001:100::1", "reserved"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "translation"), ("2001:1::1", "anycast"),
    ("2001:1::2", "anycast"), ("2001:1::3", "anycast"), ("2001:2::1", "bench"),
    ("2001:3::1", "anycast"), ("2001:4:112::1", "anycast"), ("2001:10::1", "identifier"),
    ("2001:20::1", "identifier"), ("2001:30::1", "identifier"), ("2001:db8::1", "doc"),
    ("2002:c000:204::1", "translation"), ("2620:4f:8000::42", "anycast"), ("3fff::1", "doc"),
    ("5f00::1", "identifier"), ("fd00::1", "private"), ("fe80::1", "link-local"),
    # beside the registries
    ("224.0.0.1", "reserved"), ("ff02::1", "reserved"), ("::1.2.3.4", "reserved"),
    ("::ffff:0:808:808", "translation"), ("fec0::1", "reserved"), ("1::1", "reserved"),
    ("4000::1", "reserved"), ("8000::1", "reserved"),
]

# Just outside some of those blocks: ordinary addresses (only whoami: nothing is probed).
ORDINARY = ["2001:200::1", "3fff:1000::1", "3ffe:ffff::1", "192.88.100.1", "192.0.1.1",
            "2a00:1450::1", "::ffff:8.8.8.8", "2620:4f:8001::1"]

# Malformed elements in the position of the requester: 400, never a shortened address.
MALFORMED = [
    b"1.2.3.4\x00, 10.0.0.1", b"10.0.0.1, 8.8.8.8\x00junk", b"8.8.8.8\x00", b"[2600::1]junk",
    b"[2600::1]:", b"[2600::1]:99999", b"[2600::1]:80x", b"1.2.3.4:80x", b"1.2.3.4:",
    b"8.8.8.8\x01", b"8.8.8.8\x7f", b"9.9.9.9, [2600::1]junk",
]
MALFORMED_FORWARDED = [
    b'for="[2600::1]junk"', b"for=1.2.3.4\x00;proto=https", b'for="[2600::1]:80"x',
    b"for=1.2.3.4:80x",
]


def t_whoami(srv):
    c = srv.client()
    for addr, kind in SPECIAL:
        code, en, ja = KINDS[kind]
        r = c.whoami({"X-Forwarded-For": "9.9.9.9, " + addr})
        j = r.json or {}
        ok = (r.status == 200 and j.get("may_diagnose") is False and j.get("via_proxy") and
              j.get("reason") == code and en in j.get("message", "") and
              ja in j.get("message_ja", ""))
        check(ok, "whoami as %s: want refused %s (%s): %d %s" % (addr, code, kind, r.status,
                                                                  r.raw[:300]))
    for addr in ORDINARY:
        r = c.whoami({"X-Forwarded-For": addr})
        j = r.json or {}
        check(r.status == 200 and j.get("may_diagnose") is True and j.get("class") == "global",
              "whoami as %s: an ordinary address: %d %s" % (addr, r.status, r.raw[:200]))


def t_post(srv):
    c = srv.client()
    c.whoami()
    for addr, kind in SPECIAL:
        code, en, _ = KINDS[kind]
        r = c.post({"X-Forwarded-For": addr})
        j = r.json or {}
        check(r.status == 403 and j.get("reason") == code and en in j.get("message", ""),
              "POST as %s: want 403 %s: %d %s" % (addr, code, r.status, r.raw[:200]))


def t_malformed(srv):
    c = srv.client()
    c.whoami()
    for i, hdr in enumerate(MALFORMED):
        st, got = raw(srv.port, b"GET /api/whoami HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                      b"X-Forwarded-For: %s\r\n\r\n" % (srv.port, hdr), timeout=5)
        check(st == 400 and b'"forwarded"' in got,
              "whoami, X-Forwarded-For %r: want 400 forwarded, got %s %r" % (hdr, st, got[-200:]))
        r = c.post({"X-Forwarded-For": hdr.decode("latin-1")})
        check(r.status == 400 and (r.json or {}).get("reason") == "forwarded",
              "POST, X-Forwarded-For %r: want 400 forwarded, got %d %s" % (hdr, r.status,
                                                                           r.raw[:200]))


def t_forwarded(srv):
    c = srv.client()
    for hdr in MALFORMED_FORWARDED:
        st, got = raw(srv.port, b"GET /api/whoami HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                      b"Forwarded: %s\r\n\r\n" % (srv.port, hdr), timeout=5)
        check(st == 400, "whoami, Forwarded %r: want 400, got %s %r" % (hdr, st, got[-200:]))
    for addr, kind in [("2001:20::1", "identifier"), ("3fff::1", "doc"),
                       ("2001::1", "translation"), ("192.88.99.2", "translation")]:
        node = '"[%s]:443"' % addr if ":" in addr else addr
        r = c.whoami({"Forwarded": "for=%s;proto=https" % node})
        j = r.json or {}
        check(r.status == 200 and j.get("may_diagnose") is False and
              KINDS[kind][1] in j.get("message", ""),
              "Forwarded for=%s: want refused (%s): %s" % (node, kind, r.raw[:200]))


def nothing_created(srv, what):
    m = metrics(srv)
    check(m.get('exposure_diagnoses_total{status="created"}') == 0,
          "%s: no diagnosis created: %s" % (what, m.get('exposure_diagnoses_total{status="created"}')))


def main():
    srv, _ = lab_server(EXE, ["--public", "--trusted-proxy", "127.0.0.1"])
    try:
        case("special via X-Forwarded-For", t_whoami, srv)
        case("special POST", t_post, srv)
        case("malformed elements", t_malformed, srv)
        nothing_created(srv, "X-Forwarded-For")
        healthy(srv, "after the addresses")
    finally:
        stop_clean(srv, "addresses")
    srv, _ = lab_server(EXE, ["--public", "--trusted-proxy", "127.0.0.1",
                              "--proxy-header", "forwarded"])
    try:
        case("Forwarded", t_forwarded, srv)
        nothing_created(srv, "Forwarded")
    finally:
        stop_clean(srv, "addresses (Forwarded)")
    finish()


if __name__ == "__main__":
    main()
