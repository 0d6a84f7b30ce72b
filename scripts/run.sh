#!/usr/bin/env bash
# Set up (packages, build) and run the web self-diagnosis service on its embedded defaults:
# http://127.0.0.1:8080/, store ./exposure.db (key ./exposure.key), local mode (loopback
# requesters diagnose themselves). Extra arguments go to `exposure serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(scripts/setup.sh release)
exec "$dir/src/cli/exposure" serve "$@"
