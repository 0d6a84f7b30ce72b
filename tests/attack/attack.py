# SPDX-License-Identifier: MIT
"""Shared helpers of the attack suite (tests/attack): the service and its clients come from
tests/unit/web/webtest.py (on PYTHONPATH, set by tests/attack/meson.build); what only attacks
need is added here, once."""
import os
import sys
import time

from webtest import Client, Listener, Server, catalogue, free_ports, lab_ports, port_args  # noqa: F401

failures = []


def check(ok, what):
    """Record one assertion; every file ends with finish()."""
    if not ok:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return ok


def finish():
    """Exit 1 if any check failed, 0 otherwise, with a count line."""
    print("%d failed" % len(failures), flush=True)
    sys.exit(1 if failures else 0)


def deadline(seconds):
    """A monotonic deadline: every attack loop is bounded in time as well as in count."""
    return time.monotonic() + seconds


def exposure():
    """The exposure binary given as the first argument."""
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.stderr.write("usage: %s PATH/TO/exposure\n" % sys.argv[0])
        sys.exit(2)
    return sys.argv[1]
