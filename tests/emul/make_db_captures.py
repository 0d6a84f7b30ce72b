#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the MongoDB and Elasticsearch captures of tests/data/{mongodb,elasticsearch} from the
emulators' own reply builders (db_emul.py): Debian packages neither server, so these are
hand-made in the documented formats, and each .expect says so. Hostile variants too.
A MongoDB capture is the whole conversation the probe hears on one connection (its replies to
hello, buildInfo and listDatabases, request ids 1, 2, 3), as test_db_probes.c feeds it.
Usage: make_db_captures.py DATA_DIR"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import db_emul as e  # noqa: E402


def mongo_conv(version, auth, legacy):
    out = b""
    for req, name in ((1, "hello"), (2, "buildInfo"), (3, "listDatabases")):
        if legacy and name == "hello":
            name = "isMaster"
        doc = e.mongo_answer({name: 1}, version, auth, legacy)
        out += (e.op_reply if legacy else e.op_msg)(100 + req, doc, req)
    return out


def main():
    d = sys.argv[1]
    m = {
        "emul-mongo-7.0-open.bin": mongo_conv("7.0.12", False, False),
        "emul-mongo-7.0-auth.bin": mongo_conv("7.0.12", True, False),
        "emul-mongo-4.4-open.bin": mongo_conv("4.4.29", False, False),
        "emul-mongo-3.4-legacy-open.bin": mongo_conv("3.4.24", False, True),
        "emul-mongo-3.4-legacy-auth.bin": mongo_conv("3.4.24", True, True),
        "emul-mongo-huge-length.bin": struct.pack("<iiii", 0x7ffffff0, 99, 1, 2013) + b"\0" * 8,
        "emul-mongo-bad-bson.bin": struct.pack("<iiii", 29, 99, 1, 2013) + b"\0\0\0\0\0"
        + struct.pack("<i", 4096) + b"\x10ok\0",
        "emul-mongo-unknown-type.bin": e.op_msg(101, {"ok": 1.0}, 1)[:-2] + b"\x42x\0\0",
        "emul-mongo-http.bin": b"HTTP/1.0 200 OK\r\nContent-Length: 85\r\n\r\nIt looks like you "
        b"are trying to access MongoDB over HTTP on the native driver port.\r\n",
    }
    # a document whose length field says less than its elements need
    bad = bytearray(e.op_msg(101, {"ok": 1.0, "errmsg": "x" * 20}, 1))
    struct.pack_into("<i", bad, 21, 12)
    m["emul-mongo-short-doc.bin"] = bytes(bad)
    es = {
        "emul-es-7.17-open.bin": e.http(200, "OK", e.ES_ROOT, ["X-elastic-product: Elasticsearch"]),
        "emul-es-opensearch-2.15-open.bin": e.http(200, "OK", e.OS_ROOT),
        "emul-es-8-secured-401.bin": e.http(
            401, "Unauthorized", e.ES_401,
            ["WWW-Authenticate: Basic realm=\"security\" charset=\"UTF-8\"",
             "WWW-Authenticate: ApiKey", "X-elastic-product: Elasticsearch"]),
        "emul-es-nginx-401.bin": b"HTTP/1.1 401 Unauthorized\r\nServer: nginx\r\nWWW-Authenticate:"
        b" Basic realm=\"Restricted\"\r\nContent-Length: 0\r\n\r\n",
        "emul-es-huge-length.bin": b"HTTP/1.1 200 OK\r\ncontent-length: 99999999999\r\n\r\n{",
        "emul-es-no-length.bin": b"HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n"
        + json.dumps(e.ES_ROOT).encode(),
        "emul-es-deep-json.bin": b"HTTP/1.1 200 OK\r\ncontent-length: 400\r\n\r\n" + b"[" * 200
        + b"]" * 200,
        "emul-es-hostile-strings.bin": e.http(
            200, "OK", {"cluster_name": "\x1b]0;owned\x07<script>x</script>",
                        "version": {"number": "\u00e9\u0000\ud7ff"}, "tagline": "You Know, for Search"}),
        "emul-es-ssh.bin": b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
    }
    for sub, files in (("mongodb", m), ("elasticsearch", es)):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, sub, name), "wb") as f:
                f.write(data)
    print("%d mongodb, %d elasticsearch captures" % (len(m), len(es)))


if __name__ == "__main__":
    main()
