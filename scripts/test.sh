#!/usr/bin/env bash
# Run every test: set up (packages, ASan+UBSan build), run the suites, print "N passed, N failed".
# Integration tests build network namespaces and start real servers: they need root and
# skip themselves (exit 77, reported as skipped) without it.
# The lint (scripts/lint.sh: clang-format, banned functions) is the meson test 'lint': a hit is a
# failed test. Arguments go to meson test (e.g. --suite cli).
set -uo pipefail
cd "$(dirname "$0")/.."

dir=$(scripts/setup.sh test) || { echo "0 passed, 1 failed"; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

meson test -C "$dir" --print-errorlogs --num-processes 2 "$@"
status=$?

python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0, "ERROR": 0}
try:
    with open(sys.argv[1]) as f:
        for line in f:
            r = json.loads(line).get("result", "ERROR")
            counts[r] = counts.get(r, 0) + 1
except OSError:
    pass
passed = counts["OK"] + counts["EXPECTEDFAIL"]
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["UNEXPECTEDPASS"] + counts["ERROR"]
print(f"{passed} passed, {failed} failed, {counts['SKIP']} skipped")
PY
exit $status
