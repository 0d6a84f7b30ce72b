#!/usr/bin/env bash
# Set up (packages, build) and run the main job on its embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(scripts/setup.sh release)
exec "$dir/src/cli/exposure" check "${@:-127.0.0.1}"
