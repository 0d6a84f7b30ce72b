#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`exposure report` as a program: exit codes, one-line errors, JSON = CSV, SVG well-formed."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

# argv[1] is the exposure program: every run is `exposure report ARGS`.
REPORT, GEN = [sys.argv[1], "report"], sys.argv[2]
SVG = "{http://www.w3.org/2000/svg}"
failures = 0


def run(*args):
    p = subprocess.run([*REPORT, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    global failures
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures += 1


def usage_error(args, needle, code=2):
    rc, out, err = run(*args)
    lines = err.strip().splitlines()
    check(rc == code and len(lines) == 1 and needle in err and out == "",
          f"{' '.join(args[2:]) or args}: exit {rc}, stderr {err.strip()!r}")


tmp = tempfile.mkdtemp(prefix="exposure-report-cli-")
try:
    db = os.path.join(tmp, "store.db")
    subprocess.run([GEN, db, "4000", "60000"], check=True, timeout=120)
    labels = os.path.join(tmp, "labels.csv")
    with open(labels, "w") as f:
        f.write("198.18.0.0/16,benchnet\n198.18.0.0/20,mobile\n2001:db8::/32,v6\n")
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("# ok\n198.18.0.0/16,benchnet\n198.18.0.999/24,broken\n")
    base = ["--db", db]

    # Bad input: one line on stderr, documented exit codes.
    usage_error(base + ["--since", "2024-02-30"], "malformed since date")
    usage_error(base + ["--until", "tomorrow"], "malformed until date")
    usage_error(base + ["--labels", os.path.join(tmp, "missing.csv")], "cannot read labels file")
    usage_error(base + ["--labels", bad], "bad.csv:3: malformed prefix")
    usage_error(base + ["--sample", "4001", "--seed", "1"], "larger than the 4000 results")
    usage_error(base + ["--sample", "10"], "--sample and --seed go together")
    usage_error(base + ["--format", "pdf"], "unknown format")
    usage_error(base + ["--per", "address"], "per must be diagnosis or requester")
    usage_error(base + ["--bogus"], "unknown option")
    usage_error(base + ["--by", "phone"], "by must be connection, device or family")
    usage_error(base + ["--since", "2030-01-01"], "no results in the period", code=3)
    rc, _, err = run("--db", os.path.join(tmp, "nothere", "x.db"))
    check(rc == 1 and len(err.strip().splitlines()) == 1, f"missing store: exit {rc}")
    rc, out, _ = run("--help")
    check(rc == 0 and "--sample N" in out and "--by connection|device|family" in out, "--help")

    # Table says what it counts.
    rc, out, _ = run(*base)
    check(rc == 0 and "counting results" in out and "results: 4000" in out, "table, results")
    rc, out, _ = run(*base, "--per", "requester")
    check(rc == 0 and "counting requesters" in out and "requesters: 3000" in out,
          "table, requesters")

    # JSON and CSV carry the same rows.
    args = base + ["--labels", labels, "--trend", "day", "--sample", "2000", "--seed", "7"]
    rc, jout, _ = run(*args, "--format", "json")
    doc = json.loads(jout)
    rc2, cout, _ = run(*args, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(cout)))
    check(rc == 0 and rc2 == 0 and len(rows) == len(doc["rows"]) > 20, "json and csv row count")
    same = True
    for j, c in zip(doc["rows"], rows):
        for k, v in c.items():
            jv = j[k]
            if jv is None:
                same &= v == ""
            elif isinstance(jv, float):
                same &= abs(jv - float(v)) < 1e-9
            else:
                same &= str(jv) == v
    check(same, "json rows equal csv rows, field by field")
    check(doc["counting"] == "results" and doc["sample"] == {"n": 2000, "seed": "7"}
          and doc["population"] == 4000 and doc["counted"] == 2000, "json metadata")
    headline = [r for r in doc["rows"] if r["scope"] == "all" and r["measure"] == "headline"][0]
    check(headline["wilson_low"] <= headline["share"] <= headline["wilson_high"]
          and headline["n"] == 2000, "headline row with interval")
    rc3, cout2, _ = run(*args, "--format", "csv")
    check(cout2 == cout, "same seed, same csv")
    check(all(r["group"] in ("all", "benchnet", "mobile", "v6", "unlabelled", "other")
              for r in rows), "only labels as groups")
    for text in (jout, cout):
        check("198.1" not in text and "2001:db8" not in text, "no address or prefix printed")

    # SVG: well-formed, a bar per check plus headline and risky, whiskers, a trend line.
    rc, sout, _ = run(*base, "--trend", "day", "--format", "svg")
    root = ET.fromstring(sout.encode())
    bars = [e for e in root.iter(SVG + "rect") if e.get("class") == "bar"]
    names = [b.get("data-name") for b in bars]
    check(rc == 0 and root.tag == SVG + "svg", "svg parses")
    check(names == ["139-or-445", "medium-or-worse", "ssh", "telnet", "netbios", "smb", "rdp",
                    "vnc", "skysea"], f"svg bars {names}")
    check(all(float(b.get("width")) > 0 for b in bars), "every bar has a width")
    texts = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    check("95% interval (Wilson)" in texts and "share of results (%)" in texts.replace(
        ", with 95% interval", ""), "legend and axis label")
    lines = [e for e in root.iter(SVG + "polyline") if e.get("class") == "trend"]
    check(len(lines) == 2 and all(len(l.get("points").split()) == 3 for l in lines),
          "trend: two series over 3 days")
    check(len(list(root.iter(SVG + "title"))) == 2, "titles for both charts")

    # --by connection, --by device (issue 10 §3) and --by family (§1): JSON = CSV, the groups
    # add up to the results counted, the claim's denominator is the headline count, the
    # families' figures agree with their groups, a chart per group.
    titles = {"connection": "by connection answer", "device": "by device class",
              "family": "by address families tested"}
    for by in ("connection", "device", "family"):
        rc, jout, _ = run(*base, "--by", by, "--format", "json")
        rc2, cout, _ = run(*base, "--by", by, "--format", "csv")
        doc = json.loads(jout)
        rows = list(csv.DictReader(io.StringIO(cout)))
        check(rc == 0 and rc2 == 0 and doc["by"] == by and len(rows) == len(doc["rows"]),
              f"--by {by}: json and csv")
        check(all(str(j["count"]) == c["count"] and j["group"] == c["group"]
                  for j, c in zip(doc["rows"], rows)), f"--by {by}: same rows")
        groups = [r for r in doc["rows"] if r["scope"] == by and r["measure"] == "results"]
        check(sum(r["count"] for r in groups) + doc["by_suppressed"] == doc["counted"] == 4000,
              f"--by {by}: groups add up")
        head = [r for r in doc["rows"] if r["scope"] == "all" and r["measure"] == "headline"][0]
        claim = [r for r in doc["rows"] if r["measure"] == "answered-sim-or-usb-modem"]
        if by == "connection":
            check(len(claim) == 1 and claim[0]["n"] == head["count"] and
                  claim[0]["wilson_low"] <= claim[0]["share"] <= claim[0]["wilson_high"],
                  "--by connection: the claim over the headline results")
            check([r["group"] for r in groups][:2] == ["sim", "usb-modem"] and
                  groups[-1]["group"] in ("no-answer", "small-groups"), "answers in order")
        elif by == "device":
            check(claim == [] and [r["group"] for r in groups] ==
                  ["desktop", "tablet", "phone", "other", "not-recorded"], "--by device groups")
        else:
            fig = {(r["measure"], r["name"]): r for r in doc["rows"]
                   if r["scope"] == "family" and r["group"] == "all"}
            size = {r["group"]: r["count"] for r in groups}
            check(claim == [] and list(size) == ["ipv4", "ipv6", "both"], "--by family groups")
            check(fig[("tested", "ipv4")]["count"] == size["ipv4"] + size["both"] and
                  fig[("tested", "ipv6")]["count"] == size["ipv6"] + size["both"] and
                  fig[("tested", "both")]["count"] == size["both"] and
                  all(r["n"] == 4000 for k, r in fig.items() if k[0] != "finding-of-both"),
                  "--by family: tested on each family and on both, of all")
            v6 = fig[("finding", "ipv6-only-exposure")]
            v6b = fig[("finding-of-both", "ipv6-only-exposure")]
            in_both = [r for r in doc["rows"] if r["scope"] == "family" and r["group"] == "both"
                       and r["measure"] == "finding" and r["name"] == "ipv6-only-exposure"]
            check(v6["count"] == v6b["count"] == in_both[0]["count"] > 0 and
                  v6b["n"] == size["both"] and
                  v6b["wilson_low"] <= v6b["share"] <= v6b["wilson_high"],
                  "--by family: ipv6-only-exposure over all and over those tested on both")
        rc, tout, _ = run(*base, "--by", by)
        check(rc == 0 and titles[by] in tout, f"--by {by}: table section")
        rc, sout, _ = run(*base, "--by", by, "--format", "svg")
        root = ET.fromstring(sout.encode())
        bars = [e.get("data-name") for e in root.iter(SVG + "rect")
                if e.get("class") == "bar" and e.get("data-measure") == "headline"]
        check(rc == 0 and bars[1:] == [r["group"] for r in groups],
              f"--by {by}: a headline bar per group: {bars}")

    # HTML fragment parses as XML too (no script).
    rc, hout, _ = run(*base, "--labels", labels, "--format", "html")
    ET.fromstring(hout.replace("<br>", "<br/>").encode())
    check(rc == 0 and "<script" not in hout and "<table" in hout, "html fragment")
finally:
    shutil.rmtree(tmp)

print(f"{failures} failed")
sys.exit(1 if failures else 0)
