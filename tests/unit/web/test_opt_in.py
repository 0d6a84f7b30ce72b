#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""exposure serve --iscsi-discovery (issue 12 §1): the operator's opt-in reaches the diagnosis
through the sandboxed probers. A loopback listener replays the bytes Debian's tgt 1.0.85 sent in
a discovery session (tests/data/iscsi/tgt-...-discovery.bin, captured from the real server by
test_storage's lab): without the option the check only connects and leaves the question
unknown; with it, the discovery session lists the two targets and answers the question.
Usage: test_opt_in.py PATH/TO/exposure"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import Listener, Server, free_ports  # noqa: E402

EXPOSURE = sys.argv[1]
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "iscsi",
                    "tgt-1.0.85-1+deb12u1-discovery.bin")


def iscsi_row(extra, port):
    s = Server([EXPOSURE, "serve"], ["--checks", "iscsi", "--port", "iscsi=%d" % port] + extra)
    try:
        c = s.client()
        r = c.post()
        assert r.status == 202, (r.status, r.body)
        doc = c.wait_done(r.json["id"]).json
        rows = [x for x in doc["checks"] if x["check"] == "iscsi"]
        assert len(rows) == 1, doc["checks"]
        return rows[0]
    finally:
        s.stop()


def findings(row):
    return {f["id"]: f["confidence"] for f in row.get("findings", [])}


def main():
    with open(DATA, "rb") as f:
        capture = f.read()
    port = free_ports(1)[0]
    target = Listener(["127.0.0.1"], port, capture, hold=2)
    try:
        off = iscsi_row([], port)
        assert off["state"] == "open", off
        assert off["details"].get("discovery") == "off", off
        assert findings(off) == {"iscsi-exposed": "likely",
                                 "iscsi-discovery-no-auth": "unknown"}, off
        on = iscsi_row(["--iscsi-discovery"], port)
        assert on["details"].get("discovery") == "on", on
        assert on["details"].get("targets") == ["iqn.2026-12.test.lab:backup-disk",
                                                "iqn.2026-12.test.lab:vm-images"], on
        assert findings(on) == {"iscsi-exposed": "confirmed",
                                "iscsi-discovery-no-auth": "confirmed"}, on
    finally:
        target.close()
    print("ok: serve --iscsi-discovery reaches the probe; off by default")


if __name__ == "__main__":
    main()
