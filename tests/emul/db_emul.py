#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Emulators of the two database servers Debian does not package, MongoDB and Elasticsearch, for
the probe tests (docs/internals/PROBES.md, "MongoDB", "Elasticsearch"). Each parses the request
and answers the way the real server documents it (MongoDB wire protocol OP_MSG / OP_QUERY with
BSON; Elasticsearch's root document or its 401), so nmap's mongodb-info and a curl of / see a
server too (docs/nmap-differences.md). Plus hostile variants of both. Loopback or lab addresses
only.

  db_emul.py [--host ADDR] [--port N] [--drip S] [--close-at K] [--tls CERT KEY] CASE
  db_emul.py --list

--tls plays Elasticsearch 8's default HTTPS on the same port: a connection whose first byte is
not a TLS handshake record is closed without a byte, as Elasticsearch's Netty4HttpServerTransport
does ("received plaintext http traffic on an https channel, closing connection"); a TLS
ClientHello gets the handshake, then the case's session inside it.

Prints "PORT <n>" once listening; serves connections (a thread each) until killed.
Importable: serve(case, host, port, drip=None, close_at=None, tls=None) returns (server, port).
"""
import json
import socket
import ssl
import struct
import sys

import common

# ---- BSON (bsonspec.org 1.1): the types the replies use


def bson(doc):
    out = b""
    for k, v in doc.items():
        name = k.encode() + b"\0"
        if isinstance(v, bool):
            out += b"\x08" + name + (b"\x01" if v else b"\x00")
        elif isinstance(v, float):
            out += b"\x01" + name + struct.pack("<d", v)
        elif isinstance(v, int) and -2**31 <= v < 2**31:
            out += b"\x10" + name + struct.pack("<i", v)
        elif isinstance(v, int):
            out += b"\x12" + name + struct.pack("<q", v)
        elif isinstance(v, str):
            s = v.encode() + b"\0"
            out += b"\x02" + name + struct.pack("<i", len(s)) + s
        elif isinstance(v, list):
            out += b"\x04" + name + bson({str(i): x for i, x in enumerate(v)})
        elif isinstance(v, dict):
            out += b"\x03" + name + bson(v)
        elif isinstance(v, bytes) and len(v) == 12:
            out += b"\x07" + name + v
        elif isinstance(v, Date):
            out += b"\x09" + name + struct.pack("<q", v.ms)
        else:
            raise TypeError(k)
    return struct.pack("<i", len(out) + 5) + out + b"\0"


class Date:
    def __init__(self, ms):
        self.ms = ms


def bson_decode(b):
    """Top-level keys of a BSON document with int32/double/bool/string values (enough for the
    commands a client sends); other types are skipped by length where known."""
    n = struct.unpack("<i", b[:4])[0]
    pos, out = 4, {}
    while pos < n - 1:
        t = b[pos]
        end = b.index(b"\0", pos + 1)
        k = b[pos + 1:end].decode(errors="replace")
        pos = end + 1
        if t == 0x10:
            out[k] = struct.unpack("<i", b[pos:pos + 4])[0]
            pos += 4
        elif t == 0x01:
            out[k] = struct.unpack("<d", b[pos:pos + 8])[0]
            pos += 8
        elif t == 0x12:
            out[k] = struct.unpack("<q", b[pos:pos + 8])[0]
            pos += 8
        elif t == 0x08:
            out[k] = b[pos] != 0
            pos += 1
        elif t == 0x02:
            ln = struct.unpack("<i", b[pos:pos + 4])[0]
            out[k] = b[pos + 4:pos + 4 + ln - 1].decode(errors="replace")
            pos += 4 + ln
        elif t in (0x03, 0x04):
            ln = struct.unpack("<i", b[pos:pos + 4])[0]
            out[k] = b[pos:pos + ln]
            pos += ln
        else:
            raise ValueError("bson type %#x" % t)
    return out


# ---- MongoDB: what a 7.0 mongod answers (values as the server documents them)

OID = bytes.fromhex("6570f1c2a3b4c5d6e7f80910")


def hello_reply(version, legacy):
    wire = {"3.4.24": 5, "4.4.29": 9, "7.0.12": 21}[version]
    d = {}
    d["isWritablePrimary" if not legacy else "ismaster"] = True
    d["topologyVersion"] = {"processId": OID, "counter": 0}
    d.update({"maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000,
              "maxWriteBatchSize": 100000, "localTime": Date(1733300000000),
              "logicalSessionTimeoutMinutes": 30, "connectionId": 7,
              "minWireVersion": 0, "maxWireVersion": wire, "readOnly": False, "ok": 1.0})
    return d


def buildinfo_reply(version):
    return {"version": version, "gitVersion": "0" * 40, "modules": [],
            "allocator": "tcmalloc", "javascriptEngine": "mozjs", "sysInfo": "deprecated",
            "versionArray": [int(x) for x in version.split(".")] + [0],
            "bits": 64, "debug": False, "maxBsonObjectSize": 16777216, "ok": 1.0}


UNAUTHORIZED = {"ok": 0.0, "errmsg": "command listDatabases requires authentication",
                "code": 13, "codeName": "Unauthorized"}


def listdb_reply(auth):
    if auth:
        return UNAUTHORIZED
    dbs = [{"name": n, "sizeOnDisk": 40960, "empty": False}
           for n in ("admin", "config", "local", "customers")]
    return {"databases": dbs, "totalSize": 163840, "totalSizeMb": 0, "ok": 1.0}


def op_msg(req_id, doc, response_to):
    body = struct.pack("<I", 0) + b"\0" + bson(doc)
    return struct.pack("<iiii", 16 + len(body), req_id, response_to, 2013) + body


def op_reply(req_id, doc, response_to):
    body = struct.pack("<iqii", 8, 0, 0, 1) + bson(doc)  # flags AwaitCapable, cursor 0
    return struct.pack("<iiii", 16 + len(body), req_id, response_to, 1) + body


def mongo_answer(cmd, version, auth, legacy):
    name = next(iter(cmd)).lower() if cmd else ""
    if legacy and version >= "5.1" and name not in ("hello", "ismaster"):
        # 5.1 removed OP_QUERY for every command but the handshake (release notes 5.1)
        return {"ok": 0.0, "errmsg": "Unsupported OP_QUERY command: %s. The client driver may "
                "require an upgrade. For more details see "
                "https://dochub.mongodb.org/core/legacy-opcode-removal" % next(iter(cmd)),
                "code": 352, "codeName": "UnsupportedOpQueryCommand"}
    if name in ("hello", "ismaster"):
        if name == "hello" and version == "3.4.24":
            return {"ok": 0.0, "errmsg": "no such command: 'hello'", "code": 59,
                    "codeName": "CommandNotFound"}
        return hello_reply(version, legacy or name == "ismaster")
    if name == "buildinfo":
        return buildinfo_reply(version)
    if name == "listdatabases":
        return listdb_reply(auth)
    if name == "serverstatus":  # nmap's mongodb-info asks for it
        return UNAUTHORIZED | {"errmsg": "command serverStatus requires authentication"} \
            if auth else {"host": "emul", "version": version, "process": "mongod",
                          "uptime": 10.0, "ok": 1.0}
    return {"ok": 0.0, "errmsg": "no such command: '%s'" % name, "code": 59,
            "codeName": "CommandNotFound"}


def mongo_session(c, version="7.0.12", auth=False, mode=None):
    while True:
        h = c.recv_n(16)
        ln, req, _, op = struct.unpack("<iiii", h)
        if ln < 16 or ln > 1 << 20:
            return
        body = c.recv_n(ln - 16)
        if op == 2013:
            if version == "3.4.24":
                return  # before 3.6: OP_MSG is unknown, the server drops the connection
            cmd = bson_decode(body[5:])
            legacy = False
        elif op == 2004:
            coll_end = body.index(b"\0", 4)
            cmd = bson_decode(body[coll_end + 9:])
            legacy = True
        else:
            return
        doc = mongo_answer(cmd, version, auth, legacy)
        if mode == "huge-length":
            c.send(struct.pack("<iiii", 0x7ffffff0, 99, req, 2013) + b"\0" * 64)
            return
        if mode == "bad-bson":  # the document's length runs past the message
            c.send(struct.pack("<iiii", 16 + 5 + 8, 99, req, 2013) + b"\0\0\0\0\0"
                   + struct.pack("<i", 4096) + b"\x10ok\0")
            return
        if mode == "wrong-response-to":
            req += 1000
        c.send((op_reply if legacy else op_msg)(100 + req, doc, req))


# ---- Elasticsearch: GET / as 7.17 / 8.x without security, and with security (401)

ES_ROOT = {
    "name": "es-node-1", "cluster_name": "emul-cluster", "cluster_uuid": "d3Jp1VnGS0C1m4oZ9nXvOA",
    "version": {"number": "7.17.22", "build_flavor": "default", "build_type": "deb",
                "build_hash": "38e9ca2e81304a821c50862dafab089ca863944b",
                "build_date": "2024-06-06T07:35:17.876121680Z", "build_snapshot": False,
                "lucene_version": "8.11.3", "minimum_wire_compatibility_version": "6.8.0",
                "minimum_index_compatibility_version": "6.0.0-beta1"},
    "tagline": "You Know, for Search"}
OS_ROOT = {
    "name": "opensearch-node1", "cluster_name": "opensearch-cluster",
    "cluster_uuid": "Qv2bUH0rQNe9cXzG3rgmzg",
    "version": {"distribution": "opensearch", "number": "2.15.0", "build_type": "tar",
                "build_hash": "61dbcd0795c9bfe9b81e5762175414bc38bbcadf",
                "build_date": "2024-06-20T03:26:49.193630411Z", "build_snapshot": False,
                "lucene_version": "9.10.0", "minimum_wire_compatibility_version": "7.10.0",
                "minimum_index_compatibility_version": "7.0.0"},
    "tagline": "The OpenSearch Project: https://opensearch.org/"}
ES_401 = {"error": {"root_cause": [{"type": "security_exception",
                                    "reason": "missing authentication credentials for REST "
                                              "request [/]",
                                    "header": {"WWW-Authenticate": [
                                        "Basic realm=\"security\" charset=\"UTF-8\"",
                                        "ApiKey"]}}],
                    "type": "security_exception",
                    "reason": "missing authentication credentials for REST request [/]",
                    "header": {"WWW-Authenticate": ["Basic realm=\"security\" charset=\"UTF-8\"",
                                                    "ApiKey"]}},
          "status": 401}


def http(status, reason, body, extra=()):
    b = json.dumps(body, indent=2).encode() + b"\n"
    head = ["HTTP/1.1 %d %s" % (status, reason)] + list(extra) + [
        "content-type: application/json; charset=UTF-8", "content-length: %d" % len(b)]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + b


def es_session(c, mode):
    req = b""
    while b"\r\n\r\n" not in req and len(req) < 65536:
        d = c.s.recv(4096)
        if not d:
            return
        req += d
    if mode == "open":
        c.send(http(200, "OK", ES_ROOT, ["X-elastic-product: Elasticsearch"]))
    elif mode == "opensearch":
        c.send(http(200, "OK", OS_ROOT))
    elif mode == "secured":
        c.send(http(401, "Unauthorized", ES_401,
                    ["WWW-Authenticate: Basic realm=\"security\" charset=\"UTF-8\"",
                     "WWW-Authenticate: ApiKey", "X-elastic-product: Elasticsearch"]))
    elif mode == "nginx-401":  # a proxy's password page on 9200: not identified as ES
        body = b"<html><head><title>401 Authorization Required</title></head></html>\n"
        c.send(b"HTTP/1.1 401 Unauthorized\r\nServer: nginx\r\nWWW-Authenticate: Basic "
               b"realm=\"Restricted\"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    elif mode == "huge-length":
        c.send(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
               b"99999999999\r\n\r\n{")
    elif mode == "no-length":  # HTTP/1.0 style: the body ends with the connection
        b = json.dumps(ES_ROOT).encode()
        c.send(b"HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n" + b)
        return
    elif mode == "bad-json":
        c.send(b"HTTP/1.1 200 OK\r\ncontent-length: 40\r\n\r\n{\"cluster_name\": \"x\", \"version\": {{{{}")
    elif mode == "deep-json":
        b = b"[" * 5000 + b"]" * 5000
        c.send(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(b) + b)


# ---- cases: (kind, arguments)

CASES = {
    "mongo-open": ("mongo", {}),
    "mongo-auth": ("mongo", {"auth": True}),
    "mongo-44-open": ("mongo", {"version": "4.4.29"}),
    "mongo-34-open": ("mongo", {"version": "3.4.24"}),  # closes on OP_MSG, answers OP_QUERY
    "mongo-34-auth": ("mongo", {"version": "3.4.24", "auth": True}),
    "mongo-huge-length": ("mongo", {"mode": "huge-length"}),
    "mongo-bad-bson": ("mongo", {"mode": "bad-bson"}),
    "mongo-wrong-response-to": ("mongo", {"mode": "wrong-response-to"}),
    "es-open": ("es", {"mode": "open"}),
    "es-opensearch": ("es", {"mode": "opensearch"}),
    "es-secured": ("es", {"mode": "secured"}),
    "es-nginx-401": ("es", {"mode": "nginx-401"}),
    "es-huge-length": ("es", {"mode": "huge-length"}),
    "es-no-length": ("es", {"mode": "no-length"}),
    "es-bad-json": ("es", {"mode": "bad-json"}),
    "es-deep-json": ("es", {"mode": "deep-json"}),
}


def run(sock, case, drip, close_at, tlsctx=None):
    kind, args = CASES[case]
    try:
        if tlsctx is not None:
            sock.settimeout(5)
            first = sock.recv(1, socket.MSG_PEEK)
            if first != b"\x16":
                return  # clear text on the HTTPS port: closed, not a byte sent
            sock = tlsctx.wrap_socket(sock, server_side=True)
        c = common.Conn(sock, drip, close_at)
        if kind == "mongo":
            mongo_session(c, **args)
        else:
            es_session(c, **args)
    except (OSError, EOFError, ValueError, struct.error, ssl.SSLError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def serve(case, host="127.0.0.1", port=0, drip=None, close_at=None, tls=None):
    if case not in CASES:
        raise KeyError(case)
    tlsctx = common.tls_context(*tls) if tls else None

    def handle(c, _):
        run(c, case, drip, close_at, tlsctx)

    return common.serve_background(common.listen(host, port), handle)


def main():
    def start(a):
        return serve(a.case, a.host, a.port, a.drip, a.close_at, a.tls)[1]

    return common.case_main(__doc__, CASES, start,
                            lambda ap: ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY")))


if __name__ == "__main__":
    sys.exit(main())
