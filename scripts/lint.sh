#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lint (meson suite 'lint', so scripts/test.sh and .ci/run count it): fails on
#  - C code that clang-format (the .clang-format at the top) would change, in src tests fuzz bench;
#  - calls of banned functions in the C code of src fuzz tests: strcpy, strcat, sprintf, vsprintf,
#    gets (unbounded writes: use snprintf or core/sbuf.h) and the atoi/strtol family (no range
#    or syntax check: use core/decimal.h, the one decimal parser).
# Prints file:line for every hit and a count per rule. Usage: scripts/lint.sh (from anywhere).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

command -v clang-format >/dev/null 2>&1 || {
	echo "lint: clang-format missing (scripts/setup.sh test installs it)" >&2
	exit 1
}
command -v python3 >/dev/null 2>&1 || { echo "lint: python3 missing" >&2; exit 1; }

c_files() {
	find "$@" -name node_modules -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print |
		LC_ALL=C sort
}

failed=0

# clang-format: file:line (file:first-last for a run of lines) of every place --dry-run reports.
mapfile -t fmt_files < <(c_files src tests fuzz bench)
# No file at all would make clang-format read stdin: a tree that lost its sources fails instead.
[ "${#fmt_files[@]}" -gt 0 ] || { echo "lint: no C files under src tests fuzz bench" >&2; exit 1; }
fmt_out=$(clang-format --dry-run --Werror "${fmt_files[@]}" 2>&1)
fmt_rc=$?
fmt_hits=$(printf '%s\n' "$fmt_out" |
	sed -n 's/^\([^ :]*\):\([0-9]*\):[0-9]*: \(error\|warning\): code should be clang-formatted.*/\1 \2/p' |
	awk 'function flush() { if (f != "") print f ":" (a == b ? a : a "-" b) ": clang-format would change this" }
	     $1 == f && $2 <= b + 1 { if ($2 > b) b = $2; next }
	     { flush(); f = $1; a = b = $2 }
	     END { flush() }')
if [ -n "$fmt_hits" ]; then
	printf '%s\n' "$fmt_hits"
	n=$(printf '%s\n' "$fmt_hits" | cut -d: -f1 | sort -u | wc -l)
	echo "lint: clang-format would change $n file(s) (clang-format -i FILE)"
	failed=1
elif [ "$fmt_rc" -ne 0 ]; then
	# Failed without naming a line (a bad .clang-format, an unreadable file): say what it said.
	printf '%s\n' "$fmt_out" | head -20
	echo "lint: clang-format failed (exit $fmt_rc)"
	failed=1
else
	echo "lint: clang-format: ${#fmt_files[@]} files unchanged"
fi

# Banned calls, outside comments and string literals.
mapfile -t ban_files < <(c_files src fuzz tests)
python3 - "${ban_files[@]}" <<'PY' || failed=1
import re, sys

BANNED = {
    "strcpy": "unbounded copy: snprintf or memcpy with a checked length",
    "strcat": "unbounded append: core/sbuf.h",
    "sprintf": "unbounded write: snprintf or core/sbuf.h",
    "vsprintf": "unbounded write: vsnprintf or core/sbuf.h",
    "gets": "unbounded read: fgets or getline",
}
for f in ("atoi", "atol", "atoll", "atof", "strtol", "strtoll", "strtoul", "strtoull",
          "strtod", "strtof", "strtold", "strtoimax", "strtoumax"):
    BANNED[f] = "no syntax or range check: core/decimal.h"
CALL = re.compile(r"(?<![A-Za-z0-9_.>])(" + "|".join(BANNED) + r")\s*\(")


def code_only(text):
    """The text with comments and string/char literals blanked, newlines kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


hits = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8", errors="replace") as f:
        code = code_only(f.read())
    for lineno, line in enumerate(code.split("\n"), 1):
        for m in CALL.finditer(line):
            name = m.group(1)
            print(f"{path}:{lineno}: {name}() is banned ({BANNED[name]})")
            hits += 1
if hits:
    print(f"lint: {hits} call(s) of banned functions")
    sys.exit(1)
print(f"lint: banned functions: none in {len(sys.argv) - 1} files")
PY

exit $failed
