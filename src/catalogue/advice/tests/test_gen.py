#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The advice generator refuses every malformed file of bad/ for the right reason, writes no
output for it, and accepts the real en.json + ja.json.

usage: test_gen.py GENERATOR BAD_DIR DATA_DIR OUT_DIR
"""

import os
import subprocess
import sys

# file in bad/ -> (language it is given as, the words the error must contain)
CASES = {
    "syntax.json": ("en", "Expecting"),
    "duplicate-key.json": ("en", "duplicate key 'title'"),
    "missing-field.json": ("en", "missing meaning"),
    "unknown-field.json": ("en", "unknown field cmd"),
    "bad-platform.json": ("en", "'Windows' is not one of"),
    "empty-title.json": ("en", ".title: empty"),
    "bad-id.json": ("en", "'SMB_EXPOSED' is not a finding id"),
    "duplicate-id.json": ("en", "'a' appears twice"),
    "control-char.json": ("en", "control character"),
    "no-actions.json": ("en", "actions: expected a non-empty list"),
    "wrong-lang.json": ("en", "lang is 'ja' but the build names it 'en'"),
    "empty-command.json": ("en", ".command: empty"),
    "not-utf8.json": ("en", "utf-8"),
}


def run(gen, out, *specs):
    if os.path.exists(out):
        os.remove(out)
    p = subprocess.run([sys.executable, gen, "--output", out, *specs],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stderr


def main():
    gen, bad, data, outdir = sys.argv[1:5]
    failures = 0
    listed = set(CASES) | {"one-item.json"}
    unlisted = sorted(set(os.listdir(bad)) - listed)
    if unlisted:
        print(f"FAIL: files in bad/ without an expected error: {unlisted}")
        failures += 1
    for name, (lang, words) in sorted(CASES.items()):
        out = os.path.join(outdir, "gen-" + name + ".c")
        rc, err = run(gen, out, f"{lang}={os.path.join(bad, name)}")
        ok = rc == 1 and words in err and not os.path.exists(out)
        print(f"{'ok' if ok else 'FAIL'}: {name}: rc={rc} stderr={err.strip()!r}")
        failures += not ok
    # Each file alone is fine, but the languages disagree on the ids.
    out = os.path.join(outdir, "gen-mismatch.c")
    rc, err = run(gen, out, f"en={os.path.join(bad, 'one-item.json')}",
                  f"ja={os.path.join(data, 'ja.json')}")
    ok = rc == 1 and "ids differ from en" in err and not os.path.exists(out)
    print(f"{'ok' if ok else 'FAIL'}: id mismatch: rc={rc} stderr={err.strip()!r}")
    failures += not ok
    out = os.path.join(outdir, "gen-good.c")
    rc, err = run(gen, out, f"en={os.path.join(data, 'en.json')}",
                  f"ja={os.path.join(data, 'ja.json')}")
    ok = rc == 0 and os.path.getsize(out) > 0 if rc == 0 else False
    print(f"{'ok' if ok else 'FAIL'}: real data: rc={rc} stderr={err.strip()!r}")
    failures += not ok
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
