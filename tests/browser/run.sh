#!/bin/sh
# SPDX-License-Identifier: MIT
# Browser test wrapper (meson suite 'browser'): exit 77 when node or chromium is missing;
# installs the pinned playwright-core and axe-core with `npm ci` when either is absent.
# Usage: run.sh TEST.mjs PATH/TO/exposure ARTIFACT_DIR [MORE ARGUMENTS...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
test=$1
shift
command -v node >/dev/null 2>&1 || { echo "node missing: skip"; exit 77; }
[ -x /usr/bin/chromium ] || { echo "chromium missing: skip"; exit 77; }
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
	command -v npm >/dev/null 2>&1 || { echo "npm missing: skip"; exit 77; }
	(cd "$here" && npm ci --no-audit --no-fund)
fi
exec node "$here/$test" "$@"
