#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check the advice data files and turn them into static C tables (advice_tables.h).

usage: gen_advice.py --output advice_data.c LANG=FILE [LANG=FILE ...]

The order of LANG=FILE arguments is irrelevant; each LANG must have a constant LANG_<LANG> in
advice.h. Any problem in any file (bad JSON, duplicate key, unknown or missing field, bad id,
empty text, control character, unknown platform, ids that differ between languages) prints
"FILE: where: what" on stderr and exits 1 without writing the output, which fails the build.
"""

import argparse
import json
import re
import sys

PLATFORMS = ("all", "windows", "macos", "linux", "router")
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")
ID_MAX = 39  # FINDING_ID_MAX (core/finding.h) minus the NUL
TITLE_MAX = 120  # characters
TEXT_MAX = 2000  # characters, any field


class DataError(Exception):
    pass


def no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise DataError(f"duplicate key '{key}'")
        obj[key] = value
    return obj


def check_keys(obj, where, required, optional=()):
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected an object")
    missing = [k for k in required if k not in obj]
    if missing:
        raise DataError(f"{where}: missing {', '.join(missing)}")
    unknown = [k for k in obj if k not in required and k not in optional]
    if unknown:
        raise DataError(f"{where}: unknown field {', '.join(unknown)}")


def check_text(value, where, limit=TEXT_MAX):
    if not isinstance(value, str):
        raise DataError(f"{where}: expected a string")
    if value.strip() == "":
        raise DataError(f"{where}: empty")
    if value != value.strip():
        raise DataError(f"{where}: leading or trailing blank")
    if any(ord(c) < 0x20 or ord(c) == 0x7F or 0x80 <= ord(c) < 0xA0 for c in value):
        raise DataError(f"{where}: control character")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise DataError(f"{where}: lone surrogate (not UTF-8)")
    if len(value) > limit:
        raise DataError(f"{where}: longer than {limit} characters")
    return value


def check_action(action, where):
    check_keys(action, where, ("platform", "text"), ("command",))
    if action["platform"] not in PLATFORMS:
        raise DataError(f"{where}.platform: '{action['platform']}' is not one of "
                        + ", ".join(PLATFORMS))
    check_text(action["text"], f"{where}.text")
    if "command" in action:
        check_text(action["command"], f"{where}.command")
    return action


def check_item(item, where):
    check_keys(item, where, ("id", "title", "meaning", "actions"))
    ident = item["id"]
    if not isinstance(ident, str) or not ID_RE.match(ident) or len(ident) > ID_MAX:
        raise DataError(f"{where}.id: '{ident}' is not a finding id (a-z, 0-9, single '-', "
                        f"at most {ID_MAX})")
    where = f"{where} ({ident})"
    check_text(item["title"], f"{where}.title", TITLE_MAX)
    check_text(item["meaning"], f"{where}.meaning")
    actions = item["actions"]
    if not isinstance(actions, list) or not actions:
        raise DataError(f"{where}.actions: expected a non-empty list")
    for i, action in enumerate(actions):
        check_action(action, f"{where}.actions[{i}]")
    return item


def load(lang, path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
        doc = json.loads(text, object_pairs_hook=no_duplicates)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, DataError) as e:
        raise DataError(f"{path}: {e}") from None
    try:
        check_keys(doc, "top level", ("lang", "advice"))
        if doc["lang"] != lang:
            raise DataError(f"lang is '{doc['lang']}' but the build names it '{lang}'")
        items = doc["advice"]
        if not isinstance(items, list) or not items:
            raise DataError("advice: expected a non-empty list")
        seen = set()
        for i, item in enumerate(items):
            check_item(item, f"advice[{i}]")
            if item["id"] in seen:
                raise DataError(f"advice[{i}].id: '{item['id']}' appears twice")
            seen.add(item["id"])
    except DataError as e:
        raise DataError(f"{path}: {e}") from None
    return items


def c_string(s):
    """A C string literal for s as UTF-8; split in pieces so lines stay short."""
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '"\\?':  # '?' too: -std=c11 turns "??x" into trigraphs
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\%03o" % b)
    pieces, line, width = [], "", 0
    for tok in out:
        if width + len(tok) > 72:
            pieces.append(line)
            line, width = "", 0
        line += tok
        width += len(tok)
    pieces.append(line)
    return "\n\t\t".join(f'"{p}"' for p in pieces)


def emit(langs):
    lines = [
        "/* Generated by gen_advice.py from the advice data files: do not edit. */",
        '#include "catalogue/advice/advice_tables.h"',
        "",
    ]
    for lang, items in langs:
        for n, item in enumerate(items):
            lines.append(f"static const struct advice_action {lang}_{n}_actions[] = {{")
            for a in item["actions"]:
                cmd = c_string(a["command"]) if "command" in a else "NULL"
                lines.append("\t{")
                lines.append(f"\t\t.platform = {c_string(a['platform'])},")
                lines.append(f"\t\t.text = {c_string(a['text'])},")
                lines.append(f"\t\t.command = {cmd},")
                lines.append("\t},")
            lines.append("};")
            lines.append("")
        lines.append(f"static const struct advice {lang}_items[] = {{")
        for n, item in enumerate(items):
            lines.append("\t{")
            lines.append(f"\t\t.id = {c_string(item['id'])},")
            lines.append(f"\t\t.title = {c_string(item['title'])},")
            lines.append(f"\t\t.meaning = {c_string(item['meaning'])},")
            lines.append(f"\t\t.actions = {lang}_{n}_actions,")
            lines.append(f"\t\t.n_actions = {len(item['actions'])},")
            lines.append("\t},")
        lines.append("};")
        lines.append("")
    lines.append("const struct advice_table advice_tables[LANG_X_MAX] = {")
    for lang, items in langs:
        lines.append(f"\t[LANG_{lang.upper()}] = {{ {lang}_items, {len(items)} }},")
    lines.append("};")
    lines.append("")
    return "\n".join(lines)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", required=True)
    ap.add_argument("files", nargs="+", metavar="LANG=FILE")
    args = ap.parse_args(argv)
    langs = []
    try:
        for spec in args.files:
            lang, sep, path = spec.partition("=")
            if not sep or not LANG_RE.match(lang) or not path:
                raise DataError(f"{spec}: expected LANG=FILE")
            if any(lang == l for l, _ in langs):
                raise DataError(f"{spec}: language given twice")
            langs.append((lang, load(lang, path)))
        ref_lang, ref_items = langs[0]
        ref_ids = [i["id"] for i in ref_items]
        for lang, items in langs[1:]:
            ids = [i["id"] for i in items]
            missing = [i for i in ref_ids if i not in ids]
            extra = [i for i in ids if i not in ref_ids]
            if missing or extra:
                raise DataError(f"{lang}: ids differ from {ref_lang}: missing "
                                f"{missing or 'none'}, extra {extra or 'none'}")
    except DataError as e:
        print(f"gen_advice.py: {e}", file=sys.stderr)
        return 1
    text = emit(langs)
    with open(args.output, "w", encoding="ascii") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
